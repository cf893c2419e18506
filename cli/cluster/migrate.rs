//! `migrate` on one live object, in three writes (see `engine::handover` for why server-side
//! apply alone cannot do it):
//! 1. a JSON Patch (an Update as `kubectl-pattern-migrate`) taking the object to the engine's
//!    result, on the `resourceVersion` read: the only change to the pod template, so one rollout;
//! 2. a server-side apply, as the manager the new records name, of the same values: that
//!    manager now owns the instances' fields (nothing changes);
//! 3. a JSON Patch of `metadata.managedFields` handing them over: the instances' fields pruned
//!    from every other manager; the Update's entry keeps only what no instance owns.
//!
//! A stale `resourceVersion` (409) on step 1 re-reads the object and runs the engine again; on
//! steps 2 and 3 it re-reads the object and rebuilds that step's request only. When steps 2 or
//! 3 fail for good, the same command finishes them: an object without gitRepo volumes whose
//! migration's Update still owns a git-clone helper gets steps 2 and 3 alone.

use kube::api::{Patch, PatchParams};
use serde_json::{Value, json};

use kubectl_pattern_engine::handover::{self, HandoverError, MIGRATE_FIELD_MANAGER};
use kubectl_pattern_engine::output::ObjectRef;
use kubectl_pattern_engine::owned;
use kubectl_pattern_engine::process::{Action, ObjectReport};
use kubectl_pattern_engine::released;

use super::connect::Connection;
use super::error::{ClusterError, classify, is_stale_write};
use super::live::{DryRun, LiveOptions, Outcome, Target, api, fetch, to_value};
use super::write::records;

/// What the user is told once an object is migrated.
pub const MANIFESTS_NOTE: &str = "your manifests (in Git) still hold the gitRepo volume, and a `kubectl apply` of them would bring it back: convert them too with `kubectl pattern migrate gitrepo -f FILE --in-place`";

/// A migration to send.
struct Plan {
    edited: Value,
    report: ObjectReport,
    /// The manager the new records name.
    manager: String,
    /// The new instances.
    instances: Vec<String>,
}

/// Migrates the target (see the module documentation).
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
        let plan = match plan(conn, &target, &live, action, opts, write)? {
            Ok(plan) => plan,
            Err(done) => return resume(conn, &target, *done, opts, write).await,
        };
        let dry = opts.dry_run == DryRun::Server;
        let rv = live
            .pointer("/metadata/resourceVersion")
            .and_then(Value::as_str);
        let ops = handover::json_patch(&live, &plan.edited, rv.filter(|_| !dry));
        match send_json_patch(conn, &target, &ops, dry).await {
            Ok(after) => return finish(conn, target, live, after, plan, opts).await,
            Err(e) if is_stale_write(&e) && attempt < opts.attempts => {
                let fresh = fetch(conn, &target).await?;
                let moved = released::pod_template(&fresh) != released::pod_template(&live);
                if moved || retried_at_once {
                    tokio::time::sleep(opts.backoff * 2u32.pow(attempt - 1)).await;
                } else {
                    retried_at_once = true;
                }
                attempt += 1;
                live = fresh;
            }
            Err(e) if is_stale_write(&e) => return Err(modified(&target, attempt)),
            Err(e) => return Err(classify(e, &target.ctx("patch"), &conn.endpoint)),
        }
    }
}

fn modified(target: &Target, attempts: u32) -> ClusterError {
    ClusterError::Modified {
        object: target.display(),
        attempts,
    }
}

/// After a failed write of steps 2 and 3: `Ok` when it was stale and attempts are left (the
/// caller reads the object again), else the error to report.
fn retry_or_fail(
    conn: &Connection,
    target: &Target,
    e: kube::Error,
    attempt: u32,
    opts: &LiveOptions,
) -> Result<(), ClusterError> {
    match is_stale_write(&e) {
        true if attempt < opts.attempts => Ok(()),
        true => Err(modified(target, attempt)),
        false => Err(classify(e, &target.ctx("patch"), &conn.endpoint)),
    }
}

