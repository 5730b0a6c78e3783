//! The whole workload in the role model, on the real server: init containers and native sidecars,
//! Job and CronJob settings, the HPA as an ops trait (and `ops autoscale`), controlled objects, and
//! profiles checked against the schema (built-in kinds, and custom kinds through the server's
//! OpenAPI v3 with their list semantics).

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::harness::{Ns, managers_of, settled};
use crate::writes::{Editor, managed_entry, yaml};

/// A Deployment with a migration init container and a log-shipping native sidecar.
fn shop(name: &str) -> String {
    format!(
        r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
  labels: {{app: {name}}}
spec:
  replicas: 2
  selector: {{matchLabels: {{app: {name}}}}}
  template:
    metadata: {{labels: {{app: {name}}}}}
    spec:
      initContainers:
      - name: migrate
        image: shop:1
        args: [migrate]
      - name: log
        image: fluent:1
        restartPolicy: Always
      containers:
      - name: app
        image: shop:1
        env: [{{name: MODE, value: prod}}]
"#
    )
}

fn init<'a>(obj: &'a Value, name: &str) -> &'a Value {
    obj["spec"]["template"]["spec"]["initContainers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("init container {name}"))
}

fn init_path<'a>(name: &'a str, rest: &[&'a str]) -> Vec<String> {
    ["f:spec", "f:template", "f:spec", "f:initContainers"]
        .iter()
        .map(|s| s.to_string())
        .chain(std::iter::once(format!("k:{{\"name\":\"{name}\"}}")))
        .chain(rest.iter().map(|s| s.to_string()))
        .collect()
}

fn managers(obj: &Value, path: &[String]) -> Vec<String> {
    let path: Vec<&str> = path.iter().map(String::as_str).collect();
    managers_of(obj, &path)
}

/// The API requests a command made (`-v 6`).
fn requests(stderr: &str) -> Vec<String> {
    stderr.lines().filter(|l| l.contains("round_trippers")).map(str::to_string).collect()
}

