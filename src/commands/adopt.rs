//! `kubectl oam dev|ops adopt TYPE/NAME`: move ownership of the role's fields to the role's manager.
//!
//! Objects made with helm, `kubectl apply` or `kubectl edit` have every field owned by those
//! managers; a role write that changes one conflicts, and a role that removes one cannot. Adopting
//! rewrites managedFields the way kubectl's client-side to server-side apply migration does: a JSON
//! patch guarded by a `test` of the resourceVersion, so a write in between makes it fail, never
//! lose that write. Values do not change.

use serde_json::json;

use crate::cli::AdoptArgs;
use crate::cluster::client::Cluster;
use crate::cluster::fetch::read_live;
use crate::cluster::write;
use crate::core::hpa;
use crate::core::ownership::{self, Unit};
use crate::core::write::refuse_controlled;
use crate::error::{Error, Result};
use crate::format::output;
use crate::model::roles::{Profile, RoleName};
use crate::model::target::{Target, parse_target};

/// The annotation client-side `kubectl apply` keeps; its next run reverts what it no longer finds.
const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

pub async fn adopt(cluster: &Cluster, profile: &Profile, role: RoleName, args: &AdoptArgs) -> Result<String> {
    let Some((kind, Some(name))) =
        parse_target(profile, args.target.target.as_deref(), args.target.name.as_deref())?
    else {
        return Err(Error::Usage(format!(
            "adopt needs TYPE/NAME, e.g. {}",
            crate::error::suggest(&format!("{role} adopt deploy/web"), &cluster.namespace)
        )));
    };
    let target = Target { kind, name, namespace: cluster.namespace.clone() };
    let manager = &profile.role(role).manager;
    // Controllers write status and their annotations all the time: a `test` of the version that
    // fails is read again and decided again (the rewrite always starts from the latest managedFields).
    let mut attempt = 0;
    let (live, moved, dry_run) = loop {
        let live = read_live(cluster, profile, role, target.clone()).await?;
        refuse_controlled(profile, role, &live)?;
        let object = format!("{} in namespace \"{}\"", live.target.display(), live.target.namespace);
        if attempt == 0 && live.object["metadata"]["annotations"].get(LAST_APPLIED).is_some() {
            eprintln!(
                "warning: {object} still carries the {LAST_APPLIED} annotation: a later client-side `kubectl apply` of its manifest reverts changes the {role} role makes; switch that pipeline to `kubectl apply --server-side`"
            );
        }
        let units = ownership::units(profile, role, kind, &live.object);
        // The autoscaler's count stays with it.
        let held = live.autoscaler.as_ref().and_then(|_| hpa::autoscaled_label(profile, role, kind));
        // A name that appears twice goes to the manager's Update entry: server-side apply cannot
        // address it, so in its Apply entry every later write (which cannot send it) would delete it.
        let (twice, adoptable): (Vec<&Unit>, Vec<&Unit>) = units
            .iter()
            .filter(|u| held.as_deref() != Some(u.label.as_str()))
            .partition(|u| units.is_duplicate(u.key()));
        let now = k8s_openapi::jiff::Timestamp::now().strftime("%Y-%m-%dT%H:%M:%SZ").to_string();
        let Some((managed_fields, moved)) =
            ownership::adopt(&live.object, &adoptable, &twice, manager, &kind.api_version, &now)
        else {
            return Ok(format!(
                "{} : nothing to adopt; {manager} already owns every {role} field it can\n",
                live.target.display()
            ));
        };
        let patch = json!([
            {"op": "test", "path": "/metadata/resourceVersion", "value": live.object["metadata"]["resourceVersion"]},
            {"op": "replace", "path": "/metadata/managedFields", "value": managed_fields},
        ]);
        let dry_run = args.dry_run == "server";
        match write::replace_managed_fields(cluster, &live.target, role, manager, &patch, dry_run, &object)
            .await
        {
            Err(Error::Changed { .. }) if attempt < 5 => {
                attempt += 1;
                tokio::time::sleep(std::time::Duration::from_millis(50 << attempt)).await;
            }
            Err(e) => return Err(e),
            Ok(()) => break (live, moved, dry_run),
        }
    };
    for line in previous_owners_warnings(
        profile,
        role,
        &live.object,
        &moved,
        &live.target.display(),
        &live.target.namespace,
    ) {
        eprintln!("warning: {line}");
    }
    for m in moved.iter().filter(|m| m.by_update) {
        eprintln!(
            "warning: {}: the name appears more than once, which server-side apply cannot address: {manager} holds it by update (as `kubectl edit` would), so {role} writes that leave it alone keep every copy; change it with `kubectl edit`",
            m.field
        );
    }
    let rows: Vec<Vec<String>> = moved
        .iter()
        .map(|m| {
            let to = if m.by_update { format!("{manager} (Update)") } else { manager.clone() };
            vec![m.field.clone(), m.from.join(", "), to]
        })
        .collect();
    if args.output.as_deref() == Some("json") {
        return Ok(output::json(
            &json!({"object": live.target.display(), "namespace": live.target.namespace,
                                        "manager": manager, "dryRun": dry_run, "moved": moved}),
        ));
    }
    let mut text = output::table(&["field", "from", "to"], rows);
    text.push_str(&format!(
        "{} {} {} field(s) to {manager}{}\n",
        live.target.display(),
        if dry_run { "would move" } else { "moved" },
        moved.len(),
        if dry_run { " (server dry run)" } else { "" }
    ));
    Ok(text)
}

/// What the previous owners of adopted fields will do next. Update operations (kubectl edit, helm 3)
/// force and remove by patch: nothing to say. A server-side applier that does not force (helm 4,
/// `kubectl apply --server-side`) conflicts on its next change of them and its removals leave them
/// in place, until they are handed back; a GitOps controller force-applies them back.
fn previous_owners_warnings(
    profile: &Profile,
    role: RoleName,
    live: &serde_json::Value,
    moved: &[ownership::Moved],
    target: &str,
    namespace: &str,
) -> Vec<String> {
    let mut previous: Vec<&str> = moved.iter().flat_map(|m| m.from.iter().map(String::as_str)).collect();
    previous.sort_unstable();
    previous.dedup();
    let entries = crate::model::managed::managed_entries(live);
    let applies = |m: &str| {
        entries.iter().any(|e| e.manager == m && e.operation == "Apply" && e.subresource.is_empty())
    };
    let forcing = |m: &str| crate::core::reconciler::FORCING_MANAGERS.contains(&m);
    let object = format!("{target} in namespace \"{namespace}\"");
    previous
        .into_iter()
        .filter(|m| crate::core::owners::role_of_manager(profile, m).is_none() && applies(m))
        .map(|m| match forcing(m) {
            true => format!("{object}: {m} force-applies: it takes the fields it applies back at its next reconcile"),
            false => format!(
                "{object}: {m}'s next server-side apply that changes these fields conflicts with {}, and its removals leave them in place; `{}` hands them back",
                profile.role(role).manager,
                crate::error::suggest(&format!("{role} release {target} --to {m}"), namespace)
            ),
        })
        .collect()
}
