//! Pure projection between a live object and a role document, both ways.
//!
//! `document` shows a role's fields of an object in a compact form (containers keyed by name, env as
//! `NAME: value`); `apply_body` turns a (possibly edited) document back into the partial object that
//! the role server-side applies. Nothing here talks to a cluster.

use serde_json::{Map, Value, json};

use crate::roles::{
    CONTAINERS_KEY, Field, IDENTITY_KEYS, KindInfo, Profile, READ_ONLY_KEY, Role, RoleName, Root, STATUS_KEY,
};

/// The HorizontalPodAutoscaler that targets a workload, as far as the ops view needs it.
#[derive(Debug, Clone, PartialEq)]
pub struct Autoscaler {
    pub name: String,
    pub min_replicas: Option<i64>,
    pub max_replicas: Option<i64>,
    pub metrics: Option<Value>,
}

impl Autoscaler {
    /// Finds the HPA (autoscaling/v2 JSON) among `hpas` whose scaleTargetRef names this workload.
    pub fn targeting(hpas: &[Value], kind: &KindInfo, workload: &Value) -> Option<Autoscaler> {
        let name = workload["metadata"]["name"].as_str().unwrap_or_default();
        let namespace = &workload["metadata"]["namespace"];
        // An HPA only scales workloads of its own namespace (lists with -A hold many namespaces).
        let same_namespace = |hpa: &&Value| hpa["metadata"]["namespace"] == *namespace;
        hpas.iter().filter(same_namespace).find_map(|hpa| {
            let target = &hpa["spec"]["scaleTargetRef"];
            let same_group = target["apiVersion"]
                .as_str()
                .is_none_or(|v| v.rsplit_once('/').map_or("", |(g, _)| g) == kind.group());
            (target["kind"] == kind.kind.as_str() && target["name"] == name && same_group).then(|| {
                Autoscaler {
                    name: hpa["metadata"]["name"].as_str().unwrap_or_default().to_string(),
                    // minReplicas defaults to 1 on the server.
                    min_replicas: hpa["spec"]["minReplicas"].as_i64().or(Some(1)),
                    max_replicas: hpa["spec"]["maxReplicas"].as_i64(),
                    metrics: hpa["spec"].get("metrics").cloned(),
                }
            })
        })
    }

    /// `held`: each field the autoscaler holds, with its current value.
    fn to_value(&self, held: &[(String, Option<&Value>)]) -> Value {
        let mut m = Map::new();
        m.insert("name".into(), json!(self.name));
        if let Some(min) = self.min_replicas {
            m.insert("minReplicas".into(), json!(min));
        }
        if let Some(max) = self.max_replicas {
            m.insert("maxReplicas".into(), json!(max));
        }
        if let Some(metrics) = &self.metrics {
            m.insert("metrics".into(), metrics.clone());
        }
        let names: Vec<&String> = held.iter().map(|(name, _)| name).collect();
        m.insert("holds".into(), json!(names));
        let current: Map<String, Value> =
            held.iter().filter_map(|(name, value)| value.map(|v| (name.clone(), v.clone()))).collect();
        if !current.is_empty() {
            m.insert("current".into(), Value::Object(current));
        }
        Value::Object(m)
    }
}

/// What a view shows besides the object.
#[derive(Debug, Default, Clone)]
pub struct ViewOptions<'a> {
    /// Only this container (dev).
    pub container: Option<&'a str>,
    pub autoscaler: Option<&'a Autoscaler>,
}

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
    get_path(obj, &kind.containers_path()).and_then(Value::as_array).map_or(&[], Vec::as_slice)
}

