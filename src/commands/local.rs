//! `--local -f FILE…`: role views and role edits of manifest files, no cluster. `get` prints the
//! role documents of the workloads in the files; `set image`, `set env`, `scale`, `edit` and
//! `apply -f DOC --manifests FILE` change the files in place through the same role document a live
//! write changes (`core::local`), `diff` shows what `apply` would change, and
//! `format::yaml::edit_documents` rewrites only the lines that change. The related kinds (Service,
//! PDB, claim…) are the workloads' related objects; other kinds the profile does not cover are
//! skipped with one note. Every file is worked out before any is written; each is written
//! whole (a temporary file renamed over it, its mode kept).

use std::io::Read;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::cli::{
    ApplyArgs, DiffArgs, EditArgs, GetArgs, LocalFiles, ScaleArgs, SetEnvArgs, SetImageArgs, WriteFlags,
};
use crate::commands::apply::{expand_sources, full_manifest, parse_documents};
use crate::commands::edit::{private_file, remove_private_file, run_editor};
use crate::commands::get::print_local;
use crate::commands::set::{env_changes, image_pairs, set_env_vars, set_images};
use crate::core::local::{self, FileObject, Skipped};
use crate::error::{Error, Result};
use crate::format::{diff, output, yaml};
use crate::model::roles::{KindInfo, Profile, RoleName};
use crate::model::target::{Target, parse_targets};

/// One manifest file as read.
struct File {
    /// None for stdin.
    path: Option<PathBuf>,
    text: String,
    values: Vec<Value>,
}

impl File {
    fn source(&self) -> String {
        self.path.as_ref().map_or_else(|| "stdin".to_string(), |p| p.display().to_string())
    }

    /// The file as a written line names it: a symbolic link is written through (as kubectl reads
    /// it), so the line names the file written too, wherever it is.
    fn written(&self) -> String {
        let source = self.source();
        let Some(path) = &self.path else { return source };
        let link = std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink());
        match std::fs::canonicalize(path) {
            Ok(real) if link => format!("{source}, a link: written {}", real.display()),
            _ => source,
        }
    }
}

fn read(files: &LocalFiles) -> Result<Vec<File>> {
    let mut out = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for path in expand_sources(&files.filename, files.recursive)? {
        // A file named twice (`-f dir -f dir/web.yaml`) is read, and changed, once.
        // So is one file under two names (a symbolic or a hard link): both would be written, the
        // second over the first.
        if path.as_os_str() != "-" && !seen.insert(file_identity(&path)) {
            continue;
        }
        let (text, path) = if path.as_os_str() == "-" {
            let mut text = String::new();
            std::io::stdin().read_to_string(&mut text)?;
            (text, None)
        } else {
            let text = std::fs::read_to_string(&path)
                .map_err(|e| Error::Io(format!("cannot read {}: {e}", path.display())))?;
            (text, Some(path))
        };
        let source = path.as_ref().map_or_else(|| "stdin".to_string(), |p| p.display().to_string());
        let values = yaml::parse_documents(&text, &source)?.into_iter().map(|d| d.value).collect();
        out.push(File { path, text, values });
    }
    Ok(out)
}

/// What makes two names one file: its device and inode (its canonical path where they cannot be read).
fn file_identity(path: &Path) -> (u64, u64, PathBuf) {
    use std::os::unix::fs::MetadataExt;
    match std::fs::metadata(path) {
        Ok(m) => (m.dev(), m.ino(), PathBuf::new()),
        Err(_) => (0, 0, std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())),
    }
}

/// The workloads of every file (file index, object), and the one note about what was skipped.
/// With `-n`: only the objects of that namespace, and those the files give no namespace.
fn workloads<'p>(
    profile: &'p Profile,
    files: &[File],
    namespace: Option<&str>,
) -> (Vec<(usize, FileObject<'p>)>, Option<String>) {
    let mut skipped = Skipped::default();
    let mut out = Vec::new();
    let mut lists = Vec::new();
    for (i, file) in files.iter().enumerate() {
        let found = local::workloads(profile, &file.values, &mut skipped).into_iter().filter(|o| {
            let own = o.object["metadata"]["namespace"].as_str().filter(|ns| !ns.is_empty());
            namespace.is_none() || own.is_none() || own == namespace
        });
        out.extend(found.map(|o| (i, o)));
        local::related_objects(profile, &file.values, &mut lists);
    }
    // The Services, PDBs, claims… of the files are the workloads' related objects, as live.
    let mut objects: Vec<&mut FileObject<'p>> = out.iter_mut().map(|(_, o)| o).collect();
    local::find_related(profile, &mut objects, &lists, &mut skipped);
    (out, skipped.note())
}

/// The objects named on the command line (kind, name), if any.
fn named<'p>(profile: &'p Profile, words: &[String]) -> Result<Vec<(&'p KindInfo, String)>> {
    parse_targets(profile, words)
}

