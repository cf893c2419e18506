//! `cluster::verify::apply_verified` over the scripted API server (`apiserver`), on tokio's
//! paused clock: while the server has not yet loaded the new policy (a dry-run pod comes back
//! unchanged) the pod is tried again after the retry interval, and the first mutated answer —
//! the applied policy run through the offline admission — is compared with `add`.

use std::time::Duration;

use serde_json::{Value, json};

use crate::apiserver::{self, next, reply};
use crate::common::admission::{Verdict, admit};
use kubectl_pattern::cluster::verify::{self, Check};
use kubectl_pattern::engine::inject::check::sample_pod;
use kubectl_pattern::engine::process::Action;

fn exported() -> Vec<Value> {
    let out = crate::common::bin()
        .args(["inject", "log-shipper", "--select", "app=web", "-o", "json"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let list: Value = serde_json::from_slice(&out.stdout).unwrap();
    list["items"].as_array().unwrap().clone()
}

fn discovery(group_version: &str) -> Value {
    json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": group_version,
        "resources": [
            {"name": "mutatingadmissionpolicies", "singularName": "", "namespaced": false,
             "kind": "MutatingAdmissionPolicy", "verbs": ["create", "delete", "patch"]},
            {"name": "mutatingadmissionpolicybindings", "singularName": "", "namespaced": false,
             "kind": "MutatingAdmissionPolicyBinding", "verbs": ["create", "delete", "patch"]}]})
}

#[tokio::test(start_paused = true)]
async fn an_unchanged_pod_is_tried_again_until_the_policy_is_loaded() {
    let objects = exported();
    let pod = sample_pod(&[("app".to_string(), "web".to_string())].into(), None);
    let mut expected = pod.clone();
    apiserver::add_action(&[("log-shipper", &[])])
        .run(&mut expected)
        .unwrap();
    let check = Check {
        pod: pod.clone(),
        expected,
        retry: Duration::from_millis(500),
        tries: 10,
    };
    let (conn, mut handle) = apiserver::connect();
    let started = tokio::time::Instant::now();
    let task = tokio::spawn(async move {
        verify::apply_verified(&conn, &objects, "kubectl-pattern", &check).await
    });
    for _ in 0..2 {
        let (seen, r) = next(&mut handle).await;
        assert_eq!(seen.path, "/apis/admissionregistration.k8s.io/v1");
        reply(r, 200, &discovery("admissionregistration.k8s.io/v1"));
    }
    let mut policy = Value::Null;
    for _ in 0..2 {
        let (seen, r) = next(&mut handle).await;
        assert_eq!(seen.method, "PATCH");
        if seen.body["kind"] == "MutatingAdmissionPolicy" {
            policy = seen.body.clone();
        }
        reply(r, 200, &seen.body);
    }
    let mut tries = Vec::new();
    for attempt in 0..3 {
        let (seen, r) = next(&mut handle).await;
        assert_eq!(
            (seen.method.as_str(), seen.path.as_str()),
            ("POST", "/api/v1/namespaces/default/pods")
        );
        assert_eq!(seen.param("dryRun"), Some("All"));
        tries.push(started.elapsed());
        let mut answer = seen.body.clone();
        if attempt == 2 {
            let Verdict::Admitted(mutated) = admit(&policy, &seen.body) else {
                panic!("the exported policy did not admit the sample pod");
            };
            answer = mutated;
        }
        answer["metadata"]["name"] = json!("kubectl-pattern-verify-x7k2p");
        reply(r, 201, &answer);
    }
    let lines = task.await.unwrap().unwrap();
    assert_eq!(
        lines.last().unwrap(),
        "verified: a server dry run of a pod labelled app=web was admitted with the change add makes"
    );
    assert_eq!(
        tries,
        [
            Duration::ZERO,
            Duration::from_millis(500),
            Duration::from_millis(1000)
        ]
    );
    apiserver::assert_no_more(&mut handle).await;
}
