//! Every pattern the tool knows: the built-in templates embedded at build time, user template
//! directories, and (later) installed plugins, all behind the same `Pattern` trait.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use include_dir::{Dir, include_dir};

use super::params::nearest;
use super::pattern::{Pattern, PatternSource};
use super::template::{LoadError, TemplateFiles, TemplatePattern};

static BUILTIN: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/templates");

/// Directory of partials shared by every template pattern.
const PARTIALS_DIR: &str = "_partials";
/// Directory of `explain` topics.
const TOPICS_DIR: &str = "_topics";

/// A pattern id that is not in the catalogue.
#[derive(Debug, thiserror::Error)]
pub enum CatalogueError {
    /// No pattern has this id.
    #[error("unknown pattern {id:?}{hint}; `kubectl pattern list` shows them all")]
    Unknown {
        /// The id asked for.
        id: String,
        /// ", did you mean …?" or "".
        hint: String,
    },
    /// The pattern exists but did not load.
    #[error("pattern {id:?} cannot be used: {error}")]
    Broken {
        /// The id.
        id: String,
        /// Why.
        error: LoadError,
    },
}

/// A pattern that failed to load, kept so `list` can show it and `add` can explain it.
#[derive(Debug)]
pub struct Broken {
    /// The directory name.
    pub id: String,
    /// Where it comes from.
    pub source: PatternSource,
    /// Why it failed.
    pub error: LoadError,
}

/// The set of available patterns.
#[derive(Default)]
pub struct Catalogue {
    patterns: Vec<Arc<dyn Pattern>>,
    broken: Vec<Broken>,
}

fn builtin_partials() -> Vec<(String, String)> {
    BUILTIN
        .get_dir(PARTIALS_DIR)
        .map(|dir| {
            dir.files()
                .filter_map(|f| {
                    let name = f.path().file_name()?.to_str()?;
                    Some((
                        name.strip_suffix(".yaml.hbs")?.to_string(),
                        f.contents_utf8()?.to_string(),
                    ))
                })
                .collect()
        })
        .unwrap_or_default()
}

fn builtin_files(dir: &Dir<'static>) -> Option<TemplateFiles> {
    let dir_name = dir.path().file_name()?.to_str()?.to_string();
    let pattern_yaml = dir
        .get_file(dir.path().join("pattern.yaml"))?
        .contents_utf8()?
        .to_string();
    let mut templates: Vec<(String, String)> = dir
        .files()
        .filter_map(|f| {
            let name = f.path().file_name()?.to_str()?;
            Some((
                name.strip_suffix(".yaml.hbs")?.to_string(),
                f.contents_utf8()?.to_string(),
            ))
        })
        .collect();
    templates.sort();
    Some(TemplateFiles {
        origin: PathBuf::from("templates").join(&dir_name),
        dir_name,
        pattern_yaml,
        templates,
    })
}

impl Catalogue {
    /// The built-in patterns only.
    pub fn builtin() -> Self {
        let mut catalogue = Catalogue::default();
        let shared = builtin_partials();
        for dir in BUILTIN.dirs() {
            let Some(files) = builtin_files(dir) else {
                continue;
            };
            if files.dir_name.starts_with('_') {
                continue;
            }
            catalogue.insert(&files, &shared, PatternSource::Builtin);
        }
        catalogue
    }

    /// Built-ins, then each template directory in order (later ones shadow earlier ones).
    /// A directory that does not exist is skipped; a broken pattern is recorded, not fatal.
    pub fn load(template_dirs: &[PathBuf]) -> Self {
        let mut catalogue = Self::builtin();
        let shared = builtin_partials();
        for root in template_dirs {
            let Ok(entries) = std::fs::read_dir(root) else {
                continue;
            };
            let mut dirs: Vec<PathBuf> = entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.is_dir())
                .collect();
            dirs.sort();
            for dir in dirs {
                catalogue.load_dir(&dir, &shared);
            }
        }
        catalogue
    }

    fn load_dir(&mut self, dir: &Path, shared: &[(String, String)]) {
        let source = PatternSource::User {
            path: dir.to_path_buf(),
        };
        match TemplateFiles::read_dir(dir) {
            Ok(files) => self.insert(&files, shared, source),
            Err(error) => self.broken.push(Broken {
                id: dir
                    .file_name()
                    .and_then(|n| n.to_str())
                    .unwrap_or_default()
                    .to_string(),
                source,
                error,
            }),
        }
    }

    fn insert(
        &mut self,
        files: &TemplateFiles,
        shared: &[(String, String)],
        source: PatternSource,
    ) {
        self.patterns.retain(|p| p.spec().id != files.dir_name);
        self.broken.retain(|b| b.id != files.dir_name);
        match TemplatePattern::load(files, shared, source.clone()) {
            Ok(p) => self.add(Arc::new(p)),
            Err(error) => self.broken.push(Broken {
                id: files.dir_name.clone(),
                source,
                error,
            }),
        }
    }

    /// Adds (or replaces) a pattern.
    pub fn add(&mut self, pattern: Arc<dyn Pattern>) {
        let id = pattern.spec().id.clone();
        self.patterns.retain(|p| p.spec().id != id);
        self.patterns.push(pattern);
        self.patterns
            .sort_by(|a, b| (a.spec().kind, &a.spec().id).cmp(&(b.spec().kind, &b.spec().id)));
    }

    /// The pattern with this id.
    pub fn get(&self, id: &str) -> Result<Arc<dyn Pattern>, CatalogueError> {
        if let Some(p) = self.patterns.iter().find(|p| p.spec().id == id) {
            return Ok(p.clone());
        }
        if let Some(pos) = self.broken.iter().position(|b| b.id == id) {
            let b = &self.broken[pos];
            return Err(CatalogueError::Broken {
                id: id.to_string(),
                error: LoadError {
                    origin: b.error.origin.clone(),
                    message: b.error.message.clone(),
                },
            });
        }
        let hint = nearest(id, self.patterns.iter().map(|p| p.spec().id.as_str()))
            .map(|n| format!(", did you mean {n:?}?"))
            .unwrap_or_default();
        Err(CatalogueError::Unknown {
            id: id.to_string(),
            hint,
        })
    }

    /// Every usable pattern, by kind then id.
    pub fn patterns(&self) -> &[Arc<dyn Pattern>] {
        &self.patterns
    }

    /// Patterns that failed to load.
    pub fn broken(&self) -> &[Broken] {
        &self.broken
    }
}

/// The `explain` topics (`patterns`, `adapterless`, …): (name, Markdown).
pub fn topics() -> Vec<(String, &'static str)> {
    BUILTIN
        .get_dir(TOPICS_DIR)
        .map(|dir| {
            let mut topics: Vec<(String, &'static str)> = dir
                .files()
                .filter_map(|f| {
                    let name = f
                        .path()
                        .file_name()?
                        .to_str()?
                        .strip_suffix(".md")?
                        .to_string();
                    Some((name, f.contents_utf8()?))
                })
                .collect();
            topics.sort();
            topics
        })
        .unwrap_or_default()
}
