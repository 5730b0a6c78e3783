//! Several clusters at once, on two real control planes (the main one, contexts admin/dev/ops, and
//! west, contexts west-admin/…; see harness.rs) and a dead context (a closed port): views of
//! several contexts, `diff --against-context`, and `promote` from one cluster to the other.

use std::process::Command;

use serde_json::{Value, json};

use crate::harness::{Ns, Run, env, fleet_kubeconfig, managers_of, run_with_stdin, settled};

/// A namespace of the same name in both clusters (dev and ops bound to `edit` in each), deleted
/// from both at the end.
struct Fleet {
    ns: Ns,
    kubeconfig: String,
}

impl Fleet {
    fn new(test: &str) -> Fleet {
        let ns = Ns::new(test);
        let fleet = Fleet { kubeconfig: fleet_kubeconfig(), ns };
        fleet
            .kubectl_stdin(
                "west-admin",
                &["apply", "-f", "-"],
                &format!(
                    "apiVersion: v1\nkind: Namespace\nmetadata: {{name: {ns}}}\n---\n\
                     apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {{name: oam-roles, namespace: {ns}}}\n\
                     roleRef: {{apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: edit}}\n\
                     subjects:\n- {{apiGroup: rbac.authorization.k8s.io, kind: Group, name: 'oam:developers'}}\n\
                     - {{apiGroup: rbac.authorization.k8s.io, kind: Group, name: 'oam:operators'}}\n",
                    ns = fleet.ns.name
                ),
            )
            .ok();
        fleet
    }

    /// Real kubectl in one context, in the test's namespace.
    fn kubectl(&self, context: &str, args: &[&str]) -> Run {
        self.kubectl_stdin(context, args, "")
    }

    fn kubectl_stdin(&self, context: &str, args: &[&str], stdin: &str) -> Run {
        run_with_stdin(
            Command::new(env().kubectl_path())
                .env("KUBECONFIG", &self.kubeconfig)
                .args(["--context", context, "-n", &self.ns.name])
                .args(args),
            stdin,
        )
    }

    /// kubectl-oam with the merged KUBECONFIG (main, west, dead), in the test's namespace.
    fn oam(&self, args: &[&str]) -> Run {
        self.ns.oam_with(args, "", &[("KUBECONFIG", &self.kubeconfig)])
    }

    /// The object as JSON in one context, with its managedFields.
    fn json(&self, context: &str, what: &str) -> serde_json::Value {
        let run = self.kubectl(context, &["get", what, "-o", "json", "--show-managed-fields"]).ok();
        serde_json::from_str(&run.stdout).expect("kubectl prints JSON")
    }
}

impl Drop for Fleet {
    fn drop(&mut self) {
        if std::env::var_os("OAM_TEST_KEEP_NAMESPACES").is_none() {
            let _ = self.kubectl("west-admin", &["delete", "namespace", &self.ns.name, "--wait=false"]);
        }
    }
}

/// A one-container Deployment (pods need not run: west has no nodes).
fn web(image: &str, replicas: u32, containers: &[&str]) -> String {
    let containers: String =
        containers.iter().map(|c| format!("      - {{name: {c}, image: '{image}'}}\n")).collect();
    format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: web, labels: {{app: web}}}}\nspec:\n  replicas: {replicas}\n  \
         selector: {{matchLabels: {{app: web}}}}\n  template:\n    metadata: {{labels: {{app: web}}}}\n    spec:\n      \
         containers:\n{containers}"
    )
}

/// The cells of a table's data rows, split on runs of spaces (these cells hold none).
fn rows(table: &str) -> Vec<Vec<String>> {
    table.lines().skip(1).map(|l| l.split_whitespace().map(String::from).collect()).collect()
}

