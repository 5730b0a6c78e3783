//! `list` (and `get` without a name) on the real server: kubectl's output habits (-o name,
//! --no-headers, --sort-by, -o jsonpath on the List), -A, every kind fetched at once, and paging.

use crate::harness::{Ns, web_deployment};

/// A Deployment with `replicas` and no pods to wait for (a node selector no node matches).
fn deployment(name: &str, replicas: u32, mark: &str) -> String {
    format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: {name}, labels: {{mark: {mark}}}}}\nspec:\n  \
         replicas: {replicas}\n  selector: {{matchLabels: {{app: {name}}}}}\n  template:\n    metadata: {{labels: {{app: {name}}}}}\n    \
         spec:\n      nodeSelector: {{no-such-node: 'true'}}\n      containers:\n      - {{name: app, image: 'nginx:1.{replicas}', \
         ports: [{{containerPort: 80}}, {{containerPort: 53, protocol: UDP}}]}}\n---\n"
    )
}

/// One workload of each kind, none of them running pods.
fn every_kind(mark: &str) -> String {
    let template = "template:\n    metadata: {labels: {app: x}}\n    spec:\n      restartPolicy: Never\n      \
                    nodeSelector: {no-such-node: 'true'}\n      initContainers:\n      - {name: log, image: 'fluent-bit:3', restartPolicy: Always}\n      \
                    containers:\n      - {name: main, image: 'busybox:1.36', command: [sleep, '3600'], env: [{name: A, value: '1'}]}";
    let pod_template = template.replace("restartPolicy: Never\n      ", "");
    format!(
        "apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {{name: db, labels: {{mark: {mark}}}}}\nspec:\n  replicas: 0\n  serviceName: db\n  \
         selector: {{matchLabels: {{app: x}}}}\n  {pod_template}\n---\n\
         apiVersion: apps/v1\nkind: DaemonSet\nmetadata: {{name: agent, labels: {{mark: {mark}}}}}\nspec:\n  \
         selector: {{matchLabels: {{app: x}}}}\n  {pod_template}\n---\n\
         apiVersion: apps/v1\nkind: ReplicaSet\nmetadata: {{name: rs, labels: {{mark: {mark}}}}}\nspec:\n  replicas: 0\n  \
         selector: {{matchLabels: {{app: x}}}}\n  {pod_template}\n---\n\
         apiVersion: batch/v1\nkind: Job\nmetadata: {{name: once, labels: {{mark: {mark}}}}}\nspec:\n  suspend: true\n  {template}\n---\n\
         apiVersion: batch/v1\nkind: CronJob\nmetadata: {{name: nightly, labels: {{mark: {mark}}}}}\nspec:\n  schedule: '0 3 * * *'\n  \
         suspend: true\n  jobTemplate:\n    spec:\n      {}\n",
        template.replace("\n    ", "\n          ")
    )
}

/// A table's rows as cells (cut at the header's column starts: cells hold spaces, e.g.
/// `log (sidecar)`), without the columns that move on their own: AGE, and the live counts while
/// controllers act.
fn stable_rows(table: &str) -> Vec<Vec<String>> {
    let mut lines = table.lines();
    let header = lines.next().unwrap_or_default();
    let mut starts: Vec<(usize, &str)> = Vec::new();
    let mut at = 0;
    for word in header.split("   ").filter(|w| !w.trim().is_empty()) {
        let word = word.trim();
        let start = header[at..].find(word).map_or(at, |i| at + i);
        starts.push((start, word));
        at = start + word.len();
    }
    let moving = ["READY", "UP-TO-DATE", "AVAILABLE", "AGE"];
    lines
        .map(|line| {
            starts
                .iter()
                .enumerate()
                .filter(|(_, (_, h))| !moving.contains(h))
                .map(|(i, (start, _))| {
                    let end = starts.get(i + 1).map_or(line.len(), |(s, _)| (*s).min(line.len()));
                    line.get(*start..end).unwrap_or_default().trim().to_string()
                })
                .collect()
        })
        .collect()
}

