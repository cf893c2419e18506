//! `otel-collector`: an OpenTelemetry Collector sidecar configured from the workload itself:
//! the service name comes from its labels, the Prometheus scrape targets from the main
//! container's ports, and the whole configuration travels in an env var (no ConfigMap).

use kubectl_pattern_sdk::prelude::*;

mod config;

/// The sidecar's user and group in the collector-contrib image.
const COLLECTOR_UID: i64 = 10001;

struct OtelCollector;

/// The parameters, as `describe` declares them (validated by the host, defaults filled in).
#[derive(Debug, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Params {
    /// The collector image.
    pub image: String,
    /// service.name, when given.
    pub service_name: Option<String>,
    /// Where telemetry goes.
    pub exporter: config::ExporterKind,
    /// The backend, for otlp and otlphttp.
    pub endpoint: Option<String>,
    /// Without TLS.
    pub insecure: bool,
    /// Ports to scrape, when given.
    #[serde(default)]
    pub scrape_ports: Vec<u16>,
    /// The metrics path, when given.
    pub metrics_path: Option<String>,
    /// How often to scrape.
    pub scrape_interval: String,
    /// OTLP/gRPC receiver port.
    pub otlp_grpc_port: u16,
    /// OTLP/HTTP receiver port.
    pub otlp_http_port: u16,
    /// Health-check port.
    pub health_port: u16,
    /// Set OTEL_* on the main container.
    pub set_app_env: bool,
}

/// An optional text parameter, empty text counting as absent.
fn given(value: &Option<String>) -> Option<&str> {
    value.as_deref().filter(|v| !v.is_empty())
}

impl Pattern for OtelCollector {
    type Params = Params;

    fn describe() -> PatternInfo {
        PatternInfo::new(
            "otel-collector",
            PatternKind::Sidecar,
            "1.0.0",
            "Receive the app's traces, metrics and logs and scrape its Prometheus ports with an OpenTelemetry Collector",
        )
        .docs(DESCRIPTION, USE_WHEN, AVOID_WHEN, DIAGRAM)
        .param(
            Param::image("image", "OpenTelemetry Collector (contrib) image, pinned.")
                .default("otel/opentelemetry-collector-contrib:0.115.1"),
        )
        .param(Param::string(
            "serviceName",
            "service.name of all telemetry (default: label app.kubernetes.io/name, else app, else the object's name).",
        ))
        .param(
            Param::enumeration(
                "exporter",
                "Where telemetry goes: debug (the sidecar's log), otlp (gRPC) or otlphttp; otlp and otlphttp need endpoint.",
                ["debug", "otlp", "otlphttp"],
            )
            .default("debug"),
        )
        .param(
            Param::string("endpoint", "Backend endpoint: host:port for otlp, a URL for otlphttp.")
                .pattern(r"^[^\s]+$"),
        )
        .param(Param::bool("insecure", "Send to the backend without TLS.").default(false))
        .param(Param::list(
            "scrapePorts",
            "Main-container ports to scrape (default: its ports named *metrics* or *prom*, else the prometheus.io/port annotation).",
            ParamType::Port,
        ))
        .param(
            Param::string("metricsPath", "HTTP path of the Prometheus metrics (default: the prometheus.io/path annotation, else /metrics).")
                .pattern(r"^/[^\s]*$"),
        )
        .param(Param::duration("scrapeInterval", "How often to scrape.").default("30s"))
        .param(Param::port("otlpGrpcPort", "OTLP/gRPC receiver port (localhost only).").default(4317))
        .param(Param::port("otlpHttpPort", "OTLP/HTTP receiver port (localhost only).").default(4318))
        .param(Param::port("healthPort", "Health-check port probed by the kubelet.").default(13133))
        .param(
            Param::bool("setAppEnv", "Set OTEL_SERVICE_NAME and OTEL_EXPORTER_OTLP_ENDPOINT on the main container.")
                .default(true),
        )
        .resource_params("50m", "500m", "64Mi", "256Mi")
        .example("exporter", "otlp")
        .example("endpoint", "tempo.observability.svc:4317")
    }

