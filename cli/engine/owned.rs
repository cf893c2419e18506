//! The fields kubectl-pattern owns in a live object: the server-side apply configuration built
//! from the tracking records, so an apply claims the patterns' fields and nothing else.
//!
//! Server-side apply treats an apply configuration as the complete set of fields its manager
//! wants: fields the manager owned before and leaves out are deleted. So every apply sends the
//! fields of *all* pattern instances recorded on the object, and `remove` is simply an apply of
//! what remains. Lists are merged by their keys (containers, volumes and env by `name`, mounts
//! by `mountPath`), so an app container appears with only its name and the mounts and env the
//! patterns added. Each field is found through the records' items, named in the merge plan's
//! vocabulary (`ItemRef`: a pod list or an app container's list, and the item's key).

use serde_json::{Map, Value, json};

use super::podspec::{self, ContainerList, ItemRef, ListRef, PodList};
use super::tracking::{self, AppliedRecord, TRACKING_ANNOTATION, TrackingError};
use super::workload::{NotAWorkload, Workload};

/// Why no apply configuration can be built.
#[derive(Debug, thiserror::Error)]
pub enum OwnedError {
    /// The object has no pod template.
    #[error(transparent)]
    NotAWorkload(#[from] NotAWorkload),
    /// The tracking annotation is unreadable.
    #[error(transparent)]
    Tracking(#[from] TrackingError),
}

/// The apply configuration of `object` (a workload after the engine ran) for one field
/// manager: its identity and the fields of the pattern instances recorded with `manager`
/// (`None`: of every instance), read from the tracking annotation. With no such instance left it
/// holds only the identity, which releases every field the manager owned.
///
/// `before` is the object as read from the server. Server-side apply orders a merged list by
/// the applied list, anchored on the items both have: an item new to the list goes right before
/// the next item the configuration also names, or else after every item it does not name. So
/// the lists keep the object's order (the app container before a classic helper), and when a
/// new helper must go before items the patterns do not own (the app's own init containers),
/// those items are named too, by their key alone, as anchors. An anchor makes the manager
/// co-own that item's name until its next apply, which leaves the anchor out again.
pub fn apply_configuration(
    object: &Value,
    before: &Value,
    manager: Option<&str>,
) -> Result<Value, OwnedError> {
    let mut copy = object.clone();
    let workload = Workload::new(&mut copy)?;
    let all = tracking::read(&workload)?;
    let records: Vec<AppliedRecord> = all
        .iter()
        .filter(|r| manager.is_none_or(|m| r.field_manager() == m))
        .cloned()
        .collect();
    let spec = workload.pod_spec();
    let mut before_copy = before.clone();
    let before_spec = Workload::new(&mut before_copy)
        .map(|w| w.pod_spec().clone())
        .unwrap_or_default();

    let mut containers: Vec<Value> = Vec::new();
    let mut init_containers: Vec<Value> = Vec::new();
    let mut volumes: Vec<Value> = Vec::new();
    let mut annotations = Map::new();
    // Helpers: the whole container, wherever the merge placed it.
    for record in &records {
        for name in record.helpers() {
            let Some(list) = podspec::container_list(spec, name) else {
                continue;
            };
            let into = match list {
                PodList::InitContainers => &mut init_containers,
                _ => &mut containers,
            };
            push_found(into, &ItemRef::new(ListRef::Pod(list), name), spec);
        }
        for item in record.volume_items() {
            push_found(&mut volumes, &item, spec);
        }
        for key in &record.annotations {
            if let Some(v) = workload.pod_annotation(key) {
                annotations.insert(key.clone(), Value::String(v.to_string()));
            }
        }
    }
    containers.extend(app_containers(spec, &records));
    if !records.is_empty()
        && let Some(text) = workload.pod_annotation(TRACKING_ANNOTATION)
    {
        annotations.insert(TRACKING_ANNOTATION.into(), Value::String(text.to_string()));
    }

    let mut pod_spec = Map::new();
    for (list, items) in [
        (PodList::InitContainers, init_containers),
        (PodList::Containers, containers),
        (PodList::Volumes, volumes),
    ] {
        let items = in_object_order(spec, &before_spec, list, items);
        if !items.is_empty() {
            pod_spec.insert(list.key().into(), Value::Array(items));
        }
    }
    let mut template = Map::new();
    if !annotations.is_empty() {
        template.insert("metadata".into(), json!({ "annotations": annotations }));
    }
    if !pod_spec.is_empty() {
        template.insert("spec".into(), Value::Object(pod_spec));
    }
    Ok(wrap(object, &workload, template))
}

/// `items` (of the pod list `list`) in the order of the object's list, with anchors: when an
/// item is new to the list (absent from `before`), every item after it in the object that the
/// configuration does not name is named by its key alone, so the server puts the new item in
/// front of it (see `apply_configuration`).
fn in_object_order(
    spec: &Map<String, Value>,
    before: &Map<String, Value>,
    list: PodList,
    mut items: Vec<Value>,
) -> Vec<Value> {
    let list_ref = ListRef::Pod(list);
    let order = list_ref.keys(spec);
    let index = |v: &Value| {
        list_ref
            .key_of(v)
            .and_then(|k| order.iter().position(|o| *o == k))
            .unwrap_or(usize::MAX)
    };
    items.sort_by_key(|v| index(v));
    let old = list_ref.keys(before);
    let named: Vec<String> = items
        .iter()
        .filter_map(|v| list_ref.key_of(v).map(str::to_string))
        .collect();
    let first_new = order
        .iter()
        .position(|k| named.iter().any(|n| n == k) && !old.contains(k));
    if let Some(first) = first_new {
        for key in order.iter().skip(first + 1) {
            if !named.iter().any(|n| n == key) {
                items.push(json!({ "name": key }));
            }
        }
        items.sort_by_key(|v| index(v));
    }
    items
}

/// App containers: their name (the list key), and only the mounts and env the patterns added,
/// in the order the records first name each container.
fn app_containers(spec: &Map<String, Value>, records: &[AppliedRecord]) -> Vec<Value> {
    let items: Vec<ItemRef> = records.iter().flat_map(|r| r.wiring_items()).collect();
    let mut touched: Vec<&str> = Vec::new();
    for item in &items {
        if let ListRef::Container { container, .. } = &item.list
            && !touched.contains(&container.as_str())
        {
            touched.push(container);
        }
    }
    let mut out = Vec::new();
    for name in touched {
        if ItemRef::new(ListRef::Pod(PodList::Containers), name)
            .find(spec)
            .is_none()
        {
            continue;
        }
        let mut entry = Map::new();
        entry.insert("name".into(), Value::String(name.to_string()));
        for list in [ContainerList::VolumeMounts, ContainerList::Env] {
            let list_ref = ListRef::app(name, list);
            let found: Vec<Value> = items
                .iter()
                .filter(|i| i.list == list_ref)
                .filter_map(|i| i.find(spec).cloned())
                .collect();
            if !found.is_empty() {
                entry.insert(list.key().into(), Value::Array(found));
            }
        }
        out.push(Value::Object(entry));
    }
    out
}

/// The object's identity around `template`, nested where the kind keeps its pod template.
fn wrap(object: &Value, workload: &Workload<'_>, template: Map<String, Value>) -> Value {
    let mut metadata = Map::new();
    metadata.insert("name".into(), Value::String(workload.name().to_string()));
    let namespace = object
        .pointer("/metadata/namespace")
        .and_then(Value::as_str);
    if let Some(ns) = namespace {
        metadata.insert("namespace".into(), Value::String(ns.to_string()));
    }
    let mut out = Map::new();
    out.insert("apiVersion".into(), object["apiVersion"].clone());
    out.insert("kind".into(), object["kind"].clone());
    out.insert("metadata".into(), Value::Object(metadata));
    if !template.is_empty() {
        let mut at = Value::Object(template);
        for key in workload.kind().template_path().iter().rev() {
            at = json!({ *key: at });
        }
        // A Pod is its own template: its metadata and spec merge into the top level.
        if let Value::Object(parts) = at {
            for (key, value) in parts {
                match (out.get_mut(&key), value) {
                    (Some(Value::Object(existing)), Value::Object(more)) => existing.extend(more),
                    (_, value) => {
                        out.insert(key, value);
                    }
                }
            }
        }
    }
    Value::Object(out)
}

/// Adds the item `item` names, when the spec has it and it is not there yet.
fn push_found(list: &mut Vec<Value>, item: &ItemRef, spec: &Map<String, Value>) {
    if let Some(found) = item.find(spec)
        && !list.contains(found)
    {
        list.push(found.clone());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::process::{Action, RemoveAction};

    fn deployment() -> Value {
        json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "shop", "resourceVersion": "7",
                         "labels": {"app": "web"}},
            "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}},
                "template": {"metadata": {"labels": {"app": "web"}},
                    "spec": {"containers": [{"name": "web", "image": "nginx:1.27.3",
                        "env": [{"name": "MODE", "value": "prod"}]}]}}}
        })
    }

    fn add(object: &mut Value, id: &str, sets: &[(&str, &str)]) {
        assert!(crate::merge::tests::add_builtin(object, id, sets));
    }

    #[test]
    fn only_the_patterns_fields_are_claimed() {
        let mut object = deployment();
        add(&mut object, "log-shipper", &[]);
        let config = apply_configuration(&object, &object, None).unwrap();
        let template = &config["spec"]["template"];
        // Identity only at the top: no replicas, selector, labels or resourceVersion.
        assert_eq!(
            config["metadata"],
            json!({"name": "web", "namespace": "shop"})
        );
        assert_eq!(config["spec"].as_object().unwrap().len(), 1);
        assert!(template["metadata"].get("labels").is_none());
        // The app container: its name and the mount the pattern added, not its image or env.
        let app = &template["spec"]["containers"][0];
        assert_eq!(app["name"], "web");
        assert!(
            app.get("image").is_none() && app.get("env").is_none(),
            "{app}"
        );
        assert_eq!(app["volumeMounts"][0]["mountPath"], "/var/log/app");
        // The helper whole, and its volumes.
        let helper = &template["spec"]["initContainers"][0];
        assert_eq!(helper["name"], "log-shipper");
        assert_eq!(helper["restartPolicy"], "Always");
        assert!(helper.get("image").is_some());
        let volumes: Vec<&str> = template["spec"]["volumes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v["name"].as_str().unwrap())
            .collect();
        assert_eq!(volumes, ["log-shipper-logs", "log-shipper-state"]);
        assert!(
            template["metadata"]["annotations"][TRACKING_ANNOTATION]
                .as_str()
                .unwrap()
                .contains("log-shipper")
        );
    }

    #[test]
    fn every_instance_is_claimed_and_remove_releases_one() {
        let mut object = deployment();
        add(&mut object, "log-shipper", &[]);
        add(&mut object, "wait-for", &[("host", "db.shop.svc")]);
        let both = apply_configuration(&object, &object, None).unwrap();
        let inits = both["spec"]["template"]["spec"]["initContainers"]
            .as_array()
            .unwrap()
            .len();
        assert_eq!(inits, 2);
        RemoveAction {
            names: vec!["log-shipper".into()],
        }
        .run(&mut object)
        .unwrap();
        let left = apply_configuration(&object, &object, None).unwrap();
        let spec = &left["spec"]["template"]["spec"];
        assert_eq!(spec["initContainers"].as_array().unwrap().len(), 1);
        assert_eq!(spec["initContainers"][0]["name"], "wait-for");
        assert!(spec.get("volumes").is_none() && spec.get("containers").is_none());
    }

    #[test]
    fn with_nothing_applied_only_the_identity_is_sent() {
        let config = apply_configuration(&deployment(), &deployment(), None).unwrap();
        assert_eq!(
            config,
            json!({"apiVersion": "apps/v1", "kind": "Deployment",
                   "metadata": {"name": "web", "namespace": "shop"}})
        );
    }

    #[test]
    fn a_cronjob_nests_under_its_job_template_and_a_pod_at_the_top() {
        let mut cron = json!({"apiVersion": "batch/v1", "kind": "CronJob",
            "metadata": {"name": "nightly"},
            "spec": {"schedule": "0 3 * * *", "jobTemplate": {"spec": {"template": {"spec": {
                "restartPolicy": "Never",
                "containers": [{"name": "job", "image": "busybox:1.36"}]}}}}}});
        add(&mut cron, "wait-for", &[("host", "db")]);
        let config = apply_configuration(&cron, &cron, None).unwrap();
        assert!(
            config
                .pointer("/spec/jobTemplate/spec/template/spec/initContainers/0/name")
                .is_some()
        );
        let mut pod = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
            "spec": {"containers": [{"name": "app", "image": "busybox:1.36"}]}});
        add(&mut pod, "wait-for", &[("host", "db")]);
        let config = apply_configuration(&pod, &pod, None).unwrap();
        assert_eq!(config["metadata"]["name"], "p");
        assert!(config["metadata"]["annotations"][TRACKING_ANNOTATION].is_string());
        assert_eq!(config["spec"]["initContainers"][0]["name"], "wait-for");
    }
}
