//! `kubectl oam check`: what changed between two sets of manifests, field by field, grouped by the
//! role that owns each field (the same profile as the live views and the policy). Pure: the caller
//! reads the files.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{Map, Value, json};

use crate::core::project::{self, ViewOptions, without_role_fields};
use crate::core::related::field_value;
use crate::model::object::get_path_mut;
use crate::model::roles::{
    CLAIM_TEMPLATES_PATH, CONTEXT_KEYS, Field, IDENTITY_KEYS, Profile, READ_ONLY_KEY, RelatedKind, Role,
    RoleName, Root,
};

/// Changes outside every role's fields are listed under this name.
pub const NO_ROLE: &str = "none";

/// One object's change between the two sets.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectChange {
    /// kubectl's spelling: `deployment.apps/web`.
    pub object: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub namespace: String,
    pub status: Status,
    /// Changed fields per role (`dev`, `ops`, and `none` for fields no role owns), as role
    /// documents name them (`containers.app.image`, `scaler.replicas`) or, outside the roles, as
    /// object paths (`spec.template.spec.serviceAccountName`).
    /// In the profile's role order, `none` last.
    pub changes: Map<String, Value>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Changed,
    Added,
    Removed,
}

/// Where an object lives: group, kind, namespace, name.
type Key = (String, String, String, String);

fn key(obj: &Value) -> Option<Key> {
    let api_version = obj["apiVersion"].as_str()?;
    let kind = obj["kind"].as_str()?;
    let name = obj["metadata"]["name"].as_str().filter(|n| !n.is_empty())?;
    let group = api_version.rsplit_once('/').map_or("", |(g, _)| g);
    let namespace = obj["metadata"]["namespace"].as_str().unwrap_or_default();
    Some((group.to_string(), kind.to_string(), namespace.to_string(), name.to_string()))
}

/// The objects among `docs` (documents without apiVersion, kind or name are not objects: a values
/// file, a kustomization.yaml), keyed; the second value counts what was left out.
pub fn objects(docs: Vec<Value>) -> (BTreeMap<Key, Value>, usize) {
    let mut out = BTreeMap::new();
    let mut skipped = 0;
    for doc in docs {
        match key(&doc) {
            Some(k) => {
                out.insert(k, doc);
            }
            None => skipped += 1,
        }
    }
    (out, skipped)
}

/// Every dotted path where `a` and `b` differ; lists of named items (containers, env) by name
/// (`containers[app].image`), other lists whole.
fn differences(a: &Value, b: &Value, at: &str, out: &mut Vec<String>) {
    if a == b {
        return;
    }
    let join = |key: &str| if at.is_empty() { key.to_string() } else { format!("{at}.{key}") };
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            for k in x.keys().chain(y.keys().filter(|k| !x.contains_key(*k))) {
                differences(
                    x.get(k).unwrap_or(&Value::Null),
                    y.get(k).unwrap_or(&Value::Null),
                    &join(k),
                    out,
                );
            }
        }
        (Value::Array(x), Value::Array(y)) if named_items(x) && named_items(y) => {
            let by_name = |items: &[Value]| -> Map<String, Value> {
                items
                    .iter()
                    .map(|i| (i["name"].as_str().unwrap_or_default().to_string(), i.clone()))
                    .collect()
            };
            let (x, y) = (by_name(x), by_name(y));
            for k in x.keys().chain(y.keys().filter(|k| !x.contains_key(*k))) {
                let item = format!("{at}[{k}]");
                match (x.get(k), y.get(k)) {
                    (Some(p), Some(q)) => differences(p, q, &item, out),
                    _ => out.push(item),
                }
            }
        }
        (Value::Null, _) | (_, Value::Null) if at.is_empty() => out.push("(the whole object)".into()),
        _ => out.push(at.to_string()),
    }
}

fn named_items(items: &[Value]) -> bool {
    !items.is_empty() && items.iter().all(|i| i.get("name").is_some_and(Value::is_string))
}

/// What is left once every role's fields and the server's bookkeeping are gone.
fn outside_roles(profile: &Profile, obj: &Value) -> Value {
    let mut rest = obj.clone();
    if let Some(kind) = obj["kind"].as_str().and_then(|k| profile.kind(k).ok()) {
        for role in &profile.roles {
            rest = without_role_fields(profile, role.name, kind, &rest);
        }
    }
    if let Some(kind) = obj["kind"].as_str() {
        let path: Vec<String> = CLAIM_TEMPLATES_PATH.map(str::to_string).to_vec();
        let fields: Vec<&Field> =
            profile.roles.iter().flat_map(|r| claim_template_fields(profile, r.name, kind)).collect();
        let templates = get_path_mut(&mut rest, &path).and_then(Value::as_array_mut);
        for template in templates.into_iter().flatten() {
            for field in &fields {
                remove_path(template, &field.path.segments);
            }
        }
    }
    if let Some(kind) = key(obj).and_then(|k| related_kind(profile, &k)) {
        for field in profile.roles.iter().flat_map(|r| &r.related).flat_map(|t| t.fields_of(&kind.root)) {
            remove_related_field(&mut rest, &field.segments, &field.exclude);
        }
    }
    if let Some(map) = rest.as_object_mut() {
        map.remove("status");
    }
    if let Some(meta) = rest.get_mut("metadata").and_then(Value::as_object_mut) {
        for key in ["resourceVersion", "generation", "managedFields", "uid", "creationTimestamp"] {
            meta.remove(key);
        }
    }
    rest
}

