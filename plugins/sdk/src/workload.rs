//! Read-only helpers over a workload's JSON: its pod spec whatever the kind, pod template
//! labels and annotations, containers and their ports.

use serde_json::{Map, Value};

/// Where a pod template can be, from the object (the host sends only workloads, and its kind
/// table decides which; the SDK only needs the layouts): a Pod is its own template, a
/// PodTemplate holds `template`, a CronJob nests it under `jobTemplate`, every other workload
/// holds `spec.template`.
const TEMPLATE_LAYOUTS: [&[&str]; 3] = [
    &["spec", "jobTemplate", "spec", "template"],
    &["spec", "template"],
    &["template"],
];

/// `value[key]` when `value` is an object: a scan of its entries. The maps of a Kubernetes
/// object hold a few keys each, and comparing those costs less than hashing the key, which on
/// WebAssembly was a good part of a plugin's lookups.
pub(crate) fn field<'a>(value: &'a Value, key: &str) -> Option<&'a Value> {
    member(value.as_object()?, key)
}

/// `map[key]`, by a scan of its entries (see [`field`]).
pub(crate) fn member<'a>(map: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    map.iter().find_map(|(k, v)| (k == key).then_some(v))
}

fn walk<'a>(value: &'a Value, path: &[&str]) -> Option<&'a Value> {
    path.iter().try_fold(value, |v, key| field(v, key))
}

/// The pod template (metadata and spec) of a workload: the first layout that holds a pod
/// spec with containers, else the object itself when it is a pod.
fn pod_template(workload: &Value) -> Option<&Value> {
    let has_containers = |t: &&Value| {
        field(t, "spec")
            .and_then(|s| field(s, "containers"))
            .is_some()
    };
    TEMPLATE_LAYOUTS
        .iter()
        .filter_map(|path| walk(workload, path))
        .find(has_containers)
        .or_else(|| Some(workload).filter(has_containers))
}

/// The pod spec of a workload of any kind.
pub fn pod_spec(workload: &Value) -> Option<&Value> {
    field(pod_template(workload)?, "spec")
}

/// The metadata of the pod template (a Pod's own metadata).
pub fn pod_metadata(workload: &Value) -> Option<&Value> {
    field(pod_template(workload)?, "metadata")
}

/// A container port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Port {
    /// The port's name, if it has one.
    pub name: Option<String>,
    /// The port number.
    pub container_port: u16,
    /// TCP, UDP or SCTP.
    pub protocol: String,
}

/// The ports a container declares (entries that are not valid ports are skipped).
pub fn container_ports(container: &Value) -> Vec<Port> {
    let Some(ports) = field(container, "ports").and_then(Value::as_array) else {
        return Vec::new();
    };
    ports
        .iter()
        .filter_map(|p| {
            let number = field(p, "containerPort")?
                .as_u64()
                .and_then(|n| u16::try_from(n).ok())?;
            Some(Port {
                name: field(p, "name").and_then(Value::as_str).map(str::to_owned),
                container_port: number,
                protocol: field(p, "protocol")
                    .and_then(Value::as_str)
                    .unwrap_or("TCP")
                    .to_owned(),
            })
        })
        .collect()
}

/// A container's env var by name.
pub fn container_env<'a>(container: &'a Value, name: &str) -> Option<&'a Value> {
    field(container, "env")?
        .as_array()?
        .iter()
        .find(|e| field(e, "name").and_then(Value::as_str) == Some(name))
}

fn str_map(value: Option<&Value>) -> Option<&Map<String, Value>> {
    value?.as_object()
}

/// A read-only view of a workload object.
#[derive(Clone, Copy)]
pub struct Workload<'a> {
    object: &'a Value,
    /// The pod template, found once (every pod-level question starts there).
    template: Option<&'a Value>,
}

impl std::fmt::Debug for Workload<'_> {
    /// The object (the template is a part of it).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Workload")
            .field("object", self.object)
            .finish()
    }
}

