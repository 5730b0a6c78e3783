use serde_json::{Value, json};

use super::*;
use crate::core::related::find;
use crate::core::write::Live;
use crate::model::roles::RoleName;

fn workload() -> Value {
    json!({"apiVersion": "apps/v1", "kind": "Deployment",
           "metadata": {"name": "web", "namespace": "shop", "resourceVersion": "5", "uid": "w1"},
           "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}},
                    "template": {"metadata": {"labels": {"app": "web"}},
                                 "spec": {"containers": [{"name": "app", "image": "a:1"}]}}}})
}

fn lists(min_available: i64) -> Vec<(String, Vec<Value>)> {
    let cli = |fields: Value| {
        json!([{"manager": "kubectl-client-side-apply", "operation": "Update", "time": "2026-01-01T00:00:00Z",
                "fieldsType": "FieldsV1", "fieldsV1": fields}])
    };
    vec![
        (
            "service".into(),
            vec![json!({"apiVersion": "v1", "kind": "Service",
            "metadata": {"name": "web", "namespace": "shop", "uid": "s1", "resourceVersion": "7",
                         "annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{}"},
                         "managedFields": cli(json!({"f:spec": {"f:type": {}, "f:ports": {".": {},
                             "k:{\"port\":80,\"protocol\":\"TCP\"}": {".": {}, "f:port": {}, "f:protocol": {}, "f:targetPort": {}},
                             "k:{\"port\":9090,\"protocol\":\"TCP\"}": {".": {}, "f:port": {}, "f:protocol": {}}}}}))},
            "spec": {"type": "ClusterIP", "clusterIP": "10.0.0.1", "selector": {"app": "web"},
                     "ports": [{"port": 80, "protocol": "TCP", "targetPort": 8080}, {"port": 9090, "protocol": "TCP", "targetPort": 9090}]}})],
        ),
        (
            "pdb".into(),
            vec![json!({"apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
            "metadata": {"name": "web", "namespace": "shop", "uid": "p1", "resourceVersion": "8",
                         "managedFields": cli(json!({"f:spec": {"f:minAvailable": {}, "f:selector": {}}}))},
            "spec": {"minAvailable": min_available, "selector": {"matchLabels": {"app": "web"}}}})],
        ),
    ]
}

fn live(p: &Profile, min_available: i64) -> Live<'_> {
    let kind = p.kind("deploy").unwrap();
    let object = workload();
    let related = find(p, kind, &object, &lists(min_available));
    Live {
        target: Target { kind, name: "web".into(), namespace: "shop".into() },
        object,
        autoscaler: None,
        related: Some(related),
    }
}

fn writer(p: &Profile, force: bool) -> Writer {
    Writer::new(p, RoleName::Ops, None, force).unwrap()
}

#[test]
fn an_unchanged_document_writes_nothing_and_a_change_sends_only_itself() {
    let p = Profile::builtin();
    let live = live(&p, 1);
    let doc = live.document(&p, RoleName::Ops, None);
    let writes = build(&p, &writer(&p, false), &live, &doc).unwrap();
    assert_eq!(writes.len(), 2, "each object the document names is decided");
    assert!(writes.iter().all(|w| !w.writes()), "get → apply unchanged writes nothing");

    let mut doc = doc;
    doc["disruptionBudget"]["web"]["minAvailable"] = json!(2);
    let writes = build(&p, &writer(&p, true), &live, &doc).unwrap();
    let pdb = writes.iter().find(|w| w.writes()).unwrap();
    assert_eq!(pdb.label(), "poddisruptionbudget/web");
    assert_eq!(
        pdb.body,
        json!({"apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
               "metadata": {"name": "web", "namespace": "shop", "uid": "p1", "resourceVersion": "8"},
               "spec": {"minAvailable": 2}}),
        "only the changed field: the selector and the rest stay their owners'"
    );
    assert!(!writes.iter().find(|w| w.kind.kind == "Service").unwrap().writes());
}

#[test]
fn a_stale_document_does_not_revert_and_removals_are_honest() {
    let p = Profile::builtin();
    let old = live(&p, 1);
    let doc = old.document(&p, RoleName::Ops, None);
    // Someone set minAvailable to 3 since the document was read; the document still says 1.
    let now = live(&p, 3);
    let writes = build(&p, &writer(&p, false), &now, &doc).unwrap();
    assert!(writes.iter().all(|w| !w.writes()), "the base says 1 was only read, not asked for");

    // A port removed from a Service whose ports kubectl's apply holds: refused without force.
    let mut doc = now.document(&p, RoleName::Ops, None);
    doc["expose"]["web"]["ports"].as_array_mut().unwrap().retain(|port| port["port"] != 9090);
    let err = build(&p, &writer(&p, false), &now, &doc).unwrap_err().to_string();
    assert!(err.contains("expose.web.ports[9090/TCP]") && err.contains("kubectl-client-side-apply"), "{err}");
    // Forced: a guarded JSON patch removes it; the other port is left alone.
    let writes = build(&p, &writer(&p, true), &now, &doc).unwrap();
    let svc = writes.iter().find(|w| w.kind.kind == "Service").unwrap();
    let patch = svc.removal.as_ref().expect("a removal patch").to_string();
    assert!(patch.contains("/spec/ports/1") && !patch.contains("/spec/ports/0\""), "{patch}");
}

