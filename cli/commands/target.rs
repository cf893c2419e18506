//! Live-mode flags and targets on the command line: kubectl's cluster flags, and `TYPE/NAME` and
//! `TYPE -l SELECTOR` targets among the positional words. Parsed in every build; running them
//! needs the `cluster` feature (`commands/live.rs`).

use std::path::PathBuf;

use anyhow::Result;
use clap::{Args, ValueEnum};

use std::time::Duration;

use crate::engine::duration::{self, DurationError, TimeoutSyntax};
use crate::engine::scope::FileScope;
use crate::engine::target::{self, Scope, Selection};

use super::UsageError;
use super::args::OutputArgs;

/// True in builds without live mode: its flags are hidden from help.
const NO_LIVE: bool = !cfg!(feature = "cluster");

/// kubectl's flags for reaching a cluster and choosing objects.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Cluster (live mode: TYPE/NAME or TYPE -l SELECTOR)")]
pub struct ClusterArgs {
    /// Namespace of the live objects (default: the context's). With -f/-k: the namespace of
    /// the objects without one, as kubectl apply -n (an object in another one is an error).
    #[arg(short = 'n', long, help_heading = "Objects (files and live)")]
    pub namespace: Option<String>,
    /// Objects in all namespaces (with -l or --all).
    #[arg(short = 'A', long = "all-namespaces", hide = NO_LIVE)]
    pub all_namespaces: bool,
    /// Label selector, e.g. app=web,tier!=db: the live objects of TYPE, or, with -f/-k, the
    /// objects of the files to act on (the others pass through unchanged).
    #[arg(
        short = 'l',
        long,
        value_name = "SELECTOR",
        help_heading = "Objects (files and live)"
    )]
    pub selector: Option<String>,
    /// Every object of TYPE in the namespace.
    #[arg(long, hide = NO_LIVE)]
    pub all: bool,
    /// How to reach the cluster.
    #[command(flatten)]
    pub connect: ConnectArgs,
}

/// kubectl's flags for reaching a cluster.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Cluster connection")]
pub struct ConnectArgs {
    /// Path to the kubeconfig file (default: $KUBECONFIG, merged, or ~/.kube/config).
    #[arg(long, value_name = "FILE", hide = NO_LIVE)]
    pub kubeconfig: Option<PathBuf>,
    /// The kubeconfig context to use.
    #[arg(long, hide = NO_LIVE)]
    pub context: Option<String>,
    /// The kubeconfig cluster to use.
    #[arg(long, hide = NO_LIVE)]
    pub cluster: Option<String>,
    /// The kubeconfig user to use.
    #[arg(long, hide = NO_LIVE)]
    pub user: Option<String>,
    /// Username to impersonate.
    #[arg(long = "as", value_name = "USER", hide = NO_LIVE)]
    pub as_user: Option<String>,
    /// Group to impersonate (repeatable).
    #[arg(long = "as-group", value_name = "GROUP", hide = NO_LIVE)]
    pub as_group: Vec<String>,
    /// How long to wait for one request: 0 (no limit), seconds, or a duration (30s, 1m30s).
    #[arg(long, value_name = "DURATION", default_value = "0", value_parser = request_timeout, hide = NO_LIVE)]
    pub request_timeout: Timeout,
}

/// `--dry-run` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DryRunArg {
    /// Write.
    None,
    /// Run the engine on the live objects and show the result; send nothing.
    Client,
    /// Send with dryRun: admission and defaulting run, nothing is stored.
    Server,
}

/// How live writes are made.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Cluster (live mode: TYPE/NAME or TYPE -l SELECTOR)")]
pub struct WriteArgs {
    /// none, client (local engine only) or server (the API server's admission and defaulting).
    #[arg(long, value_enum, num_args = 0..=1, default_value = "none", default_missing_value = "client", hide = NO_LIVE)]
    pub dry_run: DryRunArg,
    /// Field manager of the server-side apply (default kubectl-pattern). `add` records it on
    /// the instances it applies; later writes and `remove` use the recorded manager, and this
    /// flag on `remove` overrides it.
    #[arg(long, value_name = "NAME", hide = NO_LIVE)]
    pub field_manager: Option<String>,
    /// Take over fields another field manager owns.
    #[arg(long, hide = NO_LIVE)]
    pub force_conflicts: bool,
    /// Wait for the rollout of each changed Deployment, StatefulSet and DaemonSet.
    #[arg(long, hide = NO_LIVE)]
    pub wait: bool,
    /// How long --wait waits for each rollout (a duration: 90s, 1m30s; 0: no limit).
    #[arg(long = "timeout", value_name = "DURATION", default_value = "5m", value_parser = wait_timeout, hide = NO_LIVE)]
    pub wait_timeout: Timeout,
    /// Objects processed at once.
    #[arg(long, value_name = "N", default_value_t = 8, hide = NO_LIVE)]
    pub concurrency: usize,
}

/// A kubectl timeout flag's value: `None` is no limit (`0`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeout(pub Option<Duration>);

/// `--request-timeout`: a duration, or a whole number of seconds (as kubectl reads it).
fn request_timeout(text: &str) -> Result<Timeout, DurationError> {
    duration::parse_timeout(text, TimeoutSyntax::DurationOrSeconds).map(Timeout)
}

