//! A small fake Kubernetes API server for driving the binary in live mode: plain HTTP/1.1 on
//! 127.0.0.1, an in-memory store of Deployments, a simplified server-side apply with field
//! ownership per manager, optimistic locking, dry runs, a scripted rollout on watch, injected
//! failures, and a log of every request for assertions.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use serde_json::{Map, Value, json};

use super::fake_apply::{apply, set_managed_fields};
use super::fake_ssa::{FieldPath, config_of, paths};

/// One request the server received.
#[derive(Debug, Clone)]
pub struct Request {
    /// GET, PATCH…
    pub method: String,
    /// The path without the query.
    pub path: String,
    /// The decoded query parameters.
    pub query: BTreeMap<String, String>,
    /// Headers, names in lower case.
    pub headers: BTreeMap<String, String>,
    /// The body as sent.
    pub body: String,
}

impl Request {
    /// A query parameter.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.query.get(name).map(String::as_str)
    }

    /// The body as JSON (panics when it is not).
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).expect("a JSON body")
    }

    fn is_watch(&self) -> bool {
        matches!(self.param("watch"), Some("true" | "1"))
    }
}

/// A failure the server answers instead of handling a request.
pub(super) struct Fault {
    method: String,
    code: u16,
    reason: String,
    message: String,
}

/// A change another client makes before a PATCH (`None`: that PATCH goes through untouched).
pub(super) type Interference = Option<Box<dyn FnMut(&mut Value) + Send>>;

#[derive(Default)]
pub(super) struct State {
    pub(super) deployments: BTreeMap<(String, String), Value>,
    /// Field paths each manager owns, per object.
    pub(super) owners: BTreeMap<(String, String), BTreeMap<String, BTreeSet<FieldPath>>>,
    pub(super) nodes: Vec<Value>,
    pub(super) version: (u32, u32),
    pub(super) lists: BTreeMap<String, (String, Vec<Value>)>,
    /// Response bodies served as they are (recorded responses) to a GET of the path.
    pub(super) bodies: BTreeMap<String, Value>,
    pub(super) requests: Vec<Request>,
    pub(super) resource_version: u64,
    pub(super) faults: VecDeque<Fault>,
    pub(super) interference: VecDeque<Interference>,
    pub(super) rollout: Vec<Value>,
    /// Objects whose scripted rollout a watch will stream.
    pub(super) rolling: Vec<(String, String)>,
    /// Managers that wrote with an Update (a JSON Patch, or so named in managedFields).
    pub(super) update_managers: BTreeSet<String>,
    /// Per object, the managedFields entries of subresources (`status`) as they were stored:
    /// writes to the object itself keep them as they are.
    pub(super) subresource_entries: BTreeMap<(String, String), Vec<Value>>,
}

/// The server: its port and its shared state.
pub struct FakeApi {
    /// The port on 127.0.0.1.
    pub port: u16,
    state: Arc<Mutex<State>>,
}

