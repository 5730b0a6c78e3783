//! Ownership among other managers on the real server: what a role write owns, removals, values kept
//! exactly, adopt, races, and neighbours (GitOps server-side apply, client-side `kubectl apply`,
//! `kubectl set`, another developer, a status writer) that must keep doing their job.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::harness::{Ns, env, managers_of, settled, web_deployment};
use crate::writes::{APP, Editor, app_path, container, env_value, managed_entry, saved_path, yaml};

/// Every FieldsV1 path (as `f:a/k:{…}/f:b` strings) a manager owns, leaves only.
fn owned_leaves(obj: &Value, manager: &str) -> Vec<String> {
    fn walk(node: &Value, at: &str, out: &mut Vec<String>) {
        let Some(map) = node.as_object() else { return };
        let children: Vec<(&String, &Value)> = map.iter().filter(|(k, _)| k.as_str() != ".").collect();
        if children.is_empty() {
            out.push(at.to_string());
        }
        for (k, v) in children {
            walk(v, &if at.is_empty() { k.clone() } else { format!("{at}/{k}") }, out);
        }
    }
    let mut out = Vec::new();
    if let Some(fields) = managed_entry(obj, manager) {
        walk(&fields, "", &mut out);
    }
    out.sort();
    out
}

const APP_KEY: &str = "f:spec/f:template/f:spec/f:containers/k:{\"name\":\"app\"}";

#[test]
fn one_write_owns_only_what_it_set() {
    let ns = Ns::new("own-footprint");
    ns.kubectl_stdin(
        &["apply", "--server-side", "--field-manager=installer", "-f", "-"],
        &web_deployment("web"),
    )
    .ok();
    let pipeline = |build: &str| {
        ns.kubectl_stdin(
            &["apply", "--server-side", "--field-manager=pipeline", "-f", "-"],
            &format!("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  annotations: {{build: '{build}'}}\n"),
        )
    };
    pipeline("1").ok();
    ns.oam(&["dev", "set", "image", "deploy/web", "app=nginx:1.27", "--force-conflicts"]).ok();
    ns.oam(&["ops", "scale", "deploy/web", "--replicas", "3", "--force-conflicts"]).ok();
    let obj = ns.get_json("deploy/web");
    // The image (and the container's key, which any write naming the container holds), nothing else.
    assert_eq!(
        owned_leaves(&obj, "kubectl-oam-dev"),
        [format!("{APP_KEY}/f:image"), format!("{APP_KEY}/f:name")]
    );
    assert_eq!(owned_leaves(&obj, "kubectl-oam-ops"), ["f:spec/f:replicas"]);
    // The pipeline changes its own annotation without force: no conflict with kubectl-oam.
    pipeline("2").ok();
    assert_eq!(ns.get_json("deploy/web")["metadata"]["annotations"]["build"], "2");
}

/// A manifest as a GitOps controller holds it in git.
fn gitops_manifest(env: &str, ports: &str, labels: &str, annotations: &str) -> String {
    [
        "apiVersion: apps/v1",
        "kind: Deployment",
        "metadata:",
        "  name: web",
        &format!("  labels: {{{labels}}}"),
        &format!("  annotations: {{{annotations}}}"),
        "spec:",
        "  replicas: 2",
        "  selector: {matchLabels: {app: web}}",
        "  template:",
        "    metadata: {labels: {app: web}}",
        "    spec:",
        "      containers:",
        "      - name: app",
        "        image: nginx:1.25",
        &format!("        env: [{env}]"),
        &format!("        ports: [{ports}]"),
        "",
    ]
    .join("\n")
}