fn is_named(names: &[(&KindInfo, String)], obj: &FileObject<'_>) -> bool {
    names.iter().any(|(k, n)| k.kind == obj.kind.kind && n == obj.name())
}

/// Names given that no file holds: refused, naming them and the files.
fn check_found(
    names: &[(&KindInfo, String)],
    found: &[(usize, FileObject<'_>)],
    files: &LocalFiles,
) -> Result<()> {
    for (kind, name) in names {
        if !found.iter().any(|(_, o)| o.kind.kind == kind.kind && o.name() == name) {
            let given: Vec<String> = files.filename.iter().map(|p| p.display().to_string()).collect();
            return Err(Error::Usage(format!(
                "{}/{name} is not in the files given with {} ({}); name an object they hold, or give no name for all",
                kind.display_resource(),
                flag(files),
                given.join(", ")
            )));
        }
    }
    Ok(())
}

/// The flag that gave the files, for messages.
fn flag(files: &LocalFiles) -> &'static str {
    if files.manifests { "--manifests" } else { "-f" }
}

fn namespace_of(obj: &Value) -> String {
    obj["metadata"]["namespace"].as_str().unwrap_or_default().to_string()
}

/// `ROLE get --local -f FILE… [TYPE/NAME…]`.
pub fn get(profile: &Profile, role: RoleName, args: &GetArgs, namespace: Option<&str>) -> Result<String> {
    if args.selector.is_some() || args.field_selector.is_some() {
        return Err(Error::Usage(
            "-l and --field-selector select objects in the cluster; with --local, name them (TYPE/NAME) or give none for all"
                .into(),
        ));
    }
    let words: Vec<String> =
        args.target.target.iter().chain(&args.target.name).chain(&args.more).cloned().collect();
    let names = named(profile, &words)?;
    if !words.is_empty() && names.is_empty() {
        return Err(Error::Usage(format!(
            "\"{}\" names no object; with --local give TYPE/NAME or TYPE NAME…, or no name for every workload of the files",
            words.join(" ")
        )));
    }
    let files = read(&args.files)?;
    let (found, note) = workloads(profile, &files, namespace);
    check_found(&names, &found, &args.files)?;
    let mut objects = Vec::new();
    for (_, obj) in found {
        if !names.is_empty() && !is_named(&names, &obj) {
            continue;
        }
        if let Some(only) = &args.container {
            let have = crate::model::object::container_names(&obj.object, obj.kind);
            if !have.contains(only) {
                if names.is_empty() {
                    continue;
                }
                return Err(Error::Usage(format!(
                    "{} has no container \"{only}\"; it has {}",
                    obj.display(),
                    have.join(", ")
                )));
            }
        }
        let target =
            Target { kind: obj.kind, name: obj.name().to_string(), namespace: namespace_of(&obj.object) };
        objects.push((target, obj.object, obj.related));
    }
    let text = match objects.is_empty() {
        true => String::new(),
        false => print_local(profile, role, args, objects)?,
    };
    // Once, and only when the command succeeds (an error is one line).
    if let Some(note) = note {
        eprintln!("{note}");
    }
    Ok(text)
}

/// The objects named before the values (`set image deploy/web app=x`), and the values. With
/// `--local` the objects are optional: `set image app=x -f dir --local` changes every workload.
fn split_words<'a>(
    first: &'a str,
    rest: &'a [String],
    is_value: impl Fn(&str) -> bool,
) -> (Vec<String>, Vec<String>) {
    let words: Vec<String> = std::iter::once(first.to_string()).chain(rest.iter().cloned()).collect();
    let objects = words.iter().take_while(|w| !is_value(w)).count();
    let (o, v) = words.split_at(objects);
    (o.to_vec(), v.to_vec())
}

/// The change of one object's role document: Ok(false) when it does not apply to this object
/// (only when no object was named: a container it lacks, a kind without replicas).
type Change<'c> = dyn Fn(&mut Value, &FileObject<'_>, bool) -> Result<bool> + 'c;

