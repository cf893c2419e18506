//! Unit tests of the migration patches and the managedFields hand-over.

use super::*;

fn live() -> Value {
    json!({"apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "resourceVersion": "7",
            "managedFields": [{"manager": "kubectl-create"}]},
        "spec": {"template": {"metadata": {"labels": {"app": "web"}},
            "spec": {"containers": [{"name": "web", "volumeMounts": [
                {"name": "site", "mountPath": "/srv"}]}],
                "volumes": [{"name": "site", "gitRepo": {"repository": "https://x/site.git"}}]}}},
        "status": {"replicas": 2}})
}

#[test]
fn the_patch_checks_the_version_and_replaces_only_what_changed() {
    let live = live();
    let mut edited = live.clone();
    let spec = &mut edited["spec"]["template"]["spec"];
    spec["volumes"] = json!([{"name": "git-clone-repo", "emptyDir": {}}]);
    spec["containers"][0]["volumeMounts"][0]["name"] = json!("git-clone-repo");
    spec["initContainers"] = json!([{"name": "git-clone", "image": "git:1"}]);
    edited["spec"]["template"]["metadata"]["annotations"] =
        json!({"pattern.kubectl.io/applied": "[]"});
    // Differences the server keeps itself are no change.
    edited["status"] = json!({"replicas": 3});
    edited["metadata"]["managedFields"] = json!([]);
    let ops = json_patch(&live, &edited, Some("7"));
    assert_eq!(
        ops,
        [
            json!({"op": "replace", "path": "/metadata/resourceVersion", "value": "7"}),
            json!({"op": "add", "path": "/spec/template/metadata/annotations",
                   "value": {"pattern.kubectl.io/applied": "[]"}}),
            json!({"op": "replace", "path": "/spec/template/spec/containers",
                   "value": [{"name": "web", "volumeMounts": [
                       {"name": "git-clone-repo", "mountPath": "/srv"}]}]}),
            json!({"op": "replace", "path": "/spec/template/spec/volumes",
                   "value": [{"name": "git-clone-repo", "emptyDir": {}}]}),
            json!({"op": "add", "path": "/spec/template/spec/initContainers",
                   "value": [{"name": "git-clone", "image": "git:1"}]}),
        ]
    );
}

#[test]
fn removed_members_and_escaped_keys() {
    let live = json!({"metadata": {"annotations": {"a/b": "1", "c~d": "2"}}});
    let edited = json!({"metadata": {"annotations": {"a/b": "3"}}});
    assert_eq!(
        json_patch(&live, &edited, None),
        [
            json!({"op": "replace", "path": "/metadata/annotations/a~1b", "value": "3"}),
            json!({"op": "remove", "path": "/metadata/annotations/c~0d"}),
        ]
    );
    assert!(json_patch(&live, &live, None).is_empty());
}

fn field(steps: &[&str]) -> ReleasedField {
    let path = steps
        .iter()
        .map(|s| match s.split_once('=') {
            Some((field, value)) => Step::Key {
                field: if field == "mountPath" {
                    "mountPath"
                } else {
                    "name"
                },
                value: value.to_string(),
            },
            None => Step::Field(s.to_string()),
        })
        .collect();
    ReleasedField {
        what: steps.join("."),
        path,
    }
}

fn mount_field() -> ReleasedField {
    field(&[
        "spec",
        "template",
        "spec",
        "containers",
        "name=web",
        "volumeMounts",
        "mountPath=/srv",
    ])
}

