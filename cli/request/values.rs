//! The one values-file format, read by `add`, `new`, `inject` and written by the wizard:
//!
//! ```yaml
//! apiVersion: kubectl-pattern/v1
//! kind: Values
//! workload: {kind: Deployment, name: web, image: nginx:1.27.3, ports: [80]}   # new only
//! patterns:
//!   log-shipper: {logDir: /var/log/web}
//!   wait-for: {host: db.shop.svc}
//! ```
//!
//! Files without `apiVersion` are read too: `new`'s earlier files (the same keys), and `add`'s
//! earlier flat format (`NAME: VALUE`, `PATTERN: {NAME: VALUE}`), which is deprecated.

use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::engine::yaml;

/// The `apiVersion` of values files.
pub const API_VERSION: &str = "kubectl-pattern/v1";
/// The `kind` of values files.
pub const KIND: &str = "Values";

/// A values file, in whichever format it was written.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ValuesFile {
    /// `new`'s workload answers.
    pub workload: Option<WorkloadValues>,
    /// Pattern id (or instance) → NAME: VALUE, in the order the patterns apply.
    pub patterns: Map<String, Value>,
    /// Values for whichever pattern takes them (the deprecated flat format only).
    pub unscoped: Vec<(String, Value)>,
    /// Read from the deprecated flat format of `add`.
    pub legacy_flat: bool,
}

/// The workload answers of `new`; each one is also a flag.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct WorkloadValues {
    /// Deployment, StatefulSet, DaemonSet, Job, CronJob or Pod.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// The name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// The main container's image.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    /// Its ports.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ports: Option<Vec<u16>>,
    /// Its command.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<Vec<String>>,
    /// Replicas.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replicas: Option<u32>,
    /// The CronJob schedule.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schedule: Option<String>,
    /// Add a Service.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<bool>,
    /// The main container's resource requests: `{cpu: 100m, memory: 128Mi}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requests: Option<Map<String, Value>>,
    /// Its limits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limits: Option<Map<String, Value>>,
}

/// The file as written: the current format.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Current {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    api_version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    workload: Option<WorkloadValues>,
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    patterns: Map<String, Value>,
}

/// A values file that cannot be used, naming the file and what to fix.
#[derive(Debug, thiserror::Error)]
pub enum ValuesError {
    /// The file cannot be read.
    #[error("cannot read values file {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// Not the format.
    #[error(
        "values file {path}{at}: {message} (expected apiVersion: {API_VERSION}, kind: {KIND}, workload: {{…}}, patterns: {{PATTERN: {{NAME: VALUE}}}})"
    )]
    Format {
        /// The file.
        path: String,
        /// ` line N`, or "".
        at: String,
        /// What is wrong.
        message: String,
    },
}

impl ValuesFile {
    /// A values file with these pattern sections.
    pub fn from_patterns(sections: impl IntoIterator<Item = (String, Map<String, Value>)>) -> Self {
        ValuesFile {
            patterns: sections
                .into_iter()
                .map(|(k, v)| (k, Value::Object(v)))
                .collect(),
            ..Default::default()
        }
    }

