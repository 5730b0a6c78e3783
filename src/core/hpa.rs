//! The HorizontalPodAutoscaler as an ops trait.
//!
//! When an HPA targets a workload, the ops document has an `autoscaler:` section: the HPA's
//! minReplicas, maxReplicas, metrics and behavior. Ops edit it like any trait; the write goes to the
//! HPA by server-side apply under the role's manager, decided by the same ownership rules as the
//! workload's (`hpa_write`). A document without the section does not speak for the HPA. Here: the
//! section, its units and checks, and which HPA targets a workload.

use std::sync::LazyLock;

use serde_json::{Map, Value, json};

use crate::core::ownership::{self, Base, Units};
use crate::error::Problem as DocProblem;
use crate::model::managed::managed_entries;
use crate::model::object::get_path;
use crate::model::roles::{Field, KindInfo, Profile, Role, RoleName};

/// The document key of the section (and the scope of its units in a document's base).
pub use crate::model::roles::AUTOSCALER_KEY;

/// The section's fields, each at `spec.NAME` of the HPA.
pub const FIELDS: [&str; 4] = ["minReplicas", "maxReplicas", "metrics", "behavior"];

/// The HPA as a kind, for requests and messages (autoscaling/v2: the version with metrics and
/// behavior).
pub static KIND: LazyLock<KindInfo> = LazyLock::new(|| KindInfo {
    kind: "HorizontalPodAutoscaler".into(),
    api_version: "autoscaling/v2".into(),
    resource: "horizontalpodautoscalers".into(),
    names: vec!["hpa".into()],
    template: Vec::new(),
    schema: None,
});

fn field_paths() -> impl Iterator<Item = (String, Vec<String>)> {
    FIELDS.iter().map(|f| (format!("{AUTOSCALER_KEY}.{f}"), vec!["spec".to_string(), f.to_string()]))
}

/// The section of the ops document: the HPA's settings as they are.
pub fn section(hpa: &Value) -> Value {
    let mut out = Map::new();
    for field in FIELDS {
        if let Some(v) = get_path(hpa, &["spec".to_string(), field.to_string()]) {
            out.insert(field.to_string(), v.clone());
        }
    }
    Value::Object(out)
}

/// The units of an HPA (live, or the partial one a section decodes to).
pub fn units(hpa: &Value) -> Units {
    ownership::field_units(hpa, field_paths())
}

/// Records the HPA's units in a document's base, so that a stale document cannot revert a later
/// change to the HPA either.
pub fn with_base(base: Base, hpa: &Value) -> Base {
    base.with_scoped(AUTOSCALER_KEY, &units(hpa))
}

/// Does the role have the autoscaler section for `kind` (it holds the field an HPA scales)?
pub fn has_section(profile: &Profile, role: RoleName, kind: &KindInfo) -> bool {
    autoscaled_label(profile, role, kind).is_some()
}

/// Structural problems of a section: a mapping of the known fields.
pub fn check_section(value: &Value) -> Vec<DocProblem> {
    match value {
        Value::Null => Vec::new(),
        Value::Object(m) => m
            .keys()
            .filter(|k| !FIELDS.contains(&k.as_str()))
            .map(|k| {
                DocProblem::at(
                    &[AUTOSCALER_KEY.to_string(), k.clone()],
                    format!("{AUTOSCALER_KEY}.{k}: unknown field; the autoscaler has {}", FIELDS.join(", ")),
                )
            })
            .collect(),
        _ => vec![DocProblem::new(format!("{AUTOSCALER_KEY}: expected a mapping of {}", FIELDS.join(", ")))],
    }
}

/// The partial HPA a section describes.
pub fn decode(section: &Map<String, Value>) -> Value {
    let spec: Map<String, Value> = section
        .iter()
        .filter(|(k, v)| FIELDS.contains(&k.as_str()) && !v.is_null())
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    json!({"spec": spec})
}

