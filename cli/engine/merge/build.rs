//! Planning a merge: the checks (instance name, sidecar mode, names, ports, mounts, env,
//! annotations), then the edits — stale parts of the previous apply out, helpers, volumes and
//! wiring in, lists and maps created, the new record — all read from the workload unchanged.

use std::sync::Arc;

use k8s_openapi::api::core::v1::Container;
use serde_json::{Map, Value};

use super::plan::{AnnotationEdit, HELPER_LISTS, Placement, Plan};
use super::position;
use super::{Instance, MergeError, MergeOptions, targets};
use crate::contribution::Contribution;
use crate::drift::{self, Part};
use crate::fragment::Fragment;
use crate::pattern::{PatternSpec, SidecarMode};
use crate::podspec::{ContainerList, ItemRef, ListRef, PodList, Position, name_of, ports_of};
use crate::tracking::{self, AppliedRecord, Created, EnvRecord, MountRecord, TRACKING_ANNOTATION};
use crate::workload::Workload;

pub(super) fn plan(
    workload: &Workload<'_>,
    instance: &Instance<'_>,
    contribution: Arc<Contribution>,
    options: &MergeOptions,
) -> Result<Plan, MergeError> {
    let mut records = super::records(workload)?;
    let prev_index = records.iter().position(|r| r.instance == instance.name);
    if let Some(prev) = prev_index.map(|i| &records[i])
        && prev.pattern != instance.pattern.id
    {
        return Err(MergeError::InstanceTaken {
            instance: instance.name.to_string(),
            pattern: prev.pattern.clone(),
        });
    }
    let prev = prev_index.map(|i| records[i].clone()).unwrap_or_default();
    let main = super::main_container(workload, &records, options.main_container.as_deref())?;
    // App containers for this instance: not helpers of other instances nor of its own.
    let apps: Vec<String> = workload
        .container_names()
        .into_iter()
        .filter(|n| !records.iter().any(|r| r.owns_container(n)))
        .collect();
    let (native, mut warnings) = sidecar_mode(workload, instance.pattern, &contribution, options)?;
    let spec = workload.pod_spec();
    host_network(spec, &contribution, options, &mut warnings)?;
    check_names(spec, &contribution, &prev, instance.name)?;
    check_ports(spec, &contribution, &prev)?;
    let wiring = wiring(spec, &contribution, &main, &apps, &prev)?;
    let annotation_keys = annotation_keys(workload, &contribution, &prev)?;
    let mut record = new_record(instance, &contribution, &wiring, annotation_keys);
    let annotation_values: Vec<(String, String)> = record
        .annotations
        .iter()
        .map(|key| (key.clone(), contribution.annotations[key].clone()))
        .collect();
    record.created = prev.created.clone();
    record.was_null = prev.was_null.clone();
    record.null_as = prev.null_as.clone();
    // The instance stays with the field manager it was applied with.
    record.field_manager = prev.field_manager.clone();

    let mut plan = Plan {
        native,
        warnings,
        ..Plan::default()
    };
    plan.removals = super::removal::items_of(spec, &stale_parts(&prev, &record));
    let init = position::init_placement(spec, &records, &prev, options.position.as_ref())?;
    record.position = init.recorded.clone();
    plan.warnings.extend(init.warning.clone());
    super::place::place_helpers(&mut plan, spec, contribution, native, &init);
    record.content_hash = content_hash(&plan, &record);
    plan.placements.extend(wiring);
    mark_replacements(&mut plan, spec);
    plan.creates = creates(workload, &plan);
    for key in prev
        .annotations
        .iter()
        .filter(|k| !record.annotations.contains(k))
    {
        plan.annotations
            .push(AnnotationEdit::Remove { key: key.clone() });
    }
    for (key, value) in annotation_values {
        plan.annotations.push(AnnotationEdit::Set { key, value });
    }
    record_created(workload, &mut plan, &mut record);

    keep_unhashed(&mut record, &prev, prev_index.is_some());
    let stored = records.clone();
    match prev_index {
        Some(i) => records[i] = record.clone(),
        None => records.push(record.clone()),
    }
    if records != stored {
        plan.annotations.push(AnnotationEdit::Set {
            key: TRACKING_ANNOTATION.into(),
            value: tracking::encode(&records),
        });
    }
    plan.record = record;
    plan.changed = plan.effective(workload);
    Ok(plan)
}

