//! Role-scoped writes: every write is a server-side apply of the role's fields only, under the role's
//! field manager, planned first with a server-side dry-run so the diff shows what will really happen.

use std::path::Path;

use kube::api::{Patch, PatchParams};
use serde_json::Value;

use crate::cli::{ApplyArgs, DiffArgs, ScaleArgs, SetEnvArgs, SetImageArgs, WriteFlags};
use crate::cluster::{Cluster, conflicts_from_status};
use crate::diff;
use crate::error::{Error, FieldConflict, Result};
use crate::output;
use crate::project::{self, ApplyOptions, Autoscaler, DocProblem, ViewOptions};
use crate::roles::{KindInfo, Profile, RoleName};
use crate::view::{self, Target};

/// How a role writes: its manager, and whether it may take fields over.
#[derive(Debug, Clone)]
pub struct Writer {
    pub role: RoleName,
    pub manager: String,
    pub force: bool,
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
        Ok(Writer { role, manager, force })
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
    /// The role document as the dry-run left it.
    pub after_doc: Value,
    /// The live object the plan was made from.
    pub basis: Value,
    /// The role document of the live object and of the dry-run result.
    pub before: String,
    pub after: String,
    /// Do field values change on the server?
    pub changes_values: bool,
    /// Does the write give up a field this manager owns (a removal that another manager's
    /// ownership keeps in place)? Writes that change no value and release nothing are skipped:
    /// get → apply unchanged is a no-op, not an ownership grab.
    pub releases: bool,
    /// Fields the document leaves out that stay on the server (another manager owns them).
    pub kept: Vec<String>,
    /// File name for an external diff.
    pub diff_name: String,
}

impl Plan {
    /// Changing values, or only ownership (a field released while another manager keeps it).
    pub fn needs_write(&self) -> bool {
        self.changes_values || self.releases
    }

    /// Says which removals the server will not carry out, and why.
    pub fn warn_kept(&self) {
        for path in &self.kept {
            eprintln!(
                "warning: {path} stays: another field manager still owns it (see `kubectl oam owners {}`)",
                self.label
            );
        }
    }

    pub fn diff(&self, colour: bool) -> String {
        let text = diff::unified(&self.before, &self.after, &self.label, colour);
        if text.is_empty() && self.releases {
            format!("{} : no field values change; only field ownership (managedFields) does\n", self.label)
        } else {
            text
        }
    }
}

/// The live object a document is about, with the HPA that targets it.
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
}

/// Problems in a document, one line each.
pub fn problems_error(problems: Vec<DocProblem>) -> Error {
    Error::Problems(problems.into_iter().map(|p| p.0).collect())
}

/// Builds the apply body for `doc` and asks the server what it would do (dry-run).
pub async fn plan(
    cluster: &Cluster,
    profile: &Profile,
    writer: &Writer,
    live: &Live<'_>,
    doc: &Value,
) -> Result<Plan> {
    let kind = live.target.kind;
    let opts = ApplyOptions {
        autoscaler: live.autoscaler.as_ref(),
        force: writer.force,
        manager: Some(&writer.manager),
    };
    let built =
        project::apply_body(profile, writer.role, kind, &live.object, doc, &opts).map_err(problems_error)?;
    if built.autoscaler_conflict {
        let hpa = live.autoscaler.as_ref().expect("a conflict needs an autoscaler");
        return Err(Error::HeldByAutoscaler {
            object: format!("{} in namespace \"{}\"", live.target.display(), live.target.namespace),
            hpa: hpa.name.clone(),
            min: hpa.min_replicas.map_or("?".into(), |v| v.to_string()),
            max: hpa.max_replicas.map_or("?".into(), |v| v.to_string()),
        });
    }
    let result = send(cluster, profile, writer, &live.target, &built.body, true, &live.object).await?;
    let before = output::yaml(&live.document(profile, writer.role, None))?;
    let after_view = ViewOptions { container: None, autoscaler: live.autoscaler.as_ref() };
    let after_doc = project::document(profile, writer.role, kind, &result, &after_view);
    let after = output::yaml(&after_doc)?;
    // The guard behind the role split: whatever the body or the field manager, a role's write may
    // not change anything outside the role's fields.
    // Status and keys that only tools, controllers and the server write (a DaemonSet's template
    // generation) are bookkeeping, not fields anyone edits.
    let outside = |obj: &Value| {
        let obj = project::without_role_fields(profile, writer.role, kind, obj);
        spec_of(&project::without_tool_keys(profile, kind, &obj))
    };
    let changed_outside = project::differing_paths(&outside(&live.object), &outside(&result));
    if !changed_outside.is_empty() {
        return Err(Error::Api {
            message: format!(
                "this {} write to {} in namespace \"{}\" would also change fields outside the {} role ({}); nothing was applied",
                writer.role,
                live.target.display(),
                live.target.namespace,
                writer.role,
                changed_outside.join(", ")
            ),
        });
    }
    let kept = project::kept_paths(doc, &after_doc);
    Ok(Plan {
        label: live.target.display(),
        body: built.body,
        after_doc,
        basis: live.object.clone(),
        before,
        after,
        changes_values: spec_of(&live.object) != spec_of(&result),
        releases: releases_ownership(&live.object, &result, &writer.manager),
        kept,

        diff_name: diff_file_name(kind, &live.target),
    })
}

