//! Typed pattern parameters: the schema, validation of each value, and resolution of `--set`
//! and values-file input into one validated, defaulted set.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use regex::Regex;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

/// The type of a parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ParamType {
    /// Any text.
    String,
    /// A whole number.
    Int,
    /// `true` or `false`.
    Bool,
    /// A TCP/UDP port, 1–65535.
    Port,
    /// A Kubernetes resource quantity (`100m`, `64Mi`).
    Quantity,
    /// An OCI image reference.
    Image,
    /// An RFC 1123 DNS subdomain.
    DnsName,
    /// A Go-style duration (`1m30s`).
    Duration,
    /// One of a fixed set of values.
    Enum,
    /// A list of values.
    List,
}

impl ParamType {
    /// The name used in pattern.yaml.
    pub fn as_str(self) -> &'static str {
        match self {
            ParamType::String => "string",
            ParamType::Int => "int",
            ParamType::Bool => "bool",
            ParamType::Port => "port",
            ParamType::Quantity => "quantity",
            ParamType::Image => "image",
            ParamType::DnsName => "dns-name",
            ParamType::Duration => "duration",
            ParamType::Enum => "enum",
            ParamType::List => "list",
        }
    }
}

/// One parameter of a pattern.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ParamSpec {
    /// camelCase name, used in `--set name=value`.
    pub name: String,
    /// The value's type.
    #[serde(rename = "type")]
    pub kind: ParamType,
    /// What the parameter does.
    #[serde(default)]
    pub description: String,
    /// The default value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<Value>,
    /// Must be given (no default).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub required: bool,
    /// Allowed values (`enum`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub values: Vec<String>,
    /// A regex a string (or each list item) must match in full.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pattern: Option<String>,
    /// Lower bound (`int`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<i64>,
    /// Upper bound (`int`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<i64>,
    /// Type of each item (`list`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub items: Option<ParamType>,
    /// A secret: masked in prompts and reports.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub secret: bool,
    /// What the parameter stands for in the workload (its default may come from there).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<ParamRole>,
}

/// What a parameter stands for in the workload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ParamRole {
    /// The app container's port the helper talks to (a `port`): when not given, the app
    /// container's one port (see `crate::defaults`), else the declared default.
    AppPort,
    /// The name of the helper's port that takes the app's traffic in its place (a Service in
    /// front of the app targets it).
    FrontPortName,
}

/// A parameter problem.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParamError {
    /// The value does not fit the type or constraints.
    #[error("parameter {name}: {problem}")]
    Invalid {
        /// Parameter name.
        name: String,
        /// What is wrong, and what is expected.
        problem: String,
    },
    /// A name no parameter has.
    #[error("unknown parameter {name:?} for pattern {pattern}{hint}")]
    Unknown {
        /// The name given.
        name: String,
        /// The pattern.
        pattern: String,
        /// ": did you mean …?", or the parameters.
        hint: String,
    },
    /// Required parameters were not given.
    #[error("pattern {pattern} needs {}: set {}", names.join(", "), names.iter().map(|n| format!("--set {n}=…")).collect::<Vec<_>>().join(" "))]
    Missing {
        /// The pattern.
        pattern: String,
        /// Every missing parameter.
        names: Vec<String>,
    },
    /// A `--set` argument without `=`.
    #[error("--set {0:?}: expected NAME=VALUE")]
    Syntax(String),
}

static IMAGE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?::[0-9]+)?(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(?:@sha256:[a-f0-9]{64})?$",
    )
    .expect("valid regex")
});
static DNS_LABEL: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$").expect("valid regex"));

/// True for an RFC 1123 DNS subdomain.
pub fn is_dns_subdomain(s: &str) -> bool {
    !s.is_empty() && s.len() <= 253 && s.split('.').all(|l| DNS_LABEL.is_match(l))
}

/// True for a Kubernetes qualified name (label and annotation keys): an optional
/// DNS-subdomain prefix and `/`, then a name of at most 63 characters (alphanumerics, `-`,
/// `_`, `.`, starting and ending with an alphanumeric).
pub fn is_qualified_name(key: &str) -> bool {
    let (prefix, name) = match key.rsplit_once('/') {
        Some((p, n)) => (Some(p), n),
        None => (None, key),
    };
    !name.is_empty()
        && name.len() <= 63
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name.ends_with(|c: char| c.is_ascii_alphanumeric())
        && prefix.is_none_or(is_dns_subdomain)
}

