//! Role-scoped writes: every write is a server-side apply of the role's fields only, under the role's
//! field manager, planned first with a server-side dry-run so the diff shows what will really happen.

use std::path::{Path, PathBuf};

use kube::api::{Patch, PatchParams};
use serde_json::{Value, json};

use crate::cli::{ApplyArgs, DiffArgs, ScaleArgs, SetEnvArgs, SetImageArgs, WriteFlags};
use crate::cluster::client::{Cluster, conflicts_from_status};
use crate::commands::get::{self as view, Target};
use crate::core::ownership::{self, BASE_KEY, Base, Current, Intent, Permissions, WritePlan};
use crate::core::project::{self, Autoscaler, DocProblem, ViewOptions};
use crate::error::{Error, FieldConflict, Result};
use crate::format::diff;
use crate::format::output;
use crate::format::yaml;
use crate::model::roles::{KindInfo, Profile, RoleName};

/// How a role writes: its manager, and whether it may take fields over.
#[derive(Debug, Clone)]
pub struct Writer {
    pub role: RoleName,
    pub manager: String,
    pub force: bool,
    /// Replace values someone changed after the document was read (the three-way check).
    pub overwrite: bool,
}

impl Writer {
    /// The role's manager, or `--field-manager`, which may not be another role's: writing as that
    /// manager would release (and so delete) the other role's fields.
    pub fn new(
        profile: &Profile,
        role: RoleName,
        field_manager: Option<&str>,
        force: bool,
    ) -> Result<Writer> {
        let manager = field_manager.map_or_else(|| profile.role(role).manager.clone(), str::to_string);
        if let Some(other) = profile.roles.iter().find(|r| r.name != role && r.manager == manager) {
            return Err(Error::Usage(format!(
                "--field-manager \"{manager}\" is the {} role's manager; a {role} write under it would drop the {}'s fields; pick another name",
                other.name, other.name
            )));
        }
        if manager.is_empty() || manager.len() > 128 || manager.chars().any(|c| c.is_control()) {
            return Err(Error::Usage(format!(
                "--field-manager \"{manager}\" is not a usable name (1-128 printable characters)"
            )));
        }
        Ok(Writer { role, manager, force, overwrite: false })
    }

    pub fn overwriting(mut self, overwrite: bool) -> Writer {
        self.overwrite = overwrite;
        self
    }

    fn params(&self, dry_run: bool) -> PatchParams {
        let mut params = PatchParams::apply(&self.manager).validation_strict();
        if self.force {
            params = params.force();
        }
        if dry_run {
            params = params.dry_run();
        }
        params
    }
}

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

/// The live object a document is about, with the HPA that targets it.
#[derive(Clone)]
pub struct Live<'p> {
    pub target: Target<'p>,
    pub object: Value,
    pub autoscaler: Option<Autoscaler>,
}

pub async fn read_live<'p>(
    cluster: &Cluster,
    profile: &Profile,
    role: RoleName,
    target: Target<'p>,
) -> Result<Live<'p>> {
    let (object, autoscaler) = view::fetch_with_autoscaler(cluster, profile, role, &target).await?;
    Ok(Live { target, object, autoscaler })
}

impl Live<'_> {
    pub fn document(&self, profile: &Profile, role: RoleName, container: Option<&str>) -> Value {
        let view = ViewOptions { container, autoscaler: self.autoscaler.as_ref() };
        project::document(profile, role, self.target.kind, &self.object, &view)
    }

    fn resource_version(&self) -> &str {
        self.object["metadata"]["resourceVersion"].as_str().unwrap_or_default()
    }

    fn object_label(&self) -> String {
        format!("{} in namespace \"{}\"", self.target.display(), self.target.namespace)
    }
}

/// Problems as one line.
fn messages(problems: &[DocProblem]) -> String {
    problems.iter().map(|p| p.message.as_str()).collect::<Vec<_>>().join("; ")
}

/// A controller (a Deployment for its ReplicaSets, a CronJob for its Jobs) undoes changes to what it
/// controls: writes are refused, naming the controller, even with --force-conflicts.
pub fn refuse_controlled(profile: &Profile, role: RoleName, live: &Live<'_>) -> Result<()> {
    let Some(owner) = project::controller(&live.object) else { return Ok(()) };
    let owner_kind = owner.split_once('/').map(|(k, _)| k).unwrap_or_default();
    let hint = match profile.kind(owner_kind) {
        Ok(_) => format!(" (`kubectl oam {role} edit {owner}`)"),
        Err(_) => String::new(),
    };
    Err(Error::Controlled { object: live.object_label(), owner, hint })
}

/// Problems in a document, one line each.
pub fn problems_error(problems: Vec<DocProblem>) -> Error {
    Error::Problems(problems)
}

