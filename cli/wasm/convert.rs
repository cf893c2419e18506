//! Conversions between the WIT types and the engine's: plugin metadata into a `PatternSpec`
//! (checked like a template's), a render context into a request, and the returned fragments
//! into a `Contribution`, each fragment checked against its Kubernetes type.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::engine::contribution::Contribution;
use crate::engine::params::{ParamSpec, ParamType, is_dns_label};
use crate::engine::pattern::{PatternDocs, PatternKind, PatternSource, PatternSpec, RenderContext};

use super::WasmError;
use super::runtime::wit;

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
    if !is_dns_label(&info.id) {
        return Err(invalid(format!(
            "id {:?} is not a lower-case DNS label",
            info.id
        )));
    }
    if info.summary.trim().is_empty() || info.summary.contains('\n') {
        return Err(invalid("the summary must be one non-empty line".into()));
    }
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
        };
        spec.check().map_err(invalid)?;
        if params.iter().any(|q: &ParamSpec| q.name == spec.name) {
            return Err(invalid(format!(
                "parameter {} is declared twice",
                spec.name
            )));
        }
        params.push(spec);
    }
    let kind = match info.kind {
        wit::PatternKind::Sidecar => PatternKind::Sidecar,
        wit::PatternKind::Adapter => PatternKind::Adapter,
        wit::PatternKind::Ambassador => PatternKind::Ambassador,
        wit::PatternKind::Init => PatternKind::Init,
    };
    Ok(PatternSpec {
        id: info.id,
        kind,
        version: info.version,
        summary: info.summary.trim().to_string(),
        docs: PatternDocs {
            description: info.docs.description,
            use_when: info.docs.use_when,
            avoid_when: info.docs.avoid_when,
            diagram: info.docs.diagram,
        },
        params,
        examples: BTreeMap::new(),
        source: PatternSource::Plugin {
            path: path.to_path_buf(),
            sha256: sha256.to_string(),
        },
    })
}

/// The WIT request for a render.
pub fn request(ctx: &RenderContext<'_>) -> wit::RenderRequest {
    wit::RenderRequest {
        workload_json: ctx.object.to_string(),
        params_json: Value::Object(ctx.params.0.clone()).to_string(),
        instance: ctx.instance.to_string(),
        main_container: ctx.workload.main_container.clone(),
        target: wit::TargetInfo {
            kube_version: ctx.target.version_string(),
            sidecar_mode: if ctx.target.native_sidecars() {
                wit::SidecarMode::Native
            } else {
                wit::SidecarMode::Classic
            },
        },
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
            .map(|m| m.volume_mount_json.len() + m.container.as_ref().map_or(0, String::len))
            .sum::<usize>()
        + c.env
            .iter()
            .map(|e| e.env_var_json.len() + e.container.as_ref().map_or(0, String::len))
            .sum::<usize>()
        + c.annotations
            .iter()
            .map(|(k, v)| k.len() + v.len())
            .sum::<usize>()
}

/// Checks that `text` is JSON of Kubernetes type `T`; returns the JSON.
fn fragment<T: serde::de::DeserializeOwned>(
    plugin: &str,
    what: String,
    text: &str,
) -> Result<Value, WasmError> {
    let invalid = |message: String| WasmError::Invalid {
        plugin: plugin.to_string(),
        what: what.clone(),
        message,
    };
    let value: Value = serde_json::from_str(text).map_err(|e| invalid(format!("not JSON: {e}")))?;
    T::deserialize(&value).map_err(|e| invalid(format!("{e} (in {})", truncate(text))))?;
    Ok(value)
}

fn truncate(text: &str) -> String {
    let mut t: String = text.chars().take(120).collect();
    if t.len() < text.len() {
        t.push('…');
    }
    t
}

/// The plugin's fragments as a checked `Contribution` (every fragment must be its Kubernetes
/// type; fields outside the types are dropped by the merge).
pub fn contribution(
    plugin: &str,
    c: wit::Contribution,
    log_warnings: Vec<String>,
) -> Result<Contribution, WasmError> {
    use k8s_openapi::api::core::v1::{Container, EnvVar, Volume, VolumeMount};
    let list = |key: &str, items: &[String]| -> Result<Value, WasmError> {
        let values = items
            .iter()
            .enumerate()
            .map(|(i, text)| match key {
                "volumes" => fragment::<Volume>(plugin, format!("volume #{}", i + 1), text),
                "initContainers" => {
                    fragment::<Container>(plugin, format!("init container #{}", i + 1), text)
                }
                "nativeSidecars" => {
                    fragment::<Container>(plugin, format!("native sidecar #{}", i + 1), text)
                }
                _ => fragment::<Container>(plugin, format!("container #{}", i + 1), text),
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Value::Array(values))
    };
    let targeted = |value: Value, container: &Option<String>| {
        let mut map = match value {
            Value::Object(map) => map,
            _ => Map::new(),
        };
        if let Some(c) = container {
            map.insert("container".into(), Value::String(c.clone()));
        }
        Value::Object(map)
    };
    let mounts = c
        .mounts
        .iter()
        .enumerate()
        .map(|(i, m)| {
            fragment::<VolumeMount>(plugin, format!("mount #{}", i + 1), &m.volume_mount_json)
                .map(|v| targeted(v, &m.container))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let env = c
        .env
        .iter()
        .enumerate()
        .map(|(i, e)| {
            fragment::<EnvVar>(plugin, format!("env var #{}", i + 1), &e.env_var_json)
                .map(|v| targeted(v, &e.container))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let mut warnings = c.warnings.clone();
    warnings.extend(log_warnings);
    let document = json!({
        "containers": list("containers", &c.containers)?,
        "initContainers": list("initContainers", &c.init_containers)?,
        "nativeSidecars": list("nativeSidecars", &c.native_sidecars)?,
        "volumes": list("volumes", &c.volumes)?,
        "mounts": mounts,
        "env": env,
        "annotations": c.annotations.iter().cloned().collect::<BTreeMap<String, String>>(),
        "warnings": warnings,
    });
    let mut contribution =
        Contribution::deserialize(&document).map_err(|e| WasmError::Invalid {
            plugin: plugin.to_string(),
            what: "contribution".into(),
            message: e.to_string(),
        })?;
    contribution.layout = Some(document);
    contribution
        .check()
        .map_err(|problems| WasmError::Invalid {
            plugin: plugin.to_string(),
            what: "contribution".into(),
            message: problems.join("; "),
        })?;
    Ok(contribution)
}