/// Sends the apply (`dry_run`: the server answers without persisting). `basis` is the object the
/// body was built from: when only its status changed since (controllers write status all the
/// time), the apply is retried with the new resourceVersion; when anything else changed, it is
/// refused.
async fn send(
    cluster: &Cluster,
    profile: &Profile,
    writer: &Writer,
    target: &Target<'_>,
    body: &Value,
    dry_run: bool,
    basis: &Value,
) -> Result<Value> {
    let mut body = body.clone();
    // A rolling workload's status changes several times a second: back off (0.1 s, doubling).
    for attempt in 0..5 {
        match send_once(cluster, profile, writer, target, &body, dry_run).await {
            Err(Error::Changed { object }) => {
                tokio::time::sleep(std::time::Duration::from_millis(100 << attempt)).await;
                let now = view::fetch(cluster, target).await?;
                if spec_of(&now) != spec_of(basis) {
                    return Err(Error::Changed { object });
                }
                body["metadata"]["resourceVersion"] = now["metadata"]["resourceVersion"].clone();
            }
            other => return other,
        }
    }
    Err(Error::Changed { object: format!("{} in namespace \"{}\"", target.display(), target.namespace) })
}

/// Does `manager` own less in `after` than in `before`?
fn releases_ownership(before: &Value, after: &Value, manager: &str) -> bool {
    let fields = |obj: &Value| {
        crate::owners::managed_entries(obj)
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

async fn send_once(
    cluster: &Cluster,
    profile: &Profile,
    writer: &Writer,
    target: &Target<'_>,
    body: &Value,
    dry_run: bool,
) -> Result<Value> {
    let api = view::workload_api(cluster, target.kind, Some(&target.namespace));
    match api.patch(&target.name, &writer.params(dry_run), &Patch::Apply(body)).await {
        Ok(obj) => {
            let mut value = serde_json::to_value(obj).unwrap_or(Value::Null);
            value["apiVersion"] = Value::String(target.kind.api_version.clone());
            value["kind"] = Value::String(target.kind.kind.clone());
            Ok(value)
        }
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
                    field: project::document_label(profile, target.kind, &c.field).unwrap_or(c.field),
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
                rejection(&status)
            )))
        }
        Err(err) => Err(cluster.error(err, &target.action())),
    }
}

/// The server's reasons, one per field, without the multi-kilobyte dumps of whole objects that some
/// carry ("Invalid value: core.PodTemplateSpec{…}: field is immutable").
fn rejection(status: &kube::core::Status) -> String {
    let shorten = |text: &str| {
        if text.len() > 200 { text.rsplit(": ").next().unwrap_or(text).to_string() } else { text.to_string() }
    };
    let causes: Vec<String> = status
        .details
        .iter()
        .flat_map(|d| &d.causes)
        .map(|c| match c.field.as_str() {
            "" => shorten(&c.message),
            field => format!("{field}: {}", shorten(&c.message)),
        })
        .collect();
    if causes.is_empty() { shorten(&status.message) } else { causes.join("; ") }
}

