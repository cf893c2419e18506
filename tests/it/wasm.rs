//! WebAssembly plugins end to end: the example plugins are built from source for
//! wasm32-wasip2 and run through the binary (add, remove, explain, install, composed with a
//! built-in), and every hostile fixture is contained with its typed error.

use std::path::Path;

use crate::common::plugins::{EXAMPLE, bin, docs, run_err, run_ok, wasm};
use serde_json::Value;

#[test]
fn example_plugins_add_explain_and_validate() {
    let home = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let annotated = dir.path().join("annotated.yaml");
    let text = std::fs::read_to_string(EXAMPLE).unwrap();
    std::fs::write(&annotated, text.replacen("      labels:\n        app: web\n    spec:", "      labels:\n        app: web\n      annotations:\n        vault-agent.kubectl-pattern.io/secret-db: database/creds/web\n    spec:", 1)).unwrap();
    for (crate_name, id, sets) in [
        ("otel-collector", "otel-collector", vec![]),
        (
            "db-proxy",
            "db-proxy",
            vec!["--set", "target=postgres.db.svc:5432"],
        ),
        (
            "vault-agent",
            "vault-agent",
            vec![
                "--set",
                "role=web",
                "--set",
                "address=https://vault.example.com:8200",
            ],
        ),
    ] {
        let plugin = wasm(crate_name);
        let explain = run_ok(
            bin(home.path())
                .args(["explain", "--plugin"])
                .arg(&plugin)
                .arg(id),
        );
        assert!(
            explain.contains("WHAT IT DOES") && explain.contains("plugin ("),
            "{explain}"
        );
        let out = run_ok(
            bin(home.path())
                .args(["add", "-q", "--plugin"])
                .arg(&plugin)
                .arg(id)
                .args(&sets)
                .arg("-f")
                .arg(&annotated),
        );
        assert!(
            out.contains(&format!("\\\"pattern\\\":\\\"{id}\\\"")),
            "{id}: tracked\n{out}"
        );
        let file = dir.path().join(format!("{id}.yaml"));
        std::fs::write(&file, &out).unwrap();
        crate::common::validate(&file);
    }
}

#[test]
fn a_plugin_composes_with_a_builtin_and_removes_cleanly() {
    let home = tempfile::tempdir().unwrap();
    let plugin = wasm("otel-collector");
    let out = run_ok(
        bin(home.path())
            .args(["add", "-q", "log-shipper", "otel-collector", "--plugin"])
            .arg(&plugin)
            .args(["-f", EXAMPLE]),
    );
    let spec = &docs(&out)[0]["spec"]["template"]["spec"];
    let names: Vec<&str> = spec["initContainers"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["name"].as_str())
        .collect();
    assert!(
        names.contains(&"log-shipper") && names.contains(&"otel-collector"),
        "{names:?}"
    );
    let removed = run_ok(
        bin(home.path())
            .args(["remove", "-q", "log-shipper", "otel-collector"])
            .write_stdin(out),
    );
    let original = docs(&std::fs::read_to_string(EXAMPLE).unwrap());
    assert_eq!(docs(&removed), original);
}

