//! Reading from the API server: one object (with the HPA that targets it), pages of lists, the HPAs of
//! a namespace; every answer checked for its shape before anything works on it.

use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
use kube::api::{Api, ApiResource, DynamicObject, ListParams};
use kube::core::GroupVersionKind;
use serde_json::{Value, json};

use crate::cluster::client::Cluster;
use crate::cluster::transport::request_line;
use crate::core::hpa::Autoscaler;
use crate::core::related::{self, Related};
use crate::core::write::Live;
use crate::error::{Error, Result};
use crate::model::roles::RelatedKind;
use crate::model::roles::{KindInfo, Profile, RoleName};
use crate::model::target::{Action, Target};

/// Page size for the HPA list: large namespaces come in pages, never one huge response.
const PAGE_SIZE: u32 = 500;

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

/// Every object of `kind` in `namespace` as JSON (page by page): the PodDisruptionBudgets that
/// `ops disruption-budget` checks a new one against.
pub async fn list_objects(cluster: &Cluster, kind: &KindInfo, namespace: &str) -> Result<Vec<Value>> {
    let api = workload_api(cluster, kind, Some(namespace));
    let list_kind = format!("{}List", kind.kind);
    let mut out = Vec::new();
    let mut params = ListParams::default().limit(PAGE_SIZE);
    loop {
        let page = get_page(cluster, api.resource_url(), &params, &list_kind)
            .await
            .map_err(|e| cluster.transport_error(e))?;
        let (items, token) = page?;
        out.extend(items.into_iter().filter(Value::is_object));
        match token {
            Some(token) => params = params.continue_token(&token),
            None => return Ok(out),
        }
    }
}

/// The namespace's HPAs as JSON; a user who may not list them gets the view without autoscaler.
pub async fn list_autoscalers(cluster: &Cluster, namespace: Option<&str>, read: Read) -> Result<Vec<Value>> {
    let api: Api<HorizontalPodAutoscaler> = match namespace {
        Some(ns) => Api::namespaced(cluster.client.clone(), ns),
        None => Api::all(cluster.client.clone()),
    };
    let mut out = Vec::new();
    let mut params = first_page(read);
    loop {
        // A view is never failed by the list (a write is, but for a 403, as before: the user may
        // still write what no HPA holds).
        let page = match get_page(cluster, api.resource_url(), &params, "HorizontalPodAutoscalerList").await {
            Ok(Ok(page)) => page,
            Ok(Err(e)) if read == Read::Cached => {
                warn_left_out("horizontalpodautoscalers", namespace, &e.to_string(), AUTOSCALER_LEFT_OUT);
                return Ok(Vec::new());
            }
            Ok(Err(e)) => return Err(e),
            Err(kube::Error::Api(status)) if status.code == 403 || read == Read::Cached => {
                let why = list_failure_reason(status.code, &status.message, false).unwrap_or_default();
                warn_left_out("horizontalpodautoscalers", namespace, &why, AUTOSCALER_LEFT_OUT);
                return Ok(Vec::new());
            }
            Err(err) if read == Read::Cached => {
                let why = cluster.transport_error(err).to_string();
                warn_left_out("horizontalpodautoscalers", namespace, &why, AUTOSCALER_LEFT_OUT);
                return Ok(Vec::new());
            }
            Err(err) => return Err(cluster.transport_error(err)),
        };
        let (items, token) = page;
        out.extend(items.into_iter().filter(Value::is_object));
        match token {
            Some(token) => params = next_page(&token),
            None => return Ok(out),
        }
    }
}

const AUTOSCALER_LEFT_OUT: &str = "the autoscaler section is left out";

/// The one warning of a list left out: `warning: cannot list services in namespace "shop"
/// (forbidden): the view leaves out expose`.
fn warn_left_out(resource: &str, namespace: Option<&str>, why: &str, what: &str) {
    let place = match namespace {
        Some(ns) => format!("in namespace \"{ns}\""),
        None => "in any namespace".to_string(),
    };
    let line = format!("warning: cannot list {resource} {place} ({why}): {what}");
    DEFERRED.lock().unwrap_or_else(|e| e.into_inner()).push(line);
}

/// The warnings of lists left out wait until the command's own reads have succeeded: a command that
/// fails prints its one error line, not a warning per list that failed for the same reason.
static DEFERRED: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());

