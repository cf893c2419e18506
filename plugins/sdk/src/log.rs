//! Logging through the host's `log` import: the host shows warnings and errors, and the last
//! messages when a render fails. Off WebAssembly (unit tests) messages go to stderr.

/// Severity of a log message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    /// Details for plugin authors.
    Debug,
    /// Progress.
    Info,
    /// Something the user should know.
    Warn,
    /// Something went wrong.
    Error,
}

/// Logs a message at a level.
pub fn log(level: Level, message: &str) {
    #[cfg(target_arch = "wasm32")]
    {
        use crate::bindings::kubectl_pattern::plugin::types::LogLevel;
        let level = match level {
            Level::Debug => LogLevel::Debug,
            Level::Info => LogLevel::Info,
            Level::Warn => LogLevel::Warn,
            Level::Error => LogLevel::Error,
        };
        crate::bindings::kubectl_pattern::plugin::host::log(level, message);
    }
    #[cfg(not(target_arch = "wasm32"))]
    eprintln!("[{level:?}] {message}");
}

/// Logs details for plugin authors.
pub fn debug(message: &str) {
    log(Level::Debug, message);
}

/// Logs progress.
pub fn info(message: &str) {
    log(Level::Info, message);
}

/// Logs something the user should know.
pub fn warn(message: &str) {
    log(Level::Warn, message);
}

/// Logs something that went wrong.
pub fn error(message: &str) {
    log(Level::Error, message);
}
