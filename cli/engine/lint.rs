//! Multi-container checks on a pod template, each with a stable rule id.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{Container, PodSpec};
use serde::Serialize;

use super::quantity;
use super::tracking::AppliedRecord;
use super::workload::WorkloadKind;

/// How serious a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Worth knowing.
    Info,
    /// Probably a mistake.
    Warning,
    /// Broken: the pod will be rejected or misbehave.
    Error,
}

impl Severity {
    /// The lower-case name (as in JSON reports).
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

/// A rule: stable id, short name, severity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Rule {
    /// Stable id (`MCP001`).
    pub id: &'static str,
    /// Short name (`port-clash`).
    pub name: &'static str,
    /// Severity.
    pub severity: Severity,
    /// One line on what it checks.
    pub summary: &'static str,
}

macro_rules! rules {
    ($($konst:ident = $id:literal, $name:literal, $sev:ident, $summary:literal;)*) => {
        $(#[doc = $summary] pub const $konst: Rule = Rule { id: $id, name: $name, severity: Severity::$sev, summary: $summary };)*
        /// Every rule, by id.
        pub const RULES: &[Rule] = &[$($konst),*];
    };
}

rules! {
    PORT_CLASH = "MCP001", "port-clash", Error, "two containers of the pod listen on the same port";
    DUPLICATE_NAME = "MCP002", "duplicate-container-name", Error, "two containers (or init containers) share a name";
    MOUNT_WITHOUT_VOLUME = "MCP003", "mount-without-volume", Error, "a volume mount names a volume the pod does not have";
    UNSHARED_VOLUME = "MCP004", "unshared-volume", Warning, "a shared emptyDir is mounted by no container, or only read-only, so nothing can fill it";
    UNPINNED_IMAGE = "MCP005", "unpinned-image", Warning, "an image has no tag, or the tag latest";
    MISSING_RESOURCES = "MCP006", "missing-resources", Warning, "a container has no CPU/memory request (nor a limit it defaults to), or no limit";
    INIT_DOMINATES = "MCP007", "init-request-dominates", Warning, "an init container's request sets the pod's effective request";
    CLASSIC_SIDECAR_IN_JOB = "MCP008", "classic-sidecar-in-job", Error, "a Job or CronJob has a long-running classic sidecar";
    WEB_AND_DATABASE = "MCP009", "web-and-database", Warning, "a web server and a database run in the same pod";
    INIT_PROBES = "MCP010", "init-container-probes", Error, "a classic init container has probes";
    PATTERN_DRIFT = "MCP011", "pattern-drift", Warning, "a part a pattern instance added (its record says so) is missing from the pod template";
}

/// One finding.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    /// The rule.
    pub rule: &'static str,
    /// The rule's name.
    pub name: &'static str,
    /// Severity.
    pub severity: Severity,
    /// The container concerned, if one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub container: Option<String>,
    /// What is wrong and what to do.
    pub message: String,
}

pub(crate) fn finding(rule: Rule, container: Option<&str>, message: String) -> Finding {
    Finding {
        rule: rule.id,
        name: rule.name,
        severity: rule.severity,
        container: container.map(str::to_string),
        message,
    }
}

fn is_native(c: &Container) -> bool {
    c.restart_policy.as_deref() == Some("Always")
}

const DATABASES: &[&str] = &[
    "postgres",
    "mysql",
    "mariadb",
    "mongo",
    "cassandra",
    "couchdb",
    "cockroach",
    "neo4j",
    "influxdb",
    "clickhouse",
    "redis",
    "valkey",
    "memcached",
    "elasticsearch",
    "opensearch",
    "mssql",
    "oracle/database",
];
const WEB_SERVERS: &[&str] = &[
    "nginx",
    "httpd",
    "apache",
    "caddy",
    "tomcat",
    "jetty",
    "wordpress",
    "php",
    "node",
    "gunicorn",
];

fn image_name(c: &Container) -> String {
    let image = c.image.as_deref().unwrap_or_default();
    let without_digest = image.split('@').next().unwrap_or_default();
    let last = without_digest.rsplit('/').next().unwrap_or_default();
    let repo = last.split(':').next().unwrap_or_default();
    let path = without_digest
        .rsplit_once(':')
        .filter(|(_, tag)| !tag.contains('/'))
        .map_or(without_digest, |(p, _)| p);
    format!("{path} {repo}")
}

