//! Drift of an applied instance from what the tool wrote: its helpers and volumes edited by
//! hand (their content no longer matches the hash the record keeps), or an instance made by an
//! older version of the pattern than the catalogue's. `status` reports both; `add` re-renders.

use std::cmp::Ordering;

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::podspec::{ItemRef, ListRef, PodList, container_list};
use crate::tracking::AppliedRecord;

/// What the hash covers: a helper container (in whichever pod list) or a pod volume.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// A helper (long-running or init).
    Helper,
    /// A volume.
    Volume,
}

/// `sha256:` + 16 hex digits over the record's helpers, then its volumes, each as JSON with
/// sorted keys (so the hash does not depend on key order); `None` when one is not found.
pub fn content_hash<'v>(
    record: &AppliedRecord,
    find: impl Fn(Part, &str) -> Option<&'v Value>,
) -> Option<String> {
    // Written whole, then hashed in one pass: the canonical text is thousands of small
    // writes (a comma, a key), each of which would be a call into the hasher.
    let mut text = Vec::with_capacity(4096);
    let parts = record
        .helpers()
        .map(|n| (Part::Helper, n))
        .chain(record.volumes.iter().map(|n| (Part::Volume, n)));
    for (part, name) in parts {
        write_canonical(find(part, name.as_str())?, &mut text).ok()?;
        text.push(b'\n');
    }
    let digest = Sha256::digest(&text);
    let hex: String = digest.iter().take(8).map(|b| format!("{b:02x}")).collect();
    Some(format!("sha256:{hex}"))
}

/// Fields the API server fills in with these values when they are left out: a live object
/// (or one fetched with `kubectl get -o yaml`) is not "edited" for having them.
const SERVER_DEFAULTS: [(&str, ServerValue); 12] = [
    (
        "terminationMessagePath",
        ServerValue::Text("/dev/termination-log"),
    ),
    ("terminationMessagePolicy", ServerValue::Text("File")),
    ("imagePullPolicy", ServerValue::Text("IfNotPresent")),
    ("imagePullPolicy", ServerValue::Text("Always")),
    ("protocol", ServerValue::Text("TCP")),
    ("scheme", ServerValue::Text("HTTP")),
    ("timeoutSeconds", ServerValue::Number(1)),
    ("periodSeconds", ServerValue::Number(10)),
    ("successThreshold", ServerValue::Number(1)),
    ("failureThreshold", ServerValue::Number(3)),
    ("apiVersion", ServerValue::Text("v1")),
    ("defaultMode", ServerValue::Number(420)),
];

/// A server default's value.
#[derive(Clone, Copy)]
enum ServerValue {
    Text(&'static str),
    Number(i64),
}

fn server_default(key: &str, value: &Value) -> bool {
    SERVER_DEFAULTS.iter().any(|(k, v)| {
        *k == key
            && match v {
                ServerValue::Text(t) => value.as_str() == Some(t),
                ServerValue::Number(n) => value.as_i64() == Some(*n),
            }
    })
}

/// The object entries `canonical` keeps, sorted by key.
fn canonical_entries(map: &Map<String, Value>) -> Vec<(&String, &Value)> {
    let mut entries: Vec<(&String, &Value)> =
        map.iter().filter(|(k, v)| !server_default(k, v)).collect();
    entries.sort_unstable_by(|a, b| a.0.cmp(b.0));
    entries
}

/// Writes `value` as compact JSON with every object's keys sorted and server defaults left
/// out: the bytes of `canonical(value).to_string()`, which recorded hashes were taken over,
/// without building that value.
fn write_canonical(value: &Value, out: &mut Vec<u8>) -> std::io::Result<()> {
    match value {
        Value::Object(map) => {
            out.push(b'{');
            for (i, (key, value)) in canonical_entries(map).into_iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_str(key, out);
                out.push(b':');
                write_canonical(value, out)?;
            }
            out.push(b'}');
        }
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_canonical(item, out)?;
            }
            out.push(b']');
        }
        Value::String(s) => write_str(s, out),
        scalar => serde_json::to_writer(out, scalar)?,
    }
    Ok(())
}

