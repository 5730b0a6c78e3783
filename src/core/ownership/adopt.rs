//! Adopting and releasing: moving ownership of a role's fields to the role's manager, and back.

use serde_json::{Map, Value, json};

use crate::core::ownership::units::Unit;
use crate::format::canonical::canonical_json;
use crate::model::managed::{Step, parse_key};

/// A unit whose ownership moves, and from whom.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Moved {
    pub field: String,
    pub from: Vec<String>,
    /// Held by the manager's Update entry, not its Apply entry: a key that appears twice in the
    /// list, which server-side apply cannot address (an apply that left it out would delete it).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub by_update: bool,
}

/// managedFields with every unit in `units` moved from other managers to `manager` (as an Apply
/// entry, the way kubectl's client-side to server-side migration rewrites them), and every unit in
/// `by_update` (keys that appear twice) to the manager's Update entry, from its Apply entry too.
/// Entries for subresources (an autoscaler's /scale) are left alone. None if nothing moves.
pub fn adopt(
    object: &Value,
    units: &[&Unit],
    by_update: &[&Unit],
    manager: &str,
    api_version: &str,
    now: &str,
) -> Option<(Value, Vec<Moved>)> {
    let mut entries: Vec<Value> = object["metadata"]["managedFields"].as_array().cloned().unwrap_or_default();
    let mut moved = Vec::new();
    let mut gained: [Vec<(Vec<Step>, Value)>; 2] = Default::default();
    let each = units.iter().map(|u| (u, "Apply")).chain(by_update.iter().map(|u| (u, "Update")));
    for (unit, operation) in each {
        let mut from = Vec::new();
        let mut taken = Value::Object(Map::new());
        for entry in entries.iter_mut() {
            let target = entry["manager"] == manager && entry["operation"] == operation;
            let sub = entry.get("subresource").and_then(Value::as_str).is_some_and(|s| !s.is_empty());
            if target || sub {
                continue;
            }
            let Some(fields) = entry.get_mut("fieldsV1") else { continue };
            if let Some(subtree) = take_subtree(fields, &unit.path) {
                merge_fields(&mut taken, &subtree);
                from.push(entry["manager"].as_str().unwrap_or("(unnamed)").to_string());
            }
        }
        if !from.is_empty() {
            let by_update = operation == "Update";
            moved.push(Moved { field: unit.label.clone(), from, by_update });
            gained[usize::from(by_update)].push((unit.path.clone(), taken));
        }
    }
    if moved.is_empty() {
        return None;
    }
    entries.retain(|e| e["fieldsV1"].as_object().is_none_or(|m| !m.is_empty()));
    for (operation, gained) in ["Apply", "Update"].into_iter().zip(gained) {
        if gained.is_empty() {
            continue;
        }
        let position = entries
            .iter()
            .position(|e| e["manager"] == manager && e["operation"] == operation && main_entry(e));
        give(&mut entries, position, manager, operation, api_version, now, gained);
    }
    Some((Value::Array(entries), moved))
}

/// managedFields with `manager`'s ownership of every unit in `units` given up: moved to `to` (its
/// Apply entry, or its only entry, else a new Apply entry) or, with no `to`, dropped, so the values
/// stay and nobody (or the managers that co-own them) holds them. The reverse of `adopt`. Entries
/// for subresources are left alone. None if `manager` owns none of them.
pub fn release(
    object: &Value,
    units: &[&Unit],
    manager: &str,
    to: Option<&str>,
    api_version: &str,
    now: &str,
) -> Option<(Value, Vec<Moved>)> {
    let mut entries: Vec<Value> = object["metadata"]["managedFields"].as_array().cloned().unwrap_or_default();
    let mut moved = Vec::new();
    let mut gained: Vec<(Vec<Step>, Value)> = Vec::new();
    for unit in units {
        let mut taken = Value::Object(Map::new());
        let mut found = false;
        for entry in entries.iter_mut() {
            let sub = entry.get("subresource").and_then(Value::as_str).is_some_and(|s| !s.is_empty());
            if entry["manager"] != manager || sub {
                continue;
            }
            let Some(fields) = entry.get_mut("fieldsV1") else { continue };
            if let Some(subtree) = take_subtree(fields, &unit.path) {
                merge_fields(&mut taken, &subtree);
                found = true;
                // A list item it now holds only by its keys, on this path: its existence is no
                // longer the role's to keep.
                prune_bare_items(fields, &unit.path);
            }
        }
        if found {
            moved.push(Moved {
                field: unit.label.clone(),
                from: vec![manager.to_string()],
                by_update: false,
            });
            gained.push((unit.path.clone(), taken));
        }
    }
    if moved.is_empty() {
        return None;
    }
    entries.retain(|e| e["fieldsV1"].as_object().is_none_or(|m| !m.is_empty()));
    if let Some(to) = to {
        let at = entries
            .iter()
            .position(|e| e["manager"] == to && e["operation"] == "Apply" && main_entry(e))
            .or_else(|| entries.iter().position(|e| e["manager"] == to && main_entry(e)));
        give(&mut entries, at, to, "Apply", api_version, now, gained);
    }
    Some((Value::Array(entries), moved))
}

