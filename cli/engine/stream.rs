//! Multi-document YAML/JSON input split into documents, and the output stream built from them.
//!
//! YAML streams are split on `---` lines without parsing (a `---` at the start of a line always
//! starts a new document in YAML), so every document keeps its exact text: documents the tool does
//! not change are written back byte for byte, comments included, and are parsed at most once.

use std::io::{self, BufRead, Read};
use std::sync::Arc;

use serde_json::Value;

use super::text::{self, Layout};
use super::yaml;

/// Errors reading or parsing input.
#[derive(Debug, thiserror::Error)]
pub enum StreamError {
    /// The input could not be read.
    #[error("cannot read {name}: {source}")]
    Read {
        /// The input's name.
        name: String,
        /// The I/O error.
        source: io::Error,
    },
    /// A document is not valid YAML or JSON.
    #[error("{name}: document {document} (line {line}): {message}{snippet}")]
    Parse {
        /// The input's name.
        name: String,
        /// 1-based document number in the input.
        document: usize,
        /// 1-based line in the input.
        line: usize,
        /// What is wrong.
        message: String,
        /// A snippet of the offending lines, starting with a newline, or empty.
        snippet: String,
    },
    /// A document parsed, but it is not a Kubernetes object.
    #[error(
        "{name}: document {document} (line {line}) is not a Kubernetes object: {problem}; every document must be a mapping with apiVersion and kind"
    )]
    NotAnObject {
        /// The input's name.
        name: String,
        /// 1-based document number.
        document: usize,
        /// 1-based line.
        line: usize,
        /// What is missing.
        problem: String,
    },
}

/// The format of a document's text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// YAML (including JSON written inside a YAML stream).
    Yaml,
    /// A JSON document from a JSON stream.
    Json,
}

/// One document of an input, with its exact text.
#[derive(Debug, Clone)]
pub struct Document {
    /// The input's name, for messages.
    pub source: Arc<str>,
    /// 1-based document number within the input.
    pub index: usize,
    /// 1-based line on which `text` starts.
    pub line: usize,
    /// The separator line(s) (`---`) that preceded the text, exactly as read.
    pub separator: Option<String>,
    /// The document's text, exactly as read.
    pub text: String,
    /// YAML or JSON.
    pub format: Format,
    parsed: Option<Value>,
}

impl Document {
    /// True when the document holds no node (only blanks and comments).
    pub fn is_blank(&self) -> bool {
        self.parsed.is_none()
            && self.text.lines().all(|l| {
                let t = l.trim();
                t.is_empty() || t.starts_with('#') || t == "---" || t == "..."
            })
    }

    /// Parses the document into a JSON value (mappings keep their key order).
    pub fn parse(&self) -> Result<Value, StreamError> {
        self.read().map(|(value, _)| value)
    }

    /// Parses the document into its value and, for the edit of its text, its source layout,
    /// in one pass where it can (`text::read`); serde-saphyr reads what that pass leaves
    /// undecided, and gives the errors.
    pub fn read(&self) -> Result<(Value, Option<Layout>), StreamError> {
        if let Some(v) = &self.parsed {
            return Ok((v.clone(), None));
        }
        let layout = match text::read(&self.text) {
            Some((layout, Some(value))) => return Ok((value, Some(layout))),
            Some((layout, None)) => Some(layout),
            None => None,
        };
        let value = yaml::from_str::<Value>(&self.text).map_err(|e| {
            let rel = e.line.unwrap_or(1) as usize;
            let snippet = yaml::explain_error(&self.text, self.line, &self.source)
                .map(|s| format!("\n{s}"))
                .unwrap_or_default();
            StreamError::Parse {
                name: self.source.to_string(),
                document: self.index,
                line: self.line + rel.saturating_sub(1),
                message: e.message,
                snippet,
            }
        })?;
        Ok((value, layout))
    }

    /// Parses the document and checks that it is an object with `apiVersion` and `kind`.
    pub fn parse_object(&self) -> Result<Value, StreamError> {
        self.read_object().map(|(value, _)| value)
    }

    /// `read`, checking that the document is an object with `apiVersion` and `kind`.
    pub fn read_object(&self) -> Result<(Value, Option<Layout>), StreamError> {
        let (value, layout) = self.read()?;
        let problem = match &value {
            Value::Object(map) => match (map.get("apiVersion"), map.get("kind")) {
                (Some(Value::String(_)), Some(Value::String(_))) => None,
                (None, _) => Some("no apiVersion".to_string()),
                (_, None) => Some("no kind".to_string()),
                _ => Some("apiVersion and kind must be strings".to_string()),
            },
            other => Some(format!("it is {}", json_type(other))),
        };
        match problem {
            None => Ok((value, layout)),
            Some(problem) => Err(StreamError::NotAnObject {
                name: self.source.to_string(),
                document: self.index,
                line: self.line,
                problem,
            }),
        }
    }
}

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "empty",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a mapping",
    }
}

