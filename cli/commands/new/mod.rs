//! `new`: scaffolds a complete workload. On a terminal it is a wizard that asks for whatever
//! the flags and values file left open; without one (or with `--yes`) it takes the defaults and
//! reports every missing answer at once. The bare workload goes through the same `AddAction`
//! as `add`, so `new -p X` equals `add X` on the bare workload.

mod answers;
mod build;
mod destination;
mod summary;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context as _, Result};
use clap::Args;

use crate::engine::catalogue::Catalogue;
use crate::engine::pattern::SidecarMode;
use crate::engine::process::{Action, AddAction};
use crate::engine::yaml;
use crate::ui::prompt::{self, Prompter, TextQuestion};

use super::UsageError;
use super::args::{TargetArgs, TemplateArgs};
use super::ask::ask_param;
use crate::request::{self, Request, Resolution, ValuesFile, WorkloadValues};
use build::{Answers, NewKind};
use destination::Destination;

/// Scaffold a new workload with helper patterns: a wizard on a terminal, flags in scripts.
///
/// On a terminal, asks for everything the flags and --values-file leave open: kind, name,
/// namespace, the main container (image, ports, command), replicas, which patterns to add and
/// their parameters, a Service for the ports; shows the YAML, asks before writing, and prints
/// the equivalent non-interactive command. Without a terminal, or with --yes, nothing is asked:
/// defaults are taken and every missing answer is reported at once.
#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  # The wizard: asks for everything
  kubectl pattern new

  # A Deployment with a log shipper and a wait-for init container, no questions
  kubectl pattern new deployment web -n shop --image nginx:1.27.3 --port 80 --service \\
      -p log-shipper,wait-for --set wait-for.host=db.shop.svc --to web.yaml --yes

  # A CronJob with its command after --
  kubectl pattern new cronjob report --image busybox:1.37.0 --schedule '0 3 * * *' --yes -- date

  # Replay saved answers in CI (the wizard offers to save them)
  kubectl pattern new --values-file web.values.yaml --to web.yaml --yes

Values file (every key optional; flags win):
  workload: {kind: Deployment, name: web, namespace: shop, image: nginx:1.27.3, ports: [80],
             command: [nginx, -g, daemon off;], replicas: 2, schedule: '0 * * * *', service: true}
  patterns: {log-shipper: {}, wait-for: {host: db.shop.svc}}")]
pub struct NewCmd {
    /// Workload kind.
    #[arg(value_enum, value_name = "KIND")]
    kind: Option<NewKind>,
    /// Workload name (also the main container's name).
    #[arg(value_name = "NAME")]
    name: Option<String>,
    /// Namespace (default: none, i.e. kubectl's current namespace).
    #[arg(short = 'n', long)]
    namespace: Option<String>,
    /// Image of the main container.
    #[arg(long)]
    image: Option<String>,
    /// Container port of the main container (repeatable, or comma-separated).
    #[arg(long = "port", value_name = "PORT", value_delimiter = ',')]
    ports: Vec<u16>,
    /// Replicas (Deployment, StatefulSet; default 1).
    #[arg(long)]
    replicas: Option<u32>,
    /// Cron schedule (CronJob; default hourly, "0 * * * *").
    #[arg(long)]
    schedule: Option<String>,
    /// Also write a Service for the container ports (headless for a StatefulSet).
    #[arg(long, overrides_with = "no_service")]
    service: bool,
    /// Write no Service (the default without a terminal).
    #[arg(long = "no-service")]
    no_service: bool,
    /// Patterns to add, in order (repeatable, or comma-separated; see `kubectl pattern list`).
    #[arg(
        short = 'p',
        long = "pattern",
        value_name = "PATTERN",
        value_delimiter = ','
    )]
    patterns: Vec<String>,
    /// Set a pattern parameter: PATTERN.NAME=VALUE, or NAME=VALUE (repeatable).
    #[arg(long = "set", value_name = "NAME=VALUE")]
    set: Vec<String>,
    /// YAML file of answers (workload: …, patterns: …), e.g. one the wizard saved.
    #[arg(long = "values-file", value_name = "FILE")]
    values_file: Option<PathBuf>,
    /// Where the manifest goes: a file, - for stdout (the default without a terminal), or
    /// `cluster` (server-side apply in the current kubeconfig context).
    #[arg(long = "to", value_name = "FILE")]
    to: Option<String>,
    #[command(flatten)]
    connect: super::target::ConnectArgs,
    /// Replace the --to file (and the --save-values file) when it exists.
    #[arg(long)]
    overwrite: bool,
    /// Also save the answers as a values file for --values-file.
    #[arg(long = "save-values", value_name = "FILE")]
    save_values: Option<PathBuf>,
    /// Ask nothing: accept the defaults for every answer not given.
    #[arg(short = 'y', long)]
    yes: bool,
    /// Ask even when stdin is not a terminal (answers are read from the terminal).
    #[arg(short = 'i', long = "interactive", conflicts_with_all = ["yes", "no_input"])]
    interactive: bool,
    /// Never ask (like --yes).
    #[arg(long = "no-input")]
    no_input: bool,
    #[command(flatten)]
    target: TargetArgs,
    #[command(flatten)]
    templates: TemplateArgs,
    /// Command of the main container, after -- (default: the image's entrypoint).
    #[arg(last = true, value_name = "COMMAND")]
    command: Vec<String>,
}

