//! The binary end to end: every subcommand and flag, driven with assert_cmd.

use kubectl_pattern::engine::workload::WorkloadKind;
use serde_json::Value;

pub(crate) const EXAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/examples/web.yaml");

pub(crate) fn stdout(cmd: &mut assert_cmd::Command) -> String {
    String::from_utf8(cmd.assert().success().get_output().stdout.clone()).unwrap()
}

fn parse_all(text: &str) -> Vec<Value> {
    text.split("\n---\n")
        .filter(|d| !d.trim().is_empty())
        .map(|d| kubectl_pattern::engine::yaml::from_str(d).unwrap())
        .collect()
}

#[test]
fn list_shows_every_builtin_with_kind_and_source() {
    let text = stdout(crate::common::bin().arg("list"));
    for id in [
        "sidecar",
        "log-shipper",
        "git-sync",
        "adapter",
        "prometheus-exporter",
        "ambassador",
        "redis-proxy",
        "tls-proxy",
        "traffic-split",
        "init",
        "wait-for",
        "git-clone",
    ] {
        assert!(
            text.lines().any(|l| l.starts_with(&format!("{id} "))),
            "{id} missing:\n{text}"
        );
    }
    let json: Vec<Value> =
        serde_json::from_str(&stdout(crate::common::bin().args(["list", "-o", "json"]))).unwrap();
    assert!(json.len() >= 12);
    assert!(
        json.iter()
            .all(|p| p["source"] == "builtin" && p["kind"].is_string() && p["summary"].is_string())
    );
}

#[test]
fn user_templates_are_listed_with_their_source_and_used() {
    let dir = tempfile::tempdir().unwrap();
    let tpl = dir.path().join("kubectl-pattern/templates/hello");
    std::fs::create_dir_all(&tpl).unwrap();
    std::fs::write(tpl.join("pattern.yaml"), "apiVersion: kubectl-pattern/v1\nkind: Pattern\nmetadata: {name: hello}\nspec:\n  type: init\n  version: 0.1.0\n  summary: Say hello first\n  description: d\n  useWhen: u\n  avoidWhen: a\n  diagram: x\n  params:\n  - {name: who, type: string, default: world}\n").unwrap();
    std::fs::write(tpl.join("contribution.yaml.hbs"), "initContainers:\n- name: {{instance}}\n  image: busybox:1.37.0\n  env:\n  - name: WHO\n    value: {{params.who}}\n  command: [sh, -c, 'echo hello $WHO']\n").unwrap();
    let text = stdout(
        crate::common::bin()
            .env("XDG_CONFIG_HOME", dir.path())
            .args(["list"]),
    );
    assert!(
        text.lines()
            .any(|l| l.starts_with("hello") && l.contains(" user ")),
        "{text}"
    );
    let out = stdout(
        crate::common::bin()
            .env("XDG_CONFIG_HOME", dir.path())
            .args(["add", "hello", "--set", "who=you", "-q", "-f", EXAMPLE]),
    );
    assert!(out.contains("value: you"), "{out}");
    // the same directory given with --template-dir
    let text = stdout(
        crate::common::bin()
            .arg("list")
            .arg("--template-dir")
            .arg(dir.path().join("kubectl-pattern/templates")),
    );
    assert!(text.contains("hello"), "{text}");
}

#[test]
fn explain_topics_and_patterns() {
    let overview = stdout(crate::common::bin().arg("explain"));
    assert!(
        overview.to_lowercase().contains("database"),
        "the overview says when no helper is right:\n{overview}"
    );
    assert!(overview.contains("Available patterns"));
    let adapterless = stdout(crate::common::bin().args(["explain", "adapterless"]));
    assert!(adapterless.to_lowercase().contains("adapter"));
    let log = stdout(crate::common::bin().args(["explain", "log-shipper"]));
    assert!(log.contains("PARAMETERS") && log.contains("logDir"));
}

#[test]
fn add_keeps_other_documents_byte_for_byte() {
    let text = stdout(crate::common::bin().args(["add", "log-shipper", "-q", "-f", EXAMPLE]));
    let original = std::fs::read_to_string(EXAMPLE).unwrap();
    let service = &original[original.find("apiVersion: v1\nkind: Service").unwrap()..];
    assert!(
        text.ends_with(service),
        "the Service passes through unchanged"
    );
    assert!(
        text.starts_with("# A small web app"),
        "comments before the first document stay"
    );
}

