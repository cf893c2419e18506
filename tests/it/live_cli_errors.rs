//! Live mode failures end to end, against the fake API server: refused writes, missing
//! objects, an unreachable server, and objects that change while the binary patches them.

use crate::common::fake_api;
use crate::common::live::{Live, WEB, names, run};
use serde_json::Value;

#[test]
fn forbidden_names_verb_resource_and_the_can_i_check() {
    let live = Live::with_web();
    let before = live.api.get("shop", "web");
    live.api.fail(
        "PATCH",
        1,
        403,
        "Forbidden",
        "deployments.apps \"web\" is forbidden: User \"dev\" cannot patch resource \"deployments\" in API group \"apps\" in the namespace \"shop\"",
    );
    let (code, out, err) = run(live.cmd().args(["add", "log-shipper", "deploy/web"]));
    assert_eq!(code, 1, "{err}");
    assert_eq!(out, "");
    assert!(
        err.contains("error: forbidden: cannot patch deployment.apps/web in namespace shop: deployments.apps \"web\" is forbidden"),
        "{err}"
    );
    assert!(
        err.contains("check with: kubectl auth can-i patch deployments.apps -n shop"),
        "{err}"
    );
    assert_eq!(live.patches().len(), 1, "a 403 is not retried");
    assert_eq!(live.api.get("shop", "web"), before);
}

#[test]
fn an_unknown_deployment_is_reported_not_found() {
    let live = Live::with_web();
    let (code, out, err) =
        run(live
            .cmd()
            .args(["add", "log-shipper", "deploy/nope", "-n", "shop"]));
    assert_eq!(code, 1, "{err}");
    assert_eq!(out, "");
    assert!(
        err.contains("error: deployment.apps/nope in namespace shop not found"),
        "{err}"
    );
    assert!(live.patches().is_empty());
}

/// `--request-timeout` and `--timeout` take kubectl's durations (`1m30s`): they parse, and the
/// run gets as far as the connection; a bad one is a usage error before any connection.
#[test]
fn timeouts_take_kubectl_durations() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let home = tempfile::tempdir().unwrap();
    let kubeconfig = fake_api::kubeconfig_for(&format!("http://127.0.0.1:{port}"), home.path());
    let run_with = |flags: &[&str]| {
        run(crate::common::bin()
            .args(["add", "log-shipper", "deploy/web", "--wait"])
            .args(flags)
            .env("KUBECONFIG", &kubeconfig)
            .env("HOME", home.path()))
    };
    for flags in [
        ["--request-timeout", "1m30s", "--timeout", "1m30s"],
        ["--request-timeout", "30", "--timeout", "0"],
    ] {
        let (code, _, err) = run_with(&flags);
        assert_eq!(code, 1, "{flags:?}: {err}");
        assert!(
            err.contains("cannot reach the API server"),
            "{flags:?}: {err}"
        );
    }
    for (flags, needle) in [
        (
            ["--request-timeout", "1x", "--timeout", "5m"],
            "--request-timeout",
        ),
        (["--request-timeout", "0", "--timeout", "30"], "has no unit"),
    ] {
        let (code, _, err) = run_with(&flags);
        assert_eq!(code, 2, "{flags:?}: {err}");
        assert!(err.contains(needle), "{flags:?}: {err}");
    }
}

#[test]
fn an_unreachable_server_is_named_with_its_context() {
    // A port nobody listens on any more.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let home = tempfile::tempdir().unwrap();
    let server = format!("http://127.0.0.1:{port}");
    let kubeconfig = fake_api::kubeconfig_for(&server, home.path());
    let (code, out, err) = run(crate::common::bin()
        .args(["add", "log-shipper", "deploy/web"])
        .env("KUBECONFIG", &kubeconfig)
        .env("HOME", home.path()));
    assert_eq!(code, 1, "{err}");
    assert_eq!(out, "");
    assert!(err.contains("cannot reach the API server"), "{err}");
    assert!(
        err.contains(&format!("API server {server} (context fake)")),
        "names the server as written in the kubeconfig, and the context: {err}"
    );
}

