//! Workloads that really run: the local control plane's controllers, scheduler and kwok's nodes roll
//! Deployments out, run Jobs and delete namespaces; `--wait` follows what they do.

use crate::harness::{Ns, managers_of, web_deployment};

fn rolled_out(ns: &Ns, what: &str) {
    ns.kubectl(&["rollout", "status", what, "--timeout=60s"]).ok();
}

/// The ReplicaSet names of a Deployment named `app`, from the server.
fn replicasets(ns: &Ns, app: &str) -> Vec<String> {
    let run = ns.kubectl(&["get", "rs", "-l", &format!("app={app}"), "-o", "name"]).ok();
    run.stdout.lines().map(|l| l.trim_start_matches("replicaset.apps/").to_string()).collect()
}

#[test]
fn a_deployments_replicaset_is_what_lists_and_owners_see() {
    let ns = Ns::new("workloads-rs");
    ns.create(&web_deployment("web"));
    rolled_out(&ns, "deploy/web");
    let rs = replicasets(&ns, "web");
    assert_eq!(rs.len(), 1, "{rs:?}");
    let rs = &rs[0];

    // Lists with --all show the ReplicaSet the controller made, with the Deployment's containers.
    let list = ns.oam(&["dev", "list", "--all"]).ok().stdout;
    let rs_rows: Vec<&str> = list.lines().filter(|l| l.starts_with(&format!("{rs} "))).collect();
    assert_eq!(rs_rows.len(), 2, "one row per container:\n{list}");
    assert!(rs_rows.iter().any(|r| r.contains("ReplicaSet") && r.contains("nginx:1.25")), "{list}");
    let ops = ns.oam(&["ops", "list", "rs", "--all"]).ok().stdout;
    assert!(ops.lines().any(|l| l.starts_with(&format!("{rs} ")) && l.contains(" 2 ")), "{ops}");

    // Its fields belong to the controller that wrote them, outside both roles.
    let owners = ns.oam(&["owners", &format!("rs/{rs}")]).ok().stdout;
    let image = owners.lines().find(|l| l.starts_with("containers.app.image ")).unwrap_or_default();
    assert!(image.contains("kube-controller-manager") && image.contains("outside dev"), "{owners}");
    let obj = ns.get_json(&format!("rs/{rs}"));
    assert_eq!(obj["metadata"]["ownerReferences"][0]["name"], "web");
    assert_eq!(managers_of(&obj, &["f:spec", "f:replicas"]), ["kube-controller-manager"]);

    // A dev write to the Deployment rolls out a second ReplicaSet.
    ns.oam(&["dev", "set", "image", "deploy/web", "app=nginx:1.26", "--force-conflicts", "--wait"]).ok();
    assert_eq!(replicasets(&ns, "web").len(), 2);
}

#[test]
fn wait_follows_the_rollout_until_it_is_done() {
    let ns = Ns::new("workloads-wait");
    ns.create(&web_deployment("web"));
    rolled_out(&ns, "deploy/web");
    let run =
        ns.oam(&["dev", "set", "image", "deploy/web", "app=nginx:1.26", "--force-conflicts", "--wait"]).ok();
    assert_eq!(run.stdout, "deployment.apps/web image updated\n");
    // Piped: plain progress lines, the last one saying it is done.
    let last = run.stderr.lines().last().unwrap_or_default();
    assert_eq!(last, "deployment.apps/web rolled out: 2/2 updated, 2 ready, 2 available", "{}", run.stderr);
    let obj = ns.get_json("deploy/web");
    assert_eq!(obj["status"]["observedGeneration"], obj["metadata"]["generation"]);
    assert_eq!(obj["status"]["updatedReplicas"], 2);
    assert_eq!(obj["status"]["availableReplicas"], 2);
    assert_eq!(obj["status"]["replicas"], 2, "no old pod left");

    // Every write waits the same way; -q says nothing on stderr.
    let run =
        ns.oam(&["ops", "scale", "deploy/web", "--replicas", "3", "--force-conflicts", "--wait", "-q"]).ok();
    assert_eq!((run.stdout.as_str(), run.stderr.as_str()), ("deployment.apps/web scaled\n", ""));
    assert_eq!(ns.get_json("deploy/web")["status"]["availableReplicas"], 3);
    let run = ns.oam(&["dev", "set", "env", "deploy/web", "-c", "app", "LEVEL=debug", "--wait"]).ok();
    assert!(run.stderr.ends_with("rolled out: 3/3 updated, 3 ready, 3 available\n"), "{}", run.stderr);
    let doc = ns.oam(&["ops", "get", "deploy/web"]).ok().stdout.replace("replicas: 3", "replicas: 1");
    let run = ns.oam_with(&["ops", "apply", "-f", "-", "--wait"], &doc, &[]).ok();
    assert_eq!(run.stdout, "deployment.apps/web configured\n");
    assert!(run.stderr.ends_with("rolled out: 1/1 updated, 1 ready, 1 available\n"), "{}", run.stderr);
    let editor = "sed -i s/LEVEL:\\ debug/LEVEL:\\ info/";
    let run =
        ns.oam_with(&["dev", "edit", "deploy/web", "--yes", "--wait"], "", &[("KUBE_EDITOR", editor)]).ok();
    assert!(run.stdout.ends_with("deployment.apps/web edited\n"), "{}", run.stdout);
    assert!(run.stderr.ends_with("rolled out: 1/1 updated, 1 ready, 1 available\n"), "{}", run.stderr);
    assert_eq!(ns.get_json("deploy/web")["status"]["updatedReplicas"], 1);

    // --timeout belongs to --wait.
    let err = ns.oam(&["ops", "scale", "deploy/web", "--replicas", "2", "--timeout", "1m"]).error();
    assert!(err.contains("--wait"), "{err}");
}

