//! What a run's patterns come from and render for: the sources of patterns besides the
//! built-ins, the plugin sandbox's limits, and the target cluster's capabilities.

use std::path::PathBuf;
use std::time::Duration;

use crate::engine::pattern::{SidecarMode, TargetInfo, parse_kube_version};

/// Limits of the plugin sandbox, per call.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SandboxLimits {
    /// Wall-clock deadline.
    pub timeout: Duration,
    /// Linear memory cap, in MiB.
    pub memory_mib: u64,
}

impl SandboxLimits {
    /// The default deadline.
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);
    /// The default memory cap, in MiB.
    pub const DEFAULT_MEMORY_MIB: u64 = 128;
    /// The longest deadline.
    pub const MAX_TIMEOUT: Duration = Duration::from_secs(3600);
    /// The largest memory cap, in MiB.
    pub const MAX_MEMORY_MIB: u64 = 16384;

    /// Checked limits.
    pub fn new(timeout: Duration, memory_mib: u64) -> Result<Self, String> {
        if timeout.is_zero() || timeout > Self::MAX_TIMEOUT {
            return Err(format!(
                "plugin-timeout {}: expected a duration up to 1h",
                crate::engine::duration::format(timeout)
            ));
        }
        if !(1..=Self::MAX_MEMORY_MIB).contains(&memory_mib) {
            return Err(format!(
                "plugin-memory {memory_mib}: expected MiB between 1 and {}",
                Self::MAX_MEMORY_MIB
            ));
        }
        Ok(SandboxLimits {
            timeout,
            memory_mib,
        })
    }
}

impl Default for SandboxLimits {
    fn default() -> Self {
        SandboxLimits {
            timeout: Self::DEFAULT_TIMEOUT,
            memory_mib: Self::DEFAULT_MEMORY_MIB,
        }
    }
}

/// A target that cannot be: the messages name the command line's flags (a config file
/// names its own fields).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TargetError {
    /// Not `MAJOR.MINOR`.
    #[error("--kube-version {0:?}: expected MAJOR.MINOR, e.g. 1.29")]
    KubeVersion(String),
    /// Native sidecars forced on a version without them.
    #[error("--sidecar-mode native needs Kubernetes >= 1.29, but --kube-version is {0}")]
    NoNativeSidecars(String),
}

/// The target from a sidecar mode and an optional `MAJOR.MINOR` Kubernetes version; native
/// sidecars cannot be forced on a version without them.
pub fn target_info(
    mode: SidecarMode,
    kube_version: Option<&str>,
) -> Result<TargetInfo, TargetError> {
    let kube_version = match kube_version {
        None => None,
        Some(text) => Some(
            parse_kube_version(text).ok_or_else(|| TargetError::KubeVersion(text.to_string()))?,
        ),
    };
    let target = TargetInfo { kube_version, mode };
    if target.mode == SidecarMode::Native && target.lacks_native_sidecars() {
        return Err(TargetError::NoNativeSidecars(target.version_string()));
    }
    Ok(target)
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
