//! The SDK's YAML scalars (`plugins/sdk/src/yaml.rs`) read back through the YAML parser the
//! tool reads manifests with: a plugin writes configuration text with them, so every string
//! must come back as itself. Compiled here, on the host, because the SDK vendors no test-only
//! crates.

#[path = "../../plugins/sdk/src/yaml.rs"]
mod yaml;

use proptest::prelude::*;
use serde_json::{Value, json};

/// What the parser reads `key: SCALAR` as.
fn reads(scalar: &str) -> Option<Value> {
    kubectl_pattern_engine::yaml::from_str(&format!("key: {scalar}\n")).ok()
}

/// Words YAML 1.1 or 1.2 types as something other than a string, and near misses.
fn tricky() -> impl Strategy<Value = String> {
    prop::sample::select(vec![
        "true",
        "False",
        "YES",
        "no",
        "On",
        "off",
        "y",
        "N",
        "null",
        "Null",
        "~",
        "",
        ".inf",
        "-.inf",
        ".NaN",
        "0",
        "-1",
        "+1",
        "0o17",
        "0x1f",
        "017",
        "1_000",
        "1e3",
        "1.5",
        "1:30",
        "190:20:30",
        "2001-12-14",
        "<<",
        "=",
        "-",
        "?",
        ":",
        "- a",
        "? a",
        ": a",
        "a:",
        "a: b",
        "a #b",
        "#a",
        "&a",
        "*a",
        "!a",
        "|",
        ">",
        "%a",
        "@a",
        "`a",
        "'a'",
        "\"a\"",
        "{a}",
        "[a]",
        "a,b",
        " a",
        "a ",
        "---",
        "...",
    ])
    .prop_map(str::to_owned)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    #[test]
    fn every_string_reads_back_as_itself(
        s in prop_oneof![
            tricky(),
            "[a-zA-Z0-9._/:${}@+=~#&*!|>'\"%`,\\[\\] -]{0,12}",
            "[ -~\t\n\r\u{1}-\u{1f}\u{7f}-\u{a0}\u{2028}\u{2029}\u{feff}é日😀]{0,16}",
        ],
    ) {
        let written = yaml::scalar(&s);
        prop_assert_eq!(reads(&written), Some(json!({"key": s})), "written as {}", written);
    }
}

/// The collector configuration's values stay plain: the text reads like a hand-written file.
#[test]
fn endpoints_and_env_references_are_written_plain() {
    for s in [
        "${env:POD_IP}:13133",
        "localhost:4317",
        "/metrics",
        "30s",
        "shop-00001",
    ] {
        assert_eq!(yaml::scalar(s), s);
        assert_eq!(reads(s), Some(json!({"key": s})), "{s}");
    }
}
