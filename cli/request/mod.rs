//! The one request model: what a run asks for, whatever it came from (flags, values files, the
//! wizard's answers, `new`'s answers, a KRM functionConfig). Commands parse their input into a
//! [`Request`]; [`Request::resolve`] checks it against the catalogue and returns the validated
//! pattern requests, or the parameters a person still has to answer (typed answers go back in
//! with [`Request::answer`], never as `--set` text).

use serde_json::Value;

use crate::engine::catalogue::{Catalogue, CatalogueError};
use crate::engine::merge::{HelperPosition, MergeOptions};
use crate::engine::params::{self, Given, ParamError, ParamInput, is_dns_label};
use crate::engine::pattern::TargetInfo;
use crate::engine::process::PatternRequest;

mod sources;
pub mod values;

pub use sources::{SandboxLimits, Sources, TargetError, target_info};

pub use values::{ValuesError, ValuesFile, WorkloadValues};

/// Where a parameter value came from, for messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// `--set`.
    Flag,
    /// A values file (or a PatternTransformer's `values`).
    ValuesFile,
    /// A ConfigMap functionConfig's `data`.
    ConfigData,
    /// An answer to a question.
    Answer,
}

impl Origin {
    fn describe(self, scope: Option<&str>, name: &str) -> String {
        let key = match scope {
            Some(scope) => format!("{scope}.{name}"),
            None => name.to_string(),
        };
        match self {
            Origin::Flag => format!("--set {key}"),
            Origin::ValuesFile => format!("values file: {key}"),
            Origin::ConfigData => format!("function config data.{key}"),
            Origin::Answer => format!("answer {key}"),
        }
    }
}

/// One parameter value of a run.
#[derive(Debug, Clone, PartialEq)]
pub struct ParamEntry {
    /// The pattern id or instance it is for; `None`: whichever pattern takes `name`.
    pub scope: Option<String>,
    /// The parameter.
    pub name: String,
    /// The value.
    pub value: Given,
    /// Where it came from.
    pub origin: Origin,
}

/// One pattern instance of a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatternChoice {
    /// The pattern id.
    pub id: String,
    /// The instance name (the id unless renamed).
    pub instance: String,
}

/// What a run asks for.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Request {
    /// The pattern instances, applied in order.
    pub patterns: Vec<PatternChoice>,
    /// Parameter values, in precedence order (a later value for a parameter wins).
    pub params: Vec<ParamEntry>,
    /// The app container that gets mounts and env (default: the workload's main container).
    pub main_container: Option<String>,
    /// The target cluster's capabilities.
    pub target: TargetInfo,
    /// Where init containers and native sidecars go (`--position`).
    pub position: Option<HelperPosition>,
    /// Add helpers that open ports to `hostNetwork` pods (`--allow-host-network`).
    pub allow_host_network: bool,
    /// Where patterns come from.
    pub sources: Sources,
}

/// A request that cannot be right, whatever is answered: each is a usage error (exit 2).
#[derive(Debug, thiserror::Error)]
pub enum RequestError {
    /// No pattern named.
    #[error("name at least one pattern (see `kubectl pattern list`)")]
    NoPattern,
    /// `--name` with several patterns.
    #[error("--name names one pattern instance; give exactly one pattern with it")]
    NameWithSeveral,
    /// An instance name that is not a DNS label.
    #[error("instance name {0:?} must be a lower-case DNS label (letters, digits, '-')")]
    InstanceName(String),
    /// The same instance twice.
    #[error("pattern {0} is given twice; use --name to apply it under another name")]
    Twice(String),
    /// An unknown or broken pattern.
    #[error(transparent)]
    Catalogue(#[from] CatalogueError),
    /// A scoped value whose scope is not a pattern of the run.
    #[error("{what}: {scope:?} is not a pattern of this run ({patterns}); use PATTERN.NAME=VALUE")]
    UnknownScope {
        /// `--set x.y`, `values file: x.y`…
        what: String,
        /// The scope given.
        scope: String,
        /// The run's patterns and instances.
        patterns: String,
    },
    /// A value no pattern of a several-pattern run takes.
    #[error(
        "{what}: no pattern of this run takes that parameter; use PATTERN.NAME=VALUE with one of: {patterns}"
    )]
    UnknownName {
        /// `--set x`, `values file: x`…
        what: String,
        /// The run's patterns.
        patterns: String,
    },
    /// An unknown parameter or an invalid value.
    #[error(transparent)]
    Param(#[from] ParamError),
}

