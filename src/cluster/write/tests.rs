use super::*;
use serde_json::json;

/// deploy/web at resourceVersion `rv`: the dev role's manager owns app's W and Y (by apply), the
/// creator everything it made (by update); `env` is app's env list.
fn web(rv: &str, env: Value, dev_env: &[&str]) -> Value {
    let dev_keys: serde_json::Map<String, Value> = dev_env
        .iter()
        .map(|n| (format!("k:{{\"name\":\"{n}\"}}"), json!({".": {}, "f:name": {}, "f:value": {}})))
        .collect();
    json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "shop", "uid": "u1", "resourceVersion": rv, "generation": 3,
            "managedFields": [
                {"manager": "creator", "operation": "Update", "time": "2026-01-01T00:00:00Z", "fieldsType": "FieldsV1",
                 "fieldsV1": {"f:spec": {"f:replicas": {}, "f:template": {"f:spec": {"f:containers": {
                    "k:{\"name\":\"app\"}": {".": {}, "f:name": {}, "f:image": {}, "f:env": {".": {}, "k:{\"name\":\"MODE\"}": {".": {}, "f:name": {}, "f:value": {}}}},
                    "k:{\"name\":\"proxy\"}": {".": {}, "f:name": {}, "f:image": {}}}}}}}},
                {"manager": "kubectl-oam-dev", "operation": "Apply", "time": "2026-01-02T00:00:00Z", "fieldsType": "FieldsV1",
                 "fieldsV1": {"f:spec": {"f:template": {"f:spec": {"f:containers": {
                    "k:{\"name\":\"app\"}": {".": {}, "f:name": {}, "f:env": dev_keys}}}}}}}]},
        "spec": {"replicas": 2, "template": {"spec": {"containers": [
            {"name": "app", "image": "nginx:1", "env": env},
            {"name": "proxy", "image": "envoy:1"}]}}},
        "status": {"observedGeneration": 3}
    })
}

fn live_of(object: Value) -> Live<'static> {
    let kind: &'static KindInfo = Box::leak(Box::new(Profile::builtin().kind("deploy").unwrap().clone()));
    Live {
        target: Target { kind, name: "web".into(), namespace: "shop".into() },
        object,
        autoscaler: None,
        related: None,
    }
}

fn env3(w: &str, y: &str) -> Value {
    json!([{"name": "MODE", "value": "prod"}, {"name": "W", "value": w}, {"name": "Y", "value": y}])
}

/// A dev write, decided from `basis` and again from `now`: the same requests?
fn same_write(basis: &Value, now: &Value, force: bool, change: impl Fn(&mut Value)) -> Result<bool> {
    let p = Profile::builtin();
    let writer = Writer::new(&p, RoleName::Dev, None, force).unwrap();
    let read = live_of(basis.clone());
    let mut doc = read.document(&p, RoleName::Dev, None);
    change(&mut doc);
    let then = decide(&p, &writer, &read, &doc)?;
    Ok(decide(&p, &writer, &live_of(now.clone()), &doc)?.same_requests(&then, &writer.manager))
}

/// `dev set env W=2`.
fn rebases(basis: &Value, now: &Value) -> Result<bool> {
    same_write(basis, now, false, |doc| doc["containers"]["app"]["env"]["W"] = json!("2"))
}

#[test]
fn a_raced_write_is_sent_again_when_only_others_fields_moved() {
    let basis = web("10", env3("1", "a"), &["W", "Y"]);
    // Status, another container's image (kubectl set image), the replica count and a new
    // variable of the creator's: the same requests at the new version.
    let mut now = basis.clone();
    now["metadata"]["resourceVersion"] = json!("17");
    now["status"]["observedGeneration"] = json!(4);
    now["spec"]["template"]["spec"]["containers"][1]["image"] = json!("envoy:2");
    now["spec"]["replicas"] = json!(5);
    now["spec"]["template"]["spec"]["containers"][0]["env"]
        .as_array_mut()
        .unwrap()
        .push(json!({"name": "Z", "value": "z"}));
    assert!(rebases(&basis, &now).unwrap());
}

#[test]
fn a_raced_write_is_decided_again_when_its_own_manager_moved() {
    let basis = web("10", env3("1", "a"), &["W", "Y"]);
    // A colleague under the same manager changed Y, which this write re-asserts: sending the old
    // value again would revert theirs.
    let changed = web("17", env3("1", "b"), &["W", "Y"]);
    assert!(!rebases(&basis, &changed).unwrap());
    // Or added X: the apply would release it (and the server delete it).
    let mut added = web("17", env3("1", "a"), &["W", "Y", "X"]);
    added["spec"]["template"]["spec"]["containers"][0]["env"]
        .as_array_mut()
        .unwrap()
        .push(json!({"name": "X", "value": "x"}));
    assert!(!rebases(&basis, &added).unwrap());
    // Someone changed W, the variable this write sets: refused as stale, never reverted.
    let stale = web("17", env3("9", "a"), &["W", "Y"]);
    let err = rebases(&basis, &stale).unwrap_err().to_string();
    assert!(err.contains("containers.app.env.W is now \"9\""), "{err}");
}

