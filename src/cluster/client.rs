//! The one place a client is built from kubectl's settings, and where API errors become user errors.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use kube::Client;
use kube::config::{Config, KubeConfigOptions, Kubeconfig};

use crate::cluster::transport::{Failure, LimitLayer, Limits};
use crate::error::{Error, FieldConflict, Result};
use crate::format::canonical::fnv32;
use crate::model::target::{Action, check_namespace};

/// A connected cluster plus what error messages need to say about it.
#[derive(Clone)]
pub struct Cluster {
    pub client: Client,
    /// Namespace from -n, else the context's, else "default".
    pub namespace: String,
    pub all_namespaces: bool,
    /// The API server URL, named when it cannot be reached.
    pub server: String,
    /// Where the cluster's role profile is cached.
    pub cache_dir: PathBuf,
    /// Who is asking (a digest of the credentials and impersonation): what one user may read of
    /// the profile is not what another may, so cached outcomes are kept per identity.
    pub identity: String,
}

/// kubectl's cluster flags (cli-runtime's `ConfigFlags`) as plain settings; `commands` makes them
/// from the command line.
#[derive(Debug, Clone, Default)]
pub struct ClientOptions {
    pub kubeconfig: Option<PathBuf>,
    pub context: Option<String>,
    pub cluster: Option<String>,
    pub user: Option<String>,
    pub namespace: Option<String>,
    pub all_namespaces: bool,
    pub as_user: Option<String>,
    pub as_group: Vec<String>,
    pub token: Option<String>,
    pub server: Option<String>,
    pub insecure_skip_tls_verify: bool,
    pub cache_dir: Option<PathBuf>,
    /// 6 or more: each request on stderr.
    pub verbosity: u8,
}

/// The client's configuration, read and checked: what `connect` builds the client from.
pub struct Configured {
    config: Config,
    server: String,
    namespace: String,
    all_namespaces: bool,
    cache_dir: PathBuf,
    log_requests: bool,
}

/// Reads the configuration the way kubectl does: --kubeconfig, else $KUBECONFIG (a merged list),
/// else ~/.kube/config; then --context/--cluster/--user, then the overriding flags.
pub async fn configure(options: &ClientOptions) -> Result<Configured> {
    let config = load_config(options).await?;
    let server = config.cluster_url.to_string().trim_end_matches('/').to_string();
    let namespace = options.namespace.clone().unwrap_or_else(|| config.default_namespace.clone());
    check_namespace(&namespace)?;
    let cache_dir = cache_dir(options, &server);
    Ok(Configured {
        config,
        server,
        namespace,
        all_namespaces: options.all_namespaces,
        cache_dir,
        log_requests: options.verbosity >= 6,
    })
}

impl Configured {
    /// The client; `request_timeout` is each request's deadline (None: the default one).
    pub fn connect(self, request_timeout: Option<Duration>) -> Result<Cluster> {
        let Configured { config, server, namespace, all_namespaces, cache_dir, log_requests } = self;
        let limits = Limits::new(request_timeout);
        let builder = kube::client::ClientBuilder::try_from(config.clone())
            .map_err(|e| Error::Kubeconfig(format!("cannot set up a client for {server}: {e}")))?
            .with_layer(&LimitLayer(limits));
        let client = if log_requests {
            builder.with_layer(&tower::layer::layer_fn(RequestLog::new)).build()
        } else {
            builder.build()
        };
        let credentials = serde_json::to_string(&config.auth_info).unwrap_or_default();
        let identity = format!("{:08x}", fnv32(&credentials));
        Ok(Cluster { client, namespace, all_namespaces, server, cache_dir, identity })
    }
}

/// `--context` naming a context the kubeconfig lacks: the ones it has, so the fix is one copy away.
fn unknown_context<'a>(context: &str, known: impl Iterator<Item = &'a str>) -> String {
    let known: Vec<String> = known.map(|name| format!("\"{name}\"")).collect();
    if known.is_empty() {
        format!(
            "the kubeconfig has no context \"{context}\" (it has none); see `kubectl config get-contexts`"
        )
    } else {
        format!(
            "the kubeconfig has no context \"{context}\"; it has {}; see `kubectl config get-contexts`",
            known.join(", ")
        )
    }
}

