//! The SDK's hand-written JSON writer (`plugins/sdk/src/json.rs`) against serde_json on random
//! values: the host reads what plugins write, so the text must be serde_json's to the byte.
//! Compiled here, on the host, because the SDK vendors no test-only crates.

// The writer copies short pieces with unaligned word loads; the rest of this crate denies
// unsafe code.
#[path = "../../plugins/sdk/src/json.rs"]
#[allow(dead_code, unsafe_code)]
mod json;

use proptest::prelude::*;
use serde_json::{Map, Value};

/// Text that is mostly plain with the bytes JSON escapes mixed in, at every offset of a word.
fn text() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        4 => "[a-z0-9 :.{}]{0,12}",
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
}
