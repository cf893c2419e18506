//! What doctor reads from the API server: the workloads, their pods (by the workload's
//! selector, then by owner), their ReplicaSets or Jobs, the namespaces' warning events, the
//! nodes' kubelet versions, and this tool's injector policies with every binding. Reads that
//! only some checks need turn a 403 into a note instead of failing the run.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{Event, Node, Pod};
use kube::Api;
use kube::api::{ApiResource, DynamicObject, GroupVersionKind, ListParams};
use serde_json::Value;

use super::injector::{self, Injector};
use super::labels;
use crate::connect::Connection;
use crate::error::{ClusterError, Named, RequestContext, classify, classify_named};
use crate::live::Target;
use crate::resource::{self, Resource};
use kubectl_pattern_engine::inject::MANAGED_BY;

fn to_value(object: DynamicObject) -> Value {
    serde_json::to_value(object).unwrap_or(Value::Null)
}

fn ctx(verb: &'static str, resource: Resource, name: Option<&str>, ns: &str) -> RequestContext {
    RequestContext {
        verb,
        resource,
        name: name.map(str::to_string),
        namespace: Some(ns.to_string()),
    }
}

/// The workload as listed, or read now when it was named.
pub async fn workload(conn: &Connection, target: &Target) -> Result<Value, ClusterError> {
    if let Some(object) = &target.object {
        return Ok(object.clone());
    }
    let ar = resource::api_resource(target.resource);
    let api: Api<DynamicObject> = Api::namespaced_with(conn.client.clone(), &target.namespace, &ar);
    let mut value = api.get(&target.name).await.map(to_value).map_err(|e| {
        let c = ctx(
            "get",
            target.resource,
            Some(&target.name),
            &target.namespace,
        );
        classify(e, &c, &conn.endpoint)
    })?;
    value["apiVersion"] = Value::String(ar.api_version);
    value["kind"] = Value::String(ar.kind);
    Ok(value)
}

/// Objects of a workload kind in `ns`, by label selector, as JSON.
pub async fn list(
    conn: &Connection,
    resource: Resource,
    ns: &str,
    selector: Option<&str>,
) -> Result<Vec<Value>, ClusterError> {
    let ar = resource::api_resource(resource);
    let api: Api<DynamicObject> = Api::namespaced_with(conn.client.clone(), ns, &ar);
    let mut params = ListParams::default();
    if let Some(s) = selector {
        params = params.labels(s);
    }
    let list = api
        .list(&params)
        .await
        .map_err(|e| classify(e, &ctx("list", resource, None, ns), &conn.endpoint))?;
    Ok(list.items.into_iter().map(to_value).collect())
}

/// The pods in `ns` matching `selector` whose controller is one of `owners` (uids).
pub async fn pods(
    conn: &Connection,
    ns: &str,
    selector: Option<&str>,
    owners: &[String],
) -> Result<Vec<Pod>, ClusterError> {
    let mut params = ListParams::default();
    if let Some(s) = selector {
        params = params.labels(s);
    }
    let api: Api<Pod> = Api::namespaced(conn.client.clone(), ns);
    let list = api
        .list(&params)
        .await
        .map_err(|e| classify(e, &ctx("list", Resource::Pod, None, ns), &conn.endpoint))?;
    Ok(list
        .items
        .into_iter()
        .filter(|p| {
            p.metadata
                .owner_references
                .iter()
                .flatten()
                .any(|r| r.controller == Some(true) && owners.contains(&r.uid))
        })
        .collect())
}

/// The `labelSelector` of a workload's pods.
pub fn selector_of(object: &Value) -> Option<String> {
    labels::query(object.pointer("/spec/selector")?)
}

/// A 403 on an optional read becomes a note; anything else fails the run.
pub fn optional<T>(
    result: Result<T, ClusterError>,
    what: &str,
    notes: &mut Vec<String>,
) -> Result<Option<T>, ClusterError> {
    match result {
        Ok(v) => Ok(Some(v)),
        Err(ClusterError::Forbidden { can_i, .. }) => {
            notes.push(format!("{what} (forbidden; check with: {can_i})"));
            Ok(None)
        }
        Err(e) => Err(e),
    }
}

/// The warning events of `ns`.
pub async fn events(conn: &Connection, ns: &str) -> Result<Vec<Event>, ClusterError> {
    let api: Api<Event> = Api::namespaced(conn.client.clone(), ns);
    let params = ListParams::default().fields("type=Warning");
    let list = api.list(&params).await.map_err(|e| {
        let named = Named {
            verb: "list",
            object: format!("events in namespace {ns}"),
            can_i: format!("kubectl auth can-i list events -n {ns}"),
        };
        classify_named(e, &named, &conn.endpoint)
    })?;
    Ok(list
        .items
        .into_iter()
        .filter(super::events::is_warning)
        .collect())
}

/// Node name → kubelet version.
pub async fn nodes(conn: &Connection) -> Result<BTreeMap<String, String>, ClusterError> {
    let api: Api<Node> = Api::all(conn.client.clone());
    let list = api.list(&ListParams::default()).await.map_err(|e| {
        let named = Named {
            verb: "list",
            object: "nodes".into(),
            can_i: "kubectl auth can-i list nodes".into(),
        };
        classify_named(e, &named, &conn.endpoint)
    })?;
    Ok(list
        .items
        .into_iter()
        .filter_map(|n| {
            let version = n.status?.node_info?.kubelet_version;
            Some((n.metadata.name?, version))
        })
        .collect())
}

fn admission(version: &str, kind: &str, plural: &str) -> ApiResource {
    let gvk = GroupVersionKind::gvk("admissionregistration.k8s.io", version, kind);
    ApiResource::from_gvk_with_plural(&gvk, plural)
}

async fn list_all(
    conn: &Connection,
    ar: &ApiResource,
    params: &ListParams,
) -> Result<Vec<Value>, ClusterError> {
    let api: Api<DynamicObject> = Api::all_with(conn.client.clone(), ar);
    let list = api.list(params).await.map_err(|e| {
        let named = Named {
            verb: "list",
            object: format!("{}.{}", ar.plural, ar.group),
            can_i: format!("kubectl auth can-i list {}.{}", ar.plural, ar.group),
        };
        classify_named(e, &named, &conn.endpoint)
    })?;
    Ok(list.items.into_iter().map(to_value).collect())
}

/// This tool's policies and every binding, from the newest API version the server serves
/// (`None` when it serves MutatingAdmissionPolicies in neither v1 nor v1beta1).
pub async fn injector(conn: &Connection) -> Result<Option<Injector>, ClusterError> {
    let ours = ListParams::default().labels(&format!("{}={}", MANAGED_BY.0, MANAGED_BY.1));
    for version in ["v1", "v1beta1"] {
        let policies = admission(
            version,
            "MutatingAdmissionPolicy",
            "mutatingadmissionpolicies",
        );
        let policies = match list_all(conn, &policies, &ours).await {
            Err(ClusterError::NotFound(_)) => continue,
            other => other?,
        };
        let bindings = admission(
            version,
            "MutatingAdmissionPolicyBinding",
            "mutatingadmissionpolicybindings",
        );
        let bindings = list_all(conn, &bindings, &ListParams::default()).await?;
        return Ok(Some(Injector {
            api_version: format!("admissionregistration.k8s.io/{version}"),
            policies: policies
                .iter()
                .map(injector::policy)
                .filter(|p| p.name.starts_with(injector::PREFIX))
                .collect(),
            bindings: bindings.iter().filter_map(injector::binding).collect(),
        }));
    }
    Ok(None)
}