impl FakeApi {
    /// Starts a server for Kubernetes 1.37 with one node on kubelet v1.37.1.
    pub fn start() -> FakeApi {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
        let port = listener.local_addr().expect("local address").port();
        let state = Arc::new(Mutex::new(State {
            version: (1, 37),
            resource_version: 100,
            ..State::default()
        }));
        let shared = state.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let state = shared.clone();
                std::thread::spawn(move || serve(stream, &state));
            }
        });
        let api = FakeApi { port, state };
        api.set_nodes(&[("node-a", "v1.37.1")]);
        api
    }

    pub(super) fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Stores a Deployment as created by manager `kubectl-create`, with a finished rollout.
    pub fn insert(&self, mut deployment: Value) {
        let mut st = self.lock();
        st.resource_version += 1;
        let rv = st.resource_version.to_string();
        let owned = paths(&config_of(&deployment));
        let meta = &mut deployment["metadata"];
        let ns = meta["namespace"].as_str().expect("a namespace").to_string();
        let name = meta["name"].as_str().expect("a name").to_string();
        meta["resourceVersion"] = json!(rv);
        meta["generation"] = json!(1);
        meta["uid"] = json!(format!("uid-{name}"));
        meta["creationTimestamp"] = json!("2025-01-01T00:00:00Z");
        let replicas = deployment["spec"]["replicas"].as_i64().unwrap_or(1);
        deployment["status"] = json!({"observedGeneration": 1, "replicas": replicas,
            "updatedReplicas": replicas, "readyReplicas": replicas, "availableReplicas": replicas});
        // Defaults, as a real server fills them in: owned by no manager.
        super::fake_defaults::default_deployment(&mut deployment);
        let key = (ns, name);
        let managers = BTreeMap::from([("kubectl-create".to_string(), owned)]);
        st.owners.insert(key.clone(), managers);
        st.deployments.insert(key.clone(), deployment);
        set_managed_fields(&mut st, &key);
    }

    /// The stored Deployment.
    pub fn get(&self, namespace: &str, name: &str) -> Value {
        self.lock()
            .deployments
            .get(&(namespace.into(), name.into()))
            .cloned()
            .expect("stored deployment")
    }

    /// An apply by another client (manager `manager`, `force` to take fields over): the
    /// server's answer.
    pub fn apply_as(&self, manager: &str, config: &Value, force: bool) -> (u16, Value) {
        let ns = config["metadata"]["namespace"]
            .as_str()
            .unwrap_or("shop")
            .to_string();
        let name = config["metadata"]["name"]
            .as_str()
            .expect("a name")
            .to_string();
        let mut st = self.lock();
        super::fake_apply::apply_config(&mut st, &(ns, name), manager, config, force, false)
    }

    /// A write by another client that is not an apply (`kubectl patch`, `kubectl edit`,
    /// `kubectl rollout pause`) as `manager`: what `change` removes leaves every manager's field
    /// set, what it adds is `manager`'s.
    pub fn update(
        &self,
        namespace: &str,
        name: &str,
        manager: &str,
        change: impl FnOnce(&mut Value),
    ) {
        let mut st = self.lock();
        super::fake_apply::update(&mut st, &(namespace.into(), name.into()), manager, change);
    }

    /// The nodes and their kubelet versions.
    pub fn set_nodes(&self, nodes: &[(&str, &str)]) {
        self.lock().nodes = nodes.iter().map(|(n, v)| node(n, v)).collect();
    }

    /// A list served as is at `path` (pods, events), whatever the selectors.
    pub fn serve_list(&self, path: &str, kind: &str, items: Vec<Value>) {
        self.lock()
            .lists
            .insert(path.to_string(), (kind.to_string(), items));
    }

    /// Answers every GET of `path`, whatever its query, with `body` as it is (a recorded
    /// response: an object, a list, or a Status with its own code).
    pub fn serve_body(&self, path: &str, body: Value) {
        self.lock().bodies.insert(path.to_string(), body);
    }

    /// Answers the next `times` requests with `method` with this error.
    pub fn fail(&self, method: &str, times: usize, code: u16, reason: &str, message: &str) {
        let mut st = self.lock();
        for _ in 0..times {
            st.faults.push_back(Fault {
                method: method.into(),
                code,
                reason: reason.into(),
                message: message.into(),
            });
        }
    }

    /// Before each of the next PATCHes, another client changes the object (a new
    /// resourceVersion), so the PATCH is stale.
    pub fn interfere(&self, change: impl FnMut(&mut Value) + Send + Clone + 'static, times: usize) {
        self.interfere_after(0, change, times);
    }

    /// As `interfere`, from the PATCH after the next `skip` ones.
    pub fn interfere_after(
        &self,
        skip: usize,
        change: impl FnMut(&mut Value) + Send + Clone + 'static,
        times: usize,
    ) {
        let mut st = self.lock();
        st.interference.extend((0..skip).map(|_| None));
        for _ in 0..times {
            st.interference.push_back(Some(Box::new(change.clone())));
        }
    }

    /// After a PATCH that changes the spec, the controller has not yet seen it; a watch then
    /// streams these statuses (observedGeneration filled in) one event each.
    pub fn script_rollout(&self, statuses: Vec<Value>) {
        self.lock().rollout = statuses;
    }

    /// Every request so far.
    pub fn requests(&self) -> Vec<Request> {
        self.lock().requests.clone()
    }

    /// The requests with this method.
    pub fn requests_with(&self, method: &str) -> Vec<Request> {
        let mut all = self.requests();
        all.retain(|r| r.method == method);
        all
    }

    /// Writes a kubeconfig (context `fake`, namespace `shop`, a bearer token) into `dir`.
    pub fn kubeconfig(&self, dir: &Path) -> PathBuf {
        kubeconfig_for(&self.url(), dir)
    }
}

