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

/// The template's text with the pattern id filled in for `{{name}}`.
fn fill(text: &str, name: &str) -> String {
    text.replace("{{name}}", name)
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
    use super::{Lang, write};

    /// Every file of every guest scaffold: names filled in, build scripts executable.
    #[test]
    fn guest_scaffolds_have_no_placeholders_left() {
        for lang in [Lang::Python, Lang::Js, Lang::C] {
            let dir = tempfile::tempdir().unwrap();
            let project = dir.path().join("p");
            let next = write(lang, "my-pattern", &project).unwrap();
            assert!(
                next.contains("--plugin my-pattern.wasm my-pattern"),
                "{next}"
            );
            let mut stack = vec![project.clone()];
            let mut seen = 0;
            while let Some(d) = stack.pop() {
                for entry in std::fs::read_dir(&d).unwrap() {
                    let path = entry.unwrap().path();
                    if path.is_dir() {
                        stack.push(path);
                        continue;
                    }
                    seen += 1;
                    let text = std::fs::read_to_string(&path).unwrap();
                    assert!(
                        !text.contains("{{"),
                        "{lang:?}: {} keeps a placeholder",
                        path.display()
                    );
                    assert!(
                        !path.to_string_lossy().ends_with(".tmpl"),
                        "{}",
                        path.display()
                    );
                }
            }
            assert!(seen >= 5, "{lang:?}: only {seen} files");
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                let mode = std::fs::metadata(project.join("build.sh"))
                    .unwrap()
                    .permissions()
                    .mode();
                assert_eq!(mode & 0o111, 0o111, "{lang:?}: build.sh is not executable");
            }
            let readme = std::fs::read_to_string(project.join("README.md")).unwrap();
            assert!(readme.starts_with("# my-pattern\n"), "{readme}");
            // A second run refuses to write over the project.
            assert!(write(lang, "my-pattern", &project).is_err());
        }
    }

    #[test]
    fn the_js_lock_file_names_the_package() {
        let dir = tempfile::tempdir().unwrap();
        write(Lang::Js, "my-pattern", dir.path()).unwrap();
        let manifest: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(dir.path().join("package.json")).unwrap(),
        )
        .unwrap();
        let lock: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(dir.path().join("package-lock.json")).unwrap(),
        )
        .unwrap();
        assert_eq!(manifest["name"], "my-pattern");
        assert_eq!(lock["name"], "my-pattern");
        // npm ci refuses a lock whose root dependencies differ from package.json's.
        assert_eq!(
            lock["packages"][""]["devDependencies"],
            manifest["devDependencies"]
        );
    }
}
