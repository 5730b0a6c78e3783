//! Read commands: `get`, `list`, `owners`, `roles`.

use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
use kube::api::{Api, ApiResource, DynamicObject, ListParams};
use serde_json::{Value, json};

use crate::cli::{DocumentFormat, GetArgs, OutputFormat, OwnersArgs, RolesArgs, TargetArgs};
use crate::cluster::client::{Action, Cluster};
use crate::cluster::transport::request_line;
use crate::core::owners::{FieldOwners, field_owners};
use crate::core::project::{self, Autoscaler, ViewOptions};
use crate::core::rows::table_rows;
use crate::error::{Error, Result};
use crate::format::output;
use crate::model::roles::{KindInfo, Profile, RoleName};

/// Page size for the HPA list: large namespaces come in pages, never one huge response.
const PAGE_SIZE: u32 = 500;

/// A workload named on the command line.
#[derive(Debug, Clone)]
pub struct Target<'p> {
    pub kind: &'p KindInfo,
    pub name: String,
    pub namespace: String,
}

impl Target<'_> {
    pub fn action(&self) -> Action<'_> {
        Action { kind: &self.kind.kind, name: &self.name, namespace: &self.namespace }
    }

    /// kubectl's spelling: deployment.apps/web
    pub fn display(&self) -> String {
        format!("{}/{}", self.kind.display_resource(), self.name)
    }
}

/// `TYPE/NAME`, `TYPE NAME`, or just `TYPE` (a list: the name is None).
pub fn parse_target<'p>(
    profile: &'p Profile,
    args: &TargetArgs,
) -> Result<Option<(&'p KindInfo, Option<String>)>> {
    let Some(first) = &args.target else {
        return Ok(None);
    };
    let (kind, name) = match first.split_once('/') {
        Some((kind, name)) => {
            if args.name.is_some() {
                return Err(Error::Usage(format!(
                    "give either TYPE/NAME or TYPE NAME, not both (\"{first}\" and \"{}\")",
                    args.name.as_deref().unwrap_or_default()
                )));
            }
            (kind, Some(name.to_string()))
        }
        None => (first.as_str(), args.name.clone()),
    };
    if name.as_deref() == Some("") {
        return Err(Error::Usage(format!("\"{first}\" names no object; use TYPE/NAME, e.g. deploy/web")));
    }
    let kind = profile.kind(kind)?;
    if let Some(name) = &name {
        crate::cluster::client::check_name(&kind.kind, name)?;
    }
    Ok(Some((kind, name)))
}

/// Like `parse_target` but a name is required. `words` are the command's other arguments: after a
/// TYPE without `/`, the first of them is the NAME (as kubectl reads `scale deploy web`); the rest
/// are returned.
pub fn require_target<'p, 'w>(
    profile: &'p Profile,
    cluster: &Cluster,
    text: &str,
    words: &'w [String],
) -> Result<(Target<'p>, &'w [String])> {
    let (name, rest) = match (text.contains('/'), words.split_first()) {
        (false, Some((name, rest))) => (Some(name.clone()), rest),
        _ => (None, words),
    };
    let args = TargetArgs { target: Some(text.to_string()), name };
    match parse_target(profile, &args)? {
        Some((kind, Some(name))) => Ok((Target { kind, name, namespace: cluster.namespace.clone() }, rest)),
        _ => Err(Error::Usage(format!("\"{text}\" is not TYPE/NAME or TYPE NAME, e.g. deploy/web"))),
    }
}

