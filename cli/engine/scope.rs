//! File mode's object scope, as kubectl applies `-l` and `-n` to `-f` files: a label selector
//! chooses which objects an action touches (the others pass through unchanged), and a namespace
//! is given to namespaced objects that have none, while an object in another namespace is an
//! error.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use serde_json::Value;

use crate::process::{Action, ActionResult, ObjectError};
use crate::selector;

/// Kinds of the Kubernetes API that are not namespaced (kubectl learns this by discovery; a
/// file has no API server to ask). Kinds named `Cluster…` are cluster-scoped by convention
/// (ClusterRole, Kyverno's ClusterPolicy, cert-manager's ClusterIssuer) and are left alone too.
const CLUSTER_SCOPED: &[&str] = &[
    "APIService",
    "CSIDriver",
    "CSINode",
    "CertificateSigningRequest",
    "ComponentStatus",
    "CustomResourceDefinition",
    "DeviceClass",
    "FlowSchema",
    "IPAddress",
    "IngressClass",
    "MutatingAdmissionPolicy",
    "MutatingAdmissionPolicyBinding",
    "MutatingWebhookConfiguration",
    "Namespace",
    "Node",
    "PersistentVolume",
    "PriorityClass",
    "PriorityLevelConfiguration",
    "ResourceSlice",
    "RuntimeClass",
    "SelfSubjectAccessReview",
    "SelfSubjectReview",
    "SelfSubjectRulesReview",
    "ServiceCIDR",
    "StorageClass",
    "StorageVersionMigration",
    "SubjectAccessReview",
    "TokenReview",
    "ValidatingAdmissionPolicy",
    "ValidatingAdmissionPolicyBinding",
    "ValidatingWebhookConfiguration",
    "VolumeAttachment",
    "VolumeAttributesClass",
];

/// True for kinds that live in a namespace (every kind not known to be cluster-scoped).
pub fn is_namespaced(kind: &str) -> bool {
    !(kind.starts_with("Cluster") || CLUSTER_SCOPED.contains(&kind))
}

/// `-l` and `-n` on file input.
#[derive(Debug, Clone, Default)]
pub struct FileScope {
    /// The selector as given, and parsed.
    pub selector: Option<(String, LabelSelector)>,
    /// The namespace for objects without one.
    pub namespace: Option<String>,
}

impl FileScope {
    /// True when neither `-l` nor `-n` was given.
    pub fn is_empty(&self) -> bool {
        self.selector.is_none() && self.namespace.is_none()
    }
}

/// An action run within a [`FileScope`].
pub struct Scoped<'a> {
    /// The action on the objects in scope.
    pub action: &'a dyn Action,
    /// The scope.
    pub scope: &'a FileScope,
}

impl Action for Scoped<'_> {
    fn run(&self, object: &mut Value) -> Result<ActionResult, ObjectError> {
        let named = match &self.scope.namespace {
            Some(given) => set_namespace(object, given)?,
            None => false,
        };
        if let Some((text, selector)) = &self.scope.selector
            && !selector::matches(selector, &labels(object))
        {
            return Ok(ActionResult {
                changed: named,
                skipped: Some(format!("its labels do not match -l {text}")),
                ..Default::default()
            });
        }
        let mut result = self.action.run(object)?;
        result.changed |= named;
        Ok(result)
    }
}

/// The object's `metadata.labels` (string values only).
fn labels(object: &Value) -> BTreeMap<String, String> {
    object
        .pointer("/metadata/labels")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_string())))
        .collect()
}

