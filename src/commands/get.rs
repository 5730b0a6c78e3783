//! `kubectl oam dev|ops get TYPE/NAME…`: role documents of named objects (a YAML stream, a JSON List,
//! names, the table's rows, a JSONPath template, custom columns, or the exact apply body); with
//! `-w`, each change of them after that, in the same format.

use std::io::Write;

use serde_json::{Value, json};

use crate::cli::{GetArgs, OutputFormat};
use crate::cluster::client::Cluster;
use crate::cluster::fetch;
use crate::cluster::list::WatchQuery;
use crate::commands::list::follow;
use crate::core::owners::{document_path, field_owners, yaml_with_owners};
use crate::core::project::{self, ViewOptions};
use crate::core::rollout::{self, State};
use crate::core::rows::{LabelColumns, Layout, table_rows};
use crate::core::status;
use crate::core::view;
use crate::core::write::{self, Live, Writer};
use crate::error::{Error, Result};
use crate::format::output;
use crate::model::object;
use crate::model::roles::{CONTAINER_LISTS, Profile, RoleName, STATUS_KEY};
use crate::model::target::{Target, parse_target, parse_targets};

/// `get` of several objects, in the order they were named (or `--sort-by`'s): a YAML stream, a
/// JSON `List`, names, one table; a JSONPath template applies to the `List` of their documents, as
/// kubectl applies it.
pub async fn get_several(
    cluster: &Cluster,
    profile: &Profile,
    role: RoleName,
    args: &GetArgs,
) -> Result<String> {
    let words: Vec<String> =
        args.target.target.iter().chain(&args.target.name).chain(&args.more).cloned().collect();
    let targets = parse_targets(profile, &words)?;
    let format = GetFormat::of(profile, role, args, true)?;
    let sort_key = sort_key(args)?;
    // The objects around them: one list per kind of the namespace for all (and one warning).
    let lists = match format.reads_related(profile, role) {
        true => {
            Some(fetch::list_related(cluster, profile, role, &cluster.namespace, fetch::Read::Cached).await?)
        }
        false => None,
    };
    let mut views = Vec::new();
    for (kind, name) in targets {
        let target = Target { kind, name, namespace: cluster.namespace.clone() };
        views.push(read_view(cluster, profile, role, target, args, &format, lists.as_ref()).await?);
    }
    if let Some(key) = sort_key {
        sort_views(&mut views, &key);
    }
    let text = print_views(profile, role, &views, args, &format, true)?;
    watch_views(cluster, profile, role, views, args, &format, text).await
}

/// The objects `get` names. A `get` that names none is a list: `lib.rs` sends it to `list` first.
pub async fn get(cluster: &Cluster, profile: &Profile, role: RoleName, args: &GetArgs) -> Result<String> {
    if !args.more.is_empty() || args.target.name.as_deref().is_some_and(|n| n.contains('/')) {
        return get_several(cluster, profile, role, args).await;
    }
    let Some((kind, Some(name))) =
        parse_target(profile, args.target.target.as_deref(), args.target.name.as_deref())?
    else {
        return Err(Error::Usage("give TYPE/NAME or TYPE NAME, e.g. deploy/web".into()));
    };
    // A bad template or sort key is refused before anything is read.
    let format = GetFormat::of(profile, role, args, false)?;
    sort_key(args)?;
    let target = Target { kind, name, namespace: cluster.namespace.clone() };
    let view = read_view(cluster, profile, role, target, args, &format, None).await?;
    let text = print_views(profile, role, std::slice::from_ref(&view), args, &format, false)?;
    watch_views(cluster, profile, role, vec![view], args, &format, text).await
}

