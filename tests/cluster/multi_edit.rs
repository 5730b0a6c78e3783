//! Several objects in one editor run (`edit deploy/a sts/db`, `edit deploy a b`, `edit -l …`) on the
//! real server, with a scripted $KUBE_EDITOR.

use std::time::{Duration, Instant};

use crate::harness::{Ns, env, managers_of, web_deployment};
use crate::writes::{Editor, app_path, container, env_value, managed_entry, saved_path};

/// A small StatefulSet whose dev document looks like the Deployment's (`      MODE: prod`).
fn database(name: &str) -> String {
    format!(
        "apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {{name: {name}, labels: {{app: {name}}}}}\nspec:\n  \
         replicas: 1\n  serviceName: {name}\n  selector: {{matchLabels: {{app: {name}}}}}\n  template:\n    \
         metadata: {{labels: {{app: {name}}}}}\n    spec:\n      containers:\n      - name: app\n        \
         image: postgres:16\n        env: [{{name: MODE, value: prod}}]\n"
    )
}

/// Real kubectl as the editor script runs it (a colleague's command while the editor is open).
fn kubectl_line(ns: &Ns, args: &str) -> String {
    format!(
        "{} --kubeconfig {} -n {} {args} >/dev/null",
        env().kubectl_path().display(),
        env().kubeconfig.display(),
        ns.name
    )
}

/// sed: in the document of object NAME only (from its `name:` line to the next `---`), add a
/// variable after MODE.
fn add_var_in(name: &str, var: &str) -> String {
    format!(
        "sed -i \"/^name: {name}$/,/^---$/ s/      MODE: prod/      MODE: prod\\n      {var}: 'x'/\" \"$1\""
    )
}

fn sts_env(obj: &serde_json::Value, var: &str) -> Option<String> {
    env_value(obj, "app", var)
}

#[test]
fn one_editor_run_changes_several_objects_each_under_its_roles_manager() {
    let ns = Ns::new("multi-edit-both");
    ns.create(&web_deployment("web"));
    ns.create(&database("db"));
    // dev: a new variable in both documents, in one run.
    let dev = Editor::new(&ns, "sed -i \"s/      MODE: prod/      MODE: prod\\n      EXTRA: 'x'/\" \"$1\"");
    let run = ns
        .oam_with(&["dev", "edit", "deploy/web", "sts/db", "--yes"], "", &[("KUBE_EDITOR", &dev.command())])
        .ok();
    assert_eq!(dev.openings(), 1);
    let first = dev.seen(1);
    assert!(first.starts_with("# Please edit the dev documents below, one per object"), "{first}");
    assert!(first.contains("Deleting an\n# object's document leaves that object as it is"), "{first}");
    assert!(
        first.contains("\nname: web\n") && first.contains("\n---\nkind: StatefulSet\nname: db\n"),
        "{first}"
    );
    assert!(!first.contains("\nbase:"), "bases stay out of the editor: {first}");
    assert!(
        run.stdout.contains("+      EXTRA: x\n")
            && run.stdout.contains("deployment.apps/web edited\n")
            && run.stdout.ends_with("statefulset.apps/db edited\n"),
        "{}",
        run.stdout
    );
    // ops: a label on both.
    let ops = Editor::new(&ns, "sed -i 's/^  labels:$/  labels:\\n    owner: shop-team/' \"$1\"");
    ns.oam_with(&["ops", "edit", "sts/db", "deploy/web", "--yes"], "", &[("KUBE_EDITOR", &ops.command())])
        .ok();
    for what in ["deploy/web", "sts/db"] {
        let obj = ns.get_json(what);
        assert_eq!(sts_env(&obj, "EXTRA").as_deref(), Some("x"), "{what}");
        assert_eq!(obj["metadata"]["labels"]["owner"], "shop-team", "{what}");
        assert_eq!(
            managers_of(&obj, &app_path(&["f:env", "k:{\"name\":\"EXTRA\"}"])),
            ["kubectl-oam-dev"],
            "{what}"
        );
        assert_eq!(managers_of(&obj, &["f:metadata", "f:labels", "f:owner"]), ["kubectl-oam-ops"], "{what}");
        // Each role's manager holds only its own fields.
        let dev_fields = managed_entry(&obj, "kubectl-oam-dev").unwrap().to_string();
        let ops_fields = managed_entry(&obj, "kubectl-oam-ops").unwrap().to_string();
        assert!(!dev_fields.contains("f:labels") && !ops_fields.contains("f:containers"), "{what}");
    }
}

