//! What a pattern adds to a pod template: Kubernetes fragments (each the author's JSON and its
//! typed value, see `fragment`), checked before any merge. Templates and plugins build it
//! through the same fragment constructor, so one check refuses unknown fields.

use k8s_openapi::api::core::v1::{Container, EnvVar, Volume, VolumeMount};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use serde_saphyr::Spanned;
use std::collections::{BTreeMap, BTreeSet};

use super::fragment::{Fragment, FragmentError};
use super::params::is_dns_label;
use super::yaml::{self, YamlError};

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
#[derive(Debug, Clone, PartialEq)]
pub struct MountContribution {
    /// The app container(s).
    pub container: ContainerTarget,
    /// The mount (without the `container` target).
    pub mount: Fragment<VolumeMount>,
}

/// An env var on an existing app container.
#[derive(Debug, Clone, PartialEq)]
pub struct EnvContribution {
    /// The app container(s).
    pub container: ContainerTarget,
    /// The variable (without the `container` target).
    pub env: Fragment<EnvVar>,
}

/// What a pattern adds. The host merges it; a pattern never edits the object itself.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Contribution {
    /// Long-running helpers, placed as native sidecars or classic containers by the host.
    pub containers: Vec<Fragment<Container>>,
    /// Run-to-completion init containers.
    pub init_containers: Vec<Fragment<Container>>,
    /// Helpers that must be native sidecars whatever the mode.
    pub native_sidecars: Vec<Fragment<Container>>,
    /// Volumes.
    pub volumes: Vec<Fragment<Volume>>,
    /// Mounts on existing app containers.
    pub mounts: Vec<MountContribution>,
    /// Env vars on existing app containers.
    pub env: Vec<EnvContribution>,
    /// Pod template annotations.
    pub annotations: BTreeMap<String, String>,
    /// Notes for the report.
    pub warnings: Vec<String>,
}

/// A contribution's text is not a valid contribution.
#[derive(Debug, thiserror::Error)]
pub enum ContributionError {
    /// Not YAML of the contribution's shape (unknown top-level key, a list that is not one…).
    #[error(transparent)]
    Yaml(#[from] YamlError),
    /// Fragments that are not their Kubernetes types.
    #[error("{}", .0.iter().flat_map(FragmentProblem::problems).collect::<Vec<_>>().join("; "))]
    Fragments(Vec<FragmentProblem>),
}

/// One fragment that is not its Kubernetes type.
#[derive(Debug)]
pub struct FragmentProblem {
    /// Where it is: `containers[0]`, `mounts[1]`.
    pub at: String,
    /// 1-based line of the fragment in the text, when known.
    pub line: Option<u64>,
    /// What is wrong.
    pub error: FragmentError,
}

impl FragmentProblem {
    /// One message per problem, each naming the field's path.
    pub fn problems(&self) -> Vec<String> {
        self.error.problems(&self.at)
    }
}

/// The contribution as its author wrote it: each fragment as JSON, with its position.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Authored {
    #[serde(default)]
    containers: Vec<Spanned<Value>>,
    #[serde(default)]
    init_containers: Vec<Spanned<Value>>,
    #[serde(default)]
    native_sidecars: Vec<Spanned<Value>>,
    #[serde(default)]
    volumes: Vec<Spanned<Value>>,
    #[serde(default)]
    mounts: Vec<Spanned<Value>>,
    #[serde(default)]
    env: Vec<Spanned<Value>>,
    #[serde(default)]
    annotations: BTreeMap<String, String>,
    #[serde(default)]
    warnings: Vec<String>,
}

/// Builds the fragments of one list, collecting the problems of every item.
fn fragments<T: serde::de::DeserializeOwned>(
    key: &str,
    items: Vec<Spanned<Value>>,
    problems: &mut Vec<FragmentProblem>,
) -> Vec<Fragment<T>> {
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.into_iter().enumerate() {
        let line = Some(item.referenced.line()).filter(|l| *l > 0);
        match Fragment::new(item.value) {
            Ok(f) => out.push(f),
            Err(error) => problems.push(FragmentProblem {
                at: format!("{key}[{i}]"),
                line,
                error,
            }),
        }
    }
    out
}

/// Splits the `container` target off a mount or env var.
fn targeted(items: Vec<Spanned<Value>>) -> (Vec<ContainerTarget>, Vec<Spanned<Value>>) {
    items
        .into_iter()
        .map(|mut item| {
            let target = match item
                .value
                .as_object_mut()
                .and_then(|m| m.remove("container"))
            {
                Some(Value::String(s)) => ContainerTarget::from(Some(s)),
                Some(Value::Null) | None => ContainerTarget::Main,
                Some(other) => {
                    // Left in place so the fragment check reports it.
                    if let Some(map) = item.value.as_object_mut() {
                        map.insert("container".into(), other);
                    }
                    ContainerTarget::Main
                }
            };
            (target, item)
        })
        .unzip()
}

