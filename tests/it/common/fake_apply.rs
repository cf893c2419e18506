//! The fake API server's writes: a server-side apply as the real server answers it (a stale
//! `resourceVersion` and field-ownership conflicts as 409s in the recorded bodies' shape, `force`
//! taking fields over, creation of a missing object, defaults, `422 Invalid` for an object the
//! real server refuses, dry runs), other clients' non-apply writes, and `managedFields`.

use serde_json::{Value, json};

use super::fake_api::{State, not_found, status};
use super::fake_defaults::{default_deployment, invalid};
use super::fake_ssa::{
    FieldPath, config_of, delete, display, fields_v1, get, is_atomic, merge, paths,
};

type Key = (String, String);

/// The server-side apply of one manager's configuration (an HTTP PATCH).
pub(super) fn apply(
    st: &mut State,
    req: &super::fake_api::Request,
    ns: &str,
    name: &str,
) -> (u16, Value) {
    let key = (ns.to_string(), name.to_string());
    let content_type = req.headers.get("content-type").map(String::as_str);
    if !matches!(
        content_type,
        Some("application/apply-patch+yaml" | "application/json-patch+json")
    ) {
        return status(
            415,
            "UnsupportedMediaType",
            "only server-side apply and JSON Patch are served",
        );
    }
    if let Some(Some(mut change)) = st.interference.pop_front()
        && let Some(d) = st.deployments.get_mut(&key)
    {
        change(d);
        st.resource_version += 1;
        d["metadata"]["resourceVersion"] = json!(st.resource_version.to_string());
    }
    if content_type == Some("application/json-patch+json") {
        return super::fake_update::json_patch(st, req, &key);
    }
    let Some(manager) = req.param("fieldManager").map(str::to_string) else {
        return status(422, "Invalid", "fieldManager is required for apply patch");
    };
    let Ok(config) = serde_json::from_str::<Value>(&req.body) else {
        return status(400, "BadRequest", "the body is not JSON");
    };
    let force = req.param("force") == Some("true");
    let dry = req.param("dryRun") == Some("All");
    apply_config(st, &key, &manager, &config, force, dry)
}

/// The paths of `owned` no other path goes deeper than: the fields holding values.
fn leaves(owned: &std::collections::BTreeSet<FieldPath>) -> Vec<&FieldPath> {
    owned
        .iter()
        .filter(|p| !owned.iter().any(|q| q.len() > p.len() && q.starts_with(p)))
        .collect()
}

/// Applies `config` as `manager` to the object `key` (created when missing).
pub(super) fn apply_config(
    st: &mut State,
    key: &Key,
    manager: &str,
    config: &Value,
    force: bool,
    dry: bool,
) -> (u16, Value) {
    let name = key.1.as_str();
    let stored = st.deployments.get(key).cloned();
    if let (Some(rv), Some(stored)) = (config.pointer("/metadata/resourceVersion"), &stored)
        && Some(rv) != stored.pointer("/metadata/resourceVersion")
    {
        return stale(name);
    }
    if stored.is_none() && config.pointer("/metadata/resourceVersion").is_some() {
        return not_found(name);
    }
    let mut owners = st.owners.get(key).cloned().unwrap_or_default();
    let wanted = config_of(config);
    let new_paths = paths(&wanted);
    let current = stored.as_ref().map(config_of).unwrap_or(Value::Null);
    let mut conflicts: Vec<(String, FieldPath)> = Vec::new();
    for path in leaves(&new_paths) {
        let want = get(&wanted, path);
        // An empty map holds no value (`metadata: {}`); only values and atomic fields conflict.
        if want.is_some_and(|w| w.is_object() && !is_atomic(path)) {
            continue;
        }
        if get(&current, path).is_none_or(|have| Some(have) == want) {
            continue;
        }
        for (other, set) in &owners {
            if other != manager && set.contains(path) {
                conflicts.push((other.clone(), path.clone()));
            }
        }
    }
    if !conflicts.is_empty() && !force {
        return conflict(&conflicts);
    }
    for (other, path) in &conflicts {
        if let Some(set) = owners.get_mut(other) {
            set.retain(|p| !p.starts_with(path));
        }
    }
    let old_paths = owners.get(manager).cloned().unwrap_or_default();
    let mut result = stored.clone().unwrap_or_else(|| {
        json!({"apiVersion": config["apiVersion"], "kind": config["kind"],
               "metadata": {"name": name, "namespace": key.0}})
    });
    for gone in old_paths.difference(&new_paths) {
        let shared = owners
            .iter()
            .any(|(m, set)| m != manager && set.contains(gone));
        if !shared {
            delete(&mut result, gone);
        }
    }
    merge(&mut result, &wanted);
    default_deployment(&mut result);
    if let Some(refusal) = invalid(&result, stored.as_ref(), name) {
        return (422, refusal);
    }
    stamp(st, &mut result, stored.as_ref());
    if dry {
        return (200, result);
    }
    owners.insert(manager.to_string(), new_paths);
    st.owners.insert(key.clone(), owners);
    st.deployments.insert(key.clone(), result);
    set_managed_fields(st, key);
    (200, st.deployments[key].clone())
}