#[test]
fn install_list_use_tamper_and_remove() {
    let home = tempfile::tempdir().unwrap();
    let plugin = wasm("otel-collector");
    let installed = run_ok(bin(home.path()).args(["plugin", "install"]).arg(&plugin));
    assert!(
        installed.starts_with("installed otel-collector"),
        "{installed}"
    );
    let cache = std::fs::read_dir(home.path().join("cache/kubectl-pattern/wasm"))
        .unwrap()
        .count();
    assert_eq!(cache, 1, "precompiled at install time");
    let listed = run_ok(bin(home.path()).args(["plugin", "list", "-o", "json"]));
    let listed: Vec<Value> = serde_json::from_str(&listed).unwrap();
    assert_eq!(listed[0]["name"], "otel-collector");
    let list = run_ok(bin(home.path()).args(["list"]));
    assert!(
        list.lines()
            .any(|l| l.starts_with("otel-collector") && l.contains("plugin")),
        "{list}"
    );
    run_ok(bin(home.path()).args(["add", "-q", "otel-collector", "-f", EXAMPLE]));
    let inspect = run_ok(bin(home.path()).args(["plugin", "inspect", "otel-collector"]));
    assert!(
        inspect.contains("wit:     kubectl-pattern:plugin/pattern@0.2.0")
            && inspect.contains("wasi:cli/environment"),
        "{inspect}"
    );
    // Parameters as `explain` lists them, not as raw JSON.
    assert!(
        inspect.contains("  image (image, default ") && !inspect.contains("{\""),
        "{inspect}"
    );

    // a modified file is refused, with the way back
    let file = home
        .path()
        .join("data/kubectl-pattern/plugins")
        .join(listed[0]["file"].as_str().unwrap());
    let mut bytes = std::fs::read(&file).unwrap();
    bytes.push(0);
    std::fs::write(&file, bytes).unwrap();
    let err = run_err(bin(home.path()).args(["add", "otel-collector", "-f", EXAMPLE]));
    assert!(
        err.contains("was modified after it was installed")
            && err.contains("kubectl pattern plugin install"),
        "{err}"
    );

    // a wrong --sha256 installs nothing
    let err = run_err(
        bin(home.path())
            .args(["plugin", "install"])
            .arg(wasm("db-proxy"))
            .args(["--sha256", &"0".repeat(64)]),
    );
    assert!(err.contains("not the expected"), "{err}");
    run_ok(bin(home.path()).args(["plugin", "remove", "otel-collector"]));
    assert!(!file.exists());
    assert!(run_ok(bin(home.path()).args(["plugin", "list"])).contains("no plugins installed"));
}

/// Runs a hostile fixture (compile cache warmed by a first run) and returns the second run's
/// stderr.
fn hostile(name: &str, extra: &[&str]) -> String {
    let home = tempfile::tempdir().unwrap();
    let plugin = wasm(name);
    run_err(
        bin(home.path())
            .args(["add", "--plugin"])
            .arg(&plugin)
            .arg(name)
            .args(extra)
            .args(["-f", EXAMPLE]),
    );
    run_err(
        bin(home.path())
            .args(["add", "--plugin"])
            .arg(&plugin)
            .arg(name)
            .args(extra)
            .args(["-f", EXAMPLE]),
    )
}

#[test]
fn an_endless_loop_stops_at_the_deadline() {
    let err = hostile("hostile-loop", &["--plugin-timeout", "1"]);
    assert!(err.contains("exceeded its deadline of 1.0 s"), "{err}");
}

#[test]
fn a_call_blocked_in_the_host_is_stopped_at_the_deadline_and_the_run_reports() {
    // A guest sleeping in WASI (monotonic-clock subscribe + pollable.block) on a stream of two
    // workloads: each render is stopped at the 1 s deadline with the same typed error as a
    // CPU-bound loop, and the process ends normally with its report (no watchdog exit).
    let home = tempfile::tempdir().unwrap();
    let plugin = wasm("hostile-sleep");
    let stream = format!(
        "{}\n---\n{}",
        std::fs::read_to_string(EXAMPLE).unwrap().trim_end(),
        std::fs::read_to_string(EXAMPLE)
            .unwrap()
            .replace("name: web", "name: shop")
    );
    let out = bin(home.path())
        .args(["add", "--plugin-timeout", "1", "--plugin"])
        .arg(&plugin)
        .args(["hostile-sleep", "-f", "-"])
        .write_stdin(stream)
        .assert()
        .code(1)
        .get_output()
        .clone();
    assert!(out.stdout.is_empty(), "nothing half-written");
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(!err.contains("panicked"), "{err}");
    let stopped: Vec<&str> = err
        .lines()
        .filter(|l| l.contains("exceeded its deadline of 1.0 s and was stopped"))
        .collect();
    assert!(
        !stopped.is_empty() && stopped[0].contains("deployment/web"),
        "the typed deadline error, for the first workload:\n{err}"
    );
    assert!(
        !err.contains("while blocked in a host call"),
        "no watchdog: {err}"
    );
}

#[test]
fn a_memory_bomb_hits_the_memory_limit() {
    let err = hostile("hostile-memory", &["--plugin-memory", "64"]);
    assert!(err.contains("more than 64 MiB of memory"), "{err}");
}

