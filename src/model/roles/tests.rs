use super::split::split_item_label;
use super::*;

#[test]
fn builtin_profile_parses_with_both_roles() {
    let p = Profile::builtin();
    assert_eq!(p.role(RoleName::Dev).manager, "kubectl-oam-dev");
    assert_eq!(p.role(RoleName::Ops).manager, "kubectl-oam-ops");
    let dev: Vec<&str> = p.role(RoleName::Dev).container_fields().map(|f| f.name.as_str()).collect();
    assert_eq!(dev, ["image", "command", "args", "env", "envFrom", "ports", "resources", "volumeMounts"]);
}

#[test]
fn kinds_resolve_from_every_spelling() {
    let p = Profile::builtin();
    for (name, kind) in [
        ("deploy", "Deployment"),
        ("deployments", "Deployment"),
        ("Deployment", "Deployment"),
        ("deployment.apps", "Deployment"),
        ("sts", "StatefulSet"),
        ("ds", "DaemonSet"),
        ("rs", "ReplicaSet"),
        ("job", "Job"),
        ("jobs", "Job"),
        ("cj", "CronJob"),
        ("cronjobs.batch", "CronJob"),
    ] {
        assert_eq!(p.kind(name).unwrap().kind, kind, "{name}");
    }
    assert!(matches!(p.kind("pods"), Err(Error::UnknownKind(_))));
}

#[test]
fn paths_resolve_per_kind() {
    let p = Profile::builtin();
    let cj = p.kind("cj").unwrap();
    let deploy = p.kind("deploy").unwrap();
    let image = p.role(RoleName::Dev).container_fields().next().unwrap();
    assert_eq!(image.path.in_object(cj).join("."), "spec.jobTemplate.spec.template.spec.containers.image");
    let ops = p.role(RoleName::Ops);
    let traits: Vec<&str> = ops.object_traits("CronJob").map(|(t, _)| t).collect();
    assert_eq!(traits, ["placement", "storage", "metadata", "schedule"], "a trait a kind lacks is absent");
    let traits: Vec<&str> = ops.object_traits("Deployment").map(|(t, _)| t).collect();
    assert_eq!(traits, ["scaler", "rollout", "placement", "storage", "metadata"]);
    let pod = ops.object_traits("Deployment").find(|(t, _)| *t == "metadata").unwrap().1[2];
    assert_eq!(pod.path.in_object(deploy).join("."), "spec.template.metadata.annotations");
}

#[test]
fn document_keys_belong_to_one_role() {
    let p = Profile::builtin();
    assert_eq!(p.role_of_key("containers"), Some(RoleName::Dev));
    assert_eq!(p.role_of_key("scaler"), Some(RoleName::Ops));
    assert_eq!(p.role_of_key("placement"), Some(RoleName::Ops));
    assert_eq!(p.role_of_key("bogus"), None);
}

#[test]
fn malformed_profiles_name_the_problem() {
    let cases = [
        ("kind: RoleProfile\napiVersion: x\nkinds: {}\nroles: {}\n", "at least one workload kind"),
        ("kind: Other\napiVersion: x\nkinds: {}\nroles: {}\n", "expected RoleProfile"),
        (
            "kind: RoleProfile\napiVersion: x\nkinds:\n  Deployment: {apiVersion: apps/v1, resource: deployments, template: spec.template, bogus: 1}\nroles: {}\n",
            "unknown field `bogus`",
        ),
        ("kind: RoleProfile\napiVersion: x\nkinds: [\n", "line"),
    ];
    for (text, expect) in cases {
        let err = Profile::parse(text, "test.yaml").unwrap_err().to_string();
        assert!(err.contains(expect), "{err} should mention {expect}");
        assert!(err.starts_with("role profile test.yaml"), "{err}");
    }
}

#[test]
fn ambiguous_profiles_are_rejected() {
    let cases = [
        (
            BUILTIN_PROFILE.replace("manager: kubectl-oam-ops", "manager: kubectl-oam-dev"),
            "share the manager",
        ),
        (BUILTIN_PROFILE.replace("manager: kubectl-oam-ops", "manager: ''"), "roles.ops.manager is empty"),
        (
            BUILTIN_PROFILE
                .replace(
                    "      scaler:",
                    "      containers2:\n        x: {path: container.workingDir}\n      scaler:",
                )
                .replace(
                    "    traits:\n      containers:",
                    "    traits:\n      containers2:\n        y: {path: container.stdin}\n      containers:",
                ),
            "in both roles",
        ),
        (
            BUILTIN_PROFILE.replace("names: [sts, statefulset]", "names: [deploy, statefulset]"),
            "both called \"deploy\"",
        ),
    ];
    for (text, expect) in cases {
        let err = Profile::parse(&text, "x").unwrap_err().to_string();
        assert!(err.contains(expect), "{err} should mention {expect}");
    }
}

