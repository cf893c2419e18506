//! The ecosystem integrations with the real peers (kubectl 1.37 with kustomize 5.8, helm 4,
//! installed by scripts/install-test-tools): kustomize transformer, KRM function mode, the
//! Helm post-renderer plugin and kubectl's plugin completion; outputs validated with
//! kubernetes-validate.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::common::plugins::docs;
use serde_json::{Value, json};

pub(crate) const INTEGRATIONS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/cli/integrations");

/// PATH with the binary under test and the shipped scripts first.
pub(crate) fn path_env() -> String {
    let bin = Path::new(env!("CARGO_BIN_EXE_kubectl-pattern"))
        .parent()
        .unwrap()
        .to_path_buf();
    let mut dirs = vec![bin, PathBuf::from(INTEGRATIONS)];
    dirs.extend(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    ));
    std::env::join_paths(dirs).unwrap().into_string().unwrap()
}

pub(crate) fn tool(name: &str, home: &Path) -> Command {
    let mut cmd = Command::new(crate::common::tool(name));
    cmd.env("PATH", path_env())
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env("XDG_CACHE_HOME", home.join("cache"))
        .env("NO_COLOR", "1")
        .env("HELM_DATA_HOME", home.join("helm-data"))
        .env("HELM_CONFIG_HOME", home.join("helm-config"))
        .env("HELM_CACHE_HOME", home.join("helm-cache"))
        .env("HELM_PLUGINS", home.join("helm-data/plugins"))
        .env_remove("KUBECONFIG");
    cmd
}

/// Installs the helm plugin (cli/integrations/helm-plugin) into the helm of `home`.
pub(crate) fn install_helm_plugin(home: &Path) {
    std::fs::create_dir_all(home.join("helm-data/plugins")).unwrap();
    ok(
        tool("helm", home)
            .args(["plugin", "install"])
            .arg(Path::new(INTEGRATIONS).join("helm-plugin"))
            .output()
            .unwrap(),
        "helm plugin install",
    );
}

pub(crate) fn ok(out: Output, what: &str) -> String {
    let stdout = String::from_utf8(out.stdout).unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{what} failed:\n{stderr}\n{stdout}");
    stdout
}

fn find<'a>(objects: &'a [Value], kind: &str) -> &'a Value {
    objects
        .iter()
        .find(|o| o["kind"] == kind)
        .unwrap_or_else(|| panic!("no {kind} in {objects:#?}"))
}

/// The pod spec has the Fluent Bit native sidecar and the app container its log mount.
fn assert_log_shipper(pod_spec: &Value, app: &str, log_dir: &str) {
    let init = pod_spec["initContainers"]
        .as_array()
        .expect("initContainers");
    let helper = init
        .iter()
        .find(|c| c["name"] == "log-shipper")
        .expect("log-shipper helper");
    assert_eq!(helper["restartPolicy"], "Always", "a native sidecar");
    let main = pod_spec["containers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == app)
        .expect("app container");
    assert!(
        main["volumeMounts"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["mountPath"] == log_dir && m["name"] == "log-shipper-logs"),
        "{main}"
    );
}

fn validate_text(dir: &Path, name: &str, text: &str) {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    crate::common::validate(&path);
}

#[test]
fn kubectl_kustomize_runs_the_transformer() {
    let home = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(crate::common::plugins::EXAMPLE, dir.path().join("web.yaml")).unwrap();
    std::fs::write(
        dir.path().join("kustomization.yaml"),
        "resources:\n- web.yaml\ntransformers:\n- helpers.yaml\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("helpers.yaml"),
        "apiVersion: pattern.kubectl.io/v1alpha1\nkind: PatternTransformer\nmetadata:\n  name: helpers\nspec:\n  patterns: [log-shipper]\n  values: {logDir: /var/log/web}\n",
    )
    .unwrap();
    let out = tool("kubectl", home.path())
        .args(["kustomize", "--enable-alpha-plugins"])
        .arg(dir.path())
        .env(
            "KUSTOMIZE_PLUGIN_HOME",
            Path::new(INTEGRATIONS).join("kustomize"),
        )
        .output()
        .unwrap();
    let text = ok(out, "kubectl kustomize");
    let objects = docs(&text);
    assert_eq!(objects.len(), 2, "the Service passes through");
    let deploy = find(&objects, "Deployment");
    assert_log_shipper(&deploy["spec"]["template"]["spec"], "web", "/var/log/web");
    validate_text(dir.path(), "built.yaml", &text);
}

/// kubectl's built-in kustomize cannot run exec KRM functions (no --enable-exec), which is why
/// the transformer also speaks the exec-plugin protocol. Should kubectl gain the flag, this
/// fails and the exec-function path can be tested through kubectl too.
#[test]
fn kubectl_kustomize_has_no_enable_exec() {
    let home = tempfile::tempdir().unwrap();
    let out = tool("kubectl", home.path())
        .args(["kustomize", "--enable-alpha-plugins", "--enable-exec", "."])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown flag: --enable-exec"));
}

fn resource_list(config: Value) -> Value {
    let mut deploy = crate::common::workload(
        kubectl_pattern::engine::workload::WorkloadKind::Deployment,
        "web",
    );
    deploy["metadata"]["annotations"] = json!({
        "config.kubernetes.io/index": "0",
        "internal.config.kubernetes.io/path": "apps/web.yaml",
    });
    let service = json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"},
        "spec": {"ports": [{"port": 80}]}});
    json!({"apiVersion": "config.kubernetes.io/v1", "kind": "ResourceList",
        "items": [deploy, service], "functionConfig": config})
}

