//! A WebAssembly plugin as a `Pattern`: described once when loaded, rendered in a fresh
//! sandboxed instance per object, its fragments checked before the engine merges them.

use std::path::Path;
use std::sync::Arc;

use kubectl_pattern_engine::contribution::Contribution;
use kubectl_pattern_engine::pattern::{Pattern, PatternError, PatternSpec, RenderContext};

use super::bindings::wit;
use super::cache::{self, Origin};
use super::runtime::{self, Loaded};
use super::{Limits, Refusal, WasmError, convert};

/// What an installed plugin is expected to be (checked on every load).
#[derive(Debug, Clone)]
pub struct Expected {
    /// The plugin's name in the index.
    pub name: String,
    /// The sha256 recorded at install time.
    pub sha256: String,
    /// Where it was installed from.
    pub source: String,
}

/// A loaded plugin.
pub struct WasmPattern {
    spec: PatternSpec,
    loaded: Loaded,
    limits: Limits,
    /// Whether the component came from the compile cache.
    pub origin: Origin,
    /// The component's imports (for `plugin inspect`).
    pub imports: Vec<String>,
    /// The component's exports (the versioned plugin interface).
    pub exports: Vec<String>,
}

impl WasmPattern {
    /// Loads the component at `path`: integrity check, cache or compile, link, describe.
    pub fn load(
        path: &Path,
        limits: Limits,
        expected: Option<&Expected>,
    ) -> Result<Self, WasmError> {
        let bytes = std::fs::read(path).map_err(|source| WasmError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let sha256 = cache::sha256_hex(&bytes);
        if let Some(exp) = expected
            && exp.sha256 != sha256
        {
            return Err(WasmError::Tampered {
                name: exp.name.clone(),
                path: path.to_path_buf(),
                expected: exp.sha256.clone(),
                actual: sha256,
                origin: exp.source.clone(),
            });
        }
        let (component, origin) = cache::load(path, &bytes)?;
        let engine = runtime::engine()?;
        let ty = component.component_type();
        let imports = ty
            .imports(engine)
            .map(|(name, _)| name.to_string())
            .collect();
        let exports = ty
            .exports(engine)
            .map(|(name, _)| name.to_string())
            .collect();
        let loaded = runtime::link(path, &component)?;
        let name = path.display().to_string();
        let call = loaded.call(&name, &limits, |plugin, store| plugin.describe(store))?;
        let spec = convert::spec(call.value, path, &sha256)?;
        Ok(WasmPattern {
            spec,
            loaded,
            limits,
            origin,
            imports,
            exports,
        })
    }

    fn render_plugin(&self, ctx: &RenderContext<'_>) -> Result<Contribution, WasmError> {
        let request = convert::request(ctx);
        let id = &self.spec.id;
        let call = self.loaded.call(id, &self.limits, |plugin, store| {
            plugin.render(store, &request)
        })?;
        let runtime::Call { value, log, .. } = call;
        let contribution = value.map_err(|e| {
            let (reason, message) = match e {
                wit::RenderError::InvalidParams(m) => (Refusal::InvalidParams, m),
                wit::RenderError::UnsupportedWorkload(m) => (Refusal::UnsupportedWorkload, m),
                wit::RenderError::Failed(m) => (Refusal::Failed, m),
                wit::RenderError::NotApplicable(m) => (Refusal::NotApplicable, m),
            };
            WasmError::Refused {
                plugin: id.clone(),
                reason,
                message,
                log: log.clone(),
            }
        })?;
        let bytes = convert::size(&contribution);
        if bytes > self.limits.output {
            return Err(WasmError::OutputTooLarge {
                plugin: id.clone(),
                bytes,
                limit: self.limits.output,
            });
        }
        let log_warnings = log
            .into_iter()
            .filter(|l| l.starts_with("warn") || l.starts_with("error"))
            .collect();
        convert::contribution(id, contribution, log_warnings)
    }
}

impl Pattern for WasmPattern {
    fn spec(&self) -> &PatternSpec {
        &self.spec
    }

    fn render(&self, ctx: &RenderContext<'_>) -> Result<Arc<Contribution>, PatternError> {
        self.render_plugin(ctx).map(Arc::new).map_err(|e| match e {
            WasmError::Refused {
                reason: Refusal::NotApplicable,
                message,
                ..
            } => PatternError::NotApplicable {
                pattern: self.spec.id.clone(),
                reason: message,
            },
            e => PatternError::Runtime {
                pattern: self.spec.id.clone(),
                source: Box::new(e),
            },
        })
    }
}
