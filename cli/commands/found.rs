//! Files found in directories (`-f DIR`, `-R`): a real repository holds more than manifests
//! (`kustomization.yaml` without apiVersion, JSON 6902 patches, `Chart.yaml` and chart
//! templates, CI workflows). Those files are skipped and reported once each; kustomize patches
//! that hold a partial workload are passed through, never completed. A file named with
//! `-f FILE` is read as a manifest, as kubectl reads it: what is not one is an error there.

use serde_json::Value;

use crate::engine::partial::partial;
use crate::engine::process::{Action, ActionResult, ObjectError};
use crate::engine::stream::{Document, StreamError};
use kubectl_pattern_io::input::Documents;

/// What a found file holds.
pub enum Scan {
    /// Kubernetes objects (and blank documents): the documents, read.
    Manifest(Vec<Document>),
    /// Something else: why it is skipped.
    Skip(String),
}

/// Reads a found file's documents and tells whether it is a manifest. A document that parses
/// but is not an object with apiVersion and kind makes the whole file skipped; so does text
/// that does not parse and holds `{{` (a Helm or other template). Other parse errors stay
/// errors: a broken manifest must not go unnoticed.
pub fn scan(docs: Documents) -> Result<Scan, StreamError> {
    let docs: Vec<Document> = docs.collect::<Result<_, _>>()?;
    for doc in docs.iter().filter(|d| !d.is_blank()) {
        match doc.parse_object() {
            Ok(_) => {}
            Err(StreamError::NotAnObject {
                document, problem, ..
            }) => {
                return Ok(Scan::Skip(format!(
                    "not a Kubernetes object: document {document}: {problem}"
                )));
            }
            Err(StreamError::Parse { .. }) if doc.text.contains("{{") => {
                return Ok(Scan::Skip(
                    "a template ({{ … }}), not a manifest: render it first (helm template, or the Helm post-renderer)".into(),
                ));
            }
            Err(e) => return Err(e),
        }
    }
    Ok(Scan::Manifest(docs))
}

/// Runs an action on the objects of a found file, skipping partial workloads (patches).
pub struct SkipPartial<'a> {
    /// The action on whole objects.
    pub action: &'a dyn Action,
    /// The file, for the report.
    pub file: String,
}

impl Action for SkipPartial<'_> {
    fn run(&self, object: &mut Value) -> Result<ActionResult, ObjectError> {
        match partial(object) {
            Some((kind, missing)) => Ok(ActionResult {
                skipped: Some(format!(
                    "{}: a partial {} ({missing}), as in a kustomize patch; patterns go on the whole object it patches",
                    self.file,
                    kind.as_str()
                )),
                ..Default::default()
            }),
            None => self.action.run(object),
        }
    }
}
