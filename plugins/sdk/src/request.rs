//! One render: the workload, the validated parameters and the target ([`Request`]).

use serde_json::{Map, Value};

use serde::de::DeserializeOwned;
use serde::de::value::MapDeserializer;

use crate::unfreed::Unfreed;
use crate::workload::Workload;
use crate::{KubeVersion, RenderError};

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
/// filled in) as `P` (see [`Pattern::Params`](crate::Pattern::Params)), the instance name, the
/// main container and the target. `Request` without a type holds the parameters as JSON:
/// what [`Request::new`] builds for tests and [`Request::typed`] reads into `P`.
///
/// Inside the sandbox the workload and the raw parameters are never freed (the host resets the
/// instance's memory after the call), so a clone of a request stays until the call ends.
#[derive(Debug, Clone, PartialEq)]
pub struct Request<P = Map<String, Value>> {
    workload: Unfreed<Value>,
    params: P,
    raw: Unfreed<Map<String, Value>>,
    instance: String,
    main_container: String,
    kube_version: Option<KubeVersion>,
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
            workload: Unfreed::new(workload),
            raw: Unfreed::new(params.clone()),
            params,
            instance: "helper".to_owned(),
            main_container,
            kube_version: None,
            sidecar_mode: SidecarMode::Native,
        }
    }

    /// Builds a request from the JSON texts the host sends.
    pub fn from_json(
        workload_json: &str,
        params_json: &str,
        instance: String,
        main_container: String,
        kube_version: Option<KubeVersion>,
        sidecar_mode: SidecarMode,
    ) -> Result<Self, RenderError> {
        let workload = crate::json_read::from_str(workload_json).map_err(|e| {
            RenderError::Failed(format!("the host sent an unreadable workload: {e}"))
        })?;
        if !workload.is_object() {
            return Err(RenderError::Failed(
                "the host sent a workload that is not an object".into(),
            ));
        }
        let params = match crate::json_read::from_str(params_json) {
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
            workload: Unfreed::new(workload),
            raw: Unfreed::new(params.clone()),
            params,
            instance,
            main_container,
            kube_version,
            sidecar_mode,
        })
    }

    /// The same request with the parameters read into `P`. The host has validated every
    /// value against the declared parameters, so a mismatch means `P` and `describe`
    /// disagree: [`RenderError::InvalidParams`] naming the field. The host sends `null` for a
    /// parameter that has no value: it is left out, so an `Option` field is `None` and a
    /// `#[serde(default)]` field its default.
    pub fn typed<P: DeserializeOwned>(self) -> Result<Request<P>, RenderError> {
        // Read from `raw` in place, nulls skipped (no copy of the map, which removing the
        // nulls would rehash), and without tracking where: the tracking copies every field's
        // name, on every render. Parameters that do not fit `P` are read again to name the
        // field.
        let given = self
            .raw
            .iter()
            .filter(|(_, v)| !v.is_null())
            .map(|(k, v)| (k.as_str(), v));
        let read = P::deserialize(MapDeserializer::<_, serde_json::Error>::new(given));
        let params = match read {
            Ok(params) => params,
            Err(_) => return Err(invalid_params::<P>(&self.raw)),
        };
        Ok(Request {
            workload: self.workload,
            params,
            raw: self.raw,
            instance: self.instance,
            main_container: self.main_container,
            kube_version: self.kube_version,
            sidecar_mode: self.sidecar_mode,
        })
    }
}

/// Why `raw` (without its nulls) does not read as `P`, naming the parameter.
fn invalid_params<P: DeserializeOwned>(raw: &Map<String, Value>) -> RenderError {
    let mut given = raw.clone();
    given.retain(|_, v| !v.is_null());
    match serde_path_to_error::deserialize::<_, P>(Value::Object(given)) {
        Err(e) => {
            let path = e.path().to_string();
            let inner = e.into_inner();
            RenderError::InvalidParams(if path == "." {
                inner.to_string()
            } else {
                format!("parameter {path}: {inner}")
            })
        }
        // The same text read the same way: not reached.
        Ok(_) => RenderError::InvalidParams("the parameters do not fit the plugin's".into()),
    }
}

