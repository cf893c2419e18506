//! What `render` returns: a [`Contribution`] of Kubernetes fragments, or a [`RenderError`].

use std::fmt;

use serde_json::{Value, json};

use crate::ContainerTarget;

/// Why a render failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RenderError {
    /// The parameters do not work together; say which and how to fix it.
    InvalidParams(String),
    /// The workload does not suit this pattern; say why.
    UnsupportedWorkload(String),
    /// Anything else.
    Failed(String),
    /// The pattern does not apply to this workload (say, it lacks the annotation the plugin
    /// reads): the host reports a skip with this reason and patches the rest of the stream.
    NotApplicable(String),
}

impl fmt::Display for RenderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RenderError::InvalidParams(m) => write!(f, "invalid parameters: {m}"),
            RenderError::UnsupportedWorkload(m) => write!(f, "unsupported workload: {m}"),
            RenderError::Failed(m) => write!(f, "{m}"),
            RenderError::NotApplicable(m) => write!(f, "not applicable: {m}"),
        }
    }
}

impl std::error::Error for RenderError {}

/// A fragment for an existing app container: a mount or an env var.
#[derive(Debug, Clone, PartialEq)]
pub struct Targeted {
    /// Which app containers get it.
    pub target: ContainerTarget,
    /// The core/v1 VolumeMount or EnvVar.
    pub json: Value,
}

/// What a plugin adds. Every fragment is JSON the host checks against the Kubernetes types
/// before merging; the plugin never edits the workload itself.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Contribution {
    /// Long-running helpers (core/v1 Container), made native sidecars or classic containers.
    pub containers: Vec<Value>,
    /// Run-to-completion init containers.
    pub init_containers: Vec<Value>,
    /// Helpers that must be native sidecars whatever the mode.
    pub native_sidecars: Vec<Value>,
    /// Volumes (core/v1 Volume).
    pub volumes: Vec<Value>,
    /// Mounts on app containers.
    pub mounts: Vec<Targeted>,
    /// Env vars on app containers.
    pub env: Vec<Targeted>,
    /// Pod template annotations.
    pub annotations: Vec<(String, String)>,
    /// Notes for the user, shown in the report.
    pub warnings: Vec<String>,
}

impl Contribution {
    /// An empty contribution.
    pub fn new() -> Self {
        Self::default()
    }
    /// Adds a long-running helper (a `ContainerBuilder` or container JSON).
    pub fn add_container(&mut self, container: impl Into<Value>) -> &mut Self {
        self.containers.push(container.into());
        self
    }
    /// Adds a run-to-completion init container.
    pub fn add_init_container(&mut self, container: impl Into<Value>) -> &mut Self {
        self.init_containers.push(container.into());
        self
    }
    /// Adds a helper that must be a native sidecar.
    pub fn add_native_sidecar(&mut self, container: impl Into<Value>) -> &mut Self {
        self.native_sidecars.push(container.into());
        self
    }
    /// Adds a volume (core/v1 Volume JSON).
    pub fn add_volume(&mut self, volume: Value) -> &mut Self {
        self.volumes.push(volume);
        self
    }
    /// Adds an in-memory or disk emptyDir volume with a size limit.
    pub fn add_empty_dir(&mut self, name: &str, in_memory: bool, size_limit: &str) -> &mut Self {
        let mut empty_dir = json!({"sizeLimit": size_limit});
        if in_memory {
            empty_dir["medium"] = json!("Memory");
        }
        self.add_volume(json!({"name": name, "emptyDir": empty_dir}))
    }
    /// Mounts a volume (core/v1 VolumeMount JSON) in the `target` app containers.
    pub fn add_mount(&mut self, target: ContainerTarget, mount: Value) -> &mut Self {
        self.mounts.push(Targeted {
            target,
            json: mount,
        });
        self
    }
    /// Adds an env var (core/v1 EnvVar JSON) to the `target` app containers.
    pub fn add_env(&mut self, target: ContainerTarget, env: Value) -> &mut Self {
        self.env.push(Targeted { target, json: env });
        self
    }
    /// Adds a literal env var to the `target` app containers.
    pub fn add_env_value(
        &mut self,
        target: ContainerTarget,
        name: &str,
        value: impl Into<String>,
    ) -> &mut Self {
        self.add_env(target, json!({"name": name, "value": value.into()}))
    }
    /// Sets a pod template annotation.
    pub fn annotate(&mut self, key: impl Into<String>, value: impl Into<String>) -> &mut Self {
        self.annotations.push((key.into(), value.into()));
        self
    }
    /// Adds a note for the user.
    pub fn warn(&mut self, message: impl Into<String>) -> &mut Self {
        self.warnings.push(message.into());
        self
    }
    /// Whether nothing was added.
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ContainerBuilder;

    #[test]
    fn builds_a_contribution() {
        let mut c = Contribution::new();
        assert!(c.is_empty());
        c.add_container(ContainerBuilder::new("a", "img"))
            .add_init_container(json!({"name": "i", "image": "img"}))
            .add_native_sidecar(json!({"name": "n", "image": "img"}))
            .add_empty_dir("v", true, "1Mi")
            .add_mount(
                ContainerTarget::Main,
                json!({"name": "v", "mountPath": "/v"}),
            )
            .add_mount(
                ContainerTarget::All,
                json!({"name": "v", "mountPath": "/w"}),
            )
            .add_env_value(ContainerTarget::Named("app".into()), "X", "1")
            .annotate("k", "v")
            .warn("careful");
        assert_eq!(c.containers[0]["name"], "a");
        assert_eq!(
            c.volumes[0],
            json!({"name": "v", "emptyDir": {"sizeLimit": "1Mi", "medium": "Memory"}})
        );
        assert_eq!(c.mounts[0].target, ContainerTarget::Main);
        assert_eq!(c.mounts[1].target, ContainerTarget::All);
        assert_eq!(c.env[0].target, ContainerTarget::Named("app".into()));
        assert_eq!(c.env[0].json, json!({"name": "X", "value": "1"}));
        assert_eq!(c.annotations, vec![("k".to_owned(), "v".to_owned())]);
        assert_eq!(c.warnings, vec!["careful"]);
        assert!(!c.is_empty());
    }

    #[test]
    fn error_messages() {
        assert_eq!(
            RenderError::InvalidParams("x".into()).to_string(),
            "invalid parameters: x"
        );
        assert_eq!(RenderError::Failed("boom".into()).to_string(), "boom");
        assert_eq!(
            RenderError::NotApplicable("no annotation".into()).to_string(),
            "not applicable: no annotation"
        );
    }
}
