//! Between two clusters: `diff TYPE/NAME --against-context C` compares the role's documents of one
//! object in two contexts (exit 0 when the role's fields are equal, 1 with the diff when not; the
//! other role's fields never count), and `promote TYPE/NAME --from-context A --to-context B`
//! copies the role's fields from A to B as a role write on B: the same pipeline as `apply -f`
//! (server-side dry-run diff, confirmation or --yes, only the role's fields under its manager,
//! conflicts named, --wait), so B's other role's fields stay as they are.

use serde_json::Value;

use crate::cli::{DiffArgs, KubeFlags, PromoteArgs};
use crate::cluster::client::{self, Cluster};
use crate::cluster::{fetch, profiles, write};
use crate::commands::edit::{ask, interactive};
use crate::commands::fleet::in_context;
use crate::commands::{self, after_write};
use crate::core::fleet;
use crate::core::write::{Live, Writer};
use crate::error::{Error, Result, suggest};
use crate::format::{diff, output};
use crate::model::roles::{Profile, RoleName};
use crate::model::target::{Target, parse_target};

/// One side: a context (None: the kubeconfig's current one) and a namespace (None: -n, else the
/// context's).
async fn open(
    flags: &KubeFlags,
    context: Option<&str>,
    namespace: Option<&str>,
) -> Result<(Cluster, Profile)> {
    let mut flags = flags.clone();
    flags.all_contexts = false;
    if let Some(context) = context {
        flags.context = vec![context.to_string()];
    }
    if let Some(namespace) = namespace {
        flags.namespace = Some(namespace.to_string());
    }
    let cluster = commands::connect(&flags).await?;
    let profile = profiles::load(&cluster, &commands::profile_options(&flags), false).await?;
    Ok((cluster, profile))
}

/// The name a context goes by in labels and messages.
fn context_name(flags: &KubeFlags, context: Option<&str>) -> String {
    match context {
        Some(name) => name.to_string(),
        None => client::current_context(&commands::client_options(flags))
            .ok()
            .flatten()
            .unwrap_or_else(|| "the current context".into()),
    }
}

/// The object the words name, in `cluster`'s namespace, of `profile`'s kind.
fn target<'p>(
    profile: &'p Profile,
    cluster: &Cluster,
    words: (&str, Option<&str>),
    command: &str,
) -> Result<Target<'p>> {
    match parse_target(profile, Some(words.0), words.1)? {
        Some((kind, Some(name))) => Ok(Target { kind, name, namespace: cluster.namespace.clone() }),
        _ => Err(Error::Usage(format!("{command} needs TYPE/NAME or TYPE NAME, e.g. deploy/web"))),
    }
}

/// Reads one side, its errors named with their context.
async fn read<'p>(
    cluster: &Cluster,
    profile: &'p Profile,
    role: RoleName,
    words: (&str, Option<&str>),
    context: &str,
    for_write: bool,
    command: &str,
) -> Result<Live<'p>> {
    let target = target(profile, cluster, words, command)?;
    let live = match for_write {
        true => fetch::read_for_write(cluster, profile, role, target).await,
        false => fetch::read_live(cluster, profile, role, target).await,
    };
    live.map_err(|err| named(context, err))
}

/// `ROLE diff TYPE/NAME --against-context C`: Ok(true) when the role's fields differ.
pub async fn diff_against(flags: &KubeFlags, role: RoleName, args: &DiffArgs) -> Result<bool> {
    let (Some(words), Some(against)) = (args.target.as_deref(), args.against_context.as_deref()) else {
        return Err(Error::Usage("diff --against-context needs TYPE/NAME, e.g. deploy/web".into()));
    };
    let here = flags.context.first().map(String::as_str);
    let (here_name, there_name) = (context_name(flags, here), against.to_string());
    let (a, b) = futures_util::future::join(
        open(flags, here, None),
        in_context(against, open(flags, Some(against), args.against_namespace.as_deref())),
    )
    .await;
    let ((a_cluster, a_profile), (b_cluster, b_profile)) =
        (a.map_err(|e| named(&here_name, e))?, b.map_err(|e| named(&there_name, e))?);
    let words = (words, args.name.as_deref());
    let (a_live, b_live) = futures_util::future::join(
        read(&a_cluster, &a_profile, role, words, &here_name, false, "diff"),
        in_context(against, read(&b_cluster, &b_profile, role, words, &there_name, false, "diff")),
    )
    .await;
    let (a_live, b_live) = (a_live?, b_live?);
    if same_object(&a_cluster, &b_cluster, &a_live, &b_live) {
        return Err(Error::Usage(format!(
            "context \"{here_name}\" and --against-context \"{there_name}\" name the same object ({} in namespace \"{}\" on {}), equal to itself; compare another cluster (--context, --against-context) or namespace (--against-namespace)",
            a_live.target.display(),
            a_live.target.namespace,
            a_cluster.server
        )));
    }
    let text = |live: &Live<'_>, profile: &Profile| -> Result<String> {
        output::yaml(&fleet::comparable(&live.document(profile, role, None)))
    };
    let label = |live: &Live<'_>, context: &str| {
        format!("{} (context {context}, namespace {})", live.target.display(), live.target.namespace)
    };
    let shown = diff::unified_between(
        &text(&a_live, &a_profile)?,
        &text(&b_live, &b_profile)?,
        &label(&a_live, &here_name),
        &label(&b_live, &there_name),
        output::use_colour(),
    );
    output::emit(&shown)?;
    Ok(!shown.is_empty())
}

