//! The lists of a pod spec that patterns edit, named by type (which pod list, which app
//! container's list, which item by its key), and the edits on the spec held as JSON: find by
//! key, insert or replace in place, remove, and delete lists once they are empty.
//!
//! The same vocabulary names the edits of a merge plan, the parts of a tracking record and the
//! fields of the server-side apply configuration, so no consumer re-derives key strings.

use serde_json::{Map, Value};

use super::workload::Workload;

/// A list of the pod spec that patterns add items to; items are identified by `name`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PodList {
    /// `spec.containers`: the app containers and classic helpers.
    Containers,
    /// `spec.initContainers`: init containers and native sidecars.
    InitContainers,
    /// `spec.volumes`.
    Volumes,
}

impl PodList {
    /// The field name in the pod spec.
    pub fn key(self) -> &'static str {
        match self {
            PodList::Containers => "containers",
            PodList::InitContainers => "initContainers",
            PodList::Volumes => "volumes",
        }
    }

    /// The list named `key` in the pod spec.
    pub fn from_key(key: &str) -> Option<Self> {
        [
            PodList::Containers,
            PodList::InitContainers,
            PodList::Volumes,
        ]
        .into_iter()
        .find(|l| l.key() == key)
    }
}

/// A list of a container that patterns add items to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ContainerList {
    /// `volumeMounts`, identified by `mountPath`.
    VolumeMounts,
    /// `env`, identified by `name`.
    Env,
}

impl ContainerList {
    /// The field name in the container.
    pub fn key(self) -> &'static str {
        match self {
            ContainerList::VolumeMounts => "volumeMounts",
            ContainerList::Env => "env",
        }
    }

    /// The list named `key` in a container.
    pub fn from_key(key: &str) -> Option<Self> {
        [ContainerList::VolumeMounts, ContainerList::Env]
            .into_iter()
            .find(|l| l.key() == key)
    }

    /// The field that identifies an item.
    pub fn id_field(self) -> &'static str {
        match self {
            ContainerList::VolumeMounts => "mountPath",
            ContainerList::Env => "name",
        }
    }
}

/// A list that patterns edit: one of the pod spec, or one of a container's.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ListRef {
    /// A list of the pod spec.
    Pod(PodList),
    /// A list of the container `container` of the pod list `in_list` (`Containers` for the app
    /// containers).
    Container {
        /// The pod list holding the container.
        in_list: PodList,
        /// The container's name.
        container: String,
        /// Which of its lists.
        list: ContainerList,
    },
}

impl ListRef {
    /// A list of the app container `container`.
    pub fn app(container: &str, list: ContainerList) -> Self {
        ListRef::Container {
            in_list: PodList::Containers,
            container: container.to_string(),
            list,
        }
    }

    /// The field that identifies an item: `name`, or `mountPath` for mounts.
    pub fn id_field(&self) -> &'static str {
        match self {
            ListRef::Pod(_) => "name",
            ListRef::Container { list, .. } => list.id_field(),
        }
    }

    /// The field name of the list in its parent (`containers`, `volumeMounts`…).
    pub fn key(&self) -> &'static str {
        match self {
            ListRef::Pod(l) => l.key(),
            ListRef::Container { list, .. } => list.key(),
        }
    }

    /// The key of `item` in this list (its name or mountPath).
    pub fn key_of<'v>(&self, item: &'v Value) -> Option<&'v str> {
        item.get(self.id_field()).and_then(Value::as_str)
    }

    /// The list in `spec`, if it exists and is a list.
    pub fn get<'s>(&self, spec: &'s Map<String, Value>) -> Option<&'s Vec<Value>> {
        self.parent(spec)?.get(self.key())?.as_array()
    }

    fn parent<'s>(&self, spec: &'s Map<String, Value>) -> Option<&'s Map<String, Value>> {
        match self {
            ListRef::Pod(_) => Some(spec),
            ListRef::Container {
                in_list, container, ..
            } => spec
                .get(in_list.key())?
                .as_array()?
                .iter()
                .find(|c| name_of(c) == Some(container))?
                .as_object(),
        }
    }

    fn parent_mut<'s>(
        &self,
        spec: &'s mut Map<String, Value>,
    ) -> Option<&'s mut Map<String, Value>> {
        match self {
            ListRef::Pod(_) => Some(spec),
            ListRef::Container {
                in_list, container, ..
            } => spec
                .get_mut(in_list.key())?
                .as_array_mut()?
                .iter_mut()
                .find(|c| name_of(c) == Some(container))?
                .as_object_mut(),
        }
    }

    /// The keys of the items of the list in `spec` (none when it is absent).
    pub fn keys<'s>(&self, spec: &'s Map<String, Value>) -> Vec<&'s str> {
        self.get(spec)
            .into_iter()
            .flatten()
            .filter_map(|i| self.key_of(i))
            .collect()
    }
}

