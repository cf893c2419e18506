//! Output: documents rendered for YAML, JSON or name output (in parallel by the caller), and
//! the stream writer that joins them with the original separators.

use std::io;

use serde_json::Value;

use super::stream::{Document, Format, StreamError, is_marker};
use super::text::{self, Layout};
use super::yaml;

/// What becomes of a document in the output.
#[derive(Debug, Clone)]
pub enum Emit {
    /// Written back exactly as read.
    Unchanged,
    /// Changed: the object as read (`before`) and as it is now (`after`). The output edits
    /// the document's text from one to the other (see `text`), or re-emits `after`.
    Changed {
        /// The object as the document's text holds it.
        before: Value,
        /// The object to write.
        after: Value,
        /// The text's layout, when it was read with the object (else it is read for the edit).
        layout: Option<Layout>,
    },
}

/// Output formats for objects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputFormat {
    /// A YAML stream (documents separated by `---`).
    Yaml,
    /// One JSON object, or a `v1 List` when there are several.
    Json,
    /// `kind.group/name`, one per line.
    Name,
}

/// A document made ready for output (the costly part, done in parallel by the caller).
#[derive(Debug)]
pub enum Rendered {
    /// YAML output: `None` to copy the document's own text, else the new text.
    Yaml(Option<String>),
    /// JSON output: the object.
    Json(Value),
    /// Name output: `kind.group/name` lines.
    Names(Vec<String>),
    /// A document of a JSON stream rewritten in its own layout (per-file output).
    JsonText(String),
    /// Nothing to write (a blank document in JSON or name output).
    Nothing,
}

/// Prepares `doc` (unchanged, or replaced by `emit`) for output in `format`.
pub fn render(doc: &Document, emit: Emit, format: OutputFormat) -> Result<Rendered, StreamError> {
    let value = match (emit, format) {
        (Emit::Unchanged, OutputFormat::Yaml) if doc.format == Format::Yaml => {
            return Ok(Rendered::Yaml(None));
        }
        (_, OutputFormat::Json | OutputFormat::Name) if doc.is_blank() => {
            return Ok(Rendered::Nothing);
        }
        (
            Emit::Changed {
                before,
                after,
                layout,
            },
            OutputFormat::Yaml,
        ) if doc.format == Format::Yaml => {
            match text::edit(&doc.text, layout.as_ref(), &before, &after, false) {
                Some(text) => {
                    let text = crate::nulls::restore(text, &before, &after);
                    return Ok(Rendered::Yaml(Some(text)));
                }
                None => after,
            }
        }
        (Emit::Unchanged, _) => doc.parse()?,
        (Emit::Changed { after, .. }, _) => after,
    };
    Ok(match format {
        OutputFormat::Json => Rendered::Json(value),
        OutputFormat::Name => Rendered::Names(object_names(&value)),
        OutputFormat::Yaml => {
            let mut text = String::new();
            if doc.format == Format::Yaml {
                // Keep the comments that head the document.
                for line in doc.text.split_inclusive('\n') {
                    let t = line.trim();
                    if !(t.is_empty() || t.starts_with('#')) {
                        break;
                    }
                    text.push_str(line);
                }
            }
            let body = yaml::to_string(&value).map_err(|e| StreamError::Parse {
                name: doc.source.to_string(),
                document: doc.index,
                line: doc.line,
                message: format!("cannot write the result as YAML: {}", e.message),
                snippet: String::new(),
            })?;
            // Keep the document's line endings.
            if doc.text.contains("\r\n") {
                text.push_str(&body.replace('\n', "\r\n"));
            } else {
                text.push_str(&body);
            }
            Rendered::Yaml(Some(text))
        }
    })
}

/// Prepares a document of a JSON stream for per-file output: its own text, or that text
/// edited in place (its indentation and key order kept), or the object pretty-printed when
/// the edit cannot be made in place.
pub fn render_json_text(doc: &Document, emit: Emit) -> Rendered {
    match emit {
        Emit::Unchanged => Rendered::JsonText(doc.text.clone()),
        Emit::Changed {
            before,
            after,
            layout,
        } => match text::edit(&doc.text, layout.as_ref(), &before, &after, true) {
            Some(text) => Rendered::JsonText(text),
            None => Rendered::Json(after),
        },
    }
}

/// Builds an output stream document by document, into any writer (a spooled temporary file
/// for stdout, so memory does not grow with the stream).
pub struct StreamWriter<W: io::Write = Vec<u8>> {
    format: OutputFormat,
    out: W,
    json_items: Vec<Value>,
    json_list: bool,
    written: usize,
    ends_with_newline: bool,
}

impl StreamWriter<Vec<u8>> {
    /// A writer producing `format` in memory.
    pub fn new(format: OutputFormat) -> Self {
        Self::with_sink(format, Vec::new())
    }
}

impl<W: io::Write> StreamWriter<W> {
    /// A writer producing `format` into `out`.
    pub fn with_sink(format: OutputFormat, out: W) -> Self {
        StreamWriter {
            format,
            out,
            json_items: Vec::new(),
            json_list: true,
            written: 0,
            ends_with_newline: true,
        }
    }

