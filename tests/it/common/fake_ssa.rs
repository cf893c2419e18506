//! The simplified server-side apply of the fake API server: field paths a manager owns
//! (map keys and list items by their key: name, mountPath, containerPort), deletion of the
//! fields a manager stops sending when nobody else owns them, and the merge of a configuration.

use std::collections::BTreeSet;

use serde_json::Value;

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

/// The key field of the items of the list at `field`, if it is a keyed list.
fn list_key(field: &str, items: &[Value]) -> Option<&'static str> {
    let key = match field {
        "volumeMounts" => "mountPath",
        "ports" => "containerPort",
        _ => "name",
    };
    items.iter().all(|i| i.get(key).is_some()).then_some(key)
}

fn item_id(item: &Value, key: &str) -> String {
    match &item[key] {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
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

/// Merges an applied configuration: maps by key, keyed lists by item key, the rest replaced.
pub fn merge(into: &mut Value, config: &Value) {
    merge_field(into, config, "");
}

fn merge_field(into: &mut Value, config: &Value, field: &str) {
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
                for item in b {
                    let id = item_id(item, key);
                    match a.iter_mut().find(|i| item_id(i, key) == id) {
                        Some(existing) => merge_field(existing, item, field),
                        None => a.push(item.clone()),
                    }
                }
            }
            _ => *a = b.clone(),
        },
        (slot, value) => *slot = value.clone(),
    }
}
