//! The fake's JSON Patch, one test per rule of the real server's Update it models.

use serde_json::{Value, json};

use super::super::fake_api::FakeApi;
use super::super::live::deployment;
use super::*;

fn web() -> FakeApi {
    let api = FakeApi::start();
    api.insert(deployment("web", "web"));
    api
}

fn rv(api: &FakeApi) -> Value {
    api.get("shop", "web")["metadata"]["resourceVersion"].clone()
}

fn fields_of(object: &Value, manager: &str) -> Option<Value> {
    object["metadata"]["managedFields"]
        .as_array()?
        .iter()
        .find(|e| e["manager"] == manager)
        .map(|e| e["fieldsV1"].clone())
}

fn operation_of(object: &Value, manager: &str) -> Option<Value> {
    object["metadata"]["managedFields"]
        .as_array()?
        .iter()
        .find(|e| e["manager"] == manager)
        .map(|e| e["operation"].clone())
}

const WEB: &str = "k:{\"name\":\"web\"}";

#[test]
fn a_patch_applies_its_operations_and_its_manager_takes_the_changed_leaves() {
    let api = web();
    let ops = json!([
        {"op": "replace", "path": "/metadata/resourceVersion", "value": rv(&api)},
        {"op": "replace", "path": "/spec/template/spec/containers/0/image", "value": "nginx:1.28"},
    ]);
    let (code, answer) = api.json_patch_as("kubectl-edit-ish", "web", ops, false);
    assert_eq!(code, 200, "{answer}");
    let stored = api.get("shop", "web");
    assert_eq!(answer, stored);
    assert_eq!(
        stored["spec"]["template"]["spec"]["containers"][0]["image"],
        "nginx:1.28"
    );
    assert_ne!(stored["metadata"]["resourceVersion"], json!("101"));
    assert_eq!(stored["metadata"]["generation"], 2);
    let mine = fields_of(&stored, "kubectl-edit-ish").unwrap();
    assert_eq!(
        mine,
        json!({"f:spec": {"f:template": {"f:spec": {"f:containers": {
            WEB: {".": {}, "f:image": {}}}}}}})
    );
    assert_eq!(
        operation_of(&stored, "kubectl-edit-ish"),
        Some(json!("Update"))
    );
    let creator = fields_of(&stored, "kubectl-create").unwrap();
    let container = &creator["f:spec"]["f:template"]["f:spec"]["f:containers"][WEB];
    assert!(container.get("f:image").is_none(), "{container}");
    assert!(container.get("f:name").is_some() && container.get("f:env").is_some());
}

#[test]
fn a_stale_resource_version_is_the_recorded_409() {
    let api = web();
    let ops = json!([
        {"op": "replace", "path": "/metadata/resourceVersion", "value": "1"},
        {"op": "replace", "path": "/spec/replicas", "value": 5},
    ]);
    let (code, body) = api.json_patch_as("m", "web", ops, false);
    assert_eq!(code, 409);
    let mut recorded = crate::common::k8s_fixture("ssa-stale-resourceversion-409.json");
    let message = recorded["message"]
        .as_str()
        .unwrap()
        .replace("\"api\"", "\"web\"");
    recorded["message"] = json!(message);
    recorded["details"]["name"] = json!("web");
    assert_eq!(body, recorded);
    assert_eq!(api.get("shop", "web")["spec"]["replicas"], 2);
}

#[test]
fn removed_fields_leave_every_entry_and_a_manager_that_changed_nothing_gets_none() {
    let api = web();
    let ops = json!([
        {"op": "replace", "path": "/metadata/resourceVersion", "value": rv(&api)},
        {"op": "remove", "path": "/spec/template/spec/containers/0/env"},
    ]);
    let (code, _) = api.json_patch_as("remover", "web", ops, false);
    assert_eq!(code, 200);
    let stored = api.get("shop", "web");
    assert!(
        stored["spec"]["template"]["spec"]["containers"][0]
            .get("env")
            .is_none()
    );
    let creator = fields_of(&stored, "kubectl-create").unwrap();
    let container = &creator["f:spec"]["f:template"]["f:spec"]["f:containers"][WEB];
    assert!(container.get("f:env").is_none(), "{container}");
    assert!(fields_of(&stored, "remover").is_none());
}

