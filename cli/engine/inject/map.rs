//! The `map` engine: a MutatingAdmissionPolicy that adds an `Injection` to every created Pod —
//! the annotations by an ApplyConfiguration (a granular map), the helpers, volumes, mounts and
//! env by a JSONPatch (which, unlike an ApplyConfiguration, may set the atomic fields
//! containers have) — with match conditions that skip pods already carrying the helpers,
//! opted-out pods and pods where the helpers would clash, and the
//! MutatingAdmissionPolicyBinding that selects the pods.

use k8s_openapi::api::admissionregistration::v1::{
    ApplyConfiguration, JSONPatch, MatchCondition, MatchResources, MutatingAdmissionPolicy,
    MutatingAdmissionPolicyBinding, MutatingAdmissionPolicyBindingSpec,
    MutatingAdmissionPolicySpec, Mutation, NamedRuleWithOperations, Variable,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde_json::Value;

use super::cel::{string, strings};
use super::jsonpatch::predicate;
use super::{AppTarget, InjectOptions, Injection, MANAGED_BY, OPT_OUT, jsonpatch, record};

fn names_of<'a>(items: &'a [Value], key: &str) -> Vec<&'a str> {
    items
        .iter()
        .filter_map(|i| i.get(key).and_then(Value::as_str))
        .collect()
}

/// `true` when any container of `list` (which may be absent) satisfies `cond` on `c`.
fn any_container(list: &str, cond: &str) -> String {
    if list == "containers" {
        format!("object.spec.containers.exists(c, {cond})")
    } else {
        format!("(has(object.spec.{list}) && object.spec.{list}.exists(c, {cond}))")
    }
}

/// The match conditions: every one must hold for the pod to be mutated.
pub fn match_conditions(inj: &Injection) -> Vec<MatchCondition> {
    let mut conditions: Vec<(String, String)> = Vec::new();
    let mut add = |name: &str, expression: String| conditions.push((name.into(), expression));
    add("not-opted-out", not_opted_out());
    add("helpers-absent", helpers_absent(inj));
    if !inj.volume_names().is_empty() {
        add(
            "volumes-free",
            format!(
                "!(has(object.spec.volumes) && object.spec.volumes.exists(v, v.name in {}))",
                strings(inj.volume_names())
            ),
        );
    }
    let groups = inj.wiring_groups();
    if let Some(e) = targets_present(&groups) {
        add("target-containers-present", e);
    }
    if let Some(e) = clash(&groups, "volumeMounts", "mountPath", |w| &w.mounts) {
        add("mount-paths-free", e);
    }
    if let Some(e) = clash(&groups, "env", "name", |w| &w.env) {
        add("env-names-free", e);
    }
    if !inj.annotations.is_empty() {
        add("annotations-free", annotations_free(inj));
    }
    if !inj.ports.is_empty() {
        add("ports-free", ports_free(inj));
    }
    conditions.extend(record::conditions(inj));
    conditions
        .into_iter()
        .map(|(name, expression)| MatchCondition { name, expression })
        .collect()
}

/// Neither the pod's labels nor its annotations opt out.
fn not_opted_out() -> String {
    let opted = |field: &str| {
        format!(
            "(has(object.metadata.{field}) && {key} in object.metadata.{field} && object.metadata.{field}[{key}] == \"false\")",
            key = string(OPT_OUT)
        )
    };
    format!("!{} && !{}", opted("labels"), opted("annotations"))
}

/// No container or init container has a helper's name (the pod was not injected already).
fn helpers_absent(inj: &Injection) -> String {
    let helpers = strings(inj.helper_names());
    format!(
        "!{} && !{}",
        any_container("containers", &format!("c.name in {helpers}")),
        any_container("initContainers", &format!("c.name in {helpers}"))
    )
}

/// The named containers the wiring targets are all there.
fn targets_present(groups: &[super::Wiring]) -> Option<String> {
    let mut required: Vec<&str> = Vec::new();
    for w in groups {
        if let AppTarget::Main(Some(n)) | AppTarget::Named(n) = &w.target
            && !required.contains(&n.as_str())
        {
            required.push(n);
        }
    }
    let each: Vec<String> = required
        .iter()
        .map(|n| any_container("containers", &format!("c.name == {}", string(n))))
        .collect();
    (!each.is_empty()).then(|| each.join(" && "))
}

