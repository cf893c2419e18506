//! The release checks on `scripts/release`'s output directory (`$KP_DIST_DIR`, default
//! `dist/`): krew's rules on the generated manifest (no placeholder, every sha256 the archive's),
//! the archives' contents and executable headers, a krew-style install of each linux archive run
//! as `kubectl pattern` through the real kubectl, and the foreign binaries under qemu and wine.
//!
//! These tests need the archives, which only `scripts/release` builds (cross builds take far
//! longer than a test run), so they are `#[ignore]`d: `scripts/release-checks` runs them with
//! `--ignored` (scripts/release always, scripts/test when dist/ has a manifest) and prints why
//! when it leaves one out. Run by hand, a missing archive or tool fails them.

pub mod archive;
pub mod headers;
pub mod install;
pub mod krew_rules;
mod smoke;

use std::path::{Path, PathBuf};

use serde_json::Value;

/// The directory `scripts/release` wrote.
pub fn dist() -> PathBuf {
    std::env::var_os("KP_DIST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("dist"))
}

/// The manifest in `dir`, parsed.
pub fn manifest_in(dir: &Path) -> Value {
    let path = dir.join("krew-manifest.yaml");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (scripts/release writes it)", path.display()));
    kubectl_pattern::engine::yaml::from_str(&text).unwrap()
}

/// The platforms of `manifest` as (os, arch, platform).
pub fn platforms(manifest: &Value) -> Vec<(String, String, Value)> {
    manifest["spec"]["platforms"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            let (os, arch) = krew_rules::selected(p).expect("a matchLabels selector");
            (os, arch, p.clone())
        })
        .collect()
}

/// Extracts the `os/arch` archive of `dir` into a new temporary directory; returns it and the
/// binary's path inside.
pub fn unpack(dir: &Path, os: &str, arch: &str) -> (tempfile::TempDir, PathBuf) {
    let m = manifest_in(dir);
    let (_, _, p) = platforms(&m)
        .into_iter()
        .find(|(o, a, _)| o == os && a == arch)
        .unwrap_or_else(|| panic!("{}: no {os}/{arch} platform", dir.display()));
    let bytes = krew_rules::archive_for(&p, dir).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    install::extract(&bytes, tmp.path()).unwrap();
    let bin = tmp.path().join(p["bin"].as_str().unwrap());
    (tmp, bin)
}

/// What every archive holds, at its root (the manifest's `files` move these).
pub fn expected_members(os: &str) -> Vec<String> {
    let exe = if os == "windows" {
        "kubectl-pattern.exe"
    } else {
        "kubectl-pattern"
    };
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut out: Vec<String> = [exe, "LICENSE", "README.md", "integrations"]
        .map(String::from)
        .to_vec();
    let mut stack = vec![root.join("cli/integrations")];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).unwrap() {
            let path = e.unwrap().path();
            let rel = path.strip_prefix(root.join("cli")).unwrap();
            out.push(rel.to_string_lossy().replace('\\', "/"));
            if path.is_dir() {
                stack.push(path);
            }
        }
    }
    out.sort();
    out
}

#[test]
#[ignore = "needs scripts/release's archives: run by scripts/release-checks"]
fn dist_manifest_passes_krews_rules_with_real_sha256s() {
    let dir = dist();
    let m = manifest_in(&dir);
    let errors = krew_rules::validate(&m, None);
    assert!(errors.is_empty(), "{}", errors.join("\n"));
    let text = std::fs::read_to_string(dir.join("krew-manifest.yaml")).unwrap();
    assert!(
        !text.contains('@'),
        "a template placeholder is left:\n{text}"
    );
    assert_eq!(
        m["spec"]["version"],
        format!("v{}", env!("CARGO_PKG_VERSION"))
    );
    let sums = std::fs::read_to_string(dir.join("SHA256SUMS")).unwrap();
    for (os, arch, p) in platforms(&m) {
        let sha = p["sha256"].as_str().unwrap();
        assert_ne!(sha, "0".repeat(64), "{os}/{arch}: placeholder sha256");
        let bytes = krew_rules::archive_for(&p, &dir).unwrap();
        let name = p["uri"].as_str().unwrap().rsplit('/').next().unwrap();
        assert!(
            sums.lines().any(|l| l == format!("{sha}  {name}")),
            "SHA256SUMS lacks {name}"
        );
        let entries = archive::read(&bytes).unwrap();
        let mut names: Vec<String> = entries.iter().map(|e| e.path.clone()).collect();
        names.sort();
        assert_eq!(names, expected_members(&os), "{os}/{arch}: archive members");
        // Every `files` operation finds what it moves (krew: no match is an install error).
        for f in p["files"].as_array().unwrap() {
            let from = f["from"].as_str().unwrap();
            assert!(
                names.iter().any(|n| n == from),
                "{os}/{arch}: {from} is not in the archive"
            );
        }
        let bin = entries
            .iter()
            .find(|e| e.path == p["bin"].as_str().unwrap())
            .unwrap_or_else(|| panic!("{os}/{arch}: bin is not in the archive"));
        assert_eq!(
            bin.mode & 0o111,
            0o111,
            "{os}/{arch}: the binary is executable"
        );
        let h = headers::parse(&bin.data).unwrap();
        assert_eq!(
            (h.os, h.arch),
            (os.as_str(), arch.as_str()),
            "{os}/{arch}: header"
        );
    }
}

