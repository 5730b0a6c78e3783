use serde_json::{Value, json};

use super::*;

fn object(labels: Value, annotations: Value, managers: &[&str]) -> Value {
    let managed: Vec<Value> =
        managers.iter().map(|m| json!({"manager": m, "operation": "Apply", "fieldsV1": {}})).collect();
    json!({"metadata": {"name": "shop", "namespace": "shop", "labels": labels, "annotations": annotations,
                        "managedFields": managed}})
}

const SHOP: ObjectRef = ObjectRef {
    api_version: "apps/v1",
    kind: "Deployment",
    name: "shop",
    namespace: "shop",
    labels: &Value::Null,
    annotations: &Value::Null,
};

#[test]
fn each_reconciler_is_recognised_by_its_marks() {
    let cases = [
        (
            object(
                json!({"kustomize.toolkit.fluxcd.io/name": "apps", "kustomize.toolkit.fluxcd.io/namespace": "flux-system",
                       "app.kubernetes.io/managed-by": "Helm"}),
                json!({"meta.helm.sh/release-name": "shop"}),
                &["kustomize-controller"],
            ),
            Some((Kind::FluxKustomization, "apps", "flux-system")),
        ),
        (
            object(
                json!({"helm.toolkit.fluxcd.io/name": "shop", "helm.toolkit.fluxcd.io/namespace": "apps",
                       "app.kubernetes.io/managed-by": "Helm"}),
                json!({"meta.helm.sh/release-name": "shop", "meta.helm.sh/release-namespace": "shop"}),
                &["helm-controller"],
            ),
            Some((Kind::FluxHelmRelease, "shop", "apps")),
        ),
        (
            object(
                json!({}),
                json!({"argocd.argoproj.io/tracking-id": "shop:apps/Deployment:shop/shop"}),
                &[],
            ),
            Some((Kind::ArgoCd, "shop", "")),
        ),
        (
            object(
                json!({}),
                json!({"argocd.argoproj.io/tracking-id": "team_shop:apps/Deployment:shop/shop"}),
                &[],
            ),
            Some((Kind::ArgoCd, "shop", "team")),
        ),
        (
            object(json!({"app.kubernetes.io/instance": "shop-prod"}), json!({}), &["argocd-controller"]),
            Some((Kind::ArgoCd, "shop-prod", "")),
        ),
        (
            object(
                json!({"app.kubernetes.io/managed-by": "Helm"}),
                json!({"meta.helm.sh/release-name": "shop", "meta.helm.sh/release-namespace": "shop"}),
                &["helm"],
            ),
            Some((Kind::Helm, "shop", "shop")),
        ),
        (object(json!({"app.oam.dev/name": "shop"}), json!({}), &[]), Some((Kind::KubeVela, "shop", "shop"))),
        // A chart's own instance label without Argo CD's manager is not Argo CD.
        (
            object(json!({"app.kubernetes.io/instance": "shop"}), json!({}), &["kubectl-client-side-apply"]),
            None,
        ),
        // The release annotation without helm's label is not helm's.
        (object(json!({}), json!({"meta.helm.sh/release-name": "shop"}), &[]), None),
        (json!({"metadata": {"name": "x"}}), None),
    ];
    for (obj, want) in cases {
        let got = detect(&obj).map(|r| (r.kind, r.name, r.namespace));
        let want = want.map(|(k, n, ns)| (k, n.to_string(), ns.to_string()));
        assert_eq!(got, want, "{obj}");
    }
}

fn change(label: &str, pointer: &str, owned: bool) -> Change {
    Change {
        label: label.into(),
        pointer: pointer.into(),
        reconciler_owns: owned,
        reconciler_applies: owned,
        taken: false,
    }
}

fn flux() -> Reconciler {
    Reconciler {
        kind: Kind::FluxKustomization,
        name: "apps".into(),
        namespace: "flux-system".into(),
        evidence: "label kustomize.toolkit.fluxcd.io/name".into(),
    }
}

