//! Every pattern the tool knows: the built-in templates embedded at build time, user template
//! directories, and (later) installed plugins, all behind the same `Pattern` trait.

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use include_dir::{Dir, include_dir};

use super::params::nearest;
use super::pattern::{Pattern, PatternSource};
use super::template::{LoadError, TemplateFiles, TemplatePattern};

static BUILTIN: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/../../templates");

/// Directory of partials shared by every template pattern.
const PARTIALS_DIR: &str = "_partials";
/// Directory of `explain` topics.
const TOPICS_DIR: &str = "_topics";

/// A pattern id that is not in the catalogue.
#[derive(Debug, thiserror::Error)]
pub enum CatalogueError {
    /// No pattern has this id.
    #[error("unknown pattern {id:?}{hint} (`kubectl pattern list` shows them all)")]
    Unknown {
        /// The id asked for.
        id: String,
        /// ": did you mean …?" or "".
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
#[derive(Debug, Clone)]
pub struct Broken {
    /// The directory name.
    pub id: String,
    /// Where it comes from.
    pub source: PatternSource,
    /// Why it failed.
    pub error: LoadError,
}

/// A catalogue entry: a ready pattern, or template files compiled on first use.
enum Slot {
    Ready(Arc<dyn Pattern>),
    Template {
        files: TemplateFiles,
        source: PatternSource,
        compiled: OnceLock<Result<Arc<dyn Pattern>, LoadError>>,
    },
    Unreadable(Broken),
    Deferred {
        id: String,
        source: PatternSource,
        loader: Loader,
        loaded: OnceLock<Result<Arc<dyn Pattern>, LoadError>>,
    },
}

/// Loads a pattern on first use (plugins: compiling or reading the compile cache costs time).
pub type Loader = Box<dyn Fn() -> Result<Arc<dyn Pattern>, LoadError> + Send + Sync>;

/// The set of available patterns. Templates are compiled when first asked for, so a run pays
/// only for the patterns it uses.
#[derive(Default)]
pub struct Catalogue {
    slots: Vec<(String, Slot)>,
    partials: Arc<Vec<(String, String)>>,
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
        let mut catalogue = Catalogue {
            slots: Vec::new(),
            partials: Arc::new(builtin_partials()),
        };
        for dir in BUILTIN.dirs() {
            let Some(files) = builtin_files(dir) else {
                continue;
            };
            if !files.dir_name.starts_with('_') {
                catalogue.insert(files, PatternSource::Builtin);
            }
        }
        catalogue
    }

    /// Adds the user template pattern read from `dir` (or why it could not be read); it
    /// shadows a pattern of the same id added before it.
    pub fn add_user_template(&mut self, dir: PathBuf, files: Result<TemplateFiles, LoadError>) {
        let source = PatternSource::User { path: dir.clone() };
        match files {
            Ok(files) => self.insert(files, source),
            Err(error) => {
                let id = dir
                    .file_name()
                    .and_then(|n| n.to_str())
                    .unwrap_or_default()
                    .to_string();
                self.put(id.clone(), Slot::Unreadable(Broken { id, source, error }));
            }
        }
    }

    fn insert(&mut self, files: TemplateFiles, source: PatternSource) {
        let id = files.dir_name.clone();
        self.put(
            id,
            Slot::Template {
                files,
                source,
                compiled: OnceLock::new(),
            },
        );
    }

    fn put(&mut self, id: String, slot: Slot) {
        self.slots.retain(|(i, _)| *i != id);
        self.slots.push((id, slot));
    }

    /// Adds (or replaces) a pattern that `loader` loads when it is first needed.
    pub fn add_deferred(&mut self, id: String, source: PatternSource, loader: Loader) {
        self.put(
            id.clone(),
            Slot::Deferred {
                id,
                source,
                loader,
                loaded: OnceLock::new(),
            },
        );
    }

    /// Adds (or replaces) a pattern.
    pub fn add(&mut self, pattern: Arc<dyn Pattern>) {
        let id = pattern.spec().id.clone();
        self.put(id, Slot::Ready(pattern));
    }

    fn resolve(&self, slot: &Slot) -> Result<Arc<dyn Pattern>, Broken> {
        match slot {
            Slot::Ready(p) => Ok(p.clone()),
            Slot::Unreadable(b) => Err(b.clone()),
            Slot::Deferred {
                id,
                source,
                loader,
                loaded,
            } => loaded.get_or_init(loader).clone().map_err(|error| Broken {
                id: id.clone(),
                source: source.clone(),
                error,
            }),
            Slot::Template {
                files,
                source,
                compiled,
            } => compiled
                .get_or_init(|| {
                    TemplatePattern::load(files, &self.partials, source.clone())
                        .map(|p| Arc::new(p) as Arc<dyn Pattern>)
                })
                .clone()
                .map_err(|error| Broken {
                    id: files.dir_name.clone(),
                    source: source.clone(),
                    error,
                }),
        }
    }

    /// The pattern with this id.
    pub fn get(&self, id: &str) -> Result<Arc<dyn Pattern>, CatalogueError> {
        if let Some((_, slot)) = self.slots.iter().find(|(i, _)| i == id) {
            return self.resolve(slot).map_err(|b| CatalogueError::Broken {
                id: id.to_string(),
                error: b.error,
            });
        }
        let hint = nearest(id, self.slots.iter().map(|(i, _)| i.as_str()))
            .map(|n| format!(": did you mean {n:?}?"))
            .unwrap_or_default();
        Err(CatalogueError::Unknown {
            id: id.to_string(),
            hint,
        })
    }

    /// Every pattern id, without loading any pattern (for shell completion).
    pub fn ids(&self) -> Vec<String> {
        let mut ids: Vec<String> = self.slots.iter().map(|(id, _)| id.clone()).collect();
        ids.sort();
        ids
    }

    /// Every usable pattern, by kind then id.
    pub fn patterns(&self) -> Vec<Arc<dyn Pattern>> {
        let mut patterns: Vec<Arc<dyn Pattern>> = self
            .slots
            .iter()
            .filter_map(|(_, s)| self.resolve(s).ok())
            .collect();
        patterns.sort_by(|a, b| (a.spec().kind, &a.spec().id).cmp(&(b.spec().kind, &b.spec().id)));
        patterns
    }

    /// Patterns that failed to load.
    pub fn broken(&self) -> Vec<Broken> {
        self.slots
            .iter()
            .filter_map(|(_, s)| self.resolve(s).err())
            .collect()
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
