//! The tracking annotation: what each applied pattern instance added to a pod template.
//!
//! # Format
//!
//! The pod template annotation `pattern.kubectl.io/applied` holds compact JSON. Since format 2
//! it is an object with the format version and one record per instance, in the order they were
//! applied:
//!
//! ```json
//! {"version":2,"instances":[{"pattern":"log-shipper","instance":"log-shipper",
//!   "version":"1.0.0","paramsHash":"sha256:78178a99395cf2f0","containers":["log-shipper"],
//!   "volumes":["log-shipper-logs"],"mounts":[{"container":"web","mountPath":"/var/log/app"}],
//!   "created":["initContainers","volumes","volumeMounts@web","annotations"]}]}
//! ```
//!
//! A record may name the server-side apply `fieldManager` it was applied with in a cluster; a
//! record without one (every record written to files, and every record written before this
//! field existed) was applied, if at all, by the default manager `kubectl-pattern`. The field is
//! optional, so format 2 with and without it read alike (builds that predate it ignore it).
//!
//! A record lists the helpers (`containers`: long-running, wherever placed; `initContainers`),
//! `volumes`, `mounts` and `env` on app containers, pod `annotations`, and the lists and maps
//! the instance `created` (deleted again once empty). A created marker is a pod list
//! (`containers`, `initContainers`, `volumes`), a list of an app container
//! (`volumeMounts@NAME`, `env@NAME`), `annotations` or `metadata`; empty fields are left out.
//!
//! A record may also keep the `position` its init containers and native sidecars were put at
//! with `--position` (`first`, `last`, `before:NAME`, `after:NAME`), so that a re-run keeps
//! it; optional like `fieldManager`, so records without it read as the default order.
//!
//! Since then a record also keeps a `contentHash` of its helpers and volumes as written, so
//! that `status` can tell a hand edit; optional as well (older records cannot tell). And, for
//! files, `nullAs`: how the nulls it filled were spelled (`{"/spec/template/spec/volumes":"~"}`),
//! so that `remove` restores the bytes; optional too (older records restore `volumes:`).
//!
//! Format 1 (no version) is the bare JSON array of the same records; it is read forever, and an
//! object keeps it until its records change. A version newer than this build knows is refused
//! with a request to upgrade kubectl-pattern.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::merge::HelperPosition;
use super::podspec::{ContainerList, ItemRef, ListRef, PodList};
use super::workload::Workload;

/// The pod template annotation holding the records.
pub const TRACKING_ANNOTATION: &str = "pattern.kubectl.io/applied";

/// The field manager a record without `fieldManager` was applied with.
pub const DEFAULT_FIELD_MANAGER: &str = "kubectl-pattern";

/// The format version this build writes (and the newest it reads).
pub const FORMAT_VERSION: u64 = 2;
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
    /// Where the instance's init containers and native sidecars were put with `--position`
    /// (`first`, `last`, `before:NAME`, `after:NAME`); absent: the default order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub position: Option<HelperPosition>,
    /// `sha256:` + 16 hex digits over the helpers and volumes as written (see
    /// `crate::drift`), to tell a hand edit; absent in records written before it existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_hash: Option<String>,
    // The fields below differ from pod to pod in an injection: they stay last (see
    // `crate::inject::record`).
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
    pub created: Vec<Created>,
    /// Of `created`, the fields that were there with a null value (`volumes:`) before the merge
    /// filled them: set back to null, not deleted, once they are empty again. Absent in records
    /// written before it existed (those fields are deleted).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub was_null: Vec<Created>,
    /// How a file spelled the nulls the merge filled (`volumes: ~`), by path from the
    /// workload's root (JSON Pointer syntax; a list item named by its `name`): `remove`
    /// writes them back so. Empty for the plain `volumes:`; absent in older records.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub null_as: BTreeMap<String, String>,
    /// The server-side apply field manager the instance was applied with in a cluster, when it
    /// is not `kubectl-pattern` (the default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field_manager: Option<String>,
}

/// A list or map a pattern instance created; serialized as a compact marker string.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Created {
    /// A list of the pod spec (`containers`, `initContainers`, `volumes`).
    PodList(PodList),
    /// A list of an app container (`volumeMounts@NAME`, `env@NAME`).
    ContainerList {
        /// The app container.
        container: String,
        /// Which list.
        list: ContainerList,
    },
    /// The pod template's annotations map (`annotations`).
    Annotations,
    /// The pod template's metadata (`metadata`).
    Metadata,
}

