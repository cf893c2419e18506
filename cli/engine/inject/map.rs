//! The `map` engine: a MutatingAdmissionPolicy whose ApplyConfiguration adds an `Injection` to
//! every created Pod (server-side-apply merge by name, so nothing of the pod is replaced), match
//! conditions that skip pods already carrying the helpers, opted-out pods and pods where the
//! helpers would clash, and the MutatingAdmissionPolicyBinding that selects the pods.

use k8s_openapi::api::admissionregistration::v1::{
    ApplyConfiguration, MatchCondition, MatchResources, MutatingAdmissionPolicy,
    MutatingAdmissionPolicyBinding, MutatingAdmissionPolicyBindingSpec,
    MutatingAdmissionPolicySpec, Mutation, NamedRuleWithOperations,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde_json::Value;

use super::cel::{pretty, string, strings};
use super::{AppTarget, InjectOptions, Injection, MANAGED_BY, OPT_OUT};

/// The CEL predicate on app container `c` for a wiring target.
fn predicate(target: &AppTarget) -> String {
    match target {
        AppTarget::Main(None) => "c.name == object.spec.containers[0].name".into(),
        AppTarget::Main(Some(name)) | AppTarget::Named(name) => {
            format!("c.name == {}", string(name))
        }
        AppTarget::All => "true".into(),
    }
}

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
    let mut out = Vec::new();
    let mut add = |name: &str, expression: String| {
        out.push(MatchCondition {
            name: name.into(),
            expression,
        })
    };
    let opted = |field: &str| {
        format!(
            "(has(object.metadata.{field}) && {key} in object.metadata.{field} && object.metadata.{field}[{key}] == \"false\")",
            key = string(OPT_OUT)
        )
    };
    add(
        "not-opted-out",
        format!("!{} && !{}", opted("labels"), opted("annotations")),
    );
    let helpers = strings(inj.helper_names());
    add(
        "helpers-absent",
        format!(
            "!{} && !{}",
            any_container("containers", &format!("c.name in {helpers}")),
            any_container("initContainers", &format!("c.name in {helpers}"))
        ),
    );
    if !inj.volumes.is_empty() {
        add(
            "volumes-free",
            format!(
                "!(has(object.spec.volumes) && object.spec.volumes.exists(v, v.name in {}))",
                strings(inj.volume_names())
            ),
        );
    }
    let mut required: Vec<&str> = Vec::new();
    for w in &inj.wiring {
        if let AppTarget::Main(Some(n)) | AppTarget::Named(n) = &w.target
            && !required.contains(&n.as_str())
        {
            required.push(n);
        }
    }
    if !required.is_empty() {
        let each: Vec<String> = required
            .iter()
            .map(|n| any_container("containers", &format!("c.name == {}", string(n))))
            .collect();
        add("target-containers-present", each.join(" && "));
    }
    let clash = |key: &str, field: &str, pick: fn(&super::Wiring) -> &Vec<Value>| {
        let parts: Vec<String> = inj
            .wiring
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
    };
    if let Some(e) = clash("volumeMounts", "mountPath", |w| &w.mounts) {
        add("mount-paths-free", e);
    }
    if let Some(e) = clash("env", "name", |w| &w.env) {
        add("env-names-free", e);
    }
    if !inj.ports.is_empty() {
        let ports: Vec<String> = inj.ports.iter().map(i64::to_string).collect();
        let cond = format!(
            "has(c.ports) && c.ports.exists(p, p.containerPort in [{}])",
            ports.join(", ")
        );
        add(
            "ports-free",
            format!(
                "!{} && !{}",
                any_container("containers", &cond),
                any_container("initContainers", &cond)
            ),
        );
    }
    out
}

/// The ApplyConfiguration expression that adds the injection to a pod.
pub fn apply_expression(inj: &Injection) -> String {
    let mut spec = Vec::new();
    if !inj.init_containers.is_empty() {
        spec.push(format!(
            "initContainers: {}",
            pretty(
                &Value::Array(inj.init_containers.clone()),
                "Object.spec.initContainers",
                4
            )
        ));
    }
    let mut containers = Vec::new();
    if !inj.containers.is_empty() {
        containers.push(pretty(
            &Value::Array(inj.containers.clone()),
            "Object.spec.containers",
            4,
        ));
    }
    if !inj.wiring.is_empty() {
        let single = inj.wiring.len() == 1;
        let list = |key: &str, pick: fn(&super::Wiring) -> &Vec<Value>| -> Option<String> {
            let path = format!("Object.spec.containers.{key}");
            let parts: Vec<String> = inj
                .wiring
                .iter()
                .filter(|w| !pick(w).is_empty())
                .map(|w| {
                    let items = pretty(&Value::Array(pick(w).clone()), &path, 6);
                    if single {
                        items
                    } else {
                        format!("({} ? {items} : [])", predicate(&w.target))
                    }
                })
                .collect();
            (!parts.is_empty()).then(|| format!("{key}: {}", parts.join(" + ")))
        };
        let fields: Vec<String> = ["name: c.name".to_string()]
            .into_iter()
            .chain(list("volumeMounts", |w| &w.mounts))
            .chain(list("env", |w| &w.env))
            .collect();
        let any: Vec<String> = inj.wiring.iter().map(|w| predicate(&w.target)).collect();
        let filter = if any.iter().any(|p| p == "true") {
            String::new()
        } else {
            format!(".filter(c, {})", any.join(" || "))
        };
        containers.push(format!(
            "object.spec.containers{filter}.map(c, Object.spec.containers{{\n      {}\n    }})",
            fields.join(",\n      ")
        ));
    }
    if !containers.is_empty() {
        spec.push(format!("containers: {}", containers.join(" + ")));
    }
    if !inj.volumes.is_empty() {
        spec.push(format!(
            "volumes: {}",
            pretty(&Value::Array(inj.volumes.clone()), "Object.spec.volumes", 4)
        ));
    }
    let mut top = Vec::new();
    if !inj.annotations.is_empty() {
        let entries: Vec<String> = inj
            .annotations
            .iter()
            .map(|(k, v)| format!("{}: {}", string(k), string(v)))
            .collect();
        top.push(format!(
            "metadata: Object.metadata{{annotations: {{{}}}}}",
            entries.join(", ")
        ));
    }
    top.push(format!(
        "spec: Object.spec{{\n    {}\n  }}",
        spec.join(",\n    ")
    ));
    format!("Object{{\n  {}\n}}\n", top.join(",\n  "))
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
            mutations: Some(vec![Mutation {
                patch_type: "ApplyConfiguration".into(),
                apply_configuration: Some(ApplyConfiguration {
                    expression: Some(apply_expression(inj)),
                }),
                json_patch: None,
            }]),
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