#[test]
fn roles_may_own_only_spec_labels_and_annotations() {
    // Each path as an extra field `x`: of dev's containers trait, or of ops' metadata trait.
    let with = |path: &str| {
        let (after, key) = if path.starts_with("container.") {
            ("        resources: {path: container.resources}\n", "roles.dev.traits.containers.x.path")
        } else {
            (
                "        podAnnotations: {path: template.metadata.annotations}\n",
                "roles.ops.traits.metadata.x.path",
            )
        };
        // Paths of one kind only exist there (the schema check would refuse them elsewhere).
        let kinds = match path {
            "spec.paused" | "spec.template.metadata.labels" => ", kinds: [Deployment]",
            "spec.jobTemplate.metadata.labels" => ", kinds: [CronJob]",
            _ => "",
        };
        let text = BUILTIN_PROFILE.replace(after, &format!("{after}        x: {{path: {path}{kinds}}}\n"));
        assert_ne!(text, BUILTIN_PROFILE);
        (Profile::parse(&text, "p.yaml"), key)
    };
    for (path, what) in [
        ("metadata.name", "identity"),
        ("metadata.namespace", "identity"),
        ("metadata.uid", "identity"),
        ("metadata.generateName", "identity"),
        ("metadata.resourceVersion", "lifecycle"),
        ("metadata.ownerReferences", "ownership"),
        ("metadata.managedFields", "ownership"),
        ("metadata.finalizers", "lifecycle"),
        ("metadata.generation", "lifecycle"),
        ("metadata.creationTimestamp", "lifecycle"),
        ("metadata.deletionTimestamp", "lifecycle"),
        ("metadata", "the whole metadata"),
        ("metadata.selfLink", "identity"),
        ("metadata.clusterName", "metadata other than labels"),
        ("status", "status"),
        ("status.replicas", "status"),
        ("kind", "type"),
        ("apiVersion", "type"),
        ("template.metadata.name", "identity"),
        ("template.metadata", "the whole metadata"),
        ("template.status", "status"),
        ("template.other", "not part of the spec"),
        ("spec.template.metadata.name", "embedded object"),
        ("spec.template.metadata", "embedded object"),
        ("container.name", "container's name"),
    ] {
        let (parsed, key) = with(path);
        let err = parsed.unwrap_err().to_string();
        assert!(err.contains(key), "{path}: names the key: {err}");
        assert!(err.contains(&format!("\"{path}\" is ")) && err.contains(what), "{path}: {err}");
    }
    for path in [
        "spec.paused",
        "spec.template.metadata.labels",
        "spec.jobTemplate.metadata.labels",
        "template.metadata.labels",
        "template.spec.hostname",
        "pod.serviceAccountName",
        "container.livenessProbe",
    ] {
        let (parsed, _) = with(path);
        assert!(parsed.is_ok(), "{path}: {:?}", parsed.err());
    }
    // Shown is not owned: a read-only field may be anything that exists.
    let text = BUILTIN_PROFILE.replace(
        "    readOnly:\n",
        "    readOnly:\n      uid: {path: metadata.uid}\n      ready: {path: status.readyReplicas, kinds: [Deployment]}\n",
    );
    assert!(Profile::parse(&text, "p.yaml").is_ok());
    // A path that does not exist is refused, naming it and the nearest name.
    let (parsed, _) = with("container.imagee");
    assert_eq!(
        parsed.unwrap_err().to_string(),
        "role profile p.yaml: roles.dev.traits.containers.x.path: \"container.imagee\" does not exist: a container of Deployment (apps/v1) has no field \"imagee\"; did you mean \"image\"?"
    );
    let text = BUILTIN_PROFILE.replace("path: spec.selector.matchLabels", "path: spec.selector.matchLabel");
    let err = Profile::parse(&text, "p.yaml").unwrap_err().to_string();
    assert!(
        err.contains("roles.ops.readOnly.selector.path") && err.contains("did you mean \"matchLabels\"?"),
        "{err}"
    );
}

