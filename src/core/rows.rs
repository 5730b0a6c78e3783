//! The rows of `list` tables: a role's columns of each workload.
//!
//! Two ways lead to the same cells. [`value_rows`] reads the role document of a whole object (any
//! kind, any profile). [`PartialObject`] is what a row needs of a built-in workload, decoded straight
//! from the list's JSON by serde (everything else — managedFields, most of the pod spec — is skipped
//! without being built); [`RowPlan`] says, from the profile, which document fields the columns show,
//! and is only made when each of them sits at the path the typed struct reads. Lists of thousands of
//! objects spend their time decoding, so the typed way is the fast one; the unit tests check that
//! both give the same rows.

use k8s_openapi::jiff::Timestamp;
use serde::Deserialize;
use serde::de::{Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value, json};

use crate::core::hpa::Autoscaler;
use crate::core::project::{self, ViewOptions};
use crate::core::reconciler;
use crate::core::status::{self, Counts};
use crate::format::output;
use crate::model::object;
use crate::model::roles::{
    CONTAINER_LISTS, Field, INIT_CONTAINERS_KEY, KindInfo, Profile, READ_ONLY_KEY, RoleName, Root,
};

/// How rows are laid out: what `list` was asked for.
#[derive(Debug, Clone, Copy)]
pub struct Layout {
    pub role: RoleName,
    pub wide: bool,
    pub all_namespaces: bool,
    /// `--all`: controlled objects are listed, with their controller in a last column.
    pub with_controller: bool,
}

impl Layout {
    pub fn headers(&self) -> Vec<&'static str> {
        let mut headers: Vec<&str> = Vec::new();
        if self.all_namespaces {
            headers.push("namespace");
        }
        headers.extend(["name", "kind", "ready", "up-to-date", "available"]);
        headers.extend(match self.role {
            RoleName::Dev => ["container", "image", "ports", "cpu", "memory", "age"].as_slice(),
            RoleName::Ops => ["replicas", "strategy", "placement", "age"].as_slice(),
        });
        if self.wide {
            headers.extend(match self.role {
                RoleName::Dev => ["command", "env"],
                RoleName::Ops => ["labels", "autoscaler"],
            });
            headers.push("reconciled by");
        }
        if self.with_controller {
            headers.push("controlled by");
        }
        headers
    }
}

/// kubectl's `-L KEY…` and `--show-labels`: columns after all the others.
#[derive(Debug, Clone, Default)]
pub struct LabelColumns {
    pub keys: Vec<String>,
    pub show_labels: bool,
}

impl LabelColumns {
    /// `-L app.kubernetes.io/name` is headed NAME: the key's last segment in upper case, as kubectl.
    pub fn headers(&self) -> Vec<String> {
        let keys = self.keys.iter().map(|k| k.rsplit('/').next().unwrap_or(k).to_uppercase());
        keys.chain(self.show_labels.then(|| "LABELS".to_string())).collect()
    }

    /// A label's value (empty when the object lacks it); then all labels as `k=v,…`, sorted by key
    /// (`<none>` without any).
    pub fn cells(&self, labels: Option<&Map<String, Value>>) -> Vec<String> {
        let value = |v: &Value| v.as_str().map_or_else(|| v.to_string(), str::to_string);
        let mut cells: Vec<String> =
            self.keys.iter().map(|k| labels.and_then(|l| l.get(k)).map(value).unwrap_or_default()).collect();
        if self.show_labels {
            let mut pairs: Vec<String> =
                labels.into_iter().flatten().map(|(k, v)| format!("{k}={}", value(v))).collect();
            pairs.sort();
            cells.push(if pairs.is_empty() { "<none>".into() } else { pairs.join(",") });
        }
        cells
    }
}

/// The cells every row of an object starts with or carries, whichever way it was read.
struct Common<'a> {
    namespace: &'a str,
    name: &'a str,
    kind: &'a str,
    live: [String; 3],
    age: String,
    controller: Option<String>,
    /// Flux, Argo CD, helm or KubeVela, as `reconciler::detect` names it (-o wide).
    reconciler: Option<String>,
}

