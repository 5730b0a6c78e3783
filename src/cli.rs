//! Command line, shown as `kubectl oam …`. kubectl passes every flag after the plugin name through
//! untouched, so the plugin parses kubectl's global flags itself.
//!
//! The bottom layer, beside `error`: clap definitions and the duration form its flags take. Only
//! `commands/` and the crate root read them; the layers below take plain values.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, CommandFactory, FromArgMatches, Parser, Subcommand, ValueEnum};

use crate::error::Error;

#[derive(Debug, Parser)]
#[command(
    name = "kubectl oam",
    bin_name = "kubectl oam",
    version = VERSION,
    about = "Role-scoped views and edits of live workloads: developers see app fields, operators see traits",
    long_about = "kubectl oam splits a live workload by role, as the Open Application Model does.\n\
                  `kubectl oam dev` shows and edits only the developer's fields (per container: image, command/args, env, ports, resources);\n\
                  `kubectl oam ops` only the operator's traits (replicas, rollout, placement, labels/annotations, autoscaler).\n\
                  Every write is a server-side apply under the role's own field manager, after a server-side dry-run diff.",
    propagate_version = true,
    disable_help_subcommand = true
)]
pub struct Cli {
    #[command(flatten)]
    pub kube: KubeFlags,

    #[command(subcommand)]
    pub command: Command,
}

/// What `version` and `--version` print (after the program's name, `kubectl-oam`).
pub const VERSION: &str = concat!("v", env!("CARGO_PKG_VERSION"));

/// The name `--version` and `version` print; clap would name each subcommand otherwise
/// (`kubectl oam-dev-get`).
pub const PROGRAM: &str = "kubectl-oam";

/// Subcommands each role's help leaves out: the other role's, which are refused with a pointer to
/// the right command when typed anyway (so they still parse).
pub const HIDDEN_PER_ROLE: [(&str, &[&str]); 2] =
    [("dev", &["scale", "autoscale", "expose", "disruption-budget"]), ("ops", &["set"])];

/// The command line as it is parsed, helped and completed: `dev --help` lists only what a
/// developer can do, `ops --help` only what an operator can, and every `--version` prints what
/// `version` prints.
pub fn command() -> clap::Command {
    let mut command = Cli::command();
    for (role, hidden) in HIDDEN_PER_ROLE {
        command = command.mut_subcommand(role, |mut sub| {
            for name in hidden {
                sub = sub.mut_subcommand(name, |c| c.hide(true));
            }
            sub
        });
    }
    // `-c` picks a container of the dev document; ops documents have none.
    command = command.mut_subcommand("ops", |ops| {
        ["get", "edit"]
            .iter()
            .fold(ops, |ops, verb| ops.mut_subcommand(verb, |c| c.mut_arg("container", |a| a.hide(true))))
    });
    named_as_program(command)
}

fn named_as_program(command: clap::Command) -> clap::Command {
    let names: Vec<String> = command.get_subcommands().map(|c| c.get_name().to_string()).collect();
    let command = command.display_name(PROGRAM);
    names.iter().fold(command, |command, name| command.mut_subcommand(name, named_as_program))
}

/// Parses the words as [`command`] defines them.
pub fn parse_from(args: &[String]) -> Result<Cli, clap::Error> {
    let mut command = command();
    let matches = command.try_get_matches_from_mut(args)?;
    Cli::from_arg_matches(&matches).map_err(|e| e.with_cmd(&command))
}

/// Where a cluster publishes its role profile unless `--profile-configmap` says otherwise.
pub const DEFAULT_PROFILE_CONFIGMAP: &str = "kube-public/kubectl-oam-profile";