/// The names of a StatefulSet's `volumeClaimTemplates`: volumes its pods get without a
/// `spec.volumes` entry (empty for other objects).
pub fn claim_templates(object: &serde_json::Value) -> Vec<String> {
    object
        .pointer("/spec/volumeClaimTemplates")
        .and_then(serde_json::Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|t| {
            t.pointer("/metadata/name")
                .and_then(serde_json::Value::as_str)
        })
        .map(str::to_string)
        .collect()
}

/// Runs every rule on a pod spec. `records` are the applied patterns (from the tracking
/// annotation): they tell helpers from app containers, and findings that only this tool's
/// helpers cause are not reported. `claims` are the volumes the workload provides besides
/// `spec.volumes` (a StatefulSet's volumeClaimTemplates, see [`claim_templates`]).
pub fn check(
    kind: WorkloadKind,
    spec: &PodSpec,
    records: &[AppliedRecord],
    claims: &[String],
) -> Vec<Finding> {
    let inits = spec.init_containers.as_deref().unwrap_or_default();
    let apps = &spec.containers;
    let pod = Pod {
        kind,
        inits,
        apps,
        volumes: spec.volumes.as_deref().unwrap_or_default(),
        claims,
        all: apps.iter().chain(inits).collect(),
        running: apps
            .iter()
            .chain(inits.iter().filter(|c| is_native(c)))
            .collect(),
        records,
    };
    let mut out = Vec::new();
    pod.duplicate_names(&mut out);
    pod.port_clashes(&mut out);
    pod.volumes(&mut out);
    for c in &pod.all {
        pod.container(c, &mut out);
    }
    out.extend(effective_requests(inits, apps, |name| pod.any_helper(name)));
    pod.classic_sidecars_in_jobs(&mut out);
    pod.web_and_database(&mut out);
    out
}

/// What the rules look at: the pod's containers in the groups the rules need.
struct Pod<'a> {
    kind: WorkloadKind,
    inits: &'a [Container],
    apps: &'a [Container],
    volumes: &'a [k8s_openapi::api::core::v1::Volume],
    /// Volumes from volumeClaimTemplates.
    claims: &'a [String],
    /// App and init containers.
    all: Vec<&'a Container>,
    /// App containers and native sidecars: what runs beside the app.
    running: Vec<&'a Container>,
    records: &'a [AppliedRecord],
}