/// Prints the warnings held so far (the command got what it needed), once each.
pub fn flush_warnings() {
    let lines = std::mem::take(&mut *DEFERRED.lock().unwrap_or_else(|e| e.into_inner()));
    let mut seen = std::collections::HashSet::new();
    for line in lines.into_iter().filter(|l| seen.insert(l.clone())) {
        eprintln!("{line}");
    }
}

/// Does the role have fields an autoscaler may hold on this kind (the ops role's replicas)?
fn wants_autoscaler(profile: &Profile, role: RoleName, target: &Target<'_>) -> bool {
    profile.role(role).object_traits(&target.kind.kind).any(|(_, fields)| fields.iter().any(|f| f.autoscaled))
}

/// The object and, for roles with autoscaled fields, the HPA that targets it: both requests at once.
pub async fn fetch_with_autoscaler(
    cluster: &Cluster,
    profile: &Profile,
    role: RoleName,
    target: &Target<'_>,
    read: Read,
) -> Result<(Value, Option<Autoscaler>)> {
    if !wants_autoscaler(profile, role, target) {
        return Ok((fetch(cluster, target).await?, None));
    }
    let (obj, hpas) =
        tokio::join!(fetch(cluster, target), list_autoscalers(cluster, Some(&target.namespace), read));
    let obj = obj?;
    let hpa = Autoscaler::targeting(&hpas?, target.kind, &obj);
    Ok((obj, hpa))
}

/// The live object `target` names, with the HPA that targets it: what a write is decided from.
pub async fn read_live<'p>(
    cluster: &Cluster,
    profile: &Profile,
    role: RoleName,
    target: Target<'p>,
) -> Result<Live<'p>> {
    let ((object, autoscaler), lists) = tokio::try_join!(
        fetch_with_autoscaler(cluster, profile, role, &target, Read::Latest),
        list_related(cluster, profile, role, &target.namespace, Read::Latest)
    )?;
    let related = lists.map(|lists| related::find(profile, target.kind, &object, &lists));
    Ok(Live { target, object, autoscaler, related })
}

/// `read_live` for a write: the HPAs first (a list can take a while), then the object, so that the
/// version the write is decided from, and sent at, is as fresh as it can be (another writer's change
/// in between fails the write's resourceVersion precondition).
pub async fn read_for_write<'p>(
    cluster: &Cluster,
    profile: &Profile,
    role: RoleName,
    target: Target<'p>,
) -> Result<Live<'p>> {
    read_for_write_of(cluster, profile, role, target, true).await
}

/// [`read_for_write`] for a change of the workload's own fields alone (`set image`, `scale`): the
/// objects around it are not read.
pub async fn read_workload_for_write<'p>(
    cluster: &Cluster,
    profile: &Profile,
    role: RoleName,
    target: Target<'p>,
) -> Result<Live<'p>> {
    read_for_write_of(cluster, profile, role, target, false).await
}

/// [`read_for_write`] for a role document: the objects around the workload only when it has a
/// section of them (one of the workload's own fields alone lists nothing; an object a document
/// does not name is not spoken for).
pub async fn read_for_document<'p>(
    cluster: &Cluster,
    profile: &Profile,
    role: RoleName,
    target: Target<'p>,
    doc: &Value,
) -> Result<Live<'p>> {
    let sections = profile.role(role).related.iter().any(|t| doc.get(&t.name).is_some_and(|v| !v.is_null()));
    read_for_write_of(cluster, profile, role, target, sections).await
}

async fn read_for_write_of<'p>(
    cluster: &Cluster,
    profile: &Profile,
    role: RoleName,
    target: Target<'p>,
    with_related: bool,
) -> Result<Live<'p>> {
    // The lists at once, then the object.
    let hpas = async {
        match wants_autoscaler(profile, role, &target) {
            true => list_autoscalers(cluster, Some(&target.namespace), Read::Latest).await.map(Some),
            false => Ok(None),
        }
    };
    let lists = async {
        match with_related {
            true => list_related(cluster, profile, role, &target.namespace, Read::Latest).await,
            false => Ok(None),
        }
    };
    let (hpas, lists) = tokio::try_join!(hpas, lists)?;
    let object = fetch(cluster, &target).await?;
    let autoscaler = hpas.and_then(|hpas| Autoscaler::targeting(&hpas, target.kind, &object));
    let related = lists.map(|lists| related::find(profile, target.kind, &object, &lists));
    Ok(Live { target, object, autoscaler, related })
}

