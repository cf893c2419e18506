//! One render: the workload, the validated parameters and the target ([`Request`]).

use serde_json::{Map, Value, json};

use crate::RenderError;
use crate::workload::Workload;

/// Where the host will place long-running helpers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SidecarMode {
    /// initContainers with `restartPolicy: Always` (Kubernetes >= 1.29).
    #[default]
    Native,
    /// spec.containers.
    Classic,
}

/// What `render` receives: the workload object, the parameters (validated by the host, defaults
/// filled in), the instance name, the main container and the target.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    workload: Value,
    params: Map<String, Value>,
    instance: String,
    main_container: String,
    kube_version: String,
    sidecar_mode: SidecarMode,
}

impl Request {
    /// A request for tests: instance `helper`, the first container as the main container,
    /// an unknown Kubernetes version and native sidecars. Adjust with the `with_*` methods.
    pub fn new(workload: Value, params: Map<String, Value>) -> Self {
        let main_container = Workload::new(&workload)
            .containers()
            .first()
            .and_then(|c| c.get("name"))
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        Request {
            workload,
            params,
            instance: "helper".to_owned(),
            main_container,
            kube_version: String::new(),
            sidecar_mode: SidecarMode::Native,
        }
    }

    /// Builds a request from the JSON texts the host sends.
    pub fn from_json(
        workload_json: &str,
        params_json: &str,
        instance: String,
        main_container: String,
        kube_version: String,
        sidecar_mode: SidecarMode,
    ) -> Result<Self, RenderError> {
        let workload: Value = serde_json::from_str(workload_json).map_err(|e| {
            RenderError::Failed(format!("the host sent an unreadable workload: {e}"))
        })?;
        if !workload.is_object() {
            return Err(RenderError::Failed(
                "the host sent a workload that is not an object".into(),
            ));
        }
        let params = match serde_json::from_str::<Value>(params_json) {
            Ok(Value::Object(map)) => map,
            Ok(Value::Null) => Map::new(),
            Ok(_) => {
                return Err(RenderError::Failed(
                    "the host sent parameters that are not an object".into(),
                ));
            }
            Err(e) => {
                return Err(RenderError::Failed(format!(
                    "the host sent unreadable parameters: {e}"
                )));
            }
        };
        Ok(Request {
            workload,
            params,
            instance,
            main_container,
            kube_version,
            sidecar_mode,
        })
    }

    /// Sets the instance name.
    pub fn with_instance(mut self, instance: impl Into<String>) -> Self {
        self.instance = instance.into();
        self
    }
    /// Sets the main container.
    pub fn with_main_container(mut self, name: impl Into<String>) -> Self {
        self.main_container = name.into();
        self
    }
    /// Sets the target Kubernetes version (`1.31`).
    pub fn with_kube_version(mut self, version: impl Into<String>) -> Self {
        self.kube_version = version.into();
        self
    }
    /// Sets the sidecar mode.
    pub fn with_sidecar_mode(mut self, mode: SidecarMode) -> Self {
        self.sidecar_mode = mode;
        self
    }

