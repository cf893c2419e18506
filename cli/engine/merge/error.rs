//! Why a contribution cannot be merged: each variant names the object part at fault and the fix.

use crate::tracking::TrackingError;

/// Why a contribution cannot be merged.
#[derive(Debug, thiserror::Error)]
pub enum MergeError {
    /// A name is taken by something this instance does not own.
    #[error(
        "{what} {name:?} already exists and does not belong to pattern instance {instance:?}; apply the pattern under another name with --name, or rename the existing {what}"
    )]
    NameClash {
        /// "container" or "volume".
        what: &'static str,
        /// The name.
        name: String,
        /// The instance being applied.
        instance: String,
    },
    /// Two containers would listen on one port.
    #[error(
        "port {port}/{protocol} of helper {helper:?} is already used by container {existing:?} (containers in a pod share one network namespace); {fix}"
    )]
    PortClash {
        /// How to fix it: the parameter to set and a free value, when known.
        fix: String,
        /// The port.
        port: i32,
        /// TCP/UDP/SCTP.
        protocol: String,
        /// The container already on it.
        existing: String,
        /// The helper that wants it.
        helper: String,
    },
    /// `--container` names a container the pod template does not have.
    #[error("container {name:?} not found; app containers: {}", .apps.join(", "))]
    UnknownContainer {
        /// The name asked for.
        name: String,
        /// The app containers.
        apps: Vec<String>,
    },
    /// `--container` names a helper some pattern instance added.
    #[error(
        "container {name:?} is a helper added by pattern instance {instance}; app containers: {}",
        .apps.join(", ")
    )]
    HelperContainer {
        /// The name asked for.
        name: String,
        /// The instance that added it.
        instance: String,
        /// The app containers.
        apps: Vec<String>,
    },
    /// Every container of the pod template is a helper.
    #[error("the pod template has no app container")]
    NoAppContainer,
    /// A mount or env var of the pattern targets a container that is not an app container.
    #[error(
        "the pattern targets container {name:?}, which is not an app container (app containers: {})",
        .apps.join(", ")
    )]
    TargetNotApp {
        /// The container the pattern names.
        name: String,
        /// The app containers.
        apps: Vec<String>,
    },
    /// A mount names a volume that neither the pod nor the contribution has.
    #[error(
        "mount {path:?} on container {container:?} uses volume {volume:?}, which the pod does not have"
    )]
    MissingVolume {
        /// The container.
        container: String,
        /// The mount path.
        path: String,
        /// The volume.
        volume: String,
    },
    /// A path or env var on an app container is taken.
    #[error(
        "{what} {name:?} on container {container:?} already exists and was not added by this pattern instance; {fix}"
    )]
    Taken {
        /// How to fix it: the parameter to set and a free value, when known.
        fix: String,
        /// "mount path" or "env var".
        what: &'static str,
        /// The path or name.
        name: String,
        /// The container.
        container: String,
    },
    /// An annotation already holds another value.
    #[error("pod annotation {key:?} is already set to {existing:?} (the pattern sets {wanted:?})")]
    Annotation {
        /// The key.
        key: String,
        /// The value found.
        existing: String,
        /// The value the pattern sets.
        wanted: String,
    },
    /// A classic sidecar would keep a Job from completing.
    #[error(
        "{kind} {name:?}: Kubernetes {version} has no native sidecars, and a classic sidecar would keep the {kind} from ever completing; target Kubernetes >= 1.29 (--kube-version), or pass --sidecar-mode classic to accept it"
    )]
    ClassicSidecarInJob {
        /// Job or CronJob.
        kind: String,
        /// The object's name.
        name: String,
        /// The target version.
        version: String,
    },
    /// The pattern needs native sidecars and the target has none.
    #[error(
        "pattern {0} needs native sidecars (Kubernetes >= 1.29); drop --sidecar-mode classic or raise --kube-version"
    )]
    NeedsNativeSidecars(String),
    /// The instance name is used by another pattern.
    #[error(
        "instance name {instance:?} is already used by pattern {pattern}; choose another with --name"
    )]
    InstanceTaken {
        /// The instance name.
        instance: String,
        /// The pattern using it.
        pattern: String,
    },
    /// `--position before:NAME|after:NAME` names no init container of the pod.
    #[error(
        "--position {position}: the pod has no init container {name:?} (init containers: {}); name one of them, or use first or last",
        if .init.is_empty() { "none".to_string() } else { .init.join(", ") }
    )]
    PositionAnchor {
        /// The position as given.
        position: String,
        /// The name it gives.
        name: String,
        /// The init containers it may name.
        init: Vec<String>,
    },
    /// A helper would open ports in a pod on the node's network.
    #[error(
        "the pod uses hostNetwork: true, so helper {helper:?} would listen on port {port} of the node itself (and clash between pods on one node); pass --allow-host-network to add it anyway"
    )]
    HostNetwork {
        /// The helper.
        helper: String,
        /// Its first port.
        port: i32,
    },
    /// A container mounts a volume of the pattern's name that the pod does not have: the
    /// helper's volume would silently become its volume.
    #[error(
        "container {container:?} mounts volume {volume:?}, which the pod does not have and pattern instance {instance:?} would add: the mount would silently get the helper's volume; fix or remove that mount, or apply the pattern under another name with --name"
    )]
    ForeignMount {
        /// The container with the mount.
        container: String,
        /// The volume name.
        volume: String,
        /// The instance being applied.
        instance: String,
    },
    /// The tracking annotation is unreadable.
    #[error(transparent)]
    Tracking(#[from] TrackingError),
}
