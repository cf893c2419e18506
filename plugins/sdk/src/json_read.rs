//! JSON text read into a serde_json `Value` by hand, for the texts the host sends every render
//! (the workload object, the parameters). serde_json reads through its generic visitor and
//! grows each object's map a key at a time, rehashing as it goes; this reader collects an
//! object's entries first and builds its map once, at its final size.
//!
//! It answers only when it is certain of serde_json's answer: for anything else (an error of
//! any kind, an escape it does not take) it says `None`, and the caller asks serde_json, which
//! gives its value or its error message. A number that is not a plain integer is read by
//! serde_json alone (its token), so its value is serde_json's to the bit.

use serde_json::{Map, Number, Value};

/// Deeper nesting than this is left to serde_json (whose own limit is 128).
const MAX_DEPTH: usize = 100;

/// `text` as the `Value` serde_json's `from_str` reads from it, key order included; `None`
/// where this reader is not sure of serde_json's answer (see the module's documentation).
pub fn value(text: &str) -> Option<Value> {
    let mut reader = Reader {
        text,
        at: 0,
        entries: Vec::new(),
        items: Vec::new(),
    };
    let value = reader.value(0)?;
    reader.skip_space();
    (reader.at == text.len()).then_some(value)
}

/// `text` as a `Value`: [`value`], else serde_json's reading (and its error).
///
/// # Errors
///
/// serde_json's, when `text` is not JSON.
pub fn from_str(text: &str) -> serde_json::Result<Value> {
    value(text).map_or_else(|| serde_json::from_str(text), Ok)
}

struct Reader<'t> {
    text: &'t str,
    at: usize,
    /// The entries of the objects being read, innermost last.
    entries: Vec<(String, Value)>,
    /// The items of the arrays being read, innermost last.
    items: Vec<Value>,
}