#[test]
fn objects_that_do_not_belong_to_the_workload_are_refused_naming_those_that_do() {
    let p = Profile::builtin();
    let live = live(&p, 1);
    let mut doc = live.document(&p, RoleName::Ops, None);
    doc["expose"]["db"] = json!({"type": "NodePort"});
    doc["disruptionBudget"]["web"]["minAvailable"] = json!(2);
    let err = build(&p, &writer(&p, false), &live, &doc).unwrap_err().to_string();
    assert!(
        err.contains("expose.db: no Service named \"db\" belongs to deployment.apps/web in namespace \"shop\" (it has web)"),
        "{err}"
    );
    // A new name is not created silently: the message says how to create one.
    assert!(err.contains("never creates them: create a Service with `kubectl oam ops expose deployment.apps/web --port PORT --name db -n shop`"), "{err}");
    assert!(err.contains("nothing was applied"), "{err}");
    let mut doc = live.document(&p, RoleName::Ops, None);
    doc["disruptionBudget"]["new"] = json!({"minAvailable": 1});
    let err = build(&p, &writer(&p, false), &live, &doc).unwrap_err().to_string();
    assert!(
        err.contains("`kubectl oam ops disruption-budget deployment.apps/web --min-available N -n shop`"),
        "{err}"
    );
    let mut doc = live.document(&p, RoleName::Ops, None);
    doc["gateway"]["web"] = json!({"rules": []});
    let mut with_ingresses = live.clone();
    with_ingresses.related.as_mut().unwrap().found.push(("ingress".into(), Vec::new()));
    let err = build(&p, &writer(&p, false), &with_ingresses, &doc).unwrap_err().to_string();
    assert!(
        err.contains("no Ingress or HTTPRoute named \"web\"") && err.contains("an Ingress with kubectl"),
        "{err}"
    );
    // A section of a kind whose list failed (a 403: the view warned) is refused, never dropped.
    let mut partial = live.clone();
    partial.related.as_mut().unwrap().found.retain(|(root, _)| root != "pdb");
    let doc = live.document(&p, RoleName::Ops, None);
    let err = build(&p, &writer(&p, false), &partial, &doc).unwrap_err().to_string();
    assert!(
        err.contains(
            "disruptionBudget.web: the poddisruptionbudgets of namespace \"shop\" could not be listed"
        ),
        "{err}"
    );
    // Tool-written keys may not be written by a role.
    let mut doc = live.document(&p, RoleName::Ops, None);
    doc["expose"]["web"]["annotations"] = json!({"kubectl.kubernetes.io/last-applied-configuration": "{}"});
    let err = build(&p, &writer(&p, false), &live, &doc).unwrap_err().to_string();
    assert!(err.contains("set by tools and controllers"), "{err}");
}

#[test]
fn server_fields_are_named_as_the_document_names_them() {
    let p = Profile::builtin();
    let pdb = &p.related.iter().find(|k| k.root == "pdb").unwrap().info;
    let svc = &p.related.iter().find(|k| k.root == "service").unwrap().info;
    assert_eq!(
        label(&p, pdb, "web", ".spec.minAvailable").as_deref(),
        Some("disruptionBudget.web.minAvailable")
    );
    assert_eq!(
        label(&p, svc, "web", ".spec.ports[port=80,protocol=\"TCP\"].targetPort").as_deref(),
        Some("expose.web.ports[port=80,protocol=\"TCP\"].targetPort")
    );
    assert_eq!(label(&p, svc, "web", ".spec.selector"), None);
    // What a write must leave alone: everything but the section's fields (tool keys stay).
    let t = p.role(RoleName::Ops).related.iter().find(|t| t.name == "expose").unwrap();
    let kind = p.related.iter().find(|k| k.root == "service").unwrap();
    let before = &lists(1)[0].1[0];
    let mut after = before.clone();
    after["spec"]["type"] = json!("NodePort");
    after["metadata"]["resourceVersion"] = json!("9");
    assert_eq!(outside_section(t, kind, before), outside_section(t, kind, &after));
    after["spec"]["selector"] = json!({"app": "x"});
    assert_ne!(outside_section(t, kind, before), outside_section(t, kind, &after));
}
