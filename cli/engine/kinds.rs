//! The one table of workload kinds: every fact the tool knows about a kind of object that carries
//! a pod template (its API group and version, its kubectl names, where the pod template lives,
//! whether it may change, how its rollout is followed, what `new` scaffolds). The engine, live
//! mode, `new`, the rollout watch and the documentation all read it; adding a kind is one entry.

use std::fmt;

use serde::Serialize;

/// How `kubectl rollout status` judges a kind's rollout (live `--wait`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rollout {
    /// Not followed (its pods are replaced by something else, or run to completion).
    None,
    /// A Deployment: updated, available and total replicas, the progress deadline.
    Deployment,
    /// A StatefulSet: updated and ready replicas, the update revision.
    StatefulSet,
    /// A DaemonSet: scheduled, updated and available pods.
    DaemonSet,
}

/// What `new` scaffolds for a kind, if it does: the spec fields its bare object needs beside
/// the pod template.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scaffold {
    /// The spelling on `new`'s command line (`statefulset`).
    pub arg: &'static str,
    /// The wizard's one-line description.
    pub description: &'static str,
    /// `spec.replicas` (`--replicas`).
    pub replicas: bool,
    /// `spec.selector` matching the pod template's labels.
    pub selector: bool,
    /// `spec.serviceName`, naming the (headless) Service that names the pods.
    pub service_name: bool,
    /// `spec.schedule` (`--schedule`).
    pub schedule: bool,
}

/// Everything the tool knows about one workload kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KindInfo {
    /// The `apiVersion` (`apps/v1`; `v1` for the core group).
    pub api_version: &'static str,
    /// The kind, as in `kind:`.
    pub kind: &'static str,
    /// The resource name (`deployments`).
    pub plural: &'static str,
    /// kubectl's short names.
    pub short_names: &'static [&'static str],
    /// Keys from the object to its pod template (empty: the object is the pod).
    pub template: &'static [&'static str],
    /// Why a live object's pod template cannot change, if it cannot.
    pub immutable_template: Option<&'static str>,
    /// Pods run to completion: a classic sidecar would keep them from finishing.
    pub runs_to_completion: bool,
    /// How `--wait` follows its rollout.
    pub rollout: Rollout,
    /// What `new` makes of it.
    pub scaffold: Option<Scaffold>,
}

/// A kind of object whose pod template patterns edit. Its facts are in [`KindInfo`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum WorkloadKind {
    /// `v1 Pod`: the object is the pod.
    Pod,
    /// `apps/v1 Deployment`.
    Deployment,
    /// `apps/v1 StatefulSet`.
    StatefulSet,
    /// `apps/v1 DaemonSet`.
    DaemonSet,
    /// `apps/v1 ReplicaSet`.
    ReplicaSet,
    /// `v1 ReplicationController`.
    ReplicationController,
    /// `batch/v1 Job`.
    Job,
    /// `batch/v1 CronJob`: the pod template is in the job template.
    CronJob,
    /// `v1 PodTemplate`: a pod template on its own (`template` at the top).
    PodTemplate,
}

const TEMPLATE: &[&str] = &["spec", "template"];

