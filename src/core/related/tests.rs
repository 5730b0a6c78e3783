use serde_json::{Value, json};

use super::*;
use crate::core::project::{self, ViewOptions};
use crate::model::roles::{Profile, RoleName};

fn workload() -> Value {
    json!({"apiVersion": "apps/v1", "kind": "Deployment",
           "metadata": {"name": "web", "namespace": "shop", "resourceVersion": "3"},
           "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}},
                    "template": {"metadata": {"labels": {"app": "web", "tier": "front"}},
                                 "spec": {"containers": [{"name": "app", "image": "a:1",
                                                          "ports": [{"name": "http", "containerPort": 8080}]}],
                                          "volumes": [{"name": "data", "persistentVolumeClaim": {"claimName": "web-data"}},
                                                      {"name": "tmp", "emptyDir": {}}]}}}})
}

fn lists() -> Vec<(String, Vec<Value>)> {
    let meta = |name: &str, ns: &str| json!({"name": name, "namespace": ns});
    vec![
        (
            "service".into(),
            vec![
                json!({"metadata": meta("web", "shop"), "spec": {"type": "ClusterIP", "selector": {"app": "web"},
                   "ports": [{"name": "http", "port": 80, "targetPort": "http", "protocol": "TCP"}]}}),
                json!({"metadata": {"name": "web-admin", "namespace": "shop",
                                "annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{}", "team": "a"}},
                   "spec": {"type": "NodePort", "selector": {"app": "web", "tier": "front"},
                   "ports": [{"port": 9090, "targetPort": 8080, "protocol": "TCP"}]}}),
                json!({"metadata": meta("other", "shop"), "spec": {"selector": {"app": "other"}, "ports": [{"port": 80}]}}),
                json!({"metadata": meta("manual", "shop"), "spec": {"ports": [{"port": 80}]}}),
                json!({"metadata": meta("web", "elsewhere"), "spec": {"selector": {"app": "web"}, "ports": [{"port": 80}]}}),
            ],
        ),
        (
            "ingress".into(),
            vec![
                json!({"metadata": meta("web", "shop"), "spec": {"ingressClassName": "nginx",
                   "tls": [{"hosts": ["shop.example.com"], "secretName": "shop-tls"}],
                   "rules": [{"host": "shop.example.com", "http": {"paths": [
                       {"path": "/", "pathType": "Prefix", "backend": {"service": {"name": "web", "port": {"number": 80}}}}]}}]}}),
                json!({"metadata": meta("other", "shop"), "spec": {"rules": [{"http": {"paths": [
                       {"path": "/", "pathType": "Prefix", "backend": {"service": {"name": "other", "port": {"number": 80}}}}]}}]}}),
            ],
        ),
        (
            "httpRoute".into(),
            vec![
                json!({"metadata": meta("web-route", "shop"), "spec": {"parentRefs": [{"name": "gw"}], "hostnames": ["api.example.com"],
                   "rules": [{"matches": [{"path": {"type": "PathPrefix", "value": "/api"}}], "backendRefs": [{"name": "web", "port": 80}]}]}}),
                json!({"metadata": meta("cross", "shop"), "spec": {"rules": [{"backendRefs": [{"name": "web", "namespace": "other"}]}]}}),
            ],
        ),
        (
            "pdb".into(),
            vec![
                json!({"metadata": meta("web", "shop"), "spec": {"minAvailable": 1, "selector": {"matchLabels": {"app": "web"}}}}),
                json!({"metadata": meta("front", "shop"), "spec": {"maxUnavailable": "50%", "selector": {"matchExpressions": [
                {"key": "tier", "operator": "In", "values": ["front", "edge"]}, {"key": "canary", "operator": "DoesNotExist"}]}}}),
                json!({"metadata": meta("none", "shop"), "spec": {"minAvailable": 1}}),
                json!({"metadata": meta("db", "shop"), "spec": {"minAvailable": 1, "selector": {"matchLabels": {"app": "db"}}}}),
            ],
        ),
        (
            "claim".into(),
            vec![
                json!({"metadata": meta("web-data", "shop"), "spec": {"accessModes": ["ReadWriteOnce"], "storageClassName": "standard",
                   "resources": {"requests": {"storage": "1Gi"}}}, "status": {"phase": "Bound", "capacity": {"storage": "2Gi"}}}),
                json!({"metadata": meta("unused", "shop"), "spec": {"resources": {"requests": {"storage": "1Gi"}}}}),
            ],
        ),
    ]
}

