//! `add`, `remove`, `status` and `lint`: the subcommands that run the engine over manifests.

use std::process::ExitCode;

use anyhow::Result;
use clap::Args;

use crate::engine::lint::{RULES, Severity};
use crate::engine::process::{Action, AddAction, InspectAction, RemoveAction};
use crate::engine::scope::Scoped;

use super::UsageError;
use super::args::{InputArgs, OutputArgs, PatternArgs};
use super::live;
use super::pipeline::{self, Delivery};
use super::target::LiveRun;
use super::target::{ClusterArgs, WriteArgs, file_scope, split_targets};
use crate::request::RequestError;

/// Add one or more patterns to every workload of the input.
///
/// Re-running the same pattern instance updates it in place; what was added is recorded in the
/// pod template annotation pattern.kubectl.io/applied, so `remove` takes out exactly that.
#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  kubectl pattern add log-shipper -f deploy.yaml

  kubectl pattern add git-sync -f web.yaml --in-place \\
      --set repo=https://github.com/org/site --set ref=main

  kubectl pattern add wait-for -f k8s/ -R --diff \\
      --set host=postgres.db.svc.cluster.local \\
      --set mode=tcp --set port=5432

  # A second instance of a pattern: another --name (ports
  # left to their defaults move to free ones)
  kubectl pattern add ambassador --name cache-proxy \\
      --set upstreamHost=redis.cache.svc \\
      --set listenPort=6379 -f app.yaml

  # Classic sidecars, for clusters before 1.29
  kubectl pattern add log-shipper --kube-version 1.28 \\
      -f deploy.yaml

  # On a terminal: asks for the missing host; --no-input
  # never asks and lists what is missing
  kubectl pattern add wait-for -f deploy.yaml
  kubectl pattern add wait-for -f deploy.yaml --no-input

  # Only the objects labelled app=web; -n: the namespace
  # of objects without one (as kubectl apply -n)
  kubectl pattern add log-shipper -f k8s/ -R -l app=web \\
      -n shop

  # A kustomization directory (kubectl kustomize DIR)
  kubectl pattern add log-shipper -k overlays/prod

  cat deploy.yaml \\
      | kubectl pattern add prometheus-exporter -o json

  # Live objects, through server-side apply (field manager
  # kubectl-pattern)
  kubectl pattern add log-shipper deploy/web -n shop
  kubectl pattern add wait-for deploy/api sts/worker \\
      --set host=db.shop.svc.cluster.local \\
      --dry-run=server --diff
  kubectl pattern add log-shipper deploy -A --wait \\
      -l app.kubernetes.io/part-of=shop --timeout 3m")]
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
        let (patterns, live) = split_targets(&self.patterns, &self.cluster, self.input.named())?;
        if patterns.is_empty() {
            return Err(RequestError::NoPattern.into());
        }
        let mut request = self.params.request(&patterns)?;
        let catalogue = crate::catalogue::load(&request.sources)?;
        let mut prompter = crate::ui::prompt::for_run(self.ask.interactive, self.ask.no_input)?;
        let requests = super::ask::resolve_asking(&mut request, &catalogue, prompter.as_mut())?;
        let options = request.merge_options();
        let Some((selection, scope)) = live else {
            let action = AddAction { requests, options };
            return on_files(&self.input, &self.cluster, &action, &self.output);
        };
        no_files(&self.input)?;
        let run_on = LiveRun::writing(&self.cluster, (selection, scope), &self.output, &self.write);
        let ask_cluster = self.params.target.kube_version.is_none();
        diff_failure(
            &self.output,
            live::add(run_on, requests, options, ask_cluster),
        )
    }
}

