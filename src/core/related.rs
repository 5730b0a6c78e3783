//! Objects around the workload as role traits (the profile's `related:` kinds): which Services select
//! the pod template, which Ingresses and HTTPRoutes route to those Services, which
//! PodDisruptionBudgets select the pods, which PersistentVolumeClaims the pods mount; their sections
//! in a role document (keyed by object name), and what the developer is shown read-only: how the app
//! is reached (`endpoints`) and what its claims hold (`claims`).
//!
//! Pure: the lists come from `cluster::fetch`; nothing here talks to a cluster.

use serde_json::{Map, Value, json};

use crate::core::ownership::{self, Base, Units};
use crate::error::Problem as DocProblem;
use crate::model::object::{all_containers, container_name, get_path};
use crate::model::roles::{Find, RelatedField, RelatedKind, RelatedTrait};
use crate::model::roles::{KindInfo, Profile, Role, RoleName};
use crate::model::schema::KindSchema;

/// Under `readOnly` of the developer's document: how the app is reached.
pub const ENDPOINTS_KEY: &str = "endpoints";
/// Under `readOnly`: each claim's live capacity and phase.
pub const CLAIMS_KEY: &str = "claims";

/// The related objects of one workload, per root, in the order the lists gave them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Related {
    pub found: Vec<(String, Vec<Value>)>,
}

impl Related {
    /// The objects found for `root`.
    pub fn of(&self, root: &str) -> &[Value] {
        self.found.iter().find(|(r, _)| r == root).map_or(&[], |(_, v)| v.as_slice())
    }

    /// Every object found, with its root.
    pub fn all(&self) -> impl Iterator<Item = (&str, &Value)> {
        self.found.iter().flat_map(|(r, objs)| objs.iter().map(move |o| (r.as_str(), o)))
    }
}

/// The related kinds a view of `role` lists: those its traits have fields of, and for the role with
/// container fields (the developer) the Services and routes its `endpoints` are read from. A role
/// with neither lists nothing.
pub fn kinds_for_view(profile: &Profile, role: RoleName) -> Vec<&RelatedKind> {
    let role = profile.role(role);
    let endpoints = shows_endpoints(role);
    profile
        .related
        .iter()
        .filter(|k| {
            role.related.iter().any(|t| t.fields.iter().any(|f| f.root == k.root))
                || (endpoints && is_endpoint_kind(profile, k))
        })
        .collect()
}

/// The related kinds some role has fields of (what `owners` lists).
pub fn kinds_with_fields(profile: &Profile) -> Vec<&RelatedKind> {
    profile
        .related
        .iter()
        .filter(|k| {
            profile.roles.iter().any(|r| r.related.iter().any(|t| t.fields.iter().any(|f| f.root == k.root)))
        })
        .collect()
}

/// The related kinds `list -o wide` shows a column of for `role`: those its traits have fields of that
/// select the pods (ops: Services, PodDisruptionBudgets), headed by their short name (SVC, PDB).
pub fn wide_kinds(profile: &Profile, role: RoleName) -> Vec<&RelatedKind> {
    let role = profile.role(role);
    profile
        .related
        .iter()
        .filter(|k| k.find == Find::SelectsPods)
        .filter(|k| role.related.iter().any(|t| t.fields.iter().any(|f| f.root == k.root)))
        .collect()
}

/// The headers of [`wide_kinds`]' columns.
pub fn wide_headers(kinds: &[&RelatedKind]) -> Vec<String> {
    kinds.iter().map(|k| k.info.names.first().unwrap_or(&k.info.resource).to_uppercase()).collect()
}

/// The cells of [`wide_kinds`]' columns for one workload: the names of its objects of each kind
/// (`<none>` without any).
pub fn wide_cells(
    profile: &Profile,
    kinds: &[&RelatedKind],
    kind: &KindInfo,
    workload: &Value,
    lists: &[(String, Vec<Value>)],
) -> Vec<String> {
    found_cells(kinds, Some(&find(profile, kind, workload, lists)))
}

/// The cells of [`wide_kinds`]' columns from the objects already found (None: none read).
pub fn found_cells(kinds: &[&RelatedKind], found: Option<&Related>) -> Vec<String> {
    kinds
        .iter()
        .map(|k| {
            let names: Vec<&str> = found.map_or(&[][..], |f| f.of(&k.root)).iter().map(object_name).collect();
            if names.is_empty() { "<none>".to_string() } else { names.join(",") }
        })
        .collect()
}

