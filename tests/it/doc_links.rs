//! The README's and the docs' relative links point at files of this repository (a link out of
//! the checkout, like `../shared/…`, is broken for everyone else).

use std::path::{Path, PathBuf};

/// The targets of `[text](target)` links in `markdown`.
fn links(markdown: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = markdown;
    while let Some(at) = rest.find("](") {
        let after = &rest[at + 2..];
        let Some(end) = after.find(')') else { break };
        out.push(after[..end].to_string());
        rest = &after[end..];
    }
    out
}

#[test]
fn relative_links_stay_inside_the_repository() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let root = std::fs::canonicalize(root).unwrap();
    let mut files: Vec<PathBuf> = vec![
        root.join("README.md"),
        root.join("plugins/scaffold/README.md"),
    ];
    for entry in std::fs::read_dir(root.join("docs")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "md") {
            files.push(path);
        }
    }
    let mut checked = 0;
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        for link in links(&text) {
            if link.contains("://") || link.starts_with('#') || link.starts_with("mailto:") {
                continue;
            }
            let path = link.split('#').next().unwrap_or_default();
            let target = file.parent().unwrap().join(path);
            let resolved = std::fs::canonicalize(&target)
                .unwrap_or_else(|e| panic!("{}: link {link:?}: {e}", file.display()));
            assert!(
                resolved.starts_with(&root),
                "{}: link {link:?} leaves the repository",
                file.display()
            );
            checked += 1;
        }
    }
    assert!(checked > 10, "only {checked} links found");
    assert_eq!(links("see [a](docs/a.md) and [b](#x)"), ["docs/a.md", "#x"]);
}
