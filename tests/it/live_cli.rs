//! Live mode end to end: the real binary against a fake API server on 127.0.0.1 (a kubeconfig
//! in a temp dir points at it); asserts what it prints, its exit code, and the requests and
//! server-side apply bodies the server received.

use crate::common::fake_api::Request;
use crate::common::live::{Live, WEB, deployment, method_paths, names, run, user_fields};
use serde_json::{Value, json};

#[test]
fn add_applies_only_the_patterns_fields_as_a_native_sidecar() {
    let live = Live::with_web();
    let (code, out, err) = run(live
        .cmd()
        .args(["add", "log-shipper", "deploy/web", "-n", "shop"]));
    assert_eq!(code, 0, "{err}");
    assert!(
        out.starts_with(
            "deployment.apps/web patched: added log-shipper (native sidecar log-shipper"
        ),
        "{out}"
    );
    assert_eq!(out.lines().count(), 1, "{out}");
    assert_eq!(
        method_paths(&live.api.requests()),
        [
            "GET /version",
            "GET /api/v1/nodes",
            &format!("GET {WEB}"),
            &format!("PATCH {WEB}")
        ]
    );

    let patch = &live.patches()[0];
    assert_eq!(
        patch.headers["content-type"],
        "application/apply-patch+yaml"
    );
    assert_eq!(patch.headers["authorization"], "Bearer fake-token");
    assert_eq!(patch.param("fieldManager"), Some("kubectl-pattern"));
    assert_eq!(patch.param("dryRun"), None);
    assert_eq!(patch.param("force"), None);
    let body = patch.json();
    // Identity, the resourceVersion read (optimistic locking), and the pod template only.
    assert_eq!(
        body["metadata"],
        json!({"name": "web", "namespace": "shop", "resourceVersion": "101"})
    );
    assert_eq!(
        body["spec"].as_object().unwrap().keys().collect::<Vec<_>>(),
        ["template"]
    );
    let pod = &body["spec"]["template"]["spec"];
    assert!(
        body["spec"]["template"]["metadata"].get("labels").is_none(),
        "{body}"
    );
    let app = &pod["containers"][0];
    let app_keys: Vec<&String> = app.as_object().unwrap().keys().collect();
    assert_eq!(app_keys, ["name", "volumeMounts"], "{app}");
    assert_eq!(names(&pod["initContainers"]), ["log-shipper"]);
    assert_eq!(pod["initContainers"][0]["restartPolicy"], "Always");

    let stored = live.api.get("shop", "web");
    let spec = &stored["spec"]["template"]["spec"];
    assert_eq!(names(&spec["initContainers"]), ["log-shipper"]);
    assert_eq!(spec["initContainers"][0]["restartPolicy"], "Always");
    assert_eq!(names(&spec["containers"]), ["web"]);
    assert_eq!(spec["containers"][0]["image"], "nginx:1.27.3");
    assert_eq!(
        spec["containers"][0]["env"],
        json!([{"name": "MODE", "value": "prod"}])
    );
    assert_eq!(stored["spec"]["replicas"], 2);
    assert_eq!(stored["metadata"]["generation"], 2);
    let managers: Vec<&str> = stored["metadata"]["managedFields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["manager"].as_str().unwrap())
        .collect();
    assert!(managers.contains(&"kubectl-pattern"), "{managers:?}");

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("web.yaml");
    crate::common::write_yaml(&file, &[user_fields(&stored)]);
    crate::common::validate(&file);
}

#[test]
fn re_adding_reports_unchanged_and_sends_no_patch() {
    let live = Live::with_web();
    live.cmd()
        .args(["add", "log-shipper", "deploy/web", "-n", "shop"])
        .assert()
        .success();
    let stored = live.api.get("shop", "web");
    let (code, out, err) = run(live
        .cmd()
        .args(["add", "log-shipper", "deploy/web", "-n", "shop"]));
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("deployment.apps/web unchanged"), "{out}");
    assert_eq!(live.patches().len(), 1, "only the first add patches");
    assert_eq!(live.api.get("shop", "web"), stored);
}

