//! What a pattern adds to a pod template: typed Kubernetes fragments, checked before any merge.

use k8s_openapi::api::core::v1::{Container, EnvVar, Volume, VolumeMount};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

use super::params::is_dns_label;

/// Which app containers a mount or env var goes to.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(from = "Option<String>", into = "Option<String>")]
pub enum ContainerTarget {
    /// The main container (`--container`, else the first).
    #[default]
    Main,
    /// Every app container.
    All,
    /// A container by name.
    Named(String),
}

impl From<Option<String>> for ContainerTarget {
    fn from(v: Option<String>) -> Self {
        match v.as_deref() {
            None | Some("") => ContainerTarget::Main,
            Some("*") => ContainerTarget::All,
            Some(name) => ContainerTarget::Named(name.to_string()),
        }
    }
}

impl From<ContainerTarget> for Option<String> {
    fn from(v: ContainerTarget) -> Self {
        match v {
            ContainerTarget::Main => None,
            ContainerTarget::All => Some("*".into()),
            ContainerTarget::Named(n) => Some(n),
        }
    }
}

/// A volume mount on an existing app container.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MountContribution {
    /// The app container(s).
    #[serde(default)]
    pub container: ContainerTarget,
    /// The mount.
    #[serde(flatten)]
    pub mount: VolumeMount,
}

/// An env var on an existing app container.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EnvContribution {
    /// The app container(s).
    #[serde(default)]
    pub container: ContainerTarget,
    /// The variable.
    #[serde(flatten)]
    pub env: EnvVar,
}

/// What a pattern adds. The host merges it; a pattern never edits the object itself.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Contribution {
    /// Long-running helpers, placed as native sidecars or classic containers by the host.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub containers: Vec<Container>,
    /// Run-to-completion init containers.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub init_containers: Vec<Container>,
    /// Helpers that must be native sidecars whatever the mode.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub native_sidecars: Vec<Container>,
    /// Volumes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub volumes: Vec<Volume>,
    /// Mounts on existing app containers.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mounts: Vec<MountContribution>,
    /// Env vars on existing app containers.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub env: Vec<EnvContribution>,
    /// Pod template annotations.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
    /// Notes for the report.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// The contribution as its author wrote it, used only to keep the author's key order in
    /// the merged fragments (the typed values above are what gets merged).
    #[serde(skip)]
    pub layout: Option<Value>,
    /// The typed contribution as JSON in the author's key order, computed once on first use.
    #[serde(skip)]
    pub(crate) ordered: std::sync::OnceLock<Value>,
}

/// A Kubernetes label/annotation key: an optional DNS-subdomain prefix and `/`, then a name of
/// at most 63 characters (alphanumerics, `-`, `_`, `.`, starting and ending alphanumeric).
fn is_qualified_name(key: &str) -> bool {
    let (prefix, name) = match key.rsplit_once('/') {
        Some((p, n)) => (Some(p), n),
        None => (None, key),
    };
    let name_ok = !name.is_empty()
        && name.len() <= 63
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name.ends_with(|c: char| c.is_ascii_alphanumeric());
    name_ok && prefix.is_none_or(super::params::is_dns_subdomain)
}

/// Collects the paths of keys in `raw` that the typed value does not have (unknown fields,
/// which would otherwise be dropped without a word). Nulls and empty lists or maps count as
/// absent (the typed value omits them).
fn unknown_fields(raw: &Value, typed: &Value, path: &mut String, out: &mut Vec<String>) {
    // `path` is one buffer extended and truncated on the way down: only unknown keys cost an
    // allocation (this runs on every plugin render).
    let at = path.len();
    match (raw, typed) {
        (Value::Object(r), Value::Object(t)) => {
            for (key, value) in r.iter().filter(|(_, v)| !is_empty(v)) {
                if at > 0 {
                    path.push('.');
                }
                path.push_str(key);
                match t.get(key) {
                    Some(tv) => unknown_fields(value, tv, path, out),
                    None => out.push(path.clone()),
                }
                path.truncate(at);
            }
        }
        (Value::Array(r), Value::Array(t)) => {
            for (i, (rv, tv)) in r.iter().zip(t).enumerate() {
                path.push_str(&format!("[{i}]"));
                unknown_fields(rv, tv, path, out);
                path.truncate(at);
            }
        }
        _ => {}
    }
}

