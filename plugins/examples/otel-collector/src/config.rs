//! The collector configuration, written as YAML lines: it reaches the manifest as a literal
//! block (`|`) that reads like the collector's own configuration file. Values that come from
//! the workload or the parameters go through `yaml::scalar`, so each reads back as itself.

use std::fmt::Write as _;

use kubectl_pattern_sdk::prelude::*;
use kubectl_pattern_sdk::yaml::scalar;

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

    /// Its entry under `exporters:`.
    fn write(&self, y: &mut String) {
        let _ = match self {
            Exporter::Debug => writeln!(y, "  debug:\n    verbosity: basic"),
            Exporter::Otlp(kind, endpoint, insecure) => writeln!(
                y,
                "  {kind}:\n    endpoint: {}\n    tls:\n      insecure: {insecure}",
                scalar(endpoint)
            ),
        };
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

/// The whole collector configuration, as YAML text.
pub fn render(s: &Settings<'_>) -> String {
    let mut y = String::with_capacity(1536);
    let service = scalar(s.service);
    let _ = write!(
        y,
        "\
extensions:
  health_check:
    endpoint: ${{env:POD_IP}}:{health}
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: localhost:{grpc}
      http:
        endpoint: localhost:{http}
",
        health = s.health,
        grpc = s.grpc,
        http = s.http,
    );
    if !s.targets.is_empty() {
        let _ = write!(
            y,
            "  prometheus:
    config:
      scrape_configs:
      - job_name: {service}
        scrape_interval: {interval}
        metrics_path: {path}
        static_configs:
        - targets:
",
            interval = scalar(s.interval),
            path = scalar(s.metrics_path),
        );
        for port in s.targets {
            let _ = writeln!(y, "          - localhost:{port}");
        }
    }
    let _ = write!(
        y,
        "\
processors:
  memory_limiter:
    check_interval: 1s
    limit_percentage: 80
    spike_limit_percentage: 20
  resource:
    attributes:
    - key: service.name
      value: {service}
      action: upsert
    - key: k8s.pod.name
      value: ${{env:POD_NAME}}
      action: upsert
    - key: k8s.namespace.name
      value: ${{env:POD_NAMESPACE}}
      action: upsert
  batch: {{}}
exporters:
"
    );
    s.exporter.write(&mut y);
    let exporter = s.exporter.name();
    let metrics = if s.targets.is_empty() {
        "otlp"
    } else {
        "otlp, prometheus"
    };
    let _ = write!(
        y,
        "\
service:
  extensions: [health_check]
  telemetry:
    metrics:
      level: none
  pipelines:
    traces:
      receivers: [otlp]
      processors: [memory_limiter, resource, batch]
      exporters: [{exporter}]
    metrics:
      receivers: [{metrics}]
      processors: [memory_limiter, resource, batch]
      exporters: [{exporter}]
    logs:
      receivers: [otlp]
      processors: [memory_limiter, resource, batch]
      exporters: [{exporter}]
"
    );
    y
}
