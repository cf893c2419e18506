//! The fake API server's JSON Patch (`application/json-patch+json`): an Update as the real
//! server makes it (`handlers/patch.go`, the field manager's Update and structured-merge-diff's
//! `Updater.Update`): the RFC 6902 operations on the stored object, a 409 when the patched
//! `resourceVersion` is not the stored one, and `managedFields`: the request's own
//! managedFields become the base when it carries any; leaf fields the patch changed (added or
//! modified) go to the `(fieldManager, Update)` entry and leave the other entries; removed
//! fields leave every entry; entries left empty are dropped.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};

use super::fake_api::{FakeApi, Request, State, not_found, status};
use super::fake_apply::{set_managed_fields, stale, stamp};
use super::fake_defaults::{default_deployment, invalid};
use super::fake_ssa::{FieldPath, Step, config_of, get, paths};
use super::json_patch::{Op, apply_patch};

type Key = (String, String);
type Owners = BTreeMap<String, BTreeSet<FieldPath>>;

/// A JSON Patch of the object `key` (after any interference).
pub(super) fn json_patch(st: &mut State, req: &Request, key: &Key) -> (u16, Value) {
    let name = key.1.as_str();
    let Some(stored) = st.deployments.get(key).cloned() else {
        return not_found(name);
    };
    let ops = match parse_ops(&req.body) {
        Ok(ops) => ops,
        Err(e) => return status(400, "BadRequest", &e),
    };
    let mut result = stored.clone();
    match apply_patch(&mut result, &ops) {
        Ok(true) => {}
        Ok(false) => return status(422, "Invalid", "the patch's test operation failed"),
        Err(e) => return status(422, "Invalid", &e),
    }
    if result.pointer("/metadata/resourceVersion") != stored.pointer("/metadata/resourceVersion") {
        return stale(name);
    }
    // The manager the real server derives from the user agent when none is given.
    let manager = req.param("fieldManager").unwrap_or("unknown").to_string();
    let mut owners = base(st, key, &result);
    update_owners(&mut owners, &stored, &result, &manager);
    if let Some(meta) = result.get_mut("metadata").and_then(Value::as_object_mut) {
        meta.remove("managedFields");
    }
    default_deployment(&mut result);
    if let Some(refusal) = invalid(&result, Some(&stored), name) {
        return (422, refusal);
    }
    let mut compared = stored.clone();
    if let Some(meta) = compared.get_mut("metadata").and_then(Value::as_object_mut) {
        meta.remove("managedFields");
    }
    stamp(st, &mut result, Some(&compared));
    if owners != st.owners.get(key).cloned().unwrap_or_default()
        && result["metadata"]["resourceVersion"] == stored["metadata"]["resourceVersion"]
    {
        // Only managedFields changed: still a write.
        st.resource_version += 1;
        result["metadata"]["resourceVersion"] = json!(st.resource_version.to_string());
    }
    if req.param("dryRun") == Some("All") {
        result["metadata"]["managedFields"] = stored["metadata"]["managedFields"].clone();
        return (200, result);
    }
    st.update_managers.insert(manager);
    st.owners.insert(key.clone(), owners);
    st.deployments.insert(key.clone(), result);
    set_managed_fields(st, key);
    (200, st.deployments[key].clone())
}

fn parse_ops(body: &str) -> Result<Vec<Op>, String> {
    let ops: Vec<Value> =
        serde_json::from_str(body).map_err(|e| format!("the body is not a JSON Patch: {e}"))?;
    ops.into_iter()
        .map(|o| {
            Ok(Op {
                op: o["op"].as_str().ok_or("an operation without op")?.into(),
                path: o["path"]
                    .as_str()
                    .ok_or("an operation without path")?
                    .into(),
                value: o.get("value").cloned(),
            })
        })
        .collect()
}

/// The ownership the Update starts from: the request's managedFields when it carries any (the
/// real server decodes them as the new base), else the stored ownership.
fn base(st: &mut State, key: &Key, patched: &Value) -> Owners {
    let sent = patched
        .pointer("/metadata/managedFields")
        .and_then(Value::as_array)
        .filter(|entries| !entries.is_empty());
    match sent {
        Some(entries)
            if Some(&Value::Array(entries.clone()))
                != st.deployments[key].pointer("/metadata/managedFields") =>
        {
            owners_of(st, key, entries)
        }
        _ => st.owners.get(key).cloned().unwrap_or_default(),
    }
}

