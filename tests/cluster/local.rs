//! `--local -f FILE`: role views and role edits of manifest files (fixtures in tests/fixtures/local).
//! No cluster is involved: every run points KUBECONFIG at a server that is a socket of this test,
//! and the test asserts that nothing ever connected to it.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::harness::{Run, oam_binary, repo, run_with_stdin};

/// A kubeconfig whose server is a listening socket nobody may connect to.
struct NoCluster {
    listener: TcpListener,
    kubeconfig: PathBuf,
}

impl NoCluster {
    fn new(dir: &Path) -> NoCluster {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let kubeconfig = dir.join("kubeconfig");
        std::fs::write(
            &kubeconfig,
            format!(
                "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: {{server: 'https://127.0.0.1:{port}'}}\ncontexts:\n- name: c\n  context: {{cluster: c, user: u, namespace: nowhere}}\ncurrent-context: c\nusers:\n- name: u\n  user: {{token: t}}\n"
            ),
        )
        .unwrap();
        NoCluster { listener, kubeconfig }
    }

    fn run(&self, dir: &Path, args: &[&str], stdin: &str) -> Run {
        self.run_with(dir, args, stdin, "true")
    }

    /// `run` with `editor` as KUBE_EDITOR.
    fn run_with(&self, dir: &Path, args: &[&str], stdin: &str, editor: &str) -> Run {
        run_with_stdin(
            Command::new(oam_binary())
                .args(args)
                .env("KUBE_EDITOR", editor)
                .current_dir(dir)
                .env("KUBECONFIG", &self.kubeconfig)
                .env("NO_COLOR", "1"),
            stdin,
        )
    }

    /// No request was sent: nothing connected to the kubeconfig's server.
    fn assert_untouched(&self) {
        match self.listener.accept() {
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            other => panic!("something connected to the kubeconfig's server: {other:?}"),
        }
    }
}

