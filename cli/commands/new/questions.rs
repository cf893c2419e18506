//! The workload questions of `new`: each answer comes from its flag, else the values file, else
//! the person (on a terminal), else its default; answers are checked by the same rules
//! whichever way they come.

use anyhow::Result;

use crate::commands::UsageError;
use crate::engine::kinds::WorkloadKind;
use crate::request::WorkloadValues;
use crate::ui::prompt::{Prompter, TextQuestion};

use super::build::{self, Answers};
use super::resources::{self, Resources};

/// The workload answers given as flags.
#[derive(Debug, Clone, Default)]
pub struct Given {
    /// `KIND`.
    pub kind: Option<WorkloadKind>,
    /// `NAME`.
    pub name: Option<String>,
    /// `-n`.
    pub namespace: Option<String>,
    /// `--image`.
    pub image: Option<String>,
    /// `--port` (empty: not given).
    pub ports: Vec<u16>,
    /// The command after `--` (empty: not given).
    pub command: Vec<String>,
    /// `--replicas`.
    pub replicas: Option<u32>,
    /// `--schedule`.
    pub schedule: Option<String>,
    /// `--service` / `--no-service`.
    pub service: Option<bool>,
    /// `--requests`.
    pub requests: Option<String>,
    /// `--limits`.
    pub limits: Option<String>,
}

/// Answers still open, named by the flag that gives them.
#[derive(Default)]
pub struct Missing(pub Vec<String>);

fn usage<T>(what: &str, result: Result<T, String>) -> Result<T> {
    result.map_err(|e| UsageError(format!("{what}: {e}")).into())
}

/// A text answer: the given one (checked), else the person's, else the default.
pub fn text_answer(
    prompter: &mut dyn Prompter,
    given: Option<String>,
    flag: &str,
    question: TextQuestion<'_>,
) -> Result<Option<String>> {
    if let Some(value) = given {
        usage(flag, (question.validate)(&value))?;
        return Ok(Some(value));
    }
    let default = question.default.clone();
    Ok(prompter
        .text(&question)?
        .or(default)
        .filter(|a| !a.is_empty()))
}

/// An optional free-text question, parsed by `parse` (empty: `parse("")`).
fn parsed<T>(
    p: &mut dyn Prompter,
    prompt: &str,
    what: &str,
    parse: impl Fn(&str) -> Result<T, String>,
) -> Result<T> {
    let check = |s: &str| parse(s).map(drop);
    let text = p.text(&TextQuestion {
        prompt,
        default: None,
        optional: true,
        secret: false,
        validate: &check,
    })?;
    usage(what, parse(text.as_deref().unwrap_or("")))
}

/// Kind, name, namespace, container, replicas or schedule, Service. `None` when the name or
/// image is missing (recorded in `missing`).
pub fn workload(
    given: &Given,
    file: &WorkloadValues,
    p: &mut dyn Prompter,
    missing: &mut Missing,
) -> Result<Option<Answers>> {
    let kind = kind(given, file, p)?;
    let check_name = |s: &str| build::check_name(kind, s);
    let name = text_answer(
        p,
        given.name.clone().or_else(|| file.name.clone()),
        "NAME",
        TextQuestion {
            prompt: "Name",
            default: None,
            optional: false,
            secret: false,
            validate: &check_name,
        },
    )?;
    if name.is_none() {
        let arg = build::scaffold(kind).arg;
        missing.0.push(format!("NAME (e.g. `new {arg} web`)"));
    }
    let namespace = text_answer(
        p,
        given.namespace.clone().or_else(|| file.namespace.clone()),
        "--namespace",
        TextQuestion {
            prompt: "Namespace (empty: the current one)",
            default: None,
            optional: true,
            secret: false,
            validate: &build::check_namespace,
        },
    )?;
    let image = text_answer(
        p,
        given.image.clone().or_else(|| file.image.clone()),
        "--image",
        TextQuestion {
            prompt: "Image of the main container",
            default: None,
            optional: false,
            secret: false,
            validate: &build::check_image,
        },
    )?;
    if image.is_none() {
        missing.0.push("--image".into());
    }
    let ports = ports(given, file, p)?;
    let command = match (given.command.is_empty(), &file.command) {
        (false, _) => given.command.clone(),
        (true, Some(c)) => c.clone(),
        (true, None) => parsed(
            p,
            "Command (empty: the image's entrypoint)",
            "command",
            build::parse_command,
        )?,
    };
    let (requests, limits) = resources(given, file, p)?;
    let replicas = replicas(kind, given, file, p)?;
    let schedule = schedule(kind, given, file, p)?;
    let service = service(kind, &ports, given, file, p)?;
    Ok(name.zip(image).map(|(name, image)| Answers {
        kind,
        name,
        namespace,
        image,
        ports,
        command,
        replicas,
        schedule,
        service,
        requests,
        limits,
    }))
}

