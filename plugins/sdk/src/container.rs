//! [`ContainerBuilder`] for core/v1 Containers, the hardened securityContext preset and probes.

use serde_json::{Map, Value, json};

/// An object of `entries`, in their order, its map made at its final size: `json!` starts
/// from an empty map and grows it (rehashing it) one insert at a time.
pub(crate) fn object<const N: usize>(entries: [(&str, Value); N]) -> Value {
    let mut map = Map::with_capacity(N);
    for (key, value) in entries {
        map.insert(key.to_owned(), value);
    }
    Value::Object(map)
}

/// The hardened securityContext of the built-in patterns: non-root (as `uid` when given:
/// the kubelet can only enforce runAsNonRoot on a numeric user), read-only root filesystem,
/// no privilege escalation, all capabilities dropped, RuntimeDefault seccomp.
pub fn hardened_security_context(uid: Option<i64>) -> Value {
    let mut sc = Map::with_capacity(8);
    sc.insert("runAsNonRoot".into(), json!(true));
    if let Some(uid) = uid {
        sc.insert("runAsUser".into(), json!(uid));
        sc.insert("runAsGroup".into(), json!(uid));
    }
    sc.insert("readOnlyRootFilesystem".into(), json!(true));
    sc.insert("allowPrivilegeEscalation".into(), json!(false));
    sc.insert("privileged".into(), json!(false));
    let all = Value::Array(vec![Value::String("ALL".into())]);
    sc.insert("capabilities".into(), object([("drop", all)]));
    let seccomp = object([("type", Value::String("RuntimeDefault".into()))]);
    sc.insert("seccompProfile".into(), seccomp);
    Value::Object(sc)
}

/// Probe handlers with the usual timings; pass them to the builder's `*_probe` methods.
pub mod probe {
    use serde_json::{Value, json};

    use super::object;

    /// `handler` (`httpGet`, `tcpSocket` or `exec`) with the usual timings.
    fn timed(kind: &str, handler: Value) -> Value {
        object([
            (kind, handler),
            ("initialDelaySeconds", json!(5)),
            ("periodSeconds", json!(10)),
            ("timeoutSeconds", json!(3)),
            ("failureThreshold", json!(3)),
        ])
    }
    /// An HTTP GET probe; `port` is a number or a port name.
    pub fn http_get(path: &str, port: impl Into<Value>) -> Value {
        let handler = object([("path", Value::String(path.into())), ("port", port.into())]);
        timed("httpGet", handler)
    }
    /// A TCP connect probe; `port` is a number or a port name.
    pub fn tcp_socket(port: impl Into<Value>) -> Value {
        timed("tcpSocket", object([("port", port.into())]))
    }
    /// A command probe.
    pub fn exec<I: IntoIterator<Item = S>, S: Into<String>>(command: I) -> Value {
        let command: Vec<String> = command.into_iter().map(Into::into).collect();
        timed("exec", object([("command", command.into())]))
    }
}

/// Builds a core/v1 Container as JSON; keys appear in the order they are first set.
#[derive(Debug, Clone, PartialEq)]
pub struct ContainerBuilder {
    fields: Map<String, Value>,
}

impl ContainerBuilder {
    /// A container with a name and an image.
    pub fn new(name: impl Into<String>, image: impl Into<String>) -> Self {
        // Room for a full container's keys: the map is not rehashed while it is built.
        let mut fields = Map::with_capacity(16);
        fields.insert("name".into(), Value::String(name.into()));
        fields.insert("image".into(), Value::String(image.into()));
        ContainerBuilder { fields }
    }

    fn push(&mut self, key: &str, item: Value) {
        let entry = self
            .fields
            .entry(key)
            .or_insert_with(|| Value::Array(Vec::new()));
        if let Some(list) = entry.as_array_mut() {
            list.push(item);
        } else {
            *entry = Value::Array(vec![item]);
        }
    }

