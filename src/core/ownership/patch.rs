//! Units into JSON: apply bodies (keyed-list items in the live order) and guarded JSON patches.

use std::collections::{BTreeMap, HashMap};

use serde_json::{Map, Value, json};

use crate::core::ownership::units::{Unit, item_key, list_map_keys};
use crate::format::canonical::canonical_json;
use crate::model::managed::Step;

/// Puts each unit into `body` (a partial object), creating keyed-list items as needed.
pub fn insert_units(body: &mut Value, units: &[Unit]) {
    let mut places = Places::default();
    for unit in units {
        let mut node = &mut *body;
        // The path so far, naming the lists in `places`.
        let mut at = String::new();
        for (i, step) in unit.path.iter().enumerate() {
            let last = i + 1 == unit.path.len();
            node = match step {
                Step::Field(f) => {
                    if !node.is_object() {
                        places.forget(&at);
                        *node = Value::Object(Map::new());
                    }
                    let Some(map) = node.as_object_mut() else { return };
                    at.push_str("\nf:");
                    at.push_str(f);
                    map.entry(f.clone()).or_insert(Value::Null)
                }
                Step::Key(key) => {
                    if !node.is_array() {
                        places.forget(&at);
                        *node = Value::Array(Vec::new());
                    }
                    let Some(items) = node.as_array_mut() else { return };
                    let index = places.item(&at, items, key);
                    at.push_str("\nk:");
                    at.push_str(&index.to_string());
                    &mut items[index]
                }
            };
            if last {
                places.forget(&at);
                *node = unit.value.clone();
            }
        }
    }
}

/// Where the items of each keyed list are, by the path of the list: read once per list, so that
/// putting N items into a list costs N lookups, not N searches of the list (a document of 100,000
/// env vars took minutes).
#[derive(Default)]
struct Places {
    lists: BTreeMap<String, KeyIndex>,
}

/// The items of one list by their key's canonical text (the first item of each key, as
/// `matches_key` finds it), for keys of these field names.
struct KeyIndex {
    names: Vec<String>,
    at: HashMap<String, usize>,
}

impl KeyIndex {
    fn of(items: &[Value], names: Vec<String>) -> KeyIndex {
        let keys: Vec<&str> = names.iter().map(String::as_str).collect();
        let mut at = HashMap::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            if let Some(key) = item_key(item, &keys) {
                at.entry(canonical_json(&Value::Object(key))).or_insert(i);
            }
        }
        KeyIndex { names, at }
    }
}

impl Places {
    /// The index in `items` (the list at `list`) of the item `key` names, appended if missing.
    fn item(&mut self, list: &str, items: &mut Vec<Value>, key: &Value) -> usize {
        let names: Vec<String> = key.as_object().map(|k| k.keys().cloned().collect()).unwrap_or_default();
        if self.lists.get(list).is_none_or(|index| index.names != names) {
            self.lists.insert(list.to_string(), KeyIndex::of(items, names));
        }
        let index = self.lists.get_mut(list).expect("just inserted");
        // Keys come from `item_key`, never null; anything else is looked for as before.
        let exact = key.as_object().is_some_and(|k| !k.values().any(Value::is_null));
        let text = canonical_json(key);
        let found = match exact {
            true => index.at.get(&text).copied(),
            false => items.iter().position(|item| matches_key(item, key)),
        };
        match found {
            Some(at) => at,
            None => {
                items.push(key.clone());
                index.at.entry(text).or_insert(items.len() - 1);
                items.len() - 1
            }
        }
    }

    /// The node at `path` is replaced: what was known of the lists in it is no longer true.
    fn forget(&mut self, path: &str) {
        let below = format!("{path}\n");
        let gone: Vec<String> = self
            .lists
            .range(path.to_string()..)
            .map(|(k, _)| k)
            .take_while(|k| k.starts_with(path))
            .filter(|k| k.as_str() == path || k.starts_with(&below))
            .cloned()
            .collect();
        for k in gone {
            self.lists.remove(&k);
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
                // Each live item's place by its key, once: not a search of the live list per item.
                let mut live_at: HashMap<String, usize> = HashMap::with_capacity(live_items.len());
                for (i, live_item) in live_items.iter().enumerate() {
                    if let Some(key) = item_key(live_item, keys) {
                        live_at.entry(canonical_json(&Value::Object(key))).or_insert(i);
                    }
                }
                let position = |item: &Value| {
                    let key = item_key(item, keys).map(|k| canonical_json(&Value::Object(k)));
                    key.and_then(|k| live_at.get(&k).copied()).unwrap_or(usize::MAX)
                };
                let mut placed: Vec<(usize, Value)> =
                    items.drain(..).map(|item| (position(&item), item)).collect();
                placed.sort_by_key(|(at, _)| *at);
                for (at, mut item) in placed {
                    if at != usize::MAX {
                        order_like(&mut item, &live_items[at]);
                    }
                    items.push(item);
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

/// The JSON pointer of `path` in `obj` (list items by their position there), if it is present.
pub fn json_pointer(obj: &Value, path: &[Step]) -> Option<String> {
    pointer(obj, path).map(|(at, _)| at)
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
                insert_units(
                    &mut holder,
                    &[Unit::new(rest, unit.label.clone(), unit.value.clone(), unit.canon.clone())],
                );
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