    /// Reads and parses a values file.
    pub fn read(path: &Path) -> Result<Self, ValuesError> {
        let name = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| ValuesError::Read {
            path: name.clone(),
            source,
        })?;
        Self::parse(&text, &name)
    }

    /// Parses a values file's text (`name` names it in messages).
    pub fn parse(text: &str, name: &str) -> Result<Self, ValuesError> {
        let fail = |line: Option<u64>, message: String| ValuesError::Format {
            path: name.to_string(),
            at: line.map(|l| format!(" line {l}")).unwrap_or_default(),
            message,
        };
        let value: Value = yaml::from_str(text).map_err(|e| fail(e.line, e.message))?;
        let map = match value {
            Value::Null => return Ok(ValuesFile::default()),
            Value::Object(map) => map,
            _ => return Err(fail(None, "expected a mapping".into())),
        };
        let current = map.contains_key("apiVersion")
            || map.keys().all(|k| k == "workload" || k == "patterns");
        if !current {
            return Ok(Self::legacy_flat(map));
        }
        let file: Current =
            serde_json::from_value(Value::Object(map)).map_err(|e| fail(None, e.to_string()))?;
        if let Some(v) = &file.api_version
            && (v != API_VERSION || file.kind.as_deref() != Some(KIND))
        {
            return Err(fail(
                None,
                format!(
                    "apiVersion {v:?} kind {:?} is not a values file this version reads",
                    file.kind.as_deref().unwrap_or_default()
                ),
            ));
        }
        for (id, section) in &file.patterns {
            if !matches!(section, Value::Object(_) | Value::Null) {
                return Err(fail(
                    None,
                    format!("patterns.{id}: expected a mapping of NAME: VALUE"),
                ));
            }
        }
        let patterns = file
            .patterns
            .into_iter()
            .map(|(k, v)| match v {
                Value::Null => (k, Value::Object(Map::new())),
                v => (k, v),
            })
            .collect();
        Ok(ValuesFile {
            workload: file.workload,
            patterns,
            ..Default::default()
        })
    }

    /// The flat format (`add`'s earlier values files, a PatternTransformer's `values`):
    /// `NAME: VALUE` for whichever pattern takes it, and `PATTERN: {NAME: VALUE}` (a
    /// parameter value is never a mapping).
    pub fn flat(map: Map<String, Value>) -> Self {
        let mut file = Self::legacy_flat(map);
        file.legacy_flat = false;
        file
    }

    fn legacy_flat(map: Map<String, Value>) -> Self {
        let mut file = ValuesFile {
            legacy_flat: true,
            ..Default::default()
        };
        for (key, value) in map {
            match value {
                Value::Object(_) => {
                    file.patterns.insert(key, value);
                }
                value => file.unscoped.push((key, value)),
            }
        }
        file
    }

    /// The sections' values, as `(pattern, name, value)`.
    pub fn section(&self, pattern: &str) -> Option<&Map<String, Value>> {
        self.patterns.get(pattern).and_then(Value::as_object)
    }

    /// The file's text in the current format (with `apiVersion` and `kind`).
    pub fn to_yaml(&self) -> Result<String, crate::engine::yaml::YamlError> {
        yaml::to_string(&Current {
            api_version: Some(API_VERSION.into()),
            kind: Some(KIND.into()),
            workload: self.workload.clone(),
            patterns: self.patterns.clone(),
        })
    }
}

/// What to tell a user of the deprecated flat format.
pub fn legacy_note(path: &Path) -> String {
    format!(
        "values file {}: the flat NAME: VALUE format is deprecated; write `patterns: {{PATTERN: {{NAME: VALUE}}}}` (see `kubectl pattern new --save-values`)",
        path.display()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_format_reads() {
        let current = ValuesFile::parse(
            "apiVersion: kubectl-pattern/v1\nkind: Values\npatterns:\n  wait-for: {host: db}\n  log-shipper:\n",
            "v.yaml",
        )
        .unwrap();
        assert_eq!(current.section("wait-for").unwrap()["host"], json!("db"));
        assert!(current.section("log-shipper").unwrap().is_empty());
        assert!(!current.legacy_flat);
        let new_before = ValuesFile::parse(
            "workload: {kind: Deployment, name: web}\npatterns: {wait-for: {host: db}}\n",
            "v.yaml",
        )
        .unwrap();
        assert_eq!(new_before.workload.unwrap().name.as_deref(), Some("web"));
        let flat = ValuesFile::parse("host: db\nlog-shipper: {logDir: /x}\n", "v.yaml").unwrap();
        assert!(flat.legacy_flat);
        assert_eq!(flat.unscoped, vec![("host".to_string(), json!("db"))]);
        assert_eq!(flat.section("log-shipper").unwrap()["logDir"], json!("/x"));
    }

    #[test]
    fn a_written_file_reads_back_and_names_its_version() {
        let file = ValuesFile::from_patterns([(
            "wait-for".to_string(),
            [("host".to_string(), json!("db"))].into_iter().collect(),
        )]);
        let text = file.to_yaml().unwrap();
        assert!(
            text.starts_with("apiVersion: kubectl-pattern/v1\nkind: Values\n"),
            "{text}"
        );
        assert_eq!(ValuesFile::parse(&text, "v").unwrap(), file);
    }

    #[test]
    fn wrong_shapes_say_what_is_expected() {
        let err = ValuesFile::parse("patterns: {wait-for: 3}\n", "v.yaml").unwrap_err();
        assert!(
            err.to_string()
                .contains("patterns.wait-for: expected a mapping"),
            "{err}"
        );
        let err = ValuesFile::parse("apiVersion: v9\nkind: Values\n", "v.yaml").unwrap_err();
        assert!(
            err.to_string()
                .contains("not a values file this version reads"),
            "{err}"
        );
        let err = ValuesFile::parse("- a\n", "v.yaml").unwrap_err();
        assert!(err.to_string().contains("expected a mapping"), "{err}");
    }
}
