//! Conversions between the WIT types and the engine's: plugin metadata into a `PatternSpec`
//! (checked like a template's), a render context into a request, and the returned fragments
//! into a `Contribution`, each fragment checked against its Kubernetes type.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::Value;

use kubectl_pattern_engine::contribution::{
    ContainerTarget, Contribution, EnvContribution, MountContribution,
};
use kubectl_pattern_engine::fragment::{Fragment, FragmentError};
use kubectl_pattern_engine::params::{ParamSpec, ParamType};
use kubectl_pattern_engine::pattern::{
    PatternDocs, PatternKind, PatternSource, PatternSpec, RenderContext,
};

use super::WasmError;
use super::bindings::wit;

/// The SDK's JSON reader, shared with the host: a fragment is read as the plugin's own side
/// reads the host's texts, at a cost near half of serde_json's generic one, and anything it is
/// not sure of goes to serde_json (its value and its error message).
#[path = "../../plugins/sdk/src/json_read.rs"]
mod json_read;

fn param_type(t: wit::ParamType) -> ParamType {
    match t {
        wit::ParamType::String => ParamType::String,
        wit::ParamType::Int => ParamType::Int,
        wit::ParamType::Bool => ParamType::Bool,
        wit::ParamType::Port => ParamType::Port,
        wit::ParamType::Quantity => ParamType::Quantity,
        wit::ParamType::Image => ParamType::Image,
        wit::ParamType::DnsName => ParamType::DnsName,
        wit::ParamType::Duration => ParamType::Duration,
        wit::ParamType::Enum => ParamType::Enum,
        wit::ParamType::List => ParamType::List,
    }
}

/// A plugin's self-description as a checked `PatternSpec`.
pub fn spec(info: wit::PatternInfo, path: &Path, sha256: &str) -> Result<PatternSpec, WasmError> {
    let invalid = |message: String| WasmError::Invalid {
        plugin: path.display().to_string(),
        what: "pattern info".into(),
        message,
    };
    let mut params = Vec::new();
    for p in info.params {
        let default = match p.default_json {
            None => None,
            Some(text) => Some(
                serde_json::from_str(&text)
                    .map_err(|e| invalid(format!("default of {} is not JSON: {e}", p.name)))?,
            ),
        };
        let spec = ParamSpec {
            name: p.name,
            kind: param_type(p.kind),
            description: p.description,
            default,
            required: p.required,
            values: p.values,
            pattern: p.pattern,
            min: p.min,
            max: p.max,
            items: p.items.map(param_type),
            secret: p.secret,
            role: None,
        };
        params.push(spec);
    }
    let mut examples = BTreeMap::new();
    for e in info.examples {
        let value = serde_json::from_str(&e.value_json)
            .map_err(|err| invalid(format!("example of {} is not JSON: {err}", e.name)))?;
        examples.insert(e.name, value);
    }
    let kind = match info.kind {
        wit::PatternKind::Sidecar => PatternKind::Sidecar,
        wit::PatternKind::Adapter => PatternKind::Adapter,
        wit::PatternKind::Ambassador => PatternKind::Ambassador,
        wit::PatternKind::Init => PatternKind::Init,
    };
    let spec = PatternSpec {
        id: info.id,
        kind,
        version: info.version,
        summary: info.summary,
        docs: PatternDocs {
            description: info.docs.description,
            use_when: info.docs.use_when,
            avoid_when: info.docs.avoid_when,
            diagram: info.docs.diagram,
        },
        params,
        examples,
        source: PatternSource::Plugin {
            path: path.to_path_buf(),
            sha256: sha256.to_string(),
        },
    };
    spec.check().map_err(|e| invalid(e.to_string()))?;
    Ok(PatternSpec {
        summary: spec.summary.trim().to_string(),
        ..spec
    })
}

/// The WIT request for a render.
pub fn request(ctx: &RenderContext<'_>) -> wit::RenderRequest {
    wit::RenderRequest {
        workload_json: to_json(ctx.object),
        params_json: to_json(ctx.params.values()),
        instance: ctx.instance.to_string(),
        main_container: ctx.workload.main_container.clone(),
        target: wit::TargetInfo {
            kube_version: ctx
                .target
                .kube_version
                .map(|(major, minor)| wit::KubeVersion { major, minor }),
            sidecar_mode: if ctx.target.native_sidecars() {
                wit::SidecarMode::Native
            } else {
                wit::SidecarMode::Classic
            },
        },
    }
}

