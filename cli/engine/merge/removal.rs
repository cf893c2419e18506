//! Planning the removal of an instance: exactly what its record lists comes out, the lists and
//! maps it created go once empty, and those still in use are handed to a remaining instance.

use serde_json::{Map, Value};

use super::MergeError;
use super::plan::{AnnotationEdit, HELPER_LISTS, Plan};
use crate::podspec::{ContainerList, ItemRef, ListRef};
use crate::tracking::{self, AppliedRecord, TRACKING_ANNOTATION};
use crate::workload::Workload;

/// The items of `record` present in `spec`: its helpers (in either pod list), its volumes and
/// every mount of them (a mount of a removed volume would make the pod invalid, even one added
/// by hand), its mounts and env vars on app containers.
pub(super) fn items_of(spec: &Map<String, Value>, record: &AppliedRecord) -> Vec<ItemRef> {
    let mut out: Vec<ItemRef> = Vec::new();
    let mut push = |item: ItemRef| {
        if item.find(spec).is_some() && !out.contains(&item) {
            out.push(item);
        }
    };
    for name in record.helpers() {
        for list in HELPER_LISTS {
            push(ItemRef::new(ListRef::Pod(list), name));
        }
    }
    for volume in record.volume_items() {
        for in_list in HELPER_LISTS {
            for c in ListRef::Pod(in_list).get(spec).into_iter().flatten() {
                let Some(container) = crate::podspec::name_of(c) else {
                    continue;
                };
                if record.owns_container(container) {
                    continue; // removed whole
                }
                let list = ListRef::Container {
                    in_list,
                    container: container.to_string(),
                    list: ContainerList::VolumeMounts,
                };
                let mounts = c.get("volumeMounts").and_then(Value::as_array);
                for m in mounts.into_iter().flatten() {
                    if crate::podspec::name_of(m) == Some(&volume.key)
                        && let Some(path) = list.key_of(m)
                    {
                        push(ItemRef::new(list.clone(), path));
                    }
                }
            }
        }
        push(volume);
    }
    for item in record.wiring_items() {
        push(item);
    }
    out
}

/// Plans removing the instance `instance`; `None` when it is not applied.
pub fn plan_remove(workload: &Workload<'_>, instance: &str) -> Result<Option<Plan>, MergeError> {
    let mut records = super::records(workload)?;
    let Some(index) = records.iter().position(|r| r.instance == instance) else {
        return Ok(None);
    };
    let record = records.remove(index);
    let mut plan = Plan {
        removals: items_of(workload.pod_spec(), &record),
        annotations: record
            .annotations
            .iter()
            .map(|key| AnnotationEdit::Remove { key: key.clone() })
            .collect(),
        ..Plan::default()
    };
    // The tracking annotation stays while instances remain (its text is set below).
    plan.annotations.push(match records.is_empty() {
        true => AnnotationEdit::Remove {
            key: TRACKING_ANNOTATION.into(),
        },
        false => AnnotationEdit::Set {
            key: TRACKING_ANNOTATION.into(),
            value: String::new(),
        },
    });
    // Delete what this instance created once it is empty; hand the rest to a remaining record.
    let mut markers = record.created.clone();
    markers.sort_by_key(tracking::Created::rank);
    let mut handed_over = Vec::new();
    for marker in markers {
        if plan.ends_empty(workload, &marker) {
            plan.drops.push(marker);
        } else {
            handed_over.push(marker);
        }
    }
    plan.to_null = (record.was_null.iter())
        .filter(|c| plan.drops.contains(c))
        .cloned()
        .collect();
    if let Some(last) = records.last_mut() {
        // The spellings go along: the null may come back when the remaining record goes.
        for (at, spelling) in &record.null_as {
            (last.null_as.entry(at.clone())).or_insert_with(|| spelling.clone());
        }
        for marker in handed_over {
            if record.was_null.contains(&marker) && !last.was_null.contains(&marker) {
                last.was_null.push(marker.clone());
            }
            if !last.created.contains(&marker) {
                last.created.push(marker);
            }
        }
    }
    if let Some(AnnotationEdit::Set { value, .. }) = plan.annotations.last_mut() {
        *value = tracking::encode(&records);
    }
    plan.record = record;
    plan.changed = plan.effective(workload);
    Ok(Some(plan))
}