/// Changes the named objects (all, when none is named) of the files, as `change` changes their
/// role documents; prints one line per object, or with a dry run the diff of each file.
#[allow(clippy::too_many_arguments)]
fn edit_files(
    profile: &Profile,
    namespace: Option<&str>,
    role: RoleName,
    files: &LocalFiles,
    words: &[String],
    flags: &WriteFlags,
    what: &str,
    change: &Change<'_>,
) -> Result<String> {
    edit_files_checked(profile, namespace, role, files, words, flags, what, change, &|| Ok(()))
}

/// [`edit_files`], with `check` asked once every object's change is worked out, before anything is
/// written or shown (`apply --local`: was every given document used?).
#[allow(clippy::too_many_arguments)]
fn edit_files_checked(
    profile: &Profile,
    namespace: Option<&str>,
    role: RoleName,
    files: &LocalFiles,
    words: &[String],
    flags: &WriteFlags,
    what: &str,
    change: &Change<'_>,
    check: &dyn Fn() -> Result<()>,
) -> Result<String> {
    if files.filename.iter().any(|p| p.as_os_str() == "-") {
        return Err(Error::Usage(
            "-f - (stdin) cannot be changed in place; give the manifest file or directory".into(),
        ));
    }
    // As kubectl's `set image --local`: the server's dry run needs the server; so do the waits.
    if flags.dry_run == "server" {
        return Err(Error::Usage(
            "cannot specify --local and --dry-run=server; did you mean --dry-run=client?".into(),
        ));
    }
    if flags.wait || flags.until_reconciled {
        let flag = if flags.wait { "--wait" } else { "--until-reconciled" };
        return Err(Error::Usage(format!(
            "{flag} watches the cluster; with --local nothing is sent to it (drop {flag})"
        )));
    }
    let names = named(profile, words)?;
    let read_files = read(files)?;
    let (found, note) = workloads(profile, &read_files, namespace);
    check_found(&names, &found, files)?;
    // Per file: the documents as they should read, and a line per object.
    let mut wanted: Vec<Vec<Value>> = read_files.iter().map(|f| f.values.clone()).collect();
    let mut lines: Vec<Vec<String>> = vec![Vec::new(); read_files.len()];
    let mut touched = 0;
    // The objects changed so far, by the workload whose edit changed them.
    let mut edited: Vec<((usize, local::Place), String)> = Vec::new();
    for (file, obj) in &found {
        if !names.is_empty() && !is_named(&names, obj) {
            continue;
        }
        let source = read_files[*file].source();
        let written = read_files[*file].written();
        let mut doc = local::view(profile, role, obj.kind, &obj.object, None, None);
        let at = |e: Error| match e {
            // A given role document's own problem names that document (and this file).
            Error::Document(_) => e,
            e => Error::Usage(format!("{source}: {}", output::one_line(&e.to_string()))),
        };
        if !change(&mut doc, obj, !names.is_empty()).map_err(at)? {
            continue;
        }
        touched += 1;
        let new = local::with_document(profile, role, obj, &doc).map_err(at)?;
        // The objects around it its related sections change (`expose:`…), in their own documents.
        let around = local::related_edits(profile, role, obj, &doc).map_err(at)?;
        // Only the objects around it changed: their lines say so.
        match (new == obj.object, around.is_empty()) {
            (true, true) => lines[*file].push(format!("{} unchanged (file: {written})", obj.display())),
            (true, false) => {}
            (false, _) => lines[*file].push(format!("{} {what} (file: {written})", obj.display())),
        }
        if new != obj.object {
            let display = obj.display();
            put_edit(&read_files, &mut wanted, &mut edited, (*file, obj.place), new, &display, &display)?;
        }
        for changed in around {
            let display = format!(
                "{}/{}",
                changed["kind"].as_str().unwrap_or_default().to_lowercase(),
                crate::core::related::object_name(&changed)
            );
            let (at_file, place) = match local::locate(&wanted, &changed).as_slice() {
                [one] => *one,
                [] => {
                    return Err(Error::Usage(format!(
                        "{display} (around {}) is no longer in the files; read them again",
                        obj.display()
                    )));
                }
                several => {
                    let names: Vec<String> = several.iter().map(|(f, _)| read_files[*f].source()).collect();
                    return Err(Error::Usage(format!(
                        "{display} (around {}) is in several files ({}); change it one file at a time (-f FILE)",
                        obj.display(),
                        names.join(", ")
                    )));
                }
            };
            let line = format!("{display} {what} (file: {})", read_files[at_file].written());
            if !lines[at_file].contains(&line) {
                lines[at_file].push(line);
            }
            put_edit(
                &read_files,
                &mut wanted,
                &mut edited,
                (at_file, place),
                changed,
                &display,
                &obj.display(),
            )?;
        }
    }
    if touched == 0 {
        return Err(Error::Usage(format!(
            "no workload in the files given with {} takes this change ({} object(s) of kinds the profile covers read)",
            flag(files),
            found.len()
        )));
    }
    check()?;
    // Every file worked out before any is written.
    let mut outputs = Vec::new();
    for (i, file) in read_files.iter().enumerate() {
        let changes: Vec<(usize, Value)> = wanted[i]
            .iter()
            .enumerate()
            .filter(|(d, v)| file.values.get(*d) != Some(*v))
            .map(|(d, v)| (d, v.clone()))
            .collect();
        if changes.is_empty() {
            continue;
        }
        let text = yaml::edit_documents(&file.text, &changes).map_err(|e| {
            let place = if e.line == 0 { String::new() } else { format!(":{}:{}", e.line, e.column) };
            Error::Usage(format!("{}{place}: {}", file.source(), e.message))
        })?;
        outputs.push((i, text));
    }
    // Once, and only when the command succeeds (an error is one line).
    let note = || {
        if let Some(note) = &note {
            eprintln!("{note}");
        }
    };
    let mut out = String::new();
    if flags.dry_run() {
        for (i, text) in &outputs {
            let file = &read_files[*i];
            let source = file.source();
            let changed = format!("{source} (changed, not written: dry run)");
            // The lines of a Secret are never shown, not even as the context of a change.
            let hide = |text: &str| {
                yaml::hide_documents(text, local::is_secret)
                    .map_err(|e| Error::Usage(format!("{source}: {}", e.message)))
            };
            let (before, after) = (hide(&file.text)?, hide(text)?);
            out.push_str(&diff::unified_between(&before, &after, &source, &changed, output::use_colour()));
        }
        note();
        return Ok(out);
    }
    let writes: Vec<(&Path, &str, &str)> = outputs
        .iter()
        .filter_map(|(i, text)| {
            let file = &read_files[*i];
            file.path.as_deref().map(|p| (p, file.text.as_str(), text.as_str()))
        })
        .collect();
    write_all(&writes)?;
    note();
    for line in lines.iter().flatten() {
        out.push_str(line);
        out.push('\n');
    }
    Ok(out)
}

