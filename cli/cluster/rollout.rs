//! `--wait`: follows the rollout of each changed Deployment, StatefulSet and DaemonSet through a
//! watch until it completes, fails or times out, like `kubectl rollout status`.

use std::time::Duration;

use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::core::v1::{Event, Pod};
use kube::Api;
use kube::api::{DynamicObject, ListParams, WatchEvent, WatchParams};
use serde_json::Value;

use super::connect::Connection;
use super::error::{ClusterError, classify};
use super::live::Target;
use super::resource::Resource;
use kubectl_pattern_engine::duration;
use kubectl_pattern_engine::kinds::Rollout;

/// Where a rollout stands.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RolloutState {
    /// Desired replicas (or scheduled pods for a DaemonSet).
    pub desired: i64,
    /// Replicas on the new template.
    pub updated: i64,
    /// Ready (available) replicas.
    pub ready: i64,
    /// Complete.
    pub done: bool,
    /// Failed, with the reason.
    pub failed: Option<String>,
    /// What kubectl would say.
    pub message: String,
    /// A paused Deployment: nothing will happen until it is resumed.
    pub paused: bool,
}

fn int(v: &Value, path: &str) -> i64 {
    v.pointer(path).and_then(Value::as_i64).unwrap_or(0)
}

/// The rollout state of `object` (kubectl rollout status's rules).
pub fn state(resource: Resource, object: &Value) -> RolloutState {
    let generation = int(object, "/metadata/generation");
    let observed = int(object, "/status/observedGeneration");
    let mut s = RolloutState::default();
    // A paused Deployment does not roll out whatever the controller has seen: say so at once
    // (`kubectl rollout resume` starts it), instead of waiting until the timeout.
    if resource.info().rollout == Rollout::Deployment
        && object.pointer("/spec/paused") == Some(&Value::Bool(true))
    {
        let name = object
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let ns = object
            .pointer("/metadata/namespace")
            .and_then(Value::as_str)
            .map(|ns| format!(" -n {ns}"))
            .unwrap_or_default();
        s.message = "paused".into();
        s.paused = true;
        s.failed = Some(format!(
            "the Deployment is paused (kubectl rollout pause), so the new pod template does not roll out; resume it: kubectl rollout resume deployment/{name}{ns}"
        ));
        return s;
    }
    if observed < generation {
        s.message = "waiting for the controller to see the new spec".into();
        return s;
    }
    match resource.info().rollout {
        Rollout::Deployment => {
            s.desired = object
                .pointer("/spec/replicas")
                .and_then(Value::as_i64)
                .unwrap_or(1);
            s.updated = int(object, "/status/updatedReplicas");
            s.ready = int(object, "/status/availableReplicas");
            let total = int(object, "/status/replicas");
            let conditions = object
                .pointer("/status/conditions")
                .and_then(Value::as_array);
            if let Some(c) = conditions
                .into_iter()
                .flatten()
                .find(|c| c["type"] == "Progressing" && c["reason"] == "ProgressDeadlineExceeded")
            {
                s.failed = Some(
                    c["message"]
                        .as_str()
                        .unwrap_or("progress deadline exceeded")
                        .to_string(),
                );
            }
            s.done = s.updated >= s.desired && total <= s.updated && s.ready >= s.updated;
            s.message = if s.updated < s.desired {
                format!("{} of {} new replicas updated", s.updated, s.desired)
            } else if total > s.updated {
                format!("{} old replicas pending termination", total - s.updated)
            } else {
                format!("{} of {} updated replicas available", s.ready, s.updated)
            };
        }
        Rollout::StatefulSet => {
            s.desired = object
                .pointer("/spec/replicas")
                .and_then(Value::as_i64)
                .unwrap_or(1);
            s.updated = int(object, "/status/updatedReplicas");
            s.ready = int(object, "/status/readyReplicas");
            let current = object.pointer("/status/currentRevision");
            let update = object.pointer("/status/updateRevision");
            let on_delete = object.pointer("/spec/updateStrategy/type")
                == Some(&Value::String("OnDelete".into()));
            s.done =
                on_delete || (s.updated >= s.desired && s.ready >= s.desired && current == update);
            s.message = format!(
                "{} of {} pods updated, {} ready",
                s.updated, s.desired, s.ready
            );
        }
        Rollout::DaemonSet => {
            s.desired = int(object, "/status/desiredNumberScheduled");
            s.updated = int(object, "/status/updatedNumberScheduled");
            s.ready = int(object, "/status/numberAvailable");
            s.done = s.updated >= s.desired && s.ready >= s.desired;
            s.message = format!(
                "{} of {} pods updated, {} available",
                s.updated, s.desired, s.ready
            );
        }
        Rollout::None => {
            s.done = true;
        }
    }
    s
}

