use super::*;
use crate::format::diff;

fn options() -> Options {
    Options {
        name: "kubectl-oam-roles".into(),
        action: PolicyAction::Deny,
        namespace_selector: None,
        allow_create_delete: false,
        profile_configmap: ("kube-public".into(), "kubectl-oam-profile".into()),
    }
}

fn spec_of(profile: &Profile, opts: &Options) -> Value {
    objects(profile, opts).unwrap().remove(0)["spec"].clone()
}

fn variable_of<'a>(spec: &'a Value, name: &str) -> &'a str {
    spec["variables"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["name"] == name)
        .unwrap_or_else(|| panic!("no variable {name}"))["expression"]
        .as_str()
        .unwrap()
}

fn s(path: &str) -> Vec<&str> {
    path.split('.').collect()
}

#[test]
fn the_built_in_policy_matches_the_golden_file() {
    let text = render(&objects(&Profile::builtin(), &options()).unwrap(), false).unwrap();
    let golden = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/policy.yaml");
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&golden, &text).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&golden).unwrap_or_default();
    assert!(
        expected == text,
        "tests/golden/policy.yaml differs (UPDATE_GOLDEN=1 to accept):\n{}",
        diff::unified(&expected, &text, "policy", false)
    );
}

#[test]
fn each_part_of_a_workload_has_one_owner() {
    let p = Profile::builtin();
    let deploy = kind_tree(&p, p.kind("deploy").unwrap());
    let (dev, ops) = (Some(Some(RoleName::Dev)), Some(Some(RoleName::Ops)));
    for (path, owner) in [
        ("spec.replicas", ops),
        ("spec.strategy.rollingUpdate", ops),
        ("spec.template.spec.tolerations", ops),
        ("metadata.labels.team", ops),
        ("spec.template.metadata.annotations.note", ops),
        ("spec.paused", Some(None)),
        ("spec.template.spec.serviceAccountName", Some(None)),
        ("metadata.finalizers", Some(None)),
        ("status", None),
        ("metadata.managedFields", None),
        ("metadata.resourceVersion", None),
        ("metadata.generation", None),
    ] {
        assert_eq!(deploy.owner_of(&s(path)), owner, "{path}");
    }
    // Dotted keys are single map keys.
    let at = |map: &'static str, key: &'static str| {
        let mut path = s(map);
        path.push(key);
        path
    };
    for (map, key) in
        [("metadata.annotations", LAST_APPLIED), ("spec.template.metadata.annotations", RESTARTED_AT)]
    {
        assert_eq!(deploy.owner_of(&at(map, key)), None, "{map}[{key}] is bookkeeping");
    }
    // Keys tools and controllers write, and the security settings the profile reserves, are in the
    // operators' maps but no role's.
    for (map, key) in [
        ("metadata.annotations", "deployment.kubernetes.io/revision"),
        ("spec.template.metadata.annotations", "container.apparmor.security.beta.kubernetes.io/app"),
        ("spec.template.metadata.annotations", "seccomp.security.alpha.kubernetes.io/pod"),
        ("spec.template.metadata.annotations", "container.seccomp.security.alpha.kubernetes.io/app"),
    ] {
        assert_eq!(deploy.owner_of(&at(map, key)), Some(None), "{map}[{key}] is no role's");
    }
    assert_eq!(
        deploy
            .owner_of(&at("spec.template.metadata.annotations", "seccomp.security.alpha.kubernetes.io/podx")),
        ops
    );
    assert_eq!(
        deploy.owner_of(&at(
            "spec.template.metadata.annotations",
            "container.apparmor.security.beta.kubernetes.io"
        )),
        ops
    );
    let Some(Node::Keyed(item)) = deploy.map_at_path(&s("spec.template.spec.initContainers")) else {
        panic!("init containers are matched by name like containers");
    };
    assert_eq!(item.owner_of(&["image"]), dev);
    assert_eq!(item.owner_of(&["volumeMounts"]), dev);
    assert_eq!(item.owner_of(&["livenessProbe"]), Some(None));
    let cj = kind_tree(&p, p.kind("cj").unwrap());
    assert_eq!(cj.owner_of(&s("spec.schedule")), ops);
    assert_eq!(cj.owner_of(&s("spec.jobTemplate.spec.template.spec.nodeSelector")), ops);
    assert!(matches!(
        cj.map_at_path(&s("spec.jobTemplate.spec.template.spec.containers")),
        Some(Node::Keyed(_))
    ));
    let ds = kind_tree(&p, p.kind("ds").unwrap());
    assert_eq!(ds.owner_of(&s("spec.replicas")), Some(None), "a DaemonSet has no replicas field");
    // The server bumps it in the request that changes the template.
    assert_eq!(ds.owner_of(&at("metadata.annotations", DAEMONSET_TEMPLATE_GENERATION)), None);
    assert_eq!(deploy.owner_of(&at("metadata.annotations", DAEMONSET_TEMPLATE_GENERATION)), Some(None));
    assert_eq!(
        cj.owner_of(&at(
            "spec.jobTemplate.spec.template.metadata.annotations",
            "container.apparmor.security.beta.kubernetes.io/app"
        )),
        Some(None)
    );
}