/// One item of a list, by its key (a name, or a mount's mountPath).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ItemRef {
    /// The list.
    pub list: ListRef,
    /// The item's key.
    pub key: String,
}

impl ItemRef {
    /// The item `key` of `list`.
    pub fn new(list: ListRef, key: impl Into<String>) -> Self {
        ItemRef {
            list,
            key: key.into(),
        }
    }

    /// The first item with this key in `spec`.
    pub fn find<'s>(&self, spec: &'s Map<String, Value>) -> Option<&'s Value> {
        self.list
            .get(spec)?
            .iter()
            .find(|i| self.list.key_of(i) == Some(&self.key))
    }
}

/// Where a new item goes in its list (an item whose key is already there is replaced where it
/// is). The merge's default placement uses `Before` (helper init containers and native sidecars
/// go before the app's own init containers) and `Append`; `First` and `After` are there for a
/// placement chosen by the user.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Position {
    /// At the start.
    First,
    /// Right before the item with this key (at the end when there is none).
    Before(String),
    /// Right after the item with this key (at the end when there is none).
    After(String),
    /// At the end.
    #[default]
    Append,
}

impl Position {
    /// The index `items` gets the new item at, for a list whose items' keys are `key_of`.
    fn index<'v>(
        &self,
        items: &'v [Value],
        key_of: impl Fn(&'v Value) -> Option<&'v str>,
    ) -> usize {
        let at = |key: &str| items.iter().position(|v| key_of(v) == Some(key));
        match self {
            Position::First => 0,
            Position::Before(key) => at(key).unwrap_or(items.len()),
            Position::After(key) => at(key).map_or(items.len(), |i| i + 1),
            Position::Append => items.len(),
        }
    }
}

pub(crate) fn name_of(v: &Value) -> Option<&str> {
    v.get("name").and_then(Value::as_str)
}

/// The pod list holding the container `name`: init containers first (where native sidecars
/// are), then the containers.
pub fn container_list(spec: &Map<String, Value>, name: &str) -> Option<PodList> {
    [PodList::InitContainers, PodList::Containers]
        .into_iter()
        .find(|l| ListRef::Pod(*l).keys(spec).contains(&name))
}

/// `(port, protocol)` of every port `container` declares.
pub(crate) fn ports_of(container: &Value) -> Vec<(i32, String)> {
    container
        .get("ports")
        .and_then(Value::as_array)
        .map(|ports| {
            ports
                .iter()
                .filter_map(|p| {
                    let port = p.get("containerPort")?.as_i64()? as i32;
                    let proto = p.get("protocol").and_then(Value::as_str).unwrap_or("TCP");
                    Some((port, proto.to_string()))
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Removes every item with the key of `item` (nothing when the list is absent).
pub(crate) fn remove(spec: &mut Map<String, Value>, item: &ItemRef) {
    let field = item.list.key();
    if let Some(Value::Array(list)) = item
        .list
        .parent_mut(spec)
        .and_then(|parent| parent.get_mut(field))
    {
        list.retain(|v| item.list.key_of(v) != Some(&item.key));
    }
}

/// Creates the list as an empty list when it is not a list (its container must exist).
pub(crate) fn create(spec: &mut Map<String, Value>, list: &ListRef) {
    if let Some(parent) = list.parent_mut(spec)
        && !matches!(parent.get(list.key()), Some(Value::Array(_)))
    {
        parent.insert(list.key().to_string(), Value::Array(Vec::new()));
    }
}

/// Replaces the first item with the key of `value` where it is, or else inserts `value` at
/// `position` (the list must exist: see `create`).
pub(crate) fn upsert(
    spec: &mut Map<String, Value>,
    list: &ListRef,
    value: Value,
    position: &Position,
) {
    let field = list.key();
    let key = list.key_of(&value).map(str::to_string);
    if let Some(Value::Array(items)) = list.parent_mut(spec).and_then(|p| p.get_mut(field)) {
        match items
            .iter()
            .position(|v| key.is_some() && list.key_of(v) == key.as_deref())
        {
            Some(i) => items[i] = value,
            None => {
                let i = position.index(items, |v| list.key_of(v));
                items.insert(i, value);
            }
        }
    }
}

/// True when `v` is absent or an empty list or map.
pub(crate) fn is_empty(v: Option<&Value>) -> bool {
    match v {
        None => true,
        Some(Value::Array(a)) => a.is_empty(),
        Some(Value::Object(m)) => m.is_empty(),
        _ => false,
    }
}

/// Deletes the list of `list` when it is empty (a list of a missing container is gone).
pub(crate) fn drop_list_if_empty(workload: &mut Workload<'_>, list: &ListRef, to_null: bool) {
    let spec = workload.pod_spec_mut();
    if let Some(parent) = list.parent_mut(spec)
        && is_empty(parent.get(list.key()))
    {
        match to_null {
            true => parent.insert(list.key().to_string(), Value::Null),
            false => parent.remove(list.key()),
        };
    }
}
