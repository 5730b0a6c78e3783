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