impl Contribution {
    /// Parses a contribution from YAML or JSON text (a template's rendering): every fragment
    /// through `Fragment::new`, in the author's key order.
    pub fn parse(text: &str) -> Result<Self, ContributionError> {
        let authored: Authored = yaml::from_str(text)?;
        let mut problems = Vec::new();
        let containers = fragments("containers", authored.containers, &mut problems);
        let init_containers = fragments("initContainers", authored.init_containers, &mut problems);
        let native_sidecars = fragments("nativeSidecars", authored.native_sidecars, &mut problems);
        let volumes = fragments("volumes", authored.volumes, &mut problems);
        let (mount_targets, mounts) = targeted(authored.mounts);
        let (env_targets, env) = targeted(authored.env);
        let mounts = fragments("mounts", mounts, &mut problems);
        let env = fragments("env", env, &mut problems);
        let contribution = Contribution {
            containers,
            init_containers,
            native_sidecars,
            volumes,
            mounts: mount_targets
                .into_iter()
                .zip(mounts)
                .map(|(container, mount)| MountContribution { container, mount })
                .collect(),
            env: env_targets
                .into_iter()
                .zip(env)
                .map(|(container, env)| EnvContribution { container, env })
                .collect(),
            annotations: authored.annotations,
            warnings: authored.warnings,
        };
        if problems.is_empty() {
            Ok(contribution)
        } else {
            Err(ContributionError::Fragments(problems))
        }
    }

    /// Every helper and init container, in order.
    pub fn all_containers(&self) -> impl Iterator<Item = &Fragment<Container>> {
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
        for m in &self.mounts {
            let path = m.mount.mount_path.trim_end_matches('/');
            let path = if path.is_empty() { "/" } else { path };
            if is_system_path(path) {
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
            if !super::params::is_qualified_name(key) {
                problems.push(format!(
                    "annotation key {key:?} is not a valid Kubernetes key (prefix/name)"
                ));
            } else if key.starts_with("pattern.kubectl.io/") {
                problems.push(format!(
                    "annotation key {key:?} is reserved for kubectl-pattern's own tracking"
                ));
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems)
        }
    }
}

/// Where a mount would change the code or configuration an app container runs with: the root,
/// the program and library directories, `/etc` and the kernel's file systems. Data under
/// `/usr/share` (`/usr/share/nginx/html`, where web servers serve from) is not code.
fn is_system_path(path: &str) -> bool {
    const SYSTEM: [&str; 16] = [
        "/bin",
        "/sbin",
        "/lib",
        "/lib32",
        "/lib64",
        "/usr/bin",
        "/usr/sbin",
        "/usr/lib",
        "/usr/lib64",
        "/usr/libexec",
        "/usr/local/bin",
        "/usr/local/lib",
        "/etc",
        "/proc",
        "/sys",
        "/dev",
    ];
    const WHOLE: [&str; 3] = ["/", "/usr", "/usr/local"];
    let under = |s: &str| path == s || path.starts_with(&format!("{s}/"));
    WHOLE.contains(&path) || SYSTEM.iter().any(|s| under(s))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Contribution, String> {
        Contribution::parse(text).map_err(|e| e.to_string())
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
    fn system_paths_are_code_and_configuration_not_served_data() {
        for path in [
            "/",
            "/usr",
            "/usr/bin",
            "/usr/lib/x86_64-linux-gnu",
            "/etc/nginx",
            "/lib",
            "/dev/shm",
            "/usr/local",
        ] {
            assert!(is_system_path(path), "{path}");
        }
        for path in [
            "/usr/share/nginx/html",
            "/srv/site",
            "/var/www",
            "/etcetera",
            "/git",
        ] {
            assert!(!is_system_path(path), "{path}");
        }
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
        let err = Contribution::parse("containers:\n- name: x\n  image: a:1\n  imagePulPolicy: Always\n  resources: {limitz: {cpu: 1}}\nmounts:\n- {name: v, mountPath: /v, container: '*', readOnlyy: true}\n").unwrap_err();
        let ContributionError::Fragments(problems) = &err else {
            panic!("{err:?}");
        };
        let messages: Vec<String> = problems
            .iter()
            .flat_map(FragmentProblem::problems)
            .collect();
        assert_eq!(
            messages,
            [
                "containers[0].imagePulPolicy is not a field of its Kubernetes type (misspelt?)",
                "containers[0].resources.limitz is not a field of its Kubernetes type (misspelt?)",
                "mounts[0].readOnlyy is not a field of its Kubernetes type (misspelt?)",
            ]
        );
        assert_eq!(problems[0].line, Some(2));
        assert_eq!(problems[1].line, Some(7));
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
        let c = Contribution::parse("containers:\n- name: x\n  image: a:1\n  args: [b]\n  volumeMounts:\n  - name: v\n    mountPath: /v\nenv:\n- {value: b, container: app, name: A}\n").unwrap();
        let v = c.containers[0].json();
        let keys: Vec<&String> = v.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["name", "image", "args", "volumeMounts"]);
        let mount_keys: Vec<&String> = v["volumeMounts"][0].as_object().unwrap().keys().collect();
        assert_eq!(mount_keys, ["name", "mountPath"]);
        // The target is not part of the env var.
        assert_eq!(
            c.env[0].env.json().to_string(),
            r#"{"value":"b","name":"A"}"#
        );
    }
}
