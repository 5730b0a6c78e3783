//! Errors that need a real API server: a CA the server's certificate does not chain to, a
//! tls-server-name the certificate does not carry, credentials the server rejects, and rejections
//! of a value that keep the field's name.

use serde_json::Value;

use crate::harness::{Ns, env, oam_binary};

/// A self-signed CA that signed nothing (its key was thrown away).
const OTHER_CA: &str = "-----BEGIN CERTIFICATE-----
MIIBrzCCAVWgAwIBAgIUfrBOme4jA6LLC2HGetMAvfupbDgwCgYIKoZIzj0EAwIw
JDEiMCAGA1UEAwwZa3ViZWN0bC1vYW0tdGVzdC1vdGhlci1jYTAgFw0yNjExMjcx
NjM4MTJaGA8yMTI2MTEwMzE2MzgxMlowJDEiMCAGA1UEAwwZa3ViZWN0bC1vYW0t
dGVzdC1vdGhlci1jYTBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABKCx7K2DEQbp
GlvtF4AKChj0GL0JZvDrraAsmGxtdAmkfeNkBMu79J3fsgY5OoXMmRKXqqSiYafT
hJsMS0Edz2GjYzBhMB0GA1UdDgQWBBTF/Jz+IemD7OmFhUOIuWJCAMQEhjAfBgNV
HSMEGDAWgBTF/Jz+IemD7OmFhUOIuWJCAMQEhjAPBgNVHRMBAf8EBTADAQH/MA4G
A1UdDwEB/wQEAwICBDAKBggqhkjOPQQDAgNIADBFAiEArXiuPtkgqZY50af6qynU
eY7lL9bHS1/NnepJBy2gjRwCIBWwJjkXYzPcc8FJbMbSsx/I1XL/sxjWfXAC9OV3
HP3G
-----END CERTIFICATE-----
";

/// The test cluster's kubeconfig with `change` applied to it, written next to the test's cache.
fn kubeconfig_with(ns: &Ns, name: &str, change: impl FnOnce(&mut Value)) -> std::path::PathBuf {
    let text = std::fs::read_to_string(&env().kubeconfig).unwrap();
    let mut config: Value = serde_yaml::from_str(&text).unwrap();
    change(&mut config);
    let dir = std::env::temp_dir().join(format!("oam-server-errors-{}", ns.name));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, serde_yaml::to_string(&config).unwrap()).unwrap();
    path
}

/// Runs kubectl-oam with another kubeconfig; returns (exit code, stderr).
fn oam_with_kubeconfig(ns: &Ns, kubeconfig: &std::path::Path, args: &[&str]) -> (i32, String) {
    let out = std::process::Command::new(oam_binary())
        .env("KUBECONFIG", kubeconfig)
        .env("KUBECACHEDIR", std::env::temp_dir().join(format!("oam-server-errors-cache-{}", ns.name)))
        .args(args)
        .args(["-n", &ns.name])
        .output()
        .unwrap();
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stderr).into_owned())
}

#[track_caller]
fn one_error((code, stderr): (i32, String)) -> String {
    let lines: Vec<&str> = stderr.lines().collect();
    assert!(code == 2 && lines.len() == 1 && lines[0].starts_with("error: "), "exit {code}: {stderr}");
    lines[0].to_string()
}

/// Every cluster of the kubeconfig gets `set`.
fn each_cluster(config: &mut Value, set: impl Fn(&mut serde_json::Map<String, Value>)) {
    for cluster in config["clusters"].as_array_mut().unwrap() {
        set(cluster["cluster"].as_object_mut().unwrap());
    }
}

#[test]
fn tls_failures_say_which_check_failed_and_what_to_fix() {
    let ns = Ns::new("tls-errors");
    ns.create(&crate::harness::web_deployment("web"));

    let other_ca = {
        use std::io::Write;
        // base64 without a dependency: let the kubeconfig point at a file instead.
        let path = std::env::temp_dir().join(format!("oam-server-errors-other-ca-{}.pem", ns.name));
        std::fs::File::create(&path).unwrap().write_all(OTHER_CA.as_bytes()).unwrap();
        path
    };
    let wrong_ca = kubeconfig_with(&ns, "wrong-ca", |c| {
        each_cluster(c, |cluster| {
            cluster.remove("certificate-authority-data");
            cluster.insert("certificate-authority".into(), Value::String(other_ca.display().to_string()));
        })
    });
    for args in [&["dev", "get", "deploy/web"][..], &["dev", "set", "image", "deploy/web", "app=nginx:1.26"]]
    {
        let line = one_error(oam_with_kubeconfig(&ns, &wrong_ca, args));
        assert!(line.contains("TLS handshake with https://"), "{line}");
        assert!(line.contains("not signed by a CA the kubeconfig trusts (unknown issuer)"), "{line}");
        assert!(line.contains("certificate-authority"), "says what to fix: {line}");
        assert!(!line.contains("may have been applied"), "nothing was sent: {line}");
    }
    // The same kubeconfig works when told not to verify: the CA was the only problem.
    let (code, stderr) =
        oam_with_kubeconfig(&ns, &wrong_ca, &["dev", "get", "deploy/web", "--insecure-skip-tls-verify"]);
    assert_eq!(code, 0, "{stderr}");

    let wrong_name = kubeconfig_with(&ns, "wrong-name", |c| {
        each_cluster(c, |cluster| {
            cluster.insert("tls-server-name".into(), Value::String("wrong.example.com".into()));
        })
    });
    let line = one_error(oam_with_kubeconfig(&ns, &wrong_name, &["ops", "get", "deploy/web"]));
    assert!(line.contains("not valid for \"wrong.example.com\""), "{line}");
    assert!(line.contains("it is for ") && line.contains("127.0.0.1") && !line.contains("DnsName"), "{line}");
    assert!(line.contains("tls-server-name"), "says what to fix: {line}");
}

