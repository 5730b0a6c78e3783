//! Objects around the workload as role traits on the real server: Services (`expose`), Ingresses
//! (`gateway`), PodDisruptionBudgets (`disruptionBudget`) and claims (`claimStorage`, dev `claims`),
//! found from the workload, shown keyed by name, written one SSA apply per object under the role's
//! manager after one dry-run each; the developer sees endpoints and the claims' capacity read-only.

use serde_json::{Value, json};

use crate::harness::{Ns, managers_of, settled};

fn app(ns: &Ns) {
    ns.create(&format!(
        r#"apiVersion: apps/v1
kind: Deployment
metadata: {{name: web}}
spec:
  replicas: 1
  selector: {{matchLabels: {{app: web}}}}
  template:
    metadata: {{labels: {{app: web, tier: front}}}}
    spec:
      containers:
      - name: app
        image: nginx:1.27
        ports: [{{name: http, containerPort: 8080}}]
      volumes: [{{name: data, persistentVolumeClaim: {{claimName: web-data}}}}]
---
apiVersion: v1
kind: Service
metadata: {{name: web}}
spec:
  selector: {{app: web}}
  ports: [{{name: http, port: 80, targetPort: http}}, {{name: metrics, port: 9090, targetPort: 8080}}]
---
apiVersion: v1
kind: Service
metadata: {{name: web-admin, annotations: {{team: a}}}}
spec:
  selector: {{app: web, tier: front}}
  ports: [{{port: 8081, targetPort: 8080}}]
---
apiVersion: v1
kind: Service
metadata: {{name: other}}
spec:
  selector: {{app: other}}
  ports: [{{port: 80}}]
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {{name: web}}
spec:
  tls: [{{hosts: [shop.example.com], secretName: shop-tls}}]
  rules:
  - host: shop.example.com
    http: {{paths: [{{path: /, pathType: Prefix, backend: {{service: {{name: web, port: {{number: 80}}}}}}}}]}}
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {{name: web}}
spec: {{minAvailable: 1, selector: {{matchLabels: {{app: web}}}}}}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {{name: web-data}}
spec: {{accessModes: [ReadWriteOnce], resources: {{requests: {{storage: 1Gi}}}}, storageClassName: {ns}-none}}
"#,
        ns = ns.name
    ));
}

fn document(ns: &Ns, role: &str) -> Value {
    let run = ns.oam(&[role, "get", "deploy/web", "-o", "json"]).ok();
    serde_json::from_str(&run.stdout).expect("get -o json prints JSON")
}

fn keys(v: &Value) -> Vec<&str> {
    v.as_object().map(|m| m.keys().map(String::as_str).collect()).unwrap_or_default()
}

/// The requests `-v 6` logged: `PATCH https://…/services/web?…dryRun=All…`.
fn patches(stderr: &str) -> Vec<String> {
    stderr
        .lines()
        .filter_map(|l| l.split("round_trippers] ").nth(1))
        .filter(|r| r.starts_with("PATCH "))
        .map(|r| r.split(' ').nth(1).unwrap_or_default().to_string())
        .collect()
}

