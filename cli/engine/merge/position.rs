//! `--position`: where an instance's init containers and native sidecars go among the pod's
//! init containers (their order is their start order), and how a chosen position is recorded
//! so that a re-run keeps it.
//!
//! Without a choice, helpers go right after the last init container a pattern instance added,
//! or else before the app's own first init container: a dependency is there and a proxy is up
//! before the app's init steps (a `migrate` step) run.

use std::fmt;
use std::str::FromStr;

use serde_json::{Map, Value};

use super::MergeError;
use crate::podspec::{ListRef, PodList, Position};
use crate::tracking::AppliedRecord;

/// Where a pattern instance's init containers and native sidecars go, as `--position` takes it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum HelperPosition {
    /// Before every other init container.
    First,
    /// After every other init container.
    Last,
    /// Right before the init container of this name.
    Before(String),
    /// Right after the init container of this name.
    After(String),
}

/// A `--position` value that is none of the forms.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "position {0:?}: expected first, last, before:NAME or after:NAME (NAME: an init container)"
)]
pub struct PositionSyntax(pub String);

impl FromStr for HelperPosition {
    type Err = PositionSyntax;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let named = |name: &str| -> Result<String, PositionSyntax> {
            match crate::params::is_dns_label(name) {
                true => Ok(name.to_string()),
                false => Err(PositionSyntax(text.to_string())),
            }
        };
        match text {
            "first" => Ok(HelperPosition::First),
            "last" => Ok(HelperPosition::Last),
            _ => match text.split_once(':') {
                Some(("before", name)) => Ok(HelperPosition::Before(named(name)?)),
                Some(("after", name)) => Ok(HelperPosition::After(named(name)?)),
                _ => Err(PositionSyntax(text.to_string())),
            },
        }
    }
}

impl fmt::Display for HelperPosition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HelperPosition::First => f.write_str("first"),
            HelperPosition::Last => f.write_str("last"),
            HelperPosition::Before(name) => write!(f, "before:{name}"),
            HelperPosition::After(name) => write!(f, "after:{name}"),
        }
    }
}

impl serde::Serialize for HelperPosition {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for HelperPosition {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = <String as serde::Deserialize>::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

impl HelperPosition {
    /// The init container this position names, if any.
    pub fn anchor(&self) -> Option<&str> {
        match self {
            HelperPosition::Before(name) | HelperPosition::After(name) => Some(name),
            HelperPosition::First | HelperPosition::Last => None,
        }
    }
}

/// Where new init containers and native sidecars of an instance go, and the position to
/// record.
pub(super) struct InitPlacement {
    /// Where each new helper goes (in order: each before the same item, or at the end).
    pub first: Position,
    /// The position the record keeps (`None`: the default order).
    pub recorded: Option<HelperPosition>,
    /// True when existing helpers of the instance must move (the position changed).
    pub moves: bool,
    /// A warning for the report (a recorded anchor that is gone).
    pub warning: Option<String>,
}

/// The placement of `prev`'s instance's init helpers: `requested` (`--position`), else the
/// position its record kept, else the default order.
pub(super) fn init_placement(
    spec: &Map<String, Value>,
    records: &[AppliedRecord],
    prev: &AppliedRecord,
    requested: Option<&HelperPosition>,
) -> Result<InitPlacement, MergeError> {
    let names = ListRef::Pod(PodList::InitContainers).keys(spec);
    // The init containers a position may name: any but this instance's own.
    let others: Vec<&str> = names
        .iter()
        .copied()
        .filter(|n| !prev.owns_container(n))
        .collect();
    let mut warning = None;
    let chosen = match (requested, &prev.position) {
        (Some(p), _) => {
            if let Some(anchor) = p.anchor()
                && !others.contains(&anchor)
            {
                return Err(MergeError::PositionAnchor {
                    position: p.to_string(),
                    name: anchor.to_string(),
                    init: others.iter().map(|n| n.to_string()).collect(),
                });
            }
            Some(p.clone())
        }
        (None, Some(p)) => match p.anchor() {
            Some(anchor) if !others.contains(&anchor) => {
                warning = Some(format!(
                    "the recorded position {p} names init container {anchor:?}, which is gone: new helpers go in the default order (set --position to choose again)"
                ));
                None
            }
            _ => Some(p.clone()),
        },
        (None, None) => None,
    };
    // As "before the next one" (or at the end): several helpers keep their order, and the
    // injector's patches name an item that is there before they apply.
    let before = |name: Option<&&str>| match name {
        Some(name) => Position::Before((*name).to_string()),
        None => Position::Append,
    };
    let first = match &chosen {
        Some(HelperPosition::First) => before(others.first()),
        Some(HelperPosition::Last) => Position::Append,
        Some(HelperPosition::Before(name)) => Position::Before(name.clone()),
        Some(HelperPosition::After(name)) => {
            let at = others.iter().position(|n| n == name);
            before(at.and_then(|i| others.get(i + 1)))
        }
        None => default_position(&names, records),
    };
    let moves = requested.is_some() && chosen != prev.position;
    Ok(InitPlacement {
        first,
        recorded: chosen,
        moves,
        warning,
    })
}

/// The default: right after the last init container a pattern instance added, or else before
/// the app's own first init container. So helpers run before the app's init steps, in the
/// order the patterns were applied; an object whose helpers already follow its own init
/// containers keeps that order.
fn default_position(names: &[&str], records: &[AppliedRecord]) -> Position {
    let after_helpers = names
        .iter()
        .rposition(|n| records.iter().any(|r| r.owns_container(n)))
        .map_or(0, |i| i + 1);
    match names.get(after_helpers) {
        Some(next) => Position::Before((*next).to_string()),
        None => Position::Append,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_parse_and_print_back() {
        for text in ["first", "last", "before:migrate", "after:wait-for"] {
            let p: HelperPosition = text.parse().unwrap();
            assert_eq!(p.to_string(), text);
        }
        assert_eq!(
            "before:migrate".parse::<HelperPosition>().unwrap(),
            HelperPosition::Before("migrate".into())
        );
        for bad in ["", "top", "before:", "after:Migrate", "before", "middle:x"] {
            let err = bad.parse::<HelperPosition>().unwrap_err();
            assert_eq!(err, PositionSyntax(bad.into()));
        }
    }
}
