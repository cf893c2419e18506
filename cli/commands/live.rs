//! Live mode: the engine on live objects, server-side apply, reports, `--diff`, `-o`, `--wait`
//! with progress (the `cluster` feature).

use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Result;
use serde_json::Value;

use crate::cluster::connect::{self, ConnectOptions, Connection};
use crate::cluster::live::{
    self, DryRun, InFlight, LiveOptions, Managers, Outcome, Scope, Selection, Target, WriteMode,
};
use crate::cluster::resource::Resource;
use crate::engine::gitrepo::MigrateGitRepo;
use crate::engine::kinds::Rollout;
use crate::engine::merge::MergeOptions;
use crate::engine::pattern::{SidecarMode, TargetInfo};
use crate::engine::process::{
    Action, AddAction, InspectAction, ManagedAdd, ObjectReport, PatternRequest, RemoveAction,
    Status,
};
use crate::engine::tracking::DEFAULT_FIELD_MANAGER;

use super::UsageError;
use super::args::{OutputArg, OutputArgs, ReportArg};
use super::target::{ClusterArgs, ConnectArgs, DryRunArg, LiveRun, WriteArgs};

impl ConnectArgs {
    /// The options, checked.
    pub fn options(&self) -> Result<ConnectOptions> {
        let request_timeout = self.request_timeout.0;
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

/// `add` on live objects; the cluster decides native sidecars unless `--kube-version` did.
pub fn add(
    run_on: LiveRun<'_>,
    requests: Vec<PatternRequest>,
    mut options: MergeOptions,
    ask_cluster: bool,
) -> Result<ExitCode> {
    // The manager is recorded on the instances; their writes use the recorded managers.
    let field_manager = run_on.write.and_then(|w| w.field_manager.clone());
    on_objects(run_on, Managers::Recorded, Mode::Apply, async |conn| {
        if ask_cluster {
            options.target = cluster_target(conn, options.target).await?;
        }
        let add = AddAction { requests, options };
        Ok(match field_manager {
            Some(field_manager) => Arc::new(ManagedAdd { add, field_manager }),
            None => Arc::new(add) as Arc<dyn Action + Send + Sync>,
        })
    })
    .map(|(code, _)| code)
}

/// `remove` on live objects.
/// Each instance's fields are let go of as the manager its record names, unless
/// `--field-manager` says otherwise (a warning names a differing recorded manager).
pub fn remove(run_on: LiveRun<'_>, action: RemoveAction) -> Result<ExitCode> {
    let managers = match run_on.write.and_then(|w| w.field_manager.clone()) {
        Some(m) => Managers::Only(m),
        None => Managers::Recorded,
    };
    on_objects(run_on, managers, Mode::Apply, async |_| {
        Ok(Arc::new(action) as Arc<dyn Action + Send + Sync>)
    })
    .map(|(code, _)| code)
}

/// `migrate` on live objects: an Update that takes each object to the engine's result, then
/// the new instances' fields handed to their manager (`cluster/migrate.rs`). The manager is
/// recorded on the instances as `add` records it.
pub fn migrate(run_on: LiveRun<'_>, action: MigrateGitRepo) -> Result<ExitCode> {
    let field_manager = run_on.write.and_then(|w| w.field_manager.clone());
    let action: Arc<dyn Action + Send + Sync> = match field_manager {
        Some(field_manager) => Arc::new(ManagedAdd {
            add: action,
            field_manager,
        }),
        None => Arc::new(action),
    };
    on_objects(run_on, Managers::Recorded, Mode::Migrate, async |_| {
        Ok(action)
    })
    .map(|(code, _)| code)
}

/// `status` and `lint` on live objects: the reports.
pub fn inspect(run_on: LiveRun<'_>, lint: bool) -> Result<Vec<ObjectReport>> {
    let mode = if lint { Mode::Lint } else { Mode::Apply };
    let (code, reports) = on_objects(run_on, Managers::Recorded, mode, async |_| {
        Ok(Arc::new(InspectAction {
            lint,
            versions: if lint {
                Default::default()
            } else {
                super::mutate::versions()
            },
            check_edits: true,
        }) as Arc<dyn Action + Send + Sync>)
    })?;
    if code != ExitCode::SUCCESS {
        anyhow::bail!("some objects could not be read (see above)");
    }
    Ok(reports)
}

/// How a run writes and prints.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Server-side apply; reports as add, remove and status print them.
    Apply,
    /// Server-side apply (`lint` writes nothing); reports as lint prints them.
    Lint,
    /// An Update, then the hand-over (`migrate`).
    Migrate,
}

/// Connects (the context's namespace when -n was not given), makes the action, runs it on
/// the selected objects and prints what happened.
fn on_objects(
    run_on: LiveRun<'_>,
    managers: Managers,
    mode: Mode,
    action: impl AsyncFnOnce(&Connection) -> Result<Arc<dyn Action + Send + Sync>>,
) -> Result<(ExitCode, Vec<ObjectReport>)> {
    let LiveRun {
        cluster,
        selection,
        mut scope,
        output,
        write,
    } = run_on;
    runtime()?.block_on(async {
        let conn = connect_scope(cluster, &mut scope).await?;
        let action = action(&conn).await?;
        let out = LiveOutput {
            output,
            write,
            managers,
            lint: mode == Mode::Lint,
            migrate: mode == Mode::Migrate,
        };
        run(&conn, &selection, &scope, action, out).await
    })
}

/// Server-side applies whole objects (`new --to cluster`, `inject --apply`); kubectl's
/// `kind.group/name serverside-applied` lines.
pub fn apply_objects(
    connect: &ConnectArgs,
    objects: &[Value],
    field_manager: &str,
    dry_run: bool,
) -> Result<Vec<String>> {
    let options = connect.options()?;
    runtime()?.block_on(async {
        let conn = connect::connect(&options).await?;
        let lines =
            crate::cluster::apply::apply_objects(&conn, objects, field_manager, dry_run).await?;
        anyhow::Ok(lines)
    })
}

/// The field manager of the workloads `new --to cluster` creates.
pub const NEW_FIELD_MANAGER: &str = crate::cluster::apply::NEW_FIELD_MANAGER;

/// `inject --apply`: fails before applying when the server does not serve the objects' API;
/// with `check` (the pod to try and what `add` makes of it), verifies the applied injector
/// with a server dry run of that pod and removes it on a denial or a difference
/// (`cluster::verify`).
pub fn apply_injector(
    connect: &ConnectArgs,
    objects: &[Value],
    field_manager: &str,
    dry_run: bool,
    check: Option<(Value, Value)>,
) -> Result<Vec<String>> {
    use crate::cluster::verify::{self, Check};
    let options = connect.options()?;
    runtime()?.block_on(async {
        let conn = connect::connect(&options).await?;
        let lines = match check {
            Some((pod, expected)) => {
                let check = Check {
                    pod,
                    expected,
                    retry: std::time::Duration::from_millis(500),
                    tries: 10,
                };
                verify::apply_verified(&conn, objects, field_manager, &check).await?
            }
            None => {
                verify::ensure_served(&conn, objects).await?;
                crate::cluster::apply::apply_objects(&conn, objects, field_manager, dry_run).await?
            }
        };
        anyhow::Ok(lines)
    })
}

/// Native sidecars or not, from the server and kubelet versions (the flags override).
async fn cluster_target(conn: &Connection, flags: TargetInfo) -> Result<TargetInfo> {
    let caps = connect::capabilities(conn).await?;
    let target = TargetInfo {
        kube_version: caps.version,
        mode: flags.mode,
    };
    if flags.mode == SidecarMode::Auto {
        for note in &caps.notes {
            crate::ui::warn(note);
        }
    }
    Ok(target)
}

/// A tokio runtime for one command.
fn runtime() -> Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?)
}