/// True for an RFC 1123 DNS label (names of containers, volumes, patterns).
pub fn is_dns_label(s: &str) -> bool {
    DNS_LABEL.is_match(s)
}

fn scalar_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn show(value: &Value) -> String {
    match value {
        Value::String(s) => format!("{s:?}"),
        other => other.to_string(),
    }
}

impl ParamSpec {
    fn invalid(&self, problem: impl Into<String>) -> ParamError {
        ParamError::Invalid {
            name: self.name.clone(),
            problem: problem.into(),
        }
    }

    /// Validates and normalises a value given as text (`--set`, a prompt).
    pub fn parse_text(&self, text: &str) -> Result<Value, ParamError> {
        let value = match self.kind {
            ParamType::List if text.trim().is_empty() => Value::Array(vec![]),
            ParamType::List => Value::Array(
                text.split(',')
                    .map(|s| Value::String(s.trim().to_string()))
                    .collect(),
            ),
            _ => Value::String(text.to_string()),
        };
        self.validate(&value)
    }

    /// Validates and normalises a value (a values file, a default): numbers become numbers,
    /// booleans booleans, lists lists.
    pub fn validate(&self, value: &Value) -> Result<Value, ParamError> {
        if self.kind == ParamType::List {
            return self.validate_list(value);
        }
        let text = scalar_text(value).ok_or_else(|| {
            self.invalid(format!(
                "expected a single {} value, got {}",
                self.kind.as_str(),
                show(value)
            ))
        })?;
        let out = match self.kind {
            ParamType::String => Value::String(text.clone()),
            ParamType::Int => {
                let n: i64 = text
                    .trim()
                    .parse()
                    .map_err(|_| self.invalid(format!("{text:?} is not a whole number")))?;
                if let Some(min) = self.min.filter(|m| n < *m) {
                    return Err(self.invalid(format!("{n} is below the minimum {min}")));
                }
                if let Some(max) = self.max.filter(|m| n > *m) {
                    return Err(self.invalid(format!("{n} is above the maximum {max}")));
                }
                Value::from(n)
            }
            ParamType::Port => match text.trim().parse::<u32>() {
                Ok(n @ 1..=65535) => Value::from(n),
                _ => return Err(self.invalid(format!("{text:?} is not a port (1-65535)"))),
            },
            ParamType::Bool => match text.trim() {
                "true" => Value::Bool(true),
                "false" => Value::Bool(false),
                _ => return Err(self.invalid(format!("{text:?} is not a boolean (true or false)"))),
            },
            // Requests and limits are never negative.
            ParamType::Quantity => match super::quantity::parse(&text) {
                Ok(v) if v >= 0.0 => Value::String(text.clone()),
                _ => {
                    return Err(self.invalid(format!(
                        "{text:?} is not a resource quantity (e.g. 100m, 64Mi, 1)"
                    )));
                }
            },
            ParamType::Image if text.len() <= 255 && IMAGE.is_match(&text) => {
                Value::String(text.clone())
            }
            ParamType::Image => {
                return Err(self.invalid(format!(
                    "{text:?} is not an image reference (e.g. registry.example.com/team/app:1.2.3, lower-case, no spaces)"
                )));
            }
            ParamType::DnsName if is_dns_subdomain(&text) => Value::String(text.clone()),
            ParamType::DnsName => {
                return Err(self.invalid(format!(
                    "{text:?} is not a DNS name (lower-case letters, digits, '-' and '.', at most 253 characters, e.g. redis.cache.svc)"
                )));
            }
            ParamType::Duration => match super::duration::parse(&text) {
                Ok(_) => Value::String(text.clone()),
                Err(e) => return Err(self.invalid(e.to_string())),
            },
            ParamType::Enum if self.values.contains(&text) => Value::String(text.clone()),
            ParamType::Enum => {
                return Err(self.invalid(format!(
                    "{text:?} is not one of: {}",
                    self.values.join(", ")
                )));
            }
            ParamType::List => unreachable!("handled above"),
        };
        if let (Some(pattern), Value::String(s)) = (&self.pattern, &out) {
            let re = Regex::new(&format!("^(?:{pattern})$"))
                .map_err(|e| self.invalid(format!("the pattern's regex is invalid: {e}")))?;
            if !re.is_match(s) {
                return Err(self.invalid(format!("{s:?} does not match {pattern}")));
            }
        }
        Ok(out)
    }

