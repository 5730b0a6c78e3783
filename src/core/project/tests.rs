use super::*;
use crate::model::object::differing_paths;
use crate::model::roles::document_label;

fn deployment() -> Value {
    json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "shop", "labels": {"app": "web"},
                      "annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{}", "team": "a"}},
        "spec": {
            "replicas": 3,
            "selector": {"matchLabels": {"app": "web"}},
            "strategy": {"type": "RollingUpdate"},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {
                    "nodeSelector": {"disk": "ssd"},
                    "serviceAccountName": "web",
                    "containers": [
                        {"name": "app", "image": "shop:1", "imagePullPolicy": "Always",
                         "env": [{"name": "MODE", "value": "prod"},
                                 {"name": "PASSWORD", "valueFrom": {"secretKeyRef": {"name": "db", "key": "pw"}}}],
                         "ports": [{"containerPort": 8080, "name": "http", "protocol": "TCP"}],
                         "livenessProbe": {"httpGet": {"path": "/"}}},
                        {"name": "proxy", "image": "envoy:1"}
                    ]
                }
            }
        }
    })
}

fn setup() -> (Profile, Value) {
    (Profile::builtin(), deployment())
}

#[test]
fn dev_document_is_compact_and_role_only() {
    let (p, obj) = setup();
    let kind = p.kind("deploy").unwrap();
    let mut doc = document(&p, RoleName::Dev, kind, &obj, &ViewOptions::default());
    doc.as_object_mut().unwrap().remove(BASE_KEY);
    assert_eq!(
        doc,
        json!({
            "kind": "Deployment", "name": "web", "namespace": "shop",
            "containers": {
                "app": {"image": "shop:1",
                        "env": {"MODE": "prod", "PASSWORD": {"secretKeyRef": {"name": "db", "key": "pw"}}},
                        "ports": [{"containerPort": 8080, "name": "http"}]},
                "proxy": {"image": "envoy:1"}
            }
        })
    );
}

#[test]
fn ops_document_hides_tool_annotations_and_shows_selector_read_only() {
    let (p, obj) = setup();
    let kind = p.kind("deploy").unwrap();
    let mut doc = document(&p, RoleName::Ops, kind, &obj, &ViewOptions::default());
    doc.as_object_mut().unwrap().remove(BASE_KEY);
    assert_eq!(
        doc,
        json!({
            "kind": "Deployment", "name": "web", "namespace": "shop",
            "scaler": {"replicas": 3},
            "rollout": {"strategy": {"type": "RollingUpdate"}},
            "placement": {"nodeSelector": {"disk": "ssd"}},
            "metadata": {"labels": {"app": "web"}, "annotations": {"team": "a"}},
            "readOnly": {"selector": {"app": "web"}}
        })
    );
}

#[test]
fn container_filter_and_autoscaler() {
    let (p, obj) = setup();
    let kind = p.kind("deploy").unwrap();
    let hpa =
        Autoscaler::of(&json!({"metadata": {"name": "web"}, "spec": {"minReplicas": 2, "maxReplicas": 5}}));
    let dev = document(
        &p,
        RoleName::Dev,
        kind,
        &obj,
        &ViewOptions { container: Some("proxy"), autoscaler: None, related: None },
    );
    assert_eq!(dev["containers"], json!({"proxy": {"image": "envoy:1"}}));
    let ops = document(
        &p,
        RoleName::Ops,
        kind,
        &obj,
        &ViewOptions { container: None, autoscaler: Some(&hpa), related: None },
    );
    assert_eq!(
        ops["readOnly"]["autoscaler"],
        json!({"name": "web", "holds": ["scaler.replicas"], "current": {"scaler.replicas": 3}})
    );
    assert_eq!(ops["autoscaler"], json!({"minReplicas": 2, "maxReplicas": 5}), "its settings are editable");
    assert!(dev.get("autoscaler").is_none());
    // Metric targets are quantities; the rest of the section holds whole numbers.
    let mut fractional = ops.clone();
    fractional["autoscaler"]["metrics"] = json!([{"type": "Pods", "pods": {"metric": {"name": "qps"}, "target": {"type": "AverageValue", "averageValue": 0.5}}}]);
    assert!(decode(&p, RoleName::Ops, &obj, &fractional).is_ok());
    fractional["autoscaler"]["behavior"] =
        json!({"scaleUp": {"policies": [{"type": "Pods", "value": 1.5, "periodSeconds": 60}]}});
    assert_eq!(
        messages(&decode(&p, RoleName::Ops, &obj, &fractional).unwrap_err()),
        ["autoscaler.behavior.scaleUp.policies.0.value: 1.5 is not a whole number (if it is text, quote it)"]
    );
    let with_hpa = ViewOptions { container: None, autoscaler: Some(&hpa), related: None };
    assert!(document(&p, RoleName::Dev, kind, &obj, &with_hpa).get("autoscaler").is_none(), "never for dev");
    let dev_doc = json!({"kind": "Deployment", "name": "web", "autoscaler": {"maxReplicas": 3}});
    assert!(
        messages(&decode(&p, RoleName::Dev, &obj, &dev_doc).unwrap_err())[0]
            .starts_with("autoscaler: belongs to the ops role")
    );
    assert!(ops.get("scaler").is_none(), "a held count is not offered for editing");
}

