//! Runs an engine action on live objects: fetch (or list by selector), the same engine as for
//! files, then server-side apply of the patterns' fields only (`write.rs`), with bounded
//! concurrency, optimistic locking and dry runs.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use futures::{StreamExt, stream};
use kube::api::{DynamicObject, ListParams};
use kube::{Api, Client};
use serde_json::Value;

use kubectl_pattern_engine::process::{Action, ObjectReport};

use super::connect::Connection;
use super::error::{ClusterError, RequestContext, classify};
use super::resource::Resource;

/// `--dry-run`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DryRun {
    /// Write.
    #[default]
    None,
    /// Run the engine locally, send nothing.
    Client,
    /// Send with dryRun=All: admission and defaulting apply, nothing is stored.
    Server,
}

/// Which field manager writes the patterns' fields.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Managers {
    /// Each instance's fields as the manager its record names (`kubectl-pattern` unless it was
    /// added with `--field-manager`).
    #[default]
    Recorded,
    /// Every instance's fields as this manager (`remove --field-manager`).
    Only(String),
}

/// How writes are made.
#[derive(Debug, Clone)]
pub struct LiveOptions {
    /// The server-side apply field managers.
    pub managers: Managers,
    /// Take over fields other managers own.
    pub force_conflicts: bool,
    /// Dry run mode.
    pub dry_run: DryRun,
    /// Objects processed at once.
    pub concurrency: usize,
    /// Attempts when the object changes under us (409 on resourceVersion).
    pub attempts: u32,
    /// First backoff after such a conflict (doubled each time).
    pub backoff: Duration,
    /// How the engine's result is written.
    pub mode: WriteMode,
}

/// How the engine's result is written to a live object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum WriteMode {
    /// Server-side apply of the patterns' fields (`add`, `remove`).
    #[default]
    Apply,
    /// An Update that may delete other managers' fields, then the apply and the hand-over of
    /// the new instances' fields (`migrate`, `migrate.rs`).
    Migrate,
}

impl Default for LiveOptions {
    fn default() -> Self {
        LiveOptions {
            managers: Managers::Recorded,
            force_conflicts: false,
            dry_run: DryRun::None,
            concurrency: 8,
            attempts: 5,
            backoff: Duration::from_millis(200),
            mode: WriteMode::Apply,
        }
    }
}

pub use kubectl_pattern_engine::target::{Scope, Selection};

/// One object to process; listed objects come with their content (no second read).
#[derive(Debug, Clone)]
pub struct Target {
    /// The type.
    pub resource: Resource,
    /// The namespace.
    pub namespace: String,
    /// The name.
    pub name: String,
    /// The object as listed.
    pub object: Option<Value>,
}

impl Target {
    pub(super) fn ctx(&self, verb: &'static str) -> RequestContext {
        RequestContext {
            verb,
            resource: self.resource,
            name: Some(self.name.clone()),
            namespace: Some(self.namespace.clone()),
        }
    }

    /// `deployment.apps/web`.
    pub fn display(&self) -> String {
        format!("{}/{}", self.resource.object_prefix(), self.name)
    }
}

/// What happened to one object.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The object.
    pub target: Target,
    /// The live object before.
    pub before: Value,
    /// The object after (the server's answer, or the local result for --dry-run=client).
    pub after: Value,
    /// The engine's report.
    pub report: ObjectReport,
    /// A write was sent (or, with --dry-run=client, would have been).
    pub written: bool,
    /// Notes (fields another manager keeps, etc.).
    pub notes: Vec<String>,
    /// The field managers the write was sent as, in order.
    pub field_managers: Vec<String>,
}

