//! Pure projection between a live object and a role document, both ways.
//!
//! `document` shows a role's fields of an object in a compact form (containers keyed by name, env as
//! `NAME: value`); `decode_document` turns a (possibly edited) document back into the partial object
//! it describes. What of it is sent is decided in `ownership`. Nothing here talks to a cluster.

use serde_json::{Map, Value, json};

use crate::core::hpa::{self, AUTOSCALER_KEY, Autoscaler, autoscaled_fields};
use crate::core::ownership::{self, BASE_KEY, Base};
use crate::core::related;
use crate::model::object::{
    container_list, container_name, controller, get_path, get_path_mut, is_sidecar, set_path,
};
use crate::model::roles::{
    CONTAINER_LISTS, CONTAINERS_KEY, Field, IDENTITY_KEYS, INIT_CONTAINERS_KEY, KindInfo, OtherKeys, Profile,
    READ_ONLY_KEY, Role, RoleName, Root, STATUS_KEY,
};

/// What a view shows besides the object.
#[derive(Debug, Default, Clone)]
pub struct ViewOptions<'a> {
    /// Only this container (dev).
    pub container: Option<&'a str>,
    pub autoscaler: Option<&'a Autoscaler>,
    /// The objects around the workload (`related:`), when the view listed them.
    pub related: Option<&'a related::Related>,
}

/// The role document of `obj`: identity, then traits in profile order, then read-only context.
pub fn document(
    profile: &Profile,
    role: RoleName,
    kind: &KindInfo,
    obj: &Value,
    opts: &ViewOptions,
) -> Value {
    let role = profile.role(role);
    let mut doc = Map::new();
    doc.insert("kind".into(), json!(kind.kind));
    doc.insert("name".into(), obj["metadata"]["name"].clone());
    doc.insert("namespace".into(), obj["metadata"]["namespace"].clone());

    if role.container_fields().next().is_some() {
        for list in CONTAINER_LISTS {
            let mut by_name = Map::new();
            for c in container_list(obj, kind, list) {
                let name = container_name(c);
                if opts.container.is_some_and(|only| only != name) {
                    continue;
                }
                by_name.insert(name.to_string(), Value::Object(container_document(role, c)));
            }
            // `containers:` is always there (a pod has one); init containers only when it has any.
            let unfiltered_containers = list == CONTAINERS_KEY && opts.container.is_none();
            if !by_name.is_empty() || unfiltered_containers {
                doc.insert(list.into(), Value::Object(by_name));
            }
        }
    }

    for (trait_name, fields) in role.object_traits(&kind.kind) {
        let mut group = Map::new();
        for field in fields {
            // Held by the autoscaler: shown in readOnly.autoscaler, so that a saved document never
            // carries a stale count back.
            if field.autoscaled && opts.autoscaler.is_some() {
                continue;
            }
            if let Some(v) = get_path(obj, &field.path.in_object(kind)) {
                let v = field.own_items(&without_keys(v, &profile.other_keys(kind, field)));
                if !is_empty_value(&v) {
                    group.insert(field.name.clone(), encode(field, &v));
                }
            }
        }
        if !group.is_empty() {
            doc.insert(trait_name.to_string(), Value::Object(group));
        }
    }

    // The HPA that holds the replica count: its settings are the role's to edit.
    let autoscaler = opts.autoscaler.filter(|_| autoscaled_fields(role, kind).next().is_some());
    if let Some(hpa) = autoscaler {
        doc.insert(AUTOSCALER_KEY.into(), hpa::section(&hpa.object));
    }
    // Objects around the workload: a section per related trait, keyed by object name.
    if let Some(found) = opts.related {
        for (name, section) in related::sections(role, found) {
            doc.insert(name, Value::Object(section));
        }
    }
    let read_only = read_only_section(profile, role, kind, obj, opts);
    if !read_only.is_empty() {
        doc.insert(READ_ONLY_KEY.into(), Value::Object(read_only));
    }
    // What the document was read from, so that applying it later changes only what was edited
    // and never reverts a change made in between.
    let (fields, _) = decode_document(profile, role.name, kind, obj, &Value::Object(doc.clone()));
    let units = ownership::units(profile, role.name, kind, &fields);
    let rv = obj["metadata"]["resourceVersion"].as_str().unwrap_or_default();
    let shown = named_containers(&Value::Object(doc.clone()));
    let mut base = Base::of(&units, &shown, rv);
    if let Some(hpa) = autoscaler {
        base = hpa::with_base(base, &hpa.object);
    }
    if let Some(found) = opts.related {
        base = related::with_base(base, profile, role, found);
    }
    doc.insert(BASE_KEY.into(), base.to_value());
    Value::Object(doc)
}

