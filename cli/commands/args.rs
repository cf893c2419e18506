//! Argument groups shared by several subcommands (kubectl's conventions), and how they turn
//! into engine inputs: input files, output mode, pattern parameters and the target.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Result;
use clap::builder::TypedValueParser;
use clap::{Args, ValueEnum};

use crate::engine::catalogue::Catalogue;
use crate::engine::duration::{self, TimeoutSyntax};
use crate::engine::merge::{HelperPosition, PositionSyntax};
use crate::engine::output::OutputFormat;
use crate::engine::pattern::{SidecarMode, TargetInfo};
use crate::request::{self, Request, SandboxLimits, Sources, ValuesFile};
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
    /// A kustomization directory: its build (kubectl kustomize DIR, or kustomize build DIR when
    /// kubectl is not on PATH) is read instead of -f files.
    #[arg(
        short = 'k',
        long = "kustomize",
        value_name = "DIR",
        conflicts_with = "filenames"
    )]
    pub kustomize: Option<PathBuf>,
}

impl InputArgs {
    /// True when the input is named (-f or -k): -l and -n then choose among its objects.
    pub fn named(&self) -> bool {
        !self.filenames.is_empty() || self.kustomize.is_some()
    }

    /// The inputs, in order.
    pub fn inputs(&self) -> Result<Vec<Input>> {
        if let Some(dir) = &self.kustomize {
            return Ok(vec![super::kustomize::build(dir)?]);
        }
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
    /// Print a unified diff of each changed file instead of the stream (coloured on a
    /// terminal). Exits as kubectl diff: 0 no differences, 1 differences, 2 a usage error, 3
    /// any other failure.
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
    /// Where the pattern's init containers and native sidecars go among the init containers
    /// (their start order): first, last, before:NAME or after:NAME. Recorded, so re-runs keep
    /// it; default: before the app's own init containers, after earlier patterns' helpers.
    #[arg(long, value_name = "first|last|before:NAME|after:NAME", value_parser = position)]
    pub position: Option<HelperPosition>,
    /// Add helpers that open ports to pods with hostNetwork: true (refused by default: they
    /// would listen on the node's own ports).
    #[arg(long)]
    pub allow_host_network: bool,
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

/// `--position`'s values.
fn position(text: &str) -> Result<HelperPosition, String> {
    text.parse().map_err(|e: PositionSyntax| e.to_string())
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
        Ok(request::target_info(
            self.sidecar_mode,
            self.kube_version.as_deref(),
        )?)
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
    /// Wall-clock limit for each plugin call: a duration (500ms, 10s) or seconds.
    #[arg(long = "plugin-timeout", value_name = "DURATION", default_value = "5s", value_parser = plugin_timeout, hide = NO_PLUGINS)]
    pub timeout: Duration,
    /// Memory limit for each plugin call, in MiB.
    #[arg(long = "plugin-memory", value_name = "MIB", default_value_t = SandboxLimits::DEFAULT_MEMORY_MIB, hide = NO_PLUGINS)]
    pub memory: u64,
}

/// True in builds without plugins: their flags are hidden from help.
const NO_PLUGINS: bool = !cfg!(feature = "plugins");

/// `--plugin-timeout`: kubectl's timeout grammar, but a plugin call always has a limit.
fn plugin_timeout(text: &str) -> Result<Duration, String> {
    match duration::parse_timeout(text, TimeoutSyntax::DurationOrSeconds) {
        Ok(Some(limit)) => Ok(limit),
        Ok(None) => Err("a plugin call needs a limit above 0".into()),
        Err(e) => Err(e.to_string()),
    }
}

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
    /// The request for pattern `ids` from these flags (and the values file they name).
    pub fn request(&self, ids: &[String]) -> Result<Request> {
        let mut request = Request::for_patterns(ids, self.name.as_deref())?;
        if let Some(path) = &self.values_file {
            let file = ValuesFile::read(path)?;
            if file.legacy_flat {
                crate::ui::warn(&request::values::legacy_note(path));
            }
            request.values_file(&file);
        }
        request.set_flags(&self.set)?;
        request.main_container = self.container.clone();
        request.position = self.position.clone();
        request.allow_host_network = self.allow_host_network;
        request.target = self.target.target()?;
        request.sources = self.templates.sources()?;
        Ok(request)
    }
}