/// Resolves the selection into targets (listing by selector).
pub async fn resolve(
    conn: &Connection,
    selection: &Selection,
    scope: &Scope,
) -> Result<Vec<Target>, ClusterError> {
    match selection {
        Selection::Named(items) => {
            let namespace = match scope {
                Scope::Namespace(ns) => ns.clone(),
                Scope::All => conn.default_namespace.clone(),
            };
            Ok(items
                .iter()
                .map(|(resource, name)| Target {
                    resource: *resource,
                    namespace: namespace.clone(),
                    name: name.clone(),
                    object: None,
                })
                .collect())
        }
        Selection::Listed { types, selector } => {
            let mut out = Vec::new();
            for resource in types {
                let ar = super::resource::api_resource(*resource);
                let (api, namespace): (Api<DynamicObject>, Option<String>) = match scope {
                    Scope::Namespace(ns) => (
                        Api::namespaced_with(conn.client.clone(), ns, &ar),
                        Some(ns.clone()),
                    ),
                    Scope::All => (Api::all_with(conn.client.clone(), &ar), None),
                };
                let mut params = ListParams::default();
                if let Some(s) = selector {
                    params = params.labels(s);
                }
                let ctx = RequestContext {
                    verb: "list",
                    resource: *resource,
                    name: None,
                    namespace,
                };
                let list = api
                    .list(&params)
                    .await
                    .map_err(|e| classify(e, &ctx, &conn.endpoint))?;
                for item in list.items {
                    let mut value = to_value(item);
                    // List items carry no apiVersion/kind.
                    value["apiVersion"] = Value::String(ar.api_version.clone());
                    value["kind"] = Value::String(ar.kind.clone());
                    let meta = |k: &str| {
                        value
                            .pointer(&format!("/metadata/{k}"))
                            .and_then(Value::as_str)
                            .unwrap_or_default()
                            .to_string()
                    };
                    let (name, ns) = (meta("name"), meta("namespace"));
                    out.push(Target {
                        resource: *resource,
                        namespace: ns,
                        name,
                        object: Some(value),
                    });
                }
            }
            Ok(out)
        }
    }
}

pub(super) fn to_value(object: DynamicObject) -> Value {
    serde_json::to_value(object).unwrap_or(Value::Null)
}

pub(super) fn api(client: &Client, target: &Target) -> Api<DynamicObject> {
    Api::namespaced_with(
        client.clone(),
        &target.namespace,
        &super::resource::api_resource(target.resource),
    )
}

pub(super) async fn fetch(conn: &Connection, target: &Target) -> Result<Value, ClusterError> {
    let mut value = api(&conn.client, target)
        .get(&target.name)
        .await
        .map(to_value)
        .map_err(|e| classify(e, &target.ctx("get"), &conn.endpoint))?;
    let ar = super::resource::api_resource(target.resource);
    value["apiVersion"] = Value::String(ar.api_version);
    value["kind"] = Value::String(ar.kind);
    Ok(value)
}

/// Counters for the benchmark and tests: requests in flight now and at most.
#[derive(Debug, Default)]
pub struct InFlight {
    now: AtomicUsize,
    /// The most objects processed at once.
    pub peak: AtomicUsize,
}

impl InFlight {
    fn enter(&self) {
        let now = self.now.fetch_add(1, Ordering::SeqCst) + 1;
        self.peak.fetch_max(now, Ordering::SeqCst);
    }
    fn leave(&self) {
        self.now.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Runs `action` on every target, at most `opts.concurrency` at once; results in target order.
pub async fn run(
    conn: &Connection,
    targets: Vec<Target>,
    action: Arc<dyn Action + Send + Sync>,
    opts: &LiveOptions,
    write: bool,
    in_flight: Arc<InFlight>,
) -> Vec<Result<Outcome, ClusterError>> {
    let mut results: Vec<(usize, Result<Outcome, ClusterError>)> =
        stream::iter(targets.into_iter().enumerate())
            .map(|(i, target)| {
                let action = action.clone();
                let in_flight = in_flight.clone();
                async move {
                    in_flight.enter();
                    let action = action.as_ref();
                    let r = match opts.mode {
                        WriteMode::Apply => {
                            super::write::process(conn, target, action, opts, write).await
                        }
                        WriteMode::Migrate => {
                            super::migrate::process(conn, target, action, opts, write).await
                        }
                    };
                    in_flight.leave();
                    (i, r)
                }
            })
            .buffer_unordered(opts.concurrency.max(1))
            .collect()
            .await;
    results.sort_by_key(|(i, _)| *i);
    results.into_iter().map(|(_, r)| r).collect()
}
