//! A pattern applied twice with nothing but `--name`: the second instance's port parameters,
//! left to their defaults, move to ports no container of the pod uses (the report says which),
//! for every built-in pattern; and a port that was given, or a re-added instance, gets a
//! clash message naming the parameter and a free value.

use std::collections::BTreeSet;

use kubectl_pattern::engine::catalogue::Catalogue;
use kubectl_pattern::engine::workload::WorkloadKind;
use serde_json::Value;

/// Every port a running container of the pod template declares, with its container;
/// duplicates fail the test.
fn declared_ports(object: &Value) -> BTreeSet<(i64, String)> {
    let spec = &object["spec"]["template"]["spec"];
    let running = spec["containers"].as_array().into_iter().flatten().chain(
        spec["initContainers"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|c| c["restartPolicy"] == "Always"),
    );
    let mut seen = BTreeSet::new();
    for c in running {
        for p in c["ports"].as_array().into_iter().flatten() {
            let port = p["containerPort"].as_i64().unwrap();
            let protocol = p["protocol"].as_str().unwrap_or("TCP").to_string();
            assert!(
                seen.insert((port, protocol.clone())),
                "port {port}/{protocol} declared twice: {}",
                serde_json::to_string_pretty(spec).unwrap()
            );
        }
    }
    seen
}

fn add(id: &str, sets: &[String], extra: &[&str], input: &[u8]) -> std::process::Output {
    let mut cmd = crate::common::bin();
    cmd.args(["add", id, "-f", "-"]).args(extra);
    for set in sets {
        cmd.arg("--set").arg(set);
    }
    cmd.write_stdin(input.to_vec()).output().unwrap()
}

/// The `--set NAME=VALUE` a clash message proposes, if it names one.
fn proposed_set(err: &str) -> Option<String> {
    let at = err.find("--set ")?;
    let rest = &err[at + "--set ".len()..];
    Some(rest.split_whitespace().next()?.to_string())
}