/// The pure half of a write: what `doc` asks of `live`, decided by the ownership rules, and the
/// apply body that carries it. Refusals (stale values, held removals, the autoscaler's count) are
/// errors here, before anything is sent.
pub fn build(profile: &Profile, writer: &Writer, live: &Live<'_>, doc: &Value) -> Result<(WritePlan, Value)> {
    let kind = live.target.kind;
    let base = match doc.get(BASE_KEY) {
        None | Some(Value::Null) => None,
        Some(value) => Some(Base::from_value(value).map_err(|m| problems_error(vec![DocProblem::new(m)]))?),
    };
    let (fields, problems) = project::decode_document(profile, writer.role, kind, &live.object, doc);
    if !problems.is_empty() {
        return Err(problems_error(problems));
    }
    let edited = ownership::units(profile, writer.role, kind, &fields);
    let live_units = ownership::units(profile, writer.role, kind, &live.object);
    let containers = project::named_containers(doc);
    let autoscaled =
        live.autoscaler.as_ref().and_then(|_| project::autoscaled_label(profile, writer.role, kind));
    let intent = Intent { edited: &edited, base: base.as_ref(), containers: &containers };
    let current = Current {
        object: &live.object,
        units: &live_units,
        manager: &writer.manager,
        autoscaled: autoscaled.as_deref(),
    };
    let allow = Permissions { force: writer.force, overwrite: writer.overwrite };
    let plan = ownership::plan(&intent, &current, allow);
    refusals(&plan, live.object_label(), writer, &live.target.display(), live.autoscaler.as_ref())?;
    if let Some(schema) = &kind.schema {
        refuse_atomic(schema, kind, writer.role, &plan)?;
    }
    let mut body = json!({
        "apiVersion": kind.api_version,
        "kind": kind.kind,
        "metadata": {"name": live.target.name, "namespace": live.target.namespace},
    });
    // A uid precondition: the server refuses the apply if the object is gone (or was re-created)
    // instead of creating it. Roles edit live objects; they never create them.
    if let Some(uid) = live.object["metadata"].get("uid") {
        body["metadata"]["uid"] = uid.clone();
    }
    // And a resourceVersion precondition: the body was decided from this version; if anyone writes
    // in between, it is decided again from theirs (see `plan` and `commit`).
    if let Some(rv) = live.object["metadata"].get("resourceVersion") {
        body["metadata"]["resourceVersion"] = rv.clone();
    }
    ownership::insert_units(&mut body, &plan.send);
    ownership::order_like(&mut body, &live.object);
    Ok((plan, body))
}

/// Server-side apply replaces an atomic list or map whole: a role's write below one (a custom kind
/// whose containers are an atomic list) would replace fields the role does not own. Refused, naming
/// the list and why.
fn refuse_atomic(
    schema: &crate::model::schema::KindSchema,
    kind: &KindInfo,
    role: RoleName,
    plan: &WritePlan,
) -> Result<()> {
    let touched = plan.send.iter().chain(&plan.remove).chain(&plan.released);
    let problems: Vec<DocProblem> = touched
        .filter_map(|u| {
            let (place, why) = schema.atomic_above(&u.path)?;
            Some(DocProblem::new(format!(
                "{}: {place} is replaced whole by server-side apply in the schema of {} ({}; {why}), so this {role} write would replace fields the {role} role does not own; nothing was applied. Change it with `kubectl edit`, or have the kind's schema make it granular (a list keyed by name: x-kubernetes-list-type: map)",
                u.label, kind.kind, kind.api_version
            )))
        })
        .collect();
    match problems.is_empty() {
        true => Ok(()),
        false => Err(problems_error(problems)),
    }
}

