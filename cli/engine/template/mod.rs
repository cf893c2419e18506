//! Template patterns: `pattern.yaml` metadata plus handlebars templates rendering a contribution.
//!
//! Rendering is strict, and every `{{expression}}` is written as a double-quoted YAML string, so a
//! parameter value can never add keys; raw (`{{{…}}}`) output is refused at load time.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use handlebars::Handlebars;
use serde::Deserialize;
use serde_json::{Value, json};

use super::contribution::{Contribution, ContributionError};
use super::params::{ParamSpec, is_dns_label};
use super::pattern::{
    Pattern, PatternDocs, PatternError, PatternKind, PatternSource, PatternSpec, RenderContext,
};
use super::yaml;

mod dependence;
mod helpers;

pub use helpers::Refusal;
use helpers::new_registry;

/// Raw (unescaped) output in any spelling handlebars accepts: `{{{x}}}`, `{{&x}}`, with
/// whitespace control (`{{~{x}~}}`) or spaces (`{{ &x}}`, `{{ {x} }}`).
static RAW_OUTPUT: std::sync::LazyLock<regex::Regex> =
    std::sync::LazyLock::new(|| regex::Regex::new(r"\{\{~?\s*[{&]").expect("valid regex"));

/// The template every pattern must have.
pub const ENTRY_TEMPLATE: &str = "contribution";

