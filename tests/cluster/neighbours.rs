//! helm 3 (Update) and helm 4 (server-side apply) beside the roles: after dev and ops writes, helm's
//! upgrades still land and its removals still remove, and kubectl-oam reports helm's fields.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::harness::{Ns, Run, env};
use crate::writes::{container, env_value};

/// helm 4 is `helm`, helm 3 is `helm3`, both built by scripts/local-cluster (PATH with
/// OAM_TEST_KUBECONFIG).
fn helm_binary(name: &str) -> PathBuf {
    match &env().bin_dir {
        Some(dir) => dir.join(name),
        None => name.into(),
    }
}

/// A chart with one Deployment whose image, env, replicas and team label come from values.
fn chart(dir: &Path) -> PathBuf {
    let chart = dir.join("web");
    std::fs::create_dir_all(chart.join("templates")).unwrap();
    std::fs::write(chart.join("Chart.yaml"), "apiVersion: v2\nname: web\nversion: 0.1.0\n").unwrap();
    std::fs::write(
        chart.join("templates/deployment.yaml"),
        r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {app: web, team: {{ .Values.team | quote }}}
spec:
  replicas: {{ .Values.replicas }}
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: app
        image: {{ .Values.image | quote }}
        env:
        {{- range $k, $v := .Values.env }}
        - {name: {{ $k | quote }}, value: {{ $v | quote }}}
        {{- end }}
"#,
    )
    .unwrap();
    chart
}

pub(crate) fn helm(ns: &Ns, binary: &str, args: &[&str], values: &str) -> Run {
    let dir = std::env::temp_dir().join(format!("oam-helm-{}", ns.name));
    std::fs::create_dir_all(&dir).unwrap();
    let values_file = dir.join("values.yaml");
    std::fs::write(&values_file, values).unwrap();
    let output = Command::new(helm_binary(binary))
        .args(args)
        .arg(chart(&dir))
        .args(["-f", values_file.to_str().unwrap(), "-n", &ns.name, "--kubeconfig"])
        .arg(&env().kubeconfig)
        .env("HELM_CACHE_HOME", dir.join("cache"))
        .env("HELM_CONFIG_HOME", dir.join("config"))
        .env("HELM_DATA_HOME", dir.join("data"))
        .output()
        .unwrap_or_else(|e| panic!("run {binary}: {e}"));
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

pub(crate) const FIRST: &str = "image: nginx:1.25\nreplicas: 2\nteam: a\nenv: {MODE: prod, EXTRA: '1'}\n";
const NEXT: &str = "image: nginx:1.27\nreplicas: 2\nteam: b\nenv: {MODE: prod}\n";

fn outside_role(ns: &Ns, field: &str) -> Value {
    let owners: Value =
        serde_json::from_str(&ns.oam(&["owners", "deploy/web", "-o", "json"]).ok().stdout).unwrap();
    owners
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["field"] == field)
        .map_or(Value::Null, |r| r["outsideRole"].clone())
}

/// Both roles write between helm's install and its upgrade.
fn role_writes(ns: &Ns) {
    ns.oam(&["dev", "set", "env", "deploy/web", "-c", "app", "NEW=1"]).ok();
    ns.oam(&["ops", "scale", "deploy/web", "--replicas", "3", "--force-conflicts"]).ok();
    let doc = ns
        .oam(&["ops", "get", "deploy/web"])
        .ok()
        .stdout
        .replace("    team: a\n", "    team: a\n    tier: web\n");
    ns.oam_with(&["ops", "apply", "-f", "-"], &doc, &[]).ok();
}

fn upgraded_as_helm_meant(ns: &Ns) -> Value {
    let obj = ns.get_json("deploy/web");
    assert_eq!(env_value(&obj, "app", "EXTRA"), None, "helm's removal removes");
    assert_eq!(container(&obj, "app")["image"], "nginx:1.27", "helm's change lands");
    assert_eq!(obj["metadata"]["labels"]["team"], "b");
    assert_eq!(env_value(&obj, "app", "NEW").as_deref(), Some("1"), "dev's variable stays");
    assert_eq!(obj["metadata"]["labels"]["tier"], "web", "ops' label stays");
    obj
}

#[test]
fn helm3_upgrades_still_land_and_remove_beside_the_roles() {
    let ns = Ns::new("nb-helm3");
    helm(&ns, "helm3", &["install", "web"], FIRST).ok();
    role_writes(&ns);
    helm(&ns, "helm3", &["upgrade", "web"], NEXT).ok();
    let obj = upgraded_as_helm_meant(&ns);
    // helm 3's three-way patch sets every value of its manifest that differs from the live one.
    assert_eq!(obj["spec"]["replicas"], 2);
    assert_eq!(outside_role(&ns, "containers.app.image"), serde_json::json!(["helm"]));
    // A later dev write keeps helm's values.
    ns.oam(&["dev", "set", "env", "deploy/web", "-c", "app", "NEW=2"]).ok();
    let obj = ns.get_json("deploy/web");
    assert_eq!(
        (container(&obj, "app")["image"].as_str(), env_value(&obj, "app", "EXTRA")),
        (Some("nginx:1.27"), None)
    );
}

#[test]
fn helm4_server_side_upgrades_still_land_and_remove_beside_the_roles() {
    let ns = Ns::new("nb-helm4");
    helm(&ns, "helm", &["install", "web"], FIRST).ok();
    let obj = ns.get_json("deploy/web");
    assert!(
        obj["metadata"]["managedFields"].as_array().unwrap().iter().any(|e| e["operation"] == "Apply"),
        "helm 4 installs with server-side apply"
    );
    role_writes(&ns);
    // ops took replicas (forced), so helm 4's apply of its own unchanged count would conflict:
    // helm says so, and with --force-conflicts (what GitOps and helm users do) takes it back.
    let upgraded = helm(&ns, "helm", &["upgrade", "web", "--force-conflicts"], NEXT);
    let upgraded = upgraded.ok();
    assert!(upgraded.stderr.is_empty() || !upgraded.stderr.contains("Error"), "{upgraded:?}");
    upgraded_as_helm_meant(&ns);
    assert_eq!(outside_role(&ns, "containers.app.image"), serde_json::json!(["helm"]));
}