/// Does the role's document have `readOnly.claims` (it has fields of claims)?
fn shows_claims(profile: &Profile, role: &Role) -> bool {
    role.related.iter().any(|t| {
        t.fields
            .iter()
            .any(|f| profile.related.iter().any(|k| k.root == f.root && k.find == Find::MountedByPods))
    })
}

/// Does the role's document have `readOnly.endpoints` (it owns what containers run)?
pub fn shows_endpoints(role: &Role) -> bool {
    role.container_fields().next().is_some()
}

/// What a view of `role` leaves out when `kind`'s objects cannot be listed, for the warning that
/// says so: "the view leaves out expose and gateway".
pub fn left_out(profile: &Profile, role: RoleName, kind: &RelatedKind) -> String {
    let role = profile.role(role);
    // Routes are found from the Services: without the Services, none.
    let routes_too = is_service(profile, kind);
    let depends = |root: &str| {
        root == kind.root
            || (routes_too
                && profile.related.iter().any(|k| k.root == root && k.find == Find::RoutesToServices))
    };
    let mut parts: Vec<String> = role
        .related
        .iter()
        .filter(|t| t.fields.iter().any(|f| depends(&f.root)))
        .map(|t| t.name.clone())
        .collect();
    if shows_endpoints(role) && is_endpoint_kind(profile, kind) {
        parts.push(format!("readOnly.{ENDPOINTS_KEY}"));
    }
    if kind.find == Find::MountedByPods && shows_claims(profile, role) {
        parts.push(format!("readOnly.{CLAIMS_KEY}"));
    }
    match parts.as_slice() {
        [] => "the view leaves out their objects".to_string(),
        [one] => format!("the view leaves out {one}"),
        [first @ .., last] => format!("the view leaves out {} and {last}", first.join(", ")),
    }
}

/// Services and what routes to them say how an app is reached.
fn is_endpoint_kind(profile: &Profile, k: &RelatedKind) -> bool {
    k.find == Find::RoutesToServices || (k.find == Find::SelectsPods && is_service(profile, k))
}

fn is_service(_profile: &Profile, k: &RelatedKind) -> bool {
    k.info.kind == "Service" && k.info.api_version == "v1"
}

/// The pod template's labels.
fn pod_labels<'a>(kind: &KindInfo, workload: &'a Value) -> Option<&'a Map<String, Value>> {
    let mut path = kind.template.clone();
    path.extend(["metadata".to_string(), "labels".to_string()]);
    get_path(workload, &path).and_then(Value::as_object)
}

/// Does a Service's selector (a plain map) select these labels? A Service without a selector selects
/// nothing (its endpoints are managed by hand).
fn map_selects(selector: &Value, labels: &Map<String, Value>) -> bool {
    match selector.as_object() {
        Some(m) if !m.is_empty() => m.iter().all(|(k, v)| labels.get(k) == Some(v)),
        _ => false,
    }
}

/// Does a label selector (matchLabels, matchExpressions) select these labels? An empty selector
/// selects every pod; an absent one none (policy/v1 PodDisruptionBudget).
pub fn label_selector_selects(selector: &Value, labels: &Map<String, Value>) -> bool {
    let Some(sel) = selector.as_object() else { return false };
    let match_labels = sel.get("matchLabels").and_then(Value::as_object);
    let labels_ok = match_labels.is_none_or(|m| m.iter().all(|(k, v)| labels.get(k) == Some(v)));
    let expressions = sel.get("matchExpressions").and_then(Value::as_array).map_or(&[][..], Vec::as_slice);
    let expressions_ok = expressions.iter().all(|e| {
        let key = e["key"].as_str().unwrap_or_default();
        let values: Vec<&str> =
            e["values"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
        let has = labels.get(key).and_then(Value::as_str);
        match e["operator"].as_str() {
            Some("In") => has.is_some_and(|v| values.contains(&v)),
            Some("NotIn") => has.is_none_or(|v| !values.contains(&v)),
            Some("Exists") => has.is_some(),
            Some("DoesNotExist") => has.is_none(),
            // An operator the API does not know selects nothing.
            _ => false,
        }
    });
    labels_ok && expressions_ok
}

/// The Services an Ingress or HTTPRoute sends traffic to (in its own namespace).
pub fn backend_services(route: &Value) -> Vec<String> {
    let mut out = Vec::new();
    let mut add = |name: Option<&str>| {
        if let Some(n) = name.filter(|n| !n.is_empty()) {
            if !out.iter().any(|o: &String| o == n) {
                out.push(n.to_string());
            }
        }
    };
    // Ingress
    add(route["spec"]["defaultBackend"]["service"]["name"].as_str());
    for rule in route["spec"]["rules"].as_array().into_iter().flatten() {
        for path in rule["http"]["paths"].as_array().into_iter().flatten() {
            add(path["backend"]["service"]["name"].as_str());
        }
        // HTTPRoute: backendRefs of core Services in the route's namespace.
        for backend in rule["backendRefs"].as_array().into_iter().flatten() {
            let core_service = backend["kind"].as_str().is_none_or(|k| k == "Service")
                && backend["group"].as_str().is_none_or(str::is_empty)
                && backend["namespace"]
                    .as_str()
                    .is_none_or(|ns| Some(ns) == route["metadata"]["namespace"].as_str());
            if core_service {
                add(backend["name"].as_str());
            }
        }
    }
    out
}

/// The claims the pod template's volumes mount.
fn claimed(kind: &KindInfo, workload: &Value) -> Vec<String> {
    let mut path = kind.pod_spec_path();
    path.push("volumes".into());
    get_path(workload, &path)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|v| v["persistentVolumeClaim"]["claimName"].as_str().map(str::to_string))
        .collect()
}