#[test]
fn remove_restores_the_original_object() {
    let live = Live::with_web();
    let original = live.api.get("shop", "web");
    live.cmd()
        .args(["add", "log-shipper", "deploy/web", "-n", "shop"])
        .assert()
        .success();
    // No -n: the context's namespace (shop).
    let (code, out, err) = run(live.cmd().args(["remove", "log-shipper", "deploy/web"]));
    assert_eq!(code, 0, "{err}");
    assert!(
        out.starts_with("deployment.apps/web patched: removed log-shipper"),
        "{out}"
    );
    let patches = live.patches();
    assert_eq!(patches.len(), 2);
    assert_eq!(patches[1].path, WEB);
    // The apply holds no pattern fields any more: applying just the identity releases them.
    let body = patches[1].json();
    assert_eq!(body["metadata"]["name"], "web");
    let template = &body["spec"]["template"];
    assert!(template["spec"].get("initContainers").is_none(), "{body}");
    assert!(template["spec"].get("volumes").is_none(), "{body}");
    let stored = live.api.get("shop", "web");
    assert_eq!(user_fields(&stored), user_fields(&original));
    assert_eq!(stored["metadata"]["generation"], 3);
}

#[test]
fn server_dry_run_sends_dry_run_all_and_stores_nothing() {
    let live = Live::with_web();
    let before = live.api.get("shop", "web");
    let (code, out, err) = run(live.cmd().args([
        "add",
        "log-shipper",
        "deploy/web",
        "--dry-run=server",
        "-o",
        "yaml",
    ]));
    assert_eq!(code, 0, "{err}");
    let patches = live.patches();
    assert_eq!(patches.len(), 1);
    assert_eq!(patches[0].param("dryRun"), Some("All"));
    assert_eq!(live.api.get("shop", "web"), before);
    assert!(
        err.contains("deployment.apps/web patched (server dry run): added log-shipper"),
        "{err}"
    );
    // -o yaml shows the server's answer: the helper is in it, managedFields are not.
    let shown: Value = kubectl_pattern::engine::yaml::from_str(&out).unwrap();
    assert_eq!(
        names(&shown["spec"]["template"]["spec"]["initContainers"]),
        ["log-shipper"]
    );
    assert!(shown["metadata"].get("managedFields").is_none(), "{out}");
}

#[test]
fn client_dry_run_sends_no_patch() {
    let live = Live::with_web();
    let before = live.api.get("shop", "web");
    let (code, out, err) =
        run(live
            .cmd()
            .args(["add", "log-shipper", "deploy/web", "--dry-run=client"]));
    assert_eq!(code, 0, "{err}");
    assert!(
        out.starts_with("deployment.apps/web patched (dry run): added log-shipper"),
        "{out}"
    );
    assert!(live.patches().is_empty());
    assert_eq!(live.api.get("shop", "web"), before);
}

#[test]
/// `--diff` is a preview, as `kubectl diff` is: what the API server would store (a server dry
/// run), nothing written.
fn diff_is_a_preview_of_what_the_server_would_store() {
    let live = Live::with_web();
    let stored = live.api.get("shop", "web");
    let (code, out, err) = run(live
        .cmd()
        .args(["add", "log-shipper", "deploy/web", "--diff"]));
    // Differences exit 1, as with kubectl diff.
    assert_eq!(code, 1, "{err}");
    let mut lines = out.lines();
    assert_eq!(lines.next(), Some("--- shop/deployment.apps/web"));
    assert_eq!(lines.next(), Some("+++ shop/deployment.apps/web (patched)"));
    assert!(out.lines().any(|l| l.starts_with("@@ -")), "{out}");
    let added: Vec<&str> = out.lines().filter(|l| l.starts_with('+')).collect();
    assert!(
        added.iter().any(|l| l.contains("name: log-shipper")),
        "{out}"
    );
    assert!(
        added.iter().any(|l| l.contains("restartPolicy: Always")),
        "{out}"
    );
    // The app's image is not touched: it is no changed line.
    assert!(
        !out.lines()
            .any(|l| l.starts_with(['+', '-']) && l.contains("nginx")),
        "{out}"
    );
    assert!(
        err.contains("deployment.apps/web patched (server dry run): added log-shipper"),
        "{err}"
    );
    let patches = live.patches();
    assert_eq!(patches.len(), 1);
    assert_eq!(patches[0].param("dryRun"), Some("All"));
    assert_eq!(live.api.get("shop", "web"), stored, "nothing stored");
}

