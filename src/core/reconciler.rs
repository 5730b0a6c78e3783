//! Who reconciles an object — Flux (a Kustomization or a HelmRelease), Argo CD, a helm release,
//! KubeVela — read from its labels, annotations and managedFields, and what that reconciler will do
//! to a role's write. Pure: the reconciler's own object (a Kustomization's `suspend` and `ignore`, an
//! Application's self-heal, a HelmRelease's drift detection) is read by `cluster/` and passed in.

use serde::Serialize;
use serde_json::{Value, json};

/// Managers of reconcilers that force their applies: they take fields back, never conflict.
pub const FORCING_MANAGERS: [&str; 3] = ["kustomize-controller", "argocd-controller", "helm-controller"];

/// The reconcilers kubectl-oam recognises.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    FluxKustomization,
    FluxHelmRelease,
    ArgoCd,
    Helm,
    KubeVela,
}

/// Where a reconciler keeps its own object (for the look-up of its settings).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Resource {
    pub group: &'static str,
    pub version: &'static str,
    pub plural: &'static str,
    pub kind: &'static str,
}

impl Kind {
    /// How people call it, with the kind of object that drives it.
    pub fn title(self) -> &'static str {
        match self {
            Kind::FluxKustomization => "Flux Kustomization",
            Kind::FluxHelmRelease => "Flux HelmRelease",
            Kind::ArgoCd => "Argo CD Application",
            Kind::Helm => "helm release",
            Kind::KubeVela => "KubeVela Application",
        }
    }

    /// The names `--for` takes.
    pub fn flag(self) -> &'static str {
        match self {
            Kind::FluxKustomization => "flux-kustomization",
            Kind::FluxHelmRelease => "flux-helmrelease",
            Kind::ArgoCd => "argocd",
            Kind::Helm => "helm",
            Kind::KubeVela => "kubevela",
        }
    }

    /// The field managers it writes as (server-side apply or update).
    pub fn managers(self) -> &'static [&'static str] {
        match self {
            Kind::FluxKustomization => &["kustomize-controller"],
            Kind::FluxHelmRelease => &["helm-controller"],
            Kind::ArgoCd => &["argocd-controller", "argocd-application-controller"],
            Kind::Helm => &["helm"],
            Kind::KubeVela => &["kubevela", "vela-core"],
        }
    }

    /// The object that drives it, when it has one kubectl-oam can read.
    pub fn resource(self) -> Option<Resource> {
        match self {
            Kind::FluxKustomization => Some(Resource {
                group: "kustomize.toolkit.fluxcd.io",
                version: "v1",
                plural: "kustomizations",
                kind: "Kustomization",
            }),
            Kind::FluxHelmRelease => Some(Resource {
                group: "helm.toolkit.fluxcd.io",
                version: "v2",
                plural: "helmreleases",
                kind: "HelmRelease",
            }),
            Kind::ArgoCd => Some(Resource {
                group: "argoproj.io",
                version: "v1alpha1",
                plural: "applications",
                kind: "Application",
            }),
            Kind::Helm | Kind::KubeVela => None,
        }
    }

    pub fn from_flag(text: &str) -> Option<Kind> {
        [Kind::ArgoCd, Kind::FluxHelmRelease, Kind::FluxKustomization, Kind::Helm, Kind::KubeVela]
            .into_iter()
            .find(|k| k.flag() == text)
    }
}

/// The reconciler of one object, as its labels, annotations and managers name it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reconciler {
    pub kind: Kind,
    /// The driving object (Kustomization, HelmRelease, Application) or the release.
    pub name: String,
    /// Empty when the object does not say (an Argo CD Application tracked by label).
    pub namespace: String,
    /// What gave it away: `label kustomize.toolkit.fluxcd.io/name`, `manager argocd-controller`.
    pub evidence: String,
}

impl Reconciler {
    /// `Flux Kustomization flux-system/apps`.
    pub fn describe(&self) -> String {
        match (self.namespace.as_str(), self.name.as_str()) {
            (_, "") => format!("{} (name unknown)", self.kind.title()),
            ("", name) => format!("{} {name}", self.kind.title()),
            (ns, name) => format!("{} {ns}/{name}", self.kind.title()),
        }
    }
}

