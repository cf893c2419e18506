//! The glue `export_pattern!` expands to: an adapter from the [`Pattern`] trait to the
//! generated `Guest` trait, conversions between SDK and WIT types, and the panic hook.

use std::marker::PhantomData;
use std::sync::Once;

use crate::bindings::exports::kubectl_pattern::plugin::pattern::Guest;
use crate::bindings::kubectl_pattern::plugin::types as wit;
use crate::{Contribution, Param, Pattern, PatternInfo, RenderError, Request, SidecarMode};

/// Implements the generated `Guest` trait for a [`Pattern`].
pub struct Adapter<P>(PhantomData<fn() -> P>);

impl<P: Pattern> Adapter<P> {
    /// The adapter for `P`.
    pub fn new() -> Self {
        Adapter(PhantomData)
    }
}

impl<P: Pattern> Default for Adapter<P> {
    fn default() -> Self {
        Self::new()
    }
}

impl<P: Pattern> Guest for Adapter<P> {
    fn describe() -> wit::PatternInfo {
        install_panic_hook();
        info_to_wit(P::describe())
    }

    fn render(request: wit::RenderRequest) -> Result<wit::Contribution, wit::RenderError> {
        install_panic_hook();
        request_from_wit(request)
            .and_then(P::render_json)
            .map(contribution_to_wit)
            .map_err(error_to_wit)
    }
}

/// Forwards the message of a panic to the host's log at error level (installed once per
/// instance); the trap follows, as plugins abort on panic. The default hook is replaced, so
/// the message is not printed twice (the host shows the guest's stderr too).
pub fn install_panic_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        std::panic::set_hook(Box::new(|info| {
            let message = info
                .payload_as_str()
                .unwrap_or("(a panic payload that is not text)");
            let place = info
                .location()
                .map(|l| format!(" at {}:{}", l.file(), l.line()))
                .unwrap_or_default();
            crate::log::error(&format!("plugin panicked{place}: {message}"));
        }));
    });
}

fn param_to_wit(p: Param) -> wit::ParamSpec {
    wit::ParamSpec {
        name: p.name,
        kind: p.kind,
        description: p.description,
        default_json: p.default.map(|v| v.to_string()),
        required: p.required,
        values: p.values,
        pattern: p.pattern,
        min: p.min,
        max: p.max,
        items: p.items,
        secret: p.secret,
    }
}

/// Converts a description to the WIT record.
pub fn info_to_wit(info: PatternInfo) -> wit::PatternInfo {
    wit::PatternInfo {
        id: info.id,
        kind: info.kind,
        version: info.version,
        summary: info.summary,
        docs: wit::Docs {
            description: info.docs.description,
            use_when: info.docs.use_when,
            avoid_when: info.docs.avoid_when,
            diagram: info.docs.diagram,
        },
        params: info.params.into_iter().map(param_to_wit).collect(),
        examples: info
            .examples
            .into_iter()
            .map(|(name, value)| wit::ParamExample {
                name,
                value_json: value.to_string(),
            })
            .collect(),
    }
}

/// Converts the host's request, parsing its JSON.
pub fn request_from_wit(r: wit::RenderRequest) -> Result<Request, RenderError> {
    let mode = match r.target.sidecar_mode {
        wit::SidecarMode::Native => SidecarMode::Native,
        wit::SidecarMode::Classic => SidecarMode::Classic,
    };
    Request::from_json(
        &r.workload_json,
        &r.params_json,
        r.instance,
        r.main_container,
        r.target.kube_version,
        mode,
    )
}

/// Converts a contribution to the WIT record, serializing every fragment.
pub fn contribution_to_wit(c: Contribution) -> wit::Contribution {
    let texts = |v: Vec<serde_json::Value>| {
        let texts = v.iter().map(json_text).collect();
        crate::unfreed::discard(v);
        texts
    };
    wit::Contribution {
        containers: texts(c.containers),
        init_containers: texts(c.init_containers),
        native_sidecars: texts(c.native_sidecars),
        volumes: texts(c.volumes),
        mounts: c
            .mounts
            .into_iter()
            .map(|m| wit::Mount {
                target: m.target,
                volume_mount_json: json_text(&m.json),
            })
            .collect(),
        env: c
            .env
            .into_iter()
            .map(|e| wit::EnvVar {
                target: e.target,
                env_var_json: json_text(&e.json),
            })
            .collect(),
        annotations: c.annotations,
        warnings: c.warnings,
    }
}