/// An entry for the object itself, not a subresource (an autoscaler's /scale).
fn main_entry(entry: &Value) -> bool {
    entry.get("subresource").and_then(Value::as_str).is_none_or(str::is_empty)
}

/// Adds the `gained` subtrees to the entry at `at`, or to a new entry of `manager` and `operation`.
fn give(
    entries: &mut Vec<Value>,
    at: Option<usize>,
    manager: &str,
    operation: &str,
    api_version: &str,
    now: &str,
    gained: Vec<(Vec<Step>, Value)>,
) {
    let at = at.unwrap_or_else(|| {
        entries.push(json!({"manager": manager, "operation": operation, "apiVersion": api_version,
                            "time": now, "fieldsType": "FieldsV1", "fieldsV1": {}}));
        entries.len() - 1
    });
    entries[at]["time"] = json!(now);
    for (path, subtree) in gained {
        add_subtree(&mut entries[at]["fieldsV1"], &path, subtree);
    }
}

/// Along `path` (whose leaf was just taken), removes list items (`k:{…}`) left holding nothing but
/// their own keys, and fields left with nothing but `.`. Only what the release emptied goes: an item
/// the manager applied with only its keys (a port: containerPort and protocol) elsewhere stays.
fn prune_bare_items(fields: &mut Value, path: &[Step]) {
    let Some((first, rest)) = path.split_first() else { return };
    let Some(map) = fields.as_object_mut() else { return };
    let Some(key) = map.keys().find(|k| parse_key(k).as_ref() == Some(first)).cloned() else { return };
    let Some(child) = map.get_mut(&key) else { return };
    prune_bare_items(child, rest);
    let identity: Vec<String> = match first {
        Step::Key(k) => k.as_object().into_iter().flatten().map(|(n, _)| format!("f:{n}")).collect(),
        Step::Field(_) => Vec::new(),
    };
    if child
        .as_object()
        .is_some_and(|m| !rest.is_empty() && m.keys().all(|k| k == "." || identity.contains(k)))
    {
        map.shift_remove(&key);
    }
}

/// Removes and returns the subtree at `path`; parents left empty go too.
fn take_subtree(fields: &mut Value, path: &[Step]) -> Option<Value> {
    let (first, rest) = path.split_first()?;
    let map = fields.as_object_mut()?;
    let key = map.keys().find(|k| parse_key(k).as_ref() == Some(first))?.clone();
    if rest.is_empty() {
        return map.shift_remove(&key);
    }
    let child = map.get_mut(&key)?;
    let taken = take_subtree(child, rest)?;
    // A node with only "." (or nothing) left says only that the parent exists: not a field anyone set.
    if child.as_object().is_some_and(|m| m.keys().all(|k| k == ".")) {
        map.shift_remove(&key);
    }
    Some(taken)
}

fn merge_fields(into: &mut Value, from: &Value) {
    if let (Some(into), Some(from)) = (into.as_object_mut(), from.as_object()) {
        for (k, v) in from {
            merge_fields(into.entry(k.clone()).or_insert_with(|| json!({})), v);
        }
    }
}

fn add_subtree(fields: &mut Value, path: &[Step], subtree: Value) {
    let mut node = fields;
    for step in path {
        if !node.is_object() {
            *node = json!({});
        }
        let Some(map) = node.as_object_mut() else { return };
        let key = match step {
            Step::Field(f) => format!("f:{f}"),
            Step::Key(k) => format!("k:{}", canonical_json(k)),
        };
        let child = map.entry(key).or_insert_with(|| json!({}));
        if let Step::Key(k) = step {
            // An item an apply names is owned with its keys, as the server records it.
            let child_map = child.as_object_mut().expect("inserted as an object");
            child_map.entry(".").or_insert_with(|| json!({}));
            for name in k.as_object().into_iter().flat_map(|m| m.keys()) {
                child_map.entry(format!("f:{name}")).or_insert_with(|| json!({}));
            }
        }
        node = child;
    }
    merge_fields(node, &subtree);
}