/// What the ownership rules refuse in `plan`, as the error a user sees. `object`: the object written
/// (the workload, or its autoscaler), `target`: the workload as the role's commands name it.
pub fn refusals(
    plan: &WritePlan,
    object: String,
    writer: &Writer,
    target: &str,
    autoscaler: Option<&Autoscaler>,
) -> Result<()> {
    if !plan.duplicates.is_empty() {
        return Err(Error::Invalid(format!(
            "{object}: {}: the name appears more than once in the live object (the API allows it; server-side apply cannot address one of them); nothing was applied: change it with `kubectl edit`, or remove the duplicate first",
            plan.duplicates.join(", ")
        )));
    }
    if !plan.stale.is_empty() {
        return Err(Error::Stale {
            object,
            role: writer.role.to_string(),
            target: target.to_string(),
            fields: plan
                .stale
                .iter()
                .map(|s| {
                    let now = s.now.as_ref().map_or_else(|| "removed".to_string(), |v| format!("now {v}"));
                    let by = s.by.first().map(|m| format!(" (by {m})")).unwrap_or_default();
                    format!("{} is {now}{by}", s.label)
                })
                .collect(),
        });
    }
    if let (true, Some(hpa)) = (plan.autoscaler_conflict, autoscaler) {
        return Err(Error::HeldByAutoscaler {
            object,
            hpa: hpa.name.clone(),
            min: hpa.min_replicas.map_or("?".into(), |v| v.to_string()),
            max: hpa.max_replicas.map_or("?".into(), |v| v.to_string()),
            target: target.to_string(),
        });
    }
    if !plan.held.is_empty() {
        return Err(Error::RemovalHeld {
            object,
            fields: plan
                .held
                .iter()
                .map(|h| {
                    let holders: Vec<String> = h.holders.iter().map(|m| format!("\"{m}\"")).collect();
                    format!("{} (held by {})", h.label, holders.join(", "))
                })
                .collect(),
        });
    }
    Ok(())
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
                let again = read_live(cluster, profile, writer.role, current.target.clone()).await?;
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

/// What a role's write must leave exactly as it was: everything but the role's fields, status,
/// bookkeeping and the keys only tools and controllers write.
fn outside_role(profile: &Profile, role: RoleName, kind: &KindInfo, obj: &Value) -> Value {
    spec_of(&project::without_tool_keys(
        profile,
        kind,
        &project::without_role_fields(profile, role, kind, obj),
    ))
}

/// Did anything a role's write depends on change between two versions of an object? Status,
/// bookkeeping and the keys tools and controllers write do not count.
fn same_for_the_write(profile: &Profile, role: RoleName, kind: &KindInfo, a: &Value, b: &Value) -> bool {
    let outside = |obj: &Value| outside_role(profile, role, kind, obj);
    ownership::same_units(
        &ownership::units(profile, role, kind, a),
        &ownership::units(profile, role, kind, b),
    ) && outside(a) == outside(b)
}

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
    let hpa_decided = crate::core::hpa::build(profile, writer, live, doc)?;
    // With forced removals, everything that changes goes in one guarded JSON patch (a removal often
    // only validates together with the change beside it); the apply after it then changes no value
    // and records the role's ownership. Without, the apply alone.
    let live_units = ownership::units(profile, writer.role, kind, &live.object);
    let removal = removal_patch(&decided, &live_units, &live.object);
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
            let hpa_target = crate::core::hpa::target(live, hpa);
            let hpa_units = crate::core::hpa::units(&hpa.object);
            let hpa_removal = removal_patch(&hpa_plan, &hpa_units, &hpa.object);
            let hpa_result = match &hpa_removal {
                Some(patch) => {
                    let mut result =
                        remove_fields(cluster, profile, writer, &hpa_target, patch, true, &hpa.object)
                            .await?;
                    result["apiVersion"] = json!(crate::core::hpa::KIND.api_version);
                    result["kind"] = json!(crate::core::hpa::KIND.kind);
                    result
                }
                None => {
                    send_once(cluster, profile, writer, &hpa_target, &hpa_body, true, &hpa.object).await?
                }
            };
            let outside = crate::core::hpa::outside_section;
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

/// The guarded JSON patch for forced removals (and the changes beside them), if the plan has any.
fn removal_patch(decided: &WritePlan, live_units: &ownership::Units, object: &Value) -> Option<Value> {
    (!decided.remove.is_empty()).then(|| {
        let changing: Vec<ownership::Unit> = decided
            .send
            .iter()
            .filter(|u| live_units.get(&u.key()).is_none_or(|now| !now.same_value(u)))
            .cloned()
            .collect();
        let removing: Vec<ownership::Unit> =
            decided.remove.iter().chain(&decided.released).cloned().collect();
        ownership::write_patch(object, &removing, &changing)
    })
}

/// A document as people read it: the base is bookkeeping for the tool.
pub fn without_base(mut doc: Value) -> Value {
    if let Some(map) = doc.as_object_mut() {
        map.remove(BASE_KEY);
    }
    doc
}

/// Does `manager` own less in `after` than in `before`?
fn releases_ownership(before: &Value, after: &Value, manager: &str) -> bool {
    let fields = |obj: &Value| {
        crate::core::owners::managed_entries(obj)
            .into_iter()
            .find(|e| e.manager == manager)
            .map_or(Value::Object(Default::default()), |e| e.fields)
    };
    !covers(&fields(after), &fields(before))
}

/// Does the FieldsV1 set `a` contain every field of `b`?
fn covers(a: &Value, b: &Value) -> bool {
    match b.as_object() {
        None => true,
        Some(b) => b.iter().all(|(k, bv)| a.get(k).is_some_and(|av| covers(av, bv))),
    }
}

/// Annotations the deployment controller writes on Deployments and their ReplicaSets as they roll
/// out: bookkeeping like status, not someone's change.
const CONTROLLER_ANNOTATIONS: [&str; 3] = [
    "deployment.kubernetes.io/revision",
    "deployment.kubernetes.io/desired-replicas",
    "deployment.kubernetes.io/max-replicas",
];

/// Everything but status and bookkeeping: what a change "since it was read" is about.
fn spec_of(obj: &Value) -> Value {
    let mut obj = comparable(obj);
    if let Some(map) = obj.as_object_mut() {
        map.remove("status");
    }
    if let Some(annotations) =
        obj.get_mut("metadata").and_then(|m| m.get_mut("annotations")).and_then(Value::as_object_mut)
    {
        annotations.retain(|k, _| !CONTROLLER_ANNOTATIONS.contains(&k.as_str()));
    }
    obj
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
    let api = view::workload_api(cluster, target.kind, Some(&target.namespace));
    match api.patch(&target.name, &writer.params(dry_run), &Patch::Apply(body)).await {
        Ok(obj) => view::applied_object(cluster, target, writer.role, dry_run, obj),
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
    if kind.kind == crate::core::hpa::KIND.kind {
        return crate::core::hpa::label(server_field);
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
        for list in crate::model::roles::CONTAINER_LISTS {
            let containers = format!(".{}[", kind.container_list_path(list).join("."));
            if let Some(at) = path.find(&containers) {
                let start = at + containers.len();
                let index = path[start..].split(']').next().and_then(|i| i.parse::<usize>().ok());
                let names =
                    project::get_path(body, &kind.container_list_path(list)).and_then(Value::as_array);
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
                let live = read_live(cluster, profile, writer.role, target.clone()).await?;
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
        let hpa_target = Target {
            kind: &crate::core::hpa::KIND,
            name: hpa.name.clone(),
            namespace: target.namespace.clone(),
        };
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
            let now = view::fetch(cluster, target).await?;
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
    let api = view::workload_api(cluster, target.kind, Some(&target.namespace));
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

/// Percent-encodes a query value (field manager names may hold any printable character).
pub fn query_escape(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            other => format!("%{other:02X}"),
        })
        .collect()
}

/// What is left of an object once bookkeeping that every write touches is removed.
fn comparable(obj: &Value) -> Value {
    let mut obj = obj.clone();
    if let Some(meta) = obj.get_mut("metadata").and_then(Value::as_object_mut) {
        meta.remove("resourceVersion");
        meta.remove("generation");
        meta.remove("managedFields");
    }
    obj
}

fn diff_file_name(kind: &KindInfo, target: &Target) -> String {
    format!("{}.{}.{}.{}", kind.api_version.replace('/', "."), kind.kind, target.namespace, target.name)
}

/// Splits a file of role documents ("---" separated; a JSON array also works) into parsed
/// documents (values with where each was written).
pub fn parse_documents(text: &str, source: &str) -> Result<Vec<yaml::Parsed>> {
    let docs: Vec<yaml::Parsed> =
        yaml::parse_documents(text, source)?.into_iter().flat_map(yaml::Parsed::into_items).collect();
    if docs.is_empty() {
        return Err(Error::Document(format!("{source}: no documents found")));
    }
    Ok(docs)
}

fn read_source(path: &Path) -> Result<(String, String)> {
    if path.as_os_str() == "-" {
        let mut text = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin(), &mut text)?;
        return Ok((text, "stdin".into()));
    }
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::Io(format!("cannot read {}: {e}", path.display())))?;
    Ok((text, path.display().to_string()))
}

/// The files `-f` names, in order: a directory gives its .yaml, .yml and .json files (sorted; with
/// `-R` those of its subdirectories too), as kubectl reads them. Stdin ("-") may be given once.
pub fn expand_sources(paths: &[PathBuf], recursive: bool) -> Result<Vec<PathBuf>> {
    fn walk(dir: &Path, recursive: bool, out: &mut Vec<PathBuf>) -> Result<()> {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
            .map_err(|e| Error::Io(format!("cannot read the directory {}: {e}", dir.display())))?
            .filter_map(|entry| entry.ok().map(|e| e.path()))
            .collect();
        entries.sort();
        for path in entries {
            if path.is_dir() {
                if recursive {
                    walk(&path, recursive, out)?;
                }
            } else if path.extension().is_some_and(|x| x == "yaml" || x == "yml" || x == "json") {
                out.push(path);
            }
        }
        Ok(())
    }
    let mut out = Vec::new();
    for path in paths {
        if path.as_os_str() == "-" {
            if out.iter().any(|p: &PathBuf| p.as_os_str() == "-") {
                return Err(Error::Usage("-f - (stdin) can be given only once".into()));
            }
            out.push(path.clone());
        } else if path.is_dir() {
            let before = out.len();
            walk(path, recursive, &mut out)?;
            if out.len() == before {
                return Err(Error::Usage(format!(
                    "the directory {} has no .yaml, .yml or .json files{}",
                    path.display(),
                    if recursive { "" } else { " (-R reads its subdirectories)" }
                )));
            }
        } else {
            out.push(path.clone());
        }
    }
    Ok(out)
}

/// A whole Kubernetes manifest (apiVersion, metadata, spec) where a role document was expected: a
/// common first try, which deserves the way to the role document rather than "has no `name`".
pub fn full_manifest(profile: &Profile, role: RoleName, doc: &Value) -> Option<String> {
    // Role documents have a `metadata` trait too, but never its name, nor apiVersion, spec or items.
    let manifest = doc.get("name").is_none()
        && (doc.get("apiVersion").is_some()
            || doc["metadata"].get("name").is_some()
            || doc.get("spec").is_some()
            || doc.get("items").is_some());
    if !manifest {
        return None;
    }
    let article = if role.to_string().starts_with(['a', 'e', 'i', 'o', 'u']) { "an" } else { "a" };
    let not_role = format!("not {article} {role} role document");
    let kind = doc["kind"].as_str().unwrap_or("TYPE");
    if doc.get("items").is_some() || kind.ends_with("List") {
        return Some(format!(
            "this is a Kubernetes {kind} (as `kubectl get -o yaml` prints several objects), {not_role}; `kubectl oam {role} get TYPE/NAME…` prints role documents to change and apply"
        ));
    }
    let name = doc["metadata"]["name"].as_str().filter(|n| !n.is_empty()).unwrap_or("NAME");
    match profile.kind(kind) {
        Ok(workload) => Some(format!(
            "this is a full Kubernetes manifest (apiVersion, metadata, spec), {not_role}; `kubectl oam {role} get {}/{name}` prints the role document to change and apply (a whole manifest goes to `kubectl apply --server-side`)",
            workload.display_resource()
        )),
        Err(_) => Some(format!(
            "this is a {kind} manifest, {not_role}, and kubectl oam works on workloads only ({}); apply it with `kubectl apply --server-side`",
            profile.kinds.iter().map(|k| k.kind.as_str()).collect::<Vec<_>>().join(", ")
        )),
    }
}

/// The workload a document names; its namespace wins over the context's, but not over -n.
pub fn document_target<'p>(
    profile: &'p Profile,
    cluster: &Cluster,
    explicit_ns: Option<&str>,
    role: RoleName,
    doc: &Value,
    source: &str,
) -> Result<Target<'p>> {
    if let Some(problem) = full_manifest(profile, role, doc) {
        return Err(Error::Document(format!("{source}: {problem}")));
    }
    let kind_name = doc["kind"].as_str().ok_or_else(|| {
        Error::Document(format!("{source}: a role document needs `kind` (e.g. Deployment) and `name`"))
    })?;
    let name = doc["name"]
        .as_str()
        .filter(|n| !n.is_empty())
        .ok_or_else(|| Error::Document(format!("{source}: the {kind_name} document has no `name`")))?;
    let kind = profile.kind(kind_name)?;
    crate::cluster::client::check_name(&kind.kind, name)?;
    let namespace = match (doc["namespace"].as_str(), explicit_ns) {
        (Some(doc_ns), Some(flag)) if doc_ns != flag => {
            return Err(Error::Document(format!(
                "{source}: {kind_name}/{name} says namespace \"{doc_ns}\" but -n says \"{flag}\"; drop one of them"
            )));
        }
        (Some(doc_ns), _) => {
            crate::cluster::client::check_namespace(doc_ns)?;
            doc_ns.to_string()
        }
        (None, _) => cluster.namespace.clone(),
    };
    Ok(Target { kind, name: name.to_string(), namespace })
}

