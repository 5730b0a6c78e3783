//! `kubectl oam dev|ops edit`: role documents in $KUBE_EDITOR, then dry-run, diff, confirm, apply.
//!
//! Several objects are edited in one editor run, as kubectl does: one YAML stream with a document per
//! object. The pure part (the editor text, reading it back into documents matched to their objects)
//! is separate from the loop that runs the editor and talks to the server. Anything the user typed
//! is saved to a file before an error is returned.
//!
//! After the editor: unchanged documents are skipped, deleted ones leave their object alone, the
//! others are planned (server-side dry-run) and their diffs shown, then ONE confirmation applies them
//! all (a take-over of another manager's fields is asked per object, after its diff, as with one
//! object). Documents that fail in a way the text can fix reopen the editor, alone, with their
//! reasons; the others stay applied. Whatever was not applied is saved to one file at the end.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::cli::EditArgs;
use crate::cluster::client::Cluster;
use crate::cluster::fetch;
use crate::cluster::write::{self, Plan};
use crate::commands::after_write;
use crate::core::hpa;
use crate::core::owners::field_owners;
use crate::core::ownership::BASE_KEY;
use crate::core::write::{Live, Writer, refuse_controlled, without_base};
use crate::error::{Error, Result};
use crate::format::output;
use crate::format::yaml::Parsed;
use crate::model::object;
use crate::model::roles::{KindInfo, Profile, RoleName};
use crate::model::target::{Target, parse_targets};

/// An object in the editor, as it was shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shown {
    /// The profile's kind (Deployment), name and namespace: which object a document is for.
    pub kind: String,
    pub name: String,
    pub namespace: String,
    /// kubectl's spelling: deployment.apps/web.
    pub label: String,
    /// The document as first shown, without its base.
    pub text: String,
}

/// What the editor header says about one object.
#[derive(Debug, Clone, Default)]
pub struct Notes {
    /// `field: manager, manager`
    pub owners: Vec<String>,
    /// `trait.field` names of the role for the object's kind.
    pub available: Vec<String>,
    /// `readOnly.field: why`
    pub read_only: Vec<String>,
}

/// One document of the edited stream, matched to its object.
#[derive(Debug)]
pub struct Matched {
    /// Index into the objects in the editor.
    pub object: usize,
    /// The user's text of the document, without the comment lines above it.
    pub text: String,
    pub parsed: Box<Parsed>,
    /// Does it differ from what was shown (comment-only and blank lines aside)?
    pub changed: bool,
}

/// What the user left in the editor.
#[derive(Debug)]
pub enum Stream {
    /// Only comments and blank lines: the edit is cancelled.
    Empty,
    /// The text as a whole cannot be used (YAML, a document no object being edited matches, an
    /// object twice): nothing is applied and the whole text reopens with this reason.
    Problem(String),
    Documents(Vec<Matched>),
}

/// The comment block above the documents. One object: its owners, fields and read-only notes; more:
/// the same for each, and what deleting a document means.
pub fn header(role: RoleName, manager: &str, objects: &[(&Target, &Notes)], errors: &[String]) -> String {
    let mut text = String::new();
    if !errors.is_empty() {
        text.push_str(
            "# The edit could not be applied; fix these and save again (or empty the file to give up):\n",
        );
        for e in errors {
            // One comment line each: a line break would turn the rest into document text.
            let line: Vec<&str> = e.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
            text.push_str(&format!("# * {}\n", line.join(" ")));
        }
        text.push_str("#\n");
    }
    let other = role.other();
    match objects {
        [(target, notes)] => {
            text.push_str(&format!(
                "# Please edit the {role} document below. Lines beginning with '#' are ignored,\n\
                 # and an empty file aborts the edit. If the change cannot be applied, this file\n\
                 # is reopened with the reasons.\n\
                 #\n\
                 # {} in namespace \"{}\", written by server-side apply as field manager \"{manager}\".\n\
                 # The {other} role's fields are not shown: `kubectl oam {other} edit {}`.\n",
                target.display(),
                target.namespace,
                target.display(),
            ));
            if !notes.available.is_empty() {
                text.push_str(&format!(
                    "# Fields of this role for {}: {}\n",
                    target.kind.kind,
                    notes.available.join(", ")
                ));
            }
            for note in &notes.read_only {
                text.push_str(&format!("# Read-only: {note}\n"));
            }
            push_owners(&mut text, &notes.owners, "");
        }
        _ => {
            let namespace = objects.first().map(|(t, _)| t.namespace.as_str()).unwrap_or_default();
            text.push_str(&format!(
                "# Please edit the {role} documents below, one per object, separated by ---. Lines\n\
                 # beginning with '#' are ignored, and an empty file aborts the edit. Deleting an\n\
                 # object's document leaves that object as it is; kind, name and namespace say which\n\
                 # object a document is for. If a change cannot be applied, this file is reopened\n\
                 # with only the objects that failed, and the reasons.\n\
                 #\n\
                 # In namespace \"{namespace}\", written by server-side apply as field manager \"{manager}\".\n\
                 # The {other} role's fields are not shown: `kubectl oam {other} edit TYPE/NAME`.\n",
            ));
            let mut kinds_said: Vec<&str> = Vec::new();
            for (target, notes) in objects {
                if !notes.available.is_empty() && !kinds_said.contains(&target.kind.kind.as_str()) {
                    kinds_said.push(&target.kind.kind);
                    text.push_str(&format!(
                        "# Fields of this role for {}: {}\n",
                        target.kind.kind,
                        notes.available.join(", ")
                    ));
                }
            }
            for (target, notes) in objects {
                if notes.read_only.is_empty() && notes.owners.is_empty() {
                    continue;
                }
                text.push_str(&format!("#\n# {}:\n", target.display()));
                for note in &notes.read_only {
                    text.push_str(&format!("#   Read-only: {note}\n"));
                }
                push_owners(&mut text, &notes.owners, "  ");
            }
        }
    }
    text.push_str("#\n");
    text
}

fn push_owners(text: &mut String, owners: &[String], indent: &str) {
    if !owners.is_empty() {
        text.push_str(&format!("# {indent}Current owners:\n"));
        for o in owners {
            text.push_str(&format!("# {indent}  {o}\n"));
        }
    }
}

/// Text without comment-only lines or trailing blanks, to tell whether anything changed.
fn significant(text: &str) -> String {
    text.lines()
        .filter(|l| !l.trim_start().starts_with('#') && !l.trim().is_empty())
        .map(str::trim_end)
        .collect::<Vec<_>>()
        .join("\n")
}

/// The text without the comment lines at its top (the header we wrote).
pub fn user_part(text: &str) -> String {
    let mut lines = text.lines().peekable();
    while lines.peek().is_some_and(|l| l.starts_with('#')) {
        lines.next();
    }
    let mut out = lines.collect::<Vec<_>>().join("\n");
    out.push('\n');
    out
}