/// The main container's requests and limits: flags, else the values file, else asked with
/// the defaults shown, else the defaults.
fn resources(
    given: &Given,
    file: &WorkloadValues,
    p: &mut dyn Prompter,
) -> Result<(Resources, Resources)> {
    let one = |p: &mut dyn Prompter,
               flag: &str,
               given: &Option<String>,
               file: &Option<serde_json::Map<String, serde_json::Value>>,
               prompt: &str,
               default: &str|
     -> Result<Resources> {
        if let Some(map) = file.as_ref().filter(|_| given.is_none()) {
            let key = flag.trim_start_matches('-');
            return usage(
                &format!("values file workload.{key}"),
                resources::from_map(map),
            );
        }
        let check = |s: &str| resources::parse(s).map(drop);
        let text = text_answer(
            p,
            given.clone(),
            flag,
            TextQuestion {
                prompt,
                default: Some(default.to_string()),
                optional: false,
                secret: false,
                validate: &check,
            },
        )?;
        usage(flag, resources::parse(text.as_deref().unwrap_or(default)))
    };
    let requests = one(
        p,
        "--requests",
        &given.requests,
        &file.requests,
        "Resource requests of the main container (none: no requests)",
        resources::DEFAULT_REQUESTS,
    )?;
    let limits = one(
        p,
        "--limits",
        &given.limits,
        &file.limits,
        "Resource limits of the main container (none: no limits)",
        resources::DEFAULT_LIMITS,
    )?;
    usage("--requests/--limits", resources::check(&requests, &limits))?;
    Ok((requests, limits))
}

fn kind(given: &Given, file: &WorkloadValues, p: &mut dyn Prompter) -> Result<WorkloadKind> {
    if let Some(kind) = given.kind {
        return Ok(kind);
    }
    if let Some(text) = &file.kind {
        return usage("values file workload.kind", build::parse_kind(text));
    }
    let kinds: Vec<WorkloadKind> = WorkloadKind::scaffolded().map(|(k, _)| k).collect();
    let items: Vec<String> = kinds.iter().map(|k| k.as_str().to_string()).collect();
    let at = p.select("Workload kind", &items, 0)?.unwrap_or(0);
    Ok(kinds.get(at).copied().unwrap_or(WorkloadKind::Deployment))
}

fn ports(given: &Given, file: &WorkloadValues, p: &mut dyn Prompter) -> Result<Vec<u16>> {
    match (given.ports.is_empty(), &file.ports) {
        (false, _) => usage(
            "--port",
            build::check_ports(&given.ports).map(|()| given.ports.clone()),
        ),
        (true, Some(ports)) => usage(
            "values file workload.ports",
            build::check_ports(ports).map(|()| ports.clone()),
        ),
        (true, None) => parsed(
            p,
            "Container ports, comma-separated (empty: none)",
            "ports",
            build::parse_ports,
        ),
    }
}

fn replicas(
    kind: WorkloadKind,
    given: &Given,
    file: &WorkloadValues,
    p: &mut dyn Prompter,
) -> Result<u32> {
    if !build::scaffold(kind).replicas {
        return Ok(build::DEFAULT_REPLICAS);
    }
    if let Some(n) = given.replicas.or(file.replicas) {
        return usage("--replicas", build::parse_replicas(&n.to_string()));
    }
    let check = |s: &str| build::parse_replicas(s).map(drop);
    let text = p.text(&TextQuestion {
        prompt: "Replicas",
        default: Some(build::DEFAULT_REPLICAS.to_string()),
        optional: false,
        secret: false,
        validate: &check,
    })?;
    match text {
        Some(t) => usage("replicas", build::parse_replicas(&t)),
        None => Ok(build::DEFAULT_REPLICAS),
    }
}

fn schedule(
    kind: WorkloadKind,
    given: &Given,
    file: &WorkloadValues,
    p: &mut dyn Prompter,
) -> Result<String> {
    if !build::scaffold(kind).schedule {
        return Ok(build::DEFAULT_SCHEDULE.into());
    }
    Ok(text_answer(
        p,
        given.schedule.clone().or_else(|| file.schedule.clone()),
        "--schedule",
        TextQuestion {
            prompt: "Schedule (cron)",
            default: Some(build::DEFAULT_SCHEDULE.into()),
            optional: false,
            secret: false,
            validate: &build::check_schedule,
        },
    )?
    .unwrap_or_else(|| build::DEFAULT_SCHEDULE.into()))
}

fn service(
    kind: WorkloadKind,
    ports: &[u16],
    given: &Given,
    file: &WorkloadValues,
    p: &mut dyn Prompter,
) -> Result<bool> {
    if ports.is_empty() || !build::can_have_service(kind) {
        return Ok(false);
    }
    if let Some(s) = given.service.or(file.service) {
        return Ok(s);
    }
    let ports: Vec<String> = ports.iter().map(u16::to_string).collect();
    let prompt = format!("Add a Service for port {}?", ports.join(", "));
    Ok(p.confirm(&prompt, false)?.unwrap_or(false))
}
