//! Values written as new text in the style of the document around them: block YAML at a given
//! column with the document's indentation step and sequence indentation, flow YAML, or JSON
//! (compact or pretty at a column). Scalars are quoted only when plain text would read as
//! something else.

use serde_json::Value;

/// The layout of the document the text goes into.
#[derive(Debug, Clone)]
pub(super) struct Style {
    /// Columns a nested mapping is indented by.
    pub step: usize,
    /// True when a block sequence under a key is indented by `step` (`key:\n  - a`), false
    /// when its dashes sit at the key's column (`key:\n- a`, as kubectl writes).
    pub seq_indented: bool,
    /// The line ending (`\n` or `\r\n`).
    pub newline: &'static str,
    /// The document is JSON: flow collections are written as JSON.
    pub json: bool,
}

/// Writes `value` as a block node whose first line continues the current line (already at
/// `col`); later lines are indented to their columns. Ends with a line ending.
pub(super) fn block(out: &mut String, value: &Value, col: usize, style: &Style) {
    match value {
        Value::Object(map) if !map.is_empty() => {
            for (i, (key, v)) in map.iter().enumerate() {
                if i > 0 {
                    indent(out, col);
                }
                entry(out, key, v, col, style);
            }
        }
        Value::Array(items) if !items.is_empty() => {
            for (i, v) in items.iter().enumerate() {
                if i > 0 {
                    indent(out, col);
                }
                item(out, v, col, style);
            }
        }
        _ => inline_line(out, value, col, style),
    }
}

/// One `key: value` entry of a block mapping whose keys sit at `col` (the current line is
/// already there), as `block` writes a one-entry mapping.
pub(super) fn entry(out: &mut String, key: &str, v: &Value, col: usize, style: &Style) {
    out.push_str(&block_scalar(key));
    out.push(':');
    entry_value(out, v, col, style);
}

/// One `- item` of a block sequence whose dashes sit at `col`, as `block` writes a one-item
/// sequence.
pub(super) fn item(out: &mut String, v: &Value, col: usize, style: &Style) {
    out.push_str("- ");
    match v {
        Value::Object(m) if !m.is_empty() => block(out, v, col + 2, style),
        Value::Array(a) if !a.is_empty() => block(out, v, col + 2, style),
        _ => inline_line(out, v, col + 2, style),
    }
}

/// The value of a block mapping entry whose key sits at `col`, after its colon.
pub(super) fn entry_value(out: &mut String, v: &Value, col: usize, style: &Style) {
    match v {
        Value::Object(m) if !m.is_empty() => {
            out.push_str(style.newline);
            indent(out, col + style.step);
            block(out, v, col + style.step, style);
        }
        Value::Array(a) if !a.is_empty() => {
            let at = col + if style.seq_indented { style.step } else { 0 };
            out.push_str(style.newline);
            indent(out, at);
            block(out, v, at, style);
        }
        _ => {
            out.push(' ');
            inline_line(out, v, col + style.step, style);
        }
    }
}

/// A scalar or empty collection, then the line ending; a multi-line string becomes a literal
/// block scalar whose lines sit at `content_col`.
fn inline_line(out: &mut String, v: &Value, content_col: usize, style: &Style) {
    if let Value::String(s) = v
        && let Some(header) = literal_header(s)
    {
        out.push_str(header);
        out.push_str(style.newline);
        let body = s.strip_suffix('\n').unwrap_or(s);
        out.reserve(body.len() + (content_col + style.newline.len()) * (body.len() / 16 + 2));
        for line in body.split('\n') {
            if !line.is_empty() {
                indent(out, content_col);
                out.push_str(line);
            }
            out.push_str(style.newline);
        }
        return;
    }
    match v {
        Value::String(s) => out.push_str(&block_scalar(s)),
        v => out.push_str(&flow(v, false)),
    }
    out.push_str(style.newline);
}

/// A string in block context, quoted as the tool's YAML writer quotes it (so new blocks read
/// like the documents the tool writes whole), on one line; remembered per thread at once
/// (`memo::keep`), since the same helper strings come back in every document and the check of
/// new text (`tokens`) asks for each one again right after.
fn block_scalar(s: &str) -> String {
    use std::cell::RefCell;
    thread_local! {
        static WRITTEN: RefCell<super::memo::Memo<String>> = Default::default();
    }
    if is_word(s) {
        return s.to_string();
    }
    // Written directly when certain (a JSON configuration), and then not remembered.
    if let Some(quoted) = super::quoted::written(s) {
        return quoted;
    }
    if let Some(hit) = WRITTEN.with(|c| c.borrow().get(s).cloned()) {
        return hit;
    }
    let written = crate::yaml::to_string(&Value::String(s.to_string()))
        .ok()
        .map(|t| t.trim_end_matches('\n').to_string())
        .filter(|t| !t.contains('\n'))
        .unwrap_or_else(|| scalar_str(s, false));
    WRITTEN.with(|c| c.borrow_mut().keep(s, written.clone()));
    written
}

