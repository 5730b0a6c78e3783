use std::collections::BTreeMap;
use std::time::Instant;

use serde_json::{Map, Value, json};

use super::emit::quoted_key;
use super::*;

fn one(text: &str) -> Parsed {
    parse_one(text, &DOCUMENT_LIMITS).unwrap_or_else(|e| panic!("{text:?}: {e}"))
}

fn fails(text: &str) -> String {
    let err = parse(text, &DOCUMENT_LIMITS).err().unwrap_or_else(|| panic!("{text:?} parsed"));
    let shown = err.to_string();
    assert!(!shown.contains('\n'), "one line: {shown}");
    shown
}

#[test]
fn positions_and_source_text() {
    let text = "\
kind: Deployment
containers:
  app:
    image: \"nginx:1\"
    env:
      RATIO: 1.10
      MASK: 0x1F
      FLAG: on
      EMPTY:
    ports: [80, {name: http}]
    script: |
      echo hi
";
    let doc = one(text);
    type Expected<'a> = (&'a [&'a str], Option<(usize, usize)>, Option<&'a str>);
    let cases: &[Expected] = &[
        (&["kind"], Some((1, 7)), Some("Deployment")),
        (&["containers", "app", "image"], Some((4, 12)), Some("\"nginx:1\"")),
        (&["containers", "app", "env", "RATIO"], Some((6, 14)), Some("1.10")),
        (&["containers", "app", "env", "MASK"], Some((7, 13)), Some("0x1F")),
        (&["containers", "app", "env", "FLAG"], Some((8, 13)), Some("on")),
        (&["containers", "app", "env", "EMPTY"], Some((9, 12)), Some("")),
        (&["containers", "app", "ports", "0"], Some((10, 13)), Some("80")),
        (&["containers", "app", "ports", "1", "name"], Some((10, 24)), Some("http")),
        (&["containers", "app", "ports", "1"], Some((10, 17)), None),
        (&["containers", "app", "script"], Some((12, 7)), Some("echo hi\n")),
        (&["containers", "app", "env"], Some((6, 7)), None),
        (&[], Some((1, 1)), None),
        (&["containers", "nope"], None, None),
        (&["containers", "app", "ports", "9"], None, None),
        (&["kind", "deeper"], None, None),
    ];
    for (path, position, source) in cases {
        assert_eq!(doc.position(path), *position, "position of {path:?}");
        assert_eq!(doc.source_text(path), *source, "source of {path:?}");
    }
    assert_eq!(doc.key_position(&["containers", "app", "env", "FLAG"]), Some((8, 7)));
    assert_eq!(doc.key_position(&["containers", "app", "ports", "0"]), None);
    assert_eq!(
        doc.value["containers"]["app"]["env"],
        json!({"RATIO": 1.1, "MASK": 31, "FLAG": "on", "EMPTY": null})
    );
    assert_eq!(doc.yaml11_misreading(&["containers", "app", "env", "FLAG"]), Some("boolean"));
    assert_eq!(doc.yaml11_misreading(&["containers", "app", "image"]), None);
    assert_eq!(doc.yaml11_misreading(&["containers", "app", "env", "RATIO"]), None, "a number, not a string");
}

