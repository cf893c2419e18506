//! The pod annotations of an injection, as the MutatingAdmissionPolicy's first mutation: an
//! ApplyConfiguration of `metadata.annotations` (a granular map, so server-side apply merges it
//! key by key) with the pattern's annotations and the tracking annotation `add` writes. The
//! tracking record names the app containers the mounts and env went to and the lists the
//! injection created, which differ from pod to pod: CEL variables build its JSON text per pod,
//! and append it to the records a pod already carries (format 1 or 2), as `add` does.

use serde_json::Value;

use super::cel::{single, string, strings};
use super::jsonpatch::predicate;
use super::{AppTarget, Injection};
use crate::podspec::{ContainerList, PodList};
use crate::tracking::{AppliedRecord, TRACKING_ANNOTATION};

/// JSON text of a string.
fn json(text: &str) -> String {
    serde_json::to_string(text).unwrap_or_default()
}

/// The record's fields that are the same on every pod, as JSON text without the closing
/// brace: the instance, the helpers and the volumes.
fn head(record: &AppliedRecord) -> String {
    let fixed = AppliedRecord {
        mounts: vec![],
        env: vec![],
        annotations: vec![],
        created: vec![],
        ..record.clone()
    };
    let text = serde_json::to_string(&fixed).unwrap_or_default();
    text.strip_suffix('}').unwrap_or(&text).to_string()
}

/// `object.spec.containers` filtered by `conditions` on `c` (`true` ones left out).
fn containers(conditions: &[String]) -> String {
    let kept: Vec<&str> = conditions
        .iter()
        .map(String::as_str)
        .filter(|c| *c != "true")
        .collect();
    if kept.is_empty() {
        "object.spec.containers".into()
    } else {
        format!("object.spec.containers.filter(c, {})", kept.join(" && "))
    }
}

/// A CEL list of the JSON texts of the mount or env records, in the merge's order.
fn wiring_records(inj: &Injection, list: ContainerList) -> Option<String> {
    let field = match list {
        ContainerList::VolumeMounts => "mountPath",
        ContainerList::Env => "name",
    };
    let parts: Vec<String> = inj
        .wiring
        .iter()
        .filter(|w| w.list == list)
        .map(|w| {
            let key = w
                .value
                .get(list.id_field())
                .and_then(Value::as_str)
                .unwrap_or_default();
            format!(
                "{}.map(c, '{{\"container\":\"' + c.name + {})",
                containers(&[predicate(&w.target)]),
                single(&format!("\",\"{field}\":{}}}", json(key)))
            )
        })
        .collect();
    (!parts.is_empty()).then(|| parts.join(" + "))
}

/// The `created` markers (JSON texts): the pod lists and app container lists the injection
/// creates, in the order the merge first puts an item in them, then the annotations map.
fn created(inj: &Injection) -> String {
    let mut parts = Vec::new();
    let mut lists: Vec<PodList> = Vec::new();
    for item in &inj.items {
        if !lists.contains(&item.list) {
            lists.push(item.list);
        }
    }
    for list in lists {
        let key = list.key();
        parts.push(format!(
            "(has(object.spec.{key}) ? [] : [{}])",
            single(&json(key))
        ));
    }
    // One group per list and target; a container an earlier group of the same list chose
    // already has its marker.
    let mut groups: Vec<(ContainerList, &AppTarget)> = Vec::new();
    for w in &inj.wiring {
        if !groups.contains(&(w.list, &w.target)) {
            groups.push((w.list, &w.target));
        }
    }
    for (i, (list, target)) in groups.iter().enumerate() {
        let key = list.key();
        let earlier: Vec<String> = groups[..i]
            .iter()
            .filter(|(l, _)| l == list)
            .map(|(_, t)| predicate(t))
            .collect();
        let mut conditions = vec![predicate(target), format!("!has(c.{key})")];
        if !earlier.is_empty() {
            conditions.push(format!("!({})", earlier.join(" || ")));
        }
        parts.push(format!(
            "{}.map(c, {} + c.name + '\"')",
            containers(&conditions),
            single(&format!("\"{key}@"))
        ));
    }
    parts.push(format!(
        "(has(object.metadata.annotations) ? [] : [{}])",
        single(&json("annotations"))
    ));
    parts.join(" +\n")
}