#[test]
fn views_of_two_clusters_and_a_dead_context() {
    let f = Fleet::new("fleet-views");
    f.kubectl_stdin("admin", &["apply", "-f", "-"], &web("nginx:1.25", 2, &["app"])).ok();
    f.kubectl_stdin("west-admin", &["apply", "-f", "-"], &web("nginx:1.27", 1, &["app"])).ok();

    // One context: the table as before, no CONTEXT column.
    let one = f.oam(&["dev", "list", "--context", "admin"]).ok();
    assert!(one.stdout.starts_with("NAME "), "{}", one.stdout);

    // Two live clusters and a dead one: the live ones print, the dead one is one error line
    // naming it, and the command exits 2.
    let run = f.oam(&["dev", "list", "--context", "admin,dead", "--context", "west-admin"]);
    assert_eq!(run.code, 2, "{run:#?}");
    assert!(run.stdout.starts_with("CONTEXT "), "{}", run.stdout);
    let table = rows(&run.stdout);
    let images: Vec<(&str, &str)> = table.iter().map(|r| (r[0].as_str(), r[7].as_str())).collect();
    assert_eq!(images, [("admin", "nginx:1.25"), ("west-admin", "nginx:1.27")], "{}", run.stdout);
    let errors: Vec<&str> = run.stderr.lines().collect();
    assert_eq!(errors.len(), 1, "{}", run.stderr);
    assert!(
        errors[0].starts_with("error: context \"dead\": cannot reach the cluster at https://127.0.0.1:1"),
        "{}",
        run.stderr
    );

    // Documents carry their context; ops sees each cluster's own replicas.
    let run = f.oam(&["ops", "list", "--context", "admin,west-admin", "-o", "json"]).ok();
    let docs: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let seen: Vec<(String, i64)> = docs
        .as_array()
        .unwrap()
        .iter()
        .map(|d| (d["context"].as_str().unwrap().to_string(), d["scaler"]["replicas"].as_i64().unwrap()))
        .collect();
    assert_eq!(seen, [("admin".to_string(), 2), ("west-admin".to_string(), 1)]);

    // `get TYPE/NAME`: a List of the object in each context; a template reads its `context`.
    let run = f.oam(&["dev", "get", "deploy/web", "--context", "admin,west-admin", "-o", "json"]).ok();
    let list: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(list["kind"], "List");
    assert_eq!(list["items"][1]["context"], "west-admin");
    assert_eq!(list["items"][1]["containers"]["app"]["image"], "nginx:1.27");
    let run = f.oam(&[
        "dev",
        "get",
        "deploy/web",
        "--context",
        "admin,west-admin",
        "-o",
        "jsonpath={range .items[*]}{.context}={.containers.app.image} {end}",
    ]);
    assert_eq!(run.ok().stdout, "admin=nginx:1.25 west-admin=nginx:1.27 ");
    // A key no document has is an error, as with one context, not empty output.
    for verb in [&["get", "deploy/web"][..], &["list"][..]] {
        let args =
            [&["dev"][..], verb, &["--context", "admin,west-admin", "-o", "jsonpath={.items[*].imgae}"]]
                .concat();
        let run = f.oam(&args);
        assert_eq!((run.code, run.stdout.as_str()), (2, ""), "{run:#?}");
        assert!(run.stderr.contains("a dev role document has no key \"imgae\""), "{}", run.stderr);
    }

    // Owners: one table with a CONTEXT column, rows of both clusters.
    let run = f.oam(&["owners", "deploy/web", "--context", "admin,west-admin"]).ok();
    let contexts: Vec<String> = rows(&run.stdout).into_iter().map(|r| r[0].clone()).collect();
    assert!(contexts.contains(&"admin".into()) && contexts.contains(&"west-admin".into()), "{}", run.stdout);
    assert!(run.stdout.starts_with("CONTEXT "), "{}", run.stdout);

    // Every context of the kubeconfig: both clusters as admin, dev and ops (bound to `edit` in the
    // test's namespace), and the dead one.
    let run = f.oam(&["dev", "list", "--all-contexts"]);
    assert_eq!(run.code, 2, "{run:#?}");
    let contexts: Vec<String> = rows(&run.stdout).into_iter().map(|r| r[0].clone()).collect();
    assert_eq!(contexts, ["admin", "dev", "ops", "west-admin", "west-dev", "west-ops"], "{}", run.stdout);
    assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
    assert!(run.stderr.starts_with("error: context \"dead\": "), "{}", run.stderr);

    // Only views take several contexts.
    let said =
        f.oam(&["dev", "set", "image", "deploy/web", "app=x", "--context", "admin,west-admin"]).error();
    assert!(
        said.contains("several contexts (--context a,b, --all-contexts) are for get, list and owners"),
        "{said}"
    );
}

