//! The `Pattern` trait every pattern implements (templates and WebAssembly plugins alike), its
//! metadata, and the context a pattern renders its contribution from.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::contribution::Contribution;
use super::params::{ParamSpec, Params};

/// The four multi-container patterns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PatternKind {
    /// Extends the main container (log shipping, git sync).
    Sidecar,
    /// Transforms the main container's output (metrics into Prometheus format).
    Adapter,
    /// Brokers the main container's external connections (proxy, TLS, traffic split).
    Ambassador,
    /// Runs to completion before the app starts.
    Init,
}

impl PatternKind {
    /// Every kind, in the order they are presented.
    pub const ALL: [PatternKind; 4] = [
        PatternKind::Sidecar,
        PatternKind::Adapter,
        PatternKind::Ambassador,
        PatternKind::Init,
    ];

    /// Lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            PatternKind::Sidecar => "sidecar",
            PatternKind::Adapter => "adapter",
            PatternKind::Ambassador => "ambassador",
            PatternKind::Init => "init",
        }
    }
}

impl fmt::Display for PatternKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

/// Where a pattern comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum PatternSource {
    /// Shipped inside the binary.
    Builtin,
    /// A user template directory.
    User {
        /// The pattern's directory.
        path: PathBuf,
    },
    /// A WebAssembly plugin.
    Plugin {
        /// The component file.
        path: PathBuf,
        /// Its sha256.
        sha256: String,
    },
}

impl fmt::Display for PatternSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PatternSource::Builtin => f.write_str("builtin"),
            PatternSource::User { path } => write!(f, "user ({})", path.display()),
            PatternSource::Plugin { path, .. } => write!(f, "plugin ({})", path.display()),
        }
    }
}

/// The documentation `explain` shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PatternDocs {
    /// What it does.
    pub description: String,
    /// When to use it.
    pub use_when: String,
    /// When not to, and what to do instead.
    pub avoid_when: String,
    /// A small text diagram of the pod.
    pub diagram: String,
}

/// A pattern's metadata and parameter schema.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PatternSpec {
    /// The id used on the command line (`log-shipper`).
    pub id: String,
    /// Sidecar, adapter, ambassador or init.
    pub kind: PatternKind,
    /// The pattern's own version.
    pub version: String,
    /// One line.
    pub summary: String,
    /// Documentation for `explain`.
    pub docs: PatternDocs,
    /// The parameters.
    pub params: Vec<ParamSpec>,
    /// Example values for parameters (shown by `explain`; every required one should have one).
    #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub examples: std::collections::BTreeMap<String, Value>,
    /// Where it comes from.
    pub source: PatternSource,
}

/// Why a pattern's metadata cannot be used (templates and plugins are checked alike).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SpecError {
    /// The id is not a DNS label.
    #[error("id {0:?} is not a lower-case DNS label")]
    Id(String),
    /// The summary is empty or spans lines.
    #[error("the summary must be one non-empty line")]
    Summary,
    /// A parameter's schema is wrong.
    #[error("{0}")]
    Param(String),
    /// Two parameters share a name.
    #[error("parameter {0} is declared twice")]
    Twice(String),
    /// An example names no parameter.
    #[error("example for undeclared parameter {0}")]
    ExampleName(String),
    /// An example's value does not fit its parameter.
    #[error("example of {0}")]
    ExampleValue(super::params::ParamError),
}

impl PatternSpec {
    /// Checks the metadata: a DNS-label id, a one-line summary, valid and unique parameters,
    /// and examples that fit them.
    pub fn check(&self) -> Result<(), SpecError> {
        if !super::params::is_dns_label(&self.id) {
            return Err(SpecError::Id(self.id.clone()));
        }
        if self.summary.trim().is_empty() || self.summary.contains('\n') {
            return Err(SpecError::Summary);
        }
        for (i, p) in self.params.iter().enumerate() {
            p.check().map_err(SpecError::Param)?;
            if self.params[..i].iter().any(|q| q.name == p.name) {
                return Err(SpecError::Twice(p.name.clone()));
            }
        }
        for (name, value) in &self.examples {
            let spec = self
                .params
                .iter()
                .find(|p| &p.name == name)
                .ok_or_else(|| SpecError::ExampleName(name.clone()))?;
            spec.validate(value).map_err(SpecError::ExampleValue)?;
        }
        Ok(())
    }
}

/// How long-running helpers are placed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SidecarMode {
    /// Native sidecars when the target Kubernetes version has them (>= 1.29, or unknown).
    #[default]
    Auto,
    /// Always native sidecars (initContainers with restartPolicy: Always).
    Native,
    /// Always classic containers in spec.containers.
    Classic,
}

impl SidecarMode {
    /// Every mode.
    pub const ALL: [SidecarMode; 3] =
        [SidecarMode::Auto, SidecarMode::Native, SidecarMode::Classic];

    /// What the mode does, for help and completion.
    pub fn help(self) -> &'static str {
        match self {
            SidecarMode::Auto => {
                "Native sidecars when the target Kubernetes version has them (>= 1.29, or unknown)"
            }
            SidecarMode::Native => {
                "Always native sidecars (initContainers with restartPolicy: Always)"
            }
            SidecarMode::Classic => "Always classic containers in spec.containers",
        }
    }

    /// The mode's name.
    pub fn as_str(self) -> &'static str {
        match self {
            SidecarMode::Auto => "auto",
            SidecarMode::Native => "native",
            SidecarMode::Classic => "classic",
        }
    }
}