fn decode(p: &Profile, role: RoleName, obj: &Value, doc: &Value) -> Result<Value, Vec<DocProblem>> {
    let (fields, problems) = decode_document(p, role, p.kind("deploy").unwrap(), obj, doc);
    if problems.is_empty() { Ok(fields) } else { Err(problems) }
}

fn messages(problems: &[DocProblem]) -> Vec<&str> {
    problems.iter().map(|p| p.message.as_str()).collect()
}

#[test]
fn unchanged_document_decodes_to_the_role_fields_only() {
    let (p, obj) = setup();
    let kind = p.kind("deploy").unwrap();
    let doc = document(&p, RoleName::Dev, kind, &obj, &ViewOptions::default());
    assert!(doc[BASE_KEY]["digest"].as_str().unwrap().starts_with("v1."), "documents carry their base");
    assert_eq!(
        decode(&p, RoleName::Dev, &obj, &doc).unwrap(),
        json!({"spec": {"template": {"spec": {"containers": [
            {"name": "app", "image": "shop:1",
             "env": [{"name": "MODE", "value": "prod"},
                     {"name": "PASSWORD", "valueFrom": {"secretKeyRef": {"name": "db", "key": "pw"}}}],
             "ports": [{"containerPort": 8080, "name": "http", "protocol": "TCP"}]},
            {"name": "proxy", "image": "envoy:1"}
        ]}}}})
    );
    let ops_doc = document(&p, RoleName::Ops, kind, &obj, &ViewOptions::default());
    let ops = decode(&p, RoleName::Ops, &obj, &ops_doc).unwrap();
    assert_eq!(ops["spec"]["replicas"], 3);
    assert_eq!(ops["metadata"]["annotations"], json!({"team": "a"}));
    assert!(ops["spec"]["template"]["spec"].get("containers").is_none(), "ops never sends containers");
}

#[test]
fn a_filtered_document_speaks_only_for_its_containers() {
    let (p, obj) = setup();
    let doc = json!({"kind": "Deployment", "name": "web", "containers": {"proxy": {"image": "envoy:2"}}});
    let fields = decode(&p, RoleName::Dev, &obj, &doc).unwrap();
    assert_eq!(
        fields["spec"]["template"]["spec"]["containers"],
        json!([{"name": "proxy", "image": "envoy:2"}])
    );
    assert_eq!(named_containers(&doc), ["proxy"]);
}

#[test]
fn env_values_must_be_strings_and_duplicates_are_shown_as_they_are() {
    let (p, mut obj) = setup();
    let cases = [
        (json!(1.1), "containers.app.env.V: env values are strings, and this is a number; quote it: \"1.1\""),
        (json!(31), "this is a number; quote it: \"31\""),
        (json!(true), "this is a boolean; quote it: \"true\""),
        (Value::Null, "this is empty (null); quote it: \"\""),
    ];
    for (value, expect) in cases {
        let doc = json!({"kind": "Deployment", "name": "web", "containers": {"app": {"env": {"V": value}}}});
        let problems = decode(&p, RoleName::Dev, &obj, &doc).unwrap_err();
        assert!(problems[0].message.contains(expect), "{problems:?}");
        assert_eq!(
            problems[0].at.as_deref(),
            Some(&["containers".to_string(), "app".into(), "env".into(), "V".into()][..])
        );
    }
    let doc = json!({"kind": "Deployment", "name": "web", "containers": {"app": {"env": {"V": "1.10"}}}});
    let fields = decode(&p, RoleName::Dev, &obj, &doc).unwrap();
    assert_eq!(
        fields["spec"]["template"]["spec"]["containers"][0]["env"],
        json!([{"name": "V", "value": "1.10"}])
    );
    // Duplicate names: the list form, both kept, in order, and it reads back.
    obj["spec"]["template"]["spec"]["containers"][0]["env"] =
        json!([{"name": "A", "value": "1"}, {"name": "B", "value": "$(A)"}, {"name": "A", "value": "2"}]);
    let kind = p.kind("deploy").unwrap();
    let doc = document(&p, RoleName::Dev, kind, &obj, &ViewOptions::default());
    assert_eq!(
        doc["containers"]["app"]["env"],
        json!([{"name": "A", "value": "1"}, {"name": "B", "value": "$(A)"}, {"name": "A", "value": "2"}])
    );
    let fields = decode(&p, RoleName::Dev, &obj, &doc).unwrap();
    assert_eq!(fields["spec"]["template"]["spec"]["containers"][0]["env"].as_array().unwrap().len(), 3);
}

