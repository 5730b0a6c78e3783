//! `kubectl oam ops expose TYPE/NAME --port P [--target-port NAME|N] [--type T] [--name SVC]`: a
//! Service that selects the workload's pods, as `kubectl expose` makes it, written by server-side
//! apply under the ops field manager after a dry-run diff and a confirmation; `--delete` removes
//! it. The same path serves `ops disruption-budget` (`write_around`).

use std::io::IsTerminal;

use serde_json::Value;

use crate::cli::{CreateFlags, ExposeArgs};
use crate::cluster::client::Cluster;
use crate::cluster::{fetch, write};
use crate::commands::autoscale::require_target;
use crate::core::expose::{
    ExposeOptions, SERVICE, other_managers, pod_selector, selects, service_body, shown,
};
use crate::core::write::Writer;
use crate::error::{Error, Result, suggest};
use crate::format::{diff, output};
use crate::model::roles::{KindInfo, Profile, RoleName};
use crate::model::target::Target;

pub async fn expose(cluster: &Cluster, profile: &Profile, args: &ExposeArgs) -> Result<String> {
    let name: Vec<String> = args.name.iter().cloned().collect();
    let (workload, _) = require_target(profile, cluster, &args.target, &name)?;
    let object = fetch::fetch(cluster, &workload).await?;
    let what = format!("{} in namespace \"{}\"", workload.display(), workload.namespace);
    let service_name = args.object_name.clone().unwrap_or_else(|| workload.name.clone());
    let body = match (args.create.delete, args.port) {
        (false, Some(port)) => Some(service_body(
            &object,
            workload.kind,
            &workload.namespace,
            &what,
            &ExposeOptions {
                name: &service_name,
                port,
                target_port: args.target_port.as_deref(),
                service_type: args.service_type.as_deref(),
                protocol: &args.protocol,
            },
        )?),
        _ => None,
    };
    let selector = Value::Object(pod_selector(&object, &what)?);
    let around = Around { kind: &SERVICE, name: service_name, body, selector };
    let mut command = format!("ops expose {}", workload.display());
    for (flag, value) in [
        ("--port", args.port.map(|p| p.to_string())),
        ("--target-port", args.target_port.clone()),
        ("--type", args.service_type.clone()),
        ("--name", args.object_name.clone()),
        ("--protocol", Some(args.protocol.clone()).filter(|p| p != "TCP")),
    ] {
        if let Some(value) = value {
            command.push_str(&format!(" {flag} {value}"));
        }
    }
    command.push_str(&flags_text(&args.create));
    write_around(cluster, profile, &around, &args.create, &command).await
}

/// The write flags as typed, for the hint to re-run the command (`--yes` is added by the hint).
pub(crate) fn flags_text(flags: &CreateFlags) -> String {
    let mut text = String::new();
    if let Some(manager) = &flags.field_manager {
        text.push_str(&format!(" --field-manager {manager}"));
    }
    if flags.force_conflicts {
        text.push_str(" --force-conflicts");
    }
    if flags.delete {
        text.push_str(" --delete");
    }
    text
}

/// An object around a workload that a command creates, updates or deletes.
pub(crate) struct Around<'a> {
    pub kind: &'a KindInfo,
    pub name: String,
    /// What to apply; None: delete.
    pub body: Option<Value>,
    /// The workload's pod labels: an existing object of that name must select them.
    pub selector: Value,
}

