//! The one merge path, as plan then apply: `plan` checks a `Contribution` against a workload
//! (refusing clashes) and returns a typed `Plan` of edits and the new tracking record, without
//! changing anything; `Plan::apply` makes the edits. `plan_remove` plans taking out exactly
//! what a record says an instance added.

use std::sync::Arc;

use crate::contribution::{ContainerTarget, Contribution};
use crate::params::Params;
use crate::pattern::{PatternSpec, TargetInfo};
use crate::tracking::{self, AppliedRecord};
use crate::workload::Workload;

mod build;
mod error;
mod place;
mod plan;
mod position;
mod removal;

pub use error::MergeError;
pub use plan::{AnnotationEdit, Placement, Plan};
pub use position::{HelperPosition, PositionSyntax};
pub use removal::plan_remove;

/// How to merge.
#[derive(Debug, Clone, Default)]
pub struct MergeOptions {
    /// The main container (`--container`); default: the one the pod's
    /// `kubectl.kubernetes.io/default-container` annotation names, else the first app container.
    pub main_container: Option<String>,
    /// The target (version, sidecar mode).
    pub target: TargetInfo,
    /// Where init containers and native sidecars go (`--position`); default: the position
    /// the instance's record kept, else before the app's own init containers.
    pub position: Option<HelperPosition>,
    /// Add helpers that open ports to a `hostNetwork` pod (they listen on the node).
    pub allow_host_network: bool,
}

/// The pattern instance a contribution is applied as.
#[derive(Debug, Clone, Copy)]
pub struct Instance<'a> {
    /// The pattern.
    pub pattern: &'a PatternSpec,
    /// The instance name.
    pub name: &'a str,
    /// The validated parameters (their hash goes into the record).
    pub params: &'a Params,
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

/// Plans `contribution` as `instance` on `workload`: every check passes or nothing is
/// planned. Re-applying an instance updates it in place. The plan takes the helpers out of a
/// contribution nothing else holds, and copies them from a shared one.
pub fn plan(
    workload: &Workload<'_>,
    instance: &Instance<'_>,
    contribution: Arc<Contribution>,
    options: &MergeOptions,
) -> Result<Plan, MergeError> {
    build::plan(workload, instance, contribution, options)
}

/// Plans and applies `contribution` as `instance`; nothing is changed when an error is
/// returned.
pub fn apply(
    workload: &mut Workload<'_>,
    instance: &Instance<'_>,
    contribution: Arc<Contribution>,
    options: &MergeOptions,
) -> Result<ApplyOutcome, MergeError> {
    Ok(plan(workload, instance, contribution, options)?.apply(workload))
}

/// Removes the instance `instance`: exactly what its record lists. Returns the removed record,
/// or `None` when the instance is not applied.
pub fn remove(
    workload: &mut Workload<'_>,
    instance: &str,
) -> Result<Option<AppliedRecord>, MergeError> {
    let Some(plan) = plan_remove(workload, instance)? else {
        return Ok(None);
    };
    Ok(Some(plan.apply(workload).record))
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
/// app container the pod's `kubectl.kubernetes.io/default-container` annotation names, or the
/// first app container.
pub fn main_container(
    workload: &Workload<'_>,
    records: &[AppliedRecord],
    requested: Option<&str>,
) -> Result<String, MergeError> {
    let apps = app_containers(workload, records);
    match requested {
        Some(name) if apps.iter().any(|a| a == name) => Ok(name.to_string()),
        Some(name) => Err(match records.iter().find(|r| r.owns_container(name)) {
            Some(r) => MergeError::HelperContainer {
                name: name.to_string(),
                instance: r.instance.clone(),
                apps,
            },
            None => MergeError::UnknownContainer {
                name: name.to_string(),
                apps,
            },
        }),
        None => {
            // kubectl's own choice of the main container (a mesh proxy may be listed first).
            let annotated = workload.pod_annotation(DEFAULT_CONTAINER_ANNOTATION);
            match annotated.and_then(|name| apps.iter().find(|a| *a == name)) {
                Some(name) => Ok(name.clone()),
                None => apps.into_iter().next().ok_or(MergeError::NoAppContainer),
            }
        }
    }
}

/// The pod annotation naming the main container (`kubectl logs`/`exec` use it too).
pub const DEFAULT_CONTAINER_ANNOTATION: &str = "kubectl.kubernetes.io/default-container";

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
        ContainerTarget::Named(n) => Err(MergeError::TargetNotApp {
            name: n.clone(),
            apps: apps.to_vec(),
        }),
    }
}

/// Reads the records, for planners.
fn records(workload: &Workload<'_>) -> Result<Vec<AppliedRecord>, MergeError> {
    Ok(tracking::read(workload)?)
}

#[cfg(test)]
pub(crate) mod tests;