/// Words, names, paths (`web`, `otel-collector`, `/var/log`): written plain by every writer
/// (the common case, without the cache), and read back as strings (`verify::is_plain_string`).
pub(super) fn is_word(s: &str) -> bool {
    s.bytes().all(|b| WORD_BYTES[usize::from(b)]) && super::verify::is_plain_string(s)
}

/// The bytes of a word: ASCII letters and digits, `-`, `_`, `.` and `/` (a table: every
/// key and string of a helper is tested, twice per document).
const WORD_BYTES: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        table[b] = c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.' | b'/');
        b += 1;
    }
    table
};

/// True when `s` is written as a literal block scalar (`literal_header`): its lines are the
/// string's lines, read back by every reader (the tests below hold it to the parser).
pub(super) fn is_literal(s: &str) -> bool {
    literal_header(s).is_some()
}

/// `|` or `|-` when `s` can be a literal block scalar: several lines, no blank at the start
/// or at the end of a line, and nothing but characters YAML prints as themselves (no control
/// but the line breaks, no line break of YAML 1.1, no non-character).
fn literal_header(s: &str) -> Option<&'static str> {
    let body = s.strip_suffix('\n').unwrap_or(s);
    let bytes = body.as_bytes();
    if bytes.starts_with(b" ")
        || bytes.starts_with(b"\t")
        || bytes.ends_with(b"\n")
        || !body.contains('\n')
    {
        return None;
    }
    // A configuration of kilobytes comes in every document: its bytes are checked in one
    // pass without branches (no C0 control but the line break, no DEL), its lines' ends
    // found with memchr, and only text beyond ASCII is looked at a character at a time.
    let control = bytes.iter().fold(false, |found, &b| {
        found | ((b < 0x20) & (b != b'\n')) | (b == 0x7f)
    });
    if control || body.split('\n').any(ends_blank) {
        return None;
    }
    if !body.is_ascii()
        && !body
            .chars()
            .all(|c| c == '\n' || super::quoted::printable(c))
    {
        return None;
    }
    Some(if s.ends_with('\n') { "|" } else { "|-" })
}

/// True when `line` ends in white space (any of Unicode's).
fn ends_blank(line: &str) -> bool {
    match line.as_bytes().last() {
        None => false,
        Some(&b) if b < 0x80 => b.is_ascii_whitespace(),
        Some(_) => line.chars().next_back().is_some_and(char::is_whitespace),
    }
}

/// Spaces to indent with, copied in one piece.
const SPACES: &str = "                                                                ";

fn indent(out: &mut String, mut col: usize) {
    while col > SPACES.len() {
        out.push_str(SPACES);
        col -= SPACES.len();
    }
    out.push_str(&SPACES[..col]);
}

/// `value` in flow style on one line: YAML flow (`{name: web, ports: [80]}`), or JSON.
pub(super) fn flow(value: &Value, json: bool) -> String {
    if json {
        return serde_json::to_string(value).unwrap_or_default();
    }
    match value {
        Value::Object(map) => {
            let inner: Vec<String> = map
                .iter()
                .map(|(k, v)| format!("{}: {}", scalar_str(k, true), flow(v, false)))
                .collect();
            format!("{{{}}}", inner.join(", "))
        }
        Value::Array(items) => {
            let inner: Vec<String> = items.iter().map(|v| flow(v, false)).collect();
            format!("[{}]", inner.join(", "))
        }
        Value::String(s) => scalar_str(s, true),
        Value::Null => "null".into(),
        other => other.to_string(),
    }
}

/// JSON for `value` pretty-printed with `step` spaces, its later lines indented by `col`.
pub(super) fn json_pretty(value: &Value, col: usize, step: usize, newline: &str) -> String {
    use serde::Serialize as _;
    let indent_unit = " ".repeat(step);
    let mut buf = Vec::new();
    let formatter = serde_json::ser::PrettyFormatter::with_indent(indent_unit.as_bytes());
    let mut ser = serde_json::Serializer::with_formatter(&mut buf, formatter);
    if value.serialize(&mut ser).is_err() {
        return flow(value, true);
    }
    let text = String::from_utf8(buf).unwrap_or_default();
    let pad = format!("{newline}{}", " ".repeat(col));
    text.replace('\n', &pad)
}

/// A string scalar, plain when that reads back as the same string, else quoted.
pub(super) fn scalar_str(s: &str, in_flow: bool) -> String {
    if is_plain_safe(s, in_flow) {
        return s.to_string();
    }
    if !s.contains('\'') && !s.chars().any(char::is_control) {
        return format!("'{s}'");
    }
    serde_json::to_string(s).unwrap_or_default()
}

/// A string quoted the way `quote` says when it can be, else as `scalar_str` decides.
pub(super) fn scalar_like(s: &str, quote: super::tree::Quote) -> String {
    use super::tree::Quote;
    match quote {
        Quote::Single if !s.chars().any(char::is_control) => format!("'{}'", s.replace('\'', "''")),
        Quote::Double => serde_json::to_string(s).unwrap_or_default(),
        _ => scalar_str(s, true),
    }
}