impl Pod<'_> {
    /// A helper a pattern added as a long-running container.
    fn helper(&self, name: &str) -> bool {
        self.records
            .iter()
            .any(|r| r.containers.iter().any(|c| c == name))
    }

    /// A container a pattern added: a helper or an init container.
    fn any_helper(&self, name: &str) -> bool {
        self.records.iter().any(|r| r.helpers().any(|c| c == name))
    }

    fn duplicate_names(&self, out: &mut Vec<Finding>) {
        let mut names: BTreeMap<&str, usize> = BTreeMap::new();
        for c in &self.all {
            *names.entry(c.name.as_str()).or_default() += 1;
        }
        for (name, n) in names.into_iter().filter(|(_, n)| *n > 1) {
            out.push(finding(DUPLICATE_NAME, Some(name), format!("{n} containers are named {name:?}; names must be unique across containers and init containers")));
        }
    }

    fn port_clashes(&self, out: &mut Vec<Finding>) {
        let mut ports: BTreeMap<(i32, String), Vec<&str>> = BTreeMap::new();
        for c in &self.running {
            for p in c.ports.as_deref().unwrap_or_default() {
                let proto = p.protocol.clone().unwrap_or_else(|| "TCP".into());
                ports
                    .entry((p.container_port, proto))
                    .or_default()
                    .push(&c.name);
            }
        }
        for ((port, proto), users) in ports.into_iter().filter(|(_, u)| u.len() > 1) {
            out.push(finding(PORT_CLASH, Some(users[1]), format!("port {port}/{proto} is used by {}; containers in a pod share one network namespace, so only one can bind it", users.join(" and "))));
        }
    }

    fn volumes(&self, out: &mut Vec<Finding>) {
        // volume -> (container, read-only) for every mount
        let mut mounted_by: BTreeMap<&str, Vec<(&str, bool)>> = BTreeMap::new();
        for c in &self.all {
            for m in c.volume_mounts.as_deref().unwrap_or_default() {
                if !self.volumes.iter().any(|v| v.name == m.name) && !self.claims.contains(&m.name)
                {
                    out.push(finding(MOUNT_WITHOUT_VOLUME, Some(&c.name), format!("mount {:?} uses volume {:?}, which is not in spec.volumes; add the volume or fix the name", m.mount_path, m.name)));
                }
                mounted_by
                    .entry(m.name.as_str())
                    .or_default()
                    .push((&c.name, m.read_only == Some(true)));
            }
        }
        for v in self.volumes.iter().filter(|v| v.empty_dir.is_some()) {
            match mounted_by.get(v.name.as_str()) {
                None => out.push(finding(
                    UNSHARED_VOLUME,
                    None,
                    format!(
                        "emptyDir {:?} is not mounted by any container; remove it or mount it",
                        v.name
                    ),
                )),
                Some(users) if users.iter().all(|(_, ro)| *ro) => {
                    let names: Vec<&str> = users.iter().map(|(c, _)| *c).collect();
                    out.push(finding(UNSHARED_VOLUME, Some(names[0]), format!(
                        "emptyDir {:?} is only mounted read-only (by {}), so it stays empty; mount it writable in the container that produces the files (--container)",
                        v.name, names.join(", ")
                    )));
                }
                Some(_) => {}
            }
        }
    }

    /// The rules on one container: pinned image, resources, probes on init containers.
    fn container(&self, c: &Container, out: &mut Vec<Finding>) {
        let image = c.image.as_deref().unwrap_or_default();
        let last = image.rsplit('/').next().unwrap_or_default();
        let digest = image.contains("@sha256:");
        let tag = last
            .split_once(':')
            .map(|(_, t)| t.split('@').next().unwrap_or_default());
        if !digest && matches!(tag, None | Some("latest")) {
            let role = if self.helper(&c.name) {
                "helper image"
            } else {
                "image"
            };
            out.push(finding(UNPINNED_IMAGE, Some(&c.name), format!("{role} {image:?} is not pinned; use a version tag or a digest so every pod runs the same code")));
        }
        if let Some(message) = missing_resources(c) {
            out.push(finding(MISSING_RESOURCES, Some(&c.name), message));
        }
        if !is_native(c)
            && self.inits.iter().any(|i| i.name == c.name)
            && (c.liveness_probe.is_some()
                || c.readiness_probe.is_some()
                || c.startup_probe.is_some())
        {
            out.push(finding(INIT_PROBES, Some(&c.name), "init containers run to completion and cannot have probes (the API server rejects them); remove the probes or make it a native sidecar".into()));
        }
    }

    fn classic_sidecars_in_jobs(&self, out: &mut Vec<Finding>) {
        if !self.kind.runs_to_completion() {
            return;
        }
        for c in self.apps.iter().filter(|c| self.helper(&c.name)) {
            out.push(finding(CLASSIC_SIDECAR_IN_JOB, Some(&c.name), format!("helper {:?} is a classic container: it never exits, so the {} never completes; re-apply its pattern with native sidecars (Kubernetes >= 1.29)", c.name, self.kind.as_str())));
        }
    }

    fn web_and_database(&self, out: &mut Vec<Finding>) {
        // The tool's own helpers (a TLS proxy on 8443, a traffic splitter, a Redis proxy) are
        // neither the user's web server nor their database.
        let running: Vec<&&Container> = self
            .running
            .iter()
            .filter(|c| !self.helper(&c.name))
            .collect();
        let db = running
            .iter()
            .find(|c| DATABASES.iter().any(|d| image_name(c).contains(d)));
        let web = running.iter().find(|c| {
            let name = image_name(c);
            WEB_SERVERS.iter().any(|w| name.contains(w))
                || c.ports.as_deref().unwrap_or_default().iter().any(|p| {
                    matches!(p.container_port, 80 | 443 | 8080 | 8443 | 3000 | 8000)
                        || p.name.as_deref().is_some_and(|n| n.starts_with("http"))
                })
        });
        if let (Some(db), Some(web)) = (db, web)
            && db.name != web.name
        {
            out.push(finding(WEB_AND_DATABASE, Some(&db.name), format!("web server {:?} and database {:?} share a pod: they scale, restart and fail together; run the database in its own StatefulSet behind a Service", web.name, db.name)));
        }
    }
}

