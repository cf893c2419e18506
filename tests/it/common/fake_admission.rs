//! A fake API server for `inject --apply`: API discovery of the groups it serves (a group
//! version it does not serve answers 404 "the server could not find the requested resource",
//! as kube-apiserver does), server-side apply and delete of the injector objects, and a
//! dry-run create of a Pod that runs the stored MutatingAdmissionPolicy through the offline
//! admission (`common::admission`), or answers a recorded body.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex, MutexGuard};

use serde_json::{Value, json};

use super::admission::{Verdict, admit};
use super::fake_api::{Request, read_request};

/// How the server answers a Pod create.
#[derive(Debug, Clone)]
pub enum PodAnswer {
    /// Run the stored MutatingAdmissionPolicy on the pod (no policy: the pod as sent).
    Evaluate,
    /// Answer this status code and body whatever is stored.
    Recorded(u16, Value),
}

struct State {
    served: BTreeSet<String>,
    objects: BTreeMap<String, Value>,
    answer: PodAnswer,
    requests: Vec<Request>,
}

/// The server.
pub struct FakeAdmission {
    /// The port on 127.0.0.1.
    pub port: u16,
    state: Arc<Mutex<State>>,
}

/// The resources a group version lists in discovery.
fn resources(group_version: &str) -> Vec<&'static str> {
    match group_version {
        "admissionregistration.k8s.io/v1" | "admissionregistration.k8s.io/v1beta1" => vec![
            "mutatingadmissionpolicies",
            "mutatingadmissionpolicybindings",
            "validatingadmissionpolicies",
        ],
        "kyverno.io/v1" => vec!["clusterpolicies", "policies"],
        _ => vec![],
    }
}

impl FakeAdmission {
    /// A server serving these group versions (`admissionregistration.k8s.io/v1`).
    pub fn start(served: &[&str], answer: PodAnswer) -> FakeAdmission {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
        let port = listener.local_addr().expect("local address").port();
        let state = Arc::new(Mutex::new(State {
            served: served.iter().map(|s| s.to_string()).collect(),
            objects: BTreeMap::new(),
            answer,
            requests: vec![],
        }));
        let shared = state.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let state = shared.clone();
                std::thread::spawn(move || serve(stream, &state));
            }
        });
        FakeAdmission { port, state }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The stored objects' paths (`/apis/GROUP/VERSION/PLURAL/NAME`).
    pub fn stored(&self) -> Vec<String> {
        self.lock().objects.keys().cloned().collect()
    }

    /// Every request so far, as `METHOD PATH`.
    pub fn requests(&self) -> Vec<String> {
        self.lock()
            .requests
            .iter()
            .map(|r| format!("{} {}", r.method, r.path))
            .collect()
    }

    /// The requests with this method and path.
    pub fn requests_to(&self, method: &str, path: &str) -> Vec<Request> {
        let mut all = self.lock().requests.clone();
        all.retain(|r| r.method == method && r.path == path);
        all
    }
}

fn serve(stream: TcpStream, state: &Mutex<State>) {
    let mut reader = BufReader::new(stream.try_clone().expect("clone stream"));
    let mut out = stream;
    while let Some(request) = read_request(&mut reader) {
        let (code, body) = {
            let mut st = state.lock().unwrap_or_else(|e| e.into_inner());
            st.requests.push(request.clone());
            handle(&request, &mut st)
        };
        let text = body.to_string();
        let head = format!(
            "HTTP/1.1 {code} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            text.len()
        );
        if out.write_all(head.as_bytes()).is_err() || out.write_all(text.as_bytes()).is_err() {
            return;
        }
    }
}

/// kube-apiserver's answer for a path no served API handles.
fn not_served() -> (u16, Value) {
    (
        404,
        json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": "the server could not find the requested resource", "reason": "NotFound",
            "details": {}, "code": 404}),
    )
}

