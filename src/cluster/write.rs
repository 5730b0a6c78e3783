//! The write pipeline: a server-side dry-run of what `core::write` decided (the plan a diff shows),
//! then the commit: forced removals by a guarded JSON patch, the apply, the autoscaler's part, each
//! decided again (bounded, with backoff) when the object changed in between.

use kube::api::{Patch, PatchParams};
use serde_json::{Value, json};

use crate::cluster::client::{Cluster, conflicts_from_status};
use crate::cluster::fetch;
use crate::core::hpa::{self, Autoscaler};
use crate::core::hpa_write;
use crate::core::ownership;
use crate::core::project::{self, ViewOptions};
use crate::core::write::{
    Live, Writer, build, outside_role, refuse_controlled, refuse_too_large, releases_ownership,
    removal_patch, same_for_the_write, spec_of, without_base,
};
use crate::error::{Error, FieldConflict, Result};
use crate::format::{diff, output};
use crate::model::object;
use crate::model::roles::{CONTAINER_LISTS, KindInfo, Profile, RoleName};
use crate::model::target::Target;

/// A write that the server has accepted in a dry-run.
#[derive(Debug, Clone)]
pub struct Plan {
    pub label: String,
    pub body: Value,
    /// Removals another manager also holds, forced: a JSON patch (with the changes beside them) sent
    /// before the apply.
    pub removal: Option<Value>,
    /// The role document as the dry-run left it.
    pub after_doc: Value,
    /// The live object the plan was made from.
    pub basis: Value,
    /// The document the plan was made for (decided again if the object changes before the write).
    pub doc: Value,
    /// The role document of the live object and of the dry-run result.
    pub before: String,
    pub after: String,
    /// Do field values change on the server?
    pub changes_values: bool,
    /// Does the write give up a field this manager owns? Writes that change no value and release
    /// nothing are skipped: get → apply unchanged is a no-op, not an ownership grab.
    pub releases: bool,
    /// Removals nothing can carry out: no field manager owns them (server defaults).
    pub unowned: Vec<String>,
    /// File name for an external diff.
    pub diff_name: String,
    /// The write to the workload's HorizontalPodAutoscaler (the ops `autoscaler` section), when the
    /// document changes it: committed with the workload's, after one confirmation.
    pub autoscaler: Option<AutoscalerWrite>,
}

/// The autoscaler's part of a plan, accepted by the server in a dry-run.
#[derive(Debug, Clone)]
pub struct AutoscalerWrite {
    pub name: String,
    pub body: Value,
    /// Forced removals, as the workload's.
    pub removal: Option<Value>,
    /// The live HPA it was decided from.
    pub basis: Value,
    pub changes_values: bool,
    pub releases: bool,
}

impl AutoscalerWrite {
    fn needs_write(&self) -> bool {
        self.changes_values || self.releases
    }
}

impl Plan {
    /// Changing values, or only ownership (a field released while another manager keeps it), of the
    /// workload or of its autoscaler.
    pub fn needs_write(&self) -> bool {
        self.workload_needs_write() || self.autoscaler.as_ref().is_some_and(AutoscalerWrite::needs_write)
    }

    fn workload_needs_write(&self) -> bool {
        self.changes_values || self.releases
    }

    fn releases_only(&self) -> bool {
        self.releases || self.autoscaler.as_ref().is_some_and(|a| a.releases)
    }

    /// Says which removals will not happen, and why.
    pub fn warn_kept(&self) {
        for path in &self.unowned {
            eprintln!(
                "warning: {path} stays: no field manager owns it (the server sets it by default); see `kubectl oam owners {}`",
                self.label
            );
        }
    }

    pub fn diff(&self, colour: bool) -> String {
        let text = diff::unified(&self.before, &self.after, &self.label, colour);
        if text.is_empty() && self.releases_only() {
            format!("{} : no field values change; only field ownership (managedFields) does\n", self.label)
        } else {
            text
        }
    }
}

/// Server-side apply as the role's manager; forced when the writer takes fields over.
fn params(writer: &Writer, dry_run: bool) -> PatchParams {
    let mut params = PatchParams::apply(&writer.manager).validation_strict();
    if writer.force {
        params = params.force();
    }
    if dry_run {
        params = params.dry_run();
    }
    params
}

