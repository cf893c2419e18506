//! The `kyverno` engine: a Kyverno ClusterPolicy (kyverno.io/v1) whose mutate rule adds an
//! `Injection` to every created Pod with strategic-merge patches (merge by name), guarded by
//! preconditions equal to the admission policy's match conditions.

use serde_json::{Map, Value, json};

use super::{AppTarget, InjectOptions, Injection, MANAGED_BY, OPT_OUT};
use crate::podspec::PodList;

/// Kyverno substitutes `{{ … }}` everywhere in a patch; literal braces in the pattern's
/// fragments (e.g. a config file template) are escaped so they reach the pod unchanged.
fn escaped(value: &Value) -> Value {
    match value {
        Value::String(s) => Value::String(s.replace("{{", "\\{{")),
        Value::Array(items) => Value::Array(items.iter().map(escaped).collect()),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), escaped(v)))
                .collect::<Map<_, _>>(),
        ),
        other => other.clone(),
    }
}

/// JMESPath: the containers a wiring target selects.
fn containers(target: &AppTarget) -> String {
    match target {
        AppTarget::Main(None) => "request.object.spec.containers[0:1]".into(),
        AppTarget::Main(Some(n)) | AppTarget::Named(n) => {
            format!("request.object.spec.containers[?name=='{}']", n)
        }
        AppTarget::All => "request.object.spec.containers".into(),
    }
}

fn names(items: &[Value], key: &str) -> Value {
    Value::Array(items.iter().filter_map(|i| i.get(key).cloned()).collect())
}

fn condition(key: Value, operator: &str, value: String) -> Value {
    json!({"key": key, "operator": operator, "value": value})
}

fn preconditions(inj: &Injection) -> Vec<Value> {
    let mut all = vec![condition(
        json!(inj.helper_names()),
        "AllNotIn",
        "{{ request.object.spec.[containers, initContainers][].name }}".into(),
    )];
    if !inj.volume_names().is_empty() {
        all.push(condition(
            json!(inj.volume_names()),
            "AllNotIn",
            "{{ request.object.spec.volumes[].name || `[]` }}".into(),
        ));
    }
    for w in &inj.wiring_groups() {
        if let AppTarget::Main(Some(n)) | AppTarget::Named(n) = &w.target {
            all.push(condition(
                json!(n),
                "AnyIn",
                "{{ request.object.spec.containers[].name }}".into(),
            ));
        }
        if !w.mounts.is_empty() {
            all.push(condition(
                names(&w.mounts, "mountPath"),
                "AllNotIn",
                format!(
                    "{{{{ {}[].volumeMounts[].mountPath || `[]` }}}}",
                    containers(&w.target)
                ),
            ));
        }
        if !w.env.is_empty() {
            all.push(condition(
                names(&w.env, "name"),
                "AllNotIn",
                format!("{{{{ {}[].env[].name || `[]` }}}}", containers(&w.target)),
            ));
        }
    }
    if !inj.ports.is_empty() {
        all.push(condition(
            json!(inj.ports),
            "AllNotIn",
            "{{ request.object.spec.[containers, initContainers][].ports[].containerPort || `[]` }}"
                .into(),
        ));
    }
    all
}

/// The helpers, volumes and annotations, as a strategic-merge patch.
fn helpers_patch(inj: &Injection) -> Value {
    let mut spec = Map::new();
    for list in [
        PodList::InitContainers,
        PodList::Containers,
        PodList::Volumes,
    ] {
        let items: Vec<Value> = inj.items_in(list).into_iter().cloned().collect();
        if !items.is_empty() {
            spec.insert(list.key().into(), escaped(&Value::Array(items)));
        }
    }
    let mut patch = Map::new();
    if !inj.annotations.is_empty() {
        let annotations: Map<String, Value> = inj
            .annotations
            .iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect();
        patch.insert(
            "metadata".into(),
            escaped(&json!({"annotations": annotations})),
        );
    }
    patch.insert("spec".into(), Value::Object(spec));
    Value::Object(patch)
}

/// The ClusterPolicy, as JSON.
pub fn cluster_policy(inj: &Injection, opts: &InjectOptions) -> Value {
    let name = InjectOptions::object_name(inj);
    // The first entry runs once per pod (a one-element list): it adds the helpers.
    let mut foreach = vec![json!({
        "list": "request.object.spec.containers[0:1]",
        "patchStrategicMerge": helpers_patch(inj),
    })];
    for w in &inj.wiring_groups() {
        let mut container = Map::new();
        container.insert("name".into(), json!("{{ element.name }}"));
        if !w.mounts.is_empty() {
            container.insert("volumeMounts".into(), escaped(&json!(w.mounts)));
        }
        if !w.env.is_empty() {
            container.insert("env".into(), escaped(&json!(w.env)));
        }
        foreach.push(json!({
            "list": containers(&w.target),
            "patchStrategicMerge": {"spec": {"containers": [container]}},
        }));
    }
    let opt_out = json!({OPT_OUT: "false"});
    json!({
        "apiVersion": "kyverno.io/v1",
        "kind": "ClusterPolicy",
        "metadata": {
            "name": name,
            "labels": {MANAGED_BY.0: MANAGED_BY.1},
            "annotations": {
                "pattern.kubectl.io/pattern": format!("{}@{}", inj.pattern, inj.version),
                "pattern.kubectl.io/params-hash": inj.params_hash,
                "policies.kyverno.io/title": format!("Inject the {} pattern", inj.pattern),
                "policies.kyverno.io/subject": "Pod",
                "policies.kyverno.io/description": format!(
                    "Adds the helper containers of kubectl-pattern's {} pattern (instance {}) to every new pod the selectors match. Pods labelled or annotated {OPT_OUT}=false are left alone.",
                    inj.pattern, inj.instance
                ),
            },
        },
        "spec": {
            "background": false,
            "rules": [{
                "name": inj.instance,
                "match": {"any": [{"resources": {
                    "kinds": ["Pod"],
                    "operations": ["CREATE"],
                    "selector": opts.selector,
                    "namespaceSelector": opts.namespaces(),
                }}]},
                "exclude": {"any": [
                    {"resources": {"selector": {"matchLabels": opt_out}}},
                    {"resources": {"annotations": opt_out}},
                ]},
                "preconditions": {"all": preconditions(inj)},
                "mutate": {"foreach": foreach},
            }],
        },
    })
}
