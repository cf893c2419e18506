//! Argument groups shared by several subcommands (kubectl's conventions), and how they turn
//! into engine inputs: input files, output mode, pattern parameters and the target.

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::PathBuf;

use anyhow::{Context as _, Result};
use clap::builder::TypedValueParser;
use clap::{Args, ValueEnum};
use serde_json::Value;

use crate::engine::catalogue::Catalogue;
use crate::engine::merge::MergeOptions;
use crate::engine::output::OutputFormat;
use crate::engine::params::{self, ParamError, ParamInput};
use crate::engine::pattern::{SidecarMode, TargetInfo, parse_kube_version};
use crate::engine::process::PatternRequest;
use crate::engine::yaml;
use crate::request::{SandboxLimits, Sources};
use kubectl_pattern_io::input::{self as stream, Input};

use super::UsageError;

/// Where manifests come from.
#[derive(Debug, Clone, Args)]
pub struct InputArgs {
    /// Manifest file, directory, or - for stdin (repeatable). Without -f, manifests are read from
    /// a pipe on stdin.
    #[arg(short = 'f', long = "filename", value_name = "FILE")]
    pub filenames: Vec<String>,
    /// Read directories given with -f recursively.
    #[arg(short = 'R', long)]
    pub recursive: bool,
}

impl InputArgs {
    /// The inputs, in order.
    pub fn inputs(&self) -> Result<Vec<Input>> {
        if self.filenames.is_empty() {
            if std::io::stdin().is_terminal() {
                return Err(UsageError(
                    "no input: pass manifests with -f FILE (or a directory, or - for stdin), or pipe them in".into(),
                )
                .into());
            }
            return Ok(vec![Input::Stdin]);
        }
        if self.filenames.iter().filter(|f| *f == "-").count() > 1 {
            return Err(UsageError("-f - (stdin) can be given only once".into()).into());
        }
        let inputs = stream::expand_inputs(&self.filenames, self.recursive)?;
        if inputs.is_empty() {
            anyhow::bail!(
                "no manifest files (*.yaml, *.yml, *.json) in {}{}",
                self.filenames.join(", "),
                if self.recursive {
                    ""
                } else {
                    " (use -R to read sub-directories)"
                }
            );
        }
        Ok(inputs)
    }
}

/// Output format flag values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputArg {
    /// A YAML stream.
    Yaml,
    /// JSON (a List when there are several objects).
    Json,
    /// kind.group/name per object.
    Name,
}

impl From<OutputArg> for OutputFormat {
    fn from(o: OutputArg) -> Self {
        match o {
            OutputArg::Yaml => OutputFormat::Yaml,
            OutputArg::Json => OutputFormat::Json,
            OutputArg::Name => OutputFormat::Name,
        }
    }
}

pub use crate::ui::report::ReportArg;

/// Where results go.
#[derive(Debug, Clone, Args)]
pub struct OutputArgs {
    /// Output format of the patched stream [default: yaml]; in live mode, print the objects.
    #[arg(short = 'o', long = "output", value_enum)]
    pub output: Option<OutputArg>,
    /// Rewrite the input files instead of printing (atomically; only files that change).
    #[arg(long = "in-place")]
    pub in_place: bool,
    /// Print a unified diff of each changed file instead of the stream (coloured on a terminal).
    #[arg(long)]
    pub diff: bool,
    /// Silence the report on stderr.
    #[arg(short = 'q', long)]
    pub quiet: bool,
    /// Format of the report on stderr.
    #[arg(long, value_enum, default_value = "text")]
    pub report: ReportArg,
}

impl OutputArgs {
    /// The output format (YAML unless -o says otherwise).
    pub fn format(&self) -> OutputArg {
        self.output.unwrap_or(OutputArg::Yaml)
    }
}

/// What pattern parameters and target a run uses.
#[derive(Debug, Clone, Args)]
pub struct PatternArgs {
    /// Set a parameter: NAME=VALUE, or PATTERN.NAME=VALUE when several patterns take NAME (repeatable).
    #[arg(long = "set", value_name = "NAME=VALUE")]
    pub set: Vec<String>,
    /// YAML file of parameters: NAME: VALUE, or PATTERN: {NAME: VALUE} for several patterns.
    #[arg(long = "values-file", value_name = "FILE")]
    pub values_file: Option<PathBuf>,
    /// Instance name (default: the pattern id); apply one pattern twice under two names.
    #[arg(long)]
    pub name: Option<String>,
    /// The app container that gets the pattern's mounts and env (default: the first container).
    #[arg(short = 'c', long)]
    pub container: Option<String>,
    /// The target cluster's capabilities.
    #[command(flatten)]
    pub target: TargetArgs,
    /// Template directories and plugins.
    #[command(flatten)]
    pub templates: TemplateArgs,
}

