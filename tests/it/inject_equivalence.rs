//! The injector makes exactly the change `add` makes: for every built-in pattern (native and
//! classic sidecars, with and without `-c`) and the example plugins, the exported
//! MutatingAdmissionPolicy, evaluated offline (`common::admission`) on generated pods — with
//! and without init containers, volumes, mounts, env, a second app container, annotations
//! and the tracking records of an earlier pattern — admits each pod exactly as
//! `kubectl pattern add` on the same pod writes it. The Kyverno export's patches, applied
//! as strategic merge patches, make the same change but for the tracking annotation.

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::{Value, json};

use crate::common::admission::{Compiled, Verdict};
use crate::common::k8s_schema::schema;
use crate::common::plugins::{docs, wasm};
use kubectl_pattern::engine::catalogue::Catalogue;

/// One way to export a pattern.
#[derive(Debug, Clone)]
struct Variant {
    /// The pattern id.
    id: String,
    /// `--set`, `--plugin`, `-c`, `--kube-version` arguments, for inject and add alike.
    args: Vec<String>,
    /// The main container's name in the generated pods (`-c`, else `app`).
    main: String,
}

fn variants() -> Vec<Variant> {
    let mut out = Vec::new();
    for pattern in Catalogue::builtin().patterns() {
        let id = pattern.spec().id.clone();
        let sets: Vec<String> = crate::common::required_sets(pattern.as_ref())
            .into_iter()
            .flat_map(|s| ["--set".to_string(), s])
            .collect();
        for kube in ["1.37", "1.28"] {
            let mut args = sets.clone();
            args.extend(["--kube-version".into(), kube.into()]);
            out.push(Variant {
                id: id.clone(),
                args,
                main: "app".into(),
            });
        }
        let mut named = sets.clone();
        named.extend(["-c".into(), "web".into()]);
        out.push(Variant {
            id,
            args: named,
            main: "web".into(),
        });
    }
    for (id, sets) in [
        ("otel-collector", vec![]),
        ("db-proxy", vec!["target=db.shop.svc:5432"]),
    ] {
        let mut args = vec!["--plugin".to_string(), wasm(id).display().to_string()];
        for s in sets {
            args.extend(["--set".into(), s.into()]);
        }
        out.push(Variant {
            id: id.into(),
            args,
            main: "app".into(),
        });
    }
    out.push(Variant {
        id: "py-log-tail".into(),
        args: vec![
            "--plugin".into(),
            crate::common::plugins::python("py-log-tail")
                .display()
                .to_string(),
            "--set".into(),
            "logDir=/var/log/tail".into(),
        ],
        main: "app".into(),
    });
    out
}

/// What a generated pod has besides its main container.
#[derive(Debug, Clone)]
struct Shape {
    /// Init containers of its own (the second one a native sidecar).
    init: usize,
    /// Volumes of its own.
    volumes: usize,
    /// Mounts on the main container.
    mounts: bool,
    /// Env vars on the main container.
    env: bool,
    /// A second app container, `worker`.
    worker: bool,
    /// 0: no annotations; 1: one of its own; 2 and 3: the records of an earlier pattern
    /// instance (format 2 and format 1) and its init container.
    annotations: u8,
}

fn shape() -> impl Strategy<Value = Shape> {
    (
        0..3usize,
        0..3usize,
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        0..4u8,
    )
        .prop_map(|(init, volumes, mounts, env, worker, annotations)| Shape {
            init,
            volumes,
            mounts,
            env,
            worker,
            annotations,
        })
}

/// The record `add` writes for an `init` pattern instance `warmup` (created nothing).
const WARMUP: &str = r#"{"pattern":"init","instance":"warmup","version":"1.0.0","paramsHash":"sha256:0123456789abcdef","initContainers":["warmup"]}"#;

