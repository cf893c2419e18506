//! The one merge path: applies a `Contribution` to a workload (idempotently, refusing clashes,
//! recording what it added) and removes exactly what a record says was added.

use std::collections::BTreeSet;

use k8s_openapi::api::core::v1::Container;
use serde_json::{Map, Value};

use crate::contribution::{ContainerTarget, Contribution};
use crate::params::Params;
use crate::pattern::{PatternSpec, SidecarMode, TargetInfo};
use crate::podspec::{
    app_container_mut, drop_if_empty, existing_entries, marker_rank, name_of, ports_of,
    remove_named, upsert, upsert_in_container,
};
use crate::tracking::{self, AppliedRecord, EnvRecord, MountRecord};
use crate::workload::Workload;

mod error;
pub use error::MergeError;

/// How to merge.
#[derive(Debug, Clone, Default)]
pub struct MergeOptions {
    /// The main container (`--container`); default: the first app container.
    pub main_container: Option<String>,
    /// The target (version, sidecar mode).
    pub target: TargetInfo,
}

/// What a merge did.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ApplyOutcome {
    /// False when the workload already had exactly this.
    pub changed: bool,
    /// True when helpers went in as native sidecars.
    pub native: bool,
    /// The record written to the tracking annotation.
    pub record: AppliedRecord,
    /// Warnings for the report.
    pub warnings: Vec<String>,
}

fn to_value(c: &Container, restart_always: bool) -> Value {
    with_restart(
        serde_json::to_value(c).unwrap_or(Value::Null),
        restart_always,
    )
}

fn with_restart(mut v: Value, restart_always: bool) -> Value {
    if restart_always && let Some(map) = v.as_object_mut() {
        map.insert("restartPolicy".into(), Value::String("Always".into()));
    }
    v
}

/// The app containers: those no pattern instance added.
pub fn app_containers(workload: &Workload<'_>, records: &[AppliedRecord]) -> Vec<String> {
    workload
        .container_names()
        .into_iter()
        .filter(|n| !records.iter().any(|r| r.owns_container(n)))
        .collect()
}

/// The container a pattern's mounts and env go to: `requested` (an app container), or the
/// first app container.
pub fn main_container(
    workload: &Workload<'_>,
    records: &[AppliedRecord],
    requested: Option<&str>,
) -> Result<String, MergeError> {
    let apps = app_containers(workload, records);
    match requested {
        Some(name) if apps.iter().any(|a| a == name) => Ok(name.to_string()),
        Some(name) => {
            let helper = records
                .iter()
                .find(|r| r.owns_container(name))
                .map(|r| format!(" is a helper added by pattern instance {}", r.instance));
            Err(MergeError::Container(format!(
                "container {name:?}{}; app containers: {}",
                helper.unwrap_or_else(|| " not found".into()),
                apps.join(", ")
            )))
        }
        None => apps
            .into_iter()
            .next()
            .ok_or_else(|| MergeError::Container("the pod template has no app container".into())),
    }
}

/// Resolves a contribution target to app container names.
fn targets(
    target: &ContainerTarget,
    main: &str,
    apps: &[String],
) -> Result<Vec<String>, MergeError> {
    match target {
        ContainerTarget::Main => Ok(vec![main.to_string()]),
        ContainerTarget::All => Ok(apps.to_vec()),
        ContainerTarget::Named(n) if apps.contains(n) => Ok(vec![n.clone()]),
        ContainerTarget::Named(n) => Err(MergeError::Container(format!(
            "the pattern targets container {n:?}, which is not an app container (app containers: {})",
            apps.join(", ")
        ))),
    }
}

