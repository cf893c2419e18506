//! Live mode in a build without it (no `cluster` feature): the same entry points as
//! `commands/live.rs`, each saying how to get live mode.

use std::process::ExitCode;

use anyhow::Result;
use serde_json::Value;

use super::UsageError;
use super::target::{ConnectArgs, LiveRun};
use crate::engine::gitrepo::MigrateGitRepo;
use crate::engine::merge::MergeOptions;
use crate::engine::process::{ObjectReport, PatternRequest, RemoveAction};

fn unavailable() -> anyhow::Error {
    UsageError(
        "this kubectl-pattern was built without live mode (the `cluster` cargo feature): work on files with -f, or install the full build"
            .into(),
    )
    .into()
}

/// `add` on live objects: not in this build.
pub fn add(_: LiveRun<'_>, _: Vec<PatternRequest>, _: MergeOptions, _: bool) -> Result<ExitCode> {
    Err(unavailable())
}

/// `remove` on live objects: not in this build.
pub fn remove(_: LiveRun<'_>, _: RemoveAction) -> Result<ExitCode> {
    Err(unavailable())
}

/// `migrate` on live objects: not in this build.
pub fn migrate(_: LiveRun<'_>, _: MigrateGitRepo) -> Result<ExitCode> {
    Err(unavailable())
}

/// `status`/`lint` on live objects: not in this build.
pub fn inspect(_: LiveRun<'_>, _: bool) -> Result<Vec<ObjectReport>> {
    Err(unavailable())
}

/// The field manager of the workloads `new --to cluster` creates (unused in this build).
pub const NEW_FIELD_MANAGER: &str = "kubectl-pattern-new";

/// `inject --apply` with its checks: not in this build.
pub fn apply_injector(
    _: &ConnectArgs,
    _: &[Value],
    _: &str,
    _: bool,
    _: Option<(Value, Value)>,
) -> Result<Vec<String>> {
    Err(unavailable())
}

/// Server-side apply of whole objects: not in this build.
pub fn apply_objects(_: &ConnectArgs, _: &[Value], _: &str, _: bool) -> Result<Vec<String>> {
    Err(unavailable())
}
