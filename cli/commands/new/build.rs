//! The bare workload `new` starts from (one main container, the labels a selector needs) and
//! the optional Service, built from the answers; and the checks each answer must pass, shared
//! by flags, values files and prompts (typed answers reuse the parameter types' validation).

use clap::builder::TypedValueParser as _;
use serde_json::{Map, Value, json};

use crate::engine::kinds::{Scaffold, WorkloadKind};
use crate::engine::params::{ParamError, ParamSpec, ParamType, is_dns_label};

/// The kinds `new` scaffolds, as clap parses them: the table's `new` spelling, its kind and
/// kubectl's short names, in any case.
pub fn kind_parser() -> impl clap::builder::TypedValueParser<Value = WorkloadKind> {
    let values = WorkloadKind::scaffolded().map(|(kind, s)| {
        clap::builder::PossibleValue::new(s.arg)
            .help(format!(
                "{} {}: {}",
                kind.api_version(),
                kind,
                s.description
            ))
            .aliases(kind.info().short_names.iter().copied())
    });
    clap::builder::PossibleValuesParser::new(values).try_map(|text| parse_kind(&text))
}

/// Parses `Deployment`, `deployment`, `sts`… among the kinds `new` scaffolds.
pub fn parse_kind(text: &str) -> Result<WorkloadKind, String> {
    let text = text.trim();
    WorkloadKind::parse(text)
        .or_else(|| {
            WorkloadKind::scaffolded()
                .find(|(_, s)| s.arg.eq_ignore_ascii_case(text))
                .map(|(k, _)| k)
        })
        .filter(|k| k.info().scaffold.is_some())
        .ok_or_else(|| {
            let names: Vec<&str> = WorkloadKind::scaffolded()
                .map(|(k, _)| k.as_str())
                .collect();
            format!(
                "{text:?} is not a kind this wizard scaffolds ({})",
                names.join(", ")
            )
        })
}

/// What `new` makes of `kind` (every kind it is given has an entry).
pub fn scaffold(kind: WorkloadKind) -> Scaffold {
    kind.info().scaffold.unwrap_or(Scaffold {
        arg: "",
        description: "",
        replicas: false,
        selector: false,
        service_name: false,
        schedule: false,
    })
}

/// A Service makes sense (long-running pods).
pub fn can_have_service(kind: WorkloadKind) -> bool {
    !kind.runs_to_completion()
}

/// Every answer the bare workload needs.
#[derive(Debug, Clone, PartialEq)]
pub struct Answers {
    /// The kind.
    pub kind: WorkloadKind,
    /// `metadata.name`, also the main container's name.
    pub name: String,
    /// `metadata.namespace`, when given.
    pub namespace: Option<String>,
    /// The main container's image.
    pub image: String,
    /// Its container ports.
    pub ports: Vec<u16>,
    /// Its command (empty: the image's entrypoint).
    pub command: Vec<String>,
    /// Replicas (Deployment, StatefulSet).
    pub replicas: u32,
    /// The CronJob schedule.
    pub schedule: String,
    /// Add a Service for the ports.
    pub service: bool,
    /// The main container's resource requests.
    pub requests: super::resources::Resources,
    /// Its limits.
    pub limits: super::resources::Resources,
}

/// Default replicas.
pub const DEFAULT_REPLICAS: u32 = 1;
/// Default CronJob schedule: hourly.
pub const DEFAULT_SCHEDULE: &str = "0 * * * *";

/// The label the selector and the Service use.
pub const NAME_LABEL: &str = "app.kubernetes.io/name";

fn typed(name: &str, kind: ParamType, items: Option<ParamType>) -> ParamSpec {
    ParamSpec {
        name: name.to_string(),
        kind,
        description: String::new(),
        default: None,
        required: true,
        values: vec![],
        pattern: None,
        min: Some(0),
        max: Some(10_000),
        items,
        secret: false,
        role: None,
    }
}

fn problem(err: ParamError) -> String {
    match err {
        ParamError::Invalid { problem, .. } => problem,
        other => other.to_string(),
    }
}

/// Checks a workload name (also the container name: a DNS label; a CronJob's at most 52
/// characters, as its Jobs append a suffix).
pub fn check_name(kind: WorkloadKind, name: &str) -> Result<(), String> {
    if !is_dns_label(name) {
        return Err(format!(
            "{name:?} is not a valid name: lower-case letters, digits and '-', at most 63 characters, e.g. web"
        ));
    }
    if scaffold(kind).schedule && name.len() > 52 {
        return Err(format!(
            "{name:?} is too long for a CronJob name (at most 52 characters)"
        ));
    }
    Ok(())
}

/// Checks a namespace name.
pub fn check_namespace(ns: &str) -> Result<(), String> {
    if is_dns_label(ns) {
        Ok(())
    } else {
        Err(format!(
            "{ns:?} is not a namespace name: lower-case letters, digits and '-', e.g. shop"
        ))
    }
}