#[test]
fn plain_scalars_resolve_by_the_yaml_1_2_core_schema() {
    let cases: &[(&str, Value)] = &[
        ("null", Value::Null),
        ("Null", Value::Null),
        ("NULL", Value::Null),
        ("~", Value::Null),
        ("", Value::Null),
        ("true", json!(true)),
        ("True", json!(true)),
        ("TRUE", json!(true)),
        ("false", json!(false)),
        ("FALSE", json!(false)),
        ("0", json!(0)),
        ("-0", json!(0)),
        ("+12", json!(12)),
        ("-12", json!(-12)),
        ("9223372036854775807", json!(i64::MAX)),
        ("18446744073709551615", json!(u64::MAX)),
        ("0x1F", json!(31)),
        ("0o17", json!(15)),
        ("1.10", json!(1.1)),
        ("1e3", json!(1000.0)),
        ("-1.5E-3", json!(-0.0015)),
        (".5", json!(0.5)),
        ("5.", json!(5.0)),
        // YAML 1.1-only forms stay strings.
        ("yes", json!("yes")),
        ("no", json!("no")),
        ("on", json!("on")),
        ("off", json!("off")),
        ("y", json!("y")),
        ("n", json!("n")),
        ("1_000", json!("1_000")),
        ("0b101", json!("0b101")),
        ("-0x1F", json!("-0x1F")),
        ("12:30:45", json!("12:30:45")),
        ("2001-12-14", json!("2001-12-14")),
        ("=", json!("=")),
        ("1.2.3", json!("1.2.3")),
        ("100m", json!("100m")),
        ("0x", json!("0x")),
        ("nginx:1.25", json!("nginx:1.25")),
    ];
    for (text, expected) in cases {
        assert_eq!(resolve_plain(text).as_ref(), Ok(expected), "{text:?}");
        let doc = one(&format!("v: {text}\n"));
        assert_eq!(&doc.value["v"], expected, "{text:?} in a document");
    }
    for (text, problem) in [
        ("012", "leading zero"),
        ("-007", "leading zero"),
        ("08", "leading zero"),
        ("00", "leading zero"),
        (".inf", "not a number JSON can hold"),
        ("-.Inf", "not a number JSON can hold"),
        (".NaN", "not a number JSON can hold"),
        ("1e999", "not a number JSON can hold"),
        ("18446744073709551616", "64-bit"),
        ("-9223372036854775809", "64-bit"),
        ("0xFFFFFFFFFFFFFFFFF", "64-bit"),
    ] {
        let err = fails(&format!("env:\n  V: {text}\n"));
        assert!(err.starts_with("line 2 column 6: "), "{err}");
        assert!(err.contains(problem) && err.contains("quote it"), "{text}: {err}");
    }
    // Quoted and block scalars are always strings.
    let doc = one("a: '012'\nb: \"on\"\nc: |\n  1.10\nd: >-\n  true\n");
    assert_eq!(doc.value, json!({"a": "012", "b": "on", "c": "1.10\n", "d": "true"}));
}

#[test]
fn tags_that_change_meaning_are_refused() {
    let ok: &[(&str, Value)] = &[
        ("v: !!str 12", json!({"v": "12"})),
        ("v: ! 12", json!({"v": "12"})),
        ("v: !<tag:yaml.org,2002:str> on", json!({"v": "on"})),
        ("v: !!int '12'", json!({"v": 12})),
        ("v: !!float 1", json!({"v": 1.0})),
        ("v: !!bool \"true\"", json!({"v": true})),
        ("v: !!null ''", json!({"v": null})),
        ("v: !!seq [a]", json!({"v": ["a"]})),
        ("v: !!map {a: 1}", json!({"v": {"a": 1}})),
        ("!!str 1: x", json!({"1": "x"})),
    ];
    for (text, expected) in ok {
        assert_eq!(&one(text).value, expected, "{text}");
    }
    for (text, expected) in [
        (
            "a: 1\nv: !!binary aGVsbG8=\n",
            "line 2 column 4: tag !!binary is not supported; write base64 data as a plain string",
        ),
        ("v: !foo bar", "line 1 column 4: tag !foo is not supported"),
        ("v: !!timestamp 2001-12-14", "tag !!timestamp is not supported"),
        ("v: !!set {a}", "tag !!set is not supported"),
        ("v: !<tag:example.com,2000:x> 1", "tag !<tag:example.com,2000:x> is not supported"),
        ("v: !!int abc", "line 1 column 4: the value is not a valid !!int"),
        ("v: !!bool yes", "the value is not a valid !!bool"),
        ("v: !!seq {a: 1}", "tag !!seq does not fit a mapping"),
        ("v: !!map abc", "tag !!map does not fit a scalar"),
        ("!!binary a: x", "tag !!binary is not supported"),
    ] {
        let err = fails(text);
        assert!(err.contains(expected), "{text:?}: {err}");
    }
}

#[test]
fn keys_duplicates_and_merges() {
    let doc = one("1: x\ntrue: y\n~: z\n'a b': w\n");
    assert_eq!(doc.value, json!({"1": "x", "true": "y", "~": "z", "a b": "w"}), "keys are their text");
    for (text, expected) in [
        ("env:\n  A: '1'\n  A: '9'\n", "line 3 column 3: duplicate key \"A\" (first at line 2 column 3)"),
        ("{a: 1, b: 2, a: 3}", "line 1 column 14: duplicate key \"a\" (first at line 1 column 2)"),
        ("? [a]\n: b\n", "line 1 column 3: a mapping key must be a string, not a sequence"),
        ("{a: 1}: x", "line 1 column 1: a mapping key must be a string, not a mapping"),
        (
            "a: &x [1]\n*x : 2\n",
            "line 2 column 1: a mapping key must be a string, not an alias of a collection",
        ),
        (
            "base: &b {a: 1}\nuse:\n  <<: *b\n",
            "line 3 column 3: merge keys (<<) are not supported; write the keys out",
        ),
    ] {
        assert_eq!(fails(text), expected, "{text:?}");
    }
    assert_eq!(one("'<<': x").value, json!({"<<": "x"}), "a quoted << is an ordinary key");
    assert_eq!(one("a: &k key\n*k : v\n").value, json!({"a": "key", "key": "v"}), "an aliased scalar key");
}

