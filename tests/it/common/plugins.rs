//! Helpers for plugin tests: building the example plugins once, an isolated binary, and
//! running it expecting success or a clean failure.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use serde_json::Value;

/// The sample manifest.
pub const EXAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/examples/web.yaml");

/// Where the plugin crates are built (beside this build's own target directory).
pub fn plugin_target() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target"));
    target.join("plugins")
}

/// Builds plugins/examples once per test run.
pub fn examples() -> &'static Path {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT.get_or_init(|| {
        let manifest = concat!(env!("CARGO_MANIFEST_DIR"), "/plugins/examples/Cargo.toml");
        let status = Command::new(env!("CARGO"))
            .args(["build", "--release", "--target", "wasm32-wasip2", "--manifest-path", manifest])
            .env("CARGO_TARGET_DIR", plugin_target())
            .status()
            .expect("run cargo");
        assert!(status.success(), "building the example plugins failed (is the wasm32-wasip2 target installed? scripts/test installs it)");
        plugin_target().join("wasm32-wasip2/release")
    })
}

pub fn wasm(crate_name: &str) -> PathBuf {
    let path = examples().join(format!("{}.wasm", crate_name.replace('-', "_")));
    assert!(path.is_file(), "{} was not built", path.display());
    path
}

/// A Python plugin of plugins/python, built once per test run by its build script (which
/// installs componentize-py from PyPI on first use).
pub fn python(name: &str) -> PathBuf {
    static BUILT: OnceLock<()> = OnceLock::new();
    BUILT.get_or_init(|| {
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/plugins/python/build.sh");
        let status = Command::new("bash").arg(script).status().expect("run bash");
        assert!(
            status.success(),
            "plugins/python/build.sh failed (it installs componentize-py from PyPI)"
        );
    });
    let path = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/plugins/python/target"
    ))
    .join(format!("{name}.wasm"));
    assert!(path.is_file(), "{} was not built", path.display());
    path
}

/// The binary with its config, cache and data directories in `home`.
pub fn bin(home: &Path) -> assert_cmd::Command {
    let mut cmd = super::bin();
    cmd.env("XDG_CONFIG_HOME", home.join("config"))
        .env("XDG_CACHE_HOME", home.join("cache"))
        .env("XDG_DATA_HOME", home.join("data"))
        .env("HOME", home);
    cmd
}

pub fn run_ok(cmd: &mut assert_cmd::Command) -> String {
    String::from_utf8(cmd.assert().success().get_output().stdout.clone()).unwrap()
}

pub fn run_err(cmd: &mut assert_cmd::Command) -> String {
    let out = cmd.assert().failure().get_output().clone();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        !stderr.contains("thread 'main' panicked"),
        "the host panicked:\n{stderr}"
    );
    assert!(out.stdout.is_empty());
    stderr
}

pub fn docs(text: &str) -> Vec<Value> {
    text.split("\n---\n")
        .filter(|d| !d.trim().is_empty())
        .map(|d| kubectl_pattern::engine::yaml::from_str(d).unwrap())
        .collect()
}
