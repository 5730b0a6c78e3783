use serde_json::{Value, json};

use super::*;

fn deploy() -> Value {
    json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "labels": {"app": "web"}},
        "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}},
                 "template": {"metadata": {"labels": {"app": "web"}},
                              "spec": {"serviceAccountName": "web",
                                       "containers": [{"name": "app", "image": "shop:1",
                                                       "env": [{"name": "MODE", "value": "prod"},
                                                               {"name": "PORT", "value": "8080"}]}]}}}
    })
}

fn object(profile: &Profile) -> FileObject<'_> {
    let mut skipped = Skipped::default();
    workloads(profile, &[deploy()], &mut skipped).remove(0)
}

#[test]
fn a_changed_role_document_changes_only_its_fields_of_the_object() {
    let p = Profile::builtin();
    let obj = object(&p);
    type Edit = fn(&mut Value);
    // (role, change of the role document, change of the object it must give)
    let cases: Vec<(RoleName, Edit, Edit)> = vec![
        (
            RoleName::Dev,
            |d| d["containers"]["app"]["image"] = json!("shop:2"),
            |o| o["spec"]["template"]["spec"]["containers"][0]["image"] = json!("shop:2"),
        ),
        (
            RoleName::Dev,
            |d| {
                d["containers"]["app"]["env"].as_object_mut().unwrap().shift_remove("MODE");
            },
            |o| {
                o["spec"]["template"]["spec"]["containers"][0]["env"].as_array_mut().unwrap().remove(0);
            },
        ),
        (
            RoleName::Dev,
            |d| d["containers"]["app"]["env"]["DEBUG"] = json!("1"),
            |o| {
                o["spec"]["template"]["spec"]["containers"][0]["env"]
                    .as_array_mut()
                    .unwrap()
                    .push(json!({"name": "DEBUG", "value": "1"}))
            },
        ),
        (RoleName::Ops, |d| d["scaler"]["replicas"] = json!(5), |o| o["spec"]["replicas"] = json!(5)),
        (RoleName::Ops, |_| {}, |_| {}),
    ];
    for (role, edit_doc, edit_obj) in cases {
        let mut doc = view(&p, role, obj.kind, &obj.object, None, None);
        edit_doc(&mut doc);
        let mut expected = deploy();
        edit_obj(&mut expected);
        let got = with_document(&p, role, &obj, &doc).unwrap();
        assert_eq!(got, expected, "{role}: {doc}");
    }
}

#[test]
fn another_roles_field_and_a_read_only_field_are_refused_as_live() {
    let p = Profile::builtin();
    let obj = object(&p);
    let mut doc = view(&p, RoleName::Dev, obj.kind, &obj.object, None, None);
    doc["scaler"] = json!({"replicas": 5});
    let err = with_document(&p, RoleName::Dev, &obj, &doc).unwrap_err().to_string();
    assert!(err.contains("scaler: belongs to the ops role"), "{err}");

    let mut doc = view(&p, RoleName::Ops, obj.kind, &obj.object, None, None);
    doc["readOnly"]["selector"] = json!({"app": "other"});
    let err = with_document(&p, RoleName::Ops, &obj, &doc).unwrap_err().to_string();
    assert!(err.contains("readOnly.selector"), "{err}");
}

#[test]
fn workloads_skip_uncovered_kinds_and_non_objects_and_read_list_items() {
    let p = Profile::builtin();
    let config = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}});
    let service = json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"}});
    let list = json!({"apiVersion": "v1", "kind": "List", "items": [service.clone(), deploy()]});
    // Same kind name, another group: not the profile's Deployment.
    let other = json!({"apiVersion": "example.com/v1", "kind": "Deployment", "metadata": {"name": "x"}});
    let docs = vec![config, json!({"values": 1}), list, other, deploy()];
    let mut skipped = Skipped::default();
    let found = workloads(&p, &docs, &mut skipped);
    let places: Vec<Place> = found.iter().map(|o| o.place).collect();
    assert_eq!(places, vec![Place { document: 2, item: Some(1) }, Place { document: 4, item: None }]);
    assert_eq!(found[0].display(), "deployment.apps/web");
    assert_eq!(
        skipped.note().unwrap(),
        "note: objects of kinds no role covers were skipped (ConfigMap, Deployment, Service); 1 document(s) that are not Kubernetes objects were skipped"
    );
    let mut changed = docs[2].clone();
    put_in_document(&mut changed, found[0].place, json!({"new": true}));
    assert_eq!(changed["items"][1], json!({"new": true}));
    assert_eq!(changed["items"][0], docs[2]["items"][0]);
}

