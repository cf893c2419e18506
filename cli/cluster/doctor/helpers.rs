//! The helpers of one pod against what its workload's record (or an injector) says it should
//! run: each helper present, started and ready (native sidecars, classic sidecars and classic
//! init containers each by their own rules), its restarts and last termination, its recent
//! warning events, and native sidecars on nodes whose kubelet predates them.

use std::collections::{BTreeMap, BTreeSet};

use k8s_openapi::api::core::v1::{
    ContainerStateTerminated, ContainerStateWaiting, ContainerStatus, Event, Pod,
};
use kubectl_pattern_engine::pattern::parse_kube_version;
use kubectl_pattern_engine::tracking::{self, TRACKING_ANNOTATION};

use super::events::{self, Window};
use super::fixes::{self, Owner};
use super::report::{Check, Finding, Severity};

/// Why a pod should run a helper.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// The workload's tracking record lists it.
    Record {
        /// The pattern id.
        pattern: String,
        /// The instance name.
        instance: String,
    },
    /// An injector policy whose binding selects the pod adds it.
    Injector {
        /// The MutatingAdmissionPolicy.
        policy: String,
    },
}

/// A helper every pod of a workload should run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expected {
    /// The container name.
    pub name: String,
    /// Why.
    pub source: Source,
}

/// Where a helper runs in a pod.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Placement {
    /// An init container with `restartPolicy: Always`.
    NativeSidecar,
    /// A container next to the app.
    Sidecar,
    /// A classic init container: runs to completion before the app.
    Init,
}

/// What the pod checks need besides the pod.
pub struct PodScope<'a> {
    /// The workload.
    pub owner: &'a Owner,
    /// Node name → kubelet version (`None`: nodes could not be read).
    pub nodes: Option<&'a BTreeMap<String, String>>,
    /// The namespace's warning events.
    pub events: &'a [Event],
    /// Which events are recent.
    pub window: Window,
    /// Pods that run an older template than the workload's.
    pub old_pods: &'a BTreeSet<String>,
}

/// A problem before it is tied to its pod and helper.
struct Problem {
    severity: Severity,
    check: Check,
    message: String,
    fix: String,
}

impl Problem {
    fn new(severity: Severity, check: Check, message: String, fix: String) -> Self {
        Problem {
            severity,
            check,
            message,
            fix,
        }
    }
}

fn name(pod: &Pod) -> &str {
    pod.metadata.name.as_deref().unwrap_or_default()
}

fn phase(pod: &Pod) -> &str {
    pod.status
        .as_ref()
        .and_then(|s| s.phase.as_deref())
        .unwrap_or_default()
}

fn placement(pod: &Pod, helper: &str) -> Option<Placement> {
    let spec = pod.spec.as_ref()?;
    if let Some(c) = spec
        .init_containers
        .iter()
        .flatten()
        .find(|c| c.name == helper)
    {
        return Some(if c.restart_policy.as_deref() == Some("Always") {
            Placement::NativeSidecar
        } else {
            Placement::Init
        });
    }
    spec.containers
        .iter()
        .any(|c| c.name == helper)
        .then_some(Placement::Sidecar)
}

fn status<'p>(pod: &'p Pod, placement: Placement, helper: &str) -> Option<&'p ContainerStatus> {
    let s = pod.status.as_ref()?;
    let list = match placement {
        Placement::Sidecar => s.container_statuses.as_ref(),
        Placement::NativeSidecar | Placement::Init => s.init_container_statuses.as_ref(),
    };
    list.into_iter().flatten().find(|c| c.name == helper)
}

/// The memory limit of a helper, for the fix of an OOM kill.
fn memory_limit(pod: &Pod, helper: &str) -> Option<String> {
    let spec = pod.spec.as_ref()?;
    let c = spec
        .init_containers
        .iter()
        .flatten()
        .chain(&spec.containers)
        .find(|c| c.name == helper)?;
    let limits = c.resources.as_ref()?.limits.as_ref()?;
    limits.get("memory").map(|q| q.0.clone())
}

