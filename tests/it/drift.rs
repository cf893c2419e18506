//! Drift in `status`, on the binary: a helper edited by hand since the tool wrote it, and an
//! instance of an older pattern version than the catalogue's (a user template bumped from
//! 1.0.0 to 1.1.0); `add` re-renders both in place, after which `status` is clean.

use std::path::Path;

use serde_json::Value;

const APP: &str = "\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      containers:
        - name: web
          image: registry.example.com/shop/web:2.0.1
";

/// Runs the binary with `XDG_CONFIG_HOME=config`; (stdout, stderr), asserting success.
fn run(config: &Path, args: &[&str], file: &Path) -> (String, String) {
    let out = crate::common::bin()
        .env("XDG_CONFIG_HOME", config)
        .args(args)
        .arg("-f")
        .arg(file)
        .assert()
        .success()
        .get_output()
        .clone();
    (
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

#[test]
fn status_reports_a_hand_edited_helper_and_add_re_renders_it() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("web.yaml");
    std::fs::write(&file, APP).unwrap();
    let config = dir.path().join("config");
    run(&config, &["add", "log-shipper", "--in-place", "-q"], &file);
    let (clean, _) = run(&config, &["status"], &file);
    assert!(!clean.contains("edited"), "{clean}");

    // Someone bumps the helper's image by hand.
    let written = std::fs::read_to_string(&file).unwrap();
    let edited = written.replace("fluent-bit:3.2.4", "fluent-bit:3.2.9");
    assert_ne!(edited, written);
    std::fs::write(&file, &edited).unwrap();
    let (status, _) = run(&config, &["status"], &file);
    assert!(
        status.contains("log-shipper: edited by hand since kubectl-pattern wrote it (log-shipper, log-shipper-logs, log-shipper-state no longer match the record): `kubectl pattern add log-shipper` with the same --set values re-renders it, dropping the edits (on a live object add --force-conflicts: the edit made its editor the owner of those fields)"),
        "{status}"
    );
    let (json, _) = run(&config, &["status", "-o", "json"], &file);
    let reports: Value = serde_json::from_str(&json).unwrap();
    let warnings = reports[0]["warnings"].as_array().unwrap();
    assert_eq!(warnings.len(), 1, "{json}");

    // `add` puts back what the pattern renders: the same bytes as first written.
    let (_, stderr) = run(&config, &["add", "log-shipper", "--in-place"], &file);
    assert!(stderr.contains("updated"), "{stderr}");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), written);
    let (status, _) = run(&config, &["status"], &file);
    assert!(!status.contains("edited"), "{status}");
}

/// Writes the user template `hello` at `version`, with busybox `tag`.
fn hello(config: &Path, version: &str, tag: &str) {
    let dir = config.join("kubectl-pattern/templates/hello");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("pattern.yaml"),
        format!("apiVersion: kubectl-pattern/v1\nkind: Pattern\nmetadata: {{name: hello}}\nspec:\n  type: init\n  version: {version}\n  summary: Say hello first\n  description: d\n  useWhen: u\n  avoidWhen: a\n  diagram: x\n  params: []\n"),
    )
    .unwrap();
    std::fs::write(
        dir.join("contribution.yaml.hbs"),
        format!("initContainers:\n- name: {{{{instance}}}}\n  image: busybox:{tag}\n  command: [echo, hello]\n"),
    )
    .unwrap();
}

#[test]
fn status_reports_an_outdated_instance_and_add_re_renders_it() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config");
    hello(&config, "1.0.0", "1.36.1");
    let file = dir.path().join("web.yaml");
    std::fs::write(&file, APP).unwrap();
    run(&config, &["add", "hello", "--in-place", "-q"], &file);
    let (status, _) = run(&config, &["status"], &file);
    assert!(!status.contains("outdated"), "{status}");

    hello(&config, "1.1.0", "1.37.0");
    let (status, _) = run(&config, &["status"], &file);
    assert!(
        status.contains("hello: outdated: 1.0.0 → 1.1.0 (pattern hello): `kubectl pattern add hello` with the same --set values re-renders it in place"),
        "{status}"
    );

    let (_, stderr) = run(
        &config,
        &["add", "hello", "--in-place", "--report", "json"],
        &file,
    );
    let report: Value = serde_json::from_str(stderr.trim()).unwrap();
    let pattern = &report[0]["patterns"][0];
    assert_eq!(pattern["action"], "updated", "{stderr}");
    assert_eq!(pattern["version"], "1.1.0", "{stderr}");
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(
        text.contains("busybox:1.37.0") && !text.contains("busybox:1.36.1"),
        "{text}"
    );
    assert_eq!(
        text.matches("name: hello").count(),
        1,
        "re-rendered in place: {text}"
    );
    let (status, _) = run(&config, &["status"], &file);
    assert!(!status.contains("outdated"), "{status}");
}

/// Live objects: the server fills in defaults the tool never wrote (the fake server fills in
/// those the recorded 1.36 server did: `live_findings`), which are not edits; a hand edit of
/// the stored helper is, and `add` re-renders it.
#[cfg(feature = "cluster")]
#[test]
fn status_on_a_live_object_tells_server_defaults_from_a_hand_edit() {
    use crate::common::live::{Live, run as run_live};
    let live = Live::with_web();
    let status = || run_live(live.cmd().args(["status", "deploy/web", "-n", "shop"]));
    let (code, _, err) =
        run_live(
            live.cmd()
                .args(["add", "log-shipper", "deploy/web", "-n", "shop"]),
        );
    assert_eq!(code, 0, "{err}");
    let stored = live.api.get("shop", "web");
    let helper = &stored["spec"]["template"]["spec"]["initContainers"][0];
    assert_eq!(
        helper["terminationMessagePath"], "/dev/termination-log",
        "{helper}"
    );
    let (code, clean, err) = status();
    assert_eq!(code, 0, "{err}");
    assert!(clean.contains("log-shipper"), "{clean}");
    assert!(!clean.contains("edited"), "{clean}");

    // `kubectl edit` of the helper's image.
    let mut edited = stored.clone();
    let image = &mut edited["spec"]["template"]["spec"]["initContainers"][0]["image"];
    *image = Value::from(image.as_str().unwrap().replace("3.2.4", "3.2.9"));
    live.api.insert(edited);
    let (code, out, err) = status();
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("log-shipper: edited by hand since kubectl-pattern wrote it"),
        "{out}"
    );

    // The edit made its editor the owner of the image: re-rendering must take it over.
    let add = ["add", "log-shipper", "deploy/web", "-n", "shop"];
    let (code, _, err) = run_live(live.cmd().args(add));
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("initContainers[name=\"log-shipper\"].image (owned by"),
        "{err}"
    );
    let (code, out, err) = run_live(live.cmd().args(add).arg("--force-conflicts"));
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("updated"), "{out}");
    let helper = &live.api.get("shop", "web")["spec"]["template"]["spec"]["initContainers"][0];
    assert!(
        helper["image"].as_str().unwrap().ends_with(":3.2.4"),
        "{helper}"
    );
    let (_, clean, _) = status();
    assert!(!clean.contains("edited"), "{clean}");
}
