//! The typed result of planning a merge or a removal: every edit named by list, key and
//! position, the lists and maps it creates or deletes, and the new tracking record. Planning
//! reads the workload only; `Plan::apply` makes the edits (and cannot fail), so consumers that
//! never apply (the injector, a text editor of the YAML source) read the same edits.

use serde_json::{Map, Value};

use crate::contribution::ContainerTarget;
use crate::podspec::{self, ItemRef, ListRef, PodList, Position};
use crate::tracking::{AppliedRecord, Created};
use crate::workload::Workload;

/// An item put into a list: replaces the item with the same key where it is, or else goes in
/// at `position`.
#[derive(Debug, Clone, PartialEq)]
pub struct Placement {
    /// The list and the item's key (its name, or a mount's mountPath).
    pub item: ItemRef,
    /// The item, as the pattern's author wrote it (key order kept).
    pub value: Value,
    /// Where the item goes when the list has no item with its key.
    pub position: Position,
    /// True when the list has an item with this key that the plan does not remove first: it
    /// is replaced in place.
    pub replaces: bool,
    /// For mounts and env vars on app containers: the contribution's target that chose the
    /// container (the injector groups the wiring by it).
    pub via: Option<ContainerTarget>,
}

/// A pod template annotation edit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AnnotationEdit {
    /// Sets the key to the value.
    Set {
        /// The key.
        key: String,
        /// The value.
        value: String,
    },
    /// Removes the key.
    Remove {
        /// The key.
        key: String,
    },
}

/// A merge or a removal, planned: the edits in the order `apply` makes them.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Plan {
    /// Items taken out first: parts a previous apply of the instance added and this one does
    /// not, helpers moving to the other pod list, or everything of a removed instance.
    pub removals: Vec<ItemRef>,
    /// Lists and maps created (they are absent now and the placements or annotations need
    /// them), in order.
    pub creates: Vec<Created>,
    /// Items put, in order.
    pub placements: Vec<Placement>,
    /// Annotation edits, in order; the tracking annotation's is last (present only when the
    /// records change).
    pub annotations: Vec<AnnotationEdit>,
    /// Lists and maps the instances created that the edits leave empty: deleted, in order.
    pub drops: Vec<Created>,
    /// Of `drops`, those that were null before the instance filled them: set back to null.
    pub to_null: Vec<Created>,
    /// The instance's record: the new one (apply), or the removed one (remove).
    pub record: AppliedRecord,
    /// True when helpers go in as native sidecars.
    pub native: bool,
    /// Warnings for the report.
    pub warnings: Vec<String>,
    /// True when applying the plan changes the workload.
    pub changed: bool,
}

impl Plan {
    /// The placements into `list`.
    pub fn placements_in<'p>(&'p self, list: &'p ListRef) -> impl Iterator<Item = &'p Placement> {
        self.placements.iter().filter(move |p| &p.item.list == list)
    }

    /// Makes the edits, moving the planned values into the workload. The plan must have been
    /// made for this workload as it is now.
    pub fn apply(self, workload: &mut Workload<'_>) -> super::ApplyOutcome {
        for item in &self.removals {
            podspec::remove(workload.pod_spec_mut(), item);
        }
        for created in &self.creates {
            match created {
                Created::Metadata => {
                    workload.pod_metadata_mut();
                }
                Created::Annotations => {
                    let (meta, _) = workload.pod_metadata_mut();
                    meta.insert("annotations".into(), Value::Object(Map::new()));
                }
                other => {
                    if let Some(list) = other.list() {
                        podspec::create(workload.pod_spec_mut(), &list);
                    }
                }
            }
        }
        for p in self.placements {
            podspec::upsert(workload.pod_spec_mut(), &p.item.list, p.value, &p.position);
        }
        for edit in &self.annotations {
            edit_annotation(workload, edit);
        }
        for created in &self.drops {
            drop_if_empty(workload, created, self.to_null.contains(created));
        }
        super::ApplyOutcome {
            changed: self.changed,
            native: self.native,
            record: self.record,
            warnings: self.warnings,
        }
    }

    /// True when applying changes `workload` (computed before anything changes).
    pub(super) fn effective(&self, workload: &Workload<'_>) -> bool {
        let spec = workload.pod_spec();
        let removes = self.removals.iter().any(|i| i.find(spec).is_some());
        let puts = self
            .placements
            .iter()
            .any(|p| !p.replaces || p.item.find(spec) != Some(&p.value));
        let annotates = self.annotations.iter().any(|e| match e {
            AnnotationEdit::Set { key, value } => {
                workload.pod_annotation(key) != Some(value.as_str())
            }
            AnnotationEdit::Remove { key } => has_annotation(workload, key),
        });
        let drops = self.drops.iter().any(|c| present(workload, c));
        removes || !self.creates.is_empty() || puts || annotates || drops
    }

