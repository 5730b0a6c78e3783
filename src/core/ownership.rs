//! What a role write sends, and so owns. Pure: given the live object (with managedFields), the
//! document as it was read (its base) and the document now, it decides the server-side apply body,
//! the removals, and what must be refused. Nothing here talks to a cluster.
//!
//! A role's fields are cut into *units*, the pieces server-side apply tracks ownership of: a scalar,
//! a map key (a label, `resources.requests.cpu`), an atomic list (`command`, `tolerations`), or one
//! item of a keyed list (an env var by name, a port by containerPort+protocol). The rules:
//!
//! - A write sends the units the person set in this write plus the units the role's manager already
//!   owns, those at their live values unless changed now. Units merely visible in a document are
//!   never sent, so an unrelated write never becomes a co-owner that blocks another manager's
//!   removal.
//! - A document that carries its base (what it was read from) changes only what differs from that
//!   base; a unit someone changed since is refused, never reverted. A document without a base is
//!   desired state: everything in it is set, and units the manager owns that it leaves out are
//!   released.
//! - A removal of a unit another manager also holds is refused, or with force carried out by a
//!   JSON patch: server-side apply cannot remove a field someone else owns.

use std::collections::{HashMap, HashSet};

use serde_json::{Map, Value, json};

use crate::format::canonical::{canonical_json, canonical_quantity, fnv32};
use crate::model::managed::{ManagedEntry, Step, managed_entries, parse_key, subtree};
use crate::model::object::{all_containers, container_name, get_path};
use crate::model::roles::{KindInfo, Profile, RoleName};
use crate::model::schema::{KindSchema, ListType};

/// Keyed lists (the API's `x-kubernetes-list-map-keys`) among role fields, by field name. Their items
/// merge one by one; every other list is atomic (owned and replaced whole).
const LIST_MAP_KEYS: &[(&str, &[&str])] = &[
    ("env", &["name"]),
    ("ports", &["containerPort", "protocol"]),
    ("topologySpreadConstraints", &["topologyKey", "whenUnsatisfiable"]),
    ("claims", &["name"]),
];

fn list_map_keys(field: &str) -> Option<&'static [&'static str]> {
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
    canon: String,
}

impl Unit {
    pub fn key(&self) -> String {
        path_key(&self.path)
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
        let key = unit.key();
        if self.index.contains_key(&key) {
            self.duplicates.insert(key);
            return;
        }
        self.index.insert(key, self.items.len());
        self.items.push(unit);
    }
}

/// The same units with the same values (in any order)?
pub fn same_units(a: &Units, b: &Units) -> bool {
    a.items.len() == b.items.len() && a.iter().all(|u| b.get(&u.key()).is_some_and(|v| v.canon == u.canon))
}

fn path_key(path: &[Step]) -> String {
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
/// to). Keys the profile excludes (written by tools) are not units.
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
                    decompose(&mut out, path, label, v, &[], kind.schema.as_deref());
                }
            }
        }
    }
    for (trait_name, fs) in role.object_traits(&kind.kind) {
        for field in fs {
            let path = field.path.in_object(kind);
            if let Some(v) = get_path(obj, &path) {
                let label = format!("{trait_name}.{}", field.name);
                decompose(&mut out, fields(&path), label, v, &field.exclude, kind.schema.as_deref());
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
            decompose(&mut out, self::fields(&path), label, v, &[], None);
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
    exclude: &[String],
    schema: Option<&KindSchema>,
) {
    match value {
        Value::Null => {}
        Value::Object(m) if m.is_empty() => {}
        Value::Array(a) if a.is_empty() => {}
        Value::Object(m) => {
            for (k, v) in m.iter().filter(|(k, _)| !exclude.contains(k)) {
                let mut next = path.clone();
                next.push(Step::Field(k.clone()));
                decompose(out, next, format!("{label}.{k}"), v, &[], schema);
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
                        out.push(Unit { path: next, label: item_label, value, canon });
                    }
                }
                // Not a keyed list, or an item without its keys: the list is one unit.
                None => out.push(leaf(path, label, value)),
            }
        }
        _ => out.push(leaf(path, label, value)),
    }
}