impl std::str::FromStr for SidecarMode {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        match text {
            "auto" => Ok(SidecarMode::Auto),
            "native" => Ok(SidecarMode::Native),
            "classic" => Ok(SidecarMode::Classic),
            other => Err(format!(
                "{other:?} is not a sidecar mode (auto, native or classic)"
            )),
        }
    }
}

/// What the contribution is rendered for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct TargetInfo {
    /// The target Kubernetes version (major, minor), when known.
    pub kube_version: Option<(u32, u32)>,
    /// The requested sidecar mode.
    pub mode: SidecarMode,
}

impl TargetInfo {
    /// The first version with native sidecars on by default.
    pub const NATIVE_SIDECARS: (u32, u32) = (1, 29);

    /// True when helpers become native sidecars.
    pub fn native_sidecars(&self) -> bool {
        match self.mode {
            SidecarMode::Native => true,
            SidecarMode::Classic => false,
            SidecarMode::Auto => self.kube_version.is_none_or(|v| v >= Self::NATIVE_SIDECARS),
        }
    }

    /// True when the target version is known to lack native sidecars.
    pub fn lacks_native_sidecars(&self) -> bool {
        self.kube_version.is_some_and(|v| v < Self::NATIVE_SIDECARS)
    }

    /// `1.37`, or "" when unknown.
    pub fn version_string(&self) -> String {
        self.kube_version
            .map(|(a, b)| format!("{a}.{b}"))
            .unwrap_or_default()
    }
}

/// Parses `1.29`, `v1.29.3`, `1.29+`.
pub fn parse_kube_version(text: &str) -> Option<(u32, u32)> {
    let t = text.trim().trim_start_matches('v');
    let mut parts = t.split('.');
    let major = parts.next()?.parse().ok()?;
    let minor_text: String = parts
        .next()?
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    Some((major, minor_text.parse().ok()?))
}

/// What a pattern sees of the workload it renders for.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkloadInfo {
    /// The object's kind.
    pub kind: String,
    /// `metadata.name`.
    pub name: String,
    /// `metadata.namespace`, or "".
    pub namespace: String,
    /// The pod template's labels.
    pub labels: Value,
    /// The pod template's annotations.
    pub annotations: Value,
    /// The container that gets mounts and env.
    pub main_container: String,
    /// The main container's ports.
    pub ports: Value,
}

/// Everything a pattern renders from.
#[derive(Debug, Clone, Copy)]
pub struct RenderContext<'a> {
    /// The workload.
    pub workload: &'a WorkloadInfo,
    /// The whole object, as JSON.
    pub object: &'a Value,
    /// Validated, defaulted parameters.
    pub params: &'a Params,
    /// The instance name.
    pub instance: &'a str,
    /// The target.
    pub target: &'a TargetInfo,
}

/// A pattern failed to produce a contribution.
#[derive(Debug, thiserror::Error)]
pub enum PatternError {
    /// The template did not render.
    #[error("pattern {pattern}: template {template} did not render: {message}")]
    Render {
        /// The pattern id.
        pattern: String,
        /// The template name.
        template: String,
        /// The renderer's message.
        message: String,
    },
    /// The pattern refused these parameters (`{{fail}}` in a template).
    #[error("pattern {pattern}: {message}")]
    Refused {
        /// The pattern id.
        pattern: String,
        /// Its message.
        message: String,
    },
    /// The pattern's runtime failed (a plugin trapped, ran out of time or memory…).
    #[error("pattern {pattern}: {source}")]
    Runtime {
        /// The pattern id.
        pattern: String,
        /// The typed failure.
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The rendered contribution is not valid.
    #[error("pattern {pattern}: invalid contribution: {message}")]
    InvalidContribution {
        /// The pattern id.
        pattern: String,
        /// What is wrong.
        message: String,
    },
    /// The pattern declined this workload (a plugin's `not-applicable`): the object is
    /// skipped, not failed.
    #[error("pattern {pattern} does not apply: {reason}")]
    NotApplicable {
        /// The pattern id.
        pattern: String,
        /// Why, in the pattern's words.
        reason: String,
    },
}

/// A pattern: metadata plus a pure function from context to contribution.
pub trait Pattern: Send + Sync {
    /// Metadata and parameter schema.
    fn spec(&self) -> &PatternSpec;
    /// Renders what the pattern adds to the workload.
    /// Shared, so a pattern that renders the same for every object renders once per run.
    fn render(&self, ctx: &RenderContext<'_>) -> Result<Arc<Contribution>, PatternError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn native_sidecars_follow_mode_and_version() {
        let t = |mode, v| {
            TargetInfo {
                kube_version: v,
                mode,
            }
            .native_sidecars()
        };
        assert!(t(SidecarMode::Auto, None));
        assert!(t(SidecarMode::Auto, Some((1, 29))));
        assert!(!t(SidecarMode::Auto, Some((1, 28))));
        assert!(t(SidecarMode::Native, Some((1, 28))));
        assert!(!t(SidecarMode::Classic, None));
    }

    #[test]
    fn kube_versions_parse() {
        assert_eq!(parse_kube_version("1.29"), Some((1, 29)));
        assert_eq!(parse_kube_version("v1.37.1"), Some((1, 37)));
        assert_eq!(parse_kube_version("1.28+"), Some((1, 28)));
        assert_eq!(parse_kube_version("one"), None);
    }
}
