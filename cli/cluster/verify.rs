//! `inject --apply` on a cluster: the injector's API must be served (a MutatingAdmissionPolicy
//! version, or Kyverno's CRD) before anything is applied, and once applied the injector is
//! checked the only way a server shows what a mutating policy does to a pod: a server-side
//! dry-run create of a pod the binding selects runs the whole admission chain and stores
//! nothing. A denial, or an admitted pod that differs from what `add` makes of the same pod,
//! removes the objects just applied.

use std::time::Duration;

use kube::Api;
use kube::api::{DeleteParams, DynamicObject, PostParams};
use serde_json::Value;

use kubectl_pattern_engine::inject::check::{self, Difference};
use kubectl_pattern_engine::kinds::WorkloadKind;
use kubectl_pattern_engine::output::ObjectRef;

use super::apply::{apply_objects, resource_of};
use super::connect::Connection;
use super::error::{ClusterError, Named, classify_named};
use super::resource::api_resource;

/// Why an injector was not installed, or was removed again.
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    /// The server does not serve the object's API version or resource.
    #[error(
        "{resource}.{api_version} is not served by the API server {server}: {hint}; nothing was applied"
    )]
    NotInstalled {
        /// `mutatingadmissionpolicies`, `clusterpolicies`.
        resource: String,
        /// `admissionregistration.k8s.io/v1beta1`.
        api_version: String,
        /// The server URL.
        server: String,
        /// What to do.
        hint: String,
    },
    /// The dry-run pod was refused by admission control.
    #[error(
        "the injector denies the pods it selects: a server dry run of {pod} was refused:\n  {message}\n{removed}"
    )]
    Denied {
        /// Which pod was tried.
        pod: String,
        /// The server's message.
        message: String,
        /// What was removed.
        removed: Removed,
    },
    /// The dry-run pod was admitted with another change than `add` makes.
    #[error(
        "the injector does not make the change `add` makes on {pod}:\n{}\n{removed}",
        .differences.iter().map(|d| format!("  {d}")).collect::<Vec<_>>().join("\n")
    )]
    Differs {
        /// Which pod was tried.
        pod: String,
        /// What differs.
        differences: Vec<Difference>,
        /// What was removed.
        removed: Removed,
    },
    /// A request failed.
    #[error(transparent)]
    Cluster(#[from] ClusterError),
}

/// The objects removed after a failed check.
#[derive(Debug)]
pub struct Removed(pub Vec<String>);

impl std::fmt::Display for Removed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "  removed what was just applied: {}", self.0.join(", "))
    }
}

/// The pod to try and what `add` makes of it.
#[derive(Debug, Clone)]
pub struct Check {
    /// The pod as a user would create it (its namespace, or the context's).
    pub pod: Value,
    /// The pod after `add` (offline).
    pub expected: Value,
    /// How long to wait between tries while the server has not yet loaded the new policy.
    pub retry: Duration,
    /// How many tries in all.
    pub tries: u32,
}

/// Fails when the server does not serve the API version and resource of an object.
pub async fn ensure_served(conn: &Connection, objects: &[Value]) -> Result<(), VerifyError> {
    for object in objects {
        let r = ObjectRef::of(object);
        let Some((ar, _)) = resource_of(&r) else {
            continue;
        };
        let not_installed = || {
            let hint = if ar.group == "kyverno.io" {
                "the Kyverno CRDs are not installed: install Kyverno first, or export with --engine map".to_string()
            } else {
                format!(
                    "this API is not installed or not enabled on the server: use --api-version {} or enable the API (kube-apiserver --runtime-config={}=true and the MutatingAdmissionPolicy feature gate)",
                    if ar.version == "v1" { "v1beta1" } else { "v1" },
                    ar.api_version
                )
            };
            VerifyError::NotInstalled {
                resource: ar.plural.clone(),
                api_version: ar.api_version.clone(),
                server: conn.endpoint.server.clone(),
                hint,
            }
        };
        let named = Named {
            verb: "get",
            object: format!("the API {}", ar.api_version),
            can_i: format!("kubectl api-resources --api-group={}", ar.group),
        };
        match conn.client.list_api_group_resources(&ar.api_version).await {
            Ok(list) if list.resources.iter().any(|res| res.name == ar.plural) => {}
            Ok(_) => return Err(not_installed()),
            Err(kube::Error::Api(status)) if status.code == 404 => return Err(not_installed()),
            Err(e) => return Err(classify_named(e, &named, &conn.endpoint).into()),
        }
    }
    Ok(())
}

/// What the server made of a dry-run pod.
#[derive(Debug, Clone, PartialEq)]
pub enum Admission {
    /// Admitted: the pod as it would be stored.
    Admitted(Value),
    /// Refused by admission control, with the server's message.
    Denied(String),
}

