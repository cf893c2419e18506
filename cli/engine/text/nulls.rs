//! Nulls spelled out in the text (`volumes: ~`, `annotations: null`): which of them an edit
//! fills with a collection, and writing such a spelling back where an edit left the key empty.
//!
//! A path runs from the document's root: a mapping's key, or a sequence item's `name` (only
//! named items are followed, so a path stays true when helpers are inserted before the item).

use serde_json::Value;

use super::tree::{Entry, Kind, Node, Quote};

/// A null's path and how it was written.
pub(super) type Spelled = (Vec<String>, String);

/// The nulls of `before` written as something (`~`, `null`, `Null`, `NULL`) in block
/// mappings that `after` holds a collection at.
pub(super) fn filled(text: &str, root: &Node, before: &Value, after: &Value) -> Vec<Spelled> {
    let mut out = Vec::new();
    walk(text, root, before, after, &mut Vec::new(), &mut out);
    out
}

fn walk(
    text: &str,
    node: &Node,
    before: &Value,
    after: &Value,
    at: &mut Vec<String>,
    out: &mut Vec<Spelled>,
) {
    if before == after {
        return;
    }
    match (&node.kind, before, after) {
        (
            Kind::Map {
                flow: false,
                entries,
            },
            Value::Object(b),
            Value::Object(a),
        ) => {
            for e in entries {
                let (Some(b), Some(a)) = (b.get(&e.key), a.get(&e.key)) else {
                    continue;
                };
                at.push(e.key.clone());
                let spelling = &text[e.value.start..e.value.end];
                match &e.value.kind {
                    Kind::Scalar(Quote::Plain)
                        if b.is_null() && is_collection(a) && !spelling.is_empty() =>
                    {
                        out.push((at.clone(), spelling.to_string()));
                    }
                    _ => walk(text, &e.value, b, a, at, out),
                }
                at.pop();
            }
        }
        (Kind::Seq { items, .. }, Value::Array(b), Value::Array(a)) => {
            for (node, item) in items.iter().zip(b) {
                let Some(name) = item.get("name").and_then(Value::as_str) else {
                    continue;
                };
                let Some(now) = a.iter().find(|i| i.get("name") == item.get("name")) else {
                    continue;
                };
                at.push(name.to_string());
                walk(text, node, item, now, at, out);
                at.pop();
            }
        }
        _ => {}
    }
}

fn is_collection(v: &Value) -> bool {
    matches!(v, Value::Object(_) | Value::Array(_))
}

/// `text`, which holds `value`, with each of `spelled` written where the key at its path is
/// left empty (`volumes:`), right after the colon. Paths that do not lead to such a key are
/// passed over.
pub(super) fn spell(text: &str, root: &Node, value: &Value, spelled: &[Spelled]) -> String {
    let mut inserts: Vec<(usize, &str)> = spelled
        .iter()
        .filter_map(|(path, spelling)| {
            let entry = find(root, value, path)?;
            let empty = entry.value.start == entry.value.end;
            let colon = entry.key_end + text[entry.key_end..].find(':')?;
            (empty && matches!(entry.value.kind, Kind::Scalar(Quote::Plain)))
                .then_some((colon + 1, spelling.as_str()))
        })
        .collect();
    inserts.sort_unstable();
    inserts.dedup_by_key(|(at, _)| *at);
    let mut out = String::with_capacity(text.len() + 8 * inserts.len());
    let mut from = 0;
    for (at, spelling) in inserts {
        out.push_str(&text[from..at]);
        out.push(' ');
        out.push_str(spelling);
        from = at;
    }
    out.push_str(&text[from..]);
    out
}

/// The block mapping entry at `path` (its last step a key).
fn find<'n>(node: &'n Node, value: &Value, path: &[String]) -> Option<&'n Entry> {
    let (step, rest) = path.split_first()?;
    match (&node.kind, value) {
        (
            Kind::Map {
                flow: false,
                entries,
            },
            Value::Object(map),
        ) => {
            let entry = entries.iter().find(|e| e.key == *step)?;
            match rest.is_empty() {
                true => Some(entry),
                false => find(&entry.value, map.get(step)?, rest),
            }
        }
        (Kind::Seq { items, .. }, Value::Array(list)) => {
            let i =
                (list.iter()).position(|v| v.get("name").and_then(Value::as_str) == Some(step))?;
            find(items.get(i)?, &list[i], rest)
        }
        _ => None,
    }
}
