//! `inject`: exports a pattern as objects that make the cluster inject it into every matching
//! pod by itself (a MutatingAdmissionPolicy + binding, or a Kyverno ClusterPolicy).

use std::process::ExitCode;

use anyhow::{Context as _, Result};
use clap::{Args, ValueEnum};
use serde_json::{Value, json};

use crate::engine::inject::{self, InjectOptions, check, kyverno, map};
use crate::engine::merge::MergeOptions;
use crate::engine::pattern::TargetInfo;
use crate::engine::process::{Action, AddAction, PatternRequest};
use crate::engine::selector;

use super::UsageError;
use super::args::PatternArgs;
use crate::request::Resolution;

/// The admission engine that does the injecting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Engine {
    /// Kubernetes' own MutatingAdmissionPolicy (GA in 1.36; no extra software).
    Map,
    /// A Kyverno ClusterPolicy (for clusters that run Kyverno).
    Kyverno,
}

/// admissionregistration.k8s.io versions of MutatingAdmissionPolicy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ApiVersion {
    /// Kubernetes >= 1.36.
    V1,
    /// Kubernetes 1.34 and 1.35 (the MutatingAdmissionPolicy feature gate and API on).
    V1beta1,
}

/// What a failing policy expression does to the pod's creation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FailurePolicy {
    /// Reject the pod.
    #[value(name = "Fail", alias = "fail")]
    Fail,
    /// Create the pod without the helpers.
    #[value(name = "Ignore", alias = "ignore")]
    Ignore,
}

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum InjectOutput {
    /// A YAML stream.
    Yaml,
    /// JSON (a List when there are several objects).
    Json,
}

/// Export a pattern as an injector: objects that make the cluster add the pattern's helpers to
/// every new pod matching a label selector, by itself, at admission time.
///
/// The pattern is rendered once, with the given parameters, for a pod carrying the selector's
/// KEY=VALUE labels, and merged into it; what the merge added becomes the mutation. Pods that
/// already carry the helpers, pods labelled or annotated pattern.kubectl.io/inject=false, and
/// pods where a helper's name, volume, port, mount path or env var is taken are left alone.
/// The pattern's mounts and env go to the container named by --container (pods without it are
/// left alone), or else to the pod's first container.
///
/// The objects are printed (apply them with kubectl apply -f -), or applied with --apply.
#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  # Every new pod labelled app=web gets the Fluent Bit log
  # shipper (Kubernetes >= 1.36)
  kubectl pattern inject log-shipper -l app=web \\
      | kubectl apply -f -

  # Only in namespaces labelled team=shop, mounts and env
  # on the container named web
  kubectl pattern inject prometheus-exporter \\
      -l 'tier in (front,api)' \\
      --namespace-selector team=shop -c web

  # Kubernetes 1.34/1.35 (beta API), or a cluster that
  # runs Kyverno
  kubectl pattern inject log-shipper -l app=web \\
      --api-version v1beta1
  kubectl pattern inject redis-proxy -l app=shop \\
      --set servers=redis.cache.svc:6379 --engine kyverno

  # Apply directly (server-side apply in the current
  # context), then check it with a server dry run of a pod
  # the binding selects; on a denial or a difference it is
  # removed again
  kubectl pattern inject log-shipper -l app=web --apply
  kubectl pattern inject log-shipper -l app=web --apply \\
      --verify-with pod.yaml

  # Remove the injector (pods already created keep their
  # helpers)
  kubectl delete mutatingadmissionpolicy \\
      kubectl-pattern-log-shipper
  kubectl delete mutatingadmissionpolicybinding \\
      kubectl-pattern-log-shipper")]
