//! Partial workloads: objects of a workload kind that only say what to change in another
//! object (kustomize strategic-merge patches, overlays' `patches:` files). Completing one with
//! helpers would make kustomize merge a second copy of every helper into the base, so the
//! callers that read whole repositories skip them instead.

use serde_json::Value;

use super::workload::WorkloadKind;

/// `Some((kind, what is missing))` when `object` is a partial workload (a patch); `None` for a
/// whole object, or an object that is not a workload this tool handles.
///
/// A whole workload has its pod template with containers that name their image, and the
/// `apps/v1` kinds have their required `spec.selector`; a patch usually lacks one of them.
pub fn partial(object: &Value) -> Option<(WorkloadKind, String)> {
    let text = |key: &str| object.get(key).and_then(Value::as_str).unwrap_or_default();
    let kind = WorkloadKind::from_type(text("apiVersion"), text("kind"))?;
    missing_part(object, kind).map(|missing| (kind, missing))
}

/// The first part a whole object of `kind` has and `object` lacks.
fn missing_part(object: &Value, kind: WorkloadKind) -> Option<String> {
    let path = kind.template_path();
    let template = path.iter().try_fold(object, |cur, key| cur.get(*key));
    let Some(template) = template.filter(|t| t.is_object()) else {
        return Some(format!("no {}", path.join(".")));
    };
    let needs_selector = matches!(
        kind,
        WorkloadKind::Deployment
            | WorkloadKind::StatefulSet
            | WorkloadKind::DaemonSet
            | WorkloadKind::ReplicaSet
    );
    if needs_selector && object.pointer("/spec/selector").is_none() {
        return Some("no spec.selector".into());
    }
    let spec = template.get("spec");
    let containers = spec
        .and_then(|s| s.get("containers"))
        .and_then(Value::as_array);
    if containers.is_none_or(Vec::is_empty) {
        return Some("no containers in its pod template".into());
    }
    let inits = spec
        .and_then(|s| s.get("initContainers"))
        .and_then(Value::as_array);
    for c in containers.into_iter().chain(inits).flatten() {
        if c.get("image")
            .and_then(Value::as_str)
            .is_none_or(str::is_empty)
        {
            let name = c.get("name").and_then(Value::as_str).unwrap_or_default();
            return Some(format!("container {name:?} has no image"));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn deployment(spec: Value) -> Value {
        json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"}, "spec": spec})
    }

    #[test]
    fn whole_workloads_are_not_partial() {
        let template = json!({"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "web", "image": "nginx:1.27.3"}]}});
        let whole =
            deployment(json!({"selector": {"matchLabels": {"app": "web"}}, "template": template}));
        assert_eq!(partial(&whole), None);
        // A Job's selector is generated: none in the manifest is whole.
        let job = json!({"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "j"}, "spec": {"template": template}});
        assert_eq!(partial(&job), None);
        let pod = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": {"containers": [{"name": "a", "image": "busybox:1.37.0"}]}});
        assert_eq!(partial(&pod), None);
        let cm = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}});
        assert_eq!(partial(&cm), None);
    }

    #[test]
    fn patches_say_what_they_lack() {
        let replicas = deployment(json!({"replicas": 3}));
        let missing = |v: &Value| partial(v).map(|(_, m)| m);
        assert_eq!(
            partial(&replicas),
            Some((WorkloadKind::Deployment, "no spec.template".into()))
        );
        let resources = deployment(
            json!({"template": {"spec": {"containers": [{"name": "web", "resources": {"limits": {"memory": "1Gi"}}}]}}}),
        );
        assert_eq!(missing(&resources).as_deref(), Some("no spec.selector"));
        let empty = deployment(json!({"selector": {}, "template": {"spec": {"containers": []}}}));
        assert_eq!(
            missing(&empty).as_deref(),
            Some("no containers in its pod template")
        );
        let image_less = deployment(
            json!({"selector": {}, "template": {"spec": {"containers": [{"name": "web", "env": []}]}}}),
        );
        assert_eq!(
            missing(&image_less).as_deref(),
            Some("container \"web\" has no image")
        );
        let init_patch = json!({"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "j"}, "spec": {"template": {"spec": {"containers": [{"name": "a", "image": "busybox:1.37.0"}], "initContainers": [{"name": "wait"}]}}}});
        assert_eq!(
            missing(&init_patch).as_deref(),
            Some("container \"wait\" has no image")
        );
    }
}