/// Runs the shipped transformer script in KRM function mode (as kustomize and kpt do).
fn run_function(home: &Path, input: &Value) -> (Value, bool, String) {
    let script = Path::new(INTEGRATIONS)
        .join("kustomize/pattern.kubectl.io/v1alpha1/patterntransformer/PatternTransformer");
    let mut child = Command::new(script);
    child
        .env("PATH", path_env())
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env("NO_COLOR", "1");
    let out = assert_cmd::Command::from_std(child)
        .write_stdin(kubectl_pattern::engine::yaml::to_string(input).unwrap())
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let list: Value = kubectl_pattern::engine::yaml::from_str(&text).unwrap();
    (
        list,
        out.status.success(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

#[test]
fn krm_function_mode_transforms_a_resource_list() {
    let home = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let input = resource_list(json!({
        "apiVersion": "pattern.kubectl.io/v1alpha1", "kind": "PatternTransformer",
        "metadata": {"name": "helpers"},
        "spec": {"patterns": ["log-shipper"], "values": {"logDir": "/var/log/web"}}
    }));
    let (out, success, stderr) = run_function(home.path(), &input);
    assert!(success, "{stderr}");
    assert_eq!(out["kind"], "ResourceList");
    let items = out["items"].as_array().unwrap();
    assert_log_shipper(&items[0]["spec"]["template"]["spec"], "app", "/var/log/web");
    assert_eq!(
        items[0]["metadata"]["annotations"], input["items"][0]["metadata"]["annotations"],
        "kustomize's bookkeeping annotations are kept"
    );
    assert_eq!(items[1], input["items"][1], "other kinds pass through");
    assert_eq!(
        out["results"],
        json!([{"message": "log-shipper added (native sidecars)", "severity": "info",
            "resourceRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web", "namespace": "shop"},
            "file": {"path": "apps/web.yaml"}}])
    );
    let mut items_only = Vec::new();
    for item in items {
        let mut item = item.clone();
        item["metadata"]
            .as_object_mut()
            .unwrap()
            .remove("annotations");
        items_only.push(kubectl_pattern::engine::yaml::to_string(&item).unwrap());
    }
    validate_text(dir.path(), "items.yaml", &items_only.join("---\n"));

    // kpt passes key=value arguments as a ConfigMap.
    let input = resource_list(json!({"apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "fn"},
        "data": {"patterns": "wait-for", "host": "db.shop.svc", "mode": "tcp", "port": "5432"}}));
    let (out, success, stderr) = run_function(home.path(), &input);
    assert!(success, "{stderr}");
    let init = &out["items"][0]["spec"]["template"]["spec"]["initContainers"][0];
    assert_eq!(init["name"], "wait-for");
    assert!(init.to_string().contains("db.shop.svc"), "{init}");
}

#[test]
fn krm_function_failures_are_error_results_and_leave_items_alone() {
    let home = tempfile::tempdir().unwrap();
    for (config, needle) in [
        (
            json!({"apiVersion": "pattern.kubectl.io/v1alpha1", "kind": "PatternTransformer",
                "metadata": {"name": "x"}, "spec": {"patterns": ["log-shiper"]}}),
            "did you mean \"log-shipper\"",
        ),
        (
            json!({"apiVersion": "pattern.kubectl.io/v1alpha1", "kind": "PatternTransformer",
                "metadata": {"name": "x"}, "spec": {"patterns": ["log-shipper"], "colour": "red"}}),
            "unknown field `colour`",
        ),
        (
            json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "x"}}),
            "expected pattern.kubectl.io/v1alpha1/PatternTransformer",
        ),
        (
            // The sample workload's container listens on 8080: the helper's port clashes.
            json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"},
                "data": {"patterns": "log-shipper", "httpPort": "8080"}}),
            "port 8080/TCP",
        ),
    ] {
        let input = resource_list(config);
        let (out, success, stderr) = run_function(home.path(), &input);
        assert!(!success, "{needle}: should fail");
        assert_eq!(out["items"], input["items"], "{needle}: items unchanged");
        assert_eq!(out["results"][0]["severity"], "error");
        let message = out["results"][0]["message"].as_str().unwrap();
        assert!(message.contains(needle), "{needle}: {message}");
        assert!(stderr.contains(needle), "{needle}: {stderr}");
    }
}