/// A Deployment that rolls out once, then is pinned by the operator to nodes that do not exist.
fn pinned_to_nowhere(ns: &Ns, progress_deadline: u32, wait_flags: &[&str]) -> String {
    ns.create(&web_deployment("web").replace(
        "  replicas: 2\n",
        &format!("  replicas: 2\n  progressDeadlineSeconds: {progress_deadline}\n"),
    ));
    rolled_out(ns, "deploy/web");
    let doc =
        ns.oam(&["ops", "get", "deploy/web"]).ok().stdout + "placement:\n  nodeSelector: {disk: none-such}\n";
    let mut args = vec!["ops", "apply", "-f", "-", "--wait"];
    args.extend(wait_flags);
    let run = ns.oam_with(&args, &doc, &[]);
    assert_eq!(run.stdout, "deployment.apps/web configured\n", "the write itself is done: {run:?}");
    // Progress lines come first; the error is the one line that ends it.
    run.error_after_progress("deployment.apps/web")
}

#[test]
fn wait_names_what_is_stuck_when_the_progress_deadline_passes() {
    let ns = Ns::new("workloads-stall");
    let err = pinned_to_nowhere(&ns, 2, &[]);
    assert!(
        err.starts_with(&format!(
            "error: deployment.apps/web in namespace \"{}\" stalled: progress deadline (2s) exceeded: ReplicaSet \"web-",
            ns.name
        )),
        "{err}"
    );
    assert!(err.contains("has timed out progressing; pod web-"), "{err}");
    // (0/3 on the local cluster's three nodes.)
    assert!(
        err.contains("is not scheduled: 0/")
            && err.ends_with("node(s) didn't match Pod's node affinity/selector"),
        "{err}"
    );
}

#[test]
fn wait_gives_up_after_the_timeout() {
    let ns = Ns::new("workloads-timeout");
    let err = pinned_to_nowhere(&ns, 600, &["--timeout", "2s"]);
    assert!(
        err.starts_with(&format!(
            "error: deployment.apps/web in namespace \"{}\" has not rolled out after 2s (--timeout) (1/2 updated",
            ns.name
        )),
        "{err}"
    );
    assert!(err.contains("is not scheduled: 0/") && err.contains("nodes are available"), "{err}");
    assert!(err.ends_with("; check it, or wait longer with --timeout"), "{err}");
}

const JOBS: &str = r#"apiVersion: batch/v1
kind: Job
metadata: {name: once}
spec:
  backoffLimit: 0
  template:
    spec:
      restartPolicy: Never
      containers: [{name: main, image: busybox:1.36, command: ["true"]}]
---
apiVersion: batch/v1
kind: Job
metadata: {name: broken}
spec:
  backoffLimit: 0
  template:
    # kwok's nodes run nothing: the annotation makes the local cluster fail the pod, as a real one would.
    metadata: {annotations: {local-cluster.kubectl-oam.dev/fail: "true"}}
    spec:
      restartPolicy: Never
      containers: [{name: main, image: busybox:1.36, command: [sh, -c, "exit 1"]}]
---
apiVersion: batch/v1
kind: CronJob
metadata: {name: nightly}
spec:
  schedule: "0 3 * * *"
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: OnFailure
          containers: [{name: main, image: busybox:1.36}]
