//! The user's directories, following the XDG base directory convention (defaults under `~`).

use std::path::PathBuf;

fn base(var: &str, fallback: &str) -> Option<PathBuf> {
    std::env::var_os(var)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(fallback)))
}

/// `$XDG_CONFIG_HOME/kubectl-pattern/templates` (default `~/.config/…`): user template patterns.
pub fn user_templates() -> Option<PathBuf> {
    Some(base("XDG_CONFIG_HOME", ".config")?.join("kubectl-pattern/templates"))
}

/// `$XDG_CACHE_HOME/kubectl-pattern/wasm` (default `~/.cache/…`): precompiled plugins.
pub fn wasm_cache() -> Option<PathBuf> {
    Some(base("XDG_CACHE_HOME", ".cache")?.join("kubectl-pattern/wasm"))
}

/// `$XDG_DATA_HOME/kubectl-pattern/plugins` (default `~/.local/share/…`): installed plugins.
pub fn plugins() -> Option<PathBuf> {
    Some(base("XDG_DATA_HOME", ".local/share")?.join("kubectl-pattern/plugins"))
}
