//! `doctor`: compares the running pods of live workloads with what their pattern records (and
//! this tool's injector policies) say they should run, and reports each problem with its fix:
//! helpers missing from pods, not started or not ready, restarting, failing probes or image
//! pulls, native sidecars on kubelets older than 1.29, rollouts behind their template, and
//! injector policies without a binding or refusing pods.
//!
//! Reading is here and in `gather`; every check is a pure function of what was read (and of
//! the time, passed in), so tests drive them with recorded API responses.

pub mod events;
pub mod fixes;
pub mod gather;
pub mod helpers;
pub mod injector;
pub mod labels;
pub mod report;
pub mod template;

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{Event, Pod};
use serde_json::Value;

use kubectl_pattern_engine::tracking;
use kubectl_pattern_engine::workload::Workload;

use self::events::Window;
use self::fixes::Owner;
use self::helpers::{Expected, PodScope, Source};
use self::injector::{Controller, Injector};
use self::report::{Check, Finding, Report, Severity, Skipped, WorkloadReport};
use super::connect::Connection;
use super::error::ClusterError;
use super::live::{self, Scope, Selection, Target};
use super::resource::Resource;

/// How doctor runs.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// Which events and restarts are recent.
    pub window: Window,
}

/// What every workload's checks share: read once per run (nodes, the injector) or per
/// namespace (events).
struct Shared {
    injector: Option<Injector>,
    nodes: Option<Option<BTreeMap<String, String>>>,
    events: BTreeMap<String, Vec<Event>>,
    window: Window,
}

/// Checks the selected workloads; `progress` hears what is being read.
pub async fn run(
    conn: &Connection,
    selection: &Selection,
    scope: &Scope,
    options: &Options,
    progress: &(dyn Fn(&str) + Sync),
) -> Result<Report, ClusterError> {
    let targets = live::resolve(conn, selection, scope).await?;
    let mut report = Report::default();
    if targets.is_empty() {
        return Ok(report);
    }
    progress("injector policies");
    let injector = gather::optional(
        gather::injector(conn).await,
        "cannot list MutatingAdmissionPolicies: the injector was not checked",
        &mut report.notes,
    )?
    .flatten();
    let mut shared = Shared {
        injector,
        nodes: None,
        events: BTreeMap::new(),
        window: options.window,
    };
    for target in &targets {
        progress(&target.display());
        let object = gather::workload(conn, target).await?;
        check_workload(conn, target, &object, &mut shared, &mut report).await?;
    }
    if let Some(injector) = &shared.injector {
        report.findings.extend(injector.unbound());
    }
    Ok(report)
}

/// The helpers its record lists, and its pod template's labels and annotations.
fn recorded(owner: &Owner, object: &Value, report: &mut Report) -> (Vec<Expected>, PodMeta) {
    let mut copy = object.clone();
    let Ok(workload) = Workload::new(&mut copy) else {
        return (Vec::new(), PodMeta::default());
    };
    let meta = workload.pod_metadata();
    let map = |key: &str| labels::map(meta.and_then(|m| m.get(key)));
    let pod_meta = PodMeta {
        labels: map("labels"),
        annotations: map("annotations"),
    };
    let expected = match tracking::read(&workload) {
        Ok(records) => records
            .iter()
            .flat_map(|r| {
                r.helpers().map(|h| Expected {
                    name: h.clone(),
                    source: Source::Record {
                        pattern: r.pattern.clone(),
                        instance: r.instance.clone(),
                    },
                })
            })
            .collect(),
        Err(e) => {
            report.findings.push(unreadable(owner, &e));
            Vec::new()
        }
    };
    (expected, pod_meta)
}

/// A pod's (or pod template's) labels and annotations.
#[derive(Debug, Default)]
struct PodMeta {
    labels: labels::Labels,
    annotations: labels::Labels,
}

impl PodMeta {
    fn of(pod: &Pod) -> Self {
        PodMeta {
            labels: pod.metadata.labels.clone().unwrap_or_default(),
            annotations: pod.metadata.annotations.clone().unwrap_or_default(),
        }
    }
}

/// `recorded`, then the helpers injectors add to pods with `meta` (each helper once).
fn with_injected(
    recorded: &[Expected],
    injector: Option<&Injector>,
    namespace: &str,
    meta: &PodMeta,
    notes: &mut Vec<String>,
) -> Vec<Expected> {
    let mut out = recorded.to_vec();
    if let Some(injector) = injector {
        for e in injector.expected(namespace, &meta.labels, &meta.annotations, notes) {
            if !out.iter().any(|o| o.name == e.name) {
                out.push(e);
            }
        }
    }
    out
}

fn unreadable(owner: &Owner, error: &tracking::TrackingError) -> Finding {
    Finding {
        severity: Severity::Error,
        check: Check::RecordUnreadable,
        namespace: Some(owner.namespace.clone()),
        object: owner.display.clone(),
        pod: None,
        container: None,
        message: format!("its pattern record cannot be read: {error}"),
        fix: format!(
            "kubectl edit {} -n {} (the pod template's {} annotation)",
            owner.display,
            owner.namespace,
            tracking::TRACKING_ANNOTATION
        ),
    }
}

