//! The write pipeline: a server-side dry-run of what `core::write` decided (the plan a diff shows),
//! then the commit: forced removals by a guarded JSON patch, the apply, the autoscaler's part, each
//! decided again (bounded, with backoff) when the object changed in between.

use kube::api::{Patch, PatchParams};
use serde_json::{Value, json};

use crate::cluster::client::{Cluster, conflicts_from_status};
use crate::cluster::{fetch, reconcile};
use crate::core::hpa::{self, Autoscaler};
use crate::core::hpa_write;
use crate::core::ownership;
use crate::core::ownership::WritePlan;
use crate::core::project::{self, ViewOptions};
use crate::core::reconciler;
use crate::core::related_write::{self, RelatedWrite};
use crate::core::write::{
    Live, Writer, autoscaler_override, build, locally_applied, outside_role, refuse_controlled,
    refuse_too_large, releases_ownership, removal_patch, same_own_entries, same_request, spec_of,
    without_base,
};
use crate::error::{Error, FieldConflict, Result};
use crate::format::{diff, output};
use crate::model::managed::managed_entries;
use crate::model::object;
use crate::model::roles::{CONTAINER_LISTS, KindInfo, Profile, RoleName};
use crate::model::target::Target;

/// A write that the server has accepted in a dry-run.
#[derive(Debug, Clone)]
pub struct Plan {
    pub label: String,
    /// What the write sends, and the versions it was decided from.
    pub decided: Decided,
    /// The role document as the dry-run left it.
    pub after_doc: Value,
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
    /// What the autoscaler will do with the count the write forces on it.
    pub autoscaler_override: Option<String>,
    /// File name for an external diff.
    pub diff_name: String,
    /// The write to the workload's HorizontalPodAutoscaler (the ops `autoscaler` section), when the
    /// document changes it: committed with the workload's, after one confirmation.
    pub autoscaler: Option<AutoscalerWrite>,
    /// What the reconcilers of the object and of its autoscaler (Flux, Argo CD, helm…) will do to
    /// this write, when it matters: warning lines.
    pub reconciler: Vec<String>,
    /// Made here, without the server's dry-run (`--dry-run=client`); never committed.
    pub client_side: bool,
    /// The writes to objects around the workload (Services, PDBs…) the dry-run accepted.
    pub related: Vec<related::RelatedOutcome>,
}

/// The autoscaler's part of a plan, accepted by the server in a dry-run (what it sends is
/// `Decided::autoscaler`).
#[derive(Debug, Clone)]
pub struct AutoscalerWrite {
    pub changes_values: bool,
    pub releases: bool,
}

/// What a write sends, decided from one version of the object (and of its HPA) by the ownership
/// rules, before the server is asked: pure, so deciding again after a race costs no request.
#[derive(Debug, Clone)]
pub struct Decided {
    pub plan: WritePlan,
    /// The server-side apply body.
    pub body: Value,
    /// Removals another manager also holds, forced: a JSON patch (with the changes beside them) sent
    /// before the apply.
    pub removal: Option<Value>,
    /// The live object it was decided from.
    pub basis: Value,
    /// The autoscaler's part, when the document speaks for the workload's HPA.
    pub autoscaler: Option<DecidedAutoscaler>,
    /// The related objects' part: one write per object its sections name.
    pub related: Vec<RelatedWrite>,
}

/// The autoscaler's part of a decision, as the workload's.
#[derive(Debug, Clone)]
pub struct DecidedAutoscaler {
    pub name: String,
    pub plan: WritePlan,
    pub body: Value,
    pub removal: Option<Value>,
    /// The live HPA it was decided from.
    pub basis: Value,
}

impl DecidedAutoscaler {
    /// Does the document change anything on the HPA (a value, or what the role owns there)?
    fn writes(&self) -> bool {
        !self.plan.changed.is_empty() || self.plan.releases
    }
}

