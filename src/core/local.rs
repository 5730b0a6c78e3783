//! Role views and role edits of manifest files (`--local`): which documents of a set of files are
//! workloads the profile covers, and what object a changed role document asks for. Pure: the
//! caller reads and writes the files; `format::yaml::edit_documents` puts the new object into the
//! text, touching only the lines that change.
//!
//! An edit goes through the same decoding as a live write (`project::decode_document`: other roles'
//! keys, read-only fields, unknown keys and bad values refused), then the role's units of the object
//! are replaced by those the document gives: changed values set, units the document no longer has
//! removed (an env var deleted from the document leaves the file) within the containers it names and
//! the traits it has, everything else untouched. The files' Services, PDBs, claims… are the
//! workloads' related objects (found as live, `core::related`): a role document's sections of them
//! change them in their own documents (`related_edits`).

use std::collections::BTreeSet;

use serde_json::{Map, Value};

use crate::core::ownership::{self, Unit};
use crate::core::project::{self, ViewOptions};
use crate::core::related::{self, Related};
use crate::core::write::{problems_error, without_base};
use crate::error::{Error, Result};
use crate::model::managed::Step;
use crate::model::object::{get_path, get_path_mut, set_path};
use crate::model::roles::{CONTAINER_LISTS, KindInfo, Profile, READ_ONLY_KEY, RoleName};

/// Where an object is in a file: its document (among the non-empty ones), and its item if that
/// document is a `List`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Place {
    pub document: usize,
    pub item: Option<usize>,
}

/// A workload read from a file.
#[derive(Debug, Clone)]
pub struct FileObject<'p> {
    pub kind: &'p KindInfo,
    pub place: Place,
    pub object: Value,
    /// Its related objects (Services, PDBs, claims…) among the files' objects ([`find_related`]).
    pub related: Related,
}

impl FileObject<'_> {
    pub fn name(&self) -> &str {
        self.object["metadata"]["name"].as_str().unwrap_or_default()
    }

    /// kubectl's spelling: `deployment.apps/web`.
    pub fn display(&self) -> String {
        format!("{}/{}", self.kind.display_resource(), self.name())
    }
}

/// What a set of documents holds besides the workloads.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Skipped {
    /// Kinds the profile does not cover (`ConfigMap`, `Service`), each once.
    pub kinds: BTreeSet<String>,
    /// Documents that are no object (no apiVersion, kind or metadata.name).
    pub not_objects: usize,
}

impl Skipped {
    /// The one note a command prints about what it left out, if anything was.
    pub fn note(&self) -> Option<String> {
        let mut parts = Vec::new();
        if !self.kinds.is_empty() {
            let kinds: Vec<&str> = self.kinds.iter().map(String::as_str).collect();
            parts.push(format!("objects of kinds no role covers were skipped ({})", kinds.join(", ")));
        }
        if self.not_objects > 0 {
            parts.push(format!(
                "{} document(s) that are not Kubernetes objects were skipped",
                self.not_objects
            ));
        }
        (!parts.is_empty()).then(|| format!("note: {}", parts.join("; ")))
    }
}

/// The profile's kind of `obj`, if it covers it (same kind and API group).
fn kind_of<'p>(profile: &'p Profile, obj: &Value) -> Option<&'p KindInfo> {
    let kind = obj["kind"].as_str()?;
    let group = obj["apiVersion"].as_str()?.rsplit_once('/').map_or("", |(g, _)| g);
    profile.kinds.iter().find(|k| k.kind == kind && k.group() == group)
}

fn is_object(obj: &Value) -> bool {
    obj["apiVersion"].is_string()
        && obj["kind"].is_string()
        && obj["metadata"]["name"].as_str().is_some_and(|n| !n.is_empty())
}