impl Common<'_> {
    /// Puts the common cells around the role's own: kubectl's live columns after NAME and KIND, AGE
    /// after the role's columns (before -o wide's), the namespace first, the controller last.
    fn row(&self, layout: &Layout, own: Vec<String>, wide: Vec<String>) -> Vec<String> {
        let mut row = Vec::with_capacity(16);
        if layout.all_namespaces {
            row.push(self.namespace.to_string());
        }
        row.push(self.name.to_string());
        row.push(self.kind.to_string());
        row.extend(self.live.iter().cloned());
        row.extend(own);
        row.push(self.age.clone());
        if layout.wide {
            row.extend(wide);
            row.push(self.reconciler.clone().unwrap_or_else(|| "<none>".into()));
        }
        if layout.with_controller {
            row.push(self.controller.clone().unwrap_or_else(|| "<none>".into()));
        }
        row
    }
}

/// A dev row's cells of one container, in column order.
struct ContainerCells {
    name: String,
    image: String,
    ports: String,
    cpu: String,
    memory: String,
    command: String,
    env: String,
}

impl ContainerCells {
    fn row(self, common: &Common, layout: &Layout) -> Vec<String> {
        common.row(
            layout,
            vec![self.name, self.image, self.ports, self.cpu, self.memory],
            vec![self.command, self.env],
        )
    }
}

/// `migrate (init)`, `log (sidecar)`: how a container's name is shown.
fn shown_name(list: &str, name: &str, sidecar: bool) -> String {
    match list {
        INIT_CONTAINERS_KEY if sidecar => format!("{name} (sidecar)"),
        INIT_CONTAINERS_KEY => format!("{name} (init)"),
        _ => name.to_string(),
    }
}

/// `requests/limits` of one resource, as the CPU and MEMORY columns show it.
fn resource_cell(request: Option<&str>, limit: Option<&str>) -> String {
    match (request, limit) {
        (None, None) => "<none>".to_string(),
        (Some(r), None) => r.to_string(),
        (None, Some(l)) => format!("-/{l}"),
        (Some(r), Some(l)) => format!("{r}/{l}"),
    }
}

fn command_cell(parts: Vec<String>) -> String {
    if parts.is_empty() { "<none>".into() } else { parts.join(" ") }
}

fn hpa_cell(hpa: &Autoscaler) -> String {
    format!(
        "hpa {}-{}",
        hpa.min_replicas.map_or("?".into(), |v| v.to_string()),
        hpa.max_replicas.map_or("?".into(), |v| v.to_string())
    )
}

/// One entry of the PLACEMENT column: the node selector itself, the number of tolerations, the
/// priority class; other placement fields by name.
fn placement_entry(name: &str, value: &Value) -> String {
    match (name, value) {
        ("nodeSelector", v) => output::cell(Some(v)),
        ("tolerations", Value::Array(t)) => format!("{} toleration(s)", t.len()),
        ("priorityClassName", v) => format!("priority={}", output::cell(Some(v))),
        (name, _) => name.to_string(),
    }
}

fn none_if_empty(entries: Vec<String>) -> String {
    if entries.is_empty() { "<none>".into() } else { entries.join(" ") }
}