/// The profile's related kind (`related:`: Service, Ingress, PDB, PVC…) of an object, by group and
/// kind: its changes are judged by the related traits' fields, like a workload's by the role fields.
fn related_kind<'a>(profile: &'a Profile, key: &Key) -> Option<&'a RelatedKind> {
    profile.related.iter().find(|k| {
        let group = k.info.api_version.rsplit_once('/').map_or("", |(g, _)| g);
        k.info.kind == key.1 && group == key.0
    })
}

/// Whether `role` has fields of a related kind: then it may create and delete its objects (as
/// `core::policy` lets it).
fn has_fields_of(role: &Role, kind: &RelatedKind) -> bool {
    role.related.iter().any(|t| t.fields.iter().any(|f| f.root == kind.root))
}

/// A related object's fields in `role`'s traits, labelled as the role document names them
/// (`expose.web.ports`); a field's value whole (a related field is one unit of a section).
fn related_fields(role: &Role, kind: &RelatedKind, name: &str, obj: &Value) -> Map<String, Value> {
    role.related
        .iter()
        .flat_map(|t| t.fields_of(&kind.root).map(move |f| (t, f)))
        .filter_map(|(t, f)| Some((format!("{}.{name}.{}", t.name, f.name), field_value(f, obj)?)))
        .collect()
}

/// Removes a related field from an object: all of it, or of a map with excluded keys (set by tools)
/// the other keys, which stay outside every role.
fn remove_related_field(obj: &mut Value, path: &[String], exclude: &[String]) {
    if exclude.is_empty() {
        return remove_path(obj, path);
    }
    let Some(map) = get_path_mut(obj, path).and_then(Value::as_object_mut) else {
        return remove_path(obj, path);
    };
    map.retain(|k, _| exclude.contains(k));
    if map.is_empty() {
        remove_path(obj, path);
    }
}

/// A role's `claimTemplate.` fields (read-only) of `kind`.
fn claim_template_fields<'a>(
    profile: &'a Profile,
    role: RoleName,
    kind: &'a str,
) -> impl Iterator<Item = &'a Field> {
    let fields = &profile.role(role).read_only;
    fields.iter().filter(move |f| f.path.root == Root::ClaimTemplate && f.applies_to(kind))
}

/// Removes the value at `path` (and the maps it leaves empty).
fn remove_path(value: &mut Value, path: &[String]) {
    let Some((first, rest)) = path.split_first() else { return };
    let Some(map) = value.as_object_mut() else { return };
    if rest.is_empty() {
        map.remove(first);
        return;
    }
    if let Some(child) = map.get_mut(first) {
        remove_path(child, rest);
        if child.as_object().is_some_and(Map::is_empty) {
            map.remove(first);
        }
    }
}

/// A role document's fields, without identity and context (readOnly, base, status).
fn role_fields(doc: Value) -> Value {
    let mut doc = doc;
    if let Some(map) = doc.as_object_mut() {
        map.retain(|k, _| !IDENTITY_KEYS.contains(&k.as_str()) && !CONTEXT_KEYS.contains(&k.as_str()));
    }
    doc
}

fn display(profile: &Profile, key: &Key) -> String {
    let (group, kind, _, name) = key;
    match profile.kind(kind) {
        Ok(info) => format!("{}/{name}", info.display_resource()),
        Err(_) if group.is_empty() => format!("{}/{name}", kind.to_lowercase()),
        Err(_) => format!("{}.{group}/{name}", kind.to_lowercase()),
    }
}