/// Decides the write for `doc` and asks the server what it would do (dry-run). When the object
/// changed since `live` was read (a race, not a conflict), it is read again and the write decided
/// again: changes made by others in between are kept, never reported as conflicts.
pub async fn plan(
    cluster: &Cluster,
    profile: &Profile,
    writer: &Writer,
    live: &Live<'_>,
    doc: &Value,
) -> Result<Plan> {
    refuse_controlled(profile, writer.role, live)?;
    let mut current = live.clone();
    let (mut attempt, mut rebased) = (0, 0);
    loop {
        match plan_once(cluster, profile, writer, &current, doc).await {
            Err(e @ (Error::Changed { .. } | Error::Conflict { .. })) if attempt < RACE_RETRIES => {
                let again = fetch::read_live(cluster, profile, writer.role, current.target.clone()).await?;
                if again.resource_version() == current.resource_version() {
                    return Err(e);
                }
                // Controllers write status and their annotations all the time: then only the
                // version moved, and the same write is asked again at once.
                if same_for_the_write(
                    profile,
                    writer.role,
                    current.target.kind,
                    &current.object,
                    &again.object,
                ) && rebased < REBASES
                {
                    rebased += 1;
                } else {
                    tokio::time::sleep(backoff(attempt)).await;
                    attempt += 1;
                }
                current = again;
            }
            other => return other,
        }
    }
}

/// How often a write is decided again when the object keeps changing under it.
const RACE_RETRIES: u32 = 3;

/// How often a write is re-sent at a newer version when only status and bookkeeping changed.
const REBASES: u32 = 10;

fn backoff(attempt: u32) -> std::time::Duration {
    std::time::Duration::from_millis(100 << attempt.min(4))
}