/// A JSON string as serde_json writes it: `"` and `\` after a backslash, the control
/// characters as `\n`-style or `\u00XX` escapes, everything else as it is. The runs between
/// escapes are copied whole: a helper's JSON configuration has a quote every few bytes, which
/// serde_json's writer handed on one call at a time.
fn write_str(s: &str, out: &mut Vec<u8>) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let bytes = s.as_bytes();
    out.reserve(bytes.len() + 2);
    out.push(b'"');
    // Names and paths, the common case, have nothing to escape: copied whole after one scan.
    if !bytes.iter().any(|&b| b < 0x20 || b == b'"' || b == b'\\') {
        out.extend_from_slice(bytes);
        out.push(b'"');
        return;
    }
    let mut run = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let short = match b {
            b'"' => b'"',
            b'\\' => b'\\',
            b'\n' => b'n',
            b'\r' => b'r',
            b'\t' => b't',
            0x08 => b'b',
            0x0c => b'f',
            0x00..=0x1f => b'u',
            _ => continue,
        };
        out.extend_from_slice(&bytes[run..i]);
        out.extend_from_slice(&[b'\\', short]);
        if short == b'u' {
            let hex = [HEX[usize::from(b >> 4)], HEX[usize::from(b & 0xf)]];
            out.extend_from_slice(&[b'0', b'0', hex[0], hex[1]]);
        }
        run = i + 1;
    }
    out.extend_from_slice(&bytes[run..]);
    out.push(b'"');
}

/// A part of the pod spec `spec`, as `content_hash` looks it up.
pub fn find_in<'v>(spec: &'v Map<String, Value>, part: Part, name: &str) -> Option<&'v Value> {
    let list = match part {
        Part::Helper => container_list(spec, name)?,
        Part::Volume => PodList::Volumes,
    };
    ItemRef::new(ListRef::Pod(list), name).find(spec)
}

/// True when the record keeps a content hash and the pod's helpers and volumes no longer
/// match it (a part that is missing is reported as missing, not here).
pub fn edited(spec: &Map<String, Value>, record: &AppliedRecord) -> bool {
    let Some(recorded) = &record.content_hash else {
        return false;
    };
    match content_hash(record, |part, name| find_in(spec, part, name)) {
        Some(now) => now != *recorded,
        None => false,
    }
}

/// The message for an edited instance.
pub fn edited_message(record: &AppliedRecord) -> String {
    let parts: Vec<&str> = record
        .helpers()
        .chain(&record.volumes)
        .map(String::as_str)
        .collect();
    format!(
        "{}: edited by hand since kubectl-pattern wrote it ({} no longer match the record): `kubectl pattern add {}{}` with the same --set values re-renders it, dropping the edits (on a live object add --force-conflicts: the edit made its editor the owner of those fields)",
        record.instance,
        parts.join(", "),
        record.pattern,
        rename(record),
    )
}

/// True when `catalogue` (the catalogue's version of the record's pattern) is newer than the
/// version that wrote the record: dotted numbers compared as numbers, else as text.
pub fn is_outdated(record: &AppliedRecord, catalogue: &str) -> bool {
    let numbers = |v: &str| -> Option<Vec<u64>> {
        v.split(['.', '-', '+'])
            .take(3)
            .map(|n| n.parse().ok())
            .collect()
    };
    match (numbers(&record.version), numbers(catalogue)) {
        (Some(a), Some(b)) => b.cmp(&a) == Ordering::Greater,
        _ => record.version != catalogue,
    }
}

/// The message for an outdated instance.
pub fn outdated_message(record: &AppliedRecord, catalogue: &str) -> String {
    format!(
        "{}: outdated: {} → {} (pattern {}): `kubectl pattern add {}{}` with the same --set values re-renders it in place",
        record.instance,
        record.version,
        catalogue,
        record.pattern,
        record.pattern,
        rename(record),
    )
}