/// Decides what `doc` sends to `live` (and to its HPA); refusals are errors.
fn decide(profile: &Profile, writer: &Writer, live: &Live<'_>, doc: &Value) -> Result<Decided> {
    let (plan, body) = build(profile, writer, live, doc)?;
    let live_units = ownership::units(profile, writer.role, live.target.kind, &live.object);
    let removal = removal_patch(&plan, &live_units, &live.object);
    let autoscaler = match (hpa_write::build(profile, writer, live, doc)?, &live.autoscaler) {
        (Some((plan, body)), Some(hpa)) => Some(DecidedAutoscaler {
            name: hpa.name.clone(),
            removal: removal_patch(&plan, &hpa::units(&hpa.object), &hpa.object),
            plan,
            body,
            basis: hpa.object.clone(),
        }),
        _ => None,
    };
    let related = related_write::build(profile, writer, live, doc)?;
    Ok(Decided { plan, body, removal, basis: live.object.clone(), autoscaler, related })
}

impl Decided {
    /// Does this decision (from a newer version) make the same requests as `earlier`, but for the
    /// resourceVersions they carry? Then `earlier`, already accepted by the server's dry-run, may be
    /// sent at the newer version without asking again (a rebase). It holds when every field the
    /// write sends (set now, or re-asserted because the role owns it) has the same value, removals
    /// address the same places, and the manager holds the same fields as then: a colleague's write
    /// under the same manager, or any change to what the write sends, is decided again in full.
    /// Everything else others changed stays theirs: server-side apply merges by field.
    fn same_requests(&self, earlier: &Decided, manager: &str) -> bool {
        let same_patch = |a: &Option<Value>, b: &Option<Value>| match (a, b) {
            (None, None) => true,
            (Some(a), Some(b)) => same_request(a, b),
            _ => false,
        };
        let workload = same_request(&self.body, &earlier.body)
            && same_patch(&self.removal, &earlier.removal)
            && same_own_entries(&self.basis, &earlier.basis, manager);
        let autoscaler = match (self.autoscaler_write(), earlier.autoscaler_write()) {
            (None, None) => true,
            (Some(now), Some(then)) => {
                now.name == then.name
                    && same_request(&now.body, &then.body)
                    && same_patch(&now.removal, &then.removal)
                    && same_own_entries(&now.basis, &then.basis, manager)
            }
            _ => false,
        };
        workload && autoscaler && related::same_requests(&self.related, &earlier.related, manager)
    }

