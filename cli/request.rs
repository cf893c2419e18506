//! The one request model: what a run asks for, whatever it came from (flags, values files, the
//! wizard's answers, `new`'s answers, a KRM functionConfig). Commands parse their input into it;
//! everything after works on it.

use std::path::PathBuf;
use std::time::Duration;

/// Limits of the plugin sandbox, per call.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SandboxLimits {
    /// Wall-clock deadline.
    pub timeout: Duration,
    /// Linear memory cap, in MiB.
    pub memory_mib: u64,
}

impl SandboxLimits {
    /// The default deadline, in seconds.
    pub const DEFAULT_TIMEOUT_SECS: f64 = 5.0;
    /// The default memory cap, in MiB.
    pub const DEFAULT_MEMORY_MIB: u64 = 128;
    /// The largest deadline, in seconds.
    pub const MAX_TIMEOUT_SECS: f64 = 3600.0;
    /// The largest memory cap, in MiB.
    pub const MAX_MEMORY_MIB: u64 = 16384;

    /// Checked limits.
    pub fn new(timeout_secs: f64, memory_mib: u64) -> Result<Self, String> {
        if !(timeout_secs > 0.0 && timeout_secs <= Self::MAX_TIMEOUT_SECS) {
            return Err(format!(
                "plugin timeout {timeout_secs}: expected seconds between 0 and {}",
                Self::MAX_TIMEOUT_SECS
            ));
        }
        if !(1..=Self::MAX_MEMORY_MIB).contains(&memory_mib) {
            return Err(format!(
                "plugin memory {memory_mib}: expected MiB between 1 and {}",
                Self::MAX_MEMORY_MIB
            ));
        }
        Ok(SandboxLimits {
            timeout: Duration::from_secs_f64(timeout_secs),
            memory_mib,
        })
    }
}

impl Default for SandboxLimits {
    fn default() -> Self {
        SandboxLimits {
            timeout: Duration::from_secs_f64(Self::DEFAULT_TIMEOUT_SECS),
            memory_mib: Self::DEFAULT_MEMORY_MIB,
        }
    }
}

/// Where patterns come from besides the built-ins.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Sources {
    /// Template directories, after the user's own (later ones win).
    pub template_dirs: Vec<PathBuf>,
    /// Plugin files used without installing them.
    pub plugins: Vec<PathBuf>,
    /// The sandbox's limits for every plugin.
    pub sandbox: SandboxLimits,
}
