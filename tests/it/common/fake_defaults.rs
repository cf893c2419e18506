//! What the fake API server does to a Deployment before storing it, as a real one does: the
//! defaults it fills in (the fields of `deployment-with-log-shipper.json` that no manager
//! applied), and the validation that refuses an object with `422 Invalid` in the real
//! server's words (a missing selector or container, a container without an image, a selector
//! changed on update).

use serde_json::{Value, json};

/// Fills in the defaults a real API server sets on a Deployment (only where absent).
pub fn default_deployment(d: &mut Value) {
    let spec = &mut d["spec"];
    set(spec, "revisionHistoryLimit", json!(10));
    set(spec, "progressDeadlineSeconds", json!(600));
    set(
        spec,
        "strategy",
        json!({"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}}),
    );
    let pod = &mut spec["template"]["spec"];
    if !pod.is_object() {
        return;
    }
    set(pod, "restartPolicy", json!("Always"));
    set(pod, "terminationGracePeriodSeconds", json!(30));
    set(pod, "dnsPolicy", json!("ClusterFirst"));
    set(pod, "securityContext", json!({}));
    set(pod, "schedulerName", json!("default-scheduler"));
    for list in ["initContainers", "containers"] {
        if let Some(items) = pod.get_mut(list).and_then(Value::as_array_mut) {
            items.iter_mut().for_each(default_container);
        }
    }
}

fn set(at: &mut Value, key: &str, value: Value) {
    if let Some(map) = at.as_object_mut() {
        map.entry(key).or_insert(value);
    }
}

fn default_container(c: &mut Value) {
    let pull = match c["image"].as_str() {
        Some(image) if image.contains(':') && !image.ends_with(":latest") => "IfNotPresent",
        _ => "Always",
    };
    set(c, "resources", json!({}));
    set(c, "terminationMessagePath", json!("/dev/termination-log"));
    set(c, "terminationMessagePolicy", json!("File"));
    set(c, "imagePullPolicy", json!(pull));
    for p in c
        .get_mut("ports")
        .and_then(Value::as_array_mut)
        .into_iter()
        .flatten()
    {
        set(p, "protocol", json!("TCP"));
    }
    for e in c
        .get_mut("env")
        .and_then(Value::as_array_mut)
        .into_iter()
        .flatten()
    {
        if let Some(field_ref) = e.pointer_mut("/valueFrom/fieldRef") {
            set(field_ref, "apiVersion", json!("v1"));
        }
    }
    for probe in ["livenessProbe", "readinessProbe", "startupProbe"] {
        let Some(p) = c.get_mut(probe).filter(|p| p.is_object()) else {
            continue;
        };
        if let Some(get) = p.get_mut("httpGet") {
            set(get, "scheme", json!("HTTP"));
        }
        set(p, "timeoutSeconds", json!(1));
        set(p, "periodSeconds", json!(10));
        set(p, "successThreshold", json!(1));
        set(p, "failureThreshold", json!(3));
    }
}

/// The `422 Invalid` a real API server answers for `d` (replacing `old`, if stored), or `None`.
pub fn invalid(d: &Value, old: Option<&Value>, name: &str) -> Option<Value> {
    let mut causes: Vec<(&str, String, String)> = Vec::new();
    let selector = d.pointer("/spec/selector");
    if selector.is_none_or(Value::is_null) {
        causes.push((
            "FieldValueRequired",
            "spec.selector".into(),
            "Required value".into(),
        ));
    }
    let labels = d.pointer("/spec/template/metadata/labels");
    let wanted = selector
        .and_then(|s| s.get("matchLabels"))
        .and_then(Value::as_object);
    let matches = wanted.is_some_and(|w| {
        w.iter()
            .all(|(k, v)| labels.and_then(|l| l.get(k)) == Some(v))
    });
    if !matches {
        causes.push((
            "FieldValueInvalid",
            "spec.template.metadata.labels".into(),
            format!(
                "Invalid value: {}: `selector` does not match template `labels`",
                go_map(labels)
            ),
        ));
    }
    let pod = d.pointer("/spec/template/spec");
    let containers = pod
        .and_then(|p| p.get("containers"))
        .and_then(Value::as_array);
    if containers.is_none_or(Vec::is_empty) {
        causes.push((
            "FieldValueRequired",
            "spec.template.spec.containers".into(),
            "Required value".into(),
        ));
    }
    for list in ["initContainers", "containers"] {
        let items = pod.and_then(|p| p.get(list)).and_then(Value::as_array);
        for (i, c) in items.into_iter().flatten().enumerate() {
            if c.get("image").is_none_or(Value::is_null) {
                causes.push((
                    "FieldValueRequired",
                    format!("spec.template.spec.{list}[{i}].image"),
                    "Required value".into(),
                ));
            }
        }
    }
    if let Some(old) = old
        && old.pointer("/spec/selector") != selector
    {
        causes.push((
            "FieldValueInvalid",
            "spec.selector".into(),
            format!(
                "Invalid value: v1.LabelSelector{{MatchLabels:{}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}}: field is immutable",
                go_map(selector.and_then(|s| s.get("matchLabels")))
            ),
        ));
    }
    if causes.is_empty() {
        return None;
    }
    let texts: Vec<String> = causes.iter().map(|(_, f, m)| format!("{f}: {m}")).collect();
    let list = match texts.as_slice() {
        [one] => one.clone(),
        many => format!("[{}]", many.join(", ")),
    };
    let details: Vec<Value> = causes
        .iter()
        .map(|(reason, field, message)| json!({"reason": reason, "message": message, "field": field}))
        .collect();
    Some(
        json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": format!("Deployment.apps \"{name}\" is invalid: {list}"),
        "reason": "Invalid",
        "details": {"name": name, "group": "apps", "kind": "Deployment", "causes": details},
        "code": 422}),
    )
}

/// A string map as Go's `%#v` prints it: `map[string]string{"app":"web"}`, or `(nil)`.
fn go_map(v: Option<&Value>) -> String {
    match v.and_then(Value::as_object) {
        None => "map[string]string(nil)".into(),
        Some(m) => {
            let pairs: Vec<String> = m
                .iter()
                .map(|(k, v)| format!("{k:?}:{:?}", v.as_str().unwrap_or_default()))
                .collect();
            format!("map[string]string{{{}}}", pairs.join(", "))
        }
    }
}