async fn plan_once(
    cluster: &Cluster,
    profile: &Profile,
    writer: &Writer,
    live: &Live<'_>,
    doc: &Value,
) -> Result<Plan> {
    let kind = live.target.kind;
    let (decided, body) = build(profile, writer, live, doc)?;
    let hpa_decided = hpa_write::build(profile, writer, live, doc)?;
    // With forced removals, everything that changes goes in one guarded JSON patch (a removal often
    // only validates together with the change beside it); the apply after it then changes no value
    // and records the role's ownership. Without, the apply alone.
    let live_units = ownership::units(profile, writer.role, kind, &live.object);
    let removal = removal_patch(&decided, &live_units, &live.object);
    if let Some(patch) = &removal {
        refuse_too_large(&live.target, patch)?;
    }
    let forced = removal.is_some();
    let (applied, result) = match &removal {
        Some(patch) => {
            let mut result =
                remove_fields(cluster, profile, writer, &live.target, patch, true, &live.object).await?;
            result["apiVersion"] = json!(kind.api_version);
            result["kind"] = json!(kind.kind);
            (result.clone(), result)
        }
        None => {
            let applied =
                send_once(cluster, profile, writer, &live.target, &body, true, &live.object).await?;
            (applied.clone(), applied)
        }
    };
    // The autoscaler's part: asked of the server only when it changes something there.
    let mut autoscaler_write = None;
    let mut autoscaler_unowned = Vec::new();
    let mut after_autoscaler = live.autoscaler.clone();
    if let (Some((hpa_plan, hpa_body)), Some(hpa)) = (hpa_decided, &live.autoscaler) {
        autoscaler_unowned.clone_from(&hpa_plan.unowned);
        if !hpa_plan.changed.is_empty() || hpa_plan.releases {
            let hpa_target = hpa_write::target(live, hpa);
            let hpa_units = hpa::units(&hpa.object);
            let hpa_removal = removal_patch(&hpa_plan, &hpa_units, &hpa.object);
            let hpa_result = match &hpa_removal {
                Some(patch) => {
                    let mut result =
                        remove_fields(cluster, profile, writer, &hpa_target, patch, true, &hpa.object)
                            .await?;
                    result["apiVersion"] = json!(hpa::KIND.api_version);
                    result["kind"] = json!(hpa::KIND.kind);
                    result
                }
                None => {
                    send_once(cluster, profile, writer, &hpa_target, &hpa_body, true, &hpa.object).await?
                }
            };
            let outside = hpa::outside_section;
            let changed_outside = project::differing_paths(&outside(&hpa.object), &outside(&hpa_result));
            if !changed_outside.is_empty() {
                return Err(Error::Api {
                    message: format!(
                        "this {} write to {} in namespace \"{}\" would also change fields outside its autoscaler section ({}); nothing was applied",
                        writer.role,
                        hpa_target.display(),
                        hpa_target.namespace,
                        changed_outside.join(", ")
                    ),
                });
            }
            autoscaler_write = Some(AutoscalerWrite {
                name: hpa.name.clone(),
                body: hpa_body,
                changes_values: spec_of(&hpa.object) != spec_of(&hpa_result),
                releases: hpa_plan.releases
                    || (hpa_removal.is_none()
                        && releases_ownership(&hpa.object, &hpa_result, &writer.manager)),
                removal: hpa_removal,
                basis: hpa.object.clone(),
            });
            after_autoscaler = Some(Autoscaler::of(&hpa_result));
        }
    }
    let before = output::yaml(&without_base(live.document(profile, writer.role, None)))?;
    let after_view = ViewOptions { container: None, autoscaler: after_autoscaler.as_ref() };
    let after_doc = without_base(project::document(profile, writer.role, kind, &result, &after_view));
    let after = output::yaml(&after_doc)?;
    // The guard behind the role split: whatever the body or the field manager, a role's write may
    // not change anything outside the role's fields.
    // Status and keys that only tools, controllers and the server write (a DaemonSet's template
    // generation) are bookkeeping, not fields anyone edits.
    let outside = |obj: &Value| outside_role(profile, writer.role, kind, obj);
    let changed_outside = project::differing_paths(&outside(&live.object), &outside(&result));
    if !changed_outside.is_empty() {
        return Err(Error::Api {
            message: format!(
                "this {} write to {} would also change fields outside the {} role ({}); nothing was applied",
                writer.role,
                live.object_label(),
                writer.role,
                changed_outside.join(", ")
            ),
        });
    }
    Ok(Plan {
        label: live.target.display(),
        body,
        removal,
        after_doc,
        basis: live.object.clone(),
        doc: doc.clone(),
        before,
        after,
        changes_values: spec_of(&live.object) != spec_of(&result),
        releases: decided.releases
            || (!forced && releases_ownership(&live.object, &applied, &writer.manager)),
        unowned: decided.unowned.into_iter().chain(autoscaler_unowned).collect(),
        diff_name: diff_file_name(kind, &live.target),
        autoscaler: autoscaler_write,
    })
}

/// `basis`: the live object the body was decided from (rejections name containers by its order).
async fn send_once(
    cluster: &Cluster,
    profile: &Profile,
    writer: &Writer,
    target: &Target<'_>,
    body: &Value,
    dry_run: bool,
    basis: &Value,
) -> Result<Value> {
    let api = fetch::workload_api(cluster, target.kind, Some(&target.namespace));
    match api.patch(&target.name, &params(writer, dry_run), &Patch::Apply(body)).await {
        Ok(obj) => fetch::applied_object(cluster, target, writer.role, dry_run, obj),
        // The uid precondition failed: the object was deleted (or re-created) since it was read.
        Err(kube::Error::Api(status)) if status.code == 409 && status.message.contains("uid mismatch") => {
            Err(Error::NotFound {
                kind: target.kind.kind.clone(),
                name: target.name.clone(),
                namespace: target.namespace.clone(),
            })
        }
        // The resourceVersion precondition failed: someone wrote to the object since it was read.
        Err(kube::Error::Api(status))
            if status.code == 409 && status.message.contains("has been modified") =>
        {
            Err(Error::Changed {
                object: format!("{} in namespace \"{}\"", target.display(), target.namespace),
            })
        }
        // Name conflicting fields as the role document does.
        Err(kube::Error::Api(status)) if status.code == 409 && !conflicts_from_status(&status).is_empty() => {
            let conflicts = conflicts_from_status(&status)
                .into_iter()
                .map(|c| FieldConflict {
                    field: field_label(profile, target.kind, &c.field).unwrap_or(c.field),
                    manager: c.manager,
                })
                .collect();
            Err(Error::Conflict {
                object: format!("{} in namespace \"{}\"", target.display(), target.namespace),
                conflicts,
            })
        }
        // A malformed value (a quantity such as "lots", a string for a number) fails conversion
        // with a 500, not a 422: it is still the document's fault, not the server's.
        Err(kube::Error::Api(status))
            if status.code == 422
                || status.code == 400
                || (status.code == 500
                    && (status.message.contains("failed to convert new object")
                        || status.message.contains("failed to create typed patch object"))) =>
        {
            Err(Error::Invalid(format!(
                "the server rejected the change to {} in namespace \"{}\": {}",
                target.display(),
                target.namespace,
                rejection(&status, profile, target.kind, basis)
            )))
        }
        Err(err) if !dry_run => Err(cluster.write_error(err, &target.action(), writer.role.as_str())),
        Err(err) => Err(cluster.error(err, &target.action())),
    }
}