/// Runs `action` over the -f/-k inputs within -l/-n (or stdin) and delivers the stream; with
/// --diff, exits 1 when there are differences, as `kubectl diff` does.
pub(super) fn on_files(
    input: &InputArgs,
    cluster: &ClusterArgs,
    action: &dyn Action,
    output: &OutputArgs,
) -> Result<ExitCode> {
    let run = || -> Result<bool> {
        let scope = file_scope(cluster)?;
        let scoped = Scoped {
            action,
            scope: &scope,
        };
        let (_, changed) =
            pipeline::run_changed(&input.inputs()?, &scoped, output, Delivery::Stream)?;
        Ok(changed)
    };
    let changed = diff_failure(output, run())?;
    Ok(if output.diff && changed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// A failure of a `--diff` run: exit code 3, as 1 means "differences" there (usage errors
/// keep 2; `kubectl diff` exits above 1 on any error).
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct DiffFailure(anyhow::Error);

/// `result`, its failure made a [`DiffFailure`] when `output` asks for a diff.
pub(super) fn diff_failure<T>(output: &OutputArgs, result: Result<T>) -> Result<T> {
    result.map_err(|e| {
        if output.diff && super::exit_code(&e) == 1 {
            DiffFailure(e).into()
        } else {
            e
        }
    })
}

/// File mode and live mode do not mix.
pub(super) fn no_files(input: &InputArgs) -> Result<()> {
    if input.filenames.is_empty() {
        Ok(())
    } else {
        Err(UsageError(
            "give either -f/-k files or live targets (TYPE/NAME, TYPE -l SELECTOR), not both"
                .into(),
        )
        .into())
    }
}

/// Remove pattern instances: exactly what their tracking record says they added.
#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  kubectl pattern remove log-shipper -f deploy.yaml

  # An instance added with --name
  kubectl pattern remove cache-proxy -f app.yaml --in-place

  # Live objects (server-side apply)
  kubectl pattern remove log-shipper deploy/web -n shop
  kubectl pattern remove log-shipper deploy -l app=web \\
      --dry-run=server -o yaml")]
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
        let (names, live) = split_targets(&self.names, &self.cluster, self.input.named())?;
        if names.is_empty() {
            return Err(UsageError("name at least one pattern instance to remove".into()).into());
        }
        let action = RemoveAction { names };
        let Some((selection, scope)) = live else {
            return on_files(&self.input, &self.cluster, &action, &self.output);
        };
        no_files(&self.input)?;
        let run_on = LiveRun::writing(&self.cluster, (selection, scope), &self.output, &self.write);
        diff_failure(&self.output, live::remove(run_on, action))
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
    let (rest, live) = split_targets(targets, cluster, input.named())?;
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
    let scope = file_scope(cluster)?;
    let action = InspectAction {
        lint,
        versions: if lint { Default::default() } else { versions() },
        check_edits: !lint,
    };
    let scoped = Scoped {
        action: &action,
        scope: &scope,
    };
    let reports = pipeline::run(&input.inputs()?, &scoped, &out, Delivery::ReportsOnly)?;
    // status and lint print to stdout: their report is the data. lint's text is the findings
    // only, and a summary line.
    let text = match output.output {
        super::args::ReportArg::Json => format!("{}\n", serde_json::to_string_pretty(&reports)?),
        super::args::ReportArg::Text if lint => {
            crate::ui::report::lint_text(&reports, &|_| String::new())
        }
        super::args::ReportArg::Text => reports
            .iter()
            .map(|r| format!("{}\n", crate::ui::report::line(r)))
            .collect(),
    };
    crate::ui::stdout(&text)?;
    Ok(reports)
}

/// The catalogue's pattern versions (built-ins, user templates, installed plugins), for
/// `status` to tell outdated instances; a catalogue that does not load tells none.
pub(super) fn versions() -> std::collections::BTreeMap<String, String> {
    let Ok(catalogue) = crate::catalogue::load(&crate::request::Sources::default()) else {
        return Default::default();
    };
    catalogue
        .patterns()
        .iter()
        .map(|p| (p.spec().id.clone(), p.spec().version.clone()))
        .collect()
}

/// Show which pattern instances are applied to each workload: hand edits since the tool wrote
/// them and instances of an older pattern version are reported (`add` re-renders them).
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
/// Exits with 1 when an error-level rule fires, 2 on a usage error, 3 when the objects could
/// not be checked (unreadable input, the cluster).
#[derive(Debug, Args)]
#[command(after_help = lint_help())]
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

/// The rules table (from the engine's rules) and the examples.
fn lint_help() -> String {
    let width = RULES.iter().map(|r| r.name.len()).max().unwrap_or(0);
    let mut text = String::from("Rules:\n");
    for r in RULES {
        text.push_str(&format!(
            "  {} {:<width$} {:<7} {}\n",
            r.id,
            r.name,
            r.severity.as_str(),
            r.summary
        ));
    }
    text.push_str(
        "\nExit codes: 0 no error-level finding, 1 an error-level finding, 2 usage error, 3 the objects could not be checked.\n\nExamples:\n  kubectl pattern lint -f deploy.yaml\n  kubectl pattern lint -f k8s/ -R -o json",
    );
    text
}

/// `lint` could not check the objects (exit code 3, apart from findings).
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct LintFailure(anyhow::Error);

impl LintCmd {
    pub fn run(self) -> Result<ExitCode> {
        let reports = inspect(
            &self.input,
            &self.targets,
            &self.cluster,
            &self.output,
            true,
        )
        .map_err(|e| match super::exit_code(&e) {
            2 => e,
            _ => LintFailure(e).into(),
        })?;
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