/// Documents as one stream, `---` between them.
pub fn join_documents<'a>(texts: impl IntoIterator<Item = &'a str>) -> String {
    let texts: Vec<String> = texts
        .into_iter()
        .map(|t| if t.ends_with('\n') || t.is_empty() { t.to_string() } else { format!("{t}\n") })
        .collect();
    texts.join("---\n")
}

/// The documents of a stream: each one's text and the (1-based) line it starts on. A separator is a
/// line `---`, a comment may follow it; in a role document (a mapping at the top) no other line can
/// begin with `---`.
pub fn split_stream(text: &str) -> Vec<(usize, String)> {
    let separator = |line: &str| {
        line.strip_prefix("---").is_some_and(|rest| {
            let rest = rest.trim();
            rest.is_empty() || rest.starts_with('#')
        })
    };
    let mut out = Vec::new();
    let (mut start, mut current) = (1, String::new());
    for (i, line) in text.lines().enumerate() {
        if separator(line) {
            out.push((start, std::mem::take(&mut current)));
            start = i + 2;
        } else {
            current.push_str(line);
            current.push('\n');
        }
    }
    out.push((start, current));
    out
}

/// Which object a document is for: its kind (any name the profile knows it by), name and namespace
/// (which may be left out).
fn which_object(profile: &Profile, objects: &[Shown], doc: &Value) -> Option<usize> {
    let kind = doc.get("kind").and_then(Value::as_str).and_then(|k| profile.kind(k).ok())?;
    let name = doc.get("name").and_then(Value::as_str)?;
    let namespace = doc.get("namespace").and_then(Value::as_str);
    objects
        .iter()
        .position(|o| o.kind == kind.kind && o.name == name && namespace.is_none_or(|ns| ns == o.namespace))
}

/// Reads the edited text back into documents, each matched to the object it is for. Positions in
/// messages are lines of the whole file, as the user sees it.
pub fn read_stream(profile: &Profile, objects: &[Shown], edited: &str) -> Stream {
    if significant(edited).is_empty() {
        return Stream::Empty;
    }
    let mut matched: Vec<Matched> = Vec::new();
    for (start, piece) in split_stream(edited) {
        if significant(&piece).is_empty() {
            continue;
        }
        // Blank lines in front keep the parser's line numbers those of the file.
        let padded = format!("{}{piece}", "\n".repeat(start - 1));
        let parsed = match crate::format::yaml::parse_document(&padded, "the edited document") {
            Ok(parsed) => parsed,
            Err(e) => return Stream::Problem(e.to_string()),
        };
        if !parsed.value.is_object() {
            return Stream::Problem(format!(
                "the document at line {start} must be a mapping with kind, name and its fields"
            ));
        }
        let Some(object) = which_object(profile, objects, &parsed.value) else {
            let said = |key: &str| parsed.value.get(key).and_then(Value::as_str).unwrap_or("?").to_string();
            let editing: Vec<&str> = objects.iter().map(|o| o.label.as_str()).collect();
            return Stream::Problem(format!(
                "the document at line {start} is for {}/{}{}, which is not being edited: kind, name and namespace say which object a document is for, so restore them (editing: {}); nothing was applied",
                said("kind"),
                said("name"),
                parsed
                    .value
                    .get("namespace")
                    .and_then(Value::as_str)
                    .map(|ns| format!(" in namespace \"{ns}\""))
                    .unwrap_or_default(),
                editing.join(", ")
            ));
        };
        if matched.iter().any(|m| m.object == object) {
            return Stream::Problem(format!(
                "{} has more than one document (the second at line {start}); keep one; nothing was applied",
                objects[object].label
            ));
        }
        let changed = significant(&piece) != significant(&objects[object].text);
        matched.push(Matched { object, text: user_part(&piece), parsed: Box::new(parsed), changed });
    }
    if matched.is_empty() {
        // Comments and separators only: as good as empty.
        return Stream::Empty;
    }
    Stream::Documents(matched)
}

/// A matched document made ready to plan: its values read as kubectl reads them, its read-only
/// sections untouched, its base put back. `original`: the document as read, base included.
pub fn check_document(
    profile: &Profile,
    role: RoleName,
    kind: &KindInfo,
    original: &Value,
    parsed: &Parsed,
) -> Result<Value> {
    let misread = crate::core::project::misread_values(parsed);
    if !misread.is_empty() {
        return Err(Error::Problems(misread));
    }
    let mut doc = parsed.value.clone();
    if let (Some(map), Some(base)) = (doc.as_object_mut(), original.get(BASE_KEY).filter(|b| !b.is_null())) {
        map.entry(BASE_KEY).or_insert_with(|| base.clone());
    }
    let reason = |field: &str| profile.role(role).read_only_field(&kind.kind, field)?.reason.clone();
    match read_only_changed(original, &doc, reason) {
        Some(problem) => Err(Error::Document(problem)),
        None => Ok(doc),
    }
}

/// The read-only section is context: deleting it is fine, changing it is a mistake worth saying,
/// with the reason the profile gives (`reason(field)`).
pub fn read_only_changed(
    original: &Value,
    edited: &Value,
    reason: impl Fn(&str) -> Option<String>,
) -> Option<String> {
    // Live status: context too, never written.
    let status = crate::model::roles::STATUS_KEY;
    if edited.get(status).is_some_and(|now| Some(now) != original.get(status)) {
        return Some(format!(
            "{status}: shown for context and never written; restore it or delete the {status} section"
        ));
    }
    let key = crate::model::roles::READ_ONLY_KEY;
    let now = edited.get(key)?;
    let then = original.get(key);
    if Some(now) == then {
        return None;
    }
    let empty = serde_json::Map::new();
    let (now_map, then_map) =
        (now.as_object().unwrap_or(&empty), then.and_then(Value::as_object).unwrap_or(&empty));
    let changed = now_map.keys().chain(then_map.keys()).find(|k| now_map.get(*k) != then_map.get(*k));
    Some(match changed {
        Some(field) => format!(
            "{key}.{field}: shown for context and never written{}; restore it or delete the {key} section",
            reason(field).map(|r| format!(" ({r})")).unwrap_or_default()
        ),
        None => format!("{key}: shown for context and never written; restore it or delete the {key} section"),
    })
}

/// Problems placed at their line and column in the edited text.
fn located(err: Error, parsed: &Parsed) -> Error {
    match err {
        Error::Problems(list) => Error::Problems(crate::core::project::locate(list, parsed)),
        other => other,
    }
}

/// The lines the reopened editor shows for an error.
fn reasons(err: &Error) -> Vec<String> {
    match err {
        Error::Problems(list) => list.iter().map(|p| p.message.clone()).collect(),
        other => vec![other.to_string()],
    }
}

/// Errors the user can fix in the text (a value, a field changed meanwhile by someone else, a field
/// another manager holds): the document reopens. Others (gone, forbidden, unreachable) cannot be.
fn reopens(err: &Error) -> bool {
    matches!(
        err,
        Error::Problems(_)
            | Error::Document(_)
            | Error::Invalid(_)
            | Error::Stale { .. }
            | Error::RemovalHeld { .. }
            | Error::Conflict { .. }
            | Error::HeldByAutoscaler { .. }
    )
}