#[test]
fn flux_puts_back_what_it_applies_unless_ignored_or_suspended() {
    let changes = [
        change("containers.app.image", "/spec/template/spec/containers/0/image", true),
        change("metadata.labels.team", "/metadata/labels/team", false),
    ];
    let read = |spec: Value| Known::Read(settings(Kind::FluxKustomization, &json!({"spec": spec}), &SHOP));
    let v = judge(&flux(), read(json!({"interval": "10m"})), &changes, "kubectl-oam-dev", true, &Value::Null);
    assert_eq!(v.reverted, ["containers.app.image"]);
    assert!(v.certain() && v.drops_ownership);
    assert_eq!(v.when, Some(When::Soon("at its next reconcile (every 10m)".into())));

    let ignoring = json!({"ignore": [{"paths": ["/spec/template/spec/containers/0/image"],
                                      "target": {"kind": "Deployment", "name": "shop"}}]});
    let v = judge(&flux(), read(ignoring), &changes, "kubectl-oam-dev", true, &Value::Null);
    assert!(v.reverted.is_empty() && !v.certain() && v.drops_ownership);

    // A rule for another object does not count.
    let other = json!({"ignore": [{"paths": ["/spec/template/spec/containers/0/image"],
                                   "target": {"kind": "Deployment", "name": "cart"}}]});
    assert!(judge(&flux(), read(other), &changes, "kubectl-oam-dev", false, &Value::Null).certain());

    let v = judge(&flux(), read(json!({"suspend": true})), &changes, "kubectl-oam-dev", true, &Value::Null);
    assert!(!v.certain() && v.matters());

    let v = judge(&flux(), read(json!({})), &changes, "kubectl-oam-dev", true, &json!({FLUX_SSA: "Merge"}));
    assert!(v.certain() && !v.drops_ownership);
    let v = judge(&flux(), read(json!({})), &changes, "kubectl-oam-dev", true, &json!({FLUX_SSA: "Ignore"}));
    assert!(!v.matters());
    // Settings not read (gone, not readable, its CRD absent): a warning, not a refusal.
    let v =
        judge(&flux(), Known::NotRead("forbidden".into()), &changes, "kubectl-oam-dev", true, &Value::Null);
    assert!(!v.certain() && v.matters());
}

#[test]
fn argo_cd_self_heal_decides_when_and_ignore_differences_by_manager_decides_what() {
    let argo = Reconciler {
        kind: Kind::ArgoCd,
        name: "shop".into(),
        namespace: "argocd".into(),
        evidence: String::new(),
    };
    let changes = [change("replicas", "/spec/replicas", true)];
    let app = |spec: Value| Known::Read(settings(Kind::ArgoCd, &json!({"spec": spec}), &SHOP));
    let healing = json!({"syncPolicy": {"automated": {"selfHeal": true}}});
    assert!(judge(&argo, app(healing), &changes, "kubectl-oam-ops", true, &Value::Null).certain());
    let manual = judge(&argo, app(json!({})), &changes, "kubectl-oam-ops", true, &Value::Null);
    assert!(!manual.certain() && manual.matters());
    let ignoring = json!({"syncPolicy": {"automated": {"selfHeal": true}, "syncOptions": ["RespectIgnoreDifferences=true"]},
                          "ignoreDifferences": [{"group": "apps", "kind": "Deployment", "name": "shop",
                                                 "managedFieldsManagers": ["kubectl-oam-ops"]}]});
    assert!(!judge(&argo, app(ignoring.clone()), &changes, "kubectl-oam-ops", true, &Value::Null).matters());
    // Another role's manager is not covered.
    assert!(judge(&argo, app(ignoring), &changes, "kubectl-oam-dev", true, &Value::Null).certain());
}