/// kubectl's global flags (cli-runtime `ConfigFlags`) that a plugin is expected to honour.
#[derive(Debug, Clone, Default, Args)]
#[command(next_help_heading = "Cluster flags (as kubectl)")]
pub struct KubeFlags {
    /// Path to the kubeconfig file (default: $KUBECONFIG, else ~/.kube/config)
    #[arg(long, global = true, value_name = "FILE")]
    pub kubeconfig: Option<PathBuf>,
    /// The kubeconfig context to use; `get`, `list` and `owners` take several (a,b or repeated),
    /// read at once, with a CONTEXT column
    /// (As given: a value may name several, a,b; see `commands::fleet::contexts`.)
    #[arg(long, global = true, value_name = "NAME", action = clap::ArgAction::Append)]
    pub context: Vec<String>,
    /// `get`, `list`, `owners`: every context of the kubeconfig, read at once
    #[arg(long, global = true, conflicts_with = "context")]
    pub all_contexts: bool,
    /// The kubeconfig cluster to use
    #[arg(long, global = true, value_name = "NAME")]
    pub cluster: Option<String>,
    /// The kubeconfig user to use
    #[arg(long, global = true, value_name = "NAME")]
    pub user: Option<String>,
    /// Namespace (default: the context's namespace, else "default")
    #[arg(short = 'n', long, global = true, value_name = "NAMESPACE")]
    pub namespace: Option<String>,
    /// List across all namespaces
    #[arg(short = 'A', long, global = true)]
    pub all_namespaces: bool,
    /// Username to impersonate
    #[arg(long = "as", global = true, value_name = "USER")]
    pub as_user: Option<String>,
    /// Group to impersonate (repeatable)
    #[arg(long = "as-group", global = true, value_name = "GROUP")]
    pub as_group: Vec<String>,
    /// Bearer token for authentication to the API server
    #[arg(long, global = true, value_name = "TOKEN")]
    pub token: Option<String>,
    /// The address and port of the Kubernetes API server
    #[arg(short = 's', long, global = true, value_name = "URL")]
    pub server: Option<String>,
    /// Time to wait for one server request, e.g. 10s, 1m (0 = no limit)
    #[arg(long, global = true, value_name = "DURATION")]
    pub request_timeout: Option<String>,
    /// Do not check the server's certificate (insecure)
    #[arg(long, global = true)]
    pub insecure_skip_tls_verify: bool,
    /// Directory for the cached cluster role profile (default: $KUBECACHEDIR, else ~/.kube/cache)
    #[arg(long, global = true, value_name = "DIR")]
    pub cache_dir: Option<PathBuf>,
    /// Log level; 6 or more prints each API request to stderr
    #[arg(short = 'v', long = "v", global = true, value_name = "LEVEL", default_value_t = 0)]
    pub verbosity: u8,
    /// Role profile file to use instead of the cluster's or the built-in one
    #[arg(long, global = true, value_name = "FILE")]
    pub profile: Option<PathBuf>,
    /// ConfigMap that publishes the cluster's role profile (key profile.yaml)
    #[arg(
        long,
        global = true,
        value_name = "NAMESPACE/NAME",
        default_value = DEFAULT_PROFILE_CONFIGMAP
    )]
    pub profile_configmap: String,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// The developer's view: per container image, command/args, env, ports, resources
    #[command(subcommand)]
    Dev(RoleCommand),
    /// The operator's view: traits such as scaler, rollout, placement, metadata, autoscaler
    #[command(subcommand)]
    Ops(RoleCommand),
    /// Who owns each role field of a workload, from managedFields
    Owners(OwnersArgs),
    /// Print the role profile in effect
    Roles(RolesArgs),
    /// Make the API server enforce the roles: a ValidatingAdmissionPolicy generated from the profile
    Policy(PolicyArgs),
    /// What a role field is: its meaning (the server's OpenAPI), role, trait, path; its owners on TYPE/NAME
    Explain(ExplainArgs),
    /// Which role's fields changed between two sets of manifests (files, directories, or Git
    /// revisions): a per-role check for pull requests (exit 1 with --role when others changed)
    Check(CheckArgs),
    /// Print the version
    Version,
    /// Shell completion scripts, or the shim for kubectl's own plugin completion
    Completion(CompletionArgs),
}

#[derive(Debug, Subcommand)]
pub enum RoleCommand {
    /// Show the role's document of a workload (no name: a table of the namespace's workloads)
    Get(GetArgs),
    /// A table of workloads with the role's columns
    #[command(visible_alias = "ls")]
    List(ListArgs),
    /// Edit the role's document in $KUBE_EDITOR and server-side apply it
    Edit(EditArgs),
    /// Server-side apply role documents from a file or stdin
    Apply(ApplyArgs),
    /// Server-side dry-run diff of role documents (exit 0: none, 1: differences, >1: error)
    Diff(DiffArgs),
    /// Copy the role's fields of TYPE/NAME from one cluster (context) to another
    Promote(PromoteArgs),
    /// Update container images or env vars
    #[command(subcommand)]
    Set(SetCommand),
    /// Set the replica count (ops)
    Scale(ScaleArgs),
    /// Create or update the HorizontalPodAutoscaler of a workload (ops)
    Autoscale(AutoscaleArgs),
    /// Create or update a Service for the workload's pods, as `kubectl expose` (ops)
    Expose(ExposeArgs),
    /// Create or update a PodDisruptionBudget for the workload's pods (ops)
    DisruptionBudget(DisruptionBudgetArgs),
    /// Move ownership of the role's fields from other field managers to the role's manager
    Adopt(AdoptArgs),
    /// Give up the role's fields, or hand them to another manager (--to helm)
    Release(ReleaseArgs),
    /// Print the Argo CD or Flux setting that lets the role's live changes stick
    Gitops(GitopsArgs),
}

/// `-o` as kubectl spells it: a format name, or `jsonpath=TEMPLATE`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OutputFormat {
    Yaml,
    Json,
    /// The exact server-side apply body the role would send
    Apply,
    /// Tables: more columns
    Wide,
    /// `kind.group/name`, one per line
    Name,
    /// kubectl's JSONPath template, applied to the role document
    JsonPath(String),
    /// kubectl's `HEADER:PATH,…` columns, each path read from the role document
    CustomColumns(String),
}

