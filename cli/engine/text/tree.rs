//! The source layout of one YAML (or JSON) document: every mapping, sequence and scalar with
//! the byte range it covers, read from the parser's spans. Only what an edit needs is kept;
//! documents with anchors, aliases, tags or merge keys are not edited (the caller re-emits).
//!
//! The same walk over the parser's events can build the document's value, so a document is
//! parsed once for both: the value is given only where every scalar's type is certain (the
//! typing of `verify::plain`, which agrees with serde-saphyr) and no key repeats; otherwise the
//! caller reads the value with serde-saphyr, the reader of record.

use granit_parser::{Event, Parser, ScalarStyle, Span, StructureStyle};
use serde_json::{Map, Value};

use super::verify::{Plain, plain};

/// Deeper documents are left to serde-saphyr and its budgets (the walk recurses).
const MAX_DEPTH: usize = 128;

/// A node and the bytes it covers: a scalar's text, a flow collection from its bracket to its
/// closing bracket, a block collection from its first key (or first item's dash) to the end of
/// its last scalar.
#[derive(Debug, Clone)]
pub(super) struct Node {
    /// First byte.
    pub start: usize,
    /// One past the last byte of content (trailing blanks of block scalars excluded).
    pub end: usize,
    /// What it is.
    pub kind: Kind,
}

/// The kinds of node.
#[derive(Debug, Clone)]
pub(super) enum Kind {
    /// A scalar, with the quoting it was written in.
    Scalar(Quote),
    /// A mapping.
    Map {
        /// Written `{…}`.
        flow: bool,
        /// Its entries in order.
        entries: Vec<Entry>,
    },
    /// A sequence.
    Seq {
        /// Written `[…]`.
        flow: bool,
        /// Its items in order.
        items: Vec<Node>,
    },
}

/// How a scalar was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Quote {
    /// Plain (or a block scalar).
    Plain,
    /// `'…'`.
    Single,
    /// `"…"`.
    Double,
}

/// One `key: value` of a mapping.
#[derive(Debug, Clone)]
pub(super) struct Entry {
    /// The key, as read.
    pub key: String,
    /// The first byte of the key.
    pub key_start: usize,
    /// One past the key's last byte.
    pub key_end: usize,
    /// The value.
    pub value: Node,
}

impl Node {
    /// True for a flow collection (`{…}` or `[…]`).
    pub fn is_flow(&self) -> bool {
        matches!(
            self.kind,
            Kind::Map { flow: true, .. } | Kind::Seq { flow: true, .. }
        )
    }
}

/// Reads the layout of the one document in `text`; `None` when it uses what the editor does
/// not handle (anchors, aliases, tags, merge keys, complex keys) or does not parse.
pub(super) fn parse(text: &str) -> Option<Node> {
    walk(text, false).map(|(node, _)| node)
}

/// Reads the layout of the one document in `text` and, where it is certain, its value.
pub(super) fn read(text: &str) -> Option<(Node, Option<Value>)> {
    walk(text, true)
}

fn walk(text: &str, values: bool) -> Option<(Node, Option<Value>)> {
    let mut events = Parser::new_from_str(text).peekable();
    let mut reader = Reader {
        text,
        certain: values,
        depth: 0,
    };
    // StreamStart, DocumentStart.
    loop {
        let (event, _) = next(&mut events)?;
        if matches!(event, Event::DocumentStart(..)) {
            break;
        }
    }
    let (event, span) = next(&mut events)?;
    let (root, value) = reader.node(event, span, &mut events)?;
    // One document and nothing after it, or the value is not this walk's to give.
    let alone = matches!(next(&mut events), Some((Event::DocumentEnd, _)))
        && matches!(next(&mut events), Some((Event::StreamEnd, _)));
    Some((root, (reader.certain && alone).then_some(value)))
}

struct Reader<'t> {
    text: &'t str,
    /// Building the value, and what is built so far is what serde-saphyr reads.
    certain: bool,
    /// Collections open around the node being read.
    depth: usize,
}

type Events<'t> = std::iter::Peekable<Parser<'t, granit_parser::StrInput<'t>>>;