/// The objects `get` names: `TYPE/NAME…` (any types), or `TYPE NAME…`, as kubectl takes them.
pub fn parse_targets<'p>(profile: &'p Profile, words: &[String]) -> Result<Vec<(&'p KindInfo, String)>> {
    let Some((first, rest)) = words.split_first() else { return Ok(Vec::new()) };
    if first.contains('/') {
        let mut out = Vec::new();
        for word in words {
            if !word.contains('/') {
                return Err(Error::Usage(format!(
                    "\"{word}\" is not TYPE/NAME; after {first}, name every object as TYPE/NAME (or give TYPE NAME NAME…)"
                )));
            }
            let args = TargetArgs { target: Some(word.clone()), name: None };
            if let Some((kind, Some(name))) = parse_target(profile, &args)? {
                out.push((kind, name));
            }
        }
        return Ok(out);
    }
    let mut out = Vec::new();
    for name in rest {
        if name.contains('/') {
            return Err(Error::Usage(format!(
                "\"{name}\" follows the type \"{first}\", so it must be a NAME; give TYPE NAME NAME… or TYPE/NAME TYPE/NAME…"
            )));
        }
        let args = TargetArgs { target: Some(first.clone()), name: Some(name.clone()) };
        if let Some((kind, Some(name))) = parse_target(profile, &args)? {
            out.push((kind, name));
        }
    }
    Ok(out)
}

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
    let format = GetFormat::of(args)?;
    let sort_key = sort_key(args)?;
    let mut views = Vec::new();
    for (kind, name) in targets {
        let target = Target { kind, name, namespace: cluster.namespace.clone() };
        views.push(read_view(cluster, profile, role, target, args, &format).await?);
    }
    if let Some(key) = sort_key {
        views.sort_by(|a, b| crate::format::jsonpath::sort_order(&key.values(&a.doc), &key.values(&b.doc)));
    }
    print_views(profile, role, &views, args, &format, true)
}

pub fn api_resource(kind: &KindInfo) -> ApiResource {
    ApiResource {
        group: kind.group().to_string(),
        version: kind.version().to_string(),
        api_version: kind.api_version.clone(),
        kind: kind.kind.clone(),
        plural: kind.resource.clone(),
    }
}

pub fn workload_api(cluster: &Cluster, kind: &KindInfo, namespace: Option<&str>) -> Api<DynamicObject> {
    let resource = api_resource(kind);
    match namespace {
        Some(ns) => Api::namespaced_with(cluster.client.clone(), ns, &resource),
        None => Api::all_with(cluster.client.clone(), &resource),
    }
}

/// One GET of the object, as JSON. No discovery: the kind table gives the URL.
pub async fn fetch(cluster: &Cluster, target: &Target<'_>) -> Result<Value> {
    let api = workload_api(cluster, target.kind, Some(&target.namespace));
    let request = kube::core::Request::new(api.resource_url())
        .get(&target.name, &Default::default())
        .map_err(|e| Error::Invalid(format!("cannot build the request for {}: {e}", target.display())))?;
    let line = request_line(&request);
    // Straight into JSON: the views work on JSON, and a typed detour costs a second conversion.
    let text = cluster.client.request_text(request).await.map_err(|e| cluster.error(e, &target.action()))?;
    let obj = parse_answer(&text).map_err(|e| cluster.bad_answer(format!("{line} with {e}")))?;
    checked_object(obj, target.kind, Some(&target.name))
        .map_err(|e| cluster.bad_answer(format!("{line} with {e}")))
}

/// A server's answer as JSON; the error says what is wrong with it.
fn parse_answer(text: &str) -> std::result::Result<Value, String> {
    serde_json::from_str(text).map_err(|e| format!("malformed JSON ({e})"))
}

/// What a JSON value is, for messages: "a JSON array".
fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "JSON null",
        Value::Bool(_) => "a JSON boolean",
        Value::Number(_) => "a JSON number",
        Value::String(_) => "a JSON string",
        Value::Array(_) => "a JSON array",
        Value::Object(_) => "a JSON object",
    }
}

/// The server's answer as an object of `kind` (named `name`), with apiVersion and kind set: list
/// items come without them. Anything else (another kind, an array, no metadata) is an error saying
/// what came instead, so that nothing downstream works on a value of the wrong shape.
pub fn checked_object(
    mut value: Value,
    kind: &KindInfo,
    name: Option<&str>,
) -> std::result::Result<Value, String> {
    let Some(map) = value.as_object_mut() else {
        return Err(format!("{}, not a JSON object", json_type(&value)));
    };
    for (key, expected) in [("kind", &kind.kind), ("apiVersion", &kind.api_version)] {
        match map.get(key) {
            None | Some(Value::Null) => {}
            Some(Value::String(found)) if found == expected => {}
            Some(Value::String(found)) => return Err(format!("{key} {found}, not {expected}")),
            Some(other) => return Err(format!("{} as {key}, not {expected}", json_type(other))),
        }
    }
    let found_name = match map.get("metadata") {
        Some(Value::Object(meta)) => meta.get("name").and_then(Value::as_str),
        Some(other) => return Err(format!("{} as metadata, not an object", json_type(other))),
        None => return Err(format!("a {} without metadata", kind.kind)),
    };
    match (found_name, name) {
        (None, _) => return Err(format!("a {} without metadata.name", kind.kind)),
        (Some(found), Some(expected)) if found != expected => {
            return Err(format!("{} \"{found}\", not \"{expected}\"", kind.kind));
        }
        _ => {}
    }
    map.insert("apiVersion".into(), json!(kind.api_version));
    map.insert("kind".into(), json!(kind.kind));
    Ok(value)
}