impl Reader<'_> {
    fn bytes(&self) -> &[u8] {
        self.text.as_bytes()
    }

    fn peek(&self) -> Option<u8> {
        self.bytes().get(self.at).copied()
    }

    fn skip_space(&mut self) {
        while let Some(b' ' | b'\n' | b'\r' | b'\t') = self.peek() {
            self.at += 1;
        }
    }

    /// Steps over `byte` (after white space), or says it is not there.
    fn expect(&mut self, byte: u8) -> Option<()> {
        self.skip_space();
        (self.peek()? == byte).then(|| self.at += 1)
    }

    fn value(&mut self, depth: usize) -> Option<Value> {
        self.skip_space();
        match self.peek()? {
            b'{' if depth < MAX_DEPTH => self.object(depth + 1),
            b'[' if depth < MAX_DEPTH => self.array(depth + 1),
            b'"' => self.string().map(Value::String),
            b't' => self.word("true", Value::Bool(true)),
            b'f' => self.word("false", Value::Bool(false)),
            b'n' => self.word("null", Value::Null),
            b'0'..=b'9' | b'-' => self.number(),
            _ => None,
        }
    }

    fn word(&mut self, word: &str, value: Value) -> Option<Value> {
        let end = self.at + word.len();
        (self.bytes().get(self.at..end)? == word.as_bytes()).then(|| {
            self.at = end;
            value
        })
    }

    /// At an empty object's or array's `close` (after white space): steps over it.
    fn empty(&mut self, close: u8) -> bool {
        self.skip_space();
        let empty = self.peek() == Some(close);
        self.at += usize::from(empty);
        empty
    }

    /// After a member or item: `Some(true)` at a comma (another follows), `Some(false)` at
    /// `close`, either stepped over; `None` at anything else.
    fn more(&mut self, close: u8) -> Option<bool> {
        self.skip_space();
        let byte = self.peek()?;
        self.at += 1;
        match byte {
            b',' => Some(true),
            b if b == close => Some(false),
            _ => None,
        }
    }

    fn object(&mut self, depth: usize) -> Option<Value> {
        self.at += 1;
        let start = self.entries.len();
        if !self.empty(b'}') {
            loop {
                self.skip_space();
                if self.peek()? != b'"' {
                    return None;
                }
                let key = self.string()?;
                self.expect(b':')?;
                let value = self.value(depth)?;
                self.entries.push((key, value));
                if !self.more(b'}')? {
                    break;
                }
            }
        }
        let mut map = Map::with_capacity(self.entries.len() - start);
        // A repeated key keeps its first place and takes its last value, as in serde_json.
        for (key, value) in self.entries.drain(start..) {
            map.insert(key, value);
        }
        Some(Value::Object(map))
    }

    fn array(&mut self, depth: usize) -> Option<Value> {
        self.at += 1;
        let start = self.items.len();
        if !self.empty(b']') {
            loop {
                let item = self.value(depth)?;
                self.items.push(item);
                if !self.more(b']')? {
                    break;
                }
            }
        }
        Some(Value::Array(self.items.drain(start..).collect()))
    }

    /// A string, at its opening quote: copied whole when it has no escape.
    fn string(&mut self) -> Option<String> {
        self.at += 1;
        let start = self.at;
        let end = self.special(start)?;
        if self.bytes()[end] == b'"' {
            self.at = end + 1;
            return Some(self.text[start..end].to_owned());
        }
        let mut out = String::with_capacity(end - start + 16);
        let mut run = start;
        let mut at = end;
        loop {
            out.push_str(&self.text[run..at]);
            match self.bytes()[at] {
                b'"' => {
                    self.at = at + 1;
                    return Some(out);
                }
                b'\\' => at = self.escape(at + 1, &mut out)?,
                // A control character, which JSON strings may not hold as itself.
                _ => return None,
            }
            run = at;
            at = self.special(at)?;
        }
    }

    /// The first quote, backslash or control character at or after `from`, eight bytes at a
    /// time; `None` at the end of the text (an unterminated string).
    fn special(&self, from: usize) -> Option<usize> {
        let bytes = self.bytes();
        let mut i = from;
        while let Some(word) = bytes.get(i..i + 8) {
            let mut eight = [0u8; 8];
            eight.copy_from_slice(word);
            match escaped_bytes(u64::from_le_bytes(eight)) {
                0 => i += 8,
                // The lowest flagged byte is always a real one.
                found => return Some(i + (found.trailing_zeros() / 8) as usize),
            }
        }
        (i..bytes.len()).find(|&j| needs_escape(bytes[j]))
    }

    /// The escape after a backslash at `at`, appended to `out`; returns where the text goes on.
    fn escape(&self, at: usize, out: &mut String) -> Option<usize> {
        let c = match *self.bytes().get(at)? {
            b'"' => '"',
            b'\\' => '\\',
            b'/' => '/',
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => return self.unicode(at + 1, out),
            _ => return None,
        };
        out.push(c);
        Some(at + 1)
    }

    /// A `\u` escape's four hex digits at `at` (and a low surrogate's escape after a high one).
    fn unicode(&self, at: usize, out: &mut String) -> Option<usize> {
        let unit = self.hex4(at)?;
        let (code, next) = match unit {
            0xD800..=0xDBFF => {
                if self.bytes().get(at + 4..at + 6)? != b"\\u" {
                    return None;
                }
                let low = self.hex4(at + 6)?;
                if !(0xDC00..=0xDFFF).contains(&low) {
                    return None;
                }
                (0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00), at + 10)
            }
            0xDC00..=0xDFFF => return None,
            _ => (unit, at + 4),
        };
        out.push(char::from_u32(code)?);
        Some(next)
    }

    fn hex4(&self, at: usize) -> Option<u32> {
        let digits = self.text.get(at..at + 4)?;
        if !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        u32::from_str_radix(digits, 16).ok()
    }

    /// A number. Plain integers are read here; any other number (a fraction, an exponent,
    /// `-0`, one too large for 64 bits) is handed to serde_json whole, so its value is
    /// serde_json's to the bit.
    fn number(&mut self) -> Option<Value> {
        let start = self.at;
        let bytes = self.bytes();
        let mut end = start;
        while let Some(b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E') = bytes.get(end) {
            end += 1;
        }
        let token = &self.text[start..end];
        self.at = end;
        let digits = token.strip_prefix('-').unwrap_or(token);
        let plain = !digits.is_empty()
            && digits.len() <= 18
            && digits.bytes().all(|b| b.is_ascii_digit())
            && (digits == "0" || !digits.starts_with('0'));
        if !plain {
            return match serde_json::from_str::<Value>(token).ok()? {
                number @ Value::Number(_) => Some(number),
                _ => None,
            };
        }
        // At most 18 digits: the value fits an i64 with its sign.
        let n: u64 = digits.parse().ok()?;
        Some(Value::Number(match token.starts_with('-') {
            false => Number::from(n),
            true if n > 0 => Number::from(-i64::try_from(n).ok()?),
            true => return serde_json::from_str(token).ok(),
        }))
    }
}

