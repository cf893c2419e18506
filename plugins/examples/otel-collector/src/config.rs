//! The collector configuration, built as JSON (which the collector reads as YAML).

use kubectl_pattern_sdk::prelude::*;

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

    fn config(&self) -> Value {
        match self {
            Exporter::Debug => json!({"verbosity": "basic"}),
            Exporter::Otlp(_, endpoint, insecure) => {
                json!({"endpoint": endpoint, "tls": {"insecure": insecure}})
            }
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

/// The whole collector configuration.
pub fn render(s: &Settings<'_>) -> Value {
    let mut receivers = json!({
        "otlp": {"protocols": {
            "grpc": {"endpoint": format!("localhost:{}", s.grpc)},
            "http": {"endpoint": format!("localhost:{}", s.http)},
        }}
    });
    let mut metric_receivers = vec!["otlp"];
    if !s.targets.is_empty() {
        let targets: Vec<String> = s.targets.iter().map(|p| format!("localhost:{p}")).collect();
        receivers["prometheus"] = json!({"config": {"scrape_configs": [{
            "job_name": s.service,
            "scrape_interval": s.interval,
            "metrics_path": s.metrics_path,
            "static_configs": [{"targets": targets}],
        }]}});
        metric_receivers.push("prometheus");
    }
    let exporter = s.exporter.name();
    let processors = ["memory_limiter", "resource", "batch"];
    let pipeline = |receivers: &[&str]| json!({"receivers": receivers, "processors": processors, "exporters": [exporter]});
    json!({
        "extensions": {"health_check": {"endpoint": format!("${{env:POD_IP}}:{}", s.health)}},
        "receivers": receivers,
        "processors": {
            "memory_limiter": {"check_interval": "1s", "limit_percentage": 80, "spike_limit_percentage": 20},
            "resource": {"attributes": [
                {"key": "service.name", "value": s.service, "action": "upsert"},
                {"key": "k8s.pod.name", "value": "${env:POD_NAME}", "action": "upsert"},
                {"key": "k8s.namespace.name", "value": "${env:POD_NAMESPACE}", "action": "upsert"},
            ]},
            "batch": {},
        },
        "exporters": {exporter: s.exporter.config()},
        "service": {
            "extensions": ["health_check"],
            "telemetry": {"metrics": {"level": "none"}},
            "pipelines": {
                "traces": pipeline(&["otlp"]),
                "metrics": pipeline(&metric_receivers),
                "logs": pipeline(&["otlp"]),
            },
        },
    })
}
