//! Opt-in end-to-end tests of live mode against the cluster KUBECONFIG points at (kind, k3d,
//! minikube…): the real binary adds, re-adds, removes and dry-runs on Deployments in a fresh
//! namespace, and the objects are checked with the real kubectl. Ignored by default; run with
//! `KP_E2E=1 cargo test --test e2e_cluster -- --ignored` (see docs/e2e.md).

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};

const TRACKING: &str = "pattern.kubectl.io/applied";

/// kubectl from .tools/bin ($KP_TOOLS_BIN) or else from PATH.
fn kubectl_path() -> PathBuf {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    [
        std::env::var_os("KP_TOOLS_BIN").map(|d| PathBuf::from(d).join("kubectl")),
        Some(root.join(".tools/bin/kubectl")),
    ]
    .into_iter()
    .flatten()
    .find(|p| p.exists())
    .unwrap_or_else(|| PathBuf::from("kubectl"))
}

/// A fresh namespace in the cluster, deleted when the test ends (pass or fail).
struct Namespace {
    name: String,
}

impl Namespace {
    fn create(test: &str) -> Self {
        assert_eq!(
            std::env::var("KP_E2E").as_deref(),
            Ok("1"),
            "these tests create and delete namespaces in the cluster KUBECONFIG points at: set KP_E2E=1 to confirm"
        );
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or_default();
        let name = format!("kp-e2e-{test}-{}-{nanos:x}", std::process::id());
        kubectl(&["create", "namespace", &name], None);
        Namespace { name }
    }

    /// Creates deployment `name` with `labels` (one replica of the pause image).
    fn deploy(&self, name: &str, labels: &[(&str, &str)]) {
        let mut all = serde_json::Map::new();
        all.insert("app".into(), json!(name));
        for (k, v) in labels {
            all.insert(k.to_string(), json!(v));
        }
        let manifest = json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": name, "namespace": self.name, "labels": all},
            "spec": {"replicas": 1, "selector": {"matchLabels": {"app": name}},
                "template": {"metadata": {"labels": {"app": name}},
                    "spec": {"containers": [{"name": "app", "image": "registry.k8s.io/pause:3.10",
                        "resources": {"requests": {"cpu": "10m", "memory": "16Mi"}}}]}}}
        });
        kubectl(&["apply", "-f", "-"], Some(&manifest.to_string()));
    }

    /// The live Deployment as JSON.
    fn get(&self, name: &str) -> Value {
        let out = kubectl(
            &["get", "deployment", name, "-n", &self.name, "-o", "json"],
            None,
        );
        serde_json::from_str(&out).expect("kubectl prints JSON")
    }

    /// Runs `kubectl-pattern ARGS -n NS`, expecting success; returns (stdout, stderr).
    fn plugin(&self, args: &[&str]) -> (String, String) {
        let out = crate::common::bin()
            .args(args)
            .args(["-n", &self.name])
            .output()
            .expect("run kubectl-pattern");
        let (stdout, stderr) = (
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        );
        assert!(
            out.status.success(),
            "kubectl-pattern {args:?} failed:\n{stdout}\n{stderr}"
        );
        (stdout, stderr)
    }
}

impl Drop for Namespace {
    fn drop(&mut self) {
        let _ = Command::new(kubectl_path())
            .args(["delete", "namespace", &self.name, "--wait=false"])
            .output();
    }
}

fn kubectl(args: &[&str], stdin: Option<&str>) -> String {
    let mut child = Command::new(kubectl_path())
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run kubectl");
    if let Some(text) = stdin {
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(text.as_bytes())
            .expect("write to kubectl");
    }
    drop(child.stdin.take());
    let out = child.wait_with_output().expect("kubectl ran");
    assert!(
        out.status.success(),
        "kubectl {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn pod_spec(d: &Value) -> &Value {
    &d["spec"]["template"]["spec"]
}

fn names(list: &Value) -> Vec<String> {
    list.as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| c["name"].as_str().map(str::to_string))
        .collect()
}

/// The Deployment's spec without empty lists and maps: what the server keeps of a list or map
/// whose entries were all removed (`annotations: {}`, `volumeMounts: []`) is not a difference.
fn comparable_spec(d: &Value) -> Value {
    fn prune(v: &mut Value) {
        match v {
            Value::Object(map) => {
                map.values_mut().for_each(prune);
                map.retain(|_, v| !is_empty(v));
            }
            Value::Array(items) => items.iter_mut().for_each(prune),
            _ => {}
        }
    }
    fn is_empty(v: &Value) -> bool {
        v.as_object().is_some_and(|m| m.is_empty()) || v.as_array().is_some_and(|a| a.is_empty())
    }
    let mut spec = d["spec"].clone();
    prune(&mut spec);
    spec
}

