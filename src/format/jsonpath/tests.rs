use serde_json::{Value, json};

use super::*;

/// The Deployment the expectations were taken from: `kubectl get deploy web -o jsonpath=…`
/// (kubectl v1.36.3) on the local control plane, as the server returned it (defaults included).
fn deployment() -> Value {
    json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": "web",
            "namespace": "jp-oracle",
            "labels": {"app": "web", "app.kubernetes.io/name": "shop", "tier": "front"}
        },
        "spec": {
            "progressDeadlineSeconds": 600,
            "replicas": 2,
            "revisionHistoryLimit": 10,
            "selector": {"matchLabels": {"app": "web"}},
            "strategy": {"rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}, "type": "RollingUpdate"},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {
                    "containers": [
                        {
                            "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "x<y&z"}],
                            "image": "nginx:1",
                            "imagePullPolicy": "IfNotPresent",
                            "name": "app",
                            "ports": [
                                {"containerPort": 80, "protocol": "TCP"},
                                {"containerPort": 443, "name": "https", "protocol": "TCP"}
                            ],
                            "resources": {}
                        },
                        {"image": "envoy:2", "imagePullPolicy": "IfNotPresent", "name": "proxy", "resources": {}}
                    ],
                    "restartPolicy": "Always"
                }
            }
        }
    })
}

fn render(template: &str, doc: &Value) -> Result<String, String> {
    parse(template)?.render(doc)
}