/// A field the server names, as the role document names it (the autoscaler's fields too).
fn field_label(profile: &Profile, kind: &KindInfo, server_field: &str) -> Option<String> {
    if kind.kind == hpa::KIND.kind {
        return hpa::label(server_field);
    }
    project::document_label(profile, kind, server_field)
}

/// The server's reasons, one per field, without the multi-kilobyte dumps of whole objects that some
/// carry ("Invalid value: core.PodTemplateSpec{…}: field is immutable"). Fields are named as the role
/// document names them (`containers.app.ports`) when they are a role's; `body` is what was sent.
fn rejection(status: &kube::core::Status, profile: &Profile, kind: &KindInfo, body: &Value) -> String {
    /// The server's field (`spec.template.spec.containers[0].image`, or with a leading dot and
    /// `containers[name="app"]`) as the role document says it, else as the server said it.
    fn label(profile: &Profile, kind: &KindInfo, body: &Value, field: &str) -> String {
        let mut path = format!(".{}", field.trim_start_matches('.'));
        // Validation names containers by index, in the live object's order.
        for list in CONTAINER_LISTS {
            let containers = format!(".{}[", kind.container_list_path(list).join("."));
            if let Some(at) = path.find(&containers) {
                let start = at + containers.len();
                let index = path[start..].split(']').next().and_then(|i| i.parse::<usize>().ok());
                let names = object::get_path(body, &kind.container_list_path(list)).and_then(Value::as_array);
                let name = index.and_then(|i| names?.get(i)?.get("name")?.as_str());
                if let (Some(i), Some(name)) = (index, name) {
                    path.replace_range(start..start + i.to_string().len(), &format!("name=\"{name}\""));
                }
            }
        }
        field_label(profile, kind, &path).unwrap_or_else(|| field.to_string())
    }
    /// "failed to create typed patch object (ns/web; apps/v1, Kind=Deployment): .spec.replicas:
    /// expected numeric (int or float), got string": the field and the reason, if it has that shape.
    fn typed_patch_field(message: &str) -> Option<(&str, &str)> {
        let (_, rest) = message.split_once("): .")?;
        let rest = &message[message.len() - rest.len() - 1..];
        // The path ends at the first ": " outside brackets and quotes (keys may hold anything).
        let (mut depth, mut quoted, mut prev) = (0i32, false, ' ');
        for (i, ch) in rest.char_indices() {
            match ch {
                '"' if prev != '\\' => quoted = !quoted,
                '[' if !quoted => depth += 1,
                ']' if !quoted => depth -= 1,
                ' ' if !quoted && depth == 0 && prev == ':' => return Some((&rest[..i - 1], &rest[i + 1..])),
                _ => {}
            }
            prev = ch;
        }
        None
    }
    let shorten = |text: &str| {
        if text.len() > 200 { text.rsplit(": ").next().unwrap_or(text).to_string() } else { text.to_string() }
    };
    let causes: Vec<String> = status
        .details
        .iter()
        .flat_map(|d| &d.causes)
        .map(|c| match c.field.as_str() {
            "" => shorten(&c.message),
            field => format!("{}: {}", label(profile, kind, body, field), shorten(&c.message)),
        })
        .collect();
    if !causes.is_empty() {
        return causes.join("; ");
    }
    match typed_patch_field(&status.message) {
        Some((field, reason)) => format!("{}: {}", label(profile, kind, body, field), shorten(reason)),
        None => shorten(&status.message),
    }
}

