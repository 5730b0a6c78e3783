//! `kubectl oam policy` on the real server: the generated ValidatingAdmissionPolicy holds the `dev`
//! and `ops` users (groups oam:developers / oam:operators, bound to the built-in `edit` role) to
//! their roles' fields when they use plain kubectl. Each test binds its own policy to its own
//! namespace (by a label), so tests running in parallel are not affected, and removes it at the end.

use std::time::Duration;

use serde_json::Value;

use crate::harness::{Ns, Run, repo, web_deployment};

/// A policy installed with `kubectl oam policy --apply` for one namespace; removed when dropped.
pub(crate) struct Installed<'a> {
    ns: &'a Ns,
    name: String,
    selector: String,
}

impl Installed<'_> {
    /// The arguments that name this test's policy, for --check and re-applies.
    fn args<'b>(&'b self, extra: &[&'b str]) -> Vec<&'b str> {
        let mut args = vec!["policy", "--name", &self.name, "--namespace-selector", &self.selector];
        args.extend(extra);
        args
    }
}

impl Drop for Installed<'_> {
    fn drop(&mut self) {
        let kinds = "validatingadmissionpolicybinding,validatingadmissionpolicy";
        self.ns.kubectl(&["delete", kinds, &self.name, "--ignore-not-found"]);
        let reader = format!("{}-profile-reader", self.name);
        self.ns.kubectl(&["delete", "role,rolebinding", &reader, "-n", "kube-public", "--ignore-not-found"]);
    }
}

/// Labels the namespace and installs the policy bound to it alone, as admin.
pub(crate) fn install<'a>(ns: &'a Ns, extra: &[&str]) -> Installed<'a> {
    let selector = format!("oam-policy={}", ns.name);
    ns.kubectl(&["label", "namespace", &ns.name, &selector, "--overwrite"]).ok();
    let installed = Installed { ns, name: format!("oam-{}", ns.name), selector };
    let out = ns.oam(&installed.args(&[&["--apply", "--yes"], extra].concat())).ok().stdout;
    assert!(
        out.contains(&format!(
            "validatingadmissionpolicy.admissionregistration.k8s.io/{} created",
            installed.name
        )),
        "{out}"
    );
    installed
}

/// Plain kubectl as one of the token users.
pub(crate) fn as_user(ns: &Ns, user: &str, args: &[&str]) -> Run {
    ns.kubectl(&[&["--context", user], args].concat())
}

fn as_user_stdin(ns: &Ns, user: &str, args: &[&str], stdin: &str) -> Run {
    ns.kubectl_stdin(&[&["--context", user], args].concat(), stdin)
}

