//! Migrating a live object through an Update, then handing the new pattern instances' fields
//! to their server-side apply manager: the pure parts.
//!
//! Server-side apply cannot delete fields other managers own (a `gitRepo` volume the user
//! created), so a migration writes with a JSON Patch (an Update: the server gives each changed
//! leaf field to the patch's manager and takes it from the others). Then an apply as the
//! record's manager claims the instances' fields, and a JSON Patch of `metadata.managedFields`
//! prunes the instances' fields from every other manager, so a later `remove` lets go of them
//! alone; the Update's manager keeps only what no instance owns (a renamed mount of another
//! container), and goes when that is nothing. This module builds those patches; the HTTP is in the
//! cluster crate.

use serde_json::{Map, Value, json};

use super::gitrepo::PATTERN as GIT_CLONE;
use super::process::{Action, ObjectError, RemoveAction};
use super::released::{self, ReleasedError, ReleasedField, Step};
use super::tracking;
use super::workload::Workload;

/// The field manager of the migration's Update (dropped from `managedFields` afterwards).
pub const MIGRATE_FIELD_MANAGER: &str = "kubectl-pattern-migrate";

/// Why the instances' fields cannot be named.
#[derive(Debug, thiserror::Error)]
pub enum HandoverError {
    /// Removing the instances from a copy failed.
    #[error(transparent)]
    Remove(#[from] ObjectError),
    /// The released fields could not be named.
    #[error(transparent)]
    Released(#[from] ReleasedError),
}

/// JSON Patch operations (RFC 6902) that take `live` to `edited`: first `replace
/// /metadata/resourceVersion` with `resource_version` (the server refuses a stale one with a
/// 409), then, map by map, `add`, `replace` or `remove` of each member that differs; lists
/// (containers, volumes…) are replaced whole. `status`, `metadata.managedFields` and
/// `metadata.resourceVersion` are left out of the comparison.
pub fn json_patch(live: &Value, edited: &Value, resource_version: Option<&str>) -> Vec<Value> {
    let mut ops = Vec::new();
    if let Some(rv) = resource_version {
        ops.push(json!({"op": "replace", "path": "/metadata/resourceVersion", "value": rv}));
    }
    diff(&comparable(live), &comparable(edited), "", &mut ops);
    ops
}

/// The object without what the server keeps itself.
fn comparable(object: &Value) -> Value {
    let mut copy = object.clone();
    if let Some(o) = copy.as_object_mut() {
        o.remove("status");
    }
    if let Some(meta) = copy.get_mut("metadata").and_then(Value::as_object_mut) {
        meta.remove("managedFields");
        meta.remove("resourceVersion");
    }
    copy
}

fn diff(live: &Value, edited: &Value, at: &str, ops: &mut Vec<Value>) {
    let (Value::Object(old), Value::Object(new)) = (live, edited) else {
        if live != edited {
            ops.push(json!({"op": "replace", "path": at, "value": edited}));
        }
        return;
    };
    for (key, value) in new {
        let path = format!("{at}/{}", escape(key));
        match old.get(key) {
            None => ops.push(json!({"op": "add", "path": path, "value": value})),
            Some(before) => diff(before, value, &path, ops),
        }
    }
    for key in old.keys().filter(|k| !new.contains_key(*k)) {
        ops.push(json!({"op": "remove", "path": format!("{at}/{}", escape(key))}));
    }
}

/// A JSON Pointer reference token (RFC 6901): `~` as `~0`, `/` as `~1`.
pub(crate) fn escape(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

/// The fields of `instances` in `object` as `manager`'s records claim them: what removing
/// those instances would let go of.
pub fn instance_fields(
    object: &Value,
    instances: &[String],
    manager: &str,
) -> Result<Vec<ReleasedField>, HandoverError> {
    let mut without = object.clone();
    RemoveAction {
        names: instances.to_vec(),
    }
    .run(&mut without)?;
    Ok(released::released(object, &without, Some(manager))?)
}

/// A hand-over an earlier run left unfinished (it stopped between the migration's Update and
/// the end of step 3): the manager and the git-clone instances of that manager whose helper
/// container the migration's Update entry still owns. `None` when there is none.
pub fn unfinished(object: &Value) -> Result<Option<(String, Vec<String>)>, HandoverError> {
    let entries = object
        .pointer("/metadata/managedFields")
        .and_then(Value::as_array);
    let Some(set) = (entries.into_iter().flatten())
        .find(|e| {
            e.get("manager").and_then(Value::as_str) == Some(MIGRATE_FIELD_MANAGER)
                && e.get("operation").and_then(Value::as_str) == Some("Update")
                && e.get("subresource").is_none()
        })
        .and_then(|e| e.get("fieldsV1"))
    else {
        return Ok(None);
    };
    let mut copy = object.clone();
    let records = (Workload::new(&mut copy).ok())
        .and_then(|w| tracking::read(&w).ok())
        .unwrap_or_default();
    let mut pending: Option<(String, Vec<String>)> = None;
    for record in records.iter().filter(|r| r.pattern == GIT_CLONE) {
        let manager = record.field_manager();
        if pending.as_ref().is_some_and(|(m, _)| m != manager) {
            continue;
        }
        let fields = instance_fields(object, std::slice::from_ref(&record.instance), manager)?;
        if !fields
            .iter()
            .filter(|f| is_helper(f))
            .any(|f| holds(set, &f.path))
        {
            continue;
        }
        let (_, instances) = pending.get_or_insert_with(|| (manager.to_string(), Vec::new()));
        instances.push(record.instance.clone());
    }
    Ok(pending)
}

/// A helper container: an item of `containers` or `initContainers`.
fn is_helper(field: &ReleasedField) -> bool {
    matches!(field.path.as_slice(), [.., Step::Field(list), Step::Key { .. }]
        if list == "initContainers" || list == "containers")
}

/// True when the `fieldsV1` set holds the field at `path`.
fn holds(set: &Value, path: &[Step]) -> bool {
    let Some((step, rest)) = path.split_first() else {
        return true;
    };
    (set.as_object().into_iter().flatten())
        .any(|(key, child)| step_matches(key, step) && holds(child, rest))
}

/// `managedFields` after the hand-over: `fields` pruned from every entry but `keeper`'s Apply
/// entry and the subresources' (status), and entries left with no field dropped. The
/// `(drop, Update)` entry also loses every field the keeper's Apply owns as well: what stays
/// of it are the changes no instance owns (another container's mount of the converted volume,
/// renamed), so they keep an owner. An emptied parent map is removed too: in `fieldsV1` an
/// empty map means "owns this field".
pub fn hand_over(
    managed_fields: &[Value],
    keeper: &str,
    drop: &str,
    fields: &[ReleasedField],
) -> Vec<Value> {
    let text = |e: &Value, k: &str| e.get(k).and_then(Value::as_str).map(str::to_string);
    let is = |e: &Value, manager: &str, operation: &str| {
        text(e, "manager").as_deref() == Some(manager)
            && text(e, "operation").as_deref() == Some(operation)
            && e.get("subresource").is_none()
    };
    let kept = (managed_fields.iter())
        .find(|e| is(e, keeper, "Apply"))
        .and_then(|e| e.get("fieldsV1"));
    let mut out = Vec::new();
    for entry in managed_fields {
        if entry.get("subresource").is_some() || is(entry, keeper, "Apply") {
            out.push(entry.clone());
            continue;
        }
        let migration = is(entry, drop, "Update");
        let mut entry = entry.clone();
        if let Some(set) = entry.get_mut("fieldsV1") {
            for field in fields {
                prune(set, &field.path);
            }
            if let Some(kept) = kept.filter(|_| migration) {
                subtract(set, kept);
            }
            if set.as_object().is_some_and(Map::is_empty) {
                continue;
            }
        }
        out.push(entry);
    }
    out
}

/// Removes the field at `path` (with everything under it) from a `fieldsV1` set, and every
/// map on the way that this leaves empty; true when something was removed.
fn prune(set: &mut Value, path: &[Step]) -> bool {
    let Some((step, rest)) = path.split_first() else {
        return false;
    };
    let Some(map) = set.as_object_mut() else {
        return false;
    };
    let Some(key) = map.keys().find(|k| step_matches(k, step)).cloned() else {
        return false;
    };
    if rest.is_empty() {
        map.remove(&key);
        return true;
    }
    let Some(child) = map.get_mut(&key) else {
        return false;
    };
    let removed = prune(child, rest);
    if removed && child.as_object().is_some_and(Map::is_empty) {
        map.remove(&key);
    }
    removed
}

/// Removes from the `fieldsV1` set `set` every field `other` owns too (an empty map in both),
/// and every map this leaves empty; true when `set` is then empty.
fn subtract(set: &mut Value, other: &Value) -> bool {
    let (Some(map), Some(other)) = (set.as_object_mut(), other.as_object()) else {
        return false;
    };
    map.retain(|key, child| {
        let Some(theirs) = other.get(key) else {
            return true;
        };
        let leaf = |v: &Value| v.as_object().is_some_and(Map::is_empty);
        match (leaf(child), leaf(theirs)) {
            (true, true) => false,
            (false, false) => !subtract(child, theirs),
            _ => true,
        }
    });
    map.is_empty()
}

/// `f:NAME` names a map field; `k:{"name":"git-clone"}` the list item whose key field has
/// that value.
fn step_matches(key: &str, step: &Step) -> bool {
    match step {
        Step::Field(name) => key.strip_prefix("f:") == Some(name.as_str()),
        Step::Key { field, value } => key
            .strip_prefix("k:")
            .and_then(|json| serde_json::from_str::<Value>(json).ok())
            .is_some_and(|k| k.get(*field).and_then(Value::as_str) == Some(value.as_str())),
    }
}

#[cfg(test)]
#[path = "handover_tests.rs"]
mod tests;
