//! `lint` end to end: the rules fire with their stable ids, a classic sidecar in a Job fails,
//! and the exit codes tell findings from failures.

use kubectl_pattern::engine::workload::WorkloadKind;
use serde_json::Value;

use crate::cli::{EXAMPLE, stdout};

#[test]
fn explicit_classic_sidecar_in_a_job_warns_and_lint_fails() {
    let job = kubectl_pattern::engine::yaml::to_string(&crate::common::workload(
        WorkloadKind::Job,
        "batch",
    ))
    .unwrap();
    let out = crate::common::bin()
        .args(["add", "log-shipper", "--sidecar-mode", "classic"])
        .write_stdin(job)
        .assert()
        .success()
        .get_output()
        .clone();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("classic sidecar in a Job") && stderr.contains("will not complete"),
        "{stderr}"
    );
    let lint = crate::common::bin()
        .args(["lint", "-o", "json"])
        .write_stdin(out.stdout.clone())
        .assert()
        .code(1)
        .get_output()
        .clone();
    let reports: Vec<Value> = serde_json::from_slice(&lint.stdout).unwrap();
    assert!(
        reports[0]["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["rule"] == "MCP008")
    );
}

#[test]
fn lint_rules_fire_with_stable_ids() {
    let pod = "apiVersion: v1\nkind: Pod\nmetadata: {name: shop}\nspec:\n  initContainers:\n  - name: migrate\n    image: flyway/flyway:10.20.0\n    readinessProbe: {tcpSocket: {port: 1}}\n    resources: {requests: {cpu: '4', memory: 4Gi}, limits: {cpu: '4', memory: 4Gi}}\n  containers:\n  - name: web\n    image: nginx\n    ports: [{containerPort: 8080}]\n    volumeMounts: [{name: ghost, mountPath: /g}, {name: shared, mountPath: /s, readOnly: true}]\n  - name: db\n    image: postgres:17.2\n    ports: [{containerPort: 8080}]\n    resources: {requests: {cpu: 100m, memory: 128Mi}, limits: {cpu: 100m, memory: 128Mi}}\n  - name: web\n    image: busybox:1.37.0\n  volumes:\n  - {name: shared, emptyDir: {}}\n  - {name: unused, emptyDir: {}}\n";
    let out = crate::common::bin()
        .args(["lint", "-o", "json"])
        .write_stdin(pod)
        .assert()
        .code(1)
        .get_output()
        .clone();
    let reports: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    let rules: Vec<&str> = reports[0]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap())
        .collect();
    for rule in [
        "MCP001", "MCP002", "MCP003", "MCP004", "MCP005", "MCP006", "MCP007", "MCP009", "MCP010",
    ] {
        assert!(rules.contains(&rule), "{rule} did not fire: {rules:?}");
    }
    let effective = reports[0]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "MCP007")
        .unwrap();
    assert!(
        effective["message"]
            .as_str()
            .unwrap()
            .contains("max(100m, 4) = 4"),
        "{effective}"
    );
    // A clean input prints no object, only the summary.
    let text = stdout(crate::common::bin().args(["lint", "-f", EXAMPLE]));
    assert_eq!(
        text,
        "1 workload checked, 0 with findings: 0 errors, 0 warnings (1 object that is not a workload skipped)\n"
    );
}

/// `lint`'s exit codes tell findings from a tool that could not check: 0 clean, 1 an
/// error-level finding, 2 a usage error, 3 the input could not be read or parsed.
#[test]
fn lint_exit_codes_tell_findings_from_failures() {
    let dir = tempfile::tempdir().unwrap();
    let clean = dir.path().join("clean.yaml");
    crate::common::write_yaml(
        &clean,
        &[crate::common::workload(WorkloadKind::Deployment, "web")],
    );
    let code = |args: &[&str]| {
        crate::common::bin()
            .args(args)
            .current_dir(dir.path())
            .output()
            .unwrap()
            .status
            .code()
    };
    assert_eq!(code(&["lint", "-f", "clean.yaml"]), Some(0));
    std::fs::write(
        dir.path().join("bad.yaml"),
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - {name: a, image: nginx:1.27.3, volumeMounts: [{name: ghost, mountPath: /g}]}\n",
    )
    .unwrap();
    assert_eq!(code(&["lint", "-f", "bad.yaml"]), Some(1));
    assert_eq!(code(&["lint", "-f", "clean.yaml", "--bogus"]), Some(2));
    assert_eq!(code(&["lint", "-f", "missing.yaml"]), Some(3));
    std::fs::write(dir.path().join("broken.yaml"), "a: [\n").unwrap();
    assert_eq!(code(&["lint", "-f", "broken.yaml"]), Some(3));
}