#[test]
fn init_containers_and_sidecars_are_the_developers_like_app_containers() {
    let ns = Ns::new("model-init");
    ns.kubectl_stdin(&["apply", "--server-side", "--field-manager=installer", "-f", "-"], &shop("web")).ok();
    let doc = yaml(&ns.oam(&["dev", "get", "deploy/web"]).ok().stdout);
    assert_eq!(
        doc["initContainers"],
        json!({"migrate": {"image": "shop:1", "args": ["migrate"]}, "log": {"image": "fluent:1"}})
    );
    assert_eq!(doc["readOnly"]["sidecars"], json!(["log"]), "native sidecars are recognisable");
    let one = yaml(&ns.oam(&["dev", "get", "deploy/web", "-c", "migrate"]).ok().stdout);
    assert_eq!(one["initContainers"], json!({"migrate": {"image": "shop:1", "args": ["migrate"]}}));
    assert!(one.get("containers").is_none());
    let ops = yaml(&ns.oam(&["ops", "get", "deploy/web"]).ok().stdout);
    assert!(ops.get("initContainers").is_none(), "ops never sees containers");
    let list = ns.oam(&["dev", "list"]).ok().stdout;
    assert!(list.contains("migrate (init)") && list.contains("log (sidecar)"), "{list}");

    // `*=` covers init containers and sidecars, as `kubectl set image` does; each image is owned
    // exactly, keyed by name as the server merges initContainers.
    ns.oam(&["dev", "set", "image", "deploy/web", "*=shop:2", "--force-conflicts"]).ok();
    let obj = ns.get_json("deploy/web");
    assert_eq!(init(&obj, "migrate")["image"], "shop:2");
    assert_eq!(init(&obj, "log")["image"], "shop:2");
    assert_eq!(managers(&obj, &init_path("migrate", &["f:image"])), ["kubectl-oam-dev"]);
    assert_eq!(
        managers(&obj, &init_path("migrate", &["f:args"])),
        ["installer"],
        "args stay the installer's"
    );
    assert_eq!(init(&obj, "log")["restartPolicy"], "Always", "the sidecar stays a sidecar");
    ns.oam(&["dev", "set", "image", "deploy/web", "log=fluent:2"]).ok();
    assert_eq!(init(&ns.get_json("deploy/web"), "log")["image"], "fluent:2");

    // set env -c finds an init container; the variable is keyed by name below it.
    ns.oam(&["dev", "set", "env", "deploy/web", "-c", "migrate", "DB=main"]).ok();
    let obj = ns.get_json("deploy/web");
    assert_eq!(init(&obj, "migrate")["env"], json!([{"name": "DB", "value": "main"}]));
    assert_eq!(
        managers(&obj, &init_path("migrate", &["f:env", "k:{\"name\":\"DB\"}", "f:value"])),
        ["kubectl-oam-dev"]
    );
    let err = ns.oam(&["dev", "set", "env", "deploy/web", "-c", "nope", "X=1"]).error();
    assert!(err.contains("has no container \"nope\"; it has app, migrate, log"), "{err}");

    // A stale document cannot revert a colleague's change to an init container.
    let mut saved = yaml(&ns.oam(&["dev", "get", "deploy/web"]).ok().stdout);
    ns.kubectl(&["set", "image", "deploy/web", "migrate=shop:9"]).ok();
    saved["initContainers"]["migrate"]["image"] = json!("shop:3");
    let err = ns.oam_with(&["dev", "apply", "-f", "-"], &saved.to_string(), &[]).error();
    assert!(err.contains("initContainers.migrate.image is now \"shop:9\" (by kubectl-set)"), "{err}");
    assert_eq!(init(&ns.get_json("deploy/web"), "migrate")["image"], "shop:9");

    // Removing the variable only dev owns removes it.
    let mut current = yaml(&ns.oam(&["dev", "get", "deploy/web"]).ok().stdout);
    assert!(current["initContainers"]["migrate"].as_object_mut().unwrap().remove("env").is_some());
    ns.oam_with(&["dev", "apply", "-f", "-"], &current.to_string(), &[]).ok();
    assert!(init(&ns.get_json("deploy/web"), "migrate").get("env").is_none());
    let owners = ns.oam(&["owners", "deploy/web"]).ok().stdout;
    assert!(owners.contains("initContainers.log.image") && owners.contains("kubectl-oam-dev"), "{owners}");
    // A container under the wrong key is named, with the way out.
    let wrong = "kind: Deployment\nname: web\ncontainers:\n  migrate:\n    image: x\n";
    let err = ns.oam_with(&["dev", "apply", "-f", "-"], wrong, &[]).error();
    assert!(
        err.contains("containers.migrate: migrate is an init container; put it under initContainers"),
        "{err}"
    );
}

