//! Live mode's findings from a real Kubernetes 1.36 cluster (issue 11, L6–L13), each reproduced
//! against the fake API server with the real binary.

use crate::common::live::{Live, WEB, deployment, names, run, user_fields};
use serde_json::{Value, json};

fn init_names(object: &Value) -> Vec<&str> {
    names(&object["spec"]["template"]["spec"]["initContainers"])
}

/// L6: a re-add by selector counts the object unchanged and sends nothing, though the server
/// filled in defaults (imagePullPolicy, probe thresholds, protocols) the apply never sent.
#[test]
fn a_bulk_re_add_counts_unchanged() {
    let live = Live::with_web();
    live.api.insert(deployment("api", "web"));
    let args = ["add", "log-shipper", "deploy", "-l", "app=web"];
    let (code, _, err) = run(live.cmd().args(args));
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("2 patched, 0 unchanged"), "{err}");
    let stored = live.api.get("shop", "web");
    assert_eq!(
        stored["spec"]["template"]["spec"]["initContainers"][0]["imagePullPolicy"], "IfNotPresent",
        "the server defaulted it"
    );
    let (code, out, err) = run(live.cmd().args(args));
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("deployment.apps/web unchanged"), "{out}");
    assert!(err.contains("0 patched, 2 unchanged"), "{err}");
    assert_eq!(live.patches().len(), 2);
    assert_eq!(
        live.api.get("shop", "web")["metadata"]["resourceVersion"],
        stored["metadata"]["resourceVersion"]
    );
}

/// L7: status and lint over several namespaces name the namespace on each line.
#[test]
fn status_and_lint_across_namespaces_name_the_namespace() {
    let live = Live::new();
    for ns in ["blog", "shop"] {
        let mut web = deployment("web", "web");
        web["metadata"]["namespace"] = json!(ns);
        web["spec"]["template"]["spec"]["containers"][0]["image"] = json!("nginx:latest");
        live.api.insert(web);
    }
    live.cmd()
        .args(["add", "log-shipper", "deploy", "--all", "-A"])
        .assert()
        .success();
    let (code, out, err) = run(live.cmd().args(["status", "deploy", "--all", "-A"]));
    assert_eq!(code, 0, "{err}");
    assert!(
        out.lines()
            .any(|l| l.starts_with("blog/deployment/web: log-shipper")),
        "{out}"
    );
    assert!(
        out.lines()
            .any(|l| l.starts_with("shop/deployment/web: log-shipper")),
        "{out}"
    );
    let (_, out, err) = run(live.cmd().args(["lint", "deploy", "--all", "-A"]));
    let mut heads: Vec<&str> = out.lines().filter(|l| !l.starts_with(' ')).collect();
    assert_eq!(
        heads.pop(),
        Some("2 workloads checked, 2 with findings: 0 errors, 2 warnings"),
        "{out}{err}"
    );
    assert_eq!(heads.len(), 2, "{out}{err}");
    assert!(heads[0].starts_with("blog/deployment/web: "), "{out}");
    assert!(heads[1].starts_with("shop/deployment/web: "), "{out}");
    assert_eq!(out.matches("MCP005").count(), 2, "{out}");
}

/// L8: a paused Deployment fails `--wait` at once with the reason, not after the timeout.
#[test]
fn wait_on_a_paused_deployment_fails_at_once_with_the_reason() {
    let live = Live::with_web();
    live.cmd()
        .args(["add", "log-shipper", "deploy/web"])
        .assert()
        .success();
    live.api.update("shop", "web", "kubectl-rollout", |d| {
        d["spec"]["paused"] = json!(true);
    });
    let (code, _, err) = run(live.cmd().args([
        "remove",
        "log-shipper",
        "deploy/web",
        "--wait",
        "--timeout",
        "10m",
    ]));
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("paused"), "{err}");
    assert!(
        err.contains("kubectl rollout resume deployment/web -n shop"),
        "{err}"
    );
    assert!(!err.contains("not complete after"), "{err}");
    assert!(init_names(&live.api.get("shop", "web")).is_empty());
}

