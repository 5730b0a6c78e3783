//! The pure half of writes to the objects around a workload (the profile's `related:` sections:
//! Services, Ingresses, HTTPRoutes, PodDisruptionBudgets, claims), as `hpa_write` is the autoscaler's
//! and `write` the workload's: each object named in a section is decided by the same ownership rules
//! (minimal footprint, base and three-way check, honest removals), one apply body per object under
//! the role's manager. An object the document does not name is not spoken for; roles never create
//! objects here.

use serde_json::{Map, Value, json};

use crate::core::ownership::{self, Base, Current, Intent, Permissions, WritePlan};
use crate::core::related::{Related, object_name, scope, units_of};
use crate::core::write::{Live, Writer, problems_error, refusals};
use crate::error::{Problem as DocProblem, Result};
use crate::model::object::set_path;
use crate::model::roles::{KindInfo, Profile, RoleName};
use crate::model::roles::{RelatedKind, RelatedTrait};
use crate::model::target::Target;

/// One related object's write, decided.
#[derive(Debug, Clone)]
pub struct RelatedWrite {
    pub kind: KindInfo,
    pub name: String,
    pub plan: WritePlan,
    /// The server-side apply body.
    pub body: Value,
    /// The guarded JSON patch of forced removals, if any.
    pub removal: Option<Value>,
    /// The live object it was decided from.
    pub basis: Value,
    /// The trait (document key) it was decided for.
    pub section: String,
}

impl RelatedWrite {
    pub fn target<'a>(&'a self, namespace: &str) -> Target<'a> {
        Target { kind: &self.kind, name: self.name.clone(), namespace: namespace.to_string() }
    }

    /// Does the document change anything on the object (a value, or what the role owns there)?
    pub fn writes(&self) -> bool {
        !self.plan.changed.is_empty() || self.plan.releases
    }

    pub fn label(&self) -> String {
        format!("{}/{}", self.kind.kind.to_lowercase(), self.name)
    }
}

/// Everything of a related object but trait `t`'s fields, status and bookkeeping: what the role's
/// write to it must leave as it was.
pub fn outside_section(t: &RelatedTrait, kind: &RelatedKind, obj: &Value) -> Value {
    let mut out = obj.clone();
    for f in t.fields_of(&kind.root) {
        let Some((last, parent)) = f.segments.split_last() else { continue };
        let holder = parent.iter().try_fold(&mut out, |v, seg| v.get_mut(seg.as_str()));
        if let Some(Value::Object(m)) = holder {
            match (m.get_mut(last.as_str()), f.exclude.is_empty()) {
                // Keep the keys the role does not own (tool-written annotations).
                (Some(Value::Object(inner)), false) => inner.retain(|k, _| f.exclude.contains(k)),
                _ => {
                    m.remove(last.as_str());
                }
            }
        }
    }
    if let Some(map) = out.as_object_mut() {
        for key in ["status", "apiVersion", "kind"] {
            map.remove(key);
        }
    }
    if let Some(meta) = out.get_mut("metadata").and_then(Value::as_object_mut) {
        for key in ["resourceVersion", "generation", "managedFields"] {
            meta.remove(key);
        }
        // An emptied map (annotations of only the role's keys) reads as absent.
        for key in ["annotations", "labels"] {
            if meta.get(key).and_then(Value::as_object).is_some_and(Map::is_empty) {
                meta.remove(key);
            }
        }
    }
    out
}

/// The writes a document's related sections ask of the live objects around the workload; refusals
/// (an object that is not there, stale values, held removals) are errors, before anything is sent.
pub fn build(profile: &Profile, writer: &Writer, live: &Live<'_>, doc: &Value) -> Result<Vec<RelatedWrite>> {
    let role = profile.role(writer.role);
    let Some(related) = &live.related else { return Ok(Vec::new()) };
    let base = match doc.get(ownership::BASE_KEY) {
        None | Some(Value::Null) => None,
        Some(value) => Some(Base::from_value(value).map_err(|m| problems_error(vec![DocProblem::new(m)]))?),
    };
    let mut problems = Vec::new();
    let mut out = Vec::new();
    for t in &role.related {
        let Some(Value::Object(section)) = doc.get(&t.name) else { continue };
        for (name, entry) in section {
            let Value::Object(entry) = entry else { continue };
            // The object of this name among the trait's kinds (gateway: Ingresses and HTTPRoutes).
            let found = t.roots().into_iter().find_map(|root| {
                let kind = profile.related.iter().find(|k| k.root == root)?;
                related.of(root).iter().find(|o| object_name(o) == name).map(|o| (kind, o))
            });
            let Some((kind, object)) = found else {
                problems.push(DocProblem::at(
                    &[t.name.clone(), name.clone()],
                    not_found(profile, t, live, related, name),
                ));
                continue;
            };
            let mut partial = json!({});
            for f in t.fields_of(&kind.root) {
                let Some(v) = entry.get(&f.name).filter(|v| !v.is_null()) else { continue };
                if let Some(k) = v.as_object().and_then(|m| m.keys().find(|k| f.exclude.contains(k))) {
                    problems.push(DocProblem::at(
                        &[t.name.clone(), name.clone(), f.name.clone(), k.clone()],
                        format!(
                            "{}.{name}.{}.{k}: set by tools and controllers, not by a role; remove it",
                            t.name, f.name
                        ),
                    ));
                    continue;
                }
                set_path(&mut partial, &f.segments, v.clone());
            }
            partial["metadata"]["name"] = json!(name);
            let edited = units_of(t, kind, &partial);
            let live_units = units_of(t, kind, object);
            let scoped = base.as_ref().map(|b| b.scoped(&scope(kind, name)));
            let intent = Intent { edited: &edited, base: scoped.as_ref(), containers: &[] };
            let current = Current { object, units: &live_units, manager: &writer.manager, autoscaled: None };
            let allow = Permissions { force: writer.force, overwrite: writer.overwrite };
            let plan = ownership::plan(&intent, &current, allow);
            let label =
                format!("{}/{name} in namespace \"{}\"", kind.info.display_resource(), live.target.namespace);
            refusals(&plan, label, writer, &live.target, None)?;
            let mut body = json!({
                "apiVersion": kind.info.api_version,
                "kind": kind.info.kind,
                "metadata": {"name": name, "namespace": live.target.namespace},
            });
            // Never creates (uid), and decided from this version (resourceVersion).
            for key in ["uid", "resourceVersion"] {
                if let Some(v) = object["metadata"].get(key) {
                    body["metadata"][key] = v.clone();
                }
            }
            ownership::insert_units(&mut body, &plan.send);
            ownership::order_like(&mut body, object);
            let removal = crate::core::write::removal_patch(&plan, &live_units, object);
            out.push(RelatedWrite {
                kind: kind.info.clone(),
                name: name.clone(),
                plan,
                body,
                removal,
                basis: object.clone(),
                section: t.name.clone(),
            });
        }
    }
    if !problems.is_empty() {
        return Err(problems_error(problems));
    }
    Ok(out)
}

