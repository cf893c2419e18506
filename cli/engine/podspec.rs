//! Editing the lists of a pod spec held as JSON: find by name, insert or replace in place,
//! remove, and delete lists the tool created once they are empty.

use serde_json::{Map, Value};

use super::workload::Workload;

pub(crate) fn name_of(v: &Value) -> Option<&str> {
    v.get("name").and_then(Value::as_str)
}

pub(crate) fn find(list: &[Value], name: &str) -> Option<usize> {
    list.iter().position(|v| name_of(v) == Some(name))
}

pub(crate) fn array_mut<'m>(
    map: &'m mut Map<String, Value>,
    key: &str,
    created: &mut Vec<String>,
    marker: String,
) -> &'m mut Vec<Value> {
    if !matches!(map.get(key), Some(Value::Array(_))) {
        map.insert(key.to_string(), Value::Array(Vec::new()));
        created.push(marker);
    }
    match map.get_mut(key) {
        Some(Value::Array(list)) => list,
        _ => unreachable!("inserted above"),
    }
}

pub(crate) fn app_container_mut<'m>(
    spec: &'m mut Map<String, Value>,
    name: &str,
) -> Option<&'m mut Map<String, Value>> {
    spec.get_mut("containers")?
        .as_array_mut()?
        .iter_mut()
        .find(|c| name_of(c) == Some(name))?
        .as_object_mut()
}

pub(crate) fn ports_of(c: &Value) -> Vec<(i32, String)> {
    c.get("ports")
        .and_then(Value::as_array)
        .map(|ports| {
            ports
                .iter()
                .filter_map(|p| {
                    let port = p.get("containerPort")?.as_i64()? as i32;
                    let proto = p.get("protocol").and_then(Value::as_str).unwrap_or("TCP");
                    Some((port, proto.to_string()))
                })
                .collect()
        })
        .unwrap_or_default()
}

pub(crate) fn existing_entries(
    spec: &Map<String, Value>,
    container: &str,
    list: &str,
    key: &str,
) -> Vec<String> {
    spec.get("containers")
        .and_then(Value::as_array)
        .and_then(|cs| cs.iter().find(|c| name_of(c) == Some(container)))
        .and_then(|c| c.get(list))
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .filter_map(|i| i.get(key)?.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

pub(crate) fn upsert(
    spec: &mut Map<String, Value>,
    key: &str,
    item: Value,
    created: &mut Vec<String>,
) {
    let name = name_of(&item).unwrap_or_default().to_string();
    let list = array_mut(spec, key, created, key.to_string());
    match find(list, &name) {
        Some(i) => list[i] = item,
        None => list.push(item),
    }
}

pub(crate) fn upsert_in_container(
    spec: &mut Map<String, Value>,
    container: &str,
    key: &str,
    id: &str,
    item: Value,
    created: &mut Vec<String>,
) {
    if let Some(c) = app_container_mut(spec, container) {
        let list = array_mut(c, key, created, format!("{key}@{container}"));
        match list.iter().position(|v| v.get(id) == item.get(id)) {
            Some(i) => list[i] = item,
            None => list.push(item),
        }
    }
}

pub(crate) fn remove_named(spec: &mut Map<String, Value>, key: &str, name: &str) {
    if let Some(Value::Array(list)) = spec.get_mut(key) {
        list.retain(|v| name_of(v) != Some(name));
    }
}

/// Inner lists go before the annotations map, which goes before the metadata holding it.
pub(crate) fn marker_rank(marker: &str) -> u8 {
    match marker {
        "annotations" => 1,
        "metadata" => 2,
        _ => 0,
    }
}

/// Deletes the list or map `marker` names if it is empty; true when it is gone.
pub(crate) fn drop_if_empty(workload: &mut Workload<'_>, marker: &str) -> bool {
    let empty = |v: Option<&Value>| match v {
        None => true,
        Some(Value::Array(a)) => a.is_empty(),
        Some(Value::Object(m)) => m.is_empty(),
        _ => false,
    };
    match marker {
        "annotations" => match workload.pod_metadata_if_any_mut() {
            None => true,
            Some(meta) => {
                let gone = empty(meta.get("annotations"));
                if gone {
                    meta.remove("annotations");
                }
                gone
            }
        },
        "metadata" => {
            workload.drop_empty_pod_metadata();
            workload.pod_metadata().is_none()
        }
        _ => {
            let spec = workload.pod_spec_mut();
            let (key, container) = match marker.split_once('@') {
                Some((key, container)) => (key, Some(container)),
                None => (marker, None),
            };
            let map = match container {
                Some(c) => match app_container_mut(spec, c) {
                    Some(map) => map,
                    None => return true,
                },
                None => spec,
            };
            let gone = empty(map.get(key));
            if gone {
                map.remove(key);
            }
            gone
        }
    }
}
