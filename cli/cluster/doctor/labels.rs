//! Label selectors as doctor needs them: the `labelSelector` query of a workload's
//! `spec.selector` (a LabelSelector, or a ReplicationController's plain map), and matching a
//! pod's labels against a selector the way the API server does (for injector bindings).

use std::collections::BTreeMap;

use serde_json::Value;

/// Labels of an object.
pub type Labels = BTreeMap<String, String>;

/// A JSON map of strings (labels, annotations); nothing when absent.
pub fn map(value: Option<&Value>) -> Labels {
    value
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_string())))
        .collect()
}

/// A plain `{key: value}` map (a ReplicationController's selector), as opposed to a
/// LabelSelector with `matchLabels`/`matchExpressions`.
fn is_plain_map(selector: &Value) -> bool {
    selector
        .as_object()
        .is_some_and(|m| !m.is_empty() && m.values().all(Value::is_string))
}

fn values(requirement: &Value) -> Vec<&str> {
    requirement
        .get("values")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect()
}

/// The `labelSelector` query parameter of a selector; `None` when it selects everything.
pub fn query(selector: &Value) -> Option<String> {
    let mut terms = Vec::new();
    let match_labels = if is_plain_map(selector) {
        Some(selector)
    } else {
        selector.get("matchLabels")
    };
    for (k, v) in match_labels
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        terms.push(format!("{k}={}", v.as_str().unwrap_or_default()));
    }
    let expressions = selector.get("matchExpressions").and_then(Value::as_array);
    for r in expressions.into_iter().flatten() {
        let key = r.get("key").and_then(Value::as_str).unwrap_or_default();
        let list = values(r).join(",");
        match r.get("operator").and_then(Value::as_str) {
            Some("In") => terms.push(format!("{key} in ({list})")),
            Some("NotIn") => terms.push(format!("{key} notin ({list})")),
            Some("Exists") => terms.push(key.to_string()),
            Some("DoesNotExist") => terms.push(format!("!{key}")),
            _ => {}
        }
    }
    (!terms.is_empty()).then(|| terms.join(","))
}

/// True when `labels` satisfy `selector` (an empty selector matches everything; an unknown
/// operator matches nothing, as the API server refuses such selectors).
pub fn matches(selector: &Value, labels: &Labels) -> bool {
    let match_labels = if is_plain_map(selector) {
        Some(selector)
    } else {
        selector.get("matchLabels")
    };
    let equal = match_labels
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .all(|(k, v)| labels.get(k).map(String::as_str) == v.as_str());
    let expressions = selector.get("matchExpressions").and_then(Value::as_array);
    equal
        && expressions.into_iter().flatten().all(|r| {
            let key = r.get("key").and_then(Value::as_str).unwrap_or_default();
            let value = labels.get(key).map(String::as_str);
            match r.get("operator").and_then(Value::as_str) {
                Some("In") => value.is_some_and(|v| values(r).contains(&v)),
                Some("NotIn") => value.is_none_or(|v| !values(r).contains(&v)),
                Some("Exists") => value.is_some(),
                Some("DoesNotExist") => value.is_none(),
                _ => false,
            }
        })
}

/// The keys a selector looks at.
pub fn keys(selector: &Value) -> Vec<String> {
    let mut out: Vec<String> = selector
        .get("matchLabels")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .map(|(k, _)| k.clone())
        .collect();
    let expressions = selector.get("matchExpressions").and_then(Value::as_array);
    out.extend(
        expressions
            .into_iter()
            .flatten()
            .filter_map(|r| r.get("key").and_then(Value::as_str).map(String::from)),
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn labels(pairs: &[(&str, &str)]) -> Labels {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn selectors_become_kubectl_queries() {
        let s = json!({"matchLabels": {"app": "web"}, "matchExpressions": [
            {"key": "tier", "operator": "In", "values": ["front", "api"]},
            {"key": "env", "operator": "NotIn", "values": ["dev"]},
            {"key": "canary", "operator": "Exists"},
            {"key": "legacy", "operator": "DoesNotExist"}]});
        assert_eq!(
            query(&s).as_deref(),
            Some("app=web,tier in (front,api),env notin (dev),canary,!legacy")
        );
        assert_eq!(
            query(&json!({"app": "web", "tier": "db"})).as_deref(),
            Some("app=web,tier=db")
        );
        assert_eq!(query(&json!({})), None);
    }

    #[test]
    fn labels_match_like_the_api_server() {
        let s = json!({"matchLabels": {"app": "web"}, "matchExpressions": [
            {"key": "tier", "operator": "In", "values": ["front"]},
            {"key": "legacy", "operator": "DoesNotExist"}]});
        assert!(matches(&s, &labels(&[("app", "web"), ("tier", "front")])));
        assert!(!matches(&s, &labels(&[("app", "web"), ("tier", "db")])));
        assert!(!matches(
            &s,
            &labels(&[("app", "web"), ("tier", "front"), ("legacy", "1")])
        ));
        assert!(!matches(&s, &labels(&[("tier", "front")])));
        assert!(matches(&json!({}), &labels(&[])));
        let not_in = json!({"matchExpressions": [{"key": "kubernetes.io/metadata.name",
            "operator": "NotIn", "values": ["kube-system"]}]});
        assert!(matches(&not_in, &labels(&[])));
        assert!(!matches(
            &not_in,
            &labels(&[("kubernetes.io/metadata.name", "kube-system")])
        ));
        let bad = json!({"matchExpressions": [{"key": "a", "operator": "Gt", "values": ["1"]}]});
        assert!(!matches(&bad, &labels(&[("a", "2")])));
        assert_eq!(keys(&s), ["app", "tier", "legacy"]);
    }
}
