//! Every built-in pattern applied to every workload kind validates against the real
//! Kubernetes 1.37 schemas (the PyPI `kubernetes-validate`, strict mode).

use kubectl_pattern::engine::catalogue::Catalogue;
use kubectl_pattern::engine::workload::WorkloadKind;

fn check_all(extra: &[&str], label: &str) {
    let dir = tempfile::tempdir().unwrap();
    let catalogue = Catalogue::builtin();
    assert!(
        catalogue.patterns().len() >= 12,
        "expected at least 12 built-in patterns"
    );
    assert!(
        catalogue.broken().is_empty(),
        "broken built-ins: {:?}",
        catalogue.broken()
    );
    for pattern in catalogue.patterns() {
        let id = &pattern.spec().id;
        let docs: Vec<_> = WorkloadKind::ALL
            .iter()
            .map(|k| crate::common::workload(*k, &format!("{id}-{}", k.as_str().to_lowercase())))
            .collect();
        let input = dir.path().join(format!("{id}-in.yaml"));
        crate::common::write_yaml(&input, &docs);
        let mut cmd = crate::common::bin();
        cmd.arg("add")
            .arg(id)
            .arg("-f")
            .arg(&input)
            .arg("-q")
            .args(extra);
        for set in crate::common::required_sets(pattern.as_ref()) {
            cmd.arg("--set").arg(set);
        }
        let out = cmd.assert().success().get_output().stdout.clone();
        let output = dir.path().join(format!("{id}-{label}.yaml"));
        std::fs::write(&output, &out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert_eq!(
            text.matches("pattern.kubectl.io/applied").count(),
            WorkloadKind::ALL.len(),
            "{id}: every kind patched"
        );
        crate::common::validate(&output);
    }
}

#[test]
fn every_builtin_on_every_kind_validates_with_native_sidecars() {
    check_all(&[], "native");
}

#[test]
fn every_builtin_on_every_kind_validates_with_classic_sidecars() {
    check_all(&["--sidecar-mode", "classic"], "classic");
}