/// Connects, filling the namespace from the context when -n was not given.
async fn connect_scope(cluster: &ClusterArgs, scope: &mut Scope) -> Result<Connection> {
    let conn = connect::connect(&cluster.connect.options()?).await?;
    if let Scope::Namespace(ns) = scope
        && ns.is_empty()
    {
        *ns = conn.default_namespace.clone();
    }
    Ok(conn)
}

/// What the caller wants printed.
struct LiveOutput<'a> {
    output: &'a OutputArgs,
    write: Option<&'a WriteArgs>,
    managers: Managers,
    /// `lint`: its text report is the findings only, and a summary.
    lint: bool,
    /// `migrate`: written by an Update and a hand-over.
    migrate: bool,
}

/// How the write flags make live writes. `--diff` is a preview, as `kubectl diff` is: without
/// `--dry-run=client` it asks the API server what it would store (`--dry-run=server`).
fn live_options(out: &LiveOutput<'_>) -> LiveOptions {
    match out.write {
        Some(w) => LiveOptions {
            managers: out.managers.clone(),
            force_conflicts: w.force_conflicts,
            dry_run: match w.dry_run {
                DryRunArg::None if out.output.diff => DryRun::Server,
                DryRunArg::None => DryRun::None,
                DryRunArg::Client => DryRun::Client,
                DryRunArg::Server => DryRun::Server,
            },
            concurrency: w.concurrency.max(1),
            mode: if out.migrate {
                WriteMode::Migrate
            } else {
                WriteMode::Apply
            },
            ..Default::default()
        },
        None => LiveOptions::default(),
    }
}

