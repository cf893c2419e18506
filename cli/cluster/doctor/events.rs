//! Events as doctor reads them: when an event was last seen (core/v1 events carry it in one of
//! four fields, depending on who recorded it), whether it is recent, which helper container it
//! is about (`involvedObject.fieldPath`), and which injector policy a `FailedCreate` names.

use std::time::Duration;

use k8s_openapi::api::core::v1::Event;
use k8s_openapi::jiff::{SignedDuration, Timestamp};

/// Which events count as recent: seen at most `since` before `now` (`None`: every event the
/// server still keeps).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// The time doctor runs at.
    pub now: Timestamp,
    /// How far back.
    pub since: Option<Duration>,
}

impl Window {
    /// True when `event` was last seen inside the window (an event without any time counts).
    pub fn contains(&self, event: &Event) -> bool {
        let (Some(since), Some(seen)) = (self.since, last_seen(event)) else {
            return true;
        };
        let age = self.now.duration_since(seen);
        age <= SignedDuration::try_from(since).unwrap_or(SignedDuration::MAX)
    }
}

/// When the event was last seen: the series' last observation, `lastTimestamp`, `eventTime`,
/// or else its creation.
pub fn last_seen(event: &Event) -> Option<Timestamp> {
    event
        .series
        .as_ref()
        .and_then(|s| s.last_observed_time.as_ref())
        .map(|t| t.0)
        .or_else(|| event.last_timestamp.as_ref().map(|t| t.0))
        .or_else(|| event.event_time.as_ref().map(|t| t.0))
        .or_else(|| event.metadata.creation_timestamp.as_ref().map(|t| t.0))
}

/// How many times the event happened.
pub fn count(event: &Event) -> i64 {
    let n = event
        .series
        .as_ref()
        .and_then(|s| s.count)
        .or(event.count)
        .unwrap_or(1);
    i64::from(n.max(1))
}

/// A warning event (the rest are routine).
pub fn is_warning(event: &Event) -> bool {
    event.type_.as_deref() == Some("Warning")
}

/// The container a pod event is about: `spec.initContainers{log-shipper}` → `log-shipper`.
pub fn container(event: &Event) -> Option<&str> {
    let path = event.involved_object.field_path.as_deref()?;
    let (list, rest) = path.split_once('{')?;
    if !matches!(
        list,
        "spec.containers" | "spec.initContainers" | "spec.ephemeralContainers"
    ) {
        return None;
    }
    rest.strip_suffix('}')
}

/// True when the event is about the object of this kind, name and (when both know it) uid.
pub fn about(event: &Event, kind: &str, name: &str, uid: Option<&str>) -> bool {
    let o = &event.involved_object;
    o.kind.as_deref() == Some(kind)
        && o.name.as_deref() == Some(name)
        && match (o.uid.as_deref(), uid) {
            (Some(a), Some(b)) => a == b,
            _ => true,
        }
}

/// A MutatingAdmissionPolicy's refusal, as the API server words it: `policy 'NAME' with
/// binding 'BINDING' denied request: WHY` (a controller's `FailedCreate` event repeats it after
/// `Error creating: `).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Denial<'a> {
    /// The policy.
    pub policy: &'a str,
    /// The binding.
    pub binding: &'a str,
    /// What the server said after `denied request: `.
    pub why: &'a str,
}

/// The quoted text after `opening` (which ends in `'`), from byte `from` on: its range.
fn quoted(message: &str, from: usize, opening: &str) -> Option<(usize, usize)> {
    let start = from + message[from..].find(opening)? + opening.len();
    let end = start + message[start..].find('\'')?;
    Some((start, end))
}

/// The denial a message reports, if it is one.
pub fn denial(message: &str) -> Option<Denial<'_>> {
    let (p0, p1) = quoted(message, 0, "policy '")?;
    let (b0, b1) = quoted(message, p1, "with binding '")?;
    let said = b1 + message[b1..].find("denied request")? + "denied request".len();
    let why = message[said..].trim_start_matches(':').trim();
    (p1 > p0).then_some(Denial {
        policy: &message[p0..p1],
        binding: &message[b0..b1],
        why,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn event(value: serde_json::Value) -> Event {
        serde_json::from_value(value).unwrap()
    }

    fn at(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    #[test]
    fn the_newest_time_field_present_is_the_last_seen_time() {
        let e = event(
            json!({"metadata": {"creationTimestamp": "2026-12-01T21:00:00Z"},
            "involvedObject": {}, "eventTime": "2026-12-01T21:01:00.000001Z"}),
        );
        assert_eq!(last_seen(&e), Some(at("2026-12-01T21:01:00.000001Z")));
        let e = event(json!({"metadata": {}, "involvedObject": {},
            "lastTimestamp": "2026-12-01T21:02:00Z", "count": 3,
            "series": {"count": 9, "lastObservedTime": "2026-12-01T21:05:00.000000Z"}}));
        assert_eq!(last_seen(&e), Some(at("2026-12-01T21:05:00Z")));
        assert_eq!(count(&e), 9);
    }

    #[test]
    fn the_window_keeps_events_seen_since_its_start() {
        let e = event(json!({"metadata": {}, "involvedObject": {},
            "lastTimestamp": "2026-12-01T21:06:48Z"}));
        let window = |now: &str, since: Option<u64>| Window {
            now: at(now),
            since: since.map(Duration::from_secs),
        };
        assert!(window("2026-12-01T21:16:48Z", Some(600)).contains(&e));
        assert!(!window("2026-12-01T21:16:49Z", Some(600)).contains(&e));
        assert!(window("2027-01-01T00:00:00Z", None).contains(&e));
    }

    #[test]
    fn a_container_field_path_names_the_helper() {
        let e = event(
            json!({"metadata": {}, "involvedObject": {"kind": "Pod", "name": "p",
            "fieldPath": "spec.initContainers{log-shipper}"}}),
        );
        assert_eq!(container(&e), Some("log-shipper"));
        assert!(about(&e, "Pod", "p", Some("any-uid")));
        assert!(!about(&e, "Pod", "q", None));
        let e = event(json!({"metadata": {}, "involvedObject": {"fieldPath": "metadata.name"}}));
        assert_eq!(container(&e), None);
    }

    #[test]
    fn a_denial_names_its_policy_and_binding() {
        let m = "Error creating: policy 'kubectl-pattern-log-shipper' with binding 'kubectl-pattern-log' denied request: error applying patch";
        assert_eq!(
            denial(m),
            Some(Denial {
                policy: "kubectl-pattern-log-shipper",
                binding: "kubectl-pattern-log",
                why: "error applying patch"
            })
        );
        assert_eq!(denial("Error creating: pods \"web-1\" is forbidden"), None);
    }
}