impl RequestError {
    /// True when the request itself is wrong (exit code 2); a pattern that exists but does
    /// not load (a broken template or plugin) is a failure (1).
    pub fn is_usage(&self) -> bool {
        !matches!(self, RequestError::Catalogue(CatalogueError::Broken { .. }))
    }
}

/// The required parameters one pattern instance lacks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MissingFor {
    /// The pattern id.
    pub pattern: String,
    /// The instance name (the `--set INSTANCE.NAME=…` scope).
    pub instance: String,
    /// Every missing parameter, in schema order.
    pub names: Vec<String>,
}

/// Required parameters that were not given, for every pattern of the run at once.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct MissingParams {
    /// Per pattern instance.
    pub patterns: Vec<MissingFor>,
    /// Several patterns in the run: `--set` needs the PATTERN. scope.
    pub several: bool,
}

impl std::fmt::Display for MissingParams {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let lines: Vec<String> = self
            .patterns
            .iter()
            .map(|m| {
                let sets: Vec<String> = m
                    .names
                    .iter()
                    .map(|n| match self.several {
                        true => format!("--set {}.{n}=…", m.instance),
                        false => format!("--set {n}=…"),
                    })
                    .collect();
                format!(
                    "pattern {} needs {}: set {}",
                    m.pattern,
                    m.names.join(", "),
                    sets.join(" ")
                )
            })
            .collect();
        match lines.as_slice() {
            [one] => write!(f, "{one}"),
            _ => write!(f, "missing required parameters:\n  {}", lines.join("\n  ")),
        }?;
        write!(f, " (or run with -i on a terminal to be asked)")
    }
}

/// What resolving a request gives.
pub enum Resolution {
    /// Every pattern, with validated and defaulted parameters.
    Resolved(Vec<PatternRequest>),
    /// Required parameters still to be answered.
    NeedsInput(MissingParams),
}

impl Request {
    /// A request for `ids` (as instances named `name`, when given: one pattern only).
    pub fn for_patterns(ids: &[String], name: Option<&str>) -> Result<Self, RequestError> {
        if name.is_some() && ids.len() != 1 {
            return Err(RequestError::NameWithSeveral);
        }
        let mut patterns: Vec<PatternChoice> = Vec::new();
        for id in ids {
            let instance = name.unwrap_or(id).to_string();
            if !is_dns_label(&instance) {
                return Err(RequestError::InstanceName(instance));
            }
            if patterns.iter().any(|p| p.instance == instance) {
                return Err(RequestError::Twice(id.clone()));
            }
            patterns.push(PatternChoice {
                id: id.clone(),
                instance,
            });
        }
        Ok(Request {
            patterns,
            ..Default::default()
        })
    }

    /// Adds `--set` arguments (`NAME=VALUE` or `PATTERN.NAME=VALUE`).
    pub fn set_flags(&mut self, sets: &[String]) -> Result<(), RequestError> {
        for arg in sets {
            let (key, value) = params::parse_set(arg)?;
            self.push_keyed(&key, Given::Text(value), Origin::Flag);
        }
        Ok(())
    }

    /// Adds the parameters of a values file: its `patterns` sections are scoped to their
    /// pattern, a legacy flat mapping's keys are not.
    pub fn values_file(&mut self, file: &ValuesFile) {
        for (name, value) in &file.unscoped {
            self.push(None, name, Given::Value(value.clone()), Origin::ValuesFile);
        }
        for (scope, section) in &file.patterns {
            for (name, value) in section.as_object().into_iter().flatten() {
                self.push(
                    Some(scope),
                    name,
                    Given::Value(value.clone()),
                    Origin::ValuesFile,
                );
            }
        }
    }

    /// Adds a value given as `KEY=VALUE` text (KEY may be `PATTERN.NAME`).
    pub fn push_keyed(&mut self, key: &str, value: Given, origin: Origin) {
        match key.split_once('.') {
            Some((scope, name)) => self.push(Some(scope), name, value, origin),
            None => self.push(None, key, value, origin),
        }
    }

    fn push(&mut self, scope: Option<&str>, name: &str, value: Given, origin: Origin) {
        self.params.push(ParamEntry {
            scope: scope.map(str::to_string),
            name: name.to_string(),
            value,
            origin,
        });
    }

    /// A person's typed answer for `instance`'s parameter `name`; it wins over every other
    /// value.
    pub fn answer(&mut self, instance: &str, name: &str, value: Value) {
        self.push(Some(instance), name, Given::Value(value), Origin::Answer);
    }

