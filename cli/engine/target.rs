//! Which live objects a run works on, as kubectl names them: `TYPE/NAME` words, or
//! `TYPE[,TYPE]` with a label selector or `--all`, in one namespace or all of them.

use super::kinds::{WorkloadKind, known_types};

/// Which namespaces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// One namespace ("" until the context's default fills it in).
    Namespace(String),
    /// `-A`.
    All,
}

/// Which objects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selection {
    /// `TYPE/NAME…`.
    Named(Vec<(WorkloadKind, String)>),
    /// `TYPE[,TYPE] -l SELECTOR` or `TYPE --all` (selector None).
    Listed {
        /// The types.
        types: Vec<WorkloadKind>,
        /// The label selector.
        selector: Option<String>,
    },
}

/// A bad resource argument.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TargetError {
    /// Not a workload type.
    #[error("unknown resource type {0:?}: expected one of {types} (or their kinds and plurals)", types = known_types())]
    UnknownType(String),
    /// `TYPE/` or `/NAME`.
    #[error("{0:?}: expected TYPE/NAME, e.g. deploy/web")]
    Malformed(String),
}

/// Parses `TYPE/NAME`.
pub fn parse_named(text: &str) -> Result<(WorkloadKind, String), TargetError> {
    let (ty, name) = text
        .split_once('/')
        .filter(|(t, n)| !t.is_empty() && !n.is_empty() && !n.contains('/'))
        .ok_or_else(|| TargetError::Malformed(text.to_string()))?;
    let kind = WorkloadKind::parse(ty).ok_or_else(|| TargetError::UnknownType(ty.to_string()))?;
    Ok((kind, name.to_string()))
}

/// Parses `TYPE[,TYPE…]` (with `-l` or `--all`).
pub fn parse_types(text: &str) -> Result<Vec<WorkloadKind>, TargetError> {
    let mut out = Vec::new();
    for part in text.split(',') {
        let kind =
            WorkloadKind::parse(part).ok_or_else(|| TargetError::UnknownType(part.to_string()))?;
        if !out.contains(&kind) {
            out.push(kind);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_parse_or_say_what_is_wrong() {
        assert_eq!(
            parse_named("deploy/web"),
            Ok((WorkloadKind::Deployment, "web".into()))
        );
        assert_eq!(
            parse_named("svc/web"),
            Err(TargetError::UnknownType("svc".into()))
        );
        assert!(matches!(
            parse_named("deploy/"),
            Err(TargetError::Malformed(_))
        ));
        assert_eq!(
            parse_types("deploy,sts,deploy"),
            Ok(vec![WorkloadKind::Deployment, WorkloadKind::StatefulSet])
        );
        let err = parse_types("deploy,configmap").unwrap_err().to_string();
        assert!(
            err.contains("\"configmap\"") && err.contains("deploy, sts"),
            "{err}"
        );
    }
}