#[test]
fn aliases_copy_and_are_budgeted() {
    let doc = one("base: &b {cpu: 1, mem: 2}\nother: *b\nlist: [&s x, *s]\n");
    assert_eq!(
        doc.value,
        json!({"base": {"cpu": 1, "mem": 2}, "other": {"cpu": 1, "mem": 2}, "list": ["x", "x"]})
    );
    assert_eq!(doc.position(&["other"]), Some((2, 8)), "an alias is where it is written");
    assert_eq!(doc.position(&["other", "mem"]), Some((1, 24)), "its insides are where the anchor is");
    assert_eq!(doc.source_text(&["list", "1"]), Some("x"));
    // "Billion laughs": ten levels of ten aliases each would be 10^10 nodes.
    let mut bomb = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 1..10 {
        let p = i - 1;
        bomb.push_str(&format!(
            "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
        ));
    }
    let started = Instant::now();
    let err = fails(&bomb);
    assert!(err.contains("aliases expand to more than 100000 nodes"), "{err}");
    eprintln!("alias bomb refused in {:?}", started.elapsed());
    // Anchors around anchors would copy the same nodes once per level.
    let chain = format!("{}[{}]{}", "&a [".repeat(60), "x, ".repeat(10_000), "]".repeat(60));
    let err = fails(&chain);
    assert!(err.contains("anchors hold more than") && err.contains("nodes, the limit"), "{err}");
    let twice = format!("a: &a {{b: &b [{}]}}\nc: *b\n", "x, ".repeat(10_000));
    assert_eq!(
        one(&twice).value["c"].as_array().map(Vec::len),
        Some(10_000),
        "one anchor inside another is fine"
    );
    let small = Limits { max_alias_nodes: 3, ..DOCUMENT_LIMITS };
    assert!(parse("a: &a [1, 2]\nb: *a\n", &small).is_ok(), "3 nodes copied");
    let err = parse("a: &a [1, 2]\nb: *a\nc: *a\n", &small).unwrap_err();
    assert_eq!(
        err.to_string(),
        "line 3 column 4: aliases expand to more than 3 nodes, the limit (an alias bomb?)"
    );
}

#[test]
fn documents_bom_and_empties() {
    let docs =
        parse("\u{feff}a: 1\n---\n---\n# only a comment\n---\nnull\n---\nb: 2\n...\n", &DOCUMENT_LIMITS)
            .unwrap();
    assert_eq!(docs.iter().map(|d| d.value.clone()).collect::<Vec<_>>(), [json!({"a": 1}), json!({"b": 2})]);
    assert_eq!(docs[0].position(&["a"]), Some((1, 4)), "the BOM takes no column");
    assert_eq!(docs[1].position(&["b"]), Some((8, 4)), "positions count from the start of the text");
    assert!(parse("", &DOCUMENT_LIMITS).unwrap().is_empty());
    assert!(parse("# nothing\n", &DOCUMENT_LIMITS).unwrap().is_empty());
    assert_eq!(
        parse_one("a: 1\n---\nb: 2\n", &DOCUMENT_LIMITS).unwrap_err().to_string(),
        "line 3 column 1: expected one YAML document, found 2 (separated by ---)"
    );
    assert_eq!(parse_one("\n", &DOCUMENT_LIMITS).unwrap_err().to_string(), "the text holds no YAML document");
    let err = parse_documents("a: [1\n", "deploy.yaml").unwrap_err().to_string();
    assert!(err.starts_with("deploy.yaml: line ") && err.contains("invalid YAML"), "{err}");
    let err = parse_document("a: 1\n---\nb: 2\n", "/tmp/edit.yaml").unwrap_err().to_string();
    assert!(err.starts_with("/tmp/edit.yaml: line 3 column 1: expected one"), "{err}");
    // A top-level list is one document per item, as kubectl takes it.
    let items: Vec<Parsed> = one("- a: 1\n- b: x\n").into_items();
    assert_eq!(items.len(), 2);
    assert_eq!(items[1].value, json!({"b": "x"}));
    assert_eq!(items[1].position(&["b"]), Some((2, 6)));
    assert_eq!(one("a: 1").into_items()[0].value, json!({"a": 1}));
}