/// The objects a piece of text names in top-level `kind:` and `name:` lines, each with the line
/// that completes the pair; read as text, for pieces that do not parse.
fn named_in_text(profile: &Profile, objects: &[Shown], piece: &str) -> Vec<(usize, usize)> {
    let mut found: Vec<(usize, usize)> = Vec::new();
    let (mut kind, mut name): (Option<String>, Option<String>) = (None, None);
    for (i, line) in piece.lines().enumerate() {
        let value = |key: &str| {
            let rest = line.strip_prefix(key)?;
            let rest = rest.split(" #").next().unwrap_or_default();
            Some(rest.trim().trim_matches(['"', '\'']).to_string())
        };
        match (value("kind:"), value("name:")) {
            (Some(k), _) => kind = Some(k),
            (_, Some(n)) => name = Some(n),
            _ => continue,
        }
        if let (Some(k), Some(n)) = (&kind, &name) {
            let doc = serde_json::json!({"kind": k, "name": n});
            if let Some(o) = which_object(profile, objects, &doc) {
                if !found.iter().any(|(_, seen)| *seen == o) {
                    found.push((i, o));
                }
                (kind, name) = (None, None);
            }
        }
    }
    found
}

/// A piece that names several objects: each base on a line of its own after the line that named
/// its object (JSON is YAML), so that splitting the piece again leaves every document its base.
fn with_base_lines(piece: &str, named: &[(usize, usize)], bases: &[&Value]) -> String {
    let mut out = String::new();
    for (i, line) in piece.lines().enumerate() {
        out.push_str(line);
        out.push('\n');
        if let Some(base) = named.iter().find(|(at, _)| *at == i).and_then(|(_, o)| bases.get(*o)) {
            if !base.is_null() {
                out.push_str(&format!("{BASE_KEY}: {base}\n"));
            }
        }
    }
    out
}

/// The user's text with the document's base appended, so that applying the saved file later
/// changes only what was edited.
fn with_base(text: &str, base: &Value) -> String {
    if base.is_null() || text.lines().any(|l| l.starts_with(&format!("{BASE_KEY}:"))) {
        return text.to_string();
    }
    let mut wrapped = serde_json::Map::new();
    wrapped.insert(BASE_KEY.into(), base.clone());
    let rendered = output::yaml(&Value::Object(wrapped)).unwrap_or_default();
    let mut out = text.trim_end_matches('\n').to_string();
    out.push('\n');
    out.push_str(&rendered);
    out
}

/// A whole edited text (one that may not even parse) with each document's base, so that no saved
/// document can apply without one: a document is matched to its object by kind and name (read as
/// text when it does not parse; a piece that names several objects, say two documents whose `---`
/// was deleted, gets a base beside each name), else by its place when there is a document per
/// object. A document that parses and names an object outside the edit gets none.
pub fn with_bases(profile: &Profile, text: &str, objects: &[Shown], bases: &[&Value]) -> String {
    let pieces: Vec<String> =
        split_stream(text).into_iter().map(|(_, p)| p).filter(|p| !significant(p).is_empty()).collect();
    let one_each = pieces.len() == objects.len();
    let texts: Vec<String> = pieces
        .iter()
        .enumerate()
        .map(|(i, piece)| {
            let object = match crate::format::yaml::parse_document(piece, "edit") {
                Ok(parsed) => which_object(profile, objects, &parsed.value),
                Err(_) => {
                    let named = named_in_text(profile, objects, piece);
                    if named.len() > 1 {
                        return with_base_lines(piece, &named, bases);
                    }
                    named.first().map(|(_, o)| *o).or(one_each.then_some(i))
                }
            };
            match object.and_then(|o| bases.get(o)) {
                Some(base) => with_base(piece, base),
                None => piece.clone(),
            }
        })
        .collect();
    join_documents(texts.iter().map(String::as_str))
}

/// KUBE_EDITOR, then EDITOR, then vi, as kubectl does.
fn editor_command() -> String {
    ["KUBE_EDITOR", "EDITOR"]
        .iter()
        .find_map(|v| std::env::var(v).ok().filter(|e| !e.trim().is_empty()))
        .unwrap_or_else(|| "vi".into())
}

fn run_editor(path: &Path) -> Result<()> {
    let editor = editor_command();
    // Through the shell so that editors with arguments ("code --wait") work.
    let status =
        Command::new("sh").arg("-c").arg(format!("{editor} \"$1\"")).arg("sh").arg(path).status().map_err(
            |e| Error::Io(format!("cannot start the editor \"{editor}\": {e}; set KUBE_EDITOR or EDITOR")),
        )?;
    if !status.success() {
        return Err(Error::Io(format!(
            "the editor \"{editor}\" exited with {status}; set KUBE_EDITOR or EDITOR to a working editor"
        )));
    }
    Ok(())
}

fn temp_path(stem: &str) -> PathBuf {
    let nanos =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
    std::env::temp_dir().join(format!("kubectl-oam-{stem}-{}-{nanos}.yaml", std::process::id()))
}

/// Keeps the user's text safe, then returns the error that says where it is.
fn saved(role: RoleName, text: &str, err: Error) -> Error {
    let path = temp_path("edit");
    match std::fs::write(&path, text) {
        Ok(()) => Error::EditSaved { source: Box::new(err), path, role: role.to_string() },
        Err(io) => Error::Io(format!("{err}; and your edit could not be saved to {}: {io}", path.display())),
    }
}

fn interactive() -> bool {
    std::io::stdin().is_terminal() && std::io::stderr().is_terminal()
}

/// A y/n question answered with Enter, so that the Enter never spills over into the next prompt.
fn ask(prompt: &str) -> Result<bool> {
    dialoguer::Confirm::new()
        .with_prompt(prompt)
        .default(false)
        .wait_for_newline(true)
        .interact()
        .map_err(|e| Error::Io(format!("cannot ask for confirmation: {e}")))
}

