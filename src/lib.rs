//! kubectl-oam: Open Application Model roles on live Kubernetes workloads.
//!
//! `main.rs` parses and prints; this file dispatches commands to their modules. The modules are in
//! layers, each importing only from the layers below it (`layers_test.rs` keeps it so):
//!
//! - `error.rs` (errors as users read them) and `cli.rs` (the command line, clap only);
//! - `format/`: text in and out (YAML, JSON, tables, diffs, JSONPath, canonical forms);
//! - `model/`: the role model and what describes objects (roles, schemas, targets, paths,
//!   managedFields);
//! - `core/`: pure decisions (projection, ownership, the pure half of writes, status, rows,
//!   rollout judgement, the policy), with no client, runtime or I/O;
//! - `cluster/`: talking to the API server (client, transport, fetch, the write pipeline, the
//!   watch for `--wait`, the profile lookup), from plain values, never the command line;
//! - `commands/`: one file per verb, turning arguments into plain values, then calling `core`
//!   and `cluster` and printing.

pub mod cli;
pub mod cluster;
pub mod commands;
pub mod core;
pub mod error;
pub mod format;
#[cfg(test)]
mod golden;
#[cfg(test)]
mod layers_test;
pub mod model;
#[cfg(test)]
mod properties;

use std::process::ExitCode;

use cli::{Cli, Command, RoleCommand, SetCommand};
use cluster::profiles;
use commands::{
    adopt, apply, autoscale, check, complete, disruption_budget, edit, explain, expose, fleet, get, gitops,
    list, owners, policy, promote, release, roles, scale, set,
};
use error::{Error, Result};
use format::output;
use model::roles::RoleName;

/// How a successful run ends; differences found by `diff` exit 1, as `kubectl diff`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Done,
    Differences,
}

impl Outcome {
    pub fn exit_code(self) -> ExitCode {
        match self {
            Outcome::Done => ExitCode::SUCCESS,
            Outcome::Differences => ExitCode::from(1),
        }
    }
}

/// The hidden command the `kubectl_complete-oam` shim runs.
pub const COMPLETE_COMMAND: &str = "__complete";

/// Prints completion candidates for `words` (kubectl's plugin completion protocol).
pub fn complete(words: &[String]) -> ExitCode {
    match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(runtime) => {
            let _ = print(runtime.block_on(complete::answer(words)));
        }
        // No runtime, no live names; still answer so the shell does not hang on us.
        Err(_) => {
            let _ = output::emit(":4\n");
        }
    }
    ExitCode::SUCCESS
}

pub fn run(cli: Cli) -> Result<Outcome> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::Io(format!("cannot start the async runtime: {e}")))?;
    let outcome = runtime.block_on(dispatch(cli));
    if outcome.is_ok() {
        cluster::fetch::flush_warnings();
    }
    outcome
}

fn print(text: String) -> Result<Outcome> {
    output::emit(&text).map(|_| Outcome::Done)
}

