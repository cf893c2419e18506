//! The krew manifest and its release: the committed template (`krew-manifest.yaml`) has
//! placeholders exactly where `scripts/release` fills in, and once filled passes krew's rules;
//! the krew-release-bot template (`.krew.yaml`) renders to the same manifest; and
//! `scripts/release` packs this build's binary into a linux/amd64 archive that installs the way
//! krew installs it and runs as `kubectl pattern` through the real kubectl 1.37. The checks of
//! the full release (all archives, the foreign binaries) are in `release/`.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::release::{archive, expected_members, install, krew_rules, manifest_in, platforms};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");
const TAG: &str = concat!("v", env!("CARGO_PKG_VERSION"));

fn read(name: &str) -> String {
    std::fs::read_to_string(Path::new(ROOT).join(name)).unwrap()
}

fn yaml(text: &str) -> Value {
    kubectl_pattern::engine::yaml::from_str(text).unwrap()
}

/// The template filled in the way scripts/release does, with `sha` for every platform.
fn filled_template(sha: &str) -> String {
    read("krew-manifest.yaml")
        .replace("@TAG@", TAG)
        .replace("@SHA256@", sha)
}

#[test]
fn template_has_placeholders_exactly_where_release_fills_in() {
    let text = read("krew-manifest.yaml");
    assert!(
        text.starts_with("# TEMPLATE") && text.contains("scripts/release"),
        "the template says that scripts/release fills it in"
    );
    let m = yaml(&text);
    assert_eq!(m["spec"]["version"], "@TAG@");
    for (os, arch, p) in platforms(&m) {
        assert_eq!(
            p["sha256"], "@SHA256@",
            "{os}/{arch}: sha256 is the placeholder"
        );
        let uri = p["uri"].as_str().unwrap();
        assert_eq!(uri.matches("@TAG@").count(), 2, "{os}/{arch}: {uri}");
    }
    // The template itself cannot be installed by mistake: krew refuses its sha256 values.
    let errors = krew_rules::validate(&m, None);
    assert!(errors.iter().any(|e| e.contains("sha256")), "{errors:?}");
}

#[test]
fn filled_template_passes_krews_rules_for_all_six_platforms() {
    let m = yaml(&filled_template(&"ab".repeat(32)));
    let errors = krew_rules::validate(&m, None);
    assert!(errors.is_empty(), "{}", errors.join("\n"));
    assert_eq!(
        m["metadata"]["name"], "pattern",
        "kubectl finds kubectl-pattern as `kubectl pattern`"
    );
    assert_eq!(
        m["spec"]["version"], TAG,
        "the version comes from Cargo.toml"
    );
    assert!(
        m["spec"]["homepage"]
            .as_str()
            .unwrap()
            .starts_with("https://")
    );
    assert!(m["spec"]["shortDescription"].as_str().unwrap().len() <= 50);
    let found: Vec<(String, String)> = platforms(&m).into_iter().map(|(o, a, _)| (o, a)).collect();
    for (os, arch) in krew_rules::PLATFORMS {
        assert!(
            found.contains(&(os.into(), arch.into())),
            "no platform {os}/{arch}"
        );
    }
    assert_eq!(found.len(), 6);
    for (os, arch, p) in platforms(&m) {
        let ext = if os == "windows" { "zip" } else { "tar.gz" };
        assert_eq!(
            p["uri"],
            format!(
                "https://github.com/kubectl-pattern/kubectl-pattern/releases/download/{TAG}/kubectl-pattern_{TAG}_{os}_{arch}.{ext}"
            )
        );
        let bin = if os == "windows" {
            "kubectl-pattern.exe"
        } else {
            "kubectl-pattern"
        };
        assert_eq!(p["bin"], bin);
        let from: Vec<&str> = p["files"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["from"].as_str().unwrap())
            .collect();
        assert_eq!(
            from,
            [bin, "LICENSE", "README.md", "integrations"],
            "{os}/{arch}"
        );
        assert!(
            p["files"]
                .as_array()
                .unwrap()
                .iter()
                .all(|f| f["to"] == ".")
        );
    }
}

#[test]
fn krew_release_bot_template_renders_to_the_same_manifest() {
    // The bot replaces {{ .TagName }} and each {{addURIAndSha "URL" .TagName }} with
    // "uri: URL" and "    sha256: <sha of the asset>".
    let sha = "cd".repeat(32);
    let mut rendered = String::new();
    for line in read(".krew.yaml").replace("{{ .TagName }}", TAG).lines() {
        match line.trim().strip_prefix("{{addURIAndSha \"") {
            Some(rest) => {
                let url = rest
                    .strip_suffix("\" .TagName }}")
                    .unwrap_or_else(|| panic!("unexpected addURIAndSha line: {line}"));
                rendered.push_str(&format!("    uri: {url}\n    sha256: \"{sha}\"\n"));
            }
            None => rendered.push_str(&format!("{line}\n")),
        }
    }
    assert_eq!(yaml(&rendered), yaml(&filled_template(&sha)));
}

/// Runs scripts/release with `args`; panics with its output when it fails.
pub fn release(args: &[String]) -> String {
    let out = release_cmd(args).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        out.status.success(),
        "scripts/release {args:?} failed:\n{stderr}"
    );
    stderr
}