/// A fresh copy of tests/fixtures/local.
fn tree(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("oam-local-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let from = repo().join("tests/fixtures/local");
    for sub in ["", "app"] {
        std::fs::create_dir_all(dir.join(sub)).unwrap();
        for entry in std::fs::read_dir(from.join(sub)).unwrap() {
            let path = entry.unwrap().path();
            if path.is_file() {
                std::fs::copy(&path, dir.join(sub).join(path.file_name().unwrap())).unwrap();
            }
        }
    }
    dir
}

fn fixture(file: &str) -> String {
    std::fs::read_to_string(repo().join("tests/fixtures/local").join(file)).unwrap()
}

/// The lines of `before` and `after` that differ, as (-, +) pairs of a line-by-line diff.
fn changed_lines(before: &str, after: &str) -> (Vec<String>, Vec<String>) {
    let (a, b): (Vec<&str>, Vec<&str>) = (before.lines().collect(), after.lines().collect());
    let removed = a.iter().filter(|l| !b.contains(l)).map(|l| l.to_string()).collect();
    let added = b.iter().filter(|l| !a.contains(l)).map(|l| l.to_string()).collect();
    (removed, added)
}

#[test]
fn local_get_shows_role_documents_of_files_dirs_and_stdin_without_a_cluster() {
    let dir = tree("get");
    let no = NoCluster::new(&dir);
    let run = no.run(&dir, &["dev", "get", "-f", "app", "--local"], "").ok();
    let docs: Vec<&str> = run.stdout.split("---\n").collect();
    assert_eq!(docs.len(), 2, "one document per workload: {run:?}");
    assert!(
        docs[0].starts_with("kind: Deployment\nname: web\ncontainers:\n  app:\n    image: nginx:1.25\n"),
        "{run:?}"
    );
    assert!(docs[1].contains("kind: StatefulSet\nname: worker\n"), "{run:?}");
    assert!(!run.stdout.contains("base:"), "no live bookkeeping: {run:?}");
    // The kinds no role covers: one note, no error.
    // (The Service selects web's pods: it is web's related object, not skipped.)
    assert_eq!(run.stderr, "note: objects of kinds no role covers were skipped (ConfigMap)\n");

    let run =
        no.run(&dir, &["ops", "get", "deploy/web", "-f", "app/web.yaml", "--local", "-o", "json"], "").ok();
    let doc: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(doc["scaler"]["replicas"], 2);
    assert_eq!(doc["metadata"]["labels"]["tier"], "front");

    // `kustomize build … | kubectl oam dev get -f - --local`
    let run = no.run(&dir, &["dev", "get", "-f", "-", "--local", "-o", "name"], &fixture("stream.yaml")).ok();
    assert_eq!(run.stdout, "deployment.apps/cart\n");
    assert!(run.stderr.contains("(Namespace)"), "{run:?}");
    // -n: the objects of that namespace, and those the files give none.
    let run = no
        .run(
            &dir,
            &["dev", "get", "-f", "-", "-f", "app/web.yaml", "--local", "-o", "name", "-n", "shop"],
            &fixture("stream.yaml"),
        )
        .ok();
    assert_eq!(run.stdout, "deployment.apps/cart\ndeployment.apps/web\n");
    let run = no
        .run(
            &dir,
            &["dev", "get", "-f", "-", "--local", "-o", "name", "-n", "other"],
            &fixture("stream.yaml"),
        )
        .ok();
    assert_eq!(run.stdout, "");
    let run = no
        .run(
            &dir,
            &["dev", "get", "-f", "-", "--local", "-o", "jsonpath={.containers.cart.image}"],
            &fixture("stream.yaml"),
        )
        .ok();
    assert_eq!(run.stdout, "shop/cart:2.0");

    // No kubeconfig is even read: one that is not YAML changes nothing.
    std::fs::write(dir.join("garbage"), "{ not a kubeconfig").unwrap();
    let out = Command::new(oam_binary())
        .args(["ops", "get", "-f", "app", "--local", "-o", "name"])
        .current_dir(&dir)
        .env("KUBECONFIG", dir.join("garbage"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "deployment.apps/web\nstatefulset.apps/worker\n");

    let err = no.run(&dir, &["dev", "get", "deploy/nope", "-f", "app", "--local"], "").error();
    assert!(err.contains("deployment.apps/nope is not in the files given with -f (app)"), "{err}");
    let err = no.run(&dir, &["dev", "get", "-f", "app"], "").error();
    assert!(err.contains("add --local"), "{err}");
    no.assert_untouched();
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn local_set_image_changes_one_line_and_keeps_comments_quotes_and_other_documents() {
    let dir = tree("image");
    let no = NoCluster::new(&dir);
    let before = fixture("app/web.yaml");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(dir.join("app/web.yaml"), std::fs::Permissions::from_mode(0o640)).unwrap();
    let run = no
        .run(&dir, &["dev", "set", "image", "deploy/web", "app=nginx:1.27", "-f", "app", "--local"], "")
        .ok();
    assert_eq!(run.stdout, "deployment.apps/web image updated (file: app/web.yaml)\n");
    let mode = std::fs::metadata(dir.join("app/web.yaml")).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o640, "the file keeps its mode");
    let hidden = std::fs::read_dir(dir.join("app"))
        .unwrap()
        .filter(|e| e.as_ref().unwrap().file_name().to_string_lossy().starts_with('.'));
    assert_eq!(hidden.count(), 0, "no temporary file is left");
    let after = std::fs::read_to_string(dir.join("app/web.yaml")).unwrap();
    assert_eq!(
        changed_lines(&before, &after),
        (
            vec!["          image: \"nginx:1.25\"   # pinned by the release".to_string()],
            vec!["          image: \"nginx:1.27\"   # pinned by the release".to_string()]
        )
    );
    assert_eq!(before.lines().count(), after.lines().count());
    // The Service and ConfigMap documents: byte for byte.
    assert_eq!(before.split_once("---").unwrap().1, after.split_once("---").unwrap().1);
    // The other file was not named: untouched.
    assert_eq!(std::fs::read_to_string(dir.join("app/worker.yaml")).unwrap(), fixture("app/worker.yaml"));

    // --dry-run: the file's diff, nothing written.
    let run = no
        .run(
            &dir,
            &["dev", "set", "image", "app=nginx:2", "-f", "app/web.yaml", "--local", "--dry-run=client"],
            "",
        )
        .ok();
    assert!(run.stdout.contains("-          image: \"nginx:1.27\"   # pinned by the release\n+          image: \"nginx:2\"   # pinned by the release\n"), "{run:?}");
    assert_eq!(std::fs::read_to_string(dir.join("app/web.yaml")).unwrap(), after);
    no.assert_untouched();
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn local_set_env_and_scale_insert_and_delete_exactly_their_lines() {
    let dir = tree("env");
    let no = NoCluster::new(&dir);
    let before = fixture("app/web.yaml");
    no.run(
        &dir,
        &["dev", "set", "env", "deploy/web", "-c", "app", "DEBUG=1", "MODE-", "-f", "app", "--local"],
        "",
    )
    .ok();
    let after = std::fs::read_to_string(dir.join("app/web.yaml")).unwrap();
    let expected = before.replace("            - name: MODE\n              value: prod\n", "").replace(
        "              value: '8080'\n",
        "              value: '8080'\n            - name: DEBUG\n              value: '1'\n",
    );
    assert_eq!(after, expected);

    // The StatefulSet has no replicas: the key is added at the end of spec, at its indentation.
    let run =
        no.run(&dir, &["ops", "scale", "sts/worker", "--replicas", "4", "-f", "app", "--local"], "").ok();
    assert_eq!(run.stdout, "statefulset.apps/worker scaled (file: app/worker.yaml)\n");
    let worker = std::fs::read_to_string(dir.join("app/worker.yaml")).unwrap();
    assert_eq!(worker, format!("{}  replicas: 4\n", fixture("app/worker.yaml")));
    // No name: every scalable workload of the files.
    let run = no.run(&dir, &["ops", "scale", "--replicas", "3", "-f", "app", "--local"], "").ok();
    assert_eq!(
        run.stdout,
        "deployment.apps/web scaled (file: app/web.yaml)\nstatefulset.apps/worker scaled (file: app/worker.yaml)\n"
    );
    assert!(std::fs::read_to_string(dir.join("app/web.yaml")).unwrap().contains("\n  replicas: 3\n"));
    no.assert_untouched();
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn local_apply_keeps_roles_and_refuses_what_cannot_change_alone() {
    let dir = tree("apply");
    let no = NoCluster::new(&dir);
    let web = fixture("app/web.yaml");
    // A dev document may not touch replicas; the file stays as it was.
    std::fs::write(dir.join("scale.yaml"), "kind: Deployment\nname: web\nscaler:\n  replicas: 9\n").unwrap();
    let err =
        no.run(&dir, &["dev", "apply", "-f", "scale.yaml", "--local", "--manifests", "app"], "").error();
    // The document's own problem names the document (not the manifest it would change).
    assert!(err.starts_with("error: scale.yaml: scaler: belongs to the ops role"), "{err}");
    assert!(err.ends_with("(for deployment.apps/web)"), "{err}");
    let err =
        no.run(&dir, &["dev", "scale", "deploy/web", "--replicas", "3", "-f", "app", "--local"], "").error();
    assert!(err.contains("replicas belong to the ops role: use `kubectl oam ops scale deploy/web --replicas 3 -f app --local`"), "{err}");
    // The anchored image of the StatefulSet cannot change alone: refused with file:line:column.
    let err = no
        .run(&dir, &["dev", "set", "image", "sts/worker", "worker=w:4", "-f", "app", "--local"], "")
        .error();
    assert!(err.contains("app/worker.yaml:15:"), "{err}");
    assert!(err.contains("anchor or alias"), "{err}");
    assert_eq!(std::fs::read_to_string(dir.join("app/web.yaml")).unwrap(), web);
    assert_eq!(std::fs::read_to_string(dir.join("app/worker.yaml")).unwrap(), fixture("app/worker.yaml"));

    // A whole dev document: a changed env value, one removed, one added, a flow list rewritten
    // on its own line.
    std::fs::write(
        dir.join("dev.yaml"),
        "kind: Deployment\nname: web\ncontainers:\n  app:\n    image: nginx:1.25\n    env:\n      PORT: '9090'\n      NEW: x\n  sidecar:\n    image: busybox:1.36\n    args: [sh, -c, sleep 60]\n",
    )
    .unwrap();
    // `diff --local`: the files' diff, exit 1, nothing written; then the apply, then no difference.
    let run = no.run(&dir, &["dev", "diff", "-f", "dev.yaml", "--local", "--manifests", "app"], "");
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stdout.starts_with("--- app/web.yaml\n+++ app/web.yaml (changed, not written: dry run)\n"),
        "{run:?}"
    );
    assert!(run.stdout.contains("+              value: '9090'\n"), "{run:?}");
    assert_eq!(std::fs::read_to_string(dir.join("app/web.yaml")).unwrap(), web);
    let run = no.run(&dir, &["dev", "apply", "-f", "dev.yaml", "--local", "--manifests", "app"], "").ok();
    assert_eq!(run.stdout, "deployment.apps/web configured (file: app/web.yaml)\n");
    let after = std::fs::read_to_string(dir.join("app/web.yaml")).unwrap();
    let expected = web
        .replace("            - name: MODE\n              value: prod\n", "")
        .replace(
            "              value: '8080'\n",
            "              value: '9090'\n            - name: NEW\n              value: x\n",
        )
        .replace("args: [sh, -c, sleep 3600]", "args: [sh, -c, sleep 60]");
    assert_eq!(after, expected);
    let run = no.run(&dir, &["dev", "diff", "-f", "dev.yaml", "--local", "--manifests", "app"], "").ok();
    assert_eq!(run.stdout, "");
    no.assert_untouched();
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn local_custom_kind_by_profile() {
    let dir = tree("custom");
    let no = NoCluster::new(&dir);
    let builtin = std::fs::read_to_string(repo().join("src/model/profile.yaml")).unwrap();
    let profile = builtin.replace(
        "kinds:\n",
        "kinds:\n  Rollout:     {apiVersion: argoproj.io/v1alpha1, resource: rollouts, names: [ro], template: spec.template}\n",
    );
    std::fs::write(dir.join("profile.yaml"), profile).unwrap();
    let rollout = "apiVersion: argoproj.io/v1alpha1\nkind: Rollout\nmetadata:\n  name: web\n  namespace: shop\nspec:\n  replicas: 2\n  template:\n    spec:\n      containers:\n      - name: app\n        image: shop:1 # current\n";
    std::fs::write(dir.join("rollout.yaml"), rollout).unwrap();
    let run =
        no.run(&dir, &["dev", "get", "-f", "rollout.yaml", "--local", "--profile", "profile.yaml"], "").ok();
    assert!(
        run.stdout.starts_with(
            "kind: Rollout\nname: web\nnamespace: shop\ncontainers:\n  app:\n    image: shop:1\n"
        ),
        "{run:?}"
    );
    // Without the profile the kind is not covered: skipped with a note.
    let run = no.run(&dir, &["dev", "get", "-f", "rollout.yaml", "--local"], "").ok();
    assert_eq!(run.stdout, "");
    assert!(run.stderr.contains("(Rollout)"), "{run:?}");
    no.run(
        &dir,
        &[
            "dev",
            "set",
            "image",
            "ro/web",
            "app=shop:2",
            "-f",
            "rollout.yaml",
            "--local",
            "--profile",
            "profile.yaml",
        ],
        "",
    )
    .ok();
    assert_eq!(
        std::fs::read_to_string(dir.join("rollout.yaml")).unwrap(),
        rollout.replace("image: shop:1 # current", "image: shop:2 # current")
    );
    no.assert_untouched();
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn local_edit_changes_the_files_and_keeps_a_refused_edit() {
    let dir = tree("edit");
    let no = NoCluster::new(&dir);
    let web = fixture("app/web.yaml");
    let run = no
        .run_with(
            &dir,
            &["dev", "edit", "deploy/web", "-f", "app", "--local"],
            "",
            "sed -i -e s/nginx:1.25/nginx:1.28/",
        )
        .ok();
    assert_eq!(run.stdout, "deployment.apps/web configured (file: app/web.yaml)\n");
    let after = std::fs::read_to_string(dir.join("app/web.yaml")).unwrap();
    assert_eq!(after, web.replace("\"nginx:1.25\"", "\"nginx:1.28\""));

    // Unchanged: nothing to do.
    let run = no.run_with(&dir, &["dev", "edit", "-f", "app", "--local"], "", "true").ok();
    assert_eq!(run.stdout, "Edit cancelled, no changes made.\n");

    // A dev edit that adds the replica count is refused; the edit is kept, the files are not touched.
    let err = no
        .run_with(
            &dir,
            &["dev", "edit", "deploy/web", "-f", "app", "--local"],
            "",
            "printf 'scaler: {replicas: 9}\\n' >>",
        )
        .error();
    assert!(err.contains("scaler: belongs to the ops role"), "{err}");
    assert!(err.contains("your edit is kept in"), "{err}");
    let kept = err.split("your edit is kept in ").nth(1).unwrap().split(':').next().unwrap().to_string();
    assert!(std::fs::read_to_string(&kept).unwrap().contains("scaler: {replicas: 9}"), "{kept}");
    let _ = std::fs::remove_file(&kept);
    assert_eq!(std::fs::read_to_string(dir.join("app/web.yaml")).unwrap(), after);
    no.assert_untouched();
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn local_json_manifest_stays_json_and_changes_only_in_place() {
    let dir = tree("json");
    let no = NoCluster::new(&dir);
    let before = fixture("web.json");
    no.run(&dir, &["dev", "set", "env", "deploy/j", "Y=2", "-f", "web.json", "--local"], "").ok();
    no.run(&dir, &["ops", "scale", "deploy/j", "--replicas", "2", "-f", "web.json", "--local"], "").ok();
    let after = std::fs::read_to_string(dir.join("web.json")).unwrap();
    let expected = before
        .replace(
            "{\"name\": \"X\", \"value\": \"1\"}",
            "{\"name\": \"X\", \"value\": \"1\"}, {\"name\":\"Y\",\"value\":\"2\"}",
        )
        .replace("      }\n    }\n  }\n}", "      }\n    }, \"replicas\": 2\n  }\n}");
    assert_eq!(after, expected);
    let read: Value = serde_json::from_str(&after).expect("still JSON");
    assert_eq!(read["spec"]["replicas"], 2);
    no.assert_untouched();
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn local_writes_all_files_or_none_and_refuses_a_read_only_file() {
    let dir = tree("read-only");
    let no = NoCluster::new(&dir);
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(dir.join("app/worker.yaml"), std::fs::Permissions::from_mode(0o444)).unwrap();
    let run = no.run(&dir, &["dev", "set", "env", "NEW=1", "-f", "app", "--local"], "");
    let error = run.error();
    assert!(error.contains("app/worker.yaml") && error.contains("read-only"), "{error}");
    // web.yaml comes first and could be written: it is not, as no file is when one cannot be.
    assert_eq!(std::fs::read_to_string(dir.join("app/web.yaml")).unwrap(), fixture("app/web.yaml"));
    assert_eq!(std::fs::read_to_string(dir.join("app/worker.yaml")).unwrap(), fixture("app/worker.yaml"));
    let hidden = std::fs::read_dir(dir.join("app"))
        .unwrap()
        .filter(|e| e.as_ref().unwrap().file_name().to_string_lossy().starts_with('.'));
    assert_eq!(hidden.count(), 0, "no temporary file is left");
    no.assert_untouched();
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn local_recursive_walk_does_not_follow_linked_directories() {
    let dir = tree("links");
    let no = NoCluster::new(&dir);
    // A link to the directory above (a loop), a link into the tree, a file that is no manifest.
    std::os::unix::fs::symlink("..", dir.join("app/up")).unwrap();
    std::os::unix::fs::symlink("app", dir.join("again")).unwrap();
    std::fs::write(dir.join("app/README.md"), "not: [yaml\n").unwrap();
    let run = no.run(&dir, &["dev", "get", "-f", ".", "-R", "--local", "-o", "name"], "").ok();
    assert_eq!(
        run.stdout, "deployment.apps/web\nstatefulset.apps/worker\ndeployment.apps/cart\ndeployment.apps/j\n",
        "{run:?}"
    );
    no.assert_untouched();
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn local_dry_run_diff_never_shows_a_secret_even_as_context() {
    let dir = tree("secret");
    let no = NoCluster::new(&dir);
    let text = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\nstringData:\n  token: hunter2\n---\nspec:\n  replicas: 1\n  template:\n    spec:\n      containers:\n      - name: app\n        image: a:1\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n";
    std::fs::write(dir.join("s.yaml"), text).unwrap();
    let run = no
        .run(
            &dir,
            &["ops", "scale", "deploy/web", "--replicas", "3", "-f", "s.yaml", "--local", "--dry-run=client"],
            "",
        )
        .ok();
    assert!(run.stdout.contains("-  replicas: 1\n+  replicas: 3\n"), "{run:?}");
    assert!(!run.stdout.contains("hunter2") && run.stdout.contains(" # (a Secret: not shown)\n"), "{run:?}");
    std::fs::write(dir.join("doc.yaml"), "kind: Deployment\nname: web\nscaler:\n  replicas: 5\n").unwrap();
    let run = no.run(&dir, &["ops", "diff", "-f", "doc.yaml", "--local", "--manifests", "s.yaml"], "");
    assert_eq!(run.code, 1, "{run:?}");
    assert!(!run.stdout.contains("hunter2") && run.stdout.contains("+  replicas: 5\n"), "{run:?}");
    assert_eq!(std::fs::read_to_string(dir.join("s.yaml")).unwrap(), text);
    no.assert_untouched();
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn local_refuses_flags_that_need_the_cluster() {
    let dir = tree("flags");
    let no = NoCluster::new(&dir);
    let set = ["dev", "set", "image", "app=nginx:2", "-f", "app/web.yaml", "--local"];
    for (flag, says) in [
        ("--dry-run=server", "cannot specify --local and --dry-run=server; did you mean --dry-run=client?"),
        ("--wait", "--wait watches the cluster"),
        ("--until-reconciled", "--until-reconciled watches the cluster"),
    ] {
        let args: Vec<&str> = set.iter().copied().chain([flag]).collect();
        let error = no.run(&dir, &args, "").error();
        assert!(error.contains(says), "{flag}: {error}");
    }
    assert_eq!(std::fs::read_to_string(dir.join("app/web.yaml")).unwrap(), fixture("app/web.yaml"));
    no.assert_untouched();
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn local_messages_name_the_flag_that_gave_the_files_and_no_empty_namespace() {
    let dir = tree("messages");
    let no = NoCluster::new(&dir);
    std::fs::write(dir.join("doc.yaml"), "kind: Deployment\nname: nope\ncontainers:\n  app:\n    image: x\n")
        .unwrap();
    let error = no
        .run(&dir, &["dev", "apply", "-f", "doc.yaml", "--local", "--manifests", "app/web.yaml"], "")
        .error();
    assert!(
        error.contains("deployment.apps/nope is not in the files given with --manifests (app/web.yaml)"),
        "{error}"
    );
    std::fs::write(
        dir.join("cj.yaml"),
        "apiVersion: batch/v1\nkind: CronJob\nmetadata:\n  name: cj\nspec:\n  schedule: '* * * * *'\n  jobTemplate:\n    spec:\n      template:\n        spec:\n          containers:\n          - name: app\n            image: a\n",
    )
    .unwrap();
    let error = no
        .run(&dir, &["ops", "scale", "cronjob/cj", "--replicas", "2", "-f", "cj.yaml", "--local"], "")
        .error();
    assert!(error.contains("cronjob.batch/cj cannot be scaled: a CronJob has no replica count"), "{error}");
    no.assert_untouched();
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn local_edit_of_two_objects_of_one_name_changes_each_by_its_own_document() {
    let dir = tree("same-name");
    let no = NoCluster::new(&dir);
    let deploy = |ns: &str, image: &str| {
        format!(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n{ns}spec:\n  template:\n    spec:\n      containers:\n      - name: app\n        image: {image}\n"
        )
    };
    let text = format!("{}---\n{}", deploy("", "plain:1"), deploy("  namespace: a\n", "ns-a:1"));
    std::fs::write(dir.join("two.yaml"), &text).unwrap();
    // The editor changes the document without a namespace only.
    std::fs::write(dir.join("editor.sh"), "#!/bin/sh\nsed -i 's/image: plain:1/image: plain:2/' \"$1\"\n")
        .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(dir.join("editor.sh"), std::fs::Permissions::from_mode(0o755)).unwrap();
    let editor = dir.join("editor.sh").display().to_string();
    no.run_with(&dir, &["dev", "edit", "-f", "two.yaml", "--local"], "", &editor).ok();
    let expected = format!("{}---\n{}", deploy("", "plain:2"), deploy("  namespace: a\n", "ns-a:1"));
    assert_eq!(std::fs::read_to_string(dir.join("two.yaml")).unwrap(), expected);
    no.assert_untouched();
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn local_edit_of_one_object_in_several_files_is_refused_before_the_editor_opens() {
    let dir = tree("overlays");
    let no = NoCluster::new(&dir);
    for overlay in ["dev", "prod"] {
        std::fs::create_dir_all(dir.join("ov").join(overlay)).unwrap();
        std::fs::copy(dir.join("app/web.yaml"), dir.join("ov").join(overlay).join("web.yaml")).unwrap();
    }
    // An editor that would fail the test if it ran.
    let run = no.run_with(&dir, &["dev", "edit", "-f", "ov", "-R", "--local"], "", "false");
    let error = run.error();
    assert!(
        error.contains("deployment.apps/web is in several files (ov/dev/web.yaml, ov/prod/web.yaml); edit them one file at a time"),
        "{error}"
    );
    no.assert_untouched();
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn local_get_shows_the_files_services_as_related_sections_and_apply_changes_them_in_place() {
    let dir = tree("related");
    let no = NoCluster::new(&dir);
    let run = no.run(&dir, &["ops", "get", "deploy/web", "-f", "app", "--local", "-o", "json"], "").ok();
    let doc: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(doc["expose"]["web"]["ports"][0]["port"], 80, "{run:?}");
    assert_eq!(run.stderr, "note: objects of kinds no role covers were skipped (ConfigMap)\n");
    let run = no.run(&dir, &["dev", "get", "deploy/web", "-f", "app", "--local", "-o", "json"], "").ok();
    let doc: Value = serde_json::from_str(&run.stdout).unwrap();
    assert!(doc["readOnly"]["endpoints"].as_object().is_some_and(|e| e.len() == 1), "{run:?}");

    // The ops view read back with a changed replica count: the Deployment changes, the Service not.
    let before = std::fs::read_to_string(dir.join("app/web.yaml")).unwrap();
    let run = no.run(&dir, &["ops", "get", "deploy/web", "-f", "app/web.yaml", "--local"], "").ok();
    std::fs::write(dir.join("doc.yaml"), run.stdout.replace("replicas: 2", "replicas: 3")).unwrap();
    no.run(&dir, &["ops", "apply", "-f", "doc.yaml", "--local", "--manifests", "app/web.yaml"], "").ok();
    let after = std::fs::read_to_string(dir.join("app/web.yaml")).unwrap();
    assert_eq!(changed_lines(&before, &after), (vec!["  replicas: 2".into()], vec!["  replicas: 3".into()]));
    // A changed `expose:` changes the Service's lines in the file, in place (never dropped).
    let changed = std::fs::read_to_string(dir.join("doc.yaml")).unwrap().replace("port: 80", "port: 8080");
    assert!(changed.contains("port: 8080"), "{changed}");
    std::fs::write(dir.join("doc.yaml"), &changed).unwrap();
    let run =
        no.run(&dir, &["ops", "apply", "-f", "doc.yaml", "--local", "--manifests", "app/web.yaml"], "").ok();
    assert_eq!(run.stdout, "service/web configured (file: app/web.yaml)\n", "{run:?}");
    let edited = std::fs::read_to_string(dir.join("app/web.yaml")).unwrap();
    assert_eq!(changed_lines(&after, &edited), (vec!["  - port: 80".into()], vec!["  - port: 8080".into()]));
    // `edit --local` shows the section and writes it the same way.
    let run = no
        .run_with(
            &dir,
            &["ops", "edit", "deploy/web", "-f", "app/web.yaml", "--local"],
            "",
            "sed -i -e 's/port: 8080/port: 9090/'",
        )
        .ok();
    assert_eq!(run.stdout, "service/web configured (file: app/web.yaml)\n", "{run:?}");
    let edited_again = std::fs::read_to_string(dir.join("app/web.yaml")).unwrap();
    assert_eq!(
        changed_lines(&edited, &edited_again),
        (vec!["  - port: 8080".into()], vec!["  - port: 9090".into()])
    );
    let edited = edited_again;
    // One it does not hold is refused, and nothing is written.
    assert!(changed.contains("expose:\n  web:\n"), "{changed}");
    let with_db = changed.replace("expose:\n  web:\n", "expose:\n  db:\n    type: ClusterIP\n  web:\n");
    std::fs::write(dir.join("doc.yaml"), with_db).unwrap();
    let err = no
        .run(&dir, &["ops", "apply", "-f", "doc.yaml", "--local", "--manifests", "app/web.yaml"], "")
        .error();
    assert!(err.contains("expose.db: no Service named \"db\" among the files' objects around it"), "{err}");
    assert_eq!(std::fs::read_to_string(dir.join("app/web.yaml")).unwrap(), edited);
    no.assert_untouched();
    let _ = std::fs::remove_dir_all(dir);
}

/// Two workloads of the files and one Service selecting both (`tier: web`).
const TWO_WORKLOADS_ONE_SERVICE: &str = "apiVersion: apps/v1
kind: Deployment
metadata:
  name: a
spec:
  selector:
    matchLabels: {app: a}
  template:
    metadata:
      labels: {app: a, tier: web}
    spec:
      containers:
      - name: app
        image: a:1
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: b
spec:
  selector:
    matchLabels: {app: b}
  template:
    metadata:
      labels: {app: b, tier: web}
    spec:
      containers:
      - name: app
        image: b:1
---
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  type: ClusterIP
  selector:
    tier: web
  ports:
  - port: 80
";

#[test]
fn local_apply_of_two_workloads_editing_one_service_keeps_both_edits_or_refuses_naming_both() {
    let dir = std::env::temp_dir().join(format!("oam-local-shared-svc-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let no = NoCluster::new(&dir);
    std::fs::write(dir.join("m.yaml"), TWO_WORKLOADS_ONE_SERVICE).unwrap();
    let run = no
        .run(&dir, &["ops", "get", "deploy/a", "deploy/b", "-f", "m.yaml", "--local", "-o", "json"], "")
        .ok();
    let list: Value = serde_json::from_str(&run.stdout).unwrap();
    let items = list["items"].as_array().cloned().unwrap_or_else(|| vec![list.clone()]);
    assert_eq!(items.len(), 2, "{run:?}");
    assert_eq!(items[0]["expose"]["web"]["type"], "ClusterIP", "{run:?}");
    // a's document changes the Service's type, b's its port: both edits land.
    let mut a = items[0].clone();
    let mut b = items[1].clone();
    a["expose"]["web"]["type"] = "NodePort".into();
    b["expose"]["web"]["ports"][0]["port"] = 8080.into();
    let docs = format!("{}\n---\n{}", serde_json::to_string(&a).unwrap(), serde_json::to_string(&b).unwrap());
    std::fs::write(dir.join("docs.yaml"), &docs).unwrap();
    let run = no.run(&dir, &["ops", "apply", "-f", "docs.yaml", "--local", "--manifests", "m.yaml"], "").ok();
    assert_eq!(run.stdout, "service/web configured (file: m.yaml)\n", "{run:?}");
    let after = std::fs::read_to_string(dir.join("m.yaml")).unwrap();
    assert_eq!(
        changed_lines(TWO_WORKLOADS_ONE_SERVICE, &after),
        (
            vec!["  type: ClusterIP".into(), "  - port: 80".into()],
            vec!["  type: NodePort".into(), "  - port: 8080".into()]
        ),
        "{after}"
    );
    // The same port changed differently by both: refused naming both workloads; nothing written.
    a["expose"]["web"]["ports"][0]["port"] = 81.into();
    b["expose"]["web"]["ports"][0]["port"] = 82.into();
    let docs = format!("{}\n---\n{}", serde_json::to_string(&a).unwrap(), serde_json::to_string(&b).unwrap());
    std::fs::write(dir.join("docs.yaml"), &docs).unwrap();
    let err =
        no.run(&dir, &["ops", "apply", "-f", "docs.yaml", "--local", "--manifests", "m.yaml"], "").error();
    assert!(
        err.contains("deployment.apps/a and deployment.apps/b both change spec.ports, differently"),
        "{err}"
    );
    assert_eq!(std::fs::read_to_string(dir.join("m.yaml")).unwrap(), after);
    // Two documents of one workload (one in a namespace, one without): one would be dropped, so
    // the run is refused naming it; nothing is written.
    let mut again = items[0].clone();
    again["namespace"] = "x".into();
    again["expose"]["web"]["type"] = "LoadBalancer".into();
    let docs = format!(
        "{}\n---\n{}",
        serde_json::to_string(&items[0]).unwrap(),
        serde_json::to_string(&again).unwrap()
    );
    std::fs::write(dir.join("docs.yaml"), &docs).unwrap();
    let err =
        no.run(&dir, &["ops", "apply", "-f", "docs.yaml", "--local", "--manifests", "m.yaml"], "").error();
    assert!(
        err.contains("docs.yaml: the document of deployment.apps/a in namespace \"x\" changes no object"),
        "{err}"
    );
    assert_eq!(std::fs::read_to_string(dir.join("m.yaml")).unwrap(), after);
    // One file under two names (a hard link) is read, and written, once.
    std::fs::hard_link(dir.join("m.yaml"), dir.join("also.yaml")).unwrap();
    let run = no
        .run(
            &dir,
            &["ops", "scale", "deploy/a", "--replicas", "4", "--local", "-f", "m.yaml", "-f", "also.yaml"],
            "",
        )
        .ok();
    assert_eq!(run.stdout, "deployment.apps/a scaled (file: m.yaml)\n", "{run:?}");
    // A file given as a symbolic link to a file out of the tree is written through, and the line
    // names the file written.
    let outside = std::env::temp_dir().join(format!("oam-local-outside-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&outside);
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::copy(dir.join("m.yaml"), outside.join("real.yaml")).unwrap();
    std::os::unix::fs::symlink(outside.join("real.yaml"), dir.join("link.yaml")).unwrap();
    let run =
        no.run(&dir, &["ops", "scale", "deploy/b", "--replicas", "5", "--local", "-f", "link.yaml"], "").ok();
    let real = std::fs::canonicalize(outside.join("real.yaml")).unwrap();
    assert_eq!(
        run.stdout,
        format!("deployment.apps/b scaled (file: link.yaml, a link: written {})\n", real.display()),
        "{run:?}"
    );
    assert!(std::fs::read_to_string(&real).unwrap().contains("replicas: 5"));
    assert!(
        std::fs::symlink_metadata(dir.join("link.yaml")).unwrap().file_type().is_symlink(),
        "the link stays"
    );
    let _ = std::fs::remove_dir_all(outside);
    no.assert_untouched();
    let _ = std::fs::remove_dir_all(dir);
}
