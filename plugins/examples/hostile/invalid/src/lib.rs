//! `hostile-invalid`: a fixture for the host's sandbox tests; `render` returns fragments that
//! are not valid Kubernetes objects. It implements the generated `Guest` trait directly (not
//! the SDK's `Pattern`), so it can also return text that is not JSON at all.
//!
//! Modes (`--set mode=...`): `types` (default: `{"name": 5}` and `"image": ["x"]`), `syntax`
//! (truncated JSON), `unknown-field` (a field core/v1 Container does not have), `volume`,
//! `mount`, `env` (ill-typed fragments of each) and `annotation` (an invalid key).

use kubectl_pattern_sdk::bindings::exports::kubectl_pattern::plugin::pattern::Guest;
use kubectl_pattern_sdk::bindings::kubectl_pattern::plugin::types as wit;
use kubectl_pattern_sdk::prelude::*;

/// The modes, the first being the default.
pub const MODES: [&str; 7] = [
    "types",
    "syntax",
    "unknown-field",
    "volume",
    "mount",
    "env",
    "annotation",
];

#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
struct HostileInvalid;

fn empty() -> wit::Contribution {
    wit::Contribution {
        containers: Vec::new(),
        init_containers: Vec::new(),
        native_sidecars: Vec::new(),
        volumes: Vec::new(),
        mounts: Vec::new(),
        env: Vec::new(),
        annotations: Vec::new(),
        warnings: Vec::new(),
    }
}

/// The contribution for a mode.
pub fn invalid(mode: &str, instance: &str) -> wit::Contribution {
    let helper = json!({"name": instance, "image": "busybox:1.36"}).to_string();
    let mut c = empty();
    match mode {
        "syntax" => c
            .containers
            .push(format!(r#"{{"name": "{instance}", "image": "#)),
        "unknown-field" => c.containers.push(
            json!({"name": instance, "image": "busybox:1.36", "privileged": true, "hostPID": true})
                .to_string(),
        ),
        "volume" => {
            c.containers.push(helper);
            c.volumes
                .push(json!({"name": "v", "emptyDir": "yes please"}).to_string());
        }
        "mount" => {
            c.containers.push(helper);
            c.mounts.push(wit::Mount {
                target: wit::ContainerTarget::Main,
                volume_mount_json: json!({"name": 1, "mountPath": ["/"]}).to_string(),
            });
        }
        "env" => {
            c.containers.push(helper);
            c.env.push(wit::EnvVar {
                target: wit::ContainerTarget::Main,
                env_var_json: json!({"name": ["X"], "value": 7}).to_string(),
            });
        }
        "annotation" => {
            c.containers.push(helper);
            c.annotations.push(("not a valid key!".into(), "x".into()));
        }
        _ => {
            c.containers
                .push(json!({"name": 5, "image": "busybox:1.36"}).to_string());
            c.containers
                .push(json!({"name": format!("{instance}-2"), "image": ["x"]}).to_string());
        }
    }
    c
}

impl Guest for HostileInvalid {
    fn describe() -> wit::PatternInfo {
        let info = PatternInfo::new(
            "hostile-invalid",
            PatternKind::Sidecar,
            "0.1.0",
            "Test fixture: render returns invalid objects",
        )
        .docs(
            "A sandbox test fixture: render returns fragments that are not valid Kubernetes objects.",
            "Testing the host's validation of plugin output.",
            "Anything else.",
            "(none)",
        )
        .param(Param::enumeration("mode", "Which invalid output.", MODES).default(MODES[0]));
        kubectl_pattern_sdk::export::info_to_wit(info)
    }

    fn render(request: wit::RenderRequest) -> Result<wit::Contribution, wit::RenderError> {
        let params: Value = serde_json::from_str(&request.params_json).unwrap_or(Value::Null);
        let mode = params
            .get("mode")
            .and_then(Value::as_str)
            .unwrap_or(MODES[0]);
        Ok(invalid(mode, &request.instance))
    }
}

#[cfg(target_arch = "wasm32")]
kubectl_pattern_sdk::bindings::export_plugin!(HostileInvalid with_types_in kubectl_pattern_sdk::bindings);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_mode_is_invalid_in_its_own_way() {
        let types = invalid("types", "h");
        assert_eq!(types.containers[0], r#"{"name":5,"image":"busybox:1.36"}"#);
        assert!(types.containers[1].contains(r#""image":["x"]"#));
        assert!(serde_json::from_str::<Value>(&invalid("syntax", "h").containers[0]).is_err());
        assert!(invalid("unknown-field", "h").containers[0].contains("hostPID"));
        assert_eq!(invalid("volume", "h").volumes.len(), 1);
        assert_eq!(invalid("mount", "h").mounts.len(), 1);
        assert_eq!(invalid("env", "h").env.len(), 1);
        assert_eq!(invalid("annotation", "h").annotations.len(), 1);
        assert_eq!(invalid("nonsense", "h").containers, types.containers);
    }
}