#[test]
fn job_and_cronjob_settings_are_ops_traits_and_immutable_ones_say_why() {
    let ns = Ns::new("model-jobs");
    ns.create(
        "apiVersion: batch/v1\nkind: Job\nmetadata: {name: backfill}\nspec:\n  completions: 4\n  parallelism: 2\n  \
         template:\n    spec:\n      restartPolicy: Never\n      containers: [{name: worker, image: busybox}]\n---\n\
         apiVersion: batch/v1\nkind: CronJob\nmetadata: {name: report}\nspec:\n  schedule: '0 3 * * *'\n  jobTemplate:\n    spec:\n      \
         template:\n        spec:\n          restartPolicy: OnFailure\n          containers: [{name: report, image: busybox}]\n",
    );
    let doc = yaml(&ns.oam(&["ops", "get", "job/backfill"]).ok().stdout);
    assert_eq!(doc["run"], json!({"parallelism": 2, "backoffLimit": 6}));
    assert_eq!(doc["readOnly"]["completions"], 4);
    // The mutable ones are written, and owned exactly.
    let mut text = yaml(&ns.oam(&["ops", "get", "job/backfill"]).ok().stdout);
    text["run"] = json!({"parallelism": 3, "backoffLimit": 2, "activeDeadlineSeconds": 3600, "ttlSecondsAfterFinished": 600});
    ns.oam_with(&["ops", "apply", "-f", "-", "--force-conflicts"], &text.to_string(), &[]).ok();
    let job = ns.get_json("job/backfill");
    assert_eq!(
        (
            &job["spec"]["parallelism"],
            &job["spec"]["backoffLimit"],
            &job["spec"]["activeDeadlineSeconds"],
            &job["spec"]["ttlSecondsAfterFinished"]
        ),
        (&json!(3), &json!(2), &json!(3600), &json!(600))
    );
    assert_eq!(
        managed_entry(&job, "kubectl-oam-ops").unwrap(),
        json!({"f:spec": {"f:activeDeadlineSeconds": {}, "f:backoffLimit": {}, "f:parallelism": {}, "f:ttlSecondsAfterFinished": {}}})
    );
    // The immutable one: refused with the reason, in a document and in the editor.
    let err = ns
        .oam_with(&["ops", "apply", "-f", "-"], "kind: Job\nname: backfill\nrun:\n  completions: 5\n", &[])
        .error();
    assert!(
        err.contains(
            "run.completions: read-only for Job (fixed when the Job is created: the API refuses changes"
        ),
        "{err}"
    );
    let editor = Editor::new(&ns, "sed -i 's/completions: 4/completions: 5/' \"$1\"");
    let err = ns
        .oam_with(&["ops", "edit", "job/backfill", "--yes"], "", &[("KUBE_EDITOR", &editor.command())])
        .error();
    assert!(
        err.contains(
            "readOnly.completions: shown for context and never written (fixed when the Job is created"
        ),
        "{err}"
    );
    assert_eq!(ns.get_json("job/backfill")["spec"]["completions"], 4);
    let roles = ns.oam(&["roles"]).ok().stdout;
    assert!(
        roles.lines().any(|l| l.contains("completions") && l.contains("fixed when the Job is created")),
        "{roles}"
    );

    // CronJob: the schedule trait has every run setting.
    let mut cj = yaml(&ns.oam(&["ops", "get", "cj/report"]).ok().stdout);
    assert_eq!(cj["schedule"]["successfulJobsHistoryLimit"], 3);
    cj["schedule"]["timeZone"] = json!("Europe/Berlin");
    cj["schedule"]["startingDeadlineSeconds"] = json!(300);
    cj["schedule"]["successfulJobsHistoryLimit"] = json!(5);
    ns.oam_with(&["ops", "apply", "-f", "-", "--force-conflicts"], &cj.to_string(), &[]).ok();
    let obj = ns.get_json("cj/report");
    assert_eq!(
        (
            &obj["spec"]["timeZone"],
            &obj["spec"]["startingDeadlineSeconds"],
            &obj["spec"]["successfulJobsHistoryLimit"]
        ),
        (&json!("Europe/Berlin"), &json!(300), &json!(5))
    );
    assert_eq!(
        managed_entry(&obj, "kubectl-oam-ops").unwrap(),
        json!({"f:spec": {"f:startingDeadlineSeconds": {}, "f:successfulJobsHistoryLimit": {}, "f:timeZone": {}}})
    );
}

const HPA: &str = "apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {name: web}\nspec:\n  \
    scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}\n  minReplicas: 2\n  maxReplicas: 5\n  \
    metrics: [{type: Resource, resource: {name: cpu, target: {type: Utilization, averageUtilization: 70}}}]\n";

