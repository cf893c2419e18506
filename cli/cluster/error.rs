//! Errors of live mode, each turned into a message a kubectl user can act on: which context and
//! server, which verb on which resource, who owns a conflicting field, what a webhook said.

use kube::core::Status;

use super::resource::Resource;
use kubectl_pattern_engine::owned::OwnedError;
use kubectl_pattern_engine::process::ObjectError;
use kubectl_pattern_engine::released::ReleasedError;

/// What a request was doing, to name it in errors.
#[derive(Debug, Clone)]
pub struct RequestContext {
    /// `get`, `list`, `patch`, `watch`.
    pub verb: &'static str,
    /// The resource type.
    pub resource: Resource,
    /// The object's name, for requests on one object.
    pub name: Option<String>,
    /// The namespace (None: all namespaces).
    pub namespace: Option<String>,
}

impl RequestContext {
    fn object(&self) -> String {
        let what = match &self.name {
            Some(name) => format!("{}/{name}", self.resource.object_prefix()),
            None => self.resource.resource_name(),
        };
        match &self.namespace {
            Some(ns) => format!("{what} in namespace {ns}"),
            None => format!("{what} in all namespaces"),
        }
    }

    fn can_i(&self) -> String {
        let scope = match &self.namespace {
            Some(ns) => format!("-n {ns}"),
            None => "-A".to_string(),
        };
        format!(
            "kubectl auth can-i {} {} {scope}",
            self.verb,
            self.resource.resource_name()
        )
    }
}

/// A field another manager owns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldOwner {
    /// The field manager (`kubectl-client-side-apply`, `helm`…).
    pub manager: String,
    /// The field path as the server names it.
    pub field: String,
}

/// A failure of live mode.
#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    /// No kubeconfig and not in a pod.
    #[error(
        "no cluster to talk to: {0}; set KUBECONFIG or pass --kubeconfig (or run inside a pod)"
    )]
    NoConfig(String),
    /// The kubeconfig cannot be used.
    #[error("kubeconfig: {0}")]
    Kubeconfig(String),
    /// The server cannot be reached.
    #[error("cannot reach the API server {server} (context {context}): {message}")]
    Unreachable {
        /// The kubeconfig context.
        context: String,
        /// The server URL.
        server: String,
        /// Why.
        message: String,
    },
    /// 401.
    #[error(
        "the API server {server} (context {context}) rejected our credentials (401 Unauthorized): log in again or check the user of the context"
    )]
    Unauthorized {
        /// The kubeconfig context.
        context: String,
        /// The server URL.
        server: String,
    },
    /// 403.
    #[error("forbidden: cannot {verb} {object}: {message}\n  check with: {can_i}")]
    Forbidden {
        /// The verb.
        verb: &'static str,
        /// What.
        object: String,
        /// The server's message.
        message: String,
        /// The `kubectl auth can-i` command to check.
        can_i: String,
    },
    /// 404.
    #[error("{0} not found")]
    NotFound(String),
    /// Server-side apply conflicts with other field managers.
    #[error("{object}: fields owned by other managers would change:\n{owners}\n  run again with --force-conflicts to take them over", owners = list_owners(owners))]
    Conflict {
        /// The object.
        object: String,
        /// Who owns what.
        owners: Vec<FieldOwner>,
    },
    /// Other field managers own fields the apply would let go of: the server would keep them.
    #[error("{object}: other field managers also own fields that {manager} would let go of, so the API server would keep them (a helper that stays, or a half-removed container it refuses):\n{owners}\n  a pattern added with --field-manager NAME is changed and removed with the same flag; otherwise those managers must stop applying the fields, or delete them by hand: kubectl edit {object} -n {namespace}", owners = list_co_owners(owners))]
    CoOwned {
        /// The object (`deployment.apps/web`).
        object: String,
        /// Its namespace.
        namespace: String,
        /// The manager that lets go.
        manager: String,
        /// Who else owns what.
        owners: Vec<FieldOwner>,
    },
    /// The object kept changing under us.
    #[error(
        "{object} was modified by someone else {attempts} times while we patched it; nothing was lost, run again"
    )]
    Modified {
        /// The object.
        object: String,
        /// How many attempts were made.
        attempts: u32,
    },
    /// A migration's first write went through, its hand-over of fields did not.
    #[error(
        "{object} was migrated (its gitRepo volume is gone), but handing the new fields to {manager} failed: {cause}; run `{command}` again to finish the hand-over"
    )]
    Unfinished {
        /// The object.
        object: String,
        /// The manager the fields go to.
        manager: String,
        /// The command that finishes it.
        command: String,
        /// Why the hand-over failed.
        cause: String,
    },
    /// An admission webhook or policy refused the change.
    #[error("{object}: denied by admission control: {message}")]
    Denied {
        /// The object.
        object: String,
        /// The webhook's or policy's message.
        message: String,
    },
    /// 422 and other refusals.
    #[error("{object}: the API server refused the change ({code} {reason}): {message}")]
    Refused {
        /// The object.
        object: String,
        /// HTTP status code.
        code: u16,
        /// The status reason.
        reason: String,
        /// The server's message.
        message: String,
    },
    /// The kind cannot be patched this way.
    #[error("{object}: {why}")]
    Unsupported {
        /// The object.
        object: String,
        /// Why.
        why: String,
    },
    /// A rollout did not complete.
    #[error("{object}: rollout failed: {reason}")]
    Rollout {
        /// The object.
        object: String,
        /// The reason from conditions or events.
        reason: String,
    },
    /// The engine refused the object (bad annotation, clash…).
    #[error("{object}: {error}")]
    Engine {
        /// The object.
        object: String,
        /// The engine's error (boxed: clash errors carry their fix, and every `Result` of
        /// this type would carry its size).
        error: Box<ObjectError>,
    },
    /// The fields an apply lets go of could not be named.
    #[error("{object}: {error}")]
    Released {
        /// The object.
        object: String,
        /// Why.
        error: ReleasedError,
    },
    /// The apply configuration could not be built from the object.
    #[error("{object}: {error}")]
    ApplyConfiguration {
        /// The object.
        object: String,
        /// Why.
        error: OwnedError,
    },
}