async fn dispatch(cli: Cli) -> Result<Outcome> {
    let flags = &cli.kube;
    // A promotion writes to --to-context: the commands its messages suggest act there.
    let promoting = match &cli.command {
        Command::Dev(RoleCommand::Promote(args)) | Command::Ops(RoleCommand::Promote(args)) => {
            Some(cli::KubeFlags { context: vec![args.to_context.clone()], ..flags.clone() })
        }
        _ => None,
    };
    error::remember_cluster_flags(chosen_by(promoting.as_ref().unwrap_or(flags)));
    // Several contexts (`--context a,b`, `--all-contexts`): views only, each context read at once.
    let several = match fleet::may_name_several(flags) {
        true => fleet::contexts(flags)?,
        false => None,
    };
    let view = matches!(
        &cli.command,
        Command::Owners(_)
            | Command::Dev(RoleCommand::Get(_) | RoleCommand::List(_))
            | Command::Ops(RoleCommand::Get(_) | RoleCommand::List(_))
    );
    if several.is_some() && !view {
        return Err(Error::Usage(
            "several contexts (--context a,b, --all-contexts) are for get, list and owners; other commands work on one cluster (promote and diff --against-context name their two)".into(),
        ));
    }
    if let Some(contexts) = &several {
        return fleet_command(flags, contexts, &cli.command).await;
    }
    match &cli.command {
        // Exactly what `--version` prints.
        Command::Version => print(cli::command().render_version()),
        Command::Completion(args) => print(complete::completion(args.shell, args.install.as_deref())?),
        Command::Roles(args) => {
            let (profile, origin) = match &flags.profile {
                Some(path) => {
                    let origin = profiles::Origin {
                        source: format!("file {}", path.display()),
                        age: None,
                        missing: None,
                    };
                    (profiles::from_file(path)?, origin)
                }
                None => {
                    let cluster = commands::connect(flags).await?;
                    profiles::load_with_origin(&cluster, &commands::profile_options(flags), args.refresh)
                        .await?
                }
            };
            print(roles::roles(&profile, &origin.describe(&profile.source), args)?)
        }
        Command::Policy(args) => policy_command(flags, args).await,
        Command::Check(args) => {
            let (text, fails) = check::check(&check::profile(flags.profile.as_ref())?, args)?;
            print(text)?;
            Ok(if fails { Outcome::Differences } else { Outcome::Done })
        }
        Command::Explain(args) => {
            if let Some(named) = named_target(&args.target).filter(|_| flags.all_namespaces) {
                return Err(across_namespaces(named));
            }
            let cluster = commands::connect(flags).await?;
            let profile = profiles::load(&cluster, &commands::profile_options(flags), false).await?;
            print(explain::explain(&cluster, &profile, args).await?)
        }
        Command::Owners(args) => {
            if let Some(named) = named_target(&args.target).filter(|_| flags.all_namespaces) {
                return Err(across_namespaces(named));
            }
            let cluster = commands::connect(flags).await?;
            let profile = profiles::load(&cluster, &commands::profile_options(flags), false).await?;
            let (text, outside) = owners::owners(&cluster, &profile, args).await?;
            print(text)?;
            Ok(if args.check && outside { Outcome::Differences } else { Outcome::Done })
        }
        Command::Dev(command) => role_command(flags, RoleName::Dev, command).await,
        Command::Ops(command) => role_command(flags, RoleName::Ops, command).await,
    }
}

/// The flags that chose the cluster and the role profile, as given: a suggested command repeats
/// them (with -n), so that it acts on the same object, with the same roles.
fn chosen_by(flags: &cli::KubeFlags) -> Vec<(&'static str, String)> {
    let configmap =
        (flags.profile_configmap != cli::DEFAULT_PROFILE_CONFIGMAP).then(|| flags.profile_configmap.clone());
    [
        ("--kubeconfig", flags.kubeconfig.as_ref().map(|p| p.display().to_string())),
        ("--context", (!flags.context.is_empty()).then(|| flags.context.join(","))),
        ("--cluster", flags.cluster.clone()),
        ("--server", flags.server.clone()),
        ("--profile", flags.profile.as_ref().map(|p| p.display().to_string())),
        ("--profile-configmap", configmap),
    ]
    .into_iter()
    .filter_map(|(flag, value)| Some((flag, value?)))
    .collect()
}

