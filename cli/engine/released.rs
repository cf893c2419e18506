//! What a server-side apply of the patterns' fields lets go of, named as the API server names
//! fields in `managedFields` (so the caller can ask who else owns them), and whether a live
//! object already holds everything an apply configuration would set (so an unchanged re-apply
//! sends nothing).

use serde_json::{Map, Value};

use super::podspec::{self, ItemRef, ListRef};
use super::tracking::{self, AppliedRecord, TRACKING_ANNOTATION, TrackingError};
use super::workload::{NotAWorkload, Workload};

/// One step of a field path in `managedFields` (`fieldsV1`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// A field of a map: `f:NAME`.
    Field(String),
    /// An item of a keyed list: `k:{"FIELD":"VALUE"}`.
    Key {
        /// The key field (`name`, `mountPath`).
        field: &'static str,
        /// Its value.
        value: String,
    },
}

/// A field the apply stops claiming: what it is, and its path from the object's root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReleasedField {
    /// `initContainers[name=log-shipper]`, `annotations[pattern.kubectl.io/applied]`.
    pub what: String,
    /// The path in `fieldsV1`.
    pub path: Vec<Step>,
}

/// Why the released fields cannot be named.
#[derive(Debug, thiserror::Error)]
pub enum ReleasedError {
    /// The object has no pod template.
    #[error(transparent)]
    NotAWorkload(#[from] NotAWorkload),
    /// The tracking annotation is unreadable.
    #[error(transparent)]
    Tracking(#[from] TrackingError),
}

/// The fields the records of `manager` (`None`: of every instance) claim in `before` and no
/// longer claim in `after`: helpers, volumes, mounts and env on app containers, pod
/// annotations, and the tracking annotation once no record of the manager is left.
pub fn released(
    before: &Value,
    after: &Value,
    manager: Option<&str>,
) -> Result<Vec<ReleasedField>, ReleasedError> {
    let mut before_copy = before.clone();
    let old_w = Workload::new(&mut before_copy)?;
    let mut after_copy = after.clone();
    let new_w = Workload::new(&mut after_copy)?;
    let mine = |records: Vec<AppliedRecord>| -> Vec<AppliedRecord> {
        records
            .into_iter()
            .filter(|r| manager.is_none_or(|m| r.field_manager() == m))
            .collect()
    };
    let old = mine(tracking::read(&old_w)?);
    let new = mine(tracking::read(&new_w)?);
    let spec = old_w.pod_spec();
    let mut out = Vec::new();
    let mut push = |field: ReleasedField| {
        if !out.contains(&field) {
            out.push(field);
        }
    };
    let prefix = template_prefix(&old_w);
    let kept = |f: &dyn Fn(&AppliedRecord) -> bool| new.iter().any(f);
    for record in &old {
        for name in record.helpers() {
            if kept(&|r| r.owns_container(name)) {
                continue;
            }
            if let Some(list) = podspec::container_list(spec, name) {
                push(item_field(&prefix, &ItemRef::new(ListRef::Pod(list), name)));
            }
        }
        for item in record.volume_items().chain(record.wiring_items()) {
            let still = new
                .iter()
                .any(|r| r.volume_items().chain(r.wiring_items()).any(|i| i == item));
            if !still && item.find(spec).is_some() {
                push(item_field(&prefix, &item));
            }
        }
        for key in &record.annotations {
            if !kept(&|r| r.annotations.contains(key)) {
                push(annotation_field(&prefix, key));
            }
        }
    }
    if !old.is_empty() && new.is_empty() {
        push(annotation_field(&prefix, TRACKING_ANNOTATION));
    }
    Ok(out)
}

/// The path of the pod template (`spec.template` of a Deployment, the root of a Pod).
fn template_prefix(w: &Workload<'_>) -> Vec<Step> {
    w.kind()
        .template_path()
        .iter()
        .map(|k| Step::Field((*k).to_string()))
        .collect()
}

fn annotation_field(prefix: &[Step], key: &str) -> ReleasedField {
    let mut path = prefix.to_vec();
    path.extend(["metadata", "annotations", key].map(|k| Step::Field(k.to_string())));
    ReleasedField {
        what: format!("annotations[{key}]"),
        path,
    }
}

fn item_field(prefix: &[Step], item: &ItemRef) -> ReleasedField {
    let mut path = prefix.to_vec();
    path.push(Step::Field("spec".into()));
    let what = match &item.list {
        ListRef::Pod(list) => {
            path.push(Step::Field(list.key().into()));
            format!("{}[name={}]", list.key(), item.key)
        }
        ListRef::Container {
            in_list,
            container,
            list,
        } => {
            path.push(Step::Field(in_list.key().into()));
            path.push(Step::Key {
                field: "name",
                value: container.clone(),
            });
            path.push(Step::Field(list.key().into()));
            format!(
                "{}[name={container}].{}[{}={}]",
                in_list.key(),
                list.key(),
                list.id_field(),
                item.key
            )
        }
    };
    path.push(Step::Key {
        field: item.list.id_field(),
        value: item.key.clone(),
    });
    ReleasedField { what, path }
}

/// True when `live` already holds every field of the apply configuration `config`: maps hold
/// its keys, keyed lists (containers, volumes, env, mounts, ports) an item with each of its
/// items' keys, everything else is equal. Fields the API server filled in (defaults such as
/// `terminationMessagePath`) are extra in `live` and do not count: applying `config` would
/// change nothing.
pub fn contains(live: &Value, config: &Value) -> bool {
    match (live, config) {
        (Value::Object(have), Value::Object(want)) => want
            .iter()
            .all(|(k, v)| have.get(k).is_some_and(|h| contains(h, v))),
        (Value::Array(have), Value::Array(want)) if want.iter().all(Value::is_object) => {
            want.iter().all(|w| {
                have.iter()
                    .find(|h| same_item(h, w))
                    .is_some_and(|h| contains(h, w))
            })
        }
        _ => live == config,
    }
}

/// Two items of a keyed list are the same item when their key fields agree.
fn same_item(have: &Value, want: &Value) -> bool {
    let key = |v: &Value, field: &str| v.get(field).cloned();
    for field in ["name", "mountPath", "containerPort"] {
        if let Some(w) = key(want, field) {
            return key(have, field) == Some(w);
        }
    }
    have == want
}

/// The pod template of `object` as JSON (`None` when it is not a workload): what the engine
/// reads to decide.
pub fn pod_template(object: &Value) -> Option<Map<String, Value>> {
    let mut copy = object.clone();
    let w = Workload::new(&mut copy).ok()?;
    let mut out = Map::new();
    out.insert("spec".into(), Value::Object(w.pod_spec().clone()));
    if let Some(meta) = w.pod_metadata() {
        out.insert("metadata".into(), Value::Object(meta.clone()));
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn server_defaults_do_not_make_a_difference_but_a_changed_value_does() {
        let live = json!({"spec": {"containers": [
            {"name": "web", "image": "nginx:1.27.3", "imagePullPolicy": "IfNotPresent",
             "ports": [{"containerPort": 80, "protocol": "TCP"}],
             "args": ["-a", "-b"]}]}});
        let config = json!({"spec": {"containers": [
            {"name": "web", "ports": [{"containerPort": 80}], "args": ["-a", "-b"]}]}});
        assert!(contains(&live, &config));
        let reordered = json!({"spec": {"containers": [{"name": "web", "args": ["-b", "-a"]}]}});
        assert!(!contains(&live, &reordered), "atomic lists compare whole");
        let missing = json!({"spec": {"containers": [{"name": "helper"}]}});
        assert!(!contains(&live, &missing));
        let other = json!({"spec": {"containers": [{"name": "web", "image": "nginx:1.28"}]}});
        assert!(!contains(&live, &other));
    }
}