/// Plans, and the conflict that stopped a diff (shown after the diffs, which are planned as forced).
type Planned<'p> = (Vec<(Target<'p>, Plan)>, Option<Error>);

/// Reads every document of the files and plans each against its live object; nothing is written, so a
/// bad document anywhere stops the whole file before any change. With `show_conflicts` (diff), a
/// conflict does not stop it: the document is planned as if forced, so that its diff can be shown
/// before the conflict is reported.
async fn plan_file<'p>(
    cluster: &Cluster,
    profile: &'p Profile,
    writer: &Writer,
    explicit_ns: Option<&str>,
    paths: &[PathBuf],
    recursive: bool,
    show_conflicts: bool,
) -> Result<Planned<'p>> {
    let mut sources = Vec::new();
    for path in expand_sources(paths, recursive)? {
        let (text, source) = read_source(&path)?;
        let docs = parse_documents(&text, &source)?;
        sources.push((source, docs));
    }
    let mut plans: Vec<(Target<'p>, Plan)> = Vec::new();
    let mut conflict = None;
    // A file of several documents names which one is meant.
    let labelled = sources.iter().flat_map(|(source, docs)| {
        docs.iter().enumerate().map(move |(i, d)| match docs.len() {
            1 => (source.to_string(), d),
            _ => (format!("{source} (document {})", i + 1), d),
        })
    });
    for (source, parsed) in labelled {
        let source = &source;
        let doc = &parsed.value;
        let target = document_target(profile, cluster, explicit_ns, writer.role, doc, source)?;
        let object = format!("{} in namespace \"{}\"", target.display(), target.namespace);
        if plans.iter().any(|(t, _)| t.display() == target.display() && t.namespace == target.namespace) {
            return Err(Error::Document(format!(
                "{source}: {object} appears twice; merge its documents into one"
            )));
        }
        let misread = project::misread_values(parsed);
        if !misread.is_empty() {
            return Err(Error::Document(format!(
                "{source}: {object}: {}",
                messages(&project::locate(misread, parsed))
            )));
        }
        let live = read_live(cluster, profile, writer.role, target).await?;
        let plan = match plan(cluster, profile, writer, &live, doc).await {
            Ok(plan) => plan,
            // Say which document of which file (and where in it), since a file may hold several.
            Err(Error::Problems(list)) => {
                return Err(Error::Document(format!(
                    "{source}: {object}: {}",
                    messages(&project::locate(list, parsed))
                )));
            }
            // `diff` shows what --force-conflicts would do, then the refusal.
            Err(
                e @ (Error::Conflict { .. } | Error::HeldByAutoscaler { .. } | Error::RemovalHeld { .. }),
            ) if show_conflicts && !writer.force => {
                let forcing = Writer { force: true, ..writer.clone() };
                let forced = plan(cluster, profile, &forcing, &live, doc).await?;
                conflict.get_or_insert(e);
                forced
            }
            Err(e) => return Err(e),
        };
        plans.push((live.target, plan));
    }
    Ok((plans, conflict))
}

