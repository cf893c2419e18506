//! Format-preserving edits (engine `text`): edits land in place and undo to the same bytes.

use serde_json::{Value, json};

use kubectl_pattern::engine::text::edit;

fn parse(text: &str) -> Value {
    kubectl_pattern::engine::yaml::from_str(text).unwrap()
}

/// Edits `text` to `after` and back: the edit must happen in place and undo to the bytes.
fn round(text: &str, after: &Value) -> String {
    let before = parse(text);
    let edited = edit(text, &before, after, false).expect("edited in place");
    let back = edit(&edited, after, &before, false).expect("undone in place");
    assert_eq!(back, text, "undo restores the bytes");
    edited
}

#[test]
fn scratch() {
    let text = "# head\nkind: Deployment\nmetadata:\n  name: web   # c\n  annotations:\nspec:\n  containers:\n  - name: web\n    image: \"nginx:1\"  # renovate: x\n    args: [a, \"b\"]\n    command: |\n      echo hi\n\n  # trailing\n  volumes: []\n";
    let mut after = parse(text);
    after["spec"]["containers"].as_array_mut().unwrap().push(json!({"name": "helper", "image": "busybox:1.36", "args": ["sh", "-c", "a\nb\n"]}));
    after["spec"]["volumes"] = json!([{"name": "v", "emptyDir": {}}]);
    after["metadata"]["annotations"] = json!({"x/y": "{\"a\":1}"});
    let edited = round(text, &after);
    println!("{edited}");
}
