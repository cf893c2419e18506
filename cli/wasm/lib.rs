//! The WebAssembly plugin host: plugins are components (wit/plugin.wit) run in a wasmtime
//! sandbox, with a compile cache, and adapted to the engine's `Pattern` trait.

pub mod bindings;
pub mod cache;
pub mod convert;
pub mod fetch;
pub mod oci;
mod oci_auth;
mod oci_error;
mod oci_ref;
pub mod pattern;
pub mod runtime;
pub mod sandbox;
pub mod store;
pub mod v01;

use std::path::PathBuf;
use std::sync::Arc;

/// Why a plugin could not be loaded or run. Each variant says what happened and what to do.
#[derive(Debug, thiserror::Error)]
pub enum WasmError {
    /// The file could not be read.
    #[error("cannot read plugin {path}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// Not a valid WebAssembly component.
    #[error(
        "{path} is not a usable WebAssembly component; build plugins for wasm32-wasip2 (see docs/plugins.md)"
    )]
    Compile {
        /// The file.
        path: PathBuf,
        /// wasmtime's error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The component imports something the sandbox does not provide.
    #[error(
        "plugin {path} imports {import}, which the sandbox does not provide (it links the kubectl-pattern host and WASI 0.2 cli, clocks, random, io and an empty filesystem; sockets are stubs)"
    )]
    UnsupportedImport {
        /// The file.
        path: PathBuf,
        /// The import.
        import: String,
    },
    /// The component does not implement the plugin world of a version this host loads.
    #[error(
        "plugin {path} exports {exports}, not the pattern-plugin world this host loads (kubectl-pattern:plugin/pattern@0.2.0 or @0.1.0); build it against wit/plugin.wit (see docs/plugins.md)"
    )]
    WrongWorld {
        /// The file.
        path: PathBuf,
        /// What it exports.
        exports: String,
        /// wasmtime's error, when the export is there but its functions do not match.
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },
    /// The plugin ran past its deadline.
    #[error(
        "plugin {plugin} exceeded its deadline of {seconds:.1} s and was stopped{stderr}; raise it with --plugin-timeout if the plugin is legitimately slow"
    )]
    Deadline {
        /// The plugin.
        plugin: String,
        /// The deadline.
        seconds: f64,
        /// Guest stderr/log, prefixed, or "".
        stderr: String,
    },
    /// The plugin tried to use more memory than allowed.
    #[error(
        "plugin {plugin} tried to use more than {limit_mib} MiB of memory and was stopped{stderr}; raise it with --plugin-memory if the plugin legitimately needs more"
    )]
    MemoryLimit {
        /// The plugin.
        plugin: String,
        /// The cap.
        limit_mib: u64,
        /// Guest stderr/log, prefixed, or "".
        stderr: String,
    },
    /// The plugin trapped (panic, unreachable, …).
    #[error("plugin {plugin} crashed: {cause}{stderr}")]
    Trap {
        /// The plugin.
        plugin: String,
        /// The trap (a `wasmtime::Trap`), or the host error that ended the call.
        cause: Box<dyn std::error::Error + Send + Sync>,
        /// Guest stderr/log, prefixed, or "".
        stderr: String,
    },
    /// The plugin's answer is bigger than allowed.
    #[error(
        "plugin {plugin} returned {bytes} bytes, more than the {limit} allowed; a contribution is a few containers and volumes"
    )]
    OutputTooLarge {
        /// The plugin.
        plugin: String,
        /// Size returned.
        bytes: usize,
        /// The cap.
        limit: usize,
    },
    /// A fragment is not the Kubernetes type it claims to be, or the metadata is invalid.
    #[error("plugin {plugin} returned an invalid {what}: {message}")]
    Invalid {
        /// The plugin.
        plugin: String,
        /// "container #1", "pattern info"…
        what: String,
        /// What is wrong.
        message: String,
    },
    /// The file changed since it was installed.
    #[error(
        "plugin {name} was modified after it was installed ({path}: sha256 {actual}, installed {expected}); reinstall it with `kubectl pattern plugin install {origin}`, or remove it with `kubectl pattern plugin remove {name}`"
    )]
    Tampered {
        /// The plugin name.
        name: String,
        /// Its file.
        path: PathBuf,
        /// The recorded sha256.
        expected: String,
        /// The file's sha256 now.
        actual: String,
        /// Where it was installed from.
        origin: String,
    },
    /// The wasmtime engine could not be set up (once per process).
    #[error("the WebAssembly runtime cannot start")]
    Engine(#[source] Arc<dyn std::error::Error + Send + Sync>),
    /// The host's imports could not be linked for a plugin.
    #[error("plugin {plugin}: cannot link the host's functions")]
    Link {
        /// The plugin.
        plugin: String,
        /// wasmtime's error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The plugin refused to render (its `render-error`).
    #[error("plugin {plugin}: {reason}: {message}{}", log_tail(log))]
    Refused {
        /// The plugin.
        plugin: String,
        /// Which kind of refusal.
        reason: Refusal,
        /// The plugin's message.
        message: String,
        /// The plugin's last log lines.
        log: Vec<String>,
    },
}

/// Why a plugin refused to render, as its `render-error` says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The parameters do not work together.
    InvalidParams,
    /// The workload does not suit the pattern.
    UnsupportedWorkload,
    /// Anything else.
    Failed,
    /// The plugin does not apply to this workload (it declined).
    NotApplicable,
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Refusal::InvalidParams => "invalid parameters",
            Refusal::UnsupportedWorkload => "unsupported workload",
            Refusal::Failed => "failed",
            Refusal::NotApplicable => "not applicable",
        })
    }
}

/// The plugin's last log lines, for a refusal's message (the last ones usually say why).
fn log_tail(log: &[String]) -> String {
    let keep = log.len().saturating_sub(8);
    match log[keep..].join("\n    ") {
        lines if lines.is_empty() => String::new(),
        lines => format!("\n  plugin log:\n    {lines}"),
    }
}

/// Sandbox limits for one plugin call.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Wall-clock deadline per call.
    pub timeout: std::time::Duration,
    /// Linear memory cap, bytes.
    pub memory: usize,
    /// Cap on the bytes a call may return.
    pub output: usize,
}

impl Limits {
    /// The cap on the bytes a call may return, unless the host sets another.
    pub const DEFAULT_OUTPUT: usize = 4 << 20;
}