async fn load_config(options: &ClientOptions) -> Result<Config> {
    let selected = KubeConfigOptions {
        context: options.context.clone(),
        cluster: options.cluster.clone(),
        user: options.user.clone(),
    };
    let kubeconfig = read_kubeconfig(options)?;
    if let Some(kc) = &kubeconfig {
        // As kubectl: naming a user or cluster the kubeconfig lacks is an error, not anonymous access.
        if let Some(user) = &options.user {
            if !kc.auth_infos.iter().any(|a| &a.name == user) {
                return Err(Error::Kubeconfig(format!(
                    "the kubeconfig has no user \"{user}\"; see `kubectl config view`"
                )));
            }
        }
        if let Some(context) = &options.context {
            if !kc.contexts.iter().any(|c| &c.name == context) {
                return Err(Error::Kubeconfig(unknown_context(
                    context,
                    kc.contexts.iter().map(|c| c.name.as_str()),
                )));
            }
        }
        if let Some(cluster) = &options.cluster {
            if !kc.clusters.iter().any(|c| &c.name == cluster) {
                return Err(Error::Kubeconfig(format!(
                    "the kubeconfig has no cluster \"{cluster}\"; see `kubectl config view`"
                )));
            }
        }
    }
    let mut config = match kubeconfig {
        Some(kc) => Config::from_custom_kubeconfig(kc, &selected)
            .await
            .map_err(|e| Error::Kubeconfig(format!("kubeconfig: {e}")))?,
        None => match &options.server {
            Some(server) => Config::new(parse_server(server)?),
            None => {
                return Err(Error::Kubeconfig(
                    "no kubeconfig found ($KUBECONFIG and ~/.kube/config are unset or missing); pass --kubeconfig FILE or --server URL".into(),
                ));
            }
        },
    };
    if let Some(server) = &options.server {
        config.cluster_url = parse_server(server)?;
    }
    if let Some(token) = &options.token {
        // It goes into an HTTP header: a stray control character (a CRLF token file) would be
        // refused there much less clearly.
        if token.is_empty() || token.chars().any(|c| c.is_control() || c == ' ') {
            return Err(Error::Usage(
                "--token has spaces or control characters; pass the bare token (check for a trailing newline or \\r)".into(),
            ));
        }
        config.auth_info = kube::config::AuthInfo { token: Some(token.clone().into()), ..Default::default() };
    }
    if options.insecure_skip_tls_verify {
        config.accept_invalid_certs = true;
    }
    if let Some(user) = &options.as_user {
        config.auth_info.impersonate = Some(user.clone());
    }
    if !options.as_group.is_empty() && options.as_user.is_none() {
        return Err(Error::Usage("--as-group needs --as USER, as in kubectl".into()));
    }
    if !options.as_group.is_empty() {
        config.auth_info.impersonate_groups = Some(options.as_group.clone());
    }
    // --request-timeout is a deadline for each whole request (transport.rs), not kube's idle timeouts.
    Ok(config)
}

/// The kubeconfig's context names (for completion), without contacting any server.
pub fn context_names(options: &ClientOptions) -> Result<Vec<String>> {
    Ok(read_kubeconfig(options)?
        .map(|kc| kc.contexts.into_iter().map(|c| c.name).collect())
        .unwrap_or_default())
}

/// The context the kubeconfig chooses when `--context` is not given, without contacting any server.
pub fn current_context(options: &ClientOptions) -> Result<Option<String>> {
    Ok(read_kubeconfig(options)?.and_then(|kc| kc.current_context).filter(|c| !c.is_empty()))
}

