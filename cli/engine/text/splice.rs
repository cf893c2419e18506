//! The edits between two versions of a document's value, as byte-range replacements of its
//! text: mappings and sequences are walked side by side with the source layout, items matched
//! by key (`name`, `mountPath`) or equality, and only inserted, removed or changed entries
//! produce text. Anything the walk cannot place returns `None` (the caller re-emits).

use serde_json::{Map, Value};

use super::render::{self, Style};
use super::tree::{Entry, Kind, Node};
use super::verify::Expected;

/// Replace `start..end` with `text`.
#[derive(Debug)]
pub(super) struct Splice {
    pub start: usize,
    pub end: usize,
    pub text: String,
}

/// Where a node sits: what its replacement must look like.
#[derive(Debug, Clone, Copy)]
enum Slot {
    /// The value of a block mapping entry whose key is at this column, and the offset after
    /// its colon.
    BlockValue(usize, usize),
    /// A block sequence item, or the document root.
    BlockItem,
    /// Inside a flow collection.
    Flow,
}

pub(super) struct Editor<'t> {
    pub text: &'t str,
    pub style: Style,
    pub splices: Vec<Splice>,
    /// True once an edit was made that only a full read-back can check (flow collections,
    /// JSON); block edits check each new piece of text as they write it (`verify::fragment`).
    pub needs_full_check: bool,
}

