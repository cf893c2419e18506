//! The check after `inject --apply`: a sample pod the binding selects, and whether the pod the
//! API server admitted (a server-side dry-run create, mutated by the installed policy) carries
//! what `add` puts into the same pod. Other admission plugins add their own items (the service
//! account token volume and its mounts, defaults such as `imagePullPolicy`), so the comparison
//! is by name and order of what `add` adds, not of the whole pod.

use std::collections::BTreeMap;

use serde_json::{Value, json};

/// A pod carrying `labels`, with one app container (`container`, or `app`), to be created with
/// a generated name in a server-side dry run.
pub fn sample_pod(labels: &BTreeMap<String, String>, container: Option<&str>) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"generateName": "kubectl-pattern-verify-", "labels": labels},
        "spec": {"containers": [{
            "name": container.unwrap_or(super::SYNTHETIC_APP),
            "image": "registry.k8s.io/pause:3.10"
        }]}
    })
}

/// One way the admitted pod differs from `add`'s.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Difference {
    /// Where (`spec.initContainers`, `spec.containers[app].env`, `metadata.annotations[k]`).
    pub path: String,
    /// What `add` has there.
    pub expected: String,
    /// What the admitted pod has there.
    pub admitted: String,
}

impl std::fmt::Display for Difference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: add makes {}, the admitted pod has {}",
            self.path, self.expected, self.admitted
        )
    }
}

/// The keys (`name`, or `mountPath` for mounts) of a list's items, in order.
fn keys(list: Option<&Value>, key: &str) -> Vec<String> {
    list.and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|i| i.get(key).and_then(Value::as_str).map(str::to_string))
        .collect()
}

/// True when `wanted` appear in `have` in the same order (other items may sit between).
fn in_order(wanted: &[String], have: &[String]) -> bool {
    let mut rest = have.iter();
    wanted.iter().all(|w| rest.any(|h| h == w))
}

fn item<'v>(list: Option<&'v Value>, name: &str) -> Option<&'v Value> {
    list.and_then(Value::as_array)?
        .iter()
        .find(|i| i.get("name").and_then(Value::as_str) == Some(name))
}

fn compare_list(
    path: &str,
    expected: Option<&Value>,
    admitted: Option<&Value>,
    key: &str,
    out: &mut Vec<Difference>,
) {
    let wanted = keys(expected, key);
    let have = keys(admitted, key);
    if !in_order(&wanted, &have) {
        out.push(Difference {
            path: path.to_string(),
            expected: format!("[{}]", wanted.join(", ")),
            admitted: format!("[{}]", have.join(", ")),
        });
    }
}

/// Fields of a container that must be the same (the defaults the server fills in aside).
const SAME: [&str; 4] = ["image", "restartPolicy", "command", "args"];

/// The differences between the pod `add` makes (`expected`) and the pod the server admitted.
pub fn differences(expected: &Value, admitted: &Value) -> Vec<Difference> {
    let mut out = Vec::new();
    for list in ["initContainers", "containers", "volumes"] {
        compare_list(
            &format!("spec.{list}"),
            expected["spec"].get(list),
            admitted["spec"].get(list),
            "name",
            &mut out,
        );
    }
    for list in ["initContainers", "containers"] {
        for name in keys(expected["spec"].get(list), "name") {
            let (Some(e), Some(a)) = (
                item(expected["spec"].get(list), &name),
                item(admitted["spec"].get(list), &name),
            ) else {
                continue;
            };
            for (field, key) in [("volumeMounts", "mountPath"), ("env", "name")] {
                compare_list(
                    &format!("spec.{list}[{name}].{field}"),
                    e.get(field),
                    a.get(field),
                    key,
                    &mut out,
                );
            }
            for field in SAME {
                if e.get(field) != a.get(field) {
                    out.push(Difference {
                        path: format!("spec.{list}[{name}].{field}"),
                        expected: shown(e.get(field)),
                        admitted: shown(a.get(field)),
                    });
                }
            }
        }
    }
    let annotations = |pod: &Value| pod["metadata"]["annotations"].as_object().cloned();
    for (key, value) in annotations(expected).unwrap_or_default() {
        let have = annotations(admitted).and_then(|a| a.get(&key).cloned());
        if have.as_ref() != Some(&value) {
            out.push(Difference {
                path: format!("metadata.annotations[{key}]"),
                expected: shown(Some(&value)),
                admitted: shown(have.as_ref()),
            });
        }
    }
    out
}

fn shown(value: Option<&Value>) -> String {
    match value {
        Some(v) => v.to_string(),
        None => "nothing".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn added() -> Value {
        json!({"metadata": {"annotations": {"a": "1"}},
            "spec": {"initContainers": [{"name": "h", "image": "h:1", "restartPolicy": "Always"}],
                "containers": [{"name": "app", "image": "app",
                    "volumeMounts": [{"name": "v", "mountPath": "/v"}]}],
                "volumes": [{"name": "v", "emptyDir": {}}]}})
    }

    #[test]
    fn the_servers_own_additions_are_not_differences() {
        let mut admitted = added();
        admitted["spec"]["volumes"]
            .as_array_mut()
            .unwrap()
            .push(json!({"name": "kube-api-access-x", "projected": {}}));
        admitted["spec"]["containers"][0]["volumeMounts"]
            .as_array_mut()
            .unwrap()
            .push(json!({"name": "kube-api-access-x", "mountPath": "/var/run/secrets"}));
        admitted["spec"]["containers"][0]["imagePullPolicy"] = json!("IfNotPresent");
        admitted["metadata"]["annotations"]["other"] = json!("x");
        assert_eq!(differences(&added(), &admitted), vec![]);
    }

    #[test]
    fn a_pod_the_policy_did_not_mutate_differs_in_every_added_item() {
        let admitted = json!({"spec": {"containers": [{"name": "app", "image": "app"}]}});
        let paths: Vec<String> = differences(&added(), &admitted)
            .into_iter()
            .map(|d| d.path)
            .collect();
        assert_eq!(
            paths,
            [
                "spec.initContainers",
                "spec.volumes",
                "spec.containers[app].volumeMounts",
                "metadata.annotations[a]"
            ]
        );
    }

    #[test]
    fn order_and_helper_fields_count() {
        let mut admitted = added();
        admitted["spec"]["initContainers"] = json!([
            {"name": "h", "image": "h:2", "restartPolicy": "Always"}]);
        let found = differences(&added(), &admitted);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].path, "spec.initContainers[h].image");
        assert_eq!(
            found[0].to_string(),
            "spec.initContainers[h].image: add makes \"h:1\", the admitted pod has \"h:2\""
        );
        let wanted = ["a".to_string(), "b".to_string()];
        assert!(in_order(&wanted, &["x".into(), "a".into(), "b".into()]));
        assert!(!in_order(&wanted, &["b".into(), "a".into()]));
    }
}
