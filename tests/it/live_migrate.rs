//! `migrate gitrepo` on live objects against the fake API server: the JSON Patch that deletes
//! the user's gitRepo volume, the apply as kubectl-pattern, the managedFields hand-over, and
//! afterwards `remove git-clone`; a stale write retried, server and client dry runs, an object
//! without gitRepo.

use serde_json::{Value, json};

use crate::common::live::{Live, WEB, names, run};

const SITE: &str = "/srv/site";

/// The recorded Deployment with log-shipper (namespace shop), plus a gitRepo volume `site`
/// mounted read-only by nginx, both owned by kubectl-client-side-apply as `kubectl apply` of
/// the user's manifest leaves them.
fn web_with_git_repo() -> Value {
    let mut d = crate::common::k8s_fixture("deployment-with-log-shipper.json");
    d["metadata"]["namespace"] = json!("shop");
    let spec = &mut d["spec"]["template"]["spec"];
    spec["volumes"]
        .as_array_mut()
        .unwrap()
        .push(json!({"name": "site",
        "gitRepo": {"repository": "https://github.com/example/site.git", "revision": "main"}}));
    spec["containers"][0]["volumeMounts"]
        .as_array_mut()
        .unwrap()
        .push(json!({"name": "site", "mountPath": SITE, "readOnly": true}));
    let entries = d["metadata"]["managedFields"].as_array_mut().unwrap();
    entries.push(
        json!({"manager": "kubectl-client-side-apply", "operation": "Update",
        "apiVersion": "apps/v1", "time": "2026-12-01T21:06:47Z", "fieldsType": "FieldsV1",
        "fieldsV1": {"f:spec": {"f:template": {"f:spec": {
            "f:containers": {"k:{\"name\":\"nginx\"}": {"f:volumeMounts": {
                format!("k:{{\"mountPath\":\"{SITE}\"}}"): {
                    ".": {}, "f:mountPath": {}, "f:name": {}, "f:readOnly": {}}}}},
            "f:volumes": {"k:{\"name\":\"site\"}": {".": {}, "f:name": {},
                "f:gitRepo": {"f:repository": {}, "f:revision": {}}}}}}}}}),
    );
    d
}

fn live_with_git_repo() -> Live {
    let live = Live::new();
    live.api.insert_managed(web_with_git_repo());
    live
}

fn pod(object: &Value) -> &Value {
    &object["spec"]["template"]["spec"]
}

fn nginx_mount(object: &Value) -> Option<&Value> {
    pod(object)["containers"][0]["volumeMounts"]
        .as_array()?
        .iter()
        .find(|m| m["mountPath"] == SITE)
}

/// `manager operation` of each managedFields entry whose fieldsV1 holds the key `needle`
/// (`k:{"name":"git-clone"}`) at any depth.
fn owners_of(object: &Value, needle: &str) -> Vec<String> {
    fn holds(set: &Value, needle: &str) -> bool {
        set.as_object()
            .is_some_and(|m| m.iter().any(|(k, v)| k == needle || holds(v, needle)))
    }
    object["metadata"]["managedFields"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| needle.is_empty() || holds(&e["fieldsV1"], needle))
        .map(|e| {
            format!(
                "{} {}",
                e["manager"].as_str().unwrap(),
                e["operation"].as_str().unwrap()
            )
        })
        .collect()
}

fn content_type(r: &crate::common::fake_api::Request) -> &str {
    r.headers
        .get("content-type")
        .map(String::as_str)
        .unwrap_or("")
}

/// kubectl-pattern's Apply owns the clone's fields, and nobody else does; the migration's
/// manager is gone and nobody owns the gitRepo volume.
fn assert_owned_by_kubectl_pattern_alone(stored: &Value) {
    let only_pattern = ["kubectl-pattern Apply".to_string()];
    assert_eq!(
        owners_of(stored, "k:{\"name\":\"git-clone\"}"),
        only_pattern
    );
    assert_eq!(
        owners_of(stored, "k:{\"name\":\"git-clone-repo\"}"),
        only_pattern
    );
    assert_eq!(
        owners_of(stored, "k:{\"name\":\"git-clone-tmp\"}"),
        only_pattern
    );
    assert_eq!(
        owners_of(stored, &format!("k:{{\"mountPath\":\"{SITE}\"}}")),
        only_pattern
    );
    assert!(
        owners_of(stored, "")
            .iter()
            .all(|m| !m.starts_with("kubectl-pattern-migrate"))
    );
    assert_eq!(
        owners_of(stored, "k:{\"name\":\"site\"}"),
        Vec::<String>::new()
    );
}