fn named(context: &str, err: Error) -> Error {
    Error::InContext {
        context: context.to_string(),
        message: err.to_string().lines().collect::<Vec<_>>().join(" "),
    }
}

/// `ROLE promote TYPE/NAME --from-context A --to-context B`.
pub async fn promote(flags: &KubeFlags, role: RoleName, args: &PromoteArgs) -> Result<String> {
    let (from, to) = (args.from_context.as_str(), args.to_context.as_str());
    let write_flags = &args.write;
    let (a, b) = futures_util::future::join(
        in_context(from, open(flags, Some(from), None)),
        open(flags, Some(to), args.to_namespace.as_deref()),
    )
    .await;
    let ((a_cluster, a_profile), (b_cluster, b_profile)) =
        (a.map_err(|e| named(from, e))?, b.map_err(|e| named(to, e))?);
    let words = (args.target.as_str(), args.name.as_deref());
    let source = in_context(from, read(&a_cluster, &a_profile, role, words, from, false, "promote")).await?;
    let target = read(&b_cluster, &b_profile, role, words, to, true, "promote").await?;
    if same_object(&a_cluster, &b_cluster, &source, &target) {
        return Err(Error::Usage(format!(
            "--from-context \"{from}\" and --to-context \"{to}\" name the same object ({} in namespace \"{}\" on {}); promote copies between clusters (or namespaces, with --to-namespace)",
            source.target.display(),
            source.target.namespace,
            a_cluster.server
        )));
    }
    // A dev document holds per-container fields: they must land on the same containers.
    if role == RoleName::Dev {
        if let Some(why) = fleet::mismatch(source.target.kind, &source.object, &target.object) {
            return Err(Error::Usage(format!(
                "{} in namespace \"{}\" of context \"{to}\" is not the same workload as in namespace \"{}\" of context \"{from}\": {why}; make the containers match first (then compare with `{}`)",
                target.target.display(),
                target.target.namespace,
                source.target.namespace,
                suggest(
                    &format!(
                        "dev diff {} --against-context {from} --against-namespace {}",
                        source.target.display(),
                        source.target.namespace
                    ),
                    &target.target.namespace
                )
            )));
        }
    }
    // The source's autoscaler goes to the target's HPA; roles never create one.
    if let (Some(hpa), None) = (&source.autoscaler, &target.autoscaler) {
        if crate::core::hpa::has_section(&b_profile, role, target.target.kind) {
            return Err(Error::Usage(format!(
                "{} in namespace \"{}\" of context \"{to}\" has no HorizontalPodAutoscaler, and in context \"{from}\" {} scales it; roles never create objects: create it with `{}`, then promote again",
                target.target.display(),
                target.target.namespace,
                hpa.name,
                suggest(
                    &format!("ops autoscale {} {}", target.target.display(), fleet::autoscale_flags(hpa)),
                    &target.target.namespace
                )
            )));
        }
    }
    let doc: Value =
        fleet::promoted(&source.document(&a_profile, role, None), &target.document(&b_profile, role, None));
    let writer =
        Writer::new(&b_profile, role, write_flags.field_manager.as_deref(), write_flags.force_conflicts)?
            .overwriting(write_flags.overwrite)
            .reconciling(write_flags.until_reconciled, write_flags.dry_run());
    let plan = write::plan_as(&b_cluster, &b_profile, &writer, &target, &doc, write_flags.client_dry_run())
        .await
        .map_err(|e| named(to, e))?;
    plan.warn_kept();
    let colour = output::use_colour();
    if write_flags.dry_run() {
        return Ok(plan.diff(colour));
    }
    if !plan.needs_write() {
        return Ok(format!("{} unchanged in context \"{to}\"\n", plan.label));
    }
    if !args.yes {
        if !interactive() {
            let mut to_namespace =
                args.to_namespace.as_ref().map(|ns| format!(" --to-namespace {ns}")).unwrap_or_default();
            if write_flags.force_conflicts {
                to_namespace.push_str(" --force-conflicts");
            }
            return Err(Error::Usage(format!(
                "no terminal to confirm the change on; re-run with --yes to apply without asking (or --dry-run=server), e.g. {}",
                suggest(
                    &format!(
                        "{role} promote {} --from-context {from} --to-context {to}{to_namespace} --yes",
                        target.target.display()
                    ),
                    &source.target.namespace
                )
            )));
        }
        output::emit(&plan.diff(colour))?;
        if !ask(&format!("Apply this to {} in context \"{to}\"?", target.object_label()))? {
            return Ok("Nothing was changed.\n".into());
        }
    }
    write::commit(&b_cluster, &b_profile, &writer, &target.target, &plan).await.map_err(|e| named(to, e))?;
    let line = format!("{} promoted from context \"{from}\" to \"{to}\"\n", plan.label);
    after_write(&b_cluster, &target.target, write_flags, line).await
}

/// The same object on the same server: nothing to copy.
fn same_object(a: &Cluster, b: &Cluster, source: &Live<'_>, target: &Live<'_>) -> bool {
    a.server == b.server
        && source.target.namespace == target.target.namespace
        && source.object["metadata"]["uid"] == target.object["metadata"]["uid"]
}