#[test]
fn diff_against_another_cluster_compares_one_role() {
    let f = Fleet::new("fleet-diff");
    f.kubectl_stdin("admin", &["apply", "-f", "-"], &web("nginx:1.25", 3, &["app"])).ok();
    f.kubectl_stdin("west-admin", &["apply", "-f", "-"], &web("nginx:1.25", 1, &["app"])).ok();

    // Same image, other replicas: equal for dev, a diff for ops.
    let run =
        f.oam(&["dev", "diff", "deploy/web", "--context", "admin", "--against-context", "west-admin"]).ok();
    assert_eq!(run.stdout, "");
    let run = f.oam(&["ops", "diff", "deploy/web", "--context", "admin", "--against-context", "west-admin"]);
    assert_eq!(run.code, 1, "{run:#?}");
    let ns = &f.ns.name;
    assert!(
        run.stdout.starts_with(&format!(
            "--- deployment.apps/web (context admin, namespace {ns})\n+++ deployment.apps/web (context west-admin, namespace {ns})\n"
        )),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("\n-  replicas: 3\n+  replicas: 1\n"), "{}", run.stdout);

    // The same object on both sides (the current context is admin): not "equal", an error.
    let run = f.oam(&["dev", "diff", "deploy/web", "--against-context", "admin"]);
    assert_eq!(run.code, 2, "{run:#?}");
    assert!(
        run.stderr
            .starts_with("error: context \"admin\" and --against-context \"admin\" name the same object"),
        "{}",
        run.stderr
    );

    // Another image in west: dev differs too.
    f.kubectl("west-admin", &["set", "image", "deploy/web", "app=nginx:1.27"]).ok();
    let run = f.oam(&["dev", "diff", "deploy/web", "--context", "admin", "--against-context", "west-admin"]);
    assert_eq!(run.code, 1, "{run:#?}");
    assert!(run.stdout.contains("\n-    image: nginx:1.25\n+    image: nginx:1.27\n"), "{}", run.stdout);

    // An object missing on one side: one error line naming the context, object and namespace.
    f.kubectl("west-admin", &["delete", "deploy/web"]).ok();
    let said = f
        .oam(&["dev", "diff", "deploy/web", "--against-context", "west-admin", "--context", "admin"])
        .error();
    assert!(said.starts_with("error: context \"west-admin\": "), "{said}");
    assert!(said.contains("web") && said.contains(ns.as_str()), "{said}");
}