/// Finds the related objects of `workload` among each kind's list (`lists`: root → objects of the
/// workload's namespace). Selectors first: routes are found from the Services.
pub fn find(profile: &Profile, kind: &KindInfo, workload: &Value, lists: &[(String, Vec<Value>)]) -> Related {
    let namespace = workload["metadata"]["namespace"].as_str();
    let empty = Map::new();
    let labels = pod_labels(kind, workload).unwrap_or(&empty);
    let same_namespace = |o: &&Value| o["metadata"]["namespace"].as_str() == namespace;
    let list = |root: &str| lists.iter().find(|(r, _)| r == root).map_or(&[][..], |(_, v)| v.as_slice());
    let mut found: Vec<(String, Vec<Value>)> = Vec::new();
    let order = [Find::SelectsPods, Find::MountedByPods, Find::RoutesToServices];
    for step in order {
        for k in profile.related.iter().filter(|k| k.find == step && lists.iter().any(|(r, _)| *r == k.root))
        {
            let objects: Vec<Value> = match step {
                // An ExternalName Service is a DNS alias: its selector (if any) is ignored.
                Find::SelectsPods if is_service(profile, k) => list(&k.root)
                    .iter()
                    .filter(same_namespace)
                    .filter(|o| o["spec"]["type"].as_str() != Some("ExternalName"))
                    .filter(|o| map_selects(&o["spec"]["selector"], labels))
                    .cloned()
                    .collect(),
                Find::SelectsPods => list(&k.root)
                    .iter()
                    .filter(same_namespace)
                    .filter(|o| label_selector_selects(&o["spec"]["selector"], labels))
                    .cloned()
                    .collect(),
                Find::MountedByPods => {
                    let names = claimed(kind, workload);
                    list(&k.root)
                        .iter()
                        .filter(same_namespace)
                        .filter(|o| {
                            o["metadata"]["name"].as_str().is_some_and(|n| names.iter().any(|c| c == n))
                        })
                        .cloned()
                        .collect()
                }
                Find::RoutesToServices => {
                    let services: Vec<&str> = found
                        .iter()
                        .filter(|(r, _)| {
                            profile.related.iter().any(|k| k.root == *r && is_service(profile, k))
                        })
                        .flat_map(|(_, objs)| objs.iter().filter_map(|o| o["metadata"]["name"].as_str()))
                        .collect();
                    list(&k.root)
                        .iter()
                        .filter(same_namespace)
                        .filter(|o| backend_services(o).iter().any(|b| services.contains(&b.as_str())))
                        .cloned()
                        .collect()
                }
            };
            found.push((k.root.clone(), objects));
        }
    }
    // Profile order, whatever order they were found in.
    found.sort_by_key(|(r, _)| profile.related.iter().position(|k| k.root == *r));
    Related { found }
}