/// The target cluster's capabilities.
#[derive(Debug, Clone, Args)]
pub struct TargetArgs {
    /// Where helpers go: native sidecars (initContainers with restartPolicy: Always) or classic
    /// containers; auto picks native unless --kube-version is older than 1.29.
    #[arg(long, default_value = "auto", value_parser = sidecar_mode())]
    pub sidecar_mode: SidecarMode,
    /// The Kubernetes version the manifests are for (e.g. 1.28); default: recent (native sidecars).
    #[arg(long, value_name = "VERSION")]
    pub kube_version: Option<String>,
}

/// `--sidecar-mode`'s values, as clap parses them (shown in help and completed).
fn sidecar_mode() -> impl TypedValueParser<Value = SidecarMode> {
    let values = SidecarMode::ALL
        .map(|mode| clap::builder::PossibleValue::new(mode.as_str()).help(mode.help()));
    clap::builder::PossibleValuesParser::new(values).try_map(|text| text.parse::<SidecarMode>())
}

impl TargetArgs {
    /// The target, checked.
    pub fn target(&self) -> Result<TargetInfo> {
        let kube_version = match &self.kube_version {
            None => None,
            Some(text) => Some(parse_kube_version(text).ok_or_else(|| {
                UsageError(format!(
                    "--kube-version {text:?}: expected MAJOR.MINOR, e.g. 1.29"
                ))
            })?),
        };
        let target = TargetInfo {
            kube_version,
            mode: self.sidecar_mode,
        };
        if target.mode == SidecarMode::Native && target.lacks_native_sidecars() {
            return Err(UsageError(format!(
                "--sidecar-mode native needs Kubernetes >= 1.29, but --kube-version is {}",
                target.version_string()
            ))
            .into());
        }
        Ok(target)
    }
}

/// Where patterns come from besides the built-ins: template directories and plugins.
#[derive(Debug, Clone, Args)]
pub struct TemplateArgs {
    /// Extra directory of template patterns (repeatable; later ones win).
    #[arg(long = "template-dir", value_name = "DIR")]
    pub template_dirs: Vec<PathBuf>,
    /// Use a WebAssembly plugin without installing it (repeatable).
    #[arg(long = "plugin", value_name = "FILE.wasm", hide = NO_PLUGINS)]
    pub plugins: Vec<PathBuf>,
    /// The plugin sandbox's limits.
    #[command(flatten)]
    pub sandbox: SandboxArgs,
}

/// Limits of the plugin sandbox.
#[derive(Debug, Clone, Args)]
pub struct SandboxArgs {
    /// Wall-clock limit for each plugin call, in seconds.
    #[arg(long = "plugin-timeout", value_name = "SECONDS", default_value_t = SandboxLimits::DEFAULT_TIMEOUT_SECS, hide = NO_PLUGINS)]
    pub timeout: f64,
    /// Memory limit for each plugin call, in MiB.
    #[arg(long = "plugin-memory", value_name = "MIB", default_value_t = SandboxLimits::DEFAULT_MEMORY_MIB, hide = NO_PLUGINS)]
    pub memory: u64,
}

/// True in builds without plugins: their flags are hidden from help.
const NO_PLUGINS: bool = !cfg!(feature = "plugins");

impl SandboxArgs {
    /// The limits, checked.
    pub fn limits(&self) -> Result<SandboxLimits> {
        SandboxLimits::new(self.timeout, self.memory)
            .map_err(|e| UsageError(format!("--{e}")).into())
    }
}

impl TemplateArgs {
    /// Where patterns come from.
    pub fn sources(&self) -> Result<Sources> {
        Ok(Sources {
            template_dirs: self.template_dirs.clone(),
            plugins: self.plugins.clone(),
            sandbox: self.sandbox.limits()?,
        })
    }

    /// The catalogue: built-ins, `$XDG_CONFIG_HOME/kubectl-pattern/templates`, --template-dir,
    /// installed plugins and --plugin files.
    pub fn catalogue(&self) -> Result<Catalogue> {
        crate::catalogue::load(&self.sources()?)
    }
}

impl PatternArgs {
    /// Merge options from --container and the target flags.
    pub fn merge_options(&self) -> Result<MergeOptions> {
        Ok(MergeOptions {
            main_container: self.container.clone(),
            target: self.target.target()?,
        })
    }

    /// Resolves pattern ids and parameters into validated requests. Missing required
    /// parameters of every pattern are reported together, as a [`MissingParams`] error.
    pub fn requests(&self, catalogue: &Catalogue, ids: &[String]) -> Result<Vec<PatternRequest>> {
        let values = match &self.values_file {
            None => BTreeMap::new(),
            Some(path) => read_values_file(path)?,
        };
        self.requests_with_values(catalogue, ids, values)
    }

