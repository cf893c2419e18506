//! The fixes doctor suggests, as commands a user can run: kubectl's own (`logs`, `describe`,
//! `rollout`) and this tool's (`pattern add`, `pattern inject`), each naming the namespace.

use super::helpers::Source;
use crate::resource::Resource;
use kubectl_pattern_engine::kinds::Rollout;

/// The workload a finding is about, and the commands that act on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Owner {
    /// Its type.
    pub resource: Resource,
    /// Its name.
    pub name: String,
    /// Its namespace.
    pub namespace: String,
    /// `deployment.apps/web`.
    pub display: String,
}

impl Owner {
    /// The workload `resource/name` in `namespace`.
    pub fn new(resource: Resource, name: &str, namespace: &str) -> Self {
        Owner {
            resource,
            name: name.to_string(),
            namespace: namespace.to_string(),
            display: format!("{}/{name}", resource.object_prefix()),
        }
    }

    /// `deploy/web`, as the commands name it.
    fn short(&self) -> String {
        format!("{}/{}", self.resource.short_name(), self.name)
    }

    /// `kubectl logs POD -c HELPER -n NS [--previous]`.
    pub fn logs(&self, pod: &str, container: &str, previous: bool) -> String {
        let previous = if previous { " --previous" } else { "" };
        format!(
            "kubectl logs {pod} -c {container} -n {}{previous}",
            self.namespace
        )
    }

    /// `kubectl describe pod POD -n NS`.
    pub fn describe(&self, pod: &str) -> String {
        format!("kubectl describe pod {pod} -n {}", self.namespace)
    }

    /// `kubectl rollout status deploy/web -n NS`.
    pub fn rollout_status(&self) -> String {
        format!(
            "kubectl rollout status {} -n {}",
            self.short(),
            self.namespace
        )
    }

    /// `kubectl describe deploy/web -n NS`.
    pub fn describe_self(&self) -> String {
        format!("kubectl describe {} -n {}", self.short(), self.namespace)
    }

    /// How to get a pod recreated from the workload's current template.
    pub fn recreate(&self, pod: &str) -> String {
        let ns = &self.namespace;
        match (self.resource.info().rollout, self.resource) {
            (Rollout::Deployment | Rollout::StatefulSet | Rollout::DaemonSet, _) => format!(
                "recreate its pods from the template: kubectl rollout restart {} -n {ns}",
                self.short()
            ),
            (_, Resource::ReplicaSet | Resource::ReplicationController) => format!(
                "delete the pod, its controller recreates it from the template: kubectl delete pod {pod} -n {ns}"
            ),
            (_, Resource::Pod) => {
                "a running pod cannot get new containers: recreate it from its manifest".into()
            }
            _ => {
                "a Job's pods keep the spec they started with: the next Job runs the helper".into()
            }
        }
    }

    /// `kubectl pattern add PATTERN [--name INSTANCE] deploy/web -n NS`.
    fn readd(&self, pattern: &str, instance: &str) -> String {
        let name = if instance == pattern {
            String::new()
        } else {
            format!(" --name {instance}")
        };
        format!(
            "kubectl pattern add {pattern}{name} {} -n {}",
            self.short(),
            self.namespace
        )
    }
}

/// A helper killed for memory: raise its limit where it was set.
pub fn memory(owner: &Owner, source: &Source, limit: Option<String>) -> String {
    let now = limit.map(|l| format!(" (now {l})")).unwrap_or_default();
    match source {
        Source::Record { pattern, instance } => format!(
            "it ran out of memory: raise its limit{now}: run `{}` again with your parameters and a larger --set memoryLimit",
            owner.readd(pattern, instance)
        ),
        Source::Injector { policy } => format!(
            "it ran out of memory: raise its limit{now}: export the injector {policy} again with a larger --set memoryLimit (kubectl pattern inject … --apply)"
        ),
    }
}

/// A native sidecar on an old kubelet: classic sidecars instead, or a newer node.
pub fn classic(owner: &Owner, source: &Source) -> String {
    match source {
        Source::Record { pattern, instance } => format!(
            "upgrade the node's kubelet to 1.29 or later, or make it a classic sidecar: {} --sidecar-mode classic",
            owner.readd(pattern, instance)
        ),
        Source::Injector { policy } => format!(
            "upgrade the node's kubelet to 1.29 or later, or export the injector {policy} again with --sidecar-mode classic"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixes_name_the_object_and_namespace() {
        let web = Owner::new(Resource::Deployment, "web", "shop");
        assert_eq!(web.display, "deployment.apps/web");
        assert_eq!(
            web.logs("web-1", "log-shipper", true),
            "kubectl logs web-1 -c log-shipper -n shop --previous"
        );
        assert_eq!(
            web.recreate("web-1"),
            "recreate its pods from the template: kubectl rollout restart deploy/web -n shop"
        );
        let record = Source::Record {
            pattern: "log-shipper".into(),
            instance: "logs".into(),
        };
        assert!(
            classic(&web, &record).ends_with(
                "kubectl pattern add log-shipper --name logs deploy/web -n shop --sidecar-mode classic"
            ),
            "{}",
            classic(&web, &record)
        );
        let rs = Owner::new(Resource::ReplicaSet, "web-1", "shop");
        assert!(
            rs.recreate("web-1-x")
                .ends_with("kubectl delete pod web-1-x -n shop")
        );
    }
}
