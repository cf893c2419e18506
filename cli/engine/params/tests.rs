//! Unit tests of parameter resolution and validation.

use super::*;
use serde_json::json;

fn spec(kind: ParamType) -> ParamSpec {
    ParamSpec {
        name: "p".into(),
        kind,
        description: String::new(),
        default: None,
        required: false,
        values: vec!["a".into(), "b".into()],
        pattern: None,
        min: None,
        max: None,
        items: None,
        secret: false,
        role: None,
    }
}

#[test]
fn each_type_accepts_and_refuses() {
    use ParamType::*;
    let cases: &[(ParamType, &str, Option<Value>)] = &[
        (Port, "8080", Some(json!(8080))),
        (Port, "99999", None),
        (Port, "0", None),
        (Int, "-3", Some(json!(-3))),
        (Int, "3.5", None),
        (Bool, "true", Some(json!(true))),
        (Bool, "yes", None),
        (Quantity, "100m", Some(json!("100m"))),
        (Quantity, "64Mi", Some(json!("64Mi"))),
        (Quantity, "lots", None),
        (Quantity, "-100m", None),
        (Quantity, "1e400", None),
        (Image, "nginx:1.27.3", Some(json!("nginx:1.27.3"))),
        (
            Image,
            "registry.k8s.io:5000/git-sync/git-sync:v4.4.0",
            Some(json!("registry.k8s.io:5000/git-sync/git-sync:v4.4.0")),
        ),
        (Image, "nginx latest", None),
        (Image, "Nginx:1", None),
        (DnsName, "redis.cache.svc", Some(json!("redis.cache.svc"))),
        (DnsName, "Redis_Main", None),
        (DnsName, "-bad", None),
        (Duration, "1m30s", Some(json!("1m30s"))),
        (Duration, "10", None),
        (Enum, "a", Some(json!("a"))),
        (Enum, "c", None),
        (List, "x, y", Some(json!(["x", "y"]))),
        (List, "", Some(json!([]))),
        (String, "evil\nkey: true", Some(json!("evil\nkey: true"))),
    ];
    for (kind, text, expected) in cases {
        let got = spec(*kind).parse_text(text).ok();
        assert_eq!(&got, expected, "{kind:?} {text:?}");
    }
}

#[test]
fn resolve_fills_defaults_and_lists_every_missing_parameter() {
    let mut a = spec(ParamType::Port);
    a.name = "port".into();
    a.default = Some(json!(80));
    let mut b = spec(ParamType::String);
    b.name = "host".into();
    b.required = true;
    let mut c = b.clone();
    c.name = "path".into();
    let err = resolve(
        "x",
        &[a.clone(), b.clone(), c.clone()],
        &ParamInput::default(),
    )
    .unwrap_err();
    assert_eq!(
        err,
        ParamError::Missing {
            pattern: "x".into(),
            names: vec!["host".into(), "path".into()]
        }
    );
    let input = ParamInput::default()
        .value("host", json!("h"))
        .text("path", "/p")
        .text("port", "81");
    let params = resolve("x", &[a, b, c], &input).unwrap();
    assert_eq!(
        Value::Object(params.values().clone()),
        json!({"port": 81, "host": "h", "path": "/p"})
    );
}

#[test]
fn unknown_parameters_get_a_suggestion() {
    let mut a = spec(ParamType::String);
    a.name = "logDir".into();
    let input = ParamInput::default().text("logdir", "/x");
    let err = resolve("log-shipper", &[a], &input)
        .unwrap_err()
        .to_string();
    assert!(err.contains("did you mean \"logDir\""), "{err}");
}
