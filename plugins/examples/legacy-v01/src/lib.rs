//! `legacy-v01`: a plugin built against the frozen contract `kubectl-pattern:plugin@0.1.0`
//! (wit/deps/plugin-0.1.0) with `wit-bindgen` alone. It adds a small sidecar, gives every
//! app container ("*") and the main container (none) an env var each, and passes on the
//! target version as 0.1 receives it: a string, "" when unknown.

wit_bindgen::generate!({
    world: "pattern-plugin",
    path: "../../../wit/deps/plugin-0.1.0",
});

use exports::kubectl_pattern::plugin::pattern::Guest;
use kubectl_pattern::plugin::types::{
    Contribution, Docs, EnvVar, ParamSpec, ParamType, PatternInfo, PatternKind, RenderError,
    RenderRequest,
};
use serde_json::{Value, json};

struct Legacy;

/// The `greeting` parameter (the host validated the params and filled in the default).
fn greeting(params_json: &str) -> Result<String, RenderError> {
    let params: Value = serde_json::from_str(params_json)
        .map_err(|e| RenderError::InvalidParams(format!("params are not JSON: {e}")))?;
    params["greeting"]
        .as_str()
        .map(str::to_string)
        .ok_or_else(|| RenderError::InvalidParams("greeting must be a string".into()))
}

impl Guest for Legacy {
    fn describe() -> PatternInfo {
        PatternInfo {
            id: "legacy-v01".into(),
            kind: PatternKind::Sidecar,
            version: "0.1.0".into(),
            summary: "A sidecar from a plugin built against contract 0.1.0".into(),
            docs: Docs {
                description: "Adds a busybox sidecar and env vars, to show 0.1 plugins still load."
                    .into(),
                use_when: "Testing the host's support of contract 0.1.0.".into(),
                avoid_when: "Anything real.".into(),
                diagram: "[app] [legacy-v01]".into(),
            },
            params: vec![ParamSpec {
                name: "greeting".into(),
                kind: ParamType::String,
                description: "Text the sidecar and the app containers get.".into(),
                default_json: Some("\"hello\"".into()),
                required: false,
                values: vec![],
                pattern: Some("[a-z]+".into()),
                min: None,
                max: None,
                items: None,
                secret: false,
            }],
        }
    }

    fn render(request: RenderRequest) -> Result<Contribution, RenderError> {
        let greeting = greeting(&request.params_json)?;
        let version = request.target.kube_version;
        let container = json!({
            "name": request.instance,
            "image": "busybox:1.36",
            "command": ["sh", "-c", "echo $0; sleep infinity", greeting],
            "resources": {"requests": {"cpu": "5m", "memory": "8Mi"}, "limits": {"memory": "16Mi"}},
        });
        let env = |name: &str, value: &str| json!({"name": name, "value": value}).to_string();
        Ok(Contribution {
            containers: vec![container.to_string()],
            init_containers: vec![],
            native_sidecars: vec![],
            volumes: vec![],
            mounts: vec![],
            env: vec![
                EnvVar {
                    container: Some("*".into()),
                    env_var_json: env("LEGACY_GREETING", &greeting),
                },
                EnvVar {
                    container: None,
                    env_var_json: env("LEGACY_KUBE_VERSION", &version),
                },
            ],
            annotations: vec![],
            warnings: vec![],
        })
    }
}

export!(Legacy);
