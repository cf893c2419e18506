//! Drives inputs through an engine action and delivers the result: the patched stream on
//! stdout, atomic in-place rewrites, or diffs. Nothing is written unless every input succeeded.

use std::io::{Seek, SeekFrom, Write};
use std::path::Path;

use kubectl_pattern_io::atomic;
use kubectl_pattern_io::input::{self as stream, Input};

use anyhow::{Context as _, Result};

use crate::engine::output::{self, OutputFormat, Rendered, StreamWriter};
use crate::engine::process::{Action, EngineError, ObjectReport, Processed};
use crate::engine::stream::{Document, Format};
use crate::parallel;
use crate::ui::{diff, report};

use super::UsageError;
use super::args::OutputArgs;
use super::found;

/// What a run produces besides reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    /// Output per `OutputArgs` (stdout, --in-place, --diff).
    Stream,
    /// Reports only (status, lint).
    ReportsOnly,
}

struct Prepared {
    reports: Vec<ObjectReport>,
    changed: bool,
    rendered: Option<Rendered>,
}

struct FileResult {
    input: Input,
    /// The input's text, kept only for stdin and -k (files are read again for --diff).
    original: String,
    output: String,
    changed: bool,
}

/// The shared output stream: spooled to a temporary file beyond 256 KiB (memory does not grow
/// with the stream, and nothing reaches stdout unless every document succeeded), buffered so
/// that a spooled file does not take a few small writes per document.
type SharedWriter = StreamWriter<std::io::BufWriter<tempfile::SpooledTempFile>>;

/// A run's state across its inputs.
struct RunState {
    collected: report::Collector,
    shared: SharedWriter,
    files: Vec<FileResult>,
    objects: usize,
    per_file: bool,
    rendering: Rendering,
    /// Some document changed.
    changed: bool,
}

/// Runs `action` over `inputs`, delivers the output, prints the report, and returns the reports.
pub fn run(
    inputs: &[Input],
    action: &dyn Action,
    out: &OutputArgs,
    delivery: Delivery,
) -> Result<Vec<ObjectReport>> {
    run_changed(inputs, action, out, delivery).map(|(reports, _)| reports)
}

/// [`run`], and whether any document changed (`--diff`'s exit code).
pub fn run_changed(
    inputs: &[Input],
    action: &dyn Action,
    out: &OutputArgs,
    delivery: Delivery,
) -> Result<(Vec<ObjectReport>, bool)> {
    let per_file = per_file_output(inputs, out, delivery)?;
    let shared_format: OutputFormat = out.format().into();
    let spool = std::io::BufWriter::with_capacity(64 << 10, tempfile::spooled_tempfile(256 << 10));
    let mut state = RunState {
        // Keep only what will be shown: for a big stream, whole reports would outweigh the data.
        collected: report::Collector::new(if delivery == Delivery::ReportsOnly {
            None
        } else {
            Some((out.report, out.quiet))
        }),
        shared: StreamWriter::with_sink(shared_format, spool),
        files: Vec::new(),
        objects: 0,
        per_file,
        rendering: delivery.then_format(per_file, shared_format),
        changed: false,
    };
    for input in inputs {
        state.input(input, action)?;
    }
    check_found(inputs, state.objects, &state.collected, out, delivery)?;
    match delivery {
        Delivery::ReportsOnly => {}
        Delivery::Stream if per_file => deliver_files(&state.files, out)?,
        Delivery::Stream => deliver_stream(state.shared)?,
    }
    state.collected.print()?;
    Ok((state.collected.kept, state.changed))
}

