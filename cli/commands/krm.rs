//! `fn`: the tool as a KRM function (kustomize exec functions, kpt `fn eval --exec`): a
//! ResourceList on stdin, the patched ResourceList with `results` on stdout; and as a kustomize
//! exec plugin (what `kubectl kustomize --enable-alpha-plugins` runs): the plugin config file
//! as argument, the resources as a YAML stream on stdin and stdout.

use std::collections::BTreeMap;
use std::io::Read as _;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context as _, Result};
use clap::Args;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::engine::output::ObjectRef;
use crate::engine::pattern::SidecarMode;
use crate::engine::process::{Action, AddAction};
use crate::engine::yaml;
use kubectl_pattern_io::input::Input;

use super::UsageError;
use super::args::{OutputArg, OutputArgs, ReportArg};
use super::pipeline::{self, Delivery};
use crate::engine::params::Given;
use crate::request::{
    Origin, Request, Resolution, SandboxLimits, Sources, TargetError, ValuesFile, target_info,
};

/// The function config kind this tool reads (a ConfigMap works too, see `FnCmd`).
pub const API_VERSION: &str = "pattern.kubectl.io/v1alpha1";
/// The function config kind.
pub const KIND: &str = "PatternTransformer";

/// Run as a KRM function (kustomize, kpt) or as a kustomize exec plugin.
///
/// Without CONFIG: reads a ResourceList on stdin, adds the patterns its functionConfig names to
/// every workload among its items, and writes the ResourceList with `results` on stdout (exit
/// 1 and an error result when anything fails; the items are then unchanged).
///
/// With CONFIG (what kustomize passes to an exec plugin): reads the config from that file and
/// the resources as a YAML stream on stdin.
///
/// The config is a PatternTransformer (apiVersion pattern.kubectl.io/v1alpha1) whose spec has
/// patterns (list of ids, required), values (parameters: NAME: VALUE or PATTERN: {NAME: VALUE}),
/// name, container, sidecarMode, kubeVersion, templateDirs and plugins; or a ConfigMap whose
/// data has patterns (comma-separated), optionally name, container, sidecarMode and
/// kubeVersion, and parameters as the other keys (as with --set).
#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  # kpt: the parameters of a ConfigMap functionConfig
  kpt fn eval --exec PatternTransformer -- \\
      patterns=log-shipper logDir=/var/log/web

  # kustomize, with the transformer config below
  kustomize build --enable-alpha-plugins --enable-exec \\
      overlays/prod

  # kubectl kustomize has no --enable-exec: it runs exec
  # plugins instead (no annotation needed)
  KUSTOMIZE_PLUGIN_HOME=DIR kubectl kustomize \\
      --enable-alpha-plugins overlays/prod

Transformer config (listed under `transformers:` in
kustomization.yaml):
  apiVersion: pattern.kubectl.io/v1alpha1
  kind: PatternTransformer
  metadata:
    name: add-helpers
    annotations:
      # for kustomize build --enable-exec
      config.kubernetes.io/function: |
        exec:
          path: ./PatternTransformer
  spec:
    patterns: [log-shipper]
    values: {logDir: /var/log/web}

PatternTransformer is the script `exec kubectl-pattern fn \"$@\"`, shipped in the release's
integrations archive as kustomize/pattern.kubectl.io/v1alpha1/patterntransformer/PatternTransformer
(DIR above is that kustomize/ directory).")]
pub struct FnCmd {
    /// Kustomize exec plugin mode: the plugin config file.
    #[arg(value_name = "CONFIG")]
    config: Option<PathBuf>,
}

/// The spec of a PatternTransformer.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct TransformerSpec {
    patterns: Vec<String>,
    #[serde(default)]
    values: BTreeMap<String, Value>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    container: Option<String>,
    #[serde(default)]
    sidecar_mode: Option<String>,
    #[serde(default)]
    kube_version: Option<String>,
    #[serde(default)]
    template_dirs: Vec<PathBuf>,
    #[serde(default)]
    plugins: Vec<PathBuf>,
}