    /// The merge options of the run.
    pub fn merge_options(&self) -> MergeOptions {
        MergeOptions {
            main_container: self.main_container.clone(),
            target: self.target,
            position: self.position.clone(),
            allow_host_network: self.allow_host_network,
        }
    }

    /// Checks the request against `catalogue`: the patterns exist, every value names a
    /// pattern and a parameter of the run and is valid; then either every pattern's
    /// parameters, or every required parameter still missing.
    pub fn resolve(&self, catalogue: &Catalogue) -> Result<Resolution, RequestError> {
        let several = self.patterns.len() > 1;
        let mut loaded = Vec::new();
        for choice in &self.patterns {
            loaded.push((choice, catalogue.get(&choice.id)?));
        }
        self.check_keys(&loaded)?;
        let mut requests = Vec::new();
        let mut missing = Vec::new();
        for (choice, pattern) in loaded {
            let input = self.input_for(choice, |n| {
                pattern.spec().params.iter().any(|p| p.name == n)
            });
            match params::resolve(&choice.id, &pattern.spec().params, &input) {
                Ok(params) => requests.push(PatternRequest {
                    pattern,
                    instance: choice.instance.clone(),
                    params,
                }),
                Err(ParamError::Missing { names, .. }) => missing.push(MissingFor {
                    pattern: choice.id.clone(),
                    instance: choice.instance.clone(),
                    names,
                }),
                Err(e) => return Err(e.into()),
            }
        }
        Ok(match missing.is_empty() {
            true => Resolution::Resolved(requests),
            false => Resolution::NeedsInput(MissingParams {
                patterns: missing,
                several,
            }),
        })
    }

    /// The values given for `choice` (whose pattern declares the names `declared` accepts),
    /// in precedence order: scoped ones, and unscoped ones it takes.
    pub fn input_for(&self, choice: &PatternChoice, declared: impl Fn(&str) -> bool) -> ParamInput {
        let several = self.patterns.len() > 1;
        ParamInput {
            given: self
                .params
                .iter()
                .filter(|e| match &e.scope {
                    Some(scope) => *scope == choice.instance || *scope == choice.id,
                    None => !several || declared(&e.name),
                })
                .map(|e| (e.name.clone(), e.value.clone()))
                .collect(),
        }
    }

    /// Every scoped value names a pattern of the run; in a several-pattern run, every
    /// unscoped value is a parameter of at least one of them.
    fn check_keys(
        &self,
        loaded: &[(
            &PatternChoice,
            std::sync::Arc<dyn crate::engine::pattern::Pattern>,
        )],
    ) -> Result<(), RequestError> {
        let mut scopes: Vec<&str> = self
            .patterns
            .iter()
            .flat_map(|p| [p.id.as_str(), p.instance.as_str()])
            .collect();
        scopes.sort_unstable();
        scopes.dedup();
        let ids: Vec<&str> = self.patterns.iter().map(|p| p.id.as_str()).collect();
        for entry in &self.params {
            let what = || entry.origin.describe(entry.scope.as_deref(), &entry.name);
            match &entry.scope {
                Some(scope) if !scopes.contains(&scope.as_str()) => {
                    return Err(RequestError::UnknownScope {
                        what: what(),
                        scope: scope.clone(),
                        patterns: scopes.join(", "),
                    });
                }
                None if self.patterns.len() > 1
                    && !loaded
                        .iter()
                        .any(|(_, p)| p.spec().params.iter().any(|s| s.name == entry.name)) =>
                {
                    return Err(RequestError::UnknownName {
                        what: what(),
                        patterns: ids.join(", "),
                    });
                }
                _ => {}
            }
        }
        Ok(())
    }
}

/// The parameters of `requests` that differ from their defaults, per instance in schema
/// order: what a reproduction of the run must set.
pub fn non_default_params(requests: &[PatternRequest]) -> Vec<SetParam> {
    let mut out = Vec::new();
    for r in requests {
        for spec in &r.pattern.spec().params {
            let Some(value) = r.params.get(&spec.name) else {
                continue;
            };
            let default = spec.default.as_ref().and_then(|d| spec.validate(d).ok());
            if default.as_ref() != Some(value) {
                out.push(SetParam {
                    instance: r.instance.clone(),
                    name: spec.name.clone(),
                    value: value.clone(),
                    secret: spec.secret,
                });
            }
        }
    }
    out
}

