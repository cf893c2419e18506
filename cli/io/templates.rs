//! User template patterns on disk: each sub-directory of a template root holds `pattern.yaml`
//! and `*.yaml.hbs` files, read here and compiled by the engine's catalogue.

use std::path::{Path, PathBuf};

use kubectl_pattern_engine::catalogue::Catalogue;
use kubectl_pattern_engine::template::{LoadError, TemplateFiles};

/// Reads one pattern directory.
pub fn read_dir(dir: &Path) -> Result<TemplateFiles, LoadError> {
    let err = |path: &Path, e: std::io::Error| LoadError {
        origin: path.display().to_string(),
        message: format!("cannot read: {e}"),
    };
    let pattern_path = dir.join("pattern.yaml");
    let pattern_yaml = std::fs::read_to_string(&pattern_path).map_err(|e| err(&pattern_path, e))?;
    let mut templates = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(|e| err(dir, e))? {
        let path = entry.map_err(|e| err(dir, e))?.path();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        if let Some(stem) = name.strip_suffix(".yaml.hbs") {
            let source = std::fs::read_to_string(&path).map_err(|e| err(&path, e))?;
            templates.push((stem.to_string(), source));
        }
    }
    templates.sort();
    Ok(TemplateFiles {
        dir_name: dir
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_string(),
        origin: dir.to_path_buf(),
        pattern_yaml,
        templates,
    })
}

/// The built-in patterns, then the patterns of each root in order (later ones shadow earlier
/// ones). A root that does not exist is skipped; a broken pattern is recorded, not fatal.
pub fn catalogue(roots: &[PathBuf]) -> Catalogue {
    let mut catalogue = Catalogue::builtin();
    for root in roots {
        let Ok(entries) = std::fs::read_dir(root) else {
            continue;
        };
        let mut dirs: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.is_dir())
            .collect();
        dirs.sort();
        for dir in dirs {
            let files = read_dir(&dir);
            catalogue.add_user_template(dir, files);
        }
    }
    catalogue
}
