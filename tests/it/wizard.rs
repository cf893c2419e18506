//! The wizard driven through a real pseudo-terminal: a full `new` run (two patterns, answers
//! refused and corrected), `add` asking for a missing parameter, and Ctrl-C leaving nothing
//! written. Results are checked against the real Kubernetes schemas and against the printed
//! non-interactive command.

use std::path::Path;
use std::process::Command;

use rexpect::process::WaitStatus;
use rexpect::session::PtySession;

const TIMEOUT_MS: u64 = 30_000;
const ENTER: &str = "\r";
const DOWN: &str = "\x1b[B";

/// The binary in a pseudo-terminal (stdin, stdout and stderr), in `dir`.
fn spawn(dir: &Path, args: &[&str]) -> PtySession {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_kubectl-pattern"));
    cmd.args(args)
        .current_dir(dir)
        .env("XDG_CONFIG_HOME", "/nonexistent-kubectl-pattern-test")
        .env("XDG_DATA_HOME", "/nonexistent-kubectl-pattern-test")
        .env("NO_COLOR", "1")
        .env("TERM", "xterm");
    rexpect::spawn_with_options(
        cmd,
        rexpect::reader::Options::new()
            .timeout_ms(Some(TIMEOUT_MS))
            .strip_ansi_escape_codes(true),
    )
    .expect("spawn in a pty")
}

/// Waits for `prompt`, then types `keys`. (The pty reader decodes byte by byte, so prompts are
/// matched on their ASCII part.)
fn answer(p: &mut PtySession, prompt: &str, keys: &str) {
    p.exp_string(prompt)
        .unwrap_or_else(|e| panic!("waiting for {prompt:?}: {e}"));
    p.send(keys).expect("type");
    p.flush().expect("flush");
}

fn exit_code(p: &mut PtySession) -> i32 {
    p.exp_eof().expect("the run ends");
    match p.process().wait().expect("wait") {
        WaitStatus::Exited(_, code) => code,
        other => panic!("ended by {other:?}"),
    }
}

/// Pattern ids in the order the wizard lists them.
fn pattern_order() -> Vec<String> {
    let out = crate::common::bin()
        .args(["list", "-o", "json"])
        .output()
        .unwrap();
    let list: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    list.as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap().to_string())
        .collect()
}

/// Keys that tick `wanted` in the multi-select, then accept.
fn tick(order: &[String], wanted: &[&str]) -> String {
    let mut keys = String::new();
    let mut at = 0;
    let mut targets: Vec<usize> = wanted
        .iter()
        .map(|w| order.iter().position(|id| id == w).expect("listed"))
        .collect();
    targets.sort_unstable();
    for t in targets {
        keys.push_str(&DOWN.repeat(t - at));
        keys.push(' ');
        at = t;
    }
    keys.push_str(ENTER);
    keys
}

