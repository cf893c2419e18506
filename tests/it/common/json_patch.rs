//! RFC 6902 JSON Patch, as the API server applies a MutatingAdmissionPolicy's `JSONPatch`
//! mutation: operations in order on a copy, `add` to a missing list or out of range fails,
//! `-` appends, a failed `test` leaves the document as it was.

use serde_json::Value;

/// One JSON Patch operation.
#[derive(Debug, Clone, PartialEq)]
pub struct Op {
    /// `add`, `remove`, `replace`, `test`.
    pub op: String,
    /// The JSON pointer.
    pub path: String,
    /// The value (none for `remove`).
    pub value: Option<Value>,
}

/// The reference tokens of a JSON pointer.
fn tokens(pointer: &str) -> Result<Vec<String>, String> {
    if pointer.is_empty() {
        return Ok(vec![]);
    }
    let rest = pointer
        .strip_prefix('/')
        .ok_or_else(|| format!("JSON pointer {pointer:?} does not start with /"))?;
    Ok(rest
        .split('/')
        .map(|t| t.replace("~1", "/").replace("~0", "~"))
        .collect())
}

fn parent<'d>(doc: &'d mut Value, tokens: &[String], path: &str) -> Result<&'d mut Value, String> {
    let mut node = doc;
    for t in tokens {
        node = match node {
            Value::Object(map) => map.get_mut(t),
            Value::Array(list) => t.parse::<usize>().ok().and_then(|i| list.get_mut(i)),
            _ => None,
        }
        .ok_or_else(|| format!("doc is missing path: {path:?}"))?;
    }
    Ok(node)
}

/// Applies RFC 6902 operations in order; `Ok(false)` when a `test` failed (nothing applied).
pub fn apply_patch(doc: &mut Value, ops: &[Op]) -> Result<bool, String> {
    let mut out = doc.clone();
    for op in ops {
        let tokens = tokens(&op.path)?;
        let Some((last, init)) = tokens.split_last() else {
            return Err(format!("{} on the whole document", op.op));
        };
        let holder = parent(&mut out, init, &op.path)?;
        let value = || {
            op.value
                .clone()
                .ok_or_else(|| format!("{} operation without a value", op.op))
        };
        match (op.op.as_str(), holder) {
            ("add", Value::Object(map)) => {
                map.insert(last.clone(), value()?);
            }
            ("add", Value::Array(list)) => {
                let index = if last == "-" {
                    list.len()
                } else {
                    last.parse::<usize>()
                        .ok()
                        .filter(|i| *i <= list.len())
                        .ok_or_else(|| {
                            format!(
                                "add operation does not apply: index {last} out of range in {:?}",
                                op.path
                            )
                        })?
                };
                list.insert(index, value()?);
            }
            ("replace" | "remove" | "test", Value::Object(map)) if map.contains_key(last) => {
                match op.op.as_str() {
                    "replace" => {
                        map.insert(last.clone(), value()?);
                    }
                    "remove" => {
                        map.remove(last);
                    }
                    _ if map.get(last) != Some(&value()?) => return Ok(false),
                    _ => {}
                }
            }
            ("replace" | "remove" | "test", Value::Array(list)) => {
                let i = last
                    .parse::<usize>()
                    .ok()
                    .filter(|i| *i < list.len())
                    .ok_or_else(|| {
                        format!(
                            "{} operation does not apply: doc is missing path: {:?}",
                            op.op, op.path
                        )
                    })?;
                match op.op.as_str() {
                    "replace" => list[i] = value()?,
                    "remove" => {
                        list.remove(i);
                    }
                    _ if list[i] != value()? => return Ok(false),
                    _ => {}
                }
            }
            (other, _) => {
                return Err(format!(
                    "{other} operation does not apply: doc is missing path: {:?}",
                    op.path
                ));
            }
        }
    }
    *doc = out;
    Ok(true)
}