#[test]
fn a_failing_document_reopens_alone_and_the_others_stay_applied() {
    let ns = Ns::new("multi-edit-reopen");
    for name in ["a", "b", "c"] {
        ns.create(&web_deployment(name));
    }
    // 1: a gains a variable; a colleague sets b's image while b's image is edited (stale); c asks for
    //    an impossible cpu request. 2: c is fixed, b is not. 3: saved again unchanged: give up.
    let editor = Editor::new(
        &ns,
        &format!(
            r#"case $n in
  1) {}
     {}
     sed -i '/^name: b$/,/^---$/ s/image: nginx:1.25/image: nginx:3.0/' "$1"
     sed -i '/^name: c$/,/^---$/ s/cpu: 100m/cpu: lots/' "$1" ;;
  2) sed -i 's/cpu: lots/cpu: 200m/' "$1" ;;
esac"#,
            kubectl_line(&ns, "set image deploy/b app=nginx:2.0"),
            add_var_in("a", "EXTRA")
        ),
    );
    // --force-conflicts: kubectl owns the images and requests ("lots" is refused before the server).
    let run = ns.oam_with(
        &["dev", "edit", "deploy/a", "deploy/b", "deploy/c", "--yes", "--force-conflicts"],
        "",
        &[("KUBE_EDITOR", &editor.command())],
    );
    assert_eq!(editor.openings(), 3, "{run:?}");
    let second = editor.seen(2);
    assert!(second.starts_with("# The edit could not be applied"), "{second}");
    assert!(
        second.contains(&format!(
            "# * deployment.apps/b in namespace \"{}\": 1 field was changed since your document was read: containers.app.image is now \"nginx:2.0\" (by kubectl-set)",
            ns.name
        )),
        "{second}"
    );
    assert!(
        second.contains("# * deployment.apps/c: line ")
            && second.contains(": containers.app.resources.requests.cpu: \"lots\" is not a quantity"),
        "{second}"
    );
    assert!(
        second.contains("\nname: b\n") && second.contains("\nname: c\n") && !second.contains("\nname: a\n"),
        "only the failed documents reopen: {second}"
    );
    assert!(second.contains("cpu: lots") && second.contains("image: nginx:3.0"), "the user's text is kept");
    let third = editor.seen(3);
    assert!(third.contains("\nname: b\n") && !third.contains("\nname: c\n"), "{third}");

    // Applied: a, then c; b failed, named, its text saved with its base.
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stdout.contains("deployment.apps/a edited\n")
            && run.stdout.contains("deployment.apps/c edited\n"),
        "{}",
        run.stdout
    );
    let err = run.error();
    assert!(err.starts_with("error: deployment.apps/b in namespace"), "{err}");
    let saved = saved_path(&err);
    let text = std::fs::read_to_string(&saved).unwrap();
    assert!(
        text.contains("name: b\n") && !text.contains("name: a\n") && !text.contains("name: c\n"),
        "{text}"
    );
    assert!(text.contains("nginx:3.0") && text.contains("\nbase:\n"), "{text}");
    let a = ns.get_json("deploy/a");
    assert_eq!(env_value(&a, "app", "EXTRA").as_deref(), Some("x"));
    let c = ns.get_json("deploy/c");
    assert_eq!(container(&c, "app")["resources"]["requests"]["cpu"], "200m");
    assert_eq!(container(&ns.get_json("deploy/b"), "app")["image"], "nginx:2.0");
    // The saved file cannot revert the colleague's image either.
    let err = ns.oam(&["dev", "apply", "-f", saved.to_str().unwrap()]).error();
    assert!(err.contains("changed since your document was read"), "{err}");
    assert_eq!(container(&ns.get_json("deploy/b"), "app")["image"], "nginx:2.0");
}

