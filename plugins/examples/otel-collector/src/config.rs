//! The collector configuration, written as JSON (which the collector reads as YAML).

use kubectl_pattern_sdk::prelude::*;
use serde::Serialize;

/// The `exporter` parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ExporterKind {
    /// The collector's own log.
    Debug,
    /// OTLP over gRPC.
    Otlp,
    /// OTLP over HTTP.
    Otlphttp,
}

/// Where telemetry goes.
#[derive(Debug, Clone, PartialEq)]
pub enum Exporter {
    /// The collector's own log.
    Debug,
    /// An OTLP backend: exporter type (`otlp` or `otlphttp`), endpoint, without TLS.
    Otlp(&'static str, String, bool),
}

impl Exporter {
    /// From the `exporter`, `endpoint` and `insecure` parameters.
    pub fn from_params(p: &crate::Params) -> Result<Self, RenderError> {
        let kind = match p.exporter {
            ExporterKind::Debug => return Ok(Exporter::Debug),
            ExporterKind::Otlp => "otlp",
            ExporterKind::Otlphttp => "otlphttp",
        };
        let endpoint = crate::given(&p.endpoint).ok_or_else(|| {
            RenderError::InvalidParams(format!(
                "exporter {kind} needs endpoint: --set endpoint=HOST:PORT"
            ))
        })?;
        Ok(Exporter::Otlp(kind, endpoint.to_owned(), p.insecure))
    }

    fn name(&self) -> &'static str {
        match self {
            Exporter::Debug => "debug",
            Exporter::Otlp(kind, ..) => kind,
        }
    }

    fn config(&self) -> ExporterConfig<'_> {
        match self {
            Exporter::Debug => ExporterConfig::Debug { verbosity: "basic" },
            Exporter::Otlp(_, endpoint, insecure) => ExporterConfig::Otlp {
                endpoint,
                tls: Tls {
                    insecure: *insecure,
                },
            },
        }
    }
}

/// What the configuration depends on.
#[derive(Debug)]
pub struct Settings<'a> {
    /// service.name.
    pub service: &'a str,
    /// OTLP/gRPC receiver port.
    pub grpc: u16,
    /// OTLP/HTTP receiver port.
    pub http: u16,
    /// health_check port.
    pub health: u16,
    /// Main-container ports to scrape.
    pub targets: &'a [u16],
    /// Metrics path.
    pub metrics_path: &'a str,
    /// Scrape interval.
    pub interval: &'a str,
    /// Where telemetry goes.
    pub exporter: Exporter,
}

/// The whole collector configuration, as JSON text. Typed records serialize in one pass, in
/// the order declared here, without building a JSON tree first.
pub fn render(s: &Settings<'_>) -> Result<String, serde_json::Error> {
    let grpc = format!("localhost:{}", s.grpc);
    let http = format!("localhost:{}", s.http);
    let health = format!("${{env:POD_IP}}:{}", s.health);
    let targets: Vec<String> = s.targets.iter().map(|p| format!("localhost:{p}")).collect();
    let prometheus = (!s.targets.is_empty()).then(|| Prometheus {
        config: ScrapeConfig {
            scrape_configs: [Scrape {
                job_name: s.service,
                scrape_interval: s.interval,
                metrics_path: s.metrics_path,
                static_configs: [Targets { targets: &targets }],
            }],
        },
    });
    let exporter = [s.exporter.name()];
    let pipeline = |receivers: &'static [&'static str]| Pipeline {
        receivers,
        processors: PROCESSORS,
        exporters: &exporter,
    };
    let attribute = |key, value| Attribute {
        key,
        value,
        action: "upsert",
    };
    let config = Config {
        extensions: Extensions {
            health_check: Endpoint { endpoint: &health },
        },
        receivers: Receivers {
            otlp: Otlp {
                protocols: Protocols {
                    grpc: Endpoint { endpoint: &grpc },
                    http: Endpoint { endpoint: &http },
                },
            },
            prometheus,
        },
        processors: Processors {
            memory_limiter: MemoryLimiter {
                check_interval: "1s",
                limit_percentage: 80,
                spike_limit_percentage: 20,
            },
            resource: Resource {
                attributes: [
                    attribute("service.name", s.service),
                    attribute("k8s.pod.name", "${env:POD_NAME}"),
                    attribute("k8s.namespace.name", "${env:POD_NAMESPACE}"),
                ],
            },
            batch: Empty {},
        },
        exporters: [(s.exporter.name(), s.exporter.config())]
            .into_iter()
            .collect(),
        service: Service {
            extensions: &["health_check"],
            telemetry: Telemetry {
                metrics: Level { level: "none" },
            },
            pipelines: Pipelines {
                traces: pipeline(&["otlp"]),
                metrics: pipeline(if s.targets.is_empty() {
                    &["otlp"]
                } else {
                    &["otlp", "prometheus"]
                }),
                logs: pipeline(&["otlp"]),
            },
        },
    };
    kubectl_pattern_sdk::json::to_string(&config)
}