    /// The whole workload object (Deployment, Job, Pod…).
    pub fn workload(&self) -> &Value {
        &self.workload
    }
    /// Typed read-only helpers over the workload.
    pub fn view(&self) -> Workload<'_> {
        Workload::new(&self.workload)
    }
    /// The instance name: name what you add after it.
    pub fn instance(&self) -> &str {
        &self.instance
    }
    /// A name derived from the instance: `name("config")` is `<instance>-config`.
    pub fn name(&self, suffix: &str) -> String {
        format!("{}-{suffix}", self.instance)
    }
    /// The app container that gets mounts and env by default.
    pub fn main_container(&self) -> &str {
        &self.main_container
    }
    /// The main container's JSON, if the workload has it.
    pub fn main_container_json(&self) -> Option<&Value> {
        self.view().container(&self.main_container)
    }
    /// The main container's JSON, or the unsupported-workload error naming the object.
    pub fn require_main_container(&self) -> Result<&Value, RenderError> {
        self.main_container_json().ok_or_else(|| {
            let view = self.view();
            RenderError::UnsupportedWorkload(format!(
                "{} {} has no container {}",
                view.kind(),
                view.name(),
                self.main_container
            ))
        })
    }
    /// The target Kubernetes version (`1.37`), or "" when unknown.
    pub fn kube_version(&self) -> &str {
        &self.kube_version
    }
    /// The target version as (major, minor), when known.
    pub fn kube_minor(&self) -> Option<(u32, u32)> {
        let v = self.kube_version.trim_start_matches('v');
        let mut parts = v.split('.');
        let major = parts.next()?.parse().ok()?;
        let minor: String = parts
            .next()?
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        Some((major, minor.parse().ok()?))
    }
    /// Where the host places long-running helpers.
    pub fn sidecar_mode(&self) -> SidecarMode {
        self.sidecar_mode
    }
    /// Whether long-running helpers become native sidecars.
    pub fn native_sidecars(&self) -> bool {
        self.sidecar_mode == SidecarMode::Native
    }

    /// All parameters.
    pub fn params(&self) -> &Map<String, Value> {
        &self.params
    }
    /// One parameter; `null` counts as absent.
    pub fn param(&self, name: &str) -> Option<&Value> {
        self.params.get(name).filter(|v| !v.is_null())
    }
    /// A text parameter (empty text counts as absent).
    pub fn param_str(&self, name: &str) -> Option<&str> {
        self.param(name)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    }
    /// A whole-number parameter (a number, or text holding one).
    pub fn param_i64(&self, name: &str) -> Option<i64> {
        match self.param(name)? {
            Value::Number(n) => n.as_i64(),
            Value::String(s) => s.trim().parse().ok(),
            _ => None,
        }
    }
    /// A boolean parameter (`true`/`false`, or that text).
    pub fn param_bool(&self, name: &str) -> Option<bool> {
        match self.param(name)? {
            Value::Bool(b) => Some(*b),
            Value::String(s) => s.trim().parse().ok(),
            _ => None,
        }
    }
    /// A list parameter (an array, or comma-separated text); empty when absent.
    pub fn param_list(&self, name: &str) -> Vec<String> {
        match self.param(name) {
            Some(Value::Array(items)) => items
                .iter()
                .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned))
                .collect(),
            Some(Value::String(s)) => s
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect(),
            _ => Vec::new(),
        }
    }
    /// A text parameter that must be there, else [`RenderError::InvalidParams`].
    pub fn require_str(&self, name: &str) -> Result<&str, RenderError> {
        self.param_str(name).ok_or_else(|| {
            RenderError::InvalidParams(format!("{name} is required: --set {name}=VALUE"))
        })
    }
    /// A whole-number parameter that must be there, else [`RenderError::InvalidParams`].
    pub fn require_i64(&self, name: &str) -> Result<i64, RenderError> {
        self.param_i64(name).ok_or_else(|| {
            RenderError::InvalidParams(format!("{name} is required: --set {name}=NUMBER"))
        })
    }
    /// A port parameter (1-65535) that must be there, else [`RenderError::InvalidParams`].
    pub fn require_port(&self, name: &str) -> Result<u16, RenderError> {
        let n = self.require_i64(name)?;
        u16::try_from(n).ok().filter(|p| *p > 0).ok_or_else(|| {
            RenderError::InvalidParams(format!("{name} must be a port (1-65535), not {n}"))
        })
    }
    /// A core/v1 ResourceRequirements from the conventional parameters `cpuRequest`,
    /// `memoryRequest`, `cpuLimit` and `memoryLimit` (those given).
    pub fn resources(&self) -> Value {
        let pick = |cpu: &str, memory: &str| -> Map<String, Value> {
            [("cpu", cpu), ("memory", memory)]
                .into_iter()
                .filter_map(|(key, param)| Some((key.to_owned(), json!(self.param_str(param)?))))
                .collect()
        };
        let requests = pick("cpuRequest", "memoryRequest");
        let limits = pick("cpuLimit", "memoryLimit");
        let mut out = Map::new();
        if !requests.is_empty() {
            out.insert("requests".into(), Value::Object(requests));
        }
        if !limits.is_empty() {
            out.insert("limits".into(), Value::Object(limits));
        }
        Value::Object(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(params: Value) -> Request {
        let wl = json!({"kind": "Pod", "metadata": {"name": "web"},
            "spec": {"containers": [{"name": "app", "image": "nginx"}]}});
        let Value::Object(params) = params else {
            panic!("params must be an object")
        };
        Request::new(wl, params)
    }

    #[test]
    fn reads_params() {
        let r = req(
            json!({"s": "x", "e": "", "n": 5, "ns": "7", "b": true, "bs": "false",
            "l": ["a", "b"], "ls": "a, b,,c", "z": null}),
        );
        assert_eq!(r.param_str("s"), Some("x"));
        assert_eq!(r.param_str("e"), None);
        assert_eq!(r.param_i64("n"), Some(5));
        assert_eq!(r.param_i64("ns"), Some(7));
        assert_eq!(r.param_bool("b"), Some(true));
        assert_eq!(r.param_bool("bs"), Some(false));
        assert_eq!(r.param_list("l"), vec!["a", "b"]);
        assert_eq!(r.param_list("ls"), vec!["a", "b", "c"]);
        assert!(r.param("z").is_none());
        assert!(
            matches!(r.require_str("missing"), Err(RenderError::InvalidParams(m)) if m.contains("--set missing="))
        );
        assert!(r.require_port("n").is_ok());
        assert!(matches!(
            r.require_port("s"),
            Err(RenderError::InvalidParams(_))
        ));
    }

    #[test]
    fn defaults_and_target() {
        let r = req(json!({}))
            .with_kube_version("v1.31.2")
            .with_sidecar_mode(SidecarMode::Classic);
        assert_eq!(r.main_container(), "app");
        assert_eq!(
            r.main_container_json().and_then(|c| c["image"].as_str()),
            Some("nginx")
        );
        assert_eq!(r.instance(), "helper");
        assert_eq!(r.name("cfg"), "helper-cfg");
        assert_eq!(r.kube_minor(), Some((1, 31)));
        assert!(!r.native_sidecars());
        assert_eq!(req(json!({})).kube_minor(), None);
    }

    #[test]
    fn resources_from_params() {
        let r = req(json!({"cpuRequest": "10m", "memoryLimit": "64Mi"}));
        assert_eq!(
            r.resources(),
            json!({"requests": {"cpu": "10m"}, "limits": {"memory": "64Mi"}})
        );
        assert_eq!(req(json!({})).resources(), json!({}));
    }

    #[test]
    fn from_json_rejects_bad_input() {
        let ok = Request::from_json(
            "{}",
            "{}",
            "i".into(),
            "m".into(),
            String::new(),
            SidecarMode::Native,
        );
        assert!(ok.is_ok());
        let bad = Request::from_json(
            "[",
            "{}",
            "i".into(),
            "m".into(),
            String::new(),
            SidecarMode::Native,
        );
        assert!(matches!(bad, Err(RenderError::Failed(_))));
        let bad = Request::from_json(
            "{}",
            "[1]",
            "i".into(),
            "m".into(),
            String::new(),
            SidecarMode::Native,
        );
        assert!(matches!(bad, Err(RenderError::Failed(_))));
    }
}
