//! `new`'s main container gets resource requests and limits (defaults, or `--requests` and
//! `--limits` in kubectl run's spelling), so what `new --yes` writes passes its own `lint`.

use serde_json::Value;

/// `new ARGS --yes` piped into `lint -o json -f -`: the findings of every object.
fn new_then_lint(args: &[&str]) -> (String, Vec<Value>) {
    let out = crate::common::bin()
        .arg("new")
        .args(args)
        .arg("--yes")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "new {args:?}: {err}");
    let manifest = String::from_utf8(out.stdout).unwrap();
    let lint = crate::common::bin()
        .args(["lint", "-o", "json", "-f", "-"])
        .write_stdin(manifest.clone())
        .output()
        .unwrap();
    let reports: Value = serde_json::from_slice(&lint.stdout).unwrap();
    let findings = reports
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|r| r["findings"].as_array().cloned().unwrap_or_default())
        .collect();
    (manifest, findings)
}

#[test]
fn what_new_writes_passes_its_own_lint() {
    let dir = tempfile::tempdir().unwrap();
    for (kind, extra) in [
        ("deployment", &["--port", "80", "--service"][..]),
        ("statefulset", &["--port", "80"][..]),
        ("daemonset", &[][..]),
        ("job", &[][..]),
        ("cronjob", &[][..]),
        ("pod", &[][..]),
    ] {
        let mut args = vec![kind, "web", "--image", "nginx:1.27.3", "-p", "log-shipper"];
        args.extend_from_slice(extra);
        let (manifest, findings) = new_then_lint(&args);
        assert!(findings.is_empty(), "{kind}: {findings:#?}\n{manifest}");
        assert!(
            manifest.contains("requests:\n") && manifest.contains("cpu: 100m"),
            "{manifest}"
        );
        let path = dir.path().join(format!("{kind}.yaml"));
        std::fs::write(&path, &manifest).unwrap();
        crate::common::validate(&path);
    }
}

#[test]
fn requests_and_limits_flags_set_the_main_containers_resources() {
    let (manifest, findings) = new_then_lint(&[
        "deployment",
        "api",
        "--image",
        "nginx:1.27.3",
        "--requests",
        "cpu=250m,memory=256Mi",
        "--limits",
        "cpu=1,memory=512Mi",
    ]);
    assert!(findings.is_empty(), "{findings:#?}");
    let object: Value = kubectl_pattern::engine::yaml::from_str(&manifest).unwrap();
    assert_eq!(
        object["spec"]["template"]["spec"]["containers"][0]["resources"],
        serde_json::json!({
            "requests": {"cpu": "250m", "memory": "256Mi"},
            "limits": {"cpu": "1", "memory": "512Mi"}
        })
    );
    // Leaving them out is possible, and lint then says so: the check above can fail.
    let (_, findings) = new_then_lint(&[
        "deployment",
        "api",
        "--image",
        "nginx:1.27.3",
        "--requests",
        "none",
        "--limits",
        "none",
    ]);
    assert!(
        findings.iter().any(|f| f["rule"] == "MCP006"),
        "{findings:#?}"
    );
}

#[test]
fn bad_resources_are_usage_errors_that_name_the_flag() {
    for (flag, value, needle) in [
        ("--requests", "cpu=lots", "not a quantity"),
        ("--limits", "gpu=1", "not a resource name"),
        ("--requests", "cpu=2", "above its limit"),
    ] {
        let out = crate::common::bin()
            .args([
                "new",
                "deployment",
                "web",
                "--image",
                "nginx:1.27.3",
                flag,
                value,
                "--yes",
            ])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{flag} {value}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains(needle) && err.contains("--"),
            "{flag} {value}: {err}"
        );
    }
}
