//! Strings for YAML text a plugin writes itself (a helper's configuration file): [`scalar`]
//! gives a value the spelling that reads back as that same string.
//!
//! A configuration written as block YAML lines, rather than as one line of JSON, reaches the
//! manifest as a literal block (`|`) that a reviewer reads like the file it is:
//!
//! ```
//! use kubectl_pattern_sdk::yaml;
//!
//! let service = "checkout";
//! let config = format!("service:\n  name: {}\n  port: 8080\n", yaml::scalar(service));
//! assert_eq!(config, "service:\n  name: checkout\n  port: 8080\n");
//! assert_eq!(yaml::scalar("yes"), "\"yes\"");
//! ```

use std::borrow::Cow;

/// `s` as a YAML scalar in block context (after `key: ` or `- `) that every YAML reader, 1.1
/// or 1.2, reads back as the string `s`: plain when that is certain (names, paths, host:port,
/// `${env:VAR}`), else double-quoted with escapes. Words that read as something else (`yes`,
/// `null`, `1e3`, `0x1F`, `1:30`, `.inf`) are quoted. Not for flow collections (`[a, b]`),
/// where a plain `{` or `,` would end the item.
pub fn scalar(s: &str) -> Cow<'_, str> {
    if is_plain(s) {
        Cow::Borrowed(s)
    } else {
        Cow::Owned(quoted(s))
    }
}

/// True when `s` written plain reads back as this string in any YAML version (conservative).
fn is_plain(s: &str) -> bool {
    const RESERVED: [&str; 14] = [
        "true", "false", "yes", "no", "on", "off", "y", "n", "null", "~", ".inf", ".nan", "<<", "=",
    ];
    let Some(&first) = s.as_bytes().first() else {
        return false;
    };
    let allowed = |b: u8| b.is_ascii_alphanumeric() || b"-_./:${}@+".contains(&b);
    (first.is_ascii_alphanumeric() || b"/.$_".contains(&first))
        && s.bytes().all(allowed)
        && !s.ends_with(':')
        && !RESERVED.iter().any(|r| r.eq_ignore_ascii_case(s))
        && !number_like(s)
}

/// Could read as a number in YAML 1.1 or 1.2: ints in any base, floats, sexagesimal `1:30`.
fn number_like(s: &str) -> bool {
    let body = s.trim_start_matches(['+', '-']);
    body.starts_with(|c: char| c.is_ascii_digit() || c == '.')
        && body
            .bytes()
            .all(|b| b.is_ascii_hexdigit() || b"_.:+-xXoO".contains(&b))
}

/// `s` double-quoted: `"` and `\` escaped, and every character that is not printable in both
/// YAML versions (controls, DEL, NEL, the Unicode line separators, BOM) as `\uXXXX`.
fn quoted(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() || matches!(c, '\u{2028}' | '\u{2029}' | '\u{feff}') => {
                out.push_str(&format!("\\u{:04X}", u32::from(c)));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_paths_and_endpoints_stay_plain() {
        for s in [
            "checkout",
            "/metrics",
            "localhost:4317",
            "${env:POD_IP}:13133",
            "30s",
            "otel.example.com",
        ] {
            assert_eq!(scalar(s), s);
        }
    }

    #[test]
    fn what_would_read_as_something_else_is_quoted() {
        for (s, written) in [
            ("yes", "\"yes\""),
            ("NULL", "\"NULL\""),
            ("", "\"\""),
            ("8080", "\"8080\""),
            ("1e3", "\"1e3\""),
            ("0x1F", "\"0x1F\""),
            ("1:30", "\"1:30\""),
            (".inf", "\".inf\""),
            ("-a", "\"-a\""),
            ("a: b", "\"a: b\""),
            ("a #b", "\"a #b\""),
            ("key:", "\"key:\""),
            ("say \"hi\"\n", "\"say \\\"hi\\\"\\n\""),
            ("\u{2028}\u{7f}", "\"\\u2028\\u007F\""),
        ] {
            assert_eq!(scalar(s), written, "{s:?}");
        }
    }
}
