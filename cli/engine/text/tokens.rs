//! The release check of new block text: the scalars it holds (keys, values, multi-line
//! strings), written by the renderer's own code and read back alone (a scalar that comes back
//! in later documents is answered from memory: `memo`), but for the four kinds below.
//!
//! New block text is the renderer's layout (indentation, dashes, colons) around scalar tokens.
//! The tokens are where a writer can go wrong on the reader's terms (a plain `yes`, `0o17` or
//! `a: b` reading as something else), and they are checked here in every build; the layout is
//! the renderer's fixed logic, checked by reading each whole piece back in debug builds (every
//! test, and the property tests of random documents). Checking tokens rather than pieces keeps
//! the check's cost at the new scalars of a document: a plugin that writes one new name into a
//! large helper costs one short read, not a read of the whole helper. Four kinds of scalar
//! are not read:
//! - words (`render::is_word`), written plain and read back as strings by the reader's own
//!   rules;
//! - nulls, booleans and integers of up to 18 digits (`is_certain`), whose spellings the same
//!   rules type;
//! - the one-line strings written in double quotes directly (`quoted::written`, a JSON
//!   configuration), whose text and reading back the tests in `quoted` hold to the writer's
//!   and the parser's (random strings, and a configuration of kilobytes). This is the largest
//!   token of a plugin's helper and new in every document: writing it again and decoding it
//!   was 4% of the plugin stream's instructions;
//! - the strings of several lines written as literal blocks (`render::is_literal`, a
//!   configuration file): only printable characters, no blank at the start or at the end of
//!   a line, so the block's lines are the string's lines, which the property tests in `render`
//!   hold to the parser (random strings, at any column, and a configuration of kilobytes).
//!   Written again and read back directly, such a configuration cost the plugin stream 2% of
//!   its instructions (callgrind).

use serde_json::Value;

use super::quoted;
use super::render::{self, Style};
use super::verify::{self, Expected};

/// The style the tokens are written in for their check (a token's text does not depend on
/// the indentation around it).
fn plain_style() -> Style {
    Style {
        step: 2,
        seq_indented: false,
        newline: "\n",
        json: false,
    }
}

/// True when every scalar of `expected` reads back alone as written in block style.
pub(super) fn read_back(expected: Expected<'_>) -> bool {
    let style = plain_style();
    match expected {
        Expected::Value(v) | Expected::Item(v) => value(v, &style),
        Expected::Entry(key, v) => self::key(key, &style) && value(v, &style),
    }
}

fn value(v: &Value, style: &Style) -> bool {
    match v {
        Value::Object(map) if !map.is_empty() => {
            map.iter().all(|(k, v)| key(k, style) && value(v, style))
        }
        Value::Array(items) if !items.is_empty() => items.iter().all(|v| value(v, style)),
        Value::String(s) if render::is_word(s) || quoted::is_direct(s) => true,
        scalar if is_certain(scalar) => true,
        Value::String(s) if render::is_literal(s) => true,
        // A scalar (or an empty collection) as a one-item sequence: `- TOKEN`. A one-line
        // double-quoted string is read directly (`quoted`), anything else by the parser.
        scalar => {
            let mut text = String::new();
            render::item(&mut text, scalar, 0, style);
            let direct = |s: &String| quoted::item(&text).is_some_and(|read| read == *s);
            matches!(scalar, Value::String(s) if direct(s))
                || verify::fragment(&text, Expected::Item(scalar))
        }
    }
}

/// A null, a boolean or an integer of up to `verify::CERTAIN_DIGITS` digits: the renderer
/// writes them as `null`, `true`, `false` or decimal digits, spellings that `verify::plain`
/// types for certain (as the parser does: its property test) as this same value, so they need
/// no reading back.
fn is_certain(v: &Value) -> bool {
    const LIMIT: u64 = 10u64.pow(verify::CERTAIN_DIGITS);
    match v {
        Value::Null | Value::Bool(_) => true,
        Value::Number(n) => n
            .as_u64()
            .or_else(|| n.as_i64().map(i64::unsigned_abs))
            .is_some_and(|n| n < LIMIT),
        _ => false,
    }
}

/// A key as the one entry of a mapping: `KEY: null`.
fn key(k: &str, style: &Style) -> bool {
    if render::is_word(k) {
        return true;
    }
    let mut text = String::new();
    render::entry(&mut text, k, &Value::Null, 0, style);
    verify::fragment(&text, Expected::Entry(k, &Value::Null))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_kind_of_scalar_reads_back() {
        let v = json!({"name": "web", "yes": "no", "port": 8080, "ratio": 0.5, "on": true,
            "empty": {}, "none": [], "nothing": null, "mode": "0400", "script": "a\nb\n",
            "json": "{\"a\": [1, 2]}", "key: with colon": "- dash", "list": ["1e3", "~", ""]});
        assert!(read_back(Expected::Value(&v)));
        assert!(read_back(Expected::Entry("a key", &v)));
        assert!(read_back(Expected::Item(&v)));
    }

    /// What `is_certain` passes unread is what the renderer writes and the YAML reader reads
    /// back as the same value; past 18 digits, floats and strings are read.
    #[test]
    fn certain_scalars_read_back_as_themselves() {
        let limit = 999_999_999_999_999_999_i64;
        let certain = [
            json!(null),
            json!(true),
            json!(false),
            json!(0),
            json!(1),
            json!(-1),
            json!(limit),
            json!(-limit),
        ];
        for v in &certain {
            assert!(is_certain(v), "{v}");
            let mut text = String::new();
            render::item(&mut text, v, 0, &plain_style());
            let read: Option<Value> = crate::yaml::from_str(&text).ok();
            assert_eq!(read, Some(json!([v])), "{v} written as {text:?}");
        }
        let read = [
            json!(limit + 1),
            json!(-limit - 1),
            json!(i64::MIN),
            json!(u64::MAX),
            json!(0.5),
            json!(1.0),
            json!("1"),
            json!("yes"),
            json!("0o17"),
            json!("1e3"),
        ];
        for v in &read {
            assert!(!is_certain(v), "{v}");
        }
    }
}
