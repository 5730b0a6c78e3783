//! managedFields as the API server writes them: entries, and paths into their FieldsV1 sets (`f:`
//! fields, `k:{…}` list-map keys, `v:` set values, `i:` indexes, `.` the item itself).

use serde_json::Value;

use crate::format::canonical::canonical_json;

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
                    fields: e.get("fieldsV1").map_or(Value::Null, canonical_keys),
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

/// A FieldsV1 set with each `k:` key written as `step_key` writes it (the server's JSON may order
/// or space a key's fields otherwise), so that a step is found by one lookup, not by parsing every
/// key of a list of 100,000 items for each.
fn canonical_keys(fields: &Value) -> Value {
    match fields {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| {
                    let key = match parse_key(k) {
                        Some(step @ Step::Key(_)) => step_key(&step),
                        _ => k.clone(),
                    };
                    (key, canonical_keys(v))
                })
                .collect(),
        ),
        other => other.clone(),
    }
}

/// A step as a FieldsV1 key: `f:name`, or `k:` and the key's canonical JSON.
pub fn step_key(step: &Step) -> String {
    match step {
        Step::Field(name) => format!("f:{name}"),
        Step::Key(key) => format!("k:{}", canonical_json(key)),
    }
}

/// The subtree of `fields` (of a `managed_entries` entry: its keys are canonical) at `path`, if
/// the manager owns anything there.
pub fn subtree<'a>(fields: &'a Value, path: &[Step]) -> Option<&'a Value> {
    let mut node = fields;
    for step in path {
        node = node.as_object()?.get(&step_key(step))?;
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
    fn steps_are_found_however_the_server_spelled_their_keys() {
        let obj = json!({"metadata": {"managedFields": [{"manager": "m", "fieldsV1": {"f:ports": {
            "k:{\"protocol\":\"TCP\",\"containerPort\":80}": {"f:name": {}},
            "k:{ \"containerPort\": 81, \"protocol\": \"UDP\" }": {}}}}]}});
        let fields = &managed_entries(&obj)[0].fields;
        let port = |n: u16, protocol: &str| {
            vec![Step::Field("ports".into()), Step::Key(json!({"containerPort": n, "protocol": protocol}))]
        };
        assert_eq!(subtree(fields, &port(80, "TCP")), Some(&json!({"f:name": {}})));
        assert_eq!(subtree(fields, &port(81, "UDP")), Some(&json!({})));
        assert_eq!(subtree(fields, &port(80, "UDP")), None);
        let mut name = port(80, "TCP");
        name.push(Step::Field("name".into()));
        assert!(owns(fields, &name[..1], None) && subtree(fields, &name).is_some());
    }

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
