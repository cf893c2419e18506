//! The pod template of any workload kind, seen through one typed view over the object's JSON.
//!
//! The object stays a `serde_json::Value` so fields this version of k8s-openapi does not know,
//! and the order of keys, survive a rewrite; typed k8s-openapi values are used for what the tool
//! reads (lint) and for what patterns contribute.

use serde_json::{Map, Value};

pub use super::kinds::WorkloadKind;

/// Why an object is not a workload this tool can change.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NotAWorkload {
    /// A kind without a pod template (ConfigMap, Service…).
    #[error("{0} has no pod template")]
    NoPodTemplate(String),
    /// A workload kind under an apiVersion the tool does not handle.
    #[error("{kind} {api_version} is not supported (use {expected})")]
    UnsupportedVersion {
        /// The kind.
        kind: String,
        /// The apiVersion found.
        api_version: String,
        /// The apiVersion to use.
        expected: String,
    },
    /// The object lacks the pod template or its spec.
    #[error("{0}")]
    Malformed(String),
}

/// A workload object, with access to its pod template.
pub struct Workload<'a> {
    kind: WorkloadKind,
    object: &'a mut Value,
}

impl<'a> Workload<'a> {
    /// Views `object` as a workload, or says why it is not one.
    pub fn new(object: &'a mut Value) -> Result<Self, NotAWorkload> {
        let api_version = object
            .get("apiVersion")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let kind_name = object
            .get("kind")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let kind = match WorkloadKind::from_type(&api_version, &kind_name) {
            Some(kind) => kind,
            None => {
                return Err(match WorkloadKind::from_kind(&kind_name) {
                    Some(k) => NotAWorkload::UnsupportedVersion {
                        kind: kind_name.clone(),
                        api_version: api_version.clone(),
                        expected: k.api_version().to_string(),
                    },
                    None => NotAWorkload::NoPodTemplate(kind_name.clone()),
                });
            }
        };
        let mut workload = Workload { kind, object };
        let template = workload.template_mut().ok_or_else(|| {
            NotAWorkload::Malformed(format!(
                "{kind_name} has no {}",
                kind.template_path().join(".")
            ))
        })?;
        match template.get("spec").and_then(|s| s.get("containers")) {
            Some(Value::Array(c)) if !c.is_empty() => Ok(workload),
            _ => Err(NotAWorkload::Malformed(format!(
                "{kind_name} has no containers in its pod template"
            ))),
        }
    }

    /// The workload's kind.
    pub fn kind(&self) -> WorkloadKind {
        self.kind
    }

    /// The whole object.
    pub fn object(&self) -> &Value {
        self.object
    }

    fn template_mut(&mut self) -> Option<&mut Map<String, Value>> {
        let mut cur = &mut *self.object;
        for key in self.kind.template_path() {
            cur = cur.get_mut(*key)?;
        }
        cur.as_object_mut()
    }

    fn template(&self) -> &Map<String, Value> {
        let mut cur = &*self.object;
        for key in self.kind.template_path() {
            cur = &cur[*key];
        }
        // `new` checked that the template is a mapping.
        cur.as_object().unwrap_or_else(|| empty_map())
    }

    /// The pod template's spec (a mapping with `containers`).
    pub fn pod_spec(&self) -> &Map<String, Value> {
        self.template()
            .get("spec")
            .and_then(Value::as_object)
            .unwrap_or_else(|| empty_map())
    }

    /// The pod template's spec, mutable.
    pub fn pod_spec_mut(&mut self) -> &mut Map<String, Value> {
        let template = self.template_mut().expect("checked in Workload::new");
        template
            .entry("spec")
            .or_insert_with(|| Value::Object(Map::new()))
            .as_object_mut()
            .expect("checked in Workload::new")
    }

    /// The pod template's metadata, if any.
    pub fn pod_metadata(&self) -> Option<&Map<String, Value>> {
        self.template().get("metadata").and_then(Value::as_object)
    }