#[test]
fn a_gitops_apply_still_lands_and_removes_after_role_writes() {
    let ns = Ns::new("own-gitops");
    let flux = |manifest: &str| {
        ns.kubectl_stdin(
            &["apply", "--server-side", "--force-conflicts", "--field-manager=flux", "-f", "-"],
            manifest,
        )
        .ok();
    };
    flux(&gitops_manifest(
        "{name: MODE, value: prod}, {name: EXTRA, value: '1'}",
        "{containerPort: 80}",
        "app: web, team: a",
        "note: x",
    ));
    // Both roles write; each owns what it set.
    ns.oam(&["dev", "set", "env", "deploy/web", "-c", "app", "NEW=1"]).ok();
    ns.oam(&["dev", "set", "image", "deploy/web", "app=nginx:1.27", "--force-conflicts"]).ok();
    let doc = ns
        .oam(&["ops", "get", "deploy/web"])
        .ok()
        .stdout
        .replace("    team: a\n", "    team: a\n    tier: web\n");
    ns.oam_with(&["ops", "apply", "-f", "-"], &doc, &[]).ok();
    // The next sync drops EXTRA, port 80, the note and changes team: all of it lands.
    flux(&gitops_manifest("{name: MODE, value: prod}", "{containerPort: 8080}", "app: web, team: b", ""));
    let obj = ns.get_json("deploy/web");
    assert_eq!(env_value(&obj, "app", "EXTRA"), None, "a GitOps removal removes");
    let ports: Vec<i64> = container(&obj, "app")["ports"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["containerPort"].as_i64().unwrap())
        .collect();
    assert_eq!(ports, [8080]);
    assert!(obj["metadata"]["annotations"].get("note").is_none());
    assert_eq!(obj["metadata"]["labels"]["team"], "b");
    // The roles' own fields stay; flux took its image back (it forces, as GitOps does) and
    // kubectl-oam says so.
    assert_eq!(env_value(&obj, "app", "NEW").as_deref(), Some("1"));
    assert_eq!(obj["metadata"]["labels"]["tier"], "web");
    assert_eq!(container(&obj, "app")["image"], "nginx:1.25");
    let owners: Value =
        serde_json::from_str(&ns.oam(&["owners", "deploy/web", "-o", "json"]).ok().stdout).unwrap();
    let image = owners.as_array().unwrap().iter().find(|r| r["field"] == "containers.app.image").unwrap();
    assert_eq!(image["outsideRole"], json!(["flux"]));
    // A later unrelated dev write brings nothing back.
    ns.oam(&["dev", "set", "env", "deploy/web", "-c", "app", "NEW=2"]).ok();
    let obj = ns.get_json("deploy/web");
    assert_eq!(
        (env_value(&obj, "app", "EXTRA"), container(&obj, "app")["image"].as_str()),
        (None, Some("nginx:1.25"))
    );
}

#[test]
fn client_side_apply_and_kubectl_set_keep_working_beside_the_roles() {
    let ns = Ns::new("own-csa");
    ns.create(&web_deployment("web"));
    ns.oam(&["dev", "set", "env", "deploy/web", "-c", "app", "LEVEL=debug"]).ok();
    ns.oam(&["ops", "scale", "deploy/web", "--replicas", "3", "--force-conflicts"]).ok();
    // kubectl apply of a changed manifest: MODE dropped, image changed. Both land.
    let changed = web_deployment("web")
        .replace("        - {name: MODE, value: prod}\n", "")
        .replace("nginx:1.25", "nginx:1.26");
    ns.create(&changed);
    let obj = ns.get_json("deploy/web");
    assert_eq!(env_value(&obj, "app", "MODE"), None);
    assert_eq!(container(&obj, "app")["image"], "nginx:1.26");
    assert_eq!(env_value(&obj, "app", "LEVEL").as_deref(), Some("debug"), "dev's variable stays");
    // kubectl set env (an Update) changes a variable; a later dev write keeps their value.
    ns.kubectl(&["set", "env", "deploy/web", "-c", "app", "LEVEL=info"]).ok();
    ns.oam(&["dev", "set", "image", "deploy/web", "proxy=envoy:1.31", "--force-conflicts"]).ok();
    let obj = ns.get_json("deploy/web");
    assert_eq!(env_value(&obj, "app", "LEVEL").as_deref(), Some("info"));
    assert_eq!(container(&obj, "proxy")["image"], "envoy:1.31");
    // kubectl edit (an Update by kubectl-edit) changes the proxy image; a later dev write keeps it.
    let edit =
        ns.kubectl_with_env(&["edit", "deploy/web"], &[("KUBE_EDITOR", "sed -i s/envoy:1.31/envoy:1.32/")]);
    assert_eq!(edit.code, 0, "{edit:?}");
    ns.oam(&["dev", "set", "env", "deploy/web", "-c", "app", "OTHER=1"]).ok();
    let obj = ns.get_json("deploy/web");
    assert_eq!(container(&obj, "proxy")["image"], "envoy:1.32");
    let owners: Value =
        serde_json::from_str(&ns.oam(&["owners", "deploy/web", "-o", "json"]).ok().stdout).unwrap();
    let proxy = owners.as_array().unwrap().iter().find(|r| r["field"] == "containers.proxy.image").unwrap();
    assert_eq!(proxy["outsideRole"], json!(["kubectl-edit"]));
    // Removing what kubectl-set also holds: refused, then forced.
    let err = ns.oam(&["dev", "set", "env", "deploy/web", "-c", "app", "LEVEL-"]).error();
    assert!(err.contains("containers.app.env.LEVEL (held by \"kubectl-set\")"), "{err}");
    ns.oam(&["dev", "set", "env", "deploy/web", "-c", "app", "LEVEL-", "--force-conflicts"]).ok();
    assert_eq!(env_value(&ns.get_json("deploy/web"), "app", "LEVEL"), None);
}

