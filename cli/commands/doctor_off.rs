//! `doctor` in a build without live mode (no `cluster` feature): the same entry point as
//! `commands/doctor_run.rs`, saying how to get live mode.

use std::process::ExitCode;

use anyhow::Result;

use super::UsageError;
use super::doctor::DoctorRun;

/// `doctor`: not in this build.
pub fn run(_: DoctorRun<'_>) -> Result<ExitCode> {
    Err(UsageError(
        "this kubectl-pattern was built without live mode (the `cluster` cargo feature): doctor reads a cluster; install the full build"
            .into(),
    )
    .into())
}
