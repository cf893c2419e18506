//! The catalogue a run uses: built-in patterns, the user's template directories, installed
//! plugins and `--plugin` files (plugins only in builds with the `plugins` feature).

use anyhow::Result;

use crate::commands::UsageError;
use crate::engine::catalogue::Catalogue;
use crate::request::Sources;

/// Every pattern of `sources`; templates and installed plugins load on first use.
pub fn load(sources: &Sources) -> Result<Catalogue> {
    for dir in &sources.template_dirs {
        if !dir.is_dir() {
            return Err(
                UsageError(format!("--template-dir {}: not a directory", dir.display())).into(),
            );
        }
    }
    let mut dirs: Vec<_> = kubectl_pattern_io::dirs::user_templates()
        .into_iter()
        .collect();
    dirs.extend(sources.template_dirs.iter().cloned());
    let mut catalogue = kubectl_pattern_io::templates::catalogue(&dirs);
    add_plugins(&mut catalogue, sources)?;
    Ok(catalogue)
}

/// Pattern ids only, for shell completion: nothing is compiled, and a broken plugin store does
/// not hide the built-ins and templates.
pub fn ids() -> Vec<String> {
    let dirs: Vec<_> = kubectl_pattern_io::dirs::user_templates()
        .into_iter()
        .collect();
    let mut catalogue = kubectl_pattern_io::templates::catalogue(&dirs);
    let _ = add_plugins(&mut catalogue, &Sources::default());
    catalogue.ids()
}

#[cfg(feature = "plugins")]
fn add_plugins(catalogue: &mut Catalogue, sources: &Sources) -> Result<()> {
    let limits = crate::commands::plugin::wasm_limits(sources.sandbox);
    crate::commands::plugin::add_installed(catalogue, limits)?;
    for path in &sources.plugins {
        let pattern = crate::wasm::pattern::WasmPattern::load(path, limits, None)?;
        catalogue.add(std::sync::Arc::new(pattern));
    }
    Ok(())
}

#[cfg(not(feature = "plugins"))]
fn add_plugins(_: &mut Catalogue, sources: &Sources) -> Result<()> {
    match sources.plugins.first() {
        None => Ok(()),
        Some(path) => Err(UsageError(format!(
            "--plugin {}: this kubectl-pattern was built without plugin support (the `plugins` cargo feature); install the full build",
            path.display()
        ))
        .into()),
    }
}
