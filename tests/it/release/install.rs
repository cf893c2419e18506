//! `kubectl krew install --manifest` step by step, as `internal/installation/install.go` and
//! `move.go` do it (krew's Go binary cannot be fetched here): pick the platform whose selector
//! matches (KREW_OS/KREW_ARCH), verify the archive's sha256, extract it into a staging
//! directory, apply the `files` operations into `store/<plugin>/<version>/`, check that `bin`
//! lies inside it, and link `bin/kubectl-<plugin>` to it with a relative symlink.

use std::path::{Component, Path, PathBuf};

use serde_json::Value;

use super::archive::{self, Kind};
use super::krew_rules;

/// Installs the platform `os/arch` of `manifest` from the archives in `dist` under `root`
/// (KREW_ROOT); returns the link krew puts into `root/bin`.
pub fn install(
    manifest: &Value,
    dist: &Path,
    root: &Path,
    os: &str,
    arch: &str,
) -> Result<PathBuf, String> {
    let name = manifest["metadata"]["name"].as_str().ok_or("no name")?;
    let version = manifest["spec"]["version"].as_str().ok_or("no version")?;
    let platforms = manifest["spec"]["platforms"]
        .as_array()
        .ok_or("no platforms")?;
    // GetMatchingPlatform: the first platform whose selector matches.
    let platform = platforms
        .iter()
        .find(|p| krew_rules::selected(p) == Some((os.to_string(), arch.to_string())))
        .ok_or(format!(
            "plugin {name:?} does not offer installation for {os}/{arch}"
        ))?;
    let bytes = krew_rules::archive_for(platform, dist)?;
    let staging = root.join("staging");
    extract(&bytes, &staging)?;
    // applyDefaults: no files means everything.
    let default = vec![serde_json::json!({"from": "*", "to": "."})];
    let files = platform["files"].as_array().unwrap_or(&default);
    let install_dir = root.join("store").join(name).join(version);
    std::fs::create_dir_all(&install_dir).map_err(|e| e.to_string())?;
    for op in files {
        let (from, to) = (
            op["from"].as_str().unwrap_or_default(),
            op["to"].as_str().unwrap_or_default(),
        );
        for (src, dst) in move_targets(&staging, &install_dir, from, to)? {
            if let Some(parent) = dst.parent() {
                std::fs::create_dir_all(parent).map_err(|e| e.to_string())?;
            }
            std::fs::rename(&src, &dst).map_err(|e| format!("move {src:?} to {dst:?}: {e}"))?;
        }
    }
    let bin = platform["bin"].as_str().ok_or("no bin")?;
    let target = install_dir.join(bin);
    if !inside(&install_dir, &target) {
        return Err(format!(
            "bin {bin:?} is not inside the installation directory"
        ));
    }
    if !target.is_file() {
        return Err(format!(
            "can't create symbolic link, source binary {target:?} cannot be found in extracted archive"
        ));
    }
    let link_dir = root.join("bin");
    std::fs::create_dir_all(&link_dir).map_err(|e| e.to_string())?;
    // pluginNameToBin: kubectl-<name with - as _>, and a relative link.
    let link = link_dir.join(format!("kubectl-{}", name.replace('-', "_")));
    let relative = Path::new("..").join(target.strip_prefix(root).map_err(|e| e.to_string())?);
    std::os::unix::fs::symlink(&relative, &link).map_err(|e| e.to_string())?;
    Ok(link)
}