#[test]
fn the_autoscaler_is_an_ops_trait_written_by_the_same_rules() {
    let ns = Ns::new("model-hpa");
    ns.create(&shop("web"));
    ns.kubectl_stdin(&["apply", "--server-side", "--field-manager=platform", "-f", "-"], HPA).ok();
    // The ops view: object and HPA list, concurrently; two requests.
    let run = ns.oam(&["ops", "get", "deploy/web", "-v", "6"]).ok();
    let doc = yaml(&run.stdout);
    let sent = requests(&run.stderr);
    let sent: Vec<&String> = sent.iter().filter(|l| !l.contains("kubectl-oam-profile")).collect();
    // (and the related kinds' lists, sent at once: see views.rs)
    let related =
        ["/services?", "/ingresses?", "/httproutes?", "/poddisruptionbudgets?", "/persistentvolumeclaims?"];
    let sent: Vec<&&String> = sent.iter().filter(|l| !related.iter().any(|r| l.contains(r))).collect();
    assert_eq!(sent.len(), 2, "{sent:?}");
    assert_eq!(doc["autoscaler"]["minReplicas"], 2);
    assert_eq!(doc["autoscaler"]["maxReplicas"], 5);
    assert_eq!(doc["readOnly"]["autoscaler"]["name"], "web");
    // Developers never see or write it.
    let dev = yaml(&ns.oam(&["dev", "get", "deploy/web"]).ok().stdout);
    assert!(dev.get("autoscaler").is_none());
    let err = ns
        .oam_with(
            &["dev", "apply", "-f", "-"],
            "kind: Deployment\nname: web\nautoscaler: {maxReplicas: 9}\n",
            &[],
        )
        .error();
    assert!(err.contains("autoscaler: belongs to the ops role"), "{err}");

    // The diff shows the HPA's change; the write conflicts with the HPA's creator unless forced.
    let text = yaml(&ns.oam(&["ops", "get", "deploy/web"]).ok().stdout);
    let mut raised = text.clone();
    raised["autoscaler"]["maxReplicas"] = json!(8);
    let raised_text = raised.to_string();
    let diff = ns.oam_with(&["ops", "diff", "-f", "-", "--force-conflicts"], &raised_text, &[]);
    assert_eq!(diff.code, 1, "{diff:?}");
    assert!(diff.stdout.contains("-  maxReplicas: 5\n+  maxReplicas: 8"), "{}", diff.stdout);
    let err = ns.oam_with(&["ops", "apply", "-f", "-"], &raised_text, &[]).error();
    assert!(err.contains("autoscaler.maxReplicas (held by \"platform\")"), "{err}");
    ns.oam_with(&["ops", "apply", "-f", "-", "--force-conflicts"], &raised_text, &[]).ok();
    let hpa = ns.get_json("hpa/web");
    assert_eq!(hpa["spec"]["maxReplicas"], 8);
    assert_eq!(
        managed_entry(&hpa, "kubectl-oam-ops").unwrap(),
        json!({"f:spec": {"f:maxReplicas": {}}}),
        "only what was changed"
    );
    // The platform's later change is never reverted by a stale document.
    ns.kubectl(&["patch", "hpa", "web", "--type=merge", "-p", "{\"spec\": {\"maxReplicas\": 6}}"]).ok();
    let mut higher = raised.clone();
    higher["autoscaler"]["maxReplicas"] = json!(10);
    let err = ns.oam_with(&["ops", "apply", "-f", "-"], &higher.to_string(), &[]).error();
    assert!(err.contains("autoscaler.maxReplicas is now 6 (by kubectl-patch)"), "{err}");
    assert_eq!(ns.get_json("hpa/web")["spec"]["maxReplicas"], 6);
    // A document that leaves the maximum as it read it keeps the newer value; its other traits apply.
    let mut labelled = text.clone();
    labelled["metadata"]["labels"]["tier"] = json!("front");
    ns.oam_with(&["ops", "apply", "-f", "-"], &labelled.to_string(), &[]).ok();
    assert_eq!(ns.get_json("deploy/web")["metadata"]["labels"]["tier"], "front");
    assert_eq!(ns.get_json("hpa/web")["spec"]["maxReplicas"], 6);

    // The scale refusal names the way to change the range.
    let err = ns.oam(&["ops", "scale", "deploy/web", "--replicas", "9"]).error();
    assert!(
        err.contains(&format!(
            "`kubectl oam ops autoscale deployment.apps/web --min N --max M -n {}`",
            ns.name
        )),
        "{err}"
    );
    let updated =
        ns.oam(&["ops", "autoscale", "deploy/web", "--min", "3", "--max", "7", "--force-conflicts"]).ok();
    assert!(updated.stdout.contains("autoscaler updated"), "{updated:?}");
    let hpa = ns.get_json("hpa/web");
    assert_eq!((&hpa["spec"]["minReplicas"], &hpa["spec"]["maxReplicas"]), (&json!(3), &json!(7)));
    assert_eq!(hpa["spec"]["metrics"][0]["resource"]["target"]["averageUtilization"], 70, "metrics stay");
}