/// The migration's Update as the server records it: the clone's mount on `web` (an instance
/// field), the records annotation (the keeper applies it too), and, when `sidecar`, the
/// renamed mount of the old volume on another container (no instance owns it).
fn migrate_entry(sidecar: bool) -> Value {
    let mut spec = json!({"f:containers": {
        "k:{\"name\":\"web\"}": {"f:volumeMounts": {"k:{\"mountPath\":\"/srv\"}": {
            ".": {}, "f:mountPath": {}, "f:name": {}}}}}});
    if sidecar {
        spec["f:containers"]["k:{\"name\":\"reloader\"}"] = json!({"f:volumeMounts": {
            "k:{\"mountPath\":\"/watch\"}": {"f:name": {}}}});
    }
    json!({"manager": MIGRATE_FIELD_MANAGER, "operation": "Update",
        "fieldsV1": {"f:spec": {"f:template": {
            "f:metadata": {"f:annotations": {"f:pattern.kubectl.io/applied": {}}},
            "f:spec": spec}}}})
}

#[test]
fn the_hand_over_prunes_other_managers_and_drops_the_update() {
    let user = json!({"manager": "kubectl-client-side-apply", "operation": "Update",
        "fieldsV1": {"f:spec": {"f:replicas": {}, "f:template": {"f:spec": {"f:containers": {
            "k:{\"name\":\"web\"}": {".": {}, "f:image": {},
                "f:volumeMounts": {"k:{\"mountPath\":\"/srv\"}": {
                    ".": {}, "f:mountPath": {}, "f:name": {}}}}}}}}}});
    let keeper = json!({"manager": "kubectl-pattern", "operation": "Apply",
        "fieldsV1": {"f:spec": {"f:template": {
            "f:metadata": {"f:annotations": {"f:pattern.kubectl.io/applied": {}}},
            "f:spec": {"f:containers": {
            "k:{\"name\":\"web\"}": {"f:volumeMounts": {"k:{\"mountPath\":\"/srv\"}": {
                ".": {}, "f:name": {}}}}}}}}}});
    let status = json!({"manager": "kube-controller-manager", "operation": "Update",
        "subresource": "status", "fieldsV1": {"f:spec": {"f:template": {"f:spec": {
            "f:containers": {"k:{\"name\":\"web\"}": {"f:volumeMounts": {
                "k:{\"mountPath\":\"/srv\"}": {}}}}}}}}});
    let entries = [user, keeper.clone(), migrate_entry(false), status.clone()];
    let out = hand_over(
        &entries,
        "kubectl-pattern",
        MIGRATE_FIELD_MANAGER,
        &[mount_field()],
    );
    // The mount leaves the user's entry; the emptied volumeMounts map goes too, while the
    // container keeps its own fields and its `.`. The migration owned nothing of its own.
    let user_after = json!({"manager": "kubectl-client-side-apply", "operation": "Update",
        "fieldsV1": {"f:spec": {"f:replicas": {}, "f:template": {"f:spec": {"f:containers": {
            "k:{\"name\":\"web\"}": {".": {}, "f:image": {}}}}}}}});
    assert_eq!(out, [user_after, keeper.clone(), status]);

    // A mount on another container renamed to the new volume stays the migration's.
    let out = hand_over(
        &[keeper.clone(), migrate_entry(true)],
        "kubectl-pattern",
        MIGRATE_FIELD_MANAGER,
        &[mount_field()],
    );
    let migrate_after = json!({"manager": MIGRATE_FIELD_MANAGER, "operation": "Update",
        "fieldsV1": {"f:spec": {"f:template": {"f:spec": {"f:containers": {
            "k:{\"name\":\"reloader\"}": {"f:volumeMounts": {
                "k:{\"mountPath\":\"/watch\"}": {"f:name": {}}}}}}}}}});
    assert_eq!(out, [keeper, migrate_after]);
}

#[test]
fn an_entry_left_without_fields_is_dropped_and_parents_emptied_by_pruning_go() {
    let only_mount = json!({"manager": "kubectl-create", "operation": "Update",
        "fieldsV1": {"f:spec": {"f:template": {"f:spec": {"f:containers": {
            "k:{\"name\":\"web\"}": {"f:volumeMounts": {"k:{\"mountPath\":\"/srv\"}": {
                ".": {}, "f:mountPath": {}}}}}}}}}});
    assert!(hand_over(&[only_mount], "kubectl-pattern", "m", &[mount_field()]).is_empty());
    // An owned empty map the pruning does not reach stays: it is a field.
    let owns_empty = json!({"manager": "kubectl-create", "operation": "Update",
        "fieldsV1": {"f:spec": {"f:template": {"f:spec": {"f:securityContext": {}}}}}});
    assert_eq!(
        hand_over(
            std::slice::from_ref(&owns_empty),
            "kubectl-pattern",
            "m",
            &[mount_field()]
        ),
        [owns_empty]
    );
}

