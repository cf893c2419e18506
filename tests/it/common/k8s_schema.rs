//! The Kubernetes 1.37 OpenAPI schemas that `kubernetes-validate` ships, read for their
//! `x-kubernetes-*` markers: which lists and maps are atomic, keyed or sets, which structs are
//! atomic, and the strategic-merge keys. From them: the API server's check that an
//! ApplyConfiguration mutates no atomic field, its typed-object check (no undeclared field),
//! the server-side-apply merge of an ApplyConfiguration, and a strategic merge patch.
//!
//! The schemas are big and not committed: the package installed by
//! `scripts/install-test-tools` is found next to `kubernetes-validate`, and its absence fails
//! the test.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use serde_json::{Map, Value};

/// How a list's items relate (`x-kubernetes-list-type`; a list without it is atomic).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListType {
    /// Replaced as a whole.
    Atomic,
    /// Items are unique scalars.
    Set,
    /// Items are keyed by these fields.
    Map(Vec<String>),
}

/// What a schema node is.
#[derive(Debug)]
pub enum Node<'s> {
    /// An object with declared fields.
    Struct {
        /// The fields' schemas.
        fields: &'s Map<String, Value>,
        /// `x-kubernetes-map-type: atomic`.
        atomic: bool,
    },
    /// A map of string keys to values of one schema.
    Map {
        /// The values' schema.
        values: &'s Value,
        /// `x-kubernetes-map-type: atomic`.
        atomic: bool,
    },
    /// A list.
    List {
        /// The items' schema.
        items: &'s Value,
        /// How they relate.
        kind: ListType,
        /// `x-kubernetes-patch-merge-key` when the strategic merge strategy is `merge`.
        merge_key: Option<&'s str>,
    },
    /// Anything else (strings, numbers, int-or-string, quantities…).
    Scalar,
}

/// The definitions of one Kubernetes version.
pub struct Schema {
    defs: Map<String, Value>,
}

/// The directory of the 1.37 strict schemas inside the installed `kubernetes-validate`.
pub fn schema_dir() -> PathBuf {
    let validator = super::validator();
    let real = std::fs::canonicalize(&validator).unwrap_or(validator);
    // venv/bin/kubernetes-validate → venv/lib/python3.X/site-packages/kubernetes_validate/…
    let venv = real
        .parent()
        .and_then(Path::parent)
        .expect("kubernetes-validate lives in a venv's bin/");
    let lib = venv.join("lib");
    let found = std::fs::read_dir(&lib)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| {
            e.path().join(
                "site-packages/kubernetes_validate/kubernetes-json-schema/v1.37.0-local-strict",
            )
        })
        .find(|p| p.join("_definitions.json").is_file());
    found.unwrap_or_else(|| {
        panic!(
            "the Kubernetes 1.37 schemas of kubernetes-validate were not found under {}: run scripts/install-test-tools (scripts/test does it)",
            lib.display()
        )
    })
}

/// The 1.37 schemas, read once.
pub fn schema() -> &'static Schema {
    static SCHEMA: OnceLock<Schema> = OnceLock::new();
    SCHEMA.get_or_init(|| {
        let path = schema_dir().join("_definitions.json");
        let text = std::fs::read_to_string(&path).expect("read _definitions.json");
        let doc: Value = serde_json::from_str(&text).expect("_definitions.json is JSON");
        let defs = doc["$defs"].as_object().expect("$defs").clone();
        Schema { defs }
    })
}

fn marker<'s>(node: &'s Value, key: &str) -> Option<&'s str> {
    node.get(key).and_then(Value::as_str)
}

impl Schema {
    /// A definition by name (`io.k8s.api.core.v1.Pod`).
    pub fn def(&self, name: &str) -> &Value {
        self.defs
            .get(name)
            .unwrap_or_else(|| panic!("no definition {name}"))
    }

    /// The Pod.
    pub fn pod(&self) -> &Value {
        self.def("io.k8s.api.core.v1.Pod")
    }

    /// `node` with its `$ref` followed.
    fn resolve<'s>(&'s self, node: &'s Value) -> &'s Value {
        match marker(node, "$ref").and_then(|r| r.strip_prefix("#/$defs/")) {
            Some(name) => self.resolve(self.def(name)),
            None => node,
        }
    }