    /// Sets any field (`workingDir`, `stdin`…), replacing it.
    pub fn set(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.fields.insert(key.to_owned(), value.into());
        self
    }
    /// Sets `imagePullPolicy`.
    pub fn pull_policy(self, policy: &str) -> Self {
        self.set("imagePullPolicy", policy)
    }
    /// Sets the command (the image's entrypoint).
    pub fn command<I: IntoIterator<Item = S>, S: Into<String>>(self, command: I) -> Self {
        let v: Vec<String> = command.into_iter().map(Into::into).collect();
        self.set("command", v)
    }
    /// Appends arguments.
    pub fn args<I: IntoIterator<Item = S>, S: Into<String>>(mut self, args: I) -> Self {
        for a in args {
            self.push("args", Value::String(a.into()));
        }
        self
    }
    /// Appends one argument.
    pub fn arg(self, arg: impl Into<String>) -> Self {
        self.args([arg.into()])
    }
    /// Adds an env var with a literal value.
    pub fn env(mut self, name: &str, value: impl Into<String>) -> Self {
        let value = Value::String(value.into());
        self.push("env", object([("name", name.into()), ("value", value)]));
        self
    }
    /// Adds an env var from a pod field (`metadata.name`, `status.podIP`…).
    pub fn env_field(mut self, name: &str, field_path: &str) -> Self {
        let field = object([("fieldPath", field_path.into())]);
        let from = object([("fieldRef", field)]);
        self.push("env", object([("name", name.into()), ("valueFrom", from)]));
        self
    }
    /// Adds an env var from a key of a Secret.
    pub fn env_secret(mut self, name: &str, secret: &str, key: &str) -> Self {
        let key = object([("name", secret.into()), ("key", key.into())]);
        let from = object([("secretKeyRef", key)]);
        self.push("env", object([("name", name.into()), ("valueFrom", from)]));
        self
    }
    /// Adds a core/v1 EnvVar given as JSON.
    pub fn env_json(mut self, env: Value) -> Self {
        self.push("env", env);
        self
    }
    /// Adds a named TCP port.
    pub fn port(self, name: &str, port: u16) -> Self {
        self.port_protocol(name, port, "TCP")
    }
    /// Adds a named port with a protocol (TCP, UDP, SCTP).
    pub fn port_protocol(mut self, name: &str, port: u16, protocol: &str) -> Self {
        let entries = [
            ("name", name.into()),
            ("containerPort", port.into()),
            ("protocol", protocol.into()),
        ];
        self.push("ports", object(entries));
        self
    }
    /// Sets resource requests (`cpu`, `memory`); an empty text leaves that one out.
    pub fn requests(self, cpu: &str, memory: &str) -> Self {
        self.resource_part("requests", cpu, memory)
    }
    /// Sets resource limits (`cpu`, `memory`); an empty text leaves that one out.
    pub fn limits(self, cpu: &str, memory: &str) -> Self {
        self.resource_part("limits", cpu, memory)
    }
    fn resource_part(mut self, part: &str, cpu: &str, memory: &str) -> Self {
        let resources = self.fields.entry("resources").or_insert_with(|| json!({}));
        if !resources.is_object() {
            *resources = json!({});
        }
        let mut m = Map::new();
        for (k, v) in [("cpu", cpu), ("memory", memory)] {
            if !v.is_empty() {
                m.insert(k.into(), json!(v));
            }
        }
        if let Some(obj) = resources.as_object_mut() {
            obj.insert(part.to_owned(), Value::Object(m));
        }
        self
    }
    /// Sets a whole core/v1 ResourceRequirements (e.g. `Request::resources()`).
    pub fn resources(self, resources: Value) -> Self {
        self.set("resources", resources)
    }
    /// Applies [`hardened_security_context`] (no fixed user).
    pub fn hardened(self) -> Self {
        self.set("securityContext", hardened_security_context(None))
    }
    /// Applies [`hardened_security_context`] running as `uid`:`uid`.
    pub fn hardened_as(self, uid: i64) -> Self {
        self.set("securityContext", hardened_security_context(Some(uid)))
    }
    /// Mounts a volume.
    pub fn mount(mut self, volume: &str, path: &str, read_only: bool) -> Self {
        let (name, path) = (("name", volume.into()), ("mountPath", path.into()));
        let mount = if read_only {
            object([name, path, ("readOnly", true.into())])
        } else {
            object([name, path])
        };
        self.push("volumeMounts", mount);
        self
    }
    /// Sets the liveness probe (see [`probe`]).
    pub fn liveness_probe(self, probe: Value) -> Self {
        self.set("livenessProbe", probe)
    }
    /// Sets the readiness probe (see [`probe`]).
    pub fn readiness_probe(self, probe: Value) -> Self {
        self.set("readinessProbe", probe)
    }
    /// Sets the startup probe (see [`probe`]).
    pub fn startup_probe(self, probe: Value) -> Self {
        self.set("startupProbe", probe)
    }
    /// The container JSON.
    pub fn build(self) -> Value {
        Value::Object(self.fields)
    }
}

impl From<ContainerBuilder> for Value {
    fn from(b: ContainerBuilder) -> Value {
        b.build()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_a_container() {
        let c = ContainerBuilder::new("helper", "busybox:1.36")
            .command(["sh", "-c"])
            .arg("echo hi")
            .env("A", "1")
            .env_field("POD", "metadata.name")
            .port("http", 8080)
            .requests("10m", "16Mi")
            .limits("", "64Mi")
            .hardened_as(65534)
            .mount("data", "/data", true)
            .liveness_probe(probe::http_get("/healthz", "http"))
            .build();
        assert_eq!(c["name"], "helper");
        assert_eq!(c["command"], json!(["sh", "-c"]));
        assert_eq!(c["args"], json!(["echo hi"]));
        assert_eq!(
            c["env"][1]["valueFrom"]["fieldRef"]["fieldPath"],
            "metadata.name"
        );
        assert_eq!(
            c["ports"][0],
            json!({"name": "http", "containerPort": 8080, "protocol": "TCP"})
        );
        assert_eq!(
            c["resources"],
            json!({"requests": {"cpu": "10m", "memory": "16Mi"}, "limits": {"memory": "64Mi"}})
        );
        assert_eq!(c["securityContext"]["runAsUser"], 65534);
        assert_eq!(c["securityContext"]["capabilities"]["drop"], json!(["ALL"]));
        assert_eq!(c["volumeMounts"][0]["readOnly"], true);
        assert_eq!(c["livenessProbe"]["httpGet"]["port"], "http");
        let keys: Vec<&str> = c
            .as_object()
            .map(|o| o.keys().map(String::as_str).collect())
            .unwrap_or_default();
        assert_eq!(&keys[..3], &["name", "image", "command"]);
    }

    #[test]
    fn hardened_preset() {
        let sc = hardened_security_context(None);
        assert_eq!(sc["runAsNonRoot"], true);
        assert_eq!(sc["readOnlyRootFilesystem"], true);
        assert_eq!(sc["allowPrivilegeEscalation"], false);
        assert_eq!(sc["seccompProfile"]["type"], "RuntimeDefault");
        assert!(sc.get("runAsUser").is_none());
        assert_eq!(probe::tcp_socket(5432)["tcpSocket"]["port"], 5432);
        assert_eq!(probe::exec(["true"])["exec"]["command"], json!(["true"]));
    }
}
