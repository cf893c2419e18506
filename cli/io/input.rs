//! Manifest inputs: `-f` files, directories (`-R`) and stdin, opened and handed to the engine's
//! stream splitter.

use std::io::{self, BufRead};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use kubectl_pattern_engine::stream::{self, Document, StreamError};

/// Where documents come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// Standard input (`-f -`, or a pipe with no `-f`).
    Stdin,
    /// A file named with `-f FILE`.
    File(PathBuf),
    /// A file found in a directory given with `-f DIR` (with or without `-R`): it may well be
    /// something else than a manifest (a `kustomization.yaml`, a patch, `Chart.yaml`, a CI
    /// workflow), so the caller skips what is not a Kubernetes object.
    Found(PathBuf),
    /// Text another program produced (`-k DIR`: the kustomize build), named for messages.
    Generated {
        /// How messages name it, e.g. `kustomize build overlays/prod`.
        name: String,
        /// The manifests.
        text: Arc<str>,
    },
}

impl Input {
    /// How the input is named in messages.
    pub fn display_name(&self) -> String {
        match self {
            Input::Stdin => "<stdin>".to_string(),
            Input::File(p) | Input::Found(p) => p.display().to_string(),
            Input::Generated { name, .. } => name.clone(),
        }
    }

    /// The file, unless stdin or generated text.
    pub fn path(&self) -> Option<&Path> {
        match self {
            Input::Stdin | Input::Generated { .. } => None,
            Input::File(p) | Input::Found(p) => Some(p),
        }
    }
}

/// The documents of one input, read lazily.
pub type Documents = Box<dyn Iterator<Item = Result<Document, StreamError>>>;

/// Opens one input and splits it into documents.
pub fn read_input(input: &Input) -> Result<Documents, StreamError> {
    let name: Arc<str> = Arc::from(input.display_name());
    let read_err = |source| StreamError::Read {
        name: name.to_string(),
        source,
    };
    let reader: Box<dyn BufRead> = match input {
        Input::Stdin => Box::new(io::BufReader::with_capacity(1 << 16, io::stdin())),
        Input::File(path) | Input::Found(path) => {
            let file = std::fs::File::open(path).map_err(read_err)?;
            if file.metadata().map(|m| m.is_dir()).unwrap_or(false) {
                return Err(read_err(io::Error::other(
                    "is a directory (use -R to read directories)",
                )));
            }
            Box::new(io::BufReader::with_capacity(1 << 16, file))
        }
        Input::Generated { text, .. } => Box::new(io::Cursor::new(text.as_bytes().to_vec())),
    };
    stream::split(reader, name)
}

/// Expands `-f` arguments: `-` is stdin, directories give their `.yaml`, `.yml` and `.json`
/// files in name order (and those of sub-directories with `recursive`).
pub fn expand_inputs(args: &[String], recursive: bool) -> Result<Vec<Input>, StreamError> {
    let mut inputs = Vec::new();
    for arg in args {
        if arg == "-" {
            inputs.push(Input::Stdin);
            continue;
        }
        let path = PathBuf::from(arg);
        let meta = std::fs::metadata(&path).map_err(|source| StreamError::Read {
            name: arg.clone(),
            source,
        })?;
        if meta.is_dir() {
            collect_dir(&path, recursive, &mut inputs)?;
        } else {
            inputs.push(Input::File(path));
        }
    }
    Ok(inputs)
}

fn collect_dir(dir: &Path, recursive: bool, out: &mut Vec<Input>) -> Result<(), StreamError> {
    let err = |source| StreamError::Read {
        name: dir.display().to_string(),
        source,
    };
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(err)?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<_, _>>()
        .map_err(err)?;
    entries.sort();
    for path in entries {
        if path.is_dir() {
            if recursive {
                collect_dir(&path, recursive, out)?;
            }
        } else if matches!(
            path.extension().and_then(|e| e.to_str()),
            Some("yaml" | "yml" | "json")
        ) {
            out.push(Input::Found(path));
        }
    }
    Ok(())
}
