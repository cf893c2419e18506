//! The stream on worker threads (cli/parallel.rs): any number of threads writes the same bytes
//! as one, in input order, and a failing stream reports its first bad document, writing nothing.

use crate::common::bin;

/// `count` Deployments named `app-000`, `app-001`, ..., each with a comment of its own.
fn stream(count: usize, bad: &[usize]) -> String {
    (1..=count)
        .map(|n| {
            if bad.contains(&n) {
                return format!("# document {n} is not an object\njust text {n}\n");
            }
            let name = format!("app-{:03}", n - 1);
            format!(
                "# {name}: the comment stays\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {name}\n\
                 spec:\n  selector:\n    matchLabels: {{app: {name}}}\n  template:\n    metadata:\n      \
                 labels: {{app: {name}}}\n    spec:\n      containers:\n      - name: app\n        \
                 image: nginx:1.27.3\n"
            )
        })
        .collect::<Vec<_>>()
        .join("---\n")
}

fn run(threads: &str, input: &str) -> assert_cmd::assert::Assert {
    bin()
        .env("KUBECTL_PATTERN_THREADS", threads)
        .args(["add", "log-shipper", "-f", "-", "-q"])
        .write_stdin(input.to_owned())
        .assert()
}

#[test]
fn more_threads_write_the_same_bytes_in_input_order() {
    let input = stream(150, &[]);
    let one = run("1", &input).success().get_output().stdout.clone();
    let text = String::from_utf8(one.clone()).unwrap();
    let names: Vec<&str> = text
        .lines()
        .filter_map(|l| l.strip_prefix("  name: "))
        .collect();
    let expected: Vec<String> = (0..150).map(|n| format!("app-{n:03}")).collect();
    assert_eq!(names, expected);
    assert_eq!(text.matches("the comment stays").count(), 150);
    let docs: Vec<&str> = text.split("\n---\n").collect();
    assert_eq!(docs.len(), 150);
    assert!(docs.iter().all(|d| d.contains("- name: log-shipper")));
    for threads in ["2", "3", "8"] {
        let out = run(threads, &input).success().get_output().stdout.clone();
        assert!(out == one, "{threads} threads wrote other bytes than one");
    }
}

#[test]
fn the_first_bad_document_is_reported_and_nothing_is_written() {
    let input = stream(120, &[41, 77]);
    for threads in ["1", "2", "4"] {
        let out = run(threads, &input).code(1).get_output().clone();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("document 41"),
            "{threads} threads: {stderr}"
        );
        assert!(
            !stderr.contains("document 77"),
            "{threads} threads: {stderr}"
        );
        assert!(out.stdout.is_empty(), "{threads} threads wrote output");
    }
}