#[test]
fn values_are_kept_exactly() {
    let ns = Ns::new("own-values");
    ns.create(&web_deployment("web"));
    let doc = ns.oam(&["dev", "get", "deploy/web"]).ok().stdout;
    // Unquoted numbers, booleans and nulls in env are refused, never re-typed.
    for (value, shown) in [("1.10", "1.1"), ("0x1F", "31"), ("1e3", "1000.0"), ("true", "true"), ("~", "")] {
        let bad = doc.replace("      MODE: prod\n", &format!("      MODE: prod\n      VERSION: {value}\n"));
        let err = ns.oam_with(&["dev", "apply", "-f", "-"], &bad, &[]).error();
        assert!(err.contains("containers.app.env.VERSION: env values are strings"), "{value}: {err}");
        assert!(
            err.contains(&format!("quote it: \"{shown}\""))
                || err.contains(&format!("quote it: \"{value}\"")),
            "{value}: {err}"
        );
    }
    assert_eq!(env_value(&ns.get_json("deploy/web"), "app", "VERSION"), None);
    // Where, and as written: the line and column, and "1.10" (not the 1.1 it was read as).
    let bad = doc.replace("      MODE: prod\n", "      MODE: prod\n      VERSION: 1.10\n");
    let err = ns.oam_with(&["dev", "apply", "-f", "-"], &bad, &[]).error();
    let line = bad.lines().position(|l| l.contains("VERSION")).unwrap() + 1;
    assert!(err.contains(&format!("line {line} column 16: containers.app.env.VERSION")), "{err}");
    assert!(err.contains("quote it: \"1.10\""), "{err}");
    // Values YAML 1.1 readers (kubectl) take for another type are refused too, wherever they are.
    for (value, kind) in [("on", "boolean"), ("2024-01-01", "timestamp")] {
        let bad = doc.replace("      MODE: prod\n", &format!("      MODE: {value}\n"));
        let err = ns.oam_with(&["dev", "apply", "-f", "-"], &bad, &[]).error();
        assert!(err.contains(&format!("take `{value}` for a {kind}; quote it")), "{err}");
    }
    let ops = ns.oam(&["ops", "get", "deploy/web"]).ok().stdout.replace("replicas: 2", "replicas: 1e10");
    let err = ns.oam_with(&["ops", "apply", "-f", "-"], &ops, &[]).error();
    assert!(err.contains("scaler.replicas: 10000000000 is out of range (at most 2147483647)"), "{err}");
    // A quantity equal in value is no change: no diff, no conflict with kubectl's ownership.
    let same = doc.replace("cpu: 100m", "cpu: '0.1'").replace("memory: 64Mi", "memory: 65536Ki");
    let diff = ns.oam_with(&["dev", "diff", "-f", "-"], &same, &[]);
    assert_eq!((diff.code, diff.stdout.as_str()), (0, ""), "{diff:?}");
    assert_eq!(
        ns.oam_with(&["dev", "apply", "-f", "-"], &same, &[]).ok().stdout,
        "deployment.apps/web unchanged\n"
    );
}