pub fn container_name(container: &Value) -> &str {
    container["name"].as_str().unwrap_or_default()
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
        let mut by_name = Map::new();
        for c in containers(obj, kind) {
            let name = container_name(c);
            if opts.container.is_some_and(|only| only != name) {
                continue;
            }
            by_name.insert(name.to_string(), Value::Object(container_document(role, c)));
        }
        doc.insert(CONTAINERS_KEY.into(), Value::Object(by_name));
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
                let v = without_excluded(v, field);
                if !is_empty_value(&v) {
                    group.insert(field.name.clone(), encode(field, &v));
                }
            }
        }
        if !group.is_empty() {
            doc.insert(trait_name.to_string(), Value::Object(group));
        }
    }

    let read_only = read_only_section(role, kind, obj, opts.autoscaler);
    if !read_only.is_empty() {
        doc.insert(READ_ONLY_KEY.into(), Value::Object(read_only));
    }
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
    role: &Role,
    kind: &KindInfo,
    obj: &Value,
    hpa: Option<&Autoscaler>,
) -> Map<String, Value> {
    let mut out = Map::new();
    for field in role.read_only.iter().filter(|f| f.applies_to(&kind.kind)) {
        if let Some(v) = get_path(obj, &field.path.in_object(kind)) {
            out.insert(field.name.clone(), v.clone());
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

fn autoscaled_fields<'a>(
    role: &'a Role,
    kind: &'a KindInfo,
) -> impl Iterator<Item = (&'a str, &'a Field)> + 'a {
    role.object_traits(&kind.kind)
        .flat_map(|(t, fields)| fields.into_iter().map(move |f| (t, f)))
        .filter(|(_, f)| f.autoscaled)
}

fn without_excluded(value: &Value, field: &Field) -> Value {
    match value {
        Value::Object(m) if !field.exclude.is_empty() => Value::Object(
            m.iter()
                .filter(|(k, _)| !field.exclude.contains(k))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        ),
        other => other.clone(),
    }
}

fn is_empty_value(v: &Value) -> bool {
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

/// The inverse of `encode`; `at` names the place for errors.
fn decode(field: &Field, value: &Value, at: &str) -> Result<Value, String> {
    match codec(field) {
        Codec::Env => {
            let Value::Object(vars) = value else {
                return Err(format!("{at}: expected NAME: value pairs"));
            };
            vars.iter()
                .map(|(name, v)| {
                    Ok(match v {
                        Value::String(s) => json!({"name": name, "value": s}),
                        Value::Number(n) => json!({"name": name, "value": n.to_string()}),
                        Value::Bool(b) => json!({"name": name, "value": b.to_string()}),
                        Value::Null => json!({"name": name}),
                        Value::Object(from) if from.len() == 1 => json!({"name": name, "valueFrom": from}),
                        _ => {
                            return Err(format!(
                                "{at}.{name}: expected a value or one reference such as {{secretKeyRef: {{name: N, key: K}}}}"
                            ));
                        }
                    })
                })
                .collect::<Result<Vec<_>, _>>()
                .map(Value::Array)
        }
        Codec::Ports => {
            let Value::Array(items) = value else {
                return Err(format!("{at}: expected a list of ports"));
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
                    _ => Err(format!("{at}[{i}]: expected {{containerPort: N, name: …}} or a port number")),
                })
                .collect::<Result<Vec<_>, _>>()
                .map(Value::Array)
        }
        Codec::Plain => Ok(value.clone()),
    }
}

/// Why a document cannot be applied. Each is one line; the editor shows them all at once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocProblem(pub String);

/// What an apply needs besides the document.
#[derive(Debug, Default, Clone)]
pub struct ApplyOptions<'a> {
    pub autoscaler: Option<&'a Autoscaler>,
    /// Take fields over from others, including replicas held by an autoscaler.
    pub force: bool,
    /// The field manager that will apply the body (to see what it owns now).
    pub manager: Option<&'a str>,
}

/// An apply body plus what it chose to leave out.
#[derive(Debug, Clone, PartialEq)]
pub struct ApplyBody {
    pub body: Value,
    /// A changed replicas value on a workload with an HPA (refused unless forced).
    pub autoscaler_conflict: bool,
}

