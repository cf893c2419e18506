//! JSON text for the host: [`to_string`] is `serde_json::to_string` with a writer that copies
//! short pieces itself.
//!
//! serde_json writes its text in many small pieces (a quote, a colon, the run of a string
//! between two escapes). Into a `Vec<u8>` each piece is a `memcpy` of unknown length, which on
//! WebAssembly is a `memory.copy` instruction, and wasmtime runs that as a call out of the
//! compiled guest code into one of its built-in functions. For the one- and two-byte pieces
//! that make up most of a JSON text, the call costs far more than the copy. On the example
//! `otel-collector` plugin, whose collector configuration then travelled as a JSON string inside
//! the container's JSON (a quote every seven bytes, each escaped), writing the fragments was the
//! guest's largest cost (perf, 10,000 Deployments); [`to_string`] hands serde_json a writer
//! that copies short pieces itself.
//!
//! The fragments the SDK hands the host are `Value`s, and [`value_to_string`] writes those
//! without serde_json's serializer: strings are scanned a word at a time for the bytes JSON
//! escapes instead of looking each byte up in a table, and the text is still serde_json's to
//! the byte. [`to_string`] remains for a plugin's own typed records.

use std::io;

use serde::Serialize;
use serde_json::Value;

use super::json_read::{escaped_bytes, needs_escape};

/// Pieces up to this many bytes are copied without `memcpy`.
const SHORT: usize = 16;

/// A `Vec<u8>` writer that appends short pieces without `memcpy`.
struct Text(Vec<u8>);

impl io::Write for Text {
    #[inline]
    fn write(&mut self, piece: &[u8]) -> io::Result<usize> {
        self.write_all(piece)?;
        Ok(piece.len())
    }

