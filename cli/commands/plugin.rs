//! `plugin install|push|list|remove|inspect|new`: managing WebAssembly pattern plugins.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context as _, Result};
use clap::{Args, Subcommand};

use crate::engine::catalogue::{Catalogue, Loader};
use crate::engine::pattern::{Pattern, PatternSource};
use crate::engine::template::LoadError;
use crate::ui::BOLD;
use crate::wasm::Limits;
use crate::wasm::pattern::WasmPattern;
use crate::wasm::store::{self, PluginStore};

use super::UsageError;
use super::args::SandboxArgs;
use crate::request::SandboxLimits;

fn plugin_store() -> Result<PluginStore> {
    let dir = store::default_dir().ok_or_else(|| {
        UsageError("cannot find the plugin directory: set XDG_DATA_HOME or HOME".into())
    })?;
    Ok(PluginStore::new(dir))
}

/// The wasm host's limits for the request's sandbox limits.
pub fn wasm_limits(limits: SandboxLimits) -> Limits {
    Limits {
        timeout: limits.timeout,
        memory: usize::try_from(limits.memory_mib << 20).unwrap_or(usize::MAX),
        output: Limits::DEFAULT_OUTPUT,
    }
}

/// Puts every installed plugin in the catalogue, loaded (and integrity-checked) on first use.
pub fn add_installed(catalogue: &mut Catalogue, limits: Limits) -> Result<()> {
    let Some(dir) = store::default_dir() else {
        return Ok(());
    };
    let store = Arc::new(PluginStore::new(dir));
    for installed in store.list()? {
        let path = store.file(&installed);
        let source = PatternSource::Plugin {
            path: path.clone(),
            sha256: installed.sha256.clone(),
        };
        let (store, entry) = (store.clone(), installed.clone());
        let loader: Loader = Box::new(move || {
            store
                .load(&entry, limits)
                .map(|p| Arc::new(p) as Arc<dyn Pattern>)
                .map_err(|e| LoadError {
                    origin: entry.name.clone(),
                    message: e.to_string(),
                })
        });
        catalogue.add_deferred(installed.name, source, loader);
    }
    Ok(())
}

/// Manage WebAssembly pattern plugins.
#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  # A Rust plugin crate, built and installed (install
  # finds the .wasm under $CARGO_TARGET_DIR or target/)
  kubectl pattern plugin new my-pattern
  cd my-pattern
  cargo build --release --target wasm32-wasip2
  kubectl pattern plugin install .

  kubectl pattern plugin install \\
      https://example.com/otel.wasm --sha256 3f5a…
  kubectl pattern plugin list
  kubectl pattern plugin inspect my-pattern

  # Share it through an OCI registry
  kubectl pattern plugin push ./my-pattern \\
      oci://ghcr.io/acme/my-pattern:1.0.0
  kubectl pattern plugin install \\
      oci://ghcr.io/acme/my-pattern:1.0.0

  # A .wasm file, without installing it
  kubectl pattern add --plugin ./my_pattern.wasm \\
      my-pattern -f deploy.yaml")]
pub struct PluginCmd {
    #[command(subcommand)]
    command: PluginCommand,
}

