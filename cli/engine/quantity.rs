//! Kubernetes resource quantities in one parser that follows the API's grammar
//! (`<signedNumber><suffix>`: binary `Ki…Ei`, decimal `n u m k M G T P E`, or an exponent
//! `e3`/`E-2`), for parameter validation and for the lint rules that add requests up.

/// A quantity that does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a resource quantity (e.g. 100m, 64Mi, 1.5, 2e3)")]
pub struct QuantityError(pub String);

/// Decimal SI suffixes and their powers of ten.
const DECIMAL: [(&str, i32); 9] = [
    ("n", -9),
    ("u", -6),
    ("m", -3),
    ("", 0),
    ("k", 3),
    ("M", 6),
    ("G", 9),
    ("T", 12),
    ("P", 15),
];

/// Binary SI suffixes and their powers of 1024.
const BINARY: [(&str, i32); 6] = [
    ("Ki", 1),
    ("Mi", 2),
    ("Gi", 3),
    ("Ti", 4),
    ("Pi", 5),
    ("Ei", 6),
];

/// Parses a quantity (`250m`, `1.5`, `64Mi`, `1e3`, `1E` = 10^18) to its value in base units
/// (cores for CPU, bytes for memory). Signs are allowed, as the API allows them.
pub fn parse(text: &str) -> Result<f64, QuantityError> {
    let err = || QuantityError(text.to_string());
    let t = text.trim();
    let unsigned = t.strip_prefix(['+', '-']).unwrap_or(t);
    let negative = t.starts_with('-');
    let number_end = unsigned
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(unsigned.len());
    let (number, suffix) = unsigned.split_at(number_end);
    let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
    if (whole.is_empty() && fraction.is_empty()) || fraction.contains('.') {
        return Err(err());
    }
    let mantissa: f64 = format!(
        "{}.{}",
        if whole.is_empty() { "0" } else { whole },
        fraction
    )
    .parse()
    .map_err(|_| err())?;
    let factor = if let Some((_, power)) = BINARY.iter().find(|(s, _)| *s == suffix) {
        1024f64.powi(*power)
    } else if let Some((_, power)) = DECIMAL.iter().find(|(s, _)| *s == suffix) {
        10f64.powi(*power)
    } else if suffix == "E" {
        1e18
    } else {
        // An exponent: e or E, an optional sign, digits.
        let exponent = suffix
            .strip_prefix(['e', 'E'])
            .filter(|e| !e.is_empty())
            .ok_or_else(err)?;
        let digits = exponent.strip_prefix(['+', '-']).unwrap_or(exponent);
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(err());
        }
        let power: i32 = exponent.parse().map_err(|_| err())?;
        10f64.powi(power)
    };
    let value = mantissa * factor;
    if !value.is_finite() {
        return Err(err());
    }
    Ok(if negative { -value } else { value })
}

/// Formats CPU cores as Kubernetes writes them (`250m`, `2`).
pub fn format_cpu(cores: f64) -> String {
    let milli = (cores * 1000.0).round() as i64;
    if milli % 1000 == 0 {
        format!("{}", milli / 1000)
    } else {
        format!("{milli}m")
    }
}

/// Formats bytes with a binary suffix (`64Mi`, `1.5Gi`).
pub fn format_memory(bytes: f64) -> String {
    const UNITS: [(&str, f64); 4] = [
        ("Ti", 1024.0 * 1024.0 * 1024.0 * 1024.0),
        ("Gi", 1024.0 * 1024.0 * 1024.0),
        ("Mi", 1024.0 * 1024.0),
        ("Ki", 1024.0),
    ];
    for (unit, size) in UNITS {
        if bytes >= size {
            let v = bytes / size;
            return if (v - v.round()).abs() < 1e-9 {
                format!("{}{unit}", v.round())
            } else {
                format!("{v:.1}{unit}")
            };
        }
    }
    format!("{bytes}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_apis_grammar() {
        let ok: &[(&str, f64)] = &[
            ("250m", 0.25),
            ("2", 2.0),
            ("1.5", 1.5),
            (".5", 0.5),
            ("5.", 5.0),
            ("64Mi", 64.0 * 1024.0 * 1024.0),
            ("1Ki", 1024.0),
            ("1Ei", 1024f64.powi(6)),
            ("1e3", 1000.0),
            ("1E3", 1000.0),
            ("1e-3", 0.001),
            ("1e+3", 1000.0),
            ("1E", 1e18),
            ("1G", 1e9),
            ("1k", 1000.0),
            ("100n", 1e-7),
            ("3u", 3e-6),
            ("+1", 1.0),
            ("-1", -1.0),
        ];
        for (text, want) in ok {
            let got = parse(text).unwrap_or_else(|e| panic!("{e}"));
            assert!((got - want).abs() <= want.abs() * 1e-12, "{text}: {got}");
        }
        for text in [
            "", "lots", "1K", "1e", "1Mb", "1.2.3", "e3", ".", "1ki", "1e1.5", "1e400", "1 Mi",
        ] {
            assert_eq!(parse(text), Err(QuantityError(text.to_string())), "{text}");
        }
    }

    #[test]
    fn formats() {
        assert_eq!(format_cpu(0.25), "250m");
        assert_eq!(format_cpu(2.0), "2");
        assert_eq!(format_memory(64.0 * 1024.0 * 1024.0), "64Mi");
        assert_eq!(format_memory(1.5 * 1024.0 * 1024.0 * 1024.0), "1.5Gi");
    }
}
