//! Live mode against a mocked API server: the requests for add, remove, selectors and both dry
//! runs (method, path, patch type, field manager, dry-run parameter, the apply body) are
//! asserted, and that nothing else is sent. The engine runs for real on the objects served.

use crate::apiserver::{
    deployment, deployment_path, log_shipper, names, next, one, opts, pod_spec, reply, run,
    serve_get_then_apply, shop, web,
};
use kubectl_pattern::cluster::live::{DryRun, LiveOptions, Scope, Selection};
use kubectl_pattern::cluster::resource::Resource;
use kubectl_pattern::engine::process::{RemoveAction, Status};
use serde_json::json;
use std::collections::BTreeSet;

const TRACKING: &str = "pattern.kubectl.io/applied";
const NO_PARAMS: &[(&str, &str)] = &[];

#[tokio::test]
async fn add_gets_then_applies_only_the_patterns_fields() {
    let (conn, handle) = crate::apiserver::connect();
    let server = tokio::spawn(serve_get_then_apply(
        handle,
        deployment("shop", "web", "4711"),
    ));
    let outcome = one(run(conn, web(), shop(), log_shipper(), opts()).await).expect("patched");
    let (_, patch) = server.await.expect("the scripted server ran to the end");

    patch.assert_apply(&deployment_path("shop", "web"), &[]);
    let body = &patch.body;
    assert_eq!(
        (&body["apiVersion"], &body["kind"]),
        (&json!("apps/v1"), &json!("Deployment"))
    );
    // Identity plus the resourceVersion read (optimistic locking); no labels or annotations.
    assert_eq!(
        body["metadata"],
        json!({"name": "web", "namespace": "shop", "resourceVersion": "4711"})
    );
    // Only the template: the app's replicas, selector and strategy are not claimed.
    let spec_keys: Vec<&String> = body["spec"].as_object().expect("spec").keys().collect();
    assert_eq!(spec_keys, ["template"]);
    let spec = pod_spec(body);
    assert_eq!(names(&spec["initContainers"]), ["log-shipper"]);
    let helper = &spec["initContainers"][0];
    assert!(
        helper["image"].as_str().is_some_and(|i| !i.is_empty()),
        "{helper}"
    );
    assert_eq!(helper["restartPolicy"], "Always", "a native sidecar");
    // The app container: its name and the pattern's mount, nothing of its own (image, ports).
    let app = &spec["containers"][0];
    let app_keys: Vec<&String> = app.as_object().expect("container").keys().collect();
    assert_eq!(app_keys, ["name", "volumeMounts"], "{app}");
    assert_eq!(app["name"], "web");
    assert_eq!(app["volumeMounts"][0]["mountPath"], "/var/log/app");
    assert_eq!(spec["containers"].as_array().map(Vec::len), Some(1));
    assert!(
        !patch
            .body
            .to_string()
            .contains("registry.example.com/shop/web")
    );
    let tracking = body["spec"]["template"]["metadata"]["annotations"][TRACKING]
        .as_str()
        .expect("the tracking annotation is applied");
    assert!(tracking.contains("log-shipper"), "{tracking}");
    assert!(body["spec"]["template"]["metadata"].get("labels").is_none());

    assert_eq!(outcome.report.status, Status::Changed);
    assert!(outcome.written && outcome.notes.is_empty());
    assert_eq!(outcome.after["metadata"]["resourceVersion"], "4712");
}

#[tokio::test]
async fn remove_applies_what_is_left_without_the_helper() {
    let before = deployment("shop", "web", "5000");
    let both = &[
        ("log-shipper", NO_PARAMS),
        ("wait-for", &[("host", "db.shop.svc")][..]),
    ];
    let live_obj = crate::apiserver::with_patterns(before.clone(), both);
    let (conn, mut handle) = crate::apiserver::connect();
    let after_remove =
        crate::apiserver::with_patterns(before, &[("wait-for", &[("host", "db.shop.svc")][..])]);
    let server = tokio::spawn(async move {
        let (get, tx) = next(&mut handle).await;
        get.assert_get(&deployment_path("shop", "web"));
        reply(tx, 200, &live_obj);
        let (patch, tx) = next(&mut handle).await;
        reply(tx, 200, &after_remove);
        crate::apiserver::assert_no_more(&mut handle).await;
        patch
    });
    let action = RemoveAction {
        names: vec!["log-shipper".into()],
    };
    let outcome = one(run(conn, web(), shop(), action, opts()).await).expect("removed");
    let patch = server.await.expect("the scripted server ran to the end");

    patch.assert_apply(&deployment_path("shop", "web"), &[]);
    assert_eq!(patch.body["metadata"]["resourceVersion"], "5000");
    let spec = pod_spec(&patch.body);
    // wait-for stays claimed; log-shipper, its volumes and the app's mount are left out, so
    // the server deletes the fields only kubectl-pattern owned.
    assert_eq!(names(&spec["initContainers"]), ["wait-for"]);
    assert!(
        spec.get("volumes").is_none() && spec.get("containers").is_none(),
        "{spec}"
    );
    assert!(
        !patch.body.to_string().contains("log-shipper"),
        "{}",
        patch.body
    );
    assert_eq!(outcome.report.status, Status::Changed);
    assert!(outcome.notes.is_empty(), "{:?}", outcome.notes);
}

