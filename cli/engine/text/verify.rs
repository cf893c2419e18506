//! The read-back check of an edit, made cheap: the edited text's parser events are walked
//! against the value the text must hold, without building a second value tree.
//!
//! The check is exact where it answers: it says `Same` only when serde-saphyr (the reader of
//! every document) would read the text as `expected`. Plain scalars are typed the way
//! serde-saphyr types them for an untyped value (null, YAML 1.1 booleans, integers, floats,
//! else a string), but only the spellings whose type is certain are decided here; anything
//! else (floats, octal or hex literals, `yes`/`on`, anchors, tags, out-of-order keys met
//! twice) is `Unsure`, and the caller reads the text back in full.

use granit_parser::{Event, Parser, ScalarStyle, StrInput};
use serde_json::{Map, Value};

/// What the walk found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Verdict {
    /// The text reads back as the expected value.
    Same,
    /// The text reads back as something else (or does not parse).
    Differs,
    /// Not decided here: read the text back in full.
    Unsure,
}

/// Why the walk stopped early.
enum Stop {
    Differs,
    Unsure,
}

type Walk = Result<(), Stop>;

/// Checks that `text` (one YAML document) reads back as `expected`.
pub(super) fn check(text: &str, expected: &Value) -> Verdict {
    check_root(text, |w, event| w.node(event, expected))
}

/// Checks that `text` (one YAML document) reads back as `expected` holds.
fn check_expected(text: &str, expected: Expected<'_>) -> Verdict {
    check_root(text, |w, event| match (expected, event) {
        (Expected::Value(v), event) => w.node(event, v),
        (Expected::Entry(key, v), Event::MappingStart(_, 0, None)) => {
            match w.next()? {
                Event::Scalar(k, style, 0, None) => {
                    if *key_text(k, style)? != *key {
                        return Err(Stop::Differs);
                    }
                }
                _ => return Err(Stop::Unsure),
            }
            let event = w.next()?;
            w.node(event, v)?;
            w.end(|e| matches!(e, Event::MappingEnd))
        }
        (Expected::Item(v), Event::SequenceStart(_, 0, None)) => {
            let event = w.next()?;
            w.node(event, v)?;
            w.end(|e| matches!(e, Event::SequenceEnd))
        }
        _ => Err(Stop::Unsure),
    })
}

fn check_root<'t>(text: &'t str, root: impl FnOnce(&mut Walker<'t>, Event<'t>) -> Walk) -> Verdict {
    let mut walker = Walker {
        events: Parser::new_from_str(text),
    };
    match walker.document(root) {
        Ok(()) => Verdict::Same,
        Err(Stop::Differs) => Verdict::Differs,
        Err(Stop::Unsure) => Verdict::Unsure,
    }
}

struct Walker<'t> {
    events: Parser<'t, StrInput<'t>>,
}

