//! The SDK generates its bindings from its own copy of the WIT package (`wit/plugin.wit`, so
//! the crate builds wherever it is copied); in the kubectl-pattern repository that copy must
//! equal the canonical `wit/plugin.wit` at the repository's root.

use std::path::Path;

#[test]
fn wit_copy_matches_the_repository() {
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    let canonical = here.join("../../wit/plugin.wit");
    let copy = here.join("wit/plugin.wit");
    let copy_text = std::fs::read_to_string(&copy).expect("the SDK's wit/plugin.wit");
    assert!(
        copy_text.contains("world pattern-plugin"),
        "{} is not the plugin WIT",
        copy.display()
    );
    // Outside the repository (a generated plugin's sdk/) there is nothing to compare with;
    // inside it, the canonical WIT must be there.
    let root_manifest = std::fs::read_to_string(here.join("../../Cargo.toml")).unwrap_or_default();
    if !root_manifest.contains("name = \"kubectl-pattern\"") {
        return;
    }
    let canonical_text = std::fs::read_to_string(&canonical).unwrap_or_else(|e| {
        panic!(
            "the repository's canonical {} is missing ({e}): the SDK's copy cannot be checked",
            canonical.display()
        )
    });
    assert!(
        canonical_text == copy_text,
        "plugins/sdk/wit/plugin.wit differs from wit/plugin.wit: run `cp wit/plugin.wit plugins/sdk/wit/`"
    );
}
