//! Bad parameters and flags: each fails with a message naming the parameter and what it
//! accepts, no panic, and no file changed. A request that is wrong (unknown, invalid or
//! missing parameters, a malformed values file) is a usage error, exit code 2; a file that
//! cannot be read is a failure, 1.

use crate::common::bad::{Case, DEPLOY};

#[test]
fn missing_required_parameters_are_all_listed() {
    let c = Case::new();
    c.file("d.yaml", DEPLOY);
    c.fails(
        &["add", "git-sync", "-f", "d.yaml"],
        None,
        2,
        &["git-sync needs repo", "--set repo="],
    );
}

#[test]
fn out_of_range_port() {
    let c = Case::new();
    c.file("d.yaml", DEPLOY);
    c.fails(
        &[
            "add",
            "prometheus-exporter",
            "--set",
            "metricsPort=99999",
            "-f",
            "d.yaml",
        ],
        None,
        2,
        &["metricsPort", "99999", "not a port (1-65535)"],
    );
}

#[test]
fn invalid_dns_name() {
    let c = Case::new();
    c.file("d.yaml", DEPLOY);
    c.fails(
        &[
            "add",
            "wait-for",
            "--set",
            "host=Not_A_Host",
            "-f",
            "d.yaml",
        ],
        None,
        2,
        &["host", "\"Not_A_Host\"", "not a DNS name"],
    );
}

#[test]
fn image_with_spaces() {
    let c = Case::new();
    c.file("d.yaml", DEPLOY);
    c.fails(
        &[
            "add",
            "log-shipper",
            "--set",
            "image=fluent bit:3",
            "-f",
            "d.yaml",
        ],
        None,
        2,
        &["image", "not an image reference"],
    );
}

#[test]
fn newline_and_evil_key_in_a_typed_value() {
    let c = Case::new();
    c.file("d.yaml", DEPLOY);
    c.fails(
        &[
            "add",
            "wait-for",
            "--set",
            "host=db\nevil: true",
            "-f",
            "d.yaml",
        ],
        None,
        2,
        &["host", "not a DNS name"],
    );
}

#[test]
fn newline_and_evil_key_in_a_string_value_stays_a_string() {
    let c = Case::new();
    let input = c.file("d.yaml", DEPLOY);
    let out = crate::common::bin()
        .args([
            "add",
            "log-shipper",
            "--set",
            "logDir=/var/log/x\nevil: true",
            "-q",
            "-f",
        ])
        .arg(&input)
        .output()
        .unwrap();
    if out.status.success() {
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(
            !text.lines().any(|l| l.trim_start().starts_with("evil:")),
            "key injected:\n{text}"
        );
    } else {
        // a pattern may also refuse such a path outright
        assert!(String::from_utf8_lossy(&out.stderr).contains("logDir"));
    }
}

#[test]
fn unknown_parameter_suggests_the_nearest() {
    let c = Case::new();
    c.file("d.yaml", DEPLOY);
    c.fails(
        &["add", "log-shipper", "--set", "logdir=/x", "-f", "d.yaml"],
        None,
        2,
        &["unknown parameter \"logdir\"", "did you mean \"logDir\""],
    );
}

#[test]
fn set_without_equals() {
    let c = Case::new();
    c.file("d.yaml", DEPLOY);
    c.fails(
        &["add", "log-shipper", "--set", "logDir", "-f", "d.yaml"],
        None,
        2,
        &["--set \"logDir\": expected NAME=VALUE"],
    );
}

#[test]
fn bad_kube_version_is_a_usage_error() {
    let c = Case::new();
    c.file("d.yaml", DEPLOY);
    c.fails(
        &[
            "add",
            "log-shipper",
            "--kube-version",
            "latest",
            "-f",
            "d.yaml",
        ],
        None,
        2,
        &["--kube-version \"latest\"", "MAJOR.MINOR"],
    );
}

#[test]
fn native_mode_on_an_old_cluster_is_a_usage_error() {
    let c = Case::new();
    c.file("d.yaml", DEPLOY);
    c.fails(
        &[
            "add",
            "log-shipper",
            "--sidecar-mode",
            "native",
            "--kube-version",
            "1.28",
            "-f",
            "d.yaml",
        ],
        None,
        2,
        &["needs Kubernetes >= 1.29"],
    );
}

#[test]
fn invalid_instance_name() {
    let c = Case::new();
    c.file("d.yaml", DEPLOY);
    c.fails(
        &["add", "log-shipper", "--name", "Bad_Name", "-f", "d.yaml"],
        None,
        2,
        &["instance name \"Bad_Name\"", "DNS label"],
    );
}

#[test]
fn name_with_two_patterns_is_a_usage_error() {
    let c = Case::new();
    c.file("d.yaml", DEPLOY);
    c.fails(
        &["add", "log-shipper", "init", "--name", "x", "-f", "d.yaml"],
        None,
        2,
        &["--name", "exactly one pattern"],
    );
}

#[test]
fn values_file_problems() {
    let c = Case::new();
    c.file("d.yaml", DEPLOY);
    c.fails(
        &[
            "add",
            "log-shipper",
            "--values-file",
            "nope.yaml",
            "-f",
            "d.yaml",
        ],
        None,
        1,
        &["cannot read values file nope.yaml"],
    );
    c.file("v.yaml", "- a\n- b\n");
    c.fails(
        &[
            "add",
            "log-shipper",
            "--values-file",
            "v.yaml",
            "-f",
            "d.yaml",
        ],
        None,
        2,
        &["values file v.yaml", "mapping"],
    );
}

#[test]
fn a_mistyped_pattern_scope_is_not_ignored() {
    let c = Case::new();
    c.file("d.yaml", DEPLOY);
    c.fails(
        &[
            "add",
            "log-shipper",
            "--set",
            "logshipper.logDir=/x",
            "-f",
            "d.yaml",
        ],
        None,
        2,
        &[
            "--set logshipper.logDir:",
            "\"logshipper\" is not a pattern of this run (log-shipper)",
        ],
    );
}
