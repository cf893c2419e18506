//! `plugin new`: writes a self-contained Rust plugin crate (the scaffold, a copy of the SDK and
//! of the WIT package), with the names filled in. Existing files are never overwritten.

use std::path::Path;

use anyhow::{Result, bail};
use include_dir::{Dir, include_dir};

use crate::engine::params::is_dns_label;

static SCAFFOLD: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/plugins/scaffold");
static SDK_SRC: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/plugins/sdk/src");
const SDK_MANIFEST: &str = include_str!("../../plugins/sdk/Cargo.toml");
/// The build script a plugin crate names (it starts the component with a heap).
const SDK_PLUGIN_BUILD: &str = include_str!("../../plugins/sdk/plugin-build.rs");
/// The SDK's lock file: a new plugin builds exactly what the SDK is tested with.
const SDK_LOCK: &str = include_str!("../../plugins/sdk/Cargo.lock");
/// The SDK's copy of the WIT: what its sources are written against.
const WIT: &str = include_str!("../../plugins/sdk/wit/plugin.wit");

fn files(
    dir: &'static Dir<'static>,
    prefix: &Path,
    out: &mut Vec<(std::path::PathBuf, &'static str)>,
) {
    for f in dir.files() {
        if let Some(text) = f.contents_utf8() {
            out.push((
                // Paths are relative to the embedded root, sub-directories included.
                prefix.join(f.path()),
                text,
            ));
        }
    }
    for d in dir.dirs() {
        files(d, prefix, out);
    }
}

/// Refuses a name that is not a pattern id, and a `dir` that exists with files in it.
pub(super) fn check_new(name: &str, dir: &Path) -> Result<()> {
    if !is_dns_label(name) {
        bail!(
            "plugin name {name:?} must be a lower-case DNS label (letters, digits, '-'), e.g. my-pattern"
        );
    }
    if dir.exists() && std::fs::read_dir(dir)?.next().is_some() {
        bail!(
            "{} already exists and is not empty; choose another name or --dir",
            dir.display()
        );
    }
    Ok(())
}

/// Writes the plugin crate `name` into `dir` (which must not exist or be empty).
pub fn write(name: &str, dir: &Path) -> Result<()> {
    check_new(name, dir)?;
    let crate_name = name.replace('-', "_");
    let mut all = Vec::new();
    files(&SCAFFOLD, Path::new(""), &mut all);
    files(&SDK_SRC, Path::new("sdk/src"), &mut all);
    all.push((Path::new("sdk/Cargo.toml").to_path_buf(), SDK_MANIFEST));
    all.push((
        Path::new("sdk/plugin-build.rs").to_path_buf(),
        SDK_PLUGIN_BUILD,
    ));
    all.push((Path::new("Cargo.lock").to_path_buf(), SDK_LOCK));
    all.push((Path::new("sdk/wit/plugin.wit").to_path_buf(), WIT));
    all.push((Path::new("wit/plugin.wit").to_path_buf(), WIT));
    for (rel, text) in all {
        let rel = rel.to_string_lossy().replace(".tmpl", "");
        let path = dir.join(&rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        let text = text
            .replace("{{name}}", name)
            .replace("{{crate_name}}", &crate_name);
        let text = if rel == "Cargo.lock" {
            lock_file(&text, name)
        } else {
            text
        };
        std::fs::write(&path, text)?;
    }
    Ok(())
}

/// The scaffold's lock file (the SDK's dependencies, pinned: a new release of a crate cannot
/// change what a fresh plugin builds) with the plugin crate's own entry at its place: cargo
/// keeps packages sorted by name and `--locked` compares the text.
fn lock_file(base: &str, name: &str) -> String {
    let entry = format!(
        "[[package]]\nname = \"{name}\"\nversion = \"0.1.0\"\ndependencies = [\n \"kubectl-pattern-sdk\",\n \"serde\",\n]\n"
    );
    let marker = "[[package]]\nname = \"";
    let after = base.match_indices(marker).find(|(at, _)| {
        let rest = &base[at + marker.len()..];
        rest.split('"').next().is_some_and(|other| other > name)
    });
    match after {
        Some((at, _)) => format!("{}{entry}\n{}", &base[..at], &base[at..]),
        None => format!("{base}\n{entry}"),
    }
}

#[cfg(test)]
mod tests {
    use super::lock_file;

    #[test]
    fn the_plugins_entry_goes_where_cargo_sorts_it() {
        let base = "version = 4\n\n[[package]]\nname = \"anyhow\"\nversion = \"1.0.0\"\n\n[[package]]\nname = \"zlib\"\nversion = \"1.0.0\"\n";
        let lock = lock_file(base, "my-pattern");
        let names: Vec<&str> = lock
            .lines()
            .filter_map(|l| l.strip_prefix("name = "))
            .collect();
        assert_eq!(names, ["\"anyhow\"", "\"my-pattern\"", "\"zlib\""]);
        assert!(
            lock.contains("\n]\n\n[[package]]\nname = \"zlib\""),
            "{lock}"
        );
        let last = lock_file(base, "zz-top");
        assert!(last.ends_with("version = \"1.0.0\"\n\n[[package]]\nname = \"zz-top\"\nversion = \"0.1.0\"\ndependencies = [\n \"kubectl-pattern-sdk\",\n \"serde\",\n]\n"), "{last}");
    }
}