/// Applies a plan for real: the forced removals (if any), then the body the dry-run accepted. If the
/// object changed since the plan was made, the write is decided again from the new version (bounded,
/// with backoff), so a racing writer's change is kept and the user's change still lands, or is
/// refused by the same rules as before.
pub async fn commit(
    cluster: &Cluster,
    profile: &Profile,
    writer: &Writer,
    target: &Target<'_>,
    plan: &Plan,
) -> Result<()> {
    let mut plan = plan.clone();
    let (mut attempt, mut rebased) = (0, 0);
    loop {
        match commit_once(cluster, profile, writer, target, &plan).await {
            Err(Error::Changed { .. } | Error::Conflict { .. }) if attempt < RACE_RETRIES => {
                let live = fetch::read_live(cluster, profile, writer.role, target.clone()).await?;
                // Only status or bookkeeping moved: the same write, at the new version.
                if same_for_the_write(profile, writer.role, target.kind, &plan.basis, &live.object)
                    && rebased < REBASES
                {
                    rebased += 1;
                    let rv = live.object["metadata"]["resourceVersion"].clone();
                    plan.body["metadata"]["resourceVersion"] = rv.clone();
                    if let Some(test) = plan.removal.as_mut().and_then(|p| p.get_mut(0)) {
                        test["value"] = rv;
                    }
                    plan.basis = live.object;
                    continue;
                }
                tokio::time::sleep(backoff(attempt)).await;
                attempt += 1;
                plan = self::plan(cluster, profile, writer, &live, &plan.doc).await?;
                if !plan.needs_write() {
                    return Ok(());
                }
            }
            other => return other,
        }
    }
}

async fn commit_once(
    cluster: &Cluster,
    profile: &Profile,
    writer: &Writer,
    target: &Target<'_>,
    plan: &Plan,
) -> Result<()> {
    if plan.workload_needs_write() {
        let mut body = plan.body.clone();
        if let Some(patch) = &plan.removal {
            let after = remove_fields(cluster, profile, writer, target, patch, false, &plan.basis).await?;
            body["metadata"]["resourceVersion"] = after["metadata"]["resourceVersion"].clone();
        }
        send_once(cluster, profile, writer, target, &body, false, &plan.basis).await?;
    }
    // Then the autoscaler: a failure here leaves the workload's part applied, and the retry in
    // `commit` decides again from both objects as they are.
    if let Some(hpa) = plan.autoscaler.as_ref().filter(|a| a.needs_write()) {
        let hpa_target =
            Target { kind: &hpa::KIND, name: hpa.name.clone(), namespace: target.namespace.clone() };
        let mut body = hpa.body.clone();
        if let Some(patch) = &hpa.removal {
            let after = remove_fields(cluster, profile, writer, &hpa_target, patch, false, &hpa.basis)
                .await
                .map_err(|e| check_on(cluster, e, target, writer.role))?;
            body["metadata"]["resourceVersion"] = after["metadata"]["resourceVersion"].clone();
        }
        send_once(cluster, profile, writer, &hpa_target, &body, false, &hpa.basis)
            .await
            .map_err(|e| check_on(cluster, e, target, writer.role))?;
    }
    Ok(())
}

/// A write to the workload's autoscaler that may have landed is checked in the workload's document
/// (`kubectl oam` has no view of an HPA alone).
pub fn check_on(cluster: &Cluster, err: Error, workload: &Target<'_>, role: RoleName) -> Error {
    match err {
        Error::MaybeApplied { object, cause, .. } => {
            let check = match cluster.maybe_applied(&workload.action(), role.as_str(), String::new()) {
                Error::MaybeApplied { check, .. } => check,
                _ => String::new(),
            };
            Error::MaybeApplied { object, cause, check }
        }
        other => other,
    }
}

