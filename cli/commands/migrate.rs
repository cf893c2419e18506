//! `migrate`: converts workloads off Kubernetes features that are going away, through the
//! patterns (so what it adds is tracked like `add`'s).

use std::process::ExitCode;

use anyhow::Result;
use clap::{Args, Subcommand};

use crate::engine::gitrepo::MigrateGitRepo;
use crate::engine::merge::MergeOptions;
use crate::request::Sources;

use super::args::{InputArgs, OutputArgs, TargetArgs};
use super::pipeline::{self, Delivery};

/// Convert workloads off Kubernetes features that are going away.
#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  # gitRepo volumes become the git-clone pattern
  kubectl pattern migrate gitrepo -f deploy.yaml --diff")]
pub struct MigrateCmd {
    #[command(subcommand)]
    what: MigrateWhat,
}

#[derive(Debug, Subcommand)]
enum MigrateWhat {
    Gitrepo(GitRepoCmd),
}

/// Replace each gitRepo volume (disabled from Kubernetes 1.33, locked off in 1.36) with the
/// git-clone pattern: an init container clones the same repository, revision and directory
/// into an emptyDir before the app starts.
///
/// The app container that mounted the volume gets the clone at the same path (read-only if
/// its mount was); other containers keep their mounts, now of the clone's volume. The checkout
/// is at <mountPath>/<directory> as before (<directory> defaults to the repository's name).
#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  kubectl pattern migrate gitrepo -f deploy.yaml --diff
  kubectl pattern migrate gitrepo -f k8s/ -R --in-place

  # The clone is a git-clone instance: status lists it,
  # remove takes it out, add re-renders it
  kubectl pattern status -f deploy.yaml")]
struct GitRepoCmd {
    #[command(flatten)]
    input: InputArgs,
    #[command(flatten)]
    output: OutputArgs,
    #[command(flatten)]
    target: TargetArgs,
}

impl MigrateCmd {
    pub fn run(self) -> Result<ExitCode> {
        match self.what {
            MigrateWhat::Gitrepo(cmd) => cmd.run(),
        }
    }
}

impl GitRepoCmd {
    fn run(self) -> Result<ExitCode> {
        let catalogue = crate::catalogue::load(&Sources::default())?;
        let action = MigrateGitRepo {
            pattern: catalogue.get("git-clone")?,
            options: MergeOptions {
                target: self.target.target()?,
                ..MergeOptions::default()
            },
        };
        pipeline::run(
            &self.input.inputs()?,
            &action,
            &self.output,
            Delivery::Stream,
        )?;
        Ok(ExitCode::SUCCESS)
    }
}