/// Puts the edit `new` of the object at `at` (file, place), named `display`, made by `by`'s
/// document from the object as read, into `wanted`: on top of an earlier edit of the same object
/// in this run (a Service two workloads' `expose:` sections change) both changes are kept; the
/// same value changed differently by both is refused, naming both workloads. Bad input never loses
/// work: no edit is written over another.
fn put_edit(
    files: &[File],
    wanted: &mut [Vec<Value>],
    edited: &mut Vec<((usize, local::Place), String)>,
    at: (usize, local::Place),
    new: Value,
    display: &str,
    by: &str,
) -> Result<()> {
    let (file, place) = at;
    let new = match edited.iter().find(|(e, _)| *e == at) {
        None => new,
        Some((_, earlier)) => {
            let base = files[file].values.get(place.document).and_then(|d| local::in_document(d, place));
            let now = wanted[file].get(place.document).and_then(|d| local::in_document(d, place));
            let (Some(base), Some(now)) = (base, now) else {
                return Err(Error::Usage(format!(
                    "{display} (file: {}) moved while it was changed; nothing was changed: run the command again",
                    files[file].source()
                )));
            };
            local::merge_edits(base, now, &new).map_err(|path| {
                Error::Usage(format!(
                    "{display} (file: {}): {earlier} and {by} both change {path}, differently; nothing was changed: make their documents agree, or change one at a time",
                    files[file].source()
                ))
            })?
        }
    };
    if !edited.iter().any(|(e, _)| *e == at) {
        edited.push((at, by.to_string()));
    }
    local::put_in_document(&mut wanted[file][place.document], place, new);
    Ok(())
}

