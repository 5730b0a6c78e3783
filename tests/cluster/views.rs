//! Read views on the real server: every kind, HPAs, owners, profiles, pagination and errors.

use k8s_openapi::api::apps::v1::Deployment;
use kube::api::{Api, Patch, PatchParams};
use serde_json::{Value, json};

use crate::harness::{Ns, web_deployment};

fn yaml(text: &str) -> Value {
    serde_yaml::from_str(text).unwrap_or_else(|e| panic!("not YAML ({e}): {text}"))
}

const POD: &str = "metadata: {labels: {app: x}}
    spec:
      nodeSelector: {disk: ssd}
      tolerations: [{key: gpu, operator: Exists, effect: NoSchedule}]
      containers:
      - {name: main, image: busybox:1.36, command: [sleep, '3600'], env: [{name: A, value: '1'}]}";

fn every_kind() -> String {
    let pod = POD;
    format!(
        r#"apiVersion: apps/v1
kind: StatefulSet
metadata: {{name: db}}
spec:
  replicas: 3
  serviceName: db
  selector: {{matchLabels: {{app: x}}}}
  updateStrategy: {{type: OnDelete}}
  template:
    {pod}
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {{name: agent}}
spec:
  selector: {{matchLabels: {{app: x}}}}
  template:
    {pod}
---
apiVersion: apps/v1
kind: ReplicaSet
metadata: {{name: rs}}
spec:
  replicas: 1
  selector: {{matchLabels: {{app: x}}}}
  template:
    {pod}
---
apiVersion: batch/v1
kind: Job
metadata: {{name: once}}
spec:
  template:
    metadata: {{labels: {{app: x}}}}
    spec:
      restartPolicy: Never
      containers:
      - {{name: main, image: busybox:1.36, args: [echo, hi]}}
---
apiVersion: batch/v1
kind: CronJob
metadata: {{name: nightly}}
spec:
  schedule: "0 3 * * *"
  concurrencyPolicy: Forbid
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: OnFailure
          priorityClassName: system-cluster-critical
          containers:
          - {{name: report, image: busybox:1.36, args: [date]}}
"#
    )
}

#[test]
fn every_kind_has_both_views() {
    let ns = Ns::new("views-kinds");
    ns.create(&every_kind());

    let sts = yaml(&ns.oam(&["dev", "get", "sts/db"]).ok().stdout);
    assert_eq!(
        sts["containers"]["main"],
        json!({"image": "busybox:1.36", "command": ["sleep", "3600"], "env": {"A": "1"}})
    );
    let sts_ops = yaml(&ns.oam(&["ops", "get", "statefulset", "db"]).ok().stdout);
    assert_eq!(sts_ops["scaler"]["replicas"], 3);
    assert_eq!(sts_ops["rollout"]["updateStrategy"]["type"], "OnDelete");
    assert_eq!(sts_ops["placement"]["nodeSelector"], json!({"disk": "ssd"}));
    assert!(sts_ops.get("containers").is_none(), "ops never shows containers");

    let ds = yaml(&ns.oam(&["ops", "get", "ds/agent"]).ok().stdout);
    assert!(ds.get("scaler").is_none(), "a DaemonSet has no scaler trait");
    assert_eq!(ds["placement"]["tolerations"][0]["key"], "gpu");

    let rs = yaml(&ns.oam(&["ops", "get", "rs/rs"]).ok().stdout);
    assert_eq!(rs["scaler"]["replicas"], 1);

    let job = yaml(&ns.oam(&["dev", "get", "job/once"]).ok().stdout);
    assert_eq!(job["containers"]["main"]["args"], json!(["echo", "hi"]));

    let cj_dev = yaml(&ns.oam(&["dev", "get", "cj/nightly"]).ok().stdout);
    assert_eq!(cj_dev["containers"]["report"]["image"], "busybox:1.36");
    let cj_ops = yaml(&ns.oam(&["ops", "get", "cronjob/nightly"]).ok().stdout);
    assert_eq!(
        cj_ops["schedule"],
        json!({"schedule": "0 3 * * *", "suspend": false, "concurrencyPolicy": "Forbid",
               "successfulJobsHistoryLimit": 3, "failedJobsHistoryLimit": 1})
    );
    assert_eq!(cj_ops["placement"]["priorityClassName"], "system-cluster-critical");

    // JSON output carries the same document.
    let mut json_doc: Value =
        serde_json::from_str(&ns.oam(&["dev", "get", "sts/db", "-o", "json"]).ok().stdout).unwrap();
    // Live, and so may have moved on: the status, and the version the controller's status writes
    // bump (the role fields' digest stays).
    json_doc["status"] = sts["status"].clone();
    json_doc["base"]["resourceVersion"] = sts["base"]["resourceVersion"].clone();
    assert_eq!(json_doc, sts);

    // One table over all kinds.
    let list = ns.oam(&["dev", "list"]).ok().stdout;
    for name in ["db", "agent", "rs", "once", "nightly"] {
        assert!(list.lines().any(|l| l.starts_with(&format!("{name} "))), "{name} in\n{list}");
    }
    let ops_list = ns.oam(&["ops", "get"]).ok().stdout;
    assert!(ops_list.starts_with("NAME"), "{ops_list}");
    assert!(ops_list.contains("per node"), "{ops_list}");
}

