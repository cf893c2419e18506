//! A direct reading of one-line double-quoted scalars, the form the YAML writer gives strings
//! that need escapes (a JSON configuration in an env var, the tracking annotation): YAML's
//! escape table applied without running the parser. It answers only for text whose every
//! character and escape it knows, and leaves anything else to the parser (`verify`); a
//! property test holds its answers to the parser's.
//!
//! Plugins write such strings with content of their own in every document (a service name
//! inside a configuration), so the read-back of new text meets them once per document rather
//! than once per run. Read directly, they cost the check of new block text on 200 plugin-made
//! helpers 32 M instructions instead of 49 M (callgrind).

/// The string that the one-item block sequence `- "…"` holds, when its double-quoted scalar
/// is on one line and uses only printable characters and YAML's escapes; else `None`.
pub(super) fn item(text: &str) -> Option<String> {
    let body = text
        .strip_prefix("- \"")?
        .strip_suffix('\n')?
        .strip_suffix('"')?;
    decode(body)
}

/// The content of a double-quoted scalar's body (between the quotes, on one line).
fn decode(body: &str) -> Option<String> {
    let bytes = body.as_bytes();
    let mut out = String::with_capacity(body.len());
    let (mut run, mut i) = (0, 0);
    while i < bytes.len() {
        if PLAIN[usize::from(bytes[i])] {
            i += 1;
            continue;
        }
        out.push_str(&body[run..i]);
        // `i` is at a character's first byte: all before it were whole characters.
        let mut chars = body[i..].chars();
        match chars.next()? {
            // An unescaped quote would end the scalar before the end of the line.
            '"' => return None,
            '\\' => out.push(escape(&mut chars)?),
            c if printable(c) => out.push(c),
            _ => return None,
        }
        i = body.len() - chars.as_str().len();
        run = i;
    }
    out.push_str(&body[run..]);
    Some(out)
}

/// A character YAML allows as itself in a one-line double-quoted scalar (conservatively:
/// no line breaks of any YAML version, no byte order mark).
pub(super) fn printable(c: char) -> bool {
    matches!(c, '\t' | ' '..='~')
        || (('\u{A0}'..='\u{D7FF}').contains(&c) && !matches!(c, '\u{2028}' | '\u{2029}'))
        || (('\u{E000}'..='\u{FFFD}').contains(&c) && c != '\u{FEFF}')
        || c >= '\u{10000}'
}

/// The character an escape (after its backslash) stands for, from YAML 1.2's table.
fn escape(chars: &mut std::str::Chars<'_>) -> Option<char> {
    Some(match chars.next()? {
        '0' => '\0',
        'a' => '\u{7}',
        'b' => '\u{8}',
        't' | '\t' => '\t',
        'n' => '\n',
        'v' => '\u{B}',
        'f' => '\u{C}',
        'r' => '\r',
        'e' => '\u{1B}',
        ' ' => ' ',
        '"' => '"',
        '/' => '/',
        '\\' => '\\',
        'N' => '\u{85}',
        '_' => '\u{A0}',
        'L' => '\u{2028}',
        'P' => '\u{2029}',
        'x' => hex(chars, 2)?,
        'u' => hex(chars, 4)?,
        'U' => hex(chars, 8)?,
        _ => return None,
    })
}

/// True for the strings `written` writes: two or more characters on one line, starting with
/// a YAML indicator (a JSON configuration starts with `{`). The YAML writer never writes such
/// a string plain, single quoted or folded. (It puts a lone `#` in single quotes: one
/// character is left to it.)
pub(super) fn is_direct(s: &str) -> bool {
    const INDICATORS: &[u8] = b",:[]{}#&*!|>'\"%@`";
    let starts = s.as_bytes().first().is_some_and(|b| INDICATORS.contains(b));
    starts && s.len() >= 2 && !s.contains('\n')
}

