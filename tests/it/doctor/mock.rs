//! doctor's checks in process, on each staged failure and on the healthy recording, against
//! kube's client over a mocked service answering with the recorded responses.

use std::time::Duration;

use kubectl_pattern::cluster::doctor::report::{Check, Severity};
use kubectl_pattern::cluster::error::ClusterError;
use serde_json::json;

use super::stage::{
    self, BINDINGS, DEPLOYMENT, EVENTS, NODES, NOW, PODS, POLICIES, REPLICASETS, Stage,
};
use super::{kinds, only, run, run_at};

const POD_A: &str = "web-575fb96457-5pjjl";
const POD_B: &str = "web-575fb96457-9cqf6";
const HOUR: Option<Duration> = Some(Duration::from_secs(3600));

#[tokio::test]
async fn a_healthy_workload_has_no_finding_and_each_read_is_the_expected_request() {
    let (report, seen) = run_at(&Stage::healthy(), NOW, HOUR).await;
    let report = report.unwrap();
    assert!(report.findings.is_empty(), "{:#?}", report.findings);
    assert!(report.notes.is_empty(), "{:?}", report.notes);
    let w = &report.workloads[0];
    assert_eq!(
        (w.object.as_str(), w.namespace.as_str(), w.pods),
        ("deployment.apps/web", "fixtures", 2)
    );
    assert_eq!(
        (w.instances.clone(), w.helpers.clone()),
        (
            vec!["log-shipper".to_string()],
            vec!["log-shipper".to_string()]
        )
    );
    let s = report.summary();
    assert_eq!(
        (s.workloads, s.pods, s.errors, s.warnings, s.healthy),
        (1, 2, 0, 0, true)
    );
    // Each request as `METHOD path?decoded query`.
    let requests: Vec<String> = seen
        .iter()
        .map(|r| {
            let query: Vec<String> = r.query.iter().map(|(k, v)| format!("{k}={v}")).collect();
            format!("{} {}?{}", r.method, r.path, query.join("&"))
        })
        .collect();
    assert_eq!(
        requests,
        [
            format!("GET {POLICIES}?labelSelector=app.kubernetes.io/managed-by=kubectl-pattern"),
            format!("GET {BINDINGS}?"),
            format!("GET {DEPLOYMENT}?"),
            format!("GET {REPLICASETS}?labelSelector=app=web"),
            format!("GET {PODS}?labelSelector=app=web"),
            format!("GET {EVENTS}?fieldSelector=type=Warning"),
            format!("GET {NODES}?"),
        ]
    );
}

#[tokio::test]
async fn a_recent_probe_failure_of_a_ready_helper_is_a_warning() {
    let stage = Stage::healthy().probe_failure();
    let report = run(&stage).await;
    assert_eq!(
        kinds(&report),
        [(
            Severity::Warning,
            Check::HelperEvents,
            Some(POD_A),
            Some("log-shipper")
        )]
    );
    let f = &report.findings[0];
    assert_eq!(
        f.message,
        "log-shipper: Unhealthy 3 times: Liveness probe failed: HTTP probe failed with statuscode: 500"
    );
    assert!(
        f.fix
            .contains("kubectl logs web-575fb96457-5pjjl -c log-shipper -n fixtures"),
        "{}",
        f.fix
    );
    assert!(report.summary().healthy);
    // Two hours later it is outside the default hour; with --since 0 it counts again.
    let (later, _) = run_at(&stage, "2026-12-01T23:10:00Z", HOUR).await;
    assert!(later.unwrap().findings.is_empty());
    let (all, _) = run_at(&stage, "2026-12-01T23:10:00Z", None).await;
    assert_eq!(all.unwrap().findings.len(), 1);
}

#[tokio::test]
async fn a_crashlooping_helper_is_an_error_with_its_restarts_and_last_exit() {
    let report = run(&Stage::healthy().crashloop()).await;
    assert_eq!(
        kinds(&report),
        [(
            Severity::Error,
            Check::HelperWaiting,
            Some(POD_A),
            Some("log-shipper")
        )]
    );
    let f = &report.findings[0];
    assert_eq!(
        f.message,
        "log-shipper is waiting: CrashLoopBackOff (back-off 5m0s restarting failed container=log-shipper pod=web-575fb96457-5pjjl); restarted 7 times, last terminated: Error (exit code 1)"
    );
    assert_eq!(
        f.fix,
        "read why it exits: kubectl logs web-575fb96457-5pjjl -c log-shipper -n fixtures --previous"
    );
    assert!(!report.summary().healthy);
    // Its probe failures are errors too while it is down.
    let report = run(&Stage::healthy().crashloop().probe_failure()).await;
    assert_eq!(
        kinds(&report)[1],
        (
            Severity::Error,
            Check::HelperEvents,
            Some(POD_A),
            Some("log-shipper")
        )
    );
}

