//! `--namespace-selector`: kubectl's label selector syntax as the LabelSelector object a policy
//! binding takes.

use serde_json::{Map, Value, json};

use crate::error::{Error, Result};

/// A label selector (`a=b,c!=d,e in (x,y),f notin (z),g,!h`) as a LabelSelector object.
pub fn parse_selector(text: &str) -> Result<Value> {
    let bad = |why: &str| Error::Usage(format!("--namespace-selector \"{text}\": {why}"));
    let mut parts = Vec::new();
    let (mut depth, mut start) = (0, 0);
    for (i, c) in text.char_indices() {
        match c {
            '(' => depth += 1,
            ')' if depth == 0 => return Err(bad("unbalanced ')'")),
            ')' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    if depth != 0 {
        return Err(bad("unbalanced '('"));
    }
    parts.push(&text[start..]);
    let valid = |s: &str| {
        !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || "-_./".contains(c)) && s.len() <= 317
    };
    let valid_value = |s: &str| s.is_empty() || valid(s);
    let mut labels = Map::new();
    let mut expressions = Vec::new();
    for part in parts.iter().map(|p| p.trim()) {
        if part.is_empty() {
            return Err(bad("empty requirement"));
        }
        let set = |rest: &str| -> Result<Vec<Value>> {
            let inner = rest
                .trim()
                .strip_prefix('(')
                .and_then(|r| r.strip_suffix(')'))
                .ok_or_else(|| bad("expected a (list, of, values)"))?;
            inner
                .split(',')
                .map(|v| v.trim())
                .map(|v| {
                    if valid_value(v) {
                        Ok(json!(v))
                    } else {
                        Err(bad(&format!("\"{v}\" is not a label value")))
                    }
                })
                .collect()
        };
        let words: Vec<&str> = part.splitn(2, char::is_whitespace).collect();
        let (key, requirement) = if let [key, rest] = words[..] {
            let rest = rest.trim_start();
            if let Some(values) = rest.strip_prefix("notin") {
                (key, json!({"key": key, "operator": "NotIn", "values": set(values)?}))
            } else if let Some(values) = rest.strip_prefix("in") {
                (key, json!({"key": key, "operator": "In", "values": set(values)?}))
            } else {
                return Err(bad(&format!("cannot read \"{part}\"")));
            }
        } else if let Some((key, value)) = part.split_once("!=") {
            (key, json!({"key": key.trim(), "operator": "NotIn", "values": [value.trim()]}))
        } else if let Some((key, value)) = part.split_once("==").or_else(|| part.split_once('=')) {
            let (key, value) = (key.trim(), value.trim());
            if !valid(key) || !valid_value(value) {
                return Err(bad(&format!("cannot read \"{part}\"")));
            }
            if labels.insert(key.to_string(), json!(value)).is_some() {
                return Err(bad(&format!("\"{key}\" is given twice")));
            }
            continue;
        } else if let Some(key) = part.strip_prefix('!') {
            (key, json!({"key": key.trim(), "operator": "DoesNotExist"}))
        } else {
            (part, json!({"key": part, "operator": "Exists"}))
        };
        let key = key.trim();
        let value_ok = requirement["values"]
            .as_array()
            .is_none_or(|v| v.iter().all(|v| valid_value(v.as_str().unwrap_or("-"))));
        if !valid(key) || !value_ok {
            return Err(bad(&format!("cannot read \"{part}\"")));
        }
        expressions.push(requirement);
    }
    let mut selector = Map::new();
    if !labels.is_empty() {
        selector.insert("matchLabels".into(), Value::Object(labels));
    }
    if !expressions.is_empty() {
        selector.insert("matchExpressions".into(), Value::Array(expressions));
    }
    Ok(Value::Object(selector))
}