#[test]
fn scale_and_autoscalers_follow_the_owner_of_replicas() {
    let p = Profile::builtin();
    let spec = spec_of(&p, &options());
    let ops = variable_of(&spec, "changed_ops");
    assert!(
        ops.starts_with("variables.scale ? (variables.resource in ['apps/deployments', 'apps/statefulsets', 'apps/replicasets']"),
        "{ops}"
    );
    assert!(variable_of(&spec, "changed_dev").starts_with("variables.scale ? []"));
    let validations = spec["validations"].as_array().unwrap();
    assert_eq!(validations[1]["expression"], "!variables.hpa || variables.in_ops");
    let rules = spec["matchConstraints"]["resourceRules"].as_array().unwrap();
    assert_eq!(rules[1]["resources"][0], "deployments/scale");
    assert_eq!(rules[1]["operations"], json!(["UPDATE"]));
    assert_eq!(rules.last().unwrap()["resources"], json!(["horizontalpodautoscalers"]));

    // A profile that gives replicas to developers moves /scale, and HPAs, to them.
    let text = BUILTIN.replace(
        "      scaler:\n        replicas: {path: spec.replicas, kinds: [Deployment, StatefulSet, ReplicaSet], autoscaled: true}\n",
        "",
    )
    .replace(
        "    traits:\n      containers:",
        "    traits:\n      scaler:\n        replicas: {path: spec.replicas, kinds: [Deployment], autoscaled: true}\n      containers:",
    );
    let custom = Profile::parse(&text, "custom").unwrap();
    let spec = spec_of(&custom, &options());
    assert!(
        variable_of(&spec, "changed_dev")
            .starts_with("variables.scale ? (variables.resource in ['apps/deployments']")
    );
    assert!(
        variable_of(&spec, "changed_other").contains("'apps/statefulsets'"),
        "no role owns their replicas"
    );
    assert_eq!(spec["validations"][1]["expression"], "!variables.hpa || variables.in_dev");
}

const BUILTIN: &str = crate::model::roles::BUILTIN_PROFILE;