/// A parameter whose value differs from its default.
#[derive(Debug, Clone, PartialEq)]
pub struct SetParam {
    /// The instance.
    pub instance: String,
    /// The parameter.
    pub name: String,
    /// Its value.
    pub value: Value,
    /// A secret: never written to a file or printed.
    pub secret: bool,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::process::{Action, AddAction};
    use serde_json::json;

    fn catalogue() -> Catalogue {
        Catalogue::builtin()
    }

    fn resolved(request: &Request) -> Vec<PatternRequest> {
        match request.resolve(&catalogue()).unwrap() {
            Resolution::Resolved(r) => r,
            Resolution::NeedsInput(m) => panic!("missing {m}"),
        }
    }

    #[test]
    fn a_typed_answer_completes_the_request_without_any_set_text() {
        let ids = ["wait-for".to_string(), "log-shipper".to_string()];
        let mut request = Request::for_patterns(&ids, None).unwrap();
        let Resolution::NeedsInput(missing) = request.resolve(&catalogue()).unwrap() else {
            panic!("wait-for needs host");
        };
        assert_eq!(missing.patterns[0].names, ["host"]);
        request.answer("wait-for", "host", json!("db.shop.svc"));
        request.answer("wait-for", "port", json!(5432));
        assert!(
            request
                .params
                .iter()
                .all(|e| matches!(e.value, Given::Value(_)))
        );
        let requests = resolved(&request);
        assert_eq!(requests[0].params.get("host"), Some(&json!("db.shop.svc")));
        assert_eq!(requests[0].params.get("port"), Some(&json!(5432)));
        // …and reach the rendered helper.
        let mut object = json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web"},
            "spec": {"template": {"spec": {"containers": [{"name": "web", "image": "nginx:1.27.3"}]}}}});
        let action = AddAction {
            requests,
            options: request.merge_options(),
        };
        action.run(&mut object).unwrap();
        let init = &object["spec"]["template"]["spec"]["initContainers"];
        let wait_for = init
            .as_array()
            .and_then(|list| list.iter().find(|c| c["name"] == "wait-for"))
            .expect("the wait-for init container");
        let rendered = wait_for.to_string();
        assert!(
            rendered.contains("db.shop.svc") && rendered.contains("5432"),
            "{rendered}"
        );
    }

    #[test]
    fn later_values_win_and_scopes_pick_their_pattern() {
        let ids = ["wait-for".to_string(), "redis-proxy".to_string()];
        let mut request = Request::for_patterns(&ids, None).unwrap();
        request.values_file(&ValuesFile::from_patterns([(
            "wait-for".to_string(),
            [("host".to_string(), json!("a.svc"))].into_iter().collect(),
        )]));
        request
            .set_flags(&[
                "wait-for.host=b.svc".into(),
                "servers=redis.cache.svc:6379".into(),
            ])
            .unwrap();
        let requests = resolved(&request);
        assert_eq!(requests[0].params.get("host"), Some(&json!("b.svc")));
        assert_eq!(
            requests[1].params.get("servers"),
            Some(&json!("redis.cache.svc:6379"))
        );
    }

    #[test]
    fn values_for_no_pattern_of_the_run_are_usage_errors() {
        let ids = ["wait-for".to_string(), "log-shipper".to_string()];
        let mut request = Request::for_patterns(&ids, None).unwrap();
        request.set_flags(&["nope.host=x".into()]).unwrap();
        assert!(matches!(
            request.resolve(&catalogue()),
            Err(RequestError::UnknownScope { .. })
        ));
        let mut request = Request::for_patterns(&ids, None).unwrap();
        request.set_flags(&["hostt=x".into()]).unwrap();
        let Err(RequestError::UnknownName { what, .. }) = request.resolve(&catalogue()) else {
            panic!("expected UnknownName");
        };
        assert_eq!(what, "--set hostt");
    }

    #[test]
    fn instance_names_are_checked() {
        assert!(matches!(
            Request::for_patterns(&["a".into(), "b".into()], Some("x")),
            Err(RequestError::NameWithSeveral)
        ));
        assert!(matches!(
            Request::for_patterns(&["log-shipper".into()], Some("Bad_Name")),
            Err(RequestError::InstanceName(_))
        ));
        assert!(matches!(
            Request::for_patterns(&["log-shipper".into(), "log-shipper".into()], None),
            Err(RequestError::Twice(_))
        ));
    }
}
