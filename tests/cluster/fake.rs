//! Every command against a misbehaving API server: a small fake on 127.0.0.1 (plain HTTP) that
//! answers one kind of request badly — arrays, strings, null, truncated JSON, HTML, the wrong kind,
//! empty bodies, wrong content types, a body that stalls, a body that never ends, a connection closed
//! without an answer. No control plane needed. Each command must end with exit 2 and exactly one
//! `error:` line, never a panic; stalled and endless bodies must end, with memory bounded.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::harness::oam_binary;

const NAMESPACE: &str = "fake";

/// What the fake answers to the requests it is told to spoil.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Answer {
    Good,
    Array,
    String,
    Null,
    Truncated,
    Html,
    WrongKind,
    Empty,
    WrongContentType,
    ProxyError,
    Unauthorized,
    /// Reads the request, then closes the connection without a word.
    Hangup,
    /// Reads the request and never answers.
    Silent,
    /// Headers, then one byte a second.
    Stall,
    /// A chunked 200 that never ends.
    Endless,
}

const MALFORMED: [Answer; 11] = [
    Answer::Array,
    Answer::String,
    Answer::Null,
    Answer::Truncated,
    Answer::Html,
    Answer::WrongKind,
    Answer::Empty,
    Answer::WrongContentType,
    Answer::ProxyError,
    Answer::Unauthorized,
    Answer::Hangup,
];

/// Which requests get the bad answer; the others are answered as a real server would.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Spoil {
    /// Every GET of workloads and HPAs.
    Reads,
    /// The GET of the role profile's ConfigMap (the first request of most commands).
    Profile,
    /// The server-side apply dry-run.
    DryRun,
    /// The real server-side apply.
    Commit,
}

fn live_deployment() -> Value {
    json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {
            "name": "web", "namespace": NAMESPACE, "uid": "0b5c6e1e-0000-4000-8000-000000000001",
            "resourceVersion": "7", "generation": 1, "labels": {"app": "web"},
            "managedFields": [{"manager": "kubectl-client-side-apply", "operation": "Update", "apiVersion": "apps/v1",
                               "time": "2026-01-01T00:00:00Z", "fieldsType": "FieldsV1",
                               "fieldsV1": {"f:spec": {"f:replicas": {}}}}]
        },
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "app", "image": "nginx:1.25", "env": [{"name": "MODE", "value": "prod"}]}]}
            }
        },
        "status": {}
    })
}

/// Objects merge key by key; lists are replaced (enough for the bodies these commands send).
fn merge(live: &mut Value, patch: &Value) {
    match (live, patch) {
        (Value::Object(l), Value::Object(p)) => {
            for (k, v) in p {
                merge(l.entry(k.clone()).or_insert(Value::Null), v);
            }
        }
        (l, p) => *l = p.clone(),
    }
}

struct Request {
    method: String,
    target: String,
    body: Vec<u8>,
}

impl Request {
    fn spoiled_by(&self, spoil: Spoil) -> bool {
        let profile = self.target.contains("/configmaps/");
        let dry_run = self.target.contains("dryRun=All");
        match spoil {
            Spoil::Reads => self.method == "GET" && !profile,
            Spoil::Profile => profile,
            Spoil::DryRun => self.method == "PATCH" && dry_run,
            Spoil::Commit => self.method == "PATCH" && !dry_run,
        }
    }
}

