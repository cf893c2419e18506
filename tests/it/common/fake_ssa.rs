//! The simplified server-side apply of the fake API server: field paths a manager owns
//! (map keys and list items by their key: name, mountPath, containerPort and protocol), atomic
//! fields (the selector, env sources, scalar lists), deletion of the fields a manager stops
//! sending when nobody else owns them, the merge of a configuration with the real server's list
//! order (structured-merge-diff 4.2+: the applied order, anchored on the items both lists
//! have), and `managedFields` as the real server writes them for an Apply.

use std::collections::BTreeSet;

use serde_json::{Map, Value};

/// A field path: map keys, and list items by their key.
pub type FieldPath = Vec<Step>;

/// One step of a field path.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Step {
    /// A map key.
    Key(String),
    /// A list item, by the value of its key field.
    Item(String),
}

/// What a manager can own: the object without identity-only and server-set fields.
pub fn config_of(object: &Value) -> Value {
    let mut c = object.clone();
    if let Some(o) = c.as_object_mut() {
        o.remove("status");
        o.remove("apiVersion");
        o.remove("kind");
    }
    if let Some(m) = c.get_mut("metadata").and_then(Value::as_object_mut) {
        for k in [
            "resourceVersion",
            "generation",
            "uid",
            "creationTimestamp",
            "managedFields",
            "name",
            "namespace",
        ] {
            m.remove(k);
        }
    }
    c
}

/// Fields the API server treats as one value (`+structType=atomic`, `+mapType=atomic`).
const ATOMIC: &[&str] = &[
    "selector",
    "fieldRef",
    "resourceFieldRef",
    "configMapKeyRef",
    "secretKeyRef",
];

/// Whether `path` ends at a field the server treats as one value.
pub fn is_atomic(path: &[Step]) -> bool {
    matches!(path.last(), Some(Step::Key(k)) if ATOMIC.contains(&k.as_str()))
}

/// The key field of the items of the list at `field`, if it is a keyed list.
fn list_key(field: &str, items: &[Value]) -> Option<&'static str> {
    let key = match field {
        "volumeMounts" => "mountPath",
        "ports" => "containerPort",
        _ => "name",
    };
    items.iter().all(|i| i.get(key).is_some()).then_some(key)
}

/// An item's identity: its key, and for ports the protocol too (`2020/TCP`).
fn item_id(item: &Value, key: &str) -> String {
    let id = match &item[key] {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    if key == "containerPort" {
        let protocol = item["protocol"].as_str().unwrap_or("TCP");
        return format!("{id}/{protocol}");
    }
    id
}

/// Every field path in `v` (intermediate maps and keyed list items included; scalars and
/// atomic lists are leaves).
pub fn paths(v: &Value) -> BTreeSet<FieldPath> {
    let mut out = BTreeSet::new();
    collect(v, "", &mut Vec::new(), &mut out);
    out
}

fn collect(v: &Value, field: &str, at: &mut FieldPath, out: &mut BTreeSet<FieldPath>) {
    if !at.is_empty() {
        out.insert(at.clone());
    }
    if ATOMIC.contains(&field) {
        return;
    }
    match v {
        Value::Object(map) => {
            for (k, child) in map {
                at.push(Step::Key(k.clone()));
                collect(child, k, at, out);
                at.pop();
            }
        }
        Value::Array(items) => {
            if let Some(key) = list_key(field, items) {
                for item in items {
                    at.push(Step::Item(item_id(item, key)));
                    collect(item, field, at, out);
                    at.pop();
                }
            }
        }
        _ => {}
    }
}

/// Deletes the field at `path` (nothing when it is not there).
pub fn delete(v: &mut Value, path: &[Step]) {
    let Some((last, parents)) = path.split_last() else {
        return;
    };
    let mut field = String::new();
    let mut at = v;
    for step in parents {
        let next = match step {
            Step::Key(k) => {
                field = k.clone();
                at.get_mut(k)
            }
            Step::Item(id) => find_item(at, &field, id),
        };
        match next {
            Some(n) => at = n,
            None => return,
        }
    }
    match last {
        Step::Key(k) => {
            if let Some(o) = at.as_object_mut() {
                o.remove(k);
            }
        }
        Step::Item(id) => {
            let key = at
                .as_array()
                .and_then(|items| list_key(&field, items))
                .unwrap_or("name");
            if let Some(items) = at.as_array_mut() {
                items.retain(|i| item_id(i, key) != *id);
            }
        }
    }
}

fn find_item<'a>(list: &'a mut Value, field: &str, id: &str) -> Option<&'a mut Value> {
    let key = list_key(field, list.as_array()?)?;
    list.as_array_mut()?
        .iter_mut()
        .find(|i| item_id(i, key) == id)
}

/// Merges an applied configuration: maps by key, keyed lists by item key in the real server's
/// order, the rest replaced.
pub fn merge(into: &mut Value, config: &Value) {
    merge_field(into, config, "");
}