pub async fn apply_files(
    cluster: &Cluster,
    profile: &Profile,
    role: RoleName,
    explicit_ns: Option<&str>,
    args: &ApplyArgs,
) -> Result<String> {
    let write = &args.write;
    let writer = Writer::new(profile, role, write.field_manager.as_deref(), write.force_conflicts)?
        .overwriting(write.overwrite);
    let (plans, _) =
        plan_file(cluster, profile, &writer, explicit_ns, &args.filename, args.recursive, false).await?;
    let colour = output::use_colour();
    // Each line as it happens, so that a failure halfway still shows what was already applied.
    for (target, plan) in &plans {
        plan.warn_kept();
        if write.dry_run() {
            output::emit(&plan.diff(colour))?;
        } else if plan.needs_write() {
            commit(cluster, profile, &writer, target, plan).await?;
            let line = format!("{} configured\n", plan.label);
            output::emit(&crate::cluster::wait::after_write(cluster, target, write, line).await?)?;
        } else {
            output::emit(&format!("{} unchanged\n", plan.label))?;
        }
    }
    Ok(String::new())
}

/// `diff -f`: Ok(true) when there are differences.
pub async fn diff_files(
    cluster: &Cluster,
    profile: &Profile,
    role: RoleName,
    explicit_ns: Option<&str>,
    args: &DiffArgs,
) -> Result<bool> {
    let writer = Writer::new(profile, role, args.field_manager.as_deref(), args.force_conflicts)?
        .overwriting(args.overwrite);
    let (plans, conflict) =
        plan_file(cluster, profile, &writer, explicit_ns, &args.filename, args.recursive, true).await?;
    let plans: Vec<Plan> = plans.into_iter().map(|(_, plan)| plan).collect();
    for plan in &plans {
        plan.warn_kept();
    }
    let differs =
        if let Some(command) = std::env::var("KUBECTL_EXTERNAL_DIFF").ok().filter(|c| !c.trim().is_empty()) {
            let pairs: Vec<_> =
                plans.iter().map(|p| (p.diff_name.clone(), p.before.clone(), p.after.clone())).collect();
            diff::external(&command, &pairs)?
        } else {
            let colour = output::use_colour();
            let mut differs = false;
            for plan in &plans {
                let text = plan.diff(colour);
                differs |= !text.is_empty();
                output::emit(&text)?;
            }
            differs
        };
    // The diffs above are what taking the fields over would do; the conflict still fails the run.
    match conflict {
        Some(e) => Err(e),
        None => Ok(differs),
    }
}