/// Checks one pod against the expected helpers.
pub fn check_pod(scope: &PodScope<'_>, pod: &Pod, expected: &[Expected]) -> Vec<Finding> {
    let mut out = Vec::new();
    let finish = |problem: Problem, helper: &str| Finding {
        severity: problem.severity,
        check: problem.check,
        namespace: Some(scope.owner.namespace.clone()),
        object: scope.owner.display.clone(),
        pod: Some(name(pod).to_string()),
        container: Some(helper.to_string()),
        message: problem.message,
        fix: problem.fix,
    };
    for helper in expected {
        let Some(place) = placement(pod, &helper.name) else {
            out.push(finish(missing(scope, pod, helper), &helper.name));
            continue;
        };
        let state = state_problem(scope, pod, place, helper);
        let healthy = state.as_ref().is_none_or(|p| p.severity != Severity::Error);
        out.extend(state.map(|p| finish(p, &helper.name)));
        if place == Placement::NativeSidecar
            && let Some(p) = old_kubelet(scope, pod, helper)
        {
            out.push(finish(p, &helper.name));
        }
        for p in helper_events(scope, pod, &helper.name, healthy) {
            out.push(finish(p, &helper.name));
        }
    }
    out
}

/// The instances the pod's own copy of the record lists (pods inherit the template's
/// annotations), or `None` when it has none.
fn pod_instances(pod: &Pod) -> Option<Vec<String>> {
    let text = pod
        .metadata
        .annotations
        .as_ref()?
        .get(TRACKING_ANNOTATION)?;
    let records = tracking::decode(text).ok()?;
    Some(records.into_iter().map(|r| r.instance).collect())
}

fn missing(scope: &PodScope<'_>, pod: &Pod, helper: &Expected) -> Problem {
    let owner = scope.owner;
    let pod_name = name(pod);
    let old = scope.old_pods.contains(pod_name);
    let (why, fix) = match &helper.source {
        Source::Record { instance, .. } => {
            let recorded = pod_instances(pod).is_some_and(|i| i.contains(instance));
            if old {
                (
                    format!("it runs an older template, from before {instance} was added"),
                    format!("let the rollout replace it: {}", owner.rollout_status()),
                )
            } else if recorded {
                (
                    format!(
                        "its record lists {instance}, but the container is gone: something removed it at admission (a webhook or policy)"
                    ),
                    format!(
                        "find what mutates pods: kubectl get mutatingwebhookconfigurations,mutatingadmissionpolicies; then {}",
                        owner.recreate(pod_name)
                    ),
                )
            } else {
                (
                    format!("it was created before {instance} was added to the template"),
                    owner.recreate(pod_name),
                )
            }
        }
        Source::Injector { policy } => (
            format!(
                "the injector {policy} selects the pod but did not add it (the pod is older than the policy's binding, or a helper's name, volume, port, mount path or env var was taken)"
            ),
            format!(
                "{}; if it stays without, see why: kubectl get mutatingadmissionpolicy {policy} -o yaml",
                owner.recreate(pod_name)
            ),
        ),
    };
    Problem::new(
        Severity::Error,
        Check::HelperMissing,
        format!("{} is missing: {why}", helper.name),
        fix,
    )
}

fn last_termination(s: &ContainerStatus) -> Option<(String, i32)> {
    let t = s.last_state.as_ref()?.terminated.as_ref()?;
    Some((
        t.reason.clone().unwrap_or_else(|| "Terminated".into()),
        t.exit_code,
    ))
}

/// `restarted 7 times, last terminated: Error (exit code 1)`.
fn restarts(s: &ContainerStatus) -> Option<String> {
    if s.restart_count == 0 {
        return None;
    }
    let times = if s.restart_count == 1 {
        "once".to_string()
    } else {
        format!("{} times", s.restart_count)
    };
    Some(match last_termination(s) {
        Some((reason, code)) => {
            format!("restarted {times}, last terminated: {reason} (exit code {code})")
        }
        None => format!("restarted {times}"),
    })
}

/// Waiting reasons of a container that is on its way up.
fn transient(reason: &str) -> bool {
    matches!(reason, "ContainerCreating" | "PodInitializing")
}

fn waiting_fix(
    scope: &PodScope<'_>,
    pod: &Pod,
    helper: &Expected,
    s: &ContainerStatus,
    reason: &str,
) -> String {
    let owner = scope.owner;
    let pod_name = name(pod);
    let oom = last_termination(s).is_some_and(|(r, _)| r == "OOMKilled");
    match reason {
        _ if oom => fixes::memory(owner, &helper.source, memory_limit(pod, &helper.name)),
        "CrashLoopBackOff" | "RunContainerError" => format!(
            "read why it exits: {}",
            owner.logs(pod_name, &helper.name, true)
        ),
        "ImagePullBackOff" | "ErrImagePull" | "InvalidImageName" | "ErrImageNeverPull" => format!(
            "check the image {} and the pod's imagePullSecrets: {}",
            s.image,
            owner.describe(pod_name)
        ),
        _ => format!("see the pod's events: {}", owner.describe(pod_name)),
    }
}