/// The ownership table of the object `key`'s managedFields entries (Update entries remembered
/// as such); the subresources' entries are kept aside as they are.
pub(super) fn owners_of(st: &mut State, key: &Key, entries: &[Value]) -> Owners {
    let (subresources, entries): (Vec<Value>, Vec<Value>) =
        (entries.iter().cloned()).partition(|e| e.get("subresource").is_some());
    st.subresource_entries.insert(key.clone(), subresources);
    let mut owners = Owners::new();
    for e in &entries {
        let manager = e["manager"].as_str().unwrap_or_default().to_string();
        if e["operation"] == "Update" {
            st.update_managers.insert(manager.clone());
        }
        let set = owners.entry(manager).or_default();
        collect_fields(&e["fieldsV1"], &mut Vec::new(), set);
    }
    owners.retain(|_, set| !set.is_empty());
    owners
}

/// The paths of a `fieldsV1` set, every prefix included (as `fake_ssa::paths` has them).
fn collect_fields(node: &Value, at: &mut FieldPath, out: &mut BTreeSet<FieldPath>) {
    let Some(map) = node.as_object() else {
        return;
    };
    for (k, child) in map {
        let step = if let Some(field) = k.strip_prefix("f:") {
            Step::Key(field.to_string())
        } else if let Some(key) = k.strip_prefix("k:") {
            let key: Value = serde_json::from_str(key).unwrap_or(Value::Null);
            Step::Item(
                match (&key["containerPort"], &key["mountPath"], &key["name"]) {
                    (Value::Number(port), _, _) => {
                        format!("{port}/{}", key["protocol"].as_str().unwrap_or("TCP"))
                    }
                    (_, Value::String(path), _) => path.clone(),
                    (_, _, Value::String(name)) => name.clone(),
                    _ => key.to_string(),
                },
            )
        } else {
            continue; // `.`: the item itself, which its path already is
        };
        at.push(step);
        out.insert(at.clone());
        collect_fields(child, at, out);
        at.pop();
    }
}

/// structured-merge-diff's Update: removed fields leave every manager; changed leaves leave
/// the others and go to `manager`; managers left with nothing are dropped.
fn update_owners(owners: &mut Owners, before: &Value, after: &Value, manager: &str) {
    let (old, new) = (config_of(before), config_of(after));
    let (old_paths, new_paths) = (paths(&old), paths(&new));
    let changed: Vec<FieldPath> = new_paths
        .iter()
        .filter(|p| {
            !new_paths
                .iter()
                .any(|q| q.len() > p.len() && q.starts_with(p))
        })
        .filter(|p| get(&old, p) != get(&new, p))
        .cloned()
        .collect();
    for set in owners.values_mut() {
        set.retain(|p| !old_paths.contains(p) || new_paths.contains(p));
    }
    for (other, set) in owners.iter_mut() {
        if other != manager {
            for path in &changed {
                take(set, path);
            }
        }
    }
    let mine = owners.entry(manager.to_string()).or_default();
    for path in &changed {
        for len in 1..=path.len() {
            mine.insert(path[..len].to_vec());
        }
    }
    owners.retain(|_, set| !set.is_empty());
}

/// Removes `path` from `set`, and the maps above it left with nothing (a list item keeps its
/// own `.`).
fn take(set: &mut BTreeSet<FieldPath>, path: &[Step]) {
    if !set.remove(path) {
        return;
    }
    for len in (1..path.len()).rev() {
        let parent = &path[..len];
        let below = set
            .iter()
            .any(|q| q.len() > parent.len() && q.starts_with(parent));
        if below || matches!(parent.last(), Some(Step::Item(_))) {
            return;
        }
        set.remove(parent);
    }
}

impl FakeApi {
    /// Stores a Deployment with the managedFields it carries as its ownership (a recorded
    /// object), instead of `insert`'s `kubectl-create` owning everything.
    pub fn insert_managed(&self, deployment: Value) {
        let entries = deployment["metadata"]["managedFields"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let key = (
            deployment["metadata"]["namespace"]
                .as_str()
                .unwrap_or("shop")
                .to_string(),
            deployment["metadata"]["name"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
        );
        self.insert(deployment);
        let mut st = self.lock();
        let owners = owners_of(&mut st, &key, &entries);
        st.owners.insert(key.clone(), owners);
        set_managed_fields(&mut st, &key);
    }

    /// A JSON Patch by another client as `manager`: the server's answer.
    pub fn json_patch_as(&self, manager: &str, name: &str, ops: Value, dry: bool) -> (u16, Value) {
        let mut query = BTreeMap::from([("fieldManager".to_string(), manager.to_string())]);
        if dry {
            query.insert("dryRun".into(), "All".into());
        }
        let req = Request {
            method: "PATCH".into(),
            path: format!("/apis/apps/v1/namespaces/shop/deployments/{name}"),
            query,
            headers: BTreeMap::from([(
                "content-type".to_string(),
                "application/json-patch+json".to_string(),
            )]),
            body: ops.to_string(),
        };
        let mut st = self.lock();
        json_patch(&mut st, &req, &("shop".to_string(), name.to_string()))
    }
}

#[cfg(test)]
#[path = "fake_update_tests.rs"]
mod tests;