/// Imperative writes share one path: read, change the role document, plan, apply.
async fn write_change(
    cluster: &Cluster,
    profile: &Profile,
    role: RoleName,
    flags: &WriteFlags,
    target: Target<'_>,
    what: &str,
    change: impl FnOnce(&mut Value, &Value) -> Result<()>,
) -> Result<String> {
    let live = read_live(cluster, profile, role, target).await?;
    write_live(cluster, profile, role, flags, live, what, change).await
}

/// `write_change` on an object already read.
pub async fn write_live(
    cluster: &Cluster,
    profile: &Profile,
    role: RoleName,
    flags: &WriteFlags,
    live: Live<'_>,
    what: &str,
    change: impl FnOnce(&mut Value, &Value) -> Result<()>,
) -> Result<String> {
    let mut doc = live.document(profile, role, None);
    change(&mut doc, &live.object)?;
    let writer = Writer::new(profile, role, flags.field_manager.as_deref(), flags.force_conflicts)?
        .overwriting(flags.overwrite);
    let plan = plan(cluster, profile, &writer, &live, &doc).await?;
    plan.warn_kept();
    if flags.dry_run() {
        return Ok(plan.diff(output::use_colour()));
    }
    if !plan.needs_write() {
        return Ok(format!("{} unchanged\n", plan.label));
    }
    commit(cluster, profile, &writer, &live.target, &plan).await?;
    crate::cluster::wait::after_write(cluster, &live.target, flags, format!("{} {what}\n", plan.label)).await
}

/// The objects a `set` or `scale` command names, then its values: leading words that are not
/// values name more objects (`set image deploy/a sts/b app=x`, `scale deploy a b`), as kubectl reads
/// them.
fn targets_then_values<'p, 'w>(
    profile: &'p Profile,
    cluster: &Cluster,
    first: &str,
    words: &'w [String],
    is_value: impl Fn(&str) -> bool,
) -> Result<(Vec<Target<'p>>, &'w [String])> {
    let (objects, values) = words.split_at(words.iter().take_while(|w| !is_value(w)).count());
    let named: Vec<String> = std::iter::once(first.to_string()).chain(objects.iter().cloned()).collect();
    let targets: Vec<Target<'p>> = view::parse_targets(profile, &named)?
        .into_iter()
        .map(|(kind, name)| Target { kind, name, namespace: cluster.namespace.clone() })
        .collect();
    if targets.is_empty() {
        return Err(Error::Usage(format!("\"{first}\" is not TYPE/NAME or TYPE NAME, e.g. deploy/web")));
    }
    Ok((targets, values))
}

/// Results of one command over several objects, as kubectl reports them: each success printed as it
/// happens, each failure as one error line, and the command fails if any object failed.
struct EachObject {
    many: bool,
    failed: Option<Error>,
}

impl EachObject {
    fn new(objects: usize) -> EachObject {
        EachObject { many: objects > 1, failed: None }
    }

    fn record(&mut self, result: Result<String>) -> Result<()> {
        match result {
            Ok(text) => output::emit(&text),
            Err(err) if self.many => {
                if let Some(earlier) = self.failed.replace(err) {
                    eprintln!("error: {}", earlier.to_string().lines().collect::<Vec<_>>().join(" "));
                }
                Ok(())
            }
            Err(err) => Err(err),
        }
    }

    /// The last failure is returned, so it is printed last and sets the exit code.
    fn finish(self) -> Result<String> {
        self.failed.map_or(Ok(String::new()), Err)
    }
}

pub async fn set_image(cluster: &Cluster, profile: &Profile, args: &SetImageArgs) -> Result<String> {
    let (targets, images) =
        targets_then_values(profile, cluster, &args.target, &args.images, |w| w.contains('='))?;
    let first = &targets[0];
    if images.is_empty() {
        return Err(Error::Usage(format!(
            "give CONTAINER=IMAGE after {}, e.g. app=nginx:1.27",
            first.display()
        )));
    }
    let mut pairs = Vec::new();
    for pair in images {
        match pair.split_once('=') {
            Some((c, image)) if !c.is_empty() && !image.is_empty() => {
                pairs.push((c.to_string(), image.to_string()))
            }
            _ => {
                return Err(Error::Usage(format!(
                    "\"{pair}\" is not CONTAINER=IMAGE (for {} in namespace \"{}\")",
                    first.display(),
                    first.namespace
                )));
            }
        }
    }
    let mut results = EachObject::new(targets.len());
    for target in targets {
        let display = target.display();
        let namespace = target.namespace.clone();
        let written =
            write_change(cluster, profile, RoleName::Dev, &args.write, target, "image updated", |doc, _| {
                let names = project::named_containers(doc);
                for (name, _) in &pairs {
                    if name != "*" && !names.contains(name) {
                        return Err(Error::Usage(format!(
                            "{display} in namespace \"{namespace}\" has no container \"{name}\"; it has {}",
                            names.join(", ")
                        )));
                    }
                }
                // `*` is every container, init containers and sidecars included (as `kubectl set image`):
                // a migration image must not drift from the app's version.
                for (name, fields) in document_containers_mut(doc) {
                    let image =
                        pairs.iter().rev().find(|(n, _)| n == name || n == "*").map(|(_, image)| image);
                    if let Some(image) = image {
                        fields["image"] = Value::String(image.clone());
                    }
                }
                Ok(())
            })
            .await;
        results.record(written)?;
    }
    results.finish()
}

/// Each container of a dev document (app and init), by name, for changing its fields.
fn document_containers_mut(doc: &mut Value) -> impl Iterator<Item = (&String, &mut Value)> {
    let map = doc.as_object_mut().into_iter().flat_map(|m| m.iter_mut());
    map.filter(|(key, _)| crate::model::roles::CONTAINER_LISTS.contains(&key.as_str()))
        .filter_map(|(_, list)| list.as_object_mut())
        .flat_map(|containers| containers.iter_mut())
}

