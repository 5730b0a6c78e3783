//! Errors a user sees: each renders as one line naming the object, the namespace and what to do.

use std::path::{Path, PathBuf};

/// One field held by another field manager, as the server reported it in a 409.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldConflict {
    pub manager: String,
    pub field: String,
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{kind} \"{name}\" not found in namespace \"{namespace}\"; check the name, or pass -n NAMESPACE")]
    NotFound { kind: String, name: String, namespace: String },

    #[error("{message}; ask a cluster admin for access, or use another --context")]
    Forbidden { message: String },

    #[error("{}", conflict_line(.object, .conflicts))]
    Conflict { object: String, conflicts: Vec<FieldConflict> },

    #[error(
        "{object} is scaled by HorizontalPodAutoscaler \"{hpa}\" (min {min}, max {max}); change its minReplicas/maxReplicas instead, or pass --force-conflicts"
    )]
    HeldByAutoscaler { object: String, hpa: String, min: String, max: String },

    #[error("cannot reach the cluster at {server}: {cause}; is it running? check --kubeconfig/--context")]
    Unreachable { server: String, cause: String },

    #[error("{0}")]
    Kubeconfig(String),

    #[error(
        "unknown resource type \"{0}\"; kubectl oam works on deployments (deploy), statefulsets (sts), daemonsets (ds), replicasets (rs), jobs and cronjobs (cj)"
    )]
    UnknownKind(String),

    #[error("{0}")]
    Usage(String),

    #[error("{0}")]
    Invalid(String),

    /// A document the user wrote could not be used.
    #[error("{0}")]
    Document(String),

    /// Everything wrong with a role document, each a line the editor shows.
    #[error("{}", .0.join("; "))]
    Problems(Vec<String>),

    #[error("{0}")]
    Io(String),

    #[error("{message}")]
    Api { message: String },

    /// The resourceVersion precondition failed and the object's spec really changed.
    #[error(
        "{object} changed since it was read (another write came in between); nothing was applied: run the command again to start from the latest version"
    )]
    Changed { object: String },

    /// `--wait`: the write was applied, but its rollout stalled or did not finish in time.
    #[error("{0}")]
    Rollout(String),

    /// Any error after the user edited something: their text was saved first.
    #[error("{source}; your edit is saved in {path}: continue with `kubectl oam {role} apply -f {path}`", path = .path.display())]
    EditSaved {
        #[source]
        source: Box<Error>,
        path: PathBuf,
        role: String,
    },
}

fn conflict_line(object: &str, conflicts: &[FieldConflict]) -> String {
    let fields: Vec<String> =
        conflicts.iter().map(|c| format!("{} (held by \"{}\")", c.field, c.manager)).collect();
    format!(
        "{object}: {} owned by another field manager: {}; to take {} over, re-run with --force-conflicts",
        if conflicts.len() == 1 { "1 field is" } else { "fields are" },
        fields.join(", "),
        if conflicts.len() == 1 { "it" } else { "them" },
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

    pub fn root(&self) -> &Error {
        match self {
            Error::EditSaved { source, .. } => source.root(),
            other => other,
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl From<std::io::Error> for Error {
    fn from(err: std::io::Error) -> Self {
        Error::Io(err.to_string())
    }
}