#[test]
fn output_yaml_and_name_print_the_patched_objects() {
    let live = Live::with_web();
    let (code, out, err) = run(live
        .cmd()
        .args(["add", "log-shipper", "deploy/web", "-o", "yaml"]));
    assert_eq!(code, 0, "{err}");
    let shown: Value = kubectl_pattern::engine::yaml::from_str(&out).unwrap();
    let mut stored = live.api.get("shop", "web");
    stored["metadata"]
        .as_object_mut()
        .unwrap()
        .remove("managedFields");
    assert_eq!(shown, stored);

    let (code, out, err) =
        run(live
            .cmd()
            .args(["remove", "log-shipper", "deploy/web", "-o", "name"]));
    assert_eq!(code, 0, "{err}");
    assert_eq!(out, "deployment.apps/web\n");
    assert!(
        err.contains("deployment.apps/web patched: removed log-shipper"),
        "{err}"
    );
}

#[test]
fn a_selector_patches_exactly_the_matching_deployments() {
    let live = Live::new();
    live.api.insert(deployment("web-a", "web"));
    live.api.insert(deployment("web-b", "web"));
    live.api.insert(deployment("api", "api"));
    let api_before = live.api.get("shop", "api");
    let (code, out, err) = run(live.cmd().args([
        "add",
        "log-shipper",
        "deploy",
        "-l",
        "app=web",
        "-n",
        "shop",
    ]));
    assert_eq!(code, 0, "{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 2, "{out}");
    assert!(
        lines[0].starts_with("deployment.apps/web-a patched: added log-shipper"),
        "{out}"
    );
    assert!(
        lines[1].starts_with("deployment.apps/web-b patched: added log-shipper"),
        "{out}"
    );
    assert!(err.contains("2 patched, 0 unchanged, 0 failed"), "{err}");

    let lists: Vec<Request> = live
        .api
        .requests()
        .into_iter()
        .filter(|r| r.path == "/apis/apps/v1/namespaces/shop/deployments")
        .collect();
    assert_eq!(lists.len(), 1);
    assert_eq!(lists[0].param("labelSelector"), Some("app=web"));
    let mut patched: Vec<String> = live.patches().iter().map(|r| r.path.clone()).collect();
    patched.sort();
    assert_eq!(
        patched,
        [
            "/apis/apps/v1/namespaces/shop/deployments/web-a",
            "/apis/apps/v1/namespaces/shop/deployments/web-b"
        ]
    );
    // Listed objects are not read a second time.
    assert!(
        !live
            .api
            .requests()
            .iter()
            .any(|r| r.method == "GET" && r.path.contains("/deployments/"))
    );
    assert_eq!(live.api.get("shop", "api"), api_before);
    for name in ["web-a", "web-b"] {
        let d = live.api.get("shop", name);
        assert_eq!(
            names(&d["spec"]["template"]["spec"]["initContainers"]),
            ["log-shipper"]
        );
    }
}

#[test]
fn old_kubelets_make_classic_sidecars_with_a_warning_naming_the_node() {
    let live = Live::with_web();
    live.api
        .set_nodes(&[("node-a", "v1.37.1"), ("node-b", "v1.28.9")]);
    let (code, out, err) = run(live.cmd().args(["add", "log-shipper", "deploy/web"]));
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("added log-shipper (container log-shipper"),
        "{out}"
    );
    assert!(
        err.contains(
            "warning: nodes older than 1.29 cannot run native sidecars: node-b (kubelet 1.28.9)"
        ),
        "{err}"
    );
    assert!(!err.contains("node-a"), "{err}");
    let spec = &live.api.get("shop", "web")["spec"]["template"]["spec"];
    assert_eq!(names(&spec["containers"]), ["web", "log-shipper"]);
    assert!(spec.get("initContainers").is_none(), "{spec}");
}