/// Builds the partial object that `role` server-side applies so that `live` ends up as `doc` says.
///
/// The body holds exactly the role's fields of the object, for every container (a container missing
/// from `doc` keeps its live values), so applying it never touches another role's fields.
pub fn apply_body(
    profile: &Profile,
    role_name: RoleName,
    kind: &KindInfo,
    live: &Value,
    doc: &Value,
    opts: &ApplyOptions,
) -> Result<ApplyBody, Vec<DocProblem>> {
    let role = profile.role(role_name);
    let mut problems = check_document(profile, role_name, kind, live, doc);

    let mut body = json!({
        "apiVersion": kind.api_version,
        "kind": kind.kind,
        "metadata": {
            "name": live["metadata"]["name"],
            "namespace": live["metadata"]["namespace"],
        },
    });
    // A uid precondition: the server refuses the apply if the object is gone (or was re-created)
    // instead of creating it. Roles edit live objects; they never create them.
    if let Some(uid) = live["metadata"].get("uid") {
        body["metadata"]["uid"] = uid.clone();
    }
    // And a resourceVersion precondition: the change the user saw in the dry-run diff is the one
    // applied; if anyone wrote to the object in between, the server refuses instead of reverting
    // their change with values read before it.
    if let Some(rv) = live["metadata"].get("resourceVersion") {
        body["metadata"]["resourceVersion"] = rv.clone();
    }

    if role.container_fields().next().is_some() {
        let wanted = doc.get(CONTAINERS_KEY).and_then(Value::as_object);
        let live_names: Vec<&str> = containers(live, kind).iter().map(container_name).collect();
        for name in wanted.into_iter().flat_map(|w| w.keys()) {
            if !live_names.contains(&name.as_str()) {
                problems.push(DocProblem(format!(
                    "containers.{name}: no such container (it has {}); roles change containers, they do not add or rename them",
                    live_names.join(", ")
                )));
            }
        }
        let mut items = Vec::new();
        for c in containers(live, kind) {
            let name = container_name(c);
            let source = match wanted.and_then(|w| w.get(name)) {
                Some(Value::Object(m)) => m.clone(),
                Some(Value::Null) => Map::new(),
                Some(_) => {
                    problems.push(DocProblem(format!("containers.{name}: expected a mapping of fields")));
                    continue;
                }
                None => container_document(role, c),
            };
            let mut item = Map::new();
            item.insert("name".into(), json!(name));
            for field in role.container_fields() {
                if let Some(v) = source.get(&field.name).filter(|v| !v.is_null()) {
                    match decode(field, v, &format!("containers.{name}.{}", field.name)) {
                        Ok(v) => set_path_in_map(&mut item, &field.path.segments, v),
                        Err(e) => problems.push(DocProblem(e)),
                    }
                }
            }
            items.push(Value::Object(item));
        }
        set_path(&mut body, &kind.containers_path(), Value::Array(items));
    }

    let mut autoscaler_conflict = false;
    for (trait_name, fields) in role.object_traits(&kind.kind) {
        let group = doc.get(trait_name).and_then(Value::as_object);
        for field in fields {
            let path = field.path.in_object(kind);
            let wanted = group.and_then(|g| g.get(&field.name)).filter(|v| !v.is_null());
            if field.autoscaled && opts.autoscaler.is_some() {
                // The autoscaler holds this field: leave it to the HPA unless told to take it.
                let live_value = get_path(live, &path);
                if wanted.is_some() && wanted != live_value {
                    if opts.force {
                        set_path(&mut body, &path, wanted.cloned().unwrap_or_default());
                    } else {
                        autoscaler_conflict = true;
                    }
                } else if let (Some(value), true) = (live_value, manager_owns(live, opts.manager, &path)) {
                    // Still ours: keep the live value. Releasing it could let the server reset it
                    // to its default (1) before the autoscaler's controller takes it over.
                    set_path(&mut body, &path, value.clone());
                }
                continue;
            }
            let Some(wanted) = wanted else { continue };
            let mut value = match decode(field, wanted, &format!("{trait_name}.{}", field.name)) {
                Ok(v) => v,
                Err(e) => {
                    problems.push(DocProblem(e));
                    continue;
                }
            };
            if let (Value::Object(m), false) = (&mut value, field.exclude.is_empty()) {
                if let Some(k) = m.keys().find(|k| field.exclude.contains(k)) {
                    problems.push(DocProblem(format!(
                        "{trait_name}.{}.{k}: set by tools and controllers, not by a role; remove it",
                        field.name
                    )));
                }
            }
            set_path(&mut body, &path, value);
        }
    }

    problems.extend(out_of_range(doc, ""));
    if problems.is_empty() { Ok(ApplyBody { body, autoscaler_conflict }) } else { Err(problems) }
}

/// Integers a workload's fields cannot hold: every number in the built-in roles is an int32, and the
/// server would wrap a larger one silently.
fn out_of_range(value: &Value, at: &str) -> Vec<DocProblem> {
    let child = |key: &str| {
        if at.is_empty() { key.to_string() } else { format!("{at}.{key}") }
    };
    match value {
        Value::Number(n) if !n.is_f64() && n.as_i64().is_none_or(|v| i32::try_from(v).is_err()) => {
            vec![DocProblem(format!("{at}: {n} is out of range (at most {})", i32::MAX))]
        }
        Value::Object(m) => m.iter().flat_map(|(k, v)| out_of_range(v, &child(k))).collect(),
        Value::Array(a) => {
            a.iter().enumerate().flat_map(|(i, v)| out_of_range(v, &format!("{at}[{i}]"))).collect()
        }
        _ => Vec::new(),
    }
}

