//! Role-scoped writes on the real server: edit, apply, diff, set, scale.

use std::path::PathBuf;

use serde_json::{Value, json};

use crate::harness::{Ns, env, managers_of, web_deployment, without_status};

pub(crate) fn yaml(text: &str) -> Value {
    serde_yaml::from_str(text).unwrap_or_else(|e| panic!("not YAML ({e}): {text}"))
}

pub(crate) const APP: [&str; 5] = ["f:spec", "f:template", "f:spec", "f:containers", "k:{\"name\":\"app\"}"];

pub(crate) fn app_path<'a>(rest: &[&'a str]) -> Vec<&'a str> {
    APP.iter().copied().chain(rest.iter().copied()).collect()
}

pub(crate) fn container<'a>(obj: &'a Value, name: &str) -> &'a Value {
    obj["spec"]["template"]["spec"]["containers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("container {name}"))
}

pub(crate) fn env_value(obj: &Value, container_name: &str, var: &str) -> Option<String> {
    container(obj, container_name)["env"]
        .as_array()?
        .iter()
        .find(|e| e["name"] == var)
        .map(|e| e["value"].as_str().unwrap_or_default().to_string())
}

/// A role document without its `base` (which records the resourceVersion, so it moves with every write).
pub(crate) fn strip_base(doc: &str) -> String {
    doc.split("\nbase:\n").next().unwrap_or_default().to_string()
}

pub(crate) fn managed_entry(obj: &Value, manager: &str) -> Option<Value> {
    obj["metadata"]["managedFields"]
        .as_array()?
        .iter()
        .find(|e| e["manager"] == manager)
        .map(|e| e["fieldsV1"].clone())
}

/// An editor for KUBE_EDITOR: a shell script that gets the file as $1, with a private state folder.
pub(crate) struct Editor {
    script: PathBuf,
    state: PathBuf,
}

impl Editor {
    pub(crate) fn new(ns: &Ns, body: &str) -> Editor {
        let state = std::env::temp_dir().join(format!("oam-editor-{}", ns.name));
        let _ = std::fs::remove_dir_all(&state);
        std::fs::create_dir_all(&state).unwrap();
        let script = state.join("editor.sh");
        let text = format!(
            "#!/bin/sh\nset -e\nS={state}\nn=$(cat $S/n 2>/dev/null || echo 0); n=$((n+1)); echo $n > $S/n\ncp \"$1\" $S/seen-$n\n{body}\n",
            state = state.display()
        );
        std::fs::write(&script, text).unwrap();
        std::process::Command::new("chmod").arg("+x").arg(&script).status().unwrap();
        Editor { script, state }
    }

    pub(crate) fn command(&self) -> String {
        self.script.display().to_string()
    }

    /// What the editor was shown on its n-th opening.
    pub(crate) fn seen(&self, n: usize) -> String {
        std::fs::read_to_string(self.state.join(format!("seen-{n}"))).unwrap_or_default()
    }

    /// A file the script wrote into its state folder ($S).
    pub(crate) fn file(&self, name: &str) -> String {
        std::fs::read_to_string(self.state.join(name)).unwrap_or_default()
    }

    pub(crate) fn openings(&self) -> usize {
        std::fs::read_to_string(self.state.join("n")).map_or(0, |t| t.trim().parse().unwrap())
    }
}

/// An editor that first runs real kubectl (`kubectl_args`, as a colleague would while the editor is
/// open), then adds `VAR: 'x'` to the app container's env.
pub(crate) fn racing_editor(ns: &Ns, kubectl_args: &str, var: &str) -> Editor {
    let env = env();
    Editor::new(
        ns,
        &format!(
            "{} --kubeconfig {} -n {} {kubectl_args} >/dev/null\nsed -i \"s/      MODE: prod/      MODE: prod\\n      {var}: 'x'/\" \"$1\"",
            env.kubectl_path().display(),
            env.kubeconfig.display(),
            ns.name
        ),
    )
}

/// `kubectl oam dev edit deploy/web --yes` with `editor`.
pub(crate) fn edit_web(ns: &Ns, editor: &Editor) -> String {
    ns.oam_with(&["dev", "edit", "deploy/web", "--yes"], "", &[("KUBE_EDITOR", &editor.command())]).error()
}

pub(crate) fn saved_path(error: &str) -> PathBuf {
    let start = error.find("saved in ").expect("the error names the saved file") + "saved in ".len();
    let rest = &error[start..];
    PathBuf::from(&rest[..rest.find(':').unwrap()])
}

#[test]
fn first_write_shares_equal_values_and_conflicts_on_changed_ones() {
    let ns = Ns::new("writes-first");
    ns.create(&web_deployment("web"));
    // Equal values plus a new variable: shared ownership, no conflict.
    let doc = ns
        .oam(&["dev", "get", "deploy/web"])
        .ok()
        .stdout
        .replace("      MODE: prod\n", "      MODE: prod\n      EXTRA: '1'\n");
    let out = ns.oam_with(&["dev", "apply", "-f", "-"], &doc, &[]).ok().stdout;
    assert_eq!(out, "deployment.apps/web configured\n");
    let obj = ns.get_json("deploy/web");
    assert_eq!(env_value(&obj, "app", "EXTRA").as_deref(), Some("1"));
    // Minimal footprint: dev owns what it set (EXTRA), nothing it merely saw.
    assert_eq!(managers_of(&obj, &app_path(&["f:image"])), ["kubectl-client-side-apply"]);
    assert_eq!(managers_of(&obj, &app_path(&["f:env", "k:{\"name\":\"EXTRA\"}"])), ["kubectl-oam-dev"]);
    assert_eq!(
        managers_of(&obj, &app_path(&["f:env", "k:{\"name\":\"MODE\"}"])),
        ["kubectl-client-side-apply"]
    );

    // A changed value that kubectl still owns: a conflict naming the field and the manager.
    let changed = doc.replace("nginx:1.25", "nginx:1.27");
    let err = ns.oam_with(&["dev", "apply", "-f", "-"], &changed, &[]).error();
    assert_eq!(
        err,
        format!(
            "error: deployment.apps/web in namespace \"{}\": 1 field is owned by another field manager: containers.app.image (held by \"kubectl-client-side-apply\"); to take it over, re-run with --force-conflicts",
            ns.name
        )
    );
    assert_eq!(
        container(&ns.get_json("deploy/web"), "app")["image"],
        "nginx:1.25",
        "never forced by default"
    );
    ns.oam_with(&["dev", "apply", "-f", "-", "--force-conflicts"], &changed, &[]).ok();
    let obj = ns.get_json("deploy/web");
    assert_eq!(container(&obj, "app")["image"], "nginx:1.27");
    assert_eq!(managers_of(&obj, &app_path(&["f:image"])), ["kubectl-oam-dev"]);
}