#[test]
fn a_view_of_a_file_has_no_base_and_no_missing_namespace() {
    let p = Profile::builtin();
    let obj = object(&p);
    let doc = view(&p, RoleName::Dev, obj.kind, &obj.object, None, None);
    assert!(doc.get("base").is_none() && doc.get("namespace").is_none(), "{doc}");
    assert_eq!(doc["containers"]["app"]["image"], "shop:1");
}

#[test]
fn a_partial_document_removes_only_within_what_it_names() {
    let p = Profile::builtin();
    let mut two = deploy();
    two["spec"]["template"]["spec"]["containers"]
        .as_array_mut()
        .unwrap()
        .push(json!({"name": "side", "image": "busybox", "env": [{"name": "A", "value": "1"}]}));
    let mut skipped = Skipped::default();
    let obj = workloads(&p, &[two.clone()], &mut skipped).remove(0);
    // Only container app, without env: app's env goes, side's stays.
    let doc = json!({"kind": "Deployment", "name": "web", "containers": {"app": {"image": "shop:1"}}});
    let got = with_document(&p, RoleName::Dev, &obj, &doc).unwrap();
    let mut expected = two.clone();
    expected["spec"]["template"]["spec"]["containers"][0].as_object_mut().unwrap().shift_remove("env");
    assert_eq!(got, expected);
    // An ops document of the scaler alone leaves the labels.
    let doc = json!({"kind": "Deployment", "name": "web", "scaler": {"replicas": 3}});
    let got = with_document(&p, RoleName::Ops, &obj, &doc).unwrap();
    let mut expected = two;
    expected["spec"]["replicas"] = json!(3);
    assert_eq!(got, expected);
}

#[test]
fn a_value_of_the_wrong_type_for_a_built_in_kind_is_refused() {
    let p = Profile::builtin();
    let obj = object(&p);
    let mut doc = view(&p, RoleName::Ops, obj.kind, &obj.object, None, None);
    doc["rollout"] = json!({"strategy": "Recreate"});
    let err = with_document(&p, RoleName::Ops, &obj, &doc).unwrap_err().to_string();
    assert!(err.contains("deployment.apps/web would not be a valid Deployment"), "{err}");
    doc["rollout"] = json!({"strategy": {"type": "Recreate"}});
    let got = with_document(&p, RoleName::Ops, &obj, &doc).unwrap();
    assert_eq!(got["spec"]["strategy"], json!({"type": "Recreate"}));
}