#[test]
fn problems_are_named_and_point_to_the_other_role() {
    let (p, obj) = setup();
    let cases = [
        (json!({"kind": "Deployment", "name": "other"}), "name: cannot be changed"),
        (json!({"kind": "StatefulSet", "name": "web"}), "kind: cannot be changed"),
        (
            json!({"kind": "Deployment", "name": "web", "scaler": {"replicas": 1}}),
            "scaler: belongs to the ops role; use `kubectl oam ops edit deployment/web -n shop`",
        ),
        (
            json!({"kind": "Deployment", "name": "web", "bogus": 1}),
            "bogus: unknown key; the dev role has containers",
        ),
        (
            json!({"kind": "Deployment", "name": "web", "containers": {"app": {"livenessProbe": {}}}}),
            "containers.app.livenessProbe: not a dev field",
        ),
        (
            json!({"kind": "Deployment", "name": "web", "containers": {"app": {"env": ["x"]}}}),
            "containers.app.env[0]: expected {name: NAME",
        ),
        (
            json!({"kind": "Deployment", "name": "web", "containers": {"app": {"ports": ["x"]}}}),
            "containers.app.ports[0]",
        ),
    ];
    for (doc, expect) in cases {
        let problems = decode(&p, RoleName::Dev, &obj, &doc).unwrap_err();
        assert!(
            messages(&problems).iter().any(|d| d.contains(expect)),
            "{problems:?} should mention {expect}"
        );
    }
    let ops_cases = [
        (
            json!({"kind": "Deployment", "name": "web", "containers": {}}),
            "containers: belongs to the dev role",
        ),
        (
            json!({"kind": "Deployment", "name": "web", "schedule": {"schedule": "* * * * *"}}),
            "schedule: Deployment has no schedule trait",
        ),
        (
            json!({"kind": "Deployment", "name": "web", "metadata": {"annotations": {"deployment.kubernetes.io/revision": "2"}}}),
            "set by tools and controllers",
        ),
    ];
    for (doc, expect) in ops_cases {
        let problems = decode(&p, RoleName::Ops, &obj, &doc).unwrap_err();
        assert!(
            messages(&problems).iter().any(|d| d.contains(expect)),
            "{problems:?} should mention {expect}"
        );
    }
}

#[test]
fn role_fields_are_removed_and_everything_else_kept() {
    let (p, obj) = setup();
    let kind = p.kind("deploy").unwrap();
    let dev_less = without_role_fields(&p, RoleName::Dev, kind, &obj);
    let app = &dev_less["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(
        app,
        &json!({"name": "app", "imagePullPolicy": "Always", "livenessProbe": {"httpGet": {"path": "/"}}})
    );
    assert_eq!(dev_less["spec"]["replicas"], 3, "ops fields stay");
    let ops_less = without_role_fields(&p, RoleName::Ops, kind, &obj);
    assert!(ops_less["spec"].get("replicas").is_none());
    assert!(ops_less["metadata"].get("annotations").is_none(), "tool-written keys are bookkeeping");
    assert_eq!(ops_less["spec"]["template"]["spec"]["serviceAccountName"], "web");
    let mut changed = ops_less.clone();
    changed["spec"]["template"]["spec"]["serviceAccountName"] = json!("other");
    changed["spec"]["paused"] = json!(true);
    assert_eq!(
        differing_paths(&ops_less, &changed),
        ["spec.template.spec.serviceAccountName", "spec.paused"]
    );
}

