//! Units: the pieces of a role's fields that server-side apply tracks ownership of.

use std::collections::{HashMap, HashSet};

use serde_json::{Map, Value, json};

use crate::format::canonical::{canonical_json, canonical_quantity};
use crate::model::managed::{Step, managed_entries, subtree};
use crate::model::object::{all_containers, container_name, get_path};
use crate::model::roles::{KindInfo, OtherKeys, Profile, RoleName};
use crate::model::schema::{KindSchema, ListType};

/// Keyed lists (the API's `x-kubernetes-list-map-keys`) among role fields, by field name. Their items
/// merge one by one; every other list is atomic (owned and replaced whole).
const LIST_MAP_KEYS: &[(&str, &[&str])] = &[
    ("env", &["name"]),
    ("ports", &["containerPort", "protocol"]),
    ("topologySpreadConstraints", &["topologyKey", "whenUnsatisfiable"]),
    ("claims", &["name"]),
    ("volumeMounts", &["mountPath"]),
    ("volumes", &["name"]),
];

pub(super) fn list_map_keys(field: &str) -> Option<&'static [&'static str]> {
    LIST_MAP_KEYS.iter().find(|(name, _)| *name == field).map(|(_, keys)| *keys)
}

/// One unit of a role's fields.
#[derive(Debug, Clone, PartialEq)]
pub struct Unit {
    /// From the object root, as managedFields address it.
    pub path: Vec<Step>,
    /// As role documents name it: `containers.app.env.MODE`, `metadata.labels.team`.
    pub label: String,
    pub value: Value,
    /// The value in a canonical form: equal meaning, equal text (`1000m` and `1` are one quantity).
    pub(super) canon: String,
    /// `path_key(path)`, made once: plans look units up by it several times each.
    pub(super) key: String,
}

impl Unit {
    pub(super) fn new(path: Vec<Step>, label: String, value: Value, canon: String) -> Unit {
        Unit { key: path_key(&path), path, label, value, canon }
    }

    pub fn key(&self) -> &str {
        &self.key
    }

    pub fn same_value(&self, other: &Unit) -> bool {
        self.canon == other.canon
    }
}

/// The units of an object, in document order.
#[derive(Debug, Clone, Default)]
pub struct Units {
    items: Vec<Unit>,
    index: HashMap<String, usize>,
    /// Keys that appear more than once (the API accepts duplicate env names and ports).
    duplicates: HashSet<String>,
}

impl Units {
    pub fn get(&self, key: &str) -> Option<&Unit> {
        self.index.get(key).map(|&i| &self.items[i])
    }

    pub fn iter(&self) -> impl Iterator<Item = &Unit> {
        self.items.iter()
    }

    pub fn is_duplicate(&self, key: &str) -> bool {
        self.duplicates.contains(key)
    }

    fn push(&mut self, unit: Unit) {
        let key = unit.key().to_string();
        if self.index.contains_key(&key) {
            self.duplicates.insert(key);
            return;
        }
        self.index.insert(key, self.items.len());
        self.items.push(unit);
    }
}

