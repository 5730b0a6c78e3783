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