/// The workloads among the documents of one file (a `List`'s items included), in file order.
pub fn workloads<'p>(profile: &'p Profile, docs: &[Value], skipped: &mut Skipped) -> Vec<FileObject<'p>> {
    let mut out = Vec::new();
    let mut take = |obj: &Value, place: Place, skipped: &mut Skipped| {
        if !is_object(obj) {
            skipped.not_objects += 1;
            return;
        }
        match kind_of(profile, obj) {
            Some(kind) => {
                out.push(FileObject { kind, place, object: obj.clone(), related: Related::default() })
            }
            None => {
                skipped.kinds.insert(obj["kind"].as_str().unwrap_or_default().to_string());
            }
        }
    };
    for (document, doc) in docs.iter().enumerate() {
        match doc["items"].as_array() {
            Some(items) if doc["kind"] == "List" => {
                for (i, item) in items.iter().enumerate() {
                    take(item, Place { document, item: Some(i) }, skipped);
                }
            }
            _ => take(doc, Place { document, item: None }, skipped),
        }
    }
    out
}

/// The objects of the profile's related kinds (`related:`: Service, Ingress, PDB, PVC…) among the
/// documents of one file (a `List`'s items included), added to `lists` (root → objects) for
/// [`find_related`]. A root gets an entry only once the files hold an object of its kind: a claim
/// the files do not hold is not said to be missing.
pub fn related_objects(profile: &Profile, docs: &[Value], lists: &mut Vec<(String, Vec<Value>)>) {
    let items = docs.iter().flat_map(|doc| match doc["items"].as_array() {
        Some(items) if doc["kind"] == "List" => items.iter().collect::<Vec<_>>(),
        _ => vec![doc],
    });
    for obj in items.filter(|o| is_object(o)) {
        let group = obj["apiVersion"].as_str().unwrap_or_default().rsplit_once('/').map_or("", |(g, _)| g);
        let Some(kind) = profile.related.iter().find(|k| {
            k.info.kind == obj["kind"].as_str().unwrap_or_default()
                && k.info.api_version.rsplit_once('/').map_or("", |(g, _)| g) == group
        }) else {
            continue;
        };
        match lists.iter_mut().find(|(r, _)| *r == kind.root) {
            Some((_, objs)) => objs.push(obj.clone()),
            None => lists.push((kind.root.clone(), vec![obj.clone()])),
        }
    }
}