/// Names an HPA field the server reports (`.spec.maxReplicas`) as the document does.
pub fn label(server_field: &str) -> Option<String> {
    let rest = server_field.trim_start_matches('.').strip_prefix("spec.")?;
    let field = rest.split(['.', '[']).next()?;
    FIELDS.contains(&field).then(|| format!("{AUTOSCALER_KEY}.{rest}"))
}

/// Everything of an HPA but the section's fields, status and bookkeeping: what an ops write to it
/// must leave as it was.
pub fn outside_section(hpa: &Value) -> Value {
    let mut out = hpa.clone();
    if let Some(spec) = out.get_mut("spec").and_then(Value::as_object_mut) {
        for field in FIELDS {
            spec.remove(field);
        }
    }
    // List items come without apiVersion and kind.
    if let Some(map) = out.as_object_mut() {
        for key in ["status", "apiVersion", "kind"] {
            map.remove(key);
        }
    }
    if let Some(meta) = out.get_mut("metadata").and_then(Value::as_object_mut) {
        for key in ["resourceVersion", "generation", "managedFields"] {
            meta.remove(key);
        }
    }
    out
}

/// Sets the CPU utilization target in `metrics`, keeping every other metric.
pub fn set_cpu_target(metrics: &mut Value, percent: i64) {
    let target = json!({"type": "Utilization", "averageUtilization": percent});
    if !metrics.is_array() {
        *metrics = json!([]);
    }
    let Some(items) = metrics.as_array_mut() else { return };
    match items.iter_mut().find(|m| m["type"] == "Resource" && m["resource"]["name"] == "cpu") {
        Some(cpu) => cpu["resource"]["target"] = target,
        None => items.push(json!({"type": "Resource", "resource": {"name": "cpu", "target": target}})),
    }
}

/// The HorizontalPodAutoscaler that targets a workload, as far as the ops view needs it.
#[derive(Debug, Clone, PartialEq)]
pub struct Autoscaler {
    pub name: String,
    pub min_replicas: Option<i64>,
    pub max_replicas: Option<i64>,
    pub metrics: Option<Value>,
    /// The HPA itself (autoscaling/v2 JSON, managedFields included): the ops role writes its
    /// `autoscaler` section to it.
    pub object: Value,
}

impl Autoscaler {
    /// Finds the HPA (autoscaling/v2 JSON) among `hpas` whose scaleTargetRef names this workload.
    pub fn targeting(hpas: &[Value], kind: &KindInfo, workload: &Value) -> Option<Autoscaler> {
        let name = workload["metadata"]["name"].as_str().unwrap_or_default();
        Autoscaler::targeting_name(hpas.iter(), kind, name, workload["metadata"]["namespace"].as_str())
    }