    /// The autoscaler's part, when it changes anything there.
    fn autoscaler_write(&self) -> Option<&DecidedAutoscaler> {
        self.autoscaler.as_ref().filter(|a| a.writes())
    }
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
        self.workload_needs_write()
            || self.autoscaler.as_ref().is_some_and(AutoscalerWrite::needs_write)
            || self.related.iter().any(related::RelatedOutcome::needs_write)
    }

    fn workload_needs_write(&self) -> bool {
        self.changes_values || self.releases
    }

    fn releases_only(&self) -> bool {
        self.releases
            || self.autoscaler.as_ref().is_some_and(|a| a.releases)
            || self.related.iter().any(|r| r.releases)
    }

    /// Says which removals will not happen, which change will not stay (the autoscaler's count,
    /// what the object's reconciler puts back), and why.
    pub fn warn_kept(&self) {
        for message in &self.reconciler {
            eprintln!("warning: {message}");
        }
        for path in &self.unowned {
            eprintln!(
                "warning: {path} stays: no field manager owns it (the server sets it by default); see `{}`",
                crate::error::suggest(
                    &format!("owners {}", self.label),
                    self.decided.body["metadata"]["namespace"].as_str().unwrap_or_default()
                )
            );
        }
        if let Some(text) = &self.autoscaler_override {
            eprintln!("warning: {text}");
        }
    }

    pub fn diff(&self, colour: bool) -> String {
        let after = match self.client_side {
            true => diff::CLIENT_SIDE,
            false => "after apply",
        };
        let text = diff::unified_as(&self.before, &self.after, &self.label, after, colour);
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

/// Decides the write for `doc` and asks the server what it would do (dry-run), then what the
/// object's reconciler will do to it. When the object changed since `live` was read (a race, not a
/// conflict), it is read again and the write decided again: changes made by others in between are
/// kept, never reported as conflicts.
pub async fn plan(
    cluster: &Cluster,
    profile: &Profile,
    writer: &Writer,
    live: &Live<'_>,
    doc: &Value,
) -> Result<Plan> {
    let mut plan = plan_racing(cluster, profile, writer, live, doc).await?;
    plan.reconciler = reconciled(cluster, profile, writer, &plan).await?;
    plan.reconciler.extend(related::shared(cluster, profile, &plan).await);
    Ok(plan)
}

/// What the reconcilers of the object and of its autoscaler will do to the planned write: a
/// refusal when one certainly puts the write back at once (unless `--until-reconciled`, or a
/// dry-run), else the warnings to print.
async fn reconciled(
    cluster: &Cluster,
    profile: &Profile,
    writer: &Writer,
    plan: &Plan,
) -> Result<Vec<String>> {
    let basis = &plan.decided.basis;
    let Some(kind) = basis["kind"].as_str().and_then(|k| profile.kind(k).ok()) else { return Ok(Vec::new()) };
    let namespace = basis["metadata"]["namespace"].as_str().unwrap_or_default().to_string();
    let units = ownership::units(profile, writer.role, kind, basis);
    let changed = &plan.decided.plan.changed;
    let workload = reconcile::judge(cluster, kind, basis, &units, changed, &writer.manager, writer.force);
    let autoscaler = async {
        let hpa = plan.decided.autoscaler_write()?;
        let units = hpa::units(&hpa.basis);
        reconcile::judge(
            cluster,
            &hpa::KIND,
            &hpa.basis,
            &units,
            &hpa.plan.changed,
            &writer.manager,
            writer.force,
        )
        .await
    };
    let related = related::judged(cluster, profile, writer, plan, &namespace);
    let (workload, autoscaler, related) = tokio::join!(workload, autoscaler, related);
    let suggest = |words: &str| crate::error::suggest(words, &namespace);
    let mut warnings = Vec::new();
    let judged = [
        (workload, plan.label.clone(), false),
        (autoscaler, format!("{} (its autoscaler)", plan.label), false),
    ];
    for (verdict, object, around) in judged.into_iter().chain(related) {
        let Some(verdict) = verdict else { continue };
        let named = format!("{object} in namespace \"{namespace}\"");
        let mut ways = reconciler::ways_forward(&verdict, writer.role.as_str(), &plan.label, &suggest);
        if around {
            // `gitops` speaks for the workload's fields, not for the objects around it.
            ways.retain(|w| !w.contains(" gitops "));
        }
        let message = reconciler::message(&verdict, &named, &writer.manager, &ways);
        match (verdict.certain(), writer.until_reconciled, writer.dry_run) {
            (true, false, false) => {
                return Err(Error::Reconciled(format!(
                    "{message}; nothing was applied (pass --until-reconciled to write it until then)"
                )));
            }
            (true, false, true) => {
                warnings.push(format!("{message}; without --until-reconciled the write is refused"))
            }
            _ => warnings.push(message),
        }
    }
    Ok(warnings)
}

async fn plan_racing(
    cluster: &Cluster,
    profile: &Profile,
    writer: &Writer,
    live: &Live<'_>,
    doc: &Value,
) -> Result<Plan> {
    refuse_controlled(profile, writer.role, live)?;
    let mut current = live.clone();
    let mut race = Race::default();
    loop {
        match plan_once(cluster, profile, writer, &current, doc).await {
            Err(e @ (Error::Changed { .. } | Error::Conflict { .. })) => {
                // The pause comes before the read: the version the write is sent at is as fresh as
                // it can be.
                if !race.again().await {
                    return Err(e);
                }
                let again =
                    fetch::read_for_document(cluster, profile, writer.role, current.target.clone(), doc)
                        .await?;
                // A conflict that the same write meets at the newer version stands.
                if matches!(e, Error::Conflict { .. })
                    && decide(profile, writer, &again, doc)?
                        .same_requests(&decide(profile, writer, &current, doc)?, &writer.manager)
                {
                    return Err(e);
                }
                current = again;
            }
            other => return other,
        }
    }
}

/// Retries of a write that other writers keep racing: bounded, the first ones at once, then after a
/// growing, jittered pause.
#[derive(Default)]
struct Race {
    attempts: u32,
}

/// How often a write is sent again (rebased or decided again) when the object keeps changing under
/// it. Each try is a read and one request; controllers write status in bursts (a rollout), so the
/// tries spread over a few seconds.
const RACE_ATTEMPTS: u32 = 60;

impl Race {
    /// Waits before the next try; false when the tries are spent.
    async fn again(&mut self) -> bool {
        if self.attempts >= RACE_ATTEMPTS {
            return false;
        }
        self.attempts += 1;
        tokio::time::sleep(backoff(self.attempts)).await;
        true
    }
}

/// The pause before try `attempt` (from 1): none for the first three, then from 10 ms doubling to
/// 200 ms, between half of that and all of it (at random, so that writers that collided once do not
/// collide again in step).
fn backoff(attempt: u32) -> std::time::Duration {
    use std::hash::{BuildHasher, Hasher};
    if attempt <= 3 {
        return std::time::Duration::ZERO;
    }
    let cap = (10u64 << (attempt - 4).min(5)).min(200);
    let mut random = std::collections::hash_map::RandomState::new().build_hasher();
    random.write_u32(attempt);
    std::time::Duration::from_millis(cap / 2 + random.finish() % (cap / 2 + 1))
}

async fn plan_once(
    cluster: &Cluster,
    profile: &Profile,
    writer: &Writer,
    live: &Live<'_>,
    doc: &Value,
) -> Result<Plan> {
    let kind = live.target.kind;
    let decided = decide(profile, writer, live, doc)?;
    // With forced removals, everything that changes goes in one guarded JSON patch (a removal often
    // only validates together with the change beside it); the apply after it then changes no value
    // and records the role's ownership. Without, the apply alone.
    if let Some(patch) = &decided.removal {
        refuse_too_large(&live.target, patch)?;
    }
    let forced = decided.removal.is_some();
    let (applied, result) = match &decided.removal {
        Some(patch) => {
            let mut result =
                remove_fields(cluster, profile, writer, &live.target, patch, true, &live.object).await?;
            result["apiVersion"] = json!(kind.api_version);
            result["kind"] = json!(kind.kind);
            (result.clone(), result)
        }
        None => {
            let applied =
                send_once(cluster, profile, writer, &live.target, &decided.body, true, &live.object).await?;
            (applied.clone(), applied)
        }
    };
    // The autoscaler's part: asked of the server only when it changes something there.
    let mut autoscaler_write = None;
    let mut autoscaler_unowned = Vec::new();
    let mut after_autoscaler = live.autoscaler.clone();
    if let (Some(hpa_decided), Some(hpa)) = (&decided.autoscaler, &live.autoscaler) {
        autoscaler_unowned.clone_from(&hpa_decided.plan.unowned);
        if hpa_decided.writes() {
            let hpa_target = hpa_write::target(live, hpa);
            let hpa_result = match &hpa_decided.removal {
                Some(patch) => {
                    let mut result =
                        remove_fields(cluster, profile, writer, &hpa_target, patch, true, &hpa.object)
                            .await?;
                    result["apiVersion"] = json!(hpa::KIND.api_version);
                    result["kind"] = json!(hpa::KIND.kind);
                    result
                }
                None => {
                    send_once(cluster, profile, writer, &hpa_target, &hpa_decided.body, true, &hpa.object)
                        .await?
                }
            };
            let outside = hpa::outside_section;
            let changed_outside = object::differing_paths(&outside(&hpa.object), &outside(&hpa_result));
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
                changes_values: spec_of(&hpa.object) != spec_of(&hpa_result),
                releases: hpa_decided.plan.releases
                    || (hpa_decided.removal.is_none()
                        && releases_ownership(&hpa.object, &hpa_result, &writer.manager)),
            });
            after_autoscaler = Some(Autoscaler::of(&hpa_result));
        }
    }
    // The guard behind the role split: whatever the body or the field manager, a role's write may
    // not change anything outside the role's fields.
    // Status and keys that only tools, controllers and the server write (a DaemonSet's template
    // generation) are bookkeeping, not fields anyone edits.
    let outside = |obj: &Value| outside_role(profile, writer.role, kind, obj);
    let changed_outside = object::differing_paths(&outside(&live.object), &outside(&result));
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
    let releases =
        decided.plan.releases || (!forced && releases_ownership(&live.object, &applied, &writer.manager));
    let (related, related_after) = related::dry_run(
        cluster,
        profile,
        writer,
        &live.target.namespace,
        &decided.related,
        live.related.as_ref(),
    )
    .await?;
    let autoscaler = Outcome {
        write: autoscaler_write,
        after: after_autoscaler,
        unowned: autoscaler_unowned,
        related,
        related_after,
    };
    finished(profile, writer, live, doc, decided, &result, releases, autoscaler, false)
}