#[test]
fn a_dev_write_leaves_ops_fields_and_their_manager_untouched_and_vice_versa() {
    let ns = Ns::new("writes-separation");
    ns.create(&web_deployment("web"));
    ns.oam(&["ops", "scale", "deploy/web", "--replicas", "3", "--force-conflicts"]).ok();
    let ops_doc = ns.oam(&["ops", "get", "deploy/web"]).ok().stdout;
    let ops_doc =
        ops_doc.replace("replicas: 3\n", "replicas: 3\nplacement:\n  nodeSelector:\n    disk: ssd\n");
    ns.oam_with(&["ops", "apply", "-f", "-"], &ops_doc, &[]).ok();
    let before = ns.get_json("deploy/web");
    let ops_before = strip_base(without_status(&ns.oam(&["ops", "get", "deploy/web"]).ok().stdout));

    ns.oam(&["dev", "set", "image", "deploy/web", "app=nginx:1.28", "--force-conflicts"]).ok();
    ns.oam(&["dev", "set", "env", "deploy/web", "-c", "app", "LEVEL=debug"]).ok();
    let after = ns.get_json("deploy/web");
    assert_eq!(
        strip_base(without_status(&ns.oam(&["ops", "get", "deploy/web"]).ok().stdout)),
        ops_before,
        "ops view unchanged by dev writes"
    );
    assert_eq!(managed_entry(&before, "kubectl-oam-ops"), managed_entry(&after, "kubectl-oam-ops"));
    assert_eq!(env_value(&after, "app", "LEVEL").as_deref(), Some("debug"));
    assert!(container(&after, "proxy").get("env").is_none(), "-c limits set env to one container");

    let dev_before = strip_base(without_status(&ns.oam(&["dev", "get", "deploy/web"]).ok().stdout));
    let dev_entry = managed_entry(&after, "kubectl-oam-dev");
    ns.oam(&["ops", "scale", "deploy/web", "--replicas", "5"]).ok();
    let last = ns.get_json("deploy/web");
    assert_eq!(last["spec"]["replicas"], 5);
    assert_eq!(strip_base(without_status(&ns.oam(&["dev", "get", "deploy/web"]).ok().stdout)), dev_before);
    assert_eq!(managed_entry(&last, "kubectl-oam-dev"), dev_entry);
}

#[test]
fn removing_a_field_removes_it_or_names_who_else_holds_it() {
    let ns = Ns::new("writes-remove");
    ns.create(&web_deployment("web"));
    ns.oam(&["dev", "set", "env", "deploy/web", "-c", "app", "ONLY_DEV=1"]).ok();
    // Drop ONLY_DEV (dev alone owns it) and MODE (kubectl owns it too).
    let doc = ns
        .oam(&["dev", "get", "deploy/web"])
        .ok()
        .stdout
        .replace("      MODE: prod\n", "")
        .replace("      ONLY_DEV: '1'\n", "");
    assert!(!doc.contains("ONLY_DEV") && !doc.contains("MODE"), "{doc}");
    let before = ns.get_json("deploy/web");
    let err = ns.oam_with(&["dev", "apply", "-f", "-"], &doc, &[]).error();
    assert_eq!(
        err,
        format!(
            "error: deployment.apps/web in namespace \"{}\": cannot remove a field another field manager also holds: containers.app.env.MODE (held by \"kubectl-client-side-apply\"); nothing was applied. Pass --force-conflicts to remove it anyway (a JSON patch that deletes the value for every manager), or ask its owner to drop it",
            ns.name
        )
    );
    assert_eq!(crate::harness::settled(&ns.get_json("deploy/web")), crate::harness::settled(&before));
    // Forced: the dry-run diff shows both go, and both really go, for every manager.
    let diff = ns.oam_with(&["dev", "diff", "-f", "-", "--force-conflicts"], &doc, &[]);
    assert_eq!(diff.code, 1, "{diff:?}");
    assert!(
        diff.stdout.contains("-      ONLY_DEV: '1'") && diff.stdout.contains("-      MODE: prod"),
        "{}",
        diff.stdout
    );
    ns.oam_with(&["dev", "apply", "-f", "-", "--force-conflicts"], &doc, &[]).ok();
    let obj = ns.get_json("deploy/web");
    assert_eq!(env_value(&obj, "app", "ONLY_DEV"), None);
    assert_eq!(env_value(&obj, "app", "MODE"), None);
    assert!(managers_of(&obj, &app_path(&["f:env", "k:{\"name\":\"MODE\"}"])).is_empty());
    assert!(env_value(&obj, "app", "PASSWORD").is_some(), "the other variables stay");
    // `set env KEY-` on a variable kubectl holds: the same rule.
    let err = ns.oam(&["dev", "set", "env", "deploy/web", "-c", "app", "PASSWORD-"]).error();
    assert!(err.contains("containers.app.env.PASSWORD (held by \"kubectl-client-side-apply\")"), "{err}");
    ns.oam(&["dev", "set", "env", "deploy/web", "-c", "app", "PASSWORD-", "--force-conflicts"]).ok();
    assert_eq!(env_value(&ns.get_json("deploy/web"), "app", "PASSWORD"), None);
}