/// `get`, `list`, `owners` of several contexts (`commands::fleet`).
async fn fleet_command(flags: &cli::KubeFlags, contexts: &[String], command: &Command) -> Result<Outcome> {
    let (role, command) = match command {
        Command::Owners(args) => {
            if let Some(named) = named_target(&args.target).filter(|_| flags.all_namespaces) {
                return Err(across_namespaces(named));
            }
            let outside = fleet::owners(flags, contexts, args).await?;
            return Ok(if args.check && outside { Outcome::Differences } else { Outcome::Done });
        }
        Command::Dev(command) => (RoleName::Dev, command),
        Command::Ops(command) => (RoleName::Ops, command),
        _ => return Err(Error::Usage("several contexts are for get, list and owners".into())),
    };
    if flags.all_namespaces {
        if let Some(object) = named_object(command) {
            return Err(across_namespaces(object));
        }
    }
    match command {
        RoleCommand::Get(args) => {
            // The kinds a list names are checked with the built-in profile; each context then
            // reads with its own.
            match list::list_of_get(&model::roles::Profile::builtin(), args)? {
                Some(list) => fleet::list(flags, contexts, role, &list).await?,
                None => fleet::get(flags, contexts, role, args).await?,
            }
        }
        RoleCommand::List(args) => fleet::list(flags, contexts, role, args).await?,
        _ => return Err(Error::Usage("several contexts are for get, list and owners".into())),
    }
    Ok(Outcome::Done)
}

/// `TYPE/NAME` or `TYPE NAME` as typed, if the arguments name an object (not just a TYPE).
fn named_target(target: &cli::TargetArgs) -> Option<String> {
    let named = target.name.is_some() || target.target.as_deref().is_some_and(|t| t.contains('/'));
    named.then(|| target.target.iter().chain(&target.name).cloned().collect::<Vec<_>>().join(" "))
}

/// The object a command names, if it names one (words as typed).
fn named_object(command: &RoleCommand) -> Option<String> {
    let words = named_target;
    // `TYPE NAME`: the name is the next word.
    let with_name = |target: &String, next: Option<&String>| match next.filter(|_| !target.contains('/')) {
        Some(name) => format!("{target} {name}"),
        None => target.clone(),
    };
    match command {
        RoleCommand::Get(args) => words(&args.target),
        RoleCommand::Set(SetCommand::Image(args)) => Some(with_name(&args.target, args.images.first())),
        RoleCommand::Set(SetCommand::Env(args)) => Some(with_name(&args.target, args.vars.first())),
        RoleCommand::Scale(args) => args.target.as_ref().map(|t| with_name(t, args.names.first())),
        RoleCommand::Autoscale(args) => Some(with_name(&args.target, args.name.as_ref())),
        RoleCommand::Expose(args) => Some(with_name(&args.target, args.name.as_ref())),
        RoleCommand::DisruptionBudget(args) => Some(with_name(&args.target, args.name.as_ref())),
        RoleCommand::Adopt(args) => words(&args.target),
        RoleCommand::Gitops(args) => words(&args.target),
        RoleCommand::Release(args) => Some(with_name(&args.target, args.words.first())),
        RoleCommand::Promote(args) => Some(with_name(&args.target, args.name.as_ref())),
        _ => None,
    }
}

/// kubectl refuses a name with `--all-namespaces`: a name is only unique within one namespace.
fn across_namespaces(object: String) -> Error {
    Error::Usage(format!(
        "{object} is named, and a name is only unique within a namespace: give -n NAMESPACE instead of -A (--all-namespaces)"
    ))
}

/// `kubectl oam policy`: print the objects, or install them (`--apply`), or compare (`--check`).
async fn policy_command(flags: &cli::KubeFlags, args: &cli::PolicyArgs) -> Result<Outcome> {
    let opts = policy::options(args, &flags.profile_configmap)?;
    let needs_cluster = args.apply || args.check;
    // Printing with --profile FILE needs no cluster; anything else reads or writes one.
    let (profile, cluster) = match &flags.profile {
        Some(path) if !needs_cluster => (profiles::from_file(path)?, None),
        _ => {
            let cluster = commands::connect(flags).await?;
            let profile = match &flags.profile {
                Some(path) => profiles::from_file(path)?,
                None => profiles::load(&cluster, &commands::profile_options(flags), true).await?,
            };
            (profile, Some(cluster))
        }
    };
    let profile = core::policy::with_groups(profile, &args.groups)?;
    let objects = core::policy::objects(&profile, &opts)?;
    match cluster.filter(|_| needs_cluster) {
        None => print(core::policy::render(&objects, args.output == cli::PolicyFormat::Json)?),
        Some(cluster) if args.check => {
            let (differs, text) = policy::check(&cluster, &objects).await?;
            output::emit(&text)?;
            Ok(if differs { Outcome::Differences } else { Outcome::Done })
        }
        Some(cluster) => print(policy::install(&cluster, &objects, args).await?),
    }
}