#[test]
fn promote_copies_the_developers_fields_and_leaves_the_operators() {
    let f = Fleet::new("fleet-promote");
    // Production (main cluster): 3 replicas set by ops; staging (west): a new image and env.
    f.kubectl_stdin("admin", &["apply", "-f", "-"], &web("nginx:1.25", 2, &["app"])).ok();
    f.kubectl_stdin("west-admin", &["apply", "-f", "-"], &web("nginx:1.25", 1, &["app"])).ok();
    f.oam(&["ops", "adopt", "deploy/web", "--context", "admin"]).ok();
    f.oam(&["ops", "scale", "deploy/web", "--replicas", "3", "--context", "admin"]).ok();
    f.oam(&["dev", "adopt", "deploy/web", "--context", "west-admin"]).ok();
    f.oam(&["dev", "set", "image", "deploy/web", "app=nginx:1.27", "--context", "west-admin"]).ok();
    f.oam(&["dev", "set", "env", "deploy/web", "MODE=canary", "--context", "west-admin"]).ok();
    let before = f.json("admin", "deploy/web");

    // The image in production is still kubectl's: the conflict is named, nothing is written.
    let promote = ["dev", "promote", "deploy/web", "--from-context", "west-admin", "--to-context", "admin"];
    let said = f.oam(&[&promote[..], &["--yes"]].concat()).error();
    assert!(said.contains("containers.app.image") && said.contains("kubectl-client-side-apply"), "{said}");
    assert_eq!(settled(&f.json("admin", "deploy/web")), settled(&before), "nothing was written");

    // No terminal and no --yes: refused, with the command to run.
    let said = f.oam(&[&promote[..], &["--force-conflicts"]].concat()).error();
    assert!(said.contains("--yes"), "{said}");

    // The dry run shows the change; then the write.
    let run = f.oam(&[&promote[..], &["--force-conflicts", "--dry-run=server"]].concat()).ok();
    assert!(run.stdout.contains("-    image: nginx:1.25\n+    image: nginx:1.27\n"), "{}", run.stdout);
    let run = f.oam(&[&promote[..], &["--force-conflicts", "--yes"]].concat()).ok();
    assert_eq!(run.stdout, "deployment.apps/web promoted from context \"west-admin\" to \"admin\"\n");

    let after = f.json("admin", "deploy/web");
    let app = &after["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(app["image"], "nginx:1.27");
    assert_eq!(app["env"], serde_json::json!([{"name": "MODE", "value": "canary"}]));
    // The operator's fields in production are as they were, and still the operator's.
    assert_eq!(after["spec"]["replicas"], 3);
    assert_eq!(after["spec"]["strategy"], before["spec"]["strategy"]);
    assert_eq!(after["metadata"]["labels"], before["metadata"]["labels"]);
    assert_eq!(managers_of(&after, &["f:spec", "f:replicas"]), ["kubectl-oam-ops"]);
    let image = ["f:spec", "f:template", "f:spec", "f:containers", "k:{\"name\":\"app\"}", "f:image"];
    assert_eq!(managers_of(&after, &image), ["kubectl-oam-dev"]);
    // West is untouched by the promotion: still one replica.
    assert_eq!(f.json("west-admin", "deploy/web")["spec"]["replicas"], 1);

    // Now equal for dev; a second promotion changes nothing.
    f.oam(&["dev", "diff", "deploy/web", "--context", "admin", "--against-context", "west-admin"]).ok();
    let run = f.oam(&[&promote[..], &["--yes"]].concat()).ok();
    assert_eq!(run.stdout, "deployment.apps/web unchanged in context \"admin\"\n");
}

#[test]
fn promote_refuses_other_containers() {
    let f = Fleet::new("fleet-refuse");
    f.kubectl_stdin("admin", &["apply", "-f", "-"], &web("nginx:1.25", 1, &["app"])).ok();
    f.kubectl_stdin("west-admin", &["apply", "-f", "-"], &web("nginx:1.27", 1, &["app", "proxy"])).ok();
    let before = f.json("admin", "deploy/web");
    let said = f
        .oam(&[
            "dev",
            "promote",
            "deploy/web",
            "--from-context",
            "west-admin",
            "--to-context",
            "admin",
            "--yes",
        ])
        .error();
    let ns = &f.ns.name;
    assert!(
        said.starts_with(&format!(
            "error: deployment.apps/web in namespace \"{ns}\" of context \"admin\" is not the same workload as in namespace \"{ns}\" of context \"west-admin\": containers only in the source: proxy;"
        )),
        "{said}"
    );
    assert_eq!(settled(&f.json("admin", "deploy/web")), settled(&before), "nothing was written");
    // The diff it suggests compares the two from the target's side.
    assert!(
        said.contains(&format!(
            "`kubectl oam dev diff deployment.apps/web --against-context west-admin --against-namespace {ns} -n {ns} --context admin`"
        )),
        "{said}"
    );
}

#[test]
fn ops_promote_into_another_namespace_leaves_the_developers_fields() {
    let f = Fleet::new("fleet-ops");
    // The target: another namespace of the main cluster, where a developer set the image.
    let prod = Ns::new("fleet-ops-prod");
    prod.create(&web("nginx:1.25", 2, &["app"]));
    prod.oam(&["dev", "set", "image", "deploy/web", "app=nginx:1.30", "--force-conflicts"]).ok();
    // The source: west, where ops runs 4 replicas with a label of its own.
    f.kubectl_stdin("west-admin", &["apply", "-f", "-"], &web("nginx:1.25", 1, &["app"])).ok();
    f.oam(&["ops", "scale", "deploy/web", "--replicas", "4", "--force-conflicts", "--context", "west-admin"])
        .ok();
    f.kubectl("west-admin", &["label", "deploy/web", "tier=gold"]).ok();

    let run = f.oam(&[
        "ops",
        "promote",
        "deploy/web",
        "--from-context",
        "west-admin",
        "--to-context",
        "admin",
        "--to-namespace",
        &prod.name,
        "--force-conflicts",
        "--yes",
        "--wait",
        "--timeout",
        "2m",
    ]);
    assert_eq!(run.code, 0, "{run:#?}");
    // --wait follows the rollout in the target cluster (kwok's nodes run the pods there).
    assert!(run.stderr.contains("deployment.apps/web rolled out: 4/4 updated"), "{run:#?}");
    let after = prod.get_json("deploy/web");
    assert_eq!(after["spec"]["replicas"], 4);
    assert_eq!(after["metadata"]["labels"]["tier"], "gold");
    // The developer's image and its owner are as they were.
    assert_eq!(after["spec"]["template"]["spec"]["containers"][0]["image"], "nginx:1.30");
    let image = ["f:spec", "f:template", "f:spec", "f:containers", "k:{\"name\":\"app\"}", "f:image"];
    assert_eq!(managers_of(&after, &image), ["kubectl-oam-dev"]);
    assert_eq!(managers_of(&after, &["f:spec", "f:replicas"]), ["kubectl-oam-ops"]);
    // Equal now for ops, still different for dev.
    let diff = ["diff", "deploy/web", "--context", "admin", "--against-context", "west-admin"];
    let against = ["--against-namespace", &f.ns.name];
    let envs = [("KUBECONFIG", f.kubeconfig.as_str())];
    let ops = prod.oam_with(&[&["ops"][..], &diff, &against].concat(), "", &envs);
    assert_eq!((ops.code, ops.stdout.as_str()), (0, ""), "{ops:#?}");
    let dev = prod.oam_with(&[&["dev"][..], &diff, &against].concat(), "", &envs);
    assert_eq!(dev.code, 1, "{dev:#?}");
}

#[test]
fn promote_asks_on_a_terminal() {
    let f = Fleet::new("fleet-ask");
    f.kubectl_stdin("admin", &["apply", "-f", "-"], &web("nginx:1.25", 1, &["app"])).ok();
    f.kubectl_stdin("west-admin", &["apply", "-f", "-"], &web("nginx:1.27", 1, &["app"])).ok();
    let promote = "dev promote deploy/web --from-context west-admin --to-context admin --force-conflicts";
    let envs = [("KUBECONFIG", f.kubeconfig.as_str())];
    // The diff, then the question; "n" leaves the target alone.
    let (ok, screen) = f.ns.oam_answering(promote, &envs, false, "n");
    assert!(ok, "{screen}");
    assert!(screen.contains("+    image: nginx:1.27"), "{screen}");
    assert!(screen.contains("in context \"admin\"?"), "{screen}");
    assert!(screen.contains("Nothing was changed."), "{screen}");
    assert_eq!(
        f.json("admin", "deploy/web")["spec"]["template"]["spec"]["containers"][0]["image"],
        "nginx:1.25"
    );
    // "y" writes.
    let (ok, screen) = f.ns.oam_answering(promote, &envs, false, "y");
    assert!(ok, "{screen}");
    assert!(
        screen.contains("deployment.apps/web promoted from context \"west-admin\" to \"admin\""),
        "{screen}"
    );
    assert_eq!(
        f.json("admin", "deploy/web")["spec"]["template"]["spec"]["containers"][0]["image"],
        "nginx:1.27"
    );
}

#[test]
fn ops_promote_carries_the_autoscaler_to_the_targets_hpa() {
    let f = Fleet::new("fleet-hpa");
    f.kubectl_stdin("admin", &["apply", "-f", "-"], &web("nginx:1.25", 2, &["app"])).ok();
    f.kubectl_stdin("west-admin", &["apply", "-f", "-"], &web("nginx:1.25", 1, &["app"])).ok();
    let autoscale = ["ops", "autoscale", "deploy/web", "--min", "2", "--max", "5", "--cpu-percent", "70"];
    f.oam(&[&autoscale[..], &["--force-conflicts", "--context", "west-admin"]].concat()).ok();
    let promote = ["ops", "promote", "deploy/web", "--from-context", "west-admin", "--to-context", "admin"];

    // No HPA in the target: roles never create one; the command that does, with the source's values.
    let before = f.json("admin", "deploy/web");
    let said = f.oam(&[&promote[..], &["--yes", "--force-conflicts"]].concat()).error();
    let ns = &f.ns.name;
    assert!(
        said.contains(&format!(
            "has no HorizontalPodAutoscaler, and in context \"west-admin\" web scales it; roles never create objects: create it with `kubectl oam ops autoscale deployment.apps/web --min 2 --max 5 --cpu-percent 70 -n {ns} --context admin`"
        )),
        "{said}"
    );
    assert!(!said.contains("remove the section"), "{said}");
    assert_eq!(settled(&f.json("admin", "deploy/web")), settled(&before), "nothing was written");

    // An HPA someone else made (kubectl autoscale): its fields are a named conflict.
    f.kubectl("admin", &["autoscale", "deploy/web", "--min", "1", "--max", "3", "--cpu-percent", "50"]).ok();
    let said = f.oam(&[&promote[..], &["--yes"]].concat()).error();
    assert!(
        said.starts_with("error: context \"admin\": horizontalpodautoscaler.autoscaling/web")
            && said.contains("autoscaler.maxReplicas (held by \"kubectl-autoscale\")"),
        "{said}"
    );
    // The dry run shows the autoscaler's change; taking the fields over writes the source's.
    let dry = f.oam(&[&promote[..], &["--force-conflicts", "--dry-run=server"]].concat()).ok();
    assert!(
        dry.stdout.contains("\n-  maxReplicas: 3\n") && dry.stdout.contains("\n+  maxReplicas: 5\n"),
        "{}",
        dry.stdout
    );
    f.oam(&[&promote[..], &["--force-conflicts", "--yes"]].concat()).ok();
    let hpa = f.json("admin", "hpa/web");
    assert_eq!(
        (hpa["spec"]["minReplicas"].as_i64(), hpa["spec"]["maxReplicas"].as_i64()),
        (Some(2), Some(5))
    );
    assert_eq!(f.json("west-admin", "hpa/web")["spec"]["maxReplicas"], 5, "the source is as it was");
}

#[test]
fn promote_into_a_flux_reconciled_object_is_refused_and_owners_says_where() {
    crate::reconcilers::crds();
    let f = Fleet::new("fleet-flux");
    // The target (main cluster) is Flux's: Git sets nginx:1.25.
    crate::reconcilers::kustomization(&f.ns, serde_json::json!([]));
    crate::reconcilers::flux_apply(&f.ns, &crate::reconcilers::git_manifest(""), &[]).ok();
    f.kubectl_stdin("west-admin", &["apply", "-f", "-"], &web("nginx:1.30", 1, &["app"])).ok();
    let before = f.json("admin", "deploy/web");
    let said = f
        .oam(&[
            "dev",
            "promote",
            "deploy/web",
            "--from-context",
            "west-admin",
            "--to-context",
            "admin",
            "--force-conflicts",
            "--yes",
        ])
        .error();
    let ns = &f.ns.name;
    for part in [
        &format!("Flux Kustomization {ns}/apps") as &str,
        "containers.app.image",
        "nothing was applied",
        &format!("kubectl oam dev gitops deployment.apps/web -n {ns} --context admin"),
    ] {
        assert!(said.contains(part), "{part:?} missing from {said}");
    }
    assert_eq!(settled(&f.json("admin", "deploy/web")), settled(&before), "nothing was written");

    // Owners of both: the reconciler line names its context, and its command that one alone.
    let run = f.oam(&["owners", "deploy/web", "--context", "west-admin,admin"]).ok();
    assert!(
        run.stdout.contains(&format!(
            "\ncontext \"admin\": reconciled by Flux Kustomization {ns}/apps (label kustomize.toolkit.fluxcd.io/name): "
        )) && run.stdout.contains(&format!("`kubectl oam dev gitops deployment.apps/web -n {ns} --context admin`")),
        "{}",
        run.stdout
    );
    assert!(!run.stdout.contains("context \"west-admin\": reconciled"), "{}", run.stdout);
}

#[test]
fn promote_confirmed_after_the_target_changed_never_reverts_the_change() {
    use std::io::{Read, Write};
    use std::sync::{Arc, Mutex};
    let f = Fleet::new("fleet-race");
    f.kubectl_stdin("admin", &["apply", "-f", "-"], &web("nginx:1.25", 1, &["app"])).ok();
    f.kubectl_stdin("west-admin", &["apply", "-f", "-"], &web("nginx:1.27", 1, &["app"])).ok();
    let mut child = f.ns.oam_on_terminal(
        "dev promote deploy/web --from-context west-admin --to-context admin --force-conflicts",
        &[("KUBECONFIG", f.kubeconfig.as_str())],
        false,
    );
    let screen = Arc::new(Mutex::new(String::new()));
    let mut stdout = child.stdout.take().unwrap();
    let reader = {
        let screen = Arc::clone(&screen);
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = stdout.read(&mut buf) {
                if n == 0 {
                    break;
                }
                screen.lock().unwrap().push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        })
    };
    // The diff (1.25 → 1.27) and the question are on the screen; then a colleague sets the image.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while !screen.lock().unwrap().contains("in context \"admin\"?") {
        assert!(std::time::Instant::now() < deadline, "no question: {}", screen.lock().unwrap());
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    f.kubectl("admin", &["set", "image", "deploy/web", "app=nginx:1.26"]).ok();
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(b"y\n").unwrap();
    stdin.flush().unwrap();
    let status = child.wait().unwrap();
    reader.join().unwrap();
    let screen = screen.lock().unwrap().clone();
    assert!(!status.success(), "{screen}");
    assert!(screen.contains("containers.app.image is now \"nginx:1.26\""), "{screen}");
    assert!(screen.contains("nothing was applied"), "{screen}");
    let image = &f.json("admin", "deploy/web")["spec"]["template"]["spec"]["containers"][0]["image"];
    assert_eq!(image, "nginx:1.26", "the colleague's image stands");
}

