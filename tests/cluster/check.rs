//! `kubectl oam check`: a per-role check of manifest changes for pull requests, on fixture trees,
//! stdin (as `kustomize build` output) and a real Git repository. No cluster is involved.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::harness::{Run, oam_binary, repo, run_with_stdin};

fn fixtures() -> PathBuf {
    repo().join("tests/fixtures/check")
}

fn check_in(dir: &Path, args: &[&str], stdin: &str) -> Run {
    run_with_stdin(
        Command::new(oam_binary())
            .arg("check")
            .args(args)
            .current_dir(dir)
            .env("KUBECONFIG", "/nonexistent/no-cluster-needed"),
        stdin,
    )
}

fn check(args: &[&str]) -> Run {
    check_in(&fixtures(), args, "")
}

/// A copy of the head tree with `edit` applied to one file.
fn head_with(name: &str, file: &str, edit: impl Fn(&str) -> String) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("oam-check-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("apps")).unwrap();
    for f in ["kustomization.yaml", "apps/web.yaml", "apps/worker.yaml"] {
        let text = std::fs::read_to_string(fixtures().join("head").join(f)).unwrap();
        std::fs::write(dir.join(f), if f == file { edit(&text) } else { text }).unwrap();
    }
    dir
}

#[test]
fn check_passes_a_developers_change_and_names_what_is_outside_the_role() {
    let run = check(&["base", "head", "--role", "dev"]).ok();
    assert_eq!(
        run.stdout,
        "deployment.apps/web (namespace shop):\n  dev: containers.app.image, containers.app.env.LOG_LEVEL\nonly dev fields changed\n"
    );
    assert!(
        run.stderr.contains("2 document(s) without apiVersion"),
        "kustomization.yaml is not an object: {run:?}"
    );
    let run = check(&["base", "head", "--role", "ops"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stdout.contains("outside ops: deployment.apps/web in namespace \"shop\": containers.app.image (dev), containers.app.env.LOG_LEVEL (dev)"), "{run:?}");

    // Replicas, a schedule, a service account and a removed Service in the same pull request.
    let head = head_with("mixed", "apps/web.yaml", |t| {
        t.replace("replicas: 2", "replicas: 5")
            .replace("      containers:\n", "      serviceAccountName: admin\n      containers:\n")
            .split("\n---\n")
            .next()
            .unwrap()
            .to_string()
    });
    let worker = head.join("apps/worker.yaml");
    let text = std::fs::read_to_string(&worker).unwrap().replace("0 * * * *", "*/5 * * * *");
    std::fs::write(&worker, text).unwrap();
    let run = check(&["base", head.to_str().unwrap(), "--role", "dev", "-o", "json"]);
    assert_eq!(run.code, 1, "{run:?}");
    let out: Value = serde_json::from_str(&run.stdout).unwrap();
    let outside: Vec<&str> =
        out["outsideRole"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
    assert_eq!(
        outside,
        [
            "service/web in namespace \"shop\" removed",
            "deployment.apps/web in namespace \"shop\": scaler.replicas (ops), spec.template.spec.serviceAccountName (none)",
            "cronjob.batch/report in namespace \"shop\": schedule.schedule (ops)",
        ]
    );
    let web =
        out["changes"].as_array().unwrap().iter().find(|c| c["object"] == "deployment.apps/web").unwrap();
    assert_eq!(web["changes"]["dev"][0], "containers.app.image");
    assert_eq!(web["status"], "changed");
    let _ = std::fs::remove_dir_all(head);
}

#[test]
fn check_reads_stdin_a_custom_kind_by_profile_and_git_revisions() {
    // `kustomize build` / `helm template` output on stdin.
    let head = std::fs::read_to_string(fixtures().join("head/apps/web.yaml")).unwrap();
    let run = check_in(&fixtures(), &["base/apps/web.yaml", "-", "--role", "dev"], &head).ok();
    assert!(run.stdout.contains("containers.app.image"), "{run:?}");

    // A custom kind the repository's profile describes (offline: no cluster is asked).
    let dir = std::env::temp_dir().join(format!("oam-check-custom-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let builtin = std::fs::read_to_string(repo().join("src/model/profile.yaml")).unwrap();
    let profile = builtin.replace(
        "kinds:\n",
        "kinds:\n  Rollout:     {apiVersion: argoproj.io/v1alpha1, resource: rollouts, names: [ro], template: spec.template}\n",
    );
    std::fs::write(dir.join("profile.yaml"), profile).unwrap();
    let rollout = |image: &str, replicas: u32| {
        format!(
            "apiVersion: argoproj.io/v1alpha1\nkind: Rollout\nmetadata: {{name: web, namespace: shop}}\nspec:\n  template:\n    spec:\n      containers:\n      - {{name: app, image: '{image}'}}\n  replicas: {replicas}\n"
        )
    };
    std::fs::write(dir.join("a.yaml"), rollout("shop:1", 2)).unwrap();
    std::fs::write(dir.join("b.yaml"), rollout("shop:2", 2)).unwrap();
    let run = check_in(&dir, &["a.yaml", "b.yaml", "--role", "dev", "--profile", "profile.yaml"], "").ok();
    assert!(
        run.stdout.contains("rollout.argoproj.io/web (namespace shop):\n  dev: containers.app.image"),
        "{run:?}"
    );

    // Two revisions of a real Git repository.
    let repo_dir = dir.join("repo");
    std::fs::create_dir_all(repo_dir.join("deploy")).unwrap();
    let git = |args: &[&str]| {
        let out = Command::new("git")
            .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
            .args(args)
            .current_dir(&repo_dir)
            .output()
            .expect("git runs");
        assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    };
    git(&["init", "-q"]);
    std::fs::write(
        repo_dir.join("deploy/web.yaml"),
        std::fs::read_to_string(fixtures().join("base/apps/web.yaml")).unwrap(),
    )
    .unwrap();
    std::fs::write(repo_dir.join("README.md"), "not a manifest\n").unwrap();
    git(&["add", "."]);
    git(&["commit", "-qm", "base"]);
    let changed = std::fs::read_to_string(fixtures().join("base/apps/web.yaml"))
        .unwrap()
        .replace("replicas: 2", "replicas: 4");
    std::fs::write(repo_dir.join("deploy/web.yaml"), changed).unwrap();
    git(&["commit", "-qam", "scale"]);
    let run = check_in(&repo_dir, &["--git", "HEAD~1..HEAD", "--role", "ops", "--", "deploy"], "").ok();
    assert_eq!(
        run.stdout,
        "deployment.apps/web (namespace shop):\n  ops: scaler.replicas\nonly ops fields changed\n"
    );
    let run = check_in(&repo_dir, &["--git", "HEAD~1..HEAD", "--role", "dev"], "");
    assert_eq!(run.code, 1, "{run:?}");
    let err = check_in(&repo_dir, &["--git", "HEAD~1"], "").error();
    assert!(err.contains("REV..REV"), "{err}");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn check_judges_services_ingresses_pdbs_and_claims_by_the_related_traits() {
    let dir = fixtures().join("related");
    let run = check_in(&dir, &["base", "head", "--role", "ops"], "");
    assert_eq!(run.code, 1, "the claim's size is dev's: {run:?}");
    assert_eq!(
        run.stdout.lines().take(9).collect::<Vec<_>>(),
        [
            "persistentvolumeclaim/data (namespace shop):",
            "  dev: claims.data.size",
            "  ops: claimStorage.data.storageClassName",
            "service/web (namespace shop):",
            "  ops: expose.web.ports",
            "ingress.networking.k8s.io/web (namespace shop):",
            "  ops: gateway.web.rules",
            "poddisruptionbudget.policy/web (namespace shop):",
            "  ops: disruptionBudget.web.minAvailable",
        ],
        "{run:?}"
    );
    assert!(
        run.stdout.contains(
            "outside ops: persistentvolumeclaim/data in namespace \"shop\": claims.data.size (dev)"
        ),
        "{run:?}"
    );
    // The operator's changes alone pass `--role ops`.
    let head = std::env::temp_dir().join(format!("oam-check-related-{}", std::process::id()));
    std::fs::create_dir_all(&head).unwrap();
    let text =
        std::fs::read_to_string(dir.join("head/app.yaml")).unwrap().replace("storage: 5Gi", "storage: 1Gi");
    std::fs::write(head.join("app.yaml"), text).unwrap();
    let run = check_in(&dir, &["base", head.to_str().unwrap(), "--role", "ops"], "").ok();
    assert!(run.stdout.ends_with("only ops fields changed\n"), "{run:?}");
    let _ = std::fs::remove_dir_all(head);
}
