//! Property tests over generated workloads and edits (bounded: a few hundred cases, well under a
//! minute): projection round-trips, apply bodies stay inside the role, and no input makes a parser
//! or the write planner panic.

use proptest::prelude::*;
use serde_json::{Map, Value, json};

use crate::core::ownership::units;
use crate::core::project::{ViewOptions, decode_document, document, without_role_fields};
use crate::core::write::{Live, Writer, build, without_base};
use crate::model::roles::{Profile, RoleName};
use crate::model::target::Target;

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z]{1,8}",
        Just("on".to_string()),
        Just("1.10".to_string()),
        Just(String::new()),
        "[ -~]{0,12}",
        Just("$(A)".to_string()),
    ]
}

fn quantity() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("100m".to_string()),
        Just("0.1".to_string()),
        Just("1".to_string()),
        Just("64Mi".to_string()),
        Just("1Gi".to_string())
    ]
}

fn env_item() -> impl Strategy<Value = Value> {
    prop_oneof![
        ("[A-D]", text()).prop_map(|(n, v)| json!({"name": n, "value": v})),
        "[A-D]".prop_map(|n| json!({"name": n, "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}})),
    ]
}

fn container(name: &'static str) -> impl Strategy<Value = Value> {
    (
        "[a-z]{1,6}:[0-9]{1,2}",
        prop::collection::vec(env_item(), 0..4),
        prop::collection::vec(prop_oneof![Just(80), Just(443), Just(8080)], 0..3),
        prop::option::of(quantity()),
        prop::collection::vec(text(), 0..3),
    )
        .prop_map(move |(image, env, ports, cpu, args)| {
            let mut c = json!({"name": name, "image": image, "imagePullPolicy": "Always"});
            if !env.is_empty() {
                c["env"] = Value::Array(env);
            }
            let mut seen = Vec::new();
            let ports: Vec<Value> = ports
                .into_iter()
                .filter(|p| {
                    !seen.contains(p) && {
                        seen.push(*p);
                        true
                    }
                })
                .map(|p| json!({"containerPort": p, "protocol": "TCP"}))
                .collect();
            if !ports.is_empty() {
                c["ports"] = Value::Array(ports);
            }
            if let Some(cpu) = cpu {
                c["resources"] = json!({"requests": {"cpu": cpu}});
            }
            if !args.is_empty() {
                c["args"] = json!(args);
            }
            c
        })
}

fn labels() -> impl Strategy<Value = Map<String, Value>> {
    prop::collection::btree_map("[a-z]{1,5}(/[a-z]{1,3})?", text(), 0..4)
        .prop_map(|m| m.into_iter().map(|(k, v)| (k, Value::String(v))).collect())
}

/// A Deployment as the server returns it, with managedFields of a creator and, sometimes, the roles.
fn workload() -> impl Strategy<Value = Value> {
    (container("app"), prop::option::of(container("side")), labels(), 0..5i64, any::<bool>()).prop_map(
        |(app, side, labels, replicas, dev_owns_image)| {
            let mut containers = vec![app];
            containers.extend(side);
            let mut managed = vec![json!({"manager": "helm", "operation": "Update", "time": "2026-01-01T00:00:00Z",
                "fieldsType": "FieldsV1", "fieldsV1": {"f:spec": {"f:replicas": {}}, "f:metadata": {"f:labels": {}}}})];
            if dev_owns_image {
                managed.push(json!({"manager": "kubectl-oam-dev", "operation": "Apply", "time": "2026-01-02T00:00:00Z",
                    "fieldsType": "FieldsV1", "fieldsV1": {"f:spec": {"f:template": {"f:spec": {"f:containers": {
                        "k:{\"name\":\"app\"}": {".": {}, "f:name": {}, "f:image": {}}}}}}}}));
            }
            json!({
                "apiVersion": "apps/v1", "kind": "Deployment",
                "metadata": {"name": "web", "namespace": "shop", "uid": "u-1", "resourceVersion": "7",
                             "labels": labels, "managedFields": managed},
                "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": "web"}},
                         "template": {"metadata": {"labels": {"app": "web"}},
                                      "spec": {"containers": containers, "serviceAccountName": "web"}}}
            })
        },
    )
}