/// No targeted container already has one of the `field` values the wiring adds to `key`.
fn clash(
    groups: &[super::Wiring],
    key: &str,
    field: &str,
    pick: fn(&super::Wiring) -> &Vec<Value>,
) -> Option<String> {
    let parts: Vec<String> = groups
        .iter()
        .filter(|w| !pick(w).is_empty())
        .map(|w| {
            any_container(
                "containers",
                &format!(
                    "{} && has(c.{key}) && c.{key}.exists(x, x.{field} in {})",
                    predicate(&w.target),
                    strings(names_of(pick(w), field))
                ),
            )
        })
        .collect();
    (!parts.is_empty()).then(|| format!("!({})", parts.join(" || ")))
}

/// No annotation the pattern sets holds another value already.
fn annotations_free(inj: &Injection) -> String {
    let taken: Vec<String> = inj
        .annotations
        .iter()
        .map(|(k, v)| {
            let k = string(k);
            format!(
                "({k} in object.metadata.annotations && object.metadata.annotations[{k}] != {})",
                string(v)
            )
        })
        .collect();
    format!(
        "!(has(object.metadata.annotations) && ({}))",
        taken.join(" || ")
    )
}

/// No container uses one of the helpers' ports.
fn ports_free(inj: &Injection) -> String {
    let ports: Vec<String> = inj.ports.iter().map(i64::to_string).collect();
    let cond = format!(
        "has(c.ports) && c.ports.exists(p, p.containerPort in [{}])",
        ports.join(", ")
    );
    format!(
        "!{} && !{}",
        any_container("containers", &cond),
        any_container("initContainers", &cond)
    )
}

fn metadata(inj: &Injection) -> ObjectMeta {
    ObjectMeta {
        name: Some(InjectOptions::object_name(inj)),
        labels: Some([(MANAGED_BY.0.to_string(), MANAGED_BY.1.to_string())].into()),
        annotations: Some(
            [
                (
                    "pattern.kubectl.io/pattern".to_string(),
                    format!("{}@{}", inj.pattern, inj.version),
                ),
                (
                    "pattern.kubectl.io/params-hash".to_string(),
                    inj.params_hash.clone(),
                ),
            ]
            .into(),
        ),
        ..Default::default()
    }
}

/// The mutations, in order: the annotations (an ApplyConfiguration, evaluated on the pod as
/// created), then the helpers, volumes, mounts and env (a JSONPatch).
pub fn mutations(inj: &Injection) -> Vec<Mutation> {
    vec![
        Mutation {
            patch_type: "ApplyConfiguration".into(),
            apply_configuration: Some(ApplyConfiguration {
                expression: Some(record::expression(inj)),
            }),
            json_patch: None,
        },
        Mutation {
            patch_type: "JSONPatch".into(),
            apply_configuration: None,
            json_patch: Some(JSONPatch {
                expression: Some(jsonpatch::expression(inj)),
            }),
        },
    ]
}

/// The MutatingAdmissionPolicy and its binding, as JSON, for `opts.api_version`.
pub fn objects(inj: &Injection, opts: &InjectOptions) -> Vec<Value> {
    let name = InjectOptions::object_name(inj);
    let policy = MutatingAdmissionPolicy {
        metadata: metadata(inj),
        spec: Some(MutatingAdmissionPolicySpec {
            failure_policy: Some(opts.failure_policy.clone()),
            match_constraints: Some(MatchResources {
                resource_rules: Some(vec![NamedRuleWithOperations {
                    api_groups: Some(vec![String::new()]),
                    api_versions: Some(vec!["v1".into()]),
                    operations: Some(vec!["CREATE".into()]),
                    resources: Some(vec!["pods".into()]),
                    ..Default::default()
                }]),
                ..Default::default()
            }),
            match_conditions: Some(match_conditions(inj)),
            variables: Some(
                record::variables(inj)
                    .into_iter()
                    .chain(jsonpatch::variables(inj))
                    .map(|(name, expression)| Variable { name, expression })
                    .collect(),
            ),
            mutations: Some(mutations(inj)),
            reinvocation_policy: Some("Never".into()),
            ..Default::default()
        }),
    };
    let binding = MutatingAdmissionPolicyBinding {
        metadata: metadata(inj),
        spec: Some(MutatingAdmissionPolicyBindingSpec {
            policy_name: Some(name),
            match_resources: Some(MatchResources {
                object_selector: Some(opts.selector.clone()),
                namespace_selector: Some(opts.namespaces()),
                ..Default::default()
            }),
            param_ref: None,
        }),
    };
    let api_version = format!("admissionregistration.k8s.io/{}", opts.api_version);
    [
        serde_json::to_value(&policy),
        serde_json::to_value(&binding),
    ]
    .into_iter()
    .filter_map(Result::ok)
    .map(|mut v| {
        v["apiVersion"] = Value::String(api_version.clone());
        v
    })
    .collect()
}