#[test]
fn only_read_only_fields_carry_a_reason() {
    let text = BUILTIN_PROFILE.replace(
        "parallelism: {path: spec.parallelism, kinds: [Job]}",
        "parallelism: {path: spec.parallelism, kinds: [Job], reason: x}",
    );
    let err = Profile::parse(&text, "p.yaml").unwrap_err().to_string();
    assert!(err.contains("roles.ops.traits.run.parallelism.reason: only readOnly fields"), "{err}");
    let p = Profile::builtin();
    let completions = p.role(RoleName::Ops).read_only_field("Job", "completions").unwrap();
    assert!(completions.reason.as_deref().unwrap().starts_with("fixed when the Job is created"));
    assert!(p.role(RoleName::Ops).read_only_field("Deployment", "completions").is_none());
    let text = BUILTIN_PROFILE.replace("      run:\n", "      initContainers:\n");
    let err = Profile::parse(&text, "p.yaml").unwrap_err().to_string();
    assert!(err.contains("\"initContainers\" is reserved"), "{err}");
}

#[test]
fn read_only_fields_may_reserve_map_keys_by_pattern() {
    assert!(key_matches(
        "container.apparmor.security.beta.kubernetes.io/*",
        "container.apparmor.security.beta.kubernetes.io/app"
    ));
    assert!(!key_matches(
        "container.apparmor.security.beta.kubernetes.io/*",
        "container.apparmor.security.beta.kubernetes.io"
    ));
    assert!(key_matches(
        "seccomp.security.alpha.kubernetes.io/pod",
        "seccomp.security.alpha.kubernetes.io/pod"
    ));
    assert!(!key_matches(
        "seccomp.security.alpha.kubernetes.io/pod",
        "seccomp.security.alpha.kubernetes.io/pods"
    ));
    // The built-in profile reserves the pod security annotations, in every kind's pod template.
    let p = Profile::builtin();
    let ops = p.role(RoleName::Ops);
    let security = ops.read_only.iter().find(|f| f.name == "podSecurity").unwrap();
    assert!(security.reason.as_deref().unwrap().contains("belong to no role"));
    for kind in &p.kinds {
        let pod_annotations =
            ops.object_traits(&kind.kind).flat_map(|(_, f)| f).find(|f| f.name == "podAnnotations").unwrap();
        let other = p.other_keys(kind, pod_annotations);
        for key in [
            "container.apparmor.security.beta.kubernetes.io/app",
            "seccomp.security.alpha.kubernetes.io/pod",
            "container.seccomp.security.alpha.kubernetes.io/sidecar",
        ] {
            assert!(other.contains(key), "{}: {key}", kind.kind);
            let mut path = kind.template.clone();
            path.extend(["metadata".to_string(), "annotations".to_string()]);
            assert_eq!(p.reserved_by(kind, &path, key).map(|f| f.name.as_str()), Some("podSecurity"));
        }
        assert!(!other.contains("prometheus.io/scrape"));
        let labels = ops.object_traits(&kind.kind).flat_map(|(_, f)| f).find(|f| f.name == "labels").unwrap();
        assert!(p.other_keys(kind, labels).reserved.is_empty(), "only the map at its path");
    }
    // Keys are for read-only fields, as patterns of maps outside containers.
    let with_keys = |field: &str| {
        BUILTIN_PROFILE
            .replace("        - seccomp.security.alpha.kubernetes.io/pod\n", &format!("        - {field}\n"))
    };
    for (text, expect) in [
        (
            BUILTIN_PROFILE.replace(
                "podAnnotations: {path: template.metadata.annotations}",
                "podAnnotations: {path: template.metadata.annotations, keys: [a]}",
            ),
            "roles.ops.traits.metadata.podAnnotations.keys: only readOnly fields reserve keys",
        ),
        (with_keys("a*b"), "roles.ops.readOnly.podSecurity.keys: \"a*b\" is not a key pattern"),
        (with_keys("'*'"), "\"*\" is not a key pattern"),
        (with_keys("a**"), "\"a**\" is not a key pattern"),
        (
            BUILTIN_PROFILE
                .replace("    readOnly:\n", "    readOnly:\n      x: {path: container.env, keys: [A]}\n"),
            "readOnly.x.keys: reserves keys of a map of the object or its pod template, not of a container",
        ),
    ] {
        let err = Profile::parse(&text, "p.yaml").unwrap_err().to_string();
        assert!(err.contains(expect), "{err} should mention {expect}");
    }
    assert!(Profile::parse(&with_keys("team"), "p.yaml").is_ok());
}

