//! The compile cache: precompiled components under `$XDG_CACHE_HOME/kubectl-pattern/wasm/`,
//! keyed by the component's sha256 and the engine's compatibility hash, written atomically and
//! recompiled whenever an entry is unusable.

use std::hash::{Hash, Hasher};
use std::path::Path;

use kubectl_pattern_io::atomic;

use sha2::{Digest, Sha256};
use wasmtime::component::Component;

use super::WasmError;
use super::runtime;

/// The sha256 of `bytes`, as lower-case hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn engine_key(engine: &wasmtime::Engine) -> String {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    engine.precompile_compatibility_hash().hash(&mut hasher);
    format!("{:016x}", hasher.finish())
}

/// How a component was obtained, for reports and benchmarks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// Loaded from the cache.
    Cached,
    /// Compiled now (and cached when possible).
    Compiled,
}

/// Loads the component in `bytes` (read from `path`): from the cache when a usable entry
/// exists, else compiled and cached.
#[allow(
    unsafe_code,
    reason = "deserialising precompiled code; see the SAFETY notes"
)]
pub fn load(path: &Path, bytes: &[u8]) -> Result<(Component, Origin), WasmError> {
    let engine = runtime::engine()?;
    let entry = kubectl_pattern_io::dirs::wasm_cache().map(|dir| {
        dir.join(format!(
            "{}-{}.cwasm",
            sha256_hex(bytes),
            engine_key(engine)
        ))
    });
    if let Some(entry) = &entry
        && entry.is_file()
        && private(entry)
    {
        // SAFETY: the entry was written by `precompile_component` of an engine with the same
        // compatibility hash (it is part of the file name), into our own cache directory;
        // wasmtime checks the header again and a failure falls through to a recompile.
        if let Ok(component) = unsafe { Component::deserialize_file(engine, entry) } {
            return Ok((component, Origin::Cached));
        }
    }
    let (component, precompiled) = compile(path, bytes)?;
    if let Some(entry) = &entry {
        // A cache that cannot be written only costs time on the next run.
        let _ = atomic::write(entry, &precompiled, atomic::Permissions::PrivateDirectory);
    }
    Ok((component, Origin::Compiled))
}

/// Compiles the component in `bytes` (read from `path`) without the cache: the component and
/// its precompiled form (what `load` caches).
#[allow(
    unsafe_code,
    reason = "deserialising what the engine has just compiled; see the SAFETY note"
)]
pub fn compile(path: &Path, bytes: &[u8]) -> Result<(Component, Vec<u8>), WasmError> {
    let engine = runtime::engine()?;
    let compile_err = |e: wasmtime::Error| WasmError::Compile {
        path: path.to_path_buf(),
        source: e.into(),
    };
    let precompiled = engine.precompile_component(bytes).map_err(compile_err)?;
    // SAFETY: the bytes were produced just above by this engine's `precompile_component`.
    let component = unsafe { Component::deserialize(engine, &precompiled) }.map_err(compile_err)?;
    Ok((component, precompiled))
}

/// True when `path` and its directory belong to this user and nobody else may write them:
/// a cache entry is native code, trusted only as much as the user's own files.
#[allow(unsafe_code, reason = "geteuid, see the SAFETY note")]
fn private(path: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        // SAFETY: geteuid has no preconditions and cannot fail.
        let uid = unsafe { libc::geteuid() };
        [Some(path), path.parent()]
            .into_iter()
            .flatten()
            .all(|p| std::fs::metadata(p).is_ok_and(|m| m.uid() == uid && m.mode() & 0o022 == 0))
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        true
    }
}
