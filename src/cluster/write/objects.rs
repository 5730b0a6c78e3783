//! Writes of whole objects outside a role's pipeline: the objects `kubectl oam policy` installs,
//! and the deletion of an object kubectl-oam created around a workload (`ops expose --delete`).

use kube::api::{Patch, PatchParams};
use serde_json::Value;

use crate::cluster::client::Cluster;
use crate::cluster::fetch;
use crate::error::Result;
use crate::model::target::Target;

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

/// Deletes an object kubectl-oam created around a workload (`ops expose --delete`), or with
/// `dry_run` asks the server whether it would.
pub async fn delete_object(cluster: &Cluster, target: &Target<'_>, dry_run: bool) -> Result<()> {
    let api = fetch::workload_api(cluster, target.kind, Some(&target.namespace));
    let params = kube::api::DeleteParams { dry_run, ..Default::default() };
    api.delete(&target.name, &params).await.map_err(|e| cluster.error(e, &target.action()))?;
    Ok(())
}