    /// True when the edits leave the list or map `created` empty (or absent).
    pub(super) fn ends_empty(&self, workload: &Workload<'_>, created: &Created) -> bool {
        match created {
            Created::Annotations => {
                let Some(value) = workload.pod_metadata().and_then(|m| m.get("annotations")) else {
                    return !self.sets_annotations();
                };
                let Some(map) = value.as_object() else {
                    return false;
                };
                let removed = |k: &String| {
                    self.annotations
                        .iter()
                        .any(|e| matches!(e, AnnotationEdit::Remove { key } if key == k))
                };
                !self.sets_annotations() && map.keys().all(removed)
            }
            // Decided after the annotations map (see `Created::rank`): empty once it is dropped.
            Created::Metadata => match workload.pod_metadata() {
                None => !self.sets_annotations(),
                Some(meta) => meta
                    .keys()
                    .all(|k| k == "annotations" && self.drops.contains(&Created::Annotations)),
            },
            _ => match created.list() {
                Some(list) => self.list_ends_empty(workload.pod_spec(), &list),
                None => false,
            },
        }
    }

    fn sets_annotations(&self) -> bool {
        self.annotations
            .iter()
            .any(|e| matches!(e, AnnotationEdit::Set { .. }))
    }

    fn list_ends_empty(&self, spec: &Map<String, Value>, list: &ListRef) -> bool {
        if self.placements_in(list).next().is_some() {
            return false;
        }
        let Some(items) = list.get(spec) else {
            // Absent (or a list of a missing container): gone; anything else is kept.
            return !list_field_present(spec, list);
        };
        items.iter().all(|item| {
            list.key_of(item).is_some_and(|key| {
                self.removals
                    .iter()
                    .any(|r| &r.list == list && r.key == key)
            })
        })
    }
}

/// True when the list's field holds something that is not a list.
fn list_field_present(spec: &Map<String, Value>, list: &ListRef) -> bool {
    list_holder(spec, list).is_some_and(|h| h.contains_key(list.key()))
}

/// The object that holds the list's field: the pod spec or an app container.
fn list_holder<'s>(spec: &'s Map<String, Value>, list: &ListRef) -> Option<&'s Map<String, Value>> {
    match list {
        ListRef::Pod(_) => Some(spec),
        ListRef::Container {
            in_list, container, ..
        } => ItemRef::new(ListRef::Pod(*in_list), container)
            .find(spec)
            .and_then(Value::as_object),
    }
}

fn has_annotation(workload: &Workload<'_>, key: &str) -> bool {
    workload
        .pod_metadata()
        .and_then(|m| m.get("annotations"))
        .and_then(Value::as_object)
        .is_some_and(|a| a.contains_key(key))
}

fn present(workload: &Workload<'_>, created: &Created) -> bool {
    match created {
        Created::Metadata => workload.pod_metadata().is_some(),
        Created::Annotations => workload
            .pod_metadata()
            .is_some_and(|m| m.contains_key("annotations")),
        other => other
            .list()
            .is_some_and(|l| list_field_present(workload.pod_spec(), &l)),
    }
}

fn edit_annotation(workload: &mut Workload<'_>, edit: &AnnotationEdit) {
    let map = workload
        .pod_metadata_if_any_mut()
        .and_then(|m| m.get_mut("annotations"))
        .and_then(Value::as_object_mut);
    match (edit, map) {
        (AnnotationEdit::Set { key, value }, Some(map)) => {
            map.insert(key.clone(), Value::String(value.clone()));
        }
        (AnnotationEdit::Remove { key }, Some(map)) => {
            map.remove(key);
        }
        (_, None) => {}
    }
}

/// Deletes the list or map `created` names if it is empty, or sets it back to null when it
/// was there with a null value before (`to_null`).
fn drop_if_empty(workload: &mut Workload<'_>, created: &Created, to_null: bool) {
    match created {
        Created::Annotations => {
            if let Some(meta) = workload.pod_metadata_if_any_mut()
                && podspec::is_empty(meta.get("annotations"))
            {
                match to_null {
                    true => meta.insert("annotations".into(), Value::Null),
                    false => meta.remove("annotations"),
                };
            }
        }
        Created::Metadata => workload.drop_empty_pod_metadata(),
        other => {
            if let Some(list) = other.list() {
                podspec::drop_list_if_empty(workload, &list, to_null);
            }
        }
    }
}

/// True when the list or map `created` names is there with a null value (`volumes:`).
pub(super) fn is_null(workload: &Workload<'_>, created: &Created) -> bool {
    let value = match created {
        Created::Annotations => workload.pod_metadata().and_then(|m| m.get("annotations")),
        Created::Metadata => None,
        other => other
            .list()
            .and_then(|l| list_holder(workload.pod_spec(), &l).and_then(|h| h.get(l.key()))),
    };
    matches!(value, Some(Value::Null))
}

/// The helper lists: where helpers of a plan may sit.
pub(super) const HELPER_LISTS: [PodList; 2] = [PodList::Containers, PodList::InitContainers];
