//! Live mode against a mocked API server when writes go wrong: a stale resourceVersion is read
//! again and retried with backoff, a field-ownership conflict is not retried and names the
//! owner, --force-conflicts sends force=true, 403 and 404 name what failed.

use crate::apiserver::{
    applied, deployment, deployment_path, log_shipper, names, next, one, opts, pod_spec, reply,
    run, serve_get_then_apply, shop, status, web,
};
use kubectl_pattern::cluster::error::ClusterError;
use kubectl_pattern::cluster::live::LiveOptions;
use serde_json::{Value, json};

/// The real API server's answer to an apply on a stale resourceVersion (Kubernetes 1.36).
fn modified_409() -> Value {
    crate::common::k8s_fixture("ssa-stale-resourceversion-409.json")
}

#[tokio::test]
async fn a_stale_write_is_read_again_and_retried() {
    let (conn, mut handle) = crate::apiserver::connect();
    let server = tokio::spawn(async move {
        let path = deployment_path("shop", "web");
        let (_, tx) = next(&mut handle).await;
        reply(tx, 200, &deployment("shop", "web", "10"));
        let (first, tx) = next(&mut handle).await;
        reply(tx, 409, &modified_409());
        // Meanwhile someone scaled the app and added a container of their own.
        let mut newer = deployment("shop", "web", "11");
        newer["spec"]["replicas"] = json!(5);
        newer["spec"]["template"]["spec"]["containers"]
            .as_array_mut()
            .expect("containers")
            .push(json!({"name": "metrics", "image": "prom/statsd-exporter:v0.28.0"}));
        let (reget, tx) = next(&mut handle).await;
        reget.assert_get(&path);
        reply(tx, 200, &newer);
        let (second, tx) = next(&mut handle).await;
        reply(
            tx,
            200,
            &crate::apiserver::applied(&newer, &second.body, "kubectl-pattern", "12"),
        );
        crate::apiserver::assert_no_more(&mut handle).await;
        (first, second)
    });
    let outcome = one(run(conn, web(), shop(), log_shipper(), opts()).await).expect("retried");
    let (first, second) = server.await.expect("served");
    let path = deployment_path("shop", "web");
    first.assert_apply(&path, &[]);
    second.assert_apply(&path, &[]);
    assert_eq!(first.body["metadata"]["resourceVersion"], "10");
    assert_eq!(second.body["metadata"]["resourceVersion"], "11");
    // The other writer's changes are not sent back (so not lost): only our fields.
    assert!(
        !second.body.to_string().contains("metrics"),
        "{}",
        second.body
    );
    assert!(second.body["spec"].get("replicas").is_none());
    assert_eq!(outcome.after["spec"]["replicas"], 5);
    assert_eq!(
        names(&pod_spec(&outcome.after)["containers"]),
        ["web", "metrics"]
    );
}

#[tokio::test]
async fn a_write_that_keeps_going_stale_gives_up_after_the_attempts() {
    let (conn, mut handle) = crate::apiserver::connect();
    let server = tokio::spawn(async move {
        for rv in ["20", "21"] {
            let (get, tx) = next(&mut handle).await;
            assert_eq!(get.method, "GET");
            reply(tx, 200, &deployment("shop", "web", rv));
            let (patch, tx) = next(&mut handle).await;
            assert_eq!(patch.body["metadata"]["resourceVersion"], rv);
            reply(tx, 409, &modified_409());
        }
        crate::apiserver::assert_no_more(&mut handle).await;
    });
    let two = LiveOptions {
        attempts: 2,
        ..opts()
    };
    let err = one(run(conn, web(), shop(), log_shipper(), two).await).expect_err("gave up");
    server.await.expect("served");
    assert!(
        matches!(err, ClusterError::Modified { attempts: 2, .. }),
        "{err:?}"
    );
    assert!(
        err.to_string().contains("modified by someone else 2 times"),
        "{err}"
    );
}

