//! `--wait` against a mocked API server: a GET shows the rollout, then a watch on the one
//! object (fieldSelector, resourceVersion) streams MODIFIED events until the rollout completes;
//! a progress deadline or the timeout ends in a Rollout error with the condition's message and
//! the newest pod's last warning event.

use std::sync::Mutex;
use std::time::Duration;

use crate::apiserver::{Handle, deployment, deployment_path, next, reply, reply_events};
use kubectl_pattern::cluster::error::ClusterError;
use kubectl_pattern::cluster::live::Target;
use kubectl_pattern::cluster::resource::Resource;
use kubectl_pattern::cluster::rollout::{self, RolloutState};
use serde_json::{Value, json};

fn target() -> Target {
    Target {
        resource: Resource::Deployment,
        namespace: "shop".into(),
        name: "web".into(),
        object: None,
    }
}

/// deployment/web mid-rollout to generation 3: `replicas` pods in all, `updated` of them on the
/// new template, `available` available.
fn rolling(rv: &str, replicas: i64, updated: i64, available: i64) -> Value {
    let mut d = deployment("shop", "web", rv);
    d["metadata"]["generation"] = json!(3);
    d["status"] = json!({"observedGeneration": 3, "replicas": replicas,
        "updatedReplicas": updated, "readyReplicas": available, "availableReplicas": available,
        "conditions": [{"type": "Progressing", "status": "True",
                        "reason": "ReplicaSetUpdated",
                        "message": "ReplicaSet \"web-7c9d8f6b5\" is progressing."}]});
    d
}

/// Asserts the watch request of deployment/web from `rv`.
fn assert_watch(seen: &crate::apiserver::Seen, rv: &str) {
    assert_eq!(
        (seen.method.as_str(), seen.path.as_str()),
        ("GET", "/apis/apps/v1/namespaces/shop/deployments")
    );
    assert_eq!(seen.param("watch"), Some("true"));
    assert_eq!(seen.param("fieldSelector"), Some("metadata.name=web"));
    assert_eq!(seen.param("resourceVersion"), Some(rv));
}

/// Records every state `wait` reports.
#[derive(Default)]
struct Seen(Mutex<Vec<RolloutState>>);

impl Seen {
    fn callback(&self) -> impl Fn(&Target, &RolloutState) + Send + Sync + '_ {
        |target, state| {
            assert_eq!(target.name, "web");
            self.0.lock().expect("not poisoned").push(state.clone());
        }
    }
    fn messages(&self) -> Vec<(String, bool)> {
        let states = self.0.lock().expect("not poisoned");
        states.iter().map(|s| (s.message.clone(), s.done)).collect()
    }
}

#[tokio::test]
async fn wait_follows_the_watch_until_the_rollout_completes() {
    let (conn, mut handle) = crate::apiserver::connect();
    let server = tokio::spawn(async move {
        let (get, tx) = next(&mut handle).await;
        get.assert_get(&deployment_path("shop", "web"));
        reply(tx, 200, &rolling("300", 4, 1, 3));
        let (watch, tx) = next(&mut handle).await;
        let bookmark = json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"resourceVersion": "303"}});
        reply_events(
            tx,
            &[
                ("MODIFIED", rolling("301", 4, 2, 3)),
                ("MODIFIED", rolling("302", 4, 3, 3)),
                ("BOOKMARK", bookmark),
                ("MODIFIED", rolling("304", 3, 3, 2)),
                ("MODIFIED", rolling("305", 3, 3, 3)),
            ],
        );
        crate::apiserver::assert_no_more(&mut handle).await;
        watch
    });
    let seen = Seen::default();
    let state = rollout::wait(
        &conn,
        &target(),
        Some(Duration::from_secs(30)),
        &seen.callback(),
    )
    .await
    .expect("the rollout completes");
    drop(conn);
    let watch = server.await.expect("one GET and one watch");
    assert_watch(&watch, "300");
    assert!(state.done);
    assert_eq!((state.desired, state.updated, state.ready), (3, 3, 3));
    let progression: Vec<(String, bool)> = [
        ("1 of 3 new replicas updated", false),
        ("2 of 3 new replicas updated", false),
        ("1 old replicas pending termination", false),
        ("2 of 3 updated replicas available", false),
        ("3 of 3 updated replicas available", true),
    ]
    .into_iter()
    .map(|(m, d)| (m.to_string(), d))
    .collect();
    assert_eq!(seen.messages(), progression);
}

#[tokio::test]
async fn a_watch_that_ends_early_is_resumed_from_a_fresh_read() {
    let (conn, mut handle) = crate::apiserver::connect();
    let server = tokio::spawn(async move {
        let (_, tx) = next(&mut handle).await;
        reply(tx, 200, &rolling("500", 4, 1, 3));
        let (first, tx) = next(&mut handle).await;
        // The server closes the watch (its timeout) before the rollout is done.
        reply_events(tx, &[("MODIFIED", rolling("501", 4, 2, 3))]);
        let (get, tx) = next(&mut handle).await;
        get.assert_get(&deployment_path("shop", "web"));
        reply(tx, 200, &rolling("502", 4, 3, 3));
        let (second, tx) = next(&mut handle).await;
        reply_events(tx, &[("MODIFIED", rolling("503", 3, 3, 3))]);
        crate::apiserver::assert_no_more(&mut handle).await;
        (first, second)
    });
    let seen = Seen::default();
    let state = rollout::wait(
        &conn,
        &target(),
        Some(Duration::from_secs(30)),
        &seen.callback(),
    )
    .await
    .expect("completes");
    drop(conn);
    let (first, second) = server.await.expect("served");
    assert_watch(&first, "500");
    assert_watch(&second, "502");
    assert!(state.done);
    assert_eq!(seen.messages().len(), 4);
}

