//! The SDK's hand-written JSON writer and reader (`plugins/sdk/src/json.rs`, `json_read.rs`)
//! against serde_json on random values: the host reads what plugins write, so the text must be
//! serde_json's to the byte, and a text must read as the value (and key order) serde_json reads,
//! or be left to serde_json. Compiled here, on the host, because the SDK vendors no test-only
//! crates.

// The writer copies short pieces with unaligned word loads; the rest of this crate denies
// unsafe code.
#[path = "../../plugins/sdk/src/json.rs"]
#[allow(dead_code, unsafe_code)]
mod json;
#[path = "../../plugins/sdk/src/json_read.rs"]
#[allow(dead_code)]
mod json_read;

use proptest::prelude::*;
use serde_json::{Map, Value};

/// Text that is mostly plain with the bytes JSON escapes mixed in, at every offset of a word.
fn text() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        4 => "[a-z0-9 :./{}]{0,12}",
        1 => prop::sample::select(vec!["\"", "\\", "\n", "\t", "\u{0}", "\u{1f}", "\u{7f}", "é", "日", "😀", "\u{2028}"])
            .prop_map(str::to_owned),
    ];
    prop::collection::vec(piece, 0..12).prop_map(|pieces| pieces.concat())
}

fn value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        text().prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 64, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((text(), inner), 0..6)
                .prop_map(|entries| Value::Object(entries.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

proptest! {
    #[test]
    fn the_writers_text_is_serde_jsons(v in value()) {
        prop_assert_eq!(json::value_to_string(&v), serde_json::to_string(&v).unwrap());
    }

    /// Compact, pretty or spelt another way JSON allows, the text reads as serde_json reads it,
    /// keys in the same order (serde_json's text of both: a map compares as a set).
    #[test]
    fn the_readers_value_is_serde_jsons(
        v in value(),
        pretty in any::<bool>(),
        choices in prop::collection::vec(any::<u8>(), 0..32),
    ) {
        let text = match pretty {
            true => serde_json::to_string_pretty(&v).unwrap(),
            false => respell(&serde_json::to_string(&v).unwrap(), &choices),
        };
        let expected: Value = serde_json::from_str(&text).unwrap();
        let read = json_read::value(&text);
        prop_assert_eq!(read.as_ref().map(Value::to_string), Some(expected.to_string()), "{}", text);
    }
}

/// Compact JSON text spelt as `choices` pick: white space of all four kinds after punctuation
/// and strings, and the characters of strings as `\u` escapes (lower- or upper-case hex, a
/// surrogate pair above the basic plane) or `\/`. serde_json writes none of these, and readers
/// must take them all.
fn respell(text: &str, choices: &[u8]) -> String {
    let mut pick = choices.iter().copied().cycle();
    let mut next = move || pick.next().unwrap_or(0);
    let mut out = String::new();
    let mut chars = text.chars();
    let mut in_string = false;
    while let Some(c) = chars.next() {
        match (in_string, c) {
            (true, '\\') => {
                // An escape serde_json wrote, kept whole.
                out.push(c);
                let escape = chars.next().unwrap_or('\\');
                out.push(escape);
                if escape == 'u' {
                    out.extend(chars.by_ref().take(4));
                }
            }
            (true, '"') | (false, _) => {
                out.push(c);
                in_string ^= c == '"';
                let n = next();
                if !in_string && n % 3 == 0 && matches!(c, '{' | '}' | '[' | ']' | ',' | ':' | '"')
                {
                    out.push([' ', '\t', '\r', '\n'][usize::from(n / 3 % 4)]);
                }
            }
            (true, c) => match (next() % 4, u32::from(c)) {
                (0, code) if code > 0xffff => {
                    let low = code - 0x10000;
                    out.push_str(&format!(
                        "\\u{:04x}\\u{:04X}",
                        0xd800 + (low >> 10),
                        0xdc00 + (low & 0x3ff)
                    ));
                }
                (0, code) => out.push_str(&format!("\\u{code:04x}")),
                (1, code) if code <= 0xffff => out.push_str(&format!("\\u{code:04X}")),
                (2, _) if c == '/' => out.push_str("\\/"),
                _ => out.push(c),
            },
        }
    }
    out
}

#[test]
fn respelt_text_is_the_same_value() {
    let v = serde_json::json!({"a/b": ["é😀 x", 1, {"k": "v\"q"}]});
    let text = respell(&serde_json::to_string(&v).unwrap(), &[0, 4, 1, 2, 9]);
    assert_ne!(text, serde_json::to_string(&v).unwrap());
    assert_eq!(serde_json::from_str::<Value>(&text).unwrap(), v, "{text}");
    assert!(text.contains("\\u"), "{text}");
}

proptest! {
    // Many cases: most single edits break the text where any reader refuses it.
    #![proptest_config(ProptestConfig::with_cases(4000))]

    /// Text broken at one place (a character replaced, dropped or added): where serde_json
    /// refuses it, the reader does not read it; where serde_json reads it, the reader reads the
    /// same value or leaves it to serde_json.
    #[test]
    fn broken_text_is_read_as_serde_json_reads_it_or_not_at_all(
        v in value(),
        at in any::<prop::sample::Index>(),
        at_number in any::<bool>(),
        edit in 0..3u8,
        with in prop::sample::select(&["\"", "\\", "{", "}", "[", "]", ",", ":", " ", "0", "-",
            "e", ".", "u", "t", "n", "\u{1}", "é"][..]),
    ) {
        let text = serde_json::to_string(&v).unwrap();
        let mut chars: Vec<String> = text.chars().map(String::from).collect();
        // Half the edits at a number (where the rules are finest), the rest anywhere.
        let numbers: Vec<usize> = (0..chars.len())
            .filter(|&i| chars[i].starts_with(|c: char| c.is_ascii_digit() || c == '-'))
            .collect();
        let i = match (at_number, numbers.is_empty()) {
            (true, false) => numbers[at.index(numbers.len())],
            _ => at.index(chars.len() + 1),
        };
        match (edit, i < chars.len()) {
            (0, true) => chars[i] = with.to_string(),
            (1, true) => drop(chars.remove(i)),
            _ => chars.insert(i, with.to_string()),
        }
        let broken = chars.concat();
        match serde_json::from_str::<Value>(&broken) {
            Ok(expected) => {
                if let Some(read) = json_read::value(&broken) {
                    prop_assert_eq!(read.to_string(), expected.to_string(), "{}", broken);
                }
            }
            Err(_) => prop_assert_eq!(json_read::value(&broken), None, "{}", broken),
        }
    }
}