fn pod(shape: &Shape, main: &str, index: usize) -> Value {
    let mut app = json!({"name": main, "image": "registry.example.com/shop/app:1.4.2"});
    if shape.mounts {
        app["volumeMounts"] = json!([{"name": "data-0", "mountPath": "/data"}]);
    }
    if shape.env {
        app["env"] = json!([{"name": "MODE", "value": "prod"}]);
    }
    let mut containers = vec![app];
    if shape.worker {
        containers.push(
            json!({"name": "worker", "image": "registry.example.com/shop/worker:2",
            "volumeMounts": [{"name": "data-0", "mountPath": "/work"}]}),
        );
    }
    let mut spec = json!({"containers": containers});
    let mut init: Vec<Value> = (0..shape.init)
        .map(|i| {
            let mut c = json!({"name": format!("setup-{i}"), "image": "busybox:1.37.0"});
            if i == 1 {
                c["restartPolicy"] = json!("Always");
            }
            c
        })
        .collect();
    let mut annotations = json!({});
    match shape.annotations {
        1 => annotations = json!({"team": "shop"}),
        2 | 3 => {
            init.push(json!({"name": "warmup", "image": "busybox:1.37.0"}));
            let text = if shape.annotations == 2 {
                format!(r#"{{"version":2,"instances":[{WARMUP}]}}"#)
            } else {
                format!("[{WARMUP}]")
            };
            annotations = json!({"pattern.kubectl.io/applied": text});
        }
        _ => {}
    }
    if !init.is_empty() {
        spec["initContainers"] = json!(init);
    }
    if shape.volumes > 0 || shape.mounts || shape.worker {
        let n = shape.volumes.max(1);
        spec["volumes"] = json!(
            (0..n)
                .map(|i| json!({"name": format!("data-{i}"), "emptyDir": {}}))
                .collect::<Vec<_>>()
        );
    }
    let mut metadata = json!({"name": format!("web-{index}"), "namespace": "shop",
        "labels": {"app": "web"}});
    if annotations.as_object().is_some_and(|a| !a.is_empty()) {
        metadata["annotations"] = annotations;
    }
    json!({"apiVersion": "v1", "kind": "Pod", "metadata": metadata, "spec": spec})
}

fn run(args: &[String], stdin: Option<String>) -> String {
    let home = tempfile::tempdir().unwrap();
    let mut cmd = crate::common::plugins::bin(home.path());
    cmd.args(args);
    if let Some(input) = stdin {
        cmd.write_stdin(input);
    }
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn yaml(docs: &[Value]) -> String {
    docs.iter()
        .map(|d| kubectl_pattern::engine::yaml::to_string(d).unwrap())
        .collect::<Vec<_>>()
        .join("---\n")
}

/// The pod as `add` writes it, without the tracking annotation (Kyverno does not write it).
fn untracked(pod: &Value, before: &Value) -> Value {
    let mut pod = pod.clone();
    let key = "pattern.kubectl.io/applied";
    match before.pointer(&format!("/metadata/annotations/{}", key.replace('/', "~1"))) {
        Some(old) => pod["metadata"]["annotations"][key] = old.clone(),
        None => {
            if let Some(a) = pod["metadata"]["annotations"].as_object_mut() {
                a.remove(key);
                if a.is_empty() {
                    pod["metadata"]
                        .as_object_mut()
                        .unwrap()
                        .remove("annotations");
                }
            }
        }
    }
    pod
}

/// `add`'s pod with its helper init containers after the pod's own: a strategic merge patch
/// appends new list items, so Kyverno cannot put them before the app's init containers as
/// `add` does (a known difference, in docs/integrations.md).
fn appended_init(expected: &Value, pod: &Value) -> Value {
    let mut out = expected.clone();
    let own: Vec<Value> = pod["spec"]["initContainers"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    if let Some(list) = out["spec"]
        .get_mut("initContainers")
        .and_then(Value::as_array_mut)
    {
        let names: Vec<&Value> = own.iter().map(|c| &c["name"]).collect();
        let (mut mine, helpers): (Vec<Value>, Vec<Value>) =
            list.drain(..).partition(|c| names.contains(&&c["name"]));
        mine.sort_by_key(|c| names.iter().position(|n| **n == c["name"]));
        list.extend(mine);
        list.extend(helpers);
    }
    out
}

/// The app containers a Kyverno `foreach` list (one of the JMESPath forms the export writes)
/// selects.
fn kyverno_list(pod: &Value, list: &str) -> Vec<Value> {
    let containers = pod["spec"]["containers"].as_array().unwrap().clone();
    match list {
        "request.object.spec.containers[0:1]" => containers[..1].to_vec(),
        "request.object.spec.containers" => containers,
        other => {
            let name = other
                .strip_prefix("request.object.spec.containers[?name=='")
                .and_then(|n| n.strip_suffix("']"))
                .unwrap_or_else(|| panic!("a foreach list this test does not read: {other}"));
            containers
                .into_iter()
                .filter(|c| c["name"] == name)
                .collect()
        }
    }
}

/// Kyverno's `{{ element.name }}` substituted and `\{{` unescaped.
fn substituted(value: &Value, element: &Value) -> Value {
    match value {
        Value::String(s) if s == "{{ element.name }}" => element["name"].clone(),
        Value::String(s) => Value::String(s.replace("\\{{", "{{")),
        Value::Array(items) => {
            Value::Array(items.iter().map(|i| substituted(i, element)).collect())
        }
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), substituted(v, element)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// The ClusterPolicy's mutate rule on `pod`: each foreach entry's strategic merge patch, once
/// per element of its list.
fn kyverno_mutate(policy: &Value, pod: &Value) -> Value {
    let schema = schema();
    let mut out = pod.clone();
    for entry in policy["spec"]["rules"][0]["mutate"]["foreach"]
        .as_array()
        .unwrap()
    {
        for element in kyverno_list(pod, entry["list"].as_str().unwrap()) {
            let patch = substituted(&entry["patchStrategicMerge"], &element);
            schema.strategic_merge(schema.pod(), &mut out, &patch);
        }
    }
    out
}

fn check(
    variant: &Variant,
    map: &Compiled,
    kyverno: &Value,
    shapes: &[Shape],
) -> Result<(), TestCaseError> {
    let pods: Vec<Value> = shapes
        .iter()
        .enumerate()
        .map(|(i, s)| pod(s, &variant.main, i))
        .collect();
    let mut add = vec!["add".to_string(), "-q".into(), variant.id.clone()];
    add.extend(variant.args.iter().cloned());
    let added = docs(&run(&add, Some(yaml(&pods))));
    prop_assert_eq!(added.len(), pods.len());
    for (pod, expected) in pods.iter().zip(&added) {
        match map.admit(pod) {
            Verdict::Admitted(admitted) => prop_assert_eq!(
                &admitted,
                expected,
                "{}: the policy's pod differs from add's on {}",
                variant.id,
                pod
            ),
            other => prop_assert!(false, "{}: {other:?} on {pod}", variant.id),
        }
        prop_assert_eq!(
            &kyverno_mutate(kyverno, pod),
            &appended_init(&untracked(expected, pod), pod),
            "{}: Kyverno's patches differ from add's on {}",
            variant.id,
            pod
        );
    }
    Ok(())
}

#[test]
fn the_exported_policy_admits_every_pod_as_add_writes_it() {
    for variant in variants() {
        let export = |engine: &str| {
            let mut args = vec![
                "inject".to_string(),
                variant.id.clone(),
                "--select".into(),
                "app=web".into(),
                "--engine".into(),
                engine.into(),
            ];
            args.extend(variant.args.iter().cloned());
            docs(&run(&args, None)).remove(0)
        };
        let map = Compiled::new(&export("map")).unwrap();
        let kyverno = export("kyverno");
        let mut runner = TestRunner::new(Config {
            cases: 6,
            failure_persistence: None,
            ..Config::default()
        });
        let result = runner.run(&proptest::collection::vec(shape(), 1..6), |shapes| {
            check(&variant, &map, &kyverno, &shapes)
        });
        if let Err(e) = result {
            panic!("{} {:?}: {e}", variant.id, variant.args);
        }
    }
}
