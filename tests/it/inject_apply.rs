//! `inject --apply` against a fake API server (`common::fake_admission`): the injector is
//! applied only when its API is served (L9), verified with a server dry run of a pod the
//! binding selects, and removed again when the pod is denied — answered with the real
//! v1.36.2 server's recorded denial, `fixtures/k8s-1.36/injector-denial.json` — or admitted
//! with another change than `add` makes; `--dry-run=server` says it checked no pod (L12).

use std::path::Path;

use serde_json::{Value, json};

use crate::common::fake_admission::{FakeAdmission, PodAnswer};
use crate::common::fake_api::kubeconfig_for;

const MAP_V1: &str = "admissionregistration.k8s.io/v1";
const POLICY: &str =
    "/apis/admissionregistration.k8s.io/v1/mutatingadmissionpolicies/kubectl-pattern-log-shipper";
const BINDING: &str = "/apis/admissionregistration.k8s.io/v1/mutatingadmissionpolicybindings/kubectl-pattern-log-shipper";
const PODS: &str = "/api/v1/namespaces/shop/pods";

fn recorded_denial() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/it/fixtures/k8s-1.36/injector-denial.json"
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// Runs `inject log-shipper --select app=web --apply` plus `args` against `server`.
fn inject(server: &FakeAdmission, dir: &Path, args: &[&str]) -> (bool, String, String) {
    let kubeconfig = kubeconfig_for(&server.url(), dir);
    let out = crate::common::bin()
        .args(["inject", "log-shipper", "--select", "app=web", "--apply"])
        .arg("--kubeconfig")
        .arg(&kubeconfig)
        .args(args)
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

#[test]
fn the_fake_answers_the_recorded_denial_with_its_status() {
    let denial = recorded_denial();
    assert_eq!(denial["code"], 403);
    assert!(
        denial["message"]
            .as_str()
            .unwrap()
            .contains("denied request: error applying patch: invalid ApplyConfiguration")
    );
}

#[test]
fn an_applied_injector_is_verified_with_a_dry_run_pod_and_kept() {
    let server = FakeAdmission::start(&[MAP_V1], PodAnswer::Evaluate);
    let dir = tempfile::tempdir().unwrap();
    let (ok, stdout, stderr) = inject(&server, dir.path(), &[]);
    assert!(ok, "{stderr}");
    assert_eq!(
        stdout,
        "mutatingadmissionpolicy.admissionregistration.k8s.io/kubectl-pattern-log-shipper serverside-applied\n\
         mutatingadmissionpolicybinding.admissionregistration.k8s.io/kubectl-pattern-log-shipper serverside-applied\n\
         verified: a server dry run of a pod labelled app=web was admitted with the change add makes\n"
    );
    assert_eq!(server.stored(), [POLICY, BINDING]);
    // Behind the verification the policy fails closed.
    let policy = &server.requests_to("PATCH", POLICY)[0].json();
    assert_eq!(policy["spec"]["failurePolicy"], "Fail");
    let pods = server.requests_to("POST", PODS);
    assert_eq!(pods.len(), 1);
    assert_eq!(pods[0].param("dryRun"), Some("All"));
    assert_eq!(pods[0].json()["metadata"]["labels"], json!({"app": "web"}));
    assert!(!stderr.contains("failurePolicy Ignore"), "{stderr}");
}

#[test]
fn a_denied_pod_removes_the_injector_and_shows_the_servers_message() {
    let server = FakeAdmission::start(&[MAP_V1], PodAnswer::Recorded(403, recorded_denial()));
    let dir = tempfile::tempdir().unwrap();
    let (ok, _, stderr) = inject(&server, dir.path(), &[]);
    assert!(!ok);
    assert!(
        stderr.contains("the injector denies the pods it selects: a server dry run of a pod labelled app=web was refused"),
        "{stderr}"
    );
    assert!(
        stderr.contains(
            "may not mutate atomic arrays, maps or structs: .spec.initContainers[0].command"
        ),
        "{stderr}"
    );
    assert!(stderr.contains("removed what was just applied: mutatingadmissionpolicybinding.admissionregistration.k8s.io/kubectl-pattern-log-shipper, mutatingadmissionpolicy.admissionregistration.k8s.io/kubectl-pattern-log-shipper"), "{stderr}");
    assert!(server.stored().is_empty());
    let order: Vec<String> = server
        .requests()
        .into_iter()
        .filter(|r| !r.starts_with("GET"))
        .collect();
    assert_eq!(
        order,
        [
            format!("PATCH {POLICY}"),
            format!("PATCH {BINDING}"),
            format!("POST {PODS}"),
            format!("DELETE {BINDING}"),
            format!("DELETE {POLICY}"),
        ]
    );
}

#[test]
fn a_pod_admitted_with_another_change_removes_the_injector() {
    // Another mutation of the same helper name: an older log-shipper image, no volumes.
    let admitted = json!({"apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "kubectl-pattern-verify-x7k2p", "namespace": "shop",
            "labels": {"app": "web"}},
        "spec": {"initContainers": [{"name": "log-shipper", "image": "fluent/fluent-bit:1.9",
                "restartPolicy": "Always"}],
            "containers": [{"name": "app", "image": "registry.k8s.io/pause:3.10"}]}});
    let server = FakeAdmission::start(&[MAP_V1], PodAnswer::Recorded(201, admitted));
    let dir = tempfile::tempdir().unwrap();
    let (ok, _, stderr) = inject(&server, dir.path(), &[]);
    assert!(!ok);
    assert!(
        stderr.contains(
            "the injector does not make the change `add` makes on a pod labelled app=web"
        ),
        "{stderr}"
    );
    assert!(
        stderr.contains("spec.initContainers[log-shipper].image: add makes \"cr.fluentbit.io/fluent/fluent-bit:3.2.4\", the admitted pod has \"fluent/fluent-bit:1.9\""),
        "{stderr}"
    );
    assert!(
        stderr.contains(
            "spec.volumes: add makes [log-shipper-logs, log-shipper-state], the admitted pod has []"
        ),
        "{stderr}"
    );
    assert!(server.stored().is_empty());
}