/// Do `workload`'s pods use `obj` (a `k` object of its namespace): its selector selects them, or
/// they mount it? (Routes are found through Services: never directly.)
pub fn serves(profile: &Profile, k: &RelatedKind, kind: &KindInfo, workload: &Value, obj: &Value) -> bool {
    if obj["metadata"]["namespace"] != workload["metadata"]["namespace"] {
        return false;
    }
    let empty = Map::new();
    let labels = pod_labels(kind, workload).unwrap_or(&empty);
    match k.find {
        Find::SelectsPods if is_service(profile, k) => {
            obj["spec"]["type"].as_str() != Some("ExternalName")
                && map_selects(&obj["spec"]["selector"], labels)
        }
        Find::SelectsPods => label_selector_selects(&obj["spec"]["selector"], labels),
        Find::MountedByPods => claimed(kind, workload).iter().any(|c| c == object_name(obj)),
        Find::RoutesToServices => false,
    }
}

/// The other workloads of `workloads` (same kind, same namespace) whose pods `obj` serves too: a
/// change of it made through one is a change for all of them.
pub fn shared_with<'a>(
    profile: &Profile,
    k: &RelatedKind,
    kind: &KindInfo,
    this: &str,
    obj: &Value,
    workloads: &'a [Value],
) -> Vec<&'a str> {
    workloads
        .iter()
        .filter(|w| object_name(w) != this && serves(profile, k, kind, w, obj))
        .map(object_name)
        .collect()
}

pub fn object_name(obj: &Value) -> &str {
    obj["metadata"]["name"].as_str().unwrap_or_default()
}

/// A related field's value on an object, as the document shows it (tool-written keys left out).
pub fn field_value(field: &RelatedField, obj: &Value) -> Option<Value> {
    let v = get_path(obj, &field.segments)?;
    let v = match v {
        Value::Object(m) if !field.exclude.is_empty() => Value::Object(
            m.iter()
                .filter(|(k, _)| !field.exclude.contains(k))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        ),
        other => other.clone(),
    };
    let empty = match &v {
        Value::Null => true,
        Value::Object(m) => m.is_empty(),
        Value::Array(a) => a.is_empty(),
        _ => false,
    };
    (!empty).then_some(v)
}

/// One trait's section: each related object of its roots keyed by name, with the trait's fields.
pub fn section(t: &RelatedTrait, related: &Related) -> Map<String, Value> {
    let mut out = Map::new();
    for root in t.roots() {
        for obj in related.of(root) {
            let entry: Map<String, Value> =
                t.fields_of(root).filter_map(|f| field_value(f, obj).map(|v| (f.name.clone(), v))).collect();
            out.insert(object_name(obj).to_string(), Value::Object(entry));
        }
    }
    out
}

/// The role's related sections, in profile order; a trait with no object is absent.
pub fn sections(role: &Role, related: &Related) -> Vec<(String, Map<String, Value>)> {
    role.related
        .iter()
        .map(|t| (t.name.clone(), section(t, related)))
        .filter(|(_, s)| !s.is_empty())
        .collect()
}