/// `-f FILE… --local`, as given, for a suggested command on the same files.
fn local_words(files: &cli::LocalFiles) -> String {
    if !files.local {
        return String::new();
    }
    let mut words: String = files.filename.iter().map(|f| format!(" -f {}", f.display())).collect();
    if files.recursive {
        words.push_str(" -R");
    }
    words.push_str(" --local");
    words
}

/// The manifest files a command names with `-f` (and `--local`), if it takes them.
fn local_files(command: &RoleCommand) -> Option<&cli::LocalFiles> {
    match command {
        RoleCommand::Get(args) => Some(&args.files),
        RoleCommand::Set(SetCommand::Image(args)) => Some(&args.files),
        RoleCommand::Set(SetCommand::Env(args)) => Some(&args.files),
        RoleCommand::Scale(args) => Some(&args.files),
        RoleCommand::Edit(args) => Some(&args.files),
        _ => None,
    }
    .filter(|files| files.local || !files.filename.is_empty())
}

/// `--local -f FILE…`: the files, not the cluster. No kubeconfig is read: the profile is
/// `--profile FILE` or the built-in one.
fn local_command(
    flags: &cli::KubeFlags,
    role: RoleName,
    command: &RoleCommand,
    files: &cli::LocalFiles,
) -> Result<Outcome> {
    if !files.local {
        return Err(Error::Usage(
            "-f reads manifest files: add --local to show or change them (live objects are named TYPE/NAME)"
                .into(),
        ));
    }
    let profile = check::profile(flags.profile.as_ref())?;
    let ns = flags.namespace.as_deref();
    match command {
        RoleCommand::Get(args) => print(commands::local::get(&profile, role, args, ns)?),
        RoleCommand::Set(SetCommand::Image(args)) => print(commands::local::set_image(&profile, args, ns)?),
        RoleCommand::Set(SetCommand::Env(args)) => print(commands::local::set_env(&profile, args, ns)?),
        RoleCommand::Scale(args) => print(commands::local::scale(&profile, args, ns)?),
        RoleCommand::Edit(args) => print(commands::local::edit(&profile, role, args, ns)?),
        _ => Err(Error::Usage("--local goes with get, edit, set image, set env, scale and apply".into())),
    }
}

