//! Where `new` writes: the manifest's destination (a file or stdout) and the optional values
//! file, chosen by flag or asked; files are written atomically and replaced only when allowed.

use std::path::{Path, PathBuf};

use anyhow::Result;
use kubectl_pattern_io::atomic;

use crate::ui::prompt::{Prompter, TextQuestion};

use super::super::UsageError;

/// Where the manifest goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Destination {
    /// Standard output.
    Stdout,
    /// A file, written atomically.
    File(PathBuf),
    /// The cluster of the current kubeconfig context, by server-side apply (`--to cluster`).
    Cluster,
}

/// True when a kubeconfig is there to offer the cluster as a destination.
fn has_kubeconfig() -> bool {
    std::env::var_os("KUBECONFIG").is_some_and(|v| !v.is_empty())
        || std::env::var_os("HOME")
            .is_some_and(|h| Path::new(&h).join(".kube").join("config").is_file())
}

/// Why `path` cannot be written to (its directory is missing, or it is a directory).
fn check_path(path: &Path) -> Result<(), String> {
    if path.as_os_str().is_empty() {
        return Err("give a file name".into());
    }
    if path.is_dir() {
        return Err(format!("{} is a directory", path.display()));
    }
    let dir = parent(path);
    if !dir.is_dir() {
        return Err(format!("directory {} does not exist", dir.display()));
    }
    Ok(())
}

fn parent(path: &Path) -> PathBuf {
    path.parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
}

/// Checks a file given by flag; on a terminal an existing file is replaced only when the
/// person agrees.
fn given_file(p: &mut dyn Prompter, flag: &str, path: &Path, overwrite: bool) -> Result<PathBuf> {
    check_path(path).map_err(|e| UsageError(format!("{flag} {}: {e}", path.display())))?;
    if path.exists() && !overwrite {
        let prompt = format!("{} exists. Replace it?", path.display());
        match p.confirm(&prompt, false)? {
            None => {
                return Err(UsageError(format!(
                    "{flag} {}: the file exists; pass --overwrite to replace it",
                    path.display()
                ))
                .into());
            }
            Some(false) => anyhow::bail!("cancelled: nothing was written"),
            Some(true) => {}
        }
    }
    Ok(path.to_path_buf())
}

/// Asks for a file name until one can be written (an existing file only if replacing it is
/// confirmed).
fn ask_file(p: &mut dyn Prompter, prompt: &str, default: String) -> Result<Option<PathBuf>> {
    let check = |s: &str| check_path(Path::new(s));
    loop {
        let Some(answer) = p.text(&TextQuestion {
            prompt,
            default: Some(default.clone()),
            optional: false,
            secret: false,
            validate: &check,
        })?
        else {
            return Ok(None);
        };
        let path = PathBuf::from(answer);
        if !path.exists() {
            return Ok(Some(path));
        }
        let replace = format!("{} exists. Replace it?", path.display());
        if p.confirm(&replace, false)? == Some(true) {
            return Ok(Some(path));
        }
    }
}

/// The manifest's destination: `--to` (`-` is stdout), else asked, else stdout.
pub fn manifest(
    p: &mut dyn Prompter,
    flag: Option<&str>,
    name: &str,
    overwrite: bool,
) -> Result<Destination> {
    match flag {
        Some("-") => return Ok(Destination::Stdout),
        Some("cluster") => return Ok(Destination::Cluster),
        Some(path) => {
            return given_file(p, "--to", Path::new(path), overwrite).map(Destination::File);
        }
        None => {}
    }
    let default = format!("{name}.yaml");
    let mut items = vec![format!("a file ({default})"), "stdout".to_string()];
    if has_kubeconfig() {
        items.push("the cluster (server-side apply, current context)".into());
    }
    match p.select("Write the manifest to", &items, 0)? {
        Some(0) => Ok(ask_file(p, "File", default)?.map_or(Destination::Stdout, Destination::File)),
        Some(2) => Ok(Destination::Cluster),
        _ => Ok(Destination::Stdout),
    }
}

/// Where to save the answers: `--save-values`, else asked (default no), else nowhere.
pub fn values(
    p: &mut dyn Prompter,
    flag: Option<&Path>,
    name: &str,
    overwrite: bool,
    to: &Destination,
) -> Result<Option<PathBuf>> {
    let path = match flag {
        Some(path) => Some(given_file(p, "--save-values", path, overwrite)?),
        None => {
            let ask = "Save the answers as a values file (to replay them with --values-file)?";
            if p.confirm(ask, false)? != Some(true) {
                return Ok(None);
            }
            let dir = match to {
                Destination::File(f) => parent(f),
                Destination::Stdout | Destination::Cluster => PathBuf::from("."),
            };
            let default = dir.join(format!("{name}.values.yaml"));
            let default = default
                .strip_prefix(".")
                .unwrap_or(&default)
                .display()
                .to_string();
            ask_file(p, "Values file", default)?
        }
    };
    if let (Some(v), Destination::File(m)) = (&path, to)
        && v == m
    {
        return Err(UsageError(format!(
            "the values file and the manifest are the same file ({}); pick another name",
            v.display()
        ))
        .into());
    }
    Ok(path)
}

/// Writes `text` to `path` atomically (a temporary file beside it, then a rename); an
/// existing file is replaced only with `overwrite`.
pub fn write_file(path: &Path, text: &str, overwrite: bool) -> Result<()> {
    let staged = atomic::stage(path, text.as_bytes(), atomic::Permissions::LikeDestination)?;
    let result = if overwrite {
        staged.commit()
    } else {
        staged.commit_new()
    };
    match result {
        Err(atomic::WriteError::Exists { path }) => Err(UsageError(format!(
            "{} exists; pass --overwrite to replace it",
            path.display()
        ))
        .into()),
        other => Ok(other?),
    }
}
