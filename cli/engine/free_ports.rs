//! Helper ports against the pod's: when a helper would listen on a port another container of
//! the pod declares, a second instance of a pattern (`--name`) moves the port parameter it left
//! to its default to the next free port, and says so; otherwise the clash names the parameter
//! and a free value to set.

use std::sync::Arc;

use serde_json::Value;

use crate::contribution::Contribution;
use crate::merge::{MergeError, Plan};
use crate::params::{ParamSpec, ParamType, Params};
use crate::pattern::PatternError;
use crate::process::ObjectError;

/// Tries before giving up on finding a free port (each one renders and plans the instance).
const ATTEMPTS: usize = 64;

/// A port parameter moved off a port the pod already uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Moved {
    /// The parameter.
    pub name: String,
    /// Its default, taken.
    pub from: i64,
    /// The free port it got.
    pub to: i64,
}

impl Moved {
    /// The report's note.
    pub fn note(&self) -> String {
        format!(
            "port {} ({}, its default) is taken in the pod: using {}; choose one with --set {}=PORT",
            self.from, self.name, self.to, self.name
        )
    }
}

/// A planned instance, with the parameters it was planned with.
pub struct Placed {
    /// The plan.
    pub plan: Plan,
    /// The parameters (with moved ports).
    pub params: Params,
    /// The ports moved.
    pub moved: Vec<Moved>,
}

/// Renders and plans an instance (`render`, then `plan`), moving clashing ports: with `movable`
/// (a named second instance), port parameters left to their default move to the next free
/// port; otherwise, or when the port was given, the clash error names the parameter and the
/// free port it could take.
pub fn place(
    specs: &[ParamSpec],
    params: &Params,
    movable: bool,
    render: impl Fn(&Params) -> Result<Arc<Contribution>, PatternError>,
    plan: impl Fn(Arc<Contribution>, &Params) -> Result<Plan, MergeError>,
) -> Result<Placed, ObjectError> {
    let mut current = params.clone();
    let mut moved: Vec<Moved> = Vec::new();
    // A clash on a port that may not move, and its parameter: the error, with the free port
    // found for it. The latest clash otherwise.
    let mut refused: Option<(MergeError, String)> = None;
    let mut latest: Option<(MergeError, String)> = None;
    for _ in 0..ATTEMPTS {
        let contribution = render(&current)?;
        let error = match (plan(contribution, &current), refused) {
            (Ok(plan), None) => {
                return Ok(Placed {
                    plan,
                    params: current,
                    moved,
                });
            }
            (Ok(_), Some((error, name))) => return Err(with_fix(error, &name, &moved).into()),
            (Err(e), r) => {
                refused = r;
                e
            }
        };
        let MergeError::PortClash { port, .. } = &error else {
            return Err(match refused {
                Some((e, n)) => with_fix(e, &n, &[]),
                None => path_fix(specs, &current, error, &render, &plan),
            }
            .into());
        };
        let port = i64::from(*port);
        let may_move = |name: &str| {
            movable && (current.is_default(name) || moved.iter().any(|m| m.name == name))
        };
        let Some(name) = port_param(specs, &current, port, may_move) else {
            return Err(refused.map_or(error, |(e, n)| with_fix(e, &n, &[])).into());
        };
        let refusal = refused.is_none() && !may_move(&name);
        let Some(to) = next_port(specs, &current, port) else {
            let (e, n) = refused.unwrap_or((error, name));
            return Err(with_fix(e, &n, &[]).into());
        };
        match moved.iter_mut().find(|m| m.name == name) {
            Some(m) => m.to = to,
            None => moved.push(Moved {
                name: name.clone(),
                from: port,
                to,
            }),
        }
        if refusal {
            refused = Some((error, name.clone()));
        } else {
            latest = Some((error, name.clone()));
        }
        current = current.with(&name, Value::from(to));
    }
    let (error, name) = match (refused, latest) {
        (Some(r), _) | (None, Some(r)) => r,
        (None, None) => return Err(MergeError::NoAppContainer.into()),
    };
    Err(with_fix(error, &name, &[]).into())
}

/// The port parameter whose value is `port`: one that may move if there is one.
fn port_param(
    specs: &[ParamSpec],
    params: &Params,
    port: i64,
    may_move: impl Fn(&str) -> bool,
) -> Option<String> {
    let holding: Vec<&str> = specs
        .iter()
        .filter(|s| s.kind == ParamType::Port)
        .filter(|s| params.get(&s.name).and_then(Value::as_i64) == Some(port))
        .map(|s| s.name.as_str())
        .collect();
    let chosen = holding.iter().find(|n| may_move(n)).or(holding.first());
    chosen.map(|n| n.to_string())
}

/// The next port above `port` that no other port parameter of the instance holds.
fn next_port(specs: &[ParamSpec], params: &Params, port: i64) -> Option<i64> {
    let held: Vec<i64> = specs
        .iter()
        .filter(|s| s.kind == ParamType::Port)
        .filter_map(|s| params.get(&s.name).and_then(Value::as_i64))
        .collect();
    (port + 1..=65535).find(|p| !held.contains(p))
}

/// The clash, its fix naming the parameter and the free port found for it (when one was).
fn with_fix(error: MergeError, name: &str, moved: &[Moved]) -> MergeError {
    let MergeError::PortClash {
        port,
        protocol,
        existing,
        helper,
        fix,
    } = error
    else {
        return error;
    };
    let fix = match moved.iter().find(|m| m.name == name) {
        Some(m) => format!(
            "set another port with --set {name}={} (free in this pod)",
            m.to
        ),
        None => format!("{fix} {name}=PORT"),
    };
    MergeError::PortClash {
        fix,
        port,
        protocol,
        existing,
        helper,
    }
}

/// A mount path taken on an app container: the fix names the path parameter behind it and a
/// path free there (`PATH-2`…). Paths never move by themselves: the app must use the new one.
fn path_fix(
    specs: &[ParamSpec],
    params: &Params,
    error: MergeError,
    render: impl Fn(&Params) -> Result<Arc<Contribution>, PatternError>,
    plan: impl Fn(Arc<Contribution>, &Params) -> Result<Plan, MergeError>,
) -> MergeError {
    let MergeError::Taken {
        what: "mount path",
        name: path,
        ..
    } = &error
    else {
        return error;
    };
    let Some(param) = specs.iter().find(|s| {
        s.kind == ParamType::String && params.get(&s.name).and_then(Value::as_str) == Some(path)
    }) else {
        return error;
    };
    let free = (2..ATTEMPTS)
        .map(|n| format!("{path}-{n}"))
        .find(|candidate| {
            let trial = params.with(&param.name, Value::from(candidate.as_str()));
            let Ok(contribution) = render(&trial) else {
                return false;
            };
            !matches!(
                plan(contribution, &trial),
                Err(MergeError::Taken { name, .. }) if name == *candidate
            )
        });
    let (param, free) = match free {
        Some(free) => (param.name.clone(), free),
        None => return error,
    };
    match error {
        MergeError::Taken {
            what,
            name,
            container,
            ..
        } => MergeError::Taken {
            fix: format!(
                "set another path with --set {param}={free} (free on container {container:?}; the app must use it)"
            ),
            what,
            name,
            container,
        },
        other => other,
    }
}