#[test]
fn unknown_containers_and_numbers_that_would_change_are_problems() {
    let (p, obj) = setup();
    let doc = json!({"kind": "Deployment", "name": "web", "containers": {"ap": {"image": "x"}}});
    let problems = decode(&p, RoleName::Dev, &obj, &doc).unwrap_err();
    assert!(
        problems[0].message.starts_with("containers.ap: no such container (it has app, proxy)"),
        "{problems:?}"
    );
    for (replicas, expect) in [
        (json!(4294967298u64), "scaler.replicas: 4294967298 is out of range (at most 2147483647)"),
        (json!(1e10), "scaler.replicas: 10000000000 is out of range (at most 2147483647)"),
        (json!(-1e300), "scaler.replicas: -1e300 is out of range (at most 2147483647)"),
        (json!(3.0), "scaler.replicas: 3.0 is not written as a whole number; write 3"),
        (json!(2.5), "scaler.replicas: 2.5 is not a whole number (if it is text, quote it)"),
    ] {
        let doc = json!({"kind": "Deployment", "name": "web", "scaler": {"replicas": replicas}});
        let problems = decode(&p, RoleName::Ops, &obj, &doc).unwrap_err();
        assert_eq!(messages(&problems), [expect]);
    }
    let doc = json!({"kind": "Deployment", "name": "web", "containers": {"app": {"resources": {"requests": {"cpu": 0.5}}}}});
    assert!(decode(&p, RoleName::Dev, &obj, &doc).is_ok(), "quantities may be fractional");
    // A quantity the server cannot read is named (the server's message names no field).
    let resources = json!({"limits": {"memory": "1Gi", "cpu": "2"}, "requests": {"cpu": "not-a-quantity"}});
    let doc = json!({"kind": "Deployment", "name": "web", "containers": {"app": {"resources": resources}}});
    let problems = decode(&p, RoleName::Dev, &obj, &doc).unwrap_err();
    assert_eq!(
        messages(&problems),
        [
            "containers.app.resources.requests.cpu: \"not-a-quantity\" is not a quantity; write a number with an optional unit, e.g. 250m, 0.5, 1Gi or 512M"
        ]
    );
    assert_eq!(problems[0].at.as_ref().unwrap().join("."), "containers.app.resources.requests.cpu");
}

#[test]
fn quantities_are_read_as_the_api_server_reads_them() {
    for ok in [
        "1", "0", "100m", "0.5", ".5", "1.", "1.5Gi", "64Mi", "1e3", "1E-2", "2k", "+1", "-1", " 1 ", "5n",
        "1Ei", "Gi", ".",
    ] {
        assert!(is_quantity(ok), "{ok}");
    }
    // As the API server (v1.36) reads them: "Gi", "." and "-" are 0; these fail.
    for bad in ["", " ", "lots", "1.2.3", "1KiB", "1e", "1ee3", "1g", "1 Gi", "m1", "1e+", "+-1"] {
        assert!(!is_quantity(bad), "{bad}");
    }
}

#[test]
fn server_fields_are_named_as_documents_name_them() {
    let p = Profile::builtin();
    let deploy = p.kind("deploy").unwrap();
    let cj = p.kind("cj").unwrap();
    let cases = [
        (deploy, ".spec.template.spec.containers[name=\"app\"].image", Some("containers.app.image")),
        (
            deploy,
            ".spec.template.spec.containers[name=\"a.b\"].env[name=\"X\"].value",
            Some("containers.a.b.env[name=\"X\"].value"),
        ),
        (deploy, ".spec.replicas", Some("scaler.replicas")),
        (deploy, ".metadata.labels.app", Some("metadata.labels.app")),
        (deploy, ".spec.template.spec.tolerations", Some("placement.tolerations")),
        (
            cj,
            ".spec.jobTemplate.spec.template.spec.containers[name=\"job\"].args",
            Some("containers.job.args"),
        ),
        (deploy, ".spec.template.spec.serviceAccountName", None),
    ];
    for (kind, field, label) in cases {
        assert_eq!(document_label(&p, kind, field).as_deref(), label, "{field}");
    }
}

