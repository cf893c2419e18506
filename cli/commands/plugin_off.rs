//! `plugin` in a build without plugin support (no `plugins` feature): says how to get it.

use std::process::ExitCode;

use anyhow::Result;
use clap::Args;

use super::UsageError;

/// Manage WebAssembly pattern plugins (not in this build).
#[derive(Debug, Args)]
#[command(hide = true)]
pub struct PluginCmd {
    /// The subcommand and its arguments.
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    args: Vec<String>,
}

impl PluginCmd {
    /// Fails: this build cannot run plugins.
    pub fn run(self) -> Result<ExitCode> {
        Err(UsageError(
            "this kubectl-pattern was built without plugin support (the `plugins` cargo feature); install the full build to use plugins"
                .into(),
        )
        .into())
    }
}
