//! Has the rollout caught up with the template? The workload's own counters (generation,
//! observedGeneration, updated replicas: `kubectl rollout status`'s rules in `rollout::state`),
//! and the pods that still run an older template: for a Deployment those whose
//! `pod-template-hash` is not its newest ReplicaSet's, for a StatefulSet those whose
//! `controller-revision-hash` is not its `updateRevision`.

use std::collections::BTreeSet;

use k8s_openapi::api::core::v1::Pod;
use serde_json::Value;

use super::fixes::Owner;
use super::report::{Check, Finding, Severity};
use crate::resource::Resource;

/// The Deployment revision annotation, on the Deployment and on each of its ReplicaSets.
const REVISION: &str = "deployment.kubernetes.io/revision";

/// The label that says which template a pod was created from, and its current value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Revision {
    /// `pod-template-hash` or `controller-revision-hash`.
    pub label: &'static str,
    /// The current template's value.
    pub value: String,
}

fn str_at<'a>(v: &'a Value, path: &str) -> Option<&'a str> {
    v.pointer(path).and_then(Value::as_str)
}

/// True when `child`'s controller is the object with `uid`.
pub fn controlled_by(child: &Value, uid: &str) -> bool {
    child
        .pointer("/metadata/ownerReferences")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .any(|r| r["controller"] == true && r["uid"] == uid)
}

/// The current template's revision, when the kind has one and it is known: for a
/// Deployment, `replicasets` are the ReplicaSets in its namespace (its own are picked out).
pub fn current(resource: Resource, object: &Value, replicasets: &[Value]) -> Option<Revision> {
    match resource {
        Resource::Deployment => {
            let uid = str_at(object, "/metadata/uid")?;
            let revision = object.pointer("/metadata/annotations")?.get(REVISION)?;
            let newest = replicasets.iter().find(|rs| {
                controlled_by(rs, uid)
                    && rs
                        .pointer("/metadata/annotations")
                        .and_then(|a| a.get(REVISION))
                        == Some(revision)
            })?;
            let hash = newest
                .pointer("/metadata/labels/pod-template-hash")?
                .as_str()?;
            Some(Revision {
                label: "pod-template-hash",
                value: hash.to_string(),
            })
        }
        Resource::StatefulSet => Some(Revision {
            label: "controller-revision-hash",
            value: str_at(object, "/status/updateRevision")?.to_string(),
        }),
        _ => None,
    }
}

/// The pods created from another template than the current one.
pub fn old_pods(revision: Option<&Revision>, pods: &[Pod]) -> BTreeSet<String> {
    let Some(rev) = revision else {
        return BTreeSet::new();
    };
    pods.iter()
        .filter(|p| {
            let label = p.metadata.labels.as_ref().and_then(|l| l.get(rev.label));
            label.is_some_and(|v| *v != rev.value)
        })
        .filter_map(|p| p.metadata.name.clone())
        .collect()
}

/// The rollout findings of one workload.
pub fn check(owner: &Owner, object: &Value, old: &BTreeSet<String>) -> Vec<Finding> {
    let finding = |check, message, fix| Finding {
        severity: Severity::Error,
        check,
        namespace: Some(owner.namespace.clone()),
        object: owner.display.clone(),
        pod: None,
        container: None,
        message,
        fix,
    };
    let mut out = Vec::new();
    let state = crate::rollout::state(owner.resource, object);
    if let Some(reason) = &state.failed {
        out.push(finding(
            Check::RolloutFailed,
            format!("the rollout failed: {reason}"),
            format!(
                "see why its new pods do not become ready: {}",
                owner.describe_self()
            ),
        ));
    } else if !state.done {
        out.push(finding(
            Check::RolloutBehind,
            format!(
                "the rollout has not caught up with the template: {}",
                state.message
            ),
            format!("follow it: {}", owner.rollout_status()),
        ));
    }
    if !old.is_empty() {
        let names: Vec<&str> = old.iter().map(String::as_str).collect();
        let first = names.first().copied().unwrap_or_default();
        let fix = if state.done {
            owner.recreate(first)
        } else {
            format!("the rollout replaces them: {}", owner.rollout_status())
        };
        out.push(finding(
            Check::OldTemplate,
            format!(
                "{} pod(s) run an older template: {}",
                names.len(),
                names.join(", ")
            ),
            fix,
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rs(name: &str, hash: &str, revision: &str, owner: &str) -> Value {
        json!({"metadata": {"name": name, "labels": {"pod-template-hash": hash},
            "annotations": {REVISION: revision},
            "ownerReferences": [{"uid": owner, "controller": true}]}})
    }

    #[test]
    fn the_newest_replicaset_of_the_deployment_holds_the_current_hash() {
        let d = json!({"metadata": {"uid": "u1", "annotations": {REVISION: "2"}}});
        let sets = [
            rs("web-old", "aaa", "1", "u1"),
            rs("other", "ccc", "2", "u9"),
            rs("web-new", "bbb", "2", "u1"),
        ];
        assert_eq!(
            current(Resource::Deployment, &d, &sets),
            Some(Revision {
                label: "pod-template-hash",
                value: "bbb".into()
            })
        );
        assert_eq!(current(Resource::Deployment, &d, &sets[..2]), None);
        let sts = json!({"status": {"updateRevision": "db-7c9"}});
        assert_eq!(
            current(Resource::StatefulSet, &sts, &[]).map(|r| r.value),
            Some("db-7c9".into())
        );
        assert_eq!(current(Resource::DaemonSet, &sts, &[]), None);
    }
}
