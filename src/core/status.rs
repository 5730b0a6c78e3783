//! Live status in views: kubectl's READY, UP-TO-DATE, AVAILABLE and AGE columns, and the read-only
//! `status:` section of `get`. All of it is read from the object itself (no extra request); the images that
//! ready pods run are counted here from the ReplicaSets or pods `get` reads.

use std::collections::BTreeMap;

use k8s_openapi::jiff::Timestamp;
use serde_json::{Map, Value, json};

use crate::core::rollout::{self, State};
use crate::model::object;
use crate::model::roles::{KindInfo, STATUS_KEY};

/// What the live columns read of an object: its desired counts and its status counts. Lists decode
/// it straight from the server's JSON (see `rows`); views take it from the object.
#[derive(Debug, Default, Clone, PartialEq, serde::Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Counts {
    /// spec.replicas and spec.completions; the rest is under status.
    #[serde(skip)]
    pub replicas: Option<i64>,
    #[serde(skip)]
    pub completions: Option<i64>,
    pub ready_replicas: Option<i64>,
    pub updated_replicas: Option<i64>,
    pub available_replicas: Option<i64>,
    pub number_ready: Option<i64>,
    pub desired_number_scheduled: Option<i64>,
    pub updated_number_scheduled: Option<i64>,
    pub number_available: Option<i64>,
    pub succeeded: Option<i64>,
}

impl Counts {
    pub fn of(obj: &Value) -> Counts {
        let status = |key: &str| obj["status"][key].as_i64();
        Counts {
            replicas: obj["spec"]["replicas"].as_i64(),
            completions: obj["spec"]["completions"].as_i64(),
            ready_replicas: status("readyReplicas"),
            updated_replicas: status("updatedReplicas"),
            available_replicas: status("availableReplicas"),
            number_ready: status("numberReady"),
            desired_number_scheduled: status("desiredNumberScheduled"),
            updated_number_scheduled: status("updatedNumberScheduled"),
            number_available: status("numberAvailable"),
            succeeded: status("succeeded"),
        }
    }
}

/// READY, UP-TO-DATE and AVAILABLE as kubectl prints them per kind ("-" where a kind has none; a
/// Job's READY is kubectl's COMPLETIONS, succeeded/completions).
pub fn columns(kind: &str, obj: &Value) -> [String; 3] {
    count_columns(kind, &Counts::of(obj))
}

/// [`columns`] from the counts alone.
pub fn count_columns(kind: &str, counts: &Counts) -> [String; 3] {
    let desired = counts.replicas.unwrap_or(1);
    let n = |count: Option<i64>| count.unwrap_or(0);
    let none = || "-".to_string();
    match kind {
        "Deployment" | "StatefulSet" => [
            format!("{}/{desired}", n(counts.ready_replicas)),
            n(counts.updated_replicas).to_string(),
            n(counts.available_replicas).to_string(),
        ],
        "ReplicaSet" => [
            format!("{}/{desired}", n(counts.ready_replicas)),
            none(),
            n(counts.available_replicas).to_string(),
        ],
        "DaemonSet" => [
            format!("{}/{}", n(counts.number_ready), n(counts.desired_number_scheduled)),
            n(counts.updated_number_scheduled).to_string(),
            n(counts.number_available).to_string(),
        ],
        "Job" => {
            let completions = counts.completions.map_or("-".to_string(), |c| c.to_string());
            [format!("{}/{completions}", n(counts.succeeded)), none(), none()]
        }
        _ => [none(), none(), none()],
    }
}

/// kubectl's AGE (apimachinery `duration.HumanDuration`): 90s, 5m30s, 3h12m, 4d6h, 2y10d.
pub fn age(obj: &Value, now: Timestamp) -> String {
    age_since(obj["metadata"]["creationTimestamp"].as_str(), now)
}

