//! The editor's text, pure: the header above the documents, the documents as one stream, reading the
//! edited stream back into documents matched to their objects, what reopens the editor, and bases
//! put back into saved text. The editor run and its writes are `commands::edit`.

use serde_json::Value;

use crate::core::ownership::BASE_KEY;
use crate::core::project;
use crate::error::{Error, Result};
use crate::format::output;
use crate::format::yaml::{self, Parsed};
use crate::model::roles::{INIT_CONTAINERS_KEY, KindInfo, Profile, READ_ONLY_KEY, RoleName, STATUS_KEY};
use crate::model::target::Target;

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
                 # The {other} role's fields are not shown: `{}`.\n",
                target.display(),
                target.namespace,
                crate::error::suggest(&format!("{other} edit {}", target.display()), &target.namespace),
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
                 # The {other} role's fields are not shown: `{}`.\n",
                crate::error::suggest(&format!("{other} edit TYPE/NAME"), namespace),
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
pub fn significant(text: &str) -> String {
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
        let parsed = match yaml::parse_document(&padded, "the edited document") {
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
    let misread = project::misread_values(parsed);
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
    let status = STATUS_KEY;
    if edited.get(status).is_some_and(|now| Some(now) != original.get(status)) {
        return Some(format!(
            "{status}: shown for context and never written; restore it or delete the {status} section"
        ));
    }
    let key = READ_ONLY_KEY;
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
        Some(field) => project::read_only_changed_message(field, reason(field).as_deref()),
        None => format!("{key}: shown for context and never written; restore it or delete the {key} section"),
    })
}

/// Problems placed at their line and column in the edited text.
pub fn located(err: Error, parsed: &Parsed) -> Error {
    match err {
        Error::Problems(list) => Error::Problems(project::locate(list, parsed)),
        other => other,
    }
}

/// Problems placed at their line and column in `text`, a document that starts at line `start` of
/// the file the user sees.
pub fn located_at(err: Error, text: &str, start: usize) -> Error {
    let padded = format!("{}{text}", "\n".repeat(start.saturating_sub(1)));
    match yaml::parse_document(&padded, "the edited document") {
        Ok(parsed) => located(err, &parsed),
        Err(_) => err,
    }
}

/// The lines the reopened editor shows for an error.
pub fn reasons(err: &Error) -> Vec<String> {
    match err {
        Error::Problems(list) => list.iter().map(|p| p.message.clone()).collect(),
        other => vec![other.to_string()],
    }
}

/// Errors the user can fix in the text (a value, a field changed meanwhile by someone else, a field
/// another manager holds): the document reopens. Others (gone, forbidden, unreachable) cannot be.
pub fn reopens(err: &Error) -> bool {
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
pub fn with_base(text: &str, base: &Value) -> String {
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
            let object = match yaml::parse_document(piece, "edit") {
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

/// "a", "a and b", "a, b and c".
pub fn listed(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

/// `trait.field` names of the role for a kind, for the editor header.
pub fn available_fields(profile: &Profile, role: RoleName, kind: &KindInfo) -> Vec<String> {
    let role = profile.role(role);
    let mut out: Vec<String> =
        role.container_fields().map(|f| format!("containers.NAME.{}", f.name)).collect();
    if role.container_fields().next().is_some() {
        out.push(format!("{}.NAME (the same fields)", INIT_CONTAINERS_KEY));
    }
    for (t, fields) in role.object_traits(&kind.kind) {
        out.extend(fields.iter().map(|f| format!("{t}.{}", f.name)));
    }
    out
}

#[cfg(test)]
mod tests;
