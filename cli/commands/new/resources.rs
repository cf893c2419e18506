//! The main container's resources in `new`: `--requests` and `--limits` in kubectl run's old
//! spelling (`cpu=100m,memory=128Mi`), defaults that satisfy `lint` (MCP006 wants cpu and
//! memory in both), and the checks the API server would make.

use serde_json::{Map, Value};

use crate::engine::quantity;

/// Default requests of the main container: a small web app's.
pub const DEFAULT_REQUESTS: &str = "cpu=100m,memory=128Mi";
/// Default limits of the main container.
pub const DEFAULT_LIMITS: &str = "cpu=500m,memory=256Mi";

/// Resource names and quantities, in the order given.
pub type Resources = Vec<(String, String)>;

/// True for a resource name a container may request: cpu, memory, ephemeral-storage,
/// hugepages-SIZE, or an extended resource `DOMAIN/NAME` (nvidia.com/gpu).
fn is_resource_name(name: &str) -> bool {
    matches!(name, "cpu" | "memory" | "ephemeral-storage")
        || name.starts_with("hugepages-")
        || name
            .split_once('/')
            .is_some_and(|(d, n)| d.contains('.') && !n.is_empty())
}

/// Parses `cpu=100m,memory=128Mi`; `none` (or nothing) is no resources.
pub fn parse(text: &str) -> Result<Resources, String> {
    let text = text.trim();
    if text.is_empty() || text == "none" {
        return Ok(Vec::new());
    }
    let mut out: Resources = Vec::new();
    for item in text.split(',').map(str::trim) {
        let Some((name, value)) = item.split_once('=') else {
            return Err(format!(
                "{item:?} is not NAME=QUANTITY (e.g. cpu=100m,memory=128Mi)"
            ));
        };
        let (name, value) = (name.trim(), value.trim());
        if !is_resource_name(name) {
            return Err(format!(
                "{name:?} is not a resource name (cpu, memory, ephemeral-storage, hugepages-SIZE or DOMAIN/NAME)"
            ));
        }
        match quantity::parse(value) {
            Ok(v) if v >= 0.0 => {}
            _ => {
                return Err(format!(
                    "{name}={value:?}: not a quantity (e.g. cpu=250m, memory=128Mi)"
                ));
            }
        }
        if out.iter().any(|(n, _)| n == name) {
            return Err(format!("{name} is given twice"));
        }
        out.push((name.to_string(), value.to_string()));
    }
    Ok(out)
}

/// The flag's text of `resources` (`none` when empty).
pub fn text(resources: &Resources) -> String {
    if resources.is_empty() {
        return "none".into();
    }
    let items: Vec<String> = resources.iter().map(|(n, v)| format!("{n}={v}")).collect();
    items.join(",")
}

/// A values file's `{cpu: 100m, memory: 128Mi}` (numbers allowed: `cpu: 1`).
pub fn from_map(map: &Map<String, Value>) -> Result<Resources, String> {
    let mut items = Vec::new();
    for (name, value) in map {
        let value = match value {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            other => return Err(format!("{name}: {other} is not a quantity")),
        };
        items.push(format!("{name}={value}"));
    }
    parse(&items.join(","))
}

/// The values file's map of `resources`.
pub fn to_map(resources: &Resources) -> Map<String, Value> {
    resources
        .iter()
        .map(|(n, v)| (n.clone(), Value::String(v.clone())))
        .collect()
}

/// Every request at most its limit (the API server refuses a pod otherwise).
pub fn check(requests: &Resources, limits: &Resources) -> Result<(), String> {
    for (name, request) in requests {
        let Some((_, limit)) = limits.iter().find(|(n, _)| n == name) else {
            continue;
        };
        let (r, l) = (quantity::parse(request), quantity::parse(limit));
        if let (Ok(r), Ok(l)) = (r, l)
            && r > l
        {
            return Err(format!(
                "the {name} request {request} is above its limit {limit}; raise --limits or lower --requests"
            ));
        }
    }
    Ok(())
}

/// The container's `resources` object, when there is anything in it.
pub fn object(requests: &Resources, limits: &Resources) -> Option<Value> {
    let mut out = Map::new();
    if !requests.is_empty() {
        out.insert("requests".into(), Value::Object(to_map(requests)));
    }
    if !limits.is_empty() {
        out.insert("limits".into(), Value::Object(to_map(limits)));
    }
    (!out.is_empty()).then_some(Value::Object(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kubectl_run_spelling_parses_and_prints_back() {
        let r = parse("cpu=100m, memory=128Mi,nvidia.com/gpu=1").unwrap();
        assert_eq!(
            r,
            vec![
                ("cpu".to_string(), "100m".to_string()),
                ("memory".into(), "128Mi".into()),
                ("nvidia.com/gpu".into(), "1".into())
            ]
        );
        assert_eq!(text(&r), "cpu=100m,memory=128Mi,nvidia.com/gpu=1");
        assert_eq!(parse("none").unwrap(), vec![]);
        assert_eq!(text(&vec![]), "none");
    }

    #[test]
    fn bad_resources_say_what_is_wrong() {
        for (bad, needle) in [
            ("cpu", "not NAME=QUANTITY"),
            ("cpu=lots", "not a quantity"),
            ("cpu=-1", "not a quantity"),
            ("gpu=1", "not a resource name"),
            ("cpu=1,cpu=2", "twice"),
        ] {
            let err = parse(bad).unwrap_err();
            assert!(err.contains(needle), "{bad}: {err}");
        }
    }

    #[test]
    fn a_request_above_its_limit_is_refused() {
        let requests = parse("cpu=1,memory=128Mi").unwrap();
        assert!(check(&requests, &parse("cpu=2,memory=1Gi").unwrap()).is_ok());
        assert!(check(&requests, &parse("memory=1Gi").unwrap()).is_ok());
        let err = check(&requests, &parse("cpu=500m").unwrap()).unwrap_err();
        assert!(
            err.contains("cpu request 1 is above its limit 500m"),
            "{err}"
        );
    }

    #[test]
    fn the_defaults_hold_cpu_and_memory_under_their_limits() {
        let (r, l) = (
            parse(DEFAULT_REQUESTS).unwrap(),
            parse(DEFAULT_LIMITS).unwrap(),
        );
        for set in [&r, &l] {
            let names: Vec<&str> = set.iter().map(|(n, _)| n.as_str()).collect();
            assert_eq!(names, ["cpu", "memory"]);
        }
        check(&r, &l).unwrap();
    }
}