/// `resource`'s quantity in `c`'s requests (`limits: false`) or limits.
fn quantity_of<'a>(c: &'a Container, resource: &str, limits: bool) -> Option<&'a str> {
    let r = c.resources.as_ref()?;
    let map = if limits { &r.limits } else { &r.requests };
    map.as_ref()?.get(resource).map(|q| q.0.as_str())
}

/// MCP006's message for `c`, naming exactly what is missing: a request the container has
/// neither set nor inherits from its limit (a request left out defaults to the limit), and
/// limits.
fn missing_resources(c: &Container) -> Option<String> {
    let both = ["cpu", "memory"];
    let no_request: Vec<&str> = both
        .into_iter()
        .filter(|res| quantity_of(c, res, false).is_none() && quantity_of(c, res, true).is_none())
        .collect();
    let no_limit: Vec<&str> = both
        .into_iter()
        .filter(|res| quantity_of(c, res, true).is_none() && !no_request.contains(res))
        .collect();
    let mut parts = Vec::new();
    if !no_request.is_empty() {
        let what = no_request.join(" or ");
        parts.push(format!(
            "no {what} request (nor a {what} limit, which a request defaults to): the scheduler counts the container as needing no {what} and may place the pod on a node without room for it; set resources.requests.{}",
            no_request.join(" and resources.requests.")
        ));
    }
    if !no_limit.is_empty() {
        let what = no_limit.join(" or ");
        parts.push(format!(
            "no {what} limit: the container can take all the node's free {what}; set resources.limits.{}",
            no_limit.join(" and resources.limits.")
        ));
    }
    (!parts.is_empty()).then(|| parts.join("; "))
}

/// The effective-request rule: the pod's request per resource is
/// max(sum of app containers + native sidecars, max over init containers of (its request + the
/// native sidecars started before it)). A request left out defaults to the limit. Only the
/// user's init containers are reported: `helper(name)` tells the tool's own.
fn effective_requests(
    inits: &[Container],
    apps: &[Container],
    helper: impl Fn(&str) -> bool,
) -> Vec<Finding> {
    let request = |c: &Container, res: &str| {
        quantity_of(c, res, false)
            .or_else(|| quantity_of(c, res, true))
            .and_then(|q| quantity::parse(q).ok())
            .unwrap_or(0.0)
    };
    let mut out = Vec::new();
    for res in ["cpu", "memory"] {
        let fmt = |v: f64| {
            if res == "cpu" {
                quantity::format_cpu(v)
            } else {
                quantity::format_memory(v)
            }
        };
        let sidecars: f64 = inits
            .iter()
            .filter(|c| is_native(c))
            .map(|c| request(c, res))
            .sum();
        let running: f64 = apps.iter().map(|c| request(c, res)).sum::<f64>() + sidecars;
        let mut before = 0.0;
        let mut worst: Option<(&Container, f64)> = None;
        for c in inits {
            if is_native(c) {
                before += request(c, res);
                continue;
            }
            let need = request(c, res) + before;
            if !helper(&c.name) && worst.is_none_or(|(_, w)| need > w) {
                worst = Some((c, need));
            }
        }
        if let Some((c, need)) = worst.filter(|(_, need)| *need > running) {
            out.push(finding(INIT_DOMINATES, Some(&c.name), format!(
                "init container {:?} needs {} {res}, more than the app containers and native sidecars together ({}): the pod's effective {res} request is max({}, {}) = {}; keep init requests low",
                c.name, fmt(need), fmt(running), fmt(running), fmt(need), fmt(need)
            )));
        }
    }
    out
}