/// Extracts like `extractTARGZ`/`extractZIP`: a zip file entry needs its directory to exist
/// already (krew creates none for it), a tar file entry gets its parents created.
pub fn extract(bytes: &[u8], into: &Path) -> Result<(), String> {
    let zip = archive::kind(bytes) == Some(Kind::Zip);
    for entry in archive::read(bytes)? {
        let path = into.join(&entry.path);
        if entry.dir {
            std::fs::create_dir_all(&path).map_err(|e| e.to_string())?;
            continue;
        }
        let parent = path.parent().ok_or("no parent")?;
        if zip && !parent.is_dir() {
            return Err(format!("{}: zip has no directory entry for it", entry.path));
        }
        std::fs::create_dir_all(parent).map_err(|e| e.to_string())?;
        std::fs::write(&path, &entry.data).map_err(|e| e.to_string())?;
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(entry.mode))
            .map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// `findMoveTargets`: `to` must be clean; a `from` that names an existing path moves directly
/// (`to: .` keeps its name); otherwise `from` is a glob that must match something; every move
/// stays inside the staging and installation directories.
fn move_targets(
    staging: &Path,
    install: &Path,
    from: &str,
    to: &str,
) -> Result<Vec<(PathBuf, PathBuf)>, String> {
    if clean(to) != to {
        return Err(format!("the provided path is not clean, {to:?}"));
    }
    let direct = staging.join(from);
    let moves = if direct.exists() {
        let dst = if to == "." {
            install.join(direct.file_name().ok_or("no file name")?)
        } else {
            install.join(to)
        };
        vec![(direct, dst)]
    } else {
        let matches = glob(staging, from)?;
        if matches.is_empty() {
            return Err(format!(
                "no files in the plugin archive matched the glob pattern={from}"
            ));
        }
        matches
            .into_iter()
            .map(|m| {
                let base = m.file_name().map(PathBuf::from).unwrap_or_default();
                (m, install.join(to).join(base))
            })
            .collect()
    };
    for (src, dst) in &moves {
        if !inside(staging, src) || !inside(install, dst) {
            return Err(format!("can't move {src:?} to {dst:?}: out of bounds"));
        }
    }
    Ok(moves)
}

/// Go's `filepath.Clean` for relative paths.
fn clean(path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." if parts.last().is_some_and(|p| *p != "..") => {
                parts.pop();
            }
            other => parts.push(other),
        }
    }
    if parts.is_empty() {
        ".".into()
    } else {
        parts.join("/")
    }
}

/// `pathutil.IsSubPath`: `path`, made lexically clean, lies under `base`.
fn inside(base: &Path, path: &Path) -> bool {
    let Ok(rel) = path.strip_prefix(base) else {
        return false;
    };
    let mut depth = 0i32;
    for c in rel.components() {
        match c {
            Component::ParentDir => depth -= 1,
            Component::Normal(_) => depth += 1,
            _ => {}
        }
        if depth < 0 {
            return false;
        }
    }
    true
}

/// `filepath.Glob` with `*` and `?` inside path segments.
fn glob(base: &Path, pattern: &str) -> Result<Vec<PathBuf>, String> {
    let mut current = vec![base.to_path_buf()];
    for seg in pattern.split('/').filter(|s| !s.is_empty()) {
        let mut next = Vec::new();
        for dir in &current {
            let Ok(read) = std::fs::read_dir(dir) else {
                continue;
            };
            let mut names: Vec<String> = read
                .filter_map(|e| e.ok()?.file_name().into_string().ok())
                .collect();
            names.sort();
            next.extend(
                names
                    .into_iter()
                    .filter(|n| segment_matches(seg.as_bytes(), n.as_bytes()))
                    .map(|n| dir.join(n)),
            );
        }
        current = next;
    }
    Ok(current)
}

fn segment_matches(p: &[u8], s: &[u8]) -> bool {
    match (p.first(), s.first()) {
        (None, None) => true,
        (Some(b'*'), _) => {
            segment_matches(&p[1..], s) || (!s.is_empty() && segment_matches(p, &s[1..]))
        }
        (Some(b'?'), Some(_)) => segment_matches(&p[1..], &s[1..]),
        (Some(a), Some(b)) if a == b => segment_matches(&p[1..], &s[1..]),
        _ => false,
    }
}

#[test]
fn krew_moves_refuse_unclean_targets_escapes_and_empty_globs() {
    let dir = tempfile::tempdir().unwrap();
    let (staging, install) = (dir.path().join("s"), dir.path().join("i"));
    std::fs::create_dir_all(staging.join("sub")).unwrap();
    std::fs::write(staging.join("sub/a.txt"), "a").unwrap();
    std::fs::write(dir.path().join("outside.txt"), "o").unwrap();
    assert!(move_targets(&staging, &install, "sub/a.txt", "./x").is_err());
    assert!(move_targets(&staging, &install, "../outside.txt", ".").is_err());
    assert!(move_targets(&staging, &install, "sub/*.md", ".").is_err());
    let globbed = move_targets(&staging, &install, "sub/*.txt", "docs").unwrap();
    assert_eq!(
        globbed,
        vec![(staging.join("sub/a.txt"), install.join("docs/a.txt"))]
    );
    let direct = move_targets(&staging, &install, "sub", ".").unwrap();
    assert_eq!(direct, vec![(staging.join("sub"), install.join("sub"))]);
}
