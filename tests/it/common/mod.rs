//! Shared helpers for the integration tests: the binary, sample workloads of every kind, the
//! parameters each built-in pattern needs, and the real Kubernetes schema validator.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

pub mod admission;
pub mod bad;
pub mod fake_admission;
pub mod fake_api;
pub mod fake_apply;
pub mod fake_defaults;
pub mod fake_ssa;
pub mod fake_update;
pub mod guests;
pub mod json_patch;
pub mod k8s_schema;
pub mod live;
pub mod plugins;
pub mod registry;

use kubectl_pattern::engine::params::ParamType;
use kubectl_pattern::engine::pattern::Pattern;
use kubectl_pattern::engine::workload::WorkloadKind;
use serde_json::{Value, json};

/// The binary under test.
pub fn bin() -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::cargo_bin("kubectl-pattern").expect("binary built");
    // Keep the developer's own templates out of the tests.
    cmd.env("XDG_CONFIG_HOME", "/nonexistent-kubectl-pattern-test")
        .env("NO_COLOR", "1");
    cmd
}

/// The pod spec every sample workload uses.
pub fn pod_spec() -> Value {
    json!({
        "containers": [{
            "name": "app",
            "image": "registry.example.com/shop/app:1.4.2",
            "ports": [{"name": "http", "containerPort": 8080}],
            "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"cpu": "500m", "memory": "256Mi"}}
        }]
    })
}

/// A minimal valid object of `kind` around `pod_spec()`.
pub fn workload(kind: WorkloadKind, name: &str) -> Value {
    let labels = json!({"app": name});
    let template = json!({"metadata": {"labels": labels}, "spec": pod_spec()});
    let mut job_template = template.clone();
    job_template["spec"]["restartPolicy"] = json!("Never");
    let selector = json!({"matchLabels": labels});
    let metadata = json!({"name": name, "namespace": "shop"});
    let spec = match kind {
        // A PodTemplate holds its template at the top, not under spec.
        WorkloadKind::PodTemplate => {
            return json!({"apiVersion": kind.api_version(), "kind": kind.as_str(), "metadata": metadata, "template": template});
        }
        WorkloadKind::Pod => pod_spec(),
        WorkloadKind::Deployment | WorkloadKind::ReplicaSet | WorkloadKind::DaemonSet => {
            json!({"selector": selector, "template": template})
        }
        WorkloadKind::StatefulSet => {
            json!({"serviceName": name, "selector": selector, "template": template})
        }
        WorkloadKind::ReplicationController => json!({"selector": labels, "template": template}),
        WorkloadKind::Job => json!({"template": job_template}),
        WorkloadKind::CronJob => {
            json!({"schedule": "*/5 * * * *", "jobTemplate": {"spec": {"template": job_template}}})
        }
    };
    json!({"apiVersion": kind.api_version(), "kind": kind.as_str(), "metadata": metadata, "spec": spec})
}

/// A sample value for a required parameter: from the pattern's examples, else by type.
pub fn sample_value(pattern: &dyn Pattern, name: &str) -> String {
    let spec = pattern.spec();
    if let Some(v) = spec.examples.get(name) {
        return match v {
            Value::String(s) => s.clone(),
            Value::Array(items) => items
                .iter()
                .map(|i| {
                    i.as_str()
                        .map(str::to_string)
                        .unwrap_or_else(|| i.to_string())
                })
                .collect::<Vec<_>>()
                .join(","),
            other => other.to_string(),
        };
    }
    let p = spec
        .params
        .iter()
        .find(|p| p.name == name)
        .expect("declared");
    match p.kind {
        ParamType::Int | ParamType::Port => "8081".into(),
        ParamType::Bool => "true".into(),
        ParamType::Quantity => "100m".into(),
        ParamType::Image => "busybox:1.37.0".into(),
        ParamType::DnsName => "backend.shop.svc".into(),
        ParamType::Duration => "10s".into(),
        ParamType::Enum => p.values[0].clone(),
        ParamType::List | ParamType::String => "sample".into(),
    }
}

/// `--set` arguments for every required parameter of `pattern`.
pub fn required_sets(pattern: &dyn Pattern) -> Vec<String> {
    pattern
        .spec()
        .params
        .iter()
        .filter(|p| p.required)
        .map(|p| format!("{}={}", p.name, sample_value(pattern, &p.name)))
        .collect()
}

/// Writes a multi-document YAML file.
pub fn write_yaml(path: &Path, docs: &[Value]) {
    let text: Vec<String> = docs
        .iter()
        .map(|d| kubectl_pattern::engine::yaml::to_string(d).unwrap())
        .collect();
    std::fs::write(path, text.join("---\n")).unwrap();
}

/// The `kubernetes-validate` executable, installed by `scripts/install-test-tools`.
/// Its absence fails the test: a skipped validation must never look like a pass.
pub fn validator() -> PathBuf {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let candidates = [
        std::env::var_os("KP_TOOLS_BIN").map(|d| PathBuf::from(d).join("kubernetes-validate")),
        Some(root.join(".tools/bin/kubernetes-validate")),
    ];
    candidates
        .into_iter()
        .flatten()
        .find(|p| p.exists())
        .expect(
            "kubernetes-validate not found: run scripts/install-test-tools (scripts/test does it)",
        )
}

/// An executable installed by `scripts/install-test-tools` (`kubectl`, `helm`), from
/// $KP_TOOLS_BIN or .tools/bin; its absence fails the test.
pub fn tool(name: &str) -> PathBuf {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    [
        std::env::var_os("KP_TOOLS_BIN").map(|d| PathBuf::from(d).join(name)),
        Some(root.join(".tools/bin").join(name)),
    ]
    .into_iter()
    .flatten()
    .find(|p| p.exists())
    .unwrap_or_else(|| {
        panic!("{name} not found: run scripts/install-test-tools (scripts/test does it)")
    })
}

/// Validates a file with the real Kubernetes 1.37 schemas, strictly; panics with the
/// validator's output when it fails.
pub fn validate(path: &Path) {
    let out = Command::new(validator())
        .args(["--strict", "-k", "1.37.0"])
        .arg(path)
        .output()
        .expect("run kubernetes-validate");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success(),
        "kubernetes-validate failed for {}:\n{text}",
        path.display()
    );
    assert!(
        !text.contains("ERROR") && !text.contains("INVALID"),
        "kubernetes-validate:\n{text}"
    );
}

/// A response body recorded from a real Kubernetes v1.36.2 API server
/// (`tests/it/fixtures/k8s-1.36/`, copied from the shared recordings).
pub fn k8s_fixture(name: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/it/fixtures/k8s-1.36")
        .join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap()
}
