//! What a plugin says about itself: [`PatternInfo`], its [`Docs`] and typed [`Param`]s.

use serde_json::Value;

/// The multi-container pattern a plugin implements, and the type of a parameter (the host
/// validates values against it before `render`): the contract's own types, generated from
/// `wit/plugin.wit`, so the SDK keeps no copy of them.
pub use crate::bindings::kubectl_pattern::plugin::types::{ParamType, PatternKind};

/// The documentation `kubectl pattern explain` shows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Docs {
    /// What the pattern does.
    pub description: String,
    /// When to use it.
    pub use_when: String,
    /// When not to, and what to do instead.
    pub avoid_when: String,
    /// A small text diagram of the pod.
    pub diagram: String,
}

/// One parameter, built with the typed constructors and chained setters:
/// `Param::port("port", "Listen port").default(8080)`.
#[derive(Debug, Clone, PartialEq)]
pub struct Param {
    /// camelCase name, set with `--set name=value`.
    pub name: String,
    /// The value's type.
    pub kind: ParamType,
    /// What it does.
    pub description: String,
    /// The default value, if any.
    pub default: Option<Value>,
    /// Must be given (no default).
    pub required: bool,
    /// Allowed values of an enum.
    pub values: Vec<String>,
    /// A regex a string (or each list item) must match in full.
    pub pattern: Option<String>,
    /// Lower bound of an int.
    pub min: Option<i64>,
    /// Upper bound of an int.
    pub max: Option<i64>,
    /// The type of each item of a list.
    pub items: Option<ParamType>,
    /// Masked in prompts and reports.
    pub secret: bool,
}

impl Param {
    /// A parameter of any type.
    pub fn new(name: impl Into<String>, kind: ParamType, description: impl Into<String>) -> Self {
        Param {
            name: name.into(),
            kind,
            description: description.into(),
            default: None,
            required: false,
            values: Vec::new(),
            pattern: None,
            min: None,
            max: None,
            items: None,
            secret: false,
        }
    }
    /// Any text.
    pub fn string(name: impl Into<String>, description: impl Into<String>) -> Self {
        Self::new(name, ParamType::String, description)
    }
    /// A whole number.
    pub fn int(name: impl Into<String>, description: impl Into<String>) -> Self {
        Self::new(name, ParamType::Int, description)
    }
    /// true or false.
    pub fn bool(name: impl Into<String>, description: impl Into<String>) -> Self {
        Self::new(name, ParamType::Bool, description)
    }
    /// A port number (1-65535).
    pub fn port(name: impl Into<String>, description: impl Into<String>) -> Self {
        Self::new(name, ParamType::Port, description)
    }
    /// A resource quantity (100m, 64Mi).
    pub fn quantity(name: impl Into<String>, description: impl Into<String>) -> Self {
        Self::new(name, ParamType::Quantity, description)
    }
    /// An OCI image reference.
    pub fn image(name: impl Into<String>, description: impl Into<String>) -> Self {
        Self::new(name, ParamType::Image, description)
    }
    /// A DNS subdomain (RFC 1123).
    pub fn dns_name(name: impl Into<String>, description: impl Into<String>) -> Self {
        Self::new(name, ParamType::DnsName, description)
    }
    /// A Go-style duration (1m30s).
    pub fn duration(name: impl Into<String>, description: impl Into<String>) -> Self {
        Self::new(name, ParamType::Duration, description)
    }
    /// One of `values`.
    pub fn enumeration<I, S>(
        name: impl Into<String>,
        description: impl Into<String>,
        values: I,
    ) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let mut p = Self::new(name, ParamType::Enum, description);
        p.values = values.into_iter().map(Into::into).collect();
        p
    }
    /// A list whose items have type `items`.
    pub fn list(name: impl Into<String>, description: impl Into<String>, items: ParamType) -> Self {
        let mut p = Self::new(name, ParamType::List, description);
        p.items = Some(items);
        p
    }

    /// Sets the default (any JSON value: `8080`, `"info"`, `json!(["a"])`).
    pub fn default(mut self, value: impl Into<Value>) -> Self {
        self.default = Some(value.into());
        self
    }
    /// Makes the parameter mandatory.
    pub fn required(mut self) -> Self {
        self.required = true;
        self
    }
    /// A regex the value (or each list item) must match in full.
    pub fn pattern(mut self, regex: impl Into<String>) -> Self {
        self.pattern = Some(regex.into());
        self
    }
    /// Lower bound of an int.
    pub fn min(mut self, min: i64) -> Self {
        self.min = Some(min);
        self
    }
    /// Upper bound of an int.
    pub fn max(mut self, max: i64) -> Self {
        self.max = Some(max);
        self
    }
    /// Masks the value in prompts and reports.
    pub fn secret(mut self) -> Self {
        self.secret = true;
        self
    }
}