impl<'t> Walker<'t> {
    /// The next event that is not a comment; a parse error is a difference.
    fn next(&mut self) -> Result<Event<'t>, Stop> {
        loop {
            match self.events.next() {
                Some(Ok((Event::Comment(..), _))) => continue,
                Some(Ok((event, _))) => return Ok(event),
                Some(Err(_)) | None => return Err(Stop::Differs),
            }
        }
    }

    /// One document whose root `root` checks, and nothing after it.
    fn document(&mut self, root: impl FnOnce(&mut Self, Event<'t>) -> Walk) -> Walk {
        loop {
            match self.next()? {
                Event::StreamStart => {}
                Event::DocumentStart(..) => break,
                _ => return Err(Stop::Unsure),
            }
        }
        let event = self.next()?;
        root(self, event)?;
        match self.next()? {
            Event::DocumentEnd => {}
            _ => return Err(Stop::Unsure),
        }
        match self.next()? {
            Event::StreamEnd => Ok(()),
            _ => Err(Stop::Unsure),
        }
    }

    /// The collection ends here (`is_end`), else it holds more than expected.
    fn end(&mut self, is_end: impl FnOnce(&Event<'t>) -> bool) -> Walk {
        match is_end(&self.next()?) {
            true => Ok(()),
            false => Err(Stop::Differs),
        }
    }

    fn node(&mut self, event: Event<'t>, expected: &Value) -> Walk {
        match event {
            Event::Scalar(text, style, 0, None) => scalar(&text, style, expected),
            Event::SequenceStart(_, 0, None) => match expected {
                Value::Array(items) => self.sequence(items),
                _ => Err(Stop::Differs),
            },
            Event::MappingStart(_, 0, None) => match expected {
                Value::Object(map) => self.mapping(map),
                _ => Err(Stop::Differs),
            },
            // Anchors, aliases and tags: serde-saphyr decides.
            _ => Err(Stop::Unsure),
        }
    }

    fn sequence(&mut self, items: &[Value]) -> Walk {
        let mut expected = items.iter();
        loop {
            let event = self.next()?;
            if matches!(event, Event::SequenceEnd) {
                return match expected.next() {
                    None => Ok(()),
                    Some(_) => Err(Stop::Differs),
                };
            }
            let item = expected.next().ok_or(Stop::Differs)?;
            self.node(event, item)?;
        }
    }

    /// A mapping's entries, in `map`'s order when they come in it (the usual case: the edit
    /// keeps the document's order and appends what it adds); otherwise each key is looked up
    /// and may be met once.
    fn mapping(&mut self, map: &Map<String, Value>) -> Walk {
        let mut in_order = map.iter();
        let mut seen: Option<Vec<bool>> = None;
        let mut count = 0;
        loop {
            let key = match self.next()? {
                Event::MappingEnd => break,
                Event::Scalar(key, style, 0, None) => key_text(key, style)?,
                _ => return Err(Stop::Unsure),
            };
            count += 1;
            let next_in_order = match seen {
                None => in_order.next().filter(|(k, _)| **k == *key),
                Some(_) => None,
            };
            let value = match next_in_order {
                Some((_, value)) => value,
                None => {
                    let seen = seen.get_or_insert_with(|| {
                        let mut seen = vec![false; map.len()];
                        seen.iter_mut().take(count - 1).for_each(|s| *s = true);
                        seen
                    });
                    let (index, (_, value)) = map
                        .iter()
                        .enumerate()
                        .find(|(_, (k, _))| **k == *key)
                        .ok_or(Stop::Differs)?;
                    // A key met twice: serde-saphyr's duplicate-key policy decides.
                    if std::mem::replace(&mut seen[index], true) {
                        return Err(Stop::Unsure);
                    }
                    value
                }
            };
            let event = self.next()?;
            self.node(event, value)?;
        }
        match count == map.len() {
            true => Ok(()),
            false => Err(Stop::Differs),
        }
    }
}

/// A mapping key as the untyped value's map holds it: quoted and block keys as written, plain
/// keys only when they are certainly strings.
fn key_text(
    key: std::borrow::Cow<'_, str>,
    style: ScalarStyle,
) -> Result<std::borrow::Cow<'_, str>, Stop> {
    match style {
        ScalarStyle::Plain => match plain(&key) {
            Plain::Str => Ok(key),
            _ => Err(Stop::Unsure),
        },
        _ => Ok(key),
    }
}

fn scalar(text: &str, style: ScalarStyle, expected: &Value) -> Walk {
    let same = match style {
        // Quoted and block scalars are strings (untagged: tags are `Unsure` above).
        ScalarStyle::SingleQuoted
        | ScalarStyle::DoubleQuoted
        | ScalarStyle::Literal
        | ScalarStyle::Folded => matches!(expected, Value::String(s) if s == text),
        ScalarStyle::Plain => match plain(text) {
            Plain::Null => expected.is_null(),
            Plain::Bool(b) => *expected == Value::Bool(b),
            Plain::Unsigned(n) => expected.as_u64() == Some(n) && expected.is_u64(),
            Plain::Negative(n) => expected.as_i64() == Some(n) && expected.is_i64(),
            Plain::Str => matches!(expected, Value::String(s) if s == text),
            Plain::Unsure => return Err(Stop::Unsure),
        },
    };
    match same {
        true => Ok(()),
        false => Err(Stop::Differs),
    }
}

