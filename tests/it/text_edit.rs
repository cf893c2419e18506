//! Format-preserving edits (engine `text`): edits land in the document's own text, the result
//! reads back as exactly what the merge produced, and add then remove restores the bytes.

use std::io::Cursor;
use std::sync::Arc;

use kubectl_pattern::engine::catalogue::Catalogue;
use kubectl_pattern::engine::merge::MergeOptions;
use kubectl_pattern::engine::output::{Emit, OutputFormat, StreamWriter};
use kubectl_pattern::engine::params::{self, ParamInput};
use kubectl_pattern::engine::process::{
    Action, AddAction, PatternRequest, RemoveAction, process_document,
};
use kubectl_pattern::engine::stream::split;
use kubectl_pattern::engine::text::edit;
use kubectl_pattern::engine::yaml;
use proptest::prelude::*;
use serde_json::{Value, json};

fn parse(text: &str) -> Value {
    yaml::from_str(text).unwrap()
}

/// Edits `text` to `after` and back: both edits are made in place (no re-emit) and the undo
/// gives back the bytes.
fn round(text: &str, after: &Value) -> String {
    let before = parse(text);
    let edited = edit(text, None, &before, after, false).expect("edited in place");
    assert_eq!(
        parse(&edited),
        *after,
        "the edit reads back as the new value"
    );
    let back = edit(&edited, None, after, &before, false).expect("undone in place");
    assert_eq!(back, text, "undo restores the bytes");
    edited
}

fn add_helper(doc: &mut Value) {
    let spec = doc.pointer_mut("/spec/template/spec").unwrap();
    spec["containers"]
        .as_array_mut()
        .unwrap()
        .push(json!({"name": "helper", "image": "busybox:1.36", "args": ["-c", "1Gi", "a\nb\n"]}));
    spec["initContainers"] = json!([{"name": "wait", "image": "busybox:1.36"}]);
}

const FOUR_SPACES: &str = "# head comment\r\napiVersion: apps/v1\r\nkind: Deployment\r\nmetadata:\r\n    name: web # tier\r\n    annotations:\r\nspec:\r\n    template:\r\n        spec:\r\n            containers:\r\n                # the app\r\n                -   name: web\r\n                    image: \"nginx:1.27\"  # renovate: datasource=docker\r\n                    ports: [{containerPort: 8080}]\r\n            volumes:\r\n                - name: s\r\n                  secret: {secretName: s, defaultMode: 0400}\r\n";

#[test]
fn four_space_indented_crlf_document_gets_blocks_in_its_own_style() {
    let mut after = parse(FOUR_SPACES);
    add_helper(&mut after);
    after["metadata"]["annotations"] = json!({"example.com/x": "{\"a\":1}"});
    let edited = round(FOUR_SPACES, &after);
    assert!(
        edited.contains("\r\n                - name: helper\r\n                  image: busybox:1.36\r\n                  args:\r\n                      - -c\r\n                      - 1Gi\r\n"),
        "{edited}"
    );
    assert!(
        edited.contains("            initContainers:\r\n                - name: wait\r\n"),
        "{edited}"
    );
    assert!(edited.contains("    annotations:\r\n        example.com/x: \"{\\\"a\\\":1}\"\r\n"));
    assert!(edited.contains("defaultMode: 0400}") && edited.contains("# renovate: datasource"));
}

#[test]
fn kubectl_style_two_spaces_and_flow_lists() {
    let text = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  template:\n    spec:\n      containers: [{name: web, image: 'nginx:1.27'}]\n      volumes: []\n";
    let mut after = parse(text);
    add_helper(&mut after);
    after["spec"]["template"]["spec"]["volumes"] = json!([{"name": "v", "emptyDir": {}}]);
    after["metadata"]["annotations"] = json!({"a": "b"});
    let edited = round(text, &after);
    assert!(edited.contains("containers: [{name: web, image: 'nginx:1.27'}, {name: helper, image: busybox:1.36, args: [-c, 1Gi, \"a\\nb\\n\"]}]"), "{edited}");
    assert!(
        edited.contains("volumes: [{name: v, emptyDir: {}}]\n"),
        "{edited}"
    );
    assert!(
        edited.contains("metadata: {name: web, annotations: {a: b}}"),
        "{edited}"
    );
    assert!(
        edited.contains("      initContainers:\n      - name: wait\n"),
        "{edited}"
    );
}