/// The changes between `base` and `head`, object by object (sorted by group, kind, namespace,
/// name); unchanged objects are left out.
pub fn compare(
    profile: &Profile,
    base: &BTreeMap<Key, Value>,
    head: &BTreeMap<Key, Value>,
) -> Vec<ObjectChange> {
    let mut keys: Vec<&Key> = base.keys().chain(head.keys().filter(|k| !base.contains_key(*k))).collect();
    keys.sort();
    let mut out = Vec::new();
    for key in keys {
        let (before, after) = (base.get(key), head.get(key));
        let status = match (before, after) {
            (Some(_), Some(_)) => Status::Changed,
            (None, _) => Status::Added,
            (_, None) => Status::Removed,
        };
        let (a, b) = (before.cloned().unwrap_or(Value::Null), after.cloned().unwrap_or(Value::Null));
        let mut changes = Map::new();
        if let Some(kind) = profile.kind(&key.1).ok().filter(|_| status == Status::Changed) {
            let view = ViewOptions { container: None, autoscaler: None, related: None };
            for role in &profile.roles {
                let doc = |obj: &Value| {
                    let mut doc = role_fields(project::document(profile, role.name, kind, obj, &view));
                    // A StatefulSet's claim templates are read-only on the server (changing them
                    // means recreating it), but whose need each field is holds in manifests too.
                    let templates: Map<String, Value> = claim_template_fields(profile, role.name, &kind.kind)
                        .filter_map(|f| {
                            Some((f.name.clone(), project::items::claim_template_values(f, obj)?))
                        })
                        .collect();
                    if !templates.is_empty() {
                        doc[READ_ONLY_KEY] = Value::Object(templates);
                    }
                    doc
                };
                let mut paths = Vec::new();
                differences(&doc(&a), &doc(&b), "", &mut paths);
                if !paths.is_empty() {
                    changes.insert(role.name.to_string(), json!(paths));
                }
            }
        }
        if let Some(kind) = related_kind(profile, key).filter(|_| status == Status::Changed) {
            for role in &profile.roles {
                let (x, y) = (related_fields(role, kind, &key.3, &a), related_fields(role, kind, &key.3, &b));
                let paths: Vec<&String> = x
                    .keys()
                    .chain(y.keys().filter(|k| !x.contains_key(*k)))
                    .filter(|k| x.get(*k) != y.get(*k))
                    .collect();
                if !paths.is_empty() {
                    changes.insert(role.name.to_string(), json!(paths));
                }
            }
        }
        // An added or removed related object is the roles' that have fields of its kind (they may
        // create and delete it: the generated policy's rule), each with the fields it holds there.
        if let Some(kind) = related_kind(profile, key).filter(|_| status != Status::Changed) {
            let present = if status == Status::Added { &b } else { &a };
            for role in profile.roles.iter().filter(|r| has_fields_of(r, kind)) {
                let fields = related_fields(role, kind, &key.3, present);
                let paths: Vec<String> = match fields.is_empty() {
                    true => vec!["(the whole object)".into()],
                    false => fields.keys().cloned().collect(),
                };
                changes.insert(role.name.to_string(), json!(paths));
            }
        }
        let mut rest = Vec::new();
        match status {
            Status::Changed => {
                differences(&outside_roles(profile, &a), &outside_roles(profile, &b), "", &mut rest)
            }
            Status::Added | Status::Removed if changes.is_empty() => rest.push("(the whole object)".into()),
            Status::Added | Status::Removed => {}
        }
        if !rest.is_empty() {
            changes.insert(NO_ROLE.to_string(), json!(rest));
        }
        if changes.is_empty() {
            continue;
        }
        out.push(ObjectChange { object: display(profile, key), namespace: key.2.clone(), status, changes });
    }
    out
}

/// What changed outside `role`'s fields, one entry per object (for `--role`: the check fails on it).
pub fn outside(changes: &[ObjectChange], role: &str) -> Vec<String> {
    changes
        .iter()
        .filter_map(|c| {
            let fields: Vec<String> = c
                .changes
                .iter()
                .filter(|(r, _)| r.as_str() != role)
                .flat_map(|(r, paths)| strings(paths).map(move |p| format!("{p} ({r})")))
                .collect();
            let named = match c.namespace.as_str() {
                "" => c.object.clone(),
                ns => format!("{} in namespace \"{ns}\"", c.object),
            };
            // An object the role may create and delete (a Service for ops) is its own to add.
            let mine = c.changes.contains_key(role);
            match (c.status, fields.is_empty()) {
                (Status::Added, _) if !mine => Some(format!("{named} added")),
                (Status::Removed, _) if !mine => Some(format!("{named} removed")),
                (Status::Added | Status::Removed, _) => None,
                (Status::Changed, true) => None,
                (Status::Changed, false) => Some(format!("{named}: {}", fields.join(", "))),
            }
        })
        .collect()
}

fn strings(paths: &Value) -> impl Iterator<Item = &str> {
    paths.as_array().into_iter().flatten().filter_map(Value::as_str)
}

/// The text report: per object its changed fields by role, then added and removed objects.
pub fn report(changes: &[ObjectChange]) -> String {
    let mut text = String::new();
    for c in changes {
        let named = match c.namespace.as_str() {
            "" => c.object.clone(),
            ns => format!("{} (namespace {ns})", c.object),
        };
        match c.status {
            Status::Added | Status::Removed => {
                let word = if c.status == Status::Added { "added" } else { "removed" };
                let roles: Vec<&str> =
                    c.changes.keys().map(String::as_str).filter(|r| *r != NO_ROLE).collect();
                match roles.is_empty() {
                    true => text.push_str(&format!("{word}: {named}\n")),
                    false => text.push_str(&format!("{word}: {named} ({})\n", roles.join(", "))),
                }
            }
            Status::Changed => {
                text.push_str(&format!("{named}:\n"));
                for (role, paths) in &c.changes {
                    text.push_str(&format!("  {role}: {}\n", strings(paths).collect::<Vec<_>>().join(", ")));
                }
            }
        }
    }
    text
}

#[cfg(test)]
mod tests;
