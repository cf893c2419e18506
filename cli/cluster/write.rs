//! One object of a live run: the engine on the live object, what to send (one server-side apply
//! per field manager whose fields change, nothing when the object already holds them), the
//! check that no other manager keeps a field being let go of, and the writes with optimistic
//! concurrency.
//!
//! Why the apply carries the `resourceVersion` it read: every apply is a read-modify-write of the
//! tracking record and of the manager's whole field set (server-side apply deletes the fields a
//! manager stops sending). Without it, a second kubectl-pattern run writing the same object in
//! between (adding or removing another instance) would be undone silently: its record dropped,
//! its helper deleted or brought back. Other writers need no such care, since the server merges
//! by field owner; but their writes also move the resourceVersion, and the controllers write the
//! status of every workload that rolls out. So a 409 after which the re-read object's pod
//! template is unchanged (only status or metadata moved) is retried at once, without backoff;
//! only a change of the template itself backs off. A server dry run stores nothing, so it
//! carries no resourceVersion.

use kube::api::{Patch, PatchParams};
use serde_json::Value;

use kubectl_pattern_engine::output::ObjectRef;
use kubectl_pattern_engine::process::{Action, ActionResult, ObjectReport};
use kubectl_pattern_engine::tracking::{self, AppliedRecord};
use kubectl_pattern_engine::workload::Workload;
use kubectl_pattern_engine::{owned, released};

use super::connect::Connection;
use super::error::{ClusterError, classify, is_stale_write};
use super::live::{DryRun, LiveOptions, Managers, Outcome, Target, api, fetch, to_value};

/// One apply: as which manager, with which configuration.
struct Write {
    manager: String,
    config: Value,
}

/// What the engine decided for the object as read.
enum Decision {
    /// Nothing to send.
    Done(Box<Outcome>),
    /// Send these, in order.
    Send {
        edited: Value,
        report: Box<ObjectReport>,
        writes: Vec<Write>,
        notes: Vec<String>,
    },
}