/// [`age`] from the creation timestamp alone.
pub fn age_since(created: Option<&str>, now: Timestamp) -> String {
    let Some(created) = created.and_then(|t| t.parse::<Timestamp>().ok()) else {
        return "<unknown>".into();
    };
    human_duration(now.as_second() - created.as_second())
}

fn human_duration(seconds: i64) -> String {
    if seconds < -1 {
        return "<invalid>".into();
    }
    let seconds = seconds.max(0);
    if seconds < 120 {
        return format!("{seconds}s");
    }
    let (minutes, hours, days) = (seconds / 60, seconds / 3600, seconds / 86400);
    let with = |big: i64, unit: &str, small: i64, small_unit: &str| {
        if small == 0 { format!("{big}{unit}") } else { format!("{big}{unit}{small}{small_unit}") }
    };
    if minutes < 10 {
        with(minutes, "m", seconds % 60, "s")
    } else if minutes < 180 {
        format!("{minutes}m")
    } else if hours < 8 {
        with(hours, "h", minutes % 60, "m")
    } else if hours < 48 {
        format!("{hours}h")
    } else if hours < 24 * 8 {
        with(days, "d", hours % 24, "h")
    } else if hours < 24 * 365 * 2 {
        format!("{days}d")
    } else if hours < 24 * 365 * 8 {
        with(days / 365, "y", days % 365, "d")
    } else {
        format!("{}y", days / 365)
    }
}

/// The read-only `status:` section of a document: the rollout as `--wait` judges it, the counts of
/// the table, and the age.
pub fn section(kind: &str, obj: &Value, now: Timestamp) -> Map<String, Value> {
    let mut out = Map::new();
    let (state, detail) = match rollout::judge(kind, obj) {
        State::Done(d) => ("complete", d),
        State::Progressing(d) => ("progressing", d),
        State::Stalled(d) => ("stalled", d),
        State::NothingToWait(d) => ("-", d),
    };
    if state != "-" {
        out.insert("rollout".into(), json!(state));
        out.insert("detail".into(), json!(detail));
    }
    let [ready, updated, available] = columns(kind, obj);
    for (key, value) in [("ready", ready), ("upToDate", updated), ("available", available)] {
        match value.parse::<i64>() {
            Ok(count) => out.insert(key.into(), json!(count)),
            Err(_) if value != "-" => out.insert(key.into(), json!(value)),
            Err(_) => None,
        };
    }
    if kind == "CronJob" {
        let active = obj["status"]["active"].as_array().map_or(0, Vec::len);
        out.insert("active".into(), json!(active));
        if let Some(last) = obj["status"]["lastScheduleTime"].as_str() {
            out.insert("lastSchedule".into(), json!(last));
        }
    }
    out.insert("age".into(), json!(age(obj, now)));
    out
}

/// Adds the `status:` section to a document (views only: writes ignore it, and diffs never show it).
pub fn add_to(doc: &mut Value, kind: &str, obj: &Value) {
    if let Some(map) = doc.as_object_mut() {
        map.insert(STATUS_KEY.into(), Value::Object(section(kind, obj, Timestamp::now())));
    }
}

/// Per container, how many ready pods run each image, when any of them runs one other than the
/// spec's: what a rollout has reached. `pods` are the workload's pods (those another controller
/// controls are left out).
pub fn ready_pod_images(kind: &KindInfo, obj: &Value, pods: &[Value]) -> Map<String, Value> {
    let ready = pods.iter().filter(|p| {
        controlled_by(p, obj)
            && rollout::pod_problem(p).is_none()
            && p["metadata"].get("deletionTimestamp").is_none()
    });
    count_images(kind, obj, ready.map(|pod| (&pod["spec"]["containers"], 1)))
}

