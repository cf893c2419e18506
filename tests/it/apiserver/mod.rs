//! A scripted Kubernetes API server for the live-mode tests: kube's `Client` over a tower-test
//! mock service, helpers to take the next request apart (method, path, decoded query, content
//! type, JSON body) and to answer it with realistic objects, lists, Status errors and watch
//! streams.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::time::Duration;

use http::{Request, Response};
use kube::client::Body;
use kubectl_pattern::cluster::connect::Connection;
use kubectl_pattern::cluster::error::ClusterError;
use kubectl_pattern::cluster::live::{self, InFlight, LiveOptions, Outcome, Scope, Selection};
use kubectl_pattern::cluster::resource::Resource;
use kubectl_pattern::engine::catalogue::Catalogue;
use kubectl_pattern::engine::merge::MergeOptions;
use kubectl_pattern::engine::params::{self, ParamInput};
use kubectl_pattern::engine::process::{Action, AddAction, PatternRequest};
use serde_json::{Value, json};
use std::sync::Arc;
use tower_test::mock::{self, SendResponse};

/// The test's end of the mocked service.
pub type Handle = mock::Handle<Request<Body>, Response<Body>>;

/// A reply channel for one request.
pub type Reply = SendResponse<Response<Body>>;

/// A connection whose requests arrive at the returned handle.
pub fn connect() -> (Connection, Handle) {
    let (service, handle) = mock::pair::<Request<Body>, Response<Body>>();
    let client = kube::Client::new(service, "default");
    let conn = Connection::from_client(client, "test-context", "https://mock:6443");
    (conn, handle)
}

/// One request as the server saw it.
#[derive(Debug)]
pub struct Seen {
    /// `GET`, `PATCH`…
    pub method: String,
    /// The path without the query.
    pub path: String,
    /// The decoded query parameters.
    pub query: BTreeMap<String, String>,
    /// The Content-Type header.
    pub content_type: Option<String>,
    /// The body as JSON (Null when empty).
    pub body: Value,
}

impl Seen {
    /// A query parameter.
    pub fn param(&self, key: &str) -> Option<&str> {
        self.query.get(key).map(String::as_str)
    }

    /// Asserts a server-side apply of `path` by kubectl-pattern (with the given extra query).
    pub fn assert_apply(&self, path: &str, extra: &[(&str, &str)]) {
        assert_eq!(self.method, "PATCH", "{self:?}");
        assert_eq!(self.path, path);
        assert_eq!(
            self.content_type.as_deref(),
            Some("application/apply-patch+yaml"),
            "server-side apply patch type"
        );
        let mut want: BTreeMap<String, String> =
            BTreeMap::from([("fieldManager".into(), "kubectl-pattern".into())]);
        for (k, v) in extra {
            want.insert(k.to_string(), v.to_string());
        }
        assert_eq!(self.query, want, "query of {}", self.path);
    }

    /// Asserts a plain GET of `path` with no query.
    pub fn assert_get(&self, path: &str) {
        assert_eq!(
            (self.method.as_str(), self.path.as_str()),
            ("GET", path),
            "{self:?}"
        );
        assert!(self.query.is_empty(), "{:?}", self.query);
    }
}

/// Waits for the next request (failing the test after 5 s) and takes it apart.
pub async fn next(handle: &mut Handle) -> (Seen, Reply) {
    let (request, reply) = tokio::time::timeout(Duration::from_secs(5), handle.next_request())
        .await
        .expect("the client sent no further request within 5 s")
        .expect("the client hung up before sending the expected request");
    (seen(request).await, reply)
}

/// Asserts that the client sends nothing more: every handle to it must be dropped first, so
/// the mocked service closes once the client is gone.
pub async fn assert_no_more(handle: &mut Handle) {
    let more = tokio::time::timeout(Duration::from_secs(5), handle.next_request())
        .await
        .expect("the client is still alive: drop the connection first");
    if let Some((request, _)) = more {
        panic!("unexpected request: {} {}", request.method(), request.uri());
    }
}

async fn seen(request: Request<Body>) -> Seen {
    let (parts, body) = request.into_parts();
    let bytes = body.collect_bytes().await.expect("readable request body");
    let body = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes).expect("the request body is JSON")
    };
    let query = parts
        .uri
        .query()
        .map(|q| form_urlencoded::parse(q.as_bytes()).into_owned().collect())
        .unwrap_or_default();
    Seen {
        method: parts.method.to_string(),
        path: parts.uri.path().to_string(),
        query,
        content_type: parts
            .headers
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string),
        body,
    }
}

/// Answers with `status` and a JSON body.
pub fn reply(reply: Reply, status: u16, body: &Value) {
    let response = Response::builder()
        .status(status)
        .header(http::header::CONTENT_TYPE, "application/json")
        .body(Body::from(serde_json::to_vec(body).expect("serialisable")))
        .expect("valid response");
    reply.send_response(response);
}