#[test]
fn a_selector_edits_what_it_matches_and_controlled_objects_are_left_out() {
    let ns = Ns::new("multi-edit-selector");
    for name in ["a", "b", "c"] {
        ns.create(&web_deployment(name));
    }
    ns.kubectl(&["label", "deploy/a", "deploy/b", "tier=web"]).ok();
    // A ReplicaSet with the label that a controller manages (as a Deployment's are; made here so that
    // the test does not wait for a busy deployment controller). The owner must exist, or the garbage
    // collector deletes it.
    ns.create("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: keeper}\n");
    let keeper = ns.kubectl(&["get", "configmap", "keeper", "-o", "jsonpath={.metadata.uid}"]).ok().stdout;
    ns.create(&format!(
        "apiVersion: apps/v1\nkind: ReplicaSet\nmetadata:\n  name: a-owned\n  labels: {{app: a}}\n  \
         ownerReferences: [{{apiVersion: v1, kind: ConfigMap, name: keeper, uid: {keeper}, controller: true}}]\nspec:\n  \
         replicas: 0\n  selector: {{matchLabels: {{app: a, owned: x}}}}\n  template:\n    metadata: {{labels: {{app: a, owned: x}}}}\n    \
         spec:\n      containers: [{{name: app, image: x}}]\n",
    ));
    let ops = Editor::new(&ns, "sed -i 's/^  labels:$/  labels:\\n    owner: shop-team/' \"$1\"");
    let run = ns
        .oam_with(
            &["ops", "edit", "deploy", "-l", "tier=web", "--yes"],
            "",
            &[("KUBE_EDITOR", &ops.command())],
        )
        .ok();
    assert!(
        run.stdout.contains("deployment.apps/a edited\n")
            && run.stdout.contains("deployment.apps/b edited\n"),
        "{}",
        run.stdout
    );
    let labels = |name: &str| ns.get_json(&format!("deploy/{name}"))["metadata"]["labels"]["owner"].clone();
    assert_eq!(
        (labels("a"), labels("b"), labels("c")),
        ("shop-team".into(), "shop-team".into(), serde_json::Value::Null)
    );

    // Every kind: the ReplicaSet the selector also matches belongs to its Deployment, left out.
    let look = Editor::new(&ns, "true");
    let run =
        ns.oam_with(&["dev", "edit", "-l", "app=a", "--yes"], "", &[("KUBE_EDITOR", &look.command())]).ok();
    assert_eq!(run.stdout, "Edit cancelled, no changes made.\n");
    let seen = look.seen(1);
    assert!(seen.contains("kind: Deployment\nname: a\n") && !seen.contains("ReplicaSet"), "{seen}");

    // TYPE NAME NAME: both in one run.
    let both = Editor::new(&ns, "true");
    ns.oam_with(&["dev", "edit", "deploy", "a", "c", "--yes"], "", &[("KUBE_EDITOR", &both.command())]).ok();
    assert!(both.seen(1).contains("\nname: a\n") && both.seen(1).contains("\nname: c\n"));

    let err = ns.oam(&["dev", "edit", "deploy", "-l", "nothing=here", "--yes"]).error();
    assert_eq!(err, format!("error: no deployments in namespace \"{}\" match -l nothing=here", ns.name));
    let err = ns.oam(&["dev", "edit", "deploy/a", "-l", "tier=web", "--yes"]).error();
    assert!(err.contains("give names or -l SELECTOR, not both"), "{err}");
    let err = ns.oam(&["dev", "edit", "deploy/a", "-A", "--yes"]).error();
    assert!(err.contains("-A (--all-namespaces) is not supported: pass -n NAMESPACE"), "{err}");
}

#[test]
fn a_renamed_document_is_refused_and_a_deleted_one_leaves_its_object_alone() {
    let ns = Ns::new("multi-edit-rename");
    ns.create(&web_deployment("a"));
    ns.create(&web_deployment("b"));
    // Controllers write status; the object's own changes show in its generation and managers.
    let untouched = |obj: serde_json::Value| {
        (
            obj["metadata"]["generation"].clone(),
            obj["metadata"]["managedFields"].as_array().map(|m| {
                m.iter()
                    .filter(|e| e["subresource"] != "status")
                    .map(|e| e["manager"].clone())
                    .collect::<Vec<_>>()
            }),
        )
    };
    let b_before = untouched(ns.get_json("deploy/b"));
    // 1: a changed, b renamed. 2: (nothing was applied) b's document deleted, a still changed.
    let editor = Editor::new(
        &ns,
        &format!(
            r#"case $n in
  1) {}
     sed -i 's/^name: b$/name: zzz/' "$1" ;;
  2) {} -o jsonpath='{{.spec.template.spec.containers[0].env[*].name}}' > $S/a-env-2
     sed -i '/^---$/,$d' "$1" ;;
esac"#,
            add_var_in("a", "EXTRA"),
            kubectl_line(&ns, "get deploy/a").replace(" >/dev/null", "")
        ),
    );
    let run = ns
        .oam_with(
            &["dev", "edit", "deploy/a", "deploy/b", "--yes"],
            "",
            &[("KUBE_EDITOR", &editor.command())],
        )
        .ok();
    assert_eq!(editor.openings(), 2);
    assert!(
        editor.seen(2).contains("# * the document at line")
            && editor.seen(2).contains("is for Deployment/zzz in namespace")
            && editor.seen(2).contains("nothing was applied"),
        "{}",
        editor.seen(2)
    );
    let state = std::path::Path::new(&editor.command()).with_file_name("a-env-2");
    let env_then = std::fs::read_to_string(state).unwrap();
    assert!(!env_then.contains("EXTRA"), "nothing applied while a document was refused: {env_then}");
    assert_eq!(run.stdout.trim_end().lines().last(), Some("deployment.apps/a edited"), "{}", run.stdout);
    assert_eq!(env_value(&ns.get_json("deploy/a"), "app", "EXTRA").as_deref(), Some("x"));
    assert_eq!(untouched(ns.get_json("deploy/b")), b_before, "b left alone");
    assert_ne!(ns.kubectl(&["get", "deploy/zzz"]).code, 0);
}

