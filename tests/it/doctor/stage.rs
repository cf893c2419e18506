//! The cluster doctor's tests answer with: the real API server responses recorded from
//! Kubernetes v1.36.2 (`fixtures/k8s-1.36/`, copied from the shared recordings), and each
//! staged failure as an edited copy of them. Two kinds of object were not recorded and are
//! derived here, both from recorded data: the Deployment's two ReplicaSets (the names, uids
//! and hashes the recorded pods and events name, around the recorded Deployment's template)
//! and the injector's policy and binding (what `kubectl pattern inject log-shipper` exports,
//! with the metadata a server adds).

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde_json::{Value, json};

/// The namespace of the recordings.
pub const NS: &str = "fixtures";
/// Four minutes after the recorded rollout and probe failure.
pub const NOW: &str = "2026-12-01T21:10:00Z";

pub const DEPLOYMENT: &str = "/apis/apps/v1/namespaces/fixtures/deployments/web";
pub const REPLICASETS: &str = "/apis/apps/v1/namespaces/fixtures/replicasets";
pub const PODS: &str = "/api/v1/namespaces/fixtures/pods";
pub const EVENTS: &str = "/api/v1/namespaces/fixtures/events";
pub const NODES: &str = "/api/v1/nodes";
pub const POLICIES: &str = "/apis/admissionregistration.k8s.io/v1/mutatingadmissionpolicies";
pub const BINDINGS: &str = "/apis/admissionregistration.k8s.io/v1/mutatingadmissionpolicybindings";

/// The ReplicaSet of the template with log-shipper (revision 2), as the pods name it.
const NEW_RS: (&str, &str, &str) = (
    "web-575fb96457",
    "729f47de-e61c-48a4-b0c9-b5eecf43e7c4",
    "575fb96457",
);
/// The ReplicaSet of the template before the patch (revision 1), as the events name it.
const OLD_RS: (&str, &str, &str) = (
    "web-5bd9d4cf95",
    "692f8b90-5c56-4bcc-aaee-0f3c33bde3d7",
    "5bd9d4cf95",
);

/// A recorded response body.
pub fn fixture(name: &str) -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/it/fixtures/k8s-1.36")
        .join(format!("{name}.json"));
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

/// A list response.
pub fn list(kind: &str, api_version: &str, items: Vec<Value>) -> Value {
    json!({"kind": kind, "apiVersion": api_version, "metadata": {"resourceVersion": "345"},
           "items": items})
}

/// The responses of a cluster, by path.
#[derive(Debug, Clone)]
pub struct Stage {
    /// GET path → body.
    pub bodies: BTreeMap<String, Value>,
}

impl Stage {
    /// The recorded healthy rollout: the Deployment with log-shipper, its two pods with the
    /// native sidecar started and ready, the namespace's events without the probe failure
    /// (which `probe_failure` puts back), both nodes on kubelet 1.36, no injector.
    pub fn healthy() -> Stage {
        let mut events = fixture("events");
        events["items"]
            .as_array_mut()
            .unwrap()
            .retain(|e| e["reason"] != "Unhealthy");
        let bodies = BTreeMap::from([
            (DEPLOYMENT.into(), fixture("deployment-with-log-shipper")),
            (REPLICASETS.into(), replicasets()),
            (PODS.into(), fixture("pods-running")),
            (EVENTS.into(), events),
            (NODES.into(), fixture("nodes")),
            (
                POLICIES.into(),
                list("MutatingAdmissionPolicyList", ADMISSION, vec![]),
            ),
            (
                BINDINGS.into(),
                list("MutatingAdmissionPolicyBindingList", ADMISSION, vec![]),
            ),
        ]);
        Stage { bodies }
    }

    /// The body at `path`, to edit.
    pub fn body(&mut self, path: &str) -> &mut Value {
        self.bodies.get_mut(path).unwrap()
    }

    /// The recorded pod `index` of the pod list, to edit.
    pub fn pod(&mut self, index: usize) -> &mut Value {
        &mut self.body(PODS)["items"][index]
    }

    /// The recorded events, with the kubelet's probe failure for the helper.
    pub fn probe_failure(mut self) -> Stage {
        self.bodies.insert(EVENTS.into(), fixture("events"));
        self
    }

    /// The first pod replaced by its recording with the helper in CrashLoopBackOff.
    pub fn crashloop(mut self) -> Stage {
        *self.pod(0) = fixture("pod-helper-crashloop");
        self
    }

    /// The second node's kubelet on 1.28 (the first pod runs on the first node).
    pub fn old_kubelet(mut self) -> Stage {
        self.body(NODES)["items"][1]["status"]["nodeInfo"]["kubeletVersion"] = json!("v1.28.9");
        self
    }

    /// The injector's policy and, when `bound`, its binding.
    pub fn injector(mut self, bound: bool) -> Stage {
        let (policy, binding) = injector_objects();
        self.body(POLICIES)["items"] = json!([policy]);
        if bound {
            self.body(BINDINGS)["items"] = json!([binding]);
        }
        self
    }

