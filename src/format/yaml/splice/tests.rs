use serde_json::{Value, json};

use super::{edit_documents, hide_documents};
use crate::format::yaml::{DOCUMENT_LIMITS, parse};

/// The value of document `index` of `text`, changed by `change`.
fn changed(text: &str, index: usize, change: impl FnOnce(&mut Value)) -> Value {
    let mut value = parse(text, &DOCUMENT_LIMITS).unwrap()[index].value.clone();
    change(&mut value);
    value
}

const DEPLOY: &str = "\
# the web app
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web   # keep me
spec:
  replicas: 2
  template:
    spec:
      containers:
        - name: app
          image: \"nginx:1.25\"   # pinned
          env:
            - name: MODE
              value: prod
            # the port
            - name: PORT
              value: '8080'
        - name: side
          image: busybox
---
apiVersion: v1
kind: ConfigMap
metadata: {name: conf}
data:
  a: \"1\"
";

#[test]
fn edits_change_only_their_lines() {
    // (what, change, expected text)
    type Change = fn(&mut Value);
    let cases: Vec<(&str, Change, String)> = vec![
        (
            "image in double quotes stays double-quoted, comment kept",
            |v| v["spec"]["template"]["spec"]["containers"][0]["image"] = json!("nginx:1.27"),
            DEPLOY.replace("\"nginx:1.25\"   # pinned", "\"nginx:1.27\"   # pinned"),
        ),
        (
            "a plain number",
            |v| v["spec"]["replicas"] = json!(5),
            DEPLOY.replace("replicas: 2", "replicas: 5"),
        ),
        (
            "single quotes kept",
            |v| v["spec"]["template"]["spec"]["containers"][0]["env"][1]["value"] = json!("9090"),
            DEPLOY.replace("'8080'", "'9090'"),
        ),
        (
            "an env item removed: exactly its lines (its comment above it stays)",
            |v| {
                v["spec"]["template"]["spec"]["containers"][0]["env"].as_array_mut().unwrap().remove(0);
            },
            DEPLOY.replace("            - name: MODE\n              value: prod\n", ""),
        ),
        (
            "an env item added after the last, at the list's indentation",
            |v| {
                v["spec"]["template"]["spec"]["containers"][0]["env"]
                    .as_array_mut()
                    .unwrap()
                    .push(json!({"name": "DEBUG", "value": "true"}))
            },
            DEPLOY.replace(
                "              value: '8080'\n",
                "              value: '8080'\n            - name: DEBUG\n              value: 'true'\n",
            ),
        ),
        (
            "a new key at the mapping's indentation",
            |v| v["metadata"]["labels"] = json!({"team": "a"}),
            DEPLOY.replace("  name: web   # keep me\n", "  name: web   # keep me\n  labels:\n    team: a\n"),
        ),
        (
            "a new list under a key follows the file's indented sequences",
            |v| v["spec"]["template"]["spec"]["containers"][1]["args"] = json!(["-v"]),
            DEPLOY.replace(
                "          image: busybox\n",
                "          image: busybox\n          args:\n            - -v\n",
            ),
        ),
        (
            "a key removed",
            |v| {
                v["spec"].as_object_mut().unwrap().shift_remove("replicas");
            },
            DEPLOY.replace("  replicas: 2\n", ""),
        ),
    ];
    for (what, change, expected) in cases {
        let value = changed(DEPLOY, 0, change);
        let out = edit_documents(DEPLOY, &[(0, value)]).unwrap_or_else(|e| panic!("{what}: {e}"));
        assert_eq!(out, expected, "{what}");
    }
}

#[test]
fn a_flow_mapping_is_rewritten_on_its_own_bytes() {
    let value = changed(DEPLOY, 1, |v| v["metadata"]["labels"] = json!({"x": "y"}));
    let value2 = changed(DEPLOY, 1, |v| v["metadata"]["name"] = json!("other"));
    let out = edit_documents(DEPLOY, &[(1, value2)]).unwrap();
    assert_eq!(out, DEPLOY.replace("metadata: {name: conf}", "metadata: {name: other}"));
    // A key added to a flow mapping: after the last, the rest untouched.
    let out = edit_documents(DEPLOY, &[(1, value)]).unwrap();
    assert_eq!(out, DEPLOY.replace("metadata: {name: conf}", "metadata: {name: conf, labels: {x: \"y\"}}"));
}

