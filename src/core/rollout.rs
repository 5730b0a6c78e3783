//! Where a workload's rollout stands, judged from the object alone as `kubectl rollout status` judges
//! it (kubectl `polymorphichelpers/rollout_status.go`), and why a pod is not ready. The watch that
//! waits for it is `cluster::wait`.

use serde_json::Value;

/// Where a workload's rollout stands, judged from the object alone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum State {
    /// Still going; the text says how far ("2/3 updated, 1 ready").
    Progressing(String),
    /// Finished; the text sums it up.
    Done(String),
    /// Will not finish by itself (progress deadline exceeded, Job failed).
    Stalled(String),
    /// Nothing rolls out after a write to this workload (a CronJob, an OnDelete strategy).
    NothingToWait(String),
}

fn int(obj: &Value, path: &[&str]) -> i64 {
    path.iter().try_fold(obj, |v, key| v.get(*key)).and_then(Value::as_i64).unwrap_or(0)
}

fn text<'a>(obj: &'a Value, path: &[&str]) -> Option<&'a str> {
    path.iter().try_fold(obj, |v, key| v.get(*key)).and_then(Value::as_str)
}

fn condition<'a>(obj: &'a Value, kind: &str) -> Option<&'a Value> {
    obj["status"]["conditions"].as_array()?.iter().find(|c| c["type"] == kind)
}

/// The controller has not seen the latest spec yet: its status describes an older one.
fn unobserved(obj: &Value) -> bool {
    int(obj, &["metadata", "generation"]) > int(obj, &["status", "observedGeneration"])
}

const UNOBSERVED: &str = "waiting for the controller to see the change";

/// Judges one object of `kind` as `kubectl rollout status` would (plus ReplicaSets and Jobs).
pub fn judge(kind: &str, obj: &Value) -> State {
    let desired = |default: i64| obj["spec"]["replicas"].as_i64().unwrap_or(default);
    match kind {
        "Deployment" => {
            if obj["spec"]["paused"] == true {
                return State::NothingToWait(
                    "it is paused; nothing rolls out until `kubectl rollout resume`".into(),
                );
            }
            if unobserved(obj) {
                return State::Progressing(UNOBSERVED.into());
            }
            if let Some(c) =
                condition(obj, "Progressing").filter(|c| c["reason"] == "ProgressDeadlineExceeded")
            {
                let message = c["message"].as_str().unwrap_or("no progress");
                let seconds = obj["spec"]["progressDeadlineSeconds"].as_i64().unwrap_or(600);
                return State::Stalled(format!(
                    "progress deadline ({seconds}s) exceeded: {}",
                    message.trim_end_matches('.')
                ));
            }
            let (want, updated) = (desired(1), int(obj, &["status", "updatedReplicas"]));
            let (total, ready) = (int(obj, &["status", "replicas"]), int(obj, &["status", "readyReplicas"]));
            let available = int(obj, &["status", "availableReplicas"]);
            let mut progress =
                format!("{}/{want} updated, {ready} ready, {available} available", updated.min(want));
            if total > updated {
                progress.push_str(&format!(", {} old", total - updated));
            }
            if updated > want {
                progress.push_str(&format!(", {} being removed", updated - want));
            }
            // kubectl's checks, and (unlike kubectl) a scale-down is done only once the surplus is gone.
            if updated < want || total > updated || available < updated || total > want {
                State::Progressing(progress)
            } else {
                State::Done(progress)
            }
        }
        "StatefulSet" => {
            if text(obj, &["spec", "updateStrategy", "type"]) == Some("OnDelete") {
                return State::NothingToWait(
                    "its updateStrategy is OnDelete: pods change only when they are deleted".into(),
                );
            }
            if int(obj, &["status", "observedGeneration"]) == 0 || unobserved(obj) {
                return State::Progressing(UNOBSERVED.into());
            }
            let want = desired(1);
            let (ready, updated) =
                (int(obj, &["status", "readyReplicas"]), int(obj, &["status", "updatedReplicas"]));
            let mut progress = format!("{}/{want} updated, {ready} ready", updated.min(want));
            let surplus = int(obj, &["status", "replicas"]) - want;
            if surplus > 0 {
                progress.push_str(&format!(", {surplus} being removed"));
            }
            if ready < want || surplus > 0 {
                return State::Progressing(progress);
            }
            if let Some(partition) = obj["spec"]["updateStrategy"]["rollingUpdate"]["partition"].as_i64() {
                return if updated < want - partition {
                    State::Progressing(format!("{progress} (partition {partition})"))
                } else {
                    State::Done(format!("{progress} (partition {partition})"))
                };
            }
            if text(obj, &["status", "updateRevision"]) != text(obj, &["status", "currentRevision"]) {
                State::Progressing(progress)
            } else {
                State::Done(progress)
            }
        }
        "DaemonSet" => {
            if text(obj, &["spec", "updateStrategy", "type"]) == Some("OnDelete") {
                return State::NothingToWait(
                    "its updateStrategy is OnDelete: pods change only when they are deleted".into(),
                );
            }
            if unobserved(obj) {
                return State::Progressing(UNOBSERVED.into());
            }
            let want = int(obj, &["status", "desiredNumberScheduled"]);
            let updated = int(obj, &["status", "updatedNumberScheduled"]);
            let available = int(obj, &["status", "numberAvailable"]);
            let progress = format!("{updated}/{want} updated, {available} available");
            if updated < want || available < want {
                State::Progressing(progress)
            } else {
                State::Done(progress)
            }
        }
        "ReplicaSet" => {
            if unobserved(obj) {
                return State::Progressing(UNOBSERVED.into());
            }
            let want = desired(1);
            let (ready, available) =
                (int(obj, &["status", "readyReplicas"]), int(obj, &["status", "availableReplicas"]));
            let progress = format!("{ready}/{want} ready, {available} available");
            if int(obj, &["status", "replicas"]) != want || available < want {
                State::Progressing(progress)
            } else {
                State::Done(progress)
            }
        }
        "Job" => {
            let completions = obj["spec"]["completions"].as_i64().unwrap_or(1);
            let (succeeded, failed, active) = (
                int(obj, &["status", "succeeded"]),
                int(obj, &["status", "failed"]),
                int(obj, &["status", "active"]),
            );
            let progress = format!("{succeeded}/{completions} succeeded, {active} running, {failed} failed");
            let is_true = |kind| condition(obj, kind).is_some_and(|c| c["status"] == "True");
            if is_true("Failed") {
                let c = condition(obj, "Failed").unwrap_or(&Value::Null);
                let why = c["message"].as_str().or_else(|| c["reason"].as_str()).unwrap_or("failed");
                State::Stalled(format!("the Job failed: {} ({progress})", why.trim_end_matches('.')))
            } else if is_true("Complete") {
                State::Done(progress)
            } else if obj["spec"]["suspend"] == true {
                State::NothingToWait("it is suspended; no pod runs until it is resumed".into())
            } else {
                State::Progressing(progress)
            }
        }
        "CronJob" => {
            State::NothingToWait("a CronJob runs on its schedule; no rollout follows a write".into())
        }
        other => State::NothingToWait(format!("kubectl oam does not know how a {other} rolls out")),
    }
}

