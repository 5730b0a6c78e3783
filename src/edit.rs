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
use crate::roles::{Profile, RoleName};
use crate::view::{self, Target, parse_target};

/// What the user left in the editor.
#[derive(Debug, PartialEq)]
pub enum Edited {
    Empty,
    Unchanged,
    Document(Value),
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
    let parsed = serde_yaml::from_str::<serde_yaml::Value>(edited)
        .map_err(|e| e.to_string())
        .and_then(output::parse_yaml);
    match parsed {
        Ok(Value::Object(m)) => Edited::Document(Value::Object(m)),
        Ok(_) => Edited::Unreadable("the document must be a mapping with kind, name and its fields".into()),
        Err(e) => Edited::Unreadable(format!("invalid YAML: {e}")),
    }
}

/// The read-only sections are context: deleting them is fine, changing them is a mistake worth saying.
pub fn read_only_changed(original: &Value, edited: &Value) -> Option<String> {
    [crate::roles::READ_ONLY_KEY, crate::roles::STATUS_KEY].into_iter().find_map(|key| {
        match edited.get(key) {
            Some(now) if Some(now) != original.get(key) => Some(format!(
                "{key}: shown for context and never written; restore it or delete the {key} section"
            )),
            _ => None,
        }
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

fn ask(prompt: &str) -> Result<bool> {
    dialoguer::Confirm::new()
        .with_prompt(prompt)
        .default(false)
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
        Writer::new(profile, role, args.write.field_manager.as_deref(), args.write.force_conflicts)?;
    let original_doc = live.document(profile, role, args.container.as_deref());
    let original = output::yaml(&original_doc)?;
    let owners: Vec<String> = field_owners(profile, kind, &live.object, Some(role))
        .iter()
        .map(|o| {
            let names: Vec<&str> = o.managers.iter().map(|h| h.manager.as_str()).collect();
            format!("{}: {}", o.field, names.join(", "))
        })
        .collect();
    let available = available_fields(profile, role, kind);

    let mut user_text = original.clone();
    let mut errors: Vec<String> = Vec::new();
    let path = temp_path("editing");
    let outcome = loop {
        let head = header(role, &writer.manager, &live.target, &owners, &available, &errors);
        std::fs::write(&path, format!("{head}{user_text}"))?;
        if let Err(e) = run_editor(&path) {
            break Err(saved(role, &user_text, e));
        }
        // Bytes that are not UTF-8 are kept (as U+FFFD) and reported, never taken for an empty file.
        let bytes = std::fs::read(&path).unwrap_or_default();
        let edited = String::from_utf8_lossy(&bytes).into_owned();
        let not_utf8 = std::str::from_utf8(&bytes).is_err();
        let previous = std::mem::replace(&mut user_text, user_part(&edited));
        if not_utf8 {
            let problem = "the file is not valid UTF-8; unreadable bytes are shown as \u{FFFD}: fix them and save again".to_string();
            if errors.first() == Some(&problem) && significant(&previous) == significant(&user_text) {
                break Err(saved(role, &user_text, Error::Document(problem)));
            }
            errors = vec![problem];
            continue;
        }
        let doc = match read_back(&original, &edited) {
            Edited::Empty => break Ok("Edit cancelled, saved file was empty.\n".to_string()),
            Edited::Unchanged => break Ok("Edit cancelled, no changes made.\n".to_string()),
            Edited::Unreadable(msg)
                if !errors.is_empty() && significant(&previous) == significant(&user_text) =>
            {
                break Err(saved(role, &user_text, Error::Document(msg)));
            }
            Edited::Unreadable(msg) => {
                errors = vec![msg];
                continue;
            }
            Edited::Document(doc) => doc,
        };
        if let Some(problem) = read_only_changed(&original_doc, &doc) {
            // Saved again unchanged: the user gives up, as with any other problem.
            if !errors.is_empty() && significant(&previous) == significant(&user_text) {
                break Err(saved(role, &user_text, Error::Document(problem)));
            }
            errors = vec![problem];
            continue;
        }
        let planned = apply::plan(cluster, profile, &writer, &live, &doc).await;
        let plan = match planned {
            Ok(plan) => plan,
            // Problems the user can fix in the editor: reopen it with the reasons on top, unless the
            // user saved the same text again, which means they give up.
            Err(e @ (Error::Problems(_) | Error::Document(_) | Error::Invalid(_))) => {
                if !errors.is_empty() && significant(&previous) == significant(&user_text) {
                    break Err(saved(role, &user_text, e));
                }
                errors = match &e {
                    Error::Problems(list) => list.clone(),
                    other => vec![other.to_string()],
                };
                continue;
            }
            Err(e @ (Error::Conflict { .. } | Error::HeldByAutoscaler { .. }))
                if !writer.force && interactive() =>
            {
                eprintln!("{e}");
                match ask("Take these fields over (server-side apply with force)?") {
                    Ok(true) => {
                        writer.force = true;
                        match apply::plan(cluster, profile, &writer, &live, &doc).await {
                            Ok(plan) => plan,
                            Err(e) => break Err(saved(role, &user_text, e)),
                        }
                    }
                    Ok(false) => break Err(saved(role, &user_text, e)),
                    Err(ask_err) => break Err(saved(role, &user_text, ask_err)),
                }
            }
            Err(e) => break Err(saved(role, &user_text, e)),
        };
        plan.warn_kept();
        if !plan.needs_write() {
            break Ok(format!("{} unchanged: the edit changes nothing on the server\n", plan.label));
        }
        let diff = plan.diff(output::use_colour());
        if args.write.dry_run() {
            break Ok(diff);
        }
        if let Err(e) = output::emit(&diff) {
            break Err(saved(role, &user_text, e));
        }
        if !args.yes {
            match ask(&format!("Apply to {} as {}?", plan.label, writer.manager)) {
                Ok(true) => {}
                Ok(false) => {
                    break Err(saved(role, &user_text, Error::Usage("not applied: you declined".into())));
                }
                Err(e) => break Err(saved(role, &user_text, e)),
            }
        }
        let edited = format!("{} edited\n", plan.label);
        break match apply::commit(cluster, profile, &writer, &live.target, &plan).await {
            Ok(()) => crate::rollout::after_write(cluster, &live.target, &args.write, edited).await,
            Err(e) => Err(saved(role, &user_text, e)),
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
        assert_eq!(read_back(DOC, &format!("{header}{DOC}")), Edited::Unchanged);
        assert_eq!(read_back(DOC, "# only comments\n\n"), Edited::Empty);
        assert_eq!(read_back(DOC, &format!("{header}{DOC}  # trailing comment\n")), Edited::Unchanged);
        let changed = DOC.replace("a:1", "a:2");
        assert_eq!(
            read_back(DOC, &changed),
            Edited::Document(
                json!({"kind": "Deployment", "name": "web", "containers": {"app": {"image": "a:2"}}})
            )
        );
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
        assert_eq!(read_only_changed(&original, &json!({"kind": "Deployment"})), None);
        assert_eq!(read_only_changed(&original, &original), None);
        let changed = json!({"kind": "Deployment", "readOnly": {"selector": {"app": "x"}}});
        assert!(read_only_changed(&original, &changed).unwrap().starts_with("readOnly: shown for context"));
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
            &["containers.app.bogus: not a dev field".into()],
        );
        assert!(text.starts_with("# The edit could not be applied"));
        assert!(text.contains("# * containers.app.bogus: not a dev field\n"));
        assert!(text.contains("`kubectl oam ops edit deployment.apps/web`"));
        assert!(text.contains("#   containers.app.image: helm\n"));
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