/// `get --local -f FILE…`: the role documents of objects read from files, printed as `get` prints
/// live ones (same projection, same formats). No status, no autoscaler: those live in the cluster.
pub fn print_local(
    profile: &Profile,
    role: RoleName,
    args: &GetArgs,
    objects: Vec<(Target<'_>, Value, crate::core::related::Related)>,
) -> Result<String> {
    if args.watch || args.show_owners || args.raw || args.output == Some(OutputFormat::Apply) {
        return Err(Error::Usage(
            "-w, --show-owners and -o apply (--raw) are about the cluster; they do not go with --local (files)".into(),
        ));
    }
    let several = objects.len() > 1;
    let format = GetFormat::of(profile, role, args, several)?;
    let mut views = Vec::new();
    for (target, object, related) in objects {
        let doc = crate::core::local::view(
            profile,
            role,
            target.kind,
            &object,
            args.container.as_deref(),
            Some(&related),
        );
        views.push(View { live: Live { target, object, autoscaler: None, related: Some(related) }, doc });
    }
    if let Some(key) = sort_key(args)? {
        sort_views(&mut views, &key);
    }
    print_views(profile, role, &views, args, &format, several)
}

/// `-w`: prints what `get` printed, then each change of the named objects as it happens (a watch
/// of each by name), in the same format, until interrupted.
async fn watch_views(
    cluster: &Cluster,
    profile: &Profile,
    role: RoleName,
    views: Vec<View<'_>>,
    args: &GetArgs,
    format: &GetFormat,
    text: String,
) -> Result<String> {
    if !args.watch {
        return Ok(text);
    }
    if matches!(format, GetFormat::Apply) {
        return Err(Error::Usage(
            "-w follows the document as it changes; it does not go with --raw or -o apply".into(),
        ));
    }
    output::emit(&text)?;
    let watches: Vec<(&crate::model::roles::KindInfo, WatchQuery)> = views
        .iter()
        .map(|v| {
            // From now (the object's own version may be older than the server keeps): the watch
            // starts with the object as it is, left out below when that is what was printed.
            let name = Some(v.live.target.name.clone());
            let query =
                WatchQuery { selector: None, field_selector: None, name, all: true, from: String::new() };
            (v.live.target.kind, query)
        })
        .collect();
    let mut printed = !text.is_empty();
    crate::cluster::fetch::flush_warnings();
    follow(cluster, &watches, |kind, obj| {
        let name = obj["metadata"]["name"].as_str().unwrap_or_default();
        let Some(before) =
            views.iter().find(|v| v.live.target.kind.kind == kind.kind && v.live.target.name == name)
        else {
            return Ok(true);
        };
        if obj["metadata"]["resourceVersion"].as_str() == Some(before.live.resource_version()) {
            return Ok(true);
        }
        let live = Live {
            target: before.live.target.clone(),
            object: obj.clone(),
            autoscaler: before.live.autoscaler.clone(),
            related: before.live.related.clone(),
        };
        let view = ViewOptions {
            container: args.container.as_deref(),
            autoscaler: live.autoscaler.as_ref(),
            related: live.related.as_ref(),
        };
        let mut doc = project::document(profile, role, kind, obj, &view);
        status::add_to(&mut doc, &kind.kind, obj);
        let changed = View { live, doc };
        let mut text = print_views(profile, role, std::slice::from_ref(&changed), args, format, false)?;
        match format {
            // The header was printed with the first rows.
            GetFormat::Wide | GetFormat::Columns(_) if !args.no_headers => {
                text = text.split_once('\n').map(|(_, rows)| rows.to_string()).unwrap_or_default();
            }
            GetFormat::Yaml if printed => text.insert_str(0, "---\n"),
            _ => {}
        }
        printed = true;
        // A reader that went away (`| head`) ends the watch.
        let mut out = std::io::stdout().lock();
        Ok(out.write_all(text.as_bytes()).and_then(|_| out.flush()).is_ok())
    })
    .await?;
    Ok(String::new())
}

/// What `get TYPE/NAME…` prints.
enum GetFormat {
    Yaml,
    Json,
    /// The exact server-side apply body (`-o apply`, `--raw`)
    Apply,
    Name,
    /// The list's table, with its wide columns
    Wide,
    JsonPath(crate::format::jsonpath::Template),
    /// `-o custom-columns`: a table of paths of the document
    Columns(Vec<crate::format::jsonpath::columns::Column>),
}

impl GetFormat {
    /// `several`: the objects were named as several (a template then reads their `List`).
    fn of(profile: &Profile, role: RoleName, args: &GetArgs, several: bool) -> Result<GetFormat> {
        if args.field_selector.is_some() {
            return Err(Error::Usage(
                "--field-selector picks objects from a list; give a TYPE without names, e.g. `get deploy --field-selector metadata.name=web`".into(),
            ));
        }
        if args.raw {
            return Ok(GetFormat::Apply);
        }
        Ok(match &args.output {
            None | Some(OutputFormat::Yaml) => GetFormat::Yaml,
            Some(OutputFormat::Json) => GetFormat::Json,
            Some(OutputFormat::Apply) => GetFormat::Apply,
            Some(OutputFormat::Name) => GetFormat::Name,
            Some(OutputFormat::Wide) => GetFormat::Wide,
            Some(OutputFormat::JsonPath(text)) => {
                let template = crate::format::jsonpath::parse(text).map_err(Error::Usage)?;
                let list = several && !args.watch;
                view::check_keys(&template, profile, role, list, "-o jsonpath").map_err(Error::Usage)?;
                GetFormat::JsonPath(if args.allow_missing_template_keys {
                    template.allowing_missing()
                } else {
                    template
                })
            }
            Some(OutputFormat::CustomColumns(spec)) => {
                GetFormat::Columns(view::checked_columns(spec, profile, role).map_err(Error::Usage)?)
            }
        })
    }
}

impl GetFormat {
    /// Does the output show the objects around the workload (its related sections, or
    /// `readOnly`, where the endpoints and claims are)? A template of the workload's own fields
    /// (`{.containers.app.image}`) does not: no list is sent for it.
    fn reads_related(&self, profile: &Profile, role: RoleName) -> bool {
        let definition = profile.role(role);
        let mut keys: Vec<&str> = definition.related.iter().map(|t| t.name.as_str()).collect();
        keys.push(crate::model::roles::READ_ONLY_KEY);
        match self {
            GetFormat::Yaml | GetFormat::Json => true,
            GetFormat::JsonPath(t) => t.may_read(false, &keys) || t.may_read(true, &keys),
            GetFormat::Columns(columns) => columns.iter().any(|c| c.path.may_read(false, &keys)),
            // `-o wide`: the columns of related kinds that select the pods (SVC, PDB), as `list`.
            GetFormat::Wide => !crate::core::related::wide_kinds(profile, role).is_empty(),
            GetFormat::Apply | GetFormat::Name => false,
        }
    }
}

fn sort_key(args: &GetArgs) -> Result<Option<crate::format::jsonpath::Template>> {
    args.sort_by
        .as_deref()
        .filter(|key| !key.trim().is_empty())
        .map(|text| crate::format::jsonpath::parse_sort_key(text).map_err(Error::Usage))
        .transpose()
}

/// One object as `get` shows it: the live object and its role document, status section included.
struct View<'p> {
    live: Live<'p>,
    doc: Value,
}