fn leaf(path: Vec<Step>, label: String, value: &Value) -> Unit {
    let canon = match quantity_text(&path, value) {
        Some(q) => canonical_quantity(&q).unwrap_or(q),
        None => canonical_json(value),
    };
    Unit { path, label, value: value.clone(), canon }
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
fn item_key(item: &Value, keys: &[&str]) -> Option<Map<String, Value>> {
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

// ---------------------------------------------------------------------------------------------
// The base: what a document was read from.

/// The key of a document's base in role documents.
pub const BASE_KEY: &str = "base";
const DIGEST_VERSION: &str = "v1";

/// What a document was read from: the object's resourceVersion, and a digest of each unit's value.
/// Units of another object the document shows (the autoscaler's) are recorded under a scope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Base {
    pub resource_version: String,
    digests: HashMap<u32, u32>,
    /// Which object's units `digest` looks up: None for the workload's.
    scope: Option<String>,
}

impl Base {
    /// `containers`: the containers the document showed (it may be filtered to one); what it did not
    /// show is not covered by the base.
    pub fn of(units: &Units, containers: &[String], resource_version: &str) -> Base {
        let digests = units
            .iter()
            .map(|u| (fnv32(&u.key()), fnv32(&u.canon)))
            .chain(containers.iter().map(|c| (fnv32(&coverage_key(c)), 0)))
            .collect();
        Base { resource_version: resource_version.to_string(), digests, scope: None }
    }

    /// Adds the units of another object the document shows, apart from the workload's.
    pub fn with_scoped(mut self, scope: &str, units: &Units) -> Base {
        self.digests.extend(units.iter().map(|u| (fnv32(&scoped_key(scope, &u.key())), fnv32(&u.canon))));
        self
    }

    /// The base as seen for the object `scope` names.
    pub fn scoped(&self, scope: &str) -> Base {
        Base { scope: Some(scope.to_string()), ..self.clone() }
    }

    /// Did the document this base records show this unit's place (its container)?
    fn covers(&self, unit: &Unit) -> bool {
        container_of(unit).is_none_or(|c| self.digests.contains_key(&fnv32(&coverage_key(c))))
    }

    /// `{resourceVersion, digest}`: opaque, but short and stable, so a person can leave it alone.
    pub fn to_value(&self) -> Value {
        let mut pairs: Vec<(u32, u32)> = self.digests.iter().map(|(k, v)| (*k, *v)).collect();
        pairs.sort_unstable();
        let bytes: Vec<u8> =
            pairs.iter().flat_map(|(k, v)| k.to_be_bytes().into_iter().chain(v.to_be_bytes())).collect();
        json!({
            "resourceVersion": self.resource_version,
            "digest": format!("{DIGEST_VERSION}.{}", base64url(&bytes)),
        })
    }

    pub fn from_value(value: &Value) -> Result<Base, String> {
        let bad = || {
            format!(
                "{BASE_KEY}: not a base written by kubectl oam (it records what the document was read from); restore it, or delete it to apply the document as desired state"
            )
        };
        let rv = value.get("resourceVersion").and_then(Value::as_str).ok_or_else(bad)?;
        let digest = value.get("digest").and_then(Value::as_str).ok_or_else(bad)?;
        if value.as_object().is_some_and(|m| m.len() != 2) {
            return Err(bad());
        }
        let encoded = digest.strip_prefix(&format!("{DIGEST_VERSION}.")).ok_or_else(bad)?;
        let bytes = from_base64url(encoded).ok_or_else(bad)?;
        if bytes.len() % 8 != 0 {
            return Err(bad());
        }
        let digests = bytes
            .chunks(8)
            .map(|c| {
                (u32::from_be_bytes([c[0], c[1], c[2], c[3]]), u32::from_be_bytes([c[4], c[5], c[6], c[7]]))
            })
            .collect();
        Ok(Base { resource_version: rv.to_string(), digests, scope: None })
    }

    /// Did the document this base records show `unit` with this same value?
    pub fn has_same(&self, unit: &Unit) -> bool {
        self.digest(&unit.key()) == Some(fnv32(&unit.canon))
    }

    fn digest(&self, unit_key: &str) -> Option<u32> {
        let key = match &self.scope {
            Some(scope) => scoped_key(scope, unit_key),
            None => unit_key.to_string(),
        };
        self.digests.get(&fnv32(&key)).copied()
    }
}

fn scoped_key(scope: &str, unit_key: &str) -> String {
    format!("{scope}:\n{unit_key}")
}

fn coverage_key(container: &str) -> String {
    format!("container:{container}")
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

fn base64url(bytes: &[u8]) -> String {
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().enumerate().fold(0u32, |n, (i, b)| n | u32::from(*b) << (16 - 8 * i));
        for i in 0..=chunk.len() {
            out.push(B64[(n >> (18 - 6 * i) & 63) as usize] as char);
        }
    }
    out
}

fn from_base64url(text: &str) -> Option<Vec<u8>> {
    let values: Vec<u32> =
        text.bytes().map(|c| B64.iter().position(|&b| b == c).map(|p| p as u32)).collect::<Option<_>>()?;
    if values.len() % 4 == 1 {
        return None;
    }
    let mut out = Vec::new();
    for chunk in values.chunks(4) {
        let n = chunk.iter().enumerate().fold(0u32, |n, (i, v)| n | v << (18 - 6 * i));
        for i in 0..chunk.len() - 1 {
            out.push((n >> (16 - 8 * i)) as u8);
        }
    }
    Some(out)
}

// ---------------------------------------------------------------------------------------------
// Planning a write.

/// What a document says, and what it speaks for.
#[derive(Debug, Clone)]
pub struct Intent<'a> {
    /// The units the document states.
    pub edited: &'a Units,
    /// What it was read from; None for a hand-written or GitOps document (desired state).
    pub base: Option<&'a Base>,
    /// Containers the document names (a document without a base speaks for these and for every
    /// object trait; a container it leaves out keeps its values).
    pub containers: &'a [String],
}

