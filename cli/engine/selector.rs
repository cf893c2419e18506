//! kubectl's label selector syntax (`app=web,tier!=db,env in (prod,stage),!legacy`) parsed into
//! the API's `LabelSelector` (matchLabels + matchExpressions).

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, LabelSelectorRequirement};

/// A selector that does not parse, with what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("label selector {selector:?}: {message}")]
pub struct SelectorError {
    /// The selector as given.
    pub selector: String,
    /// What is wrong, and the expected form.
    pub message: String,
}

/// A label value: empty, or up to 63 alphanumerics, `-`, `_`, `.`, alphanumeric at both ends.
fn is_label_value(value: &str) -> bool {
    value.is_empty()
        || (value.len() <= 63
            && value
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
            && value.starts_with(|c: char| c.is_ascii_alphanumeric())
            && value.ends_with(|c: char| c.is_ascii_alphanumeric()))
}

/// Splits on commas outside parentheses.
fn split_terms(text: &str) -> Result<Vec<&str>, String> {
    let mut terms = Vec::new();
    let (mut depth, mut start) = (0i32, 0usize);
    for (i, c) in text.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth < 0 {
                    return Err("unbalanced ')'".into());
                }
            }
            ',' if depth == 0 => {
                terms.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    if depth != 0 {
        return Err("unbalanced '('".into());
    }
    terms.push(&text[start..]);
    Ok(terms)
}

fn requirement(key: &str, operator: &str, values: Option<Vec<String>>) -> LabelSelectorRequirement {
    LabelSelectorRequirement {
        key: key.to_string(),
        operator: operator.to_string(),
        values,
    }
}

fn parse_term(term: &str) -> Result<Term, String> {
    let t = term.trim();
    if t.is_empty() {
        return Err("empty requirement (a stray comma?)".into());
    }
    let check_key = |k: &str| {
        if super::params::is_qualified_name(k) {
            Ok(k.to_string())
        } else {
            Err(format!("{k:?} is not a valid label key"))
        }
    };
    let check_value = |v: &str| {
        if is_label_value(v) {
            Ok(v.to_string())
        } else {
            Err(format!("{v:?} is not a valid label value"))
        }
    };
    if let Some(key) = t.strip_prefix('!') {
        return Ok(Term::Expr(requirement(
            &check_key(key.trim())?,
            "DoesNotExist",
            None,
        )));
    }
    if let Some((key, value)) = t.split_once("!=") {
        return Ok(Term::Expr(requirement(
            &check_key(key.trim())?,
            "NotIn",
            Some(vec![check_value(value.trim())?]),
        )));
    }
    if let Some((key, value)) = t.split_once("==").or_else(|| t.split_once('=')) {
        return Ok(Term::Equal(
            check_key(key.trim())?,
            check_value(value.trim())?,
        ));
    }
    let words: Vec<&str> = t.splitn(2, char::is_whitespace).collect();
    if let [key, rest] = words[..] {
        let rest = rest.trim_start();
        let (operator, list) = if let Some(l) = rest.strip_prefix("notin") {
            ("NotIn", l)
        } else if let Some(l) = rest.strip_prefix("in") {
            ("In", l)
        } else {
            return Err(format!(
                "{t:?}: expected KEY=VALUE, KEY!=VALUE, KEY in (A,B), KEY notin (A,B), KEY or !KEY"
            ));
        };
        let inner = list
            .trim()
            .strip_prefix('(')
            .and_then(|l| l.strip_suffix(')'))
            .ok_or_else(|| format!("{t:?}: the values of in/notin go in parentheses: (A,B)"))?;
        let values = inner
            .split(',')
            .map(|v| check_value(v.trim()))
            .collect::<Result<Vec<_>, _>>()?;
        if values.iter().all(String::is_empty) {
            return Err(format!("{t:?}: in/notin needs at least one value"));
        }
        return Ok(Term::Expr(requirement(
            &check_key(key)?,
            operator,
            Some(values),
        )));
    }
    Ok(Term::Expr(requirement(&check_key(t)?, "Exists", None)))
}

enum Term {
    Equal(String, String),
    Expr(LabelSelectorRequirement),
}