/// "a", "a and b", "a, b and c".
fn listed(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

/// The objects the command names: `TYPE/NAME…`, `TYPE NAME…`, or those `-l` selects.
async fn targets<'p>(
    cluster: &Cluster,
    profile: &'p Profile,
    role: RoleName,
    args: &EditArgs,
) -> Result<Vec<Target<'p>>> {
    if cluster.all_namespaces {
        return Err(Error::Usage(format!(
            "edit works in one namespace; -A (--all-namespaces) is not supported: pass -n NAMESPACE, e.g. kubectl oam {role} edit -n shop deploy/web"
        )));
    }
    let words: Vec<String> =
        args.target.target.iter().chain(&args.target.name).chain(&args.more).cloned().collect();
    let target = |(kind, name)| Target { kind, name, namespace: cluster.namespace.clone() };
    let mut out: Vec<Target<'p>> = Vec::new();
    if let Some(selector) = &args.selector {
        let kind = match words.as_slice() {
            [] => None,
            [kind] if !kind.contains('/') => Some(profile.kind(kind)?),
            _ => {
                return Err(Error::Usage(format!(
                    "give names or -l SELECTOR, not both, e.g. kubectl oam {role} edit deploy -l {selector}"
                )));
            }
        };
        let (found, controlled) = fetch::selected(cluster, profile, kind, selector).await?;
        if found.is_empty() {
            let left_out = match controlled {
                0 => String::new(),
                n => format!(" ({n} controlled by other workloads are left out: edit their controller)"),
            };
            return Err(Error::Usage(format!(
                "no {} in namespace \"{}\" match -l {selector}{left_out}",
                kind.map_or("workloads".to_string(), |k| k.resource.clone()),
                cluster.namespace
            )));
        }
        out.extend(found.into_iter().map(target));
    } else {
        out.extend(parse_targets(profile, &words)?.into_iter().map(target));
    }
    if out.is_empty() {
        return Err(Error::Usage(format!(
            "edit needs TYPE/NAME (several: TYPE/NAME TYPE/NAME…, TYPE NAME NAME…, or [TYPE] -l SELECTOR), e.g. kubectl oam {role} edit deploy/web"
        )));
    }
    let mut unique: Vec<Target<'p>> = Vec::new();
    for t in out {
        if !unique.iter().any(|u| u.kind.kind == t.kind.kind && u.name == t.name) {
            unique.push(t);
        }
    }
    Ok(unique)
}

/// One object in the editor.
struct Editing<'p> {
    live: Live<'p>,
    /// The role document as read: base and read-only sections included.
    doc: Value,
    shown: Shown,
    notes: Notes,
}

impl Editing<'_> {
    fn base(&self) -> &Value {
        self.doc.get(BASE_KEY).unwrap_or(&Value::Null)
    }
}

/// Reads an object for the editor; refuses what cannot be edited before the editor opens.
async fn open<'p>(
    cluster: &Cluster,
    profile: &Profile,
    role: RoleName,
    container: Option<&str>,
    target: Target<'p>,
) -> Result<Editing<'p>> {
    let live = fetch::read_live(cluster, profile, role, target).await?;
    refuse_controlled(profile, role, &live)?;
    let kind = live.target.kind;
    if let Some(only) = container {
        let names = object::container_names(&live.object, kind);
        if !names.iter().any(|n| n == only) {
            return Err(Error::Usage(format!(
                "{} in namespace \"{}\" has no container \"{only}\"; it has {}",
                live.target.display(),
                live.target.namespace,
                names.join(", ")
            )));
        }
    }
    // The base (what the document was read from) stays out of the editor; it goes back into the
    // edited document, and into any file the edit is saved to, so that neither can revert a change
    // made while the editor was open.
    let doc = live.document(profile, role, container);
    let text = output::yaml(&without_base(doc.clone()))?;
    let owners = field_owners(profile, kind, &live.object, Some(role))
        .iter()
        .map(|o| {
            let names: Vec<&str> = o.managers.iter().map(|h| h.manager.as_str()).collect();
            format!("{}: {}", o.field, names.join(", "))
        })
        .collect();
    let mut available = available_fields(profile, role, kind);
    if live.autoscaler.is_some() && hpa::has_section(profile, role, kind) {
        available.extend(hpa::FIELDS.iter().map(|f| format!("{}.{f}", hpa::AUTOSCALER_KEY)));
    }
    let read_only = profile
        .role(role)
        .read_only
        .iter()
        .filter(|f| {
            f.applies_to(&kind.kind) && doc[crate::model::roles::READ_ONLY_KEY].get(&f.name).is_some()
        })
        .filter_map(|f| {
            Some(format!("{}.{}: {}", crate::model::roles::READ_ONLY_KEY, f.name, f.reason.as_ref()?))
        })
        .collect();
    let shown = Shown {
        kind: kind.kind.clone(),
        name: live.target.name.clone(),
        namespace: live.target.namespace.clone(),
        label: live.target.display(),
        text,
    };
    Ok(Editing { live, doc, shown, notes: Notes { owners, available, read_only } })
}

pub async fn edit(cluster: &Cluster, profile: &Profile, role: RoleName, args: &EditArgs) -> Result<String> {
    let targets = targets(cluster, profile, role, args).await?;
    // Refuse before the user types anything that could not be confirmed.
    if !args.yes && !args.write.dry_run() && !interactive() {
        let example = match &args.selector {
            Some(selector) => {
                let kind = args.target.target.as_deref().map(|k| format!("{k} ")).unwrap_or_default();
                format!("{kind}-l {selector}")
            }
            None => targets.iter().map(Target::display).collect::<Vec<_>>().join(" "),
        };
        return Err(Error::Usage(format!(
            "no terminal to confirm the change on; re-run with --yes to apply without asking (or --dry-run=server), e.g. kubectl oam {role} edit {example} --yes"
        )));
    }
    let writer = Writer::new(profile, role, args.write.field_manager.as_deref(), args.write.force_conflicts)?
        .overwriting(args.write.overwrite);
    let mut objects = Vec::new();
    for target in targets {
        objects.push(open(cluster, profile, role, args.container.as_deref(), target).await?);
    }
    Session { cluster, profile, role, args, writer, objects: &objects }.run().await
}

/// What one edit run left unapplied.
struct Failure {
    /// kubectl's spelling of the object(s), for the summary.
    object: String,
    /// The user's text to save, bases included (None: nothing to save, e.g. applied but not rolled out).
    text: Option<String>,
    error: Error,
}

/// A document that reopens the editor: its text and what is wrong with it.
struct Reopen {
    object: usize,
    text: String,
    error: Error,
}

/// A document the server accepted in a dry-run, waiting to be applied.
struct Ready<'p> {
    object: usize,
    text: String,
    doc: Value,
    fresh: Live<'p>,
    plan: Plan,
    writer: Writer,
    /// The take-over question was its confirmation.
    taken_over: bool,
}

struct Session<'a, 'p> {
    cluster: &'a Cluster,
    profile: &'a Profile,
    role: RoleName,
    args: &'a EditArgs,
    writer: Writer,
    objects: &'a [Editing<'p>],
}

