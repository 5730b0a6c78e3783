//! `kubectl oam dev|ops release TYPE/NAME [FIELD…] [--to MANAGER]`: the reverse of `adopt`. The
//! role gives up its ownership of its fields (or the named ones): handed to MANAGER (e.g. helm,
//! whose next upgrade then lands its values instead of conflicting), or left to the managers that
//! co-own them. A managedFields rewrite guarded by a `test` of the resourceVersion, as `adopt`;
//! values do not change.

use serde_json::json;

use crate::cli::ReleaseArgs;
use crate::cluster::client::Cluster;
use crate::cluster::fetch::read_live;
use crate::cluster::write;
use crate::core::ownership::{self, Unit};
use crate::core::write::refuse_controlled;
use crate::error::{Error, Result};
use crate::format::output;
use crate::model::roles::{Profile, RoleName};
use crate::model::target::{Target, parse_target};

/// Does `label` (`containers.app.env.MODE`) fall under what the user named (`containers.app.env`)?
fn named(label: &str, fields: &[String]) -> bool {
    fields.is_empty()
        || fields
            .iter()
            .any(|f| label == f || label.strip_prefix(f.as_str()).is_some_and(|rest| rest.starts_with('.')))
}

pub async fn release(
    cluster: &Cluster,
    profile: &Profile,
    role: RoleName,
    args: &ReleaseArgs,
) -> Result<String> {
    let (next, rest) = match args.target.contains('/') {
        true => (None, args.words.as_slice()),
        false => (args.words.first().map(String::as_str), args.words.get(1..).unwrap_or_default()),
    };
    let Some((kind, Some(name))) = parse_target(profile, Some(&args.target), next)? else {
        return Err(Error::Usage(format!(
            "release needs TYPE/NAME, e.g. kubectl oam {role} release deploy/web --to helm"
        )));
    };
    let manager = profile.role(role).manager.clone();
    if let Some(to) = &args.to {
        if to == &manager {
            return Err(Error::Usage(format!(
                "--to {to} is the {role} role's own manager: nothing would move"
            )));
        }
        // The other role would then own fields it never sends: its next apply would drop them.
        if let Some(other) = crate::core::owners::role_of_manager(profile, to) {
            return Err(Error::Usage(format!(
                "--to {to} is the {other} role's manager: it would hold {role} fields it never writes, and its next apply would remove them; release to the manager that applies them (e.g. helm), or to nobody"
            )));
        }
        if to.is_empty() || to.len() > 128 || to.chars().any(|c| c.is_control()) {
            return Err(Error::Usage(format!("--to \"{to}\" is not a usable field manager name")));
        }
    }
    let target = Target { kind, name, namespace: cluster.namespace.clone() };
    let fields: Vec<String> = rest.to_vec();
    let dry_run = args.dry_run == "server";
    let mut attempt = 0;
    let (live, moved) = loop {
        let live = read_live(cluster, profile, role, target.clone()).await?;
        refuse_controlled(profile, role, &live)?;
        let object = live.object_label();
        let units = ownership::units(profile, role, kind, &live.object);
        let unknown: Vec<&String> = fields
            .iter()
            .filter(|f| !units.iter().any(|u| named(&u.label, std::slice::from_ref(f))))
            .collect();
        if !unknown.is_empty() {
            let known: Vec<&str> = units.iter().map(|u| u.label.as_str()).collect();
            return Err(Error::Usage(format!(
                "{object} has no {role} field {}; its {role} fields: {}",
                unknown.iter().map(|f| format!("\"{f}\"")).collect::<Vec<_>>().join(", "),
                known.join(", ")
            )));
        }
        let chosen: Vec<&Unit> = units.iter().filter(|u| named(&u.label, &fields)).collect();
        let now = k8s_openapi::jiff::Timestamp::now().strftime("%Y-%m-%dT%H:%M:%SZ").to_string();
        let Some((managed_fields, moved)) =
            ownership::release(&live.object, &chosen, &manager, args.to.as_deref(), &kind.api_version, &now)
        else {
            return Ok(format!(
                "{} : nothing to release; {manager} owns none of those fields\n",
                live.target.display()
            ));
        };
        let patch = json!([
            {"op": "test", "path": "/metadata/resourceVersion", "value": live.object["metadata"]["resourceVersion"]},
            {"op": "replace", "path": "/metadata/managedFields", "value": managed_fields},
        ]);
        match write::replace_managed_fields(cluster, &live.target, role, &manager, &patch, dry_run, &object)
            .await
        {
            Err(Error::Changed { .. }) if attempt < 5 => {
                attempt += 1;
                tokio::time::sleep(std::time::Duration::from_millis(50 << attempt)).await;
            }
            Err(e) => return Err(e),
            Ok(()) => break (live, moved),
        }
    };
    let to = args.to.clone().unwrap_or_default();
    if args.output.as_deref() == Some("json") {
        return Ok(output::json(
            &json!({"object": live.target.display(), "namespace": live.target.namespace,
                                        "manager": manager, "to": to, "dryRun": dry_run,
                                        "released": moved.iter().map(|m| &m.field).collect::<Vec<_>>()}),
        ));
    }
    let shown_to = if to.is_empty() { "(nobody; co-owners keep theirs)".to_string() } else { to.clone() };
    let rows: Vec<Vec<String>> =
        moved.iter().map(|m| vec![m.field.clone(), manager.clone(), shown_to.clone()]).collect();
    let mut text = output::table(&["field", "from", "to"], rows);
    text.push_str(&format!(
        "{} {} {} field(s){}{}\n",
        live.target.display(),
        if dry_run { "would release" } else { "released" },
        moved.len(),
        if to.is_empty() { String::new() } else { format!(" to {to}") },
        if dry_run { " (server dry run)" } else { "" }
    ));
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::named;

    #[test]
    fn fields_are_named_by_their_document_path_or_a_parent() {
        let f = |s: &[&str]| s.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert!(named("containers.app.image", &[]));
        assert!(named("containers.app.env.MODE", &f(&["containers.app.env"])));
        assert!(named("containers.app.image", &f(&["containers.app"])));
        assert!(!named("containers.app2.image", &f(&["containers.app"])));
        assert!(!named("containers.app.image", &f(&["containers.app.env"])));
    }
}
