//! Format-preserving edits: a changed document is written as its own text with only the
//! inserted, removed or changed entries spliced in, so comments, key order, quoting, scalar
//! styles, indentation, octal literals and empty keys stay as the user wrote them.
//!
//! The edits are those between the document's value before and after the action (the merge
//! plan's `apply`), placed on the source spans of serde-saphyr's own parser. New blocks follow
//! their neighbours: indentation, sequence style, flow or block, line endings. Every scalar
//! written into new block text is read back alone and must hold the value it was written for
//! (`tokens`; what repeats from document to document is remembered); edits in flow collections and JSON are read back whole,
//! and in debug builds (every test) so is each new piece of block text, which checks the
//! renderer's layout around the scalars, and the whole edited document. When a check fails,
//! `edit` returns `None` and the caller re-emits the document.

use serde_json::Value;

mod layout;
mod memo;
mod nulls;
mod quoted;
mod render;
mod splice;
mod tokens;
mod tree;
mod verify;

/// The source layout of a document, read once with its value (`read`) and kept for the edit.
#[derive(Debug, Clone)]
pub struct Layout(tree::Node);

/// Reads one YAML (or JSON) document's layout and, where every scalar's type is certain (and no
/// key repeats), its value, in one pass of the parser: the value is then exactly what
/// serde-saphyr would read. `None` when the document has what edits do not handle (anchors,
/// aliases, tags, merge keys) or does not parse; the value is `None` when serde-saphyr must
/// decide it.
pub fn read(text: &str) -> Option<(Layout, Option<Value>)> {
    tree::read(text).map(|(node, value)| (Layout(node), value))
}

/// `text` (one YAML document, or one JSON document when `json`) that holds `before`, edited to
/// hold `after`, on its `layout` when it was read (else the text is parsed for it). `None`
/// when the layout cannot take the edit in place (anchors, aliases, tags, merge keys, a
/// reordered mapping) or the edited text would not read back as `after`.
pub fn edit(
    text: &str,
    layout: Option<&Layout>,
    before: &Value,
    after: &Value,
    json: bool,
) -> Option<String> {
    // A document that held nothing has no layout to keep.
    if before.is_null() {
        return None;
    }
    let parsed;
    let root = match layout {
        Some(Layout(node)) => node,
        None => {
            parsed = tree::parse(text)?;
            &parsed
        }
    };
    let mut editor = splice::Editor {
        text,
        style: detect_style(text, root, json),
        splices: Vec::new(),
        needs_full_check: json,
    };
    editor.root(root, before, after)?;
    let full = editor.needs_full_check;
    let edited = apply(text, editor.splices)?;
    if json {
        return (serde_json::from_str::<Value>(&edited).ok()? == *after).then_some(edited);
    }
    // Block edits checked every scalar of their new text as it was written; the layout around
    // the scalars and where the pieces went are the editor's own logic, which debug builds
    // (every test) check against a full read-back.
    if full || cfg!(debug_assertions) {
        let same = reads_back_as(&edited, after);
        debug_assert!(
            same || full,
            "a block edit did not read back as the merged object:\n{edited}"
        );
        if !same {
            return None;
        }
    }
    Some(edited)
}

/// The nulls `text` (holding `before`) spells out (`volumes: ~`) in block mappings that
/// `after` fills with a list or map: each one's path from the root (mapping keys, and list
/// items by their `name`) and spelling.
pub fn filled_nulls(
    text: &str,
    layout: &Layout,
    before: &Value,
    after: &Value,
) -> Vec<(Vec<String>, String)> {
    nulls::filled(text, &layout.0, before, after)
}

/// `text` (one YAML document holding `value`) with each spelling written after the colon of
/// the key at its path where that key is empty (`volumes:` becomes `volumes: ~`); paths to
/// anything else are passed over. `None` when the text does not parse.
pub fn spell_nulls(text: &str, value: &Value, spelled: &[(Vec<String>, String)]) -> Option<String> {
    let root = tree::parse(text)?;
    let out = nulls::spell(text, &root, value, spelled);
    debug_assert!(
        reads_back_as(&out, value),
        "a spelled null changed the value:\n{out}"
    );
    Some(out)
}

/// True when the YAML `text` reads back as `value`.
fn reads_back_as(text: &str, value: &Value) -> bool {
    match verify::check(text, value) {
        verify::Verdict::Same => true,
        verify::Verdict::Differs => false,
        verify::Verdict::Unsure => crate::yaml::from_str::<Value>(text).is_ok_and(|v| v == *value),
    }
}

/// Applies the splices in order of position (inserts at one point in the order made, before
/// a removal that starts there);
/// `None` when two overlap.
fn apply(text: &str, mut splices: Vec<splice::Splice>) -> Option<String> {
    splices.sort_by_key(|s| (s.start, s.end));
    let mut out =
        String::with_capacity(text.len() + splices.iter().map(|s| s.text.len()).sum::<usize>());
    let mut at = 0;
    for s in splices {
        if s.start < at {
            return None;
        }
        out.push_str(&text[at..s.start]);
        out.push_str(&s.text);
        at = s.end;
    }
    out.push_str(&text[at..]);
    Some(out)
}

/// The document's indentation step, sequence indentation and line ending, read from its first
/// nested block mapping and first block sequence under a key.
fn detect_style(text: &str, root: &tree::Node, json: bool) -> render::Style {
    let col = |offset: usize| offset - text[..offset].rfind('\n').map_or(0, |i| i + 1);
    let mut step = None;
    let mut seq_indented = None;
    let mut stack = vec![root];
    while let Some(node) = stack.pop() {
        match &node.kind {
            tree::Kind::Map {
                flow: false,
                entries,
            } => {
                for e in entries {
                    match &e.value.kind {
                        tree::Kind::Map {
                            flow: false,
                            entries: inner,
                        } if step.is_none() => {
                            step = inner
                                .first()
                                .map(|i| col(i.key_start).saturating_sub(col(e.key_start)))
                                .filter(|s| *s > 0);
                        }
                        tree::Kind::Seq { flow: false, .. } if seq_indented.is_none() => {
                            seq_indented = Some(col(e.value.start) > col(e.key_start));
                        }
                        _ => {}
                    }
                }
                stack.extend(entries.iter().rev().map(|e| &e.value));
            }
            tree::Kind::Seq { items, .. } => stack.extend(items.iter().rev()),
            _ => {}
        }
        if step.is_some() && seq_indented.is_some() {
            break;
        }
    }
    render::Style {
        step: step.unwrap_or(2),
        seq_indented: seq_indented.unwrap_or(false),
        newline: if text.contains("\r\n") { "\r\n" } else { "\n" },
        json,
    }
}
