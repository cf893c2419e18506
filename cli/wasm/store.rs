//! Installed plugins: a small index (`index.json`) and the component files under
//! `$XDG_DATA_HOME/kubectl-pattern/plugins/`, each recorded with its name, version, source and
//! sha256 and checked again on every load.

use std::path::{Path, PathBuf};

use kubectl_pattern_io::atomic;
use serde::{Deserialize, Serialize};

use super::pattern::{Expected, WasmPattern};
use super::{Limits, WasmError, cache};

/// One installed plugin.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Installed {
    /// The pattern id (from the plugin's own description).
    pub name: String,
    /// The plugin's version.
    pub version: String,
    /// sidecar, adapter, ambassador or init.
    pub kind: String,
    /// One line.
    pub summary: String,
    /// Where it was installed from (a path or URL).
    pub source: String,
    /// sha256 of the component file.
    pub sha256: String,
    /// The file name inside the plugin directory.
    pub file: String,
    /// For a plugin from an OCI registry: the `sha256:…` digest of the manifest it came with.
    /// Absent in indexes written before registries were supported.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manifest_digest: Option<String>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct Index {
    #[serde(rename = "apiVersion")]
    api_version: String,
    plugins: Vec<Installed>,
}

/// Problems with the store itself.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Reading or writing the store failed.
    #[error("plugin store {path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The index is not valid JSON.
    #[error("plugin index {path} is damaged ({message}); move it away and reinstall your plugins")]
    Corrupt {
        /// The index file.
        path: PathBuf,
        /// The parser's message.
        message: String,
    },
    /// No plugin of that name.
    #[error("no installed plugin {0:?}; `kubectl pattern plugin list` shows them")]
    NotInstalled(String),
    /// The source cannot be used.
    #[error("{0}")]
    Source(String),
    /// The downloaded or given file does not have the expected hash.
    #[error("{origin} has sha256 {actual}, not the expected {expected}; nothing was installed")]
    Checksum {
        /// The source.
        origin: String,
        /// Expected.
        expected: String,
        /// Found.
        actual: String,
    },
    /// Writing the store failed.
    #[error(transparent)]
    Write(#[from] atomic::WriteError),
    /// The plugin does not load.
    #[error(transparent)]
    Plugin(#[from] WasmError),
}

/// `$XDG_DATA_HOME/kubectl-pattern/plugins` (default `~/.local/share/…`).
pub fn default_dir() -> Option<PathBuf> {
    kubectl_pattern_io::dirs::plugins()
}

/// The plugin store in `dir`.
pub struct PluginStore {
    dir: PathBuf,
}

impl PluginStore {
    /// The store at `dir` (created on first install).
    pub fn new(dir: PathBuf) -> Self {
        PluginStore { dir }
    }

    fn index_path(&self) -> PathBuf {
        self.dir.join("index.json")
    }

    /// Every installed plugin, by name.
    pub fn list(&self) -> Result<Vec<Installed>, StoreError> {
        let path = self.index_path();
        match std::fs::read_to_string(&path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
            Err(source) => Err(StoreError::Io { path, source }),
            Ok(text) => {
                let index: Index =
                    serde_json::from_str(&text).map_err(|e| StoreError::Corrupt {
                        path: path.clone(),
                        message: e.to_string(),
                    })?;
                // Entries name files inside the store only; anything else is a damaged index.
                if let Some(bad) = index.plugins.iter().find(|p| {
                    p.file.contains(['/', '\\']) || p.file.starts_with('.') || p.sha256.len() != 64
                }) {
                    return Err(StoreError::Corrupt {
                        path,
                        message: format!(
                            "entry {:?} has file {:?} and sha256 {:?}",
                            bad.name, bad.file, bad.sha256
                        ),
                    });
                }
                Ok(index.plugins)
            }
        }
    }

    fn save(&self, mut plugins: Vec<Installed>) -> Result<(), StoreError> {
        plugins.sort_by(|a, b| a.name.cmp(&b.name));
        let index = Index {
            api_version: "kubectl-pattern/v1".into(),
            plugins,
        };
        let text = serde_json::to_string_pretty(&index).unwrap_or_default();
        let path = self.index_path();
        atomic::write(
            &path,
            text.as_bytes(),
            atomic::Permissions::PrivateDirectory,
        )
        .map_err(StoreError::Write)
    }

    /// The file of an installed plugin.
    pub fn file(&self, installed: &Installed) -> PathBuf {
        self.dir.join(&installed.file)
    }

    /// Loads an installed plugin, refusing it when the file changed since install.
    pub fn load(&self, installed: &Installed, limits: Limits) -> Result<WasmPattern, WasmError> {
        let expected = Expected {
            name: installed.name.clone(),
            sha256: installed.sha256.clone(),
            source: installed.source.clone(),
        };
        WasmPattern::load(&self.file(installed), limits, Some(&expected))
    }

    /// Installs the component `bytes` (read from `source`): checks the hash when given, loads
    /// it (which compiles it into the cache), then records it, replacing a plugin of the same
    /// name. Nothing changes when any step fails.
    pub fn install(
        &self,
        source: &str,
        bytes: &[u8],
        expected_sha: Option<&str>,
        limits: Limits,
    ) -> Result<Installed, StoreError> {
        self.install_recorded(source, bytes, expected_sha, None, limits)
    }

    /// `install`, recording the OCI manifest digest the component came with.
    pub fn install_recorded(
        &self,
        source: &str,
        bytes: &[u8],
        expected_sha: Option<&str>,
        manifest_digest: Option<&str>,
        limits: Limits,
    ) -> Result<Installed, StoreError> {
        let sha256 = cache::sha256_hex(bytes);
        if let Some(expected) = expected_sha
            && !expected.eq_ignore_ascii_case(&sha256)
        {
            return Err(StoreError::Checksum {
                origin: source.to_string(),
                expected: expected.to_string(),
                actual: sha256,
            });
        }
        // Load from a staging copy so a broken plugin never enters the store.
        let staging = atomic::stage(
            &self.dir.join(".staging.wasm"),
            bytes,
            atomic::Permissions::PrivateDirectory,
        )
        .map_err(StoreError::Write)?;
        let pattern = WasmPattern::load(staging.path(), limits, None)?;
        let spec = kubectl_pattern_engine::pattern::Pattern::spec(&pattern);
        let file = format!("{}-{}.wasm", spec.id, &sha256[..12]);
        let installed = Installed {
            name: spec.id.clone(),
            version: spec.version.clone(),
            kind: spec.kind.to_string(),
            summary: spec.summary.clone(),
            source: source.to_string(),
            sha256,
            file: file.clone(),
            manifest_digest: manifest_digest.map(str::to_string),
        };
        // Read the index before the file moves in, so a damaged index leaves nothing behind.
        let mut plugins = self.list()?;
        staging
            .commit_to(&self.dir.join(&file))
            .map_err(StoreError::Write)?;
        let replaced: Vec<Installed> = plugins
            .iter()
            .filter(|p| p.name == installed.name && p.file != file)
            .cloned()
            .collect();
        plugins.retain(|p| p.name != installed.name);
        plugins.push(installed.clone());
        self.save(plugins)?;
        for old in replaced {
            let _ = std::fs::remove_file(self.file(&old));
        }
        Ok(installed)
    }

    /// Removes an installed plugin and its file.
    pub fn remove(&self, name: &str) -> Result<Installed, StoreError> {
        let mut plugins = self.list()?;
        let Some(pos) = plugins.iter().position(|p| p.name == name) else {
            return Err(StoreError::NotInstalled(name.to_string()));
        };
        let removed = plugins.remove(pos);
        self.save(plugins)?;
        let path = self.file(&removed);
        match std::fs::remove_file(&path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                return Err(StoreError::Io { path, source: e });
            }
            _ => {}
        }
        Ok(removed)
    }
}

