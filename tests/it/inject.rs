//! The injector export end to end: golden policies for a built-in and a WASM pattern, every
//! built-in's policies validated against the Kubernetes 1.37 schemas, every CEL expression
//! parsed, and the match conditions evaluated on pods (idempotency, opt-out, clashes).

use std::collections::BTreeMap;

use crate::common::plugins::{self, docs, wasm};
use kubectl_pattern::engine::catalogue::Catalogue;
use kubectl_pattern::engine::workload::WorkloadKind;
use serde_json::{Value, json};

fn run(cmd: &mut assert_cmd::Command) -> String {
    let out = cmd.assert().success().get_output().clone();
    String::from_utf8(out.stdout).unwrap()
}

fn inject(args: &[&str]) -> String {
    run(crate::common::bin().arg("inject").args(args))
}

fn policy_conditions(policy: &Value) -> BTreeMap<String, String> {
    policy["spec"]["matchConditions"]
        .as_array()
        .expect("matchConditions")
        .iter()
        .map(|c| {
            (
                c["name"].as_str().unwrap().to_string(),
                c["expression"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// Evaluates each match condition on `pod` (as the API server binds `object`).
fn evaluate(conditions: &BTreeMap<String, String>, pod: &Value) -> BTreeMap<String, bool> {
    conditions
        .iter()
        .map(|(name, expr)| {
            let program = cel::Program::compile(expr)
                .unwrap_or_else(|e| panic!("{name} does not parse: {e}\n{expr}"));
            let mut ctx = cel::Context::default();
            ctx.add_variable("object", pod).unwrap();
            let value = program
                .execute(&ctx)
                .unwrap_or_else(|e| panic!("{name} fails on {pod}: {e}"));
            (name.clone(), value == cel::Value::Bool(true))
        })
        .collect()
}

fn failing(results: &BTreeMap<String, bool>) -> Vec<&str> {
    results
        .iter()
        .filter(|(_, ok)| !**ok)
        .map(|(n, _)| n.as_str())
        .collect()
}

#[test]
fn golden_policies_of_a_builtin_pattern() {
    let map = inject(&["log-shipper", "--select", "app=web"]);
    insta::assert_snapshot!("inject-log-shipper-map", map);
    let kyverno = inject(&["log-shipper", "--select", "app=web", "--engine", "kyverno"]);
    insta::assert_snapshot!("inject-log-shipper-kyverno", kyverno);
    // Pod annotations, a named app container and a namespace selector.
    let named = inject(&[
        "prometheus-exporter",
        "--select",
        "app in (web,api),tier!=db",
        "--namespace-select",
        "team=shop",
        "-c",
        "web",
        "--api-version",
        "v1beta1",
        "--failure-policy",
        "Ignore",
    ]);
    insta::assert_snapshot!("inject-prometheus-exporter-named-v1beta1", named);
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in [("map.yaml", &map), ("named.yaml", &named)] {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        crate::common::validate(&path);
    }
}

#[test]
fn golden_policies_of_a_wasm_plugin() {
    let home = tempfile::tempdir().unwrap();
    let plugin = wasm("otel-collector");
    let args = |engine: &str| {
        run(plugins::bin(home.path())
            .args(["inject", "otel-collector", "--plugin"])
            .arg(&plugin)
            .args([
                "--select",
                "app.kubernetes.io/name=checkout",
                "--engine",
                engine,
            ]))
    };
    let map = args("map");
    let kyverno = args("kyverno");
    // The plugin named its service after the selector's label: rendered for that pod.
    assert!(map.contains("checkout"), "{map}");
    insta::assert_snapshot!("inject-otel-collector-map", map);
    insta::assert_snapshot!("inject-otel-collector-kyverno", kyverno);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("otel.yaml");
    std::fs::write(&path, &map).unwrap();
    crate::common::validate(&path);
    for doc in docs(&map)
        .iter()
        .filter(|d| d["kind"] == "MutatingAdmissionPolicy")
    {
        let expr = doc["spec"]["mutations"][0]["applyConfiguration"]["expression"]
            .as_str()
            .unwrap();
        cel::Program::compile(expr).unwrap_or_else(|e| panic!("{e}\n{expr}"));
    }
}

#[test]
fn every_builtin_exports_valid_policies_with_parseable_cel() {
    let dir = tempfile::tempdir().unwrap();
    let mut all = Vec::new();
    for pattern in Catalogue::builtin().patterns() {
        let id = pattern.spec().id.clone();
        for version in ["v1", "v1beta1"] {
            for kube in ["1.37", "1.28"] {
                let mut cmd = crate::common::bin();
                cmd.args([
                    "inject",
                    &id,
                    "--select",
                    "app=web",
                    "--api-version",
                    version,
                ])
                .args(["--kube-version", kube]);
                for set in crate::common::required_sets(pattern.as_ref()) {
                    cmd.arg("--set").arg(set);
                }
                let text = run(&mut cmd);
                for doc in docs(&text) {
                    if doc["kind"] == "MutatingAdmissionPolicy" {
                        let mut exprs: Vec<String> =
                            policy_conditions(&doc).into_values().collect();
                        exprs.push(
                            doc["spec"]["mutations"][0]["applyConfiguration"]["expression"]
                                .as_str()
                                .unwrap()
                                .to_string(),
                        );
                        for e in exprs {
                            cel::Program::compile(&e)
                                .unwrap_or_else(|err| panic!("{id}: {err}\n{e}"));
                        }
                    }
                }
                all.push(text);
            }
        }
    }
    let path = dir.path().join("all.yaml");
    std::fs::write(&path, all.join("---\n")).unwrap();
    crate::common::validate(&path);
}

#[test]
fn match_conditions_decide_which_pods_are_injected() {
    let text = inject(&["log-shipper", "--select", "app=web"]);
    let policy = docs(&text).remove(0);
    let conditions = policy_conditions(&policy);
    let pod = crate::common::workload(WorkloadKind::Pod, "web");
    assert_eq!(
        failing(&evaluate(&conditions, &pod)),
        Vec::<&str>::new(),
        "a plain pod is injected"
    );

    // A pod that already has the helpers (added by `kubectl pattern add`) is left alone.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("pod.yaml");
    crate::common::write_yaml(&file, std::slice::from_ref(&pod));
    let added = docs(&run(crate::common::bin()
        .args(["add", "-q", "log-shipper", "-f"])
        .arg(&file)))
    .remove(0);
    assert!(failing(&evaluate(&conditions, &added)).contains(&"helpers-absent"));

    let mut opted = pod.clone();
    opted["metadata"]["labels"] = json!({"app": "web", "pattern.kubectl.io/inject": "false"});
    assert_eq!(failing(&evaluate(&conditions, &opted)), ["not-opted-out"]);
    let mut annotated = pod.clone();
    annotated["metadata"]["annotations"] = json!({"pattern.kubectl.io/inject": "false"});
    assert_eq!(
        failing(&evaluate(&conditions, &annotated)),
        ["not-opted-out"]
    );

    let mut mounted = pod.clone();
    mounted["spec"]["containers"][0]["volumeMounts"] =
        json!([{"name": "logs", "mountPath": "/var/log/app"}]);
    assert_eq!(
        failing(&evaluate(&conditions, &mounted)),
        ["mount-paths-free"]
    );
    let mut second = pod.clone();
    second["spec"]["containers"]
        .as_array_mut()
        .unwrap()
        .push(json!({"name": "other", "image": "x:1", "volumeMounts": [{"name": "logs", "mountPath": "/var/log/app"}]}));
    assert_eq!(
        failing(&evaluate(&conditions, &second)),
        Vec::<&str>::new(),
        "only the first container gets the mount: the second one's path does not clash"
    );
    let mut port = pod.clone();
    port["spec"]["containers"][0]["ports"] = json!([{"containerPort": 2020}]);
    assert_eq!(failing(&evaluate(&conditions, &port)), ["ports-free"]);
    let mut volume = pod.clone();
    volume["spec"]["volumes"] = json!([{"name": "log-shipper-state", "emptyDir": {}}]);
    assert_eq!(failing(&evaluate(&conditions, &volume)), ["volumes-free"]);

    // With -c, pods without that container are skipped.
    let named = docs(&inject(&[
        "log-shipper",
        "--select",
        "app=web",
        "-c",
        "web",
    ]))
    .remove(0);
    let named_conditions = policy_conditions(&named);
    assert_eq!(
        failing(&evaluate(&named_conditions, &pod)),
        ["target-containers-present"]
    );
    let mut web = pod.clone();
    web["spec"]["containers"][0]["name"] = json!("web");
    assert_eq!(
        failing(&evaluate(&named_conditions, &web)),
        Vec::<&str>::new()
    );
}

#[test]
fn json_output_is_a_list() {
    let text = inject(&[
        "wait-for",
        "--set",
        "host=db.shop.svc",
        "--select",
        "app=web",
        "-o",
        "json",
    ]);
    let list: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(list["kind"], "List");
    let kinds: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        ["MutatingAdmissionPolicy", "MutatingAdmissionPolicyBinding"]
    );
}

#[test]
fn bad_input_is_refused_with_the_fix() {
    for (args, code, needle) in [
        (
            vec!["log-shipper", "--select", "app in web"],
            2,
            "parentheses",
        ),
        (
            vec!["log-shipper", "--select", " "],
            2,
            "-l/--selector is empty",
        ),
        (
            vec![
                "log-shipper",
                "--select",
                "app=web",
                "--namespace-select",
                "Bad Key=x",
            ],
            2,
            "not a valid label key",
        ),
        (
            vec![
                "log-shipper",
                "--select",
                "app=web",
                "--engine",
                "kyverno",
                "--api-version",
                "v1",
            ],
            2,
            "for --engine map",
        ),
        (
            vec!["log-shiper", "--select", "app=web"],
            2,
            "did you mean \"log-shipper\"",
        ),
        (vec!["wait-for", "--select", "app=web"], 2, "needs host"),
        (vec!["log-shipper"], 2, "--select"),
    ] {
        let out = crate::common::bin()
            .arg("inject")
            .args(&args)
            .assert()
            .code(code)
            .get_output()
            .clone();
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert!(stderr.contains(needle), "{args:?}: {stderr}");
        assert!(out.stdout.is_empty(), "{args:?}: nothing half-written");
    }
}
