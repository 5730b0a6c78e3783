//! Values typed into role documents that the server would misread or refuse without naming the
//! field: quantities of resources, and text fields given other values.

use serde_json::Value;

use crate::model::roles::Field;

use crate::error::Problem as DocProblem;

/// Resource limits and requests are quantities: one the server cannot read is refused naming its
/// field (the server's own message names none).
pub(super) fn quantity_problem(field: &Field, value: &Value, at: &[String]) -> Option<DocProblem> {
    if field.path.segments.last().map(String::as_str) != Some("resources") {
        return None;
    }
    ["limits", "requests"].iter().find_map(|list| {
        let amounts = value.get(*list)?.as_object()?;
        amounts.iter().find_map(|(name, amount)| {
            let ok = match amount {
                Value::Number(_) => true,
                Value::String(s) => is_quantity(s),
                _ => false,
            };
            let here: Vec<String> = at.iter().cloned().chain([list.to_string(), name.clone()]).collect();
            (!ok).then(|| {
                DocProblem::at(
                    &here,
                    format!(
                        "{}: {amount} is not a quantity; write a number with an optional unit, e.g. 250m, 0.5, 1Gi or 512M",
                        here.join(".")
                    ),
                )
            })
        })
    })
}

/// Kubernetes' quantity syntax, as resource.ParseQuantity reads it (surrounding blanks trimmed): an
/// optionally signed decimal number, then a binary (Ki…Ei) or decimal (n, u, m, k, M…E) suffix or
/// an exponent (e3, E-2).
pub fn is_quantity(text: &str) -> bool {
    let s = text.trim();
    let unsigned = s.strip_prefix(['+', '-']).unwrap_or(s);
    let end = unsigned.find(|c: char| !c.is_ascii_digit() && c != '.').unwrap_or(unsigned.len());
    let (number, suffix) = unsigned.split_at(end);
    let exponent = suffix
        .strip_prefix(['e', 'E'])
        .map(|e| e.strip_prefix(['+', '-']).unwrap_or(e))
        .is_some_and(|digits| !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()));
    const SUFFIXES: [&str; 16] =
        ["", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei", "n", "u", "m", "k", "M", "G", "T", "P", "E"];
    // The number may be empty ("Gi", "-" read as 0), the text may not.
    !s.is_empty() && number.matches('.').count() <= 1 && (SUFFIXES.contains(&suffix) || exponent)
}

/// Fields whose values are text, whole or per key/item. A number or boolean written there unquoted
/// would be re-typed, or refused by the server with a message naming no field.
pub(super) fn text_problem(field: &Field, value: &Value, at: &[String]) -> Option<DocProblem> {
    let last = field.path.segments.last().map(String::as_str).unwrap_or_default();
    let not_text = |v: &Value, at: Vec<String>| match v {
        Value::String(_) => None,
        Value::Number(_) | Value::Bool(_) | Value::Null => {
            let shown = if v.is_null() { String::new() } else { v.to_string() };
            let what = if v.is_number() {
                "a number"
            } else if v.is_boolean() {
                "a boolean"
            } else {
                "empty (null)"
            };
            Some(DocProblem::at(
                &at,
                format!("{}: {last} are text, and this is {what}; quote it: \"{shown}\"", at.join(".")),
            ))
        }
        _ => None,
    };
    let child = |k: String| {
        let mut here = at.to_vec();
        here.push(k);
        here
    };
    match (last, value) {
        ("labels" | "annotations" | "nodeSelector", Value::Object(m)) => {
            m.iter().find_map(|(k, v)| not_text(v, child(k.clone())))
        }
        ("command" | "args", Value::Array(items)) => {
            items.iter().enumerate().find_map(|(i, v)| not_text(v, child(i.to_string())))
        }
        _ => None,
    }
}