fn managers(d: &Value) -> Vec<(String, String)> {
    d["metadata"]["managedFields"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|m| {
            (
                m["manager"].as_str().unwrap_or_default().to_string(),
                m["operation"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

fn has_helper(d: &Value) -> bool {
    names(&pod_spec(d)["initContainers"])
        .iter()
        .chain(&names(&pod_spec(d)["containers"]))
        .any(|n| n == "log-shipper")
}

#[test]
#[ignore = "needs a cluster: KP_E2E=1 cargo test --test e2e_cluster -- --ignored"]
fn add_then_re_add_then_remove() {
    let ns = Namespace::create("add");
    ns.deploy("web", &[]);
    let original = ns.get("web");

    ns.plugin(&["add", "log-shipper", "deploy/web"]);
    let added = ns.get("web");
    assert!(has_helper(&added), "{}", pod_spec(&added));
    assert!(
        managers(&added).contains(&("kubectl-pattern".into(), "Apply".into())),
        "ownership visible in managedFields: {:?}",
        managers(&added)
    );
    let app = &pod_spec(&added)["containers"][0];
    assert_eq!(app["image"], "registry.k8s.io/pause:3.10");
    assert_eq!(app["volumeMounts"][0]["mountPath"], "/var/log/app");
    assert_eq!(added["spec"]["replicas"], 1);
    assert!(
        added["spec"]["template"]["metadata"]["annotations"][TRACKING]
            .as_str()
            .is_some_and(|t| t.contains("log-shipper"))
    );
    let (stdout, _) = ns.plugin(&["status", "deploy/web"]);
    assert!(stdout.contains("log-shipper"), "{stdout}");

    // Idempotent: nothing to change, nothing written.
    // Without -o the report lines are the output (stdout), like kubectl's "… patched".
    let (stdout, _) = ns.plugin(&["add", "log-shipper", "deploy/web"]);
    assert!(stdout.contains("deployment.apps/web unchanged"), "{stdout}");
    let again = ns.get("web");
    assert_eq!(
        again["metadata"]["resourceVersion"], added["metadata"]["resourceVersion"],
        "a re-add must not write"
    );

    ns.plugin(&["remove", "log-shipper", "deploy/web"]);
    let removed = ns.get("web");
    assert!(!has_helper(&removed), "{}", pod_spec(&removed));
    assert!(!removed.to_string().contains("log-shipper"), "{removed}");
    assert_eq!(comparable_spec(&removed), comparable_spec(&original));
}

#[test]
#[ignore = "needs a cluster: KP_E2E=1 cargo test --test e2e_cluster -- --ignored"]
fn dry_run_server_leaves_the_object_unchanged() {
    let ns = Namespace::create("dry");
    ns.deploy("web", &[]);
    let before = ns.get("web");
    let (stdout, _) = ns.plugin(&[
        "add",
        "log-shipper",
        "deploy/web",
        "--dry-run=server",
        "-o",
        "json",
    ]);
    // The server's answer (admission and defaulting applied) has the helper…
    let printed: Value = serde_json::from_str(&stdout).expect("-o json prints JSON");
    let answer = match printed["kind"].as_str() {
        Some("List") => printed["items"][0].clone(),
        _ => printed,
    };
    assert!(has_helper(&answer), "{stdout}");
    // …and nothing was stored.
    let after = ns.get("web");
    assert_eq!(
        after["metadata"]["resourceVersion"],
        before["metadata"]["resourceVersion"]
    );
    assert_eq!(comparable_spec(&after), comparable_spec(&before));
    assert!(!has_helper(&after));
}

#[test]
#[ignore = "needs a cluster: KP_E2E=1 cargo test --test e2e_cluster -- --ignored"]
fn dry_run_client_sends_nothing() {
    let ns = Namespace::create("dryc");
    ns.deploy("web", &[]);
    let before = ns.get("web");
    let (stdout, _) = ns.plugin(&[
        "add",
        "log-shipper",
        "deploy/web",
        "--dry-run=client",
        "-o",
        "yaml",
    ]);
    assert!(stdout.contains("name: log-shipper"), "{stdout}");
    let after = ns.get("web");
    assert_eq!(
        after["metadata"]["resourceVersion"],
        before["metadata"]["resourceVersion"]
    );
}

#[test]
#[ignore = "needs a cluster: KP_E2E=1 cargo test --test e2e_cluster -- --ignored"]
fn a_selector_patches_every_matching_workload_and_only_those() {
    let ns = Namespace::create("sel");
    for name in ["front-a", "front-b", "front-c"] {
        ns.deploy(name, &[("tier", "front")]);
    }
    ns.deploy("back", &[("tier", "back")]);
    let (stdout, stderr) = ns.plugin(&[
        "add",
        "log-shipper",
        "deploy",
        "-l",
        "tier=front",
        "--concurrency",
        "2",
    ]);
    for name in ["front-a", "front-b", "front-c"] {
        assert!(
            has_helper(&ns.get(name)),
            "{name} patched; report:\n{stdout}"
        );
        assert!(
            stdout.contains(&format!("deployment.apps/{name} patched")),
            "one report line per object:\n{stdout}"
        );
    }
    assert!(
        !has_helper(&ns.get("back")),
        "back does not match tier=front"
    );
    assert!(
        stderr.contains("3 patched, 0 unchanged, 0 failed"),
        "summary:\n{stderr}"
    );

    ns.plugin(&["remove", "log-shipper", "deploy", "-l", "tier=front"]);
    for name in ["front-a", "front-b", "front-c"] {
        assert!(!has_helper(&ns.get(name)), "{name} removed");
    }
}
