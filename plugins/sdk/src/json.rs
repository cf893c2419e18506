//! JSON text for the host: [`to_string`] is `serde_json::to_string` with a writer that copies
//! short pieces byte by byte.
//!
//! serde_json writes its text in many small pieces (a quote, a colon, the run of a string
//! between two escapes). Into a `Vec<u8>` each piece is a `memcpy` of unknown length, which on
//! WebAssembly is a `memory.copy` instruction, and wasmtime runs that as a call out of the
//! compiled guest code into one of its built-in functions. For the one- and two-byte pieces that make up most of a JSON text, the
//! call costs far more than the copy. On the example `otel-collector` plugin, whose collector
//! configuration travels as a JSON string inside the container's JSON (a quote every seven
//! bytes, each escaped), writing the fragments was the guest's largest cost (perf, 10,000
//! Deployments); [`to_string`] hands serde_json a writer that copies short pieces byte by byte.

use std::io;

use serde::Serialize;

/// Pieces up to this many bytes are copied byte by byte.
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

/// Appends `piece`: byte by byte when it is short, else with one `memcpy`.
#[inline]
fn push_bytes(out: &mut Vec<u8>, piece: &[u8]) {
    if piece.len() <= SHORT {
        out.reserve(piece.len());
        for &byte in piece {
            out.push(byte);
        }
    } else {
        out.extend_from_slice(piece);
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
        assert_eq!(
            to_string(&value).unwrap(),
            serde_json::to_string(&value).unwrap()
        );
    }

    /// Every ASCII character (escaped or not) and some wider ones, in keys and values, between
    /// runs of plain text shorter than, as long as and longer than a short piece.
    #[test]
    fn every_character_between_runs_of_every_length_is_serde_jsons() {
        let wide = ['é', '日', '\u{2028}', '\u{fffd}', '😀'];
        for c in (0u8..0x80).map(char::from).chain(wide) {
            for run in [0, 1, SHORT - 1, SHORT, SHORT + 1, 3 * SHORT] {
                let s = format!("{}{c}{}{c}", "a".repeat(run), "b".repeat(run));
                let value = json!({ s.clone(): [s, c.to_string()] });
                assert_eq!(
                    to_string(&value).unwrap(),
                    serde_json::to_string(&value).unwrap(),
                    "{c:?} after {run} bytes"
                );
            }
        }
    }

    #[test]
    fn a_failing_serialize_is_an_error() {
        let keys: std::collections::BTreeMap<(u8, u8), u8> = [((1, 2), 3)].into_iter().collect();
        assert!(to_string(&keys).is_err());
    }
}
