//! The non-interactive twin of the wizard: the values file `new --values-file` reads and the
//! wizard can save, and the equivalent `kubectl pattern new … --yes` command line. Both are
//! derived from the final answers and resolved parameters, so either reproduces the run.

use std::path::Path;

use serde_json::{Map, Value};

use crate::request::{SetParam, ValuesFile, WorkloadValues};

use super::super::ask::value_text;
use super::build::{self, Answers, DEFAULT_REPLICAS, DEFAULT_SCHEDULE};
use super::resources;

/// The values file that reproduces the run (secrets left out).
pub fn values_file(answers: &Answers, patterns: &[String], params: &[SetParam]) -> ValuesFile {
    let kind = answers.kind;
    let workload = WorkloadValues {
        kind: Some(kind.as_str().to_string()),
        name: Some(answers.name.clone()),
        namespace: answers.namespace.clone(),
        image: Some(answers.image.clone()),
        ports: (!answers.ports.is_empty()).then(|| answers.ports.clone()),
        command: (!answers.command.is_empty()).then(|| answers.command.clone()),
        replicas: build::scaffold(kind).replicas.then_some(answers.replicas),
        schedule: build::scaffold(kind)
            .schedule
            .then(|| answers.schedule.clone()),
        service: (build::can_have_service(kind) && !answers.ports.is_empty())
            .then_some(answers.service),
        requests: Some(resources::to_map(&answers.requests)),
        limits: Some(resources::to_map(&answers.limits)),
    };
    let mut sections = Map::new();
    for id in patterns {
        let section: Map<String, Value> = params
            .iter()
            .filter(|p| &p.instance == id && !p.secret)
            .map(|p| (p.name.clone(), p.value.clone()))
            .collect();
        sections.insert(id.clone(), Value::Object(section));
    }
    ValuesFile {
        workload: Some(workload),
        patterns: sections,
        ..Default::default()
    }
}

/// Flags of the run that are not answers but change the result (pattern sources, target).
#[derive(Debug, Clone, Default)]
pub struct ExtraFlags(pub Vec<String>);

/// What stands for a secret in the printed command.
pub const HIDDEN: &str = "<hidden>";

/// `kubectl pattern new …` with every answer as a flag, `--yes`, and the destination.
pub fn command_line(
    answers: &Answers,
    patterns: &[String],
    params: &[SetParam],
    extra: &ExtraFlags,
    to: Option<&Path>,
) -> String {
    let kind = answers.kind;
    let mut args: Vec<String> = vec![build::scaffold(kind).arg.to_string(), answers.name.clone()];
    if let Some(ns) = &answers.namespace {
        args.extend(["-n".into(), ns.clone()]);
    }
    args.extend(["--image".into(), answers.image.clone()]);
    for p in &answers.ports {
        args.extend(["--port".into(), p.to_string()]);
    }
    if build::scaffold(kind).replicas && answers.replicas != DEFAULT_REPLICAS {
        args.extend(["--replicas".into(), answers.replicas.to_string()]);
    }
    if build::scaffold(kind).schedule && answers.schedule != DEFAULT_SCHEDULE {
        args.extend(["--schedule".into(), answers.schedule.clone()]);
    }
    if answers.service && build::can_have_service(kind) && !answers.ports.is_empty() {
        args.push("--service".into());
    }
    for (flag, set, default) in [
        ("--requests", &answers.requests, resources::DEFAULT_REQUESTS),
        ("--limits", &answers.limits, resources::DEFAULT_LIMITS),
    ] {
        let text = resources::text(set);
        if text != default {
            args.extend([flag.into(), text]);
        }
    }
    for id in patterns {
        args.extend(["-p".into(), id.clone()]);
    }
    for p in params {
        let text = if p.secret {
            HIDDEN.to_string()
        } else {
            value_text(&p.value)
        };
        args.extend(["--set".into(), format!("{}.{}={text}", p.instance, p.name)]);
    }
    args.extend(extra.0.iter().cloned());
    if let Some(path) = to {
        args.extend(["--to".into(), path.display().to_string()]);
    }
    args.push("--yes".into());
    if !answers.command.is_empty() {
        args.push("--".into());
        args.extend(answers.command.iter().cloned());
    }
    format!("kubectl pattern new {}", join(&args))
}

/// Joins words for a POSIX shell, quoting only words that need it (`a=b,c` stays bare).
pub fn join(words: &[String]) -> String {
    let safe = |c: char| c.is_ascii_alphanumeric() || "-_./:=,@%+".contains(c);
    words
        .iter()
        .map(|w| {
            if !w.is_empty() && w.chars().all(safe) {
                w.clone()
            } else {
                shell_words::quote(w).into_owned()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answers() -> Answers {
        Answers {
            kind: crate::engine::kinds::WorkloadKind::Deployment,
            name: "web".into(),
            namespace: Some("shop".into()),
            image: "nginx:1.27.3".into(),
            ports: vec![80, 443],
            command: vec!["nginx".into(), "-g".into(), "daemon off;".into()],
            replicas: 3,
            schedule: DEFAULT_SCHEDULE.into(),
            service: true,
            requests: resources::parse(resources::DEFAULT_REQUESTS).unwrap(),
            limits: resources::parse("cpu=1,memory=256Mi").unwrap(),
        }
    }

    #[test]
    fn the_command_line_quotes_what_a_shell_would_split() {
        let params = vec![
            SetParam {
                instance: "wait-for".into(),
                name: "host".into(),
                value: Value::String("db.shop.svc".into()),
                secret: false,
            },
            SetParam {
                instance: "tls".into(),
                name: "key".into(),
                value: Value::String("s3cret".into()),
                secret: true,
            },
        ];
        let line = command_line(
            &answers(),
            &["wait-for".into()],
            &params,
            &ExtraFlags(vec!["--kube-version".into(), "1.28".into()]),
            Some(Path::new("my web.yaml")),
        );
        assert_eq!(
            line,
            "kubectl pattern new deployment web -n shop --image nginx:1.27.3 --port 80 --port 443 --replicas 3 --service --limits cpu=1,memory=256Mi -p wait-for --set wait-for.host=db.shop.svc --set 'tls.key=<hidden>' --kube-version 1.28 --to 'my web.yaml' --yes -- nginx -g 'daemon off;'"
        );
        assert!(!line.contains("s3cret"));
    }

    #[test]
    fn a_saved_values_file_reads_back() {
        let file = values_file(&answers(), &["log-shipper".into()], &[]);
        let text = file.to_yaml().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v.yaml");
        std::fs::write(&path, &text).unwrap();
        assert_eq!(ValuesFile::read(&path).unwrap(), file);
        assert!(text.contains("kind: Deployment"), "{text}");
        std::fs::write(&path, "workload:\n  image: x\n  replica: 2\n").unwrap();
        let err = ValuesFile::read(&path).unwrap_err().to_string();
        assert!(err.contains("replica"), "{err}");
    }
}