/// The server loads a new or changed policy shortly after the write; retry until `ready` holds.
/// (The deadline only bounds how long a real failure takes to show: under load, compiling a policy
/// takes the server seconds.)
fn eventually(what: &str, mut ready: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + Duration::from_secs(90);
    while std::time::Instant::now() < deadline {
        if ready() {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("{what} never happened in 90s");
}

/// Waits until the policy denies a developer's label change (a server-side dry-run).
pub(crate) fn enforced(ns: &Ns, object: &str) {
    eventually("enforcement", || {
        as_user(ns, "dev", &["label", object, "probe=1", "--dry-run=server"])
            .stderr
            .contains("denied request")
    });
}

#[track_caller]
pub(crate) fn denied(run: Run, expect: &str) -> String {
    assert_ne!(run.code, 0, "expected a denial, got {run:#?}");
    assert!(run.stderr.contains("denied request: ") && run.stderr.contains(expect), "{expect}: {run:#?}");
    assert!(!run.stderr.contains("cost"), "within the CEL cost budget: {}", run.stderr);
    run.stderr
}

fn get(ns: &Ns, what: &str) -> Value {
    serde_json::from_str(&ns.kubectl(&["get", what, "-o", "json"]).ok().stdout).expect("JSON")
}

/// The object as JSON after `change`, for `kubectl replace` (an edit-style PUT).
fn changed(ns: &Ns, what: &str, change: impl FnOnce(&mut Value)) -> String {
    let mut obj = get(ns, what);
    change(&mut obj);
    obj.to_string()
}

/// `kubectl replace` of a changed object, read and changed again when a controller wrote in between
/// (a Conflict), as `kubectl edit` would have the user do.
fn replaced(ns: &Ns, what: &str, change: impl Fn(&mut Value), run: impl Fn(&str) -> Run) -> Run {
    for _ in 0..10 {
        let result = run(&changed(ns, what, &change));
        if !result.stderr.contains("the object has been modified") {
            return result;
        }
    }
    panic!("{what} kept changing under kubectl replace");
}

const DEV_HINT: &str = "(dev role: use kubectl oam dev as a member of oam:developers)";
const OPS_HINT: &str = "(ops role: use kubectl oam ops as a member of oam:operators)";
const NO_ROLE: &str = "(no role: ask a cluster admin)";

#[test]
fn raw_kubectl_is_held_to_each_role_on_a_deployment() {
    let ns = Ns::new("policy-deploy");
    ns.create(&web_deployment("web"));
    let _policy = install(&ns, &[]);
    enforced(&ns, "deploy/web");
    let dev = |args: &[&str]| as_user(&ns, "dev", args);
    let ops = |args: &[&str]| as_user(&ns, "ops", args);

    // Developers: their container fields, by any kubectl command.
    dev(&["set", "image", "deploy/web", "app=nginx:1.26"]).ok();
    dev(&["set", "env", "deploy/web", "-c", "app", "FEATURE=on"]).ok();
    replaced(
        &ns,
        "deploy/web",
        |d| d["spec"]["template"]["spec"]["containers"][1]["image"] = "envoy:1.31".into(),
        |put| as_user_stdin(&ns, "dev", &["replace", "-f", "-"], put),
    )
    .ok();
    // A client-side apply rewrites the last-applied annotation: bookkeeping, not an ops field.
    let applied =
        web_deployment("web").replace("nginx:1.25", "nginx:1.27").replace("envoy:1.30", "envoy:1.31");
    as_user_stdin(
        &ns,
        "dev",
        &["apply", "-f", "-"],
        &applied.replace(
            "        - {name: MODE, value: prod}\n",
            "        - {name: MODE, value: prod}\n        - {name: FEATURE, value: 'on'}\n",
        ),
    )
    .ok();
    // A rollout restart changes no declared field: both roles may (docs/enforcing.md).
    dev(&["rollout", "restart", "deploy/web"]).ok();
    // ... and nothing else.
    let err = denied(dev(&["scale", "deploy/web", "--replicas", "5"]), &format!("spec.replicas {OPS_HINT}"));
    assert!(err.contains("oam:developers may not change spec.replicas"), "{err}");
    denied(dev(&["label", "deploy/web", "team=x"]), &format!("metadata.labels[team] {OPS_HINT}"));
    denied(dev(&["annotate", "deploy/web", "note=x"]), &format!("metadata.annotations[note] {OPS_HINT}"));
    let put = replaced(
        &ns,
        "deploy/web",
        |d| d["spec"]["replicas"] = 7.into(),
        |put| as_user_stdin(&ns, "dev", &["replace", "-f", "-"], put),
    );
    denied(put, &format!("spec.replicas {OPS_HINT}"));
    denied(
        dev(&["patch", "deploy/web", "-p", r#"{"spec":{"paused":true}}"#]),
        &format!("spec.paused {NO_ROLE}"),
    );
    let pull =
        r#"[{"op":"replace","path":"/spec/template/spec/containers/0/imagePullPolicy","value":"Always"}]"#;
    denied(
        dev(&["patch", "deploy/web", "--type=json", "-p", pull]),
        &format!("spec.template.spec.containers[app].imagePullPolicy {NO_ROLE}"),
    );
    let add = r#"[{"op":"add","path":"/spec/template/spec/containers/-","value":{"name":"extra","image":"busybox"}}]"#;
    denied(
        dev(&["patch", "deploy/web", "--type=json", "-p", add]),
        &format!("spec.template.spec.containers[*].name {NO_ROLE}"),
    );

    // Operators: the traits.
    ops(&["scale", "deploy/web", "--replicas", "3"]).ok();
    ops(&["label", "deploy/web", "team=checkout"]).ok();
    ops(&["annotate", "deploy/web", "owner=sre"]).ok();
    let tolerate =
        r#"{"spec":{"template":{"spec":{"tolerations":[{"key":"dedicated","operator":"Exists"}]}}}}"#;
    ops(&["patch", "deploy/web", "-p", tolerate]).ok();
    replaced(
        &ns,
        "deploy/web",
        |d| d["spec"]["minReadySeconds"] = 5.into(),
        |put| as_user_stdin(&ns, "ops", &["replace", "-f", "-"], put),
    )
    .ok();
    let err = denied(
        ops(&["set", "image", "deploy/web", "app=nginx:1.28"]),
        &format!("spec.template.spec.containers[app].image {DEV_HINT}"),
    );
    assert!(err.contains("oam:operators may not change"), "{err}");
    denied(
        ops(&["set", "env", "deploy/web", "-c", "app", "MODE=dev"]),
        &format!("spec.template.spec.containers[app].env {DEV_HINT}"),
    );
    let account = r#"{"spec":{"template":{"spec":{"serviceAccountName":"other"}}}}"#;
    let err = denied(ops(&["patch", "deploy/web", "-p", account]), NO_ROLE);
    assert!(err.contains("spec.template.spec.serviceAccountName"), "{err}");

    // Neither role creates or deletes workloads.
    denied(
        dev(&["create", "deployment", "new", "--image=nginx", "--dry-run=server"]),
        "oam:developers may not create deployments",
    );
    denied(ops(&["delete", "deploy/web", "--dry-run=server"]), "oam:operators may not delete deployments");

    let obj = get(&ns, "deploy/web");
    assert_eq!(obj["spec"]["replicas"], 3);
    assert_eq!(obj["spec"]["template"]["spec"]["containers"][0]["image"], "nginx:1.27");
    assert_eq!(obj["spec"]["template"]["spec"]["containers"].as_array().unwrap().len(), 2);
    assert_eq!(obj["metadata"]["labels"]["team"], "checkout");
    assert!(obj["spec"].get("paused").is_none());

    // A member of both groups holds both roles, and still nothing else.
    let both = ["--as", "both", "--as-group", "oam:developers", "--as-group", "oam:operators"];
    replaced(
        &ns,
        "deploy/web",
        |d| {
            d["spec"]["replicas"] = 1.into();
            d["spec"]["template"]["spec"]["containers"][0]["image"] = "nginx:1.29".into();
        },
        |put| ns.kubectl_stdin(&[&both[..], &["replace", "-f", "-"]].concat(), put),
    )
    .ok();
    let paused =
        ns.kubectl(&[&both[..], &["patch", "deploy/web", "-p", r#"{"spec":{"paused":true}}"#]].concat());
    denied(paused, &format!("oam:developers, oam:operators may not change spec.paused {NO_ROLE}"));

    // The role groups may read the cluster's profile (no more permission warning).
    let can =
        |user: &str, what: &str| as_user(&ns, user, &["auth", "can-i", "get", what, "-n", "kube-public"]);
    assert_eq!(can("dev", "configmaps/kubectl-oam-profile").ok().stdout.trim(), "yes");
    assert_eq!(can("ops", "configmaps/kubectl-oam-profile").ok().stdout.trim(), "yes");
    assert_eq!(can("dev", "configmaps/other").stdout.trim(), "no");
}

#[test]
fn every_workload_kind_and_init_containers_are_covered() {
    let ns = Ns::new("policy-kinds");
    ns.create(
        r#"apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db}
spec:
  serviceName: db
  replicas: 1
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db}}
    spec:
      initContainers: [{name: migrate, image: migrate:1}]
      containers: [{name: db, image: db:1}]
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent}
spec:
  selector: {matchLabels: {app: agent}}
  template:
    metadata: {labels: {app: agent}}
    spec:
      containers: [{name: agent, image: agent:1}]
---
apiVersion: apps/v1
kind: ReplicaSet
metadata: {name: cache}
spec:
  replicas: 1
  selector: {matchLabels: {app: cache}}
  template:
    metadata: {labels: {app: cache}}
    spec:
      containers: [{name: cache, image: cache:1}]
---
apiVersion: batch/v1
kind: Job
metadata: {name: once}
spec:
  suspend: true
  template:
    spec:
      restartPolicy: Never
      containers: [{name: run, image: run:1}]
---
apiVersion: batch/v1
kind: CronJob
metadata: {name: nightly}
spec:
  schedule: "0 1 * * *"
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: Never
          containers: [{name: run, image: run:1}]
"#,
    );
    let _policy = install(&ns, &[]);
    enforced(&ns, "sts/db");
    let dev = |args: &[&str]| as_user(&ns, "dev", args);
    let ops = |args: &[&str]| as_user(&ns, "ops", args);

    // StatefulSet: /scale is the operators'; init containers are the developers', like containers.
    denied(dev(&["scale", "sts/db", "--replicas", "2"]), &format!("spec.replicas {OPS_HINT}"));
    ops(&["scale", "sts/db", "--replicas", "2"]).ok();
    dev(&["set", "image", "sts/db", "migrate=migrate:2", "db=db:2"]).ok();
    denied(
        ops(&["set", "image", "sts/db", "migrate=migrate:3"]),
        &format!("spec.template.spec.initContainers[migrate].image {DEV_HINT}"),
    );
    let mount = r#"[{"op":"add","path":"/spec/template/spec/initContainers/0/workingDir","value":"/x"}]"#;
    denied(
        dev(&["patch", "sts/db", "--type=json", "-p", mount]),
        &format!("initContainers[migrate].workingDir {NO_ROLE}"),
    );
    let sts = get(&ns, "sts/db");
    assert_eq!(sts["spec"]["replicas"], 2);
    assert_eq!(sts["spec"]["template"]["spec"]["initContainers"][0]["image"], "migrate:2");

    // DaemonSet: the server bumps its template-generation annotation in the developer's request.
    dev(&["set", "image", "ds/agent", "agent=agent:2"]).ok();
    assert_eq!(
        get(&ns, "ds/agent")["metadata"]["annotations"]["deprecated.daemonset.template.generation"],
        "2"
    );
    ops(&["patch", "ds/agent", "-p", r#"{"spec":{"updateStrategy":{"type":"OnDelete"}}}"#]).ok();
    denied(
        dev(&["patch", "ds/agent", "-p", r#"{"spec":{"minReadySeconds":3}}"#]),
        &format!("spec.minReadySeconds {OPS_HINT}"),
    );
    denied(
        ops(&["set", "image", "ds/agent", "agent=agent:3"]),
        &format!("containers[agent].image {DEV_HINT}"),
    );

    // ReplicaSet.
    denied(dev(&["scale", "rs/cache", "--replicas", "2"]), &format!("spec.replicas {OPS_HINT}"));
    ops(&["scale", "rs/cache", "--replicas", "2"]).ok();
    dev(&["set", "image", "rs/cache", "cache=cache:2"]).ok();

    // Job: its template cannot change at all; labels are the operators', suspend is no role's.
    ops(&["label", "job/once", "team=batch"]).ok();
    denied(
        dev(&["label", "job/once", "team=x", "--overwrite"]),
        &format!("metadata.labels[team] {OPS_HINT}"),
    );
    denied(
        dev(&["patch", "job/once", "-p", r#"{"spec":{"suspend":false}}"#]),
        &format!("spec.suspend {NO_ROLE}"),
    );

    // CronJob: the schedule is the operators', the job template's containers the developers'.
    ops(&["patch", "cj/nightly", "-p", r#"{"spec":{"schedule":"0 2 * * *"}}"#]).ok();
    denied(
        dev(&["patch", "cj/nightly", "-p", r#"{"spec":{"schedule":"0 3 * * *"}}"#]),
        &format!("spec.schedule {OPS_HINT}"),
    );
    dev(&["set", "image", "cj/nightly", "run=run:2"]).ok();
    denied(
        ops(&["set", "image", "cj/nightly", "run=run:3"]),
        &format!("spec.jobTemplate.spec.template.spec.containers[run].image {DEV_HINT}"),
    );
    let cj = get(&ns, "cj/nightly");
    assert_eq!(cj["spec"]["schedule"], "0 2 * * *");
    assert_eq!(cj["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]["image"], "run:2");
}

const HPA: &str = "apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {name: web}\nspec:\n  \
    scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}\n  minReplicas: 2\n  maxReplicas: 8\n";

#[test]
fn autoscalers_are_the_operators() {
    let ns = Ns::new("policy-hpa");
    ns.create(&web_deployment("web"));
    let _policy = install(&ns, &[]);
    enforced(&ns, "deploy/web");
    let denial =
        "oam:developers may not create horizontalpodautoscalers: autoscaling belongs to the ops role";
    denied(as_user_stdin(&ns, "dev", &["apply", "-f", "-"], HPA), denial);
    as_user_stdin(&ns, "ops", &["apply", "-f", "-"], HPA).ok();
    let max = r#"{"spec":{"maxReplicas":12}}"#;
    denied(
        as_user(&ns, "dev", &["patch", "hpa/web", "-p", max]),
        "oam:developers may not change horizontalpodautoscalers",
    );
    as_user(&ns, "ops", &["patch", "hpa/web", "-p", max]).ok();
    assert_eq!(get(&ns, "hpa/web")["spec"]["maxReplicas"], 12);
    denied(
        as_user(&ns, "dev", &["delete", "hpa/web"]),
        "oam:developers may not delete horizontalpodautoscalers",
    );
    as_user(&ns, "ops", &["delete", "hpa/web"]).ok();
}

#[test]
fn kubectl_oam_writes_pass_for_both_roles() {
    let ns = Ns::new("policy-oam-writes");
    ns.create(&web_deployment("web"));
    let _policy = install(&ns, &[]);
    enforced(&ns, "deploy/web");
    let oam = |user: &str, args: &[&str]| ns.oam(&[&["--context", user], args].concat());
    oam("dev", &["dev", "set", "image", "deploy/web", "app=nginx:1.26", "--force-conflicts"]).ok();
    oam("dev", &["dev", "set", "env", "deploy/web", "-c", "app", "LEVEL=debug", "--force-conflicts"]).ok();
    let doc = oam("dev", &["dev", "get", "deploy/web"]).ok().stdout.replace("envoy:1.30", "envoy:1.31");
    ns.oam_with(&["--context", "dev", "dev", "apply", "-f", "-", "--force-conflicts"], &doc, &[]).ok();
    oam("ops", &["ops", "scale", "deploy/web", "--replicas", "4", "--force-conflicts"]).ok();
    let doc = oam("ops", &["ops", "get", "deploy/web"])
        .ok()
        .stdout
        .replace("  labels:\n", "  labels:\n    tier: web\n");
    ns.oam_with(&["--context", "ops", "ops", "apply", "-f", "-", "--force-conflicts"], &doc, &[]).ok();
    let obj = get(&ns, "deploy/web");
    assert_eq!(obj["spec"]["template"]["spec"]["containers"][1]["image"], "envoy:1.31");
    assert_eq!(obj["spec"]["replicas"], 4);
    assert_eq!(obj["metadata"]["labels"]["tier"], "web");
    // A role's command run by the other role's member: the server's answer, on one line.
    let err =
        oam("ops", &["dev", "set", "image", "deploy/web", "app=nginx:1.27", "--force-conflicts"]).error();
    assert!(err.contains("oam:operators may not change spec.template.spec.containers[app].image"), "{err}");
}

#[test]
fn warn_and_audit_let_the_write_through() {
    let ns = Ns::new("policy-warn");
    ns.create(&web_deployment("web"));
    let policy = install(&ns, &["--action", "warn"]);
    // Each try changes the label: an unchanged value is no change, and warns of nothing.
    let (mut last, mut tries) = (String::new(), 0);
    eventually("a warning", || {
        tries += 1;
        let run =
            as_user(&ns, "dev", &["label", "deploy/web", &format!("team=x{tries}"), "--overwrite"]).ok();
        last = run.stderr;
        last.contains("Warning:")
    });
    let expected = format!("oam:developers may not change metadata.labels[team] {OPS_HINT}");
    assert!(last.contains(&expected), "{last}");
    let team = get(&ns, "deploy/web")["metadata"]["labels"]["team"].clone();
    assert_eq!(team, format!("x{tries}"), "a warning lets the write through");

    let out = ns.oam(&policy.args(&["--apply", "--yes", "--action", "audit"])).ok().stdout;
    assert!(
        out.contains(&format!(
            "validatingadmissionpolicybinding.admissionregistration.k8s.io/{} configured",
            policy.name
        )),
        "{out}"
    );
    let binding = get(&ns, &format!("validatingadmissionpolicybinding/{}", policy.name));
    assert_eq!(binding["spec"]["validationActions"], serde_json::json!(["Audit"]));
    eventually("no more warnings", || {
        let run =
            as_user(&ns, "dev", &["label", "deploy/web", "team=y", "--overwrite", "--dry-run=server"]).ok();
        !run.stderr.contains("Warning:")
    });
    as_user(&ns, "dev", &["label", "deploy/web", "team=z", "--overwrite"]).ok();
    assert_eq!(get(&ns, "deploy/web")["metadata"]["labels"]["team"], "z");
}

#[test]
fn check_finds_a_policy_stale_after_a_profile_change() {
    let ns = Ns::new("policy-check");
    ns.create(&web_deployment("web"));
    let selector = format!("oam-policy={}", ns.name);
    let name = format!("oam-{}", ns.name);
    let missing = ns.oam(&["policy", "--check", "--name", &name, "--namespace-selector", &selector]);
    assert_eq!(missing.code, 1, "nothing installed yet: {missing:#?}");
    assert!(missing.stdout.contains("+kind: ValidatingAdmissionPolicy"), "{}", missing.stdout);

    let policy = install(&ns, &[]);
    let check = |extra: &[&str]| ns.oam(&policy.args(&[&["--check"], extra].concat()));
    let same = check(&[]);
    assert_eq!((same.code, same.stdout.as_str()), (0, ""), "{same:#?}");

    // The platform team gives operators the termination grace period.
    let file = std::env::temp_dir().join(format!("{}-profile.yaml", ns.name));
    let builtin = std::fs::read_to_string(repo().join("src/model/profile.yaml")).unwrap();
    let changed = builtin.replace(
        "        priorityClassName: {path: pod.priorityClassName}\n",
        "        priorityClassName: {path: pod.priorityClassName}\n        gracePeriod: {path: pod.terminationGracePeriodSeconds}\n",
    );
    assert_ne!(changed, builtin);
    std::fs::write(&file, changed).unwrap();
    let profile = file.to_str().unwrap();
    let stale = check(&["--profile", profile]);
    assert_eq!(stale.code, 1, "{stale:#?}");
    assert!(
        stale.stdout.contains("+      + (variables.old_spec_template_spec[?'terminationGracePeriodSeconds']"),
        "{}",
        stale.stdout
    );

    ns.oam(&policy.args(&["--apply", "--yes", "--profile", profile])).ok();
    assert_eq!(check(&["--profile", profile]).code, 0);
    assert_eq!(check(&[]).code, 1, "now the built-in profile is the stale one");
    let grace = r#"{"spec":{"template":{"spec":{"terminationGracePeriodSeconds":5}}}}"#;
    let denial = "spec.template.spec.terminationGracePeriodSeconds (ops role";
    // The server loads the changed policy a moment after the write, and not in one step: probe
    // until both roles see it in the same round (operators may set the grace period, developers
    // are told it is the ops role's), not the operator's side alone.
    eventually("the new policy, for both roles", || {
        let probe =
            |user: &str| as_user(&ns, user, &["patch", "deploy/web", "-p", grace, "--dry-run=server"]);
        probe("ops").code == 0 && probe("dev").stderr.contains(denial)
    });
    denied(as_user(&ns, "dev", &["patch", "deploy/web", "-p", grace]), denial);
    let _ = std::fs::remove_file(file);
}

#[test]
fn a_custom_profile_and_groups_shape_the_policy() {
    let ns = Ns::new("policy-custom");
    ns.create(&web_deployment("web"));
    // Developers own replicas here; operators keep the rest of their traits.
    let builtin = std::fs::read_to_string(repo().join("src/model/profile.yaml")).unwrap();
    let scaler = "      scaler:\n        replicas: {path: spec.replicas, kinds: [Deployment, StatefulSet, ReplicaSet], autoscaled: true}\n";
    assert!(builtin.contains(scaler));
    let custom = builtin
        .replace(scaler, "")
        .replace("    traits:\n      containers:", &format!("    traits:\n{scaler}      containers:"));
    let file = std::env::temp_dir().join(format!("{}-profile.yaml", ns.name));
    std::fs::write(&file, custom).unwrap();
    let _policy = install(&ns, &["--profile", file.to_str().unwrap(), "--allow-create-delete"]);
    enforced(&ns, "deploy/web");
    as_user(&ns, "dev", &["scale", "deploy/web", "--replicas", "3"]).ok();
    denied(
        as_user(&ns, "ops", &["scale", "deploy/web", "--replicas", "4"]),
        "oam:operators may not change spec.replicas (dev role: use kubectl oam dev as a member of oam:developers)",
    );
    // Autoscalers follow replicas.
    as_user_stdin(&ns, "dev", &["apply", "-f", "-", "--dry-run=server"], HPA).ok();
    denied(as_user_stdin(&ns, "ops", &["apply", "-f", "-"], HPA), "autoscaling belongs to the dev role");
    as_user(&ns, "dev", &["create", "deployment", "new", "--image=nginx", "--dry-run=server"]).ok();
    assert_eq!(get(&ns, "deploy/web")["spec"]["replicas"], 3);
    let _ = std::fs::remove_file(file);

    // Another group for the ops role: members of oam:operators hold no role any more.
    let ns2 = Ns::new("policy-groups");
    ns2.create(&web_deployment("web"));
    let _policy2 = install(&ns2, &["--group", "ops=platform:sre"]);
    enforced(&ns2, "deploy/web");
    as_user(&ns2, "ops", &["set", "image", "deploy/web", "app=nginx:1.26"]).ok();
}

#[test]
fn cel_stays_within_budget_for_20_containers_with_50_env_vars() {
    let ns = Ns::new("policy-budget");
    let container = |prefix: &str, i: usize| {
        let env: Vec<Value> = (0..50)
            .map(|j| serde_json::json!({"name": format!("VAR_{j}"), "value": "x".repeat(20)}))
            .collect();
        serde_json::json!({"name": format!("{prefix}{i}"), "image": format!("img{i}:1"), "env": env,
            "resources": {"requests": {"cpu": "10m", "memory": "16Mi"}}})
    };
    let containers: Vec<Value> = (0..20)
        .map(|i| {
            let mut c = container("app", i);
            c["ports"] = serde_json::json!([{"containerPort": 8000 + i}]);
            c
        })
        .collect();
    let deploy = serde_json::json!({
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "big", "labels": {"app": "big"}},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "big"}}, "template": {
            "metadata": {"labels": {"app": "big"}},
            "spec": {"containers": containers, "initContainers": (0..5).map(|i| container("init", i)).collect::<Vec<_>>()}}}
    });
    ns.kubectl_stdin(&["create", "-f", "-"], &deploy.to_string()).ok();
    let _policy = install(&ns, &[]);
    enforced(&ns, "deploy/big");
    // Allowed writes that touch every container.
    as_user(&ns, "dev", &["set", "env", "deploy/big", "--all", "VAR_7=changed"]).ok();
    as_user(&ns, "dev", &["set", "image", "deploy/big", "*=img:2"]).ok();
    as_user(&ns, "ops", &["label", "deploy/big", "team=x"]).ok();
    // The worst case: every container changed inside and outside the developer's fields, by an
    // operator, so every comparison runs and the message names each one.
    let change = |d: &mut Value| {
        for list in ["containers", "initContainers"] {
            for c in d["spec"]["template"]["spec"][list].as_array_mut().unwrap() {
                c["env"][49]["value"] = "other".into();
                c["workingDir"] = "/srv".into();
            }
        }
    };
    let err = denied(
        replaced(&ns, "deploy/big", change, |put| as_user_stdin(&ns, "ops", &["replace", "-f", "-"], put)),
        "spec.template.spec.containers[app19].env",
    );
    assert!(err.contains("spec.template.spec.initContainers[init4].workingDir"), "{err}");
    assert!(err.contains(DEV_HINT) && err.contains(NO_ROLE), "{err}");
}

/// Polls `ready` for up to two minutes: controllers act when they get to it.
fn within_minutes(what: &str, mut ready: impl FnMut() -> bool) {
    for _ in 0..240 {
        if ready() {
            return;
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    panic!("{what} never happened");
}

const APPARMOR: &str = "container.apparmor.security.beta.kubernetes.io/app";
const SECCOMP: &str = "seccomp.security.alpha.kubernetes.io/pod";
const SECURITY_REASON: &str = "pod security settings (AppArmor, seccomp), like the securityContext, belong to no role: ask a cluster admin";

/// A merge patch of one pod-template annotation (None: remove it).
fn pod_annotation(key: &str, value: Option<&str>) -> String {
    serde_json::json!({"spec": {"template": {"metadata": {"annotations": {key: value}}}}}).to_string()
}

#[test]
fn pod_security_annotations_belong_to_no_role() {
    let ns = Ns::new("policy-podsec");
    // Created, not applied: a server-side apply below stands for an earlier write of kubectl-oam-ops,
    // and kubectl moves a client-side apply's fields to the manager of its first server-side apply.
    ns.kubectl_stdin(&["create", "-f", "-"], &web_deployment("web")).ok();
    let _policy = install(&ns, &[]);
    enforced(&ns, "deploy/web");
    let dev = |args: &[&str]| as_user(&ns, "dev", args);
    let ops = |args: &[&str]| as_user(&ns, "ops", args);
    let no_role = |key: &str| format!("spec.template.metadata.annotations[{key}] {NO_ROLE}");

    // Raw kubectl: neither role adds one (the securityContext is no role's either) ...
    for key in [APPARMOR, "container.seccomp.security.alpha.kubernetes.io/proxy", SECCOMP] {
        let patch = pod_annotation(key, Some("unconfined"));
        let err = denied(ops(&["patch", "deploy/web", "-p", &patch]), &no_role(key));
        assert!(err.contains("oam:operators may not change"), "{err}");
        denied(dev(&["patch", "deploy/web", "-p", &patch]), &no_role(key));
    }
    // ... while the other pod annotations stay the operators'.
    ops(&["patch", "deploy/web", "-p", &pod_annotation("note", Some("x"))]).ok();
    // Set by an admin, no role changes or removes it.
    ns.kubectl(&["patch", "deploy/web", "-p", &pod_annotation(APPARMOR, Some("runtime/default"))]).ok();
    denied(
        ops(&["patch", "deploy/web", "-p", &pod_annotation(APPARMOR, Some("unconfined"))]),
        &no_role(APPARMOR),
    );
    denied(ops(&["patch", "deploy/web", "-p", &pod_annotation(APPARMOR, None)]), &no_role(APPARMOR));
    let annotations = |ns: &Ns| get(ns, "deploy/web")["spec"]["template"]["metadata"]["annotations"].clone();
    assert_eq!(annotations(&ns), serde_json::json!({"note": "x", APPARMOR: "runtime/default"}));

    // kubectl-oam shows it read-only, apart from the pod annotations ...
    let oam = |args: &[&str]| ns.oam(&[&["--context", "ops"], args].concat());
    let doc = oam(&["ops", "get", "deploy/web"]).ok().stdout;
    assert!(doc.contains("  podAnnotations:\n    note: x\n"), "{doc}");
    assert!(
        doc.contains(&format!(
            "readOnly:\n  selector:\n    app: web\n  podSecurity:\n    {APPARMOR}: runtime/default\n"
        )),
        "{doc}"
    );
    // ... refuses adding or changing one, naming the key and why ...
    for (key, value) in [(APPARMOR, "unconfined"), (SECCOMP, "unconfined")] {
        let edited = doc.replace("  podAnnotations:\n", &format!("  podAnnotations:\n    {key}: {value}\n"));
        let err = ns.oam_with(&["--context", "ops", "ops", "apply", "-f", "-"], &edited, &[]).error();
        assert!(
            err.contains("deployment.apps/web")
                && err.contains(&format!(
                    "metadata.podAnnotations.{key}: read-only for Deployment ({SECURITY_REASON})"
                )),
            "{err}"
        );
    }
    // ... and keeps it through the operators' own writes, even as desired state (no base).
    // (Up to the base, which follows readOnly, and the live status after it.)
    let desired = |doc: &str, from: &str, to: &str| {
        format!("{}\n", doc.split("\nbase:\n").next().unwrap()).replace(from, to)
    };
    let edited = desired(&doc, "    note: x\n", "    note: two\n");
    ns.oam_with(&["--context", "ops", "ops", "apply", "-f", "-", "--force-conflicts"], &edited, &[]).ok();
    assert_eq!(annotations(&ns), serde_json::json!({"note": "two", APPARMOR: "runtime/default"}));

    // Applied by kubectl-oam-ops before it was reserved: its writes keep it as it is, rather than
    // release it (which would remove it).
    let held = format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: web}}\nspec:\n  template:\n    metadata:\n      annotations: {{note: two, {SECCOMP}: runtime/default}}\n"
    );
    ns.kubectl_stdin(
        &["apply", "--server-side", "--field-manager", "kubectl-oam-ops", "--force-conflicts", "-f", "-"],
        &held,
    )
    .ok();
    let doc = oam(&["ops", "get", "deploy/web"]).ok().stdout;
    let edited = desired(&doc, "    note: two\n", "    note: three\n");
    ns.oam_with(&["--context", "ops", "ops", "apply", "-f", "-", "--force-conflicts"], &edited, &[]).ok();
    assert_eq!(
        annotations(&ns),
        serde_json::json!({"note": "three", APPARMOR: "runtime/default", SECCOMP: "runtime/default"})
    );
}

#[test]
fn controlled_objects_and_tool_written_keys_belong_to_no_role() {
    let ns = Ns::new("policy-controlled");
    ns.create(&web_deployment("web"));
    let _policy = install(&ns, &[]);
    enforced(&ns, "deploy/web");
    let dev = |args: &[&str]| as_user(&ns, "dev", args);
    let ops = |args: &[&str]| as_user(&ns, "ops", args);
    // The Deployment's ReplicaSets, as name, image and replica count.
    let replica_sets = || -> Vec<(String, String, i64)> {
        let list = get(&ns, "rs");
        list["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|rs| {
                (
                    rs["metadata"]["name"].as_str().unwrap().to_string(),
                    rs["spec"]["template"]["spec"]["containers"][0]["image"].as_str().unwrap().to_string(),
                    rs["spec"]["replicas"].as_i64().unwrap(),
                )
            })
            .collect()
    };
    let mut first = Vec::new();
    within_minutes("the Deployment's ReplicaSet", || {
        first = replica_sets();
        !first.is_empty()
    });
    let rs = format!("rs/{}", first[0].0);
    let controlled = format!("may not change replicasets {}: it is controlled by Deployment web", first[0].0);

    // Raw kubectl: a developer runs no image the Deployment never had ...
    let err = denied(dev(&["set", "image", &rs, "app=evil:1"]), &controlled);
    assert!(err.contains("oam:developers"), "{err}");
    // ... an operator neither scales it (/scale carries no owner; the selector tells) nor changes it.
    let err = denied(ops(&["scale", &rs, "--replicas", "5"]), "oam:operators may not scale replicasets");
    assert!(err.contains("scale the Deployment instead"), "{err}");
    denied(ops(&["patch", &rs, "-p", r#"{"spec":{"replicas":5}}"#]), &controlled);
    denied(ops(&["label", &rs, "team=x"]), &controlled);
    // kubectl-oam refuses the same, naming the controller.
    let err = ns.oam(&["--context", "dev", "dev", "set", "image", &rs, "app=evil:1"]).error();
    assert!(err.contains("is controlled by deployment.apps/web; change that instead"), "{err}");
    let err = ns.oam(&["--context", "ops", "ops", "scale", &rs, "--replicas", "5"]).error();
    assert!(err.contains("is controlled by deployment.apps/web"), "{err}");
    assert_eq!(replica_sets()[0].1, "nginx:1.25");

    // Keys tools and controllers write are no role's.
    let revision = "metadata.annotations[deployment.kubernetes.io/revision]";
    for user in ["ops", "dev"] {
        let run = as_user(
            &ns,
            user,
            &["annotate", "deploy/web", "deployment.kubernetes.io/revision=99", "--overwrite"],
        );
        denied(run, &format!("{revision} {NO_ROLE}"));
    }
    let doc = ns.oam(&["--context", "ops", "ops", "get", "deploy/web"]).ok().stdout;
    assert!(!doc.contains("deployment.kubernetes.io/revision"), "{doc}");
    let edited = doc
        .replace("  labels:\n", "  annotations:\n    deployment.kubernetes.io/revision: '99'\n  labels:\n");
    let err = ns.oam_with(&["--context", "ops", "ops", "apply", "-f", "-"], &edited, &[]).error();
    assert!(
        err.contains("deployment.kubernetes.io/revision: set by tools and controllers, not by a role"),
        "{err}"
    );

    // The controller's own writes are untouched: it scales its ReplicaSets and rolls out.
    ops(&["scale", "deploy/web", "--replicas", "3"]).ok();
    within_minutes("the ReplicaSet scaled by its Deployment", || replica_sets()[0].2 == 3);
    dev(&["set", "image", "deploy/web", "app=nginx:1.27"]).ok();
    within_minutes("the rollout", || {
        let all = replica_sets();
        all.iter().any(|(_, image, n)| image == "nginx:1.27" && *n == 3)
            && all.iter().all(|(_, image, n)| image == "nginx:1.27" || *n == 0)
    });
    assert_eq!(get(&ns, "deploy/web")["metadata"]["annotations"]["deployment.kubernetes.io/revision"], "2");
}
