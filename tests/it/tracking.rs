//! The tracking annotation across versions: objects written by the unversioned format (the JSON
//! array of records, kept as fixtures under `fixtures/tracking-v1/`) stay readable forever —
//! `status` lists their instances and `remove` restores the original object — and a new `add`
//! writes the versioned format.

use std::path::PathBuf;

use serde_json::Value;

const TRACKING: &str = "pattern.kubectl.io/applied";

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/it/fixtures/tracking-v1")
        .join(name)
}

fn read(name: &str) -> String {
    std::fs::read_to_string(fixture(name)).unwrap()
}

/// Runs the binary on a fixture; returns (stdout, stderr).
fn run(args: &[&str], file: &str) -> (String, String) {
    let out = crate::common::bin()
        .args(args)
        .arg("-f")
        .arg(fixture(file))
        .assert()
        .success()
        .get_output()
        .clone();
    (
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

fn documents(text: &str) -> Vec<Value> {
    text.split("\n---\n")
        .filter(|d| !d.trim().is_empty())
        .map(|d| kubectl_pattern::engine::yaml::from_str(d).unwrap())
        .collect()
}

/// The tracking annotation of the first document's pod template.
fn annotation(text: &str) -> String {
    let doc = &documents(text)[0];
    let template = match doc["kind"].as_str().unwrap() {
        "Pod" => doc.clone(),
        "CronJob" => doc["spec"]["jobTemplate"]["spec"]["template"].clone(),
        _ => doc["spec"]["template"].clone(),
    };
    template["metadata"]["annotations"][TRACKING]
        .as_str()
        .unwrap()
        .to_string()
}

/// (applied fixture, instances to remove, original fixture, expected `status` lines)
const CASES: [(&str, &[&str], &str, &str); 4] = [
    (
        "web.log-shipper.yaml",
        &["log-shipper"],
        "web.original.yaml",
        // Recorded by log-shipper 1.0.0; the catalogue has a newer one.
        "deployment/web: log-shipper v1.0.0 (container log-shipper, volume log-shipper-logs, volume log-shipper-state, mount /var/log/app on web)\n  warning log-shipper: outdated: 1.0.0 → 1.1.0 (pattern log-shipper): `kubectl pattern add log-shipper` with the same --set values re-renders it in place\nservice/web: skipped (Service has no pod template)\n",
    ),
    (
        "shop.wait-for.redis-proxy.yaml",
        &["wait-for", "redis-proxy"],
        "shop.original.yaml",
        "deployment/shop: wait-for v1.0.0 (init container wait-for); redis-proxy v1.0.0 (container redis-proxy, volume redis-proxy-config, env REDIS_HOST on worker, env REDIS_PORT on worker)\n",
    ),
    (
        "pod.prometheus-exporter.yaml",
        &["prometheus-exporter"],
        "pod.original.yaml",
        "pod/metrics: prometheus-exporter v1.0.0 (container prometheus-exporter, env STATSD_HOST on app, env STATSD_PORT on app, annotation prometheus.io/path, annotation prometheus.io/port, annotation prometheus.io/scrape)\n",
    ),
    (
        "cronjob.git-clone.yaml",
        &["git-clone"],
        "cronjob.original.yaml",
        "cronjob/nightly: git-clone v1.0.0 (init container git-clone, volume git-clone-repo, volume git-clone-tmp, mount /git on report)\n  warning git-clone: outdated: 1.0.0 → 1.0.1 (pattern git-clone): `kubectl pattern add git-clone` with the same --set values re-renders it in place\n",
    ),
];

#[test]
fn the_fixtures_are_in_the_unversioned_format() {
    for (applied, ..) in CASES {
        let text = annotation(&read(applied));
        assert!(text.starts_with("[{\"pattern\":"), "{applied}: {text}");
    }
}

#[test]
fn status_lists_the_instances_of_the_unversioned_format() {
    for (applied, _, _, status) in CASES {
        let (stdout, _) = run(&["status"], applied);
        assert_eq!(stdout, status, "{applied}");
    }
}

#[test]
fn remove_restores_the_original_from_the_unversioned_format() {
    for (applied, instances, original, _) in CASES {
        let args: Vec<&str> = ["remove"].iter().chain(instances).copied().collect();
        let (stdout, _) = run(&args, applied);
        assert_eq!(stdout, read(original), "{applied}");
        assert_eq!(documents(&stdout), documents(&read(original)), "{applied}");
    }
}

#[test]
fn removing_one_of_two_instances_keeps_the_other_listed() {
    let (stdout, _) = run(&["remove", "wait-for"], "shop.wait-for.redis-proxy.yaml");
    let doc = &documents(&stdout)[0];
    let inits: Vec<&str> = doc["spec"]["template"]["spec"]["initContainers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(inits, ["redis-proxy"]);
    let status = crate::common::bin()
        .arg("status")
        .write_stdin(stdout)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    assert_eq!(
        String::from_utf8(status).unwrap(),
        "deployment/shop: redis-proxy v1.0.0 (container redis-proxy, volume redis-proxy-config, env REDIS_HOST on worker, env REDIS_PORT on worker)\n"
    );
}

fn records(annotation: &str) -> Vec<Value> {
    let value: Value = serde_json::from_str(annotation).unwrap();
    match value {
        Value::Array(items) => items,
        other => {
            assert_eq!(other["version"], 2, "{other}");
            other["instances"].as_array().unwrap().clone()
        }
    }
}

/// The records without the pattern's version and parameters' hash (the fixture was written by
/// log-shipper 1.0.0; a later version declares more parameters), and the versions.
fn unversioned(records: Vec<Value>) -> (Vec<Value>, Vec<String>) {
    let mut versions = Vec::new();
    let records = records
        .into_iter()
        .map(|mut r| {
            let map = r.as_object_mut().unwrap();
            versions.push(map["version"].as_str().unwrap().to_string());
            map.shift_remove("version");
            assert!(map.shift_remove("paramsHash").is_some());
            r
        })
        .collect();
    (records, versions)
}

/// The version of `pattern` this build ships.
fn shipped_version(pattern: &str) -> String {
    kubectl_pattern::engine::catalogue::Catalogue::builtin()
        .patterns()
        .iter()
        .find(|p| p.spec().id == pattern)
        .unwrap()
        .spec()
        .version
        .clone()
}

#[test]
fn a_new_add_writes_the_versioned_format() {
    let (stdout, _) = run(&["add", "log-shipper"], "web.original.yaml");
    let text = annotation(&stdout);
    assert!(
        text.starts_with(r#"{"version":2,"instances":[{"pattern":"log-shipper","#),
        "{text}"
    );
    // The same record as the unversioned fixture holds, but for the pattern's version, plus
    // the content hash (new since).
    let mut written = records(&text);
    let hash = written[0]
        .as_object_mut()
        .unwrap()
        .shift_remove("contentHash")
        .unwrap();
    assert!(hash.as_str().unwrap().starts_with("sha256:"), "{hash}");
    let (mine, versions) = unversioned(written);
    let (fixture, _) = unversioned(records(&annotation(&read("web.log-shipper.yaml"))));
    assert_eq!(mine, fixture);
    assert_eq!(versions, [shipped_version("log-shipper")]);
}

#[test]
fn re_adding_on_the_unversioned_format_changes_only_the_record() {
    let (stdout, stderr) = run(&["add", "log-shipper"], "web.log-shipper.yaml");
    let before = read("web.log-shipper.yaml");
    assert_ne!(
        shipped_version("log-shipper"),
        "1.0.0",
        "the fixture's version"
    );
    // A newer log-shipper: the helpers are recognised (nothing added twice); only the record's
    // line changes, to the versioned format with the new version.
    assert!(
        stderr.contains("deployment/web: updated log-shipper"),
        "{stderr}"
    );
    let changed: Vec<(&str, &str)> = before
        .lines()
        .zip(stdout.lines())
        .filter(|(a, b)| a != b)
        .collect();
    assert_eq!(before.lines().count(), stdout.lines().count(), "{stdout}");
    assert_eq!(changed.len(), 1, "{changed:?}");
    assert!(changed[0].0.contains(TRACKING), "{changed:?}");
    let mut written = records(&annotation(&stdout));
    let hash = written[0]
        .as_object_mut()
        .unwrap()
        .shift_remove("contentHash")
        .unwrap();
    assert!(hash.as_str().unwrap().starts_with("sha256:"), "{hash}");
    let (mine, _) = unversioned(written);
    let (fixture, _) = unversioned(records(&annotation(&before)));
    assert_eq!(mine, fixture);
}

#[test]
fn another_add_rewrites_the_unversioned_records_in_the_versioned_format() {
    let (stdout, _) = run(
        &["add", "wait-for", "--set", "host=db.shop.svc"],
        "web.log-shipper.yaml",
    );
    let text = annotation(&stdout);
    assert!(text.starts_with(r#"{"version":2,"instances":["#), "{text}");
    let both = records(&text);
    let old = records(&annotation(&read("web.log-shipper.yaml")));
    assert_eq!(both[0], old[0]);
    assert_eq!(both[1]["instance"], "wait-for");
    let removed = crate::common::bin()
        .args(["remove", "wait-for", "log-shipper"])
        .write_stdin(stdout)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    assert_eq!(
        String::from_utf8(removed).unwrap(),
        read("web.original.yaml")
    );
}

#[test]
fn a_newer_format_is_refused_with_a_request_to_upgrade() {
    let text = read("web.log-shipper.yaml").replace(
        &format!("{TRACKING}: \"["),
        &format!("{TRACKING}: \"{{\\\"version\\\":3,\\\"instances\\\":["),
    );
    let text = text.replacen("}]\"\n", "}]}\"\n", 1);
    assert!(text.contains(r#"{\"version\":3"#), "{text}");
    for command in ["status", "remove"] {
        let mut cmd = crate::common::bin();
        cmd.arg(command);
        if command == "remove" {
            cmd.arg("log-shipper");
        }
        let out = cmd
            .write_stdin(text.clone())
            .assert()
            .failure()
            .get_output()
            .clone();
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert!(stderr.contains("format version 3"), "{stderr}");
        assert!(stderr.contains("upgrade kubectl-pattern"), "{stderr}");
    }
}