#[test]
fn duplicate_env_names_are_shown_and_kept() {
    let ns = Ns::new("own-dup");
    let manifest = web_deployment("web").replace(
        "        - {name: MODE, value: prod}\n",
        "        - {name: A, value: '1'}\n        - {name: B, value: $(A)}\n        - {name: A, value: '2'}\n",
    );
    ns.kubectl_stdin(&["create", "-f", "-"], &manifest).ok();
    let doc = yaml(&ns.oam(&["dev", "get", "deploy/web"]).ok().stdout);
    let names: Vec<&str> = doc["containers"]["app"]["env"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["A", "B", "A", "PASSWORD"], "the view keeps both, in order");
    // An unrelated write keeps them and their order.
    ns.oam(&["dev", "set", "image", "deploy/web", "proxy=envoy:1.31", "--force-conflicts"]).ok();
    let env_list = container(&ns.get_json("deploy/web"), "app")["env"].clone();
    assert_eq!(
        env_list.as_array().unwrap().iter().map(|e| e["name"].as_str().unwrap()).collect::<Vec<_>>(),
        ["A", "B", "A", "PASSWORD"]
    );
    // Touching one of them is refused with the reason.
    let err = ns.oam(&["dev", "set", "env", "deploy/web", "-c", "app", "A=3"]).error();
    assert!(
        err.contains("containers.app.env.A: the name appears more than once in the live object"),
        "{err}"
    );
}

/// The app container's env as (name, value) pairs, in order.
fn env_pairs(obj: &Value) -> Vec<(String, String)> {
    container(obj, "app")["env"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["name"].as_str().unwrap().to_string(), e["value"].as_str().unwrap_or("-").to_string()))
        .collect()
}

