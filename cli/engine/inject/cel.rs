//! Writes JSON fragments as CEL literals for MutatingAdmissionPolicy expressions: typed object
//! construction (`Object.spec.initContainers{name: "x"}`), because Kubernetes' CEL environment
//! only accepts map and list literals whose elements share one type.

use serde_json::Value;

/// Fields of the pod spec's reachable types whose JSON objects are maps (string keys), not
/// structs: resource quantities, CSI attributes, flexVolume options, and the labels, annotations
/// and selectors of an ephemeral volume's claim template.
const MAP_FIELDS: [&str; 8] = [
    "requests",
    "limits",
    "volumeAttributes",
    "options",
    "labels",
    "annotations",
    "matchLabels",
    "userAnnotations",
];

/// CEL's reserved words; Kubernetes exposes fields with these names as `__word__`.
const RESERVED: [&str; 21] = [
    "true",
    "false",
    "null",
    "in",
    "as",
    "break",
    "const",
    "continue",
    "else",
    "for",
    "function",
    "if",
    "import",
    "let",
    "loop",
    "package",
    "namespace",
    "return",
    "var",
    "void",
    "while",
];

/// A field name as Kubernetes' CEL sees it (reserved words and `_`, `.`, `-`, `/` escaped).
pub fn field(name: &str) -> String {
    if RESERVED.contains(&name) {
        return format!("__{name}__");
    }
    name.replace("__", "__underscores__")
        .replace('.', "__dot__")
        .replace('-', "__dash__")
        .replace('/', "__slash__")
}

/// A CEL string literal (double-quoted; quotes, backslashes and control characters escaped).
pub fn string(text: &str) -> String {
    quoted(text, '"')
}

/// A CEL single-quoted string literal: JSON text reads as it is (quotes, backslashes and
/// control characters escaped).
pub fn single(text: &str) -> String {
    quoted(text, '\'')
}

/// `text` between `quote`s, with that quote, backslashes and control characters escaped.
fn quoted(text: &str, quote: char) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push(quote);
    for c in text.chars() {
        match c {
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                out.push_str(&format!("\\u{:04x}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}

/// A list literal of strings.
pub fn strings<'a>(items: impl IntoIterator<Item = &'a str>) -> String {
    let items: Vec<String> = items.into_iter().map(string).collect();
    format!("[{}]", items.join(", "))
}

/// `value` as a CEL literal of the object type at `type_path` (e.g. `Object.spec.volumes`),
/// on one line. List items take the list field's path, as Kubernetes names them.
pub fn literal(value: &Value, type_path: &str) -> String {
    render(value, type_path, None)
}

/// As `literal`, broken over lines (indented by `indent` spaces) where a line would pass
/// `WIDTH` characters.
pub fn pretty(value: &Value, type_path: &str, indent: usize) -> String {
    render(value, type_path, Some(indent))
}

const WIDTH: usize = 100;

fn render(value: &Value, type_path: &str, indent: Option<usize>) -> String {
    let compact = |v: &Value, p: &str| render(v, p, None);
    // (opening, items, closing) of a list, map or typed object.
    let (open, items, close): (String, Vec<(String, &Value, String)>, &str) = match value {
        Value::Null => return "null".into(),
        Value::Bool(b) => return b.to_string(),
        Value::Number(n) => return n.to_string(),
        Value::String(s) => return string(s),
        Value::Array(list) => (
            "[".into(),
            list.iter()
                .map(|i| (String::new(), i, type_path.to_string()))
                .collect(),
            "]",
        ),
        Value::Object(map) => {
            let last = type_path.rsplit('.').next().unwrap_or_default();
            let entries = map.iter().filter(|(_, v)| !v.is_null());
            if MAP_FIELDS.iter().any(|f| field(f) == last) {
                (
                    "{".into(),
                    entries
                        .map(|(k, v)| (format!("{}: ", string(k)), v, type_path.to_string()))
                        .collect(),
                    "}",
                )
            } else {
                (
                    format!("{type_path}{{"),
                    entries
                        .map(|(k, v)| {
                            let name = field(k);
                            (format!("{name}: "), v, format!("{type_path}.{name}"))
                        })
                        .collect(),
                    "}",
                )
            }
        }
    };
    let one_line = format!(
        "{open}{}{close}",
        items
            .iter()
            .map(|(key, v, p)| format!("{key}{}", compact(v, p)))
            .collect::<Vec<_>>()
            .join(", ")
    );
    match indent {
        Some(n) if n + one_line.len() > WIDTH && !items.is_empty() => {
            let pad = " ".repeat(n + 2);
            let lines: Vec<String> = items
                .iter()
                .map(|(key, v, p)| format!("{pad}{key}{}", render(v, p, Some(n + 2))))
                .collect();
            format!("{open}\n{}\n{}{close}", lines.join(",\n"), " ".repeat(n))
        }
        _ => one_line,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn containers_become_typed_objects_and_maps_stay_maps() {
        let c = json!({
            "name": "shipper",
            "image": "fluent-bit:3",
            "args": ["-c", "/x"],
            "ports": [{"containerPort": 2020, "name": "http"}],
            "resources": {"requests": {"cpu": "20m"}, "limits": {"memory": "64Mi"}},
            "restartPolicy": "Always",
            "securityContext": {"readOnlyRootFilesystem": true}
        });
        assert_eq!(
            literal(&c, "Object.spec.initContainers"),
            "Object.spec.initContainers{name: \"shipper\", image: \"fluent-bit:3\", args: [\"-c\", \"/x\"], \
             ports: [Object.spec.initContainers.ports{containerPort: 2020, name: \"http\"}], \
             resources: Object.spec.initContainers.resources{requests: {\"cpu\": \"20m\"}, limits: {\"memory\": \"64Mi\"}}, \
             restartPolicy: \"Always\", \
             securityContext: Object.spec.initContainers.securityContext{readOnlyRootFilesystem: true}}"
        );
    }

    #[test]
    fn strings_cannot_break_out_of_their_literal() {
        assert_eq!(string("a\"b\\c\nd\u{1}"), "\"a\\\"b\\\\c\\nd\\u0001\"");
        assert_eq!(string("ünïcode"), "\"ünïcode\"");
    }

    #[test]
    fn reserved_and_special_field_names_are_escaped_like_kubernetes() {
        assert_eq!(field("namespace"), "__namespace__");
        assert_eq!(field("x-y.z/w"), "x__dash__y__dot__z__slash__w");
        assert_eq!(field("a__b"), "a__underscores__b");
        assert_eq!(field("mountPath"), "mountPath");
    }
}
