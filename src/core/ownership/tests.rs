use serde_json::{Value, json};

use super::base::{base64url, from_base64url};
use super::units::path_key;
use super::*;
use crate::model::managed::Step;
use crate::model::roles::Profile;
use crate::model::roles::RoleName;

/// A Deployment installed by helm 3 (an Update manager owning all it set), where the dev role
/// has since set app's image.
fn live() -> Value {
    json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {
            "name": "web", "namespace": "shop", "resourceVersion": "7",
            "labels": {"app": "web", "team": "a"},
            "managedFields": [
                {"manager": "helm", "operation": "Update", "time": "2026-01-01T00:00:00Z", "fieldsType": "FieldsV1",
                 "fieldsV1": {"f:metadata": {"f:labels": {".": {}, "f:app": {}, "f:team": {}}},
                              "f:spec": {"f:replicas": {}, "f:template": {"f:spec": {"f:containers": {
                                  "k:{\"name\":\"app\"}": {".": {}, "f:name": {}, "f:image": {},
                                      "f:env": {".": {}, "k:{\"name\":\"A\"}": {".": {}, "f:name": {}, "f:value": {}},
                                                         "k:{\"name\":\"B\"}": {".": {}, "f:name": {}, "f:value": {}}},
                                      "f:ports": {".": {}, "k:{\"containerPort\":80,\"protocol\":\"TCP\"}": {".": {}, "f:containerPort": {}, "f:protocol": {}}},
                                      "f:resources": {".": {}, "f:requests": {".": {}, "f:cpu": {}}}},
                                  "k:{\"name\":\"proxy\"}": {".": {}, "f:name": {}, "f:image": {}}}}}}}},
                {"manager": "kubectl-oam-dev", "operation": "Apply", "time": "2026-01-02T00:00:00Z", "fieldsType": "FieldsV1",
                 "fieldsV1": {"f:spec": {"f:template": {"f:spec": {"f:containers": {
                     "k:{\"name\":\"app\"}": {".": {}, "f:name": {}, "f:image": {}}}}}}}}
            ]
        },
        "spec": {"replicas": 2, "template": {"spec": {"containers": [
            {"name": "app", "image": "shop:1",
             "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}],
             "ports": [{"containerPort": 80, "protocol": "TCP"}],
             "resources": {"requests": {"cpu": "100m"}}},
            {"name": "proxy", "image": "envoy:1"}
        ]}}}
    })
}

fn container_mut<'a>(obj: &'a mut Value, name: &str) -> &'a mut Value {
    obj["spec"]["template"]["spec"]["containers"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|c| c["name"] == name)
        .unwrap()
}

fn dev_units(obj: &Value) -> Units {
    let p = Profile::builtin();
    units(&p, RoleName::Dev, p.kind("deploy").unwrap(), obj)
}

fn labels(units: &[Unit]) -> Vec<&str> {
    units.iter().map(|u| u.label.as_str()).collect()
}

/// Plans a dev write of `edit(live)` against `now`, with the base read from `read`.
fn dev_plan(
    read: &Value,
    now: &Value,
    edit: impl Fn(&mut Value),
    based: bool,
    allow: Permissions,
) -> WritePlan {
    let mut edited_obj = read.clone();
    edit(&mut edited_obj);
    let edited = dev_units(&edited_obj);
    let names = ["app".to_string(), "proxy".to_string()];
    let base = Base::of(&dev_units(read), &names, "7");
    let live_units = dev_units(now);
    let intent = Intent { edited: &edited, base: based.then_some(&base), containers: &names };
    let current = Current { object: now, units: &live_units, manager: "kubectl-oam-dev", autoscaled: None };
    plan(&intent, &current, allow)
}

#[test]
fn units_cut_fields_as_the_server_merges_them() {
    let u = dev_units(&live());
    assert_eq!(
        u.iter().map(|u| u.label.as_str()).collect::<Vec<_>>(),
        [
            "containers.app.image",
            "containers.app.env.A",
            "containers.app.env.B",
            "containers.app.ports[80/TCP]",
            "containers.app.resources.requests.cpu",
            "containers.proxy.image",
        ]
    );
    let p = Profile::builtin();
    let ops = units(&p, RoleName::Ops, p.kind("deploy").unwrap(), &live());
    assert_eq!(
        ops.iter().map(|u| u.label.as_str()).collect::<Vec<_>>(),
        ["scaler.replicas", "metadata.labels.app", "metadata.labels.team"]
    );
}