/// The next event that is not a comment (comments stay in the text, untouched).
fn next<'t>(events: &mut Events<'t>) -> Option<(Event<'t>, Span)> {
    loop {
        let (event, span) = events.next()?.ok()?;
        if !matches!(event, Event::Comment(..)) {
            return Some((event, span));
        }
    }
}

fn offset(span: &Span) -> Option<(usize, usize)> {
    Some((span.start.byte_offset()?, span.end.byte_offset()?))
}

impl Reader<'_> {
    fn node(
        &mut self,
        event: Event<'_>,
        span: Span,
        events: &mut Events<'_>,
    ) -> Option<(Node, Value)> {
        let (start, end) = offset(&span)?;
        match event {
            Event::Scalar(text, style, 0, None) => Some(self.scalar(&text, style, start, end)),
            Event::SequenceStart(style, 0, None) => {
                self.depth += 1;
                let read = self.seq(style == StructureStyle::Flow, start, events);
                self.depth -= 1;
                read
            }
            Event::MappingStart(style, 0, None) => {
                self.depth += 1;
                let read = self.map(style == StructureStyle::Flow, start, events);
                self.depth -= 1;
                read
            }
            _ => None,
        }
    }

    fn scalar(
        &mut self,
        text: &str,
        style: ScalarStyle,
        start: usize,
        end: usize,
    ) -> (Node, Value) {
        // An empty value's span sits on the colon before it.
        let start = match start == end && self.text[start..].starts_with(':') {
            true => start + 1,
            false => start,
        };
        let end = end.max(start);
        let (quote, end) = match style {
            ScalarStyle::SingleQuoted => (Quote::Single, end),
            ScalarStyle::DoubleQuoted => (Quote::Double, end),
            ScalarStyle::Plain => (Quote::Plain, end),
            // Block scalars' spans run over the blank lines after them.
            _ => (Quote::Plain, start + self.text[start..end].trim_end().len()),
        };
        let node = Node {
            start,
            end,
            kind: Kind::Scalar(quote),
        };
        if !self.certain {
            return (node, Value::Null);
        }
        let value = match style {
            ScalarStyle::Plain => match plain(text) {
                Plain::Null => Value::Null,
                Plain::Bool(b) => Value::Bool(b),
                Plain::Unsigned(n) => Value::from(n),
                Plain::Negative(n) => Value::from(n),
                Plain::Str => Value::String(text.to_string()),
                Plain::Unsure => {
                    self.certain = false;
                    Value::Null
                }
            },
            _ => Value::String(text.to_string()),
        };
        (node, value)
    }

    fn seq(&mut self, flow: bool, start: usize, events: &mut Events<'_>) -> Option<(Node, Value)> {
        if self.depth > MAX_DEPTH {
            return None;
        }
        let mut items = Vec::new();
        let mut values = Vec::new();
        let close = loop {
            let (event, span) = next(events)?;
            if matches!(event, Event::SequenceEnd) {
                break offset(&span)?.1;
            }
            let (item, value) = self.node(event, span, events)?;
            items.push(item);
            if self.certain {
                values.push(value);
            }
        };
        let (start, end) = match flow {
            true => (start, close),
            false => {
                let first = items.first()?;
                (self.dash_before(first.start)?, items.last()?.end)
            }
        };
        let node = Node {
            start,
            end,
            kind: Kind::Seq { flow, items },
        };
        Some((node, Value::Array(values)))
    }

    fn map(&mut self, flow: bool, start: usize, events: &mut Events<'_>) -> Option<(Node, Value)> {
        if self.depth > MAX_DEPTH {
            return None;
        }
        let mut entries = Vec::new();
        let mut values = Map::new();
        let close = loop {
            let (event, span) = next(events)?;
            let (key, style) = match event {
                Event::MappingEnd => break offset(&span)?.1,
                Event::Scalar(key, ScalarStyle::Plain, 0, None) if key == "<<" => return None,
                Event::Scalar(key, style, 0, None) => (key.into_owned(), style),
                _ => return None,
            };
            // Plain keys are strings in the value only when certainly so.
            if self.certain && style == ScalarStyle::Plain && plain(&key) != Plain::Str {
                self.certain = false;
            }
            let (key_start, key_end) = offset(&span)?;
            let (event, span) = next(events)?;
            let (value, read) = self.node(event, span, events)?;
            // A repeated key: serde-saphyr's duplicate-key policy decides.
            if self.certain && values.insert(key.clone(), read).is_some() {
                self.certain = false;
            }
            entries.push(Entry {
                key,
                key_start,
                key_end,
                value,
            });
        };
        let (start, end) = match flow {
            true => (start, close),
            false => (entries.first()?.key_start, entries.last()?.value.end),
        };
        let node = Node {
            start,
            end,
            kind: Kind::Map { flow, entries },
        };
        Some((node, Value::Object(values)))
    }

    /// The `-` of the block sequence item starting at `item`.
    fn dash_before(&self, item: usize) -> Option<usize> {
        let before = &self.text[..item];
        let dash = before.trim_end_matches([' ', '\t']);
        dash.ends_with('-').then(|| dash.len() - 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn saphyr(text: &str) -> Option<Value> {
        crate::yaml::from_str(text).ok()
    }

    /// Scalars spelled every way a manifest spells them: certain and uncertain plain ones,
    /// quoted ones, a block scalar.
    fn scalar() -> impl Strategy<Value = String> {
        prop_oneof![
            "[a-z][a-z0-9./-]{0,6}",
            "-?[0-9]{1,4}",
            "(0400|0x1f|1e3|1[.]5|yes|On|NULL|~|null|true|false|-0|[.]inf|250m|128Mi|8080)",
            "'[a-z :#]{0,5}'",
            "\"[a-z :#]{0,5}\"",
        ]
    }

    /// A block-style document (with comments, flow lists and repeated keys now and then) built
    /// from a random shape.
    fn document() -> impl Strategy<Value = String> {
        let entry = (
            prop_oneof![
                "[a-z]{1,3}",
                Just("8080".to_string()),
                Just("'q'".to_string())
            ],
            scalar(),
            any::<bool>(),
        );
        let block = prop::collection::vec(entry, 1..5);
        (
            prop::collection::vec(block, 1..4),
            any::<bool>(),
            any::<bool>(),
        )
            .prop_map(|(blocks, flow, comment)| {
                let mut t = String::from("# head\napiVersion: v1\n");
                for (i, block) in blocks.iter().enumerate() {
                    t.push_str(&format!("k{i}:\n"));
                    for (key, value, nested) in block {
                        match nested {
                            true => t.push_str(&format!("  {key}:\n  - {value}\n  - x\n")),
                            false => t.push_str(&format!("  {key}: {value}\n")),
                        }
                    }
                }
                if flow {
                    t.push_str("ports: [{containerPort: 8080, name: http}, 9090]\n");
                }
                if comment {
                    t.push_str("lit: |\n  line one\n  # not a comment\n# a comment\n");
                }
                t
            })
    }

    proptest! {
        /// Where the one-pass read gives a value, it is serde-saphyr's.
        #[test]
        fn the_value_read_with_the_layout_is_serde_saphyrs(text in document()) {
            let (_, value) = read(&text).expect("these documents have a layout");
            if let Some(value) = value {
                prop_assert_eq!(Some(value), saphyr(&text));
            }
        }
    }

    #[test]
    fn what_is_not_certain_is_left_to_serde_saphyr() {
        let certain = "a: 1\nb: [x, -2, true, ~]\nc: 'q'\nd: |\n  text\n";
        let (_, value) = read(certain).unwrap();
        assert_eq!(value, saphyr(certain));
        assert!(value.is_some());
        for text in [
            "mode: 0400\n",
            "ratio: 1.5\n",
            "on: yes\n",
            "a: 1\na: 2\n",
            "8080: http\n",
            "a: x\n---\nb: y\n",
        ] {
            let read = read(text);
            assert!(read.is_some_and(|(_, v)| v.is_none()), "{text}");
        }
        // No layout at all: anchors, aliases, tags, merge keys, very deep nesting.
        let deep = format!("{}{}", "[".repeat(200), "]".repeat(200));
        for text in ["a: &x 1\nb: *x\n", "a: !!str 1\n", "<<: {a: 1}\n", &deep] {
            assert!(read(text).is_none(), "{text}");
        }
    }
}