    /// A `FailedCreate` event of the new ReplicaSet repeating the recorded denial: a copy of
    /// the recorded `SuccessfulCreate` event for that ReplicaSet, turned into the failure.
    pub fn denied(mut self) -> Stage {
        let denial = fixture("injector-denial");
        let events = self.body(EVENTS)["items"].as_array_mut().unwrap();
        let mut event = events
            .iter()
            .find(|e| e["reason"] == "SuccessfulCreate" && e["involvedObject"]["name"] == NEW_RS.0)
            .unwrap()
            .clone();
        event["metadata"]["name"] = json!("web-575fb96457.failedcreate");
        event["type"] = json!("Warning");
        event["reason"] = json!("FailedCreate");
        event["message"] = json!(format!(
            "Error creating: {}",
            denial["message"].as_str().unwrap()
        ));
        event["count"] = json!(4);
        events.push(event);
        self
    }

    /// The Deployment without its pattern record (the injector's business then).
    pub fn unrecorded(mut self) -> Stage {
        let template = &mut self.body(DEPLOYMENT)["spec"]["template"]["metadata"];
        template.as_object_mut().unwrap().remove("annotations");
        self
    }
}

/// `admissionregistration.k8s.io/v1`.
pub const ADMISSION: &str = "admissionregistration.k8s.io/v1";

/// Pod `pod` made a pod of the template before the patch: no helper, no record, the old
/// ReplicaSet's hash and owner (the recorded names of the pod that template had).
pub fn before_the_patch(pod: &mut Value) {
    pod["metadata"]["name"] = json!("web-5bd9d4cf95-b5ws5");
    pod["metadata"]["generateName"] = json!("web-5bd9d4cf95-");
    pod["metadata"]["labels"]["pod-template-hash"] = json!(OLD_RS.2);
    pod["metadata"]["ownerReferences"][0]["name"] = json!(OLD_RS.0);
    pod["metadata"]["ownerReferences"][0]["uid"] = json!(OLD_RS.1);
    pod["metadata"]
        .as_object_mut()
        .unwrap()
        .remove("annotations");
    without_helper(pod);
}

/// The helper taken out of a pod: its container, status, volumes and mount.
pub fn without_helper(pod: &mut Value) {
    without_helper_spec(&mut pod["spec"]);
    pod["status"]
        .as_object_mut()
        .unwrap()
        .remove("initContainerStatuses");
}

/// The helper taken out of a pod spec: the native sidecar, its volumes and the app's mount.
fn without_helper_spec(spec: &mut Value) {
    let map = spec.as_object_mut().unwrap();
    map.remove("initContainers");
    map.remove("volumes");
    spec["containers"][0]
        .as_object_mut()
        .unwrap()
        .remove("volumeMounts");
}

/// The Deployment's ReplicaSets: the recorded Deployment's template under the names, uids
/// and hashes the recorded pods and events give them.
pub fn replicasets() -> Value {
    let deployment = fixture("deployment-with-log-shipper");
    let owner = json!([{"apiVersion": "apps/v1", "kind": "Deployment", "name": "web",
        "uid": deployment["metadata"]["uid"], "controller": true, "blockOwnerDeletion": true}]);
    let rs = |(name, uid, hash): (&str, &str, &str), revision: &str, replicas: i64| {
        let mut template = deployment["spec"]["template"].clone();
        template["metadata"]["labels"]["pod-template-hash"] = json!(hash);
        if revision == "1" {
            template["metadata"]
                .as_object_mut()
                .unwrap()
                .remove("annotations");
            without_helper_spec(&mut template["spec"]);
        }
        json!({"metadata": {"name": name, "namespace": NS, "uid": uid,
                "resourceVersion": "340", "generation": 1,
                "creationTimestamp": "2026-12-01T21:06:47Z",
                "labels": {"app": "web", "pod-template-hash": hash},
                "annotations": {"deployment.kubernetes.io/desired-replicas": "2",
                    "deployment.kubernetes.io/max-replicas": "3",
                    "deployment.kubernetes.io/revision": revision},
                "ownerReferences": owner},
            "spec": {"replicas": replicas,
                "selector": {"matchLabels": {"app": "web", "pod-template-hash": hash}},
                "template": template},
            "status": {"replicas": replicas, "observedGeneration": 1}})
    };
    list(
        "ReplicaSetList",
        "apps/v1",
        vec![rs(OLD_RS, "1", 0), rs(NEW_RS, "2", 2)],
    )
}

/// The policy and binding `kubectl pattern inject log-shipper --select app=web` exports, as
/// list items of a server (uid, resourceVersion, generation, creation time added).
pub fn injector_objects() -> (Value, Value) {
    let out = crate::common::bin()
        .args(["inject", "log-shipper", "--select", "app=web", "-o", "json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let exported: Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut items: Vec<Value> = exported["items"].as_array().unwrap().clone();
    for (i, item) in items.iter_mut().enumerate() {
        let meta = item["metadata"].as_object_mut().unwrap();
        meta.insert(
            "uid".into(),
            json!(format!("5d0c1e2a-0000-4000-8000-00000000000{i}")),
        );
        meta.insert("resourceVersion".into(), json!("120"));
        meta.insert("generation".into(), json!(1));
        meta.insert("creationTimestamp".into(), json!("2026-12-01T21:05:00Z"));
        let o = item.as_object_mut().unwrap();
        o.remove("apiVersion");
        o.remove("kind");
    }
    assert_eq!(items.len(), 2);
    (items[0].clone(), items[1].clone())
}