#[test]
fn profiles_have_a_size_limit() {
    let text = format!("{BUILTIN_PROFILE}\n#{}\n", "x".repeat(MAX_PROFILE_BYTES));
    let err = Profile::parse(&text, "big.yaml").unwrap_err().to_string();
    assert!(err.starts_with("role profile big.yaml: ") && err.contains("more than the 1 MiB"), "{err}");
    let padded =
        format!("{BUILTIN_PROFILE}\n#{}\n", "x".repeat(MAX_PROFILE_BYTES - BUILTIN_PROFILE.len() - 4));
    assert!(Profile::parse(&padded, "padded.yaml").is_ok(), "just under the limit is fine");
}

#[test]
fn overlapping_roles_are_rejected() {
    let text = BUILTIN_PROFILE.replace(
        "podAnnotations: {path: template.metadata.annotations}",
        "podAnnotations: {path: spec.template.spec.containers}",
    );
    let err = Profile::parse(&text, "x").unwrap_err().to_string();
    assert!(err.contains("overlaps"), "{err}");
}

#[test]
fn missing_role_and_unknown_kind_reference() {
    let text = BUILTIN_PROFILE.replace("kinds: [CronJob]}", "kinds: [Cronjob]}");
    let err = Profile::parse(&text, "x").unwrap_err().to_string();
    assert!(err.contains("unknown kind \"Cronjob\""), "{err}");
    let idx = BUILTIN_PROFILE.find("  ops:").unwrap();
    let err = Profile::parse(&BUILTIN_PROFILE[..idx], "x").unwrap_err().to_string();
    assert!(err.contains("roles.ops is missing"), "{err}");
}

#[test]
fn role_groups_default_and_must_differ() {
    let p = Profile::builtin();
    assert_eq!(p.role(RoleName::Dev).group, "oam:developers");
    assert_eq!(p.role(RoleName::Ops).group, "oam:operators");
    let without = BUILTIN_PROFILE.replace("    group: oam:developers\n", "");
    assert_eq!(Profile::parse(&without, "x").unwrap().role(RoleName::Dev).group, "oam:developers");
    let custom = BUILTIN_PROFILE.replace("group: oam:operators", "group: platform-ops");
    assert_eq!(Profile::parse(&custom, "x").unwrap().role(RoleName::Ops).group, "platform-ops");
    let shared = BUILTIN_PROFILE.replace("group: oam:operators", "group: oam:developers");
    let err = Profile::parse(&shared, "x").unwrap_err().to_string();
    assert!(err.contains("share the group \"oam:developers\""), "{err}");
    let empty = BUILTIN_PROFILE.replace("group: oam:operators", "group: ''");
    assert!(Profile::parse(&empty, "x").unwrap_err().to_string().contains("roles.ops.group is empty"));
}

#[test]
fn claim_templates_are_read_only_per_template_and_checked_against_the_schema() {
    let p = Profile::builtin();
    let sts = p.kind("sts").unwrap();
    let dev = p.role(RoleName::Dev);
    let size = dev.read_only_field("StatefulSet", "templateSize").expect("dev sees the claim size");
    assert_eq!(size.path.root, Root::ClaimTemplate);
    assert_eq!(size.path.to_string(), "claimTemplate.spec.resources.requests.storage");
    assert!(size.reason.as_deref().unwrap().contains("cannot be changed"));
    assert!(dev.read_only_field("Deployment", "templateSize").is_none(), "StatefulSets only");
    assert!(p.role(RoleName::Ops).read_only_field("StatefulSet", "claimTemplateClass").is_some());
    let schema = KindSchema::builtin(&sts.api_version, &sts.kind).unwrap();
    assert_eq!(p.check_paths(sts, &schema), Ok(()));
    let typo = FieldPath::parse("claimTemplate.spec.storageClass").unwrap();
    let err = schema.check(sts, &typo).unwrap_err();
    assert!(err.contains("did you mean \"storageClassName\""), "{err}");
    // A role may not own them: the API refuses any change to the templates.
    let owned = BUILTIN_PROFILE.replace(
        "        priorityClassName: {path: pod.priorityClassName}\n",
        "        priorityClassName: {path: pod.priorityClassName}\n        class: {path: claimTemplate.spec.storageClassName, kinds: [StatefulSet]}\n",
    );
    let err = Profile::parse(&owned, "p.yaml").unwrap_err().to_string();
    assert!(
        err.contains("roles.ops.traits.placement.class.path") && err.contains("refuses to change"),
        "{err}"
    );
}