fn scalar(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The request a function config makes: a PatternTransformer's spec, or a ConfigMap's data
/// (parameters as text, like `--set`).
fn parse_config(config: &Value) -> Result<Request> {
    let kind = config.get("kind").and_then(Value::as_str).unwrap_or("");
    let api_version = config
        .get("apiVersion")
        .and_then(Value::as_str)
        .unwrap_or("");
    let mut texts = Vec::new();
    let spec: TransformerSpec = match (api_version, kind) {
        (API_VERSION, KIND) => {
            let spec = config.get("spec").cloned().unwrap_or(Value::Null);
            serde_json::from_value(spec).context("the PatternTransformer's spec is invalid")?
        }
        ("v1", "ConfigMap") => {
            let data: BTreeMap<String, Value> = config
                .get("data")
                .and_then(Value::as_object)
                .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
                .unwrap_or_default();
            let mut spec = TransformerSpec::default();
            for (key, value) in data {
                let text = scalar(&value);
                match key.as_str() {
                    "patterns" | "pattern" => {
                        spec.patterns = text
                            .split(',')
                            .map(|s| s.trim().to_string())
                            .filter(|s| !s.is_empty())
                            .collect();
                    }
                    "name" => spec.name = Some(text),
                    "container" => spec.container = Some(text),
                    "sidecarMode" => spec.sidecar_mode = Some(text),
                    "kubeVersion" => spec.kube_version = Some(text),
                    _ => texts.push((key, text)),
                }
            }
            spec
        }
        _ => anyhow::bail!(
            "the function config is {api_version}/{kind}; expected {API_VERSION}/{KIND} or a v1 ConfigMap"
        ),
    };
    if spec.patterns.is_empty() {
        anyhow::bail!("the function config names no pattern: set spec.patterns (or data.patterns)");
    }
    let mut request = Request::for_patterns(&spec.patterns, spec.name.as_deref())?;
    // `values` keeps the flat format: NAME: VALUE, or PATTERN: {NAME: VALUE}.
    let values: serde_json::Map<String, Value> = spec.values.into_iter().collect();
    request.values_file(&ValuesFile::flat(values));
    for (key, text) in texts {
        request.push_keyed(&key, Given::Text(text), Origin::ConfigData);
    }
    request.main_container = spec.container;
    let mode = match &spec.sidecar_mode {
        None => SidecarMode::Auto,
        Some(m) => m
            .parse::<SidecarMode>()
            .map_err(|e| anyhow::anyhow!("sidecarMode: {e}"))?,
    };
    request.target = target_info(mode, spec.kube_version.as_deref()).map_err(|e| match e {
        TargetError::KubeVersion(v) => {
            anyhow::anyhow!("kubeVersion {v:?}: expected MAJOR.MINOR, e.g. 1.29")
        }
        TargetError::NoNativeSidecars(v) => {
            anyhow::anyhow!("sidecarMode native needs Kubernetes >= 1.29, but kubeVersion is {v}")
        }
    })?;
    request.sources = Sources {
        template_dirs: spec.template_dirs,
        plugins: spec.plugins,
        sandbox: SandboxLimits::default(),
    };
    Ok(request)
}

fn action(config: &Value) -> Result<AddAction> {
    let request = parse_config(config)?;
    let catalogue = crate::catalogue::load(&request.sources)?;
    match request.resolve(&catalogue)? {
        Resolution::Resolved(requests) => Ok(AddAction {
            requests,
            options: request.merge_options(),
        }),
        Resolution::NeedsInput(missing) => Err(missing.into()),
    }
}

/// A KRM result about one item (or the whole run, without `item`).
fn result(severity: &str, message: String, item: Option<&Value>) -> Value {
    let mut r = json!({"message": message, "severity": severity});
    if let Some(item) = item {
        r["resourceRef"] = json!(ObjectRef::of(item));
        let annotations = &item["metadata"]["annotations"];
        let path = annotations
            .get("config.kubernetes.io/path")
            .or_else(|| annotations.get("internal.config.kubernetes.io/path"))
            .and_then(Value::as_str);
        if let Some(path) = path {
            r["file"] = json!({"path": path});
        }
    }
    r
}

/// Transforms a ResourceList; returns it with results, and whether it failed.
pub fn transform(list: &Value) -> (Value, bool) {
    let mut out = json!({"apiVersion": "config.kubernetes.io/v1", "kind": "ResourceList"});
    out["items"] = list.get("items").cloned().unwrap_or_else(|| json!([]));
    let fail = |mut out: Value, message: String| {
        out["results"] = json!([result("error", message, None)]);
        (out, true)
    };
    if list.get("kind").and_then(Value::as_str) != Some("ResourceList") {
        return fail(
            out,
            "the input is not a ResourceList (kind: ResourceList, items: [...])".into(),
        );
    }
    let config = list.get("functionConfig").cloned().unwrap_or(Value::Null);
    let action = match action(&config) {
        Ok(a) => a,
        Err(e) => return fail(out, format!("{e:#}")),
    };
    let mut items = match out["items"].as_array() {
        Some(items) => items.clone(),
        None => return fail(out, "items is not a list".into()),
    };
    let mut results = Vec::new();
    let mut workloads = 0;
    for item in &mut items {
        match action.run(item) {
            Ok(r) if r.skipped.is_some() => {}
            Ok(r) => {
                workloads += 1;
                for p in &r.patterns {
                    let how = match p.native {
                        Some(true) => " (native sidecars)",
                        _ => "",
                    };
                    let message = format!("{} {}{how}", p.record.instance, p.action);
                    results.push(result("info", message, Some(item)));
                }
                for w in &r.warnings {
                    results.push(result("warning", w.clone(), Some(item)));
                }
            }
            Err(e) => {
                let message = crate::ui::clean(&e.to_string());
                out["results"] = json!([result("error", message, Some(item))]);
                return (out, true);
            }
        }
    }
    if workloads == 0 {
        results.push(result(
            "warning",
            "no workloads among the items: nothing to add the patterns to".into(),
            None,
        ));
    }
    out["items"] = Value::Array(items);
    out["results"] = Value::Array(results);
    (out, false)
}

impl FnCmd {
    pub fn run(self) -> Result<ExitCode> {
        match &self.config {
            Some(path) => legacy(path),
            None => krm(),
        }
    }
}

fn krm() -> Result<ExitCode> {
    let mut text = String::new();
    std::io::stdin()
        .read_to_string(&mut text)
        .context("cannot read the ResourceList from stdin")?;
    let list: Value = yaml::from_str(&text).map_err(|e| {
        UsageError(format!(
            "stdin is not a ResourceList: line {}: {}",
            e.line.unwrap_or(0),
            e.message
        ))
    })?;
    let (out, failed) = transform(&list);
    if failed && let Some(m) = out["results"][0]["message"].as_str() {
        crate::ui::error(m, &[]);
    }
    let text =
        yaml::to_string(&out).map_err(|e| anyhow::anyhow!("cannot write YAML: {}", e.message))?;
    crate::ui::stdout(&text)?;
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn legacy(path: &PathBuf) -> Result<ExitCode> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the plugin config {}", path.display()))?;
    let config: Value = yaml::from_str(&text).map_err(|e| {
        anyhow::anyhow!(
            "plugin config {} line {}: {}",
            path.display(),
            e.line.unwrap_or(0),
            e.message
        )
    })?;
    let action = action(&config).with_context(|| format!("plugin config {}", path.display()))?;
    let out = OutputArgs {
        output: Some(OutputArg::Yaml),
        in_place: false,
        diff: false,
        quiet: true,
        report: ReportArg::Text,
    };
    pipeline::run(&[Input::Stdin], &action, &out, Delivery::Stream)?;
    Ok(ExitCode::SUCCESS)
}
