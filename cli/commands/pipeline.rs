//! Drives inputs through an engine action and delivers the result: the patched stream on
//! stdout, atomic in-place rewrites, or diffs. Nothing is written unless every input succeeded.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};

use crate::engine::process::{self, Action, ObjectReport, Status};
use crate::engine::stream::{self, Format, Input, OutputFormat, StreamWriter};
use crate::ui::{diff, report};

use super::UsageError;
use super::args::OutputArgs;

/// What a run produces besides reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    /// Output per `OutputArgs` (stdout, --in-place, --diff).
    Stream,
    /// Reports only (status, lint).
    ReportsOnly,
}

struct FileResult {
    input: Input,
    output: String,
    changed: bool,
}

/// Runs `action` over `inputs`, delivers the output, prints the report, and returns the reports.
pub fn run(
    inputs: &[Input],
    action: &dyn Action,
    out: &OutputArgs,
    delivery: Delivery,
) -> Result<Vec<ObjectReport>> {
    let per_file = delivery == Delivery::Stream && (out.in_place || out.diff);
    if per_file && out.in_place && inputs.contains(&Input::Stdin) {
        return Err(UsageError(
            "--in-place rewrites files; it cannot be used with stdin (-f -)".into(),
        )
        .into());
    }
    if out.in_place && out.output != super::args::OutputArg::Yaml {
        return Err(UsageError("--in-place keeps each file's format; drop -o".into()).into());
    }
    let mut reports = Vec::new();
    let mut files = Vec::new();
    let mut objects = 0usize;
    let mut shared = StreamWriter::new(out.output.into());
    for input in inputs {
        let docs = stream::read_input(input)?;
        let mut format = None;
        let mut writer: Option<StreamWriter> = None;
        let mut changed = false;
        process::process_stream(docs, action, |doc, processed| {
            if !doc.is_blank() {
                objects += 1;
            }
            changed |= matches!(processed.emit, stream::Emit::Changed(_));
            reports.extend(processed.reports);
            if delivery == Delivery::ReportsOnly {
                return Ok(());
            }
            let w = if per_file {
                let f = *format.get_or_insert(if doc.format == Format::Json {
                    OutputFormat::Json
                } else {
                    OutputFormat::Yaml
                });
                writer.get_or_insert_with(|| StreamWriter::new(f))
            } else {
                &mut shared
            };
            w.push(doc, &processed.emit)?;
            Ok(())
        })?;
        if per_file {
            files.push(FileResult {
                input: input.clone(),
                output: writer.map(StreamWriter::finish).unwrap_or_default(),
                changed,
            });
        }
    }
    if objects == 0 {
        let names: Vec<String> = inputs.iter().map(Input::display_name).collect();
        anyhow::bail!(
            "no Kubernetes objects in {}: the input is empty",
            names.join(", ")
        );
    }
    if !reports.iter().any(|r| r.status != Status::Skipped) {
        let kinds: Vec<String> = reports
            .iter()
            .map(|r| {
                format!(
                    "{}: {}",
                    r.object.short_name(),
                    r.reason.as_deref().unwrap_or("skipped")
                )
            })
            .collect();
        anyhow::bail!(
            "no workloads in the input ({}); patterns apply to Pods, Deployments, StatefulSets, DaemonSets, ReplicaSets, ReplicationControllers, Jobs and CronJobs",
            kinds.join(", ")
        );
    }
    match delivery {
        Delivery::ReportsOnly => {}
        Delivery::Stream if per_file => deliver_files(&files, out)?,
        Delivery::Stream => {
            let text = shared.finish();
            let mut stdout = std::io::stdout().lock();
            stdout
                .write_all(text.as_bytes())
                .and_then(|()| stdout.flush())
                .or_else(ignore_broken_pipe)?;
        }
    }
    report::print(&reports, out.report, out.quiet)?;
    Ok(reports)
}

fn ignore_broken_pipe(e: std::io::Error) -> std::io::Result<()> {
    if e.kind() == std::io::ErrorKind::BrokenPipe {
        Ok(())
    } else {
        Err(e)
    }
}

fn deliver_files(files: &[FileResult], out: &OutputArgs) -> Result<()> {
    if out.diff {
        let mut stdout = anstream::stdout().lock();
        for f in files.iter().filter(|f| f.changed) {
            let original = match &f.input {
                Input::File(path) => std::fs::read_to_string(path)
                    .with_context(|| format!("cannot read {}", path.display()))?,
                Input::Stdin => String::new(),
            };
            let name = f.input.display_name();
            stdout
                .write_all(diff::unified(&original, &f.output, &name).as_bytes())
                .or_else(ignore_broken_pipe)?;
        }
    }
    if out.in_place {
        // Check every target first, then write: a failure leaves every file as it was.
        let targets: Vec<(&Path, &str)> = files
            .iter()
            .filter(|f| f.changed)
            .filter_map(|f| match &f.input {
                Input::File(p) => Some((p.as_path(), f.output.as_str())),
                Input::Stdin => None,
            })
            .collect();
        for (path, _) in &targets {
            let meta = std::fs::metadata(path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            if meta.permissions().readonly() {
                anyhow::bail!(
                    "{} is read-only; make it writable (chmod u+w) or write the output elsewhere without --in-place",
                    path.display()
                );
            }
        }
        let mut staged = Vec::new();
        for (path, text) in &targets {
            staged.push((stage(path, text)?, *path));
        }
        for (temp, path) in staged {
            temp.persist(path)
                .with_context(|| format!("cannot replace {}", path.display()))?;
        }
    }
    Ok(())
}

/// Writes `text` to a temporary file beside `path`, with `path`'s permissions.
fn stage(path: &Path, text: &str) -> Result<tempfile::NamedTempFile> {
    let dir: PathBuf = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
    let mut temp = tempfile::Builder::new()
        .prefix(".kubectl-pattern-")
        .tempfile_in(&dir)
        .with_context(|| format!("cannot create a temporary file in {}", dir.display()))?;
    temp.write_all(text.as_bytes())
        .and_then(|()| temp.as_file().sync_all())
        .with_context(|| format!("cannot write beside {}", path.display()))?;
    let perms = std::fs::metadata(path)?.permissions();
    std::fs::set_permissions(temp.path(), perms)?;
    Ok(temp)
}