pub struct InjectCmd {
    /// The pattern id (see `kubectl pattern list`).
    #[arg(value_name = "PATTERN")]
    pattern: String,
    /// Label selector of the pods to inject (kubectl syntax: app=web,tier!=db,env in (a,b)).
    // `--select`, the first spelling, stays as a hidden alias: scripts keep working.
    #[arg(
        short = 'l',
        long = "selector",
        alias = "select",
        value_name = "SELECTOR"
    )]
    select: String,
    /// Label selector of the namespaces (default: every namespace but kube-system, kube-public
    /// and kube-node-lease).
    #[arg(
        long = "namespace-selector",
        alias = "namespace-select",
        value_name = "SELECTOR"
    )]
    namespace_select: Option<String>,
    /// The admission engine.
    #[arg(long, value_enum, default_value = "map")]
    engine: Engine,
    /// API version of the MutatingAdmissionPolicy objects (--engine map).
    #[arg(long, value_enum)]
    api_version: Option<ApiVersion>,
    /// What happens to a pod when the policy cannot be evaluated or its patch cannot be applied
    /// (--engine map). Default: Fail with --apply (the injector is verified), else Ignore.
    #[arg(long, value_enum)]
    failure_policy: Option<FailurePolicy>,
    #[command(flatten)]
    params: PatternArgs,
    /// Output format.
    #[arg(short = 'o', long = "output", value_enum, default_value = "yaml")]
    output: InjectOutput,
    /// Apply the objects to the cluster (server-side apply) instead of printing them.
    #[arg(long)]
    apply: bool,
    /// With --apply: server (admission runs, nothing is stored) or none.
    #[arg(long, value_enum, default_value = "none", requires = "apply")]
    dry_run: InjectDryRun,
    /// With --apply: the field manager.
    #[arg(long, default_value = "kubectl-pattern", requires = "apply")]
    field_manager: String,
    /// With --apply: after applying, create a pod the binding selects in a server dry run and
    /// compare it with what `add` makes of it; remove the injector on a denial or a difference.
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set, requires = "apply")]
    verify: bool,
    /// With --apply: the pod to verify with (a YAML or JSON Pod; its namespace, or the
    /// context's). Default: a pod with the selector's labels and one app container.
    #[arg(long, value_name = "FILE", requires = "apply")]
    verify_with: Option<std::path::PathBuf>,
    #[command(flatten)]
    connect: super::target::ConnectArgs,
}

/// `--dry-run` values of `inject --apply`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum InjectDryRun {
    /// Store the objects.
    None,
    /// Let the API server check them and store nothing.
    Server,
}

/// The exported objects and the notes for the report.
#[derive(Debug, Clone, PartialEq)]
pub struct Exported {
    /// The objects to create in the cluster, in order.
    pub objects: Vec<Value>,
    /// Warnings of the pattern and the merge.
    pub warnings: Vec<String>,
}

impl InjectCmd {
    fn options(&self) -> Result<InjectOptions> {
        let usage = |e: selector::SelectorError| UsageError(e.to_string());
        if self.select.trim().is_empty() {
            return Err(UsageError(
                "-l/--selector is empty: it would inject every pod of every selected namespace; give a label selector such as app=web".into(),
            )
            .into());
        }
        if self.engine == Engine::Kyverno
            && (self.api_version.is_some() || self.failure_policy.is_some())
        {
            return Err(UsageError(
                "--api-version and --failure-policy are for --engine map; Kyverno's ClusterPolicy is kyverno.io/v1".into(),
            )
            .into());
        }
        Ok(InjectOptions {
            selector: selector::parse(&self.select).map_err(usage)?,
            namespace_selector: self
                .namespace_select
                .as_deref()
                .map(selector::parse)
                .transpose()
                .map_err(usage)?,
            container: self.params.container.clone(),
            api_version: match self.api_version.unwrap_or(ApiVersion::V1) {
                ApiVersion::V1 => "v1",
                ApiVersion::V1beta1 => "v1beta1",
            }
            .into(),
            failure_policy: match self.failure_policy.unwrap_or(self.default_failure_policy()) {
                FailurePolicy::Fail => "Fail",
                FailurePolicy::Ignore => "Ignore",
            }
            .into(),
        })
    }

    /// True when the applied injector is checked with a dry-run pod.
    fn verified(&self) -> bool {
        self.apply && self.verify && self.dry_run == InjectDryRun::None
    }

    /// `Fail` only behind the verification: an unverified policy that fails would block every
    /// pod it selects.
    fn default_failure_policy(&self) -> FailurePolicy {
        if self.verified() {
            FailurePolicy::Fail
        } else {
            FailurePolicy::Ignore
        }
    }

    /// The resolved pattern request and the target it renders for.
    fn resolved(&self) -> Result<(PatternRequest, TargetInfo)> {
        if let Some(position) = &self.params.position {
            // An admission policy sees one pod at a time, without its tracking record.
            return Err(UsageError(format!(
                "--position {position} is for add; an injector puts helpers where the pattern says"
            ))
            .into());
        }
        let request = self.params.request(std::slice::from_ref(&self.pattern))?;
        let catalogue = crate::catalogue::load(&request.sources)?;
        let requests = match request.resolve(&catalogue)? {
            Resolution::Resolved(requests) => requests,
            Resolution::NeedsInput(missing) => return Err(missing.into()),
        };
        let request = requests
            .into_iter()
            .next()
            .context("no pattern request was resolved")?;
        Ok((request, self.params.target.target()?))
    }