    /// [`Autoscaler::targeting`] for the workload `name` in `namespace`.
    pub fn targeting_name<'a>(
        hpas: impl IntoIterator<Item = &'a Value>,
        kind: &KindInfo,
        name: &str,
        namespace: Option<&str>,
    ) -> Option<Autoscaler> {
        // An HPA only scales workloads of its own namespace (lists with -A hold many namespaces).
        let same_namespace = |hpa: &&Value| hpa["metadata"]["namespace"].as_str() == namespace;
        hpas.into_iter().filter(same_namespace).find_map(|hpa| {
            let target = &hpa["spec"]["scaleTargetRef"];
            let same_group = target["apiVersion"]
                .as_str()
                .is_none_or(|v| v.rsplit_once('/').map_or("", |(g, _)| g) == kind.group());
            (target["kind"] == kind.kind.as_str() && target["name"] == name && same_group)
                .then(|| Autoscaler::of(hpa))
        })
    }

    pub fn of(hpa: &Value) -> Autoscaler {
        Autoscaler {
            name: hpa["metadata"]["name"].as_str().unwrap_or_default().to_string(),
            // minReplicas defaults to 1 on the server.
            min_replicas: hpa["spec"]["minReplicas"].as_i64().or(Some(1)),
            max_replicas: hpa["spec"]["maxReplicas"].as_i64(),
            metrics: hpa["spec"].get("metrics").cloned(),
            object: hpa.clone(),
        }
    }

    /// `held`: each field the autoscaler holds, with its current value. Its settings are the
    /// `autoscaler` section; this is the context: which HPA, and what it holds.
    pub fn to_value(&self, held: &[(String, Option<&Value>)]) -> Value {
        let mut m = Map::new();
        m.insert("name".into(), json!(self.name));
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

/// Why `manager` holds the replica count of `workload`, when its name does not say: the HPA
/// controller (kube-controller-manager) scales through the /scale subresource, and its ownership of
/// the count outlives the HPA.
pub fn scaled_for_autoscaler(workload: &Value, manager: &str) -> Option<String> {
    let scaled = manager == "kube-controller-manager"
        && managed_entries(workload).iter().any(|e| e.manager == manager && e.subresource == "scale");
    scaled.then(|| "the count a HorizontalPodAutoscaler set through /scale; none holds it now".to_string())
}

/// `trait.field` of the field an autoscaler holds (scaler.replicas), if the role has one for `kind`.
pub fn autoscaled_label(profile: &Profile, role: RoleName, kind: &KindInfo) -> Option<String> {
    autoscaled_fields(profile.role(role), kind).next().map(|(t, f)| format!("{t}.{}", f.name))
}

pub fn autoscaled_fields<'a>(
    role: &'a Role,
    kind: &'a KindInfo,
) -> impl Iterator<Item = (&'a str, &'a Field)> + 'a {
    role.object_traits(&kind.kind)
        .flat_map(|(t, fields)| fields.into_iter().map(move |f| (t, f)))
        .filter(|(_, f)| f.autoscaled)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sections_units_and_labels() {
        let hpa = json!({"metadata": {"name": "web"}, "spec": {
            "scaleTargetRef": {"kind": "Deployment", "name": "web"}, "minReplicas": 2, "maxReplicas": 5,
            "metrics": [{"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 70}}}],
            "behavior": {"scaleDown": {"stabilizationWindowSeconds": 300, "policies": [{"type": "Pods", "value": 1, "periodSeconds": 60}]}}}});
        let doc = section(&hpa);
        assert_eq!(
            doc.as_object().unwrap().keys().collect::<Vec<_>>(),
            ["minReplicas", "maxReplicas", "metrics", "behavior"]
        );
        let labels: Vec<String> = units(&hpa).iter().map(|u| u.label.clone()).collect();
        assert_eq!(
            labels,
            [
                "autoscaler.minReplicas",
                "autoscaler.maxReplicas",
                "autoscaler.metrics",
                "autoscaler.behavior.scaleDown.stabilizationWindowSeconds",
                "autoscaler.behavior.scaleDown.policies"
            ],
            "metrics and policies are atomic lists"
        );
        assert_eq!(units(&decode(doc.as_object().unwrap())).iter().count(), 5, "a section reads back");
        assert_eq!(label(".spec.maxReplicas").as_deref(), Some("autoscaler.maxReplicas"));
        assert_eq!(label(".spec.scaleTargetRef.name"), None);
        assert_eq!(
            check_section(&json!({"maxReplicas": 3, "target": 1}))[0].message.split(';').next(),
            Some("autoscaler.target: unknown field")
        );
        let mut metrics = json!([{"type": "Pods", "pods": {}}]);
        set_cpu_target(&mut metrics, 60);
        set_cpu_target(&mut metrics, 50);
        assert_eq!(
            metrics[1]["resource"]["target"],
            json!({"type": "Utilization", "averageUtilization": 50})
        );
        assert_eq!(metrics.as_array().unwrap().len(), 2, "other metrics stay");
        let mut outside = hpa.clone();
        outside["spec"]["maxReplicas"] = json!(9);
        outside["status"] = json!({"currentReplicas": 3});
        assert_eq!(outside_section(&hpa), outside_section(&outside));
        outside["spec"]["scaleTargetRef"]["name"] = json!("other");
        assert_ne!(outside_section(&hpa), outside_section(&outside));
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