/// Follows one rollout until done, failed or `timeout` (`None`: no limit); `on_update` sees
/// every state.
pub async fn wait(
    conn: &Connection,
    target: &Target,
    timeout: Option<Duration>,
    on_update: &(dyn Fn(&Target, &RolloutState) + Send + Sync),
) -> Result<RolloutState, ClusterError> {
    let ar = super::resource::api_resource(target.resource);
    let api: Api<DynamicObject> = Api::namespaced_with(conn.client.clone(), &target.namespace, &ar);
    let ctx = |verb| super::error::RequestContext {
        verb,
        resource: target.resource,
        name: Some(target.name.clone()),
        namespace: Some(target.namespace.clone()),
    };
    let follow = async {
        loop {
            let object = api
                .get(&target.name)
                .await
                .map_err(|e| classify(e, &ctx("get"), &conn.endpoint))?;
            let rv = object.metadata.resource_version.clone().unwrap_or_default();
            let value = serde_json::to_value(&object).unwrap_or(Value::Null);
            let s = state(target.resource, &value);
            on_update(target, &s);
            if s.done || s.failed.is_some() {
                return Ok(s);
            }
            let params = WatchParams::default()
                .fields(&format!("metadata.name={}", target.name))
                .timeout(290);
            let mut events = api
                .watch(&params, &rv)
                .await
                .map_err(|e| classify(e, &ctx("watch"), &conn.endpoint))?
                .boxed();
            while let Some(event) = events
                .try_next()
                .await
                .map_err(|e| classify(e, &ctx("watch"), &conn.endpoint))?
            {
                let object = match event {
                    WatchEvent::Added(o) | WatchEvent::Modified(o) => o,
                    WatchEvent::Deleted(_) => {
                        return Err(ClusterError::Rollout {
                            object: target.display(),
                            reason: "the object was deleted while waiting".into(),
                        });
                    }
                    WatchEvent::Bookmark(_) => continue,
                    // An expired resourceVersion: read again and re-watch.
                    WatchEvent::Error(_) => break,
                };
                let value = serde_json::to_value(&object).unwrap_or(Value::Null);
                let s = state(target.resource, &value);
                on_update(target, &s);
                if s.done || s.failed.is_some() {
                    return Ok(s);
                }
            }
        }
    };
    let followed = match timeout {
        None => Ok(follow.await),
        Some(limit) => tokio::time::timeout(limit, follow).await.map_err(|_| limit),
    };
    let s = match followed {
        Ok(result) => result?,
        Err(limit) => {
            let why = newest_pod_problem(conn, target).await;
            return Err(ClusterError::Rollout {
                object: target.display(),
                reason: format!(
                    "not complete after {}{}",
                    duration::format(limit),
                    why.map(|w| format!(": {w}")).unwrap_or_default()
                ),
            });
        }
    };
    match s.failed {
        // The pods say nothing about a pause.
        Some(reason) if s.paused => Err(ClusterError::Rollout {
            object: target.display(),
            reason,
        }),
        Some(reason) => {
            let why = newest_pod_problem(conn, target).await;
            Err(ClusterError::Rollout {
                object: target.display(),
                reason: match why {
                    Some(w) => format!("{reason}; newest pod: {w}"),
                    None => reason,
                },
            })
        }
        None => Ok(s),
    }
}