#[test]
fn ops_edits_two_services_and_a_pdb_in_one_apply_each_under_its_manager() {
    let ns = Ns::new("related-ops");
    app(&ns);
    let mut doc = document(&ns, "ops");
    assert_eq!(keys(&doc["expose"]), ["web", "web-admin"], "only the Services that select the pods: {doc}");
    assert_eq!(keys(&doc["gateway"]), ["web"]);
    assert_eq!(doc["gateway"]["web"]["tls"][0]["secretName"], "shop-tls");
    assert_eq!(doc["disruptionBudget"]["web"], json!({"minAvailable": 1}));
    assert_eq!(doc["claimStorage"]["web-data"]["storageClassName"], format!("{}-none", ns.name));
    assert_eq!(doc["expose"]["web-admin"]["annotations"], json!({"team": "a"}));
    assert!(doc.get("claims").is_none(), "the claims' size is the developer's");

    // `ops list -o wide`: a column per related kind that selects the pods.
    let list = ns.oam(&["ops", "list", "-o", "wide"]).ok().stdout;
    let mut lines = list.lines();
    let header: Vec<&str> = lines.next().unwrap_or_default().split_whitespace().collect();
    assert_eq!(header[header.len() - 2..], ["SVC", "PDB"], "{list}");
    let row: Vec<&str> = lines.next().unwrap_or_default().split_whitespace().collect();
    assert_eq!(row[row.len() - 2..], ["web,web-admin", "web"], "{list}");

    // Two Services and the PDB in one document; the metrics port removed.
    doc["expose"]["web-admin"]["annotations"]["team"] = json!("b");
    doc["expose"]["web"]["ports"].as_array_mut().unwrap().retain(|p| p["name"] != "metrics");
    doc["disruptionBudget"]["web"]["minAvailable"] = json!(2);
    let file = std::env::temp_dir().join(format!("{}.json", ns.name));
    std::fs::write(&file, doc.to_string()).unwrap();
    let file = file.to_str().unwrap();

    // The removal is honest: kubectl's apply holds the port too, so nothing is applied.
    let err = ns.oam(&["ops", "apply", "-f", file]).error();
    assert!(
        err.contains("service/web in namespace")
            && err.contains("expose.web.ports[9090/TCP]")
            && err.contains("kubectl-client-side-apply"),
        "{err}"
    );
    assert_eq!(ns.get_json("pdb/web")["spec"]["minAvailable"], 1, "nothing was applied");

    let workload_before = settled(&ns.get_json("deploy/web"));
    let run = ns.oam(&["ops", "apply", "-f", file, "--force-conflicts", "-v", "6"]).ok();
    let patches = patches(&run.stderr);
    for object in ["services/web?", "services/web-admin?", "poddisruptionbudgets/web?"] {
        let dry: Vec<&String> =
            patches.iter().filter(|p| p.contains(object) && p.contains("dryRun=All")).collect();
        let real: Vec<&String> =
            patches.iter().filter(|p| p.contains(object) && !p.contains("dryRun")).collect();
        assert_eq!(
            (dry.len(), !real.is_empty()),
            (1, true),
            "{object}: one dry-run, then the write: {patches:?}"
        );
    }
    assert!(
        !patches.iter().any(|p| p.contains("/deployments/") && !p.contains("dryRun")),
        "the workload is not written: {patches:?}"
    );
    assert_eq!(settled(&ns.get_json("deploy/web")), workload_before);

    let svc = ns.get_json("svc/web");
    let names: Vec<&str> =
        svc["spec"]["ports"].as_array().unwrap().iter().filter_map(|p| p["name"].as_str()).collect();
    assert_eq!(names, ["http"]);
    let pdb = ns.get_json("pdb/web");
    assert_eq!(pdb["spec"]["minAvailable"], 2);
    assert!(
        managers_of(&pdb, &["f:spec", "f:minAvailable"]).contains(&"kubectl-oam-ops".to_string()),
        "{pdb}"
    );
    let admin = ns.get_json("svc/web-admin");
    assert_eq!(admin["metadata"]["annotations"]["team"], "b");
    assert_eq!(
        managers_of(&admin, &["f:metadata", "f:annotations", "f:team"]),
        ["kubectl-oam-ops"],
        "taken over with --force-conflicts"
    );
    // Fields outside the section stay the creator's.
    assert!(
        managers_of(&admin, &["f:spec", "f:selector"]).contains(&"kubectl-client-side-apply".to_string())
    );

    // owners names each related field's holders, as the document names the field.
    let run = ns.oam(&["owners", "deploy/web", "-o", "json"]);
    let rows: Value = serde_json::from_str(&run.stdout).expect("owners -o json prints JSON");
    let holders = |field: &str| -> Vec<String> {
        let row = rows.as_array().unwrap().iter().find(|r| r["field"] == field);
        let row = row.unwrap_or_else(|| panic!("{field} in {rows:#}"));
        row["managers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["manager"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(holders("disruptionBudget.web.minAvailable"), ["kubectl-oam-ops"]);
    assert_eq!(holders("expose.web-admin.annotations"), ["kubectl-oam-ops"]);
    assert_eq!(holders("expose.web.type"), ["kubectl-client-side-apply"]);
    assert_eq!(holders("claims.web-data.size"), ["kubectl-client-side-apply"]);
    assert!(
        rows.as_array().unwrap().iter().all(|r| !r["field"].as_str().unwrap().starts_with("expose.other"))
    );

    // Applying the same document again writes nothing.
    let before = [settled(&ns.get_json("svc/web")), settled(&ns.get_json("svc/web-admin")), settled(&pdb)];
    let run = ns.oam(&["ops", "apply", "-f", file]).ok();
    assert!(run.stdout.contains("unchanged"), "{run:?}");
    let after = [
        settled(&ns.get_json("svc/web")),
        settled(&ns.get_json("svc/web-admin")),
        settled(&ns.get_json("pdb/web")),
    ];
    assert_eq!(before, after);

    // A section naming an object that does not belong to the workload is refused, naming what does.
    let mut wrong = document(&ns, "ops");
    wrong["expose"]["other"] = json!({"type": "NodePort"});
    std::fs::write(file, wrong.to_string()).unwrap();
    let err = ns.oam(&["ops", "apply", "-f", file]).error();
    assert!(err.contains("expose.other: no Service named \"other\" belongs to deployment.apps/web"), "{err}");
    assert!(err.contains("(it has web, web-admin)"), "{err}");
    let _ = std::fs::remove_file(file);
}

#[test]
fn dev_sees_endpoints_and_claims_read_only_and_cannot_write_ops_sections() {
    let ns = Ns::new("related-dev");
    app(&ns);
    // What a volume controller reports once the claim is bound (this control plane runs none).
    ns.kubectl(&[
        "patch",
        "pvc/web-data",
        "--subresource=status",
        "--type=merge",
        "-p",
        r#"{"status":{"phase":"Bound","capacity":{"storage":"5Gi"},"accessModes":["ReadWriteOnce"]}}"#,
    ])
    .ok();
    let doc = document(&ns, "dev");
    let svc = |name: &str, port: u16| format!("{name}.{}.svc:{port}", ns.name);
    assert_eq!(
        doc["readOnly"]["endpoints"],
        json!({
            svc("web", 80): "app:8080",
            svc("web", 9090): "app:8080",
            svc("web-admin", 8081): "app:8080",
            "https://shop.example.com/": svc("web", 80),
        }),
        "{doc}"
    );
    assert_eq!(doc["claims"]["web-data"], json!({"size": "1Gi", "accessModes": ["ReadWriteOnce"]}));
    assert_eq!(doc["readOnly"]["claims"]["web-data"], json!({"capacity": "5Gi", "phase": "Bound"}));
    assert!(doc.get("expose").is_none() && doc.get("disruptionBudget").is_none());

    // A developer's document may not carry the operator's sections.
    let mut wrong = doc.clone();
    wrong["expose"] = json!({"web": {"type": "NodePort"}});
    let file = std::env::temp_dir().join(format!("{}.json", ns.name));
    std::fs::write(&file, wrong.to_string()).unwrap();
    let err = ns.oam(&["dev", "apply", "-f", file.to_str().unwrap()]).error();
    assert!(err.contains("expose: belongs to the ops role"), "{err}");
    assert_eq!(ns.get_json("svc/web")["spec"]["type"], "ClusterIP");
    // The unchanged document applies as a no-op: endpoints and capacity are context, never sent.
    std::fs::write(&file, doc.to_string()).unwrap();
    let run = ns.oam(&["dev", "apply", "-f", file.to_str().unwrap()]).ok();
    assert!(run.stdout.contains("unchanged"), "{run:?}");
    let _ = std::fs::remove_file(file);
}

#[test]
fn the_policy_holds_raw_kubectl_to_each_roles_fields_of_related_objects() {
    use crate::policy::{as_user, denied, enforced, install};
    let ns = Ns::new("related-policy");
    app(&ns);
    let _policy = install(&ns, &[]);
    enforced(&ns, "deploy/web");
    let patch = |user: &str, what: &str, body: &str| {
        as_user(&ns, user, &["patch", what, "--type=merge", "-p", body, "--dry-run=server"])
    };
    // A Service's ports and type are the operator's; its selector no role's.
    let port = r#"{"spec":{"ports":[{"name":"http","port":8080,"targetPort":"http"}]}}"#;
    denied(patch("dev", "svc/web", port), "oam:developers may not change spec.ports (ops role");
    patch("ops", "svc/web", port).ok();
    denied(patch("ops", "svc/web", r#"{"spec":{"selector":{"app":"x"}}}"#), "spec.selector (no role");
    // The disruption budget is the operator's.
    denied(patch("dev", "pdb/web", r#"{"spec":{"minAvailable":3}}"#), "spec.minAvailable (ops role");
    patch("ops", "pdb/web", r#"{"spec":{"minAvailable":3}}"#).ok();
    // An Ingress's rules too.
    denied(
        patch("dev", "ingress/web", r#"{"spec":{"ingressClassName":"other"}}"#),
        "spec.ingressClassName (ops role",
    );
    // A claim's size is the developer's (its class, immutable once made, the operator's): on a bound
    // claim of a class that may grow, the API lets either resize it; the policy only the developer.
    let class = format!("{}-grow", ns.name);
    struct Class<'a>(&'a Ns, String);
    impl Drop for Class<'_> {
        fn drop(&mut self) {
            let _ =
                self.0.kubectl(&["delete", "storageclass", &self.1, "--ignore-not-found", "--wait=false"]);
        }
    }
    let _class = Class(&ns, class.clone());
    ns.create(&format!(
        "apiVersion: storage.k8s.io/v1\nkind: StorageClass\nmetadata: {{name: {class}}}\nprovisioner: example.com/none\nallowVolumeExpansion: true\n---\n\
         apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {{name: grow}}\n\
         spec: {{accessModes: [ReadWriteOnce], resources: {{requests: {{storage: 1Gi}}}}, storageClassName: {class}}}\n"
    ));
    ns.kubectl(&[
        "patch",
        "pvc/grow",
        "--subresource=status",
        "--type=merge",
        "-p",
        r#"{"status":{"phase":"Bound","capacity":{"storage":"1Gi"}}}"#,
    ])
    .ok();
    let grow = r#"{"spec":{"resources":{"requests":{"storage":"2Gi"}}}}"#;
    denied(
        patch("ops", "pvc/grow", grow),
        "oam:operators may not change spec.resources.requests.storage (dev role",
    );
    patch("dev", "pvc/grow", grow).ok();
    // Creating one is for the roles with fields of it.
    as_user(&ns, "ops", &["create", "service", "clusterip", "made", "--tcp=80", "--dry-run=server"]).ok();
    denied(
        as_user(&ns, "dev", &["create", "service", "clusterip", "made", "--tcp=80", "--dry-run=server"]),
        "oam:developers may not create services: no role of theirs has fields of it",
    );
    // Nor delete one, or a budget; the operator may. A selector is no role's, the developer's neither.
    denied(
        as_user(&ns, "dev", &["delete", "svc/web", "--dry-run=server"]),
        "oam:developers may not delete services: no role of theirs has fields of it",
    );
    denied(
        as_user(&ns, "dev", &["delete", "pdb/web", "--dry-run=server"]),
        "oam:developers may not delete poddisruptionbudgets: no role of theirs has fields of it",
    );
    as_user(&ns, "ops", &["delete", "pdb/web", "--dry-run=server"]).ok();
    denied(patch("dev", "svc/web", r#"{"spec":{"selector":{"app":"x"}}}"#), "spec.selector (no role");
    // kubectl-oam's own related writes pass for the role.
    let mut doc = document(&ns, "ops");
    doc["disruptionBudget"]["web"]["minAvailable"] = json!(2);
    let file = std::env::temp_dir().join(format!("{}.json", ns.name));
    std::fs::write(&file, doc.to_string()).unwrap();
    let err = ns.oam(&["ops", "apply", "-f", file.to_str().unwrap(), "--context", "ops"]).error();
    assert!(
        err.contains("disruptionBudget.web.minAvailable (held by \"kubectl-client-side-apply\")"),
        "a conflict names the field as the document does: {err}"
    );
    let run =
        ns.oam(&["ops", "apply", "-f", file.to_str().unwrap(), "--context", "ops", "--force-conflicts"]).ok();
    assert!(
        !run.stderr.contains("warning"),
        "an absent optional kind (HTTPRoute) is left out quietly: {run:?}"
    );
    assert_eq!(ns.get_json("pdb/web")["spec"]["minAvailable"], 2);
    let _ = std::fs::remove_file(file);
}

/// Gateway API's HTTPRoute CRD, installed once per test run (`scripts/local-cluster gateway-crds`,
/// from the upstream module; server-side apply: idempotent).
fn gateway_crds() {
    use std::process::Command;
    use std::sync::OnceLock;

    use crate::harness::{env, repo};
    static DONE: OnceLock<()> = OnceLock::new();
    DONE.get_or_init(|| {
        let out =
            Command::new(repo().join("scripts/local-cluster")).arg("gateway-crds").output().expect("run");
        assert!(out.status.success(), "gateway-crds: {}", String::from_utf8_lossy(&out.stderr));
        let dir = String::from_utf8_lossy(&out.stdout).lines().last().expect("a folder").trim().to_string();
        for args in [
            vec!["apply", "--server-side", "--force-conflicts", "-f", &dir],
            vec!["wait", "--for", "condition=Established", "--timeout", "60s", "-f", &dir],
        ] {
            let out = Command::new(env().kubectl_path())
                .arg("--kubeconfig")
                .arg(&env().kubeconfig)
                .args(&args)
                .output()
                .unwrap();
            assert!(out.status.success(), "kubectl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        }
    });
}

#[test]
fn an_httproute_is_part_of_the_gateway_and_of_the_developers_endpoints() {
    gateway_crds();
    let ns = Ns::new("related-httproute");
    app(&ns);
    ns.create(
        r#"apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: web-route}
spec:
  parentRefs: [{name: gw}]
  hostnames: [api.example.com]
  rules:
  - matches: [{path: {type: PathPrefix, value: /api}}]
    backendRefs: [{name: web, port: 80}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: elsewhere}
spec:
  parentRefs: [{name: gw}]
  rules: [{backendRefs: [{name: other, port: 80}]}]
"#,
    );
    let mut doc = document(&ns, "ops");
    assert_eq!(
        keys(&doc["gateway"]),
        ["web", "web-route"],
        "the Ingress and the route to our Service: {doc}"
    );
    assert_eq!(doc["gateway"]["web-route"]["hostnames"], json!(["api.example.com"]));
    assert_eq!(doc["gateway"]["web-route"]["parentRefs"][0]["name"], "gw");
    let dev = document(&ns, "dev");
    assert_eq!(
        dev["readOnly"]["endpoints"]["http://api.example.com/api"],
        format!("web.{}.svc:80", ns.name),
        "{dev}"
    );

    doc["gateway"]["web-route"]["hostnames"] = json!(["shop.example.com"]);
    let file = std::env::temp_dir().join(format!("{}.json", ns.name));
    std::fs::write(&file, doc.to_string()).unwrap();
    ns.oam(&["ops", "apply", "-f", file.to_str().unwrap(), "--force-conflicts"]).ok();
    let route = ns.get_json("httproute/web-route");
    assert_eq!(route["spec"]["hostnames"], json!(["shop.example.com"]));
    assert_eq!(managers_of(&route, &["f:spec", "f:hostnames"]), ["kubectl-oam-ops"]);
    let _ = std::fs::remove_file(file);
}

const DEPLOY_API: &str = r#"apiVersion: apps/v1
kind: Deployment
metadata: {name: api}
spec:
  replicas: 1
  selector: {matchLabels: {app: api}}
  template:
    metadata: {labels: {app: api}}
    spec:
      containers: [{name: app, image: nginx:1.27}]
"#;

/// The lists a `-v 6` run sent: `GET https://…/services?…`.
fn list_requests(stderr: &str) -> Vec<String> {
    stderr
        .lines()
        .filter_map(|l| l.split("round_trippers] ").nth(1))
        .filter(|r| {
            r.starts_with("GET ") && r.split(' ').nth(1).is_some_and(|u| !u.contains("/deployments/"))
        })
        .map(|r| r.split(' ').nth(1).unwrap_or_default().to_string())
        .collect()
}

#[test]
fn a_related_kind_the_user_may_not_list_never_fails_the_view() {
    let ns = Ns::new("related-forbidden");
    app(&ns);
    // Both roles here may read Deployments only (no Services, Ingresses, PDBs, claims, HPAs).
    ns.kubectl(&["delete", "rolebinding", "oam-roles"]).ok();
    ns.kubectl(&["create", "role", "deploys", "--verb=get,list,watch", "--resource=deployments.apps"]).ok();
    ns.kubectl(&[
        "create",
        "rolebinding",
        "deploys",
        "--role=deploys",
        "--group=oam:developers",
        "--group=oam:operators",
    ])
    .ok();
    let run = ns.oam(&["--context", "ops", "ops", "get", "deploy/web", "-o", "json"]).ok();
    let doc: Value = serde_json::from_str(&run.stdout).expect("the view, without the related sections");
    assert_eq!(doc["scaler"]["replicas"], 1);
    assert!(doc.get("expose").is_none() && doc.get("disruptionBudget").is_none(), "{doc}");
    for line in [
        format!(
            "warning: cannot list services in namespace \"{}\" (forbidden): the view leaves out expose and gateway",
            ns.name
        ),
        format!(
            "warning: cannot list poddisruptionbudgets in namespace \"{}\" (forbidden): the view leaves out disruptionBudget",
            ns.name
        ),
        format!(
            "warning: cannot list ingresses in namespace \"{}\" (forbidden): the view leaves out gateway",
            ns.name
        ),
        format!(
            "warning: cannot list horizontalpodautoscalers in namespace \"{}\" (forbidden): the autoscaler section is left out",
            ns.name
        ),
    ] {
        assert_eq!(run.stderr.lines().filter(|l| *l == line).count(), 1, "{line:?} once in {}", run.stderr);
    }
    let run = ns.oam(&["--context", "dev", "dev", "get", "deploy/web"]).ok();
    assert!(run.stdout.contains("image: nginx:1.27"), "{run:?}");
    assert!(
        run.stderr.contains(&format!(
            "warning: cannot list services in namespace \"{}\" (forbidden): the view leaves out readOnly.endpoints",
            ns.name
        )),
        "{run:?}"
    );
    // Formats of the workload's own fields send no related list at all (and so warn of none).
    for format in ["name", "jsonpath={.scaler.replicas}", "apply"] {
        let run = ns.oam(&["--context", "ops", "ops", "get", "deploy/web", "-o", format]).ok();
        assert!(!run.stderr.contains("services"), "-o {format}: {run:?}");
    }
    let run = ns
        .oam(&["--context", "dev", "dev", "get", "deploy/web", "-o", "jsonpath={.containers.app.image}"])
        .ok();
    assert_eq!((run.stdout.trim(), run.stderr.as_str()), ("nginx:1.27", ""));
    // A document naming a Service it could not list is refused, never dropped silently.
    let mut admin_doc = document(&ns, "ops");
    admin_doc["expose"]["web"]["type"] = json!("NodePort");
    let file = std::env::temp_dir().join(format!("{}.json", ns.name));
    std::fs::write(&file, admin_doc.to_string()).unwrap();
    let err = ns.oam(&["--context", "ops", "ops", "apply", "-f", file.to_str().unwrap()]).error();
    assert!(
        err.contains("expose.web: the services of namespace") && err.contains("could not be listed"),
        "{err}"
    );
    assert_eq!(ns.get_json("svc/web")["spec"]["type"], "ClusterIP");
    let _ = std::fs::remove_file(file);

    // Several objects: the related kinds listed once for all, so one warning each.
    ns.create(DEPLOY_API);
    let run = ns.oam(&["--context", "ops", "ops", "get", "deploy/web", "deploy/api", "-o", "yaml"]).ok();
    assert_eq!(run.stderr.matches("cannot list services").count(), 1, "{run:?}");

    // As admin: every list from the watch cache, all sent with the object.
    let run = ns.oam(&["ops", "get", "deploy/web", "-v", "6"]).ok();
    let lists = list_requests(&run.stderr);
    assert_eq!(lists.len(), 6, "HPAs and five related kinds: {lists:?}");
    assert!(lists.iter().all(|l| l.contains("resourceVersion=0")), "{lists:?}");
    let run = ns.oam(&["ops", "get", "deploy/web", "deploy/api", "-v", "6"]).ok();
    let services = list_requests(&run.stderr).iter().filter(|l| l.contains("/services?")).count();
    assert_eq!(services, 1, "{run:?}");
    // A document of the workload's own fields (no related section) is applied without a list of
    // them; `scale` neither.
    let mut doc = document(&ns, "ops");
    for key in ["expose", "gateway", "disruptionBudget", "claimStorage"] {
        doc.as_object_mut().unwrap().remove(key);
    }
    doc["scaler"]["replicas"] = json!(2);
    let file = std::env::temp_dir().join(format!("{}-own.json", ns.name));
    std::fs::write(&file, doc.to_string()).unwrap();
    let run = ns.oam(&["ops", "apply", "-f", file.to_str().unwrap(), "--force-conflicts", "-v", "6"]).ok();
    let related: Vec<String> =
        list_requests(&run.stderr).into_iter().filter(|l| !l.contains("horizontalpodautoscalers")).collect();
    assert!(related.is_empty(), "{related:?}");
    assert_eq!(ns.get_json("deploy/web")["spec"]["replicas"], 2);
    let run = ns.oam(&["ops", "scale", "deploy/web", "--replicas", "3", "-v", "6"]).ok();
    let related: Vec<String> =
        list_requests(&run.stderr).into_iter().filter(|l| !l.contains("horizontalpodautoscalers")).collect();
    assert!(related.is_empty(), "{related:?}");
    let _ = std::fs::remove_file(file);
}

#[test]
fn a_service_flux_applies_is_refused_as_the_workload_is() {
    use crate::reconcilers::{crds, flux_apply, git_manifest, kustomization};
    crds();
    let ns = Ns::new("related-flux");
    kustomization(&ns, json!([]));
    let manifest = format!(
        "{}---\napiVersion: v1\nkind: Service\nmetadata: {{name: web}}\nspec:\n  type: ClusterIP\n  selector: {{app: web}}\n  ports: [{{name: http, port: 80}}]\n",
        git_manifest("")
    );
    flux_apply(&ns, &manifest, &[]).ok();
    assert_eq!(ns.get_json("svc/web")["metadata"]["labels"]["kustomize.toolkit.fluxcd.io/name"], "apps");
    let mut doc = document(&ns, "ops");
    doc["expose"]["web"]["type"] = json!("NodePort");
    let file = std::env::temp_dir().join(format!("{}.json", ns.name));
    std::fs::write(&file, doc.to_string()).unwrap();
    // Without force: the conflict names the manager and the field as the document does.
    let err = ns.oam(&["ops", "apply", "-f", file.to_str().unwrap()]).error();
    assert!(err.contains("expose.web.type") && err.contains("kustomize-controller"), "{err}");
    // Forced: Flux puts it back at its next reconcile, so the write is refused first.
    let err = ns.oam(&["ops", "apply", "-f", file.to_str().unwrap(), "--force-conflicts"]).error();
    for part in
        [format!("Flux Kustomization {}/apps", ns.name).as_str(), "service/web", "nothing was applied"]
    {
        assert!(err.contains(part), "{part:?} missing from {err}");
    }
    assert!(!err.contains("gitops"), "gitops speaks for the workload only: {err}");
    assert_eq!(ns.get_json("svc/web")["spec"]["type"], "ClusterIP", "nothing was written");
    let _ = std::fs::remove_file(file);
}

#[test]
fn a_shared_service_names_the_other_workload_and_a_deleted_one_is_refused() {
    let ns = Ns::new("related-shared");
    app(&ns);
    // A second Deployment whose pods the Service `web` (selector app=web) selects too.
    ns.create(
        r#"apiVersion: apps/v1
kind: Deployment
metadata: {name: web-canary}
spec:
  replicas: 1
  selector: {matchLabels: {app: web, track: canary}}
  template:
    metadata: {labels: {app: web, track: canary}}
    spec:
      containers: [{name: app, image: nginx:1.28}]
"#,
    );
    let canary = ns.oam(&["ops", "get", "deploy/web-canary", "-o", "json"]).ok();
    let canary: Value = serde_json::from_str(&canary.stdout).unwrap();
    assert_eq!(keys(&canary["expose"]), ["web"], "shown in both: {canary}");

    // Stale: the document is read, then someone changes the Service's port, then it is applied.
    let mut doc = document(&ns, "ops");
    ns.kubectl(&[
        "patch",
        "svc/web-admin",
        "--type=json",
        "-p",
        r#"[{"op":"replace","path":"/spec/ports/0/port","value":8082}]"#,
    ])
    .ok();
    doc["expose"]["web"]["type"] = json!("NodePort");
    let file = std::env::temp_dir().join(format!("{}.json", ns.name));
    std::fs::write(&file, doc.to_string()).unwrap();
    let run = ns.oam(&["ops", "apply", "-f", file.to_str().unwrap(), "--force-conflicts"]).ok();
    assert!(
        run.stderr.contains(&format!(
            "warning: service/web in namespace \"{}\" also serves deployment.apps/web-canary: this change applies to it too",
            ns.name
        )),
        "{run:?}"
    );
    assert!(!run.stderr.contains("web-admin"), "web-admin is not changed: {run:?}");
    assert_eq!(ns.get_json("svc/web")["spec"]["type"], "NodePort");
    assert_eq!(ns.get_json("svc/web-admin")["spec"]["ports"][0]["port"], 8082, "the other's change is kept");

    // A Service another object controls (as an operator's): the change is made, with a warning.
    let uid = ns.get_json("deploy/web-canary")["metadata"]["uid"].as_str().unwrap().to_string();
    let owner = json!({"metadata": {"ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment",
        "name": "web-canary", "uid": uid, "controller": true}]}});
    ns.kubectl(&["patch", "svc/web", "--type=merge", "-p", &owner.to_string()]).ok();
    let mut doc = document(&ns, "ops");
    doc["expose"]["web"]["type"] = json!("ClusterIP");
    std::fs::write(&file, doc.to_string()).unwrap();
    let run = ns.oam(&["ops", "apply", "-f", file.to_str().unwrap(), "--force-conflicts"]).ok();
    assert!(
        run.stderr.contains("service/web in namespace")
            && run
                .stderr
                .contains("is controlled by deployment.apps/web-canary, which may put this change back"),
        "{run:?}"
    );

    // Deleted between the view and the apply: refused, naming how to create one.
    let mut doc = document(&ns, "ops");
    doc["expose"]["web-admin"]["type"] = json!("NodePort");
    ns.kubectl(&["delete", "svc/web-admin"]).ok();
    std::fs::write(&file, doc.to_string()).unwrap();
    let err = ns.oam(&["ops", "apply", "-f", file.to_str().unwrap()]).error();
    assert!(
        err.starts_with("error: ")
            && err
                .contains("expose.web-admin: no Service named \"web-admin\" belongs to deployment.apps/web")
            && err.contains("kubectl oam ops expose deployment.apps/web --port PORT --name web-admin"),
        "{err}"
    );
    let _ = std::fs::remove_file(file);
}