impl OutputFormat {
    const NAMES: [(&'static str, &'static str); 7] = [
        ("yaml", "The role document as YAML"),
        ("json", "The role document as JSON"),
        ("apply", "The exact server-side apply body the role would send"),
        ("wide", "Tables: more columns"),
        ("name", "kind.group/name, one per line"),
        (
            "jsonpath=",
            "A JSONPath template applied to the role document, e.g. jsonpath='{.containers.app.image}'",
        ),
        (
            "custom-columns=",
            "A table of HEADER:PATH columns of the role document, e.g. custom-columns=NAME:.name,IMAGE:.containers.app.image",
        ),
    ];
}

/// `-o` of commands that print a document, not a role view (owners, roles).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DocumentFormat {
    Yaml,
    Json,
}

/// Parses `-o`; its possible values feed help and completion.
#[derive(Debug, Clone, Copy, Default)]
pub struct OutputParser;

impl clap::builder::TypedValueParser for OutputParser {
    type Value = OutputFormat;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<OutputFormat, clap::Error> {
        let text = value.to_string_lossy();
        let format = match text.as_ref() {
            "yaml" => Some(OutputFormat::Yaml),
            "json" => Some(OutputFormat::Json),
            "apply" => Some(OutputFormat::Apply),
            "wide" => Some(OutputFormat::Wide),
            "name" => Some(OutputFormat::Name),
            other => match other.split_once('=') {
                Some(("jsonpath", template)) if !template.is_empty() => {
                    Some(OutputFormat::JsonPath(template.to_string()))
                }
                Some(("custom-columns", spec)) if !spec.is_empty() => {
                    Some(OutputFormat::CustomColumns(spec.to_string()))
                }
                _ => None,
            },
        };
        format.ok_or_else(|| {
            let mut err = clap::Error::new(clap::error::ErrorKind::InvalidValue).with_cmd(cmd);
            let arg_name = arg.map(|a| a.to_string()).unwrap_or_else(|| "--output".into());
            err.insert(clap::error::ContextKind::InvalidArg, clap::error::ContextValue::String(arg_name));
            err.insert(
                clap::error::ContextKind::InvalidValue,
                clap::error::ContextValue::String(text.into_owned()),
            );
            err.insert(
                clap::error::ContextKind::ValidValue,
                clap::error::ContextValue::Strings(Self::possible_names().map(String::from).collect()),
            );
            err
        })
    }

    fn possible_values(&self) -> Option<Box<dyn Iterator<Item = clap::builder::PossibleValue> + '_>> {
        Some(Box::new(
            OutputFormat::NAMES
                .iter()
                .map(|(name, help)| clap::builder::PossibleValue::new(*name).help(*help)),
        ))
    }
}

impl OutputParser {
    fn possible_names() -> impl Iterator<Item = &'static str> {
        OutputFormat::NAMES.iter().map(|(name, _)| *name)
    }
}

#[derive(Debug, Args)]
pub struct TargetArgs {
    /// TYPE/NAME, or TYPE followed by NAME (types: deploy, sts, ds, rs, job, cj)
    #[arg(value_name = "TYPE[/NAME]")]
    pub target: Option<String>,
    #[arg(value_name = "NAME")]
    pub name: Option<String>,
}

/// `--local -f FILE…`: manifest files instead of the cluster.
#[derive(Debug, Clone, Default, Args)]
pub struct LocalFiles {
    /// With --local: manifest files to read (and, for changes, to change in place): a file, a
    /// directory (its .yaml/.yml/.json files) or "-" (stdin, read only); repeatable
    #[arg(short = 'f', long = "filename", value_name = "FILE")]
    pub filename: Vec<PathBuf>,
    /// Read directories given with -f recursively
    #[arg(short = 'R', long)]
    pub recursive: bool,
    /// Work on the manifest files given with -f, not on the cluster: no kubeconfig is read and no
    /// request is sent
    #[arg(long, requires = "filename")]
    pub local: bool,
    /// The files came with `--manifests` (apply, diff), not `-f`: messages name that flag.
    #[arg(skip)]
    pub manifests: bool,
}

