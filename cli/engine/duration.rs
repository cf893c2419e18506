//! Durations in one grammar for every flag and parameter: Go's `time.ParseDuration`, which
//! kubectl uses (`1m30s`, `300ms`, `1.5h`, `0`), and kubectl's timeout flags on top of it
//! (`0` means no limit; `--request-timeout` also takes a bare number of seconds).

use std::time::Duration;

/// A duration that does not parse, with what is expected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DurationError {
    /// Not Go's duration syntax.
    #[error("{0:?} is not a duration (e.g. 500ms, 10s, 1m30s, 2h)")]
    Syntax(String),
    /// A number without a unit (only `0` may go without).
    #[error("{0:?} has no unit: write {0}s, {0}m or {0}h")]
    NoUnit(String),
    /// Negative durations mean nothing here.
    #[error("{0:?} is negative")]
    Negative(String),
    /// Longer than Go's duration can hold (about 290 years).
    #[error("{0:?} is too long")]
    Overflow(String),
}

/// Nanoseconds per unit, longest unit names first so `ms` is not read as `m`.
const UNITS: [(&str, u128); 8] = [
    ("ns", 1),
    ("us", 1_000),
    ("µs", 1_000),
    ("μs", 1_000),
    ("ms", 1_000_000),
    ("s", 1_000_000_000),
    ("m", 60_000_000_000),
    ("h", 3_600_000_000_000),
];

/// Go's largest duration, in nanoseconds.
const MAX_NANOS: u128 = i64::MAX as u128;

/// Parses Go's duration syntax: a sequence of decimal numbers, each with an optional fraction
/// and a unit (`ns`, `us`/`µs`, `ms`, `s`, `m`, `h`), optionally after `+`; `0` alone needs no
/// unit. Negative durations are refused: nothing in this tool takes one.
pub fn parse(text: &str) -> Result<Duration, DurationError> {
    let syntax = || DurationError::Syntax(text.to_string());
    let mut rest = text.trim();
    if let Some(r) = rest.strip_prefix('+') {
        rest = r;
    } else if rest.starts_with('-') {
        return Err(DurationError::Negative(text.to_string()));
    }
    if rest == "0" {
        return Ok(Duration::ZERO);
    }
    if rest.is_empty() {
        return Err(syntax());
    }
    let mut nanos: u128 = 0;
    while !rest.is_empty() {
        let digits_end = rest
            .find(|c: char| !c.is_ascii_digit() && c != '.')
            .unwrap_or(rest.len());
        let (number, after) = rest.split_at(digits_end);
        let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
        if (whole.is_empty() && fraction.is_empty()) || fraction.contains('.') {
            return Err(syntax());
        }
        if after.is_empty() {
            return Err(DurationError::NoUnit(text.trim().to_string()));
        }
        let unit_end = after
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(after.len());
        let (unit, next) = after.split_at(unit_end);
        let scale = UNITS
            .iter()
            .find(|(name, _)| *name == unit)
            .map(|(_, scale)| *scale)
            .ok_or_else(syntax)?;
        let overflow = || DurationError::Overflow(text.to_string());
        let whole: u128 = match whole {
            "" => 0,
            w => w.parse().map_err(|_| overflow())?,
        };
        let mut part = whole.checked_mul(scale).ok_or_else(overflow)?;
        // The fraction, digit by digit, as Go does (exact for every digit that matters).
        let mut unit_fraction = scale;
        for digit in fraction.bytes() {
            unit_fraction /= 10;
            part += u128::from(digit - b'0') * unit_fraction;
        }
        nanos = nanos.checked_add(part).ok_or_else(overflow)?;
        if nanos > MAX_NANOS {
            return Err(overflow());
        }
        rest = next;
    }
    Ok(Duration::from_nanos(
        u64::try_from(nanos).map_err(|_| DurationError::Overflow(text.to_string()))?,
    ))
}

/// How kubectl reads a timeout flag.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeoutSyntax {
    /// A Go duration (`--timeout` of `kubectl rollout status`, `kubectl wait`).
    Duration,
    /// A Go duration, or a bare whole number of seconds (`--request-timeout`).
    DurationOrSeconds,
}

/// Parses a kubectl timeout flag: `0` means no limit (`None`).
pub fn parse_timeout(text: &str, syntax: TimeoutSyntax) -> Result<Option<Duration>, DurationError> {
    let trimmed = text.trim();
    let duration = match (syntax, trimmed.parse::<u64>()) {
        (TimeoutSyntax::DurationOrSeconds, Ok(seconds)) => Duration::from_secs(seconds),
        _ => parse(trimmed)?,
    };
    Ok((!duration.is_zero()).then_some(duration))
}

