//! The sidecar injector: renders a pattern once, plans its merge into a minimal synthetic Pod
//! with the one merge path, and describes the plan's edits (an `Injection`) so that admission
//! engines the cluster already runs (MutatingAdmissionPolicy, Kyverno) add the same to every
//! matching pod.

pub mod cel;
pub mod kyverno;
pub mod map;

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use serde_json::{Value, json};

use std::sync::Arc;

use super::contribution::{ContainerTarget, Contribution};
use super::merge::{self, AnnotationEdit, MergeError, MergeOptions, Plan};
use super::pattern::{PatternError, RenderContext, TargetInfo};
use super::podspec::{ContainerList, ListRef, PodList};
use super::process::{PatternRequest, workload_info};
use super::tracking;
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

/// Mounts and env vars for one target.
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
    /// Init containers and native sidecars, in the merged order (with restartPolicy).
    pub init_containers: Vec<Value>,
    /// Classic helper containers.
    pub containers: Vec<Value>,
    /// Volumes.
    pub volumes: Vec<Value>,
    /// App container wiring, grouped by target.
    pub wiring: Vec<Wiring>,
    /// Pod annotations.
    pub annotations: BTreeMap<String, String>,
    /// Ports the long-running helpers listen on.
    pub ports: Vec<i64>,
    /// The merge's and the pattern's warnings.
    pub warnings: Vec<String>,
}

impl Injection {
    /// Names of every helper container (init containers included).
    pub fn helper_names(&self) -> Vec<&str> {
        self.init_containers
            .iter()
            .chain(&self.containers)
            .filter_map(|c| c.get("name").and_then(Value::as_str))
            .collect()
    }

    /// Names of the volumes.
    pub fn volume_names(&self) -> Vec<&str> {
        self.volumes
            .iter()
            .filter_map(|v| v.get("name").and_then(Value::as_str))
            .collect()
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
    };
    let spec = request.pattern.spec();
    let instance = merge::Instance {
        pattern: spec,
        name: &request.instance,
        params: &request.params,
    };
    let plan = merge::plan(&w, &instance, &contribution, &options)?;
    let placed = |list: PodList| -> Vec<Value> {
        plan.placements_in(&ListRef::Pod(list))
            .map(|p| p.value.clone())
            .collect()
    };
    let init_containers = placed(PodList::InitContainers);
    let containers = placed(PodList::Containers);
    if init_containers.is_empty() && containers.is_empty() {
        return Err(InjectError::NoHelper(spec.id.clone()));
    }
    // Ports of the helpers that keep running (run-to-completion init containers are gone
    // before the app starts).
    let ports = init_containers
        .iter()
        .filter(|c| c.get("restartPolicy").and_then(Value::as_str) == Some("Always"))
        .chain(&containers)
        .flat_map(|c| {
            c.get("ports")
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
        init_containers,
        containers,
        volumes: placed(PodList::Volumes),
        wiring: wiring(&plan, container),
        annotations,
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

/// The plan's mounts and env vars on app containers, grouped by the contribution's target (in
/// the order targets first appear). A target that chose several containers of the synthetic
/// pod (`*`) counts once: its items on the first of them.
fn wiring(plan: &Plan, container: Option<&str>) -> Vec<Wiring> {
    let mut groups: Vec<(Wiring, String)> = Vec::new();
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
        let index = match groups.iter().position(|(w, _)| w.target == target) {
            Some(i) => i,
            None => {
                let group = Wiring {
                    target,
                    mounts: vec![],
                    env: vec![],
                };
                groups.push((group, on.clone()));
                groups.len() - 1
            }
        };
        let (group, first) = &mut groups[index];
        if first != on {
            continue;
        }
        match list {
            ContainerList::VolumeMounts => group.mounts.push(p.value.clone()),
            ContainerList::Env => group.env.push(p.value.clone()),
        }
    }
    groups.into_iter().map(|(w, _)| w).collect()
}

#[cfg(test)]
mod tests;
