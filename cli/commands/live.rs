//! Live mode on the command line: kubectl's cluster flags, `TYPE/NAME` and `TYPE -l SELECTOR`
//! targets among the positional words, and the run: engine on live objects, server-side apply,
//! reports, `--diff`, `-o`, `--wait` with progress.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Result;
use clap::{Args, ValueEnum};
use serde_json::Value;

use crate::cluster::connect::{self, ConnectOptions, Connection};
use crate::cluster::live::{self, DryRun, InFlight, LiveOptions, Outcome, Scope, Selection};
use crate::cluster::resource::{self, Resource};
use crate::engine::process::{Action, ObjectReport, Status};

use super::UsageError;
use super::args::{OutputArg, OutputArgs, ReportArg};

/// kubectl's flags for reaching a cluster and choosing objects.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Cluster (live mode: TYPE/NAME or TYPE -l SELECTOR)")]
pub struct ClusterArgs {
    /// Namespace of the objects (default: the context's).
    #[arg(short = 'n', long)]
    pub namespace: Option<String>,
    /// Objects in all namespaces (with -l or --all).
    #[arg(short = 'A', long = "all-namespaces")]
    pub all_namespaces: bool,
    /// Label selector for the objects of TYPE, e.g. app=web,tier!=db.
    #[arg(short = 'l', long, value_name = "SELECTOR")]
    pub selector: Option<String>,
    /// Every object of TYPE in the namespace.
    #[arg(long)]
    pub all: bool,
    #[command(flatten)]
    pub connect: ConnectArgs,
}

/// kubectl's flags for reaching a cluster.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Cluster connection")]
pub struct ConnectArgs {
    /// Path to the kubeconfig file (default: $KUBECONFIG, merged, or ~/.kube/config).
    #[arg(long, value_name = "FILE")]
    pub kubeconfig: Option<PathBuf>,
    /// The kubeconfig context to use.
    #[arg(long)]
    pub context: Option<String>,
    /// The kubeconfig cluster to use.
    #[arg(long)]
    pub cluster: Option<String>,
    /// The kubeconfig user to use.
    #[arg(long)]
    pub user: Option<String>,
    /// Username to impersonate.
    #[arg(long = "as", value_name = "USER")]
    pub as_user: Option<String>,
    /// Group to impersonate (repeatable).
    #[arg(long = "as-group", value_name = "GROUP")]
    pub as_group: Vec<String>,
    /// How long to wait for one request: 0 (no limit), 30s, 1m…
    #[arg(long, value_name = "DURATION", default_value = "0")]
    pub request_timeout: String,
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
    #[arg(long, value_enum, num_args = 0..=1, default_value = "none", default_missing_value = "client")]
    pub dry_run: DryRunArg,
    /// Field manager of the server-side apply.
    #[arg(long, default_value = "kubectl-pattern")]
    pub field_manager: String,
    /// Take over fields another field manager owns.
    #[arg(long)]
    pub force_conflicts: bool,
    /// Wait for the rollout of each changed Deployment, StatefulSet and DaemonSet.
    #[arg(long)]
    pub wait: bool,
    /// How long --wait waits for each rollout.
    #[arg(long = "timeout", value_name = "DURATION", default_value = "5m")]
    pub wait_timeout: String,
    /// Objects processed at once.
    #[arg(long, value_name = "N", default_value_t = 8)]
    pub concurrency: usize,
}

/// Live objects chosen on the command line.
pub type LiveSelection = Option<(Selection, Scope)>;