impl<'p> Session<'_, 'p> {
    fn several(&self) -> bool {
        self.objects.len() > 1
    }

    /// An error as the reopened header lists it: with its object's name when there are several.
    fn reason_lines(&self, object: usize, err: &Error) -> Vec<String> {
        let label = &self.objects[object].shown.label;
        reasons(err)
            .into_iter()
            .map(|r| match self.several() && !crate::error::names(&r, label) {
                true => format!("{label}: {r}"),
                false => r,
            })
            .collect()
    }

    fn failure(&self, object: usize, text: &str, error: Error) -> Failure {
        let editing = &self.objects[object];
        Failure { object: editing.shown.label.clone(), text: Some(with_base(text, editing.base())), error }
    }

    /// The text of several pending objects that cannot be split by document (it does not parse).
    fn whole_failure(&self, pending: &[usize], text: &str, error: Error) -> Failure {
        let shown: Vec<Shown> = pending.iter().map(|&i| self.objects[i].shown.clone()).collect();
        let bases: Vec<&Value> = pending.iter().map(|&i| self.objects[i].base()).collect();
        Failure {
            object: listed(&shown.iter().map(|s| s.label.clone()).collect::<Vec<_>>()),
            text: Some(with_bases(self.profile, text, &shown, &bases)),
            error,
        }
    }

    async fn run(&self) -> Result<String> {
        let mut pending: Vec<usize> = (0..self.objects.len()).collect();
        let mut body = join_documents(self.objects.iter().map(|o| o.shown.text.as_str()));
        let mut errors: Vec<String> = Vec::new();
        let mut failures: Vec<Failure> = Vec::new();
        let mut applied = 0;
        let mut said = String::new();
        let path = temp_path("editing");
        loop {
            let notes: Vec<(&Target, &Notes)> =
                pending.iter().map(|&i| (&self.objects[i].live.target, &self.objects[i].notes)).collect();
            let head = header(self.role, &self.writer.manager, &notes, &errors);
            if let Err(e) = std::fs::write(&path, format!("{head}{body}")) {
                failures.push(self.whole_failure(&pending, &body, e.into()));
                break;
            }
            if let Err(e) = run_editor(&path) {
                // Keep what the editor left in the file; on the first opening an untouched file is
                // nothing to save.
                let left =
                    std::fs::read(&path).map(|b| user_part(&String::from_utf8_lossy(&b))).unwrap_or_default();
                let text = if significant(&left).is_empty() { body.clone() } else { left };
                let mut failure = self.whole_failure(&pending, &text, e);
                if errors.is_empty() && significant(&text) == significant(&body) {
                    failure.text = None;
                    failure.error = Error::Io(format!("{}; nothing was edited", failure.error));
                }
                failures.push(failure);
                break;
            }
            // Bytes that are not UTF-8 are kept (as U+FFFD) and reported, never taken for an empty file.
            let bytes = std::fs::read(&path).unwrap_or_default();
            let edited = String::from_utf8_lossy(&bytes).into_owned();
            let previous = std::mem::replace(&mut body, user_part(&edited));
            // Saving the refused text again means giving up (as kubectl edit): every path that would
            // reopen the editor ends here instead, with the text saved.
            let gave_up = !errors.is_empty() && significant(&previous) == significant(&body);
            let shown: Vec<Shown> = pending.iter().map(|&i| self.objects[i].shown.clone()).collect();
            let problem = if std::str::from_utf8(&bytes).is_err() {
                Err("the file is not valid UTF-8; unreadable bytes are shown as \u{FFFD}: fix them and save again"
                    .to_string())
            } else {
                Ok(read_stream(self.profile, &shown, &edited))
            };
            let documents = match problem {
                Ok(Stream::Empty) => {
                    said = "Edit cancelled, saved file was empty.\n".into();
                    break;
                }
                Ok(Stream::Documents(documents)) => documents,
                Err(problem) | Ok(Stream::Problem(problem)) => {
                    if gave_up {
                        failures.push(self.whole_failure(&pending, &body, Error::Document(problem)));
                        break;
                    }
                    errors = vec![problem];
                    continue;
                }
            };
            if !documents.iter().any(|d| d.changed) {
                if applied == 0 && failures.is_empty() {
                    said = "Edit cancelled, no changes made.\n".into();
                }
                break;
            }
            let documents: Vec<Matched> = documents
                .into_iter()
                .filter(|d| d.changed)
                .map(|d| Matched { object: pending[d.object], ..d })
                .collect();
            let (reopen, round_failures, round_applied) = self.round(documents).await;
            failures.extend(round_failures);
            applied += round_applied;
            if reopen.is_empty() {
                break;
            }
            if gave_up {
                failures.extend(reopen.into_iter().map(|r| self.failure(r.object, &r.text, r.error)));
                break;
            }
            errors = reopen.iter().flat_map(|r| self.reason_lines(r.object, &r.error)).collect();
            pending = reopen.iter().map(|r| r.object).collect();
            body = join_documents(reopen.iter().map(|r| r.text.as_str()));
        }
        let _ = std::fs::remove_file(&path);
        self.finish(failures, said)
    }

    /// The outcome: what to print, or the error naming what was not applied (its text saved).
    fn finish(&self, failures: Vec<Failure>, said: String) -> Result<String> {
        if failures.is_empty() {
            return Ok(said);
        }
        let texts: Vec<&str> = failures.iter().filter_map(|f| f.text.as_deref()).collect();
        let text = (!texts.is_empty()).then(|| join_documents(texts.iter().copied()));
        let mut failures: Vec<(String, Error)> = failures.into_iter().map(|f| (f.object, f.error)).collect();
        let error = match failures.len() {
            1 => failures.remove(0).1,
            _ => Error::NotApplied(failures),
        };
        Err(match text {
            None => error,
            Some(text) => saved(self.role, &text, error),
        })
    }

    /// Plans, confirms and applies the changed documents of one editor run. Returns the documents
    /// to reopen, those that failed for good, and how many objects were applied.
    async fn round(&self, documents: Vec<Matched>) -> (Vec<Reopen>, Vec<Failure>, usize) {
        let (cluster, profile, role, args) = (self.cluster, self.profile, self.role, self.args);
        let dry_run = args.write.dry_run();
        let colour = output::use_colour();
        let mut reopen: Vec<Reopen> = Vec::new();
        let mut failures: Vec<Failure> = Vec::new();
        let mut ready: Vec<Ready<'p>> = Vec::new();
        for matched in documents {
            let editing = &self.objects[matched.object];
            let object = matched.object;
            let kind = editing.live.target.kind;
            let doc = match check_document(profile, role, kind, &editing.doc, &matched.parsed) {
                Ok(doc) => doc,
                Err(e) => {
                    let error = located(e, &matched.parsed);
                    reopen.push(Reopen { object, text: matched.text, error });
                    continue;
                }
            };
            // Read again: the editor may have been open for a while (a colleague's write, an HPA
            // created meanwhile); the base makes sure only what was edited is changed.
            let fresh = match fetch::read_live(cluster, profile, role, editing.live.target.clone()).await {
                Ok(fresh) => fresh,
                Err(Error::NotFound { kind, name, namespace }) => {
                    let gone = Error::Api {
                        message: format!(
                            "{kind} \"{name}\" in namespace \"{namespace}\" was deleted while you were editing; nothing was applied to it and it is not re-created"
                        ),
                    };
                    failures.push(self.failure(object, &matched.text, gone));
                    continue;
                }
                Err(e) => {
                    failures.push(self.failure(object, &matched.text, e));
                    continue;
                }
            };
            match write::plan(cluster, profile, &self.writer, &fresh, &doc).await {
                Ok(plan) => ready.push(Ready {
                    object,
                    text: matched.text,
                    doc,
                    fresh,
                    plan,
                    writer: self.writer.clone(),
                    taken_over: false,
                }),
                Err(e @ (Error::Conflict { .. } | Error::HeldByAutoscaler { .. }))
                    if !self.writer.force && interactive() =>
                {
                    // What taking over would do comes first, then the question.
                    let forcing = Writer { force: true, ..self.writer.clone() };
                    let forced = match write::plan(cluster, profile, &forcing, &fresh, &doc).await {
                        Ok(plan) => plan,
                        Err(e) => {
                            failures.push(self.failure(object, &matched.text, e));
                            continue;
                        }
                    };
                    forced.warn_kept();
                    if let Err(e) = output::emit(&forced.diff(colour)) {
                        failures.push(self.failure(object, &matched.text, e));
                        continue;
                    }
                    eprintln!("{e}");
                    if dry_run {
                        failures.push(self.failure(object, &matched.text, e));
                        continue;
                    }
                    let question = format!(
                        "Take these fields over and apply to {} as {} (server-side apply with force)?",
                        forced.label, forcing.manager
                    );
                    match ask(&question) {
                        Ok(true) => ready.push(Ready {
                            object,
                            text: matched.text,
                            doc,
                            fresh,
                            plan: forced,
                            writer: forcing,
                            taken_over: true,
                        }),
                        Ok(false) => failures.push(self.failure(object, &matched.text, e)),
                        Err(ask_err) => failures.push(self.failure(object, &matched.text, ask_err)),
                    }
                }
                Err(e) if reopens(&e) => {
                    let error = located(e, &matched.parsed);
                    reopen.push(Reopen { object, text: matched.text, error });
                }
                Err(e) => failures.push(self.failure(object, &matched.text, e)),
            }
        }
        // The diffs of the plain writes (a take-over's came before its question).
        let mut to_apply: Vec<Ready<'p>> = Vec::new();
        for r in ready {
            if !r.taken_over {
                r.plan.warn_kept();
            }
            if !r.plan.needs_write() {
                let line = format!("{} unchanged: the edit changes nothing on the server\n", r.plan.label);
                if let Err(e) = output::emit(&line) {
                    failures.push(self.failure(r.object, &r.text, e));
                }
                continue;
            }
            if !r.taken_over {
                if let Err(e) = output::emit(&r.plan.diff(colour)) {
                    failures.push(self.failure(r.object, &r.text, e));
                    continue;
                }
            }
            if dry_run {
                // Nothing was written; the edit is kept so it can be applied as it is.
                let kept =
                    self.failure(r.object, &r.text, Error::Usage(String::new())).text.unwrap_or_default();
                let path = temp_path("edit");
                let said = match std::fs::write(&path, kept) {
                    Ok(()) => format!(
                        "{} edited (server dry run); your edit is kept in {}: apply it with `kubectl oam {role} apply -f {}`\n",
                        r.plan.label,
                        path.display(),
                        path.display()
                    ),
                    Err(_) => format!("{} edited (server dry run)\n", r.plan.label),
                };
                if let Err(e) = output::emit(&said) {
                    failures.push(self.failure(r.object, &r.text, e));
                }
                continue;
            }
            to_apply.push(r);
        }
        // One confirmation for every plain write.
        let asking: Vec<String> =
            to_apply.iter().filter(|r| !r.taken_over).map(|r| r.plan.label.clone()).collect();
        if !args.yes && !asking.is_empty() {
            let answer = ask(&format!("Apply to {} as {}?", listed(&asking), self.writer.manager));
            if !matches!(answer, Ok(true)) {
                let (declined, kept): (Vec<Ready>, Vec<Ready>) =
                    to_apply.into_iter().partition(|r| !r.taken_over);
                to_apply = kept;
                let why = |answer: &Result<bool>| match answer {
                    Err(e) => Error::Io(e.to_string()),
                    Ok(_) => Error::Usage("not applied: you declined".into()),
                };
                failures.extend(declined.into_iter().map(|r| self.failure(r.object, &r.text, why(&answer))));
            }
        }
        let mut applied = 0;
        for r in to_apply {
            let target = &self.objects[r.object].live.target;
            let plan = match self.replan_if_autoscaled(&r).await {
                Ok(plan) => plan,
                Err(e) => {
                    failures.push(self.failure(r.object, &r.text, e));
                    continue;
                }
            };
            match write::commit(cluster, profile, &r.writer, target, &plan).await {
                Ok(()) => {
                    applied += 1;
                    let edited = format!("{} edited\n", plan.label);
                    let shown = match after_write(cluster, target, &args.write, edited).await {
                        Ok(line) => output::emit(&line),
                        Err(e) => Err(e),
                    };
                    // Applied: nothing to save, but the run still fails.
                    if let Err(error) = shown {
                        failures.push(Failure { object: plan.label.clone(), text: None, error });
                    }
                }
                Err(e) if reopens(&e) => {
                    reopen.push(Reopen { object: r.object, text: r.text, error: e });
                }
                Err(e) => failures.push(self.failure(r.object, &r.text, e)),
            }
        }
        (reopen, failures, applied)
    }

    /// Confirming may take a while: an autoscaler created meanwhile holds the replica count, so the
    /// write is decided again if one appeared.
    async fn replan_if_autoscaled(&self, r: &Ready<'p>) -> Result<Plan> {
        let kind = r.fresh.target.kind;
        if self.args.yes || hpa::autoscaled_label(self.profile, self.role, kind).is_none() {
            return Ok(r.plan.clone());
        }
        let again = fetch::read_live(self.cluster, self.profile, self.role, r.fresh.target.clone()).await?;
        if again.autoscaler.is_some() && r.fresh.autoscaler.is_none() {
            return write::plan(self.cluster, self.profile, &r.writer, &again, &r.doc).await;
        }
        Ok(r.plan.clone())
    }
}