#[test]
fn dev_view_shows_secret_references_never_values() {
    let ns = Ns::new("views-secret");
    ns.create(
        "apiVersion: v1\nkind: Secret\nmetadata: {name: db}\nstringData: {password: hunter2-very-secret}\n",
    );
    ns.create(&web_deployment("web"));
    let out = ns.oam(&["dev", "get", "deploy/web"]).ok().stdout;
    assert!(!out.contains("hunter2"), "{out}");
    let doc = yaml(&out);
    assert_eq!(
        doc["containers"]["app"]["env"]["PASSWORD"],
        json!({"secretKeyRef": {"name": "db", "key": "password"}})
    );
    assert_eq!(doc["containers"]["app"]["env"]["MODE"], "prod");
    let wide = ns.oam(&["dev", "list", "-o", "wide"]).ok().stdout;
    assert!(!wide.contains("hunter2"));
}

#[test]
fn container_filter_raw_body_and_round_trip() {
    let ns = Ns::new("views-raw");
    ns.create(&web_deployment("web"));
    let proxy = yaml(&ns.oam(&["dev", "get", "deploy/web", "-c", "proxy"]).ok().stdout);
    assert_eq!(proxy["containers"], json!({"proxy": {"image": "envoy:1.30"}}));
    let err = ns.oam(&["dev", "get", "deploy/web", "-c", "nope"]).error();
    assert!(err.contains("no container \"nope\"; it has app, proxy"), "{err}");

    let raw = yaml(&ns.oam(&["dev", "get", "deploy/web", "--raw"]).ok().stdout);
    assert_eq!(raw["apiVersion"], "apps/v1");
    assert_eq!(raw["kind"], "Deployment");
    assert!(raw["metadata"]["uid"].is_string(), "the body carries a uid precondition");
    // Minimal footprint: the body of an unchanged document holds only what the role owns (nothing
    // yet), never what it merely sees.
    assert!(raw.get("spec").is_none(), "{raw:?}");
    ns.oam(&["dev", "set", "image", "deploy/web", "proxy=envoy:1.31", "--force-conflicts"]).ok();
    let raw = yaml(&ns.oam(&["dev", "get", "deploy/web", "--raw"]).ok().stdout);
    assert_eq!(
        raw["spec"],
        json!({"template": {"spec": {"containers": [{"name": "proxy", "image": "envoy:1.31"}]}}})
    );
    ns.oam(&["ops", "scale", "deploy/web", "--replicas", "3", "--force-conflicts"]).ok();
    let ops_raw = yaml(&ns.oam(&["ops", "get", "deploy/web", "-o", "apply"]).ok().stdout);
    assert_eq!(ops_raw["spec"], json!({"replicas": 3}), "the ops body never carries dev fields");

    // get → apply unchanged is a no-op on the object.
    ns.kubectl(&["rollout", "status", "deploy/web", "--timeout=60s"]).ok(); // controllers done writing
    let before = ns.get_json("deploy/web");
    let doc = ns.oam(&["dev", "get", "deploy/web"]).ok().stdout;
    let applied = ns.oam_with(&["dev", "apply", "-f", "-"], &doc, &[]).ok().stdout;
    assert!(applied.contains("unchanged"), "{applied}");
    let after = ns.get_json("deploy/web");
    assert_eq!(crate::harness::settled(&before), crate::harness::settled(&after));
}