/// True when `s` written plain reads back as this string (conservative: YAML 1.1 booleans,
/// nulls and anything shaped like a number are quoted, and so are indicators).
fn is_plain_safe(s: &str, in_flow: bool) -> bool {
    let mut chars = s.chars();
    let Some(first) = chars.next() else {
        return false;
    };
    let second = chars.next();
    let reserved = [
        "true", "false", "yes", "no", "on", "off", "y", "n", "null", "~", ".inf", "-.inf", "+.inf",
        ".nan", "=", "<<",
    ];
    let lower = s.to_ascii_lowercase();
    let indicator = match first {
        '-' | '?' | ':' => second.is_none_or(|c| c == ' ') || s.starts_with("---"),
        c => ",[]{}#&*!|>'\"%@` \t".contains(c) || s.starts_with("..."),
    };
    !(reserved.contains(&lower.as_str())
        || indicator
        || number_like(s)
        || s.ends_with([' ', ':'])
        || s.contains(": ")
        || s.contains(" #")
        || s.chars()
            .any(|c| c.is_control() || (in_flow && ",[]{}".contains(c))))
}

/// True when `s` could read as a number in YAML 1.1 or 1.2 (ints in any base, floats,
/// sexagesimal `1:30`).
fn number_like(s: &str) -> bool {
    let body = s.trim_start_matches(['+', '-']);
    body.starts_with(|c: char| c.is_ascii_digit() || c == '.')
        && body
            .chars()
            .all(|c| c.is_ascii_hexdigit() || "_.:+-xXoO".contains(c))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    use serde_json::json;

    /// The rule `literal_header` applies, a character at a time.
    fn literal_rule(s: &str) -> Option<&'static str> {
        let body = s.strip_suffix('\n').unwrap_or(s);
        let ok = body.contains('\n')
            && !body.ends_with('\n')
            && !body.starts_with([' ', '\t'])
            && body.split('\n').all(|l| l.trim_end() == l)
            && !s.chars().any(|c| c.is_control() && c != '\n')
            && s.chars()
                .all(|c| c == '\n' || crate::text::quoted::printable(c));
        ok.then_some(if s.ends_with('\n') { "|" } else { "|-" })
    }

    fn style() -> Style {
        Style {
            step: 2,
            seq_indented: false,
            newline: "\n",
            json: false,
        }
    }

    /// What the parser reads `s` as, written as the value of a key at `col` (inside a
    /// mapping of one entry per level) and as an item of a sequence.
    fn reads_back(s: &str, col: usize) -> bool {
        let value = Value::String(s.to_string());
        let mut entry = String::new();
        for level in 0..col / 2 {
            entry.push_str(&format!("{}k{level}:\n", " ".repeat(level * 2)));
        }
        entry.push_str(&" ".repeat(col / 2 * 2));
        super::entry(&mut entry, "key", &value, col / 2 * 2, &style());
        let mut item = String::new();
        super::item(&mut item, &value, 0, &style());
        let mut expected = json!({"key": s});
        for level in (0..col / 2).rev() {
            expected = json!({ format!("k{level}"): expected });
        }
        crate::yaml::from_str::<Value>(&entry).ok() == Some(expected)
            && crate::yaml::from_str::<Value>(&item).ok() == Some(json!([s]))
    }

    /// A collector configuration of kilobytes, with comments, indicators, quotes, flow
    /// collections and characters from every plane: a literal block that reads back.
    #[test]
    fn a_long_configuration_is_a_literal_block_that_reads_back() {
        let entry = |i: usize| {
            format!(
                "receiver{i}:\n  endpoint: \"${{env:POD_IP}}:{i}\"  # é日😀\n  list: [a, {{b: c}}]\n\n  - '#'\n---\n...\n"
            )
        };
        let config: String = (0..40).map(entry).collect();
        assert!(config.len() > 2000, "{}", config.len());
        assert_eq!(literal_header(&config), Some("|"));
        assert!(reads_back(&config, 8));
        assert!(reads_back(config.trim_end(), 0));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(3000))]

        #[test]
        fn the_literal_header_follows_its_rule(
            s in "[a-c \t\n\r\u{1}\u{7f}\u{80}\u{85}\u{9f}\u{a0}\u{2028}\u{3000}\u{fffe}é]{0,12}",
        ) {
            prop_assert_eq!(literal_header(&s), literal_rule(&s), "{:?}", s);
        }

        /// Every string written as a literal block reads back as itself, at any column.
        #[test]
        fn literal_blocks_read_back(
            lines in prop::collection::vec(
                "[ -~\t\u{a0}-\u{3ff}\u{2028}\u{feff}\u{fffe}\u{10000}]{0,14}", 2..8),
            end in prop::bool::ANY,
            col in 0usize..10,
        ) {
            let mut s = lines.join("\n");
            if end {
                s.push('\n');
            }
            if is_literal(&s) {
                prop_assert!(reads_back(&s, col), "{:?}", s);
            }
        }

        #[test]
        fn indentation_is_that_many_spaces(col in 0usize..200) {
            let mut out = String::from("x");
            indent(&mut out, col);
            prop_assert_eq!(out, format!("x{}", " ".repeat(col)));
        }
    }
}