#[tokio::test]
async fn remove_reports_a_helper_that_another_manager_keeps() {
    let live_obj = crate::apiserver::with_patterns(
        deployment("shop", "web", "5000"),
        &[("log-shipper", NO_PARAMS)],
    );
    let (conn, mut handle) = crate::apiserver::connect();
    let server = tokio::spawn(async move {
        let (_, tx) = next(&mut handle).await;
        reply(tx, 200, &live_obj);
        let (patch, tx) = next(&mut handle).await;
        // The helper was also applied from files by kubectl: the server keeps it.
        let mut kept = live_obj.clone();
        kept["metadata"]["resourceVersion"] = json!("5001");
        reply(tx, 200, &kept);
        patch
    });
    let action = RemoveAction {
        names: vec!["log-shipper".into()],
    };
    let outcome = one(run(conn, web(), shop(), action, opts()).await).expect("applied");
    let patch = server.await.expect("served");
    // Nothing is left to claim: identity only, which releases every field.
    assert_eq!(
        patch.body,
        json!({"apiVersion": "apps/v1", "kind": "Deployment",
               "metadata": {"name": "web", "namespace": "shop", "resourceVersion": "5000"}})
    );
    let notes = outcome.notes.join("\n");
    assert!(
        notes.contains("initContainers entry log-shipper stays"),
        "{notes}"
    );
    assert!(
        notes.contains("volumes entry log-shipper-logs stays"),
        "{notes}"
    );
}

