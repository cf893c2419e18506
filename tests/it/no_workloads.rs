//! Streams without workloads (CRDs only, NetworkPolicies only, a chart or overlay that renders
//! none) pass through `add` byte for byte with a warning and exit 0, so pipelines into
//! `kubectl apply` and the Helm post-renderer keep working; an explicit `TYPE/NAME` that is not
//! a workload, and a stream whose only workloads are under an apiVersion the tool does not
//! handle, stay errors.

use crate::common::bin;

/// A CRD, as an operator's chart ships it, with comments and odd spacing that must survive.
const CRD: &str = "# CRD for the shop operator\napiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: carts.shop.example.com   # plural.group\nspec:\n  group: shop.example.com\n  names: {kind: Cart, plural: carts, singular: cart}\n  scope: Namespaced\n  versions:\n    - name: v1\n      served: true\n      storage: true\n      schema:\n        openAPIV3Schema:\n          type: object\n          x-kubernetes-preserve-unknown-fields: true\n---\napiVersion: shop.example.com/v1\nkind: Cart\nmetadata: {name: demo}\nspec: {items: 3}\n";

const NETWORK_POLICIES: &str = "---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: deny-all\n  namespace: shop\nspec:\n  podSelector: {}\n  policyTypes: [Ingress, Egress]\n---\r\napiVersion: networking.k8s.io/v1\r\nkind: NetworkPolicy\r\nmetadata:\r\n  name: allow-dns\r\nspec:\r\n  podSelector: {}\r\n  egress:\r\n  - ports: [{port: 53, protocol: UDP}]\r\n";

/// Runs `add log-shipper` on `input` from stdin: asserts exit 0, the output equal to the input
/// byte for byte, and a warning naming the objects.
fn passes_through(input: &str, objects: &[&str]) {
    let out = bin()
        .args(["add", "log-shipper", "-f", "-"])
        .write_stdin(input)
        .assert()
        .success()
        .get_output()
        .clone();
    assert_eq!(String::from_utf8(out.stdout).unwrap(), input);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("warning: no workloads in the input")
            && stderr.contains("the input is passed through unchanged"),
        "{stderr}"
    );
    for object in objects {
        assert!(stderr.contains(object), "{object} not named: {stderr}");
    }
}

#[test]
fn crd_only_stream_passes_through_byte_for_byte() {
    passes_through(
        CRD,
        &[
            "customresourcedefinition/carts.shop.example.com",
            "cart/demo",
        ],
    );
}

#[test]
fn network_policy_only_stream_passes_through_byte_for_byte() {
    passes_through(
        NETWORK_POLICIES,
        &["networkpolicy/deny-all", "networkpolicy/allow-dns"],
    );
}

#[test]
fn no_workloads_in_place_changes_no_file_and_quiet_says_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("np.yaml");
    std::fs::write(&path, NETWORK_POLICIES).unwrap();
    let out = bin()
        .args(["add", "log-shipper", "--in-place", "-f"])
        .arg(&path)
        .assert()
        .success()
        .get_output()
        .clone();
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("no file changed"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(std::fs::read_to_string(&path).unwrap(), NETWORK_POLICIES);
    let quiet = bin()
        .args(["add", "log-shipper", "-q", "-f", "-"])
        .write_stdin(CRD)
        .assert()
        .success()
        .get_output()
        .clone();
    assert_eq!(String::from_utf8(quiet.stdout).unwrap(), CRD);
    assert!(quiet.stderr.is_empty(), "-q is quiet");
}

#[test]
fn explicit_target_that_is_not_a_workload_is_an_error() {
    let out = bin()
        .args(["add", "log-shipper", "networkpolicy/deny-all", "-n", "shop"])
        .assert()
        .code(2)
        .get_output()
        .clone();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("unknown resource type \"networkpolicy\""),
        "{stderr}"
    );
    assert!(out.stdout.is_empty());
}

#[test]
fn only_unsupported_workloads_stay_an_error() {
    let old = "apiVersion: extensions/v1beta1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  template:\n    spec:\n      containers: [{name: web, image: nginx:1.27.3}]\n";
    let out = bin()
        .args(["add", "log-shipper", "-f", "-"])
        .write_stdin(format!("{old}---\n{NETWORK_POLICIES}"))
        .assert()
        .code(1)
        .get_output()
        .clone();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("no workloads in the input this tool can change")
            && stderr.contains("extensions/v1beta1 is not supported (use apps/v1)"),
        "{stderr}"
    );
    assert!(out.stdout.is_empty(), "nothing half-written");
}

#[test]
fn lint_and_status_on_no_workloads_exit_0() {
    for cmd in ["lint", "status"] {
        let out = bin()
            .args([cmd, "-f", "-"])
            .write_stdin(CRD)
            .assert()
            .success()
            .get_output()
            .clone();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("nothing to check"), "{cmd}: {stderr}");
    }
}

