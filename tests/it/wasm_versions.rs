//! Plugins of both contract versions: a plugin built against the frozen 0.1.0
//! (plugins/examples/legacy-v01, wit-bindgen alone) and one built against 0.2.0 (the Python
//! example) applied together in one `add`, with 0.1's "*" container target and string version.

use crate::common::plugins::{bin, python, run_ok, wasm};

/// Two app containers, so "every app container" and "the main one" differ.
const TWO_CONTAINERS: &str = "\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: shop
spec:
  selector:
    matchLabels:
      app: shop
  template:
    metadata:
      labels:
        app: shop
    spec:
      containers:
        - name: app
          image: registry.example.com/shop:1.4.2
          resources:
            requests:
              cpu: 100m
              memory: 128Mi
            limits:
              memory: 256Mi
        - name: worker
          image: registry.example.com/shop-worker:1.4.2
          resources:
            requests:
              cpu: 50m
              memory: 64Mi
            limits:
              memory: 128Mi
";

#[test]
fn a_01_plugin_and_a_02_plugin_in_one_add() {
    let home = tempfile::tempdir().unwrap();
    let legacy = wasm("legacy-v01");
    let current = python("py-log-tail");
    for (plugin, interface) in [
        (&legacy, "kubectl-pattern:plugin/pattern@0.1.0"),
        (&current, "kubectl-pattern:plugin/pattern@0.2.0"),
    ] {
        let inspect = run_ok(bin(home.path()).args(["plugin", "inspect"]).arg(plugin));
        assert!(
            inspect.contains(&format!("wit:     {interface}")),
            "{}: {inspect}",
            plugin.display()
        );
    }
    let input = home.path().join("shop.yaml");
    std::fs::write(&input, TWO_CONTAINERS).unwrap();
    let out = run_ok(
        bin(home.path())
            .args(["add", "-q", "legacy-v01", "py-log-tail", "--plugin"])
            .arg(&legacy)
            .arg("--plugin")
            .arg(&current)
            .args(["--kube-version", "1.37", "--set", "legacy-v01.greeting=hi"])
            .arg("-f")
            .arg(&input),
    );
    let file = home.path().join("out.yaml");
    std::fs::write(&file, &out).unwrap();
    crate::common::validate(&file);
    insta::assert_snapshot!("wasm-versions-01-and-02", out);
}
