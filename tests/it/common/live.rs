//! Helpers for the live-mode tests: a fake API server with a kubeconfig in a temp HOME, the
//! binary pointed at it, sample Deployments, and ways to compare what the server stored.

use serde_json::{Value, json};

use super::fake_api::{FakeApi, Request};

/// The path of the Deployment `web` in namespace `shop`.
pub const WEB: &str = "/apis/apps/v1/namespaces/shop/deployments/web";

/// A fake server, a temp HOME with a kubeconfig pointing at it.
pub struct Live {
    /// The server.
    pub api: FakeApi,
    /// HOME, holding the kubeconfig.
    pub home: tempfile::TempDir,
}

impl Live {
    /// An empty fake server.
    pub fn new() -> Live {
        Live {
            api: FakeApi::start(),
            home: tempfile::tempdir().unwrap(),
        }
    }

    /// A fake server holding the Deployment `web` in namespace `shop`.
    pub fn with_web() -> Live {
        let live = Live::new();
        live.api.insert(deployment("web", "web"));
        live
    }

    /// The binary, with KUBECONFIG and HOME set.
    pub fn cmd(&self) -> assert_cmd::Command {
        let kubeconfig = self.api.kubeconfig(self.home.path());
        let mut cmd = super::bin();
        cmd.env("KUBECONFIG", kubeconfig)
            .env("HOME", self.home.path())
            .env_remove("KUBERNETES_SERVICE_HOST");
        cmd
    }

    /// The PATCH requests so far.
    pub fn patches(&self) -> Vec<Request> {
        self.api.requests_with("PATCH")
    }
}

/// `name` with label app=`app`: one app container with an image and env, two replicas.
pub fn deployment(name: &str, app: &str) -> Value {
    json!({"apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": name, "namespace": "shop", "labels": {"app": app}},
        "spec": {"replicas": 2, "selector": {"matchLabels": {"app": app}},
            "template": {"metadata": {"labels": {"app": app}},
                "spec": {"containers": [{"name": "web", "image": "nginx:1.27.3",
                    "env": [{"name": "MODE", "value": "prod"}],
                    "resources": {"requests": {"cpu": "100m", "memory": "64Mi"},
                                  "limits": {"cpu": "200m", "memory": "128Mi"}}}]}}}})
}

/// The object without what the server sets (to compare objects and validate them).
pub fn user_fields(object: &Value) -> Value {
    let mut o = object.clone();
    o.as_object_mut().unwrap().remove("status");
    let meta = o["metadata"].as_object_mut().unwrap();
    for k in [
        "resourceVersion",
        "generation",
        "managedFields",
        "uid",
        "creationTimestamp",
    ] {
        meta.remove(k);
    }
    o
}

/// Bytes as UTF-8.
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).unwrap()
}

/// Runs the command; returns (exit code, stdout, stderr).
pub fn run(cmd: &mut assert_cmd::Command) -> (i32, String, String) {
    let out = cmd.output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        text(&out.stdout),
        text(&out.stderr),
    )
}

/// The names of the items of a list.
pub fn names(list: &Value) -> Vec<&str> {
    list.as_array()
        .map(|l| l.iter().filter_map(|c| c["name"].as_str()).collect())
        .unwrap_or_default()
}

/// `METHOD /path` of each request.
pub fn method_paths(reqs: &[Request]) -> Vec<String> {
    reqs.iter()
        .map(|r| format!("{} {}", r.method, r.path))
        .collect()
}