/// Issue 17, point 6: after `adopt`, a name that appears twice (which server-side apply cannot
/// address) is held by the role's manager by update, not by its apply: writes that leave it alone
/// go through and keep both copies; one that touches it is still refused. An object adopted before
/// (the role's apply holding it, so that every write would delete both) is refused with the way out,
/// and adopting again repairs it.
#[test]
fn adopt_beside_duplicate_env_names_keeps_later_writes_working() {
    let ns = Ns::new("own-dup-adopt");
    let manifest = web_deployment("web").replace(
        "        - {name: MODE, value: prod}\n",
        "        - {name: A, value: '1'}\n        - {name: B, value: $(A)}\n        - {name: A, value: '2'}\n",
    );
    ns.kubectl_stdin(&["create", "-f", "-"], &manifest).ok();
    let adopted = ns.oam(&["dev", "adopt", "deploy/web"]).ok();
    assert!(adopted.stderr.contains("containers.app.env.A: the name appears more than once"), "{adopted:?}");
    ns.oam(&["ops", "adopt", "deploy/web"]).ok();
    ns.oam(&["owners", "deploy/web", "--check"]).ok();
    ns.oam(&["dev", "set", "image", "deploy/web", "app=nginx:1.27"]).ok();
    ns.oam(&["dev", "set", "env", "deploy/web", "-c", "app", "NEW=1"]).ok();
    let obj = ns.get_json("deploy/web");
    let kept = [("A", "1"), ("B", "$(A)"), ("A", "2"), ("PASSWORD", "-"), ("NEW", "1")];
    let pairs = env_pairs(&obj);
    assert_eq!(pairs.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect::<Vec<_>>(), kept);
    assert_eq!(container(&obj, "app")["image"], "nginx:1.27");
    let err = ns.oam(&["dev", "set", "env", "deploy/web", "-c", "app", "A=3"]).error();
    assert!(err.contains("containers.app.env.A: the name appears more than once"), "{err}");

    // As an older adopt left it: the role's apply holds the name.
    let mut entries = obj["metadata"]["managedFields"].clone();
    let key = "k:{\"name\":\"A\"}";
    for entry in entries.as_array_mut().unwrap() {
        let role_apply = entry["manager"] == "kubectl-oam-dev" && entry["operation"] == "Apply";
        let app =
            &mut entry["fieldsV1"]["f:spec"]["f:template"]["f:spec"]["f:containers"]["k:{\"name\":\"app\"}"];
        let Some(app) = app.as_object_mut() else { continue };
        let env = app.entry("f:env").or_insert(json!({})).as_object_mut().unwrap();
        match role_apply {
            true => env.insert(key.into(), json!({})),
            false => env.remove(key),
        };
        if env.is_empty() {
            app.remove("f:env");
        }
    }
    let patch = json!([{"op": "replace", "path": "/metadata/managedFields", "value": entries}]).to_string();
    ns.kubectl(&["patch", "deploy/web", "--type=json", "-p", &patch]).ok();
    assert_eq!(managers_of(&ns.get_json("deploy/web"), &app_path(&["f:env", key])), ["kubectl-oam-dev"]);
    let err = ns.oam(&["dev", "set", "image", "deploy/web", "app=nginx:1.28"]).error();
    assert!(
        err.contains("containers.app.env.A: the name appears more than once")
            && err.contains("kubectl oam dev adopt deployment.apps/web"),
        "{err}"
    );
    ns.oam(&["dev", "adopt", "deploy/web"]).ok();
    ns.oam(&["dev", "set", "image", "deploy/web", "app=nginx:1.28"]).ok();
    let obj = ns.get_json("deploy/web");
    let pairs = env_pairs(&obj);
    assert_eq!(pairs.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect::<Vec<_>>(), kept);
    assert_eq!(container(&obj, "app")["image"], "nginx:1.28");
}

/// Issue 17, point 7: a forced scale while an HPA holds the count says the HPA will set it back
/// (naming it and its range); once the HPA is gone, the count it last set is still held by
/// kube-controller-manager (through /scale), and the refusal says that was the autoscaler's.
#[test]
fn scaling_against_an_autoscaler_says_what_it_will_do() {
    let ns = Ns::new("own-hpa-scale");
    ns.create(&web_deployment("web"));
    ns.oam(&["ops", "autoscale", "deploy/web", "--min", "2", "--max", "4"]).ok();
    let past = ns.oam(&["ops", "scale", "deploy/web", "--replicas", "9", "--force-conflicts"]).ok();
    assert_eq!(past.stdout, "deployment.apps/web scaled\n");
    assert!(
        past.stderr.contains("warning: scaler.replicas 9 is outside the range of HorizontalPodAutoscaler \"web\" (min 2, max 4)")
            && past.stderr.contains("it sets the count back within its range")
            && past.stderr.contains("kubectl oam ops autoscale deployment.apps/web --min N --max M"),
        "{past:?}"
    );
    let within = ns.oam(&["ops", "scale", "deploy/web", "--replicas", "3", "--force-conflicts"]).ok();
    assert!(
        within.stderr.contains("warning: HorizontalPodAutoscaler \"web\" (min 2, max 4) scales deployment.apps/web: it sets scaler.replicas again from its metrics"),
        "{within:?}"
    );
    // The HPA controller scales through /scale as kube-controller-manager; then the HPA goes.
    ns.kubectl(&[
        "patch",
        "deploy/web",
        "--subresource=scale",
        "--type=merge",
        "--field-manager=kube-controller-manager",
        "-p",
        r#"{"spec":{"replicas":4}}"#,
    ])
    .ok();
    ns.kubectl(&["delete", "hpa/web"]).ok();
    let err = ns.oam(&["ops", "scale", "deploy/web", "--replicas", "5"]).error();
    assert!(
        err.contains("scaler.replicas (held by \"kube-controller-manager\": the count a HorizontalPodAutoscaler set through /scale; none holds it now)")
            && err.contains("re-run with --force-conflicts"),
        "{err}"
    );
    ns.oam(&["ops", "scale", "deploy/web", "--replicas", "5", "--force-conflicts"]).ok();
    assert_eq!(ns.get_json("deploy/web")["spec"]["replicas"], 5);
}

