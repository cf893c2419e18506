//! `doctor` in a build without live mode (no `cluster` feature): the same entry point as
//! `commands/doctor_run.rs`, saying how to get live mode.

use std::process::ExitCode;
use std::time::Duration;

use anyhow::Result;

use super::UsageError;
use super::doctor::DoctorOutput;
use super::target::ClusterArgs;
use crate::engine::target::{Scope, Selection};

/// What one `doctor` run would check.
pub struct DoctorRun<'a> {
    /// The cluster flags.
    pub cluster: &'a ClusterArgs,
    /// The workloads.
    pub selection: Selection,
    /// Their namespaces.
    pub scope: Scope,
    /// Text or JSON.
    pub output: DoctorOutput,
    /// How far back events and restarts count.
    pub since: Option<Duration>,
}

/// `doctor`: not in this build.
pub fn run(_: DoctorRun<'_>) -> Result<ExitCode> {
    Err(UsageError(
        "this kubectl-pattern was built without live mode (the `cluster` cargo feature): doctor reads a cluster; install the full build"
            .into(),
    )
    .into())
}