#[tokio::test]
async fn a_selector_lists_once_then_applies_each_item_without_gets() {
    let items = vec![
        deployment("shop", "web", "101"),
        deployment("shop", "api", "102"),
        deployment("shop", "cart", "103"),
        // Already carries the pattern: the engine leaves it unchanged, nothing is sent.
        crate::apiserver::with_patterns(
            deployment("shop", "done", "104"),
            &[("log-shipper", NO_PARAMS)],
        ),
    ];
    let (conn, mut handle) = crate::apiserver::connect();
    let served = items.clone();
    let server = tokio::spawn(async move {
        let (list, tx) = next(&mut handle).await;
        reply(
            tx,
            200,
            &crate::apiserver::list("DeploymentList", "apps/v1", "120", served.clone()),
        );
        let mut applies = Vec::new();
        for _ in 0..3 {
            let (patch, tx) = next(&mut handle).await;
            let name = patch.body["metadata"]["name"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            let live = served
                .iter()
                .find(|d| d["metadata"]["name"] == name.as_str())
                .expect("an apply of a listed object");
            reply(
                tx,
                200,
                &crate::apiserver::applied(live, &patch.body, "kubectl-pattern", "130"),
            );
            applies.push(patch);
        }
        crate::apiserver::assert_no_more(&mut handle).await;
        (list, applies)
    });
    let selection = Selection::Listed {
        types: vec![Resource::Deployment],
        selector: Some("app in (web,api,cart,done),tier=front".into()),
    };
    let results = run(conn, selection, shop(), log_shipper(), opts()).await;
    let (list, applies) = server.await.expect("the scripted server ran to the end");

    assert_eq!(
        (list.method.as_str(), list.path.as_str()),
        ("GET", "/apis/apps/v1/namespaces/shop/deployments")
    );
    assert_eq!(
        list.param("labelSelector"),
        Some("app in (web,api,cart,done),tier=front")
    );
    let mut patched = BTreeSet::new();
    for patch in &applies {
        let name = patch.body["metadata"]["name"].as_str().expect("named");
        patch.assert_apply(&deployment_path("shop", name), &[]);
        // Each apply is locked to the resourceVersion the list returned for that item.
        let listed_rv = items
            .iter()
            .find(|d| d["metadata"]["name"] == name)
            .map(|d| d["metadata"]["resourceVersion"].clone());
        assert_eq!(
            Some(patch.body["metadata"]["resourceVersion"].clone()),
            listed_rv
        );
        assert_eq!(
            names(&pod_spec(&patch.body)["initContainers"]),
            ["log-shipper"]
        );
        patched.insert(name.to_string());
    }
    assert_eq!(
        patched,
        BTreeSet::from(["api".into(), "cart".into(), "web".into()])
    );
    // Results come back in list order.
    let statuses: Vec<(String, Status)> = results
        .into_iter()
        .map(|r| r.expect("processed"))
        .map(|o| (o.target.name, o.report.status))
        .collect();
    assert_eq!(
        statuses,
        [
            ("web".into(), Status::Changed),
            ("api".into(), Status::Changed),
            ("cart".into(), Status::Changed),
            ("done".into(), Status::Unchanged)
        ]
    );
}

#[tokio::test]
async fn all_namespaces_lists_cluster_wide_and_applies_in_each_items_namespace() {
    let items = vec![
        deployment("shop", "web", "7"),
        deployment("blog", "web", "8"),
    ];
    let (conn, mut handle) = crate::apiserver::connect();
    let served = items.clone();
    let server = tokio::spawn(async move {
        let (list, tx) = next(&mut handle).await;
        reply(
            tx,
            200,
            &crate::apiserver::list("DeploymentList", "apps/v1", "9", served.clone()),
        );
        let mut paths = BTreeSet::new();
        for _ in 0..2 {
            let (patch, tx) = next(&mut handle).await;
            let ns = patch.body["metadata"]["namespace"]
                .as_str()
                .unwrap_or_default();
            let live = served
                .iter()
                .find(|d| d["metadata"]["namespace"] == ns)
                .expect("listed");
            reply(
                tx,
                200,
                &crate::apiserver::applied(live, &patch.body, "kubectl-pattern", "10"),
            );
            patch.assert_apply(&patch.path, &[]);
            paths.insert(patch.path.clone());
        }
        (list, paths)
    });
    let selection = Selection::Listed {
        types: vec![Resource::Deployment],
        selector: Some("app=web".into()),
    };
    let results = run(conn, selection, Scope::All, log_shipper(), opts()).await;
    let (list, paths) = server.await.expect("served");
    assert_eq!(list.path, "/apis/apps/v1/deployments");
    assert_eq!(list.param("labelSelector"), Some("app=web"));
    assert_eq!(
        paths,
        BTreeSet::from([
            deployment_path("blog", "web"),
            deployment_path("shop", "web")
        ])
    );
    assert!(results.iter().all(|r| r.as_ref().is_ok_and(|o| o.written)));
}

#[tokio::test]
async fn dry_run_server_sends_the_same_apply_with_dry_run_all() {
    let live_obj = deployment("shop", "web", "4711");
    let (conn, handle) = crate::apiserver::connect();
    let server = tokio::spawn(serve_get_then_apply(handle, live_obj.clone()));
    one(run(conn, web(), shop(), log_shipper(), opts()).await).expect("patched");
    let (_, real) = server.await.expect("served");

    let (conn, handle) = crate::apiserver::connect();
    let server = tokio::spawn(serve_get_then_apply(handle, live_obj));
    let dry = LiveOptions {
        dry_run: DryRun::Server,
        ..opts()
    };
    let outcome = one(run(conn, web(), shop(), log_shipper(), dry).await).expect("dry run");
    let (_, dry_patch) = server.await.expect("served");

    dry_patch.assert_apply(&deployment_path("shop", "web"), &[("dryRun", "All")]);
    // Nothing else differs from the real apply but the resourceVersion, which a dry run does
    // not carry (it stores nothing, so there is nothing to protect): same content type.
    let mut real_body = real.body.clone();
    assert_eq!(real_body["metadata"]["resourceVersion"], "4711");
    real_body["metadata"]
        .as_object_mut()
        .unwrap()
        .remove("resourceVersion");
    assert_eq!(dry_patch.body, real_body);
    assert_eq!(dry_patch.content_type, real.content_type);
    assert!(real.param("dryRun").is_none());
    assert!(outcome.written);
    assert_eq!(
        names(&pod_spec(&outcome.after)["initContainers"]),
        ["log-shipper"]
    );
}

#[tokio::test]
async fn dry_run_client_reads_but_never_writes() {
    let (conn, mut handle) = crate::apiserver::connect();
    let server = tokio::spawn(async move {
        let (get, tx) = next(&mut handle).await;
        get.assert_get(&deployment_path("shop", "web"));
        reply(tx, 200, &deployment("shop", "web", "4711"));
        // The connection is dropped after the run: no PATCH (nor anything else) may follow.
        crate::apiserver::assert_no_more(&mut handle).await;
    });
    let dry = LiveOptions {
        dry_run: DryRun::Client,
        ..opts()
    };
    let outcome = one(run(conn, web(), shop(), log_shipper(), dry).await).expect("local result");
    server.await.expect("no request after the GET");
    assert_eq!(outcome.report.status, Status::Changed);
    // The local result is the whole object with the helper; the live one is untouched.
    assert_eq!(
        names(&pod_spec(&outcome.after)["initContainers"]),
        ["log-shipper"]
    );
    assert_eq!(
        pod_spec(&outcome.after)["containers"][0]["image"],
        "registry.example.com/shop/web:2.3.1"
    );
    assert!(pod_spec(&outcome.before).get("initContainers").is_none());
}