/// Applies `contribution` as instance `instance` of `pattern`. Re-applying an instance updates
/// it in place; nothing is changed when an error is returned.
pub fn apply(
    workload: &mut Workload<'_>,
    pattern: &PatternSpec,
    instance: &str,
    params: &Params,
    contribution: &Contribution,
    options: &MergeOptions,
) -> Result<ApplyOutcome, MergeError> {
    let mut records = tracking::read(workload)?;
    let prev_index = records.iter().position(|r| r.instance == instance);
    if let Some(prev) = prev_index.map(|i| &records[i])
        && prev.pattern != pattern.id
    {
        return Err(MergeError::InstanceTaken {
            instance: instance.to_string(),
            pattern: prev.pattern.clone(),
        });
    }
    let prev = prev_index.map(|i| records[i].clone()).unwrap_or_default();
    let main = main_container(workload, &records, options.main_container.as_deref())?;
    let owned_by_others: Vec<&AppliedRecord> =
        records.iter().filter(|r| r.instance != instance).collect();
    let apps: Vec<String> = workload
        .container_names()
        .into_iter()
        .filter(|n| !owned_by_others.iter().any(|r| r.owns_container(n)) && !prev.owns_container(n))
        .collect();

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

    // Clash checks, before anything changes.
    let spec = workload.pod_spec();
    let existing: Vec<&Value> = ["containers", "initContainers"]
        .iter()
        .filter_map(|k| spec.get(*k).and_then(Value::as_array))
        .flatten()
        .collect();
    for c in contribution.all_containers() {
        if existing.iter().any(|e| name_of(e) == Some(&c.name)) && !prev.owns_container(&c.name) {
            return Err(MergeError::NameClash {
                what: "container",
                name: c.name.clone(),
                instance: instance.into(),
            });
        }
    }
    let pod_volumes: Vec<&Value> = spec
        .get("volumes")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .collect();
    for v in &contribution.volumes {
        if pod_volumes.iter().any(|e| name_of(e) == Some(&v.name))
            && !prev.volumes.contains(&v.name)
        {
            return Err(MergeError::NameClash {
                what: "volume",
                name: v.name.clone(),
                instance: instance.into(),
            });
        }
    }
    let restart_always =
        |c: &&Value| c.get("restartPolicy").and_then(Value::as_str) == Some("Always");
    let mut listening: Vec<((i32, String), String)> = Vec::new();
    let running = spec
        .get("containers")
        .and_then(Value::as_array)
        .into_iter()
        .flatten();
    let sidecars = spec
        .get("initContainers")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(restart_always);
    for c in running.chain(sidecars) {
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
        for p in ports_of(&to_value(c, false)) {
            if let Some((_, existing)) = listening.iter().find(|(q, _)| *q == p) {
                return Err(MergeError::PortClash {
                    port: p.0,
                    protocol: p.1,
                    existing: existing.clone(),
                    helper: c.name.clone(),
                });
            }
            listening.push((p, c.name.clone()));
        }
    }
    let mut mounts: Vec<(String, Value)> = Vec::new();
    for (index, m) in contribution.mounts.iter().enumerate() {
        for container in targets(&m.container, &main, &apps)? {
            let has_volume = contribution.volumes.iter().any(|v| v.name == m.mount.name)
                || (pod_volumes
                    .iter()
                    .any(|v| name_of(v) == Some(&m.mount.name))
                    && !prev.volumes.contains(&m.mount.name));
            if !has_volume {
                return Err(MergeError::MissingVolume {
                    container,
                    path: m.mount.mount_path.clone(),
                    volume: m.mount.name.clone(),
                });
            }
            let taken = existing_entries(spec, &container, "volumeMounts", "mountPath");
            let ours = prev
                .mounts
                .iter()
                .any(|r| r.container == container && r.mount_path == m.mount.mount_path);
            if taken.contains(&m.mount.mount_path) && !ours {
                return Err(MergeError::Taken {
                    what: "mount path",
                    name: m.mount.mount_path.clone(),
                    container,
                });
            }
            mounts.push((container, contribution.fragment("mounts", index)));
        }
    }
    let mut envs: Vec<(String, Value)> = Vec::new();
    for (index, e) in contribution.env.iter().enumerate() {
        for container in targets(&e.container, &main, &apps)? {
            let taken = existing_entries(spec, &container, "env", "name");
            let ours = prev
                .env
                .iter()
                .any(|r| r.container == container && r.name == e.env.name);
            if taken.contains(&e.env.name) && !ours {
                return Err(MergeError::Taken {
                    what: "env var",
                    name: e.env.name.clone(),
                    container,
                });
            }
            envs.push((container, contribution.fragment("env", index)));
        }
    }
    let mut annotations = Vec::new();
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
            _ => annotations.push(key.clone()),
        }
    }

    // All checks passed: change the workload.
    let before = prev_index.map(|_| {
        (
            workload.pod_spec().clone(),
            workload.pod_metadata().cloned(),
        )
    });
    let mut record = AppliedRecord {
        pattern: pattern.id.clone(),
        instance: instance.to_string(),
        version: pattern.version.clone(),
        params_hash: tracking::params_hash(params),
        containers: contribution
            .containers
            .iter()
            .chain(&contribution.native_sidecars)
            .map(|c| c.name.clone())
            .collect(),
        init_containers: contribution
            .init_containers
            .iter()
            .map(|c| c.name.clone())
            .collect(),
        volumes: contribution
            .volumes
            .iter()
            .map(|v| v.name.clone())
            .collect(),
        mounts: mounts
            .iter()
            .map(|(c, m)| MountRecord {
                container: c.clone(),
                mount_path: m["mountPath"].as_str().unwrap_or_default().to_string(),
            })
            .collect(),
        env: envs
            .iter()
            .map(|(c, e)| EnvRecord {
                container: c.clone(),
                name: e["name"].as_str().unwrap_or_default().to_string(),
            })
            .collect(),
        annotations,
        created: prev.created.clone(),
    };
    // Drop what the previous apply of this instance added and this one does not.
    let stale = stale_parts(&prev, &record);
    remove_parts(workload, &stale);

    let spec = workload.pod_spec_mut();
    let (helper_list, other_list) = if native {
        ("initContainers", "containers")
    } else {
        ("containers", "initContainers")
    };
    for i in 0..contribution.init_containers.len() {
        upsert(
            spec,
            "initContainers",
            contribution.fragment("initContainers", i),
            &mut record.created,
        );
    }
    for (i, c) in contribution.containers.iter().enumerate() {
        remove_named(spec, other_list, &c.name);
        let item = with_restart(contribution.fragment("containers", i), native);
        upsert(spec, helper_list, item, &mut record.created);
    }
    for (i, c) in contribution.native_sidecars.iter().enumerate() {
        remove_named(spec, "containers", &c.name);
        let item = with_restart(contribution.fragment("nativeSidecars", i), true);
        upsert(spec, "initContainers", item, &mut record.created);
    }
    for i in 0..contribution.volumes.len() {
        upsert(
            spec,
            "volumes",
            contribution.fragment("volumes", i),
            &mut record.created,
        );
    }
    for (container, mount) in mounts {
        upsert_in_container(
            spec,
            &container,
            "volumeMounts",
            "mountPath",
            mount,
            &mut record.created,
        );
    }
    for (container, env) in envs {
        upsert_in_container(spec, &container, "env", "name", env, &mut record.created);
    }
    let (meta, created_meta) = workload.pod_metadata_mut();
    if created_meta {
        record.created.push("metadata".into());
    }
    if !matches!(meta.get("annotations"), Some(Value::Object(_))) {
        meta.insert("annotations".into(), Value::Object(Map::new()));
        record.created.push("annotations".into());
    }
    if let Some(map) = meta.get_mut("annotations").and_then(Value::as_object_mut) {
        for key in &record.annotations {
            map.insert(
                key.clone(),
                Value::String(contribution.annotations[key].clone()),
            );
        }
    }
    let mut seen = BTreeSet::new();
    record.created.retain(|m| seen.insert(m.clone()));
    // A list this instance created and no longer uses (e.g. after a sidecar-mode switch) goes.
    let markers = std::mem::take(&mut record.created);
    for marker in markers {
        let keep = matches!(marker.as_str(), "annotations" | "metadata")
            || !drop_if_empty(workload, &marker);
        if keep {
            record.created.push(marker);
        }
    }
    match prev_index {
        Some(i) => records[i] = record.clone(),
        None => records.push(record.clone()),
    }
    tracking::write(workload, &records);
    let changed = match before {
        None => true,
        Some((spec, meta)) => {
            &spec != workload.pod_spec() || meta.as_ref() != workload.pod_metadata()
        }
    };
    Ok(ApplyOutcome {
        changed,
        native,
        record,
        warnings,
    })
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

