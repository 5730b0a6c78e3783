use serde_json::{Value, json};

use super::*;

fn deploy(image: &str, replicas: i64, sa: Option<&str>) -> Value {
    let mut obj = json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "shop", "labels": {"app": "web"}},
        "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": "web"}},
                 "template": {"metadata": {"labels": {"app": "web"}},
                              "spec": {"containers": [{"name": "app", "image": image,
                                                       "env": [{"name": "MODE", "value": "prod"}]}]}}}
    });
    if let Some(sa) = sa {
        obj["spec"]["template"]["spec"]["serviceAccountName"] = json!(sa);
    }
    obj
}

fn set(docs: Vec<Value>) -> BTreeMap<Key, Value> {
    objects(docs).0
}

#[test]
fn changes_are_grouped_by_the_role_that_owns_each_field() {
    let p = Profile::builtin();
    let config =
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cfg"}, "data": {"a": "1"}});
    let mut config2 = config.clone();
    config2["data"]["a"] = json!("2");
    let base = set(vec![deploy("shop:1", 2, None), config.clone(), json!({"values": true})]);
    let head = set(vec![
        deploy("shop:2", 3, Some("admin")),
        config2,
        json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web", "namespace": "shop"}}),
    ]);
    let changes = compare(&p, &base, &head);
    let by_object: Vec<(&str, Status)> = changes.iter().map(|c| (c.object.as_str(), c.status)).collect();
    assert_eq!(
        by_object,
        [
            ("configmap/cfg", Status::Changed),
            ("service/web", Status::Added),
            ("deployment.apps/web", Status::Changed)
        ]
    );
    let web = &changes[2].changes;
    assert_eq!(web["dev"], json!(["containers.app.image"]));
    assert_eq!(web["ops"], json!(["scaler.replicas"]));
    assert_eq!(web[NO_ROLE], json!(["spec.template.spec.serviceAccountName"]));
    assert_eq!(web.keys().collect::<Vec<_>>(), ["dev", "ops", NO_ROLE], "roles in profile order, none last");
    assert_eq!(changes[0].changes[NO_ROLE], json!(["data.a"]));

    // A pull request of dev's changes only passes `--role dev`; anything else is named.
    let dev_only = set(vec![deploy("shop:2", 2, None), config]);
    let changes = compare(
        &p,
        &set(vec![
            deploy("shop:1", 2, None),
            json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cfg"}, "data": {"a": "1"}}),
        ]),
        &dev_only,
    );
    assert!(outside(&changes, "dev").is_empty(), "{changes:?}");
    assert_eq!(
        outside(&changes, "ops"),
        ["deployment.apps/web in namespace \"shop\": containers.app.image (dev)"]
    );
    let removed = compare(&p, &dev_only, &set(vec![deploy("shop:2", 2, None)]));
    assert_eq!(outside(&removed, "dev"), ["configmap/cfg removed"]);
}

#[test]
fn named_lists_differ_by_name_and_unchanged_objects_are_left_out() {
    let p = Profile::builtin();
    let a = deploy("shop:1", 2, None);
    let mut b = a.clone();
    b["spec"]["template"]["spec"]["containers"][0]["securityContext"] = json!({"privileged": true});
    b["spec"]["template"]["spec"]["containers"]
        .as_array_mut()
        .unwrap()
        .push(json!({"name": "sidecar", "image": "x:1"}));
    let changes = compare(&p, &set(vec![a.clone()]), &set(vec![b]));
    assert_eq!(
        changes[0].changes[NO_ROLE],
        json!([
            "spec.template.spec.containers[app].securityContext",
            "spec.template.spec.containers[sidecar]"
        ])
    );
    assert_eq!(changes[0].changes["dev"], json!(["containers.sidecar"]));
    assert!(compare(&p, &set(vec![a.clone()]), &set(vec![a])).is_empty());
    let text = report(&changes);
    assert!(text.starts_with("deployment.apps/web (namespace shop):\n  dev: containers.sidecar\n"), "{text}");
}