/// The related kinds' lists of a namespace, read once for several objects (None: none to read).
type RelatedLists = Option<Vec<(String, Vec<Value>)>>;

/// One object's view; `lists`: the related lists already read for several objects (else read here,
/// with the object).
async fn read_view<'p>(
    cluster: &Cluster,
    profile: &Profile,
    role: RoleName,
    target: Target<'p>,
    args: &GetArgs,
    format: &GetFormat,
    lists: Option<&RelatedLists>,
) -> Result<View<'p>> {
    let kind = target.kind;
    // The objects around it (Services, PDBs, claims) only for the formats that print their sections.
    let document =
        matches!(format, GetFormat::Yaml | GetFormat::Json | GetFormat::JsonPath(_) | GetFormat::Columns(_));
    let (obj, hpa, related) = match (format.reads_related(profile, role), lists) {
        (true, None) => fetch::fetch_with_related(cluster, profile, role, &target).await?,
        (true, Some(lists)) => {
            let (obj, hpa) =
                fetch::fetch_with_autoscaler(cluster, profile, role, &target, fetch::Read::Cached).await?;
            let related = lists.as_ref().map(|lists| crate::core::related::find(profile, kind, &obj, lists));
            (obj, hpa, related)
        }
        (false, _) => {
            let (obj, hpa) =
                fetch::fetch_with_autoscaler(cluster, profile, role, &target, fetch::Read::Cached).await?;
            (obj, hpa, None)
        }
    };
    if let Some(only) = &args.container {
        if !object::container_names(&obj, kind).contains(only) {
            return Err(Error::Usage(format!(
                "{} in namespace \"{}\" has no container \"{only}\"; it has {}",
                target.display(),
                target.namespace,
                object::container_names(&obj, kind).join(", ")
            )));
        }
    }
    let view = ViewOptions {
        container: args.container.as_deref(),
        autoscaler: hpa.as_ref(),
        related: related.as_ref(),
    };
    let mut doc = project::document(profile, role, kind, &obj, &view);
    status::add_to(&mut doc, &kind.kind, &obj);
    // The images of ready pods cost a request: only for the formats that print the document.
    if role == RoleName::Dev && document {
        add_ready_pod_images(cluster, &target, args.container.as_deref(), &obj, &mut doc).await;
    }
    Ok(View { live: Live { target, object: obj, autoscaler: hpa, related }, doc })
}