/// Each template with what kubectl printed for it.
#[test]
fn templates_print_what_kubectl_prints() {
    let doc = deployment();
    let c = ".spec.template.spec.containers";
    let cases: Vec<(String, &str)> = vec![
        ("{.metadata.name}".into(), "web"),
        ("{.spec.replicas} {.spec.revisionHistoryLimit}".into(), "2 10"),
        (format!("{{{c}[*].name}}"), "app proxy"),
        (format!("{{{c}[-1].name}}"), "proxy"),
        (format!("{{{c}[0:1].name}}"), "app"),
        (format!("{{{c}[1:].name}}"), "proxy"),
        (format!("{{{c}[:1].name}}"), "app"),
        (format!("{{{c}[::2].name}}"), "app"),
        (format!("{{{c}[2:2].name}}"), ""),
        ("{..image}".into(), "nginx:1 envoy:2"),
        (format!("{{{c}[?(@.name==\"proxy\")].image}}"), "envoy:2"),
        (format!("{{{c}[?(@.name=='proxy')].image}}"), "envoy:2"),
        (format!("{{{c}[?(@.name!='app')]['name']}}"), "proxy"),
        (format!("{{{c}[?(@.image)].image}}"), "nginx:1 envoy:2"),
        (format!("{{{c}[?(@.x)].name}}"), ""),
        (format!("{{{c}[?(@.name==\"nope\")].name}}"), ""),
        (format!("{{{c}[0].env[?(@.value==\"x<y&z\")]}}"), r#"{"name":"B","value":"x\u003cy\u0026z"}"#),
        (format!("{{{c}[0].env[*].value}}"), "1 x<y&z"),
        (format!("{{{c}[0].ports[?(@.name)].containerPort}}"), "443"),
        (format!("{{{c}[0].ports[?(@.containerPort==80)]}}"), r#"{"containerPort":80,"protocol":"TCP"}"#),
        (format!("{{{c}[0].ports[?(@.containerPort!=80)].name}}"), "https"),
        (format!("{{{c}[0].ports[?(@.containerPort>80)].name}}"), "https"),
        (format!("{{{c}[0].ports[*].containerPort}}"), "80 443"),
        (format!("{{{c}[?(@.name==\"app\")].ports[?(@.protocol==\"TCP\")].containerPort}}"), "80 443"),
        (format!("{{{c}[0]['name']}}"), "app"),
        (format!("{{{c}[*]['name','image']}}"), "app proxy nginx:1 envoy:2"),
        (
            format!("{{{c}[*].ports}}"),
            r#"[{"containerPort":80,"protocol":"TCP"},{"containerPort":443,"name":"https","protocol":"TCP"}]"#,
        ),
        ("{.metadata.labels}".into(), r#"{"app":"web","app.kubernetes.io/name":"shop","tier":"front"}"#),
        (r"{.metadata.labels.app\.kubernetes\.io/name}".into(), "shop"),
        ("{.spec.strategy.rollingUpdate}".into(), r#"{"maxSurge":"25%","maxUnavailable":"25%"}"#),
        ("{$.metadata.name}".into(), "web"),
        ("{@.metadata.name}".into(), "web"),
        ("{ .metadata.name }".into(), "web"),
        (format!("{{range {c}[*]}}{{.name}}={{.image}};{{end}}"), "app=nginx:1;proxy=envoy:2;"),
        ("{.metadata.name}{\"\\n\"}{.spec.replicas}".into(), "web\n2"),
        // Text outside braces is printed as it is: kubectl leaves \n there alone too.
        (r"a\nb\tc{.metadata.name}".into(), r"a\nb\tcweb"),
        ("text only".into(), "text only"),
    ];
    let mut failures = Vec::new();
    for (template, expected) in &cases {
        match render(template, &doc) {
            Ok(got) if got == *expected => {}
            other => failures.push(format!("{template}: expected {expected:?}, got {other:?}")),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// kubectl's `get` allows missing keys; so does `allowing_missing`.
#[test]
fn nested_ranges_with_missing_keys_allowed() {
    let template = "{range .spec.template.spec.containers[*]}{.name}{\"\\t\"}{range .ports[*]}{.containerPort},{end}{\"\\n\"}{end}";
    let lenient = parse(template).unwrap().allowing_missing();
    assert_eq!(lenient.render(&deployment()).unwrap(), "app\t80,443,\nproxy\t\n");
    assert_eq!(lenient.render(&json!({})).unwrap(), "");
    assert_eq!(parse("{.x}").unwrap().allowing_missing().render(&deployment()).unwrap(), "");
    let strict = parse(template).unwrap().render(&deployment()).unwrap_err();
    assert!(strict.contains(".ports is not found"), "{strict}");
}

/// Our own additions: quoted keys with dots, document order for map values.
#[test]
fn quoted_keys_and_map_values() {
    let doc = deployment();
    assert_eq!(render("{.metadata.labels['app.kubernetes.io/name']}", &doc).unwrap(), "shop");
    assert_eq!(render("{.metadata.labels[\"app.kubernetes.io/name\"]}", &doc).unwrap(), "shop");
    assert_eq!(render("{.metadata.labels.*}", &doc).unwrap(), "web shop front");
    assert_eq!(render("{.metadata.labels[*]}", &doc).unwrap(), "web shop front");
    assert_eq!(render("{..app}", &doc).unwrap(), "web web web");
    assert_eq!(render("{}", &json!({"b": 1, "a": [true, null]})).unwrap(), r#"{"a":[true,null],"b":1}"#);
    assert_eq!(render("{.a[1]}", &json!({"a": [true, null]})).unwrap(), "<nil>");
}

#[test]
fn numbers_print_as_go_prints_them() {
    let doc =
        json!({"a": [0.5, 100.0, 123456.0, 1e6, 1234567.0, 1e21, 0.0001, 0.00001, 1.5e-7, -2.25, 7, -3]});
    assert_eq!(
        render("{.a[*]}", &doc).unwrap(),
        "0.5 100 123456 1e+06 1.234567e+06 1e+21 0.0001 1e-05 1.5e-07 -2.25 7 -3"
    );
    assert_eq!(
        render("{.a}", &doc).unwrap(),
        "[0.5,100,123456,1000000,1234567,1e+21,0.0001,0.00001,1.5e-7,-2.25,7,-3]"
    );
    assert_eq!(
        render("{.s}", &json!({"s": {"t": "a\u{2028}\u{8}\u{1}>"}})).unwrap(),
        r#"{"t":"a\u2028\b\u0001\u003e"}"#
    );
}

/// What goes wrong when the template is run: one line naming the template and the path.
#[test]
fn missing_fields_and_bad_indexes_are_errors() {
    let doc = deployment();
    let c = ".spec.template.spec.containers";
    let cases: Vec<(String, &str)> = vec![
        (
            "{.x}".into(),
            r#"jsonpath "{.x}": .x is not found (the document has apiVersion, kind, metadata, spec)"#,
        ),
        ("{.metadata.x.y}".into(), ".metadata.x is not found (.metadata has name, namespace, labels)"),
        (
            format!("{{{c}.name}}"),
            ".spec.template.spec.containers.name is not found (.spec.template.spec.containers is a list, not a map)",
        ),
        ("{.spec.paused}".into(), ".spec.paused is not found"),
        (format!("{{{c}[5].name}}"), "containers[5]: index 5 is out of bounds (the list has 2 items)"),
        (format!("{{{c}[0:5].name}}"), "index 4 is out of bounds"),
        (format!("{{{c}[-3].name}}"), "index -1 is out of bounds"),
        (format!("{{{c}[0:1:0].name}}"), "the step must be more than 0"),
        (
            format!("{{{c}[0].name[0]}}"),
            ".name[0]: .spec.template.spec.containers[0].name is a string, not a list",
        ),
        ("{.metadata.name[?(@.x)]}".into(), "is a string, not a list to filter"),
        (format!("{{{c}[?(@.name>1)]}}"), "cannot order a string and a number"),
        (format!("{{{c}[?(@.ports[*].containerPort==80)]}}"), "can only compare one value at a time"),
    ];
    let mut failures = Vec::new();
    for (template, expected) in &cases {
        match render(template, &doc) {
            Err(e) if e.contains(expected) && !e.contains('\n') && e.starts_with("jsonpath \"") => {}
            other => failures.push(format!("{template}: expected an error with {expected:?}, got {other:?}")),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Mistakes in the template itself: found before any object is read, with their column.
#[test]
fn syntax_errors_name_the_column() {
    let cases = [
        ("{.spec.replicas", "column 1: \"{\" is not closed with \"}\""),
        ("{.a[}", "column 4: \"[\" is not closed with \"]\""),
        ("{.a[x]}", "column 5: invalid index \"x\""),
        ("{.a[]}", "column 5: invalid index \"\""),
        ("{.a[1:2:3:4]}", "invalid index \"1:2:3:4\""),
        ("{.a[99999999999999999999]}", "is too large"),
        ("{.a.}", "column 5: a field name must follow \".\""),
        ("{.}", "column 3: a field name must follow"),
        ("{name}", "column 2: unknown word \"name\"; a path starts with a dot, e.g. {.name}"),
        ("x{end}", "column 2: {end} closes no {range …}"),
        ("{range .a[*]}{.b}", "column 1: {range …} has no {end}"),
        ("{range}{end}", "{range} needs a path"),
        ("{\"a}", "column 2: the string is not closed with \""),
        ("{\"\\q\"}", "column 3: unknown escape \\q"),
        ("{.a[?(@.b==\"x\"]}", "column 4: \"[?(\" is not closed with \")]\""),
        ("{.a[?(@.b=~\"x\")]}", "column 10: =~ (regular expressions) is not supported"),
        ("{.a[?(@.b=\"x\")]}", "column 10: \"=\" compares nothing; use =="),
        ("{.a[?(@.b==x)]}", "column 12: \"x\" is not a value to compare with"),
        ("{.a[?(b==1)]}", "column 7: \"b\" is not a path; write @.field"),
        ("{.a[?()]}", "the filter needs a path"),
        ("{.a ! }", "column 5: unexpected \"!\""),
        ("{..}", "\"..\" must be followed by a field name"),
        ("{.a\\", "at the end escapes nothing"),
    ];
    let mut failures = Vec::new();
    for (template, expected) in cases {
        match parse(template) {
            Err(e) if e.contains(expected) && e.starts_with(&format!("jsonpath template \"{template}\"")) => {
            }
            other => {
                failures.push(format!("{template}: expected {expected:?}, got {:?}", other.map(|_| "parsed")))
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn sort_keys_take_kubectl_spellings() {
    let doc = deployment();
    for text in [".metadata.name", "{.metadata.name}", "metadata.name", " {.metadata.name} "] {
        let key = parse_sort_key(text).unwrap_or_else(|e| panic!("{text}: {e}"));
        assert_eq!(key.values(&doc), [&json!("web")], "{text}");
        assert_eq!(key.source(), text);
    }
    let ports = parse_sort_key(".spec.template.spec.containers[0].ports[*].containerPort").unwrap();
    assert_eq!(ports.values(&doc), [&json!(80), &json!(443)]);
    assert!(parse_sort_key(".x.y").unwrap().values(&doc).is_empty(), "a missing key sorts as nothing");
    let err = parse_sort_key("{.a}{.b}").unwrap_err();
    assert!(err.contains("is not one JSONPath expression"), "{err}");
    for (text, expected) in [
        (".a[", "--sort-by \".a[\": column 3: \"[\" is not closed with \"]\""),
        ("{ .a[ }", "--sort-by \"{ .a[ }\": column 5: \"[\" is not closed"),
        ("a.b[x]", "--sort-by \"a.b[x]\": column 5: invalid index \"x\""),
    ] {
        let err = parse_sort_key(text).unwrap_err();
        assert!(err.starts_with(expected), "{text}: {err}");
    }
}

#[test]
fn values_are_the_first_expressions_matches() {
    let doc = deployment();
    let template = parse("names: {.spec.template.spec.containers[*].name} {.kind}").unwrap();
    assert_eq!(template.values(&doc), [&json!("app"), &json!("proxy")]);
    assert!(parse("only text").unwrap().values(&doc).is_empty());
}

/// No template, however odd, makes the parser or the printer panic.
#[test]
fn odd_templates_never_panic() {
    let doc = deployment();
    let pieces = [
        "{", "}", "[", "]", "(", ")", "?", "@", "$", ".", "..", "*", ":", "-", ",", "'", "\"", "\\", "=",
        "!", "<", "range", "end", " ", "0", "-1", "a", "é", "spec", "\n",
    ];
    let mut seed: u64 = 7;
    for _ in 0..20000 {
        let mut template = String::new();
        for _ in 0..(seed % 9) {
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            template.push_str(pieces[(seed >> 33) as usize % pieces.len()]);
        }
        seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1);
        if let Ok(t) = parse(&template) {
            let _ = t.render(&doc);
            let _ = t.values(&doc);
        }
        let _ = parse_sort_key(&template);
    }
}

#[test]
fn sort_order_is_kubectls() {
    use std::cmp::Ordering::{Equal, Greater, Less};
    let v = |value: Value| vec![value];
    let cases = [
        (vec![], v(json!("a")), Less),
        (vec![], vec![], Equal),
        (v(json!(2)), v(json!(10)), Less),
        (v(json!(2.5)), v(json!(2)), Greater),
        (v(json!("web10")), v(json!("web2")), Less),
        (v(json!("500m")), v(json!("1500m")), Less),
        (v(json!("2")), v(json!("1500m")), Greater),
        (v(json!("512Mi")), v(json!("1Gi")), Less),
        (v(json!("Web")), v(json!("web")), Less),
        (v(json!("b")), v(json!("a1")), Greater),
        (v(json!("a")), v(json!("a")), Equal),
        (v(json!(false)), v(json!(true)), Less),
        (v(json!(1)), v(json!("1")), Less),
    ];
    for (a, b, expected) in cases {
        let (a_refs, b_refs): (Vec<&Value>, Vec<&Value>) = (a.iter().collect(), b.iter().collect());
        assert_eq!(sort_order(&a_refs, &b_refs), expected, "{a:?} vs {b:?}");
    }
}
