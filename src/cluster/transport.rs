//! Limits the client puts on every API request, in one tower layer around kube's client stack:
//!
//! - a **deadline** for the whole exchange (connect, TLS, retries, headers and the entire body):
//!   kube's own timeouts are idle timeouts, so a server sending a byte a second never trips them;
//! - a **size cap** on each response body, counted while it streams, so an endless body ends in an
//!   error instead of filling memory;
//! - a successful answer must be a **JSON object** (every Kubernetes API answer kubectl-oam asks for
//!   is one); an array, a string, HTML or an empty body is refused here, naming the request.
//!
//! Failures carry the request ("GET /apis/apps/v1/…") so that `client.rs` can say which one failed.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response};
use http_body::{Body, Frame, SizeHint};
use tokio::time::{Instant, Sleep};
use tower::BoxError;

/// The most a response may hold, and the answers being read at once together (a list reads its
/// kinds at once). Far above any object (etcd stores at most a few MiB) and any page of a list at
/// the default chunk size; what is larger is a broken server or proxy.
pub const MAX_RESPONSE_BYTES: u64 = 256 * 1024 * 1024;

/// The deadline of each request when `--request-timeout` is not given. kubectl has none, but
/// kube-apiserver ends every request kubectl-oam makes (none is a watch) after 60 s on its own
/// (its `--request-timeout`), so an answer still incomplete after twice that is not coming.
/// `--request-timeout 0` turns every deadline off, as in kubectl.
pub const DEFAULT_DEADLINE: Duration = Duration::from_secs(120);

/// The limits of one client.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// None: no deadline (`--request-timeout 0`).
    pub deadline: Option<Duration>,
    /// The deadline came from `--request-timeout` (not the default), for the message.
    pub from_flag: bool,
    pub max_body: u64,
}

impl Limits {
    /// `--request-timeout` as parsed: None when the flag was not given.
    pub fn new(request_timeout: Option<Duration>) -> Limits {
        let deadline = match request_timeout {
            None => Some(DEFAULT_DEADLINE),
            Some(d) if d.is_zero() => None,
            Some(d) => Some(d),
        };
        Limits { deadline, from_flag: request_timeout.is_some(), max_body: MAX_RESPONSE_BYTES }
    }
}

/// Why a request failed in this layer, or what failed beneath it (with the request named).
#[derive(Debug, thiserror::Error)]
pub enum Failure {
    #[error("{request}: no complete answer within {}", duration_text(*.after))]
    TimedOut { request: String, after: Duration, from_flag: bool },

    #[error("{request}: the answer is larger than {} MiB", .limit / (1024 * 1024))]
    TooLarge { request: String, limit: u64 },

    /// A successful answer that is not a JSON object; `found` says what it is.
    #[error("{request}: the answer is {found}, not a JSON object")]
    NotAnObject { request: String, found: String },

    /// Anything below this layer: connecting, TLS, the connection dropping.
    #[error("{request}: {source}")]
    Transport {
        request: String,
        #[source]
        source: BoxError,
    },
}

/// "GET /apis/apps/v1/namespaces/shop/deployments/web": how errors name a request.
pub fn request_line<B>(request: &Request<B>) -> String {
    format!("{} {}", request.method(), request.uri().path())
}

/// "2s", "1m30s", "500ms": the way --request-timeout is written.
pub fn duration_text(d: Duration) -> String {
    let millis = d.as_millis();
    if millis < 1000 || millis % 1000 != 0 {
        return if millis >= 1000 { format!("{:.1}s", d.as_secs_f64()) } else { format!("{millis}ms") };
    }
    let secs = d.as_secs();
    match (secs / 3600, secs % 3600 / 60, secs % 60) {
        (0, 0, s) => format!("{s}s"),
        (0, m, 0) => format!("{m}m"),
        (0, m, s) => format!("{m}m{s}s"),
        (h, m, s) => format!("{h}h{m}m{s}s"),
    }
}

/// What the start of a body that should be a JSON object is instead.
pub fn describe_start(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(&bytes[..bytes.len().min(200)]);
    let text = text.trim_start();
    // A bare literal only when it is all there is ("404 page not found" is text).
    let alone = text.split_whitespace().count() == 1;
    let first = text.split_whitespace().next().unwrap_or_default();
    if text.starts_with('[') {
        "a JSON array".into()
    } else if text.starts_with('"') {
        "a JSON string".into()
    } else if alone && first == "null" {
        "JSON null".into()
    } else if alone && (first == "true" || first == "false") {
        "a JSON boolean".into()
    } else if alone && first.parse::<f64>().is_ok() {
        "a JSON number".into()
    } else if text.starts_with('<') {
        "an HTML page".into()
    } else if text.is_empty() {
        "an empty body".into()
    } else {
        let line: String = text.lines().next().unwrap_or_default().chars().take(60).collect();
        format!("text (\"{line}\")")
    }
}

