//! Live mode's findings from a real Kubernetes 1.36 cluster (issue 11, L1–L4), each reproduced
//! against the fake API server (which answers like the recorded server: defaults, list order,
//! ownership, `422 Invalid`), with the real binary.

use crate::common::k8s_fixture;
use crate::common::live::{Live, deployment, names, run, user_fields};
use serde_json::{Value, json};

/// The fixture's Deployment as `kubectl create` made it, before the pattern was added.
fn fixture_web() -> Value {
    json!({"apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "fixtures", "labels": {"app": "web"}},
        "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}},
            "template": {"metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "nginx", "image": "nginx:1.27.3"}]}}}})
}

fn managed_by<'a>(object: &'a Value, manager: &str) -> &'a Value {
    object["metadata"]["managedFields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["manager"] == manager)
        .unwrap_or_else(|| panic!("no managedFields entry for {manager}: {object}"))
}

fn managers(object: &Value) -> Vec<String> {
    object["metadata"]["managedFields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["manager"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn the_fake_server_stores_an_add_as_the_recorded_server_did() {
    let real = k8s_fixture("deployment-with-log-shipper.json");
    let live = Live::new();
    live.api.insert(fixture_web());
    let (code, _, err) =
        run(live
            .cmd()
            .args(["add", "log-shipper", "deploy/web", "-n", "fixtures"]));
    assert_eq!(code, 0, "{err}");
    let mut stored = live.api.get("fixtures", "web");
    // The record: the recording was made by a build writing format 1 (a bare list); this one
    // writes format 2 (versioned) with the same instance.
    let record = |d: &mut Value| -> Value {
        let annotations = d["spec"]["template"]["metadata"]["annotations"]
            .as_object_mut()
            .unwrap();
        let text = annotations.remove("pattern.kubectl.io/applied").unwrap();
        serde_json::from_str(text.as_str().unwrap()).unwrap()
    };
    let mut mine = record(&mut stored);
    assert_eq!(mine["version"], 2);
    // The same instance, but for the pattern's version and parameters' hash (the recording
    // was made with log-shipper 1.0.0, and 1.1.0 declares more parameters), plus the content
    // hash this build records.
    let hash = mine["instances"][0]
        .as_object_mut()
        .unwrap()
        .shift_remove("contentHash")
        .unwrap();
    assert!(hash.as_str().unwrap().starts_with("sha256:"), "{hash}");
    let without_version = |mut instances: Value| {
        for i in instances.as_array_mut().unwrap() {
            let map = i.as_object_mut().unwrap();
            assert!(map.shift_remove("version").is_some());
            assert!(map.shift_remove("paramsHash").is_some());
        }
        instances
    };
    assert_eq!(mine["instances"][0]["version"], "1.1.0");
    assert_eq!(
        without_version(mine["instances"].clone()),
        without_version(record(&mut real.clone()))
    );
    let mut real_spec = real.clone();
    record(&mut real_spec);
    // The rest of the spec (defaults, list order) is what the real server stored.
    assert_eq!(stored["spec"], real_spec["spec"]);
    // The pattern's manager owns exactly the fields it owned on the real server.
    let mine = managed_by(&stored, "kubectl-pattern");
    let theirs = managed_by(&real, "kubectl-pattern");
    assert_eq!(mine["operation"], "Apply");
    assert_eq!(mine["fieldsV1"], theirs["fieldsV1"]);
}

#[test]
fn the_fake_server_names_a_field_conflict_as_the_recorded_server_did() {
    let real = k8s_fixture("ssa-conflict-409.json");
    let live = Live::new();
    live.api.insert(fixture_web());
    let mut other = fixture_web();
    other["spec"]["template"]["spec"]["containers"][0]["env"] =
        json!([{"name": "MODE", "value": "a"}]);
    let (code, _) = live.api.apply_as("other", &other, false);
    assert_eq!(code, 200);
    let config = json!({"apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "fixtures"},
        "spec": {"template": {"spec": {"containers": [{"name": "nginx",
            "env": [{"name": "MODE", "value": "b"}]}]}}}});
    let (code, body) = live.api.apply_as("kubectl-pattern", &config, false);
    assert_eq!(code, 409);
    assert_eq!(body, real);
}

/// L1: `new --to cluster` applied the whole object as the pattern's manager, so `remove`
/// (which omits the non-pattern fields) dropped them all and the real server answered 422.
#[test]
fn a_whole_object_owned_by_the_patterns_manager_cannot_be_released_by_the_real_server() {
    let live = Live::new();
    let whole = deployment("web", "web");
    assert_eq!(live.api.apply_as("kubectl-pattern", &whole, false).0, 200);
    let identity = json!({"apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "shop"}});
    let (code, body) = live.api.apply_as("kubectl-pattern", &identity, false);
    assert_eq!(code, 422, "{body}");
    assert_eq!(body["reason"], "Invalid");
    let message = body["message"].as_str().unwrap();
    for part in [
        "spec.selector: Required value",
        "spec.template.spec.containers: Required value",
        "field is immutable",
    ] {
        assert!(message.contains(part), "{message}");
    }
}

#[test]
fn remove_works_after_new_to_cluster() {
    let live = Live::new();
    let (code, out, err) = run(live.cmd().args([
        "new",
        "deployment",
        "web",
        "--image",
        "nginx:1.27.3",
        "-p",
        "log-shipper",
        "--to",
        "cluster",
        "--yes",
        "-n",
        "shop",
    ]));
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("deployment.apps/web serverside-applied"),
        "{out}"
    );
    let created = live.api.get("shop", "web");
    assert_eq!(
        names(&created["spec"]["template"]["spec"]["initContainers"]),
        ["log-shipper"]
    );
    assert_eq!(
        managers(&created),
        ["kubectl-pattern", "kubectl-pattern-new"],
        "the workload and the pattern under their own managers"
    );
    let patches = live.patches();
    assert!(
        patches
            .iter()
            .all(|p| p.param("fieldManager") != Some("kubectl-pattern")
                || p.json()["spec"]["selector"].is_null()),
        "the pattern's manager never applies the whole object"
    );

    let (code, out, err) =
        run(live
            .cmd()
            .args(["remove", "log-shipper", "deploy/web", "-n", "shop"]));
    assert_eq!(code, 0, "{err}");
    assert!(
        out.starts_with("deployment.apps/web patched: removed log-shipper"),
        "{out}"
    );
    let after = live.api.get("shop", "web");
    let spec = &after["spec"]["template"]["spec"];
    assert!(spec.get("initContainers").is_none(), "{after}");
    assert!(spec.get("volumes").is_none(), "{after}");
    assert_eq!(names(&spec["containers"]), ["web"]);
    assert_eq!(spec["containers"][0]["image"], "nginx:1.27.3");
    assert_eq!(after["spec"]["selector"], created["spec"]["selector"]);
    assert_eq!(managers(&after), ["kubectl-pattern-new"]);
}

/// L2: classic sidecars are stored after the app container, as `--dry-run=client` shows.
#[test]
fn classic_sidecars_are_stored_after_the_app_container() {
    let live = Live::with_web();
    let original = live.api.get("shop", "web");
    let (code, _, err) = run(live.cmd().args([
        "add",
        "log-shipper",
        "deploy/web",
        "--sidecar-mode",
        "classic",
    ]));
    assert_eq!(code, 0, "{err}");
    let stored = live.api.get("shop", "web");
    let spec = &stored["spec"]["template"]["spec"];
    assert_eq!(names(&spec["containers"]), ["web", "log-shipper"]);
    assert!(spec.get("initContainers").is_none());
    // The app stays first, so kubectl logs/exec still default to it: no annotation needed.
    assert!(
        stored["spec"]["template"]["metadata"]["annotations"]
            .get("kubectl.kubernetes.io/default-container")
            .is_none()
    );
    let (code, preview, err) = run(live.cmd().args([
        "add",
        "log-shipper",
        "deploy/web",
        "--sidecar-mode",
        "classic",
        "--dry-run=client",
        "-o",
        "json",
    ]));
    assert_eq!(code, 0, "{err}");
    let preview: Value = serde_json::from_str(&preview).unwrap();
    assert_eq!(
        names(&preview["spec"]["template"]["spec"]["containers"]),
        ["web", "log-shipper"]
    );
    run(live.cmd().args(["remove", "log-shipper", "deploy/web"]));
    assert_eq!(
        user_fields(&live.api.get("shop", "web")),
        user_fields(&original)
    );
}

/// L3: remove uses the field manager the instance was added with.
#[test]
fn remove_uses_the_recorded_field_manager() {
    let live = Live::with_web();
    let original = live.api.get("shop", "web");
    let (code, _, err) =
        run(live
            .cmd()
            .args(["add", "log-shipper", "deploy/web", "--field-manager", "foo"]));
    assert_eq!(code, 0, "{err}");
    let (code, out, err) = run(live.cmd().args(["remove", "log-shipper", "deploy/web"]));
    assert_eq!(code, 0, "{err}");
    assert!(
        out.starts_with("deployment.apps/web patched: removed log-shipper"),
        "{out}"
    );
    assert!(
        out.contains("(as field manager foo)"),
        "says which manager: {out}"
    );
    let managers_used: Vec<Option<String>> = live
        .patches()
        .iter()
        .map(|p| p.param("fieldManager").map(str::to_string))
        .collect();
    assert_eq!(
        managers_used,
        [Some("foo".to_string()), Some("foo".to_string())]
    );
    assert_eq!(
        user_fields(&live.api.get("shop", "web")),
        user_fields(&original)
    );
    let (code, out, _) = run(live.cmd().args(["status", "deploy/web"]));
    assert_eq!(code, 0);
    assert!(!out.contains("log-shipper"), "{out}");
}

/// L3: `--field-manager` on remove overrides the recorded one; a manager that owns none of the
/// instance's fields cannot remove it (the server would keep them all), so the run says so,
/// naming the recorded manager, and sends nothing.
#[test]
fn remove_as_another_field_manager_names_the_recorded_one() {
    let live = Live::with_web();
    live.cmd()
        .args(["add", "log-shipper", "deploy/web", "--field-manager", "foo"])
        .assert()
        .success();
    let before = live.api.get("shop", "web");
    let (code, out, err) = run(live.cmd().args([
        "remove",
        "log-shipper",
        "deploy/web",
        "--field-manager",
        "bar",
    ]));
    assert_eq!(code, 1, "{out}{err}");
    assert!(err.contains("bar would let go of"), "{err}");
    assert!(err.contains("foo"), "{err}");
    assert!(err.contains("--field-manager"), "{err}");
    assert_eq!(live.patches().len(), 1, "only the add");
    assert_eq!(live.api.get("shop", "web"), before);
}

/// L4: another manager co-owns the helper; remove names it instead of the server's raw 422.
#[test]
fn remove_names_a_co_owner_instead_of_the_servers_422() {
    let live = Live::with_web();
    live.cmd()
        .args(["add", "log-shipper", "deploy/web"])
        .assert()
        .success();
    let other = json!({"apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "shop"},
        "spec": {"template": {"spec": {"initContainers": [
            {"name": "log-shipper", "image": "busybox:1.37"}]}}}});
    // Without force the server names our manager as the owner of the image.
    let (code, body) = live.api.apply_as("other", &other, false);
    assert_eq!(code, 409, "{body}");
    assert_eq!(live.api.apply_as("other", &other, true).0, 200);
    let (code, _, err) =
        run(live
            .cmd()
            .args(["add", "log-shipper", "deploy/web", "--force-conflicts"]));
    assert_eq!(code, 0, "{err}");
    let before = live.api.get("shop", "web");
    assert_eq!(
        before["spec"]["template"]["spec"]["initContainers"][0]["image"],
        "cr.fluentbit.io/fluent/fluent-bit:3.2.4"
    );
    let patches = live.patches().len();
    let (code, _, err) = run(live.cmd().args(["remove", "log-shipper", "deploy/web"]));
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("other"), "{err}");
    assert!(err.contains("initContainers"), "{err}");
    assert!(!err.contains("422"), "{err}");
    assert_eq!(live.patches().len(), patches, "nothing sent");
    assert_eq!(live.api.get("shop", "web"), before);
}
