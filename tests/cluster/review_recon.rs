//! Review of the `recon` branch (writes that know who reconciles the object): each test shows one
//! defect found against the real control plane; they fail on the branch as reviewed.

use serde_json::json;

use crate::harness::Ns;
use crate::neighbours::{FIRST, helm};
use crate::reconcilers::{argo_app, argo_sync, crds, flux_apply, git_manifest, kustomization};
use crate::writes::container;

/// After one `--until-reconciled` write, the role's manager owns the field until Flux's next apply;
/// a second write of it within the interval is just as surely put back, yet it is neither refused
/// nor warned about (the warning only speaks of "those Git does not have").
#[test]
fn review_a_second_write_before_flux_reconciles_is_still_put_back_and_must_say_so() {
    crds();
    let ns = Ns::new("rv-flux-again");
    kustomization(&ns, json!([]));
    flux_apply(&ns, &git_manifest(""), &[]).ok();
    ns.oam(&[
        "dev",
        "set",
        "image",
        "deploy/web",
        "app=nginx:1.30",
        "--force-conflicts",
        "--until-reconciled",
    ])
    .ok();
    let again = ns.oam(&["dev", "set", "image", "deploy/web", "app=nginx:1.31"]);
    let said = again.code != 0 || again.stderr.contains("puts back containers.app.image");
    flux_apply(&ns, &git_manifest(""), &[]).ok();
    assert_eq!(container(&ns.get_json("deploy/web"), "app")["image"], "nginx:1.25", "Flux put it back");
    assert!(said, "the second write was reported as lasting: {again:?}");
}

/// `adopt` moves Argo CD's fields to the role; self-heal still puts Git's value back at once, but
/// the next write is neither refused nor warned.
#[test]
fn review_after_adopt_an_argo_cd_self_heal_is_still_named() {
    crds();
    let ns = Ns::new("rv-argo-adopt");
    argo_app(&ns, json!({}));
    argo_sync(&ns);
    ns.oam(&["ops", "adopt", "deploy/web"]).ok();
    let run = ns.oam(&["ops", "scale", "deploy/web", "--replicas", "4"]);
    let said = run.code != 0 || run.stderr.contains("puts back scaler.replicas");
    argo_sync(&ns);
    assert_eq!(ns.get_json("deploy/web")["spec"]["replicas"], 2, "self-heal put it back");
    assert!(said, "written as if it lasted: {run:?}");
}

/// `kustomize.toolkit.fluxcd.io/reconcile: disabled` makes Flux skip the object (flux-apply says
/// "skipped"), as `ssa: Ignore` does; kubectl-oam still refuses the write.
#[test]
fn review_flux_reconcile_disabled_is_not_refused() {
    crds();
    let ns = Ns::new("rv-flux-disabled");
    kustomization(&ns, json!([]));
    flux_apply(&ns, &git_manifest(""), &[]).ok();
    ns.kubectl(&["annotate", "deploy/web", "kustomize.toolkit.fluxcd.io/reconcile=disabled"]).ok();
    let run = ns.oam(&["dev", "set", "image", "deploy/web", "app=nginx:1.30", "--force-conflicts"]);
    let flux = flux_apply(&ns, &git_manifest("kustomize.toolkit.fluxcd.io/reconcile: disabled"), &[]).ok();
    assert!(flux.stdout.contains("skipped"), "{flux:?}");
    assert_eq!(run.code, 0, "Flux leaves the object alone, yet: {run:?}");
}

/// With no Kustomization (deleted, or Flux not installed: the labels stay on the object), nothing
/// reconciles; kubectl-oam refuses "at its next reconcile (every interval)" and suggests
/// `flux suspend` on an object that does not exist.
#[test]
fn review_a_missing_kustomization_is_not_a_certain_revert() {
    crds();
    let ns = Ns::new("rv-flux-gone");
    flux_apply(&ns, &git_manifest(""), &[]).ok();
    let run = ns.oam(&["dev", "set", "image", "deploy/web", "app=nginx:1.30", "--force-conflicts"]);
    assert!(!run.stderr.contains("every interval"), "{run:?}");
    assert_eq!(run.code, 0, "refused although no Kustomization exists: {run:?}");
}