/// True when `text` written plain reads back as this string, for certain.
pub(super) fn is_plain_string(text: &str) -> bool {
    plain(text) == Plain::Str
}

/// The most decimal digits `plain` types as an integer for certain (longer ones are left to
/// the parser).
pub(super) const CERTAIN_DIGITS: u32 = 18;

/// The type of a plain scalar, where it is certain.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Plain {
    Null,
    Bool(bool),
    Unsigned(u64),
    Negative(i64),
    Str,
    Unsure,
}

/// Types a plain scalar's text as serde-saphyr does for an untyped value (`deserialize_any`:
/// null, then YAML 1.1 booleans, integers, floats, else a string), deciding only the
/// spellings whose type is beyond doubt.
pub(super) fn plain(text: &str) -> Plain {
    let Some(&first) = text.as_bytes().first() else {
        return Plain::Null;
    };
    match text {
        "~" | "null" => return Plain::Null,
        "true" => return Plain::Bool(true),
        "false" => return Plain::Bool(false),
        _ => {}
    }
    if first.is_ascii_alphabetic() {
        // Words that YAML 1.1 or a float parser could read as something else (none is
        // longer than `infinity`).
        if text.len() > "infinity".len() {
            return Plain::Str;
        }
        const WORDS: [&str; 9] = ["true", "false", "yes", "no", "y", "n", "on", "off", "null"];
        const FLOATS: [&str; 3] = ["inf", "infinity", "nan"];
        let special = WORDS.iter().chain(FLOATS.iter());
        return match special.into_iter().any(|w| text.eq_ignore_ascii_case(w)) {
            true => Plain::Unsure,
            false => Plain::Str,
        };
    }
    // A path, or an option such as `-H` or `--port` (dashes before a letter are no number).
    let option = text.strip_prefix("--").or_else(|| text.strip_prefix('-'));
    if first == b'/' || option.is_some_and(|o| o.starts_with(|c: char| c.is_ascii_alphabetic())) {
        return Plain::Str;
    }
    let digits = text.strip_prefix('-').unwrap_or(text);
    let decimal = !digits.is_empty()
        && digits.len() <= CERTAIN_DIGITS as usize
        && digits.bytes().all(|b| b.is_ascii_digit())
        && (digits == "0" || !digits.starts_with('0'));
    if decimal {
        return match (text.starts_with('-'), digits.parse::<i64>()) {
            (false, Ok(n)) => Plain::Unsigned(n.unsigned_abs()),
            (true, Ok(n)) if n != 0 => Plain::Negative(-n),
            _ => Plain::Unsure,
        };
    }
    // A digit first and a character no number, boolean or null spelling holds (`250m`,
    // `128Mi`, `1Gi`): a string.
    let numeric = |b: u8| b.is_ascii_hexdigit() || b"xXoO+-._: \t".contains(&b);
    match first.is_ascii_digit() && !text.bytes().all(numeric) {
        true => Plain::Str,
        false => Plain::Unsure,
    }
}

/// What a piece of new text must hold, read alone.
#[derive(Debug, Clone, Copy)]
pub(super) enum Expected<'v> {
    /// This value.
    Value(&'v Value),
    /// A mapping of this one entry.
    Entry(&'v str, &'v Value),
    /// A sequence of this one item.
    Item(&'v Value),
}

impl Expected<'_> {
    /// The value a text holding this reads as.
    pub(super) fn value(self) -> Value {
        match self {
            Expected::Value(v) => v.clone(),
            Expected::Entry(key, v) => {
                Value::Object(Map::from_iter([(key.to_string(), v.clone())]))
            }
            Expected::Item(v) => Value::Array(vec![v.clone()]),
        }
    }

    fn holds(self, read: &Value) -> bool {
        match (self, read) {
            (Expected::Value(v), read) => v == read,
            (Expected::Entry(key, v), Value::Object(map)) => {
                map.len() == 1 && map.get(key).is_some_and(|r| r == v)
            }
            (Expected::Item(v), Value::Array(items)) => items.len() == 1 && items[0] == *v,
            _ => false,
        }
    }
}