#[test]
fn managed_fields_the_request_changes_become_the_base() {
    let api = web();
    let before = api.get("shop", "web");
    let mut creator = fields_of(&before, "kubectl-create").unwrap();
    creator["f:spec"]
        .as_object_mut()
        .unwrap()
        .remove("f:replicas");
    let entries = json!([
        {"manager": "kubectl-create", "operation": "Update", "apiVersion": "apps/v1",
         "fieldsType": "FieldsV1", "fieldsV1": creator},
        {"manager": "scaler", "operation": "Apply", "apiVersion": "apps/v1",
         "fieldsType": "FieldsV1", "fieldsV1": {"f:spec": {"f:replicas": {}}}},
    ]);
    let ops = json!([
        {"op": "replace", "path": "/metadata/resourceVersion", "value": rv(&api)},
        {"op": "replace", "path": "/metadata/managedFields", "value": entries},
    ]);
    let (code, _) = api.json_patch_as("handover", "web", ops, false);
    assert_eq!(code, 200);
    let stored = api.get("shop", "web");
    assert_eq!(fields_of(&stored, "kubectl-create"), Some(creator));
    assert_eq!(
        fields_of(&stored, "scaler"),
        Some(json!({"f:spec": {"f:replicas": {}}}))
    );
    assert_eq!(operation_of(&stored, "scaler"), Some(json!("Apply")));
    assert!(fields_of(&stored, "handover").is_none());
    assert_ne!(
        stored["metadata"]["resourceVersion"],
        before["metadata"]["resourceVersion"]
    );
    assert_eq!(stored["metadata"]["generation"], 1, "no spec change");
}

#[test]
fn entries_left_empty_are_dropped() {
    let api = web();
    let creator = fields_of(&api.get("shop", "web"), "kubectl-create").unwrap();
    let entries = json!([
        {"manager": "kubectl-create", "operation": "Update", "fieldsV1": creator},
        {"manager": "scaler", "operation": "Update", "fieldsV1": {"f:spec": {"f:replicas": {}}}},
        {"manager": "nothing", "operation": "Update", "fieldsV1": {}},
    ]);
    let ops = json!([
        {"op": "replace", "path": "/metadata/resourceVersion", "value": rv(&api)},
        {"op": "replace", "path": "/metadata/managedFields", "value": entries},
        {"op": "replace", "path": "/spec/replicas", "value": 3},
    ]);
    let (code, _) = api.json_patch_as("autoscaler", "web", ops, false);
    assert_eq!(code, 200);
    let stored = api.get("shop", "web");
    // The scaler's only field went to the autoscaler; the empty entry is gone.
    assert!(fields_of(&stored, "scaler").is_none());
    assert!(fields_of(&stored, "nothing").is_none());
    assert_eq!(
        fields_of(&stored, "autoscaler"),
        Some(json!({"f:spec": {"f:replicas": {}}}))
    );
    let creator = fields_of(&stored, "kubectl-create").unwrap();
    assert!(creator["f:spec"].get("f:replicas").is_none());
}

#[test]
fn a_dry_run_stores_nothing() {
    let api = web();
    let before = api.get("shop", "web");
    let ops = json!([{"op": "replace", "path": "/spec/replicas", "value": 7}]);
    let (code, answer) = api.json_patch_as("m", "web", ops, true);
    assert_eq!(code, 200);
    assert_eq!(answer["spec"]["replicas"], 7);
    assert_eq!(api.get("shop", "web"), before);
}

#[test]
fn other_patch_types_are_still_refused() {
    let api = web();
    let req = Request {
        method: "PATCH".into(),
        path: "/apis/apps/v1/namespaces/shop/deployments/web".into(),
        query: BTreeMap::from([("fieldManager".to_string(), "m".to_string())]),
        headers: BTreeMap::from([(
            "content-type".to_string(),
            "application/merge-patch+json".to_string(),
        )]),
        body: "{}".into(),
    };
    let mut st = api.lock();
    let (code, _) = super::super::fake_apply::apply(&mut st, &req, "shop", "web");
    assert_eq!(code, 415);
}