/// helm 3 upgrades with a client-side three-way patch (its managedFields entry is an Update): a
/// forced role write does not make the next upgrade fail, it is put back by it. The conflict hint
/// and the warning both say the upgrade fails.
#[test]
fn review_helm3_upgrades_do_not_fail_after_a_take_over_as_the_messages_claim() {
    let ns = Ns::new("rv-helm3");
    helm(&ns, "helm3", &["install", "web"], FIRST).ok();
    let conflict = ns.oam(&["dev", "set", "image", "deploy/web", "app=nginx:1.30"]).error();
    let run = ns.oam(&["dev", "set", "image", "deploy/web", "app=nginx:1.30", "--force-conflicts"]).ok();
    let next = "image: nginx:1.27\nreplicas: 2\nteam: a\nenv: {MODE: prod, EXTRA: '1'}\n";
    helm(&ns, "helm3", &["upgrade", "web"], next).ok();
    assert_eq!(container(&ns.get_json("deploy/web"), "app")["image"], "nginx:1.27", "the upgrade landed");
    assert!(!conflict.contains("blocks helm's next upgrade"), "{conflict}");
    assert!(!run.stderr.contains("fail on a conflict"), "{run:?}");
}

/// `dev release --to kubectl-oam-ops` plants dev's fields in ops's entry; every later ops write
/// (an apply without the image) then fails with "containers.app.image: Required value".
#[test]
fn review_release_to_another_roles_manager_is_refused() {
    let ns = Ns::new("rv-release-cross");
    ns.create(&crate::harness::web_deployment("web"));
    ns.oam(&["dev", "adopt", "deploy/web"]).ok();
    let run = ns.oam(&["dev", "release", "deploy/web", "containers.app.image", "--to", "kubectl-oam-ops"]);
    let ops = ns.oam(&["ops", "scale", "deploy/web", "--replicas", "3", "--force-conflicts"]);
    assert_eq!(ops.code, 0, "ops can no longer write: {ops:?}");
    assert_ne!(run.code, 0, "dev handed its field to ops's manager: {run:?}");
}

/// The HPA in Git is reconciled as much as the workload: `ops autoscale` is put back by Flux's next
/// apply, yet neither refused nor warned (only the workload's labels are looked at).
#[test]
fn review_a_reconciled_autoscaler_is_judged_too() {
    crds();
    let ns = Ns::new("rv-flux-hpa");
    kustomization(&ns, json!([]));
    let hpa = "apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {name: web}\nspec:\n  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}\n  minReplicas: 2\n  maxReplicas: 5\n";
    let git = format!("{}---\n{hpa}", git_manifest(""));
    flux_apply(&ns, &git, &[]).ok();
    let run = ns.oam(&["ops", "autoscale", "deploy/web", "--min", "3", "--max", "9", "--force-conflicts"]);
    flux_apply(&ns, &git, &[]).ok();
    assert_eq!(ns.get_json("hpa/web")["spec"]["maxReplicas"], 5, "Flux put the HPA back");
    assert!(run.code != 0 || run.stderr.contains("Flux Kustomization"), "not a word: {run:?}");
}

/// `owners` points every reconciled object at `gitops`, which refuses helm releases.
#[test]
fn review_owners_does_not_point_a_helm_release_at_gitops() {
    let ns = Ns::new("rv-helm-owners");
    helm(&ns, "helm", &["install", "web"], FIRST).ok();
    let owners = ns.oam(&["owners", "deploy/web"]).ok().stdout;
    if owners.contains("gitops") {
        let gitops = ns.oam(&["dev", "gitops", "deploy/web"]);
        assert_eq!(gitops.code, 0, "owners said `gitops`: {owners}\n{gitops:?}");
    }
}