// --- Objects around the workload (the profile's `related:` kinds) ---

/// How a list is read. A view's lists come from the API server's watch cache
/// (`resourceVersion=0`): answered from memory, never a read of etcd, at most a moment behind. A
/// write is decided from the latest state (a quorum read), so that it never starts from a stale
/// Service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Read {
    Cached,
    Latest,
}

/// The first page's parameters. From the watch cache without a limit: kube drops
/// `resourceVersion=0` from a list that has one (a server before 1.33 ignores the limit there and
/// answers the whole list from memory anyway), so a cached read is one answer of the namespace's
/// objects of the kind; a continue token, if a server gives one, is still followed.
fn first_page(read: Read) -> ListParams {
    match read {
        Read::Cached => ListParams::default().match_any(),
        Read::Latest => ListParams::default().limit(PAGE_SIZE),
    }
}

/// The next page: the continue token alone (a resourceVersion beside it is refused by the server;
/// the token carries the version of the first page).
fn next_page(token: &str) -> ListParams {
    ListParams::default().limit(PAGE_SIZE).continue_token(token)
}

/// The lists of the related kinds a view of `role` needs (`core::related::kinds_for_view`), of the
/// namespace, one list per kind, all at once; None when the role's document has none (no request).
/// A kind that cannot be listed is left out of the lists (never an error), see
/// [`list_related_kinds`].
pub async fn list_related(
    cluster: &Cluster,
    profile: &Profile,
    role: RoleName,
    namespace: &str,
    read: Read,
) -> Result<Option<Vec<(String, Vec<Value>)>>> {
    let kinds = related::kinds_for_view(profile, role);
    let leaves_out = |k: &RelatedKind| related::left_out(profile, role, k);
    list_related_kinds(cluster, &kinds, Some(namespace), read, &leaves_out).await
}

/// [`list_related`] of these kinds; None when there are none. (`namespace` None: of every
/// namespace, for `list -A`.) A kind that cannot be listed never fails the caller: it is left out
/// of the lists, with one `warning:` line naming the kind, why, and what `leaves_out` says goes
/// missing (forbidden to this user, not served, a timeout, a broken answer). The one exception is
/// an optional kind (a CRD) whose API is absent: a 404, or a 403 (a user without rights to a
/// resource cannot tell it is not installed), leaves it out quietly.
pub async fn list_related_kinds(
    cluster: &Cluster,
    kinds: &[&RelatedKind],
    namespace: Option<&str>,
    read: Read,
    leaves_out: &(dyn Fn(&RelatedKind) -> String + Sync),
) -> Result<Option<Vec<(String, Vec<Value>)>>> {
    if kinds.is_empty() {
        return Ok(None);
    }
    let lists = futures_util::future::join_all(kinds.iter().map(|k| async move {
        match list_kind(cluster, k, namespace, read).await {
            Ok(items) => Some((k.root.clone(), items)),
            Err(why) => {
                if let Some(why) = why.reason(cluster, k.optional) {
                    warn_left_out(&k.info.resource, namespace, &why, &leaves_out(k));
                }
                None
            }
        }
    }))
    .await;
    Ok(Some(lists.into_iter().flatten().collect()))
}

/// The objects of `kind` in the namespace, from the watch cache; None when they cannot be listed
/// (for a warning that is only added when known).
pub async fn objects_of_kind(cluster: &Cluster, kind: &KindInfo, namespace: &str) -> Option<Vec<Value>> {
    let api = workload_api(cluster, kind, Some(namespace));
    let list_kind = format!("{}List", kind.kind);
    let mut out = Vec::new();
    let mut params = first_page(Read::Cached);
    loop {
        let (items, token) = get_page(cluster, api.resource_url(), &params, &list_kind).await.ok()?.ok()?;
        for mut item in items.into_iter().filter(Value::is_object) {
            item["apiVersion"] = json!(kind.api_version);
            item["kind"] = json!(kind.kind);
            out.push(item);
        }
        match token {
            Some(token) => params = next_page(&token),
            None => return Some(out),
        }
    }
}