    /// A list value: a list, or comma-separated text; each item checked by the item type.
    fn validate_list(&self, value: &Value) -> Result<Value, ParamError> {
        let items = match value {
            Value::Array(items) => items.clone(),
            Value::String(s) => return self.parse_text(s),
            other => return Err(self.invalid(format!("expected a list, got {}", show(other)))),
        };
        let item_kind = match self.items {
            Some(ParamType::List) => {
                return Err(self.invalid("lists of lists are not supported"));
            }
            Some(kind) => kind,
            None => ParamType::String,
        };
        let item_spec = ParamSpec {
            kind: item_kind,
            name: format!("{}[]", self.name),
            items: None,
            ..self.clone()
        };
        items
            .iter()
            .map(|item| item_spec.validate(item))
            .collect::<Result<Vec<_>, _>>()
            .map(Value::Array)
    }

    /// Checks the schema entry itself (used when a pattern is loaded).
    pub fn check(&self) -> Result<(), String> {
        if self.name.is_empty() || !self.name.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Err(format!(
                "parameter name {:?} must be camelCase letters and digits",
                self.name
            ));
        }
        if self.required && self.default.is_some() {
            return Err(format!(
                "parameter {}: required and default exclude each other",
                self.name
            ));
        }
        if self.items == Some(ParamType::List)
            || (self.items.is_some() && self.kind != ParamType::List)
        {
            return Err(format!(
                "parameter {}: items applies to lists, and cannot itself be list",
                self.name
            ));
        }
        if self.kind == ParamType::Enum && self.values.is_empty() {
            return Err(format!("parameter {}: an enum needs values", self.name));
        }
        if self.role == Some(ParamRole::AppPort) && self.kind != ParamType::Port {
            return Err(format!(
                "parameter {}: role appPort needs type port",
                self.name
            ));
        }
        if let Some(pattern) = &self.pattern {
            Regex::new(pattern)
                .map_err(|e| format!("parameter {}: invalid pattern: {e}", self.name))?;
        }
        if let Some(default) = &self.default {
            self.validate(default)
                .map_err(|e| format!("default of {e}"))?;
        }
        Ok(())
    }
}

/// Validated parameters, keyed by name; every declared parameter is present (absent optional
/// ones are `null`). Their canonical JSON and its hash are computed once: a run renders and
/// records the same parameters for every object.
#[derive(Debug, Clone, Default)]
pub struct Params {
    values: Map<String, Value>,
    canonical: String,
    hash: String,
    /// The names that took their default (no value was given for them).
    defaulted: Vec<String>,
    /// Parameters left at their default whose default may come from the workload.
    from_workload: Vec<String>,
}

/// Equal values are equal parameters, however they were given.
impl PartialEq for Params {
    fn eq(&self, other: &Self) -> bool {
        self.values == other.values
    }
}

impl Params {
    /// Parameters with these values.
    pub fn new(values: Map<String, Value>) -> Self {
        let canonical = serde_json::to_string(&values).unwrap_or_default();
        let digest = Sha256::digest(canonical.as_bytes());
        let hex: String = digest.iter().take(8).map(|b| format!("{b:02x}")).collect();
        Params {
            values,
            canonical,
            hash: format!("sha256:{hex}"),
            defaulted: Vec::new(),
            from_workload: Vec::new(),
        }
    }

    /// These parameters with `name` set to `value` (no longer a default, nor taken from the
    /// workload).
    pub fn with(&self, name: &str, value: Value) -> Self {
        let mut values = self.values.clone();
        values.insert(name.to_string(), value);
        let mut out = Params::new(values);
        out.defaulted = self.defaulted.clone();
        out.defaulted.retain(|n| n != name);
        out.from_workload = self.from_workload.clone();
        out.from_workload.retain(|n| n != name);
        out
    }

    /// True when `name` took its default: no flag, values file or answer gave it.
    pub fn is_default(&self, name: &str) -> bool {
        self.defaulted.iter().any(|n| n == name)
    }

    /// The parameters left at their default whose value may come from the workload
    /// (`role: appPort`, not given).
    pub fn from_workload(&self) -> &[String] {
        &self.from_workload
    }

    /// The value of `name`.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.values.get(name).filter(|v| !v.is_null())
    }

    /// Every parameter, `null` for absent optional ones.
    pub fn values(&self) -> &Map<String, Value> {
        &self.values
    }

    /// The values as canonical JSON.
    pub fn canonical(&self) -> &str {
        &self.canonical
    }

    /// `sha256:` + the first 16 hex digits of the canonical JSON's hash (the tracking record's
    /// `paramsHash`).
    pub fn hash(&self) -> &str {
        &self.hash
    }
}