#[test]
fn a_live_gitrepo_becomes_git_clone_owned_by_kubectl_pattern_alone() {
    let live = live_with_git_repo();
    let before = live.api.get("shop", "web");
    let (code, stdout, stderr) = run(live.cmd().args(["migrate", "gitrepo", "deploy/web"]));
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.contains("deployment.apps/web patched"), "{stdout}");
    assert!(stderr.contains("migrate gitrepo -f"), "{stderr}");
    let stored = live.api.get("shop", "web");
    let volumes = &pod(&stored)["volumes"];
    assert!(!volumes.to_string().contains("gitRepo"), "{volumes}");
    assert_eq!(
        names(volumes),
        [
            "log-shipper-logs",
            "log-shipper-state",
            "git-clone-repo",
            "git-clone-tmp"
        ]
    );
    assert!(volumes[2]["emptyDir"].is_object());
    assert_eq!(
        names(&pod(&stored)["initContainers"]),
        ["log-shipper", "git-clone"]
    );
    let mount = nginx_mount(&stored).expect("the clone's mount at the old path");
    assert_eq!(mount["name"], "git-clone-repo");
    assert_eq!(mount["readOnly"], true);
    let record =
        stored["spec"]["template"]["metadata"]["annotations"]["pattern.kubectl.io/applied"]
            .as_str()
            .unwrap();
    assert!(record.contains("\"instance\":\"git-clone\""), "{record}");
    // One template change: one rollout.
    assert_eq!(
        stored["metadata"]["generation"].as_i64(),
        before["metadata"]["generation"].as_i64().map(|g| g + 1)
    );

    let patches = live.patches();
    assert_eq!(patches.len(), 3, "{patches:?}");
    assert_eq!(content_type(&patches[0]), "application/json-patch+json");
    assert_eq!(
        patches[0].param("fieldManager"),
        Some("kubectl-pattern-migrate")
    );
    assert_eq!(
        patches[0].json()[0],
        json!({"op": "replace", "path": "/metadata/resourceVersion",
               "value": before["metadata"]["resourceVersion"]})
    );
    assert_eq!(content_type(&patches[1]), "application/apply-patch+yaml");
    assert_eq!(patches[1].param("fieldManager"), Some("kubectl-pattern"));
    assert_eq!(content_type(&patches[2]), "application/json-patch+json");
    let paths: Vec<Value> = patches[2]
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["path"].clone())
        .collect();
    assert_eq!(
        paths,
        [
            json!("/metadata/resourceVersion"),
            json!("/metadata/managedFields")
        ]
    );

    assert_owned_by_kubectl_pattern_alone(&stored);
    // The controller's entry for the status subresource is handed back untouched.
    let status = |o: &Value| -> Vec<Value> {
        (o["metadata"]["managedFields"].as_array().unwrap().iter())
            .filter(|e| e.get("subresource").is_some())
            .cloned()
            .collect()
    };
    assert_eq!(status(&before).len(), 1);
    assert_eq!(status(&stored), status(&before));
    assert!(
        patches[2].json()[1]["value"]
            .to_string()
            .contains("\"subresource\":\"status\"")
    );

    // remove git-clone now lets go of all of it.
    let (code, stdout, stderr) = run(live.cmd().args(["remove", "git-clone", "deploy/web"]));
    assert_eq!(code, 0, "{stdout}{stderr}");
    let removed = live.api.get("shop", "web");
    assert_eq!(names(&pod(&removed)["initContainers"]), ["log-shipper"]);
    assert_eq!(
        names(&pod(&removed)["volumes"]),
        ["log-shipper-logs", "log-shipper-state"]
    );
    assert!(nginx_mount(&removed).is_none(), "{}", pod(&removed));
}