fn handle(req: &Request, st: &mut State) -> (u16, Value) {
    let segments: Vec<&str> = req.path.trim_matches('/').split('/').collect();
    match (req.method.as_str(), segments.as_slice()) {
        ("GET", ["apis", group, version]) => {
            let gv = format!("{group}/{version}");
            if !st.served.contains(&gv) {
                return not_served();
            }
            let list: Vec<Value> = resources(&gv)
                .into_iter()
                .map(|r| {
                    json!({"name": r, "singularName": "", "namespaced": false,
                    "kind": "X", "verbs": ["create", "delete", "get", "list", "patch"]})
                })
                .collect();
            (
                200,
                json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv,
                    "resources": list}),
            )
        }
        ("PATCH", ["apis", group, version, _, _]) => {
            if !st.served.contains(&format!("{group}/{version}")) {
                return not_served();
            }
            let mut object = req.json();
            object["metadata"]["uid"] = json!("uid-1");
            object["metadata"]["resourceVersion"] = json!("101");
            if req.param("dryRun") != Some("All") {
                st.objects.insert(req.path.clone(), object.clone());
            }
            (200, object)
        }
        ("DELETE", ["apis", _, _, _, name]) => match st.objects.remove(&req.path) {
            Some(object) => (200, object),
            None => (
                404,
                json!({"kind": "Status", "apiVersion": "v1", "status": "Failure",
                    "message": format!("\"{name}\" not found"), "reason": "NotFound", "code": 404}),
            ),
        },
        ("POST", ["api", "v1", "namespaces", ns, "pods"]) => {
            assert_eq!(
                req.param("dryRun"),
                Some("All"),
                "a pod was created for real"
            );
            create_pod(req, st, ns)
        }
        _ => not_served(),
    }
}

fn create_pod(req: &Request, st: &State, ns: &str) -> (u16, Value) {
    let mut pod = req.json();
    let name = match pod["metadata"]["generateName"].as_str() {
        Some(prefix) => format!("{prefix}x7k2p"),
        None => pod["metadata"]["name"]
            .as_str()
            .unwrap_or("pod")
            .to_string(),
    };
    if let PodAnswer::Recorded(code, body) = &st.answer {
        return (*code, body.clone());
    }
    let policy = st
        .objects
        .iter()
        .find(|(path, _)| path.contains("/mutatingadmissionpolicies/"))
        .map(|(_, p)| p.clone());
    if let Some(policy) = policy {
        match admit(&policy, &pod) {
            Verdict::Admitted(mutated) => pod = mutated,
            Verdict::Skipped(_) => {}
            Verdict::Denied(message) => {
                return (
                    403,
                    json!({"kind": "Status", "apiVersion": "v1", "metadata": {},
                        "status": "Failure", "message": message, "reason": "Invalid",
                        "details": {"name": name, "kind": "pods", "causes": [{"message": message}]},
                        "code": 403}),
                );
            }
        }
    }
    // What the other admission plugins and defaulting add, as a real server does.
    pod["metadata"]["name"] = json!(name);
    pod["metadata"]["namespace"] = json!(ns);
    pod["metadata"]["uid"] = json!("uid-pod");
    let spec = &mut pod["spec"];
    spec["serviceAccountName"] = json!("default");
    let token = json!({"name": "kube-api-access-x7k2p", "projected": {"sources": []}});
    match spec["volumes"].as_array_mut() {
        Some(v) => v.push(token),
        None => spec["volumes"] = json!([token]),
    }
    for list in ["initContainers", "containers"] {
        for c in spec[list].as_array_mut().into_iter().flatten() {
            c["imagePullPolicy"] = json!("IfNotPresent");
            c["terminationMessagePath"] = json!("/dev/termination-log");
            let mount = json!({"name": "kube-api-access-x7k2p", "readOnly": true,
                "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount"});
            match c["volumeMounts"].as_array_mut() {
                Some(m) => m.push(mount),
                None => c["volumeMounts"] = json!([mount]),
            }
        }
    }
    (201, pod)
}
