//! The HorizontalPodAutoscaler as an ops trait.
//!
//! When an HPA targets a workload, the ops document has an `autoscaler:` section: the HPA's
//! minReplicas, maxReplicas, metrics and behavior. Ops edit it like any trait; the write goes to the
//! HPA by server-side apply under the role's manager, decided by the same ownership rules as the
//! workload's (only what changed plus what the manager already owns, three-way against the
//! document's base, removals another manager holds refused), in the same dry-run, diff and
//! confirmation. A document without the section does not speak for the HPA.
//!
//! `ops autoscale` creates an HPA when asked: the one object kubectl-oam ever creates.

use std::sync::LazyLock;

use serde_json::{Map, Value, json};

use crate::cli::AutoscaleArgs;
use crate::cluster::client::Cluster;
use crate::commands::apply::{self, Live, Writer};
use crate::commands::get::{self as view, Target};
use crate::core::owners::{Step, managed_entries, subtree};
use crate::core::ownership::{self, Base, Current, Intent, Permissions, Units, WritePlan};
use crate::core::project::{self, Autoscaler, DocProblem, ViewOptions, get_path};
use crate::error::{Error, Result};
use crate::format::output;
use crate::model::roles::{KindInfo, Profile, RoleName};

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
    project::autoscaled_label(profile, role, kind).is_some()
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
fn decode(section: &Map<String, Value>) -> Value {
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

/// The HPA a write goes to.
pub fn target<'p>(live: &Live<'p>, hpa: &Autoscaler) -> Target<'p> {
    Target { kind: &KIND, name: hpa.name.clone(), namespace: live.target.namespace.clone() }
}

/// The pure half of the HPA's write, as `apply::build` is the workload's: what the document's section
/// asks of the live HPA, and the apply body. None when the document does not speak for the HPA (no
/// section) or the role has none. Refusals are errors, before anything is sent.
pub fn build(
    profile: &Profile,
    writer: &Writer,
    live: &Live<'_>,
    doc: &Value,
) -> Result<Option<(WritePlan, Value)>> {
    let Some(Value::Object(section)) = doc.get(AUTOSCALER_KEY) else { return Ok(None) };
    if !has_section(profile, writer.role, live.target.kind) {
        return Ok(None);
    }
    let base = match doc.get(ownership::BASE_KEY) {
        None | Some(Value::Null) => None,
        Some(value) => Some(
            Base::from_value(value)
                .map_err(|m| apply::problems_error(vec![DocProblem::new(m)]))?
                .scoped(AUTOSCALER_KEY),
        ),
    };
    let edited = units(&decode(section));
    let Some(hpa) = &live.autoscaler else {
        // No HPA (any more): a section that changes nothing relative to its base is only the
        // picture of a deleted HPA; anything else would need one, and roles never create objects.
        let unchanged = base.as_ref().is_some_and(|b| edited.iter().all(|u| b.has_same(u)));
        if unchanged {
            return Ok(None);
        }
        return Err(apply::problems_error(vec![DocProblem::at(
            &[AUTOSCALER_KEY.to_string()],
            format!(
                "{AUTOSCALER_KEY}: no HorizontalPodAutoscaler targets {} in namespace \"{}\"; create one with `kubectl oam ops autoscale {} --min N --max M`, or remove the section",
                live.target.display(),
                live.target.namespace,
                live.target.display()
            ),
        )]));
    };
    let live_units = units(&hpa.object);
    let intent = Intent { edited: &edited, base: base.as_ref(), containers: &[] };
    let current =
        Current { object: &hpa.object, units: &live_units, manager: &writer.manager, autoscaled: None };
    let allow = Permissions { force: writer.force, overwrite: writer.overwrite };
    let plan = ownership::plan(&intent, &current, allow);
    let hpa_target = target(live, hpa);
    let object = format!("{} in namespace \"{}\"", hpa_target.display(), hpa_target.namespace);
    apply::refusals(&plan, object, writer, &live.target.display(), None)?;
    let mut body = json!({
        "apiVersion": KIND.api_version,
        "kind": KIND.kind,
        "metadata": {"name": hpa.name, "namespace": live.target.namespace},
    });
    // Never creates (uid), and decided from this version (resourceVersion), as the workload's.
    for key in ["uid", "resourceVersion"] {
        if let Some(v) = hpa.object["metadata"].get(key) {
            body["metadata"][key] = v.clone();
        }
    }
    ownership::insert_units(&mut body, &plan.send);
    // An HPA that `ops autoscale` created is the role's from the start, its target included: keep
    // sending what it owns outside the section, or the server would drop it.
    if owns_target(&hpa.object, &writer.manager) {
        body["spec"]["scaleTargetRef"] = hpa.object["spec"]["scaleTargetRef"].clone();
    }
    ownership::order_like(&mut body, &hpa.object);
    Ok(Some((plan, body)))
}