#[test]
fn a_full_new_run_equals_its_printed_command_and_validates() {
    let dir = tempfile::tempdir().unwrap();
    let mut p = spawn(dir.path(), &["new"]);
    answer(&mut p, "Workload kind", ENTER); // Deployment
    answer(&mut p, "Name", "web\r");
    answer(&mut p, "Namespace", "shop\r");
    answer(&mut p, "Image of the main container", "nginx latest\r");
    answer(&mut p, "is not an image reference", "nginx:1.27.3\r");
    answer(&mut p, "Container ports", "80,8080\r");
    answer(&mut p, "Command", ENTER);
    answer(&mut p, "Resource requests", ENTER);
    answer(&mut p, "Resource limits", ENTER);
    answer(&mut p, "Replicas", "2\r");
    answer(&mut p, "Add a Service for port 80, 8080?", "y");
    let keys = tick(&pattern_order(), &["log-shipper", "wait-for"]);
    answer(&mut p, "Patterns (space: select", &keys);
    answer(&mut p, "optional parameters of log-shipper?", "n");
    answer(&mut p, "host (dns-name)", "Not_A_Host\r");
    answer(&mut p, "is not a DNS name", "db.shop.svc\r");
    answer(&mut p, "optional parameters of wait-for?", "y");
    answer(&mut p, "image (image)", ENTER);
    answer(&mut p, "mode (enum)", &format!("{DOWN}{ENTER}")); // tcp
    answer(&mut p, "port (port)", "99999\r");
    answer(&mut p, "is not a port", "5432\r");
    for prompt in [
        "path (string)",
        "https (bool)",
        "timeoutSeconds (int)",
        "intervalSeconds (int)",
        "cpuRequest (quantity)",
        "cpuLimit (quantity)",
        "memoryRequest (quantity)",
        "memoryLimit (quantity)",
    ] {
        answer(&mut p, prompt, ENTER);
    }
    answer(&mut p, "Preview", "");
    answer(&mut p, "Write this manifest?", "y");
    answer(&mut p, "Write the manifest to", ENTER); // a file
    answer(&mut p, "File", ENTER); // web.yaml
    answer(&mut p, "Save the answers as a values file", "y");
    answer(&mut p, "Values file", ENTER); // web.values.yaml
    p.exp_string("Equivalent command").unwrap();
    let (_, line) = p
        .exp_regex(r"kubectl pattern new deployment[^\r\n]*")
        .expect("the printed command");
    assert_eq!(exit_code(&mut p), 0);

    let written = std::fs::read_to_string(dir.path().join("web.yaml")).expect("web.yaml");
    crate::common::validate(&dir.path().join("web.yaml"));
    for needle in [
        "replicas: 2",
        "namespace: shop",
        "name: log-shipper",
        "value: db.shop.svc",
        "value: tcp",
        "value: \"5432\"",
        "kind: Service",
        "port: 8080",
    ] {
        assert!(written.contains(needle), "{needle:?} missing:\n{written}");
    }

    // The printed command, run without a terminal elsewhere, writes the same file.
    let words = shell_words::split(&line).expect("a shell command line");
    assert_eq!(&words[..3], ["kubectl", "pattern", "new"], "{line}");
    assert!(words.contains(&"--yes".to_string()), "{line}");
    let again = tempfile::tempdir().unwrap();
    crate::common::bin()
        .args(&words[2..])
        .current_dir(again.path())
        .assert()
        .success();
    let replayed = std::fs::read_to_string(again.path().join("web.yaml")).unwrap();
    assert_eq!(replayed, written, "printed command: {line}");

    // So does the saved values file.
    let values = dir.path().join("web.values.yaml");
    let out = crate::common::bin()
        .args(["new", "--yes", "--values-file"])
        .arg(&values)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8(out.stdout).unwrap(), written);
}

#[test]
fn add_asks_for_a_missing_parameter_on_a_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let deploy = crate::common::workload(
        kubectl_pattern::engine::workload::WorkloadKind::Deployment,
        "app",
    );
    crate::common::write_yaml(&dir.path().join("d.yaml"), std::slice::from_ref(&deploy));
    crate::common::write_yaml(&dir.path().join("expected.yaml"), &[deploy]);

    let mut p = spawn(
        dir.path(),
        &["add", "wait-for", "-f", "d.yaml", "--in-place", "-q"],
    );
    answer(&mut p, "The dependency's host", "");
    answer(&mut p, "host (dns-name)", "-bad-\r");
    answer(&mut p, "is not a DNS name", "db.shop.svc\r");
    assert_eq!(exit_code(&mut p), 0);

    let asked = std::fs::read_to_string(dir.path().join("d.yaml")).unwrap();
    let flagged = crate::common::bin()
        .args([
            "add",
            "wait-for",
            "--set",
            "host=db.shop.svc",
            "-f",
            "expected.yaml",
            "-q",
        ])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(flagged.status.success());
    assert_eq!(asked, String::from_utf8(flagged.stdout).unwrap());
    crate::common::validate(&dir.path().join("d.yaml"));

    // --no-input never asks, even on a terminal.
    let mut p = spawn(
        dir.path(),
        &[
            "add",
            "git-sync",
            "wait-for",
            "-f",
            "expected.yaml",
            "--no-input",
        ],
    );
    p.exp_string("pattern git-sync needs repo").unwrap();
    p.exp_string("pattern wait-for needs host").unwrap();
    assert_eq!(exit_code(&mut p), 2);
}