#[test]
fn list_prints_names_no_headers_and_sorts_as_kubectl_does() {
    let ns = Ns::new("lists-habits");
    let mark = ns.name.clone();
    let mut docs = String::new();
    for (name, replicas) in [("web-10", 1), ("web-2", 3), ("web-a", 2), ("api", 0)] {
        docs.push_str(&deployment(name, replicas, &mark));
    }
    ns.create(&docs);
    let oam = |args: &[&str]| ns.oam(args).ok().stdout;
    let kubectl = |args: &[&str]| ns.kubectl(args).ok().stdout;

    // -o name: kubectl's `deployment.apps/web`, in the server's order.
    let names = oam(&["dev", "list", "deploy", "-o", "name"]);
    assert_eq!(names, kubectl(&["get", "deploy", "-o", "name"]));
    assert_eq!(names.lines().count(), 4, "{names}");
    assert_eq!(oam(&["ops", "get", "deploy", "-o", "name"]), names, "get without a name lists");

    // --no-headers: the same rows without the header line.
    let table = oam(&["dev", "list", "deploy"]);
    assert!(table.starts_with("NAME "), "{table}");
    let bare = oam(&["dev", "list", "deploy", "--no-headers"]);
    assert_eq!(bare.lines().count(), 4, "{bare}");
    // (No cell here holds a space: rows compare as words, without the columns that move between
    // the two lists: READY, UP-TO-DATE and AVAILABLE while the controller acts, AGE as it ticks.)
    let header: Vec<&str> = table.lines().next().unwrap_or_default().split_whitespace().collect();
    let moving: Vec<usize> = ["READY", "UP-TO-DATE", "AVAILABLE", "AGE"]
        .iter()
        .map(|h| header.iter().position(|x| x == h).unwrap_or_else(|| panic!("no {h} in {header:?}")))
        .collect();
    let words = |lines: Vec<&str>| -> Vec<Vec<String>> {
        let keep = |(i, w): (usize, &str)| (!moving.contains(&i)).then(|| w.to_string());
        lines.iter().map(|l| l.split_whitespace().enumerate().filter_map(keep).collect()).collect()
    };
    assert_eq!(words(bare.lines().collect()), words(table.lines().skip(1).collect()));
    assert!(table.contains("80,53/UDP"), "TCP left out, UDP named: {table}");

    // --sort-by: a path of the role document, with or without braces, in kubectl's order (numbers
    // by value, text as text).
    for (role, ours, theirs) in [
        ("ops", ".scaler.replicas", ".spec.replicas"),
        ("ops", "{.scaler.replicas}", "{.spec.replicas}"),
        ("dev", ".name", ".metadata.name"),
        ("dev", "{.containers.app.image}", "{.spec.template.spec.containers[0].image}"),
    ] {
        let got = oam(&[role, "list", "deploy", "-o", "name", "--sort-by", ours]);
        let expected = kubectl(&["get", "deploy", "-o", "name", "--sort-by", theirs]);
        assert_eq!(got, expected, "{role} --sort-by {ours} vs kubectl's {theirs}");
    }
    let by_name = oam(&["dev", "list", "deploy", "--sort-by", ".name", "--no-headers"]);
    let order: Vec<&str> = by_name.lines().filter_map(|l| l.split_whitespace().next()).collect();
    assert_eq!(order, ["api", "web-10", "web-2", "web-a"], "byte order, as kubectl");
    let by_replicas = oam(&["ops", "list", "deploy", "--sort-by", ".scaler.replicas"]);
    let replicas: Vec<&str> =
        by_replicas.lines().skip(1).filter_map(|l| l.split_whitespace().nth(5)).collect();
    assert_eq!(replicas, ["0", "1", "2", "3"], "{by_replicas}");
    let err = ns.oam(&["ops", "list", "--sort-by", "{.a["]).error();
    assert!(err.starts_with("error: --sort-by \"{.a[\""), "{err}");

    // -o jsonpath: applied to {kind: List, items: [role documents]}, as kubectl applies it to its List.
    for (role, ours, theirs) in [
        ("dev", "{.items[*].name}", "{.items[*].metadata.name}"),
        (
            "ops",
            "{range .items[*]}{.name}={.scaler.replicas}{\"\\n\"}{end}",
            "{range .items[*]}{.metadata.name}={.spec.replicas}{\"\\n\"}{end}",
        ),
        ("dev", "{.kind} {.apiVersion}", "{.kind} {.apiVersion}"),
    ] {
        let got = oam(&[role, "list", "deploy", "-o", &format!("jsonpath={ours}")]);
        let expected = kubectl(&["get", "deploy", "-o", &format!("jsonpath={theirs}")]);
        assert!(!got.is_empty(), "{ours} prints something");
        assert_eq!(got, expected, "{role} {ours} vs kubectl's {theirs}");
    }
    assert_eq!(
        oam(&["dev", "list", "-o", "jsonpath={.items[0].initContainers}"]),
        "",
        "missing keys allowed, as kubectl"
    );
    let strict =
        ["dev", "list", "-o", "jsonpath={.items[0].initContainers}", "--allow-missing-template-keys=false"];
    let err = ns.oam(&strict).error();
    assert!(err.contains("List of 4 objects"), "{err}");
    // A key no role document has is named (kubectl's paths of the object are not the document's).
    let err = ns.oam(&["dev", "list", "-o", "jsonpath={.items[0].nope}"]).error();
    assert!(err.contains("no key \"nope\""), "{err}");
    let err = ns.oam(&["dev", "list", "-o", "apply"]).error();
    assert!(err.contains("name it"), "{err}");

    // -A: every namespace; the selector keeps to this test's objects.
    let everywhere = ns.oam(&["dev", "list", "-A", "-l", &format!("mark={mark}")]).ok().stdout;
    assert!(everywhere.starts_with("NAMESPACE "), "{everywhere}");
    let rows: Vec<&str> = everywhere.lines().skip(1).collect();
    assert_eq!(rows.len(), 4, "{everywhere}");
    assert!(rows.iter().all(|r| r.starts_with(&format!("{mark} "))), "{everywhere}");
    let all_names = oam(&["ops", "list", "-A", "deploy", "-o", "name", "-l", &format!("mark={mark}")]);
    assert_eq!(all_names, names, "-o name has no namespace, as kubectl's");
}