    fn render(req: Request<Params>) -> Result<Contribution, RenderError> {
        let p = req.params();
        let view = req.view();
        let main = req.require_main_container()?;
        let service = match given(&p.service_name) {
            Some(name) => name.to_owned(),
            None => view.app_name().to_owned(),
        };
        if service.is_empty() {
            return Err(RenderError::InvalidParams(
                "the workload has no name nor app label: --set serviceName=NAME".into(),
            ));
        }
        let (grpc, http, health) = (p.otlp_grpc_port, p.otlp_http_port, p.health_port);
        check_ports_free(
            &view,
            &[
                ("otlpGrpcPort", grpc),
                ("otlpHttpPort", http),
                ("healthPort", health),
            ],
        )?;

        let mut contribution = Contribution::new();
        let targets = scrape_targets(&req, main)?;
        if targets.is_empty() {
            contribution.warn(format!(
                "no metrics port found on container {}: only OTLP is received (name a port *metrics*, \
                 annotate prometheus.io/port, or --set scrapePorts=PORT)",
                req.main_container()
            ));
        }
        let exporter = config::Exporter::from_params(p)?;
        let settings = config::Settings {
            service: &service,
            grpc,
            http,
            health,
            targets: &targets,
            metrics_path: metrics_path(&req),
            interval: &p.scrape_interval,
            exporter,
        };
        let collector_config = config::render(&settings);

        let collector = ContainerBuilder::new(req.instance(), &p.image)
            .args(["--config=env:OTELCOL_CONFIG"])
            .env("OTELCOL_CONFIG", collector_config)
            .env_field("POD_NAME", "metadata.name")
            .env_field("POD_NAMESPACE", "metadata.namespace")
            .env_field("POD_IP", "status.podIP")
            .env_json(json!({"name": "GOMEMLIMIT",
                "valueFrom": {"resourceFieldRef": {"resource": "limits.memory"}}}))
            .port("otlp-grpc", grpc)
            .port("otlp-http", http)
            .port("otel-health", health)
            .resources(req.resources())
            .hardened_as(COLLECTOR_UID)
            .liveness_probe(probe::http_get("/", "otel-health"))
            .readiness_probe(probe::http_get("/", "otel-health"));
        contribution.add_container(collector);

        if p.set_app_env {
            for (name, value) in [
                ("OTEL_SERVICE_NAME", service.clone()),
                (
                    "OTEL_EXPORTER_OTLP_ENDPOINT",
                    format!("http://localhost:{grpc}"),
                ),
            ] {
                if kubectl_pattern_sdk::container_env(main, name).is_some() {
                    contribution.warn(format!(
                        "{} already sets {name}: left as is",
                        req.main_container()
                    ));
                } else {
                    contribution.add_env_value(ContainerTarget::Main, name, value);
                }
            }
        }
        if !req.native_sidecars() {
            contribution.warn(
                "classic sidecar: telemetry sent before the collector is ready is lost; \
                 Kubernetes >= 1.29 starts native sidecars first",
            );
        }
        Ok(contribution)
    }
}

/// Refuses ports another container of the pod already uses (they share the network).
fn check_ports_free(view: &Workload<'_>, wanted: &[(&str, u16)]) -> Result<(), RenderError> {
    for c in view.containers().iter().chain(view.init_containers()) {
        let owner = c.get("name").and_then(Value::as_str).unwrap_or("?");
        for port in container_ports(c) {
            if let Some((param, _)) = wanted.iter().find(|(_, p)| *p == port.container_port) {
                return Err(RenderError::InvalidParams(format!(
                    "port {} is already used by container {owner}: --set {param}=ANOTHER_PORT",
                    port.container_port
                )));
            }
        }
    }
    Ok(())
}

/// The main container's ports to scrape, in order of preference: the `scrapePorts`
/// parameter, ports named like metrics, the `prometheus.io/port` annotation.
fn scrape_targets(req: &Request<Params>, main: &Value) -> Result<Vec<u16>, RenderError> {
    let listed = &req.params().scrape_ports;
    if !listed.is_empty() {
        return Ok(listed.clone());
    }
    let named: Vec<u16> = container_ports(main)
        .into_iter()
        .filter(|p| p.protocol == "TCP")
        .filter(|p| {
            p.name
                .as_deref()
                .is_some_and(|n| n.contains("metrics") || n.contains("prom"))
        })
        .map(|p| p.container_port)
        .collect();
    if !named.is_empty() {
        return Ok(named);
    }
    match req.view().annotation("prometheus.io/port") {
        Some(text) => text.trim().parse::<u16>().map(|p| vec![p]).map_err(|_| {
            RenderError::UnsupportedWorkload(format!(
                "annotation prometheus.io/port={text} is not a port"
            ))
        }),
        None => Ok(Vec::new()),
    }
}

fn metrics_path(req: &Request<Params>) -> &str {
    given(&req.params().metrics_path)
        .or_else(|| req.view().annotation("prometheus.io/path"))
        .unwrap_or("/metrics")
}

const DESCRIPTION: &str = "\
Adds an OpenTelemetry Collector (contrib distribution) next to the app. The app sends traces,
metrics and logs over OTLP to localhost (gRPC otlpGrpcPort, HTTP otlpHttpPort); the collector
also scrapes the main container's Prometheus metrics: its ports named *metrics* or *prom*, the
prometheus.io/port annotation, or scrapePorts. Every signal gets service.name (from the label
app.kubernetes.io/name, else app, else the object's name, or serviceName), k8s.pod.name and
k8s.namespace.name, goes through memory_limiter and batch, and is exported to the debug log or
an OTLP backend.

The configuration is generated from the workload and passed in the OTELCOL_CONFIG env var
(--config=env:OTELCOL_CONFIG): no ConfigMap to create or keep in sync. GOMEMLIMIT follows the
memory limit. The main container gets OTEL_SERVICE_NAME and OTEL_EXPORTER_OTLP_ENDPOINT unless
it sets them already (setAppEnv=false to skip).";

const USE_WHEN: &str = "\
- The app is instrumented with OpenTelemetry or exposes Prometheus metrics, and each pod should
  ship its own telemetry with pod identity attached.
- Metrics must be pushed (OTLP) from places no Prometheus server scrapes.";

const AVOID_WHEN: &str = "\
- A node-level (DaemonSet) or gateway collector already runs: point the app's OTLP exporter at
  it; one collector per node costs far less than one per pod.
- The cluster's Prometheus scrapes the pods directly: keep that and skip the sidecar.";

const DIAGRAM: &str = "\
+------------------------------ Pod ------------------------------+
|                                                                 |
|  +----------------+  OTLP localhost:4317  +------------------+  |
|  | main container |---------------------->|  otel-collector  |  |
|  |  :9090/metrics |<----------------------|  :13133 health   |  |
|  +----------------+   scrape (Prometheus) +---------+--------+  |
+-----------------------------------------------------|-----------+
                                                      v
                                     debug log or OTLP backend";

export_pattern!(OtelCollector);

#[cfg(test)]
mod tests;