    /// What `node` is; markers on the referring property count as well as the definition's.
    pub fn node<'s>(&'s self, node: &'s Value) -> Node<'s> {
        let target = self.resolve(node);
        let atomic = [node, target]
            .iter()
            .any(|n| marker(n, "x-kubernetes-map-type") == Some("atomic"));
        if let Some(fields) = target.get("properties").and_then(Value::as_object) {
            return Node::Struct { fields, atomic };
        }
        if let Some(values) = target.get("additionalProperties").filter(|v| v.is_object()) {
            return Node::Map { values, atomic };
        }
        if let Some(items) = target.get("items") {
            let kind = match marker(node, "x-kubernetes-list-type") {
                Some("map") => Node::keys(node),
                Some("set") => ListType::Set,
                _ => ListType::Atomic,
            };
            let merge_key = (marker(node, "x-kubernetes-patch-strategy")
                .is_some_and(|s| s.split(',').any(|s| s == "merge")))
            .then(|| marker(node, "x-kubernetes-patch-merge-key"))
            .flatten();
            return Node::List {
                items,
                kind,
                merge_key,
            };
        }
        Node::Scalar
    }

    /// The schema of a CEL object type path (`Object.spec.initContainers.env`) under `root`:
    /// list fields name their items' type.
    pub fn type_at<'s>(&'s self, root: &'s Value, path: &str) -> Option<&'s Value> {
        let mut node = root;
        for field in path.split('.').skip(1) {
            let Node::Struct { fields, .. } = self.node(node) else {
                return None;
            };
            node = fields.get(&unescape(field))?;
            if let Node::List { items, .. } = self.node(node) {
                node = items;
            }
        }
        matches!(self.node(node), Node::Struct { .. }).then_some(node)
    }

    /// The paths of the atomic lists, maps and structs `value` sets, as the API server lists
    /// them for an ApplyConfiguration (`.spec.initContainers[0].command`).
    pub fn atomics(&self, node: &Value, value: &Value) -> Vec<String> {
        let mut out = Vec::new();
        self.find_atomics(node, value, String::new(), &mut out);
        out
    }

    fn find_atomics(&self, node: &Value, value: &Value, path: String, out: &mut Vec<String>) {
        match (self.node(node), value) {
            (Node::Struct { fields, atomic }, Value::Object(map)) => {
                if atomic {
                    out.push(path.clone());
                }
                for (key, v) in map {
                    if let Some(field) = fields.get(key) {
                        self.find_atomics(field, v, format!("{path}.{key}"), out);
                    }
                }
            }
            // A map's entries are not fields: their values are not walked.
            (Node::Map { atomic: true, .. }, Value::Object(_)) => out.push(path),
            (Node::List { items, kind, .. }, Value::Array(list)) => {
                if kind == ListType::Atomic {
                    out.push(path.clone());
                }
                for (i, v) in list.iter().enumerate() {
                    self.find_atomics(items, v, format!("{path}[{i}]"), out);
                }
            }
            _ => {}
        }
    }

    /// The fields `value` sets that the schema does not declare (`.spec.replicasx`).
    pub fn undeclared(&self, node: &Value, value: &Value) -> Vec<String> {
        let mut out = Vec::new();
        self.find_undeclared(node, value, String::new(), &mut out);
        out
    }

    fn find_undeclared(&self, node: &Value, value: &Value, path: String, out: &mut Vec<String>) {
        match (self.node(node), value) {
            (Node::Struct { fields, .. }, Value::Object(map)) => {
                for (key, v) in map {
                    match fields.get(key) {
                        Some(field) => self.find_undeclared(field, v, format!("{path}.{key}"), out),
                        None if key == "apiVersion" || key == "kind" => {}
                        None => out.push(format!("{path}.{key}")),
                    }
                }
            }
            (Node::Map { values, .. }, Value::Object(map)) => {
                for (key, v) in map {
                    self.find_undeclared(values, v, format!("{path}.{key}"), out);
                }
            }
            (Node::List { items, .. }, Value::Array(list)) => {
                for (i, v) in list.iter().enumerate() {
                    self.find_undeclared(items, v, format!("{path}[{i}]"), out);
                }
            }
            _ => {}
        }
    }