/// The rows of `obj` from its role document: one per container (dev) or one (ops).
pub fn value_rows(
    profile: &Profile,
    layout: &Layout,
    kind: &KindInfo,
    obj: &Value,
    hpa: Option<&Autoscaler>,
    now: Timestamp,
) -> Vec<Vec<String>> {
    let view = ViewOptions { container: None, autoscaler: hpa, related: None };
    let doc = project::document(profile, layout.role, kind, obj, &view);
    let common = Common {
        namespace: obj["metadata"]["namespace"].as_str().unwrap_or_default(),
        name: obj["metadata"]["name"].as_str().unwrap_or_default(),
        kind: &kind.kind,
        live: status::columns(&kind.kind, obj),
        age: status::age(obj, now),
        controller: object::controller(obj),
        reconciler: layout.wide.then(|| reconciler::detect(obj)).flatten().map(|r| r.describe()),
    };
    match layout.role {
        RoleName::Dev => {
            let sidecars = &doc[READ_ONLY_KEY][project::SIDECARS_KEY];
            let is_sidecar = |name: &str| sidecars.as_array().is_some_and(|s| s.contains(&json!(name)));
            CONTAINER_LISTS
                .iter()
                .filter_map(|list| doc[*list].as_object().map(|m| (*list, m)))
                .flat_map(|(list, m)| m.iter().map(move |(n, c)| (list, n, c)))
                .map(|(list, cname, c)| {
                    let ports = c["ports"]
                        .as_array()
                        .map(|ps| {
                            ps.iter()
                                .map(|p| match p["protocol"].as_str() {
                                    Some(proto) => format!("{}/{proto}", p["containerPort"]),
                                    None => p["containerPort"].to_string(),
                                })
                                .collect::<Vec<_>>()
                                .join(",")
                        })
                        .filter(|s| !s.is_empty())
                        .unwrap_or_else(|| "<none>".into());
                    let res = |what: &str| {
                        resource_cell(
                            c["resources"]["requests"].get(what).and_then(Value::as_str),
                            c["resources"]["limits"].get(what).and_then(Value::as_str),
                        )
                    };
                    let command = ["command", "args"]
                        .iter()
                        .filter_map(|key| c[*key].as_array())
                        .flatten()
                        .map(|p| output::cell(Some(p)))
                        .collect();
                    // Env is `NAME: value`, or the list itself when a name repeats.
                    let env = match &c["env"] {
                        Value::Object(vars) => vars.len(),
                        Value::Array(vars) => vars.len(),
                        _ => 0,
                    };
                    ContainerCells {
                        name: shown_name(list, cname, is_sidecar(cname)),
                        image: output::cell(c.get("image")),
                        ports,
                        cpu: res("cpu"),
                        memory: res("memory"),
                        command: command_cell(command),
                        env: env.to_string(),
                    }
                    .row(&common, layout)
                })
                .collect()
        }
        RoleName::Ops => {
            let replicas = match hpa {
                Some(h) => hpa_cell(h),
                None => match doc["scaler"].get("replicas") {
                    Some(v) => v.to_string(),
                    None if kind.kind == "DaemonSet" => "per node".into(),
                    None => "<none>".into(),
                },
            };
            let strategy = doc["rollout"]
                .get("strategy")
                .or_else(|| doc["rollout"].get("updateStrategy"))
                .map(|s| output::cell(s.get("type")))
                .or_else(|| doc["schedule"].get("schedule").map(|s| output::cell(Some(s))))
                .unwrap_or_else(|| "<none>".into());
            let placement = doc["placement"]
                .as_object()
                .map(|m| m.iter().map(|(k, v)| placement_entry(k, v)).collect())
                .unwrap_or_default();
            let wide = vec![
                output::cell(doc["metadata"].get("labels")),
                hpa.map_or("<none>".into(), |h| h.name.clone()),
            ];
            vec![common.row(layout, vec![replicas, strategy, none_if_empty(placement)], wide)]
        }
    }
}

/// One object's rows as the list shows them, without its controller column (`get -o wide`).
pub fn table_rows(
    profile: &Profile,
    role: RoleName,
    kind: &KindInfo,
    obj: &Value,
    hpa: Option<&Autoscaler>,
    wide: bool,
    all_namespaces: bool,
) -> Vec<Vec<String>> {
    let layout = Layout { role, wide, all_namespaces, with_controller: false };
    value_rows(profile, &layout, kind, obj, hpa, Timestamp::now())
}

// ---------------------------------------------------------------------------------------------
// The typed way