fn state_problem(
    scope: &PodScope<'_>,
    pod: &Pod,
    place: Placement,
    helper: &Expected,
) -> Option<Problem> {
    if matches!(phase(pod), "Succeeded" | "Failed") {
        return None;
    }
    let Some(s) = status(pod, place, &helper.name) else {
        return Some(no_status(scope, pod, &helper.name));
    };
    let state = s.state.as_ref();
    if let Some(w) = state.and_then(|st| st.waiting.as_ref()) {
        return Some(waiting(scope, pod, place, helper, s, w));
    }
    if let Some(t) = state.and_then(|st| st.terminated.as_ref()) {
        if place == Placement::Init && t.exit_code == 0 {
            return restarted(scope, pod, helper, s);
        }
        return Some(terminated(scope, pod, place, helper, s, t));
    }
    running(scope, pod, place, helper, s)
}

/// `message`, then the restarts when there were any.
fn with_restarts(s: &ContainerStatus, message: String) -> String {
    match restarts(s) {
        Some(r) => format!("{message}; {r}"),
        None => message,
    }
}

fn no_status(scope: &PodScope<'_>, pod: &Pod, h: &str) -> Problem {
    let describe = scope.owner.describe(name(pod));
    if phase(pod) == "Pending" {
        Problem::new(
            Severity::Warning,
            Check::HelperNotStarted,
            format!("{h} has not started yet (the pod is Pending)"),
            format!("see why the pod waits: {describe}"),
        )
    } else {
        Problem::new(
            Severity::Error,
            Check::HelperNotStarted,
            format!("{h} has no status in a {} pod", phase(pod)),
            describe,
        )
    }
}

fn waiting(
    scope: &PodScope<'_>,
    pod: &Pod,
    place: Placement,
    helper: &Expected,
    s: &ContainerStatus,
    w: &ContainerStateWaiting,
) -> Problem {
    let reason = w.reason.as_deref().unwrap_or("Waiting");
    let detail = w
        .message
        .as_deref()
        .map(|m| format!(" ({m})"))
        .unwrap_or_default();
    let severity = if transient(reason) {
        Severity::Warning
    } else {
        Severity::Error
    };
    let check = if place == Placement::Init {
        Check::HelperInitFailed
    } else {
        Check::HelperWaiting
    };
    Problem::new(
        severity,
        check,
        with_restarts(s, format!("{} is waiting: {reason}{detail}", helper.name)),
        waiting_fix(scope, pod, helper, s, reason),
    )
}

fn terminated(
    scope: &PodScope<'_>,
    pod: &Pod,
    place: Placement,
    helper: &Expected,
    s: &ContainerStatus,
    t: &ContainerStateTerminated,
) -> Problem {
    let h = &helper.name;
    let reason = t.reason.as_deref().unwrap_or("Terminated");
    let (check, what) = if place == Placement::Init {
        (Check::HelperInitFailed, "init container failed")
    } else {
        (Check::HelperTerminated, "terminated")
    };
    Problem::new(
        Severity::Error,
        check,
        with_restarts(
            s,
            format!("{h} {what}: {reason} (exit code {})", t.exit_code),
        ),
        format!("read why: {}", scope.owner.logs(name(pod), h, false)),
    )
}

/// A running helper: an init helper that has not finished, a sidecar not started or not
/// ready, or one that works but restarted recently.
fn running(
    scope: &PodScope<'_>,
    pod: &Pod,
    place: Placement,
    helper: &Expected,
    s: &ContainerStatus,
) -> Option<Problem> {
    let (owner, pod_name, h) = (scope.owner, name(pod), &helper.name);
    if place == Placement::Init {
        return Some(Problem::new(
            Severity::Warning,
            Check::HelperNotReady,
            format!("{h} has not finished yet; the app starts when it does"),
            format!("see what it waits for: {}", owner.logs(pod_name, h, false)),
        ));
    }
    if s.started == Some(false) {
        return Some(Problem::new(
            Severity::Error,
            Check::HelperNotStarted,
            with_restarts(s, format!("{h} runs but has not passed its startup probe")),
            format!(
                "check the probe and the logs: {}",
                owner.logs(pod_name, h, false)
            ),
        ));
    }
    if !s.ready {
        return Some(Problem::new(
            Severity::Error,
            Check::HelperNotReady,
            with_restarts(s, format!("{h} runs but is not ready")),
            format!(
                "see its readiness probe and events: {}",
                owner.describe(pod_name)
            ),
        ));
    }
    restarted(scope, pod, helper, s)
}