/// Writes each `(path, text as read, new text)`, all or none as far as a file system allows: every
/// file is checked (not read-only) and its new text written to a temporary file beside it (its mode
/// kept) before any is renamed over its file; a file whose text is no longer the one read (another
/// editor saved it meanwhile) is refused, and nothing is written.
pub(crate) fn write_all(files: &[(&Path, &str, &str)]) -> Result<()> {
    let mut temps: Vec<(PathBuf, PathBuf)> = Vec::new();
    let cleanup = |temps: &[(PathBuf, PathBuf)]| {
        for (temp, _) in temps {
            let _ = std::fs::remove_file(temp);
        }
    };
    for (given, before, text) in files {
        match prepare(given, before, text) {
            Ok(pair) => temps.push(pair),
            Err(e) => {
                cleanup(&temps);
                return Err(e);
            }
        }
    }
    // The last look before any rename: a file saved by someone else since it was read stays theirs.
    for ((given, before, _), (_, path)) in files.iter().zip(&temps) {
        if std::fs::read_to_string(path).ok().as_deref() != Some(*before) {
            cleanup(&temps);
            return Err(Error::Io(format!(
                "{} changed since it was read (saved by another program?); nothing was changed: run the command again",
                given.display()
            )));
        }
    }
    for (i, (temp, path)) in temps.iter().enumerate() {
        if let Err(e) = std::fs::rename(temp, path) {
            cleanup(&temps[i..]);
            let written: Vec<String> = files[..i].iter().map(|(p, _, _)| p.display().to_string()).collect();
            return Err(Error::Io(format!(
                "cannot write {}: {e}{}",
                files[i].0.display(),
                match written.is_empty() {
                    true => String::new(),
                    false => format!(" (already written: {})", written.join(", ")),
                }
            )));
        }
    }
    Ok(())
}

/// The temporary file holding `text` beside the file `given` names (through a symbolic link: the
/// file it points to; the link stays), and that file.
fn prepare(given: &Path, before: &str, text: &str) -> Result<(PathBuf, PathBuf)> {
    let io = |e: std::io::Error| Error::Io(format!("cannot write {}: {e}", given.display()));
    let path = std::fs::canonicalize(given).map_err(io)?;
    let permissions = std::fs::metadata(&path).map_err(io)?.permissions();
    if permissions.readonly() {
        return Err(Error::Io(format!(
            "cannot write {}: the file is read-only; nothing was changed (make it writable first)",
            given.display()
        )));
    }
    if std::fs::read_to_string(&path).ok().as_deref() != Some(before) {
        return Err(Error::Io(format!(
            "{} changed since it was read (saved by another program?); nothing was changed: run the command again",
            given.display()
        )));
    }
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let temp = dir.join(format!(".{name}.kubectl-oam-{}", std::process::id()));
    let written = std::fs::write(&temp, text).and_then(|_| std::fs::set_permissions(&temp, permissions));
    if let Err(e) = written {
        let _ = std::fs::remove_file(&temp);
        return Err(io(e));
    }
    Ok((temp, path))
}

/// `dev set image [TYPE/NAME…] CONTAINER=IMAGE… --local -f FILE…`.
pub fn set_image(profile: &Profile, args: &SetImageArgs, namespace: Option<&str>) -> Result<String> {
    let (objects, images) = split_words(&args.target, &args.images, |w| w.contains('='));
    if images.is_empty() {
        return Err(Error::Usage("give CONTAINER=IMAGE, e.g. app=nginx:1.27".into()));
    }
    let pairs = image_pairs(&images, "the files given with -f")?;
    let change = |doc: &mut Value, obj: &FileObject<'_>, named: bool| {
        let have = crate::core::project::named_containers(doc);
        if !named && !pairs.iter().any(|(c, _)| c == "*" || have.contains(c)) {
            return Ok(false);
        }
        let pairs: Vec<(String, String)> = match named {
            true => pairs.clone(),
            false => pairs.iter().filter(|(c, _)| c == "*" || have.contains(c)).cloned().collect(),
        };
        set_images(doc, &pairs, &obj.display()).map(|_| true)
    };
    edit_files(
        profile,
        namespace,
        RoleName::Dev,
        &args.files,
        &objects,
        &args.write,
        "image updated",
        &change,
    )
}

