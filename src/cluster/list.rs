//! The pages of a workload list: every kind fetched at once, each in pages, sent on to whoever prints
//! them as they arrive. Tables and names of the built-in kinds read only the fields a row needs
//! (`core::rows::PartialObject`); everything else reads whole objects, checked. And the watch of
//! `-w` that follows a list or named objects: each change of a kind, from the version read on.

use futures_util::StreamExt;
use kube::api::{ListParams, WatchEvent, WatchParams};
use serde::Deserialize;
use serde_json::Value;
use tokio::sync::{Semaphore, mpsc};

use crate::cluster::client::Cluster;
use crate::cluster::fetch::{checked_object, parse_page, workload_api};
use crate::cluster::transport::request_line;
use crate::core::rows::PartialObject;
use crate::error::{Error, Result};
use crate::model::object;
use crate::model::roles::KindInfo;

/// What a list asks of each kind: its page size (`--chunk-size`), `-l`, `--field-selector`, and
/// whether objects a controller manages are kept (`--all`).
#[derive(Debug, Clone, Default)]
pub struct ListQuery {
    pub chunk_size: u32,
    pub selector: Option<String>,
    pub field_selector: Option<String>,
    pub all: bool,
    /// Keep the list's resourceVersion (for a watch from it, `-w`).
    pub version: bool,
}

/// One page of one kind, as far as the output needs it; controlled objects are already left out
/// unless `--all` asked for them.
pub struct Page {
    pub objects: Objects,
    pub hidden: usize,
    /// Of its kind's budget: the objects it holds.
    pub spent: usize,
    /// The list's resourceVersion, on its first page when asked for (`ListQuery::version`).
    pub version: Option<String>,
}

impl Objects {
    fn len(&self) -> usize {
        match self {
            Objects::Partial(objects) => objects.len(),
            Objects::Whole(objects) => objects.len(),
        }
    }
}

pub enum Objects {
    /// The fields a row needs (tables and names of the built-in kinds).
    Partial(Vec<PartialObject>),
    /// Whole objects, checked: documents, sorting, custom kinds, and pages of a shape the typed
    /// way did not expect.
    Whole(Vec<Value>),
}

/// Pages through one kind's list into `tx`; stops at the first error (sent on) or when the
/// printer is gone.
pub async fn fetch_kind(
    cluster: &Cluster,
    kind: &KindInfo,
    query: &ListQuery,
    partial: bool,
    budget: &Semaphore,
    tx: mpsc::UnboundedSender<Result<Page>>,
) {
    let namespace = (!cluster.all_namespaces).then_some(cluster.namespace.as_str());
    let api = workload_api(cluster, kind, namespace);
    let mut params = ListParams::default().limit(query.chunk_size);
    if let Some(sel) = &query.selector {
        params = params.labels(sel);
    }
    if let Some(sel) = &query.field_selector {
        params = params.fields(sel);
    }
    let mut first = query.version;
    loop {
        let version = std::mem::take(&mut first);
        let (mut page, token) =
            match fetch_page(cluster, kind, api.resource_url(), &params, partial, query.all, version).await {
                Ok(answer) => answer,
                Err(e) => {
                    let _ = tx.send(Err(e));
                    return;
                }
            };
        page.spent = page.objects.len().min(query.chunk_size as usize);
        match budget.acquire_many(page.spent as u32).await {
            Ok(permits) => permits.forget(),
            Err(_) => return,
        }
        if tx.send(Ok(page)).is_err() {
            return;
        }
        match token {
            Some(token) => params = params.continue_token(&token),
            None => return,
        }
    }
}

