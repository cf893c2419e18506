//! A repository kept in Git, as a team keeps it: several apps with comments everywhere
//! (`# renovate:` and Flux `# {"$imagepolicy": …}` markers), octal modes, long image strings,
//! flow and block styles, CRLF, a pretty JSON file, a kustomize base and overlay with their
//! `kustomization.yaml` (one without apiVersion), a strategic-merge patch holding a partial
//! Deployment and JSON 6902 patches (YAML and JSON), a Helm chart (`Chart.yaml`, `values.yaml`,
//! an unrendered template) and what the real `helm template` renders from it, and a CI workflow.
//! `add -R --in-place` skips and reports once each file that is not a Kubernetes object, passes
//! the patch through, and only inserts lines elsewhere (git diff: nothing removed, every hunk a
//! helper part); `remove` gives back every file byte for byte; a second `add` changes nothing.

use std::path::Path;
use std::process::Command;

use crate::common::{bin, tool};

const WEB: &str = r#"# The shop front end.
# Owner: team-web
apiVersion: apps/v1
kind: Deployment
metadata:
    name: web # the web tier
    labels: {app: web, tier: front}
spec:
    replicas: 2
    selector:
        matchLabels:
            app: web
    template:
        metadata:
            labels:
                app: web
            annotations: # none yet
        spec:
            containers:
                # the app itself
                -   name: web
                    # renovate: datasource=docker depName=ghcr.io/example/shop-frontend
                    image: ghcr.io/example/shop-frontend-with-a-rather-long-repository-name:v1.2.3@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef # {"$imagepolicy": "flux-system:web"}
                    args: ["--listen", ':8080']
                    ports:
                        - containerPort: 8080
                          name: http
                    env:
                        # - name: DEBUG
                        #   value: "1"
                        - name: MODE
                          value: 'prod'
            volumes:
                - name: secret
                  secret:
                      secretName: web
                      defaultMode: 0400   # read-only for the owner
"#;

const SERVICE: &str = "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\nspec:\n  ports: [{port: 80, targetPort: http}]\n";

const API: &str = "---\r\n# config first\r\napiVersion: v1\r\nkind: ConfigMap\r\nmetadata:\r\n  name: api\r\ndata:\r\n  long: >-\r\n    folded text\r\n    over lines\r\n---\r\napiVersion: apps/v1\r\nkind: Deployment\r\nmetadata:\r\n  name: api\r\n  annotations:\r\n    team: api  # who to page\r\nspec:\r\n  selector:\r\n    matchLabels: {app: api}\r\n  template:\r\n    metadata:\r\n      labels: {app: api}\r\n    spec:\r\n      initContainers:\r\n      - name: migrate\r\n        image: \"ghcr.io/example/api:2.0.0\" # {\"$imagepolicy\": \"flux-system:api\"}\r\n      containers:\r\n      - name: api\r\n        image: ghcr.io/example/api:2.0.0\r\n        env: [{name: A, value: \"1\"}]\r\n        volumeMounts:\r\n      volumes:\r\n";

const WORKER: &str = "{\n  \"apiVersion\": \"apps/v1\",\n  \"kind\": \"StatefulSet\",\n  \"metadata\": {\"name\": \"worker\"},\n  \"spec\": {\n    \"serviceName\": \"worker\",\n    \"selector\": {\"matchLabels\": {\"app\": \"worker\"}},\n    \"template\": {\n      \"metadata\": {\"labels\": {\"app\": \"worker\"}},\n      \"spec\": {\n        \"containers\": [\n          {\n            \"name\": \"worker\",\n            \"image\": \"ghcr.io/example/worker:3.1.0\"\n          }\n        ]\n      }\n    }\n  }\n}\n";

const BASE: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: cart\nspec:\n  selector:\n    matchLabels:\n      app: cart\n  template:\n    metadata:\n      labels:\n        app: cart\n    spec:\n      containers:\n        - name: cart\n          image: ghcr.io/example/cart:1.0.0 # {\"$imagepolicy\": \"flux-system:cart\"}\n          resources:\n            limits: {memory: 128Mi}\n";

const KUSTOMIZATION_BASE: &str = "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - deployment.yaml\n";
/// Without apiVersion and kind, as most overlays are written.
const KUSTOMIZATION_OVERLAY: &str = "resources:\n  - ../../base\nnamePrefix: prod-\npatches:\n  - path: resources.yaml\n  - path: replicas.yaml\n    target: {kind: Deployment, name: cart}\n  - path: probe.json\n    target: {kind: Deployment, name: cart}\n";
/// A strategic-merge patch: a partial Deployment (no selector, no image).
const PATCH_RESOURCES: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: cart\nspec:\n  template:\n    spec:\n      containers:\n        - name: cart\n          resources:\n            limits: {memory: 256Mi}\n";
const PATCH_REPLICAS: &str = "- op: replace\n  path: /spec/replicas\n  value: 3\n";
const PATCH_PROBE: &str = "[\n  {\"op\": \"add\", \"path\": \"/spec/template/spec/containers/0/readinessProbe\", \"value\": {\"httpGet\": {\"path\": \"/healthz\", \"port\": 8080}}}\n]\n";
const WORKFLOW: &str = "name: ci\non:\n  push:\n    branches: [main]\njobs:\n  validate:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@v4\n      - run: kubectl kustomize kustomize/overlays/prod\n";

