//! Defaults taken from the workload, on the binary: the app's port for port parameters
//! (tls-proxy's targetPort, and the Service `new` writes in front of it), the
//! `kubectl.kubernetes.io/default-container` annotation, helpers with ports refused in
//! `hostNetwork` pods, and a mount of a helper's volume name refused.

use std::path::{Path, PathBuf};

use serde_json::Value;

/// A Deployment whose app container `web` declares `ports` (YAML flow list), with `extra`
/// lines appended to the pod spec.
fn deployment(ports: &str, extra: &str) -> String {
    format!(
        "\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
spec:
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      containers:
        - name: web
          image: registry.example.com/shop/web:2.0.1
          ports: {ports}
{extra}"
    )
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn run(file: &Path, args: &[&str]) -> assert_cmd::assert::Assert {
    crate::common::bin()
        .arg("add")
        .args(args)
        .arg("-f")
        .arg(file)
        .assert()
}

fn out(a: &assert_cmd::assert::Assert) -> (String, String) {
    let o = a.get_output();
    (
        String::from_utf8(o.stdout.clone()).unwrap(),
        String::from_utf8(o.stderr.clone()).unwrap(),
    )
}

fn doc(text: &str) -> Value {
    kubectl_pattern::engine::yaml::from_str(text).unwrap()
}

/// The env value `name` of container `container` (containers or init containers).
fn env(object: &Value, container: &str, name: &str) -> String {
    let spec = &object["spec"]["template"]["spec"];
    let all = ["initContainers", "containers"]
        .iter()
        .flat_map(|l| spec[*l].as_array().cloned().unwrap_or_default());
    let c = all
        .into_iter()
        .find(|c| c["name"] == container)
        .unwrap_or_else(|| panic!("no container {container}"));
    c["env"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] == name)
        .unwrap()["value"]
        .as_str()
        .unwrap()
        .to_string()
}

const TLS: [&str; 3] = ["tls-proxy", "--set", "secretName=web-tls"];

#[test]
fn the_apps_one_named_port_is_the_target_and_the_choice_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        dir.path(),
        "web.yaml",
        &deployment("[{name: http, containerPort: 3000}]", ""),
    );
    let a = run(&file, &TLS).success();
    let (stdout, stderr) = out(&a);
    assert_eq!(env(&doc(&stdout), "tls-proxy", "TARGET_PORT"), "3000");
    assert!(
        stderr.contains("targetPort=3000: the port http (3000) of container web, its only port (--set targetPort=PORT to choose another)"),
        "{stderr}"
    );
    let patched = write(dir.path(), "patched.yaml", &stdout);
    crate::common::validate(&patched);
    // A value given wins, and nothing is reported.
    let a = run(&file, &[&TLS[..], &["--set", "targetPort=3001"]].concat()).success();
    let (stdout, stderr) = out(&a);
    assert_eq!(env(&doc(&stdout), "tls-proxy", "TARGET_PORT"), "3001");
    assert!(!stderr.contains("targetPort="), "{stderr}");
}

#[test]
fn several_app_ports_ask_for_a_choice_listing_them() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        dir.path(),
        "web.yaml",
        &deployment(
            "[{name: http, containerPort: 3000}, {name: metrics, containerPort: 9090}]",
            "",
        ),
    );
    let a = run(&file, &TLS).failure();
    let (stdout, stderr) = out(&a);
    assert!(stdout.is_empty(), "{stdout}");
    assert!(
        stderr.contains(r#"parameter targetPort of pattern tls-proxy is the app's port, and container "web" declares several (http=3000, metrics=9090): choose one with --set targetPort=PORT"#),
        "{stderr}"
    );
    assert!(stderr.contains("web.yaml"), "names the input: {stderr}");
    // Choosing one works.
    let a = run(&file, &[&TLS[..], &["--set", "targetPort=9090"]].concat()).success();
    assert_eq!(env(&doc(&out(&a).0), "tls-proxy", "TARGET_PORT"), "9090");
}

#[test]
fn new_with_tls_proxy_points_its_service_at_the_tls_port() {
    let dir = tempfile::tempdir().unwrap();
    let a = crate::common::bin()
        .args([
            "new",
            "statefulset",
            "db",
            "-n",
            "shop",
            "--image",
            "postgres:17.2",
            "--port",
            "5432",
            "--service",
            "-p",
            "tls-proxy",
            "--set",
            "secretName=db-tls",
            "--to",
            "db.yaml",
            "--yes",
        ])
        .current_dir(dir.path())
        .env("XDG_DATA_HOME", "/nonexistent-kubectl-pattern-test")
        .assert()
        .success();
    let stderr = String::from_utf8(a.get_output().stderr.clone()).unwrap();
    assert!(stderr.contains("targetPort=5432"), "{stderr}");
    let path = dir.path().join("db.yaml");
    let text = std::fs::read_to_string(&path).unwrap();
    let docs: Vec<Value> = text
        .split("\n---\n")
        .map(|d| kubectl_pattern::engine::yaml::from_str(d).unwrap())
        .collect();
    // The proxy forwards to the database's port, and the Service sends clients to the proxy.
    assert_eq!(env(&docs[0], "tls-proxy", "TARGET_PORT"), "5432");
    assert_eq!(docs[1]["kind"], "Service");
    assert_eq!(
        docs[1]["spec"]["ports"][0],
        serde_json::json!({"name": "tcp-5432", "port": 5432, "targetPort": "https"})
    );
    crate::common::validate(&path);
}