fn is_empty(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Array(a) => a.is_empty(),
        Value::Object(m) => m.is_empty(),
        _ => false,
    }
}

/// Orders the keys of `typed` like those of `layout` (keys `layout` lacks come last), deeply.
pub fn ordered_like(typed: Value, layout: Option<&Value>) -> Value {
    match (typed, layout) {
        (Value::Object(mut map), Some(Value::Object(guide))) => {
            let mut out = serde_json::Map::new();
            for (key, sub) in guide {
                if let Some(v) = map.remove(key) {
                    out.insert(key.clone(), ordered_like(v, Some(sub)));
                }
            }
            out.extend(map);
            Value::Object(out)
        }
        (Value::Array(items), Some(Value::Array(guide))) => Value::Array(
            items
                .into_iter()
                .enumerate()
                .map(|(i, v)| ordered_like(v, guide.get(i)))
                .collect(),
        ),
        (other, _) => other,
    }
}

impl Contribution {
    /// Parses a contribution from YAML or JSON text, keeping its layout.
    pub fn parse(text: &str) -> Result<Self, super::yaml::YamlError> {
        let mut c: Contribution = super::yaml::from_str(text)?;
        c.layout = super::yaml::from_str::<Value>(text).ok();
        Ok(c)
    }

    /// The typed contribution as JSON in the author's key order (computed once; used by the
    /// unknown-field check and by every merge of this contribution).
    fn ordered(&self) -> &Value {
        self.ordered.get_or_init(|| {
            let typed = serde_json::to_value(self).unwrap_or(Value::Null);
            ordered_like(typed, self.layout.as_ref())
        })
    }

    /// Uses `fragments` (the contribution as JSON, in the author's key order) for the merge
    /// instead of serialising the typed values again. For fragments already parsed as their
    /// Kubernetes types with no unknown field and no null: the JSON then carries exactly the typed
    /// data. Plugins render per object, so this saves a serialise-and-reorder on every render.
    pub fn with_checked_fragments(mut self, fragments: Value) -> Self {
        self.layout = None;
        self.ordered = std::sync::OnceLock::from(fragments);
        self
    }

    /// The typed fragment at `index` of list `key` (`containers`, `mounts`…) as JSON, in the
    /// author's key order; for mounts and env without the `container` target.
    pub fn fragment(&self, key: &str, index: usize) -> Value {
        let mut item = self
            .ordered()
            .get(key)
            .and_then(|l| l.get(index))
            .cloned()
            .unwrap_or(Value::Null);
        if matches!(key, "mounts" | "env")
            && let Some(map) = item.as_object_mut()
        {
            map.remove("container");
        }
        item
    }

    /// Every helper and init container, in order.
    pub fn all_containers(&self) -> impl Iterator<Item = &Container> {
        self.containers
            .iter()
            .chain(&self.native_sidecars)
            .chain(&self.init_containers)
    }