#[derive(Debug, Args)]
pub struct GetArgs {
    #[command(flatten)]
    pub target: TargetArgs,
    /// More objects: `get deploy/a sts/b`, `get deploy a b`
    #[arg(value_name = "NAME")]
    pub more: Vec<String>,
    /// Only this container (dev)
    #[arg(short = 'c', long)]
    pub container: Option<String>,
    /// Output format
    #[arg(short = 'o', long, value_parser = OutputParser)]
    pub output: Option<OutputFormat>,
    /// Print the exact server-side apply body (same as -o apply)
    #[arg(long)]
    pub raw: bool,
    /// Add each field's field managers to the view: YAML as a comment at the end of the field's line
    /// (the document still applies); JSON (no comments) as an `owners` list beside the `document`
    #[arg(long)]
    pub show_owners: bool,
    /// Label selector for lists
    #[arg(short = 'l', long)]
    pub selector: Option<String>,
    /// Tables: a column with the value of each of these labels (repeatable, or comma-separated)
    #[arg(short = 'L', long = "label-columns", value_name = "LABEL", value_delimiter = ',')]
    pub label_columns: Vec<String>,
    /// Tables: a last column with all labels
    #[arg(long)]
    pub show_labels: bool,
    /// Field selector for lists, e.g. metadata.name=web (the server says which fields it takes)
    #[arg(long, value_name = "SELECTOR")]
    pub field_selector: Option<String>,
    /// After the list (or the named objects), print each change as it happens, until interrupted
    #[arg(short = 'w', long)]
    pub watch: bool,
    /// Objects per list request (lists come in pages)
    #[arg(long, default_value_t = 500, value_parser = clap::value_parser!(u32).range(1..))]
    pub chunk_size: u32,
    /// Lists: also show objects a controller manages (a Deployment's ReplicaSets, a CronJob's Jobs)
    #[arg(long)]
    pub all: bool,
    /// Tables: no header row
    #[arg(long)]
    pub no_headers: bool,
    /// Tables: sort rows by a JSONPath of the role document, e.g. '{.name}' or .scaler.replicas
    #[arg(long, value_name = "JSONPATH")]
    pub sort_by: Option<String>,
    /// -o jsonpath: a field the template names that an object lacks prints nothing (false: an error)
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set, value_name = "BOOL")]
    pub allow_missing_template_keys: bool,
    #[command(flatten)]
    pub files: LocalFiles,
}

#[derive(Debug, Clone, Args)]
pub struct ListArgs {
    /// Only these types (deploy, sts, ds, rs, job, cj; several as deploy,sts); default: all
    /// workload kinds
    #[arg(value_name = "TYPE[,TYPE…]")]
    pub kind: Option<String>,
    /// Label selector
    #[arg(short = 'l', long)]
    pub selector: Option<String>,
    /// Tables: a column with the value of each of these labels (repeatable, or comma-separated)
    #[arg(short = 'L', long = "label-columns", value_name = "LABEL", value_delimiter = ',')]
    pub label_columns: Vec<String>,
    /// Tables: a last column with all labels
    #[arg(long)]
    pub show_labels: bool,
    /// Field selector for lists, e.g. metadata.name=web (the server says which fields it takes)
    #[arg(long, value_name = "SELECTOR")]
    pub field_selector: Option<String>,
    /// After the list (or the named objects), print each change as it happens, until interrupted
    #[arg(short = 'w', long)]
    pub watch: bool,
    /// Output format
    #[arg(short = 'o', long, value_parser = OutputParser)]
    pub output: Option<OutputFormat>,
    /// Objects per list request (lists come in pages)
    #[arg(long, default_value_t = 500, value_parser = clap::value_parser!(u32).range(1..))]
    pub chunk_size: u32,
    /// Also show objects a controller manages (a Deployment's ReplicaSets, a CronJob's Jobs), with
    /// their owner
    #[arg(long)]
    pub all: bool,
    /// Tables: no header row
    #[arg(long)]
    pub no_headers: bool,
    /// Tables: sort rows by a JSONPath of the role document, e.g. '{.name}' or .scaler.replicas
    #[arg(long, value_name = "JSONPATH")]
    pub sort_by: Option<String>,
    /// -o jsonpath: a field the template names that an object lacks prints nothing (false: an error)
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set, value_name = "BOOL")]
    pub allow_missing_template_keys: bool,
}

#[derive(Debug, Clone, Args)]
pub struct WriteFlags {
    /// Take over fields another field manager owns (server-side apply force)
    #[arg(long)]
    pub force_conflicts: bool,
    /// Field manager name (default: kubectl-oam-dev / kubectl-oam-ops)
    #[arg(long, value_name = "NAME")]
    pub field_manager: Option<String>,
    /// Replace values someone changed after your document was read (otherwise refused)
    #[arg(long)]
    pub overwrite: bool,
    /// "server": only show the server-side dry-run diff; "client": only show the diff computed
    /// here, without asking the server; "none": apply
    #[arg(long, value_name = "server|client|none", default_value = "none", value_parser = ["none", "server", "client"])]
    pub dry_run: String,
    /// After the write, wait until the workload has rolled out (as `kubectl rollout status`);
    /// exit 2 if it stalls or --timeout passes
    #[arg(long)]
    pub wait: bool,
    /// How long --wait waits, e.g. 90s, 10m (0: no limit)
    #[arg(long, value_name = "DURATION", default_value = "5m", requires = "wait", value_parser = checked_timeout)]
    pub timeout: String,
    /// No progress lines while waiting
    #[arg(short = 'q', long)]
    pub quiet: bool,
    /// Write even fields the object's reconciler (Flux, Argo CD self-heal) puts back at its next
    /// reconcile: a change meant to last only until then
    #[arg(long)]
    pub until_reconciled: bool,
}