pub(super) fn path_key(path: &[Step]) -> String {
    path.iter()
        .map(|s| match s {
            Step::Field(f) => format!("f:{f}"),
            Step::Key(k) => format!("k:{}", canonical_json(k)),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn fields(path: &[String]) -> Vec<Step> {
    path.iter().cloned().map(Step::Field).collect()
}

/// The units of a role's fields in `obj` (a live object, or the partial object a document decodes
/// to). Keys the profile excludes (written by tools) or reserves (no role's) are not units.
pub fn units(profile: &Profile, role: RoleName, kind: &KindInfo, obj: &Value) -> Units {
    let role = profile.role(role);
    let mut out = Units::default();
    if role.container_fields().next().is_some() {
        // Init containers are a list keyed by name too, so each is its own set of units.
        for (list, c) in all_containers(obj, kind) {
            let name = container_name(c);
            let mut prefix = fields(&kind.container_list_path(list));
            prefix.push(Step::Key(json!({"name": name})));
            for field in role.container_fields() {
                if let Some(v) = get_path(c, &field.path.segments) {
                    let mut path = prefix.clone();
                    path.extend(fields(&field.path.segments));
                    let label = format!("{list}.{name}.{}", field.name);
                    decompose(&mut out, path, label, v, &OtherKeys::default(), kind.schema.as_deref());
                }
            }
        }
    }
    for (trait_name, fs) in role.object_traits(&kind.kind) {
        for field in fs {
            let path = field.path.in_object(kind);
            if let Some(v) = get_path(obj, &path) {
                let label = format!("{trait_name}.{}", field.name);
                let other = profile.other_keys(kind, field);
                let v = &field.own_items(v);
                decompose(&mut out, fields(&path), label, v, &other, kind.schema.as_deref());
            }
        }
    }
    out
}

/// The keys reserved inside a role's fields (no role's: security settings) that `manager` holds by
/// apply in `obj`, at their live values. A write of the role sends them as they are: left out, they
/// would be released, and the server would remove them.
pub fn reserved_held(
    profile: &Profile,
    role: RoleName,
    kind: &KindInfo,
    obj: &Value,
    manager: &str,
) -> Vec<Unit> {
    let entries = managed_entries(obj);
    let Some(own) =
        entries.iter().find(|e| e.manager == manager && e.operation == "Apply" && e.subresource.is_empty())
    else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (trait_name, fs) in profile.role(role).object_traits(&kind.kind) {
        for field in fs {
            let path = field.path.in_object(kind);
            let Some(Value::Object(map)) = get_path(obj, &path) else { continue };
            for (k, v) in map.iter().filter(|(k, _)| profile.reserved_by(kind, &path, k).is_some()) {
                let mut at = fields(&path);
                at.push(Step::Field(k.clone()));
                if subtree(&own.fields, &at).is_some() {
                    out.push(leaf(at, format!("{trait_name}.{}.{k}", field.name), v));
                }
            }
        }
    }
    out
}

/// The units of `fields` (`(label, path from the root)`) of another object a role writes beside
/// the workload (the autoscaler), cut the same way as the workload's traits.
pub fn field_units(obj: &Value, fields: impl IntoIterator<Item = (String, Vec<String>)>) -> Units {
    let mut out = Units::default();
    for (label, path) in fields {
        if let Some(v) = get_path(obj, &path) {
            decompose(&mut out, self::fields(&path), label, v, &OtherKeys::default(), None);
        }
    }
    out
}

/// [`field_units`] of an object whose keyed lists `schema` names (a related object's: a Service's
/// `ports` are keyed by port and protocol, not by a container's).
/// `exclude`: keys of a map field that are not the role's (tool-written annotations).
pub fn field_units_in<'a>(
    obj: &Value,
    fields: impl IntoIterator<Item = (String, Vec<String>, &'a [String])>,
    schema: Option<&KindSchema>,
) -> Units {
    let mut out = Units::default();
    for (label, path, exclude) in fields {
        if let Some(v) = get_path(obj, &path) {
            let other = OtherKeys { exclude, reserved: Vec::new() };
            decompose(&mut out, self::fields(&path), label, v, &other, schema);
        }
    }
    out
}

/// The keys of the keyed list at `path`: from the kind's schema when it has one (a custom kind's),
/// else the built-in kinds' known ones.
fn keys_of(path: &[Step], schema: Option<&KindSchema>) -> Option<Vec<String>> {
    if let Some(schema) = schema {
        let schema_path: Vec<String> = path
            .iter()
            .map(|s| match s {
                Step::Field(f) => f.clone(),
                Step::Key(_) => "[]".to_string(),
            })
            .collect();
        match schema.list_type(&schema_path) {
            Some(ListType::Map(keys)) => return Some(keys),
            Some(ListType::Atomic | ListType::Set) => return None,
            None => {}
        }
    }
    match path.last() {
        Some(Step::Field(f)) => list_map_keys(f).map(|keys| keys.iter().map(|k| k.to_string()).collect()),
        _ => None,
    }
}

fn decompose(
    out: &mut Units,
    path: Vec<Step>,
    label: String,
    value: &Value,
    other: &OtherKeys,
    schema: Option<&KindSchema>,
) {
    match value {
        Value::Null => {}
        Value::Object(m) if m.is_empty() => {}
        Value::Array(a) if a.is_empty() => {}
        Value::Object(m) => {
            for (k, v) in m.iter().filter(|(k, _)| !other.contains(k)) {
                let mut next = path.clone();
                next.push(Step::Field(k.clone()));
                decompose(out, next, format!("{label}.{k}"), v, &OtherKeys::default(), schema);
            }
        }
        Value::Array(items) => {
            let keyed = keys_of(&path, schema);
            let item_keys: Option<Vec<Map<String, Value>>> = keyed.and_then(|keys| {
                let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
                items.iter().map(|item| item_key(item, &keys)).collect()
            });
            match item_keys {
                Some(item_keys) => {
                    for (item, key) in items.iter().zip(item_keys) {
                        let item_label = format!("{label}{}", key_label(&key));
                        let mut next = path.clone();
                        next.push(Step::Key(Value::Object(key)));
                        let value = canonical_item(item);
                        let canon = canonical_json(&value);
                        out.push(Unit::new(next, item_label, value, canon));
                    }
                }
                // Not a keyed list, or an item without its keys: the list is one unit.
                None => out.push(leaf(path, label, value)),
            }
        }
        _ => out.push(leaf(path, label, value)),
    }
}

pub(super) fn leaf(path: Vec<Step>, label: String, value: &Value) -> Unit {
    let canon = match quantity_text(&path, value) {
        Some(q) => canonical_quantity(&q).unwrap_or(q),
        None => canonical_json(value),
    };
    Unit::new(path, label, value.clone(), canon)
}

/// The text of a value under `resources.limits` / `resources.requests` (a quantity).
fn quantity_text(path: &[Step], value: &Value) -> Option<String> {
    let n = path.len();
    let is_quantity = n >= 3
        && matches!(&path[n - 2], Step::Field(f) if f == "limits" || f == "requests")
        && matches!(&path[n - 3], Step::Field(f) if f == "resources");
    if !is_quantity {
        return None;
    }
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// The key fields of a keyed-list item; ports default their protocol to TCP as the server does.
pub(super) fn item_key(item: &Value, keys: &[&str]) -> Option<Map<String, Value>> {
    let obj = item.as_object()?;
    let mut key = Map::new();
    for k in keys {
        let v = match (obj.get(*k), *k) {
            (Some(v), _) if !v.is_null() => v.clone(),
            (None | Some(Value::Null), "protocol") => json!("TCP"),
            _ => return None,
        };
        key.insert((*k).to_string(), v);
    }
    Some(key)
}

fn key_label(key: &Map<String, Value>) -> String {
    let text = |v: &Value| v.as_str().map_or_else(|| v.to_string(), str::to_string);
    match key.get("name") {
        Some(name) if key.len() == 1 => format!(".{}", text(name)),
        _ => format!("[{}]", key.values().map(text).collect::<Vec<_>>().join("/")),
    }
}

/// An item as the server stores it: an env var's empty value is the same as none; a port's protocol
/// defaults to TCP.
fn canonical_item(item: &Value) -> Value {
    let mut item = item.clone();
    if let Some(m) = item.as_object_mut() {
        if m.get("value").and_then(Value::as_str) == Some("") {
            m.remove("value");
        }
        if m.contains_key("containerPort") && m.get("protocol").is_none_or(Value::is_null) {
            m.insert("protocol".into(), json!("TCP"));
        }
    }
    item
}

/// The container a unit belongs to, if it is per container.
pub(super) fn container_of(unit: &Unit) -> Option<&str> {
    unit.path.windows(2).find_map(|w| match (&w[0], &w[1]) {
        (Step::Field(f), Step::Key(k)) if f == "containers" || f == "initContainers" => {
            k.get("name").and_then(Value::as_str)
        }
        _ => None,
    })
}