#[test]
fn excluded_keys_are_no_roles_and_quotes_are_escaped() {
    let p = Profile::builtin();
    let spec = spec_of(&p, &options());
    // The operators' annotations skip them; setting one is no role's (removing one is let through:
    // a client-side apply drops what its last-applied annotation recorded).
    let ops = variable_of(&spec, "changes_deployment_ops");
    assert!(ops.contains("!(k in ['argocd.argoproj.io/tracking-id', 'deployment.kubernetes.io/desired-replicas', 'deployment.kubernetes.io/max-replicas', 'deployment.kubernetes.io/revision', 'deprecated.daemonset.template.generation', 'kubectl.kubernetes.io/last-applied-configuration'])"), "{ops}");
    let other = variable_of(&spec, "changes_deployment_other");
    assert!(
        other.contains("(variables.new_metadata[?'annotations'].orValue({})[?'deployment.kubernetes.io/revision'].hasValue() && variables.old_metadata[?'annotations'].orValue({})[?'deployment.kubernetes.io/revision'] != variables.new_metadata[?'annotations'].orValue({})[?'deployment.kubernetes.io/revision'] ? ['metadata.annotations[deployment.kubernetes.io/revision]'] : [])"),
        "{other}"
    );
    assert!(!other.contains("[?'kubectl.kubernetes.io/last-applied-configuration']"), "bookkeeping: {other}");
    // The DaemonSet's template generation is the server's, as bookkeeping.
    let ds_other = variable_of(&spec, "changes_daemonset_other");
    assert!(!ds_other.contains("[?'deprecated.daemonset.template.generation']"), "{ds_other}");
    assert!(
        variable_of(&spec, "changes_daemonset_ops").contains("'deprecated.daemonset.template.generation'")
    );
    let text = BUILTIN.replace("- deprecated.daemonset.template.generation", "- \"it's.mine\"");
    let spec = spec_of_text(&text);
    assert!(variable_of(&spec, "changes_deployment_ops").contains("'it\\'s.mine'"));
    assert!(variable_of(&spec, "changes_deployment_other").contains("[?'it\\'s.mine']"));
}

#[test]
fn reserved_keys_are_no_roles_by_pattern() {
    let spec = spec_of(&Profile::builtin(), &options());
    let ops = variable_of(&spec, "changes_deployment_ops");
    // The operators' pod annotations skip the reserved keys: by name, and by the patterns' prefixes.
    assert!(ops.contains("'seccomp.security.alpha.kubernetes.io/pod'"), "{ops}");
    assert!(
        ops.contains("!k.startsWith('container.apparmor.security.beta.kubernetes.io/') && !k.startsWith('container.seccomp.security.alpha.kubernetes.io/') && "),
        "{ops}"
    );
    // ... and a change to one is no role's: compared by name, or every key with the prefix.
    let other = variable_of(&spec, "changes_deployment_other");
    assert!(
        other.contains("(variables.old_spec_template_metadata[?'annotations'].orValue({})[?'seccomp.security.alpha.kubernetes.io/pod'] != "),
        "{other}"
    );
    let apparmor = "variables.new_spec_template_metadata[?'annotations'].orValue({}).map(k, !(k in ['kubectl.kubernetes.io/restartedAt', 'seccomp.security.alpha.kubernetes.io/pod']) && k.startsWith('container.apparmor.security.beta.kubernetes.io/') && (!(k in variables.old_spec_template_metadata[?'annotations'].orValue({})) || ";
    assert!(other.contains(apparmor), "{other}");
    assert!(other.contains("'spec.template.metadata.annotations[' + k + ']'"), "{other}");
    let cj = variable_of(&spec, "changes_cronjob_other");
    assert!(cj.contains("k.startsWith('container.apparmor.security.beta.kubernetes.io/')"), "{cj}");
    // A profile may reserve keys of a map that is no role's: nothing more to compare there.
    let text = BUILTIN.replace(
        "path: template.metadata.annotations\n        keys:",
        "path: template.metadata.labels\n        keys:",
    );
    assert_ne!(text, BUILTIN);
    let spec = spec_of_text(&text);
    assert!(!variable_of(&spec, "changes_deployment_other").contains("startsWith"));
}