/// The CEL variables of the policy: `applied` (the pod's tracking annotation, or ''),
/// `annotated` (the annotation keys the record lists: those the pod does not have yet),
/// `created` (the created markers) and `record` (this instance's record, as JSON text).
pub fn variables(inj: &Injection) -> Vec<(String, String)> {
    let key = string(TRACKING_ANNOTATION);
    let mut out = vec![(
        "applied".to_string(),
        format!(
            "has(object.metadata.annotations) && {key} in object.metadata.annotations\n  ? object.metadata.annotations[{key}] : ''\n"
        ),
    )];
    let mut record = vec![single(&head(&inj.record))];
    for (list, field) in [
        (ContainerList::VolumeMounts, "mounts"),
        (ContainerList::Env, "env"),
    ] {
        if let Some(items) = wiring_records(inj, list) {
            record.push(format!(
                "{} + ({items}).join(',') + ']'",
                single(&format!(",\"{field}\":["))
            ));
        }
    }
    if !inj.annotations.is_empty() {
        let keys: Vec<&str> = inj.annotations.iter().map(|(k, _)| k.as_str()).collect();
        out.push((
            "annotated".to_string(),
            format!(
                "{}.filter(k,\n  !(has(object.metadata.annotations) && k in object.metadata.annotations))\n",
                strings(keys)
            ),
        ));
        record.push(
            "(size(variables.annotated) == 0 ? '' : ',\"annotations\":[' + variables.annotated.map(k, '\"' + k + '\"').join(',') + ']')"
                .into(),
        );
    }
    out.push(("created".to_string(), format!("{}\n", created(inj))));
    record.push(
        "(size(variables.created) == 0 ? '' : ',\"created\":[' + variables.created.join(',') + ']')"
            .into(),
    );
    record.push("'}'".into());
    out.push(("record".to_string(), format!("{}\n", record.join("\n  + "))));
    out
}

/// The new tracking annotation: this record appended to the pod's records, in format 2.
fn tracking() -> &'static str {
    "variables.applied == ''\n          ? '{\"version\":2,\"instances\":[' + variables.record + ']}'\n        : variables.applied.startsWith('[')\n          ? '{\"version\":2,\"instances\":[' + (variables.applied == '[]' ? '' : variables.applied.substring(1, size(variables.applied) - 1) + ',') + variables.record + ']}'\n        : variables.applied.substring(0, size(variables.applied) - 2) + (variables.applied.endsWith('[]}') ? '' : ',') + variables.record + ']}'"
}

/// The ApplyConfiguration expression that sets the pod annotations.
pub fn expression(inj: &Injection) -> String {
    let mut entries: Vec<String> = inj
        .annotations
        .iter()
        .map(|(k, v)| format!("{}: {}", string(k), string(v)))
        .collect();
    entries.push(format!(
        "{}:\n        {}",
        string(TRACKING_ANNOTATION),
        tracking()
    ));
    format!(
        "Object{{\n  metadata: Object.metadata{{\n    annotations: {{\n      {}\n    }}\n  }}\n}}\n",
        entries.join(",\n      ")
    )
}

/// The match conditions about the tracking annotation: its text is of a format `add` reads
/// (the injection appends its record), and it has no record of this instance.
pub fn conditions(inj: &Injection) -> Vec<(String, String)> {
    let key = string(TRACKING_ANNOTATION);
    let value = format!("object.metadata.annotations[{key}]");
    let absent =
        format!("!(has(object.metadata.annotations) && {key} in object.metadata.annotations)");
    let instance = single(&format!("\"instance\":{},", json(&inj.instance)));
    vec![
        (
            "tracking-annotation-readable".into(),
            format!(
                "{absent} || ({value}.startsWith('[') && {value}.endsWith(']')) || ({value}.startsWith('{{\"version\":2,\"instances\":[') && {value}.endsWith(']}}'))"
            ),
        ),
        (
            "instance-absent".into(),
            format!("{absent} || !{value}.contains({instance})"),
        ),
    ]
}