/// How the developer reaches the app: each Service port (`NAME.NAMESPACE.svc:PORT`) with the
/// container and port it reaches, and each route's URL with the Service port it goes to.
pub fn endpoints(
    profile: &Profile,
    kind: &KindInfo,
    workload: &Value,
    related: &Related,
) -> Map<String, Value> {
    let mut out = Map::new();
    let services: Vec<&Value> =
        profile.related.iter().filter(|k| is_service(profile, k)).flat_map(|k| related.of(&k.root)).collect();
    let ns = workload["metadata"]["namespace"].as_str().unwrap_or_default();
    // A manifest without a namespace: the name alone, as reached from the app's own namespace.
    let host = |svc: &str| if ns.is_empty() { svc.to_string() } else { format!("{svc}.{ns}.svc") };
    for svc in &services {
        let name = object_name(svc);
        for port in svc["spec"]["ports"].as_array().into_iter().flatten() {
            let Some(number) = port["port"].as_i64() else { continue };
            let target = port.get("targetPort").filter(|t| !t.is_null()).cloned().unwrap_or(json!(number));
            let protocol = port["protocol"].as_str().filter(|p| *p != "TCP");
            let to = container_port(kind, workload, &target, protocol.unwrap_or("TCP"));
            let address = match protocol {
                Some(p) => format!("{}:{number}/{p}", host(name)),
                None => format!("{}:{number}", host(name)),
            };
            out.insert(address, json!(to));
        }
    }
    let service_port = |svc: &str, port: &Value| -> String {
        let number = match port {
            Value::Object(p) => p
                .get("number")
                .map(Value::to_string)
                .or_else(|| p.get("name").and_then(Value::as_str).map(str::to_string)),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        };
        match number {
            Some(p) => format!("{}:{p}", host(svc)),
            None => host(svc),
        }
    };
    let service_names: Vec<&str> = services.iter().map(|s| object_name(s)).collect();
    for k in profile.related.iter().filter(|k| k.find == Find::RoutesToServices) {
        for route in related.of(&k.root) {
            // Ingress: hosts (https when its TLS lists the host), paths.
            let tls_hosts: Vec<&str> = route["spec"]["tls"]
                .as_array()
                .into_iter()
                .flatten()
                .flat_map(|t| t["hosts"].as_array().into_iter().flatten().filter_map(Value::as_str))
                .collect();
            // Ingress: the default backend takes what no rule matches.
            let default = &route["spec"]["defaultBackend"]["service"];
            if let Some(svc) = default["name"].as_str().filter(|s| service_names.contains(s)) {
                out.insert("http://*/".to_string(), json!(service_port(svc, &default["port"])));
            }
            for rule in route["spec"]["rules"].as_array().into_iter().flatten() {
                let host = rule["host"].as_str().unwrap_or("*");
                let scheme = if tls_hosts.contains(&host) { "https" } else { "http" };
                for path in rule["http"]["paths"].as_array().into_iter().flatten() {
                    let backend = &path["backend"]["service"];
                    let Some(svc) = backend["name"].as_str().filter(|s| service_names.contains(s)) else {
                        continue;
                    };
                    let p = path["path"].as_str().unwrap_or("/");
                    out.insert(format!("{scheme}://{host}{p}"), json!(service_port(svc, &backend["port"])));
                }
            }
            // HTTPRoute: hostnames × path matches.
            let hostnames: Vec<&str> = route["spec"]["hostnames"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .collect();
            let hostnames = if hostnames.is_empty() { vec!["*"] } else { hostnames };
            for rule in route["spec"]["rules"].as_array().into_iter().flatten() {
                let Some(backend) = rule["backendRefs"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .find(|b| b["name"].as_str().is_some_and(|n| service_names.contains(&n)))
                else {
                    continue;
                };
                let svc = backend["name"].as_str().unwrap_or_default();
                let paths: Vec<&str> = rule["matches"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|m| m["path"]["value"].as_str())
                    .collect();
                let paths = if paths.is_empty() { vec!["/"] } else { paths };
                for host in &hostnames {
                    for p in &paths {
                        out.insert(format!("http://{host}{p}"), json!(service_port(svc, &backend["port"])));
                    }
                }
            }
        }
    }
    out
}

/// The container port a Service's targetPort (a number or a port name) reaches: `CONTAINER:PORT`,
/// or why none does.
fn container_port(kind: &KindInfo, workload: &Value, target: &Value, protocol: &str) -> String {
    for (_, c) in all_containers(workload, kind) {
        for p in c["ports"].as_array().into_iter().flatten() {
            let same_protocol = p["protocol"].as_str().unwrap_or("TCP") == protocol;
            let hit = match target {
                Value::Number(n) => p["containerPort"].as_i64() == n.as_i64(),
                Value::String(name) => p["name"].as_str() == Some(name.as_str()),
                _ => false,
            };
            if hit && same_protocol {
                return format!("{}:{}", container_name(c), p["containerPort"]);
            }
        }
    }
    match target {
        Value::String(name) => format!("no container port named {name}"),
        // A number no container declares may still be listened on.
        other => format!("port {other} (no container declares it)"),
    }
}

/// Each claim's live state, read-only: capacity (status.capacity.storage) and phase; a claim the
/// pod template mounts that is not there (its pods cannot start) says so.
pub fn claim_states(
    profile: &Profile,
    kind: &KindInfo,
    workload: &Value,
    related: &Related,
) -> Map<String, Value> {
    let mut out = Map::new();
    for k in profile.related.iter().filter(|k| k.find == Find::MountedByPods) {
        // Not listed (the list failed): nothing is known of them.
        if !related.found.iter().any(|(r, _)| *r == k.root) {
            continue;
        }
        for name in claimed(kind, workload) {
            if !related.of(&k.root).iter().any(|c| object_name(c) == name) {
                let missing = format!("no {} of this name in the namespace", k.info.kind);
                out.insert(name, json!({"missing": missing}));
            }
        }
        for claim in related.of(&k.root) {
            let mut state = Map::new();
            if let Some(c) = claim["status"]["capacity"]["storage"].as_str() {
                state.insert("capacity".into(), json!(c));
            }
            if let Some(p) = claim["status"]["phase"].as_str() {
                state.insert("phase".into(), json!(p));
            }
            out.insert(object_name(claim).to_string(), Value::Object(state));
        }
    }
    out
}

/// What a view of `role` adds under `readOnly`: endpoints (the developer's) and the claims' live
/// state (for roles with fields of claims).
pub fn read_only_entries(
    profile: &Profile,
    role: &Role,
    kind: &KindInfo,
    workload: &Value,
    related: &Related,
) -> Vec<(&'static str, Value)> {
    let mut out = Vec::new();
    if shows_endpoints(role) {
        let e = endpoints(profile, kind, workload, related);
        if !e.is_empty() {
            out.push((ENDPOINTS_KEY, Value::Object(e)));
        }
    }
    if shows_claims(profile, role) {
        let c = claim_states(profile, kind, workload, related);
        if !c.is_empty() {
            out.push((CLAIMS_KEY, Value::Object(c)));
        }
    }
    out
}

// --- The units of related objects (what `related_write` decides from, and a document's base) ---

/// The scope of an object's units in a document's base.
pub fn scope(kind: &RelatedKind, name: &str) -> String {
    format!("related:{}/{name}", kind.root)
}

/// Keyed lists of the related kinds that k8s-openapi's types do not say (the API's list-map keys).
pub fn schema_of(kind: &RelatedKind) -> Option<KindSchema> {
    let ports = json!({"type": "array", "x-kubernetes-list-type": "map",
                       "x-kubernetes-list-map-keys": ["port", "protocol"], "items": {"type": "object"}});
    match (kind.info.api_version.as_str(), kind.info.kind.as_str()) {
        ("v1", "Service") => Some(KindSchema::OpenApi {
            doc: json!({"components": {"schemas": {"Service": {"type": "object", "properties": {
                "spec": {"type": "object", "properties": {"ports": ports}}}}}}}),
            root: "Service".into(),
        }),
        _ => None,
    }
}

/// The units of `obj` (a `kind` object) that trait `t` shows, labelled as the document names them.
pub fn units_of(t: &RelatedTrait, kind: &RelatedKind, obj: &Value) -> Units {
    let name = object_name(obj).to_string();
    let fields = t
        .fields_of(&kind.root)
        .map(|f| (format!("{}.{name}.{}", t.name, f.name), f.segments.clone(), f.exclude.as_slice()));
    ownership::field_units_in(obj, fields, schema_of(kind).as_ref())
}

/// Records every related object's units in a document's base (`project::document`).
pub fn with_base(mut base: Base, profile: &Profile, role: &Role, related: &Related) -> Base {
    for t in &role.related {
        for root in t.roots() {
            let Some(kind) = profile.related.iter().find(|k| k.root == root) else { continue };
            for obj in related.of(root) {
                base = base.with_scoped(&scope(kind, object_name(obj)), &units_of(t, kind, obj));
            }
        }
    }
    base
}

/// Structural problems of a related section: a mapping of object names, each a mapping of the
/// trait's fields. Which objects exist is checked against the live ones when the write is decided.
pub fn check_section(t: &RelatedTrait, value: &Value) -> Vec<DocProblem> {
    let key = &t.name;
    let known: Vec<&str> = t.fields.iter().map(|f| f.name.as_str()).collect();
    match value {
        Value::Null => Vec::new(),
        Value::Object(objects) => {
            let mut out = Vec::new();
            for (name, entry) in objects {
                match entry {
                    Value::Null => {}
                    Value::Object(fields) => {
                        for field in fields.keys().filter(|f| !known.contains(&f.as_str())) {
                            out.push(DocProblem::at(
                                &[key.clone(), name.clone(), field.clone()],
                                format!(
                                    "{key}.{name}.{field}: unknown field; {key} has {}",
                                    known.join(", ")
                                ),
                            ));
                        }
                    }
                    _ => out.push(DocProblem::at(
                        &[key.clone(), name.clone()],
                        format!("{key}.{name}: expected a mapping of {}", known.join(", ")),
                    )),
                }
            }
            out
        }
        _ => vec![DocProblem::new(format!("{key}: expected a mapping of object names"))],
    }
}

#[cfg(test)]
mod tests;
