//! Merge invariants, on generated workloads and pattern sets:
//! add twice = add once; add then remove = the original; the output always parses back.

use kubectl_pattern::engine::catalogue::Catalogue;
use kubectl_pattern::engine::merge::{MergeError, MergeOptions};
use kubectl_pattern::engine::params::{self, ParamInput};
use kubectl_pattern::engine::pattern::{SidecarMode, TargetInfo};
use kubectl_pattern::engine::process::{
    Action, AddAction, ObjectError, PatternRequest, RemoveAction,
};
use kubectl_pattern::engine::workload::WorkloadKind;
use kubectl_pattern::engine::yaml;
use proptest::prelude::*;
use serde_json::{Value, json};

fn requests(ids: &[usize], catalogue: &Catalogue) -> Vec<PatternRequest> {
    let patterns = catalogue.patterns();
    let mut out: Vec<PatternRequest> = Vec::new();
    for &i in ids {
        let pattern = patterns[i % patterns.len()].clone();
        let id = pattern.spec().id.clone();
        if out.iter().any(|r| r.instance == id) {
            continue;
        }
        let sets = crate::common::required_sets(pattern.as_ref())
            .into_iter()
            .map(|s| {
                let (k, v) = s.split_once('=').unwrap();
                (k.to_string(), v.to_string())
            });
        let input = ParamInput::from_texts(sets);
        let params = params::resolve(&id, &pattern.spec().params, &input).unwrap();
        out.push(PatternRequest {
            pattern,
            instance: id,
            params,
        });
    }
    out
}

fn arb_container(index: usize) -> impl Strategy<Value = Value> {
    (
        prop::sample::select(vec!["app", "api", "worker", "web"]),
        prop::option::of(1000u16..9000),
        prop::option::of(prop::sample::select(vec!["/data", "/cache", "/var/run/app"])),
        prop::bool::ANY,
    )
        .prop_map(move |(name, port, mount, env)| {
            let mut c = json!({"name": format!("{name}-{index}"), "image": "registry.example.com/app:1.0.0"});
            if let Some(p) = port {
                c["ports"] = json!([{"containerPort": p}]);
            }
            if let Some(m) = mount {
                c["volumeMounts"] = json!([{"name": "data", "mountPath": m}]);
            }
            if env {
                c["env"] = json!([{"name": "MODE", "value": "prod"}]);
            }
            c
        })
}

fn arb_workload() -> impl Strategy<Value = Value> {
    (
        prop::sample::select(WorkloadKind::ALL.to_vec()),
        prop::collection::vec(0..1usize, 1..4).prop_flat_map(|v| {
            let n = v.len();
            (0..n).map(arb_container).collect::<Vec<_>>()
        }),
        prop::bool::ANY,
        prop::bool::ANY,
        prop::bool::ANY,
    )
        .prop_map(|(kind, containers, init, annotations, no_metadata)| {
            let mut w = crate::common::workload(kind, "generated");
            let mut spec =
                json!({"containers": containers, "volumes": [{"name": "data", "emptyDir": {}}]});
            if init {
                spec["initContainers"] =
                    json!([{"name": "setup", "image": "busybox:1.37.0", "command": ["true"]}]);
            }
            let template = match kind {
                WorkloadKind::Pod => &mut w,
                WorkloadKind::CronJob => &mut w["spec"]["jobTemplate"]["spec"]["template"],
                _ => &mut w["spec"]["template"],
            };
            let restart = template["spec"].get("restartPolicy").cloned();
            template["spec"] = spec;
            if let Some(r) = restart {
                template["spec"]["restartPolicy"] = r;
            }
            if annotations {
                template["metadata"]["annotations"] = json!({"team": "shop"});
            }
            if no_metadata && kind == WorkloadKind::Job {
                template.as_object_mut().unwrap().remove("metadata");
            }
            w
        })
}

/// The refusals the generated workloads can provoke: a generated port or mount path or env var
/// a helper also wants, the generated `data` volume's name, or a pattern that needs native
/// sidecars in classic mode. Any other failure is a bug.
fn expected_refusal(e: &ObjectError) -> bool {
    match e {
        ObjectError::Merge(
            MergeError::PortClash { .. }
            | MergeError::Taken { .. }
            | MergeError::NeedsNativeSidecars(_),
        ) => true,
        ObjectError::Merge(MergeError::NameClash { name, .. }) => name == "data",
        _ => false,
    }
}

fn options(classic: bool) -> MergeOptions {
    let mode = if classic {
        SidecarMode::Classic
    } else {
        SidecarMode::Auto
    };
    MergeOptions {
        main_container: None,
        target: TargetInfo {
            kube_version: None,
            mode,
        },
        ..MergeOptions::default()
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, .. ProptestConfig::default() })]

    #[test]
    fn add_twice_is_add_once_and_remove_restores(
        workload in arb_workload(),
        ids in prop::collection::vec(0usize..64, 1..4),
        classic in prop::bool::ANY,
    ) {
        let catalogue = Catalogue::builtin();
        let reqs = requests(&ids, &catalogue);
        let instances: Vec<String> = reqs.iter().map(|r| r.instance.clone()).collect();
        let add = AddAction { requests: reqs, options: options(classic) };

        let mut once = workload.clone();
        // Clashes (a generated port equal to a helper's) are refused; the invariants hold for
        // every add that succeeds, and a refused add changes nothing.
        match add.run(&mut once) {
            Err(e) => {
                prop_assert!(expected_refusal(&e), "unexpected refusal: {}", e);
                prop_assert_eq!(&once, &workload);
                return Ok(());
            }
            Ok(result) => prop_assert!(result.changed),
        }
        let mut twice = once.clone();
        let again = add.run(&mut twice).unwrap();
        prop_assert!(!again.changed);
        prop_assert_eq!(&twice, &once);

        let text = yaml::to_string(&once).unwrap();
        let back: Value = yaml::from_str(&text).unwrap();
        prop_assert_eq!(&back, &once);

        let mut removed = once.clone();
        RemoveAction { names: instances }.run(&mut removed).unwrap();
        prop_assert_eq!(&removed, &workload);
    }

    #[test]
    fn removing_in_any_order_restores(workload in arb_workload(), ids in prop::collection::vec(0usize..64, 2..4), reverse in prop::bool::ANY) {
        let catalogue = Catalogue::builtin();
        let reqs = requests(&ids, &catalogue);
        let mut instances: Vec<String> = reqs.iter().map(|r| r.instance.clone()).collect();
        let add = AddAction { requests: reqs, options: options(false) };
        let mut patched = workload.clone();
        if let Err(e) = add.run(&mut patched) {
            prop_assert!(expected_refusal(&e), "unexpected refusal: {}", e);
            return Ok(());
        }
        if reverse { instances.reverse(); }
        for instance in instances {
            RemoveAction { names: vec![instance] }.run(&mut patched).unwrap();
        }
        prop_assert_eq!(&patched, &workload);
    }
}
