//! The objects around a workload that `ops expose` and `ops disruption-budget` create: a Service
//! and a PodDisruptionBudget that select the workload's pods, as `kubectl expose` and `kubectl create
//! pdb` build them. Pure: the body of each, and how an existing one relates to the workload.

use std::sync::LazyLock;

use serde_json::{Map, Value, json};

use crate::error::{Error, Result};
use crate::model::object::{all_containers, get_path};
use crate::model::roles::KindInfo;

pub static SERVICE: LazyLock<KindInfo> = LazyLock::new(|| KindInfo {
    kind: "Service".into(),
    api_version: "v1".into(),
    resource: "services".into(),
    names: vec!["svc".into()],
    template: Vec::new(),
    schema: None,
});

pub static PDB: LazyLock<KindInfo> = LazyLock::new(|| KindInfo {
    kind: "PodDisruptionBudget".into(),
    api_version: "policy/v1".into(),
    resource: "poddisruptionbudgets".into(),
    names: vec!["pdb".into()],
    template: Vec::new(),
    schema: None,
});

/// The Service types `--type` takes (ExternalName selects no pods).
pub const SERVICE_TYPES: [&str; 3] = ["ClusterIP", "NodePort", "LoadBalancer"];

/// What `ops expose` was asked for.
#[derive(Debug, Clone)]
pub struct ExposeOptions<'a> {
    pub name: &'a str,
    pub port: i64,
    /// A container port's number or name; default: the port.
    pub target_port: Option<&'a str>,
    pub service_type: Option<&'a str>,
    pub protocol: &'a str,
}

/// The labels that select the workload's pods: its `spec.selector.matchLabels` (the selector
/// `kubectl expose` copies). `object` names the workload for errors.
pub fn pod_selector(workload: &Value, object: &str) -> Result<Map<String, Value>> {
    let selector = workload.get("spec").and_then(|s| s.get("selector"));
    let labels = selector.and_then(|s| s.get("matchLabels")).and_then(Value::as_object);
    let expressions = selector.and_then(|s| s.get("matchExpressions")).and_then(Value::as_array);
    match (labels, expressions) {
        (_, Some(e)) if !e.is_empty() => Err(Error::Usage(format!(
            "{object} selects its pods with matchExpressions, which a Service selector cannot hold; write the Service by hand"
        ))),
        (Some(labels), _) if !labels.is_empty() => Ok(labels.clone()),
        _ => Err(Error::Usage(format!(
            "{object} has no spec.selector.matchLabels to select its pods by; expose a Deployment, StatefulSet, DaemonSet or ReplicaSet"
        ))),
    }
}

/// A port number as the API takes it (1-65535); `flag` names it in the error.
fn port_number(value: i64, flag: &str) -> Result<i64> {
    if (1..=65535).contains(&value) {
        Ok(value)
    } else {
        Err(Error::Usage(format!("{flag} must be a port number from 1 to 65535, not {value}")))
    }
}

/// The Service `ops expose` applies: selector = the workload's pod labels, one port. A named target
/// port must be a port name of one of the workload's containers (else the Service would route
/// nowhere).
pub fn service_body(
    workload: &Value,
    kind: &KindInfo,
    namespace: &str,
    object: &str,
    opts: &ExposeOptions,
) -> Result<Value> {
    let selector = pod_selector(workload, object)?;
    let port = port_number(opts.port, "--port")?;
    let target_port = match opts.target_port {
        None => json!(port),
        Some(text) => match text.parse::<i64>() {
            Ok(n) => json!(port_number(n, "--target-port")?),
            Err(_) => {
                let names: Vec<String> = all_containers(workload, kind)
                    .into_iter()
                    .flat_map(|(_, c)| c["ports"].as_array().cloned().unwrap_or_default())
                    .filter_map(|p| p["name"].as_str().map(str::to_string))
                    .collect();
                if !names.iter().any(|n| n == text) {
                    let has = if names.is_empty() { "none".to_string() } else { names.join(", ") };
                    return Err(Error::Usage(format!(
                        "--target-port {text}: no container of {object} has a port named \"{text}\" (named ports: {has})"
                    )));
                }
                json!(text)
            }
        },
    };
    if let Some(t) = opts.service_type.filter(|t| !SERVICE_TYPES.contains(t)) {
        return Err(Error::Usage(format!("--type {t}: use one of {}", SERVICE_TYPES.join(", "))));
    }
    let mut spec = json!({
        "selector": selector,
        "ports": [{"port": port, "targetPort": target_port, "protocol": opts.protocol}],
    });
    if let Some(t) = opts.service_type {
        spec["type"] = json!(t);
    }
    Ok(json!({
        "apiVersion": SERVICE.api_version, "kind": SERVICE.kind,
        "metadata": {"name": opts.name, "namespace": namespace},
        "spec": spec,
    }))
}

/// The label selector a PodDisruptionBudget copies from the workload: its whole `spec.selector`
/// (matchLabels and matchExpressions; a budget's selector holds both, unlike a Service's).
pub fn workload_selector(workload: &Value, object: &str) -> Result<Value> {
    let selector = workload.get("spec").and_then(|s| s.get("selector")).and_then(Value::as_object);
    let mut out = Map::new();
    for key in ["matchLabels", "matchExpressions"] {
        if let Some(v) = selector.and_then(|s| s.get(key)).filter(|v| !is_empty(v)) {
            out.insert(key.into(), v.clone());
        }
    }
    if out.is_empty() {
        return Err(Error::Usage(format!(
            "{object} has no spec.selector to select its pods by; give a Deployment, StatefulSet, DaemonSet or ReplicaSet"
        )));
    }
    Ok(Value::Object(out))
}