/// Checks an image reference (the `image` parameter type's rule).
pub fn check_image(image: &str) -> Result<(), String> {
    typed("image", ParamType::Image, None)
        .parse_text(image)
        .map(drop)
        .map_err(problem)
}

/// Parses `80,443` (the `list` of `port` type's rule).
pub fn parse_ports(text: &str) -> Result<Vec<u16>, String> {
    let value = typed("ports", ParamType::List, Some(ParamType::Port))
        .parse_text(text)
        .map_err(problem)?;
    let ports: Vec<u16> = value
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|v| v.as_u64().and_then(|n| u16::try_from(n).ok()))
        .collect();
    check_ports(&ports)?;
    Ok(ports)
}

/// Checks a port list: 1-65535, each once.
pub fn check_ports(ports: &[u16]) -> Result<(), String> {
    for (i, p) in ports.iter().enumerate() {
        if *p == 0 {
            return Err("0 is not a port (1-65535)".into());
        }
        if ports[..i].contains(p) {
            return Err(format!("port {p} is given twice"));
        }
    }
    Ok(())
}

/// Parses a replica count (the `int` type's rule, 0-10000).
pub fn parse_replicas(text: &str) -> Result<u32, String> {
    let value = typed("replicas", ParamType::Int, None)
        .parse_text(text)
        .map_err(problem)?;
    value
        .as_u64()
        .and_then(|n| u32::try_from(n).ok())
        .ok_or_else(|| format!("{text:?} is not a replica count"))
}

/// Checks a cron schedule: five fields, or a macro such as `@hourly`.
pub fn check_schedule(schedule: &str) -> Result<(), String> {
    let s = schedule.trim();
    let macros = [
        "@yearly",
        "@annually",
        "@monthly",
        "@weekly",
        "@daily",
        "@midnight",
        "@hourly",
    ];
    let field = |f: &str| {
        f.chars()
            .all(|c| c.is_ascii_alphanumeric() || "*/,-?".contains(c))
    };
    let fields: Vec<&str> = s.split_whitespace().collect();
    if macros.contains(&s) || (fields.len() == 5 && fields.iter().all(|f| field(f))) {
        Ok(())
    } else {
        Err(format!(
            "{schedule:?} is not a cron schedule: five fields (minute hour day month weekday, e.g. \"0 * * * *\") or @hourly, @daily…"
        ))
    }
}

/// Splits a command line the way a POSIX shell would (quotes, backslashes).
pub fn parse_command(text: &str) -> Result<Vec<String>, String> {
    shell_words::split(text).map_err(|e| format!("{text:?}: {e} (check the quotes)"))
}

fn labels(a: &Answers) -> Value {
    json!({ NAME_LABEL: a.name })
}

fn metadata(a: &Answers) -> Value {
    let mut meta = Map::new();
    meta.insert("name".into(), json!(a.name));
    if let Some(ns) = &a.namespace {
        meta.insert("namespace".into(), json!(ns));
    }
    meta.insert("labels".into(), labels(a));
    Value::Object(meta)
}

fn pod_spec(a: &Answers) -> Value {
    let mut container = Map::new();
    container.insert("name".into(), json!(a.name));
    container.insert("image".into(), json!(a.image));
    if !a.command.is_empty() {
        container.insert("command".into(), json!(a.command));
    }
    if !a.ports.is_empty() {
        let ports: Vec<Value> = a
            .ports
            .iter()
            .map(|p| json!({"containerPort": p}))
            .collect();
        container.insert("ports".into(), Value::Array(ports));
    }
    if let Some(resources) = super::resources::object(&a.requests, &a.limits) {
        container.insert("resources".into(), resources);
    }
    let mut spec = Map::new();
    if a.kind.runs_to_completion() {
        spec.insert("restartPolicy".into(), json!("OnFailure"));
    }
    spec.insert("containers".into(), json!([container]));
    Value::Object(spec)
}

/// The bare workload: metadata, the spec fields its kind needs (from the kind table) and the
/// pod template with the main container, where the kind keeps it.
pub fn workload(a: &Answers) -> Value {
    let kind = a.kind;
    let shape = scaffold(kind);
    let mut object =
        json!({"apiVersion": kind.api_version(), "kind": kind.as_str(), "metadata": metadata(a)});
    let template = json!({"metadata": {"labels": labels(a)}, "spec": pod_spec(a)});
    let path = kind.template_path();
    if path.is_empty() {
        object["spec"] = pod_spec(a);
        return object;
    }
    let mut spec = Map::new();
    if shape.schedule {
        spec.insert("schedule".into(), json!(a.schedule));
    }
    if shape.replicas {
        spec.insert("replicas".into(), json!(a.replicas));
    }
    if shape.service_name {
        spec.insert("serviceName".into(), json!(a.name));
    }
    if shape.selector {
        spec.insert("selector".into(), json!({"matchLabels": labels(a)}));
    }
    object["spec"] = Value::Object(spec);
    // The template under the table's path (spec.template, spec.jobTemplate.spec.template).
    let mut at = &mut object;
    for key in &path[..path.len() - 1] {
        if at.get(*key).is_none() {
            at[*key] = json!({});
        }
        at = &mut at[*key];
    }
    at[path[path.len() - 1]] = template;
    object
}