/// Reads one request; None if the peer sent something that is not HTTP (a TLS hello).
fn read_request(stream: &mut TcpStream) -> Option<Request> {
    stream.set_read_timeout(Some(Duration::from_millis(500))).ok()?;
    let mut reader = BufReader::new(stream.try_clone().ok()?);
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let mut parts = line.split_whitespace();
    let (method, target) = (parts.next()?.to_string(), parts.next()?.to_string());
    let mut length = 0;
    loop {
        let mut header = String::new();
        reader.read_line(&mut header).ok()?;
        if header.trim().is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':') {
            if name.eq_ignore_ascii_case("content-length") {
                length = value.trim().parse().ok()?;
            }
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    Some(Request { method, target, body })
}

fn respond(stream: &mut TcpStream, status: &str, content_type: &str, body: &[u8]) {
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let _ = stream.write_all(head.as_bytes()).and_then(|_| stream.write_all(body));
}

fn status(code: u16, reason: &str, message: &str) -> Vec<u8> {
    json!({"kind": "Status", "apiVersion": "v1", "status": "Failure", "code": code, "reason": reason, "message": message})
        .to_string()
        .into_bytes()
}

/// What a real server would answer.
fn good(request: &Request) -> (&'static str, Vec<u8>) {
    let path = request.target.split('?').next().unwrap_or_default();
    let deployments = format!("/apis/apps/v1/namespaces/{NAMESPACE}/deployments");
    if request.method == "PATCH" && path == format!("{deployments}/web") {
        let mut object = live_deployment();
        let body: Value = serde_json::from_slice(&request.body).unwrap_or(Value::Null);
        merge(&mut object, &body);
        return ("200 OK", object.to_string().into_bytes());
    }
    if path == format!("{deployments}/web") {
        return ("200 OK", live_deployment().to_string().into_bytes());
    }
    // `ops autoscale` creates the HPA by server-side apply.
    let hpa = format!("/apis/autoscaling/v2/namespaces/{NAMESPACE}/horizontalpodautoscalers/web");
    if request.method == "PATCH" && path == hpa {
        let mut object =
            json!({"metadata": {"uid": "0b5c6e1e-0000-4000-8000-000000000002", "resourceVersion": "8"}});
        let body: Value = serde_json::from_slice(&request.body).unwrap_or(Value::Null);
        merge(&mut object, &body);
        return ("200 OK", object.to_string().into_bytes());
    }
    if path.contains("/configmaps/") {
        return ("404 Not Found", status(404, "NotFound", "configmaps \"kubectl-oam-profile\" not found"));
    }
    if path == deployments {
        let mut item = live_deployment();
        item.as_object_mut().unwrap().remove("kind");
        return (
            "200 OK",
            json!({"kind": "DeploymentList", "apiVersion": "apps/v1", "metadata": {}, "items": [item]})
                .to_string()
                .into_bytes(),
        );
    }
    let last = path.rsplit('/').next().unwrap_or_default();
    let list_kind = match last {
        "statefulsets" => "StatefulSetList",
        "daemonsets" => "DaemonSetList",
        "replicasets" => "ReplicaSetList",
        "jobs" => "JobList",
        "cronjobs" => "CronJobList",
        "horizontalpodautoscalers" => "HorizontalPodAutoscalerList",
        _ => {
            return (
                "404 Not Found",
                status(404, "NotFound", "the server could not find the requested resource"),
            );
        }
    };
    ("200 OK", json!({"kind": list_kind, "metadata": {}, "items": []}).to_string().into_bytes())
}

fn bad(stream: &mut TcpStream, answer: Answer, request: &Request) {
    let json = "application/json";
    match answer {
        Answer::Good => {
            let (code, body) = good(request);
            respond(stream, code, json, &body)
        }
        Answer::Array => respond(stream, "200 OK", json, format!("[{}]", live_deployment()).as_bytes()),
        Answer::String => respond(stream, "200 OK", json, b"\"web\""),
        Answer::Null => respond(stream, "200 OK", json, b"null"),
        Answer::Truncated => {
            let (_, body) = good(request);
            respond(stream, "200 OK", json, &body[..body.len() / 2])
        }
        Answer::Html => {
            respond(stream, "200 OK", "text/html", b"<!DOCTYPE html><html><body>Sign in</body></html>")
        }
        Answer::WrongKind => respond(
            stream,
            "200 OK",
            json,
            json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web", "namespace": NAMESPACE}})
                .to_string()
                .as_bytes(),
        ),
        Answer::Empty => respond(stream, "200 OK", json, b""),
        Answer::WrongContentType => {
            let (_, body) = good(request);
            respond(stream, "200 OK", "text/plain", &body)
        }
        Answer::ProxyError => respond(
            stream,
            "502 Bad Gateway",
            "text/html",
            b"<html><body><h1>502 Bad Gateway</h1></body></html>\n",
        ),
        Answer::Unauthorized => {
            respond(stream, "401 Unauthorized", json, &status(401, "Unauthorized", "Unauthorized"))
        }
        Answer::Hangup => {}
        Answer::Silent => std::thread::sleep(Duration::from_secs(120)),
        Answer::Stall => {
            let head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100000\r\nConnection: close\r\n\r\n{";
            if stream.write_all(head.as_bytes()).is_err() {
                return;
            }
            for _ in 0..120 {
                std::thread::sleep(Duration::from_secs(1));
                if stream.write_all(b" ").is_err() {
                    return;
                }
            }
        }
        Answer::Endless => {
            let head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n";
            let start = b"{\"items\": [";
            let mut chunk = Vec::new();
            while chunk.len() < 64 * 1024 {
                chunk.extend_from_slice(
                    b"\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\",",
                );
            }
            let framed = |data: &[u8]| {
                let mut out = format!("{:x}\r\n", data.len()).into_bytes();
                out.extend_from_slice(data);
                out.extend_from_slice(b"\r\n");
                out
            };
            let chunk = framed(&chunk);
            if stream.write_all(head.as_bytes()).and_then(|_| stream.write_all(&framed(start))).is_err() {
                return;
            }
            // Until the client hangs up (or 4 GiB, so a client that never stops cannot hang the test).
            for _ in 0..(4u64 << 30) / chunk.len() as u64 {
                if stream.write_all(&chunk).is_err() {
                    return;
                }
            }
        }
    }
}

/// A fake API server on 127.0.0.1 for the life of the test process.
struct Fake {
    port: u16,
    requests: Arc<AtomicUsize>,
}

impl Fake {
    fn start(answer: Answer, spoil: Spoil) -> Fake {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
        let port = listener.local_addr().unwrap().port();
        let requests = Arc::new(AtomicUsize::new(0));
        let count = requests.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let count = count.clone();
                std::thread::spawn(move || match read_request(&mut stream) {
                    Some(request) => {
                        count.fetch_add(1, Ordering::SeqCst);
                        let _ = stream.set_read_timeout(None);
                        let answer = if request.spoiled_by(spoil) { answer } else { Answer::Good };
                        bad(&mut stream, answer, &request);
                    }
                    // Not HTTP (a TLS client hello): answer as a plain HTTP server would.
                    None => respond(&mut stream, "400 Bad Request", "text/plain", b"400 Bad Request"),
                });
            }
        });
        Fake { port, requests }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

static RUNS: AtomicUsize = AtomicUsize::new(0);

fn scratch() -> PathBuf {
    let n = RUNS.fetch_add(1, Ordering::SeqCst);
    let dir = std::env::temp_dir().join(format!("oam-fake-{}-{n}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn kubeconfig(dir: &Path, server: &str) -> PathBuf {
    let path = dir.join("kubeconfig");
    let text = format!(
        "apiVersion: v1\nkind: Config\ncurrent-context: fake\n\
         clusters: [{{name: fake, cluster: {{server: '{server}'}}}}]\n\
         users: [{{name: fake, user: {{token: fake-token}}}}]\n\
         contexts: [{{name: fake, context: {{cluster: fake, user: fake, namespace: {NAMESPACE}}}}}]\n"
    );
    std::fs::write(&path, text).unwrap();
    path
}

#[derive(Debug)]
struct Outcome {
    code: i32,
    stdout: String,
    stderr: String,
    elapsed: Duration,
    /// Peak resident memory (VmHWM), KiB, as last seen while the process ran.
    peak_kib: u64,
}

fn peak_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// The commands, each with what it needs: (args, does it write, a document file's text).
fn commands() -> Vec<(&'static str, Vec<&'static str>)> {
    vec![
        ("dev get", vec!["dev", "get", "deploy/web"]),
        ("ops get", vec!["ops", "get", "deploy/web"]),
        ("dev list", vec!["dev", "list"]),
        ("ops list", vec!["ops", "list", "-o", "wide"]),
        ("dev edit", vec!["dev", "edit", "deploy/web", "--yes"]),
        ("dev apply", vec!["dev", "apply", "-f", "DOC"]),
        ("dev diff", vec!["dev", "diff", "-f", "DOC"]),
        ("set image", vec!["dev", "set", "image", "deploy/web", "app=nginx:1.26"]),
        ("set env", vec!["dev", "set", "env", "deploy/web", "MODE=debug"]),
        ("ops scale", vec!["ops", "scale", "deploy/web", "--replicas", "3"]),
        ("ops autoscale", vec!["ops", "autoscale", "deploy/web", "--max", "4"]),
        ("owners", vec!["owners", "deploy/web"]),
        ("roles", vec!["roles"]),
    ]
}

const WRITES: [&str; 7] =
    ["dev edit", "dev apply", "dev diff", "set image", "set env", "ops scale", "ops autoscale"];

fn run(fake_url: &str, args: &[&str], timeout: &str) -> Outcome {
    let dir = scratch();
    let doc = dir.join("web.yaml");
    std::fs::write(
        &doc,
        format!("kind: Deployment\nname: web\nnamespace: {NAMESPACE}\ncontainers:\n  app:\n    image: nginx:1.26\n    env:\n      MODE: prod\n"),
    )
    .unwrap();
    let args: Vec<String> =
        args.iter().map(|a| if *a == "DOC" { doc.display().to_string() } else { a.to_string() }).collect();
    let start = Instant::now();
    let mut child = Command::new(oam_binary())
        .env("KUBECONFIG", kubeconfig(&dir, fake_url))
        .env("KUBECACHEDIR", dir.join("cache"))
        .env("KUBE_EDITOR", "sed -i s/nginx:1.25/nginx:1.26/")
        .env("NO_COLOR", "1")
        .env("RUST_BACKTRACE", "1")
        .env_remove("KUBECTL_EXTERNAL_DIFF")
        .args(&args)
        .args(["--request-timeout", timeout])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn kubectl-oam");
    let pid = child.id();
    let mut stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let out = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stdout.read_to_string(&mut text);
        text
    });
    let err = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        text
    });
    let mut peak = 0;
    let code = loop {
        if let Some(kib) = peak_kib(pid) {
            peak = peak.max(kib);
        }
        if let Some(status) = child.try_wait().unwrap() {
            break status.code().unwrap_or(-1);
        }
        // A generous bound: a command that outlives it never ends on its own.
        if start.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            let _ = child.wait();
            break -9;
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let elapsed = start.elapsed();
    let _ = std::fs::remove_dir_all(&dir);
    Outcome { code, stdout: out.join().unwrap(), stderr: err.join().unwrap(), elapsed, peak_kib: peak }
}