impl Created {
    /// The list this marker names, if it is a list.
    pub fn list(&self) -> Option<ListRef> {
        match self {
            Created::PodList(l) => Some(ListRef::Pod(*l)),
            Created::ContainerList { container, list } => Some(ListRef::app(container, *list)),
            Created::Annotations | Created::Metadata => None,
        }
    }

    /// The marker of a created list (`None` for a list of a container that is not an app
    /// container: those are never created by a merge).
    pub fn of_list(list: &ListRef) -> Option<Self> {
        match list {
            ListRef::Pod(l) => Some(Created::PodList(*l)),
            ListRef::Container {
                in_list: PodList::Containers,
                container,
                list,
            } => Some(Created::ContainerList {
                container: container.clone(),
                list: *list,
            }),
            ListRef::Container { .. } => None,
        }
    }

    /// Deletion order: inner lists, then the annotations map, then the metadata holding it.
    pub fn rank(&self) -> u8 {
        match self {
            Created::Annotations => 1,
            Created::Metadata => 2,
            _ => 0,
        }
    }

    /// The marker string.
    pub fn marker(&self) -> String {
        match self {
            Created::PodList(l) => l.key().to_string(),
            Created::ContainerList { container, list } => format!("{}@{container}", list.key()),
            Created::Annotations => "annotations".into(),
            Created::Metadata => "metadata".into(),
        }
    }

    /// Parses a marker string.
    pub fn parse(marker: &str) -> Option<Self> {
        match marker {
            "annotations" => Some(Created::Annotations),
            "metadata" => Some(Created::Metadata),
            _ => match marker.split_once('@') {
                Some((list, container)) if !container.is_empty() => Some(Created::ContainerList {
                    container: container.to_string(),
                    list: ContainerList::from_key(list)?,
                }),
                Some(_) => None,
                None => PodList::from_key(marker).map(Created::PodList),
            },
        }
    }
}

impl Serialize for Created {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.marker())
    }
}

impl<'de> Deserialize<'de> for Created {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let marker = String::deserialize(d)?;
        Created::parse(&marker)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown created marker {marker:?}")))
    }
}

impl AppliedRecord {
    /// The field manager that owns the instance's fields in a cluster.
    pub fn field_manager(&self) -> &str {
        self.field_manager
            .as_deref()
            .unwrap_or(DEFAULT_FIELD_MANAGER)
    }

    /// Records `manager` as the instance's field manager (the default is left out).
    pub fn set_field_manager(&mut self, manager: &str) {
        self.field_manager = (manager != DEFAULT_FIELD_MANAGER).then(|| manager.to_string());
    }

    /// True when the record names this container (helper or init).
    pub fn owns_container(&self, name: &str) -> bool {
        self.containers
            .iter()
            .chain(&self.init_containers)
            .any(|c| c == name)
    }

    /// The helpers (long-running and init), by name: the record does not say in which pod
    /// list they are.
    pub fn helpers(&self) -> impl Iterator<Item = &String> {
        self.containers.iter().chain(&self.init_containers)
    }

    /// The volumes, as items of the pod spec.
    pub fn volume_items(&self) -> impl Iterator<Item = ItemRef> + '_ {
        self.volumes
            .iter()
            .map(|v| ItemRef::new(ListRef::Pod(PodList::Volumes), v))
    }

    /// The mounts and env vars on app containers, as items of their lists.
    pub fn wiring_items(&self) -> impl Iterator<Item = ItemRef> + '_ {
        let mounts = self.mounts.iter().map(|m| {
            ItemRef::new(
                ListRef::app(&m.container, ContainerList::VolumeMounts),
                &m.mount_path,
            )
        });
        let env = self
            .env
            .iter()
            .map(|e| ItemRef::new(ListRef::app(&e.container, ContainerList::Env), &e.name));
        mounts.chain(env)
    }
}