/// What a plugin says about itself. Must depend on nothing but the plugin: the host caches it.
#[derive(Debug, Clone, PartialEq)]
pub struct PatternInfo {
    /// The id used on the command line: a lower-case DNS label.
    pub id: String,
    /// Which pattern it implements.
    pub kind: PatternKind,
    /// The plugin's own semver version.
    pub version: String,
    /// One line.
    pub summary: String,
    /// Documentation for `explain`.
    pub docs: Docs,
    /// The parameters.
    pub params: Vec<Param>,
    /// Example values of parameters (name, value), shown by `explain` in an example command.
    pub examples: Vec<(String, Value)>,
}

impl PatternInfo {
    /// Starts a description; add [`docs`](Self::docs) and [`param`](Self::param)s.
    pub fn new(
        id: impl Into<String>,
        kind: PatternKind,
        version: impl Into<String>,
        summary: impl Into<String>,
    ) -> Self {
        PatternInfo {
            id: id.into(),
            kind,
            version: version.into(),
            summary: summary.into(),
            docs: Docs::default(),
            params: Vec::new(),
            examples: Vec::new(),
        }
    }
    /// Sets the documentation.
    pub fn docs(
        mut self,
        description: impl Into<String>,
        use_when: impl Into<String>,
        avoid_when: impl Into<String>,
        diagram: impl Into<String>,
    ) -> Self {
        self.docs = Docs {
            description: description.into(),
            use_when: use_when.into(),
            avoid_when: avoid_when.into(),
            diagram: diagram.into(),
        };
        self
    }
    /// Adds a parameter.
    pub fn param(mut self, param: Param) -> Self {
        self.params.push(param);
        self
    }
    /// Adds an example value of a parameter, for `explain`'s example command (give one for
    /// every required parameter; the host checks it against the parameter).
    pub fn example(mut self, name: impl Into<String>, value: impl Into<Value>) -> Self {
        self.examples.push((name.into(), value.into()));
        self
    }
    /// Adds the conventional helper resource parameters `cpuRequest`, `cpuLimit`,
    /// `memoryRequest` and `memoryLimit` (read them back with `Request::resources`).
    pub fn resource_params(
        self,
        cpu_request: &str,
        cpu_limit: &str,
        mem_request: &str,
        mem_limit: &str,
    ) -> Self {
        self.param(Param::quantity("cpuRequest", "CPU request of the helper.").default(cpu_request))
            .param(Param::quantity("cpuLimit", "CPU limit of the helper.").default(cpu_limit))
            .param(
                Param::quantity("memoryRequest", "Memory request of the helper.")
                    .default(mem_request),
            )
            .param(Param::quantity("memoryLimit", "Memory limit of the helper.").default(mem_limit))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn builds_params_and_info() {
        let info = PatternInfo::new("demo", PatternKind::Sidecar, "1.0.0", "Demo")
            .docs("d", "u", "a", "[pod]")
            .param(Param::port("port", "Listen port").default(8080))
            .param(Param::enumeration("level", "Log level", ["info", "debug"]).default("info"))
            .param(Param::list("hosts", "Hosts", ParamType::DnsName).required())
            .param(Param::int("n", "Count").min(1).max(5))
            .resource_params("10m", "100m", "16Mi", "64Mi")
            .example("hosts", json!(["db.example.com"]));
        assert_eq!(info.params.len(), 8);
        assert_eq!(info.params[0].default, Some(json!(8080)));
        assert_eq!(info.params[1].values, vec!["info", "debug"]);
        assert_eq!(info.params[2].items, Some(ParamType::DnsName));
        assert!(info.params[2].required);
        assert_eq!((info.params[3].min, info.params[3].max), (Some(1), Some(5)));
        assert_eq!(info.params[7].name, "memoryLimit");
        assert_eq!(info.docs.diagram, "[pod]");
        assert_eq!(
            info.examples,
            vec![("hosts".to_owned(), json!(["db.example.com"]))]
        );
    }
}