impl RunState {
    /// Processes one input: its documents go to the shared stream, or to the input's own
    /// output (kept in `files`).
    fn input(&mut self, input: &Input, action: &dyn Action) -> Result<()> {
        let mut docs = stream::read_input(input)?;
        let skip_partial = found::SkipPartial {
            action,
            file: input.display_name(),
        };
        let mut action = action;
        if let Input::Found(_) = input {
            match found::scan(docs)? {
                found::Scan::Skip(reason) => {
                    self.collected.skip_file(input.display_name(), reason);
                    return Ok(());
                }
                found::Scan::Manifest(read) => docs = Box::new(read.into_iter().map(Ok)),
            }
            action = &skip_partial;
        }
        let rendering = self.rendering;
        let prepare = |doc: &Document, processed: Processed| prepare(doc, processed, rendering);
        let per_file = self.per_file;
        let mut writer: Option<StreamWriter> = None;
        let mut changed = false;
        let mut write_error = None;
        let mut original = String::new();
        parallel::process_stream(docs, action, &prepare, |doc, prepared| {
            if !doc.is_blank() {
                self.objects += 1;
            }
            if per_file && input.path().is_none() {
                original.push_str(doc.separator.as_deref().unwrap_or_default());
                original.push_str(&doc.text);
            }
            changed |= prepared.changed;
            self.changed |= prepared.changed;
            self.collected.extend(prepared.reports);
            let Some(rendered) = prepared.rendered else {
                return Ok(());
            };
            let result = if per_file {
                let format = if doc.format == Format::Json {
                    OutputFormat::Json
                } else {
                    OutputFormat::Yaml
                };
                writer
                    .get_or_insert_with(|| StreamWriter::new(format).json_stream())
                    .push_rendered(doc, rendered)
            } else {
                self.shared.push_rendered(doc, rendered)
            };
            if let Err(e) = result {
                write_error.get_or_insert(e);
            }
            Ok(())
        })?;
        if let Some(e) = write_error {
            return Err(anyhow::Error::new(e).context("cannot write the output"));
        }
        if per_file {
            let bytes = match writer {
                Some(w) => w.finish()?,
                None => Vec::new(),
            };
            self.files.push(FileResult {
                input: input.clone(),
                original,
                output: String::from_utf8(bytes)?,
                changed,
            });
        }
        Ok(())
    }
}

/// Whether each input gets its own output (`--in-place`, `--diff`), after checking the flags
/// allow it.
fn per_file_output(inputs: &[Input], out: &OutputArgs, delivery: Delivery) -> Result<bool> {
    let per_file = delivery == Delivery::Stream && (out.in_place || out.diff);
    if per_file && out.in_place && inputs.contains(&Input::Stdin) {
        return Err(UsageError(
            "--in-place rewrites files; it cannot be used with stdin (-f -)".into(),
        )
        .into());
    }
    if per_file && out.in_place && inputs.iter().any(|i| matches!(i, Input::Generated { .. })) {
        return Err(UsageError(
            "--in-place rewrites files; -k output is generated: add the pattern to the kustomization's resources with -f FILE --in-place, or pipe the -k output to kubectl apply -f -".into(),
        )
        .into());
    }
    if out.in_place && out.format() != super::args::OutputArg::Yaml {
        return Err(UsageError("--in-place keeps each file's format; drop -o".into()).into());
    }
    Ok(per_file)
}

/// Fails when the inputs held no object, or only workloads under an apiVersion the tool does
/// not handle. A stream without workloads (CRDs, NetworkPolicies, a chart that renders none)
/// passes through unchanged with a warning, so `kustomize build | kubectl pattern add … |
/// kubectl apply -f -` and the Helm post-renderer work on any input.
fn check_found(
    inputs: &[Input],
    objects: usize,
    collected: &report::Collector,
    out: &OutputArgs,
    delivery: Delivery,
) -> Result<()> {
    if objects == 0 {
        let names: Vec<String> = inputs.iter().map(Input::display_name).collect();
        let files = &collected.skipped_files;
        if !files.is_empty() {
            anyhow::bail!(
                "no Kubernetes objects in {}: every file was skipped ({})",
                few(&names),
                few(files)
            );
        }
        anyhow::bail!(
            "no Kubernetes objects in {}: the input is empty",
            names.join(", ")
        );
    }
    if collected.workloads > 0 {
        return Ok(());
    }
    if !collected.unsupported.is_empty() {
        anyhow::bail!(
            "no workloads in the input this tool can change ({})",
            collected.unsupported.join(", ")
        );
    }
    // Workloads were there but none was selected: as `kubectl apply -l` with no match.
    if !collected.unselected.is_empty() {
        anyhow::bail!("no workloads selected: {}", few(&collected.unselected));
    }
    // status and lint run quiet (their report is the data) but have no -q of their own.
    if !out.quiet || delivery == Delivery::ReportsOnly {
        let what = match delivery {
            Delivery::ReportsOnly => "nothing to check",
            Delivery::Stream if out.in_place || out.diff => "no file changed",
            Delivery::Stream => "the input is passed through unchanged",
        };
        crate::ui::warn(&format!(
            "no workloads in the input ({}): {what}; patterns apply to Pods, Deployments, StatefulSets, DaemonSets, ReplicaSets, ReplicationControllers, Jobs and CronJobs",
            few(&collected.skipped)
        ));
    }
    Ok(())
}