/// The positional words split into pattern (or instance) names and a live selection.
pub fn split_targets(
    words: &[String],
    cluster: &ClusterArgs,
) -> Result<(Vec<String>, LiveSelection)> {
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
        let types = resource::parse_types(last).map_err(|e| UsageError(e.to_string()))?;
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
            .map(|w| resource::parse_named(w))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| UsageError(e.to_string()))?;
        Some(Selection::Named(items))
    } else {
        None
    };
    if selection.is_none() && (cluster.namespace.is_some() || cluster.all_namespaces) {
        return Err(usage(
            "-n/-A choose live objects: name them as TYPE/NAME, or TYPE -l SELECTOR",
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

impl ConnectArgs {
    /// The options, checked.
    pub fn options(&self) -> Result<ConnectOptions> {
        let request_timeout = connect::parse_timeout(&self.request_timeout).ok_or_else(|| {
            UsageError(format!(
                "--request-timeout {:?}: expected 0, seconds, or a duration like 30s or 1m",
                self.request_timeout
            ))
        })?;
        Ok(ConnectOptions {
            kubeconfig: self.kubeconfig.clone(),
            context: self.context.clone(),
            cluster: self.cluster.clone(),
            user: self.user.clone(),
            impersonate: self.as_user.clone(),
            impersonate_groups: self.as_group.clone(),
            request_timeout,
        })
    }
}

/// A tokio runtime for one command.
pub fn runtime() -> Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?)
}

/// Connects, filling the namespace from the context when -n was not given.
pub async fn connect_scope(cluster: &ClusterArgs, scope: &mut Scope) -> Result<Connection> {
    let conn = connect::connect(&cluster.connect.options()?).await?;
    if let Scope::Namespace(ns) = scope
        && ns.is_empty()
    {
        *ns = conn.default_namespace.clone();
    }
    Ok(conn)
}

/// What the caller wants printed.
pub struct LiveOutput<'a> {
    /// Output flags (-o, --diff, -q, --report).
    pub output: &'a OutputArgs,
    /// Write flags (None for status/lint).
    pub write: Option<&'a WriteArgs>,
}

fn parse_duration(flag: &str, text: &str) -> Result<Duration> {
    match connect::parse_timeout(text) {
        Some(Some(d)) => Ok(d),
        Some(None) => Ok(Duration::from_secs(365 * 24 * 3600)),
        None => Err(UsageError(format!(
            "{flag} {text:?}: expected seconds or a duration like 90s or 5m"
        ))
        .into()),
    }
}

/// Runs `action` on the selected live objects and prints what happened.
pub async fn run(
    conn: &Connection,
    selection: &Selection,
    scope: &Scope,
    action: Arc<dyn Action + Send + Sync>,
    out: LiveOutput<'_>,
) -> Result<(ExitCode, Vec<ObjectReport>)> {
    if out.output.in_place {
        return Err(UsageError("--in-place rewrites files; live objects are patched in place already (use --dry-run to preview)".into()).into());
    }
    let opts = match out.write {
        Some(w) => LiveOptions {
            field_manager: w.field_manager.clone(),
            force_conflicts: w.force_conflicts,
            dry_run: match w.dry_run {
                DryRunArg::None => DryRun::None,
                DryRunArg::Client => DryRun::Client,
                DryRunArg::Server => DryRun::Server,
            },
            concurrency: w.concurrency.max(1),
            ..Default::default()
        },
        None => LiveOptions::default(),
    };
    let wait = match out.write {
        Some(w) if w.wait => Some(parse_duration("--timeout", &w.wait_timeout)?),
        _ => None,
    };
    let targets = live::resolve(conn, selection, scope).await?;
    if targets.is_empty() {
        let where_ = match scope {
            Scope::Namespace(ns) => format!("in namespace {ns}"),
            Scope::All => "in any namespace".into(),
        };
        anstream::eprintln!("No resources found {where_}.");
        return Ok((ExitCode::SUCCESS, vec![]));
    }
    let results = live::run(
        conn,
        targets,
        action,
        &opts,
        out.write.is_some(),
        Arc::new(InFlight::default()),
    )
    .await;
    let all_ns = *scope == Scope::All;
    let mut failed = 0;
    let (mut patched, mut unchanged) = (0, 0);
    let mut printed: Vec<Value> = Vec::new();
    let mut reports: Vec<ObjectReport> = Vec::new();
    let mut rollouts = Vec::new();
    let mut diff_text = String::new();
    let suffix = match opts.dry_run {
        DryRun::None => "",
        DryRun::Client => " (dry run)",
        DryRun::Server => " (server dry run)",
    };
    for result in results {
        match result {
            Ok(o) => {
                if o.written {
                    patched += 1;
                    if o.target.resource.rolls_out() && opts.dry_run == DryRun::None {
                        rollouts.push(o.target.clone());
                    }
                } else {
                    unchanged += 1;
                }
                if out.write.is_some() && !out.output.quiet && out.output.report == ReportArg::Text
                {
                    let line = live_line(&o, all_ns, suffix);
                    if out.output.output.is_some() || out.output.diff {
                        anstream::eprintln!("{line}");
                    } else {
                        crate::ui::stdout(&format!("{line}\n"))?;
                    }
                }
                for note in &o.notes {
                    let style = crate::ui::WARNING;
                    anstream::eprintln!("{style}warning:{style:#} {}: {note}", o.target.display());
                }
                if out.output.diff && o.written {
                    diff_text.push_str(&diff(&o)?);
                }
                printed.push(strip(o.after.clone()));
                reports.push(o.report);
            }
            Err(e) => {
                failed += 1;
                let style = crate::ui::ERROR;
                anstream::eprintln!(
                    "{style}error:{style:#} {}",
                    crate::ui::clean(&e.to_string())
                );
            }
        }
    }
    if out.output.diff {
        crate::ui::stdout(&diff_text)?;
    } else if let Some(format) = out.output.output {
        crate::ui::stdout(&render(&printed, format)?)?;
    }
    if out.write.is_none() || out.output.report == ReportArg::Json {
        print_reports(&reports, out.output.report, out.write.is_none())?;
    }
    if out.write.is_some() && !out.output.quiet && patched + unchanged + failed > 1 {
        let verb = if opts.dry_run == DryRun::None {
            "patched"
        } else {
            "would be patched"
        };
        anstream::eprintln!("{patched} {verb}, {unchanged} unchanged, {failed} failed");
    }
    if let Some(timeout) = wait {
        failed += super::live_wait::wait_all(conn, &rollouts, timeout).await;
    }
    let code = if failed > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    };
    Ok((code, reports))
}