/// The JSON text of a fragment (`json::value_to_string`: serde_json's text, written faster).
fn json_text(value: &serde_json::Value) -> String {
    crate::json::value_to_string(value)
}

/// Converts an error to the WIT variant.
pub fn error_to_wit(e: RenderError) -> wit::RenderError {
    match e {
        RenderError::InvalidParams(m) => wit::RenderError::InvalidParams(m),
        RenderError::UnsupportedWorkload(m) => wit::RenderError::UnsupportedWorkload(m),
        RenderError::Failed(m) => wit::RenderError::Failed(m),
        RenderError::NotApplicable(m) => wit::RenderError::NotApplicable(m),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ContainerTarget, ParamType, PatternKind};
    use serde_json::json;

    #[test]
    fn converts_info() {
        let info = PatternInfo::new("x", PatternKind::Ambassador, "1.2.3", "s")
            .docs("d", "u", "a", "g")
            .param(
                Param::list("l", "d", ParamType::Port)
                    .default(json!([80, 443]))
                    .secret(),
            )
            .example("l", json!([8080]));
        let w = info_to_wit(info);
        assert_eq!(w.id, "x");
        assert!(matches!(w.kind, wit::PatternKind::Ambassador));
        assert_eq!(w.docs.use_when, "u");
        assert_eq!(w.params[0].default_json.as_deref(), Some("[80,443]"));
        assert!(matches!(w.params[0].items, Some(wit::ParamType::Port)));
        assert!(w.params[0].secret);
        assert_eq!(
            w.examples,
            vec![wit::ParamExample {
                name: "l".into(),
                value_json: "[8080]".into()
            }]
        );
    }

    #[test]
    fn converts_request_contribution_and_error() {
        let r = wit::RenderRequest {
            workload_json: r#"{"kind":"Pod","spec":{"containers":[{"name":"app"}]}}"#.into(),
            params_json: r#"{"a":1}"#.into(),
            instance: "i".into(),
            main_container: "app".into(),
            target: wit::TargetInfo {
                kube_version: Some(wit::KubeVersion {
                    major: 1,
                    minor: 30,
                }),
                sidecar_mode: wit::SidecarMode::Classic,
            },
        };
        let req = request_from_wit(r).expect("valid request");
        assert_eq!((req.instance(), req.main_container()), ("i", "app"));
        assert_eq!(
            req.kube_version(),
            Some(&wit::KubeVersion {
                major: 1,
                minor: 30
            })
        );
        assert_eq!(req.params()["a"], 1);
        assert!(!req.native_sidecars());

        let mut c = Contribution::new();
        c.add_container(json!({"name": "h", "image": "i"}))
            .add_mount(
                ContainerTarget::Named("app".into()),
                json!({"name": "v", "mountPath": "/v"}),
            )
            .add_env_value(ContainerTarget::Main, "A", "b")
            .annotate("k", "v");
        let w = contribution_to_wit(c);
        assert_eq!(w.containers, vec![r#"{"name":"h","image":"i"}"#]);
        assert_eq!(w.mounts[0].target, ContainerTarget::Named("app".into()));
        assert_eq!(w.env[0].target, ContainerTarget::Main);
        assert_eq!(w.env[0].env_var_json, r#"{"name":"A","value":"b"}"#);
        assert_eq!(w.annotations, vec![("k".to_owned(), "v".to_owned())]);
        assert!(matches!(
            error_to_wit(RenderError::UnsupportedWorkload("m".into())),
            wit::RenderError::UnsupportedWorkload(m) if m == "m"
        ));
        assert_eq!(
            error_to_wit(RenderError::NotApplicable("no annotation".into())),
            wit::RenderError::NotApplicable("no annotation".into())
        );
    }
}
