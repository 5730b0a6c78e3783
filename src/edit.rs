//! `kubectl oam dev|ops edit`: the role document in $KUBE_EDITOR, then dry-run, diff, confirm, apply.
//!
//! The pure part (the editor text, reading it back) is separate from the loop that runs the editor
//! and talks to the server. Anything the user typed is saved to a file before any error is returned.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::apply::{self, Writer};
use crate::cli::EditArgs;
use crate::cluster::Cluster;
use crate::error::{Error, Result};
use crate::output;
use crate::owners::field_owners;
use crate::ownership::BASE_KEY;
use crate::roles::{Profile, RoleName};
use crate::view::{self, Target, parse_target};

/// What the user left in the editor.
#[derive(Debug)]
pub enum Edited {
    Empty,
    Unchanged,
    Document(Box<crate::yaml::Parsed>),
    /// The YAML did not parse; the message has line and column.
    Unreadable(String),
}

/// The comment block above the document.
pub fn header(
    role: RoleName,
    manager: &str,
    target: &Target,
    owners: &[String],
    available: &[String],
    read_only: &[String],
    errors: &[String],
) -> String {
    let mut text = String::new();
    if !errors.is_empty() {
        text.push_str(
            "# The edit could not be applied; fix these and save again (or empty the file to give up):\n",
        );
        for e in errors {
            text.push_str(&format!("# * {e}\n"));
        }
        text.push_str("#\n");
    }
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
        other = role.other(),
    ));
    if !available.is_empty() {
        text.push_str(&format!("# Fields of this role for {}: {}\n", target.kind.kind, available.join(", ")));
    }
    for note in read_only {
        text.push_str(&format!("# Read-only: {note}\n"));
    }
    if !owners.is_empty() {
        text.push_str("# Current owners:\n");
        for o in owners {
            text.push_str(&format!("#   {o}\n"));
        }
    }
    text.push_str("#\n");
    text
}

/// Text without comment-only lines or trailing blanks, to tell whether anything changed.
fn significant(text: &str) -> String {
    text.lines()
        .filter(|l| !l.trim_start().starts_with('#') && !l.trim().is_empty())
        .map(str::trim_end)
        .collect::<Vec<_>>()
        .join("\n")
}

/// The user's part of the file: everything after the header block we wrote.
pub fn user_part(text: &str) -> String {
    let mut lines = text.lines().peekable();
    while lines.peek().is_some_and(|l| l.starts_with('#')) {
        lines.next();
    }
    let mut out = lines.collect::<Vec<_>>().join("\n");
    out.push('\n');
    out
}