#[test]
fn what_a_write_sends() {
    let read = live();
    // (case, edit, based, expected sent units, expected changed)
    type Edit = fn(&mut Value);
    type Case<'a> = (&'a str, Edit, bool, &'a [&'a str], &'a [&'a str]);
    let cases: [Case; 6] = [
        ("unchanged: only what dev owns, at its live value", |_| {}, true, &["containers.app.image"], &[]),
        (
            "set env on a based document: the variable and what dev owns",
            |o| container_mut(o, "app")["env"][0]["value"] = json!("9"),
            true,
            &["containers.app.env.A", "containers.app.image"],
            &["containers.app.env.A"],
        ),
        (
            "a new image for proxy: proxy's image and app's owned image",
            |o| container_mut(o, "proxy")["image"] = json!("envoy:2"),
            true,
            &["containers.proxy.image", "containers.app.image"],
            &["containers.proxy.image"],
        ),
        (
            "an equal quantity is no change",
            |o| container_mut(o, "app")["resources"]["requests"]["cpu"] = json!("0.1"),
            true,
            &["containers.app.image"],
            &[],
        ),
        (
            "an empty value is the same as none",
            |o| container_mut(o, "app")["env"][1] = json!({"name": "B", "value": "2"}),
            true,
            &["containers.app.image"],
            &[],
        ),
        (
            "a document without a base is desired state: all of it is set",
            |_| {},
            false,
            &[
                "containers.app.image",
                "containers.app.env.A",
                "containers.app.env.B",
                "containers.app.ports[80/TCP]",
                "containers.app.resources.requests.cpu",
                "containers.proxy.image",
            ],
            &[],
        ),
    ];
    for (case, edit, based, send, changed) in cases {
        let plan = dev_plan(&read, &read, edit, based, Permissions::default());
        assert_eq!(labels(&plan.send), send, "{case}");
        assert_eq!(plan.changed, changed, "{case}");
        assert!(plan.stale.is_empty() && plan.held.is_empty(), "{case}: {plan:?}");
    }
}

#[test]
fn a_change_made_since_the_read_is_never_reverted() {
    let read = live();
    let mut now = live();
    container_mut(&mut now, "app")["image"] = json!("shop:2");
    now["metadata"]["managedFields"][0]["time"] = json!("2026-01-03T00:00:00Z");
    // Changing something else: the newer image is kept (sent at its live value, as dev owns it).
    let plan = dev_plan(
        &read,
        &now,
        |o| container_mut(o, "app")["env"][0]["value"] = json!("9"),
        true,
        Permissions::default(),
    );
    assert!(plan.stale.is_empty());
    let image = plan.send.iter().find(|u| u.label == "containers.app.image").unwrap();
    assert_eq!(image.value, "shop:2");
    // Changing the same field: refused, naming its value now and who set it; force does not help.
    let change = |o: &mut Value| container_mut(o, "app")["image"] = json!("shop:3");
    for force in [false, true] {
        let plan = dev_plan(&read, &now, change, true, Permissions { force, overwrite: false });
        assert_eq!(
            plan.stale,
            [Stale {
                label: "containers.app.image".into(),
                now: Some(json!("shop:2")),
                by: vec!["helm".into(), "kubectl-oam-dev".into()]
            }]
        );
    }
    assert!(
        dev_plan(&read, &now, change, true, Permissions { force: false, overwrite: true }).stale.is_empty()
    );
    // The colleague made the same change: nothing to refuse.
    let same = dev_plan(
        &read,
        &now,
        |o| container_mut(o, "app")["image"] = json!("shop:2"),
        true,
        Permissions::default(),
    );
    assert!(same.stale.is_empty());
    // Removing what someone changed since is stale too.
    let mut b_changed = live();
    container_mut(&mut b_changed, "app")["env"][1]["value"] = json!("3");
    let remove_b = |o: &mut Value| {
        container_mut(o, "app")["env"].as_array_mut().unwrap().remove(1);
    };
    let plan = dev_plan(&read, &b_changed, remove_b, true, Permissions::default());
    assert_eq!(labels_of_stale(&plan), ["containers.app.env.B"]);
}

fn labels_of_stale(plan: &WritePlan) -> Vec<&str> {
    plan.stale.iter().map(|s| s.label.as_str()).collect()
}