#[test]
#[ignore = "needs scripts/release's archives: run by scripts/release-checks"]
fn dist_linux_binaries_are_static_and_windows_ones_need_only_system_dlls() {
    let dir = dist();
    let m = manifest_in(&dir);
    for (os, arch, _) in platforms(&m) {
        let (_tmp, bin) = unpack(&dir, &os, &arch);
        let h = headers::parse(&std::fs::read(&bin).unwrap()).unwrap();
        match os.as_str() {
            "linux" => assert!(!h.interpreter, "{arch}: linux binaries are static (musl)"),
            "windows" => {
                assert!(h.console, "{arch}: a console program");
                let system = [
                    "kernel32.dll",
                    "ntdll.dll",
                    "advapi32.dll",
                    "bcrypt.dll",
                    "bcryptprimitives.dll",
                    "ws2_32.dll",
                    "userenv.dll",
                    "ole32.dll",
                    "oleaut32.dll",
                    "shell32.dll",
                    "user32.dll",
                    "crypt32.dll",
                    "secur32.dll",
                    "ncrypt.dll",
                    "iphlpapi.dll",
                    "psapi.dll",
                    "dbghelp.dll",
                    "msvcrt.dll",
                    "synchronization.dll",
                ];
                let foreign: Vec<&String> = h
                    .libraries
                    .iter()
                    .filter(|l| !system.contains(&l.as_str()) && !l.starts_with("api-ms-win-"))
                    .collect();
                assert!(
                    foreign.is_empty(),
                    "{arch}: DLLs a plain Windows lacks: {foreign:?} (all: {:?})",
                    h.libraries
                );
            }
            "darwin" => {
                let (major, _) = h.min_os.expect("a minimum macOS version");
                assert!(
                    major <= 11,
                    "{arch}: runs on macOS 11 (the oldest arm64 macOS); min {:?}",
                    h.min_os
                );
                assert!(
                    h.libraries.iter().all(|l| l.starts_with("/usr/lib/")
                        || l.starts_with("/System/Library/Frameworks/")),
                    "{arch}: only system libraries: {:?}",
                    h.libraries
                );
                // The frameworks the trust store and time zone code need, at the install
                // paths macOS has them (linked on Linux against stubs naming those paths).
                for lib in [
                    "/usr/lib/libSystem.B.dylib",
                    "/System/Library/Frameworks/Security.framework/Versions/A/Security",
                    "/System/Library/Frameworks/CoreFoundation.framework/Versions/A/CoreFoundation",
                ] {
                    assert!(
                        h.libraries.iter().any(|l| l == lib),
                        "{arch}: loads {lib}: {:?}",
                        h.libraries
                    );
                }
            }
            other => panic!("unexpected os {other}"),
        }
    }
}

#[test]
#[ignore = "needs scripts/release's archives: run by scripts/release-checks"]
fn dist_linux_archives_install_krew_style_and_run_through_kubectl() {
    let dir = dist();
    let m = manifest_in(&dir);
    let linux: Vec<String> = platforms(&m)
        .into_iter()
        .filter(|(os, _, _)| os == "linux")
        .map(|(_, arch, _)| arch)
        .collect();
    assert!(
        linux.contains(&"amd64".to_string()),
        "the linux/amd64 archive is in {}",
        dir.display()
    );
    for arch in linux {
        crate::krew::install_and_run_through_kubectl(&m, &dir, &arch);
    }
}

#[test]
#[ignore = "needs scripts/release's archives: run by scripts/release-checks"]
fn dist_archives_are_reproducible() {
    // Packing the same binary again gives the same bytes.
    let dir = dist();
    let m = manifest_in(&dir);
    let (os, arch, p) = platforms(&m).into_iter().next().unwrap();
    let (_tmp, bin) = unpack(&dir, &os, &arch);
    let again = tempfile::tempdir().unwrap();
    crate::krew::release(&[
        "--binary".into(),
        format!("{os}/{arch}={}", bin.display()),
        "--out".into(),
        again.path().display().to_string(),
        "--allow-missing".into(),
        "--no-checks".into(),
    ]);
    let name = p["uri"].as_str().unwrap().rsplit('/').next().unwrap();
    assert_eq!(
        std::fs::read(again.path().join(name)).unwrap(),
        std::fs::read(dir.join(name)).unwrap(),
        "{name} differs when packed again"
    );
}