/// Compact JSON, written into a buffer sized for a typical object in one allocation.
fn to_json<T: serde::Serialize + ?Sized>(value: &T) -> String {
    let mut buf = Vec::with_capacity(4096);
    // Serialising a JSON value into memory cannot fail, and its bytes are UTF-8.
    match serde_json::to_writer(&mut buf, value) {
        Ok(()) => String::from_utf8(buf).unwrap_or_default(),
        Err(_) => String::new(),
    }
}

/// Bytes of all strings in a contribution (for the output cap).
pub fn size(c: &wit::Contribution) -> usize {
    let lists = [
        &c.containers,
        &c.init_containers,
        &c.native_sidecars,
        &c.volumes,
        &c.warnings,
    ];
    lists
        .iter()
        .flat_map(|l| l.iter())
        .map(String::len)
        .sum::<usize>()
        + c.mounts
            .iter()
            .map(|m| m.volume_mount_json.len() + target_size(&m.target))
            .sum::<usize>()
        + c.env
            .iter()
            .map(|e| e.env_var_json.len() + target_size(&e.target))
            .sum::<usize>()
        + c.annotations
            .iter()
            .map(|(k, v)| k.len() + v.len())
            .sum::<usize>()
}

fn target_size(t: &wit::ContainerTarget) -> usize {
    match t {
        wit::ContainerTarget::Named(name) => name.len(),
        wit::ContainerTarget::Main | wit::ContainerTarget::All => 0,
    }
}

/// The engine's form of a mount's or env var's target.
fn container_target(t: &wit::ContainerTarget) -> ContainerTarget {
    match t {
        wit::ContainerTarget::Main => ContainerTarget::Main,
        wit::ContainerTarget::All => ContainerTarget::All,
        wit::ContainerTarget::Named(name) => ContainerTarget::Named(name.clone()),
    }
}

/// Parses `text` as JSON of Kubernetes type `T` through the engine's one fragment constructor
/// (which refuses fields the type does not have). `what` names the fragment in an error
/// (`container #2`); it is only formatted when there is one.
fn fragment<T: serde::de::DeserializeOwned>(
    plugin: &str,
    what: (&str, usize),
    text: &str,
) -> Result<Fragment<T>, WasmError> {
    let invalid = |message: String| WasmError::Invalid {
        plugin: plugin.to_string(),
        what: format!("{} #{}", what.0, what.1 + 1),
        message,
    };
    let value: Value = json_read::from_str(text).map_err(|e| invalid(format!("not JSON: {e}")))?;
    Fragment::new(value).map_err(|e| match e {
        FragmentError::Type(e) => invalid(format!("{e} (in {})", truncate(text))),
        unknown => invalid(unknown.to_string()),
    })
}

fn truncate(text: &str) -> String {
    let mut t: String = text.chars().take(120).collect();
    if t.len() < text.len() {
        t.push('…');
    }
    t
}

