//! Views of several clusters at once: `get`, `list` and `owners` with `--context a,b` (or repeated
//! `--context`) or `--all-contexts`. Each context is read at the same time as the others, as one
//! command of its own would read it (its namespace unless -n, its role profile, the same requests),
//! so the wall time is the slowest cluster's, not the sum. The parts are then printed as one: one
//! table with a CONTEXT column, documents with a `context` key. A context that fails is one error
//! line naming it, after what the others printed; the command then exits 2.

use futures_util::future::join_all;
use serde_json::{Value, json};

use crate::cli::{DocumentFormat, GetArgs, KubeFlags, ListArgs, OutputFormat, OwnersArgs};
use crate::cluster::client::{self, Cluster};
use crate::cluster::profiles;
use crate::commands::{self, get, list, owners};
use crate::core::fleet::{CONTEXT_KEY, with_context};
use crate::core::view;
use crate::error::{Error, Result};
use crate::format::jsonpath::Template;
use crate::format::output;
use crate::model::roles::{Profile, RoleName};

/// The contexts a view reads: None for one (the usual single-context path, unchanged); the names
/// given with `--context a,b` (each once, in order), or every context of the kubeconfig.
pub fn contexts(flags: &KubeFlags) -> Result<Option<Vec<String>>> {
    if flags.all_contexts {
        let names = client::context_names(&commands::client_options(flags))?;
        if names.is_empty() {
            return Err(Error::Kubeconfig(
                "--all-contexts: the kubeconfig has no contexts; see `kubectl config get-contexts`".into(),
            ));
        }
        return Ok(Some(names));
    }
    if !may_name_several(flags) {
        return Ok(None);
    }
    // A value with a comma is several names, unless the kubeconfig has a context of that very name
    // (kubectl allows one): the kubeconfig is read only then, never on the one-context path.
    let known = match flags.context.iter().any(|c| c.contains(',')) {
        true => client::context_names(&commands::client_options(flags)).unwrap_or_default(),
        false => Vec::new(),
    };
    let mut names: Vec<String> = Vec::new();
    for value in &flags.context {
        let split: Vec<&str> = match known.contains(value) {
            true => vec![value.as_str()],
            false => value.split(',').collect(),
        };
        if split.iter().any(|c| c.is_empty()) {
            return Err(Error::Usage(
                "--context has an empty name; separate contexts with single commas, e.g. --context east,west"
                    .into(),
            ));
        }
        for name in split {
            if !names.iter().any(|n| n == name) {
                names.push(name.to_string());
            }
        }
    }
    Ok((names.len() > 1).then_some(names))
}

/// Whether the flags may name several contexts (`--all-contexts`, `--context` more than once or
/// with a comma); without reading the kubeconfig.
pub fn may_name_several(flags: &KubeFlags) -> bool {
    flags.all_contexts || flags.context.len() > 1 || flags.context.iter().any(|c| c.contains(','))
}

/// `part` (one context's part of a command of several contexts), its suggested commands naming
/// that context alone: each poll runs with it (`error::in_one_context`), as the parts of all
/// contexts are polled in turn on one task.
pub fn in_context<F: Future>(context: &str, part: F) -> impl Future<Output = F::Output> {
    let mut part = Box::pin(part);
    let context = context.to_string();
    std::future::poll_fn(move |cx| crate::error::in_one_context(&context, || part.as_mut().poll(cx)))
}

/// The flags of one context of several.
fn for_context(flags: &KubeFlags, context: &str) -> KubeFlags {
    KubeFlags { context: vec![context.to_string()], all_contexts: false, ..flags.clone() }
}

/// Connects to one context and reads its role profile.
async fn open(flags: &KubeFlags, context: &str) -> Result<(Cluster, Profile)> {
    let flags = for_context(flags, context);
    let cluster = commands::connect(&flags).await?;
    let profile = profiles::load(&cluster, &commands::profile_options(&flags), false).await?;
    Ok((cluster, profile))
}

/// The failures, each one line naming its context; the last is returned, so that it is printed
/// last and sets the exit code (2).
///
/// When every context failed with the same usage error (a column, sort key or flag that no
/// context's profile takes), that is one line, as for one context: it is not about a context.
fn failures(failed: Vec<(String, Error)>, any_part: bool) -> Result<()> {
    if let Some(common) = same_usage_error(&failed).filter(|_| !any_part) {
        return Err(common);
    }
    let mut errors: Vec<Error> = failed
        .into_iter()
        .map(|(context, err)| Error::InContext {
            context,
            message: err.to_string().lines().collect::<Vec<_>>().join(" "),
        })
        .collect();
    let Some(last) = errors.pop() else { return Ok(()) };
    for err in errors {
        eprintln!("error: {err}");
    }
    Err(last)
}

