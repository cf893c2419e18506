//! `add`, `remove`, `status` and `lint`: the subcommands that run the engine over manifests.

use std::process::ExitCode;

use anyhow::Result;
use clap::Args;

use crate::engine::lint::Severity;
use crate::engine::process::{AddAction, InspectAction, RemoveAction};

use super::UsageError;
use super::args::{InputArgs, OutputArgs, PatternArgs};
use super::live::{self, LiveRun};
use super::pipeline::{self, Delivery};
use super::target::{ClusterArgs, WriteArgs, split_targets};

/// Add one or more patterns to every workload of the input.
///
/// Re-running the same pattern instance updates it in place; what was added is recorded in the
/// pod template annotation pattern.kubectl.io/applied, so `remove` takes out exactly that.
#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  kubectl pattern add log-shipper -f deploy.yaml
  kubectl pattern add git-sync --set repo=https://github.com/org/site --set ref=main -f web.yaml --in-place
  kubectl pattern add wait-for --set host=postgres.db.svc --set mode=tcp --set port=5432 -f k8s/ -R --diff
  kubectl pattern add ambassador --name cache-proxy --set upstreamHost=redis.cache.svc --set listenPort=6379 -f app.yaml
  kubectl pattern add log-shipper --kube-version 1.28 -f deploy.yaml   # classic sidecars for clusters before 1.29
  kubectl pattern add wait-for -f deploy.yaml          # on a terminal: asks for the missing host
  kubectl pattern add wait-for -f deploy.yaml --no-input   # never asks: lists what is missing
  cat deploy.yaml | kubectl pattern add prometheus-exporter -o json

  # Live objects, through server-side apply (field manager kubectl-pattern)
  kubectl pattern add log-shipper deploy/web -n shop
  kubectl pattern add wait-for --set host=db.shop.svc deploy/api sts/worker --dry-run=server --diff
  kubectl pattern add log-shipper deploy -l app.kubernetes.io/part-of=shop -A --wait --timeout 3m")]
pub struct AddCmd {
    /// Pattern ids (see `kubectl pattern list`), applied in order; then, for live objects,
    /// TYPE/NAME targets (deploy/web, sts/db…) or, with -l/--all, a TYPE.
    #[arg(required = true, value_name = "PATTERN|TYPE/NAME")]
    patterns: Vec<String>,
    #[command(flatten)]
    input: InputArgs,
    #[command(flatten)]
    params: PatternArgs,
    #[command(flatten)]
    output: OutputArgs,
    #[command(flatten)]
    ask: super::ask::AskArgs,
    #[command(flatten)]
    cluster: ClusterArgs,
    #[command(flatten)]
    write: WriteArgs,
}

impl AddCmd {
    pub fn run(self) -> Result<ExitCode> {
        let (patterns, live) = split_targets(&self.patterns, &self.cluster)?;
        if patterns.is_empty() {
            return Err(UsageError(
                "name at least one pattern (see `kubectl pattern list`)".into(),
            )
            .into());
        }
        let catalogue = self.params.templates.catalogue()?;
        let mut prompter = crate::ui::prompt::for_run(self.ask.interactive, self.ask.no_input)?;
        let requests =
            super::ask::complete_requests(&self.params, &catalogue, &patterns, prompter.as_mut())?;
        let options = self.params.merge_options()?;
        let Some((selection, scope)) = live else {
            let action = AddAction { requests, options };
            let inputs = self.input.inputs()?;
            pipeline::run(&inputs, &action, &self.output, Delivery::Stream)?;
            return Ok(ExitCode::SUCCESS);
        };
        no_files(&self.input)?;
        let run_on = LiveRun {
            cluster: &self.cluster,
            selection,
            scope,
            output: &self.output,
            write: Some(&self.write),
        };
        let ask_cluster = self.params.target.kube_version.is_none();
        live::add(run_on, requests, options, ask_cluster)
    }
}

/// File mode and live mode do not mix.
fn no_files(input: &InputArgs) -> Result<()> {
    if input.filenames.is_empty() {
        Ok(())
    } else {
        Err(UsageError(
            "give either -f files or live targets (TYPE/NAME, TYPE -l SELECTOR), not both".into(),
        )
        .into())
    }
}

/// Remove pattern instances: exactly what their tracking record says they added.
#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  kubectl pattern remove log-shipper -f deploy.yaml
  kubectl pattern remove cache-proxy -f app.yaml --in-place     # an instance added with --name
  kubectl pattern remove log-shipper deploy/web -n shop          # a live object (server-side apply)
  kubectl pattern remove log-shipper deploy -l app=web --dry-run=server -o yaml")]
pub struct RemoveCmd {
    /// Instance names, or pattern ids (every instance of the pattern); then, for live objects,
    /// TYPE/NAME targets or, with -l/--all, a TYPE.
    #[arg(required = true, value_name = "INSTANCE|TYPE/NAME")]
    names: Vec<String>,
    #[command(flatten)]
    input: InputArgs,
    #[command(flatten)]
    output: OutputArgs,
    #[command(flatten)]
    cluster: ClusterArgs,
    #[command(flatten)]
    write: WriteArgs,
}