pub async fn set_env(cluster: &Cluster, profile: &Profile, args: &SetEnvArgs) -> Result<String> {
    // A name never ends in `-` (DNS-1123), so `KEY-` is a removal, not an object.
    let is_var = |w: &str| w.contains('=') || w.ends_with('-');
    let (targets, vars) = targets_then_values(profile, cluster, &args.target, &args.vars, is_var)?;
    let first = &targets[0];
    if vars.is_empty() {
        return Err(Error::Usage(format!(
            "give KEY=VALUE or KEY- after {}, e.g. MODE=prod",
            first.display()
        )));
    }
    let mut set = Vec::new();
    let mut unset = Vec::new();
    for var in vars {
        if let Some((k, v)) = var.split_once('=') {
            if k.is_empty() {
                return Err(Error::Usage(format!(
                    "\"{var}\" has no variable name (for {} in namespace \"{}\"); give KEY=VALUE",
                    first.display(),
                    first.namespace
                )));
            }
            set.push((k.to_string(), v.to_string()));
        } else if let Some(k) = var.strip_suffix('-').filter(|k| !k.is_empty()) {
            unset.push(k.to_string());
        } else {
            return Err(Error::Usage(format!(
                "\"{var}\" is neither KEY=VALUE nor KEY- (for {} in namespace \"{}\")",
                first.display(),
                first.namespace
            )));
        }
    }
    let mut results = EachObject::new(targets.len());
    for target in targets {
        let written = set_env_on(cluster, profile, args, target, &set, &unset).await;
        results.record(written)?;
    }
    results.finish()
}

async fn set_env_on(
    cluster: &Cluster,
    profile: &Profile,
    args: &SetEnvArgs,
    target: Target<'_>,
    set: &[(String, String)],
    unset: &[String],
) -> Result<String> {
    let display = target.display();
    let namespace = target.namespace.clone();
    let only = args.container.clone();
    write_change(cluster, profile, RoleName::Dev, &args.write, target, "env updated", |doc, _| {
        if let Some(only) = &only {
            let names = project::named_containers(doc);
            if !names.contains(only) {
                return Err(Error::Usage(format!(
                    "{display} in namespace \"{namespace}\" has no container \"{only}\"; it has {}",
                    names.join(", ")
                )));
            }
        }
        // Without -c: every container, init containers included (as `kubectl set env`).
        for (name, c) in document_containers_mut(doc) {
            if only.as_ref().is_some_and(|o| o != name) {
                continue;
            }
            let Some(container) = c.as_object_mut() else { continue };
            match container.get_mut("env") {
                // The list form a document shows when a name appears twice: change it in place, so
                // the variables this command does not name stay as they are.
                Some(Value::Array(items)) => {
                    for (k, v) in set {
                        match items.iter_mut().find(|i| i["name"] == k.as_str()) {
                            Some(item) => *item = json!({"name": k, "value": v}),
                            None => items.push(json!({"name": k, "value": v})),
                        }
                    }
                    items.retain(|i| !unset.iter().any(|k| i["name"] == k.as_str()));
                }
                _ => {
                    let mut env = match container.remove("env") {
                        Some(Value::Object(env)) => env,
                        _ => Default::default(),
                    };
                    for (k, v) in set {
                        env.insert(k.clone(), Value::String(v.clone()));
                    }
                    for k in unset {
                        env.shift_remove(k);
                    }
                    container.insert("env".into(), Value::Object(env));
                }
            }
            if container.get("env").is_some_and(|e| e.as_object().is_some_and(|m| m.is_empty())) {
                container.remove("env");
            }
        }
        Ok(())
    })
    .await
}

pub async fn scale(cluster: &Cluster, profile: &Profile, args: &ScaleArgs) -> Result<String> {
    let (targets, _) = targets_then_values(profile, cluster, &args.target, &args.names, |_| false)?;
    if !(0..=i64::from(i32::MAX)).contains(&args.replicas) {
        return Err(Error::Usage(format!(
            "--replicas must be from 0 to {}, not {}",
            i32::MAX,
            args.replicas
        )));
    }
    // Every object must be scalable before any is written.
    let mut scalable = Vec::new();
    for target in targets {
        let field = replicas_field(profile, &target)?;
        scalable.push((target, field));
    }
    let mut results = EachObject::new(scalable.len());
    for (target, (trait_name, field)) in scalable {
        let replicas = args.replicas;
        let written =
            write_change(cluster, profile, RoleName::Ops, &args.write, target, "scaled", |doc, _| {
                let map = doc.as_object_mut().expect("a document is a mapping");
                let group = map.entry(trait_name).or_insert_with(|| Value::Object(Default::default()));
                group[&field] = Value::from(replicas);
                Ok(())
            })
            .await;
        results.record(written)?;
    }
    results.finish()
}