/// Resolves an install source to (display name, bytes): a `.wasm` file, a directory holding
/// exactly one `.wasm` file (or a cargo crate built for wasm32-wasip2), or an https URL.
pub fn read_source(source: &str) -> Result<(String, Vec<u8>), StoreError> {
    if source.starts_with("https://") {
        let bytes = super::fetch::download(source).map_err(StoreError::Source)?;
        return Ok((source.to_string(), bytes));
    }
    if source.starts_with("http://") {
        return Err(StoreError::Source(format!(
            "{source}: plain http is refused; use https and --sha256"
        )));
    }
    let path = Path::new(source);
    let file = if path.is_dir() {
        find_wasm(path)?
    } else {
        path.to_path_buf()
    };
    let bytes = std::fs::read(&file)
        .map_err(|e| StoreError::Source(format!("cannot read {}: {e}", file.display())))?;
    let canonical = std::fs::canonicalize(&file).unwrap_or(file);
    Ok((canonical.display().to_string(), bytes))
}

/// The build of the cargo crate in `dir`: `<crate>.wasm` in cargo's release directory for
/// wasm32-wasip2, under `$CARGO_TARGET_DIR` when it is set (as cargo does), else `dir/target`.
fn crate_build(dir: &Path) -> Option<PathBuf> {
    let manifest = std::fs::read_to_string(dir.join("Cargo.toml")).ok()?;
    let name = package_name(&manifest)?;
    let file = format!("{}.wasm", name.replace('-', "_"));
    let target_dir = match std::env::var_os("CARGO_TARGET_DIR").filter(|v| !v.is_empty()) {
        Some(t) => PathBuf::from(t),
        None => dir.join("target"),
    };
    let path = target_dir.join("wasm32-wasip2/release").join(file);
    path.is_file().then_some(path)
}

/// `name` of the `[package]` table of a Cargo.toml (a plain `name = "…"` line).
fn package_name(manifest: &str) -> Option<String> {
    let mut in_package = false;
    for line in manifest.lines().map(str::trim) {
        if line.starts_with('[') {
            in_package = line == "[package]";
            continue;
        }
        if !in_package {
            continue;
        }
        if let Some((key, value)) = line.split_once('=')
            && key.trim() == "name"
        {
            return Some(value.trim().trim_matches('"').to_string());
        }
    }
    None
}

fn find_wasm(dir: &Path) -> Result<PathBuf, StoreError> {
    if let Some(build) = crate_build(dir) {
        return Ok(build);
    }
    let candidates = [dir.to_path_buf(), dir.join("target/wasm32-wasip2/release")];
    for d in candidates {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        let wasm: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "wasm"))
            .collect();
        match wasm.len() {
            0 => continue,
            1 => return Ok(wasm[0].clone()),
            _ => {
                return Err(StoreError::Source(format!(
                    "{} holds several .wasm files ({}); name the one to install",
                    d.display(),
                    wasm.iter()
                        .filter_map(|p| p.file_name()?.to_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )));
            }
        }
    }
    Err(StoreError::Source(format!(
        "no .wasm file in {} (build the plugin with `cargo build --release --target wasm32-wasip2` first; a crate's build is looked for under $CARGO_TARGET_DIR, else its target/)",
        dir.display()
    )))
}