/// The table, in the order of [`WorkloadKind`]'s variants.
const KINDS: [KindInfo; 9] = [
    // WorkloadKind::Pod
    KindInfo {
        api_version: "v1",
        kind: "Pod",
        plural: "pods",
        short_names: &["po"],
        template: &[],
        immutable_template: Some(
            "a running Pod cannot get new containers; patch the workload that owns it (its ownerReferences), or recreate the Pod",
        ),
        runs_to_completion: false,
        rollout: Rollout::None,
        scaffold: Some(Scaffold {
            arg: "pod",
            description: "a single pod",
            replicas: false,
            selector: false,
            service_name: false,
            schedule: false,
        }),
    },
    // WorkloadKind::Deployment
    KindInfo {
        api_version: "apps/v1",
        kind: "Deployment",
        plural: "deployments",
        short_names: &["deploy"],
        template: TEMPLATE,
        immutable_template: None,
        runs_to_completion: false,
        rollout: Rollout::Deployment,
        scaffold: Some(Scaffold {
            arg: "deployment",
            description: "replicated, stateless",
            replicas: true,
            selector: true,
            service_name: false,
            schedule: false,
        }),
    },
    // WorkloadKind::StatefulSet
    KindInfo {
        api_version: "apps/v1",
        kind: "StatefulSet",
        plural: "statefulsets",
        short_names: &["sts"],
        template: TEMPLATE,
        immutable_template: None,
        runs_to_completion: false,
        rollout: Rollout::StatefulSet,
        scaffold: Some(Scaffold {
            arg: "statefulset",
            description: "stable names and storage",
            replicas: true,
            selector: true,
            service_name: true,
            schedule: false,
        }),
    },
    // WorkloadKind::DaemonSet
    KindInfo {
        api_version: "apps/v1",
        kind: "DaemonSet",
        plural: "daemonsets",
        short_names: &["ds"],
        template: TEMPLATE,
        immutable_template: None,
        runs_to_completion: false,
        rollout: Rollout::DaemonSet,
        scaffold: Some(Scaffold {
            arg: "daemonset",
            description: "one pod per node",
            replicas: false,
            selector: true,
            service_name: false,
            schedule: false,
        }),
    },
    // WorkloadKind::ReplicaSet
    KindInfo {
        api_version: "apps/v1",
        kind: "ReplicaSet",
        plural: "replicasets",
        short_names: &["rs"],
        template: TEMPLATE,
        immutable_template: None,
        runs_to_completion: false,
        rollout: Rollout::None,
        scaffold: None,
    },
    // WorkloadKind::ReplicationController
    KindInfo {
        api_version: "v1",
        kind: "ReplicationController",
        plural: "replicationcontrollers",
        short_names: &["rc"],
        template: TEMPLATE,
        immutable_template: None,
        runs_to_completion: false,
        rollout: Rollout::None,
        scaffold: None,
    },
    // WorkloadKind::Job
    KindInfo {
        api_version: "batch/v1",
        kind: "Job",
        plural: "jobs",
        short_names: &[],
        template: TEMPLATE,
        immutable_template: Some(
            "a Job's pod template cannot change after creation; patch the CronJob that creates it, or recreate the Job",
        ),
        runs_to_completion: true,
        rollout: Rollout::None,
        scaffold: Some(Scaffold {
            arg: "job",
            description: "runs to completion",
            replicas: false,
            selector: false,
            service_name: false,
            schedule: false,
        }),
    },
    // WorkloadKind::CronJob
    KindInfo {
        api_version: "batch/v1",
        kind: "CronJob",
        plural: "cronjobs",
        short_names: &["cj"],
        template: &["spec", "jobTemplate", "spec", "template"],
        immutable_template: None,
        runs_to_completion: true,
        rollout: Rollout::None,
        scaffold: Some(Scaffold {
            arg: "cronjob",
            description: "a Job on a schedule",
            replicas: false,
            selector: false,
            service_name: false,
            schedule: true,
        }),
    },
    // WorkloadKind::PodTemplate
    KindInfo {
        api_version: "v1",
        kind: "PodTemplate",
        plural: "podtemplates",
        short_names: &[],
        template: &["template"],
        immutable_template: None,
        runs_to_completion: false,
        rollout: Rollout::None,
        scaffold: None,
    },
];

impl WorkloadKind {
    /// Every workload kind, in the order help and errors list them.
    pub const ALL: [WorkloadKind; 9] = [
        WorkloadKind::Deployment,
        WorkloadKind::StatefulSet,
        WorkloadKind::DaemonSet,
        WorkloadKind::ReplicaSet,
        WorkloadKind::ReplicationController,
        WorkloadKind::Job,
        WorkloadKind::CronJob,
        WorkloadKind::Pod,
        WorkloadKind::PodTemplate,
    ];

