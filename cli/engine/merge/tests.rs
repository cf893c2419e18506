//! Unit tests of the merge plan: the typed edits, nothing changed before every check passed,
//! re-applies and sidecar-mode switches, and removal.

use serde_json::{Map, Value, json};

use super::*;
use crate::catalogue::Catalogue;
use crate::pattern::SidecarMode;
use crate::podspec::{ContainerList, ItemRef, ListRef, PodList, Position};
use crate::tracking::{Created, TRACKING_ANNOTATION};

fn deployment() -> Value {
    json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
        "spec": {"selector": {"matchLabels": {"app": "web"}},
            "template": {"metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "web", "image": "nginx:1.27.3",
                    "env": [{"name": "MODE", "value": "prod"}]}]}}}})
}

const HELPER: &str = "containers:\n- name: shipper\n  image: busybox:1.36\n  ports: [{containerPort: 2020}]\nvolumes:\n- name: logs\n  emptyDir: {}\nmounts:\n- name: logs\n  mountPath: /var/log/app\nenv:\n- name: LOG_DIR\n  value: /var/log/app\nannotations:\n  example.com/logs: shipped\n";

fn contribution(text: &str) -> std::sync::Arc<Contribution> {
    std::sync::Arc::new(Contribution::parse(text).unwrap())
}

