//! Bad input: every case fails with a clear message naming the input and the fix, a non-zero
//! exit code, no panic, and no file changed. (Parameters and flags: bad_params.rs.)

use crate::common::bad::{Case, DEPLOY};
use serde_json::json;

#[test]
fn broken_yaml_names_file_document_and_line() {
    let c = Case::new();
    c.file(
        "broken.yaml",
        &format!("{DEPLOY}---\napiVersion: v1\nkind: ConfigMap\ndata:\n  a: [1, 2\n  b: c\n"),
    );
    c.fails(
        &["add", "log-shipper", "-f", "broken.yaml"],
        None,
        1,
        &["broken.yaml", "document 2", "line 2", "broken.yaml:2"],
    );
}

#[test]
fn alias_bomb_is_refused() {
    let c = Case::new();
    let mut bomb = String::from(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\ndata:\n  a: &a [x,x,x,x,x,x,x,x,x,x]\n",
    );
    for (prev, next) in ["a", "b", "c", "d", "e", "f", "g", "h"]
        .iter()
        .zip(["b", "c", "d", "e", "f", "g", "h", "i"])
    {
        bomb.push_str(&format!(
            "  {next}: &{next} [{}]\n",
            vec![format!("*{prev}"); 10].join(",")
        ));
    }
    c.file("bomb.yaml", &format!("{DEPLOY}---\n{bomb}"));
    c.fails(
        &["add", "log-shipper", "-f", "bomb.yaml"],
        None,
        1,
        &["bomb.yaml", "document 2", "too large or too complex"],
    );
}

#[test]
fn unknown_pattern_suggests_the_nearest() {
    let c = Case::new();
    c.file("d.yaml", DEPLOY);
    c.fails(
        &["add", "log-shiper", "-f", "d.yaml"],
        None,
        2,
        &[
            "unknown pattern \"log-shiper\": did you mean \"log-shipper\"? (`kubectl pattern list` shows them all)",
        ],
    );
}

#[test]
fn a_missing_file_names_the_file_and_its_cause_once() {
    let out = crate::common::bin()
        .args(["add", "log-shipper", "-f", "no-such-file.yaml"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.starts_with("error: cannot read no-such-file.yaml: No such file or directory"),
        "{stderr}"
    );
    assert_eq!(
        stderr.matches("No such file or directory").count(),
        1,
        "the cause is printed once:\n{stderr}"
    );
}

#[test]
fn container_name_taken_by_something_else() {
    let c = Case::new();
    c.file(
        "d.yaml",
        &DEPLOY.replace("      - name: web\n", "      - name: log-shipper\n"),
    );
    c.fails(
        &["add", "log-shipper", "-f", "d.yaml"],
        None,
        1,
        &[
            "d.yaml",
            "deployment/web",
            "container \"log-shipper\" already exists",
            "--name",
        ],
    );
}

#[test]
fn port_clash_with_the_app() {
    let c = Case::new();
    c.file(
        "d.yaml",
        &DEPLOY.replace("containerPort: 8080", "containerPort: 9102"),
    );
    c.fails(
        &["add", "prometheus-exporter", "-f", "d.yaml"],
        None,
        1,
        &["port 9102/TCP", "\"web\"", "--set"],
    );
}

#[test]
fn unreadable_input() {
    let c = Case::new();
    c.fails(
        &["add", "log-shipper", "-f", "missing.yaml"],
        None,
        1,
        &["cannot read missing.yaml"],
    );
}

#[test]
fn in_place_on_a_read_only_file() {
    let c = Case::new();
    let path = c.file("ro.yaml", DEPLOY);
    let mut perms = std::fs::metadata(&path).unwrap().permissions();
    perms.set_readonly(true);
    std::fs::set_permissions(&path, perms).unwrap();
    c.fails(
        &["add", "log-shipper", "-f", "ro.yaml", "--in-place"],
        None,
        1,
        &["ro.yaml is read-only", "chmod"],
    );
}

#[test]
fn in_place_failure_in_one_file_leaves_all_files_alone() {
    let c = Case::new();
    c.file("a.yaml", DEPLOY);
    c.file("b.yaml", "kind: [\n");
    c.fails(
        &["add", "log-shipper", "-f", ".", "--in-place"],
        None,
        1,
        &["b.yaml", "document 1"],
    );
}

#[test]
fn empty_file() {
    let c = Case::new();
    c.file("empty.yaml", "");
    c.fails(
        &["add", "log-shipper", "-f", "empty.yaml"],
        None,
        1,
        &["no Kubernetes objects in empty.yaml"],
    );
}

#[test]
fn empty_stdin() {
    Case::new().fails(
        &["add", "log-shipper", "-f", "-"],
        Some(""),
        1,
        &["no Kubernetes objects in <stdin>"],
    );
}

#[test]
fn unsupported_api_version_says_which_to_use() {
    let c = Case::new();
    c.file("old.yaml", &DEPLOY.replace("apps/v1", "extensions/v1beta1"));
    let out = crate::common::bin()
        .current_dir(c.dir.path())
        .args(["add", "log-shipper", "-f", "old.yaml"])
        .assert()
        .code(1)
        .get_output()
        .clone();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("extensions/v1beta1 is not supported (use apps/v1)"),
        "{stderr}"
    );
}

