//! `kubectl oam dev set image|env TYPE/NAME… VALUES…`: one field of the dev document, written as
//! `edit` would write it.

use serde_json::{Value, json};

use crate::cli::{SetEnvArgs, SetImageArgs};
use crate::cluster::client::Cluster;
use crate::commands::{EachObject, targets_then_values, write_change};
use crate::core::project;
use crate::error::{Error, Result};
use crate::model::roles::{CONTAINER_LISTS, Profile, RoleName};
use crate::model::target::{Target, check_name};

/// Can `word`, after the first object `first`, name another object? After TYPE/NAME only a
/// TYPE/NAME can, after TYPE only a valid NAME: any other word (`nginx:2`) is a value, and is told
/// what a value must look like.
fn names_an_object(first: &str, word: &str) -> bool {
    match first.contains('/') {
        true => word.contains('/'),
        false => check_name("object", word).is_ok(),
    }
}

pub async fn set_image(cluster: &Cluster, profile: &Profile, args: &SetImageArgs) -> Result<String> {
    let is_image = |w: &str| w.contains('=') || !names_an_object(&args.target, w);
    let (targets, images) = targets_then_values(profile, cluster, &args.target, &args.images, is_image)?;
    let first = &targets[0];
    if images.is_empty() {
        return Err(Error::Usage(format!(
            "give CONTAINER=IMAGE after {}, e.g. app=nginx:1.27",
            first.display()
        )));
    }
    let pairs = image_pairs(images, &format!("{} in namespace \"{}\"", first.display(), first.namespace))?;
    let mut results = EachObject::new(targets.len());
    for target in targets {
        let display = target.display();
        let namespace = target.namespace.clone();
        let written =
            write_change(cluster, profile, RoleName::Dev, &args.write, target, "image updated", |doc, _| {
                set_images(doc, &pairs, &format!("{display} in namespace \"{namespace}\""))
            })
            .await;
        results.record(written)?;
    }
    results.finish()
}

/// `CONTAINER=IMAGE` words as pairs; `named` is the first object, for messages.
pub(crate) fn image_pairs(images: &[String], named: &str) -> Result<Vec<(String, String)>> {
    let mut pairs = Vec::new();
    for pair in images {
        match pair.split_once('=') {
            Some((c, image)) if !c.is_empty() && !image.is_empty() => {
                pairs.push((c.to_string(), image.to_string()))
            }
            _ => {
                let example = match pair.contains('=') {
                    true => String::new(),
                    false => {
                        format!("; name the container: CONTAINER={pair}, or *={pair} for every container")
                    }
                };
                return Err(Error::Usage(format!(
                    "\"{pair}\" is not CONTAINER=IMAGE (for {named}){example}"
                )));
            }
        }
    }
    Ok(pairs)
}

/// Sets the images of a dev document; every named container must be there (`named` is the
/// object, for the message). `*` is every container, init containers and sidecars included (as
/// `kubectl set image`): a migration image must not drift from the app's version.
pub(crate) fn set_images(doc: &mut Value, pairs: &[(String, String)], named: &str) -> Result<()> {
    let names = project::named_containers(doc);
    for (name, _) in pairs {
        if name != "*" && !names.contains(name) {
            return Err(Error::Usage(format!(
                "{named} has no container \"{name}\"; it has {}",
                names.join(", ")
            )));
        }
    }
    for (name, fields) in document_containers_mut(doc) {
        let image = pairs.iter().rev().find(|(n, _)| n == name || n == "*").map(|(_, image)| image);
        if let Some(image) = image {
            fields["image"] = Value::String(image.clone());
        }
    }
    Ok(())
}

/// Each container of a dev document (app and init), by name, for changing its fields.
fn document_containers_mut(doc: &mut Value) -> impl Iterator<Item = (&String, &mut Value)> {
    let map = doc.as_object_mut().into_iter().flat_map(|m| m.iter_mut());
    map.filter(|(key, _)| CONTAINER_LISTS.contains(&key.as_str()))
        .filter_map(|(_, list)| list.as_object_mut())
        .flat_map(|containers| containers.iter_mut())
}