/// `--timeout`: a duration (as kubectl rollout status reads it).
fn wait_timeout(text: &str) -> Result<Timeout, DurationError> {
    duration::parse_timeout(text, TimeoutSyntax::Duration).map(Timeout)
}

/// What a live run works on and prints.
pub struct LiveRun<'a> {
    /// The cluster flags.
    pub cluster: &'a ClusterArgs,
    /// The objects.
    pub selection: Selection,
    /// Their namespaces (the context's when empty).
    pub scope: Scope,
    /// Output flags (-o, --diff, -q, --report).
    pub output: &'a OutputArgs,
    /// Write flags (None for status/lint).
    pub write: Option<&'a WriteArgs>,
}

impl<'a> LiveRun<'a> {
    /// A run that writes (add, remove).
    pub fn writing(
        cluster: &'a ClusterArgs,
        (selection, scope): (Selection, Scope),
        output: &'a OutputArgs,
        write: &'a WriteArgs,
    ) -> Self {
        LiveRun {
            cluster,
            selection,
            scope,
            output,
            write: Some(write),
        }
    }
}

/// Live objects chosen on the command line.
pub type LiveSelection = Option<(Selection, Scope)>;

/// The positional words split into pattern (or instance) names and a live selection. With
/// `files` (-f or -k given), there is no live selection: -l and -n apply to the files' objects
/// (see [`file_scope`]).
pub fn split_targets(
    words: &[String],
    cluster: &ClusterArgs,
    files: bool,
) -> Result<(Vec<String>, LiveSelection)> {
    if files {
        return file_words(words, cluster);
    }
    let (named, mut names): (Vec<&String>, Vec<&String>) =
        words.iter().partition(|w| w.contains('/'));
    let listed = cluster.selector.is_some() || cluster.all;
    let usage = |m: &str| -> anyhow::Error { UsageError(m.to_string()).into() };
    if cluster.selector.is_some() && cluster.all {
        return Err(usage("give either -l SELECTOR or --all, not both"));
    }
    let selection = if listed {
        if !named.is_empty() {
            return Err(usage(
                "give either TYPE/NAME targets or TYPE with -l/--all, not both",
            ));
        }
        let Some(last) = names.pop() else {
            return Err(usage(
                "-l/--all need a resource type, e.g. `kubectl pattern add log-shipper deploy -l app=web`",
            ));
        };
        let types = target::parse_types(last).map_err(|e| UsageError(e.to_string()))?;
        Some(Selection::Listed {
            types,
            selector: cluster.selector.clone(),
        })
    } else if !named.is_empty() {
        if cluster.all_namespaces {
            return Err(usage(
                "a resource cannot be named across all namespaces: drop -A, or use TYPE -l SELECTOR -A",
            ));
        }
        let items = named
            .iter()
            .map(|w| target::parse_named(w))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| UsageError(e.to_string()))?;
        Some(Selection::Named(items))
    } else {
        None
    };
    if selection.is_none() && (cluster.namespace.is_some() || cluster.all_namespaces) {
        return Err(usage(
            "-n/-A choose live objects: name them as TYPE/NAME, or TYPE -l SELECTOR (to give manifests on stdin a namespace, read them with -f -)",
        ));
    }
    let scope = if cluster.all_namespaces {
        Scope::All
    } else {
        Scope::Namespace(cluster.namespace.clone().unwrap_or_default())
    };
    let names = names.into_iter().cloned().collect();
    Ok((names, selection.map(|s| (s, scope))))
}

impl ClusterArgs {
    /// True when any flag that only live mode uses was given.
    pub fn any(&self) -> bool {
        self.namespace.is_some() || self.all_namespaces || self.selector.is_some() || self.all
    }
}

/// The positional words of a file-mode run: names only; live-only flags are refused.
fn file_words(words: &[String], cluster: &ClusterArgs) -> Result<(Vec<String>, LiveSelection)> {
    let usage = |m: &str| -> anyhow::Error { UsageError(m.to_string()).into() };
    if words.iter().any(|w| w.contains('/')) {
        return Err(usage(
            "give either -f/-k files or live targets (TYPE/NAME, TYPE -l SELECTOR), not both",
        ));
    }
    if cluster.all_namespaces {
        return Err(usage(
            "-A chooses live objects; with -f/-k, -n NS gives the files' objects without a namespace that one",
        ));
    }
    if cluster.all {
        return Err(usage(
            "--all chooses live objects; with -f/-k every object of the files is processed (-l SELECTOR narrows them)",
        ));
    }
    Ok((words.to_vec(), None))
}

/// `-l` and `-n` on files, as kubectl applies them to `-f`: the selector chooses the objects
/// the command acts on, the namespace goes to namespaced objects without one.
pub fn file_scope(cluster: &ClusterArgs) -> Result<FileScope> {
    let selector = match &cluster.selector {
        Some(text) => {
            let parsed =
                crate::engine::selector::parse(text).map_err(|e| UsageError(format!("-l: {e}")))?;
            Some((text.clone(), parsed))
        }
        None => None,
    };
    if let Some(ns) = &cluster.namespace
        && !crate::engine::params::is_dns_label(ns)
    {
        return Err(UsageError(format!(
            "-n {ns:?}: a namespace is a DNS label (lower-case letters, digits and '-', at most 63 characters)"
        ))
        .into());
    }
    Ok(FileScope {
        selector,
        namespace: cluster.namespace.clone(),
    })
}