/// The layer: add it with `ClientBuilder::with_layer`.
#[derive(Debug, Clone, Copy)]
pub struct LimitLayer(pub Limits);

impl<S> tower::Layer<S> for LimitLayer {
    type Service = Limited<S>;
    fn layer(&self, inner: S) -> Limited<S> {
        Limited { inner, limits: self.0, held: Arc::default() }
    }
}

#[derive(Debug, Clone)]
pub struct Limited<S> {
    inner: S,
    limits: Limits,
    /// Bytes of the answers being read right now, all requests together: lists read several
    /// kinds at once, and the cap is on what the process holds, not on each answer alone.
    held: Arc<AtomicU64>,
}

type ResponseFuture<B> = Pin<Box<dyn Future<Output = Result<Response<LimitedBody<B>>, BoxError>> + Send>>;

impl<S, ReqBody, B> tower::Service<Request<ReqBody>> for Limited<S>
where
    S: tower::Service<Request<ReqBody>, Response = Response<B>>,
    S::Error: Into<BoxError>,
    S::Future: Send + 'static,
    B: Body<Data = Bytes> + Unpin + Send + 'static,
    B::Error: Into<BoxError>,
{
    type Response = Response<LimitedBody<B>>;
    type Error = BoxError;
    type Future = ResponseFuture<B>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, request: Request<ReqBody>) -> Self::Future {
        let line = request_line(&request);
        let limits = self.limits;
        let held = self.held.clone();
        let deadline = limits.deadline.map(|d| (Instant::now() + d, d));
        let future = self.inner.call(request);
        Box::pin(async move {
            let answered = match deadline {
                Some((at, after)) => match tokio::time::timeout_at(at, future).await {
                    Ok(answered) => answered,
                    Err(_) => {
                        return Err(
                            Failure::TimedOut { request: line, after, from_flag: limits.from_flag }.into()
                        );
                    }
                },
                None => future.await,
            };
            let response =
                answered.map_err(|e| Failure::Transport { request: line.clone(), source: e.into() })?;
            let (parts, body) = response.into_parts();
            // Errors (4xx/5xx) are read by kube as a Status, or as text when they are not JSON.
            let must_be_object = parts.status.is_success();
            if must_be_object {
                if let Some(found) = unexpected_content_type(&parts.headers) {
                    return Err(Failure::NotAnObject { request: line, found }.into());
                }
            }
            let body = LimitedBody {
                inner: body,
                sleep: deadline.map(|(at, after)| (Box::pin(tokio::time::sleep_until(at)), after)),
                from_flag: limits.from_flag,
                request: line,
                seen: 0,
                held,
                limit: limits.max_body,
                start: if must_be_object { Start::Unseen } else { Start::Unchecked },
                done: false,
            };
            Ok(Response::from_parts(parts, body))
        })
    }
}

/// A content type other than JSON; a missing one is taken as JSON (as client-go does).
fn unexpected_content_type(headers: &http::HeaderMap) -> Option<String> {
    let value = headers.get(http::header::CONTENT_TYPE)?;
    let text = value.to_str().unwrap_or("?");
    let essence = text.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    let json =
        essence == "application/json" || (essence.starts_with("application/") && essence.ends_with("+json"));
    (!json).then(|| match essence.as_str() {
        "text/html" => format!("an HTML page ({text})"),
        _ => format!("content of type {text}"),
    })
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Start {
    /// Not checked (an error status: kube reads it as a Status or as text).
    Unchecked,
    /// Only whitespace so far.
    Unseen,
    Object,
}

/// The response body with the request's deadline and the size cap applied while it streams.
pub struct LimitedBody<B> {
    inner: B,
    sleep: Option<(Pin<Box<Sleep>>, Duration)>,
    from_flag: bool,
    request: String,
    seen: u64,
    /// Shared with the other answers being read (see `Limited::held`); this one's `seen` is in it.
    held: Arc<AtomicU64>,
    limit: u64,
    start: Start,
    /// After an error nothing more is read.
    done: bool,
}

impl<B> LimitedBody<B> {
    fn fail(&mut self, failure: Failure) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        self.done = true;
        Poll::Ready(Some(Err(failure.into())))
    }
}

