//! YAML that other tools read back with the same types: kubectl-oam's output piped into real
//! kubectl, whose YAML reader (go-yaml, YAML 1.1) takes unquoted `on`, `no`, `012`, `12:30:45` or
//! `1.10` for booleans and numbers.

use serde_json::{Value, json};

use crate::harness::Ns;

/// Strings that YAML 1.1 or 1.2 readers take for other types when they are not quoted.
const AMBIGUOUS_ENV: [(&str, &str); 13] = [
    ("FLAG", "on"),
    ("ANSWER", "no"),
    ("AGREE", "yes"),
    ("OFF", "off"),
    ("Y", "y"),
    ("CODE", "012"),
    ("AT", "12:30:45"),
    ("VERSION", "1.10"),
    ("HEX", "0x1F"),
    ("EXP", "1e3"),
    ("NONE", "null"),
    ("TILDE", "~"),
    ("DAY", "2001-12-14"),
];

fn workload() -> String {
    let env: Vec<String> = AMBIGUOUS_ENV
        .iter()
        .map(|(name, value)| format!("        - {{name: \"{name}\", value: \"{value}\"}}"))
        .collect();
    format!(
        r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: ambiguous
  labels: {{app: ambiguous, enabled: "yes", build: "012", canary: "no"}}
  annotations: {{switch: "on", ratio: "1.10", at: "12:30:45", empty: "~", mask: "0x1F"}}
spec:
  replicas: 1
  selector: {{matchLabels: {{app: ambiguous}}}}
  template:
    metadata: {{labels: {{app: ambiguous, sidecar: "off"}}}}
    spec:
      containers:
      - name: app
        image: nginx:1.25
        args: ["on", "1e3", "true", "1_000"]
        env:
{}
"#,
        env.join("\n")
    )
}

fn env_of(obj: &Value) -> Vec<(String, String)> {
    obj["spec"]["template"]["spec"]["containers"][0]["env"]
        .as_array()
        .expect("env list")
        .iter()
        .map(|e| {
            (
                e["name"].as_str().unwrap_or_default().into(),
                e["value"].as_str().unwrap_or("<not a string>").into(),
            )
        })
        .collect()
}

#[test]
fn raw_bodies_apply_through_kubectl_with_every_string_intact() {
    let ns = Ns::new("yaml-roundtrip-raw");
    ns.create(&workload());
    let expected_env: Vec<(String, String)> =
        AMBIGUOUS_ENV.iter().map(|(n, v)| (n.to_string(), v.to_string())).collect();
    for role in ["dev", "ops"] {
        // The raw body holds what the role owns: adopt the fields first, so that it holds them all.
        ns.oam(&[role, "adopt", "deploy/ambiguous"]).ok();
        // The body carries the object's resourceVersion as a precondition, and controllers move
        // it on their own: read again when it moved before kubectl sent it.
        let (raw, applied) = (0..10)
            .map(|_| {
                let raw = ns.oam(&[role, "get", "deploy/ambiguous", "--raw"]).ok().stdout;
                let applied = ns.kubectl_stdin(
                    &[
                        "apply",
                        "--server-side",
                        "--dry-run=server",
                        &format!("--field-manager=kubectl-oam-{role}"),
                        "-o",
                        "json",
                        "-f",
                        "-",
                    ],
                    &raw,
                );
                (raw, applied)
            })
            .find(|(_, applied)| !applied.stderr.contains("the object has been modified"))
            .expect("the object settles");
        let applied = applied.ok();
        let obj: Value = serde_json::from_str(&applied.stdout).expect("kubectl prints JSON");
        match role {
            "dev" => {
                assert_eq!(env_of(&obj), expected_env, "{raw}");
                let args = &obj["spec"]["template"]["spec"]["containers"][0]["args"];
                assert_eq!(args, &json!(["on", "1e3", "true", "1_000"]), "{raw}");
                assert!(raw.contains("value: 'on'") && raw.contains("value: '12:30:45'"), "{raw}");
            }
            _ => {
                let labels = &obj["metadata"]["labels"];
                assert_eq!(
                    labels,
                    &json!({"app": "ambiguous", "enabled": "yes", "build": "012", "canary": "no"})
                );
                let annotations = &obj["metadata"]["annotations"];
                for (key, value) in [
                    ("switch", "on"),
                    ("ratio", "1.10"),
                    ("at", "12:30:45"),
                    ("empty", "~"),
                    ("mask", "0x1F"),
                ] {
                    assert_eq!(annotations[key], value, "{raw}");
                }
                assert_eq!(obj["spec"]["template"]["metadata"]["labels"]["sidecar"], "off", "{raw}");
            }
        }
    }
}

/// The role document itself: its env section, read by kubectl's YAML reader as a ConfigMap's data
/// (strings only), keeps every value; and kubectl-oam reads the whole document back unchanged.
#[test]
fn role_documents_read_back_with_the_same_types() {
    let ns = Ns::new("yaml-roundtrip-doc");
    ns.create(&workload());
    let doc = ns.oam(&["dev", "get", "deploy/ambiguous"]).ok().stdout;
    let env_lines: Vec<&str> = doc
        .lines()
        .skip_while(|l| l.trim() != "env:")
        .skip(1)
        .take_while(|l| l.starts_with("      "))
        .collect();
    assert_eq!(env_lines.len(), AMBIGUOUS_ENV.len(), "{doc}");
    let configmap = format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: env-copy}}\ndata:\n{}\n",
        env_lines.iter().map(|l| format!("  {}", l.trim_start())).collect::<Vec<_>>().join("\n")
    );
    let applied = ns
        .kubectl_stdin(&["apply", "--server-side", "--dry-run=server", "-o", "json", "-f", "-"], &configmap)
        .ok();
    let obj: Value = serde_json::from_str(&applied.stdout).expect("kubectl prints JSON");
    for (name, value) in AMBIGUOUS_ENV {
        assert_eq!(obj["data"][name], value, "{configmap}");
    }
    let again = ns.oam_with(&["dev", "apply", "-f", "-"], &doc, &[]).ok().stdout;
    assert!(again.contains("unchanged"), "{again}");
}
