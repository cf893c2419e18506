//! A plugin that declines a workload (`render-error::not-applicable`): that workload is
//! reported as skipped with the plugin's reason and passes through byte for byte, the other
//! workloads of the stream are patched, and the run exits 0 (stdout and in place).

use crate::common::plugins::{bin, run_ok, wasm};

/// Two Deployments: the first carries `annotation`, the second (with a comment, so byte
/// preservation shows) does not.
fn stream(annotation: &str) -> String {
    format!(
        "\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: billing
spec:
  selector:
    matchLabels: {{app: billing}}
  template:
    metadata:
      labels: {{app: billing}}
      annotations:
        {annotation}
    spec:
      containers:
        - name: app
          image: registry.example.com/billing:2.1.0
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: frontend   # nothing for the plugin here
spec:
  selector:
    matchLabels: {{app: frontend}}
  template:
    metadata:
      labels: {{app: frontend}}
    spec:
      containers:
        - name: app
          image:  registry.example.com/frontend:2.1.0
"
    )
}

/// The second document of a stream, as text.
fn second(text: &str) -> &str {
    text.split_once("\n---\n").expect("two documents").1
}

struct Case {
    crate_name: &'static str,
    id: &'static str,
    annotation: &'static str,
    sets: &'static [&'static str],
    reason: &'static str,
}

const CASES: [Case; 2] = [
    Case {
        crate_name: "vault-agent",
        id: "vault-agent",
        annotation: "vault-agent.kubectl-pattern.io/secret-db: database/creds/billing",
        sets: &[
            "--set",
            "role=billing",
            "--set",
            "address=https://vault.example.com:8200",
        ],
        reason: "Deployment frontend names no secret",
    },
    Case {
        crate_name: "db-proxy",
        id: "db-proxy",
        annotation: "db-proxy.kubectl-pattern.io/target: postgres.db.svc:5432",
        sets: &[],
        reason: "Deployment frontend does not say which database to proxy",
    },
];

/// The report lines of one run that mention `what`.
fn lines_with<'a>(stderr: &'a str, what: &str) -> Vec<&'a str> {
    stderr.lines().filter(|l| l.contains(what)).collect()
}

#[test]
fn a_declined_workload_is_skipped_and_the_others_are_patched() {
    for case in CASES {
        let home = tempfile::tempdir().unwrap();
        let plugin = wasm(case.crate_name);
        let input = stream(case.annotation);
        let file = home.path().join("stream.yaml");
        std::fs::write(&file, &input).unwrap();
        let assert = bin(home.path())
            .args(["add", case.id, "--plugin"])
            .arg(&plugin)
            .args(case.sets)
            .arg("-f")
            .arg(&file)
            .assert()
            .success();
        let out = String::from_utf8(assert.get_output().stdout.clone()).unwrap();
        let stderr = String::from_utf8(assert.get_output().stderr.clone()).unwrap();
        let skipped = lines_with(&stderr, "skipped");
        assert_eq!(skipped.len(), 1, "{}: one skip line\n{stderr}", case.id);
        assert!(
            skipped[0].starts_with(&format!(
                "deployment/frontend: skipped (pattern {} does not apply: {}",
                case.id, case.reason
            )),
            "{}: the skip names the workload and the plugin's reason\n{stderr}",
            case.id
        );
        assert!(
            lines_with(&stderr, "deployment/billing: added").len() == 1,
            "{}: the annotated workload is patched\n{stderr}",
            case.id
        );
        assert_eq!(
            second(&out),
            second(&input),
            "{}: the declined workload passes through byte for byte",
            case.id
        );
        assert!(out.contains(&format!("- name: {}", case.id)), "{out}");
        let written = home.path().join("out.yaml");
        std::fs::write(&written, &out).unwrap();
        crate::common::validate(&written);

        // In place: the file is rewritten with the same result, the declined part untouched.
        let stderr_in_place = String::from_utf8(
            bin(home.path())
                .args(["add", case.id, "--in-place", "--plugin"])
                .arg(&plugin)
                .args(case.sets)
                .arg("-f")
                .arg(&file)
                .assert()
                .success()
                .get_output()
                .stderr
                .clone(),
        )
        .unwrap();
        assert_eq!(
            lines_with(&stderr_in_place, "skipped").len(),
            1,
            "{stderr_in_place}"
        );
        let rewritten = std::fs::read_to_string(&file).unwrap();
        assert_eq!(
            rewritten, out,
            "{}: in place writes what stdout showed",
            case.id
        );
    }
}

#[test]
fn a_decline_skips_the_whole_object_for_every_pattern_of_the_run() {
    // log-shipper would apply, but the plugin after it declines: the object stays as it was.
    let home = tempfile::tempdir().unwrap();
    let input = stream("vault-agent.kubectl-pattern.io/secret-db: database/creds/billing");
    let out = run_ok(
        bin(home.path())
            .args(["add", "-q", "log-shipper", "vault-agent", "--plugin"])
            .arg(wasm("vault-agent"))
            .args(CASES[0].sets)
            .write_stdin(input.clone()),
    );
    assert_eq!(second(&out), second(&input));
    assert!(
        out.split_once("\n---\n")
            .unwrap()
            .0
            .contains("- name: log-shipper"),
        "the first workload gets both\n{out}"
    );
}