/// Runs `action` on the selected live objects and prints what happened.
async fn run(
    conn: &Connection,
    selection: &Selection,
    scope: &Scope,
    action: Arc<dyn Action + Send + Sync>,
    out: LiveOutput<'_>,
) -> Result<(ExitCode, Vec<ObjectReport>)> {
    if out.output.in_place {
        return Err(UsageError("--in-place rewrites files; live objects are patched in place already (use --dry-run to preview)".into()).into());
    }
    let opts = live_options(&out);
    let targets = live::resolve(conn, selection, scope).await?;
    if targets.is_empty() {
        let where_ = match scope {
            Scope::Namespace(ns) => format!("in namespace {ns}"),
            Scope::All => "in any namespace".into(),
        };
        anstream::eprintln!("No resources found {where_}.");
        return Ok((ExitCode::SUCCESS, vec![]));
    }
    let in_flight = Arc::new(InFlight::default());
    let results = live::run(conn, targets, action, &opts, out.write.is_some(), in_flight).await;
    let mut tally = Tally::new(&out, &opts, *scope == Scope::All);
    for result in results {
        match result {
            Ok(outcome) => tally.record(outcome)?,
            Err(e) => {
                tally.failed += 1;
                crate::ui::error(&e.to_string(), &[]);
            }
        }
    }
    tally.print()?;
    let mut failed = tally.failed;
    if let Some(w) = out.write.filter(|w| w.wait) {
        failed += super::live_wait::wait_all(conn, &tally.rollouts, w.wait_timeout.0).await;
    }
    // --diff exits as kubectl diff does: 1 for differences, above 1 for an error.
    let code = match (failed > 0, out.output.diff) {
        (true, true) => ExitCode::from(3),
        (true, false) => ExitCode::from(1),
        (false, true) if !tally.diff.is_empty() => ExitCode::from(1),
        (false, _) => ExitCode::SUCCESS,
    };
    Ok((code, tally.reports))
}

/// What a live run did, object by object, and what it prints.
struct Tally<'a> {
    out: &'a LiveOutput<'a>,
    dry_run: DryRun,
    all_namespaces: bool,
    patched: usize,
    unchanged: usize,
    failed: usize,
    printed: Vec<Value>,
    reports: Vec<ObjectReport>,
    rollouts: Vec<Target>,
    diff: String,
}

impl<'a> Tally<'a> {
    fn new(out: &'a LiveOutput<'a>, opts: &LiveOptions, all_namespaces: bool) -> Self {
        Tally {
            out,
            dry_run: opts.dry_run,
            all_namespaces,
            patched: 0,
            unchanged: 0,
            failed: 0,
            printed: Vec::new(),
            reports: Vec::new(),
            rollouts: Vec::new(),
            diff: String::new(),
        }
    }