/// Deletes what `record` lists; lists and maps it created are deleted once empty.
fn remove_parts(workload: &mut Workload<'_>, record: &AppliedRecord) {
    let spec = workload.pod_spec_mut();
    for name in record.containers.iter().chain(&record.init_containers) {
        remove_named(spec, "containers", name);
        remove_named(spec, "initContainers", name);
    }
    for name in &record.volumes {
        remove_named(spec, "volumes", name);
        // A mount of a removed volume would make the pod invalid, even if it was edited by hand.
        for key in ["containers", "initContainers"] {
            for c in spec
                .get_mut(key)
                .and_then(Value::as_array_mut)
                .into_iter()
                .flatten()
            {
                if let Some(Value::Array(mounts)) = c.get_mut("volumeMounts") {
                    mounts.retain(|m| name_of(m) != Some(name));
                }
            }
        }
    }
    for m in &record.mounts {
        if let Some(Value::Array(list)) =
            app_container_mut(spec, &m.container).and_then(|c| c.get_mut("volumeMounts"))
        {
            list.retain(|v| v.get("mountPath").and_then(Value::as_str) != Some(&m.mount_path));
        }
    }
    for e in &record.env {
        if let Some(Value::Array(list)) =
            app_container_mut(spec, &e.container).and_then(|c| c.get_mut("env"))
        {
            list.retain(|v| name_of(v) != Some(&e.name));
        }
    }
    if let Some(Value::Object(map)) = workload
        .pod_metadata_if_any_mut()
        .and_then(|m| m.get_mut("annotations"))
    {
        for key in &record.annotations {
            map.remove(key);
        }
    }
}

/// Removes the instance `instance`: exactly what its record lists. Returns the removed record,
/// or `None` when the instance is not applied.
pub fn remove(
    workload: &mut Workload<'_>,
    instance: &str,
) -> Result<Option<AppliedRecord>, MergeError> {
    let mut records = tracking::read(workload)?;
    let Some(index) = records.iter().position(|r| r.instance == instance) else {
        return Ok(None);
    };
    let record = records.remove(index);
    remove_parts(workload, &record);
    tracking::write(workload, &records);
    // Delete what this instance created once it is empty; hand the rest to a remaining record.
    let mut handed_over = BTreeSet::new();
    let mut markers = record.created.clone();
    markers.sort_by_key(|m| marker_rank(m));
    for marker in &markers {
        if !drop_if_empty(workload, marker) {
            handed_over.insert(marker.clone());
        }
    }
    if let Some(last) = records.last_mut() {
        for marker in handed_over {
            if !last.created.contains(&marker) {
                last.created.push(marker);
            }
        }
        tracking::write(workload, &records);
    }
    Ok(Some(record))
}
