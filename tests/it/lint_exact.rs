//! `lint` is exact: each false positive found on real workloads, as a case. A StatefulSet's
//! volumeClaimTemplates are volumes (MCP003); this tool's own helpers, known from the tracking
//! annotation, are neither the web server nor the database of MCP009, nor the init container
//! of MCP007; a request left out defaults to the limit (MCP006), which names exactly what is
//! missing. The text output is the findings only, then a summary line.

use serde_json::Value;

use crate::common::bin;

/// `lint -o json` on `input`: the exit code and every finding as (container, rule, message).
fn lint(input: &str) -> (i32, Vec<(String, String, String)>) {
    let out = bin()
        .args(["lint", "-o", "json", "-f", "-"])
        .write_stdin(input)
        .output()
        .unwrap();
    let reports: Vec<Value> = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    let findings = reports
        .iter()
        .flat_map(|r| r["findings"].as_array().cloned().unwrap_or_default())
        .map(|f| {
            let s = |k: &str| f[k].as_str().unwrap_or_default().to_string();
            (s("container"), s("rule"), s("message"))
        })
        .collect();
    (out.status.code().unwrap(), findings)
}

fn rules(findings: &[(String, String, String)]) -> Vec<&str> {
    findings.iter().map(|(_, r, _)| r.as_str()).collect()
}

/// `add ARGS` on `input` (stdin): the output stream.
fn add(input: &str, args: &[&str]) -> String {
    let out = bin()
        .arg("add")
        .args(args)
        .args(["-q", "-f", "-"])
        .write_stdin(input)
        .assert()
        .success()
        .get_output()
        .clone();
    String::from_utf8(out.stdout).unwrap()
}

/// The same stream without the tracking annotation: the helpers look like the user's.
fn untracked(stream: &str) -> String {
    let mut object: Value = kubectl_pattern::engine::yaml::from_str(stream).unwrap();
    let annotations = object["spec"]["template"]["metadata"]["annotations"]
        .as_object_mut()
        .unwrap();
    assert!(
        annotations
            .shift_remove("pattern.kubectl.io/applied")
            .is_some()
    );
    kubectl_pattern::engine::yaml::to_string(&object).unwrap()
}

const RESOURCES: &str =
    "resources: {requests: {cpu: 100m, memory: 64Mi}, limits: {cpu: 500m, memory: 256Mi}}";

#[test]
fn volume_claim_templates_are_volumes() {
    let sts = format!(
        "apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {{name: db}}\nspec:\n  serviceName: db\n  selector: {{matchLabels: {{app: db}}}}\n  template:\n    metadata: {{labels: {{app: db}}}}\n    spec:\n      containers:\n      - name: db\n        image: registry.example.com/shop/db:1.0.0\n        {RESOURCES}\n        volumeMounts: [{{name: data, mountPath: /data}}]\n  volumeClaimTemplates:\n  - metadata: {{name: data}}\n    spec: {{accessModes: [ReadWriteOnce], resources: {{requests: {{storage: 1Gi}}}}}}\n"
    );
    assert_eq!(lint(&sts), (0, vec![]));
    // A mount of neither a volume nor a claim template still fires.
    let ghost = sts.replace("name: data, mountPath", "name: ghost, mountPath");
    let (code, findings) = lint(&ghost);
    assert_eq!(
        (code, rules(&findings)),
        (1, vec!["MCP003"]),
        "{findings:?}"
    );
    assert!(findings[0].2.contains("\"ghost\""), "{findings:?}");
}

/// A Redis Deployment with a TLS-terminating proxy (port 8443, named https) and a traffic
/// splitter (nginx) in front: the web server MCP009 saw was the tool's own helper.
#[test]
fn own_helpers_are_not_the_web_server_beside_a_database() {
    let redis = format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: cache}}\nspec:\n  selector: {{matchLabels: {{app: cache}}}}\n  template:\n    metadata: {{labels: {{app: cache}}}}\n    spec:\n      containers:\n      - name: redis\n        image: redis:7.4.1\n        ports: [{{containerPort: 6379}}]\n        {RESOURCES}\n"
    );
    let tls = add(
        &redis,
        &[
            "tls-proxy",
            "--set",
            "secretName=cache-tls",
            "--set",
            "targetPort=6379",
        ],
    );
    let both = add(
        &tls,
        &[
            "traffic-split",
            "--set",
            "secondaryHost=cache-canary.shop.svc.cluster.local",
            "--set",
            "primaryPort=6379",
        ],
    );
    for stream in [&tls, &both] {
        let (_, findings) = lint(stream);
        assert!(!rules(&findings).contains(&"MCP009"), "{findings:?}");
    }
    // The same containers, untracked, are a web server and a database in one pod.
    let (_, findings) = lint(&untracked(&tls));
    assert!(rules(&findings).contains(&"MCP009"), "{findings:?}");
}