async fn role_command(flags: &cli::KubeFlags, role: RoleName, command: &RoleCommand) -> Result<Outcome> {
    // Refuse a command of the other role before anything talks to the cluster (so before the
    // context's namespace is known: -n only when given).
    let object = named_object(command).unwrap_or_else(|| "TYPE/NAME".into());
    let suggest = |words: String| error::suggest_in(&words, flags.namespace.as_deref());
    match (role, command) {
        (RoleName::Ops, RoleCommand::Set(_)) => {
            return Err(Error::Usage(
                "`set` is a dev command (image, env); operators use `kubectl oam ops scale` or `ops edit`"
                    .into(),
            ));
        }
        (RoleName::Dev, RoleCommand::Scale(args)) => {
            return Err(Error::Usage(format!(
                "replicas belong to the ops role: use `{}`",
                suggest(format!(
                    "ops scale {object} --replicas {}{}",
                    args.replicas,
                    local_words(&args.files)
                ))
            )));
        }
        (RoleName::Dev, RoleCommand::Autoscale(_)) => {
            return Err(Error::Usage(format!(
                "the autoscaler belongs to the ops role: use `{}`",
                suggest(format!("ops autoscale {object} --min N --max M"))
            )));
        }
        (RoleName::Dev, RoleCommand::Expose(_)) => {
            return Err(Error::Usage(format!(
                "Services are the ops role's (the expose trait): use `{}`",
                suggest(format!("ops expose {object} --port N"))
            )));
        }
        (RoleName::Dev, RoleCommand::DisruptionBudget(_)) => {
            return Err(Error::Usage(format!(
                "disruption budgets are the ops role's: use `{}`",
                suggest(format!("ops disruption-budget {object} --min-available N"))
            )));
        }
        (RoleName::Ops, RoleCommand::Get(cli::GetArgs { container: Some(_), .. })) => {
            return Err(Error::Usage(format!(
                "-c picks a container of the dev document; ops documents have no containers (use `{}`)",
                suggest(format!("dev get {object} -c NAME"))
            )));
        }
        _ => {}
    }
    if flags.all_namespaces {
        if let Some(object) = named_object(command) {
            return Err(across_namespaces(object));
        }
    }
    if let Some(files) = local_files(command) {
        return local_command(flags, role, command, files);
    }
    if let RoleCommand::Diff(args @ cli::DiffArgs { local: true, .. }) = command {
        let profile = check::profile(flags.profile.as_ref())?;
        let text = commands::local::diff(&profile, role, args, flags.namespace.as_deref())?;
        print(text.clone())?;
        return Ok(if text.is_empty() { Outcome::Done } else { Outcome::Differences });
    }
    if let RoleCommand::Apply(args @ cli::ApplyArgs { local: true, .. }) = command {
        let profile = check::profile(flags.profile.as_ref())?;
        return print(commands::local::apply(&profile, role, args, flags.namespace.as_deref())?);
    }
    // Two clusters, each connected by the command itself.
    match command {
        RoleCommand::Promote(args) => return print(promote::promote(flags, role, args).await?),
        RoleCommand::Diff(args) if args.against_context.is_some() => {
            let differs = promote::diff_against(flags, role, args).await?;
            return Ok(if differs { Outcome::Differences } else { Outcome::Done });
        }
        _ => {}
    }
    let cluster = commands::connect(flags).await?;
    let profile = profiles::load(&cluster, &commands::profile_options(flags), false).await?;
    let explicit_ns = flags.namespace.as_deref();
    match command {
        RoleCommand::Get(args) => match list::list_of_get(&profile, args)? {
            Some(list) => list::print_list(&cluster, &profile, role, &list).await.map(|_| Outcome::Done),
            None => print(get::get(&cluster, &profile, role, args).await?),
        },
        RoleCommand::List(args) => {
            list::print_list(&cluster, &profile, role, args).await.map(|_| Outcome::Done)
        }
        RoleCommand::Edit(args) => print(edit::edit(&cluster, &profile, role, args).await?),
        RoleCommand::Apply(args) => {
            print(apply::apply_files(&cluster, &profile, role, explicit_ns, args).await?)
        }
        RoleCommand::Diff(args) => {
            if apply::diff_files(&cluster, &profile, role, explicit_ns, args).await? {
                Ok(Outcome::Differences)
            } else {
                Ok(Outcome::Done)
            }
        }
        RoleCommand::Set(SetCommand::Image(args)) => print(set::set_image(&cluster, &profile, args).await?),
        RoleCommand::Set(SetCommand::Env(args)) => print(set::set_env(&cluster, &profile, args).await?),
        RoleCommand::Scale(args) => print(scale::scale(&cluster, &profile, args).await?),
        RoleCommand::Autoscale(args) => print(autoscale::autoscale(&cluster, &profile, args).await?),
        RoleCommand::Expose(args) => print(expose::expose(&cluster, &profile, args).await?),
        RoleCommand::DisruptionBudget(args) => {
            print(disruption_budget::disruption_budget(&cluster, &profile, args).await?)
        }
        RoleCommand::Adopt(args) => print(adopt::adopt(&cluster, &profile, role, args).await?),
        RoleCommand::Release(args) => print(release::release(&cluster, &profile, role, args).await?),
        RoleCommand::Gitops(args) => print(gitops::gitops(&cluster, &profile, role, args).await?),
        // Connected on its own, above.
        RoleCommand::Promote(args) => print(promote::promote(flags, role, args).await?),
    }
}