#[test]
fn a_statefulsets_claim_templates_are_attributed_field_by_field() {
    let p = Profile::builtin();
    let pg = |size: &str, class: &str, mode: &str| {
        json!({"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "pg"},
            "spec": {"selector": {"matchLabels": {"app": "pg"}},
                "template": {"metadata": {"labels": {"app": "pg"}}, "spec": {"containers": [{"name": "pg", "image": "postgres"}]}},
                "volumeClaimTemplates": [{"metadata": {"name": "data"}, "spec": {"accessModes": ["ReadWriteOnce"],
                    "storageClassName": class, "volumeMode": mode, "resources": {"requests": {"storage": size}}}}]}})
    };
    let base = set(vec![pg("5Gi", "standard", "Filesystem")]);
    let changes = compare(&p, &base, &set(vec![pg("10Gi", "fast", "Block")]));
    let c = &changes[0].changes;
    assert_eq!(c["dev"], json!(["readOnly.templateSize.data"]), "{c:?}");
    assert_eq!(c["ops"], json!(["readOnly.claimTemplateClass.data"]), "{c:?}");
    assert_eq!(c[NO_ROLE], json!(["spec.volumeClaimTemplates"]), "the rest is no role's: {c:?}");
    let dev_only = compare(&p, &base, &set(vec![pg("10Gi", "standard", "Filesystem")]));
    assert_eq!(dev_only[0].changes.keys().collect::<Vec<_>>(), ["dev"], "{dev_only:?}");
}

fn service(ports: Value, selector: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web", "namespace": "shop"},
           "spec": {"selector": {"app": selector}, "ports": ports}})
}

#[test]
fn related_objects_are_judged_by_the_related_traits_fields() {
    let p = Profile::builtin();
    let ingress = |host: &str| {
        json!({"apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
               "metadata": {"name": "web", "namespace": "shop"},
               "spec": {"rules": [{"host": host, "http": {"paths": [{"path": "/", "pathType": "Prefix",
                        "backend": {"service": {"name": "web", "port": {"number": 80}}}}]}}]}})
    };
    let pdb = |min: i64| {
        json!({"apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
               "metadata": {"name": "web", "namespace": "shop"},
               "spec": {"minAvailable": min, "selector": {"matchLabels": {"app": "web"}}}})
    };
    let pvc = |size: &str, class: &str| {
        json!({"apiVersion": "v1", "kind": "PersistentVolumeClaim",
               "metadata": {"name": "data", "namespace": "shop"},
               "spec": {"storageClassName": class, "accessModes": ["ReadWriteOnce"],
                        "resources": {"requests": {"storage": size}}}})
    };
    let base = set(vec![
        service(json!([{"port": 80, "targetPort": 8080}]), "web"),
        ingress("shop.example.com"),
        pdb(1),
        pvc("1Gi", "standard"),
    ]);
    let head = set(vec![
        service(json!([{"port": 80, "targetPort": 9090}]), "web"),
        ingress("www.example.com"),
        pdb(2),
        pvc("5Gi", "fast"),
    ]);
    let changes = compare(&p, &base, &head);
    let of = |object: &str| &changes.iter().find(|c| c.object == object).unwrap().changes;
    assert_eq!(of("service/web"), &json!({"ops": ["expose.web.ports"]}).as_object().unwrap().clone());
    assert_eq!(of("ingress.networking.k8s.io/web")["ops"], json!(["gateway.web.rules"]));
    assert_eq!(of("poddisruptionbudget.policy/web")["ops"], json!(["disruptionBudget.web.minAvailable"]));
    let claim = of("persistentvolumeclaim/data");
    assert_eq!(claim["dev"], json!(["claims.data.size"]));
    assert_eq!(claim["ops"], json!(["claimStorage.data.storageClassName"]));
    assert!(changes.iter().all(|c| !c.changes.contains_key(NO_ROLE)), "{changes:?}");

    // A Service's selector is no role's; tool-written annotations neither, a person's are ops'.
    let mut annotated = service(json!([{"port": 80, "targetPort": 8080}]), "api");
    annotated["metadata"]["annotations"] =
        json!({"kubectl.kubernetes.io/last-applied-configuration": "{}", "team": "b"});
    let changes = compare(&p, &base, &set(vec![annotated]));
    let svc = &changes.iter().find(|c| c.object == "service/web").unwrap().changes;
    assert_eq!(svc["ops"], json!(["expose.web.annotations"]));
    assert_eq!(
        svc[NO_ROLE],
        json!(["metadata.annotations", "spec.selector.app"]),
        "the selector and kubectl's annotation are outside the roles"
    );
}