fn read_kubeconfig(options: &ClientOptions) -> Result<Option<Kubeconfig>> {
    let describe = |path: &std::path::Path, e: kube::config::KubeconfigError| {
        // The YAML parser adds a multi-line excerpt after " --> "; the first part says it all.
        let text = e.to_string();
        let mut reason = text.split(" --> ").next().unwrap_or_default().trim();
        // kube's "failed to read kubeconfig from '\"PATH\"': CAUSE" repeats the path, quoted twice.
        if let Some((_, cause)) =
            reason.split_once("': ").filter(|(head, _)| head.starts_with("failed to read kubeconfig from"))
        {
            reason = cause;
        }
        Error::Kubeconfig(format!("cannot read kubeconfig {}: {reason}", path.display()))
    };
    if let Some(path) = &options.kubeconfig {
        return Kubeconfig::read_from(path).map(Some).map_err(|e| describe(path, e));
    }
    if let Some(paths) = std::env::var_os("KUBECONFIG") {
        let paths: Vec<PathBuf> =
            std::env::split_paths(&paths).filter(|p| !p.as_os_str().is_empty()).collect();
        if !paths.is_empty() {
            // As kubectl: the first file to set a value wins; files that do not exist are skipped.
            let mut merged: Option<Kubeconfig> = None;
            for path in paths.iter().filter(|p| p.exists()) {
                let next = Kubeconfig::read_from(path).map_err(|e| describe(path, e))?;
                merged = Some(match merged {
                    None => next,
                    Some(m) => m.merge(next).map_err(|e| describe(path, e))?,
                });
            }
            return Ok(merged);
        }
    }
    let home = std::env::var_os("HOME").map(PathBuf::from);
    match home.map(|h| h.join(".kube").join("config")) {
        Some(path) if path.exists() => Kubeconfig::read_from(&path).map(Some).map_err(|e| describe(&path, e)),
        _ => Ok(None),
    }
}

fn parse_server(server: &str) -> Result<http::Uri> {
    let with_scheme = if server.contains("://") { server.to_string() } else { format!("https://{server}") };
    with_scheme.parse().map_err(|e| Error::Usage(format!("invalid --server \"{server}\": {e}")))
}

fn cache_dir(options: &ClientOptions, server: &str) -> PathBuf {
    let base = options
        .cache_dir
        .clone()
        .or_else(|| std::env::var_os("KUBECACHEDIR").map(PathBuf::from))
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".kube").join("cache")))
        .unwrap_or_else(std::env::temp_dir);
    let host: String = server
        .trim_start_matches("https://")
        .trim_start_matches("http://")
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '.' || c == '-' { c } else { '_' })
        .collect();
    base.join("oam").join(host)
}

impl Cluster {
    /// Turns a kube-rs error into one clear line.
    pub fn error(&self, err: kube::Error, action: &Action) -> Error {
        match err {
            kube::Error::Api(status) if not_a_status(&status) => self.not_a_status(&status, Some(action)),
            kube::Error::Api(status) => match status.code {
                404 => Error::NotFound {
                    kind: action.kind.to_string(),
                    name: action.name.to_string(),
                    namespace: action.namespace.to_string(),
                },
                403 => Error::Forbidden { message: status.message.clone() },
                409 => {
                    let conflicts = conflicts_from_status(&status);
                    if conflicts.is_empty() {
                        Error::Api {
                            message: format!(
                                "{}: {}; re-run to retry against the latest version",
                                action.object(),
                                status.message
                            ),
                        }
                    } else {
                        Error::Conflict { object: action.object(), conflicts, hint: String::new() }
                    }
                }
                401 => self.unauthorized(),
                _ => Error::Api { message: format!("{}: {}", action.object(), status.message) },
            },
            other => self.trouble(&other, Some(action)),
        }
    }

    /// The server answered, but not with what was asked for; `what` names the request and the answer.
    pub fn bad_answer(&self, what: String) -> Error {
        Error::BadAnswer { server: self.server.clone(), what }
    }

    /// A write that was sent but whose outcome is unknown; `role` is the role whose `get` shows it.
    pub fn maybe_applied(&self, action: &Action, role: &str, cause: String) -> Error {
        Error::MaybeApplied {
            object: action.object(),
            cause,
            check: crate::error::suggest(
                &format!("{role} get {}/{}", action.kind.to_lowercase(), action.name),
                action.namespace,
            ),
        }
    }

    fn unauthorized(&self) -> Error {
        Error::Unauthorized { server: self.server.clone() }
    }