/// A kubeconfig whose only context `fake` points at `server`.
pub fn kubeconfig_for(server: &str, dir: &Path) -> PathBuf {
    let path = dir.join("kubeconfig");
    let text = format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: fake-cluster\n  cluster:\n    server: {server}\n\
         users:\n- name: tester\n  user:\n    token: fake-token\n\
         contexts:\n- name: fake\n  context:\n    cluster: fake-cluster\n    user: tester\n    namespace: shop\n\
         current-context: fake\n"
    );
    std::fs::write(&path, text).expect("write kubeconfig");
    path
}

fn node(name: &str, kubelet: &str) -> Value {
    json!({"metadata": {"name": name}, "status": {"nodeInfo": {
        "architecture": "amd64", "bootID": "b", "containerRuntimeVersion": "containerd://2.0.0",
        "kernelVersion": "6.1.0", "kubeProxyVersion": kubelet, "kubeletVersion": kubelet,
        "machineID": "m", "operatingSystem": "linux", "osImage": "Debian", "systemUUID": "s"}}})
}

fn serve(stream: TcpStream, state: &Mutex<State>) {
    let mut reader = BufReader::new(stream.try_clone().expect("clone stream"));
    let mut out = stream;
    while let Some(request) = read_request(&mut reader) {
        let watch = request.is_watch();
        state
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .requests
            .push(request.clone());
        if watch {
            stream_watch(&mut out, &request, state);
            return;
        }
        let (code, body) = handle(&request, state);
        let text = body.to_string();
        let head = format!(
            "HTTP/1.1 {code} {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            reason_phrase(code),
            text.len()
        );
        if out.write_all(head.as_bytes()).is_err() || out.write_all(text.as_bytes()).is_err() {
            return;
        }
    }
}

/// Reads one HTTP/1.1 request (None at the end of the stream).
pub fn read_request(reader: &mut BufReader<TcpStream>) -> Option<Request> {
    let mut line = String::new();
    if reader.read_line(&mut line).ok()? == 0 {
        return None;
    }
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_string();
    let target = parts.next()?.to_string();
    let mut headers = BTreeMap::new();
    loop {
        let mut h = String::new();
        reader.read_line(&mut h).ok()?;
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
        }
    }
    let length: usize = headers
        .get("content-length")
        .and_then(|l| l.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    let (path, query) = target.split_once('?').unwrap_or((&target, ""));
    let query = query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(k), decode(v))
        })
        .collect();
    Some(Request {
        method,
        path: path.to_string(),
        query,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    })
}

fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("");
                out.push(u8::from_str_radix(hex, 16).unwrap_or(b'?'));
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn reason_phrase(code: u16) -> &'static str {
    match code {
        200 => "OK",
        403 => "Forbidden",
        404 => "Not Found",
        409 => "Conflict",
        415 => "Unsupported Media Type",
        _ => "Error",
    }
}

pub(super) fn status(code: u16, reason: &str, message: &str) -> (u16, Value) {
    (
        code,
        json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
               "message": message, "reason": reason, "code": code}),
    )
}