    /// The pod template's metadata, created when missing; the flag says it was created.
    pub fn pod_metadata_mut(&mut self) -> (&mut Map<String, Value>, bool) {
        let template = self.template_mut().expect("checked in Workload::new");
        let created = !matches!(template.get("metadata"), Some(Value::Object(_)));
        if created {
            template.insert("metadata".into(), Value::Object(Map::new()));
        }
        let meta = template
            .get_mut("metadata")
            .and_then(Value::as_object_mut)
            .expect("inserted above");
        (meta, created)
    }

    /// The pod template's metadata, mutable, if it exists.
    pub fn pod_metadata_if_any_mut(&mut self) -> Option<&mut Map<String, Value>> {
        self.template_mut()?.get_mut("metadata")?.as_object_mut()
    }

    /// Removes the pod template's metadata when it is empty.
    pub fn drop_empty_pod_metadata(&mut self) {
        let template = self.template_mut().expect("checked in Workload::new");
        if matches!(template.get("metadata"), Some(Value::Object(m)) if m.is_empty()) {
            template.remove("metadata");
        }
    }

    /// A pod template annotation.
    pub fn pod_annotation(&self, key: &str) -> Option<&str> {
        self.pod_metadata()?.get("annotations")?.get(key)?.as_str()
    }

    /// The object's `metadata.name`.
    pub fn name(&self) -> &str {
        self.object["metadata"]["name"].as_str().unwrap_or_default()
    }

    /// The object's `metadata.namespace`, or "".
    pub fn namespace(&self) -> &str {
        self.object["metadata"]["namespace"]
            .as_str()
            .unwrap_or_default()
    }

    /// Names of the app containers (`spec.containers`), in order.
    pub fn container_names(&self) -> Vec<String> {
        names(self.pod_spec().get("containers"))
    }

    /// Names of the init containers (including native sidecars), in order.
    pub fn init_container_names(&self) -> Vec<String> {
        names(self.pod_spec().get("initContainers"))
    }

    /// The pod spec as a typed k8s-openapi value (for reading; unknown fields are dropped).
    pub fn typed_pod_spec(&self) -> Result<k8s_openapi::api::core::v1::PodSpec, String> {
        serde_json::from_value(Value::Object(self.pod_spec().clone())).map_err(|e| e.to_string())
    }
}

fn empty_map() -> &'static Map<String, Value> {
    static EMPTY: std::sync::OnceLock<Map<String, Value>> = std::sync::OnceLock::new();
    EMPTY.get_or_init(Map::new)
}

fn names(list: Option<&Value>) -> Vec<String> {
    list.and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .filter_map(|c| c.get("name").and_then(Value::as_str).map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn finds_the_template_of_every_kind() {
        let pod_spec = json!({"containers": [{"name": "app", "image": "x:1"}]});
        for kind in WorkloadKind::ALL {
            let mut obj = json!({"apiVersion": kind.api_version(), "kind": kind.as_str(), "metadata": {"name": "w"}});
            let mut template = json!({"spec": pod_spec.clone()});
            if kind == WorkloadKind::Pod {
                obj["spec"] = pod_spec.clone();
            } else {
                for key in kind.template_path().iter().rev() {
                    template = json!({ *key: template });
                }
                obj.as_object_mut()
                    .unwrap()
                    .extend(template.as_object().unwrap().clone());
            }
            let w = Workload::new(&mut obj).unwrap_or_else(|e| panic!("{kind:?}: {e}"));
            assert_eq!(w.container_names(), vec!["app"], "{kind:?}");
        }
    }

    #[test]
    fn says_why_an_object_is_not_a_workload() {
        let mut cm = json!({"apiVersion": "v1", "kind": "ConfigMap"});
        assert_eq!(
            Workload::new(&mut cm).err(),
            Some(NotAWorkload::NoPodTemplate("ConfigMap".into()))
        );
        let mut old = json!({"apiVersion": "extensions/v1beta1", "kind": "Deployment"});
        assert!(matches!(
            Workload::new(&mut old),
            Err(NotAWorkload::UnsupportedVersion { .. })
        ));
        let mut empty = json!({"apiVersion": "apps/v1", "kind": "Deployment", "spec": {}});
        assert!(matches!(
            Workload::new(&mut empty),
            Err(NotAWorkload::Malformed(_))
        ));
    }
}