/// A template pattern could not be loaded.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{origin}: {message}")]
pub struct LoadError {
    /// The file or directory at fault.
    pub origin: String,
    /// What is wrong and how to fix it.
    pub message: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RawFile {
    api_version: String,
    kind: String,
    metadata: RawMetadata,
    spec: RawSpec,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMetadata {
    name: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RawSpec {
    #[serde(rename = "type")]
    kind: PatternKind,
    version: String,
    summary: String,
    #[serde(flatten)]
    docs: PatternDocs,
    #[serde(default)]
    params: Vec<ParamSpec>,
    #[serde(default)]
    examples: std::collections::BTreeMap<String, Value>,
}

/// The files of one template pattern.
#[derive(Debug, Clone)]
pub struct TemplateFiles {
    /// The directory name (must equal the pattern id).
    pub dir_name: String,
    /// Where the files are, for messages.
    pub origin: PathBuf,
    /// `pattern.yaml`.
    pub pattern_yaml: String,
    /// `*.yaml.hbs` files: (stem, source).
    pub templates: Vec<(String, String)>,
}

/// A pattern rendered from handlebars templates.
pub struct TemplatePattern {
    spec: PatternSpec,
    registry: Handlebars<'static>,
    workload_dependent: bool,
    cache: Mutex<HashMap<String, Arc<Contribution>>>,
}

impl TemplatePattern {
    /// Loads and checks a pattern; `shared` are partials available to every pattern.
    pub fn load(
        files: &TemplateFiles,
        shared: &[(String, String)],
        source: PatternSource,
    ) -> Result<Self, LoadError> {
        let origin = files.origin.display().to_string();
        let fail = |message: String| LoadError {
            origin: origin.clone(),
            message,
        };
        let raw: RawFile = yaml::from_str(&files.pattern_yaml).map_err(|e| {
            fail(format!(
                "pattern.yaml line {}: {} (see docs/templates.md for the format)",
                e.line.unwrap_or(0),
                e.message
            ))
        })?;
        if raw.api_version != "kubectl-pattern/v1" || raw.kind != "Pattern" {
            return Err(fail(format!(
                "pattern.yaml must start with apiVersion: kubectl-pattern/v1 and kind: Pattern (found {} {})",
                raw.api_version, raw.kind
            )));
        }
        let id = raw.metadata.name;
        if !is_dns_label(&id) || id != files.dir_name {
            return Err(fail(format!(
                "metadata.name {id:?} must be a lower-case DNS label equal to the directory name {:?}",
                files.dir_name
            )));
        }
        let mut spec = PatternSpec {
            id,
            kind: raw.spec.kind,
            version: raw.spec.version,
            summary: raw.spec.summary,
            docs: raw.spec.docs,
            params: raw.spec.params,
            examples: raw.spec.examples,
            source,
        };
        spec.check()
            .map_err(|e| fail(format!("pattern.yaml: {e}")))?;
        spec.summary = spec.summary.trim().to_string();
        let mut registry = new_registry();
        let mut has_entry = false;
        for (name, text) in shared.iter().chain(&files.templates) {
            if RAW_OUTPUT.is_match(text) {
                return Err(fail(format!(
                    "{name}.yaml.hbs uses raw output ({{{{{{…}}}}}} or {{{{&…}}}}), which could inject YAML; use {{{{x}}}}, {{{{num x}}}} or {{{{json x}}}}"
                )));
            }
            has_entry |= name == ENTRY_TEMPLATE;
            let result = if name == ENTRY_TEMPLATE {
                registry.register_template_string(name, text)
            } else {
                registry.register_partial(name, text.as_str())
            };
            result.map_err(|e| fail(format!("{name}.yaml.hbs: {e}")))?;
        }
        if !has_entry {
            return Err(fail(format!("no {ENTRY_TEMPLATE}.yaml.hbs")));
        }
        let workload_dependent = dependence::reads_workload(&registry, ENTRY_TEMPLATE);
        Ok(TemplatePattern {
            spec,
            registry,
            workload_dependent,
            cache: Mutex::new(HashMap::new()),
        })
    }

    fn render_uncached(&self, data: &Value) -> Result<Contribution, PatternError> {
        let text =
            self.registry
                .render(ENTRY_TEMPLATE, data)
                .map_err(|e| match Refusal::find(&e) {
                    // `{{fail}}`, possibly wrapped by the blocks and partials around it.
                    Some(refusal) => PatternError::Refused {
                        pattern: self.spec.id.clone(),
                        message: refusal.0.clone(),
                    },
                    None => PatternError::Render {
                        pattern: self.spec.id.clone(),
                        template: format!("{ENTRY_TEMPLATE}.yaml.hbs"),
                        message: e.to_string(),
                    },
                })?;
        let invalid = |message: String| PatternError::InvalidContribution {
            pattern: self.spec.id.clone(),
            message,
        };
        let at_line = |line: Option<u64>, message: String| {
            let line = line.unwrap_or(0) as usize;
            let context = text.lines().nth(line.saturating_sub(1)).unwrap_or_default();
            format!("rendered line {line} ({}): {message}", context.trim())
        };
        let contribution = Contribution::parse(&text).map_err(|e| match e {
            ContributionError::Yaml(e) => invalid(at_line(e.line, e.message)),
            ContributionError::Fragments(problems) => invalid(
                problems
                    .iter()
                    .flat_map(|p| p.problems().into_iter().map(|m| at_line(p.line, m)))
                    .collect::<Vec<_>>()
                    .join("; "),
            ),
        })?;
        contribution
            .check()
            .map_err(|problems| invalid(problems.join("; ")))?;
        Ok(contribution)
    }
}

impl Pattern for TemplatePattern {
    fn spec(&self) -> &PatternSpec {
        &self.spec
    }

    fn render(&self, ctx: &RenderContext<'_>) -> Result<Arc<Contribution>, PatternError> {
        let native = ctx.target.native_sidecars();
        let version = ctx.target.version_string();
        // Everything the data holds but the workload: the cache key, found without building it.
        let key = (!self.workload_dependent).then(|| {
            format!(
                "{}\n{native}\n{version}\n{}",
                ctx.instance,
                ctx.params.canonical()
            )
        });
        if let Some(key) = &key
            && let Some(hit) = self.cache.lock().ok().and_then(|c| c.get(key).cloned())
        {
            return Ok(hit);
        }
        let mut data = json!({
            "instance": ctx.instance,
            "params": ctx.params.values(),
            "pattern": {"id": self.spec.id, "version": self.spec.version},
            "target": {"nativeSidecars": native, "kubeVersion": version},
        });
        if let Some(key) = key {
            let contribution = Arc::new(self.render_uncached(&data)?);
            if let Ok(mut cache) = self.cache.lock() {
                cache.insert(key, contribution.clone());
            }
            return Ok(contribution);
        }
        data["workload"] = serde_json::to_value(ctx.workload).unwrap_or(Value::Null);
        self.render_uncached(&data).map(Arc::new)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::params::{self, ParamInput};
    use crate::pattern::{TargetInfo, WorkloadInfo};

    const PATTERN: &str = "apiVersion: kubectl-pattern/v1\nkind: Pattern\nmetadata:\n  name: t\nspec:\n  type: sidecar\n  version: 1.0.0\n  summary: test\n  description: d\n  useWhen: u\n  avoidWhen: a\n  diagram: x\n  params:\n  - name: msg\n    type: string\n    default: hi\n  - name: port\n    type: port\n    default: 9000\n";

    fn load(template: &str) -> Result<TemplatePattern, LoadError> {
        let files = TemplateFiles {
            dir_name: "t".into(),
            origin: "t".into(),
            pattern_yaml: PATTERN.into(),
            templates: vec![("contribution".into(), template.into())],
        };
        TemplatePattern::load(&files, &[], PatternSource::Builtin)
    }

    fn render(
        p: &TemplatePattern,
        sets: &[(&str, &str)],
    ) -> Result<Arc<Contribution>, PatternError> {
        let input = ParamInput::from_texts(sets.iter().copied());
        let params = params::resolve("t", &p.spec().params, &input).unwrap();
        let workload = WorkloadInfo {
            kind: "Deployment".into(),
            name: "web".into(),
            namespace: String::new(),
            labels: json!({}),
            annotations: json!({}),
            main_container: "app".into(),
            ports: json!([]),
        };
        let ctx = RenderContext {
            workload: &workload,
            object: &Value::Null,
            params: &params,
            instance: "t",
            target: &TargetInfo::default(),
        };
        p.render(&ctx)
    }

    const TEMPLATE: &str = "containers:\n- name: {{instance}}\n  image: busybox:1.37.0\n  env:\n  - name: MSG\n    value: {{params.msg}}\n  ports:\n  - name: {{concat instance \"-p\"}}\n    containerPort: {{num params.port}}\n";

    #[test]
    fn values_cannot_inject_keys() {
        let p = load(TEMPLATE).unwrap();
        let c = render(
            &p,
            &[(
                "msg",
                "x\"\nevil: true\n  securityContext: {privileged: true}",
            )],
        )
        .unwrap();
        let env = c.containers[0].env.as_ref().unwrap();
        assert_eq!(
            env[0].value.as_deref(),
            Some("x\"\nevil: true\n  securityContext: {privileged: true}")
        );
        assert!(c.containers[0].security_context.is_none());
        assert_eq!(
            c.containers[0].ports.as_ref().unwrap()[0].container_port,
            9000
        );
        assert_eq!(
            c.containers[0].ports.as_ref().unwrap()[0].name.as_deref(),
            Some("t-p")
        );
    }

    #[test]
    fn raw_output_and_typos_are_refused() {
        for raw in [
            "{{{params.msg}}}",
            "{{&params.msg}}",
            "{{ &params.msg}}",
            "{{ {params.msg} }}",
            "{{~{params.msg}~}}",
            "{{~ &params.msg}}",
        ] {
            let err = load(&format!("containers:\n- name: {raw}\n"))
                .err()
                .unwrap();
            assert!(err.message.contains("raw output"), "{raw}: {}", err.message);
        }
        let p = load("containers:\n- name: {{params.mgs}}\n  image: a:1\n").unwrap();
        assert!(matches!(render(&p, &[]), Err(PatternError::Render { .. })));
    }

    #[test]
    fn invalid_fragments_are_reported_with_the_rendered_line() {
        let p = load("containers:\n- name: {{instance}}\n  image: a:1\n  ports: {{params.msg}}\n")
            .unwrap();
        match render(&p, &[]) {
            Err(PatternError::InvalidContribution { message, .. }) => {
                assert!(message.contains("line"), "{message}")
            }
            other => panic!("{other:?}"),
        }
    }

    fn load_with(template: &str, partials: &[(&str, &str)]) -> TemplatePattern {
        let files = TemplateFiles {
            dir_name: "t".into(),
            origin: "t".into(),
            pattern_yaml: PATTERN.into(),
            templates: std::iter::once(("contribution", template))
                .chain(partials.iter().copied())
                .map(|(n, t)| (n.to_string(), t.to_string()))
                .collect(),
        };
        TemplatePattern::load(&files, &[], PatternSource::Builtin).unwrap()
    }

    #[test]
    fn fail_is_a_typed_refusal_however_deeply_it_is_wrapped() {
        let check = |p: &TemplatePattern| match render(p, &[("msg", "no")]) {
            Err(PatternError::Refused { pattern, message }) => {
                assert_eq!(pattern, "t");
                assert_eq!(message, "msg must not be no: --set msg=yes");
            }
            other => panic!("{other:?}"),
        };
        let refuse = "{{#if params.msg}}{{#with params}}{{fail \"msg must not be \" msg \": --set msg=yes\"}}{{/with}}{{/if}}";
        check(&load_with(refuse, &[]));
        check(&load_with(
            "containers: {{> inner}}\n",
            &[("inner", refuse)],
        ));
        // Any other failure stays a render error.
        let p = load_with("{{params.nothing}}\n", &[]);
        assert!(matches!(render(&p, &[]), Err(PatternError::Render { .. })));
    }

    #[test]
    fn a_template_reading_the_workload_through_a_partial_is_rendered_per_workload() {
        let p = load_with(
            "containers:\n- name: {{instance}}\n  image: a:1\n  env: {{> env}}\n",
            &[(
                "env",
                "[{name: W, value: {{#with workload}}{{name}}{{/with}}}]",
            )],
        );
        assert!(p.workload_dependent);
        let c = render(&p, &[]).unwrap();
        assert_eq!(
            c.containers[0].env.as_ref().unwrap()[0].value.as_deref(),
            Some("web")
        );
        let q = load_with("containers:\n- name: {{instance}}\n  image: a:1\n", &[]);
        assert!(!q.workload_dependent);
    }

    #[test]
    fn a_number_where_kubernetes_wants_a_string_is_refused_as_kubectl_would() {
        // The rendering is read as JSON values, as the API server reads YAML: an unquoted
        // number is not a string (kubectl refuses it the same way).
        let p = load("containers:\n- name: {{instance}}\n  image: a:1\n  env:\n  - name: PORT\n    value: {{num params.port}}\n").unwrap();
        match render(&p, &[]) {
            Err(PatternError::InvalidContribution { message, .. }) => {
                assert!(message.starts_with("rendered line 2 (- name: \"t\"): containers[0]: invalid type: integer `9000`, expected a string"), "{message}");
            }
            other => panic!("{other:?}"),
        }
        let quoted = load("containers:\n- name: {{instance}}\n  image: a:1\n  env:\n  - name: PORT\n    value: {{params.port}}\n").unwrap();
        let c = render(&quoted, &[]).unwrap();
        assert_eq!(
            c.containers[0].env.as_ref().unwrap()[0].value.as_deref(),
            Some("9000")
        );
    }
}