#[test]
fn limits_are_enforced_with_their_numbers() {
    let limits = Limits { max_bytes: 64, max_depth: 3, max_documents: 2, max_alias_nodes: 10 };
    let cases = [
        (
            "a: ".to_string() + &"x".repeat(80),
            "the YAML text is 83 bytes, over the limit of 64 (0 MiB); split it into smaller files",
        ),
        ("a: {b: [c]}".into(), ""),
        ("a: {b: [[c]]}".into(), "line 1 column 9: nesting is deeper than 3 levels, the limit"),
        ("a:\n b:\n  c:\n   d: 1\n".into(), "line 4 column 4: nesting is deeper than 3 levels, the limit"),
        ("a: 1\n---\nb: 1\n".into(), ""),
        (
            "a: 1\n---\nb: 1\n---\nc: 1\n".into(),
            "line 4 column 1: more than 2 documents in one text, the limit",
        ),
    ];
    for (text, expected) in cases {
        match parse(&text, &limits) {
            Ok(_) => assert_eq!(expected, "", "{text:?} parsed"),
            Err(e) => assert_eq!(e.to_string(), expected, "{text:?}"),
        }
    }
    assert_eq!(DOCUMENT_LIMITS.max_bytes, 8 * 1024 * 1024);
    assert_eq!(PROFILE_LIMITS.max_bytes, 1024 * 1024);
    let nested = |depth: usize| format!("{}{}", "[".repeat(depth), "]".repeat(depth));
    assert!(parse(&nested(DOCUMENT_LIMITS.max_depth), &DOCUMENT_LIMITS).is_ok());
    let err = parse(&nested(DOCUMENT_LIMITS.max_depth + 1), &DOCUMENT_LIMITS).unwrap_err();
    assert!(err.to_string().contains("nesting is deeper than 100 levels"), "{err}");
    let big = format!("a: {}\n", "x".repeat(DOCUMENT_LIMITS.max_bytes));
    assert!(fails(&big).contains("over the limit of 8388608 (8 MiB)"));
}

/// Hostile shapes at 200 KB and 1 MB are refused (or read) in linear time. Prints the times (run
/// with --nocapture; scripts/bench-yaml measures a release build); asserts only the outcomes.
#[test]
fn hostile_inputs_end_early() {
    for size in [200_000, 1_000_000] {
        let shapes: Vec<(&str, String, &str)> = vec![
            ("[ nested", "[".repeat(size), "nesting is deeper than 100 levels"),
            ("{ nested", "{".repeat(size), "nesting is deeper than 100 levels"),
            ("{a: nested", "{a: ".repeat(size / 4), "nesting is deeper than 100 levels"),
            ("- nested", "- ".repeat(size / 2), "nesting is deeper than 100 levels"),
            ("? nested", "? ".repeat(size / 2), "a mapping key must be a string"),
            (
                "&a [ nested",
                (0..size / 8).map(|i| format!("&a{i} [")).collect(),
                "nesting is deeper than 100 levels",
            ),
            (
                "indented keys",
                (0..600).map(|i| format!("{}k:\n", " ".repeat(i))).collect(),
                "nesting is deeper than 100 levels",
            ),
            ("unclosed flow", format!("{{{}", "a ".repeat(size / 2)), "invalid YAML"),
            ("documents", "---\n".repeat(size / 4), "more than 1000 documents"),
        ];
        for (name, text, expected) in shapes {
            let started = Instant::now();
            let err = fails(&text);
            eprintln!("{name:>14} {:>8} bytes: refused in {:?}", text.len(), started.elapsed());
            assert!(err.contains(expected), "{name}: {err}");
        }
        if size > 200_000 {
            continue;
        }
        let flat = format!("[{}]", "a, ".repeat(size / 3));
        let started = Instant::now();
        let doc = one(&flat);
        eprintln!("{:>14} {:>8} bytes: read in {:?}", "flat list", flat.len(), started.elapsed());
        assert_eq!(doc.value.as_array().map(Vec::len), Some(size / 3));
    }
}