/// Finds each workload's related objects among `lists` (as a live view finds them: by selector,
/// backends and claims, in the workload's namespace) and takes the kinds used out of `skipped`.
pub fn find_related(
    profile: &Profile,
    found: &mut [&mut FileObject<'_>],
    lists: &[(String, Vec<Value>)],
    skipped: &mut Skipped,
) {
    for obj in found.iter_mut() {
        obj.related = related::find(profile, obj.kind, &obj.object, lists);
        for (root, objs) in &obj.related.found {
            if let (false, Some(k)) = (objs.is_empty(), profile.related.iter().find(|k| k.root == *root)) {
                skipped.kinds.remove(&k.info.kind);
            }
        }
    }
}

/// The role document of an object in a file: the live view's projection, without an autoscaler
/// (that is another object), status (a file has none worth showing), the base (a live read's
/// bookkeeping) or a namespace the file does not give. With `related`: the sections of the objects
/// around it in the files (`expose:`…) and the developer's `endpoints` and `claims`.
pub fn view(
    profile: &Profile,
    role: RoleName,
    kind: &KindInfo,
    obj: &Value,
    container: Option<&str>,
    related: Option<&Related>,
) -> Value {
    let opts = ViewOptions { container, autoscaler: None, related };
    let mut doc = without_base(project::document(profile, role, kind, obj, &opts));
    if let Some(map) = doc.as_object_mut() {
        if map.get("namespace").is_some_and(Value::is_null) {
            map.shift_remove("namespace");
        }
        // A claim's live state (capacity, phase) is the cluster's: a file's claim has none to show.
        if let Some(Value::Object(read_only)) = map.get_mut(READ_ONLY_KEY) {
            if let Some(Value::Object(claims)) = read_only.get_mut(related::CLAIMS_KEY) {
                claims.retain(|_, state| state.as_object().is_none_or(|m| !m.is_empty()));
                if claims.is_empty() {
                    read_only.shift_remove(related::CLAIMS_KEY);
                }
            }
            if read_only.is_empty() {
                map.shift_remove(READ_ONLY_KEY);
            }
        }
    }
    doc
}

/// The object `doc` (a role document of `obj`) asks for: the role's units replaced by the
/// document's; refused as a live write would be (other roles' keys, read-only fields, bad values).
pub fn with_document(profile: &Profile, role: RoleName, obj: &FileObject<'_>, doc: &Value) -> Result<Value> {
    let (fields, mut problems) = project::decode_document(profile, role, obj.kind, &obj.object, doc);
    if !problems.is_empty() {
        // The live commands a message suggests (`ops edit deployment/web -n …`) are not about files.
        for p in &mut problems {
            if let Some(i) = p.message.find("; use `") {
                p.message.truncate(i);
                p.message.push_str("; change it with that role's command and --local");
            }
        }
        return Err(problems_error(problems));
    }
    let wanted = ownership::units(profile, role, obj.kind, &fields);
    let current = ownership::units(profile, role, obj.kind, &obj.object);
    let set: Vec<Unit> =
        wanted.iter().filter(|u| current.get(u.key()).is_none_or(|c| !c.same_value(u))).cloned().collect();
    // What the document leaves out is removed only where it speaks: in the containers it names and
    // the traits it has (a document of `scaler:` alone leaves labels and other containers be).
    let containers = project::named_containers(doc);
    let covers = |u: &Unit| {
        let mut parts = u.label.split('.');
        match (parts.next(), parts.next()) {
            (Some(list), Some(name)) if CONTAINER_LISTS.contains(&list) => {
                containers.iter().any(|c| c == name) && doc[list].get(name).is_some()
            }
            (Some(trait_name), _) => doc.get(trait_name).is_some_and(|t| !t.is_null()),
            _ => false,
        }
    };
    let gone: Vec<Unit> =
        current.iter().filter(|u| wanted.get(u.key()).is_none() && covers(u)).cloned().collect();
    let mut after = obj.object.clone();
    ownership::insert_units(&mut after, &set);
    let mut after = ownership::without_units(&after, &gone);
    for unit in &gone {
        prune_empty(&mut after, &unit.path);
    }
    // No server checks the file: a built-in kind must still read as its API type (a value of the
    // wrong type, `strategy: Recreate` for `strategy: {type: Recreate}`, is refused here). A file
    // that did not read so before is not judged.
    if let (Err(problem), Ok(())) = (typed(&after), typed(&obj.object)) {
        return Err(Error::Usage(format!(
            "{} would not be a valid {} ({problem}); nothing was changed",
            obj.display(),
            obj.kind.kind
        )));
    }
    Ok(after)
}

/// The objects around the workload (of `obj.related`, found in the files) that `doc`'s related
/// sections (`expose:`, `disruptionBudget:`, `claims:`…) change, each as it should read: a field the
/// entry gives set, one it leaves out removed (tool-written keys of a map kept), other fields
/// untouched. An entry naming no object around it is refused: --local never creates one.
pub fn related_edits(
    profile: &Profile,
    role: RoleName,
    obj: &FileObject<'_>,
    doc: &Value,
) -> Result<Vec<Value>> {
    let mut out: Vec<Value> = Vec::new();
    for t in &profile.role(role).related {
        let Some(section) = doc.get(&t.name).filter(|v| !v.is_null()) else { continue };
        let problems = related::check_section(t, section);
        if !problems.is_empty() {
            return Err(problems_error(problems));
        }
        for (name, entry) in section.as_object().into_iter().flatten() {
            let Some(entry) = entry.as_object() else { continue };
            let found = t.roots().into_iter().find_map(|root| {
                obj.related.of(root).iter().find(|o| related::object_name(o) == name).map(|o| (root, o))
            });
            let Some((root, current)) = found else {
                let kinds: Vec<&str> = t
                    .roots()
                    .iter()
                    .filter_map(|r| {
                        profile.related.iter().find(|k| k.root == *r).map(|k| k.info.kind.as_str())
                    })
                    .collect();
                let there: Vec<&str> = t
                    .roots()
                    .iter()
                    .flat_map(|r| obj.related.of(r).iter().map(related::object_name))
                    .collect();
                return Err(Error::Usage(format!(
                    "{}: {}.{name}: no {} named \"{name}\" among the files' objects around it (it has {}); --local changes them but never creates one: add it to the files",
                    obj.display(),
                    t.name,
                    kinds.join(" or "),
                    if there.is_empty() { "none".to_string() } else { there.join(", ") }
                )));
            };
            // An object two sections (or two workloads) change: the changes add up.
            let same = |o: &&mut Value| {
                o["kind"] == current["kind"]
                    && o["metadata"]["name"] == current["metadata"]["name"]
                    && o["metadata"]["namespace"] == current["metadata"]["namespace"]
            };
            let mut new = match out.iter_mut().find(same) {
                Some(earlier) => std::mem::take(earlier),
                None => current.clone(),
            };
            for f in t.fields_of(root) {
                let now = get_path(&new, &f.segments).cloned();
                let kept: Map<String, Value> = match &now {
                    Some(Value::Object(m)) => m
                        .iter()
                        .filter(|(k, _)| f.exclude.contains(k))
                        .map(|(k, v)| (k.clone(), v.clone()))
                        .collect(),
                    _ => Map::new(),
                };
                let wanted = match entry.get(&f.name).filter(|v| !v.is_null()) {
                    Some(Value::Object(m)) if !f.exclude.is_empty() => {
                        let mut m = m.clone();
                        m.extend(kept);
                        Some(Value::Object(m))
                    }
                    Some(v) => Some(v.clone()),
                    None if !kept.is_empty() => Some(Value::Object(kept)),
                    None => None,
                };
                match wanted {
                    Some(v) if now.as_ref() != Some(&v) => set_path(&mut new, &f.segments, v),
                    Some(_) => {}
                    None if now.is_some() => {
                        let (last, parent) = f.segments.split_last().expect("a field has a path");
                        if let Some(Value::Object(m)) = get_path_mut(&mut new, parent) {
                            m.shift_remove(last);
                        }
                    }
                    None => {}
                }
            }
            match out.iter_mut().find(|o| o.is_null()) {
                Some(slot) => *slot = new,
                None => out.push(new),
            }
        }
    }
    // Unchanged objects are no edit.
    out.retain(|new| !obj.related.all().any(|(_, o)| o == new));
    Ok(out)
}

/// Where the object `obj` is among the files' documents (file, place): by apiVersion, kind,
/// namespace and name.
pub fn locate(files: &[Vec<Value>], obj: &Value) -> Vec<(usize, Place)> {
    let same = |o: &Value| {
        o["apiVersion"] == obj["apiVersion"]
            && o["kind"] == obj["kind"]
            && o["metadata"]["name"] == obj["metadata"]["name"]
            && o["metadata"]["namespace"] == obj["metadata"]["namespace"]
    };
    let mut out = Vec::new();
    for (file, docs) in files.iter().enumerate() {
        for (document, doc) in docs.iter().enumerate() {
            match doc["items"].as_array() {
                Some(items) if doc["kind"] == "List" => {
                    for (i, _) in items.iter().enumerate().filter(|(_, o)| same(o)) {
                        out.push((file, Place { document, item: Some(i) }));
                    }
                }
                _ if same(doc) => out.push((file, Place { document, item: None })),
                _ => {}
            }
        }
    }
    out
}

/// Whether a built-in workload reads as its k8s-openapi type (other kinds: not judged).
fn typed(obj: &Value) -> std::result::Result<(), String> {
    use k8s_openapi::api::{apps::v1 as apps, batch::v1 as batch};
    fn read<T: serde::de::DeserializeOwned>(obj: &Value) -> std::result::Result<(), String> {
        T::deserialize(obj).map(|_| ()).map_err(|e| e.to_string())
    }
    match (obj["apiVersion"].as_str(), obj["kind"].as_str()) {
        (Some("apps/v1"), Some("Deployment")) => read::<apps::Deployment>(obj),
        (Some("apps/v1"), Some("StatefulSet")) => read::<apps::StatefulSet>(obj),
        (Some("apps/v1"), Some("DaemonSet")) => read::<apps::DaemonSet>(obj),
        (Some("apps/v1"), Some("ReplicaSet")) => read::<apps::ReplicaSet>(obj),
        (Some("batch/v1"), Some("Job")) => read::<batch::Job>(obj),
        (Some("batch/v1"), Some("CronJob")) => read::<batch::CronJob>(obj),
        _ => Ok(()),
    }
}

/// After `path` was removed: its holders that are left empty (`env: []`, `requests: {}`) go too, up
/// to the list item (a container) that holds them.
fn prune_empty(obj: &mut Value, path: &[Step]) {
    let mut path = path.to_vec();
    path.pop();
    while matches!(path.last(), Some(Step::Field(_))) {
        let Some(pointer) = ownership::json_pointer(obj, &path) else { return };
        let empty = match obj.pointer(&pointer) {
            Some(Value::Array(items)) => items.is_empty(),
            Some(Value::Object(map)) => map.is_empty(),
            _ => false,
        };
        let Some((parent, last)) = pointer.rsplit_once('/').filter(|_| empty) else { return };
        let key = last.replace("~1", "/").replace("~0", "~");
        match obj.pointer_mut(parent) {
            Some(Value::Object(map)) => {
                map.shift_remove(&key);
            }
            _ => return,
        }
        path.pop();
    }
}

/// Whether a document is a Secret (of any API version: better hidden once too often), whose values
/// are never shown (not even as a diff's context).
pub fn is_secret(doc: &Value) -> bool {
    doc["kind"] == "Secret"
}

/// The object at `place` in its whole document (a `List`'s item, or the document itself).
pub fn in_document(document: &Value, place: Place) -> Option<&Value> {
    match place.item {
        None => Some(document),
        Some(i) => document["items"].get(i),
    }
}

/// Two edits of one object in one run (a Service that selects two workloads of the files, each
/// with its `expose:` section): `theirs` (the later edit, made from `base`, the object as read) on
/// top of `ours` (what earlier edits made of it). A value only one of them changed takes that
/// change; one both changed alike is kept; one they changed differently is a conflict, returned as
/// its dotted path (lists are single values).
pub fn merge_edits(base: &Value, ours: &Value, theirs: &Value) -> std::result::Result<Value, String> {
    fn merge(base: &Value, ours: &Value, theirs: &Value, at: &str) -> std::result::Result<Value, String> {
        if theirs == base || ours == theirs {
            return Ok(ours.clone());
        }
        if ours == base {
            return Ok(theirs.clone());
        }
        let (Value::Object(o), Value::Object(t)) = (ours, theirs) else {
            return Err(if at.is_empty() { "(the whole object)".to_string() } else { at.to_string() });
        };
        let empty = Map::new();
        let b = base.as_object().unwrap_or(&empty);
        let mut out = Map::new();
        let keys = o.keys().chain(t.keys().filter(|k| !o.contains_key(*k)));
        for k in keys {
            let none = Value::Null;
            let path = if at.is_empty() { k.clone() } else { format!("{at}.{k}") };
            let v = merge(
                b.get(k).unwrap_or(&none),
                o.get(k).unwrap_or(&none),
                t.get(k).unwrap_or(&none),
                &path,
            )?;
            // A key one edit removed (and the other left alone) stays removed.
            if !v.is_null() || (o.get(k).is_some_and(Value::is_null) && t.get(k).is_some_and(Value::is_null))
            {
                out.insert(k.clone(), v);
            }
        }
        Ok(Value::Object(out))
    }
    merge(base, ours, theirs, "")
}

/// Puts `new` where `place` says in its whole document (a `List`'s item, or the object itself), in
/// place: a List of many items changed one by one is not copied for each.
pub fn put_in_document(document: &mut Value, place: Place, new: Value) {
    match place.item {
        None => *document = new,
        Some(i) => {
            if let Some(item) = document["items"].get_mut(i) {
                *item = new;
            }
        }
    }
}

#[cfg(test)]
mod tests;