/// True when `line` is the YAML marker `marker` (`---` or `...`) alone or followed by a space.
pub(crate) fn is_marker(line: &str, marker: &str) -> bool {
    line.strip_prefix(marker)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with([' ', '\t', '\r', '\n']))
}

/// True for text made only of directives (`%…`), comments and blank lines, with at least one
/// directive.
fn is_directives(text: &str) -> bool {
    let mut directive = false;
    for line in text.lines() {
        let t = line.trim();
        if t.starts_with('%') && !line.starts_with(' ') {
            directive = true;
        } else if !(t.is_empty() || t.starts_with('#')) {
            return false;
        }
    }
    directive
}

/// Splits a YAML stream into documents, line by line, keeping every byte.
pub struct YamlSplitter<R> {
    reader: R,
    source: Arc<str>,
    line_no: usize,
    index: usize,
    pending_separator: Option<String>,
    pending_first_line: Option<String>,
    done: bool,
}

impl<R: BufRead> YamlSplitter<R> {
    /// A splitter over `reader`, naming it `source` in messages.
    pub fn new(reader: R, source: Arc<str>) -> Self {
        YamlSplitter {
            reader,
            source,
            line_no: 0,
            index: 0,
            pending_separator: None,
            pending_first_line: None,
            done: false,
        }
    }

    fn read_error(&self, source: io::Error) -> StreamError {
        StreamError::Read {
            name: self.source.to_string(),
            source,
        }
    }
}

impl<R: BufRead> Iterator for YamlSplitter<R> {
    type Item = Result<Document, StreamError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let separator = self.pending_separator.take();
        let mut text = self.pending_first_line.take().unwrap_or_default();
        let start_line = self.line_no + 1 - usize::from(!text.is_empty());
        let mut line = String::new();
        loop {
            line.clear();
            match self.reader.read_line(&mut line) {
                // A line that is not UTF-8 (a Latin-1 comment): say where, and what to do.
                Err(e) if e.kind() == io::ErrorKind::InvalidData => {
                    self.done = true;
                    return Some(Err(StreamError::Parse {
                        name: self.source.to_string(),
                        document: self.index + 1,
                        line: self.line_no + 1,
                        message: format!(
                            "{e}: manifests are UTF-8 text; convert the file (for example \
                             `iconv -f LATIN1 -t UTF-8`)"
                        ),
                        snippet: String::new(),
                    }));
                }
                Err(e) => {
                    self.done = true;
                    return Some(Err(self.read_error(e)));
                }
                Ok(0) => {
                    self.done = true;
                    break;
                }
                Ok(_) => {}
            }
            self.line_no += 1;
            if self.line_no == 1 && line.starts_with('\u{feff}') {
                line.drain(..'\u{feff}'.len_utf8());
            }
            if is_marker(&line, "---") {
                let rest = line[3..].trim();
                // Directives (`%YAML 1.2`) before a marker belong to the document after it.
                let carried = if is_directives(&text) {
                    let carried = format!("{}{text}", separator.as_deref().unwrap_or_default());
                    text.clear();
                    carried
                } else {
                    String::new()
                };
                let moved = !carried.is_empty();
                if rest.is_empty() || rest.starts_with('#') {
                    self.pending_separator = Some(carried + &line);
                } else {
                    // `--- value`: the marker line carries content; keep it with the document.
                    self.pending_first_line = Some(carried + &line);
                }
                if text.is_empty() && (separator.is_none() || moved) {
                    // Nothing before this marker (start of input, after `...`, or only
                    // directives, which moved on): no empty document.
                    return self.next();
                }
                break;
            }
            text.push_str(&line);
            if is_marker(&line, "...") {
                break;
            }
        }
        if self.done && text.is_empty() && separator.is_none() {
            return None;
        }
        self.index += 1;
        Some(Ok(Document {
            source: self.source.clone(),
            index: self.index,
            line: start_line.max(1),
            separator,
            text,
            format: Format::Yaml,
            parsed: None,
        }))
    }
}

/// Splits a JSON stream (one or more concatenated JSON values) into documents.
fn split_json(text: &str, source: &Arc<str>) -> Result<Vec<Document>, StreamError> {
    let mut docs = Vec::new();
    let mut stream = serde_json::Deserializer::from_str(text).into_iter::<Value>();
    let mut start = 0;
    while let Some(next) = stream.next() {
        let end = stream.byte_offset();
        match next {
            Ok(value) => {
                let raw = &text[start..end];
                let leading = raw.len() - raw.trim_start().len();
                let line = 1 + text[..start + leading].matches('\n').count();
                docs.push(Document {
                    source: source.clone(),
                    index: docs.len() + 1,
                    line,
                    separator: None,
                    text: raw.trim().to_string(),
                    format: Format::Json,
                    parsed: Some(value),
                });
            }
            Err(e) => {
                return Err(StreamError::Parse {
                    name: source.to_string(),
                    document: docs.len() + 1,
                    line: e.line(),
                    message: format!("invalid JSON: {e}"),
                    snippet: String::new(),
                });
            }
        }
        start = end;
    }
    Ok(docs)
}

