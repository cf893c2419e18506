//! The workload resource types live mode edits, their kubectl names and short names, and the
//! `TYPE/NAME` and `TYPE[,TYPE]` arguments that name them.

use kube::core::{ApiResource, GroupVersionKind};

/// A workload resource type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Resource {
    /// apps/v1 Deployment.
    Deployment,
    /// apps/v1 StatefulSet.
    StatefulSet,
    /// apps/v1 DaemonSet.
    DaemonSet,
    /// apps/v1 ReplicaSet.
    ReplicaSet,
    /// v1 ReplicationController.
    ReplicationController,
    /// batch/v1 Job.
    Job,
    /// batch/v1 CronJob.
    CronJob,
    /// v1 Pod.
    Pod,
}

/// Every type, for help and errors.
pub const ALL: [Resource; 8] = [
    Resource::Deployment,
    Resource::StatefulSet,
    Resource::DaemonSet,
    Resource::ReplicaSet,
    Resource::ReplicationController,
    Resource::Job,
    Resource::CronJob,
    Resource::Pod,
];

impl Resource {
    /// (group, version, kind, plural, short name).
    fn parts(
        self,
    ) -> (
        &'static str,
        &'static str,
        &'static str,
        &'static str,
        &'static str,
    ) {
        match self {
            Resource::Deployment => ("apps", "v1", "Deployment", "deployments", "deploy"),
            Resource::StatefulSet => ("apps", "v1", "StatefulSet", "statefulsets", "sts"),
            Resource::DaemonSet => ("apps", "v1", "DaemonSet", "daemonsets", "ds"),
            Resource::ReplicaSet => ("apps", "v1", "ReplicaSet", "replicasets", "rs"),
            Resource::ReplicationController => (
                "",
                "v1",
                "ReplicationController",
                "replicationcontrollers",
                "rc",
            ),
            Resource::Job => ("batch", "v1", "Job", "jobs", "job"),
            Resource::CronJob => ("batch", "v1", "CronJob", "cronjobs", "cj"),
            Resource::Pod => ("", "v1", "Pod", "pods", "po"),
        }
    }

    /// Parses a kubectl resource name: kind, plural, short name, or `plural.group`, any case.
    pub fn parse(text: &str) -> Option<Self> {
        let lower = text.to_ascii_lowercase();
        ALL.into_iter().find(|r| {
            let (group, _, kind, plural, short) = r.parts();
            let kind = kind.to_ascii_lowercase();
            let qualified = |name: &str| !group.is_empty() && lower == format!("{name}.{group}");
            lower == kind
                || lower == plural
                || lower == short
                || qualified(plural)
                || qualified(&kind)
        })
    }

    /// The resource from an object's apiVersion and kind.
    pub fn of(api_version: &str, kind: &str) -> Option<Self> {
        ALL.into_iter().find(|r| {
            let (group, version, k, _, _) = r.parts();
            let av = if group.is_empty() {
                version.to_string()
            } else {
                format!("{group}/{version}")
            };
            av == api_version && k == kind
        })
    }

    /// The API resource for the dynamic client.
    pub fn api_resource(self) -> ApiResource {
        let (group, version, kind, plural, _) = self.parts();
        ApiResource::from_gvk_with_plural(&GroupVersionKind::gvk(group, version, kind), plural)
    }

    /// `deployments.apps`, `pods`: how kubectl names the resource (and `kubectl auth can-i`).
    pub fn resource_name(self) -> String {
        let (group, _, _, plural, _) = self.parts();
        if group.is_empty() {
            plural.to_string()
        } else {
            format!("{plural}.{group}")
        }
    }

    /// `deployment.apps`, `pod`: the prefix of `deployment.apps/web` in reports.
    pub fn object_prefix(self) -> String {
        let (group, _, kind, _, _) = self.parts();
        let kind = kind.to_ascii_lowercase();
        if group.is_empty() {
            kind
        } else {
            format!("{kind}.{group}")
        }
    }