/// Exit 2, one `error:` line and nothing else (no panic, no backtrace); returns the line.
#[track_caller]
fn one_error(case: &str, outcome: &Outcome) -> String {
    let lines: Vec<&str> = outcome.stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert!(
        outcome.code == 2 && lines.len() == 1 && lines[0].starts_with("error: "),
        "{case}: expected exit 2 and one error line, got {outcome:#?}"
    );
    assert!(
        !outcome.stderr.contains("panicked") && !outcome.stderr.contains("backtrace"),
        "{case}: {outcome:#?}"
    );
    lines[0].to_string()
}

/// What the error line must say for each bad answer, on a read or a dry-run.
fn expected(answer: Answer) -> &'static [&'static str] {
    match answer {
        Answer::Array => &["a JSON array, not a JSON object"],
        Answer::String => &["a JSON string, not a JSON object"],
        Answer::Null => &["JSON null, not a JSON object"],
        Answer::Truncated => &["malformed"],
        Answer::Html => &["an HTML page (text/html)"],
        Answer::WrongKind => &["Pod"],
        Answer::Empty => &["an empty body"],
        Answer::WrongContentType => &["content of type text/plain"],
        Answer::ProxyError => &["HTTP 502 and an HTML page, not a Kubernetes Status"],
        Answer::Unauthorized => &["rejected the credentials (401 Unauthorized)", "log in again"],
        Answer::Hangup => &["was lost", "check the network"],
        Answer::Silent | Answer::Stall => &["within 2s (--request-timeout)"],
        Answer::Endless => &["more than 256 MiB"],
        Answer::Good => &[],
    }
}