/// The object as it is now.
#[derive(Debug, Clone)]
pub struct Current<'a> {
    pub object: &'a Value,
    pub units: &'a Units,
    /// The role's field manager (owns what its Apply entry lists).
    pub manager: &'a str,
    /// Label of the unit an autoscaler holds (scaler.replicas), when one targets the workload.
    pub autoscaled: Option<&'a str>,
}

#[derive(Debug, Clone, Copy, Default)]
pub struct Permissions {
    /// Take over fields other managers hold, and remove fields they also hold.
    pub force: bool,
    /// Replace values someone changed since the document was read.
    pub overwrite: bool,
}

/// A unit someone changed after the document was read.
#[derive(Debug, Clone, PartialEq)]
pub struct Stale {
    pub label: String,
    /// Its value now (None: removed since).
    pub now: Option<Value>,
    /// Who holds it now, most recent first.
    pub by: Vec<String>,
}

/// A removal another field manager's ownership would keep in place.
#[derive(Debug, Clone, PartialEq)]
pub struct HeldRemoval {
    pub label: String,
    pub holders: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct WritePlan {
    /// The units to apply, in document order.
    pub send: Vec<Unit>,
    /// Labels of the units this write changes (set, change or remove).
    pub changed: Vec<String>,
    /// Changed since read: refused unless overwriting.
    pub stale: Vec<Stale>,
    /// Removals another manager holds: refused unless forced.
    pub held: Vec<HeldRemoval>,
    /// Removals to carry out with a JSON patch (forced, held by others).
    pub remove: Vec<Unit>,
    /// Removals only this manager holds: the apply releases them and the server removes them.
    pub released: Vec<Unit>,
    /// Removals nobody owns (server defaults): they stay.
    pub unowned: Vec<String>,
    /// A changed replica count while an autoscaler holds it.
    pub autoscaler_conflict: bool,
    /// Units the write touches whose key appears twice in the live object.
    pub duplicates: Vec<String>,
    /// Does the manager give up a unit it owns?
    pub releases: bool,
}

/// Decides what a write sends and removes. See the module comment for the rules.
pub fn plan(intent: &Intent, current: &Current, allow: Permissions) -> WritePlan {
    let entries = managed_entries(current.object);
    let own: Option<&ManagedEntry> = entries
        .iter()
        .find(|e| e.manager == current.manager && e.operation == "Apply" && e.subresource.is_empty());
    let owned = |u: &Unit| own.is_some_and(|e| subtree(&e.fields, &u.path).is_some());
    // The manager's own Update entries (left by a forced JSON patch): an apply cannot release what
    // they hold, so a removal of it goes by JSON patch, without needing force (nobody else holds it).
    let held_by_own_update = |path: &[Step]| {
        entries.iter().any(|e| {
            e.manager == current.manager && e.operation != "Apply" && subtree(&e.fields, path).is_some()
        })
    };
    let live = current.units;
    let edited = intent.edited;
    let in_scope = |u: &Unit| match container_of(u) {
        Some(name) => intent.containers.iter().any(|c| *c == name),
        None => true,
    };

    let mut plan = WritePlan::default();
    // What the person sets (with the value they set) and what they remove.
    let mut set: Vec<&Unit> = Vec::new();
    let mut removed: Vec<&Unit> = Vec::new();
    match intent.base {
        Some(base) => {
            for u in edited.iter() {
                if base.digest(&u.key()) != Some(fnv32(&u.canon)) {
                    set.push(u);
                }
            }
            // A container left out of the document entirely is not spoken for: kept as it is.
            for u in live.iter() {
                if edited.get(&u.key()).is_none() && base.digest(&u.key()).is_some() && in_scope(u) {
                    removed.push(u);
                }
            }
            // Three-way: a unit changed here and since the read, to another value, is stale. What the
            // document did not show (another container; the autoscaler's count) has no base to
            // compare with: it is set as desired.
            let checked = |u: &&Unit| base.covers(u) && current.autoscaled != Some(u.label.as_str());
            for u in set.iter().copied().chain(removed.iter().copied()).filter(checked) {
                let key = u.key();
                let then = base.digest(&key);
                let now = live.get(&key);
                let wanted = edited.get(&key);
                let moved_on = then != now.map(|n| fnv32(&n.canon));
                let same_as_wanted = match (now, wanted) {
                    (Some(n), Some(w)) => n.same_value(w),
                    (None, None) => true,
                    _ => false,
                };
                if moved_on && !same_as_wanted {
                    plan.stale.push(Stale {
                        label: u.label.clone(),
                        now: now.map(|n| shown_value(&n.value)),
                        by: now.map(|n| changed_by(&entries, n)).unwrap_or_default(),
                    });
                }
            }
        }
        None => {
            set.extend(edited.iter());
            for u in live.iter() {
                if edited.get(&u.key()).is_none() && in_scope(u) && owned(u) {
                    removed.push(u);
                }
            }
        }
    }
    if allow.overwrite {
        plan.stale.clear();
    }

    // The autoscaler's count: a change is a conflict unless forced; never released while owned
    // (the server would reset it to 1 before the autoscaler takes it).
    let held_by_autoscaler = |u: &Unit| current.autoscaled == Some(u.label.as_str());
    set.retain(|u| {
        if !held_by_autoscaler(u) {
            return true;
        }
        match live.get(&u.key()) {
            Some(now) if now.same_value(u) => false,
            _ if allow.force => true,
            _ => {
                plan.autoscaler_conflict = true;
                false
            }
        }
    });
    removed.retain(|u| !held_by_autoscaler(u));

    let set_keys: HashSet<String> = set.iter().map(|u| u.key()).collect();
    let removed_keys: HashSet<String> = removed.iter().map(|u| u.key()).collect();
    plan.changed = set
        .iter()
        .filter(|u| live.get(&u.key()).is_none_or(|now| !now.same_value(u)))
        .chain(removed.iter())
        .map(|u| u.label.clone())
        .collect();

    // A keyed item changed so that it lacks a part it had (a port's name, an env var's value when
    // it becomes empty or a reference): those parts are removals too, and an apply of the item
    // without them removes them only if nobody else holds them.
    let mut parts: Vec<Unit> = Vec::new();
    for u in set.iter().filter(|u| matches!(u.path.last(), Some(Step::Key(_)))) {
        let (Some(now), Some(wanted)) =
            (live.get(&u.key()).and_then(|n| n.value.as_object()), u.value.as_object())
        else {
            continue;
        };
        for (name, value) in now.iter().filter(|(name, _)| !wanted.contains_key(*name)) {
            let mut path = u.path.clone();
            path.push(Step::Field(name.clone()));
            parts.push(leaf(path, format!("{}.{name}", u.label), value));
        }
    }

    for u in removed.iter().copied().chain(parts.iter()) {
        let others = holders(&entries, &u.path, Some(current.manager));
        if others.is_empty() {
            if held_by_own_update(&u.path) {
                plan.releases |= owned(u);
                plan.remove.push(u.clone());
            } else if owned(u) {
                plan.releases = true;
                plan.released.push(u.clone());
            } else if !parts.contains(u) {
                plan.unowned.push(u.label.clone());
            }
        } else if allow.force {
            plan.releases |= owned(u);
            plan.remove.push(u.clone());
        } else {
            plan.held.push(HeldRemoval { label: u.label.clone(), holders: others });
        }
    }

    // Send what is set, then what the manager owns at its live value. A value equal to the live one
    // in meaning (`0.1` for `100m`) is sent as the server has it: the same text is no conflict.
    for u in &set {
        let same = live.get(&u.key()).filter(|now| now.same_value(u));
        plan.send.push(same.unwrap_or(u).clone());
    }
    for u in live.iter() {
        let key = u.key();
        if !set_keys.contains(&key) && !removed_keys.contains(&key) && owned(u) {
            plan.send.push(u.clone());
        }
    }
    plan.duplicates = plan
        .send
        .iter()
        .chain(removed.iter().copied())
        .filter(|u| live.is_duplicate(&u.key()) || edited.is_duplicate(&u.key()))
        .map(|u| u.label.clone())
        .collect();
    plan
}

/// A unit's value as a person reads it in a message: an env var's value or reference, not the item.
fn shown_value(value: &Value) -> Value {
    match value.as_object() {
        Some(m) if m.contains_key("name") && (m.contains_key("value") || m.contains_key("valueFrom")) => {
            m.get("value").or_else(|| m.get("valueFrom")).cloned().unwrap_or(Value::Null)
        }
        Some(m) if m.contains_key("name") && m.len() == 1 => json!(""),
        _ => value.clone(),
    }
}

/// Who changed a unit: for a keyed item, the holders of its parts other than the key (the key stays
/// with whoever added the item), most recent first; else the holders of the unit.
fn changed_by(entries: &[ManagedEntry], unit: &Unit) -> Vec<String> {
    if let (Some(Step::Key(key)), Some(item)) = (unit.path.last(), unit.value.as_object()) {
        let mut by = Vec::new();
        for name in item.keys().filter(|k| key.get(k.as_str()).is_none()) {
            let mut path = unit.path.clone();
            path.push(Step::Field(name.clone()));
            for m in holders(entries, &path, None) {
                if !by.contains(&m) {
                    by.push(m);
                }
            }
        }
        if !by.is_empty() {
            return by;
        }
    }
    holders(entries, &unit.path, None)
}

/// The container a unit belongs to, if it is per container.
fn container_of(unit: &Unit) -> Option<&str> {
    unit.path.windows(2).find_map(|w| match (&w[0], &w[1]) {
        (Step::Field(f), Step::Key(k)) if f == "containers" || f == "initContainers" => {
            k.get("name").and_then(Value::as_str)
        }
        _ => None,
    })
}

/// Managers (other than `except`) holding `path` or anything below it, most recent first.
pub fn holders(entries: &[ManagedEntry], path: &[Step], except: Option<&str>) -> Vec<String> {
    let mut found: Vec<&ManagedEntry> = entries
        .iter()
        .filter(|e| Some(e.manager.as_str()) != except && subtree(&e.fields, path).is_some())
        .collect();
    found.sort_by(|a, b| b.time.cmp(&a.time));
    let mut names: Vec<String> = Vec::new();
    for e in found {
        if !names.contains(&e.manager) {
            names.push(e.manager.clone());
        }
    }
    names
}

/// Puts each unit into `body` (a partial object), creating keyed-list items as needed.
pub fn insert_units(body: &mut Value, units: &[Unit]) {
    for unit in units {
        let mut node = &mut *body;
        for (i, step) in unit.path.iter().enumerate() {
            let last = i + 1 == unit.path.len();
            node = match step {
                Step::Field(f) => {
                    if !node.is_object() {
                        *node = Value::Object(Map::new());
                    }
                    let Some(map) = node.as_object_mut() else { return };
                    map.entry(f.clone()).or_insert(Value::Null)
                }
                Step::Key(key) => {
                    if !node.is_array() {
                        *node = Value::Array(Vec::new());
                    }
                    let Some(items) = node.as_array_mut() else { return };
                    let at = match items.iter().position(|item| matches_key(item, key)) {
                        Some(at) => at,
                        None => {
                            items.push(key.clone());
                            items.len() - 1
                        }
                    };
                    &mut items[at]
                }
            };
            if last {
                *node = unit.value.clone();
            }
        }
    }
}

/// Puts the items of every keyed list in `body` in the order `live` has them (new items last).
/// Server-side apply orders a keyed list as the applied body does, so a body in another order would
/// move containers or variables around.
pub fn order_like(body: &mut Value, live: &Value) {
    let Some(map) = body.as_object_mut() else { return };
    for (field, value) in map.iter_mut() {
        let Some(live_value) = live.get(field) else { continue };
        match value {
            Value::Array(items) => {
                let keys: &[&str] = match field.as_str() {
                    "containers" | "initContainers" => &["name"],
                    other => list_map_keys(other).unwrap_or(&[]),
                };
                let live_items = live_value.as_array().map_or(&[][..], Vec::as_slice);
                if keys.is_empty() {
                    continue;
                }
                let position = |item: &Value| {
                    let key = item_key(item, keys).map(Value::Object);
                    key.and_then(|k| live_items.iter().position(|l| matches_key(l, &k))).unwrap_or(usize::MAX)
                };
                items.sort_by_cached_key(position);
                for item in items.iter_mut() {
                    let at = position(item);
                    if at != usize::MAX {
                        order_like(item, &live_items[at]);
                    }
                }
            }
            Value::Object(_) => order_like(value, live_value),
            _ => {}
        }
    }
}

fn matches_key(item: &Value, key: &Value) -> bool {
    key.as_object().is_some_and(|k| {
        k.iter().all(|(name, want)| match (item.get(name), name.as_str()) {
            (Some(v), _) if !v.is_null() => v == want,
            (_, "protocol") => want == "TCP",
            _ => false,
        })
    })
}

/// JSON pointer steps of `path` in `obj`, with the tests that pin each keyed item; None if absent.
fn pointer(obj: &Value, path: &[Step]) -> Option<(String, Vec<Value>)> {
    let mut node = obj;
    let mut at = String::new();
    let mut tests = Vec::new();
    for step in path {
        match step {
            Step::Field(f) => {
                node = node.get(f)?;
                at.push('/');
                at.push_str(&escape(f));
            }
            Step::Key(key) => {
                let items = node.as_array()?;
                let index = items.iter().position(|item| matches_key(item, key))?;
                at.push_str(&format!("/{index}"));
                for (name, value) in key.as_object()?.iter() {
                    if items[index].get(name).is_some() {
                        tests.push(json!({"op": "test", "path": format!("{at}/{name}"), "value": value}));
                    }
                }
                node = &items[index];
            }
        }
    }
    Some((at, tests))
}

/// A JSON patch that removes `remove` from `obj` and sets `set` (the units whose value changes), in
/// one request: server-side apply cannot remove a field another manager also holds, and a removal
/// often only validates together with the change that goes with it (`strategy.type: Recreate` and no
/// `rollingUpdate`). Guarded by `test` ops on the resourceVersion and on the key of every list item
/// it addresses, so it never touches the wrong item. A map left empty by the removals goes whole.
pub fn write_patch(obj: &Value, remove: &[Unit], set: &[Unit]) -> Value {
    let mut paths: Vec<Vec<Step>> = remove.iter().map(|u| u.path.clone()).collect();
    // Collapse: when every key of a map is removed, remove the map.
    loop {
        let mut collapsed = false;
        let parents: Vec<Vec<Step>> =
            paths.iter().filter(|p| p.len() > 1).map(|p| p[..p.len() - 1].to_vec()).collect();
        for parent in parents {
            if !matches!(parent.last(), Some(Step::Field(_))) || paths.contains(&parent) {
                continue;
            }
            let Some(Value::Object(map)) = follow(obj, &parent) else { continue };
            let all_gone = map.keys().all(|k| {
                let mut child = parent.clone();
                child.push(Step::Field(k.clone()));
                paths.contains(&child)
            });
            if all_gone {
                paths.retain(|p| !p.starts_with(&parent));
                paths.push(parent);
                collapsed = true;
                break;
            }
        }
        if !collapsed {
            break;
        }
    }
    let mut located: Vec<(String, Vec<Value>)> = paths.iter().filter_map(|p| pointer(obj, p)).collect();
    // Later indexes first, so that each removal leaves the earlier indexes in place.
    located.sort_by(|a, b| pointer_order(&b.0, &a.0));
    let mut ops = vec![
        json!({"op": "test", "path": "/metadata/resourceVersion", "value": obj["metadata"]["resourceVersion"]}),
    ];
    let mut working = obj.clone();
    for (at, tests) in located {
        ops.extend(tests);
        ops.push(json!({"op": "remove", "path": at}));
        pointer_remove(&mut working, &at);
    }
    for unit in set {
        ops.extend(set_ops(&working, unit));
        insert_units(&mut working, std::slice::from_ref(unit));
    }
    Value::Array(ops)
}

/// The ops that put one unit into `obj`: `replace` where its place exists, else `add` of the first
/// missing part (a keyed item is appended), with `test`s pinning the items on the way.
fn set_ops(obj: &Value, unit: &Unit) -> Vec<Value> {
    let mut ops = Vec::new();
    let mut node = obj;
    let mut at = String::new();
    for (i, step) in unit.path.iter().enumerate() {
        let next = match step {
            Step::Field(f) => node.get(f).map(|child| (child, format!("/{}", escape(f)))),
            Step::Key(key) => node.as_array().and_then(|items| {
                items
                    .iter()
                    .position(|item| matches_key(item, key))
                    .map(|index| (&items[index], format!("/{index}")))
            }),
        };
        match next {
            Some((child, segment)) => {
                at.push_str(&segment);
                if let Step::Key(key) = step {
                    for (name, value) in key.as_object().into_iter().flatten() {
                        if child.get(name).is_some() {
                            ops.push(json!({"op": "test", "path": format!("{at}/{name}"), "value": value}));
                        }
                    }
                }
                node = child;
            }
            None => {
                // Build what is missing from here down, as the body would hold it.
                let mut holder = json!({});
                let mut rest = vec![Step::Field("x".into())];
                rest.extend(unit.path[i..].iter().cloned());
                insert_units(&mut holder, &[Unit { path: rest, ..unit.clone() }]);
                let (target, value) = match step {
                    Step::Field(f) => (format!("{at}/{}", escape(f)), holder["x"][f].take()),
                    Step::Key(_) => (format!("{at}/-"), holder["x"][0].take()),
                };
                ops.push(json!({"op": "add", "path": target, "value": value}));
                return ops;
            }
        }
    }
    ops.push(json!({"op": "replace", "path": at, "value": unit.value}));
    ops
}

fn escape(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

fn pointer_remove(obj: &mut Value, at: &str) {
    let parts: Vec<String> = at.split('/').skip(1).map(|p| p.replace("~1", "/").replace("~0", "~")).collect();
    let Some((last, parents)) = parts.split_last() else { return };
    let mut node = obj;
    for part in parents {
        let next = match node {
            Value::Object(m) => m.get_mut(part),
            Value::Array(a) => part.parse::<usize>().ok().and_then(move |i| a.get_mut(i)),
            _ => None,
        };
        let Some(next) = next else { return };
        node = next;
    }
    match node {
        Value::Object(m) => {
            m.shift_remove(last);
        }
        Value::Array(a) => {
            if let Some(i) = last.parse::<usize>().ok().filter(|i| *i < a.len()) {
                a.remove(i);
            }
        }
        _ => {}
    }
}

fn pointer_order(a: &str, b: &str) -> std::cmp::Ordering {
    let parts = |s: &str| -> Vec<(u64, String)> {
        s.split('/').map(|p| (p.parse::<u64>().unwrap_or(u64::MAX), p.to_string())).collect()
    };
    parts(a).cmp(&parts(b))
}

/// The value at `path`, following keyed items.
pub fn follow<'a>(obj: &'a Value, path: &[Step]) -> Option<&'a Value> {
    path.iter().try_fold(obj, |node, step| match step {
        Step::Field(f) => node.get(f),
        Step::Key(key) => node.as_array()?.iter().find(|item| matches_key(item, key)),
    })
}