/// Parses a kubectl label selector. An empty selector selects everything.
pub fn parse(selector: &str) -> Result<LabelSelector, SelectorError> {
    let error = |message: String| SelectorError {
        selector: selector.to_string(),
        message,
    };
    let mut labels = BTreeMap::new();
    let mut expressions = Vec::new();
    if !selector.trim().is_empty() {
        for term in split_terms(selector).map_err(error)? {
            match parse_term(term).map_err(error)? {
                Term::Equal(k, v) => {
                    if let Some(previous) = labels.insert(k.clone(), v.clone())
                        && previous != v
                    {
                        return Err(error(format!(
                            "{k} must equal both {previous:?} and {v:?}; nothing matches"
                        )));
                    }
                }
                Term::Expr(r) => expressions.push(r),
            }
        }
    }
    Ok(LabelSelector {
        match_labels: (!labels.is_empty()).then_some(labels),
        match_expressions: (!expressions.is_empty()).then_some(expressions),
    })
}

/// The labels every selected object carries for sure (the `KEY=VALUE` terms).
pub fn required_labels(selector: &LabelSelector) -> BTreeMap<String, String> {
    selector.match_labels.clone().unwrap_or_default()
}

/// True when `labels` (an object's `metadata.labels`) satisfy `selector`, as the API server
/// decides it: every `matchLabels` pair, and every expression (an unknown operator matches
/// nothing). An empty selector matches everything.
pub fn matches(selector: &LabelSelector, labels: &BTreeMap<String, String>) -> bool {
    let equal = selector
        .match_labels
        .iter()
        .flatten()
        .all(|(k, v)| labels.get(k) == Some(v));
    equal
        && selector.match_expressions.iter().flatten().all(|r| {
            let value = labels.get(&r.key);
            let listed = |v: &String| r.values.iter().flatten().any(|x| x == v);
            match r.operator.as_str() {
                "In" => value.is_some_and(listed),
                "NotIn" => value.is_none_or(|v| !listed(v)),
                "Exists" => value.is_some(),
                "DoesNotExist" => value.is_none(),
                _ => false,
            }
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn json_of(s: &str) -> serde_json::Value {
        serde_json::to_value(parse(s).unwrap()).unwrap()
    }

    #[test]
    fn every_kubectl_form_parses() {
        assert_eq!(
            json_of("app=web, tier==front,env in (prod, stage),team notin (a),!legacy,canary,x!=y"),
            json!({
                "matchLabels": {"app": "web", "tier": "front"},
                "matchExpressions": [
                    {"key": "env", "operator": "In", "values": ["prod", "stage"]},
                    {"key": "team", "operator": "NotIn", "values": ["a"]},
                    {"key": "legacy", "operator": "DoesNotExist"},
                    {"key": "canary", "operator": "Exists"},
                    {"key": "x", "operator": "NotIn", "values": ["y"]},
                ]
            })
        );
        assert_eq!(
            json_of("app.kubernetes.io/name=web"),
            json!({"matchLabels": {"app.kubernetes.io/name": "web"}})
        );
        assert_eq!(json_of(""), json!({}));
    }

    #[test]
    fn matching_follows_each_operator() {
        let labels: BTreeMap<String, String> = [("app", "web"), ("env", "prod")]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        for (selector, expected) in [
            ("", true),
            ("app=web", true),
            ("app=api", false),
            ("app!=api", true),
            ("env in (prod,stage)", true),
            ("env notin (prod)", false),
            ("tier notin (db)", true),
            ("env", true),
            ("tier", false),
            ("!tier", true),
            ("!env", false),
            ("app=web,env in (stage)", false),
        ] {
            assert_eq!(
                matches(&parse(selector).unwrap(), &labels),
                expected,
                "{selector}"
            );
        }
    }

    #[test]
    fn bad_selectors_say_what_is_wrong() {
        for (bad, needle) in [
            ("app=", ""),
            ("app=we b", "not a valid label value"),
            ("Bad Key=x", "not a valid label key"),
            ("env in prod", "parentheses"),
            ("env in (a", "unbalanced"),
            ("app=a,,b=c", "empty requirement"),
            ("app=a,app=b", "nothing matches"),
            ("env between (a,b)", "expected KEY=VALUE"),
        ] {
            match parse(bad) {
                Err(e) => assert!(e.to_string().contains(needle), "{bad}: {e}"),
                // `app=` selects objects whose label app is empty: valid in kubectl too.
                Ok(s) if bad == "app=" => {
                    assert_eq!(s.match_labels.unwrap()["app"], "");
                }
                Ok(s) => panic!("{bad} parsed as {s:?}"),
            }
        }
    }
}