/// L10: a helper deleted by hand is reported by status and lint.
#[test]
fn status_and_lint_report_a_helper_deleted_by_hand() {
    let live = Live::with_web();
    live.cmd()
        .args(["add", "log-shipper", "deploy/web"])
        .assert()
        .success();
    // kubectl patch --type json -p '[{"op":"remove","path":"/spec/template/spec/initContainers"}]'
    live.api.update("shop", "web", "kubectl-patch", |d| {
        d["spec"]["template"]["spec"]
            .as_object_mut()
            .unwrap()
            .remove("initContainers");
    });
    let (code, out, err) = run(live.cmd().args(["status", "deploy/web"]));
    assert_eq!(code, 0, "{err}");
    let warning: Vec<&str> = out
        .lines()
        .filter(|l| l.trim_start().starts_with("warning"))
        .collect();
    assert_eq!(warning.len(), 1, "{out}");
    assert!(warning[0].contains("helper container log-shipper"), "{out}");
    let (_, out, err) = run(live.cmd().args(["lint", "deploy/web"]));
    let drift: Vec<&str> = out.lines().filter(|l| l.contains("MCP011")).collect();
    assert_eq!(drift.len(), 1, "{out}{err}");
    assert!(drift[0].contains("helper container log-shipper"), "{out}");
}

/// L11: helpers' init containers and native sidecars go before the app's own init containers,
/// in the order the patterns are given; a re-add changes nothing and remove is exact.
#[test]
fn helpers_go_before_the_apps_init_containers() {
    let live = Live::new();
    let mut web = deployment("web", "web");
    web["spec"]["template"]["spec"]["initContainers"] =
        json!([{"name": "migrate", "image": "migrate:1.0"}]);
    live.api.insert(web);
    let original = live.api.get("shop", "web");
    let add = [
        "add",
        "wait-for",
        "redis-proxy",
        "deploy/web",
        "--set",
        "wait-for.host=redis",
        "--set",
        "redis-proxy.servers=redis:6379",
    ];
    let (code, _, err) = run(live.cmd().args(add));
    assert_eq!(code, 0, "{err}");
    let stored = live.api.get("shop", "web");
    assert_eq!(init_names(&stored), ["wait-for", "redis-proxy", "migrate"]);
    let (code, out, err) = run(live.cmd().args(add));
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("deployment.apps/web unchanged"), "{out}");
    assert_eq!(live.patches().len(), 1);
    let (code, _, err) = run(live
        .cmd()
        .args(["remove", "wait-for", "redis-proxy", "deploy/web"]));
    assert_eq!(code, 0, "{err}");
    let after = live.api.get("shop", "web");
    assert_eq!(init_names(&after), ["migrate"]);
    assert_eq!(user_fields(&after), user_fields(&original));
}

/// L13: a controller's status write between the read and the apply costs one re-read and an
/// immediate retry (no backoff), and the other write is kept.
#[test]
fn a_status_write_in_between_is_retried_without_losing_it() {
    let live = Live::with_web();
    live.api
        .interfere(|d: &mut Value| d["status"]["readyReplicas"] = json!(1), 1);
    let (code, out, err) = run(live.cmd().args(["add", "log-shipper", "deploy/web"]));
    assert_eq!(code, 0, "{err}");
    assert!(
        out.starts_with("deployment.apps/web patched: added log-shipper"),
        "{out}"
    );
    assert_eq!(live.patches().len(), 2, "one 409, one retry");
    let gets = live
        .api
        .requests()
        .iter()
        .filter(|r| r.method == "GET" && r.path == WEB)
        .count();
    assert_eq!(gets, 2);
    assert_eq!(init_names(&live.api.get("shop", "web")), ["log-shipper"]);
}
