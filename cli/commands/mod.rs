//! The command line: one module per subcommand; clap doc comments are the help text.

pub mod args;
mod ask;
mod catalogue_cmds;
mod complete;
mod doctor;
#[cfg(feature = "cluster")]
mod doctor_run;
#[cfg(not(feature = "cluster"))]
#[path = "doctor_off.rs"]
mod doctor_run;
mod found;
pub mod inject;
mod krm;
mod kustomize;
#[cfg(feature = "cluster")]
pub mod live;
#[cfg(not(feature = "cluster"))]
#[path = "live_off.rs"]
pub mod live;
#[cfg(feature = "cluster")]
mod live_wait;
mod migrate;
mod mutate;
mod new;
mod pipeline;
#[cfg(feature = "plugins")]
pub(crate) mod plugin;
#[cfg(not(feature = "plugins"))]
#[path = "plugin_off.rs"]
pub(crate) mod plugin;
#[cfg(feature = "plugins")]
mod plugin_oci;
#[cfg(feature = "plugins")]
mod scaffold;
#[cfg(feature = "plugins")]
mod scaffold_lang;
pub mod target;

use std::process::ExitCode;

use anyhow::Result;
use clap::{CommandFactory, Parser, Subcommand};

/// A usage error (exit code 2), as opposed to a failure (exit code 1).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

/// Exit codes: 0 success; 1 a failure (an input, a plugin, the cluster) or `lint`/`doctor`
/// findings of error level; 2 a usage error: the command line or what it names is wrong
/// (unknown flags, patterns, parameters or targets, invalid or missing values, a bad values
/// file);
/// 3 `lint` could not check (see `LintCmd`), or a `--diff` run failed (1 there means
/// differences, as with `kubectl diff`).
pub fn exit_code(err: &anyhow::Error) -> u8 {
    use crate::request::{MissingParams, RequestError, TargetError, ValuesError};
    if err.is::<mutate::LintFailure>() || err.is::<mutate::DiffFailure>() {
        return 3;
    }
    let usage = err.chain().any(|cause| {
        cause.is::<UsageError>()
            || cause.is::<MissingParams>()
            || cause.is::<TargetError>()
            || cause.is::<crate::engine::params::ParamError>()
            || cause.is::<crate::engine::target::TargetError>()
            || cause
                .downcast_ref::<RequestError>()
                .is_some_and(RequestError::is_usage)
            || matches!(cause.downcast_ref(), Some(ValuesError::Format { .. }))
    });
    if usage { 2 } else { 1 }
}

// Examples: one command per line, long ones split with `\` continuations, every line at most
// 60 columns so that help never wraps one (tests/it/help.rs renders them at 60 and 200).
const EXAMPLES: &str = "\
Examples:
  # Offline: ship the log files of the Deployment in a file
  # with a Fluent Bit sidecar (the patched stream on stdout)
  kubectl pattern add log-shipper -f deploy.yaml

  # Wait for a Service before the app starts, and proxy
  # Redis through localhost, in one go
  kubectl pattern add wait-for redis-proxy \\
      --set wait-for.host=db.shop.svc.cluster.local \\
      --set redis-proxy.servers=redis.cache.svc:6379 \\
      -f app.yaml

  # Pipe-friendly: patch and apply
  kustomize build overlays/prod \\
      | kubectl pattern add prometheus-exporter \\
      | kubectl apply -f -

  # Live: the same on a Deployment in the cluster
  # (server-side apply)
  kubectl pattern add log-shipper deploy/web -n shop

  # Let the cluster add the log shipper to every new pod
  # labelled app=web (Kubernetes >= 1.36)
  kubectl pattern inject log-shipper -l app=web \\
      | kubectl apply -f -

  # What is applied where, and what looks wrong
  kubectl pattern status -f k8s/ -R
  kubectl pattern lint -f k8s/ -R

  # Are the helpers running in every pod of a live workload?
  kubectl pattern doctor deploy/web -n shop

  # Scaffold a new workload with patterns, step by step
  kubectl pattern new

  # Learn the patterns
  kubectl pattern list
  kubectl pattern explain ambassador";

/// Add sidecar, adapter, ambassador and init helper containers to Kubernetes workloads.
///
/// Two modes, one engine. Offline: manifest files, kustomization directories and stdin (-f
/// FILE|DIR|-, -k DIR, a pipe), the patched stream on stdout (or --in-place, --diff). Live
/// (the default build): objects in a cluster named as kubectl names them (deploy/web, or
/// deploy -l app=web), changed with server-side apply. Patterns are built in, your own
/// handlebars templates, or WebAssembly plugins run in a sandbox.
#[derive(Debug, Parser)]
#[command(name = "kubectl-pattern", bin_name = "kubectl pattern", version, after_help = EXAMPLES, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    List(catalogue_cmds::ListCmd),
    Explain(catalogue_cmds::ExplainCmd),
    Add(mutate::AddCmd),
    New(new::NewCmd),
    Remove(mutate::RemoveCmd),
    Status(mutate::StatusCmd),
    Lint(mutate::LintCmd),
    Migrate(migrate::MigrateCmd),
    Version(catalogue_cmds::VersionCmd),
    Completion(catalogue_cmds::CompletionCmd),
    Plugin(plugin::PluginCmd),
    Inject(inject::InjectCmd),
    #[command(hide = !cfg!(feature = "cluster"))]
    Doctor(doctor::DoctorCmd),
    Fn(krm::FnCmd),
    #[command(name = "__complete", hide = true)]
    Complete(complete::CompleteCmd),
}

/// Parses the command line and runs it; errors go to stderr with their causes.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(err) => {
            let causes: Vec<String> = err.chain().skip(1).map(|c| c.to_string()).collect();
            crate::ui::error(&err.to_string(), &causes);
            ExitCode::from(exit_code(&err))
        }
    }
}

fn run(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Command::List(cmd) => cmd.run(),
        Command::Explain(cmd) => cmd.run(),
        Command::Add(cmd) => cmd.run(),
        Command::New(cmd) => cmd.run(),
        Command::Remove(cmd) => cmd.run(),
        Command::Status(cmd) => cmd.run(),
        Command::Lint(cmd) => cmd.run(),
        Command::Migrate(cmd) => cmd.run(),
        Command::Version(cmd) => cmd.run(),
        Command::Completion(cmd) => cmd.run(&mut Cli::command()),
        Command::Plugin(cmd) => cmd.run(),
        Command::Inject(cmd) => cmd.run(),
        Command::Doctor(cmd) => cmd.run(),
        Command::Fn(cmd) => cmd.run(),
        Command::Complete(cmd) => cmd.run(&mut Cli::command()),
    }
}
