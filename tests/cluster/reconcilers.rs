//! Reconcilers beside the roles, with their real apply behaviour: Flux's kustomize-controller through
//! the real `fluxcd/pkg/ssa` library (`flux-apply`, built by scripts/local-cluster), an Argo CD
//! self-heal (a forced server-side apply as `argocd-controller`), helm 4's upgrade; their CRDs (Argo CD
//! Application, Flux Kustomization and HelmRelease) are installed from the upstream modules
//! (`scripts/local-cluster crds`). kubectl-oam must name the reconciler before a write it will undo,
//! refuse one it undoes at once (unless --until-reconciled), and its `gitops` output must be what
//! the real CRDs accept.

use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;

use serde_json::{Value, json};

use crate::harness::{Ns, Run, env, repo};
use crate::neighbours::{FIRST, helm};
use crate::writes::{container, env_value};

/// The reconcilers' CRDs, installed once per test run (server-side apply: idempotent).
pub(crate) fn crds() {
    static DONE: OnceLock<()> = OnceLock::new();
    DONE.get_or_init(|| {
        let out = Command::new(repo().join("scripts/local-cluster")).arg("crds").output().expect("run crds");
        assert!(out.status.success(), "scripts/local-cluster crds: {}", String::from_utf8_lossy(&out.stderr));
        let dir = String::from_utf8_lossy(&out.stdout)
            .lines()
            .last()
            .expect("crds prints its folder")
            .trim()
            .to_string();
        let kubectl = env().kubectl_path();
        let run = |args: &[&str]| {
            let out = Command::new(&kubectl)
                .arg("--kubeconfig")
                .arg(&env().kubeconfig)
                .args(args)
                .output()
                .unwrap();
            assert!(out.status.success(), "kubectl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        };
        run(&["apply", "--server-side", "--force-conflicts", "-f", &dir]);
        run(&["wait", "--for", "condition=Established", "--timeout", "60s", "-f", &dir]);
    });
}

/// A generated snippet merged into the reconciler's object by someone else (a server-side dry-run,
/// so the real CRD's schema judges it).
const DRY_RUN: &[&str] = &[
    "apply",
    "--server-side",
    "--dry-run=server",
    "--force-conflicts",
    "--field-manager",
    "snippet-check",
    "-f",
    "-",
];

fn flux_apply_binary() -> PathBuf {
    match &env().bin_dir {
        Some(dir) => dir.join("flux-apply"),
        None => "flux-apply".into(),
    }
}

/// One reconcile of kustomize-controller's apply step: the manifest as Git has it.
pub(crate) fn flux_apply(ns: &Ns, manifest: &str, ignore: &[&str]) -> Run {
    let file = std::env::temp_dir().join(format!("oam-flux-{}.yaml", ns.name));
    std::fs::write(&file, manifest).unwrap();
    let mut cmd = Command::new(flux_apply_binary());
    cmd.arg("--kubeconfig").arg(&env().kubeconfig).args(["-n", &ns.name, "-f"]).arg(&file);
    cmd.args(["--name", "apps", "--namespace-of-kustomization", &ns.name]);
    for rule in ignore {
        cmd.args(["--ignore", rule]);
    }
    let out = cmd.output().expect("run flux-apply");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// The manifest in "Git": image nginx:1.25, 2 replicas, env MODE.
pub(crate) fn git_manifest(annotations: &str) -> String {
    format!(
        r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {{app: web}}
  annotations: {{{annotations}}}
spec:
  replicas: 2
  selector: {{matchLabels: {{app: web}}}}
  template:
    metadata: {{labels: {{app: web}}}}
    spec:
      containers:
      - name: app
        image: nginx:1.25
        env: [{{name: MODE, value: prod}}]
"#
    )
}

/// A Kustomization object as Flux would have it (its controller does not run here: flux-apply is
/// its apply step), reconciling every 10 minutes.
pub(crate) fn kustomization(ns: &Ns, ignore: Value) {
    let obj = json!({
        "apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization",
        "metadata": {"name": "apps", "namespace": ns.name},
        "spec": {"interval": "10m", "prune": true, "path": "./apps",
                 "sourceRef": {"kind": "GitRepository", "name": "repo"}, "ignore": ignore},
    });
    ns.kubectl_stdin(
        &["apply", "--server-side", "--field-manager", "flux-test", "-f", "-"],
        &obj.to_string(),
    )
    .ok();
}

pub(crate) fn managers(obj: &Value) -> Vec<String> {
    obj["metadata"]["managedFields"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|e| e["subresource"].as_str().unwrap_or_default().is_empty())
        .map(|e| e["manager"].as_str().unwrap_or_default().to_string())
        .collect()
}

#[test]
fn flux_puts_back_a_forced_role_write_and_kubectl_oam_refuses_it_first() {
    crds();
    let ns = Ns::new("rc-flux");
    kustomization(&ns, json!([]));
    flux_apply(&ns, &git_manifest(""), &[]).ok();
    let obj = ns.get_json("deploy/web");
    assert_eq!(obj["metadata"]["labels"]["kustomize.toolkit.fluxcd.io/name"], "apps");

    // The view says who reconciles it (from the labels: still one request).
    let doc = ns.oam(&["dev", "get", "deploy/web", "-o", "json"]).ok();
    let doc: Value = serde_json::from_str(&doc.stdout).unwrap();
    assert_eq!(doc["readOnly"]["reconciledBy"], format!("Flux Kustomization {}/apps", ns.name));
    let owners = ns.oam(&["owners", "deploy/web"]).ok().stdout;
    assert!(owners.contains(&format!("reconciled by Flux Kustomization {}/apps", ns.name)), "{owners}");
    let wide = ns.oam(&["ops", "list", "-o", "wide"]).ok().stdout;
    assert!(wide.contains("RECONCILED BY") && wide.contains("Flux Kustomization"), "{wide}");

    // A forced change of a field Git sets: refused before anything is written, naming the
    // reconciler, its object, when, and the ways forward.
    let err = ns.oam(&["dev", "set", "image", "deploy/web", "app=nginx:1.30", "--force-conflicts"]).error();
    for part in [
        &format!("Flux Kustomization {}/apps", ns.name) as &str,
        "containers.app.image",
        "every 10m",
        "flux suspend kustomization apps",
        &format!("kubectl oam dev gitops deployment.apps/web -n {}", ns.name),
        "--until-reconciled",
        "nothing was applied",
    ] {
        assert!(err.contains(part), "{part:?} missing from {err}");
    }
    assert_eq!(container(&ns.get_json("deploy/web"), "app")["image"], "nginx:1.25", "nothing was written");
    // The dry-run shows the diff and says the same as a warning.
    let dry = ns.oam(&[
        "dev",
        "set",
        "image",
        "deploy/web",
        "app=nginx:1.30",
        "--force-conflicts",
        "--dry-run=server",
    ]);
    let dry = dry.ok();
    assert!(dry.stdout.contains("+    image: nginx:1.30"), "{dry:?}");
    assert!(dry.stderr.contains("warning:") && dry.stderr.contains("without --until-reconciled"), "{dry:?}");

    // Written anyway for the time being: the warning said it would be put back, and it is.
    let run = ns
        .oam(&[
            "dev",
            "set",
            "image",
            "deploy/web",
            "app=nginx:1.30",
            "--force-conflicts",
            "--until-reconciled",
        ])
        .ok();
    assert!(
        run.stderr.contains("warning:") && run.stderr.contains("puts back containers.app.image"),
        "{run:?}"
    );
    // dev also adds a variable Git does not have (no conflict: not refused, but warned).
    let added = ns.oam(&["dev", "set", "env", "deploy/web", "-c", "app", "DEBUG=1"]).ok();
    assert!(added.stderr.contains("removing those Git does not have"), "{added:?}");
    let obj = ns.get_json("deploy/web");
    assert_eq!(container(&obj, "app")["image"], "nginx:1.30");
    assert!(managers(&obj).contains(&"kubectl-oam-dev".to_string()));
    flux_apply(&ns, &git_manifest(""), &[]).ok();
    let obj = ns.get_json("deploy/web");
    assert_eq!(container(&obj, "app")["image"], "nginx:1.25", "Flux put Git's image back");
    assert_eq!(env_value(&obj, "app", "DEBUG"), None, "Flux removed what Git does not have");
    assert!(!managers(&obj).contains(&"kubectl-oam-dev".to_string()), "{:?}", managers(&obj));
}

#[test]
fn flux_leaves_ignored_paths_and_merge_objects_alone_as_kubectl_oam_says() {
    crds();
    let ns = Ns::new("rc-flux-ignore");
    let target = json!({"kind": "Deployment", "name": "web"});
    kustomization(&ns, json!([{"paths": ["/spec/replicas"], "target": target}]));
    let merge = "kustomize.toolkit.fluxcd.io/ssa: Merge";
    flux_apply(&ns, &git_manifest(merge), &["Deployment/web:/spec/replicas"]).ok();

    // spec.ignore covers replicas: not refused, and it sticks.
    let run = ns.oam(&["ops", "scale", "deploy/web", "--replicas", "5", "--force-conflicts"]).ok();
    assert!(!run.stderr.contains("puts back"), "{run:?}");
    // The image is not ignored: still refused.
    let err = ns.oam(&["dev", "set", "image", "deploy/web", "app=nginx:1.30", "--force-conflicts"]).error();
    assert!(err.contains("puts back containers.app.image"), "{err}");
    // With ssa: Merge, dev's own variable is not taken over: no warning about it, and it stays.
    let added = ns.oam(&["dev", "set", "env", "deploy/web", "-c", "app", "DEBUG=1"]).ok();
    assert!(!added.stderr.contains("Git does not have"), "{added:?}");
    flux_apply(&ns, &git_manifest(merge), &["Deployment/web:/spec/replicas"]).ok();
    let obj = ns.get_json("deploy/web");
    assert_eq!(obj["spec"]["replicas"], 5, "an ignored path keeps the role's value");
    assert_eq!(env_value(&obj, "app", "DEBUG").as_deref(), Some("1"), "Merge keeps what Git does not have");
    assert!(managers(&obj).contains(&"kubectl-oam-dev".to_string()), "Merge keeps the role's ownership");

    // gitops prints what made it so, for this object and role, accepted by the real CRD.
    let config = ns.oam(&["ops", "gitops", "deploy/web"]).ok().stdout;
    assert!(config.contains("/spec/replicas") && config.contains("kind: Kustomization"), "{config}");
    ns.kubectl_stdin(DRY_RUN, &config).ok();
}

/// An object as Argo CD applies it with server-side apply (annotation tracking), and its
/// Application with automated sync and self-heal.
pub(crate) fn argo_app(ns: &Ns, spec_extra: Value) {
    let mut spec = json!({
        "project": "default",
        "source": {"repoURL": "https://git.example/shop.git", "path": "apps", "targetRevision": "main"},
        "destination": {"server": "https://kubernetes.default.svc", "namespace": ns.name},
        "syncPolicy": {"automated": {"selfHeal": true}},
    });
    for (k, v) in spec_extra.as_object().unwrap() {
        spec[k] = v.clone();
    }
    let app = json!({"apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
                     "metadata": {"name": "shop", "namespace": ns.name}, "spec": spec});
    ns.kubectl_stdin(
        &["apply", "--server-side", "--field-manager", "argo-test", "--force-conflicts", "-f", "-"],
        &app.to_string(),
    )
    .ok();
}

pub(crate) fn argo_sync(ns: &Ns) {
    let tracking =
        format!("argocd.argoproj.io/tracking-id: '{}_shop:apps/Deployment:{}/web'", ns.name, ns.name);
    ns.kubectl_stdin(
        &["apply", "--server-side", "--field-manager", "argocd-controller", "--force-conflicts", "-f", "-"],
        &git_manifest(&tracking),
    )
    .ok();
}

#[test]
fn argo_cd_self_heal_is_named_and_ignore_differences_by_manager_lets_the_change_stick() {
    crds();
    let ns = Ns::new("rc-argo");
    argo_app(&ns, json!({}));
    argo_sync(&ns);
    let err = ns.oam(&["ops", "scale", "deploy/web", "--replicas", "4", "--force-conflicts"]).error();
    assert!(
        err.contains(&format!("Argo CD Application {}/shop", ns.name)) && err.contains("self-heal"),
        "{err}"
    );
    assert_eq!(ns.get_json("deploy/web")["spec"]["replicas"], 2);
    // Written for the time being; the self-heal (a forced apply of Git's manifest) puts it back.
    ns.oam(&["ops", "scale", "deploy/web", "--replicas", "4", "--force-conflicts", "--until-reconciled"])
        .ok();
    assert_eq!(ns.get_json("deploy/web")["spec"]["replicas"], 4);
    argo_sync(&ns);
    assert_eq!(ns.get_json("deploy/web")["spec"]["replicas"], 2, "self-heal put it back, as warned");

    // gitops: the Application entry by manager, accepted by the real CRD; once in place, the same
    // write is no longer refused.
    let config = ns.oam(&["ops", "gitops", "deploy/web", "-o", "json"]).ok().stdout;
    let config: Value = serde_json::from_str(&config).unwrap();
    assert_eq!(config["metadata"], json!({"name": "shop", "namespace": ns.name}));
    assert_eq!(config["spec"]["ignoreDifferences"][0]["managedFieldsManagers"], json!(["kubectl-oam-ops"]));
    ns.kubectl_stdin(DRY_RUN, &config.to_string()).ok();
    argo_app(
        &ns,
        json!({"ignoreDifferences": config["spec"]["ignoreDifferences"],
                         "syncPolicy": {"automated": {"selfHeal": true}, "syncOptions": ["RespectIgnoreDifferences=true"]}}),
    );
    let run = ns.oam(&["ops", "scale", "deploy/web", "--replicas", "4", "--force-conflicts"]).ok();
    assert!(!run.stderr.contains("puts back"), "{run:?}");
    // dev's manager is not covered by that entry: still refused.
    ns.oam(&["dev", "set", "image", "deploy/web", "app=nginx:1.30", "--force-conflicts"]).error();
}

#[test]
fn gitops_snippets_pass_a_server_side_dry_run_against_the_real_crds() {
    crds();
    let ns = Ns::new("rc-snippets");
    ns.create(&crate::harness::web_deployment("web"));
    // Each reconciler's own object, named as the snippet will name it.
    let hr = json!({"apiVersion": "helm.toolkit.fluxcd.io/v2", "kind": "HelmRelease",
                    "metadata": {"name": "web", "namespace": ns.name},
                    "spec": {"interval": "5m", "chart": {"spec": {"chart": "web", "sourceRef": {"kind": "HelmRepository", "name": "charts"}}}}});
    ns.kubectl_stdin(&["apply", "--server-side", "--field-manager", "flux-test", "-f", "-"], &hr.to_string())
        .ok();
    kustomization(&ns, json!([]));
    argo_app(&ns, json!({}));
    let label = |key: &str, value: &str| {
        ns.kubectl(&["label", "deploy/web", "--overwrite", &format!("{key}={value}")]).ok();
    };
    for (marks, reconciler, role) in [
        (
            vec![
                ("helm.toolkit.fluxcd.io/name", "web"),
                ("helm.toolkit.fluxcd.io/namespace", ns.name.as_str()),
            ],
            "flux-helmrelease",
            "dev",
        ),
        (
            vec![
                ("kustomize.toolkit.fluxcd.io/name", "apps"),
                ("kustomize.toolkit.fluxcd.io/namespace", ns.name.as_str()),
            ],
            "flux-kustomization",
            "ops",
        ),
    ] {
        for (k, v) in &marks {
            label(k, v);
        }
        let config = ns.oam(&[role, "gitops", "deploy/web", "--for", reconciler]).ok().stdout;
        ns.kubectl_stdin(DRY_RUN, &config).ok();
        for (k, _) in &marks {
            ns.kubectl(&["label", "deploy/web", &format!("{k}-")]).ok();
        }
    }
    let tracking = format!("argocd.argoproj.io/tracking-id={}_shop:apps/Deployment:{}/web", ns.name, ns.name);
    ns.kubectl(&["annotate", "deploy/web", &tracking]).ok();
    let config = ns.oam(&["dev", "gitops", "deploy/web"]).ok().stdout;
    assert!(config.contains("managedFieldsManagers"), "{config}");
    ns.kubectl_stdin(DRY_RUN, &config).ok();
    // A field the real CRD does not know is refused there, so the dry-run above proves something.
    let wrong = config.replace("managedFieldsManagers", "managedFieldManagers");
    let refused = ns.kubectl_stdin(DRY_RUN, &wrong);
    assert_ne!(refused.code, 0, "{refused:?}");
}

const NEXT_IMAGE: &str = "image: nginx:1.27\nreplicas: 2\nteam: a\nenv: {MODE: prod, EXTRA: '1'}\n";

#[test]
fn helm4_release_after_a_forced_take_over_lets_the_next_upgrade_land() {
    let ns = Ns::new("rc-helm4");
    helm(&ns, "helm", &["install", "web"], FIRST).ok();
    // Without force: the conflict names helm and the way back after a take-over.
    let err = ns.oam(&["dev", "set", "image", "deploy/web", "app=nginx:1.30"]).error();
    assert!(
        err.contains("\"helm\"")
            && err.contains(&format!("kubectl oam dev release deployment.apps/web --to helm -n {}", ns.name)),
        "{err}"
    );
    // Forced: written, with a warning that names the release and the way back.
    let run = ns.oam(&["dev", "set", "image", "deploy/web", "app=nginx:1.30", "--force-conflicts"]).ok();
    assert!(run.stderr.contains("helm release") && run.stderr.contains("--to helm"), "{run:?}");
    // A plain upgrade now fails on the conflict, as warned.
    let blocked = helm(&ns, "helm", &["upgrade", "web"], NEXT_IMAGE);
    assert_ne!(blocked.code, 0, "{blocked:?}");
    assert!(blocked.stderr.contains("kubectl-oam-dev"), "{blocked:?}");
    // Hand it back (dry-run first: who would get what), then the upgrade lands the chart's image.
    let dry = ns.oam(&["dev", "release", "deploy/web", "--to", "helm", "--dry-run=server"]).ok();
    assert!(dry.stdout.contains("containers.app.image") && dry.stdout.contains("would release"), "{dry:?}");
    assert!(
        managers(&ns.get_json("deploy/web")).contains(&"kubectl-oam-dev".to_string()),
        "dry-run changed nothing"
    );
    let released = ns.oam(&["dev", "release", "deploy/web", "--to", "helm"]).ok();
    assert!(released.stdout.contains("released"), "{released:?}");
    let obj = ns.get_json("deploy/web");
    assert_eq!(container(&obj, "app")["image"], "nginx:1.30", "values do not change");
    assert!(!managers(&obj).contains(&"kubectl-oam-dev".to_string()), "{:?}", managers(&obj));
    helm(&ns, "helm", &["upgrade", "web"], NEXT_IMAGE).ok();
    assert_eq!(
        container(&ns.get_json("deploy/web"), "app")["image"],
        "nginx:1.27",
        "the chart's image landed"
    );
}

#[test]
fn release_of_named_fields_to_nobody_keeps_values_and_adopt_warns_of_the_next_upgrade() {
    let ns = Ns::new("rc-release");
    helm(&ns, "helm", &["install", "web"], FIRST).ok();
    let adopted = ns.oam(&["dev", "adopt", "deploy/web"]).ok();
    assert!(
        adopted.stderr.contains("helm's next server-side apply") && adopted.stderr.contains("--to helm"),
        "{adopted:?}"
    );
    let err = ns.oam(&["dev", "release", "deploy/web", "containers.app.nope"]).error();
    assert!(
        err.contains("no dev field \"containers.app.nope\"") && err.contains("containers.app.image"),
        "{err}"
    );
    let run = ns.oam(&["dev", "release", "deploy/web", "containers.app.env", "-o", "json"]).ok();
    let out: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(out["released"], json!(["containers.app.env.EXTRA", "containers.app.env.MODE"]));
    let obj = ns.get_json("deploy/web");
    assert_eq!(env_value(&obj, "app", "MODE").as_deref(), Some("prod"), "values stay");
    let owners: Value =
        serde_json::from_str(&ns.oam(&["owners", "deploy/web", "-o", "json"]).ok().stdout).unwrap();
    let holders = |field: &str| -> Vec<String> {
        owners.as_array().unwrap().iter().find(|r| r["field"] == field).map_or(vec![], |r| {
            r["managers"]
                .as_array()
                .unwrap()
                .iter()
                .map(|m| m["manager"].as_str().unwrap().to_string())
                .collect()
        })
    };
    assert!(holders("containers.app.env.MODE").is_empty(), "{owners}");
    assert_eq!(holders("containers.app.image"), ["kubectl-oam-dev"]);
}