#[test]
fn edit_reopens_with_the_reasons_until_the_document_applies() {
    let ns = Ns::new("writes-edit-loop");
    ns.create(&web_deployment("web"));
    let editor = Editor::new(
        &ns,
        r#"case $n in
  1) cp "$1" $S/orig; printf 'kind: Deployment\nname: [\n' > "$1" ;;
  2) grep -v '^#' $S/orig > "$1"; printf 'scaler:\n  replicas: 5\n' >> "$1" ;;
  3) grep -v '^#' $S/orig | sed "s/cpu: 100m/cpu: '-1'/" > "$1" ;;
  4) grep -v '^#' $S/orig | sed "s/      MODE: prod/      MODE: prod\n      EXTRA: 'yes'/" > "$1" ;;
esac"#,
    );
    // --force-conflicts: kubectl owns the cpu request, and the server must get to judge "-1" (a
    // quantity, but not one a request may be).
    let run = ns
        .oam_with(
            &["dev", "edit", "deploy/web", "--yes", "--force-conflicts"],
            "",
            &[("KUBE_EDITOR", &editor.command())],
        )
        .ok();
    assert!(run.stdout.ends_with("deployment.apps/web edited\n"), "{}", run.stdout);
    assert_eq!(editor.openings(), 4);
    let first = editor.seen(1);
    assert!(first.starts_with("# Please edit the dev document below."), "{first}");
    assert!(
        first.contains("field manager \"kubectl-oam-dev\"")
            && first.contains(&format!("`kubectl oam ops edit deployment.apps/web -n {}`", ns.name)),
        "{first}"
    );
    assert!(
        first.contains("#   containers.app.image: kubectl-client-side-apply"),
        "owners in the header: {first}"
    );
    assert!(
        editor.seen(2).starts_with("# The edit could not be applied")
            && editor.seen(2).contains("# * the edited document: line")
            && editor.seen(2).contains(": invalid YAML: "),
        "{}",
        editor.seen(2)
    );
    assert!(editor.seen(2).contains("name: ["), "the user's text is kept: {}", editor.seen(2));
    assert!(
        editor.seen(3).contains(&format!(
            "# * scaler: belongs to the ops role; use `kubectl oam ops edit deployment/web -n {}`",
            ns.name
        )),
        "{}",
        editor.seen(3)
    );
    assert!(editor.seen(4).contains("the server rejected the change"), "{}", editor.seen(4));
    assert!(run.stdout.contains("+      EXTRA: 'yes'"), "the diff is shown: {}", run.stdout);
    assert_eq!(env_value(&ns.get_json("deploy/web"), "app", "EXTRA").as_deref(), Some("yes"));
}

#[test]
fn edit_cancels_refuses_without_a_terminal_and_keeps_the_text() {
    let ns = Ns::new("writes-edit-cancel");
    ns.create(&web_deployment("web"));
    let unchanged = Editor::new(&ns, "true");
    let run = ns
        .oam_with(&["ops", "edit", "deploy/web", "--yes"], "", &[("KUBE_EDITOR", &unchanged.command())])
        .ok();
    assert_eq!(run.stdout, "Edit cancelled, no changes made.\n");
    let emptied = Editor::new(&ns, ": > \"$1\"");
    let run = ns.oam_with(&["ops", "edit", "deploy/web", "-y"], "", &[("EDITOR", &emptied.command())]).ok();
    assert_eq!(run.stdout, "Edit cancelled, saved file was empty.\n");

    // No terminal to confirm on and no --yes: refused before the editor opens, so nothing is typed in vain.
    let scale = Editor::new(&ns, "sed -i 's/replicas: 2/replicas: 6/' \"$1\"");
    let err = ns.oam_with(&["ops", "edit", "deploy/web"], "", &[("KUBE_EDITOR", &scale.command())]).error();
    assert!(err.contains("no terminal to confirm") && err.contains("--yes"), "{err}");
    assert_eq!(scale.openings(), 0);

    // A conflict after editing (kubectl owns replicas): refused, the text saved, continued later.
    let err = ns
        .oam_with(&["ops", "edit", "deploy/web", "--yes"], "", &[("KUBE_EDITOR", &scale.command())])
        .error();
    assert!(err.contains("scaler.replicas (held by \"kubectl-client-side-apply\")"), "{err}");
    let saved = saved_path(&err);
    assert!(
        err.ends_with(&format!(
            "continue with `kubectl oam ops apply -f {} -n {}`",
            saved.display(),
            ns.name
        )),
        "{err}"
    );
    let kept = std::fs::read_to_string(&saved).unwrap();
    assert!(kept.contains("replicas: 6") && !kept.starts_with('#'), "{kept}");
    assert_eq!(ns.get_json("deploy/web")["spec"]["replicas"], 2, "nothing applied");
    ns.oam(&["ops", "apply", "-f", saved.to_str().unwrap(), "--force-conflicts"]).ok();
    assert_eq!(ns.get_json("deploy/web")["spec"]["replicas"], 6);
}

#[test]
fn an_object_deleted_while_editing_is_not_found_and_not_recreated() {
    let ns = Ns::new("writes-deleted");
    ns.create(&web_deployment("web"));
    let editor = racing_editor(&ns, "delete deploy/web", "NEW");
    let err = edit_web(&ns, &editor);
    assert!(
        err.starts_with(&format!(
            "error: Deployment \"web\" in namespace \"{}\" was deleted while you were editing",
            ns.name
        )),
        "{err}"
    );
    assert!(std::fs::read_to_string(saved_path(&err)).unwrap().contains("NEW: 'x'"));
    assert_ne!(ns.kubectl(&["get", "deploy/web"]).code, 0, "apply did not re-create it");

    let doc = "kind: Deployment\nname: never\ncontainers:\n  app:\n    image: x\n";
    let err = ns.oam_with(&["dev", "apply", "-f", "-"], doc, &[]).error();
    assert!(err.contains("\"never\" not found"), "{err}");
    assert_ne!(ns.kubectl(&["get", "deploy/never"]).code, 0);
}

