//! `list`, `explain`, `version` and `completion`: the subcommands that describe the tool.

use std::process::ExitCode;

use anyhow::Result;
use clap::{Args, ValueEnum};
use serde_json::{Value, json};

use crate::engine::catalogue::{self, Catalogue};
use crate::engine::params::nearest;
use crate::engine::params::{ParamRole, ParamSpec};
use crate::engine::pattern::{Pattern, PatternKind};
use crate::ui::{BOLD, DIM};

use super::args::TemplateArgs;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ListFormat {
    Text,
    Json,
}

/// List the available patterns: id, kind, source and summary.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  kubectl pattern list\n  kubectl pattern list -o json | jq -r '.[].id'"
)]
pub struct ListCmd {
    /// Output format.
    #[arg(short = 'o', long = "output", value_enum, default_value = "text")]
    output: ListFormat,
    #[command(flatten)]
    templates: TemplateArgs,
}

impl ListCmd {
    pub fn run(self) -> Result<ExitCode> {
        let catalogue = self.templates.catalogue()?;
        for b in catalogue.broken() {
            crate::ui::warn(&format!(
                "pattern {:?} ({}) is broken: {}",
                b.id, b.source, b.error
            ));
        }
        match self.output {
            ListFormat::Json => {
                let items: Vec<Value> = catalogue
                    .patterns()
                    .iter()
                    .map(|p| {
                        let s = p.spec();
                        json!({"id": s.id, "kind": s.kind, "version": s.version, "source": s.source.to_string(), "summary": s.summary})
                    })
                    .collect();
                crate::ui::stdout(&format!("{}\n", serde_json::to_string_pretty(&items)?))?;
            }
            ListFormat::Text => {
                let width = catalogue
                    .patterns()
                    .iter()
                    .map(|p| p.spec().id.len())
                    .max()
                    .unwrap_or(2)
                    .max(2);
                let mut out = format!(
                    "{BOLD}{:<width$}  {:<10}  {:<8}  SUMMARY{BOLD:#}\n",
                    "ID", "KIND", "SOURCE"
                );
                for p in catalogue.patterns() {
                    let s = p.spec();
                    let source = match &s.source {
                        crate::engine::pattern::PatternSource::Builtin => "builtin".to_string(),
                        crate::engine::pattern::PatternSource::User { .. } => "user".to_string(),
                        crate::engine::pattern::PatternSource::Plugin { .. } => {
                            "plugin".to_string()
                        }
                    };
                    out.push_str(&format!(
                        "{:<width$}  {:<10}  {:<8}  {}\n",
                        s.id, s.kind, source, s.summary
                    ));
                }
                crate::ui::stdout(&out)?;
            }
        }
        Ok(ExitCode::SUCCESS)
    }
}

/// Explain a pattern (what it does, when to use it, when not, a diagram, its parameters), or
/// a topic: `patterns` (the default), `adapterless`, `native-sidecars`.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  # The patterns, and when no helper is the answer\n  kubectl pattern explain\n  kubectl pattern explain log-shipper\n  kubectl pattern explain adapterless"
)]
pub struct ExplainCmd {
    /// A pattern id or a topic.
    name: Option<String>,
    #[command(flatten)]
    templates: TemplateArgs,
}

fn indent(text: &str) -> String {
    text.trim_end()
        .lines()
        .map(|l| {
            if l.is_empty() {
                "\n".to_string()
            } else {
                format!("  {l}\n")
            }
        })
        .collect()
}

/// The parameters as `explain` and `plugin inspect` show them: name, type, allowed values,
/// default or required, and the description below.
pub(super) fn param_lines(params: &[ParamSpec]) -> String {
    let mut out = String::new();
    if params.is_empty() {
        out.push_str("  (none)\n");
    }
    for param in params {
        let default = match (&param.default, param.required) {
            (_, true) => "required".to_string(),
            (Some(d), _) if param.role == Some(ParamRole::AppPort) => {
                format!("default the app container's port if it declares one, else {d}")
            }
            (Some(Value::String(d)), _) => format!("default {d:?}"),
            (Some(d), _) => format!("default {d}"),
            (None, false) => "optional".to_string(),
        };
        let extra = if param.values.is_empty() {
            String::new()
        } else {
            format!(" [{}]", param.values.join("|"))
        };
        out.push_str(&format!(
            "  {BOLD}{}{BOLD:#} ({}{extra}, {default})\n",
            param.name,
            param.kind.as_str()
        ));
        if !param.description.is_empty() {
            out.push_str(&format!("      {DIM}{}{DIM:#}\n", param.description.trim()));
        }
    }
    out
}

/// Where helpers go among the init containers, for `explain`.
const ORDER: &str = "\
Init containers (and native sidecars) start in list order. This pattern's go
before the app's own init containers, after those of patterns added earlier:
a dependency is there, or a proxy up, before a step such as `migrate` runs.
--position first|last|before:NAME|after:NAME puts them elsewhere; the choice is
recorded, and re-runs keep it.";