/// The trait and field that hold a kind's replica count, or why it cannot be scaled.
fn replicas_field(profile: &Profile, target: &Target<'_>) -> Result<(String, String)> {
    let found = profile.role(RoleName::Ops).object_traits(&target.kind.kind).find_map(|(t, fields)| {
        fields.iter().find(|f| f.autoscaled).map(|f| (t.to_string(), f.name.clone()))
    });
    let Some(found) = found else {
        let scalable: Vec<&str> = profile
            .kinds
            .iter()
            .filter(|k| {
                profile
                    .role(RoleName::Ops)
                    .object_traits(&k.kind)
                    .any(|(_, f)| f.iter().any(|f| f.autoscaled))
            })
            .map(|k| k.kind.as_str())
            .collect();
        return Err(Error::Usage(format!(
            "{} in namespace \"{}\" cannot be scaled: a {} has no replica count (scalable kinds: {})",
            target.display(),
            target.namespace,
            target.kind.kind,
            scalable.join(", ")
        )));
    };
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_full_manifest_is_recognised_and_shown_the_way_to_the_role_document() {
        let p = Profile::builtin();
        let manifest =
            json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"}, "spec": {}});
        let said = full_manifest(&p, RoleName::Dev, &manifest).unwrap();
        assert!(
            said.contains("`kubectl oam dev get deployment.apps/web` prints the role document"),
            "{said}"
        );
        let nameless = json!({"kind": "StatefulSet", "spec": {"replicas": 1}});
        assert!(
            full_manifest(&p, RoleName::Ops, &nameless)
                .unwrap()
                .contains("`kubectl oam ops get statefulset.apps/NAME`")
        );
        let role_doc = json!({"kind": "Deployment", "name": "web", "metadata": {"labels": {"a": "b"}}});
        assert_eq!(full_manifest(&p, RoleName::Ops, &role_doc), None);
        assert_eq!(
            full_manifest(&p, RoleName::Ops, &json!({"kind": "Deployment", "metadata": {"labels": {}}})),
            None
        );
        let configmap =
            json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {}});
        let said = full_manifest(&p, RoleName::Ops, &configmap).unwrap();
        assert!(said.starts_with("this is a ConfigMap manifest, not an ops role document, and kubectl oam works on workloads only (Deployment,"), "{said}");
        let list = json!({"apiVersion": "v1", "kind": "List", "items": []});
        let said = full_manifest(&p, RoleName::Dev, &list).unwrap();
        assert!(said.starts_with("this is a Kubernetes List (as `kubectl get -o yaml` prints several objects), not a dev role document;"), "{said}");
    }

    #[test]
    fn directories_give_their_yaml_and_json_files_in_order() {
        let dir = std::env::temp_dir().join(format!("oam-sources-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("sub")).unwrap();
        for f in ["b.yaml", "a.json", "notes.txt", "sub/c.yml"] {
            std::fs::write(dir.join(f), "").unwrap();
        }
        let names = |recursive| {
            expand_sources(std::slice::from_ref(&dir), recursive)
                .unwrap()
                .iter()
                .map(|p| p.strip_prefix(&dir).unwrap().display().to_string())
                .collect::<Vec<_>>()
        };
        assert_eq!(names(false), ["a.json", "b.yaml"]);
        assert_eq!(names(true), ["a.json", "b.yaml", "sub/c.yml"]);
        let twice = [PathBuf::from("-"), PathBuf::from("-")];
        assert!(matches!(expand_sources(&twice, false), Err(Error::Usage(_))));
        let empty = dir.join("sub/empty");
        std::fs::create_dir_all(&empty).unwrap();
        assert!(matches!(expand_sources(&[empty], false), Err(Error::Usage(_))));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn documents_split_on_separators_and_arrays() {
        let docs =
            parse_documents("kind: Deployment\nname: a\n---\nkind: Deployment\nname: b\n", "f").unwrap();
        assert_eq!(docs.len(), 2);
        let docs = parse_documents("[{\"kind\": \"Deployment\", \"name\": \"a\"}]", "f").unwrap();
        assert_eq!(docs[0].value["name"], "a");
        assert!(parse_documents("", "f").unwrap_err().to_string().contains("no documents"));
        let err = parse_documents("kind: [\n", "f.yaml").unwrap_err().to_string();
        assert!(err.starts_with("f.yaml: line 1 column 7: invalid YAML"), "{err}");
    }

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

    #[test]
    fn releasing_is_owning_less() {
        let entry =
            |fields: Value| json!({"metadata": {"managedFields": [{"manager": "m", "fieldsV1": fields}]}});
        let both = entry(json!({"f:spec": {"f:replicas": {}, "f:paused": {}}}));
        let one = entry(json!({"f:spec": {"f:replicas": {}}}));
        assert!(releases_ownership(&both, &one, "m"));
        assert!(!releases_ownership(&one, &both, "m"), "taking more is not releasing");
        assert!(!releases_ownership(&one, &one, "m"));
        assert!(releases_ownership(&one, &json!({}), "m"));
        assert!(!releases_ownership(&json!({}), &one, "m"));
    }

    #[test]
    fn bookkeeping_is_not_a_change() {
        let a = json!({"metadata": {"resourceVersion": "1", "managedFields": [{"manager": "x", "time": "t1"}]}, "spec": {"replicas": 1}});
        let b = json!({"metadata": {"resourceVersion": "2", "managedFields": [{"manager": "x", "time": "t2"}]}, "spec": {"replicas": 1}});
        assert_eq!(comparable(&a), comparable(&b));
        // Ownership alone is not a value change (`Plan::releases` covers that).
        let c = json!({"metadata": {"managedFields": [{"manager": "x"}, {"manager": "y"}]}, "spec": {"replicas": 1}});
        assert_eq!(comparable(&a), comparable(&c));
        let d = json!({"metadata": {"resourceVersion": "1"}, "spec": {"replicas": 2}});
        assert_ne!(comparable(&a), comparable(&d));
    }

    #[test]
    fn the_deployment_controllers_annotations_are_not_a_change() {
        let live = json!({"metadata": {"annotations": {"team": "a"}}, "spec": {"replicas": 1}});
        let rolled = json!({"metadata": {"annotations": {"team": "a", "deployment.kubernetes.io/revision": "2"}}, "spec": {"replicas": 1}});
        assert_eq!(spec_of(&live), spec_of(&rolled));
        let relabelled = json!({"metadata": {"annotations": {"team": "b"}}, "spec": {"replicas": 1}});
        assert_ne!(spec_of(&live), spec_of(&relabelled));
    }
}
