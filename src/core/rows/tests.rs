use proptest::prelude::*;
use serde_json::json;

use super::*;

fn now() -> Timestamp {
    "2026-11-27T18:00:00Z".parse().unwrap()
}

fn layouts() -> Vec<Layout> {
    let mut out = Vec::new();
    for role in RoleName::ALL {
        for bits in 0..8u8 {
            out.push(Layout {
                role,
                wide: bits & 1 != 0,
                all_namespaces: bits & 2 != 0,
                with_controller: bits & 4 != 0,
            });
        }
    }
    out
}

/// The rows of `obj` both ways, decoded from its JSON text as a list page carries it.
fn both_ways(
    profile: &Profile,
    layout: &Layout,
    kind: &KindInfo,
    obj: &Value,
    hpa: Option<&Autoscaler>,
) -> (Vec<Vec<String>>, Vec<Vec<String>>) {
    let plan = RowPlan::new(profile, layout.role, kind).expect("a plan for a built-in kind");
    let partial: PartialObject = serde_json::from_str(&obj.to_string()).expect("decodes");
    (partial.rows(&plan, layout, kind, hpa, now()), value_rows(profile, layout, kind, obj, hpa, now()))
}

fn fixture(name: &str) -> Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("tests/fixtures/{name}.yaml"));
    serde_yaml::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn typed_rows_equal_document_rows_for_real_objects() {
    let profile = Profile::builtin();
    let hpa = fixture("hpa-shop");
    let mut compared = 0;
    for name in ["cj-zoned", "cj", "deploy", "ds", "job-indexed", "job", "rs-owned", "rs", "sidecars", "sts"]
    {
        let obj = fixture(name);
        let kind = profile.kind(obj["kind"].as_str().unwrap()).unwrap();
        let autoscaler = Autoscaler::targeting(std::slice::from_ref(&hpa), kind, &obj);
        for layout in layouts() {
            for hpa in [None, autoscaler.as_ref()] {
                let (typed, whole) = both_ways(&profile, &layout, kind, &obj, hpa);
                assert_eq!(typed, whole, "{name} {layout:?}");
                compared += typed.len();
            }
        }
    }
    assert!(compared > 300, "{compared} rows compared");
}

#[test]
fn the_fixtures_show_what_the_columns_promise() {
    let profile = Profile::builtin();
    let obj = fixture("sidecars");
    let kind = profile.kind("deploy").unwrap();
    let layout = Layout { role: RoleName::Dev, wide: true, all_namespaces: false, with_controller: false };
    let (typed, _) = both_ways(&profile, &layout, kind, &obj, None);
    let names: Vec<&str> = typed.iter().map(|r| r[5].as_str()).collect();
    assert_eq!(names, ["app", "migrate (init)", "log-shipper (sidecar)"]);
    assert_eq!(typed[0][7], "8080", "TCP is the default, not shown");
    assert_eq!(typed[2][8..10], ["10m".to_string(), "32Mi".to_string()]);
    assert_eq!(typed[1][11..13], ["migrate --to=latest".to_string(), "1".to_string()]);

    let owned = fixture("rs-owned");
    let rs = profile.kind("rs").unwrap();
    let ops = Layout { role: RoleName::Ops, wide: true, all_namespaces: true, with_controller: true };
    let (typed, _) = both_ways(&profile, &ops, rs, &owned, None);
    assert_eq!(typed[0].last().unwrap(), "deployment.apps/shop");
}

#[test]
fn a_plan_is_made_only_where_the_typed_struct_reads() {
    let builtin = Profile::builtin();
    for kind in &builtin.kinds {
        for role in RoleName::ALL {
            assert!(RowPlan::new(&builtin, role, kind).is_some(), "{} {role}", kind.kind);
        }
    }
    let changed = |from: &str, to: &str| {
        let text = crate::model::roles::BUILTIN_PROFILE.replace(from, to);
        assert_ne!(text, crate::model::roles::BUILTIN_PROFILE, "{from}");
        Profile::parse(&text, "test").unwrap()
    };
    let deploy = |p: &Profile| p.kind("deploy").unwrap().clone();
    // A shown field elsewhere, a placement field the row does not know, labels elsewhere.
    let image_elsewhere = changed("image: {path: container.image}", "image: {path: container.workingDir}");
    assert!(RowPlan::new(&image_elsewhere, RoleName::Dev, &deploy(&image_elsewhere)).is_none());
    assert!(RowPlan::new(&image_elsewhere, RoleName::Ops, &deploy(&image_elsewhere)).is_some());
    let more_placement =
        changed("priorityClassName: {path: pod.priorityClassName}", "nodeName: {path: pod.nodeName}");
    assert!(RowPlan::new(&more_placement, RoleName::Ops, &deploy(&more_placement)).is_none());
    let replicas_elsewhere =
        changed("replicas: {path: spec.replicas,", "replicas: {path: template.spec.hostname,");
    assert!(RowPlan::new(&replicas_elsewhere, RoleName::Ops, &deploy(&replicas_elsewhere)).is_none());
    // A field left out is fine: its column is empty both ways.
    let no_ports = changed("        ports: {path: container.ports}\n", "");
    let kind = deploy(&no_ports);
    let plan = RowPlan::new(&no_ports, RoleName::Dev, &kind).unwrap();
    assert!(!plan.ports && plan.image);
    let obj = fixture("deploy");
    for layout in layouts() {
        let (typed, whole) = both_ways(&no_ports, &layout, &kind, &obj, None);
        assert_eq!(typed, whole, "{layout:?}");
    }
    // A custom kind is read from its document.
    let mut custom = deploy(&builtin);
    custom.kind = "Rollout".into();
    assert!(RowPlan::new(&builtin, RoleName::Dev, &custom).is_none());
}

