//! The sidecar injector: renders a pattern once, plans its merge into a minimal synthetic Pod
//! with the one merge path, and describes the plan's edits (an `Injection`) so that admission
//! engines the cluster already runs (MutatingAdmissionPolicy, Kyverno) add the same to every
//! matching pod.

pub mod cel;
pub mod check;
pub mod jsonpatch;
pub mod kyverno;
pub mod map;
pub mod record;

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use serde_json::{Value, json};

use std::sync::Arc;

use super::contribution::{ContainerTarget, Contribution};
use super::merge::{self, AnnotationEdit, MergeError, MergeOptions, Plan};
use super::pattern::{PatternError, RenderContext, TargetInfo};
use super::podspec::{ContainerList, ListRef, PodList, Position};
use super::process::{PatternRequest, workload_info};
use super::tracking::{self, AppliedRecord};
use super::workload::{NotAWorkload, Workload};

/// The label or annotation that opts a pod out of every injector this tool exports.
pub const OPT_OUT: &str = "pattern.kubectl.io/inject";

/// Labels put on every exported object, so they can be listed and deleted together.
pub const MANAGED_BY: (&str, &str) = ("app.kubernetes.io/managed-by", "kubectl-pattern");

/// Why a pattern cannot be exported as an injector.
#[derive(Debug, thiserror::Error)]
pub enum InjectError {
    /// The pattern did not render for the synthetic pod.
    #[error(transparent)]
    Pattern(#[from] PatternError),
    /// The contribution does not merge into the synthetic pod.
    #[error("the pattern's contribution does not merge into a pod: {0}")]
    Merge(#[from] MergeError),
    /// The synthetic pod is not a workload (cannot happen: it is built here).
    #[error(transparent)]
    NotAWorkload(#[from] NotAWorkload),
    /// The pattern adds no helper container.
    #[error(
        "pattern {0} adds no helper container for this pod; an injector would only rewire the app"
    )]
    NoHelper(String),
}

/// Which app containers get a group of mounts and env vars.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AppTarget {
    /// The container named by `--container`, or else the pod's first container (as `add` does).
    Main(Option<String>),
    /// Every container of `spec.containers` (app containers at admission time).
    All,
    /// A container by name; pods without it are skipped.
    Named(String),
}

/// A helper container or volume the merge put into a pod list.
#[derive(Debug, Clone, PartialEq)]
pub struct PodItem {
    /// The pod list (`initContainers` for native sidecars and init containers).
    pub list: PodList,
    /// Where the merge puts it when the list has no item of its name.
    pub position: Position,
    /// The item's JSON (containers with their `restartPolicy`).
    pub value: Value,
}

/// A mount or env var the merge added to app containers chosen by one target.
#[derive(Debug, Clone, PartialEq)]
pub struct Wired {
    /// Which app containers.
    pub target: AppTarget,
    /// `volumeMounts` or `env`.
    pub list: ContainerList,
    /// Where the merge puts it when the list has no item of its key.
    pub position: Position,
    /// The VolumeMount or EnvVar JSON.
    pub value: Value,
}

/// Mounts and env vars for one target (the Kyverno export patches per target).
#[derive(Debug, Clone, PartialEq)]
pub struct Wiring {
    /// Which containers.
    pub target: AppTarget,
    /// VolumeMount JSON, in order.
    pub mounts: Vec<Value>,
    /// EnvVar JSON, in order.
    pub env: Vec<Value>,
}

/// What one pattern instance adds to any pod, as the merge added it to the synthetic pod.
#[derive(Debug, Clone, PartialEq)]
pub struct Injection {
    /// The pattern id.
    pub pattern: String,
    /// The pattern's version.
    pub version: String,
    /// The instance name.
    pub instance: String,
    /// The hash of the parameters (as in the tracking annotation).
    pub params_hash: String,
    /// Helpers (init containers, native sidecars with restartPolicy, classic helpers) and
    /// volumes, in the order the merge placed them.
    pub items: Vec<PodItem>,
    /// Mounts and env vars on app containers, in the order the merge placed them; a target
    /// that chose several containers of the synthetic pod (`*`) counts once.
    pub wiring: Vec<Wired>,
    /// Pod annotations the pattern sets (the tracking annotation aside), in the merge's order.
    pub annotations: Vec<(String, String)>,
    /// The instance's tracking record on the synthetic pod: what it names is the same on
    /// every pod (the containers its mounts and env went to, and the lists it created, are
    /// the synthetic pod's).
    pub record: AppliedRecord,
    /// Ports the long-running helpers listen on.
    pub ports: Vec<i64>,
    /// The merge's and the pattern's warnings.
    pub warnings: Vec<String>,
}