impl<P> Request<P> {
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
    /// Sets the target Kubernetes version.
    pub fn with_kube_version(mut self, major: u32, minor: u32) -> Self {
        self.kube_version = Some(KubeVersion { major, minor });
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
    /// The target Kubernetes version, when known.
    pub fn kube_version(&self) -> Option<&KubeVersion> {
        self.kube_version.as_ref()
    }
    /// Where the host places long-running helpers.
    pub fn sidecar_mode(&self) -> SidecarMode {
        self.sidecar_mode
    }
    /// Whether long-running helpers become native sidecars.
    pub fn native_sidecars(&self) -> bool {
        self.sidecar_mode == SidecarMode::Native
    }

    /// The parameters.
    pub fn params(&self) -> &P {
        &self.params
    }
    /// The parameters as the host sent them (JSON, validated, defaults filled in).
    pub fn raw_params(&self) -> &Map<String, Value> {
        &self.raw
    }
    /// A core/v1 ResourceRequirements from the conventional parameters `cpuRequest`,
    /// `memoryRequest`, `cpuLimit` and `memoryLimit` (those given).
    pub fn resources(&self) -> Value {
        // Maps made at their final size (collecting or `Map::new` grows them insert by insert).
        let pick = |cpu: &str, memory: &str| -> Map<String, Value> {
            let mut part = Map::with_capacity(2);
            for (key, param) in [("cpu", cpu), ("memory", memory)] {
                if let Some(value) = self.raw.get(param).and_then(Value::as_str)
                    && !value.is_empty()
                {
                    part.insert(key.to_owned(), Value::String(value.to_owned()));
                }
            }
            part
        };
        let requests = pick("cpuRequest", "memoryRequest");
        let limits = pick("cpuLimit", "memoryLimit");
        let mut out = Map::with_capacity(2);
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
    use serde_json::json;

    fn req(params: Value) -> Request {
        let wl = json!({"kind": "Pod", "metadata": {"name": "web"},
            "spec": {"containers": [{"name": "app", "image": "nginx"}]}});
        let Value::Object(params) = params else {
            panic!("params must be an object")
        };
        Request::new(wl, params)
    }

    #[derive(Debug, serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Typed {
        image: String,
        listen_port: u16,
        #[serde(default)]
        hosts: Vec<String>,
        level: Option<String>,
    }

    #[test]
    fn reads_typed_params() {
        let r = req(
            json!({"image": "busybox", "listenPort": 8080, "hosts": ["a", "b"], "level": null}),
        )
        .typed::<Typed>()
        .expect("the params fit");
        let p = r.params();
        assert_eq!((p.image.as_str(), p.listen_port), ("busybox", 8080));
        assert_eq!(p.hosts, vec!["a", "b"]);
        assert_eq!(p.level, None);
        assert_eq!(r.raw_params()["listenPort"], json!(8080));
        let none = req(json!({"image": "busybox", "listenPort": 80, "hosts": null}))
            .typed::<Typed>()
            .expect("null is absent");
        assert!(none.params().hosts.is_empty());
    }

    #[test]
    fn a_mismatch_names_the_field() {
        let err = req(json!({"image": "busybox", "listenPort": "eighty"}))
            .typed::<Typed>()
            .unwrap_err();
        assert!(
            matches!(&err, RenderError::InvalidParams(m) if m.starts_with("parameter listenPort: invalid type")),
            "{err:?}"
        );
        let err = req(json!({"listenPort": 80})).typed::<Typed>().unwrap_err();
        assert!(
            matches!(&err, RenderError::InvalidParams(m) if m.contains("missing field `image`")),
            "{err:?}"
        );
    }

    #[test]
    fn defaults_and_target() {
        let r = req(json!({}))
            .with_kube_version(1, 31)
            .with_sidecar_mode(SidecarMode::Classic);
        assert_eq!(r.main_container(), "app");
        assert_eq!(
            r.main_container_json().and_then(|c| c["image"].as_str()),
            Some("nginx")
        );
        assert_eq!(r.instance(), "helper");
        assert_eq!(r.name("cfg"), "helper-cfg");
        assert_eq!(
            r.kube_version(),
            Some(&KubeVersion {
                major: 1,
                minor: 31
            })
        );
        assert!(!r.native_sidecars());
        assert_eq!(req(json!({})).kube_version(), None);
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
            None,
            SidecarMode::Native,
        );
        assert!(ok.is_ok());
        let bad = Request::from_json("[", "{}", "i".into(), "m".into(), None, SidecarMode::Native);
        assert!(matches!(bad, Err(RenderError::Failed(_))));
        let bad = Request::from_json(
            "{}",
            "[1]",
            "i".into(),
            "m".into(),
            None,
            SidecarMode::Native,
        );
        assert!(matches!(bad, Err(RenderError::Failed(_))));
    }
}