/// Answers a watch with newline-delimited events (`{"type": …, "object": …}` per line), the way
/// the API server streams them; the stream ends after the last one.
pub fn reply_events(reply: Reply, events: &[(&str, Value)]) {
    let mut body = Vec::new();
    for (kind, object) in events {
        let line = json!({"type": kind, "object": object});
        body.extend(serde_json::to_vec(&line).expect("serialisable"));
        body.push(b'\n');
    }
    let response = Response::builder()
        .status(200)
        .header(http::header::CONTENT_TYPE, "application/json")
        .header(http::header::TRANSFER_ENCODING, "chunked")
        .body(Body::from(body))
        .expect("valid response");
    reply.send_response(response);
}

/// A metav1 Status failure.
pub fn status(code: u16, reason: &str, message: &str, details: Option<Value>) -> Value {
    let mut s = json!({"kind": "Status", "apiVersion": "v1", "metadata": {},
        "status": "Failure", "message": message, "reason": reason, "code": code});
    if let Some(d) = details {
        s["details"] = d;
    }
    s
}

/// The path of a namespaced Deployment.
pub fn deployment_path(ns: &str, name: &str) -> String {
    format!("/apis/apps/v1/namespaces/{ns}/deployments/{name}")
}

/// A Deployment as the API server returns it: server-set metadata, managedFields of the
/// client-side apply that created it, defaults and a finished rollout.
pub fn deployment(ns: &str, name: &str, rv: &str) -> Value {
    json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": name,
            "namespace": ns,
            "uid": format!("6f1c0d52-9a43-4e7b-8f1e-{:0>12}", name.len()),
            "resourceVersion": rv,
            "generation": 2,
            "creationTimestamp": "2026-03-02T09:14:07Z",
            "labels": {"app": name, "tier": "front"},
            "annotations": {"deployment.kubernetes.io/revision": "2"},
            "managedFields": [{
                "manager": "kubectl-client-side-apply",
                "operation": "Update",
                "apiVersion": "apps/v1",
                "time": "2026-03-02T09:14:07Z",
                "fieldsType": "FieldsV1",
                "fieldsV1": {"f:spec": {"f:replicas": {}, "f:template": {"f:spec": {
                    "f:containers": {"k:{\"name\":\"web\"}": {".": {}, "f:image": {}, "f:name": {}}}}}}}
            }]
        },
        "spec": {
            "replicas": 3,
            "revisionHistoryLimit": 10,
            "progressDeadlineSeconds": 600,
            "selector": {"matchLabels": {"app": name}},
            "strategy": {"type": "RollingUpdate",
                         "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {
                    "containers": [{
                        "name": "web",
                        "image": "registry.example.com/shop/web:2.3.1",
                        "ports": [{"name": "http", "containerPort": 8080, "protocol": "TCP"}],
                        "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}},
                        "terminationMessagePath": "/dev/termination-log",
                        "terminationMessagePolicy": "File",
                        "imagePullPolicy": "IfNotPresent"
                    }],
                    "restartPolicy": "Always",
                    "terminationGracePeriodSeconds": 30,
                    "dnsPolicy": "ClusterFirst",
                    "schedulerName": "default-scheduler",
                    "securityContext": {}
                }
            }
        },
        "status": {
            "observedGeneration": 2,
            "replicas": 3,
            "updatedReplicas": 3,
            "readyReplicas": 3,
            "availableReplicas": 3,
            "conditions": [{"type": "Available", "status": "True",
                            "reason": "MinimumReplicasAvailable"}]
        }
    })
}

/// A list response of `items` (which, like the server's, carry no apiVersion/kind).
pub fn list(kind: &str, api_version: &str, rv: &str, items: Vec<Value>) -> Value {
    let items: Vec<Value> = items
        .into_iter()
        .map(|mut item| {
            if let Some(map) = item.as_object_mut() {
                map.remove("apiVersion");
                map.remove("kind");
            }
            item
        })
        .collect();
    json!({"apiVersion": api_version, "kind": kind, "metadata": {"resourceVersion": rv},
           "items": items})
}

/// What the server answers to an apply of `config` on `live`: the applied fields merged in
/// (lists by their keys), a new resourceVersion and generation, and the manager's entry in
/// managedFields. Enough of server-side apply for the client's view; ownership is not modelled.
pub fn applied(live: &Value, config: &Value, manager: &str, new_rv: &str) -> Value {
    let mut out = live.clone();
    let mut config = config.clone();
    if let Some(meta) = config.get_mut("metadata").and_then(Value::as_object_mut) {
        meta.remove("resourceVersion");
    }
    merge(&mut out, &config);
    out["metadata"]["resourceVersion"] = json!(new_rv);
    let generation = out["metadata"]["generation"].as_i64().unwrap_or(1);
    out["metadata"]["generation"] = json!(generation + 1);
    if let Some(fields) = out["metadata"]["managedFields"].as_array_mut() {
        fields.push(
            json!({"manager": manager, "operation": "Apply", "apiVersion": "apps/v1",
            "time": "2026-03-02T10:00:00Z", "fieldsType": "FieldsV1", "fieldsV1": {}}),
        );
    }
    out
}

