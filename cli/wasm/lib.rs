//! The WebAssembly plugin host: plugins are components (wit/plugin.wit) run in a wasmtime
//! sandbox, with a compile cache, and adapted to the engine's `Pattern` trait.

pub mod cache;
pub mod convert;
pub mod pattern;
pub mod runtime;
pub mod store;

use std::path::PathBuf;

/// Why a plugin could not be loaded or run. Each variant says what happened and what to do.
#[derive(Debug, thiserror::Error)]
pub enum WasmError {
    /// The file could not be read.
    #[error("cannot read plugin {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// Not a valid WebAssembly component.
    #[error(
        "{path} is not a usable WebAssembly component: {message}; build plugins for wasm32-wasip2 (see docs/plugins.md)"
    )]
    Compile {
        /// The file.
        path: PathBuf,
        /// wasmtime's message.
        message: String,
    },
    /// The component imports something the sandbox does not provide.
    #[error(
        "plugin {path} imports {import}, which the sandbox does not provide (only the kubectl-pattern host and an empty WASI context are available): {message}"
    )]
    UnsupportedImport {
        /// The file.
        path: PathBuf,
        /// The import.
        import: String,
        /// wasmtime's message.
        message: String,
    },
    /// The component does not implement the plugin world.
    #[error("plugin {path} does not export kubectl-pattern:plugin/pattern@0.1.0: {message}")]
    WrongWorld {
        /// The file.
        path: PathBuf,
        /// wasmtime's message.
        message: String,
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
    #[error("plugin {plugin} crashed: {message}{stderr}")]
    Trap {
        /// The plugin.
        plugin: String,
        /// The trap.
        message: String,
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
    /// Any other wasmtime failure.
    #[error("plugin {plugin}: {message}")]
    Runtime {
        /// The plugin.
        plugin: String,
        /// The message.
        message: String,
    },
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
