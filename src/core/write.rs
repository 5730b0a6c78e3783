//! The pure half of a role's write: what a document asks of the live object, decided by the ownership
//! rules, and the server-side apply body that carries it; refusals are errors here, before anything
//! is sent. The dry-run, the commit and their retries are `cluster::write`.

use serde_json::{Value, json};

use crate::core::hpa::{self, Autoscaler};
use crate::core::ownership::{self, BASE_KEY, Base, Current, Intent, Permissions, WritePlan};
use crate::core::project::{self, DocProblem, ViewOptions};
use crate::core::related::Related;
use crate::error::{Error, Result};
use crate::model::managed::{Step, managed_entries};
use crate::model::object;
use crate::model::roles::{KindInfo, Profile, RoleName};
use crate::model::schema::KindSchema;
use crate::model::target::Target;

/// How a role writes: its manager, and whether it may take fields over.
#[derive(Debug, Clone)]
pub struct Writer {
    pub role: RoleName,
    pub manager: String,
    pub force: bool,
    /// Replace values someone changed after the document was read (the three-way check).
    pub overwrite: bool,
    /// Write even what the object's reconciler (Flux, Argo CD…) will put back at once.
    pub until_reconciled: bool,
    /// Only a server-side dry-run: a reconciler's objection is a warning, not a refusal.
    pub dry_run: bool,
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
        Ok(Writer { role, manager, force, overwrite: false, until_reconciled: false, dry_run: false })
    }

    pub fn overwriting(mut self, overwrite: bool) -> Writer {
        self.overwrite = overwrite;
        self
    }

    /// `--until-reconciled`, and whether this is only a dry-run.
    pub fn reconciling(mut self, until_reconciled: bool, dry_run: bool) -> Writer {
        self.until_reconciled = until_reconciled;
        self.dry_run = dry_run;
        self
    }
}

/// The live object a document is about, with the HPA that targets it.
#[derive(Clone)]
pub struct Live<'p> {
    pub target: Target<'p>,
    pub object: Value,
    pub autoscaler: Option<Autoscaler>,
    /// The objects around it (Services, PDBs, claims…), when the role's document has them.
    pub related: Option<Related>,
}

impl Live<'_> {
    pub fn resource_version(&self) -> &str {
        self.object["metadata"]["resourceVersion"].as_str().unwrap_or_default()
    }

    pub fn document(&self, profile: &Profile, role: RoleName, container: Option<&str>) -> Value {
        let view =
            ViewOptions { container, autoscaler: self.autoscaler.as_ref(), related: self.related.as_ref() };
        project::document(profile, role, self.target.kind, &self.object, &view)
    }

    pub fn object_label(&self) -> String {
        format!("{} in namespace \"{}\"", self.target.display(), self.target.namespace)
    }
}

