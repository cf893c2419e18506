//! Where text goes: lines and columns of the source, the byte range an entry or item takes
//! (its whole lines in block style, its member and separator in flow style), and the
//! separators and indentation of inserted flow members.

use serde_json::Value;

use super::render;
use super::splice::{Editor, Splice};
use super::tree::Node;

impl Editor<'_> {
    pub(super) fn push(&mut self, start: usize, end: usize, text: String) {
        self.splices.push(Splice { start, end, text });
    }

    /// Inserts whole lines at `at` (a line start, or the end of a text without a final line
    /// ending, where the line ending goes first).
    pub(super) fn push_line(&mut self, at: usize, text: String) {
        if at == self.text.len() && !self.text.is_empty() && !self.text.ends_with('\n') {
            let body = text.strip_suffix(self.style.newline).unwrap_or(&text);
            let text = format!("{}{body}", self.style.newline);
            self.push(at, at, text);
        } else {
            self.push(at, at, text);
        }
    }

    /// The offset after the colon that follows a key ending at `key_end`.
    pub(super) fn colon_after(&self, key_end: usize) -> Option<usize> {
        let rest = &self.text[key_end..];
        let gap = rest.len() - rest.trim_start_matches([' ', '\t']).len();
        rest[gap..].starts_with(':').then_some(key_end + gap + 1)
    }

    pub(super) fn line_start(&self, offset: usize) -> usize {
        self.text[..offset].rfind('\n').map_or(0, |i| i + 1)
    }

    pub(super) fn line_end(&self, offset: usize) -> usize {
        self.text[offset..]
            .find('\n')
            .map_or(self.text.len(), |i| offset + i)
    }

    /// The start of the line after the one holding `offset` (the text's end on the last line).
    pub(super) fn line_after(&self, offset: usize) -> usize {
        let end = self.line_end(offset);
        (end + 1).min(self.text.len())
    }

    /// The column of `offset`.
    pub(super) fn col(&self, offset: usize) -> usize {
        offset - self.line_start(offset)
    }

    /// The start of the line of `offset` when only blanks come before it on that line.
    pub(super) fn line_start_if_alone(&self, offset: usize) -> Option<usize> {
        let start = self.line_start(offset);
        self.text[start..offset]
            .chars()
            .all(|c| c == ' ')
            .then_some(start)
    }

    /// The offset of the column `col` on the line of `offset`, when a `-` is there.
    pub(super) fn col_to_offset(&self, offset: usize, col: usize) -> Option<usize> {
        let at = self.line_start(offset) + col;
        (self.text.as_bytes().get(at) == Some(&b'-')).then_some(at)
    }

    /// The whole lines of a block entry or item from `start` to `end`: only blanks before it
    /// on its first line, only blanks or a comment after it on its last.
    pub(super) fn block_region(&self, start: usize, end: usize) -> Option<(usize, usize)> {
        let first = self.line_start_if_alone(start)?;
        let rest = self.text[end..self.line_end(end)].trim();
        if !(rest.is_empty() || rest.starts_with('#')) {
            return None;
        }
        let last = self.line_after(end);
        if last == self.text.len() && !self.text.ends_with('\n') && first > 0 {
            // The last line has no line ending: take the one before it instead.
            let newline = if self.text[..first].ends_with("\r\n") {
                2
            } else {
                1
            };
            return Some((first - newline, last));
        }
        Some((first, last))
    }

    /// The bytes of member `i` of a flow collection with `len` members whose ranges are
    /// `ends`: with the separator before it, or after it for the first.
    pub(super) fn flow_region(
        &self,
        len: usize,
        i: usize,
        ends: impl Fn(usize) -> (usize, usize),
    ) -> Option<(usize, usize)> {
        match (i, len) {
            (0, 1) => Some(ends(0)),
            (0, _) => Some((ends(0).0, ends(1).0)),
            _ => Some((ends(i - 1).1, ends(i).1)),
        }
    }

    /// Inserts the member text `text` into a flow collection with `len` (> 0) members, after
    /// member `anchor` or before the first.
    pub(super) fn flow_insert(
        &mut self,
        node: &Node,
        len: usize,
        anchor: Option<usize>,
        ends: impl Fn(usize) -> (usize, usize),
        text: String,
    ) -> Option<()> {
        if len == 0 {
            return None;
        }
        let sep = self.flow_separator(node, ends(0).0);
        match anchor {
            Some(i) => self.push(ends(i).1, ends(i).1, format!("{sep}{text}")),
            None => self.push(ends(0).0, ends(0).0, format!("{text}{sep}")),
        }
        Some(())
    }

    /// `, `, or a comma and a line break to the first member's column when the members are
    /// on their own lines.
    fn flow_separator(&self, node: &Node, first: usize) -> String {
        match self.multiline(node, first) {
            true => format!(",{}{}", self.style.newline, " ".repeat(self.col(first))),
            false => ", ".into(),
        }
    }

    fn multiline(&self, node: &Node, first: usize) -> bool {
        self.text[node.start..first].contains('\n')
    }

    /// The text of a new member of the flow collection `node`: an entry (`value` holds one
    /// key) or an item.
    pub(super) fn flow_member(&self, node: &Node, value: &Value, entry: bool) -> String {
        let first = first_member(node).unwrap_or(node.start);
        let pretty = self.style.json && self.multiline(node, first);
        let col = self.col(first);
        let step = col.saturating_sub(self.indent_of(node.start)).max(1);
        let render = |v: &Value| match pretty {
            true => render::json_pretty(v, col, step, self.style.newline),
            false => render::flow(v, self.style.json),
        };
        match (entry, value) {
            (true, Value::Object(map)) => map
                .iter()
                .map(|(k, v)| {
                    let key = match self.style.json {
                        true => serde_json::to_string(k).unwrap_or_default(),
                        false => render::scalar_str(k, true),
                    };
                    format!("{key}: {}", render(v))
                })
                .collect(),
            _ => render(value),
        }
    }

    /// `value` replacing the whole flow collection `node`, in its layout.
    pub(super) fn flow_text(&self, value: &Value, node: &Node) -> String {
        let first = first_member(node).unwrap_or(node.start);
        if self.style.json && self.multiline(node, first) {
            let indent = self.indent_of(node.start);
            let step = self.col(first).saturating_sub(indent).max(1);
            return render::json_pretty(value, indent, step, self.style.newline);
        }
        render::flow(value, self.style.json)
    }

    /// The indentation of the line holding `offset`.
    fn indent_of(&self, offset: usize) -> usize {
        let start = self.line_start(offset);
        self.text[start..].len() - self.text[start..].trim_start_matches(' ').len()
    }
}

fn first_member(node: &Node) -> Option<usize> {
    use super::tree::Kind;
    match &node.kind {
        Kind::Map { entries, .. } => entries.first().map(|e| e.key_start),
        Kind::Seq { items, .. } => items.first().map(|i| i.start),
        Kind::Scalar(_) => None,
    }
}