#[test]
fn promote_copies_a_secret_reference_never_its_value() {
    let f = Fleet::new("fleet-secret");
    f.kubectl_stdin("admin", &["apply", "-f", "-"], &web("nginx:1.25", 1, &["app"])).ok();
    f.kubectl_stdin("west-admin", &["apply", "-f", "-"], &web("nginx:1.25", 1, &["app"])).ok();
    f.kubectl("west-admin", &["create", "secret", "generic", "db", "--from-literal=password=hunter2-value"])
        .ok();
    f.kubectl("west-admin", &["set", "env", "deploy/web", "--from=secret/db"]).ok();
    let promote = ["dev", "promote", "deploy/web", "--from-context", "west-admin", "--to-context", "admin"];
    let dry = f.oam(&[&promote[..], &["--dry-run=server"]].concat()).ok();
    assert!(
        dry.stdout.contains("+        secretKeyRef:\n+          name: db\n+          key: password\n"),
        "{}",
        dry.stdout
    );
    let diff = f.oam(&["dev", "diff", "deploy/web", "--context", "admin", "--against-context", "west-admin"]);
    assert_eq!(diff.code, 1, "{diff:#?}");
    let run = f.oam(&[&promote[..], &["--yes"]].concat()).ok();
    for shown in [&dry.stdout, &dry.stderr, &diff.stdout, &run.stdout, &run.stderr] {
        assert!(!shown.contains("hunter2"), "a secret value was printed: {shown}");
    }
    let env = &f.json("admin", "deploy/web")["spec"]["template"]["spec"]["containers"][0]["env"];
    assert_eq!(
        env,
        &serde_json::json!([{"name": "PASSWORD", "valueFrom": {"secretKeyRef": {"name": "db", "key": "password"}}}])
    );
}

