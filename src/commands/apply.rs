//! `kubectl oam dev|ops apply -f` and `diff -f`: role documents from files, each planned against its
//! live object (a server-side dry-run) before anything is written.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::cli::{ApplyArgs, DiffArgs};
use crate::cluster::client::Cluster;
use crate::cluster::fetch;
use crate::cluster::write::{self, Plan};
use crate::commands::after_write;
use crate::core::project::{self, DocProblem};
use crate::core::write::Writer;
use crate::error::{Error, Result, suggest};
use crate::format::{diff, output, yaml};
use crate::model::roles::{Profile, RoleName};
use crate::model::target::{self, Target};

/// Problems as one line.
fn messages(problems: &[DocProblem]) -> String {
    problems.iter().map(|p| p.message.as_str()).collect::<Vec<_>>().join("; ")
}

/// Splits a file of role documents ("---" separated; a JSON array also works) into parsed
/// documents (values with where each was written).
pub fn parse_documents(text: &str, source: &str) -> Result<Vec<yaml::Parsed>> {
    let docs: Vec<yaml::Parsed> =
        yaml::parse_documents(text, source)?.into_iter().flat_map(yaml::Parsed::into_items).collect();
    if docs.is_empty() {
        return Err(Error::Document(format!("{source}: no documents found")));
    }
    Ok(docs)
}

fn read_source(path: &Path) -> Result<(String, String)> {
    if path.as_os_str() == "-" {
        let mut text = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin(), &mut text)?;
        return Ok((text, "stdin".into()));
    }
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::Io(format!("cannot read {}: {e}", path.display())))?;
    Ok((text, path.display().to_string()))
}

/// The files `-f` names, in order: a directory gives its .yaml, .yml and .json files (sorted; with
/// `-R` those of its subdirectories too), as kubectl reads them. Stdin ("-") may be given once.
pub fn expand_sources(paths: &[PathBuf], recursive: bool) -> Result<Vec<PathBuf>> {
    fn walk(dir: &Path, recursive: bool, out: &mut Vec<PathBuf>) -> Result<()> {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
            .map_err(|e| Error::Io(format!("cannot read the directory {}: {e}", dir.display())))?
            .filter_map(|entry| entry.ok().map(|e| e.path()))
            .collect();
        entries.sort();
        for path in entries {
            // As kubectl's -R: a symbolic link to a directory is not followed (a link to `..`
            // would never end); a link to a file is read.
            let link = std::fs::symlink_metadata(&path).is_ok_and(|m| m.file_type().is_symlink());
            if path.is_dir() {
                if recursive && !link {
                    walk(&path, recursive, out)?;
                }
            } else if path.extension().is_some_and(|x| x == "yaml" || x == "yml" || x == "json") {
                out.push(path);
            }
        }
        Ok(())
    }
    let mut out = Vec::new();
    for path in paths {
        if path.as_os_str() == "-" {
            if out.iter().any(|p: &PathBuf| p.as_os_str() == "-") {
                return Err(Error::Usage("-f - (stdin) can be given only once".into()));
            }
            out.push(path.clone());
        } else if path.is_dir() {
            let before = out.len();
            walk(path, recursive, &mut out)?;
            if out.len() == before {
                return Err(Error::Usage(format!(
                    "the directory {} has no .yaml, .yml or .json files{}",
                    path.display(),
                    if recursive { "" } else { " (-R reads its subdirectories)" }
                )));
            }
        } else {
            out.push(path.clone());
        }
    }
    Ok(out)
}

