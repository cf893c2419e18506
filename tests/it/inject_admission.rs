//! The exported MutatingAdmissionPolicy evaluated offline (`common::admission`): the first
//! exporter's ApplyConfiguration is denied exactly as the real v1.36.2 API server denied it
//! (`fixtures/k8s-1.36/injector-denial.json`), found from the schema's atomic markers.

use std::collections::BTreeSet;

use serde_json::{Value, json};

use crate::common::admission::{Verdict, admit};
use kubectl_pattern::engine::inject::jsonpatch::{self, Slot};

fn fixture(name: &str) -> Value {
    let path = format!("{}/tests/it/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap();
    if name.ends_with(".json") {
        serde_json::from_str(&text).unwrap()
    } else {
        kubectl_pattern::engine::yaml::from_str(text.split("\n---\n").next().unwrap()).unwrap()
    }
}

/// A pod as `kubectl run inj --image=nginx:1.27.3 --labels=app=web` sends it.
fn plain_pod(name: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": "default", "labels": {"app": "web"}},
        "spec": {"containers": [{"name": name, "image": "nginx:1.27.3"}]}})
}

/// The paths listed after "may not mutate atomic arrays, maps or structs: ".
fn atomic_paths(message: &str) -> BTreeSet<String> {
    let (_, list) = message
        .split_once("may not mutate atomic arrays, maps or structs: ")
        .unwrap_or_else(|| panic!("not an atomic-field denial: {message}"));
    list.split(", ").map(str::to_string).collect()
}

#[test]
fn the_first_exporters_policy_is_denied_as_the_real_server_denied_it() {
    let recorded = fixture("k8s-1.36/injector-denial.json");
    let policy = fixture("inject/log-shipper-map-b8219a9.yaml");
    let Verdict::Denied(message) = admit(&policy, &plain_pod("inj")) else {
        panic!("the first exporter's policy was not denied");
    };
    let real = recorded["message"].as_str().unwrap();
    assert_eq!(atomic_paths(&message), atomic_paths(real));
    // Everything but the order of the paths (Go map iteration) is the server's text.
    let prefix = |m: &str| m.split(".spec.").next().unwrap().to_string();
    assert_eq!(prefix(&message), prefix(real));
    assert_eq!(recorded["code"], 403);
    assert_eq!(recorded["reason"], "Invalid");
}

/// The policy `inject` exports for a built-in pattern (with the parameters it requires).
fn exported(id: &str) -> Value {
    let pattern = kubectl_pattern::engine::catalogue::Catalogue::builtin()
        .patterns()
        .iter()
        .find(|p| p.spec().id == id)
        .cloned()
        .unwrap();
    let mut args: Vec<String> = vec![
        "inject".into(),
        id.into(),
        "--select".into(),
        "app=web".into(),
    ];
    for s in crate::common::required_sets(pattern.as_ref()) {
        args.extend(["--set".into(), s]);
    }
    let out = crate::common::bin().args(&args).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    kubectl_pattern::engine::yaml::from_str(text.split("\n---\n").next().unwrap()).unwrap()
}

#[test]
fn no_built_in_patterns_policy_mutates_an_atomic_field() {
    let ids: Vec<String> = kubectl_pattern::engine::catalogue::Catalogue::builtin()
        .patterns()
        .iter()
        .map(|p| p.spec().id.clone())
        .collect();
    assert_eq!(ids.len(), 12);
    for id in ids {
        let policy = exported(&id);
        // The ApplyConfiguration now only sets annotations; the helpers go in by JSONPatch.
        let kinds: Vec<&str> = policy["spec"]["mutations"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["patchType"].as_str().unwrap())
            .collect();
        assert_eq!(kinds, ["ApplyConfiguration", "JSONPatch"], "{id}");
        match admit(&policy, &plain_pod("inj")) {
            Verdict::Admitted(pod) => {
                let helpers = pod["spec"]["initContainers"]
                    .as_array()
                    .into_iter()
                    .chain(pod["spec"]["containers"].as_array())
                    .flatten()
                    .count();
                assert!(helpers > 1, "{id}: no helper was added");
            }
            other => panic!("{id}: {other:?}"),
        }
    }
}

/// A policy whose only mutation adds helper `h` to `spec.initContainers` at `slot`, twice
/// (the second with offset 1), as the exporter writes a placement's position.
fn positioned(slot: &Slot) -> Value {
    let path = |offset| {
        let segment = jsonpatch::segment(slot, "object.spec.initContainers", "name", offset);
        format!("\"/spec/initContainers/\" + {segment}")
    };
    let expression = format!(
        "[JSONPatch{{op: \"add\", path: {}, value: Object.spec.initContainers{{name: \"h1\", image: \"h\"}}}}, JSONPatch{{op: \"add\", path: {}, value: Object.spec.initContainers{{name: \"h2\", image: \"h\"}}}}]",
        path(0),
        path(1)
    );
    json!({"apiVersion": "admissionregistration.k8s.io/v1", "kind": "MutatingAdmissionPolicy",
        "metadata": {"name": "positions"},
        "spec": {"failurePolicy": "Fail", "mutations": [
            {"patchType": "JSONPatch", "jsonPatch": {"expression": expression}}]}})
}

fn init_names(policy: &Value, init: &[&str]) -> Vec<String> {
    let mut pod = plain_pod("p");
    pod["spec"]["initContainers"] = Value::Array(
        init.iter()
            .map(|n| json!({"name": n, "image": "busybox:1.37.0"}))
            .collect(),
    );
    let Verdict::Admitted(pod) = admit(policy, &pod) else {
        panic!("not admitted");
    };
    pod["spec"]["initContainers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn the_json_patch_places_items_at_the_end_at_an_index_or_next_to_a_named_item() {
    let end = positioned(&Slot::End);
    assert_eq!(init_names(&end, &["a", "b"]), ["a", "b", "h1", "h2"]);
    let first = positioned(&Slot::At(0));
    assert_eq!(init_names(&first, &["a", "b"]), ["h1", "h2", "a", "b"]);
    let before = positioned(&Slot::Before("b".into()));
    assert_eq!(
        init_names(&before, &["a", "b", "c"]),
        ["a", "h1", "h2", "b", "c"]
    );
    // No item of that name: at the end.
    assert_eq!(init_names(&before, &["a"]), ["a", "h1", "h2"]);
    let after = positioned(&Slot::After("a".into()));
    assert_eq!(init_names(&after, &["a", "b"]), ["a", "h1", "h2", "b"]);
    assert_eq!(init_names(&after, &["b"]), ["b", "h1", "h2"]);
}
