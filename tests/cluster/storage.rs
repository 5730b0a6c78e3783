//! Storage split by role on the real server: the developer's volume mounts and claim volumes, the
//! operator's other volume sources, a StatefulSet's claim templates shown read-only, and the
//! admission policy holding raw kubectl to the same split.

use serde_json::{Value, json};

use crate::harness::{Ns, managers_of, settled};
use crate::policy::{as_user, denied, enforced, install};

const FILES: &str = r#"apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: uploads}
spec:
  accessModes: [ReadWriteMany]
  resources: {requests: {storage: 5Gi}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: files}
spec:
  replicas: 1
  selector: {matchLabels: {app: files}}
  template:
    metadata: {labels: {app: files}}
    spec:
      containers:
      - name: app
        image: ghcr.io/example/files:1.0
        volumeMounts:
        - {name: uploads, mountPath: /srv/uploads}
        - {name: config, mountPath: /etc/files, readOnly: true}
      volumes:
      - name: uploads
        persistentVolumeClaim: {claimName: uploads}
      - name: config
        configMap: {name: files-config}
"#;

const PG: &str = r#"apiVersion: apps/v1
kind: StatefulSet
metadata: {name: pg}
spec:
  serviceName: pg
  replicas: 1
  selector: {matchLabels: {app: pg}}
  template:
    metadata: {labels: {app: pg}}
    spec:
      containers:
      - name: pg
        image: postgres:16
        volumeMounts: [{name: data, mountPath: /var/lib/postgresql/data, subPath: pgdata}]
  volumeClaimTemplates:
  - metadata: {name: data}
    spec:
      accessModes: [ReadWriteOnce]
      storageClassName: standard
      resources: {requests: {storage: 5Gi}}
"#;

fn doc(ns: &Ns, role: &str, what: &str) -> Value {
    let text = ns.oam(&[role, "get", what]).ok().stdout;
    serde_yaml::from_str(&text).unwrap_or_else(|e| panic!("{role} get is YAML ({e}): {text}"))
}

fn apply(ns: &Ns, role: &str, doc: &Value) -> crate::harness::Run {
    ns.oam_with(&[role, "apply", "-f", "-"], &serde_yaml::to_string(doc).unwrap(), &[])
}

fn names(list: &Value) -> Vec<&str> {
    list.as_array().into_iter().flatten().filter_map(|v| v["name"].as_str()).collect()
}

const VOLUMES: [&str; 5] = ["f:spec", "f:template", "f:spec", "f:volumes", ""];

fn volume_path(name: &str) -> Vec<String> {
    let mut path: Vec<String> = VOLUMES[..4].iter().map(|s| s.to_string()).collect();
    path.push(format!("k:{{\"name\":\"{name}\"}}"));
    path
}

fn owners(obj: &Value, path: &[String]) -> Vec<String> {
    managers_of(obj, &path.iter().map(String::as_str).collect::<Vec<_>>())
}

