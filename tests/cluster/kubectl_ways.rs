//! More kubectl habits: comma lists of kinds, `-L`/`--show-labels`, `--field-selector`, sorting by
//! creation time, `-o custom-columns`, kubectl's `.metadata` paths in templates, `-w`,
//! `--dry-run=client`; help that lists only what a role can do, one version string.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::harness::{Ns, env, oam_binary, settled, web_deployment};

const DATABASE: &str = r#"apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db, labels: {app: db, example.com/zone: a}}
spec:
  serviceName: db
  replicas: 1
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db}}
    spec: {containers: [{name: db, image: postgres:16}]}
"#;

fn lines(text: &str) -> Vec<&str> {
    text.lines().collect()
}

/// The first cell of each row (after the header).
fn names(table: &str) -> Vec<String> {
    table.lines().skip(1).filter_map(|l| l.split_whitespace().next()).map(String::from).collect()
}

#[test]
fn lists_take_comma_kinds_label_columns_and_field_selectors() {
    let ns = Ns::new("ways-lists");
    ns.create(&web_deployment("web"));
    ns.create(DATABASE);
    ns.create("apiVersion: batch/v1\nkind: Job\nmetadata: {name: once}\nspec:\n  template:\n    spec:\n      restartPolicy: Never\n      containers: [{name: job, image: busybox}]\n");

    let out = ns.oam(&["dev", "list", "deploy,sts", "-o", "name"]).ok().stdout;
    assert_eq!(lines(&out), ["deployment.apps/web", "statefulset.apps/db"], "the kinds in the order given");
    let out = ns.oam(&["ops", "get", "sts,deploy,sts", "-o", "name"]).ok().stdout;
    assert_eq!(lines(&out), ["statefulset.apps/db", "deployment.apps/web"], "each kind once");
    let err = ns.oam(&["dev", "list", "deploy,,sts"]).error();
    assert!(err.contains("empty type"), "{err}");
    let err = ns.oam(&["dev", "list", "deploy,pods"]).error();
    assert!(err.contains("pods"), "{err}");

    // -L KEY: a column headed by the key's last segment; --show-labels: all of them, sorted.
    let out =
        ns.oam(&["ops", "list", "deploy,sts", "-L", "app,example.com/zone", "--show-labels"]).ok().stdout;
    let header: Vec<&str> = out.lines().next().unwrap().split_whitespace().collect();
    assert_eq!(header[header.len() - 3..], ["APP", "ZONE", "LABELS"], "{out}");
    let db = out.lines().find(|l| l.starts_with("db ")).unwrap();
    assert!(db.ends_with("db    a      app=db,example.com/zone=a"), "{out}");
    let web = out.lines().find(|l| l.starts_with("web ")).unwrap();
    assert!(web.ends_with("web          app=web"), "a missing label is an empty cell: {out}");
    let out = ns.oam(&["dev", "get", "deploy/web", "-o", "wide", "-L", "app"]).ok().stdout;
    assert!(out.lines().next().unwrap().ends_with("RECONCILED BY   APP"), "{out}");

    // --field-selector, as the server takes it (also for `get` without a name); its error names it.
    let out = ns.oam(&["dev", "list", "--field-selector", "metadata.name=db"]).ok().stdout;
    assert_eq!(names(&out), ["db"]);
    let out =
        ns.oam(&["ops", "get", "deploy,sts", "--field-selector=metadata.name!=db", "-o", "name"]).ok().stdout;
    assert_eq!(lines(&out), ["deployment.apps/web"]);
    let err = ns.oam(&["dev", "list", "deploy", "--field-selector", "spec.replicas=1"]).error();
    assert!(
        err.contains("--field-selector \"spec.replicas=1\"") && err.contains("not a known field"),
        "{err}"
    );
    let err = ns.oam(&["dev", "get", "deploy/web", "--field-selector", "metadata.name=web"]).error();
    assert!(err.contains("--field-selector picks objects from a list"), "{err}");
}

