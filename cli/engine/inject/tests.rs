//! Unit tests of the injector: what `derive` takes from the merge, and the CEL and Kyverno
//! structure built from it.

use std::collections::BTreeMap;

use proptest::prelude::*;
use serde_json::{Value, json};

use super::*;
use crate::catalogue::Catalogue;
use crate::params::{self, ParamInput};
use crate::pattern::SidecarMode;

fn request(id: &str, sets: &[(&str, &str)]) -> PatternRequest {
    let pattern = Catalogue::builtin().get(id).unwrap();
    let input = ParamInput::from_texts(sets.iter().copied());
    let params = params::resolve(id, &pattern.spec().params, &input).unwrap();
    PatternRequest {
        pattern,
        instance: id.to_string(),
        params,
    }
}

fn native() -> TargetInfo {
    TargetInfo::default()
}

fn options() -> InjectOptions {
    InjectOptions {
        selector: crate::selector::parse("app=web").unwrap(),
        namespace_selector: None,
        container: None,
        api_version: "v1".into(),
        failure_policy: "Fail".into(),
    }
}

fn items(inj: &Injection, list: PodList) -> Vec<Value> {
    inj.items_in(list).into_iter().cloned().collect()
}

fn names(items: &[Value]) -> Vec<&str> {
    items.iter().map(|c| c["name"].as_str().unwrap()).collect()
}

#[test]
fn native_sidecars_come_from_the_merge_with_restart_policy_always() {
    let inj = derive(
        &request("log-shipper", &[]),
        &native(),
        None,
        &BTreeMap::new(),
    )
    .unwrap();
    assert_eq!(
        names(&items(&inj, PodList::InitContainers)),
        ["log-shipper"]
    );
    assert_eq!(
        items(&inj, PodList::InitContainers)[0]["restartPolicy"],
        "Always"
    );
    assert!(items(&inj, PodList::Containers).is_empty());
    assert_eq!(
        names(&items(&inj, PodList::Volumes)),
        ["log-shipper-logs", "log-shipper-state"]
    );
    assert_eq!(inj.ports, [2020]);
    assert_eq!(inj.wiring.len(), 1);
    assert_eq!(inj.wiring[0].target, AppTarget::Main(None));
    assert_eq!(
        inj.wiring_groups()[0].mounts,
        [json!({"name": "log-shipper-logs", "mountPath": "/var/log/app"})]
    );
}

#[test]
fn old_clusters_get_classic_helpers() {
    let target = TargetInfo {
        kube_version: Some((1, 28)),
        mode: SidecarMode::Auto,
    };
    let inj = derive(
        &request("log-shipper", &[]),
        &target,
        None,
        &BTreeMap::new(),
    )
    .unwrap();
    assert!(items(&inj, PodList::InitContainers).is_empty());
    assert_eq!(names(&items(&inj, PodList::Containers)), ["log-shipper"]);
    assert!(
        items(&inj, PodList::Containers)[0]
            .get("restartPolicy")
            .is_none()
    );
    let expr = jsonpatch::expression(&inj);
    let mount = expr.find("path: \"/spec/containers/0/volumeMounts/-\"");
    let helper = expr.find("path: \"/spec/containers/-\"");
    assert!(
        matches!((mount, helper), (Some(m), Some(h)) if m < h),
        "the app container's mount at its index first, then the classic helper:\n{expr}"
    );
    assert!(!expr.contains("initContainers"), "{expr}");
}

#[test]
fn init_patterns_and_annotations_are_carried() {
    let inj = derive(
        &request("prometheus-exporter", &[]),
        &native(),
        Some("web"),
        &BTreeMap::new(),
    )
    .unwrap();
    assert!(!inj.annotations.is_empty(), "scrape annotations");
    let expr = record::expression(&inj);
    assert!(
        expr.contains("metadata: Object.metadata{\n    annotations: {\n      \"prometheus.io/"),
        "{expr}"
    );
    let wait = derive(
        &request("wait-for", &[("host", "db.shop.svc")]),
        &native(),
        None,
        &BTreeMap::new(),
    )
    .unwrap();
    assert_eq!(names(&items(&wait, PodList::InitContainers)), ["wait-for"]);
    assert!(
        items(&wait, PodList::InitContainers)[0]
            .get("restartPolicy")
            .is_none()
    );
}