#[test]
fn pretty_json_keeps_its_layout() {
    let text = "{\n    \"apiVersion\": \"apps/v1\",\n    \"kind\": \"Deployment\",\n    \"metadata\": {\"name\": \"web\"},\n    \"spec\": {\n        \"template\": {\n            \"spec\": {\n                \"containers\": [\n                    {\"name\": \"web\", \"image\": \"nginx\"}\n                ]\n            }\n        }\n    }\n}";
    let before: Value = serde_json::from_str(text).unwrap();
    let mut after = before.clone();
    add_helper(&mut after);
    let edited = edit(text, None, &before, &after, true).expect("edited in place");
    assert_eq!(serde_json::from_str::<Value>(&edited).unwrap(), after);
    assert!(edited.starts_with("{\n    \"apiVersion\": \"apps/v1\",\n    \"kind\": \"Deployment\",\n    \"metadata\": {\"name\": \"web\"},"), "{edited}");
    assert!(edited.contains("{\"name\": \"web\", \"image\": \"nginx\"},\n                    {\n                        \"name\": \"helper\","), "{edited}");
    assert_eq!(edit(&edited, None, &after, &before, true).unwrap(), text);
}

#[test]
fn the_last_item_replaced_in_one_edit_keeps_the_other_lines() {
    // A removal and an insertion at the same offset (the last item of a list goes, another
    // is appended): the insertion goes first, and nothing else of the document moves.
    let text = "spec:\n  volumes:\n  # keep me\n  - name: a # first\n    emptyDir: {}\n  - name: old\n    gitRepo: {repository: r}\nstatus: {}\n";
    let before = parse(text);
    let mut after = before.clone();
    after["spec"]["volumes"][1] = json!({"name": "new", "emptyDir": {}});
    let edited = edit(text, None, &before, &after, false).expect("edited in place");
    assert_eq!(
        edited,
        "spec:\n  volumes:\n  # keep me\n  - name: a # first\n    emptyDir: {}\n  - name: new\n    emptyDir: {}\nstatus: {}\n"
    );
}

#[test]
fn what_the_editor_cannot_place_is_refused_not_garbled() {
    // Anchors and aliases: the caller re-emits.
    let text = "a: &x {b: 1}\nc: *x\n";
    let before = parse(text);
    let mut after = before.clone();
    after["d"] = json!(1);
    assert_eq!(edit(text, None, &before, &after, false), None);
}

