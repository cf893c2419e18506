//! `add`, `remove`, `status` and `lint`: the subcommands that run the engine over manifests.

use std::process::ExitCode;

use anyhow::Result;
use clap::Args;

use crate::engine::lint::Severity;
use crate::engine::process::{AddAction, InspectAction, RemoveAction};

use super::args::{InputArgs, OutputArgs, PatternArgs};
use super::pipeline::{self, Delivery};

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
  cat deploy.yaml | kubectl pattern add prometheus-exporter -o json")]
pub struct AddCmd {
    /// Pattern ids (see `kubectl pattern list`), applied in order.
    #[arg(required = true, value_name = "PATTERN")]
    patterns: Vec<String>,
    #[command(flatten)]
    input: InputArgs,
    #[command(flatten)]
    params: PatternArgs,
    #[command(flatten)]
    output: OutputArgs,
    #[command(flatten)]
    ask: super::ask::AskArgs,
}

impl AddCmd {
    pub fn run(self) -> Result<ExitCode> {
        let catalogue = self.params.templates.catalogue()?;
        let mut prompter = crate::ui::prompt::for_run(self.ask.interactive, self.ask.no_input)?;
        let requests = super::ask::complete_requests(
            &self.params,
            &catalogue,
            &self.patterns,
            prompter.as_mut(),
        )?;
        let action = AddAction {
            requests,
            options: self.params.merge_options()?,
        };
        let inputs = self.input.inputs()?;
        pipeline::run(&inputs, &action, &self.output, Delivery::Stream)?;
        Ok(ExitCode::SUCCESS)
    }
}

/// Remove pattern instances: exactly what their tracking record says they added.
#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  kubectl pattern remove log-shipper -f deploy.yaml
  kubectl pattern remove cache-proxy -f app.yaml --in-place     # an instance added with --name")]
pub struct RemoveCmd {
    /// Instance names, or pattern ids (every instance of the pattern).
    #[arg(required = true, value_name = "INSTANCE")]
    names: Vec<String>,
    #[command(flatten)]
    input: InputArgs,
    #[command(flatten)]
    output: OutputArgs,
}

impl RemoveCmd {
    pub fn run(self) -> Result<ExitCode> {
        let action = RemoveAction { names: self.names };
        pipeline::run(
            &self.input.inputs()?,
            &action,
            &self.output,
            Delivery::Stream,
        )?;
        Ok(ExitCode::SUCCESS)
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
    output: &InspectOutput,
    lint: bool,
) -> Result<Vec<crate::engine::process::ObjectReport>> {
    let out = OutputArgs {
        output: super::args::OutputArg::Yaml,
        in_place: false,
        diff: false,
        quiet: true,
        report: output.output,
    };
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
    #[command(flatten)]
    input: InputArgs,
    #[command(flatten)]
    output: InspectOutput,
}

impl StatusCmd {
    pub fn run(self) -> Result<ExitCode> {
        inspect(&self.input, &self.output, false)?;
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
    #[command(flatten)]
    input: InputArgs,
    #[command(flatten)]
    output: InspectOutput,
}

impl LintCmd {
    pub fn run(self) -> Result<ExitCode> {
        let reports = inspect(&self.input, &self.output, true)?;
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
