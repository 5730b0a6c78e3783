//! managedFields as the API server writes them: entries, and paths into their FieldsV1 sets (`f:`
//! fields, `k:{…}` list-map keys, `v:` set values, `i:` indexes, `.` the item itself).

use serde_json::Value;

/// One managedFields entry.
#[derive(Debug, Clone, PartialEq)]
pub struct ManagedEntry {
    pub manager: String,
    pub operation: String,
    pub time: String,
    pub subresource: String,
    pub fields: Value,
}

pub fn managed_entries(obj: &Value) -> Vec<ManagedEntry> {
    obj["metadata"]["managedFields"]
        .as_array()
        .map(|entries| {
            entries
                .iter()
                .map(|e| ManagedEntry {
                    manager: e["manager"].as_str().unwrap_or("(unnamed)").to_string(),
                    operation: e["operation"].as_str().unwrap_or_default().to_string(),
                    time: e["time"].as_str().unwrap_or_default().to_string(),
                    subresource: e["subresource"].as_str().unwrap_or_default().to_string(),
                    fields: e.get("fieldsV1").cloned().unwrap_or(Value::Null),
                })
                .collect()
        })
        .unwrap_or_default()
}

/// One step of a path into a FieldsV1 tree.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// `f:name`
    Field(String),
    /// `k:{"name":"app"}`: the list item whose keys have these values
    Key(Value),
}

/// Parses a FieldsV1 key; `None` for `.` and for keys this tool does not descend through.
pub fn parse_key(key: &str) -> Option<Step> {
    if let Some(name) = key.strip_prefix("f:") {
        return Some(Step::Field(name.to_string()));
    }
    if let Some(json) = key.strip_prefix("k:") {
        return serde_json::from_str(json).ok().map(Step::Key);
    }
    None
}

/// The subtree of `fields` at `path`, if the manager owns anything there.
pub fn subtree<'a>(fields: &'a Value, path: &[Step]) -> Option<&'a Value> {
    let mut node = fields;
    for step in path {
        let map = node.as_object()?;
        node = map.iter().find(|(k, _)| parse_key(k).as_ref() == Some(step)).map(|(_, v)| v)?;
    }
    Some(node)
}

/// Does the manager own the field at `path` or anything below it, other than the map keys `other`
/// picks (those that are not the field's role's)?
pub fn owns(fields: &Value, path: &[Step], other: Option<&dyn Fn(&str) -> bool>) -> bool {
    match (subtree(fields, path), other) {
        (None, _) => false,
        (Some(node), None) => node.is_object(),
        (Some(node), Some(other)) => node.as_object().is_some_and(|m| {
            m.is_empty()
                || m.keys().any(|k| match parse_key(k) {
                    Some(Step::Field(name)) => !other(&name),
                    Some(Step::Key(_)) => true,
                    // "." only says the map exists; it is not a value anyone set.
                    None => false,
                })
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn keys_parse() {
        assert_eq!(parse_key("f:image"), Some(Step::Field("image".into())));
        assert_eq!(
            parse_key("k:{\"containerPort\":80,\"protocol\":\"TCP\"}"),
            Some(Step::Key(json!({"protocol": "TCP", "containerPort": 80})))
        );
        assert_eq!(parse_key("."), None);
        assert_eq!(parse_key("v:\"x\""), None);
        assert_eq!(parse_key("k:{broken"), None);
    }
}