#[test]
fn a_deployments_claim_volumes_are_dev_and_its_other_volumes_ops_each_written_alone() {
    let ns = Ns::new("storage-deploy");
    ns.create(FILES);
    let mut dev = doc(&ns, "dev", "deploy/files");
    let mounts = &dev["containers"]["app"]["volumeMounts"];
    assert_eq!(mounts.as_array().map(Vec::len), Some(2), "{dev:#}");
    assert_eq!(names(&dev["claimVolumes"]["volumes"]), ["uploads"], "{dev:#}");
    let mut ops = doc(&ns, "ops", "deploy/files");
    assert_eq!(names(&ops["storage"]["volumes"]), ["config"], "{ops:#}");
    assert!(ops.get("claimVolumes").is_none() && dev.get("storage").is_none());

    // The developer mounts a second path of the claim; the operator adds a secret volume.
    dev["containers"]["app"]["volumeMounts"].as_array_mut().unwrap().push(
        json!({"name": "uploads", "mountPath": "/srv/archive", "subPath": "archive", "readOnly": true}),
    );
    apply(&ns, "dev", &dev).ok();
    ops["storage"]["volumes"]
        .as_array_mut()
        .unwrap()
        .push(json!({"name": "tls", "secret": {"secretName": "files-tls"}}));
    apply(&ns, "ops", &ops).ok();

    let obj = ns.get_json("deploy/files");
    let spec = &obj["spec"]["template"]["spec"];
    assert_eq!(names(&spec["volumes"]), ["uploads", "config", "tls"], "neither write removed the other's");
    let mounts: Vec<&str> = spec["containers"][0]["volumeMounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["mountPath"].as_str().unwrap())
        .collect();
    assert_eq!(mounts, ["/srv/uploads", "/etc/files", "/srv/archive"]);
    assert_eq!(owners(&obj, &volume_path("tls")), ["kubectl-oam-ops"]);
    let archive: Vec<String> = [
        "f:spec",
        "f:template",
        "f:spec",
        "f:containers",
        "k:{\"name\":\"app\"}",
        "f:volumeMounts",
        "k:{\"mountPath\":\"/srv/archive\"}",
    ]
    .map(String::from)
    .to_vec();
    assert_eq!(owners(&obj, &archive), ["kubectl-oam-dev"]);
    // Each role's write leaves the other's items to their managers.
    assert!(!owners(&obj, &volume_path("uploads")).contains(&"kubectl-oam-ops".to_string()));
    assert!(!owners(&obj, &volume_path("tls")).contains(&"kubectl-oam-dev".to_string()));

    // Changing kubectl's config volume is a conflict named as the operator's document names it.
    let mut ops = doc(&ns, "ops", "deploy/files");
    ops["storage"]["volumes"][0]["configMap"]["name"] = json!("files-config-2");
    let err = apply(&ns, "ops", &ops).error();
    assert!(err.contains("storage.volumes.config.configMap.name (held by \"kubectl"), "{err}");

    // A second ops write (the secret's name) keeps the developer's claim volume and mounts.
    let mut ops = doc(&ns, "ops", "deploy/files");
    assert_eq!(names(&ops["storage"]["volumes"]), ["config", "tls"]);
    ops["storage"]["volumes"][1]["secret"]["secretName"] = json!("files-tls-2");
    apply(&ns, "ops", &ops).ok();
    let obj = ns.get_json("deploy/files");
    assert_eq!(names(&obj["spec"]["template"]["spec"]["volumes"]), ["uploads", "config", "tls"]);
    assert_eq!(obj["spec"]["template"]["spec"]["volumes"][2]["secret"]["secretName"], "files-tls-2");

    // A role's document may not carry the other role's kind of volume.
    let mut ops = doc(&ns, "ops", "deploy/files");
    ops["storage"]["volumes"]
        .as_array_mut()
        .unwrap()
        .push(json!({"name": "more", "persistentVolumeClaim": {"claimName": "more"}}));
    let err = apply(&ns, "ops", &ops).error();
    assert!(
        err.contains("storage.volumes[2] (more)") && err.contains("the dev role's (claimVolumes.volumes)"),
        "{err}"
    );
    let mut dev = doc(&ns, "dev", "deploy/files");
    dev["claimVolumes"]["volumes"].as_array_mut().unwrap().push(json!({"name": "scratch", "emptyDir": {}}));
    let err = apply(&ns, "dev", &dev).error();
    assert!(
        err.contains("claimVolumes.volumes[1] (scratch)") && err.contains("the ops role's (storage.volumes)"),
        "{err}"
    );
    assert_eq!(
        names(&ns.get_json("deploy/files")["spec"]["template"]["spec"]["volumes"]),
        ["uploads", "config", "tls"]
    );

    // Owners name each volume under its role.
    let table = ns.oam(&["owners", "deploy/files"]).ok().stdout;
    assert!(
        table.contains("claimVolumes.volumes.uploads") && table.contains("storage.volumes.tls"),
        "{table}"
    );
    // Removing a volume a container still mounts is refused naming the mount (not the server's
    // error about a container the operator does not see).
    let mut ops = doc(&ns, "ops", "deploy/files");
    ops["storage"]["volumes"].as_array_mut().unwrap().retain(|v| v["name"] != "config");
    let text = serde_yaml::to_string(&ops).unwrap();
    let err = ns.oam_with(&["ops", "apply", "-f", "-", "--force-conflicts"], &text, &[]).error();
    assert!(
        err.contains(
            "removes volume \"config\", which containers.app.volumeMounts at /etc/files still mounts"
        ),
        "{err}"
    );
    let text = ns.oam(&["explain", "ops.storage.volumes", "deploy/files"]).ok().stdout;
    assert!(
        text.contains("ITEMS:       only the list's items unless: {has: persistentVolumeClaim}"),
        "{text}"
    );
}

#[test]
fn a_statefulsets_claim_templates_are_shown_read_only_and_its_mounts_are_dev() {
    let ns = Ns::new("storage-sts");
    ns.create(PG);
    let mut dev = doc(&ns, "dev", "sts/pg");
    assert_eq!(dev["readOnly"]["templateSize"], json!({"data": "5Gi"}), "{dev:#}");
    assert_eq!(dev["readOnly"]["templateAccessModes"], json!({"data": ["ReadWriteOnce"]}));
    let ops = doc(&ns, "ops", "sts/pg");
    assert_eq!(ops["readOnly"]["claimTemplateClass"], json!({"data": "standard"}), "{ops:#}");
    assert!(
        dev["readOnly"].get("claimTemplateClass").is_none() && ops["readOnly"].get("templateSize").is_none()
    );

    // The size cannot change on a StatefulSet: refused with the reason, nothing written.
    let before = ns.get_json("sts/pg");
    let mut bigger = dev.clone();
    bigger["readOnly"]["templateSize"]["data"] = json!("10Gi");
    let err = apply(&ns, "dev", &bigger).error();
    assert!(
        err.contains("readOnly.templateSize") && err.contains("cannot be changed once it exists"),
        "{err}"
    );
    assert_eq!(settled(&ns.get_json("sts/pg")), settled(&before), "nothing written");

    // The mounts are the developer's to change.
    // (kubectl created it: taking its value over is a conflict, explained, then forced.)
    dev["containers"]["pg"]["volumeMounts"][0]["subPath"] = json!("pgdata16");
    let text = serde_yaml::to_string(&dev).unwrap();
    let err = ns.oam_with(&["dev", "apply", "-f", "-"], &text, &[]).error();
    assert!(err.contains("volumeMounts[mountPath=\"/var/lib/postgresql/data\"].subPath"), "{err}");
    ns.oam_with(&["dev", "apply", "-f", "-", "--force-conflicts"], &text, &[]).ok();
    let obj = ns.get_json("sts/pg");
    assert_eq!(obj["spec"]["template"]["spec"]["containers"][0]["volumeMounts"][0]["subPath"], "pgdata16");
    let mount: Vec<&str> = vec![
        "f:spec",
        "f:template",
        "f:spec",
        "f:containers",
        "k:{\"name\":\"pg\"}",
        "f:volumeMounts",
        "k:{\"mountPath\":\"/var/lib/postgresql/data\"}",
        "f:subPath",
    ];
    assert_eq!(managers_of(&obj, &mount), ["kubectl-oam-dev"]);
}

#[test]
fn the_policy_holds_raw_kubectl_to_the_storage_split() {
    let ns = Ns::new("storage-policy");
    ns.create(FILES);
    let _policy = install(&ns, &[]);
    enforced(&ns, "deploy/files");
    let patch = |user: &str, body: Value| {
        as_user(&ns, user, &["patch", "deploy/files", "--dry-run=server", "-p", &body.to_string()])
    };
    let volume = |v: Value| json!({"spec": {"template": {"spec": {"volumes": [v]}}}});
    let claim = volume(json!({"name": "more", "persistentVolumeClaim": {"claimName": "more"}}));
    let config = volume(json!({"name": "extra", "configMap": {"name": "extra"}}));
    let mount = json!({"spec": {"template": {"spec": {"containers": [
        {"name": "app", "volumeMounts": [{"name": "uploads", "mountPath": "/data"}]}]}}}});

    patch("dev", claim.clone()).ok();
    patch("dev", mount.clone()).ok();
    denied(patch("dev", config.clone()), "spec.template.spec.volumes[extra]");
    patch("ops", config).ok();
    denied(patch("ops", claim), "spec.template.spec.volumes[more]");
    denied(patch("ops", mount), "spec.template.spec.containers[app].volumeMounts");
    // Turning the operator's config volume into a claim touches both roles' items.
    let swap = json!({"spec": {"template": {"spec": {"volumes": [
        {"name": "config", "configMap": null, "persistentVolumeClaim": {"claimName": "uploads"}}]}}}});
    denied(patch("dev", swap.clone()), "spec.template.spec.volumes[config]");
    denied(patch("ops", swap), "spec.template.spec.volumes[config]");
    // A changed item is named once (not as removed and as added).
    let changed = volume(json!({"name": "config", "configMap": {"name": "other"}}));
    let err = denied(patch("dev", changed), "may not change spec.template.spec.volumes[config] (ops role");
    assert_eq!(err.matches("volumes[config]").count(), 1, "{err}");
}

#[test]
fn the_policy_judges_a_workload_with_hundreds_of_volumes_within_its_cost_budget() {
    let ns = Ns::new("storage-policy-many");
    let volumes: Vec<Value> = (0..150)
        .map(|i| json!({"name": format!("c{i}"), "configMap": {"name": format!("c{i}")}}))
        .chain((0..150).map(
            |i| json!({"name": format!("p{i}"), "persistentVolumeClaim": {"claimName": format!("p{i}")}}),
        ))
        .collect();
    let mounts: Vec<Value> = volumes
        .iter()
        .map(|v| json!({"name": v["name"], "mountPath": format!("/m/{}", v["name"].as_str().unwrap())}))
        .collect();
    let many = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "many"},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "many"}},
        "template": {"metadata": {"labels": {"app": "many"}}, "spec": {"containers": [
            {"name": "app", "image": "nginx", "volumeMounts": mounts}], "volumes": volumes}}}});
    ns.create(&many.to_string());
    let _policy = install(&ns, &[]);
    enforced(&ns, "deploy/many");
    let patch = |user: &str, body: Value| {
        as_user(&ns, user, &["patch", "deploy/many", "--dry-run=server", "-p", &body.to_string()])
    };
    let volume = |v: Value| json!({"spec": {"template": {"spec": {"volumes": [v]}}}});
    let start = std::time::Instant::now();
    as_user(&ns, "dev", &["set", "image", "deploy/many", "app=nginx:2", "--dry-run=server"]).ok();
    patch("ops", volume(json!({"name": "c7", "configMap": {"name": "x"}}))).ok();
    patch("dev", volume(json!({"name": "p7", "persistentVolumeClaim": {"claimName": "x"}}))).ok();
    denied(patch("dev", volume(json!({"name": "c7", "configMap": {"name": "x"}}))), "volumes[c7]");
    denied(
        patch("ops", volume(json!({"name": "p7", "persistentVolumeClaim": {"claimName": "x"}}))),
        "volumes[p7]",
    );
    assert!(start.elapsed() < std::time::Duration::from_secs(30), "{:?}", start.elapsed());
}