/// The usage error every one of several failures is, if they are all the same one.
fn same_usage_error(failed: &[(String, Error)]) -> Option<Error> {
    let (first, rest) = failed.split_first()?;
    let Error::Usage(text) = &first.1 else { return None };
    let same = |err: &Error| matches!(err, Error::Usage(t) if t == text);
    (!rest.is_empty() && rest.iter().all(|(_, err)| same(err))).then(|| Error::Usage(text.clone()))
}

/// Each context's part, or its failure, by context name.
type Parts<T> = (Vec<(String, T)>, Vec<(String, Error)>);

/// Parts that worked, in context order, and the failures.
fn split<T>(contexts: &[String], results: Vec<Result<T>>) -> Parts<T> {
    let mut parts = Vec::new();
    let mut failed = Vec::new();
    for (context, result) in contexts.iter().zip(results) {
        match result {
            Ok(part) => parts.push((context.clone(), part)),
            Err(err) => failed.push((context.clone(), err)),
        }
    }
    (parts, failed)
}

/// A template given with `-o jsonpath` (checked before anything is read).
fn template(output: &Option<OutputFormat>, allow_missing: bool) -> Result<Option<Template>> {
    let Some(OutputFormat::JsonPath(text)) = output else { return Ok(None) };
    let template = crate::format::jsonpath::parse(text).map_err(Error::Usage)?;
    Ok(Some(if allow_missing { template.allowing_missing() } else { template }))
}

fn one_cluster(what: &str) -> Error {
    Error::Usage(format!("{what} works on one cluster; give one --context (not several or --all-contexts)"))
}

/// One context's part of a list.
struct ListPart {
    headers: Vec<String>,
    rows: Vec<Vec<String>>,
    text: String,
    /// Why this context's role profile refuses the template, if it does.
    refused: Option<String>,
}

async fn list_one(
    flags: &KubeFlags,
    context: &str,
    role: RoleName,
    args: &ListArgs,
    template: Option<&Template>,
) -> Result<ListPart> {
    let (cluster, profile) = open(flags, context).await?;
    let refused = refused(template, &profile, role);
    let mut out = Vec::new();
    let (headers, rows) = list::list_part(&cluster, &profile, role, args, context, &mut out).await?;
    Ok(ListPart { headers, rows, text: String::from_utf8_lossy(&out).into_owned(), refused })
}

/// Why `profile` refuses a template over the `List` of several contexts' documents: a key no
/// document of the role has (nor `context`), which would print nothing (see `view::check_keys`).
fn refused(template: Option<&Template>, profile: &Profile, role: RoleName) -> Option<String> {
    let template = template?;
    view::check_keys_with(template, profile, role, true, "-o jsonpath", &[CONTEXT_KEY]).err()
}

/// A template every context's profile refuses is an error (one line, nothing printed); a key
/// that some context's profile has may be missing in the others'.
fn refused_by_all<'a>(mut refusals: impl Iterator<Item = &'a Option<String>>) -> Result<()> {
    let first = refusals.next();
    match first {
        Some(Some(why)) if refusals.all(Option::is_some) => Err(Error::Usage(why.clone())),
        _ => Ok(()),
    }
}