#[test]
fn a_context_that_never_answers_fails_at_its_deadline_and_the_others_print() {
    let f = Fleet::new("fleet-hang");
    f.kubectl_stdin("admin", &["apply", "-f", "-"], &web("nginx:1.25", 1, &["app"])).ok();
    // A server that accepts connections and never says a word.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let _held = std::thread::spawn(move || {
        let mut held = Vec::new();
        for conn in listener.incoming() {
            held.push(conn);
        }
    });
    let hang = std::env::temp_dir().join(format!("{}-hang.kubeconfig", f.ns.name));
    std::fs::write(
        &hang,
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: hang\n  cluster: {{server: 'https://127.0.0.1:{port}', insecure-skip-tls-verify: true}}\n\
             users:\n- name: hang\n  user: {{token: none}}\ncontexts:\n- name: hang\n  context: {{cluster: hang, user: hang}}\n"
        ),
    )
    .unwrap();
    let kubeconfig = format!("{}:{}", f.kubeconfig, hang.display());
    let started = std::time::Instant::now();
    let run = f.ns.oam_with(
        &["dev", "list", "--context", "hang,admin", "--request-timeout", "2s"],
        "",
        &[("KUBECONFIG", &kubeconfig)],
    );
    let took = started.elapsed();
    std::fs::remove_file(&hang).ok();
    assert_eq!(run.code, 2, "{run:#?}");
    let contexts: Vec<String> = rows(&run.stdout).into_iter().map(|r| r[0].clone()).collect();
    assert_eq!(contexts, ["admin"], "{}", run.stdout);
    assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
    assert!(
        run.stderr.starts_with("error: context \"hang\": ")
            && run.stderr.contains("within 2s (--request-timeout)"),
        "{}",
        run.stderr
    );
    assert!(took < std::time::Duration::from_secs(25), "not the 30s default: it took {took:?}");
}

