//! `doctor`: checks that the running pods of live workloads match their pattern records (and
//! the injector's policies), one line per problem with its fix. The flags are parsed in every
//! build; running needs the `cluster` feature (`doctor_run.rs`).

use std::process::ExitCode;
use std::time::Duration;

use anyhow::Result;
use clap::{Args, ValueEnum};

use crate::engine::duration::{self, DurationError, TimeoutSyntax};
use crate::engine::target::{Scope, Selection};

use super::UsageError;
use super::doctor_run;
use super::target::{ClusterArgs, split_targets};

/// `doctor -o` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DoctorOutput {
    /// One line per finding with its fix, then a summary.
    Text,
    /// One JSON object: workloads, findings, notes and the summary.
    Json,
}

/// Check live workloads that carry patterns: are the helpers running in every pod?
///
/// For each selected workload, compares its pods with its pattern record (and with this tool's
/// injector policies whose binding selects its pods): each helper present (pods created before
/// the patch, or missed by the injector, show up), started and ready, its restarts and last
/// termination (CrashLoopBackOff, OOMKilled, exit codes), recent warning events about it
/// (probe failures, image pulls), native sidecars on nodes whose kubelet is older than 1.29,
/// a rollout that has not caught up with the template, and injector policies without a
/// binding or refusing to create pods.
///
/// Prints one line per finding with its fix, then a summary. Exits with 0 when nothing is
/// wrong (warnings allowed), 1 when an error-level finding was made or the cluster could not
/// be read, 2 on a usage error.
#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  # One Deployment
  kubectl pattern doctor deploy/web -n shop

  # Every Deployment and StatefulSet labelled part-of=shop,
  # in all namespaces, for CI
  kubectl pattern doctor deploy,sts -A -o json \\
      -l app.kubernetes.io/part-of=shop

  # Consider events and restarts of the last 10 minutes
  # only (0: all the server keeps)
  kubectl pattern doctor deploy --all --since 10m

Findings (error unless noted):
  helper-missing          a pod lacks a helper (created before the patch, or missed by the injector)
  helper-waiting          CrashLoopBackOff, ImagePullBackOff… (ContainerCreating: warning)
  helper-terminated       a long-running helper exited
  helper-not-started      runs, but its startup probe has not passed (pod Pending: warning)
  helper-not-ready        runs, but is not ready (an unfinished init helper: warning)
  helper-init-failed      a classic init helper failed
  helper-restarted        warning: works now, but restarted recently (OOMKilled, Error…)
  helper-events           warning events about the helper (warning while it is ready)
  native-sidecar-old-kubelet  a native sidecar on a node whose kubelet is older than 1.29
  rollout-behind, rollout-failed, old-template   the rollout has not caught up with the template
  policy-unbound          an injector policy without a binding
  policy-denies           an injector policy refused to create the workload's pods
  record-unreadable       the workload's pattern record cannot be read")]
pub struct DoctorCmd {
    /// TYPE/NAME targets (deploy/web, sts/db…), or TYPE[,TYPE] with -l/--all.
    #[arg(value_name = "TYPE/NAME")]
    targets: Vec<String>,
    /// Output format.
    #[arg(short = 'o', long = "output", value_enum, default_value = "text")]
    output: DoctorOutput,
    /// Events and restarts older than this are not reported (a duration: 30m, 2h; 0: all).
    #[arg(long, value_name = "DURATION", default_value = "1h", value_parser = since)]
    since: Since,
    #[command(flatten)]
    cluster: ClusterArgs,
}

/// What one `doctor` run checks and prints.
#[cfg_attr(
    not(feature = "cluster"),
    allow(dead_code, reason = "read by the live runner, which this build lacks")
)]
pub struct DoctorRun<'a> {
    /// The cluster flags.
    pub cluster: &'a ClusterArgs,
    /// The workloads.
    pub selection: Selection,
    /// Their namespaces (the context's when empty).
    pub scope: Scope,
    /// Text or JSON.
    pub output: DoctorOutput,
    /// How far back events and restarts count (`None`: all).
    pub since: Option<Duration>,
}

/// `--since`: `None` is no limit (`0`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Since(pub Option<Duration>);

fn since(text: &str) -> Result<Since, DurationError> {
    duration::parse_timeout(text, TimeoutSyntax::Duration).map(Since)
}

impl DoctorCmd {
    pub fn run(self) -> Result<ExitCode> {
        let (rest, live) = split_targets(&self.targets, &self.cluster, false)?;
        if let Some(word) = rest.first() {
            return Err(UsageError(format!(
                "{word:?}: expected TYPE/NAME (e.g. deploy/{word}), or TYPE with -l/--all"
            ))
            .into());
        }
        let Some((selection, scope)) = live else {
            return Err(UsageError(
                "name the workloads to check: TYPE/NAME (deploy/web), or TYPE with -l SELECTOR or --all (deploy -l app=web -A)".into(),
            )
            .into());
        };
        doctor_run::run(DoctorRun {
            cluster: &self.cluster,
            selection,
            scope,
            output: self.output,
            since: self.since.0,
        })
    }
}
