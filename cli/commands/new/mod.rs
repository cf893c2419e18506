//! `new`: scaffolds a complete workload. On a terminal it is a wizard that asks for whatever
//! the flags and values file left open; without one (or with `--yes`) it takes the defaults and
//! reports every missing answer at once. The bare workload goes through the same `AddAction`
//! as `add`, so `new -p X` equals `add X` on the bare workload.

mod answers;
mod build;
mod destination;
mod fronts;
mod questions;
mod resources;
mod summary;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context as _, Result};
use clap::Args;

use crate::engine::catalogue::Catalogue;
use crate::engine::pattern::SidecarMode;
use crate::engine::process::{Action, AddAction};
use crate::engine::yaml;
use crate::ui::prompt::{self, Prompter};

use super::UsageError;
use super::args::{TargetArgs, TemplateArgs};
use super::ask::ask_param;
use crate::engine::kinds::WorkloadKind;
use crate::request::{self, Request, Resolution, ValuesFile};
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

  # A Deployment with a log shipper and a wait-for init
  # container, no questions
  kubectl pattern new deployment web -n shop \\
      --image nginx:1.27.3 --port 80 --service \\
      -p log-shipper,wait-for \\
      --set wait-for.host=db.shop.svc --to web.yaml --yes

  # The main container's resources (default: requests
  # cpu=100m,memory=128Mi, limits cpu=500m,memory=256Mi)
  kubectl pattern new deployment api --image api:1.4.2 \\
      --requests cpu=250m,memory=256Mi \\
      --limits cpu=1,memory=512Mi --yes

  # A CronJob with its command after --
  kubectl pattern new cronjob report --yes \\
      --image busybox:1.37.0 --schedule '0 3 * * *' \\
      -- date

  # Replay saved answers in CI (the wizard offers to save
  # them)
  kubectl pattern new --values-file web.values.yaml \\
      --to web.yaml --yes

Values file (every key optional; flags win):
  workload: {kind: Deployment, name: web, namespace: shop,
    image: nginx:1.27.3, ports: [80], replicas: 2,
    command: [nginx, -g, daemon off;], service: true,
    schedule: '0 * * * *',
    requests: {cpu: 100m, memory: 128Mi},
    limits: {cpu: 500m, memory: 256Mi}}
  patterns: {log-shipper: {}, wait-for: {host: db.shop.svc}}")]
pub struct NewCmd {
    /// Workload kind.
    #[arg(value_name = "KIND", value_parser = build::kind_parser())]
    kind: Option<WorkloadKind>,
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
    /// Resource requests of the main container, e.g. cpu=100m,memory=128Mi (none: no
    /// requests) [default: cpu=100m,memory=128Mi].
    #[arg(long, value_name = "NAME=QUANTITY,…")]
    requests: Option<String>,
    /// Resource limits of the main container, e.g. cpu=500m,memory=256Mi (none: no limits)
    /// [default: cpu=500m,memory=256Mi].
    #[arg(long, value_name = "NAME=QUANTITY,…")]
    limits: Option<String>,
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
    /// --to cluster: how to reach it (last: its heading would cover the flags after it).
    #[command(flatten)]
    connect: super::target::ConnectArgs,
    /// Command of the main container, after -- (default: the image's entrypoint).
    #[arg(last = true, value_name = "COMMAND")]
    command: Vec<String>,
}

/// What a run produced, for writing it.
struct Output<'a> {
    answers: &'a build::Answers,
    ids: &'a [String],
    params: &'a [request::SetParam],
    object: &'a serde_json::Value,
    service: Option<&'a serde_json::Value>,
    text: &'a str,
}

/// The workload with its patterns, and the manifest text (with the Service, if any).
fn manifest(answers: &build::Answers, action: &AddAction) -> Result<Manifest> {
    let bare = build::workload(answers);
    let mut object = bare.clone();
    let result = action.run(&mut object).with_context(|| {
        format!(
            "cannot add the patterns to {}/{}",
            build::scaffold(answers.kind).arg,
            answers.name
        )
    })?;
    for w in &result.warnings {
        crate::ui::warn(w);
    }
    let mut text = yaml::to_string(&object).map_err(|e| anyhow::anyhow!(e.message))?;
    let service = build::service(answers, &fronts::fronted(&bare, &object, action));
    if let Some(service) = &service {
        text.push_str("---\n");
        text.push_str(&yaml::to_string(service).map_err(|e| anyhow::anyhow!(e.message))?);
    }
    Ok(Manifest {
        object,
        service,
        text,
    })
}

/// The workload with its patterns, its Service (if any), and both as manifest text.
struct Manifest {
    object: serde_json::Value,
    service: Option<serde_json::Value>,
    text: String,
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
        let mut missing = questions::Missing::default();
        if p.interactive() {
            let bold = crate::ui::BOLD;
            p.show(&format!(
                "{bold}New workload{bold:#} (Ctrl-C at any step: nothing is written)\n"
            ))?;
        }
        let workload = file.workload.clone().unwrap_or_default();
        let answers = questions::workload(&self.given(), &workload, p, &mut missing)?;
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
        let action = AddAction {
            requests,
            options: request.merge_options(),
        };
        let Manifest {
            object,
            service,
            text,
        } = manifest(&answers, &action)?;
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
        let out = Output {
            answers: &answers,
            ids: &ids,
            params: &params,
            object: &object,
            service: service.as_ref(),
            text: &text,
        };
        self.write(p, &out, &to, save.as_deref())?;
        if p.interactive() {
            let mut extra = self.extra_flags();
            if matches!(to, Destination::File(_)) {
                extra.0.push("--overwrite".into());
            }
            summary::print(p, &answers, &ids, &params, &extra, &to, save.as_deref())?;
        }
        Ok(ExitCode::SUCCESS)
    }

    /// Writes the values file (when asked) and the manifest where it goes.
    fn write(
        &self,
        p: &dyn Prompter,
        out: &Output<'_>,
        to: &Destination,
        save: Option<&std::path::Path>,
    ) -> Result<()> {
        let replace = self.overwrite || p.interactive();
        if let Some(path) = save {
            let values = answers::values_file(out.answers, out.ids, out.params);
            let body = values.to_yaml().map_err(|e| anyhow::anyhow!(e.message))?;
            let header = "# Answers for `kubectl pattern new --values-file FILE --yes`\n";
            destination::write_file(path, &format!("{header}{body}"), replace)?;
        }
        match to {
            Destination::Stdout => crate::ui::stdout(out.text)?,
            Destination::File(path) => destination::write_file(path, out.text, replace)?,
            Destination::Cluster => {
                let mut objects = vec![out.object.clone()];
                objects.extend(out.service.cloned());
                // Applied whole as their own manager, the patterns' fields handed to theirs.
                let lines = super::live::apply_objects(
                    &self.connect,
                    &objects,
                    super::live::NEW_FIELD_MANAGER,
                    false,
                )?;
                for line in lines {
                    crate::ui::stdout(&format!("{line}\n"))?;
                }
            }
        }
        Ok(())
    }

    /// The workload answers given as flags.
    fn given(&self) -> questions::Given {
        questions::Given {
            kind: self.kind,
            name: self.name.clone(),
            namespace: self.namespace.clone(),
            image: self.image.clone(),
            ports: self.ports.clone(),
            command: self.command.clone(),
            replicas: self.replicas,
            schedule: self.schedule.clone(),
            service: match (self.service, self.no_service) {
                (true, _) => Some(true),
                (_, true) => Some(false),
                _ => None,
            },
            requests: self.requests.clone(),
            limits: self.limits.clone(),
        }
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
        missing: &mut questions::Missing,
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