/// Does `manager` own the field at `path` (object-rooted) in `obj`'s managedFields?
fn manager_owns(obj: &Value, manager: Option<&str>, path: &[String]) -> bool {
    use crate::owners::{Step, managed_entries, owns};
    let Some(manager) = manager else { return false };
    let steps: Vec<Step> = path.iter().cloned().map(Step::Field).collect();
    managed_entries(obj).iter().any(|e| e.manager == manager && owns(&e.fields, &steps, &[]))
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
        return vec![DocProblem(
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
            problems.push(DocProblem(format!(
                "{key}: cannot be changed (this document is {object} in namespace {}); to change another object, get its own document",
                live["metadata"]["namespace"]
            )));
        }
    }
    for (key, value) in map {
        if IDENTITY_KEYS.contains(&key.as_str()) {
            continue;
        }
        // Context only, never sent: a saved document whose HPA or selector moved on still applies.
        // (The editor refuses changes to it, since there the user's intent is clear.)
        if key == READ_ONLY_KEY || key == STATUS_KEY {
            continue;
        }
        if role.has_document_key(key) {
            problems.extend(check_group(role, kind, key, value));
            continue;
        }
        match profile.role_of_key(key) {
            Some(other) => problems.push(DocProblem(format!(
                "{key}: belongs to the {other} role; use `kubectl oam {other} edit {object}`"
            ))),
            None => problems.push(DocProblem(format!(
                "{key}: unknown key; the {role_name} role has {}",
                document_keys(role, kind).join(", ")
            ))),
        }
    }
    problems
}

fn document_keys(role: &Role, kind: &KindInfo) -> Vec<String> {
    let mut keys = Vec::new();
    if role.container_fields().next().is_some() {
        keys.push(CONTAINERS_KEY.to_string());
    }
    keys.extend(role.object_traits(&kind.kind).map(|(t, _)| t.to_string()));
    keys
}