const PROCESSORS: &[&str] = &["memory_limiter", "resource", "batch"];

#[derive(Serialize)]
struct Config<'a> {
    extensions: Extensions<'a>,
    receivers: Receivers<'a>,
    processors: Processors<'a>,
    exporters: std::collections::BTreeMap<&'a str, ExporterConfig<'a>>,
    service: Service<'a>,
}

#[derive(Serialize)]
struct Extensions<'a> {
    health_check: Endpoint<'a>,
}

#[derive(Serialize)]
struct Endpoint<'a> {
    endpoint: &'a str,
}

#[derive(Serialize)]
struct Receivers<'a> {
    otlp: Otlp<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    prometheus: Option<Prometheus<'a>>,
}

#[derive(Serialize)]
struct Otlp<'a> {
    protocols: Protocols<'a>,
}

#[derive(Serialize)]
struct Protocols<'a> {
    grpc: Endpoint<'a>,
    http: Endpoint<'a>,
}

#[derive(Serialize)]
struct Prometheus<'a> {
    config: ScrapeConfig<'a>,
}

#[derive(Serialize)]
struct ScrapeConfig<'a> {
    scrape_configs: [Scrape<'a>; 1],
}

#[derive(Serialize)]
struct Scrape<'a> {
    job_name: &'a str,
    scrape_interval: &'a str,
    metrics_path: &'a str,
    static_configs: [Targets<'a>; 1],
}

#[derive(Serialize)]
struct Targets<'a> {
    targets: &'a [String],
}

#[derive(Serialize)]
struct Processors<'a> {
    memory_limiter: MemoryLimiter,
    resource: Resource<'a>,
    batch: Empty,
}

#[derive(Serialize)]
struct MemoryLimiter {
    check_interval: &'static str,
    limit_percentage: u8,
    spike_limit_percentage: u8,
}

#[derive(Serialize)]
struct Resource<'a> {
    attributes: [Attribute<'a>; 3],
}

#[derive(Serialize)]
struct Attribute<'a> {
    key: &'static str,
    value: &'a str,
    action: &'static str,
}

#[derive(Serialize)]
struct Empty {}

#[derive(Serialize)]
#[serde(untagged)]
enum ExporterConfig<'a> {
    Debug { verbosity: &'static str },
    Otlp { endpoint: &'a str, tls: Tls },
}

#[derive(Serialize)]
struct Tls {
    insecure: bool,
}

#[derive(Serialize)]
struct Service<'a> {
    extensions: &'static [&'static str],
    telemetry: Telemetry,
    pipelines: Pipelines<'a>,
}

#[derive(Serialize)]
struct Telemetry {
    metrics: Level,
}

#[derive(Serialize)]
struct Level {
    level: &'static str,
}

#[derive(Serialize)]
struct Pipelines<'a> {
    traces: Pipeline<'a>,
    metrics: Pipeline<'a>,
    logs: Pipeline<'a>,
}

#[derive(Serialize)]
struct Pipeline<'a> {
    receivers: &'static [&'static str],
    processors: &'static [&'static str],
    exporters: &'a [&'static str],
}