/// `dev set env [TYPE/NAME…] KEY=VALUE… KEY-… [-c CONTAINER] --local -f FILE…`.
pub fn set_env(profile: &Profile, args: &SetEnvArgs, namespace: Option<&str>) -> Result<String> {
    let (objects, vars) = split_words(&args.target, &args.vars, |w| w.contains('=') || w.ends_with('-'));
    if vars.is_empty() {
        return Err(Error::Usage("give KEY=VALUE or KEY-, e.g. MODE=prod".into()));
    }
    let (set, unset) = env_changes(&vars, "the files given with -f")?;
    let only = args.container.as_deref();
    let change = |doc: &mut Value, obj: &FileObject<'_>, named: bool| {
        if let Some(only) = only.filter(|_| !named) {
            if !crate::core::project::named_containers(doc).iter().any(|c| c == only) {
                return Ok(false);
            }
        }
        set_env_vars(doc, only, &set, &unset, &obj.display()).map(|_| true)
    };
    edit_files(profile, namespace, RoleName::Dev, &args.files, &objects, &args.write, "env updated", &change)
}

/// `ops scale [TYPE/NAME…] --replicas N --local -f FILE…`.
pub fn scale(profile: &Profile, args: &ScaleArgs, namespace: Option<&str>) -> Result<String> {
    if !(0..=i64::from(i32::MAX)).contains(&args.replicas) {
        return Err(Error::Usage(format!(
            "--replicas must be from 0 to {}, not {}",
            i32::MAX,
            args.replicas
        )));
    }
    let objects: Vec<String> = args.target.iter().chain(&args.names).cloned().collect();
    let replicas = args.replicas;
    let change = |doc: &mut Value, obj: &FileObject<'_>, named: bool| {
        let target =
            Target { kind: obj.kind, name: obj.name().to_string(), namespace: namespace_of(&obj.object) };
        let (trait_name, field) = match crate::commands::scale::replicas_field(profile, &target) {
            Ok(found) => found,
            Err(_) if !named => return Ok(false),
            Err(e) => return Err(e),
        };
        let Some(map) = doc.as_object_mut() else { return Ok(false) };
        let group = map.entry(trait_name).or_insert_with(|| Value::Object(Default::default()));
        group[&field] = Value::from(replicas);
        Ok(true)
    };
    edit_files(profile, namespace, RoleName::Ops, &args.files, &objects, &args.write, "scaled", &change)
}

/// A role document given (by `apply -f` or the editor), by the workload it names.
struct Given<'p> {
    kind: &'p KindInfo,
    name: String,
    namespace: Option<String>,
    doc: Value,
    /// The file (or "the edited text") it came from, for messages.
    source: String,
}

/// The role documents of one text (`source` names it in messages).
fn role_documents<'p>(
    profile: &'p Profile,
    role: RoleName,
    text: &str,
    source: &str,
    given: &mut Vec<Given<'p>>,
) -> Result<()> {
    for parsed in parse_documents(text, source)? {
        let doc = parsed.value.clone();
        if let Some(problem) = full_manifest(profile, role, "default", &doc) {
            return Err(Error::Document(format!("{source}: {problem}")));
        }
        let misread = crate::core::project::misread_values(&parsed);
        if let Some(first) = crate::core::project::locate(misread, &parsed).first() {
            return Err(Error::Document(format!("{source}: {}", first.message)));
        }
        let (Some(kind), Some(name)) = (doc["kind"].as_str(), doc["name"].as_str()) else {
            return Err(Error::Document(format!(
                "{source}: a role document needs `kind` (e.g. Deployment) and `name`"
            )));
        };
        let kind = profile.kind(kind)?;
        let namespace = doc["namespace"].as_str().map(str::to_string);
        if given.iter().any(|g| g.kind.kind == kind.kind && g.name == name && g.namespace == namespace) {
            return Err(Error::Document(format!(
                "{source}: {}/{name} appears twice; merge its documents into one",
                kind.display_resource()
            )));
        }
        given.push(Given { kind, name: name.to_string(), namespace, doc, source: source.to_string() });
    }
    Ok(())
}