fn handle(req: &Request, state: &Mutex<State>) -> (u16, Value) {
    let mut st = state.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(i) = st.faults.iter().position(|f| f.method == req.method) {
        let f = st.faults.remove(i).expect("present");
        return status(f.code, &f.reason, &f.message);
    }
    if req.method == "GET"
        && let Some(body) = st.bodies.get(&req.path)
    {
        let code = match body["kind"].as_str() {
            Some("Status") => body["code"].as_u64().and_then(|c| u16::try_from(c).ok()),
            _ => None,
        };
        return (code.unwrap_or(200), body.clone());
    }
    let segments: Vec<&str> = req.path.trim_matches('/').split('/').collect();
    match (req.method.as_str(), segments.as_slice()) {
        ("GET", ["version"]) => {
            let (major, minor) = st.version;
            (
                200,
                json!({"major": major.to_string(), "minor": minor.to_string(),
                "gitVersion": format!("v{major}.{minor}.0"), "gitCommit": "0", "gitTreeState": "clean",
                "buildDate": "2025-01-01T00:00:00Z", "goVersion": "go1.25", "compiler": "gc",
                "platform": "linux/amd64"}),
            )
        }
        ("GET", ["api", "v1", "nodes"]) => (200, list("NodeList", "v1", st.nodes.clone(), &st)),
        ("GET", ["apis", "apps", "v1", "deployments"])
        | ("GET", ["apis", "apps", "v1", "namespaces", _, "deployments"]) => {
            let ns = segments.get(4).filter(|_| segments.len() == 6);
            let wanted = selector(req.param("labelSelector"));
            let items = st
                .deployments
                .iter()
                .filter(|((n, _), d)| ns.is_none_or(|ns| n == ns) && matches(d, &wanted))
                .map(|(_, d)| without_type(d))
                .collect();
            (200, list("DeploymentList", "apps/v1", items, &st))
        }
        ("GET", ["apis", "apps", "v1", "namespaces", ns, "deployments", name]) => {
            match st.deployments.get(&(ns.to_string(), name.to_string())) {
                Some(d) => (200, d.clone()),
                None => not_found(name),
            }
        }
        ("PATCH", ["apis", "apps", "v1", "namespaces", ns, "deployments", name]) => {
            apply(&mut st, req, ns, name)
        }
        ("GET", _) if st.lists.contains_key(&req.path) => {
            let (kind, items) = st.lists[&req.path].clone();
            (200, list(&kind, "v1", items, &st))
        }
        _ => status(
            404,
            "NotFound",
            "the server could not find the requested resource",
        ),
    }
}

pub(super) fn not_found(name: &str) -> (u16, Value) {
    status(
        404,
        "NotFound",
        &format!("deployments.apps \"{name}\" not found"),
    )
}

fn list(kind: &str, api_version: &str, items: Vec<Value>, st: &State) -> Value {
    json!({"kind": kind, "apiVersion": api_version,
           "metadata": {"resourceVersion": st.resource_version.to_string()}, "items": items})
}

/// List items carry no apiVersion/kind, as from a real server.
fn without_type(d: &Value) -> Value {
    let mut d = d.clone();
    if let Some(o) = d.as_object_mut() {
        o.remove("apiVersion");
        o.remove("kind");
    }
    d
}

fn selector(text: Option<&str>) -> Vec<(String, String)> {
    text.unwrap_or("")
        .split(',')
        .filter_map(|p| p.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn matches(d: &Value, wanted: &[(String, String)]) -> bool {
    wanted
        .iter()
        .all(|(k, v)| d["metadata"]["labels"][k].as_str() == Some(v))
}

fn stream_watch(out: &mut TcpStream, request: &Request, state: &Mutex<State>) {
    let head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n";
    if out.write_all(head.as_bytes()).is_err() {
        return;
    }
    let ns = request
        .path
        .split('/')
        .nth(5)
        .unwrap_or_default()
        .to_string();
    let name = request
        .param("fieldSelector")
        .and_then(|f| f.strip_prefix("metadata.name="))
        .unwrap_or_default()
        .to_string();
    let key = (ns, name);
    let script = {
        let mut st = state.lock().unwrap_or_else(|e| e.into_inner());
        match st.rolling.iter().position(|k| *k == key) {
            Some(i) => {
                st.rolling.remove(i);
                st.rollout.clone()
            }
            None => vec![],
        }
    };
    if script.is_empty() {
        // Nothing will happen: hold the watch open, as a quiet server does, until the client
        // goes away (its --timeout) — no timer here.
        let mut sink = [0u8; 256];
        while matches!(std::io::Read::read(out, &mut sink), Ok(n) if n > 0) {}
        return;
    }
    for status in script {
        let mut st = state.lock().unwrap_or_else(|e| e.into_inner());
        st.resource_version += 1;
        let rv = st.resource_version.to_string();
        let Some(d) = st.deployments.get_mut(&key) else {
            return;
        };
        let mut s: Map<String, Value> = status.as_object().cloned().unwrap_or_default();
        s.entry("observedGeneration")
            .or_insert(d["metadata"]["generation"].clone());
        d["status"] = Value::Object(s);
        d["metadata"]["resourceVersion"] = json!(rv);
        let event = json!({"type": "MODIFIED", "object": d});
        drop(st);
        if out.write_all(format!("{event}\n").as_bytes()).is_err() {
            return;
        }
    }
}