fn list_owners(owners: &[FieldOwner]) -> String {
    owners
        .iter()
        .map(|o| format!("    {} (owned by {})", o.field, o.manager))
        .collect::<Vec<_>>()
        .join("\n")
}

fn list_co_owners(owners: &[FieldOwner]) -> String {
    owners
        .iter()
        .map(|o| format!("    {} (also owned by {})", o.field, o.manager))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Where the client talks to (for errors).
#[derive(Debug, Clone, Default)]
pub struct Endpoint {
    /// The kubeconfig context (or `in-cluster`).
    pub context: String,
    /// The server URL.
    pub server: String,
}

/// Turns a kube error into a ClusterError for `ctx`.
pub fn classify(err: kube::Error, ctx: &RequestContext, endpoint: &Endpoint) -> ClusterError {
    let named = Named {
        verb: ctx.verb,
        object: ctx.object(),
        can_i: ctx.can_i(),
    };
    classify_named(err, &named, endpoint)
}

/// A request on any object (not only workloads), named for errors.
#[derive(Debug, Clone)]
pub struct Named {
    /// `patch`.
    pub verb: &'static str,
    /// `mutatingadmissionpolicy/x` (with its namespace when it has one).
    pub object: String,
    /// The `kubectl auth can-i` command that checks the permission.
    pub can_i: String,
}

/// As [`classify`], for a request named by hand.
pub fn classify_named(err: kube::Error, named: &Named, endpoint: &Endpoint) -> ClusterError {
    match err {
        kube::Error::Api(status) => from_status(*status, named, endpoint),
        other => ClusterError::Unreachable {
            context: endpoint.context.clone(),
            server: endpoint.server.clone(),
            message: root_cause(&other),
        },
    }
}

/// The innermost message of an error chain (the useful part of hyper/tls errors).
fn root_cause(err: &(dyn std::error::Error + 'static)) -> String {
    let mut current = err;
    while let Some(next) = current.source() {
        current = next;
    }
    current.to_string()
}

/// True when a 409 is a resourceVersion conflict (retry), not a field-ownership conflict.
pub fn is_stale_write(err: &kube::Error) -> bool {
    match err {
        kube::Error::Api(status) => {
            status.code == 409 && !status.details.as_ref().is_some_and(has_field_conflicts)
        }
        _ => false,
    }
}

fn has_field_conflicts(d: &kube::core::response::StatusDetails) -> bool {
    d.causes.iter().any(|c| c.reason == "FieldManagerConflict")
}

fn from_status(status: Status, ctx: &Named, endpoint: &Endpoint) -> ClusterError {
    let object = ctx.object.clone();
    match status.code {
        401 => ClusterError::Unauthorized {
            context: endpoint.context.clone(),
            server: endpoint.server.clone(),
        },
        403 if !is_admission(&status.message) => ClusterError::Forbidden {
            verb: ctx.verb,
            object,
            message: status.message,
            can_i: ctx.can_i.clone(),
        },
        404 => ClusterError::NotFound(object),
        409 if status.details.as_ref().is_some_and(has_field_conflicts) => {
            let owners = status
                .details
                .iter()
                .flat_map(|d| &d.causes)
                .filter(|c| c.reason == "FieldManagerConflict")
                .map(|c| FieldOwner {
                    manager: manager_of(&c.message),
                    field: c.field.clone(),
                })
                .collect();
            ClusterError::Conflict { object, owners }
        }
        _ if is_admission(&status.message) => ClusterError::Denied {
            object,
            message: status.message,
        },
        code => ClusterError::Refused {
            object,
            code,
            reason: status.reason,
            message: status.message,
        },
    }
}

/// Admission webhooks and policies say so in their message.
fn is_admission(message: &str) -> bool {
    message.contains("admission webhook")
        || message.contains("ValidatingAdmissionPolicy")
        || message.contains("denied the request")
}

/// `conflict with "helm" using apps/v1` → `helm`.
fn manager_of(message: &str) -> String {
    message
        .split('"')
        .nth(1)
        .map(str::to_string)
        .unwrap_or_else(|| message.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use kube::core::response::StatusDetails;

    fn ctx() -> RequestContext {
        RequestContext {
            verb: "patch",
            resource: Resource::Deployment,
            name: Some("web".into()),
            namespace: Some("shop".into()),
        }
    }

    fn status(code: u16, reason: &str, message: &str) -> kube::Error {
        kube::Error::Api(Box::new(Status::failure(message, reason).with_code(code)))
    }

    #[test]
    fn forbidden_names_verb_resource_and_the_check() {
        let err = classify(
            status(403, "Forbidden", "User \"dev\" cannot patch resource"),
            &ctx(),
            &Endpoint::default(),
        )
        .to_string();
        assert!(
            err.contains("cannot patch deployment.apps/web in namespace shop"),
            "{err}"
        );
        assert!(
            err.contains("kubectl auth can-i patch deployments.apps -n shop"),
            "{err}"
        );
    }

    #[test]
    fn field_conflicts_name_their_owners() {
        let details: StatusDetails = serde_json::from_value(serde_json::json!({
            "name": "web", "group": "apps", "kind": "deployments",
            "causes": [{"reason": "FieldManagerConflict",
                        "message": "conflict with \"helm\" using apps/v1",
                        "field": ".spec.template.spec.initContainers[name=\"log-shipper\"].image"}]
        }))
        .unwrap();
        let err = kube::Error::Api(Box::new(
            Status::failure("Apply failed with 1 conflict", "Conflict")
                .with_code(409)
                .with_details(details),
        ));
        assert!(!is_stale_write(&err));
        let text = classify(err, &ctx(), &Endpoint::default()).to_string();
        assert!(text.contains("(owned by helm)"), "{text}");
        assert!(text.contains("--force-conflicts"), "{text}");
        assert!(is_stale_write(&status(
            409,
            "Conflict",
            "the object has been modified"
        )));
    }

    #[test]
    fn webhook_denials_show_the_webhooks_message() {
        let msg = "admission webhook \"policy.example.com\" denied the request: images must come from registry.example.com";
        let err = classify(status(400, "BadRequest", msg), &ctx(), &Endpoint::default());
        assert!(matches!(err, ClusterError::Denied { .. }));
        assert!(
            err.to_string()
                .contains("images must come from registry.example.com")
        );
    }
}