#[test]
fn removals_held_by_others_are_refused_or_forced() {
    let read = live();
    let remove_b = |o: &mut Value| {
        container_mut(o, "app")["env"].as_array_mut().unwrap().remove(1);
    };
    let plan = dev_plan(&read, &read, remove_b, true, Permissions::default());
    assert_eq!(
        plan.held,
        [HeldRemoval { label: "containers.app.env.B".into(), holders: vec!["helm".into()] }]
    );
    assert!(plan.remove.is_empty());
    assert_eq!(plan.changed, ["containers.app.env.B"]);
    let forced = dev_plan(&read, &read, remove_b, true, Permissions { force: true, overwrite: false });
    assert!(forced.held.is_empty());
    assert_eq!(labels(&forced.remove), ["containers.app.env.B"]);
    assert!(!labels(&forced.send).contains(&"containers.app.env.B"));
    // What only this role owns is released (the server removes it).
    let mut dev_owns_b = live();
    dev_owns_b["metadata"]["managedFields"][0]["fieldsV1"]["f:spec"]["f:template"]["f:spec"]["f:containers"]
        ["k:{\"name\":\"app\"}"]["f:env"]
        .as_object_mut()
        .unwrap()
        .remove("k:{\"name\":\"B\"}");
    dev_owns_b["metadata"]["managedFields"][1]["fieldsV1"]["f:spec"]["f:template"]["f:spec"]["f:containers"]
        ["k:{\"name\":\"app\"}"]["f:env"] =
        json!({".": {}, "k:{\"name\":\"B\"}": {".": {}, "f:name": {}, "f:value": {}}});
    let plan = dev_plan(&dev_owns_b, &dev_owns_b, remove_b, true, Permissions::default());
    assert!(plan.held.is_empty() && plan.remove.is_empty() && plan.releases);
    // A document without a base releases what dev owns and leaves out, in the containers it names.
    let intent_names = ["app".to_string()];
    let mut doc = dev_owns_b.clone();
    remove_b(&mut doc);
    let edited = dev_units(&doc);
    let live_units = dev_units(&dev_owns_b);
    let plan = super::plan(
        &Intent { edited: &edited, base: None, containers: &intent_names },
        &Current { object: &dev_owns_b, units: &live_units, manager: "kubectl-oam-dev", autoscaled: None },
        Permissions::default(),
    );
    assert!(plan.releases && !labels(&plan.send).contains(&"containers.app.env.B"));
}

#[test]
fn a_filtered_document_has_no_base_for_what_it_did_not_show() {
    let read = live();
    let mut now = live();
    container_mut(&mut now, "proxy")["image"] = json!("envoy:2");
    // Read with -c app, then proxy added by hand: set as desired, not judged stale.
    let only_app = ["app".to_string()];
    let mut app_view = read.clone();
    app_view["spec"]["template"]["spec"]["containers"].as_array_mut().unwrap().truncate(1);
    let base = Base::of(&dev_units(&app_view), &only_app, "7");
    let mut edited_obj = read.clone();
    container_mut(&mut edited_obj, "proxy")["image"] = json!("envoy:3");
    edited_obj["spec"]["template"]["spec"]["containers"].as_array_mut().unwrap().remove(0);
    let edited = dev_units(&edited_obj);
    let live_units = dev_units(&now);
    let names = ["proxy".to_string()];
    let plan = plan(
        &Intent { edited: &edited, base: Some(&base), containers: &names },
        &Current { object: &now, units: &live_units, manager: "kubectl-oam-dev", autoscaled: None },
        Permissions::default(),
    );
    assert!(plan.stale.is_empty(), "{plan:?}");
    assert_eq!(plan.changed, ["containers.proxy.image"]);
    assert!(plan.held.is_empty(), "app's units are not removed: the document did not speak for app");
}

#[test]
fn duplicate_keys_are_kept_unless_touched() {
    let mut dup = live();
    container_mut(&mut dup, "app")["env"].as_array_mut().unwrap().push(json!({"name": "A", "value": "x"}));
    let plan = dev_plan(
        &dup,
        &dup,
        |o| container_mut(o, "proxy")["image"] = json!("envoy:2"),
        true,
        Permissions::default(),
    );
    assert!(plan.duplicates.is_empty(), "{plan:?}");
    let plan = dev_plan(
        &dup,
        &dup,
        |o| container_mut(o, "app")["env"][0]["value"] = json!("2"),
        true,
        Permissions::default(),
    );
    assert_eq!(plan.duplicates, ["containers.app.env.A"]);
}

#[test]
fn a_key_the_document_repeats_is_refused_not_merged() {
    // A second mount at a path already mounted (another subPath): the API refuses it, and server-side
    // apply would merge the two by mountPath; the plan names it, even though nothing else changed.
    let mut obj = live();
    container_mut(&mut obj, "app")["volumeMounts"] = json!([{"name": "data", "mountPath": "/data"}]);
    let plan = dev_plan(
        &obj,
        &obj,
        |o| {
            container_mut(o, "app")["volumeMounts"]
                .as_array_mut()
                .unwrap()
                .push(json!({"name": "data", "mountPath": "/data", "subPath": "x"}))
        },
        true,
        Permissions::default(),
    );
    assert_eq!(plan.repeated, ["containers.app.volumeMounts[/data]"], "{plan:?}");
    let plan = dev_plan(
        &obj,
        &obj,
        |o| container_mut(o, "proxy")["image"] = json!("envoy:2"),
        true,
        Permissions::default(),
    );
    assert!(plan.repeated.is_empty(), "{plan:?}");
}

