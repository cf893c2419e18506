//! One Kubernetes fragment of a contribution (a container, volume, mount or env var): the JSON
//! its author wrote, in the author's key order, and its typed k8s-openapi value, built by the
//! one constructor that refuses fields the type does not have.

use std::ops::Deref;

use serde::de::DeserializeOwned;
use serde_json::Value;

mod strict;

/// Why JSON is not a fragment of its Kubernetes type.
#[derive(Debug, thiserror::Error)]
pub enum FragmentError {
    /// Fields the type does not have (they would otherwise be dropped without a word), by
    /// their path inside the fragment (`ports[0].hostPID`).
    #[error("{}", .0.iter().map(|p| unknown_message(p)).collect::<Vec<_>>().join("; "))]
    UnknownFields(Vec<String>),
    /// A value of the wrong type, or a required field missing.
    #[error(transparent)]
    Type(serde_json::Error),
}

fn unknown_message(path: &str) -> String {
    format!("{path} is not a field of its Kubernetes type (misspelt?)")
}

impl FragmentError {
    /// The problems, one message each, for the fragment at `at` (`containers[0]`).
    pub fn problems(&self, at: &str) -> Vec<String> {
        match self {
            FragmentError::UnknownFields(paths) => paths
                .iter()
                .map(|p| unknown_message(&format!("{at}.{p}")))
                .collect(),
            FragmentError::Type(e) => vec![format!("{at}: {e}")],
        }
    }
}

/// A fragment: the author's JSON (key order kept, nulls dropped) and the typed value it holds.
/// Both carry the same data; the JSON is what gets merged, the typed value what gets checked.
#[derive(Debug, Clone, PartialEq)]
pub struct Fragment<T> {
    json: Value,
    typed: T,
}

impl<T: DeserializeOwned> Fragment<T> {
    /// Parses `json` as `T`, refusing fields `T` does not have. Null members are dropped (the
    /// typed value has them as absent).
    pub fn new(mut json: Value) -> Result<Self, FragmentError> {
        let (typed, unknown) = strict::deserialize(&json).map_err(FragmentError::Type)?;
        if !unknown.is_empty() {
            return Err(FragmentError::UnknownFields(unknown));
        }
        drop_nulls(&mut json);
        Ok(Fragment { json, typed })
    }
}

impl<T> Fragment<T> {
    /// The author's JSON.
    pub fn json(&self) -> &Value {
        &self.json
    }

    /// The author's JSON, taken out of the fragment.
    pub fn into_json(self) -> Value {
        self.json
    }

    /// The typed value.
    pub fn typed(&self) -> &T {
        &self.typed
    }
}

impl<T> Deref for Fragment<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.typed
    }
}

/// Removes null members, deeply.
fn drop_nulls(value: &mut Value) {
    match value {
        Value::Object(map) => {
            map.retain(|_, v| !v.is_null());
            map.values_mut().for_each(drop_nulls);
        }
        Value::Array(items) => items.iter_mut().for_each(drop_nulls),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::Container;
    use serde_json::json;

    #[test]
    fn keeps_the_authors_order_and_drops_nulls() {
        let f = Fragment::<Container>::new(json!({"name": "x", "image": "a:1", "command": null,
            "args": ["b"], "env": [{"name": "E", "value": null}]}))
        .unwrap();
        assert_eq!(
            f.json().to_string(),
            r#"{"name":"x","image":"a:1","args":["b"],"env":[{"name":"E"}]}"#
        );
        assert_eq!(f.args.as_deref(), Some(&["b".to_string()][..]));
        // The same data as the typed value serialised again.
        assert_eq!(&serde_json::to_value(f.typed()).unwrap(), f.json());
    }

    #[test]
    fn unknown_fields_are_refused_with_their_paths() {
        let err = Fragment::<Container>::new(json!({"name": "x", "imagePulPolicy": "Always",
            "resources": {"limitz": {"cpu": "1"}}, "ports": [{"containerPort": 1, "hostPID": true}]}))
        .unwrap_err();
        assert_eq!(
            err.problems("containers[0]"),
            [
                "containers[0].imagePulPolicy is not a field of its Kubernetes type (misspelt?)",
                "containers[0].resources.limitz is not a field of its Kubernetes type (misspelt?)",
                "containers[0].ports[0].hostPID is not a field of its Kubernetes type (misspelt?)",
            ]
        );
    }

    #[test]
    fn wrong_types_are_refused() {
        let err = Fragment::<Container>::new(json!({"name": "x", "ports": "80"})).unwrap_err();
        assert!(matches!(err, FragmentError::Type(_)), "{err:?}");
        assert!(err.problems("containers[1]")[0].starts_with("containers[1]: invalid type"));
    }
}