#[test]
fn unknown_container() {
    let c = Case::new();
    c.file("d.yaml", DEPLOY);
    c.fails(
        &["add", "log-shipper", "--container", "api", "-f", "d.yaml"],
        None,
        1,
        &["container \"api\" not found", "app containers: web"],
    );
}

#[test]
fn document_that_is_not_a_mapping() {
    let c = Case::new();
    c.file("s.yaml", &format!("{DEPLOY}---\njust a string\n"));
    c.fails(
        &["add", "log-shipper", "-f", "s.yaml"],
        None,
        1,
        &["s.yaml: document 2", "not a Kubernetes object", "a string"],
    );
}

#[test]
fn document_without_kind() {
    let c = Case::new();
    c.file("k.yaml", "apiVersion: v1\nmetadata: {name: x}\n");
    c.fails(
        &["add", "log-shipper", "-f", "k.yaml"],
        None,
        1,
        &["k.yaml: document 1", "no kind"],
    );
}

#[test]
fn invalid_json() {
    let c = Case::new();
    c.file("d.json", "{\"apiVersion\": \"v1\",\n \"kind\": \"Pod\"\n");
    c.fails(
        &["add", "log-shipper", "-f", "d.json"],
        None,
        1,
        &["d.json", "document 1", "line"],
    );
}

#[test]
fn in_place_with_stdin_is_a_usage_error() {
    Case::new().fails(
        &["add", "log-shipper", "-f", "-", "--in-place"],
        Some(DEPLOY),
        2,
        &["--in-place", "stdin"],
    );
}

#[test]
fn corrupt_tracking_annotation() {
    let c = Case::new();
    c.file("t.yaml", &DEPLOY.replace("      labels: {app: web}\n", "      labels: {app: web}\n      annotations:\n        pattern.kubectl.io/applied: '[{broken'\n"));
    c.fails(
        &["add", "log-shipper", "-f", "t.yaml"],
        None,
        1,
        &["pattern.kubectl.io/applied", "not valid", "delete it"],
    );
}

#[test]
fn classic_sidecar_in_a_job_is_never_silent() {
    let c = Case::new();
    let job = json!({"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "report"}, "spec": {"template": {"spec": {"restartPolicy": "Never", "containers": [{"name": "run", "image": "busybox:1.37.0"}]}}}});
    crate::common::write_yaml(&c.dir.path().join("job.yaml"), &[job]);
    c.fails(
        &[
            "add",
            "log-shipper",
            "--kube-version",
            "1.28",
            "-f",
            "job.yaml",
        ],
        None,
        1,
        &[
            "Job \"report\"",
            "no native sidecars",
            "--sidecar-mode classic",
        ],
    );
}

#[test]
fn broken_user_template_is_named() {
    let c = Case::new();
    c.file("d.yaml", DEPLOY);
    let dir = c.dir.path().join("tpl").join("mine");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("pattern.yaml"), "apiVersion: kubectl-pattern/v1\nkind: Pattern\nmetadata: {name: mine}\nspec: {type: sidecar, version: 1.0.0, summary: s, description: d, useWhen: u, avoidWhen: a, diagram: x, bogus: 1}\n").unwrap();
    std::fs::write(dir.join("contribution.yaml.hbs"), "{}\n").unwrap();
    c.fails(
        &["add", "mine", "--template-dir", "tpl", "-f", "d.yaml"],
        None,
        1,
        &["pattern \"mine\" cannot be used", "pattern.yaml", "bogus"],
    );
}

#[test]
fn directory_without_manifests() {
    let c = Case::new();
    std::fs::create_dir(c.dir.path().join("sub")).unwrap();
    c.fails(
        &["add", "log-shipper", "-f", "sub"],
        None,
        1,
        &["no manifest files", "sub"],
    );
}