/// A name that appears twice and that the manager's apply holds cannot be sent: left out of an
/// unrelated write when someone else holds it too (it stays), refused when only that apply does
/// (leaving it out would delete every copy).
#[test]
fn duplicate_keys_the_role_applied_are_left_out_or_refused() {
    let mut dup = live();
    container_mut(&mut dup, "app")["env"].as_array_mut().unwrap().push(json!({"name": "A", "value": "x"}));
    let key = "k:{\"name\":\"A\"}";
    let entries = &mut dup["metadata"]["managedFields"];
    entries[1]["fieldsV1"]["f:spec"]["f:template"]["f:spec"]["f:containers"]["k:{\"name\":\"app\"}"]["f:env"] =
        json!({key: {}});
    let new_proxy = |o: &mut Value| container_mut(o, "proxy")["image"] = json!("envoy:2");
    let plan = dev_plan(&dup, &dup, new_proxy, true, Permissions::default());
    assert!(plan.duplicates.is_empty() && plan.duplicates_held.is_empty(), "{plan:?}");
    assert_eq!(labels(&plan.send), ["containers.proxy.image", "containers.app.image"]);
    assert!(plan.releases, "the role's apply lets go of it; helm keeps it");
    let helm_env = &mut dup["metadata"]["managedFields"][0]["fieldsV1"]["f:spec"]["f:template"]["f:spec"]["f:containers"]
        ["k:{\"name\":\"app\"}"]["f:env"];
    helm_env.as_object_mut().unwrap().remove(key);
    let plan = dev_plan(&dup, &dup, new_proxy, true, Permissions::default());
    assert_eq!(plan.duplicates_held, ["containers.app.env.A"]);
}

#[test]
fn the_autoscalers_count_is_left_to_it() {
    let p = Profile::builtin();
    let kind = p.kind("deploy").unwrap();
    let mut obj = live();
    let ops_units = |o: &Value| units(&p, RoleName::Ops, kind, o);
    let run = |read: &Value, now: &Value, replicas: Option<i64>, force: bool| {
        let mut edited_obj = read.clone();
        if let Some(r) = replicas {
            edited_obj["spec"]["replicas"] = json!(r);
        }
        let edited = ops_units(&edited_obj);
        let base = Base::of(&ops_units(read), &[], "7");
        let live_units = ops_units(now);
        plan(
            &Intent { edited: &edited, base: Some(&base), containers: &[] },
            &Current {
                object: now,
                units: &live_units,
                manager: "kubectl-oam-ops",
                autoscaled: Some("scaler.replicas"),
            },
            Permissions { force, overwrite: false },
        )
    };
    // The document hid the count (an autoscaler holds it): adding one is the autoscaler's conflict,
    // not a stale value.
    let mut hidden = obj.clone();
    hidden["spec"].as_object_mut().unwrap().remove("replicas");
    let mut edited_obj = obj.clone();
    edited_obj["spec"]["replicas"] = json!(9);
    let (edited, live_units) = (ops_units(&edited_obj), ops_units(&obj));
    let base = Base::of(&ops_units(&hidden), &[], "7");
    let scaled = plan(
        &Intent { edited: &edited, base: Some(&base), containers: &[] },
        &Current {
            object: &obj,
            units: &live_units,
            manager: "kubectl-oam-ops",
            autoscaled: Some("scaler.replicas"),
        },
        Permissions::default(),
    );
    assert!(scaled.stale.is_empty() && scaled.autoscaler_conflict, "{scaled:?}");
    let changed = run(&obj, &obj, Some(5), false);
    assert!(changed.autoscaler_conflict && changed.send.is_empty());
    assert_eq!(labels(&run(&obj, &obj, Some(5), true).send), ["scaler.replicas"]);
    obj["metadata"]["managedFields"]
        .as_array_mut()
        .unwrap()
        .push(json!({"manager": "kubectl-oam-ops", "operation": "Apply", "fieldsV1": {"f:spec": {"f:replicas": {}}}}));
    let kept = run(&obj, &obj, None, false);
    assert_eq!(labels(&kept.send), ["scaler.replicas"], "owned: kept at its live value");
    assert_eq!(kept.send[0].value, 2);
}