/// Writes a duration the way Go prints one (`1m30s`, `500ms`, `0s`), for messages.
pub fn format(duration: Duration) -> String {
    let nanos = duration.as_nanos();
    if nanos == 0 {
        return "0s".into();
    }
    if nanos < 1_000_000_000 {
        let (value, unit) = if nanos.is_multiple_of(1_000_000) {
            (nanos / 1_000_000, "ms")
        } else if nanos.is_multiple_of(1_000) {
            (nanos / 1_000, "µs")
        } else {
            (nanos, "ns")
        };
        return format!("{value}{unit}");
    }
    let secs = duration.as_secs();
    let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
    let millis = duration.subsec_millis();
    let mut out = String::new();
    if h > 0 {
        out.push_str(&format!("{h}h"));
    }
    if h > 0 || m > 0 {
        out.push_str(&format!("{m}m"));
    }
    if millis > 0 {
        let fraction = format!("{millis:03}");
        out.push_str(&format!("{s}.{}s", fraction.trim_end_matches('0')));
    } else {
        out.push_str(&format!("{s}s"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn go_duration_grammar() {
        let ok: &[(&str, Duration)] = &[
            ("0", Duration::ZERO),
            ("+0", Duration::ZERO),
            ("0s", Duration::ZERO),
            ("5s", ms(5_000)),
            ("90s", ms(90_000)),
            ("1m30s", ms(90_000)),
            ("1h2m3s", ms(3_723_000)),
            ("1.5h", ms(5_400_000)),
            (".5s", ms(500)),
            ("1.s", ms(1_000)),
            ("300ms", ms(300)),
            ("10us", Duration::from_micros(10)),
            ("10µs", Duration::from_micros(10)),
            ("7ns", Duration::from_nanos(7)),
            ("1s1m", ms(61_000)),
            ("2562047h", Duration::from_secs(2_562_047 * 3600)),
        ];
        for (text, want) in ok {
            assert_eq!(parse(text).as_ref(), Ok(want), "{text}");
        }
        type Is = fn(&DurationError) -> bool;
        let bad: &[(&str, Is)] = &[
            ("", |e| matches!(e, DurationError::Syntax(_))),
            ("10", |e| matches!(e, DurationError::NoUnit(_))),
            ("1.5", |e| matches!(e, DurationError::NoUnit(_))),
            ("-1s", |e| matches!(e, DurationError::Negative(_))),
            ("1d", |e| matches!(e, DurationError::Syntax(_))),
            ("s", |e| matches!(e, DurationError::Syntax(_))),
            (".s", |e| matches!(e, DurationError::Syntax(_))),
            ("1..5s", |e| matches!(e, DurationError::Syntax(_))),
            ("1 m", |e| matches!(e, DurationError::Syntax(_))),
            ("soon", |e| matches!(e, DurationError::Syntax(_))),
            ("3000000h", |e| matches!(e, DurationError::Overflow(_))),
        ];
        for (text, is) in bad {
            let err = parse(text).expect_err(text);
            assert!(is(&err), "{text}: {err:?}");
        }
    }

    #[test]
    fn kubectl_timeouts() {
        use TimeoutSyntax::*;
        assert_eq!(parse_timeout("0", Duration), Ok(None));
        assert_eq!(parse_timeout("0s", Duration), Ok(None));
        assert_eq!(parse_timeout("1m30s", Duration), Ok(Some(ms(90_000))));
        assert_eq!(
            parse_timeout("30", Duration),
            Err(DurationError::NoUnit("30".into()))
        );
        assert_eq!(parse_timeout("30", DurationOrSeconds), Ok(Some(ms(30_000))));
        assert_eq!(parse_timeout("0", DurationOrSeconds), Ok(None));
        assert_eq!(
            parse_timeout("1m30s", DurationOrSeconds),
            Ok(Some(ms(90_000)))
        );
        assert!(parse_timeout("-5", DurationOrSeconds).is_err());
    }

    #[test]
    fn formats_like_go() {
        assert_eq!(format(Duration::ZERO), "0s");
        assert_eq!(format(ms(500)), "500ms");
        assert_eq!(format(ms(5_000)), "5s");
        assert_eq!(format(ms(90_000)), "1m30s");
        assert_eq!(format(ms(3_600_000)), "1h0m0s");
        assert_eq!(format(ms(1_500)), "1.5s");
    }
}