pub fn read_back(original: &str, edited: &str) -> Edited {
    let now = significant(edited);
    if now.is_empty() {
        return Edited::Empty;
    }
    if now == significant(original) {
        return Edited::Unchanged;
    }
    match crate::yaml::parse_document(edited, "the edited document") {
        Ok(parsed) if parsed.value.is_object() => Edited::Document(Box::new(parsed)),
        Ok(_) => Edited::Unreadable("the document must be a mapping with kind, name and its fields".into()),
        Err(e) => Edited::Unreadable(format!("invalid YAML: {e}")),
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
    let status = crate::roles::STATUS_KEY;
    if edited.get(status).is_some_and(|now| Some(now) != original.get(status)) {
        return Some(format!(
            "{status}: shown for context and never written; restore it or delete the {status} section"
        ));
    }
    let key = crate::roles::READ_ONLY_KEY;
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

pub async fn edit(cluster: &Cluster, profile: &Profile, role: RoleName, args: &EditArgs) -> Result<String> {
    let Some((kind, Some(name))) = parse_target(profile, &args.target)? else {
        return Err(Error::Usage(format!("edit needs TYPE/NAME, e.g. kubectl oam {role} edit deploy/web")));
    };
    let target = Target { kind, name, namespace: cluster.namespace.clone() };
    // Refuse before the user types anything that could not be confirmed.
    if !args.yes && !args.write.dry_run() && !interactive() {
        return Err(Error::Usage(format!(
            "no terminal to confirm the change on; re-run with --yes to apply without asking (or --dry-run=server), e.g. kubectl oam {role} edit {} --yes",
            target.display()
        )));
    }
    let live = apply::read_live(cluster, profile, role, target).await?;
    apply::refuse_controlled(profile, role, &live)?;
    if let Some(only) = &args.container {
        let names = view::container_names(&live.object, kind);
        if !names.contains(only) {
            return Err(Error::Usage(format!(
                "{} in namespace \"{}\" has no container \"{only}\"; it has {}",
                live.target.display(),
                live.target.namespace,
                names.join(", ")
            )));
        }
    }
    let mut writer =
        Writer::new(profile, role, args.write.field_manager.as_deref(), args.write.force_conflicts)?
            .overwriting(args.write.overwrite);
    let original_doc = live.document(profile, role, args.container.as_deref());
    // The base (what the document was read from) stays out of the editor; it goes back into the
    // edited document, and into any file the edit is saved to, so that neither can revert a change
    // made while the editor was open.
    let base = original_doc.get(BASE_KEY).cloned().unwrap_or(Value::Null);
    let original = output::yaml(&apply::without_base(original_doc.clone()))?;
    let saved = |text: &str, err: Error| saved(role, &with_base(text, &base), err);
    let owners: Vec<String> = field_owners(profile, kind, &live.object, Some(role))
        .iter()
        .map(|o| {
            let names: Vec<&str> = o.managers.iter().map(|h| h.manager.as_str()).collect();
            format!("{}: {}", o.field, names.join(", "))
        })
        .collect();
    let mut available = available_fields(profile, role, kind);
    if live.autoscaler.is_some() && crate::autoscaler::has_section(profile, role, kind) {
        available.extend(
            crate::autoscaler::FIELDS.iter().map(|f| format!("{}.{f}", crate::autoscaler::AUTOSCALER_KEY)),
        );
    }
    let read_only: Vec<String> = profile
        .role(role)
        .read_only
        .iter()
        .filter(|f| {
            f.applies_to(&kind.kind) && original_doc[crate::roles::READ_ONLY_KEY].get(&f.name).is_some()
        })
        .filter_map(|f| Some(format!("{}.{}: {}", crate::roles::READ_ONLY_KEY, f.name, f.reason.as_ref()?)))
        .collect();

    let mut user_text = original.clone();
    let mut errors: Vec<String> = Vec::new();
    let path = temp_path("editing");
    let mut taken_over = false;
    let outcome = loop {
        let head = header(role, &writer.manager, &live.target, &owners, &available, &read_only, &errors);
        std::fs::write(&path, format!("{head}{user_text}"))?;
        if let Err(e) = run_editor(&path) {
            break Err(saved(&user_text, e));
        }
        // Bytes that are not UTF-8 are kept (as U+FFFD) and reported, never taken for an empty file.
        let bytes = std::fs::read(&path).unwrap_or_default();
        let edited = String::from_utf8_lossy(&bytes).into_owned();
        let not_utf8 = std::str::from_utf8(&bytes).is_err();
        let previous = std::mem::replace(&mut user_text, user_part(&edited));
        // Saving the refused text again means giving up (as kubectl edit): every path that would
        // reopen the editor ends here instead, with the text saved.
        let gave_up = !errors.is_empty() && significant(&previous) == significant(&user_text);
        if not_utf8 {
            let problem = "the file is not valid UTF-8; unreadable bytes are shown as \u{FFFD}: fix them and save again".to_string();
            if gave_up {
                break Err(saved(&user_text, Error::Document(problem)));
            }
            errors = vec![problem];
            continue;
        }
        let parsed = match read_back(&original, &edited) {
            Edited::Empty => break Ok("Edit cancelled, saved file was empty.\n".to_string()),
            Edited::Unchanged => break Ok("Edit cancelled, no changes made.\n".to_string()),
            Edited::Unreadable(msg) if gave_up => {
                break Err(saved(&user_text, Error::Document(msg)));
            }
            Edited::Unreadable(msg) => {
                errors = vec![msg];
                continue;
            }
            Edited::Document(parsed) => parsed,
        };
        let misread = crate::project::misread_values(&parsed);
        if !misread.is_empty() {
            if gave_up {
                break Err(saved(&user_text, Error::Problems(crate::project::locate(misread, &parsed))));
            }
            errors = crate::project::locate(misread, &parsed).into_iter().map(|p| p.message).collect();
            continue;
        }
        let mut doc = parsed.value.clone();
        if let (Some(map), false) = (doc.as_object_mut(), base.is_null()) {
            map.entry(BASE_KEY).or_insert_with(|| base.clone());
        }
        let reason = |field: &str| profile.role(role).read_only_field(&kind.kind, field)?.reason.clone();
        if let Some(problem) = read_only_changed(&original_doc, &doc, reason) {
            if gave_up {
                break Err(saved(&user_text, Error::Document(problem)));
            }
            errors = vec![problem];
            continue;
        }
        // Read again: the editor may have been open for a while (a colleague's write, an HPA
        // created meanwhile); the base makes sure only what was edited is changed.
        let fresh = match apply::read_live(cluster, profile, role, live.target.clone()).await {
            Ok(fresh) => fresh,
            Err(e) => break Err(saved(&user_text, e)),
        };
        let planned = apply::plan(cluster, profile, &writer, &fresh, &doc).await;
        let plan = match planned {
            Ok(plan) => plan,
            // Problems the user can fix in the editor: reopen it with the reasons on top, unless the
            // user saved the same text again, which means they give up.
            Err(e @ (Error::Problems(_) | Error::Document(_) | Error::Invalid(_))) => {
                if gave_up {
                    break Err(saved(&user_text, e));
                }
                errors = match e {
                    Error::Problems(list) => {
                        crate::project::locate(list, &parsed).into_iter().map(|p| p.message).collect()
                    }
                    other => vec![other.to_string()],
                };
                continue;
            }
            Err(e @ (Error::Conflict { .. } | Error::HeldByAutoscaler { .. }))
                if !writer.force && interactive() =>
            {
                // What taking over would do comes first, then the question.
                let forcing = Writer { force: true, ..writer.clone() };
                let forced = match apply::plan(cluster, profile, &forcing, &fresh, &doc).await {
                    Ok(plan) => plan,
                    Err(e) => break Err(saved(&user_text, e)),
                };
                forced.warn_kept();
                if let Err(e) = output::emit(&forced.diff(output::use_colour())) {
                    break Err(saved(&user_text, e));
                }
                eprintln!("{e}");
                if args.write.dry_run() {
                    break Err(saved(&user_text, e));
                }
                let question = format!(
                    "Take these fields over and apply to {} as {} (server-side apply with force)?",
                    forced.label, forcing.manager
                );
                match ask(&question) {
                    Ok(true) => {
                        writer = forcing;
                        taken_over = true;
                        forced
                    }
                    Ok(false) => break Err(saved(&user_text, e)),
                    Err(ask_err) => break Err(saved(&user_text, ask_err)),
                }
            }
            Err(e) => break Err(saved(&user_text, e)),
        };
        if !taken_over {
            plan.warn_kept();
        }
        if !plan.needs_write() {
            break Ok(format!("{} unchanged: the edit changes nothing on the server\n", plan.label));
        }
        if !taken_over {
            let diff = plan.diff(output::use_colour());
            if args.write.dry_run() {
                break Ok(diff);
            }
            if let Err(e) = output::emit(&diff) {
                break Err(saved(&user_text, e));
            }
        }
        // The take-over question, asked after its diff, was the confirmation.
        if !args.yes && !taken_over {
            match ask(&format!("Apply to {} as {}?", plan.label, writer.manager)) {
                Ok(true) => {}
                Ok(false) => {
                    break Err(saved(&user_text, Error::Usage("not applied: you declined".into())));
                }
                Err(e) => break Err(saved(&user_text, e)),
            }
        }
        // Confirming may take a while: an autoscaler created meanwhile holds the replica count.
        let plan = if !args.yes && crate::project::autoscaled_label(profile, role, kind).is_some() {
            match apply::read_live(cluster, profile, role, live.target.clone()).await {
                Ok(again) if again.autoscaler.is_some() && fresh.autoscaler.is_none() => {
                    match apply::plan(cluster, profile, &writer, &again, &doc).await {
                        Ok(plan) => plan,
                        Err(e) => break Err(saved(&user_text, e)),
                    }
                }
                Ok(_) => plan,
                Err(e) => break Err(saved(&user_text, e)),
            }
        } else {
            plan
        };
        let edited = format!("{} edited\n", plan.label);
        break match apply::commit(cluster, profile, &writer, &live.target, &plan).await {
            Ok(()) => crate::rollout::after_write(cluster, &live.target, &args.write, edited).await,
            Err(e) => Err(saved(&user_text, e)),
        };
    };
    let _ = std::fs::remove_file(&path);
    outcome
}

/// `trait.field` names of the role for a kind, for the editor header.
fn available_fields(profile: &Profile, role: RoleName, kind: &crate::roles::KindInfo) -> Vec<String> {
    let role = profile.role(role);
    let mut out: Vec<String> =
        role.container_fields().map(|f| format!("containers.NAME.{}", f.name)).collect();
    if role.container_fields().next().is_some() {
        out.push(format!("{}.NAME (the same fields)", crate::roles::INIT_CONTAINERS_KEY));
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

    const DOC: &str = "kind: Deployment\nname: web\ncontainers:\n  app:\n    image: a:1\n";

    #[test]
    fn reading_back_the_editor() {
        let header = "# comment\n#\n";
        assert!(matches!(read_back(DOC, &format!("{header}{DOC}")), Edited::Unchanged));
        assert!(matches!(read_back(DOC, "# only comments\n\n"), Edited::Empty));
        assert!(matches!(read_back(DOC, &format!("{header}{DOC}  # trailing comment\n")), Edited::Unchanged));
        let changed = DOC.replace("a:1", "a:2");
        let Edited::Document(parsed) = read_back(DOC, &changed) else { panic!("a document") };
        assert_eq!(
            parsed.value,
            json!({"kind": "Deployment", "name": "web", "containers": {"app": {"image": "a:2"}}})
        );
        assert_eq!(parsed.position(&["containers", "app", "image"]), Some((5, 12)));
        match read_back(DOC, "kind: Deployment\nname: [\n") {
            Edited::Unreadable(msg) => {
                assert!(msg.contains("line") && msg.contains("column"), "{msg}")
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(read_back(DOC, "- a\n"), Edited::Unreadable(_)));
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
        let text = format!("# header\n# * an error\n#\n{DOC}# user comment\n");
        assert_eq!(user_part(&text), format!("{DOC}# user comment\n"));
    }

    #[test]
    fn header_lists_errors_owners_and_the_other_role() {
        let p = Profile::builtin();
        let target = Target { kind: p.kind("deploy").unwrap(), name: "web".into(), namespace: "shop".into() };
        let text = header(
            RoleName::Dev,
            "kubectl-oam-dev",
            &target,
            &["containers.app.image: helm".into()],
            &["containers.NAME.image".into()],
            &["readOnly.selector: immutable".into()],
            &["containers.app.bogus: not a dev field".into()],
        );
        assert!(text.starts_with("# The edit could not be applied"));
        assert!(text.contains("# * containers.app.bogus: not a dev field\n"));
        assert!(text.contains("`kubectl oam ops edit deployment.apps/web`"));
        assert!(text.contains("#   containers.app.image: helm\n"));
        assert!(text.contains("# Read-only: readOnly.selector: immutable\n"));
        assert!(text.lines().all(|l| l.starts_with('#')), "every header line is a comment");
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