/// A deployment whose pod template another writer changed (a new image) `n` times.
fn edited_template(rv: &str, n: usize) -> Value {
    let mut d = deployment("shop", "web", rv);
    d["spec"]["template"]["spec"]["containers"][0]["image"] = json!(format!("nginx:1.27.{n}"));
    d
}

/// When another writer keeps changing the pod template, the retries back off 200 ms, then
/// 400 ms (the default schedule), on tokio's paused clock.
#[tokio::test(start_paused = true)]
async fn retries_back_off_doubling_from_200_ms() {
    let (conn, mut handle) = crate::apiserver::connect();
    let server = tokio::spawn(async move {
        let mut seen = Vec::new();
        for (n, rv) in ["30", "31", "32"].into_iter().enumerate() {
            let (_, tx) = next(&mut handle).await;
            reply(tx, 200, &edited_template(rv, n));
            let (patch, tx) = next(&mut handle).await;
            seen.push(tokio::time::Instant::now());
            reply(tx, 409, &modified_409());
            let _ = patch;
        }
        crate::apiserver::assert_no_more(&mut handle).await;
        seen
    });
    let three = LiveOptions {
        attempts: 3,
        ..LiveOptions::default()
    };
    assert_eq!(three.backoff, std::time::Duration::from_millis(200));
    let err = one(run(conn, web(), shop(), log_shipper(), three).await).expect_err("gave up");
    assert!(
        matches!(err, ClusterError::Modified { attempts: 3, .. }),
        "{err:?}"
    );
    let seen = server.await.expect("served");
    let gaps: Vec<u128> = seen.windows(2).map(|w| (w[1] - w[0]).as_millis()).collect();
    assert_eq!(
        gaps,
        [200, 400],
        "the attempts' spacing on the paused clock"
    );
}

/// The controllers' status writes move the resourceVersion but not the pod template: the apply
/// is retried at once on the object read again (one 409 costs a GET and a PATCH, no backoff);
/// a second such 409 backs off, so a writer that never settles is not hammered.
#[tokio::test(start_paused = true)]
async fn a_status_only_change_is_retried_at_once_then_with_backoff() {
    let (conn, mut handle) = crate::apiserver::connect();
    let server = tokio::spawn(async move {
        let mut seen = Vec::new();
        for (i, rv) in ["40", "41", "42"].into_iter().enumerate() {
            let (get, tx) = next(&mut handle).await;
            get.assert_get(&deployment_path("shop", "web"));
            let mut d = deployment("shop", "web", rv);
            d["status"]["observedGeneration"] = json!(2 + i);
            reply(tx, 200, &d);
            let (patch, tx) = next(&mut handle).await;
            assert_eq!(patch.body["metadata"]["resourceVersion"], rv);
            seen.push(tokio::time::Instant::now());
            if i < 2 {
                reply(tx, 409, &modified_409());
            } else {
                let answer = applied(&d, &patch.body, "kubectl-pattern", "43");
                reply(tx, 200, &answer);
            }
        }
        crate::apiserver::assert_no_more(&mut handle).await;
        seen
    });
    let outcome = one(run(conn, web(), shop(), log_shipper(), LiveOptions::default()).await)
        .expect("patched on the third attempt");
    assert!(outcome.written);
    let seen = server.await.expect("served");
    let gaps: Vec<u128> = seen.windows(2).map(|w| (w[1] - w[0]).as_millis()).collect();
    assert_eq!(
        gaps,
        [0, 400],
        "at once, then the backoff of the second attempt"
    );
}

fn field_conflict_409() -> Value {
    status(
        409,
        "Conflict",
        "Apply failed with 1 conflict: conflict with \"helm\" using apps/v1: .spec.template.spec.initContainers[name=\"log-shipper\"].image",
        Some(
            json!({"name": "web", "group": "apps", "kind": "deployments", "causes": [{
            "reason": "FieldManagerConflict",
            "message": "conflict with \"helm\" using apps/v1",
            "field": ".spec.template.spec.initContainers[name=\"log-shipper\"].image"}]}),
        ),
    )
}