/// Each given role document changes its workload in `files`, as it would change the live object.
fn apply_given(
    profile: &Profile,
    namespace: Option<&str>,
    role: RoleName,
    given: &[Given<'_>],
    files: &LocalFiles,
    flags: &WriteFlags,
) -> Result<String> {
    let words: Vec<String> = given.iter().map(|g| format!("{}/{}", g.kind.kind, g.name)).collect();
    // Which documents changed an object: one that changed none (another document of the same
    // object was taken instead, or its namespace is not the files') is refused, never dropped.
    let used = std::cell::RefCell::new(vec![false; given.len()]);
    let change = |doc: &mut Value, obj: &FileObject<'_>, _named: bool| {
        let ns = obj.object["metadata"]["namespace"].as_str().filter(|n| !n.is_empty());
        let same = |g: &&Given<'_>| g.kind.kind == obj.kind.kind && g.name == obj.name();
        // The document of this namespace (none: of no namespace) first; only without one, a
        // document of any namespace for an object without one, or one without for any object
        // (two objects of one name, with and without a namespace, each take their own).
        let found = given
            .iter()
            .filter(same)
            .find(|g| g.namespace.as_deref() == ns)
            .or_else(|| given.iter().filter(same).find(|g| g.namespace.is_none() || ns.is_none()));
        let Some(found) = found else { return Ok(false) };
        if let Some(i) = given.iter().position(|g| std::ptr::eq(g, found)) {
            used.borrow_mut()[i] = true;
        }
        *doc = found.doc.clone();
        // What the document itself gets wrong (another role's key, a read-only field) is told
        // about the document.
        if let Err(e) = local::with_document(profile, role, obj, doc) {
            return Err(Error::Document(format!(
                "{}: {} (for {})",
                found.source,
                output::one_line(&e.to_string()),
                obj.display()
            )));
        }
        // A file without a namespace takes its document in any namespace (as -n would place it).
        if ns.is_none() {
            if let Some(map) = doc.as_object_mut() {
                map.shift_remove("namespace");
            }
        }
        Ok(true)
    };
    let check = || {
        let used = used.borrow();
        match given.iter().zip(used.iter()).find(|(_, used)| !**used) {
            None => Ok(()),
            Some((g, _)) => Err(Error::Document(format!(
                "{}: the document of {}/{}{} changes no object of the files given with {} (another document of the same object was taken, or the files give it another namespace); nothing was changed: merge the documents of one object into one",
                g.source,
                g.kind.display_resource(),
                g.name,
                g.namespace.as_ref().map(|n| format!(" in namespace \"{n}\"")).unwrap_or_default(),
                flag(files)
            ))),
        }
    };
    edit_files_checked(profile, namespace, role, files, &words, flags, "configured", &change, &check)
}

/// `ROLE apply -f DOC… --local --manifests FILE…`: each role document changes its workload in the
/// manifest files, as it would change the live object (other roles' keys and read-only fields
/// refused); what the document leaves out of the role's fields (an env var) leaves the file.
pub fn apply(profile: &Profile, role: RoleName, args: &ApplyArgs, namespace: Option<&str>) -> Result<String> {
    let given = read_role_documents(profile, role, &args.filename, args.recursive)?;
    let files = LocalFiles {
        filename: args.manifests.clone(),
        recursive: args.recursive,
        local: true,
        manifests: true,
    };
    apply_given(profile, namespace, role, &given, &files, &args.write)
}

/// `ROLE diff -f DOC… --local --manifests FILE…`: the unified diff of each manifest file as
/// `apply --local` would change it (empty: no differences).
pub fn diff(profile: &Profile, role: RoleName, args: &DiffArgs, namespace: Option<&str>) -> Result<String> {
    let given = read_role_documents(profile, role, &args.filename, args.recursive)?;
    let files = LocalFiles {
        filename: args.manifests.clone(),
        recursive: args.recursive,
        local: true,
        manifests: true,
    };
    let flags = WriteFlags {
        force_conflicts: false,
        field_manager: None,
        overwrite: false,
        dry_run: "client".into(),
        wait: false,
        timeout: "5m".into(),
        quiet: false,
        until_reconciled: false,
    };
    apply_given(profile, namespace, role, &given, &files, &flags)
}

/// The role documents of the files `-f` names.
fn read_role_documents<'p>(
    profile: &'p Profile,
    role: RoleName,
    paths: &[PathBuf],
    recursive: bool,
) -> Result<Vec<Given<'p>>> {
    let mut given = Vec::new();
    for path in expand_sources(paths, recursive)? {
        let (text, source) = if path.as_os_str() == "-" {
            let mut text = String::new();
            std::io::stdin().read_to_string(&mut text)?;
            (text, "stdin".to_string())
        } else {
            let text = std::fs::read_to_string(&path)
                .map_err(|e| Error::Io(format!("cannot read {}: {e}", path.display())))?;
            (text, path.display().to_string())
        };
        role_documents(profile, role, &text, &source, &mut given)?;
    }
    Ok(given)
}

