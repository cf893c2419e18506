//! Unit tests of the render logic, on the host target.

use super::*;

fn deployment(labels: Value, ports: Value, env: Value) -> Value {
    json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "shop"},
        "spec": {"template": {"metadata": {"labels": labels},
            "spec": {"containers": [{"name": "app", "image": "shop:1", "ports": ports, "env": env}]}}}})
}

fn defaults() -> Map<String, Value> {
    OtelCollector::describe()
        .params
        .into_iter()
        .filter_map(|p| Some((p.name, p.default?)))
        .collect()
}

fn render(wl: Value, extra: Value) -> Result<Contribution, RenderError> {
    let mut params = defaults();
    if let Value::Object(extra) = extra {
        params.extend(extra);
    }
    OtelCollector::render_json(Request::new(wl, params).with_instance("otel"))
}

fn config_of(c: &Contribution) -> Value {
    let env = c.containers[0]["env"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let text = env
        .iter()
        .find(|e| e["name"] == "OTELCOL_CONFIG")
        .and_then(|e| e["value"].as_str())
        .expect("OTELCOL_CONFIG");
    serde_saphyr::from_str(text).expect("config is YAML")
}

#[test]
fn service_name_and_scrape_targets_from_the_workload() {
    let wl = deployment(
        json!({"app.kubernetes.io/name": "checkout", "app": "other"}),
        json!([{"name": "http", "containerPort": 8080}, {"name": "metrics", "containerPort": 9090}]),
        json!([]),
    );
    let c = render(wl, json!({})).expect("renders");
    let cfg = config_of(&c);
    assert_eq!(
        cfg["processors"]["resource"]["attributes"][0]["value"],
        "checkout"
    );
    let scrape = &cfg["receivers"]["prometheus"]["config"]["scrape_configs"][0];
    assert_eq!(
        scrape["static_configs"][0]["targets"],
        json!(["localhost:9090"])
    );
    assert_eq!(scrape["metrics_path"], "/metrics");
    assert_eq!(
        cfg["service"]["pipelines"]["metrics"]["receivers"],
        json!(["otlp", "prometheus"])
    );
    assert_eq!(cfg["exporters"], json!({"debug": {"verbosity": "basic"}}));

    let sidecar = &c.containers[0];
    assert_eq!(sidecar["name"], "otel");
    assert_eq!(sidecar["args"], json!(["--config=env:OTELCOL_CONFIG"]));
    assert_eq!(sidecar["securityContext"]["runAsUser"], 10001);
    assert_eq!(sidecar["resources"]["limits"]["memory"], "256Mi");
    assert_eq!(sidecar["livenessProbe"]["httpGet"]["port"], "otel-health");
    assert_eq!(
        c.env[0].json,
        json!({"name": "OTEL_SERVICE_NAME", "value": "checkout"})
    );
    assert_eq!(c.env[1].json["value"], "http://localhost:4317");
    assert!(c.warnings.is_empty(), "{:?}", c.warnings);
}

#[test]
fn falls_back_to_app_label_object_name_and_annotation() {
    let wl = deployment(json!({"app": "legacy"}), json!([]), json!([]));
    let cfg = config_of(&render(wl, json!({})).expect("renders"));
    assert_eq!(
        cfg["processors"]["resource"]["attributes"][0]["value"],
        "legacy"
    );

    let mut wl = deployment(json!({}), json!([]), json!([]));
    wl["spec"]["template"]["metadata"]["annotations"] =
        json!({"prometheus.io/port": "9102", "prometheus.io/path": "/stats"});
    let cfg = config_of(&render(wl, json!({})).expect("renders"));
    assert_eq!(
        cfg["processors"]["resource"]["attributes"][0]["value"],
        "shop"
    );
    let scrape = &cfg["receivers"]["prometheus"]["config"]["scrape_configs"][0];
    assert_eq!(
        scrape["static_configs"][0]["targets"],
        json!(["localhost:9102"])
    );
    assert_eq!(scrape["metrics_path"], "/stats");
}

#[test]
fn no_metrics_port_warns_and_keeps_otlp_only() {
    let wl = deployment(
        json!({}),
        json!([{"name": "http", "containerPort": 8080}]),
        json!([]),
    );
    let c = render(wl, json!({})).expect("renders");
    assert!(c.warnings.iter().any(|w| w.contains("no metrics port")));
    let cfg = config_of(&c);
    assert!(cfg["receivers"].get("prometheus").is_none());
    assert_eq!(
        cfg["service"]["pipelines"]["metrics"]["receivers"],
        json!(["otlp"])
    );
}

#[test]
fn otlp_exporter_needs_an_endpoint() {
    let wl = deployment(json!({}), json!([]), json!([]));
    let err = render(wl.clone(), json!({"exporter": "otlp"})).expect_err("needs endpoint");
    assert!(matches!(err, RenderError::InvalidParams(m) if m.contains("--set endpoint=")));
    let c = render(
        wl,
        json!({"exporter": "otlp", "endpoint": "tempo.obs:4317", "insecure": true}),
    )
    .expect("renders");
    assert_eq!(
        config_of(&c)["exporters"],
        json!({"otlp": {"endpoint": "tempo.obs:4317", "tls": {"insecure": true}}})
    );
}

#[test]
fn refuses_ports_in_use_and_keeps_existing_env() {
    let wl = deployment(json!({}), json!([{"containerPort": 4317}]), json!([]));
    let err = render(wl, json!({})).expect_err("port clash");
    assert!(matches!(err, RenderError::InvalidParams(m) if m.contains("otlpGrpcPort")));

    let wl = deployment(
        json!({}),
        json!([]),
        json!([{"name": "OTEL_SERVICE_NAME", "value": "x"}]),
    );
    let c = render(wl, json!({"scrapePorts": [8081]})).expect("renders");
    assert_eq!(c.env.len(), 1);
    assert!(
        c.warnings
            .iter()
            .any(|w| w.contains("already sets OTEL_SERVICE_NAME"))
    );
    let scrape = &config_of(&c)["receivers"]["prometheus"]["config"]["scrape_configs"][0];
    assert_eq!(
        scrape["static_configs"][0]["targets"],
        json!(["localhost:8081"])
    );
}

#[test]
fn missing_main_container_is_unsupported() {
    let wl = deployment(json!({}), json!([]), json!([]));
    let params = defaults();
    let err = OtelCollector::render_json(Request::new(wl, params).with_main_container("nope"))
        .expect_err("no such container");
    assert!(matches!(err, RenderError::UnsupportedWorkload(_)));
}

#[test]
fn without_scrape_targets_the_config_has_no_prometheus_receiver() {
    let wl = deployment(json!({"app": "shop"}), json!([]), json!([]));
    let c = render(wl, json!({})).expect("renders");
    let text = c.containers[0]["env"][0]["value"]
        .as_str()
        .expect("config text");
    assert_eq!(
        text,
        "\
extensions:
  health_check:
    endpoint: ${env:POD_IP}:13133
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: localhost:4317
      http:
        endpoint: localhost:4318
processors:
  memory_limiter:
    check_interval: 1s
    limit_percentage: 80
    spike_limit_percentage: 20
  resource:
    attributes:
    - key: service.name
      value: shop
      action: upsert
    - key: k8s.pod.name
      value: ${env:POD_NAME}
      action: upsert
    - key: k8s.namespace.name
      value: ${env:POD_NAMESPACE}
      action: upsert
  batch: {}
exporters:
  debug:
    verbosity: basic
service:
  extensions: [health_check]
  telemetry:
    metrics:
      level: none
  pipelines:
    traces:
      receivers: [otlp]
      processors: [memory_limiter, resource, batch]
      exporters: [debug]
    metrics:
      receivers: [otlp]
      processors: [memory_limiter, resource, batch]
      exporters: [debug]
    logs:
      receivers: [otlp]
      processors: [memory_limiter, resource, batch]
      exporters: [debug]
"
    );
}

/// A service name or endpoint that plain YAML would read as something else is quoted.
#[test]
fn names_that_read_as_other_types_are_quoted() {
    let wl = deployment(
        json!({"app": "true"}),
        json!([{"name": "metrics", "containerPort": 9090}]),
        json!([]),
    );
    let c = render(
        wl,
        json!({"exporter": "otlphttp", "endpoint": "1e3", "scrapeInterval": "30s"}),
    )
    .expect("renders");
    let cfg = config_of(&c);
    assert_eq!(
        cfg["processors"]["resource"]["attributes"][0]["value"],
        "true"
    );
    assert_eq!(
        cfg["receivers"]["prometheus"]["config"]["scrape_configs"][0]["job_name"],
        "true"
    );
    assert_eq!(
        cfg["exporters"],
        json!({"otlphttp": {"endpoint": "1e3", "tls": {"insecure": false}}})
    );
}
