//! `kubectl oam explain ROLE.TRAIT.FIELD [TYPE/NAME]`: what a role field is — its meaning from the
//! server's OpenAPI v3 description, its role and trait, where it lives in the object, and (given an
//! object) who owns it there.

use crate::cli::ExplainArgs;
use crate::cluster::client::Cluster;
use crate::cluster::fetch;
use crate::core::explain::{RelatedFound, autoscaler_field, describe, find, object_path, related_field};
use crate::core::hpa::{self, Autoscaler};
use crate::core::owners::field_owners;
use crate::error::{Error, Result};
use crate::model::managed::{Step, managed_entries, owns};
use crate::model::object;
use crate::model::roles::Find;
use crate::model::roles::{AUTOSCALER_KEY, KindInfo, Profile, RoleName, Root};
use crate::model::target::{Target, parse_target};

/// `explain ops.autoscaler.FIELD [TYPE/NAME]`: the field of the HorizontalPodAutoscaler that targets
/// the workload, and its owners on that HPA.
async fn explain_autoscaler(
    cluster: &Cluster,
    profile: &Profile,
    field: &str,
    target: Option<Target<'_>>,
) -> Result<String> {
    let role = profile.role(RoleName::Ops);
    let kinds: Vec<&str> = profile
        .kinds
        .iter()
        .filter(|k| hpa::has_section(profile, RoleName::Ops, k))
        .map(|k| k.kind.as_str())
        .collect();
    if let Some(t) = target.as_ref().filter(|t| !kinds.contains(&t.kind.kind.as_str())) {
        return Err(Error::Usage(format!(
            "{} in namespace \"{}\" has no ops.{AUTOSCALER_KEY}.{field}: a {} has no replica count to autoscale (kinds: {})",
            t.display(),
            t.namespace,
            t.kind.kind,
            kinds.join(", ")
        )));
    }
    let kind = &*hpa::KIND;
    let path = vec!["spec".to_string(), field.to_string()];
    let mut text = format!("FIELD:       ops.{AUTOSCALER_KEY}.{field}\n");
    text.push_str(&format!("ROLE:        ops (field manager \"{}\"): {}\n", role.manager, role.description));
    text.push_str(&format!(
        "TRAIT:       {AUTOSCALER_KEY} (the HorizontalPodAutoscaler that targets the workload; `kubectl oam ops autoscale` creates one)\n"
    ));
    text.push_str(&format!(
        "PATH:        spec.{field} (in a HorizontalPodAutoscaler, {})\n",
        kind.api_version
    ));
    text.push_str(&format!("KINDS:       {}\n", kinds.join(", ")));
    text.push_str(&description_section(cluster, kind, &path).await?);
    if let Some(target) = target {
        let obj = fetch::fetch(cluster, &target).await?;
        let hpas = fetch::list_autoscalers(cluster, Some(&target.namespace), fetch::Read::Cached).await?;
        text.push_str(&format!("OWNERS on {} in namespace \"{}\":\n", target.display(), target.namespace));
        match Autoscaler::targeting(&hpas, target.kind, &obj) {
            None => text.push_str("    (no HorizontalPodAutoscaler targets it)\n"),
            Some(hpa) => {
                let steps = [Step::Field("spec".into()), Step::Field(field.into())];
                let holders: Vec<String> = managed_entries(&hpa.object)
                    .into_iter()
                    .filter(|e| owns(&e.fields, &steps, None))
                    .map(|e| format!("{} ({})", e.manager, e.operation))
                    .collect();
                let holders = if holders.is_empty() {
                    "owned by no field manager".to_string()
                } else {
                    holders.join(", ")
                };
                text.push_str(&indent(&format!(
                    "{AUTOSCALER_KEY}.{field} (horizontalpodautoscaler.autoscaling/{}): {holders}",
                    hpa.name
                )));
            }
        }
    }
    Ok(text)
}