#[test]
fn init_containers_and_sidecars_are_in_the_dev_document() {
    let (p, mut obj) = setup();
    obj["spec"]["template"]["spec"]["initContainers"] = json!([
        {"name": "migrate", "image": "shop:1", "args": ["migrate"], "imagePullPolicy": "Always"},
        {"name": "log", "image": "fluent:1", "restartPolicy": "Always", "env": [{"name": "TO", "value": "x"}]}
    ]);
    let kind = p.kind("deploy").unwrap();
    let doc = document(&p, RoleName::Dev, kind, &obj, &ViewOptions::default());
    assert_eq!(
        doc["initContainers"],
        json!({"migrate": {"image": "shop:1", "args": ["migrate"]},
               "log": {"image": "fluent:1", "env": {"TO": "x"}}})
    );
    assert_eq!(doc["readOnly"], json!({"sidecars": ["log"]}), "sidecars are recognisable");
    let keys: Vec<&String> = doc.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["kind", "name", "namespace", "containers", "initContainers", "readOnly", "base"]);
    // It reads back to the same fields, keyed as the server merges them.
    let fields = decode(&p, RoleName::Dev, &obj, &doc).unwrap();
    assert_eq!(
        fields["spec"]["template"]["spec"]["initContainers"],
        json!([{"name": "migrate", "image": "shop:1", "args": ["migrate"]},
               {"name": "log", "image": "fluent:1", "env": [{"name": "TO", "value": "x"}]}])
    );
    assert_eq!(named_containers(&doc), ["app", "proxy", "migrate", "log"]);
    // -c finds an init container; the document then holds only it.
    let only = ViewOptions { container: Some("log"), autoscaler: None, related: None };
    let one = document(&p, RoleName::Dev, kind, &obj, &only);
    assert_eq!(one.get("containers"), None);
    assert_eq!(one["initContainers"], json!({"log": {"image": "fluent:1", "env": {"TO": "x"}}}));
    assert_eq!(one["readOnly"]["sidecars"], json!(["log"]));
    // Containers under the wrong key, or unknown ones, are named with the way out.
    for (doc, expect) in [
        (
            json!({"kind": "Deployment", "name": "web", "containers": {"migrate": {"image": "x"}}}),
            "containers.migrate: migrate is an init container; put it under initContainers",
        ),
        (
            json!({"kind": "Deployment", "name": "web", "initContainers": {"app": {"image": "x"}}}),
            "initContainers.app: app is an app container; put it under containers",
        ),
        (
            json!({"kind": "Deployment", "name": "web", "initContainers": {"x": {"image": "x"}}}),
            "initContainers.x: no such init container (it has migrate, log)",
        ),
        (
            json!({"kind": "Deployment", "name": "web", "initContainers": {"log": {"restartPolicy": "Never"}}}),
            "initContainers.log.restartPolicy: not a dev field",
        ),
        (
            json!({"kind": "Deployment", "name": "web", "initContainers": {"log": {"env": {"N": 1}}}}),
            "initContainers.log.env.N: env values are strings",
        ),
    ] {
        let problems = decode(&p, RoleName::Dev, &obj, &doc).unwrap_err();
        assert!(messages(&problems).iter().any(|m| m.starts_with(expect)), "{problems:?}");
    }
    let ops = json!({"kind": "Deployment", "name": "web", "initContainers": {}});
    assert!(
        messages(&decode(&p, RoleName::Ops, &obj, &ops).unwrap_err())[0]
            .starts_with("initContainers: belongs to the dev role")
    );
    // Server paths and the role guard know init containers too.
    assert_eq!(
        document_label(&p, kind, ".spec.template.spec.initContainers[name=\"log\"].image").as_deref(),
        Some("initContainers.log.image")
    );
    let dev_less = without_role_fields(&p, RoleName::Dev, kind, &obj);
    assert_eq!(
        dev_less["spec"]["template"]["spec"]["initContainers"],
        json!([{"name": "migrate", "imagePullPolicy": "Always"}, {"name": "log", "restartPolicy": "Always"}])
    );
}