/// Why a list failed.
enum ListFailure {
    Server(kube::Error),
    Answer(Error),
}

impl ListFailure {
    /// The reason for the warning; None when the kind is left out quietly (an optional kind not
    /// installed, or not visible to this user).
    fn reason(self, cluster: &Cluster, optional: bool) -> Option<String> {
        match self {
            ListFailure::Server(kube::Error::Api(status)) => {
                list_failure_reason(status.code, &status.message, optional)
            }
            ListFailure::Server(other) => Some(cluster.transport_error(other).to_string()),
            ListFailure::Answer(err) => Some(err.to_string()),
        }
    }
}

/// The reason a list answered `code` is left out of a view (None: quietly).
pub(crate) fn list_failure_reason(code: u16, message: &str, optional: bool) -> Option<String> {
    match code {
        403 | 404 if optional => None,
        403 => Some("forbidden".to_string()),
        404 => Some("the server does not serve them".to_string()),
        _ => Some(format!("{code}: {}", message.lines().next().unwrap_or_default())),
    }
}

/// Every page of one related kind's list, each item with its apiVersion and kind.
async fn list_kind(
    cluster: &Cluster,
    k: &RelatedKind,
    namespace: Option<&str>,
    read: Read,
) -> std::result::Result<Vec<Value>, ListFailure> {
    let api = workload_api(cluster, &k.info, namespace);
    let list_kind = format!("{}List", k.info.kind);
    let mut out = Vec::new();
    let mut params = first_page(read);
    loop {
        let page = get_page(cluster, api.resource_url(), &params, &list_kind).await;
        let (items, token) = page.map_err(ListFailure::Server)?.map_err(ListFailure::Answer)?;
        for mut item in items.into_iter().filter(Value::is_object) {
            // List items come without apiVersion and kind.
            item["apiVersion"] = json!(k.info.api_version);
            item["kind"] = json!(k.info.kind);
            out.push(item);
        }
        match token {
            Some(token) => params = next_page(&token),
            None => return Ok(out),
        }
    }
}

/// The object with its HPA ([`fetch_with_autoscaler`]) and the objects around it, all requests at
/// once, the lists from the watch cache: what a view shows.
pub async fn fetch_with_related(
    cluster: &Cluster,
    profile: &Profile,
    role: RoleName,
    target: &Target<'_>,
) -> Result<(Value, Option<Autoscaler>, Option<Related>)> {
    let ((object, autoscaler), lists) = tokio::try_join!(
        fetch_with_autoscaler(cluster, profile, role, target, Read::Cached),
        list_related(cluster, profile, role, &target.namespace, Read::Cached)
    )?;
    let related = lists.map(|lists| related::find(profile, target.kind, &object, &lists));
    Ok((object, autoscaler, related))
}

/// The pods `selector` (`k=v,…`) matches in `namespace`, at most `limit`, as JSON; None when they
/// cannot be listed (callers only add what pods say, and leave it out then). With `fresh_as` (the
/// resourceVersion of the object they belong to), see [`list_fresh_as`].
pub async fn pods(
    cluster: &Cluster,
    namespace: &str,
    selector: &str,
    limit: u32,
    fresh_as: Option<&str>,
) -> Option<Vec<Value>> {
    let pods: kube::Api<k8s_openapi::api::core::v1::Pod> =
        kube::Api::namespaced(cluster.client.clone(), namespace);
    list_fresh_as(cluster, pods.resource_url(), selector, limit, fresh_as, "PodList").await
}

/// The ReplicaSets `selector` matches in `namespace` (a Deployment's: the current one and the old
/// ones it keeps, ten by default), as JSON; see [`list_fresh_as`]. None when they cannot be listed.
pub async fn replica_sets(
    cluster: &Cluster,
    namespace: &str,
    selector: &str,
    fresh_as: &str,
) -> Option<Vec<Value>> {
    let sets: kube::Api<k8s_openapi::api::apps::v1::ReplicaSet> =
        kube::Api::namespaced(cluster.client.clone(), namespace);
    list_fresh_as(cluster, sets.resource_url(), selector, PAGE_SIZE, Some(fresh_as), "ReplicaSetList").await
}