/// The first few of `items`, and how many more.
fn few(items: &[String]) -> String {
    const SHOWN: usize = 5;
    let mut text = items
        .iter()
        .take(SHOWN)
        .map(String::as_str)
        .collect::<Vec<_>>()
        .join(", ");
    if items.len() > SHOWN {
        text.push_str(&format!(" and {} more", items.len() - SHOWN));
    }
    text
}

/// Copies the spooled stream to stdout (a closed pipe, as with `| head`, is not an error).
fn deliver_stream(shared: SharedWriter) -> Result<()> {
    let mut spool = shared.finish()?.into_inner().map_err(|e| e.into_error())?;
    spool.seek(SeekFrom::Start(0))?;
    let mut stdout = std::io::stdout().lock();
    std::io::copy(&mut spool, &mut stdout)
        .map(|_| ())
        .and_then(|()| stdout.flush())
        .or_else(ignore_broken_pipe)?;
    Ok(())
}

impl Delivery {
    /// How documents are rendered: not at all for reports, else the shared format, or each
    /// document's own (`per_file`).
    fn then_format(self, per_file: bool, shared: OutputFormat) -> Rendering {
        match (self, per_file) {
            (Delivery::ReportsOnly, _) => Rendering::None,
            (Delivery::Stream, false) => Rendering::Shared(shared),
            (Delivery::Stream, true) => Rendering::OwnFormat,
        }
    }
}

/// How a processed document is rendered.
#[derive(Clone, Copy)]
enum Rendering {
    /// Not rendered (reports only).
    None,
    /// In the stream's one format.
    Shared(OutputFormat),
    /// In the document's own format (per-file output).
    OwnFormat,
}

/// Renders one processed document (run on the worker threads).
fn prepare(
    doc: &Document,
    processed: Processed,
    rendering: Rendering,
) -> Result<Prepared, EngineError> {
    let changed = matches!(processed.emit, output::Emit::Changed { .. });
    let rendered = match (rendering, doc.format) {
        (Rendering::None, _) => None,
        (Rendering::Shared(format), _) => Some(output::render(doc, processed.emit, format)?),
        // A JSON file keeps its own layout.
        (Rendering::OwnFormat, Format::Json) => Some(output::render_json_text(doc, processed.emit)),
        (Rendering::OwnFormat, Format::Yaml) => {
            Some(output::render(doc, processed.emit, OutputFormat::Yaml)?)
        }
    };
    Ok(Prepared {
        reports: processed.reports,
        changed,
        rendered,
    })
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
            let original = match f.input.path() {
                Some(path) => std::fs::read_to_string(path)
                    .with_context(|| format!("cannot read {}", path.display()))?,
                None => f.original.clone(),
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
            .filter_map(|f| f.input.path().map(|p| (p, f.output.as_str())))
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
        // A symlink is followed: the file it points to is rewritten, the link stays.
        let mut staged = Vec::new();
        for (path, text) in &targets {
            let real = std::fs::canonicalize(path)
                .with_context(|| format!("cannot resolve {}", path.display()))?;
            staged.push(atomic::stage(
                &real,
                text.as_bytes(),
                atomic::Permissions::LikeDestination,
            )?);
        }
        // All or nothing: a failed rename puts back the files already replaced.
        atomic::commit_all(staged)?;
    }
    Ok(())
}