"#;

#[test]
fn wait_on_jobs_ends_when_they_complete_or_fail_and_cronjobs_have_nothing_to_wait_for() {
    let ns = Ns::new("workloads-jobs");
    ns.create(JOBS);
    let label = |what: &str| {
        let doc = ns.oam(&["ops", "get", what]).ok().stdout;
        let doc = match doc.contains("\nmetadata:\n") {
            true => doc.replace("\nmetadata:\n", "\nmetadata:\n  labels:\n    team: a\n"),
            false => doc + "metadata:\n  labels:\n    team: a\n",
        };
        ns.oam_with(&["ops", "apply", "-f", "-", "--wait", "--force-conflicts"], &doc, &[])
    };
    let done = label("job/once").ok();
    assert_eq!(
        done.stderr.lines().last(),
        Some("job.batch/once rolled out: 1/1 succeeded, 0 running, 0 failed")
    );
    let failed = label("job/broken").error_after_progress("job.batch/broken");
    assert!(
        failed.starts_with(&format!(
            "error: job.batch/broken in namespace \"{}\" stalled: the Job failed: ",
            ns.name
        )),
        "{failed}"
    );
    assert!(failed.contains("0/1 succeeded, 0 running, 1 failed"), "{failed}");
    let cron = label("cj/nightly").ok();
    assert_eq!(
        cron.stderr.lines().last(),
        Some(
            "cronjob.batch/nightly: nothing to wait for: a CronJob runs on its schedule; no rollout follows a write"
        )
    );
}

#[test]
fn a_deleted_namespace_finishes_deleting() {
    let ns = Ns::new("workloads-delete");
    ns.create(&web_deployment("web"));
    rolled_out(&ns, "deploy/web");
    ns.kubectl(&["delete", "namespace", &ns.name, "--timeout=90s"]).ok();
    let left = ns.kubectl(&["get", "namespace", &ns.name, "--ignore-not-found", "-o", "name"]).ok();
    assert_eq!(left.stdout, "", "the namespace and its pods are gone");
}

#[test]
fn lists_and_documents_show_live_status() {
    let ns = Ns::new("workloads-status");
    ns.create(&web_deployment("web"));
    rolled_out(&ns, "deploy/web");
    let list = ns.oam(&["ops", "list", "deploy"]).ok().stdout;
    let mut lines = list.lines();
    let header: Vec<&str> = lines.next().unwrap_or_default().split_whitespace().collect();
    assert_eq!(
        header,
        ["NAME", "KIND", "READY", "UP-TO-DATE", "AVAILABLE", "REPLICAS", "STRATEGY", "PLACEMENT", "AGE"]
    );
    let row: Vec<&str> = lines.next().unwrap_or_default().split_whitespace().collect();
    assert_eq!(row[..6], ["web", "Deployment", "2/2", "2", "2", "2"], "{list}");
    assert!(row[8].ends_with('s') || row[8].ends_with('m'), "an age: {list}");

    // `get` adds a read-only status section, read from the object alone (one request).
    let doc: serde_json::Value =
        serde_yaml::from_str(&ns.oam(&["ops", "get", "deploy/web"]).ok().stdout).unwrap();
    assert_eq!(doc["status"]["rollout"], "complete");
    assert_eq!(
        (doc["status"]["ready"].as_str(), doc["status"]["available"].as_i64()),
        (Some("2/2"), Some(2))
    );
    let run = ns.oam(&["dev", "get", "deploy/web", "-v", "6"]).ok();
    // (Beside the object, the related kinds' lists: see views.rs.)
    assert_eq!(object_requests(&run.stderr).len(), 1, "{}", run.stderr);

    // Mid-rollout (the new pods cannot be scheduled), dev sees which images the ready pods still run:
    // one more request, for the Deployment's ReplicaSets (not its pods: their number, and the
    // namespace's, cost nothing), from the server's cache as fresh as the Deployment.
    let patch = r#"{"spec":{"template":{"spec":{"nodeSelector":{"disk":"none-such"},"containers":[{"name":"app","image":"nginx:1.26"}]}}}}"#;
    ns.kubectl(&["patch", "deploy/web", "-p", patch]).ok();
    ns.kubectl(&["wait", "deploy/web", "--for=jsonpath={.status.updatedReplicas}=1", "--timeout=60s"]).ok();
    let run = ns.oam(&["dev", "get", "deploy/web", "-v", "6"]).ok();
    let requests = object_requests(&run.stderr);
    assert_eq!(requests.len(), 2, "{requests:?}");
    assert!(requests[1].contains("/replicasets?"), "{requests:?}");
    assert!(requests[1].contains("resourceVersionMatch=NotOlderThan"), "{requests:?}");
    let doc: serde_json::Value = serde_yaml::from_str(&run.stdout).unwrap();
    assert_eq!(doc["containers"]["app"]["image"], "nginx:1.26");
    assert_eq!(doc["status"]["rollout"], "progressing");
    assert_eq!(
        doc["status"]["readyPodImages"],
        serde_json::json!({"app": {"nginx:1.25": 2}}),
        "{}",
        run.stdout
    );

    // Writes ignore the section; the editor refuses changes to it.
    let applied = ns.oam_with(&["dev", "apply", "-f", "-"], &run.stdout, &[]).ok();
    assert_eq!(applied.stdout, "deployment.apps/web unchanged\n");
    // (The editor adds a status on its first opening, then saves as it is: the user gives up.)
    let script = std::env::temp_dir().join(format!("{}-editor.sh", ns.name));
    let marker = script.with_extension("opened");
    std::fs::write(
        &script,
        format!("#!/bin/sh\n[ -e {m} ] && exit 0\ntouch {m}\nprintf 'status:\\n  rollout: complete\\n' >> \"$1\"\n", m = marker.display()),
    )
    .unwrap();
    let editor = format!("sh {}", script.display());
    let edit = ns.oam_with(&["dev", "edit", "deploy/web", "--yes"], "", &[("KUBE_EDITOR", &editor)]);
    let _ = (std::fs::remove_file(&script), std::fs::remove_file(&marker));
    assert_eq!(edit.code, 2, "{edit:?}");
    assert!(edit.stderr.contains("status: shown for context and never written"), "{edit:?}");
}

