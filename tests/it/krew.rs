//! The krew plugin manifest has every field krew requires, for every platform we ship.

use serde_json::Value;

fn manifest() -> Value {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/krew-manifest.yaml"))
        .unwrap();
    kubectl_pattern::engine::yaml::from_str(&text).unwrap()
}

#[test]
fn manifest_has_the_required_fields() {
    let m = manifest();
    assert_eq!(
        m["apiVersion"],
        "krew.googlecontainertools.github.com/v1alpha2"
    );
    assert_eq!(m["kind"], "Plugin");
    assert_eq!(
        m["metadata"]["name"], "pattern",
        "kubectl finds kubectl-pattern as `kubectl pattern`"
    );
    let spec = &m["spec"];
    assert_eq!(
        spec["version"],
        format!("v{}", env!("CARGO_PKG_VERSION")),
        "manifest version follows Cargo.toml"
    );
    for field in ["homepage", "shortDescription", "description"] {
        assert!(
            spec[field].as_str().is_some_and(|s| !s.trim().is_empty()),
            "spec.{field}"
        );
    }
    assert!(
        spec["shortDescription"].as_str().unwrap().len() <= 50,
        "krew keeps short descriptions short"
    );
}

#[test]
fn every_os_and_arch_has_a_complete_platform_entry() {
    let m = manifest();
    let platforms = m["spec"]["platforms"].as_array().expect("platforms");
    let version = env!("CARGO_PKG_VERSION");
    for os in ["linux", "darwin", "windows"] {
        for arch in ["amd64", "arm64"] {
            let p = platforms
                .iter()
                .find(|p| {
                    p["selector"]["matchLabels"]["os"] == os
                        && p["selector"]["matchLabels"]["arch"] == arch
                })
                .unwrap_or_else(|| panic!("no platform {os}/{arch}"));
            let uri = p["uri"].as_str().unwrap();
            assert!(
                uri.starts_with("https://")
                    && uri.contains(&format!("v{version}"))
                    && uri.contains(os)
                    && uri.contains(arch),
                "{uri}"
            );
            let sha = p["sha256"].as_str().expect("sha256 is a string (quoted)");
            assert!(
                sha.len() == 64 && sha.chars().all(|c| c.is_ascii_hexdigit()),
                "{os}/{arch}: sha256 {sha}"
            );
            let bin = p["bin"].as_str().unwrap();
            assert_eq!(
                bin,
                if os == "windows" {
                    "kubectl-pattern.exe"
                } else {
                    "kubectl-pattern"
                }
            );
            let files = p["files"].as_array().expect("files");
            assert!(
                files.iter().any(|f| f["from"].as_str() == Some(bin)
                    || f["from"].as_str().is_some_and(|s| s.ends_with(bin))),
                "{os}/{arch}: the binary is in files"
            );
            assert!(
                files
                    .iter()
                    .all(|f| f["from"].is_string() && f["to"].is_string())
            );
        }
    }
}