#[test]
fn rejected_credentials_ask_for_a_new_login() {
    let ns = Ns::new("tls-token");
    ns.create(&crate::harness::web_deployment("web"));
    let expired = kubeconfig_with(&ns, "expired", |c| {
        for user in c["users"].as_array_mut().unwrap() {
            user["user"] = serde_json::json!({"token": "expired-token"});
        }
    });
    for args in [
        &["dev", "get", "deploy/web"][..],
        &["ops", "scale", "deploy/web", "--replicas", "3"],
        &["owners", "deploy/web"],
    ] {
        let line = one_error(oam_with_kubeconfig(&ns, &expired, args));
        assert!(line.contains("rejected the credentials (401 Unauthorized)"), "{line}");
        assert!(line.contains("expired or invalid; log in again"), "{line}");
        assert!(!line.contains("ask a cluster admin"), "a 401 is not a 403: {line}");
    }
}

#[test]
fn rejected_values_name_their_field_as_the_document_does() {
    let ns = Ns::new("server-errors-rejection");
    ns.create(&crate::harness::web_deployment("web"));
    let apply = |role: &str, doc: &str| {
        ns.oam_with(&[role, "apply", "-f", "-"], &format!("kind: Deployment\nname: web\n{doc}\n"), &[])
            .error()
    };
    // A string where a number belongs fails conversion (a 500 with the path in its message).
    let err = apply("ops", "rollout: {minReadySeconds: soon}");
    assert!(err.contains("rollout.minReadySeconds: expected numeric"), "{err}");
    let err = apply("dev", "containers: {proxy: {ports: [{containerPort: eighty}]}}");
    assert!(err.contains("containers.proxy.ports[containerPort=\"eighty\""), "{err}");
    // Validation (a 422) names containers by index; the message names them by name.
    let err = apply("dev", "containers: {proxy: {ports: [{containerPort: 99999}]}}");
    assert!(err.contains("containers.proxy.ports[0].containerPort: Invalid value: 99999"), "{err}");
    assert!(!err.contains("containers[1]"), "{err}");
}

/// A dev document of `vars` env vars of about 44 bytes each (165,000 make 7.5 MiB).
fn many_env_vars(vars: usize) -> String {
    let mut doc = String::from("kind: Deployment\nname: web\ncontainers:\n  app:\n    env:\n");
    for i in 0..vars {
        doc.push_str(&format!("      VAR_{i:07}: value-{i:07}-abcdefghij\n"));
    }
    doc
}

#[test]
fn a_document_over_the_servers_request_limit_is_refused_before_it_is_sent() {
    let ns = Ns::new("server-errors-too-large");
    ns.create(&crate::harness::web_deployment("web"));
    // 80,000 variables: 3.4 MiB of YAML, a 4.4 MiB apply body. Deciding it took minutes when each
    // item was looked for in the list being built; the server would refuse it with a 413.
    let doc = many_env_vars(80_000);
    for verb in ["apply", "diff"] {
        let run = ns.oam_with(&["dev", verb, "-f", "-", "-v", "6"], &doc, &[]);
        let requests: Vec<&str> = run.stderr.lines().filter(|l| l.contains("round_trippers")).collect();
        // Reads only (the object; the role profile, on a cold cache): nothing sent.
        assert!(requests.iter().all(|r| r.contains("] GET /")), "{requests:?}");
        assert!(requests.iter().any(|r| r.contains("/deployments/web ")), "{requests:?}");
        let err: Vec<&str> = run.stderr.lines().filter(|l| l.starts_with("error:")).collect();
        assert_eq!(
            err,
            [format!(
                "error: the document for deployment.apps/web in namespace \"{}\" is 4.4 MiB; the API server accepts at most 3 MiB per request",
                ns.name
            )],
            "{run:?}"
        );
        assert_eq!(run.code, 2);
    }
    // Nothing was written.
    let env = &ns.get_json("deploy/web")["spec"]["template"]["spec"]["containers"][0]["env"];
    assert_eq!(env.as_array().map(Vec::len), Some(2), "{env}");
}