/// Checks that a piece of new text, read alone as a YAML document, holds `expected`: a scalar
/// the editor writes (`tokens`), or in debug builds a whole piece of block text. Remembered per
/// thread: the same helper blocks come back in every document of a stream. New text is walked
/// as events (`check`), and read with serde-saphyr only where the walk is unsure.
pub(super) fn fragment(text: &str, expected: Expected<'_>) -> bool {
    if let Some(same) = known(text, expected) {
        return same;
    }
    // New text: the event walk decides it without building a value, where it can.
    let (same, read) = match check_expected(text, expected) {
        Verdict::Same => (true, None),
        Verdict::Differs => return false,
        Verdict::Unsure => {
            let read: Option<Value> = crate::yaml::from_str(text).ok();
            (read.as_ref().is_some_and(|v| expected.holds(v)), read)
        }
    };
    remember(text, || match same {
        true => Some(expected.value()),
        false => read,
    });
    same
}

thread_local! {
    /// Pieces of text read back, with what they read as (`None`: not YAML).
    static READ: std::cell::RefCell<super::memo::Memo<Option<Value>>> = Default::default();
}

/// Whether `text`, when it was read back before on this thread, holds `expected`.
pub(super) fn known(text: &str, expected: Expected<'_>) -> Option<bool> {
    READ.with(|r| {
        let memo = r.borrow();
        let read = memo.get(text)?;
        Some(read.as_ref().is_some_and(|v| expected.holds(v)))
    })
}

