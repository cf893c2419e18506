//! The tracking annotation: what each applied pattern instance added to a pod template.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::params::Params;
use super::workload::Workload;

/// The pod template annotation holding the records, as a JSON list.
pub const TRACKING_ANNOTATION: &str = "pattern.kubectl.io/applied";

/// A mount added to an app container.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MountRecord {
    /// The app container.
    pub container: String,
    /// Where it is mounted.
    pub mount_path: String,
}

/// An env var added to an app container.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnvRecord {
    /// The app container.
    pub container: String,
    /// The variable's name.
    pub name: String,
}

/// What one pattern instance added.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AppliedRecord {
    /// Pattern id.
    pub pattern: String,
    /// Instance name.
    pub instance: String,
    /// Pattern version.
    pub version: String,
    /// `sha256:` + the first 16 hex digits of the parameters' hash.
    pub params_hash: String,
    /// Helper containers (wherever they were placed).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub containers: Vec<String>,
    /// Init containers.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub init_containers: Vec<String>,
    /// Volumes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub volumes: Vec<String>,
    /// Mounts on app containers.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mounts: Vec<MountRecord>,
    /// Env vars on app containers.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub env: Vec<EnvRecord>,
    /// Pod template annotation keys.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub annotations: Vec<String>,
    /// Lists and maps the merge created, deleted again when they become empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub created: Vec<String>,
}

impl AppliedRecord {
    /// True when the record names this container (helper or init).
    pub fn owns_container(&self, name: &str) -> bool {
        self.containers
            .iter()
            .chain(&self.init_containers)
            .any(|c| c == name)
    }
}

/// The tracking annotation cannot be read.
#[derive(Debug, thiserror::Error)]
#[error(
    "the {TRACKING_ANNOTATION} annotation is not valid ({0}); fix it or delete it, then re-apply the patterns"
)]
pub struct TrackingError(pub String);

/// Reads the records of a workload (none when the annotation is absent).
pub fn read(workload: &Workload<'_>) -> Result<Vec<AppliedRecord>, TrackingError> {
    let records: Vec<AppliedRecord> = match workload.pod_annotation(TRACKING_ANNOTATION) {
        None => return Ok(Vec::new()),
        Some(text) => serde_json::from_str(text).map_err(|e| TrackingError(e.to_string()))?,
    };
    // The annotation is input like any other: a stale or forged record must not make the
    // tool delete the app's own containers.
    let targets: Vec<&str> = records
        .iter()
        .flat_map(|r| {
            r.mounts
                .iter()
                .map(|m| m.container.as_str())
                .chain(r.env.iter().map(|e| e.container.as_str()))
        })
        .collect();
    for r in &records {
        if let Some(c) = r
            .containers
            .iter()
            .chain(&r.init_containers)
            .find(|c| targets.contains(&c.as_str()))
        {
            return Err(TrackingError(format!(
                "instance {} claims container {c:?}, which patterns treat as an app container",
                r.instance
            )));
        }
        if records.iter().filter(|o| o.instance == r.instance).count() > 1 {
            return Err(TrackingError(format!(
                "instance {} is recorded twice",
                r.instance
            )));
        }
    }
    let apps = workload.container_names();
    if !apps.is_empty()
        && apps
            .iter()
            .all(|c| records.iter().any(|r| r.owns_container(c)))
    {
        return Err(TrackingError(
            "it claims every app container as a helper".into(),
        ));
    }
    Ok(records)
}

/// Writes the records (removes the annotation when there are none).
pub fn write(workload: &mut Workload<'_>, records: &[AppliedRecord]) {
    if records.is_empty() {
        if let Some(Value::Object(map)) = workload
            .pod_metadata_if_any_mut()
            .and_then(|m| m.get_mut("annotations"))
        {
            map.remove(TRACKING_ANNOTATION);
        }
        return;
    }
    let (meta, _) = workload.pod_metadata_mut();
    let annotations = meta
        .entry("annotations")
        .or_insert_with(|| Value::Object(Default::default()));
    if let Some(map) = annotations.as_object_mut() {
        let text = serde_json::to_string(records).unwrap_or_default();
        map.insert(TRACKING_ANNOTATION.to_string(), Value::String(text));
    }
}

/// A short, stable hash of validated parameters.
pub fn params_hash(params: &Params) -> String {
    let canonical = serde_json::to_string(&params.0).unwrap_or_default();
    let digest = Sha256::digest(canonical.as_bytes());
    let hex: String = digest.iter().take(8).map(|b| format!("{b:02x}")).collect();
    format!("sha256:{hex}")
}