/// `list` (and `get` without a name) of several contexts.
pub async fn list(flags: &KubeFlags, contexts: &[String], role: RoleName, args: &ListArgs) -> Result<()> {
    if args.watch {
        return Err(one_cluster("-w"));
    }
    let template = template(&args.output, args.allow_missing_template_keys)?;
    // A template reads the List of every context's documents: each part gives its documents.
    let mut part_args = args.clone();
    if template.is_some() {
        part_args.output = Some(OutputFormat::Json);
    }
    let results = join_all(
        contexts.iter().map(|c| in_context(c, list_one(flags, c, role, &part_args, template.as_ref()))),
    )
    .await;
    let (parts, failed) = split(contexts, results);
    refused_by_all(parts.iter().map(|(_, p)| &p.refused))?;
    let text = match &args.output {
        None | Some(OutputFormat::Wide) | Some(OutputFormat::CustomColumns(_)) => {
            let headers = parts.first().map(|(_, p)| p.headers.clone()).unwrap_or_default();
            let rows: Vec<Vec<String>> = parts.iter().flat_map(|(_, p)| p.rows.iter().cloned()).collect();
            if rows.is_empty() {
                if !parts.is_empty() {
                    let names: Vec<&str> = parts.iter().map(|(c, _)| c.as_str()).collect();
                    eprintln!("No workloads found in contexts {}.", names.join(", "));
                }
                String::new()
            } else {
                let table = output::table_as_headed(&headers, rows);
                match table.split_once('\n') {
                    Some((_, rows)) if args.no_headers => rows.to_string(),
                    _ => table,
                }
            }
        }
        Some(OutputFormat::Yaml) => {
            let texts: Vec<&str> =
                parts.iter().map(|(_, p)| p.text.as_str()).filter(|t| !t.is_empty()).collect();
            texts.join("---\n")
        }
        Some(OutputFormat::Json) | Some(OutputFormat::JsonPath(_)) => {
            let mut items = Vec::new();
            for (context, part) in &parts {
                match serde_json::from_str::<Value>(&part.text) {
                    Ok(Value::Array(docs)) => items.extend(docs),
                    _ => {
                        return Err(Error::Io(format!(
                            "context \"{context}\": the list printed no JSON array"
                        )));
                    }
                }
            }
            match &template {
                Some(template) => {
                    let count = items.len();
                    let list = json!({"apiVersion": "v1", "kind": "List", "items": items});
                    template
                        .render(&list)
                        .map_err(|e| Error::Usage(format!("the List of {count} objects: {e}")))?
                }
                None => output::json(&Value::Array(items)),
            }
        }
        Some(OutputFormat::Name) => parts.iter().map(|(_, p)| p.text.as_str()).collect(),
        Some(OutputFormat::Apply) => {
            return Err(Error::Usage(
                "-o apply prints the apply body of one object; name it, e.g. deploy/web".into(),
            ));
        }
    };
    output::emit(&text)?;
    failures(failed, !parts.is_empty())
}

/// One context's documents, and why its profile refuses the template, if it does.
type GetPart = (Vec<(String, Value)>, Option<String>);

async fn get_one(
    flags: &KubeFlags,
    context: &str,
    role: RoleName,
    args: &GetArgs,
    template: Option<&Template>,
) -> Result<GetPart> {
    let (cluster, profile) = open(flags, context).await?;
    let refused = refused(template, &profile, role);
    Ok((get::documents(&cluster, &profile, role, args).await?, refused))
}

/// `get TYPE/NAME…` of several contexts: the documents (each with its `context`) as a YAML stream,
/// a JSON `List`, names after their context, or a template over the `List`.
pub async fn get(flags: &KubeFlags, contexts: &[String], role: RoleName, args: &GetArgs) -> Result<()> {
    if args.watch {
        return Err(one_cluster("-w"));
    }
    if args.show_owners {
        return Err(Error::Usage(
            "--show-owners works on one cluster; for several, `kubectl oam owners TYPE/NAME --context a,b`"
                .into(),
        ));
    }
    let template = template(&args.output, args.allow_missing_template_keys)?;
    match (&args.output, args.raw) {
        (_, true) | (Some(OutputFormat::Apply), _) => return Err(one_cluster("--raw (-o apply)")),
        (Some(OutputFormat::Wide), _) | (Some(OutputFormat::CustomColumns(_)), _) => {
            return Err(Error::Usage(format!(
                "tables of several contexts come from `list`: `{}`",
                crate::error::suggest_in(
                    &format!("{role} list --context {} -o wide", contexts.join(",")),
                    flags.namespace.as_deref()
                )
            )));
        }
        _ => {}
    }
    let results =
        join_all(contexts.iter().map(|c| in_context(c, get_one(flags, c, role, args, template.as_ref()))))
            .await;
    let (parts, failed) = split(contexts, results);
    refused_by_all(parts.iter().map(|(_, (_, refused))| refused))?;
    let docs: Vec<Value> = parts
        .iter()
        .flat_map(|(context, (docs, _))| docs.iter().map(move |(_, doc)| with_context(doc.clone(), context)))
        .collect();
    let text = match (&args.output, &template) {
        (_, Some(template)) => {
            let count = docs.len();
            template
                .render(&json!({"apiVersion": "v1", "kind": "List", "items": docs}))
                .map_err(|e| Error::Usage(format!("the List of {count} objects: {e}")))?
        }
        (Some(OutputFormat::Json), _) => {
            output::json(&json!({"apiVersion": "v1", "kind": "List", "items": docs}))
        }
        (Some(OutputFormat::Name), _) => parts
            .iter()
            .flat_map(|(context, (docs, _))| docs.iter().map(move |(name, _)| format!("{context} {name}\n")))
            .collect(),
        _ => {
            let mut texts = Vec::new();
            for doc in &docs {
                texts.push(output::yaml(doc)?);
            }
            texts.join("---\n")
        }
    };
    output::emit(&text)?;
    failures(failed, !parts.is_empty())
}