#[test]
fn one_edit_changes_the_workload_and_its_autoscaler_after_one_confirmation() {
    let ns = Ns::new("model-hpa-edit");
    ns.create(&shop("web"));
    ns.kubectl_stdin(&["apply", "--server-side", "--field-manager=kubectl-oam-ops", "-f", "-"], HPA).ok();
    let editor = Editor::new(
        &ns,
        "sed -i -e 's/  maxReplicas: 5/  maxReplicas: 9/' -e '0,/^    app: web$/s//    app: web\\n    tier: front/' \"$1\"",
    );
    let (ok, screen) =
        ns.oam_answering("ops edit deploy/web", &[("KUBE_EDITOR", &editor.command())], false, "y");
    assert!(ok, "{screen}");
    assert!(
        screen.contains("+    tier: front") && screen.contains("+  maxReplicas: 9"),
        "one diff: {screen}"
    );
    // One question for both objects (the prompt is drawn, then redrawn with the answer).
    assert_eq!(screen.matches("Apply to deployment.apps/web as kubectl-oam-ops? yes").count(), 1, "{screen}");
    assert!(!screen.contains("Take these fields over"), "{screen}");
    assert_eq!(ns.get_json("deploy/web")["metadata"]["labels"]["tier"], "front");
    assert_eq!(ns.get_json("hpa/web")["spec"]["maxReplicas"], 9);
}

#[test]
fn ops_autoscale_creates_an_autoscaler_only_when_asked() {
    let ns = Ns::new("model-autoscale");
    ns.create(&shop("web"));
    ns.create(&shop("api"));
    // A document's section with no HPA behind it: never created by a write.
    let mut with_section = yaml(&ns.oam(&["ops", "get", "deploy/web"]).ok().stdout);
    with_section["autoscaler"] = json!({"maxReplicas": 4});
    let err = ns.oam_with(&["ops", "apply", "-f", "-"], &with_section.to_string(), &[]).error();
    assert!(
        err.contains("no HorizontalPodAutoscaler targets deployment.apps/web")
            && err.contains(&format!(
                "create one with `kubectl oam ops autoscale deployment.apps/web --min N --max M -n {}`",
                ns.name
            )),
        "{err}"
    );
    // The dry run shows it and creates nothing.
    let dry =
        ns.oam(&["ops", "autoscale", "deploy/web", "--min", "2", "--max", "4", "--dry-run=server"]).ok();
    assert!(dry.stdout.contains("+autoscaler:\n+  minReplicas: 2\n+  maxReplicas: 4"), "{}", dry.stdout);
    assert_ne!(ns.kubectl(&["get", "hpa", "web"]).code, 0);
    // As the ops user: created, owned by the ops manager, named after the workload.
    let created = ns
        .oam(&[
            "ops",
            "autoscale",
            "deploy/web",
            "--min",
            "2",
            "--max",
            "4",
            "--cpu-percent",
            "60",
            "--context",
            "ops",
        ])
        .ok();
    assert!(created.stdout.contains("horizontalpodautoscaler.autoscaling/web created"), "{created:?}");
    let hpa = ns.get_json("hpa/web");
    assert_eq!(
        hpa["spec"]["scaleTargetRef"],
        json!({"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"})
    );
    assert_eq!(hpa["spec"]["metrics"][0]["resource"]["target"]["averageUtilization"], 60);
    assert_eq!(managers_of(&hpa, &["f:spec", "f:maxReplicas"]), ["kubectl-oam-ops"]);
    // Updated through the same command: its target stays.
    ns.oam(&["ops", "autoscale", "deploy/web", "--max", "6"]).ok();
    let hpa = ns.get_json("hpa/web");
    assert_eq!((&hpa["spec"]["minReplicas"], &hpa["spec"]["maxReplicas"]), (&json!(2), &json!(6)));
    assert_eq!(hpa["spec"]["scaleTargetRef"]["name"], "web");
    // An HPA of that name that scales something else is not taken over.
    ns.kubectl_stdin(&["apply", "-f", "-"], &HPA.replace("name: web}\nspec", "name: api}\nspec")).ok();
    let err = ns.oam(&["ops", "autoscale", "deploy/api", "--max", "3"]).error();
    assert!(
        err.contains("horizontalpodautoscaler.autoscaling/api in namespace")
            && err.contains("already exists and scales deployment/web; change or delete it first"),
        "{err}"
    );
    let err = ns.oam(&["ops", "autoscale", "deploy/web", "--min", "5", "--max", "3"]).error();
    assert!(err.contains("--min 5 is more than --max 3"), "{err}");
    let err = ns.oam(&["dev", "autoscale", "deploy/web", "--max", "3"]).error();
    assert!(err.contains("the autoscaler belongs to the ops role"), "{err}");
}

