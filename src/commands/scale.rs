//! `kubectl oam ops scale TYPE/NAME… --replicas N`: the replica count of the ops document.

use serde_json::Value;

use crate::cli::ScaleArgs;
use crate::cluster::client::Cluster;
use crate::commands::{EachObject, targets_then_values, write_change};
use crate::error::{Error, Result};
use crate::model::roles::{Profile, RoleName};
use crate::model::target::Target;

pub async fn scale(cluster: &Cluster, profile: &Profile, args: &ScaleArgs) -> Result<String> {
    let (targets, _) = targets_then_values(
        profile,
        cluster,
        args.target.as_deref().unwrap_or_default(),
        &args.names,
        |_| false,
    )?;
    if !(0..=i64::from(i32::MAX)).contains(&args.replicas) {
        return Err(Error::Usage(format!(
            "--replicas must be from 0 to {}, not {}",
            i32::MAX,
            args.replicas
        )));
    }
    // Every object must be scalable before any is written.
    let mut scalable = Vec::new();
    for target in targets {
        let field = replicas_field(profile, &target)?;
        scalable.push((target, field));
    }
    let mut results = EachObject::new(scalable.len());
    for (target, (trait_name, field)) in scalable {
        let replicas = args.replicas;
        let written =
            write_change(cluster, profile, RoleName::Ops, &args.write, target, "scaled", |doc, _| {
                let map = doc.as_object_mut().expect("a document is a mapping");
                let group = map.entry(trait_name).or_insert_with(|| Value::Object(Default::default()));
                group[&field] = Value::from(replicas);
                Ok(())
            })
            .await;
        results.record(written)?;
    }
    results.finish()
}

/// The trait and field that hold a kind's replica count, or why it cannot be scaled.
pub(crate) fn replicas_field(profile: &Profile, target: &Target<'_>) -> Result<(String, String)> {
    let found = profile.role(RoleName::Ops).object_traits(&target.kind.kind).find_map(|(t, fields)| {
        fields.iter().find(|f| f.autoscaled).map(|f| (t.to_string(), f.name.clone()))
    });
    let Some(found) = found else {
        let scalable: Vec<&str> = profile
            .kinds
            .iter()
            .filter(|k| {
                profile
                    .role(RoleName::Ops)
                    .object_traits(&k.kind)
                    .any(|(_, f)| f.iter().any(|f| f.autoscaled))
            })
            .map(|k| k.kind.as_str())
            .collect();
        // A file's object may have no namespace (`--local`): then none is named.
        let place = match target.namespace.is_empty() {
            true => String::new(),
            false => format!(" in namespace \"{}\"", target.namespace),
        };
        return Err(Error::Usage(format!(
            "{}{place} cannot be scaled: a {} has no replica count (scalable kinds: {})",
            target.display(),
            target.kind.kind,
            scalable.join(", ")
        )));
    };
    Ok(found)
}