#[test]
fn templates_read_kubectls_metadata_paths_and_name_keys_no_document_has() {
    let ns = Ns::new("ways-templates");
    ns.create(&web_deployment("web"));
    ns.create(DATABASE);

    let out =
        ns.oam(&["dev", "get", "deploy/web", "-o", "jsonpath={.metadata.name}/{.metadata.namespace}"]).ok();
    assert_eq!(out.stdout, format!("web/{}", ns.name));
    let out =
        ns.oam(&["ops", "get", "deploy/web", "-o", "jsonpath={.metadata.labels.app} {.metadata.name}"]).ok();
    assert_eq!(out.stdout, "web web", "the ops metadata trait and the object's name together");
    let out = ns.oam(&["dev", "list", "-o", "jsonpath={range .items[*]}{.metadata.name}{\"\\n\"}{end}"]).ok();
    assert_eq!(lines(&out.stdout), ["web", "db"]);
    // A key no role document has is named, not printed as nothing with exit 0.
    let err = ns.oam(&["dev", "get", "deploy/web", "-o", "jsonpath={.spec.replicas}"]).error();
    assert!(err.contains("no key \"spec\"") && err.contains("containers"), "{err}");
    let err = ns.oam(&["ops", "list", "-o", "jsonpath={.items[*].containers}"]).error();
    assert!(err.contains("ops role document has no key \"containers\""), "{err}");
    // A key some documents lack still prints nothing there, as kubectl's default.
    let out = ns.oam(&["dev", "get", "sts/db", "-o", "jsonpath={.initContainers}"]).ok();
    assert_eq!(out.stdout, "");

    // -o custom-columns: headers as given, paths with or without braces, <none> where missing.
    let spec = "NAME:.metadata.name,IMAGES:{.containers.*.image},PORTS:containers.app.ports";
    let out = ns.oam(&["dev", "list", "-o", &format!("custom-columns={spec}")]).ok().stdout;
    assert_eq!(
        lines(&out),
        [
            "NAME   IMAGES                  PORTS",
            "web    nginx:1.25,envoy:1.30   [{\"containerPort\":80,\"name\":\"http\"}]",
            "db     postgres:16             <none>",
        ]
    );
    let out = ns
        .oam(&[
            "ops",
            "get",
            "deploy/web",
            "sts/db",
            "--no-headers",
            "-o",
            "custom-columns=N:.name,R:.scaler.replicas",
        ])
        .ok()
        .stdout;
    assert_eq!(lines(&out), ["web   2", "db    1"]);
    let err = ns.oam(&["dev", "list", "-o", "custom-columns=NAME"]).error();
    assert!(err.contains("expected <header>:<json-path-expr>"), "{err}");
    let err = ns.oam(&["dev", "list", "-o", "custom-columns=R:.scaler.replicas"]).error();
    assert!(err.contains("no key \"scaler\""), "{err}");
}

#[test]
fn sort_by_creation_time_and_age_sort_as_time() {
    let ns = Ns::new("ways-sort");
    ns.create(&web_deployment("z-old"));
    let created = |name: &str| {
        ns.get_json(&format!("deploy/{name}"))["metadata"]["creationTimestamp"].as_str().unwrap().to_string()
    };
    let old = created("z-old");
    // Timestamps have whole seconds: create until one is later than z-old's (no clock assumed).
    let mut young = None;
    for i in 0..200 {
        let name = format!("a-new-{i}");
        ns.create(&web_deployment(&name));
        if created(&name) > old {
            young = Some(name);
            break;
        }
    }
    let young = young.expect("a later creation time");
    ns.kubectl(&["label", "deploy", "z-old", &young, "pair=yes"]).ok();
    let sorted = |key: &str| {
        let out = ns.oam(&["ops", "list", "-l", "pair=yes", "--sort-by", key, "-o", "name"]).ok().stdout;
        out.lines().map(|l| l.trim_start_matches("deployment.apps/").to_string()).collect::<Vec<_>>()
    };
    assert_eq!(sorted(".metadata.creationTimestamp"), ["z-old", &young], "oldest first, as kubectl");
    assert_eq!(sorted("{.status.age}"), [&young, "z-old"], "youngest first: the age as time");
    assert_eq!(sorted(".metadata.name"), [&young, "z-old"]);
    let out = ns
        .oam(&[
            "dev",
            "get",
            "deploy/z-old",
            &format!("deploy/{young}"),
            "--sort-by",
            ".status.age",
            "-o",
            "name",
        ])
        .ok();
    assert_eq!(lines(&out.stdout), [format!("deployment.apps/{young}"), "deployment.apps/z-old".into()]);
}