#[test]
fn typed_reading_names_path_and_position() {
    #[derive(serde::Deserialize, Debug)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Kind {
        resource: String,
        names: Option<Vec<String>>,
        #[serde(default)]
        replicas: u32,
    }
    #[derive(serde::Deserialize, Debug)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Top {
        kinds: BTreeMap<String, Kind>,
    }
    let read = |text: &str| deserialize::<Top>(&one(text)).map_err(|e| e.to_string());
    let good = read("kinds:\n  Deployment:\n    resource: deployments\n    names: [deploy]\n").unwrap();
    assert_eq!(good.kinds["Deployment"].names.as_deref(), Some(&["deploy".to_string()][..]));
    for (text, expected) in [
        (
            "kinds:\n  Deployment: {resource: d, bogus: 1}\n",
            "line 2 column 29: kinds.Deployment: unknown field `bogus`, expected one of `resource`, `names`, `replicas`",
        ),
        (
            "kinds:\n  Deployment: {names: []}\n",
            "line 2 column 15: kinds.Deployment: missing field `resource`",
        ),
        (
            "kinds:\n  Deployment:\n    resource: d\n    names: [a, 7]\n",
            "line 4 column 16: kinds.Deployment.names.1: invalid type: integer `7`, expected a string",
        ),
        (
            "kinds:\n  D:\n    resource: d\n    replicas: -1\n",
            "line 4 column 15: kinds.D.replicas: invalid value: integer `-1`, expected u32",
        ),
        ("kinds: []\n", "line 1 column 8: kinds: invalid type: sequence, expected a map"),
        ("other: 1\n", "line 1 column 1: unknown field `other`, expected `kinds`"),
    ] {
        assert_eq!(read(text).unwrap_err(), expected, "{text:?}");
    }
}

// ---------------------------------------------------------------------------------------------
// Output

/// YAML 1.1's implicit types as yaml.org/type/{bool,null,int,float,timestamp,merge,value}.html give
/// them, transcribed independently of the hand-written matchers above.
fn yaml11_oracle(s: &str) -> Option<&'static str> {
    use std::sync::OnceLock;
    static TYPES: OnceLock<Vec<(&'static str, regex::Regex)>> = OnceLock::new();
    let types = TYPES.get_or_init(|| {
        [
            ("boolean", r"y|Y|yes|Yes|YES|n|N|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF"),
            ("null", r"~|null|Null|NULL|"),
            (
                "integer",
                r"[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+|[-+]?[1-9][0-9_]*(:[0-5]?[0-9])+",
            ),
            (
                "float",
                r"[-+]?([0-9][0-9_]*)?\.[0-9.]*([eE][-+][0-9]+)?|[-+]?[0-9][0-9_]*(:[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(inf|Inf|INF)|\.(nan|NaN|NAN)",
            ),
            (
                "timestamp",
                r"[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]|[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?([Tt]|[ \t]+)[0-9][0-9]?:[0-9][0-9]:[0-9][0-9](\.[0-9]*)?(([ \t]*)Z|[-+][0-9][0-9]?(:[0-9][0-9])?)?",
            ),
            ("merge key", r"<<"),
            ("value key", r"="),
        ]
        .into_iter()
        .map(|(name, re)| (name, regex::Regex::new(&format!("^(?:{re})$")).unwrap()))
        .collect()
    });
    types.iter().find(|(_, re)| re.is_match(s)).map(|(name, _)| *name)
}

/// Every string of up to `len` characters over `alphabet`.
fn strings_over(alphabet: &[char], len: usize) -> Vec<String> {
    let mut all = vec![String::new()];
    let mut last = vec![String::new()];
    for _ in 0..len {
        last = last.iter().flat_map(|s| alphabet.iter().map(move |c| format!("{s}{c}"))).collect();
        all.extend(last.iter().cloned());
    }
    all
}