/// `ROLE edit [TYPE/NAME…] -f FILE… --local`: the role documents of the workloads in the editor
/// (KUBE_EDITOR, EDITOR, vi), then into the files as `apply --local` puts them. A document deleted
/// in the editor leaves its workload as it is. A text that cannot be applied is kept in a private
/// file, named in the error, with the command that applies it once fixed.
pub fn edit(profile: &Profile, role: RoleName, args: &EditArgs, namespace: Option<&str>) -> Result<String> {
    if args.selector.is_some() {
        return Err(Error::Usage(
            "-l selects objects in the cluster; with --local name them (TYPE/NAME) or give none".into(),
        ));
    }
    let words: Vec<String> =
        args.target.target.iter().chain(&args.target.name).chain(&args.more).cloned().collect();
    let names = named(profile, &words)?;
    if args.files.filename.iter().any(|p| p.as_os_str() == "-") {
        return Err(Error::Usage(
            "-f - (stdin) cannot be edited in place; give the manifest file or directory".into(),
        ));
    }
    let files = read(&args.files)?;
    let (found, _) = workloads(profile, &files, namespace);
    check_found(&names, &found, &args.files)?;
    let shown: Vec<&(usize, FileObject<'_>)> =
        found.iter().filter(|(_, o)| names.is_empty() || is_named(&names, o)).collect();
    // The edited documents find their objects by kind, name and namespace: two objects alike
    // (one app in two overlays) cannot both be in the editor. Said before it opens.
    for (i, (_, a)) in shown.iter().enumerate() {
        let alike = |b: &FileObject<'_>| {
            b.kind.kind == a.kind.kind
                && b.name() == a.name()
                && namespace_of(&b.object) == namespace_of(&a.object)
        };
        if shown[..i].iter().any(|(_, b)| alike(b)) {
            let files: Vec<String> =
                shown.iter().filter(|(_, b)| alike(b)).map(|(f, _)| files[*f].source()).collect();
            return Err(Error::Usage(format!(
                "{} is in several files ({}); edit them one file at a time (-f FILE), or change them all with set or apply --local",
                a.display(),
                files.join(", ")
            )));
        }
    }
    let docs: Vec<Value> = shown
        .iter()
        .map(|(_, o)| {
            local::view(profile, role, o.kind, &o.object, args.container.as_deref(), Some(&o.related))
        })
        .collect();
    if docs.is_empty() {
        return Err(Error::Usage("the files given with -f hold no workload the profile covers".into()));
    }
    let given: Vec<String> = args.files.filename.iter().map(|p| p.display().to_string()).collect();
    let mut text = format!(
        "# The {role} documents of {} (--local): change them, save and quit; the files are changed in place.\n# Deleting a document leaves its workload as it is.\n",
        given.join(", ")
    );
    let mut shown = Vec::new();
    for doc in &docs {
        shown.push(output::yaml(doc)?);
    }
    text.push_str(&shown.join("---\n"));
    let path = private_file("edit.yaml", &text)
        .map_err(|e| Error::Io(format!("cannot write the file to edit: {e}")))?;
    let edited = run_editor(&path).and_then(|_| {
        std::fs::read_to_string(&path).map_err(|e| Error::Io(format!("cannot read the edited file: {e}")))
    });
    let edited = match edited {
        Ok(edited) => edited,
        Err(e) => {
            remove_private_file(&path);
            return Err(e);
        }
    };
    if edited == text {
        remove_private_file(&path);
        return Ok("Edit cancelled, no changes made.\n".into());
    }
    let mut given_docs = Vec::new();
    let outcome = role_documents(profile, role, &edited, "the edited text", &mut given_docs)
        .and_then(|_| apply_given(profile, namespace, role, &given_docs, &args.files, &args.write));
    match outcome {
        Ok(out) => {
            remove_private_file(&path);
            Ok(out)
        }
        Err(e) => {
            let apply = crate::error::suggest_in(
                &format!(
                    "{role} apply -f {} --local --manifests {}",
                    path.display(),
                    given.join(" --manifests ")
                ),
                None,
            );
            Err(Error::Document(format!(
                "{}; your edit is kept in {}: fix it and run `{apply}`",
                output::one_line(&e.to_string()),
                path.display()
            )))
        }
    }
}

#[cfg(test)]
mod tests;
