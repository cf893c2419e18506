//! The `{{name}}` pattern plugin: a sidecar that writes a greeting into a volume the main
//! container reads. Replace the logic in `render`; keep it pure so `cargo test` covers it.

use kubectl_pattern_sdk::prelude::*;

struct Plugin;

/// The parameters `describe` declares, read for `render` (the host validated them and filled
/// in the defaults).
#[derive(Debug, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct Params {
    image: String,
    message: String,
    shared_dir: String,
}

impl Pattern for Plugin {
    type Params = Params;

    fn describe() -> PatternInfo {
        PatternInfo::new(
            "{{name}}",
            PatternKind::Sidecar,
            env!("CARGO_PKG_VERSION"),
            "Write a greeting for the app into a shared volume",
        )
        .docs(
            "A sidecar writes a greeting naming the app into hello.txt in an in-memory volume, \
             which the main container mounts read-only at sharedDir.",
            "- You are learning to write kubectl-pattern plugins.",
            "- Anything real: replace this logic with your own.",
            "+------------------ Pod ------------------+\n\
             |  main container  <-- hello.txt --  helper |\n\
             |         (shared in-memory emptyDir)       |\n\
             +-------------------------------------------+",
        )
        .param(Param::image("image", "Helper image, pinned.").default("busybox:1.37"))
        .param(Param::string("message", "The greeting.").default("hello"))
        .param(
            Param::string("sharedDir", "Where the main container finds hello.txt.")
                .default("/shared")
                .pattern(r"^/[^\s]*$"),
        )
        .resource_params("5m", "50m", "8Mi", "32Mi")
        .example("message", "good morning")
    }

    fn render(req: Request<Params>) -> Result<Contribution, RenderError> {
        let p = req.params();
        let view = req.view();
        if req.main_container_json().is_none() {
            return Err(RenderError::UnsupportedWorkload(format!(
                "{} {} has no container {}",
                view.kind(),
                view.name(),
                req.main_container()
            )));
        }
        let shared_dir = &p.shared_dir;
        let volume = req.name("shared");
        let helper = ContainerBuilder::new(req.instance(), &p.image)
            .command(["/bin/sh", "-c"])
            .arg("echo \"$MESSAGE, $APP\" > /out/hello.txt && while true; do sleep 3600; done")
            .env("MESSAGE", &p.message)
            .env("APP", view.app_name())
            .resources(req.resources())
            .hardened_as(65534)
            .mount(&volume, "/out", false);

        let mut c = Contribution::new();
        c.add_container(helper)
            .add_empty_dir(&volume, true, "1Mi")
            .add_mount(
                ContainerTarget::Main,
                json!({"name": volume, "mountPath": shared_dir, "readOnly": true}),
            );
        log::debug(&format!("greeting {} in {shared_dir}", view.app_name()));
        Ok(c)
    }
}

export_pattern!(Plugin);

#[cfg(test)]
mod tests {
    use super::*;

    fn params() -> Map<String, Value> {
        Plugin::describe()
            .params
            .into_iter()
            .filter_map(|p| Some((p.name, p.default?)))
            .collect()
    }

    #[test]
    fn adds_a_sidecar_and_a_read_only_mount() {
        let workload = json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "labels": {"app": "shop"}},
            "spec": {"template": {"spec": {"containers": [{"name": "app", "image": "nginx:1.27"}]}}}});
        let req = Request::new(workload, params()).with_instance("{{name}}");
        let c = Plugin::render_json(req).expect("renders");
        assert_eq!(c.containers[0]["name"], "{{name}}");
        assert_eq!(
            c.containers[0]["env"][1],
            json!({"name": "APP", "value": "shop"})
        );
        assert_eq!(c.containers[0]["securityContext"]["runAsNonRoot"], true);
        assert_eq!(c.volumes[0]["name"], "{{name}}-shared");
        assert_eq!(c.mounts[0].json["readOnly"], true);
    }

    #[test]
    fn a_missing_main_container_is_unsupported() {
        let workload =
            json!({"kind": "Pod", "metadata": {"name": "p"}, "spec": {"containers": []}});
        let err = Plugin::render_json(Request::new(workload, params())).expect_err("no main container");
        assert!(matches!(err, RenderError::UnsupportedWorkload(_)));
    }
}