/// Text that YAML readers misread when unquoted, and text that must stay readable.
const AMBIGUOUS: &[&str] = &[
    "on",
    "On",
    "ON",
    "off",
    "no",
    "No",
    "NO",
    "yes",
    "Yes",
    "y",
    "Y",
    "n",
    "N",
    "true",
    "True",
    "FALSE",
    "null",
    "Null",
    "~",
    "",
    "012",
    "0x1F",
    "0o17",
    "0b101",
    "-0x1F",
    "1_000",
    "12:30:45",
    "1:20",
    "190:20:30.15",
    "1.10",
    "1e3",
    "1E+3",
    "1.0e+3",
    ".5",
    "5.",
    ".",
    "1.2.3",
    ".inf",
    "-.Inf",
    ".NaN",
    "nan",
    "2001-12-14",
    "2001-12-14t21:59:43.10-05:00",
    "2001-12-14 21:59:43.10 -5",
    "2024-01",
    "=",
    "<<",
    "+12",
    "-0",
    "00",
    "08",
    "0",
    "123",
    "3.14",
    "1__0",
    "0X1F",
    "0B11",
    "-0b1",
    "1_0.5",
    "+.5",
    "2024-1-2",
];

const ORDINARY: &[&str] = &[
    "nginx",
    "nginx:1.25",
    "100m",
    "64Mi",
    "25%",
    "a b",
    "a:b",
    "http://x/y?z=1#f",
    "ns/name",
    "-x",
    "?x",
    ":x",
    "x-",
    "emoji ✓",
    "日本語",
    "Name With Spaces",
    "0 3 * * *",
    "25cc1d71-7830-49f9-9f57-cdfbe04f7c57",
    "1a",
    "0x1p-2",
    "1-2",
    "v1.2",
    "_1",
];

const AWKWARD: &[&str] = &[
    "a: b",
    "a #b",
    "#x",
    "- x",
    "-",
    "? x",
    "x:",
    "---",
    "...",
    "--- x",
    " lead",
    "trail ",
    "it's",
    "\"q\"",
    "back\\slash",
    "tab\there",
    "bell\u{7}",
    "nel\u{85}x",
    "ls\u{2028}x",
    "bom\u{feff}",
    "del\u{7f}",
    "a\nb",
    "a\nb\n",
    "a\n\n",
    "\n",
    " lead\nx",
    "\nlead",
    "x \ny",
    "x\n y",
    "last \nline",
    "cr\r\nlf",
    "line1\n  indented\n\nafter blank\n",
    "%x",
    "@x",
    "`x",
    "!x",
    "&x",
    "*x",
    "|x",
    ">x",
    "'x",
    "{x}",
    "[x]",
    ",x",
];

fn all_samples<'a>() -> impl Iterator<Item = &'a str> {
    AMBIGUOUS.iter().chain(ORDINARY).chain(AWKWARD).map(|s| -> &'a str { s })
}

#[test]
fn hand_written_yaml11_matches_the_spec_regexes() {
    let alphabet = ['0', '1', '7', '9', '_', '.', ':', '-', '+', 'e', 'x', 'b', 'o', 'n', 'y', 'T', 'Z', ' '];
    let mut checked = 0;
    for s in strings_over(&alphabet, 4).iter().map(String::as_str).chain(all_samples()) {
        assert_eq!(yaml11_type(s), yaml11_oracle(s), "{s:?}");
        checked += 1;
    }
    for s in [
        "2001-12-14T21:59:43.10Z",
        "2001-1-4 1:59:43 +05:30",
        "2001-12-14t21:59:43.10-05:00",
        "2001-12-14 21:59:43",
        "2001-12-14  21:59:43.  Z",
        "2001-1-14",
        "2001-12-14T21:59:4",
        "2001-12-14T21:59:43+123",
        "1_0:59:59.5",
        "0x_",
        "+0b",
        "60:60",
    ] {
        assert_eq!(yaml11_type(s), yaml11_oracle(s), "{s:?}");
        checked += 1;
    }
    assert!(checked > 100_000, "{checked}");
}

/// What a YAML 1.1 reader makes of one emitted scalar: Some(type) only if it is plain and typed.
fn yaml11_reading_of_emitted(text: &str) -> Option<&'static str> {
    if text.starts_with(['\'', '"', '|']) { None } else { yaml11_oracle(text) }
}