#[test]
fn a_view_is_one_request_and_the_ops_view_adds_one_hpa_list() {
    let ns = Ns::new("views-requests");
    ns.create(&web_deployment("web"));
    // (While a rollout is under way, `dev get` also lists the pods to show the images they run.)
    ns.kubectl(&["rollout", "status", "deploy/web", "--timeout=60s"]).ok();
    let requests = |role: &str| {
        let run = ns.oam(&[role, "get", "deploy/web", "-v", "6"]).ok();
        run.stderr.lines().filter(|l| l.contains("round_trippers")).map(str::to_string).collect::<Vec<_>>()
    };
    // The first call also reads the cluster's role profile; later calls use the cache.
    let first = requests("dev");
    assert!(first.iter().any(|l| l.contains("configmaps/kubectl-oam-profile")), "{first:?}");
    // Beside the object (ops: and the HPA list), one list per related kind the document shows, sent at
    // once: dev Services, Ingresses, HTTPRoutes (404 without Gateway API) and claims; ops also PDBs.
    let dev = requests("dev");
    assert_eq!(dev.len(), 5, "{dev:?}");
    let object: Vec<&String> = dev.iter().filter(|l| !is_related_list(l)).collect();
    assert_eq!(object.len(), 1, "{dev:?}");
    assert!(
        object[0].contains(&format!("GET /apis/apps/v1/namespaces/{}/deployments/web 200", ns.name)),
        "{dev:?}"
    );
    let ops = requests("ops");
    assert_eq!(ops.len(), 7, "{ops:?}");
    assert_eq!(ops.iter().filter(|l| !is_related_list(l)).count(), 2, "{ops:?}");
    assert!(ops.iter().any(|l| l.contains("horizontalpodautoscalers")), "{ops:?}");
    assert!(
        dev.iter().chain(&ops).all(|l| !l.contains("/apis?") && !l.ends_with("/apis 200")),
        "no discovery"
    );
}

#[test]
fn lists_paginate_and_filter() {
    let ns = Ns::new("views-pages");
    let mut docs = String::new();
    for i in 0..5 {
        let tier = if i % 2 == 0 { "front" } else { "back" };
        docs.push_str(
            &web_deployment(&format!("w{i}"))
                .replace("  labels: {app: w", &format!("  labels: {{tier: {tier}, app: w")),
        );
        docs.push_str("---\n");
    }
    ns.create(&docs);
    let run = ns.oam(&["dev", "list", "deploy", "--chunk-size", "2", "-v", "6"]).ok();
    let pages = run.stderr.lines().filter(|l| l.contains("/deployments?")).count();
    assert_eq!(pages, 3, "5 objects in pages of 2: {}", run.stderr);
    let rows: Vec<&str> = run.stdout.lines().skip(1).collect();
    assert_eq!(rows.len(), 10, "two containers each: {}", run.stdout);
    let front = ns.oam(&["ops", "list", "-l", "tier=front"]).ok().stdout;
    assert_eq!(front.lines().count(), 1 + 3, "{front}");
    let all = ns.oam(&["ops", "list", "-A", "deploy"]).ok().stdout;
    assert!(all.starts_with("NAMESPACE"), "{all}");
    assert!(all.contains(&ns.name));
    let docs = ns.oam(&["dev", "list", "-o", "yaml"]).ok().stdout;
    assert_eq!(docs.matches("kind: Deployment").count(), 5);
}