#[test]
fn match_conditions_cover_idempotency_opt_out_and_clashes() {
    let inj = derive(
        &request("log-shipper", &[]),
        &native(),
        None,
        &BTreeMap::new(),
    )
    .unwrap();
    let conditions = map::match_conditions(&inj);
    let by_name: BTreeMap<&str, &str> = conditions
        .iter()
        .map(|c| (c.name.as_str(), c.expression.as_str()))
        .collect();
    assert_eq!(
        by_name.keys().copied().collect::<Vec<_>>(),
        [
            "helpers-absent",
            "instance-absent",
            "mount-paths-free",
            "not-opted-out",
            "ports-free",
            "tracking-annotation-readable",
            "volumes-free"
        ]
    );
    assert!(by_name["instance-absent"].contains("\"instance\":\"log-shipper\","));
    assert!(by_name["helpers-absent"].contains("c.name in [\"log-shipper\"]"));
    assert!(by_name["not-opted-out"].contains("\"pattern.kubectl.io/inject\""));
    assert!(by_name["mount-paths-free"].contains("x.mountPath in [\"/var/log/app\"]"));
    assert!(by_name["ports-free"].contains("p.containerPort in [2020]"));
}

#[test]
fn a_named_container_is_required_and_targeted() {
    let mut opts = options();
    opts.container = Some("web".into());
    let inj = derive(
        &request("log-shipper", &[]),
        &native(),
        Some("web"),
        &BTreeMap::new(),
    )
    .unwrap();
    let conditions = map::match_conditions(&inj);
    let present = conditions
        .iter()
        .find(|c| c.name == "target-containers-present")
        .expect("condition");
    assert_eq!(
        present.expression,
        "object.spec.containers.exists(c, c.name == \"web\")"
    );
    assert!(jsonpatch::expression(&inj).contains(".filter(c, c.name == \"web\")"));
    let policy = kyverno::cluster_policy(&inj, &opts);
    let rule = &policy["spec"]["rules"][0];
    assert_eq!(
        rule["mutate"]["foreach"][1]["list"],
        "request.object.spec.containers[?name=='web']"
    );
}

#[test]
fn exported_objects_carry_the_api_version_and_the_selectors() {
    let inj = derive(
        &request("log-shipper", &[]),
        &native(),
        None,
        &BTreeMap::new(),
    )
    .unwrap();
    let mut opts = options();
    opts.api_version = "v1beta1".into();
    let objects = map::objects(&inj, &opts);
    assert_eq!(objects.len(), 2);
    assert_eq!(objects[0]["kind"], "MutatingAdmissionPolicy");
    assert_eq!(objects[1]["kind"], "MutatingAdmissionPolicyBinding");
    for o in &objects {
        assert_eq!(o["apiVersion"], "admissionregistration.k8s.io/v1beta1");
    }
    assert_eq!(
        objects[1]["spec"]["matchResources"]["objectSelector"],
        json!({"matchLabels": {"app": "web"}})
    );
    assert_eq!(
        objects[1]["spec"]["policyName"],
        objects[0]["metadata"]["name"]
    );
}

#[test]
fn kyverno_escapes_braces_in_fragments() {
    let mut inj = derive(
        &request("log-shipper", &[]),
        &native(),
        None,
        &BTreeMap::new(),
    )
    .unwrap();
    inj.items[0].value["args"] = json!(["{{ with secret }}"]);
    let policy = kyverno::cluster_policy(&inj, &options());
    let patch = &policy["spec"]["rules"][0]["mutate"]["foreach"][0]["patchStrategicMerge"];
    assert_eq!(
        patch["spec"]["initContainers"][0]["args"][0],
        "\\{{ with secret }}"
    );
}

