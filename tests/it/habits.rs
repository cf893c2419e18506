//! kubectl habits that work here too: `-l` and `-n` on files (as `kubectl apply -f` reads
//! them), `-k DIR` through the real kubectl, `--diff`'s exit codes (as `kubectl diff`'s), and
//! `inject -l/--selector` (with the first spelling `--select` kept for scripts).

use std::path::{Path, PathBuf};

use crate::common::bin;

/// Two Deployments (app=web, app=api), a ConfigMap without a namespace, and a Namespace.
const STREAM: &str = "\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {app: web}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: web
        image: nginx:1.27.3
---
# the API, left alone by -l app=web
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
  labels: {app: api}
spec:
  selector: {matchLabels: {app: api}}
  template:
    metadata: {labels: {app: api}}
    spec:
      containers:
      - name: api
        image: registry.example.com/shop/api:1.4.2
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
data: {mode: prod}
---
apiVersion: v1
kind: Namespace
metadata:
  name: shop
";

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// The documents of a stream, as text (separators dropped).
fn documents(text: &str) -> Vec<String> {
    text.split("\n---\n")
        .map(|d| d.trim_start_matches("---\n").trim_end().to_string())
        .collect()
}

fn run(cmd: &mut assert_cmd::Command) -> (i32, String, String) {
    let out = cmd.output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

#[test]
fn a_label_selector_chooses_the_objects_of_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "app.yaml", STREAM);
    let (code, out, err) = run(bin()
        .args(["add", "log-shipper", "-l", "app=web", "-f"])
        .arg(&file));
    assert_eq!(code, 0, "{err}");
    let (before, after) = (documents(STREAM), documents(&out));
    assert_eq!(after.len(), 4, "{out}");
    assert!(after[0].contains("name: log-shipper"), "{}", after[0]);
    // The others pass through byte for byte, comments included.
    assert_eq!(after[1..], before[1..]);
    assert!(
        err.contains("deployment/api: skipped (its labels do not match -l app=web)"),
        "{err}"
    );

    // Set-based selectors, as kubectl reads them; status and remove take -l as well.
    let (code, out, err) = run(bin()
        .args(["add", "log-shipper", "-l", "app in (api)", "-q", "-f"])
        .arg(&file));
    assert_eq!(code, 0, "{err}");
    let after = documents(&out);
    assert!(!after[0].contains("log-shipper") && after[1].contains("name: log-shipper"));
    let both = write(dir.path(), "both.yaml", &out);
    let (code, out, err) = run(bin()
        .args(["status", "-l", "app=api", "-o", "json", "-f"])
        .arg(&both));
    assert_eq!(code, 0, "{err}");
    let reports: serde_json::Value = serde_json::from_str(&out).unwrap();
    let api = reports
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["object"]["name"] == "api")
        .unwrap();
    assert_eq!(api["patterns"][0]["instance"], "log-shipper", "{out}");

    // Nothing selected is an error that says why.
    let (code, _, err) = run(bin()
        .args(["add", "log-shipper", "-l", "app=nothing", "-f"])
        .arg(&file));
    assert_eq!(code, 1);
    assert!(err.contains("do not match -l app=nothing"), "{err}");
    let (code, _, err) = run(bin()
        .args(["add", "log-shipper", "-l", "app in prod", "-f"])
        .arg(&file));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("parentheses"), "{err}");
}

#[test]
fn a_namespace_goes_to_namespaced_objects_without_one() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "app.yaml", STREAM);
    let (code, out, err) = run(bin()
        .args(["add", "log-shipper", "-n", "shop", "-q", "-f"])
        .arg(&file));
    assert_eq!(code, 0, "{err}");
    let docs = documents(&out);
    for doc in &docs[..3] {
        assert!(doc.contains("\n  namespace: shop\n"), "{doc}");
    }
    assert!(docs[0].contains("  name: web\n  namespace: shop\n  labels: {app: web}\n"));
    // A Namespace is not namespaced: left as it was.
    assert_eq!(docs[3], documents(STREAM)[3]);
    let patched = write(dir.path(), "patched.yaml", &out);
    crate::common::validate(&patched);

    // The same namespace again changes nothing; another is refused, as kubectl apply -n does.
    let (code, again, err) = run(bin()
        .args(["add", "log-shipper", "-n", "shop", "-q", "-f"])
        .arg(&patched));
    assert_eq!(code, 0, "{err}");
    assert_eq!(again, out);
    let (code, _, err) = run(bin()
        .args(["add", "log-shipper", "-n", "dev", "-f"])
        .arg(&patched));
    assert_eq!(code, 1);
    assert!(
        err.contains("namespace \"shop\", not \"dev\"") && err.contains("pass -n shop"),
        "{err}"
    );
    // -A stays a live-mode flag.
    let (code, _, err) = run(bin().args(["add", "log-shipper", "-A", "-f"]).arg(&file));
    assert_eq!(code, 2);
    assert!(err.contains("-A chooses live objects"), "{err}");
}