/// A CRD-only file (an operator's install manifests): no workload in it.
const CRD: &str = "# Installed before the operator.\napiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: widgets.example.com\nspec:\n  group: example.com\n  names: {kind: Widget, plural: widgets}\n  scope: Namespaced\n  versions:\n    - name: v1\n      served: true\n      storage: true\n      schema:\n        openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}\n";

const CHART: &str = "apiVersion: v2\nname: queue\nversion: 0.1.0\n";
const CHART_DEPLOYMENT: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ .Release.Name }}-queue\n  labels:\n    app.kubernetes.io/name: queue\nspec:\n  selector:\n    matchLabels:\n      app.kubernetes.io/name: queue\n  template:\n    metadata:\n      labels:\n        app.kubernetes.io/name: queue\n    spec:\n      containers:\n        - name: queue\n          image: \"{{ .Values.image }}\"\n          ports:\n            - containerPort: 5672\n";

fn write(root: &Path, rel: &str, text: &str) {
    let path = root.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

fn git(root: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args([
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@example.com",
            "-c",
            "core.autocrlf=false",
        ])
        .args(args)
        .current_dir(root)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// The files that are not Kubernetes manifests, each reported once as skipped.
const NOT_MANIFESTS: [&str; 7] = [
    ".github/workflows/ci.yml",
    "charts/queue/Chart.yaml",
    "charts/queue/templates/deployment.yaml",
    "charts/queue/values.yaml",
    "kustomize/overlays/prod/kustomization.yaml",
    "kustomize/overlays/prod/probe.json",
    "kustomize/overlays/prod/replicas.yaml",
];

/// The repository, committed; the chart is rendered by `helm template` into it.
fn repository(root: &Path) {
    let repo = root.join("repo");
    write(&repo, "apps/web/deployment.yaml", WEB);
    write(&repo, "apps/web/service.yaml", SERVICE);
    write(&repo, "apps/api/all.yaml", API);
    write(&repo, "apps/worker/statefulset.json", WORKER);
    write(&repo, "kustomize/base/deployment.yaml", BASE);
    write(
        &repo,
        "kustomize/base/kustomization.yaml",
        KUSTOMIZATION_BASE,
    );
    for (file, text) in [
        ("kustomization.yaml", KUSTOMIZATION_OVERLAY),
        ("resources.yaml", PATCH_RESOURCES),
        ("replicas.yaml", PATCH_REPLICAS),
        ("probe.json", PATCH_PROBE),
    ] {
        write(&repo, &format!("kustomize/overlays/prod/{file}"), text);
    }
    write(&repo, ".github/workflows/ci.yml", WORKFLOW);
    write(&repo, "crds/widgets.yaml", CRD);
    let chart = repo.join("charts/queue");
    write(&chart, "Chart.yaml", CHART);
    write(
        &chart,
        "values.yaml",
        "image: ghcr.io/example/queue:4.0.0\n",
    );
    write(&chart, "templates/deployment.yaml", CHART_DEPLOYMENT);
    let out = Command::new(tool("helm"))
        .args(["template", "shop"])
        .arg(&chart)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    write(
        &repo,
        "rendered/queue.yaml",
        &String::from_utf8(out.stdout).unwrap(),
    );
    git(&repo, &["init", "-q"]);
    git(&repo, &["add", "."]);
    git(&repo, &["commit", "-qm", "init"]);
}

/// Runs `args -R -f REPO --in-place`; its report (stderr).
fn run(repo: &Path, args: &[&str]) -> String {
    let out = bin()
        .args(args)
        .args(["-R", "-f"])
        .arg(repo)
        .arg("--in-place")
        .assert()
        .success()
        .get_output()
        .clone();
    String::from_utf8(out.stderr).unwrap()
}

/// The first line of every added hunk of `git diff -U0`, trimmed, with its file.
fn hunk_heads(diff: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut file = String::new();
    let mut at_head = false;
    for line in diff.lines() {
        if let Some(f) = line.strip_prefix("+++ b/") {
            file = f.to_string();
        } else if line.starts_with("@@") {
            at_head = true;
        } else if let Some(added) = line.strip_prefix('+')
            && at_head
        {
            out.push((
                file.clone(),
                added.trim().trim_end_matches('\r').to_string(),
            ));
            at_head = false;
        }
    }
    out
}

/// Nothing removed from any YAML file; the JSON file only gains commas.
fn assert_only_additions(repo: &std::path::Path) {
    let numstat = git(repo, &["diff", "--numstat"]);
    let changed: Vec<&str> = numstat
        .lines()
        .map(|l| l.split('\t').nth(2).unwrap())
        .collect();
    assert_eq!(
        changed,
        [
            "apps/api/all.yaml",
            "apps/web/deployment.yaml",
            "apps/worker/statefulset.json",
            "kustomize/base/deployment.yaml",
            "rendered/queue.yaml"
        ],
        "{numstat}"
    );
    for line in numstat.lines() {
        let cols: Vec<&str> = line.split('\t').collect();
        let removed: usize = cols[1].parse().unwrap();
        if cols[2].ends_with(".json") {
            let diff = git(repo, &["diff", "-U0", "--", cols[2]]);
            let gone: Vec<&str> = diff
                .lines()
                .filter(|l| l.starts_with('-') && !l.starts_with("---"))
                .map(|l| &l[1..])
                .collect();
            // A changed JSON line only gains text at its end (a comma, a member).
            for g in gone {
                let stem = g.trim_end_matches([',', '}', ']']);
                assert!(
                    diff.lines()
                        .any(|l| l.starts_with('+') && l[1..].starts_with(stem)),
                    "{diff}"
                );
            }
        } else {
            assert_eq!(
                removed,
                0,
                "{line}\n{}",
                git(repo, &["diff", "--", cols[2]])
            );
        }
    }
}

/// Every added hunk is a part of the helper: its container, volumes, mount, or the record.
fn assert_hunks_are_the_helper(repo: &std::path::Path) {
    let diff = git(repo, &["diff", "-U0", "--", "*.yaml"]);
    let allowed = [
        "- name: log-shipper",
        "volumeMounts:",
        "initContainers:",
        "annotations:",
        "pattern.kubectl.io/applied:",
    ];
    let heads = hunk_heads(&diff);
    // Where a key was there with a null value (web's `annotations: # none yet`, api's
    // `volumeMounts:` and `volumes:`), the hunk holds only what goes under it.
    let record = "pattern.kubectl.io/applied:";
    let mount = "- name: log-shipper-logs";
    for (file, parts) in [
        ("apps/api/all.yaml", ["annotations:", mount]),
        ("apps/web/deployment.yaml", [record, "volumeMounts:"]),
        (
            "kustomize/base/deployment.yaml",
            ["annotations:", "volumeMounts:"],
        ),
        ("rendered/queue.yaml", ["annotations:", "volumeMounts:"]),
    ] {
        for part in parts {
            assert!(
                heads.iter().any(|(f, h)| f == file && h.starts_with(part)),
                "{file}: no {part} hunk: {heads:?}"
            );
        }
    }
    for (file, head) in &heads {
        assert!(
            allowed.iter().any(|a| head.starts_with(a)),
            "{file}: hunk starts with {head:?}\n{diff}"
        );
    }
}

#[test]
fn add_only_inserts_helper_lines_and_remove_restores_every_byte() {
    let dir = tempfile::tempdir().unwrap();
    repository(dir.path());
    let repo = dir.path().join("repo");
    let report = run(&repo, &["add", "log-shipper"]);

    // Each file that is not a manifest is reported once; the patch is passed through.
    for file in NOT_MANIFESTS {
        let line = format!("{}: skipped (", repo.join(file).display());
        assert_eq!(report.matches(&line).count(), 1, "{file}\n{report}");
    }
    let patch = repo.join("kustomize/overlays/prod/resources.yaml");
    let line = format!(
        "deployment/cart: skipped ({}: a partial Deployment (no spec.selector)",
        patch.display()
    );
    assert_eq!(report.matches(&line).count(), 1, "{report}");
    assert_eq!(
        report.matches("skipped (").count(),
        NOT_MANIFESTS.len() + 5,
        "the patch, the base's Kustomization, the Service, the ConfigMap and the CRD are the other skipped objects:\n{report}"
    );

    assert_only_additions(&repo);
    assert_hunks_are_the_helper(&repo);
    // The markers and literal styles are still there.
    let web = std::fs::read_to_string(repo.join("apps/web/deployment.yaml")).unwrap();
    for kept in [
        "# renovate: datasource=docker",
        "# {\"$imagepolicy\": \"flux-system:web\"}",
        "defaultMode: 0400   # read-only",
        "labels: {app: web, tier: front}",
        "value: 'prod'",
        "annotations: # none yet",
    ] {
        assert!(web.contains(kept), "{kept}\n{web}");
    }

    // A second add changes nothing.
    git(&repo, &["add", "."]);
    run(&repo, &["add", "log-shipper"]);
    assert_eq!(git(&repo, &["diff", "--stat"]), "", "second add is a no-op");

    // remove gives back every file byte for byte.
    run(&repo, &["remove", "log-shipper"]);
    assert_eq!(
        git(&repo, &["diff", "HEAD", "--stat"]),
        "",
        "remove restores the commit"
    );
}
