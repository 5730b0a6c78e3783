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
/// `dry_run` asks the server whether it would. Only as `read` (its uid and resourceVersion, the
/// server's preconditions): an object written since it was judged (another manager took fields of
/// it meanwhile) is not deleted.
pub async fn delete_object(
    cluster: &Cluster,
    target: &Target<'_>,
    read: &Value,
    dry_run: bool,
) -> Result<()> {
    let api = fetch::workload_api(cluster, target.kind, Some(&target.namespace));
    let text = |key: &str| read["metadata"][key].as_str().map(str::to_string);
    let preconditions =
        kube::api::Preconditions { uid: text("uid"), resource_version: text("resourceVersion") };
    let params =
        kube::api::DeleteParams { dry_run, preconditions: Some(preconditions), ..Default::default() };
    match api.delete(&target.name, &params).await {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(status)) if status.code == 409 => Err(crate::error::Error::Usage(format!(
            "{} in namespace \"{}\" changed since it was read (written by someone else meanwhile?); nothing was deleted: run the command again",
            target.display(),
            target.namespace
        ))),
        Err(e) => Err(cluster.error(e, &target.action())),
    }
}
