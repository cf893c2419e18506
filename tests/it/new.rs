//! `new` without a terminal (no stdin, as in CI): every kind scaffolds a valid workload, the
//! result equals `add` on the bare workload, missing answers are all reported at once, and
//! nothing is written on failure.

use std::path::Path;

const KINDS: [&str; 6] = [
    "deployment",
    "statefulset",
    "daemonset",
    "job",
    "cronjob",
    "pod",
];

fn new(dir: &Path, args: &[&str]) -> assert_cmd::assert::Assert {
    crate::common::bin()
        .arg("new")
        .args(args)
        .current_dir(dir)
        .env("XDG_DATA_HOME", "/nonexistent-kubectl-pattern-test")
        .assert()
}

fn stdout(a: &assert_cmd::assert::Assert) -> String {
    String::from_utf8(a.get_output().stdout.clone()).unwrap()
}

fn stderr(a: &assert_cmd::assert::Assert) -> String {
    String::from_utf8(a.get_output().stderr.clone()).unwrap()
}

#[test]
fn bare_workloads_of_every_kind() {
    let dir = tempfile::tempdir().unwrap();
    let mut all = String::new();
    for kind in KINDS {
        let a = new(
            dir.path(),
            &[
                kind,
                "web",
                "-n",
                "shop",
                "--image",
                "nginx:1.27.3",
                "--port",
                "80",
                "--service",
                "--yes",
            ],
        )
        .success();
        all.push_str(&format!("# new {kind}\n{}", stdout(&a)));
    }
    insta::assert_snapshot!("new-bare-every-kind", all);
}

#[test]
fn every_kind_with_patterns_validates() {
    let dir = tempfile::tempdir().unwrap();
    for kind in KINDS {
        let file = format!("{kind}.yaml");
        new(
            dir.path(),
            &[
                kind,
                "app",
                "--image",
                "registry.example.com/shop/app:1.4.2",
                "--port",
                "8080,9090",
                "--service",
                "-p",
                "log-shipper,wait-for,redis-proxy",
                "--set",
                "wait-for.host=db.shop.svc",
                "--set",
                "redis-proxy.servers=redis.cache.svc:6379",
                "--to",
                &file,
                "--yes",
                "--",
                "/app",
                "--listen",
                ":8080",
            ],
        )
        .success();
        crate::common::validate(&dir.path().join(file));
    }
}

#[test]
fn new_with_patterns_equals_add_on_the_bare_workload() {
    let dir = tempfile::tempdir().unwrap();
    let base = [
        "statefulset",
        "db",
        "-n",
        "data",
        "--image",
        "postgres:17.2",
        "--port",
        "5432",
        "--replicas",
        "3",
        "--service",
    ];
    let bare = new(
        dir.path(),
        &[&base[..], &["--to", "bare.yaml", "--yes"]].concat(),
    )
    .success();
    assert!(stdout(&bare).is_empty(), "--to writes the file, not stdout");
    let sets = [
        "--set",
        "wait-for.host=dns.kube-system.svc",
        "--set",
        "git-sync.repo=https://github.com/org/conf",
    ];
    let full = new(
        dir.path(),
        &[
            &base[..],
            &["-p", "wait-for,git-sync"],
            &sets[..],
            &["--yes"],
        ]
        .concat(),
    )
    .success();
    let added = crate::common::bin()
        .args(["add", "wait-for", "git-sync", "-f", "bare.yaml", "-q"])
        .args(sets)
        .current_dir(dir.path())
        .assert()
        .success();
    assert_eq!(stdout(&full), stdout(&added));
    assert!(stdout(&full).contains("name: git-sync"));
}

#[test]
fn every_missing_answer_is_reported_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let a = new(dir.path(), &[]).code(2);
    let err = stderr(&a);
    assert!(err.contains("missing answers: NAME"), "{err}");
    assert!(err.contains("--image"), "{err}");

    let a = new(
        dir.path(),
        &["job", "sync", "-p", "git-sync,wait-for", "--yes"],
    )
    .code(2);
    let err = stderr(&a);
    for needle in ["--image", "--set git-sync.repo=", "--set wait-for.host="] {
        assert!(err.contains(needle), "{needle}: {err}");
    }
    assert!(std::fs::read_dir(dir.path()).unwrap().next().is_none());
}

