//! Unit tests of the render logic, on the host target.

use super::*;

fn workload(annotations: Value, env: Value) -> Value {
    json!({"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "api"},
        "spec": {"template": {"metadata": {"annotations": annotations},
            "spec": {"containers": [{"name": "api", "image": "api:1", "env": env,
                                     "ports": [{"containerPort": 8080}]}]}}}})
}

fn render(wl: Value, params: Value) -> Result<Contribution, RenderError> {
    let mut map: Map<String, Value> = DbProxy::describe()
        .params
        .into_iter()
        .filter_map(|p| Some((p.name, p.default?)))
        .collect();
    if let Value::Object(extra) = params {
        map.extend(extra);
    }
    DbProxy::render_json(Request::new(wl, map).with_instance("db"))
}

fn envoy_config(c: &Contribution) -> Value {
    let args = c.containers[0]["args"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let text = args[1].as_str().expect("config text");
    serde_json::from_str(text).expect("JSON config")
}

#[test]
fn target_from_the_annotation() {
    let wl = workload(
        json!({TARGET_ANNOTATION: "postgres.db.svc:5432"}),
        json!([]),
    );
    let c = render(wl, json!({"target": "ignored.example:1"})).expect("renders");
    let cfg = envoy_config(&c);
    let db = &cfg["static_resources"]["clusters"][0];
    let addr = &db["load_assignment"]["endpoints"][0]["lb_endpoints"][0]["endpoint"]["address"];
    assert_eq!(
        addr["socket_address"],
        json!({"address": "postgres.db.svc", "port_value": 5432})
    );
    assert_eq!(db["connect_timeout"], "5s");
    let listener = &cfg["static_resources"]["listeners"][0]["address"]["socket_address"];
    assert_eq!(
        listener,
        &json!({"address": "127.0.0.1", "port_value": 5432})
    );
    assert_eq!(
        c.env[0].json,
        json!({"name": "DATABASE_HOST", "value": "127.0.0.1"})
    );
    assert_eq!(
        c.env[1].json,
        json!({"name": "DATABASE_PORT", "value": "5432"})
    );
    assert_eq!(c.containers[0]["command"], json!(["envoy"]));
    assert_eq!(c.containers[0]["securityContext"]["runAsUser"], 101);
    assert_eq!(
        c.containers[0]["readinessProbe"]["httpGet"]["path"],
        "/ready"
    );
    assert!(c.annotations.is_empty());
}

#[test]
fn target_from_the_parameter_and_listen_port() {
    let wl = workload(json!({}), json!([]));
    let c = render(
        wl,
        json!({"target": "[fd00::5]:3306", "listenPort": 13306, "envPrefix": "MYSQL"}),
    )
    .expect("renders");
    let cfg = envoy_config(&c);
    let db = &cfg["static_resources"]["clusters"][0];
    let addr = &db["load_assignment"]["endpoints"][0]["lb_endpoints"][0]["endpoint"]["address"];
    assert_eq!(addr["socket_address"]["address"], "fd00::5");
    assert_eq!(c.env[0].json["name"], "MYSQL_HOST");
    assert_eq!(c.env[1].json["value"], "13306");
    assert_eq!(
        c.annotations,
        vec![(TARGET_ANNOTATION.to_owned(), "[fd00::5]:3306".to_owned())]
    );
}

#[test]
fn neither_annotation_nor_parameter_declines() {
    let err = render(workload(json!({}), json!([])), json!({})).expect_err("no target");
    assert!(
        matches!(&err, RenderError::NotApplicable(m) if m.contains(TARGET_ANNOTATION) && m.contains("--set target="))
    );
}

#[test]
fn bad_targets_and_clashes_are_refused() {
    let err = render(
        workload(json!({TARGET_ANNOTATION: "postgres"}), json!([])),
        json!({}),
    )
    .expect_err("bad");
    assert!(matches!(err, RenderError::UnsupportedWorkload(_)));
    let err = render(
        workload(json!({}), json!([])),
        json!({"target": "db:99999"}),
    )
    .expect_err("bad");
    assert!(matches!(err, RenderError::InvalidParams(_)));
    let err = render(workload(json!({}), json!([])), json!({"target": "db:8080"}))
        .expect_err("port used");
    assert!(
        matches!(err, RenderError::InvalidParams(m) if m.contains("already used by container api"))
    );
    let env = json!([{"name": "DATABASE_HOST", "value": "db"}]);
    let err =
        render(workload(json!({}), env), json!({"target": "db:5432"})).expect_err("env clash");
    assert!(matches!(err, RenderError::InvalidParams(m) if m.contains("envPrefix")));
}

#[test]
fn parses_targets() {
    assert_eq!(parse_target("a.b:1"), Ok(("a.b".into(), 1)));
    assert_eq!(parse_target(" [::1]:5432 "), Ok(("::1".into(), 5432)));
    assert!(parse_target("a.b").is_err());
    assert!(parse_target(":5432").is_err());
    assert!(parse_target("a b:5432").is_err());
    assert!(parse_target("a:0").is_err());
}
