//! The `JSONPatch` mutation of the MutatingAdmissionPolicy: a CEL expression that evaluates,
//! per pod, to the JSON Patch (RFC 6902) operations adding an `Injection`'s helpers, volumes,
//! mounts and env vars. A JSON Patch replaces whole values, so, unlike an ApplyConfiguration,
//! it may set atomic fields (a container's `command`, `args`, `capabilities.drop`,
//! `env[].valueFrom.fieldRef`…). An `add` to `/spec/initContainers/-` fails when the list is
//! absent, so the expression first creates the lists the pod lacks.

use super::cel::{pretty, string};
use super::{AppTarget, Injection};
use crate::podspec::{ContainerList, PodList, Position};

/// Where an item goes in its list at admission time: the JSON Patch path's last segment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Slot {
    /// At the end (`/-`).
    End,
    /// At this index of the list as it was before the injection.
    At(usize),
    /// Before the item with this key (its name, or a mount's mountPath), or at the end when
    /// the pod has no such item.
    Before(String),
    /// Right after the item with this key, or at the end when the pod has no such item.
    After(String),
    /// `add`'s place for init containers and native sidecars: right after the last init
    /// container a pattern instance added (named in the pod's tracking annotation), or else
    /// before the pod's own first init container (`variables.initAt`, per pod).
    AfterHelpers,
}

impl From<Position> for Slot {
    fn from(position: Position) -> Self {
        match position {
            Position::Append => Slot::End,
            Position::First => Slot::At(0),
            Position::Before(key) => Slot::Before(key),
            Position::After(key) => Slot::After(key),
        }
    }
}

/// The CEL predicate on app container `c` for a wiring target.
pub fn predicate(target: &AppTarget) -> String {
    match target {
        AppTarget::Main(None) => "c.name == object.spec.containers[0].name".into(),
        AppTarget::Main(Some(name)) | AppTarget::Named(name) => {
            format!("c.name == {}", string(name))
        }
        AppTarget::All => "true".into(),
    }
}

/// The JSON Patch path (a CEL string expression) of app container `c` (its index in the pod
/// as admitted).
const CONTAINER: &str =
    "\"/spec/containers/\" + string(object.spec.containers.map(x, x.name).indexOf(c.name))";

/// Operations on each app container `target` selects (as a CEL list): `op(c, path)` makes one
/// from the container (a CEL expression) and the path of the container's `rest` (a literal
/// such as `/volumeMounts`) followed by the segment `last(c)` (a CEL string, or none);
/// `condition(c)` leaves containers out.
fn on_containers(
    target: &AppTarget,
    condition: Option<&dyn Fn(&str) -> String>,
    rest: &str,
    last: Option<&dyn Fn(&str) -> String>,
    op: impl Fn(&str) -> String,
) -> String {
    if *target == AppTarget::Main(None) {
        // The main container is the first: index 0.
        let c = "object.spec.containers[0]";
        let prefix = format!("/spec/containers/0{rest}");
        let path = match last {
            Some(last) => join(&prefix, &last(c)),
            None => string(&prefix),
        };
        let one = op(&path);
        return match condition {
            Some(condition) => format!("({} ? [{one}] : [])", condition(c)),
            None => format!("[{one}]"),
        };
    }
    let path = match last {
        Some(last) => format!("{CONTAINER} + {}", join(rest, &last("c"))),
        None => format!("{CONTAINER} + {}", string(rest)),
    };
    let conditions: Vec<String> = [predicate(target)]
        .into_iter()
        .filter(|p| p != "true")
        .chain(condition.map(|c| c("c")))
        .collect();
    let selected = if conditions.is_empty() {
        "object.spec.containers".to_string()
    } else {
        format!(
            "object.spec.containers.filter(c, {})",
            conditions.join(" && ")
        )
    };
    format!("{selected}.map(c, {})", op(&path))
}

/// The CEL string of a path's last segment for `slot` in the list `list` (a CEL list
/// expression that may be absent), whose items are keyed by `key`; `offset` items went in at
/// the same slot before this one.
pub fn segment(slot: &Slot, list: &str, key: &str, offset: usize) -> String {
    match slot {
        Slot::End => "\"-\"".into(),
        Slot::At(index) => string(&(index + offset).to_string()),
        Slot::AfterHelpers => format!(
            "(variables.initAt >= size(variables.initNames) ? \"-\" : string(variables.initAt + {offset}))"
        ),
        Slot::Before(item) | Slot::After(item) => {
            let item = string(item);
            let shift = offset + usize::from(matches!(slot, Slot::After(_)));
            let shift = if shift == 0 {
                String::new()
            } else {
                format!(" + {shift}")
            };
            format!(
                "((has({list}) && {list}.exists(i, i.{key} == {item})) ? string({list}.map(i, i.{key}).indexOf({item}){shift}) : \"-\")"
            )
        }
    }
}