fn uid(object: &Value) -> String {
    object
        .pointer("/metadata/uid")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

fn controller(kind: &str, object: &Value) -> Controller {
    Controller {
        kind: kind.to_string(),
        name: object
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string(),
        uid: Some(uid(object)).filter(|u| !u.is_empty()),
    }
}

/// The workload's pods, the controllers that create them, and (for a Deployment) the
/// ReplicaSets of its namespace that its selector matches.
async fn owned_pods(
    conn: &Connection,
    target: &Target,
    object: &Value,
) -> Result<(Vec<Pod>, Vec<Controller>, Vec<Value>), ClusterError> {
    let ns = &target.namespace;
    let selector = gather::selector_of(object);
    let own = uid(object);
    match target.resource {
        Resource::Pod => Ok((
            serde_json::from_value(object.clone()).into_iter().collect(),
            vec![],
            vec![],
        )),
        Resource::PodTemplate => Ok((vec![], vec![], vec![])),
        Resource::Deployment => {
            let sets = gather::list(conn, Resource::ReplicaSet, ns, selector.as_deref()).await?;
            let owned: Vec<&Value> = sets
                .iter()
                .filter(|rs| template::controlled_by(rs, &own))
                .collect();
            let uids: Vec<String> = owned.iter().map(|rs| uid(rs)).collect();
            let pods = gather::pods(conn, ns, selector.as_deref(), &uids).await?;
            let controllers = owned
                .iter()
                .map(|rs| controller("ReplicaSet", rs))
                .collect();
            Ok((pods, controllers, sets))
        }
        Resource::CronJob => {
            let jobs = gather::list(conn, Resource::Job, ns, None).await?;
            let mut pods = Vec::new();
            let mut controllers = Vec::new();
            for job in jobs.iter().filter(|j| template::controlled_by(j, &own)) {
                let selector = gather::selector_of(job);
                pods.extend(gather::pods(conn, ns, selector.as_deref(), &[uid(job)]).await?);
                controllers.push(controller("Job", job));
            }
            Ok((pods, controllers, vec![]))
        }
        other => {
            let pods =
                gather::pods(conn, ns, selector.as_deref(), std::slice::from_ref(&own)).await?;
            Ok((pods, vec![controller(other.as_str(), object)], vec![]))
        }
    }
}

/// True when a pod runs one of the expected helpers as a native sidecar.
fn has_native_sidecar(pod: &Pod, expected: &[Expected]) -> bool {
    let init = pod.spec.as_ref().and_then(|s| s.init_containers.as_ref());
    init.into_iter().flatten().any(|c| {
        c.restart_policy.as_deref() == Some("Always") && expected.iter().any(|e| e.name == c.name)
    })
}

/// Reads what one workload's checks need and runs them.
async fn check_workload(
    conn: &Connection,
    target: &Target,
    object: &Value,
    shared: &mut Shared,
    report: &mut Report,
) -> Result<(), ClusterError> {
    let owner = Owner::new(target.resource, &target.name, &target.namespace);
    let before = report.findings.len();
    let (recorded, template_meta) = recorded(&owner, object, report);
    let injector = shared.injector.as_ref();
    let ns = target.namespace.clone();
    let expected = with_injected(&recorded, injector, &ns, &template_meta, &mut report.notes);
    if expected.is_empty() {
        report.skipped.push(Skipped {
            namespace: owner.namespace,
            object: owner.display,
        });
        return Ok(());
    }
    let (pods, controllers, replicasets) = owned_pods(conn, target, object).await?;
    let pods: Vec<Pod> = pods
        .into_iter()
        .filter(|p| p.metadata.deletion_timestamp.is_none())
        .collect();
    if !shared.events.contains_key(&ns) {
        let read = gather::events(conn, &ns).await;
        let what = format!(
            "cannot list events in namespace {ns}: helper events and injector refusals were not checked"
        );
        let events = gather::optional(read, &what, &mut report.notes)?;
        shared.events.insert(ns.clone(), events.unwrap_or_default());
    }
    if shared.nodes.is_none() && pods.iter().any(|p| has_native_sidecar(p, &expected)) {
        let what = "cannot list nodes: kubelet versions were not checked for native sidecars";
        shared.nodes = Some(gather::optional(
            gather::nodes(conn).await,
            what,
            &mut report.notes,
        )?);
    }
    let events = shared
        .events
        .get(&ns)
        .map(Vec::as_slice)
        .unwrap_or_default();
    let revision = template::current(target.resource, object, &replicasets);
    let old_pods = template::old_pods(revision.as_ref(), &pods);
    report
        .findings
        .extend(template::check(&owner, object, &old_pods));
    let scope = PodScope {
        owner: &owner,
        nodes: shared.nodes.as_ref().and_then(Option::as_ref),
        events,
        window: shared.window,
        old_pods: &old_pods,
    };
    for pod in &pods {
        let meta = PodMeta::of(pod);
        let expected = with_injected(&recorded, injector, &ns, &meta, &mut report.notes);
        report
            .findings
            .extend(helpers::check_pod(&scope, pod, &expected));
    }
    if let Some(injector) = injector {
        let denials = injector::denials(injector, &owner, &controllers, events, shared.window);
        report.findings.extend(denials);
    }
    report.workloads.push(summary(
        &owner,
        &expected,
        pods.len(),
        &report.findings[before..],
    ));
    Ok(())
}

fn summary(
    owner: &Owner,
    expected: &[Expected],
    pods: usize,
    findings: &[Finding],
) -> WorkloadReport {
    let mut instances = Vec::new();
    let mut injectors = Vec::new();
    for e in expected {
        let (list, name) = match &e.source {
            Source::Record { instance, .. } => (&mut instances, instance),
            Source::Injector { policy } => (&mut injectors, policy),
        };
        if !list.contains(name) {
            list.push(name.clone());
        }
    }
    let count = |s: Severity| findings.iter().filter(|f| f.severity == s).count();
    WorkloadReport {
        namespace: owner.namespace.clone(),
        object: owner.display.clone(),
        instances,
        injectors,
        helpers: expected.iter().map(|e| e.name.clone()).collect(),
        pods,
        errors: count(Severity::Error),
        warnings: count(Severity::Warning),
    }
}
