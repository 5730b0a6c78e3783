//! Role writes while other writers keep changing the object: a pipeline, `kubectl set image`, another
//! manager, at up to 20 changes a second. Rates are counted from outcomes, never timed.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use k8s_openapi::api::apps::v1::Deployment;
use kube::api::{Api, Patch, PatchParams};
use serde_json::{Value, json};

use crate::harness::{Ns, Run, web_deployment};
use crate::writes::{container, env_value};

/// What the other writers last wrote: (proxy image, pipeline's annotation, minReadySeconds, label).
type Churned = (String, String, i64, String);

/// How far the other writers got: changes made, and whether they stopped.
#[derive(Default)]
struct Progress {
    made: AtomicUsize,
    stopped: AtomicBool,
}

impl Progress {
    /// Waits until the others changed the object since `seen` changes (or stopped); the count now.
    fn next_after(&self, seen: usize) -> usize {
        loop {
            let made = self.made.load(Ordering::SeqCst);
            if made > seen || self.stopped.load(Ordering::SeqCst) {
                return made;
            }
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
    }
}

/// Marks the others stopped when they end, however they end (a failed write panics).
struct Stops<'a>(&'a Progress);

impl Drop for Stops<'_> {
    fn drop(&mut self) {
        self.0.stopped.store(true, Ordering::SeqCst);
    }
}

/// Changes the spec of deploy/web (never a field the role writers below set) at most 20 times a
/// second, until `done` or `limit` changes, counting them in `progress`; the values it left.
fn churn(ns: &Ns, done: &AtomicBool, limit: usize, progress: &Progress) -> Churned {
    let _stops = Stops(progress);
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        let api: Api<Deployment> = Api::namespaced(ns.client().await, &ns.name);
        let mut last: Churned = ("envoy:1.30".into(), String::new(), 0, String::new());
        for i in 0..limit {
            if done.load(Ordering::SeqCst) {
                break;
            }
            let result = match i % 4 {
                // `kubectl set image` on the other container (an Update; it rolls out).
                0 => {
                    let image = format!("envoy:1.{}", 30 + (i / 4) % 2);
                    let patch = json!({"spec": {"template": {"spec": {"containers": [{"name": "proxy", "image": image}]}}}});
                    last.0 = image;
                    api.patch("web", &PatchParams { field_manager: Some("kubectl-set".into()), ..Default::default() }, &Patch::Strategic(patch)).await
                }
                // A pipeline's server-side apply of its build annotation.
                1 => {
                    let build = format!("b{i}");
                    let body = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "annotations": {"build": build}}});
                    last.1 = build;
                    api.patch("web", &PatchParams::apply("pipeline"), &Patch::Apply(body)).await
                }
                // Another manager's rollout setting (an ops field).
                2 => {
                    let seconds = (i / 4 % 5) as i64;
                    last.2 = seconds;
                    api.patch("web", &PatchParams { field_manager: Some("kubectl-patch".into()), ..Default::default() }, &Patch::Merge(json!({"spec": {"minReadySeconds": seconds}}))).await
                }
                // And its label.
                _ => {
                    let value = format!("c{i}");
                    last.3 = value.clone();
                    api.patch("web", &PatchParams { field_manager: Some("kubectl-label".into()), ..Default::default() }, &Patch::Merge(json!({"metadata": {"labels": {"churn": value}}}))).await
                }
            };
            result.unwrap_or_else(|e| panic!("churn write {i}: {e}"));
            progress.made.fetch_add(1, Ordering::SeqCst);
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        last
    })
}

/// One writer's role writes in a row, each after the others changed the object again (counted, not
/// timed: however fast the writes, the object keeps changing under them): the values of those that
/// landed. A failure may only be an honest race.
fn writes(count: usize, progress: &Progress, run: impl Fn(usize) -> Run) -> Vec<usize> {
    let (mut landed, mut seen) = (Vec::new(), 0);
    for i in 0..count {
        seen = progress.next_after(seen);
        let out = run(i);
        if out.code == 0 {
            landed.push(i);
        } else {
            assert!(
                out.stderr.contains("changed since it was read"),
                "only an honest race may fail a write: {out:?}"
            );
        }
    }
    landed
}