/// Runs `action` on the target and writes the result back (see the module documentation).
pub(super) async fn process(
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
    let mut retried_at_once = false;
    loop {
        let (edited, report, writes, notes) =
            match decide(conn, &target, &live, action, opts, write)? {
                Decision::Done(outcome) => return Ok(*outcome),
                Decision::Send {
                    edited,
                    report,
                    writes,
                    notes,
                } => (edited, report, writes, notes),
            };
        match send(conn, &target, &live, &writes, opts).await {
            Ok(after) => {
                let mut notes = notes;
                notes.extend(kept_by_others(&edited, &after));
                return Ok(Outcome {
                    target: target.clone(),
                    before: live,
                    after,
                    report: *report,
                    written: true,
                    notes,
                    field_managers: writes.into_iter().map(|w| w.manager).collect(),
                });
            }
            Err(e) if is_stale_write(&e) && attempt < opts.attempts => {
                let fresh = fetch(conn, &target).await?;
                let template_moved =
                    released::pod_template(&fresh) != released::pod_template(&live);
                if template_moved || retried_at_once {
                    tokio::time::sleep(opts.backoff * 2u32.pow(attempt - 1)).await;
                } else {
                    retried_at_once = true;
                }
                attempt += 1;
                live = fresh;
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

/// Runs the engine on `live` and decides what to send.
fn decide(
    conn: &Connection,
    target: &Target,
    live: &Value,
    action: &(dyn Action + Send + Sync),
    opts: &LiveOptions,
    write: bool,
) -> Result<Decision, ClusterError> {
    let mut edited = live.clone();
    let mut result = action
        .run(&mut edited)
        .map_err(|error| ClusterError::Engine {
            object: target.display(),
            error: Box::new(error),
        })?;
    let writes = if write && result.changed {
        if let Some(why) = target.resource.info().immutable_template {
            return Err(ClusterError::Unsupported {
                object: target.display(),
                why: why.into(),
            });
        }
        writes_for(target, live, &edited, opts)?
    } else {
        Vec::new()
    };
    if writes.is_empty() {
        // The object already holds what the engine produced (fields the server defaulted aside).
        mark_unchanged(&mut result);
    }
    let report = ObjectReport::new(
        conn.endpoint.context.clone(),
        0,
        ObjectRef::of(live),
        result,
    );
    let done = |after: Value, written: bool, managers: Vec<String>| {
        Decision::Done(Box::new(Outcome {
            target: target.clone(),
            before: live.clone(),
            after,
            report: report.clone(),
            written,
            notes: vec![],
            field_managers: managers,
        }))
    };
    if writes.is_empty() {
        return Ok(done(live.clone(), false, vec![]));
    }
    if opts.dry_run == DryRun::Client {
        let managers = writes.into_iter().map(|w| w.manager).collect();
        return Ok(done(edited, true, managers));
    }
    let notes = override_notes(live, &edited, opts);
    Ok(Decision::Send {
        edited,
        report: Box::new(report),
        writes,
        notes,
    })
}

/// An action result whose changes the live object already holds: nothing changes.
fn mark_unchanged(result: &mut ActionResult) {
    result.changed = false;
    for p in &mut result.patterns {
        if p.action == "updated" {
            p.action = "unchanged";
        }
    }
}

pub(super) fn records(object: &Value) -> Vec<AppliedRecord> {
    let mut copy = object.clone();
    Workload::new(&mut copy)
        .ok()
        .and_then(|w| tracking::read(&w).ok())
        .unwrap_or_default()
}

/// One apply per field manager whose fields change: managers that let go of their last
/// instance first (their fields may move to another manager), then the others. Refused when
/// another manager also owns a field a write lets go of.
fn writes_for(
    target: &Target,
    live: &Value,
    edited: &Value,
    opts: &LiveOptions,
) -> Result<Vec<Write>, ClusterError> {
    let (old, new) = (records(live), records(edited));
    let managers: Vec<(String, Option<String>)> = match &opts.managers {
        Managers::Only(m) => vec![(m.clone(), None)],
        Managers::Recorded => {
            let mut names: Vec<String> = Vec::new();
            for r in old.iter().chain(&new) {
                let m = r.field_manager().to_string();
                if !names.contains(&m) {
                    names.push(m);
                }
            }
            names.sort_by_key(|m| new.iter().any(|r| r.field_manager() == m));
            names.into_iter().map(|m| (m.clone(), Some(m))).collect()
        }
    };
    let config_error = |error| ClusterError::ApplyConfiguration {
        object: target.display(),
        error,
    };
    let mut writes = Vec::new();
    for (manager, filter) in managers {
        let filter = filter.as_deref();
        let mine = |records: &[AppliedRecord]| -> Vec<AppliedRecord> {
            records
                .iter()
                .filter(|r| filter.is_none_or(|m| r.field_manager() == m))
                .cloned()
                .collect()
        };
        let mut config = owned::apply_configuration(edited, live, filter).map_err(config_error)?;
        if mine(&old) == mine(&new) && released::contains(live, &config) {
            continue;
        }
        let let_go =
            released::released(live, edited, filter).map_err(|e| ClusterError::Released {
                object: target.display(),
                error: e,
            })?;
        let owners = super::ownership::co_owned(live, &manager, &let_go);
        if !owners.is_empty() {
            return Err(ClusterError::CoOwned {
                object: target.display(),
                namespace: target.namespace.clone(),
                manager,
                owners,
            });
        }
        if opts.dry_run != DryRun::Server
            && let Some(rv) = live.pointer("/metadata/resourceVersion").cloned()
        {
            config["metadata"]["resourceVersion"] = rv;
        }
        writes.push(Write { manager, config });
    }
    Ok(writes)
}

/// `remove --field-manager M` for instances recorded with another manager: said, since that
/// manager's fields stay unless M owns them too.
fn override_notes(live: &Value, edited: &Value, opts: &LiveOptions) -> Vec<String> {
    let Managers::Only(m) = &opts.managers else {
        return vec![];
    };
    let kept: Vec<String> = records(edited).into_iter().map(|r| r.instance).collect();
    records(live)
        .into_iter()
        .filter(|r| !kept.contains(&r.instance) && r.field_manager() != m)
        .map(|r| {
            format!(
                "{} was applied with field manager {}; removing it as {m} (--field-manager)",
                r.instance,
                r.field_manager()
            )
        })
        .collect()
}

/// Sends the writes in order, each on the resourceVersion the previous one left; the last
/// answer is the object after.
async fn send(
    conn: &Connection,
    target: &Target,
    live: &Value,
    writes: &[Write],
    opts: &LiveOptions,
) -> Result<Value, kube::Error> {
    let mut after = live.clone();
    for (i, w) in writes.iter().enumerate() {
        let mut config = w.config.clone();
        if i > 0
            && config.pointer("/metadata/resourceVersion").is_some()
            && let Some(rv) = after.pointer("/metadata/resourceVersion").cloned()
        {
            config["metadata"]["resourceVersion"] = rv;
        }
        let mut params = PatchParams::apply(&w.manager);
        if opts.force_conflicts {
            params = params.force();
        }
        if opts.dry_run == DryRun::Server {
            params = params.dry_run();
        }
        let obj = api(&conn.client, target)
            .patch(&target.name, &params, &Patch::Apply(&config))
            .await?;
        after = to_value(obj);
    }
    Ok(after)
}

/// Containers and volumes the server kept although our result dropped them: another field
/// manager owns them too (a server that keeps no managedFields could not tell us before).
fn kept_by_others(edited: &Value, after: &Value) -> Vec<String> {
    let names = |v: &Value, list: &str| -> Vec<String> {
        let mut copy = v.clone();
        let Ok(w) = Workload::new(&mut copy) else {
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
