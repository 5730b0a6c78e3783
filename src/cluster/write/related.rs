//! The related objects' part of the write pipeline (Services, Ingresses, PDBs, claims…): each one's
//! server-side dry-run, the check that nothing outside the role's fields changes, and the commit,
//! after the workload's and its autoscaler's, under one confirmation.

use serde_json::{Value, json};

use super::{Plan, remove_fields, send_once};
use crate::cluster::client::Cluster;
use crate::core::related::{Related, object_name};
use crate::core::related_write::{RelatedWrite, outside_section};
use crate::core::write::{
    Writer, locally_applied, releases_ownership, same_own_entries, same_request, spec_of,
};
use crate::error::{Error, Result};
use crate::model::object;
use crate::model::roles::Profile;
use crate::model::target::Target;

/// What the dry-run said of one related object's write.
#[derive(Debug, Clone)]
pub struct RelatedOutcome {
    pub label: String,
    pub changes_values: bool,
    pub releases: bool,
}

impl RelatedOutcome {
    pub fn needs_write(&self) -> bool {
        self.changes_values || self.releases
    }
}

/// Do two decisions make the same related requests (but for resourceVersions)?
pub(super) fn same_requests(now: &[RelatedWrite], then: &[RelatedWrite], manager: &str) -> bool {
    let writing = |d: &[RelatedWrite]| d.iter().filter(|w| w.writes()).cloned().collect::<Vec<_>>();
    let (now, then) = (writing(now), writing(then));
    now.len() == then.len()
        && now.iter().zip(&then).all(|(a, b)| {
            a.label() == b.label()
                && same_request(&a.body, &b.body)
                && match (&a.removal, &b.removal) {
                    (None, None) => true,
                    (Some(x), Some(y)) => same_request(x, y),
                    _ => false,
                }
                && same_own_entries(&a.basis, &b.basis, manager)
        })
}

/// The objects around the workload after the writes (`results`: each written object as the dry-run
/// left it), for the document after.
fn after(before: Option<&Related>, results: &[(String, Value)]) -> Option<Related> {
    let mut related = before?.clone();
    for (_, objects) in &mut related.found {
        for obj in objects.iter_mut() {
            let label =
                format!("{}/{}", obj["kind"].as_str().unwrap_or_default().to_lowercase(), object_name(obj));
            if let Some((_, result)) = results.iter().find(|(l, _)| *l == label) {
                *obj = result.clone();
            }
        }
    }
    Some(related)
}

/// Asks the server what each related write would do (dry-run); refuses one that would change
/// anything outside the role's fields of that object.
pub(super) async fn dry_run(
    cluster: &Cluster,
    profile: &Profile,
    writer: &Writer,
    namespace: &str,
    decided: &[RelatedWrite],
    before: Option<&Related>,
) -> Result<(Vec<RelatedOutcome>, Option<Related>)> {
    let mut outcomes = Vec::new();
    let mut results = Vec::new();
    for w in decided.iter().filter(|w| w.writes()) {
        let target = w.target(namespace);
        let mut result = match &w.removal {
            Some(patch) => remove_fields(cluster, profile, writer, &target, patch, true, &w.basis).await?,
            None => send_once(cluster, profile, writer, &target, &w.body, true, &w.basis).await?,
        };
        result["apiVersion"] = json!(w.kind.api_version);
        result["kind"] = json!(w.kind.kind);
        check_outside(profile, writer, &target, w, &result)?;
        outcomes.push(RelatedOutcome {
            label: w.label(),
            changes_values: spec_and_meta(&w.basis) != spec_and_meta(&result),
            releases: w.plan.releases
                || (w.removal.is_none() && releases_ownership(&w.basis, &result, &writer.manager)),
        });
        results.push((w.label(), result));
    }
    Ok((outcomes, after(before, &results)))
}

/// `--dry-run=client`: the related writes worked out here.
pub(super) fn locally(
    decided: &[RelatedWrite],
    before: Option<&Related>,
) -> (Vec<RelatedOutcome>, Option<Related>) {
    let mut outcomes = Vec::new();
    let mut results = Vec::new();
    for w in decided.iter().filter(|w| w.writes()) {
        let result = locally_applied(&w.basis, &w.plan);
        outcomes.push(RelatedOutcome {
            label: w.label(),
            changes_values: spec_and_meta(&w.basis) != spec_and_meta(&result),
            releases: w.plan.releases,
        });
        results.push((w.label(), result));
    }
    (outcomes, after(before, &results))
}

/// The fields a related write may change: the spec and the labels and annotations.
fn spec_and_meta(obj: &Value) -> Value {
    json!([spec_of(obj), obj["metadata"]["labels"], obj["metadata"]["annotations"]])
}