/// Gives a namespaced object without a namespace `given` (true when it did); an object in
/// another namespace is an error, as in `kubectl apply -n`.
fn set_namespace(object: &mut Value, given: &str) -> Result<bool, ObjectError> {
    let kind = object
        .get("kind")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if !is_namespaced(kind) {
        return Ok(false);
    }
    let Some(meta) = object.get_mut("metadata").and_then(Value::as_object_mut) else {
        return Ok(false);
    };
    match meta.get("namespace").and_then(Value::as_str) {
        Some(found) if !found.is_empty() && found != given => Err(ObjectError::Namespace {
            found: found.to_string(),
            given: given.to_string(),
        }),
        Some(found) if found == given => Ok(false),
        _ => {
            // After name, where kubectl and most tools put it.
            let at = meta.keys().position(|k| k == "name").map_or(0, |i| i + 1);
            meta.shift_insert(at, "namespace".into(), Value::String(given.to_string()));
            Ok(true)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Marks every object it runs on.
    struct Touch;

    impl Action for Touch {
        fn run(&self, object: &mut Value) -> Result<ActionResult, ObjectError> {
            object["touched"] = json!(true);
            Ok(ActionResult {
                changed: true,
                ..Default::default()
            })
        }
    }

    fn scope(selector: Option<&str>, namespace: Option<&str>) -> FileScope {
        FileScope {
            selector: selector.map(|s| (s.to_string(), selector::parse(s).unwrap())),
            namespace: namespace.map(String::from),
        }
    }

    fn run(scope: &FileScope, mut object: Value) -> (Result<ActionResult, ObjectError>, Value) {
        let result = Scoped {
            action: &Touch,
            scope,
        }
        .run(&mut object);
        (result, object)
    }

    #[test]
    fn the_selector_leaves_other_objects_alone() {
        let s = scope(Some("app=web"), None);
        let web =
            json!({"kind": "Deployment", "metadata": {"name": "a", "labels": {"app": "web"}}});
        let (result, out) = run(&s, web);
        assert!(result.unwrap().changed);
        assert_eq!(out["touched"], json!(true));
        let api =
            json!({"kind": "Deployment", "metadata": {"name": "b", "labels": {"app": "api"}}});
        let (result, out) = run(&s, api.clone());
        let result = result.unwrap();
        assert!(!result.changed);
        assert_eq!(
            result.skipped.as_deref(),
            Some("its labels do not match -l app=web")
        );
        assert_eq!(out, api);
    }

    #[test]
    fn the_namespace_goes_after_the_name_of_namespaced_objects_only() {
        let s = scope(None, Some("shop"));
        let (result, out) = run(
            &s,
            json!({"kind": "ConfigMap", "metadata": {"name": "c", "labels": {}}}),
        );
        assert!(result.unwrap().changed);
        let keys: Vec<&String> = out["metadata"].as_object().unwrap().keys().collect();
        assert_eq!(keys, ["name", "namespace", "labels"]);
        assert_eq!(out["metadata"]["namespace"], "shop");
        for kind in ["Namespace", "ClusterRole", "ClusterPolicy", "StorageClass"] {
            let (_, out) = run(&s, json!({"kind": kind, "metadata": {"name": "x"}}));
            assert_eq!(out["metadata"].get("namespace"), None, "{kind}");
        }
    }

    #[test]
    fn another_namespace_is_refused_and_the_same_one_kept() {
        let s = scope(None, Some("shop"));
        let other = json!({"kind": "Deployment", "metadata": {"name": "a", "namespace": "dev"}});
        let (result, _) = run(&s, other);
        let message = result.unwrap_err().to_string();
        assert!(
            message.contains("\"dev\"") && message.contains("pass -n dev"),
            "{message}"
        );
        let same = json!({"kind": "Deployment", "metadata": {"name": "a", "namespace": "shop"}});
        let (result, out) = run(&s, same);
        result.unwrap();
        assert_eq!(out["metadata"]["namespace"], "shop");
    }

    #[test]
    fn objects_out_of_the_selector_still_get_the_namespace() {
        let s = scope(Some("app=web"), Some("shop"));
        let (result, out) = run(&s, json!({"kind": "Service", "metadata": {"name": "s"}}));
        let result = result.unwrap();
        assert!(result.changed && result.skipped.is_some());
        assert_eq!(out["metadata"]["namespace"], "shop");
        assert_eq!(out.get("touched"), None);
    }
}