#[test]
fn several_patterns_in_one_run_and_a_second_instance() {
    let text = stdout(crate::common::bin().args([
        "add",
        "log-shipper",
        "wait-for",
        "--set",
        "wait-for.host=db.shop.svc",
        "-q",
        "-f",
        EXAMPLE,
    ]));
    let docs = parse_all(&text);
    let inits = docs[0]["spec"]["template"]["spec"]["initContainers"]
        .as_array()
        .unwrap();
    let names: Vec<&str> = inits.iter().map(|c| c["name"].as_str().unwrap()).collect();
    assert!(
        names.contains(&"log-shipper") && names.contains(&"wait-for"),
        "{names:?}"
    );
    let twice = crate::common::bin()
        .args([
            "add",
            "ambassador",
            "--name",
            "proxy-b",
            "--set",
            "upstreamHost=b.svc",
            "--set",
            "listenPort=7001",
            "-q",
            "-f",
            "-",
        ])
        .write_stdin(text)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let docs = parse_all(&String::from_utf8(twice).unwrap());
    let status = stdout(
        crate::common::bin()
            .args(["status", "-o", "json", "-f", "-"])
            .write_stdin(kubectl_pattern::engine::yaml::to_string(&docs[0]).unwrap()),
    );
    let reports: Vec<Value> = serde_json::from_str(&status).unwrap();
    let instances: Vec<&str> = reports[0]["patterns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["instance"].as_str().unwrap())
        .collect();
    assert_eq!(instances, ["log-shipper", "wait-for", "proxy-b"]);
}

#[test]
fn stdin_list_json_and_output_formats() {
    let pod = crate::common::workload(WorkloadKind::Pod, "p");
    let list = serde_json::json!({"apiVersion": "v1", "kind": "List", "items": [pod, crate::common::workload(WorkloadKind::Job, "j")]});
    let out = stdout(
        crate::common::bin()
            .args([
                "add",
                "init",
                "--set",
                "image=busybox:1.37.0",
                "--set",
                "command=true",
                "-o",
                "json",
                "-q",
            ])
            .write_stdin(list.to_string()),
    );
    let value: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(value["kind"], "List");
    assert_eq!(
        value["items"][0]["spec"]["initContainers"][0]["name"],
        "init"
    );
    assert_eq!(
        value["items"][1]["spec"]["template"]["spec"]["initContainers"][0]["name"],
        "init"
    );
    let names = stdout(crate::common::bin().args([
        "add",
        "log-shipper",
        "-o",
        "name",
        "-q",
        "-f",
        EXAMPLE,
    ]));
    assert_eq!(names, "deployment.apps/web\nservice/web\n");
}

#[test]
fn directories_recursively() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("a/b")).unwrap();
    crate::common::write_yaml(
        &dir.path().join("a/one.yaml"),
        &[crate::common::workload(WorkloadKind::Deployment, "one")],
    );
    crate::common::write_yaml(
        &dir.path().join("a/b/two.yml"),
        &[crate::common::workload(WorkloadKind::StatefulSet, "two")],
    );
    std::fs::write(dir.path().join("a/notes.txt"), "not a manifest").unwrap();
    let flat = stdout(
        crate::common::bin()
            .args(["add", "log-shipper", "-o", "name", "-q", "-f"])
            .arg(dir.path().join("a")),
    );
    assert_eq!(flat, "deployment.apps/one\n");
    let deep = stdout(
        crate::common::bin()
            .args(["add", "log-shipper", "-o", "name", "-q", "-R", "-f"])
            .arg(dir.path().join("a")),
    );
    assert_eq!(deep, "statefulset.apps/two\ndeployment.apps/one\n");
}

#[test]
fn in_place_rewrites_only_changed_files_and_diff_shows_the_change() {
    let dir = tempfile::tempdir().unwrap();
    let deploy = dir.path().join("deploy.yaml");
    let cm = dir.path().join("cm.yaml");
    std::fs::copy(EXAMPLE, &deploy).unwrap();
    std::fs::write(
        &cm,
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n",
    )
    .unwrap();
    // Differences exit 1, as with kubectl diff.
    let diff = crate::common::bin()
        .args(["add", "log-shipper", "--diff", "-q", "-f"])
        .arg(dir.path())
        .assert()
        .code(1)
        .get_output()
        .stdout
        .clone();
    let diff = String::from_utf8(diff).unwrap();
    assert!(
        diff.contains("+++ ")
            && diff.contains("+      initContainers:")
            && !diff.contains("cm.yaml"),
        "{diff}"
    );
    assert_eq!(
        std::fs::read_to_string(&deploy).unwrap(),
        std::fs::read_to_string(EXAMPLE).unwrap(),
        "--diff alone writes nothing"
    );
    let out = crate::common::bin()
        .args(["add", "log-shipper", "--in-place", "-f"])
        .arg(dir.path())
        .assert()
        .success()
        .get_output()
        .clone();
    assert!(out.stdout.is_empty());
    assert!(
        std::fs::read_to_string(&deploy)
            .unwrap()
            .contains("pattern.kubectl.io/applied")
    );
    assert_eq!(
        std::fs::read_to_string(&cm).unwrap(),
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n"
    );
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .starts_with(".kubectl-pattern")
        })
        .collect();
    assert!(leftovers.is_empty(), "no temporary files left");
}