async fn fetch_page(
    cluster: &Cluster,
    kind: &KindInfo,
    url: &str,
    params: &ListParams,
    partial: bool,
    all: bool,
    version: bool,
) -> Result<(Page, Option<String>)> {
    let request = kube::core::Request::new(url)
        .list(params)
        .map_err(|e| Error::Invalid(format!("cannot build the list request: {e}")))?;
    let line = request_line(&request);
    let text = match cluster.client.request_text(request).await {
        Ok(text) => text,
        Err(kube::Error::Api(status)) if status.code == 404 => {
            return Err(Error::Invalid(format!(
                "the server does not serve {} ({}); check the kinds of the role profile",
                kind.resource, kind.api_version
            )));
        }
        // The server names the fields it selects on ("only metadata.name, metadata.namespace").
        Err(kube::Error::Api(status)) if status.code == 400 && params.field_selector.is_some() => {
            let selector = params.field_selector.as_deref().unwrap_or_default();
            return Err(Error::Usage(format!(
                "--field-selector \"{selector}\" for {}: {}",
                kind.resource, status.message
            )));
        }
        Err(e) => return Err(cluster.transport_error(e)),
    };
    let version = version.then(|| list_version(&text)).flatten();
    let list_kind = format!("{}List", kind.kind);
    if partial {
        if let Some((mut objects, token)) = partial_page(&text, kind, &list_kind) {
            let before = objects.len();
            if !all {
                objects.retain(|o| o.controller().is_none());
            }
            let hidden = before - objects.len();
            return Ok((Page { objects: Objects::Partial(objects), hidden, spent: 0, version }, token));
        }
    }
    // The general way, also for a page the typed way refused: its errors name what is wrong.
    let (items, token) =
        parse_page(&text, &list_kind).map_err(|e| cluster.bad_answer(format!("{line} with {e}")))?;
    let mut objects = Vec::with_capacity(items.len());
    let mut hidden = 0;
    for item in items {
        let obj = checked_object(item, kind, None)
            .map_err(|e| cluster.bad_answer(format!("a {list_kind} with an item that is {e}")))?;
        if !all && object::controller(&obj).is_some() {
            hidden += 1;
        } else {
            objects.push(obj);
        }
    }
    Ok((Page { objects: Objects::Whole(objects), hidden, spent: 0, version }, token))
}

/// A list's resourceVersion (its metadata's), the items skipped unread.
fn list_version(text: &str) -> Option<String> {
    #[derive(Deserialize)]
    struct Versioned {
        metadata: Option<VersionMeta>,
    }
    #[derive(Deserialize)]
    struct VersionMeta {
        #[serde(rename = "resourceVersion")]
        resource_version: Option<String>,
    }
    let page: Versioned = serde_json::from_str(text).ok()?;
    page.metadata?.resource_version.filter(|v| !v.is_empty())
}

/// What `-w` watches of one kind: the list's selectors (or one object by name), from a version on.
#[derive(Debug, Clone)]
pub struct WatchQuery {
    pub selector: Option<String>,
    pub field_selector: Option<String>,
    /// One object (`get TYPE/NAME -w`).
    pub name: Option<String>,
    /// Keep objects a controller manages (`--all`).
    pub all: bool,
    /// The resourceVersion the list (or the object) was read at: changes after it are sent.
    pub from: String,
}

/// One change a watch saw: the object as it is now (as it was, when deleted), checked.
pub struct Change {
    /// Which of the watched kinds (the caller's numbering).
    pub index: usize,
    pub object: Value,
}

/// How long the server keeps one watch request open; the watch then goes on with a new one.
const WATCH_SECONDS: u32 = 100;

