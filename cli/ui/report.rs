//! The per-object report on stderr: one line per object (text), or a JSON array.

use std::io::Write;

use anyhow::Result;

use crate::engine::lint::Severity;
use crate::engine::process::{ObjectReport, PatternReport, Status};
use crate::engine::workload::WorkloadKind;

use super::{ADDED, DIM, ERROR, WARNING};

/// Format of the report on stderr.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ReportArg {
    /// One line per object.
    Text,
    /// A JSON array of per-object reports.
    Json,
}

/// One line describing what a pattern instance did.
fn describe(p: &PatternReport) -> String {
    let r = &p.record;
    let name = if r.instance == r.pattern {
        r.instance.clone()
    } else {
        format!("{} ({})", r.instance, r.pattern)
    };
    let mut parts = Vec::new();
    if p.action != "removed" && p.action != "applied" {
        let place = match p.native {
            Some(true) => "native sidecar",
            _ => "container",
        };
        parts.extend(r.containers.iter().map(|c| format!("{place} {c}")));
    } else {
        parts.extend(r.containers.iter().map(|c| format!("container {c}")));
    }
    parts.extend(
        r.init_containers
            .iter()
            .map(|c| format!("init container {c}")),
    );
    parts.extend(r.volumes.iter().map(|v| format!("volume {v}")));
    parts.extend(
        r.mounts
            .iter()
            .map(|m| format!("mount {} on {}", m.mount_path, m.container)),
    );
    parts.extend(
        r.env
            .iter()
            .map(|e| format!("env {} on {}", e.name, e.container)),
    );
    parts.extend(r.annotations.iter().map(|a| format!("annotation {a}")));
    let detail = if parts.is_empty() {
        String::new()
    } else {
        format!(" ({})", parts.join(", "))
    };
    match p.action {
        "applied" => format!("{name} v{}{detail}", r.version),
        action => format!("{action} {name}{detail}"),
    }
}

/// The text line for one object.
pub fn line(r: &ObjectReport) -> String {
    let object = r.object.short_name();
    let head = match r.status {
        Status::Changed | Status::Unchanged if !r.patterns.is_empty() => {
            let parts: Vec<String> = r.patterns.iter().map(describe).collect();
            let style = if r.status == Status::Changed {
                ADDED
            } else {
                DIM
            };
            format!("{object}: {style}{}{style:#}", parts.join("; "))
        }
        Status::Inspected if r.patterns.is_empty() && r.findings.is_empty() => {
            format!("{object}: no patterns applied")
        }
        Status::Inspected => {
            let parts: Vec<String> = r.patterns.iter().map(describe).collect();
            if parts.is_empty() {
                format!("{object}:")
            } else {
                format!("{object}: {}", parts.join("; "))
            }
        }
        Status::Skipped => format!(
            "{object}: {DIM}skipped ({}){DIM:#}",
            super::clean(r.reason.as_deref().unwrap_or("not a workload"))
        ),
        _ => format!(
            "{object}: {DIM}{}{DIM:#}",
            super::clean(r.reason.as_deref().unwrap_or("unchanged"))
        ),
    };
    let mut out = head;
    for f in &r.findings {
        let style = if f.severity == Severity::Error {
            ERROR
        } else {
            WARNING
        };
        let sev = f.severity.as_str();
        out.push_str(&format!(
            "\n  {style}{sev}{style:#} {} {}: {}",
            f.rule,
            f.name,
            super::clean(&f.message)
        ));
    }
    for w in &r.warnings {
        out.push_str(&format!(
            "\n  {WARNING}warning{WARNING:#} {}",
            super::clean(w)
        ));
    }
    out
}

/// `lint`'s text: the objects with findings or warnings (each line after `prefix`, e.g. the
/// namespace), then one summary line.
pub fn lint_text(reports: &[ObjectReport], prefix: &dyn Fn(&ObjectReport) -> String) -> String {
    let mut text = String::new();
    let (mut workloads, mut flagged) = (0, 0);
    let (mut info, mut warnings, mut errors) = (0, 0, 0);
    for r in reports {
        if r.status != Status::Skipped {
            workloads += 1;
        }
        if r.findings.is_empty() && r.warnings.is_empty() {
            continue;
        }
        flagged += 1;
        for f in &r.findings {
            *match f.severity {
                Severity::Info => &mut info,
                Severity::Warning => &mut warnings,
                Severity::Error => &mut errors,
            } += 1;
        }
        text.push_str(&prefix(r));
        text.push_str(&line(r));
        text.push('\n');
    }
    let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
    let mut summary = format!(
        "{} checked, {} with findings: {}, {}",
        plural(workloads, "workload"),
        flagged,
        plural(errors, "error"),
        plural(warnings, "warning"),
    );
    if info > 0 {
        summary.push_str(&format!(", {info} info"));
    }
    let others = reports.len() - workloads;
    if others > 0 {
        summary.push_str(&format!(
            " ({} that {} not a workload skipped)",
            plural(others, "object"),
            if others == 1 { "is" } else { "are" }
        ));
    }
    text.push_str(&summary);
    text.push('\n');
    text
}

