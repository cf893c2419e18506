//! Details of the built-in helpers found by running the real helper programs against the
//! generated configuration: Fluent Bit's OpenTelemetry output keeps the pod identity as
//! attributes, TLS outputs take a CA from a Secret and a verify switch, git-sync v4 gets no
//! `GITSYNC_SSH` (it ignores it), and traffic-split reaches the app on 127.0.0.1 (localhost
//! resolves to ::1 first, which IPv4-only apps refuse).

use serde_json::Value;

use crate::common::{bin, validate};

const EXAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/examples/web.yaml");

/// `add ARGS -f docs/examples/web.yaml`: the Deployment, validated against the 1.37 schemas.
fn add(args: &[&str]) -> Value {
    let out = bin()
        .arg("add")
        .args(args)
        .args(["-q", "-f", EXAMPLE])
        .assert()
        .success()
        .get_output()
        .clone();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("out.yaml");
    std::fs::write(&path, &out.stdout).unwrap();
    validate(&path);
    let text = String::from_utf8(out.stdout).unwrap();
    crate::common::plugins::docs(&text)
        .into_iter()
        .find(|o| o["kind"] == "Deployment")
        .unwrap()
}

/// The helper named `name` (an init container or a container) of `deploy`.
fn helper<'a>(deploy: &'a Value, name: &str) -> &'a Value {
    let spec = &deploy["spec"]["template"]["spec"];
    ["initContainers", "containers"]
        .iter()
        .filter_map(|list| spec[*list].as_array())
        .flatten()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no {name} in {spec:#}"))
}

fn args(c: &Value) -> Vec<&str> {
    c["args"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect()
}

fn env_names(c: &Value) -> Vec<&str> {
    c["env"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["name"].as_str().unwrap())
        .collect()
}

#[test]
fn log_shipper_opentelemetry_keeps_the_pod_identity_as_attributes() {
    let otel = add(&[
        "log-shipper",
        "--set",
        "output=opentelemetry",
        "--set",
        "outputHost=otel-collector.observability.svc.cluster.local",
        "--set",
        "outputPort=4318",
    ]);
    let a = args(helper(&otel, "log-shipper"));
    assert!(a.contains(&"logs_body_key_attributes=true"), "{a:?}");
    assert!(a.contains(&"Add=k8s_pod_name $(POD_NAME)"), "{a:?}");
    for output in ["stdout", "loki"] {
        let mut sets = vec!["log-shipper", "--set"];
        let o = format!("output={output}");
        sets.push(&o);
        if output != "stdout" {
            sets.extend(["--set", "outputHost=loki.logs.svc.cluster.local"]);
        }
        let other = add(&sets);
        let a = args(helper(&other, "log-shipper"));
        assert!(
            !a.iter().any(|x| x.starts_with("logs_body_key")),
            "{output}: {a:?}"
        );
    }
}

#[test]
fn log_shipper_tls_output_takes_a_ca_secret_and_a_verify_switch() {
    let deploy = add(&[
        "log-shipper",
        "--set",
        "output=forward",
        "--set",
        "outputHost=fluentd.logging.svc.cluster.local",
        "--set",
        "outputTls=true",
        "--set",
        "outputCaSecret=logging-ca",
    ]);
    let shipper = helper(&deploy, "log-shipper");
    insta::assert_yaml_snapshot!("log-shipper-tls-ca", shipper);
    let a = args(shipper);
    assert!(a.contains(&"tls=on"), "{a:?}");
    assert!(
        a.contains(&"tls.ca_file=/etc/fluent-bit/ca/ca.crt"),
        "{a:?}"
    );
    assert!(!a.contains(&"tls.verify=off"), "verified by default: {a:?}");
    let volumes = deploy["spec"]["template"]["spec"]["volumes"]
        .as_array()
        .unwrap();
    let ca = volumes
        .iter()
        .find(|v| v["name"] == "log-shipper-ca")
        .unwrap();
    assert_eq!(ca["secret"]["secretName"], "logging-ca");
    let unverified = add(&[
        "log-shipper",
        "--set",
        "output=http",
        "--set",
        "outputHost=logs.example.com",
        "--set",
        "outputTls=true",
        "--set",
        "outputTlsVerify=false",
    ]);
    let shipper = helper(&unverified, "log-shipper");
    let a = args(shipper);
    assert!(a.contains(&"tls.verify=off"), "{a:?}");
    assert!(!a.iter().any(|x| x.starts_with("tls.ca_file")), "{a:?}");
    assert!(
        !shipper.to_string().contains("log-shipper-ca"),
        "no CA volume without outputCaSecret"
    );
}

#[test]
fn log_shipper_tls_options_without_tls_are_refused() {
    for (set, needle) in [
        (
            "outputCaSecret=logging-ca",
            "outputCaSecret is used only with TLS",
        ),
        (
            "outputTlsVerify=false",
            "outputTlsVerify=false is used only with TLS",
        ),
    ] {
        let out = bin()
            .args(["add", "log-shipper", "--set", "output=forward"])
            .args(["--set", "outputHost=fluentd.logging.svc.cluster.local"])
            .args(["--set", set, "-f", EXAMPLE])
            .assert()
            .failure()
            .get_output()
            .clone();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains(needle) && stderr.contains("--set outputTls=true"),
            "{stderr}"
        );
        assert!(out.stdout.is_empty());
    }
}

#[test]
fn git_sync_v4_gets_no_gitsync_ssh() {
    for (pattern, extra) in [
        ("git-sync", "--set=sshSecret=git-creds"),
        ("git-clone", "--set=sshSecret=git-creds"),
    ] {
        let deploy = add(&[
            pattern,
            "--set",
            "repo=git@github.com:example/site.git",
            extra,
        ]);
        let env = env_names(helper(&deploy, pattern));
        assert!(env.contains(&"GITSYNC_SSH_KEY_FILE"), "{pattern}: {env:?}");
        assert!(!env.contains(&"GITSYNC_SSH"), "{pattern}: {env:?}");
    }
}

#[test]
fn traffic_split_reaches_the_app_on_ipv4_loopback() {
    let deploy = add(&[
        "traffic-split",
        "--set",
        "secondaryHost=web-canary.shop.svc.cluster.local",
    ]);
    let env = helper(&deploy, "traffic-split")["env"].as_array().unwrap();
    let primary = env.iter().find(|e| e["name"] == "PRIMARY_HOST").unwrap();
    assert_eq!(primary["value"], "127.0.0.1");
}
