//! `kubectl oam check BASE HEAD [--role ROLE]` and `check --git REV..REV [-- PATH…]`: the changed
//! fields of two sets of manifests, grouped by the role that owns them (`core::check`), read from
//! files, directories, stdin or two Git revisions. No cluster: the profile is `--profile FILE` or the
//! built-in one.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::{Value, json};

use crate::cli::{CheckArgs, DocumentFormat};
use crate::commands::apply::expand_sources;
use crate::core::check::{self, ObjectChange};
use crate::error::{Error, Result};
use crate::format::{output, yaml};
use crate::model::roles::Profile;

/// The objects of one side, and how many documents were not objects.
type Side = (std::collections::BTreeMap<(String, String, String, String), Value>, usize);

/// Documents of a text; a `List` (as `kubectl get -o yaml` prints) gives its items.
fn documents(text: &str, source: &str, out: &mut Vec<Value>) -> Result<()> {
    for parsed in yaml::parse_documents(text, source)? {
        match parsed.value {
            Value::Object(ref map) if map.get("kind").and_then(Value::as_str) == Some("List") => {
                out.extend(map.get("items").and_then(Value::as_array).cloned().unwrap_or_default());
            }
            Value::Null => {}
            value => out.push(value),
        }
    }
    Ok(())
}

fn read_path(path: &Path) -> Result<Side> {
    let mut docs = Vec::new();
    for file in expand_sources(&[path.to_path_buf()], true)? {
        let (text, source) = if file.as_os_str() == "-" {
            let mut text = String::new();
            std::io::stdin().read_to_string(&mut text)?;
            (text, "stdin".to_string())
        } else {
            let text = std::fs::read_to_string(&file)
                .map_err(|e| Error::Io(format!("cannot read {}: {e}", file.display())))?;
            (text, file.display().to_string())
        };
        documents(&text, &source, &mut docs)?;
    }
    Ok(check::objects(docs))
}

fn git(args: &[&str]) -> Result<String> {
    let out = Command::new("git")
        .args(args)
        .output()
        .map_err(|e| Error::Io(format!("cannot run git: {e}; install git, or compare directories")))?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        return Err(Error::Usage(format!(
            "git {}: {}",
            args.join(" "),
            err.lines().next().unwrap_or("failed")
        )));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The manifests of one revision: the .yaml, .yml and .json files under `paths`, read with one
/// `git cat-file --batch` (a process per file would dominate a large repository).
fn read_revision(rev: &str, paths: &[String]) -> Result<Side> {
    let mut args = vec!["ls-tree", "-r", "--name-only", rev, "--"];
    args.extend(paths.iter().map(String::as_str));
    let files: Vec<String> = git(&args)?
        .lines()
        .filter(|f| [".yaml", ".yml", ".json"].iter().any(|x| f.ends_with(x)))
        .map(str::to_string)
        .collect();
    let mut child = Command::new("git")
        .args(["cat-file", "--batch"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| Error::Io(format!("cannot run git: {e}")))?;
    let mut stdin = child.stdin.take().ok_or_else(|| Error::Io("git cat-file: no stdin".into()))?;
    let names: String = files.iter().map(|f| format!("{rev}:{f}\n")).collect();
    let writer = std::thread::spawn(move || stdin.write_all(names.as_bytes()));
    let mut reader =
        BufReader::new(child.stdout.take().ok_or_else(|| Error::Io("git cat-file: no stdout".into()))?);
    let mut docs = Vec::new();
    for file in &files {
        let mut header = String::new();
        reader.read_line(&mut header)?;
        let size: usize = header.split_whitespace().nth(2).and_then(|s| s.parse().ok()).ok_or_else(|| {
            Error::Io(format!("git cat-file could not read {rev}:{file} ({})", header.trim()))
        })?;
        let mut body = vec![0; size + 1];
        reader.read_exact(&mut body)?;
        body.pop();
        let text = String::from_utf8(body)
            .map_err(|_| Error::Document(format!("{rev}:{file} is not UTF-8 text")))?;
        documents(&text, &format!("{rev}:{file}"), &mut docs)?;
    }
    let _ = writer.join();
    let _ = child.wait();
    Ok(check::objects(docs))
}

/// The report (or JSON), and whether the check fails (changes outside `--role`'s fields).
pub fn check(profile: &Profile, args: &CheckArgs) -> Result<(String, bool)> {
    let role = match args.role.as_deref() {
        None => None,
        Some(name) => match profile.roles.iter().find(|r| r.name.as_str() == name) {
            Some(r) => Some(r.name.to_string()),
            None => {
                let known: Vec<String> = profile.roles.iter().map(|r| r.name.to_string()).collect();
                return Err(Error::Usage(format!(
                    "--role {name}: the profile's roles are {}",
                    known.join(", ")
                )));
            }
        },
    };
    let ((base, skipped_base), (head, skipped_head)) = match (&args.git, &args.base, &args.head) {
        (Some(range), _, _) => {
            let Some((from, to)) = range.split_once("..").filter(|(a, b)| !a.is_empty() && !b.is_empty())
            else {
                return Err(Error::Usage(format!(
                    "--git {range}: give two revisions, REV..REV (e.g. origin/main..HEAD)"
                )));
            };
            (read_revision(from, &args.paths)?, read_revision(to, &args.paths)?)
        }
        (None, Some(base), Some(head)) => {
            if base.as_os_str() == "-" && head.as_os_str() == "-" {
                return Err(Error::Usage("only one of BASE and HEAD can be - (stdin)".into()));
            }
            (read_path(base)?, read_path(head)?)
        }
        _ => return Err(Error::Usage("give BASE and HEAD (files or directories), or --git REV..REV".into())),
    };
    let skipped = skipped_base + skipped_head;
    if skipped > 0 {
        eprintln!(
            "note: {skipped} document(s) without apiVersion, kind and metadata.name were left out (not Kubernetes objects)"
        );
    }
    let changes: Vec<ObjectChange> = check::compare(profile, &base, &head);
    let outside = role.as_deref().map(|r| check::outside(&changes, r)).unwrap_or_default();
    let fails = !outside.is_empty();
    let text = match args.output {
        Some(DocumentFormat::Json) => {
            output::json(&json!({"changes": changes, "role": role, "outsideRole": outside}))
        }
        Some(DocumentFormat::Yaml) => {
            output::yaml(&json!({"changes": changes, "role": role, "outsideRole": outside}))?
        }
        None => {
            let mut text = check::report(&changes);
            if let Some(role) = &role {
                match outside.is_empty() {
                    true => text.push_str(&format!("only {role} fields changed\n")),
                    false => {
                        for line in &outside {
                            text.push_str(&format!("outside {role}: {line}\n"));
                        }
                    }
                }
            }
            text
        }
    };
    Ok((text, fails))
}

/// The profile a check reads: `--profile FILE`, else the built-in one (no cluster is asked).
pub fn profile(file: Option<&PathBuf>) -> Result<Profile> {
    match file {
        Some(path) => crate::cluster::profiles::from_file(path),
        None => Ok(Profile::builtin()),
    }
}