#[test]
fn bodies_keep_the_live_order_of_keyed_lists() {
    let obj = live();
    let u = dev_units(&obj);
    let pick = |l: &str| u.iter().find(|x| x.label == l).unwrap().clone();
    let mut body = json!({});
    insert_units(
        &mut body,
        &[pick("containers.proxy.image"), pick("containers.app.env.B"), pick("containers.app.env.A")],
    );
    order_like(&mut body, &obj);
    assert_eq!(
        body["spec"]["template"]["spec"]["containers"],
        json!([{"name": "app", "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}]},
               {"name": "proxy", "image": "envoy:1"}])
    );
}

#[test]
fn bases_round_trip_and_refuse_tampering() {
    let base = Base::of(&dev_units(&live()), &["app".into()], "7");
    let value = base.to_value();
    assert_eq!(Base::from_value(&value).unwrap(), base);
    assert!(value["digest"].as_str().unwrap().starts_with("v1."));
    for bad in [
        json!("x"),
        json!({"resourceVersion": "7"}),
        json!({"resourceVersion": "7", "digest": "v1.!!"}),
        json!({"resourceVersion": "7", "digest": "v2.AAAA"}),
        json!({"resourceVersion": "7", "digest": "v1.AAAAAA"}),
    ] {
        assert!(Base::from_value(&bad).is_err(), "{bad}");
    }
    for n in 0..20 {
        let bytes: Vec<u8> = (0..n).map(|i| (i * 37 + 11) as u8).collect();
        assert_eq!(from_base64url(&base64url(&bytes)).unwrap(), bytes, "{n}");
    }
}

#[test]
fn removal_patches_test_what_they_remove() {
    let obj = live();
    let u = dev_units(&obj);
    let pick = |l: &str| u.iter().find(|x| x.label == l).unwrap().clone();
    let patch = write_patch(&obj, &[pick("containers.app.env.A"), pick("containers.app.env.B")], &[]);
    assert_eq!(
        patch,
        json!([
            {"op": "test", "path": "/metadata/resourceVersion", "value": "7"},
            {"op": "test", "path": "/spec/template/spec/containers/0/name", "value": "app"},
            {"op": "test", "path": "/spec/template/spec/containers/0/env/1/name", "value": "B"},
            {"op": "remove", "path": "/spec/template/spec/containers/0/env/1"},
            {"op": "test", "path": "/spec/template/spec/containers/0/name", "value": "app"},
            {"op": "test", "path": "/spec/template/spec/containers/0/env/0/name", "value": "A"},
            {"op": "remove", "path": "/spec/template/spec/containers/0/env/0"}
        ])
    );
    // A map emptied by the removals goes whole.
    let p = Profile::builtin();
    let ops = units(&p, RoleName::Ops, p.kind("deploy").unwrap(), &obj);
    let all_labels: Vec<Unit> =
        ops.iter().filter(|x| x.label.starts_with("metadata.labels")).cloned().collect();
    assert_eq!(write_patch(&obj, &all_labels, &[])[1], json!({"op": "remove", "path": "/metadata/labels"}));
    // Removals and the changes that go with them, in one patch: a replaced value, a new item, a new map.
    let mut changed_obj = obj.clone();
    container_mut(&mut changed_obj, "app")["image"] = json!("shop:2");
    container_mut(&mut changed_obj, "app")["env"]
        .as_array_mut()
        .unwrap()
        .push(json!({"name": "C", "value": "3"}));
    container_mut(&mut changed_obj, "proxy")["resources"] = json!({"limits": {"cpu": "1"}});
    let c = dev_units(&changed_obj);
    let set: Vec<Unit> =
        ["containers.app.image", "containers.app.env.C", "containers.proxy.resources.limits.cpu"]
            .iter()
            .map(|l| c.iter().find(|x| x.label == *l).unwrap().clone())
            .collect();
    let patch = write_patch(&obj, &[pick("containers.app.env.B")], &set);
    assert_eq!(
        patch.as_array().unwrap()[3..],
        [
            json!({"op": "remove", "path": "/spec/template/spec/containers/0/env/1"}),
            json!({"op": "test", "path": "/spec/template/spec/containers/0/name", "value": "app"}),
            json!({"op": "replace", "path": "/spec/template/spec/containers/0/image", "value": "shop:2"}),
            json!({"op": "test", "path": "/spec/template/spec/containers/0/name", "value": "app"}),
            json!({"op": "add", "path": "/spec/template/spec/containers/0/env/-", "value": {"name": "C", "value": "3"}}),
            json!({"op": "test", "path": "/spec/template/spec/containers/1/name", "value": "proxy"}),
            json!({"op": "add", "path": "/spec/template/spec/containers/1/resources", "value": {"limits": {"cpu": "1"}}}),
        ]
    );
    let left = without_units(&obj, &[pick("containers.app.env.B")]);
    assert_eq!(
        left["spec"]["template"]["spec"]["containers"][0]["env"],
        json!([{"name": "A", "value": "1"}])
    );
}

#[test]
fn adopting_moves_ownership_to_the_role() {
    let obj = live();
    let u = dev_units(&obj);
    let all: Vec<&Unit> = u.iter().collect();
    let (fields, moved) =
        adopt(&obj, &all, &[], "kubectl-oam-dev", "apps/v1", "2026-02-01T00:00:00Z").unwrap();
    assert_eq!(moved.len(), 6);
    assert_eq!(
        moved[1],
        Moved { field: "containers.app.env.A".into(), from: vec!["helm".into()], by_update: false }
    );
    let helm = fields.as_array().unwrap().iter().find(|e| e["manager"] == "helm").unwrap();
    assert_eq!(
        helm["fieldsV1"],
        json!({"f:metadata": {"f:labels": {".": {}, "f:app": {}, "f:team": {}}},
               "f:spec": {"f:replicas": {}, "f:template": {"f:spec": {"f:containers": {
                   "k:{\"name\":\"app\"}": {".": {}, "f:name": {}},
                   "k:{\"name\":\"proxy\"}": {".": {}, "f:name": {}}}}}}}),
        "helm keeps ops fields and the containers' keys"
    );
    let dev = fields.as_array().unwrap().iter().find(|e| e["manager"] == "kubectl-oam-dev").unwrap();
    let app = &dev["fieldsV1"]["f:spec"]["f:template"]["f:spec"]["f:containers"]["k:{\"name\":\"app\"}"];
    assert_eq!(app["f:env"]["k:{\"name\":\"B\"}"], json!({".": {}, "f:name": {}, "f:value": {}}));
    assert_eq!(app["f:resources"], json!({"f:requests": {"f:cpu": {}}}));
    assert_eq!(dev["time"], "2026-02-01T00:00:00Z");
    let proxy = &dev["fieldsV1"]["f:spec"]["f:template"]["f:spec"]["f:containers"]["k:{\"name\":\"proxy\"}"];
    assert_eq!(proxy, &json!({".": {}, "f:name": {}, "f:image": {}}));
    // Nothing left to move: None.
    let mut after = obj.clone();
    after["metadata"]["managedFields"] = fields;
    assert!(adopt(&after, &all, &[], "kubectl-oam-dev", "apps/v1", "t").is_none());
}

/// A key that appears twice goes to the manager's Update entry, from its Apply entry too (where an
/// older adopt put it).
#[test]
fn adopting_a_duplicate_key_holds_it_by_update() {
    let mut obj = live();
    container_mut(&mut obj, "app")["env"].as_array_mut().unwrap().push(json!({"name": "A", "value": "x"}));
    let u = dev_units(&obj);
    let (twice, once): (Vec<&Unit>, Vec<&Unit>) = u.iter().partition(|u| u.label == "containers.app.env.A");
    let (fields, moved) = adopt(&obj, &once, &twice, "kubectl-oam-dev", "apps/v1", "t").unwrap();
    let a = moved.iter().find(|m| m.field == "containers.app.env.A").unwrap();
    assert_eq!((a.from.as_slice(), a.by_update), (["helm".to_string()].as_slice(), true));
    let env_of = |fields: &Value, operation: &str| {
        fields.as_array().unwrap().iter().find(|e| e["manager"] == "kubectl-oam-dev" && e["operation"] == operation).map(
            |e| e["fieldsV1"]["f:spec"]["f:template"]["f:spec"]["f:containers"]["k:{\"name\":\"app\"}"]["f:env"].clone(),
        )
    };
    let key = "k:{\"name\":\"A\"}";
    assert!(env_of(&fields, "Update").unwrap().get(key).is_some());
    assert!(env_of(&fields, "Apply").unwrap().get(key).is_none());
    // Held by the role's apply: moved to its Update entry.
    let mut older = obj.clone();
    older["metadata"]["managedFields"] = fields.clone();
    let apply = older["metadata"]["managedFields"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|e| e["operation"] == "Apply")
        .unwrap();
    apply["fieldsV1"]["f:spec"]["f:template"]["f:spec"]["f:containers"]["k:{\"name\":\"app\"}"]["f:env"]
        [key] = json!({});
    older["metadata"]["managedFields"]
        .as_array_mut()
        .unwrap()
        .retain(|e| e["operation"] != "Update" || e["manager"] == "helm");
    let (fields, moved) = adopt(&older, &once, &twice, "kubectl-oam-dev", "apps/v1", "t").unwrap();
    assert_eq!(
        moved,
        [Moved {
            field: "containers.app.env.A".into(),
            from: vec!["kubectl-oam-dev".into()],
            by_update: true
        }]
    );
    assert!(env_of(&fields, "Update").unwrap().get(key).is_some());
    assert!(env_of(&fields, "Apply").unwrap().get(key).is_none());
}

#[test]
fn releasing_hands_fields_back_or_drops_them_and_adopting_then_releasing_restores_helm() {
    let obj = live();
    let u = dev_units(&obj);
    let all: Vec<&Unit> = u.iter().collect();
    let (adopted, _) = adopt(&obj, &all, &[], "kubectl-oam-dev", "apps/v1", "t1").unwrap();
    let mut mine = obj.clone();
    mine["metadata"]["managedFields"] = adopted;
    let entry = |fields: &Value, manager: &str| {
        fields.as_array().unwrap().iter().find(|e| e["manager"] == manager).cloned()
    };
    // Back to helm: every dev field it had, and the one kubectl-oam-dev set alone too.
    let (back, moved) = release(&mine, &all, "kubectl-oam-dev", Some("helm"), "apps/v1", "t2").unwrap();
    assert_eq!(moved.len(), 6);
    assert!(moved.iter().all(|m| m.from == ["kubectl-oam-dev"]));
    assert!(entry(&back, "kubectl-oam-dev").is_none(), "nothing left, the entry goes");
    let helm = entry(&back, "helm").unwrap();
    let app = &helm["fieldsV1"]["f:spec"]["f:template"]["f:spec"]["f:containers"]["k:{\"name\":\"app\"}"];
    assert_eq!(app["f:env"]["k:{\"name\":\"A\"}"], json!({".": {}, "f:name": {}, "f:value": {}}));
    assert_eq!(helm["time"], "t2");
    assert_eq!(
        helm["operation"], obj["metadata"]["managedFields"][0]["operation"],
        "helm's own entry is reused"
    );
    // Only the image, to nobody: the values stay, only the ownership goes.
    let image: Vec<&Unit> = u.iter().filter(|u| u.label == "containers.app.image").collect();
    let (dropped, moved) = release(&mine, &image, "kubectl-oam-dev", None, "apps/v1", "t3").unwrap();
    assert_eq!(moved.len(), 1);
    let dev = entry(&dropped, "kubectl-oam-dev").unwrap();
    let app = &dev["fieldsV1"]["f:spec"]["f:template"]["f:spec"]["f:containers"]["k:{\"name\":\"app\"}"];
    assert!(app.get("f:image").is_none() && app.get("f:env").is_some());
    assert_eq!(
        dropped.as_array().unwrap().len(),
        mine["metadata"]["managedFields"].as_array().unwrap().len()
    );
    // A manager that owns none of them: None.
    assert!(release(&obj, &all, "kubectl-oam-ops", Some("helm"), "apps/v1", "t").is_none());
    // A new manager gets an Apply entry.
    let (to_new, _) = release(&mine, &image, "kubectl-oam-dev", Some("flux"), "apps/v1", "t4").unwrap();
    let flux = entry(&to_new, "flux").unwrap();
    assert_eq!((flux["operation"].as_str(), flux["apiVersion"].as_str()), (Some("Apply"), Some("apps/v1")));
}

/// `live()` with an init container (`migrate`, whose env helm set) and a native sidecar (`log`).
fn with_init_containers() -> Value {
    let mut obj = live();
    obj["spec"]["template"]["spec"]["initContainers"] = json!([
        {"name": "migrate", "image": "shop:1", "args": ["migrate"], "env": [{"name": "DB", "value": "main"}]},
        {"name": "log", "image": "fluent:1", "restartPolicy": "Always"}
    ]);
    obj["metadata"]["managedFields"][0]["fieldsV1"]["f:spec"]["f:template"]["f:spec"]["f:initContainers"] = json!({
        "k:{\"name\":\"migrate\"}": {".": {}, "f:name": {}, "f:image": {}, "f:args": {},
                                    "f:env": {".": {}, "k:{\"name\":\"DB\"}": {".": {}, "f:name": {}, "f:value": {}}}},
        "k:{\"name\":\"log\"}": {".": {}, "f:name": {}, "f:image": {}, "f:restartPolicy": {}}
    });
    obj
}

fn init_mut<'a>(obj: &'a mut Value, name: &str) -> &'a mut Value {
    obj["spec"]["template"]["spec"]["initContainers"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|c| c["name"] == name)
        .unwrap()
}