fn merge_field(into: &mut Value, config: &Value, field: &str) {
    if ATOMIC.contains(&field) {
        *into = config.clone();
        return;
    }
    match (into, config) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, v) in b {
                match a.get_mut(k) {
                    Some(existing) => merge_field(existing, v, k),
                    None => {
                        a.insert(k.clone(), v.clone());
                    }
                }
            }
        }
        (Value::Array(a), Value::Array(b)) => match list_key(field, b) {
            Some(key) if a.iter().all(|i| i.get(key).is_some()) => {
                *a = merge_items(a, b, key, field);
            }
            _ => *a = b.clone(),
        },
        (slot, value) => *slot = value.clone(),
    }
}

/// The merged items of a keyed list, ordered as structured-merge-diff orders them: walking
/// both lists, an item in both is merged where both are; a live item the configuration does not
/// name is kept in place; an applied item goes where the configuration has it, before the next
/// item both lists share.
fn merge_items(live: &[Value], applied: &[Value], key: &str, field: &str) -> Vec<Value> {
    let id = |v: &Value| item_id(v, key);
    let live_ids: Vec<String> = live.iter().map(id).collect();
    let applied_ids: Vec<String> = applied.iter().map(id).collect();
    let mut shared = applied_ids.iter().filter(|i| live_ids.contains(i));
    let mut next_shared = shared.next();
    let (mut l, mut r) = (0, 0);
    let mut out = Vec::new();
    let merged = |l: usize, r: usize| {
        let mut item = live[l].clone();
        merge_field(&mut item, &applied[r], field);
        item
    };
    while l < live.len() || r < applied.len() {
        if l < live.len() && r < applied.len() {
            if live_ids[l] == applied_ids[r] {
                out.push(merged(l, r));
                l += 1;
                r += 1;
                next_shared = shared.next();
                continue;
            }
            if applied_ids.contains(&live_ids[l]) && next_shared.is_some_and(|n| *n != live_ids[l])
            {
                l += 1; // a shared item whose turn has not come
                continue;
            }
        }
        if l < live.len() && !applied_ids.contains(&live_ids[l]) {
            out.push(live[l].clone());
            l += 1;
            continue;
        }
        if r < applied.len() {
            match live_ids.iter().position(|i| *i == applied_ids[r]) {
                Some(at) => out.push(merged(at, r)),
                None => out.push(applied[r].clone()),
            }
            if next_shared == Some(&applied_ids[r]) {
                next_shared = shared.next();
            }
            r += 1;
        } else {
            l += 1;
        }
    }
    out
}

/// `managedFields[].fieldsV1` of a set of owned paths, as the server writes it for an Apply:
/// `f:NAME` for fields, `k:{…}` for list items (with a `.` entry for the item itself).
pub fn fields_v1(owned: &BTreeSet<FieldPath>) -> Value {
    let mut root = Value::Object(Map::new());
    for path in owned {
        let mut node = &mut root;
        let mut field = "";
        for step in path {
            let key = match step {
                Step::Key(k) => format!("f:{k}"),
                Step::Item(id) => item_key(field, id),
            };
            let is_item = matches!(step, Step::Item(_));
            if let Step::Key(k) = step {
                field = k;
            }
            let map = node.as_object_mut().expect("a field set");
            node = map.entry(key).or_insert_with(|| Value::Object(Map::new()));
            if is_item {
                let item = node.as_object_mut().expect("a field set");
                item.entry(".").or_insert_with(|| Value::Object(Map::new()));
            }
        }
    }
    root
}

/// `k:{"name":"log-shipper"}`, `k:{"containerPort":2020,"protocol":"TCP"}`.
fn item_key(field: &str, id: &str) -> String {
    match field {
        "volumeMounts" => format!("k:{}", serde_json::json!({"mountPath": id})),
        "ports" => {
            let (port, protocol) = id.split_once('/').unwrap_or((id, "TCP"));
            let port: i64 = port.parse().unwrap_or_default();
            format!("k:{{\"containerPort\":{port},\"protocol\":\"{protocol}\"}}")
        }
        _ => format!("k:{}", serde_json::json!({"name": id})),
    }
}

/// A field path as the server names it in a conflict:
/// `.spec.template.spec.initContainers[name="log-shipper"].image`.
pub fn display(path: &[Step]) -> String {
    let mut out = String::new();
    let mut field = "";
    for step in path {
        match step {
            Step::Key(k) => {
                out.push('.');
                out.push_str(k);
                field = k;
            }
            Step::Item(id) => match field {
                "volumeMounts" => out.push_str(&format!("[mountPath=\"{id}\"]")),
                _ => out.push_str(&format!("[name=\"{id}\"]")),
            },
        }
    }
    out
}

/// The value at `path` in `v`.
pub fn get<'v>(v: &'v Value, path: &[Step]) -> Option<&'v Value> {
    let mut at = v;
    let mut field = String::new();
    for step in path {
        at = match step {
            Step::Key(k) => {
                field = k.clone();
                at.get(k)?
            }
            Step::Item(id) => {
                let items = at.as_array()?;
                let key = list_key(&field, items)?;
                items.iter().find(|i| item_id(i, key) == *id)?
            }
        };
    }
    Some(at)
}