    /// JSON output as a stream of objects, one after another, instead of one `List` (to
    /// rewrite a JSON stream file in its own shape).
    pub fn json_stream(mut self) -> Self {
        self.json_list = false;
        self
    }

    fn write(&mut self, text: &str) -> io::Result<()> {
        if !text.is_empty() {
            self.out.write_all(text.as_bytes())?;
            self.ends_with_newline = text.ends_with('\n');
        }
        Ok(())
    }

    /// Adds one document, unchanged or replaced.
    pub fn push(&mut self, doc: &Document, emit: Emit) -> Result<(), StreamError> {
        let rendered = render(doc, emit, self.format)?;
        self.push_rendered(doc, rendered)
            .map_err(|source| StreamError::Read {
                name: "output".into(),
                source,
            })
    }

    /// Adds one document prepared by `render`.
    pub fn push_rendered(&mut self, doc: &Document, rendered: Rendered) -> io::Result<()> {
        match rendered {
            Rendered::Nothing => Ok(()),
            Rendered::Json(value) if !self.json_list => {
                // A stream of objects: written in order with the documents kept as text.
                let text = serde_json::to_string_pretty(&value).map_err(io::Error::other)?;
                self.write(&text)?;
                self.write("\n")
            }
            Rendered::Json(value) => {
                self.json_items.push(value);
                Ok(())
            }
            Rendered::JsonText(text) => {
                self.write(&text)?;
                self.write("\n")
            }
            Rendered::Names(names) => names.iter().try_for_each(|n| self.write(&format!("{n}\n"))),
            Rendered::Yaml(body) => {
                if !self.ends_with_newline {
                    self.write("\n")?;
                }
                let starts_with_marker = body.is_none() && is_marker(&doc.text, "---");
                match &doc.separator {
                    Some(sep) => self.write(sep)?,
                    None if self.written > 0 && !starts_with_marker => self.write("---\n")?,
                    None => {}
                }
                match body {
                    None => self.write(&doc.text)?,
                    Some(text) => self.write(&text)?,
                }
                self.written += 1;
                Ok(())
            }
        }
    }

    /// Finishes the output (writes the JSON object or List) and returns the writer.
    pub fn finish(mut self) -> io::Result<W> {
        if self.format == OutputFormat::Json && !self.json_list {
            for value in std::mem::take(&mut self.json_items) {
                let text = serde_json::to_string_pretty(&value).map_err(io::Error::other)?;
                self.write(&text)?;
                self.write("\n")?;
            }
        } else if self.format == OutputFormat::Json {
            let value = if self.json_items.len() == 1 {
                self.json_items.pop().unwrap_or(Value::Null)
            } else {
                serde_json::json!({"apiVersion": "v1", "kind": "List", "items": std::mem::take(&mut self.json_items)})
            };
            let text = serde_json::to_string_pretty(&value).map_err(io::Error::other)?;
            self.write(&text)?;
            self.write("\n")?;
        }
        Ok(self.out)
    }
}

/// `kind.group/name` for an object, or for each item of a List.
pub fn object_names(value: &Value) -> Vec<String> {
    let items = || {
        value
            .get("items")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
    };
    match super::process::list_of(value) {
        Some(None) => items().flat_map(object_names).collect(),
        // A typed list's items may leave their kind out.
        Some(Some(kind)) => items()
            .map(|item| {
                let name = item.pointer("/metadata/name").and_then(Value::as_str);
                format!("{}/{}", kind.object_prefix(), name.unwrap_or_default())
            })
            .collect(),
        None => vec![ObjectRef::of(value).qualified_name()],
    }
}

/// The identity of an object, for reports.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ObjectRef {
    /// `apiVersion`.
    #[serde(rename = "apiVersion")]
    pub api_version: String,
    /// `kind`.
    pub kind: String,
    /// `metadata.name` (empty when missing).
    pub name: String,
    /// `metadata.namespace`, when set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
}

impl ObjectRef {
    /// Reads the identity of `value`.
    pub fn of(value: &Value) -> Self {
        let s = |v: Option<&Value>| v.and_then(Value::as_str).unwrap_or_default().to_string();
        let meta = value.get("metadata");
        ObjectRef {
            api_version: s(value.get("apiVersion")),
            kind: s(value.get("kind")),
            name: s(meta.and_then(|m| m.get("name"))),
            namespace: meta
                .and_then(|m| m.get("namespace"))
                .and_then(Value::as_str)
                .map(str::to_string),
        }
    }

    /// `deployment.apps/web`, as `kubectl -o name` prints it.
    pub fn qualified_name(&self) -> String {
        let kind = self.kind.to_lowercase();
        match self.api_version.split_once('/') {
            Some((group, _)) => format!("{kind}.{group}/{}", self.name),
            None => format!("{kind}/{}", self.name),
        }
    }

    /// `deployment/web`, the short form used in reports.
    pub fn short_name(&self) -> String {
        format!("{}/{}", self.kind.to_lowercase(), self.name)
    }
}