#[tokio::test]
async fn an_oom_killed_helper_is_told_to_raise_its_memory_limit() {
    let mut stage = Stage::healthy().crashloop();
    let last = &mut stage.pod(0)["status"]["initContainerStatuses"][0]["lastState"]["terminated"];
    last["reason"] = json!("OOMKilled");
    last["exitCode"] = json!(137);
    let report = run(&stage).await;
    let f = only(&report, Check::HelperWaiting);
    assert!(
        f.message
            .ends_with("restarted 7 times, last terminated: OOMKilled (exit code 137)"),
        "{}",
        f.message
    );
    assert_eq!(
        f.fix,
        "it ran out of memory: raise its limit (now 128Mi): run `kubectl pattern add log-shipper deploy/web -n fixtures` again with your parameters and a larger --set memoryLimit"
    );
}

#[tokio::test]
async fn a_helper_running_again_after_a_recent_oom_kill_is_a_warning() {
    let mut stage = Stage::healthy();
    let status = &mut stage.pod(0)["status"]["initContainerStatuses"][0];
    status["restartCount"] = json!(2);
    status["lastState"] = json!({"terminated": {"exitCode": 137, "reason": "OOMKilled",
        "startedAt": "2026-12-01T21:06:48Z", "finishedAt": "2026-12-01T21:08:00Z"}});
    let report = run(&stage).await;
    assert_eq!(
        kinds(&report),
        [(
            Severity::Warning,
            Check::HelperRestarted,
            Some(POD_A),
            Some("log-shipper")
        )]
    );
    assert_eq!(
        report.findings[0].message,
        "log-shipper works now but restarted 2 times, last terminated: OOMKilled (exit code 137)"
    );
    assert!(report.summary().healthy);
    let (later, _) = run_at(&stage, "2026-12-01T23:30:00Z", HOUR).await;
    assert!(later.unwrap().findings.is_empty());
}

#[tokio::test]
async fn an_image_pull_failure_shows_the_image_and_the_kubelets_events() {
    let mut stage = Stage::healthy().probe_failure();
    let status = &mut stage.pod(0)["status"]["initContainerStatuses"][0];
    status["state"] = json!({"waiting": {"reason": "ImagePullBackOff",
        "message": "Back-off pulling image \"cr.fluentbit.io/fluent/fluent-bit:3.2.4\""}});
    status["ready"] = json!(false);
    status["started"] = json!(false);
    // The recorded probe-failure event, turned into the kubelet's pull failure.
    for e in stage.body(EVENTS)["items"].as_array_mut().unwrap() {
        if e["reason"] == "Unhealthy" {
            e["reason"] = json!("Failed");
            e["count"] = json!(2);
            e["message"] = json!(
                "Failed to pull image \"cr.fluentbit.io/fluent/fluent-bit:3.2.4\": not found"
            );
        }
    }
    let report = run(&stage).await;
    assert_eq!(
        kinds(&report),
        [
            (
                Severity::Error,
                Check::HelperWaiting,
                Some(POD_A),
                Some("log-shipper")
            ),
            (
                Severity::Error,
                Check::HelperEvents,
                Some(POD_A),
                Some("log-shipper")
            ),
        ]
    );
    assert_eq!(
        report.findings[0].fix,
        "check the image cr.fluentbit.io/fluent/fluent-bit:3.2.4 and the pod's imagePullSecrets: kubectl describe pod web-575fb96457-5pjjl -n fixtures"
    );
    assert_eq!(
        report.findings[1].message,
        "log-shipper: Failed 2 times: Failed to pull image \"cr.fluentbit.io/fluent/fluent-bit:3.2.4\": not found"
    );
}