#[test]
fn job_run_settings_are_ops_traits_and_immutable_ones_say_why() {
    let p = Profile::builtin();
    let kind = p.kind("job").unwrap();
    let job = json!({"metadata": {"name": "once", "namespace": "a"},
        "spec": {"parallelism": 2, "completions": 4, "completionMode": "NonIndexed", "backoffLimit": 6,
                 "activeDeadlineSeconds": 600, "ttlSecondsAfterFinished": 100,
                 "template": {"spec": {"containers": [{"name": "main", "image": "busybox"}]}}}});
    let mut doc = document(&p, RoleName::Ops, kind, &job, &ViewOptions::default());
    doc.as_object_mut().unwrap().remove(BASE_KEY);
    assert_eq!(
        doc,
        json!({"kind": "Job", "name": "once", "namespace": "a",
               "run": {"parallelism": 2, "backoffLimit": 6, "activeDeadlineSeconds": 600, "ttlSecondsAfterFinished": 100},
               "readOnly": {"completions": 4, "completionMode": "NonIndexed"}})
    );
    let (fields, problems) = decode_document(&p, RoleName::Ops, kind, &job, &doc);
    assert!(problems.is_empty(), "{problems:?}");
    assert_eq!(fields["spec"]["ttlSecondsAfterFinished"], 100);
    let set_completions = json!({"kind": "Job", "name": "once", "run": {"completions": 5}});
    let (_, problems) = decode_document(&p, RoleName::Ops, kind, &job, &set_completions);
    assert_eq!(
        problems[0].message,
        "run.completions: read-only for Job (fixed when the Job is created: the API refuses changes (an Indexed Job's may change only together with parallelism)); it is shown under readOnly, remove it here"
    );
    let cj = p.kind("cj").unwrap();
    let schedule: Vec<&str> = p
        .role(RoleName::Ops)
        .object_traits("CronJob")
        .filter(|(t, _)| *t == "schedule")
        .flat_map(|(_, fields)| fields.into_iter().map(|f| f.name.as_str()))
        .collect();
    assert_eq!(
        schedule,
        [
            "schedule",
            "timeZone",
            "suspend",
            "concurrencyPolicy",
            "startingDeadlineSeconds",
            "successfulJobsHistoryLimit",
            "failedJobsHistoryLimit"
        ]
    );
    assert_eq!(document_label(&p, cj, ".spec.timeZone").as_deref(), Some("schedule.timeZone"));
}

#[test]
fn pod_security_annotations_are_read_only_and_no_roles() {
    let (p, mut obj) = setup();
    let kind = p.kind("deploy").unwrap();
    obj["spec"]["template"]["metadata"]["annotations"] = json!({
        "note": "x",
        "container.apparmor.security.beta.kubernetes.io/app": "unconfined",
        "seccomp.security.alpha.kubernetes.io/pod": "runtime/default",
    });
    // Shown under readOnly (the reason goes with the read-only field), never among podAnnotations.
    let doc = document(&p, RoleName::Ops, kind, &obj, &ViewOptions::default());
    assert_eq!(doc["metadata"]["podAnnotations"], json!({"note": "x"}));
    assert_eq!(
        doc["readOnly"]["podSecurity"],
        json!({"container.apparmor.security.beta.kubernetes.io/app": "unconfined",
               "seccomp.security.alpha.kubernetes.io/pod": "runtime/default"})
    );
    assert!(
        document(&p, RoleName::Ops, kind, &deployment(), &ViewOptions::default())["readOnly"]
            .get("podSecurity")
            .is_none(),
        "shown only when the pod has any"
    );
    // The document as shown applies back; adding or changing one is refused, naming key and reason.
    assert!(decode(&p, RoleName::Ops, &obj, &doc).is_ok());
    for key in [
        "container.apparmor.security.beta.kubernetes.io/app",
        "container.apparmor.security.beta.kubernetes.io/proxy",
        "container.seccomp.security.alpha.kubernetes.io/app",
        "seccomp.security.alpha.kubernetes.io/pod",
    ] {
        let mut edited = doc.clone();
        edited["metadata"]["podAnnotations"][key] = json!("unconfined");
        let problems = decode(&p, RoleName::Ops, &obj, &edited).unwrap_err();
        assert_eq!(
            messages(&problems),
            [format!(
                "metadata.podAnnotations.{key}: read-only for Deployment (pod security settings (AppArmor, seccomp), like the securityContext, belong to no role: ask a cluster admin); it is shown under readOnly.podSecurity, remove it here"
            )]
        );
    }
    // Neither role's units: no write sends, takes or releases them.
    let units = ownership::units(&p, RoleName::Ops, kind, &obj);
    let labels: Vec<&str> =
        units.iter().map(|u| u.label.as_str()).filter(|l| l.contains("podAnnotations")).collect();
    assert_eq!(labels, ["metadata.podAnnotations.note"]);
    // What an ops write must leave as it is includes them (the write pipeline's guard).
    let outside = without_role_fields(&p, RoleName::Ops, kind, &obj);
    assert_eq!(
        outside["spec"]["template"]["metadata"]["annotations"],
        json!({"container.apparmor.security.beta.kubernetes.io/app": "unconfined",
               "seccomp.security.alpha.kubernetes.io/pod": "runtime/default"})
    );
    let mut changed = obj.clone();
    changed["spec"]["template"]["metadata"]["annotations"]["container.apparmor.security.beta.kubernetes.io/app"] =
        json!("runtime/default");
    assert_ne!(without_role_fields(&p, RoleName::Ops, kind, &changed), outside);
    changed["spec"]["template"]["metadata"]["annotations"] =
        obj["spec"]["template"]["metadata"]["annotations"].clone();
    changed["spec"]["template"]["metadata"]["annotations"]["note"] = json!("y");
    assert_eq!(
        without_role_fields(&p, RoleName::Ops, kind, &changed),
        outside,
        "podAnnotations are the role's"
    );
    // A CronJob's pod template too.
    let cj = p.kind("cj").unwrap();
    let job = json!({"metadata": {"name": "nightly", "namespace": "a"}, "spec": {"schedule": "@daily",
        "jobTemplate": {"spec": {"template": {"metadata": {"annotations": {"container.apparmor.security.beta.kubernetes.io/main": "unconfined"}},
            "spec": {"containers": [{"name": "main", "image": "busybox"}]}}}}}});
    let doc = document(&p, RoleName::Ops, cj, &job, &ViewOptions::default());
    assert!(doc["metadata"].get("podAnnotations").is_none(), "{doc}");
    assert_eq!(
        doc["readOnly"]["podSecurity"],
        json!({"container.apparmor.security.beta.kubernetes.io/main": "unconfined"})
    );
}

