//! How a file spelled the nulls a pattern filled (`volumes: ~`, `annotations: null`), kept
//! in the instance's record (`nullAs`) so that `remove` writes them back byte for byte; the
//! plain `volumes:` needs no record (an emptied key is written so).
//!
//! Paths run from the workload's root in JSON Pointer syntax, a list item named by its `name`
//! (`/spec/template/spec/containers/web/volumeMounts`). Lists of objects (`kind: List`) are
//! not followed: their items have no `name` at the top.

use serde_json::Value;

use crate::kinds::WorkloadKind;
use crate::text::{self, Layout};
use crate::tracking::{self, TRACKING_ANNOTATION};
use crate::workload::Workload;

/// The spellings of a null YAML reads (`~` and the forms of `null`): a text without any
/// cannot hold a spelled null, and is passed over at once.
const SPELLINGS: [&str; 4] = ["~", "null", "Null", "NULL"];

/// Records in `after`'s newest record how `text` (which holds `before`) spelled each null
/// that `after` fills with a list or map.
pub fn record(text: &str, layout: &Layout, before: &Value, after: &mut Value) {
    if !SPELLINGS.iter().any(|s| text.contains(s)) {
        return;
    }
    let filled = text::filled_nulls(text, layout, before, after);
    if filled.is_empty() {
        return;
    }
    let Ok(mut workload) = Workload::new(after) else {
        return;
    };
    let Ok(mut records) = tracking::read(&workload) else {
        return;
    };
    let Some(newest) = records.last_mut() else {
        return;
    };
    for (path, spelling) in filled {
        newest.null_as.insert(pointer(&path), spelling);
    }
    tracking::write(&mut workload, &records);
}

/// `edited` (the text of `after`) with the spellings `before`'s records hold written back
/// where `after` holds null again and `before` did not.
pub fn restore(edited: String, before: &Value, after: &Value) -> String {
    let Some(annotation) = recorded(before).filter(|a| a.contains("\"nullAs\"")) else {
        return edited;
    };
    let Ok(records) = tracking::decode(annotation) else {
        return edited;
    };
    let spelled: Vec<(Vec<String>, String)> = (records.iter())
        .flat_map(|r| &r.null_as)
        .filter_map(|(at, spelling)| {
            let path = steps(at)?;
            let emptied = !find(before, &path)?.is_null() && find(after, &path)?.is_null();
            emptied.then(|| (path, spelling.clone()))
        })
        .collect();
    if spelled.is_empty() {
        return edited;
    }
    text::spell_nulls(&edited, after, &spelled).unwrap_or(edited)
}

/// The tracking annotation of a workload object, read without a copy.
fn recorded(object: &Value) -> Option<&str> {
    let text = |k: &str| object.get(k).and_then(Value::as_str);
    let kind = WorkloadKind::from_type(text("apiVersion")?, text("kind")?)?;
    let template = (kind.template_path().iter()).try_fold(object, |v, k| v.get(*k))?;
    template
        .get("metadata")?
        .get("annotations")?
        .get(TRACKING_ANNOTATION)?
        .as_str()
}

/// The value at `path` (a list item by its `name`).
fn find<'v>(value: &'v Value, path: &[String]) -> Option<&'v Value> {
    path.iter().try_fold(value, |v, step| match v {
        Value::Object(map) => map.get(step),
        Value::Array(items) => items
            .iter()
            .find(|i| i.get("name").and_then(Value::as_str) == Some(step)),
        _ => None,
    })
}

fn pointer(path: &[String]) -> String {
    path.iter()
        .map(|s| format!("/{}", crate::handover::escape(s)))
        .collect()
}

fn steps(pointer: &str) -> Option<Vec<String>> {
    let rest = pointer.strip_prefix('/')?;
    Some(
        rest.split('/')
            .map(|s| s.replace("~1", "/").replace("~0", "~"))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pointers_escape_and_read_back() {
        let path = vec!["metadata".to_string(), "a/b~c".to_string()];
        assert_eq!(pointer(&path), "/metadata/a~1b~0c");
        assert_eq!(steps(&pointer(&path)), Some(path));
        assert_eq!(steps("no-slash"), None);
    }
}