#[test]
fn a_context_name_in_two_kubeconfig_files_is_the_first_files_and_read_once() {
    let f = Fleet::new("fleet-dup");
    f.kubectl_stdin("admin", &["apply", "-f", "-"], &web("nginx:1.25", 1, &["app"])).ok();
    f.kubectl_stdin("west-admin", &["apply", "-f", "-"], &web("nginx:1.27", 1, &["app"])).ok();
    // West's file, its admin context renamed "admin": kubectl takes the first file's.
    let west = std::fs::read_to_string(crate::harness::west_kubeconfig()).unwrap();
    let dup = std::env::temp_dir().join(format!("{}-dup.kubeconfig", f.ns.name));
    std::fs::write(&dup, west.replace("- name: west-admin\n  context:", "- name: admin\n  context:"))
        .unwrap();
    let kubeconfig = format!("{}:{}", env().kubeconfig.display(), dup.display());
    let envs = [("KUBECONFIG", kubeconfig.as_str())];
    let run = f.ns.oam_with(&["dev", "list", "--all-contexts"], "", &envs);
    let one = f.ns.oam_with(&["dev", "list", "--context", "admin"], "", &envs).ok();
    std::fs::remove_file(&dup).ok();
    let seen: Vec<(String, String)> =
        rows(&run.stdout).into_iter().map(|r| (r[0].clone(), r[7].clone())).collect();
    assert!(seen.contains(&("admin".into(), "nginx:1.25".into())), "{run:#?}");
    assert_eq!(seen.iter().filter(|(c, _)| c == "admin").count(), 1, "{run:#?}");
    assert!(seen.contains(&("west-dev".into(), "nginx:1.27".into())), "{run:#?}");
    assert!(one.stdout.contains("nginx:1.25"), "{}", one.stdout);
}

