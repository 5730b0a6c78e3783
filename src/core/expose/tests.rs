use serde_json::json;

use super::*;
use crate::model::roles::Profile;

fn web() -> Value {
    json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "shop"},
        "spec": {
            "selector": {"matchLabels": {"app": "web"}},
            "template": {"metadata": {"labels": {"app": "web", "tier": "front"}}, "spec": {"containers": [
                {"name": "app", "image": "nginx", "ports": [{"name": "http", "containerPort": 8080}]},
                {"name": "proxy", "image": "envoy", "ports": [{"name": "admin", "containerPort": 9901}]}
            ]}}
        }
    })
}

fn opts<'a>(target_port: Option<&'a str>, service_type: Option<&'a str>) -> ExposeOptions<'a> {
    ExposeOptions { name: "web", port: 80, target_port, service_type, protocol: "TCP" }
}

#[test]
fn a_service_selects_the_workloads_pods_and_names_its_target_port() {
    let p = Profile::builtin();
    let kind = p.kind("deploy").unwrap();
    let body =
        service_body(&web(), kind, "shop", "deployment.apps/web", &opts(Some("http"), Some("NodePort")))
            .unwrap();
    assert_eq!(
        body,
        json!({
            "apiVersion": "v1", "kind": "Service",
            "metadata": {"name": "web", "namespace": "shop"},
            "spec": {"selector": {"app": "web"}, "type": "NodePort",
                     "ports": [{"port": 80, "targetPort": "http", "protocol": "TCP"}]}
        })
    );
    // Without --target-port the port itself; a number is a number.
    let plain = service_body(&web(), kind, "shop", "x", &opts(None, None)).unwrap();
    assert_eq!(plain["spec"]["ports"][0]["targetPort"], 80);
    assert!(plain["spec"].get("type").is_none(), "the server's default, ClusterIP");
    let numbered = service_body(&web(), kind, "shop", "x", &opts(Some("8080"), None)).unwrap();
    assert_eq!(numbered["spec"]["ports"][0]["targetPort"], 8080);
    assert!(selects(&body, &Value::Object(pod_selector(&web(), "x").unwrap())));
    assert!(!selects(&body, &json!({"app": "other"})));
}

#[test]
fn bad_ports_types_and_selectors_are_refused_naming_what_to_do() {
    let p = Profile::builtin();
    let kind = p.kind("deploy").unwrap();
    let err = |o: &ExposeOptions| {
        service_body(&web(), kind, "shop", "deployment.apps/web", o).unwrap_err().to_string()
    };
    assert!(err(&opts(Some("grpc"), None)).contains(
        "no container of deployment.apps/web has a port named \"grpc\" (named ports: http, admin)"
    ));
    assert!(err(&opts(Some("70000"), None)).contains("--target-port must be a port number from 1 to 65535"));
    assert!(
        err(&opts(None, Some("ExternalName")))
            .contains("--type ExternalName: use one of ClusterIP, NodePort, LoadBalancer")
    );
    assert!(err(&ExposeOptions { port: 0, ..opts(None, None) }).contains("--port must be a port number"));
    let mut no_labels = web();
    no_labels["spec"]["selector"] = json!({"matchExpressions": [{"key": "app", "operator": "Exists"}]});
    let e = service_body(&no_labels, kind, "shop", "deployment.apps/web", &opts(None, None))
        .unwrap_err()
        .to_string();
    assert!(e.contains("matchExpressions"), "{e}");
    let cron = json!({"kind": "CronJob", "metadata": {"name": "c"}, "spec": {}});
    let e = pdb_body(&cron, "shop", "c", "cronjob.batch/c", Some("1"), None).unwrap_err().to_string();
    assert!(e.contains("has no spec.selector"), "{e}");
    // A budget's selector holds matchExpressions: it copies the workload's whole selector.
    let pdb = pdb_body(&no_labels, "shop", "web", "x", Some("1"), None).unwrap();
    assert_eq!(pdb["spec"]["selector"], no_labels["spec"]["selector"]);
    assert!(selects(&pdb, &workload_selector(&no_labels, "x").unwrap()));
}