/// Sends each change of `kind` (as `query` selects) into `tx`, for as long as the receiver lives.
/// A watch the server ends, or the request deadline cuts, goes on from the last version seen (the
/// server's bookmarks keep it fresh); an error, or a version too old to watch from (410 Gone), is
/// sent on and ends it.
pub async fn watch_kind(
    cluster: &Cluster,
    kind: &KindInfo,
    index: usize,
    query: &WatchQuery,
    tx: mpsc::UnboundedSender<Result<Change>>,
) {
    let namespace = (!cluster.all_namespaces).then_some(cluster.namespace.as_str());
    let api = workload_api(cluster, kind, namespace);
    let mut params = WatchParams::default().timeout(WATCH_SECONDS);
    if let Some(sel) = &query.selector {
        params = params.labels(sel);
    }
    let fields = match (&query.name, &query.field_selector) {
        (Some(name), _) => Some(format!("metadata.name={name}")),
        (None, fields) => fields.clone(),
    };
    if let Some(fields) = &fields {
        params = params.fields(fields);
    }
    let mut version = query.from.clone();
    loop {
        let request = match kube::core::Request::new(api.resource_url()).watch(&params, &version) {
            Ok(request) => request,
            Err(e) => {
                let _ =
                    tx.send(Err(Error::Invalid(format!("cannot build the watch of {}: {e}", kind.resource))));
                return;
            }
        };
        let events = match cluster.client.request_events::<Value>(request).await {
            Ok(events) => events,
            Err(e) => {
                let _ = tx.send(Err(cluster.transport_error(e)));
                return;
            }
        };
        let mut events = std::pin::pin!(events);
        let mut seen = false;
        while let Some(event) = events.next().await {
            let object = match event {
                Ok(WatchEvent::Added(obj) | WatchEvent::Modified(obj) | WatchEvent::Deleted(obj)) => obj,
                Ok(WatchEvent::Bookmark(mark)) => {
                    version = mark.metadata.resource_version;
                    continue;
                }
                Ok(WatchEvent::Error(status)) if status.code == 410 => {
                    let _ = tx.send(Err(Error::Invalid(format!(
                        "the watch of {} fell behind the server's history ({}); run the command again",
                        kind.resource, status.message
                    ))));
                    return;
                }
                Ok(WatchEvent::Error(status)) => {
                    let _ = tx.send(Err(Error::Api {
                        message: format!("the watch of {}: {}", kind.resource, status.message),
                    }));
                    return;
                }
                // The deadline cut the stream, or the connection broke: watch again from here.
                Err(_) => break,
            };
            seen = true;
            let object = match checked_object(object, kind, query.name.as_deref()) {
                Ok(object) => object,
                Err(e) => {
                    let _ = tx.send(Err(
                        cluster.bad_answer(format!("a watch event of {} with {e}", kind.resource))
                    ));
                    return;
                }
            };
            if let Some(v) = object["metadata"]["resourceVersion"].as_str() {
                version = v.to_string();
            }
            if !query.all && object::controller(&object).is_some() {
                continue;
            }
            if tx.send(Ok(Change { index, object })).is_err() {
                return;
            }
        }
        if tx.is_closed() {
            return;
        }
        // A watch that ended at once, twice over, would turn into a busy loop: pause a moment.
        if !seen {
            tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        }
    }
}

#[derive(Deserialize)]
struct PartialPage {
    kind: Option<String>,
    #[serde(default)]
    metadata: ListMeta,
    items: Option<Vec<PartialObject>>,
}

#[derive(Default, Deserialize)]
struct ListMeta {
    #[serde(rename = "continue")]
    token: Option<String>,
}

/// A page's items as partial objects and its continue token, or None when the page is not what a
/// server sends for `list_kind` (the general way then says what is wrong).
pub fn partial_page(
    text: &str,
    kind: &KindInfo,
    list_kind: &str,
) -> Option<(Vec<PartialObject>, Option<String>)> {
    let page: PartialPage = serde_json::from_str(text).ok()?;
    if page.kind.as_deref().is_some_and(|k| k != list_kind) {
        return None;
    }
    let items = page.items.unwrap_or_default();
    let fits = |o: &PartialObject| {
        o.metadata.name.is_some()
            && o.kind.as_deref().is_none_or(|k| k == kind.kind)
            && o.api_version.as_deref().is_none_or(|v| v == kind.api_version)
    };
    items.iter().all(fits).then_some((items, page.metadata.token.filter(|t| !t.is_empty())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::roles::Profile;

    fn read(text: &str) -> Option<(Vec<String>, Option<String>)> {
        let deploy = Profile::builtin().kind("deploy").unwrap().clone();
        partial_page(text, &deploy, "DeploymentList")
            .map(|(items, token)| (items.iter().map(|o| o.name().to_string()).collect(), token))
    }

    #[test]
    fn a_partial_page_refuses_what_a_server_does_not_send() {
        let page = r#"{"kind":"DeploymentList","apiVersion":"apps/v1","metadata":{"continue":"t1"},
                       "items":[{"metadata":{"name":"a"}},{"metadata":{"name":"b"},"spec":{}}]}"#;
        assert_eq!(read(page), Some((vec!["a".into(), "b".into()], Some("t1".into()))));
        let last = r#"{"items":[{"metadata":{"name":"a"}}],"metadata":{"continue":""}}"#;
        assert_eq!(read(last), Some((vec!["a".into()], None)));
        // Each of these is read the general way, which names what is wrong.
        for text in [
            r#"{"kind":"PodList","items":[]}"#,
            r#"{"items":[{"metadata":{}}]}"#,
            r#"{"items":[{"kind":"StatefulSet","metadata":{"name":"a"}}]}"#,
            r#"{"items":[{"metadata":{"name":"a"},"spec":{"replicas":"two"}}]}"#,
            r#"{"items":[]} trailing"#,
            r#"[]"#,
        ] {
            assert_eq!(read(text), None, "{text}");
        }
    }
}