/// Records what the plan creates (and which of those were null), and drops the lists the
/// instance created and no longer uses (e.g. after a sidecar-mode switch).
fn record_created(workload: &Workload<'_>, plan: &mut Plan, record: &mut AppliedRecord) {
    for created in &plan.creates {
        if !record.created.contains(created) {
            record.created.push(created.clone());
            if super::plan::is_null(workload, created) {
                record.was_null.push(created.clone());
            }
        }
    }
    plan.drops = record
        .created
        .iter()
        .filter(|c| c.list().is_some() && plan.ends_empty(workload, c))
        .cloned()
        .collect();
    (plan.to_null, record.was_null) = record
        .was_null
        .iter()
        .cloned()
        .partition(|c| plan.drops.contains(c));
    record.created.retain(|c| !plan.drops.contains(c));
}

/// Native or classic helpers, refusing a classic sidecar in a run-to-completion workload
/// unless asked for, and native-only helpers without native sidecars.
fn sidecar_mode(
    workload: &Workload<'_>,
    pattern: &PatternSpec,
    contribution: &Contribution,
    options: &MergeOptions,
) -> Result<(bool, Vec<String>), MergeError> {
    let mut warnings = contribution.warnings.clone();
    let native = options.target.native_sidecars();
    if !native && !contribution.containers.is_empty() && workload.kind().runs_to_completion() {
        if options.target.mode != SidecarMode::Classic {
            return Err(MergeError::ClassicSidecarInJob {
                kind: workload.kind().as_str().to_string(),
                name: workload.name().to_string(),
                version: options.target.version_string(),
            });
        }
        warnings.push(format!(
            "classic sidecar in a {}: the pod will not complete while the helper runs",
            workload.kind().as_str()
        ));
    }
    if !native && !contribution.native_sidecars.is_empty() {
        return Err(MergeError::NeedsNativeSidecars(pattern.id.clone()));
    }
    Ok((native, warnings))
}

/// Helper and volume names must be free or this instance's own.
fn check_names(
    spec: &Map<String, Value>,
    contribution: &Contribution,
    prev: &AppliedRecord,
    instance: &str,
) -> Result<(), MergeError> {
    let clash = |what, name: &str| MergeError::NameClash {
        what,
        name: name.to_string(),
        instance: instance.into(),
    };
    for c in contribution.all_containers() {
        let taken = HELPER_LISTS
            .iter()
            .any(|l| ListRef::Pod(*l).keys(spec).contains(&c.name.as_str()));
        if taken && !prev.owns_container(&c.name) {
            return Err(clash("container", &c.name));
        }
    }
    let volumes = ListRef::Pod(PodList::Volumes);
    for v in &contribution.volumes {
        if volumes.keys(spec).contains(&v.name.as_str()) && !prev.volumes.contains(&v.name) {
            return Err(clash("volume", &v.name));
        }
        if !prev.volumes.contains(&v.name)
            && let Some(container) = mounting(spec, &v.name)
        {
            return Err(MergeError::ForeignMount {
                container,
                volume: v.name.clone(),
                instance: instance.into(),
            });
        }
    }
    Ok(())
}

/// The first container (of any pod list) with a mount of the volume `volume`.
fn mounting(spec: &Map<String, Value>, volume: &str) -> Option<String> {
    let containers = HELPER_LISTS
        .iter()
        .flat_map(|l| ListRef::Pod(*l).get(spec).into_iter().flatten());
    for c in containers {
        let mounts = c.get("volumeMounts").and_then(Value::as_array);
        if mounts
            .into_iter()
            .flatten()
            .any(|m| m.get("name").and_then(Value::as_str) == Some(volume))
        {
            return name_of(c).map(str::to_string);
        }
    }
    None
}

/// Helpers that open ports in a `hostNetwork` pod listen on the node: refused unless allowed
/// (then a warning).
fn host_network(
    spec: &Map<String, Value>,
    contribution: &Contribution,
    options: &MergeOptions,
    warnings: &mut Vec<String>,
) -> Result<(), MergeError> {
    if spec.get("hostNetwork").and_then(Value::as_bool) != Some(true) {
        return Ok(());
    }
    let helpers = contribution
        .containers
        .iter()
        .chain(&contribution.native_sidecars);
    for c in helpers {
        let Some(port) = c.ports.iter().flatten().next() else {
            continue;
        };
        if !options.allow_host_network {
            return Err(MergeError::HostNetwork {
                helper: c.name.clone(),
                port: port.container_port,
            });
        }
        warnings.push(format!(
            "hostNetwork: helper {} listens on port {} of the node (--allow-host-network)",
            c.name, port.container_port
        ));
    }
    Ok(())
}

