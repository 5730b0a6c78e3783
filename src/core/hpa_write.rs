//! The pure half of a write to the workload's HorizontalPodAutoscaler (the ops `autoscaler` section),
//! as `write` is the workload's: decided by the same ownership rules, refusals before anything is sent.

use serde_json::{Value, json};

use crate::core::hpa::{AUTOSCALER_KEY, Autoscaler, KIND, decode, has_section, units};
use crate::core::ownership::{self, Base, Current, Intent, Permissions, WritePlan};
use crate::core::write::{Live, Writer, problems_error, refusals};
use crate::error::{Problem as DocProblem, Result};
use crate::model::managed::{Step, managed_entries, subtree};
use crate::model::roles::Profile;
use crate::model::target::Target;

/// The HPA a write goes to.
pub fn target<'p>(live: &Live<'p>, hpa: &Autoscaler) -> Target<'p> {
    Target { kind: &KIND, name: hpa.name.clone(), namespace: live.target.namespace.clone() }
}

/// The pure half of the HPA's write, as `write::build` is the workload's: what the document's section
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
                .map_err(|m| problems_error(vec![DocProblem::new(m)]))?
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
        return Err(problems_error(vec![DocProblem::at(
            &[AUTOSCALER_KEY.to_string()],
            format!(
                "{AUTOSCALER_KEY}: no HorizontalPodAutoscaler targets {} in namespace \"{}\"; create one with `{}`, or remove the section",
                live.target.display(),
                live.target.namespace,
                crate::error::suggest(
                    &format!("ops autoscale {} --min N --max M", live.target.display()),
                    &live.target.namespace
                )
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
    refusals(&plan, object, writer, &live.target, None)?;
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::roles::{KindInfo, RoleName};

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
            related: None,
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
        assert!(err.contains("no HorizontalPodAutoscaler targets deployment.apps/web in namespace \"shop\"; create one with `kubectl oam ops autoscale deployment.apps/web --min N --max M -n shop`"), "{err}");
        // The dev role never writes it.
        let dev = Writer::new(&p, RoleName::Dev, None, false).unwrap();
        assert!(build(&p, &dev, &read, &raised).unwrap().is_none());
    }
}