    #[inline]
    fn write_all(&mut self, piece: &[u8]) -> io::Result<()> {
        push_bytes(&mut self.0, piece);
        Ok(())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Appends `piece`: a short one with at most two loads and two stores of a word each (ends
/// overlapping), else with one `memcpy`. A byte-by-byte loop stored the vector's length back
/// to memory after every byte, and a plain copy loop is turned back into `memcpy`.
#[inline]
fn push_bytes(out: &mut Vec<u8>, piece: &[u8]) {
    let n = piece.len();
    if n > SHORT {
        out.extend_from_slice(piece);
        return;
    }
    out.reserve(n);
    let len = out.len();
    let src = piece.as_ptr();
    // SAFETY: `reserve` left room for `n` bytes after `len`. Every read is of bytes
    // `[0, n)` of `piece` and every write of bytes `[len, len + n)` of `out`'s buffer
    // (the word copies run only when `n` is at least the word's size), so all of those bytes
    // are written before the length covers them.
    unsafe {
        let dst = out.as_mut_ptr().add(len);
        if n >= 8 {
            let head = src.cast::<u64>().read_unaligned();
            let tail = src.add(n - 8).cast::<u64>().read_unaligned();
            dst.cast::<u64>().write_unaligned(head);
            dst.add(n - 8).cast::<u64>().write_unaligned(tail);
        } else if n >= 4 {
            let head = src.cast::<u32>().read_unaligned();
            let tail = src.add(n - 4).cast::<u32>().read_unaligned();
            dst.cast::<u32>().write_unaligned(head);
            dst.add(n - 4).cast::<u32>().write_unaligned(tail);
        } else if n > 0 {
            *dst = *src;
            *dst.add(n / 2) = *src.add(n / 2);
            *dst.add(n - 1) = *src.add(n - 1);
        }
        out.set_len(len + n);
    }
}

/// The compact JSON text of `value`, the same text as `serde_json::to_string`'s.
///
/// # Errors
///
/// When `value`'s `Serialize` fails (a map with keys that are not strings, a custom error).
pub fn to_string<T: Serialize + ?Sized>(value: &T) -> serde_json::Result<String> {
    let mut text = Text(Vec::with_capacity(256));
    serde_json::to_writer(&mut text, value)?;
    // serde_json writes UTF-8 only (strings are copied whole or escaped to ASCII).
    String::from_utf8(text.0).map_err(|e| serde::ser::Error::custom(e.to_string()))
}

/// The compact JSON text of `value`, the same text as `serde_json::to_string`'s, written by
/// hand: strings are scanned eight bytes at a time for the bytes JSON escapes, and the runs
/// between them are copied whole. serde_json looks each byte up in a table, which made escaping
/// the example plugin's collector configuration its largest cost after parsing the workload.
pub fn value_to_string(value: &Value) -> String {
    let mut out = Vec::with_capacity(1024);
    write_value(&mut out, value);
    // Only whole strings and ASCII are written, so the bytes are UTF-8.
    String::from_utf8(out).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

fn write_value(out: &mut Vec<u8>, value: &Value) {
    match value {
        Value::Null => push_bytes(out, b"null"),
        Value::Bool(true) => push_bytes(out, b"true"),
        Value::Bool(false) => push_bytes(out, b"false"),
        // serde_json's own text (itoa or ryu); writing into memory cannot fail.
        Value::Number(n) => drop(serde_json::to_writer(&mut *out, n)),
        Value::String(s) => write_str(out, s),
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_value(out, item);
            }
            out.push(b']');
        }
        Value::Object(map) => {
            out.push(b'{');
            for (i, (key, item)) in map.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_str(out, key);
                out.push(b':');
                write_value(out, item);
            }
            out.push(b'}');
        }
    }
}

/// Writes `s` as a JSON string: `"` and `\\` escaped with a backslash, control characters as
/// `\\n`-style or `\\u00XX` escapes (lower-case hex), everything else as it is (serde_json's
/// choices).
fn write_str(out: &mut Vec<u8>, s: &str) {
    let bytes = s.as_bytes();
    out.reserve(bytes.len() + 2);
    out.push(b'"');
    let (mut start, mut i) = (0, 0);
    while i < bytes.len() {
        if let Some(word) = bytes.get(i..i + 8) {
            let mut eight = [0u8; 8];
            eight.copy_from_slice(word);
            match escaped_bytes(u64::from_le_bytes(eight)) {
                0 => {
                    i += 8;
                    continue;
                }
                // The lowest flagged byte is always a real one (a false flag needs a borrow
                // from a lower, real one).
                found => i += (found.trailing_zeros() / 8) as usize,
            }
        } else if !needs_escape(bytes[i]) {
            i += 1;
            continue;
        }
        push_bytes(out, &bytes[start..i]);
        push_escape(out, bytes[i]);
        i += 1;
        start = i;
    }
    push_bytes(out, &bytes[start..]);
    out.push(b'"');
}

fn push_escape(out: &mut Vec<u8>, byte: u8) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let short = match byte {
        b'"' => b'"',
        b'\\' => b'\\',
        0x08 => b'b',
        0x0c => b'f',
        b'\n' => b'n',
        b'\r' => b'r',
        b'\t' => b't',
        _ => 0,
    };
    if short != 0 {
        push_bytes(out, &[b'\\', short]);
    } else {
        let hex = [HEX[usize::from(byte >> 4)], HEX[usize::from(byte & 0xf)]];
        push_bytes(out, &[b'\\', b'u', b'0', b'0', hex[0], hex[1]]);
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn the_text_is_serde_jsons() {
        let value = json!({
            "name": "collector",
            "env": [{"name": "CONFIG", "value": "{\"a\":[1,2],\"b\":\"c\\nd\u{7}\u{1f}\u{7f}é日\"}"}],
            "long": "x".repeat(SHORT * 3 + 1),
            "edge": "y".repeat(SHORT),
            "n": [0, -1, 1.5, 1e300, u64::MAX, i64::MIN, null, true, false],
            "empty": {}, "none": [], "": ""
        });
        let expected = serde_json::to_string(&value).unwrap();
        assert_eq!(to_string(&value).unwrap(), expected);
        assert_eq!(value_to_string(&value), expected);
    }

    /// Every ASCII character (escaped or not) and some wider ones, in keys and values, between
    /// runs of plain text shorter than, as long as and longer than a short piece.
    #[test]
    fn every_character_between_runs_of_every_length_is_serde_jsons() {
        let wide = ['é', '日', '\u{2028}', '\u{fffd}', '😀'];
        for c in (0u8..0x80).map(char::from).chain(wide) {
            for run in (0..=SHORT + 1).chain([3 * SHORT]) {
                let s = format!("{}{c}{}{c}", "a".repeat(run), "b".repeat(run));
                let value = json!({ s.clone(): [s, c.to_string()] });
                let expected = serde_json::to_string(&value).unwrap();
                assert_eq!(
                    to_string(&value).unwrap(),
                    expected,
                    "{c:?} after {run} bytes"
                );
                assert_eq!(value_to_string(&value), expected, "{c:?} after {run} bytes");
            }
        }
    }

    #[test]
    fn a_piece_of_every_length_is_appended_whole() {
        let source: Vec<u8> = (1..=3 * SHORT as u8).collect();
        for n in 0..=source.len() {
            let mut out = Vec::with_capacity(3);
            out.extend_from_slice(b"ab");
            push_bytes(&mut out, &source[..n]);
            assert_eq!(&out[..2], b"ab", "{n} bytes");
            assert_eq!(&out[2..], &source[..n], "{n} bytes");
        }
    }

    #[test]
    fn a_failing_serialize_is_an_error() {
        let keys: std::collections::BTreeMap<(u8, u8), u8> = [((1, 2), 3)].into_iter().collect();
        assert!(to_string(&keys).is_err());
    }
}