/// `trait.field` names of the role for a kind, for the editor header.
fn available_fields(profile: &Profile, role: RoleName, kind: &KindInfo) -> Vec<String> {
    let role = profile.role(role);
    let mut out: Vec<String> =
        role.container_fields().map(|f| format!("containers.NAME.{}", f.name)).collect();
    if role.container_fields().next().is_some() {
        out.push(format!("{}.NAME (the same fields)", crate::model::roles::INIT_CONTAINERS_KEY));
    }
    for (t, fields) in role.object_traits(&kind.kind) {
        out.extend(fields.iter().map(|f| format!("{t}.{}", f.name)));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const WEB: &str = "kind: Deployment\nname: web\nnamespace: shop\ncontainers:\n  app:\n    image: a:1\n";
    const DB: &str = "kind: StatefulSet\nname: db\nnamespace: shop\ncontainers:\n  db:\n    image: pg:16\n";

    fn shown(kind: &str, name: &str, text: &str) -> Shown {
        let label = format!("{}.apps/{name}", kind.to_lowercase());
        Shown { kind: kind.into(), name: name.into(), namespace: "shop".into(), label, text: text.into() }
    }

    fn both() -> Vec<Shown> {
        vec![shown("Deployment", "web", WEB), shown("StatefulSet", "db", DB)]
    }

    /// What `read_stream` made of a text, in short: "empty", "problem: …", or per document
    /// "OBJECT changed|same".
    fn summary(objects: &[Shown], edited: &str) -> String {
        match read_stream(&Profile::builtin(), objects, edited) {
            Stream::Empty => "empty".into(),
            Stream::Problem(p) => format!("problem: {p}"),
            Stream::Documents(docs) => docs
                .iter()
                .map(|d| format!("{} {}", d.object, if d.changed { "changed" } else { "same" }))
                .collect::<Vec<_>>()
                .join(", "),
        }
    }

    #[test]
    fn the_edited_stream_is_split_and_matched_to_its_objects() {
        let header = "# Please edit\n#\n";
        let web2 = WEB.replace("a:1", "a:2");
        let db2 = DB.replace("pg:16", "pg:17");
        let cases: Vec<(&str, Vec<Shown>, String, &str)> = vec![
            (
                "one object, unchanged",
                vec![shown("Deployment", "web", WEB)],
                format!("{header}{WEB}"),
                "0 same",
            ),
            (
                "one object, a trailing comment line",
                vec![shown("Deployment", "web", WEB)],
                format!("{header}{WEB}  # mine\n"),
                "0 same",
            ),
            ("one object, changed", vec![shown("Deployment", "web", WEB)], web2.clone(), "0 changed"),
            ("only comments", both(), "# nothing\n\n".into(), "empty"),
            ("only separators and comments", both(), "---\n# x\n---\n".into(), "empty"),
            ("both, one changed", both(), format!("{header}{web2}---\n{DB}"), "0 changed, 1 same"),
            ("both changed, in another order", both(), format!("{db2}---\n{web2}"), "1 changed, 0 changed"),
            ("a document removed: that object is left alone", both(), db2.clone(), "1 changed"),
            ("a comment after the separator", both(), format!("{WEB}--- # next\n{db2}"), "0 same, 1 changed"),
            // Changed as text; planning then finds nothing to write.
            ("a kind by another name", both(), WEB.replace("kind: Deployment", "kind: deploy"), "0 changed"),
            ("no namespace is fine", both(), WEB.replace("namespace: shop\n", ""), "0 changed"),
            (
                "a name changed to another object",
                both(),
                format!("{}---\n{DB}", WEB.replace("name: web", "name: other")),
                "problem: the document at line 1 is for Deployment/other in namespace \"shop\", which is not being edited: kind, name and namespace say which object a document is for, so restore them (editing: deployment.apps/web, statefulset.apps/db); nothing was applied",
            ),
            (
                "a kind changed",
                both(),
                format!("{WEB}---\n{}", DB.replace("StatefulSet", "Deployment")),
                "problem: the document at line 8 is for Deployment/db in namespace \"shop\", which is not being edited",
            ),
            (
                "a namespace changed",
                both(),
                WEB.replace("namespace: shop", "namespace: prod"),
                "problem: the document at line 1 is for Deployment/web in namespace \"prod\"",
            ),
            (
                "no kind",
                both(),
                WEB.replace("kind: Deployment\n", ""),
                "problem: the document at line 1 is for ?/web",
            ),
            (
                "one object twice",
                both(),
                format!("{WEB}---\n{web2}"),
                "problem: deployment.apps/web has more than one document (the second at line 8); keep one; nothing was applied",
            ),
            (
                "invalid YAML, placed in the whole file",
                both(),
                format!("{header}{WEB}---\nkind: StatefulSet\nname: [\n"),
                "problem: the edited document: line 11 column",
            ),
            (
                "a list, not a mapping",
                both(),
                "- a\n".into(),
                "problem: the document at line 1 must be a mapping",
            ),
        ];
        for (what, objects, edited, expected) in cases {
            let got = summary(&objects, &edited);
            assert!(got.starts_with(expected), "{what}: {got}");
        }
    }

    #[test]
    fn a_matched_document_keeps_its_text_and_positions() {
        let edited = format!("# header\n{WEB}---\n# about db\n{}", DB.replace("pg:16", "pg:17"));
        let Stream::Documents(docs) = read_stream(&Profile::builtin(), &both(), &edited) else { panic!() };
        assert_eq!(docs[0].text, WEB);
        assert_eq!(docs[1].text, DB.replace("pg:16", "pg:17"), "the comment above it is not the document's");
        assert_eq!(docs[1].parsed.position(&["containers", "db", "image"]), Some((15, 12)));
        assert_eq!(docs[1].parsed.value["containers"]["db"]["image"], "pg:17");
    }

    #[test]
    fn streams_split_on_separator_lines_only() {
        let cases: Vec<(&str, Vec<(usize, &str)>)> = vec![
            ("a: 1\n", vec![(1, "a: 1\n")]),
            ("a: 1\n---\nb: 2\n", vec![(1, "a: 1\n"), (3, "b: 2\n")]),
            ("---\na: 1\n", vec![(1, ""), (2, "a: 1\n")]),
            ("a: 1\n--- # c\nb: '---'\n", vec![(1, "a: 1\n"), (3, "b: '---'\n")]),
            ("a: |\n  ---\n----\n", vec![(1, "a: |\n  ---\n----\n")]),
        ];
        for (text, expected) in cases {
            let got = split_stream(text);
            let got: Vec<(usize, &str)> = got.iter().map(|(l, t)| (*l, t.as_str())).collect();
            assert_eq!(got, expected, "{text:?}");
        }
        assert_eq!(join_documents(["a: 1", "b: 2\n"]), "a: 1\n---\nb: 2\n");
    }

    #[test]
    fn saved_texts_carry_each_documents_base() {
        let p = Profile::builtin();
        let (web_base, db_base) = (json!({"v": "web"}), json!({"v": "db"}));
        let bases = [&web_base, &db_base];
        let cases = [
            // Matched by kind and name, whatever the order.
            (format!("{DB}---\n{WEB}"), vec!["v: db", "v: web"]),
            // Unparseable: by place, one document per object.
            (format!("{WEB}name: [\n---\n{DB}"), vec!["v: web", "v: db"]),
            // One unparseable of one left: no base is guessed.
            ("kind: [\n".to_string(), vec![]),
            // Unparseable, one document fewer than objects: by the kind and name it shows.
            (format!("{DB}oops: [\n"), vec!["v: db"]),
        ];
        for (text, expected) in cases {
            let out = with_bases(&p, &text, &both(), &bases);
            let found: Vec<&str> = out.lines().filter(|l| l.starts_with("  v: ")).map(str::trim).collect();
            assert_eq!(found, expected, "{out}");
            assert_eq!(out.matches("---\n").count(), split_stream(&text).len() - 1, "{out}");
        }
        // Two documents run together (their `---` deleted): a base beside each name, so that
        // putting the `---` back leaves each its own.
        let merged = with_bases(&p, &format!("{WEB}{DB}oops: [\n"), &both(), &bases);
        assert!(
            merged.contains("name: web\nbase: {\"v\":\"web\"}\n")
                && merged.contains("name: db\nbase: {\"v\":\"db\"}\n"),
            "{merged}"
        );
        // A parsed document that names an object outside the edit gets no base of another.
        let renamed =
            with_bases(&p, &format!("{}---\n{DB}", WEB.replace("name: web", "name: other")), &both(), &bases);
        assert!(!renamed.contains("v: web") && renamed.contains("v: db"), "{renamed}");
        let kept = with_base(&format!("{WEB}base:\n  v: mine\n"), &web_base);
        assert!(!kept.contains("v: web"), "a base the user wrote is kept: {kept}");
    }

    #[test]
    fn documents_are_checked_before_planning() {
        let p = Profile::builtin();
        let deploy = p.kind("deploy").unwrap();
        let original = json!({"kind": "Deployment", "name": "web", "base": {"resourceVersion": "7"},
                              "readOnly": {"selector": {"app": "web"}}});
        let check = |text: &str| {
            let parsed = crate::format::yaml::parse_document(text, "t").unwrap();
            check_document(&p, RoleName::Ops, deploy, &original, &parsed)
        };
        let doc = check("kind: Deployment\nname: web\nscaler:\n  replicas: 3\n").unwrap();
        assert_eq!(doc["base"], json!({"resourceVersion": "7"}), "the base goes back in");
        let cases = [
            (
                "kind: Deployment\nname: web\nreadOnly:\n  selector:\n    app: x\n",
                "readOnly.selector: shown for context",
            ),
            ("kind: Deployment\nname: web\nstatus:\n  ready: 1/1\n", "status: shown for context"),
            ("kind: Deployment\nname: web\nmetadata:\n  labels:\n    on: yes\n", "metadata.labels.on"),
        ];
        for (text, expected) in cases {
            let err = check(text).unwrap_err();
            let parsed = crate::format::yaml::parse_document(text, "t").unwrap();
            let lines = reasons(&located(err, &parsed));
            assert!(lines.iter().any(|l| l.contains(expected)), "{text}: {lines:?}");
        }
    }

    #[test]
    fn errors_a_text_can_fix_reopen_the_editor() {
        assert!(reopens(&Error::Invalid("x".into())));
        assert!(reopens(&Error::Stale {
            object: "o".into(),
            role: "dev".into(),
            target: "t".into(),
            fields: vec![]
        }));
        assert!(reopens(&Error::Conflict { object: "o".into(), conflicts: vec![] }));
        let gone =
            Error::NotFound { kind: "Deployment".into(), name: "web".into(), namespace: "shop".into() };
        assert!(!reopens(&gone), "deleted meanwhile: named, never re-created");
        assert!(!reopens(&Error::Forbidden { message: "no".into() }));
    }

    #[test]
    fn read_only_changes_are_refused_in_the_editor_but_deleting_is_fine() {
        let original = json!({"kind": "Deployment", "readOnly": {"selector": {"app": "web"}}});
        let reason = |f: &str| (f == "selector").then(|| "pods are matched by it".to_string());
        assert_eq!(read_only_changed(&original, &json!({"kind": "Deployment"}), reason), None);
        assert_eq!(read_only_changed(&original, &original, reason), None);
        let changed = json!({"kind": "Deployment", "readOnly": {"selector": {"app": "x"}}});
        assert_eq!(
            read_only_changed(&original, &changed, reason).unwrap(),
            "readOnly.selector: shown for context and never written (pods are matched by it); restore it or delete the readOnly section"
        );
    }

    #[test]
    fn the_users_part_is_kept_without_our_header() {
        let text = format!("# header\n# * an error\n#\n{WEB}# user comment\n");
        assert_eq!(user_part(&text), format!("{WEB}# user comment\n"));
    }

    #[test]
    fn header_lists_errors_owners_and_the_other_role() {
        let p = Profile::builtin();
        let target = Target { kind: p.kind("deploy").unwrap(), name: "web".into(), namespace: "shop".into() };
        let notes = Notes {
            owners: vec!["containers.app.image: helm".into()],
            available: vec!["containers.NAME.image".into()],
            read_only: vec!["readOnly.selector: immutable".into()],
        };
        let text = header(
            RoleName::Dev,
            "kubectl-oam-dev",
            &[(&target, &notes)],
            &["containers.app.bogus: not a dev field".into(), "the server said:\n  two lines".into()],
        );
        assert!(text.starts_with("# The edit could not be applied"));
        assert!(text.contains("# * containers.app.bogus: not a dev field\n"));
        assert!(text.contains("# * the server said: two lines\n"));
        assert!(text.contains("# Please edit the dev document below."));
        assert!(text.contains("`kubectl oam ops edit deployment.apps/web`"));
        assert!(text.contains("#   containers.app.image: helm\n"));
        assert!(text.contains("# Read-only: readOnly.selector: immutable\n"));
        assert!(text.lines().all(|l| l.starts_with('#')), "every header line is a comment");

        let db = Target { kind: p.kind("sts").unwrap(), name: "db".into(), namespace: "shop".into() };
        let web2 = Target { name: "web2".into(), ..target.clone() };
        let text = header(
            RoleName::Dev,
            "kubectl-oam-dev",
            &[(&target, &notes), (&web2, &notes), (&db, &Notes::default())],
            &[],
        );
        assert!(text.starts_with("# Please edit the dev documents below, one per object"), "{text}");
        assert!(text.contains("Deleting an\n# object's document leaves that object as it is"), "{text}");
        assert_eq!(text.matches("# Fields of this role for Deployment").count(), 1, "once per kind: {text}");
        assert!(
            text.contains("# deployment.apps/web2:\n#   Read-only: readOnly.selector: immutable\n"),
            "{text}"
        );
        assert!(text.contains("#   Current owners:\n#     containers.app.image: helm\n"), "{text}");
        assert!(!text.contains("statefulset.apps/db:"), "nothing to say about db: {text}");
        assert!(text.lines().all(|l| l.starts_with('#')), "every header line is a comment");
    }

    #[test]
    fn several_failures_are_one_line_naming_each_object() {
        let err = Error::NotApplied(vec![
            ("deployment.apps/a".into(), Error::Usage("not applied: you declined".into())),
            (
                "deployment.apps/b".into(),
                Error::NotFound { kind: "Deployment".into(), name: "b".into(), namespace: "shop".into() },
            ),
            (
                "deployment.apps/c".into(),
                Error::Invalid("deployment.apps/c in namespace \"shop\": bad".into()),
            ),
        ]);
        assert_eq!(
            err.to_string(),
            "3 edited objects were not applied: (1) deployment.apps/a: not applied: you declined; \
             (2) deployment.apps/b: Deployment \"b\" not found in namespace \"shop\"; check the name, or pass -n NAMESPACE; \
             (3) deployment.apps/c in namespace \"shop\": bad"
        );
        assert_eq!(listed(&["a".into(), "b".into(), "c".into()]), "a, b and c");
        assert!(crate::error::names("x deployment.apps/web in y", "deployment.apps/web"));
        assert!(!crate::error::names("x deployment.apps/web2 in y", "deployment.apps/web"));
    }

    #[test]
    fn saved_edits_land_in_a_file_named_in_the_error() {
        let err = saved(RoleName::Ops, "kind: Deployment\n", Error::Usage("x".into()));
        let path = err.saved_edit().unwrap().to_path_buf();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "kind: Deployment\n");
        assert!(err.to_string().contains(&format!("kubectl oam ops apply -f {}", path.display())));
        std::fs::remove_file(path).unwrap();
    }
}