/// The high bit of every byte of `word` that is a control character, `"` or `\\` (and possibly
/// of bytes above the first such one).
#[inline]
pub(crate) fn escaped_bytes(word: u64) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let zero_byte = |x: u64| x.wrapping_sub(ONES) & !x;
    let control = word.wrapping_sub(ONES * 0x20) & !word;
    (control
        | zero_byte(word ^ (ONES * u64::from(b'"')))
        | zero_byte(word ^ (ONES * u64::from(b'\\'))))
        & HIGH
}

pub(crate) fn needs_escape(byte: u8) -> bool {
    byte < 0x20 || byte == b'"' || byte == b'\\'
}

#[cfg(test)]
mod tests {
    use super::*;

    /// serde_json's text of both readings, so key order counts (a `Map` compares as a set).
    fn same(text: &str) {
        let expected = serde_json::from_str::<Value>(text).unwrap();
        let read = value(text).unwrap_or_else(|| panic!("not read: {text}"));
        assert_eq!(read, expected, "{text}");
        assert_eq!(read.to_string(), expected.to_string(), "{text}");
    }

    #[test]
    fn objects_arrays_strings_and_integers_are_read_as_serde_json_reads_them() {
        same(r#" {"b": 1, "a": [true, false, null, -5, 0, 123456789012345678], "c": {}} "#);
        same(r#"{"k":"x","k2":[],"k":"y"}"#);
        same(r#""a\"b\\c\/d\b\f\n\r\t\u00e9\u65e5\ud83d\ude00 plain text that is long""#);
        same("[[[[[]]]],{\"\":{\"\":\"\"}}]");
        same("\"é日😀\"");
    }

    #[test]
    fn other_numbers_are_serde_jsons() {
        for text in [
            "-0",
            "1.5",
            "1e3",
            "-2.5E-3",
            "12345678901234567890",
            "-9223372036854775808",
        ] {
            same(text);
        }
    }

    #[test]
    fn anything_else_is_left_to_serde_json() {
        let texts = [
            "",
            " ",
            "{",
            "[1,]",
            "{\"a\":1,}",
            "{\"a\" 1}",
            "{1:2}",
            "01",
            "-",
            "1.",
            "tru",
            "nul",
            "\"\\x\"",
            "\"\\ud800\"",
            "\"\\udc00\"",
            "\"\\ud800\\u0041\"",
            "\"a\tb\"",
            "\"open",
            "1 2",
            "[1 2]",
            "{}x",
        ];
        for text in texts {
            assert!(serde_json::from_str::<Value>(text).is_err(), "{text}");
            assert_eq!(value(text), None, "{text}");
        }
        let deep = format!("{}{}", "[".repeat(MAX_DEPTH + 1), "]".repeat(MAX_DEPTH + 1));
        assert_eq!(value(&deep), None);
        assert_eq!(
            from_str(&deep).unwrap(),
            serde_json::from_str::<Value>(&deep).unwrap()
        );
    }
}