#[test]
fn controlled_objects_are_hidden_from_lists_and_refused_for_writes() {
    let ns = Ns::new("model-owned");
    ns.create(&shop("web"));
    let uid = ns.get_json("deploy/web")["metadata"]["uid"].as_str().unwrap().to_string();
    ns.create(&format!(
        "apiVersion: apps/v1\nkind: ReplicaSet\nmetadata:\n  name: web-5d8f\n  labels: {{app: web, h: 5d8f}}\n  \
         ownerReferences: [{{apiVersion: apps/v1, kind: Deployment, name: web, uid: {uid}, controller: true}}]\nspec:\n  \
         replicas: 1\n  selector: {{matchLabels: {{app: web, h: 5d8f}}}}\n  template:\n    metadata: {{labels: {{app: web, h: 5d8f}}}}\n    \
         spec:\n      containers: [{{name: app, image: shop:1}}]\n"
    ));
    let list = ns.oam(&["dev", "list"]).ok().stdout;
    assert!(!list.contains("web-5d8f"), "hidden by default: {list}");
    let all = ns.oam(&["ops", "list", "--all"]).ok().stdout;
    let row = all.lines().find(|l| l.starts_with("web-5d8f ")).unwrap_or_else(|| panic!("{all}"));
    assert!(row.ends_with("deployment.apps/web"), "marked with its owner: {all}");
    assert!(all.lines().next().unwrap().ends_with("CONTROLLED BY"), "{all}");
    let docs = ns.oam(&["dev", "list", "rs", "-o", "yaml", "--all"]).ok().stdout;
    assert!(docs.contains("controlledBy: deployment.apps/web"), "{docs}");
    assert_eq!(
        yaml(&ns.oam(&["dev", "get", "rs/web-5d8f"]).ok().stdout)["readOnly"]["controlledBy"],
        "deployment.apps/web"
    );

    let refusal = format!(
        "error: replicaset.apps/web-5d8f in namespace \"{}\" is controlled by deployment.apps/web; change that instead",
        ns.name
    );
    // The controllers act on it meanwhile (status; the deployment controller scales an old
    // ReplicaSet down): nothing of ours may be written, its template included.
    let ours = |obj: serde_json::Value| {
        let managers: Vec<String> = obj["metadata"]["managedFields"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|e| e["manager"].as_str().filter(|m| m.starts_with("kubectl-oam")).map(String::from))
            .collect();
        (settled(&obj)["spec"]["template"].clone(), managers)
    };
    let before = ours(ns.get_json("rs/web-5d8f"));
    for (args, role) in [
        (vec!["dev", "set", "image", "rs/web-5d8f", "app=shop:2", "--force-conflicts"], "dev"),
        (vec!["ops", "scale", "rs/web-5d8f", "--replicas", "3", "--force-conflicts"], "ops"),
        (vec!["ops", "adopt", "rs/web-5d8f"], "ops"),
        (vec!["ops", "autoscale", "rs/web-5d8f", "--max", "3"], "ops"),
    ] {
        let err = ns.oam(&args).error();
        assert!(err.starts_with(&refusal), "{args:?}: {err}");
        if !args.contains(&"autoscale") {
            assert!(
                err.contains(&format!("(`kubectl oam {role} edit deployment.apps/web -n {}`)", ns.name)),
                "{err}"
            );
        }
    }
    let editor = Editor::new(&ns, "sed -i 's/shop:1/shop:3/' \"$1\"");
    let err = ns
        .oam_with(&["dev", "edit", "rs/web-5d8f", "--yes"], "", &[("KUBE_EDITOR", &editor.command())])
        .error();
    assert!(err.starts_with(&refusal) && !err.contains("saved in"), "refused before the editor opens: {err}");
    assert_eq!(ours(ns.get_json("rs/web-5d8f")), before, "nothing was written");

    // Only controlled objects: the empty list says so.
    let lone = Ns::new("model-owned-lone");
    // The owner must exist, or the garbage collector deletes what it owns.
    lone.create("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: keeper}\n");
    let keeper = lone.kubectl(&["get", "configmap", "keeper", "-o", "jsonpath={.metadata.uid}"]).ok().stdout;
    lone.create(&format!(
        "apiVersion: apps/v1\nkind: ReplicaSet\nmetadata:\n  name: orphan-x\n  \
         ownerReferences: [{{apiVersion: v1, kind: ConfigMap, name: keeper, uid: {keeper}, controller: true}}]\nspec:\n  \
         replicas: 0\n  selector: {{matchLabels: {{a: b}}}}\n  template:\n    metadata: {{labels: {{a: b}}}}\n    \
         spec:\n      containers: [{{name: app, image: x}}]\n",
    ));
    let run = lone.oam(&["dev", "list"]).ok();
    assert!(run.stderr.contains("1 controlled by other workloads are hidden; --all shows them"), "{run:?}");
}