#[test]
fn two_roles_may_split_a_keyed_list_by_what_its_items_have() {
    let p = Profile::builtin();
    let field = |role: RoleName, t: &str| {
        p.role(role)
            .traits
            .iter()
            .find(|x| x.name == t)
            .unwrap()
            .fields
            .iter()
            .find(|f| f.name == "volumes")
            .unwrap()
    };
    let (claims, storage) = (field(RoleName::Dev, "claimVolumes"), field(RoleName::Ops, "storage"));
    let pvc = serde_json::json!({"name": "data", "persistentVolumeClaim": {"claimName": "data"}});
    let config = serde_json::json!({"name": "config", "configMap": {"name": "c"}});
    assert!(claims.keeps_item(&pvc) && !claims.keeps_item(&config));
    assert!(storage.keeps_item(&config) && !storage.keeps_item(&pvc));
    let both = serde_json::json!([pvc, config]);
    assert_eq!(storage.own_items(&both), serde_json::json!([config]));
    // Only complementary filters may share a path; a filter is where: or unless:, of one field.
    for (from, to, expect) in [
        (
            "volumes: {path: pod.volumes, unless: {has: persistentVolumeClaim}}",
            "volumes: {path: pod.volumes, where: {has: persistentVolumeClaim}}",
            "ops.storage.volumes overlaps dev.claimVolumes.volumes",
        ),
        (
            "volumes: {path: pod.volumes, unless: {has: persistentVolumeClaim}}",
            "volumes: {path: pod.volumes}",
            "overlaps",
        ),
        (
            "volumes: {path: pod.volumes, unless: {has: persistentVolumeClaim}}",
            "volumes: {path: pod.volumes, where: {has: a}, unless: {has: b}}",
            "has both where: and unless:",
        ),
        (
            "volumes: {path: pod.volumes, unless: {has: persistentVolumeClaim}}",
            "volumes: {path: pod.volumes, unless: {has: a.b}}",
            "names one field",
        ),
        (
            "volumeMounts: {path: container.volumeMounts}",
            "volumeMounts: {path: container.volumeMounts, where: {has: subPath}}",
            "only a role's field of a list outside the containers",
        ),
    ] {
        let text = BUILTIN_PROFILE.replace(from, to);
        assert_ne!(text, BUILTIN_PROFILE, "{from}");
        let err = Profile::parse(&text, "p.yaml").unwrap_err().to_string();
        assert!(err.contains(expect), "{err} should mention {expect}");
    }
}

#[test]
fn a_split_lists_item_is_named_by_the_role_whose_item_it_is() {
    let p = Profile::builtin();
    let kind = p.kind("deploy").unwrap();
    let body = serde_json::json!({"spec": {"template": {"spec": {"volumes": [
        {"name": "config", "configMap": {"name": "c"}},
        {"name": "data", "persistentVolumeClaim": {"claimName": "d"}}]}}}});
    let label = |field: &str| split_item_label(&p, kind, field, &body);
    assert_eq!(
        label(".spec.template.spec.volumes[name=\"config\"].configMap.name").as_deref(),
        Some("storage.volumes.config.configMap.name")
    );
    assert_eq!(
        label(".spec.template.spec.volumes[name=\"data\"]").as_deref(),
        Some("claimVolumes.volumes.data")
    );
    assert_eq!(label(".spec.template.spec.volumes[name=\"gone\"].secret").as_deref(), None);
    assert_eq!(label(".spec.replicas").as_deref(), None);
}

#[test]
fn only_a_list_may_be_split_by_its_items() {
    let text = BUILTIN_PROFILE.replace(
        "        priorityClassName: {path: pod.priorityClassName}\n",
        "        priorityClassName: {path: pod.priorityClassName}\n        odd: {path: pod.hostname, unless: {has: x}}\n",
    );
    let err = Profile::parse(&text, "p.yaml").unwrap_err().to_string();
    assert!(
        err.contains(
            "placement.odd: unless: takes items of a list; pod.hostname in Deployment is not a list"
        ),
        "{err}"
    );
    let deploy = Profile::builtin().kind("deploy").unwrap().clone();
    let schema = KindSchema::builtin(&deploy.api_version, &deploy.kind).unwrap();
    let deploy = &deploy;
    let builtin = Profile::builtin();
    assert_eq!(builtin.check_paths(deploy, &schema), Ok(()));
}