/// Does `manager` own the HPA's scaleTargetRef (it created the HPA)?
fn owns_target(hpa: &Value, manager: &str) -> bool {
    let path = [Step::Field("spec".into()), Step::Field("scaleTargetRef".into())];
    managed_entries(hpa).iter().any(|e| {
        e.manager == manager
            && e.operation == "Apply"
            && e.subresource.is_empty()
            && subtree(&e.fields, &path).is_some()
    })
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

/// `kubectl oam ops autoscale TYPE/NAME --min N --max M [--cpu-percent P]`: updates the HPA that
/// targets the workload (through the autoscaler section, as `ops edit` would), or creates one named
/// after the workload.
pub async fn autoscale(cluster: &Cluster, profile: &Profile, args: &AutoscaleArgs) -> Result<String> {
    let name: Vec<String> = args.name.iter().cloned().collect();
    let (target, _) = view::require_target(profile, cluster, &args.target, &name)?;
    let role = RoleName::Ops;
    if !has_section(profile, role, target.kind) {
        return Err(Error::Usage(format!(
            "{} in namespace \"{}\" cannot be autoscaled: a {} has no replica count; HorizontalPodAutoscalers scale {}",
            target.display(),
            target.namespace,
            target.kind.kind,
            scalable_kinds(profile).join(", ")
        )));
    }
    let int32 = 0..=i64::from(i32::MAX);
    for (flag, value, least) in
        [("--min", args.min, 1), ("--max", Some(args.max), 1), ("--cpu-percent", args.cpu_percent, 1)]
    {
        if let Some(v) = value.filter(|v| *v < least || !int32.contains(v)) {
            return Err(Error::Usage(format!("{flag} must be from {least} to {}, not {v}", i32::MAX)));
        }
    }
    if let Some(min) = args.min.filter(|min| *min > args.max) {
        return Err(Error::Usage(format!("--min {min} is more than --max {}", args.max)));
    }
    let (object, hpas) =
        tokio::join!(view::fetch(cluster, &target), view::list_autoscalers(cluster, Some(&target.namespace)));
    let (object, hpas) = (object?, hpas?);
    let autoscaler = Autoscaler::targeting(&hpas, target.kind, &object);
    let live = Live { target, object, autoscaler };
    apply::refuse_controlled(profile, role, &live)?;
    let (min, max, cpu) = (args.min, args.max, args.cpu_percent);
    if live.autoscaler.is_some() {
        return apply::write_live(
            cluster,
            profile,
            role,
            &args.write,
            live,
            "autoscaler updated",
            |doc, _| {
                let section = doc[AUTOSCALER_KEY]
                    .as_object_mut()
                    .ok_or_else(|| Error::Invalid("no autoscaler".into()))?;
                if let Some(min) = min {
                    section.insert("minReplicas".into(), json!(min));
                }
                section.insert("maxReplicas".into(), json!(max));
                if let Some(percent) = cpu {
                    let metrics = section.entry("metrics").or_insert_with(|| json!([]));
                    set_cpu_target(metrics, percent);
                }
                Ok(())
            },
        )
        .await;
    }
    create(cluster, profile, args, &live, &hpas).await
}

/// The kinds whose replica count an HPA may hold, for messages.
fn scalable_kinds(profile: &Profile) -> Vec<String> {
    profile
        .kinds
        .iter()
        .filter(|k| has_section(profile, RoleName::Ops, k))
        .map(|k| k.resource.clone())
        .collect()
}

/// Sets the CPU utilization target in `metrics`, keeping every other metric.
fn set_cpu_target(metrics: &mut Value, percent: i64) {
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

async fn create(
    cluster: &Cluster,
    profile: &Profile,
    args: &AutoscaleArgs,
    live: &Live<'_>,
    hpas: &[Value],
) -> Result<String> {
    let name = &live.target.name;
    let namespace = &live.target.namespace;
    let hpa_target = Target { kind: &KIND, name: name.clone(), namespace: namespace.clone() };
    // Server-side apply would change an HPA of that name that scales something else: refuse instead.
    if let Some(other) = hpas
        .iter()
        .find(|h| h["metadata"]["name"] == name.as_str() && h["metadata"]["namespace"] == namespace.as_str())
    {
        let scales = &other["spec"]["scaleTargetRef"];
        return Err(Error::Usage(format!(
            "{} in namespace \"{namespace}\" already exists and scales {}/{}; change or delete it first",
            hpa_target.display(),
            scales["kind"].as_str().unwrap_or("?").to_lowercase(),
            scales["name"].as_str().unwrap_or("?"),
        )));
    }
    let mut spec = json!({
        "scaleTargetRef": {"apiVersion": live.target.kind.api_version, "kind": live.target.kind.kind, "name": name},
        "maxReplicas": args.max,
    });
    if let Some(min) = args.min {
        spec["minReplicas"] = json!(min);
    }
    if let Some(percent) = args.cpu_percent {
        set_cpu_target(&mut spec["metrics"], percent);
    }
    let body = json!({
        "apiVersion": KIND.api_version, "kind": KIND.kind,
        "metadata": {"name": name, "namespace": namespace},
        "spec": spec,
    });
    let writer =
        Writer::new(profile, RoleName::Ops, args.write.field_manager.as_deref(), args.write.force_conflicts)?;
    let created = apply::create(cluster, profile, &writer, &hpa_target, &body, true).await?;
    if args.write.dry_run() {
        let before = output::yaml(&apply::without_base(live.document(profile, RoleName::Ops, None)))?;
        let after_hpa = Autoscaler::of(&created);
        let view = ViewOptions { container: None, autoscaler: Some(&after_hpa) };
        let after_doc = project::document(profile, RoleName::Ops, live.target.kind, &live.object, &view);
        let after = output::yaml(&apply::without_base(after_doc))?;
        return Ok(crate::format::diff::unified(
            &before,
            &after,
            &live.target.display(),
            output::use_colour(),
        ));
    }
    apply::create(cluster, profile, &writer, &hpa_target, &body, false)
        .await
        .map_err(|e| apply::check_on(cluster, e, &live.target, RoleName::Ops))?;
    Ok(format!("{} created\n", hpa_target.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn workload() -> Value {
        json!({"apiVersion": "apps/v1", "kind": "Deployment",
               "metadata": {"name": "web", "namespace": "shop", "resourceVersion": "5", "uid": "u1"},
               "spec": {"replicas": 3, "template": {"spec": {"containers": [{"name": "app", "image": "a"}]}}}})
    }

    /// An HPA made with `kubectl autoscale` (an Update manager owning all it set).
    fn hpa(max: i64) -> Value {
        json!({"metadata": {"name": "web", "namespace": "shop", "resourceVersion": "9", "uid": "h1",
                            "managedFields": [{"manager": "kubectl-autoscale", "operation": "Update", "time": "2026-01-01T00:00:00Z",
                                               "fieldsV1": {"f:spec": {"f:maxReplicas": {}, "f:minReplicas": {}, "f:metrics": {},
                                                                       "f:behavior": {".": {}, "f:scaleDown": {".": {}, "f:stabilizationWindowSeconds": {}}},
                                                                       "f:scaleTargetRef": {}}}}]},
               "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
                        "minReplicas": 2, "maxReplicas": max,
                        "behavior": {"scaleDown": {"stabilizationWindowSeconds": 300}}}})
    }

    fn live(hpa: Option<Value>) -> Live<'static> {
        let kind: &'static KindInfo = Box::leak(Box::new(Profile::builtin().kind("deploy").unwrap().clone()));
        Live {
            target: Target { kind, name: "web".into(), namespace: "shop".into() },
            object: workload(),
            autoscaler: hpa.as_ref().map(Autoscaler::of),
        }
    }

    #[test]
    fn writes_to_the_autoscaler_follow_the_ownership_rules() {
        let p = Profile::builtin();
        let writer = Writer::new(&p, RoleName::Ops, None, false).unwrap();
        let read = live(Some(hpa(5)));
        let doc = read.document(&p, RoleName::Ops, None);
        assert_eq!(doc[AUTOSCALER_KEY]["maxReplicas"], 5);
        let plan_of = |live: &Live, doc: &Value| build(&p, &writer, live, doc);
        // Unchanged: nothing changes, nothing is sent (ops owns nothing there yet).
        let (plan, _) = plan_of(&read, &doc).unwrap().unwrap();
        assert!(plan.changed.is_empty() && plan.send.is_empty(), "{plan:?}");
        // A new maximum: only that field is sent, to the HPA, with its uid and resourceVersion.
        let mut raised = doc.clone();
        raised[AUTOSCALER_KEY]["maxReplicas"] = json!(8);
        let (plan, body) = plan_of(&read, &raised).unwrap().unwrap();
        assert_eq!(plan.changed, ["autoscaler.maxReplicas"]);
        assert_eq!(
            body,
            json!({"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
                   "metadata": {"name": "web", "namespace": "shop", "uid": "h1", "resourceVersion": "9"},
                   "spec": {"maxReplicas": 8}})
        );
        // Someone changed the maximum since the document was read: refused, never reverted.
        let now = live(Some(hpa(6)));
        let err = plan_of(&now, &raised).unwrap_err().to_string();
        assert!(err.contains("autoscaler.maxReplicas is now 6 (by kubectl-autoscale)"), "{err}");
        // A field the document does not change keeps the newer value: no refusal.
        let mut min_changed = doc.clone();
        min_changed[AUTOSCALER_KEY]["minReplicas"] = json!(1);
        let (plan, _) = plan_of(&now, &min_changed).unwrap().unwrap();
        assert_eq!(plan.changed, ["autoscaler.minReplicas"]);
        // Removing what kubectl-autoscale also holds: refused without --force-conflicts.
        let mut no_behavior = doc.clone();
        no_behavior[AUTOSCALER_KEY].as_object_mut().unwrap().remove("behavior");
        let err = plan_of(&read, &no_behavior).unwrap_err().to_string();
        assert!(
            err.contains(
                "autoscaler.behavior.scaleDown.stabilizationWindowSeconds (held by \"kubectl-autoscale\")"
            ),
            "{err}"
        );
        // A document without the section does not speak for the HPA.
        let mut without = doc.clone();
        without.as_object_mut().unwrap().remove(AUTOSCALER_KEY);
        assert!(plan_of(&read, &without).unwrap().is_none());
        // The HPA is gone: an unchanged section is only a picture of it; a changed one needs one.
        let gone = live(None);
        assert!(plan_of(&gone, &doc).unwrap().is_none());
        let err = plan_of(&gone, &raised).unwrap_err().to_string();
        assert!(err.contains("no HorizontalPodAutoscaler targets deployment.apps/web in namespace \"shop\"; create one with `kubectl oam ops autoscale deployment.apps/web --min N --max M`"), "{err}");
        // The dev role never writes it.
        let dev = Writer::new(&p, RoleName::Dev, None, false).unwrap();
        assert!(build(&p, &dev, &read, &raised).unwrap().is_none());
    }

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
}