#[test]
fn helm_release_drift_detection_and_plain_helm() {
    let hr = Reconciler {
        kind: Kind::FluxHelmRelease,
        name: "shop".into(),
        namespace: "apps".into(),
        evidence: String::new(),
    };
    let changes = [change("replicas", "/spec/replicas", true)];
    let read = |spec: Value| Known::Read(settings(Kind::FluxHelmRelease, &json!({"spec": spec}), &SHOP));
    assert!(
        judge(&hr, read(json!({"driftDetection": {"mode": "enabled"}})), &changes, "m", true, &Value::Null)
            .certain()
    );
    let warn =
        judge(&hr, read(json!({"driftDetection": {"mode": "warn"}})), &changes, "m", true, &Value::Null);
    assert!(!warn.certain() && warn.matters());
    let ignored = json!({"driftDetection": {"mode": "enabled", "ignore": [{"paths": ["/spec/replicas"]}]}});
    assert!(!judge(&hr, read(ignored), &changes, "m", true, &Value::Null).certain());

    let helm = Reconciler {
        kind: Kind::Helm,
        name: "shop".into(),
        namespace: "shop".into(),
        evidence: String::new(),
    };
    let forced = judge(
        &helm,
        Known::NotRead("helm has no object".into()),
        &changes,
        "kubectl-oam-ops",
        true,
        &Value::Null,
    );
    assert!(forced.blocks_upgrade && !forced.certain());
    let suggest = |words: &str| format!("kubectl oam {words} -n shop");
    let ways = ways_forward(&forced, "ops", "deploy/shop", &suggest);
    assert!(
        ways.iter().any(|w| w.contains("kubectl oam ops release deploy/shop --to helm -n shop")),
        "{ways:?}"
    );
    let plain = judge(
        &helm,
        Known::NotRead(String::new()),
        &[change("replicas", "/spec/replicas", false)],
        "m",
        false,
        &Value::Null,
    );
    assert!(!plain.matters());
}

#[test]
fn the_message_names_the_reconciler_its_object_when_and_the_ways_forward() {
    let changes = [change("containers.app.image", "/spec/template/spec/containers/0/image", true)];
    let v = judge(
        &flux(),
        Known::Read(Settings { interval: Some("5m".into()), ..Settings::default() }),
        &changes,
        "kubectl-oam-dev",
        true,
        &Value::Null,
    );
    let suggest = |words: &str| format!("kubectl oam {words} -n shop");
    let ways = ways_forward(&v, "dev", "deploy/shop", &suggest);
    let text = message(&v, "deployment.apps/shop in namespace \"shop\"", "kubectl-oam-dev", &ways);
    for part in [
        "Flux Kustomization flux-system/apps",
        "puts back containers.app.image at its next reconcile (every 5m)",
        "flux suspend kustomization apps -n flux-system",
        "kubectl oam dev gitops deploy/shop -n shop",
        "change it in Git",
    ] {
        assert!(text.contains(part), "{part} not in {text}");
    }
    assert!(!text.contains('\n'));
}

#[test]
fn gitops_configuration_per_reconciler() {
    let pointers = vec!["/spec/template/spec/containers/0/image".to_string()];
    let (app, notes) = gitops_config(Kind::ArgoCd, None, &SHOP, "kubectl-oam-dev", &pointers, None);
    assert_eq!(app["spec"]["ignoreDifferences"][0]["managedFieldsManagers"], json!(["kubectl-oam-dev"]));
    assert_eq!(app["spec"]["ignoreDifferences"][0]["group"], "apps");
    assert_eq!(app["spec"]["syncPolicy"]["syncOptions"], json!(["RespectIgnoreDifferences=true"]));
    assert_eq!(app["metadata"]["namespace"], "argocd");
    assert!(notes.iter().all(|n| !n.contains("position")));

    let (hr, _) = gitops_config(Kind::FluxHelmRelease, None, &SHOP, "kubectl-oam-dev", &pointers, None);
    assert_eq!(hr["spec"]["driftDetection"]["ignore"][0]["paths"], json!(pointers));
    assert_eq!(hr["spec"]["driftDetection"]["ignore"][0]["target"]["kind"], "Deployment");
    assert_eq!(hr["spec"]["driftDetection"]["mode"], "enabled");

    let (ks, notes) =
        gitops_config(Kind::FluxKustomization, Some(&flux()), &SHOP, "kubectl-oam-dev", &pointers, None);
    assert_eq!(ks["metadata"], json!({"name": "apps", "namespace": "flux-system"}));
    assert_eq!(
        ks["spec"]["ignore"][0]["target"],
        json!({"group": "apps", "version": "v1", "kind": "Deployment",
                                                        "name": "shop", "namespace": "shop"})
    );
    assert!(notes.iter().any(|n| n.contains("kustomize.toolkit.fluxcd.io/ssa: Merge")));
    assert!(notes.iter().any(|n| n.contains("position")));
}

