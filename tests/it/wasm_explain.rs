//! A plugin's examples (WIT 0.2 `pattern-info.examples`) feed the same `PatternSpec.examples`
//! as a template's, so `explain PLUGIN` shows an example command with them.

use crate::common::plugins::{bin, run_ok, wasm};

#[test]
fn explain_shows_a_plugins_example_command() {
    let home = tempfile::tempdir().unwrap();
    // vault-agent's required parameters (address, role) get its example values, where a
    // plugin without examples shows `--set address=…`. db-proxy's example (of an optional
    // parameter) passes the same check when it loads.
    for (crate_name, id, command) in [
        (
            "vault-agent",
            "vault-agent",
            "kubectl pattern add vault-agent --set address=https://vault.example.com:8200 --set role=web -f deploy.yaml",
        ),
        (
            "db-proxy",
            "db-proxy",
            "kubectl pattern add db-proxy -f deploy.yaml",
        ),
    ] {
        let explain = run_ok(
            bin(home.path())
                .args(["explain", "--plugin"])
                .arg(wasm(crate_name))
                .arg(id),
        );
        let example = explain
            .split_once("\nEXAMPLE\n")
            .map(|(_, rest)| rest.lines().next().unwrap_or_default().trim())
            .unwrap_or_else(|| panic!("{id}: no EXAMPLE section\n{explain}"));
        assert_eq!(example, command, "{id}");
    }
    // The same section as a template's.
    let template = run_ok(bin(home.path()).args(["explain", "log-shipper"]));
    assert!(template.contains("\nEXAMPLE\n  kubectl pattern add log-shipper"));
}