/// One context's owners: the rows, whether a field is held outside its role, and the line saying
/// which reconciler manages the object there (its suggested commands name that context).
type OwnersPart = (Vec<crate::core::owners::FieldOwners>, bool, Option<String>);

async fn owners_one(flags: &KubeFlags, context: &str, args: &OwnersArgs) -> Result<OwnersPart> {
    let (cluster, profile) = open(flags, context).await?;
    let (target, obj, rows, outside) = owners::read(&cluster, &profile, args).await?;
    Ok((rows, outside, owners::reconciled(&target, &obj)))
}

/// The reconciler lines under the owners table of several contexts, each after its context.
fn reconciled_lines(parts: &[(String, OwnersPart)]) -> String {
    parts
        .iter()
        .filter_map(|(context, (_, _, note))| {
            note.as_ref().map(|note| format!("context \"{context}\": {note}\n"))
        })
        .collect()
}

/// `owners TYPE/NAME` of several contexts: one table with a CONTEXT column, or each row with its
/// `context`. The bool: some field is held outside its role in some context (`--check`).
pub async fn owners(flags: &KubeFlags, contexts: &[String], args: &OwnersArgs) -> Result<bool> {
    let results = join_all(contexts.iter().map(|c| in_context(c, owners_one(flags, c, args)))).await;
    let (parts, failed) = split(contexts, results);
    let outside = parts.iter().any(|(_, (_, outside, _))| *outside);
    let text = match args.output {
        Some(format) => {
            let rows: Vec<Value> = parts
                .iter()
                .flat_map(|(context, (rows, _, _))| {
                    rows.iter()
                        .map(move |row| with_context(serde_json::to_value(row).unwrap_or_default(), context))
                })
                .collect();
            match format {
                DocumentFormat::Json => output::json(&Value::Array(rows)),
                DocumentFormat::Yaml => output::yaml(&Value::Array(rows))?,
            }
        }
        None => {
            let mut headers = vec!["CONTEXT".to_string()];
            headers.extend(owners::HEADERS.iter().map(|h| h.to_uppercase()));
            let rows: Vec<Vec<String>> = parts
                .iter()
                .flat_map(|(context, (rows, _, _))| {
                    owners::table_rows(rows).into_iter().map(move |row| {
                        let mut cells = vec![context.clone()];
                        cells.extend(row);
                        cells
                    })
                })
                .collect();
            match parts.is_empty() {
                true => String::new(),
                false => output::table_as_headed(&headers, rows) + &reconciled_lines(&parts),
            }
        }
    };
    output::emit(&text)?;
    failures(failed, !parts.is_empty())?;
    Ok(outside)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flags(line: &str) -> std::result::Result<KubeFlags, clap::Error> {
        let words: Vec<String> = line.split_whitespace().map(String::from).collect();
        crate::cli::parse_from(&words).map(|cli| cli.kube)
    }

    #[test]
    fn contexts_come_comma_separated_or_repeated_each_once() {
        let several = |line: &str| contexts(&flags(line).unwrap()).unwrap();
        assert_eq!(
            several("kubectl-oam dev list --context east,west --context north"),
            Some(vec!["east".to_string(), "west".into(), "north".into()])
        );
        assert_eq!(several("kubectl-oam dev list --context east"), None, "one context: the usual path");
        assert_eq!(several("kubectl-oam dev list"), None);
        assert_eq!(several("kubectl-oam dev list --context east,east"), None, "named twice is one");
        let err = contexts(&flags("kubectl-oam dev list --context east,").unwrap()).unwrap_err();
        assert!(err.to_string().contains("--context has an empty name"), "{err}");
        assert!(flags("kubectl-oam dev list --context east --all-contexts").is_err());
    }

    #[test]
    fn suggested_commands_name_the_one_context_that_failed() {
        let part = |context: &'static str| {
            in_context(context, async move {
                tokio::task::yield_now().await;
                crate::error::suggest("dev get deploy/web", "shop")
            })
        };
        let said = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(join_all([part("east"), part("west")]));
        assert_eq!(
            said,
            [
                "kubectl oam dev get deploy/web -n shop --context east",
                "kubectl oam dev get deploy/web -n shop --context west"
            ]
        );
        assert_eq!(crate::error::suggest("x", "shop"), "kubectl oam x -n shop", "outside a part: as given");
    }

    #[test]
    fn a_template_key_no_context_has_is_an_error() {
        let profile = Profile::builtin();
        let parse = |text: &str| crate::format::jsonpath::parse(text).unwrap();
        let typo = parse("{range .items[*]}{.context} {.containrs.app.image}{end}");
        let why = refused(Some(&typo), &profile, RoleName::Dev).unwrap();
        assert!(why.contains("has no key \"containrs\""), "{why}");
        let good = parse("{range .items[*]}{.context} {.containers.app.image}{end}");
        assert_eq!(refused(Some(&good), &profile, RoleName::Dev), None, "context is a key of several");
        assert_eq!(refused(None, &profile, RoleName::Dev), None);
        let err = refused_by_all([Some(why.clone()), Some(why.clone())].iter()).unwrap_err();
        assert_eq!(err.to_string(), why);
        assert!(refused_by_all([Some(why.clone()), None].iter()).is_ok(), "a key of one profile");
        assert!(refused_by_all(std::iter::empty()).is_ok(), "no context answered: their errors say why");
    }

    #[test]
    fn the_reconciler_line_names_its_context() {
        let part = |context: &str, note: Option<&str>| {
            (context.to_string(), (vec![], false, note.map(String::from)))
        };
        let parts =
            [part("east", None), part("west", Some("reconciled by Flux Kustomization apps/web (label x)"))];
        assert_eq!(
            reconciled_lines(&parts),
            "context \"west\": reconciled by Flux Kustomization apps/web (label x)\n"
        );
    }

    #[test]
    fn one_usage_error_of_every_context_is_one_line() {
        let usage = |text: &str| Error::Usage(text.into());
        let both =
            vec![("east".to_string(), usage("--sort-by: x")), ("west".to_string(), usage("--sort-by: x"))];
        assert_eq!(failures(both, false).unwrap_err().to_string(), "--sort-by: x");
        let both =
            vec![("east".to_string(), usage("--sort-by: x")), ("west".to_string(), usage("--sort-by: x"))];
        assert!(matches!(failures(both, true), Err(Error::InContext { .. })), "another context printed");
        let other = vec![
            ("east".to_string(), usage("--sort-by: x")),
            ("west".to_string(), Error::Io("unreachable".into())),
        ];
        assert_eq!(failures(other, false).unwrap_err().to_string(), "context \"west\": unreachable");
        assert!(failures(vec![], false).is_ok());
    }

    #[test]
    fn a_context_named_with_a_comma_is_one_context() {
        let kubeconfig = std::env::temp_dir().join(format!("oam-comma-{}.kubeconfig", std::process::id()));
        std::fs::write(
            &kubeconfig,
            "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: {server: 'https://127.0.0.1:1'}\n\
             users:\n- name: u\n  user: {token: t}\ncontexts:\n- name: 'prod,eu'\n  context: {cluster: c, user: u}\n",
        )
        .unwrap();
        let line = |rest: &str| {
            format!("kubectl-oam dev edit deploy/web --kubeconfig {} {rest}", kubeconfig.display())
        };
        let one = flags(&line("--context prod,eu")).unwrap();
        assert_eq!(contexts(&one).unwrap(), None, "the one context of that name, as kubectl reads it");
        assert_eq!(commands::client_options(&one).context.as_deref(), Some("prod,eu"));
        let two = flags(&line("--context prod,us")).unwrap();
        assert_eq!(contexts(&two).unwrap(), Some(vec!["prod".to_string(), "us".into()]));
        std::fs::remove_file(&kubeconfig).ok();
    }

    #[test]
    fn one_context_keeps_the_single_cluster_options() {
        let options =
            commands::client_options(&flags("kubectl-oam dev get deploy/web --context east").unwrap());
        assert_eq!(options.context.as_deref(), Some("east"));
        let one = for_context(&flags("kubectl-oam owners deploy/web --context a,b -n shop").unwrap(), "b");
        assert_eq!((one.context, one.namespace.as_deref()), (vec!["b".to_string()], Some("shop")));
    }
}