/// Answers the reads of the failure diagnosis: the Deployment, its pods by the selector's
/// labels, and the newest pod's warning events.
async fn serve_diagnosis(handle: &mut Handle) {
    let (get, tx) = next(handle).await;
    get.assert_get(&deployment_path("shop", "web"));
    reply(tx, 200, &rolling("410", 4, 1, 3));
    let (pods, tx) = next(handle).await;
    assert_eq!(pods.path, "/api/v1/namespaces/shop/pods");
    assert_eq!(pods.param("labelSelector"), Some("app=web"));
    let pod = |name: &str, created: &str| {
        json!({"metadata": {"name": name, "namespace": "shop", "creationTimestamp": created,
                            "labels": {"app": "web"}},
               "spec": {"containers": [{"name": "web", "image": "registry.example.com/shop/web:2.3.1"}]}})
    };
    let list = crate::apiserver::list(
        "PodList",
        "v1",
        "411",
        vec![
            pod("web-5f8b7c6d4-x2x9q", "2026-03-02T09:14:09Z"),
            pod("web-7c9d8f6b5-kq4zt", "2026-03-02T10:00:03Z"),
        ],
    );
    reply(tx, 200, &list);
    let (events, tx) = next(handle).await;
    assert_eq!(events.path, "/api/v1/namespaces/shop/events");
    assert_eq!(
        events.param("fieldSelector"),
        Some("involvedObject.name=web-7c9d8f6b5-kq4zt,involvedObject.kind=Pod,type=Warning")
    );
    let event = |name: &str, reason: &str, message: &str, at: &str| {
        json!({"metadata": {"name": name, "namespace": "shop"},
               "involvedObject": {"kind": "Pod", "name": "web-7c9d8f6b5-kq4zt", "namespace": "shop"},
               "type": "Warning", "reason": reason, "message": message,
               "firstTimestamp": at, "lastTimestamp": at})
    };
    let list = crate::apiserver::list(
        "EventList",
        "v1",
        "412",
        vec![
            event(
                "e1",
                "Failed",
                "Failed to pull image \"fluent/fluent-bit:9.9\": not found",
                "2026-03-02T10:00:05Z",
            ),
            event(
                "e2",
                "BackOff",
                "Back-off pulling image \"fluent/fluent-bit:9.9\"",
                "2026-03-02T10:01:40Z",
            ),
        ],
    );
    reply(tx, 200, &list);
}

#[tokio::test]
async fn a_progress_deadline_fails_with_the_conditions_message_and_the_pods_event() {
    let (conn, mut handle) = crate::apiserver::connect();
    let server = tokio::spawn(async move {
        let (_, tx) = next(&mut handle).await;
        reply(tx, 200, &rolling("400", 4, 1, 3));
        let (watch, tx) = next(&mut handle).await;
        let mut stuck = rolling("401", 4, 1, 3);
        stuck["status"]["conditions"] = json!([{"type": "Progressing", "status": "False",
            "reason": "ProgressDeadlineExceeded",
            "message": "ReplicaSet \"web-7c9d8f6b5\" has timed out progressing."}]);
        reply_events(tx, &[("MODIFIED", stuck)]);
        serve_diagnosis(&mut handle).await;
        crate::apiserver::assert_no_more(&mut handle).await;
        watch
    });
    let seen = Seen::default();
    let err = rollout::wait(
        &conn,
        &target(),
        Some(Duration::from_secs(30)),
        &seen.callback(),
    )
    .await
    .expect_err("the rollout failed");
    drop(conn);
    let watch = server.await.expect("served");
    assert_watch(&watch, "400");
    assert!(matches!(err, ClusterError::Rollout { .. }), "{err:?}");
    assert_eq!(
        err.to_string(),
        "deployment.apps/web: rollout failed: ReplicaSet \"web-7c9d8f6b5\" has timed out progressing.; newest pod: pod web-7c9d8f6b5-kq4zt: BackOff Back-off pulling image \"fluent/fluent-bit:9.9\""
    );
    let last = seen.0.lock().expect("not poisoned").last().cloned();
    assert!(last.is_some_and(|s| s.failed.is_some() && !s.done));
}

/// On tokio's paused clock: the one-second timeout passes without a real second.
#[tokio::test(start_paused = true)]
async fn the_timeout_ends_the_wait_with_the_newest_pods_problem() {
    let (conn, mut handle) = crate::apiserver::connect();
    let server = tokio::spawn(async move {
        let (_, tx) = next(&mut handle).await;
        reply(tx, 200, &rolling("400", 4, 1, 3));
        // The watch stays open without events until the client gives up.
        let (watch, pending) = next(&mut handle).await;
        serve_diagnosis(&mut handle).await;
        drop(pending);
        crate::apiserver::assert_no_more(&mut handle).await;
        watch
    });
    let seen = Seen::default();
    let err = rollout::wait(
        &conn,
        &target(),
        Some(Duration::from_secs(1)),
        &seen.callback(),
    )
    .await
    .expect_err("timed out");
    drop(conn);
    let watch = server.await.expect("served");
    assert_watch(&watch, "400");
    let text = err.to_string();
    assert!(
        text.starts_with("deployment.apps/web: rollout failed: not complete after 1s: pod web-7c9d8f6b5-kq4zt: BackOff"),
        "{text}"
    );
    assert_eq!(
        seen.messages(),
        [("1 of 3 new replicas updated".to_string(), false)]
    );
}