impl<B> Drop for LimitedBody<B> {
    fn drop(&mut self) {
        self.held.fetch_sub(self.seen, Ordering::Relaxed);
    }
}

impl<B> Body for LimitedBody<B>
where
    B: Body<Data = Bytes> + Unpin,
    B::Error: Into<BoxError>,
{
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = self.get_mut();
        if this.done {
            return Poll::Ready(None);
        }
        if let Some((sleep, after)) = &mut this.sleep {
            if sleep.as_mut().poll(cx).is_ready() {
                let failure = Failure::TimedOut {
                    request: this.request.clone(),
                    after: *after,
                    from_flag: this.from_flag,
                };
                return this.fail(failure);
            }
        }
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(None) => {
                if this.start == Start::Unseen {
                    let found = describe_start(b"");
                    return this.fail(Failure::NotAnObject { request: this.request.clone(), found });
                }
                this.done = true;
                Poll::Ready(None)
            }
            Poll::Ready(Some(Err(e))) => {
                let failure = Failure::Transport { request: this.request.clone(), source: e.into() };
                this.fail(failure)
            }
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref() {
                    let size = data.len() as u64;
                    this.seen = this.seen.saturating_add(size);
                    let held = this.held.fetch_add(size, Ordering::Relaxed).saturating_add(size);
                    if this.seen > this.limit || held > this.limit {
                        let failure = Failure::TooLarge { request: this.request.clone(), limit: this.limit };
                        return this.fail(failure);
                    }
                    if this.start == Start::Unseen {
                        match data.iter().find(|b| !b.is_ascii_whitespace()) {
                            Some(b'{') => this.start = Start::Object,
                            Some(_) => {
                                let found = describe_start(data);
                                return this
                                    .fail(Failure::NotAnObject { request: this.request.clone(), found });
                            }
                            None => {}
                        }
                    }
                }
                Poll::Ready(Some(Ok(frame)))
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.done || (self.start != Start::Unseen && self.inner.is_end_stream())
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_as_written() {
        for (d, text) in [
            (Duration::from_secs(2), "2s"),
            (Duration::from_secs(90), "1m30s"),
            (Duration::from_secs(120), "2m"),
            (Duration::from_millis(500), "500ms"),
            (Duration::from_millis(1500), "1.5s"),
            (Duration::from_secs(3600), "1h0m0s"),
        ] {
            assert_eq!(duration_text(d), text);
        }
    }

    #[test]
    fn non_objects_are_named() {
        for (body, found) in [
            (&b"[1, 2]"[..], "a JSON array"),
            (b"  \"x\"", "a JSON string"),
            (b"null", "JSON null"),
            (b"false", "a JSON boolean"),
            (b"-1", "a JSON number"),
            (b"<!DOCTYPE html>", "an HTML page"),
            (b"", "an empty body"),
            (b"404 page not found\nmore", "text (\"404 page not found\")"),
            (b"Bad Gateway\n", "text (\"Bad Gateway\")"),
        ] {
            assert_eq!(describe_start(body), found, "{}", String::from_utf8_lossy(body));
        }
    }

    #[test]
    fn the_flag_sets_the_deadline() {
        assert_eq!(Limits::new(None).deadline, Some(DEFAULT_DEADLINE));
        assert!(!Limits::new(None).from_flag);
        assert_eq!(Limits::new(Some(Duration::ZERO)).deadline, None);
        assert_eq!(Limits::new(Some(Duration::from_secs(3))).deadline, Some(Duration::from_secs(3)));
    }

    #[test]
    fn content_types_other_than_json_are_refused() {
        let with = |ct: &str| {
            let mut h = http::HeaderMap::new();
            h.insert(http::header::CONTENT_TYPE, ct.parse().unwrap());
            unexpected_content_type(&h)
        };
        assert_eq!(with("application/json"), None);
        assert_eq!(with("application/json; charset=utf-8"), None);
        assert_eq!(with("application/merge-patch+json"), None);
        assert!(with("text/html; charset=utf-8").unwrap().starts_with("an HTML page"));
        assert_eq!(with("text/plain").unwrap(), "content of type text/plain");
        assert_eq!(unexpected_content_type(&http::HeaderMap::new()), None);
    }
}