/// `obj` without `units` (what a forced removal leaves), for showing the result before it happens.
pub fn without_units(obj: &Value, units: &[Unit]) -> Value {
    let mut out = obj.clone();
    for unit in units {
        let Some((last, parent)) = unit.path.split_last() else { continue };
        let Some(holder) = follow_mut(&mut out, parent) else { continue };
        match (last, holder) {
            (Step::Field(f), Value::Object(map)) => {
                map.shift_remove(f);
            }
            (Step::Key(key), Value::Array(items)) => items.retain(|item| !matches_key(item, key)),
            _ => {}
        }
    }
    out
}

fn follow_mut<'a>(obj: &'a mut Value, path: &[Step]) -> Option<&'a mut Value> {
    path.iter().try_fold(obj, |node, step| match step {
        Step::Field(f) => node.get_mut(f),
        Step::Key(key) => node.as_array_mut()?.iter_mut().find(|item| matches_key(item, key)),
    })
}

// ---------------------------------------------------------------------------------------------
// Adopting: moving ownership of a role's fields to the role's manager.

/// A unit whose ownership moves, and from whom.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Moved {
    pub field: String,
    pub from: Vec<String>,
}

/// managedFields with every unit in `units` moved from other managers to `manager` (as an Apply
/// entry, the way kubectl's client-side to server-side migration rewrites them). Entries for
/// subresources (an autoscaler's /scale) are left alone. None if nothing moves.
pub fn adopt(
    object: &Value,
    units: &[&Unit],
    manager: &str,
    api_version: &str,
    now: &str,
) -> Option<(Value, Vec<Moved>)> {
    let mut entries: Vec<Value> = object["metadata"]["managedFields"].as_array().cloned().unwrap_or_default();
    let mut moved = Vec::new();
    let mut gained: Vec<(Vec<Step>, Value)> = Vec::new();
    for unit in units {
        let mut from = Vec::new();
        let mut taken = Value::Object(Map::new());
        for entry in entries.iter_mut() {
            let mine = entry["manager"] == manager && entry["operation"] == "Apply";
            let sub = entry.get("subresource").and_then(Value::as_str).is_some_and(|s| !s.is_empty());
            if mine || sub {
                continue;
            }
            let Some(fields) = entry.get_mut("fieldsV1") else { continue };
            if let Some(subtree) = take_subtree(fields, &unit.path) {
                merge_fields(&mut taken, &subtree);
                from.push(entry["manager"].as_str().unwrap_or("(unnamed)").to_string());
            }
        }
        if !from.is_empty() {
            moved.push(Moved { field: unit.label.clone(), from });
            gained.push((unit.path.clone(), taken));
        }
    }
    if moved.is_empty() {
        return None;
    }
    entries.retain(|e| e["fieldsV1"].as_object().is_none_or(|m| !m.is_empty()));
    let position = entries.iter().position(|e| {
        e["manager"] == manager
            && e["operation"] == "Apply"
            && e.get("subresource").and_then(Value::as_str).is_none_or(str::is_empty)
    });
    let at = match position {
        Some(at) => at,
        None => {
            entries.push(json!({"manager": manager, "operation": "Apply", "apiVersion": api_version,
                                "time": now, "fieldsType": "FieldsV1", "fieldsV1": {}}));
            entries.len() - 1
        }
    };
    entries[at]["time"] = json!(now);
    for (path, subtree) in gained {
        add_subtree(&mut entries[at]["fieldsV1"], &path, subtree);
    }
    Some((Value::Array(entries), moved))
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

#[cfg(test)]
mod tests;