#[test]
fn writes_to_controlled_objects_are_denied() {
    let spec = spec_of(&Profile::builtin(), &options());
    assert_eq!(
        variable_of(&spec, "controller"),
        "variables.workload_update && has(oldObject.metadata.ownerReferences) ? oldObject.metadata.ownerReferences.filter(r, has(r.controller) && r.controller).map(r, r.kind + ' ' + r.name) : []"
    );
    assert!(variable_of(&spec, "scale_of_controlled").ends_with(".contains('pod-template-hash=')"));
    let validations = spec["validations"].as_array().unwrap();
    let expressions: Vec<&str> = validations.iter().map(|v| v["expression"].as_str().unwrap()).collect();
    assert_eq!(
        expressions[2..],
        [
            "variables.controller.size() == 0",
            "!variables.scale_of_controlled",
            "variables.denied.size() == 0",
            "!variables.related || request.operation == 'UPDATE' || variables.related_creator"
        ]
    );
    assert!(
        validations[2]["messageExpression"]
            .as_str()
            .unwrap()
            .contains("': it is controlled by ' + variables.controller[0] + ', which alone writes it")
    );
}

fn spec_of_text(text: &str) -> Value {
    spec_of(&Profile::parse(text, "custom").unwrap(), &options())
}

#[test]
fn a_custom_profiles_fields_are_its_own() {
    let text = BUILTIN
        .replace("        resources: {path: container.resources}\n", "        resources: {path: container.resources}\n        probe: {path: container.livenessProbe}\n")
        .replace("        priorityClassName: {path: pod.priorityClassName}\n", "        priorityClassName: {path: pod.priorityClassName}\n        account: {path: pod.serviceAccountName}\n");
    let spec = spec_of_text(&text);
    let dev = variable_of(&spec, "changes_deployment_dev");
    assert!(dev.contains("d[?'livenessProbe'] != c[?'livenessProbe']"), "{dev}");
    let ops = variable_of(&spec, "changes_statefulset_ops");
    assert!(ops.contains("['spec.template.spec.serviceAccountName']"), "{ops}");
    let other = variable_of(&spec, "changes_deployment_other");
    assert!(other.contains("'serviceAccountName'") && other.contains("'livenessProbe'"), "skipped: {other}");
}

#[test]
fn options_shape_the_binding_and_the_rules() {
    let p = Profile::builtin();
    let mut opts = options();
    opts.action = PolicyAction::Warn;
    opts.namespace_selector = Some("team=shop,env in (prod, staging)".into());
    opts.allow_create_delete = true;
    opts.name = "shop-roles".into();
    let objs = objects(&p, &opts).unwrap();
    assert_eq!(objs[1]["spec"]["validationActions"], json!(["Warn"]));
    assert_eq!(objs[1]["spec"]["policyName"], "shop-roles");
    assert_eq!(
        objs[1]["spec"]["matchResources"]["namespaceSelector"],
        json!({"matchLabels": {"team": "shop"}, "matchExpressions": [{"key": "env", "operator": "In", "values": ["prod", "staging"]}]})
    );
    let spec = &objs[0]["spec"];
    assert_eq!(spec["matchConstraints"]["resourceRules"][0]["operations"], json!(["UPDATE"]));
    assert_eq!(spec["validations"].as_array().unwrap().len(), 4, "no create/delete rule");
    assert_eq!(objs[2]["kind"], "Role");
    assert_eq!(objs[2]["metadata"]["name"], "shop-roles-profile-reader");
    assert_eq!(objs[2]["metadata"]["namespace"], "kube-public");
    assert_eq!(objs[2]["rules"][0]["resourceNames"], json!(["kubectl-oam-profile"]));
    assert_eq!(objs[3]["subjects"][1]["name"], "oam:operators");
    let default = objects(&p, &options()).unwrap();
    assert_eq!(
        default[0]["spec"]["matchConstraints"]["resourceRules"][0]["operations"],
        json!(["CREATE", "UPDATE", "DELETE"])
    );
    assert_eq!(default[1]["spec"]["matchResources"]["namespaceSelector"], json!({}));
    assert!(render(&default, true).unwrap().contains("\"kind\": \"List\""));
    assert_eq!(render(&default, false).unwrap().matches("\n---\n").count(), 3);
}