#[test]
fn ambiguous_strings_are_quoted_and_read_back_as_strings() {
    let alphabet =
        ['0', '1', '8', '_', '.', ':', '-', '+', 'e', 'x', 'o', 'n', 'y', 'N', ' ', '~', '#', '\''];
    let generated = strings_over(&alphabet, 3);
    for s in generated.iter().map(String::as_str).chain(all_samples()) {
        let value = Value::String(s.to_string());
        // As a value, as a key, and inside a list: the same string comes back from this parser, from
        // libyaml (serde_yaml) and, for plain text, the YAML 1.1 type rules find no other type.
        let doc = json!({ s: s, "list": [s], "nested": { s: [ { s: s } ] } });
        let text = to_string(&doc);
        assert_eq!(one(&text).value, doc, "{s:?} through this parser:\n{text}");
        let libyaml: Value = serde_yaml::from_str(&text).unwrap_or_else(|e| panic!("{s:?}: {e}\n{text}"));
        assert_eq!(libyaml, doc, "{s:?} through libyaml:\n{text}");
        let scalar = to_string(&value);
        if !s.contains('\n') || scalar.starts_with('"') {
            let single = scalar.trim_end_matches('\n');
            assert_eq!(yaml11_reading_of_emitted(single), None, "{s:?} is written {single}");
            assert_eq!(
                yaml11_reading_of_emitted(&quoted_key(s)),
                None,
                "key {s:?} is written {}",
                quoted_key(s)
            );
        }
    }
    for s in AMBIGUOUS {
        let written = to_string(&json!(s));
        assert!(written.starts_with('\''), "{s:?} must be quoted: {written}");
    }
    for s in ORDINARY {
        assert_eq!(to_string(&json!(s)), format!("{s}\n"), "{s:?} stays plain");
    }
}

#[test]
fn numbers_and_other_scalars_keep_their_types() {
    let cases: &[(Value, &str)] = &[
        (json!(null), "null\n"),
        (json!(true), "true\n"),
        (json!(0), "0\n"),
        (json!(-7), "-7\n"),
        (json!(u64::MAX), "18446744073709551615\n"),
        (json!(1.5), "1.5\n"),
        (json!(2.0), "2.0\n"),
        (json!(1e20), "1.0e+20\n"),
        (json!(-1.25e-7), "-1.25e-7\n"),
        (json!({}), "{}\n"),
        (json!([]), "[]\n"),
    ];
    for (value, expected) in cases {
        let text = to_string(value);
        assert_eq!(&text, expected);
        assert_eq!(
            parse(&text, &DOCUMENT_LIMITS).unwrap().first().map(|d| &d.value).unwrap_or(&Value::Null),
            value
        );
        let scalar = text.trim_end();
        if value.is_number() {
            let kind = if value.is_f64() { "float" } else { "integer" };
            assert_eq!(yaml11_oracle(scalar), Some(kind), "{scalar} under YAML 1.1");
        }
    }
}

#[test]
fn layout_is_serde_yaml_s() {
    let value = json!({
        "kind": "Deployment",
        "containers": {
            "app": {
                "image": "nginx:1.25",
                "command": ["sh", "-c", "echo hi\nsleep 1\n"],
                "env": {"MODE": "prod", "EMPTY": "", "QUOTE": "it's", "URL": "http://x:80/#top"},
                "ports": [{"containerPort": 80, "name": "http"}, {"containerPort": 443}],
                "resources": {},
                "args": [],
            },
        },
        "matrix": [[1, 2], [], [{"a": null}], {}],
        "script": "line1\n  indented\n\nlast",
        "keep": "x\n\n",
        "clip": "x\n",
        "esc": "tab\there",
        "bools": [true, false],
        "unicode": "日本語 ✓",
        "a:b": "c",
        "-x": "?x",
    });
    let ours = to_string(&value);
    assert_eq!(ours, serde_yaml::to_string(&value).unwrap());
    assert_eq!(one(&ours).value, value);
    assert!(ours.contains("\nmatrix:\n- - 1\n  - 2\n- []\n- - a: null\n- {}\n"), "{ours}");
}

#[test]
fn where_output_differs_from_serde_yaml_it_only_adds_quotes() {
    for s in ["on", "no", "yes", "y", "off", "12:30:45", "1_000", "2001-12-14", "=", "<<", "Off"] {
        let value = json!({ "k": s, s: 1 });
        let ours = to_string(&value);
        let theirs = serde_yaml::to_string(&value).unwrap();
        assert_eq!(ours, format!("k: '{s}'\n'{s}': 1\n"));
        assert_eq!(ours.replace('\'', ""), theirs.replace('\'', ""), "{s}");
    }
}

#[test]
fn long_keys_are_written_explicitly() {
    let key = "k".repeat(1200);
    for value in
        [json!({ &key: "v" }), json!({ &key: {"a": 1} }), json!({ &key: [1, 2] }), json!([{ &key: [1] }])]
    {
        let text = to_string(&value);
        assert!(text.contains(&format!("? {key}\n")), "{text}");
        assert_eq!(one(&text).value, value);
        assert_eq!(serde_yaml::from_str::<Value>(&text).unwrap(), value);
    }
}