#[test]
fn diff_exit_codes_dry_run_and_external_diff() {
    let ns = Ns::new("writes-diff");
    ns.create(&web_deployment("web"));
    let doc = ns.oam(&["dev", "get", "deploy/web"]).ok().stdout;
    let same = ns.oam_with(&["dev", "diff", "-f", "-"], &doc, &[]);
    assert_eq!((same.code, same.stdout.as_str()), (0, ""), "{same:?}");
    let changed = doc.replace("      MODE: prod\n", "      MODE: prod\n      ADDED: '1'\n");
    let diff = ns.oam_with(&["dev", "diff", "-f", "-"], &changed, &[]);
    assert_eq!(diff.code, 1, "{diff:?}");
    assert!(
        diff.stdout.starts_with("--- deployment.apps/web (live)\n+++ deployment.apps/web (after apply)\n"),
        "{}",
        diff.stdout
    );
    assert!(diff.stdout.contains("+      ADDED: '1'") && !diff.stdout.contains('\x1b'), "{}", diff.stdout);
    let external =
        ns.oam_with(&["dev", "diff", "-f", "-"], &changed, &[("KUBECTL_EXTERNAL_DIFF", "diff -u -N")]);
    assert_eq!(external.code, 1, "{external:?}");
    assert!(
        external.stdout.contains("LIVE/apps.v1.Deployment.") && external.stdout.contains("+      ADDED: '1'"),
        "{}",
        external.stdout
    );
    let bad =
        ns.oam_with(&["dev", "diff", "-f", "-"], "kind: Deployment\nname: web\nscaler: {replicas: 1}\n", &[]);
    assert_eq!(bad.code, 2);
    assert!(bad.stderr.contains("belongs to the ops role"), "{}", bad.stderr);

    let dry = ns.oam_with(&["dev", "apply", "-f", "-", "--dry-run=server"], &changed, &[]).ok();
    assert!(dry.stdout.contains("+      ADDED: '1'"), "{}", dry.stdout);
    assert_eq!(env_value(&ns.get_json("deploy/web"), "app", "ADDED"), None, "a dry run changes nothing");
    let dry_set = ns.oam(&["dev", "set", "env", "deploy/web", "X=1", "--dry-run=server"]).ok();
    assert!(dry_set.stdout.contains("+      X: '1'"), "{}", dry_set.stdout);
    assert_eq!(env_value(&ns.get_json("deploy/web"), "app", "X"), None);
}

#[test]
fn an_autoscaler_holds_replicas_unless_forced() {
    let ns = Ns::new("writes-hpa");
    ns.create(&web_deployment("web"));
    ns.create(
        "apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {name: web-hpa}\nspec:\n  \
         scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}\n  minReplicas: 2\n  maxReplicas: 6\n",
    );
    let err = ns.oam(&["ops", "scale", "deploy/web", "--replicas", "9"]).error();
    assert_eq!(
        err,
        format!(
            "error: deployment.apps/web in namespace \"{ns}\" is scaled by HorizontalPodAutoscaler \"web-hpa\" (min 2, max 6); change its range instead with `kubectl oam ops autoscale deployment.apps/web --min N --max M -n {ns}` (or its autoscaler section in `kubectl oam ops edit deployment.apps/web -n {ns}`), or pass --force-conflicts",
            ns = ns.name
        )
    );
    // Other traits still apply; replicas stay with the autoscaler.
    let doc = ns
        .oam(&["ops", "get", "deploy/web"])
        .ok()
        .stdout
        .replace("  labels:\n", "  labels:\n    tier: web\n");
    ns.oam_with(&["ops", "apply", "-f", "-", "--force-conflicts"], &doc, &[]).ok();
    let obj = ns.get_json("deploy/web");
    assert_eq!(obj["metadata"]["labels"]["tier"], "web");
    assert!(!managers_of(&obj, &["f:spec", "f:replicas"]).contains(&"kubectl-oam-ops".into()));
    ns.oam(&["ops", "scale", "deploy/web", "--replicas", "9", "--force-conflicts"]).ok();
    // The HPA controller clamps the forced count to its maximum, through the scale subresource.
    ns.kubectl(&["wait", "deploy/web", "--for=jsonpath={.spec.replicas}=6", "--timeout=60s"]).ok();
    let obj = ns.get_json("deploy/web");
    assert_eq!(managers_of(&obj, &["f:spec", "f:replicas"]), ["kube-controller-manager"], "{obj}");
}