/// web with a claim volume `data`, its Service (port `port`), its PVC (`size`), in one context.
fn web_around(f: &Fleet, context: &str, port: u32, size: &str, budget: bool) {
    let mut text = web("nginx:1.25", 1, &["app"]).replace(
        "      containers:\n",
        "      volumes: [{name: data, persistentVolumeClaim: {claimName: data}}]\n      containers:\n",
    );
    text.push_str(&format!(
        "---\napiVersion: v1\nkind: Service\nmetadata: {{name: web}}\nspec:\n  selector: {{app: web}}\n  ports: [{{name: http, port: {port}}}]\n\
         ---\napiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {{name: data}}\nspec:\n  accessModes: [ReadWriteOnce]\n  resources: {{requests: {{storage: {size}}}}}\n"
    ));
    if budget {
        text.push_str(
            "---\napiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {name: web}\nspec:\n  minAvailable: 1\n  selector: {matchLabels: {app: web}}\n",
        );
    }
    f.kubectl_stdin(context, &["apply", "-f", "-"], &text).ok();
}

#[test]
fn related_objects_across_clusters_in_views_diff_and_promote() {
    let f = Fleet::new("fleet-related");
    web_around(&f, "admin", 80, "1Gi", false);
    web_around(&f, "west-admin", 8080, "2Gi", true);
    // Each context's document has its own related sections, as the single-context view.
    let run = f.oam(&["ops", "get", "deploy/web", "--context", "admin,west-admin", "-o", "json"]).ok();
    let list: Value = serde_json::from_str(&run.stdout).unwrap();
    let items = list["items"].as_array().unwrap();
    assert_eq!(items[0]["expose"]["web"]["ports"][0]["port"], 80, "{run:?}");
    assert_eq!(items[1]["expose"]["web"]["ports"][0]["port"], 8080, "{run:?}");
    assert_eq!(
        (items[0].get("disruptionBudget"), &items[1]["disruptionBudget"]["web"]["minAvailable"]),
        (None, &json!(1))
    );
    // The developer's diff compares the claims' sizes.
    let run = f.oam(&["dev", "diff", "deploy/web", "--context", "admin", "--against-context", "west-admin"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stdout.contains("-    size: 1Gi\n+    size: 2Gi\n"), "{run:?}");

    // A budget only the source has: refused, naming it, and nothing is written (the Service neither).
    let promote = ["ops", "promote", "deploy/web", "--from-context", "west-admin", "--to-context", "admin"];
    let said = f.oam(&[&promote[..], &["--force-conflicts", "--yes"]].concat()).error();
    assert!(
        said.contains("disruptionBudget.web: no PodDisruptionBudget named \"web\"")
            && said.contains("never creates them")
            && said.contains("kubectl oam ops disruption-budget deployment.apps/web"),
        "{said}"
    );
    assert_eq!(f.json("admin", "svc/web")["spec"]["ports"][0]["port"], 80);
    // Without it, the Service's ports are written to the target as the operator's.
    f.kubectl("west-admin", &["delete", "pdb", "web"]).ok();
    let run = f.oam(&[&promote[..], &["--force-conflicts", "--dry-run=server"]].concat()).ok();
    assert!(run.stdout.contains("+      port: 8080\n"), "the dry run shows the Service's change: {run:?}");
    f.oam(&[&promote[..], &["--force-conflicts", "--yes"]].concat()).ok();
    let svc = f.json("admin", "svc/web");
    assert_eq!(svc["spec"]["ports"][0]["port"], 8080);
    let port = managers_of(&svc, &["f:spec", "f:ports", "k:{\"port\":8080,\"protocol\":\"TCP\"}", "f:port"]);
    assert!(!port.is_empty() && port.iter().all(|m| m == "kubectl-oam-ops"), "{port:?}");
    let run = f.oam(&["ops", "diff", "deploy/web", "--context", "admin", "--against-context", "west-admin"]);
    assert_eq!((run.code, run.stdout.as_str()), (0, ""), "{run:?}");
}
