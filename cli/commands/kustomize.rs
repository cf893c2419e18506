//! `-k DIR`, as kubectl reads it: the manifests a kustomization directory builds. The build is
//! kubectl's own (`kubectl kustomize DIR`), or a `kustomize build DIR` when kubectl is not on
//! PATH; its output is patched like a pipe on stdin.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use anyhow::{Context as _, Result};
use kubectl_pattern_io::input::Input;

use super::UsageError;

/// The programs that can build a kustomization, in order of preference: the word shown in
/// messages and the arguments before the directory.
const BUILDERS: &[(&str, &[&str])] = &[("kubectl", &["kustomize"]), ("kustomize", &["build"])];

/// The first of `names` found on PATH.
fn on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|dir| {
            let plain = dir.join(name);
            let exe = dir.join(format!("{name}.exe"));
            [plain, exe]
        })
        .find(|p| p.is_file())
}

/// Builds the kustomization in `dir` and returns its output as one input.
pub fn build(dir: &Path) -> Result<Input> {
    if !dir.join("kustomization.yaml").is_file()
        && !dir.join("kustomization.yml").is_file()
        && !dir.join("Kustomization").is_file()
    {
        return Err(UsageError(format!(
            "-k {}: no kustomization.yaml in that directory; -k takes a kustomization directory (files go with -f)",
            dir.display()
        ))
        .into());
    }
    let Some((program, (word, args))) = BUILDERS.iter().find_map(|b| on_path(b.0).map(|p| (p, b)))
    else {
        anyhow::bail!(
            "-k {} needs kubectl (kubectl kustomize) or kustomize on PATH; install one, or pipe a build in: kustomize build {} | kubectl pattern …",
            dir.display(),
            dir.display()
        );
    };
    let shown = format!("{word} {} {}", args.join(" "), dir.display());
    let output = Command::new(&program)
        .args(*args)
        .arg(dir)
        .output()
        .with_context(|| format!("cannot run {}", program.display()))?;
    if !output.status.success() {
        anyhow::bail!(
            "{shown} failed ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    let text = String::from_utf8(output.stdout)
        .with_context(|| format!("{shown} printed text that is not UTF-8"))?;
    Ok(Input::Generated {
        name: shown,
        text: Arc::from(text),
    })
}