/// Runs the engine on `live`: the migration to send, or the outcome when there is nothing to
/// send (no gitRepo volume, no writes asked, `--dry-run=client`).
fn plan(
    conn: &Connection,
    target: &Target,
    live: &Value,
    action: &(dyn Action + Send + Sync),
    opts: &LiveOptions,
    write: bool,
) -> Result<Result<Plan, Box<Outcome>>, ClusterError> {
    let mut edited = live.clone();
    let result = action
        .run(&mut edited)
        .map_err(|error| ClusterError::Engine {
            object: target.display(),
            error: Box::new(error),
        })?;
    let changed = result.changed;
    let report = ObjectReport::new(
        conn.endpoint.context.clone(),
        0,
        ObjectRef::of(live),
        result,
    );
    let old: Vec<String> = records(live).into_iter().map(|r| r.instance).collect();
    let new: Vec<_> = records(&edited)
        .into_iter()
        .filter(|r| !old.contains(&r.instance))
        .collect();
    let manager = new.first().map(|r| r.field_manager().to_string());
    let done = |after: Value, written: bool, managers: Vec<String>| {
        Ok(Err(Box::new(Outcome {
            target: target.clone(),
            before: live.clone(),
            after,
            report: report.clone(),
            written,
            notes: vec![],
            field_managers: managers,
        })))
    };
    let Some(manager) = manager.filter(|_| write && changed) else {
        return done(live.clone(), false, vec![]);
    };
    if let Some(why) = target.resource.info().immutable_template {
        return Err(ClusterError::Unsupported {
            object: target.display(),
            why: why.into(),
        });
    }
    if opts.dry_run == DryRun::Client {
        return done(edited, true, vec![manager]);
    }
    Ok(Ok(Plan {
        edited,
        report,
        manager,
        instances: new.into_iter().map(|r| r.instance).collect(),
    }))
}

/// After step 1: steps 2 and 3 (none on a server dry run), and the outcome.
async fn finish(
    conn: &Connection,
    target: Target,
    before: Value,
    after: Value,
    plan: Plan,
    opts: &LiveOptions,
) -> Result<Outcome, ClusterError> {
    let (after, note) = if opts.dry_run == DryRun::Server {
        let note = format!(
            "server dry run: only the migrating update was sent; the apply as {} and the managedFields hand-over (steps 2 and 3) are skipped",
            plan.manager
        );
        (after, note)
    } else {
        let handed = hand_over(conn, &target, &plan, after, opts).await?;
        (handed, MANIFESTS_NOTE.to_string())
    };
    Ok(Outcome {
        target,
        before,
        after,
        report: plan.report,
        written: true,
        notes: vec![note],
        field_managers: vec![plan.manager],
    })
}

/// Steps 2 and 3 on `current`, the object with the migration in it; a failure says how to
/// finish (the same command again: see `resume`).
async fn hand_over(
    conn: &Connection,
    target: &Target,
    plan: &Plan,
    current: Value,
    opts: &LiveOptions,
) -> Result<Value, ClusterError> {
    let steps = async {
        let applied = apply_step(conn, target, plan, current, opts).await?;
        handover_step(conn, target, plan, applied, opts).await
    };
    steps.await.map_err(|cause| ClusterError::Unfinished {
        object: target.display(),
        manager: plan.manager.clone(),
        command: format!(
            "kubectl pattern migrate gitrepo {}/{} -n {}",
            target.resource.short_name(),
            target.name,
            target.namespace
        ),
        cause: match cause {
            ClusterError::Modified { attempts, .. } => {
                format!("the object was modified by someone else {attempts} times")
            }
            other => other.to_string(),
        },
    })
}

/// An object with nothing to migrate whose hand-over an earlier run left unfinished (its
/// migration's Update still owns a git-clone helper): steps 2 and 3 now. Else `done` as is.
async fn resume(
    conn: &Connection,
    target: &Target,
    mut done: Outcome,
    opts: &LiveOptions,
    write: bool,
) -> Result<Outcome, ClusterError> {
    if !write || done.written || opts.dry_run != DryRun::None {
        return Ok(done);
    }
    let pending = handover::unfinished(&done.before).map_err(|e| handover_error(target, e))?;
    let Some((manager, instances)) = pending else {
        return Ok(done);
    };
    done.report.reason = Some(format!(
        "finished handing {} to {manager}, which an earlier run left undone",
        instances.join(", ")
    ));
    let plan = Plan {
        edited: done.before.clone(),
        report: done.report.clone(),
        manager,
        instances,
    };
    done.after = hand_over(conn, target, &plan, done.before.clone(), opts).await?;
    done.written = true;
    done.field_managers = vec![plan.manager];
    Ok(done)
}