/// kubectl's duration form: a bare number is seconds; else 500ms, 10s, 2m, 1h.
pub fn parse_duration(text: &str) -> Result<Duration, Error> {
    let bad = || {
        Error::Usage(format!(
            "invalid --request-timeout \"{text}\": use a number of seconds or a duration such as 10s, 1m30s"
        ))
    };
    let mut rest = text.trim();
    if !rest.is_empty() && rest.chars().all(|c| c.is_ascii_digit() || c == '.') {
        let seconds: f64 = rest.parse().map_err(|_| bad())?;
        return Duration::try_from_secs_f64(seconds).map_err(|_| bad());
    }
    // Go's form, as kubectl takes it: one or more NUMBER UNIT pairs, e.g. 1m30s, 1.5h, 250ms.
    let mut seconds = 0.0;
    while !rest.is_empty() {
        let number_end = rest.find(|c: char| !c.is_ascii_digit() && c != '.').ok_or_else(bad)?;
        let (number, after) = rest.split_at(number_end);
        let unit_end = after.find(|c: char| c.is_ascii_digit() || c == '.').unwrap_or(after.len());
        let (unit, next) = after.split_at(unit_end);
        let value: f64 = number.parse().map_err(|_| bad())?;
        seconds += value
            * match unit {
                "h" => 3600.0,
                "m" => 60.0,
                "s" => 1.0,
                "ms" => 1e-3,
                "us" | "µs" => 1e-6,
                "ns" => 1e-9,
                _ => return Err(bad()),
            };
        rest = next;
    }
    if text.trim().is_empty() {
        return Err(bad());
    }
    Duration::try_from_secs_f64(seconds).map_err(|_| bad())
}

/// Refuses a bad `--timeout` while parsing, before anything is written.
fn checked_timeout(text: &str) -> Result<String, String> {
    match parse_duration(text) {
        Ok(_) => Ok(text.to_string()),
        Err(_) => Err("use a number of seconds or a duration such as 90s, 5m (0: no limit)".into()),
    }
}

impl WriteFlags {
    /// A dry run of either kind: nothing is written.
    pub fn dry_run(&self) -> bool {
        self.dry_run == "server" || self.client_dry_run()
    }

    /// `--dry-run=client`: the plan is made here, without the server's dry-run.
    pub fn client_dry_run(&self) -> bool {
        self.dry_run == "client"
    }
}

#[derive(Debug, Args)]
pub struct EditArgs {
    #[command(flatten)]
    pub target: TargetArgs,
    /// More objects, edited in one editor run: `edit deploy/a sts/b`, `edit deploy a b`
    #[arg(value_name = "NAME")]
    pub more: Vec<String>,
    /// Edit the workloads this label selector matches (of TYPE, if given), in one editor run
    #[arg(short = 'l', long)]
    pub selector: Option<String>,
    /// Only this container (dev)
    #[arg(short = 'c', long)]
    pub container: Option<String>,
    /// Apply without asking for confirmation
    #[arg(short = 'y', long)]
    pub yes: bool,
    #[command(flatten)]
    pub write: WriteFlags,
    #[command(flatten)]
    pub files: LocalFiles,
}

#[derive(Debug, Args)]
pub struct ApplyArgs {
    /// Role document(s) to apply: a file, a directory (its .yaml/.yml/.json files), "-" for stdin;
    /// repeatable; several documents may be separated by ---
    #[arg(short = 'f', long = "filename", value_name = "FILE", required = true)]
    pub filename: Vec<PathBuf>,
    /// Read directories given with -f (and --manifests) recursively
    #[arg(short = 'R', long)]
    pub recursive: bool,
    #[command(flatten)]
    pub write: WriteFlags,
    /// With --local: the manifest files (a file or directory, repeatable) whose workloads the role
    /// documents change, in place
    #[arg(long = "manifests", value_name = "FILE", requires = "local")]
    pub manifests: Vec<PathBuf>,
    /// Change the manifest files given with --manifests, not the cluster: no kubeconfig is read
    /// and no request is sent
    #[arg(long, requires = "manifests")]
    pub local: bool,
}