/// Applies a plan for real (the body the dry-run accepted).
pub async fn commit(
    cluster: &Cluster,
    profile: &Profile,
    writer: &Writer,
    target: &Target<'_>,
    plan: &Plan,
) -> Result<()> {
    send(cluster, profile, writer, target, &plan.body, false, &plan.basis).await.map(|_| ())
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

/// Splits a file of role documents ("---" separated; a JSON array also works) into values.
pub fn parse_documents(text: &str, source: &str) -> Result<Vec<Value>> {
    use serde::Deserialize;
    let mut docs = Vec::new();
    for de in serde_yaml::Deserializer::from_str(text) {
        let value = serde_yaml::Value::deserialize(de)
            .map_err(|e| e.to_string())
            .and_then(output::parse_yaml)
            .map_err(|e| Error::Document(format!("{source}: invalid YAML: {e}")))?;
        match value {
            Value::Null => {}
            Value::Array(items) => docs.extend(items),
            other => docs.push(other),
        }
    }
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

/// The workload a document names; its namespace wins over the context's, but not over -n.
pub fn document_target<'p>(
    profile: &'p Profile,
    cluster: &Cluster,
    explicit_ns: Option<&str>,
    doc: &Value,
    source: &str,
) -> Result<Target<'p>> {
    let kind_name = doc["kind"].as_str().ok_or_else(|| {
        Error::Document(format!("{source}: a role document needs `kind` (e.g. Deployment) and `name`"))
    })?;
    let name = doc["name"]
        .as_str()
        .filter(|n| !n.is_empty())
        .ok_or_else(|| Error::Document(format!("{source}: the {kind_name} document has no `name`")))?;
    let kind = profile.kind(kind_name)?;
    crate::cluster::check_name(&kind.kind, name)?;
    let namespace = match (doc["namespace"].as_str(), explicit_ns) {
        (Some(doc_ns), Some(flag)) if doc_ns != flag => {
            return Err(Error::Document(format!(
                "{source}: {kind_name}/{name} says namespace \"{doc_ns}\" but -n says \"{flag}\"; drop one of them"
            )));
        }
        (Some(doc_ns), _) => {
            crate::cluster::check_namespace(doc_ns)?;
            doc_ns.to_string()
        }
        (None, _) => cluster.namespace.clone(),
    };
    Ok(Target { kind, name: name.to_string(), namespace })
}