fn release_cmd(args: &[String]) -> Command {
    let mut cmd = Command::new(Path::new(ROOT).join("scripts/release"));
    cmd.args(args).stdin(std::process::Stdio::null());
    cmd
}

/// This build's binary without its debug information (the archive is a release's shape; the
/// unstripped test binary is hundreds of megabytes).
fn stripped_binary(dir: &Path) -> PathBuf {
    let bin = Path::new(env!("CARGO_BIN_EXE_kubectl-pattern"));
    let out = dir.join("kubectl-pattern");
    let status = Command::new("strip")
        .arg("--strip-debug")
        .arg(bin)
        .arg("-o")
        .arg(&out)
        .status()
        .expect("run strip (binutils)");
    assert!(status.success());
    out
}

/// Installs the linux/`arch` platform of `m` from `dist` krew-style into a new KREW_ROOT and
/// runs `kubectl pattern version` through the real kubectl with that root's bin/ on PATH.
pub fn install_and_run_through_kubectl(m: &Value, dist: &Path, arch: &str) {
    let root = tempfile::tempdir().unwrap();
    let link = install::install(m, dist, root.path(), "linux", arch).unwrap();
    assert_eq!(link, root.path().join("bin/kubectl-pattern"));
    let path = std::env::join_paths(std::iter::once(root.path().join("bin")).chain(
        std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()),
    ))
    .unwrap();
    let kubectl = crate::common::tool("kubectl");
    let run = |args: &[&str]| {
        let out = Command::new(&kubectl)
            .args(args)
            .env("PATH", &path)
            .env("KUBECONFIG", root.path().join("no-kubeconfig"))
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(
            out.status.success(),
            "kubectl {args:?} (linux/{arch}):\n{stderr}"
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let version = run(&["pattern", "version"]);
    assert_eq!(
        version,
        format!(
            "kubectl-pattern {} (Kubernetes API 1.37 schemas, templates kubectl-pattern/v1)\n",
            env!("CARGO_PKG_VERSION")
        ),
        "linux/{arch}"
    );
    eprintln!(
        "linux/{arch}: kubectl pattern version -> {}",
        version.trim()
    );
    let plugins = run(&["plugin", "list", "--name-only"]);
    assert!(plugins.lines().any(|l| l == "kubectl-pattern"), "{plugins}");
    // What krew installed is what the archive's files list moved there.
    let store = root.path().join(format!("store/pattern/{TAG}"));
    assert!(
        store.join("LICENSE").is_file()
            && store
                .join("integrations/kubectl_complete-pattern")
                .is_file()
    );
}

#[test]
fn release_packs_this_binary_and_it_installs_krew_style_through_kubectl() {
    let work = tempfile::tempdir().unwrap();
    let bin = stripped_binary(work.path());
    let dist = work.path().join("dist");
    let log = release(&[
        "--binary".into(),
        format!("linux/amd64={}", bin.display()),
        "--out".into(),
        dist.display().to_string(),
        "--allow-missing".into(),
        "--no-checks".into(),
    ]);
    assert!(
        log.contains("left out of the manifest (no archive): linux/arm64, darwin/amd64"),
        "{log}"
    );
    let m = manifest_in(&dist);
    let errors = krew_rules::validate(&m, None);
    assert!(errors.is_empty(), "{}", errors.join("\n"));
    let found = platforms(&m);
    assert_eq!(
        found.len(),
        1,
        "only the platform with an archive is listed"
    );
    let p = &found[0].2;
    let bytes = krew_rules::archive_for(p, &dist).unwrap();
    assert_eq!(archive::kind(&bytes), Some(archive::Kind::TarGz));
    let mut names: Vec<String> = archive::read(&bytes)
        .unwrap()
        .into_iter()
        .map(|e| e.path)
        .collect();
    names.sort();
    assert_eq!(names, expected_members("linux"));
    install_and_run_through_kubectl(&m, &dist, "amd64");
}

#[test]
fn release_refuses_a_manifest_with_missing_platforms_unless_told() {
    let work = tempfile::tempdir().unwrap();
    let fake = work.path().join("kubectl-pattern");
    std::fs::write(&fake, "#!/bin/sh\necho fake\n").unwrap();
    let dist = work.path().join("dist");
    let pack = |dir: &Path| {
        release(&[
            "--binary".into(),
            format!("linux/amd64={}", fake.display()),
            "--out".into(),
            dir.display().to_string(),
            "--allow-missing".into(),
            "--no-checks".into(),
        ])
    };
    pack(&dist);
    std::fs::remove_file(dist.join("krew-manifest.yaml")).unwrap();
    let out = release_cmd(&[
        "--manifest-only".into(),
        "--out".into(),
        dist.display().to_string(),
        "--no-checks".into(),
    ])
    .output()
    .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("no archive in")
            && stderr
                .contains("linux/arm64, darwin/amd64, darwin/arm64, windows/amd64, windows/arm64")
            && stderr.contains("--allow-missing"),
        "{stderr}"
    );
    assert!(
        !dist.join("krew-manifest.yaml").exists(),
        "nothing written on failure"
    );
    // Packing the same binary again gives the same archive bytes.
    let again = work.path().join("again");
    pack(&again);
    let name = format!("kubectl-pattern_{TAG}_linux_amd64.tar.gz");
    assert_eq!(
        std::fs::read(dist.join(&name)).unwrap(),
        std::fs::read(again.join(&name)).unwrap()
    );
}