impl Editor<'_> {
    /// Records the edits turning `node` (which holds `before`) into `after`.
    pub fn root(&mut self, node: &Node, before: &Value, after: &Value) -> Option<()> {
        self.node(node, before, after, Slot::BlockItem)
    }

    fn node(&mut self, node: &Node, before: &Value, after: &Value, slot: Slot) -> Option<()> {
        if before == after {
            return Some(());
        }
        match (&node.kind, before, after) {
            (Kind::Map { flow, entries }, Value::Object(b), Value::Object(a)) if !a.is_empty() => {
                self.map(node, *flow, entries, b, a)
            }
            (Kind::Seq { flow, items }, Value::Array(b), Value::Array(a)) if !a.is_empty() => {
                self.seq(node, *flow, items, b, a)
            }
            (Kind::Scalar(quote), _, Value::String(s)) => {
                let text = render::scalar_like(s, *quote);
                self.checked(&text, Expected::Value(after))?;
                self.replace_inline(node, text, slot)
            }
            (Kind::Scalar(_), _, v) if !is_collection(v) || matches!(slot, Slot::Flow) => {
                let text = render::flow(v, self.style.json);
                self.checked(&text, Expected::Value(v))?;
                self.replace_inline(node, text, slot)
            }
            (Kind::Scalar(_), _, v) => {
                // A null or scalar becomes a block collection under its key.
                let Slot::BlockValue(key_col, colon) = slot else {
                    return None;
                };
                let from = if node.start == node.end {
                    node.start
                } else {
                    colon
                };
                let mut out = String::new();
                render::entry_value(&mut out, v, key_col, &self.style);
                let body = out.strip_suffix(self.style.newline)?.to_string();
                self.checked_block(&body, Expected::Value(v))?;
                // A comment after the null stays on the key's line, above the new block.
                match self.trailing_comment_end(node.end) {
                    Some(at) => {
                        if from != node.end {
                            self.push(from, node.end, String::new());
                        }
                        self.push(at, at, body);
                    }
                    None => self.push(from, node.end, body),
                }
                Some(())
            }
            _ if node.is_flow() || matches!(slot, Slot::Flow) => {
                self.needs_full_check = true;
                let text = self.flow_text(after, node);
                self.push(node.start, node.end, text);
                Some(())
            }
            (_, _, v) if !is_collection(v) => {
                // A block collection becomes a scalar or an empty one, right after its colon.
                let Slot::BlockValue(_, colon) = slot else {
                    return None;
                };
                let text = match v {
                    Value::Null => String::new(),
                    v => format!(" {}", render::flow(v, self.style.json)),
                };
                if !text.is_empty() {
                    self.checked(&text, Expected::Value(v))?;
                }
                // A comment on the key's line stays there.
                match self.trailing_comment_end(colon) {
                    Some(at) => {
                        if !text.is_empty() {
                            self.push(colon, colon, text);
                        }
                        self.push(at, node.end, String::new());
                    }
                    None => self.push(colon, node.end, text),
                }
                Some(())
            }
            _ => None,
        }
    }

    /// The end of a comment that is all that follows `offset` on its line (before the line
    /// break), if there is one.
    fn trailing_comment_end(&self, offset: usize) -> Option<usize> {
        let end = self.line_end(offset);
        let rest = &self.text[offset..end];
        rest.trim_start()
            .starts_with('#')
            .then(|| end - usize::from(rest.ends_with('\r')))
    }

    fn replace_inline(&mut self, node: &Node, text: String, slot: Slot) -> Option<()> {
        // A null written as nothing needs a space after its colon.
        let text = match (node.start == node.end, slot) {
            (true, Slot::BlockValue(..)) if !self.text[..node.start].ends_with(' ') => {
                format!(" {text}")
            }
            _ => text,
        };
        if self.text[node.start..node.end].contains('\n') && !matches!(slot, Slot::Flow) {
            // A multi-line scalar: its lines must go too; only at the end of its line.
            let after = &self.text[node.end..self.line_end(node.end)];
            if !after.trim().is_empty() && !after.trim_start().starts_with('#') {
                return None;
            }
        }
        self.push(node.start, node.end, text);
        Some(())
    }

    fn map(
        &mut self,
        node: &Node,
        flow: bool,
        entries: &[Entry],
        b: &Map<String, Value>,
        a: &Map<String, Value>,
    ) -> Option<()> {
        if entries.len() != b.len() || entries.iter().zip(b.keys()).any(|(e, k)| &e.key != k) {
            return None;
        }
        if flow || entries.is_empty() {
            self.needs_full_check = true;
        }
        if entries.is_empty() {
            // `{}`: written whole.
            let text = self.flow_text(&Value::Object(a.clone()), node);
            self.push(node.start, node.end, text);
            return Some(());
        }
        let kept: Vec<&String> = a.keys().filter(|k| b.contains_key(*k)).collect();
        let kept_in_b: Vec<&String> = b.keys().filter(|k| a.contains_key(*k)).collect();
        if kept != kept_in_b {
            return None;
        }
        let key_col = entries.first().map(|e| self.col(e.key_start))?;
        for (i, entry) in entries.iter().enumerate() {
            match a.get(&entry.key) {
                Some(v) => {
                    let slot = match flow {
                        true => Slot::Flow,
                        false => Slot::BlockValue(key_col, self.colon_after(entry.key_end)?),
                    };
                    self.node(&entry.value, &b[&entry.key], v, slot)?;
                }
                None => {
                    let region = match flow {
                        true => self.flow_region(entries.len(), i, |j| {
                            (entries[j].key_start, entries[j].value.end)
                        })?,
                        false => self.block_region(entry.key_start, entry.value.end)?,
                    };
                    self.push(region.0, region.1, String::new());
                }
            }
        }
        // New keys go after the kept key before them (or first).
        let mut anchor: Option<usize> = None;
        for (key, value) in a {
            if let Some(i) = entries.iter().position(|e| &e.key == key) {
                anchor = Some(i);
                continue;
            }
            if flow {
                let one = Value::Object(Map::from_iter([(key.clone(), value.clone())]));
                let ends = |j: usize| (entries[j].key_start, entries[j].value.end);
                let text = self.flow_member(node, &one, true);
                self.flow_insert(node, entries.len(), anchor, ends, text)?;
            } else {
                let at = match anchor {
                    Some(i) => self.line_after(entries[i].value.end),
                    None => self.line_start_if_alone(entries.first()?.key_start)?,
                };
                let mut text = " ".repeat(key_col);
                render::entry(&mut text, key, value, key_col, &self.style);
                self.checked_block(&text, Expected::Entry(key, value))?;
                self.push_line(at, text);
            }
        }
        Some(())
    }

    fn seq(
        &mut self,
        node: &Node,
        flow: bool,
        items: &[Node],
        b: &[Value],
        a: &[Value],
    ) -> Option<()> {
        if items.len() != b.len() {
            return None;
        }
        if flow || items.is_empty() {
            self.needs_full_check = true;
        }
        if items.is_empty() {
            // `[]`: written whole.
            let text = self.flow_text(&Value::Array(a.to_vec()), node);
            self.push(node.start, node.end, text);
            return Some(());
        }
        let pairs = match_items(b, a);
        let dash_col = self.col(node.start);
        let mut matched_b = vec![None; b.len()];
        let mut matched_a = vec![None; a.len()];
        for &(i, j) in &pairs {
            matched_b[i] = Some(j);
            matched_a[j] = Some(i);
        }
        for (i, item) in items.iter().enumerate() {
            match matched_b[i] {
                Some(j) => {
                    let slot = if flow { Slot::Flow } else { Slot::BlockItem };
                    self.node(item, &b[i], &a[j], slot)?;
                }
                None => {
                    let region = match flow {
                        true => {
                            self.flow_region(items.len(), i, |k| (items[k].start, items[k].end))?
                        }
                        false => {
                            let dash = self.col_to_offset(item.start, dash_col)?;
                            self.block_region(dash, item.end)?
                        }
                    };
                    self.push(region.0, region.1, String::new());
                }
            }
        }
        let mut anchor: Option<usize> = None;
        for (j, value) in a.iter().enumerate() {
            if let Some(i) = matched_a[j] {
                anchor = Some(i);
                continue;
            }
            if flow {
                let ends = |k: usize| (items[k].start, items[k].end);
                let text = self.flow_member(node, value, false);
                self.flow_insert(node, items.len(), anchor, ends, text)?;
            } else {
                let at = match anchor {
                    Some(i) => self.line_after(items[i].end),
                    None => self.line_start_if_alone(node.start)?,
                };
                let mut text = " ".repeat(dash_col);
                render::item(&mut text, value, dash_col, &self.style);
                self.checked_block(&text, Expected::Item(value))?;
                self.push_line(at, text);
            }
        }
        Some(())
    }
}