/// [`plan`], or with `client_side` (`--dry-run=client`) [`plan_locally`].
pub async fn plan_as(
    cluster: &Cluster,
    profile: &Profile,
    writer: &Writer,
    live: &Live<'_>,
    doc: &Value,
    client_side: bool,
) -> Result<Plan> {
    match client_side {
        true => plan_locally(profile, writer, live, doc),
        false => plan(cluster, profile, writer, live, doc).await,
    }
}

/// `--dry-run=client`: the plan made from the live object alone, with no request. The write is
/// decided by the same rules (the same refusals), and its result worked out here: what the
/// server would add (defaults, admission, a conflict with another manager) is not in it.
pub fn plan_locally(profile: &Profile, writer: &Writer, live: &Live<'_>, doc: &Value) -> Result<Plan> {
    refuse_controlled(profile, writer.role, live)?;
    let decided = decide(profile, writer, live, doc)?;
    let result = locally_applied(&live.object, &decided.plan);
    let mut autoscaler_write = None;
    let mut autoscaler_unowned = Vec::new();
    let mut after_autoscaler = live.autoscaler.clone();
    if let (Some(hpa_decided), Some(hpa)) = (&decided.autoscaler, &live.autoscaler) {
        autoscaler_unowned.clone_from(&hpa_decided.plan.unowned);
        if hpa_decided.writes() {
            let hpa_result = locally_applied(&hpa.object, &hpa_decided.plan);
            autoscaler_write = Some(AutoscalerWrite {
                changes_values: spec_of(&hpa.object) != spec_of(&hpa_result),
                releases: hpa_decided.plan.releases,
            });
            after_autoscaler = Some(Autoscaler::of(&hpa_result));
        }
    }
    let releases = decided.plan.releases;
    let (related, related_after) = related::locally(&decided.related, live.related.as_ref());
    let autoscaler = Outcome {
        write: autoscaler_write,
        after: after_autoscaler,
        unowned: autoscaler_unowned,
        related,
        related_after,
    };
    finished(profile, writer, live, doc, decided, &result, releases, autoscaler, true)
}