const FLUX_KS_NAME: &str = "kustomize.toolkit.fluxcd.io/name";
const FLUX_KS_NAMESPACE: &str = "kustomize.toolkit.fluxcd.io/namespace";
const FLUX_HR_NAME: &str = "helm.toolkit.fluxcd.io/name";
const FLUX_HR_NAMESPACE: &str = "helm.toolkit.fluxcd.io/namespace";
/// Flux's per-object apply policy (`Merge`, `Ignore`, `IfNotPresent`).
pub const FLUX_SSA: &str = "kustomize.toolkit.fluxcd.io/ssa";
const ARGO_TRACKING: &str = "argocd.argoproj.io/tracking-id";
const ARGO_INSTANCE: &str = "argocd.argoproj.io/instance";
const INSTANCE: &str = "app.kubernetes.io/instance";
const MANAGED_BY: &str = "app.kubernetes.io/managed-by";
const HELM_RELEASE: &str = "meta.helm.sh/release-name";
const HELM_NAMESPACE: &str = "meta.helm.sh/release-namespace";
const VELA_NAME: &str = "app.oam.dev/name";
const VELA_NAMESPACE: &str = "app.oam.dev/namespace";

fn text<'a>(obj: &'a Value, section: &str, key: &str) -> Option<&'a str> {
    obj["metadata"][section].get(key).and_then(Value::as_str).filter(|s| !s.is_empty())
}

fn has_manager(obj: &Value, names: &[&str]) -> Option<String> {
    obj["metadata"]["managedFields"]
        .as_array()?
        .iter()
        .filter_map(|e| e["manager"].as_str())
        .find(|m| names.contains(m))
        .map(str::to_string)
}

/// Could `name` name an object (a DNS subdomain: lowercase letters, digits, `-` and `.`)? A tracking
/// id or label that does not is not looked up.
fn object_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 253
        && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.')
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name.ends_with(|c: char| c.is_ascii_alphanumeric())
}

/// The reconciler of `obj`, the most specific first: Flux and Argo CD drive helm charts too, so
/// their marks win over helm's own labels.
pub fn detect(obj: &Value) -> Option<Reconciler> {
    let own_namespace = obj["metadata"]["namespace"].as_str().unwrap_or_default();
    let found = |kind, name: &str, namespace: &str, evidence: String| Reconciler {
        kind,
        name: name.to_string(),
        namespace: namespace.to_string(),
        evidence,
    };
    if let Some(name) = text(obj, "labels", FLUX_KS_NAME) {
        let ns = text(obj, "labels", FLUX_KS_NAMESPACE).unwrap_or(own_namespace);
        return Some(found(Kind::FluxKustomization, name, ns, format!("label {FLUX_KS_NAME}")));
    }
    if let Some(name) = text(obj, "labels", FLUX_HR_NAME) {
        let ns = text(obj, "labels", FLUX_HR_NAMESPACE).unwrap_or(own_namespace);
        return Some(found(Kind::FluxHelmRelease, name, ns, format!("label {FLUX_HR_NAME}")));
    }
    if let Some(id) = text(obj, "annotations", ARGO_TRACKING) {
        // APP:GROUP/KIND:NAMESPACE/NAME, APP being NAMESPACE_NAME for an Application outside
        // Argo CD's own namespace.
        let app = id.split(':').next().unwrap_or(id);
        let (ns, name) = app.split_once('_').unwrap_or(("", app));
        let (ns, name) =
            if object_name(name) && (ns.is_empty() || object_name(ns)) { (ns, name) } else { ("", "") };
        return Some(found(Kind::ArgoCd, name, ns, format!("annotation {ARGO_TRACKING}")));
    }
    if let Some(app) = text(obj, "labels", ARGO_INSTANCE) {
        let app = if object_name(app) { app } else { "" };
        return Some(found(Kind::ArgoCd, app, "", format!("label {ARGO_INSTANCE}")));
    }
    if let Some(manager) = has_manager(obj, Kind::ArgoCd.managers()) {
        // Label tracking: `app.kubernetes.io/instance` names the Application (helm charts set the
        // same label, so it counts only with Argo CD's manager beside it).
        let app = text(obj, "labels", INSTANCE).filter(|a| object_name(a)).unwrap_or_default();
        return Some(found(Kind::ArgoCd, app, "", format!("manager {manager}")));
    }
    if let Some(name) = text(obj, "labels", VELA_NAME) {
        let ns = text(obj, "labels", VELA_NAMESPACE).unwrap_or(own_namespace);
        return Some(found(Kind::KubeVela, name, ns, format!("label {VELA_NAME}")));
    }
    let helm_label = text(obj, "labels", MANAGED_BY).is_some_and(|v| v.eq_ignore_ascii_case("helm"));
    if let Some(release) = text(obj, "annotations", HELM_RELEASE).filter(|_| helm_label) {
        let ns = text(obj, "annotations", HELM_NAMESPACE).unwrap_or(own_namespace);
        return Some(found(Kind::Helm, release, ns, format!("annotation {HELM_RELEASE}")));
    }
    None
}