/// A helper that works now but restarted inside the window.
fn restarted(
    scope: &PodScope<'_>,
    pod: &Pod,
    helper: &Expected,
    s: &ContainerStatus,
) -> Option<Problem> {
    let text = restarts(s)?;
    let finished = s
        .last_state
        .as_ref()
        .and_then(|l| l.terminated.as_ref())
        .and_then(|t| t.finished_at.as_ref())
        .map(|t| t.0);
    if let (Some(at), Some(since)) = (finished, scope.window.since) {
        let age = scope.window.now.duration_since(at);
        if age.as_secs() > i64::try_from(since.as_secs()).unwrap_or(i64::MAX) {
            return None;
        }
    }
    let oom = last_termination(s).is_some_and(|(r, _)| r == "OOMKilled");
    let fix = if oom {
        fixes::memory(scope.owner, &helper.source, memory_limit(pod, &helper.name))
    } else {
        format!(
            "read why it restarted: {}",
            scope.owner.logs(name(pod), &helper.name, true)
        )
    };
    Some(Problem::new(
        Severity::Warning,
        Check::HelperRestarted,
        format!("{} works now but {text}", helper.name),
        fix,
    ))
}

fn old_kubelet(scope: &PodScope<'_>, pod: &Pod, helper: &Expected) -> Option<Problem> {
    let node = pod.spec.as_ref()?.node_name.as_deref()?;
    let kubelet = scope.nodes?.get(node)?;
    if parse_kube_version(kubelet)? >= (1, 29) {
        return None;
    }
    Some(Problem::new(
        Severity::Error,
        Check::NativeSidecarOldKubelet,
        format!(
            "{} is a native sidecar, but node {node} runs kubelet {kubelet} (native sidecars need 1.29): it runs as an init container that never finishes, so the app never starts",
            helper.name
        ),
        fixes::classic(scope.owner, &helper.source),
    ))
}

/// The recent warning events about the helper, one problem per reason.
fn helper_events(scope: &PodScope<'_>, pod: &Pod, helper: &str, healthy: bool) -> Vec<Problem> {
    let pod_name = name(pod);
    let uid = pod.metadata.uid.as_deref();
    let mut by_reason: BTreeMap<String, (i64, Option<&Event>)> = BTreeMap::new();
    for e in scope.events.iter().filter(|e| {
        events::is_warning(e)
            && events::about(e, "Pod", pod_name, uid)
            && events::container(e) == Some(helper)
            && scope.window.contains(e)
    }) {
        let entry = by_reason
            .entry(e.reason.clone().unwrap_or_default())
            .or_insert((0, None));
        entry.0 += events::count(e);
        if entry
            .1
            .is_none_or(|newest| events::last_seen(newest) <= events::last_seen(e))
        {
            entry.1 = Some(e);
        }
    }
    let severity = if healthy {
        Severity::Warning
    } else {
        Severity::Error
    };
    let owner = scope.owner;
    by_reason
        .into_iter()
        .map(|(reason, (n, newest))| {
            let message = newest.and_then(|e| e.message.clone()).unwrap_or_default();
            let times = if n == 1 {
                "once".into()
            } else {
                format!("{n} times")
            };
            let fix = match reason.as_str() {
                "Unhealthy" => format!(
                    "check its probe against what it serves: {}; {}",
                    owner.logs(pod_name, helper, false),
                    owner.describe(pod_name)
                ),
                _ => format!("see the pod's events: {}", owner.describe(pod_name)),
            };
            Problem::new(
                severity,
                Check::HelperEvents,
                format!("{helper}: {reason} {times}: {message}"),
                fix,
            )
        })
        .collect()
}

#[cfg(test)]
#[path = "helpers_tests.rs"]
mod tests;