#[test]
fn reports_text_json_and_quiet() {
    let out = crate::common::bin()
        .args(["add", "log-shipper", "-f", EXAMPLE])
        .assert()
        .success()
        .get_output()
        .clone();
    let text = String::from_utf8(out.stderr).unwrap();
    assert!(
        text.contains("deployment/web: added log-shipper (native sidecar log-shipper"),
        "{text}"
    );
    assert!(
        text.contains("service/web: skipped (Service has no pod template)"),
        "{text}"
    );
    let out = crate::common::bin()
        .args(["add", "log-shipper", "--report", "json", "-f", EXAMPLE])
        .assert()
        .success()
        .get_output()
        .clone();
    let reports: Vec<Value> = serde_json::from_slice(&out.stderr).unwrap();
    assert_eq!(reports[0]["status"], "changed");
    assert_eq!(reports[0]["patterns"][0]["action"], "added");
    assert_eq!(reports[1]["status"], "skipped");
    let quiet = crate::common::bin()
        .args(["add", "log-shipper", "-q", "-f", EXAMPLE])
        .assert()
        .success()
        .get_output()
        .clone();
    assert!(quiet.stderr.is_empty());
}

#[test]
fn remove_restores_the_original_objects() {
    let added = stdout(crate::common::bin().args([
        "add",
        "log-shipper",
        "prometheus-exporter",
        "-q",
        "-f",
        EXAMPLE,
    ]));
    let removed = stdout(
        crate::common::bin()
            .args(["remove", "log-shipper", "prometheus-exporter", "-q"])
            .write_stdin(added),
    );
    let original = parse_all(&std::fs::read_to_string(EXAMPLE).unwrap());
    assert_eq!(parse_all(&removed), original);
    let again = crate::common::bin()
        .args(["remove", "log-shipper", "-f", EXAMPLE])
        .assert()
        .success()
        .get_output()
        .clone();
    assert!(String::from_utf8_lossy(&again.stderr).contains("log-shipper not applied"));
}

#[test]
fn sidecar_modes_and_kube_versions() {
    let old = stdout(crate::common::bin().args([
        "add",
        "log-shipper",
        "--kube-version",
        "1.28",
        "-q",
        "-f",
        EXAMPLE,
    ]));
    let spec = &parse_all(&old)[0]["spec"]["template"]["spec"];
    assert_eq!(
        spec["containers"][1]["name"], "log-shipper",
        "classic on 1.28"
    );
    assert!(spec.get("initContainers").is_none());
    let native = stdout(crate::common::bin().args([
        "add",
        "log-shipper",
        "--kube-version",
        "v1.29.0",
        "-q",
        "-f",
        EXAMPLE,
    ]));
    assert_eq!(
        parse_all(&native)[0]["spec"]["template"]["spec"]["initContainers"][0]["restartPolicy"],
        "Always"
    );
    // switching mode moves the helper, it does not duplicate it
    let moved = stdout(
        crate::common::bin()
            .args(["add", "log-shipper", "--sidecar-mode", "classic", "-q"])
            .write_stdin(native),
    );
    let spec = &parse_all(&moved)[0]["spec"]["template"]["spec"];
    assert_eq!(spec["containers"].as_array().unwrap().len(), 2);
    assert!(spec.get("initContainers").is_none(), "{spec}");
}

#[test]
fn version_and_completion() {
    assert!(stdout(crate::common::bin().arg("version")).starts_with("kubectl-pattern 0.1.0"));
    assert!(stdout(crate::common::bin().arg("--version")).contains("0.1.0"));
    for shell in ["bash", "zsh", "fish", "powershell"] {
        assert!(
            stdout(crate::common::bin().args(["completion", shell])).contains("kubectl-pattern"),
            "{shell}"
        );
    }
}

