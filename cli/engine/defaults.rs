//! Parameter defaults taken from the workload: a parameter with `role: appPort` that was not
//! given takes the app container's port when it declares exactly one (and says so); with
//! several, the user must choose, and the error lists them; with none, the declared default
//! stays.

use serde_json::Value;

use crate::params::{ParamRole, Params};
use crate::pattern::{PatternSpec, WorkloadInfo};

/// A default the workload cannot decide.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DefaultsError {
    /// The app container declares several ports.
    #[error(
        "parameter {param} of pattern {pattern} is the app's port, and container {container:?} declares several ({}): choose one with --set {param}=PORT",
        .candidates.join(", ")
    )]
    SeveralPorts {
        /// The pattern.
        pattern: String,
        /// The parameter.
        param: String,
        /// The app container.
        container: String,
        /// `http=8080`, `9090`… (name=number, or the number of an unnamed port).
        candidates: Vec<String>,
    },
}

/// One port of the app container.
struct AppPort {
    number: i64,
    name: Option<String>,
}

impl AppPort {
    fn label(&self) -> String {
        match &self.name {
            Some(name) => format!("{name}={}", self.number),
            None => self.number.to_string(),
        }
    }
}

/// The TCP ports the main container declares (`info.ports`).
fn app_ports(info: &WorkloadInfo) -> Vec<AppPort> {
    let tcp = |p: &&Value| {
        p.get("protocol")
            .and_then(Value::as_str)
            .is_none_or(|proto| proto == "TCP")
    };
    info.ports
        .as_array()
        .into_iter()
        .flatten()
        .filter(tcp)
        .filter_map(|p| {
            Some(AppPort {
                number: p.get("containerPort")?.as_i64()?,
                name: p.get("name").and_then(Value::as_str).map(str::to_string),
            })
        })
        .collect()
}

/// `params` with the defaults `info` decides filled in, and one note per value chosen (for
/// the report on stderr).
pub fn from_workload(
    pattern: &PatternSpec,
    params: &Params,
    info: &WorkloadInfo,
) -> Result<(Params, Vec<String>), DefaultsError> {
    let mut out = params.clone();
    let mut notes = Vec::new();
    for name in params.from_workload() {
        let Some(spec) = pattern.params.iter().find(|s| &s.name == name) else {
            continue;
        };
        if spec.role != Some(ParamRole::AppPort) {
            continue;
        }
        let ports = app_ports(info);
        match ports.as_slice() {
            [] => {}
            [port] => {
                out = out.with(name, Value::from(port.number));
                let which = match &port.name {
                    Some(n) => format!("port {n} ({})", port.number),
                    None => format!("port {}", port.number),
                };
                notes.push(format!(
                    "{name}={}: the {which} of container {}, its only port (--set {name}=PORT to choose another)",
                    port.number, info.main_container
                ));
            }
            several => {
                return Err(DefaultsError::SeveralPorts {
                    pattern: pattern.id.clone(),
                    param: name.clone(),
                    container: info.main_container.clone(),
                    candidates: several.iter().map(AppPort::label).collect(),
                });
            }
        }
    }
    Ok((out, notes))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::catalogue::Catalogue;
    use crate::params::{ParamInput, resolve};

    fn info(ports: Value) -> WorkloadInfo {
        WorkloadInfo {
            kind: "Deployment".into(),
            name: "web".into(),
            namespace: String::new(),
            labels: json!({}),
            annotations: json!({}),
            main_container: "web".into(),
            ports,
        }
    }

    fn tls(input: &ParamInput) -> (PatternSpec, Params) {
        let spec = Catalogue::builtin()
            .get("tls-proxy")
            .unwrap()
            .spec()
            .clone();
        let params = resolve("tls-proxy", &spec.params, input).unwrap();
        (spec, params)
    }

    #[test]
    fn the_one_app_port_is_taken_and_named() {
        let (spec, params) = tls(&ParamInput::from_texts([("secretName", "web-tls")]));
        assert_eq!(params.from_workload(), ["targetPort"]);
        let ports = json!([{"name": "http", "containerPort": 3000}, {"containerPort": 53, "protocol": "UDP"}]);
        let (out, notes) = from_workload(&spec, &params, &info(ports)).unwrap();
        assert_eq!(out.get("targetPort"), Some(&json!(3000)));
        assert_ne!(out.hash(), params.hash());
        assert!(out.from_workload().is_empty());
        assert_eq!(
            notes,
            [
                "targetPort=3000: the port http (3000) of container web, its only port (--set targetPort=PORT to choose another)"
            ]
        );
    }

    #[test]
    fn several_ports_ask_for_a_choice_and_none_keep_the_default() {
        let (spec, params) = tls(&ParamInput::from_texts([("secretName", "web-tls")]));
        let ports = json!([{"name": "http", "containerPort": 3000}, {"containerPort": 9090}]);
        let err = from_workload(&spec, &params, &info(ports)).unwrap_err();
        assert_eq!(
            err.to_string(),
            "parameter targetPort of pattern tls-proxy is the app's port, and container \"web\" declares several (http=3000, 9090): choose one with --set targetPort=PORT"
        );
        let (out, notes) = from_workload(&spec, &params, &info(json!([]))).unwrap();
        assert_eq!(out.get("targetPort"), Some(&json!(8080)));
        assert!(notes.is_empty());
    }

    #[test]
    fn a_given_value_wins_over_the_workload() {
        let input = ParamInput::from_texts([("secretName", "web-tls"), ("targetPort", "3001")]);
        let (spec, params) = tls(&input);
        assert!(params.from_workload().is_empty());
        let ports = json!([{"name": "http", "containerPort": 3000}, {"containerPort": 9090}]);
        let (out, notes) = from_workload(&spec, &params, &info(ports)).unwrap();
        assert_eq!(out, params);
        assert!(notes.is_empty());
    }
}
