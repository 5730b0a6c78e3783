//! `kubectl oam owners TYPE/NAME`: who owns each role field, and whether any is held outside its role.

use crate::cli::{DocumentFormat, OwnersArgs};
use crate::cluster::client::Cluster;
use crate::cluster::fetch;
use crate::core::owners::{FieldOwners, field_owners};
use crate::error::{Error, Result};
use crate::format::output;
use crate::model::roles::Profile;
use crate::model::target::{Target, parse_target};

/// The owners table (or JSON/YAML), and whether any role field is held outside its role.
pub async fn owners(cluster: &Cluster, profile: &Profile, args: &OwnersArgs) -> Result<(String, bool)> {
    let (target, obj, rows, outside) = read(cluster, profile, args).await?;
    match args.output {
        Some(DocumentFormat::Json) => {
            return Ok((output::json(&serde_json::to_value(&rows).unwrap_or_default()), outside));
        }
        Some(DocumentFormat::Yaml) => {
            return Ok((output::yaml(&serde_json::to_value(&rows).unwrap_or_default())?, outside));
        }
        _ => {}
    }
    let mut text = output::table(&HEADERS, table_rows(&rows));
    text.push_str(&reconciled(&target, &obj).map(|note| note + "\n").unwrap_or_default());
    Ok((text, outside))
}

/// The line under the table when a reconciler (Argo CD, Flux, helm, …) manages the object: who,
/// on what evidence, and what it means for a role's changes.
pub fn reconciled(target: &Target<'_>, obj: &serde_json::Value) -> Option<String> {
    let found = crate::core::reconciler::detect(obj)?;
    let (target, ns) = (target.display(), &target.namespace);
    let advice = match found.kind.resource() {
        Some(_) => format!(
            "it puts back what it applies ({}) at its reconcile; for a role's changes to stick: `{}` (or ops)",
            found.kind.managers().join(", "),
            crate::error::suggest(&format!("dev gitops {target}"), ns)
        ),
        None if found.kind == crate::core::reconciler::Kind::Helm => format!(
            "its next upgrade sets what the chart renders; after a take-over, `{}` (or ops) hands the fields back",
            crate::error::suggest(&format!("dev release {target} --to helm"), ns)
        ),
        None => {
            format!("it puts back what it applies ({}) at its reconcile", found.kind.managers().join(", "))
        }
    };
    Some(format!("reconciled by {} ({}): {advice}", found.describe(), found.evidence))
}

/// The table's columns.
pub const HEADERS: [&str; 7] = ["field", "role", "manager", "as", "operation", "time", "note"];

/// The owners table's rows: one per field and manager.
pub fn table_rows(rows: &[FieldOwners]) -> Vec<Vec<String>> {
    let mut table = Vec::new();
    for row in rows {
        for (i, h) in row.managers.iter().enumerate() {
            let note = if row.outside_role.contains(&h.manager) {
                match &h.role {
                    Some(r) => format!("held by {r}, outside {}", row.role),
                    None => format!("outside {}", row.role),
                }
            } else {
                String::new()
            };
            let operation = if h.subresource.is_empty() {
                h.operation.clone()
            } else {
                format!("{} ({})", h.operation, h.subresource)
            };
            table.push(vec![
                if i == 0 { row.field.clone() } else { String::new() },
                if i == 0 { row.role.clone() } else { String::new() },
                h.manager.clone(),
                h.role.clone().unwrap_or_else(|| "-".into()),
                operation,
                if h.time.is_empty() { "-".into() } else { h.time.clone() },
                note,
            ]);
        }
    }
    table
}

/// The object's owners: its target, the object, the rows, and whether any field is held outside
/// its role.
pub async fn read<'p>(
    cluster: &Cluster,
    profile: &'p Profile,
    args: &OwnersArgs,
) -> Result<(Target<'p>, serde_json::Value, Vec<FieldOwners>, bool)> {
    let Some((kind, Some(name))) =
        parse_target(profile, args.target.target.as_deref(), args.target.name.as_deref())?
    else {
        return Err(Error::Usage(format!(
            "owners needs TYPE/NAME, e.g. {}",
            crate::error::suggest("owners deploy/web", &cluster.namespace)
        )));
    };
    let target = Target { kind, name, namespace: cluster.namespace.clone() };
    // The objects around it (Services, PDBs, claims) in the same breath as the object.
    let kinds = crate::core::related::kinds_with_fields(profile);
    let (obj, lists) = tokio::try_join!(
        fetch::fetch(cluster, &target),
        fetch::list_related_kinds(cluster, &kinds, Some(&target.namespace), fetch::Read::Cached, &|_| {
            "owners leaves out their fields".to_string()
        })
    )?;
    let mut rows = field_owners(profile, kind, &obj, None);
    if let Some(lists) = lists {
        let related = crate::core::related::find(profile, kind, &obj, &lists);
        rows.extend(crate::core::owners::related_field_owners(profile, &related, None));
    }
    let outside = rows.iter().any(|r| !r.outside_role.is_empty());
    Ok((target, obj, rows, outside))
}