#[test]
fn a_statefulset_mid_rollout_shows_what_its_ready_pods_run() {
    let ns = Ns::new("workloads-sts-status");
    ns.create(
        r#"apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db}
spec:
  replicas: 2
  serviceName: db
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db}}
    spec:
      containers: [{name: db, image: "postgres:16"}]
"#,
    );
    rolled_out(&ns, "sts/db");
    // (The first command also reads the role profile; later ones find it cached.)
    let run = ns.oam(&["dev", "get", "sts/db"]).ok();
    assert!(!run.stdout.contains("readyPodImages"), "{}", run.stdout);
    let run = ns.oam(&["dev", "get", "sts/db", "-v", "6"]).ok();
    assert_eq!(object_requests(&run.stderr).len(), 1, "{}", run.stderr);
    // The highest ordinal is replaced first, and cannot be scheduled: db-0 still runs the old image.
    let patch = r#"{"spec":{"template":{"spec":{"nodeSelector":{"disk":"none-such"},"containers":[{"name":"db","image":"postgres:17"}]}}}}"#;
    ns.kubectl(&["patch", "sts/db", "-p", patch]).ok();
    ns.kubectl(&["wait", "sts/db", "--for=jsonpath={.status.updatedReplicas}=1", "--timeout=60s"]).ok();
    let run = ns.oam(&["dev", "get", "sts/db", "-v", "6"]).ok();
    let requests = object_requests(&run.stderr);
    assert_eq!(requests.len(), 2, "{requests:?}");
    assert!(requests[1].contains("/pods?") && requests[1].contains("limit=200"), "{requests:?}");
    assert!(requests[1].contains("resourceVersionMatch=NotOlderThan"), "{requests:?}");
    let doc: serde_json::Value = serde_yaml::from_str(&run.stdout).unwrap();
    assert_eq!(doc["status"]["rollout"], "progressing", "{}", run.stdout);
    assert_eq!(
        doc["status"]["readyPodImages"],
        serde_json::json!({"db": {"postgres:16": 1}}),
        "{}",
        run.stdout
    );
}

/// The requests of a view (-v 6) but the related kinds' lists (Services, Ingresses, HTTPRoutes, PDBs,
/// claims), which are sent at once with the object and counted in views.rs.
fn object_requests(stderr: &str) -> Vec<&str> {
    let related =
        ["/services?", "/ingresses?", "/httproutes?", "/poddisruptionbudgets?", "/persistentvolumeclaims?"];
    stderr
        .lines()
        .filter(|l| l.contains("round_trippers") && !related.iter().any(|r| l.contains(r)))
        .collect()
}
