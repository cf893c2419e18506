//! Runs an engine action on live objects: fetch (or list by selector), the same engine as for
//! files, then server-side apply of the patterns' fields only, with bounded concurrency,
//! optimistic locking (409 → re-read and retry with backoff) and dry runs.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use futures::{StreamExt, stream};
use kube::api::{DynamicObject, ListParams, Patch, PatchParams};
use kube::{Api, Client};
use serde_json::Value;

use kubectl_pattern_engine::output::ObjectRef;
use kubectl_pattern_engine::owned;
use kubectl_pattern_engine::process::{Action, ObjectReport};

use super::connect::Connection;
use super::error::{ClusterError, RequestContext, classify, is_stale_write};
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

/// How writes are made.
#[derive(Debug, Clone)]
pub struct LiveOptions {
    /// The server-side apply field manager.
    pub field_manager: String,
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
}

impl Default for LiveOptions {
    fn default() -> Self {
        LiveOptions {
            field_manager: "kubectl-pattern".into(),
            force_conflicts: false,
            dry_run: DryRun::None,
            concurrency: 8,
            attempts: 5,
            backoff: Duration::from_millis(200),
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
    fn ctx(&self, verb: &'static str) -> RequestContext {
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

fn to_value(object: DynamicObject) -> Value {
    serde_json::to_value(object).unwrap_or(Value::Null)
}

fn api(client: &Client, target: &Target) -> Api<DynamicObject> {
    Api::namespaced_with(
        client.clone(),
        &target.namespace,
        &super::resource::api_resource(target.resource),
    )
}

async fn fetch(conn: &Connection, target: &Target) -> Result<Value, ClusterError> {
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
                    let r = process(conn, target, action.as_ref(), opts, write).await;
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

async fn process(
    conn: &Connection,
    mut target: Target,
    action: &(dyn Action + Send + Sync),
    opts: &LiveOptions,
    write: bool,
) -> Result<Outcome, ClusterError> {
    let mut live = match target.object.take() {
        Some(v) => v,
        None => fetch(conn, &target).await?,
    };
    let mut attempt = 1;
    loop {
        let mut edited = live.clone();
        let result = action
            .run(&mut edited)
            .map_err(|error| ClusterError::Engine {
                object: target.display(),
                error,
            })?;
        let changed = result.changed;
        let report = ObjectReport::new(
            conn.endpoint.context.clone(),
            0,
            ObjectRef::of(&live),
            result,
        );
        let outcome = |after: Value, written: bool, notes: Vec<String>| Outcome {
            target: target.clone(),
            before: live.clone(),
            after,
            report: report.clone(),
            written,
            notes,
        };
        if !write || !changed {
            return Ok(outcome(live.clone(), false, vec![]));
        }
        if let Some(why) = target.resource.info().immutable_template {
            return Err(ClusterError::Unsupported {
                object: target.display(),
                why: why.into(),
            });
        }
        let mut config = owned::apply_configuration(&edited).map_err(|error| {
            ClusterError::ApplyConfiguration {
                object: target.display(),
                error,
            }
        })?;
        // Optimistic locking: the apply fails with 409 if the object changed since we read it.
        if let Some(rv) = live.pointer("/metadata/resourceVersion").cloned() {
            config["metadata"]["resourceVersion"] = rv;
        }
        if opts.dry_run == DryRun::Client {
            return Ok(outcome(edited, true, vec![]));
        }
        let mut params = PatchParams::apply(&opts.field_manager);
        if opts.force_conflicts {
            params = params.force();
        }
        if opts.dry_run == DryRun::Server {
            params = params.dry_run();
        }
        match api(&conn.client, &target)
            .patch(&target.name, &params, &Patch::Apply(&config))
            .await
        {
            Ok(obj) => {
                let after = to_value(obj);
                let notes = kept_by_others(&edited, &after);
                return Ok(outcome(after, true, notes));
            }
            Err(e) if is_stale_write(&e) && attempt < opts.attempts => {
                tokio::time::sleep(opts.backoff * 2u32.pow(attempt - 1)).await;
                attempt += 1;
                live = fetch(conn, &target).await?;
            }
            Err(e) if is_stale_write(&e) => {
                return Err(ClusterError::Modified {
                    object: target.display(),
                    attempts: attempt,
                });
            }
            Err(e) => return Err(classify(e, &target.ctx("patch"), &conn.endpoint)),
        }
    }
}

/// Containers and volumes the server kept although our result dropped them: another field
/// manager owns them too (the pattern was applied from files as well).
fn kept_by_others(edited: &Value, after: &Value) -> Vec<String> {
    let names = |v: &Value, list: &str| -> Vec<String> {
        let mut copy = v.clone();
        let Ok(w) = kubectl_pattern_engine::workload::Workload::new(&mut copy) else {
            return vec![];
        };
        w.pod_spec()
            .get(list)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|c| c.get("name").and_then(Value::as_str).map(String::from))
            .collect()
    };
    let mut notes = Vec::new();
    for list in ["containers", "initContainers", "volumes"] {
        let wanted = names(edited, list);
        for name in names(after, list) {
            if !wanted.contains(&name) {
                notes.push(format!(
                    "{list} entry {name} stays: another field manager owns it too (was the pattern also applied from files?); remove it there"
                ));
            }
        }
    }
    notes
}
