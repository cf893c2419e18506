//! `migrate`: converts workloads off Kubernetes features that are going away, through the
//! patterns (so what it adds is tracked like `add`'s).

use std::process::ExitCode;

use anyhow::Result;
use clap::{Args, Subcommand};

use crate::engine::gitrepo::MigrateGitRepo;
use crate::engine::merge::MergeOptions;
use crate::request::Sources;

use super::UsageError;
use super::args::{InputArgs, OutputArgs, TargetArgs};
use super::live;
use super::mutate::{diff_failure, no_files, on_files};
use super::target::{ClusterArgs, LiveRun, WriteArgs, split_targets};

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
///
/// Live objects are written with a JSON Patch (field manager kubectl-pattern-migrate: server-side
/// apply cannot delete the gitRepo volume the user's manager owns), then a server-side apply of
/// the clone's fields as the record's manager (kubectl-pattern), then a patch of managedFields
/// that leaves the clone's fields to that manager alone, so `remove git-clone` works later.
/// --dry-run=server sends only the first patch.
#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  kubectl pattern migrate gitrepo -f deploy.yaml --diff
  kubectl pattern migrate gitrepo -f k8s/ -R --in-place

  # The clone is a git-clone instance: status lists it,
  # remove takes it out, add re-renders it
  kubectl pattern status -f deploy.yaml

  # Live objects (then migrate the manifests in Git too)
  kubectl pattern migrate gitrepo deploy/web -n shop \\
      --dry-run=server --diff
  kubectl pattern migrate gitrepo deploy -l app=web -n shop
  kubectl pattern remove git-clone deploy/web -n shop")]
struct GitRepoCmd {
    /// Live objects: TYPE/NAME targets (deploy/web, sts/db…) or, with -l/--all, a TYPE.
    #[arg(value_name = "TYPE/NAME")]
    targets: Vec<String>,
    #[command(flatten)]
    input: InputArgs,
    #[command(flatten)]
    output: OutputArgs,
    #[command(flatten)]
    target: TargetArgs,
    #[command(flatten)]
    cluster: ClusterArgs,
    #[command(flatten)]
    write: WriteArgs,
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
        let (words, live) = split_targets(&self.targets, &self.cluster, self.input.named())?;
        if let Some(word) = words.first() {
            return Err(UsageError(format!(
                "{word:?} is not a live target: name objects as TYPE/NAME (deploy/web), or give a TYPE with -l SELECTOR"
            ))
            .into());
        }
        let Some((selection, scope)) = live else {
            return on_files(&self.input, &self.cluster, &action, &self.output);
        };
        no_files(&self.input)?;
        let run_on = LiveRun::writing(&self.cluster, (selection, scope), &self.output, &self.write);
        diff_failure(&self.output, live::migrate(run_on, action))
    }
}