#[test]
fn shown_is_whether_a_document_keeps_a_value() {
    for (text, shown) in [
        ("null", false),
        ("{}", false),
        ("[]", false),
        ("{\"a\": {}}", true),
        ("[null]", true),
        ("\"\"", true),
        ("0", true),
        ("false", true),
    ] {
        assert_eq!(serde_json::from_str::<Shown>(text).unwrap(), Shown(shown), "{text}");
    }
}

fn name() -> impl Strategy<Value = String> {
    prop_oneof![Just("a"), Just("b"), Just("c")].prop_map(String::from)
}

fn optional(value: impl Strategy<Value = Value>) -> impl Strategy<Value = Option<Value>> {
    prop::option::of(value)
}

fn quantities() -> impl Strategy<Value = Value> {
    (prop::option::of("[1-9]00m"), prop::option::of("[1-9]{1,2}Mi")).prop_map(|(cpu, memory)| {
        let mut q = Map::new();
        cpu.map(|c| q.insert("cpu".into(), json!(c)));
        memory.map(|m| q.insert("memory".into(), json!(m)));
        Value::Object(q)
    })
}

fn container(init: bool) -> impl Strategy<Value = Value> {
    (
        name(),
        optional("[a-z]{0,4}:[0-9]".prop_map(Value::from)),
        prop::collection::vec("[a-z]{1,3}", 0..3),
        prop::collection::vec("-[a-z]{1,3}", 0..3),
        prop::collection::vec(prop_oneof![Just("A"), Just("B"), Just("C")], 0..4),
        prop::collection::vec((1..9000i64, prop::option::of(prop_oneof![Just("TCP"), Just("UDP")])), 0..3),
        (optional(quantities()), optional(quantities())),
        any::<bool>(),
    )
        .prop_map(move |(name, image, command, args, env, ports, (requests, limits), always)| {
            let mut c = json!({"name": if init { format!("i{name}") } else { name }});
            if let Some(image) = image {
                c["image"] = image;
            }
            if !command.is_empty() {
                c["command"] = json!(command);
            }
            if !args.is_empty() {
                c["args"] = json!(args);
            }
            if !env.is_empty() {
                c["env"] = env.iter().map(|n| json!({"name": n, "value": "v"})).collect();
            }
            c["ports"] = ports
                .iter()
                .map(|(port, protocol)| match protocol {
                    Some(p) => json!({"containerPort": port, "protocol": p}),
                    None => json!({"containerPort": port}),
                })
                .collect();
            let mut resources = Map::new();
            requests.map(|r| resources.insert("requests".into(), r));
            limits.map(|l| resources.insert("limits".into(), l));
            c["resources"] = Value::Object(resources);
            if init && always {
                c["restartPolicy"] = json!("Always");
            }
            c
        })
}

fn pod_spec() -> impl Strategy<Value = Value> {
    (
        prop::collection::vec(container(false), 0..3),
        prop::collection::vec(container(true), 0..3),
        optional(prop::collection::btree_map("[a-z]{1,3}", "[a-z]{0,3}", 0..3).prop_map(|m| json!(m))),
        optional(prop_oneof![Just(json!({})), Just(json!({"nodeAffinity": {}}))]),
        prop::collection::vec(Just(json!({"key": "gpu", "operator": "Exists"})), 0..3),
        optional(prop_oneof![Just(json!([])), Just(json!([{"maxSkew": 1}]))]),
        optional(prop_oneof![Just(json!("")), Just(json!("high"))]),
    )
        .prop_map(|(containers, init, selector, affinity, tolerations, spread, priority)| {
            let mut spec =
                json!({"containers": containers, "initContainers": init, "tolerations": tolerations});
            for (key, value) in [
                ("nodeSelector", selector),
                ("affinity", affinity),
                ("topologySpreadConstraints", spread),
                ("priorityClassName", priority),
            ] {
                if let Some(v) = value {
                    spec[key] = v;
                }
            }
            spec
        })
}