#[test]
fn a_raced_forced_removal_is_decided_again_when_its_list_moved() {
    // `dev set env MODE- --force-conflicts`: a JSON patch that removes the creator's MODE by its
    // place in the list (guarded by a test of its name).
    let remove_mode = |doc: &mut Value| {
        doc["containers"]["app"]["env"].as_object_mut().unwrap().remove("MODE");
    };
    let basis = web("10", env3("1", "a"), &["W", "Y"]);
    let mut appended = basis.clone();
    appended["metadata"]["resourceVersion"] = json!("17");
    appended["spec"]["template"]["spec"]["containers"][0]["env"]
        .as_array_mut()
        .unwrap()
        .push(json!({"name": "Z", "value": "z"}));
    assert!(same_write(&basis, &appended, true, remove_mode).unwrap(), "MODE is where it was");
    let mut inserted = basis.clone();
    inserted["metadata"]["resourceVersion"] = json!("17");
    inserted["spec"]["template"]["spec"]["containers"][0]["env"]
        .as_array_mut()
        .unwrap()
        .insert(0, json!({"name": "Z", "value": "z"}));
    assert!(!same_write(&basis, &inserted, true, remove_mode).unwrap(), "MODE moved");
}

#[test]
fn rejections_are_short() {
    let status: kube::core::Status = serde_json::from_value(json!({
        "code": 422, "message": format!("Job.batch \"once\" is invalid: spec.template: Invalid value: {}: field is immutable", "x".repeat(2000)),
        "details": {"causes": [{"reason": "FieldValueInvalid", "field": "spec.template",
                                "message": format!("Invalid value: core.PodTemplateSpec{{{}}}: field is immutable", "x".repeat(2000))}]}
    }))
    .unwrap();
    let p = Profile::builtin();
    let deploy = p.kind("deploy").unwrap();
    let body = json!({"spec": {"template": {"spec": {"containers": [{"name": "app"}, {"name": "proxy"}]}}}});
    assert_eq!(rejection(&status, &p, deploy, &body), "spec.template: field is immutable");
}

#[test]
fn rejections_keep_the_field_named_as_the_document_does() {
    let p = Profile::builtin();
    let deploy = p.kind("deploy").unwrap();
    let body = json!({"spec": {"template": {"spec": {"containers": [{"name": "app"}, {"name": "proxy"}]}}}});
    let reject = |status: Value| rejection(&serde_json::from_value(status).unwrap(), &p, deploy, &body);
    let typed = |path: &str| {
        json!({"code": 500, "message": format!(
        "failed to create typed patch object (shop/web; apps/v1, Kind=Deployment): {path}: expected numeric (int or float), got string")})
    };
    assert_eq!(
        reject(typed(".spec.replicas")),
        "scaler.replicas: expected numeric (int or float), got string"
    );
    assert_eq!(
        reject(typed(
            r#".spec.template.spec.containers[name="app"].ports[containerPort="eighty",protocol="TCP"].containerPort"#
        )),
        r#"containers.app.ports[containerPort="eighty",protocol="TCP"].containerPort: expected numeric (int or float), got string"#
    );
    // Keys may hold ": " and dots; the path ends outside brackets and quotes.
    assert_eq!(
        reject(typed(r#".spec.template.spec.containers[name="app"].env[name="A: B.C"].value"#)),
        r#"containers.app.env[name="A: B.C"].value: expected numeric (int or float), got string"#
    );
    // 422 causes name containers by index: the body's order gives the name.
    let invalid = json!({"code": 422, "message": "Deployment.apps \"web\" is invalid: …",
        "details": {"causes": [
            {"reason": "FieldValueInvalid", "field": "spec.template.spec.containers[1].ports[0].containerPort",
             "message": "Invalid value: 99999: must be between 1 and 65535, inclusive"},
            {"reason": "FieldValueInvalid", "field": "spec.minReadySeconds", "message": "must be greater than or equal to 0"},
            {"reason": "FieldValueInvalid", "field": "spec.template.spec.containers[7].image", "message": "x"},
            {"reason": "FieldValueInvalid", "field": "spec.selector", "message": "field is immutable"}]}});
    assert_eq!(
        reject(invalid),
        "containers.proxy.ports[0].containerPort: Invalid value: 99999: must be between 1 and 65535, inclusive; \
         rollout.minReadySeconds: must be greater than or equal to 0; \
         spec.template.spec.containers[7].image: x; spec.selector: field is immutable"
    );
    let quantity = json!({"code": 500, "message": "failed to convert new object (shop/web; apps/v1, Kind=Deployment) to proper version: unable to convert unstructured object to apps/v1, Kind=Deployment: quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"});
    assert!(reject(quantity).starts_with("quantities must match"));
}