impl Injection {
    /// The items of one pod list, in order.
    pub fn items_in(&self, list: PodList) -> Vec<&Value> {
        self.items
            .iter()
            .filter(|i| i.list == list)
            .map(|i| &i.value)
            .collect()
    }

    /// Names of every helper container (init containers included).
    pub fn helper_names(&self) -> Vec<&str> {
        self.items
            .iter()
            .filter(|i| i.list != PodList::Volumes)
            .filter_map(|i| i.value.get("name").and_then(Value::as_str))
            .collect()
    }

    /// Names of the volumes.
    pub fn volume_names(&self) -> Vec<&str> {
        self.items_in(PodList::Volumes)
            .into_iter()
            .filter_map(|v| v.get("name").and_then(Value::as_str))
            .collect()
    }

    /// The wiring grouped by target, in the order targets first appear.
    pub fn wiring_groups(&self) -> Vec<Wiring> {
        let mut groups: Vec<Wiring> = Vec::new();
        for w in &self.wiring {
            let index = match groups.iter().position(|g| g.target == w.target) {
                Some(i) => i,
                None => {
                    groups.push(Wiring {
                        target: w.target.clone(),
                        mounts: vec![],
                        env: vec![],
                    });
                    groups.len() - 1
                }
            };
            match w.list {
                ContainerList::VolumeMounts => groups[index].mounts.push(w.value.clone()),
                ContainerList::Env => groups[index].env.push(w.value.clone()),
            }
        }
        groups
    }
}

/// Where and how to inject.
#[derive(Debug, Clone, PartialEq)]
pub struct InjectOptions {
    /// The pods (objectSelector).
    pub selector: LabelSelector,
    /// The namespaces; `None`: every namespace except the system ones.
    pub namespace_selector: Option<LabelSelector>,
    /// The app container that gets the pattern's mounts and env (`--container`).
    pub container: Option<String>,
    /// admissionregistration.k8s.io version (`v1`, `v1beta1`).
    pub api_version: String,
    /// `Fail` or `Ignore`.
    pub failure_policy: String,
}

impl InjectOptions {
    /// The exported objects' name: `kubectl-pattern-<instance>`.
    pub fn object_name(injection: &Injection) -> String {
        format!("kubectl-pattern-{}", injection.instance)
    }

    /// The namespace selector: the given one, or all but the system namespaces.
    pub fn namespaces(&self) -> LabelSelector {
        self.namespace_selector.clone().unwrap_or_else(|| {
            serde_json::from_value(json!({"matchExpressions": [{
                "key": "kubernetes.io/metadata.name",
                "operator": "NotIn",
                "values": ["kube-system", "kube-public", "kube-node-lease"]
            }]}))
            .unwrap_or_default()
        })
    }
}

/// Name of the synthetic pod's app container when `--container` is not given.
const SYNTHETIC_APP: &str = "app";

