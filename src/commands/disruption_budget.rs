//! `kubectl oam ops disruption-budget TYPE/NAME --min-available N|--max-unavailable N`: a
//! PodDisruptionBudget that selects the workload's pods, written like `ops expose` writes its
//! Service (dry-run diff, confirmation, server-side apply as kubectl-oam-ops); `--delete` removes it.

use crate::cli::DisruptionBudgetArgs;
use crate::cluster::client::Cluster;
use crate::cluster::fetch;
use crate::commands::autoscale::require_target;
use crate::commands::expose::{Around, flags_text, write_around};
use crate::core::expose::{PDB, covers, pdb_body, pod_labels, workload_selector};
use crate::error::{Error, Result, suggest};
use crate::model::roles::Profile;

pub async fn disruption_budget(
    cluster: &Cluster,
    profile: &Profile,
    args: &DisruptionBudgetArgs,
) -> Result<String> {
    let name: Vec<String> = args.name.iter().cloned().collect();
    let (workload, _) = require_target(profile, cluster, &args.target, &name)?;
    let object = fetch::fetch(cluster, &workload).await?;
    let what = format!("{} in namespace \"{}\"", workload.display(), workload.namespace);
    let pdb_name = args.object_name.clone().unwrap_or_else(|| workload.name.clone());
    let body = match args.create.delete {
        true => None,
        false => Some(pdb_body(
            &object,
            &workload.namespace,
            &pdb_name,
            &what,
            args.min_available.as_deref(),
            args.max_unavailable.as_deref(),
        )?),
    };
    // The eviction API refuses to evict a pod that two budgets cover: one budget per workload.
    if !args.create.delete {
        let pods = pod_labels(&object, workload.kind);
        let others = fetch::list_objects(cluster, &PDB, &workload.namespace).await?;
        if let Some(other) = others
            .iter()
            .find(|o| o["metadata"]["name"].as_str() != Some(pdb_name.as_str()) && covers(o, &pods))
        {
            let name = other["metadata"]["name"].as_str().unwrap_or_default();
            return Err(Error::Usage(format!(
                "poddisruptionbudget.policy/{name} already covers the pods of {what} (the eviction API refuses pods that two budgets cover); change that one instead, e.g. `{}`",
                suggest(
                    &format!("ops disruption-budget {} --name {name} --min-available N", workload.display()),
                    &workload.namespace
                )
            )));
        }
    }
    let around = Around { kind: &PDB, name: pdb_name, body, selector: workload_selector(&object, &what)? };
    let mut command = format!("ops disruption-budget {}", workload.display());
    for (flag, value) in [
        ("--min-available", &args.min_available),
        ("--max-unavailable", &args.max_unavailable),
        ("--name", &args.object_name),
    ] {
        if let Some(value) = value {
            command.push_str(&format!(" {flag} {value}"));
        }
    }
    command.push_str(&flags_text(&args.create));
    write_around(cluster, profile, &around, &args.create, &command).await
}