/// Checks a second instance that went in: every declared port once, both instances recorded,
/// no lint error about ports or names, valid for Kubernetes 1.37, and a re-run changes nothing.
fn check_second(id: &str, name: &str, sets: &[String], text: &str, dir: &std::path::Path) {
    let object: Value = kubectl_pattern::engine::yaml::from_str(text).unwrap();
    declared_ports(&object);
    let status = crate::common::bin()
        .args(["status", "-o", "json", "-f", "-"])
        .write_stdin(text.to_string())
        .output()
        .unwrap();
    let reports: Value = serde_json::from_slice(&status.stdout).unwrap();
    let instances: Vec<&str> = reports[0]["patterns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["instance"].as_str().unwrap())
        .collect();
    assert_eq!(instances, [id, name], "{id}");
    let lint = crate::common::bin()
        .args(["lint", "-o", "json", "-f", "-"])
        .write_stdin(text.to_string())
        .output()
        .unwrap();
    let findings = String::from_utf8_lossy(&lint.stdout);
    assert!(!findings.contains("MCP001"), "{id}: {findings}");
    assert!(!findings.contains("MCP002"), "{id}: {findings}");
    let path = dir.join(format!("{id}.yaml"));
    std::fs::write(&path, text).unwrap();
    crate::common::validate(&path);
    let mut args = vec!["--name", name, "-q"];
    let extra: Vec<String> = sets
        .iter()
        .flat_map(|s| ["--set".to_string(), s.clone()])
        .collect();
    args.extend(extra.iter().map(String::as_str));
    let again = add(id, &[], &args, text.as_bytes());
    assert!(again.status.success(), "{id} re-run");
    assert_eq!(
        String::from_utf8(again.stdout).unwrap(),
        text,
        "{id} re-run"
    );
}

#[test]
fn every_builtin_pattern_applies_twice_with_only_another_name() {
    let dir = tempfile::tempdir().unwrap();
    let base = crate::common::workload(WorkloadKind::Deployment, "app");
    let input = kubectl_pattern::engine::yaml::to_string(&base).unwrap();
    let (mut direct, mut told) = (Vec::new(), Vec::new());
    for pattern in Catalogue::builtin().patterns() {
        let id = &pattern.spec().id;
        let sets = crate::common::required_sets(pattern.as_ref());
        let first = add(id, &sets, &["-q"], input.as_bytes());
        assert!(
            first.status.success(),
            "{id}: {}",
            String::from_utf8_lossy(&first.stderr)
        );
        let name = format!("{id}-2");
        let second = add(id, &sets, &["--name", &name], &first.stdout);
        let err = String::from_utf8_lossy(&second.stderr).to_string();
        // What moved is said on stderr, with the parameter.
        for line in err.lines().filter(|l| l.contains("is taken in the pod")) {
            assert!(line.contains("using") && line.contains("--set"), "{line}");
        }
        if second.status.success() {
            let text = String::from_utf8(second.stdout).unwrap();
            check_second(id, &name, &sets, &text, dir.path());
            direct.push(id.clone());
            continue;
        }
        // Otherwise the message says what to set: a parameter of the pattern and a free
        // value, which then works; or, for a variable the pattern sets on the app container
        // itself, that another app container is needed.
        assert_eq!(second.status.code(), Some(1), "{id}: {err}");
        match proposed_set(&err) {
            Some(set) => {
                let param = set.split('=').next().unwrap();
                assert!(
                    pattern.spec().params.iter().any(|p| p.name == param),
                    "{id}: {set} names no parameter: {err}"
                );
                let mut fixed = sets.clone();
                fixed.push(set.clone());
                let third = add(id, &fixed, &["--name", &name, "-q"], &first.stdout);
                let third_err = String::from_utf8_lossy(&third.stderr);
                assert!(third.status.success(), "{id} with --set {set}: {third_err}");
                let text = String::from_utf8(third.stdout).unwrap();
                check_second(id, &name, &fixed, &text, dir.path());
            }
            None => assert!(
                err.contains("another app container (-c NAME)"),
                "{id}: {err}"
            ),
        }
        told.push(id.clone());
    }
    // Ports move by themselves: the patterns whose only clash is a port need nothing more.
    for id in ["tls-proxy", "traffic-split", "wait-for"] {
        assert!(
            direct.iter().any(|d| d == id),
            "{id}: direct {direct:?}, told {told:?}"
        );
    }
}

#[test]
fn log_shipper_twice_moves_its_http_port_and_says_so() {
    let base = crate::common::workload(WorkloadKind::Deployment, "app");
    let input = kubectl_pattern::engine::yaml::to_string(&base).unwrap();
    let first = add("log-shipper", &[], &["-q"], input.as_bytes());
    // Only --name: the port would move, but the log directory is the first one's; the message
    // names the parameter and a free path.
    let second = add("log-shipper", &[], &["--name", "logs2"], &first.stdout);
    let err = String::from_utf8_lossy(&second.stderr);
    assert_eq!(second.status.code(), Some(1), "{err}");
    assert!(
        err.contains("mount path \"/var/log/app\" on container \"app\"")
            && err.contains("--set logDir=/var/log/app-2 (free on container \"app\""),
        "{err}"
    );
    let sets = ["logDir=/var/log/other".to_string()];
    let second = add("log-shipper", &sets, &["--name", "logs2"], &first.stdout);
    let err = String::from_utf8_lossy(&second.stderr);
    assert!(second.status.success(), "{err}");
    assert!(
        err.contains("logs2: port 2020 (httpPort, its default) is taken in the pod: using 2021"),
        "{err}"
    );
    let object: Value =
        kubectl_pattern::engine::yaml::from_str(std::str::from_utf8(&second.stdout).unwrap())
            .unwrap();
    let ports = declared_ports(&object);
    assert!(ports.contains(&(2020, "TCP".into())) && ports.contains(&(2021, "TCP".into())));
}

#[test]
fn a_given_port_that_clashes_names_the_parameter_and_a_free_value() {
    let base = crate::common::workload(WorkloadKind::Deployment, "app");
    let input = kubectl_pattern::engine::yaml::to_string(&base).unwrap();
    let first = add("log-shipper", &[], &["-q"], input.as_bytes());
    // Given explicitly: never moved, the message says what to set.
    let out = add(
        "log-shipper",
        &["httpPort=2020".into(), "logDir=/var/log/other".into()],
        &["--name", "logs2"],
        &first.stdout,
    );
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(
            "port 2020/TCP of helper \"logs2\" is already used by container \"log-shipper\""
        ) && err.contains("--set httpPort=2021 (free in this pod)"),
        "{err}"
    );
    // The app's own port: 8080 is the sample app's.
    let out = add(
        "prometheus-exporter",
        &["metricsPort=8080".into()],
        &[],
        input.as_bytes(),
    );
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--set metricsPort=8081 (free in this pod)"),
        "{err}"
    );
}
