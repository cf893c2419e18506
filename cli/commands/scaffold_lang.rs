//! `plugin new --lang`: the plugin project for each guest language. Rust is the crate of
//! `scaffold`; Python, JavaScript and C are the templates of plugins/scaffold-<lang>, each a
//! buildable project with its own build script, a README and a copy of the WIT contract.

use std::path::{Path, PathBuf};

use anyhow::Result;
use include_dir::{Dir, include_dir};

static PYTHON: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/plugins/scaffold-python");
static JS: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/plugins/scaffold-js");
static C: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/plugins/scaffold-c");
/// The C example's JSON helper, shared with plugins/c so both are tested.
const KP_JSON_H: &str = include_str!("../../plugins/c/lib/kp_json.h");
const KP_JSON_C: &str = include_str!("../../plugins/c/lib/kp_json.c");
const WIT: &str = include_str!("../../wit/plugin.wit");

/// The language of a new plugin.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Lang {
    /// A Rust crate using the plugin SDK (cargo, wasm32-wasip2).
    #[default]
    Rust,
    /// Python, built with componentize-py (Python >= 3.11).
    Python,
    /// JavaScript, built with componentize-js (Node.js >= 20).
    Js,
    /// C, built with clang's wasm32-wasi target, wit-bindgen and wasm-tools.
    C,
}

/// Writes the plugin project `name` in `lang` into `dir` (which must not exist or be empty)
/// and returns the next steps to print.
pub fn write(lang: Lang, name: &str, dir: &Path) -> Result<String> {
    let template = match lang {
        Lang::Rust => {
            super::scaffold::write(name, dir)?;
            return Ok(format!(
                "created {dir}\n  cd {dir}\n  cargo test && cargo build --release --target wasm32-wasip2\n  kubectl pattern plugin install .\n",
                dir = dir.display()
            ));
        }
        Lang::Python => &PYTHON,
        Lang::Js => &JS,
        Lang::C => &C,
    };
    super::scaffold::check_new(name, dir)?;
    let mut files: Vec<(PathBuf, &str)> = Vec::new();
    collect(template, &mut files);
    files.push(("wit/plugin.wit".into(), WIT));
    if lang == Lang::C {
        files.push(("kp_json.h".into(), KP_JSON_H));
        files.push(("kp_json.c".into(), KP_JSON_C));
    }
    for (rel, text) in files {
        let rel = PathBuf::from(rel.to_string_lossy().replace(".tmpl", ""));
        let path = dir.join(&rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&path, fill(text, name))?;
        if rel.extension().is_some_and(|e| e == "sh") {
            executable(&path)?;
        }
    }
    let dir = dir.display();
    Ok(format!(
        "created {dir}\n  cd {dir}\n  ./build.sh\n  kubectl pattern add --plugin {name}.wasm {name} -f deployment.yaml\n  kubectl pattern plugin install {name}.wasm\n(README.md says more)\n"
    ))
}

/// The template's text with the names filled in: `{{name}}` is the pattern id, `{{c_name}}`
/// the same as a C identifier.
fn fill(text: &str, name: &str) -> String {
    text.replace("{{name}}", name)
        .replace("{{c_name}}", &name.replace('-', "_"))
}

fn collect(dir: &'static Dir<'static>, out: &mut Vec<(PathBuf, &'static str)>) {
    for f in dir.files() {
        if let Some(text) = f.contents_utf8() {
            out.push((f.path().to_path_buf(), text));
        }
    }
    for d in dir.dirs() {
        collect(d, out);
    }
}

#[cfg(unix)]
fn executable(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755))
}

#[cfg(not(unix))]
fn executable(_: &Path) -> std::io::Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::fill;

    #[test]
    fn names_are_filled_in_as_id_and_c_identifier() {
        assert_eq!(
            fill("{{name}}.wasm exports_{{c_name}}", "my-pattern"),
            "my-pattern.wasm exports_my_pattern"
        );
    }
}
