//! Golden snapshots: each built-in pattern on the sample Deployment (docs/examples/web.yaml).

use kubectl_pattern::engine::catalogue::Catalogue;

#[test]
fn each_builtin_on_the_sample_deployment() {
    let example = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/examples/web.yaml");
    for pattern in Catalogue::builtin().patterns() {
        let id = &pattern.spec().id;
        let mut cmd = crate::common::bin();
        cmd.args(["add", id, "-f", example]);
        for set in crate::common::required_sets(pattern.as_ref()) {
            cmd.arg("--set").arg(set);
        }
        let out = cmd.assert().success().get_output().clone();
        let stdout = String::from_utf8(out.stdout).unwrap();
        let stderr = String::from_utf8(out.stderr).unwrap();
        insta::assert_snapshot!(
            format!("add-{id}"),
            format!("# stderr:\n{stderr}---\n{stdout}")
        );
    }
}

#[test]
fn explain_every_builtin() {
    for pattern in Catalogue::builtin().patterns() {
        let id = &pattern.spec().id;
        let out = crate::common::bin()
            .args(["explain", id])
            .assert()
            .success()
            .get_output()
            .stdout
            .clone();
        let text = String::from_utf8(out).unwrap();
        for section in [
            "WHAT IT DOES",
            "USE IT WHEN",
            "AVOID IT WHEN",
            "DIAGRAM",
            "PARAMETERS",
            "EXAMPLE",
        ] {
            assert!(text.contains(section), "{id}: no {section}");
        }
        insta::assert_snapshot!(format!("explain-{id}"), text);
    }
}
