//! Writing plugins: `plugin new` produces a crate that passes its own test, builds for
//! wasm32-wasip2 and works through the binary; a Python plugin (componentize-py) works end to
//! end too.

use std::process::Command;

use crate::common::plugins::{EXAMPLE, bin, plugin_target, run_ok};

#[test]
fn plugin_new_builds_tests_and_runs() {
    let home = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    let dir = work.path().join("demo");
    let created = run_ok(
        bin(home.path())
            .args(["plugin", "new", "demo-pattern", "--dir"])
            .arg(&dir),
    );
    assert!(
        created.contains("cargo build --release --target wasm32-wasip2"),
        "{created}"
    );
    let manifest = dir.join("Cargo.toml");
    // --locked: the scaffold's Cargo.lock pins what it builds (a crate release cannot break it).
    assert!(dir.join("Cargo.lock").is_file());
    for args in [
        vec!["test", "--locked"],
        vec![
            "build",
            "--locked",
            "--release",
            "--target",
            "wasm32-wasip2",
        ],
    ] {
        let status = Command::new(env!("CARGO"))
            .args(&args)
            .arg("--manifest-path")
            .arg(&manifest)
            .env("CARGO_TARGET_DIR", plugin_target())
            .status()
            .unwrap();
        assert!(
            status.success(),
            "cargo {args:?} failed in the scaffolded crate"
        );
    }
    let plugin = plugin_target().join("wasm32-wasip2/release/demo_pattern.wasm");
    // The crate names the SDK's build script: the component starts with a heap.
    let workload = crate::wasm_memory::deployment(1500);
    let grown = crate::wasm_memory::grown_by_render(&plugin, &workload);
    assert_eq!(grown, 0, "the scaffolded plugin grew its memory");
    // `plugin install DIR` finds the crate's build where cargo put it: under $CARGO_TARGET_DIR.
    let other_home = tempfile::tempdir().unwrap();
    let installed = run_ok(
        bin(other_home.path())
            .env("CARGO_TARGET_DIR", plugin_target())
            .args(["plugin", "install"])
            .arg(&dir),
    );
    assert!(installed.contains("demo-pattern"), "{installed}");
    let listed = run_ok(bin(other_home.path()).args(["plugin", "list", "-o", "json"]));
    assert!(listed.contains("demo_pattern.wasm"), "{listed}");
    let explain = run_ok(
        bin(home.path())
            .args(["explain", "--plugin"])
            .arg(&plugin)
            .arg("demo-pattern"),
    );
    assert!(explain.contains("demo-pattern"), "{explain}");
    let out = run_ok(
        bin(home.path())
            .args(["add", "-q", "--plugin"])
            .arg(&plugin)
            .args(["demo-pattern", "-f", EXAMPLE]),
    );
    let file = work.path().join("out.yaml");
    std::fs::write(&file, out).unwrap();
    crate::common::validate(&file);
    // refuses to overwrite
    let err = bin(home.path())
        .args(["plugin", "new", "demo-pattern", "--dir"])
        .arg(&dir)
        .assert()
        .failure()
        .get_output()
        .stderr
        .clone();
    assert!(String::from_utf8_lossy(&err).contains("already exists and is not empty"));
}

#[test]
fn a_python_plugin_works_end_to_end() {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/plugins/python/build.sh");
    let status = Command::new("bash")
        .arg(script)
        .arg("py-log-tail")
        .status()
        .unwrap();
    assert!(
        status.success(),
        "plugins/python/build.sh failed (it installs componentize-py from PyPI)"
    );
    let plugin = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/plugins/python/target/py-log-tail.wasm"
    );
    let home = tempfile::tempdir().unwrap();
    let out = run_ok(bin(home.path()).args([
        "add",
        "-q",
        "log-shipper",
        "py-log-tail",
        "--plugin",
        plugin,
        "--set",
        "py-log-tail.logDir=/var/log/tail",
        "-f",
        EXAMPLE,
    ]));
    assert!(
        out.contains("name: py-log-tail") && out.contains("name: log-shipper"),
        "{out}"
    );
    let file = home.path().join("out.yaml");
    std::fs::write(&file, &out).unwrap();
    crate::common::validate(&file);
    let removed = run_ok(
        bin(home.path())
            .args(["remove", "-q", "py-log-tail"])
            .write_stdin(out),
    );
    assert!(!removed.contains("py-log-tail"));
}
