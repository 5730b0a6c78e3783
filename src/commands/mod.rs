//! One file per verb: get, list, owners, roles, apply (and `diff -f`), set, scale, edit, adopt,
//! autoscale, expose, disruption-budget, explain, policy, complete, promote (and `fleet`: views of
//! several contexts); `local` runs get, set, scale and apply on manifest files (`--local`, no
//! cluster). Each turns its arguments into plain values, calls `core` and `cluster`, and prints;
//! shared here: the connection and profile from the cluster flags, and
//! the path of imperative writes (read, change the document, plan, apply, wait).
//!
//! The only layer that reads the command line (`cli`); it may import every layer below.

use serde_json::Value;

use crate::cli::{KubeFlags, WriteFlags, parse_duration};
use crate::cluster::client::{self, ClientOptions, Cluster};
use crate::cluster::profiles::ProfileOptions;
use crate::cluster::wait::WaitOptions;
use crate::cluster::{fetch, wait, write};
use crate::core::write::{Live, Writer};
use crate::error::{Error, Result};
use crate::format::output;
use crate::model::roles::{Profile, RoleName};
use crate::model::target::{Target, parse_targets};

pub mod adopt;
pub mod apply;
pub mod autoscale;
pub mod check;
pub mod complete;
pub mod disruption_budget;
pub mod edit;
pub mod explain;
pub mod expose;
pub mod fleet;
pub mod get;
pub mod gitops;
pub mod list;
pub mod local;
pub mod owners;
pub mod policy;
pub mod promote;
pub mod release;
pub mod roles;
pub mod scale;
pub mod set;

/// The cluster flags as the plain settings `cluster::client` reads.
pub fn client_options(flags: &KubeFlags) -> ClientOptions {
    ClientOptions {
        kubeconfig: flags.kubeconfig.clone(),
        context: flags.context.first().cloned(),
        cluster: flags.cluster.clone(),
        user: flags.user.clone(),
        namespace: flags.namespace.clone(),
        all_namespaces: flags.all_namespaces,
        as_user: flags.as_user.clone(),
        as_group: flags.as_group.clone(),
        token: flags.token.clone(),
        server: flags.server.clone(),
        insecure_skip_tls_verify: flags.insecure_skip_tls_verify,
        cache_dir: flags.cache_dir.clone(),
        verbosity: flags.verbosity,
    }
}

/// Connects as kubectl would with these flags. A bad `--request-timeout` is refused once the
/// kubeconfig and namespace are known to be good, where the client is built.
pub async fn connect(flags: &KubeFlags) -> Result<Cluster> {
    let configured = client::configure(&client_options(flags)).await?;
    configured.connect(flags.request_timeout.as_deref().map(parse_duration).transpose()?)
}

/// Where the profile comes from: `--profile`, `--profile-configmap`, and `-v`.
pub fn profile_options(flags: &KubeFlags) -> ProfileOptions {
    ProfileOptions {
        file: flags.profile.clone(),
        configmap: flags.profile_configmap.clone(),
        verbosity: flags.verbosity,
    }
}

/// What `--wait`, `--timeout` and `-q` ask for; None when the write does not wait.
pub fn wait_options(flags: &WriteFlags) -> Result<Option<WaitOptions>> {
    if !flags.wait {
        return Ok(None);
    }
    let timeout = parse_duration(&flags.timeout).map_err(|_| {
        Error::Usage(format!(
            "invalid --timeout \"{}\": use a number of seconds or a duration such as 90s, 5m (0: no limit)",
            flags.timeout
        ))
    })?;
    Ok(Some(WaitOptions { timeout: (!timeout.is_zero()).then_some(timeout), quiet: flags.quiet }))
}

/// The one call after a successful write: with `--wait`, prints `line` at once and follows the
/// rollout (the result is then empty); without, hands `line` back to be printed.
pub async fn after_write(
    cluster: &Cluster,
    target: &Target<'_>,
    flags: &WriteFlags,
    line: String,
) -> Result<String> {
    wait::after_write(cluster, target, wait_options(flags)?, line).await
}