impl Editor<'_> {
    /// `Some` when `text`, read alone, holds `expected` (YAML; JSON documents are read back
    /// whole, which is cheap).
    fn checked(&self, text: &str, expected: Expected<'_>) -> Option<()> {
        match self.style.json || super::verify::fragment(text, expected) {
            true => Some(()),
            false => None,
        }
    }

    /// `Some` when a new piece of block text holds `expected`: every scalar in it reads back
    /// alone (`tokens`); debug builds also read the whole piece back, which checks the
    /// renderer's layout around the scalars.
    fn checked_block(&self, text: &str, expected: Expected<'_>) -> Option<()> {
        if self.style.json {
            return Some(());
        }
        if let Some(same) = super::verify::known(text, expected) {
            return same.then_some(());
        }
        let tokens = super::tokens::read_back(expected);
        if cfg!(debug_assertions) {
            let whole = super::verify::fragment(text, expected);
            debug_assert!(
                whole || !tokens,
                "the renderer's layout misplaced a scalar that reads back alone:\n{text}"
            );
            return (tokens && whole).then_some(());
        }
        if tokens {
            super::verify::remember(text, || Some(expected.value()));
        }
        tokens.then_some(())
    }
}

fn is_collection(v: &Value) -> bool {
    matches!(v, Value::Object(m) if !m.is_empty()) || matches!(v, Value::Array(a) if !a.is_empty())
}

/// The identity of a list item: its mountPath or name, else the whole value.
fn identity(v: &Value) -> Result<&str, &Value> {
    v.get("mountPath")
        .or_else(|| v.get("name"))
        .and_then(Value::as_str)
        .ok_or(v)
}

/// Pairs `(i, j)` of items of `b` and `a` with the same identity, in order (the longest
/// common subsequence).
fn match_items(b: &[Value], a: &[Value]) -> Vec<(usize, usize)> {
    let (n, m) = (b.len(), a.len());
    let same = |i: usize, j: usize| identity(&b[i]) == identity(&a[j]);
    let mut table = vec![0u32; (n + 1) * (m + 1)];
    let at = |i: usize, j: usize| i * (m + 1) + j;
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            table[at(i, j)] = if same(i, j) {
                table[at(i + 1, j + 1)] + 1
            } else {
                table[at(i + 1, j)].max(table[at(i, j + 1)])
            };
        }
    }
    let (mut i, mut j, mut out) = (0, 0, Vec::new());
    while i < n && j < m {
        if same(i, j) {
            out.push((i, j));
            i += 1;
            j += 1;
        } else if table[at(i + 1, j)] >= table[at(i, j + 1)] {
            i += 1;
        } else {
            j += 1;
        }
    }
    out
}