fn explain_pattern(p: &dyn Pattern) -> String {
    let s = p.spec();
    let mut out = format!(
        "{BOLD}{}{BOLD:#} — {} pattern, v{} ({})\n\n{}\n\n",
        s.id, s.kind, s.version, s.source, s.summary
    );
    let d = &s.docs;
    for (title, text) in [
        ("WHAT IT DOES", &d.description),
        ("USE IT WHEN", &d.use_when),
        ("AVOID IT WHEN", &d.avoid_when),
        ("DIAGRAM", &d.diagram),
    ] {
        out.push_str(&format!("{BOLD}{title}{BOLD:#}\n{}\n", indent(text)));
    }
    out.push_str(&format!("{BOLD}ORDER{BOLD:#}\n{}\n", indent(ORDER)));
    out.push_str(&format!("{BOLD}PARAMETERS{BOLD:#}\n"));
    out.push_str(&param_lines(&s.params));
    let required: Vec<String> = s
        .params
        .iter()
        .filter(|p| p.required)
        .map(|p| match s.examples.get(&p.name) {
            Some(v) => format!(
                " --set {}",
                shell_quote(&format!("{}={}", p.name, example_text(v)))
            ),
            None => format!(" --set {}=…", p.name),
        })
        .collect();
    out.push_str(&format!(
        "\n{BOLD}EXAMPLE{BOLD:#}\n  kubectl pattern add {}{} -f deploy.yaml\n",
        s.id,
        required.concat()
    ));
    out
}

impl ExplainCmd {
    pub fn run(self) -> Result<ExitCode> {
        let catalogue = self.templates.catalogue()?;
        let topics = catalogue::topics();
        let name = self.name.as_deref().unwrap_or("patterns");
        if let Ok(p) = catalogue.get(name) {
            crate::ui::stdout(&explain_pattern(p.as_ref()))?;
            return Ok(ExitCode::SUCCESS);
        }
        if let Some((_, text)) = topics.iter().find(|(t, _)| t == name) {
            let mut out = format!("{}\n", text.trim_end());
            if name == "patterns" {
                out.push_str(&format!("{}\n", available(&catalogue)));
            }
            crate::ui::stdout(&out)?;
            return Ok(ExitCode::SUCCESS);
        }
        // Report the catalogue's own error (broken pattern), or suggest the nearest name.
        if let Err(e @ catalogue::CatalogueError::Broken { .. }) = catalogue.get(name) {
            return Err(e.into());
        }
        let patterns = catalogue.patterns();
        let ids: Vec<&str> = patterns
            .iter()
            .map(|p| p.spec().id.as_str())
            .chain(topics.iter().map(|(t, _)| t.as_str()))
            .collect();
        let hint = nearest(name, ids.iter().copied())
            .map(|n| format!(": did you mean {n:?}?"))
            .unwrap_or_default();
        let topic_names: Vec<&str> = topics.iter().map(|(t, _)| t.as_str()).collect();
        anyhow::bail!(
            "no pattern or topic {name:?}{hint} (topics: {}; patterns: `kubectl pattern list`)",
            topic_names.join(", ")
        )
    }
}

/// An example value as `--set` takes it: lists comma-joined.
fn example_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Array(items) => items.iter().map(example_text).collect::<Vec<_>>().join(","),
        other => other.to_string(),
    }
}

/// Quotes for a POSIX shell when needed.
fn shell_quote(s: &str) -> String {
    if s.chars()
        .all(|c| c.is_ascii_alphanumeric() || "-_=./:,@%+".contains(c))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

fn available(catalogue: &Catalogue) -> String {
    let mut out = String::from("\nAvailable patterns (kubectl pattern explain <id>):\n");
    let patterns = catalogue.patterns();
    for kind in PatternKind::ALL {
        let ids: Vec<&str> = patterns
            .iter()
            .filter(|p| p.spec().kind == kind)
            .map(|p| p.spec().id.as_str())
            .collect();
        out.push_str(&format!(
            "  {:<11} {}\n",
            format!("{kind}:"),
            ids.join(", ")
        ));
    }
    out
}

/// Print the version.
#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  kubectl pattern version\n  kubectl pattern version -o json")]
pub struct VersionCmd {
    /// Output format.
    #[arg(short = 'o', long = "output", value_enum, default_value = "text")]
    output: ListFormat,
}

impl VersionCmd {
    pub fn run(self) -> Result<ExitCode> {
        let version = env!("CARGO_PKG_VERSION");
        let text = match self.output {
            ListFormat::Text => {
                format!(
                    "kubectl-pattern {version} (Kubernetes API 1.37 schemas, templates kubectl-pattern/v1)\n"
                )
            }
            ListFormat::Json => format!(
                "{}\n",
                json!({"version": version, "kubernetesApi": "1.37", "templateApi": "kubectl-pattern/v1"})
            ),
        };
        crate::ui::stdout(&text)?;
        Ok(ExitCode::SUCCESS)
    }
}

/// Print a shell completion script.
#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  kubectl-pattern completion bash \\
      > /etc/bash_completion.d/kubectl-pattern
  kubectl-pattern completion zsh \\
      > \"${fpath[1]}/_kubectl-pattern\"
  kubectl-pattern completion fish \\
      > ~/.config/fish/completions/kubectl-pattern.fish")]
pub struct CompletionCmd {
    /// The shell.
    shell: clap_complete::Shell,
}

impl CompletionCmd {
    pub fn run(self, cmd: &mut clap::Command) -> Result<ExitCode> {
        let mut script = Vec::new();
        clap_complete::generate(self.shell, cmd, "kubectl-pattern", &mut script);
        crate::ui::stdout(&String::from_utf8_lossy(&script))?;
        Ok(ExitCode::SUCCESS)
    }
}