    /// Errors without an object to name (lists, the HPA lookup, completion).
    pub fn transport_error(&self, err: kube::Error) -> Error {
        match err {
            kube::Error::Api(status) if not_a_status(&status) => self.not_a_status(&status, None),
            kube::Error::Api(status) => match status.code {
                401 => self.unauthorized(),
                403 => Error::Forbidden { message: status.message.clone() },
                _ => Error::Api { message: status.message.clone() },
            },
            other => self.trouble(&other, None),
        }
    }

    /// The error of a real (not dry-run) write. Once the request may have reached the server, a
    /// missing or broken answer does not mean nothing happened: say so, and how to check.
    /// `role` is the role whose `get` shows the result.
    pub fn write_error(&self, err: kube::Error, action: &Action, role: &str) -> Error {
        let maybe_applied = |cause: String| self.maybe_applied(action, role, cause);
        match err {
            // kube-apiserver's own timeout (504): the write goes on without the answer.
            kube::Error::Api(status) if status.code == 504 || status.reason == "Timeout" => maybe_applied(
                format!("the server at {} gave up waiting ({})", self.server, one_line(&status.message)),
            ),
            kube::Error::Api(status) if not_a_status(&status) && status.code != 401 => maybe_applied(
                format!("the server at {} answered the apply with {}", self.server, what_status(&status)),
            ),
            err @ kube::Error::Api(_) => self.error(err, action),
            other => match self.trouble(&other, Some(action)) {
                // Nothing was sent: no connection, no TLS, no credentials.
                sure @ (Error::Unreachable { .. } | Error::Tls { .. } | Error::Credentials { .. }) => sure,
                Error::TimedOut { request, within, .. } => maybe_applied(format!(
                    "the server at {} did not finish answering {request} within {within}",
                    self.server
                )),
                Error::ConnectionLost { during, cause, .. } => {
                    maybe_applied(format!("the connection to {} was lost{during} ({cause})", self.server))
                }
                Error::TooLarge { request, limit_mib, .. } => maybe_applied(format!(
                    "the server at {} answered {request} with more than {limit_mib} MiB",
                    self.server
                )),
                Error::BadAnswer { what, .. } => {
                    maybe_applied(format!("the server at {} answered {what}", self.server))
                }
                other => other,
            },
        }
    }

    /// An error that is not an API status: the chain of causes says what really happened.
    fn trouble(&self, err: &kube::Error, action: Option<&Action>) -> Error {
        let server = self.server.clone();
        let chain = causes(err);
        let mut request = None;
        if let Some(failure) = chain.iter().find_map(|e| e.downcast_ref::<Failure>()) {
            match failure {
                Failure::TimedOut { request, after, from_flag } => {
                    let after = crate::cluster::transport::duration_text(*after);
                    let (within, advice) = if *from_flag {
                        (format!("{after} (--request-timeout)"), "raise --request-timeout".to_string())
                    } else {
                        (
                            format!("{after} (the limit when --request-timeout is not set)"),
                            "set --request-timeout (0 for no limit)".to_string(),
                        )
                    };
                    return Error::TimedOut { server, request: request.clone(), within, advice };
                }
                Failure::TooLarge { request, limit } => {
                    let limit_mib = limit / (1024 * 1024);
                    return Error::TooLarge { server, request: request.clone(), limit_mib };
                }
                Failure::NotAnObject { request, found } => {
                    return Error::BadAnswer {
                        server,
                        what: format!("{request} with {found}, not a JSON object"),
                    };
                }
                Failure::Transport { request: r, .. } => request = Some(r.clone()),
            }
        }
        if let Some(tls) = chain.iter().find_map(|e| e.downcast_ref::<rustls::Error>()) {
            return Error::Tls { server, problem: tls_problem(tls) };
        }
        let cause = root_cause(err);
        let connecting = chain
            .iter()
            .any(|e| e.downcast_ref::<hyper_util::client::legacy::Error>().is_some_and(|e| e.is_connect()));
        if connecting {
            // hyper-util names the step that failed: "dns error", "tcp connect error".
            let advice = if chain.iter().any(|e| e.to_string() == "dns error") {
                "check the host name of the server URL (the kubeconfig's cluster, or --server)"
            } else {
                "is it running? check --kubeconfig/--context"
            };
            return Error::Unreachable { server, cause, advice: advice.into() };
        }
        let about = || match action {
            Some(a) => format!("the request for {}", a.object()),
            None => "a request".to_string(),
        };
        match err {
            kube::Error::Auth(_) => Error::Credentials { server, cause },
            kube::Error::SerdeError(e) => Error::BadAnswer {
                server,
                what: format!("{} with malformed or unexpected JSON ({})", about(), one_line(&e.to_string())),
            },
            kube::Error::FromUtf8(_) => {
                Error::BadAnswer { server, what: format!("{} with text that is not UTF-8", about()) }
            }
            _ => Error::ConnectionLost {
                server,
                during: request.map(|r| format!(" during {r}")).unwrap_or_default(),
                cause,
            },
        }
    }