/// A command that runs until killed, its stdout read line by line.
struct Watching {
    child: Child,
    lines: mpsc::Receiver<String>,
    seen: Vec<String>,
}

impl Watching {
    fn start(ns: &Ns, args: &[&str]) -> Watching {
        let mut child = Command::new(oam_binary())
            .env("KUBECONFIG", &env().kubeconfig)
            .env("KUBECACHEDIR", std::env::temp_dir().join(format!("oam-watch-cache-{}", ns.name)))
            .env("NO_COLOR", "1")
            .args(args)
            .args(["-n", &ns.name])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("kubectl-oam starts");
        let stdout = child.stdout.take().unwrap();
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Watching { child, lines, seen: Vec::new() }
    }

    /// Reads lines until one satisfies `wanted` (generous overall limit; no timing assumed).
    fn until(&mut self, what: &str, wanted: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    self.seen.push(line.clone());
                    if wanted(&line) {
                        return line;
                    }
                }
                Err(_) => panic!("no line with {what}; seen: {:#?}", self.seen),
            }
        }
    }
}

impl Drop for Watching {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn watch_prints_each_change_after_the_list_as_kubectl_does() {
    let ns = Ns::new("ways-watch");
    ns.create(&web_deployment("web"));
    let mut list = Watching::start(&ns, &["dev", "list", "-w"]);
    let header = list.until("the header", |l| l.starts_with("NAME "));
    assert!(header.contains("IMAGE"), "{header}");
    list.until("the app row", |l| l.starts_with("web ") && l.contains("nginx:1.25"));
    let mut one = Watching::start(
        &ns,
        &["ops", "get", "deploy/web", "-w", "-o", "jsonpath={.metadata.name} {.scaler.replicas}{\"\\n\"}"],
    );
    one.until("the object as it is", |l| l == "web 2");
    let mut yaml = Watching::start(&ns, &["dev", "get", "deploy", "web", "-w"]);
    yaml.until("the document", |l| l == "    image: nginx:1.25");