/// A pod whose mesh proxy is listed first; `annotation` adds the default-container annotation.
fn meshed(annotation: bool) -> String {
    let annotations = if annotation {
        "      annotations:\n        kubectl.kubernetes.io/default-container: web\n"
    } else {
        ""
    };
    format!(
        "\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  selector:
    matchLabels:
      app: web
  template:
    metadata:
{annotations}      labels:
        app: web
    spec:
      containers:
        - name: istio-proxy
          image: docker.io/istio/proxyv2:1.24.2
        - name: web
          image: registry.example.com/shop/web:2.0.1
"
    )
}

/// The containers with a mount at /var/log/app.
fn mounted_on(object: &Value) -> Vec<String> {
    object["spec"]["template"]["spec"]["containers"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| {
            c["volumeMounts"]
                .as_array()
                .is_some_and(|m| m.iter().any(|m| m["mountPath"] == "/var/log/app"))
        })
        .map(|c| c["name"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn the_default_container_annotation_chooses_the_app_container() {
    let dir = tempfile::tempdir().unwrap();
    let annotated = write(dir.path(), "annotated.yaml", &meshed(true));
    let (stdout, _) = out(&run(&annotated, &["log-shipper", "-q"]).success());
    assert_eq!(mounted_on(&doc(&stdout)), ["web"]);
    let patched = write(dir.path(), "patched.yaml", &stdout);
    crate::common::validate(&patched);
    // Without the annotation the first container is the main one…
    let plain = write(dir.path(), "plain.yaml", &meshed(false));
    let (stdout, _) = out(&run(&plain, &["log-shipper", "-q"]).success());
    assert_eq!(mounted_on(&doc(&stdout)), ["istio-proxy"]);
    // …and --container wins over the annotation.
    let (stdout, _) = out(&run(&annotated, &["log-shipper", "-q", "-c", "istio-proxy"]).success());
    assert_eq!(mounted_on(&doc(&stdout)), ["istio-proxy"]);
}

#[test]
fn helpers_with_ports_are_refused_in_host_network_pods_unless_allowed() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        dir.path(),
        "web.yaml",
        &deployment("[{containerPort: 8080}]", "      hostNetwork: true\n"),
    );
    let (stdout, stderr) = out(&run(&file, &TLS).failure());
    assert!(stdout.is_empty(), "{stdout}");
    assert!(
        stderr.contains(r#"the pod uses hostNetwork: true, so helper "tls-proxy" would listen on port 8443 of the node itself"#)
            && stderr.contains("--allow-host-network"),
        "{stderr}"
    );
    let (stdout, stderr) =
        out(&run(&file, &[&TLS[..], &["--allow-host-network"]].concat()).success());
    assert!(
        stderr.contains("hostNetwork: helper tls-proxy listens on port 8443 of the node"),
        "{stderr}"
    );
    assert_eq!(env(&doc(&stdout), "tls-proxy", "LISTEN_PORT"), "8443");
    // A helper without ports (an init container) is not concerned.
    let (stdout, _) = out(&run(&file, &["wait-for", "--set", "host=db", "-q"]).success());
    assert!(stdout.contains("name: wait-for"), "{stdout}");
}

#[test]
fn a_mount_of_a_helper_volume_the_pod_lacks_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    // `log-shipper-logs` is the volume log-shipper adds; the app mounts it without having it.
    let text = deployment("[{containerPort: 8080}]", "").replace(
        "          ports: [{containerPort: 8080}]\n",
        "          ports: [{containerPort: 8080}]\n          volumeMounts:\n            - name: log-shipper-logs\n              mountPath: /data\n",
    );
    let file = write(dir.path(), "web.yaml", &text);
    let (stdout, stderr) = out(&run(&file, &["log-shipper"]).failure());
    assert!(stdout.is_empty(), "{stdout}");
    assert!(
        stderr.contains(r#"container "web" mounts volume "log-shipper-logs", which the pod does not have and pattern instance "log-shipper" would add"#),
        "{stderr}"
    );
    // Under another instance name the volumes differ, and the pattern applies.
    let (stdout, _) = out(&run(&file, &["log-shipper", "--name", "shipper", "-q"]).success());
    assert!(stdout.contains("name: shipper-logs"), "{stdout}");
}
