//! Workloads that really run: the local control plane's controllers, scheduler and kwok's nodes roll
//! Deployments out, run Jobs and delete namespaces.

use crate::harness::{Ns, managers_of, web_deployment};

fn rolled_out(ns: &Ns, what: &str) {
    ns.kubectl(&["rollout", "status", what, "--timeout=60s"]).ok();
}

/// The ReplicaSet names of a Deployment named `app`, from the server.
fn replicasets(ns: &Ns, app: &str) -> Vec<String> {
    let run = ns.kubectl(&["get", "rs", "-l", &format!("app={app}"), "-o", "name"]).ok();
    run.stdout.lines().map(|l| l.trim_start_matches("replicaset.apps/").to_string()).collect()
}

#[test]
fn a_deployments_replicaset_is_what_lists_and_owners_see() {
    let ns = Ns::new("workloads-rs");
    ns.create(&web_deployment("web"));
    rolled_out(&ns, "deploy/web");
    let rs = replicasets(&ns, "web");
    assert_eq!(rs.len(), 1, "{rs:?}");
    let rs = &rs[0];

    // Lists show the ReplicaSet the controller made, with the Deployment's containers.
    let list = ns.oam(&["dev", "list"]).ok().stdout;
    let rs_rows: Vec<&str> = list.lines().filter(|l| l.starts_with(&format!("{rs} "))).collect();
    assert_eq!(rs_rows.len(), 2, "one row per container:\n{list}");
    assert!(rs_rows.iter().any(|r| r.contains("ReplicaSet") && r.contains("nginx:1.25")), "{list}");
    let ops = ns.oam(&["ops", "list", "rs"]).ok().stdout;
    assert!(ops.lines().any(|l| l.starts_with(&format!("{rs} ")) && l.contains(" 2 ")), "{ops}");

    // Its fields belong to the controller that wrote them, outside both roles.
    let owners = ns.oam(&["owners", &format!("rs/{rs}")]).ok().stdout;
    let image = owners.lines().find(|l| l.starts_with("containers.app.image ")).unwrap_or_default();
    assert!(image.contains("kube-controller-manager") && image.contains("outside dev"), "{owners}");
    let obj = ns.get_json(&format!("rs/{rs}"));
    assert_eq!(obj["metadata"]["ownerReferences"][0]["name"], "web");
    assert_eq!(managers_of(&obj, &["f:spec", "f:replicas"]), ["kube-controller-manager"]);

    // A dev write to the Deployment rolls out a second ReplicaSet.
    ns.oam(&["dev", "set", "image", "deploy/web", "app=nginx:1.26", "--force-conflicts"]).ok();
    rolled_out(&ns, "deploy/web");
    assert_eq!(replicasets(&ns, "web").len(), 2);
}

#[test]
fn a_deleted_namespace_finishes_deleting() {
    let ns = Ns::new("workloads-delete");
    ns.create(&web_deployment("web"));
    rolled_out(&ns, "deploy/web");
    ns.kubectl(&["delete", "namespace", &ns.name, "--timeout=90s"]).ok();
    let left = ns.kubectl(&["get", "namespace", &ns.name, "--ignore-not-found", "-o", "name"]).ok();
    assert_eq!(left.stdout, "", "the namespace and its pods are gone");
}