/// Any JSON value, for documents and bases of any shape.
fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        text().prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 32, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(
                prop_oneof![
                    Just("containers".to_string()),
                    Just("app".to_string()),
                    Just("env".to_string()),
                    Just("metadata".to_string()),
                    Just("base".to_string()),
                    "[a-z]{1,6}"
                ],
                inner,
                0..4
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// An edit a person might make to a role document.
fn edit() -> impl Strategy<Value = (u8, String)> {
    (0..6u8, text())
}

fn apply_edit(doc: &mut Value, (what, value): &(u8, String)) {
    match what {
        0 => doc["containers"]["app"]["image"] = json!(format!("img:{}", value.len())),
        1 => {
            if let Some(env) = doc["containers"]["app"]["env"].as_object_mut() {
                env.insert("NEW".into(), json!(value));
            }
        }
        2 => {
            if let Some(env) = doc["containers"]["app"]["env"].as_object_mut() {
                let first = env.keys().next().cloned();
                if let Some(k) = first {
                    env.shift_remove(&k);
                }
            }
        }
        3 => doc["metadata"]["labels"]["edited"] = json!(value),
        4 => doc["scaler"]["replicas"] = json!(value.len()),
        _ => {
            if let Some(c) = doc["containers"].as_object_mut() {
                c.shift_remove("side");
            }
        }
    }
}

/// Is `v` only structure (maps, and list items holding nothing but their `name`)?
fn only_structure(v: &Value) -> bool {
    match v {
        Value::Object(m) => m.iter().all(|(k, v)| k == "name" && v.is_string() || only_structure(v)),
        Value::Array(items) => items.iter().all(only_structure),
        _ => false,
    }
}

fn live(profile: &Profile, obj: &Value) -> Live<'static> {
    let profile: &'static Profile = Box::leak(Box::new(profile.clone()));
    let kind = profile.kind("deploy").expect("built-in kind");
    Live {
        target: Target { kind, name: "web".into(), namespace: "shop".into() },
        object: obj.clone(),
        autoscaler: None,
        related: None,
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    /// (a) A role document decodes back to exactly the role's fields of the object.
    #[test]
    fn projection_round_trips(obj in workload()) {
        let p = Profile::builtin();
        let kind = p.kind("deploy").unwrap();
        for role in RoleName::ALL {
            let doc = document(&p, role, kind, &obj, &ViewOptions::default());
            let (fields, problems) = decode_document(&p, role, kind, &obj, &doc);
            // Only the generator's non-strings in env values can be problems; it makes none.
            prop_assert!(problems.is_empty(), "{problems:?}");
            let canon = |u: &crate::core::ownership::Units| {
                let mut v: Vec<(String, String)> =
                    u.iter().map(|x| (x.key().to_string(), crate::format::canonical::canonical_json(&x.value))).collect();
                v.sort();
                v
            };
            prop_assert_eq!(canon(&units(&p, role, kind, &fields)), canon(&units(&p, role, kind, &obj)));
        }
    }

    /// (b) Whatever is edited, with or without a base, forced or not, the body holds only the role's
    /// fields (and the identity every apply needs).
    #[test]
    fn bodies_stay_inside_the_role(obj in workload(), edits in prop::collection::vec(edit(), 0..4), based in any::<bool>(), force in any::<bool>()) {
        let p = Profile::builtin();
        let kind = p.kind("deploy").unwrap();
        let live = live(&p, &obj);
        for role in RoleName::ALL {
            let mut doc = document(&p, role, kind, &obj, &ViewOptions::default());
            for e in &edits {
                apply_edit(&mut doc, e);
            }
            if !based {
                doc = without_base(doc);
            }
            let writer = Writer::new(&p, role, None, force).unwrap();
            // Refusals (other role's keys, held removals, stale values) are fine; a body is checked.
            if let Ok((_, mut body)) = build(&p, &writer, &live, &doc) {
                for key in ["apiVersion", "kind"] {
                    body.as_object_mut().unwrap().remove(key);
                }
                let meta = body["metadata"].as_object_mut().unwrap();
                for key in ["name", "namespace", "uid", "resourceVersion"] {
                    meta.remove(key);
                }
                let outside = without_role_fields(&p, role, kind, &body);
                prop_assert!(only_structure(&outside), "{role} body outside its role: {outside}");
            }
        }
    }

    /// (c) No text makes the YAML reader or the editor's read-back panic.
    #[test]
    fn parsing_any_text_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        let text = String::from_utf8_lossy(&bytes);
        let _ = crate::format::yaml::parse_documents(&text, "fuzz");
        let objects = [crate::core::edit::Shown { kind: "Deployment".into(), name: "web".into(), namespace: "shop".into(), label: "deployment.apps/web".into(), text: "kind: Deployment\nname: web\n".into() }];
        let _ = crate::core::edit::read_stream(&Profile::builtin(), &objects, &text);
        let _ = crate::commands::apply::parse_documents(&text, "fuzz");
    }

    /// (c) No document or base of any shape makes decoding or planning panic.
    #[test]
    fn documents_of_any_shape_never_panic(obj in workload(), doc in any_json(), base in any_json()) {
        let p = Profile::builtin();
        let kind = p.kind("deploy").unwrap();
        let live = live(&p, &obj);
        let _ = crate::core::ownership::Base::from_value(&base);
        for role in RoleName::ALL {
            let _ = decode_document(&p, role, kind, &obj, &doc);
            let mut with_base = doc.clone();
            if let Some(m) = with_base.as_object_mut() {
                m.insert("kind".into(), json!("Deployment"));
                m.insert("name".into(), json!("web"));
                m.insert("base".into(), base.clone());
            }
            let writer = Writer::new(&p, role, None, true).unwrap();
            let _ = build(&p, &writer, &live, &with_base);
        }
    }
}