/// `explain ROLE.SECTION.FIELD [TYPE/NAME]` of a related object (a Service's ports): its kind, how
/// its objects are found from the workload, and (given a workload) who holds it on each.
async fn explain_related(
    cluster: &Cluster,
    profile: &Profile,
    found: RelatedFound<'_>,
    target: Option<Target<'_>>,
) -> Result<String> {
    let (role, section, field, kind) = (found.role, found.section, found.field, found.kind);
    let how = match kind.find {
        Find::SelectsPods => "whose selector selects the workload's pods",
        Find::RoutesToServices => "that routes to the workload's Services",
        Find::MountedByPods => "that the workload's pods mount",
    };
    let mut text = format!("FIELD:       {}.{}.{}\n", role.name, section.name, field.name);
    text.push_str(&format!(
        "ROLE:        {} (field manager \"{}\"): {}\n",
        role.name, role.manager, role.description
    ));
    text.push_str(&format!(
        "TRAIT:       {} (one entry per {} {how}, by name)\n",
        section.name, kind.info.kind
    ));
    text.push_str(&format!(
        "PATH:        {} (in a {}, {})\n",
        field.segments.join("."),
        kind.info.kind,
        kind.info.api_version
    ));
    let description = match fetch::openapi(cluster, &kind.info).await {
        Ok(doc) => describe(&doc, &kind.info, &field.segments),
        // An optional kind (a CRD) that is not installed has no OpenAPI document.
        Err(_) if kind.optional => None,
        Err(e) => return Err(e),
    };
    let words = description.as_deref().unwrap_or("(the server's OpenAPI document has no description)");
    text.push_str(&format!("DESCRIPTION:\n{}", indent(words)));
    if let Some(target) = target {
        let kinds = [kind];
        let (obj, lists) = tokio::try_join!(
            fetch::fetch(cluster, &target),
            fetch::list_related_kinds(cluster, &kinds, Some(&target.namespace), fetch::Read::Cached, &|_| {
                "the objects of that kind are left out".to_string()
            })
        )?;
        let related = crate::core::related::find(profile, target.kind, &obj, &lists.unwrap_or_default());
        let suffix = format!(".{}", field.name);
        let owned: Vec<String> =
            crate::core::owners::related_field_owners(profile, &related, Some(role.name))
                .into_iter()
                .filter(|o| o.field.starts_with(&format!("{}.", section.name)) && o.field.ends_with(&suffix))
                .map(|o| {
                    let managers: Vec<String> =
                        o.managers.iter().map(|h| format!("{} ({})", h.manager, h.operation)).collect();
                    format!("{}: {}", o.field, managers.join(", "))
                })
                .collect();
        text.push_str(&format!("OWNERS on {} in namespace \"{}\":\n", target.display(), target.namespace));
        if owned.is_empty() {
            text.push_str(&format!(
                "    (no {} of it has the field set, or no field manager owns it)\n",
                kind.info.kind
            ));
        } else {
            text.push_str(&owned.iter().map(|o| indent(o)).collect::<String>());
        }
    }
    Ok(text)
}

/// `DESCRIPTION:` and the server's words for the field at `path` of `kind`.
async fn description_section(cluster: &Cluster, kind: &KindInfo, path: &[String]) -> Result<String> {
    let description = describe(&fetch::openapi(cluster, kind).await?, kind, path);
    let words = description.as_deref().unwrap_or("(the server's OpenAPI document has no description)");
    Ok(format!("DESCRIPTION:\n{}", indent(words)))
}

fn indent(text: &str) -> String {
    text.lines().map(|l| format!("    {l}\n")).collect()
}