#[test]
fn anchors_aliases_and_block_scalars_are_refused_with_their_place() {
    let cases = [
        ("a: &x 1\nb: *x\n", json!({"a": 2, "b": 1}), (1, 7), "anchor or alias"),
        ("a: &x 1\nb: *x\n", json!({"a": 1, "b": 2}), (2, 4), "anchor or alias"),
        ("a: |\n  line\nb: 1\n", json!({"a": "other\n", "b": 1}), (2, 3), "block scalar"),
        ("a:\n  b: 1\n", json!({"a": "text"}), (2, 3), "single value and a list"),
    ];
    for (text, value, (line, column), says) in cases {
        let err = edit_documents(text, &[(0, value)]).unwrap_err();
        assert_eq!((err.line, err.column), (line, column), "{text}: {err}");
        assert!(err.message.contains(says), "{text}: {err}");
    }
}

#[test]
fn other_documents_and_unchanged_text_stay_byte_for_byte() {
    let same = changed(DEPLOY, 0, |_| {});
    assert_eq!(edit_documents(DEPLOY, &[(0, same)]).unwrap(), DEPLOY);
    let value = changed(DEPLOY, 1, |v| v["data"]["a"] = json!("2"));
    let out = edit_documents(DEPLOY, &[(1, value)]).unwrap();
    let (first, _) = out.split_once("---").unwrap();
    let (original, _) = DEPLOY.split_once("---").unwrap();
    assert_eq!(first, original);
    assert!(out.ends_with("data:\n  a: \"2\"\n"), "{out}");
}

#[test]
fn crlf_and_a_missing_final_newline_are_kept() {
    let text = "a: 1\r\nb:\r\n  c: x";
    let out = edit_documents(text, &[(0, json!({"a": 1, "b": {"c": "x", "d": "y"}}))]).unwrap();
    assert_eq!(out, "a: 1\r\nb:\r\n  c: x\r\n  d: 'y'");
    let text = "a:\n- x";
    let out = edit_documents(text, &[(0, json!({"a": ["x", "z"]}))]).unwrap();
    assert_eq!(out, "a:\n- x\n- z");
}

#[test]
fn a_change_that_would_read_back_differently_is_refused() {
    // An env item whose first key is not on its own line cannot lose that key alone.
    let text = "items:\n- name: a\n  value: b\n";
    let err = edit_documents(text, &[(0, json!({"items": [{"value": "b"}]}))]).unwrap_err();
    assert!(err.message.contains("edit it by hand"), "{err}");
    // A document left with no key would read as nothing: refused, named by where it starts.
    let err = edit_documents("a: 1\n---\nc: 2\n", &[(1, json!({}))]).unwrap_err();
    assert!(err.message.contains("would not read back"), "{err}");
    assert_eq!((err.line, err.column), (3, 1), "{err}");
}

#[test]
fn inside_a_flow_collection_a_changed_value_keeps_its_place_and_quotes() {
    let text = "containers:\n- {name: app, image: \"shop:1\", args: [a, b]}\n";
    let cases = [
        (
            json!({"containers": [{"name": "app", "image": "shop:2", "args": ["a", "b"]}]}),
            "containers:\n- {name: app, image: \"shop:2\", args: [a, b]}\n",
        ),
        (
            json!({"containers": [{"name": "app", "image": "shop:1", "args": ["a", "x, y"]}]}),
            "containers:\n- {name: app, image: \"shop:1\", args: [a, \"x, y\"]}\n",
        ),
        // A new key: after the last, the others untouched.
        (
            json!({"containers": [{"name": "app", "image": "shop:1", "args": ["a", "b"], "tty": true}]}),
            "containers:\n- {name: app, image: \"shop:1\", args: [a, b], tty: true}\n",
        ),
        // A key removed: that mapping is written again, on its own bytes.
        (
            json!({"containers": [{"name": "app", "args": ["a", "b"]}]}),
            "containers:\n- {name: app, args: [a, b]}\n",
        ),
    ];
    for (value, expected) in cases {
        assert_eq!(edit_documents(text, &[(0, value)]).unwrap(), expected);
    }
}