fn argo() -> Reconciler {
    Reconciler {
        kind: Kind::ArgoCd,
        name: "shop".into(),
        namespace: "argocd".into(),
        evidence: String::new(),
    }
}

/// Review (recon): Argo CD v3's `automated.enabled: false` turns automated sync (and so self-heal)
/// off while keeping its settings; the CRD installed by `scripts/local-cluster crds` has the field.
#[test]
fn argo_cd_automated_enabled_false_is_not_a_self_heal() {
    let changes = [change("replicas", "/spec/replicas", true)];
    let spec = json!({"syncPolicy": {"automated": {"enabled": false, "selfHeal": true}}});
    let s = settings(Kind::ArgoCd, &json!({"spec": spec}), &SHOP);
    assert!(!s.automated && !s.self_heal, "{s:?}");
    assert!(!judge(&argo(), Known::Read(s), &changes, "kubectl-oam-ops", true, &Value::Null).certain());
}

/// Review (recon): self-heal acts only on an OutOfSync application; a path in `ignoreDifferences`
/// is not part of the diff, so a change there is not healed at once even without
/// RespectIgnoreDifferences (that option only decides whether the next sync writes it back).
#[test]
fn argo_cd_ignore_differences_without_respect_is_put_back_at_the_next_sync_not_at_once() {
    let changes = [change("replicas", "/spec/replicas", true)];
    let spec = json!({"syncPolicy": {"automated": {"selfHeal": true}},
                      "ignoreDifferences": [{"group": "apps", "kind": "Deployment", "jsonPointers": ["/spec/replicas"]}]});
    let v = judge(
        &argo(),
        Known::Read(settings(Kind::ArgoCd, &json!({"spec": spec}), &SHOP)),
        &changes,
        "kubectl-oam-ops",
        true,
        &Value::Null,
    );
    assert!(!v.certain() && v.matters(), "{v:?}");
}

/// Review (recon): kustomize's selector fields are anchored regular expressions
/// (fluxcd/pkg/ssa jsondiff.NewSelectorRegex), so `sh.p`, `shop|cart` and `s.*` select `shop`.
#[test]
fn flux_ignore_targets_are_regular_expressions() {
    for name in ["sh.p", "shop|cart", "s.*", "(shop)"] {
        let spec = json!({"ignore": [{"paths": ["/spec/replicas"], "target": {"kind": "Deployment", "name": name}}]});
        let s = settings(Kind::FluxKustomization, &json!({"spec": spec}), &SHOP);
        assert_eq!(s.ignored_paths, ["/spec/replicas"], "target name {name:?} selects shop in Flux");
    }
    let spec = json!({"ignore": [{"paths": ["/spec/replicas"], "target": {"kind": "Deploy.*"}}]});
    let s = settings(Kind::FluxKustomization, &json!({"spec": spec}), &SHOP);
    assert_eq!(s.ignored_paths, ["/spec/replicas"], "kind is a regular expression too");
}

/// Review (recon): with the Kustomization unreadable, its interval is unknown: the message must not
/// print the placeholder "every interval".
#[test]
fn an_unread_kustomization_does_not_say_every_interval() {
    let changes = [change("containers.app.image", "/spec/template/spec/containers/0/image", true)];
    let v =
        judge(&flux(), Known::NotRead("forbidden".into()), &changes, "kubectl-oam-dev", true, &Value::Null);
    let text = message(&v, "deployment.apps/shop in namespace \"shop\"", "kubectl-oam-dev", &[]);
    assert!(!text.contains("every interval"), "{text}");
}