#[test]
fn alternating_writes_end_with_each_roles_latest_values_and_owners() {
    let ns = Ns::new("writes-alternate");
    ns.create(&web_deployment("web"));
    // The first write of each role takes its fields over from kubectl once, explicitly.
    ns.oam(&["dev", "set", "image", "deploy/web", "app=nginx:1.26", "--force-conflicts"]).ok();
    ns.oam(&["ops", "scale", "deploy/web", "--replicas", "1", "--force-conflicts"]).ok();
    for round in 1..=3 {
        ns.oam(&["dev", "set", "image", "deploy/web", &format!("app=nginx:1.2{}", 6 + round)]).ok();
        ns.oam(&["dev", "set", "env", "deploy/web", "-c", "app", &format!("ROUND={round}")]).ok();
        ns.oam(&["ops", "scale", "deploy/web", "--replicas", &(round + 2).to_string()]).ok();
        let doc = ns.oam(&["ops", "get", "deploy/web"]).ok().stdout;
        let mut doc: Value = yaml(&doc);
        doc["placement"] = json!({"nodeSelector": {"zone": format!("z{round}")},
                                  "tolerations": [{"key": "dedicated", "operator": "Equal", "value": format!("r{round}"), "effect": "NoSchedule"}]});
        ns.oam_with(&["ops", "apply", "-f", "-"], &serde_json::to_string(&doc).unwrap(), &[]).ok();
    }
    let obj = ns.get_json("deploy/web");
    let pod = &obj["spec"]["template"]["spec"];
    assert_eq!(container(&obj, "app")["image"], "nginx:1.29");
    assert_eq!(env_value(&obj, "app", "ROUND").as_deref(), Some("3"));
    assert_eq!(obj["spec"]["replicas"], 5);
    assert_eq!(pod["nodeSelector"], json!({"zone": "z3"}));
    assert_eq!(pod["tolerations"][0]["value"], "r3");
    assert_eq!(managers_of(&obj, &app_path(&["f:image"])), ["kubectl-oam-dev"]);
    assert_eq!(managers_of(&obj, &["f:spec", "f:replicas"]), ["kubectl-oam-ops"]);
    assert_eq!(managers_of(&obj, &["f:spec", "f:template", "f:spec", "f:tolerations"]), ["kubectl-oam-ops"]);
    assert_eq!(managers_of(&obj, &app_path(&["f:env", "k:{\"name\":\"ROUND\"}"])), ["kubectl-oam-dev"]);
}

#[test]
fn apply_takes_several_documents_and_a_custom_field_manager() {
    let ns = Ns::new("writes-multi");
    ns.create(&format!("{}---\n{}", web_deployment("a"), web_deployment("b")));
    let docs = format!(
        "{}---\n{}",
        ns.oam(&["dev", "get", "deploy/a"])
            .ok()
            .stdout
            .replace("      MODE: prod\n", "      MODE: prod\n      T: a\n"),
        ns.oam(&["dev", "get", "deploy/b"])
            .ok()
            .stdout
            .replace("      MODE: prod\n", "      MODE: prod\n      T: b\n")
    );
    let file = std::env::temp_dir().join(format!("{}.yaml", ns.name));
    std::fs::write(&file, &docs).unwrap();
    let out =
        ns.oam(&["dev", "apply", "-f", file.to_str().unwrap(), "--field-manager", "team-ci"]).ok().stdout;
    assert_eq!(out, "deployment.apps/a configured\ndeployment.apps/b configured\n");
    for name in ["a", "b"] {
        let obj = ns.get_json(&format!("deploy/{name}"));
        assert_eq!(env_value(&obj, "app", "T").as_deref(), Some(name));
        assert!(managers_of(&obj, &app_path(&["f:env", "k:{\"name\":\"T\"}"])).contains(&"team-ci".into()));
    }
    let removed = ns.oam(&["dev", "set", "env", "deploy/a", "T-", "--field-manager", "team-ci"]).ok();
    assert!(removed.stdout.contains("env updated"), "{removed:?}");
    assert_eq!(env_value(&ns.get_json("deploy/a"), "app", "T"), None);
    std::fs::remove_file(&file).unwrap();
}

#[test]
fn commands_of_the_other_role_are_refused_with_the_right_one() {
    let ns = Ns::new("writes-wrong-role");
    let err = ns.oam(&["dev", "scale", "deploy/web", "--replicas", "2"]).error();
    assert!(err.contains("kubectl oam ops scale"), "{err}");
    let err = ns.oam(&["ops", "set", "image", "deploy/web", "app=x"]).error();
    assert!(err.contains("`set` is a dev command"), "{err}");
    let err = ns.oam(&["dev", "set", "env", "deploy/web", "=x"]).error();
    assert!(err.contains("has no variable name"), "{err}");
}

#[test]
fn on_a_terminal_edit_offers_the_take_over_and_asks_before_applying() {
    let ns = Ns::new("writes-terminal");
    ns.create(&web_deployment("web"));
    let editor = Editor::new(&ns, "sed -i 's/image: nginx:1.25/image: nginx:1.29/' \"$1\"");
    // A real pseudo-terminal; "y" and Enter to every prompt that comes.
    let (ok, screen) =
        ns.oam_answering("dev edit deploy/web", &[("KUBE_EDITOR", &editor.command())], true, "y");
    assert!(ok, "{screen}");
    assert!(screen.contains("containers.app.image (held by \"kubectl-client-side-apply\")"), "{screen}");
    let question = screen
        .find("Take these fields over and apply to deployment.apps/web as kubectl-oam-dev (server-side apply with force)?")
        .unwrap_or_else(|| panic!("{screen}"));
    let diff =
        screen.find("\x1b[32m+    image: nginx:1.29").unwrap_or_else(|| panic!("coloured diff: {screen}"));
    assert!(diff < question, "the diff comes before the take-over question: {screen}");
    // The question offers the take-over: no advice to re-run with --force-conflicts right before it.
    assert!(!screen[..question].contains("--force-conflicts"), "{screen}");
    assert!(!screen.contains("Apply to deployment.apps/web"), "the take-over answer confirmed it: {screen}");
    assert!(screen.contains("deployment.apps/web edited"), "{screen}");
    let obj = ns.get_json("deploy/web");
    assert_eq!(container(&obj, "app")["image"], "nginx:1.29");
    assert_eq!(managers_of(&obj, &app_path(&["f:image"])), ["kubectl-oam-dev"]);
}