pub async fn set_env(cluster: &Cluster, profile: &Profile, args: &SetEnvArgs) -> Result<String> {
    // A name never ends in `-` (DNS-1123), so `KEY-` is a removal, not an object.
    let is_var = |w: &str| w.contains('=') || w.ends_with('-') || !names_an_object(&args.target, w);
    let (targets, vars) = targets_then_values(profile, cluster, &args.target, &args.vars, is_var)?;
    let first = &targets[0];
    if vars.is_empty() {
        return Err(Error::Usage(format!(
            "give KEY=VALUE or KEY- after {}, e.g. MODE=prod",
            first.display()
        )));
    }
    let (set, unset) =
        env_changes(vars, &format!("{} in namespace \"{}\"", first.display(), first.namespace))?;
    let mut results = EachObject::new(targets.len());
    for target in targets {
        let written = set_env_on(cluster, profile, args, target, &set, &unset).await;
        results.record(written)?;
    }
    results.finish()
}

async fn set_env_on(
    cluster: &Cluster,
    profile: &Profile,
    args: &SetEnvArgs,
    target: Target<'_>,
    set: &[(String, String)],
    unset: &[String],
) -> Result<String> {
    let display = target.display();
    let namespace = target.namespace.clone();
    let only = args.container.clone();
    write_change(cluster, profile, RoleName::Dev, &args.write, target, "env updated", |doc, _| {
        set_env_vars(doc, only.as_deref(), set, unset, &format!("{display} in namespace \"{namespace}\""))
    })
    .await
}

/// Env vars to set (name, value) and to remove (names).
pub(crate) type EnvChanges = (Vec<(String, String)>, Vec<String>);

/// `KEY=VALUE` and `KEY-` words: the variables to set and to remove.
pub(crate) fn env_changes(vars: &[String], named: &str) -> Result<EnvChanges> {
    let mut set = Vec::new();
    let mut unset = Vec::new();
    for var in vars {
        if let Some((k, v)) = var.split_once('=') {
            if k.is_empty() {
                return Err(Error::Usage(format!(
                    "\"{var}\" has no variable name (for {named}); give KEY=VALUE"
                )));
            }
            set.push((k.to_string(), v.to_string()));
        } else if let Some(k) = var.strip_suffix('-').filter(|k| !k.is_empty()) {
            unset.push(k.to_string());
        } else {
            return Err(Error::Usage(format!("\"{var}\" is neither KEY=VALUE nor KEY- (for {named})")));
        }
    }
    Ok((set, unset))
}

/// Sets and removes env vars in a dev document's containers (`only`: one container; `named` is the
/// object, for messages).
pub(crate) fn set_env_vars(
    doc: &mut Value,
    only: Option<&str>,
    set: &[(String, String)],
    unset: &[String],
    named: &str,
) -> Result<()> {
    if let Some(only) = only {
        let names = project::named_containers(doc);
        if !names.iter().any(|n| n == only) {
            return Err(Error::Usage(format!(
                "{named} has no container \"{only}\"; it has {}",
                names.join(", ")
            )));
        }
    }
    // Without -c: every container, init containers included (as `kubectl set env`).
    for (name, c) in document_containers_mut(doc) {
        if only.is_some_and(|o| o != name) {
            continue;
        }
        let Some(container) = c.as_object_mut() else { continue };
        match container.get_mut("env") {
            // The list form a document shows when a name appears twice: change it in place, so
            // the variables this command does not name stay as they are.
            Some(Value::Array(items)) => {
                for (k, v) in set {
                    match items.iter_mut().find(|i| i["name"] == k.as_str()) {
                        Some(item) => *item = json!({"name": k, "value": v}),
                        None => items.push(json!({"name": k, "value": v})),
                    }
                }
                items.retain(|i| !unset.iter().any(|k| i["name"] == k.as_str()));
            }
            _ => {
                let mut env = match container.remove("env") {
                    Some(Value::Object(env)) => env,
                    _ => Default::default(),
                };
                for (k, v) in set {
                    env.insert(k.clone(), Value::String(v.clone()));
                }
                for k in unset {
                    env.shift_remove(k);
                }
                container.insert("env".into(), Value::Object(env));
            }
        }
        if container.get("env").is_some_and(|e| e.as_object().is_some_and(|m| m.is_empty())) {
            container.remove("env");
        }
    }
    Ok(())
}
