//! All YAML I/O of the tool, in one place: parsing with budgets (serde-saphyr) and emitting.
//!
//! Documents are parsed one at a time (see `stream`), so the per-document budgets of
//! serde-saphyr stay at their defaults, which keep alias bombs out, while a stream may hold any
//! number of documents.

use serde::Serialize;
use serde::de::DeserializeOwned;

/// A YAML document that could not be parsed or emitted.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct YamlError {
    /// The parser's message, with line and column relative to the text it was given.
    pub message: String,
    /// 1-based line of the problem, relative to the text it was given, when known.
    pub line: Option<u64>,
    /// 1-based column of the problem, when known.
    pub column: Option<u64>,
}

/// Parse options: size budgets raised for big single documents (a `kind: List` of 10,000
/// objects, as `kubectl get -o yaml` prints), alias budgets kept (they stop alias bombs).
fn options() -> serde_saphyr::Options {
    let mut budget = serde_saphyr::Budget::default();
    budget.max_nodes = 50_000_000;
    budget.max_events = 100_000_000;
    budget.max_total_scalar_bytes = 1 << 30;
    let mut options = serde_saphyr::Options::default();
    options.budget = Some(budget);
    // kubectl reads YAML 1.1: `defaultMode: 0644` is octal 420, not the decimal 644.
    options.legacy_octal_numbers = true;
    // The snippet is rendered by `explain_error`, with file line numbers.
    options.with_snippet = false;
    options
}

fn from_saphyr(err: &serde_saphyr::Error) -> YamlError {
    use serde_saphyr::MessageFormatter as _;
    let location = err.location();
    // The message alone: the position is reported by the caller, with file lines.
    let message = serde_saphyr::UserMessageFormatter
        .format_message(err.without_snippet())
        .trim()
        .to_string();
    YamlError {
        message,
        line: location.map(|l| l.line()),
        column: location.map(|l| l.column()),
    }
}

/// Parses one YAML (or JSON) document into `T`.
pub fn from_str<T: DeserializeOwned>(text: &str) -> Result<T, YamlError> {
    serde_saphyr::from_str_with_options(text, options()).map_err(|e| from_saphyr(&e))
}

/// Renders a parse error of `text` as a snippet whose line numbers are those of the file,
/// `first_line` being the file line on which `text` starts. Used only on the error path.
pub fn explain_error(text: &str, first_line: usize, source: &str) -> Option<String> {
    let padded = format!("{}{}", "\n".repeat(first_line.saturating_sub(1)), text);
    let mut options = self::options();
    options.with_snippet = true;
    let err = serde_saphyr::from_str_with_options::<serde_json::Value>(&padded, options).err()?;
    let rendered = err.to_string().replace("<input>", source);
    // Keep the first snippet only: later notes repeat the same lines.
    let cut = rendered.find("\n\nnote:").unwrap_or(rendered.len());
    let snippet: Vec<&str> = rendered[..cut].lines().skip(1).collect();
    Some(snippet.join("\n"))
}

/// Emits `value` as a YAML document (no leading `---`), ending with a newline.
pub fn to_string<T: Serialize>(value: &T) -> Result<String, YamlError> {
    let mut out = serde_saphyr::to_string(value).map_err(|e| YamlError {
        message: e.to_string(),
        line: None,
        column: None,
    })?;
    if !out.ends_with('\n') {
        out.push('\n');
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parses_and_reports_position() {
        let err = from_str::<serde_json::Value>("a: b\nc: [d\ne: f\n").unwrap_err();
        assert_eq!(err.line, Some(3));
        assert!(!err.message.starts_with("line"), "{}", err.message);
    }

    #[test]
    fn alias_bomb_is_refused() {
        let mut bomb = String::from("a: &a [x,x,x,x,x,x,x,x,x,x]\n");
        let names = ["a", "b", "c", "d", "e", "f", "g", "h", "i"];
        for w in names.windows(2) {
            let refs = vec![format!("*{}", w[0]); 10].join(",");
            bomb.push_str(&format!("{}: &{} [{refs}]\n", w[1], w[1]));
        }
        let err = from_str::<serde_json::Value>(&bomb).unwrap_err();
        assert!(
            err.message.contains("too large or too complex"),
            "{}",
            err.message
        );
    }

    #[test]
    fn leading_zero_numbers_are_octal_like_kubectl() {
        let v: serde_json::Value = from_str("defaultMode: 0644\nmode: 0600\nport: 8080\n").unwrap();
        assert_eq!(
            v,
            serde_json::json!({"defaultMode": 420, "mode": 384, "port": 8080})
        );
    }

    #[test]
    fn duplicate_keys_read_plainly() {
        let err = from_str::<serde_json::Value>("a: 1\na: 2\n").unwrap_err();
        assert!(
            err.message.starts_with("duplicate mapping key") && !err.message.contains("Options"),
            "{}",
            err.message
        );
    }

    #[test]
    fn a_list_of_ten_thousand_objects_is_not_a_bomb() {
        let item = "- apiVersion: apps/v1\n  kind: Deployment\n  metadata: {name: web, labels: {app: web, tier: front}}\n  spec:\n    replicas: 2\n    template:\n      spec:\n        containers:\n        - {name: web, image: 'nginx:1.27.3', ports: [{containerPort: 8080}], env: [{name: A, value: b}]}\n";
        let text = format!(
            "apiVersion: v1\nkind: List\nitems:\n{}",
            item.repeat(10_000)
        );
        let v: serde_json::Value = from_str(&text).unwrap();
        assert_eq!(v["items"].as_array().unwrap().len(), 10_000);
    }

    #[test]
    fn snippet_uses_file_lines_and_name() {
        let snippet = explain_error("a: b\nc: [d\ne: f\n", 10, "web.yaml").unwrap();
        assert!(snippet.contains("web.yaml:12:"), "{snippet}");
    }

    #[test]
    fn strings_that_look_like_other_types_stay_strings() {
        let v = json!({"a": "true", "b": "0123", "c": "1.5", "d": "null", "e": "x\ny"});
        let text = to_string(&v).unwrap();
        let back: serde_json::Value = from_str(&text).unwrap();
        assert_eq!(v, back);
    }
}
