//! The binary end to end: `kubectl pattern doctor` against the fake API server answering
//! with the recorded responses (healthy, and a crashlooping helper with its probe failures),
//! its text and JSON output, exit codes and usage errors.

use serde_json::{Value, json};

use super::stage::{self, Stage};
use crate::common::live::{Live, run};

/// A fake API server serving the stage's bodies.
fn serve(stage: &Stage) -> Live {
    let live = Live::new();
    for (path, body) in &stage.bodies {
        live.api.serve_body(path, body.clone());
    }
    live
}

#[test]
fn a_healthy_workload_prints_ok_and_exits_0() {
    let live = serve(&Stage::healthy());
    let (code, out, err) = run(live.cmd().args(["doctor", "deploy/web", "-n", "fixtures"]));
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        out,
        "ok: deployment.apps/web: log-shipper healthy in 2 pods\n1 workload, 2 pods: healthy\n"
    );
    // No terminal: no spinner, nothing on stderr.
    assert_eq!(err, "");
    let gets: Vec<String> = live.api.requests().iter().map(|r| r.path.clone()).collect();
    assert!(gets.contains(&stage::PODS.to_string()), "{gets:?}");
}

#[test]
fn a_crashlooping_helper_prints_one_line_per_finding_with_its_fix_and_exits_1() {
    let live = serve(&Stage::healthy().crashloop().probe_failure());
    // --since 0: every event the server keeps (the recording's are from 2026-12-01).
    let args = ["doctor", "deploy/web", "-n", "fixtures", "--since", "0"];
    let (code, out, err) = run(live.cmd().args(args));
    assert_eq!(code, 1, "{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines,
        [
            "error: deployment.apps/web: pod web-575fb96457-5pjjl: log-shipper is waiting: CrashLoopBackOff (back-off 5m0s restarting failed container=log-shipper pod=web-575fb96457-5pjjl); restarted 7 times, last terminated: Error (exit code 1). Fix: read why it exits: kubectl logs web-575fb96457-5pjjl -c log-shipper -n fixtures --previous",
            "error: deployment.apps/web: pod web-575fb96457-5pjjl: log-shipper: Unhealthy 3 times: Liveness probe failed: HTTP probe failed with statuscode: 500. Fix: check its probe against what it serves: kubectl logs web-575fb96457-5pjjl -c log-shipper -n fixtures; kubectl describe pod web-575fb96457-5pjjl -n fixtures",
            "1 workload, 2 pods: 2 errors, 0 warnings",
        ]
    );
    assert_eq!(err, "");

    let (code, out, _) = run(live.cmd().args(args).args(["-o", "json"]));
    assert_eq!(code, 1);
    let report: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        report["summary"],
        json!({"workloads": 1, "skipped": 0, "pods": 2, "errors": 2, "warnings": 0, "healthy": false})
    );
    assert_eq!(
        report["findings"][0],
        json!({"severity": "error", "check": "helper-waiting", "namespace": "fixtures",
            "object": "deployment.apps/web", "pod": "web-575fb96457-5pjjl",
            "container": "log-shipper",
            "message": "log-shipper is waiting: CrashLoopBackOff (back-off 5m0s restarting failed container=log-shipper pod=web-575fb96457-5pjjl); restarted 7 times, last terminated: Error (exit code 1)",
            "fix": "read why it exits: kubectl logs web-575fb96457-5pjjl -c log-shipper -n fixtures --previous"})
    );
    assert_eq!(report["workloads"][0]["helpers"], json!(["log-shipper"]));
}

#[test]
fn all_namespaces_prefix_each_object_with_its_namespace() {
    let stage = Stage::healthy().old_kubelet();
    let live = serve(&stage);
    let deployment = stage.bodies[stage::DEPLOYMENT].clone();
    live.api.serve_body(
        "/apis/apps/v1/deployments",
        stage::list("DeploymentList", "apps/v1", vec![deployment]),
    );
    let (code, out, err) = run(live.cmd().args(["doctor", "deploy", "-l", "app=web", "-A"]));
    assert_eq!(code, 1, "{err}");
    assert!(
        out.starts_with("error: fixtures/deployment.apps/web: pod web-575fb96457-9cqf6: log-shipper is a native sidecar, but node kwok-node-1 runs kubelet v1.28.9"),
        "{out}"
    );
    assert!(
        out.ends_with("\n1 workload, 2 pods: 1 error, 0 warnings\n"),
        "{out}"
    );
    let list = live
        .api
        .requests()
        .into_iter()
        .find(|r| r.path == "/apis/apps/v1/deployments")
        .unwrap();
    assert_eq!(list.param("labelSelector"), Some("app=web"));
}

#[test]
fn doctor_needs_workloads_and_documents_itself() {
    let live = Live::new();
    let (code, _, err) = run(live.cmd().arg("doctor"));
    assert_eq!(code, 2);
    assert!(
        err.contains("name the workloads to check: TYPE/NAME (deploy/web)"),
        "{err}"
    );
    let (code, _, err) = run(live.cmd().args(["doctor", "web"]));
    assert_eq!(code, 2);
    assert!(
        err.contains("\"web\": expected TYPE/NAME (e.g. deploy/web)"),
        "{err}"
    );
    let (code, _, err) = run(live.cmd().args(["doctor", "deploy/web", "--since", "10"]));
    assert_eq!(code, 2);
    assert!(err.contains("has no unit"), "{err}");
    assert!(live.api.requests().is_empty());
    let (code, help, _) = run(live.cmd().args(["doctor", "--help"]));
    assert_eq!(code, 0);
    assert!(
        help.contains("Examples:\n  # One Deployment\n  kubectl pattern doctor deploy/web -n shop"),
        "{help}"
    );
    assert!(help.contains("--since <DURATION>"), "{help}");
}

#[test]
fn a_terminal_sees_what_is_being_checked() {
    let live = serve(&Stage::healthy());
    let kubeconfig = live.api.kubeconfig(live.home.path());
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_kubectl-pattern"));
    cmd.args(["doctor", "deploy/web", "-n", "fixtures"])
        .env("KUBECONFIG", kubeconfig)
        .env("HOME", live.home.path())
        .env("NO_COLOR", "1")
        .env("TERM", "xterm")
        .env_remove("KUBERNETES_SERVICE_HOST");
    let mut p = rexpect::spawn_with_options(
        cmd,
        rexpect::reader::Options::new()
            .timeout_ms(Some(30_000))
            .strip_ansi_escape_codes(true),
    )
    .unwrap();
    // The spinner names what is being read (the injector, then each workload).
    p.exp_string("checking ").unwrap();
    p.exp_string("ok: deployment.apps/web: log-shipper healthy in 2 pods")
        .unwrap();
    p.exp_eof().unwrap();
}