fn usage<T>(what: &str, result: Result<T, String>) -> Result<T> {
    result.map_err(|e| UsageError(format!("{what}: {e}")).into())
}

/// Answers still open, named by the flag that gives them.
#[derive(Default)]
struct Missing(Vec<String>);

/// A text answer: the given one (checked), else the person's, else the default.
fn text_answer(
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

impl NewCmd {
    pub fn run(self) -> Result<ExitCode> {
        let sources = self.templates.sources()?;
        let catalogue = crate::catalogue::load(&sources)?;
        let file = match &self.values_file {
            Some(path) => ValuesFile::read(path)?,
            None => ValuesFile::default(),
        };
        let mut prompter = prompt::for_run(self.interactive, self.yes || self.no_input)?;
        let p = prompter.as_mut();
        let mut missing = Missing::default();
        if p.interactive() {
            let bold = crate::ui::BOLD;
            p.show(&format!(
                "{bold}New workload{bold:#} (Ctrl-C at any step: nothing is written)\n"
            ))?;
        }
        let workload = file.workload.clone().unwrap_or_default();
        let answers = self.ask_workload(&workload, p, &mut missing)?;
        let ids = self.ask_patterns(&catalogue, &file, p)?;
        let mut request = Request::for_patterns(&ids, None)?;
        request.values_file(&file);
        request.set_flags(&self.set)?;
        request.target = self.target.target()?;
        request.sources = sources;
        self.ask_params(&catalogue, &mut request, p, &mut missing)?;
        let Some(answers) = answers.filter(|_| missing.0.is_empty()) else {
            return Err(UsageError(format!(
                "missing answers: {}; give them as flags or in --values-file, or run on a terminal to be asked",
                missing.0.join(", ")
            ))
            .into());
        };

        let requests = match request.resolve(&catalogue)? {
            Resolution::Resolved(requests) => requests,
            Resolution::NeedsInput(missing) => return Err(missing.into()),
        };
        let mut object = build::workload(&answers);
        let action = AddAction {
            requests,
            options: request.merge_options(),
        };
        let result = action.run(&mut object).with_context(|| {
            format!(
                "cannot add the patterns to {}/{}",
                answers.kind.arg(),
                answers.name
            )
        })?;
        for w in &result.warnings {
            crate::ui::warn(w);
        }
        let mut text = yaml::to_string(&object).map_err(|e| anyhow::anyhow!(e.message))?;
        if let Some(service) = build::service(&answers) {
            text.push_str("---\n");
            text.push_str(&yaml::to_string(&service).map_err(|e| anyhow::anyhow!(e.message))?);
        }

        if p.interactive() {
            let bold = crate::ui::BOLD;
            p.show(&format!(
                "\n{bold}Preview{bold:#}\n{}\n",
                crate::ui::highlight::yaml(&text)
            ))?;
            if p.confirm("Write this manifest?", true)? == Some(false) {
                anyhow::bail!("cancelled: nothing was written");
            }
        }
        let to = destination::manifest(p, self.to.as_deref(), &answers.name, self.overwrite)?;
        let save = destination::values(
            p,
            self.save_values.as_deref(),
            &answers.name,
            self.overwrite,
            &to,
        )?;

        p.finish();
        let params = request::non_default_params(&action.requests);
        if let Some(path) = &save {
            let values = answers::values_file(&answers, &ids, &params);
            let body = values.to_yaml().map_err(|e| anyhow::anyhow!(e.message))?;
            let header = "# Answers for `kubectl pattern new --values-file FILE --yes`\n";
            destination::write_file(
                path,
                &format!("{header}{body}"),
                self.overwrite || p.interactive(),
            )?;
        }
        match &to {
            Destination::Stdout => crate::ui::stdout(&text)?,
            Destination::File(path) => {
                destination::write_file(path, &text, self.overwrite || p.interactive())?
            }
            Destination::Cluster => {
                let mut objects = vec![object.clone()];
                objects.extend(build::service(&answers));
                let lines =
                    super::live::apply_objects(&self.connect, &objects, "kubectl-pattern", false)?;
                for line in lines {
                    crate::ui::stdout(&format!("{line}\n"))?;
                }
            }
        }
        if p.interactive() {
            let mut extra = self.extra_flags();
            if matches!(to, Destination::File(_)) {
                extra.0.push("--overwrite".into());
            }
            summary::print(p, &answers, &ids, &params, &extra, &to, save.as_deref())?;
        }
        Ok(ExitCode::SUCCESS)
    }

    /// Flags that change the result but are not answers.
    fn extra_flags(&self) -> answers::ExtraFlags {
        let mut out = Vec::new();
        for dir in &self.templates.template_dirs {
            out.extend(["--template-dir".into(), dir.display().to_string()]);
        }
        for plugin in &self.templates.plugins {
            out.extend(["--plugin".into(), plugin.display().to_string()]);
        }
        if let Some(v) = &self.target.kube_version {
            out.extend(["--kube-version".into(), v.clone()]);
        }
        if self.target.sidecar_mode != SidecarMode::Auto {
            out.extend([
                "--sidecar-mode".into(),
                self.target.sidecar_mode.as_str().to_string(),
            ]);
        }
        answers::ExtraFlags(out)
    }

    /// Kind, name, namespace, container, replicas or schedule, Service. `None` when the name
    /// or image is missing (recorded in `missing`).
    fn ask_workload(
        &self,
        file: &WorkloadValues,
        p: &mut dyn Prompter,
        missing: &mut Missing,
    ) -> Result<Option<Answers>> {
        let kind = match (self.kind, &file.kind) {
            (Some(k), _) => k,
            (None, Some(text)) => usage("values file workload.kind", NewKind::parse(text))?,
            (None, None) => {
                let items: Vec<String> = NewKind::ALL
                    .iter()
                    .map(|k| k.workload().as_str().to_string())
                    .collect();
                let at = p.select("Workload kind", &items, 0)?.unwrap_or(0);
                NewKind::ALL[at]
            }
        };
        let check_name = |s: &str| build::check_name(kind, s);
        let name = text_answer(
            p,
            self.name.clone().or_else(|| file.name.clone()),
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
            missing
                .0
                .push(format!("NAME (e.g. `new {} web`)", kind.arg()));
        }
        let namespace = text_answer(
            p,
            self.namespace.clone().or_else(|| file.namespace.clone()),
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
            self.image.clone().or_else(|| file.image.clone()),
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
        let ports = match (self.ports.is_empty(), &file.ports) {
            (false, _) => usage(
                "--port",
                build::check_ports(&self.ports).map(|()| self.ports.clone()),
            )?,
            (true, Some(ports)) => usage(
                "values file workload.ports",
                build::check_ports(ports).map(|()| ports.clone()),
            )?,
            (true, None) => {
                let check = |s: &str| build::parse_ports(s).map(drop);
                let text = p.text(&TextQuestion {
                    prompt: "Container ports, comma-separated (empty: none)",
                    default: None,
                    optional: true,
                    secret: false,
                    validate: &check,
                })?;
                usage("ports", build::parse_ports(text.as_deref().unwrap_or("")))?
            }
        };
        let command = match (self.command.is_empty(), &file.command) {
            (false, _) => self.command.clone(),
            (true, Some(c)) => c.clone(),
            (true, None) => {
                let check = |s: &str| build::parse_command(s).map(drop);
                let text = p.text(&TextQuestion {
                    prompt: "Command (empty: the image's entrypoint)",
                    default: None,
                    optional: true,
                    secret: false,
                    validate: &check,
                })?;
                usage(
                    "command",
                    build::parse_command(text.as_deref().unwrap_or("")),
                )?
            }
        };
        let replicas = match (self.replicas, file.replicas) {
            _ if !kind.has_replicas() => build::DEFAULT_REPLICAS,
            (Some(n), _) | (None, Some(n)) => {
                usage("--replicas", build::parse_replicas(&n.to_string()))?
            }
            (None, None) => {
                let check = |s: &str| build::parse_replicas(s).map(drop);
                let text = p.text(&TextQuestion {
                    prompt: "Replicas",
                    default: Some(build::DEFAULT_REPLICAS.to_string()),
                    optional: false,
                    secret: false,
                    validate: &check,
                })?;
                match text {
                    Some(t) => usage("replicas", build::parse_replicas(&t))?,
                    None => build::DEFAULT_REPLICAS,
                }
            }
        };
        let schedule = if kind == NewKind::Cronjob {
            text_answer(
                p,
                self.schedule.clone().or_else(|| file.schedule.clone()),
                "--schedule",
                TextQuestion {
                    prompt: "Schedule (cron)",
                    default: Some(build::DEFAULT_SCHEDULE.into()),
                    optional: false,
                    secret: false,
                    validate: &build::check_schedule,
                },
            )?
            .unwrap_or_else(|| build::DEFAULT_SCHEDULE.into())
        } else {
            build::DEFAULT_SCHEDULE.into()
        };
        let flag = match (self.service, self.no_service) {
            (true, _) => Some(true),
            (_, true) => Some(false),
            _ => None,
        };
        let service = match flag.or(file.service) {
            _ if ports.is_empty() || !kind.can_have_service() => false,
            Some(s) => s,
            None => {
                let ports: Vec<String> = ports.iter().map(u16::to_string).collect();
                let prompt = format!("Add a Service for port {}?", ports.join(", "));
                p.confirm(&prompt, false)?.unwrap_or(false)
            }
        };
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
        }))
    }

    /// The patterns: -p, else the values file's, else a choice grouped by kind.
    fn ask_patterns(
        &self,
        catalogue: &Catalogue,
        file: &ValuesFile,
        p: &mut dyn Prompter,
    ) -> Result<Vec<String>> {
        if !self.patterns.is_empty() {
            return Ok(self.patterns.clone());
        }
        if !file.patterns.is_empty() {
            return Ok(file.patterns.keys().cloned().collect());
        }
        let patterns = catalogue.patterns();
        let width = patterns
            .iter()
            .map(|x| x.spec().id.len())
            .max()
            .unwrap_or(0);
        let items: Vec<String> = patterns
            .iter()
            .map(|x| {
                let s = x.spec();
                format!(
                    "{:<10} {:<width$}  {}",
                    s.kind,
                    s.id,
                    crate::ui::clean(&s.summary)
                )
            })
            .collect();
        let ids: Vec<String> = patterns.iter().map(|x| x.spec().id.clone()).collect();
        let chosen = p.multi_select("Patterns (space: select, enter: done)", &items, &ids)?;
        Ok(chosen
            .unwrap_or_default()
            .into_iter()
            .map(|i| patterns[i].spec().id.clone())
            .collect())
    }

    /// The parameters no flag or values file gives: every required one, and the optional ones
    /// when the person wants to change them; the answers join `request` as typed values.
    fn ask_params(
        &self,
        catalogue: &Catalogue,
        request: &mut Request,
        p: &mut dyn Prompter,
        missing: &mut Missing,
    ) -> Result<()> {
        for choice in request.patterns.clone() {
            let pattern = catalogue.get(&choice.id)?;
            let params = &pattern.spec().params;
            let given = request.input_for(&choice, |n| params.iter().any(|s| s.name == n));
            let open: Vec<_> = params
                .iter()
                .filter(|s| !given.given.iter().any(|(n, _)| *n == s.name))
                .collect();
            let mut answered = Vec::new();
            for spec in open.iter().filter(|s| s.required) {
                match ask_param(p, &choice.id, spec)? {
                    Some(value) => answered.push((*spec, value)),
                    None => missing
                        .0
                        .push(format!("--set {}.{}=…", choice.id, spec.name)),
                }
            }
            let optional: Vec<_> = open.iter().filter(|s| !s.required).collect();
            if !optional.is_empty() && p.interactive() {
                let prompt = format!(
                    "Change any of the {} optional parameters of {}?",
                    optional.len(),
                    choice.id
                );
                if p.confirm(&prompt, false)? == Some(true) {
                    for spec in optional {
                        if let Some(value) = ask_param(p, &choice.id, spec)? {
                            answered.push((*spec, value));
                        }
                    }
                }
            }
            for (spec, value) in answered {
                request.answer(&choice.instance, &spec.name, value);
            }
        }
        Ok(())
    }
}