/// CRDs of a group unique to this test run: Widget (containers an atomic list) and Gadget (a list
/// keyed by name), both with a pod template whose other fields are kept as they are.
struct Crds {
    ns: Ns,
    group: String,
}

impl Crds {
    fn new() -> Crds {
        let ns = Ns::new("model-crd");
        let group = format!("m{}.oam.test", std::process::id());
        let crd = |plural: &str, kind: &str, list_type: &str| {
            format!(
                r#"apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {{name: {plural}.{group}}}
spec:
  group: {group}
  names: {{kind: {kind}, plural: {plural}}}
  scope: Namespaced
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            properties:
              replicas: {{type: integer}}
              template:
                type: object
                properties:
                  metadata: {{type: object, x-kubernetes-preserve-unknown-fields: true}}
                  spec:
                    type: object
                    x-kubernetes-preserve-unknown-fields: true
                    properties:
                      containers:
                        type: array
{list_type}
                        items:
                          type: object
                          required: [name]
                          x-kubernetes-preserve-unknown-fields: true
                          properties:
                            name: {{type: string}}
                            image: {{type: string}}
                            env:
                              type: array
                              x-kubernetes-list-type: map
                              x-kubernetes-list-map-keys: [name]
                              items:
                                type: object
                                required: [name]
                                properties:
                                  name: {{type: string}}
                                  value: {{type: string}}
"#
            )
        };
        let crds = format!(
            "{}---\n{}",
            crd("widgets", "Widget", "                        x-kubernetes-list-type: atomic"),
            crd(
                "gadgets",
                "Gadget",
                "                        x-kubernetes-list-type: map\n                        x-kubernetes-list-map-keys: [name]"
            )
        );
        ns.kubectl_stdin(&["apply", "-f", "-"], &crds).ok();
        // The server publishes a CRD's OpenAPI a moment after it is established.
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let doc = ns.kubectl(&["get", "--raw", &format!("/openapi/v3/apis/{group}/v1")]);
            if doc.code == 0 && doc.stdout.contains("\"Widget\"") && doc.stdout.contains("\"Gadget\"") {
                break;
            }
            assert!(Instant::now() < deadline, "the CRDs' OpenAPI was not published: {doc:?}");
            std::thread::sleep(Duration::from_millis(300));
        }
        Crds { ns, group }
    }

    /// The built-in profile with both kinds added.
    fn profile(&self, edit: impl Fn(String) -> String) -> std::path::PathBuf {
        let builtin = std::fs::read_to_string(crate::harness::repo().join("src/model/profile.yaml")).unwrap();
        let kinds = format!(
            "  Widget:      {{apiVersion: {g}/v1, resource: widgets, template: spec.template}}\n  \
             Gadget:      {{apiVersion: {g}/v1, resource: gadgets, template: spec.template}}\n\nroles:\n",
            g = self.group
        );
        let text = edit(builtin.replacen("\nroles:\n", &format!("\n{kinds}"), 1));
        let path = std::env::temp_dir().join(format!("oam-profile-{}-{}.yaml", self.ns.name, text.len()));
        std::fs::write(&path, text).unwrap();
        path
    }
}

impl Drop for Crds {
    fn drop(&mut self) {
        let _ = self.ns.kubectl(&[
            "delete",
            "crd",
            &format!("widgets.{}", self.group),
            &format!("gadgets.{}", self.group),
        ]);
    }
}