/// A server-side dry-run create of `pod`: admission runs, nothing is stored.
pub async fn dry_run_create(conn: &Connection, pod: &Value) -> Result<Admission, ClusterError> {
    let ns = pod["metadata"]["namespace"]
        .as_str()
        .unwrap_or(&conn.default_namespace)
        .to_string();
    let api: Api<DynamicObject> =
        Api::namespaced_with(conn.client.clone(), &ns, &api_resource(WorkloadKind::Pod));
    let named = Named {
        verb: "create",
        object: format!("a pod in namespace {ns} (server dry run)"),
        can_i: format!("kubectl auth can-i create pods -n {ns}"),
    };
    let object: DynamicObject =
        serde_json::from_value(pod.clone()).map_err(|e| ClusterError::Unsupported {
            object: "the pod to verify with".into(),
            why: format!("not a Kubernetes object: {e}"),
        })?;
    let params = PostParams {
        dry_run: true,
        field_manager: Some("kubectl-pattern".into()),
    };
    match api.create(&params, &object).await {
        Ok(created) => Ok(Admission::Admitted(
            serde_json::to_value(created).unwrap_or_default(),
        )),
        Err(kube::Error::Api(status)) if status.message.contains("denied") => {
            Ok(Admission::Denied(status.message))
        }
        Err(e) => Err(classify_named(e, &named, &conn.endpoint)),
    }
}

/// Deletes `objects` (in reverse order: the binding before its policy).
pub async fn delete_objects(
    conn: &Connection,
    objects: &[Value],
) -> Result<Vec<String>, ClusterError> {
    let mut removed = Vec::new();
    for object in objects.iter().rev() {
        let r = ObjectRef::of(object);
        let Some((ar, _)) = resource_of(&r) else {
            continue;
        };
        let api: Api<DynamicObject> = Api::all_with(conn.client.clone(), &ar);
        let name = format!("{}.{}/{}", ar.kind.to_ascii_lowercase(), ar.group, r.name);
        let named = Named {
            verb: "delete",
            object: name.clone(),
            can_i: format!("kubectl auth can-i delete {}.{}", ar.plural, ar.group),
        };
        api.delete(&r.name, &DeleteParams::default())
            .await
            .map_err(|e| classify_named(e, &named, &conn.endpoint))?;
        removed.push(name);
    }
    Ok(removed)
}

fn pod_name(pod: &Value) -> String {
    let labels = pod["metadata"]["labels"]
        .as_object()
        .map(|l| {
            l.iter()
                .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default()))
                .collect::<Vec<_>>()
                .join(",")
        })
        .unwrap_or_default();
    match pod["metadata"]["name"].as_str() {
        Some(name) => format!("pod/{name}"),
        None => format!("a pod labelled {labels}"),
    }
}

/// Applies the injector objects and checks them with a dry-run pod; on a denial or a
/// difference removes them again. Returns kubectl's lines for what was applied and checked.
pub async fn apply_verified(
    conn: &Connection,
    objects: &[Value],
    field_manager: &str,
    check: &Check,
) -> Result<Vec<String>, VerifyError> {
    ensure_served(conn, objects).await?;
    let mut lines = apply_objects(conn, objects, field_manager, false).await?;
    let pod = pod_name(&check.pod);
    let mut tries = 0;
    let outcome = loop {
        tries += 1;
        let admission = dry_run_create(conn, &check.pod).await?;
        let differences = match &admission {
            Admission::Admitted(admitted) => check::differences(&check.expected, admitted),
            Admission::Denied(_) => vec![],
        };
        // A new policy reaches the admission plugin through an informer: until then pods
        // pass unchanged, so an untouched pod is tried again.
        let unchanged = matches!(&admission, Admission::Admitted(a) if untouched(a, &check.pod));
        if unchanged && tries < check.tries {
            tokio::time::sleep(check.retry).await;
            continue;
        }
        break (admission, differences);
    };
    match outcome {
        (Admission::Denied(message), _) => Err(VerifyError::Denied {
            pod,
            message,
            removed: Removed(delete_objects(conn, objects).await?),
        }),
        (Admission::Admitted(_), differences) if !differences.is_empty() => {
            Err(VerifyError::Differs {
                pod,
                differences,
                removed: Removed(delete_objects(conn, objects).await?),
            })
        }
        (Admission::Admitted(_), _) => {
            lines.push(format!(
                "verified: a server dry run of {pod} was admitted with the change add makes"
            ));
            Ok(lines)
        }
    }
}

/// True when `admitted` has the init and app containers `sent` has, no more (the policy did
/// not run on it).
fn untouched(admitted: &Value, sent: &Value) -> bool {
    let names = |pod: &Value, list: &str| -> Vec<String> {
        pod["spec"][list]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|c| c["name"].as_str().map(str::to_string))
            .collect()
    };
    ["initContainers", "containers"]
        .iter()
        .all(|l| names(admitted, l) == names(sent, l))
}