/// The policy variables the init-container slot needs: the pod's init container names, and
/// the index after the last of them the tracking annotation names (0 when none).
pub fn variables(inj: &Injection) -> Vec<(String, String)> {
    if !inj.items.iter().any(|i| i.list == PodList::InitContainers) {
        return vec![];
    }
    vec![
        (
            "initNames".into(),
            "has(object.spec.initContainers) ? object.spec.initContainers.map(c, c.name) : []\n"
                .into(),
        ),
        (
            "ownedInit".into(),
            "variables.initNames.filter(n, variables.applied.contains('\"' + n + '\"'))\n".into(),
        ),
        (
            "initAt".into(),
            "size(variables.ownedInit) == 0 ? 0 : variables.initNames.indexOf(variables.ownedInit[size(variables.ownedInit) - 1]) + 1\n".into(),
        ),
    ]
}

/// One `add` operation.
fn add(path: &str, value: &str) -> String {
    format!("JSONPatch{{op: \"add\", path: {path}, value: {value}}}")
}

/// Joins a literal path prefix and a segment expression into one CEL string expression.
fn join(prefix: &str, segment: &str) -> String {
    match segment.strip_prefix('"').and_then(|s| s.strip_suffix('"')) {
        Some(literal) if !literal.contains('"') => string(&format!("{prefix}/{literal}")),
        _ => format!("{} + {segment}", string(&format!("{prefix}/"))),
    }
}

/// How many earlier items of `items` went to the same list and slot as item `index`.
fn offset<T>(items: &[T], index: usize, same: impl Fn(&T, &T) -> bool) -> usize {
    items[..index]
        .iter()
        .filter(|i| same(i, &items[index]))
        .count()
}

/// The JSONPatch expression that adds the injection to a pod.
pub fn expression(inj: &Injection) -> String {
    let mut parts: Vec<String> = Vec::new();
    // The pod lists the items go to, created when absent (a pod always has containers).
    let mut lists: Vec<PodList> = Vec::new();
    for item in &inj.items {
        if item.list != PodList::Containers && !lists.contains(&item.list) {
            lists.push(item.list);
        }
    }
    for list in &lists {
        let key = list.key();
        parts.push(format!(
            "(has(object.spec.{key}) ? [] : [{}])",
            add(&string(&format!("/spec/{key}")), "[]")
        ));
    }
    // The app containers' lists, created where absent, before any item goes in.
    let mut wired_lists: Vec<(ContainerList, &AppTarget)> = Vec::new();
    for w in &inj.wiring {
        if !wired_lists.contains(&(w.list, &w.target)) {
            wired_lists.push((w.list, &w.target));
        }
    }
    for (list, target) in &wired_lists {
        let key = list.key();
        let absent = |c: &str| format!("!has({c}.{key})");
        parts.push(on_containers(
            target,
            Some(&absent),
            &format!("/{key}"),
            None,
            |path| add(path, "[]"),
        ));
    }
    // Mounts and env first, at the app containers' indexes before any helper goes in.
    let slots: Vec<(ContainerList, &AppTarget, Slot)> = inj
        .wiring
        .iter()
        .map(|w| (w.list, &w.target, Slot::from(w.position.clone())))
        .collect();
    for (index, w) in inj.wiring.iter().enumerate() {
        let key = w.list.key();
        let (_, _, slot) = &slots[index];
        let shift = offset(&slots, index, |a, b| a == b && a.2 != Slot::End);
        let last = |c: &str| segment(slot, &format!("{c}.{key}"), w.list.id_field(), shift);
        let value = pretty(&w.value, &format!("Object.spec.containers.{key}"), 0);
        parts.push(on_containers(
            &w.target,
            None,
            &format!("/{key}"),
            Some(&last),
            |path| add(path, &value),
        ));
    }
    // Then the helpers and volumes.
    let slots: Vec<(PodList, Slot)> = inj
        .items
        .iter()
        .map(|i| {
            let slot = if i.list == PodList::InitContainers {
                // The synthetic pod has no init containers of its own; a real one may.
                Slot::AfterHelpers
            } else {
                Slot::from(i.position.clone())
            };
            (i.list, slot)
        })
        .collect();
    let mut items = Vec::new();
    for (index, item) in inj.items.iter().enumerate() {
        let key = item.list.key();
        let (_, slot) = &slots[index];
        let shift = offset(&slots, index, |a, b| a == b && a.1 != Slot::End);
        let last = segment(slot, &format!("object.spec.{key}"), "name", shift);
        let path = join(&format!("/spec/{key}"), &last);
        let value = pretty(&item.value, &format!("Object.spec.{key}"), 2);
        items.push(add(&path, &value));
    }
    if !items.is_empty() {
        parts.push(format!("[\n  {}\n]", items.join(",\n  ")));
    }
    format!("{}\n", parts.join(" +\n"))
}