/// Containers in a pod share one network namespace: a helper's port must be free.
fn check_ports(
    spec: &Map<String, Value>,
    contribution: &Contribution,
    prev: &AppliedRecord,
) -> Result<(), MergeError> {
    let restart_always =
        |c: &&Value| c.get("restartPolicy").and_then(Value::as_str) == Some("Always");
    let list = |l: PodList| ListRef::Pod(l).get(spec).into_iter().flatten();
    let running =
        list(PodList::Containers).chain(list(PodList::InitContainers).filter(restart_always));
    let mut listening: Vec<((i32, String), String)> = Vec::new();
    for c in running {
        let name = name_of(c).unwrap_or_default();
        if !prev.owns_container(name) {
            listening.extend(ports_of(c).into_iter().map(|p| (p, name.to_string())));
        }
    }
    for c in contribution
        .containers
        .iter()
        .chain(&contribution.native_sidecars)
    {
        let ports = c.ports.iter().flatten().map(|p| {
            let protocol = p.protocol.clone().unwrap_or_else(|| "TCP".into());
            (p.container_port, protocol)
        });
        for p in ports {
            if let Some((_, existing)) = listening.iter().find(|(q, _)| *q == p) {
                return Err(MergeError::PortClash {
                    fix: "set another port with --set".into(),
                    port: p.0,
                    protocol: p.1,
                    existing: existing.clone(),
                    helper: c.name.clone(),
                });
            }
            listening.push((p, c.name.clone()));
        }
    }
    Ok(())
}

/// The mounts and env vars on app containers, checked: a mount's volume exists, and paths and
/// names are free or this instance's own.
fn wiring(
    spec: &Map<String, Value>,
    contribution: &Contribution,
    main: &str,
    apps: &[String],
    prev: &AppliedRecord,
) -> Result<Vec<Placement>, MergeError> {
    let pod_volumes = ListRef::Pod(PodList::Volumes).keys(spec);
    let mut out = Vec::new();
    for m in &contribution.mounts {
        let volume = m.mount.name.as_str();
        let has_volume = contribution.volumes.iter().any(|v| v.name == volume)
            || (pod_volumes.contains(&volume) && !prev.volumes.iter().any(|v| v == volume));
        for container in targets(&m.container, main, apps)? {
            if !has_volume {
                return Err(MergeError::MissingVolume {
                    container,
                    path: m.mount.mount_path.clone(),
                    volume: volume.to_string(),
                });
            }
            let list = ListRef::app(&container, ContainerList::VolumeMounts);
            let ours = prev
                .mounts
                .iter()
                .any(|r| r.container == container && r.mount_path == m.mount.mount_path);
            if list.keys(spec).contains(&m.mount.mount_path.as_str()) && !ours {
                return Err(MergeError::Taken {
                    fix: "set the pattern's path parameter to another path, or put the pattern on another app container with -c NAME".into(),
                    what: "mount path",
                    name: m.mount.mount_path.clone(),
                    container,
                });
            }
            let value = m.mount.json().clone();
            out.push(placed(list, &m.mount.mount_path, value, &m.container));
        }
    }
    for e in &contribution.env {
        for container in targets(&e.container, main, apps)? {
            let list = ListRef::app(&container, ContainerList::Env);
            let ours = prev
                .env
                .iter()
                .any(|r| r.container == container && r.name == e.env.name);
            if list.keys(spec).contains(&e.env.name.as_str()) && !ours {
                return Err(MergeError::Taken {
                    fix: "the pattern sets this variable on the app container itself, so another instance needs another app container (-c NAME)".into(),
                    what: "env var",
                    name: e.env.name.clone(),
                    container,
                });
            }
            let value = e.env.json().clone();
            out.push(placed(list, &e.env.name, value, &e.container));
        }
    }
    Ok(out)
}

fn placed(
    list: ListRef,
    key: &str,
    value: Value,
    via: &crate::contribution::ContainerTarget,
) -> Placement {
    Placement {
        item: ItemRef::new(list, key),
        value,
        position: Position::Append,
        replaces: false,
        via: Some(via.clone()),
    }
}

/// The annotation keys this instance sets: refused when another value is there that is not
/// its own; left out when someone else already set the same value.
fn annotation_keys(
    workload: &Workload<'_>,
    contribution: &Contribution,
    prev: &AppliedRecord,
) -> Result<Vec<String>, MergeError> {
    let mut keys = Vec::new();
    for (key, wanted) in &contribution.annotations {
        match workload.pod_annotation(key) {
            Some(existing) if !prev.annotations.contains(key) && existing != wanted => {
                return Err(MergeError::Annotation {
                    key: key.clone(),
                    existing: existing.to_string(),
                    wanted: wanted.clone(),
                });
            }
            Some(_) if !prev.annotations.contains(key) => {} // already set to this value by someone else
            _ => keys.push(key.clone()),
        }
    }
    Ok(keys)
}