/// The app sets no requests; wait-for's 10m/16Mi init container is then the largest request.
#[test]
fn own_init_helpers_do_not_dominate_the_effective_request() {
    let bare = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: api}\nspec:\n  selector: {matchLabels: {app: api}}\n  template:\n    metadata: {labels: {app: api}}\n    spec:\n      containers:\n      - {name: api, image: registry.example.com/shop/api:2.0.0}\n";
    let waited = add(
        bare,
        &["wait-for", "--set", "host=db.shop.svc.cluster.local"],
    );
    let (_, findings) = lint(&waited);
    assert!(!rules(&findings).contains(&"MCP007"), "{findings:?}");
    let (_, findings) = lint(&untracked(&waited));
    let effective: Vec<_> = findings.iter().filter(|f| f.1 == "MCP007").collect();
    assert_eq!(effective.len(), 2, "cpu and memory: {findings:?}");
    assert_eq!(effective[0].0, "wait-for");
}

fn pod(resources: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Pod\nmetadata: {{name: p}}\nspec:\n  containers:\n  - name: app\n    image: registry.example.com/shop/app:1.0.0\n    resources: {resources}\n"
    )
}

#[test]
fn limits_only_containers_pass_and_the_missing_resource_is_named() {
    // Requests default to limits.
    assert_eq!(
        lint(&pod("{limits: {cpu: 500m, memory: 256Mi}}")),
        (0, vec![])
    );
    let message = |resources: &str| {
        let (code, findings) = lint(&pod(resources));
        assert_eq!(
            (code, rules(&findings)),
            (0, vec!["MCP006"]),
            "{findings:?}"
        );
        findings[0].2.clone()
    };
    let m = message("{requests: {cpu: 100m, memory: 64Mi}, limits: {cpu: 500m}}");
    assert!(m.starts_with("no memory limit:"), "{m}");
    assert!(!m.contains("cpu") && !m.contains("request"), "{m}");
    let m = message("{requests: {cpu: 100m}, limits: {memory: 256Mi}}");
    assert!(m.starts_with("no cpu limit:"), "{m}");
    assert!(!m.contains("memory") && !m.contains("request"), "{m}");
    let m = message("{requests: {memory: 64Mi}}");
    assert!(
        m.starts_with("no cpu request (nor a cpu limit, which a request defaults to)"),
        "{m}"
    );
    assert!(
        m.contains("; no memory limit:") && m.contains("resources.requests.cpu"),
        "{m}"
    );
    assert!(
        !m.contains("cpu limit:") && !m.contains("memory request"),
        "{m}"
    );
    let m = message("{}");
    assert!(m.starts_with("no cpu or memory request"), "{m}");
    assert!(!m.contains("limit:"), "{m}");
}

#[test]
fn lint_text_is_findings_only_and_a_summary() {
    let clean = format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: web}}\nspec:\n  selector: {{matchLabels: {{app: web}}}}\n  template:\n    metadata: {{labels: {{app: web}}}}\n    spec:\n      containers:\n      - name: web\n        image: registry.example.com/shop/web:1.0.0\n        {RESOURCES}\n"
    );
    let broken = format!(
        "apiVersion: v1\nkind: Pod\nmetadata: {{name: p}}\nspec:\n  containers:\n  - name: a\n    image: registry.example.com/shop/a:1.0.0\n    {RESOURCES}\n    volumeMounts: [{{name: ghost, mountPath: /g}}]\n  - name: b\n    image: busybox\n    {RESOURCES}\n"
    );
    let cm = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n";
    let stream = format!("{clean}---\n{cm}---\n{broken}");
    let out = bin()
        .args(["lint", "-f", "-"])
        .write_stdin(stream)
        .assert()
        .code(1)
        .get_output()
        .clone();
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 4, "{text}");
    assert_eq!(lines[0], "pod/p:");
    assert!(
        lines[1].starts_with("  error MCP003 mount-without-volume: mount \"/g\""),
        "{text}"
    );
    assert!(
        lines[2].starts_with("  warning MCP005 unpinned-image: image \"busybox\""),
        "{text}"
    );
    assert_eq!(
        lines[3],
        "2 workloads checked, 1 with findings: 1 error, 1 warning (1 object that is not a workload skipped)"
    );
    // A clean input: the summary only.
    let out = bin()
        .args(["lint", "-f", "-"])
        .write_stdin(clean)
        .assert()
        .success()
        .get_output()
        .clone();
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        "1 workload checked, 0 with findings: 0 errors, 0 warnings\n"
    );
}