/// Splits one input (an open reader, named `source` in messages) into its documents. JSON
/// streams are recognised by their first character; anything else is a YAML stream.
pub fn split(
    mut reader: Box<dyn BufRead>,
    source: Arc<str>,
) -> Result<Box<dyn Iterator<Item = Result<Document, StreamError>>>, StreamError> {
    let read_err = |source_err| StreamError::Read {
        name: source.to_string(),
        source: source_err,
    };
    let first = first_significant_byte(&mut reader).map_err(read_err)?;
    if first == Some(b'{') {
        let mut text = String::new();
        reader.read_to_string(&mut text).map_err(read_err)?;
        return match split_json(&text, &source) {
            Ok(docs) => Ok(Box::new(docs.into_iter().map(Ok))),
            // Not JSON after all: a YAML flow mapping.
            Err(_)
                if serde_json::from_str::<Value>(text.trim()).is_err()
                    && !text.contains("}\n{") =>
            {
                Ok(Box::new(YamlSplitter::new(io::Cursor::new(text), source)))
            }
            Err(e) => Err(e),
        };
    }
    Ok(Box::new(YamlSplitter::new(reader, source)))
}

fn first_significant_byte(reader: &mut dyn BufRead) -> io::Result<Option<u8>> {
    let buf = reader.fill_buf()?;
    Ok(buf.iter().copied().find(|b| !b.is_ascii_whitespace()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::{Emit, OutputFormat, StreamWriter};

    fn split(text: &str) -> Vec<Document> {
        YamlSplitter::new(io::Cursor::new(text.to_string()), Arc::from("t.yaml"))
            .collect::<Result<_, _>>()
            .unwrap()
    }

    fn roundtrip(text: &str) -> String {
        let mut w = StreamWriter::new(OutputFormat::Yaml);
        for d in split(text) {
            w.push(&d, Emit::Unchanged).unwrap();
        }
        String::from_utf8(w.finish().unwrap()).unwrap()
    }

    #[test]
    fn unchanged_streams_are_byte_identical() {
        for text in [
            "a: 1\n",
            "---\na: 1\n---\nb: 2\n",
            "# head comment\n---\na: 1 # keep\n--- # sep comment\nb: |\n  x\n  y\n",
            "a: 1\n---\n\n---\nb: 2",
            "--- {a: 1}\n--- {b: 2}\n",
            "%YAML 1.2\n---\na: 1\n---\nb: 2\n",
            "a: 1\n---\n%YAML 1.2\n--- {b: 2}\n",
            "a: 1\r\n---\r\nb: 2\r\n",
            "a: 1\n...\n---\nb: 2\n",
        ] {
            assert_eq!(roundtrip(text), text, "{text:?}");
        }
    }

    #[test]
    fn documents_know_their_lines() {
        let docs = split("a: 1\n---\nb: 2\nc: 3\n---\nd: [\n");
        assert_eq!(
            docs.iter().map(|d| d.line).collect::<Vec<_>>(),
            vec![1, 3, 6]
        );
        match docs[2].parse().unwrap_err() {
            StreamError::Parse { document, line, .. } => assert_eq!((document, line), (3, 6)),
            e => panic!("{e}"),
        }
    }

    #[test]
    fn a_line_that_is_not_utf8_is_named_with_its_document_and_line() {
        let text = b"a: 1\n---\nb: 2\n# caf\xe9\n".to_vec();
        let docs: Vec<_> =
            YamlSplitter::new(io::Cursor::new(text), Arc::from("latin1.yaml")).collect();
        assert!(docs[0].is_ok());
        match docs.last() {
            Some(Err(e @ StreamError::Parse { document, line, .. })) => {
                assert_eq!((*document, *line), (2, 4));
                let message = e.to_string();
                assert!(
                    message.starts_with("latin1.yaml: document 2 (line 4): "),
                    "{message}"
                );
                assert!(message.contains("iconv"), "{message}");
            }
            other => panic!("expected a parse error, got {other:?}"),
        }
    }

    #[test]
    fn json_streams_split_with_lines() {
        let docs = split_json("{\"a\":1}\n\n{\"b\":\n2}\n", &Arc::from("j.json")).unwrap();
        assert_eq!(docs.len(), 2);
        assert_eq!(docs[1].line, 3);
        assert_eq!(docs[1].parse().unwrap()["b"], 2);
    }
}