/// What kubectl-oam read of the reconciler's own object.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Settings {
    /// Not reconciling now (a suspended Kustomization or HelmRelease).
    pub suspended: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub interval: Option<String>,
    /// Argo CD: automated sync, and self-heal (correcting live changes without a new commit).
    pub automated: bool,
    pub self_heal: bool,
    /// Argo CD: `RespectIgnoreDifferences=true` (a sync leaves ignored fields alone too).
    pub respect_ignore: bool,
    /// Flux HelmRelease: `driftDetection.mode` (enabled, warn, disabled).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub drift_mode: Option<String>,
    /// JSON pointers it leaves alone on this object.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ignored_paths: Vec<String>,
    /// Argo CD: managers whose fields it leaves alone on this object.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ignored_managers: Vec<String>,
}

/// The object a role writes, as reconcilers' selectors address it.
#[derive(Debug, Clone, Copy)]
pub struct ObjectRef<'a> {
    pub api_version: &'a str,
    pub kind: &'a str,
    pub name: &'a str,
    pub namespace: &'a str,
    /// Its labels and annotations (maps, or null), for label and annotation selectors.
    pub labels: &'a Value,
    pub annotations: &'a Value,
}

impl<'a> ObjectRef<'a> {
    /// The object as `obj` names itself; `api_version`/`kind` from the profile's kind.
    pub fn of(api_version: &'a str, kind: &'a str, obj: &'a Value) -> ObjectRef<'a> {
        ObjectRef {
            api_version,
            kind,
            name: obj["metadata"]["name"].as_str().unwrap_or_default(),
            namespace: obj["metadata"]["namespace"].as_str().unwrap_or_default(),
            labels: &obj["metadata"]["labels"],
            annotations: &obj["metadata"]["annotations"],
        }
    }

    pub fn group(&self) -> &str {
        self.api_version.rsplit_once('/').map_or("", |(g, _)| g)
    }

    fn version(&self) -> &str {
        self.api_version.rsplit_once('/').map_or(self.api_version, |(_, v)| v)
    }
}

/// Does a Flux/kustomize selector select `object`? `group`, `version`, `kind`, `name` and
/// `namespace` are anchored regular expressions (as fluxcd/pkg/ssa reads them), `labelSelector` and
/// `annotationSelector` Kubernetes label selectors. A pattern that does not parse selects nothing.
fn selects(target: &Value, object: &ObjectRef) -> bool {
    let matches =
        |key: &str, have: &str| match target.get(key).and_then(Value::as_str).filter(|s| !s.is_empty()) {
            None => true,
            Some(pattern) => regex::Regex::new(&format!("^(?:{pattern})$")).is_ok_and(|re| re.is_match(have)),
        };
    let selector = |key: &str, map: &Value| {
        target
            .get(key)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .is_none_or(|sel| label_selector(sel, map))
    };
    matches("group", object.group())
        && matches("version", object.version())
        && matches("kind", object.kind)
        && matches("name", object.name)
        && matches("namespace", object.namespace)
        && selector("labelSelector", object.labels)
        && selector("annotationSelector", object.annotations)
}

/// A Kubernetes label selector (`a=b,c!=d,e,!f,g in (h,i),j notin (k)`) against a map of labels.
pub fn label_selector(selector: &str, labels: &Value) -> bool {
    let value = |key: &str| labels.get(key).and_then(Value::as_str);
    // Split on commas outside parentheses.
    let mut terms = Vec::new();
    let (mut depth, mut start) = (0, 0);
    for (i, c) in selector.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                terms.push(&selector[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    terms.push(&selector[start..]);
    terms.into_iter().map(str::trim).filter(|t| !t.is_empty()).all(|term| {
        let set = |rest: &str| -> Vec<String> {
            rest.trim()
                .trim_start_matches('(')
                .trim_end_matches(')')
                .split(',')
                .map(|v| v.trim().to_string())
                .collect()
        };
        if let Some((key, rest)) = term.split_once(" notin ") {
            return value(key.trim()).is_none_or(|v| !set(rest).iter().any(|x| x == v));
        }
        if let Some((key, rest)) = term.split_once(" in ") {
            return value(key.trim()).is_some_and(|v| set(rest).iter().any(|x| x == v));
        }
        if let Some((key, want)) = term.split_once("!=") {
            return value(key.trim()) != Some(want.trim());
        }
        if let Some((key, want)) = term.split_once("==").or_else(|| term.split_once('=')) {
            return value(key.trim()) == Some(want.trim());
        }
        match term.strip_prefix('!') {
            Some(key) => value(key.trim()).is_none() && labels.get(key.trim()).is_none(),
            None => labels.get(term).is_some(),
        }
    })
}

fn strings(value: &Value) -> Vec<String> {
    value.as_array().into_iter().flatten().filter_map(Value::as_str).map(str::to_string).collect()
}

/// Reads the settings that decide what the reconciler does to `object` from its own object.
pub fn settings(kind: Kind, driver: &Value, object: &ObjectRef) -> Settings {
    let spec = &driver["spec"];
    let mut out = Settings {
        suspended: spec["suspend"].as_bool().unwrap_or(false),
        interval: spec["interval"].as_str().map(str::to_string),
        ..Settings::default()
    };
    match kind {
        Kind::FluxKustomization => {
            for rule in spec["ignore"].as_array().into_iter().flatten() {
                let applies = rule.get("target").is_none_or(|t| selects(t, object));
                if applies {
                    out.ignored_paths.extend(strings(&rule["paths"]));
                }
            }
        }
        Kind::FluxHelmRelease => {
            let drift = &spec["driftDetection"];
            out.drift_mode = Some(drift["mode"].as_str().unwrap_or("disabled").to_string());
            for rule in drift["ignore"].as_array().into_iter().flatten() {
                if rule.get("target").is_none_or(|t| selects(t, object)) {
                    out.ignored_paths.extend(strings(&rule["paths"]));
                }
            }
        }
        Kind::ArgoCd => {
            let sync = &spec["syncPolicy"];
            // Argo CD v3: `automated.enabled: false` keeps the settings but turns automation off.
            out.automated =
                sync.get("automated").is_some_and(|a| !a.is_null() && a["enabled"] != Value::Bool(false));
            out.self_heal = out.automated && sync["automated"]["selfHeal"].as_bool().unwrap_or(false);
            out.respect_ignore =
                strings(&sync["syncOptions"]).iter().any(|o| o == "RespectIgnoreDifferences=true");
            for rule in spec["ignoreDifferences"].as_array().into_iter().flatten() {
                let field = |key: &str| rule.get(key).and_then(Value::as_str).unwrap_or_default();
                let applies = field("group") == object.group()
                    && field("kind") == object.kind
                    && (field("name").is_empty() || field("name") == object.name)
                    && (field("namespace").is_empty() || field("namespace") == object.namespace);
                if applies {
                    out.ignored_paths.extend(strings(&rule["jsonPointers"]));
                    out.ignored_managers.extend(strings(&rule["managedFieldsManagers"]));
                }
            }
        }
        Kind::Helm | Kind::KubeVela => {}
    }
    out
}

/// What kubectl-oam knows of the reconciler's settings.
#[derive(Debug, Clone, PartialEq)]
pub enum Known {
    Read(Settings),
    /// Not read, and why (no permission, CRD not installed, the object is gone, it has none).
    NotRead(String),
}

/// A field of the write, with where it is and who owned it before.
#[derive(Debug, Clone)]
pub struct Change {
    /// As role documents name it: `containers.app.image`.
    pub label: String,
    /// JSON pointer in the live object (`/spec/template/spec/containers/0/image`).
    pub pointer: String,
    /// Held by one of the reconciler's managers: it applies this field (Git or the chart sets it).
    pub reconciler_owns: bool,
    /// Held by the reconciler through server-side apply (helm 4), not an update (helm 3).
    pub reconciler_applies: bool,
    /// Held by a `kubectl*` manager (kubectl-oam's roles among them): perhaps taken from the
    /// reconciler earlier (`--force-conflicts`, `adopt`), so Git may still set it.
    pub taken: bool,
}

/// When a reconciler undoes a write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum When {
    /// Automatically, at its next reconcile: the write does not last.
    Soon(String),
    /// At a later event (the next upgrade or sync someone starts), or when it cannot be told.
    Later(String),
}

impl When {
    fn text(&self) -> &str {
        match self {
            When::Soon(w) | When::Later(w) => w,
        }
    }
}

/// What the reconciler will do to a role's write.
#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    pub reconciler: Reconciler,
    /// Fields it will put back (it applies them).
    pub reverted: Vec<String>,
    /// Fields it puts back if Git sets them: held by a `kubectl*` manager now, perhaps taken from it.
    pub maybe: Vec<String>,
    pub when: Option<When>,
    /// Flux takes the fields of `kubectl*` managers over at every apply of the object: what Git does
    /// not have is removed with that apply.
    pub drops_ownership: bool,
    /// helm 4 applies its chart with server-side apply: fields taken from it with
    /// `--force-conflicts` make its next `helm upgrade` fail on a conflict.
    pub blocks_upgrade: bool,
    pub settings: Known,
}

impl Verdict {
    /// Undone for sure, without anyone acting: refused unless the user says it is meant to be
    /// temporary.
    pub fn certain(&self) -> bool {
        !self.reverted.is_empty() && matches!(self.when, Some(When::Soon(_)))
    }