#[tokio::test]
async fn a_field_conflict_is_not_retried_and_names_the_owner() {
    let (conn, mut handle) = crate::apiserver::connect();
    let server = tokio::spawn(async move {
        let (_, tx) = next(&mut handle).await;
        reply(tx, 200, &deployment("shop", "web", "30"));
        let (patch, tx) = next(&mut handle).await;
        reply(tx, 409, &field_conflict_409());
        crate::apiserver::assert_no_more(&mut handle).await;
        patch
    });
    let err = one(run(conn, web(), shop(), log_shipper(), opts()).await).expect_err("conflict");
    let patch = server.await.expect("exactly one apply, no retry");
    assert!(patch.param("force").is_none());
    let text = err.to_string();
    assert!(matches!(err, ClusterError::Conflict { .. }), "{err:?}");
    assert!(
        text.contains("deployment.apps/web in namespace shop"),
        "{text}"
    );
    assert!(
        text.contains(
            ".spec.template.spec.initContainers[name=\"log-shipper\"].image (owned by helm)"
        ),
        "{text}"
    );
    assert!(text.contains("--force-conflicts"), "{text}");
}

#[tokio::test]
async fn force_conflicts_sends_force_true() {
    let (conn, handle) = crate::apiserver::connect();
    let server = tokio::spawn(serve_get_then_apply(
        handle,
        deployment("shop", "web", "31"),
    ));
    let force = LiveOptions {
        force_conflicts: true,
        ..opts()
    };
    one(run(conn, web(), shop(), log_shipper(), force).await).expect("forced");
    let (_, patch) = server.await.expect("served");
    patch.assert_apply(&deployment_path("shop", "web"), &[("force", "true")]);
}

#[tokio::test]
async fn forbidden_names_the_verb_the_resource_and_the_check() {
    let (conn, mut handle) = crate::apiserver::connect();
    let server = tokio::spawn(async move {
        let (_, tx) = next(&mut handle).await;
        reply(tx, 200, &deployment("shop", "web", "40"));
        let (_, tx) = next(&mut handle).await;
        reply(
            tx,
            403,
            &status(
                403,
                "Forbidden",
                "deployments.apps \"web\" is forbidden: User \"dev\" cannot patch resource \"deployments\" in API group \"apps\" in the namespace \"shop\"",
                Some(json!({"name": "web", "group": "apps", "kind": "deployments"})),
            ),
        );
        crate::apiserver::assert_no_more(&mut handle).await;
    });
    let err = one(run(conn, web(), shop(), log_shipper(), opts()).await).expect_err("forbidden");
    server.await.expect("no retry after 403");
    let text = err.to_string();
    assert!(
        matches!(err, ClusterError::Forbidden { verb: "patch", .. }),
        "{err:?}"
    );
    assert!(
        text.contains("cannot patch deployment.apps/web in namespace shop"),
        "{text}"
    );
    assert!(text.contains("User \"dev\" cannot patch"), "{text}");
    assert!(
        text.contains("kubectl auth can-i patch deployments.apps -n shop"),
        "{text}"
    );
}

#[tokio::test]
async fn a_missing_object_is_named() {
    let (conn, mut handle) = crate::apiserver::connect();
    let server = tokio::spawn(async move {
        let (_, tx) = next(&mut handle).await;
        reply(
            tx,
            404,
            &status(404, "NotFound", "deployments.apps \"web\" not found", None),
        );
        crate::apiserver::assert_no_more(&mut handle).await;
    });
    let err = one(run(conn, web(), shop(), log_shipper(), opts()).await).expect_err("missing");
    server.await.expect("served");
    assert_eq!(
        err.to_string(),
        "deployment.apps/web in namespace shop not found"
    );
}