/// One page of a labelled list, straight into JSON. With `fresh_as`, a resourceVersion to be no
/// older than (`resourceVersionMatch=NotOlderThan`): the API server answers from its watch cache,
/// in memory, as fresh as the object read at that version, without a round trip to etcd (which a
/// server before 1.31 makes for every list with a limit, reading the namespace's objects to find
/// the few the selector matches).
async fn list_fresh_as(
    cluster: &Cluster,
    url: &str,
    selector: &str,
    limit: u32,
    fresh_as: Option<&str>,
    list_kind: &str,
) -> Option<Vec<Value>> {
    let mut params = ListParams::default().labels(selector).limit(limit);
    if let Some(version) = fresh_as.filter(|v| !v.is_empty()) {
        params = params.at(version).matching(kube::api::VersionMatch::NotOlderThan);
    }
    match get_page(cluster, url, &params, list_kind).await {
        Ok(Ok((items, _))) => Some(items),
        _ => None,
    }
}

/// The names on the first page of `kind`'s objects in the namespace: enough to complete from.
pub async fn object_names(cluster: &Cluster, kind: &KindInfo) -> Result<Vec<String>> {
    names(cluster, workload_api(cluster, kind, Some(&cluster.namespace))).await
}

/// `key=` for each label key on the first page of objects of `kinds` in the namespace, sorted.
pub async fn label_keys(cluster: &Cluster, kinds: &[&KindInfo]) -> Result<Vec<String>> {
    let mut keys: Vec<String> = Vec::new();
    for kind in kinds.iter().copied() {
        let api = workload_api(cluster, kind, Some(&cluster.namespace));
        let list = api
            .list_metadata(&kube::api::ListParams::default().limit(500))
            .await
            .map_err(|e| cluster.transport_error(e))?;
        // Objects a controller manages are hidden from lists, so their labels (pod-template-hash)
        // would complete to selectors that match nothing the list shows.
        let shown = list
            .items
            .into_iter()
            .filter(|o| !o.metadata.owner_references.iter().flatten().any(|r| r.controller == Some(true)));
        for labels in shown.filter_map(|o| o.metadata.labels) {
            keys.extend(labels.into_keys().map(|k| format!("{k}=")));
        }
    }
    keys.sort();
    keys.dedup();
    Ok(keys)
}

/// The names on the first page of the cluster's namespaces.
pub async fn namespace_names(cluster: &Cluster) -> Result<Vec<String>> {
    let api: kube::Api<k8s_openapi::api::core::v1::Namespace> = kube::Api::all(cluster.client.clone());
    names(cluster, api).await
}

/// The first page of names: enough to complete from, cheap to fetch.
async fn names<K>(cluster: &Cluster, api: kube::Api<K>) -> Result<Vec<String>>
where
    K: kube::Resource + Clone + serde::de::DeserializeOwned + std::fmt::Debug,
{
    let list = api
        .list_metadata(&kube::api::ListParams::default().limit(500))
        .await
        .map_err(|e| cluster.transport_error(e))?;
    Ok(list.items.into_iter().filter_map(|o| o.metadata.name).collect())
}

/// The server's OpenAPI v3 document for the kind's group and version.
pub async fn openapi(cluster: &Cluster, kind: &KindInfo) -> Result<Value> {
    let url = match kind.group() {
        "" => format!("/openapi/v3/api/{}", kind.version()),
        group => format!("/openapi/v3/apis/{group}/{}", kind.version()),
    };
    let request = http::Request::get(&url)
        .body(Vec::new())
        .map_err(|e| Error::Invalid(format!("cannot build the request for {url}: {e}")))?;
    let text = cluster.client.request_text(request).await.map_err(|e| cluster.transport_error(e))?;
    serde_json::from_str(&text).map_err(|e| cluster.bad_answer(format!("GET {url} answered with {e}")))
}