fn merge(base: &mut Value, patch: &Value) {
    match (base, patch) {
        (Value::Object(b), Value::Object(p)) => {
            for (k, v) in p {
                match b.get_mut(k) {
                    Some(existing) => merge(existing, v),
                    None => {
                        b.insert(k.clone(), v.clone());
                    }
                }
            }
        }
        (Value::Array(b), Value::Array(p)) => {
            for item in p {
                let key = list_key(item);
                match b.iter_mut().find(|e| key.is_some() && list_key(e) == key) {
                    Some(existing) => merge(existing, item),
                    None => b.push(item.clone()),
                }
            }
        }
        (b, p) => *b = p.clone(),
    }
}

/// Mounts merge by mountPath, everything else by name.
fn list_key(item: &Value) -> Option<String> {
    item.get("mountPath")
        .or_else(|| item.get("name"))
        .and_then(Value::as_str)
        .map(str::to_string)
}

/// An AddAction for built-in patterns, each `(id, [(param, value)])`, with default merge options.
pub fn add_action(patterns: &[(&str, &[(&str, &str)])]) -> AddAction {
    let catalogue = Catalogue::builtin();
    let requests = patterns
        .iter()
        .map(|(id, sets)| {
            let pattern = catalogue.get(id).expect("a built-in pattern");
            let input = ParamInput::from_texts(sets.iter().copied());
            let params =
                params::resolve(id, &pattern.spec().params, &input).expect("valid parameters");
            PatternRequest {
                pattern,
                instance: id.to_string(),
                params,
            }
        })
        .collect();
    AddAction {
        requests,
        options: MergeOptions::default(),
    }
}

/// `object` with the patterns already applied by an earlier run (as the live object would be).
pub fn with_patterns(mut object: Value, patterns: &[(&str, &[(&str, &str)])]) -> Value {
    let result = add_action(patterns)
        .run(&mut object)
        .expect("the pattern applies");
    assert!(result.changed);
    object
}

// Scenario pieces shared by the live-mode tests.

/// Options for tests: the defaults with a 1 ms backoff.
pub fn opts() -> LiveOptions {
    LiveOptions {
        backoff: Duration::from_millis(1),
        ..LiveOptions::default()
    }
}

/// `deploy/web`.
pub fn web() -> Selection {
    Selection::Named(vec![(Resource::Deployment, "web".into())])
}

/// `-n shop`.
pub fn shop() -> Scope {
    Scope::Namespace("shop".into())
}

/// Resolves `selection` and runs `action` on it, as `add`/`remove` do.
pub async fn run(
    conn: Connection,
    selection: Selection,
    scope: Scope,
    action: impl Action + Send + 'static,
    opts: LiveOptions,
) -> Vec<Result<Outcome, ClusterError>> {
    let targets = live::resolve(&conn, &selection, &scope)
        .await
        .expect("targets resolve");
    live::run(
        &conn,
        targets,
        Arc::new(action),
        &opts,
        true,
        Arc::new(InFlight::default()),
    )
    .await
}

/// `add log-shipper` with the pattern's defaults.
pub fn log_shipper() -> impl Action + Send + 'static {
    add_action(&[("log-shipper", &[])])
}

/// The only result of a run.
pub fn one(mut results: Vec<Result<Outcome, ClusterError>>) -> Result<Outcome, ClusterError> {
    assert_eq!(results.len(), 1);
    results.remove(0)
}

/// The pod spec of a Deployment or its apply configuration.
pub fn pod_spec(body: &Value) -> &Value {
    &body["spec"]["template"]["spec"]
}

/// The names in a list of containers or volumes.
pub fn names(list: &Value) -> Vec<&str> {
    list.as_array()
        .into_iter()
        .flatten()
        .map(|c| c["name"].as_str().expect("named entry"))
        .collect()
}

/// Serves GET then an apply on deployment/web in shop, answering the apply like the server.
pub async fn serve_get_then_apply(mut handle: Handle, live: Value) -> (Seen, Seen) {
    let path = deployment_path("shop", "web");
    let (get, tx) = next(&mut handle).await;
    get.assert_get(&path);
    reply(tx, 200, &live);
    let (patch, tx) = next(&mut handle).await;
    let answer = applied(&live, &patch.body, "kubectl-pattern", "4712");
    reply(tx, 200, &answer);
    assert_no_more(&mut handle).await;
    (get, patch)
}