#[test]
fn huge_output_is_refused() {
    // Enough memory for the 64 MiB answer, so the output cap is what stops it.
    let err = hostile("hostile-output", &["--plugin-memory", "512"]);
    assert!(
        err.contains("bytes, more than the 4194304 allowed"),
        "{err}"
    );
}

#[test]
fn an_invalid_contribution_is_refused_with_the_fragment() {
    let err = hostile("hostile-invalid", &[]);
    assert!(err.contains("returned an invalid container #1"), "{err}");
}

#[test]
fn unknown_fields_in_a_fragment_are_refused() {
    let err = hostile("hostile-invalid", &["--set", "mode=unknown-field"]);
    assert!(
        err.contains("is not a field of its Kubernetes type"),
        "{err}"
    );
}

#[test]
fn altering_the_main_container_is_refused() {
    let err = hostile("hostile-alter-main", &[]);
    assert!(
        err.contains("already exists and does not belong to pattern instance"),
        "{err}"
    );
}

#[test]
fn a_panic_shows_its_message() {
    let err = hostile("hostile-panic", &[]);
    assert!(
        err.contains("crashed") && err.contains("KP-PANIC-4711"),
        "the guest's panic message is shown:\n{err}"
    );
}

#[test]
fn the_sandbox_grants_no_files_env_or_network() {
    let home = tempfile::tempdir().unwrap();
    let marker = Path::new("/tmp/kp-escape");
    let _ = std::fs::remove_file(marker);
    let out = crate::common::bin()
        .env("XDG_CACHE_HOME", home.path().join("cache"))
        .env("HOME", home.path())
        .env("KUBECONFIG", "/etc/passwd")
        .args(["add", "--plugin"])
        .arg(wasm("hostile-escape"))
        .args(["hostile-escape", "-f", EXAMPLE])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stderr).unwrap();
    let warnings: Vec<&str> = text
        .lines()
        .filter(|l| l.contains(": denied") || l.contains("ALLOWED"))
        .collect();
    assert!(
        warnings.len() >= 5,
        "the fixture reports each attempt:\n{text}"
    );
    assert!(!text.contains("ALLOWED"), "something got through:\n{text}");
    assert!(!marker.exists(), "the plugin wrote outside the sandbox");

    // Sockets are stubs: the guest instantiates, and the call traps naming itself.
    let err = run_err(
        bin(home.path())
            .args(["add", "--plugin"])
            .arg(wasm("hostile-escape"))
            .args(["hostile-escape", "--set", "network=true", "-f", EXAMPLE]),
    );
    assert!(
        err.contains("crashed: it called wasi:sockets/tcp-create-socket@")
            && err.contains("the sandbox has no network"),
        "{err}"
    );
}

#[test]
fn an_unsupported_import_is_named() {
    let home = tempfile::tempdir().unwrap();
    let component = wat::parse_str(r#"(component (import "wasi:http/outgoing-handler@0.2.0" (instance (export "handle" (func)))))"#).unwrap();
    let file = home.path().join("http.wasm");
    std::fs::write(&file, component).unwrap();
    let err = run_err(
        bin(home.path())
            .args(["add", "--plugin"])
            .arg(&file)
            .args(["anything", "-f", EXAMPLE]),
    );
    assert!(
        err.contains(
            "imports wasi:http/outgoing-handler@0.2.0, which the sandbox does not provide"
        ),
        "{err}"
    );
}

#[test]
fn an_unusable_cache_entry_is_recompiled() {
    let home = tempfile::tempdir().unwrap();
    let plugin = wasm("otel-collector");
    let first = run_ok(
        bin(home.path())
            .args(["add", "-q", "--plugin"])
            .arg(&plugin)
            .args(["otel-collector", "-f", EXAMPLE]),
    );
    let cache = home.path().join("cache/kubectl-pattern/wasm");
    let entry = std::fs::read_dir(&cache)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    std::fs::write(&entry, b"not a precompiled component").unwrap();
    let second = run_ok(
        bin(home.path())
            .args(["add", "-q", "--plugin"])
            .arg(&plugin)
            .args(["otel-collector", "-f", EXAMPLE]),
    );
    assert_eq!(first, second);
    assert!(
        std::fs::read(&entry).unwrap().len() > 1000,
        "the entry was rewritten"
    );
}