impl<'a> Workload<'a> {
    /// Views a workload object.
    pub fn new(object: &'a Value) -> Self {
        Workload {
            object,
            template: pod_template(object),
        }
    }
    /// The JSON itself.
    pub fn json(&self) -> &'a Value {
        self.object
    }
    /// `kind` (Deployment, Pod…), or "".
    pub fn kind(&self) -> &'a str {
        field(self.object, "kind")
            .and_then(Value::as_str)
            .unwrap_or_default()
    }
    /// `metadata.name`, or "".
    pub fn name(&self) -> &'a str {
        walk(self.object, &["metadata", "name"])
            .and_then(Value::as_str)
            .unwrap_or_default()
    }
    /// `metadata.namespace`, if set.
    pub fn namespace(&self) -> Option<&'a str> {
        walk(self.object, &["metadata", "namespace"]).and_then(Value::as_str)
    }
    /// The object's own labels.
    pub fn labels(&self) -> Option<&'a Map<String, Value>> {
        str_map(walk(self.object, &["metadata", "labels"]))
    }
    /// The object's own annotations.
    pub fn annotations(&self) -> Option<&'a Map<String, Value>> {
        str_map(walk(self.object, &["metadata", "annotations"]))
    }
    /// The pod spec.
    pub fn pod_spec(&self) -> Option<&'a Value> {
        field(self.template?, "spec")
    }
    /// The pod template's labels (a Pod's own).
    pub fn pod_labels(&self) -> Option<&'a Map<String, Value>> {
        str_map(field(field(self.template?, "metadata")?, "labels"))
    }
    /// The pod template's annotations (a Pod's own).
    pub fn pod_annotations(&self) -> Option<&'a Map<String, Value>> {
        str_map(field(field(self.template?, "metadata")?, "annotations"))
    }
    /// A label of the pod template, else of the object.
    pub fn label(&self, key: &str) -> Option<&'a str> {
        [self.pod_labels(), self.labels()]
            .into_iter()
            .flatten()
            .find_map(|m| member(m, key).and_then(Value::as_str))
    }
    /// An annotation of the pod template, else of the object.
    pub fn annotation(&self, key: &str) -> Option<&'a str> {
        [self.pod_annotations(), self.annotations()]
            .into_iter()
            .flatten()
            .find_map(|m| member(m, key).and_then(Value::as_str))
    }
    /// The app's name: label `app.kubernetes.io/name`, else `app`, else the object's name.
    pub fn app_name(&self) -> &'a str {
        self.label("app.kubernetes.io/name")
            .or_else(|| self.label("app"))
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| self.name())
    }
    /// The app containers (`spec.containers`).
    pub fn containers(&self) -> &'a [Value] {
        self.pod_list("containers")
    }
    /// The init containers, native sidecars included.
    pub fn init_containers(&self) -> &'a [Value] {
        self.pod_list("initContainers")
    }
    /// The volumes.
    pub fn volumes(&self) -> &'a [Value] {
        self.pod_list("volumes")
    }
    fn pod_list(&self, key: &str) -> &'a [Value] {
        self.pod_spec()
            .and_then(|s| field(s, key))
            .and_then(Value::as_array)
            .map_or(&[], Vec::as_slice)
    }
    /// An app container by name.
    pub fn container(&self, name: &str) -> Option<&'a Value> {
        self.containers()
            .iter()
            .find(|c| field(c, "name").and_then(Value::as_str) == Some(name))
    }
    /// The names of the app containers.
    pub fn container_names(&self) -> Vec<&'a str> {
        self.containers()
            .iter()
            .filter_map(|c| field(c, "name").and_then(Value::as_str))
            .collect()
    }
    /// Whether a volume with this name exists.
    pub fn has_volume(&self, name: &str) -> bool {
        self.volumes()
            .iter()
            .any(|v| field(v, "name").and_then(Value::as_str) == Some(name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn containers() -> Value {
        json!([{"name": "app", "image": "nginx",
            "ports": [{"name": "http", "containerPort": 8080}, {"containerPort": 9090, "protocol": "UDP"},
                      {"containerPort": 70000}],
            "env": [{"name": "A", "value": "1"}]}])
    }

    #[test]
    fn finds_pod_spec_of_every_kind() {
        let spec = json!({"containers": containers()});
        let tmpl = json!({"metadata": {"labels": {"app": "t"}}, "spec": spec});
        let cases = [
            json!({"kind": "Pod", "metadata": {"labels": {"app": "t"}}, "spec": spec}),
            json!({"kind": "Deployment", "spec": {"template": tmpl}}),
            json!({"kind": "StatefulSet", "spec": {"template": tmpl}}),
            json!({"kind": "DaemonSet", "spec": {"template": tmpl}}),
            json!({"kind": "ReplicaSet", "spec": {"template": tmpl}}),
            json!({"kind": "ReplicationController", "spec": {"template": tmpl}}),
            json!({"kind": "Job", "spec": {"template": tmpl}}),
            json!({"kind": "CronJob", "spec": {"jobTemplate": {"spec": {"template": tmpl}}}}),
            json!({"kind": "Rollout", "spec": {"template": tmpl}}),
            json!({"kind": "PodTemplate", "template": tmpl}),
        ];
        for wl in &cases {
            assert_eq!(pod_spec(wl), Some(&spec), "{}", wl["kind"]);
            let w = Workload::new(wl);
            assert_eq!(w.label("app"), Some("t"), "{}", wl["kind"]);
            assert_eq!(w.container_names(), vec!["app"]);
        }
        assert_eq!(pod_spec(&json!({"kind": "ConfigMap", "data": {}})), None);
        assert_eq!(pod_metadata(&json!({"kind": "Service", "spec": {}})), None);
    }

    #[test]
    fn labels_annotations_and_names() {
        let wl = json!({"kind": "Deployment",
            "metadata": {"name": "web", "namespace": "ns", "labels": {"app": "obj"},
                         "annotations": {"a": "object", "b": "object"}},
            "spec": {"template": {"metadata": {"labels": {"app.kubernetes.io/name": "pod"},
                                               "annotations": {"a": "pod"}},
                                  "spec": {"containers": containers(), "volumes": [{"name": "v"}]}}}});
        let w = Workload::new(&wl);
        assert_eq!(
            (w.kind(), w.name(), w.namespace()),
            ("Deployment", "web", Some("ns"))
        );
        assert_eq!(w.annotation("a"), Some("pod"));
        assert_eq!(w.annotation("b"), Some("object"));
        assert_eq!(w.app_name(), "pod");
        assert!(w.has_volume("v") && !w.has_volume("x"));
        let bare =
            json!({"kind": "Pod", "metadata": {"name": "p", "labels": {"app": ""}}, "spec": {}});
        assert_eq!(Workload::new(&bare).app_name(), "p");
        assert!(Workload::new(&bare).containers().is_empty());
    }

    #[test]
    fn reads_ports_and_env() {
        let c = &containers()[0];
        let ports = container_ports(c);
        assert_eq!(ports.len(), 2);
        assert_eq!(ports[0].name.as_deref(), Some("http"));
        assert_eq!(
            (ports[1].container_port, ports[1].protocol.as_str()),
            (9090, "UDP")
        );
        assert_eq!(
            container_env(c, "A"),
            Some(&json!({"name": "A", "value": "1"}))
        );
        assert!(container_env(c, "B").is_none());
    }
}