#[tokio::test]
async fn a_pod_from_before_the_patch_and_a_rollout_behind_show_up() {
    let mut stage = Stage::healthy();
    stage::before_the_patch(stage.pod(1));
    let status = &mut stage.body(DEPLOYMENT)["status"];
    status["updatedReplicas"] = json!(1);
    let report = run(&stage).await;
    let old = "web-5bd9d4cf95-b5ws5";
    assert_eq!(
        kinds(&report),
        [
            (Severity::Error, Check::RolloutBehind, None, None),
            (Severity::Error, Check::OldTemplate, None, None),
            (
                Severity::Error,
                Check::HelperMissing,
                Some(old),
                Some("log-shipper")
            ),
        ]
    );
    let [behind, template, missing] = &report.findings[..] else {
        unreachable!()
    };
    assert_eq!(
        behind.message,
        "the rollout has not caught up with the template: 1 of 2 new replicas updated"
    );
    assert_eq!(
        behind.fix,
        "follow it: kubectl rollout status deploy/web -n fixtures"
    );
    assert_eq!(
        template.message,
        "1 pod(s) run an older template: web-5bd9d4cf95-b5ws5"
    );
    assert_eq!(
        missing.message,
        "log-shipper is missing: it runs an older template, from before log-shipper was added"
    );
}

#[tokio::test]
async fn a_controller_that_has_not_seen_the_new_spec_or_gave_up_is_behind_or_failed() {
    let mut stage = Stage::healthy();
    stage.body(DEPLOYMENT)["metadata"]["generation"] = json!(3);
    let report = run(&stage).await;
    assert_eq!(
        only(&report, Check::RolloutBehind).message,
        "the rollout has not caught up with the template: waiting for the controller to see the new spec"
    );
    let mut stage = Stage::healthy();
    stage.body(DEPLOYMENT)["status"]["conditions"][1] = json!({"type": "Progressing",
        "status": "False", "reason": "ProgressDeadlineExceeded",
        "message": "ReplicaSet \"web-575fb96457\" has timed out progressing."});
    let report = run(&stage).await;
    let f = only(&report, Check::RolloutFailed);
    assert_eq!(
        f.message,
        "the rollout failed: ReplicaSet \"web-575fb96457\" has timed out progressing."
    );
    assert!(
        f.fix.ends_with("kubectl describe deploy/web -n fixtures"),
        "{}",
        f.fix
    );
}

#[tokio::test]
async fn a_native_sidecar_on_a_kubelet_before_1_29_is_an_error() {
    let report = run(&Stage::healthy().old_kubelet()).await;
    assert_eq!(
        kinds(&report),
        [(
            Severity::Error,
            Check::NativeSidecarOldKubelet,
            Some(POD_B),
            Some("log-shipper")
        )]
    );
    let f = &report.findings[0];
    assert!(
        f.message.starts_with(
            "log-shipper is a native sidecar, but node kwok-node-1 runs kubelet v1.28.9"
        ),
        "{}",
        f.message
    );
    assert!(
        f.fix.ends_with(
            "kubectl pattern add log-shipper deploy/web -n fixtures --sidecar-mode classic"
        ),
        "{}",
        f.fix
    );
}

#[tokio::test]
async fn an_injector_policy_without_its_binding_is_an_error() {
    let report = run(&Stage::healthy().injector(false)).await;
    assert_eq!(
        kinds(&report),
        [(Severity::Error, Check::PolicyUnbound, None, None)]
    );
    let f = &report.findings[0];
    assert_eq!(
        f.object,
        "mutatingadmissionpolicy.admissionregistration.k8s.io/kubectl-pattern-log-shipper"
    );
    assert_eq!(f.namespace, None);
    assert_eq!(
        f.message,
        "the injector policy has no binding, so it adds log-shipper to no pod"
    );
    // Bound, it is fine.
    assert!(
        run(&Stage::healthy().injector(true))
            .await
            .findings
            .is_empty()
    );
}

#[tokio::test]
async fn failed_creates_that_name_our_policy_are_reported_with_the_servers_reason() {
    let report = run(&Stage::healthy().injector(true).denied()).await;
    let f = only(&report, Check::PolicyDenies);
    assert_eq!(f.object, "deployment.apps/web");
    assert_eq!(
        f.message,
        "the injector kubectl-pattern-log-shipper refused to create its pods (4 times): error applying patch: invalid ApplyConfiguration: may not mutate atomic arrays, maps or structs: .spec.initContainers[0].command, .spec.initContainers[0].env[0].valueFrom.fieldRef, .spec.initContainers[0].env[1].valueFrom.fieldRef, .spec.initContainers[0].securityContext.capabilities.drop, .spec.initContainers[0].args"
    );
    assert!(
        f.fix
            .contains("kubectl delete mutatingadmissionpolicybinding kubectl-pattern-log-shipper"),
        "{}",
        f.fix
    );
    assert_eq!(report.findings.len(), 1);
}