    /// Server-side apply's merge of `patch` into `live`: granular structs and maps merge by
    /// field, keyed lists by their keys (new items at the end), sets by value; atomic values
    /// and scalars are replaced.
    pub fn apply_merge(&self, node: &Value, live: &mut Value, patch: &Value) {
        match (self.node(node), live.as_object_mut(), patch) {
            (
                Node::Struct {
                    fields,
                    atomic: false,
                },
                Some(live),
                Value::Object(patch),
            ) => {
                for (key, p) in patch {
                    match (fields.get(key), live.get_mut(key)) {
                        (Some(field), Some(l)) => self.apply_merge(field, l, p),
                        _ => {
                            live.insert(key.clone(), p.clone());
                        }
                    }
                }
                return;
            }
            (
                Node::Map {
                    values,
                    atomic: false,
                },
                Some(live),
                Value::Object(patch),
            ) => {
                for (key, p) in patch {
                    match live.get_mut(key) {
                        Some(l) => self.apply_merge(values, l, p),
                        None => {
                            live.insert(key.clone(), p.clone());
                        }
                    }
                }
                return;
            }
            _ => {}
        }
        match (self.node(node), live.as_array_mut(), patch) {
            (
                Node::List {
                    items,
                    kind: ListType::Map(keys),
                    ..
                },
                Some(list),
                Value::Array(patch),
            ) => {
                for p in patch {
                    let same = |l: &Value| keys.iter().all(|k| l.get(k) == p.get(k));
                    match list.iter_mut().find(|l| same(l)) {
                        Some(l) => self.apply_merge(items, l, p),
                        None => list.push(p.clone()),
                    }
                }
            }
            (
                Node::List {
                    kind: ListType::Set,
                    ..
                },
                Some(list),
                Value::Array(patch),
            ) => {
                for p in patch {
                    if !list.contains(p) {
                        list.push(p.clone());
                    }
                }
            }
            _ => *live = patch.clone(),
        }
    }

    /// A strategic merge patch of `patch` into `live` (as `kubectl patch --type strategic`):
    /// maps merge by key (`null` deletes), lists with the `merge` strategy merge by their
    /// merge key (new items at the end), other lists and scalars are replaced.
    pub fn strategic_merge(&self, node: &Value, live: &mut Value, patch: &Value) {
        match (self.node(node), patch) {
            (Node::Struct { fields, .. }, Value::Object(p)) if live.is_object() => {
                let map = live.as_object_mut().expect("an object");
                for (key, v) in p {
                    match (v, fields.get(key), map.get_mut(key)) {
                        (Value::Null, _, _) => {
                            map.remove(key);
                        }
                        (_, Some(field), Some(l)) => self.strategic_merge(field, l, v),
                        _ => {
                            map.insert(key.clone(), v.clone());
                        }
                    }
                }
            }
            (Node::Map { values, .. }, Value::Object(p)) if live.is_object() => {
                let map = live.as_object_mut().expect("an object");
                for (key, v) in p {
                    match (v, map.get_mut(key)) {
                        (Value::Null, _) => {
                            map.remove(key);
                        }
                        (_, Some(l)) => self.strategic_merge(values, l, v),
                        (_, None) => {
                            map.insert(key.clone(), v.clone());
                        }
                    }
                }
            }
            (
                Node::List {
                    items,
                    merge_key: Some(key),
                    ..
                },
                Value::Array(p),
            ) if live.is_array() => {
                let list = live.as_array_mut().expect("a list");
                for v in p {
                    match list.iter_mut().find(|l| l.get(key) == v.get(key)) {
                        Some(l) => self.strategic_merge(items, l, v),
                        None => list.push(v.clone()),
                    }
                }
            }
            _ => *live = patch.clone(),
        }
    }
}

impl Node<'_> {
    fn keys(node: &Value) -> ListType {
        let keys = node
            .get("x-kubernetes-list-map-keys")
            .and_then(Value::as_array)
            .map(|k| {
                k.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default();
        ListType::Map(keys)
    }
}

/// A field name as written in a CEL type path, unescaped (`__dash__` → `-`…).
pub fn unescape(name: &str) -> String {
    if let Some(word) = name.strip_prefix("__").and_then(|n| n.strip_suffix("__"))
        && !word.contains("__")
    {
        return word.to_string();
    }
    name.replace("__dash__", "-")
        .replace("__dot__", ".")
        .replace("__slash__", "/")
        .replace("__underscores__", "__")
}
