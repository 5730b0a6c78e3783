//! Errors a user sees: each renders as one line naming the object, the namespace and what to do.

use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// One field held by another field manager, as the server reported it in a 409.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldConflict {
    pub manager: String,
    pub field: String,
    /// What that manager's hold is, when the manager's name does not say (an autoscaler's count).
    pub note: Option<String>,
}

/// One thing wrong with a role document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub message: String,
    /// Where in the document (keys and list indexes), when it is one value: lets a caller that
    /// knows the source add its line and column.
    pub at: Option<Vec<String>>,
}

impl Problem {
    pub fn new(message: String) -> Problem {
        Problem { message, at: None }
    }

    pub fn at(path: &[String], message: String) -> Problem {
        Problem { message, at: Some(path.to_vec()) }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{kind} \"{name}\" not found in namespace \"{namespace}\"; check the name, or pass -n NAMESPACE")]
    NotFound { kind: String, name: String, namespace: String },

    #[error("{message}; ask a cluster admin for access, or use another --context")]
    Forbidden { message: String },

    /// `hint`: more to say (e.g. how a take-over of helm's fields is handed back), or empty.
    #[error("{}{hint}", conflict_line(.object, .conflicts))]
    Conflict { object: String, conflicts: Vec<FieldConflict>, hint: String },

    /// `target`: the workload (deployment.apps/web) in `namespace`.
    #[error(
        "{target} in namespace \"{namespace}\" is scaled by HorizontalPodAutoscaler \"{hpa}\" (min {min}, max {max}); change its range instead with `{}` (or its autoscaler section in `{}`), or pass --force-conflicts",
        suggest(&format!("ops autoscale {target} --min N --max M"), namespace),
        suggest(&format!("ops edit {target}"), namespace)
    )]
    HeldByAutoscaler { hpa: String, min: String, max: String, target: String, namespace: String },

    /// The object is managed by a controller, which would undo a role's change.
    #[error("{object} is controlled by {owner}; change that instead{hint}")]
    Controlled { object: String, owner: String, hint: String },

    /// Nothing was sent: the connection could not be made (refused, unknown host, no route).
    #[error("cannot reach the cluster at {server}: {cause}; {advice}")]
    Unreachable { server: String, cause: String, advice: String },

    #[error(
        "the server at {server} rejected the credentials (401 Unauthorized): they are expired or invalid; log in again, or check --token and the kubeconfig's user"
    )]
    Unauthorized { server: String },

    /// The credentials could not be obtained (an exec plugin or token file failed).
    #[error("cannot get credentials for {server}: {cause}; log in again, or check the kubeconfig's user")]
    Credentials { server: String, cause: String },

    /// The TLS handshake failed; `problem` says which check and what to do.
    #[error("TLS handshake with {server} failed: {problem}")]
    Tls { server: String, problem: String },

    /// `within` is e.g. "2s (--request-timeout)".
    #[error(
        "the server at {server} did not finish answering {request} within {within}; check that the server is healthy, or {advice}"
    )]
    TimedOut { server: String, request: String, within: String, advice: String },

    /// The server answered, but not with what a Kubernetes API server sends.
    #[error(
        "the server at {server} answered {what}; is it a Kubernetes API server, or is a proxy in the way?"
    )]
    BadAnswer { server: String, what: String },

    #[error(
        "the server at {server} answered {request} with more than {limit_mib} MiB, the most kubectl-oam reads in one response; for a list, pass a smaller --chunk-size"
    )]
    TooLarge { server: String, request: String, limit_mib: u64 },

    /// The connection broke after it was made; for a read nothing has changed.
    #[error(
        "the connection to {server} was lost{during}: {cause}; check the network and the server, then retry"
    )]
    ConnectionLost { server: String, during: String, cause: String },

    /// A write was sent but its answer never came (or came broken): it may have landed.
    #[error("the write to {object} may have been applied: {cause}; check with `{check}` before retrying")]
    MaybeApplied { object: String, cause: String, check: String },

    #[error("{0}")]
    Kubeconfig(String),

    #[error(
        "unknown resource type \"{0}\"; kubectl oam works on deployments (deploy), statefulsets (sts), daemonsets (ds), replicasets (rs), jobs and cronjobs (cj)"
    )]
    UnknownKind(String),

    #[error("{0}")]
    Usage(String),

    /// One context of several failed (`--context a,b`); the others printed.
    #[error("context \"{context}\": {message}")]
    InContext { context: String, message: String },

    #[error("{0}")]
    Invalid(String),

    /// A document the user wrote could not be used.
    #[error("{0}")]
    Document(String),

    /// Everything wrong with a role document, each a line the editor shows.
    #[error("{}", .0.iter().map(|p| p.message.as_str()).collect::<Vec<_>>().join("; "))]
    Problems(Vec<Problem>),

    #[error("{0}")]
    Io(String),

    #[error("{message}")]
    Api { message: String },

    /// The resourceVersion precondition failed and the object's spec really changed.
    #[error(
        "{object} changed since it was read (another write came in between); nothing was applied: run the command again to start from the latest version"
    )]
    Changed { object: String },

    /// The three-way check: fields the document changes were changed by someone else since it was
    /// read. Applying it would revert their change.
    #[error(
        "{object}: {} changed since your document was read: {}; nothing was applied. Re-read it (`{reread}`) and redo your change, or pass --overwrite to replace {}",
        if .fields.len() == 1 { "1 field was" } else { "fields were" },
        .fields.join(", "),
        if .fields.len() == 1 { "that value" } else { "those values" }
    )]
    Stale {
        object: String,
        /// The command that reads the document again (`suggest`).
        reread: String,
        fields: Vec<String>,
    },

    /// Removals another field manager's ownership would keep in place.
    #[error(
        "{object}: cannot remove {}: {}; nothing was applied. Pass --force-conflicts to remove {} anyway (a JSON patch that deletes the value for every manager), or ask its owner to drop it",
        if .fields.len() == 1 { "a field another field manager also holds" } else { "fields other field managers also hold" },
        .fields.join(", "),
        if .fields.len() == 1 { "it" } else { "them" }
    )]
    RemovalHeld { object: String, fields: Vec<String> },
    /// The object's reconciler (Flux, Argo CD…) would put the write back at once.
    #[error("{0}")]
    Reconciled(String),

    /// `--wait`: the write was applied, but its rollout stalled or did not finish in time.
    #[error("{0}")]
    Rollout(String),

    /// Several objects of one edit were not applied, each for its own reason (object, error).
    #[error("{} edited objects were not applied: {}", .0.len(), numbered(.0))]
    NotApplied(Vec<(String, Error)>),

    /// Any error after the user edited something: their text was saved first.
    #[error(
        "{source}; your edit is saved in {path}: continue with `{}`",
        suggest(&format!("{role} apply -f {}", .path.display()), namespace),
        path = .path.display()
    )]
    EditSaved {
        #[source]
        source: Box<Error>,
        path: PathBuf,
        role: String,
        /// Where the edited objects are.
        namespace: String,
    },
}