/// Why a section's entry names no object around the workload: its kinds could not be listed (the
/// warning said why), or there is none of that name, which an edit does not create: the way to
/// create one instead.
fn not_found(profile: &Profile, t: &RelatedTrait, live: &Live<'_>, related: &Related, name: &str) -> String {
    let kinds: Vec<&RelatedKind> =
        t.roots().into_iter().filter_map(|r| profile.related.iter().find(|k| k.root == r)).collect();
    let names: Vec<&str> = kinds.iter().map(|k| k.info.kind.as_str()).collect();
    let (workload, ns) = (live.target.display(), &live.target.namespace);
    let listed: Vec<&&RelatedKind> =
        kinds.iter().filter(|k| related.found.iter().any(|(r, _)| *r == k.root)).collect();
    if listed.is_empty() {
        let resources: Vec<&str> = kinds.iter().map(|k| k.info.resource.as_str()).collect();
        return format!(
            "{}.{name}: the {} of namespace \"{ns}\" could not be listed (see the warning above), so this entry cannot be written; nothing was applied",
            t.name,
            resources.join(" and ")
        );
    }
    let there: Vec<&str> = t.roots().iter().flat_map(|r| related.of(r)).map(object_name).collect();
    let ways: Vec<String> = kinds
        .iter()
        .map(|k| match k.info.kind.as_str() {
            "Service" => format!(
                "a Service with `{}`",
                crate::error::suggest(&format!("ops expose {workload} --port PORT --name {name}"), ns)
            ),
            "PodDisruptionBudget" => format!(
                "a PodDisruptionBudget with `{}`",
                crate::error::suggest(&format!("ops disruption-budget {workload} --min-available N"), ns)
            ),
            other => format!(
                "a{} {other} with kubectl",
                if other.starts_with(['A', 'E', 'I', 'O', 'U']) { "n" } else { "" }
            ),
        })
        .collect();
    format!(
        "{}.{name}: no {} named \"{name}\" belongs to {workload} in namespace \"{ns}\" (it has {}); a role write (apply, edit, promote) changes the objects around a workload but never creates them: create {} first; nothing was applied",
        t.name,
        names.join(" or "),
        if there.is_empty() { "none".to_string() } else { there.join(", ") },
        ways.join(", or ")
    )
}

/// The units of a decided write's object that its section shows (what a reconciler's judgement of
/// the write reads).
pub fn units(profile: &Profile, role: RoleName, w: &RelatedWrite) -> ownership::Units {
    let role = profile.role(role);
    let t = role.related.iter().find(|t| t.name == w.section);
    let kind = profile
        .related
        .iter()
        .find(|k| k.info.kind == w.kind.kind && k.info.api_version == w.kind.api_version);
    match (t, kind) {
        (Some(t), Some(kind)) => units_of(t, kind, &w.basis),
        _ => Default::default(),
    }
}

/// Names a field of a related object the server reports (`.spec.minAvailable`) as the document does
/// (`disruptionBudget.web.minAvailable`); None for fields outside every role.
pub fn label(profile: &Profile, kind: &KindInfo, name: &str, server_field: &str) -> Option<String> {
    let related = profile
        .related
        .iter()
        .find(|k| k.info.kind == kind.kind && k.info.api_version == kind.api_version)?;
    let segments: Vec<&str> = server_field.trim_start_matches('.').split('.').collect();
    for role in &profile.roles {
        for t in &role.related {
            for f in t.fields_of(&related.root) {
                let at = f.segments.len();
                let matches = segments.len() >= at
                    && f.segments.iter().zip(&segments).enumerate().all(|(i, (a, b))| {
                        // The last step may carry a list key (`ports[port=80,protocol="TCP"]`).
                        a == b || (i + 1 == at && b.starts_with(&format!("{a}[")))
                    });
                if matches {
                    let rest = segments[at - 1].strip_prefix(f.segments[at - 1].as_str()).unwrap_or_default();
                    let tail: String = segments[at..].iter().map(|s| format!(".{s}")).collect();
                    return Some(format!("{}.{name}.{}{rest}{tail}", t.name, f.name));
                }
            }
        }
    }
    None
}

#[cfg(test)]
mod tests;