/// Renders `request` once for a synthetic pod carrying `labels` and plans its merge there;
/// returns what the plan adds.
pub fn derive(
    request: &PatternRequest,
    target: &TargetInfo,
    container: Option<&str>,
    labels: &BTreeMap<String, String>,
) -> Result<Injection, InjectError> {
    let main = container.unwrap_or(SYNTHETIC_APP);
    let (mut pod, contribution) = render_for_pod(request, target, main, labels)?;
    let w = Workload::new(&mut pod)?;
    let options = MergeOptions {
        main_container: Some(main.to_string()),
        target: *target,
        ..MergeOptions::default()
    };
    let spec = request.pattern.spec();
    let instance = merge::Instance {
        pattern: spec,
        name: &request.instance,
        params: &request.params,
    };
    let plan = merge::plan(&w, &instance, contribution, &options)?;
    let items: Vec<PodItem> = plan
        .placements
        .iter()
        .filter_map(|p| match p.item.list {
            ListRef::Pod(list) => Some(PodItem {
                list,
                position: p.position.clone(),
                value: p.value.clone(),
            }),
            ListRef::Container { .. } => None,
        })
        .collect();
    if !items.iter().any(|i| i.list != PodList::Volumes) {
        return Err(InjectError::NoHelper(spec.id.clone()));
    }
    // Ports of the helpers that keep running (run-to-completion init containers are gone
    // before the app starts).
    let ports = items
        .iter()
        .filter(|i| match i.list {
            PodList::Containers => true,
            PodList::InitContainers => {
                i.value.get("restartPolicy").and_then(Value::as_str) == Some("Always")
            }
            PodList::Volumes => false,
        })
        .flat_map(|i| {
            i.value
                .get("ports")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
        })
        .filter_map(|p| p.get("containerPort").and_then(Value::as_i64))
        .collect();
    let annotations = plan
        .annotations
        .iter()
        .filter_map(|e| match e {
            AnnotationEdit::Set { key, value } if key != tracking::TRACKING_ANNOTATION => {
                Some((key.clone(), value.clone()))
            }
            _ => None,
        })
        .collect();
    Ok(Injection {
        pattern: spec.id.clone(),
        version: spec.version.clone(),
        instance: request.instance.clone(),
        params_hash: plan.record.params_hash.clone(),
        items,
        wiring: wiring(&plan, container),
        annotations,
        record: plan.record.clone(),
        ports,
        warnings: plan.warnings.clone(),
    })
}

/// Renders `request` for a synthetic pod with app container `main` and `labels`; returns the
/// pod, with the app containers the contribution names added.
fn render_for_pod(
    request: &PatternRequest,
    target: &TargetInfo,
    main: &str,
    labels: &BTreeMap<String, String>,
) -> Result<(Value, Arc<Contribution>), InjectError> {
    let mut pod = json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "injected", "labels": labels},
        "spec": {"containers": [{"name": main, "image": "app"}]}
    });
    let contribution = {
        let w = Workload::new(&mut pod)?;
        let info = workload_info(&w, main);
        let ctx = RenderContext {
            workload: &info,
            object: w.object(),
            params: &request.params,
            instance: &request.instance,
            target,
        };
        request.pattern.render(&ctx)?
    };
    // Containers the contribution names must exist for the plan; at admission time pods
    // without them are skipped by a match condition.
    for m in contribution
        .mounts
        .iter()
        .map(|m| &m.container)
        .chain(contribution.env.iter().map(|e| &e.container))
    {
        if let ContainerTarget::Named(n) = m
            && let Some(list) = pod["spec"]["containers"].as_array_mut()
            && !list.iter().any(|c| c["name"] == n.as_str())
        {
            list.push(json!({"name": n, "image": "app"}));
        }
    }
    Ok((pod, contribution))
}

/// The plan's mounts and env vars on app containers, in order, each with the contribution's
/// target. A target that chose several containers of the synthetic pod (`*`) counts once: its
/// items on the first of them.
fn wiring(plan: &Plan, container: Option<&str>) -> Vec<Wired> {
    let mut first: Vec<(AppTarget, String)> = Vec::new();
    let mut out = Vec::new();
    for p in &plan.placements {
        let (
            Some(via),
            ListRef::Container {
                container: on,
                list,
                ..
            },
        ) = (&p.via, &p.item.list)
        else {
            continue;
        };
        let target = match via {
            ContainerTarget::Main => AppTarget::Main(container.map(str::to_string)),
            ContainerTarget::All => AppTarget::All,
            ContainerTarget::Named(n) => AppTarget::Named(n.clone()),
        };
        let on_first = match first.iter().find(|(t, _)| *t == target) {
            Some((_, name)) => name == on,
            None => {
                first.push((target.clone(), on.clone()));
                true
            }
        };
        if on_first {
            out.push(Wired {
                target,
                list: *list,
                position: p.position.clone(),
                value: p.value.clone(),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests;