#[derive(Debug, Subcommand)]
enum PluginCommand {
    /// Install a plugin from a .wasm file, a directory holding one, an https URL or an OCI
    /// registry (oci://REGISTRY/REPO:TAG or @sha256:DIGEST).
    #[command(
        after_help = "Examples:\n  # A crate built for wasm32-wasip2: its .wasm under\n  # $CARGO_TARGET_DIR or target/\n  kubectl pattern plugin install ./my-pattern\n  kubectl pattern plugin install ./my_pattern.wasm\n  kubectl pattern plugin install \\\n      https://example.com/p.wasm --sha256 <64 hex digits>\n\n  # From a registry, by tag or pinned to a digest\n  kubectl pattern plugin install \\\n      oci://ghcr.io/acme/otel:1.2.0\n  kubectl pattern plugin install \\\n      oci://ghcr.io/acme/otel:1.2.0@sha256:<64 hex>\n\n  # Credentials from stdin (else docker's config.json)\n  kubectl pattern plugin install \\\n      oci://registry.example.com/otel:1.2.0 \\\n      --username ci --password-stdin < token.txt"
    )]
    Install {
        /// The .wasm file, directory, https URL or oci:// reference.
        source: String,
        /// Refuse the file unless it has this sha256.
        #[arg(long)]
        sha256: Option<String>,
        #[command(flatten)]
        registry: super::plugin_oci::RegistryArgs,
        #[command(flatten)]
        sandbox: SandboxArgs,
    },
    /// Publish a plugin to an OCI registry (the CNCF Wasm artifact layout, the pattern's
    /// metadata as annotations) and print its digest.
    #[command(
        after_help = "Examples:\n  kubectl pattern plugin push ./my_pattern.wasm \\\n      oci://ghcr.io/acme/my-pattern:1.0.0\n\n  # A crate's build, to a registry on this machine\n  kubectl pattern plugin push ./my-pattern \\\n      oci://localhost:5000/my-pattern:dev --plain-http"
    )]
    Push {
        /// The .wasm file, or a plugin crate's directory.
        file: String,
        /// Where to: oci://REGISTRY/REPOSITORY:TAG.
        reference: String,
        #[command(flatten)]
        registry: super::plugin_oci::RegistryArgs,
        #[command(flatten)]
        sandbox: SandboxArgs,
    },
    /// List installed plugins.
    #[command(
        after_help = "Examples:\n  kubectl pattern plugin list\n  kubectl pattern plugin list -o json"
    )]
    List {
        /// Output format.
        #[arg(short = 'o', long = "output", value_enum, default_value = "text")]
        output: ListFormat,
    },
    /// Remove an installed plugin.
    #[command(after_help = "Examples:\n  kubectl pattern plugin remove my-pattern")]
    Remove {
        /// The plugin's name.
        name: String,
    },
    /// Show a plugin's metadata, parameters, WIT version and the imports it asks for.
    #[command(
        after_help = "Examples:\n  kubectl pattern plugin inspect my-pattern\n  kubectl pattern plugin inspect ./my_pattern.wasm"
    )]
    Inspect {
        /// An installed plugin's name, or a .wasm file.
        plugin: String,
        #[command(flatten)]
        sandbox: SandboxArgs,
    },
    /// Scaffold a plugin project (Rust, Python, JavaScript or C) in a new directory.
    #[command(
        after_help = "Examples:\n  kubectl pattern plugin new my-pattern\n  kubectl pattern plugin new my-pattern --lang js\n  kubectl pattern plugin new my-pattern --lang c \\\n      --dir plugins/my-pattern"
    )]
    New {
        /// The pattern id (a lower-case DNS label); also the directory name.
        name: String,
        /// Where to create it (default: ./NAME).
        #[arg(long)]
        dir: Option<PathBuf>,
        /// The plugin's language.
        #[arg(long, value_enum, default_value = "rust")]
        lang: super::scaffold_lang::Lang,
    },
}

