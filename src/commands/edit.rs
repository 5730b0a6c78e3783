//! `kubectl oam dev|ops edit`: role documents in $KUBE_EDITOR, then dry-run, diff, confirm, apply.
//!
//! Several objects are edited in one editor run, as kubectl does: one YAML stream with a document per
//! object. The pure part (the editor text, reading it back into documents matched to their objects)
//! is `core::edit`; here is the loop that runs the editor and talks to the server. Anything the user typed
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
use crate::core::edit::{
    Matched, Notes, Shown, Stream, available_fields, check_document, header, join_documents, listed, located,
    located_at, read_stream, reasons, reopens, significant, split_stream, user_part, with_base, with_bases,
};
use crate::core::hpa;
use crate::core::owners::field_owners;
use crate::core::ownership::BASE_KEY;
use crate::core::write::{Live, Writer, refuse_controlled, without_base};
use crate::error::{Error, Result, suggest};
use crate::format::output;
use crate::format::yaml::Parsed;
use crate::model::object;
use crate::model::roles::{Profile, RoleName};
use crate::model::target::{Target, parse_targets};

/// How often a text that cannot be applied reopens the editor before the edit ends (saved).
const MAX_REOPENINGS: usize = 10;

/// The error an edit given up on ends with: saved again unchanged, or reopened too often.
fn given_up(same_again: bool, error: Error) -> Error {
    match same_again {
        true => error,
        false => Error::Document(format!(
            "{error}; the editor was reopened {MAX_REOPENINGS} times and the text still cannot be applied, so the edit ends here"
        )),
    }
}

/// KUBE_EDITOR, then EDITOR, then vi, as kubectl does.
fn editor_command() -> String {
    ["KUBE_EDITOR", "EDITOR"]
        .iter()
        .find_map(|v| std::env::var(v).ok().filter(|e| !e.trim().is_empty()))
        .unwrap_or_else(|| "vi".into())
}

