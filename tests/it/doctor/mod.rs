//! `kubectl pattern doctor` on each staged failure and on a healthy workload: the checks run
//! in process against kube's client over a mocked service that answers every request with a
//! recorded (or recorded-and-edited) API server response (`mock`), and the binary runs end to
//! end against the fake API server serving the same bodies (`cli`).

mod cli;
mod mock;
mod stage;

use std::collections::BTreeMap;
use std::time::Duration;

use http::Response;
use kube::client::Body;
use kubectl_pattern::cluster::doctor::events::Window;
use kubectl_pattern::cluster::doctor::report::{Check, Finding, Report, Severity};
use kubectl_pattern::cluster::doctor::{self, Options};
use kubectl_pattern::cluster::error::ClusterError;
use kubectl_pattern::cluster::live::{Scope, Selection};
use kubectl_pattern::cluster::resource::Resource;
use serde_json::Value;

use crate::apiserver::{self, Handle, Seen};
use stage::{NOW, NS, Stage};

/// Answers every request with the stage's body for its path (404 otherwise) until the
/// client goes away; returns the requests in order.
async fn serve(mut handle: Handle, bodies: BTreeMap<String, Value>) -> Vec<Seen> {
    let mut seen = Vec::new();
    while let Some((request, reply)) = handle.next_request().await {
        let (parts, _) = request.into_parts();
        let query = parts
            .uri
            .query()
            .map(|q| form_urlencoded::parse(q.as_bytes()).into_owned().collect())
            .unwrap_or_default();
        let path = parts.uri.path().to_string();
        let (code, body) = match bodies.get(&path) {
            Some(body) if body["kind"] == "Status" => (
                u16::try_from(body["code"].as_u64().unwrap()).unwrap(),
                body.clone(),
            ),
            Some(body) => (200, body.clone()),
            None => (
                404,
                apiserver::status(
                    404,
                    "NotFound",
                    "the server could not find the requested resource",
                    None,
                ),
            ),
        };
        let response = Response::builder()
            .status(code)
            .header(http::header::CONTENT_TYPE, "application/json")
            .body(Body::from(serde_json::to_vec(&body).unwrap()))
            .unwrap();
        reply.send_response(response);
        seen.push(Seen {
            method: parts.method.to_string(),
            path,
            query,
            content_type: None,
            body: Value::Null,
        });
    }
    seen
}

/// `deploy/web` in the recordings' namespace.
fn web() -> (Selection, Scope) {
    (
        Selection::Named(vec![(Resource::Deployment, "web".into())]),
        Scope::Namespace(NS.into()),
    )
}

/// Runs doctor on `deploy/web` at `now`, with events of the last `since` (None: all).
async fn run_at(
    stage: &Stage,
    now: &str,
    since: Option<Duration>,
) -> (Result<Report, ClusterError>, Vec<Seen>) {
    let (conn, handle) = apiserver::connect();
    let server = tokio::spawn(serve(handle, stage.bodies.clone()));
    let options = Options {
        window: Window {
            now: now.parse().unwrap(),
            since,
        },
    };
    let (selection, scope) = web();
    let report = doctor::run(&conn, &selection, &scope, &options, &|_| {}).await;
    drop(conn);
    (report, server.await.unwrap())
}

/// Runs doctor on `deploy/web` four minutes after the recording, with the default hour.
async fn run(stage: &Stage) -> Report {
    let (report, _) = run_at(stage, NOW, Some(Duration::from_secs(3600))).await;
    report.unwrap()
}

/// The findings as (severity, check, pod, container).
fn kinds(report: &Report) -> Vec<(Severity, Check, Option<&str>, Option<&str>)> {
    report
        .findings
        .iter()
        .map(|f| {
            (
                f.severity,
                f.check,
                f.pod.as_deref(),
                f.container.as_deref(),
            )
        })
        .collect()
}

/// The only finding of `check`.
fn only(report: &Report, check: Check) -> &Finding {
    let found: Vec<&Finding> = report
        .findings
        .iter()
        .filter(|f| f.check == check)
        .collect();
    assert_eq!(found.len(), 1, "{:#?}", report.findings);
    found[0]
}