fn check_group(role: &Role, kind: &KindInfo, key: &str, value: &Value) -> Vec<DocProblem> {
    let mut problems = Vec::new();
    if value.is_null() {
        return problems;
    }
    let Some(group) = value.as_object() else {
        return vec![DocProblem(format!("{key}: expected a mapping"))];
    };
    if key == CONTAINERS_KEY {
        let known: Vec<&str> = role.container_fields().map(|f| f.name.as_str()).collect();
        for (container, fields) in group {
            let Some(fields) = fields.as_object() else {
                continue;
            };
            for field in fields.keys().filter(|f| !known.contains(&f.as_str())) {
                problems.push(DocProblem(format!(
                    "containers.{container}.{field}: not a {} field; it may set {}",
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
        problems.push(DocProblem(if known.is_empty() {
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
            // The whole field goes, excluded keys too: those are written by tools, controllers and
            // the server (a DaemonSet's template generation), never by the role, so their changes
            // are bookkeeping, and an absent map equals an empty one.
            map.remove(last);
        }
    }
    if let Some(Value::Array(items)) = get_path_mut(&mut out, &kind.containers_path()) {
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

fn get_path_mut<'a>(value: &'a mut Value, path: &[String]) -> Option<&'a mut Value> {
    path.iter().try_fold(value, |v, seg| v.get_mut(seg.as_str()))
}

/// Role fields a document leaves out that are still there after the apply: removals the server does
/// not carry out because another manager owns the field. Only absences count, so a value the server
/// normalises (`0.5` → `500m`) is not reported.
pub fn kept_paths(requested: &Value, after: &Value) -> Vec<String> {
    fn walk(req: Option<&Value>, aft: &Value, at: &str, out: &mut Vec<String>) {
        match (req, aft) {
            (None | Some(Value::Null), v) if !v.is_null() => out.push(at.to_string()),
            (Some(Value::Object(r)), Value::Object(a)) => {
                for (k, v) in a {
                    walk(r.get(k), v, &format!("{at}.{k}"), out);
                }
            }
            _ => {}
        }
    }
    let (Some(req), Some(aft)) = (requested.as_object(), after.as_object()) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (key, value) in aft {
        if IDENTITY_KEYS.contains(&key.as_str()) || key == READ_ONLY_KEY {
            continue;
        }
        if key == CONTAINERS_KEY {
            // Only the containers the document names (it may have been filtered with -c).
            let (Some(named), Some(now)) = (req.get(key).and_then(Value::as_object), value.as_object())
            else {
                continue;
            };
            for (name, c) in named {
                if let Some(after_c) = now.get(name) {
                    walk(Some(c), after_c, &format!("{key}.{name}"), &mut out);
                }
            }
            continue;
        }
        walk(req.get(key), value, key, &mut out);
    }
    out
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

/// Names a field the server reports (`.spec.template.spec.containers[name="app"].image`) the way role
/// documents do (`containers.app.image`); None for fields outside every role.
pub fn document_label(profile: &Profile, kind: &KindInfo, server_field: &str) -> Option<String> {
    let segments = split_server_path(server_field);
    let containers = kind.containers_path();
    let (parent, list) = containers.split_at(containers.len() - 1);
    if segments.len() > containers.len() && segments[..parent.len()] == *parent {
        if let Some(name) = segments[parent.len()]
            .strip_prefix(&format!("{}[name=\"", list[0]))
            .and_then(|rest| rest.strip_suffix("\"]"))
        {
            return Some(format!("containers.{name}.{}", segments[containers.len()..].join(".")));
        }
    }
    for role in &profile.roles {
        for (trait_name, fields) in role.object_traits(&kind.kind) {
            for field in fields {
                let path = field.path.in_object(kind);
                if segments.starts_with(&path) {
                    let rest: Vec<&str> = segments[path.len()..].iter().map(String::as_str).collect();
                    let tail = if rest.is_empty() { String::new() } else { format!(".{}", rest.join(".")) };
                    return Some(format!("{trait_name}.{}{tail}", field.name));
                }
            }
        }
    }
    None
}

/// Splits `.a.b[name="x.y"].c` on dots outside brackets.
fn split_server_path(path: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut depth = 0;
    for ch in path.trim_start_matches('.').chars() {
        match ch {
            '[' => depth += 1,
            ']' => depth -= 1,
            '.' if depth == 0 => {
                out.push(std::mem::take(&mut current));
                continue;
            }
            _ => {}
        }
        current.push(ch);
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn deployment() -> Value {
        json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "shop", "labels": {"app": "web"},
                          "annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{}", "team": "a"}},
            "spec": {
                "replicas": 3,
                "selector": {"matchLabels": {"app": "web"}},
                "strategy": {"type": "RollingUpdate"},
                "template": {
                    "metadata": {"labels": {"app": "web"}},
                    "spec": {
                        "nodeSelector": {"disk": "ssd"},
                        "serviceAccountName": "web",
                        "containers": [
                            {"name": "app", "image": "shop:1", "imagePullPolicy": "Always",
                             "env": [{"name": "MODE", "value": "prod"},
                                     {"name": "PASSWORD", "valueFrom": {"secretKeyRef": {"name": "db", "key": "pw"}}}],
                             "ports": [{"containerPort": 8080, "name": "http", "protocol": "TCP"}],
                             "livenessProbe": {"httpGet": {"path": "/"}}},
                            {"name": "proxy", "image": "envoy:1"}
                        ]
                    }
                }
            }
        })
    }

    fn setup() -> (Profile, Value) {
        (Profile::builtin(), deployment())
    }

    #[test]
    fn dev_document_is_compact_and_role_only() {
        let (p, obj) = setup();
        let kind = p.kind("deploy").unwrap();
        let doc = document(&p, RoleName::Dev, kind, &obj, &ViewOptions::default());
        assert_eq!(
            doc,
            json!({
                "kind": "Deployment", "name": "web", "namespace": "shop",
                "containers": {
                    "app": {"image": "shop:1",
                            "env": {"MODE": "prod", "PASSWORD": {"secretKeyRef": {"name": "db", "key": "pw"}}},
                            "ports": [{"containerPort": 8080, "name": "http"}]},
                    "proxy": {"image": "envoy:1"}
                }
            })
        );
    }

    #[test]
    fn ops_document_hides_tool_annotations_and_shows_selector_read_only() {
        let (p, obj) = setup();
        let kind = p.kind("deploy").unwrap();
        let doc = document(&p, RoleName::Ops, kind, &obj, &ViewOptions::default());
        assert_eq!(
            doc,
            json!({
                "kind": "Deployment", "name": "web", "namespace": "shop",
                "scaler": {"replicas": 3},
                "rollout": {"strategy": {"type": "RollingUpdate"}},
                "placement": {"nodeSelector": {"disk": "ssd"}},
                "metadata": {"labels": {"app": "web"}, "annotations": {"team": "a"}},
                "readOnly": {"selector": {"app": "web"}}
            })
        );
    }

    #[test]
    fn container_filter_and_autoscaler() {
        let (p, obj) = setup();
        let kind = p.kind("deploy").unwrap();
        let hpa =
            Autoscaler { name: "web".into(), min_replicas: Some(2), max_replicas: Some(5), metrics: None };
        let dev = document(
            &p,
            RoleName::Dev,
            kind,
            &obj,
            &ViewOptions { container: Some("proxy"), autoscaler: None },
        );
        assert_eq!(dev["containers"], json!({"proxy": {"image": "envoy:1"}}));
        let ops =
            document(&p, RoleName::Ops, kind, &obj, &ViewOptions { container: None, autoscaler: Some(&hpa) });
        assert_eq!(
            ops["readOnly"]["autoscaler"],
            json!({"name": "web", "minReplicas": 2, "maxReplicas": 5, "holds": ["scaler.replicas"],
                   "current": {"scaler.replicas": 3}})
        );
        assert!(ops.get("scaler").is_none(), "a held count is not offered for editing");
    }

    #[test]
    fn unchanged_document_round_trips_to_the_role_fields_only() {
        let (p, obj) = setup();
        let kind = p.kind("deploy").unwrap();
        let doc = document(&p, RoleName::Dev, kind, &obj, &ViewOptions::default());
        let body = apply_body(&p, RoleName::Dev, kind, &obj, &doc, &ApplyOptions::default()).unwrap().body;
        assert_eq!(
            body,
            json!({
                "apiVersion": "apps/v1", "kind": "Deployment",
                "metadata": {"name": "web", "namespace": "shop"},
                "spec": {"template": {"spec": {"containers": [
                    {"name": "app", "image": "shop:1",
                     "env": [{"name": "MODE", "value": "prod"},
                             {"name": "PASSWORD", "valueFrom": {"secretKeyRef": {"name": "db", "key": "pw"}}}],
                     "ports": [{"containerPort": 8080, "name": "http", "protocol": "TCP"}]},
                    {"name": "proxy", "image": "envoy:1"}
                ]}}}
            })
        );
        let ops_doc = document(&p, RoleName::Ops, kind, &obj, &ViewOptions::default());
        let ops = apply_body(&p, RoleName::Ops, kind, &obj, &ops_doc, &ApplyOptions::default()).unwrap().body;
        assert_eq!(ops["spec"]["replicas"], 3);
        assert_eq!(ops["metadata"]["annotations"], json!({"team": "a"}));
        assert!(ops["spec"]["template"]["spec"].get("containers").is_none(), "ops never sends containers");
    }

    #[test]
    fn a_filtered_document_keeps_other_containers() {
        let (p, obj) = setup();
        let kind = p.kind("deploy").unwrap();
        let doc = json!({"kind": "Deployment", "name": "web", "containers": {"proxy": {"image": "envoy:2"}}});
        let body = apply_body(&p, RoleName::Dev, kind, &obj, &doc, &ApplyOptions::default()).unwrap().body;
        let items = &body["spec"]["template"]["spec"]["containers"];
        assert_eq!(items[0]["image"], "shop:1");
        assert_eq!(items[1], json!({"name": "proxy", "image": "envoy:2"}));
    }

    #[test]
    fn env_values_of_any_scalar_become_strings() {
        let (p, obj) = setup();
        let kind = p.kind("deploy").unwrap();
        let doc = json!({"kind": "Deployment", "name": "web",
                         "containers": {"app": {"image": "x", "env": {"PORT": 8080, "DEBUG": true, "EMPTY": null}}}});
        let body = apply_body(&p, RoleName::Dev, kind, &obj, &doc, &ApplyOptions::default()).unwrap().body;
        assert_eq!(
            body["spec"]["template"]["spec"]["containers"][0]["env"],
            json!([{"name": "PORT", "value": "8080"}, {"name": "DEBUG", "value": "true"}, {"name": "EMPTY"}])
        );
    }

    #[test]
    fn problems_are_named_and_point_to_the_other_role() {
        let (p, obj) = setup();
        let kind = p.kind("deploy").unwrap();
        let cases = [
            (json!({"kind": "Deployment", "name": "other"}), "name: cannot be changed"),
            (json!({"kind": "StatefulSet", "name": "web"}), "kind: cannot be changed"),
            (
                json!({"kind": "Deployment", "name": "web", "scaler": {"replicas": 1}}),
                "scaler: belongs to the ops role; use `kubectl oam ops edit deployment/web`",
            ),
            (
                json!({"kind": "Deployment", "name": "web", "bogus": 1}),
                "bogus: unknown key; the dev role has containers",
            ),
            (
                json!({"kind": "Deployment", "name": "web", "containers": {"app": {"livenessProbe": {}}}}),
                "containers.app.livenessProbe: not a dev field",
            ),
            (
                json!({"kind": "Deployment", "name": "web", "containers": {"app": {"env": ["x"]}}}),
                "containers.app.env: expected NAME: value pairs",
            ),
            (
                json!({"kind": "Deployment", "name": "web", "containers": {"app": {"ports": ["x"]}}}),
                "containers.app.ports[0]",
            ),
        ];
        for (doc, expect) in cases {
            let problems =
                apply_body(&p, RoleName::Dev, kind, &obj, &doc, &ApplyOptions::default()).unwrap_err();
            assert!(problems.iter().any(|d| d.0.contains(expect)), "{problems:?} should mention {expect}");
        }
        let ops_cases = [
            (
                json!({"kind": "Deployment", "name": "web", "containers": {}}),
                "containers: belongs to the dev role",
            ),
            (
                json!({"kind": "Deployment", "name": "web", "schedule": {"schedule": "* * * * *"}}),
                "schedule: Deployment has no schedule trait",
            ),
            (
                json!({"kind": "Deployment", "name": "web", "metadata": {"annotations": {"deployment.kubernetes.io/revision": "2"}}}),
                "set by tools and controllers",
            ),
        ];
        for (doc, expect) in ops_cases {
            let problems =
                apply_body(&p, RoleName::Ops, kind, &obj, &doc, &ApplyOptions::default()).unwrap_err();
            assert!(problems.iter().any(|d| d.0.contains(expect)), "{problems:?} should mention {expect}");
        }
    }

    #[test]
    fn replicas_held_by_an_autoscaler_are_left_to_it() {
        let (p, obj) = setup();
        let kind = p.kind("deploy").unwrap();
        let hpa =
            Autoscaler { name: "web".into(), min_replicas: Some(1), max_replicas: Some(4), metrics: None };
        let view = ViewOptions { container: None, autoscaler: Some(&hpa) };
        let mut doc = document(&p, RoleName::Ops, kind, &obj, &view);
        let opts = ApplyOptions { autoscaler: Some(&hpa), force: false, manager: Some("kubectl-oam-ops") };
        let same = apply_body(&p, RoleName::Ops, kind, &obj, &doc, &opts).unwrap();
        assert!(same.body["spec"].get("replicas").is_none() && !same.autoscaler_conflict);
        // While ops still owns replicas, the body keeps the live value rather than releasing it
        // (which could let the server reset it to 1).
        let mut owned = obj.clone();
        owned["metadata"]["managedFields"] = json!([{"manager": "kubectl-oam-ops", "operation": "Apply",
            "fieldsType": "FieldsV1", "fieldsV1": {"f:spec": {"f:replicas": {}}}}]);
        let kept = apply_body(&p, RoleName::Ops, kind, &owned, &doc, &opts).unwrap();
        assert_eq!(kept.body["spec"]["replicas"], 3);
        doc["scaler"]["replicas"] = json!(7);
        let changed = apply_body(&p, RoleName::Ops, kind, &obj, &doc, &opts).unwrap();
        assert!(changed.autoscaler_conflict && changed.body["spec"].get("replicas").is_none());
        let forced =
            apply_body(&p, RoleName::Ops, kind, &obj, &doc, &ApplyOptions { force: true, ..opts }).unwrap();
        assert_eq!(forced.body["spec"]["replicas"], 7);
    }

    #[test]
    fn role_fields_are_removed_and_everything_else_kept() {
        let (p, obj) = setup();
        let kind = p.kind("deploy").unwrap();
        let dev_less = without_role_fields(&p, RoleName::Dev, kind, &obj);
        let app = &dev_less["spec"]["template"]["spec"]["containers"][0];
        assert_eq!(
            app,
            &json!({"name": "app", "imagePullPolicy": "Always", "livenessProbe": {"httpGet": {"path": "/"}}})
        );
        assert_eq!(dev_less["spec"]["replicas"], 3, "ops fields stay");
        let ops_less = without_role_fields(&p, RoleName::Ops, kind, &obj);
        assert!(ops_less["spec"].get("replicas").is_none());
        assert!(ops_less["metadata"].get("annotations").is_none(), "tool-written keys are bookkeeping");
        assert_eq!(ops_less["spec"]["template"]["spec"]["serviceAccountName"], "web");
        let mut changed = ops_less.clone();
        changed["spec"]["template"]["spec"]["serviceAccountName"] = json!("other");
        changed["spec"]["paused"] = json!(true);
        assert_eq!(
            differing_paths(&ops_less, &changed),
            ["spec.template.spec.serviceAccountName", "spec.paused"]
        );
    }

    #[test]
    fn unknown_containers_and_out_of_range_numbers_are_problems() {
        let (p, obj) = setup();
        let kind = p.kind("deploy").unwrap();
        let doc = json!({"kind": "Deployment", "name": "web", "containers": {"ap": {"image": "x"}}});
        let problems = apply_body(&p, RoleName::Dev, kind, &obj, &doc, &ApplyOptions::default()).unwrap_err();
        assert!(
            problems[0].0.starts_with("containers.ap: no such container (it has app, proxy)"),
            "{problems:?}"
        );
        let doc = json!({"kind": "Deployment", "name": "web", "scaler": {"replicas": 4294967298u64}});
        let problems = apply_body(&p, RoleName::Ops, kind, &obj, &doc, &ApplyOptions::default()).unwrap_err();
        assert_eq!(problems[0].0, "scaler.replicas: 4294967298 is out of range (at most 2147483647)");
    }

    #[test]
    fn kept_paths_are_removals_that_did_not_happen() {
        let after = json!({"kind": "Deployment", "containers": {"app": {"image": "a", "env": {"A": "1", "B": "2"}}, "x": {"image": "x"}},
                           "placement": {"tolerations": [1]}, "readOnly": {"selector": {}}});
        let requested =
            json!({"kind": "Deployment", "containers": {"app": {"image": "a", "env": {"A": "1"}}}});
        assert_eq!(kept_paths(&requested, &after), ["containers.app.env.B", "placement"]);
        let normalised = json!({"containers": {"app": {"image": "b", "env": {"A": 1, "B": "2"}}}, "placement": {"tolerations": [2]}});
        assert!(kept_paths(&normalised, &after).is_empty(), "only absences count");
    }

    #[test]
    fn server_fields_are_named_as_documents_name_them() {
        let p = Profile::builtin();
        let deploy = p.kind("deploy").unwrap();
        let cj = p.kind("cj").unwrap();
        let cases = [
            (deploy, ".spec.template.spec.containers[name=\"app\"].image", Some("containers.app.image")),
            (
                deploy,
                ".spec.template.spec.containers[name=\"a.b\"].env[name=\"X\"].value",
                Some("containers.a.b.env[name=\"X\"].value"),
            ),
            (deploy, ".spec.replicas", Some("scaler.replicas")),
            (deploy, ".metadata.labels.app", Some("metadata.labels.app")),
            (deploy, ".spec.template.spec.tolerations", Some("placement.tolerations")),
            (
                cj,
                ".spec.jobTemplate.spec.template.spec.containers[name=\"job\"].args",
                Some("containers.job.args"),
            ),
            (deploy, ".spec.template.spec.serviceAccountName", None),
        ];
        for (kind, field, label) in cases {
            assert_eq!(document_label(&p, kind, field).as_deref(), label, "{field}");
        }
    }

    #[test]
    fn hpa_lookup_matches_kind_name_and_group() {
        let p = Profile::builtin();
        let kind = p.kind("deploy").unwrap();
        let hpas = vec![
            json!({"metadata": {"name": "other", "namespace": "a"}, "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "api"}, "maxReplicas": 3}}),
            json!({"metadata": {"name": "elsewhere", "namespace": "b"}, "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"}, "maxReplicas": 2}}),
            json!({"metadata": {"name": "web-hpa", "namespace": "a"}, "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"}, "maxReplicas": 9}}),
        ];
        let workload = |name: &str| json!({"metadata": {"name": name, "namespace": "a"}});
        let found = Autoscaler::targeting(&hpas, kind, &workload("web")).unwrap();
        assert_eq!(
            (found.name.as_str(), found.min_replicas, found.max_replicas),
            ("web-hpa", Some(1), Some(9))
        );
        assert!(Autoscaler::targeting(&hpas, kind, &workload("db")).is_none());
        assert!(Autoscaler::targeting(&hpas, p.kind("sts").unwrap(), &workload("web")).is_none());
        let in_b = json!({"metadata": {"name": "web", "namespace": "b"}});
        assert_eq!(Autoscaler::targeting(&hpas, kind, &in_b).unwrap().name, "elsewhere");
    }
}
