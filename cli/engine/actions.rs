//! The actions a run applies to each object: `add` (render, place and record patterns),
//! `remove`, `status` and `lint` (with drift against the record), and the managed add of live
//! mode. `process` runs them over documents.

use std::sync::Arc;

use serde_json::Value;

use super::contribution::Contribution;
use super::defaults;
use super::drift;
use super::free_ports;
use super::lint;
use super::merge::{self, MergeOptions};
use super::params::Params;
use super::pattern::{PatternError, RenderContext};
use super::process::{
    Action, ActionResult, ObjectError, PatternReport, PatternRequest, skipped, workload_info,
};
use super::tracking::{self, AppliedRecord};
use super::workload::Workload;

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
        match result {
            // A declining pattern skips the object, which stays as it was (restored above
            // when an earlier pattern had changed it).
            Err(ObjectError::Pattern(e @ PatternError::NotApplicable { .. })) => {
                Ok(skipped(e.to_string()))
            }
            other => other,
        }
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
            let spec = req.pattern.spec();
            let (params, notes) = defaults::from_workload(spec, &req.params, &info)?;
            let render = |params: &Params| {
                req.pattern.render(&RenderContext {
                    workload: &info,
                    object: w.object(),
                    params,
                    instance: &req.instance,
                    target: &self.options.target,
                })
            };
            let plan = |contribution: Arc<Contribution>, params: &Params| {
                let instance = merge::Instance {
                    pattern: spec,
                    name: &req.instance,
                    params,
                };
                merge::plan(&w, &instance, contribution, &self.options)
            };
            // A second instance (--name) moves ports left to their defaults off taken ones.
            let movable = req.instance != spec.id;
            let placed = free_ports::place(&spec.params, &params, movable, render, plan)?;
            let existed = records.iter().any(|r| r.instance == req.instance);
            result.warnings.extend(
                placed
                    .moved
                    .iter()
                    .map(|m| format!("{}: {}", req.instance, m.note())),
            );
            let outcome = placed.plan.apply(&mut w);
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
                Ok(spec) => {
                    let claims = lint::claim_templates(w.object());
                    result.findings = lint::check(w.kind(), &spec, &records, &claims);
                }
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

/// `add` (or `migrate`) on live objects with `--field-manager`: records the manager on the
/// instances it applies, so that later applies and `remove` write their fields as that manager.
pub struct ManagedAdd<A = AddAction> {
    /// The add (or another action that adds instances).
    pub add: A,
    /// The manager (`kubectl-pattern` is recorded as the default, that is, not at all).
    pub field_manager: String,
}

impl<A: Action> Action for ManagedAdd<A> {
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