fn new_record(
    instance: &Instance<'_>,
    contribution: &Contribution,
    wiring: &[Placement],
    annotations: Vec<String>,
) -> AppliedRecord {
    let names = |list: &[Fragment<Container>]| -> Vec<String> {
        list.iter().map(|c| c.name.clone()).collect()
    };
    let mut record = AppliedRecord {
        pattern: instance.pattern.id.clone(),
        instance: instance.name.to_string(),
        version: instance.pattern.version.clone(),
        params_hash: instance.params.hash().to_string(),
        containers: names(&contribution.containers),
        init_containers: names(&contribution.init_containers),
        volumes: contribution
            .volumes
            .iter()
            .map(|v| v.name.clone())
            .collect(),
        annotations,
        ..AppliedRecord::default()
    };
    record
        .containers
        .extend(names(&contribution.native_sidecars));
    for p in wiring {
        if let ListRef::Container {
            container, list, ..
        } = &p.item.list
        {
            let container = container.clone();
            match list {
                ContainerList::VolumeMounts => record.mounts.push(MountRecord {
                    container,
                    mount_path: p.item.key.clone(),
                }),
                ContainerList::Env => record.env.push(EnvRecord {
                    container,
                    name: p.item.key.clone(),
                }),
            }
        }
    }
    record
}

/// A record from before content hashes stays as it was while nothing else of it changes.
fn keep_unhashed(record: &mut AppliedRecord, prev: &AppliedRecord, existed: bool) {
    let unhashed = AppliedRecord {
        content_hash: None,
        ..record.clone()
    };
    if existed && prev.content_hash.is_none() && unhashed == *prev {
        record.content_hash = None;
    }
}

/// The hash of the helpers and volumes as placed.
fn content_hash(plan: &Plan, record: &AppliedRecord) -> Option<String> {
    drift::content_hash(record, |part, name| {
        let lists: &[PodList] = match part {
            Part::Helper => &[PodList::InitContainers, PodList::Containers],
            Part::Volume => &[PodList::Volumes],
        };
        plan.placements
            .iter()
            .find(|p| {
                matches!(&p.item.list, ListRef::Pod(l) if lists.contains(l)) && p.item.key == name
            })
            .map(|p| &p.value)
    })
}

/// A placement replaces when its key is in the list after the removals, or an earlier
/// placement put it there.
fn mark_replacements(plan: &mut Plan, spec: &Map<String, Value>) {
    for i in 0..plan.placements.len() {
        let item = &plan.placements[i].item;
        let kept = item.find(spec).is_some() && !plan.removals.contains(item);
        let earlier = plan.placements[..i].iter().any(|p| &p.item == item);
        plan.placements[i].replaces = kept || earlier;
    }
}

/// The lists the placements need that are not there, in the order of their first placement,
/// then the pod metadata and its annotations map when they are missing.
fn creates(workload: &Workload<'_>, plan: &Plan) -> Vec<Created> {
    let spec = workload.pod_spec();
    let mut out: Vec<Created> = Vec::new();
    for p in &plan.placements {
        if p.item.list.get(spec).is_none()
            && let Some(created) = Created::of_list(&p.item.list)
            && !out.contains(&created)
        {
            out.push(created);
        }
    }
    match workload.pod_metadata() {
        None => out.extend([Created::Metadata, Created::Annotations]),
        Some(meta) if !matches!(meta.get("annotations"), Some(Value::Object(_))) => {
            out.push(Created::Annotations)
        }
        Some(_) => {}
    }
    out
}

/// The parts of `prev` that `next` no longer has.
fn stale_parts(prev: &AppliedRecord, next: &AppliedRecord) -> AppliedRecord {
    fn minus<T: Clone + PartialEq>(a: &[T], b: &[T]) -> Vec<T> {
        a.iter().filter(|x| !b.contains(x)).cloned().collect()
    }
    AppliedRecord {
        containers: minus(&prev.containers, &next.containers),
        init_containers: minus(&prev.init_containers, &next.init_containers),
        volumes: minus(&prev.volumes, &next.volumes),
        mounts: minus(&prev.mounts, &next.mounts),
        env: minus(&prev.env, &next.env),
        annotations: minus(&prev.annotations, &next.annotations),
        ..Default::default()
    }
}