/// A whole Kubernetes manifest (apiVersion, metadata, spec) where a role document was expected: a
/// common first try, which deserves the way to the role document rather than "has no `name`".
/// `namespace`: where the command works (a manifest's own namespace wins).
pub fn full_manifest(profile: &Profile, role: RoleName, namespace: &str, doc: &Value) -> Option<String> {
    // Role documents have a `metadata` trait too, but never its name, nor apiVersion, spec or items.
    let manifest = doc.get("name").is_none()
        && (doc.get("apiVersion").is_some()
            || doc["metadata"].get("name").is_some()
            || doc.get("spec").is_some()
            || doc.get("items").is_some());
    if !manifest {
        return None;
    }
    let article = if role.to_string().starts_with(['a', 'e', 'i', 'o', 'u']) { "an" } else { "a" };
    let not_role = format!("not {article} {role} role document");
    let kind = doc["kind"].as_str().unwrap_or("TYPE");
    if doc.get("items").is_some() || kind.ends_with("List") {
        return Some(format!(
            "this is a Kubernetes {kind} (as `kubectl get -o yaml` prints several objects), {not_role}; `{}` prints role documents to change and apply",
            suggest(&format!("{role} get TYPE/NAME…"), namespace)
        ));
    }
    let name = doc["metadata"]["name"].as_str().filter(|n| !n.is_empty()).unwrap_or("NAME");
    match profile.kind(kind) {
        Ok(workload) => Some(format!(
            "this is a full Kubernetes manifest (apiVersion, metadata, spec), {not_role}; `{}` prints the role document to change and apply (a whole manifest goes to `kubectl apply --server-side`)",
            suggest(
                &format!("{role} get {}/{name}", workload.display_resource()),
                doc["metadata"]["namespace"].as_str().filter(|ns| !ns.is_empty()).unwrap_or(namespace)
            )
        )),
        Err(_) => Some(format!(
            "this is a {kind} manifest, {not_role}, and kubectl oam works on workloads only ({}); apply it with `kubectl apply --server-side`",
            profile.kinds.iter().map(|k| k.kind.as_str()).collect::<Vec<_>>().join(", ")
        )),
    }
}

/// The workload a document names; its namespace wins over the context's, but not over -n.
pub fn document_target<'p>(
    profile: &'p Profile,
    cluster: &Cluster,
    explicit_ns: Option<&str>,
    role: RoleName,
    doc: &Value,
    source: &str,
) -> Result<Target<'p>> {
    if let Some(problem) = full_manifest(profile, role, explicit_ns.unwrap_or(&cluster.namespace), doc) {
        return Err(Error::Document(format!("{source}: {problem}")));
    }
    let kind_name = doc["kind"].as_str().ok_or_else(|| {
        Error::Document(format!("{source}: a role document needs `kind` (e.g. Deployment) and `name`"))
    })?;
    let name = doc["name"]
        .as_str()
        .filter(|n| !n.is_empty())
        .ok_or_else(|| Error::Document(format!("{source}: the {kind_name} document has no `name`")))?;
    let kind = profile.kind(kind_name)?;
    target::check_name(&kind.kind, name)?;
    let namespace = match (doc["namespace"].as_str(), explicit_ns) {
        (Some(doc_ns), Some(flag)) if doc_ns != flag => {
            return Err(Error::Document(format!(
                "{source}: {kind_name}/{name} says namespace \"{doc_ns}\" but -n says \"{flag}\"; drop one of them"
            )));
        }
        (Some(doc_ns), _) => {
            target::check_namespace(doc_ns)?;
            doc_ns.to_string()
        }
        (None, _) => cluster.namespace.clone(),
    };
    Ok(Target { kind, name: name.to_string(), namespace })
}

/// Plans, and the conflict that stopped a diff (shown after the diffs, which are planned as forced).
type Planned<'p> = (Vec<(Target<'p>, Plan)>, Option<Error>);