#[test]
fn every_kind_is_listed_at_once_with_the_same_rows_both_ways() {
    let ns = Ns::new("lists-kinds");
    let mark = ns.name.clone();
    ns.create(&format!("{}{}", deployment("web", 1, &mark), every_kind(&mark)));
    // The ReplicaSet the controller makes of web, so that --all has something to show.
    for _ in 0..240 {
        if ns.kubectl(&["get", "rs", "-l", "app=web", "-o", "name"]).ok().stdout.contains("replicaset") {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(500));
    }
    for role in ["dev", "ops"] {
        let run = ns.oam(&[role, "list", "-o", "wide", "-v", "6"]).ok();
        // One list request per kind (and the HPAs for ops), all of them sent.
        for resource in ["deployments", "statefulsets", "daemonsets", "replicasets", "jobs", "cronjobs"] {
            assert!(
                run.stderr.contains(&format!("/{resource}?")),
                "{role}: no request for {resource}: {}",
                run.stderr
            );
        }
        let table = run.stdout;
        for (name, kind) in [
            ("web", "Deployment"),
            ("db", "StatefulSet"),
            ("agent", "DaemonSet"),
            ("rs", "ReplicaSet"),
            ("once", "Job"),
            ("nightly", "CronJob"),
        ] {
            assert!(
                table.lines().any(|l| l.starts_with(&format!("{name} ")) && l.contains(&format!(" {kind} "))),
                "{role}: {kind} {name} in\n{table}"
            );
        }
        assert!(!table.contains("web-"), "controlled ReplicaSets are hidden: {table}");
        // Rows in kind order (the profile's), as the list printed them before kinds were concurrent.
        let kinds: Vec<&str> = table.lines().skip(1).filter_map(|l| l.split_whitespace().nth(1)).collect();
        let mut ordered = kinds.clone();
        let rank = |k: &&str| {
            ["Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob"]
                .iter()
                .position(|x| x == k)
        };
        ordered.sort_by_key(rank);
        assert_eq!(kinds, ordered, "{table}");
        // Sorting reads whole objects and their documents; the plain list reads typed partial
        // objects. The rows are the same.
        let sorted = ns.oam(&[role, "list", "-o", "wide", "--sort-by", ".kind"]).ok().stdout;
        let (mut plain, mut whole) = (stable_rows(&table), stable_rows(&sorted));
        plain.sort();
        whole.sort();
        assert_eq!(plain, whole, "{role}:\n{table}\n{sorted}");
        if role == "dev" {
            assert!(table.contains("log (sidecar)") && table.contains("sleep 3600"), "{table}");
        }
    }
    let all = ns.oam(&["ops", "list", "--all"]).ok().stdout;
    assert!(all.lines().next().unwrap_or_default().ends_with("CONTROLLED BY"), "{all}");
    assert!(all.lines().any(|l| l.starts_with("web-") && l.ends_with("deployment.apps/web")), "{all}");
    assert_eq!(
        ns.oam(&["ops", "list", "-o", "name", "--all"]).ok().stdout,
        ns.kubectl(&["get", "deploy,sts,ds,rs,job,cj", "-o", "name"]).ok().stdout,
        "--all: every object of the six kinds, in the same order as kubectl's"
    );
}

