//! Runs `doctor` (the `cluster` feature): connects like the other live commands, reads and
//! checks the workloads with a spinner on a terminal (nothing otherwise), prints the findings
//! as text lines or JSON, and turns the verdict into the exit code.

use std::io::IsTerminal;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Result;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::cluster::connect;
use crate::cluster::doctor::events::Window;
use crate::cluster::doctor::report::{Finding, Report, Severity};
use crate::cluster::doctor::{self, Options};
use crate::cluster::live::Scope;
use crate::ui::{BOLD, ERROR, WARNING};

use super::doctor::{DoctorOutput, DoctorRun};

/// Checks, prints, and exits 1 when an error-level finding was made.
pub fn run(run: DoctorRun<'_>) -> Result<ExitCode> {
    let DoctorRun {
        cluster,
        selection,
        mut scope,
        output,
        since,
    } = run;
    let options = Options {
        window: Window {
            now: k8s_openapi::jiff::Timestamp::now(),
            since,
        },
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let spinner = spinner();
    let report = runtime.block_on(async {
        let conn = connect::connect(&cluster.connect.options()?).await?;
        if let Scope::Namespace(ns) = &mut scope
            && ns.is_empty()
        {
            *ns = conn.default_namespace.clone();
        }
        let progress = |what: &str| spinner.set_message(format!("checking {what}"));
        let report = doctor::run(&conn, &selection, &scope, &options, &progress).await;
        anyhow::Ok(report?)
    });
    spinner.finish_and_clear();
    let report = report?;
    for note in &report.notes {
        crate::ui::warn(note);
    }
    if report.workloads.is_empty() && report.skipped.is_empty() && report.findings.is_empty() {
        let where_ = match &scope {
            Scope::Namespace(ns) => format!("in namespace {ns}"),
            Scope::All => "in any namespace".into(),
        };
        anstream::eprintln!("No resources found {where_}.");
        return Ok(ExitCode::SUCCESS);
    }
    match output {
        DoctorOutput::Json => crate::ui::stdout(&format!(
            "{}\n",
            serde_json::to_string_pretty(&report.to_json())?
        ))?,
        DoctorOutput::Text => crate::ui::stdout(&text(&report, scope == Scope::All))?,
    }
    Ok(if report.summary().healthy {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// A spinner on stderr when it is a terminal; hidden otherwise.
fn spinner() -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template("{spinner} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    bar.enable_steady_tick(Duration::from_millis(120));
    bar
}

/// `NS/` before objects when several namespaces are shown.
fn prefix(namespace: Option<&str>, all_namespaces: bool) -> String {
    match namespace {
        Some(ns) if all_namespaces => format!("{ns}/"),
        _ => String::new(),
    }
}

/// `error: deployment.apps/web: pod web-1: log-shipper is waiting: … Fix: …`.
pub fn line(f: &Finding, all_namespaces: bool) -> String {
    let style = match f.severity {
        Severity::Error => ERROR,
        Severity::Warning => WARNING,
    };
    let pod = f
        .pod
        .as_deref()
        .map(|p| format!("pod {p}: "))
        .unwrap_or_default();
    let text = crate::ui::clean(&format!(
        "{}{}: {pod}{}. Fix: {}",
        prefix(f.namespace.as_deref(), all_namespaces),
        f.object,
        f.message,
        f.fix
    ));
    format!("{style}{}:{style:#} {text}", f.severity.as_str())
}

/// The findings, a line per healthy or skipped workload, and the summary.
fn text(report: &Report, all_namespaces: bool) -> String {
    let mut out = String::new();
    for f in &report.findings {
        out.push_str(&line(f, all_namespaces));
        out.push('\n');
    }
    for w in report
        .workloads
        .iter()
        .filter(|w| w.errors + w.warnings == 0)
    {
        let pods = if w.pods == 1 { "pod" } else { "pods" };
        out.push_str(&format!(
            "ok: {}{}: {} healthy in {} {pods}\n",
            prefix(Some(&w.namespace), all_namespaces),
            w.object,
            w.helpers.join(", "),
            w.pods,
        ));
    }
    for s in &report.skipped {
        out.push_str(&format!(
            "skipped: {}{}: no pattern instance, and no injector selects its pods\n",
            prefix(Some(&s.namespace), all_namespaces),
            s.object
        ));
    }
    let s = report.summary();
    let plural = |n: usize, one: &str| format!("{n} {one}{}", if n == 1 { "" } else { "s" });
    let verdict = if s.errors + s.warnings == 0 {
        "healthy".to_string()
    } else {
        format!(
            "{}, {}",
            plural(s.errors, "error"),
            plural(s.warnings, "warning")
        )
    };
    let skipped = if s.skipped > 0 {
        format!(" ({} skipped)", s.skipped)
    } else {
        String::new()
    };
    out.push_str(&format!(
        "{BOLD}{}, {}{skipped}: {verdict}{BOLD:#}\n",
        plural(s.workloads, "workload"),
        plural(s.pods, "pod")
    ));
    out
}
