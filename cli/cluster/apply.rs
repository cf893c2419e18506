//! Whole objects to the cluster by server-side apply: what `new --to cluster` scaffolds and
//! what `inject --apply` exports (workloads, Services, admission policies, Kyverno policies).
//!
//! A whole workload is applied as its own field manager (`new --to cluster`:
//! `kubectl-pattern-new`), never as the patterns' manager: server-side apply deletes the fields
//! a manager stops sending, so if the patterns' manager owned the whole object, the next
//! pattern apply (which sends only the patterns' fields) would drop the selector, the app
//! container and the rest, and the server would refuse it. The patterns' fields are then handed
//! to the manager their records name: it applies them (the same values, so both managers own
//! them), and the whole-object manager applies the workload without them, letting go of them.
//! The object does not change in those two steps, so nothing rolls out twice.

use kube::Api;
use kube::api::{DynamicObject, Patch, PatchParams};
use kube::core::{ApiResource, GroupVersionKind};
use serde_json::Value;

use kubectl_pattern_engine::output::ObjectRef;
use kubectl_pattern_engine::owned;
use kubectl_pattern_engine::process::{Action, RemoveAction};
use kubectl_pattern_engine::tracking::{self, AppliedRecord};
use kubectl_pattern_engine::workload::Workload;

use super::connect::Connection;
use super::error::{ClusterError, Named, classify_named};
use super::resource::Resource;

/// The field manager of the workloads `new --to cluster` creates.
pub const NEW_FIELD_MANAGER: &str = "kubectl-pattern-new";

/// The API resource of an object this tool writes whole, and whether it is namespaced.
fn resource_of(r: &ObjectRef) -> Option<(ApiResource, bool)> {
    if let Some(res) = Resource::from_type(&r.api_version, &r.kind) {
        return Some((super::resource::api_resource(res), true));
    }
    let (group, version) = match r.api_version.split_once('/') {
        Some((g, v)) => (g, v),
        None => ("", r.api_version.as_str()),
    };
    let (plural, namespaced) = match (group, r.kind.as_str()) {
        ("", "Service") => ("services", true),
        ("admissionregistration.k8s.io", "MutatingAdmissionPolicy") => {
            ("mutatingadmissionpolicies", false)
        }
        ("admissionregistration.k8s.io", "MutatingAdmissionPolicyBinding") => {
            ("mutatingadmissionpolicybindings", false)
        }
        ("kyverno.io", "ClusterPolicy") => ("clusterpolicies", false),
        _ => return None,
    };
    let gvk = GroupVersionKind::gvk(group, version, &r.kind);
    Some((ApiResource::from_gvk_with_plural(&gvk, plural), namespaced))
}

/// Applies `objects` in order (created when missing, updated when they exist) with the field
/// manager; returns kubectl's `kind.group/name serverside-applied` lines.
pub async fn apply_objects(
    conn: &Connection,
    objects: &[Value],
    field_manager: &str,
    dry_run: bool,
) -> Result<Vec<String>, ClusterError> {
    let mut lines = Vec::new();
    for object in objects {
        let r = ObjectRef::of(object);
        let Some((ar, namespaced)) = resource_of(&r) else {
            return Err(ClusterError::Unsupported {
                object: format!("{}/{}", r.kind, r.name),
                why: format!(
                    "{} {} objects are not applied by this tool",
                    r.api_version, r.kind
                ),
            });
        };
        let prefix = if ar.group.is_empty() {
            ar.kind.to_ascii_lowercase()
        } else {
            format!("{}.{}", ar.kind.to_ascii_lowercase(), ar.group)
        };
        let resource_name = if ar.group.is_empty() {
            ar.plural.clone()
        } else {
            format!("{}.{}", ar.plural, ar.group)
        };
        let (api, scope): (Api<DynamicObject>, String) = if namespaced {
            let ns = r
                .namespace
                .clone()
                .unwrap_or_else(|| conn.default_namespace.clone());
            let api = Api::namespaced_with(conn.client.clone(), &ns, &ar);
            (api, format!(" -n {ns}"))
        } else {
            (Api::all_with(conn.client.clone(), &ar), String::new())
        };
        let named = Named {
            verb: "patch",
            object: format!("{prefix}/{}", r.name),
            can_i: format!("kubectl auth can-i patch {resource_name}{scope}"),
        };
        let mut params = PatchParams::apply(field_manager);
        if dry_run {
            params = params.dry_run();
        }
        api.patch(&r.name, &params, &Patch::Apply(object))
            .await
            .map_err(|e| classify_named(e, &named, &conn.endpoint))?;
        if !dry_run {
            hand_over_patterns(&api, &r.name, object, field_manager)
                .await
                .map_err(|e| classify_named(e, &named, &conn.endpoint))?;
        }
        let suffix = if dry_run { " (server dry run)" } else { "" };
        lines.push(format!("{prefix}/{} serverside-applied{suffix}", r.name));
    }
    Ok(lines)
}

/// Hands the patterns' fields of a workload applied whole as `whole` to the managers its
/// records name (see the module documentation). Nothing for other objects, or when the records
/// name `whole` itself.
async fn hand_over_patterns(
    api: &Api<DynamicObject>,
    name: &str,
    object: &Value,
    whole: &str,
) -> Result<(), kube::Error> {
    let records = records_of(object);
    let mut managers: Vec<&str> = Vec::new();
    for r in &records {
        if r.field_manager() != whole && !managers.contains(&r.field_manager()) {
            managers.push(r.field_manager());
        }
    }
    if managers.is_empty() {
        return Ok(());
    }
    for manager in managers {
        let Ok(config) = owned::apply_configuration(object, object, Some(manager)) else {
            return Ok(());
        };
        api.patch(name, &PatchParams::apply(manager), &Patch::Apply(&config))
            .await?;
    }
    let mut base = object.clone();
    let remove = RemoveAction {
        names: records.into_iter().map(|r| r.instance).collect(),
    };
    if remove.run(&mut base).is_ok() {
        api.patch(name, &PatchParams::apply(whole), &Patch::Apply(&base))
            .await?;
    }
    Ok(())
}

fn records_of(object: &Value) -> Vec<AppliedRecord> {
    let mut copy = object.clone();
    Workload::new(&mut copy)
        .ok()
        .and_then(|w| tracking::read(&w).ok())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn policies_are_cluster_scoped_and_workloads_namespaced() {
        let map = ObjectRef::of(&json!({"apiVersion": "admissionregistration.k8s.io/v1",
            "kind": "MutatingAdmissionPolicy", "metadata": {"name": "x"}}));
        let (ar, namespaced) = resource_of(&map).unwrap();
        assert_eq!(ar.plural, "mutatingadmissionpolicies");
        assert!(!namespaced);
        let beta = ObjectRef::of(
            &json!({"apiVersion": "admissionregistration.k8s.io/v1beta1",
            "kind": "MutatingAdmissionPolicyBinding", "metadata": {"name": "x"}}),
        );
        assert_eq!(resource_of(&beta).unwrap().0.version, "v1beta1");
        let deploy = ObjectRef::of(&json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web"}}));
        assert!(resource_of(&deploy).unwrap().1);
        let cm = ObjectRef::of(&json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "c"}}));
        assert!(resource_of(&cm).is_none());
    }
}