/// Imperative writes share one path: read, change the role document, plan, apply.
async fn write_change(
    cluster: &Cluster,
    profile: &Profile,
    role: RoleName,
    flags: &WriteFlags,
    target: Target<'_>,
    what: &str,
    change: impl FnOnce(&mut Value, &Value) -> Result<()>,
) -> Result<String> {
    // The change is to the workload's own fields: the objects around it are not read.
    let live = fetch::read_workload_for_write(cluster, profile, role, target).await?;
    write_live(cluster, profile, role, flags, live, what, change).await
}

/// `write_change` on an object already read.
pub async fn write_live(
    cluster: &Cluster,
    profile: &Profile,
    role: RoleName,
    flags: &WriteFlags,
    live: Live<'_>,
    what: &str,
    change: impl FnOnce(&mut Value, &Value) -> Result<()>,
) -> Result<String> {
    let mut doc = live.document(profile, role, None);
    change(&mut doc, &live.object)?;
    let writer = Writer::new(profile, role, flags.field_manager.as_deref(), flags.force_conflicts)?
        .overwriting(flags.overwrite)
        .reconciling(flags.until_reconciled, flags.dry_run());
    let plan = write::plan_as(cluster, profile, &writer, &live, &doc, flags.client_dry_run()).await?;
    plan.warn_kept();
    if flags.dry_run() {
        return Ok(plan.diff(output::use_colour()));
    }
    if !plan.needs_write() {
        return Ok(format!("{} unchanged\n", plan.label));
    }
    write::commit(cluster, profile, &writer, &live.target, &plan).await?;
    after_write(cluster, &live.target, flags, format!("{} {what}\n", plan.label)).await
}

/// The objects a `set` or `scale` command names, then its values: leading words that are not
/// values name more objects (`set image deploy/a sts/b app=x`, `scale deploy a b`), as kubectl reads
/// them.
pub fn targets_then_values<'p, 'w>(
    profile: &'p Profile,
    cluster: &Cluster,
    first: &str,
    words: &'w [String],
    is_value: impl Fn(&str) -> bool,
) -> Result<(Vec<Target<'p>>, &'w [String])> {
    let (objects, values) = words.split_at(words.iter().take_while(|w| !is_value(w)).count());
    let named: Vec<String> = std::iter::once(first.to_string()).chain(objects.iter().cloned()).collect();
    let targets: Vec<Target<'p>> = parse_targets(profile, &named)?
        .into_iter()
        .map(|(kind, name)| Target { kind, name, namespace: cluster.namespace.clone() })
        .collect();
    if targets.is_empty() {
        return Err(Error::Usage(format!("\"{first}\" is not TYPE/NAME or TYPE NAME, e.g. deploy/web")));
    }
    Ok((targets, values))
}

/// Results of one command over several objects, as kubectl reports them: each success printed as it
/// happens, each failure as one error line, and the command fails if any object failed.
pub struct EachObject {
    many: bool,
    failed: Option<Error>,
}

impl EachObject {
    pub fn new(objects: usize) -> EachObject {
        EachObject { many: objects > 1, failed: None }
    }

    pub fn record(&mut self, result: Result<String>) -> Result<()> {
        match result {
            Ok(text) => output::emit(&text),
            Err(err) if self.many => {
                if let Some(earlier) = self.failed.replace(err) {
                    eprintln!("error: {}", earlier.to_string().lines().collect::<Vec<_>>().join(" "));
                }
                Ok(())
            }
            Err(err) => Err(err),
        }
    }

    /// The last failure is returned, so it is printed last and sets the exit code.
    pub fn finish(self) -> Result<String> {
        self.failed.map_or(Ok(String::new()), Err)
    }
}