/// The object a server-side apply answered with. After a real (not dry-run) write, an answer of the
/// wrong shape still means the server took the request: the write may have been applied.
pub fn applied_object(
    cluster: &Cluster,
    target: &Target<'_>,
    role: RoleName,
    dry_run: bool,
    answer: DynamicObject,
) -> Result<Value> {
    let value = serde_json::to_value(answer).unwrap_or(Value::Null);
    checked_object(value, target.kind, Some(&target.name)).map_err(|e| {
        let what = format!("the apply of {} with {e}", target.display());
        if dry_run {
            cluster.bad_answer(what)
        } else {
            cluster.maybe_applied(
                &target.action(),
                role.as_str(),
                format!("the server at {} answered {what}", cluster.server),
            )
        }
    })
}

/// One page of a list (`list_kind`, e.g. DeploymentList): its items and the continue token.
pub(crate) fn parse_page(
    text: &str,
    list_kind: &str,
) -> std::result::Result<(Vec<Value>, Option<String>), String> {
    let mut page = parse_answer(text)?;
    let Some(map) = page.as_object_mut() else {
        return Err(format!("{}, not a JSON object", json_type(&page)));
    };
    match map.get("kind") {
        None | Some(Value::Null) => {}
        Some(Value::String(found)) if found == list_kind => {}
        Some(Value::String(found)) => return Err(format!("kind {found}, not {list_kind}")),
        Some(other) => return Err(format!("{} as kind, not {list_kind}", json_type(other))),
    }
    let token = map
        .get("metadata")
        .and_then(|m| m.get("continue"))
        .and_then(Value::as_str)
        .filter(|c| !c.is_empty())
        .map(str::to_string);
    match map.remove("items") {
        Some(Value::Array(items)) => Ok((items, token)),
        None | Some(Value::Null) => Ok((Vec::new(), token)),
        Some(other) => Err(format!("{} as items, not a list", json_type(&other))),
    }
}

/// GETs one page of a list; kube errors are left to the caller (some statuses mean something).
async fn get_page(
    cluster: &Cluster,
    url: &str,
    params: &ListParams,
    list_kind: &str,
) -> std::result::Result<Result<(Vec<Value>, Option<String>)>, kube::Error> {
    let request = match kube::core::Request::new(url).list(params) {
        Ok(request) => request,
        Err(e) => return Ok(Err(Error::Invalid(format!("cannot build the list request: {e}")))),
    };
    let line = request_line(&request);
    let text = cluster.client.request_text(request).await?;
    Ok(parse_page(&text, list_kind).map_err(|e| cluster.bad_answer(format!("{line} with {e}"))))
}

/// The namespace's HPAs as JSON; a user who may not list them gets the view without autoscaler.
pub async fn list_autoscalers(cluster: &Cluster, namespace: Option<&str>) -> Result<Vec<Value>> {
    let api: Api<HorizontalPodAutoscaler> = match namespace {
        Some(ns) => Api::namespaced(cluster.client.clone(), ns),
        None => Api::all(cluster.client.clone()),
    };
    let mut out = Vec::new();
    let mut params = ListParams::default().limit(PAGE_SIZE);
    loop {
        match get_page(cluster, api.resource_url(), &params, "HorizontalPodAutoscalerList").await {
            Ok(page) => {
                let (items, token) = page?;
                out.extend(items.into_iter().filter(Value::is_object));
                match token {
                    Some(token) => params = params.continue_token(&token),
                    None => return Ok(out),
                }
            }
            Err(kube::Error::Api(status)) if status.code == 403 => {
                eprintln!(
                    "warning: may not list horizontalpodautoscalers; the autoscaler trait is not shown"
                );
                return Ok(Vec::new());
            }
            Err(err) => return Err(cluster.transport_error(err)),
        }
    }
}