#[test]
fn kube_version_overrides_what_the_nodes_say() {
    let live = Live::with_web();
    live.api.set_nodes(&[("node-b", "v1.28.9")]);
    let (code, out, err) =
        run(live
            .cmd()
            .args(["add", "log-shipper", "deploy/web", "--kube-version", "1.30"]));
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("added log-shipper (native sidecar log-shipper"),
        "{out}"
    );
    assert!(!err.contains("warning"), "{err}");
    // The cluster is not asked: the flag decides.
    assert_eq!(
        method_paths(&live.api.requests()),
        [format!("GET {WEB}"), format!("PATCH {WEB}")]
    );
    let spec = &live.api.get("shop", "web")["spec"]["template"]["spec"];
    assert_eq!(spec["initContainers"][0]["restartPolicy"], "Always");
}

#[test]
fn status_and_lint_print_the_same_lines_as_file_mode() {
    let live = Live::new();
    // An unpinned image: lint has something to say.
    let mut web = deployment("web", "web");
    web["spec"]["template"]["spec"]["containers"][0]["image"] = json!("nginx:latest");
    live.api.insert(web);
    live.cmd()
        .args(["add", "log-shipper", "deploy/web"])
        .assert()
        .success();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("web.yaml");
    crate::common::write_yaml(&file, &[user_fields(&live.api.get("shop", "web"))]);
    let patches = live.patches().len();
    for verb in ["status", "lint"] {
        let (live_code, live_out, live_err) = run(live.cmd().args([verb, "deploy/web"]));
        let (file_code, file_out, file_err) = run(live.cmd().arg(verb).arg("-f").arg(&file));
        assert_eq!(live_code, file_code, "{verb}: {live_err} / {file_err}");
        assert!(!live_out.is_empty(), "{verb}");
        assert_eq!(live_out, file_out, "{verb}");
    }
    let (code, out, _) = run(live.cmd().args(["status", "deploy/web"]));
    assert_eq!(code, 0);
    assert!(
        out.starts_with("deployment/web: log-shipper v1.1.0 (container log-shipper"),
        "{out}"
    );
    let (code, out, _) = run(live.cmd().args(["lint", "deploy/web"]));
    assert_eq!(code, 0, "warnings only");
    assert!(out.contains("MCP005"), "{out}");
    assert_eq!(live.patches().len(), patches, "status and lint never write");
}

#[test]
fn all_namespaces_lists_once_and_prefixes_each_line_with_the_namespace() {
    let live = Live::new();
    live.api.insert(deployment("web", "web"));
    let mut other = deployment("web", "web");
    other["metadata"]["namespace"] = json!("blog");
    live.api.insert(other);
    let (code, out, err) = run(live.cmd().args([
        "add",
        "log-shipper",
        "deploy",
        "-l",
        "app=web",
        "-A",
        "--field-manager",
        "platform-team",
        "--force-conflicts",
    ]));
    assert_eq!(code, 0, "{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 2, "{out}");
    assert!(
        lines[0].starts_with("blog/deployment.apps/web patched: added log-shipper"),
        "{out}"
    );
    assert!(
        lines[1].starts_with("shop/deployment.apps/web patched: added log-shipper"),
        "{out}"
    );
    assert!(err.contains("2 patched, 0 unchanged, 0 failed"), "{err}");
    let lists: Vec<Request> = live
        .api
        .requests()
        .into_iter()
        .filter(|r| r.path == "/apis/apps/v1/deployments")
        .collect();
    assert_eq!(lists.len(), 1);
    let mut paths = Vec::new();
    for patch in live.patches() {
        assert_eq!(patch.param("fieldManager"), Some("platform-team"));
        assert_eq!(patch.param("force"), Some("true"));
        paths.push(patch.path);
    }
    paths.sort();
    assert_eq!(
        paths,
        [
            "/apis/apps/v1/namespaces/blog/deployments/web",
            "/apis/apps/v1/namespaces/shop/deployments/web"
        ]
    );
    for ns in ["blog", "shop"] {
        let d = live.api.get(ns, "web");
        let managers: Vec<&str> = d["metadata"]["managedFields"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["manager"].as_str().unwrap())
            .collect();
        assert_eq!(managers, ["kubectl-create", "platform-team"]);
    }
}