    /// The kind's entry in the table.
    pub const fn info(self) -> &'static KindInfo {
        &KINDS[self as usize]
    }

    /// The kind's name, as in `kind:`.
    pub fn as_str(self) -> &'static str {
        self.info().kind
    }

    /// The `apiVersion` this tool handles for the kind.
    pub fn api_version(self) -> &'static str {
        self.info().api_version
    }

    /// The API group ("" for the core group).
    pub fn group(self) -> &'static str {
        self.info().group()
    }

    /// The kind of the typed list (`DeploymentList`) whose items are of this kind.
    pub fn list_kind(self) -> String {
        format!("{}List", self.as_str())
    }

    /// Recognises a workload from `apiVersion` and `kind`.
    pub fn from_type(api_version: &str, kind: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|k| k.as_str() == kind && k.api_version() == api_version)
    }

    /// The workload kind with this `kind:` name, under any apiVersion.
    pub fn from_kind(kind: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == kind)
    }

    /// The kind whose typed list is `list_kind` (`DeploymentList`) under `api_version`.
    pub fn from_list(api_version: &str, list_kind: &str) -> Option<Self> {
        let kind = list_kind.strip_suffix("List")?;
        Self::from_type(api_version, kind)
    }

    /// Parses a kubectl resource name: kind, plural, short name, or `plural.group` /
    /// `kind.group`, in any case.
    pub fn parse(text: &str) -> Option<Self> {
        let lower = text.to_ascii_lowercase();
        Self::ALL.into_iter().find(|k| {
            let info = k.info();
            let kind = info.kind.to_ascii_lowercase();
            let qualified = |name: &str| {
                !info.group().is_empty() && lower == format!("{name}.{}", info.group())
            };
            lower == kind
                || lower == info.plural
                || info.short_names.contains(&lower.as_str())
                || qualified(info.plural)
                || qualified(&kind)
        })
    }

    /// Jobs and CronJobs run to completion: a classic sidecar would keep them running.
    pub fn runs_to_completion(self) -> bool {
        self.info().runs_to_completion
    }

    /// Where the pod template is (empty for a Pod, which is its own template).
    pub fn template_path(self) -> &'static [&'static str] {
        self.info().template
    }

    /// `deployments.apps`, `pods`: how kubectl names the resource (and `kubectl auth can-i`).
    pub fn resource_name(self) -> String {
        let info = self.info();
        match info.group() {
            "" => info.plural.to_string(),
            group => format!("{}.{group}", info.plural),
        }
    }

    /// `deployment.apps`, `pod`: the prefix of `deployment.apps/web`, as `kubectl -o name`.
    pub fn object_prefix(self) -> String {
        let info = self.info();
        let kind = info.kind.to_ascii_lowercase();
        match info.group() {
            "" => kind,
            group => format!("{kind}.{group}"),
        }
    }

    /// kubectl's short name, else the kind in lower case (`deploy`, `job`), for messages.
    pub fn short_name(self) -> String {
        let info = self.info();
        match info.short_names.first() {
            Some(short) => short.to_string(),
            None => info.kind.to_ascii_lowercase(),
        }
    }

    /// The kinds `new` scaffolds, in the wizard's order.
    pub fn scaffolded() -> impl Iterator<Item = (WorkloadKind, Scaffold)> {
        Self::ALL
            .into_iter()
            .filter_map(|k| k.info().scaffold.map(|s| (k, s)))
    }
}

impl KindInfo {
    /// The API group ("" for the core group).
    pub fn group(&self) -> &'static str {
        self.api_version
            .split_once('/')
            .map_or("", |(group, _)| group)
    }

    /// The API version without the group (`v1`).
    pub fn version(&self) -> &'static str {
        self.api_version
            .split_once('/')
            .map_or(self.api_version, |(_, version)| version)
    }
}

impl fmt::Display for WorkloadKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The short names of every kind, for messages (`deploy, sts, ds, …`).
pub fn known_types() -> String {
    WorkloadKind::ALL
        .iter()
        .map(|k| k.short_name())
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kubectl_names_and_short_names_parse() {
        for (text, want) in [
            ("deploy", WorkloadKind::Deployment),
            ("Deployments", WorkloadKind::Deployment),
            ("deployments.apps", WorkloadKind::Deployment),
            ("deployment.apps", WorkloadKind::Deployment),
            ("sts", WorkloadKind::StatefulSet),
            ("ds", WorkloadKind::DaemonSet),
            ("rs", WorkloadKind::ReplicaSet),
            ("rc", WorkloadKind::ReplicationController),
            ("job", WorkloadKind::Job),
            ("jobs.batch", WorkloadKind::Job),
            ("cj", WorkloadKind::CronJob),
            ("po", WorkloadKind::Pod),
            ("pods", WorkloadKind::Pod),
            ("podtemplates", WorkloadKind::PodTemplate),
            ("PodTemplate", WorkloadKind::PodTemplate),
        ] {
            assert_eq!(WorkloadKind::parse(text), Some(want), "{text}");
        }
        assert_eq!(WorkloadKind::parse("svc"), None);
        assert_eq!(WorkloadKind::parse("pods.apps"), None);
    }

    #[test]
    fn every_kind_has_an_api_version_and_a_unique_name() {
        for kind in WorkloadKind::ALL {
            // The table is indexed by the variant: each entry must be its variant's.
            assert_eq!(format!("{kind:?}"), kind.info().kind);
            assert!(!kind.api_version().is_empty(), "{kind}");
            assert_eq!(
                WorkloadKind::from_type(kind.api_version(), kind.as_str()),
                Some(kind)
            );
            assert_eq!(WorkloadKind::parse(&kind.short_name()), Some(kind));
        }
        assert_eq!(
            WorkloadKind::from_list("apps/v1", "DeploymentList"),
            Some(WorkloadKind::Deployment)
        );
        assert_eq!(WorkloadKind::from_list("v1", "ConfigMapList"), None);
    }

    #[test]
    fn names_for_kubectl() {
        assert_eq!(WorkloadKind::Deployment.resource_name(), "deployments.apps");
        assert_eq!(WorkloadKind::Pod.object_prefix(), "pod");
        assert_eq!(WorkloadKind::CronJob.object_prefix(), "cronjob.batch");
        assert_eq!(
            known_types(),
            "deploy, sts, ds, rs, rc, job, cj, po, podtemplate"
        );
    }
}