#[test]
fn an_autoscaler_created_while_editing_is_caught() {
    let ns = Ns::new("own-hpa-edit");
    ns.create(&web_deployment("web"));
    let editor = Editor::new(
        &ns,
        &format!(
            "printf 'apiVersion: autoscaling/v2\\nkind: HorizontalPodAutoscaler\\nmetadata: {{name: web}}\\nspec:\\n  scaleTargetRef: {{apiVersion: apps/v1, kind: Deployment, name: web}}\\n  minReplicas: 1\\n  maxReplicas: 3\\n' | {} --kubeconfig {} -n {} apply -f - >/dev/null\nsed -i 's/replicas: 2/replicas: 7/' \"$1\"",
            env().kubectl_path().display(),
            env().kubeconfig.display(),
            ns.name
        ),
    );
    let err = ns
        .oam_with(&["ops", "edit", "deploy/web", "--yes"], "", &[("KUBE_EDITOR", &editor.command())])
        .error();
    assert!(err.contains("is scaled by HorizontalPodAutoscaler \"web\" (min 1, max 3)"), "{err}");
    assert!(std::fs::read_to_string(saved_path(&err)).unwrap().contains("replicas: 7"));
    assert_eq!(ns.get_json("deploy/web")["spec"]["replicas"], 2);
}

#[test]
fn adopt_moves_the_role_fields_and_owners_check_reports_strays() {
    let ns = Ns::new("own-adopt");
    ns.create(&web_deployment("web"));
    let check = ns.oam(&["owners", "deploy/web", "--check"]);
    assert_eq!(check.code, 1, "kubectl owns role fields: {check:?}");
    let before = ns.get_json("deploy/web");
    let dry = ns.oam(&["dev", "adopt", "deploy/web", "--dry-run=server"]).ok();
    let moves = |field: &str| {
        dry.stdout.lines().any(|l| {
            l.split_whitespace().collect::<Vec<_>>()
                == [field, "kubectl-client-side-apply", "kubectl-oam-dev"]
        })
    };
    assert!(moves("containers.app.env.MODE") && moves("containers.proxy.image"), "{}", dry.stdout);
    assert!(
        dry.stdout.contains("would move 7 field(s) to kubectl-oam-dev (server dry run)"),
        "{}",
        dry.stdout
    );
    assert!(dry.stderr.contains("last-applied-configuration annotation"), "{}", dry.stderr);
    assert_eq!(settled(&ns.get_json("deploy/web")), settled(&before));
    ns.oam(&["dev", "adopt", "deploy/web"]).ok();
    ns.oam(&["ops", "adopt", "deploy/web"]).ok();
    let after = ns.get_json("deploy/web");
    assert_eq!(after["spec"], before["spec"], "adopting changes no value");
    assert_eq!(managers_of(&after, &app_path(&["f:image"])), ["kubectl-oam-dev"]);
    assert_eq!(managers_of(&after, &["f:spec", "f:replicas"]), ["kubectl-oam-ops"]);
    ns.oam(&["owners", "deploy/web", "--check"]).ok();
    assert!(ns.oam(&["dev", "adopt", "deploy/web"]).ok().stdout.contains("nothing to adopt"));
    // Now the role alone owns MODE: removing it needs no force.
    ns.oam(&["dev", "set", "env", "deploy/web", "-c", "app", "MODE-"]).ok();
    assert_eq!(env_value(&ns.get_json("deploy/web"), "app", "MODE"), None);
    let _ = APP;
}