/// The plugin's fragments as a checked `Contribution` (every fragment must be its Kubernetes
/// type).
pub fn contribution(
    plugin: &str,
    c: wit::Contribution,
    log_warnings: Vec<String>,
) -> Result<Contribution, WasmError> {
    use k8s_openapi::api::core::v1::{Container, EnvVar, Volume, VolumeMount};
    fn list<T: serde::de::DeserializeOwned>(
        plugin: &str,
        what: &str,
        items: &[String],
    ) -> Result<Vec<Fragment<T>>, WasmError> {
        items
            .iter()
            .enumerate()
            .map(|(i, text)| fragment::<T>(plugin, (what, i), text))
            .collect()
    }
    let mut mounts = Vec::with_capacity(c.mounts.len());
    for (i, m) in c.mounts.iter().enumerate() {
        mounts.push(MountContribution {
            container: container_target(&m.target),
            mount: fragment::<VolumeMount>(plugin, ("mount", i), &m.volume_mount_json)?,
        });
    }
    let mut env = Vec::with_capacity(c.env.len());
    for (i, e) in c.env.iter().enumerate() {
        env.push(EnvContribution {
            container: container_target(&e.target),
            env: fragment::<EnvVar>(plugin, ("env var", i), &e.env_var_json)?,
        });
    }
    let mut warnings = c.warnings;
    warnings.extend(log_warnings);
    let contribution = Contribution {
        containers: list::<Container>(plugin, "container", &c.containers)?,
        init_containers: list::<Container>(plugin, "init container", &c.init_containers)?,
        native_sidecars: list::<Container>(plugin, "native sidecar", &c.native_sidecars)?,
        volumes: list::<Volume>(plugin, "volume", &c.volumes)?,
        mounts,
        env,
        annotations: c.annotations.into_iter().collect(),
        warnings,
    };
    contribution
        .check()
        .map_err(|problems| WasmError::Invalid {
            plugin: plugin.to_string(),
            what: "contribution".into(),
            message: problems.join("; "),
        })?;
    Ok(contribution)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_container(json: &str) -> wit::Contribution {
        wit::Contribution {
            containers: vec![json.to_string()],
            init_containers: vec![],
            native_sidecars: vec![],
            volumes: vec![],
            mounts: vec![],
            env: vec![],
            annotations: vec![],
            warnings: vec![],
        }
    }

    fn info(examples: &[(&str, &str)]) -> wit::PatternInfo {
        wit::PatternInfo {
            id: "demo".into(),
            kind: wit::PatternKind::Sidecar,
            version: "1.0.0".into(),
            summary: "Demo".into(),
            docs: wit::Docs {
                description: "d".into(),
                use_when: "u".into(),
                avoid_when: "a".into(),
                diagram: "[pod]".into(),
            },
            params: vec![wit::ParamSpec {
                name: "port".into(),
                kind: wit::ParamType::Port,
                description: "Port.".into(),
                default_json: None,
                required: true,
                values: vec![],
                pattern: None,
                min: None,
                max: None,
                items: None,
                secret: false,
            }],
            examples: examples
                .iter()
                .map(|(name, value)| wit::ParamExample {
                    name: (*name).into(),
                    value_json: (*value).into(),
                })
                .collect(),
        }
    }

    #[test]
    fn examples_are_checked_like_a_templates() {
        let path = Path::new("demo.wasm");
        let spec = spec(info(&[("port", "8080")]), path, "0").unwrap();
        assert_eq!(spec.examples["port"], serde_json::json!(8080));
        let err = spec_err(info(&[("nope", "1")]));
        assert!(
            err.contains("example for undeclared parameter nope"),
            "{err}"
        );
        let err = spec_err(info(&[("port", "70000")]));
        assert!(err.contains("example of"), "{err}");
        let err = spec_err(info(&[("port", "{")]));
        assert!(err.contains("example of port is not JSON"), "{err}");
    }

    fn spec_err(info: wit::PatternInfo) -> String {
        spec(info, Path::new("demo.wasm"), "0")
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn a_nested_unknown_field_is_refused_with_its_path() {
        let c = with_container(
            r#"{"name":"h","image":"busybox:1.36","ports":[{"containerPort":80,"hostPID":true}]}"#,
        );
        let err = contribution("p", c, vec![]).unwrap_err().to_string();
        assert!(err.contains("container #1"), "{err}");
        assert!(err.contains("ports[0].hostPID is not a field"), "{err}");
    }

    #[test]
    fn the_merged_fragment_is_the_plugins_json_in_its_order_without_nulls() {
        let c = with_container(
            r#"{"name":"h","image":"busybox:1.36","command":null,"args":["a"],"env":[{"name":"X","value":null}]}"#,
        );
        let merged = contribution("p", c, vec![]).unwrap();
        assert_eq!(
            merged.containers[0].json().to_string(),
            r#"{"name":"h","image":"busybox:1.36","args":["a"],"env":[{"name":"X"}]}"#
        );
        // The same data as the typed value serialised again.
        let typed = serde_json::to_value(merged.containers[0].typed()).unwrap();
        assert_eq!(&typed, merged.containers[0].json());
    }
}
