//! Runs an action over the object(s) of one document (Lists included) and produces one report
//! per object; the actions for add, remove, status and lint. Streams and parallelism are the
//! caller's.

use std::sync::Arc;

use serde::Serialize;
use serde_json::Value;

use super::defaults::DefaultsError;
use super::lint::Finding;
use super::merge::MergeError;
use super::output::{Emit, ObjectRef};
use super::params::Params;
use super::pattern::{Pattern, PatternError, WorkloadInfo};
use super::stream::{Document, StreamError};
use super::tracking::{AppliedRecord, TrackingError};
use super::workload::{Workload, WorkloadKind};

/// An error while processing one object.
#[derive(Debug, thiserror::Error)]
pub enum ObjectError {
    /// The pattern did not render.
    #[error(transparent)]
    Pattern(#[from] PatternError),
    /// The contribution could not be merged.
    #[error(transparent)]
    Merge(#[from] MergeError),
    /// The tracking annotation is unreadable.
    #[error(transparent)]
    Tracking(#[from] TrackingError),
    /// The object is in another namespace than the one `-n` gives (kubectl refuses it too).
    #[error(
        "the object is in namespace {found:?}, not {given:?} given with -n; pass -n {found}, or drop -n"
    )]
    Namespace {
        /// The object's namespace.
        found: String,
        /// The one `-n` gives.
        given: String,
    },
    /// A parameter's default cannot be taken from the workload.
    #[error(transparent)]
    Defaults(Box<DefaultsError>),
    /// A `gitRepo` volume cannot be converted.
    #[error(transparent)]
    Migrate(Box<super::gitrepo::MigrateError>),
}

// Boxed: the error travels inside the cluster's errors, which must stay small.
impl From<DefaultsError> for ObjectError {
    fn from(e: DefaultsError) -> Self {
        ObjectError::Defaults(Box::new(e))
    }
}

impl From<super::gitrepo::MigrateError> for ObjectError {
    fn from(e: super::gitrepo::MigrateError) -> Self {
        ObjectError::Migrate(Box::new(e))
    }
}

/// An object that could not be processed, and where it is.
#[derive(Debug, thiserror::Error)]
#[error("{source_name}: document {document} ({object}): {error}")]
pub struct ObjectFailure {
    /// The input's name.
    pub source_name: String,
    /// 1-based document number.
    pub document: usize,
    /// `deployment/web`.
    pub object: String,
    /// What went wrong.
    pub error: ObjectError,
}

/// An error of the engine, with the input location.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// Reading or parsing input.
    #[error(transparent)]
    Stream(#[from] StreamError),
    /// Processing an object.
    #[error(transparent)]
    Object(Box<ObjectFailure>),
}

/// What happened to one object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// The object was changed.
    Changed,
    /// Nothing to change.
    Unchanged,
    /// Not a workload, or nothing applies.
    Skipped,
    /// Read only (status, lint).
    Inspected,
}

/// One pattern instance's part in a report.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PatternReport {
    /// `added`, `updated`, `unchanged`, `removed`, `applied`.
    pub action: &'static str,
    /// True when helpers are native sidecars.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub native: Option<bool>,
    /// The record.
    #[serde(flatten)]
    pub record: AppliedRecord,
}

/// The report for one object.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectReport {
    /// The input's name.
    pub source: String,
    /// 1-based document number.
    pub document: usize,
    /// The object.
    pub object: ObjectRef,
    /// What happened.
    pub status: Status,
    /// Why it was skipped or left unchanged.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Per pattern instance.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub patterns: Vec<PatternReport>,
    /// Lint findings.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub findings: Vec<Finding>,
    /// Warnings.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

impl ObjectReport {
    /// The report of `result` for the object `object` (of input `source`, document `document`).
    pub fn new(source: String, document: usize, object: ObjectRef, result: ActionResult) -> Self {
        let status = match (&result.skipped, result.inspected, result.changed) {
            (Some(_), _, _) => Status::Skipped,
            (None, true, _) => Status::Inspected,
            (None, false, true) => Status::Changed,
            (None, false, false) => Status::Unchanged,
        };
        ObjectReport {
            source,
            document,
            object,
            status,
            reason: result.skipped.or(result.note),
            patterns: result.patterns,
            findings: result.findings,
            warnings: result.warnings,
        }
    }
}

/// What an action did to one object.
#[derive(Debug, Default)]
pub struct ActionResult {
    /// The object changed.
    pub changed: bool,
    /// Set when the object was skipped (not a workload).
    pub skipped: Option<String>,
    /// Why nothing changed, for the report.
    pub note: Option<String>,
    /// True for read-only actions.
    pub inspected: bool,
    /// Per pattern instance.
    pub patterns: Vec<PatternReport>,
    /// Lint findings.
    pub findings: Vec<Finding>,
    /// Warnings.
    pub warnings: Vec<String>,
}