pub async fn explain(cluster: &Cluster, profile: &Profile, args: &ExplainArgs) -> Result<String> {
    let target = match parse_target(profile, args.target.target.as_deref(), args.target.name.as_deref())? {
        Some((kind, Some(name))) => Some(Target { kind, name, namespace: cluster.namespace.clone() }),
        Some((_, None)) => {
            return Err(Error::Usage(
                "explain takes TYPE/NAME (an object, for its owners), not a TYPE".into(),
            ));
        }
        None => None,
    };
    if let Some(field) = autoscaler_field(&args.field) {
        return explain_autoscaler(cluster, profile, field, target).await;
    }
    if let Some(found) = related_field(profile, &args.field) {
        return explain_related(cluster, profile, found, target).await;
    }
    let found = find(profile, &args.field)?;
    let field = found.field;
    // The kind to describe: the object's, else the first kind that has the field.
    let kind = match &target {
        Some(t) if !field.applies_to(&t.kind.kind) => {
            return Err(Error::Usage(format!(
                "{} in namespace \"{}\" has no {}.{}.{}: it is a field of {}",
                t.display(),
                t.namespace,
                found.role.name,
                found.trait_name,
                field.name,
                field.kinds.as_deref().unwrap_or_default().join(", ")
            )));
        }
        Some(t) => t.kind,
        None => profile
            .kinds
            .iter()
            .find(|k| field.applies_to(&k.kind))
            .ok_or_else(|| Error::Invalid(format!("no kind of the profile has {}", field.name)))?,
    };
    let path = object_path(kind, field, found.list);
    let shown_path = path.join(".").replace(".[]", "[*]");
    let label = match field.path.root {
        Root::Container => format!("{}.{}.NAME.{}", found.role.name, found.list, field.name),
        _ => format!("{}.{}.{}", found.role.name, found.trait_name, field.name),
    };
    let mut text = format!("FIELD:       {label}\n");
    text.push_str(&format!(
        "ROLE:        {} (field manager \"{}\"): {}\n",
        found.role.name, found.role.manager, found.role.description
    ));
    text.push_str(&format!(
        "TRAIT:       {}{}\n",
        found.trait_name,
        if field.path.root == Root::Container { " (one entry per container, by name)" } else { "" }
    ));
    text.push_str(&format!("PATH:        {shown_path} (in a {})\n", kind.kind));
    text.push_str(&format!(
        "KINDS:       {}\n",
        field.kinds.as_ref().map_or_else(|| "every workload kind".to_string(), |k| k.join(", "))
    ));
    if let Some(items) = &field.items {
        text.push_str(&format!(
            "ITEMS:       only the list's items {} (the others are another role's)\n",
            items.describe()
        ));
    }
    if field.autoscaled {
        text.push_str("AUTOSCALED:  held by a HorizontalPodAutoscaler when one targets the workload\n");
    }
    text.push_str(&description_section(cluster, kind, &path).await?);
    if let Some(target) = target {
        let obj = fetch::fetch(cluster, &target).await?;
        if let Some(container) = found.container.as_ref().filter(|_| field.path.root == Root::Container) {
            let names = object::container_names(&obj, kind);
            let other_list = object::all_containers(&obj, kind)
                .into_iter()
                .find(|(list, c)| object::container_name(c) == container && *list != found.list);
            if let Some((list, _)) = other_list {
                return Err(Error::Usage(format!(
                    "\"{container}\" of {} in namespace \"{}\" is in {list}: explain {}.{list}.{container}.{}",
                    target.display(),
                    target.namespace,
                    found.role.name,
                    field.name
                )));
            }
            if !names.contains(container) {
                return Err(Error::Usage(format!(
                    "{} in namespace \"{}\" has no container \"{container}\"; it has {}",
                    target.display(),
                    target.namespace,
                    names.join(", ")
                )));
            }
        }
        let list = found.list;
        let prefix = match (field.path.root, &found.container) {
            (Root::Container, Some(c)) => format!("{list}.{c}.{}", field.name),
            (Root::Container, None) => format!("{list}."),
            _ => format!("{}.{}", found.trait_name, field.name),
        };
        let owned: Vec<String> = field_owners(profile, kind, &obj, Some(found.role.name))
            .into_iter()
            .filter(|o| match (field.path.root, &found.container) {
                (Root::Container, None) => {
                    o.field.starts_with(&prefix) && o.field.rsplit('.').next() == Some(field.name.as_str())
                }
                _ => o.field == prefix || o.field.starts_with(&format!("{prefix}.")),
            })
            .map(|o| {
                let managers: Vec<String> =
                    o.managers.iter().map(|h| format!("{} ({})", h.manager, h.operation)).collect();
                format!("{}: {}", o.field, managers.join(", "))
            })
            .collect();
        text.push_str(&format!("OWNERS on {} in namespace \"{}\":\n", target.display(), target.namespace));
        if owned.is_empty() {
            text.push_str("    (not set, or owned by no field manager)\n");
        } else {
            text.push_str(&owned.iter().map(|o| indent(o)).collect::<String>());
        }
    }
    Ok(text)
}