#[test]
fn groups_come_from_the_profile_or_the_command_line() {
    let p = with_groups(Profile::builtin(), &["ops=platform:sre".into()]).unwrap();
    let spec = spec_of(&p, &options());
    assert_eq!(variable_of(&spec, "in_ops"), "'platform:sre' in request.userInfo.groups");
    assert!(
        spec["matchConditions"][0]["expression"]
            .as_str()
            .unwrap()
            .contains("['oam:developers', 'platform:sre']")
    );
    for (bad, why) in [
        ("ops", "is not ROLE=GROUP"),
        ("ops=", "is not ROLE=GROUP"),
        ("admin=x", "the roles are dev and ops"),
        ("dev=oam:operators", "would share the group"),
    ] {
        let err = with_groups(Profile::builtin(), &[bad.into()]).unwrap_err().to_string();
        assert!(err.contains(why), "{bad}: {err}");
    }
}

#[test]
fn label_selectors_as_kubectl_writes_them() {
    for (text, expected) in [
        ("a=b", json!({"matchLabels": {"a": "b"}})),
        ("a==b,c=", json!({"matchLabels": {"a": "b", "c": ""}})),
        ("a!=b", json!({"matchExpressions": [{"key": "a", "operator": "NotIn", "values": ["b"]}]})),
        (
            "tier notin (web, db)",
            json!({"matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["web", "db"]}]}),
        ),
        (
            "example.com/x,!y",
            json!({"matchExpressions": [{"key": "example.com/x", "operator": "Exists"}, {"key": "y", "operator": "DoesNotExist"}]}),
        ),
    ] {
        assert_eq!(parse_selector(text).unwrap(), expected, "{text}");
    }
    for bad in ["", "a=b,,c", "a in (b", "a in b", "a=b,a=c", "a b", "a=b c", "x)", "a in (b c)"] {
        let err = parse_selector(bad).unwrap_err().to_string();
        assert!(err.starts_with(&format!("--namespace-selector \"{bad}\"")), "{bad}: {err}");
    }
}

#[test]
fn an_installed_object_compares_by_what_was_generated() {
    let generated = objects(&Profile::builtin(), &options()).unwrap().remove(1);
    let mut live = generated.clone();
    live["metadata"]["uid"] = json!("1234");
    live["metadata"]["resourceVersion"] = json!("9");
    live["metadata"]["labels"]["other"] = json!("x");
    live["metadata"]["annotations"] = json!({"note": "x"});
    live["status"] = json!({});
    assert_eq!(comparable(&live, &generated), sorted(&generated));
    live["spec"]["matchResources"]["objectSelector"] = json!({"matchLabels": {"skip": "me"}});
    assert_ne!(comparable(&live, &generated), sorted(&generated), "an added selector is a difference");
}

#[test]
fn pod_volumes_are_split_by_whether_they_are_claims() {
    let p = Profile::builtin();
    let spec = spec_of(&p, &options());
    let dev = variable_of(&spec, "changes_deployment_dev");
    let ops = variable_of(&spec, "changes_deployment_ops");
    let volumes = "variables.new_spec_template_spec[?'volumes'].orValue([]).filter(v0, ";
    assert!(dev.contains(&format!("{volumes}v0[?'persistentVolumeClaim'].hasValue() && ")), "{dev}");
    assert!(ops.contains(&format!("{volumes}!v0[?'persistentVolumeClaim'].hasValue() && ")), "{ops}");
    assert!(ops.contains("'spec.template.spec.volumes[' + v0.name + ']'"), "{ops}");
    // Every item is one role's: nothing of the list is left to "no role".
    let other = variable_of(&spec, "changes_deployment_other");
    assert!(!other.contains("v0[?'persistentVolumeClaim']"), "{other}");
    let deploy = kind_tree(&p, p.kind("deploy").unwrap());
    assert!(matches!(deploy.map_at_path(&s("spec.template.spec.volumes")), Some(Node::Split(_))));
}
