//! The engine's workload kinds as the kube client needs them: dynamic API resources.

use kube::core::{ApiResource, GroupVersionKind};
use kubectl_pattern_engine::kinds::WorkloadKind;

/// A workload resource type (the engine's kind table is the one list of them).
pub type Resource = WorkloadKind;

/// The API resource of a kind, for the dynamic client.
pub fn api_resource(kind: WorkloadKind) -> ApiResource {
    let info = kind.info();
    ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk(info.group(), info.version(), info.kind),
        info.plural,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_resources_name_the_right_paths() {
        let ar = api_resource(WorkloadKind::Deployment);
        assert_eq!(
            (ar.group.as_str(), ar.plural.as_str()),
            ("apps", "deployments")
        );
        assert_eq!(api_resource(WorkloadKind::Pod).api_version, "v1");
        assert_eq!(
            api_resource(WorkloadKind::PodTemplate).plural,
            "podtemplates"
        );
    }
}