#[test]
fn admission_policies_judge_the_dry_run_before_anything_is_written() {
    let ns = Ns::new("writes-admission");
    ns.create(&web_deployment("web"));
    // A platform rule, enforced by the API server itself (a CEL ValidatingAdmissionPolicy), scoped
    // to this test's namespace by a label.
    ns.kubectl(&["label", "namespace", &ns.name, &format!("oam-policy={}", ns.name)]).ok();
    let policy = format!(
        r#"apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: {{name: trusted-images-{ns}}}
spec:
  failurePolicy: Fail
  matchConstraints:
    resourceRules:
    - {{apiGroups: [apps], apiVersions: [v1], operations: [CREATE, UPDATE], resources: [deployments]}}
  validations:
  - expression: "object.spec.template.spec.containers.all(c, !c.image.startsWith('untrusted.example/'))"
    message: images from untrusted.example are not allowed
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {{name: trusted-images-{ns}}}
spec:
  policyName: trusted-images-{ns}
  validationActions: [Deny]
  matchResources:
    namespaceSelector: {{matchLabels: {{oam-policy: {ns}}}}}
"#,
        ns = ns.name
    );
    ns.create(&policy);
    // Policies take effect once the server has loaded them; retry briefly rather than sleep blindly.
    let mut err = String::new();
    for _ in 0..50 {
        let run = ns.oam(&[
            "dev",
            "set",
            "image",
            "deploy/web",
            "app=untrusted.example/shop:1",
            "--force-conflicts",
            "--dry-run=server",
        ]);
        if run.code == 2 {
            err = run.error();
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    assert!(
        err.starts_with(&format!(
            "error: the server rejected the change to deployment.apps/web in namespace \"{}\"",
            ns.name
        )),
        "{err}"
    );
    assert!(err.contains("images from untrusted.example are not allowed"), "{err}");
    let err = ns
        .oam(&["dev", "set", "image", "deploy/web", "app=untrusted.example/shop:1", "--force-conflicts"])
        .error();
    assert!(err.contains("not allowed"), "{err}");
    assert_eq!(container(&ns.get_json("deploy/web"), "app")["image"], "nginx:1.25");
    ns.oam(&["dev", "set", "image", "deploy/web", "app=nginx:1.27", "--force-conflicts"]).ok();
    ns.kubectl(&[
        "delete",
        "validatingadmissionpolicybinding,validatingadmissionpolicy",
        &format!("trusted-images-{}", ns.name),
    ]);
}

#[test]
fn an_ops_write_never_lets_held_replicas_fall_back_to_the_default() {
    let ns = Ns::new("writes-hpa-keep");
    ns.create(&web_deployment("web"));
    ns.oam(&["ops", "scale", "deploy/web", "--replicas", "4", "--force-conflicts"]).ok();
    ns.create(
        "apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {name: web}\nspec:\n  \
         scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}\n  minReplicas: 2\n  maxReplicas: 8\n",
    );
    let doc = ns
        .oam(&["ops", "get", "deploy/web"])
        .ok()
        .stdout
        .replace("  labels:\n", "  labels:\n    tier: web\n");
    let diff = ns.oam_with(&["ops", "diff", "-f", "-"], &doc, &[]);
    assert_eq!(diff.code, 1, "{diff:?}");
    assert!(!diff.stdout.contains("replicas"), "replicas do not change: {}", diff.stdout);
    ns.oam_with(&["ops", "apply", "-f", "-"], &doc, &[]).ok();
    let obj = ns.get_json("deploy/web");
    assert_eq!(obj["spec"]["replicas"], 4);
    assert_eq!(obj["metadata"]["labels"]["tier"], "web");
}

#[tokio::test]
async fn a_write_never_changes_fields_outside_its_role() {
    use k8s_openapi::api::apps::v1::Deployment;
    use kube::api::{Api, Patch, PatchParams};
    let ns = Ns::new("writes-guard");
    ns.create(&web_deployment("web"));
    // A bot that owns only the replica count (server-side apply, taking it from kubectl).
    let api: Api<Deployment> = Api::namespaced(ns.client().await, &ns.name);
    let replicas = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"}, "spec": {"replicas": 3}});
    api.patch("web", &PatchParams::apply("scaler-bot").force(), &Patch::Apply(replicas))
        .await
        .expect("bot apply");
    let err =
        ns.oam(&["dev", "set", "env", "deploy/web", "X=1", "--field-manager", "kubectl-oam-ops"]).error();
    assert!(err.contains("is the ops role's manager"), "{err}");
    // A dev write as that bot would release its replicas (falling back to 1): refused.
    let err = ns.oam(&["dev", "set", "env", "deploy/web", "X=1", "--field-manager", "scaler-bot"]).error();
    assert!(err.contains("would also change fields outside the dev role (spec.replicas)"), "{err}");
    let obj = ns.get_json("deploy/web");
    assert_eq!(obj["spec"]["replicas"], 3);
    assert_eq!(env_value(&obj, "app", "X"), None);
}

#[test]
fn an_edit_raced_by_another_write_keeps_both_changes() {
    let ns = Ns::new("writes-race");
    ns.create(&web_deployment("web"));
    // While the editor is open, a colleague scales the workload: both changes stand.
    let editor = racing_editor(&ns, "scale deploy/web --replicas 5", "MINE");
    let out = ns
        .oam_with(&["dev", "edit", "deploy/web", "--yes"], "", &[("KUBE_EDITOR", &editor.command())])
        .ok()
        .stdout;
    assert!(out.ends_with("deployment.apps/web edited\n"), "{out}");
    let obj = ns.get_json("deploy/web");
    assert_eq!(obj["spec"]["replicas"], 5, "the colleague's change stands");
    assert_eq!(env_value(&obj, "app", "MINE").as_deref(), Some("x"));
}

#[test]
fn a_stale_document_or_saved_edit_never_reverts_a_later_change() {
    let ns = Ns::new("writes-stale");
    ns.create(&web_deployment("web"));
    let file = std::env::temp_dir().join(format!("{}.yaml", ns.name));
    let doc = ns.oam(&["dev", "get", "deploy/web"]).ok().stdout;
    std::fs::write(&file, &doc).unwrap();
    // A colleague sets a new image; the stale document (unchanged) applies as a no-op.
    ns.oam(&["dev", "set", "image", "deploy/web", "app=nginx:1.26", "--force-conflicts"]).ok();
    let run = ns.oam(&["dev", "apply", "-f", file.to_str().unwrap()]).ok();
    assert_eq!(run.stdout, "deployment.apps/web unchanged\n");
    assert_eq!(container(&ns.get_json("deploy/web"), "app")["image"], "nginx:1.26");
    // Changing something else in it applies that, and keeps their image.
    std::fs::write(&file, doc.replace("      MODE: prod\n", "      MODE: prod\n      MORE: '1'\n")).unwrap();
    ns.oam(&["dev", "apply", "-f", file.to_str().unwrap()]).ok();
    let obj = ns.get_json("deploy/web");
    assert_eq!(
        (container(&obj, "app")["image"].as_str(), env_value(&obj, "app", "MORE").as_deref()),
        (Some("nginx:1.26"), Some("1"))
    );
    // Changing the same field is refused, naming the value now and who set it; --force-conflicts
    // does not override it, --overwrite does.
    std::fs::write(&file, doc.replace("nginx:1.25", "nginx:1.99")).unwrap();
    for extra in [&[][..], &["--force-conflicts"][..]] {
        let mut args = vec!["dev", "apply", "-f", file.to_str().unwrap()];
        args.extend_from_slice(extra);
        let err = ns.oam(&args).error();
        assert!(
            err.contains("1 field was changed since your document was read: containers.app.image is now \"nginx:1.26\" (by kubectl-oam-dev); nothing was applied"),
            "{err}"
        );
    }
    assert_eq!(container(&ns.get_json("deploy/web"), "app")["image"], "nginx:1.26");
    ns.oam(&["dev", "apply", "-f", file.to_str().unwrap(), "--overwrite", "--force-conflicts"]).ok();
    assert_eq!(container(&ns.get_json("deploy/web"), "app")["image"], "nginx:1.99");

    // An edit of the image while a colleague sets it: refused, saved with its base, and the saved
    // file's recovery command refuses too instead of reverting.
    let editor = Editor::new(
        &ns,
        &format!(
            "{} --kubeconfig {} -n {} set image deploy/web app=nginx:2.0 >/dev/null\nsed -i 's/nginx:1.99/nginx:3.0/' \"$1\"",
            env().kubectl_path().display(),
            env().kubeconfig.display(),
            ns.name
        ),
    );
    let err = edit_web(&ns, &editor);
    assert!(err.contains("containers.app.image is now \"nginx:2.0\" (by kubectl-set)"), "{err}");
    let saved = saved_path(&err);
    let text = std::fs::read_to_string(&saved).unwrap();
    assert!(text.contains("nginx:3.0") && text.contains("\nbase:\n"), "{text}");
    let err = ns.oam(&["dev", "apply", "-f", saved.to_str().unwrap()]).error();
    assert!(err.contains("changed since your document was read"), "{err}");
    assert_eq!(container(&ns.get_json("deploy/web"), "app")["image"], "nginx:2.0");
}

#[test]
fn documents_with_mistakes_name_the_file_the_object_and_the_field() {
    let ns = Ns::new("writes-mistakes");
    ns.create(&web_deployment("web"));
    let file = std::env::temp_dir().join(format!("{}.yaml", ns.name));
    let cases = [
        (
            "kind: Deployment\nname: web\ncontainers:\n  app:\n    env:\n      A: '1'\n      A: '9'\n",
            "duplicate key \"A\" (first at line 6 column 7)",
        ),
        (
            "kind: Deployment\nname: web\ncontainers:\n  ap:\n    image: x\n",
            "containers.ap: no such container (it has app, proxy)",
        ),
        (
            "kind: Deployment\nname: web\ncontainers:\n  app:\n    ports: [{containerPort: 4294967296}]\n",
            "is out of range",
        ),
        (
            "kind: Deployment\nname: web\ncontainers:\n  app:\n    env: [A]\n",
            "containers.app.env[0]: expected {name: NAME",
        ),
        (
            "kind: Deployment\nname: web\ncontainers:\n  app:\n    env: {V: 1.10}\n",
            "containers.app.env.V: env values are strings, and this is a number; quote it",
        ),
        (
            "kind: Deployment\nname: web\nscaler: {replicas: 1e10}\n",
            "10000000000 is out of range (at most 2147483647)",
        ),
        ("kind: Deployment\nname: 'web?force=true'\n", "is not a valid Deployment name"),
    ];
    for (doc, expect) in cases {
        std::fs::write(&file, doc).unwrap();
        let err = ns.oam(&["dev", "apply", "-f", file.to_str().unwrap()]).error();
        assert!(err.contains(expect), "{err} should mention {expect}");
    }
    std::fs::write(&file, "kind: Deployment\nname: web\ncontainers:\n  app:\n    env: [A]\n").unwrap();
    let err = ns.oam(&["dev", "apply", "-f", file.to_str().unwrap()]).error();
    assert!(
        err.starts_with(&format!(
            "error: {}: deployment.apps/web in namespace \"{}\": ",
            file.display(),
            ns.name
        )),
        "{err}"
    );
    let twice =
        format!("kind: Deployment\nname: web\n---\nkind: deploy\nname: web\nnamespace: {}\n", ns.name);
    let err = ns.oam_with(&["dev", "apply", "-f", "-"], &twice, &[]).error();
    assert!(err.contains("appears twice"), "{err}");
    let err = ns.oam(&["ops", "scale", "deploy/web", "--replicas", "99999999999"]).error();
    assert!(err.contains("--replicas must be from 0 to 2147483647"), "{err}");
    let err = ns.oam(&["dev", "get", "deploy/web/status"]).error();
    assert!(err.contains("is not a valid Deployment name"), "{err}");
    let err = ns.oam(&["dev", "apply"]).error();
    assert!(err.contains("--filename") && err.contains("kubectl oam dev apply --help"), "{err}");
}

#[test]
fn every_kind_takes_writes_from_both_roles() {
    let ns = Ns::new("writes-kinds");
    // Made by a server-side apply tool that sets no labels or annotations at all.
    let kinds = r#"apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent}
spec:
  selector: {matchLabels: {app: agent}}
  template:
    metadata: {labels: {app: agent}}
    spec:
      containers: [{name: agent, image: fluentbit:3}]
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db}
spec:
  replicas: 1
  serviceName: db
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db}}
    spec:
      containers: [{name: db, image: postgres:16}]
