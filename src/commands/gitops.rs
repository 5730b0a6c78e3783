//! `kubectl oam dev|ops gitops TYPE/NAME [--for argocd|flux-helmrelease|flux-kustomization]`: the
//! reconciler configuration that lets this role's live changes to this object stick (Argo CD
//! `ignoreDifferences` by manager, Flux `driftDetection.ignore` / `spec.ignore` by JSON pointer),
//! printed to merge into the reconciler's own object in Git. Nothing is written.

use crate::cli::{DocumentFormat, GitopsArgs};
use crate::cluster::client::Cluster;
use crate::cluster::{fetch, reconcile};
use crate::core::ownership;
use crate::core::reconciler::{self, Kind, Known, ObjectRef};
use crate::error::{Error, Result};
use crate::format::output;
use crate::model::roles::{Profile, RoleName};
use crate::model::target::{Target, parse_target};

pub async fn gitops(
    cluster: &Cluster,
    profile: &Profile,
    role: RoleName,
    args: &GitopsArgs,
) -> Result<String> {
    let Some((kind, Some(name))) =
        parse_target(profile, args.target.target.as_deref(), args.target.name.as_deref())?
    else {
        return Err(Error::Usage(format!(
            "gitops needs TYPE/NAME, e.g. kubectl oam {role} gitops deploy/web"
        )));
    };
    let target = Target { kind, name, namespace: cluster.namespace.clone() };
    let live = fetch::fetch(cluster, &target).await?;
    if let Some(owner) = crate::model::object::controller(&live) {
        return Err(Error::Controlled {
            object: format!("{} in namespace \"{}\"", target.display(), target.namespace),
            owner,
            hint: String::new(),
        });
    }
    let object_label = format!("{} in namespace \"{}\"", target.display(), target.namespace);
    let found = reconciler::detect(&live);
    let wanted = match (args.reconciler.as_deref().and_then(Kind::from_flag), &found) {
        (Some(kind), _) => kind,
        (None, Some(r)) if r.kind.resource().is_some() => r.kind,
        (None, Some(r)) => {
            return Err(Error::Usage(format!(
                "{object_label} is reconciled by {} ({}), which has no setting to leave fields alone: change the values it renders, or hand the role's fields back before its next upgrade with `kubectl oam {role} release {} -n {} --to {}`; or pass --for argocd|flux-helmrelease|flux-kustomization",
                r.describe(),
                r.evidence,
                target.display(),
                target.namespace,
                r.kind.managers()[0]
            )));
        }
        (None, None) => {
            return Err(Error::Usage(format!(
                "no reconciler (Flux, Argo CD, helm, KubeVela) is recognised on {object_label}; pass --for argocd|flux-helmrelease|flux-kustomization"
            )));
        }
    };
    let manager = &profile.role(role).manager;
    let units = ownership::units(profile, role, kind, &live);
    let pointers: Vec<String> =
        units.iter().filter_map(|u| ownership::json_pointer(&live, &u.path)).collect();
    if pointers.is_empty() && wanted != Kind::ArgoCd {
        return Err(Error::Invalid(format!(
            "{object_label} has no {role} fields set: there is nothing for a reconciler to leave alone yet"
        )));
    }
    let object = ObjectRef::of(&kind.api_version, &kind.kind, &live);
    let settings = match found.as_ref().filter(|r| r.kind == wanted) {
        Some(r) => match reconcile::settings(cluster, r, &object).await {
            Known::Read(s) => Some(s),
            Known::NotRead(_) => None,
        },
        None => None,
    };
    let (config, notes) =
        reconciler::gitops_config(wanted, found.as_ref(), &object, manager, &pointers, settings.as_ref());
    if args.output == DocumentFormat::Json {
        for note in &notes {
            eprintln!("note: {note}");
        }
        return Ok(output::json(&config));
    }
    let mut text = format!(
        "# {} for the {role} role's fields of {object_label}: merge into {}\n",
        wanted.title(),
        match found.as_ref().filter(|r| r.kind == wanted) {
            Some(r) => format!("{} (found by {})", r.describe(), r.evidence),
            None => format!("the {} that deploys it (set its name)", wanted.title()),
        }
    );
    for note in &notes {
        text.push_str(&format!("# {note}\n"));
    }
    text.push_str(&output::yaml(&config)?);
    Ok(text)
}