    /// [`Self::requests`] with the values-file mapping already read (the `new` wizard builds
    /// it from its answers); `--values-file` is ignored.
    pub fn requests_with_values(
        &self,
        catalogue: &Catalogue,
        ids: &[String],
        values: BTreeMap<String, Value>,
    ) -> Result<Vec<PatternRequest>> {
        if self.name.is_some() && ids.len() != 1 {
            return Err(UsageError(
                "--name names one pattern instance; give exactly one pattern with it".into(),
            )
            .into());
        }
        let sets = self
            .set
            .iter()
            .map(|s| params::parse_set(s))
            .collect::<Result<Vec<_>, ParamError>>()
            .map_err(|e| UsageError(e.to_string()))?;
        let mut requests = Vec::new();
        let mut seen = Vec::new();
        let mut missing = Vec::new();
        let mut unresolved = Vec::new();
        for id in ids {
            let pattern = catalogue.get(id)?;
            let instance = self.name.clone().unwrap_or_else(|| id.clone());
            if !params::is_dns_label(&instance) {
                return Err(UsageError(format!("instance name {instance:?} must be a lower-case DNS label (letters, digits, '-')")).into());
            }
            if seen.contains(&instance) {
                return Err(UsageError(format!(
                    "pattern {id} is given twice; use --name to apply it under another name"
                ))
                .into());
            }
            seen.push(instance.clone());
            let declared = |n: &str| pattern.spec().params.iter().any(|p| p.name == n);
            let scoped = |key: &str| {
                key.split_once('.')
                    .filter(|(scope, _)| *scope == instance || scope == id)
                    .map(|(_, n)| n.to_string())
            };
            let single = ids.len() == 1;
            let mut input = ParamInput::default();
            // Flat keys first, then the pattern's own section, which wins.
            for (key, value) in &values {
                if !ids.contains(key) && (single || declared(key)) {
                    input.values.insert(key.clone(), value.clone());
                }
            }
            for (key, value) in &values {
                if let (Value::Object(inner), true) = (value, key == id || *key == instance) {
                    input
                        .values
                        .extend(inner.iter().map(|(k, v)| (k.clone(), v.clone())));
                }
            }
            for (key, value) in &sets {
                if let Some(name) = scoped(key) {
                    input.sets.push((name, value.clone()));
                } else if !key.contains('.') && (single || declared(key)) {
                    input.sets.push((key.clone(), value.clone()));
                }
            }
            let params = match params::resolve(id, &pattern.spec().params, &input) {
                Err(ParamError::Missing { names, .. }) => {
                    missing.push(MissingFor {
                        pattern: id.clone(),
                        instance: instance.clone(),
                        names,
                    });
                    unresolved.push(pattern);
                    continue;
                }
                other => other?,
            };
            requests.push(PatternRequest {
                pattern,
                instance,
                params,
            });
        }
        let mut scopes: Vec<&str> = ids
            .iter()
            .map(String::as_str)
            .chain(requests.iter().map(|r| r.instance.as_str()))
            .chain(missing.iter().map(|m| m.instance.as_str()))
            .collect();
        scopes.sort_unstable();
        scopes.dedup();
        for (key, _) in &sets {
            if let Some((scope, _)) = key.split_once('.')
                && !scopes.contains(&scope)
            {
                return Err(UsageError(format!(
                    "--set {key}: {scope:?} is not a pattern of this run ({}); use PATTERN.NAME=VALUE",
                    scopes.join(", ")
                ))
                .into());
            }
        }
        if ids.len() > 1 {
            let known = |name: &str| {
                requests
                    .iter()
                    .map(|r| &r.pattern)
                    .chain(&unresolved)
                    .any(|p| p.spec().params.iter().any(|p| p.name == name))
            };
            for (key, _) in &sets {
                let ok = match key.split_once('.') {
                    Some((scope, _)) => scopes.contains(&scope),
                    None => known(key),
                };
                if !ok {
                    anyhow::bail!(
                        "--set {key}: no pattern of this run takes that parameter; use PATTERN.NAME=VALUE with one of: {}",
                        ids.join(", ")
                    );
                }
            }
            for key in values.keys() {
                if !known(key) && !scopes.contains(&key.as_str()) {
                    anyhow::bail!(
                        "values file: {key:?} is neither a parameter nor a pattern of this run ({})",
                        ids.join(", ")
                    );
                }
            }
        }
        if !missing.is_empty() {
            return Err(MissingParams {
                patterns: missing,
                several: ids.len() > 1,
            }
            .into());
        }
        Ok(requests)
    }
}

/// Reads a values file: a mapping of NAME: VALUE or PATTERN: {NAME: VALUE}.
pub fn read_values_file(path: &std::path::Path) -> Result<BTreeMap<String, Value>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read values file {}", path.display()))?;
    let value: Value = yaml::from_str(&text).map_err(|e| {
        anyhow::anyhow!(
            "values file {} line {}: {}",
            path.display(),
            e.line.unwrap_or(0),
            e.message
        )
    })?;
    match value {
        Value::Object(map) => Ok(map.into_iter().collect()),
        Value::Null => Ok(BTreeMap::new()),
        _ => anyhow::bail!(
            "values file {}: expected a mapping of NAME: VALUE",
            path.display()
        ),
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

/// Required parameters that were not given, for every pattern of the run at once (the
/// prompting layer asks for exactly these on a terminal).
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