#[derive(Debug, Args)]
pub struct DiffArgs {
    /// With --against-context: the object, TYPE/NAME or TYPE NAME
    #[arg(value_name = "TYPE[/NAME]", requires = "against_context", conflicts_with = "filename")]
    pub target: Option<String>,
    #[arg(value_name = "NAME", requires = "target")]
    pub name: Option<String>,
    /// Compare TYPE/NAME's role document in this context (`--context`, else the current one) with
    /// its document in this other context
    #[arg(long, value_name = "CONTEXT", requires = "target")]
    pub against_context: Option<String>,
    /// With --against-context: the object's namespace there (default: that context's namespace, or -n)
    #[arg(long, value_name = "NAMESPACE", requires = "against_context")]
    pub against_namespace: Option<String>,
    /// Role document(s): a file, a directory (its .yaml/.yml/.json files), "-" for stdin; repeatable
    #[arg(short = 'f', long = "filename", value_name = "FILE", required_unless_present = "against_context")]
    pub filename: Vec<PathBuf>,
    /// Read directories given with -f recursively
    #[arg(short = 'R', long)]
    pub recursive: bool,
    /// Field manager name (default: kubectl-oam-dev / kubectl-oam-ops)
    #[arg(long, value_name = "NAME")]
    pub field_manager: Option<String>,
    /// Show the diff as if conflicting fields were taken over
    #[arg(long)]
    pub force_conflicts: bool,
    /// Show the diff as if values changed since the document was read were replaced
    #[arg(long)]
    pub overwrite: bool,
    /// With --local: the manifest files (a file or directory, repeatable) to compare with the role
    /// documents applied
    #[arg(long = "manifests", value_name = "FILE", requires = "local")]
    pub manifests: Vec<PathBuf>,
    /// The diff of the manifest files given with --manifests, not of the cluster: no kubeconfig is
    /// read and no request is sent
    #[arg(long, requires = "manifests")]
    pub local: bool,
}

#[derive(Debug, Args)]
pub struct PromoteArgs {
    /// TYPE/NAME, or TYPE followed by NAME
    #[arg(value_name = "TYPE[/NAME]")]
    pub target: String,
    #[arg(value_name = "NAME")]
    pub name: Option<String>,
    /// The context to copy from (its namespace: -n, else the context's)
    #[arg(long, value_name = "CONTEXT", required = true)]
    pub from_context: String,
    /// The context to write to
    #[arg(long, value_name = "CONTEXT", required = true)]
    pub to_context: String,
    /// The namespace to write to (default: -n, else the target context's namespace)
    #[arg(long, value_name = "NAMESPACE")]
    pub to_namespace: Option<String>,
    /// Apply without asking for confirmation
    #[arg(short = 'y', long)]
    pub yes: bool,
    #[command(flatten)]
    pub write: WriteFlags,
}

#[derive(Debug, Subcommand)]
pub enum SetCommand {
    /// Set container images: TYPE/NAME… CONTAINER=IMAGE…
    Image(SetImageArgs),
    /// Set or remove env vars: TYPE/NAME… [-c CONTAINER] KEY=VALUE… KEY-…
    Env(SetEnvArgs),
}

#[derive(Debug, Args)]
pub struct SetImageArgs {
    /// TYPE/NAME, or TYPE followed by NAME
    #[arg(value_name = "TYPE[/NAME]")]
    pub target: String,
    /// CONTAINER=IMAGE pairs ("*=IMAGE" sets every container), after the objects (more TYPE/NAME, or NAME… after TYPE NAME)
    #[arg(required_unless_present = "local", value_name = "CONTAINER=IMAGE")]
    pub images: Vec<String>,
    #[command(flatten)]
    pub write: WriteFlags,
    #[command(flatten)]
    pub files: LocalFiles,
}

#[derive(Debug, Args)]
pub struct SetEnvArgs {
    /// TYPE/NAME, or TYPE followed by NAME
    #[arg(value_name = "TYPE[/NAME]")]
    pub target: String,
    /// KEY=VALUE to set, KEY- to remove, after the objects (more TYPE/NAME, or NAME… after TYPE NAME)
    #[arg(required_unless_present = "local", value_name = "KEY=VALUE|KEY-")]
    pub vars: Vec<String>,
    /// Only this container (default: every container)
    #[arg(short = 'c', long)]
    pub container: Option<String>,
    #[command(flatten)]
    pub write: WriteFlags,
    #[command(flatten)]
    pub files: LocalFiles,
}

#[derive(Debug, Args)]
pub struct ScaleArgs {
    /// TYPE/NAME…, or TYPE followed by NAME… (with --local: optional, every scalable object of the files)
    #[arg(value_name = "TYPE[/NAME]", required_unless_present = "local")]
    pub target: Option<String>,
    #[arg(value_name = "NAME")]
    pub names: Vec<String>,
    /// The new replica count
    #[arg(long, required = true, allow_negative_numbers = true)]
    pub replicas: i64,
    #[command(flatten)]
    pub write: WriteFlags,
    #[command(flatten)]
    pub files: LocalFiles,
}