/// The object and, for roles with autoscaled fields, the HPA that targets it: both requests at once.
pub async fn fetch_with_autoscaler(
    cluster: &Cluster,
    profile: &Profile,
    role: RoleName,
    target: &Target<'_>,
) -> Result<(Value, Option<Autoscaler>)> {
    let wants_hpa = profile
        .role(role)
        .object_traits(&target.kind.kind)
        .any(|(_, fields)| fields.iter().any(|f| f.autoscaled));
    if !wants_hpa {
        return Ok((fetch(cluster, target).await?, None));
    }
    let (obj, hpas) =
        tokio::join!(fetch(cluster, target), list_autoscalers(cluster, Some(&target.namespace)));
    let obj = obj?;
    let hpa = Autoscaler::targeting(&hpas?, target.kind, &obj);
    Ok((obj, hpa))
}

pub async fn get(cluster: &Cluster, profile: &Profile, role: RoleName, args: &GetArgs) -> Result<String> {
    if !args.more.is_empty() || args.target.name.as_deref().is_some_and(|n| n.contains('/')) {
        return get_several(cluster, profile, role, args).await;
    }
    // No name: the list `get` stands for (the same one `kubectl oam get` dispatches to).
    if let Some(list) = crate::commands::list::list_of_get(profile, args)? {
        return crate::commands::list::list_text(cluster, profile, role, &list).await;
    }
    let Some((kind, Some(name))) = parse_target(profile, &args.target)? else {
        return Err(Error::Usage("give TYPE/NAME or TYPE NAME, e.g. deploy/web".into()));
    };
    // A bad template or sort key is refused before anything is read.
    let format = GetFormat::of(args)?;
    sort_key(args)?;
    let target = Target { kind, name, namespace: cluster.namespace.clone() };
    let view = read_view(cluster, profile, role, target, args, &format).await?;
    print_views(profile, role, std::slice::from_ref(&view), args, &format, false)
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
}

impl GetFormat {
    fn of(args: &GetArgs) -> Result<GetFormat> {
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
                GetFormat::JsonPath(if args.allow_missing_template_keys {
                    template.allowing_missing()
                } else {
                    template
                })
            }
        })
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
    live: crate::commands::apply::Live<'p>,
    doc: Value,
}