#[test]
fn verify_with_sends_the_users_pod() {
    let server = FakeAdmission::start(&[MAP_V1], PodAnswer::Evaluate);
    let dir = tempfile::tempdir().unwrap();
    let pod = dir.path().join("pod.yaml");
    std::fs::write(
        &pod,
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web-0\n  namespace: shop\n  labels: {app: web}\nspec:\n  initContainers:\n  - {name: setup, image: busybox:1.37.0}\n  containers:\n  - name: web\n    image: nginx:1.27.3\n    volumeMounts: [{name: data, mountPath: /data}]\n  volumes:\n  - {name: data, emptyDir: {}}\n",
    )
    .unwrap();
    let (ok, stdout, stderr) = inject(
        &server,
        dir.path(),
        &["--verify-with", pod.to_str().unwrap()],
    );
    assert!(ok, "{stderr}");
    assert!(
        stdout.ends_with(
            "verified: a server dry run of pod/web-0 was admitted with the change add makes\n"
        ),
        "{stdout}"
    );
    let sent = server.requests_to("POST", PODS)[0].json();
    assert_eq!(sent["spec"]["initContainers"][0]["name"], "setup");
}

#[test]
fn an_api_version_the_server_does_not_serve_is_named_and_nothing_is_applied() {
    let server = FakeAdmission::start(&[MAP_V1], PodAnswer::Evaluate);
    let dir = tempfile::tempdir().unwrap();
    let (ok, _, stderr) = inject(&server, dir.path(), &["--api-version", "v1beta1"]);
    assert!(!ok);
    assert!(
        stderr.contains("mutatingadmissionpolicies.admissionregistration.k8s.io/v1beta1 is not served by the API server"),
        "{stderr}"
    );
    assert!(stderr.contains("use --api-version v1"), "{stderr}");
    assert!(stderr.contains("nothing was applied"), "{stderr}");
    assert!(!stderr.contains("not found"), "{stderr}");
    assert_eq!(
        server.requests(),
        ["GET /apis/admissionregistration.k8s.io/v1beta1"]
    );
}

#[test]
fn kyverno_without_its_crds_is_named_and_nothing_is_applied() {
    let server = FakeAdmission::start(&[MAP_V1], PodAnswer::Evaluate);
    let dir = tempfile::tempdir().unwrap();
    let (ok, _, stderr) = inject(&server, dir.path(), &["--engine", "kyverno"]);
    assert!(!ok);
    assert!(
        stderr.contains("clusterpolicies.kyverno.io/v1 is not served by the API server"),
        "{stderr}"
    );
    assert!(
        stderr.contains("the Kyverno CRDs are not installed: install Kyverno first"),
        "{stderr}"
    );
    assert_eq!(server.requests(), ["GET /apis/kyverno.io/v1"]);
}

#[test]
fn a_server_dry_run_says_no_pod_was_checked() {
    let server = FakeAdmission::start(&[MAP_V1], PodAnswer::Evaluate);
    let dir = tempfile::tempdir().unwrap();
    let (ok, stdout, stderr) = inject(&server, dir.path(), &["--dry-run=server"]);
    assert!(ok, "{stderr}");
    assert!(
        stdout.contains("serverside-applied (server dry run)"),
        "{stdout}"
    );
    assert!(
        stderr.contains(
            "a server dry run of admission policies does not evaluate them: no pod was checked"
        ),
        "{stderr}"
    );
    // Unverified, the policy fails open, and says so.
    assert!(stderr.contains("failurePolicy Ignore"), "{stderr}");
    assert!(server.requests_to("POST", PODS).is_empty());
    assert!(server.stored().is_empty());
    let patches = server.requests_to("PATCH", POLICY);
    assert_eq!(patches[0].param("dryRun"), Some("All"));
}

#[test]
fn verify_with_without_the_verification_is_a_usage_error() {
    let server = FakeAdmission::start(&[MAP_V1], PodAnswer::Evaluate);
    let dir = tempfile::tempdir().unwrap();
    for flag in ["--verify=false", "--dry-run=server"] {
        let (ok, _, stderr) = inject(&server, dir.path(), &[flag, "--verify-with", "pod.yaml"]);
        assert!(!ok);
        assert!(
            stderr.contains("--verify-with needs the verification"),
            "{flag}: {stderr}"
        );
    }
    assert!(server.requests().is_empty());
}
