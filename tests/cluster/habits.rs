//! kubectl habits on the imperative commands: several objects, `TYPE NAME`, flags checked before
//! anything is written, names refused across namespaces, explain of every role path.

use crate::harness::{Ns, web_deployment};

const CRONJOB: &str = r#"apiVersion: batch/v1
kind: CronJob
metadata: {name: nightly}
spec:
  schedule: "0 3 * * *"
  suspend: true
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: Never
          containers: [{name: job, image: busybox:1.36}]
"#;

fn replicas(ns: &Ns, name: &str) -> i64 {
    ns.get_json(&format!("deploy/{name}"))["spec"]["replicas"].as_i64().unwrap()
}

fn image(ns: &Ns, name: &str) -> String {
    crate::writes::container(&ns.get_json(&format!("deploy/{name}")), "app")["image"].as_str().unwrap().into()
}

#[test]
fn set_and_scale_take_several_objects_as_kubectl_does() {
    let ns = Ns::new("habits-several");
    ns.create(&web_deployment("web"));
    ns.create(&web_deployment("api"));
    ns.create(CRONJOB);

    let out = ns.oam(&["ops", "scale", "deploy", "web", "api", "--replicas", "3", "--force-conflicts"]).ok();
    assert_eq!(out.stdout, "deployment.apps/web scaled\ndeployment.apps/api scaled\n", "{out:?}");
    assert_eq!((replicas(&ns, "web"), replicas(&ns, "api")), (3, 3));
    ns.oam(&["ops", "scale", "deploy/web", "deploy/api", "--replicas", "1"]).ok();
    assert_eq!((replicas(&ns, "web"), replicas(&ns, "api")), (1, 1));

    // An object that cannot be scaled is refused before any is written.
    let err = ns.oam(&["ops", "scale", "deploy/web", "cj/nightly", "--replicas", "4"]).error();
    assert!(
        err.contains(&format!("cronjob.batch/nightly in namespace \"{}\" cannot be scaled", ns.name)),
        "{err}"
    );
    assert_eq!(replicas(&ns, "web"), 1, "nothing was written");

    // One that is missing fails on its own; the others are written, and the exit code says so.
    let run = ns.oam(&["ops", "scale", "deploy/web", "deploy/gone", "--replicas", "2"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert_eq!(run.stdout, "deployment.apps/web scaled\n", "{run:?}");
    assert!(run.stderr.starts_with("error: ") && run.stderr.contains("gone"), "{run:?}");
    assert_eq!(replicas(&ns, "web"), 2);

    ns.oam(&["dev", "set", "image", "deploy/web", "deploy/api", "app=nginx:1.28", "--force-conflicts"]).ok();
    assert_eq!((image(&ns, "web"), image(&ns, "api")), ("nginx:1.28".into(), "nginx:1.28".into()));
    ns.oam(&["dev", "set", "env", "deploy", "web", "api", "LEVEL=debug", "-c", "app"]).ok();
    for name in ["web", "api"] {
        let obj = ns.get_json(&format!("deploy/{name}"));
        assert_eq!(crate::writes::env_value(&obj, "app", "LEVEL").as_deref(), Some("debug"), "{name}");
    }
    ns.oam(&["dev", "set", "env", "deploy", "web", "api", "LEVEL-", "-c", "app"]).ok();
    let obj = ns.get_json("deploy/api");
    assert_eq!(crate::writes::env_value(&obj, "app", "LEVEL"), None);

    let err = ns.oam(&["dev", "set", "env", "deploy/web", "=x"]).error();
    assert!(err.contains(&format!("for deployment.apps/web in namespace \"{}\"", ns.name)), "{err}");
}

#[test]
fn flags_are_checked_before_anything_is_written() {
    let ns = Ns::new("habits-flags");
    ns.create(&web_deployment("web"));
    let err =
        ns.oam(&["ops", "scale", "deploy/web", "--replicas", "4", "--wait", "--timeout", "abc"]).error();
    assert!(err.contains("--timeout") && err.contains("90s"), "{err}");
    assert_eq!(replicas(&ns, "web"), 2, "nothing was written");

    let err = ns.oam(&["-A", "ops", "scale", "deploy", "web", "--replicas", "1"]).error();
    assert!(err.contains("deploy web is named") && err.contains("-n NAMESPACE"), "{err}");
    let err = ns.oam(&["-A", "owners", "deploy/web"]).error();
    assert!(err.contains("deploy/web is named"), "{err}");
    let err = ns.oam(&["-A", "explain", "ops.scaler.replicas", "deploy/web"]).error();
    assert!(err.contains("deploy/web is named"), "{err}");
    let err = ns.oam(&["-A", "dev", "get", "deploy/web"]).error();
    assert!(err.contains("instead of -A"), "{err}");
    assert_eq!(replicas(&ns, "web"), 2);
    // Listing across namespaces is still fine.
    let listed = ns.oam(&["-A", "ops", "get", "deploy"]).ok().stdout;
    assert!(listed.contains(&ns.name), "{listed}");

    let err = ns.oam(&["ops", "get", "deploy/web", "-c", "app"]).error();
    assert!(err.contains("ops documents have no containers"), "{err}");
    let err = ns.oam(&["owners", "deploy/web", "-o", "wide"]).error();
    assert!(err.contains("'wide'") && err.contains("[possible values: yaml, json]"), "{err}");
}

#[test]
fn autoscale_takes_type_name_and_explain_covers_the_autoscaler_and_init_containers() {
    let ns = Ns::new("habits-explain");
    ns.create(&web_deployment("web"));
    ns.create(CRONJOB);
    ns.create(
        r#"apiVersion: apps/v1
kind: Deployment
metadata: {name: migrating}
spec:
  replicas: 1
  selector: {matchLabels: {app: migrating}}
  template:
    metadata: {labels: {app: migrating}}
    spec:
      initContainers: [{name: migrate, image: flyway:10}]
      containers: [{name: app, image: nginx:1.25}]
"#,
    );
    ns.oam(&["ops", "autoscale", "deploy", "web", "--max", "4", "--force-conflicts"]).ok();
    let hpa = ns.get_json("hpa/web");
    assert_eq!(hpa["spec"]["maxReplicas"], 4);

    let text = ns.oam(&["explain", "ops.autoscaler.maxReplicas", "deploy", "web"]).ok().stdout;
    assert!(text.starts_with("FIELD:       ops.autoscaler.maxReplicas\n"), "{text}");
    assert!(
        text.contains("PATH:        spec.maxReplicas (in a HorizontalPodAutoscaler, autoscaling/v2)"),
        "{text}"
    );
    assert!(text.contains("upper limit for the number of replicas"), "the server's description: {text}");
    assert!(
        text.contains(
            "autoscaler.maxReplicas (horizontalpodautoscaler.autoscaling/web): kubectl-oam-ops (Apply)"
        ),
        "{text}"
    );
    let text = ns.oam(&["explain", "ops.autoscaler.metrics", "deploy/migrating"]).ok().stdout;
    assert!(text.contains("(no HorizontalPodAutoscaler targets it)"), "{text}");
    let err = ns.oam(&["ops", "autoscale", "cj", "nightly", "--max", "3"]).error();
    assert!(
        err.contains(&format!("cronjob.batch/nightly in namespace \"{}\" cannot be autoscaled", ns.name)),
        "{err}"
    );

    let text = ns.oam(&["explain", "dev.initContainers.image", "deploy/migrating"]).ok().stdout;
    assert!(text.starts_with("FIELD:       dev.initContainers.NAME.image\n"), "{text}");
    assert!(text.contains("PATH:        spec.template.spec.initContainers[*].image"), "{text}");
    assert!(text.contains("initContainers.migrate.image: kubectl-client-side-apply (Update)"), "{text}");
    let err = ns.oam(&["explain", "dev.containers.migrate.image", "deploy/migrating"]).error();
    assert!(err.contains("is in initContainers: explain dev.initContainers.migrate.image"), "{err}");
    let err = ns.oam(&["explain", "dev.containers.nope.image", "deploy/migrating"]).error();
    assert!(err.contains("has no container \"nope\"; it has app, migrate"), "{err}");

    let words = ["__complete", "explain", "ops.autoscaler."];
    let out = std::process::Command::new(crate::harness::oam_binary()).args(words).output().unwrap();
    let offered = String::from_utf8_lossy(&out.stdout);
    assert!(offered.lines().any(|l| l == "ops.autoscaler.maxReplicas"), "{offered}");
}

#[test]
fn each_user_has_their_own_cached_profile_answer() {
    let ns = Ns::new("habits-profile-cache");
    // The dev user may not read kube-public's ConfigMaps; admin may (and finds none).
    let dev = ns.oam(&["--context", "dev", "roles", "--refresh"]).ok().stdout;
    assert!(dev.contains("may not be read by this user (403 Forbidden)"), "{dev}");
    let admin = ns.oam(&["--context", "admin", "roles"]).ok().stdout;
    assert!(!admin.contains("403"), "admin's answer is not dev's cached one: {admin}");
    let dev = ns.oam(&["--context", "dev", "roles"]).ok().stdout;
    assert!(dev.contains("403 Forbidden"), "dev's own answer is still dev's: {dev}");
}

#[test]
fn completion_takes_flag_equals_value_scalable_kinds_and_selectors_with_several_keys() {
    let ns = Ns::new("habits-completion");
    ns.create(&web_deployment("web"));
    ns.create(CRONJOB);
    let complete = |words: &[&str]| ns.complete(&[&["-n", ns.name.as_str()], words].concat());
    assert_eq!(complete(&["dev", "get", "deploy/web", "-o=j"]), ["-o=json", "-o=jsonpath=", ":4"]);
    assert_eq!(complete(&["--context=o"]), ["--context=ops", ":4"]);
    assert_eq!(complete(&["dev", "get", "deploy/web", "-c=p"]), ["-c=proxy", ":4"]);
    assert_eq!(complete(&["ops", "scale", ""]), ["deploy", "sts", "rs", ":4"]);
    assert_eq!(complete(&["ops", "scale", "deploy", ""]), ["web", ":4"]);
    assert_eq!(complete(&["dev", "list", "-l", "app=web,"]), ["app=web,app=", ":6"]);
}

#[test]
fn a_failing_editor_keeps_what_it_left_and_saves_nothing_when_nothing_was_edited() {
    let ns = Ns::new("habits-editor");
    ns.create(&web_deployment("web"));
    // The shell says what is wrong with the editor on its own line; ours follows.
    let run =
        ns.oam_with(&["dev", "edit", "deploy/web", "--yes"], "", &[("KUBE_EDITOR", "/nonexistent/editor")]);
    let err = run.stderr.lines().last().unwrap_or_default();
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        err.starts_with("error: ") && err.contains("exited with") && err.ends_with("nothing was edited"),
        "{run:?}"
    );

    let dir = std::env::temp_dir().join(format!("oam-editor-{}", ns.name));
    std::fs::create_dir_all(&dir).unwrap();
    let editor = dir.join("edit-then-fail.sh");
    std::fs::write(&editor, "#!/bin/sh\nsed -i 's/image: nginx:1.25/image: nginx:1.29/' \"$1\"\nexit 1\n")
        .unwrap();
    std::fs::set_permissions(&editor, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let run = ns.oam_with(
        &["dev", "edit", "deploy/web", "--yes"],
        "",
        &[("KUBE_EDITOR", editor.to_str().unwrap())],
    );
    assert_eq!(run.code, 2, "{run:?}");
    let err = run.stderr.trim_end();
    let continued = format!(" -n {}`", ns.name);
    let saved =
        err.split("continue with `kubectl oam dev apply -f ").nth(1).unwrap().trim_end_matches(&continued);
    let text = std::fs::read_to_string(saved).unwrap();
    assert!(text.contains("image: nginx:1.29"), "the editor's changes are kept: {text}");
    assert_eq!(image(&ns, "web"), "nginx:1.25", "nothing was applied");
    ns.oam(&["dev", "apply", "-f", saved, "--force-conflicts"]).ok();
    assert_eq!(image(&ns, "web"), "nginx:1.29");
    let _ = std::fs::remove_dir_all(dir);
    let _ = std::fs::remove_file(saved);
}

#[test]
fn on_a_terminal_no_and_enter_declines_and_keeps_the_text() {
    let ns = Ns::new("habits-decline");
    ns.create(&web_deployment("web"));
    // A new variable: nobody else holds it, so the question is the plain confirmation.
    let editor = crate::writes::Editor::new(
        &ns,
        "sed -i \"s/      MODE: prod/      MODE: prod\\n      EXTRA: 'x'/\" \"$1\"",
    );
    let (ok, screen) =
        ns.oam_answering("dev edit deploy/web", &[("KUBE_EDITOR", &editor.command())], false, "n");
    assert!(!ok, "{screen}");
    assert!(screen.contains("Apply to deployment.apps/web as kubectl-oam-dev? no"), "{screen}");
    assert!(
        screen.contains("not applied: you declined") && screen.contains("your edit is saved in"),
        "{screen}"
    );
    assert_eq!(editor.openings(), 1, "the Enter after n answers nothing else: {screen}");
    let obj = ns.get_json("deploy/web");
    assert_eq!(crate::writes::env_value(&obj, "app", "EXTRA"), None);
}

#[test]
fn edit_with_a_server_dry_run_says_so_and_keeps_the_edit_to_apply() {
    let ns = Ns::new("habits-edit-dry-run");
    ns.create(&web_deployment("web"));
    let editor = crate::writes::Editor::new(
        &ns,
        "sed -i \"s/      MODE: prod/      MODE: prod\\n      EXTRA: 'x'/\" \"$1\"",
    );
    let out = ns
        .oam_with(
            &["dev", "edit", "deploy/web", "--dry-run=server"],
            "",
            &[("KUBE_EDITOR", &editor.command())],
        )
        .ok()
        .stdout;
    assert!(out.contains("+      EXTRA: x\n"), "the diff: {out}");
    let line = out.lines().last().unwrap_or_default();
    assert!(line.starts_with("deployment.apps/web edited (server dry run); your edit is kept in "), "{out}");
    assert_eq!(crate::writes::env_value(&ns.get_json("deploy/web"), "app", "EXTRA"), None, "nothing written");
    let continued = format!(" -n {}`", ns.name);
    let kept = line.split("apply -f ").nth(1).unwrap().trim_end_matches(&continued);
    ns.oam(&["dev", "apply", "-f", kept]).ok();
    assert_eq!(crate::writes::env_value(&ns.get_json("deploy/web"), "app", "EXTRA").as_deref(), Some("x"));
    let _ = std::fs::remove_file(kept);
}

#[test]
fn a_list_cut_short_by_a_forbidden_kind_still_prints_what_it_read() {
    let ns = Ns::new("habits-list-forbidden");
    ns.create(&web_deployment("web"));
    ns.create(&web_deployment("api"));
    // Developers here may list Deployments only; the StatefulSets after them are forbidden.
    ns.kubectl(&["delete", "rolebinding", "oam-roles"]).ok();
    ns.kubectl(&["create", "role", "deploys", "--verb=get,list,watch", "--resource=deployments.apps"]).ok();
    ns.kubectl(&["create", "rolebinding", "deploys", "--role=deploys", "--group=oam:developers"]).ok();
    let table = ns.oam(&["--context", "dev", "dev", "list"]);
    assert_eq!(table.code, 2, "{table:?}");
    assert!(table.stderr.starts_with("error: ") && table.stderr.contains("statefulsets"), "{table:?}");
    let names: Vec<&str> = table.stdout.lines().skip(1).filter_map(|l| l.split_whitespace().next()).collect();
    assert_eq!(names, ["api", "api", "web", "web"], "a row per container, read before the error: {table:?}");
    let json = ns.oam(&["--context", "dev", "dev", "list", "-o", "json"]);
    assert_eq!(json.code, 2, "{json:?}");
    let docs: serde_json::Value = serde_json::from_str(&json.stdout).expect("valid JSON before the error");
    assert_eq!(docs.as_array().map(Vec::len), Some(2), "{json:?}");
}

#[test]
fn list_cells_stay_on_one_line_and_one_object_flags_are_refused() {
    let ns = Ns::new("habits-list-cells");
    ns.create(
        r#"apiVersion: apps/v1
kind: Deployment
metadata: {name: odd}
spec:
  replicas: 1
  selector: {matchLabels: {app: odd}}
  template:
    metadata: {labels: {app: odd}}
    spec:
      containers:
      - {name: app, image: busybox:1.36, command: [sh, -c], args: ["echo a\nsleep\t3600"]}
"#,
    );
    let table = ns.oam(&["dev", "list", "-o", "wide"]).ok().stdout;
    assert_eq!(table.lines().count(), 2, "one header, one row: {table}");
    assert!(table.contains(r"echo a\nsleep\t3600"), "{table}");
    // A sort key no object has is a mistyped path (kubectl says so of lists too); an empty one does
    // not sort.
    let err = ns.oam(&["dev", "list", "--sort-by", ".scalar.replicas"]).error();
    assert!(err.contains("no object has this field"), "{err}");
    ns.oam(&["dev", "list", "--sort-by", ""]).ok();
    for flag in [["-c", "app"].as_slice(), &["--raw"], &["--show-owners"]] {
        let err = ns.oam(&[&["dev", "get", "deploy"], flag].concat()).error();
        assert!(err.contains("works on one object's document"), "{flag:?}: {err}");
    }
}

#[test]
fn several_documents_printed_as_a_json_list_apply_back_unchanged() {
    let ns = Ns::new("habits-json-list");
    ns.create(&web_deployment("web"));
    ns.create(&web_deployment("api"));
    let list = ns.oam(&["ops", "get", "deploy/web", "deploy/api", "-o", "json"]).ok().stdout;
    let out = ns.oam_with(&["ops", "apply", "-f", "-"], &list, &[]).ok().stdout;
    assert_eq!(out, "deployment.apps/web unchanged\ndeployment.apps/api unchanged\n");
    let changed = list.replacen("\"replicas\": 2", "\"replicas\": 3", 1);
    ns.oam_with(&["ops", "apply", "-f", "-", "--force-conflicts"], &changed, &[]).ok();
    assert_eq!(replicas(&ns, "web"), 3);
    assert_eq!(replicas(&ns, "api"), 2);
}