/// An action on one object.
pub trait Action: Sync {
    /// Acts on `object` (changing it or not).
    fn run(&self, object: &mut Value) -> Result<ActionResult, ObjectError>;
}

/// The outcome of one document.
pub struct Processed {
    /// What to write.
    pub emit: Emit,
    /// One report per object.
    pub reports: Vec<ObjectReport>,
}

/// Runs `action` on the object(s) of one document.
pub fn process_document(doc: &Document, action: &dyn Action) -> Result<Processed, EngineError> {
    if doc.is_blank() {
        return Ok(Processed {
            emit: Emit::Unchanged,
            reports: vec![],
        });
    }
    let (mut value, layout) = doc.read_object()?;
    // The object as read: the output edits the document's text from it.
    let before = value.clone();
    let mut reports = Vec::new();
    let mut changed = false;
    let mut run =
        |object: &mut Value, reports: &mut Vec<ObjectReport>| -> Result<(), EngineError> {
            let object_ref = ObjectRef::of(object);
            let result = action.run(object).map_err(|error| {
                EngineError::Object(Box::new(ObjectFailure {
                    source_name: doc.source.to_string(),
                    document: doc.index,
                    object: object_ref.short_name(),
                    error,
                }))
            })?;
            changed |= result.changed;
            reports.push(ObjectReport::new(
                doc.source.to_string(),
                doc.index,
                object_ref,
                result,
            ));
            Ok(())
        };
    match list_of(&value) {
        Some(item_kind) => {
            if let Some(items) = value.get_mut("items").and_then(Value::as_array_mut) {
                for item in items {
                    // Typed lists (`DeploymentList`, as the API returns them) leave out their
                    // items' apiVersion and kind: lend them for the run, and take them back.
                    let lent = item_kind.map(|k| lend_type(item, k)).unwrap_or_default();
                    let result = run(item, &mut reports);
                    if lent && let Some(map) = item.as_object_mut() {
                        map.shift_remove("apiVersion");
                        map.shift_remove("kind");
                    }
                    result?;
                }
            }
        }
        None => run(&mut value, &mut reports)?,
    }
    let emit = if changed {
        if let Some(layout) = &layout {
            crate::nulls::record(&doc.text, layout, &before, &mut value);
        }
        Emit::Changed {
            before,
            after: value,
            layout,
        }
    } else {
        Emit::Unchanged
    };
    Ok(Processed { emit, reports })
}

/// `Some` for a list: `kind: List` (`Some(None)`: its items name their own types), or a typed
/// list of workloads such as `apps/v1 DeploymentList` (`Some(Some(kind))`).
pub fn list_of(value: &Value) -> Option<Option<WorkloadKind>> {
    let kind = value.get("kind").and_then(Value::as_str)?;
    if kind == "List" {
        return Some(None);
    }
    let api_version = value.get("apiVersion").and_then(Value::as_str)?;
    WorkloadKind::from_list(api_version, kind).map(Some)
}

/// Gives a typed list's item its apiVersion and kind when it lacks them; true when it did.
fn lend_type(item: &mut Value, kind: WorkloadKind) -> bool {
    let Some(map) = item.as_object_mut() else {
        return false;
    };
    if map.contains_key("kind") || map.contains_key("apiVersion") {
        return false;
    }
    map.insert(
        "apiVersion".into(),
        Value::String(kind.api_version().into()),
    );
    map.insert("kind".into(), Value::String(kind.as_str().into()));
    true
}

/// One pattern to apply: which, as which instance, with which parameters.
#[derive(Clone)]
pub struct PatternRequest {
    /// The pattern.
    pub pattern: Arc<dyn Pattern>,
    /// The instance name.
    pub instance: String,
    /// Validated parameters.
    pub params: Params,
}

/// What a pattern sees of `w`, whose main container is `main`.
pub fn workload_info(w: &Workload<'_>, main: &str) -> WorkloadInfo {
    let meta = w.pod_metadata();
    let field = |k: &str| {
        meta.and_then(|m| m.get(k))
            .cloned()
            .unwrap_or_else(|| Value::Object(Default::default()))
    };
    let ports = w
        .pod_spec()
        .get("containers")
        .and_then(Value::as_array)
        .and_then(|cs| {
            cs.iter()
                .find(|c| c.get("name").and_then(Value::as_str) == Some(main))
        })
        .and_then(|c| c.get("ports"))
        .cloned()
        .unwrap_or_else(|| Value::Array(vec![]));
    WorkloadInfo {
        kind: w.kind().as_str().to_string(),
        name: w.name().to_string(),
        namespace: w.namespace().to_string(),
        labels: field("labels"),
        annotations: field("annotations"),
        main_container: main.to_string(),
        ports,
    }
}

pub(crate) fn skipped(reason: String) -> ActionResult {
    ActionResult {
        skipped: Some(reason),
        ..Default::default()
    }
}

pub use super::actions::{AddAction, InspectAction, ManagedAdd, RemoveAction};