/// The autoscaler's part of a plan: its write, the HPA after it, the removals it cannot make.
struct Outcome {
    write: Option<AutoscalerWrite>,
    after: Option<Autoscaler>,
    unowned: Vec<String>,
    /// The related objects' writes, and the objects after them.
    related: Vec<related::RelatedOutcome>,
    related_after: Option<crate::core::related::Related>,
}

/// The plan of `decided`, whose result (by the server's dry-run, or worked out here) is `result`.
#[allow(clippy::too_many_arguments)]
fn finished(
    profile: &Profile,
    writer: &Writer,
    live: &Live<'_>,
    doc: &Value,
    decided: Decided,
    result: &Value,
    releases: bool,
    autoscaler: Outcome,
    client_side: bool,
) -> Result<Plan> {
    let kind = live.target.kind;
    let before = output::yaml(&without_base(live.document(profile, writer.role, None)))?;
    let after_view = ViewOptions {
        container: None,
        autoscaler: autoscaler.after.as_ref(),
        related: autoscaler.related_after.as_ref(),
    };
    let after_doc = without_base(project::document(profile, writer.role, kind, result, &after_view));
    let after = output::yaml(&after_doc)?;
    Ok(Plan {
        label: live.target.display(),
        after_doc,
        doc: doc.clone(),
        before,
        after,
        changes_values: spec_of(&live.object) != spec_of(result),
        releases,
        unowned: decided
            .plan
            .unowned
            .iter()
            .cloned()
            .chain(autoscaler.unowned)
            .chain(decided.related.iter().flat_map(|r| r.plan.unowned.iter().cloned()))
            .collect(),
        autoscaler_override: autoscaler_override(
            &decided.plan,
            hpa::autoscaled_label(profile, writer.role, kind).as_deref(),
            live.autoscaler.as_ref(),
            &live.target.display(),
        ),
        diff_name: diff_file_name(kind, &live.target),
        autoscaler: autoscaler.write,
        decided,
        reconciler: Vec::new(),
        client_side,
        related: autoscaler.related,
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
            let conflicts: Vec<FieldConflict> = conflicts_from_status(&status)
                .into_iter()
                .map(|c| FieldConflict {
                    field: field_label(profile, target.kind, &c.field, body)
                        .or_else(|| related_write::label(profile, target.kind, &target.name, &c.field))
                        .unwrap_or(c.field),
                    note: hpa::scaled_for_autoscaler(basis, &c.manager),
                    manager: c.manager,
                })
                .collect();
            // helm 4 applies its chart with server-side apply: fields taken from it make its next
            // upgrade conflict, until they are handed back. (helm 3 updates: it never conflicts.)
            let helm_applies =
                managed_entries(basis).iter().any(|e| e.manager == "helm" && e.operation == "Apply");
            let hint = match helm_applies && conflicts.iter().any(|c| c.manager == "helm") {
                true => format!(
                    " (a take-over blocks helm's next upgrade on these fields until `{}` hands them back)",
                    crate::error::suggest(
                        &format!("{} release {} --to helm", writer.role, target.display()),
                        &target.namespace
                    )
                ),
                false => String::new(),
            };
            Err(Error::Conflict {
                object: format!("{} in namespace \"{}\"", target.display(), target.namespace),
                conflicts,
                hint,
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
fn field_label(profile: &Profile, kind: &KindInfo, server_field: &str, body: &Value) -> Option<String> {
    if kind.kind == hpa::KIND.kind {
        return hpa::label(server_field);
    }
    crate::model::roles::document_label(profile, kind, server_field)
        .or_else(|| crate::model::roles::split::split_item_label(profile, kind, server_field, body))
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
        field_label(profile, kind, &path, body).unwrap_or_else(|| field.to_string())
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
/// object changed since the plan was made, the same requests are sent at the new version when they
/// still are the write decided from it (`Decided::same_requests`); else the write is decided again
/// from the new version, with a new dry-run. Either way a racing writer's change is kept and the
/// user's change still lands, or is refused by the same rules as before (bounded, with backoff).
pub async fn commit(
    cluster: &Cluster,
    profile: &Profile,
    writer: &Writer,
    target: &Target<'_>,
    plan: &Plan,
) -> Result<()> {
    let mut plan = plan.clone();
    let mut race = Race::default();
    loop {
        let mut err = match commit_once(cluster, profile, writer, target, &plan).await {
            Err(e @ (Error::Changed { .. } | Error::Conflict { .. })) => e,
            other => return other,
        };
        // Until there is a plan for the version now (a dry-run may race too). The pause comes
        // before the read: the version the write is sent at is as fresh as it can be.
        loop {
            if !race.again().await {
                return Err(err);
            }
            let live =
                fetch::read_for_document(cluster, profile, writer.role, target.clone(), &plan.doc).await?;
            let now = decide(profile, writer, &live, &plan.doc)?;
            if now.same_requests(&plan.decided, &writer.manager) {
                // A conflict that the same requests meet at the newer version stands.
                if matches!(err, Error::Conflict { .. }) {
                    return Err(err);
                }
                plan.decided = now;
                break;
            }
            match plan_once(cluster, profile, writer, &live, &plan.doc).await {
                Ok(fresh) if !fresh.needs_write() => return Ok(()),
                Ok(fresh) => {
                    plan = fresh;
                    break;
                }
                Err(e @ (Error::Changed { .. } | Error::Conflict { .. })) => err = e,
                Err(e) => return Err(e),
            }
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
    let decided = &plan.decided;
    if plan.workload_needs_write() {
        let mut body = decided.body.clone();
        if let Some(patch) = &decided.removal {
            let after = remove_fields(cluster, profile, writer, target, patch, false, &decided.basis).await?;
            body["metadata"]["resourceVersion"] = after["metadata"]["resourceVersion"].clone();
        }
        send_once(cluster, profile, writer, target, &body, false, &decided.basis).await?;
    }
    // Then the autoscaler: a failure here leaves the workload's part applied, and the retry in
    // `commit` decides again from both objects as they are.
    let hpa_write = plan.autoscaler.as_ref().filter(|a| a.needs_write());
    if let (Some(hpa), Some(_)) = (&decided.autoscaler, hpa_write) {
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
    // Then the objects around it, one write each.
    related::commit(cluster, profile, writer, target, &decided.related, &plan.related).await
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

/// Creates (or updates) an object by server-side apply (`ops autoscale`'s HPA, `ops expose`'s
/// Service, `ops disruption-budget`'s PDB: the objects kubectl-oam creates when asked), or asks the
/// server what it would create.
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

pub mod objects;
mod related;
#[cfg(test)]
mod tests;