/// The real peers: `kubectl kustomize` piped through `add` into kubectl, and `helm template`
/// with the shipped post-renderer plugin, on inputs that render no workload.
#[cfg(feature = "plugins")]
mod pipelines {
    use std::process::{Command, Stdio};

    use crate::integrations::{install_helm_plugin, ok, tool};

    use super::NETWORK_POLICIES;

    /// Runs `cmd` with `input` on stdin; its output.
    fn piped(mut cmd: Command, input: &[u8]) -> std::process::Output {
        use std::io::Write as _;
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(input).unwrap();
        child.wait_with_output().unwrap()
    }

    /// `kubectl kustomize OVERLAY | kubectl-pattern add log-shipper -f - | kubectl …`: the
    /// overlay renders NetworkPolicies and a generated ConfigMap only. `kubectl apply
    /// --dry-run=client` (with or without --validate=false) and `kubectl create --dry-run=client`
    /// ask an API server for discovery, and CI has none: `kubectl annotate --local -o yaml` reads
    /// the stream with the same resource builder offline.
    #[test]
    fn kustomize_overlay_without_workloads_pipes_into_kubectl() {
        let home = tempfile::tempdir().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let overlay = dir.path().join("overlay");
        std::fs::create_dir_all(&overlay).unwrap();
        std::fs::write(overlay.join("policies.yaml"), NETWORK_POLICIES).unwrap();
        std::fs::write(
            overlay.join("kustomization.yaml"),
            "resources: [policies.yaml]\nnamespace: shop\nconfigMapGenerator:\n  - name: settings\n    literals: [MODE=prod]\n",
        )
        .unwrap();
        let rendered = ok(
            tool("kubectl", home.path())
                .arg("kustomize")
                .arg(&overlay)
                .output()
                .unwrap(),
            "kubectl kustomize",
        );
        let mut add = Command::new(env!("CARGO_BIN_EXE_kubectl-pattern"));
        add.args(["add", "log-shipper", "-f", "-"])
            .env("XDG_CONFIG_HOME", home.path().join("config"))
            .env("NO_COLOR", "1");
        let added = piped(add, rendered.as_bytes());
        let stderr = String::from_utf8_lossy(&added.stderr);
        assert!(added.status.success(), "{stderr}");
        assert!(
            stderr.contains("warning: no workloads in the input (configmap/settings-")
                && stderr.contains("networkpolicy/allow-dns")
                && stderr.contains("networkpolicy/deny-all"),
            "{stderr}"
        );
        assert_eq!(String::from_utf8_lossy(&added.stdout), rendered);
        let mut kubectl = tool("kubectl", home.path());
        kubectl.args([
            "annotate",
            "--local",
            "-o",
            "name",
            "-f",
            "-",
            "checked=yes",
        ]);
        let names = ok(piped(kubectl, &added.stdout), "kubectl annotate --local");
        let names: Vec<&str> = names.lines().collect();
        assert_eq!(names.len(), 3, "{names:?}");
        assert!(names[0].starts_with("configmap/settings-"), "{names:?}");
        assert_eq!(
            names[1..],
            [
                "networkpolicy.networking.k8s.io/allow-dns",
                "networkpolicy.networking.k8s.io/deny-all",
            ]
        );
    }

    /// `helm template --post-renderer pattern` on a chart whose templates render no workload:
    /// the same output as without the post-renderer.
    #[test]
    fn helm_post_renderer_on_a_chart_without_workloads() {
        let home = tempfile::tempdir().unwrap();
        let dir = tempfile::tempdir().unwrap();
        install_helm_plugin(home.path());
        let chart = dir.path().join("policies");
        std::fs::create_dir_all(chart.join("templates")).unwrap();
        std::fs::write(
            chart.join("Chart.yaml"),
            "apiVersion: v2\nname: policies\nversion: 0.1.0\n",
        )
        .unwrap();
        std::fs::write(
            chart.join("templates/networkpolicy.yaml"),
            "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: {{ .Release.Name }}-deny-all\nspec:\n  podSelector: {}\n  policyTypes: [Ingress]\n",
        )
        .unwrap();
        let template = |post: bool| {
            let mut cmd = tool("helm", home.path());
            cmd.args(["template", "shop"]).arg(&chart);
            if post {
                cmd.args(["--post-renderer", "pattern"])
                    .args(["--post-renderer-args", "log-shipper"]);
            }
            ok(cmd.output().unwrap(), "helm template")
        };
        let plain = template(false);
        assert!(plain.contains("name: shop-deny-all"), "{plain}");
        assert_eq!(template(true), plain);
    }
}
