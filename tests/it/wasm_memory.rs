//! The example plugins start with a heap (`plugins/sdk/plugin-build.rs`): a render in a fresh
//! instance grows no linear memory, which would cost the host an `mprotect` and a cross-core
//! TLB flush on every call. The same plugin built without the heap grows memory on the same
//! render, so the measurement is seen to work.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use kubectl_pattern_wasm::runtime::{self, wit};
use kubectl_pattern_wasm::{Limits, cache, convert};
use serde_json::{Value, json};

use crate::common::plugins::{plugin_target, wasm};

const LIMITS: Limits = Limits {
    timeout: std::time::Duration::from_secs(60),
    memory: 128 << 20,
    output: Limits::DEFAULT_OUTPUT,
};

/// A Deployment like the benchmark's (one container with ports, resources and a probe) with
/// `settings` env vars, annotated for vault-agent.
pub fn deployment(settings: usize) -> String {
    let env: Vec<Value> = (0..settings)
        .map(|i| json!({"name": format!("SETTING_{i}"), "value": format!("value {i} of the app")}))
        .collect();
    json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "checkout", "namespace": "shop", "labels": {"app": "checkout"}},
        "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "checkout"}},
            "template": {
                "metadata": {"labels": {"app": "checkout"}, "annotations":
                    {"vault-agent.kubectl-pattern.io/secret-db": "database/creds/checkout"}},
                "spec": {"containers": [{
                    "name": "app", "image": "ghcr.io/shop/checkout:2.4.1",
                    "ports": [{"name": "http", "containerPort": 8080},
                              {"name": "metrics", "containerPort": 9090}],
                    "env": env,
                    "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}},
                    "readinessProbe": {"httpGet": {"path": "/healthz", "port": "http"}}}]}}}
    })
    .to_string()
}

/// Renders `workload` with the plugin at `path` (its defaults, then its examples, as
/// parameters) in a fresh instance: the bytes of memory the instance grew by.
pub fn grown_by_render(path: &Path, workload: &str) -> usize {
    let shown = path.display();
    // Compiled once, outside the user's compile cache; described and rendered from it.
    let bytes = std::fs::read(path).unwrap();
    let (component, _) = cache::compile(path, &bytes).unwrap();
    let loaded = runtime::link(path, &component).unwrap();
    let info = loaded
        .call("describe", &LIMITS, |plugin, store| plugin.describe(store))
        .unwrap_or_else(|e| panic!("{shown}: {e}"))
        .value;
    let spec = convert::spec(info, path, &cache::sha256_hex(&bytes)).unwrap();
    let mut params: BTreeMap<String, Value> = spec
        .params
        .iter()
        .filter_map(|p| Some((p.name.clone(), p.default.clone()?)))
        .collect();
    params.extend(spec.examples.clone());
    let request = wit::RenderRequest {
        workload_json: workload.to_string(),
        params_json: serde_json::to_string(&params).unwrap(),
        instance: spec.id.clone(),
        main_container: "app".into(),
        target: wit::TargetInfo {
            kube_version: Some(wit::KubeVersion {
                major: 1,
                minor: 37,
            }),
            sidecar_mode: wit::SidecarMode::Native,
        },
    };
    let call = loaded
        .call(&spec.id, &LIMITS, |plugin, store| {
            plugin.render(store, &request)
        })
        .unwrap_or_else(|e| panic!("{shown}: {e}"));
    let contribution = call
        .value
        .unwrap_or_else(|e| panic!("{shown} refused: {e:?}"));
    assert!(
        !contribution.containers.is_empty() || !contribution.native_sidecars.is_empty(),
        "{shown} added no helper"
    );
    call.grown
}

#[test]
fn the_sdk_examples_render_without_growing_memory() {
    // 1,500 env vars make a 90 KB object, read and held in the plugin as JSON values.
    for settings in [3, 1500] {
        let workload = deployment(settings);
        for example in ["otel-collector", "db-proxy", "vault-agent"] {
            let grown = grown_by_render(&wasm(example), &workload);
            assert_eq!(
                grown, 0,
                "{example} grew its memory with {settings} env vars"
            );
        }
    }
}

/// otel-collector built with `KUBECTL_PATTERN_PLUGIN_HEAP=0`, in a target directory of its own.
fn otel_collector_without_heap() -> PathBuf {
    let target = plugin_target().join("no-heap");
    let manifest = concat!(env!("CARGO_MANIFEST_DIR"), "/plugins/examples/Cargo.toml");
    let status = Command::new(env!("CARGO"))
        .args([
            "build",
            "--release",
            "--target",
            "wasm32-wasip2",
            "-p",
            "otel-collector",
        ])
        .args(["--manifest-path", manifest])
        .env("CARGO_TARGET_DIR", &target)
        .env("KUBECTL_PATTERN_PLUGIN_HEAP", "0")
        .status()
        .expect("run cargo");
    assert!(
        status.success(),
        "building otel-collector without a heap failed"
    );
    target.join("wasm32-wasip2/release/otel_collector.wasm")
}

#[test]
fn without_the_heap_the_same_render_grows_memory() {
    let grown = grown_by_render(&otel_collector_without_heap(), &deployment(1500));
    assert!(
        grown >= 64 << 10,
        "otel-collector without a heap grew {grown} bytes"
    );
}