async fn read_view<'p>(
    cluster: &Cluster,
    profile: &Profile,
    role: RoleName,
    target: Target<'p>,
    args: &GetArgs,
    format: &GetFormat,
) -> Result<View<'p>> {
    let kind = target.kind;
    let (obj, hpa) = fetch_with_autoscaler(cluster, profile, role, &target).await?;
    if let Some(only) = &args.container {
        if !container_names(&obj, kind).contains(only) {
            return Err(Error::Usage(format!(
                "{} in namespace \"{}\" has no container \"{only}\"; it has {}",
                target.display(),
                target.namespace,
                container_names(&obj, kind).join(", ")
            )));
        }
    }
    let view = ViewOptions { container: args.container.as_deref(), autoscaler: hpa.as_ref() };
    let mut doc = project::document(profile, role, kind, &obj, &view);
    crate::core::status::add_to(&mut doc, &kind.kind, &obj);
    // The images of ready pods cost a request: only for the formats that print the document.
    if role == RoleName::Dev && matches!(format, GetFormat::Yaml | GetFormat::Json | GetFormat::JsonPath(_)) {
        crate::core::status::add_ready_pod_images(
            cluster,
            &target,
            args.container.as_deref(),
            &obj,
            &mut doc,
        )
        .await;
    }
    Ok(View { live: crate::commands::apply::Live { target, object: obj, autoscaler: hpa }, doc })
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
            if let Some(only) = &args.container {
                // `-c` shows one container; the others' owners are left out with them.
                rows.retain(|row| match document_path(&row.field).as_slice() {
                    [list, name, ..] if crate::model::roles::CONTAINER_LISTS.contains(&list.as_str()) => {
                        name == only
                    }
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
                let writer = crate::commands::apply::Writer::new(profile, role, None, false)?;
                let (_, body) = crate::commands::apply::build(profile, &writer, &view.live, &doc)?;
                texts.push(output::yaml(&body)?);
            }
            Ok(texts.join("---\n"))
        }
        GetFormat::Name => Ok(views.iter().map(|v| format!("{}\n", v.live.target.display())).collect()),
        GetFormat::Wide => {
            let headers = table_headers(role, true);
            let container_column = headers.iter().position(|h| *h == "container");
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
                rows.extend(these.into_iter().filter(|row| match (&args.container, container_column) {
                    // Init containers are shown as `NAME (init)` or `NAME (sidecar)`.
                    (Some(only), Some(i)) => row.get(i).is_some_and(|cell| {
                        cell == only || cell.strip_prefix(only.as_str()).is_some_and(|r| r.starts_with(" ("))
                    }),
                    _ => true,
                }));
            }
            let table = output::table(&headers, rows);
            match table.split_once('\n') {
                Some((_, rows)) if args.no_headers => Ok(rows.to_string()),
                _ => Ok(table),
            }
        }
        GetFormat::JsonPath(template) => {
            let text = match views {
                [one] if !several => template.render(&one.doc).map_err(|e| {
                    format!(
                        "{} in namespace \"{}\": {e}",
                        one.live.target.display(),
                        one.live.target.namespace
                    )
                }),
                _ => template
                    .render(&list(views.iter().map(|v| v.doc.clone()).collect()))
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
fn table_headers(role: RoleName, wide: bool) -> Vec<&'static str> {
    let mut headers = vec!["name", "kind", "ready", "up-to-date", "available"];
    headers.extend(match role {
        RoleName::Dev => ["container", "image", "ports", "cpu", "memory", "age"].as_slice(),
        RoleName::Ops => ["replicas", "strategy", "placement", "age"].as_slice(),
    });
    if wide {
        headers.extend(match role {
            RoleName::Dev => ["command", "env"],
            RoleName::Ops => ["labels", "autoscaler"],
        });
    }
    headers
}

/// App and init containers (their names are unique within a pod).
pub fn container_names(obj: &Value, kind: &KindInfo) -> Vec<String> {
    project::all_containers(obj, kind).iter().map(|(_, c)| project::container_name(c).to_string()).collect()
}

/// The document as YAML with each field's owners as a comment at the end of its line (for a map or
/// list, of its key's line): `image: nginx:1  # kubectl-oam-dev (Apply), helm (Update)`. Comments
/// are ignored when the document is applied. Owned fields the document does not show follow at
/// the end.
pub fn yaml_with_owners(doc: &Value, owners: &[FieldOwners]) -> String {
    let mut comments = std::collections::BTreeMap::new();
    let mut not_shown = String::new();
    for row in owners {
        let holders: Vec<String> = row
            .managers
            .iter()
            .map(|h| {
                let mut how = h.operation.clone();
                if !h.subresource.is_empty() {
                    how.push_str(&format!(" /{}", h.subresource));
                }
                if row.outside_role.contains(&h.manager) {
                    how.push_str(&format!(", outside {}", row.role));
                }
                format!("{} ({how})", h.manager)
            })
            .collect();
        let holders = holders.join(", ");
        let path = document_path(&row.field);
        if project::get_path(doc, &path).is_some() {
            comments.insert(path, holders);
        } else {
            not_shown.push_str(&format!("#   {}: {holders}\n", row.field));
        }
    }
    let mut text = String::from("# field managers (from managedFields) follow each field\n");
    text.push_str(&crate::format::yaml::to_string_with_comments(doc, &comments));
    if !not_shown.is_empty() {
        text.push_str("# owned fields not shown here:\n");
        text.push_str(&not_shown);
    }
    text
}

/// The keys of an owners row's field in the role document: `containers.app.image` is
/// containers → app → image (container names have no dots), `scaler.replicas` scaler → replicas.
fn document_path(field: &str) -> Vec<String> {
    let container_list = crate::model::roles::CONTAINER_LISTS
        .iter()
        .any(|list| field.strip_prefix(list).is_some_and(|rest| rest.starts_with('.')));
    field.splitn(if container_list { 3 } else { 2 }, '.').map(str::to_string).collect()
}

/// The owners table (or JSON/YAML), and whether any role field is held outside its role.
pub async fn owners(cluster: &Cluster, profile: &Profile, args: &OwnersArgs) -> Result<(String, bool)> {
    let Some((kind, Some(name))) = parse_target(profile, &args.target)? else {
        return Err(Error::Usage("owners needs TYPE/NAME, e.g. kubectl oam owners deploy/web".into()));
    };
    let target = Target { kind, name, namespace: cluster.namespace.clone() };
    let obj = fetch(cluster, &target).await?;
    let rows = field_owners(profile, kind, &obj, None);
    let outside = rows.iter().any(|r| !r.outside_role.is_empty());
    match args.output {
        Some(DocumentFormat::Json) => {
            return Ok((output::json(&serde_json::to_value(&rows).unwrap_or_default()), outside));
        }
        Some(DocumentFormat::Yaml) => {
            return Ok((output::yaml(&serde_json::to_value(&rows).unwrap_or_default())?, outside));
        }
        _ => {}
    }
    let mut table = Vec::new();
    for row in &rows {
        for (i, h) in row.managers.iter().enumerate() {
            let note = if row.outside_role.contains(&h.manager) {
                match &h.role {
                    Some(r) => format!("held by {r}, outside {}", row.role),
                    None => format!("outside {}", row.role),
                }
            } else {
                String::new()
            };
            let operation = if h.subresource.is_empty() {
                h.operation.clone()
            } else {
                format!("{} ({})", h.operation, h.subresource)
            };
            table.push(vec![
                if i == 0 { row.field.clone() } else { String::new() },
                if i == 0 { row.role.clone() } else { String::new() },
                h.manager.clone(),
                h.role.clone().unwrap_or_else(|| "-".into()),
                operation,
                if h.time.is_empty() { "-".into() } else { h.time.clone() },
                note,
            ]);
        }
    }
    Ok((output::table(&["field", "role", "manager", "as", "operation", "time", "note"], table), outside))
}

/// `origin`: where the profile came from and how old it is, one line.
pub fn roles(profile: &Profile, origin: &str, args: &RolesArgs) -> Result<String> {
    match args.output {
        Some(DocumentFormat::Yaml) => return Ok(profile.text.clone()),
        Some(DocumentFormat::Json) => {
            let value = crate::format::yaml::parse_one(&profile.text, &crate::format::yaml::PROFILE_LIMITS)
                .map_err(|e| Error::Invalid(format!("role profile {}: {e}", profile.source)))?
                .value;
            return Ok(output::json(&value));
        }
        _ => {}
    }
    let mut rows = Vec::new();
    for role in &profile.roles {
        for t in &role.traits {
            for f in &t.fields {
                rows.push(vec![
                    role.name.to_string(),
                    role.manager.clone(),
                    t.name.clone(),
                    f.name.clone(),
                    f.path.to_string(),
                    f.kinds.as_ref().map_or("all".into(), |k| k.join(",")),
                    if f.autoscaled {
                        "held by an HPA that targets the workload".into()
                    } else {
                        String::new()
                    },
                ]);
            }
        }
        for f in &role.read_only {
            rows.push(vec![
                role.name.to_string(),
                role.manager.clone(),
                "readOnly".into(),
                f.name.clone(),
                f.path.to_string(),
                f.kinds.as_ref().map_or("all".into(), |k| k.join(",")),
                f.reason.clone().unwrap_or_default(),
            ]);
        }
    }
    let mut text = format!("Role profile: {origin}\n");
    text.push_str(&output::table(&["role", "manager", "trait", "field", "path", "kinds", "note"], rows));
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> Value {
        let path =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("tests/fixtures/{name}.yaml"));
        serde_yaml::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    }

    /// Every path of `value`, as keys and indexes from the root.
    fn paths(value: &Value, at: Vec<Value>, out: &mut Vec<Vec<Value>>) {
        out.push(at.clone());
        match value {
            Value::Object(m) => m.iter().for_each(|(k, v)| {
                let mut next = at.clone();
                next.push(json!(k));
                paths(v, next, out)
            }),
            Value::Array(a) => a.iter().enumerate().for_each(|(i, v)| {
                let mut next = at.clone();
                next.push(json!(i));
                paths(v, next, out)
            }),
            _ => {}
        }
    }

    fn replace(value: &mut Value, path: &[Value], new: Value) {
        let mut node = value;
        for step in path {
            node = match step {
                Value::String(k) => &mut node[k.as_str()],
                _ => &mut node[step.as_u64().unwrap() as usize],
            };
        }
        *node = new;
    }

    /// Everything a command derives from a server object, for each role.
    fn derive_all(profile: &Profile, kind: &KindInfo, obj: &Value, hpas: &[Value]) {
        let hpa = Autoscaler::targeting(hpas, kind, obj);
        for role in RoleName::ALL {
            let view = ViewOptions { container: Some("app"), autoscaler: hpa.as_ref() };
            let doc = project::document(profile, role, kind, obj, &view);
            let live = crate::commands::apply::Live {
                target: Target { kind, name: "web".into(), namespace: "shop".into() },
                object: obj.clone(),
                autoscaler: hpa.clone(),
            };
            let writer = crate::commands::apply::Writer::new(profile, role, None, true).unwrap();
            for doc in [doc.clone(), crate::commands::apply::without_base(doc.clone())] {
                if let Ok((plan, body)) = crate::commands::apply::build(profile, &writer, &live, &doc) {
                    let _ = project::differing_paths(obj, &body);
                    let _ = crate::core::ownership::write_patch(obj, &plan.send, &plan.send);
                }
                if let (Ok(Some((plan, _))), Some(hpa)) =
                    (crate::core::hpa::build(profile, &writer, &live, &doc), &hpa)
                {
                    let _ = crate::core::ownership::write_patch(&hpa.object, &plan.send, &plan.send);
                    let _ = crate::core::hpa::outside_section(&hpa.object);
                }
            }
            let layout =
                crate::core::rows::Layout { role, wide: true, all_namespaces: true, with_controller: true };
            let now = k8s_openapi::jiff::Timestamp::now();
            let _ = crate::core::rows::value_rows(profile, &layout, kind, obj, hpa.as_ref(), now);
        }
        let outside = project::without_role_fields(profile, RoleName::Dev, kind, obj);
        let _ = project::without_tool_keys(profile, kind, &outside);
        let doc = project::document(profile, RoleName::Dev, kind, obj, &ViewOptions::default());
        let _ = yaml_with_owners(&doc, &field_owners(profile, kind, obj, None));
    }

    /// A server may answer with any shape below the top level (the top level is checked when the
    /// answer arrives): no value anywhere in the object or the HPA may make a command panic.
    #[test]
    fn server_objects_of_any_shape_never_panic() {
        let profile = Profile::builtin();
        // A number or a boolean fails the same checks a string does.
        let replacements = [json!(null), json!([1, "x"]), json!("x"), json!({})];
        let hpa = fixture("hpa-shop");
        let mut panics = Vec::new();
        for name in ["sidecars", "cj"] {
            let obj = fixture(name);
            let kind = profile.kind(obj["kind"].as_str().unwrap()).unwrap();
            let mut all = Vec::new();
            paths(&obj, Vec::new(), &mut all);
            for path in all.iter().filter(|p| !p.is_empty()) {
                for new in &replacements {
                    let mut changed = obj.clone();
                    replace(&mut changed, path, new.clone());
                    let outcome = std::panic::catch_unwind(|| {
                        derive_all(&profile, kind, &changed, std::slice::from_ref(&hpa))
                    });
                    if outcome.is_err() {
                        panics.push(format!("{name} {path:?} = {new}"));
                    }
                }
            }
        }
        let deploy = fixture("sidecars");
        let kind = profile.kind("deploy").unwrap();
        let mut hpa_paths = Vec::new();
        paths(&hpa, Vec::new(), &mut hpa_paths);
        for path in hpa_paths.iter().filter(|p| !p.is_empty()) {
            for new in &replacements {
                let mut changed = hpa.clone();
                replace(&mut changed, path, new.clone());
                let outcome = std::panic::catch_unwind(|| {
                    derive_all(&profile, kind, &deploy, std::slice::from_ref(&changed))
                });
                if outcome.is_err() {
                    panics.push(format!("hpa {path:?} = {new}"));
                }
            }
        }
        assert!(panics.is_empty(), "{} panics, e.g. {:#?}", panics.len(), &panics[..panics.len().min(20)]);
    }

    #[test]
    fn answers_of_the_wrong_shape_are_named() {
        let p = Profile::builtin();
        let deploy = p.kind("deploy").unwrap();
        let ok = json!({"metadata": {"name": "web"}, "spec": {}});
        let typed = checked_object(ok.clone(), deploy, Some("web")).unwrap();
        assert_eq!(
            (typed["kind"].as_str(), typed["apiVersion"].as_str()),
            (Some("Deployment"), Some("apps/v1"))
        );
        for (value, name, expect) in [
            (json!([ok.clone()]), Some("web"), "a JSON array, not a JSON object"),
            (json!("web"), Some("web"), "a JSON string, not a JSON object"),
            (json!(null), Some("web"), "JSON null, not a JSON object"),
            (json!({"kind": "Pod", "metadata": {"name": "web"}}), Some("web"), "kind Pod, not Deployment"),
            (
                json!({"apiVersion": "v1", "metadata": {"name": "web"}}),
                Some("web"),
                "apiVersion v1, not apps/v1",
            ),
            (json!({"kind": 3, "metadata": {"name": "web"}}), Some("web"), "a JSON number as kind"),
            (json!({"metadata": "web"}), Some("web"), "a JSON string as metadata"),
            (json!({"spec": {}}), None, "a Deployment without metadata"),
            (json!({"metadata": {}}), None, "without metadata.name"),
            (json!({"metadata": {"name": "other"}}), Some("web"), "Deployment \"other\", not \"web\""),
        ] {
            let err = checked_object(value.clone(), deploy, name).unwrap_err();
            assert!(err.contains(expect), "{value}: {err}");
        }
        let page = |text: &str| parse_page(text, "DeploymentList");
        assert_eq!(
            page(r#"{"kind": "DeploymentList", "items": [1], "metadata": {"continue": "t"}}"#).unwrap(),
            (vec![json!(1)], Some("t".into()))
        );
        assert_eq!(page(r#"{"items": null, "metadata": {"continue": ""}}"#).unwrap(), (vec![], None));
        for (text, expect) in [
            ("[]", "a JSON array, not a JSON object"),
            (r#"{"kind": "PodList", "items": []}"#, "kind PodList, not DeploymentList"),
            (r#"{"items": {}}"#, "a JSON object as items"),
            (r#"{"items": [1, 2"#, "malformed JSON"),
        ] {
            let err = page(text).unwrap_err();
            assert!(err.contains(expect), "{text}: {err}");
        }
    }

    fn args(target: Option<&str>, name: Option<&str>) -> TargetArgs {
        TargetArgs { target: target.map(str::to_string), name: name.map(str::to_string) }
    }

    #[test]
    fn targets_parse_in_both_forms() {
        let p = Profile::builtin();
        let cases = [
            (args(Some("deploy/web"), None), Some(("Deployment", Some("web")))),
            (args(Some("sts"), Some("db")), Some(("StatefulSet", Some("db")))),
            (args(Some("cj"), None), Some(("CronJob", None))),
            (args(None, None), None),
        ];
        for (a, expect) in cases {
            let got = parse_target(&p, &a).unwrap().map(|(k, n)| (k.kind.clone(), n));
            let expect = expect.map(|(k, n)| (k.to_string(), n.map(str::to_string)));
            assert_eq!(got, expect, "{a:?}");
        }
        assert!(matches!(parse_target(&p, &args(Some("pod/x"), None)), Err(Error::UnknownKind(_))));
        assert!(matches!(parse_target(&p, &args(Some("deploy/"), None)), Err(Error::Usage(_))));
        assert!(matches!(parse_target(&p, &args(Some("deploy/a"), Some("b"))), Err(Error::Usage(_))));
    }

    #[test]
    fn several_objects_are_named_as_kubectl_names_them() {
        let p = Profile::builtin();
        let words = |w: &[&str]| w.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let named = |w: &[&str]| {
            parse_targets(&p, &words(w))
                .map(|v| v.into_iter().map(|(k, n)| format!("{}/{n}", k.kind)).collect::<Vec<_>>())
        };
        assert_eq!(named(&["deploy/a", "sts/b"]).unwrap(), ["Deployment/a", "StatefulSet/b"]);
        assert_eq!(named(&["deploy", "a", "b"]).unwrap(), ["Deployment/a", "Deployment/b"]);
        assert!(matches!(named(&["deploy/a", "b"]), Err(Error::Usage(_))));
        assert!(matches!(named(&["deploy", "a", "sts/b"]), Err(Error::Usage(_))));
        assert!(matches!(named(&["deploy/a", "pod/b"]), Err(Error::UnknownKind(_))));
    }
}
