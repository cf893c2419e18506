//! Runs an action over the object(s) of one document (Lists included) and produces one report
//! per object; the actions for add, remove, status and lint. Streams and parallelism are the
//! caller's.

use std::sync::Arc;

use serde::Serialize;
use serde_json::Value;

use super::defaults::{self, DefaultsError};
use super::drift;
use super::lint::{self, Finding};
use super::merge::{self, MergeError, MergeOptions};
use super::output::{Emit, ObjectRef};
use super::params::Params;
use super::pattern::{Pattern, PatternError, RenderContext, WorkloadInfo};
use super::stream::{Document, StreamError};
use super::tracking::{self, AppliedRecord, TrackingError};
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
    let mut value = doc.parse_object()?;
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
        Emit::Changed {
            before,
            after: value,
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

fn skipped(reason: String) -> ActionResult {
    ActionResult {
        skipped: Some(reason),
        ..Default::default()
    }
}

/// `add`: applies patterns in order.
pub struct AddAction {
    /// The patterns.
    pub requests: Vec<PatternRequest>,
    /// Merge options.
    pub options: MergeOptions,
}

impl Action for AddAction {
    fn run(&self, object: &mut Value) -> Result<ActionResult, ObjectError> {
        // Several patterns apply all or nothing: a later failure undoes the earlier ones.
        let backup = (self.requests.len() > 1).then(|| object.clone());
        let result = self.apply_all(object);
        if let (Err(_), Some(original)) = (&result, backup) {
            *object = original;
        }
        result
    }
}

impl AddAction {
    fn apply_all(&self, object: &mut Value) -> Result<ActionResult, ObjectError> {
        let mut w = match Workload::new(object) {
            Ok(w) => w,
            Err(e) => return Ok(skipped(e.to_string())),
        };
        let mut result = ActionResult::default();
        for req in &self.requests {
            let records = tracking::read(&w)?;
            let main = merge::main_container(&w, &records, self.options.main_container.as_deref())?;
            let info = workload_info(&w, &main);
            let (params, notes) = defaults::from_workload(req.pattern.spec(), &req.params, &info)?;
            let ctx = RenderContext {
                workload: &info,
                object: w.object(),
                params: &params,
                instance: &req.instance,
                target: &self.options.target,
            };
            let contribution = req.pattern.render(&ctx)?;
            let existed = records.iter().any(|r| r.instance == req.instance);
            let instance = merge::Instance {
                pattern: req.pattern.spec(),
                name: &req.instance,
                params: &params,
            };
            let outcome = merge::apply(&mut w, &instance, &contribution, &self.options)?;
            let action = match (outcome.changed, existed) {
                (false, _) => "unchanged",
                (true, true) => "updated",
                (true, false) => "added",
            };
            result.changed |= outcome.changed;
            result.warnings.extend(
                notes
                    .iter()
                    .chain(&outcome.warnings)
                    .map(|m| format!("{}: {m}", req.instance)),
            );
            result.patterns.push(PatternReport {
                action,
                native: Some(outcome.native),
                record: outcome.record,
            });
        }
        Ok(result)
    }
}

/// `remove`: removes instances (by instance name or pattern id).
pub struct RemoveAction {
    /// Instance names or pattern ids.
    pub names: Vec<String>,
}

impl Action for RemoveAction {
    fn run(&self, object: &mut Value) -> Result<ActionResult, ObjectError> {
        let mut w = match Workload::new(object) {
            Ok(w) => w,
            Err(e) => return Ok(skipped(e.to_string())),
        };
        let records = tracking::read(&w)?;
        let targets: Vec<String> = records
            .iter()
            .filter(|r| {
                self.names
                    .iter()
                    .any(|n| *n == r.instance || *n == r.pattern)
            })
            .map(|r| r.instance.clone())
            .collect();
        if targets.is_empty() {
            let note = Some(format!("{} not applied", self.names.join(", ")));
            return Ok(ActionResult {
                note,
                ..Default::default()
            });
        }
        let mut result = ActionResult {
            changed: true,
            ..Default::default()
        };
        for instance in targets {
            if let Some(record) = merge::remove(&mut w, &instance)? {
                result.patterns.push(PatternReport {
                    action: "removed",
                    native: None,
                    record,
                });
            }
        }
        Ok(result)
    }
}

/// `status`: lists applied patterns; `lint`: runs the rules. Both read only.
#[derive(Debug, Clone, Default)]
pub struct InspectAction {
    /// Run the lint rules too.
    pub lint: bool,
    /// The catalogue's pattern versions by id: instances of an older version are reported
    /// as outdated (`status`).
    pub versions: std::collections::BTreeMap<String, String>,
    /// Report helpers edited by hand since they were written (`status` on files: live objects
    /// carry the API server's defaults).
    pub check_edits: bool,
}

impl Action for InspectAction {
    fn run(&self, object: &mut Value) -> Result<ActionResult, ObjectError> {
        let w = match Workload::new(object) {
            Ok(w) => w,
            Err(e) => return Ok(skipped(e.to_string())),
        };
        let records = tracking::read(&w)?;
        let mut result = ActionResult {
            inspected: true,
            ..Default::default()
        };
        if self.lint {
            match w.typed_pod_spec() {
                Ok(spec) => result.findings = lint::check(w.kind(), &spec, &records),
                Err(e) => result.warnings.push(format!(
                    "pod spec does not match the Kubernetes schema: {e}"
                )),
            }
        }
        for record in &records {
            for (container, message) in drift(&w, record) {
                if self.lint {
                    let f = lint::finding(lint::PATTERN_DRIFT, container.as_deref(), message);
                    result.findings.push(f);
                } else {
                    result.warnings.push(message);
                }
            }
        }
        for record in &records {
            if self.check_edits && drift::edited(w.pod_spec(), record) {
                result.warnings.push(drift::edited_message(record));
            }
            if let Some(version) = self.versions.get(&record.pattern)
                && drift::is_outdated(record, version)
            {
                result
                    .warnings
                    .push(drift::outdated_message(record, version));
            }
        }
        result.patterns = records
            .into_iter()
            .map(|record| PatternReport {
                action: "applied",
                native: None,
                record,
            })
            .collect();
        Ok(result)
    }
}

/// What `record` says its instance added and the workload no longer has (edited by hand), each
/// with the container concerned and a message saying how to get back in line.
fn drift(w: &Workload<'_>, record: &AppliedRecord) -> Vec<(Option<String>, String)> {
    let spec = w.pod_spec();
    let mut missing: Vec<(Option<String>, String)> = Vec::new();
    for name in record.helpers() {
        if crate::podspec::container_list(spec, name).is_none() {
            missing.push((Some(name.clone()), format!("helper container {name}")));
        }
    }
    for item in record.volume_items() {
        if item.find(spec).is_none() {
            missing.push((None, format!("volume {}", item.key)));
        }
    }
    for m in &record.mounts {
        let item = crate::podspec::ItemRef::new(
            crate::podspec::ListRef::app(&m.container, crate::podspec::ContainerList::VolumeMounts),
            &m.mount_path,
        );
        if item.find(spec).is_none() {
            let what = format!("mount {} on {}", m.mount_path, m.container);
            missing.push((Some(m.container.clone()), what));
        }
    }
    for e in &record.env {
        let item = crate::podspec::ItemRef::new(
            crate::podspec::ListRef::app(&e.container, crate::podspec::ContainerList::Env),
            &e.name,
        );
        if item.find(spec).is_none() {
            missing.push((
                Some(e.container.clone()),
                format!("env {} on {}", e.name, e.container),
            ));
        }
    }
    for key in &record.annotations {
        if w.pod_annotation(key).is_none() {
            missing.push((None, format!("annotation {key}")));
        }
    }
    let instance = &record.instance;
    missing
        .into_iter()
        .map(|(container, what)| {
            let message = format!(
                "{instance}: {what} is recorded but missing (removed by hand?): `kubectl pattern add {}{}` restores it, `kubectl pattern remove {instance}` drops the rest and the record",
                record.pattern,
                if *instance == record.pattern { String::new() } else { format!(" --name {instance}") },
            );
            (container, message)
        })
        .collect()
}

/// `add` on live objects with `--field-manager`: records the manager on the instances it
/// applies, so that later applies and `remove` write their fields as that manager.
pub struct ManagedAdd {
    /// The add.
    pub add: AddAction,
    /// The manager (`kubectl-pattern` is recorded as the default, that is, not at all).
    pub field_manager: String,
}

impl Action for ManagedAdd {
    fn run(&self, object: &mut Value) -> Result<ActionResult, ObjectError> {
        let mut result = self.add.run(object)?;
        let Ok(mut w) = Workload::new(object) else {
            return Ok(result);
        };
        let mut records = tracking::read(&w)?;
        let mut moved = false;
        for p in &mut result.patterns {
            let Some(r) = records.iter_mut().find(|r| r.instance == p.record.instance) else {
                continue;
            };
            let before = r.field_manager.clone();
            r.set_field_manager(&self.field_manager);
            if r.field_manager != before {
                moved = true;
                p.record.field_manager = r.field_manager.clone();
                if p.action == "unchanged" {
                    p.action = "updated";
                }
            }
        }
        if moved {
            tracking::write(&mut w, &records);
            result.changed = true;
        }
        Ok(result)
    }
}