#[tokio::test]
async fn autoscaler_is_shown_and_holds_replicas() {
    let ns = Ns::new("views-hpa");
    ns.create(&web_deployment("web"));
    ns.create(
        "apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {name: web-hpa}\nspec:\n  \
         scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}\n  minReplicas: 2\n  maxReplicas: 5\n  \
         metrics: [{type: Resource, resource: {name: cpu, target: {type: Utilization, averageUtilization: 70}}}]\n",
    );
    let doc = yaml(&ns.oam(&["ops", "get", "deploy/web"]).ok().stdout);
    let hpa = &doc["readOnly"]["autoscaler"];
    assert_eq!(hpa["name"], "web-hpa");
    assert_eq!(hpa["holds"], json!(["scaler.replicas"]));
    // Its settings are the ops role's autoscaler trait.
    let settings = &doc["autoscaler"];
    assert_eq!((settings["minReplicas"].as_i64(), settings["maxReplicas"].as_i64()), (Some(2), Some(5)));
    assert_eq!(settings["metrics"][0]["resource"]["name"], "cpu");
    let list = ns.oam(&["ops", "list", "-o", "wide"]).ok().stdout;
    assert!(list.contains("hpa 2-5") && list.contains("web-hpa"), "{list}");
    // The ops apply body leaves replicas to the autoscaler.
    let raw = yaml(&ns.oam(&["ops", "get", "deploy/web", "--raw"]).ok().stdout);
    assert!(raw["spec"].get("replicas").is_none(), "{raw:?}");
}

#[tokio::test]
async fn owners_name_every_manager_and_flag_fields_outside_their_role() {
    let ns = Ns::new("views-owners");
    ns.create(&web_deployment("web"));
    // helm-like SSA of the proxy image, then an imperative kubectl change to the app image.
    let api: Api<Deployment> = Api::namespaced(ns.client().await, &ns.name);
    let helm = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
                      "spec": {"template": {"spec": {"containers": [{"name": "proxy", "image": "envoy:1.31"}]}}}});
    api.patch("web", &PatchParams::apply("helm").force(), &Patch::Apply(helm)).await.expect("helm apply");
    ns.kubectl(&["set", "image", "deploy/web", "app=nginx:1.26"]).ok();
    ns.oam(&["ops", "scale", "deploy/web", "--replicas", "4", "--force-conflicts"]).ok();

    let table = ns.oam(&["owners", "deploy/web"]).ok().stdout;
    let row = |field: &str| {
        table
            .lines()
            .skip_while(|l| !l.starts_with(field))
            .take_while(|l| l.starts_with(field) || l.starts_with(' '))
            .collect::<Vec<_>>()
            .join("\n")
    };
    let app_image = row("containers.app.image ");
    assert!(app_image.contains("kubectl-set") && app_image.contains("outside dev"), "{table}");
    let proxy_image = row("containers.proxy.image ");
    assert!(proxy_image.contains("helm") && proxy_image.contains("Apply"), "{table}");
    let replicas = row("scaler.replicas ");
    assert!(replicas.contains("kubectl-oam-ops") && replicas.contains(" ops "), "{table}");
    assert!(!replicas.contains("kubectl-client-side-apply"), "forced scale took replicas over: {table}");

    let json_rows: Value =
        serde_json::from_str(&ns.oam(&["owners", "deploy/web", "-o", "json"]).ok().stdout).unwrap();
    let replicas = json_rows.as_array().unwrap().iter().find(|r| r["field"] == "scaler.replicas").unwrap();
    assert_eq!(replicas["managers"][0]["manager"], "kubectl-oam-ops");
    assert_eq!(replicas["managers"][0]["role"], "ops");

    let with_owners = ns.oam(&["dev", "get", "deploy/web", "--show-owners"]).ok().stdout;
    assert!(with_owners.contains("    image: envoy:1.31  # helm (Apply, outside dev)"), "{with_owners}");
    yaml(&with_owners); // still a document that applies
}