impl Serialize for Params {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.values.serialize(serializer)
    }
}

/// A parameter value as given: text (`--set`, a ConfigMap's data), parsed by the type's text
/// rules (lists comma-separated); or a typed value (a values file, a wizard's answer).
#[derive(Debug, Clone, PartialEq)]
pub enum Given {
    /// Text, e.g. `8080` or `a,b`.
    Text(String),
    /// A typed value, e.g. `8080` or `["a", "b"]`.
    Value(Value),
}

/// Parameter input for one pattern instance, in order: a later value for a name wins.
#[derive(Debug, Clone, Default)]
pub struct ParamInput {
    /// (name, value), in order.
    pub given: Vec<(String, Given)>,
}

impl ParamInput {
    /// Input of (name, text) pairs, as `--set` gives them.
    pub fn from_texts<N: Into<String>, T: Into<String>>(
        pairs: impl IntoIterator<Item = (N, T)>,
    ) -> Self {
        ParamInput {
            given: pairs
                .into_iter()
                .map(|(n, t)| (n.into(), Given::Text(t.into())))
                .collect(),
        }
    }

    /// Adds a value given as text.
    pub fn text(mut self, name: &str, text: &str) -> Self {
        self.given
            .push((name.to_string(), Given::Text(text.to_string())));
        self
    }

    /// Adds a typed value.
    pub fn value(mut self, name: &str, value: Value) -> Self {
        self.given.push((name.to_string(), Given::Value(value)));
        self
    }
}

/// Splits `NAME=VALUE`.
pub fn parse_set(arg: &str) -> Result<(String, String), ParamError> {
    match arg.split_once('=') {
        Some((name, value)) if !name.trim().is_empty() => {
            Ok((name.trim().to_string(), value.to_string()))
        }
        _ => Err(ParamError::Syntax(arg.to_string())),
    }
}

/// The nearest of `candidates` to `name`, for "did you mean" hints.
pub fn nearest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|c| (strsim::damerau_levenshtein(name, c), c))
        .filter(|(d, c)| *d <= 2.max(c.len() / 3))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// Validates `input` against `specs`: unknown names and invalid values are errors, defaults are
/// filled in, and every missing required parameter is reported at once.
pub fn resolve(
    pattern: &str,
    specs: &[ParamSpec],
    input: &ParamInput,
) -> Result<Params, ParamError> {
    let unknown = |name: &str| {
        let names: Vec<&str> = specs.iter().map(|s| s.name.as_str()).collect();
        let hint = match nearest(name, names.iter().copied()) {
            Some(n) => format!(": did you mean {n:?}?"),
            None if names.is_empty() => " (it takes no parameters)".to_string(),
            None => format!(" (parameters: {})", names.join(", ")),
        };
        ParamError::Unknown {
            name: name.to_string(),
            pattern: pattern.to_string(),
            hint,
        }
    };
    let mut given: BTreeMap<&str, Value> = BTreeMap::new();
    for (name, value) in &input.given {
        let spec = specs
            .iter()
            .find(|s| &s.name == name)
            .ok_or_else(|| unknown(name))?;
        let value = match value {
            Given::Text(text) => spec.parse_text(text)?,
            Given::Value(value) => spec.validate(value)?,
        };
        given.insert(&spec.name, value);
    }
    let mut out = Map::new();
    let mut missing = Vec::new();
    let mut defaulted = Vec::new();
    let mut from_workload = Vec::new();
    for spec in specs {
        if spec.role == Some(ParamRole::AppPort) && !given.contains_key(spec.name.as_str()) {
            from_workload.push(spec.name.clone());
        }
        let value = match given.remove(spec.name.as_str()) {
            Some(v) => v,
            None => match &spec.default {
                Some(d) => {
                    defaulted.push(spec.name.clone());
                    spec.validate(d)?
                }
                None if spec.required => {
                    missing.push(spec.name.clone());
                    continue;
                }
                None => Value::Null,
            },
        };
        out.insert(spec.name.clone(), value);
    }
    if !missing.is_empty() {
        return Err(ParamError::Missing {
            pattern: pattern.to_string(),
            names: missing,
        });
    }
    let mut params = Params::new(out);
    params.defaulted = defaulted;
    params.from_workload = from_workload;
    Ok(params)
}

#[cfg(test)]
mod tests;