/// The round trip also holds for whole documents with every awkward string in every position.
#[test]
fn documents_round_trip() {
    let mut env = Map::new();
    for (i, s) in all_samples().enumerate() {
        env.insert(format!("V{i}"), json!(s));
        env.insert(s.to_string(), json!(i));
    }
    let doc = json!({"kind": "Deployment", "name": "web", "containers": {"app": {"env": env, "args": all_samples().collect::<Vec<_>>()}}});
    let text = to_string(&doc);
    assert_eq!(one(&text).value, doc);
    assert_eq!(serde_yaml::from_str::<Value>(&text).unwrap(), doc);
}

#[test]
fn comments_end_their_key_lines_and_read_as_nothing() {
    let value = json!({
        "kind": "Deployment",
        "containers": {"app": {"image": "nginx:1", "args": ["a", "b"], "env": {"A": "1"}, "resources": {}}},
        "script": "line 1\nline 2\n",
        "list": [{"name": "x"}],
        "quoted": "yes",
    });
    let comments: BTreeMap<Vec<String>, String> = [
        (vec!["containers", "app", "image"], "kubectl-oam-dev (Apply)"),
        (vec!["containers", "app", "args"], "helm (Update)"),
        (vec!["containers", "app", "env"], "a\nb"),
        (vec!["containers", "app", "resources"], "empty"),
        (vec!["script"], "block"),
        (vec!["quoted"], "q"),
        (vec!["list", "name"], "not in a list"),
        (vec!["absent"], "nothing to put it on"),
    ]
    .into_iter()
    .map(|(path, c)| (path.into_iter().map(String::from).collect(), c.to_string()))
    .collect();
    let text = to_string_with_comments(&value, &comments);
    assert_eq!(
        text,
        "\
kind: Deployment
containers:
  app:
    image: nginx:1  # kubectl-oam-dev (Apply)
    args:  # helm (Update)
    - a
    - b
    env:  # a b
      A: '1'
    resources: {}  # empty
script: |  # block
  line 1
  line 2
list:
- name: x
quoted: 'yes'  # q
"
    );
    assert_eq!(one(&text).value, value);
    // libyaml, which go-yaml (kubectl) is a port of, reads them as nothing too.
    assert_eq!(serde_yaml::from_str::<Value>(&text).unwrap(), value);
    assert_eq!(to_string_with_comments(&value, &BTreeMap::new()), to_string(&value));
}

#[test]
fn a_list_of_role_documents_is_read_as_its_items_and_a_kubernetes_list_is_not() {
    let text = "{\"apiVersion\": \"v1\", \"kind\": \"List\", \"items\": [\n  {\"kind\": \"Deployment\", \"name\": \"a\"},\n  {\"kind\": \"StatefulSet\", \"name\": \"b\"}\n]}\n";
    let docs: Vec<Parsed> =
        parse_documents(text, "t").unwrap().into_iter().flat_map(Parsed::into_items).collect();
    let names: Vec<&str> = docs.iter().map(|d| d.value["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["a", "b"]);
    assert_eq!(docs[1].position(&["name"]), Some((3, 35)), "positions stay those of the file");
    let manifests = "kind: List\nitems:\n- {kind: Deployment, metadata: {name: a}}\n";
    let docs: Vec<Parsed> =
        parse_documents(manifests, "t").unwrap().into_iter().flat_map(Parsed::into_items).collect();
    assert_eq!(docs.len(), 1, "a List of manifests stays one document, to be explained");
}

#[test]
fn a_value_that_cannot_be_read_is_never_repeated_in_the_message() {
    // It may be a Secret's (a PIN with a leading zero, a long numeric token).
    for (text, value) in [
        ("stringData:\n  pin: 0123456\n", "0123456"),
        ("stringData:\n  token: 123456789012345678901234567890\n", "123456789012345678901234567890"),
        ("stringData:\n  key: 9e99999\n", "9e99999"),
        ("stringData:\n  password: !!int hunter2\n", "hunter2"),
    ] {
        let err = fails(text);
        assert!(!err.contains(value), "{text:?}: {err}");
        assert!(err.contains("line 2 column"), "{text:?}: {err}");
    }
}