fn live_line(o: &Outcome, all_ns: bool, suffix: &str) -> String {
    let ns = if all_ns {
        format!("{}/", o.target.namespace)
    } else {
        String::new()
    };
    let verb = if o.written { "patched" } else { "unchanged" };
    let detail = match o.report.status {
        Status::Changed | Status::Unchanged if !o.report.patterns.is_empty() => {
            let line = crate::ui::report::line(&o.report);
            line.split_once(": ")
                .map(|(_, rest)| format!(": {rest}"))
                .unwrap_or_default()
        }
        _ => o
            .report
            .reason
            .as_ref()
            .map(|r| format!(": {r}"))
            .unwrap_or_default(),
    };
    format!("{ns}{} {verb}{suffix}{detail}", o.target.display())
}

/// The object without managedFields (as kubectl prints it).
fn strip(mut v: Value) -> Value {
    if let Some(meta) = v.get_mut("metadata").and_then(Value::as_object_mut) {
        meta.remove("managedFields");
    }
    v
}

fn diff(o: &Outcome) -> Result<String> {
    let before = crate::engine::yaml::to_string(&strip(o.before.clone()))?;
    let after = crate::engine::yaml::to_string(&strip(o.after.clone()))?;
    let name = format!("{}/{}", o.target.namespace, o.target.display());
    Ok(crate::ui::diff::unified(&before, &after, &name))
}

fn render(objects: &[Value], format: OutputArg) -> Result<String> {
    Ok(match format {
        OutputArg::Yaml => {
            let mut text = String::new();
            for (i, o) in objects.iter().enumerate() {
                if i > 0 {
                    text.push_str("---\n");
                }
                text.push_str(&crate::engine::yaml::to_string(o)?);
            }
            text
        }
        OutputArg::Json if objects.len() == 1 => {
            format!("{}\n", serde_json::to_string_pretty(&objects[0])?)
        }
        OutputArg::Json => format!(
            "{}\n",
            serde_json::to_string_pretty(&serde_json::json!({
                "apiVersion": "v1", "kind": "List", "items": objects,
            }))?
        ),
        OutputArg::Name => objects
            .iter()
            .map(|o| {
                let r = crate::engine::output::ObjectRef::of(o);
                let prefix = Resource::of(&r.api_version, &r.kind)
                    .map(Resource::object_prefix)
                    .unwrap_or_else(|| r.kind.to_lowercase());
                format!("{prefix}/{}\n", r.name)
            })
            .collect(),
    })
}

/// status and lint: the reports are the data (stdout).
fn print_reports(reports: &[ObjectReport], format: ReportArg, data: bool) -> Result<()> {
    let text = match format {
        ReportArg::Json => format!("{}\n", serde_json::to_string_pretty(reports)?),
        ReportArg::Text => reports
            .iter()
            .map(|r| format!("{}\n", crate::ui::report::line(r)))
            .collect(),
    };
    if data {
        crate::ui::stdout(&text)?;
    } else {
        anstream::eprint!("{text}");
    }
    Ok(())
}