/// Issue 17, point 4: with others changing the spec up to 20 times a second, at least 95% of role
/// writes (`dev set env` by two colleagues under the same manager, `ops scale`) land; every
/// acknowledged write stands at the end (the colleague adds a new variable each time: none is lost),
/// and so does every other writer's last change.
#[test]
fn role_writes_land_while_others_keep_changing_the_object() {
    const WRITES: usize = 20;
    let ns = Ns::new("churn-writes");
    ns.create(&web_deployment("web"));
    // The roles own their fields from the start (taken from kubectl's client-side apply).
    ns.oam(&["ops", "scale", "deploy/web", "--replicas", "1", "--force-conflicts"]).ok();
    ns.oam(&["dev", "set", "env", "deploy/web", "-c", "app", "W=start"]).ok();
    let replicas = |i: usize| (i % 3 + 1).to_string();
    let (done, progress) = (AtomicBool::new(false), Progress::default());
    let (churned, dev, colleague, ops) = std::thread::scope(|scope| {
        let churner = scope.spawn(|| churn(&ns, &done, 5000, &progress));
        let dev = scope.spawn(|| {
            writes(WRITES, &progress, |i| {
                ns.oam(&["dev", "set", "env", "deploy/web", "-c", "app", &format!("W={i}")])
            })
        });
        let colleague = scope.spawn(|| {
            writes(WRITES, &progress, |i| {
                ns.oam(&["dev", "set", "env", "deploy/web", "-c", "proxy", &format!("V{i}={i}")])
            })
        });
        let ops = scope.spawn(|| {
            writes(WRITES, &progress, |i| ns.oam(&["ops", "scale", "deploy/web", "--replicas", &replicas(i)]))
        });
        let (dev, colleague, ops) = (dev.join().unwrap(), colleague.join().unwrap(), ops.join().unwrap());
        done.store(true, Ordering::SeqCst);
        (churner.join().unwrap(), dev, colleague, ops)
    });
    let changes = progress.made.load(Ordering::SeqCst);
    eprintln!(
        "churn: {changes} changes by others; dev set env {}/{WRITES} and {}/{WRITES} (same manager), ops scale {}/{WRITES} landed",
        dev.len(),
        colleague.len(),
        ops.len()
    );
    let obj = ns.get_json("deploy/web");
    assert_eq!(
        env_value(&obj, "app", "W"),
        dev.last().map(|i| i.to_string()),
        "dev's last acknowledged write stands"
    );
    for i in &colleague {
        assert_eq!(
            env_value(&obj, "proxy", &format!("V{i}")),
            Some(i.to_string()),
            "the colleague's V{i} stands"
        );
    }
    if let Some(i) = ops.last() {
        assert_eq!(
            obj["spec"]["replicas"],
            json!(replicas(*i).parse::<i64>().unwrap()),
            "ops' last acknowledged write stands"
        );
    }
    // Nobody else's change was reverted.
    assert_eq!(container(&obj, "proxy")["image"], Value::from(churned.0));
    assert_eq!(obj["metadata"]["annotations"]["build"], Value::from(churned.1));
    // 0 is the default, left out of the object.
    assert_eq!(obj["spec"]["minReadySeconds"].as_i64().unwrap_or(0), churned.2);
    assert_eq!(obj["metadata"]["labels"]["churn"], Value::from(churned.3));
    let (landed, all) = (dev.len() + colleague.len() + ops.len(), 3 * WRITES);
    assert!(changes >= WRITES, "each role write came after another change by the others: {changes}");
    assert!(landed * 100 >= 95 * all, "at least 95% of role writes land: {landed} of {all}");
}