#[test]
fn an_object_deleted_meanwhile_is_named_and_not_recreated_while_the_others_apply() {
    let ns = Ns::new("multi-edit-deleted");
    ns.create(&web_deployment("a"));
    ns.create(&web_deployment("b"));
    let editor = Editor::new(
        &ns,
        &format!(
            "{}\nsed -i \"s/      MODE: prod/      MODE: prod\\n      NEW: 'x'/\" \"$1\"",
            kubectl_line(&ns, "delete deploy/b --wait=false")
        ),
    );
    let run = ns.oam_with(
        &["dev", "edit", "deploy/a", "deploy/b", "--yes"],
        "",
        &[("KUBE_EDITOR", &editor.command())],
    );
    assert_eq!(editor.openings(), 1, "a deleted object does not reopen the editor");
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stdout.contains("deployment.apps/a edited\n"), "{}", run.stdout);
    let err = run.error();
    assert!(
        err.starts_with(&format!(
            "error: Deployment \"b\" in namespace \"{}\" was deleted while you were editing; nothing was applied to it and it is not re-created",
            ns.name
        )),
        "{err}"
    );
    let text = std::fs::read_to_string(saved_path(&err)).unwrap();
    assert!(text.contains("name: b\n") && text.contains("NEW: 'x'") && !text.contains("name: a\n"), "{text}");
    assert_eq!(env_value(&ns.get_json("deploy/a"), "app", "NEW").as_deref(), Some("x"));
    let deadline = Instant::now() + Duration::from_secs(30);
    while ns.kubectl(&["get", "deploy/b"]).code == 0 {
        assert!(Instant::now() < deadline, "deploy/b was re-created or never went away");
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Two documents run together (their `---` deleted) do not parse; the text saved when the user
/// gives up still carries each object's base, so applying it later cannot revert a colleague.
#[test]
fn a_saved_stream_that_does_not_parse_keeps_every_base() {
    let ns = Ns::new("multi-edit-merged");
    ns.create(&web_deployment("a"));
    ns.create(&database("b"));
    let colleague = kubectl_line(&ns, "set image sts/b app=postgres:17");
    let editor = Editor::new(&ns, &format!("if [ $n = 1 ]; then {colleague}; sed -i '/^---$/d' \"$1\"; fi"));
    let run = ns.oam_with(
        &["dev", "edit", "deploy/a", "sts/b", "--yes"],
        "",
        &[("KUBE_EDITOR", &editor.command())],
    );
    assert_eq!(editor.openings(), 2, "{run:?}");
    let err = run.error();
    let saved = saved_path(&err);
    let text = std::fs::read_to_string(&saved).unwrap();
    assert_eq!(text.matches("\nbase: {").count(), 2, "a base beside each name: {text}");
    // The user puts the `---` back and applies the saved file: b keeps the colleague's image.
    let fixed = text.replace("\nkind: StatefulSet\n", "\n---\nkind: StatefulSet\n");
    std::fs::write(&saved, fixed).unwrap();
    ns.oam(&["dev", "apply", "-f", saved.to_str().unwrap()]).ok();
    assert_eq!(container(&ns.get_json("sts/b"), "app")["image"], "postgres:17");
    let _ = std::fs::remove_file(saved);
}