fn is_empty(v: &Value) -> bool {
    v.is_null() || v.as_object().is_some_and(Map::is_empty) || v.as_array().is_some_and(Vec::is_empty)
}

/// `N` or `N%` as the API takes minAvailable / maxUnavailable (an int or a percent string).
pub fn int_or_percent(text: &str, flag: &str) -> Result<Value> {
    let bad =
        || Error::Usage(format!("{flag} \"{text}\": use a count such as 2 or a percentage such as 50%"));
    match text.strip_suffix('%') {
        Some(n) => match n.parse::<u32>() {
            Ok(p) if p <= 100 => Ok(json!(text)),
            _ => Err(bad()),
        },
        None => {
            text.parse::<u32>().ok().filter(|n| i32::try_from(*n).is_ok()).map(|n| json!(n)).ok_or_else(bad)
        }
    }
}

/// The PodDisruptionBudget `ops disruption-budget` applies: selector = the workload's pod labels,
/// and exactly one of minAvailable / maxUnavailable.
pub fn pdb_body(
    workload: &Value,
    namespace: &str,
    name: &str,
    object: &str,
    min_available: Option<&str>,
    max_unavailable: Option<&str>,
) -> Result<Value> {
    let mut spec = json!({"selector": workload_selector(workload, object)?});
    match (min_available, max_unavailable) {
        (Some(n), None) => spec["minAvailable"] = int_or_percent(n, "--min-available")?,
        (None, Some(n)) => spec["maxUnavailable"] = int_or_percent(n, "--max-unavailable")?,
        _ => return Err(Error::Usage("give one of --min-available N and --max-unavailable N".into())),
    }
    Ok(json!({
        "apiVersion": PDB.api_version, "kind": PDB.kind,
        "metadata": {"name": name, "namespace": namespace},
        "spec": spec,
    }))
}

/// Does an existing Service or PDB select exactly these pods (`selector`: what this command would
/// write there)? One that selects others is another application's: never changed or deleted by a
/// command aimed at this workload.
pub fn selects(existing: &Value, selector: &Value) -> bool {
    get_path(existing, &["spec".into(), "selector".into()]) == Some(selector)
}

/// Does a PodDisruptionBudget cover pods with these labels? (policy/v1: an empty selector covers
/// every pod of the namespace; matchExpressions are judged as the API does for In, NotIn, Exists
/// and DoesNotExist.)
pub fn covers(pdb: &Value, pod_labels: &Map<String, Value>) -> bool {
    let selector = &pdb["spec"]["selector"];
    if selector.is_null() {
        return false;
    }
    let labels = selector["matchLabels"].as_object().into_iter().flatten();
    let by_labels = labels.clone().all(|(k, v)| pod_labels.get(k) == Some(v));
    let expressions = selector["matchExpressions"].as_array().into_iter().flatten();
    by_labels
        && expressions.into_iter().all(|e| {
            let value = e["key"].as_str().and_then(|k| pod_labels.get(k));
            let values: Vec<&Value> = e["values"].as_array().into_iter().flatten().collect();
            match e["operator"].as_str() {
                Some("In") => value.is_some_and(|v| values.contains(&v)),
                Some("NotIn") => value.is_none_or(|v| !values.contains(&v)),
                Some("Exists") => value.is_some(),
                Some("DoesNotExist") => value.is_none(),
                _ => false,
            }
        })
}

/// The pod template's labels of a workload.
pub fn pod_labels(workload: &Value, kind: &KindInfo) -> Map<String, Value> {
    let mut path = kind.template.clone();
    path.extend(["metadata".to_string(), "labels".to_string()]);
    get_path(workload, &path).and_then(Value::as_object).cloned().unwrap_or_default()
}

/// The field managers other than `manager` that wrote an existing Service or PDB (its status aside:
/// controllers report there). `--delete` removes only an object `manager` wrote alone: one that
/// helm, kubectl or another tool also manages is theirs to delete.
pub fn other_managers(existing: &Value, manager: &str) -> Vec<String> {
    let entries = existing["metadata"]["managedFields"].as_array().into_iter().flatten();
    let mut out: Vec<String> = Vec::new();
    for e in entries
        .filter(|e| e["manager"].as_str() != Some(manager))
        .filter(|e| e["subresource"].as_str().is_none_or(|s| s.is_empty()))
        .filter(|e| e["fieldsV1"].as_object().is_some_and(wrote_more_than_bookkeeping))
    {
        let name = e["manager"].as_str().unwrap_or("(unnamed)").to_string();
        if !out.contains(&name) {
            out.push(name);
        }
    }
    out
}

/// Did a manager write more than controllers' bookkeeping: the status, and finalizers (the service
/// controller's load-balancer cleanup finalizer on a LoadBalancer Service)?
fn wrote_more_than_bookkeeping(fields: &Map<String, Value>) -> bool {
    fields.iter().any(|(k, v)| match k.as_str() {
        "f:status" => false,
        "f:metadata" => v.as_object().is_some_and(|m| m.keys().any(|k| k != "f:finalizers")),
        _ => true,
    })
}

/// An object as a diff shows it: what a person set (no status, no server bookkeeping).
pub fn shown(obj: &Value) -> Value {
    let mut out = json!({"apiVersion": obj["apiVersion"], "kind": obj["kind"]});
    let meta = &obj["metadata"];
    let mut m = Map::new();
    for key in ["name", "namespace", "labels", "annotations"] {
        if let Some(v) = meta.get(key).filter(|v| !v.is_null()) {
            m.insert(key.into(), v.clone());
        }
    }
    out["metadata"] = Value::Object(m);
    if let Some(spec) = obj.get("spec") {
        out["spec"] = spec.clone();
    }
    out
}

#[cfg(test)]
mod tests;
