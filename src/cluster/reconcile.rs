//! What the reconciler of an object (Flux, Argo CD, helm, KubeVela) will do to a role's write: the
//! reconciler is recognised from the object itself (`core::reconciler::detect`), its own object
//! (Kustomization, HelmRelease, Application) is read with one GET when the user may, and the
//! judgement is `core::reconciler::judge`. Only writes to reconciled objects pay that request.

use kube::api::{Api, ApiResource, DynamicObject};
use serde_json::Value;

use crate::cluster::client::Cluster;
use crate::core::ownership::{self, Unit};
use crate::core::reconciler::{self, Change, Known, ObjectRef, Reconciler, Verdict};
use crate::model::managed::managed_entries;
use crate::model::roles::{KindInfo, Profile, RoleName};

/// Where Argo CD keeps Applications unless the tracking id names another namespace.
const ARGO_NAMESPACE: &str = "argocd";

/// The reconciler's settings for `object`, or why they could not be read.
pub async fn settings(cluster: &Cluster, found: &Reconciler, object: &ObjectRef<'_>) -> Known {
    let Some(resource) = found.kind.resource() else {
        return Known::NotRead(format!("a {} has no object to read", found.kind.title()));
    };
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

/// What the reconciler of `live` does to a write of the units labelled `changed` by `manager`; None
/// when the object has no reconciler kubectl-oam knows, or when it leaves the write alone.
#[allow(clippy::too_many_arguments)]
pub async fn judge(
    cluster: &Cluster,
    profile: &Profile,
    role: RoleName,
    kind: &KindInfo,
    live: &Value,
    changed: &[String],
    manager: &str,
    forced: bool,
) -> Option<Verdict> {
    let found = reconciler::detect(live)?;
    if changed.is_empty() {
        return None;
    }
    let name = live["metadata"]["name"].as_str().unwrap_or_default();
    let namespace = live["metadata"]["namespace"].as_str().unwrap_or_default();
    let object = ObjectRef { api_version: &kind.api_version, kind: &kind.kind, name, namespace };
    let changes = changes(profile, role, kind, live, changed, found.kind.managers());
    let settings = settings(cluster, &found, &object).await;
    let flux_ssa = live["metadata"]["annotations"].get(reconciler::FLUX_SSA).and_then(Value::as_str);
    let verdict = reconciler::judge(&found, settings, &changes, manager, forced, flux_ssa);
    verdict.matters().then_some(verdict)
}

/// The changed units with their JSON pointers and whether the reconciler's managers hold them.
fn changes(
    profile: &Profile,
    role: RoleName,
    kind: &KindInfo,
    live: &Value,
    changed: &[String],
    managers: &[&str],
) -> Vec<Change> {
    let units = ownership::units(profile, role, kind, live);
    let entries: Vec<_> =
        managed_entries(live).into_iter().filter(|e| managers.contains(&e.manager.as_str())).collect();
    changed
        .iter()
        .map(|label| {
            let unit: Option<&Unit> = units.iter().find(|u| &u.label == label);
            let pointer = unit.and_then(|u| ownership::json_pointer(live, &u.path)).unwrap_or_default();
            let reconciler_owns =
                unit.is_some_and(|u| !ownership::holders(&entries, &u.path, None).is_empty());
            Change { label: label.clone(), pointer, reconciler_owns }
        })
        .collect()
}