fn container_document(role: &Role, container: &Value) -> Map<String, Value> {
    let mut out = Map::new();
    for field in role.container_fields() {
        if let Some(v) = get_path(container, &field.path.segments) {
            if !is_empty_value(v) {
                out.insert(field.name.clone(), encode(field, v));
            }
        }
    }
    out
}

fn read_only_section(
    profile: &Profile,
    role: &Role,
    kind: &KindInfo,
    obj: &Value,
    opts: &ViewOptions,
) -> Map<String, Value> {
    let hpa = opts.autoscaler;
    let mut out = Map::new();
    for field in role.read_only.iter().filter(|f| f.applies_to(&kind.kind)) {
        if let Some(v) = read_only_value(field, kind, obj) {
            out.insert(field.name.clone(), v);
        }
    }
    if let Some(owner) = controller(obj) {
        out.insert(CONTROLLED_BY_KEY.into(), json!(owner));
    }
    // Who applies it from Git or a chart: a role's change to what it applies does not last.
    if let Some(found) = crate::core::reconciler::detect(obj) {
        out.insert(RECONCILED_BY_KEY.into(), json!(found.describe()));
    }
    // Which init containers are native sidecars (they run beside the app, not before it): context
    // for whoever sets their image, never a field of the role.
    if role.container_fields().next().is_some() {
        let sidecars: Vec<&str> = container_list(obj, kind, INIT_CONTAINERS_KEY)
            .iter()
            .filter(|c| is_sidecar(c) && opts.container.is_none_or(|only| only == container_name(c)))
            .map(container_name)
            .collect();
        if !sidecars.is_empty() {
            out.insert(SIDECARS_KEY.into(), json!(sidecars));
        }
    }
    if let Some(found) = opts.related {
        for (key, value) in related::read_only_entries(profile, role, kind, obj, found) {
            out.insert(key.into(), value);
        }
    }
    if let Some(hpa) = hpa {
        let held: Vec<(String, Option<&Value>)> = autoscaled_fields(role, kind)
            .map(|(t, f)| (format!("{t}.{}", f.name), get_path(obj, &f.path.in_object(kind))))
            .collect();
        if !held.is_empty() {
            out.insert("autoscaler".into(), hpa.to_value(&held));
        }
    }
    out
}

/// Under `readOnly`: the init containers that are native sidecars.
pub const SIDECARS_KEY: &str = "sidecars";
/// Under `readOnly`: the controller that manages the object (its controller ownerReference).
pub const CONTROLLED_BY_KEY: &str = "controlledBy";
/// Under `readOnly`: the reconciler that applies it (Flux, Argo CD, helm, KubeVela).
pub const RECONCILED_BY_KEY: &str = "reconciledBy";

fn without_keys(value: &Value, other: &OtherKeys) -> Value {
    match value {
        Value::Object(m) if !other.is_empty() => Value::Object(
            m.iter().filter(|(k, _)| !other.contains(k)).map(|(k, v)| (k.clone(), v.clone())).collect(),
        ),
        other => other.clone(),
    }
}

pub(super) fn is_empty_value(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Object(m) => m.is_empty(),
        Value::Array(a) => a.is_empty(),
        _ => false,
    }
}

/// How a field's value is shown in a document. This is knowledge of Kubernetes types, not of roles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Codec {
    /// `env` list → `NAME: value` or `NAME: {secretKeyRef: …}`
    Env,
    /// `ports` list: `protocol: TCP` (the default) is left out
    Ports,
    Plain,
}

fn codec(field: &Field) -> Codec {
    match (field.path.root, field.path.segments.as_slice()) {
        (Root::Container, [last]) if last == "env" => Codec::Env,
        (Root::Container, [last]) if last == "ports" => Codec::Ports,
        _ => Codec::Plain,
    }
}