/// `several`: the objects were named as several (a `List` for JSON and JSONPath, as kubectl).
fn print_views(
    profile: &Profile,
    role: RoleName,
    views: &[View<'_>],
    args: &GetArgs,
    format: &GetFormat,
    several: bool,
) -> Result<String> {
    let owners = |view: &View<'_>| {
        args.show_owners.then(|| {
            let mut rows = field_owners(profile, view.live.target.kind, &view.live.object, Some(role));
            if let Some(related) = &view.live.related {
                rows.extend(crate::core::owners::related_field_owners(profile, related, Some(role)));
            }
            if let Some(only) = &args.container {
                // `-c` shows one container; the others' owners are left out with them.
                rows.retain(|row| match document_path(&row.field).as_slice() {
                    [list, name, ..] if CONTAINER_LISTS.contains(&list.as_str()) => name == only,
                    _ => true,
                });
            }
            rows
        })
    };
    let list = |items: Vec<Value>| json!({"apiVersion": "v1", "kind": "List", "items": items});
    match format {
        GetFormat::Apply => {
            let mut texts = Vec::new();
            for view in views {
                // What applying the document unchanged would send: only what the role's manager owns.
                let doc = view.live.document(profile, role, None);
                let writer = Writer::new(profile, role, None, false)?;
                let (_, body) = write::build(profile, &writer, &view.live, &doc)?;
                texts.push(output::yaml(&body)?);
            }
            Ok(texts.join("---\n"))
        }
        GetFormat::Name => Ok(views.iter().map(|v| format!("{}\n", v.live.target.display())).collect()),
        GetFormat::Columns(columns) => {
            let headers: Vec<String> = columns.iter().map(|c| c.header.clone()).collect();
            let rows = views
                .iter()
                .map(|view| {
                    let shown = view::for_templates(&view.doc, &view.live.object);
                    columns.iter().map(|c| c.cell(&shown)).collect()
                })
                .collect();
            let table = output::table_as_headed(&headers, rows);
            match table.split_once('\n') {
                Some((_, rows)) if args.no_headers => Ok(rows.to_string()),
                _ => Ok(table),
            }
        }
        GetFormat::Wide => {
            let labels = LabelColumns { keys: args.label_columns.clone(), show_labels: args.show_labels };
            // The list's layout: `get -o wide` prints the same columns.
            let headers =
                Layout { role, wide: true, all_namespaces: false, with_controller: false }.headers();
            let container_column = headers.iter().position(|h| *h == "container");
            let related_kinds = crate::core::related::wide_kinds(profile, role);
            let mut rows = Vec::new();
            for view in views {
                let live = &view.live;
                let these = table_rows(
                    profile,
                    role,
                    live.target.kind,
                    &live.object,
                    live.autoscaler.as_ref(),
                    true,
                    false,
                );
                let start = rows.len();
                rows.extend(these.into_iter().filter(|row| match (&args.container, container_column) {
                    // Init containers are shown as `NAME (init)` or `NAME (sidecar)`.
                    (Some(only), Some(i)) => row.get(i).is_some_and(|cell| {
                        cell == only || cell.strip_prefix(only.as_str()).is_some_and(|r| r.starts_with(" ("))
                    }),
                    _ => true,
                }));
                let related_cells = crate::core::related::found_cells(&related_kinds, live.related.as_ref());
                let label_cells = labels.cells(live.object["metadata"]["labels"].as_object());
                rows[start..].iter_mut().for_each(|row| {
                    row.extend(related_cells.iter().cloned());
                    row.extend(label_cells.iter().cloned())
                });
            }
            let mut headers: Vec<String> = headers.iter().map(|h| h.to_string()).collect();
            headers.extend(crate::core::related::wide_headers(&related_kinds));
            headers.extend(labels.headers());
            let headers: Vec<&str> = headers.iter().map(String::as_str).collect();
            let table = output::table(&headers, rows);
            match table.split_once('\n') {
                Some((_, rows)) if args.no_headers => Ok(rows.to_string()),
                _ => Ok(table),
            }
        }
        GetFormat::JsonPath(template) => {
            let shown = |v: &View<'_>| view::for_templates(&v.doc, &v.live.object);
            let one = |v: &View<'_>| {
                template.render(&shown(v)).map_err(|e| {
                    format!("{} in namespace \"{}\": {e}", v.live.target.display(), v.live.target.namespace)
                })
            };
            let text = match views {
                // Watching, each document on its own, as kubectl prints each object it watches.
                _ if args.watch => views.iter().map(one).collect(),
                [view] if !several => one(view),
                _ => template
                    .render(&list(views.iter().map(shown).collect()))
                    .map_err(|e| format!("the List of {} objects: {e}", views.len())),
            };
            text.map_err(Error::Usage)
        }
        GetFormat::Json => {
            let one = |view: &View<'_>| match owners(view) {
                Some(owners) => json!({"document": view.doc, "owners": owners}),
                None => view.doc.clone(),
            };
            Ok(match views {
                [view] if !several => output::json(&one(view)),
                _ => output::json(&list(views.iter().map(one).collect())),
            })
        }
        GetFormat::Yaml => {
            let mut texts = Vec::new();
            for view in views {
                texts.push(match owners(view) {
                    Some(owners) => yaml_with_owners(&view.doc, &owners),
                    None => output::yaml(&view.doc)?,
                });
            }
            Ok(texts.join("---\n"))
        }
    }
}