#[test]
fn init_containers_are_cut_and_merged_by_name_like_app_containers() {
    let obj = with_init_containers();
    let u = dev_units(&obj);
    let init: Vec<&str> =
        u.iter().map(|u| u.label.as_str()).filter(|l| l.starts_with("initContainers.")).collect();
    assert_eq!(
        init,
        [
            "initContainers.migrate.image",
            "initContainers.migrate.args",
            "initContainers.migrate.env.DB",
            "initContainers.log.image"
        ]
    );
    let image = u.get(&path_key(&[
        Step::Field("spec".into()),
        Step::Field("template".into()),
        Step::Field("spec".into()),
        Step::Field("initContainers".into()),
        Step::Key(json!({"name": "migrate"})),
        Step::Field("image".into()),
    ]));
    assert_eq!(image.map(|u| &u.value), Some(&json!("shop:1")), "keyed by name under initContainers");
    // What is not a dev field (a sidecar's restartPolicy) is no unit.
    assert!(u.iter().all(|u| !u.label.contains("restartPolicy")));

    let names = ["app".to_string(), "proxy".to_string(), "migrate".to_string(), "log".to_string()];
    let base = Base::of(&u, &names, "7");
    let plan_for = |now: &Value, edit: &dyn Fn(&mut Value), allow: Permissions| {
        let mut edited_obj = obj.clone();
        edit(&mut edited_obj);
        let edited = dev_units(&edited_obj);
        let live_units = dev_units(now);
        plan(
            &Intent { edited: &edited, base: Some(&base), containers: &names },
            &Current { object: now, units: &live_units, manager: "kubectl-oam-dev", autoscaled: None },
            allow,
        )
    };
    // A new image for the migration: that unit and what dev owns, nothing else of the init container.
    let set_migrate = |o: &mut Value| init_mut(o, "migrate")["image"] = json!("shop:2");
    let plan_set = plan_for(&obj, &set_migrate, Permissions::default());
    assert_eq!(labels(&plan_set.send), ["initContainers.migrate.image", "containers.app.image"]);
    assert_eq!(plan_set.changed, ["initContainers.migrate.image"]);
    // Changed by someone else since the read: refused, never reverted.
    let mut now = obj.clone();
    init_mut(&mut now, "migrate")["image"] = json!("shop:9");
    let stale = plan_for(&now, &set_migrate, Permissions::default());
    assert_eq!(labels_of_stale(&stale), ["initContainers.migrate.image"]);
    assert_eq!(stale.stale[0].by, ["helm"]);
    // Removing helm's variable from the init container: held, or forced through the JSON patch.
    let remove_db = |o: &mut Value| {
        init_mut(o, "migrate").as_object_mut().unwrap().remove("env");
    };
    let held = plan_for(&obj, &remove_db, Permissions::default());
    assert_eq!(
        held.held,
        [HeldRemoval { label: "initContainers.migrate.env.DB".into(), holders: vec!["helm".into()] }]
    );
    let forced = plan_for(&obj, &remove_db, Permissions { force: true, overwrite: false });
    let patch = write_patch(&obj, &forced.remove, &[]);
    assert_eq!(
        patch.as_array().unwrap()[1..],
        [
            json!({"op": "test", "path": "/spec/template/spec/initContainers/0/name", "value": "migrate"}),
            json!({"op": "test", "path": "/spec/template/spec/initContainers/0/env/0/name", "value": "DB"}),
            json!({"op": "remove", "path": "/spec/template/spec/initContainers/0/env/0"}),
        ]
    );
    // A document read with `-c log` speaks only for the sidecar.
    let only_log = ["log".to_string()];
    let mut log_view = obj.clone();
    log_view["spec"]["template"]["spec"]["containers"] = json!([]);
    log_view["spec"]["template"]["spec"]["initContainers"].as_array_mut().unwrap().remove(0);
    let log_base = Base::of(&dev_units(&log_view), &only_log, "7");
    let mut edited_obj = log_view.clone();
    init_mut(&mut edited_obj, "log")["image"] = json!("fluent:2");
    let edited = dev_units(&edited_obj);
    let live_units = dev_units(&obj);
    let log_plan = plan(
        &Intent { edited: &edited, base: Some(&log_base), containers: &only_log },
        &Current { object: &obj, units: &live_units, manager: "kubectl-oam-dev", autoscaled: None },
        Permissions::default(),
    );
    assert!(log_plan.held.is_empty() && log_plan.stale.is_empty(), "{log_plan:?}");
    assert_eq!(log_plan.changed, ["initContainers.log.image"]);
    // The body keys init containers by name, in their live order, beside the app containers.
    let mut body = json!({});
    insert_units(&mut body, &plan_set.send);
    order_like(&mut body, &obj);
    assert_eq!(
        body["spec"]["template"]["spec"],
        json!({"initContainers": [{"name": "migrate", "image": "shop:2"}],
               "containers": [{"name": "app", "image": "shop:1"}]})
    );
}