/// Reads every document of the files and plans each against its live object; nothing is written, so a
/// bad document anywhere stops the whole file before any change. With `show_conflicts` (diff), a
/// conflict does not stop it: the document is planned as if forced, so that its diff can be shown
/// before the conflict is reported. With `client_side` (`--dry-run=client`) the plans are made here,
/// without the server's dry-run.
#[allow(clippy::too_many_arguments)]
async fn plan_file<'p>(
    cluster: &Cluster,
    profile: &'p Profile,
    writer: &Writer,
    explicit_ns: Option<&str>,
    paths: &[PathBuf],
    recursive: bool,
    show_conflicts: bool,
    client_side: bool,
) -> Result<Planned<'p>> {
    let mut sources = Vec::new();
    for path in expand_sources(paths, recursive)? {
        let (text, source) = read_source(&path)?;
        let docs = parse_documents(&text, &source)?;
        sources.push((source, docs));
    }
    let mut plans: Vec<(Target<'p>, Plan)> = Vec::new();
    let mut conflict = None;
    // A file of several documents names which one is meant.
    let labelled = sources.iter().flat_map(|(source, docs)| {
        docs.iter().enumerate().map(move |(i, d)| match docs.len() {
            1 => (source.to_string(), d),
            _ => (format!("{source} (document {})", i + 1), d),
        })
    });
    for (source, parsed) in labelled {
        let source = &source;
        let doc = &parsed.value;
        let target = document_target(profile, cluster, explicit_ns, writer.role, doc, source)?;
        let object = format!("{} in namespace \"{}\"", target.display(), target.namespace);
        if plans.iter().any(|(t, _)| t.display() == target.display() && t.namespace == target.namespace) {
            return Err(Error::Document(format!(
                "{source}: {object} appears twice; merge its documents into one"
            )));
        }
        let misread = project::misread_values(parsed);
        if !misread.is_empty() {
            return Err(Error::Document(format!(
                "{source}: {object}: {}",
                messages(&project::locate(misread, parsed))
            )));
        }
        let live = fetch::read_for_document(cluster, profile, writer.role, target, doc).await?;
        let plan = match write::plan_as(cluster, profile, writer, &live, doc, client_side).await {
            Ok(plan) => plan,
            // Say which document of which file (and where in it), since a file may hold several.
            Err(Error::Problems(list)) => {
                return Err(Error::Document(format!(
                    "{source}: {object}: {}",
                    messages(&project::locate(list, parsed))
                )));
            }
            // `diff` shows what --force-conflicts would do, then the refusal.
            Err(
                e @ (Error::Conflict { .. } | Error::HeldByAutoscaler { .. } | Error::RemovalHeld { .. }),
            ) if show_conflicts && !writer.force => {
                let forcing = Writer { force: true, ..writer.clone() };
                let forced = write::plan(cluster, profile, &forcing, &live, doc).await?;
                conflict.get_or_insert(e);
                forced
            }
            Err(e) => return Err(e),
        };
        plans.push((live.target, plan));
    }
    Ok((plans, conflict))
}

pub async fn apply_files(
    cluster: &Cluster,
    profile: &Profile,
    role: RoleName,
    explicit_ns: Option<&str>,
    args: &ApplyArgs,
) -> Result<String> {
    let write = &args.write;
    let writer = Writer::new(profile, role, write.field_manager.as_deref(), write.force_conflicts)?
        .overwriting(write.overwrite)
        .reconciling(write.until_reconciled, write.dry_run());
    let (plans, _) = plan_file(
        cluster,
        profile,
        &writer,
        explicit_ns,
        &args.filename,
        args.recursive,
        false,
        write.client_dry_run(),
    )
    .await?;
    let colour = output::use_colour();
    // Each line as it happens, so that a failure halfway still shows what was already applied.
    for (target, plan) in &plans {
        plan.warn_kept();
        if write.dry_run() {
            output::emit(&plan.diff(colour))?;
        } else if plan.needs_write() {
            write::commit(cluster, profile, &writer, target, plan).await?;
            let line = format!("{} configured\n", plan.label);
            output::emit(&after_write(cluster, target, write, line).await?)?;
        } else {
            output::emit(&format!("{} unchanged\n", plan.label))?;
        }
    }
    Ok(String::new())
}