/// Reads a CEL double-quoted literal back (the escapes `cel::string` writes).
fn unquote(lit: &str) -> Option<String> {
    let inner = lit.strip_prefix('"')?.strip_suffix('"')?;
    let mut out = String::new();
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' | '\n' | '\r' => return None,
            '\\' => match chars.next()? {
                '"' => out.push('"'),
                '\\' => out.push('\\'),
                'n' => out.push('\n'),
                'r' => out.push('\r'),
                't' => out.push('\t'),
                'u' => {
                    let hex: String = chars.by_ref().take(4).collect();
                    out.push(char::from_u32(u32::from_str_radix(&hex, 16).ok()?)?);
                }
                _ => return None,
            },
            c => out.push(c),
        }
    }
    Some(out)
}

proptest! {
    #[test]
    fn any_string_is_one_cel_literal_that_reads_back(s in any::<String>()) {
        prop_assert_eq!(unquote(&cel::string(&s)), Some(s));
    }

    #[test]
    fn literals_keep_brackets_balanced(words in proptest::collection::vec("[a-z(){}\\[\\]\"]{0,6}", 0..6)) {
        let v = json!({"name": "x", "args": words, "resources": {"limits": {"cpu": "1"}}});
        for lit in [cel::literal(&v, "Object.spec.initContainers"), cel::pretty(&v, "Object.spec.initContainers", 4)] {
        // Outside string literals, every bracket closes.
        let mut depth = 0i32;
        let mut in_string = false;
        let mut escape = false;
        for c in lit.chars() {
            match (in_string, escape, c) {
                (true, true, _) => escape = false,
                (true, false, '\\') => escape = true,
                (true, false, '"') => in_string = false,
                (false, _, '"') => in_string = true,
                (false, _, '{' | '[' | '(') => depth += 1,
                (false, _, '}' | ']' | ')') => { depth -= 1; prop_assert!(depth >= 0); }
                _ => {}
            }
        }
        prop_assert_eq!(depth, 0);
        prop_assert!(!in_string);
        }
    }
}

/// A template pattern whose wiring targets every app container and a named one.
fn wiring_request() -> PatternRequest {
    use crate::pattern::PatternSource;
    use crate::template::{TemplateFiles, TemplatePattern};
    let files = TemplateFiles {
        dir_name: "wired".into(),
        origin: "wired".into(),
        pattern_yaml: "apiVersion: kubectl-pattern/v1\nkind: Pattern\nmetadata:\n  name: wired\nspec:\n  type: sidecar\n  version: 1.0.0\n  summary: test\n  description: d\n  useWhen: u\n  avoidWhen: a\n  diagram: x\n".into(),
        templates: vec![(
            "contribution".into(),
            "containers:\n- name: helper\n  image: busybox:1.36\nvolumes:\n- name: shared\n  emptyDir: {}\nmounts:\n- {name: shared, mountPath: /shared, container: '*'}\nenv:\n- {name: HELPER, value: 'on', container: worker}\n- {name: MAIN, value: 'yes'}\n".into(),
        )],
    };
    let pattern = TemplatePattern::load(&files, &[], PatternSource::Builtin).unwrap();
    PatternRequest {
        pattern: std::sync::Arc::new(pattern),
        instance: "wired".into(),
        params: crate::params::Params::default(),
    }
}

#[test]
fn wiring_is_grouped_by_the_contributions_target_and_counted_once() {
    let inj = derive(&wiring_request(), &native(), None, &BTreeMap::new()).unwrap();
    // The synthetic pod has `app` and `worker`; `*` chose both, and counts once.
    assert_eq!(
        inj.wiring_groups(),
        [
            Wiring {
                target: AppTarget::All,
                mounts: vec![json!({"name": "shared", "mountPath": "/shared"})],
                env: vec![],
            },
            Wiring {
                target: AppTarget::Named("worker".into()),
                mounts: vec![],
                env: vec![json!({"name": "HELPER", "value": "on"})],
            },
            Wiring {
                target: AppTarget::Main(None),
                mounts: vec![],
                env: vec![json!({"name": "MAIN", "value": "yes"})],
            },
        ]
    );
    assert_eq!(names(&items(&inj, PodList::InitContainers)), ["helper"]);
    assert_eq!(names(&items(&inj, PodList::Volumes)), ["shared"]);
}