/// Creates an object by server-side apply (`ops autoscale`'s HPA, the only object kubectl-oam
/// creates), or asks the server what it would create.
pub async fn create(
    cluster: &Cluster,
    profile: &Profile,
    writer: &Writer,
    target: &Target<'_>,
    body: &Value,
    dry_run: bool,
) -> Result<Value> {
    send_once(cluster, profile, writer, target, body, dry_run, body).await
}

/// Removes fields with a JSON patch guarded by `test` ops (resourceVersion, each item's key): server-
/// side apply cannot remove a field another manager also owns.
async fn remove_fields(
    cluster: &Cluster,
    profile: &Profile,
    writer: &Writer,
    target: &Target<'_>,
    patch: &Value,
    dry_run: bool,
    basis: &Value,
) -> Result<Value> {
    let object = format!("{} in namespace \"{}\"", target.display(), target.namespace);
    match json_patch(cluster, target, &writer.manager, patch, dry_run).await {
        Ok(obj) => Ok(obj),
        Err(kube::Error::Api(status)) if status.code == 409 => Err(Error::Changed { object }),
        // A failed `test` op is a bare 422 with no causes, as is a malformed patch: if the object
        // moved on since the version the patch tests for, it was a race.
        Err(kube::Error::Api(status))
            if status.code == 422 && status.details.as_ref().is_none_or(|d| d.causes.is_empty()) =>
        {
            let tested = patch[0]["value"].as_str().unwrap_or_default();
            let now = fetch::fetch(cluster, target).await?;
            if now["metadata"]["resourceVersion"].as_str() != Some(tested) {
                Err(Error::Changed { object })
            } else {
                Err(Error::Invalid(format!("the server rejected the change to {object}: {}", status.message)))
            }
        }
        Err(kube::Error::Api(status)) if status.code == 422 || status.code == 400 => {
            Err(Error::Invalid(format!(
                "the server rejected the change to {object}: {}",
                rejection(&status, profile, target.kind, basis)
            )))
        }
        Err(err) if !dry_run => Err(cluster.write_error(err, &target.action(), writer.role.as_str())),
        Err(err) => Err(cluster.error(err, &target.action())),
    }
}

/// A JSON patch (an Update) of the object as `manager`, with the server's own answer.
pub async fn json_patch(
    cluster: &Cluster,
    target: &Target<'_>,
    manager: &str,
    patch: &Value,
    dry_run: bool,
) -> std::result::Result<Value, kube::Error> {
    let api = fetch::workload_api(cluster, target.kind, Some(&target.namespace));
    let mut url = format!("{}/{}?fieldManager={}", api.resource_url(), target.name, query_escape(manager));
    if dry_run {
        url.push_str("&dryRun=All");
    }
    let request = http::Request::patch(url)
        .header(http::header::CONTENT_TYPE, "application/json-patch+json")
        .body(serde_json::to_vec(patch).unwrap_or_default())
        .map_err(kube::Error::HttpError)?;
    cluster.client.request::<Value>(request).await
}

/// `adopt`'s JSON patch of managedFields as `manager`; a write in between (the resourceVersion test
/// fails) is `Error::Changed` about `object`.
pub async fn replace_managed_fields(
    cluster: &Cluster,
    target: &Target<'_>,
    role: RoleName,
    manager: &str,
    patch: &Value,
    dry_run: bool,
    object: &str,
) -> Result<()> {
    match json_patch(cluster, target, manager, patch, dry_run).await {
        Ok(_) => Ok(()),
        // The resourceVersion test failed (a write came in between), or the object changed.
        Err(kube::Error::Api(status)) if status.code == 409 || status.code == 422 => {
            Err(Error::Changed { object: object.to_string() })
        }
        Err(err) if !dry_run => Err(cluster.write_error(err, &target.action(), role.as_str())),
        Err(err) => Err(cluster.error(err, &target.action())),
    }
}

/// Percent-encodes a query value (field manager names may hold any printable character).
pub fn query_escape(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            other => format!("%{other:02X}"),
        })
        .collect()
}

fn diff_file_name(kind: &KindInfo, target: &Target) -> String {
    format!("{}.{}.{}.{}", kind.api_version.replace('/', "."), kind.kind, target.namespace, target.name)
}