#[test]
fn a_json_text_stays_json_and_only_the_changed_part_is_written_again() {
    let text = "{\n  \"kind\": \"Deployment\",\n  \"spec\": {\"replicas\": 1, \"env\": [{\"name\": \"A\", \"value\": \"x\"}]}\n}\n";
    let value = json!({"kind": "Deployment", "spec": {"replicas": 3, "env": [{"name": "A", "value": "x"}, {"name": "B", "value": "y"}]}});
    let out = edit_documents(text, &[(0, value.clone())]).unwrap();
    assert_eq!(
        out,
        "{\n  \"kind\": \"Deployment\",\n  \"spec\": {\"replicas\": 3, \"env\": [{\"name\": \"A\", \"value\": \"x\"}, {\"name\":\"B\",\"value\":\"y\"}]}\n}\n"
    );
    assert_eq!(serde_json::from_str::<Value>(&out).unwrap(), value);
}

/// Every path to a node of `value`, as keys and indexes.
fn paths(value: &Value, at: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
    out.push(at.clone());
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                at.push(k.clone());
                paths(v, at, out);
                at.pop();
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                at.push(i.to_string());
                paths(v, at, out);
                at.pop();
            }
        }
        _ => {}
    }
}

fn at_mut<'a>(value: &'a mut Value, path: &[String]) -> &'a mut Value {
    path.iter().fold(value, |v, p| match v {
        Value::Array(items) => &mut items[p.parse::<usize>().unwrap()],
        other => &mut other[p.as_str()],
    })
}

#[test]
fn every_change_of_every_node_is_made_exactly_or_refused() {
    let texts = [
        DEPLOY.to_string(),
        "a: &x 1\nb: *x\nc: |\n  text\nd: [1, {e: f}]\n".to_string(),
        "{\"a\": {\"b\": [1, 2]}, \"c\": \"d\"}\n".to_string(),
        "x:\r\n  - y: 1\r\n    z: [a]\r\n".to_string(),
        "k: v # c\n---\n- a\n- - b\n  - c\n".to_string(),
    ];
    let (mut made, mut refused) = (0, 0);
    for text in &texts {
        let docs = parse(text, &DOCUMENT_LIMITS).unwrap();
        for (index, doc) in docs.iter().enumerate() {
            let mut all = Vec::new();
            paths(&doc.value, &mut Vec::new(), &mut all);
            for path in all {
                let changes: [fn(&mut Value); 3] = [
                    |v| *v = json!("new: value, with # and \"quotes\""),
                    |v| *v = json!({"added": [1, "two"]}),
                    |v| match v {
                        Value::Object(m) => {
                            m.insert("extra".into(), json!("x"));
                        }
                        Value::Array(items) => items.push(json!({"name": "n"})),
                        other => *other = json!(42),
                    },
                ];
                for change in &changes {
                    let mut value = doc.value.clone();
                    change(at_mut(&mut value, &path));
                    // Removal of the node from its parent, too.
                    let mut removed = doc.value.clone();
                    if let Some((last, parent)) = path.split_last() {
                        match at_mut(&mut removed, parent) {
                            Value::Object(m) => {
                                m.shift_remove(last);
                            }
                            Value::Array(items) => {
                                items.remove(last.parse::<usize>().unwrap());
                            }
                            _ => {}
                        }
                    }
                    for wanted in [value, removed] {
                        // Made (and then it reads back as intended), or refused: never wrong.
                        let out = edit_documents(text, &[(index, wanted.clone())]);
                        let Ok(out) = out else {
                            refused += 1;
                            continue;
                        };
                        made += 1;
                        {
                            let again = parse(&out, &DOCUMENT_LIMITS).unwrap();
                            assert_eq!(again[index].value, wanted, "{text:?} at {path:?}");
                            for (i, d) in again.iter().enumerate().filter(|(i, _)| *i != index) {
                                assert_eq!(d.value, docs[i].value);
                            }
                        }
                    }
                }
            }
        }
    }
    // Most changes are made. The refusals: anchors, aliases, block scalars, a key sharing its line
    // (`- name: x` without its item), a scalar becoming a collection in a block, and a block
    // mapping or list left with no entry (it would read as null).
    assert!(made > 2 * refused, "made {made}, refused {refused}");
}

