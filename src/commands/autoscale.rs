//! `kubectl oam ops autoscale TYPE/NAME --min N --max M [--cpu-percent P]`: updates the HPA that
//! targets the workload (through the autoscaler section, as `ops edit` would), or creates one named
//! after the workload (kubectl-oam creates objects only when asked: this, `expose`, `disruption-budget`).

use serde_json::{Value, json};

use crate::cli::AutoscaleArgs;
use crate::cluster::client::Cluster;
use crate::cluster::{fetch, write};
use crate::commands::write_live;
use crate::core::hpa::{AUTOSCALER_KEY, Autoscaler, KIND, has_section, set_cpu_target};
use crate::core::project::{self, ViewOptions};
use crate::core::write::{Live, Writer, refuse_controlled, without_base};
use crate::error::{Error, Result};
use crate::format::{diff, output};
use crate::model::roles::{Profile, RoleName};
use crate::model::target::{Target, parse_target};

/// `kubectl oam ops autoscale TYPE/NAME --min N --max M [--cpu-percent P]`: updates the HPA that
/// targets the workload (through the autoscaler section, as `ops edit` would), or creates one named
/// after the workload.
pub async fn autoscale(cluster: &Cluster, profile: &Profile, args: &AutoscaleArgs) -> Result<String> {
    let name: Vec<String> = args.name.iter().cloned().collect();
    let (target, _) = require_target(profile, cluster, &args.target, &name)?;
    let role = RoleName::Ops;
    if !has_section(profile, role, target.kind) {
        return Err(Error::Usage(format!(
            "{} in namespace \"{}\" cannot be autoscaled: a {} has no replica count; HorizontalPodAutoscalers scale {}",
            target.display(),
            target.namespace,
            target.kind.kind,
            scalable_kinds(profile).join(", ")
        )));
    }
    let int32 = 0..=i64::from(i32::MAX);
    for (flag, value, least) in
        [("--min", args.min, 1), ("--max", Some(args.max), 1), ("--cpu-percent", args.cpu_percent, 1)]
    {
        if let Some(v) = value.filter(|v| *v < least || !int32.contains(v)) {
            return Err(Error::Usage(format!("{flag} must be from {least} to {}, not {v}", i32::MAX)));
        }
    }
    if let Some(min) = args.min.filter(|min| *min > args.max) {
        return Err(Error::Usage(format!("--min {min} is more than --max {}", args.max)));
    }
    let (object, hpas) = tokio::join!(
        fetch::fetch(cluster, &target),
        fetch::list_autoscalers(cluster, Some(&target.namespace), fetch::Read::Latest)
    );
    let (object, hpas) = (object?, hpas?);
    let autoscaler = Autoscaler::targeting(&hpas, target.kind, &object);
    let live = Live { target, object, autoscaler, related: None };
    refuse_controlled(profile, role, &live)?;
    let (min, max, cpu) = (args.min, args.max, args.cpu_percent);
    if live.autoscaler.is_some() {
        return write_live(cluster, profile, role, &args.write, live, "autoscaler updated", |doc, _| {
            let section =
                doc[AUTOSCALER_KEY].as_object_mut().ok_or_else(|| Error::Invalid("no autoscaler".into()))?;
            if let Some(min) = min {
                section.insert("minReplicas".into(), json!(min));
            }
            section.insert("maxReplicas".into(), json!(max));
            if let Some(percent) = cpu {
                let metrics = section.entry("metrics").or_insert_with(|| json!([]));
                set_cpu_target(metrics, percent);
            }
            Ok(())
        })
        .await;
    }
    create(cluster, profile, args, &live, &hpas).await
}

/// The kinds whose replica count an HPA may hold, for messages.
fn scalable_kinds(profile: &Profile) -> Vec<String> {
    profile
        .kinds
        .iter()
        .filter(|k| has_section(profile, RoleName::Ops, k))
        .map(|k| k.resource.clone())
        .collect()
}

async fn create(
    cluster: &Cluster,
    profile: &Profile,
    args: &AutoscaleArgs,
    live: &Live<'_>,
    hpas: &[Value],
) -> Result<String> {
    let name = &live.target.name;
    let namespace = &live.target.namespace;
    let hpa_target = Target { kind: &KIND, name: name.clone(), namespace: namespace.clone() };
    // Server-side apply would change an HPA of that name that scales something else: refuse instead.
    if let Some(other) = hpas
        .iter()
        .find(|h| h["metadata"]["name"] == name.as_str() && h["metadata"]["namespace"] == namespace.as_str())
    {
        let scales = &other["spec"]["scaleTargetRef"];
        return Err(Error::Usage(format!(
            "{} in namespace \"{namespace}\" already exists and scales {}/{}; change or delete it first",
            hpa_target.display(),
            scales["kind"].as_str().unwrap_or("?").to_lowercase(),
            scales["name"].as_str().unwrap_or("?"),
        )));
    }
    let mut spec = json!({
        "scaleTargetRef": {"apiVersion": live.target.kind.api_version, "kind": live.target.kind.kind, "name": name},
        "maxReplicas": args.max,
    });
    if let Some(min) = args.min {
        spec["minReplicas"] = json!(min);
    }
    if let Some(percent) = args.cpu_percent {
        set_cpu_target(&mut spec["metrics"], percent);
    }
    let body = json!({
        "apiVersion": KIND.api_version, "kind": KIND.kind,
        "metadata": {"name": name, "namespace": namespace},
        "spec": spec,
    });
    let writer =
        Writer::new(profile, RoleName::Ops, args.write.field_manager.as_deref(), args.write.force_conflicts)?;
    // The server's dry-run of the creation, or (`--dry-run=client`) the body as it is.
    let created = match args.write.client_dry_run() {
        true => body.clone(),
        false => write::create(cluster, profile, &writer, &hpa_target, &body, true).await?,
    };
    if args.write.dry_run() {
        let before = output::yaml(&without_base(live.document(profile, RoleName::Ops, None)))?;
        let after_hpa = Autoscaler::of(&created);
        let view = ViewOptions { container: None, autoscaler: Some(&after_hpa), related: None };
        let after_doc = project::document(profile, RoleName::Ops, live.target.kind, &live.object, &view);
        let after = output::yaml(&without_base(after_doc))?;
        let after_what = match args.write.client_dry_run() {
            true => diff::CLIENT_SIDE,
            false => "after apply",
        };
        return Ok(diff::unified_as(
            &before,
            &after,
            &live.target.display(),
            after_what,
            output::use_colour(),
        ));
    }
    write::create(cluster, profile, &writer, &hpa_target, &body, false)
        .await
        .map_err(|e| write::check_on(cluster, e, &live.target, RoleName::Ops))?;
    Ok(format!("{} created\n", hpa_target.display()))
}

/// Like `parse_target` but a name is required. `words` are the command's other arguments: after a
/// TYPE without `/`, the first of them is the NAME (as kubectl reads `scale deploy web`); the rest
/// are returned.
pub fn require_target<'p, 'w>(
    profile: &'p Profile,
    cluster: &Cluster,
    text: &str,
    words: &'w [String],
) -> Result<(Target<'p>, &'w [String])> {
    let (name, rest) = match (text.contains('/'), words.split_first()) {
        (false, Some((name, rest))) => (Some(name.clone()), rest),
        _ => (None, words),
    };
    match parse_target(profile, Some(text), name.as_deref())? {
        Some((kind, Some(name))) => Ok((Target { kind, name, namespace: cluster.namespace.clone() }, rest)),
        _ => Err(Error::Usage(format!("\"{text}\" is not TYPE/NAME or TYPE NAME, e.g. deploy/web"))),
    }
}