fn rename(record: &AppliedRecord) -> String {
    if record.instance == record.pattern {
        String::new()
    } else {
        format!(" --name {}", record.instance)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn record(version: &str) -> AppliedRecord {
        AppliedRecord {
            pattern: "p".into(),
            instance: "p".into(),
            version: version.into(),
            containers: vec!["h".into()],
            volumes: vec!["v".into()],
            ..AppliedRecord::default()
        }
    }

    #[test]
    fn the_hash_ignores_key_order_and_sees_any_edit() {
        let spec = json!({"containers": [{"name": "app"}],
            "initContainers": [{"name": "h", "image": "a:1", "restartPolicy": "Always"}],
            "volumes": [{"name": "v", "emptyDir": {}}]});
        let spec = spec.as_object().unwrap();
        let mut r = record("1.0.0");
        r.content_hash = content_hash(&r, |p, n| find_in(spec, p, n));
        assert!(r.content_hash.as_deref().unwrap().starts_with("sha256:"));
        assert!(!edited(spec, &r));
        let reordered = json!({"containers": [{"name": "app"}],
            "initContainers": [{"restartPolicy": "Always", "image": "a:1", "name": "h"}],
            "volumes": [{"emptyDir": {}, "name": "v"}]});
        assert!(!edited(reordered.as_object().unwrap(), &r));
        let changed = json!({"containers": [{"name": "app"}],
            "initContainers": [{"name": "h", "image": "a:2", "restartPolicy": "Always"}],
            "volumes": [{"name": "v", "emptyDir": {}}]});
        assert!(edited(changed.as_object().unwrap(), &r));
        // What the API server fills in is not an edit.
        let defaulted = json!({"containers": [{"name": "app"}],
            "initContainers": [{"name": "h", "image": "a:1", "restartPolicy": "Always",
                "imagePullPolicy": "IfNotPresent", "terminationMessagePath": "/dev/termination-log",
                "terminationMessagePolicy": "File"}],
            "volumes": [{"name": "v", "emptyDir": {}}]});
        assert!(!edited(defaulted.as_object().unwrap(), &r));
        // A missing part is drift of another kind; an old record without a hash says nothing.
        let missing = json!({"containers": [{"name": "app"}]});
        assert!(!edited(missing.as_object().unwrap(), &r));
        r.content_hash = None;
        assert!(!edited(changed.as_object().unwrap(), &r));
    }

    /// The hash recorded in existing annotations, computed outside the tool (Python's
    /// `json.dumps(sort_keys=True, separators=(",", ":"), ensure_ascii=False)` of each part
    /// without its server defaults, a newline after each, SHA-256, first 16 hex digits): records
    /// written by every version must keep matching.
    #[test]
    fn the_hash_is_the_recorded_one() {
        let spec = json!({"containers": [{"name": "app"}],
            "initContainers": [{"name": "h", "image": "a:1", "restartPolicy": "Always",
                "imagePullPolicy": "IfNotPresent",
                "env": [{"name": "MODE", "value": "é \"q\""}],
                "ports": [{"containerPort": 8080, "protocol": "TCP"}]}],
            "volumes": [{"name": "v", "emptyDir": {}}]});
        let r = record("1.0.0");
        let hash = content_hash(&r, |p, n| find_in(spec.as_object().unwrap(), p, n));
        assert_eq!(hash.as_deref(), Some("sha256:779f7e6acb4eddf3"));
    }

    /// The definition the recorded hashes were first taken over: a sorted copy, serialised.
    fn canonical(value: &Value) -> Value {
        match value {
            Value::Object(map) => Value::Object(
                canonical_entries(map)
                    .into_iter()
                    .map(|(k, v)| (k.clone(), canonical(v)))
                    .collect(),
            ),
            Value::Array(items) => Value::Array(items.iter().map(canonical).collect()),
            other => other.clone(),
        }
    }

    fn any_value() -> impl proptest::strategy::Strategy<Value = Value> {
        use proptest::prelude::*;
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            any::<f64>()
                .prop_filter("finite", |f| f.is_finite())
                .prop_map(Value::from),
            ".{0,6}".prop_map(Value::String),
            "[ -~]{0,12}".prop_map(Value::String),
            Just(json!("TCP")),
            Just(json!(420)),
        ];
        leaf.prop_recursive(3, 24, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                prop::collection::vec(
                    (prop_oneof![".{0,4}", Just("protocol".to_string())], inner),
                    0..4
                )
                .prop_map(|kv| Value::Object(kv.into_iter().collect())),
            ]
        })
    }

    proptest::proptest! {
        /// Written as it goes, the text is byte for byte the serialised sorted copy.
        #[test]
        fn written_canonical_text_is_the_sorted_copy(v in any_value()) {
            let mut written = Vec::new();
            write_canonical(&v, &mut written).unwrap();
            proptest::prop_assert_eq!(String::from_utf8(written).unwrap(), canonical(&v).to_string());
        }
    }

    /// A recorded hash is read forever: every ASCII character and some wider ones, alone and
    /// inside text, are written as serde_json writes them.
    #[test]
    fn every_character_is_written_as_serde_json_writes_it() {
        let wide = ['é', '\u{2028}', '\u{fffd}', '😀'];
        for c in (0u8..0x80).map(char::from).chain(wide) {
            for s in [c.to_string(), format!("ab{c}cd"), format!("{c}{c}")] {
                let mut written = Vec::new();
                write_str(&s, &mut written);
                let expected = serde_json::to_string(&s).unwrap();
                assert_eq!(String::from_utf8(written).unwrap(), expected, "{c:?}");
            }
        }
    }

    #[test]
    fn versions_compare_as_numbers() {
        assert!(is_outdated(&record("1.0.0"), "1.1.0"));
        assert!(is_outdated(&record("1.9.0"), "1.10.0"));
        assert!(!is_outdated(&record("1.1.0"), "1.1.0"));
        assert!(!is_outdated(&record("2.0.0"), "1.1.0"));
        assert!(is_outdated(&record("dev"), "1.0.0"));
        assert_eq!(
            outdated_message(&record("1.0.0"), "1.1.0"),
            "p: outdated: 1.0.0 → 1.1.0 (pattern p): `kubectl pattern add p` with the same --set values re-renders it in place"
        );
    }
}