/// A controller (a Deployment for its ReplicaSets, a CronJob for its Jobs) undoes changes to what it
/// controls: writes are refused, naming the controller, even with --force-conflicts.
pub fn refuse_controlled(profile: &Profile, role: RoleName, live: &Live<'_>) -> Result<()> {
    let Some(owner) = object::controller(&live.object) else { return Ok(()) };
    let owner_kind = owner.split_once('/').map(|(k, _)| k).unwrap_or_default();
    let hint = match profile.kind(owner_kind) {
        Ok(_) => {
            format!(" (`{}`)", crate::error::suggest(&format!("{role} edit {owner}"), &live.target.namespace))
        }
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
    let autoscaled = live.autoscaler.as_ref().and_then(|_| hpa::autoscaled_label(profile, writer.role, kind));
    let intent = Intent { edited: &edited, base: base.as_ref(), containers: &containers };
    let current = Current {
        object: &live.object,
        units: &live_units,
        manager: &writer.manager,
        autoscaled: autoscaled.as_deref(),
    };
    let allow = Permissions { force: writer.force, overwrite: writer.overwrite };
    let plan = ownership::plan(&intent, &current, allow);
    refusals(&plan, live.object_label(), writer, &live.target, live.autoscaler.as_ref())?;
    refuse_mounted(kind, &live.object, &plan, &live.object_label())?;
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
    // Reserved keys (no role's) the manager holds stay as they are.
    let held = ownership::reserved_held(profile, writer.role, kind, &live.object, &writer.manager);
    ownership::insert_units(&mut body, &held);
    ownership::order_like(&mut body, &live.object);
    refuse_too_large(&live.target, &body)?;
    Ok((plan, body))
}

/// The most kube-apiserver reads of a request's body: `MaxRequestBodyBytes` in k8s.io/apiserver's
/// server config, 3 MiB, with no flag to change it (etcd takes 1.5 MiB per write, the request may
/// be twice that as JSON). A larger body gets "413 Request Entity Too Large" once sent.
pub const MAX_REQUEST_BYTES: usize = 3 * 1024 * 1024;

/// Refuses a body the API server would refuse for its size, before it is sent: as compact JSON,
/// as kube sends it.
pub fn refuse_too_large(target: &Target<'_>, body: &Value) -> Result<()> {
    /// Counts what is written, keeps nothing.
    struct Count(usize);
    impl std::io::Write for Count {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0 += bytes.len();
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut size = Count(0);
    let _ = serde_json::to_writer(&mut size, body);
    let size = size.0;
    if size <= MAX_REQUEST_BYTES {
        return Ok(());
    }
    let mib = |bytes: usize| format!("{:.1}", bytes as f64 / (1024.0 * 1024.0));
    // Just over the limit, MiB round to the limit itself: then bytes say it.
    let (size, limit) = match mib(size) == mib(MAX_REQUEST_BYTES) {
        false => (format!("{} MiB", mib(size)), format!("{} MiB", MAX_REQUEST_BYTES >> 20)),
        true => {
            (format!("{size} bytes"), format!("{} MiB ({MAX_REQUEST_BYTES} bytes)", MAX_REQUEST_BYTES >> 20))
        }
    };
    Err(Error::Document(format!(
        "the document for {} in namespace \"{}\" is {size}; the API server accepts at most {limit} per request",
        target.display(),
        target.namespace,
    )))
}

/// Server-side apply replaces an atomic list or map whole: a role's write below one (a custom kind
/// whose containers are an atomic list) would replace fields the role does not own. Refused, naming
/// the list and why.
fn refuse_atomic(schema: &KindSchema, kind: &KindInfo, role: RoleName, plan: &WritePlan) -> Result<()> {
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

/// A pod volume the write removes while a container still mounts it: the API would refuse the pod
/// template (a mount of no volume), naming a container the writing role may not even see (the
/// operator's config volume, the developer's mount). Refused here, naming the mount.
fn refuse_mounted(kind: &KindInfo, live: &Value, plan: &WritePlan, object: &str) -> Result<()> {
    let volumes: Vec<Step> =
        kind.pod_spec_path().into_iter().chain(["volumes".to_string()]).map(Step::Field).collect();
    let removed = || plan.remove.iter().chain(&plan.released);
    // A mount the same write removes (the developer's mount and claim together) goes too.
    let going = |list: &str, container: &str, mount: &Value| {
        let mut path: Vec<Step> = kind.pod_spec_path().into_iter().map(Step::Field).collect();
        path.push(Step::Field(list.to_string()));
        path.push(Step::Key(json!({"name": container})));
        path.push(Step::Field("volumeMounts".into()));
        path.push(Step::Key(json!({"mountPath": mount["mountPath"]})));
        removed().any(|u| path.starts_with(&u.path))
    };
    for u in removed() {
        let name = match u.path.split_last() {
            Some((Step::Key(key), parent)) if parent == volumes.as_slice() => key["name"].as_str(),
            _ => None,
        };
        let Some(name) = name else { continue };
        let mounts: Vec<String> = object::all_containers(live, kind)
            .into_iter()
            .flat_map(|(list, c)| {
                let container = object::container_name(c).to_string();
                let mounts = c["volumeMounts"].as_array().into_iter().flatten();
                mounts
                    .filter(|m| m["name"].as_str() == Some(name) && !going(list, &container, m))
                    .map(|m| {
                        format!(
                            "{list}.{container}.volumeMounts at {}",
                            m["mountPath"].as_str().unwrap_or("?")
                        )
                    })
                    .collect::<Vec<_>>()
            })
            .collect();
        if !mounts.is_empty() {
            return Err(Error::Invalid(format!(
                "{object}: {}: removes volume \"{name}\", which {} still mounts; nothing was applied: remove the mount as well (volumeMounts are the dev role's), or keep the volume",
                u.label,
                mounts.join(", ")
            )));
        }
    }
    Ok(())
}

/// What the ownership rules refuse in `plan`, as the error a user sees. `object`: the object written
/// (the workload, or its autoscaler), `target`: the workload the role's commands name.
pub fn refusals(
    plan: &WritePlan,
    object: String,
    writer: &Writer,
    target: &Target<'_>,
    autoscaler: Option<&Autoscaler>,
) -> Result<()> {
    if !plan.repeated.is_empty() {
        return Err(Error::Invalid(format!(
            "{object}: {}: the document has more than one item with this key (server-side apply merges a list's items by it, so one would be lost); nothing was applied: keep one, or give the other its own key",
            plan.repeated.join(", ")
        )));
    }
    if !plan.duplicates.is_empty() {
        return Err(Error::Invalid(format!(
            "{object}: {}: the name appears more than once in the live object (the API allows it; server-side apply cannot address one of them); nothing was applied: change it with `kubectl edit`, or remove the duplicate first",
            plan.duplicates.join(", ")
        )));
    }
    if !plan.duplicates_held.is_empty() {
        let role = writer.role;
        return Err(Error::Invalid(format!(
            "{object}: {}: the name appears more than once in the live object and only the {role} role's server-side apply holds it, so any {role} write would delete every copy; nothing was applied: run `{}` to hold it by update instead (writes that leave it alone then keep it), or remove the duplicate first",
            plan.duplicates_held.join(", "),
            crate::error::suggest(&format!("{role} adopt {}", target.display()), &target.namespace)
        )));
    }
    if !plan.stale.is_empty() {
        return Err(Error::Stale {
            object,
            reread: crate::error::suggest(
                &format!("{} get {}", writer.role, target.display()),
                &target.namespace,
            ),
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
            hpa: hpa.name.clone(),
            min: hpa.min_replicas.map_or("?".into(), |v| v.to_string()),
            max: hpa.max_replicas.map_or("?".into(), |v| v.to_string()),
            target: target.display(),
            namespace: target.namespace.clone(),
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

/// What the autoscaler will do with a count the write forces on it (`autoscaled`: the label of the
/// field it holds; `target`: the workload as commands name it): a warning naming it and its range.
pub fn autoscaler_override(
    plan: &WritePlan,
    autoscaled: Option<&str>,
    autoscaler: Option<&Autoscaler>,
    target: &str,
) -> Option<String> {
    let (label, hpa) = (autoscaled?, autoscaler?);
    if !plan.autoscaler_overridden {
        return None;
    }
    let count = plan.send.iter().find(|u| u.label == label)?.value.as_i64()?;
    // An HPA without minReplicas keeps at least 1.
    let (min, max) = (hpa.min_replicas.unwrap_or(1), hpa.max_replicas);
    let range = format!("min {min}, max {}", max.map_or("?".into(), |m| m.to_string()));
    let change = format!("change its range with `kubectl oam ops autoscale {target} --min N --max M`");
    Some(match count < min || max.is_some_and(|m| count > m) {
        true => format!(
            "{label} {count} is outside the range of HorizontalPodAutoscaler \"{}\" ({range}), which scales {target}: it sets the count back within its range; {change}",
            hpa.name
        ),
        false => format!(
            "HorizontalPodAutoscaler \"{}\" ({range}) scales {target}: it sets {label} again from its metrics; {change}",
            hpa.name
        ),
    })
}

/// The guarded JSON patch for forced removals (and the changes beside them), if the plan has any.
pub fn removal_patch(decided: &WritePlan, live_units: &ownership::Units, object: &Value) -> Option<Value> {
    (!decided.remove.is_empty()).then(|| {
        let changing: Vec<ownership::Unit> = decided
            .send
            .iter()
            .filter(|u| live_units.get(u.key()).is_none_or(|now| !now.same_value(u)))
            .cloned()
            .collect();
        let removing: Vec<ownership::Unit> =
            decided.remove.iter().chain(&decided.released).cloned().collect();
        ownership::write_patch(object, &removing, &changing)
    })
}

/// What a write would leave of `object`, worked out here instead of by the server's dry-run
/// (`--dry-run=client`): the units the plan sends set, those it removes or releases gone. Server
/// defaults, admission and other managers' claims on the same fields are not known here.
pub fn locally_applied(object: &Value, plan: &WritePlan) -> Value {
    let mut after = object.clone();
    ownership::insert_units(&mut after, &plan.send);
    let gone: Vec<ownership::Unit> = plan.remove.iter().chain(&plan.released).cloned().collect();
    ownership::without_units(&after, &gone)
}

/// A document as people read it: the base is bookkeeping for the tool.
pub fn without_base(mut doc: Value) -> Value {
    if let Some(map) = doc.as_object_mut() {
        map.remove(BASE_KEY);
    }
    doc
}

/// What a role's write must leave exactly as it was: everything but the role's fields, status,
/// bookkeeping and the keys only tools and controllers write.
pub fn outside_role(profile: &Profile, role: RoleName, kind: &KindInfo, obj: &Value) -> Value {
    spec_of(&project::without_tool_keys(
        profile,
        kind,
        &project::without_role_fields(profile, role, kind, obj),
    ))
}

/// Are two requests the same but for the version they were decided from (an apply body's
/// `metadata.resourceVersion`, a guarded JSON patch's `test` of it)?
pub fn same_request(a: &Value, b: &Value) -> bool {
    fn without_version(request: &Value) -> Value {
        let mut request = request.clone();
        if let Some(ops) = request.as_array_mut() {
            ops.retain(|op| op["path"] != "/metadata/resourceVersion");
        } else if let Some(meta) = request.get_mut("metadata").and_then(Value::as_object_mut) {
            meta.remove("resourceVersion");
        }
        request
    }
    without_version(a) == without_version(b)
}

/// Does `manager` hold the same fields, by the same operations, in both versions of an object? A
/// colleague writing as the same manager in between changes that (the times do not count).
pub fn same_own_entries(a: &Value, b: &Value, manager: &str) -> bool {
    let own = |obj: &Value| -> Vec<(String, String, Value)> {
        managed_entries(obj)
            .into_iter()
            .filter(|e| e.manager == manager)
            .map(|e| (e.operation, e.subresource, e.fields))
            .collect()
    };
    own(a) == own(b)
}

/// Does `manager` own less in `after` than in `before`?
pub fn releases_ownership(before: &Value, after: &Value, manager: &str) -> bool {
    let fields = |obj: &Value| {
        managed_entries(obj)
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
pub fn spec_of(obj: &Value) -> Value {
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn removing_a_volume_a_container_still_mounts_is_refused_naming_the_mount() {
        let p = Profile::builtin();
        let kind = p.kind("deploy").unwrap();
        let live = json!({"spec": {"template": {"spec": {
            "containers": [{"name": "app", "volumeMounts": [{"name": "config", "mountPath": "/etc/web"}]}],
            "volumes": [{"name": "config", "configMap": {"name": "web"}}, {"name": "spare", "emptyDir": {}}]}}}});
        let unit = |name: &str| {
            let units = ownership::units(&p, RoleName::Ops, kind, &live);
            units.iter().find(|u| u.label.contains(name)).cloned().unwrap()
        };
        let plan = WritePlan { released: vec![unit("config")], ..WritePlan::default() };
        let err =
            refuse_mounted(kind, &live, &plan, "deployment.apps/web in namespace \"shop\"").unwrap_err();
        assert!(
            err.to_string().contains("removes volume \"config\", which containers.app.volumeMounts at /etc/web still mounts; nothing was applied"),
            "{err}"
        );
        let plan = WritePlan { remove: vec![unit("spare")], ..WritePlan::default() };
        assert!(refuse_mounted(kind, &live, &plan, "x").is_ok(), "an unmounted volume may go");
        // The developer's mount and claim removed in one write.
        let mut live = live.clone();
        live["spec"]["template"]["spec"]["volumes"][0] =
            json!({"name": "config", "persistentVolumeClaim": {"claimName": "c"}});
        let dev = ownership::units(&p, RoleName::Dev, kind, &live);
        let both: Vec<_> = dev
            .iter()
            .filter(|u| u.label.contains("config") || u.label.contains("volumeMounts"))
            .cloned()
            .collect();
        assert_eq!(both.len(), 2, "{both:?}");
        let plan = WritePlan { released: both, ..WritePlan::default() };
        assert!(refuse_mounted(kind, &live, &plan, "x").is_ok(), "the mount goes with its volume");
    }

    #[test]
    fn a_forced_count_says_what_the_autoscaler_will_do() {
        let p = Profile::builtin();
        let units = |replicas: i64| {
            ownership::units(
                &p,
                RoleName::Ops,
                p.kind("deploy").unwrap(),
                &json!({"spec": {"replicas": replicas}}),
            )
        };
        let forced = |replicas: i64| WritePlan {
            send: units(replicas).iter().cloned().collect(),
            autoscaler_overridden: true,
            ..WritePlan::default()
        };
        let hpa = Autoscaler::of(&json!({"metadata": {"name": "web"}, "spec": {"maxReplicas": 4}}));
        let warn = |plan: &WritePlan| {
            autoscaler_override(plan, Some("scaler.replicas"), Some(&hpa), "deployment.apps/web")
        };
        assert!(warn(&forced(0)).unwrap().starts_with(
            "scaler.replicas 0 is outside the range of HorizontalPodAutoscaler \"web\" (min 1, max 4)"
        ));
        assert!(warn(&forced(4)).unwrap().contains("it sets scaler.replicas again from its metrics"));
        assert!(warn(&forced(5)).unwrap().contains("it sets the count back within its range"));
        assert_eq!(warn(&WritePlan { autoscaler_overridden: false, ..forced(5) }), None);
    }

    #[test]
    fn bodies_over_the_servers_request_limit_are_refused() {
        let profile = Profile::builtin();
        let kind = profile.kind("deploy").unwrap();
        let live = Live {
            target: Target { kind, name: "web".into(), namespace: "shop".into() },
            object: json!({"apiVersion": "apps/v1", "kind": "Deployment",
                           "metadata": {"name": "web", "namespace": "shop", "resourceVersion": "7"},
                           "spec": {"template": {"spec": {"containers": [{"name": "app", "image": "a:1"}]}}}}),
            autoscaler: None,
            related: None,
        };
        let writer = Writer::new(&profile, RoleName::Dev, None, false).unwrap();
        let with_value = |bytes: usize| {
            let doc = json!({"kind": "Deployment", "name": "web", "containers": {"app": {"env": {"BIG": "x".repeat(bytes)}}}});
            build(&profile, &writer, &live, &doc).map(|(_, body)| serde_json::to_vec(&body).unwrap().len())
        };
        let under = with_value(MAX_REQUEST_BYTES - 1000).unwrap();
        assert!(under <= MAX_REQUEST_BYTES, "{under}");
        let at_limit = with_value(MAX_REQUEST_BYTES - 1000 + (MAX_REQUEST_BYTES - under)).unwrap();
        assert_eq!(at_limit, MAX_REQUEST_BYTES, "the limit itself is accepted");
        let just_over = with_value(MAX_REQUEST_BYTES - 1000 + (MAX_REQUEST_BYTES - under) + 1).unwrap_err();
        assert_eq!(
            just_over.to_string(),
            "the document for deployment.apps/web in namespace \"shop\" is 3145729 bytes; the API server accepts at most 3 MiB (3145728 bytes) per request"
        );
        assert!(matches!(just_over, Error::Document(_)));
        let far_over = with_value(8 << 20).unwrap_err().to_string();
        assert!(
            far_over.ends_with("\"shop\" is 8.0 MiB; the API server accepts at most 3 MiB per request"),
            "{far_over}"
        );
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
    fn reserved_keys_the_role_holds_are_sent_as_they_are() {
        let p = Profile::builtin();
        let kind = p.kind("deploy").unwrap();
        let apparmor = "container.apparmor.security.beta.kubernetes.io/app";
        // kubectl-oam-ops applied the AppArmor annotation before it was reserved.
        let obj = json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "shop", "uid": "u", "resourceVersion": "7",
                "managedFields": [{"manager": "kubectl-oam-ops", "operation": "Apply", "apiVersion": "apps/v1",
                    "fieldsType": "FieldsV1", "fieldsV1": {"f:spec": {"f:replicas": {}, "f:template": {"f:metadata":
                        {"f:annotations": {"f:note": {}, format!("f:{apparmor}"): {}}}}}}}]},
            "spec": {"replicas": 2, "template": {"metadata": {"annotations": {"note": "x", apparmor: "unconfined"}},
                "spec": {"containers": [{"name": "app", "image": "a:1"}]}}}
        });
        let live = Live {
            target: Target { kind, name: "web".into(), namespace: "shop".into() },
            object: obj.clone(),
            autoscaler: None,
            related: None,
        };
        let writer = Writer::new(&p, RoleName::Ops, None, false).unwrap();
        let mut doc = live.document(&p, RoleName::Ops, None);
        doc["scaler"]["replicas"] = json!(3);
        let annotations = |body: &Value| body["spec"]["template"]["metadata"]["annotations"].clone();
        // With its base and without (desired state: what the document leaves out is released).
        for doc in [doc.clone(), without_base(doc)] {
            let (plan, body) = build(&p, &writer, &live, &doc).unwrap();
            assert_eq!(annotations(&body), json!({"note": "x", apparmor: "unconfined"}), "kept: {body}");
            assert_eq!(plan.changed, ["scaler.replicas"]);
            assert!(!plan.releases);
        }
        // Held by another manager only, it is not sent (server-side apply keeps it).
        let mut other = obj.clone();
        other["metadata"]["managedFields"][0]["manager"] = json!("helm");
        let live = Live { object: other, ..live };
        let doc = live.document(&p, RoleName::Ops, None);
        let (_, body) = build(&p, &writer, &live, &doc).unwrap();
        assert_eq!(body.get("spec"), None, "{body}");
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
