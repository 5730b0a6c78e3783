//! kubectl's global flags, honoured by the plugin itself (kubectl passes them through untouched).

use serde_json::Value;

use crate::harness::{Ns, env, web_deployment};

fn kubeconfig() -> Value {
    serde_yaml::from_str(&std::fs::read_to_string(&env().kubeconfig).unwrap()).unwrap()
}

#[test]
fn a_kubeconfig_list_merges_as_kubectl_does() {
    let ns = Ns::new("flags-merge");
    ns.create(&web_deployment("web"));
    let full = kubeconfig();
    // File one: only a context and the current-context; file two: clusters and users.
    let dir = std::env::temp_dir().join(format!("oam-kubeconfigs-{}", ns.name));
    std::fs::create_dir_all(&dir).unwrap();
    let first = serde_json::json!({
        "apiVersion": "v1", "kind": "Config", "current-context": "merged",
        "contexts": [{"name": "merged", "context": {"cluster": "local", "user": "ops", "namespace": ns.name}}],
    });
    let mut second = full.clone();
    second.as_object_mut().unwrap().remove("current-context");
    std::fs::write(dir.join("one"), serde_yaml::to_string(&first).unwrap()).unwrap();
    std::fs::write(dir.join("two"), serde_yaml::to_string(&second).unwrap()).unwrap();
    let list = format!(
        "{}:{}:{}",
        dir.join("one").display(),
        dir.join("missing").display(),
        dir.join("two").display()
    );

    // No -n: the namespace comes from the merged context; the user is ops.
    let out = std::process::Command::new(crate::harness::oam_binary())
        .env("KUBECONFIG", &list)
        .env("KUBECACHEDIR", dir.join("cache"))
        .args(["ops", "get", "deploy/web", "-v", "6"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains(&format!("namespace: {}", ns.name)), "{stdout}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains(&format!("/namespaces/{}/deployments/web 200", ns.name)), "{stderr}");
}

#[test]
fn context_impersonation_token_and_server_flags() {
    let ns = Ns::new("flags-identity");
    ns.create(&web_deployment("web"));
    // --as: admin impersonates dev, who may not read kube-system.
    let err = ns
        .oam_in("kube-system", &["--as", "dev", "--as-group", "oam:developers", "dev", "get", "deploy/x"])
        .error();
    assert!(err.contains("User \"dev\" cannot get resource \"deployments\""), "{err}");
    // --token replaces the context's credentials.
    let err = ns.oam_in("kube-system", &["--token", "oam-ops-token", "ops", "get", "deploy/x"]).error();
    assert!(err.contains("User \"ops\""), "{err}");
    assert!(
        ns.oam(&["--token", "oam-ops-token", "ops", "get", "deploy/web"]).ok().stdout.contains("replicas: 2")
    );
    let err = ns.oam(&["--token", "wrong", "ops", "get", "deploy/web"]).error();
    assert!(err.contains("401"), "{err}");
    // --server with --insecure-skip-tls-verify and a token needs no kubeconfig entry for the server.
    let server = kubeconfig()["clusters"][0]["cluster"]["server"].as_str().unwrap().to_string();
    let run = ns
        .oam(&[
            "--server",
            &server,
            "--insecure-skip-tls-verify",
            "--token",
            "oam-admin-token",
            "dev",
            "get",
            "deploy/web",
        ])
        .ok();
    assert!(run.stdout.contains("nginx:1.25"));
    // --context picks a user; --user overrides the context's user.
    assert!(ns.oam(&["--context", "ops", "ops", "get", "deploy/web"]).ok().stdout.contains("replicas"));
    let err = ns.oam_in("kube-system", &["--user", "dev", "dev", "get", "deploy/x"]).error();
    assert!(err.contains("User \"dev\""), "{err}");
    let err = ns.oam(&["--user", "nope", "dev", "get", "deploy/web"]).error();
    assert!(err.contains("the kubeconfig has no user \"nope\""), "{err}");
    let err = ns.oam(&["--cluster", "nope", "dev", "get", "deploy/web"]).error();
    assert!(err.contains("no cluster \"nope\""), "{err}");
    let err = ns.oam(&["--context", "nope", "dev", "get", "deploy/web"]).error();
    assert!(err.contains("nope"), "{err}");
    let err = ns.oam(&["--request-timeout", "soon", "dev", "get", "deploy/web"]).error();
    assert!(err.contains("invalid --request-timeout \"soon\""), "{err}");
    assert!(ns.oam(&["--request-timeout", "5s", "dev", "get", "deploy/web"]).ok().stdout.contains("nginx"));
}

#[test]
fn suggested_commands_carry_the_namespace_and_the_flags_that_chose_the_object() {
    let ns = Ns::new("flags-suggested");
    ns.create(&web_deployment("web"));
    let kubeconfig = env().kubeconfig.display().to_string();
    let given = ["--kubeconfig", kubeconfig.as_str(), "--context", "admin"];
    let with = |args: &[&str]| -> Vec<String> { args.iter().chain(&given).map(|s| s.to_string()).collect() };
    let chosen = format!("-n {} --kubeconfig {kubeconfig} --context admin", ns.name);
    let oam = |args: &[&str]| ns.oam(&with(args).iter().map(String::as_str).collect::<Vec<_>>());

    // No terminal to confirm on: the --yes form of the same edit.
    let err = oam(&["dev", "edit", "deploy/web"]).error();
    assert!(err.ends_with(&format!("e.g. kubectl oam dev edit deployment.apps/web --yes {chosen}")), "{err}");

    // An autoscaler holds the count: the way to change its range.
    ns.create(
        "apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {name: web}\nspec:\n  \
         scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}\n  minReplicas: 2\n  maxReplicas: 6\n",
    );
    let err = oam(&["ops", "scale", "deploy/web", "--replicas", "9"]).error();
    assert!(
        err.contains(&format!("`kubectl oam ops autoscale deployment.apps/web --min N --max M {chosen}`"))
            && err.contains(&format!("`kubectl oam ops edit deployment.apps/web {chosen}`")),
        "{err}"
    );

    // A refused edit is saved; the command to go on with it, pasted as it is (elsewhere: no
    // KUBECONFIG, another current namespace), applies it to the same object.
    let editor = crate::writes::Editor::new(&ns, "sed -i 's/image: nginx:1.25/image: nginx:1.29/' \"$1\"");
    let args = with(&["dev", "edit", "deploy/web", "--yes"]);
    let run = ns.oam_with(
        &args.iter().map(String::as_str).collect::<Vec<_>>(),
        "",
        &[("KUBE_EDITOR", &editor.command())],
    );
    let err = run.error();
    let saved = crate::writes::saved_path(&err);
    let suggested = format!("kubectl oam dev apply -f {} {chosen}", saved.display());
    assert!(err.ends_with(&format!("continue with `{suggested}`")), "{err}");
    let words: Vec<&str> = suggested.split(' ').skip(2).chain(["--force-conflicts"]).collect();
    let pasted = std::process::Command::new(crate::harness::oam_binary())
        .env_remove("KUBECONFIG")
        .env("KUBECACHEDIR", std::env::temp_dir().join(format!("oam-suggested-cache-{}", ns.name)))
        .current_dir(std::env::temp_dir())
        .args(&words)
        .output()
        .unwrap();
    assert!(pasted.status.success(), "{pasted:?}");
    let obj = ns.get_json("deploy/web");
    assert_eq!(crate::writes::container(&obj, "app")["image"], "nginx:1.29");
    let _ = std::fs::remove_dir_all(saved.parent().unwrap());
}