/// Why a pod is not (yet) ready, or None when it is ready or on its way out.
pub fn pod_problem(pod: &Value) -> Option<String> {
    let name = pod["metadata"]["name"].as_str().unwrap_or("?");
    if pod["metadata"].get("deletionTimestamp").is_some() {
        return None;
    }
    let phase = pod["status"]["phase"].as_str().unwrap_or("Pending");
    if phase == "Succeeded" {
        return None;
    }
    if condition(pod, "Ready").is_some_and(|c| c["status"] == "True") {
        return None;
    }
    if let Some(c) = condition(pod, "PodScheduled").filter(|c| c["status"] == "False") {
        let why = c["message"].as_str().or_else(|| c["reason"].as_str()).unwrap_or("not scheduled");
        // The scheduler's first sentence says why; the rest is about preemption.
        let why = why.split(". ").next().unwrap_or(why).trim_end_matches('.');
        return Some(format!("pod {name} is not scheduled: {why}"));
    }
    let statuses = pod["status"]["containerStatuses"].as_array().into_iter().flatten();
    for c in statuses {
        for state in ["waiting", "terminated"] {
            if let Some(reason) = c["state"][state]["reason"].as_str() {
                let container = c["name"].as_str().unwrap_or("?");
                let message =
                    c["state"][state]["message"].as_str().map(|m| format!(": {m}")).unwrap_or_default();
                return Some(format!("pod {name} container {container} is {reason}{message}"));
            }
        }
    }
    Some(format!("pod {name} is {phase} and not ready"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn deployment(generation: i64, status: Value) -> Value {
        json!({"metadata": {"generation": generation}, "spec": {"replicas": 3, "progressDeadlineSeconds": 60}, "status": status})
    }

    #[test]
    fn deployments_as_kubectl_rollout_status() {
        let cases = [
            (deployment(2, json!({"observedGeneration": 1})), State::Progressing(UNOBSERVED.into())),
            (
                deployment(
                    2,
                    json!({"observedGeneration": 2, "replicas": 4, "updatedReplicas": 2, "readyReplicas": 3, "availableReplicas": 3}),
                ),
                State::Progressing("2/3 updated, 3 ready, 3 available, 2 old".into()),
            ),
            (
                deployment(
                    2,
                    json!({"observedGeneration": 2, "replicas": 4, "updatedReplicas": 3, "readyReplicas": 4, "availableReplicas": 4}),
                ),
                State::Progressing("3/3 updated, 4 ready, 4 available, 1 old".into()),
            ),
            (
                deployment(
                    2,
                    json!({"observedGeneration": 2, "replicas": 3, "updatedReplicas": 3, "readyReplicas": 2, "availableReplicas": 2}),
                ),
                State::Progressing("3/3 updated, 2 ready, 2 available".into()),
            ),
            (
                deployment(
                    2,
                    json!({"observedGeneration": 2, "replicas": 3, "updatedReplicas": 3, "readyReplicas": 3, "availableReplicas": 3}),
                ),
                State::Done("3/3 updated, 3 ready, 3 available".into()),
            ),
            (
                deployment(
                    2,
                    json!({"observedGeneration": 2, "replicas": 3, "updatedReplicas": 1, "conditions": [
                    {"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded",
                     "message": "ReplicaSet \"web-1\" has timed out progressing."}]}),
                ),
                State::Stalled(
                    "progress deadline (60s) exceeded: ReplicaSet \"web-1\" has timed out progressing".into(),
                ),
            ),
            (
                deployment(
                    2,
                    json!({"observedGeneration": 2, "replicas": 5, "updatedReplicas": 5, "readyReplicas": 5, "availableReplicas": 5}),
                ),
                State::Progressing("3/3 updated, 5 ready, 5 available, 2 being removed".into()),
            ),
            (
                json!({"metadata": {"generation": 3}, "spec": {"replicas": 0}, "status": {"observedGeneration": 3}}),
                State::Done("0/0 updated, 0 ready, 0 available".into()),
            ),
        ];
        for (obj, want) in cases {
            assert_eq!(judge("Deployment", &obj), want, "{obj}");
        }
        let paused = json!({"metadata": {"generation": 1}, "spec": {"paused": true}});
        assert!(matches!(judge("Deployment", &paused), State::NothingToWait(_)));
    }

    #[test]
    fn statefulsets_daemonsets_replicasets() {
        let sts = |status: Value, strategy: Value| json!({"metadata": {"generation": 1}, "spec": {"replicas": 2, "updateStrategy": strategy}, "status": status});
        let rolling = json!({"type": "RollingUpdate"});
        let cases = [
            (sts(json!({}), rolling.clone()), State::Progressing(UNOBSERVED.into())),
            (
                sts(
                    json!({"observedGeneration": 1, "readyReplicas": 1, "updatedReplicas": 1}),
                    rolling.clone(),
                ),
                State::Progressing("1/2 updated, 1 ready".into()),
            ),
            (
                sts(
                    json!({"observedGeneration": 1, "readyReplicas": 2, "updatedReplicas": 1, "updateRevision": "b", "currentRevision": "a"}),
                    rolling.clone(),
                ),
                State::Progressing("1/2 updated, 2 ready".into()),
            ),
            (
                sts(
                    json!({"observedGeneration": 1, "readyReplicas": 2, "updatedReplicas": 2, "updateRevision": "b", "currentRevision": "b"}),
                    rolling,
                ),
                State::Done("2/2 updated, 2 ready".into()),
            ),
            (
                sts(
                    json!({"observedGeneration": 1, "replicas": 3, "readyReplicas": 3, "updatedReplicas": 3}),
                    json!({"type": "RollingUpdate"}),
                ),
                State::Progressing("2/2 updated, 3 ready, 1 being removed".into()),
            ),
            (
                sts(
                    json!({"observedGeneration": 1, "readyReplicas": 2, "updatedReplicas": 1}),
                    json!({"type": "RollingUpdate", "rollingUpdate": {"partition": 1}}),
                ),
                State::Done("1/2 updated, 2 ready (partition 1)".into()),
            ),
        ];
        for (obj, want) in cases {
            assert_eq!(judge("StatefulSet", &obj), want, "{obj}");
        }
        assert!(matches!(
            judge("StatefulSet", &sts(json!({}), json!({"type": "OnDelete"}))),
            State::NothingToWait(_)
        ));

        let ds = |updated: i64, available: i64| {
            json!({"metadata": {"generation": 4}, "spec": {}, "status": {"observedGeneration": 4,
                   "desiredNumberScheduled": 3, "updatedNumberScheduled": updated, "numberAvailable": available}})
        };
        assert_eq!(judge("DaemonSet", &ds(2, 3)), State::Progressing("2/3 updated, 3 available".into()));
        assert_eq!(judge("DaemonSet", &ds(3, 2)), State::Progressing("3/3 updated, 2 available".into()));
        assert_eq!(judge("DaemonSet", &ds(3, 3)), State::Done("3/3 updated, 3 available".into()));

        let rs = |replicas: i64, available: i64| {
            json!({"metadata": {"generation": 1}, "spec": {"replicas": 2}, "status": {"observedGeneration": 1,
                   "replicas": replicas, "readyReplicas": available, "availableReplicas": available}})
        };
        assert_eq!(judge("ReplicaSet", &rs(2, 1)), State::Progressing("1/2 ready, 1 available".into()));
        assert_eq!(judge("ReplicaSet", &rs(3, 2)), State::Progressing("2/2 ready, 2 available".into()));
        assert_eq!(judge("ReplicaSet", &rs(2, 2)), State::Done("2/2 ready, 2 available".into()));
    }

    #[test]
    fn jobs_complete_or_fail_and_cronjobs_have_nothing_to_wait_for() {
        let job = |status: Value| json!({"spec": {"completions": 2}, "status": status});
        assert_eq!(
            judge("Job", &job(json!({"active": 1, "succeeded": 1}))),
            State::Progressing("1/2 succeeded, 1 running, 0 failed".into())
        );
        assert_eq!(
            judge(
                "Job",
                &job(json!({"succeeded": 2, "conditions": [{"type": "Complete", "status": "True"}]}))
            ),
            State::Done("2/2 succeeded, 0 running, 0 failed".into())
        );
        assert_eq!(
            judge("Job", &job(json!({"failed": 7, "conditions": [{"type": "Failed", "status": "True", "reason": "BackoffLimitExceeded", "message": "Job has reached the specified backoff limit"}]}))),
            State::Stalled("the Job failed: Job has reached the specified backoff limit (0/2 succeeded, 0 running, 7 failed)".into())
        );
        assert!(matches!(judge("Job", &json!({"spec": {"suspend": true}})), State::NothingToWait(_)));
        assert!(matches!(judge("CronJob", &json!({})), State::NothingToWait(_)));
    }

    #[test]
    fn a_stuck_pod_says_why() {
        let unschedulable = json!({"metadata": {"name": "web-1"}, "status": {"phase": "Pending", "conditions": [
            {"type": "PodScheduled", "status": "False", "reason": "Unschedulable",
             "message": "0/3 nodes are available: 3 node(s) didn't match Pod's node affinity/selector."}]}});
        assert_eq!(
            pod_problem(&unschedulable).as_deref(),
            Some(
                "pod web-1 is not scheduled: 0/3 nodes are available: 3 node(s) didn't match Pod's node affinity/selector"
            )
        );
        let long = json!({"metadata": {"name": "web-5"}, "status": {"conditions": [{"type": "PodScheduled", "status": "False",
            "message": "0/3 nodes are available: 3 Insufficient cpu. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling."}]}});
        assert_eq!(
            pod_problem(&long).as_deref(),
            Some("pod web-5 is not scheduled: 0/3 nodes are available: 3 Insufficient cpu")
        );
        let pulling = json!({"metadata": {"name": "web-2"}, "status": {"phase": "Pending", "containerStatuses": [
            {"name": "app", "state": {"waiting": {"reason": "ImagePullBackOff", "message": "Back-off pulling image"}}}]}});
        assert_eq!(
            pod_problem(&pulling).as_deref(),
            Some("pod web-2 container app is ImagePullBackOff: Back-off pulling image")
        );
        let ready = json!({"metadata": {"name": "web-3"}, "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]}});
        assert_eq!(pod_problem(&ready), None);
        let leaving =
            json!({"metadata": {"name": "web-4", "deletionTimestamp": "2026-01-01T00:00:00Z"}, "status": {}});
        assert_eq!(pod_problem(&leaving), None);
    }
}
