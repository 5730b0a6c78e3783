//! Canonical forms: equal meaning, equal text. JSON with sorted keys, Kubernetes quantities by value,
//! and a small stable hash of text.

use serde_json::Value;

/// JSON with object keys sorted, so that equal values have equal text.
pub fn canonical_json(value: &Value) -> String {
    // Written straight out (no sorted copy of the value first): it runs for every unit of a
    // document, and a document may have 100,000.
    fn write(v: &Value, out: &mut String) {
        match v {
            Value::Object(m) => {
                let mut entries: Vec<(&String, &Value)> = m.iter().collect();
                entries.sort_unstable_by(|a, b| a.0.cmp(b.0));
                out.push('{');
                for (i, (k, v)) in entries.into_iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    string(k, out);
                    out.push(':');
                    write(v, out);
                }
                out.push('}');
            }
            Value::Array(a) => {
                out.push('[');
                for (i, v) in a.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    write(v, out);
                }
                out.push(']');
            }
            Value::String(s) => string(s, out),
            other => out.push_str(&other.to_string()),
        }
    }
    fn string(s: &str, out: &mut String) {
        // As serde_json writes it: quotes, backslashes and control characters escaped.
        if s.bytes().all(|b| b >= 0x20 && b != b'"' && b != b'\\') {
            out.push('"');
            out.push_str(s);
            out.push('"');
        } else {
            out.push_str(&Value::from(s).to_string());
        }
    }
    let mut out = String::new();
    write(value, &mut out);
    out
}

/// A Kubernetes quantity in a canonical form (`1000m`, `1` and `1e3m` are one value; `0.5Gi` and
/// `512Mi` too), or None if it is not a quantity.
pub fn canonical_quantity(text: &str) -> Option<String> {
    let text = text.trim();
    let (sign, rest) = match text.strip_prefix('-') {
        Some(r) => ("-", r),
        None => ("", text.strip_prefix('+').unwrap_or(text)),
    };
    let number_end = rest.find(|c: char| !c.is_ascii_digit() && c != '.').unwrap_or(rest.len());
    let (number, suffix) = rest.split_at(number_end);
    if number.is_empty() || number == "." || number.matches('.').count() > 1 {
        return None;
    }
    let (whole, frac) = number.split_once('.').unwrap_or((number, ""));
    let digits = format!("{whole}{frac}");
    if digits.len() > 30 {
        return None;
    }
    let mut mantissa: u128 = digits.parse().ok()?;
    let mut exp10: i64 = -(frac.len() as i64);
    let (e10, e2): (i64, u32) = match suffix {
        "" => (0, 0),
        "n" => (-9, 0),
        "u" => (-6, 0),
        "m" => (-3, 0),
        "k" => (3, 0),
        "M" => (6, 0),
        "G" => (9, 0),
        "T" => (12, 0),
        "P" => (15, 0),
        "E" => (18, 0),
        "Ki" => (0, 10),
        "Mi" => (0, 20),
        "Gi" => (0, 30),
        "Ti" => (0, 40),
        "Pi" => (0, 50),
        "Ei" => (0, 60),
        exp if exp.starts_with(['e', 'E']) => (exp[1..].parse().ok()?, 0),
        _ => return None,
    };
    exp10 += e10;
    mantissa = mantissa.checked_mul(1u128.checked_shl(e2)?)?;
    if mantissa == 0 {
        return Some("0".into());
    }
    while mantissa % 10 == 0 {
        mantissa /= 10;
        exp10 += 1;
    }
    Some(format!("{sign}{mantissa}e{exp10}"))
}

/// FNV-1a: small, stable across Rust versions and platforms (std's hasher is not).
pub fn fnv32(text: &str) -> u32 {
    text.bytes().fold(0x811c_9dc5u32, |h, b| (h ^ u32::from(b)).wrapping_mul(0x0100_0193))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_json_sorts_keys_and_escapes_as_serde_json() {
        let value = serde_json::json!({"b": [{"d": 1.5, "c": "x\"y\n\\"}, true, null], "a": {}, "é": -3});
        assert_eq!(canonical_json(&value), r#"{"a":{},"b":[{"c":"x\"y\n\\","d":1.5},true,null],"é":-3}"#);
        let text = "tab\there \u{7f} \u{1}";
        assert_eq!(canonical_json(&Value::from(text)), Value::from(text).to_string());
    }

    #[test]
    fn quantities_compare_by_value() {
        let cases = [
            ("1000m", "1"),
            ("1000", "1e3"),
            ("0.5Gi", "512Mi"),
            ("1Ki", "1024"),
            ("1.5", "1500m"),
            ("100M", "1e8"),
            ("0", "0m"),
        ];
        for (a, b) in cases {
            assert_eq!(canonical_quantity(a), canonical_quantity(b), "{a} = {b}");
            assert!(canonical_quantity(a).is_some(), "{a}");
        }
        for (a, b) in [("1", "2"), ("1Ki", "1k"), ("1m", "1M")] {
            assert_ne!(canonical_quantity(a), canonical_quantity(b), "{a} != {b}");
        }
        for bad in ["", "lots", "1.2.3", "1Zi", "."] {
            assert_eq!(canonical_quantity(bad), None, "{bad}");
        }
    }
}