#[derive(Debug, Args)]
pub struct AutoscaleArgs {
    /// TYPE/NAME, or TYPE followed by NAME
    #[arg(value_name = "TYPE[/NAME]")]
    pub target: String,
    #[arg(value_name = "NAME")]
    pub name: Option<String>,
    /// The fewest replicas (default: unchanged, or the server's 1 for a new autoscaler)
    #[arg(long, allow_negative_numbers = true)]
    pub min: Option<i64>,
    /// The most replicas
    #[arg(long, required = true, allow_negative_numbers = true)]
    pub max: i64,
    /// Target average CPU utilization, in percent of the requests (sets the CPU metric; others stay)
    #[arg(long, allow_negative_numbers = true)]
    pub cpu_percent: Option<i64>,
    #[command(flatten)]
    pub write: WriteFlags,
}

/// The flags of a command that creates an object around the workload (`expose`,
/// `disruption-budget`).
#[derive(Debug, Clone, Args)]
pub struct CreateFlags {
    /// Take over fields another field manager owns in an existing object (server-side apply force)
    #[arg(long)]
    pub force_conflicts: bool,
    /// Field manager name (default: kubectl-oam-ops)
    #[arg(long, value_name = "NAME")]
    pub field_manager: Option<String>,
    /// "server": only show the server-side dry-run diff; "client": only the diff worked out here;
    /// "none": write
    #[arg(long, value_name = "server|client|none", default_value = "none", value_parser = ["none", "server", "client"])]
    pub dry_run: String,
    /// Write without asking for confirmation
    #[arg(short = 'y', long)]
    pub yes: bool,
    /// Delete the object instead (it must select this workload's pods), after showing the diff
    #[arg(long)]
    pub delete: bool,
}

#[derive(Debug, Args)]
pub struct ExposeArgs {
    /// TYPE/NAME, or TYPE followed by NAME
    #[arg(value_name = "TYPE[/NAME]")]
    pub target: String,
    #[arg(value_name = "NAME")]
    pub name: Option<String>,
    /// The Service's port
    #[arg(long, required_unless_present = "delete", allow_negative_numbers = true)]
    pub port: Option<i64>,
    /// Where the traffic goes: a container port's number or name (default: --port)
    #[arg(long, value_name = "NAME|N")]
    pub target_port: Option<String>,
    /// ClusterIP (the default), NodePort or LoadBalancer
    #[arg(long = "type", value_name = "TYPE")]
    pub service_type: Option<String>,
    /// The port's protocol
    #[arg(long, default_value = "TCP", value_parser = ["TCP", "UDP", "SCTP"])]
    pub protocol: String,
    /// The Service's name (default: the workload's)
    #[arg(long = "name", value_name = "SVC")]
    pub object_name: Option<String>,
    #[command(flatten)]
    pub create: CreateFlags,
}

#[derive(Debug, Args)]
pub struct DisruptionBudgetArgs {
    /// TYPE/NAME, or TYPE followed by NAME
    #[arg(value_name = "TYPE[/NAME]")]
    pub target: String,
    #[arg(value_name = "NAME")]
    pub name: Option<String>,
    /// Pods that must stay available during voluntary disruptions: N or N%
    #[arg(long, value_name = "N|N%", conflicts_with = "max_unavailable", allow_hyphen_values = true)]
    pub min_available: Option<String>,
    /// Pods that may be unavailable during voluntary disruptions: N or N%
    #[arg(long, value_name = "N|N%", allow_hyphen_values = true)]
    pub max_unavailable: Option<String>,
    /// The PodDisruptionBudget's name (default: the workload's)
    #[arg(long = "name", value_name = "PDB")]
    pub object_name: Option<String>,
    #[command(flatten)]
    pub create: CreateFlags,
}

#[derive(Debug, Args)]
pub struct OwnersArgs {
    #[command(flatten)]
    pub target: TargetArgs,
    /// Output format (default a table)
    #[arg(short = 'o', long, value_enum)]
    pub output: Option<DocumentFormat>,
    /// Exit 1 when a role field is held by a manager outside its role (for CI)
    #[arg(long)]
    pub check: bool,
}

#[derive(Debug, Args)]
pub struct AdoptArgs {
    #[command(flatten)]
    pub target: TargetArgs,
    /// "server": show who would lose what, change nothing; "none": adopt
    #[arg(long, value_name = "server|none", default_value = "none", value_parser = ["none", "server"])]
    pub dry_run: String,
    /// Output format: json (default a table)
    #[arg(short = 'o', long, value_parser = ["json"])]
    pub output: Option<String>,
}

#[derive(Debug, Args)]
pub struct ReleaseArgs {
    /// TYPE/NAME, or TYPE followed by NAME
    #[arg(value_name = "TYPE[/NAME]")]
    pub target: String,
    /// The NAME (after TYPE), then the role's fields to release as its documents name them
    /// (`containers.app.image`, `replicas`, `containers.app.env`); none: every field of the role
    #[arg(value_name = "FIELD")]
    pub words: Vec<String>,
    /// Hand the fields to this field manager (e.g. helm) instead of leaving them unowned
    #[arg(long, value_name = "MANAGER")]
    pub to: Option<String>,
    /// "server": show who would get what, change nothing; "none": release
    #[arg(long, value_name = "server|none", default_value = "none", value_parser = ["none", "server"])]
    pub dry_run: String,
    /// Output format: json (default a table)
    #[arg(short = 'o', long, value_parser = ["json"])]
    pub output: Option<String>,
}