/// Reads every document of a file and plans each against its live object; nothing is written, so a
/// bad document anywhere stops the whole file before any change.
async fn plan_file<'p>(
    cluster: &Cluster,
    profile: &'p Profile,
    writer: &Writer,
    explicit_ns: Option<&str>,
    path: &Path,
) -> Result<Vec<(Target<'p>, Plan)>> {
    let (text, source) = read_source(path)?;
    let mut plans: Vec<(Target<'p>, Plan)> = Vec::new();
    for doc in &parse_documents(&text, &source)? {
        let target = document_target(profile, cluster, explicit_ns, doc, &source)?;
        let object = format!("{} in namespace \"{}\"", target.display(), target.namespace);
        if plans.iter().any(|(t, _)| t.display() == target.display() && t.namespace == target.namespace) {
            return Err(Error::Document(format!(
                "{source}: {object} appears twice; merge its documents into one"
            )));
        }
        let live = read_live(cluster, profile, writer.role, target).await?;
        let plan = match plan(cluster, profile, writer, &live, doc).await {
            Ok(plan) => plan,
            // Say which document of which file, since a file may hold several.
            Err(Error::Problems(list)) => {
                return Err(Error::Document(format!("{source}: {object}: {}", list.join("; "))));
            }
            Err(e) => return Err(e),
        };
        plans.push((live.target, plan));
    }
    Ok(plans)
}

pub async fn apply_files(
    cluster: &Cluster,
    profile: &Profile,
    role: RoleName,
    explicit_ns: Option<&str>,
    args: &ApplyArgs,
) -> Result<String> {
    let write = &args.write;
    let writer = Writer::new(profile, role, write.field_manager.as_deref(), write.force_conflicts)?;
    let plans = plan_file(cluster, profile, &writer, explicit_ns, &args.filename).await?;
    let colour = output::use_colour();
    // Each line as it happens, so that a failure halfway still shows what was already applied.
    for (target, plan) in &plans {
        plan.warn_kept();
        if write.dry_run() {
            output::emit(&plan.diff(colour))?;
        } else if plan.needs_write() {
            commit(cluster, profile, &writer, target, plan).await?;
            let line = format!("{} configured\n", plan.label);
            output::emit(&crate::rollout::after_write(cluster, target, write, line).await?)?;
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
    let writer = Writer::new(profile, role, args.field_manager.as_deref(), args.force_conflicts)?;
    let plans: Vec<Plan> = plan_file(cluster, profile, &writer, explicit_ns, &args.filename)
        .await?
        .into_iter()
        .map(|(_, plan)| plan)
        .collect();
    if let Some(command) = std::env::var("KUBECTL_EXTERNAL_DIFF").ok().filter(|c| !c.trim().is_empty()) {
        let pairs: Vec<_> =
            plans.iter().map(|p| (p.diff_name.clone(), p.before.clone(), p.after.clone())).collect();
        return diff::external(&command, &pairs);
    }
    let colour = output::use_colour();
    let mut differs = false;
    for plan in &plans {
        let text = plan.diff(colour);
        differs |= !text.is_empty();
        output::emit(&text)?;
    }
    Ok(differs)
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
    let mut doc = live.document(profile, role, None);
    change(&mut doc, &live.object)?;
    let writer = Writer::new(profile, role, flags.field_manager.as_deref(), flags.force_conflicts)?;
    let plan = plan(cluster, profile, &writer, &live, &doc).await?;
    plan.warn_kept();
    if flags.dry_run() {
        return Ok(plan.diff(output::use_colour()));
    }
    if !plan.needs_write() {
        return Ok(format!("{} unchanged\n", plan.label));
    }
    commit(cluster, profile, &writer, &live.target, &plan).await?;
    crate::rollout::after_write(cluster, &live.target, flags, format!("{} {what}\n", plan.label)).await
}

pub async fn set_image(cluster: &Cluster, profile: &Profile, args: &SetImageArgs) -> Result<String> {
    let target = view::require_target(profile, cluster, &args.target)?;
    let mut pairs = Vec::new();
    for pair in &args.images {
        match pair.split_once('=') {
            Some((c, image)) if !c.is_empty() && !image.is_empty() => {
                pairs.push((c.to_string(), image.to_string()))
            }
            _ => return Err(Error::Usage(format!("\"{pair}\" is not CONTAINER=IMAGE"))),
        }
    }
    let display = target.display();
    let namespace = target.namespace.clone();
    write_change(cluster, profile, RoleName::Dev, &args.write, target, "image updated", |doc, _| {
        let containers =
            doc["containers"].as_object_mut().ok_or_else(|| Error::Invalid("no containers".into()))?;
        for (name, image) in &pairs {
            if name == "*" {
                for c in containers.values_mut() {
                    c["image"] = Value::String(image.clone());
                }
                continue;
            }
            let names: Vec<String> = containers.keys().cloned().collect();
            let c = containers.get_mut(name).ok_or_else(|| {
                Error::Usage(format!(
                    "{display} in namespace \"{namespace}\" has no container \"{name}\"; it has {}",
                    names.join(", ")
                ))
            })?;
            c["image"] = Value::String(image.clone());
        }
        Ok(())
    })
    .await
}

pub async fn set_env(cluster: &Cluster, profile: &Profile, args: &SetEnvArgs) -> Result<String> {
    let target = view::require_target(profile, cluster, &args.target)?;
    let mut set = Vec::new();
    let mut unset = Vec::new();
    for var in &args.vars {
        if let Some((k, v)) = var.split_once('=') {
            if k.is_empty() {
                return Err(Error::Usage(format!("\"{var}\" has no variable name")));
            }
            set.push((k.to_string(), v.to_string()));
        } else if let Some(k) = var.strip_suffix('-').filter(|k| !k.is_empty()) {
            unset.push(k.to_string());
        } else {
            return Err(Error::Usage(format!("\"{var}\" is neither KEY=VALUE nor KEY-")));
        }
    }
    let display = target.display();
    let namespace = target.namespace.clone();
    let only = args.container.clone();
    write_change(cluster, profile, RoleName::Dev, &args.write, target, "env updated", |doc, _| {
        let containers =
            doc["containers"].as_object_mut().ok_or_else(|| Error::Invalid("no containers".into()))?;
        if let Some(only) = &only {
            if !containers.contains_key(only) {
                let names: Vec<String> = containers.keys().cloned().collect();
                return Err(Error::Usage(format!(
                    "{display} in namespace \"{namespace}\" has no container \"{only}\"; it has {}",
                    names.join(", ")
                )));
            }
        }
        for (name, c) in containers.iter_mut() {
            if only.as_ref().is_some_and(|o| o != name) {
                continue;
            }
            let Some(container) = c.as_object_mut() else { continue };
            let mut env = match container.remove("env") {
                Some(Value::Object(env)) => env,
                _ => Default::default(),
            };
            for (k, v) in &set {
                env.insert(k.clone(), Value::String(v.clone()));
            }
            for k in &unset {
                env.shift_remove(k);
            }
            if !env.is_empty() {
                container.insert("env".into(), Value::Object(env));
            }
        }
        Ok(())
    })
    .await
}

pub async fn scale(cluster: &Cluster, profile: &Profile, args: &ScaleArgs) -> Result<String> {
    let target = view::require_target(profile, cluster, &args.target)?;
    if !(0..=i64::from(i32::MAX)).contains(&args.replicas) {
        return Err(Error::Usage(format!(
            "--replicas must be from 0 to {}, not {}",
            i32::MAX,
            args.replicas
        )));
    }
    let replicas_field =
        profile.role(RoleName::Ops).object_traits(&target.kind.kind).find_map(|(t, fields)| {
            fields.iter().find(|f| f.autoscaled).map(|f| (t.to_string(), f.name.clone()))
        });
    let Some((trait_name, field)) = replicas_field else {
        return Err(Error::Usage(format!("{} has no replica count to scale", target.kind.kind)));
    };
    let replicas = args.replicas;
    write_change(cluster, profile, RoleName::Ops, &args.write, target, "scaled", |doc, _| {
        let map = doc.as_object_mut().expect("a document is a mapping");
        let group = map.entry(trait_name).or_insert_with(|| Value::Object(Default::default()));
        group[&field] = Value::from(replicas);
        Ok(())
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn documents_split_on_separators_and_arrays() {
        let docs =
            parse_documents("kind: Deployment\nname: a\n---\nkind: Deployment\nname: b\n", "f").unwrap();
        assert_eq!(docs.len(), 2);
        let docs = parse_documents("[{\"kind\": \"Deployment\", \"name\": \"a\"}]", "f").unwrap();
        assert_eq!(docs[0]["name"], "a");
        assert!(parse_documents("", "f").unwrap_err().to_string().contains("no documents"));
        let err = parse_documents("kind: [\n", "f.yaml").unwrap_err().to_string();
        assert!(err.contains("f.yaml: invalid YAML") && err.contains("line"), "{err}");
    }

    #[test]
    fn rejections_are_short() {
        let status: kube::core::Status = serde_json::from_value(json!({
            "code": 422, "message": format!("Job.batch \"once\" is invalid: spec.template: Invalid value: {}: field is immutable", "x".repeat(2000)),
            "details": {"causes": [{"reason": "FieldValueInvalid", "field": "spec.template",
                                    "message": format!("Invalid value: core.PodTemplateSpec{{{}}}: field is immutable", "x".repeat(2000))}]}
        }))
        .unwrap();
        assert_eq!(rejection(&status), "spec.template: field is immutable");
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