#[test]
fn a_stale_first_write_is_read_again_and_retried() {
    let live = live_with_git_repo();
    live.api
        .interfere(|d| d["metadata"]["labels"]["touched"] = json!("yes"), 1);
    let (code, stdout, stderr) = run(live.cmd().args(["migrate", "gitrepo", "deploy/web"]));
    assert_eq!(code, 0, "{stdout}{stderr}");
    let patches = live.patches();
    assert_eq!(patches.len(), 4, "one refused, then the three writes");
    let gets = live.api.requests_with("GET");
    assert!(
        gets.iter().filter(|r| r.path == WEB).count() >= 2,
        "read again"
    );
    let stored = live.api.get("shop", "web");
    assert_eq!(
        stored["metadata"]["labels"]["touched"], "yes",
        "the other write is kept"
    );
    assert_eq!(nginx_mount(&stored).unwrap()["name"], "git-clone-repo");
    assert_eq!(
        patches[1].json()[0]["value"],
        // The retry carries the version read again, not the stale one.
        json!(
            (patches[0].json()[0]["value"]
                .as_str()
                .unwrap()
                .parse::<u64>()
                .unwrap()
                + 1)
            .to_string()
        )
    );
}

#[test]
fn a_server_dry_run_sends_only_the_update_and_stores_nothing() {
    let live = live_with_git_repo();
    let before = live.api.get("shop", "web");
    let (code, stdout, stderr) = run(live.cmd().args([
        "migrate",
        "gitrepo",
        "deploy/web",
        "--dry-run=server",
        "-o",
        "json",
    ]));
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert_eq!(live.api.get("shop", "web"), before);
    let patches = live.patches();
    assert_eq!(patches.len(), 1);
    assert_eq!(patches[0].param("dryRun"), Some("All"));
    assert_eq!(content_type(&patches[0]), "application/json-patch+json");
    assert!(stderr.contains("skipped"), "{stderr}");
    let shown: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(nginx_mount(&shown).unwrap()["name"], "git-clone-repo");
}

#[test]
fn a_client_dry_run_sends_nothing_and_shows_the_result() {
    let live = live_with_git_repo();
    let (code, stdout, stderr) = run(live.cmd().args([
        "migrate",
        "gitrepo",
        "deploy/web",
        "--dry-run=client",
        "--diff",
    ]));
    assert_eq!(code, 1, "differences, as kubectl diff: {stdout}{stderr}");
    assert!(live.patches().is_empty());
    assert!(stdout.contains("\n-        gitRepo:\n"), "{stdout}");
    assert!(stdout.contains("\n+      - name: git-clone\n"), "{stdout}");
}

#[test]
fn an_object_without_git_repo_is_left_alone() {
    let live = Live::with_web();
    let (code, stdout, stderr) = run(live.cmd().args(["migrate", "gitrepo", "deploy/web"]));
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(
        format!("{stdout}{stderr}").contains("no gitRepo volume"),
        "{stdout}{stderr}"
    );
    assert!(live.patches().is_empty());
}

fn touch(d: &mut Value) {
    d["metadata"]["labels"]["touched"] = json!("yes");
}

/// The writes' content types, in order (`json` for a JSON Patch, `apply` for an apply).
fn kinds(live: &Live) -> Vec<&'static str> {
    (live.patches().iter())
        .map(|p| match content_type(p) {
            "application/json-patch+json" => "json",
            "application/apply-patch+yaml" => "apply",
            _ => "other",
        })
        .collect()
}

#[test]
fn a_stale_apply_or_hand_over_is_read_again_and_retried_alone() {
    // Another client writes just before step 2, then just before step 3.
    for (skip, writes) in [
        (1, ["json", "apply", "apply", "json"]),
        (2, ["json", "apply", "json", "json"]),
    ] {
        let live = live_with_git_repo();
        live.api.interfere_after(skip, touch, 1);
        let (code, stdout, stderr) = run(live.cmd().args(["migrate", "gitrepo", "deploy/web"]));
        assert_eq!(code, 0, "{stdout}{stderr}");
        assert_eq!(kinds(&live), writes, "step {} again, alone", skip + 1);
        let patches = live.patches();
        let version = |p: &crate::common::fake_api::Request| match content_type(p) {
            "application/json-patch+json" => p.json()[0]["value"].clone(),
            _ => p.json()["metadata"]["resourceVersion"].clone(),
        };
        let (refused, retried) = (version(&patches[skip]), version(&patches[skip + 1]));
        assert!(refused.is_string() && retried.is_string(), "{patches:?}");
        assert_ne!(refused, retried, "the retry carries the version read again");
        let stored = live.api.get("shop", "web");
        assert_eq!(stored["metadata"]["labels"]["touched"], "yes");
        assert_eq!(nginx_mount(&stored).unwrap()["name"], "git-clone-repo");
        assert_owned_by_kubectl_pattern_alone(&stored);
    }
}

