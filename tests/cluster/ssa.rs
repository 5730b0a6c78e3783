//! The server-side apply primitives kubectl-oam is built on, checked on the real server via kube-rs.

use k8s_openapi::api::apps::v1::Deployment;
use kube::api::{Api, Patch, PatchParams};
use serde_json::json;

use crate::harness::{Ns, managers_of, web_deployment};

/// FieldsV1 path of the `app` container's image.
const IMAGE: [&str; 6] =
    ["f:spec", "f:template", "f:spec", "f:containers", "k:{\"name\":\"app\"}", "f:image"];

fn image_path() -> &'static [&'static str] {
    &IMAGE
}

#[tokio::test]
async fn apply_owns_fields_conflicts_without_force_and_moves_ownership_with_it() {
    let ns = Ns::new("ssa-primitives");
    ns.create(&web_deployment("web"));
    let api: Api<Deployment> = Api::namespaced(ns.client().await, &ns.name);
    let body = |image: &str| {
        json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web"},
            "spec": {"template": {"spec": {"containers": [{"name": "app", "image": image}]}}}
        })
    };

    // The same value as the creator: shared ownership, no conflict.
    api.patch("web", &PatchParams::apply("kubectl-oam-dev"), &Patch::Apply(body("nginx:1.25")))
        .await
        .expect("a partial apply with an equal value succeeds");
    let obj = ns.get_json("deploy/web");
    let owners = managers_of(&obj, image_path());
    assert!(owners.contains(&"kubectl-oam-dev".to_string()), "{owners:?}");
    assert!(owners.contains(&"kubectl-client-side-apply".to_string()), "{owners:?}");

    // A different value under another manager: 409 naming the field and its managers.
    let err = api
        .patch("web", &PatchParams::apply("other-team"), &Patch::Apply(body("nginx:1.27")))
        .await
        .expect_err("a different value for an owned field conflicts");
    let kube::Error::Api(status) = err else { panic!("expected an API error, got {err:?}") };
    assert_eq!(status.code, 409);
    let causes = status.details.expect("conflict details").causes;
    let fields: Vec<&str> = causes.iter().map(|c| c.field.as_str()).collect();
    assert!(fields.iter().all(|f| *f == ".spec.template.spec.containers[name=\"app\"].image"), "{fields:?}");
    let managers: Vec<&str> = causes.iter().map(|c| c.message.as_str()).collect();
    assert!(managers.iter().any(|m| m.contains("\"kubectl-oam-dev\"")), "{managers:?}");
    assert_eq!(ns.get_json("deploy/web")["spec"]["template"]["spec"]["containers"][0]["image"], "nginx:1.25");

    // With force the value changes and ownership moves to the forcing manager alone.
    api.patch("web", &PatchParams::apply("other-team").force(), &Patch::Apply(body("nginx:1.27")))
        .await
        .expect("force takes the field over");
    let obj = ns.get_json("deploy/web");
    assert_eq!(obj["spec"]["template"]["spec"]["containers"][0]["image"], "nginx:1.27");
    assert_eq!(managers_of(&obj, image_path()), ["other-team"]);
}

#[tokio::test]
async fn a_uid_precondition_stops_apply_from_creating_objects() {
    let ns = Ns::new("ssa-uid");
    let api: Api<Deployment> = Api::namespaced(ns.client().await, &ns.name);
    let body = json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "ghost", "uid": "00000000-0000-0000-0000-000000000000"},
        "spec": {"replicas": 1}
    });
    let err = api
        .patch("ghost", &PatchParams::apply("kubectl-oam-ops"), &Patch::Apply(body))
        .await
        .expect_err("no object is created");
    let kube::Error::Api(status) = err else { panic!("{err:?}") };
    assert_eq!(status.code, 409, "{status:?}");
    assert!(status.message.contains("uid mismatch"), "{}", status.message);
    assert!(ns.kubectl(&["get", "deploy/ghost"]).code != 0);
}