/// The tracking annotation cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum TrackingError {
    /// Not JSON of either format.
    #[error(
        "the {TRACKING_ANNOTATION} annotation is not valid ({0}); fix it or delete it, then re-apply the patterns"
    )]
    Syntax(#[source] serde_json::Error),
    /// A record claims a container that another record wires as an app container.
    #[error(
        "the {TRACKING_ANNOTATION} annotation is not valid (instance {instance} claims container {container:?}, which patterns treat as an app container); fix it or delete it, then re-apply the patterns"
    )]
    ClaimsAppContainer {
        /// The instance.
        instance: String,
        /// The container.
        container: String,
    },
    /// Two records of one instance.
    #[error(
        "the {TRACKING_ANNOTATION} annotation is not valid (instance {0} is recorded twice); fix it or delete it, then re-apply the patterns"
    )]
    RecordedTwice(String),
    /// Every app container is claimed as a helper.
    #[error(
        "the {TRACKING_ANNOTATION} annotation is not valid (it claims every app container as a helper); fix it or delete it, then re-apply the patterns"
    )]
    ClaimsEveryContainer,
    /// Written by a newer kubectl-pattern.
    #[error(
        "the {TRACKING_ANNOTATION} annotation has format version {0}, newer than this kubectl-pattern reads (up to {FORMAT_VERSION}); upgrade kubectl-pattern"
    )]
    NewerFormat(u64),
}

/// Format 2 and later: the version and the records.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Versioned<R> {
    version: u64,
    instances: R,
}

/// Parses the annotation text of any format this build reads.
pub fn decode(text: &str) -> Result<Vec<AppliedRecord>, TrackingError> {
    let value: Value = serde_json::from_str(text).map_err(TrackingError::Syntax)?;
    if value.is_array() {
        // Format 1: the bare array.
        return serde_json::from_value(value).map_err(TrackingError::Syntax);
    }
    // Whatever else a newer format holds, its version says that it is newer.
    match value.get("version").and_then(Value::as_u64) {
        Some(v) if v > FORMAT_VERSION => return Err(TrackingError::NewerFormat(v)),
        Some(FORMAT_VERSION) => {}
        _ => {
            return Err(TrackingError::Syntax(serde::de::Error::custom(format!(
                "expected a list of records, or {{\"version\":{FORMAT_VERSION},\"instances\":[…]}}"
            ))));
        }
    }
    let stored: Versioned<Vec<AppliedRecord>> =
        serde_json::from_value(value).map_err(TrackingError::Syntax)?;
    Ok(stored.instances)
}

/// The annotation text of `records`, in the current format.
pub fn encode(records: &[AppliedRecord]) -> String {
    let stored = Versioned {
        version: FORMAT_VERSION,
        instances: records,
    };
    serde_json::to_string(&stored).unwrap_or_default()
}

/// Reads the records of a workload (none when the annotation is absent).
pub fn read(workload: &Workload<'_>) -> Result<Vec<AppliedRecord>, TrackingError> {
    let records = match workload.pod_annotation(TRACKING_ANNOTATION) {
        None => return Ok(Vec::new()),
        Some(text) => decode(text)?,
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
        if let Some(c) = r.helpers().find(|c| targets.contains(&c.as_str())) {
            return Err(TrackingError::ClaimsAppContainer {
                instance: r.instance.clone(),
                container: c.clone(),
            });
        }
        if records.iter().filter(|o| o.instance == r.instance).count() > 1 {
            return Err(TrackingError::RecordedTwice(r.instance.clone()));
        }
    }
    let apps = workload.container_names();
    if !apps.is_empty()
        && apps
            .iter()
            .all(|c| records.iter().any(|r| r.owns_container(c)))
    {
        return Err(TrackingError::ClaimsEveryContainer);
    }
    Ok(records)
}