/// The double-quoted scalar the YAML writer (serde-saphyr) writes `s` as, when that is
/// certain without running it (`is_direct`): the writer quotes such a string with its escape
/// table, reproduced here. `None` for any other string. Plugins write such a string with new
/// content into every document; the writer puts it out a character at a time.
///
/// The property tests hold this text to the writer's, and its reading back to the string:
/// `writes_what_the_writer_writes`, with `agrees_with_the_parser` for the reading.
pub(super) fn written(s: &str) -> Option<String> {
    if !is_direct(s) {
        return None;
    }
    let bytes = s.as_bytes();
    let mut out = String::with_capacity(s.len() + s.len() / 8 + 2);
    out.push('"');
    // A byte at a time, the quotes and backslashes of a JSON text escaped in place: a
    // configuration holds one every few bytes.
    let (mut run, mut i) = (0, 0);
    while i < bytes.len() {
        let b = bytes[i];
        if PLAIN[usize::from(b)] {
            i += 1;
            continue;
        }
        out.push_str(&s[run..i]);
        match b {
            b'"' => out.push_str("\\\""),
            b'\\' => out.push_str("\\\\"),
            // A control or non-ASCII character (`i` is at its first byte: all before it were
            // whole characters), by the writer's table.
            _ => {
                let c = s[i..].chars().next()?;
                write_escaped(&mut out, c);
                i += c.len_utf8() - 1;
            }
        }
        i += 1;
        run = i;
    }
    out.push_str(&s[run..]);
    out.push('"');
    Some(out)
}

/// The bytes that stand for themselves in a double-quoted scalar: printable ASCII other than
/// quote and backslash.
const PLAIN: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = b' ';
    while b <= b'~' {
        table[b as usize] = b != b'"' && b != b'\\';
        b += 1;
    }
    table
};

/// One character the way the writer's escape table has it.
fn write_escaped(out: &mut String, c: char) {
    let named = match c {
        '\\' => "\\\\",
        '"' => "\\\"",
        '\0' => "\\0",
        '\u{7}' => "\\a",
        '\u{8}' => "\\b",
        '\t' => "\\t",
        '\n' => "\\n",
        '\u{b}' => "\\v",
        '\u{c}' => "\\f",
        '\r' => "\\r",
        '\u{1b}' => "\\e",
        '\u{feff}' => "\\uFEFF",
        '\u{85}' => "\\N",
        '\u{2028}' => "\\L",
        '\u{2029}' => "\\P",
        c if c.is_control() => {
            out.push_str(&format!("\\x{:02X}", u32::from(c)));
            return;
        }
        '\u{fffe}' | '\u{ffff}' => {
            out.push_str(&format!("\\u{:04X}", u32::from(c)));
            return;
        }
        c => {
            out.push(c);
            return;
        }
    };
    out.push_str(named);
}