/// The columns of the role's table (`list`), for one object's row: no NAMESPACE, no CONTROLLED BY.
/// Pods read at most to say which images ready pods run (one request).
const POD_LIMIT: u32 = 200;

/// For `dev get` while a rollout is under way (not when it is complete, where every ready pod runs
/// the spec's images): one more request, to show what ready pods really run. A Deployment's
/// ReplicaSets say it (how many ready pods each has, and its template's images): a short list,
/// however many pods the Deployment or its namespace has. Other kinds list their pods, at most
/// POD_LIMIT; a Job's pods run its template, which cannot change. Both are read from the API
/// server's cache, as fresh as the object. Adds `status.readyPodImages` (of container `only`, if
/// given); a failure only leaves it out.
async fn add_ready_pod_images(
    cluster: &Cluster,
    target: &Target<'_>,
    only: Option<&str>,
    obj: &Value,
    doc: &mut Value,
) {
    if matches!(rollout::judge(&target.kind.kind, obj), State::Done(_) | State::NothingToWait(_)) {
        return;
    }
    let Some(labels) = obj["spec"]["selector"]["matchLabels"].as_object().filter(|l| !l.is_empty()) else {
        return;
    };
    let selector: Vec<String> =
        labels.iter().map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default())).collect();
    let (namespace, selector) = (&target.namespace, selector.join(","));
    let version = obj["metadata"]["resourceVersion"].as_str().unwrap_or_default();
    let mut images = match target.kind.kind.as_str() {
        "Job" | "CronJob" => return,
        "Deployment" => {
            let Some(sets) = fetch::replica_sets(cluster, namespace, &selector, version).await else {
                return;
            };
            status::ready_replica_set_images(target.kind, obj, &sets)
        }
        _ => {
            let Some(pods) = fetch::pods(cluster, namespace, &selector, POD_LIMIT, Some(version)).await
            else {
                return;
            };
            status::ready_pod_images(target.kind, obj, &pods)
        }
    };
    images.retain(|name, _| only.is_none_or(|only| only == name));
    if let (false, Some(status)) = (images.is_empty(), doc.get_mut(STATUS_KEY).and_then(Value::as_object_mut))
    {
        status.insert("readyPodImages".into(), Value::Object(images));
    }
}

/// The role documents `get TYPE/NAME…` names, status included, for a view of several contexts
/// (`commands::fleet`): each object's name as `get -o name` prints it, and its document.
pub async fn documents(
    cluster: &Cluster,
    profile: &Profile,
    role: RoleName,
    args: &GetArgs,
) -> Result<Vec<(String, Value)>> {
    let words: Vec<String> =
        args.target.target.iter().chain(&args.target.name).chain(&args.more).cloned().collect();
    let mut docs = Vec::new();
    for (kind, name) in parse_targets(profile, &words)? {
        let target = Target { kind, name, namespace: cluster.namespace.clone() };
        let view = read_view(cluster, profile, role, target, args, &GetFormat::Yaml, None).await?;
        docs.push((view.live.target.display(), view.doc));
    }
    Ok(docs)
}

/// `--sort-by`: the views in the order of the key's values (kubectl's order of values).
fn sort_views(views: &mut [View<'_>], key: &crate::format::jsonpath::Template) {
    let now = k8s_openapi::jiff::Timestamp::now();
    let value = |v: &View<'_>| {
        view::sort_value(key, &view::for_templates(&v.doc, &v.live.object), &v.live.object, now)
    };
    views.sort_by(|a, b| {
        crate::format::jsonpath::sort_order(
            &value(a).iter().collect::<Vec<_>>(),
            &value(b).iter().collect::<Vec<_>>(),
        )
    });
}