/// Gathers per-object reports as they come, keeping only what will be shown.
pub struct Collector {
    /// `None`: keep whole reports (the caller shows them); else how to print them on stderr.
    mode: Option<(ReportArg, bool)>,
    /// Whole reports (mode `None`).
    pub kept: Vec<ObjectReport>,
    lines: Vec<String>,
    json: Vec<serde_json::Value>,
    /// Objects that are workloads.
    pub workloads: usize,
    /// `kind/name: reason` of objects that are not.
    pub skipped: Vec<String>,
    /// `kind/name: reason` of workload kinds under an apiVersion the tool does not handle.
    pub unsupported: Vec<String>,
    /// `file: reason` of files found in directories that are not manifests.
    pub skipped_files: Vec<String>,
    /// `kind/name: reason` of workloads the tool can change that were left out (`-l` did not
    /// select them, a partial object).
    pub unselected: Vec<String>,
}

impl Collector {
    /// A collector for `mode` (see the field).
    pub fn new(mode: Option<(ReportArg, bool)>) -> Self {
        Collector {
            mode,
            kept: Vec::new(),
            lines: Vec::new(),
            json: Vec::new(),
            workloads: 0,
            skipped: Vec::new(),
            unsupported: Vec::new(),
            skipped_files: Vec::new(),
            unselected: Vec::new(),
        }
    }

    /// Takes a file found in a directory that is not a manifest, reported once: a report line
    /// (text), an entry without object (JSON), or a line on stderr for status and lint.
    pub fn skip_file(&mut self, file: String, reason: String) {
        let text = format!("{file}: skipped ({reason})");
        match self.mode {
            None => anstream::eprintln!("{DIM}{}{DIM:#}", super::clean(&text)),
            Some((_, true)) => {}
            Some((ReportArg::Text, false)) => {
                self.lines
                    .push(format!("{DIM}{}{DIM:#}", super::clean(&text)));
            }
            Some((ReportArg::Json, false)) => self.json.push(serde_json::json!({
                "source": file,
                "status": "skipped",
                "reason": reason,
            })),
        }
        self.skipped_files.push(format!("{file}: {reason}"));
    }

    /// Takes the reports of one document.
    pub fn extend(&mut self, reports: Vec<ObjectReport>) {
        for r in reports {
            if r.status == Status::Skipped {
                let why = format!(
                    "{}: {}",
                    r.object.short_name(),
                    r.reason.as_deref().unwrap_or("skipped")
                );
                let kind = &r.object.kind;
                if WorkloadKind::from_kind(kind).is_some()
                    && WorkloadKind::from_type(&r.object.api_version, kind).is_none()
                {
                    self.unsupported.push(why.clone());
                } else if WorkloadKind::from_type(&r.object.api_version, kind).is_some() {
                    self.unselected.push(why.clone());
                }
                self.skipped.push(why);
            } else {
                self.workloads += 1;
            }
            match self.mode {
                None => self.kept.push(r),
                Some((_, true)) => {}
                Some((ReportArg::Text, false)) => self.lines.push(line(&r)),
                Some((ReportArg::Json, false)) => {
                    self.json.push(serde_json::to_value(&r).unwrap_or_default())
                }
            }
        }
    }

    /// Prints what was collected to stderr.
    pub fn print(&self) -> Result<()> {
        let mut err = anstream::stderr().lock();
        match self.mode {
            None | Some((_, true)) => {}
            Some((ReportArg::Json, false)) => {
                serde_json::to_writer_pretty(&mut err, &self.json)?;
                writeln!(err)?;
            }
            Some((ReportArg::Text, false)) => {
                for l in &self.lines {
                    writeln!(err, "{l}")?;
                }
            }
        }
        Ok(())
    }
}