/// Several writers at once for a bounded time: every acknowledged write is present at the end (each
/// writer owns its own variable, so nothing may overwrite it), and a failure is an honest one.
#[test]
fn concurrent_writers_lose_no_acknowledged_write() {
    let ns = Ns::new("own-race");
    ns.create(&web_deployment("web"));
    let deadline = Instant::now() + Duration::from_secs(20);
    let last: HashMap<String, Option<String>> = std::thread::scope(|scope| {
        let mut handles = Vec::new();
        for writer in 0..4 {
            let ns = &ns;
            handles.push(scope.spawn(move || {
                let var = format!("W{writer}");
                let mut acknowledged = None;
                for round in 0..6 {
                    if Instant::now() > deadline {
                        break;
                    }
                    let value = format!("{round}");
                    let run = if writer == 3 {
                        // A colleague with plain kubectl (an Update manager).
                        ns.kubectl(&["set", "env", "deploy/web", "-c", "app", &format!("{var}={value}")])
                    } else {
                        ns.oam(&["dev", "set", "env", "deploy/web", "-c", "app", &format!("{var}={value}")])
                    };
                    if run.code == 0 {
                        acknowledged = Some(value);
                    } else {
                        assert!(
                            run.stderr.contains("changed since it was read")
                                || run.stderr.contains("changed since your document"),
                            "only an honest race may fail a write: {run:?}"
                        );
                    }
                }
                (var, acknowledged)
            }));
        }
        // A status writer at the same time.
        scope.spawn(|| {
            for generation in 1..20 {
                if Instant::now() > deadline {
                    break;
                }
                let patch = format!("{{\"status\":{{\"observedGeneration\":{generation}}}}}");
                let _ = ns.kubectl(&[
                    "patch",
                    "deploy/web",
                    "--subresource=status",
                    "--type=merge",
                    "-p",
                    &patch,
                ]);
            }
        });
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let obj = ns.get_json("deploy/web");
    for (var, value) in &last {
        assert!(value.is_some(), "{var}: at least one write landed");
        assert_eq!(&env_value(&obj, "app", var), value, "{var}: its last acknowledged write stands");
    }
    assert_eq!(container(&obj, "app")["image"], "nginx:1.25");
}

/// Switching to `Recreate` needs the creator's defaulted `rollingUpdate` gone in the same request:
/// refused without force (naming its holder), one guarded JSON patch with it.
#[test]
fn a_strategy_switch_removes_what_the_creator_holds_when_forced() {
    let ns = Ns::new("own-strategy");
    ns.create(&web_deployment("web"));
    let doc = ns.oam(&["ops", "get", "deploy/web"]).ok().stdout.replace(
        "    type: RollingUpdate\n    rollingUpdate:\n      maxUnavailable: 25%\n      maxSurge: 25%\n",
        "    type: Recreate\n",
    );
    assert!(doc.contains("type: Recreate") && !doc.contains("maxSurge"), "{doc}");
    let err = ns.oam_with(&["ops", "apply", "-f", "-"], &doc, &[]).error();
    assert!(
        err.contains("rollout.strategy.rollingUpdate.maxSurge (held by \"kubectl-client-side-apply\")"),
        "{err}"
    );
    let diff = ns.oam_with(&["ops", "diff", "-f", "-", "--force-conflicts"], &doc, &[]);
    assert!(
        diff.code == 1
            && diff.stdout.contains("+    type: Recreate")
            && diff.stdout.contains("-      maxSurge: 25%"),
        "{diff:?}"
    );
    ns.oam_with(&["ops", "apply", "-f", "-", "--force-conflicts"], &doc, &[]).ok();
    let obj = ns.get_json("deploy/web");
    assert_eq!(obj["spec"]["strategy"], json!({"type": "Recreate"}));
    // The patch (an Update) and the apply after it: both entries are the ops role's.
    let holders = managers_of(&obj, &["f:spec", "f:strategy", "f:type"]);
    assert!(!holders.is_empty() && holders.iter().all(|m| m == "kubectl-oam-ops"), "{holders:?}");
}