const WEB: &str = r#"apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 1
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web, tier: front}}
    spec:
      containers:
      - name: app
        image: nginx:1.27
        ports: [{name: http, containerPort: 8080}]
"#;

#[test]
fn ops_expose_and_disruption_budget_create_and_delete_their_objects_as_the_ops_manager() {
    let ns = Ns::new("storage-expose");
    ns.create(WEB);
    // A dry run shows the Service to be and writes nothing.
    let plan = ns
        .oam(&["ops", "expose", "deploy/web", "--port", "80", "--target-port", "http", "--dry-run=server"])
        .ok();
    assert!(
        plan.stdout.contains("+++ service/web (after apply)")
            && plan.stdout.contains("+    targetPort: http"),
        "{}",
        plan.stdout
    );
    assert!(ns.kubectl(&["get", "svc", "web"]).code != 0, "a dry run creates nothing");
    // Without a terminal, --yes is required, and the hint is the whole command.
    let err = ns.oam(&["ops", "expose", "deploy/web", "--port", "80", "--target-port", "http"]).error();
    assert!(
        err.contains("re-run with --yes")
            && err.contains("ops expose deployment.apps/web --port 80 --target-port http --yes"),
        "{err}"
    );
    let out = ns
        .oam(&[
            "ops",
            "expose",
            "deploy/web",
            "--port",
            "80",
            "--target-port",
            "http",
            "--type",
            "NodePort",
            "--yes",
        ])
        .ok()
        .stdout;
    assert!(out.ends_with("service/web created\n"), "{out}");
    let svc = ns.get_json("svc/web");
    assert_eq!(svc["spec"]["selector"], json!({"app": "web"}), "the workload's matchLabels");
    assert_eq!(svc["spec"]["type"], "NodePort");
    assert_eq!(svc["spec"]["ports"][0]["port"], 80);
    assert_eq!(svc["spec"]["ports"][0]["targetPort"], "http");
    assert_eq!(managers_of(&svc, &["f:spec", "f:selector"]), ["kubectl-oam-ops"]);
    let again = ns.oam(&[
        "ops",
        "expose",
        "deploy/web",
        "--port",
        "80",
        "--target-port",
        "http",
        "--type",
        "NodePort",
        "--yes",
    ]);
    assert_eq!(again.ok().stdout, "service/web unchanged\n");
    // A Service of that name that selects other pods is never taken over.
    ns.kubectl(&["create", "service", "clusterip", "other", "--tcp=80"]).ok();
    let err = ns.oam(&["ops", "expose", "deploy/web", "--port", "80", "--name", "other", "--yes"]).error();
    assert!(
        err.contains("service/other in namespace") && err.contains("selects other pods (app=other)"),
        "{err}"
    );
    let err =
        ns.oam(&["ops", "expose", "deploy/web", "--port", "80", "--target-port", "grpc", "--yes"]).error();
    assert!(
        err.contains("no container of deployment.apps/web") && err.contains("(named ports: http)"),
        "{err}"
    );
    // Developers are pointed to the operator's command.
    let err = ns.oam(&["dev", "expose", "deploy/web", "--port", "80"]).error();
    assert!(err.contains("use `kubectl oam ops expose deploy/web --port N"), "{err}");

    let out =
        ns.oam(&["ops", "disruption-budget", "deploy/web", "--min-available", "50%", "--yes"]).ok().stdout;
    assert!(out.ends_with("poddisruptionbudget.policy/web created\n"), "{out}");
    let pdb = ns.get_json("pdb/web");
    assert_eq!(pdb["spec"]["minAvailable"], "50%");
    assert_eq!(pdb["spec"]["selector"], json!({"matchLabels": {"app": "web"}}));
    assert_eq!(managers_of(&pdb, &["f:spec", "f:minAvailable"]), ["kubectl-oam-ops"]);
    // Switching to maxUnavailable releases minAvailable: the server removes it.
    let out =
        ns.oam(&["ops", "disruption-budget", "deploy/web", "--max-unavailable", "1", "--yes"]).ok().stdout;
    assert!(out.contains("-  minAvailable: 50%") && out.contains("+  maxUnavailable: 1"), "{out}");
    let pdb = ns.get_json("pdb/web");
    assert_eq!((pdb["spec"].get("minAvailable"), &pdb["spec"]["maxUnavailable"]), (None, &json!(1)));

    // Deleting shows the object removed, and deletes only what it would have created.
    let plan = ns.oam(&["ops", "expose", "deploy/web", "--delete", "--dry-run=server"]).ok().stdout;
    assert!(plan.contains("+++ service/web (after delete)") && plan.contains("-  name: web"), "{plan}");
    assert_eq!(ns.kubectl(&["get", "svc", "web"]).code, 0, "a dry run deletes nothing");
    ns.oam(&["ops", "expose", "deploy/web", "--delete", "--yes"]).ok();
    ns.oam(&["ops", "disruption-budget", "deploy/web", "--delete", "--yes"]).ok();
    assert_ne!(ns.kubectl(&["get", "svc", "web"]).code, 0);
    assert_ne!(ns.kubectl(&["get", "pdb", "web"]).code, 0);
    let err = ns.oam(&["ops", "expose", "deploy/web", "--delete", "--yes"]).error();
    assert!(err.contains("does not exist: nothing to delete"), "{err}");
    let err = ns.oam(&["ops", "expose", "deploy/web", "--name", "other", "--delete", "--yes"]).error();
    assert!(err.contains("selects other pods"), "{err}");
    assert_eq!(ns.kubectl(&["get", "svc", "other"]).code, 0, "another application's Service stays");
}