#[test]
fn help_has_examples() {
    let help = stdout(crate::common::bin().arg("--help"));
    assert!(help.contains("Examples:"));
    for sub in [
        "add",
        "remove",
        "status",
        "lint",
        "list",
        "explain",
        "completion",
    ] {
        assert!(
            stdout(crate::common::bin().args([sub, "--help"])).contains("Examples:"),
            "{sub}"
        );
    }
}

#[test]
fn a_closed_stdout_pipe_is_not_a_crash() {
    let bin = assert_cmd::cargo::cargo_bin("kubectl-pattern");
    for args in [
        vec!["explain", "traffic-split"],
        vec!["list"],
        vec!["completion", "bash"],
        vec!["add", "log-shipper", "-q", "-f", EXAMPLE],
    ] {
        let mut child = std::process::Command::new(&bin)
            .args(&args)
            .env("XDG_CONFIG_HOME", "/nonexistent-kubectl-pattern-test")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        drop(child.stdout.take()); // the reader goes away, like `| head` after one line
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert_eq!(out.status.code(), Some(0), "{args:?}: {stderr}");
    }
}

#[test]
fn yaml_1_1_octal_modes_come_out_as_kubectl_reads_them() {
    let deploy = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: cfg}\nspec:\n  selector: {matchLabels: {app: cfg}}\n  template:\n    metadata: {labels: {app: cfg}}\n    spec:\n      containers:\n      - name: app\n        image: nginx:1.27.3\n      volumes:\n      - name: conf\n        configMap: {name: conf, defaultMode: 0644}\n";
    let out = stdout(
        crate::common::bin()
            .args(["add", "log-shipper", "-q"])
            .write_stdin(deploy),
    );
    // The literal is kept as written (issue 12: edits keep the text), and it still reads as
    // octal 420, as kubectl reads it.
    assert!(
        out.contains("configMap: {name: conf, defaultMode: 0644}"),
        "the line the tool did not touch is kept:\n{out}"
    );
    let v: serde_json::Value = kubectl_pattern::engine::yaml::from_str(&out).unwrap();
    assert_eq!(
        v.pointer("/spec/template/spec/volumes/0/configMap/defaultMode"),
        Some(&serde_json::json!(420)),
        "0644 is octal 420, as kubectl reads it:\n{out}"
    );
}

/// Typed lists as the API returns them (`DeploymentList`, items without apiVersion and kind)
/// are patched item by item; the items stay without apiVersion and kind.
#[test]
fn typed_lists_are_patched_item_by_item() {
    let dir = tempfile::tempdir().unwrap();
    let mut items = Vec::new();
    for name in ["web", "api"] {
        let mut d = crate::common::workload(WorkloadKind::Deployment, name);
        let map = d.as_object_mut().unwrap();
        map.shift_remove("apiVersion");
        map.shift_remove("kind");
        items.push(d);
    }
    let list = serde_json::json!({"apiVersion": "apps/v1", "kind": "DeploymentList",
        "metadata": {"resourceVersion": "42"}, "items": items});
    let input = dir.path().join("list.json");
    std::fs::write(&input, serde_json::to_string_pretty(&list).unwrap()).unwrap();
    let out = crate::common::bin()
        .args(["add", "log-shipper", "-q", "-o", "json", "-f"])
        .arg(&input)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let patched: Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(patched["kind"], "DeploymentList");
    for item in patched["items"].as_array().unwrap() {
        assert!(
            item.get("kind").is_none() && item.get("apiVersion").is_none(),
            "{item}"
        );
        let inits = &item["spec"]["template"]["spec"]["initContainers"];
        assert_eq!(inits[0]["name"], "log-shipper", "{item}");
    }
    // kubernetes-validate reads objects with names: check each item as a Deployment.
    let docs: Vec<Value> = patched["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| {
            let mut d = serde_json::json!({"apiVersion": "apps/v1", "kind": "Deployment"});
            d.as_object_mut()
                .unwrap()
                .extend(item.as_object().unwrap().clone());
            d
        })
        .collect();
    let output = dir.path().join("out.yaml");
    crate::common::write_yaml(&output, &docs);
    crate::common::validate(&output);
    let names = crate::common::bin()
        .args(["add", "log-shipper", "-q", "-o", "name", "-f"])
        .arg(&input)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    assert_eq!(
        String::from_utf8(names).unwrap(),
        "deployment.apps/web\ndeployment.apps/api\n"
    );
}
