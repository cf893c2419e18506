//! Who else owns a field, from the object's `metadata.managedFields`: before an apply lets go of
//! a pattern's fields, any other field manager that also owns them would keep them in the
//! object (a helper that stays, or a half-removed container the server refuses).

use serde_json::Value;

use kubectl_pattern_engine::released::{ReleasedField, Step};

use super::error::FieldOwner;

/// The fields of `released` that managers other than `manager` own in `object` (entries of a
/// subresource, such as the controllers' status, aside), each with one such owner.
pub fn co_owned(object: &Value, manager: &str, released: &[ReleasedField]) -> Vec<FieldOwner> {
    let entries = object
        .pointer("/metadata/managedFields")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    let mut out = Vec::new();
    for field in released {
        for entry in entries {
            let name = entry.get("manager").and_then(Value::as_str).unwrap_or("");
            if name == manager || entry.get("subresource").is_some() {
                continue;
            }
            let owns = entry
                .get("fieldsV1")
                .is_some_and(|fields| owns(fields, &field.path));
            let owner = FieldOwner {
                manager: name.to_string(),
                field: field.what.clone(),
            };
            if owns && !out.contains(&owner) {
                out.push(owner);
            }
        }
    }
    out
}

/// True when the field set `fields` (`fieldsV1`) holds the field at `path`.
fn owns(fields: &Value, path: &[Step]) -> bool {
    let mut node = fields;
    for step in path {
        let next = match step {
            Step::Field(name) => node.get(format!("f:{name}")),
            Step::Key { field, value } => node.as_object().and_then(|map| {
                map.iter()
                    .find(|(k, _)| key_matches(k, field, value))
                    .map(|(_, v)| v)
            }),
        };
        match next {
            Some(n) => node = n,
            None => return false,
        }
    }
    true
}

/// `k:{"name":"log-shipper"}` names the item whose `name` is `log-shipper`.
fn key_matches(key: &str, field: &str, value: &str) -> bool {
    key.strip_prefix("k:")
        .and_then(|json| serde_json::from_str::<Value>(json).ok())
        .is_some_and(|k| k.get(field).and_then(Value::as_str) == Some(value))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn helper_field() -> ReleasedField {
        ReleasedField {
            what: "initContainers[name=log-shipper]".into(),
            path: ["spec", "template", "spec", "initContainers"]
                .map(|k| Step::Field(k.into()))
                .into_iter()
                .chain([Step::Key {
                    field: "name",
                    value: "log-shipper".into(),
                }])
                .collect(),
        }
    }

    #[test]
    fn another_appliers_field_inside_the_helper_names_it() {
        let object = json!({"metadata": {"managedFields": [
            {"manager": "kubectl-pattern", "operation": "Apply", "fieldsV1": {"f:spec": {
                "f:template": {"f:spec": {"f:initContainers": {
                    "k:{\"name\":\"log-shipper\"}": {".": {}, "f:image": {}}}}}}}},
            {"manager": "other", "operation": "Apply", "fieldsV1": {"f:spec": {
                "f:template": {"f:spec": {"f:initContainers": {
                    "k:{\"name\":\"log-shipper\"}": {".": {}, "f:name": {}, "f:image": {}}}}}}}},
            {"manager": "kube-controller-manager", "operation": "Update",
             "subresource": "status", "fieldsV1": {"f:status": {}}}]}});
        let owners = co_owned(&object, "kubectl-pattern", &[helper_field()]);
        assert_eq!(
            owners,
            [FieldOwner {
                manager: "other".into(),
                field: "initContainers[name=log-shipper]".into()
            }]
        );
        assert!(co_owned(&object, "other", &[helper_field()]).len() == 1);
        assert!(
            co_owned(
                &json!({"metadata": {}}),
                "kubectl-pattern",
                &[helper_field()]
            )
            .is_empty()
        );
    }
}