/// The last warning event of the workload's newest pod, if any.
async fn newest_pod_problem(conn: &Connection, target: &Target) -> Option<String> {
    let ar = super::resource::api_resource(target.resource);
    let api: Api<DynamicObject> = Api::namespaced_with(conn.client.clone(), &target.namespace, &ar);
    let object = serde_json::to_value(api.get(&target.name).await.ok()?).ok()?;
    let labels = object.pointer("/spec/selector/matchLabels")?.as_object()?;
    let selector = labels
        .iter()
        .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default()))
        .collect::<Vec<_>>()
        .join(",");
    let pods: Api<Pod> = Api::namespaced(conn.client.clone(), &target.namespace);
    let list = pods
        .list(&ListParams::default().labels(&selector))
        .await
        .ok()?;
    let newest = list
        .items
        .iter()
        .max_by_key(|p| p.metadata.creation_timestamp.clone())?;
    let name = newest.metadata.name.clone()?;
    let events: Api<Event> = Api::namespaced(conn.client.clone(), &target.namespace);
    let list = events
        .list(&ListParams::default().fields(&format!(
            "involvedObject.name={name},involvedObject.kind=Pod,type=Warning"
        )))
        .await
        .ok()?;
    let last = list.items.iter().max_by_key(|e| e.last_timestamp.clone())?;
    Some(format!(
        "pod {name}: {} {}",
        last.reason.clone().unwrap_or_default(),
        last.message.clone().unwrap_or_default()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_deployment_is_done_when_all_replicas_are_new_and_available() {
        let mut d = json!({"metadata": {"generation": 2}, "spec": {"replicas": 3},
            "status": {"observedGeneration": 2, "replicas": 4, "updatedReplicas": 3,
                       "availableReplicas": 3}});
        let s = state(Resource::Deployment, &d);
        assert!(!s.done);
        assert_eq!(s.message, "1 old replicas pending termination");
        d["status"]["replicas"] = json!(3);
        assert!(state(Resource::Deployment, &d).done);
        d["status"]["observedGeneration"] = json!(1);
        assert!(!state(Resource::Deployment, &d).done);
    }

    #[test]
    fn a_progress_deadline_is_a_failure_with_its_message() {
        let d = json!({"metadata": {"generation": 1}, "spec": {"replicas": 1},
            "status": {"observedGeneration": 1, "replicas": 1, "updatedReplicas": 1,
              "conditions": [{"type": "Progressing", "status": "False",
                "reason": "ProgressDeadlineExceeded",
                "message": "ReplicaSet \"web-5d\" has timed out progressing."}]}});
        let s = state(Resource::Deployment, &d);
        assert_eq!(
            s.failed.as_deref(),
            Some("ReplicaSet \"web-5d\" has timed out progressing.")
        );
    }

    #[test]
    fn a_paused_deployment_fails_at_once_with_how_to_resume() {
        let d = json!({"metadata": {"name": "web", "namespace": "t", "generation": 3},
            "spec": {"replicas": 1, "paused": true}, "status": {"observedGeneration": 2}});
        let s = state(Resource::Deployment, &d);
        let reason = s.failed.unwrap();
        assert!(reason.contains("is paused"), "{reason}");
        assert!(
            reason.contains("kubectl rollout resume deployment/web -n t"),
            "{reason}"
        );
    }

    #[test]
    fn statefulsets_and_daemonsets_follow_their_own_counters() {
        let sts = json!({"metadata": {"generation": 1}, "spec": {"replicas": 2},
            "status": {"observedGeneration": 1, "updatedReplicas": 2, "readyReplicas": 2,
                       "currentRevision": "a", "updateRevision": "b"}});
        assert!(!state(Resource::StatefulSet, &sts).done);
        let ds = json!({"metadata": {"generation": 1},
            "status": {"observedGeneration": 1, "desiredNumberScheduled": 3,
                       "updatedNumberScheduled": 3, "numberAvailable": 3}});
        assert!(state(Resource::DaemonSet, &ds).done);
    }
}
