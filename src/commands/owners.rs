//! `kubectl oam owners TYPE/NAME`: who owns each role field, and whether any is held outside its role.

use crate::cli::{DocumentFormat, OwnersArgs};
use crate::cluster::client::Cluster;
use crate::cluster::fetch;
use crate::core::owners::field_owners;
use crate::error::{Error, Result};
use crate::format::output;
use crate::model::roles::Profile;
use crate::model::target::{Target, parse_target};

/// The owners table (or JSON/YAML), and whether any role field is held outside its role.
pub async fn owners(cluster: &Cluster, profile: &Profile, args: &OwnersArgs) -> Result<(String, bool)> {
    let Some((kind, Some(name))) =
        parse_target(profile, args.target.target.as_deref(), args.target.name.as_deref())?
    else {
        return Err(Error::Usage(format!(
            "owners needs TYPE/NAME, e.g. {}",
            crate::error::suggest("owners deploy/web", &cluster.namespace)
        )));
    };
    let target = Target { kind, name, namespace: cluster.namespace.clone() };
    let obj = fetch::fetch(cluster, &target).await?;
    let rows = field_owners(profile, kind, &obj, None);
    let outside = rows.iter().any(|r| !r.outside_role.is_empty());
    match args.output {
        Some(DocumentFormat::Json) => {
            return Ok((output::json(&serde_json::to_value(&rows).unwrap_or_default()), outside));
        }
        Some(DocumentFormat::Yaml) => {
            return Ok((output::yaml(&serde_json::to_value(&rows).unwrap_or_default())?, outside));
        }
        _ => {}
    }
    let mut table = Vec::new();
    for row in &rows {
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
    let mut text = output::table(&["field", "role", "manager", "as", "operation", "time", "note"], table);
    if let Some(found) = crate::core::reconciler::detect(&obj) {
        text.push_str(&format!(
            "reconciled by {} ({}): what it applies ({}) is put back at its reconcile; for a role's changes to stick: `kubectl oam dev gitops {} -n {}` (or `ops gitops`)\n",
            found.describe(),
            found.evidence,
            found.kind.managers().join(", "),
            target.display(),
            target.namespace
        ));
    }
    Ok((text, outside))
}