#[test]
fn a_stale_write_is_retried_with_backoff_and_keeps_the_other_change() {
    let live = Live::with_web();
    // Another client labels the object right before each of the first two patches.
    live.api.interfere(
        |d: &mut Value| {
            let n = d["metadata"]["labels"]["touched"]
                .as_str()
                .unwrap_or("0")
                .parse::<u32>()
                .unwrap_or(0);
            d["metadata"]["labels"]["touched"] = Value::String((n + 1).to_string());
        },
        2,
    );
    let (code, out, err) = run(live.cmd().args(["add", "log-shipper", "deploy/web"]));
    assert_eq!(code, 0, "{err}");
    assert!(
        out.starts_with("deployment.apps/web patched: added log-shipper"),
        "{out}"
    );
    let patches = live.patches();
    assert_eq!(patches.len(), 3);
    // Each attempt carries the resourceVersion it read: re-read after every 409.
    let rvs: Vec<String> = patches
        .iter()
        .map(|p| {
            p.json()["metadata"]["resourceVersion"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(rvs, ["101", "102", "103"]);
    let gets = live
        .api
        .requests()
        .iter()
        .filter(|r| r.method == "GET" && r.path == WEB)
        .count();
    assert_eq!(gets, 3, "one read, then one after each conflict");
    // The backoff between the attempts (200 ms, doubling) is checked on tokio's paused clock
    // in live_conflicts.rs.
    let stored = live.api.get("shop", "web");
    assert_eq!(
        stored["metadata"]["labels"]["touched"], "2",
        "the other change is kept"
    );
    assert_eq!(
        names(&stored["spec"]["template"]["spec"]["initContainers"]),
        ["log-shipper"]
    );
}

#[test]
fn an_object_that_keeps_changing_is_reported_after_the_last_attempt() {
    let live = Live::with_web();
    live.api.interfere(
        |d: &mut Value| {
            d["metadata"]["annotations"]["other"] = Value::String("x".into());
        },
        10,
    );
    let (code, out, err) = run(live.cmd().args(["add", "log-shipper", "deploy/web"]));
    assert_eq!(code, 1, "{err}");
    assert_eq!(out, "");
    assert!(
        err.contains(
            "deployment.apps/web was modified by someone else 5 times while we patched it"
        ),
        "{err}"
    );
    assert_eq!(live.patches().len(), 5);
    let stored = live.api.get("shop", "web");
    assert!(
        stored["spec"]["template"]["spec"]
            .get("initContainers")
            .is_none()
    );
}

#[test]
fn one_failure_among_several_objects_fails_the_run_but_not_the_others() {
    let live = Live::new();
    for name in ["web-a", "web-b"] {
        live.api
            .insert(crate::common::live::deployment(name, "web"));
    }
    live.api
        .fail("PATCH", 1, 403, "Forbidden", "patch is not allowed");
    let (code, out, err) = run(live.cmd().args([
        "add",
        "log-shipper",
        "deploy",
        "-l",
        "app=web",
        "--concurrency",
        "1",
    ]));
    assert_eq!(code, 1, "{err}");
    assert_eq!(out.lines().count(), 1, "{out}");
    assert!(out.starts_with("deployment.apps/web-b patched"), "{out}");
    assert!(
        err.contains("error: forbidden: cannot patch deployment.apps/web-a"),
        "{err}"
    );
    assert!(err.contains("1 patched, 0 unchanged, 1 failed"), "{err}");
    let spec = |name: &str| live.api.get("shop", name)["spec"]["template"]["spec"].clone();
    assert!(spec("web-a").get("initContainers").is_none());
    assert_eq!(names(&spec("web-b")["initContainers"]), ["log-shipper"]);
}