#[test]
fn profiles_are_checked_against_the_schema_and_custom_kinds_learn_their_lists() {
    // A built-in kind: no cluster needed to refuse a path that does not exist.
    let ns = Ns::new("model-schema");
    let builtin = std::fs::read_to_string(crate::harness::repo().join("src/model/profile.yaml")).unwrap();
    let typo = std::env::temp_dir().join(format!("oam-profile-typo-{}.yaml", ns.name));
    std::fs::write(
        &typo,
        builtin.replace("image: {path: container.image}", "image: {path: container.imagee}"),
    )
    .unwrap();
    let err = ns
        .oam(&["dev", "get", "deploy/web", "--profile", typo.to_str().unwrap(), "-s", "https://127.0.0.1:1"])
        .error();
    assert!(
        err.contains("roles.dev.traits.containers.image.path: \"container.imagee\" does not exist: a container of Deployment (apps/v1) has no field \"imagee\"; did you mean \"image\"?"),
        "{err}"
    );

    let crds = Crds::new();
    let ns = &crds.ns;
    let items = "      containers: [{name: app, image: 'a:1', env: [{name: A, value: '1'}]}, {name: side, image: 's:1'}]\n";
    for kind in ["Widget", "Gadget"] {
        ns.create(&format!(
            "apiVersion: {}/v1\nkind: {kind}\nmetadata: {{name: one}}\nspec:\n  replicas: 1\n  template:\n    spec:\n{items}",
            crds.group
        ));
    }
    // A custom kind's path is checked against the server's OpenAPI, naming the nearest field.
    let bad = crds.profile(|p| {
        p.replace(
            "      rollout:\n",
            "      rollout:\n        count: {path: spec.replicass, kinds: [Gadget]}\n",
        )
    });
    let err = ns.oam(&["dev", "get", "gadget/one", "--profile", bad.to_str().unwrap()]).error();
    assert!(
        err.contains(
            "roles.ops.traits.rollout.count.path: \"spec.replicass\" does not exist: spec of Gadget"
        ) && err.contains("did you mean \"replicas\"?"),
        "{err}"
    );
    let good = crds.profile(|p| {
        p.replace(
            "kinds: [Deployment, StatefulSet, ReplicaSet], autoscaled",
            "kinds: [Deployment, StatefulSet, ReplicaSet, Widget, Gadget], autoscaled",
        )
    });
    let profile = good.to_str().unwrap();
    let doc = yaml(&ns.oam(&["dev", "get", "gadget/one", "--profile", profile]).ok().stdout);
    assert_eq!(doc["containers"]["app"], json!({"image": "a:1", "env": {"A": "1"}}));
    // The schema is cached like the profile: a view of a custom kind is one request again.
    let run = ns.oam(&["dev", "get", "gadget/one", "--profile", profile, "-v", "6"]).ok();
    let related = ["/services?", "/ingresses?", "/httproutes?", "/persistentvolumeclaims?"];
    let sent = requests(&run.stderr);
    assert_eq!(sent.iter().filter(|l| !related.iter().any(|r| l.contains(r))).count(), 1, "{}", run.stderr);

    // A list keyed by name: each container and variable is its own, as for built-in kinds.
    ns.oam(&["dev", "set", "image", "gadget/one", "app=a:2", "--profile", profile, "--force-conflicts"]).ok();
    ns.oam(&["dev", "set", "env", "gadget/one", "-c", "app", "B=2", "--profile", profile]).ok();
    let obj = ns.get_json(&format!("gadgets.{}/one", crds.group));
    let app = "k:{\"name\":\"app\"}";
    assert_eq!(
        managed_entry(&obj, "kubectl-oam-dev").unwrap(),
        json!({"f:spec": {"f:template": {"f:spec": {"f:containers": {app: {".": {}, "f:name": {}, "f:image": {},
            "f:env": {"k:{\"name\":\"B\"}": {".": {}, "f:name": {}, "f:value": {}}}}}}}}})
    );
    assert_eq!(obj["spec"]["template"]["spec"]["containers"][1]["image"], "s:1", "the other container stays");

    // An atomic list: a write into one container would replace them all; refused, naming it.
    let before = ns.get_json(&format!("widgets.{}/one", crds.group));
    let err = ns
        .oam(&["dev", "set", "image", "widget/one", "app=a:2", "--profile", profile, "--force-conflicts"])
        .error();
    assert!(
        err.contains("containers.app.image: spec.template.spec.containers is replaced whole by server-side apply in the schema of Widget")
            && err.contains("x-kubernetes-list-type: atomic")
            && err.contains("nothing was applied"),
        "{err}"
    );
    let after = ns.get_json(&format!("widgets.{}/one", crds.group));
    assert_eq!(before["metadata"]["resourceVersion"], after["metadata"]["resourceVersion"]);
}
