//! The crate structure holds: the engine depends on none of the heavy or impure crates (no
//! clap, kube, wasmtime, tokio, rayon, terminal UI), as `cargo tree` reports it.

use std::process::Command;

/// Crates the engine must never depend on, directly or not.
const FORBIDDEN: &[&str] = &[
    "clap",
    "kube",
    "kube-client",
    "kube-core",
    "kube-runtime",
    "wasmtime",
    "wasmtime-wasi",
    "tokio",
    "rayon",
    "dialoguer",
    "indicatif",
    "tempfile",
];

fn tree(package: &str) -> Vec<String> {
    let out = Command::new(env!("CARGO"))
        .args([
            "tree",
            "--locked",
            "--offline",
            "-e",
            "normal",
            "--prefix",
            "none",
            "-p",
        ])
        .arg(package)
        .arg("--manifest-path")
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml"))
        .output()
        .expect("run cargo tree");
    assert!(
        out.status.success(),
        "cargo tree failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_whitespace().next().map(str::to_string))
        .collect()
}

#[test]
fn the_engine_depends_on_no_heavy_or_impure_crate() {
    let deps = tree("kubectl-pattern-engine");
    assert!(
        deps.iter().any(|d| d == "k8s-openapi") && deps.iter().any(|d| d == "handlebars"),
        "cargo tree did not list the engine's own dependencies: {deps:?}"
    );
    let found: Vec<&String> = deps
        .iter()
        .filter(|d| {
            FORBIDDEN.contains(&d.as_str()) || d.starts_with("wasmtime") || d.starts_with("kube-")
        })
        .collect();
    assert!(found.is_empty(), "the engine depends on {found:?}");
}

#[test]
fn the_io_layer_has_no_runtime_or_ui() {
    let deps = tree("kubectl-pattern-io");
    let found: Vec<&String> = deps
        .iter()
        .filter(|d| {
            d.starts_with("wasmtime")
                || d.starts_with("kube-")
                || ["kube", "tokio", "clap"].contains(&d.as_str())
        })
        .collect();
    assert!(found.is_empty(), "the I/O layer depends on {found:?}");
}