/// Review (recon): releasing some fields must not drop others. A port item applied with only its
/// key fields (`containerPort`, defaulted `protocol`) is a field the role owns, not "an item held
/// only by its keys" left over from the release.
#[test]
fn releasing_one_field_keeps_the_roles_other_fields_such_as_a_port_held_by_its_keys() {
    let obj = live();
    let u = dev_units(&obj);
    let all: Vec<&Unit> = u.iter().collect();
    let (adopted, _) = adopt(&obj, &all, &[], "kubectl-oam-dev", "apps/v1", "t1").unwrap();
    let mut mine = obj.clone();
    mine["metadata"]["managedFields"] = adopted;
    let image: Vec<&Unit> = u.iter().filter(|u| u.label == "containers.app.image").collect();
    let (dropped, moved) = release(&mine, &image, "kubectl-oam-dev", None, "apps/v1", "t3").unwrap();
    assert_eq!(moved.len(), 1, "only the image is reported");
    let dev = dropped.as_array().unwrap().iter().find(|e| e["manager"] == "kubectl-oam-dev").unwrap();
    let app = &dev["fieldsV1"]["f:spec"]["f:template"]["f:spec"]["f:containers"]["k:{\"name\":\"app\"}"];
    assert_eq!(
        app["f:ports"]["k:{\"containerPort\":80,\"protocol\":\"TCP\"}"],
        json!({".": {}, "f:containerPort": {}, "f:protocol": {}}),
        "the port was not named, yet its ownership went: {dev}"
    );
}