/// "(1) deployment.apps/a: reason; (2) …", the object named once.
fn numbered(failures: &[(String, Error)]) -> String {
    let items: Vec<String> = failures
        .iter()
        .enumerate()
        .map(|(i, (object, err))| {
            let reason = err.to_string();
            match names(&reason, object) {
                true => format!("({}) {reason}", i + 1),
                false => format!("({}) {object}: {reason}", i + 1),
            }
        })
        .collect();
    items.join("; ")
}

/// Does `text` name `object` (deployment.apps/web, not deployment.apps/web2)?
pub fn names(text: &str, object: &str) -> bool {
    text.match_indices(object).any(|(at, _)| {
        !text[at + object.len()..].starts_with(|c: char| c.is_ascii_alphanumeric() || c == '-' || c == '.')
    })
}

fn conflict_line(object: &str, conflicts: &[FieldConflict]) -> String {
    format!(
        "{}; to take {} over, re-run with --force-conflicts",
        conflict_fields(object, conflicts),
        if conflicts.len() == 1 { "it" } else { "them" },
    )
}

fn conflict_fields(object: &str, conflicts: &[FieldConflict]) -> String {
    let fields: Vec<String> = conflicts
        .iter()
        .map(|c| match &c.note {
            Some(note) => format!("{} (held by \"{}\": {note})", c.field, c.manager),
            None => format!("{} (held by \"{}\")", c.field, c.manager),
        })
        .collect();
    format!(
        "{object}: {} owned by another field manager: {}",
        if conflicts.len() == 1 { "1 field is" } else { "fields are" },
        fields.join(", "),
    )
}