/// Server-side apply of one of the objects `kubectl oam policy` installs, as `manager` (forced: taking
/// fields over), or what the server would make of it; the server's answer.
pub async fn apply_object(
    cluster: &Cluster,
    object: &Value,
    manager: &str,
    force: bool,
    dry_run: bool,
) -> Result<Value> {
    let mut params = PatchParams::apply(manager);
    if force {
        params = params.force();
    }
    if dry_run {
        params = params.dry_run();
    }
    let (api, name) = fetch::object_api(cluster, object);
    let result = api
        .patch(&name, &params, &Patch::Apply(object))
        .await
        .map_err(|e| cluster.error(e, &fetch::object_action(object, &name)))?;
    Ok(serde_json::to_value(result).unwrap_or(Value::Null))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn rejections_are_short() {
        let status: kube::core::Status = serde_json::from_value(json!({
            "code": 422, "message": format!("Job.batch \"once\" is invalid: spec.template: Invalid value: {}: field is immutable", "x".repeat(2000)),
            "details": {"causes": [{"reason": "FieldValueInvalid", "field": "spec.template",
                                    "message": format!("Invalid value: core.PodTemplateSpec{{{}}}: field is immutable", "x".repeat(2000))}]}
        }))
        .unwrap();
        let p = Profile::builtin();
        let deploy = p.kind("deploy").unwrap();
        let body =
            json!({"spec": {"template": {"spec": {"containers": [{"name": "app"}, {"name": "proxy"}]}}}});
        assert_eq!(rejection(&status, &p, deploy, &body), "spec.template: field is immutable");
    }

    #[test]
    fn rejections_keep_the_field_named_as_the_document_does() {
        let p = Profile::builtin();
        let deploy = p.kind("deploy").unwrap();
        let body =
            json!({"spec": {"template": {"spec": {"containers": [{"name": "app"}, {"name": "proxy"}]}}}});
        let reject = |status: Value| rejection(&serde_json::from_value(status).unwrap(), &p, deploy, &body);
        let typed = |path: &str| {
            json!({"code": 500, "message": format!(
            "failed to create typed patch object (shop/web; apps/v1, Kind=Deployment): {path}: expected numeric (int or float), got string")})
        };
        assert_eq!(
            reject(typed(".spec.replicas")),
            "scaler.replicas: expected numeric (int or float), got string"
        );
        assert_eq!(
            reject(typed(
                r#".spec.template.spec.containers[name="app"].ports[containerPort="eighty",protocol="TCP"].containerPort"#
            )),
            r#"containers.app.ports[containerPort="eighty",protocol="TCP"].containerPort: expected numeric (int or float), got string"#
        );
        // Keys may hold ": " and dots; the path ends outside brackets and quotes.
        assert_eq!(
            reject(typed(r#".spec.template.spec.containers[name="app"].env[name="A: B.C"].value"#)),
            r#"containers.app.env[name="A: B.C"].value: expected numeric (int or float), got string"#
        );
        // 422 causes name containers by index: the body's order gives the name.
        let invalid = json!({"code": 422, "message": "Deployment.apps \"web\" is invalid: …",
            "details": {"causes": [
                {"reason": "FieldValueInvalid", "field": "spec.template.spec.containers[1].ports[0].containerPort",
                 "message": "Invalid value: 99999: must be between 1 and 65535, inclusive"},
                {"reason": "FieldValueInvalid", "field": "spec.minReadySeconds", "message": "must be greater than or equal to 0"},
                {"reason": "FieldValueInvalid", "field": "spec.template.spec.containers[7].image", "message": "x"},
                {"reason": "FieldValueInvalid", "field": "spec.selector", "message": "field is immutable"}]}});
        assert_eq!(
            reject(invalid),
            "containers.proxy.ports[0].containerPort: Invalid value: 99999: must be between 1 and 65535, inclusive; \
             rollout.minReadySeconds: must be greater than or equal to 0; \
             spec.template.spec.containers[7].image: x; spec.selector: field is immutable"
        );
        let quantity = json!({"code": 500, "message": "failed to convert new object (shop/web; apps/v1, Kind=Deployment) to proper version: unable to convert unstructured object to apps/v1, Kind=Deployment: quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"});
        assert!(reject(quantity).starts_with("quantities must match"));
    }
}