/// The names of the workloads `selector` matches in the namespace (of `kind`, else of every kind),
/// and how many were left out because a controller manages them (it would undo an edit).
pub async fn selected<'p>(
    cluster: &Cluster,
    profile: &'p Profile,
    kind: Option<&'p KindInfo>,
    selector: &str,
) -> Result<(Vec<(&'p KindInfo, String)>, usize)> {
    let kinds: Vec<&KindInfo> = match kind {
        Some(kind) => vec![kind],
        None => profile.kinds.iter().collect(),
    };
    let (mut found, mut controlled) = (Vec::new(), 0);
    for kind in kinds {
        let api = workload_api(cluster, kind, Some(&cluster.namespace));
        let mut params = kube::api::ListParams::default().labels(selector).limit(500);
        loop {
            let page = api.list_metadata(&params).await.map_err(|e| match e {
                kube::Error::Api(status) if status.code == 400 => {
                    Error::Usage(format!("-l \"{selector}\" is not a label selector: {}", status.message))
                }
                kube::Error::Api(status) if status.code == 404 => Error::Invalid(format!(
                    "the server does not serve {} ({}); check the kinds of the role profile",
                    kind.resource, kind.api_version
                )),
                other => cluster.transport_error(other),
            })?;
            for item in page.items {
                let owned =
                    item.metadata.owner_references.iter().flatten().any(|r| r.controller == Some(true));
                match (owned, item.metadata.name) {
                    (true, _) => controlled += 1,
                    (false, Some(name)) => found.push((kind, name)),
                    (false, None) => {}
                }
            }
            match page.metadata.continue_.filter(|t| !t.is_empty()) {
                Some(token) => params = params.continue_token(&token),
                None => break,
            }
        }
    }
    Ok((found, controlled))
}

/// The API of one of the objects `kubectl oam policy` installs (by its apiVersion and kind), and its name.
pub(crate) fn object_api(cluster: &Cluster, object: &Value) -> (Api<DynamicObject>, String) {
    let api_version = object["apiVersion"].as_str().unwrap_or_default();
    let kind = object["kind"].as_str().unwrap_or_default();
    let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
    let plural = match kind {
        "ValidatingAdmissionPolicy" => "validatingadmissionpolicies",
        "ValidatingAdmissionPolicyBinding" => "validatingadmissionpolicybindings",
        "RoleBinding" => "rolebindings",
        _ => "roles",
    };
    let resource = ApiResource::from_gvk_with_plural(&GroupVersionKind::gvk(group, version, kind), plural);
    let name = object["metadata"]["name"].as_str().unwrap_or_default().to_string();
    match object["metadata"]["namespace"].as_str() {
        Some(ns) => (Api::namespaced_with(cluster.client.clone(), ns, &resource), name),
        None => (Api::all_with(cluster.client.clone(), &resource), name),
    }
}

/// One of those objects as API errors name it.
pub(crate) fn object_action<'a>(object: &'a Value, name: &'a str) -> Action<'a> {
    Action {
        kind: object["kind"].as_str().unwrap_or_default(),
        name,
        namespace: object["metadata"]["namespace"].as_str().unwrap_or("(cluster)"),
    }
}

/// The live copy of one of the objects `kubectl oam policy` installs, if there is one.
pub async fn object(cluster: &Cluster, object: &Value) -> Result<Option<Value>> {
    let (api, name) = object_api(cluster, object);
    let live = api.get_opt(&name).await.map_err(|e| cluster.error(e, &object_action(object, &name)))?;
    Ok(live.map(|live| serde_json::to_value(live).unwrap_or(Value::Null)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_related_list_that_fails_is_left_out_with_the_reason() {
        assert_eq!(list_failure_reason(403, "forbidden: …", false).as_deref(), Some("forbidden"));
        assert_eq!(
            list_failure_reason(404, "the server could not find", false).as_deref(),
            Some("the server does not serve them")
        );
        assert_eq!(list_failure_reason(404, "", true), None, "an optional kind not installed");
        assert_eq!(list_failure_reason(403, "", true), None);
        assert_eq!(
            list_failure_reason(504, "Timeout: request did not complete\nmore", false).as_deref(),
            Some("504: Timeout: request did not complete")
        );
        // A view reads the watch cache; the continue token goes alone.
        let first = first_page(Read::Cached);
        assert_eq!((first.resource_version.as_deref(), first.limit), (Some("0"), None));
        let request = kube::core::Request::new("/api/v1/services").list(&first).unwrap();
        assert_eq!(request.uri().query(), Some("&resourceVersion=0&resourceVersionMatch=NotOlderThan"));
        assert_eq!(first_page(Read::Latest).resource_version, None);
        let next = next_page("t");
        assert_eq!((next.resource_version, next.continue_token.as_deref()), (None, Some("t")));
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
}