#[tokio::test]
async fn a_pod_the_injector_missed_shows_up_unless_it_opted_out() {
    let mut stage = Stage::healthy().unrecorded().injector(true);
    stage::without_helper(stage.pod(1));
    let report = run(&stage).await;
    assert_eq!(
        kinds(&report),
        [(
            Severity::Error,
            Check::HelperMissing,
            Some(POD_B),
            Some("log-shipper")
        )]
    );
    assert!(report.findings[0].message.starts_with(
        "log-shipper is missing: the injector kubectl-pattern-log-shipper selects the pod but did not add it"
    ));
    let w = &report.workloads[0];
    assert_eq!(
        (w.instances.len(), w.injectors.clone()),
        (0, vec!["kubectl-pattern-log-shipper".to_string()])
    );
    stage.pod(1)["metadata"]["labels"]["pattern.kubectl.io/inject"] = json!("false");
    assert!(run(&stage).await.findings.is_empty());
}

#[tokio::test]
async fn a_workload_without_patterns_is_skipped_without_reading_its_pods() {
    let (report, seen) = run_at(&Stage::healthy().unrecorded(), NOW, HOUR).await;
    let report = report.unwrap();
    assert!(report.workloads.is_empty() && report.findings.is_empty());
    assert_eq!(report.skipped[0].object, "deployment.apps/web");
    assert!(!seen.iter().any(|r| r.path == PODS), "{seen:?}");
}

/// The recorded 403, reworded as the server words a forbidden list of `resource`.
fn forbidden_list(resource: &str) -> serde_json::Value {
    let mut body = stage::fixture("forbidden-403");
    body["message"] = json!(format!(
        "{resource} is forbidden: User \"jane\" cannot list resource \"{resource}\" in API group \"\" in the namespace \"fixtures\""
    ));
    body["details"] = json!({"kind": resource});
    body
}

#[tokio::test]
async fn unreadable_events_are_a_note_but_unreadable_pods_fail_the_run() {
    let mut stage = Stage::healthy().crashloop();
    stage.bodies.insert(EVENTS.into(), forbidden_list("events"));
    let report = run(&stage).await;
    assert_eq!(
        report.notes,
        [
            "cannot list events in namespace fixtures: helper events and injector refusals were not checked (forbidden; check with: kubectl auth can-i list events -n fixtures)"
        ]
    );
    assert_eq!(
        only(&report, Check::HelperWaiting).pod.as_deref(),
        Some(POD_A)
    );
    stage.bodies.insert(PODS.into(), forbidden_list("pods"));
    let (result, _) = run_at(&stage, NOW, HOUR).await;
    let err = result.unwrap_err();
    assert!(matches!(err, ClusterError::Forbidden { .. }), "{err}");
    assert!(
        err.to_string()
            .contains("cannot list pods in namespace fixtures"),
        "{err}"
    );
}

#[tokio::test]
async fn a_cluster_serving_only_the_beta_api_is_read_there() {
    let mut stage = Stage::healthy().injector(false);
    let policies = stage.bodies.remove(POLICIES).unwrap();
    let bindings = stage.bodies.remove(BINDINGS).unwrap();
    stage
        .bodies
        .insert(POLICIES.replace("/v1/", "/v1beta1/"), policies);
    stage
        .bodies
        .insert(BINDINGS.replace("/v1/", "/v1beta1/"), bindings);
    let (report, seen) = run_at(&stage, NOW, HOUR).await;
    let f = only(report.as_ref().unwrap(), Check::PolicyUnbound);
    assert_eq!(
        f.object,
        "mutatingadmissionpolicy.admissionregistration.k8s.io/kubectl-pattern-log-shipper"
    );
    let paths: Vec<&str> = seen.iter().take(3).map(|r| r.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            POLICIES,
            "/apis/admissionregistration.k8s.io/v1beta1/mutatingadmissionpolicies",
            "/apis/admissionregistration.k8s.io/v1beta1/mutatingadmissionpolicybindings",
        ]
    );
}
