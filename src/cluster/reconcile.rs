//! What the reconciler of an object (Flux, Argo CD, helm, KubeVela) will do to a role's write: the
//! reconciler is recognised from the object itself (`core::reconciler::detect`), its own object
//! (Kustomization, HelmRelease, Application) is read with one GET when the user may, and the
//! judgement is `core::reconciler::judge`. Only writes to reconciled objects pay that request.

use kube::api::{Api, ApiResource, DynamicObject};
use serde_json::Value;

use crate::cluster::client::Cluster;
use crate::core::ownership::{self, Unit, Units};
use crate::core::reconciler::{self, Change, Known, ObjectRef, Reconciler, Verdict};
use crate::model::managed::managed_entries;
use crate::model::roles::KindInfo;

/// Where Argo CD keeps Applications unless the tracking id names another namespace.
const ARGO_NAMESPACE: &str = "argocd";

/// The reconciler's settings for `object`, or why they could not be read.
pub async fn settings(cluster: &Cluster, found: &Reconciler, object: &ObjectRef<'_>) -> Known {
    let Some(resource) = found.kind.resource() else {
        return Known::NotRead(format!("a {} has no object to read", found.kind.title()));
    };
    if found.name.is_empty() {
        return Known::NotRead(format!(
            "the object does not name its {} ({})",
            resource.kind, found.evidence
        ));
    }
    let namespace = match (found.namespace.as_str(), found.kind) {
        ("", reconciler::Kind::ArgoCd) => ARGO_NAMESPACE,
        ("", _) => object.namespace,
        (ns, _) => ns,
    };
    let api_resource = ApiResource {
        group: resource.group.into(),
        version: resource.version.into(),
        api_version: format!("{}/{}", resource.group, resource.version),
        kind: resource.kind.into(),
        plural: resource.plural.into(),
    };
    let api: Api<DynamicObject> = Api::namespaced_with(cluster.client.clone(), namespace, &api_resource);
    let what = format!("{} {namespace}/{}", resource.kind, found.name);
    match api.get(&found.name).await {
        Ok(driver) => match serde_json::to_value(driver) {
            Ok(driver) => Known::Read(reconciler::settings(found.kind, &driver, object)),
            Err(e) => Known::NotRead(format!("{what} could not be read ({e})")),
        },
        Err(kube::Error::Api(status)) if status.code == 404 => {
            Known::NotRead(format!("{what} not found (or its CRD is not installed)"))
        }
        Err(kube::Error::Api(status)) if status.code == 403 => {
            Known::NotRead(format!("reading {what} is forbidden ({})", status.message))
        }
        Err(e) => Known::NotRead(format!("{what} could not be read ({e})")),
    }
}

/// What the reconciler of `live` (an object of `kind`, whose role units are `units`) does to a write
/// of the units labelled `changed` by `manager`; None when the object has no reconciler
/// kubectl-oam knows, or when it leaves the write alone.
pub async fn judge(
    cluster: &Cluster,
    kind: &KindInfo,
    live: &Value,
    units: &Units,
    changed: &[String],
    manager: &str,
    forced: bool,
) -> Option<Verdict> {
    let found = reconciler::detect(live)?;
    if changed.is_empty() {
        return None;
    }
    let object = ObjectRef::of(&kind.api_version, &kind.kind, live);
    let changes = changes(live, units, changed, found.kind.managers());
    let settings = settings(cluster, &found, &object).await;
    let verdict =
        reconciler::judge(&found, settings, &changes, manager, forced, &live["metadata"]["annotations"]);
    verdict.matters().then_some(verdict)
}

/// The changed units with their JSON pointers and who holds them.
fn changes(live: &Value, units: &Units, changed: &[String], managers: &[&str]) -> Vec<Change> {
    let entries = managed_entries(live);
    let theirs: Vec<_> = entries.iter().filter(|e| managers.contains(&e.manager.as_str())).cloned().collect();
    let applied: Vec<_> = theirs.iter().filter(|e| e.operation == "Apply").cloned().collect();
    let kubectl: Vec<_> = entries.iter().filter(|e| e.manager.starts_with("kubectl")).cloned().collect();
    changed
        .iter()
        .map(|label| {
            let unit: Option<&Unit> = units.iter().find(|u| &u.label == label);
            let held = |by: &[_]| unit.is_some_and(|u| !ownership::holders(by, &u.path, None).is_empty());
            Change {
                label: label.clone(),
                pointer: unit.and_then(|u| ownership::json_pointer(live, &u.path)).unwrap_or_default(),
                reconciler_owns: held(&theirs),
                reconciler_applies: held(&applied),
                taken: held(&kubectl),
            }
        })
        .collect()
}