impl PluginCmd {
    pub fn run(self) -> Result<ExitCode> {
        match self.command {
            PluginCommand::Install {
                source,
                sha256,
                registry,
                sandbox,
            } => {
                let limits = wasm_limits(sandbox.limits()?);
                let installed = super::plugin_oci::install_any(
                    &plugin_store()?,
                    &source,
                    sha256.as_deref(),
                    &registry,
                    limits,
                )?;
                if crate::engine::catalogue::Catalogue::builtin()
                    .get(&installed.name)
                    .is_ok()
                {
                    crate::ui::warn(&format!(
                        "plugin {} has the id of a built-in pattern and replaces it; `kubectl pattern plugin remove {}` restores the built-in",
                        installed.name, installed.name
                    ));
                }
                crate::ui::stdout(&format!(
                    "installed {} {} ({}) sha256:{}\n",
                    installed.name, installed.version, installed.kind, installed.sha256
                ))?;
            }
            PluginCommand::Push {
                file,
                reference,
                registry,
                sandbox,
            } => {
                let limits = wasm_limits(sandbox.limits()?);
                super::plugin_oci::push(&file, &reference, &registry, limits)?;
            }
            PluginCommand::List { output } => {
                let plugins = plugin_store()?.list()?;
                let text = match output {
                    ListFormat::Json => {
                        format!("{}\n", serde_json::to_string_pretty(&plugins)?)
                    }
                    ListFormat::Text if plugins.is_empty() => {
                        "no plugins installed; see `kubectl pattern plugin install --help`\n"
                            .to_string()
                    }
                    ListFormat::Text => {
                        let mut out = format!(
                            "{BOLD}{:<20} {:<9} {:<11} {:<14} SOURCE{BOLD:#}\n",
                            "NAME", "VERSION", "KIND", "SHA256"
                        );
                        for p in &plugins {
                            out.push_str(&format!(
                                "{:<20} {:<9} {:<11} {:<14} {}\n",
                                p.name,
                                p.version,
                                p.kind,
                                p.sha256.get(..12).unwrap_or(&p.sha256),
                                p.source
                            ));
                        }
                        out
                    }
                };
                crate::ui::stdout(&text)?;
            }
            PluginCommand::Remove { name } => {
                let removed = plugin_store()?.remove(&name)?;
                crate::ui::stdout(&format!("removed {} {}\n", removed.name, removed.version))?;
            }
            PluginCommand::Inspect { plugin, sandbox } => {
                let limits = wasm_limits(sandbox.limits()?);
                let store = plugin_store()?;
                let pattern = match store.list()?.into_iter().find(|p| p.name == plugin) {
                    Some(installed) => store.load(&installed, limits)?,
                    None if std::path::Path::new(&plugin).is_file() => {
                        WasmPattern::load(std::path::Path::new(&plugin), limits, None)?
                    }
                    None => return Err(store::StoreError::NotInstalled(plugin).into()),
                };
                crate::ui::stdout(&inspect(&pattern))?;
            }
            PluginCommand::New { name, dir, lang } => {
                let dir = dir.unwrap_or_else(|| PathBuf::from(&name));
                let next = super::scaffold_lang::write(lang, &name, &dir).with_context(|| {
                    format!("cannot create the plugin project in {}", dir.display())
                })?;
                crate::ui::stdout(&next)?;
            }
        }
        Ok(ExitCode::SUCCESS)
    }
}

/// `plugin list -o`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ListFormat {
    /// A table, one plugin per line.
    Text,
    /// A JSON array, one object per plugin (name, version, kind, sha256, source).
    Json,
}

fn inspect(pattern: &WasmPattern) -> String {
    let s = pattern.spec();
    let (path, sha) = match &s.source {
        PatternSource::Plugin { path, sha256 } => (path.display().to_string(), sha256.clone()),
        other => (other.to_string(), String::new()),
    };
    let mut out = format!(
        "{BOLD}{}{BOLD:#} {} ({} pattern)\n  {}\n",
        s.id, s.version, s.kind, s.summary
    );
    let wit = pattern
        .exports
        .iter()
        .find(|e| e.starts_with("kubectl-pattern:plugin/pattern"))
        .cloned()
        .unwrap_or_default();
    out.push_str(&format!(
        "  file:    {path}\n  sha256:  {sha}\n  wit:     {wit}\n"
    ));
    out.push_str(&format!(
        "  cache:   {}\n",
        if pattern.origin == crate::wasm::cache::Origin::Cached {
            "precompiled"
        } else {
            "compiled now"
        }
    ));
    out.push_str(&format!(
        "{BOLD}imports{BOLD:#} (what it asks the sandbox for):\n"
    ));
    for import in &pattern.imports {
        out.push_str(&format!("  {import}\n"));
    }
    out.push_str(&format!("{BOLD}parameters{BOLD:#}:\n"));
    out.push_str(&super::catalogue_cmds::param_lines(&s.params));
    out
}
