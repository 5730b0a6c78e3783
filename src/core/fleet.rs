//! Pure decisions for several clusters: a role document tagged with its context, the part of two
//! role documents that `diff --against-context` compares, and the document `promote` writes to the
//! target cluster (the source's role fields on the target's identity and base).

use serde_json::{Map, Value};

use crate::core::hpa::Autoscaler;
use crate::core::ownership::BASE_KEY;
use crate::model::object;
use crate::model::roles::{CONTAINER_LISTS, CONTEXT_KEYS, KindInfo, READ_ONLY_KEY};

/// The key that names a document's context in `-o json|yaml` of several contexts.
pub const CONTEXT_KEY: &str = "context";

/// `doc` with `context` as its first key (the document's fields after it, in their order).
pub fn with_context(doc: Value, context: &str) -> Value {
    let Value::Object(fields) = doc else { return doc };
    let mut out = Map::new();
    out.insert(CONTEXT_KEY.into(), Value::String(context.to_string()));
    out.extend(fields.into_iter().filter(|(k, _)| k != CONTEXT_KEY));
    Value::Object(out)
}

/// What two clusters' documents of one object are compared on: the role's fields and the kind and
/// name, not the namespace (it may differ on purpose), the read-only context, the base or status.
pub fn comparable(doc: &Value) -> Value {
    match doc {
        Value::Object(fields) => Value::Object(
            fields
                .iter()
                .filter(|(k, _)| k.as_str() != "namespace" && !CONTEXT_KEYS.contains(&k.as_str()))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// Why a role's fields of `source` cannot be copied onto `target` (the same workload in another
/// cluster): a different kind, or containers that are not the same (by list and name), so that a
/// container's fields would land on another container or nowhere. None when they match.
pub fn mismatch(kind: &KindInfo, source: &Value, target: &Value) -> Option<String> {
    let source_kind = source["kind"].as_str().unwrap_or(&kind.kind);
    let target_kind = target["kind"].as_str().unwrap_or(&kind.kind);
    if source_kind != target_kind {
        return Some(format!("it is a {source_kind} in the source and a {target_kind} in the target"));
    }
    let mut differences = Vec::new();
    for list in CONTAINER_LISTS {
        let names = |obj: &Value| -> Vec<String> {
            object::container_list(obj, kind, list)
                .iter()
                .map(|c| object::container_name(c).to_string())
                .collect()
        };
        let (from, to) = (names(source), names(target));
        let only_from: Vec<&str> = from.iter().filter(|n| !to.contains(n)).map(String::as_str).collect();
        let only_to: Vec<&str> = to.iter().filter(|n| !from.contains(n)).map(String::as_str).collect();
        if !only_from.is_empty() {
            differences.push(format!("{list} only in the source: {}", only_from.join(", ")));
        }
        if !only_to.is_empty() {
            differences.push(format!("{list} only in the target: {}", only_to.join(", ")));
        }
    }
    (!differences.is_empty()).then(|| differences.join("; "))
}

/// The document a promotion applies to the target: the source document's role fields, with the
/// target document's identity (kind, name, namespace), read-only section and base, so that the
/// write changes exactly what differs from the target and leaves every other field alone.
pub fn promoted(source_doc: &Value, target_doc: &Value) -> Value {
    let mut out = Map::new();
    for key in ["kind", "name", "namespace"] {
        if let Some(v) = target_doc.get(key) {
            out.insert(key.into(), v.clone());
        }
    }
    if let Some(fields) = source_doc.as_object() {
        for (k, v) in fields {
            if !["kind", "name", "namespace"].contains(&k.as_str()) && !CONTEXT_KEYS.contains(&k.as_str()) {
                out.insert(k.clone(), v.clone());
            }
        }
    }
    for key in [READ_ONLY_KEY, BASE_KEY] {
        if let Some(v) = target_doc.get(key) {
            out.insert(key.to_string(), v.clone());
        }
    }
    Value::Object(out)
}

/// The `ops autoscale` flags that create an HPA like `source` (the source cluster's): `--min N
/// --max M`, and `--cpu-percent P` when it scales on CPU utilization. A promotion that carries an
/// autoscaler to a workload without one suggests them (roles never create objects).
pub fn autoscale_flags(source: &Autoscaler) -> String {
    let mut flags = String::new();
    if let Some(min) = source.min_replicas {
        flags.push_str(&format!("--min {min} "));
    }
    flags.push_str(&match source.max_replicas {
        Some(max) => format!("--max {max}"),
        None => "--max M".to_string(),
    });
    let cpu = source.metrics.as_ref().and_then(Value::as_array).and_then(|metrics| {
        metrics.iter().find_map(|m| {
            let resource = &m["resource"];
            (m["type"] == "Resource"
                && resource["name"] == "cpu"
                && resource["target"]["type"] == "Utilization")
                .then(|| resource["target"]["averageUtilization"].as_i64())
                .flatten()
        })
    });
    if let Some(percent) = cpu {
        flags.push_str(&format!(" --cpu-percent {percent}"));
    }
    flags
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::model::roles::Profile;

    #[test]
    fn the_context_comes_first() {
        let doc = with_context(json!({"kind": "Deployment", "name": "web"}), "east");
        assert_eq!(doc.as_object().unwrap().keys().next().unwrap(), "context");
        assert_eq!(doc["context"], "east");
        assert_eq!(doc["name"], "web");
    }

    #[test]
    fn comparison_leaves_out_namespace_and_context_keys() {
        let a = json!({"kind": "Deployment", "name": "web", "namespace": "a", "containers": {"app": {"image": "x"}},
                       "readOnly": {"selector": 1}, "base": "abc", "status": {"ready": "1/1"}});
        let b = json!({"kind": "Deployment", "name": "web", "namespace": "b", "containers": {"app": {"image": "x"}},
                       "base": "def"});
        assert_eq!(comparable(&a), comparable(&b));
        let c = json!({"kind": "Deployment", "name": "web", "containers": {"app": {"image": "y"}}});
        assert_ne!(comparable(&a), comparable(&c));
    }

    #[test]
    fn promotion_takes_the_source_fields_and_the_target_identity_and_base() {
        let source = json!({"kind": "Deployment", "name": "web", "namespace": "staging",
                            "containers": {"app": {"image": "v2", "env": {"A": "1"}}}, "base": "S", "readOnly": {"x": 1}});
        let target = json!({"kind": "Deployment", "name": "web", "namespace": "prod",
                            "containers": {"app": {"image": "v1"}}, "base": "T", "readOnly": {"x": 2}});
        let doc = promoted(&source, &target);
        assert_eq!(doc["namespace"], "prod");
        assert_eq!(doc["containers"]["app"]["image"], "v2");
        assert_eq!(doc["containers"]["app"]["env"]["A"], "1");
        assert_eq!(doc["base"], "T");
        assert_eq!(doc["readOnly"]["x"], 2);
    }

    #[test]
    fn the_source_autoscaler_as_autoscale_flags() {
        let hpa = |min: Option<i64>, metrics: Option<Value>| Autoscaler {
            name: "web".into(),
            min_replicas: min,
            max_replicas: Some(5),
            metrics,
            object: Value::Null,
        };
        let cpu = json!([{"type": "Resource", "resource": {"name": "memory", "target": {"type": "Utilization", "averageUtilization": 60}}},
                         {"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 70}}}]);
        assert_eq!(autoscale_flags(&hpa(Some(2), Some(cpu))), "--min 2 --max 5 --cpu-percent 70");
        assert_eq!(autoscale_flags(&hpa(None, None)), "--max 5");
    }

    #[test]
    fn different_containers_are_named() {
        let p = Profile::builtin();
        let kind = p.kind("deploy").unwrap();
        let obj = |names: &[&str]| {
            let containers: Vec<Value> = names.iter().map(|n| json!({"name": n, "image": "x"})).collect();
            json!({"kind": "Deployment", "spec": {"template": {"spec": {"containers": containers}}}})
        };
        assert_eq!(mismatch(kind, &obj(&["app", "proxy"]), &obj(&["proxy", "app"])), None);
        let said = mismatch(kind, &obj(&["app", "proxy"]), &obj(&["app", "sidecar"])).unwrap();
        assert_eq!(said, "containers only in the source: proxy; containers only in the target: sidecar");
    }
}
