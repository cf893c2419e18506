//! Plugins in other guest languages, built from source in the test run by their build scripts
//! and run through the binary like the Rust examples: a JavaScript plugin (componentize-js)
//! and a C plugin (clang's wasm32 target, wit-bindgen C bindings, wasm-tools).

use std::path::Path;

use crate::common::guests;
use crate::common::plugins::{EXAMPLE, bin, docs, run_err, run_ok};

/// `add` with the plugin on the sample manifest: the output validates against Kubernetes 1.37
/// and `remove` gives back the input byte for byte. Returns the output. `home` holds the
/// binary's cache: later calls in the same home reuse the compiled component.
fn add_validate_remove(home: &Path, plugin: &Path, id: &str, sets: &[&str]) -> String {
    let input = std::fs::read_to_string(EXAMPLE).unwrap();
    let mut add = bin(home);
    add.args(["add", "-q", "--plugin"]).arg(plugin).arg(id);
    for set in sets {
        add.args(["--set", set]);
    }
    let out = run_ok(add.args(["-f", EXAMPLE]));
    let file = home.join("out.yaml");
    std::fs::write(&file, &out).unwrap();
    crate::common::validate(&file);
    let removed = run_ok(
        bin(home)
            .args(["remove", "-q", id])
            .write_stdin(out.clone()),
    );
    assert_eq!(removed, input, "remove {id} did not restore the input");
    out
}

/// `explain` of the plugin shows every one of `needles`.
fn explain_shows(home: &Path, plugin: &Path, id: &str, needles: &[&str]) {
    let explain = run_ok(bin(home).args(["explain", "--plugin"]).arg(plugin).arg(id));
    for needle in needles {
        assert!(
            explain.contains(needle),
            "explain lacks {needle:?}:\n{explain}"
        );
    }
}

/// The helper container the plugin added to the Deployment, and the main container.
fn containers(out: &str, helper: &str) -> (serde_json::Value, serde_json::Value) {
    let deployment = docs(out).into_iter().next().unwrap();
    let spec = &deployment["spec"]["template"]["spec"];
    let all: Vec<&serde_json::Value> = spec["containers"]
        .as_array()
        .into_iter()
        .chain(spec["initContainers"].as_array())
        .flatten()
        .collect();
    let find = |name: &str| {
        all.iter()
            .find(|c| c["name"] == name)
            .map(|c| (*c).clone())
            .unwrap_or_else(|| panic!("no container {name} in\n{out}"))
    };
    (find(helper), find("web"))
}

#[test]
fn a_javascript_plugin_adds_explains_and_removes() {
    let plugin = guests::js("js-config-reload");
    let home = tempfile::tempdir().unwrap();
    let out = add_validate_remove(
        home.path(),
        &plugin,
        "js-config-reload",
        &["configMap=web-config", "reloadPort=8081"],
    );
    let (sidecar, web) = containers(&out, "js-config-reload");
    assert_eq!(
        sidecar["args"][1], "--webhook-url=http://127.0.0.1:8081/-/reload",
        "{out}"
    );
    assert_eq!(web["volumeMounts"][0]["name"], "js-config-reload-config");
    insta::assert_snapshot!("js-config-reload-add", out);

    explain_shows(
        home.path(),
        &plugin,
        "js-config-reload",
        &[
            "WHAT IT DOES",
            "configmap-reload",
            "configMap",
            "reloadPort",
            // the example from the plugin's info
            "prometheus-config",
        ],
    );

    // The plugin's typed error reaches the user (same home: the compiled component is reused).
    let err = run_err(
        bin(home.path())
            .args(["add", "-q", "--plugin"])
            .arg(&plugin)
            .args(["js-config-reload", "--set", "configMap=web-config"])
            .args(["--set", "mountPath=/usr", "-f", EXAMPLE]),
    );
    assert!(
        err.contains("mountPath /usr would hide the image's own files"),
        "{err}"
    );
}

#[test]
fn a_c_plugin_adds_explains_and_removes() {
    let plugin = guests::c("c-tcp-ambassador");
    let home = tempfile::tempdir().unwrap();
    let out = add_validate_remove(
        home.path(),
        &plugin,
        "c-tcp-ambassador",
        &["target=postgres.db.svc:5432", "envName=DATABASE_ADDR"],
    );
    let (sidecar, web) = containers(&out, "c-tcp-ambassador");
    assert_eq!(
        sidecar["args"],
        serde_json::json!([
            "-d",
            "TCP-LISTEN:15432,bind=127.0.0.1,fork,reuseaddr",
            "TCP:postgres.db.svc:5432"
        ]),
        "{out}"
    );
    assert_eq!(
        web["env"],
        serde_json::json!([{"name": "DATABASE_ADDR", "value": "127.0.0.1:15432"}]),
        "{out}"
    );
    insta::assert_snapshot!("c-tcp-ambassador-add", out);

    explain_shows(
        home.path(),
        &plugin,
        "c-tcp-ambassador",
        &[
            "WHAT IT DOES",
            "socat",
            "listenPort",
            "envName",
            // the example from the plugin's info
            "postgres.db.svc.cluster.local:5432",
        ],
    );

    // The pattern lets 99999 through; the plugin's own check names the fix.
    let err = run_err(
        bin(home.path())
            .args(["add", "-q", "--plugin"])
            .arg(&plugin)
            .args([
                "c-tcp-ambassador",
                "--set",
                "target=db:99999",
                "-f",
                EXAMPLE,
            ]),
    );
    assert!(
        err.contains("target db:99999 has no port in 1-65535"),
        "{err}"
    );
}
