//! The injector as doctor sees it: this tool's MutatingAdmissionPolicies (labelled
//! `app.kubernetes.io/managed-by=kubectl-pattern`) and the bindings that use them; policies
//! without a binding; which helpers a bound policy adds to a workload's pods; and the
//! `FailedCreate` events in which a policy refused the workload's pods.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::Event;
use serde_json::Value;

use super::events::{self, Window};
use super::fixes::Owner;
use super::helpers::{Expected, Source};
use super::labels::{self, Labels};
use super::report::{Check, Finding, Severity};
use kubectl_pattern_engine::inject::OPT_OUT;

/// The name every exported policy and binding starts with.
pub const PREFIX: &str = "kubectl-pattern-";

/// The match condition that names the policy's helpers (`map::match_conditions` writes it).
const HELPERS_CONDITION: &str = "helpers-absent";

/// One of this tool's policies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    /// Its name.
    pub name: String,
    /// The helpers it adds.
    pub helpers: Vec<String>,
}

/// A binding of a policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Binding {
    /// Its name.
    pub name: String,
    /// The policy it binds.
    pub policy: String,
    /// Which pods (empty: all).
    pub object_selector: Value,
    /// Which namespaces (empty: all).
    pub namespace_selector: Value,
}

/// The injector objects found in the cluster.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Injector {
    /// `admissionregistration.k8s.io/v1` or `…/v1beta1`: the version the cluster serves.
    pub api_version: String,
    /// This tool's policies.
    pub policies: Vec<Policy>,
    /// Every binding (a user may bind our policies with bindings of their own).
    pub bindings: Vec<Binding>,
}

/// The double-quoted CEL string literals in `expression`, unescaped, without repeats.
fn string_literals(expression: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut chars = expression.chars();
    while let Some(c) = chars.next() {
        if c != '"' {
            continue;
        }
        let mut text = String::new();
        while let Some(c) = chars.next() {
            match c {
                '"' => break,
                '\\' => match chars.next() {
                    Some('n') => text.push('\n'),
                    Some('t') => text.push('\t'),
                    Some('r') => text.push('\r'),
                    Some(other) => text.push(other),
                    None => {}
                },
                c => text.push(c),
            }
        }
        if !out.contains(&text) {
            out.push(text);
        }
    }
    out
}

/// A policy object as the API returns it.
pub fn policy(object: &Value) -> Policy {
    let conditions = object
        .pointer("/spec/matchConditions")
        .and_then(Value::as_array);
    let helpers = conditions
        .into_iter()
        .flatten()
        .find(|c| c["name"] == HELPERS_CONDITION)
        .and_then(|c| c["expression"].as_str())
        .map(string_literals)
        .unwrap_or_default();
    Policy {
        name: object["metadata"]["name"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
        helpers,
    }
}

/// A binding object as the API returns it (`None` without a policy name).
pub fn binding(object: &Value) -> Option<Binding> {
    let resources = object.pointer("/spec/matchResources");
    let selector = |key: &str| {
        resources
            .and_then(|r| r.get(key))
            .cloned()
            .unwrap_or_else(|| Value::Object(Default::default()))
    };
    Some(Binding {
        name: object["metadata"]["name"].as_str()?.to_string(),
        policy: object.pointer("/spec/policyName")?.as_str()?.to_string(),
        object_selector: selector("objectSelector"),
        namespace_selector: selector("namespaceSelector"),
    })
}

impl Injector {
    /// Our policies that no binding uses: they inject nothing.
    pub fn unbound(&self) -> Vec<Finding> {
        let kind = format!(
            "mutatingadmissionpolicy.{}",
            self.api_version.split('/').next().unwrap_or_default()
        );
        self.policies
            .iter()
            .filter(|p| !self.bindings.iter().any(|b| b.policy == p.name))
            .map(|p| Finding {
                severity: Severity::Error,
                check: Check::PolicyUnbound,
                namespace: None,
                object: format!("{kind}/{}", p.name),
                pod: None,
                container: None,
                message: format!(
                    "the injector policy has no binding, so it adds {} to no pod",
                    p.helpers.join(", ")
                ),
                fix: format!(
                    "apply the binding again: kubectl pattern inject … -l SELECTOR --apply (it prints both objects), or delete the policy: kubectl delete mutatingadmissionpolicy {}",
                    p.name
                ),
            })
            .collect()
    }

    /// The helpers bound policies add to pods with these labels and annotations in
    /// `namespace`; notes name bindings whose namespace selector doctor cannot evaluate.
    pub fn expected(
        &self,
        namespace: &str,
        pod_labels: &Labels,
        pod_annotations: &Labels,
        notes: &mut Vec<String>,
    ) -> Vec<Expected> {
        let opted_out = |m: &Labels| m.get(OPT_OUT).map(String::as_str) == Some("false");
        if opted_out(pod_labels) || opted_out(pod_annotations) {
            return Vec::new();
        }
        let ns_labels = Labels::from([(NAMESPACE_NAME.to_string(), namespace.to_string())]);
        let mut out = Vec::new();
        for b in &self.bindings {
            let Some(policy) = self.policies.iter().find(|p| p.name == b.policy) else {
                continue;
            };
            if !labels::matches(&b.object_selector, pod_labels) {
                continue;
            }
            if labels::keys(&b.namespace_selector)
                .iter()
                .any(|k| k != NAMESPACE_NAME)
            {
                let note = format!(
                    "binding {} selects namespaces by their labels, which doctor does not read: pods were not checked against policy {}",
                    b.name, policy.name
                );
                if !notes.contains(&note) {
                    notes.push(note);
                }
                continue;
            }
            if !labels::matches(&b.namespace_selector, &ns_labels) {
                continue;
            }
            for h in &policy.helpers {
                if !out.iter().any(|e: &Expected| &e.name == h) {
                    out.push(Expected {
                        name: h.clone(),
                        source: Source::Injector {
                            policy: policy.name.clone(),
                        },
                    });
                }
            }
        }
        out
    }

    /// True when `name` is one of this tool's policies (listed, or named like one).
    fn ours(&self, name: &str) -> bool {
        name.starts_with(PREFIX) || self.policies.iter().any(|p| p.name == name)
    }
}

/// The label every namespace carries with its own name.
const NAMESPACE_NAME: &str = "kubernetes.io/metadata.name";

/// A pod controller (ReplicaSet, StatefulSet, Job…) whose `FailedCreate` events count.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Controller {
    /// Its kind.
    pub kind: String,
    /// Its name.
    pub name: String,
    /// Its uid, when known.
    pub uid: Option<String>,
}

