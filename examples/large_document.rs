//! The cost of each stage of a write of a large role document, printed (never asserted):
//! `scripts/bench-yaml` runs this in a release build. A dev document of N env vars (about 44 bytes
//! each, so 165,000 make 7.5 MiB) is read, checked, decided into an apply body and serialized; then
//! what the dry-run's answer costs is replayed without a server: the answer's role document,
//! both documents as YAML, their diff, and the guards that compare the object before and after.
//!
//! Two cases: `new`, the variables added to a Deployment that has one (what a first apply of a
//! large document does), and `owned`, a Deployment that already has them all, owned by the role's
//! manager, with every value changed (what the next apply of the same file does). Each size doubles
//! the last, so a stage that takes twice as long is linear and one that takes four times is not.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use kubectl_oam::core::project::{self, ViewOptions};
use kubectl_oam::core::write::{self, Live, Writer};
use kubectl_oam::format::{diff, output, yaml};
use kubectl_oam::model::roles::{Profile, RoleName};
use kubectl_oam::model::target::Target;

fn var(i: usize, round: usize) -> (String, String) {
    (format!("VAR_{i:07}"), format!("value-{i:07}-{round}-abcdefghi"))
}

/// A Deployment whose container `app` has `vars` env vars (value round `round`), owned by
/// `manager` (an Apply entry) or, without one, by kubectl's client-side apply (an Update).
fn deployment(vars: usize, round: usize, manager: Option<&str>) -> Value {
    let env: Vec<Value> =
        (0..vars).map(|i| var(i, round)).map(|(n, v)| json!({"name": n, "value": v})).collect();
    let owned_env: serde_json::Map<String, Value> = (0..vars)
        .map(|i| {
            (format!("k:{{\"name\":\"{}\"}}", var(i, round).0), json!({".": {}, "f:name": {}, "f:value": {}}))
        })
        .collect();
    let container_fields = json!({"k:{\"name\":\"app\"}": {".": {}, "f:env": owned_env, "f:image": {}, "f:name": {}},
                                  "k:{\"name\":\"proxy\"}": {".": {}, "f:image": {}, "f:name": {}}});
    let entry = match manager {
        Some(m) => {
            json!({"manager": m, "operation": "Apply", "apiVersion": "apps/v1", "time": "2026-12-05T10:00:00Z",
                          "fieldsType": "FieldsV1", "fieldsV1": {"f:spec": {"f:template": {"f:spec": {"f:containers": container_fields}}}}})
        }
        None => {
            json!({"manager": "kubectl-client-side-apply", "operation": "Update", "apiVersion": "apps/v1",
                       "time": "2026-12-05T10:00:00Z", "fieldsType": "FieldsV1",
                       "fieldsV1": {"f:spec": {"f:replicas": {}, "f:template": {"f:spec": {"f:containers": container_fields}}}}})
        }
    };
    json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "big", "uid": "3e0c5b1a-0000-4000-8000-000000000001",
                     "resourceVersion": "1000", "generation": 1, "labels": {"app": "web"}, "managedFields": [entry]},
        "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}},
                 "template": {"metadata": {"labels": {"app": "web"}},
                              "spec": {"containers": [{"name": "app", "image": "nginx:1.25", "env": env},
                                                      {"name": "proxy", "image": "envoy:1.30"}]}}},
        "status": {"observedGeneration": 1, "replicas": 2, "readyReplicas": 2}
    })
}

/// The dev document (without a base: desired state) with `vars` env vars of value round `round`.
fn document(vars: usize, round: usize) -> String {
    let mut text = String::from(
        "kind: Deployment\nname: web\nnamespace: big\ncontainers:\n  app:\n    image: nginx:1.25\n    env:\n",
    );
    for i in 0..vars {
        let (name, value) = var(i, round);
        text.push_str(&format!("      {name}: {value}\n"));
    }
    text.push_str("  proxy:\n    image: envoy:1.30\n");
    text
}