/// The character whose code is the next `digits` hex digits.
fn hex(chars: &mut std::str::Chars<'_>, digits: usize) -> Option<char> {
    let mut code = 0u32;
    for _ in 0..digits {
        code = code.checked_mul(16)? + chars.next()?.to_digit(16)?;
    }
    char::from_u32(code)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::{Value, json};

    /// What serde-saphyr, the reader of every document, reads `text` as.
    fn parser_reads(text: &str) -> Option<Value> {
        crate::yaml::from_str(text).ok()
    }

    #[test]
    fn decodes_the_escapes_of_yaml_1_2() {
        let text = r#"- "a\"b\\c\/d\n\t\x41\u00e9\U0001F600\0\e\N\_\L\P\ z""#;
        let expected = "a\"b\\c/d\n\tA\u{e9}\u{1F600}\0\u{1b}\u{85}\u{a0}\u{2028}\u{2029} z";
        assert_eq!(item(&format!("{text}\n")).as_deref(), Some(expected));
        assert_eq!(parser_reads(text), Some(json!([expected])));
    }

    #[test]
    fn reads_a_json_document_as_the_writer_quotes_it() {
        let config = r#"{"receivers":{"otlp":{"endpoint":"${env:POD_IP}:4317"}},"tab":"\t"}"#;
        let written = crate::yaml::to_string(&Value::String(config.into())).unwrap_or_default();
        assert!(written.starts_with('"'), "{written}");
        assert_eq!(item(&format!("- {written}")).as_deref(), Some(config));
    }

    /// A configuration of kilobytes, with characters from every plane and escapes throughout,
    /// as `written` writes it: the parser reads it back as itself (the tokens check skips it).
    #[test]
    fn a_long_configuration_written_directly_reads_back_through_the_parser() {
        let entry = |i: usize| {
            format!(
                "\"k{i}\":{{\"endpoint\":\"${{env:POD_IP}}:{i}\",\"note\":\"é日\u{2028}😀\t\\\\ \\\"q\\\"\",\"list\":[1,2]}}"
            )
        };
        let config = format!("{{{}}}", (0..40).map(entry).collect::<Vec<_>>().join(","));
        assert!(
            config.len() > 2000 && is_direct(&config),
            "{}",
            config.len()
        );
        let text = written(&config).unwrap_or_default();
        assert_eq!(parser_reads(&format!("- {text}\n")), Some(json!([config])));
        let writer = crate::yaml::to_string(&Value::String(config.clone())).unwrap_or_default();
        assert_eq!(text, writer.trim_end_matches('\n'));
    }

    #[test]
    fn leaves_what_it_does_not_know_to_the_parser() {
        for text in [
            "- \"a\" b\"\n",      // a quote ends the scalar early
            "- \"a\\q\"\n",       // not an escape
            "- \"a\\\"\n",        // the closing quote is escaped
            "- \"\\ud800\"\n",    // a surrogate
            "- \"a\u{7f}\"\n",    // DEL is not printable
            "- \"a\u{2028}b\"\n", // a line break in YAML 1.1
            "- \"a\nb\"\n",       // two lines
            "- 'a'\n",            // single-quoted
            "- \"a\"",            // no line end
        ] {
            assert_eq!(item(text), None, "{text:?}");
        }
    }

    /// Pieces of a double-quoted body: printable text, escapes (known or not), and characters
    /// that must be escaped.
    fn piece() -> impl Strategy<Value = String> {
        prop_oneof![
            "[ -~]{0,6}",
            "[\u{a0}-\u{2fff}\u{e000}-\u{fffd}\u{10000}-\u{10fff}]{1,3}",
            prop::sample::select(vec![
                "\\0", "\\a", "\\b", "\\t", "\\\t", "\\n", "\\v", "\\f", "\\r", "\\e", "\\ ",
                "\\\"", "\\/", "\\\\", "\\N", "\\_", "\\L", "\\P", "\\q", "\\", "\"", "\t",
                "\u{7f}", "\u{85}", "\u{feff}", "\u{2029}",
            ])
            .prop_map(str::to_string),
            "\\\\x[0-9a-fA-Fg]{2}",
            "\\\\u[0-9a-fA-F]{4}",
            "\\\\U0{3}[0-9a-fA-F]{5}",
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        /// Wherever the direct reading answers, the parser reads the same string.
        #[test]
        fn agrees_with_the_parser(pieces in prop::collection::vec(piece(), 0..12)) {
            let text = format!("- \"{}\"\n", pieces.concat());
            if let Some(read) = item(&text) {
                prop_assert_eq!(parser_reads(&text), Some(json!([read])), "{:?}", text);
            }
        }

        /// Where `written` answers, it is the YAML writer's own text for the string.
        #[test]
        fn writes_what_the_writer_writes(
            // (Past 80 characters the writer may fold a string it would write plain.)
            first in "[,:\\[\\]{}#&*!|>'\"%@`a? -]",
            tail in "[ -~\u{a0}-\u{3ff}\t\n\r\u{1}-\u{1f}\u{7f}-\u{a0}\u{feff}\u{2028}\u{2029}\u{fffe}\u{ffff}\u{10000}]{0,100}",
        ) {
            let s = format!("{first}{tail}");
            let writer = crate::yaml::to_string(&Value::String(s.clone())).unwrap_or_default();
            match written(&s) {
                Some(text) => {
                    prop_assert_eq!(&text, writer.trim_end_matches('\n'));
                    prop_assert_eq!(item(&format!("- {text}\n")), Some(s));
                }
                None => {
                    let indicator = ",:[]{}#&*!|>'\"%@`".contains(first.as_str());
                    prop_assert!(s.contains('\n') || s.len() < 2 || !indicator, "{:?}", s);
                }
            }
        }

        /// Strings as the YAML writer quotes them are read directly, as what was written.
        #[test]
        fn reads_what_the_writer_quotes(s in "[ -~\u{a0}-\u{3ff}\t\n\u{1}-\u{1f}\u{7f}\u{85}]{0,40}") {
            let written = crate::yaml::to_string(&Value::String(s.clone())).unwrap_or_default();
            let one_line = written.trim_end_matches('\n');
            if one_line.starts_with('"') && !one_line.contains('\n') {
                let text = format!("- {one_line}\n");
                prop_assert_eq!(item(&text), Some(s.clone()), "{:?}", text);
                prop_assert_eq!(parser_reads(&text), Some(json!([s])));
            }
        }
    }
}