#[test]
fn the_files_services_pdbs_and_claims_are_the_workloads_related_objects() {
    let p = Profile::builtin();
    let mut with_claim = deploy();
    with_claim["spec"]["template"]["spec"]["volumes"] =
        json!([{"name": "data", "persistentVolumeClaim": {"claimName": "data"}}]);
    let docs = vec![
        with_claim,
        json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"},
               "spec": {"selector": {"app": "web"}, "ports": [{"port": 80, "targetPort": 8080}]}}),
        json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "other"},
               "spec": {"selector": {"app": "other"}, "ports": [{"port": 81}]}}),
        json!({"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": {"name": "web"},
               "spec": {"minAvailable": 1, "selector": {"matchLabels": {"app": "web"}}}}),
        json!({"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "data"},
               "spec": {"storageClassName": "fast", "resources": {"requests": {"storage": "1Gi"}}}}),
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cfg"}}),
    ];
    let mut skipped = Skipped::default();
    let mut found = workloads(&p, &docs, &mut skipped);
    let mut lists = Vec::new();
    related_objects(&p, &docs, &mut lists);
    let mut refs: Vec<&mut FileObject<'_>> = found.iter_mut().collect();
    find_related(&p, &mut refs, &lists, &mut skipped);
    let obj = &found[0];
    let ops = view(&p, RoleName::Ops, obj.kind, &obj.object, None, Some(&obj.related));
    assert_eq!(ops["expose"], json!({"web": {"ports": [{"port": 80, "targetPort": 8080}]}}), "{ops}");
    assert_eq!(ops["disruptionBudget"], json!({"web": {"minAvailable": 1}}));
    assert_eq!(ops["claimStorage"], json!({"data": {"storageClassName": "fast"}}));
    let dev = view(&p, RoleName::Dev, obj.kind, &obj.object, None, Some(&obj.related));
    assert_eq!(dev["claims"], json!({"data": {"size": "1Gi"}}), "{dev}");
    assert_eq!(dev["readOnly"]["endpoints"].as_object().unwrap().len(), 1, "{dev}");
    assert!(dev["readOnly"].get("claims").is_none(), "a file's claim has no live state: {dev}");
    // Service and PodDisruptionBudget were used (the unused Service too: its kind was); ConfigMap not.
    assert_eq!(skipped.kinds.iter().collect::<Vec<_>>(), ["ConfigMap"]);

    // A read-back of the view changes nothing; a changed section changes the Service (its own
    // document), the workload not; a section naming an object the files do not hold is refused.
    assert_eq!(with_document(&p, RoleName::Ops, obj, &ops).unwrap(), obj.object);
    assert_eq!(related_edits(&p, RoleName::Ops, obj, &ops).unwrap(), Vec::<Value>::new());
    let mut changed = ops.clone();
    changed["expose"]["web"]["ports"][0]["port"] = json!(8080);
    changed["expose"]["web"]["type"] = json!("NodePort");
    changed["disruptionBudget"]["web"] = json!({"maxUnavailable": 1});
    assert_eq!(with_document(&p, RoleName::Ops, obj, &changed).unwrap(), obj.object);
    let edits = related_edits(&p, RoleName::Ops, obj, &changed).unwrap();
    assert_eq!(edits.len(), 2, "{edits:?}");
    assert_eq!(edits[0]["spec"]["ports"], json!([{"port": 8080, "targetPort": 8080}]));
    assert_eq!(edits[0]["spec"]["type"], "NodePort");
    assert_eq!(edits[0]["spec"]["selector"], json!({"app": "web"}), "no role's fields stay");
    assert_eq!(edits[1]["spec"]["maxUnavailable"], 1);
    assert!(edits[1]["spec"].get("minAvailable").is_none(), "left out of the entry: removed");
    changed["expose"]["db"] = json!({"type": "ClusterIP"});
    let err = related_edits(&p, RoleName::Ops, obj, &changed).unwrap_err().to_string();
    assert!(
        err.contains("expose.db: no Service named \"db\" among the files' objects around it (it has web)"),
        "{err}"
    );
    // The developer's claims: the size.
    let mut dev2 = dev.clone();
    dev2["claims"]["data"]["size"] = json!("5Gi");
    let edits = related_edits(&p, RoleName::Dev, obj, &dev2).unwrap();
    assert_eq!(edits[0]["spec"]["resources"]["requests"]["storage"], "5Gi");
    assert_eq!(edits[0]["spec"]["storageClassName"], "fast", "ops' field stays");
}

#[test]
fn two_edits_of_one_object_keep_both_changes_and_a_clash_names_its_path() {
    let base = json!({"kind": "Service", "spec": {"type": "ClusterIP", "ports": [{"port": 80}], "x": 1}});
    // The first workload's edit changed the type; the second's (made from the file as read) the ports.
    let ours = json!({"kind": "Service", "spec": {"type": "NodePort", "ports": [{"port": 80}], "x": 1}});
    let theirs = json!({"kind": "Service", "spec": {"type": "ClusterIP", "ports": [{"port": 8080}], "x": 1}});
    let merged = merge_edits(&base, &ours, &theirs).unwrap();
    assert_eq!(merged["spec"], json!({"type": "NodePort", "ports": [{"port": 8080}], "x": 1}));
    // A field the first removed and the second left alone stays removed; alike changes are kept.
    let ours = json!({"kind": "Service", "spec": {"type": "ClusterIP", "ports": [{"port": 81}]}});
    let theirs = json!({"kind": "Service", "spec": {"type": "ClusterIP", "ports": [{"port": 81}], "x": 1}});
    assert_eq!(
        merge_edits(&base, &ours, &theirs).unwrap()["spec"],
        json!({"type": "ClusterIP", "ports": [{"port": 81}]})
    );
    // Both changed the ports, differently: refused with the path, never one over the other.
    let theirs = json!({"kind": "Service", "spec": {"type": "ClusterIP", "ports": [{"port": 82}], "x": 1}});
    assert_eq!(merge_edits(&base, &ours, &theirs), Err("spec.ports".to_string()));
}