    /// The pod to verify with and what `add` makes of it.
    fn check_pod(&self, options: &InjectOptions) -> Result<(Value, Value)> {
        let pod = match &self.verify_with {
            Some(path) => read_pod(path)?,
            None => check::sample_pod(
                &selector::required_labels(&options.selector),
                options.container.as_deref(),
            ),
        };
        let (request, target) = self.resolved()?;
        let add = AddAction {
            requests: vec![request],
            options: MergeOptions {
                main_container: options.container.clone(),
                target,
                ..MergeOptions::default()
            },
        };
        let mut expected = pod.clone();
        add.run(&mut expected).with_context(|| {
            format!(
                "cannot add pattern {} to the pod to verify with",
                self.pattern
            )
        })?;
        if self.engine == Engine::Kyverno {
            // Kyverno's ClusterPolicy does not write the tracking annotation.
            let key = crate::engine::tracking::TRACKING_ANNOTATION;
            match pod["metadata"]["annotations"].get(key) {
                Some(old) => expected["metadata"]["annotations"][key] = old.clone(),
                None => {
                    if let Some(a) = expected["metadata"]["annotations"].as_object_mut() {
                        a.remove(key);
                    }
                }
            }
        }
        Ok((pod, expected))
    }

    /// The objects that make the cluster inject the pattern (the seam for applying them to a
    /// cluster: this prints them, live mode applies them).
    pub fn objects(&self) -> Result<Exported> {
        let options = self.options()?;
        let (request, target) = self.resolved()?;
        let labels = selector::required_labels(&options.selector);
        let injection = inject::derive(&request, &target, options.container.as_deref(), &labels)
            .with_context(|| format!("cannot export pattern {} as an injector", self.pattern))?;
        let objects = match self.engine {
            Engine::Map => map::objects(&injection, &options),
            Engine::Kyverno => vec![kyverno::cluster_policy(&injection, &options)],
        };
        Ok(Exported {
            objects,
            warnings: injection
                .warnings
                .iter()
                .map(|w| format!("{}: {w}", injection.instance))
                .collect(),
        })
    }

    /// Prints or applies the injector objects.
    pub fn run(self) -> Result<ExitCode> {
        let exported = self.objects()?;
        if self.engine == Engine::Map && self.failure_policy.is_none() && !self.verified() {
            crate::ui::warn(
                "failurePolicy Ignore: a pod the policy cannot mutate is created without the helpers, silently; --apply verifies the injector and then uses Fail",
            );
        }
        if self.verify_with.is_some() && !self.verified() {
            return Err(UsageError(
                "--verify-with needs the verification: drop --verify=false and --dry-run=server"
                    .into(),
            )
            .into());
        }
        if self.apply {
            let dry_run = self.dry_run == InjectDryRun::Server;
            if dry_run {
                crate::ui::warn(
                    "a server dry run of admission policies does not evaluate them: no pod was checked; run --apply without --dry-run to apply and verify with a dry-run pod (removed again on a denial)",
                );
            }
            let check = if self.verified() {
                Some(self.check_pod(&self.options()?)?)
            } else {
                None
            };
            let lines = super::live::apply_injector(
                &self.connect,
                &exported.objects,
                &self.field_manager,
                dry_run,
                check,
            )?;
            for w in &exported.warnings {
                crate::ui::warn(w);
            }
            crate::ui::stdout(&lines.iter().map(|l| format!("{l}\n")).collect::<String>())?;
            return Ok(ExitCode::SUCCESS);
        }
        let text = match self.output {
            InjectOutput::Yaml => exported
                .objects
                .iter()
                .map(crate::engine::yaml::to_string)
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| anyhow::anyhow!("cannot write YAML: {}", e.message))?
                .join("---\n"),
            InjectOutput::Json => {
                let value = match exported.objects.as_slice() {
                    [one] => one.clone(),
                    many => json!({"apiVersion": "v1", "kind": "List", "items": many}),
                };
                format!("{}\n", serde_json::to_string_pretty(&value)?)
            }
        };
        crate::ui::stdout(&text)?;
        for w in &exported.warnings {
            crate::ui::warn(w);
        }
        Ok(ExitCode::SUCCESS)
    }
}

/// Reads the Pod of `--verify-with`.
fn read_pod(path: &std::path::Path) -> Result<Value> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("--verify-with {}: cannot read the file", path.display()))?;
    let pod: Value = crate::engine::yaml::from_str(&text).map_err(|e| {
        UsageError(format!(
            "--verify-with {}: not YAML or JSON: {}",
            path.display(),
            e.message
        ))
    })?;
    if pod["kind"] != "Pod" {
        return Err(UsageError(format!(
            "--verify-with {}: not a Pod (kind {}); give a Pod manifest such as `kubectl run x --image=y --dry-run=client -o yaml` prints",
            path.display(),
            pod["kind"]
        ))
        .into());
    }
    Ok(pod)
}