fn encode(field: &Field, value: &Value) -> Value {
    match (codec(field), value) {
        // Names the API allows twice ($(VAR) expansion depends on order) are shown faithfully, as
        // the list they are.
        (Codec::Env, Value::Array(items)) if has_duplicate_names(items) => Value::Array(
            items
                .iter()
                .map(|item| {
                    let mut shown = Map::new();
                    shown.insert("name".into(), item["name"].clone());
                    match item.get("valueFrom") {
                        Some(from) => shown.insert("valueFrom".into(), from.clone()),
                        None => shown.insert("value".into(), item.get("value").cloned().unwrap_or(json!(""))),
                    };
                    Value::Object(shown)
                })
                .collect(),
        ),
        (Codec::Env, Value::Array(items)) => Value::Object(
            items
                .iter()
                .map(|item| {
                    let name = item["name"].as_str().unwrap_or_default().to_string();
                    // Only references are ever shown for valueFrom: secrets are never read.
                    let shown = match item.get("valueFrom") {
                        Some(from) => from.clone(),
                        None => item.get("value").cloned().unwrap_or(json!("")),
                    };
                    (name, shown)
                })
                .collect(),
        ),
        (Codec::Ports, Value::Array(items)) => Value::Array(
            items
                .iter()
                .map(|p| match p {
                    Value::Object(m) => Value::Object(
                        m.iter()
                            .filter(|(k, v)| !(k.as_str() == "protocol" && v.as_str() == Some("TCP")))
                            .map(|(k, v)| (k.clone(), v.clone()))
                            .collect(),
                    ),
                    other => other.clone(),
                })
                .collect(),
        ),
        _ => value.clone(),
    }
}

fn has_duplicate_names(items: &[Value]) -> bool {
    let mut seen = std::collections::HashSet::new();
    items.iter().filter_map(|i| i["name"].as_str()).any(|n| !seen.insert(n))
}

/// The inverse of `encode`; `at` names the place for errors.
fn decode(field: &Field, value: &Value, at: &[String]) -> Result<Value, DocProblem> {
    let label = at.join(".");
    match codec(field) {
        Codec::Env => match value {
            Value::Object(vars) => vars
                .iter()
                .map(|(name, v)| {
                    let mut here = at.to_vec();
                    here.push(name.clone());
                    env_item(name, v, &here)
                })
                .collect::<Result<Vec<_>, _>>()
                .map(Value::Array),
            // The list form `get` shows when a name appears twice.
            Value::Array(items) => items
                .iter()
                .enumerate()
                .map(|(i, item)| {
                    let mut here = at.to_vec();
                    here.push(i.to_string());
                    let name = item.get("name").and_then(Value::as_str);
                    let extra = item.as_object().is_some_and(|m| {
                        m.keys().any(|k| !["name", "value", "valueFrom"].contains(&k.as_str()))
                    });
                    match (name, item.get("value"), item.get("valueFrom"), extra) {
                        (Some(name), Some(v), None, false) => env_item(name, v, &here),
                        (Some(name), None, Some(from), false) => env_item(name, from, &here),
                        _ => Err(DocProblem::at(
                            &here,
                            format!("{label}[{i}]: expected {{name: NAME, value: \"…\"}} or {{name: NAME, valueFrom: {{…}}}}"),
                        )),
                    }
                })
                .collect::<Result<Vec<_>, _>>()
                .map(Value::Array),
            _ => Err(DocProblem::at(at, format!("{label}: expected NAME: value pairs"))),
        },
        Codec::Ports => {
            let Value::Array(items) = value else {
                return Err(DocProblem::at(at, format!("{label}: expected a list of ports")));
            };
            items
                .iter()
                .enumerate()
                .map(|(i, p)| match p {
                    Value::Object(m) => {
                        let mut m = m.clone();
                        // Ports merge on containerPort+protocol; send the key whole.
                        m.entry("protocol").or_insert(json!("TCP"));
                        Ok(Value::Object(m))
                    }
                    Value::Number(n) => Ok(json!({"containerPort": n, "protocol": "TCP"})),
                    _ => Err(DocProblem::at(
                        at,
                        format!("{label}[{i}]: expected {{containerPort: N, name: …}} or a port number"),
                    )),
                })
                .collect::<Result<Vec<_>, _>>()
                .map(Value::Array)
        }
        Codec::Plain => match text_problem(field, value, at).or_else(|| quantity_problem(field, value, at)) {
            Some(problem) => Err(problem),
            None => Ok(value.clone()),
        },
    }
}