#[test]
fn helm_post_renderer_plugin_adds_the_sidecar() {
    let home = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    install_helm_plugin(home.path());
    let list = ok(
        tool("helm", home.path())
            .args(["plugin", "list"])
            .output()
            .unwrap(),
        "helm plugin list",
    );
    assert!(
        list.lines()
            .any(|l| l.starts_with("pattern") && l.contains("postrenderer/v1")),
        "{list}"
    );
    ok(
        tool("helm", home.path())
            .current_dir(dir.path())
            .args(["create", "web"])
            .output()
            .unwrap(),
        "helm create",
    );
    let text = ok(
        tool("helm", home.path())
            .current_dir(dir.path())
            .args(["template", "shop", "./web", "--post-renderer", "pattern"])
            .args(["--post-renderer-args", "log-shipper"])
            .args(["--post-renderer-args", "--set=logDir=/var/log/web"])
            .output()
            .unwrap(),
        "helm template --post-renderer pattern",
    );
    let objects = docs(&text);
    let deploy = find(&objects, "Deployment");
    assert_log_shipper(&deploy["spec"]["template"]["spec"], "web", "/var/log/web");
    assert!(
        text.contains("# Source: web/templates/deployment.yaml"),
        "helm keeps its file names through the post-renderer"
    );
    validate_text(dir.path(), "rendered.yaml", &text);
}

#[test]
fn kubectl_completes_the_plugin_through_the_shipped_helper() {
    let home = tempfile::tempdir().unwrap();
    let complete = |words: &[&str]| {
        ok(
            tool("kubectl", home.path())
                .args(["__complete", "pattern"])
                .args(words)
                .output()
                .unwrap(),
            "kubectl __complete",
        )
    };
    let top = complete(&[""]);
    for sub in ["add\t", "inject\t", "fn\t", "list\t"] {
        assert!(top.contains(sub), "{sub}: {top}");
    }
    assert_eq!(complete(&["add", "log-sh"]), "log-shipper\n:4\n");
    assert_eq!(
        complete(&["inject", "log-shipper", "--engine", "ky"])
            .lines()
            .next(),
        Some("kyverno\tA Kyverno ClusterPolicy (for clusters that run Kyverno)")
    );
    assert_eq!(
        complete(&["add", "log-shipper", "-f", ""]),
        ":0\n",
        "file names"
    );
}

#[test]
fn shipped_integration_files_are_consistent() {
    let plugin: Value = kubectl_pattern::engine::yaml::from_str(
        &std::fs::read_to_string(Path::new(INTEGRATIONS).join("helm-plugin/plugin.yaml")).unwrap(),
    )
    .unwrap();
    assert_eq!(plugin["apiVersion"], "v1");
    assert_eq!(plugin["type"], "postrenderer/v1");
    assert_eq!(plugin["name"], "pattern");
    assert_eq!(
        plugin["version"],
        env!("CARGO_PKG_VERSION"),
        "follows Cargo.toml"
    );
    #[cfg(unix)]
    for script in [
        "kubectl_complete-pattern",
        "kustomize/pattern.kubectl.io/v1alpha1/patterntransformer/PatternTransformer",
    ] {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(Path::new(INTEGRATIONS).join(script))
            .unwrap()
            .permissions()
            .mode();
        assert!(mode & 0o111 != 0, "{script} is executable");
    }
}

/// kpt runs the same script as an exec KRM function. kpt is not installed by
/// scripts/install-test-tools (it comes from no registry the project uses), so this runs only
/// on request: `cargo test --test integrations -- --ignored` with kpt on PATH.
#[test]
#[ignore = "needs kpt on PATH; not installed by scripts/install-test-tools"]
fn kpt_runs_the_krm_function() {
    let home = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(crate::common::plugins::EXAMPLE, dir.path().join("web.yaml")).unwrap();
    let script = Path::new(INTEGRATIONS)
        .join("kustomize/pattern.kubectl.io/v1alpha1/patterntransformer/PatternTransformer");
    let out = Command::new("kpt")
        .current_dir(dir.path())
        .env("PATH", path_env())
        .env("XDG_CONFIG_HOME", home.path().join("config"))
        .args(["fn", "eval", "--exec"])
        .arg(script)
        .args(["--", "patterns=log-shipper", "logDir=/var/log/web"])
        .output()
        .expect("kpt on PATH");
    let log = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{log}");
    assert!(log.contains("log-shipper added (native sidecars)"), "{log}");
    let text = std::fs::read_to_string(dir.path().join("web.yaml")).unwrap();
    let objects = docs(&text);
    assert_log_shipper(
        &find(&objects, "Deployment")["spec"]["template"]["spec"],
        "web",
        "/var/log/web",
    );
}
