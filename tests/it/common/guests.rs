//! Plugins written in other guest languages (JavaScript, C), built from source once per test
//! run by their own build scripts, which is what a plugin author runs too.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::Instant;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// Runs `plugins/<lang>/build.sh` once per test run and returns `plugins/<lang>/target`.
fn build(lang: &str, once: &'static OnceLock<PathBuf>, needs: &str) -> &'static Path {
    once.get_or_init(|| {
        let script = Path::new(ROOT).join("plugins").join(lang).join("build.sh");
        let started = Instant::now();
        let status = Command::new("bash")
            .arg(&script)
            .envs(tools_dir())
            .status()
            .expect("run bash");
        assert!(status.success(), "{} failed ({needs})", script.display());
        // Reported, not asserted: how much the guest build adds to the test run.
        eprintln!(
            "plugins/{lang}/build.sh took {:.1} s",
            started.elapsed().as_secs_f64()
        );
        Path::new(ROOT).join("plugins").join(lang).join("target")
    })
}

/// KP_TOOLS_DIR for the build scripts: the parent of $KP_TOOLS_BIN when the test run has one
/// (scripts/test sets it), so the scripts use the same tools dir as the rest of the run.
pub fn tools_dir() -> Option<(&'static str, PathBuf)> {
    std::env::var_os("KP_TOOLS_DIR")
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("KP_TOOLS_BIN")
                .map(PathBuf::from)
                .and_then(|bin| bin.parent().map(Path::to_path_buf))
        })
        .map(|dir| ("KP_TOOLS_DIR", dir))
}

fn output(dir: &Path, name: &str) -> PathBuf {
    let path = dir.join(format!("{name}.wasm"));
    assert!(path.is_file(), "{} was not built", path.display());
    path
}

/// A JavaScript plugin of plugins/js (componentize-js, installed from npm on first use).
pub fn js(name: &str) -> PathBuf {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    output(
        build(
            "js",
            &BUILT,
            "it installs componentize-js from npm; needs Node >= 20",
        ),
        name,
    )
}

/// A C plugin of plugins/c (clang-19, wit-bindgen and wasm-tools from
/// scripts/install-test-tools).
pub fn c(name: &str) -> PathBuf {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    output(
        build(
            "c",
            &BUILT,
            "it needs the C toolchain of scripts/install-test-tools",
        ),
        name,
    )
}
