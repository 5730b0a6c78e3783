//! Tests across the core: whatever shape a server object has, nothing derived from it panics.

use serde_json::{Value, json};

use crate::core::hpa::{self, Autoscaler};
use crate::core::owners::{field_owners, yaml_with_owners};
use crate::core::project::{self, ViewOptions};
use crate::core::write::{Live, Writer, build, without_base};
use crate::core::{hpa_write, ownership, rows};
use crate::model::object;
use crate::model::roles::{KindInfo, Profile, RoleName};
use crate::model::target::Target;

fn fixture(name: &str) -> Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("tests/fixtures/{name}.yaml"));
    serde_yaml::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// Every path of `value`, as keys and indexes from the root.
fn paths(value: &Value, at: Vec<Value>, out: &mut Vec<Vec<Value>>) {
    out.push(at.clone());
    match value {
        Value::Object(m) => m.iter().for_each(|(k, v)| {
            let mut next = at.clone();
            next.push(json!(k));
            paths(v, next, out)
        }),
        Value::Array(a) => a.iter().enumerate().for_each(|(i, v)| {
            let mut next = at.clone();
            next.push(json!(i));
            paths(v, next, out)
        }),
        _ => {}
    }
}

fn replace(value: &mut Value, path: &[Value], new: Value) {
    let mut node = value;
    for step in path {
        node = match step {
            Value::String(k) => &mut node[k.as_str()],
            _ => &mut node[step.as_u64().unwrap() as usize],
        };
    }
    *node = new;
}

/// Everything a command derives from a server object, for each role.
fn derive_all(profile: &Profile, kind: &KindInfo, obj: &Value, hpas: &[Value]) {
    let hpa = Autoscaler::targeting(hpas, kind, obj);
    for role in RoleName::ALL {
        let view = ViewOptions { container: Some("app"), autoscaler: hpa.as_ref(), related: None };
        let doc = project::document(profile, role, kind, obj, &view);
        let live = Live {
            target: Target { kind, name: "web".into(), namespace: "shop".into() },
            object: obj.clone(),
            autoscaler: hpa.clone(),
            related: None,
        };
        let writer = Writer::new(profile, role, None, true).unwrap();
        for doc in [doc.clone(), without_base(doc.clone())] {
            if let Ok((plan, body)) = build(profile, &writer, &live, &doc) {
                let _ = object::differing_paths(obj, &body);
                let _ = ownership::write_patch(obj, &plan.send, &plan.send);
            }
            if let (Ok(Some((plan, _))), Some(hpa)) = (hpa_write::build(profile, &writer, &live, &doc), &hpa)
            {
                let _ = ownership::write_patch(&hpa.object, &plan.send, &plan.send);
                let _ = hpa::outside_section(&hpa.object);
            }
        }
        let layout = rows::Layout { role, wide: true, all_namespaces: true, with_controller: true };
        let now = k8s_openapi::jiff::Timestamp::now();
        let _ = rows::value_rows(profile, &layout, kind, obj, hpa.as_ref(), now);
    }
    let outside = project::without_role_fields(profile, RoleName::Dev, kind, obj);
    let _ = project::without_tool_keys(profile, kind, &outside);
    let doc = project::document(profile, RoleName::Dev, kind, obj, &ViewOptions::default());
    let _ = yaml_with_owners(&doc, &field_owners(profile, kind, obj, None));
}

/// A server may answer with any shape below the top level (the top level is checked when the
/// answer arrives): no value anywhere in the object or the HPA may make a command panic.
#[test]
fn server_objects_of_any_shape_never_panic() {
    let profile = Profile::builtin();
    // A number or a boolean fails the same checks a string does.
    let replacements = [json!(null), json!([1, "x"]), json!("x"), json!({})];
    let hpa = fixture("hpa-shop");
    let mut panics = Vec::new();
    for name in ["sidecars", "cj"] {
        let obj = fixture(name);
        let kind = profile.kind(obj["kind"].as_str().unwrap()).unwrap();
        let mut all = Vec::new();
        paths(&obj, Vec::new(), &mut all);
        for path in all.iter().filter(|p| !p.is_empty()) {
            for new in &replacements {
                let mut changed = obj.clone();
                replace(&mut changed, path, new.clone());
                let outcome = std::panic::catch_unwind(|| {
                    derive_all(&profile, kind, &changed, std::slice::from_ref(&hpa))
                });
                if outcome.is_err() {
                    panics.push(format!("{name} {path:?} = {new}"));
                }
            }
        }
    }
    let deploy = fixture("sidecars");
    let kind = profile.kind("deploy").unwrap();
    let mut hpa_paths = Vec::new();
    paths(&hpa, Vec::new(), &mut hpa_paths);
    for path in hpa_paths.iter().filter(|p| !p.is_empty()) {
        for new in &replacements {
            let mut changed = hpa.clone();
            replace(&mut changed, path, new.clone());
            let outcome = std::panic::catch_unwind(|| {
                derive_all(&profile, kind, &deploy, std::slice::from_ref(&changed))
            });
            if outcome.is_err() {
                panics.push(format!("hpa {path:?} = {new}"));
            }
        }
    }
    assert!(panics.is_empty(), "{} panics, e.g. {:#?}", panics.len(), &panics[..panics.len().min(20)]);
}