#[test]
fn a_kustomization_directory_is_built_with_kubectl() {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("base");
    std::fs::create_dir(&base).unwrap();
    write(&base, "app.yaml", STREAM);
    write(
        &base,
        "kustomization.yaml",
        "resources: [app.yaml]\nnamePrefix: prod-\nnamespace: shop\n",
    );
    let kubectl = crate::common::tool("kubectl");
    let tools = kubectl.parent().unwrap();
    let path = format!("{}:/usr/bin:/bin", tools.display());
    let (code, out, err) = run(bin()
        .env("PATH", &path)
        .args(["add", "log-shipper", "-l", "app=web", "-k"])
        .arg(&base));
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("name: prod-web"), "{out}");
    assert_eq!(
        out.matches("pattern.kubectl.io/applied").count(),
        1,
        "{out}"
    );
    assert!(
        err.contains("deployment/prod-web: added log-shipper"),
        "{err}"
    );
    let patched = write(dir.path(), "patched.yaml", &out);
    crate::common::validate(&patched);

    // --diff shows the change against the build; --in-place has no file to rewrite.
    let (code, diff, _) = run(bin()
        .env("PATH", &path)
        .args(["add", "log-shipper", "--diff", "-q", "-k"])
        .arg(&base));
    assert_eq!(code, 1);
    assert!(
        diff.starts_with("--- kubectl kustomize "),
        "the diff names the build: {diff}"
    );
    assert!(diff.contains("+      initContainers:"), "{diff}");
    let (code, _, err) = run(bin()
        .env("PATH", &path)
        .args(["add", "log-shipper", "--in-place", "-k"])
        .arg(&base));
    assert_eq!(code, 2);
    assert!(err.contains("-k output is generated"), "{err}");

    // Not a kustomization, no builder on PATH, a failing build: each says what to do.
    let (code, _, err) = run(bin().args(["add", "log-shipper", "-k"]).arg(dir.path()));
    assert_eq!(code, 2);
    assert!(err.contains("no kustomization.yaml"), "{err}");
    let empty = tempfile::tempdir().unwrap();
    let (code, _, err) = run(bin()
        .env("PATH", empty.path())
        .args(["add", "log-shipper", "-k"])
        .arg(&base));
    assert_eq!(code, 1);
    assert!(
        err.contains("needs kubectl (kubectl kustomize) or kustomize on PATH"),
        "{err}"
    );
    write(&base, "kustomization.yaml", "resources: [missing.yaml]\n");
    let (code, _, err) = run(bin()
        .env("PATH", &path)
        .args(["add", "log-shipper", "-k"])
        .arg(&base));
    assert_eq!(code, 1);
    assert!(
        err.contains("kubectl kustomize") && err.contains("failed"),
        "{err}"
    );
}

#[test]
fn diff_exits_like_kubectl_diff() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "app.yaml", STREAM);
    // Differences: 1, the diff on stdout.
    let (code, diff, err) = run(bin()
        .args(["add", "log-shipper", "--diff", "-f"])
        .arg(&file));
    assert_eq!(code, 1, "{err}");
    assert!(diff.starts_with("--- "), "{diff}");
    // None: 0, nothing printed.
    let (_, patched, _) = run(bin().args(["add", "log-shipper", "-q", "-f"]).arg(&file));
    let patched = write(dir.path(), "patched.yaml", &patched);
    let (code, diff, err) = run(bin()
        .args(["add", "log-shipper", "--diff", "-f"])
        .arg(&patched));
    assert_eq!((code, diff.as_str()), (0, ""), "{err}");
    let (code, diff, err) = run(bin()
        .args(["remove", "log-shipper", "--diff", "-f"])
        .arg(&patched));
    assert_eq!(code, 1, "{err}");
    assert!(diff.contains("-      initContainers:"), "{diff}");
    // Errors: above 1 (2 usage, 3 any other failure).
    let (code, _, err) = run(bin()
        .args(["add", "log-shipper", "--diff", "-f"])
        .arg(dir.path().join("missing.yaml")));
    assert_eq!(code, 3, "{err}");
    let (code, _, _) = run(bin()
        .args(["add", "no-such-pattern", "--diff", "-f"])
        .arg(&file));
    assert_eq!(code, 2);
    // Without --diff a failure stays 1.
    let (code, _, _) = run(bin()
        .args(["add", "log-shipper", "-f"])
        .arg(dir.path().join("missing.yaml")));
    assert_eq!(code, 1);
}

#[test]
fn inject_takes_kubectls_selector_flag() {
    let out = |flag: &str| {
        let (code, out, err) = run(bin().args(["inject", "log-shipper", flag, "app=web"]));
        assert_eq!(code, 0, "{flag}: {err}");
        out
    };
    let short = out("-l");
    assert!(short.contains("app") && short.contains("web"), "{short}");
    assert_eq!(out("--selector"), short);
    // The first spelling keeps working for scripts, but help shows kubectl's.
    assert_eq!(out("--select"), short);
    let (_, help, _) = run(bin().args(["inject", "--help"]));
    assert!(help.contains("-l, --selector <SELECTOR>"), "{help}");
    assert!(!help.contains("--select "), "{help}");
    assert!(!help.contains("--select\n"), "{help}");
}

#[cfg(feature = "cluster")]
#[test]
fn live_diff_exits_0_once_the_object_has_the_pattern() {
    let live = crate::common::live::Live::with_web();
    let (code, _, err) =
        run(live
            .cmd()
            .args(["add", "log-shipper", "deploy/web", "-n", "shop", "--diff"]));
    assert_eq!(code, 1, "{err}");
    let (code, _, err) = run(live
        .cmd()
        .args(["add", "log-shipper", "deploy/web", "-n", "shop"]));
    assert_eq!(code, 0, "{err}");
    let (code, diff, err) =
        run(live
            .cmd()
            .args(["add", "log-shipper", "deploy/web", "-n", "shop", "--diff"]));
    assert_eq!((code, diff.as_str()), (0, ""), "{err}");
}