    /// The kind.
    pub fn kind(self) -> &'static str {
        self.parts().2
    }

    /// True for the kinds whose rollout `--wait` follows.
    pub fn rolls_out(self) -> bool {
        matches!(
            self,
            Resource::Deployment | Resource::StatefulSet | Resource::DaemonSet
        )
    }

    /// Why a pod template of this kind cannot change in place, if it cannot.
    pub fn immutable_template(self) -> Option<&'static str> {
        match self {
            Resource::Pod => Some(
                "a running Pod cannot get new containers; patch the workload that owns it (its ownerReferences), or recreate the Pod",
            ),
            Resource::Job => Some(
                "a Job's pod template cannot change after creation; patch the CronJob that creates it, or recreate the Job",
            ),
            _ => None,
        }
    }
}

/// The short names, for error messages.
pub fn known_types() -> String {
    ALL.iter()
        .map(|r| r.parts().4)
        .collect::<Vec<_>>()
        .join(", ")
}

/// A bad resource argument.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TargetError {
    /// Not a workload type.
    #[error("unknown resource type {0:?}: expected one of {types} (or their kinds and plurals)", types = known_types())]
    UnknownType(String),
    /// `TYPE/` or `/NAME`.
    #[error("{0:?}: expected TYPE/NAME, e.g. deploy/web")]
    Malformed(String),
}

/// Parses `TYPE/NAME`.
pub fn parse_named(text: &str) -> Result<(Resource, String), TargetError> {
    let (ty, name) = text
        .split_once('/')
        .filter(|(t, n)| !t.is_empty() && !n.is_empty() && !n.contains('/'))
        .ok_or_else(|| TargetError::Malformed(text.to_string()))?;
    let resource = Resource::parse(ty).ok_or_else(|| TargetError::UnknownType(ty.to_string()))?;
    Ok((resource, name.to_string()))
}

/// Parses `TYPE[,TYPE…]` (with `-l` or `--all`).
pub fn parse_types(text: &str) -> Result<Vec<Resource>, TargetError> {
    let mut out = Vec::new();
    for part in text.split(',') {
        let r = Resource::parse(part).ok_or_else(|| TargetError::UnknownType(part.to_string()))?;
        if !out.contains(&r) {
            out.push(r);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kubectl_names_and_short_names_parse() {
        for (text, want) in [
            ("deploy", Resource::Deployment),
            ("Deployments", Resource::Deployment),
            ("deployments.apps", Resource::Deployment),
            ("deployment.apps", Resource::Deployment),
            ("sts", Resource::StatefulSet),
            ("ds", Resource::DaemonSet),
            ("rs", Resource::ReplicaSet),
            ("rc", Resource::ReplicationController),
            ("job", Resource::Job),
            ("jobs.batch", Resource::Job),
            ("cj", Resource::CronJob),
            ("po", Resource::Pod),
            ("pods", Resource::Pod),
        ] {
            assert_eq!(Resource::parse(text), Some(want), "{text}");
        }
        assert_eq!(Resource::parse("svc"), None);
        assert_eq!(Resource::parse("pods.apps"), None);
    }

    #[test]
    fn targets_parse_or_say_what_is_wrong() {
        assert_eq!(
            parse_named("deploy/web"),
            Ok((Resource::Deployment, "web".into()))
        );
        assert_eq!(
            parse_named("svc/web"),
            Err(TargetError::UnknownType("svc".into()))
        );
        assert!(matches!(
            parse_named("deploy/"),
            Err(TargetError::Malformed(_))
        ));
        assert_eq!(
            parse_types("deploy,sts,deploy"),
            Ok(vec![Resource::Deployment, Resource::StatefulSet])
        );
        let err = parse_types("deploy,configmap").unwrap_err().to_string();
        assert!(
            err.contains("\"configmap\"") && err.contains("deploy, sts"),
            "{err}"
        );
    }

    #[test]
    fn api_resources_name_the_right_paths() {
        let ar = Resource::Deployment.api_resource();
        assert_eq!(
            (ar.group.as_str(), ar.plural.as_str()),
            ("apps", "deployments")
        );
        assert_eq!(Resource::Pod.api_resource().api_version, "v1");
        assert_eq!(Resource::of("batch/v1", "CronJob"), Some(Resource::CronJob));
        assert_eq!(Resource::Deployment.resource_name(), "deployments.apps");
        assert_eq!(Resource::Pod.object_prefix(), "pod");
    }
}