/// Recent `FailedCreate` events of the workload's controllers that one of our policies caused.
pub fn denials(
    injector: &Injector,
    owner: &Owner,
    controllers: &[Controller],
    events: &[Event],
    window: Window,
) -> Vec<Finding> {
    let mut by_policy: BTreeMap<String, (i64, String, String)> = BTreeMap::new();
    let mut newest = BTreeMap::new();
    for e in events.iter().filter(|e| {
        events::is_warning(e)
            && e.reason.as_deref() == Some("FailedCreate")
            && window.contains(e)
            && controllers
                .iter()
                .any(|c| events::about(e, &c.kind, &c.name, c.uid.as_deref()))
    }) {
        let message = e.message.as_deref().unwrap_or_default();
        let Some(d) = events::denial(message).filter(|d| injector.ours(d.policy)) else {
            continue;
        };
        let entry = by_policy.entry(d.policy.to_string()).or_insert((
            0,
            d.binding.to_string(),
            d.why.to_string(),
        ));
        entry.0 += events::count(e);
        let seen = events::last_seen(e);
        if newest.get(d.policy).is_none_or(|t| *t <= seen) {
            newest.insert(d.policy.to_string(), seen);
            entry.1 = d.binding.to_string();
            entry.2 = d.why.to_string();
        }
    }
    by_policy
        .into_iter()
        .map(|(policy, (n, binding, why))| {
            let times = if n == 1 { "once".into() } else { format!("{n} times") };
            Finding {
                severity: Severity::Error,
                check: Check::PolicyDenies,
                namespace: Some(owner.namespace.clone()),
                object: owner.display.clone(),
                pod: None,
                container: None,
                message: format!(
                    "the injector {policy} refused to create its pods ({times}): {why}"
                ),
                fix: format!(
                    "no new pod starts while it refuses: unbind it (kubectl delete mutatingadmissionpolicybinding {binding}) or opt the pods out (label {OPT_OUT}=false on the template), then export the injector again with this kubectl-pattern (kubectl pattern inject … --apply)"
                ),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn cel_string_literals_are_read_unescaped() {
        assert_eq!(
            string_literals(r#"c.name in ["a", "b\"c"] && x == "a""#),
            ["a", "b\"c"]
        );
    }

    #[test]
    fn opted_out_pods_expect_nothing_and_selectors_decide_the_rest() {
        let injector = Injector {
            api_version: "admissionregistration.k8s.io/v1".into(),
            policies: vec![Policy {
                name: "kubectl-pattern-log-shipper".into(),
                helpers: vec!["log-shipper".into()],
            }],
            bindings: vec![
                binding(&json!({"metadata": {"name": "kubectl-pattern-log-shipper"},
                "spec": {"policyName": "kubectl-pattern-log-shipper", "matchResources": {
                    "objectSelector": {"matchLabels": {"app": "web"}},
                    "namespaceSelector": {"matchExpressions": [{"key": NAMESPACE_NAME,
                        "operator": "NotIn", "values": ["kube-system"]}]}}}}))
                .unwrap(),
            ],
        };
        let web = Labels::from([("app".to_string(), "web".to_string())]);
        let none = Labels::new();
        let mut notes = vec![];
        let names = |e: Vec<Expected>| e.into_iter().map(|e| e.name).collect::<Vec<_>>();
        assert_eq!(
            names(injector.expected("shop", &web, &none, &mut notes)),
            ["log-shipper"]
        );
        assert!(
            injector
                .expected("kube-system", &web, &none, &mut notes)
                .is_empty()
        );
        let out = Labels::from([(OPT_OUT.to_string(), "false".to_string())]);
        assert!(injector.expected("shop", &web, &out, &mut notes).is_empty());
        assert!(
            injector
                .expected("shop", &none, &none, &mut notes)
                .is_empty()
        );
        assert!(notes.is_empty());
        assert!(injector.unbound().is_empty());
    }
}