---
apiVersion: batch/v1
kind: CronJob
metadata: {name: report}
spec:
  schedule: "0 3 * * *"
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: OnFailure
          containers: [{name: report, image: busybox:1.36}]
"#;
    ns.kubectl_stdin(&["apply", "--server-side", "--field-manager=flux", "-f", "-"], kinds).ok();
    for (target, container, image) in [
        ("ds/agent", "agent", "fluentbit:4"),
        ("sts/db", "db", "postgres:17"),
        ("cj/report", "report", "busybox:1.37"),
    ] {
        // Unchanged documents of both roles are no-ops.
        for role in ["dev", "ops"] {
            let doc = ns.oam(&[role, "get", target]).ok().stdout;
            let out = ns.oam_with(&[role, "apply", "-f", "-"], &doc, &[]).ok().stdout;
            assert!(out.ends_with(" unchanged\n"), "{role} {target}: {out}");
        }
        ns.oam(&["dev", "set", "image", target, &format!("{container}={image}"), "--force-conflicts"]).ok();
        // The first label and pod annotation of an object that had none.
        let doc = ns.oam(&["ops", "get", target]).ok().stdout;
        let doc = format!("{doc}metadata:\n  labels: {{team: a}}\n  podAnnotations: {{owner: ops}}\n");
        ns.oam_with(&["ops", "apply", "-f", "-"], &doc, &[]).ok();
        let ops = yaml(&ns.oam(&["ops", "get", target]).ok().stdout);
        assert_eq!(
            ops["metadata"],
            json!({"labels": {"team": "a"}, "podAnnotations": {"owner": "ops"}}),
            "{target}"
        );
        let dev = yaml(&ns.oam(&["dev", "get", target]).ok().stdout);
        assert_eq!(dev["containers"][container]["image"], image, "{target}");
        // And the last one removed again.
        let doc = ns.oam(&["ops", "get", target]).ok().stdout;
        let mut doc = yaml(&doc);
        doc.as_object_mut().unwrap().remove("metadata");
        ns.oam_with(&["ops", "apply", "-f", "-"], &doc.to_string(), &[]).ok();
        assert!(yaml(&ns.oam(&["ops", "get", target]).ok().stdout).get("metadata").is_none(), "{target}");
    }
}

