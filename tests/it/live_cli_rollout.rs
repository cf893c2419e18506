//! `--wait` end to end against the fake API server: the rollout followed through a watch with
//! plain progress lines (no TTY), and a failed rollout reported with its condition's message.

use crate::common::live::{Live, run};
use serde_json::json;

#[test]
fn wait_follows_the_rollout_through_a_watch() {
    let live = Live::with_web();
    live.api.script_rollout(vec![
        json!({"replicas": 3, "updatedReplicas": 1, "readyReplicas": 2, "availableReplicas": 2}),
        json!({"replicas": 2, "updatedReplicas": 2, "readyReplicas": 1, "availableReplicas": 1}),
        json!({"replicas": 2, "updatedReplicas": 2, "readyReplicas": 2, "availableReplicas": 2}),
    ]);
    let (code, out, err) = run(live.cmd().args([
        "add",
        "log-shipper",
        "deploy/web",
        "--wait",
        "--timeout",
        "30s",
    ]));
    assert_eq!(code, 0, "{err}");
    assert!(
        out.starts_with("deployment.apps/web patched: added log-shipper"),
        "{out}"
    );
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(
        lines,
        [
            "deployment.apps/web: waiting for the controller to see the new spec",
            "deployment.apps/web: 1 of 2 new replicas updated",
            "deployment.apps/web: 1 of 2 updated replicas available",
            "deployment.apps/web: 2 of 2 updated replicas available",
            "deployment.apps/web rolled out",
        ],
        "{err}"
    );
    // No progress bar escape codes without a terminal.
    assert!(!err.contains('\u{1b}'), "{err:?}");
    let watches: Vec<_> = live
        .api
        .requests()
        .into_iter()
        .filter(|r| r.param("watch").is_some())
        .collect();
    assert_eq!(watches.len(), 1);
    assert_eq!(watches[0].path, "/apis/apps/v1/namespaces/shop/deployments");
    assert_eq!(watches[0].param("fieldSelector"), Some("metadata.name=web"));
    // The patch was made on version 101 and stored as 102; the watch starts from there.
    assert_eq!(
        live.patches()[0].json()["metadata"]["resourceVersion"],
        "101"
    );
    assert_eq!(watches[0].param("resourceVersion"), Some("102"));
}

#[test]
fn a_progress_deadline_fails_with_the_conditions_message_and_the_pods_event() {
    let live = Live::with_web();
    live.api.script_rollout(vec![json!({
        "replicas": 3, "updatedReplicas": 1, "readyReplicas": 2, "availableReplicas": 2,
        "conditions": [{"type": "Progressing", "status": "False",
            "reason": "ProgressDeadlineExceeded",
            "message": "ReplicaSet \"web-6d5f8\" has timed out progressing."}]})]);
    live.api.serve_list(
        "/api/v1/namespaces/shop/pods",
        "PodList",
        vec![
            json!({"metadata": {"name": "web-6d5f8-x2k4p", "namespace": "shop",
            "creationTimestamp": "2025-01-02T00:00:00Z", "labels": {"app": "web"}}}),
        ],
    );
    live.api.serve_list(
        "/api/v1/namespaces/shop/events",
        "EventList",
        vec![
            json!({"metadata": {"name": "web-6d5f8-x2k4p.1", "namespace": "shop"},
            "involvedObject": {"kind": "Pod", "name": "web-6d5f8-x2k4p", "namespace": "shop"},
            "type": "Warning", "reason": "Failed",
            "message": "Failed to pull image \"cr.fluentbit.io/fluent/fluent-bit:3.2.4\"",
            "lastTimestamp": "2025-01-02T00:01:00Z"}),
        ],
    );
    let (code, out, err) = run(live
        .cmd()
        .args(["add", "log-shipper", "deploy/web", "--wait"]));
    assert_eq!(code, 1, "{err}");
    assert!(out.starts_with("deployment.apps/web patched"), "{out}");
    assert!(
        err.contains("error: deployment.apps/web: rollout failed: ReplicaSet \"web-6d5f8\" has timed out progressing."),
        "{err}"
    );
    assert!(
        err.contains("newest pod: pod web-6d5f8-x2k4p: Failed Failed to pull image"),
        "{err}"
    );
    assert!(!err.contains("rolled out"), "{err}");
    let pods = live
        .api
        .requests()
        .into_iter()
        .find(|r| r.path == "/api/v1/namespaces/shop/pods")
        .expect("the pods were listed");
    assert_eq!(pods.param("labelSelector"), Some("app=web"));
}