/// A Deployment with a git-clone instance applied by kubectl-pattern.
fn cloned() -> Value {
    let record = json!([{"pattern": "git-clone", "instance": "git-clone", "version": "1.0.0",
        "paramsHash": "sha256:0", "containers": ["git-clone"], "volumes": ["git-clone-repo"],
        "mounts": [{"container": "web", "mountPath": "/srv"}],
        "created": ["initContainers", "annotations"]}]);
    json!({"apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web"},
        "spec": {"template": {"metadata": {"annotations": {
            "pattern.kubectl.io/applied": record.to_string()}},
            "spec": {"initContainers": [{"name": "git-clone", "image": "git:1",
                "volumeMounts": [{"name": "git-clone-repo", "mountPath": "/repo"}]}],
                "containers": [{"name": "web", "volumeMounts": [
                    {"name": "git-clone-repo", "mountPath": "/srv"}]}],
                "volumes": [{"name": "git-clone-repo", "emptyDir": {}}]}}}})
}

#[test]
fn the_instance_fields_are_those_its_record_names() {
    let object = cloned();
    let fields = instance_fields(&object, &["git-clone".into()], "kubectl-pattern").unwrap();
    let mut what: Vec<&str> = fields.iter().map(|f| f.what.as_str()).collect();
    what.sort();
    assert_eq!(
        what,
        [
            "annotations[pattern.kubectl.io/applied]",
            "containers[name=web].volumeMounts[mountPath=/srv]",
            "initContainers[name=git-clone]",
            "volumes[name=git-clone-repo]",
        ]
    );
    assert_eq!(
        fields
            .iter()
            .find(|f| f.what.starts_with("containers"))
            .unwrap()
            .path,
        mount_field().path
    );
    // Another manager's records claim nothing here.
    assert!(
        instance_fields(&object, &["git-clone".into()], "other")
            .unwrap()
            .is_empty()
    );
}

#[test]
fn a_hand_over_is_unfinished_while_the_migration_owns_a_clone_helper() {
    let mut object = cloned();
    assert!(unfinished(&object).unwrap().is_none(), "no migration");
    let helper = json!({"f:spec": {"f:template": {"f:spec": {"f:initContainers": {
        "k:{\"name\":\"git-clone\"}": {".": {}, "f:image": {}}}}}}});
    let entry = |fields: &Value| {
        json!({"manager": MIGRATE_FIELD_MANAGER, "operation": "Update",
        "fieldsV1": fields})
    };
    object["metadata"]["managedFields"] = json!([entry(&helper)]);
    assert_eq!(
        unfinished(&object).unwrap(),
        Some(("kubectl-pattern".to_string(), vec!["git-clone".to_string()]))
    );
    // After the hand-over the migration keeps only a renamed mount: nothing is pending.
    let mount = json!({"f:spec": {"f:template": {"f:spec": {"f:containers": {
        "k:{\"name\":\"reloader\"}": {"f:volumeMounts": {
            "k:{\"mountPath\":\"/watch\"}": {"f:name": {}}}}}}}}});
    object["metadata"]["managedFields"] = json!([entry(&mount)]);
    assert!(unfinished(&object).unwrap().is_none());
    // Another manager's Update of the helper is not the migration's.
    let mut other = entry(&helper);
    other["manager"] = json!("kubectl-edit");
    object["metadata"]["managedFields"] = json!([other]);
    assert!(unfinished(&object).unwrap().is_none());
}