    ns.kubectl(&["set", "image", "deploy/web", "app=nginx:1.26"]).ok();
    list.until("the changed row", |l| l.starts_with("web ") && l.contains("nginx:1.26"));
    assert!(!list.seen.iter().skip(1).any(|l| l.starts_with("NAME ")), "one header: {:#?}", list.seen);
    yaml.until("a new document", |l| l == "---");
    yaml.until("the changed image", |l| l == "    image: nginx:1.26");
    ns.kubectl(&["scale", "deploy/web", "--replicas", "3"]).ok();
    one.until("the new count", |l| l == "web 3");
    // A new object shows up in the list's watch too.
    ns.create(DATABASE);
    list.until("the new object", |l| l.starts_with("db ") && l.contains("postgres:16"));
}

/// Every request a command made (`-v 6`), as METHOD PATH.
fn requests(stderr: &str) -> Vec<String> {
    stderr
        .lines()
        .filter_map(|l| l.split("round_trippers] ").nth(1))
        .map(|r| r.split(' ').take(2).collect::<Vec<_>>().join(" "))
        .collect()
}

#[test]
fn a_client_dry_run_plans_here_sends_nothing_and_says_so() {
    let ns = Ns::new("ways-client-dry-run");
    ns.create(&web_deployment("web"));
    let before = settled(&ns.get_json("deploy/web"));
    let label = "+++ deployment.apps/web (after apply, as worked out here: client dry run, not checked by the server)";
    let only_reads = |run: &crate::harness::Run| {
        let sent = requests(&run.stderr);
        assert!(!sent.is_empty() && sent.iter().all(|r| r.starts_with("GET ")), "only reads: {sent:#?}");
    };

    let run =
        ns.oam(&["dev", "set", "image", "deploy/web", "app=nginx:1.27", "--dry-run=client", "-v", "6"]).ok();
    assert!(run.stdout.contains(label) && run.stdout.contains("+    image: nginx:1.27"), "{run:?}");
    only_reads(&run);
    let run = ns.oam(&["ops", "scale", "deploy/web", "--replicas", "5", "--dry-run=client", "-v", "6"]).ok();
    assert!(run.stdout.contains(label) && run.stdout.contains("+  replicas: 5"), "{run:?}");
    only_reads(&run);

    let doc =
        ns.oam(&["dev", "get", "deploy/web"]).ok().stdout.replace("image: envoy:1.30", "image: envoy:1.31");
    let file = std::env::temp_dir().join(format!("{}-doc.yaml", ns.name));
    std::fs::write(&file, doc).unwrap();
    let run = ns.oam(&["dev", "apply", "-f", file.to_str().unwrap(), "--dry-run=client", "-v", "6"]).ok();
    assert!(run.stdout.contains(label) && run.stdout.contains("+    image: envoy:1.31"), "{run:?}");
    only_reads(&run);
    let _ = std::fs::remove_file(&file);

    let editor = crate::writes::Editor::new(&ns, "sed -i 's/MODE: prod/MODE: test/' \"$1\"");
    let run = ns.oam_with(
        &["dev", "edit", "deploy/web", "--dry-run=client", "-v", "6"],
        "",
        &[("KUBE_EDITOR", &editor.command())],
    );
    let run = run.ok();
    assert!(run.stdout.contains(label) && run.stdout.contains("+      MODE: test"), "{run:?}");
    assert!(
        run.stdout.contains("deployment.apps/web edited (client dry run); your edit is kept in"),
        "{run:?}"
    );
    only_reads(&run);
    assert_eq!(settled(&ns.get_json("deploy/web")), before, "nothing was written");

    // The server's dry-run stays as it was: asked of the server, labelled as before.
    let run = ns
        .oam(&[
            "dev",
            "set",
            "image",
            "deploy/web",
            "app=nginx:1.27",
            "--dry-run=server",
            "--force-conflicts",
            "-v",
            "6",
        ])
        .ok();
    assert!(run.stdout.contains("+++ deployment.apps/web (after apply)\n"), "{run:?}");
    assert!(
        requests(&run.stderr).iter().any(|r| r.starts_with("PATCH ") && r.contains("dryRun=All")),
        "{run:?}"
    );
    let err = ns.oam(&["dev", "set", "image", "deploy/web", "app=x", "--dry-run=maybe"]).error();
    assert!(err.contains("client"), "{err}");
}

#[test]
fn help_lists_only_what_a_role_can_do_and_one_version_string() {
    let ns = Ns::new("ways-help");
    let commands = |role: &str| -> Vec<String> {
        let help = ns.oam(&[role, "--help"]).ok().stdout;
        let list = help.split("Commands:\n").nth(1).unwrap().split("\n\n").next().unwrap().to_string();
        // A command's line starts at the list's indent; a wrapped description is indented further.
        let indent = |l: &str| l.len() - l.trim_start().len();
        let first = list.lines().next().map(indent).unwrap_or(0);
        list.lines()
            .filter(|l| indent(l) == first)
            .map(|l| l.split_whitespace().next().unwrap().to_string())
            .collect()
    };
    assert_eq!(
        commands("dev"),
        ["get", "list", "edit", "apply", "diff", "promote", "set", "adopt", "release", "gitops"]
    );
    assert_eq!(
        commands("ops"),
        [
            "get",
            "list",
            "edit",
            "apply",
            "diff",
            "promote",
            "scale",
            "autoscale",
            "expose",
            "disruption-budget",
            "adopt",
            "release",
            "gitops"
        ]
    );
    // Typed anyway, the other role's command says which to use.
    let err = ns.oam(&["dev", "scale", "deploy/web", "--replicas", "2"]).error();
    assert!(err.contains("kubectl oam ops scale"), "{err}");
    let err = ns.oam(&["ops", "set", "image", "deploy/web", "app=x"]).error();
    assert!(err.contains("`set` is a dev command"), "{err}");

    let version = ns.oam(&["version"]).ok().stdout;
    assert!(version.starts_with("kubectl-oam v"), "{version}");
    for flag in [&["--version"][..], &["-V"], &["dev", "--version"], &["ops", "get", "--version"]] {
        assert_eq!(ns.oam(flag).ok().stdout, version, "{flag:?}");
    }
}