#[test]
fn ctrl_c_at_the_last_question_leaves_nothing_written() {
    let dir = tempfile::tempdir().unwrap();
    let mut p = spawn(
        dir.path(),
        &[
            "new",
            "deployment",
            "web",
            "--image",
            "nginx:1.27.3",
            "--port",
            "80",
            "-p",
            "log-shipper",
        ],
    );
    answer(&mut p, "Namespace", ENTER);
    answer(&mut p, "Command", ENTER);
    answer(&mut p, "Resource requests", ENTER);
    answer(&mut p, "Resource limits", ENTER);
    answer(&mut p, "Replicas", ENTER);
    answer(&mut p, "Add a Service", "y");
    answer(&mut p, "optional parameters of log-shipper?", "n");
    answer(&mut p, "Write this manifest?", "y");
    answer(&mut p, "Write the manifest to", ENTER);
    answer(&mut p, "File", ENTER);
    answer(&mut p, "Save the answers", "y");
    answer(&mut p, "Values file", "\x03");
    p.exp_string("cancelled: nothing was written").unwrap();
    assert_eq!(exit_code(&mut p), 130);
    let left: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert!(left.is_empty(), "files left behind: {left:?}");

    // Ctrl-C in a select (raw mode) too, and the terminal settings come back.
    let mut p = spawn(dir.path(), &["new"]);
    answer(&mut p, "Workload kind", "\x03");
    p.exp_string("cancelled: nothing was written").unwrap();
    assert_eq!(exit_code(&mut p), 130);
    assert!(std::fs::read_dir(dir.path()).unwrap().next().is_none());
}

#[test]
fn a_secret_parameter_is_asked_without_echo() {
    let dir = tempfile::tempdir().unwrap();
    let tpl = dir.path().join("tpl/token");
    std::fs::create_dir_all(&tpl).unwrap();
    std::fs::write(
        tpl.join("pattern.yaml"),
        "apiVersion: kubectl-pattern/v1\nkind: Pattern\nmetadata: {name: token}\nspec:\n  type: init\n  version: 0.1.0\n  summary: Log in first\n  description: d\n  useWhen: u\n  avoidWhen: a\n  diagram: x\n  params:\n  - {name: token, type: string, required: true, secret: true, pattern: '[a-z0-9]{8,}'}\n",
    )
    .unwrap();
    std::fs::write(
        tpl.join("contribution.yaml.hbs"),
        "initContainers:\n- name: {{instance}}\n  image: busybox:1.37.0\n  env:\n  - name: TOKEN\n    value: {{params.token}}\n  command: [sh, -c, 'test -n \"$TOKEN\"']\n",
    )
    .unwrap();
    let deploy = crate::common::workload(
        kubectl_pattern::engine::workload::WorkloadKind::Deployment,
        "app",
    );
    crate::common::write_yaml(&dir.path().join("d.yaml"), &[deploy]);

    let args = [
        "add",
        "token",
        "--template-dir",
        "tpl",
        "-f",
        "d.yaml",
        "--in-place",
        "-q",
    ];
    let mut p = spawn(dir.path(), &args);
    answer(&mut p, "token (string) (hidden)", "short\r");
    let refused = p.exp_string("does not match").unwrap();
    assert!(
        !refused.contains("short"),
        "a refused secret was shown: {refused}"
    );
    p.send("s3cr3tvalue\r").unwrap();
    p.flush().unwrap();
    let rest = p.exp_eof().expect("the run ends");
    assert!(
        !rest.contains("s3cr3tvalue"),
        "the secret was echoed: {rest}"
    );
    let written = std::fs::read_to_string(dir.path().join("d.yaml")).unwrap();
    assert!(written.contains("value: s3cr3tvalue"), "{written}");
}