/// Runs the cases a few at a time (each mostly waits on the fake server).
fn run_all(cases: Vec<(String, String, Vec<&'static str>)>) -> Vec<(String, Outcome)> {
    let mut results = Vec::new();
    for batch in cases.chunks(8) {
        std::thread::scope(|s| {
            let handles: Vec<_> = batch
                .iter()
                .map(|(case, url, args)| s.spawn(move || (case.clone(), run(url, args, "5s"))))
                .collect();
            results.extend(handles.into_iter().map(|h| h.join().unwrap()));
        });
    }
    results
}

#[test]
fn every_command_works_against_the_well_behaved_fake() {
    let fake = Fake::start(Answer::Good, Spoil::Reads);
    for (name, args) in commands() {
        let outcome = run(&fake.url(), &args, "5s");
        let want = if name == "dev diff" { 1 } else { 0 };
        assert_eq!(outcome.code, want, "{name}: {outcome:#?}");
        let expect = match name {
            "dev get" => "image: nginx:1.25",
            "ops get" => "replicas: 2",
            "dev list" | "ops list" => "web",
            "dev edit" => "deployment.apps/web edited",
            "dev apply" => "deployment.apps/web configured",
            "dev diff" => "+    image: nginx:1.26",
            "set image" => "deployment.apps/web image updated",
            "set env" => "deployment.apps/web env updated",
            "ops scale" => "deployment.apps/web scaled",
            "ops autoscale" => "horizontalpodautoscaler.autoscaling/web created",
            "owners" => "scaler.replicas",
            _ => "Role profile: built-in",
        };
        assert!(outcome.stdout.contains(expect), "{name}: {outcome:#?}");
    }
    assert!(fake.requests.load(Ordering::SeqCst) > 20);
}

#[test]
fn malformed_answers_end_every_command_with_one_error_line() {
    let mut cases = Vec::new();
    for answer in MALFORMED {
        for spoil in [Spoil::Reads, Spoil::Profile, Spoil::DryRun] {
            let fake = Fake::start(answer, spoil);
            for (name, args) in commands() {
                let applies = match spoil {
                    Spoil::Reads => name != "roles",
                    // Every command reads the profile first; two of them are enough.
                    Spoil::Profile => name == "roles" || name == "dev get",
                    Spoil::DryRun => WRITES.contains(&name),
                    Spoil::Commit => false,
                };
                if applies {
                    cases.push((format!("{name} / {answer:?} on {spoil:?}"), fake.url(), args));
                }
            }
        }
    }
    for (case, outcome) in run_all(cases) {
        let line = one_error(&case, &outcome);
        let answer = MALFORMED.iter().find(|a| case.contains(&format!("/ {a:?} on"))).unwrap();
        for part in expected(*answer) {
            assert!(line.contains(part), "{case}: {line:?} should say {part:?}");
        }
        assert!(!line.contains("may have been applied"), "{case}: nothing was written: {line}");
        assert!(!line.contains("is it running?"), "{case}: the server did answer: {line}");
    }
}

#[test]
fn a_write_without_a_proper_answer_may_have_been_applied() {
    let mut cases = Vec::new();
    for answer in MALFORMED {
        let fake = Fake::start(answer, Spoil::Commit);
        for (name, args) in commands() {
            if WRITES.contains(&name) && name != "dev diff" {
                cases.push((format!("{name} / {answer:?} on Commit"), fake.url(), args));
            }
        }
    }
    for (case, outcome) in run_all(cases) {
        let line = one_error(&case, &outcome);
        if case.contains("Unauthorized") {
            // An answer: the write was refused.
            assert!(line.contains("401") && !line.contains("may have been applied"), "{case}: {line}");
            continue;
        }
        // The autoscaler's write names the HPA, and is checked in the workload's document.
        let written =
            if case.starts_with("ops autoscale") { "horizontalpodautoscaler" } else { "deployment" };
        assert!(
            line.contains(&format!(
                "error: the write to {written}/web in namespace \"fake\" may have been applied: "
            )),
            "{case}: {line}"
        );
        assert!(line.contains("check with `kubectl oam "), "{case}: {line}");
        assert!(line.contains("get deployment/web -n fake`"), "{case}: {line}");
        assert!(!line.contains("is it running?"), "{case}: {line}");
    }
}

#[test]
fn a_stalled_server_ends_each_command_at_its_deadline() {
    let reads = Fake::start(Answer::Stall, Spoil::Reads);
    let commit = Fake::start(Answer::Stall, Spoil::Commit);
    let silent = Fake::start(Answer::Silent, Spoil::Profile);
    let cases = [
        ("dev get", &reads, vec!["dev", "get", "deploy/web"]),
        ("ops list", &reads, vec!["ops", "list"]),
        ("set image", &commit, vec!["dev", "set", "image", "deploy/web", "app=nginx:1.26"]),
        ("owners (no headers)", &silent, vec!["owners", "deploy/web"]),
    ];
    std::thread::scope(|s| {
        let runs: Vec<_> = cases
            .iter()
            .map(|(name, fake, args)| (name, s.spawn(move || run(&fake.url(), args, "2s"))))
            .collect();
        for (name, handle) in runs {
            let outcome = handle.join().unwrap();
            let line = one_error(name, &outcome);
            assert!(line.contains("within 2s (--request-timeout)"), "{name}: {line}");
            assert!(line.contains("127.0.0.1"), "{name}: names the server: {line}");
            if *name == "set image" {
                assert!(line.contains("may have been applied"), "{name}: {line}");
            }
            // Proves termination, not speed: the stalled body would go on for two minutes.
            assert!(outcome.elapsed < Duration::from_secs(10), "{name}: took {:?}", outcome.elapsed);
            eprintln!("stalled server, --request-timeout 2s: {name} ended after {:?}", outcome.elapsed);
        }
    });
}

#[test]
fn an_endless_body_is_cut_off_with_memory_bounded() {
    let reads = Fake::start(Answer::Endless, Spoil::Reads);
    let commit = Fake::start(Answer::Endless, Spoil::Commit);
    for (name, fake, args) in [
        ("dev get", &reads, vec!["dev", "get", "deploy/web"]),
        ("dev list", &reads, vec!["dev", "list"]),
        ("ops scale", &commit, vec!["ops", "scale", "deploy/web", "--replicas", "3"]),
    ] {
        let outcome = run(&fake.url(), &args, "30s");
        let line = one_error(name, &outcome);
        assert!(line.contains("more than 256 MiB"), "{name}: {line}");
        // The cap is 256 MiB; without it the process grew past 15 GB.
        assert!(outcome.peak_kib < 1024 * 1024, "{name}: peak RSS {} KiB", outcome.peak_kib);
        eprintln!(
            "endless body: {name} ended after {:?}, peak RSS {} MiB",
            outcome.elapsed,
            outcome.peak_kib / 1024
        );
    }
}

#[test]
fn unreachable_servers_and_plain_http_are_told_apart() {
    // A port nobody listens on: nothing was sent, so even a write is "cannot reach".
    let closed = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://127.0.0.1:{}", closed.local_addr().unwrap().port());
    drop(closed);
    let line = one_error("refused", &run(&url, &["dev", "set", "image", "deploy/web", "app=x:1"], "5s"));
    assert!(line.contains(&format!("cannot reach the cluster at {url}: ")), "{line}");
    assert!(line.contains("onnection refused") && line.contains("is it running?"), "{line}");
    let line =
        one_error("dns", &run("http://no-such-host.invalid:6443", &["dev", "get", "deploy/web"], "5s"));
    assert!(line.contains("cannot reach the cluster at http://no-such-host.invalid:6443"), "{line}");
    assert!(line.contains("check the host name") && !line.contains("is it running?"), "{line}");

    // https:// to a server that speaks plain HTTP.
    let fake = Fake::start(Answer::Good, Spoil::Reads);
    let url = format!("https://127.0.0.1:{}", fake.port);
    let line = one_error("plain http", &run(&url, &["dev", "get", "deploy/web"], "5s"));
    assert!(line.contains("TLS handshake with") && line.contains("does not speak TLS"), "{line}");
}