pub(crate) fn run_editor(path: &Path) -> Result<()> {
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

/// A new file `name` holding `text`, that only this user may read (0600, as kubectl edit's), alone
/// in a new directory of the temp directory that only this user may enter (0700): edits hold env
/// values. The directory is made fresh (never one that already exists), so nobody can have put a
/// link or a file there first.
pub(crate) fn private_file(name: &str, text: &str) -> std::io::Result<PathBuf> {
    use std::io::Write;
    let nanos =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
    let mut attempt = 0u32;
    let dir = loop {
        let dir = std::env::temp_dir().join(format!("kubectl-oam-{}-{nanos}-{attempt}", std::process::id()));
        let mut builder = std::fs::DirBuilder::new();
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        match builder.create(&dir) {
            Ok(()) => break dir,
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && attempt < 100 => attempt += 1,
            Err(e) => return Err(e),
        }
    };
    let path = dir.join(name);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(&path)?.write_all(text.as_bytes())?;
    Ok(path)
}

/// Removes a file `private_file` made, and its directory.
pub(crate) fn remove_private_file(path: &Path) {
    let _ = std::fs::remove_file(path);
    if let Some(dir) = path.parent() {
        let _ = std::fs::remove_dir(dir);
    }
}

/// Keeps the user's text safe (a private file), then returns the error that says where it is and
/// how to go on (in `namespace`, the edited objects').
fn saved(role: RoleName, namespace: &str, text: &str, err: Error) -> Error {
    match private_file("edit.yaml", text) {
        Ok(path) => Error::EditSaved {
            source: Box::new(err),
            path,
            role: role.to_string(),
            namespace: namespace.into(),
        },
        Err(io) => Error::Io(format!(
            "{err}; and your edit could not be saved to a file in {}: {io}",
            std::env::temp_dir().display()
        )),
    }
}

pub(crate) fn interactive() -> bool {
    std::io::stdin().is_terminal() && std::io::stderr().is_terminal()
}

/// A y/n question answered with Enter, so that the Enter never spills over into the next prompt.
pub(crate) fn ask(prompt: &str) -> Result<bool> {
    dialoguer::Confirm::new()
        .with_prompt(prompt)
        .default(false)
        .wait_for_newline(true)
        .interact()
        .map_err(|e| Error::Io(format!("cannot ask for confirmation: {e}")))
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
            "edit works in one namespace; -A (--all-namespaces) is not supported: pass -n NAMESPACE, e.g. {}",
            suggest(&format!("{role} edit deploy/web"), "shop")
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
                    "give names or -l SELECTOR, not both, e.g. {}",
                    suggest(&format!("{role} edit deploy -l {selector}"), &cluster.namespace)
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
            "edit needs TYPE/NAME (several: TYPE/NAME TYPE/NAME…, TYPE NAME NAME…, or [TYPE] -l SELECTOR), e.g. {}",
            suggest(&format!("{role} edit deploy/web"), &cluster.namespace)
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
            "no terminal to confirm the change on; re-run with --yes to apply without asking (or --dry-run=server), e.g. {}",
            suggest(&format!("{role} edit {example} --yes"), &cluster.namespace)
        )));
    }
    let writer = Writer::new(profile, role, args.write.field_manager.as_deref(), args.write.force_conflicts)?
        .overwriting(args.write.overwrite)
        .reconciling(args.write.until_reconciled, args.write.dry_run());
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
    /// Its problems not yet placed: their lines are counted in the text that shows them.
    error: Error,
    /// The document as read from the text just saved.
    parsed: Option<Box<Parsed>>,
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

    /// The comment block above the documents of `pending`, with `errors` (one line each).
    fn head(&self, pending: &[usize], errors: &[String]) -> String {
        let notes: Vec<(&Target, &Notes)> =
            pending.iter().map(|&i| (&self.objects[i].live.target, &self.objects[i].notes)).collect();
        header(self.role, &self.writer.manager, &notes, errors)
    }

    async fn run(&self) -> Result<String> {
        let mut pending: Vec<usize> = (0..self.objects.len()).collect();
        let mut body = join_documents(self.objects.iter().map(|o| o.shown.text.as_str()));
        let mut errors: Vec<String> = Vec::new();
        let mut failures: Vec<Failure> = Vec::new();
        let mut applied = 0;
        let mut said = String::new();
        let mut buffer: Option<PathBuf> = None;
        let mut reopenings = 0;
        loop {
            // The buffer is made private once; a reopening writes the same file again.
            let text = format!("{}{body}", self.head(&pending, &errors));
            let written = match &buffer {
                Some(file) => std::fs::write(file, &text).map(|()| file.clone()),
                None => private_file("editing.yaml", &text),
            };
            let file = match written {
                Ok(file) => file,
                Err(e) => {
                    failures.push(self.whole_failure(&pending, &body, e.into()));
                    break;
                }
            };
            let path = buffer.insert(file).as_path();
            if let Err(e) = run_editor(path) {
                // Keep what the editor left in the file; on the first opening an untouched file is
                // nothing to save.
                let left =
                    std::fs::read(path).map(|b| user_part(&String::from_utf8_lossy(&b))).unwrap_or_default();
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
            let bytes = std::fs::read(path).unwrap_or_default();
            let edited = String::from_utf8_lossy(&bytes).into_owned();
            let previous = std::mem::replace(&mut body, user_part(&edited));
            // Saving the refused text again means giving up (as kubectl edit), and so does a text that
            // still fails after MAX_REOPENINGS reopenings (an editor that changes it on every
            // opening, as scripts do, would reopen for ever): every path that would reopen the
            // editor ends here instead, with the text saved.
            let same_again = !errors.is_empty() && significant(&previous) == significant(&body);
            let give_up = same_again || reopenings >= MAX_REOPENINGS;
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
                Err(problem) | Ok(Stream::Problem(problem)) if give_up => {
                    let error = given_up(same_again, Error::Document(problem));
                    failures.push(self.whole_failure(&pending, &body, error));
                    break;
                }
                Err(problem) => {
                    reopenings += 1;
                    errors = vec![problem];
                    continue;
                }
                Ok(Stream::Problem(problem)) => {
                    // Read again as the reopened editor will show it, its reason on top: the lines
                    // it names are then that text's.
                    let reopened = format!("{}{body}", self.head(&pending, &[String::new()]));
                    let problem = match read_stream(self.profile, &shown, &reopened) {
                        Stream::Problem(again) => again,
                        _ => problem,
                    };
                    reopenings += 1;
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
            if give_up {
                failures.extend(reopen.into_iter().map(|r| {
                    // Placed in the text just saved, which the user last saw.
                    let error = match &r.parsed {
                        Some(parsed) => located(r.error, parsed),
                        None => r.error,
                    };
                    self.failure(r.object, &r.text, given_up(same_again, error))
                }));
                break;
            }
            // The reasons go on top, one line each, so their number is known before the lines they
            // name are counted in the reopened text.
            pending = reopen.iter().map(|r| r.object).collect();
            body = join_documents(reopen.iter().map(|r| r.text.as_str()));
            let count = reopen.iter().map(|r| reasons(&r.error).len()).sum();
            let head_lines = self.head(&pending, &vec![String::new(); count]).lines().count();
            let starts = split_stream(&body).into_iter().map(|(start, _)| head_lines + start);
            errors = reopen
                .into_iter()
                .zip(starts)
                .flat_map(|(r, start)| self.reason_lines(r.object, &located_at(r.error, &r.text, start)))
                .collect();
            reopenings += 1;
        }
        if let Some(path) = &buffer {
            remove_private_file(path);
        }
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
            Some(text) => saved(self.role, &self.cluster.namespace, &text, error),
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
                Err(error) => {
                    reopen.push(Reopen { object, text: matched.text, error, parsed: Some(matched.parsed) });
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
            let local = args.write.client_dry_run();
            match write::plan_as(cluster, profile, &self.writer, &fresh, &doc, local).await {
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
                    let forced = match write::plan_as(cluster, profile, &forcing, &fresh, &doc, local).await {
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
                    if dry_run {
                        failures.push(self.failure(object, &matched.text, e));
                        continue;
                    }
                    // What is held, and by whom; the question that follows offers the take-over.
                    eprintln!("{}", e.without_force_advice());
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
                Err(error) if reopens(&error) => {
                    reopen.push(Reopen { object, text: matched.text, error, parsed: Some(matched.parsed) });
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
                let which = if r.plan.client_side { "client" } else { "server" };
                let said = match private_file("edit.yaml", &kept) {
                    Ok(path) => format!(
                        "{} edited ({which} dry run); your edit is kept in {}: apply it with `{}`\n",
                        r.plan.label,
                        path.display(),
                        suggest(&format!("{role} apply -f {}", path.display()), &cluster.namespace)
                    ),
                    Err(_) => format!("{} edited ({which} dry run)\n", r.plan.label),
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
                    reopen.push(Reopen { object: r.object, text: r.text, error: e, parsed: None });
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn saved_edits_land_in_a_file_named_in_the_error() {
        let err = saved(RoleName::Ops, "shop", "kind: Deployment\n", Error::Usage("x".into()));
        let path = err.saved_edit().unwrap().to_path_buf();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "kind: Deployment\n");
        assert!(err.to_string().contains(&format!("kubectl oam ops apply -f {} -n shop", path.display())));
        remove_private_file(&path);
        assert!(!path.parent().unwrap().exists());
    }

    #[cfg(unix)]
    #[test]
    fn edits_are_kept_where_only_their_user_may_read_them() {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        let err = saved(RoleName::Dev, "shop", "env: secret\n", Error::Usage("x".into()));
        let path = err.saved_edit().unwrap().to_path_buf();
        let dir = path.parent().unwrap().to_path_buf();
        assert_eq!((mode(&path), mode(&dir)), (0o600, 0o700), "{}", path.display());
        assert!(dir.starts_with(std::env::temp_dir()) && dir != std::env::temp_dir());
        // Each file in a directory of its own, made fresh.
        let other = private_file("editing.yaml", "x").unwrap();
        assert_ne!(other.parent(), path.parent());
        assert_eq!((mode(&other), mode(other.parent().unwrap())), (0o600, 0o700));
        remove_private_file(&path);
        remove_private_file(&other);
    }
}