#[test]
fn new_lists_follow_the_files_sequence_style() {
    // (text, new value, expected): kubectl's indentless `- name` at the key's column, or indented.
    let indentless = "c:\n- name: app\n  env:\n  - name: A\n- name: side\n";
    let indented = "c:\n  - name: app\n    env:\n      - name: A\n  - name: side\n";
    let cases = [
        (indentless, "c:\n- name: app\n  env:\n  - name: A\n- name: side\n  env:\n  - name: B\n"),
        (
            indented,
            "c:\n  - name: app\n    env:\n      - name: A\n  - name: side\n    env:\n      - name: B\n",
        ),
    ];
    for (text, expected) in cases {
        let new = changed(text, 0, |v| v["c"][1]["env"] = json!([{"name": "B"}]));
        assert_eq!(edit_documents(text, &[(0, new)]).unwrap(), expected, "{text}");
    }
}

#[test]
fn secrets_are_hidden_line_for_line() {
    let secret = |v: &Value| v["kind"] == "Secret";
    let text = "kind: Secret\r\nstringData:\r\n  token: abc\r\n---\r\nkind: List\r\nitems:\r\n- kind: Secret\r\n  data: {a: b}\r\n- kind: Deployment\r\n  spec: {}\r\n";
    let hidden = "# (a Secret: not shown)\r\n# (a Secret: not shown)\r\n  # (a Secret: not shown)\r\n---\r\nkind: List\r\nitems:\r\n# (a Secret: not shown)\r\n  # (a Secret: not shown)\r\n- kind: Deployment\r\n  spec: {}\r\n";
    assert_eq!(hide_documents(text, secret).unwrap(), hidden);
    let plain = "kind: ConfigMap\ndata: {a: b}";
    assert_eq!(hide_documents(plain, secret).unwrap(), plain);
}

#[test]
fn an_item_removed_from_a_list_without_names_loses_exactly_its_lines() {
    // (text, index removed, expected): the others keep their lines and comments.
    let cases = [
        ("args:\n- a # one\n- b # two\n- c\n", 0, "args:\n- b # two\n- c\n"),
        ("args:\n- a # one\n- b # two\n- c\n", 1, "args:\n- a # one\n- c\n"),
        ("l:\n- a: 1\n  b: 2\n- c\n", 0, "l:\n- c\n"),
        ("l:\n- x\n- x\n- y # y\n", 1, "l:\n- x\n- y # y\n"),
    ];
    // Removed and added at the end (an editor's change of args): the kept items keep their lines.
    let text = "args:\n- a\n- b # two\n- c # three\n";
    let new = changed(text, 0, |v| v["args"] = json!(["a", "c", "d"]));
    assert_eq!(edit_documents(text, &[(0, new)]).unwrap(), "args:\n- a\n- c # three\n- d\n");
    for (text, index, expected) in cases {
        let new = changed(text, 0, |v| {
            v.as_object_mut().unwrap().values_mut().next().unwrap().as_array_mut().unwrap().remove(index);
        });
        assert_eq!(edit_documents(text, &[(0, new)]).unwrap(), expected, "{text:?} without item {index}");
    }
}

#[test]
fn new_blocks_follow_the_files_indentation_step() {
    // A 4-space file: a new nested block is indented by 4 a level too.
    let text =
        "spec:\n    template:\n        containers:\n            -   name: app\n                image: a\n";
    let new = changed(text, 0, |v| {
        v["spec"]["template"]["containers"][0]["resources"] = json!({"limits": {"cpu": "1"}});
        v["spec"]["replicas"] = json!(2);
    });
    assert_eq!(
        edit_documents(text, &[(0, new)]).unwrap(),
        "spec:\n    template:\n        containers:\n            -   name: app\n                image: a\n                resources:\n                    limits:\n                        cpu: '1'\n    replicas: 2\n"
    );
}