fn with<R>(object: &mut Value, f: impl FnOnce(&mut Workload<'_>) -> R) -> R {
    f(&mut Workload::new(object).unwrap())
}

fn options(mode: SidecarMode) -> MergeOptions {
    MergeOptions {
        main_container: None,
        target: TargetInfo {
            kube_version: None,
            mode,
        },
        ..MergeOptions::default()
    }
}

fn plan_of(object: &mut Value, text: &str, mode: SidecarMode) -> Result<Plan, MergeError> {
    plan_given(object, contribution(text), mode)
}

/// The plan of `contribution` as the sidecar instance `logs`.
fn plan_given(
    object: &mut Value,
    contribution: std::sync::Arc<Contribution>,
    mode: SidecarMode,
) -> Result<Plan, MergeError> {
    let spec = Catalogue::builtin().get("sidecar").unwrap().spec().clone();
    let params = Params::default();
    let instance = Instance {
        pattern: &spec,
        name: "logs",
        params: &params,
    };
    with(object, |w| plan(w, &instance, contribution, &options(mode)))
}

fn apply_text(object: &mut Value, text: &str, mode: SidecarMode) -> Plan {
    let plan = plan_of(object, text, mode).unwrap();
    with(object, |w| plan.clone().apply(w));
    plan
}

fn keys(plan: &Plan) -> Vec<(ListRef, &str)> {
    plan.placements
        .iter()
        .map(|p| (p.item.list.clone(), p.item.key.as_str()))
        .collect()
}

#[test]
fn a_plan_names_every_edit_by_list_and_key_and_changes_nothing() {
    let mut object = deployment();
    let plan = plan_of(&mut object, HELPER, SidecarMode::Auto).unwrap();
    assert_eq!(object, deployment());
    let mounts = ListRef::app("web", ContainerList::VolumeMounts);
    let env = ListRef::app("web", ContainerList::Env);
    assert_eq!(
        keys(&plan),
        [
            (ListRef::Pod(PodList::InitContainers), "shipper"),
            (ListRef::Pod(PodList::Volumes), "logs"),
            (mounts.clone(), "/var/log/app"),
            (env.clone(), "LOG_DIR"),
        ]
    );
    assert!(
        plan.placements
            .iter()
            .all(|p| p.position == Position::Append && !p.replaces)
    );
    assert_eq!(plan.placements[0].value["restartPolicy"], "Always");
    assert_eq!(plan.placements[2].via, Some(ContainerTarget::Main));
    assert!(plan.removals.is_empty() && plan.drops.is_empty());
    // `env` exists on the app container; the other lists and the annotations map do not.
    assert_eq!(
        plan.creates,
        [
            Created::PodList(PodList::InitContainers),
            Created::PodList(PodList::Volumes),
            Created::ContainerList {
                container: "web".into(),
                list: ContainerList::VolumeMounts
            },
            Created::Annotations,
        ]
    );
    assert_eq!(
        plan.annotations[0],
        AnnotationEdit::Set {
            key: "example.com/logs".into(),
            value: "shipped".into()
        }
    );
    assert!(
        matches!(&plan.annotations[1], AnnotationEdit::Set { key, .. } if key == TRACKING_ANNOTATION)
    );
    assert!(plan.native && plan.changed);
    assert_eq!(plan.record.env[0].name, "LOG_DIR");
}

#[test]
fn a_shared_contribution_is_copied_and_an_unshared_one_moved_with_the_same_plan() {
    let mut object = deployment();
    let text = HELPER.replace(
        "containers:\n",
        "initContainers:\n- name: init\n  image: busybox:1.36\nnativeSidecars:\n- name: proxy\n  image: busybox:1.36\ncontainers:\n",
    );
    let moved = plan_given(&mut object, contribution(&text), SidecarMode::Auto).unwrap();
    let kept = contribution(&text);
    let copied = plan_given(&mut object, std::sync::Arc::clone(&kept), SidecarMode::Auto).unwrap();
    // The same plan either way, with every list of helpers in it.
    assert_eq!(moved, copied);
    assert_eq!(keys(&moved).len(), 6, "{:?}", keys(&moved));
}

#[test]
fn apply_makes_the_planned_edits() {
    let mut object = deployment();
    apply_text(&mut object, HELPER, SidecarMode::Auto);
    let spec = &object["spec"]["template"]["spec"];
    assert_eq!(spec["initContainers"][0]["name"], "shipper");
    assert_eq!(spec["volumes"][0], json!({"name": "logs", "emptyDir": {}}));
    assert_eq!(
        spec["containers"][0]["env"],
        json!([{"name": "MODE", "value": "prod"}, {"name": "LOG_DIR", "value": "/var/log/app"}])
    );
    assert_eq!(
        spec["containers"][0]["volumeMounts"],
        json!([{"name": "logs", "mountPath": "/var/log/app"}])
    );
    let annotations = &object["spec"]["template"]["metadata"]["annotations"];
    assert_eq!(annotations["example.com/logs"], "shipped");
    assert!(
        annotations[TRACKING_ANNOTATION]
            .as_str()
            .unwrap()
            .starts_with(r#"{"version":2,"#)
    );
}

#[test]
fn a_clash_refuses_the_plan_before_anything_changes() {
    let mut object = deployment();
    object["spec"]["template"]["spec"]["containers"][0]["ports"] = json!([{"containerPort": 2020}]);
    let before = object.clone();
    let err = plan_of(&mut object, HELPER, SidecarMode::Auto).unwrap_err();
    assert!(
        matches!(err, MergeError::PortClash { port: 2020, .. }),
        "{err}"
    );
    assert_eq!(object, before);
    let mut object = deployment();
    let taken = HELPER.replace("LOG_DIR", "MODE");
    let err = plan_of(&mut object, &taken, SidecarMode::Auto).unwrap_err();
    assert!(
        matches!(
            err,
            MergeError::Taken {
                what: "env var",
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn re_applying_the_same_plans_no_change() {
    let mut object = deployment();
    apply_text(&mut object, HELPER, SidecarMode::Auto);
    let once = object.clone();
    let again = apply_text(&mut object, HELPER, SidecarMode::Auto);
    assert!(!again.changed);
    assert!(again.placements.iter().all(|p| p.replaces));
    assert!(again.creates.is_empty() && again.removals.is_empty());
    // The records are the same: the tracking annotation is not rewritten.
    assert!(
        again
            .annotations
            .iter()
            .all(|e| !matches!(e, AnnotationEdit::Set { key, .. } if key == TRACKING_ANNOTATION))
    );
    assert_eq!(object, once);
}

#[test]
fn a_sidecar_mode_switch_moves_the_helper_and_drops_the_list_it_emptied() {
    let mut object = deployment();
    apply_text(&mut object, HELPER, SidecarMode::Native);
    let plan = apply_text(&mut object, HELPER, SidecarMode::Classic);
    let init = ListRef::Pod(PodList::InitContainers);
    assert_eq!(plan.removals, [ItemRef::new(init, "shipper")]);
    assert_eq!(plan.drops, [Created::PodList(PodList::InitContainers)]);
    assert!(
        !plan
            .record
            .created
            .contains(&Created::PodList(PodList::InitContainers))
    );
    let spec = &object["spec"]["template"]["spec"];
    assert!(spec.get("initContainers").is_none(), "{spec}");
    assert_eq!(spec["containers"][1]["name"], "shipper");
    assert!(spec["containers"][1].get("restartPolicy").is_none());
}

#[test]
fn a_re_apply_removes_the_parts_the_pattern_no_longer_adds() {
    let mut object = deployment();
    apply_text(&mut object, HELPER, SidecarMode::Auto);
    let smaller = "containers:\n- name: shipper\n  image: busybox:1.36\n";
    let plan = apply_text(&mut object, smaller, SidecarMode::Auto);
    let mounts = ListRef::app("web", ContainerList::VolumeMounts);
    assert_eq!(
        plan.removals,
        [
            ItemRef::new(mounts.clone(), "/var/log/app"),
            ItemRef::new(ListRef::Pod(PodList::Volumes), "logs"),
            ItemRef::new(ListRef::app("web", ContainerList::Env), "LOG_DIR"),
        ]
    );
    assert_eq!(
        plan.annotations[0],
        AnnotationEdit::Remove {
            key: "example.com/logs".into()
        }
    );
    let spec = &object["spec"]["template"]["spec"];
    assert!(spec.get("volumes").is_none(), "{spec}");
    assert!(
        spec["containers"][0].get("volumeMounts").is_none(),
        "{spec}"
    );
    assert_eq!(
        spec["containers"][0]["env"],
        json!([{"name": "MODE", "value": "prod"}])
    );
}

#[test]
fn remove_plans_exactly_the_record_and_restores_the_object() {
    let mut object = deployment();
    apply_text(&mut object, HELPER, SidecarMode::Auto);
    let plan = with(&mut object, |w| plan_remove(w, "logs"))
        .unwrap()
        .unwrap();
    assert_eq!(plan.removals.len(), 4, "{:?}", plan.removals);
    assert_eq!(
        plan.drops,
        [
            Created::PodList(PodList::InitContainers),
            Created::PodList(PodList::Volumes),
            Created::ContainerList {
                container: "web".into(),
                list: ContainerList::VolumeMounts
            },
            Created::Annotations,
        ]
    );
    with(&mut object, |w| plan.clone().apply(w));
    assert_eq!(object, deployment());
    assert!(
        with(&mut object, |w| plan_remove(w, "logs"))
            .unwrap()
            .is_none()
    );
}

#[test]
fn the_wrong_container_is_a_typed_error() {
    let mut object = deployment();
    let spec = Catalogue::builtin().get("sidecar").unwrap().spec().clone();
    let params = Params::default();
    let instance = Instance {
        pattern: &spec,
        name: "logs",
        params: &params,
    };
    let mut opts = options(SidecarMode::Auto);
    opts.main_container = Some("api".into());
    let err = with(&mut object, |w| {
        plan(w, &instance, contribution(HELPER), &opts)
    })
    .unwrap_err();
    assert!(
        matches!(&err, MergeError::UnknownContainer { name, apps } if name == "api" && apps == &["web"]),
        "{err:?}"
    );
    let named = HELPER.replace(
        "  mountPath: /var/log/app\n",
        "  mountPath: /var/log/app\n  container: db\n",
    );
    let err = plan_of(&mut object, &named, SidecarMode::Auto).unwrap_err();
    assert!(
        matches!(&err, MergeError::TargetNotApp { name, .. } if name == "db"),
        "{err:?}"
    );
}

#[test]
fn changed_is_what_applying_the_plan_does_for_every_builtin_and_mode_switch() {
    let catalogue = Catalogue::builtin();
    for pattern in catalogue.patterns() {
        let spec = pattern.spec();
        let input = crate::params::ParamInput {
            given: spec
                .examples
                .iter()
                .map(|(k, v)| (k.clone(), crate::params::Given::Value(v.clone())))
                .collect(),
        };
        let params = crate::params::resolve(&spec.id, &spec.params, &input).unwrap();
        let instance = Instance {
            pattern: spec,
            name: &spec.id,
            params: &params,
        };
        let mut object = deployment();
        let mut applied = 0;
        for mode in [
            SidecarMode::Native,
            SidecarMode::Native,
            SidecarMode::Classic,
            SidecarMode::Classic,
            SidecarMode::Native,
        ] {
            let before = object.clone();
            let plan = with(&mut object, |w| {
                let info = crate::process::workload_info(w, "web");
                let ctx = crate::pattern::RenderContext {
                    workload: &info,
                    object: w.object(),
                    params: &params,
                    instance: &spec.id,
                    target: &options(mode).target,
                };
                let contribution = pattern.render(&ctx).unwrap();
                plan(w, &instance, contribution, &options(mode))
            });
            let Ok(plan) = plan else { continue }; // e.g. native-only helpers in classic mode
            with(&mut object, |w| plan.clone().apply(w));
            assert_eq!(plan.changed, object != before, "{} {mode:?}", spec.id);
            applied += 1;
        }
        assert!(applied >= 3, "{}", spec.id);
        let before = object.clone();
        let removal = with(&mut object, |w| plan_remove(w, &spec.id))
            .unwrap()
            .unwrap();
        with(&mut object, |w| removal.clone().apply(w));
        assert!(removal.changed && object != before, "{}", spec.id);
        assert_eq!(object, deployment(), "{}", spec.id);
    }
}

/// Adds built-in pattern `id` with `sets` to `object`; whether it changed (also used by
/// `owned.rs`' tests).
pub(crate) fn add_builtin(object: &mut Value, id: &str, sets: &[(&str, &str)]) -> bool {
    use crate::process::{Action, AddAction, PatternRequest};
    let pattern = Catalogue::builtin().get(id).unwrap();
    let input = crate::params::ParamInput::from_texts(sets.iter().copied());
    let params = crate::params::resolve(id, &pattern.spec().params, &input).unwrap();
    let action = AddAction {
        requests: vec![PatternRequest {
            pattern,
            instance: id.to_string(),
            params,
        }],
        options: MergeOptions::default(),
    };
    action.run(object).unwrap().changed
}

fn init_names(object: &Value) -> Vec<String> {
    object["spec"]["template"]["spec"]["initContainers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap().to_string())
        .collect()
}

fn with_migrate() -> Value {
    let mut object = deployment();
    object["spec"]["template"]["spec"]["initContainers"] =
        json!([{"name": "migrate", "image": "busybox:1.36"}]);
    object
}

#[test]
fn helpers_go_before_the_apps_own_init_containers_in_the_order_applied() {
    let mut object = with_migrate();
    assert!(add_builtin(&mut object, "wait-for", &[("host", "db")]));
    assert!(add_builtin(
        &mut object,
        "redis-proxy",
        &[("servers", "redis.cache.svc:6379")]
    ));
    assert_eq!(init_names(&object), ["wait-for", "redis-proxy", "migrate"]);
    // Re-adding changes nothing and moves nothing.
    let before = object.clone();
    assert!(!add_builtin(&mut object, "wait-for", &[("host", "db")]));
    assert!(!add_builtin(
        &mut object,
        "redis-proxy",
        &[("servers", "redis.cache.svc:6379")]
    ));
    assert_eq!(object, before);
    // Updating an instance keeps it where it is.
    assert!(add_builtin(&mut object, "wait-for", &[("host", "db2")]));
    assert_eq!(init_names(&object), ["wait-for", "redis-proxy", "migrate"]);
    // Removal takes out exactly the instance.
    with(&mut object, |w| remove(w, "wait-for").unwrap().unwrap());
    assert_eq!(init_names(&object), ["redis-proxy", "migrate"]);
    with(&mut object, |w| remove(w, "redis-proxy").unwrap().unwrap());
    assert_eq!(object, with_migrate());
}

#[test]
fn the_plan_names_the_app_init_container_its_helpers_go_before() {
    let mut object = with_migrate();
    let plan = plan_of(&mut object, HELPER, SidecarMode::Auto).unwrap();
    assert_eq!(
        plan.placements[0].position,
        Position::Before("migrate".into())
    );
    // Classic helpers and volumes go at the end of their lists.
    let classic = plan_of(&mut object, HELPER, SidecarMode::Classic).unwrap();
    assert!(
        classic
            .placements
            .iter()
            .all(|p| p.position == Position::Append)
    );
}

#[test]
fn helpers_that_already_follow_the_apps_init_containers_keep_that_order() {
    // An object patched before helpers went first: [migrate, wait-for].
    let mut object = deployment();
    assert!(add_builtin(&mut object, "wait-for", &[("host", "db")]));
    let inits = object["spec"]["template"]["spec"]["initContainers"].clone();
    object["spec"]["template"]["spec"]["initContainers"] = json!([
        {"name": "migrate", "image": "busybox:1.36"}, inits[0].clone()]);
    assert!(add_builtin(
        &mut object,
        "redis-proxy",
        &[("servers", "redis.cache.svc:6379")]
    ));
    assert_eq!(init_names(&object), ["migrate", "wait-for", "redis-proxy"]);
}

#[test]
fn positions_insert_where_they_say() {
    let spec_with = |names: &[&str]| -> Map<String, Value> {
        let list: Vec<Value> = names.iter().map(|n| json!({"name": n})).collect();
        json!({"initContainers": list}).as_object().unwrap().clone()
    };
    let list = ListRef::Pod(PodList::InitContainers);
    for (position, want) in [
        (Position::First, ["x", "a", "b"]),
        (Position::Before("b".into()), ["a", "x", "b"]),
        (Position::After("a".into()), ["a", "x", "b"]),
        (Position::After("b".into()), ["a", "b", "x"]),
        (Position::Before("missing".into()), ["a", "b", "x"]),
        (Position::Append, ["a", "b", "x"]),
    ] {
        let mut spec = spec_with(&["a", "b"]);
        crate::podspec::upsert(&mut spec, &list, json!({"name": "x"}), &position);
        assert_eq!(list.keys(&spec), want, "{position:?}");
    }
}

#[test]
fn several_init_helpers_keep_their_order_at_every_position() {
    let two =
        "initContainers:\n- {name: h1, image: busybox:1.36}\n- {name: h2, image: busybox:1.36}\n";
    for (position, want) in [
        (HelperPosition::First, ["h1", "h2", "migrate"]),
        (HelperPosition::Last, ["migrate", "h1", "h2"]),
        (
            HelperPosition::Before("migrate".into()),
            ["h1", "h2", "migrate"],
        ),
        (
            HelperPosition::After("migrate".into()),
            ["migrate", "h1", "h2"],
        ),
    ] {
        let mut object = with_migrate();
        let spec = Catalogue::builtin().get("init").unwrap().spec().clone();
        let params = Params::default();
        let instance = Instance {
            pattern: &spec,
            name: "two",
            params: &params,
        };
        let options = MergeOptions {
            position: Some(position.clone()),
            ..options(SidecarMode::Auto)
        };
        let plan = with(&mut object, |w| {
            plan(w, &instance, contribution(two), &options).unwrap()
        });
        assert_eq!(plan.record.position, Some(position.clone()));
        with(&mut object, |w| plan.clone().apply(w));
        assert_eq!(init_names(&object), want, "{position}");
    }
}