fn time<T>(stages: &mut Vec<(&'static str, Duration)>, name: &'static str, f: impl FnOnce() -> T) -> T {
    let started = Instant::now();
    let out = f();
    stages.push((name, started.elapsed()));
    out
}

/// One write, stage by stage.
fn stages(profile: &Profile, vars: usize, case: &str) -> (usize, usize, Vec<(&'static str, Duration)>) {
    let kind = profile.kind("deploy").expect("built in");
    let writer = Writer::new(profile, RoleName::Dev, None, false).expect("the dev manager");
    let live_object = match case {
        "new" => deployment(1, 0, None),
        _ => deployment(vars, 0, Some(&writer.manager)),
    };
    let text = document(vars, 1);
    let mut s = Vec::new();
    let parsed = time(&mut s, "parse", || yaml::parse_documents(&text, "big.yaml").expect("valid YAML"));
    let doc = &parsed[0];
    time(&mut s, "check values", || assert!(project::misread_values(doc).is_empty()));
    let live = Live {
        target: Target { kind, name: "web".into(), namespace: "big".into() },
        object: live_object,
        autoscaler: None,
        related: None,
    };
    // Over the API server's 3 MiB, the body is refused here; the rest is timed all the same.
    let decided = time(&mut s, "decide the body", || write::build(profile, &writer, &live, &doc.value));
    let bytes = match decided {
        Ok((_, body)) => time(&mut s, "body as JSON", || serde_json::to_vec(&body).expect("JSON")).len(),
        Err(e) => {
            println!("  ({e})");
            s.push(("body as JSON", Duration::ZERO));
            0
        }
    };
    // The server's answer: every variable at its new value, all of them owned by the role.
    let result = deployment(vars, 1, Some(&writer.manager));
    let before = time(&mut s, "live document", || {
        output::yaml(&write::without_base(live.document(profile, writer.role, None))).expect("YAML")
    });
    let after = time(&mut s, "answer's document", || {
        let view = ViewOptions { container: None, autoscaler: None, related: None };
        output::yaml(&write::without_base(project::document(profile, writer.role, kind, &result, &view)))
            .expect("YAML")
    });
    let shown = time(&mut s, "diff", || diff::unified(&before, &after, "deployment.apps/web", false));
    time(&mut s, "guards", || {
        let outside = |obj: &Value| write::outside_role(profile, writer.role, kind, obj);
        assert!(
            kubectl_oam::model::object::differing_paths(&outside(&live.object), &outside(&result)).is_empty()
        );
        let _ = write::releases_ownership(&live.object, &result, &writer.manager);
        let _ = write::spec_of(&live.object) != write::spec_of(&result);
    });
    assert!(!shown.is_empty());
    (text.len(), bytes, s)
}

fn main() {
    let profile = Profile::builtin();
    let sizes: Vec<usize> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
    let sizes = if sizes.is_empty() { vec![20_000, 40_000, 80_000, 165_000] } else { sizes };
    for case in ["new", "owned"] {
        println!("{case}: env vars, document and body size, milliseconds per stage (× the size before it)");
        let mut last: Option<Vec<(&str, Duration)>> = None;
        for &vars in &sizes {
            let (text, body, s) = stages(&profile, vars, case);
            let total: Duration = s.iter().map(|(_, d)| *d).sum();
            let body = match body {
                0 => "refused".to_string(),
                bytes => format!("{:.1} MiB", bytes as f64 / 1048576.0),
            };
            let mut line = format!(
                "{vars:>7} vars  {:>5.1} MiB  body {body:>9}  total {:>8.1} ms",
                text as f64 / 1048576.0,
                total.as_secs_f64() * 1e3
            );
            for (i, (name, d)) in s.iter().enumerate() {
                let ratio = last.as_ref().map_or(String::new(), |l| {
                    format!(" ×{:.1}", d.as_secs_f64() / l[i].1.as_secs_f64().max(1e-6))
                });
                line.push_str(&format!("\n    {name:<18} {:>9.1}{ratio}", d.as_secs_f64() * 1e3));
            }
            println!("{line}");
            last = Some(s);
        }
    }
}