/// A stale `resourceVersion`, as in ssa-stale-resourceversion-409.json.
pub(super) fn stale(name: &str) -> (u16, Value) {
    let (code, mut body) = status(
        409,
        "Conflict",
        &format!(
            "Operation cannot be fulfilled on deployments.apps \"{name}\": the object has been modified; please apply your changes to the latest version and try again"
        ),
    );
    body["details"] = json!({"name": name, "group": "apps", "kind": "deployments"});
    (code, body)
}

/// Server-set metadata and status: a new object gets its identity and a finished rollout; a
/// changed one a new resourceVersion, and a new generation when its spec changed.
pub(super) fn stamp(st: &mut State, result: &mut Value, stored: Option<&Value>) {
    let Some(stored) = stored else {
        st.resource_version += 1;
        let name = result["metadata"]["name"].clone();
        result["metadata"]["resourceVersion"] = json!(st.resource_version.to_string());
        result["metadata"]["generation"] = json!(1);
        result["metadata"]["uid"] = json!(format!("uid-{}", name.as_str().unwrap_or_default()));
        result["metadata"]["creationTimestamp"] = json!("2025-01-01T00:00:00Z");
        let replicas = result["spec"]["replicas"].as_i64().unwrap_or(1);
        result["status"] = json!({"observedGeneration": 1, "replicas": replicas,
            "updatedReplicas": replicas, "readyReplicas": replicas, "availableReplicas": replicas});
        return;
    };
    if result == stored {
        return;
    }
    st.resource_version += 1;
    result["metadata"]["resourceVersion"] = json!(st.resource_version.to_string());
    if result["spec"] != stored["spec"] {
        let generation = stored["metadata"]["generation"].as_i64().unwrap_or(1);
        result["metadata"]["generation"] = json!(generation + 1);
        let observed = if st.rollout.is_empty() {
            generation + 1
        } else {
            generation
        };
        result["status"]["observedGeneration"] = json!(observed);
        let key = (
            result["metadata"]["namespace"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
            result["metadata"]["name"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
        );
        if !st.rollout.is_empty() {
            st.rolling.push(key);
        }
    }
}

/// A field-ownership conflict, in the shape of ssa-conflict-409.json.
fn conflict(conflicts: &[(String, FieldPath)]) -> (u16, Value) {
    let lines: Vec<String> = conflicts
        .iter()
        .map(|(m, p)| format!("conflict with \"{m}\": {}", display(p)))
        .collect();
    let message = match lines.as_slice() {
        [one] => format!("Apply failed with 1 conflict: {one}"),
        many => format!(
            "Apply failed with {} conflicts: {}",
            many.len(),
            many.join("\n")
        ),
    };
    let (code, mut body) = status(409, "Conflict", &message);
    let causes: Vec<Value> = conflicts
        .iter()
        .map(|(m, p)| {
            json!({"reason": "FieldManagerConflict",
            "message": format!("conflict with \"{m}\""), "field": display(p)})
        })
        .collect();
    body["details"] = json!({"causes": causes});
    (code, body)
}

/// A write that is not an apply, as `manager` (see `FakeApi::update`).
pub(super) fn update(st: &mut State, key: &Key, manager: &str, change: impl FnOnce(&mut Value)) {
    let Some(stored) = st.deployments.get(key).cloned() else {
        panic!("no deployment {key:?}");
    };
    let mut result = stored.clone();
    change(&mut result);
    let before = paths(&config_of(&stored));
    let after = paths(&config_of(&result));
    let owners = st.owners.entry(key.clone()).or_default();
    for set in owners.values_mut() {
        set.retain(|p| after.contains(p));
    }
    let added: Vec<FieldPath> = after.difference(&before).cloned().collect();
    owners.entry(manager.to_string()).or_default().extend(added);
    stamp(st, &mut result, Some(&stored));
    st.deployments.insert(key.clone(), result);
    set_managed_fields(st, key);
}

/// The managers kubectl writes as with other operations than apply.
const UPDATERS: &[&str] = &[
    "kubectl-create",
    "kubectl-patch",
    "kubectl-edit",
    "kubectl-rollout",
];

/// metadata.managedFields from the ownership table, as the real server writes them.
pub(super) fn set_managed_fields(st: &mut State, key: &Key) {
    let entries: Vec<Value> = st.owners[key]
        .iter()
        .filter(|(_, set)| !set.is_empty())
        .map(|(m, set)| {
            let operation = if UPDATERS.contains(&m.as_str()) || st.update_managers.contains(m) {
                "Update"
            } else {
                "Apply"
            };
            json!({"manager": m, "operation": operation, "apiVersion": "apps/v1",
                   "time": "2025-01-01T00:00:00Z", "fieldsType": "FieldsV1",
                   "fieldsV1": fields_v1(set)})
        })
        .chain(
            st.subresource_entries
                .get(key)
                .into_iter()
                .flatten()
                .cloned(),
        )
        .collect();
    if let Some(d) = st.deployments.get_mut(key) {
        d["metadata"]["managedFields"] = Value::Array(entries);
    }
}