/// [`ready_pod_images`] of a Deployment, from its ReplicaSets instead of its pods: the ready pods
/// of each ReplicaSet (`status.readyReplicas`) run its template's images. A list of a few
/// ReplicaSets, however many pods the Deployment or its namespace has.
pub fn ready_replica_set_images(kind: &KindInfo, obj: &Value, replica_sets: &[Value]) -> Map<String, Value> {
    let running = replica_sets.iter().filter(|rs| controlled_by(rs, obj)).map(|rs| {
        let ready = rs["status"]["readyReplicas"].as_u64().unwrap_or(0);
        (&rs["spec"]["template"]["spec"]["containers"], u32::try_from(ready).unwrap_or(u32::MAX))
    });
    count_images(kind, obj, running)
}

/// Is `item` controlled by `obj` (its controller ownerReference has `obj`'s uid)? Anything is,
/// for an object without a uid.
fn controlled_by(item: &Value, obj: &Value) -> bool {
    let Some(uid) = obj["metadata"]["uid"].as_str() else { return true };
    item["metadata"]["ownerReferences"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|r| r["controller"] == true && r["uid"] == uid)
}

/// Per container of the spec, the images `running` (containers, how many ready pods run them)
/// count up, for the containers where any differs from the spec's.
fn count_images<'a>(
    kind: &KindInfo,
    obj: &Value,
    running: impl Iterator<Item = (&'a Value, u32)>,
) -> Map<String, Value> {
    let spec: BTreeMap<&str, &str> = object::containers(obj, kind)
        .iter()
        .map(|c| (object::container_name(c), c["image"].as_str().unwrap_or_default()))
        .collect();
    let mut counts: BTreeMap<&str, BTreeMap<&str, u32>> = BTreeMap::new();
    for (containers, ready) in running.filter(|(_, ready)| *ready > 0) {
        for c in containers.as_array().into_iter().flatten() {
            let (name, image) = (object::container_name(c), c["image"].as_str().unwrap_or_default());
            if spec.contains_key(name) {
                *counts.entry(name).or_default().entry(image).or_default() += ready;
            }
        }
    }
    counts
        .into_iter()
        .filter(|(name, images)| images.keys().any(|image| spec.get(name) != Some(image)))
        .map(|(name, images)| (name.to_string(), json!(images)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_per_kind_as_kubectl_prints_them() {
        let cases = [
            (
                "Deployment",
                json!({"spec": {"replicas": 3}, "status": {"readyReplicas": 2, "updatedReplicas": 3, "availableReplicas": 2}}),
                ["2/3", "3", "2"],
            ),
            ("Deployment", json!({"spec": {"replicas": 2}}), ["0/2", "0", "0"]),
            (
                "StatefulSet",
                json!({"spec": {"replicas": 2}, "status": {"readyReplicas": 2, "updatedReplicas": 1, "availableReplicas": 2}}),
                ["2/2", "1", "2"],
            ),
            (
                "ReplicaSet",
                json!({"spec": {"replicas": 1}, "status": {"readyReplicas": 1, "availableReplicas": 1}}),
                ["1/1", "-", "1"],
            ),
            (
                "DaemonSet",
                json!({"status": {"desiredNumberScheduled": 3, "numberReady": 2, "updatedNumberScheduled": 3, "numberAvailable": 2}}),
                ["2/3", "3", "2"],
            ),
            ("Job", json!({"spec": {"completions": 4}, "status": {"succeeded": 1}}), ["1/4", "-", "-"]),
            ("CronJob", json!({}), ["-", "-", "-"]),
        ];
        for (kind, obj, want) in cases {
            assert_eq!(columns(kind, &obj), want.map(String::from), "{kind} {obj}");
        }
    }

    #[test]
    fn ages_read_like_kubectl() {
        let cases = [
            (-5, "<invalid>"),
            (-1, "0s"),
            (59, "59s"),
            (119, "119s"),
            (150, "2m30s"),
            (300, "5m"),
            (3599, "59m"),
            (3 * 3600 + 120, "3h2m"),
            (30 * 3600, "30h"),
            (3 * 86400 + 3600, "3d1h"),
            (40 * 86400, "40d"),
            (3 * 365 * 86400 + 5 * 86400, "3y5d"),
            (9 * 365 * 86400, "9y"),
        ];
        for (seconds, want) in cases {
            assert_eq!(human_duration(seconds), want, "{seconds}s");
        }
        let now: Timestamp = "2026-11-27T12:05:00Z".parse().unwrap();
        assert_eq!(age(&json!({"metadata": {"creationTimestamp": "2026-11-27T12:00:00Z"}}), now), "5m");
        assert_eq!(age(&json!({"metadata": {}}), now), "<unknown>");
    }

    #[test]
    fn the_status_section_sums_the_rollout_up() {
        let now: Timestamp = "2026-11-27T12:00:30Z".parse().unwrap();
        let obj = json!({"metadata": {"generation": 2, "creationTimestamp": "2026-11-27T12:00:00Z"},
                         "spec": {"replicas": 2},
                         "status": {"observedGeneration": 2, "replicas": 3, "updatedReplicas": 1, "readyReplicas": 2, "availableReplicas": 2}});
        assert_eq!(
            Value::Object(section("Deployment", &obj, now)),
            json!({"rollout": "progressing", "detail": "1/2 updated, 2 ready, 2 available, 2 old",
                   "ready": "2/2", "upToDate": 1, "available": 2, "age": "30s"})
        );
        let cron =
            json!({"metadata": {"creationTimestamp": "2026-11-27T12:00:00Z"}, "status": {"active": [{}]}});
        assert_eq!(Value::Object(section("CronJob", &cron, now)), json!({"active": 1, "age": "30s"}));
    }

    #[test]
    fn ready_pods_running_other_images_are_counted() {
        let profile = crate::model::roles::Profile::builtin();
        let kind = profile.kind("deploy").unwrap();
        let obj = json!({"spec": {"template": {"spec": {"containers": [{"name": "app", "image": "a:2"}, {"name": "proxy", "image": "p:1"}]}}}});
        let pod = |name: &str, image: &str, ready: bool| {
            json!({"metadata": {"name": name}, "spec": {"containers": [{"name": "app", "image": image}, {"name": "proxy", "image": "p:1"}]},
                   "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": if ready { "True" } else { "False" }}]}})
        };
        let pods =
            [pod("a", "a:1", true), pod("b", "a:1", true), pod("c", "a:2", true), pod("d", "a:2", false)];
        assert_eq!(Value::Object(ready_pod_images(kind, &obj, &pods)), json!({"app": {"a:1": 2, "a:2": 1}}));
        assert!(ready_pod_images(kind, &obj, &pods[2..]).is_empty(), "all ready pods run the spec");
    }

    #[test]
    fn a_deployments_replica_sets_count_its_ready_pods_images() {
        let profile = crate::model::roles::Profile::builtin();
        let kind = profile.kind("deploy").unwrap();
        let obj = json!({"metadata": {"uid": "d1"},
                         "spec": {"template": {"spec": {"containers": [{"name": "app", "image": "a:2"}, {"name": "proxy", "image": "p:1"}]}}}});
        let rs = |owner: &str, image: &str, ready: Option<u32>| {
            json!({"metadata": {"ownerReferences": [{"kind": "Deployment", "uid": owner, "controller": true}]},
                   "spec": {"template": {"spec": {"containers": [{"name": "app", "image": image}, {"name": "proxy", "image": "p:1"}]}}},
                   "status": {"readyReplicas": ready}})
        };
        let sets = [
            rs("d1", "a:1", Some(3)),
            rs("d1", "a:2", Some(1)),
            rs("d1", "a:0", None),
            rs("other", "a:1", Some(7)),
        ];
        assert_eq!(
            Value::Object(ready_replica_set_images(kind, &obj, &sets)),
            json!({"app": {"a:1": 3, "a:2": 1}}),
            "old and new ReplicaSets with ready pods; not one without, nor another Deployment's"
        );
        assert!(ready_replica_set_images(kind, &obj, &sets[1..]).is_empty(), "all ready pods run the spec");
    }
}
