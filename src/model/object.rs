//! Reading a workload's JSON: paths, its pod template's containers, its controller.

use serde_json::{Map, Value};

use crate::model::roles::{CONTAINER_LISTS, CONTAINERS_KEY, KindInfo};

pub fn get_path<'a>(value: &'a Value, path: &[String]) -> Option<&'a Value> {
    path.iter().try_fold(value, |v, seg| v.get(seg.as_str())).filter(|v| !v.is_null())
}

pub fn set_path(value: &mut Value, path: &[String], new: Value) {
    let mut cur = value;
    for seg in path {
        if !cur.is_object() {
            *cur = Value::Object(Map::new());
        }
        cur = cur.as_object_mut().expect("made an object above").entry(seg.clone()).or_insert(Value::Null);
    }
    *cur = new;
}

pub fn containers<'a>(obj: &'a Value, kind: &KindInfo) -> &'a [Value] {
    container_list(obj, kind, CONTAINERS_KEY)
}

/// The containers of one of the pod spec's [`CONTAINER_LISTS`].
pub fn container_list<'a>(obj: &'a Value, kind: &KindInfo, list: &str) -> &'a [Value] {
    get_path(obj, &kind.container_list_path(list)).and_then(Value::as_array).map_or(&[], Vec::as_slice)
}

/// Every container of the pod template (app containers, then init containers), with its list.
pub fn all_containers<'a>(obj: &'a Value, kind: &KindInfo) -> Vec<(&'static str, &'a Value)> {
    CONTAINER_LISTS
        .iter()
        .flat_map(|list| container_list(obj, kind, list).iter().map(|c| (*list, c)))
        .collect()
}

/// A native sidecar: an init container that keeps running beside the app (`restartPolicy: Always`).
pub fn is_sidecar(container: &Value) -> bool {
    container["restartPolicy"] == "Always"
}

pub fn container_name(container: &Value) -> &str {
    container["name"].as_str().unwrap_or_default()
}

/// The object's controller (the ownerReference with `controller: true`) as kubectl spells it,
/// `deployment.apps/web`: a role's change to a controlled object would be undone by it.
pub fn controller(obj: &Value) -> Option<String> {
    let owner = obj["metadata"]["ownerReferences"].as_array()?.iter().find(|o| o["controller"] == true)?;
    let kind = owner["kind"].as_str()?.to_lowercase();
    let group = owner["apiVersion"].as_str().and_then(|v| v.rsplit_once('/')).map_or("", |(g, _)| g);
    let name = owner["name"].as_str()?;
    Some(if group.is_empty() { format!("{kind}/{name}") } else { format!("{kind}.{group}/{name}") })
}

/// App and init containers (their names are unique within a pod).
pub fn container_names(obj: &Value, kind: &KindInfo) -> Vec<String> {
    all_containers(obj, kind).iter().map(|(_, c)| container_name(c).to_string()).collect()
}

/// The value at `path`, to change it.
pub fn get_path_mut<'a>(value: &'a mut Value, path: &[String]) -> Option<&'a mut Value> {
    path.iter().try_fold(value, |v, seg| v.get_mut(seg.as_str()))
}

/// Dotted paths where two values differ (the first few), for messages.
pub fn differing_paths(a: &Value, b: &Value) -> Vec<String> {
    fn walk(a: &Value, b: &Value, at: &str, out: &mut Vec<String>) {
        if a == b || out.len() >= 5 {
            return;
        }
        match (a, b) {
            (Value::Object(x), Value::Object(y)) => {
                for key in x.keys().chain(y.keys().filter(|k| !x.contains_key(*k))) {
                    let next = if at.is_empty() { key.clone() } else { format!("{at}.{key}") };
                    walk(x.get(key).unwrap_or(&Value::Null), y.get(key).unwrap_or(&Value::Null), &next, out);
                }
            }
            _ => out.push(at.to_string()),
        }
    }
    let mut out = Vec::new();
    walk(a, b, "", &mut out);
    out
}