#[test]
fn a_changed_read_only_field_is_refused_and_moved_on_context_is_not() {
    let (p, obj) = setup();
    let kind = p.kind("deploy").unwrap();
    let doc = document(&p, RoleName::Ops, kind, &obj, &ViewOptions::default());
    assert_eq!(doc[READ_ONLY_KEY]["selector"], json!({"app": "web"}));
    assert!(decode(&p, RoleName::Ops, &obj, &doc).is_ok(), "as read: fine");
    let mut changed = doc.clone();
    changed[READ_ONLY_KEY]["selector"]["app"] = json!("other");
    let problems = decode(&p, RoleName::Ops, &obj, &changed).unwrap_err();
    assert_eq!(
        messages(&problems),
        [
            "readOnly.selector: shown for context and never written (immutable: pods are matched by it; changing it needs a new workload); restore it or delete the readOnly section"
        ]
    );
    assert_eq!(problems[0].at.as_deref(), Some(&["readOnly".to_string(), "selector".to_string()][..]));
    // Deleting it, or context that moves on by itself (the autoscaler's count), is fine.
    let mut deleted = doc.clone();
    deleted.as_object_mut().unwrap().remove(READ_ONLY_KEY);
    assert!(decode(&p, RoleName::Ops, &obj, &deleted).is_ok());
    let mut moved_on = doc;
    moved_on[READ_ONLY_KEY]["autoscaler"] = json!({"name": "web", "scaler.replicas": 7});
    assert!(decode(&p, RoleName::Ops, &obj, &moved_on).is_ok());
}

#[test]
fn pod_volumes_are_split_between_the_roles_by_whether_they_are_claims() {
    let p = Profile::builtin();
    let kind = p.kind("deploy").unwrap();
    let mut obj = deployment();
    obj["spec"]["template"]["spec"]["volumes"] = json!([
        {"name": "data", "persistentVolumeClaim": {"claimName": "data"}},
        {"name": "config", "configMap": {"name": "web"}},
    ]);
    let view = ViewOptions::default();
    let dev = document(&p, RoleName::Dev, kind, &obj, &view);
    let ops = document(&p, RoleName::Ops, kind, &obj, &view);
    assert_eq!(
        dev["claimVolumes"]["volumes"],
        json!([{"name": "data", "persistentVolumeClaim": {"claimName": "data"}}])
    );
    assert_eq!(ops["storage"]["volumes"], json!([{"name": "config", "configMap": {"name": "web"}}]));
    // Each role's units are its own items, keyed by name.
    let labels = |role| -> Vec<String> {
        ownership::units(&p, role, kind, &obj)
            .iter()
            .filter(|u| u.label.contains("volumes"))
            .map(|u| u.label.clone())
            .collect()
    };
    assert_eq!(labels(RoleName::Dev), ["claimVolumes.volumes.data"]);
    assert_eq!(labels(RoleName::Ops), ["storage.volumes.config"]);
    // What a role's write must leave as it was keeps the other role's items.
    let left = without_role_fields(&p, RoleName::Ops, kind, &obj);
    assert_eq!(names_of(&left["spec"]["template"]["spec"]["volumes"]), ["data"]);
    let left = without_role_fields(&p, RoleName::Dev, kind, &obj);
    assert_eq!(names_of(&left["spec"]["template"]["spec"]["volumes"]), ["config"]);
    // A document with the other role's kind of volume is refused, naming whose it is.
    let mut doc = ops.clone();
    doc["storage"]["volumes"]
        .as_array_mut()
        .unwrap()
        .push(json!({"name": "more", "persistentVolumeClaim": {"claimName": "m"}}));
    let problems = decode(&p, RoleName::Ops, &obj, &doc).unwrap_err();
    assert_eq!(
        messages(&problems),
        [
            "storage.volumes[1] (more): an item with persistentVolumeClaim is the dev role's (claimVolumes.volumes); remove it here"
        ]
    );
    // Not a list at all: said so (not judged item by item, nor as removals).
    let mut odd = ops.clone();
    odd["storage"]["volumes"] = json!("abc");
    assert_eq!(
        messages(&decode(&p, RoleName::Ops, &obj, &odd).unwrap_err()),
        ["storage.volumes: expected a list (of items keyed by name)"]
    );
    // A conflict on a volume is named by the server's path: which role it is depends on the item.
    let label = document_label(&p, kind, ".spec.template.spec.volumes[name=\"config\"].configMap.name");
    assert_eq!(label, None);
}

