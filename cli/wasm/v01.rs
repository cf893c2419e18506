//! Plugins built against the frozen contract 0.1.0, in 0.2 terms: their pattern info gets no
//! examples, their `container: option<string>` ("*" every app container) becomes a
//! `container-target`, and their request carries the Kubernetes version as `"1.37"` or "".

use super::bindings::{wit, wit01};

fn kind(k: wit01::PatternKind) -> wit::PatternKind {
    match k {
        wit01::PatternKind::Sidecar => wit::PatternKind::Sidecar,
        wit01::PatternKind::Adapter => wit::PatternKind::Adapter,
        wit01::PatternKind::Ambassador => wit::PatternKind::Ambassador,
        wit01::PatternKind::Init => wit::PatternKind::Init,
    }
}

fn param_type(t: wit01::ParamType) -> wit::ParamType {
    match t {
        wit01::ParamType::String => wit::ParamType::String,
        wit01::ParamType::Int => wit::ParamType::Int,
        wit01::ParamType::Bool => wit::ParamType::Bool,
        wit01::ParamType::Port => wit::ParamType::Port,
        wit01::ParamType::Quantity => wit::ParamType::Quantity,
        wit01::ParamType::Image => wit::ParamType::Image,
        wit01::ParamType::DnsName => wit::ParamType::DnsName,
        wit01::ParamType::Duration => wit::ParamType::Duration,
        wit01::ParamType::Enum => wit::ParamType::Enum,
        wit01::ParamType::List => wit::ParamType::List,
    }
}

/// 0.1 pattern info as 0.2 (0.1 has no examples).
pub fn info(i: wit01::PatternInfo) -> wit::PatternInfo {
    wit::PatternInfo {
        id: i.id,
        kind: kind(i.kind),
        version: i.version,
        summary: i.summary,
        docs: wit::Docs {
            description: i.docs.description,
            use_when: i.docs.use_when,
            avoid_when: i.docs.avoid_when,
            diagram: i.docs.diagram,
        },
        params: i
            .params
            .into_iter()
            .map(|p| wit::ParamSpec {
                name: p.name,
                kind: param_type(p.kind),
                description: p.description,
                default_json: p.default_json,
                required: p.required,
                values: p.values,
                pattern: p.pattern,
                min: p.min,
                max: p.max,
                items: p.items.map(param_type),
                secret: p.secret,
            })
            .collect(),
        examples: Vec::new(),
    }
}

/// A 0.2 request as 0.1: the version as `"1.37"`, or "" when unknown.
pub fn request(r: &wit::RenderRequest) -> wit01::RenderRequest {
    wit01::RenderRequest {
        workload_json: r.workload_json.clone(),
        params_json: r.params_json.clone(),
        instance: r.instance.clone(),
        main_container: r.main_container.clone(),
        target: wit01::TargetInfo {
            kube_version: r
                .target
                .kube_version
                .map(|v| format!("{}.{}", v.major, v.minor))
                .unwrap_or_default(),
            sidecar_mode: match r.target.sidecar_mode {
                wit::SidecarMode::Native => wit01::SidecarMode::Native,
                wit::SidecarMode::Classic => wit01::SidecarMode::Classic,
            },
        },
    }
}

/// 0.1's container: none (or "") the main container, "*" every app container, else a name.
fn target(container: Option<String>) -> wit::ContainerTarget {
    match container.as_deref() {
        None | Some("") => wit::ContainerTarget::Main,
        Some("*") => wit::ContainerTarget::All,
        Some(_) => wit::ContainerTarget::Named(container.unwrap_or_default()),
    }
}

/// A 0.1 contribution as 0.2.
pub fn contribution(c: wit01::Contribution) -> wit::Contribution {
    wit::Contribution {
        containers: c.containers,
        init_containers: c.init_containers,
        native_sidecars: c.native_sidecars,
        volumes: c.volumes,
        mounts: c
            .mounts
            .into_iter()
            .map(|m| wit::Mount {
                target: target(m.container),
                volume_mount_json: m.volume_mount_json,
            })
            .collect(),
        env: c
            .env
            .into_iter()
            .map(|e| wit::EnvVar {
                target: target(e.container),
                env_var_json: e.env_var_json,
            })
            .collect(),
        annotations: c.annotations,
        warnings: c.warnings,
    }
}

/// A 0.1 render error as 0.2 (0.1 cannot decline).
pub fn render_error(e: wit01::RenderError) -> wit::RenderError {
    match e {
        wit01::RenderError::InvalidParams(m) => wit::RenderError::InvalidParams(m),
        wit01::RenderError::UnsupportedWorkload(m) => wit::RenderError::UnsupportedWorkload(m),
        wit01::RenderError::Failed(m) => wit::RenderError::Failed(m),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_star_is_every_container_and_none_the_main_one() {
        assert!(matches!(target(None), wit::ContainerTarget::Main));
        assert!(matches!(
            target(Some(String::new())),
            wit::ContainerTarget::Main
        ));
        assert!(matches!(
            target(Some("*".into())),
            wit::ContainerTarget::All
        ));
        assert!(matches!(
            target(Some("app".into())),
            wit::ContainerTarget::Named(name) if name == "app"
        ));
    }

    fn request_for(kube_version: Option<wit::KubeVersion>) -> wit::RenderRequest {
        wit::RenderRequest {
            workload_json: "{}".into(),
            params_json: "{}".into(),
            instance: "x".into(),
            main_container: "app".into(),
            target: wit::TargetInfo {
                kube_version,
                sidecar_mode: wit::SidecarMode::Classic,
            },
        }
    }

    #[test]
    fn the_version_is_a_string_for_01() {
        let known = request(&request_for(Some(wit::KubeVersion {
            major: 1,
            minor: 37,
        })));
        assert_eq!(known.target.kube_version, "1.37");
        assert!(matches!(
            known.target.sidecar_mode,
            wit01::SidecarMode::Classic
        ));
        assert_eq!(request(&request_for(None)).target.kube_version, "");
    }
}