/// Remembers that `text` reads back as `read()` (from the second time it is read: see `memo`).
pub(super) fn remember(text: &str, read: impl FnOnce() -> Option<Value>) {
    READ.with(|r| r.borrow_mut().offer(text, read));
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn typed(p: &Plain) -> Option<Value> {
        match p {
            Plain::Null => Some(Value::Null),
            Plain::Bool(b) => Some(Value::Bool(*b)),
            Plain::Unsigned(n) => Some(Value::from(*n)),
            Plain::Negative(n) => Some(Value::from(*n)),
            Plain::Str | Plain::Unsure => None,
        }
    }

    fn scalar_text() -> impl Strategy<Value = String> {
        prop_oneof![
            // (No `:` at the end: that would make the document a mapping.)
            "[-+./0-9a-zA-Z_~]{0,7}",
            "[0-9]{1,2}:[0-9]{2}",
            "(-|--|\\+)?[0-9]{1,20}",
            "(true|false|yes|no|on|off|y|n|null|Null|NULL|TRUE|inf|nan|[.]inf|0x1f|0o17)",
        ]
    }

    fn value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            scalar_text().prop_map(Value::String),
        ];
        leaf.prop_recursive(3, 24, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 1..4).prop_map(Value::Array),
                prop::collection::vec(("[a-z][a-z0-9.-]{0,5}", inner), 1..4)
                    .prop_map(|kv| Value::Object(kv.into_iter().collect())),
            ]
        })
    }

    proptest! {
        /// Where `plain` decides, serde-saphyr (the reader of every document) agrees.
        #[test]
        fn plain_agrees_with_the_reader(text in scalar_text()) {
            let read: Result<Value, _> = crate::yaml::from_str(&text);
            match plain(&text) {
                Plain::Unsure => {}
                Plain::Str => prop_assert_eq!(read.ok(), Some(Value::String(text.clone()))),
                p => prop_assert_eq!(read.ok(), typed(&p)),
            }
        }

        /// `check` never says `Same` or `Differs` where a full read-back says otherwise, on
        /// text the tool's writer made from one value and compared with another.
        #[test]
        fn check_agrees_with_a_full_read_back(v in value(), w in value()) {
            let text = crate::yaml::to_string(&v).unwrap();
            let read: Option<Value> = crate::yaml::from_str(&text).ok();
            for expected in [&v, &w] {
                match check(&text, expected) {
                    Verdict::Unsure => {}
                    Verdict::Same => prop_assert_eq!(read.as_ref(), Some(expected)),
                    Verdict::Differs => prop_assert_ne!(read.as_ref(), Some(expected)),
                }
            }
        }
    }

    #[test]
    fn plain_scalars_are_typed_only_when_certain() {
        assert_eq!(plain(""), Plain::Null);
        assert_eq!(plain("~"), Plain::Null);
        assert_eq!(plain("true"), Plain::Bool(true));
        assert_eq!(plain("8080"), Plain::Unsigned(8080));
        assert_eq!(plain("0"), Plain::Unsigned(0));
        assert_eq!(plain("-3"), Plain::Negative(-3));
        assert_eq!(plain("250m"), Plain::Str);
        assert_eq!(plain("128Mi"), Plain::Str);
        assert_eq!(plain("nginx"), Plain::Str);
        assert_eq!(plain("/healthz"), Plain::Str);
        assert_eq!(plain("-H"), Plain::Str);
        assert_eq!(plain("--port"), Plain::Str);
        for unsure in [
            "0400", "0x1F", "1e3", "1.5", "yes", "On", "NULL", "nan", "-0", ".inf", "+1",
        ] {
            assert_eq!(plain(unsure), Plain::Unsure, "{unsure}");
        }
    }

    #[test]
    fn a_fragment_is_walked_for_its_one_entry_or_item_and_agrees_with_serde_saphyr() {
        let v = |t: &str| serde_json::from_str::<Value>(t).unwrap();
        let (web, port, one) = (v("\"web\""), v("\"8080\""), v("1"));
        let cases = [
            ("name: web\n", Expected::Entry("name", &web), Verdict::Same),
            (
                "name: 8080\n",
                Expected::Entry("name", &port),
                Verdict::Differs,
            ),
            (
                "name: '8080'\n",
                Expected::Entry("name", &port),
                Verdict::Same,
            ),
            ("a: 1\nb: 2\n", Expected::Entry("a", &one), Verdict::Differs),
            ("b: 1\n", Expected::Entry("a", &one), Verdict::Differs),
            ("yes: 1\n", Expected::Entry("yes", &one), Verdict::Unsure),
            ("- web\n", Expected::Item(&web), Verdict::Same),
            ("- web\n- web\n", Expected::Item(&web), Verdict::Differs),
            ("- 0400\n", Expected::Item(&one), Verdict::Unsure),
            ("web\n", Expected::Item(&web), Verdict::Unsure),
            ("- &a web\n", Expected::Item(&web), Verdict::Unsure),
        ];
        for (text, expected, verdict) in cases {
            assert_eq!(check_expected(text, expected), verdict, "{text:?}");
            let read: Option<Value> = crate::yaml::from_str(text).ok();
            match verdict {
                Verdict::Same => assert!(read.is_some_and(|r| expected.holds(&r)), "{text:?}"),
                Verdict::Differs => assert!(!read.is_some_and(|r| expected.holds(&r)), "{text:?}"),
                Verdict::Unsure => {}
            }
            // The memoised check answers the same every time; a text that holds its value is
            // answered from memory from its second check on (one that differs is not kept).
            if verdict != Verdict::Unsure {
                let same = verdict == Verdict::Same;
                assert_eq!(fragment(text, expected), same);
                assert_eq!(fragment(text, expected), same);
                assert_eq!(known(text, expected), same.then_some(true), "{text:?}");
                assert_eq!(fragment(text, expected), same);
            }
        }
    }
}