#[test]
fn ops_expose_never_deletes_a_service_another_tool_manages() {
    let ns = Ns::new("storage-expose-theirs");
    ns.create(WEB);
    // A Service of the workload's pods that kubectl wrote (as helm would): the same selector.
    ns.create(
        "apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec:\n  selector: {app: web}\n  ports: [{port: 80, targetPort: http}]\n",
    );
    for dry_run in ["--dry-run=server", "--yes"] {
        let err = ns.oam(&["ops", "expose", "deploy/web", "--delete", dry_run]).error();
        assert!(
            err.contains("service/web in namespace")
                && err.contains("is also managed by kubectl")
                && err.contains("nothing was deleted"),
            "{err}"
        );
    }
    assert_eq!(ns.kubectl(&["get", "svc", "web"]).code, 0, "their Service stays");
    // The hint to re-run without a terminal is the whole command, flags and all.
    let err = ns
        .oam(&[
            "ops",
            "expose",
            "deploy/web",
            "--port",
            "53",
            "--protocol",
            "UDP",
            "--name",
            "dns",
            "--force-conflicts",
        ])
        .error();
    assert!(err.contains("--port 53 --name dns --protocol UDP --force-conflicts --yes"), "{err}");
    // Changing it is a conflict named by its holder, never forced silently.
    let err = ns.oam(&["ops", "expose", "deploy/web", "--port", "80", "--type", "NodePort", "--yes"]).error();
    assert!(err.contains("expose.web.type") && err.contains("held by \"kubectl"), "{err}");
    // Nor one whose managed fields were stripped: nothing says kubectl oam wrote it.
    ns.kubectl(&["patch", "svc/web", "--type=merge", "-p", r#"{"metadata":{"managedFields":[{}]}}"#]).ok();
    assert_eq!(ns.get_json("svc/web")["metadata"].get("managedFields"), None);
    for dry_run in ["--dry-run=server", "--yes"] {
        let err = ns.oam(&["ops", "expose", "deploy/web", "--delete", dry_run]).error();
        assert!(
            err.contains("has no fields of kubectl-oam-ops") && err.contains("nothing was deleted"),
            "{err}"
        );
    }
    assert_eq!(ns.kubectl(&["get", "svc", "web"]).code, 0, "a Service nobody is known to manage stays");
}

#[test]
fn ops_disruption_budget_refuses_a_second_budget_for_the_same_pods() {
    let ns = Ns::new("storage-pdb-second");
    ns.create(WEB);
    ns.create(
        "apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {name: front}\nspec:\n  minAvailable: 1\n  selector: {matchLabels: {tier: front}}\n",
    );
    let err = ns.oam(&["ops", "disruption-budget", "deploy/web", "--max-unavailable", "1", "--yes"]).error();
    assert!(
        err.contains("poddisruptionbudget.policy/front already covers the pods of deployment.apps/web")
            && err.contains("--name front"),
        "{err}"
    );
    assert_ne!(ns.kubectl(&["get", "pdb", "web"]).code, 0, "nothing created");
    // Negative and odd values reach the command's own check, not a flag parser's.
    let err = ns
        .oam(&["ops", "disruption-budget", "deploy/web", "--name", "front", "--max-unavailable", "-1"])
        .error();
    assert!(err.contains("--max-unavailable \"-1\": use a count such as 2"), "{err}");
    // A workload that selects by matchExpressions: a budget copies its whole selector (a Service
    // cannot hold one, so expose refuses).
    ns.create(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: expr}\nspec:\n  replicas: 1\n  selector:\n    matchExpressions: [{key: app, operator: In, values: [expr]}]\n  template:\n    metadata: {labels: {app: expr}}\n    spec:\n      containers: [{name: app, image: nginx}]\n",
    );
    ns.oam(&["ops", "disruption-budget", "deploy/expr", "--min-available", "1", "--yes"]).ok();
    let pdb = ns.get_json("pdb/expr");
    assert_eq!(
        pdb["spec"]["selector"],
        json!({"matchExpressions": [{"key": "app", "operator": "In", "values": ["expr"]}]})
    );
    ns.oam(&["ops", "disruption-budget", "deploy/expr", "--delete", "--yes"]).ok();
    let err = ns.oam(&["ops", "expose", "deploy/expr", "--port", "80", "--yes"]).error();
    assert!(err.contains("matchExpressions, which a Service selector cannot hold"), "{err}");
}

#[test]
fn what_ops_expose_and_disruption_budget_create_is_in_ops_get_and_owned_by_the_ops_manager() {
    let ns = Ns::new("storage-expose-get");
    ns.create(WEB);
    ns.oam(&["ops", "expose", "deploy/web", "--port", "80", "--target-port", "http", "--yes"]).ok();
    ns.oam(&["ops", "disruption-budget", "deploy/web", "--min-available", "1", "--yes"]).ok();
    let doc: Value =
        serde_json::from_str(&ns.oam(&["ops", "get", "deploy/web", "-o", "json"]).ok().stdout).unwrap();
    assert_eq!(doc["expose"]["web"]["ports"][0]["port"], 80, "{doc}");
    assert_eq!(doc["expose"]["web"]["ports"][0]["targetPort"], "http", "{doc}");
    assert_eq!(doc["disruptionBudget"], json!({"web": {"minAvailable": 1}}), "{doc}");
    let owners = ns.oam(&["owners", "deploy/web"]).ok().stdout;
    for field in ["expose.web.ports", "disruptionBudget.web.minAvailable"] {
        let line = owners.lines().find(|l| l.contains(field)).unwrap_or_else(|| panic!("{field}: {owners}"));
        assert!(line.contains("kubectl-oam-ops"), "{line}\n{owners}");
    }
    // The operator's own write is no conflict: the view's owners say so per field.
    let shown = ns.oam(&["ops", "get", "deploy/web", "--show-owners"]).ok().stdout;
    assert!(shown.lines().any(|l| l.contains("minAvailable: 1") && l.contains("kubectl-oam-ops")), "{shown}");
}