#[test]
fn small_pages_give_the_whole_list_in_every_format() {
    let ns = Ns::new("lists-pages");
    let mark = ns.name.clone();
    let mut docs = String::new();
    for i in 0..5 {
        docs.push_str(&deployment(&format!("p{i}"), i, &mark));
    }
    docs.push_str(&web_deployment("web"));
    ns.create(&docs);
    let oam = |args: &[&str]| ns.oam(args).ok();
    let run = oam(&["dev", "list", "deploy", "--chunk-size", "2", "-v", "6"]);
    let pages = run.stderr.lines().filter(|l| l.contains("/deployments?")).count();
    assert_eq!(pages, 3, "6 objects in pages of 2: {}", run.stderr);
    // web has two containers: 7 rows in all, whatever the page size.
    let paged = stable_rows(&run.stdout);
    assert_eq!(paged.len(), 7, "{}", run.stdout);
    assert_eq!(paged, stable_rows(&oam(&["dev", "list", "deploy"]).stdout));
    for format in [["-o", "name"], ["-o", "jsonpath={.items[*].name}"], ["--sort-by", ".name"]] {
        let small = oam(&["dev", "list", "deploy", "--chunk-size", "1", format[0], format[1]]).stdout;
        let large = oam(&["dev", "list", "deploy", format[0], format[1]]).stdout;
        if format[0] == "--sort-by" {
            assert_eq!(stable_rows(&small), stable_rows(&large));
        } else {
            assert_eq!(small, large, "{format:?}");
        }
    }
    let json: serde_json::Value =
        serde_json::from_str(&oam(&["ops", "list", "deploy", "-o", "json", "--chunk-size", "2"]).stdout)
            .unwrap();
    assert_eq!(json.as_array().map(Vec::len), Some(6), "{json}");
    let yaml = oam(&["ops", "list", "deploy", "-o", "yaml", "--chunk-size", "4"]).stdout;
    assert_eq!(yaml.matches("kind: Deployment").count(), 6, "{yaml}");
    assert_eq!(yaml.matches("\n---\n").count(), 5, "{yaml}");
}