fn names_of(list: &Value) -> Vec<&str> {
    list.as_array().into_iter().flatten().filter_map(|v| v["name"].as_str()).collect()
}

#[test]
fn a_statefulsets_claim_templates_are_shown_per_template_and_never_changed() {
    let p = Profile::builtin();
    let kind = p.kind("sts").unwrap();
    let mut obj = deployment();
    obj["kind"] = json!("StatefulSet");
    obj["spec"]["volumeClaimTemplates"] = json!([
        {"metadata": {"name": "data"}, "spec": {"accessModes": ["ReadWriteOnce"], "storageClassName": "fast",
          "resources": {"requests": {"storage": "5Gi"}}}},
        {"metadata": {"name": "logs"}, "spec": {"resources": {"requests": {"storage": "1Gi"}}}},
    ]);
    let view = ViewOptions::default();
    let dev = document(&p, RoleName::Dev, kind, &obj, &view);
    assert_eq!(dev["readOnly"]["templateSize"], json!({"data": "5Gi", "logs": "1Gi"}));
    assert_eq!(dev["readOnly"]["templateAccessModes"], json!({"data": ["ReadWriteOnce"]}), "only where set");
    let ops = document(&p, RoleName::Ops, kind, &obj, &view);
    assert_eq!(ops["readOnly"]["claimTemplateClass"], json!({"data": "fast"}));
    let mut changed = dev.clone();
    changed["readOnly"]["templateSize"]["data"] = json!("10Gi");
    let (_, problems) = decode_document(&p, RoleName::Dev, kind, &obj, &changed);
    assert!(messages(&problems)[0].starts_with("readOnly.templateSize: shown for context and never written (a StatefulSet's volumeClaimTemplates cannot be changed once it exists"), "{problems:?}");
}

#[test]
fn a_volume_named_like_the_other_roles_volume_is_refused() {
    let p = Profile::builtin();
    let kind = p.kind("deploy").unwrap();
    let mut obj = deployment();
    obj["spec"]["template"]["spec"]["volumes"] = json!([
        {"name": "data", "persistentVolumeClaim": {"claimName": "data"}},
        {"name": "config", "configMap": {"name": "web"}},
    ]);
    let view = ViewOptions::default();
    let mut dev = document(&p, RoleName::Dev, kind, &obj, &view);
    dev["claimVolumes"]["volumes"]
        .as_array_mut()
        .unwrap()
        .push(json!({"name": "config", "persistentVolumeClaim": {"claimName": "c"}}));
    let problems = decode(&p, RoleName::Dev, &obj, &dev).unwrap_err();
    assert_eq!(
        messages(&problems),
        [
            "claimVolumes.volumes[1] (config): the object's item \"config\" is the ops role's (storage.volumes); give this one another name"
        ]
    );
    let mut ops = document(&p, RoleName::Ops, kind, &obj, &view);
    ops["storage"]["volumes"].as_array_mut().unwrap().push(json!({"name": "data", "emptyDir": {}}));
    let problems = decode(&p, RoleName::Ops, &obj, &ops).unwrap_err();
    assert!(
        messages(&problems)[0].starts_with(
            "storage.volumes[1] (data): the object's item \"data\" is the dev role's (claimVolumes.volumes)"
        ),
        "{problems:?}"
    );
    // Its own items, renamed or not, are fine.
    assert!(decode(&p, RoleName::Ops, &obj, &document(&p, RoleName::Ops, kind, &obj, &view)).is_ok());
}