#[test]
fn a_disruption_budget_takes_a_count_or_a_percentage() {
    let body = pdb_body(&web(), "shop", "web", "x", Some("50%"), None).unwrap();
    assert_eq!(
        body,
        json!({
            "apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
            "metadata": {"name": "web", "namespace": "shop"},
            "spec": {"selector": {"matchLabels": {"app": "web"}}, "minAvailable": "50%"}
        })
    );
    assert_eq!(pdb_body(&web(), "shop", "web", "x", None, Some("1")).unwrap()["spec"]["maxUnavailable"], 1);
    for (min, max, expect) in [
        (Some("two"), None, "--min-available \"two\": use a count such as 2 or a percentage such as 50%"),
        (None, Some("150%"), "--max-unavailable \"150%\""),
        (None, Some("-1"), "--max-unavailable \"-1\""),
        (Some("1"), Some("1"), "give one of --min-available N and --max-unavailable N"),
        (None, None, "give one of"),
    ] {
        let err = pdb_body(&web(), "shop", "web", "x", min, max).unwrap_err().to_string();
        assert!(err.contains(expect), "{err} should mention {expect}");
    }
    assert!(selects(&body, &workload_selector(&web(), "x").unwrap()));
    let live = json!({"apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
        "metadata": {"name": "web", "uid": "u", "resourceVersion": "3", "managedFields": []},
        "spec": {"minAvailable": 1}, "status": {"currentHealthy": 2}});
    assert_eq!(
        shown(&live),
        json!({"apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
        "metadata": {"name": "web"}, "spec": {"minAvailable": 1}})
    );
}

#[test]
fn only_an_object_the_ops_manager_wrote_alone_is_deleted() {
    let entry = |manager: &str, subresource: Option<&str>, fields: Value| {
        let mut e =
            json!({"manager": manager, "operation": "Update", "fieldsType": "FieldsV1", "fieldsV1": fields});
        if let Some(s) = subresource {
            e["subresource"] = json!(s);
        }
        e
    };
    let spec = json!({"f:spec": {"f:selector": {}}});
    let status = json!({"f:status": {"f:currentHealthy": {}}});
    let with = |entries: Vec<Value>| json!({"metadata": {"name": "web", "managedFields": entries}});
    let ours = with(vec![
        entry("kubectl-oam-ops", None, spec.clone()),
        entry("kube-controller-manager", Some("status"), status.clone()),
        entry("some-controller", None, status),
        entry(
            "kube-controller-manager",
            None,
            json!({"f:metadata": {"f:finalizers": {".": {}, "v:\"service.kubernetes.io/load-balancer-cleanup\"": {}}}}),
        ),
    ]);
    assert!(other_managers(&ours, "kubectl-oam-ops").is_empty(), "status writers do not count");
    let theirs = with(vec![
        entry("kubectl-client-side-apply", None, spec.clone()),
        entry("kubectl-oam-ops", None, spec.clone()),
        entry("helm", None, json!({"f:metadata": {"f:labels": {}}})),
    ]);
    assert_eq!(other_managers(&theirs, "kubectl-oam-ops"), ["kubectl-client-side-apply", "helm"]);
}

#[test]
fn a_budget_covers_the_pods_its_selector_selects() {
    let p = Profile::builtin();
    let pods = pod_labels(&web(), p.kind("deploy").unwrap());
    assert_eq!(Value::Object(pods.clone()), json!({"app": "web", "tier": "front"}));
    let pdb = |selector: Value| json!({"kind": "PodDisruptionBudget", "spec": {"selector": selector}});
    assert!(covers(&pdb(json!({"matchLabels": {"app": "web"}})), &pods));
    assert!(covers(&pdb(json!({"matchLabels": {"tier": "front"}})), &pods), "another subset of its labels");
    assert!(covers(&pdb(json!({})), &pods), "an empty selector covers every pod");
    assert!(!covers(&pdb(json!({"matchLabels": {"app": "api"}})), &pods));
    let expr = |op: &str, values: Value| {
        pdb(json!({"matchExpressions": [{"key": "app", "operator": op, "values": values}]}))
    };
    assert!(covers(&expr("In", json!(["web", "api"])), &pods));
    assert!(!covers(&expr("NotIn", json!(["web"])), &pods));
    assert!(covers(&expr("Exists", json!([])), &pods));
    assert!(!covers(&expr("DoesNotExist", json!([])), &pods));
    assert!(!covers(&json!({"kind": "PodDisruptionBudget", "spec": {}}), &pods), "no selector: no pods");
}
