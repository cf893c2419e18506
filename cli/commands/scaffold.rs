//! `plugin new`: writes a self-contained Rust plugin crate (the scaffold, a copy of the SDK and
//! of the WIT package), with the names filled in. Existing files are never overwritten.

use std::path::Path;

use anyhow::{Result, bail};
use include_dir::{Dir, include_dir};

use crate::engine::params::is_dns_label;

static SCAFFOLD: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/plugins/scaffold");
static SDK_SRC: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/plugins/sdk/src");
const SDK_MANIFEST: &str = include_str!("../../plugins/sdk/Cargo.toml");
const WIT: &str = include_str!("../../wit/plugin.wit");

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

/// Writes the plugin crate `name` into `dir` (which must not exist or be empty).
pub fn write(name: &str, dir: &Path) -> Result<()> {
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
    let crate_name = name.replace('-', "_");
    let mut all = Vec::new();
    files(&SCAFFOLD, Path::new(""), &mut all);
    files(&SDK_SRC, Path::new("sdk/src"), &mut all);
    all.push((Path::new("sdk/Cargo.toml").to_path_buf(), SDK_MANIFEST));
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
        std::fs::write(&path, text)?;
    }
    Ok(())
}