#[test]
fn the_storage_split_holds_in_check_claim_volumes_dev_other_volumes_ops() {
    let p = Profile::builtin();
    let with_volumes = |claim: &str, config: &str| {
        let mut d = deploy("shop:1", 2, None);
        d["spec"]["template"]["spec"]["volumes"] = json!([
            {"name": "data", "persistentVolumeClaim": {"claimName": claim}},
            {"name": "cfg", "configMap": {"name": config}},
        ]);
        d
    };
    let base = set(vec![with_volumes("data", "cfg")]);
    let claim_changed = compare(&p, &base, &set(vec![with_volumes("data-2", "cfg")]));
    let web = &claim_changed[0].changes;
    assert_eq!(web.keys().collect::<Vec<_>>(), ["dev"], "{web:?}");
    assert!(web["dev"][0].as_str().unwrap().starts_with("claimVolumes.volumes"), "{web:?}");
    let config_changed = compare(&p, &base, &set(vec![with_volumes("data", "cfg-2")]));
    let web = &config_changed[0].changes;
    assert_eq!(web.keys().collect::<Vec<_>>(), ["ops"], "{web:?}");
    assert!(web["ops"][0].as_str().unwrap().starts_with("storage.volumes"), "{web:?}");
}

#[test]
fn an_added_or_removed_related_object_is_the_roles_that_may_create_it_with_the_fields_each_holds() {
    let p = Profile::builtin();
    let service = json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web", "namespace": "shop"},
                         "spec": {"selector": {"app": "web"}, "ports": [{"port": 80}]}});
    let pdb = json!({"apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
                     "metadata": {"name": "web", "namespace": "shop"},
                     "spec": {"minAvailable": 1, "selector": {"matchLabels": {"app": "web"}}}});
    let claim = json!({"apiVersion": "v1", "kind": "PersistentVolumeClaim",
                       "metadata": {"name": "data", "namespace": "shop"},
                       "spec": {"storageClassName": "fast", "accessModes": ["ReadWriteOnce"],
                                "resources": {"requests": {"storage": "1Gi"}}}});
    let base = set(vec![deploy("shop:1", 2, None), pdb]);
    let head = set(vec![deploy("shop:1", 2, None), service, claim]);
    let changes = compare(&p, &base, &head);
    let by = |object: &str| changes.iter().find(|c| c.object == object).unwrap();
    let svc = by("service/web");
    assert_eq!(svc.status, Status::Added);
    assert_eq!(svc.changes.keys().collect::<Vec<_>>(), ["ops"], "{svc:?}");
    assert!(strings(&svc.changes["ops"]).any(|f| f.starts_with("expose.web.")), "{svc:?}");
    let budget = by("poddisruptionbudget.policy/web");
    assert_eq!(budget.status, Status::Removed);
    assert_eq!(budget.changes["ops"], json!(["disruptionBudget.web.minAvailable"]));
    assert!(budget.changes.get(NO_ROLE).is_none(), "{budget:?}");
    // A claim holds fields of both roles: each is named with its own, and either may create it.
    let pvc = by("persistentvolumeclaim/data");
    assert_eq!(pvc.changes.keys().collect::<Vec<_>>(), ["dev", "ops"], "{pvc:?}");
    assert!(strings(&pvc.changes["dev"]).any(|f| f == "claims.data.size"), "{pvc:?}");
    assert!(strings(&pvc.changes["ops"]).any(|f| f.contains("storageClassName")), "{pvc:?}");
    // `--role ops` passes the Service and the budget; `--role dev` names them.
    assert!(outside(&changes, "ops").is_empty(), "{:?}", outside(&changes, "ops"));
    assert_eq!(
        outside(&changes, "dev"),
        [
            "service/web in namespace \"shop\" added",
            "poddisruptionbudget.policy/web in namespace \"shop\" removed"
        ]
    );
    assert!(report(&changes).contains("added: service/web (namespace shop) (ops)\n"), "{}", report(&changes));
}