/// The Service for the ports (headless for a StatefulSet, whose pods it names), when asked
/// for and there are ports. A port a helper took over (`fronts`: app port, the helper's port
/// name) targets the helper's port.
pub fn service(a: &Answers, fronts: &[(u16, String)]) -> Option<Value> {
    if !a.service || a.ports.is_empty() || !can_have_service(a.kind) {
        return None;
    }
    let target = |p: &u16| match fronts.iter().find(|(port, _)| port == p) {
        Some((_, name)) => json!(name),
        None => json!(p),
    };
    let ports: Vec<Value> = a
        .ports
        .iter()
        .map(|p| json!({"name": format!("tcp-{p}"), "port": p, "targetPort": target(p)}))
        .collect();
    let mut spec = Map::new();
    if scaffold(a.kind).service_name {
        spec.insert("clusterIP".into(), json!("None"));
    }
    spec.insert("selector".into(), labels(a));
    spec.insert("ports".into(), Value::Array(ports));
    Some(json!({"apiVersion": "v1", "kind": "Service", "metadata": metadata(a), "spec": spec}))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answers(kind: WorkloadKind) -> Answers {
        Answers {
            kind,
            name: "web".into(),
            namespace: Some("shop".into()),
            image: "nginx:1.27.3".into(),
            ports: vec![80],
            command: vec![],
            replicas: 2,
            schedule: DEFAULT_SCHEDULE.into(),
            service: true,
            requests: vec![],
            limits: vec![],
        }
    }

    #[test]
    fn every_kind_is_a_workload_the_engine_reads() {
        for (kind, _) in WorkloadKind::scaffolded() {
            let mut object = workload(&answers(kind));
            let w = crate::engine::workload::Workload::new(&mut object).expect("a workload");
            assert_eq!(w.kind(), kind);
            assert_eq!(w.container_names(), vec!["web".to_string()]);
            assert_eq!(w.namespace(), "shop");
        }
    }

    fn service_of(a: &Answers) -> Option<Value> {
        service(a, &[])
    }

    #[test]
    fn a_port_a_helper_took_over_targets_the_helpers_port() {
        let a = answers(WorkloadKind::StatefulSet);
        let sts = service(&a, &[(80, "https".into())]).expect("service");
        assert_eq!(
            sts["spec"]["ports"][0],
            json!({"name": "tcp-80", "port": 80, "targetPort": "https"})
        );
    }

    #[test]
    fn services_only_for_long_running_kinds_with_ports() {
        assert!(service_of(&answers(WorkloadKind::Job)).is_none());
        let mut a = answers(WorkloadKind::Deployment);
        a.ports.clear();
        assert!(service_of(&a).is_none());
        let sts = service_of(&answers(WorkloadKind::StatefulSet)).expect("service");
        assert_eq!(sts["spec"]["clusterIP"], "None");
        assert_eq!(
            sts["spec"]["ports"][0],
            json!({"name": "tcp-80", "port": 80, "targetPort": 80})
        );
    }

    #[test]
    fn answer_checks_name_the_problem() {
        assert!(
            check_name(WorkloadKind::Deployment, "Web_1")
                .unwrap_err()
                .contains("not a valid name")
        );
        assert!(check_name(WorkloadKind::CronJob, &"a".repeat(53)).is_err());
        assert!(
            check_image("nginx latest")
                .unwrap_err()
                .contains("not an image reference")
        );
        assert_eq!(parse_ports("80, 443").unwrap(), vec![80, 443]);
        assert!(parse_ports("80,99999").unwrap_err().contains("not a port"));
        assert!(parse_ports("80,80").unwrap_err().contains("twice"));
        assert_eq!(parse_replicas("3").unwrap(), 3);
        assert!(
            parse_replicas("-1")
                .unwrap_err()
                .contains("below the minimum")
        );
        assert!(check_schedule("*/5 * * * *").is_ok());
        assert!(check_schedule("@daily").is_ok());
        assert!(check_schedule("every minute").is_err());
        assert_eq!(
            parse_command("sh -c 'echo hi'").unwrap(),
            vec!["sh", "-c", "echo hi"]
        );
        assert!(parse_command("sh -c 'oops").is_err());
        assert_eq!(
            parse_kind("StatefulSet").unwrap(),
            WorkloadKind::StatefulSet
        );
        assert_eq!(parse_kind("sts").unwrap(), WorkloadKind::StatefulSet);
        assert_eq!(parse_kind("cronjob").unwrap(), WorkloadKind::CronJob);
        assert!(parse_kind("ReplicaSet").is_err());
    }
}