/// Writes the records in the current format (removes the annotation when there are none).
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
        map.insert(
            TRACKING_ANNOTATION.to_string(),
            Value::String(encode(records)),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const V1: &str = r#"[{"pattern":"git-clone","instance":"git-clone","version":"1.0.0","paramsHash":"sha256:9059edcae4dd3869","initContainers":["git-clone"],"volumes":["git-clone-repo"],"mounts":[{"container":"report","mountPath":"/git"}],"created":["initContainers","volumes","volumeMounts@report","metadata","annotations"]}]"#;

    #[test]
    fn the_unversioned_format_is_read_with_typed_markers() {
        let records = decode(V1).unwrap();
        assert_eq!(records.len(), 1);
        assert_eq!(
            records[0].created,
            [
                Created::PodList(PodList::InitContainers),
                Created::PodList(PodList::Volumes),
                Created::ContainerList {
                    container: "report".into(),
                    list: ContainerList::VolumeMounts
                },
                Created::Metadata,
                Created::Annotations,
            ]
        );
        assert_eq!(records[0].mounts[0].mount_path, "/git");
    }

    #[test]
    fn null_fields_are_an_optional_list_of_markers() {
        let text = r#"{"version":2,"instances":[{"pattern":"p","instance":"p","version":"1","paramsHash":"h","created":["volumes","annotations"],"wasNull":["volumes"]}]}"#;
        let records = decode(text).unwrap();
        assert_eq!(records[0].was_null, [Created::PodList(PodList::Volumes)]);
        assert_eq!(encode(&records), text);
        // Records written before the field existed have none.
        assert!(decode(V1).unwrap()[0].was_null.is_empty());
    }

    #[test]
    fn null_spellings_are_an_optional_map_of_paths() {
        let text = r#"{"version":2,"instances":[{"pattern":"p","instance":"p","version":"1","paramsHash":"h","created":["volumes"],"wasNull":["volumes"],"nullAs":{"/spec/template/spec/volumes":"~"}}]}"#;
        let records = decode(text).unwrap();
        assert_eq!(records[0].null_as["/spec/template/spec/volumes"], "~");
        assert_eq!(encode(&records), text);
        assert!(decode(V1).unwrap()[0].null_as.is_empty());
    }

    #[test]
    fn the_current_format_is_versioned_and_reads_back() {
        let records = decode(V1).unwrap();
        let text = encode(&records);
        assert!(
            text.starts_with(r#"{"version":2,"instances":[{"pattern":"git-clone""#),
            "{text}"
        );
        assert!(
            text.ends_with(r#""created":["initContainers","volumes","volumeMounts@report","metadata","annotations"]}]}"#),
            "{text}"
        );
        assert_eq!(decode(&text).unwrap(), records);
    }

    #[test]
    fn the_field_manager_is_optional_in_format_2() {
        // Format 2 as written before records named their field manager: the default.
        let before = r#"{"version":2,"instances":[{"pattern":"log-shipper","instance":"log-shipper","version":"1.0.0","paramsHash":"sha256:78178a99395cf2f0","containers":["log-shipper"]}]}"#;
        let records = decode(before).unwrap();
        assert_eq!(records[0].field_manager, None);
        assert_eq!(records[0].field_manager(), "kubectl-pattern");
        // Written back unchanged: the default is not spelled out.
        assert_eq!(encode(&records), before);
        // Format 1 reads the same way.
        assert_eq!(decode(V1).unwrap()[0].field_manager(), "kubectl-pattern");
        let mut record = records[0].clone();
        record.set_field_manager("foo");
        let text = encode(std::slice::from_ref(&record));
        assert!(
            text.ends_with(r#""containers":["log-shipper"],"fieldManager":"foo"}]}"#),
            "{text}"
        );
        assert_eq!(decode(&text).unwrap()[0].field_manager(), "foo");
        record.set_field_manager("kubectl-pattern");
        assert_eq!(encode(&[record]), before);
    }

    #[test]
    fn the_position_is_optional_in_format_2() {
        let before = r#"{"version":2,"instances":[{"pattern":"wait-for","instance":"wait-for","version":"1.0.0","paramsHash":"sha256:78178a99395cf2f0","initContainers":["wait-for"]}]}"#;
        let mut records = decode(before).unwrap();
        assert_eq!(records[0].position, None);
        assert_eq!(encode(&records), before);
        records[0].position = Some(HelperPosition::After("migrate".into()));
        let text = encode(&records);
        assert!(
            text.ends_with(r#""initContainers":["wait-for"],"position":"after:migrate"}]}"#),
            "{text}"
        );
        assert_eq!(decode(&text).unwrap(), records);
        let bad = text.replace("after:migrate", "sideways");
        assert!(matches!(decode(&bad), Err(TrackingError::Syntax(_))));
    }

    #[test]
    fn a_newer_format_asks_for_an_upgrade() {
        let err = decode(r#"{"version":3,"instances":[],"positions":{}}"#).unwrap_err();
        assert!(matches!(err, TrackingError::NewerFormat(3)), "{err:?}");
        assert!(err.to_string().contains("upgrade kubectl-pattern"), "{err}");
    }

    #[test]
    fn unknown_markers_and_shapes_are_refused() {
        for text in [
            r#"[{"pattern":"p","instance":"p","version":"1","paramsHash":"h","created":["spec"]}]"#,
            r#"[{"pattern":"p","instance":"p","version":"1","paramsHash":"h","created":["env@"]}]"#,
            r#"{"version":2}"#,
            r#"{"version":1,"instances":[]}"#,
            r#"{"instances":[]}"#,
            r#"{"version":2,"instances":[],"extra":1}"#,
            "[{broken",
        ] {
            assert!(
                matches!(decode(text), Err(TrackingError::Syntax(_))),
                "{text}"
            );
        }
    }
}