fn check_outside(
    profile: &Profile,
    writer: &Writer,
    target: &Target<'_>,
    w: &RelatedWrite,
    result: &Value,
) -> Result<()> {
    let role = profile.role(writer.role);
    let Some(t) = role.related.iter().find(|t| t.name == w.section) else { return Ok(()) };
    let Some(kind) = profile.related.iter().find(|k| k.info.kind == w.kind.kind) else { return Ok(()) };
    let changed =
        object::differing_paths(&outside_section(t, kind, &w.basis), &outside_section(t, kind, result));
    if changed.is_empty() {
        return Ok(());
    }
    Err(Error::Api {
        message: format!(
            "this {} write to {} in namespace \"{}\" would also change fields outside its {} section ({}); nothing was applied",
            writer.role,
            target.display(),
            target.namespace,
            w.section,
            changed.join(", ")
        ),
    })
}

/// Sends the related writes the dry-run accepted, after the workload's.
pub(super) async fn commit(
    cluster: &Cluster,
    profile: &Profile,
    writer: &Writer,
    workload: &Target<'_>,
    decided: &[RelatedWrite],
    outcomes: &[RelatedOutcome],
) -> Result<()> {
    for w in decided.iter().filter(|w| outcomes.iter().any(|o| o.label == w.label() && o.needs_write())) {
        let target = w.target(&workload.namespace);
        let mut body = w.body.clone();
        if let Some(patch) = &w.removal {
            let after = remove_fields(cluster, profile, writer, &target, patch, false, &w.basis)
                .await
                .map_err(|e| super::check_on(cluster, e, workload, writer.role))?;
            body["metadata"]["resourceVersion"] = after["metadata"]["resourceVersion"].clone();
        }
        send_once(cluster, profile, writer, &target, &body, false, &w.basis)
            .await
            .map_err(|e| super::check_on(cluster, e, workload, writer.role))?;
    }
    Ok(())
}

/// Warnings for a change of an object around the workload that its controller may put back, or
/// that other workloads use too (a Service selecting the pods of two Deployments, a claim both
/// mount: the change is theirs too, the warning names them). One list of the workload's kind, from
/// the watch cache, only when such a change is planned.
pub(super) async fn shared(cluster: &Cluster, profile: &Profile, plan: &Plan) -> Vec<String> {
    let changed: Vec<&RelatedWrite> = plan
        .decided
        .related
        .iter()
        .filter(|w| plan.related.iter().any(|o| o.label == w.label() && o.changes_values))
        .collect();
    let basis = &plan.decided.basis;
    let Some(kind) = basis["kind"].as_str().and_then(|k| profile.kind(k).ok()) else { return Vec::new() };
    if changed.is_empty() {
        return Vec::new();
    }
    let namespace = basis["metadata"]["namespace"].as_str().unwrap_or_default();
    // One an operator made (its controller ownerReference) may be put back by it.
    let mut out: Vec<String> = changed
        .iter()
        .filter_map(|w| {
            let owner = object::controller(&w.basis)?;
            Some(format!(
                "{} in namespace \"{namespace}\" is controlled by {owner}, which may put this change back; if it does, change {owner} instead",
                w.target(namespace).display()
            ))
        })
        .collect();
    let Some(workloads) = crate::cluster::fetch::objects_of_kind(cluster, kind, namespace).await else {
        return out;
    };
    let this = basis["metadata"]["name"].as_str().unwrap_or_default();
    for w in changed {
        let Some(k) = profile.related.iter().find(|k| k.info.kind == w.kind.kind) else { continue };
        let others = crate::core::related::shared_with(profile, k, kind, this, &w.basis, &workloads);
        if !others.is_empty() {
            let names: Vec<String> =
                others.iter().map(|o| format!("{}/{o}", kind.display_resource())).collect();
            out.push(format!(
                "{} in namespace \"{namespace}\" also serves {}: this change applies to {} too",
                w.target(namespace).display(),
                names.join(", "),
                if names.len() == 1 { "it" } else { "them" }
            ));
        }
    }
    out
}

/// The reconcilers' verdicts on the related writes the plan makes (a Service applied by Flux is put
/// back as the workload is), each with the object's name; `true`: an object around the workload.
pub(super) async fn judged(
    cluster: &Cluster,
    profile: &Profile,
    writer: &Writer,
    plan: &Plan,
    namespace: &str,
) -> Vec<(Option<crate::core::reconciler::Verdict>, String, bool)> {
    let ns = namespace;
    let writes = plan
        .decided
        .related
        .iter()
        .filter(|w| plan.related.iter().any(|o| o.label == w.label() && o.needs_write()));
    futures_util::future::join_all(writes.map(|w| async move {
        let units = crate::core::related_write::units(profile, writer.role, w);
        let verdict = crate::cluster::reconcile::judge(
            cluster,
            &w.kind,
            &w.basis,
            &units,
            &w.plan.changed,
            &writer.manager,
            writer.force,
        )
        .await;
        (verdict, format!("{} (of {})", w.target(ns).display(), plan.label), true)
    }))
    .await
}