/// One env var. Values are strings: a number, boolean or null in a document is refused rather than
/// converted (`1.10` would become "1.1"), and the user is told to quote it.
fn env_item(name: &str, value: &Value, at: &[String]) -> Result<Value, DocProblem> {
    let label = at.join(".");
    match value {
        Value::String(s) => Ok(json!({"name": name, "value": s})),
        // Only references are ever shown for valueFrom: secrets are never read.
        Value::Object(from) if from.len() == 1 => Ok(json!({"name": name, "valueFrom": from})),
        Value::Number(_) | Value::Bool(_) | Value::Null => {
            let shown = if value.is_null() { String::new() } else { value.to_string() };
            let what = match value {
                Value::Number(_) => "a number",
                Value::Bool(_) => "a boolean",
                _ => "empty (null)",
            };
            Err(DocProblem::at(
                at,
                format!("{label}: env values are strings, and this is {what}; quote it: \"{shown}\""),
            ))
        }
        _ => Err(DocProblem::at(
            at,
            format!(
                "{label}: expected a value or one reference such as {{secretKeyRef: {{name: N, key: K}}}}"
            ),
        )),
    }
}

/// Why a document cannot be applied. Each is one line; the editor shows them all at once.
pub use crate::error::Problem as DocProblem;

/// Problems with the line and column of the value they are about, and the value quoted as the
/// user wrote it (`quote it: "1.10"`, not the number it was read as).
pub fn locate(problems: Vec<DocProblem>, parsed: &crate::format::yaml::Parsed) -> Vec<DocProblem> {
    problems
        .into_iter()
        .map(|mut p| {
            let Some(at) = &p.at else { return p };
            let path: Vec<&str> = at.iter().map(String::as_str).collect();
            if let (Some(text), Some(i)) = (parsed.source_text(&path), p.message.find("quote it: \"")) {
                if !text.starts_with(['"', '\'']) && !text.contains('\n') {
                    p.message = format!("{}quote it: \"{}\"", &p.message[..i], text.replace('"', "\\\""));
                }
            }
            if let Some((line, column)) = parsed.position(&path) {
                p.message = format!("line {line} column {column}: {}", p.message);
            }
            p
        })
        .collect()
}