fn catalogue_request(id: &str, sets: &[(&str, &str)]) -> PatternRequest {
    let catalogue = Catalogue::builtin();
    let pattern = catalogue
        .patterns()
        .iter()
        .find(|p| p.spec().id == id)
        .unwrap()
        .clone();
    let input = ParamInput::from_texts(sets.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    let params = params::resolve(id, &pattern.spec().params, &input).unwrap();
    PatternRequest {
        pattern,
        instance: id.to_string(),
        params,
    }
}

/// Runs `action` over the stream `text` the way the binary does and returns the output bytes.
pub fn run_stream(text: &str, action: &dyn Action) -> (String, bool) {
    let docs = split(Box::new(Cursor::new(text.to_string())), Arc::from("t.yaml")).unwrap();
    let mut writer = StreamWriter::new(OutputFormat::Yaml);
    let mut changed = false;
    for doc in docs {
        let doc = doc.unwrap();
        let processed = process_document(&doc, action).unwrap();
        if let Emit::Changed { after, .. } = &processed.emit {
            changed = true;
            // The output must read back as exactly what the merge produced.
            let rendered = kubectl_pattern::engine::output::render(
                &doc,
                processed.emit.clone(),
                OutputFormat::Yaml,
            )
            .unwrap();
            if let kubectl_pattern::engine::output::Rendered::Yaml(Some(t)) = rendered {
                assert_eq!(parse(&t), *after);
            }
        }
        writer.push(&doc, processed.emit).unwrap();
    }
    (
        String::from_utf8(writer.finish().unwrap()).unwrap(),
        changed,
    )
}

fn add_action() -> AddAction {
    AddAction {
        requests: vec![
            catalogue_request("log-shipper", &[]),
            catalogue_request(
                "wait-for",
                &[("host", "db.shop.svc.cluster.local"), ("port", "5432")],
            ),
        ],
        options: MergeOptions::default(),
    }
}

fn remove_action() -> RemoveAction {
    RemoveAction {
        names: vec!["log-shipper".into(), "wait-for".into()],
    }
}

/// One generated Deployment, written in one of many styles.
#[derive(Debug, Clone)]
struct Styled {
    step: usize,
    seq_indent: bool,
    crlf: bool,
    comments: bool,
    quote: usize,
    flow_ports: bool,
    empty_annotations: bool,
    init: bool,
    env: bool,
    octal: bool,
    /// `initContainers:`, `volumes:` and the app's `volumeMounts:` present with a null value.
    null_lists: bool,
    /// How those nulls and the empty annotations are written: nothing, `~`, `null`, `Null`.
    null_spelling: usize,
}

impl Styled {
    fn text(&self) -> String {
        let i = |n: usize| " ".repeat(n * self.step);
        let s = |n: usize| " ".repeat(n * self.step + if self.seq_indent { self.step } else { 0 });
        let c = |t: &str| {
            if self.comments {
                format!(" # {t}")
            } else {
                String::new()
            }
        };
        let n = ["", " ~", " null", " Null"][self.null_spelling % 4];
        let image = [
            "ghcr.io/example/app:1.2.3",
            "'ghcr.io/example/app:1.2.3'",
            "\"ghcr.io/example/app:1.2.3\"",
        ][self.quote % 3];
        let mut t = String::new();
        if self.comments {
            t.push_str("# Deployment of the app.\n");
        }
        t.push_str(&format!(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n{}name: app{}\n",
            i(1),
            c("name")
        ));
        if self.empty_annotations {
            // Not filled by the add: kept as written, whatever the spelling.
            let kept = [" ~", "", " null"][self.quote % 3];
            t.push_str(&format!("{}annotations:{kept}\n", i(1)));
        }
        t.push_str(&format!("spec:\n{}selector:\n{}matchLabels: {{app: app}}\n{}template:\n{}metadata:\n{}labels:\n{}app: app\n", i(1), i(2), i(1), i(2), i(3), i(4)));
        if self.empty_annotations {
            t.push_str(&format!("{}annotations:{n}\n", i(3)));
        }
        t.push_str(&format!("{}spec:\n", i(2)));
        if self.null_lists && !self.init {
            t.push_str(&format!("{}initContainers:{n}\n", i(3)));
        }
        if self.init {
            t.push_str(&format!(
                "{}initContainers:\n{}- name: migrate\n{}  image: {image}\n",
                i(3),
                s(3),
                s(3)
            ));
        }
        t.push_str(&format!("{}containers:\n", i(3)));
        if self.comments {
            t.push_str(&format!("{}# the app container\n", s(3)));
        }
        t.push_str(&format!(
            "{}- name: app\n{}  image: {image}{}\n",
            s(3),
            s(3),
            c("{\"$imagepolicy\": \"flux-system:app\"}")
        ));
        if self.flow_ports {
            t.push_str(&format!(
                "{}  ports: [{{containerPort: 8080, name: http}}]\n",
                s(3)
            ));
        } else {
            t.push_str(&format!(
                "{}  ports:\n{}  {}- containerPort: 8080\n",
                s(3),
                s(3),
                if self.seq_indent { i(1) } else { String::new() }
            ));
        }
        if self.env {
            t.push_str(&format!(
                "{}  env:\n{}  {}# - name: DEBUG\n{}  {}- {{name: MODE, value: \"prod\"}}\n",
                s(3),
                s(3),
                if self.seq_indent { i(1) } else { String::new() },
                s(3),
                if self.seq_indent { i(1) } else { String::new() }
            ));
        }
        if self.null_lists {
            t.push_str(&format!("{}  volumeMounts:{n}\n", s(3)));
        }
        if self.null_lists && !self.octal {
            t.push_str(&format!("{}volumes:{n}{}\n", i(3), c("none yet")));
        }
        if self.octal {
            t.push_str(&format!("{}volumes:\n{}- name: s\n{}  secret:\n{}  {}secretName: s\n{}  {}defaultMode: 0400\n", i(3), s(3), s(3), s(3), i(1), s(3), i(1)));
        }
        if self.crlf {
            t = t.replace('\n', "\r\n");
        }
        t
    }
}

fn arb_styled() -> impl Strategy<Value = Styled> {
    (
        prop::sample::select(vec![2usize, 4]),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        0usize..3,
        any::<bool>(),
        any::<bool>(),
        (any::<bool>(), any::<bool>(), any::<bool>(), any::<bool>()),
        0usize..4,
    )
        .prop_map(
            |(
                step,
                seq_indent,
                crlf,
                comments,
                quote,
                flow_ports,
                empty_annotations,
                (init, env, octal, null_lists),
                null_spelling,
            )| Styled {
                step,
                seq_indent,
                crlf,
                comments,
                quote,
                flow_ports,
                empty_annotations,
                init,
                env,
                octal,
                null_lists,
                null_spelling,
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// add then remove gives back the bytes; the add changes no line of the original (only
    /// lines are inserted); a second add changes nothing.
    #[test]
    fn add_then_remove_is_identity_on_bytes(docs in prop::collection::vec(arb_styled(), 1..3)) {
        let text: String = docs.iter().map(Styled::text).collect::<Vec<_>>().join("---\n");
        let (added, changed) = run_stream(&text, &add_action());
        prop_assert!(changed);
        let (again, _) = run_stream(&added, &add_action());
        prop_assert_eq!(&again, &added, "a second add changes nothing");
        // Every original line is still there, in order: the add only inserted lines (a null
        // `annotations:` or list takes the new entries under it, its `~` or `null` gone).
        let unspelled: Vec<String> = docs
            .iter()
            .map(|d| Styled { null_spelling: 0, ..d.clone() }.text())
            .collect();
        let mut lines = added.lines();
        for line in unspelled.join("---\n").lines() {
            prop_assert!(lines.any(|l| l == line), "line {:?} kept", line);
        }
        let (removed, _) = run_stream(&added, &remove_action());
        prop_assert_eq!(removed, text);
    }
}

fn one(id: &str, sets: &[(&str, &str)]) -> AddAction {
    AddAction {
        requests: vec![catalogue_request(id, sets)],
        options: MergeOptions::default(),
    }
}

fn remove_one(name: &str) -> RemoveAction {
    RemoveAction {
        names: vec![name.into()],
    }
}

/// `volumes: null` filled by one pattern, shared with a second, comes back as `null` when the
/// last of them goes, whichever goes first.
#[test]
fn a_spelled_null_is_recorded_and_written_back_when_its_last_user_goes() {
    let text = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: app\nspec:\n  selector:\n    matchLabels: {app: app}\n  template:\n    metadata:\n      labels: {app: app}\n    spec:\n      containers:\n      - name: app\n        image: nginx:1.27\n      volumes: null # none yet\n";
    let (shipped, _) = run_stream(text, &one("log-shipper", &[]));
    assert!(
        shipped.contains(r#"\"nullAs\":{\"/spec/template/spec/volumes\":\"null\"}"#),
        "{shipped}"
    );
    assert!(shipped.contains("      volumes: # none yet\n"), "{shipped}");
    let repo = [("repo", "https://github.com/example/site.git")];
    let (both, _) = run_stream(&shipped, &one("git-clone", &repo));
    for first in ["log-shipper", "git-clone"] {
        let last = if first == "log-shipper" {
            "git-clone"
        } else {
            "log-shipper"
        };
        let (one_left, _) = run_stream(&both, &remove_one(first));
        assert!(one_left.contains("nullAs"), "handed on: {one_left}");
        let (removed, _) = run_stream(&one_left, &remove_one(last));
        assert_eq!(removed, text, "{first} removed first");
    }
}
