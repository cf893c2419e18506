//! Syntax highlighting for the YAML the tool writes (block style from `engine::yaml`): keys,
//! strings, numbers and booleans, comments and document markers. Line by line, no parser:
//! enough for a preview, and the text is unchanged once the styles are stripped.

use anstyle::{AnsiColor, Style};

const KEY: Style = AnsiColor::Cyan.on_default();
const STRING: Style = AnsiColor::Green.on_default();
const SCALAR: Style = AnsiColor::Yellow.on_default();
const MARK: Style = Style::new().dimmed();

/// `text` with ANSI styles (anstream strips them when colours are off).
pub fn yaml(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 2);
    for line in text.split_inclusive('\n') {
        let (body, newline) = match line.strip_suffix('\n') {
            Some(b) => (b, "\n"),
            None => (line, ""),
        };
        highlight_line(body, &mut out);
        out.push_str(newline);
    }
    out
}

fn styled(out: &mut String, style: Style, text: &str) {
    if text.is_empty() {
        return;
    }
    out.push_str(&format!("{style}{text}{style:#}"));
}

fn highlight_line(line: &str, out: &mut String) {
    let trimmed = line.trim_start();
    let indent = &line[..line.len() - trimmed.len()];
    out.push_str(indent);
    if trimmed.starts_with('#') || trimmed == "---" || trimmed == "..." {
        styled(out, MARK, trimmed);
        return;
    }
    let mut rest = trimmed;
    while let Some(after) = rest.strip_prefix("- ") {
        styled(out, MARK, "-");
        out.push(' ');
        rest = after;
    }
    if rest == "-" {
        styled(out, MARK, rest);
        return;
    }
    match key_split(rest) {
        Some((key, value)) => {
            styled(out, KEY, key);
            out.push(':');
            if let Some(v) = value.strip_prefix(' ') {
                out.push(' ');
                scalar(v, out);
            } else {
                out.push_str(value);
            }
        }
        None => scalar(rest, out),
    }
}

/// Splits `key: value` / `key:`; keys may be quoted. None for a plain scalar.
fn key_split(text: &str) -> Option<(&str, &str)> {
    let end = if let Some(q @ ('"' | '\'')) = text.chars().next() {
        let close = text[1..].find(q)? + 2;
        text[close..].starts_with(':').then_some(close)?
    } else {
        let pos = text
            .find(": ")
            .or_else(|| text.strip_suffix(':').map(str::len))?;
        if text[..pos].contains(['{', '[', '"', '\'']) {
            return None;
        }
        pos
    };
    let value = &text[end + 1..];
    (value.is_empty() || value.starts_with(' ')).then_some((&text[..end], value))
}

fn scalar(value: &str, out: &mut String) {
    let style = match value {
        "true" | "false" | "null" | "~" => SCALAR,
        "|" | "|-" | ">" | ">-" | "{}" | "[]" => MARK,
        v if v.parse::<f64>().is_ok() => SCALAR,
        _ => STRING,
    };
    styled(out, style, value);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strip(text: &str) -> String {
        let mut out = Vec::new();
        let mut stream = anstream::StripStream::new(&mut out);
        std::io::Write::write_all(&mut stream, text.as_bytes()).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn highlighting_keeps_the_text_and_colours_its_parts() {
        let text = "# head\napiVersion: apps/v1\nspec:\n  replicas: 2\n  containers:\n  - name: web\n    args:\n    - \"a: b\"\n    - -c\n    'x: y': true\n---\n";
        let out = yaml(text);
        assert_eq!(strip(&out), text);
        assert!(out.contains(&format!("{KEY}replicas{KEY:#}: {SCALAR}2{SCALAR:#}")));
        assert!(out.contains(&format!("{KEY}name{KEY:#}: {STRING}web{STRING:#}")));
        assert!(out.contains(&format!("{STRING}\"a: b\"{STRING:#}")));
        assert!(out.contains(&format!("{KEY}'x: y'{KEY:#}: {SCALAR}true{SCALAR:#}")));
        assert!(out.contains(&format!("{MARK}# head{MARK:#}")));
        assert!(out.contains(&format!("{STRING}-c{STRING:#}")));
    }
}
