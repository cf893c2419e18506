//! The helper rules the recorded pods (a native sidecar) do not reach: classic init helpers,
//! classic sidecars, pods not started yet or finished, and a helper removed at admission.

use std::collections::BTreeSet;

use k8s_openapi::jiff::Timestamp;
use serde_json::{Value, json};

use super::*;
use crate::resource::Resource;

fn pod(phase: &str, init: Value, containers: Value, statuses: Value) -> Pod {
    serde_json::from_value(json!({
        "metadata": {"name": "web-1", "namespace": "shop"},
        "spec": {"initContainers": init, "containers": containers},
        "status": {"phase": phase, "initContainerStatuses": statuses["init"],
                   "containerStatuses": statuses["app"]}
    }))
    .unwrap()
}

fn status(name: &str, state: Value, ready: bool, started: Option<bool>) -> Value {
    json!({"name": name, "state": state, "lastState": {}, "ready": ready, "restartCount": 0,
           "image": "busybox:1.37.0", "imageID": "", "started": started})
}

fn findings(pod: &Pod, helper: &str) -> Vec<(Severity, Check, String)> {
    let owner = Owner::new(Resource::Deployment, "web", "shop");
    let scope = PodScope {
        owner: &owner,
        nodes: None,
        events: &[],
        window: Window {
            now: "2026-12-01T21:10:00Z".parse::<Timestamp>().unwrap(),
            since: None,
        },
        old_pods: &BTreeSet::new(),
    };
    let expected = [Expected {
        name: helper.into(),
        source: Source::Record {
            pattern: "wait-for".into(),
            instance: "wait-for".into(),
        },
    }];
    check_pod(&scope, pod, &expected)
        .into_iter()
        .map(|f| (f.severity, f.check, f.message))
        .collect()
}

fn app() -> Value {
    json!([{"name": "web", "image": "nginx:1.27.3"}])
}

#[test]
fn a_classic_init_helper_must_finish_with_exit_code_0() {
    let init = json!([{"name": "wait-for", "image": "busybox:1.37.0"}]);
    let app_status = json!([status("web", json!({"running": {}}), true, Some(true))]);
    let with = |state: Value, phase: &str| {
        let statuses = json!({"init": [status("wait-for", state, false, Some(false))],
                              "app": app_status});
        pod(phase, init.clone(), app(), statuses)
    };
    let done = json!({"terminated": {"exitCode": 0, "reason": "Completed"}});
    assert!(findings(&with(done, "Running"), "wait-for").is_empty());
    let failed = json!({"terminated": {"exitCode": 2, "reason": "Error"}});
    assert_eq!(
        findings(&with(failed, "Pending"), "wait-for"),
        [(
            Severity::Error,
            Check::HelperInitFailed,
            "wait-for init container failed: Error (exit code 2)".into()
        )]
    );
    let busy = json!({"running": {"startedAt": "2026-12-01T21:06:47Z"}});
    assert_eq!(
        findings(&with(busy, "Pending"), "wait-for"),
        [(
            Severity::Warning,
            Check::HelperNotReady,
            "wait-for has not finished yet; the app starts when it does".into()
        )]
    );
}

#[test]
fn a_classic_sidecar_must_run_started_and_ready() {
    let containers = json!([{"name": "web", "image": "nginx:1.27.3"},
                            {"name": "proxy", "image": "envoy:1.32.1"}]);
    let with = |state: Value, ready: bool, started: Option<bool>| {
        let statuses = json!({"app": [status("web", json!({"running": {}}), true, Some(true)),
                                      status("proxy", state, ready, started)]});
        pod("Running", json!([]), containers.clone(), statuses)
    };
    let running = json!({"running": {}});
    assert!(findings(&with(running.clone(), true, Some(true)), "proxy").is_empty());
    assert_eq!(
        findings(&with(running.clone(), false, Some(true)), "proxy")[0].1,
        Check::HelperNotReady
    );
    assert_eq!(
        findings(&with(running, false, Some(false)), "proxy")[0].1,
        Check::HelperNotStarted
    );
    let exited = json!({"terminated": {"exitCode": 0, "reason": "Completed"}});
    assert_eq!(
        findings(&with(exited, false, Some(false)), "proxy"),
        [(
            Severity::Error,
            Check::HelperTerminated,
            "proxy terminated: Completed (exit code 0)".into()
        )]
    );
    let creating = json!({"waiting": {"reason": "ContainerCreating"}});
    assert_eq!(
        findings(&with(creating, false, Some(false)), "proxy")[0].0,
        Severity::Warning
    );
}

#[test]
fn pods_not_started_yet_warn_and_finished_pods_are_left_alone() {
    let containers = json!([{"name": "web", "image": "nginx:1.27.3"},
                            {"name": "proxy", "image": "envoy:1.32.1"}]);
    let pending = pod("Pending", json!([]), containers.clone(), json!({}));
    assert_eq!(
        findings(&pending, "proxy"),
        [(
            Severity::Warning,
            Check::HelperNotStarted,
            "proxy has not started yet (the pod is Pending)".into()
        )]
    );
    let done = pod("Succeeded", json!([]), containers, json!({}));
    assert!(findings(&done, "proxy").is_empty());
}

#[test]
fn a_helper_its_own_pod_records_but_lacks_was_removed_at_admission() {
    let mut p = pod("Running", json!([]), app(), json!({}));
    let record = r#"{"version":2,"instances":[{"pattern":"wait-for","instance":"wait-for","version":"1.0.0","paramsHash":"sha256:0","initContainers":["wait-for"]}]}"#;
    p.metadata.annotations = Some([(TRACKING_ANNOTATION.to_string(), record.to_string())].into());
    let found = findings(&p, "wait-for");
    assert_eq!(found[0].1, Check::HelperMissing);
    assert!(
        found[0].2.contains("something removed it at admission"),
        "{}",
        found[0].2
    );
    p.metadata.annotations = None;
    assert_eq!(
        findings(&p, "wait-for")[0].2,
        "wait-for is missing: it was created before wait-for was added to the template"
    );
}