fn strategy() -> impl Strategy<Value = Option<Value>> {
    optional(prop_oneof![
        Just(json!({})),
        Just(json!({"type": "Recreate"})),
        Just(json!({"rollingUpdate": {"maxSurge": 1}})),
    ])
}

fn counts() -> impl Strategy<Value = Value> {
    prop::collection::btree_map(
        prop_oneof![
            Just("readyReplicas"),
            Just("updatedReplicas"),
            Just("availableReplicas"),
            Just("numberReady"),
            Just("desiredNumberScheduled"),
            Just("updatedNumberScheduled"),
            Just("numberAvailable"),
            Just("succeeded"),
        ],
        0..5i64,
        0..5,
    )
    .prop_map(|m| json!(m))
}

/// A workload of any built-in kind as a server lists it (kind and apiVersion left out).
fn workload() -> impl Strategy<Value = (String, Value)> {
    (
        prop_oneof![
            Just("Deployment"),
            Just("StatefulSet"),
            Just("DaemonSet"),
            Just("ReplicaSet"),
            Just("Job"),
            Just("CronJob")
        ],
        pod_spec(),
        (optional((0..4i64).prop_map(Value::from)), optional((1..4i64).prop_map(Value::from))),
        (strategy(), strategy(), optional(Just(json!("0 3 * * *")))),
        prop::collection::btree_map(
            prop_oneof![Just("app"), Just("job-name"), Just("controller-uid"), Just("tier")],
            "[a-z]{1,3}",
            0..4,
        ),
        optional(prop_oneof![Just(json!(true)), Just(json!(false))]),
        optional(Just(json!("2026-11-27T17:58:30Z"))),
        counts(),
    )
        .prop_map(
            |(
                kind,
                pod,
                (replicas, completions),
                (strategy, update, schedule),
                labels,
                controller,
                created,
                status,
            )| {
                let template = json!({"metadata": {"labels": {"app": "x"}}, "spec": pod});
                let mut spec = if kind == "CronJob" {
                    json!({"jobTemplate": {"spec": {"template": template}}})
                } else {
                    json!({"template": template})
                };
                for (key, value) in [
                    ("replicas", replicas),
                    ("completions", completions),
                    ("strategy", strategy),
                    ("updateStrategy", update),
                    ("schedule", schedule),
                ] {
                    if let Some(v) = value {
                        spec[key] = v;
                    }
                }
                let mut metadata = json!({"name": "w", "namespace": "shop", "labels": labels,
                    "managedFields": [{"manager": "m", "fieldsV1": {"f:spec": {}}}]});
                if let Some(controller) = controller {
                    metadata["ownerReferences"] = json!([{"apiVersion": "apps/v1", "kind": "Deployment",
                        "name": "owner", "uid": "u", "controller": controller}]);
                }
                if let Some(created) = created {
                    metadata["creationTimestamp"] = created;
                }
                (kind.to_string(), json!({"metadata": metadata, "spec": spec, "status": status}))
            },
        )
}

fn autoscaler() -> impl Strategy<Value = Option<Autoscaler>> {
    prop::option::of((prop::option::of(1..3i64), prop::option::of(3..9i64))).prop_map(|hpa| {
        hpa.map(|(min, max)| Autoscaler {
            name: "w-hpa".into(),
            min_replicas: min,
            max_replicas: max,
            metrics: None,
            object: json!({"metadata": {"name": "w-hpa", "namespace": "shop"}}),
        })
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// The typed way and the document way give the same rows, for every layout.
    #[test]
    fn typed_rows_equal_document_rows((kind, obj) in workload(), hpa in autoscaler()) {
        let profile = Profile::builtin();
        let kind = profile.kind(&kind).unwrap();
        let obj = crate::cluster::fetch::checked_object(obj, kind, None).unwrap();
        for layout in layouts() {
            let (typed, whole) = both_ways(&profile, &layout, kind, &obj, hpa.as_ref());
            prop_assert_eq!(typed, whole, "{:?}\n{}", layout, obj);
        }
    }
}

#[test]
fn label_columns_as_kubectl_heads_and_fills_them() {
    let columns =
        LabelColumns { keys: vec!["app".into(), "app.kubernetes.io/name".into()], show_labels: true };
    assert_eq!(columns.headers(), ["APP", "NAME", "LABELS"]);
    let labels = json!({"tier": "front", "app": "web"});
    assert_eq!(columns.cells(labels.as_object()), ["web", "", "app=web,tier=front"]);
    assert_eq!(columns.cells(None), ["", "", "<none>"]);
    assert!(LabelColumns::default().headers().is_empty());
}