impl RemoveCmd {
    pub fn run(self) -> Result<ExitCode> {
        let (names, live) = split_targets(&self.names, &self.cluster)?;
        if names.is_empty() {
            return Err(UsageError("name at least one pattern instance to remove".into()).into());
        }
        let action = RemoveAction { names };
        let Some((selection, scope)) = live else {
            pipeline::run(
                &self.input.inputs()?,
                &action,
                &self.output,
                Delivery::Stream,
            )?;
            return Ok(ExitCode::SUCCESS);
        };
        no_files(&self.input)?;
        let run_on = LiveRun {
            cluster: &self.cluster,
            selection,
            scope,
            output: &self.output,
            write: Some(&self.write),
        };
        live::remove(run_on, action)
    }
}

/// Report formats for status and lint.
#[derive(Debug, Args)]
struct InspectOutput {
    /// Output format: text lines, or JSON for CI.
    #[arg(short = 'o', long = "output", value_enum, default_value = "text")]
    output: super::args::ReportArg,
}

fn inspect(
    input: &InputArgs,
    targets: &[String],
    cluster: &ClusterArgs,
    output: &InspectOutput,
    lint: bool,
) -> Result<Vec<crate::engine::process::ObjectReport>> {
    let out = OutputArgs {
        output: None,
        in_place: false,
        diff: false,
        quiet: true,
        report: output.output,
    };
    let (rest, live) = split_targets(targets, cluster)?;
    if let Some(word) = rest.first() {
        return Err(UsageError(format!(
            "{word:?}: expected TYPE/NAME (e.g. deploy/{word}), or TYPE with -l/--all"
        ))
        .into());
    }
    if let Some((selection, scope)) = live {
        no_files(input)?;
        let run_on = LiveRun {
            cluster,
            selection,
            scope,
            output: &out,
            write: None,
        };
        return live::inspect(run_on, lint);
    }
    let reports = pipeline::run(
        &input.inputs()?,
        &InspectAction { lint },
        &out,
        Delivery::ReportsOnly,
    )?;
    // status and lint print to stdout: their report is the data.
    let text = match output.output {
        super::args::ReportArg::Json => format!("{}\n", serde_json::to_string_pretty(&reports)?),
        super::args::ReportArg::Text => reports
            .iter()
            .map(|r| format!("{}\n", crate::ui::report::line(r)))
            .collect(),
    };
    crate::ui::stdout(&text)?;
    Ok(reports)
}

/// Show which pattern instances are applied to each workload.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  kubectl pattern status -f deploy.yaml\n  kubectl pattern status -f k8s/ -R -o json"
)]
pub struct StatusCmd {
    /// Live objects: TYPE/NAME…, or TYPE with -l/--all.
    #[arg(value_name = "TYPE/NAME")]
    targets: Vec<String>,
    #[command(flatten)]
    input: InputArgs,
    #[command(flatten)]
    output: InspectOutput,
    #[command(flatten)]
    cluster: ClusterArgs,
}

impl StatusCmd {
    pub fn run(self) -> Result<ExitCode> {
        inspect(
            &self.input,
            &self.targets,
            &self.cluster,
            &self.output,
            false,
        )?;
        Ok(ExitCode::SUCCESS)
    }
}

/// Check multi-container pods: port clashes, unshared volumes, unpinned images, resources,
/// init requests, classic sidecars in Jobs, web server + database in one pod.
///
/// Exits with 1 when an error-level rule fires.
#[derive(Debug, Args)]
#[command(after_help = "\
Rules:
  MCP001 port-clash              error    two containers listen on the same port
  MCP002 duplicate-container-name error   two containers share a name
  MCP003 mount-without-volume    error    a mount names a volume the pod lacks
  MCP004 unshared-volume         warning  an emptyDir nobody mounts, or mounted read-only only
  MCP005 unpinned-image          warning  an image is untagged or :latest
  MCP006 missing-resources       warning  no cpu/memory requests or limits
  MCP007 init-request-dominates  warning  an init container sets the effective request
  MCP008 classic-sidecar-in-job  error    a Job/CronJob has a long-running classic helper
  MCP009 web-and-database        warning  a web server and a database share a pod
  MCP010 init-container-probes   error    a classic init container has probes

Examples:
  kubectl pattern lint -f deploy.yaml
  kubectl pattern lint -f k8s/ -R -o json")]
pub struct LintCmd {
    /// Live objects: TYPE/NAME…, or TYPE with -l/--all.
    #[arg(value_name = "TYPE/NAME")]
    targets: Vec<String>,
    #[command(flatten)]
    input: InputArgs,
    #[command(flatten)]
    output: InspectOutput,
    #[command(flatten)]
    cluster: ClusterArgs,
}

impl LintCmd {
    pub fn run(self) -> Result<ExitCode> {
        let reports = inspect(
            &self.input,
            &self.targets,
            &self.cluster,
            &self.output,
            true,
        )?;
        let failed = reports
            .iter()
            .flat_map(|r| &r.findings)
            .any(|f| f.severity == Severity::Error);
        Ok(if failed {
            ExitCode::from(1)
        } else {
            ExitCode::SUCCESS
        })
    }
}