#[test]
fn add_without_a_terminal_lists_every_missing_parameter() {
    let dir = tempfile::tempdir().unwrap();
    new(
        dir.path(),
        &[
            "deployment",
            "web",
            "--image",
            "nginx:1.27.3",
            "--to",
            "d.yaml",
            "--yes",
        ],
    )
    .success();
    let a = crate::common::bin()
        .args(["add", "git-sync", "wait-for", "-f", "d.yaml"])
        .current_dir(dir.path())
        .assert()
        .code(2);
    let err = stderr(&a);
    for needle in [
        "pattern git-sync needs repo: set --set git-sync.repo=…",
        "pattern wait-for needs host: set --set wait-for.host=…",
        "run with -i",
    ] {
        assert!(err.contains(needle), "{needle}: {err}");
    }
}

#[test]
fn bad_answers_name_the_flag_and_write_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let cases: &[(&[&str], &str)] = &[
        (
            &["deployment", "Web_1", "--image", "nginx:1.27.3", "--yes"],
            "NAME: \"Web_1\" is not a valid name",
        ),
        (
            &["deployment", "web", "--image", "nginx latest", "--yes"],
            "--image: \"nginx latest\" is not an image reference",
        ),
        (
            &[
                "deployment",
                "web",
                "--image",
                "nginx:1",
                "--port",
                "80,80",
                "--yes",
            ],
            "--port: port 80 is given twice",
        ),
        (
            &[
                "cronjob",
                "web",
                "--image",
                "nginx:1",
                "--schedule",
                "often",
                "--yes",
            ],
            "--schedule: \"often\" is not a cron schedule",
        ),
        (
            &[
                "deployment",
                "web",
                "--image",
                "nginx:1",
                "-p",
                "log-shiper",
                "--yes",
            ],
            "did you mean \"log-shipper\"",
        ),
        (
            &[
                "deployment",
                "web",
                "--image",
                "nginx:1",
                "--to",
                "no/such/dir/x.yaml",
                "--yes",
            ],
            "directory no/such/dir does not exist",
        ),
    ];
    for (args, needle) in cases {
        let a = new(dir.path(), args).failure();
        let err = stderr(&a);
        assert!(err.contains(needle), "{args:?}: {err}");
    }
    assert!(std::fs::read_dir(dir.path()).unwrap().next().is_none());
}

#[test]
fn an_existing_file_is_replaced_only_with_overwrite() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("web.yaml"), "keep me\n").unwrap();
    let args = [
        "deployment",
        "web",
        "--image",
        "nginx:1.27.3",
        "--to",
        "web.yaml",
        "--yes",
    ];
    let a = new(dir.path(), &args).code(2);
    assert!(stderr(&a).contains("pass --overwrite"), "{}", stderr(&a));
    assert_eq!(
        std::fs::read_to_string(dir.path().join("web.yaml")).unwrap(),
        "keep me\n"
    );
    new(dir.path(), &[&args[..], &["--overwrite"]].concat()).success();
    let text = std::fs::read_to_string(dir.path().join("web.yaml")).unwrap();
    assert!(
        text.starts_with("apiVersion: apps/v1\nkind: Deployment\n"),
        "{text}"
    );
}

#[test]
fn saved_values_replay_and_flags_win() {
    let dir = tempfile::tempdir().unwrap();
    let first = new(
        dir.path(),
        &[
            "cronjob",
            "report",
            "--image",
            "busybox:1.37.0",
            "--schedule",
            "0 3 * * *",
            "-p",
            "wait-for",
            "--set",
            "wait-for.host=db.shop.svc",
            "--set",
            "wait-for.mode=tcp",
            "--set",
            "wait-for.port=5432",
            "--save-values",
            "report.values.yaml",
            "--yes",
            "--",
            "sh",
            "-c",
            "date",
        ],
    )
    .success();
    let values = std::fs::read_to_string(dir.path().join("report.values.yaml")).unwrap();
    insta::assert_snapshot!("new-saved-values", values);
    let replay = new(
        dir.path(),
        &["--values-file", "report.values.yaml", "--yes"],
    )
    .success();
    assert_eq!(stdout(&replay), stdout(&first));
    let renamed = new(
        dir.path(),
        &[
            "cronjob",
            "nightly",
            "--values-file",
            "report.values.yaml",
            "--yes",
        ],
    )
    .success();
    assert!(stdout(&renamed).contains("name: nightly"));
    assert!(stdout(&renamed).contains("value: \"5432\""));
}

#[test]
fn help_shows_examples_and_the_values_file_format() {
    let a = crate::common::bin()
        .args(["new", "--help"])
        .assert()
        .success();
    let help = stdout(&a);
    for needle in [
        "Examples:",
        "kubectl pattern new deployment web",
        "--values-file",
        "patterns: {",
        "statefulset: apps/v1 StatefulSet",
    ] {
        assert!(help.contains(needle), "{needle}:\n{help}");
    }
}