#[test]
fn a_hand_over_that_keeps_failing_is_finished_by_running_again() {
    let live = live_with_git_repo();
    // Step 1 goes through; every later write is stale.
    live.api.interfere_after(1, touch, 5);
    let (code, stdout, stderr) = run(live.cmd().args(["migrate", "gitrepo", "deploy/web"]));
    assert_ne!(code, 0, "{stdout}{stderr}");
    assert!(
        stderr.contains(
            "deployment.apps/web was migrated (its gitRepo volume is gone), but handing the new \
             fields to kubectl-pattern failed: the object was modified by someone else 5 times; \
             run `kubectl pattern migrate gitrepo deploy/web -n shop` again"
        ),
        "{stderr}"
    );
    let half = live.api.get("shop", "web");
    assert_eq!(nginx_mount(&half).unwrap()["name"], "git-clone-repo");
    assert!(!owners_of(&half, "").is_empty());
    assert!(
        owners_of(&half, "")
            .iter()
            .any(|m| m.starts_with("kubectl-pattern-migrate")),
        "the migration's Update still owns the clone"
    );

    let generation = half["metadata"]["generation"].clone();
    let (code, stdout, stderr) = run(live.cmd().args(["migrate", "gitrepo", "deploy/web"]));
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(
        stdout.contains("finished handing git-clone to kubectl-pattern"),
        "{stdout}{stderr}"
    );
    let stored = live.api.get("shop", "web");
    assert_owned_by_kubectl_pattern_alone(&stored);
    assert_eq!(stored["metadata"]["generation"], generation, "no rollout");
    let (code, stdout, stderr) = run(live.cmd().args(["remove", "git-clone", "deploy/web"]));
    assert_eq!(code, 0, "{stdout}{stderr}");
}

#[test]
fn a_mount_on_another_container_renamed_by_the_migration_keeps_an_owner() {
    let mut d = web_with_git_repo();
    let reloader = json!({"name": "reloader", "image": "busybox:1.37",
        "volumeMounts": [{"name": "site", "mountPath": "/watch"}]});
    d["spec"]["template"]["spec"]["containers"]
        .as_array_mut()
        .unwrap()
        .push(reloader);
    let entries = d["metadata"]["managedFields"].as_array_mut().unwrap();
    let csa = entries.last_mut().unwrap();
    csa["fieldsV1"]["f:spec"]["f:template"]["f:spec"]["f:containers"]["k:{\"name\":\"reloader\"}"] = json!({
        ".": {}, "f:name": {}, "f:image": {},
        "f:volumeMounts": {"k:{\"mountPath\":\"/watch\"}": {".": {}, "f:mountPath": {}, "f:name": {}}}});
    let live = Live::new();
    live.api.insert_managed(d);
    let (code, stdout, stderr) = run(live.cmd().args(["migrate", "gitrepo", "deploy/web"]));
    assert_eq!(code, 0, "{stdout}{stderr}");
    let stored = live.api.get("shop", "web");
    let watch = &pod(&stored)["containers"][1]["volumeMounts"][0];
    assert_eq!(watch["name"], "git-clone-repo");
    // The renamed name is the migration's; the user keeps the mount itself.
    let name_owners: Vec<String> = (stored["metadata"]["managedFields"].as_array().unwrap())
        .iter()
        .filter(|e| {
            e["fieldsV1"]["f:spec"]["f:template"]["f:spec"]["f:containers"]
                ["k:{\"name\":\"reloader\"}"]["f:volumeMounts"]["k:{\"mountPath\":\"/watch\"}"]
                .get("f:name")
                .is_some()
        })
        .map(|e| e["manager"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(name_owners, ["kubectl-pattern-migrate"]);
    assert_eq!(
        owners_of(&stored, "k:{\"mountPath\":\"/watch\"}"),
        [
            "kubectl-client-side-apply Update",
            "kubectl-pattern-migrate Update"
        ]
    );
}