#[test]
fn a_profile_from_a_configmap_or_a_file() {
    let ns = Ns::new("views-profile");
    ns.create(&web_deployment("web"));
    ns.kubectl(&[
        "patch",
        "deploy/web",
        "--type=merge",
        "-p",
        r#"{"spec":{"template":{"spec":{"serviceAccountName":"web-sa"}}}}"#,
    ])
    .ok();
    // This organisation's developers also own the service account, and env is not theirs.
    let profile = std::fs::read_to_string(crate::harness::repo().join("src/model/profile.yaml"))
        .unwrap()
        .replace("        env: {path: container.env}\n", "")
        .replace("      containers:\n        image:", "      identity:\n        serviceAccountName: {path: pod.serviceAccountName}\n      containers:\n        image:");
    let cm = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "team-profile"}, "data": {"profile.yaml": profile}});
    ns.create(&cm.to_string());
    let configmap = format!("{}/team-profile", ns.name);

    let roles = ns.oam(&["roles", "--profile-configmap", &configmap]).ok().stdout;
    assert!(roles.starts_with(&format!("Role profile: configmap {configmap}")), "{roles}");
    assert!(roles.contains("serviceAccountName"), "{roles}");
    let doc = yaml(&ns.oam(&["dev", "get", "deploy/web", "--profile-configmap", &configmap]).ok().stdout);
    assert_eq!(doc["identity"]["serviceAccountName"], "web-sa");
    assert!(doc["containers"]["app"].get("env").is_none(), "env is not a dev field in this profile");

    let file = std::env::temp_dir().join(format!("{}-profile.yaml", ns.name));
    std::fs::write(&file, &profile).unwrap();
    let doc = yaml(&ns.oam(&["dev", "get", "deploy/web", "--profile", file.to_str().unwrap()]).ok().stdout);
    assert_eq!(doc["identity"]["serviceAccountName"], "web-sa");

    // A malformed profile is refused with its line and column, nothing guessed.
    let bad = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "bad-profile"},
                     "data": {"profile.yaml": "kind: RoleProfile\napiVersion: v1\nkinds: [\n"}});
    ns.create(&bad.to_string());
    let err = ns
        .oam(&["dev", "get", "deploy/web", "--profile-configmap", &format!("{}/bad-profile", ns.name)])
        .error();
    assert!(
        err.contains(&format!("role profile configmap {}/bad-profile", ns.name)) && err.contains("line"),
        "{err}"
    );
    let builtin = ns.oam(&["roles", "--profile-configmap", &format!("{}/absent", ns.name)]).ok().stdout;
    assert!(builtin.starts_with("Role profile: built-in"), "{builtin}");
}

#[test]
fn errors_are_one_line_and_say_what_to_do() {
    let ns = Ns::new("views-errors");
    ns.create(&web_deployment("web"));
    let err = ns.oam(&["dev", "get", "deploy/ghost"]).error();
    assert_eq!(
        err,
        format!(
            "error: Deployment \"ghost\" not found in namespace \"{}\"; check the name, or pass -n NAMESPACE",
            ns.name
        )
    );
    let err = ns.oam(&["dev", "get", "pods/x"]).error();
    assert!(err.starts_with("error: unknown resource type \"pods\""), "{err}");
    // dev may edit in the test namespace but not read kube-system.
    assert!(ns.oam(&["--context", "dev", "dev", "get", "deploy/web"]).ok().stdout.contains("nginx:1.25"));
    let err = ns.oam_in("kube-system", &["--context", "dev", "dev", "get", "deploy/coredns"]).error();
    assert!(err.contains("User \"dev\" cannot get resource \"deployments\""), "{err}");
    assert!(err.contains("kube-system") && err.contains("ask a cluster admin"), "{err}");
    let err = ns.oam(&["--server", "https://127.0.0.1:1", "dev", "get", "deploy/web"]).error();
    assert!(err.starts_with("error: cannot reach the cluster at https://127.0.0.1:1"), "{err}");
    let err = ns.oam(&["dev", "get", "deploy/web", "--kubeconfig", "/nonexistent/kubeconfig"]).error();
    assert!(err.contains("/nonexistent/kubeconfig"), "{err}");
}

/// The lists of the related kinds (Services, Ingresses, HTTPRoutes, PDBs, claims) a view sends beside
/// the object, all at once.
fn is_related_list(line: &str) -> bool {
    ["/services?", "/ingresses?", "/httproutes?", "/poddisruptionbudgets?", "/persistentvolumeclaims?"]
        .iter()
        .any(|r| line.contains(r))
}