    /// Least privilege: a pattern may add helpers, not power. Refused: privileged or
    /// privilege-escalating helpers, added capabilities, host paths and host ports, and changes
    /// to how the app's own containers load code (LD_* variables, mounts over system paths).
    fn privilege_problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        for c in self.all_containers() {
            let sc = c.security_context.as_ref();
            if sc.and_then(|s| s.privileged) == Some(true) {
                problems.push(format!("container {:?} asks to be privileged", c.name));
            }
            if sc.and_then(|s| s.allow_privilege_escalation) == Some(true) {
                problems.push(format!(
                    "container {:?} allows privilege escalation",
                    c.name
                ));
            }
            if sc
                .and_then(|s| s.capabilities.as_ref())
                .and_then(|k| k.add.as_ref())
                .is_some_and(|a| !a.is_empty())
            {
                problems.push(format!("container {:?} adds Linux capabilities", c.name));
            }
            if c.ports.iter().flatten().any(|p| p.host_port.is_some()) {
                problems.push(format!("container {:?} binds a host port", c.name));
            }
        }
        for v in self.volumes.iter().filter(|v| v.host_path.is_some()) {
            problems.push(format!(
                "volume {:?} mounts a path of the node (hostPath)",
                v.name
            ));
        }
        for e in self.env.iter().filter(|e| e.env.name.starts_with("LD_")) {
            problems.push(format!(
                "env var {} on an app container changes how it loads code",
                e.env.name
            ));
        }
        const SYSTEM: [&str; 10] = [
            "/", "/bin", "/sbin", "/lib", "/lib64", "/usr", "/etc", "/proc", "/sys", "/dev",
        ];
        for m in &self.mounts {
            let path = m.mount.mount_path.trim_end_matches('/');
            let path = if path.is_empty() { "/" } else { path };
            if SYSTEM
                .iter()
                .any(|s| path == *s || (*s != "/" && path.starts_with(&format!("{s}/"))))
            {
                problems.push(format!(
                    "a mount over the system path {path} of an app container"
                ));
            }
        }
        problems
    }

    /// Checks what the Kubernetes types alone cannot: names are DNS labels and unique within
    /// the contribution, images are set, init containers have no probes, mounts name a volume
    /// and a path. Returns every problem.
    pub fn check(&self) -> Result<(), Vec<String>> {
        let mut problems = Vec::new();
        let mut names = BTreeSet::new();
        for c in self.all_containers() {
            if !is_dns_label(&c.name) {
                problems.push(format!("container name {:?} is not a DNS label", c.name));
            }
            if !names.insert(c.name.as_str()) {
                problems.push(format!("container {:?} is contributed twice", c.name));
            }
            if c.image.as_deref().is_none_or(str::is_empty) {
                problems.push(format!("container {:?} has no image", c.name));
            }
            if c.restart_policy.is_some() {
                problems.push(format!(
                    "container {:?} sets restartPolicy; the host decides it (use nativeSidecars for helpers that must be native)",
                    c.name
                ));
            }
        }
        for c in &self.init_containers {
            if c.liveness_probe.is_some()
                || c.readiness_probe.is_some()
                || c.startup_probe.is_some()
            {
                problems.push(format!(
                    "init container {:?} has probes; init containers run to completion and cannot have them",
                    c.name
                ));
            }
        }
        let mut volumes = BTreeSet::new();
        for v in &self.volumes {
            if !is_dns_label(&v.name) {
                problems.push(format!("volume name {:?} is not a DNS label", v.name));
            }
            if !volumes.insert(v.name.as_str()) {
                problems.push(format!("volume {:?} is contributed twice", v.name));
            }
        }
        for m in &self.mounts {
            if m.mount.name.is_empty() || m.mount.mount_path.is_empty() {
                problems.push("a mount needs name and mountPath".to_string());
            }
        }
        for e in &self.env {
            if e.env.name.is_empty() {
                problems.push("an env var needs a name".to_string());
            }
        }
        problems.extend(self.privilege_problems());
        for key in self.annotations.keys() {
            if !is_qualified_name(key) {
                problems.push(format!(
                    "annotation key {key:?} is not a valid Kubernetes key (prefix/name)"
                ));
            } else if key.starts_with("pattern.kubectl.io/") {
                problems.push(format!(
                    "annotation key {key:?} is reserved for kubectl-pattern's own tracking"
                ));
            }
        }
        if let Some(layout) = &self.layout {
            let mut unknown = Vec::new();
            unknown_fields(layout, self.ordered(), &mut String::new(), &mut unknown);
            problems.extend(
                unknown
                    .into_iter()
                    .map(|p| format!("{p} is not a field of its Kubernetes type (misspelt?)")),
            );
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Contribution, String> {
        Contribution::parse(text).map_err(|e| e.message)
    }

    #[test]
    fn parses_targets_and_flattened_fields() {
        let c = parse(
            "mounts:\n- name: v\n  mountPath: /v\n  container: '*'\n- name: w\n  mountPath: /w\nenv:\n- name: A\n  value: b\n  container: app\n",
        )
        .unwrap();
        assert_eq!(c.mounts[0].container, ContainerTarget::All);
        assert_eq!(c.mounts[1].container, ContainerTarget::Main);
        assert_eq!(c.env[0].container, ContainerTarget::Named("app".into()));
        assert_eq!(c.env[0].env.value.as_deref(), Some("b"));
    }

    #[test]
    fn unknown_keys_and_bad_fragments_are_refused() {
        assert!(parse("serviceAccountName: root\n").is_err());
        assert!(parse("containers:\n- name: x\n  image: [1]\n").is_err());
    }

    #[test]
    fn patterns_cannot_widen_privileges_or_use_reserved_keys() {
        let c = parse("containers:\n- name: x\n  image: a:1\n  securityContext: {privileged: true, capabilities: {add: [NET_ADMIN]}}\n  ports: [{containerPort: 80, hostPort: 80}]\nvolumes:\n- {name: root, hostPath: {path: /}}\nmounts:\n- {name: root, mountPath: /usr/bin}\nenv:\n- {name: LD_PRELOAD, value: /x.so}\nannotations:\n  pattern.kubectl.io/applied: '[]'\n  'not a key!': x\n").unwrap();
        let problems = c.check().unwrap_err().join("\n");
        for needle in [
            "privileged",
            "capabilities",
            "host port",
            "hostPath",
            "system path /usr/bin",
            "LD_PRELOAD",
            "reserved",
            "not a valid Kubernetes key",
        ] {
            assert!(problems.contains(needle), "{needle} missing:\n{problems}");
        }
    }

    #[test]
    fn unknown_fields_are_refused_not_dropped() {
        let c = parse("containers:\n- name: x\n  image: a:1\n  imagePulPolicy: Always\n  resources: {limitz: {cpu: 1}}\n").unwrap();
        let problems = c.check().unwrap_err();
        assert!(
            problems
                .iter()
                .any(|p| p.starts_with("containers[0].imagePulPolicy")),
            "{problems:?}"
        );
        assert!(
            problems
                .iter()
                .any(|p| p.starts_with("containers[0].resources.limitz")),
            "{problems:?}"
        );
    }

    #[test]
    fn check_lists_every_problem() {
        let c = parse(
            "containers:\n- name: Bad_Name\n- name: dup\n  image: a:1\ninitContainers:\n- name: dup\n  image: b:1\n  readinessProbe: {tcpSocket: {port: 1}}\n",
        )
        .unwrap();
        let problems = c.check().unwrap_err();
        assert_eq!(problems.len(), 4, "{problems:#?}");
    }
}

#[cfg(test)]
mod layout_tests {
    use super::*;

    #[test]
    fn fragments_keep_the_authors_key_order() {
        let c = Contribution::parse("containers:\n- name: x\n  image: a:1\n  args: [b]\n  volumeMounts:\n  - name: v\n    mountPath: /v\n").unwrap();
        let v = c.fragment("containers", 0);
        let keys: Vec<&String> = v.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["name", "image", "args", "volumeMounts"]);
        let mount_keys: Vec<&String> = v["volumeMounts"][0].as_object().unwrap().keys().collect();
        assert_eq!(mount_keys, ["name", "mountPath"]);
    }
}