#[derive(Debug, Args)]
pub struct GitopsArgs {
    #[command(flatten)]
    pub target: TargetArgs,
    /// The reconciler to configure (default: the one that reconciles the object)
    #[arg(long = "for", value_name = "argocd|flux-helmrelease|flux-kustomization",
          value_parser = ["argocd", "flux-helmrelease", "flux-kustomization"])]
    pub reconciler: Option<String>,
    /// Output format of the configuration
    #[arg(short = 'o', long, value_enum, default_value = "yaml")]
    pub output: DocumentFormat,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The manifests before: a file, a directory (read recursively) or "-" (stdin)
    #[arg(value_name = "BASE", required_unless_present = "git")]
    pub base: Option<PathBuf>,
    /// The manifests after
    #[arg(value_name = "HEAD", required_unless_present = "git")]
    pub head: Option<PathBuf>,
    /// Compare two revisions of the Git repository in the current directory: REV..REV
    #[arg(long, value_name = "REV..REV", conflicts_with_all = ["base", "head"])]
    pub git: Option<String>,
    /// With --git: only these paths (after --)
    #[arg(last = true, value_name = "PATH")]
    pub paths: Vec<String>,
    /// Exit 1 when anything outside this role's fields changed, naming it (for a pull request check)
    #[arg(long, value_name = "ROLE")]
    pub role: Option<String>,
    /// Output format (default a report)
    #[arg(short = 'o', long, value_enum)]
    pub output: Option<DocumentFormat>,
}

#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// ROLE.TRAIT.FIELD, e.g. dev.containers.env, ops.scaler.replicas (dev.containers.NAME.FIELD for one container's owners)
    #[arg(value_name = "ROLE.TRAIT.FIELD")]
    pub field: String,
    /// An object whose owners of the field to show: TYPE/NAME or TYPE NAME
    #[command(flatten)]
    pub target: TargetArgs,
}

#[derive(Debug, Args)]
pub struct RolesArgs {
    /// Output format (default the profile's text with its origin)
    #[arg(short = 'o', long, value_enum)]
    pub output: Option<DocumentFormat>,
    /// Read the cluster's profile again instead of the cached copy (kept 5 minutes)
    #[arg(long)]
    pub refresh: bool,
}

#[derive(Debug, Args)]
pub struct PolicyArgs {
    /// Output format of the printed objects
    #[arg(short = 'o', long, value_enum, default_value = "yaml")]
    pub output: PolicyFormat,
    /// The group that holds a role, ROLE=GROUP (repeatable; default: the profile's `group:`)
    #[arg(long = "group", value_name = "ROLE=GROUP")]
    pub groups: Vec<String>,
    /// What a violation does: deny the request, warn the client, or only record it in the audit log
    #[arg(long, value_enum, default_value = "deny")]
    pub action: PolicyAction,
    /// Enforce only in namespaces with these labels, e.g. oam-roles=enforced (default: everywhere)
    #[arg(long, value_name = "SELECTOR")]
    pub namespace_selector: Option<String>,
    /// Let role members create and delete workloads (by default only users outside the role groups may)
    #[arg(long)]
    pub allow_create_delete: bool,
    /// Name of the policy and its binding (the profile reader Role adds -profile-reader)
    #[arg(long, value_name = "NAME", default_value = "kubectl-oam-roles")]
    pub name: String,
    /// Install it: server-side dry-run diff, confirmation, then server-side apply
    #[arg(long, conflicts_with = "check")]
    pub apply: bool,
    /// Exit 1 when the installed objects differ from what the profile generates
    #[arg(long)]
    pub check: bool,
    /// With --apply: apply without asking for confirmation
    #[arg(short = 'y', long, requires = "apply")]
    pub yes: bool,
    /// With --apply: take over fields another field manager owns
    #[arg(long, requires = "apply")]
    pub force_conflicts: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PolicyFormat {
    Yaml,
    Json,
}

/// The binding's validationActions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PolicyAction {
    Deny,
    Warn,
    Audit,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CompletionShell {
    Bash,
    Zsh,
    Fish,
    Powershell,
    /// The `kubectl_complete-oam` shim for kubectl's own plugin completion
    Kubectl,
}

#[derive(Debug, Args)]
pub struct CompletionArgs {
    pub shell: CompletionShell,
    /// With `kubectl`: write the shim into this directory (it must be on PATH)
    #[arg(long, value_name = "DIR")]
    pub install: Option<PathBuf>,
}

#[cfg(test)]
mod tests;
