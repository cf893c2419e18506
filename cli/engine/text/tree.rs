//! The source layout of one YAML (or JSON) document: every mapping, sequence and scalar with
//! the byte range it covers, read from the parser's spans. Only what an edit needs is kept;
//! documents with anchors, aliases, tags or merge keys are not edited (the caller re-emits).

use granit_parser::{Event, Parser, ScalarStyle, Span, StructureStyle};

/// A node and the bytes it covers: a scalar's text, a flow collection from its bracket to its
/// closing bracket, a block collection from its first key (or first item's dash) to the end of
/// its last scalar.
#[derive(Debug)]
pub(super) struct Node {
    /// First byte.
    pub start: usize,
    /// One past the last byte of content (trailing blanks of block scalars excluded).
    pub end: usize,
    /// What it is.
    pub kind: Kind,
}

/// The kinds of node.
#[derive(Debug)]
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
#[derive(Debug)]
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
    let mut events = Parser::new_from_str(text).peekable();
    let mut reader = Reader { text };
    // StreamStart, DocumentStart.
    loop {
        let (event, _) = next(&mut events)?;
        if matches!(event, Event::DocumentStart(..)) {
            break;
        }
    }
    let (event, span) = next(&mut events)?;
    let root = reader.node(event, span, &mut events)?;
    Some(root)
}

struct Reader<'t> {
    text: &'t str,
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
    fn node(&mut self, event: Event<'_>, span: Span, events: &mut Events<'_>) -> Option<Node> {
        let (start, end) = offset(&span)?;
        match event {
            Event::Scalar(_, style, anchor, tag) => {
                if anchor != 0 || tag.is_some() {
                    return None;
                }
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
                Some(Node {
                    start,
                    end,
                    kind: Kind::Scalar(quote),
                })
            }
            Event::SequenceStart(style, anchor, tag) => {
                if anchor != 0 || tag.is_some() {
                    return None;
                }
                let mut items = Vec::new();
                let close = loop {
                    let (event, span) = next(events)?;
                    if matches!(event, Event::SequenceEnd) {
                        break offset(&span)?.1;
                    }
                    items.push(self.node(event, span, events)?);
                };
                let flow = style == StructureStyle::Flow;
                let (start, end) = match flow {
                    true => (start, close),
                    false => {
                        let first = items.first()?;
                        (self.dash_before(first.start)?, items.last()?.end)
                    }
                };
                Some(Node {
                    start,
                    end,
                    kind: Kind::Seq { flow, items },
                })
            }
            Event::MappingStart(style, anchor, tag) => {
                if anchor != 0 || tag.is_some() {
                    return None;
                }
                let mut entries = Vec::new();
                let close = loop {
                    let (event, span) = next(events)?;
                    let key = match event {
                        Event::MappingEnd => break offset(&span)?.1,
                        Event::Scalar(key, ScalarStyle::Plain, 0, None) if key == "<<" => {
                            return None;
                        }
                        Event::Scalar(key, _, 0, None) => key.into_owned(),
                        _ => return None,
                    };
                    let (key_start, key_end) = offset(&span)?;
                    let (event, span) = next(events)?;
                    let value = self.node(event, span, events)?;
                    entries.push(Entry {
                        key,
                        key_start,
                        key_end,
                        value,
                    });
                };
                let flow = style == StructureStyle::Flow;
                let (start, end) = match flow {
                    true => (start, close),
                    false => (entries.first()?.key_start, entries.last()?.value.end),
                };
                Some(Node {
                    start,
                    end,
                    kind: Kind::Map { flow, entries },
                })
            }
            _ => None,
        }
    }

    /// The `-` of the block sequence item starting at `item`.
    fn dash_before(&self, item: usize) -> Option<usize> {
        let before = &self.text[..item];
        let dash = before.trim_end_matches([' ', '\t']);
        dash.ends_with('-').then(|| dash.len() - 1)
    }
}