/// Step 2: the instances' apply configuration as their manager, on the object step 1 left.
async fn apply_step(
    conn: &Connection,
    target: &Target,
    plan: &Plan,
    mut current: Value,
    opts: &LiveOptions,
) -> Result<Value, ClusterError> {
    let mut source = plan.edited.clone();
    let mut attempt = 1;
    loop {
        let mut config = owned::apply_configuration(&source, &current, Some(&plan.manager))
            .map_err(|error| ClusterError::ApplyConfiguration {
                object: target.display(),
                error,
            })?;
        if let Some(rv) = current.pointer("/metadata/resourceVersion").cloned() {
            config["metadata"]["resourceVersion"] = rv;
        }
        let mut params = PatchParams::apply(&plan.manager);
        if opts.force_conflicts {
            params = params.force();
        }
        match api(&conn.client, target)
            .patch(&target.name, &params, &Patch::Apply(&config))
            .await
        {
            Ok(obj) => return Ok(to_value(obj)),
            Err(e) => {
                retry_or_fail(conn, target, e, attempt, opts)?;
                current = fetch(conn, target).await?;
                source = current.clone();
                attempt += 1;
            }
        }
    }
}

/// Step 3: `managedFields` with the instances' fields handed to their manager.
async fn handover_step(
    conn: &Connection,
    target: &Target,
    plan: &Plan,
    mut current: Value,
    opts: &LiveOptions,
) -> Result<Value, ClusterError> {
    let fields = handover::instance_fields(&plan.edited, &plan.instances, &plan.manager)
        .map_err(|e| handover_error(target, e))?;
    let mut attempt = 1;
    loop {
        let entries = current
            .pointer("/metadata/managedFields")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let handed = handover::hand_over(&entries, &plan.manager, MIGRATE_FIELD_MANAGER, &fields);
        if handed == entries {
            return Ok(current);
        }
        let rv = current
            .pointer("/metadata/resourceVersion")
            .cloned()
            .unwrap_or(Value::Null);
        let ops = [
            json!({"op": "replace", "path": "/metadata/resourceVersion", "value": rv}),
            json!({"op": "replace", "path": "/metadata/managedFields", "value": handed}),
        ];
        match send_json_patch(conn, target, &ops, false).await {
            Ok(after) => return Ok(after),
            Err(e) => {
                retry_or_fail(conn, target, e, attempt, opts)?;
                current = fetch(conn, target).await?;
                attempt += 1;
            }
        }
    }
}

fn handover_error(target: &Target, e: HandoverError) -> ClusterError {
    match e {
        HandoverError::Released(error) => ClusterError::Released {
            object: target.display(),
            error,
        },
        HandoverError::Remove(error) => ClusterError::Engine {
            object: target.display(),
            error: Box::new(error),
        },
    }
}

/// A JSON Patch (`application/json-patch+json`) as `kubectl-pattern-migrate`.
async fn send_json_patch(
    conn: &Connection,
    target: &Target,
    ops: &[Value],
    dry_run: bool,
) -> Result<Value, kube::Error> {
    let api = api(&conn.client, target);
    let params = PatchParams {
        dry_run,
        field_manager: Some(MIGRATE_FIELD_MANAGER.into()),
        ..PatchParams::default()
    };
    // kube builds JSON Patch requests only with its `jsonpatch` feature: the merge patch
    // request carries the same URL and body; only the content type differs.
    let mut request = kube::core::Request::new(api.resource_url())
        .patch(&target.name, &params, &Patch::Merge(ops))
        .map_err(kube::Error::BuildRequest)?;
    request.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json-patch+json"),
    );
    let mut after: Value = conn.client.request(request).await?;
    let ar = super::resource::api_resource(target.resource);
    after["apiVersion"] = Value::String(ar.api_version);
    after["kind"] = Value::String(ar.kind);
    Ok(after)
}
