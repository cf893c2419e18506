//! The foreign binaries run: linux/arm64 under `qemu-aarch64-static`, windows/amd64 under
//! `wine`, each printing the same `version`, `list`, `add log-shipper` and plugin output as
//! the native linux/amd64 binary from the same release; and the plugin compile cache, shared by
//! two architectures, keeps one entry per architecture instead of loading the other's code.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::{dist, unpack};

/// A program that runs a foreign binary; its absence fails the test (scripts/release-checks
/// decides beforehand, and says so, when a runner is missing).
fn runner(name: &str) -> PathBuf {
    let path = std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
        .map(|d| d.join(name))
        .find(|p| p.is_file());
    path.unwrap_or_else(|| panic!("{name} is not on PATH (scripts/install-test-tools installs it)"))
}

struct Run {
    stdout: String,
    stderr: String,
}

/// Runs `bin args` (through `via` when set) with its XDG directories under `home`.
fn run(via: Option<&Path>, bin: &Path, args: &[&str], home: &Path) -> Run {
    let mut cmd = match via {
        Some(r) => {
            let mut c = Command::new(r);
            c.arg(bin);
            c
        }
        None => Command::new(bin),
    };
    cmd.args(args)
        .current_dir(home)
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env("XDG_CACHE_HOME", home.join("cache"))
        .env("XDG_DATA_HOME", home.join("data"))
        .env("HOME", home)
        .env("NO_COLOR", "1")
        // wine: a prefix of its own, no debug chatter on stderr, no desktop integration.
        .env("WINEPREFIX", home.join("wine"))
        .env("WINEDEBUG", "-all")
        .env("WINEDLLOVERRIDES", "mscoree,mshtml=")
        .env_remove("DISPLAY");
    let out = cmd.output().expect("run the binary");
    let r = Run {
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    assert!(
        out.status.success(),
        "{} {args:?} failed ({}):\n{}",
        bin.display(),
        out.status,
        r.stderr
    );
    r
}

/// The commands whose output must not depend on the platform. They run in `home`, which holds
/// the example manifest and the plugin (relative paths read the same file natively and under
/// wine, which maps `/` to `Z:`).
fn commands(home: &Path) -> Vec<Vec<&'static str>> {
    std::fs::copy(crate::common::plugins::EXAMPLE, home.join("web.yaml")).unwrap();
    std::fs::copy(
        crate::common::plugins::wasm("otel-collector"),
        home.join("otel.wasm"),
    )
    .unwrap();
    vec![
        vec!["version"],
        vec!["list"],
        vec!["add", "log-shipper", "-f", "web.yaml"],
        vec![
            "add",
            "otel-collector",
            "--plugin",
            "otel.wasm",
            "-f",
            "web.yaml",
            "-q",
        ],
    ]
}

fn cache_entries(home: &Path) -> Vec<String> {
    let dir = home.join("cache/kubectl-pattern/wasm");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .map(|r| {
            r.filter_map(|e| e.ok()?.file_name().into_string().ok())
                .collect()
        })
        .unwrap_or_default();
    names.retain(|n| n.ends_with(".cwasm"));
    names.sort();
    names
}

/// Runs every command natively and through `via` on `foreign`, with one shared home, and
/// compares the outputs; returns the cache entries afterwards.
fn same_output_as_native(via: &Path, foreign: &Path, label: &str) -> Vec<String> {
    let dir = dist();
    let (_n, native) = unpack(&dir, "linux", "amd64");
    let home = tempfile::tempdir().unwrap();
    let mut first_native_cache = Vec::new();
    for args in commands(home.path()) {
        let want = run(None, &native, &args, home.path());
        if args.contains(&"--plugin") {
            first_native_cache = cache_entries(home.path());
            assert_eq!(
                first_native_cache.len(),
                1,
                "the native run cached the plugin"
            );
        }
        let got = run(Some(via), foreign, &args, home.path());
        assert_eq!(
            got.stdout,
            want.stdout,
            "{label}: `{}` differs from native",
            args.join(" ")
        );
        assert!(
            !want.stdout.is_empty(),
            "`{}` printed nothing",
            args.join(" ")
        );
        eprintln!(
            "{label}: `kubectl-pattern {}`: same {} bytes as native",
            args.join(" "),
            got.stdout.len()
        );
    }
    let after = cache_entries(home.path());
    assert!(
        after.contains(&first_native_cache[0]),
        "the native entry is still there"
    );
    after
}

#[test]
#[ignore = "needs scripts/release's archives: run by scripts/release-checks"]
fn linux_arm64_under_qemu_prints_what_the_native_binary_prints() {
    let (_a, arm64) = unpack(&dist(), "linux", "arm64");
    let cache = same_output_as_native(&runner("qemu-aarch64-static"), &arm64, "linux/arm64 (qemu)");
    assert_eq!(
        cache.len(),
        2,
        "one precompiled entry per architecture, never the other's code: {cache:?}"
    );
}

#[test]
#[ignore = "needs scripts/release's archives: run by scripts/release-checks"]
fn windows_amd64_under_wine_prints_what_the_native_binary_prints() {
    let (_w, exe) = unpack(&dist(), "windows", "amd64");
    wine_bcryptprimitives(exe.parent().unwrap());
    let cache = same_output_as_native(&runner("wine"), &exe, "windows/amd64 (wine)");
    // Same CPU, other OS and calling convention: native code compiled for linux must not be
    // loaded by the windows binary either.
    assert_eq!(
        cache.len(),
        2,
        "one precompiled entry per platform: {cache:?}"
    );
}

/// Builds the stand-in for Windows' `bcryptprimitives.dll` (see `wine_bcryptprimitives.c`) into
/// `dir`: Windows 10 and later ship the DLL, wine 8 does not.
fn wine_bcryptprimitives(dir: &Path) {
    let source =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it/release/wine_bcryptprimitives.c");
    let status = Command::new(runner("zig"))
        .args([
            "cc",
            "-target",
            "x86_64-windows-gnu",
            "-shared",
            "-O2",
            "-o",
        ])
        .arg(dir.join("bcryptprimitives.dll"))
        .arg(&source)
        .arg("-ladvapi32")
        .current_dir(dir)
        .status()
        .expect("run zig");
    assert!(
        status.success(),
        "zig could not build the bcryptprimitives stand-in"
    );
}