/// `diff -f`: Ok(true) when there are differences.
pub async fn diff_files(
    cluster: &Cluster,
    profile: &Profile,
    role: RoleName,
    explicit_ns: Option<&str>,
    args: &DiffArgs,
) -> Result<bool> {
    let writer = Writer::new(profile, role, args.field_manager.as_deref(), args.force_conflicts)?
        .overwriting(args.overwrite)
        .reconciling(false, true);
    let (plans, conflict) =
        plan_file(cluster, profile, &writer, explicit_ns, &args.filename, args.recursive, true, false)
            .await?;
    let plans: Vec<Plan> = plans.into_iter().map(|(_, plan)| plan).collect();
    for plan in &plans {
        plan.warn_kept();
    }
    let differs =
        if let Some(command) = std::env::var("KUBECTL_EXTERNAL_DIFF").ok().filter(|c| !c.trim().is_empty()) {
            let pairs: Vec<_> =
                plans.iter().map(|p| (p.diff_name.clone(), p.before.clone(), p.after.clone())).collect();
            diff::external(&command, &pairs)?
        } else {
            let colour = output::use_colour();
            let mut differs = false;
            for plan in &plans {
                let text = plan.diff(colour);
                differs |= !text.is_empty();
                output::emit(&text)?;
            }
            differs
        };
    // The diffs above are what taking the fields over would do; the conflict still fails the run.
    match conflict {
        Some(e) => Err(e),
        None => Ok(differs),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_full_manifest_is_recognised_and_shown_the_way_to_the_role_document() {
        let p = Profile::builtin();
        let manifest =
            json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"}, "spec": {}});
        let said = full_manifest(&p, RoleName::Dev, "shop", &manifest).unwrap();
        assert!(
            said.contains("`kubectl oam dev get deployment.apps/web -n shop` prints the role document"),
            "{said}"
        );
        // The manifest's own namespace is where its object is.
        let elsewhere = json!({"kind": "Deployment", "metadata": {"name": "web", "namespace": "prod"}});
        let said = full_manifest(&p, RoleName::Dev, "shop", &elsewhere).unwrap();
        assert!(said.contains("`kubectl oam dev get deployment.apps/web -n prod`"), "{said}");
        let nameless = json!({"kind": "StatefulSet", "spec": {"replicas": 1}});
        assert!(
            full_manifest(&p, RoleName::Ops, "shop", &nameless)
                .unwrap()
                .contains("`kubectl oam ops get statefulset.apps/NAME -n shop`")
        );
        let role_doc = json!({"kind": "Deployment", "name": "web", "metadata": {"labels": {"a": "b"}}});
        assert_eq!(full_manifest(&p, RoleName::Ops, "shop", &role_doc), None);
        assert_eq!(
            full_manifest(
                &p,
                RoleName::Ops,
                "shop",
                &json!({"kind": "Deployment", "metadata": {"labels": {}}})
            ),
            None
        );
        let configmap =
            json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {}});
        let said = full_manifest(&p, RoleName::Ops, "shop", &configmap).unwrap();
        assert!(said.starts_with("this is a ConfigMap manifest, not an ops role document, and kubectl oam works on workloads only (Deployment,"), "{said}");
        let list = json!({"apiVersion": "v1", "kind": "List", "items": []});
        let said = full_manifest(&p, RoleName::Dev, "shop", &list).unwrap();
        assert!(said.starts_with("this is a Kubernetes List (as `kubectl get -o yaml` prints several objects), not a dev role document;"), "{said}");
    }

    #[test]
    fn directories_give_their_yaml_and_json_files_in_order() {
        let dir = std::env::temp_dir().join(format!("oam-sources-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("sub")).unwrap();
        for f in ["b.yaml", "a.json", "notes.txt", "sub/c.yml"] {
            std::fs::write(dir.join(f), "").unwrap();
        }
        let names = |recursive| {
            expand_sources(std::slice::from_ref(&dir), recursive)
                .unwrap()
                .iter()
                .map(|p| p.strip_prefix(&dir).unwrap().display().to_string())
                .collect::<Vec<_>>()
        };
        assert_eq!(names(false), ["a.json", "b.yaml"]);
        assert_eq!(names(true), ["a.json", "b.yaml", "sub/c.yml"]);
        let twice = [PathBuf::from("-"), PathBuf::from("-")];
        assert!(matches!(expand_sources(&twice, false), Err(Error::Usage(_))));
        let empty = dir.join("sub/empty");
        std::fs::create_dir_all(&empty).unwrap();
        assert!(matches!(expand_sources(&[empty], false), Err(Error::Usage(_))));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn documents_split_on_separators_and_arrays() {
        let docs =
            parse_documents("kind: Deployment\nname: a\n---\nkind: Deployment\nname: b\n", "f").unwrap();
        assert_eq!(docs.len(), 2);
        let docs = parse_documents("[{\"kind\": \"Deployment\", \"name\": \"a\"}]", "f").unwrap();
        assert_eq!(docs[0].value["name"], "a");
        assert!(parse_documents("", "f").unwrap_err().to_string().contains("no documents"));
        let err = parse_documents("kind: [\n", "f.yaml").unwrap_err().to_string();
        assert!(err.starts_with("f.yaml: line 1 column 7: invalid YAML"), "{err}");
    }
}
