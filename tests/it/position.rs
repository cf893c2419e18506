//! `--position` on the binary: where init containers (wait-for) and native sidecars
//! (redis-proxy) go among the app's own init containers, the default (helpers first), the
//! position kept in the tracking record across re-runs, and a bad anchor refused.

use std::path::Path;

use serde_json::Value;

/// A Deployment with three init containers of its own.
const APP: &str = "\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
  namespace: shop
spec:
  selector:
    matchLabels:
      app: api
  template:
    metadata:
      labels:
        app: api
    spec:
      initContainers:
        - name: setup
          image: busybox:1.36.1
          command: [sh, -c, 'true']
        - name: migrate
          image: registry.example.com/shop/api:1.4.2
          args: [migrate]
        - name: seed
          image: registry.example.com/shop/api:1.4.2
          args: [seed]
      containers:
        - name: api
          image: registry.example.com/shop/api:1.4.2
          ports:
            - name: http
              containerPort: 8080
";

fn write(dir: &Path, text: &str) -> std::path::PathBuf {
    let path = dir.join("api.yaml");
    std::fs::write(&path, text).unwrap();
    path
}

/// `add` on `file` with `args`; the output text.
fn add(file: &Path, args: &[&str]) -> String {
    let out = crate::common::bin()
        .arg("add")
        .args(args)
        .arg("-q")
        .arg("-f")
        .arg(file)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    String::from_utf8(out).unwrap()
}

fn doc(text: &str) -> Value {
    kubectl_pattern::engine::yaml::from_str(text).unwrap()
}

fn init_names(text: &str) -> Vec<String> {
    doc(text)["spec"]["template"]["spec"]["initContainers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap().to_string())
        .collect()
}

/// The `position` field of the record of `instance`.
fn recorded_position(text: &str, instance: &str) -> Option<String> {
    let annotation =
        doc(text)["spec"]["template"]["metadata"]["annotations"]["pattern.kubectl.io/applied"]
            .as_str()
            .unwrap()
            .to_string();
    let records: Value = serde_json::from_str(&annotation).unwrap();
    let record = records["instances"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["instance"] == instance)
        .unwrap()
        .clone();
    record["position"].as_str().map(str::to_string)
}

const WAIT_FOR: [&str; 3] = ["wait-for", "--set", "host=db.shop.svc.cluster.local"];
const REDIS: [&str; 3] = ["redis-proxy", "--set", "servers=redis.cache.svc:6379"];

#[test]
fn wait_for_goes_first_by_default_and_records_no_position() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), APP);
    let out = add(&file, &WAIT_FOR);
    assert_eq!(init_names(&out), ["wait-for", "setup", "migrate", "seed"]);
    assert_eq!(recorded_position(&out, "wait-for"), None);
}

#[test]
fn each_position_places_init_containers_and_native_sidecars() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), APP);
    let cases: [(&str, [&str; 4]); 4] = [
        ("first", ["HELPER", "setup", "migrate", "seed"]),
        ("last", ["setup", "migrate", "seed", "HELPER"]),
        ("before:seed", ["setup", "migrate", "HELPER", "seed"]),
        ("after:setup", ["setup", "HELPER", "migrate", "seed"]),
    ];
    for pattern in [&WAIT_FOR[..], &REDIS[..]] {
        let helper = pattern[0];
        for (position, want) in cases {
            let out = add(&file, &[pattern, &["--position", position]].concat());
            let want: Vec<&str> = want
                .iter()
                .map(|n| if *n == "HELPER" { helper } else { n })
                .collect();
            assert_eq!(init_names(&out), want, "{helper} --position {position}");
            assert_eq!(
                recorded_position(&out, helper).as_deref(),
                Some(position),
                "{helper} --position {position}"
            );
            let init = doc(&out)["spec"]["template"]["spec"]["initContainers"].clone();
            let placed = init
                .as_array()
                .unwrap()
                .iter()
                .find(|c| c["name"] == helper)
                .unwrap()
                .clone();
            // redis-proxy is a native sidecar, wait-for a plain init container.
            let native = placed["restartPolicy"] == "Always";
            assert_eq!(native, helper == "redis-proxy", "{placed}");
            let path = dir
                .path()
                .join(format!("{helper}-{}.yaml", position.replace(':', "-")));
            std::fs::write(&path, &out).unwrap();
            crate::common::validate(&path);
        }
    }
}

#[test]
fn a_re_run_keeps_the_recorded_position_and_a_new_one_moves_the_helper() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), APP);
    let placed = add(
        &file,
        &[&WAIT_FOR[..], &["--position", "after:migrate"]].concat(),
    );
    assert_eq!(
        init_names(&placed),
        ["setup", "migrate", "wait-for", "seed"]
    );
    std::fs::write(&file, &placed).unwrap();

    // Updated without --position: it stays, and the record keeps the position.
    let updated = add(
        &file,
        &["wait-for", "--set", "host=db2.shop.svc.cluster.local"],
    );
    assert_eq!(
        init_names(&updated),
        ["setup", "migrate", "wait-for", "seed"]
    );
    assert!(updated.contains("db2.shop.svc.cluster.local"), "{updated}");
    assert_eq!(
        recorded_position(&updated, "wait-for").as_deref(),
        Some("after:migrate")
    );
    // A second pattern after it takes the default and does not disturb it.
    std::fs::write(&file, &updated).unwrap();
    let both = add(&file, &REDIS);
    assert_eq!(
        init_names(&both),
        ["setup", "migrate", "wait-for", "redis-proxy", "seed"]
    );

    // A new position moves the helper and replaces the record's.
    std::fs::write(&file, &updated).unwrap();
    let moved = add(&file, &[&WAIT_FOR[..], &["--position", "first"]].concat());
    assert_eq!(init_names(&moved), ["wait-for", "setup", "migrate", "seed"]);
    assert_eq!(
        recorded_position(&moved, "wait-for").as_deref(),
        Some("first")
    );
}

#[test]
fn a_position_naming_no_init_container_is_refused_with_the_candidates() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), APP);
    let out = crate::common::bin()
        .args([
            "add",
            "wait-for",
            "--set",
            "host=db",
            "--position",
            "before:migrat",
        ])
        .arg("-f")
        .arg(&file)
        .assert()
        .failure()
        .get_output()
        .clone();
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains(r#"--position before:migrat: the pod has no init container "migrat" (init containers: setup, migrate, seed)"#),
        "{err}"
    );
    assert!(out.stdout.is_empty());
    // A malformed value is a usage error.
    crate::common::bin()
        .args([
            "add",
            "wait-for",
            "--set",
            "host=db",
            "--position",
            "middle",
        ])
        .arg("-f")
        .arg(&file)
        .assert()
        .code(2)
        .stderr(predicates::str::contains(
            "expected first, last, before:NAME or after:NAME",
        ));
}