#[test]
fn status_writes_in_between_do_not_stop_an_edit() {
    let ns = Ns::new("writes-status");
    ns.create(&web_deployment("web"));
    // Controllers write status all the time; that is not a change to what the user edited.
    let editor = racing_editor(
        &ns,
        r#"patch deploy/web --subresource=status --type=merge -p '{"status":{"observedGeneration":7}}'"#,
        "STATUS_RACE",
    );
    let run =
        ns.oam_with(&["dev", "edit", "deploy/web", "--yes"], "", &[("KUBE_EDITOR", &editor.command())]).ok();
    assert!(run.stdout.ends_with("deployment.apps/web edited\n"), "{}", run.stdout);
    assert_eq!(env_value(&ns.get_json("deploy/web"), "app", "STATUS_RACE").as_deref(), Some("x"));
}

#[test]
fn a_saved_ops_document_still_applies_after_the_autoscaler_moved_on() {
    let ns = Ns::new("writes-stale-hpa");
    ns.create(&web_deployment("web"));
    ns.create(
        "apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {name: web}\nspec:\n  \
         scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}\n  minReplicas: 2\n  maxReplicas: 8\n",
    );
    let doc = ns.oam(&["ops", "get", "deploy/web"]).ok().stdout;
    assert!(!yaml(&doc)["scaler"].is_object(), "a held count is not in the editable part: {doc}");
    // The autoscaler rescales and is retuned after the document was saved.
    ns.kubectl(&["scale", "deploy/web", "--replicas", "5"]).ok();
    ns.kubectl(&["patch", "hpa/web", "--type=merge", "-p", r#"{"spec":{"maxReplicas":10}}"#]).ok();
    let doc = doc.replace("  labels:\n", "  labels:\n    tier: web\n");
    ns.oam_with(&["ops", "apply", "-f", "-", "--force-conflicts"], &doc, &[]).ok();
    let obj = ns.get_json("deploy/web");
    assert_eq!(obj["spec"]["replicas"], 5, "the autoscaler's count stands");
    assert_eq!(obj["metadata"]["labels"]["tier"], "web");
}

#[test]
fn removing_what_others_own_is_refused_and_takes_nothing_over() {
    let ns = Ns::new("writes-kept");
    ns.create(&web_deployment("web"));
    ns.kubectl(&["rollout", "status", "deploy/web", "--timeout=60s"]).ok(); // controllers done writing
    let before = ns.get_json("deploy/web");
    // kubectl alone owns the proxy container; dropping its image from the dev document is refused.
    let doc = ns
        .oam(&["dev", "get", "deploy/web"])
        .ok()
        .stdout
        .replace("  proxy:\n    image: envoy:1.30\n", "  proxy: {}\n");
    let err = ns.oam_with(&["dev", "apply", "-f", "-"], &doc, &[]).error();
    assert!(err.contains("containers.proxy.image (held by \"kubectl-client-side-apply\")"), "{err}");
    let after = ns.get_json("deploy/web");
    assert_eq!(
        crate::harness::settled(&before),
        crate::harness::settled(&after),
        "nothing written, no ownership grab"
    );
}