impl Error {
    /// Exit codes as `kubectl diff`: 0 ok, 1 differences, anything above is an error.
    pub fn exit_code(&self) -> u8 {
        2
    }

    /// Where a copy of the user's edit was stored, if it was.
    pub fn saved_edit(&self) -> Option<&Path> {
        match self {
            Error::EditSaved { path, .. } => Some(path),
            _ => None,
        }
    }

    /// What a refusal that taking over would overcome says, without its advice to re-run with
    /// --force-conflicts: for right before the question that offers the take-over.
    pub fn without_force_advice(&self) -> String {
        match self {
            Error::Conflict { object, conflicts, hint } => {
                format!("{}{hint}", conflict_fields(object, conflicts))
            }
            Error::HeldByAutoscaler { hpa, min, max, target, namespace } => format!(
                "{target} in namespace \"{namespace}\" is scaled by HorizontalPodAutoscaler \"{hpa}\" (min {min}, max {max})"
            ),
            other => other.to_string(),
        }
    }

    pub fn root(&self) -> &Error {
        match self {
            Error::EditSaved { source, .. } => source.root(),
            other => other,
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The flags that chose the cluster (`--kubeconfig`, `--context`, `--cluster`, `--server`), as
/// the user gave them; repeated in every suggested command. Set once, when the command line has been
/// read; credentials (`--token`, `--user`, `--as`) are never repeated.
static CLUSTER_FLAGS: OnceLock<Vec<(&'static str, String)>> = OnceLock::new();

/// Remembers the flags that chose the cluster, for `suggest` (the first call wins).
pub fn remember_cluster_flags(flags: Vec<(&'static str, String)>) {
    let _ = CLUSTER_FLAGS.set(flags);
}

/// A command a message suggests, that acts on the same object when pasted: `kubectl oam WORDS`,
/// then `-n NAMESPACE` and the flags that chose the cluster. The one place such commands are made.
pub fn suggest(words: &str, namespace: &str) -> String {
    suggest_in(words, Some(namespace))
}

/// `suggest` where the namespace may not be known (before the kubeconfig is read): `-n` only when
/// known.
pub fn suggest_in(words: &str, namespace: Option<&str>) -> String {
    let flags = CLUSTER_FLAGS.get().map(Vec::as_slice).unwrap_or_default();
    match CONTEXT.with(|c| c.borrow().clone()) {
        Some(context) => command_line(words, namespace, &in_context(flags, &context)),
        None => command_line(words, namespace, flags),
    }
}

thread_local! {
    /// The one context of several that the code running now reads (`--context a,b`): suggested
    /// commands name it, not all of them. Set only around a poll ([`in_one_context`]).
    static CONTEXT: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Runs `f` (one poll of one context's part of a command of several contexts) with suggested
/// commands naming `context` as their `--context`.
pub fn in_one_context<R>(context: &str, f: impl FnOnce() -> R) -> R {
    let before = CONTEXT.with(|c| c.replace(Some(context.to_string())));
    struct Restore(Option<String>);
    impl Drop for Restore {
        fn drop(&mut self) {
            let before = self.0.take();
            CONTEXT.with(|c| *c.borrow_mut() = before);
        }
    }
    let _restore = Restore(before);
    f()
}

/// The flags that chose the cluster, with `--context` naming one context (in its place, else after
/// `--kubeconfig`).
fn in_context(flags: &[(&'static str, String)], context: &str) -> Vec<(&'static str, String)> {
    let mut out: Vec<(&'static str, String)> =
        flags.iter().filter(|(f, _)| *f != "--context").cloned().collect();
    let at = out.iter().position(|(f, _)| *f == "--kubeconfig").map_or(0, |i| i + 1);
    out.insert(at, ("--context", context.to_string()));
    out
}

fn command_line(words: &str, namespace: Option<&str>, flags: &[(&str, String)]) -> String {
    let mut line = format!("kubectl oam {words}");
    let namespace = namespace.map(|ns| ("-n", ns.to_string()));
    for (flag, value) in namespace.iter().chain(flags) {
        line.push_str(&format!(" {flag} {}", shell_word(value)));
    }
    line
}

/// A value as one shell word: as it is when it needs no quoting, else in single quotes.
fn shell_word(value: &str) -> String {
    let plain =
        !value.is_empty() && value.chars().all(|c| c.is_ascii_alphanumeric() || "-_./:=@%+,".contains(c));
    match plain {
        true => value.to_string(),
        false => format!("'{}'", value.replace('\'', "'\\''")),
    }
}

impl From<std::io::Error> for Error {
    fn from(err: std::io::Error) -> Self {
        Error::Io(err.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggested_commands_repeat_the_namespace_and_the_flags_that_chose_the_cluster() {
        assert_eq!(
            command_line("dev edit deployment.apps/web --yes", Some("shop"), &[]),
            "kubectl oam dev edit deployment.apps/web --yes -n shop"
        );
        let flags =
            [("--kubeconfig", "/home/me/my clusters/prod.yaml".to_string()), ("--context", "prod".into())];
        assert_eq!(
            command_line("ops autoscale deployment.apps/shop --min N --max M", Some("shop"), &flags),
            "kubectl oam ops autoscale deployment.apps/shop --min N --max M -n shop --kubeconfig '/home/me/my clusters/prod.yaml' --context prod"
        );
        assert_eq!(
            command_line("ops scale TYPE/NAME", None, &flags[1..]),
            "kubectl oam ops scale TYPE/NAME --context prod"
        );
        assert_eq!(shell_word("it's"), "'it'\\''s'");
        // One context of several: that one, wherever the flags named several or none.
        let several = [("--kubeconfig", "/k".to_string()), ("--context", "east,west".into())];
        assert_eq!(
            command_line("dev get deploy/web", Some("shop"), &in_context(&several, "west")),
            "kubectl oam dev get deploy/web -n shop --kubeconfig /k --context west"
        );
        assert_eq!(
            command_line(
                "dev get deploy/web",
                None,
                &in_context(&[("--server", "https://x".into())], "east")
            ),
            "kubectl oam dev get deploy/web --context east --server https://x"
        );
        assert_eq!(
            in_one_context("west", || suggest("owners deployment.apps/web", "shop")),
            "kubectl oam owners deployment.apps/web -n shop --context west"
        );
        // Without remembered flags (unit tests never set them): the namespace only.
        assert_eq!(
            suggest("owners deployment.apps/web", "shop"),
            "kubectl oam owners deployment.apps/web -n shop"
        );
    }

    #[test]
    fn before_the_take_over_question_a_conflict_drops_its_re_run_advice() {
        let conflict = Error::Conflict {
            object: "deployment.apps/web in namespace \"shop\"".into(),
            conflicts: vec![FieldConflict {
                manager: "helm".into(),
                field: "containers.app.image".into(),
                note: None,
            }],
            hint: String::new(),
        };
        assert!(conflict.to_string().ends_with("; to take it over, re-run with --force-conflicts"));
        assert_eq!(
            conflict.without_force_advice(),
            "deployment.apps/web in namespace \"shop\": 1 field is owned by another field manager: containers.app.image (held by \"helm\")"
        );
    }
}