    /// An error status whose body is not a Kubernetes Status (a proxy's HTML page, plain text).
    fn not_a_status(&self, status: &kube::core::Status, action: Option<&Action>) -> Error {
        if status.code == 401 {
            return self.unauthorized();
        }
        let about = action.map(|a| format!("the request for {} ", a.object())).unwrap_or_default();
        Error::BadAnswer { server: self.server.clone(), what: format!("{about}with {}", what_status(status)) }
    }
}

/// kube makes up a Status with this reason when an error body is not a Status.
fn not_a_status(status: &kube::core::Status) -> bool {
    status.reason == "Failed to parse error data"
}

fn what_status(status: &kube::core::Status) -> String {
    format!(
        "HTTP {} and {}, not a Kubernetes Status",
        status.code,
        crate::cluster::transport::describe_start(status.message.as_bytes())
    )
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// What a TLS failure means, and what to do about it.
fn tls_problem(err: &rustls::Error) -> String {
    use rustls::CertificateError as C;
    let trust = "check the cluster's certificate-authority(-data) in the kubeconfig: it may be stale or another cluster's";
    let names = "check the server URL, or the cluster's tls-server-name in the kubeconfig";
    match err {
        rustls::Error::InvalidCertificate(cert) => match cert {
            C::UnknownIssuer | C::BadSignature => {
                format!("the server's certificate is not signed by a CA the kubeconfig trusts (unknown issuer); {trust}")
            }
            C::NotValidForName => format!("the server's certificate is not valid for the name used; {names}"),
            C::NotValidForNameContext { expected, presented } => format!(
                "the server's certificate is not valid for \"{}\" (it is for {}); {names}",
                expected.to_str(),
                if presented.is_empty() {
                    "no name".to_string()
                } else {
                    presented.iter().map(|n| bare_name(n)).collect::<Vec<_>>().join(", ")
                }
            ),
            C::Expired | C::ExpiredContext { .. } => {
                "the server's certificate has expired (or this machine's clock is wrong); renew the certificate or fix the clock".into()
            }
            C::NotValidYet | C::NotValidYetContext { .. } => {
                "the server's certificate is not valid yet (or this machine's clock is wrong); check the clock".into()
            }
            other => format!("the server's certificate was refused ({other:?}); {trust}"),
        },
        rustls::Error::InvalidMessage(_) => {
            "the server does not speak TLS; if it serves plain HTTP, use an http:// server URL".into()
        }
        rustls::Error::AlertReceived(alert) => format!(
            "the server refused the connection (TLS alert {alert:?}); if it requires a client certificate, check the kubeconfig user's client-certificate and key"
        ),
        other => format!("{other}; check the server URL and the kubeconfig's certificate settings"),
    }
}

/// rustls lists certificate names as `DnsName("kubernetes")`, `IpAddress(10.0.0.1)`: the name alone.
fn bare_name(presented: &str) -> &str {
    match (presented.find('('), presented.rfind(')')) {
        (Some(open), Some(close)) if open < close => presented[open + 1..close].trim_matches('"'),
        _ => presented,
    }
}

/// Every error in the chain of causes. An io::Error hides the error it wraps from `source()`
/// (a TLS failure is an io::Error around a rustls::Error), so look inside those too.
fn causes<'a>(err: &'a (dyn std::error::Error + 'static)) -> Vec<&'a (dyn std::error::Error + 'static)> {
    let mut out = Vec::new();
    let mut next = Some(err);
    while let Some(e) = next.take() {
        out.push(e);
        if out.len() > 32 {
            break;
        }
        next = match e.downcast_ref::<std::io::Error>().and_then(|io| io.get_ref()) {
            Some(inner) => Some(inner as &(dyn std::error::Error + 'static)),
            None => e.source(),
        };
    }
    out
}

/// The innermost cause, which is the one that says what went wrong ("Connection refused").
fn root_cause(err: &(dyn std::error::Error + 'static)) -> String {
    let text = causes(err).last().map(|e| e.to_string()).unwrap_or_default();
    // io errors carry "(os error 111)" which says nothing more to a user.
    let text = match text.find(" (os error") {
        Some(i) => text[..i].to_string(),
        None => text,
    };
    one_line(&text)
}

/// The server lists each conflicting field as a cause: message `conflict with "helm" using apps/v1`,
/// field `.spec.replicas`.
pub fn conflicts_from_status(status: &kube::core::Status) -> Vec<FieldConflict> {
    let Some(details) = &status.details else {
        return Vec::new();
    };
    details
        .causes
        .iter()
        .filter(|c| c.reason == "FieldManagerConflict")
        .map(|c| FieldConflict {
            manager: c.message.split('"').nth(1).unwrap_or(c.message.as_str()).to_string(),
            field: c.field.clone(),
            note: None,
        })
        .collect()
}

/// `-v 6`: one stderr line per request, as kubectl's round-tripper logging.
#[derive(Clone)]
pub struct RequestLog<S> {
    inner: S,
}

impl<S> RequestLog<S> {
    fn new(inner: S) -> Self {
        RequestLog { inner }
    }
}

impl<S, B, R> tower::Service<http::Request<B>> for RequestLog<S>
where
    S: tower::Service<http::Request<B>, Response = http::Response<R>>,
    S::Future: Send + 'static,
    S::Error: 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = std::pin::Pin<
        Box<dyn std::future::Future<Output = std::result::Result<S::Response, S::Error>> + Send>,
    >;

    fn poll_ready(
        &mut self,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::result::Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        let line = format!("{} {}", request.method(), request.uri());
        let start = Instant::now();
        let future = self.inner.call(request);
        Box::pin(async move {
            let result = future.await;
            let status = match &result {
                Ok(response) => response.status().as_u16().to_string(),
                Err(_) => "failed".to_string(),
            };
            eprintln!(
                "I0000 round_trippers] {line} {status} in {} milliseconds",
                start.elapsed().as_millis()
            );
            result
        })
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn an_unknown_context_lists_the_known_ones() {
        let said = super::unknown_context("prod", ["admin", "dev"].into_iter());
        assert_eq!(
            said,
            "the kubeconfig has no context \"prod\"; it has \"admin\", \"dev\"; see `kubectl config get-contexts`"
        );
        assert!(super::unknown_context("prod", std::iter::empty()).contains("(it has none)"));
    }

    use super::*;

    #[test]
    fn conflicts_parse_manager_and_field() {
        let status: kube::core::Status = serde_json::from_value(serde_json::json!({
            "status": "Failure", "code": 409, "reason": "Conflict",
            "message": "Apply failed with 1 conflict: conflict with \"helm\" using apps/v1: .spec.replicas",
            "details": {"causes": [{"reason": "FieldManagerConflict", "message": "conflict with \"helm\" using apps/v1", "field": ".spec.replicas"}]}
        }))
        .unwrap();
        assert_eq!(
            conflicts_from_status(&status),
            vec![FieldConflict { manager: "helm".into(), field: ".spec.replicas".into(), note: None }]
        );
    }

    #[test]
    fn root_cause_drops_os_error_suffix() {
        let err =
            std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "Connection refused (os error 111)");
        assert_eq!(root_cause(&err), "Connection refused");
    }
}