/// The profile fields whose values the columns show, for one role and kind; made only when each
/// sits where [`PartialObject`] reads it. `None` fields are not in the role's document.
#[derive(Debug, Clone, Default)]
pub struct RowPlan {
    /// The pod template under spec.jobTemplate.spec (CronJob), else under spec.
    in_job_template: bool,
    /// dev: which container fields the document shows.
    image: bool,
    command: bool,
    args: bool,
    env: bool,
    ports: bool,
    resources: bool,
    /// ops: scaler.replicas, rollout.strategy / updateStrategy, schedule.schedule.
    replicas: bool,
    strategy: bool,
    update_strategy: bool,
    schedule: bool,
    /// placement fields in profile order.
    placement: Vec<Placement>,
    /// metadata.labels: the keys left out.
    labels: Option<Vec<String>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Placement {
    NodeSelector,
    Affinity,
    Tolerations,
    TopologySpreadConstraints,
    PriorityClassName,
}

impl Placement {
    const ALL: [(Placement, &'static str); 5] = [
        (Placement::NodeSelector, "nodeSelector"),
        (Placement::Affinity, "affinity"),
        (Placement::Tolerations, "tolerations"),
        (Placement::TopologySpreadConstraints, "topologySpreadConstraints"),
        (Placement::PriorityClassName, "priorityClassName"),
    ];
}

/// Is `field` the document field `name` at `root.path`, with nothing left out of it?
fn plain_at(field: &Field, root: Root, path: &str) -> bool {
    field.path.root == root && field.path.segments.join(".") == path && field.exclude.is_empty()
}

impl RowPlan {
    /// The plan for `kind`'s rows in `role`'s table, or None when the table must be read from the
    /// document: a kind other than the built-in six, or a profile that puts a shown field elsewhere.
    pub fn new(profile: &Profile, role: RoleName, kind: &KindInfo) -> Option<RowPlan> {
        let builtin = ["Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob"];
        if !builtin.contains(&kind.kind.as_str()) || kind.schema.is_some() {
            return None;
        }
        let in_job_template = match kind.template.join(".").as_str() {
            "spec.template" => false,
            "spec.jobTemplate.spec.template" => true,
            _ => return None,
        };
        let role = profile.role(role);
        let mut plan = RowPlan { in_job_template, ..RowPlan::default() };
        match role.name {
            RoleName::Dev => {
                // Without container fields the document has no containers: no rows to type.
                role.container_fields().next()?;
                for field in role.container_fields() {
                    let flag = match field.name.as_str() {
                        "image" => &mut plan.image,
                        "command" => &mut plan.command,
                        "args" => &mut plan.args,
                        "env" => &mut plan.env,
                        "ports" => &mut plan.ports,
                        "resources" => &mut plan.resources,
                        _ => continue,
                    };
                    if !plain_at(field, Root::Container, &field.name) {
                        return None;
                    }
                    *flag = true;
                }
            }
            RoleName::Ops => {
                for (trait_name, fields) in role.object_traits(&kind.kind) {
                    for field in fields {
                        let at = |root: Root, path: &str| plain_at(field, root, path).then_some(true);
                        match (trait_name, field.name.as_str()) {
                            ("scaler", "replicas") => plan.replicas = at(Root::Object, "spec.replicas")?,
                            ("rollout", "strategy") => plan.strategy = at(Root::Object, "spec.strategy")?,
                            ("rollout", "updateStrategy") => {
                                plan.update_strategy = at(Root::Object, "spec.updateStrategy")?
                            }
                            ("schedule", "schedule") => plan.schedule = at(Root::Object, "spec.schedule")?,
                            ("placement", name) => {
                                let (which, _) = Placement::ALL.iter().find(|(_, n)| *n == name)?;
                                at(Root::Pod, name)?;
                                plan.placement.push(*which);
                            }
                            ("metadata", "labels") => {
                                // Labels a read-only field reserves are shown there: read from the document.
                                let usual = field.path.root == Root::Object
                                    && field.path.segments.join(".") == "metadata.labels"
                                    && profile.other_keys(kind, field).reserved.is_empty();
                                plan.labels = Some(field.exclude.clone()).filter(|_| usual);
                                plan.labels.as_ref()?;
                            }
                            _ => {}
                        }
                    }
                }
            }
        }
        Some(plan)
    }
}

/// Whether a value is there and not empty (`null`, `{}` and `[]` are not): whether a document
/// shows it. Its content is skipped, never built.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Shown(pub bool);

impl<'de> Deserialize<'de> for Shown {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Probe;
        impl<'de> Visitor<'de> for Probe {
            type Value = Shown;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("any value")
            }
            fn visit_unit<E>(self) -> Result<Shown, E> {
                Ok(Shown(false))
            }
            fn visit_none<E>(self) -> Result<Shown, E> {
                Ok(Shown(false))
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Shown, D::Error> {
                Shown::deserialize(d)
            }
            fn visit_bool<E>(self, _: bool) -> Result<Shown, E> {
                Ok(Shown(true))
            }
            fn visit_i64<E>(self, _: i64) -> Result<Shown, E> {
                Ok(Shown(true))
            }
            fn visit_u64<E>(self, _: u64) -> Result<Shown, E> {
                Ok(Shown(true))
            }
            fn visit_f64<E>(self, _: f64) -> Result<Shown, E> {
                Ok(Shown(true))
            }
            fn visit_str<E>(self, _: &str) -> Result<Shown, E> {
                Ok(Shown(true))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Shown, A::Error> {
                let mut any = false;
                while seq.next_element::<IgnoredAny>()?.is_some() {
                    any = true;
                }
                Ok(Shown(any))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Shown, A::Error> {
                let mut any = false;
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {
                    any = true;
                }
                Ok(Shown(any))
            }
        }
        deserializer.deserialize_any(Probe)
    }
}

/// What a table row needs of a built-in workload. A server's object of the wrong shape fails to
/// decode; the caller then reads the page the general way, which names what is wrong.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct PartialObject {
    pub kind: Option<String>,
    pub api_version: Option<String>,
    pub metadata: Metadata,
    spec: Spec,
    status: Counts,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Metadata {
    pub name: Option<String>,
    pub namespace: Option<String>,
    creation_timestamp: Option<String>,
    labels: Option<Map<String, Value>>,
    /// Only the annotations that name a reconciler: lists stay lean.
    annotations: Option<ReconcilerAnnotations>,
    owner_references: Option<Vec<OwnerReference>>,
}

#[derive(Debug, Default, Deserialize, serde::Serialize)]
#[serde(default)]
struct ReconcilerAnnotations {
    #[serde(rename = "argocd.argoproj.io/tracking-id", skip_serializing_if = "Option::is_none")]
    tracking_id: Option<String>,
    #[serde(rename = "meta.helm.sh/release-name", skip_serializing_if = "Option::is_none")]
    release_name: Option<String>,
    #[serde(rename = "meta.helm.sh/release-namespace", skip_serializing_if = "Option::is_none")]
    release_namespace: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct OwnerReference {
    api_version: Option<String>,
    kind: Option<String>,
    name: Option<String>,
    controller: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct Spec {
    replicas: Option<i64>,
    completions: Option<i64>,
    strategy: Option<Map<String, Value>>,
    update_strategy: Option<Map<String, Value>>,
    schedule: Option<Value>,
    template: Option<PodTemplate>,
    job_template: Option<JobTemplate>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct JobTemplate {
    spec: Option<JobSpec>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct JobSpec {
    template: Option<PodTemplate>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct PodTemplate {
    spec: Option<PodSpec>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct PodSpec {
    containers: Option<Vec<Container>>,
    init_containers: Option<Vec<Container>>,
    node_selector: Option<Map<String, Value>>,
    affinity: Shown,
    tolerations: Option<Vec<IgnoredAny>>,
    topology_spread_constraints: Shown,
    priority_class_name: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct Container {
    name: String,
    image: Option<String>,
    command: Option<Vec<String>>,
    args: Option<Vec<String>>,
    env: Option<Vec<IgnoredAny>>,
    ports: Option<Vec<Port>>,
    resources: Option<Resources>,
    restart_policy: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct Port {
    container_port: Option<i64>,
    protocol: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Resources {
    requests: Option<Quantities>,
    limits: Option<Quantities>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Quantities {
    cpu: Option<String>,
    memory: Option<String>,
}

/// What a document shows: not null, not an empty map or list.
fn shown(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::Object(m) => !m.is_empty(),
        Value::Array(a) => !a.is_empty(),
        _ => true,
    }
}

fn listed(containers: Option<&Option<Vec<Container>>>) -> &[Container] {
    containers.and_then(|c| c.as_deref()).unwrap_or_default()
}

fn non_empty_map(map: &Option<Map<String, Value>>, shown: bool) -> Option<&Map<String, Value>> {
    map.as_ref().filter(|m| shown && !m.is_empty())
}

fn non_empty<T>(list: &Option<Vec<T>>) -> Option<&[T]> {
    list.as_deref().filter(|l| !l.is_empty())
}

impl PartialObject {
    pub fn name(&self) -> &str {
        self.metadata.name.as_deref().unwrap_or_default()
    }

    pub fn labels(&self) -> Option<&Map<String, Value>> {
        self.metadata.labels.as_ref()
    }

    /// The controller, as [`object::controller`] spells it.
    pub fn controller(&self) -> Option<String> {
        let owner = self.metadata.owner_references.as_ref()?.iter().find(|o| o.controller == Some(true))?;
        let kind = owner.kind.as_deref()?.to_lowercase();
        let group = owner.api_version.as_deref().and_then(|v| v.rsplit_once('/')).map_or("", |(g, _)| g);
        let name = owner.name.as_deref()?;
        Some(if group.is_empty() { format!("{kind}/{name}") } else { format!("{kind}.{group}/{name}") })
    }

    /// The reconciler its labels and annotations name (lists do not read managedFields).
    fn reconciler(&self) -> Option<String> {
        let meta = &self.metadata;
        let obj = json!({"metadata": {"namespace": meta.namespace, "labels": meta.labels,
                                      "annotations": meta.annotations}});
        reconciler::detect(&obj).map(|r| r.describe())
    }

    fn pod_spec(&self, plan: &RowPlan) -> Option<&PodSpec> {
        let template = if plan.in_job_template {
            self.spec.job_template.as_ref()?.spec.as_ref()?.template.as_ref()
        } else {
            self.spec.template.as_ref()
        };
        template?.spec.as_ref()
    }

    /// The same rows [`value_rows`] makes of the whole object.
    pub fn rows(
        &self,
        plan: &RowPlan,
        layout: &Layout,
        kind: &KindInfo,
        hpa: Option<&Autoscaler>,
        now: Timestamp,
    ) -> Vec<Vec<String>> {
        let counts = Counts {
            replicas: self.spec.replicas,
            completions: self.spec.completions,
            ..self.status.clone()
        };
        let common = Common {
            namespace: self.metadata.namespace.as_deref().unwrap_or_default(),
            name: self.name(),
            kind: &kind.kind,
            live: status::count_columns(&kind.kind, &counts),
            age: status::age_since(self.metadata.creation_timestamp.as_deref(), now),
            controller: self.controller(),
            reconciler: layout.wide.then(|| self.reconciler()).flatten(),
        };
        let pod = self.pod_spec(plan);
        match layout.role {
            RoleName::Dev => {
                // The document keys containers by name: a repeated name shows once, at its first
                // place, with its last settings (a server refuses such pods anyway).
                let mut shown: Vec<(&str, &str, &Container)> = Vec::new();
                for (key, containers) in [
                    (CONTAINER_LISTS[0], listed(pod.map(|p| &p.containers))),
                    (CONTAINER_LISTS[1], listed(pod.map(|p| &p.init_containers))),
                ] {
                    let start = shown.len();
                    for c in containers {
                        match shown[start..].iter_mut().find(|(_, name, _)| *name == c.name) {
                            Some(entry) => entry.2 = c,
                            None => shown.push((key, &c.name, c)),
                        }
                    }
                }
                let init = listed(pod.map(|p| &p.init_containers));
                let is_sidecar = |name: &str| {
                    init.iter().any(|c| c.name == name && c.restart_policy.as_deref() == Some("Always"))
                };
                shown
                    .into_iter()
                    .map(|(list, name, c)| self.container_cells(plan, list, name, c, is_sidecar(name)))
                    .map(|cells| cells.row(&common, layout))
                    .collect()
            }
            RoleName::Ops => {
                let replicas = match (hpa, self.spec.replicas.filter(|_| plan.replicas)) {
                    (Some(h), _) => hpa_cell(h),
                    (None, Some(n)) => n.to_string(),
                    (None, None) if kind.kind == "DaemonSet" => "per node".into(),
                    (None, None) => "<none>".into(),
                };
                let strategy = non_empty_map(&self.spec.strategy, plan.strategy)
                    .or(non_empty_map(&self.spec.update_strategy, plan.update_strategy))
                    .map(|s| output::cell(s.get("type")))
                    .or_else(|| {
                        let schedule = self.spec.schedule.as_ref().filter(|s| plan.schedule && shown(s));
                        schedule.map(|s| output::cell(Some(s)))
                    })
                    .unwrap_or_else(|| "<none>".into());
                let placement = plan
                    .placement
                    .iter()
                    .filter_map(|which| {
                        let pod = pod?;
                        let name = Placement::ALL.iter().find(|(p, _)| p == which).map(|(_, n)| *n)?;
                        match which {
                            Placement::NodeSelector => non_empty_map(&pod.node_selector, true)
                                .map(|m| placement_entry(name, &Value::Object(m.clone()))),
                            Placement::Affinity => pod.affinity.0.then(|| name.to_string()),
                            Placement::Tolerations => {
                                non_empty(&pod.tolerations).map(|t| format!("{} toleration(s)", t.len()))
                            }
                            Placement::TopologySpreadConstraints => {
                                pod.topology_spread_constraints.0.then(|| name.to_string())
                            }
                            Placement::PriorityClassName => {
                                pod.priority_class_name.as_ref().map(|p| format!("priority={p}"))
                            }
                        }
                    })
                    .collect();
                let labels = plan.labels.as_ref().and_then(|exclude| {
                    let kept: Map<String, Value> = self
                        .metadata
                        .labels
                        .as_ref()?
                        .iter()
                        .filter(|(k, _)| !exclude.contains(k))
                        .map(|(k, v)| (k.clone(), v.clone()))
                        .collect();
                    (!kept.is_empty()).then(|| output::cell(Some(&Value::Object(kept))))
                });
                let wide = vec![
                    labels.unwrap_or_else(|| "<none>".into()),
                    hpa.map_or("<none>".into(), |h| h.name.clone()),
                ];
                vec![common.row(layout, vec![replicas, strategy, none_if_empty(placement)], wide)]
            }
        }
    }

    fn container_cells(
        &self,
        plan: &RowPlan,
        list: &str,
        name: &str,
        c: &Container,
        sidecar: bool,
    ) -> ContainerCells {
        let ports = non_empty(&c.ports)
            .filter(|_| plan.ports)
            .map(|ports| {
                ports
                    .iter()
                    .map(|p| {
                        let number = p.container_port.map_or("null".to_string(), |n| n.to_string());
                        // The document leaves out TCP, the default.
                        match p.protocol.as_deref() {
                            Some(proto) if proto != "TCP" => format!("{number}/{proto}"),
                            _ => number,
                        }
                    })
                    .collect::<Vec<_>>()
                    .join(",")
            })
            .unwrap_or_else(|| "<none>".into());
        let resources = c.resources.as_ref().filter(|_| plan.resources);
        let res = |pick: fn(&Quantities) -> Option<&str>| {
            let request = resources.and_then(|r| r.requests.as_ref()).and_then(pick);
            let limit = resources.and_then(|r| r.limits.as_ref()).and_then(pick);
            resource_cell(request, limit)
        };
        let mut command = Vec::new();
        for (shown, parts) in [(plan.command, &c.command), (plan.args, &c.args)] {
            if shown {
                command.extend(parts.iter().flatten().cloned());
            }
        }
        let env = if plan.env { c.env.as_ref().map_or(0, Vec::len) } else { 0 };
        ContainerCells {
            name: shown_name(list, name, sidecar),
            image: c.image.clone().filter(|_| plan.image).unwrap_or_else(|| "<none>".into()),
            ports,
            cpu: res(|q| q.cpu.as_deref()),
            memory: res(|q| q.memory.as_deref()),
            command: command_cell(command),
            env: env.to_string(),
        }
    }
}

#[cfg(test)]
mod tests;