    /// Anything worth saying before the write.
    pub fn matters(&self) -> bool {
        !self.reverted.is_empty() || !self.maybe.is_empty() || self.drops_ownership || self.blocks_upgrade
    }
}

/// ` (every 10m)`, when the interval was read.
fn every(settings: &Known) -> String {
    match settings {
        Known::Read(Settings { interval: Some(i), .. }) => format!(" (every {i})"),
        _ => String::new(),
    }
}

/// Flux's per-object opt-outs: `kustomize.toolkit.fluxcd.io/ssa: Ignore|IfNotPresent` and
/// `kustomize.toolkit.fluxcd.io/reconcile: disabled` leave the object alone.
pub const FLUX_RECONCILE: &str = "kustomize.toolkit.fluxcd.io/reconcile";

/// Decides what `reconciler` does to a write of `changes` by `manager` (`forced`: with
/// --force-conflicts). `annotations`: the object's, for Flux's per-object settings.
pub fn judge(
    reconciler: &Reconciler,
    settings: Known,
    changes: &[Change],
    manager: &str,
    forced: bool,
    annotations: &Value,
) -> Verdict {
    let read = match &settings {
        Known::Read(s) => Some(s),
        Known::NotRead(_) => None,
    };
    let ignored = |c: &Change| {
        read.is_some_and(|s| {
            s.ignored_paths.iter().any(|p| c.pointer == *p || c.pointer.starts_with(&format!("{p}/")))
        })
    };
    let labels = |pick: &dyn Fn(&Change) -> bool| -> Vec<String> {
        changes.iter().filter(|c| pick(c)).map(|c| c.label.clone()).collect()
    };
    let mut verdict = Verdict {
        reconciler: reconciler.clone(),
        reverted: Vec::new(),
        maybe: Vec::new(),
        when: None,
        drops_ownership: false,
        blocks_upgrade: false,
        settings: settings.clone(),
    };
    let suspended = read.is_some_and(|s| s.suspended);
    match reconciler.kind {
        Kind::FluxKustomization => {
            let annotation = |key: &str| {
                annotations.get(key).and_then(Value::as_str).unwrap_or_default().to_ascii_lowercase()
            };
            let policy = annotation(FLUX_SSA);
            if policy == "ignore" || policy == "ifnotpresent" || annotation(FLUX_RECONCILE) == "disabled" {
                return verdict;
            }
            verdict.reverted = labels(&|c| c.reconciler_owns && !ignored(c));
            verdict.maybe = labels(&|c| !c.reconciler_owns && c.taken && !ignored(c));
            verdict.drops_ownership =
                !changes.is_empty() && manager.starts_with("kubectl") && policy != "merge";
            verdict.when = Some(match (read, suspended) {
                (Some(_), true) => When::Later("when the Kustomization is resumed".into()),
                (Some(_), false) => When::Soon(format!("at its next reconcile{}", every(&settings))),
                (None, _) => When::Later(
                    "at its next reconcile, if the Kustomization exists and is not suspended".into(),
                ),
            });
        }
        Kind::FluxHelmRelease => {
            verdict.reverted = labels(&|c| c.reconciler_owns);
            let mode = read.and_then(|s| s.drift_mode.as_deref()).unwrap_or("disabled");
            verdict.when = Some(match (read.is_some(), suspended, mode) {
                (false, _, _) => When::Later(
                    "at the release's next upgrade, or at its next reconcile if drift detection is enabled"
                        .into(),
                ),
                (true, true, _) => When::Later("when the HelmRelease is resumed and upgrades".into()),
                (true, false, "enabled") => {
                    // Drift correction leaves ignored paths alone; an upgrade still sets them.
                    let corrected = labels(&|c| c.reconciler_owns && !ignored(c));
                    if corrected.is_empty() {
                        When::Later("at the release's next upgrade".into())
                    } else {
                        verdict.reverted = corrected;
                        When::Soon(format!(
                            "at its next reconcile (drift detection is enabled){}",
                            every(&settings)
                        ))
                    }
                }
                _ => When::Later("at the release's next upgrade".into()),
            });
        }
        Kind::ArgoCd => {
            // Ignored fields are not part of Argo CD's diff, so self-heal never fires for them; with
            // RespectIgnoreDifferences a sync leaves them alone too.
            let not_diffed = |c: &Change| {
                read.is_some_and(|s| s.ignored_managers.iter().any(|m| m == manager) || ignored(c))
            };
            let respected = read.is_some_and(|s| s.respect_ignore);
            let healing = read.is_some_and(|s| s.automated && s.self_heal);
            let put_back = |c: &Change| !(not_diffed(c) && respected);
            verdict.reverted = labels(&|c| c.reconciler_owns && put_back(c));
            verdict.maybe = labels(&|c| !c.reconciler_owns && c.taken && put_back(c));
            let all_not_diffed = changes.iter().filter(|c| put_back(c)).all(not_diffed);
            verdict.when = Some(match read {
                Some(_) if healing && !all_not_diffed => {
                    When::Soon("at once (automated sync with self-heal is on)".into())
                }
                Some(s) if s.automated => When::Later("at the next automated sync (a new commit)".into()),
                Some(_) => When::Later("at the next sync".into()),
                None => When::Later("at the next sync (or at once, if self-heal is on)".into()),
            });
        }
        Kind::Helm => {
            // helm 4 applies: a forced take-over makes its next upgrade conflict. helm 3 updates
            // (a three-way patch): its next upgrade puts the chart's values back.
            verdict.blocks_upgrade =
                forced && changes.iter().any(|c| c.reconciler_owns && c.reconciler_applies);
            verdict.reverted = labels(&|c| c.reconciler_owns && !(forced && c.reconciler_applies));
            verdict.when = Some(When::Later("at the release's next `helm upgrade`".into()));
        }
        Kind::KubeVela => {
            verdict.reverted = labels(&|c| c.reconciler_owns);
            verdict.when = Some(When::Soon("at its next reconcile".into()));
        }
    }
    verdict
}

/// The ways forward, as commands the user can paste: `suggest(words)` makes a kubectl-oam command
/// for the written object (its namespace and the user's cluster flags), `object` names it
/// (`deployment.apps/shop`).
pub fn ways_forward(
    verdict: &Verdict,
    role: &str,
    object: &str,
    suggest: &dyn Fn(&str) -> String,
) -> Vec<String> {
    let r = &verdict.reconciler;
    let ns = match r.namespace.as_str() {
        "" => String::new(),
        n => format!(" -n {n}"),
    };
    let mut ways = Vec::new();
    match r.kind {
        Kind::FluxKustomization => {
            ways.push("change it in Git".to_string());
            ways.push(format!("suspend the Kustomization (flux suspend kustomization {}{ns})", r.name));
            ways.push(format!(
                "let Flux leave the role's fields alone: {}",
                suggest(&format!("{role} gitops {object}"))
            ));
        }
        Kind::FluxHelmRelease => {
            ways.push("change the release's values in Git".to_string());
            ways.push(format!("suspend the HelmRelease (flux suspend helmrelease {}{ns})", r.name));
            ways.push(format!(
                "let drift detection leave the role's fields alone: {}",
                suggest(&format!("{role} gitops {object}"))
            ));
        }
        Kind::ArgoCd => {
            ways.push("change it in Git".to_string());
            ways.push(format!(
                "let Argo CD leave the role's fields alone: {}",
                suggest(&format!("{role} gitops {object}"))
            ));
        }
        Kind::Helm => {
            ways.push("change the chart's values".to_string());
            if verdict.blocks_upgrade {
                ways.push(format!(
                    "hand the fields back before the next upgrade: {}",
                    suggest(&format!("{role} release {object} --to helm"))
                ));
            }
        }
        Kind::KubeVela => {
            ways.push(format!("change the KubeVela Application {}{ns}", r.name));
        }
    }
    ways
}

/// One warning (or refusal) line: `object` names the written object and its namespace.
pub fn message(verdict: &Verdict, object: &str, role_manager: &str, ways: &[String]) -> String {
    let r = &verdict.reconciler;
    let mut text = format!("{object} is reconciled by {} ({})", r.describe(), r.evidence);
    if let Known::NotRead(why) = &verdict.settings {
        text.push_str(&format!("; its settings were not read: {why}"));
    }
    let when = verdict.when.as_ref().map_or("", When::text);
    let mut said = Vec::new();
    if !verdict.reverted.is_empty() {
        said.push(format!("it puts back {} {when}", verdict.reverted.join(", ")));
    }
    if !verdict.maybe.is_empty() {
        let them = if verdict.maybe.len() == 1 { "it" } else { "them" };
        said.push(format!("it puts back {} {when} if Git sets {them}", verdict.maybe.join(", ")));
    }
    if verdict.blocks_upgrade {
        said.push(format!(
            "its next `helm upgrade` fails on a conflict with {role_manager} over the fields taken from helm"
        ));
    }
    if verdict.drops_ownership {
        said.push(format!(
            "at each apply Flux also takes {role_manager}'s fields over, removing those Git does not have (unless the object in Git carries {FLUX_SSA}: Merge)"
        ));
    }
    if !said.is_empty() {
        text.push_str(&format!(": {}", said.join("; ")));
    }
    if !ways.is_empty() {
        text.push_str(&format!("; {}", ways.join("; ")));
    }
    text
}

/// A reconciler configuration that leaves a role's live changes alone: the object to merge into the
/// reconciler's own (Argo CD Application, Flux HelmRelease or Kustomization), with notes on what it
/// does and does not cover. `pointers`: the role's fields on the object, as JSON pointers.
pub fn gitops_config(
    kind: Kind,
    reconciler: Option<&Reconciler>,
    object: &ObjectRef,
    manager: &str,
    pointers: &[String],
    settings: Option<&Settings>,
) -> (Value, Vec<String>) {
    let driver = |default_ns: &str| {
        let name = reconciler.filter(|r| r.kind == kind).map_or("NAME", |r| r.name.as_str()).to_string();
        let namespace = reconciler
            .filter(|r| r.kind == kind && !r.namespace.is_empty())
            .map_or(default_ns, |r| r.namespace.as_str())
            .to_string();
        (name, namespace)
    };
    // Flux addresses fields by JSON pointer; Argo CD by the manager that owns them.
    let mut notes = Vec::new();
    if kind != Kind::ArgoCd
        && pointers.iter().any(|p| p.contains("/containers/") || p.contains("/initContainers/"))
    {
        notes.push(
            "JSON pointers name containers by position in the live object: update them if the containers are reordered"
                .to_string(),
        );
    }
    match kind {
        Kind::ArgoCd => {
            let (name, namespace) = driver("argocd");
            let mut rule = json!({"group": object.group(), "kind": object.kind, "name": object.name,
                                  "namespace": object.namespace, "managedFieldsManagers": [manager]});
            if object.group().is_empty() {
                rule.as_object_mut().map(|m| m.remove("group"));
            }
            notes.push(format!(
                "Argo CD then leaves the fields {manager} owns alone, in its diff and (RespectIgnoreDifferences) in its syncs; add the entries to the Application's existing lists"
            ));
            (
                json!({
                    "apiVersion": "argoproj.io/v1alpha1",
                    "kind": "Application",
                    "metadata": {"name": name, "namespace": namespace},
                    "spec": {
                        "ignoreDifferences": [rule],
                        "syncPolicy": {"syncOptions": ["RespectIgnoreDifferences=true"]},
                    },
                }),
                notes,
            )
        }
        Kind::FluxHelmRelease => {
            let (name, namespace) = driver(object.namespace);
            let mode = settings.and_then(|s| s.drift_mode.clone()).filter(|m| m != "disabled");
            notes.push(
                "drift detection then leaves these paths alone; the release's next upgrade still sets what the chart renders for them: change the values in Git for a lasting change"
                    .to_string(),
            );
            (
                json!({
                    "apiVersion": "helm.toolkit.fluxcd.io/v2",
                    "kind": "HelmRelease",
                    "metadata": {"name": name, "namespace": namespace},
                    "spec": {"driftDetection": {
                        "mode": mode.unwrap_or_else(|| "enabled".into()),
                        "ignore": [{"paths": pointers, "target": flux_target(object)}],
                    }},
                }),
                notes,
            )
        }
        Kind::FluxKustomization => {
            let (name, namespace) = driver("flux-system");
            notes.push(format!(
                "Flux then leaves these paths out of drift detection and keeps their live values; without the annotation {FLUX_SSA}: Merge on the object in Git it still takes {manager}'s fields over at each apply (these paths keep their values, owned by kustomize-controller; fields the role added that Git does not have are removed)"
            ));
            (
                json!({
                    "apiVersion": "kustomize.toolkit.fluxcd.io/v1",
                    "kind": "Kustomization",
                    "metadata": {"name": name, "namespace": namespace},
                    "spec": {"ignore": [{"paths": pointers, "target": flux_target(object)}]},
                }),
                notes,
            )
        }
        Kind::Helm | Kind::KubeVela => (Value::Null, notes),
    }
}

fn flux_target(object: &ObjectRef) -> Value {
    let mut target = json!({"group": object.group(), "version": object.version(), "kind": object.kind,
                            "name": object.name, "namespace": object.namespace});
    if object.group().is_empty() {
        target.as_object_mut().map(|m| m.remove("group"));
    }
    target
}

#[cfg(test)]
mod tests;