    /// One object's outcome: its line (or report), warnings, diff and printed object.
    fn record(&mut self, o: Outcome) -> Result<()> {
        let output = self.out.output;
        if o.written {
            self.patched += 1;
            if o.target.resource.info().rollout != Rollout::None && self.dry_run == DryRun::None {
                self.rollouts.push(o.target.clone());
            }
        } else {
            self.unchanged += 1;
        }
        if self.out.write.is_some() && !output.quiet && output.report == ReportArg::Text {
            let suffix = match self.dry_run {
                DryRun::None => "",
                DryRun::Client => " (dry run)",
                DryRun::Server => " (server dry run)",
            };
            let line = live_line(&o, self.all_namespaces, suffix);
            if output.output.is_some() || output.diff {
                anstream::eprintln!("{line}");
            } else {
                crate::ui::stdout(&format!("{line}\n"))?;
            }
        }
        for note in &o.notes {
            crate::ui::warn(&format!("{}: {note}", o.target.display()));
        }
        if output.diff && o.written {
            self.diff.push_str(&diff(&o)?);
        }
        self.printed.push(strip(o.after.clone()));
        self.reports.push(o.report);
        Ok(())
    }

    /// The diff or objects, the reports, and the summary line.
    fn print(&self) -> Result<()> {
        let output = self.out.output;
        let writes = self.out.write.is_some();
        if output.diff {
            crate::ui::stdout(&self.diff)?;
        } else if let Some(format) = output.output {
            crate::ui::stdout(&render(&self.printed, format)?)?;
        }
        if !writes || output.report == ReportArg::Json {
            let format = match output.report {
                ReportArg::Text if self.out.lint => Printed::LintText,
                ReportArg::Text => Printed::Text,
                ReportArg::Json => Printed::Json,
            };
            print_reports(&self.reports, format, !writes, self.all_namespaces)?;
        }
        if writes && !output.quiet && self.patched + self.unchanged + self.failed > 1 {
            let verb = if self.dry_run == DryRun::None {
                "patched"
            } else {
                "would be patched"
            };
            anstream::eprintln!(
                "{} {verb}, {} unchanged, {} failed",
                self.patched,
                self.unchanged,
                self.failed
            );
        }
        Ok(())
    }
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
    let managers: Vec<&str> = o
        .field_managers
        .iter()
        .map(String::as_str)
        .filter(|m| *m != DEFAULT_FIELD_MANAGER)
        .collect();
    let as_manager = match managers.as_slice() {
        [] => String::new(),
        names => format!(" (as field manager {})", names.join(", ")),
    };
    format!(
        "{ns}{} {verb}{suffix}{detail}{as_manager}",
        o.target.display()
    )
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
                let prefix = Resource::from_type(&r.api_version, &r.kind)
                    .map(Resource::object_prefix)
                    .unwrap_or_else(|| r.kind.to_lowercase());
                format!("{prefix}/{}\n", r.name)
            })
            .collect(),
    })
}

/// How reports are printed.
#[derive(Clone, Copy)]
enum Printed {
    /// One line per object.
    Text,
    /// `lint`'s text: the findings, then a summary.
    LintText,
    /// A JSON array.
    Json,
}

/// status and lint: the reports are the data (stdout). Across all namespaces each line starts
/// with the object's namespace, as the lines of `add -A` do.
fn print_reports(
    reports: &[ObjectReport],
    format: Printed,
    data: bool,
    all_namespaces: bool,
) -> Result<()> {
    let ns = |r: &ObjectReport| match (&r.object.namespace, all_namespaces) {
        (Some(ns), true) => format!("{ns}/"),
        _ => String::new(),
    };
    let text = match format {
        Printed::Json => format!("{}\n", serde_json::to_string_pretty(reports)?),
        Printed::LintText => crate::ui::report::lint_text(reports, &ns),
        Printed::Text => reports
            .iter()
            .map(|r| format!("{}{}\n", ns(r), crate::ui::report::line(r)))
            .collect(),
    };
    if data {
        crate::ui::stdout(&text)?;
    } else {
        anstream::eprint!("{text}");
    }
    Ok(())
}