/// Diff (the server's dry-run, or `--dry-run=client` the body as it is), confirmation (or `--yes`),
/// then the apply under the ops manager, or the deletion. `command` is the command as typed, for
/// the hint to re-run it.
pub(crate) async fn write_around(
    cluster: &Cluster,
    profile: &Profile,
    around: &Around<'_>,
    flags: &CreateFlags,
    command: &str,
) -> Result<String> {
    let namespace = cluster.namespace.clone();
    let target = Target { kind: around.kind, name: around.name.clone(), namespace: namespace.clone() };
    let object = format!("{} in namespace \"{namespace}\"", target.display());
    let existing = match fetch::fetch(cluster, &target).await {
        Ok(found) => Some(found),
        Err(Error::NotFound { .. }) => None,
        Err(e) => return Err(e),
    };
    if let Some(found) = existing.as_ref().filter(|found| !selects(found, &around.selector)) {
        let name_flag = if around.body.is_some() { "choose another --name, or " } else { "" };
        return Err(Error::Usage(format!(
            "{object} already exists and selects other pods ({}); {name_flag}change or delete it with kubectl",
            selector_text(found)
        )));
    }
    let writer = Writer::new(profile, RoleName::Ops, flags.field_manager.as_deref(), flags.force_conflicts)?;
    if let (None, Some(found)) = (&around.body, &existing) {
        let others = other_managers(found, &writer.manager);
        if !others.is_empty() {
            return Err(Error::Usage(format!(
                "{object} is also managed by {}: kubectl oam deletes only what it wrote alone; nothing was deleted: delete it with the tool that manages it",
                others.join(", ")
            )));
        }
        // Only what kubectl oam wrote: an object without the manager's fields (no managed fields
        // at all, or only others') is not its own to delete.
        let managers = found["metadata"]["managedFields"].as_array().into_iter().flatten();
        if !managers.clone().any(|e| e["manager"].as_str() == Some(writer.manager.as_str())) {
            return Err(Error::Usage(format!(
                "{object} has no fields of {}: kubectl oam deletes only what it wrote alone; nothing was deleted: delete it with the tool that manages it",
                writer.manager
            )));
        }
    }
    let before = match &existing {
        Some(found) => output::yaml(&shown(found))?,
        None => String::new(),
    };
    let dry_run = flags.dry_run != "none";
    let client = flags.dry_run == "client";
    let after_what = match (client, around.body.is_some()) {
        (true, _) => diff::CLIENT_SIDE,
        (false, true) => "after apply",
        (false, false) => "after delete",
    };
    let (after, done) = match &around.body {
        None => {
            if existing.is_none() {
                return Err(Error::Usage(format!("{object} does not exist: nothing to delete")));
            }
            if let (false, Some(found)) = (client, &existing) {
                write::objects::delete_object(cluster, &target, found, true).await?;
            }
            (String::new(), "deleted")
        }
        Some(body) => {
            let planned = match client {
                true => body.clone(),
                false => write::create(cluster, profile, &writer, &target, body, true).await?,
            };
            let done = if existing.is_some() { "configured" } else { "created" };
            (output::yaml(&shown(&planned))?, done)
        }
    };
    let text = diff::unified_as(&before, &after, &target.display(), after_what, output::use_colour());
    if dry_run {
        return Ok(text);
    }
    if before == after {
        return Ok(format!("{} unchanged\n", target.display()));
    }
    if !flags.yes {
        let interactive = std::io::stdin().is_terminal() && std::io::stderr().is_terminal();
        if !interactive {
            return Err(Error::Usage(format!(
                "no terminal to confirm the change on; re-run with --yes to write without asking (or --dry-run=server to see the diff), e.g. {}",
                suggest(&format!("{command} --yes"), &namespace)
            )));
        }
        eprint!("{text}");
        let verb = if around.body.is_some() { "Apply" } else { "Delete" };
        let yes = dialoguer::Confirm::new()
            .with_prompt(format!("{verb} {}?", target.display()))
            .default(false)
            .wait_for_newline(true)
            .interact()
            .map_err(|e| Error::Io(format!("cannot ask for confirmation: {e}")))?;
        if !yes {
            return Ok(format!("{} not changed\n", target.display()));
        }
    }
    match &around.body {
        None => {
            if let Some(found) = &existing {
                write::objects::delete_object(cluster, &target, found, false).await?
            }
        }
        Some(body) => {
            write::create(cluster, profile, &writer, &target, body, false).await?;
        }
    }
    let shown_diff = if flags.yes { text } else { String::new() };
    Ok(format!("{shown_diff}{} {done}\n", target.display()))
}

/// The labels an existing Service or PDB selects, for messages.
fn selector_text(found: &Value) -> String {
    let selector = &found["spec"]["selector"];
    let labels = selector.get("matchLabels").unwrap_or(selector);
    let pairs: Vec<String> = labels
        .as_object()
        .into_iter()
        .flatten()
        .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default()))
        .collect();
    if pairs.is_empty() { "no labels".into() } else { pairs.join(",") }
}