fn names(related: &Related, root: &str) -> Vec<String> {
    related.of(root).iter().map(|o| object_name(o).to_string()).collect()
}

#[test]
fn finds_what_selects_routes_to_and_is_mounted_by_the_pods() {
    let p = Profile::builtin();
    let kind = p.kind("deploy").unwrap();
    let found = find(&p, kind, &workload(), &lists());
    assert_eq!(names(&found, "service"), ["web", "web-admin"], "selector-less and other namespaces' are not");
    assert_eq!(names(&found, "ingress"), ["web"]);
    assert_eq!(names(&found, "httpRoute"), ["web-route"], "a backend in another namespace is not ours");
    assert_eq!(
        names(&found, "pdb"),
        ["web", "front"],
        "matchLabels and matchExpressions; no selector selects none"
    );
    assert_eq!(names(&found, "claim"), ["web-data"]);
    // Nothing listed: nothing found, no panic.
    assert_eq!(find(&p, kind, &workload(), &[]), Related::default());
}

#[test]
fn label_selectors_follow_the_api() {
    let labels = json!({"app": "web"});
    let labels = labels.as_object().unwrap();
    assert!(label_selector_selects(&json!({}), labels), "an empty selector selects every pod");
    assert!(!label_selector_selects(&Value::Null, labels));
    assert!(label_selector_selects(
        &json!({"matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["x"]}]}),
        labels
    ));
    assert!(!label_selector_selects(
        &json!({"matchExpressions": [{"key": "app", "operator": "Bogus"}]}),
        labels
    ));
    assert_eq!(
        backend_services(&json!({"spec": {"defaultBackend": {"service": {"name": "a"}},
                                          "rules": [{"http": {"paths": [{"backend": {"service": {"name": "a"}}}, {"backend": {"resource": {"kind": "Bucket"}}}]}}]}})),
        ["a"]
    );
}

#[test]
fn ops_sections_are_keyed_by_object_name_and_dev_sees_endpoints_and_claims() {
    let p = Profile::builtin();
    let kind = p.kind("deploy").unwrap();
    let obj = workload();
    let found = find(&p, kind, &obj, &lists());
    let view = ViewOptions { container: None, autoscaler: None, related: Some(&found) };
    let ops = project::document(&p, RoleName::Ops, kind, &obj, &view);
    assert_eq!(ops["expose"]["web"]["type"], "ClusterIP");
    assert_eq!(ops["expose"]["web-admin"]["annotations"], json!({"team": "a"}), "tool-written keys left out");
    assert_eq!(ops["gateway"]["web"]["tls"][0]["secretName"], "shop-tls");
    assert_eq!(ops["gateway"]["web-route"]["hostnames"], json!(["api.example.com"]));
    assert_eq!(ops["disruptionBudget"]["front"], json!({"maxUnavailable": "50%"}));
    assert_eq!(ops["claimStorage"]["web-data"], json!({"storageClassName": "standard"}));
    assert!(ops.get("claims").is_none() && ops["readOnly"].get("endpoints").is_none());
    assert_eq!(ops["readOnly"]["claims"]["web-data"], json!({"capacity": "2Gi", "phase": "Bound"}));

    let dev = project::document(&p, RoleName::Dev, kind, &obj, &view);
    assert_eq!(dev["claims"]["web-data"], json!({"size": "1Gi", "accessModes": ["ReadWriteOnce"]}));
    assert!(dev.get("expose").is_none());
    assert_eq!(
        dev["readOnly"]["endpoints"],
        json!({
            "web.shop.svc:80": "app:8080",
            "web-admin.shop.svc:9090": "app:8080",
            "https://shop.example.com/": "web.shop.svc:80",
            "http://api.example.com/api": "web.shop.svc:80",
        })
    );
    assert_eq!(dev["readOnly"]["claims"]["web-data"]["capacity"], "2Gi");
    // Without the lists (a view that did not ask), no section and no readOnly entry.
    let plain = project::document(&p, RoleName::Dev, kind, &obj, &ViewOptions::default());
    assert!(plain.get("claims").is_none() && plain["readOnly"].get("endpoints").is_none());
}

#[test]
fn views_list_only_the_kinds_their_documents_need() {
    let p = Profile::builtin();
    let roots = |role| kinds_for_view(&p, role).iter().map(|k| k.root.clone()).collect::<Vec<_>>();
    assert_eq!(roots(RoleName::Ops), ["service", "ingress", "httpRoute", "pdb", "claim"]);
    assert_eq!(roots(RoleName::Dev), ["service", "ingress", "httpRoute", "claim"], "no PDBs for dev");
}

#[test]
fn sections_are_checked_for_shape_and_known_fields() {
    let p = Profile::builtin();
    let t = p.role(RoleName::Ops).related.iter().find(|t| t.name == "expose").unwrap();
    assert!(check_section(t, &json!({"web": {"type": "NodePort"}, "gone": null})).is_empty());
    let problems: Vec<String> = check_section(t, &json!({"web": {"typ": "NodePort"}, "x": 3}))
        .into_iter()
        .map(|p| p.message)
        .collect();
    assert_eq!(problems.len(), 2, "{problems:?}");
    assert!(problems[0].starts_with("expose.web.typ: unknown field; expose has type, ports"), "{problems:?}");
    assert_eq!(check_section(t, &json!([1])).len(), 1);
}

#[test]
fn a_target_port_no_container_declares_is_said_so() {
    let p = Profile::builtin();
    let kind = p.kind("deploy").unwrap();
    let mut l = lists();
    l[0].1 =
        vec![json!({"metadata": {"name": "web", "namespace": "shop"}, "spec": {"selector": {"app": "web"},
        "ports": [{"port": 53, "protocol": "UDP", "targetPort": "dns"}, {"port": 81}]}})];
    let found = find(&p, kind, &workload(), &l);
    let e = endpoints(&p, kind, &workload(), &found);
    assert_eq!(e["web.shop.svc:53/UDP"], "no container port named dns");
    assert_eq!(e["web.shop.svc:81"], "port 81 (no container declares it)");
}

#[test]
fn wide_columns_name_the_objects_that_select_the_pods() {
    let p = Profile::builtin();
    let kind = p.kind("deploy").unwrap();
    let kinds = wide_kinds(&p, RoleName::Ops);
    assert_eq!(wide_headers(&kinds), ["SVC", "PDB"]);
    assert!(wide_kinds(&p, RoleName::Dev).is_empty(), "dev has no fields of them");
    assert_eq!(wide_cells(&p, &kinds, kind, &workload(), &lists()), ["web,web-admin", "web,front"]);
    assert_eq!(wide_cells(&p, &kinds, kind, &workload(), &[]), ["<none>", "<none>"]);
}

#[test]
fn services_that_select_nothing_are_never_matched() {
    let p = Profile::builtin();
    let kind = p.kind("deploy").unwrap();
    let svc =
        |name: &str, spec: Value| json!({"metadata": {"name": name, "namespace": "shop"}, "spec": spec});
    let lists = vec![(
        "service".to_string(),
        vec![
            svc("empty", json!({"selector": {}, "ports": [{"port": 80}]})),
            svc("absent", json!({"ports": [{"port": 80}]})),
            svc(
                "alias",
                json!({"type": "ExternalName", "externalName": "db.example.com", "selector": {"app": "web"}}),
            ),
            svc(
                "headless",
                json!({"clusterIP": "None", "selector": {"app": "web"}, "ports": [{"port": 80, "targetPort": 8080}]}),
            ),
        ],
    )];
    let found = find(&p, kind, &workload(), &lists);
    assert_eq!(
        names(&found, "service"),
        ["headless"],
        "an empty or absent selector, and ExternalName, select no pod"
    );
    let e = endpoints(&p, kind, &workload(), &found);
    assert_eq!(e, *json!({"headless.shop.svc:80": "app:8080"}).as_object().unwrap());
}

#[test]
fn an_ingress_with_a_default_backend_only_is_a_url_and_ports_by_name_are_kept() {
    let p = Profile::builtin();
    let kind = p.kind("deploy").unwrap();
    let mut lists = lists();
    lists[1].1 = vec![
        json!({"metadata": {"name": "catch-all", "namespace": "shop"},
               "spec": {"defaultBackend": {"service": {"name": "web", "port": {"name": "http"}}}}}),
        json!({"metadata": {"name": "bucket", "namespace": "shop"},
               "spec": {"defaultBackend": {"resource": {"apiGroup": "k8s.example.com", "kind": "Bucket", "name": "b"}}}}),
    ];
    let found = find(&p, kind, &workload(), &lists);
    assert_eq!(names(&found, "ingress"), ["catch-all"], "a resource backend names no Service");
    let e = endpoints(&p, kind, &workload(), &found);
    assert_eq!(e["http://*/"], "web.shop.svc:http");
    // The operator sees (and may change) where it routes.
    let view = ViewOptions { container: None, autoscaler: None, related: Some(&found) };
    let ops = project::document(&p, RoleName::Ops, kind, &workload(), &view);
    assert_eq!(ops["gateway"]["catch-all"]["defaultBackend"]["service"]["name"], "web", "{ops}");
}

#[test]
fn a_claim_the_pods_mount_that_is_not_there_is_shown_missing() {
    let p = Profile::builtin();
    let kind = p.kind("deploy").unwrap();
    let mut lists = lists();
    lists[4].1.retain(|c| object_name(c) != "web-data");
    let found = find(&p, kind, &workload(), &lists);
    let view = ViewOptions { container: None, autoscaler: None, related: Some(&found) };
    let dev = project::document(&p, RoleName::Dev, kind, &workload(), &view);
    assert_eq!(
        dev["readOnly"]["claims"]["web-data"],
        json!({"missing": "no PersistentVolumeClaim of this name in the namespace"})
    );
    // Claims not listed at all (the list failed): nothing is said of them.
    lists.remove(4);
    let found = find(&p, kind, &workload(), &lists);
    let view = ViewOptions { container: None, autoscaler: None, related: Some(&found) };
    let dev = project::document(&p, RoleName::Dev, kind, &workload(), &view);
    assert!(dev["readOnly"].get("claims").is_none(), "{dev}");
}

#[test]
fn a_kind_that_cannot_be_listed_names_what_the_view_leaves_out() {
    let p = Profile::builtin();
    let kind = |root: &str| p.related.iter().find(|k| k.root == root).unwrap();
    assert_eq!(left_out(&p, RoleName::Ops, kind("service")), "the view leaves out expose and gateway");
    assert_eq!(left_out(&p, RoleName::Ops, kind("pdb")), "the view leaves out disruptionBudget");
    assert_eq!(
        left_out(&p, RoleName::Ops, kind("claim")),
        "the view leaves out claimStorage and readOnly.claims"
    );
    assert_eq!(left_out(&p, RoleName::Dev, kind("service")), "the view leaves out readOnly.endpoints");
    assert_eq!(left_out(&p, RoleName::Dev, kind("ingress")), "the view leaves out readOnly.endpoints");
}

#[test]
fn an_object_two_workloads_use_names_the_other_one() {
    let p = Profile::builtin();
    let kind = p.kind("deploy").unwrap();
    let mut api = workload();
    api["metadata"]["name"] = json!("api");
    let mut elsewhere = workload();
    elsewhere["metadata"]["namespace"] = json!("other");
    elsewhere["metadata"]["name"] = json!("far");
    let mut db = workload();
    db["metadata"]["name"] = json!("db");
    db["spec"]["template"]["metadata"]["labels"] = json!({"app": "db"});
    db["spec"]["template"]["spec"]["volumes"] = json!([]);
    let workloads = [workload(), api, elsewhere, db];
    let all = lists();
    let related = |root: &str, name: &str| {
        let k = p.related.iter().find(|k| k.root == root).unwrap();
        let obj =
            all.iter().find(|(r, _)| r == root).unwrap().1.iter().find(|o| object_name(o) == name).unwrap();
        shared_with(&p, k, kind, "web", obj, &workloads)
    };
    assert_eq!(related("service", "web"), ["api"], "same namespace, selected, not itself");
    assert_eq!(related("claim", "web-data"), ["api"], "a claim both mount");
    assert_eq!(related("pdb", "web"), ["api"]);
    assert!(related("service", "other").is_empty());
}

#[test]
fn a_manifest_without_a_namespace_names_its_services_alone() {
    let p = Profile::builtin();
    let kind = p.kind("deploy").unwrap();
    let mut workload = workload();
    workload["metadata"].as_object_mut().unwrap().remove("namespace");
    let lists = vec![(
        "service".to_string(),
        vec![
            json!({"metadata": {"name": "web"}, "spec": {"selector": {"app": "web"}, "ports": [{"port": 80, "targetPort": 8080}]}}),
        ],
    )];
    let found = find(&p, kind, &workload, &lists);
    let e = endpoints(&p, kind, &workload, &found);
    assert_eq!(e, *json!({"web:80": "app:8080"}).as_object().unwrap(), "not web..svc:80");
}
