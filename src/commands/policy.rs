//! `kubectl oam policy`: print the generated admission policy (`core::policy`), install it (`--apply`:
//! a server-side dry-run diff, a confirmation, then server-side apply), or compare it with what is
//! installed (`--check`).

use std::io::IsTerminal;

use serde_json::Value;

use crate::cli::{self, PolicyArgs};
use crate::cluster::client::Cluster;
use crate::cluster::{fetch, write};
use crate::core::policy::{FIELD_MANAGER, Options, PolicyAction, comparable, label, sorted};
use crate::error::{Error, Result};
use crate::format::{diff, output};
use crate::model::target;

/// `kubectl oam policy`'s flags as the options of the generation.
pub fn options(args: &PolicyArgs, profile_configmap: &str) -> Result<Options> {
    target::check_name("ValidatingAdmissionPolicy", &args.name)?;
    let (namespace, name) = profile_configmap.split_once('/').ok_or_else(|| {
        Error::Usage(format!("--profile-configmap \"{profile_configmap}\" is not NAMESPACE/NAME"))
    })?;
    target::check_namespace(namespace)?;
    target::check_name("ConfigMap", name)?;
    Ok(Options {
        name: args.name.clone(),
        action: match args.action {
            cli::PolicyAction::Deny => PolicyAction::Deny,
            cli::PolicyAction::Warn => PolicyAction::Warn,
            cli::PolicyAction::Audit => PolicyAction::Audit,
        },
        namespace_selector: args.namespace_selector.clone(),
        allow_create_delete: args.allow_create_delete,
        profile_configmap: (namespace.to_string(), name.to_string()),
    })
}

/// `--check`: prints a diff of each installed object against the generated one; true when any
/// differs or is missing.
pub async fn check(cluster: &Cluster, objects: &[Value]) -> Result<(bool, String)> {
    let mut text = String::new();
    let mut differs = false;
    for object in objects {
        let label = label(object);
        let live = fetch::object(cluster, object).await?;
        let before = match live {
            Some(live) => output::yaml(&comparable(&live, object))?,
            None => String::new(),
        };
        let after = output::yaml(&sorted(object))?;
        if before != after {
            differs = true;
            text.push_str(&diff::unified(&before, &after, &label, output::use_colour()));
        }
    }
    Ok((differs, text))
}

/// `--apply`: a server-side dry-run of every object, the diff, a confirmation, then the apply.
pub async fn install(cluster: &Cluster, objects: &[Value], args: &PolicyArgs) -> Result<String> {
    let mut planned = Vec::new();
    let mut diffs = String::new();
    for object in objects {
        let label = label(object);
        let live = fetch::object(cluster, object).await?;
        let result =
            write::objects::apply_object(cluster, object, FIELD_MANAGER, args.force_conflicts, true).await?;
        let before = match &live {
            Some(live) => output::yaml(&comparable(live, object))?,
            None => String::new(),
        };
        let after = output::yaml(&comparable(&result, object))?;
        let text = diff::unified(&before, &after, &label, output::use_colour());
        let state = match (&live, text.is_empty()) {
            (None, _) => "created",
            (Some(_), true) => "unchanged",
            (Some(_), false) => "configured",
        };
        diffs.push_str(&text);
        planned.push((object, label, state));
    }
    if planned.iter().all(|(_, _, state)| *state == "unchanged") {
        return Ok(planned.iter().map(|(_, label, _)| format!("{label} unchanged\n")).collect());
    }
    output::emit(&diffs)?;
    if !args.yes {
        if !(std::io::stdin().is_terminal() && std::io::stderr().is_terminal()) {
            return Err(Error::Usage(
                "no terminal to confirm the policy on; re-run with --yes to apply it without asking".into(),
            ));
        }
        let confirmed = dialoguer::Confirm::new()
            .with_prompt(format!("Apply the admission policy as {FIELD_MANAGER}?"))
            .default(false)
            .interact()
            .map_err(|e| Error::Io(format!("cannot ask for confirmation: {e}")))?;
        if !confirmed {
            return Err(Error::Usage("not applied: you declined".into()));
        }
    }
    let mut done = String::new();
    for (object, label, state) in planned {
        write::objects::apply_object(cluster, object, FIELD_MANAGER, args.force_conflicts, false).await?;
        done.push_str(&format!("{label} {state}\n"));
    }
    Ok(done)
}