/// Unquoted values that YAML 1.1 readers (kubectl, most tools) take for another type than this
/// document does (`on`, `yes`, `2024-01-01`, `12:30:45` are text here, a boolean, a date or a number
/// there): refused, so that a value never means two things.
pub fn misread_values(parsed: &crate::format::yaml::Parsed) -> Vec<DocProblem> {
    fn walk(
        parsed: &crate::format::yaml::Parsed,
        value: &Value,
        at: &mut Vec<String>,
        out: &mut Vec<DocProblem>,
    ) {
        match value {
            Value::Object(m) => {
                for (k, v) in m {
                    if at.is_empty() && (k == READ_ONLY_KEY || k == BASE_KEY || k == STATUS_KEY) {
                        continue;
                    }
                    at.push(k.clone());
                    walk(parsed, v, at, out);
                    at.pop();
                }
            }
            Value::Array(items) => {
                for (i, v) in items.iter().enumerate() {
                    at.push(i.to_string());
                    walk(parsed, v, at, out);
                    at.pop();
                }
            }
            Value::String(s) => {
                let path: Vec<&str> = at.iter().map(String::as_str).collect();
                if let Some(kind) = parsed.yaml11_misreading(&path) {
                    let article = if kind.starts_with(['a', 'e', 'i', 'o', 'u']) { "an" } else { "a" };
                    out.push(DocProblem::at(at, format!(
                        "{}: kubectl and other YAML 1.1 readers take `{s}` for {article} {kind}; quote it: \"{s}\"",
                        at.join(".")
                    )));
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(parsed, &parsed.value, &mut Vec::new(), &mut out);
    out
}

/// The partial object a document describes: the containers it names (in the live object's order)
/// with the role fields it gives them, and the object fields of its traits. Identity, `readOnly`
/// and `base` are not fields. Every problem found is returned, not just the first.
pub fn decode_document(
    profile: &Profile,
    role_name: RoleName,
    kind: &KindInfo,
    live: &Value,
    doc: &Value,
) -> (Value, Vec<DocProblem>) {
    let role = profile.role(role_name);
    let mut problems = check_document(profile, role_name, kind, live, doc);
    let mut obj = json!({});
    let path_of = |parts: &[&str]| parts.iter().map(|p| p.to_string()).collect::<Vec<String>>();

    if role.container_fields().next().is_some() {
        for list in CONTAINER_LISTS {
            let wanted = doc.get(list).and_then(Value::as_object);
            let live_names: Vec<&str> = container_list(live, kind, list).iter().map(container_name).collect();
            for name in wanted.into_iter().flat_map(|w| w.keys()) {
                if !live_names.contains(&name.as_str()) {
                    problems.push(DocProblem::at(
                        &path_of(&[list, name]),
                        unknown_container(live, kind, list, name),
                    ));
                }
            }
            let mut items = Vec::new();
            for name in live_names {
                let source = match wanted.and_then(|w| w.get(name)) {
                    Some(Value::Object(m)) => m,
                    Some(Value::Null) | None => continue,
                    Some(_) => {
                        problems.push(DocProblem::at(
                            &path_of(&[list, name]),
                            format!("{list}.{name}: expected a mapping of fields"),
                        ));
                        continue;
                    }
                };
                let mut item = Map::new();
                item.insert("name".into(), json!(name));
                for field in role.container_fields() {
                    if let Some(v) = source.get(&field.name).filter(|v| !v.is_null()) {
                        match decode(field, v, &path_of(&[list, name, &field.name])) {
                            Ok(v) => set_path_in_map(&mut item, &field.path.segments, v),
                            Err(e) => problems.push(e),
                        }
                    }
                }
                items.push(Value::Object(item));
            }
            if !items.is_empty() {
                set_path(&mut obj, &kind.container_list_path(list), Value::Array(items));
            }
        }
    }

    for (trait_name, fields) in role.object_traits(&kind.kind) {
        let group = doc.get(trait_name).and_then(Value::as_object);
        for field in fields {
            let Some(wanted) = group.and_then(|g| g.get(&field.name)).filter(|v| !v.is_null()) else {
                continue;
            };
            let value = match decode(field, wanted, &path_of(&[trait_name, &field.name])) {
                Ok(v) => v,
                Err(e) => {
                    problems.push(e);
                    continue;
                }
            };
            if let (Value::Object(m), false) = (&value, field.exclude.is_empty()) {
                if let Some(k) = m.keys().find(|k| field.exclude.contains(k)) {
                    problems.push(DocProblem::at(
                        &path_of(&[trait_name, &field.name, k]),
                        format!(
                            "{trait_name}.{}.{k}: set by tools and controllers, not by a role; remove it",
                            field.name
                        ),
                    ));
                }
            }
            if field.items.is_some() && !value.is_array() {
                problems.push(DocProblem::at(
                    &path_of(&[trait_name, &field.name]),
                    format!("{trait_name}.{}: expected a list (of items keyed by name)", field.name),
                ));
            }
            if let (Value::Array(items), Some(filter)) = (&value, &field.items) {
                problems
                    .extend(items::other_items(profile, role_name, kind, trait_name, field, filter, items));
                problems
                    .extend(items::names_of_others(profile, role_name, live, kind, trait_name, field, items));
            }
            // Keys no role may change (security settings): refused wherever they are written.
            if let Value::Object(m) = &value {
                let path = field.path.in_object(kind);
                for k in m.keys() {
                    if let Some(read_only) = profile.reserved_by(kind, &path, k) {
                        problems.push(DocProblem::at(
                            &path_of(&[trait_name, &field.name, k]),
                            format!(
                                "{trait_name}.{}.{k}: read-only for {}{}; it is shown under {READ_ONLY_KEY}.{}, remove it here",
                                field.name,
                                kind.kind,
                                read_only.reason.as_ref().map(|r| format!(" ({r})")).unwrap_or_default(),
                                read_only.name
                            ),
                        ));
                    }
                }
            }
            set_path(&mut obj, &field.path.in_object(kind), value);
        }
    }

    problems.extend(number_problems(doc, &mut Vec::new()));
    (obj, problems)
}

/// Why a document's container name is not one of the live `list`: a typo, or the other list.
fn unknown_container(live: &Value, kind: &KindInfo, list: &str, name: &str) -> String {
    let other = CONTAINER_LISTS.into_iter().find(|l| *l != list).unwrap_or(CONTAINERS_KEY);
    if container_list(live, kind, other).iter().any(|c| container_name(c) == name) {
        let what = if other == INIT_CONTAINERS_KEY { "an init container" } else { "an app container" };
        return format!("{list}.{name}: {name} is {what}; put it under {other}");
    }
    let names: Vec<&str> = container_list(live, kind, list).iter().map(container_name).collect();
    let has = if names.is_empty() { "none".to_string() } else { names.join(", ") };
    let what = if list == INIT_CONTAINERS_KEY { "init container" } else { "container" };
    format!(
        "{list}.{name}: no such {what} (it has {has}); roles change containers, they do not add or rename them"
    )
}

/// The containers a document names (app and init containers: their names are unique in a pod).
pub fn named_containers(doc: &Value) -> Vec<String> {
    CONTAINER_LISTS
        .iter()
        .filter_map(|list| doc.get(*list).and_then(Value::as_object))
        .flat_map(|m| m.keys().cloned())
        .collect()
}

/// Numbers a workload's fields cannot hold. Counts, ports and seconds are int32 (the server would
/// wrap a larger one silently) and whole: `1e10` or `2.5` are refused, never rounded. Only resource
/// quantities may be fractional, and tolerationSeconds is int64.
fn number_problems(value: &Value, at: &mut Vec<String>) -> Vec<DocProblem> {
    let label = |at: &[String]| at.join(".");
    match value {
        Value::Number(n) => {
            // An autoscaler's metric targets (`value`, `averageValue`) are quantities too.
            let in_quantities = at.iter().any(|k| k == "resources")
                || (at.first().is_some_and(|k| k == AUTOSCALER_KEY)
                    && at.iter().any(|k| k == "metrics")
                    && at.last().is_some_and(|k| k == "value" || k == "averageValue"));
            let int64 = at.last().is_some_and(|k| k == "tolerationSeconds");
            // Written with an exponent or a decimal point (1e10, 3.0): whole, but not an integer as
            // the field's type is read; too large a one is out of range, as `--replicas` says.
            let whole = n.as_f64().filter(|v| n.is_f64() && v.fract() == 0.0 && !in_quantities);
            if let Some(v) = whole {
                let (fits, max) = match int64 {
                    true => (v >= i64::MIN as f64 && v < i64::MAX as f64, i64::MAX.to_string()),
                    false => (v >= f64::from(i32::MIN) && v <= f64::from(i32::MAX), i32::MAX.to_string()),
                };
                let shown = if v.abs() < 1e18 { format!("{v:.0}") } else { format!("{v:e}") };
                let problem = match fits {
                    true => format!("{}: {n} is not written as a whole number; write {shown}", label(at)),
                    false => format!("{}: {shown} is out of range (at most {max})", label(at)),
                };
                vec![DocProblem::at(at, problem)]
            } else if n.is_f64() && !in_quantities {
                vec![DocProblem::at(
                    at,
                    format!("{}: {n} is not a whole number (if it is text, quote it)", label(at)),
                )]
            } else if !n.is_f64()
                && !in_quantities
                && !int64
                && n.as_i64().is_none_or(|v| i32::try_from(v).is_err())
            {
                vec![DocProblem::at(at, format!("{}: {n} is out of range (at most {})", label(at), i32::MAX))]
            } else {
                Vec::new()
            }
        }
        Value::Object(m) => {
            let mut out = Vec::new();
            for (k, v) in m {
                // Env values have their own, more precise message.
                if at.len() == 2 && CONTAINER_LISTS.contains(&at[0].as_str()) && k == "env" {
                    continue;
                }
                if at.is_empty() && (k == READ_ONLY_KEY || k == BASE_KEY || k == STATUS_KEY) {
                    continue;
                }
                at.push(k.clone());
                out.extend(number_problems(v, at));
                at.pop();
            }
            out
        }
        Value::Array(items) => {
            let mut out = Vec::new();
            for (i, v) in items.iter().enumerate() {
                at.push(i.to_string());
                out.extend(number_problems(v, at));
                at.pop();
            }
            out
        }
        _ => Vec::new(),
    }
}

fn set_path_in_map(map: &mut Map<String, Value>, path: &[String], value: Value) {
    let mut holder = Value::Object(std::mem::take(map));
    set_path(&mut holder, path, value);
    if let Value::Object(m) = holder {
        *map = m;
    }
}

/// Structural checks: identity unchanged, keys known, other roles' fields named.
fn check_document(
    profile: &Profile,
    role_name: RoleName,
    kind: &KindInfo,
    live: &Value,
    doc: &Value,
) -> Vec<DocProblem> {
    let role = profile.role(role_name);
    let mut problems = Vec::new();
    let Some(map) = doc.as_object() else {
        return vec![DocProblem::new(
            "the document must be a mapping with kind, name and containers or traits".into(),
        )];
    };
    let object =
        format!("{}/{}", kind.kind.to_lowercase(), live["metadata"]["name"].as_str().unwrap_or_default());
    for key in IDENTITY_KEYS {
        let is = map.get(key);
        let ok = match key {
            "kind" => is.and_then(Value::as_str).is_some_and(|k| kind.matches(k)),
            _ => is.is_none_or(|v| *v == live["metadata"][key]),
        };
        if !ok {
            problems.push(DocProblem::new(format!(
                "{key}: cannot be changed (this document is {object} in namespace {}); to change another object, get its own document",
                live["metadata"]["namespace"]
            )));
        }
    }
    for (key, value) in map {
        if IDENTITY_KEYS.contains(&key.as_str()) {
            continue;
        }
        // Context only, never sent: a saved document whose HPA moved on, or whose live status is
        // older, still applies. But a profile's read-only field differing from the live object asks
        // for a change no role can make: refused, as the editor refuses it.
        if key == READ_ONLY_KEY {
            problems.extend(read_only_problems(role, kind, live, value));
            continue;
        }
        if key == BASE_KEY || key == STATUS_KEY {
            continue;
        }
        if role.has_document_key(key) {
            problems.extend(check_group(role, kind, key, value));
            continue;
        }
        // A section of objects around the workload: written to those objects (`related_write`).
        if let Some(t) = role.related.iter().find(|t| t.name == *key) {
            problems.extend(related::check_section(t, value));
            continue;
        }
        if key == AUTOSCALER_KEY && profile.role_of_key(key) == Some(role_name) {
            match autoscaled_fields(role, kind).next() {
                Some(_) => problems.extend(hpa::check_section(value)),
                None => problems.push(DocProblem::new(format!(
                    "{key}: {} has no autoscaler (no replica count for one to hold)",
                    kind.kind
                ))),
            }
            continue;
        }
        match profile.role_of_key(key) {
            Some(other) => problems.push(DocProblem::new(format!(
                "{key}: belongs to the {other} role; use `{}`",
                crate::error::suggest(
                    &format!("{other} edit {object}"),
                    live["metadata"]["namespace"].as_str().unwrap_or_default()
                )
            ))),
            None => problems.push(DocProblem::new(format!(
                "{key}: unknown key; the {role_name} role has {}",
                document_keys(role, kind).join(", ")
            ))),
        }
    }
    problems
}

/// A read-only field as the `readOnly` section shows it: the value, or of a map whose keys it
/// reserves only those keys (absent when the map has none).
fn read_only_value(field: &Field, kind: &KindInfo, obj: &Value) -> Option<Value> {
    if field.path.root == Root::ClaimTemplate {
        return items::claim_template_values(field, obj);
    }
    let v = get_path(obj, &field.path.in_object(kind))?;
    if field.keys.is_empty() {
        return Some(v.clone());
    }
    let reserved: Map<String, Value> = v
        .as_object()
        .into_iter()
        .flatten()
        .filter(|(k, _)| field.reserves(k))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    (!reserved.is_empty()).then_some(Value::Object(reserved))
}

/// The profile's read-only fields in a document's `readOnly` section that differ from the live
/// object (which cannot move on: they are read-only because they do not change). The rest of the
/// section (the autoscaler's count, the controller, sidecars) is context that may move on.
fn read_only_problems(role: &Role, kind: &KindInfo, live: &Value, section: &Value) -> Vec<DocProblem> {
    let Some(given) = section.as_object() else { return Vec::new() };
    role.read_only
        .iter()
        .filter(|f| f.applies_to(&kind.kind))
        .filter_map(|f| {
            let value = given.get(&f.name)?;
            (read_only_value(f, kind, live).as_ref() != Some(value)).then(|| {
                DocProblem::at(
                    &[READ_ONLY_KEY.to_string(), f.name.clone()],
                    read_only_changed_message(&f.name, f.reason.as_deref()),
                )
            })
        })
        .collect()
}

/// What a changed read-only field is told, with the reason the profile gives.
pub fn read_only_changed_message(field: &str, reason: Option<&str>) -> String {
    format!(
        "{READ_ONLY_KEY}.{field}: shown for context and never written{}; restore it or delete the {READ_ONLY_KEY} section",
        reason.map(|r| format!(" ({r})")).unwrap_or_default()
    )
}

fn document_keys(role: &Role, kind: &KindInfo) -> Vec<String> {
    let mut keys = Vec::new();
    if role.container_fields().next().is_some() {
        keys.extend(CONTAINER_LISTS.map(str::to_string));
    }
    keys.extend(role.object_traits(&kind.kind).map(|(t, _)| t.to_string()));
    keys.extend(role.related.iter().map(|t| t.name.clone()));
    keys
}

fn check_group(role: &Role, kind: &KindInfo, key: &str, value: &Value) -> Vec<DocProblem> {
    let mut problems = Vec::new();
    if value.is_null() {
        return problems;
    }
    let Some(group) = value.as_object() else {
        return vec![DocProblem::new(format!("{key}: expected a mapping"))];
    };
    if CONTAINER_LISTS.contains(&key) {
        let known: Vec<&str> = role.container_fields().map(|f| f.name.as_str()).collect();
        for (container, fields) in group {
            let Some(fields) = fields.as_object() else {
                continue;
            };
            for field in fields.keys().filter(|f| !known.contains(&f.as_str())) {
                problems.push(DocProblem::new(format!(
                    "{key}.{container}.{field}: not a {} field; it may set {}",
                    role.name,
                    known.join(", ")
                )));
            }
        }
        return problems;
    }
    let known: Vec<&str> = role
        .object_traits(&kind.kind)
        .filter(|(t, _)| *t == key)
        .flat_map(|(_, fields)| fields.into_iter().map(|f| f.name.as_str()))
        .collect();
    for field in group.keys().filter(|f| !known.contains(&f.as_str())) {
        if let Some(read_only) = role.read_only_field(&kind.kind, field) {
            problems.push(DocProblem::new(format!(
                "{key}.{field}: read-only for {}{}; it is shown under {READ_ONLY_KEY}, remove it here",
                kind.kind,
                read_only.reason.as_ref().map(|r| format!(" ({r})")).unwrap_or_default()
            )));
            continue;
        }
        problems.push(DocProblem::new(if known.is_empty() {
            format!("{key}: {} has no {key} trait", kind.kind)
        } else {
            format!("{key}.{field}: unknown field for {}; {key} has {}", kind.kind, known.join(", "))
        }));
    }
    problems
}

/// `obj` without the fields `role` owns: what a write by that role must leave exactly as it was.
pub fn without_role_fields(profile: &Profile, role: RoleName, kind: &KindInfo, obj: &Value) -> Value {
    let role = profile.role(role);
    let mut out = obj.clone();
    for (_, fields) in role.object_traits(&kind.kind) {
        for field in fields {
            let path = field.path.in_object(kind);
            let Some((last, parent)) = path.split_last() else {
                continue;
            };
            let Some(Value::Object(map)) = get_path_mut(&mut out, parent) else {
                continue;
            };
            // Of a list a field takes some items of, only those go: the others are another role's.
            if let Some(filter) = &field.items {
                if let Some(Value::Array(items)) = map.get_mut(last) {
                    items.retain(|item| !filter.keeps(item));
                    if items.is_empty() {
                        map.remove(last);
                    }
                }
                continue;
            }
            // The whole field goes, excluded keys too: those are written by tools, controllers and
            // the server (a DaemonSet's template generation), never by the role, so their changes
            // are bookkeeping, and an absent map equals an empty one. Keys no role may change
            // (security settings) stay: a role's write must leave them as they are.
            let removed = map.remove(last);
            let path_of_map = field.path.in_object(kind);
            let reserved: Map<String, Value> = match removed {
                Some(Value::Object(m)) => m
                    .into_iter()
                    .filter(|(k, _)| profile.reserved_by(kind, &path_of_map, k).is_some())
                    .collect(),
                _ => Map::new(),
            };
            if !reserved.is_empty() {
                map.insert(last.clone(), Value::Object(reserved));
            }
        }
    }
    for list in CONTAINER_LISTS {
        let Some(Value::Array(items)) = get_path_mut(&mut out, &kind.container_list_path(list)) else {
            continue;
        };
        for item in items.iter_mut() {
            for field in role.container_fields() {
                let Some((last, parent)) = field.path.segments.split_last() else {
                    continue;
                };
                if let Some(Value::Object(map)) = get_path_mut(item, parent) {
                    map.remove(last);
                }
            }
        }
    }
    out
}

/// `obj` without the map keys every role's profile marks as written by tools and controllers.
pub fn without_tool_keys(profile: &Profile, kind: &KindInfo, obj: &Value) -> Value {
    let mut out = obj.clone();
    for role in &profile.roles {
        for (_, fields) in role.object_traits(&kind.kind) {
            for field in fields.into_iter().filter(|f| !f.exclude.is_empty()) {
                if let Some(Value::Object(map)) = get_path_mut(&mut out, &field.path.in_object(kind)) {
                    map.retain(|k, _| !field.exclude.contains(k));
                }
            }
        }
    }
    out
}

pub(crate) mod items;
mod values;
pub use values::is_quantity;
use values::{quantity_problem, text_problem};

#[cfg(test)]
mod tests;
