use serde_json::json;

use super::*;

const WEB: &str = "kind: Deployment\nname: web\nnamespace: shop\ncontainers:\n  app:\n    image: a:1\n";

const DB: &str = "kind: StatefulSet\nname: db\nnamespace: shop\ncontainers:\n  db:\n    image: pg:16\n";

fn shown(kind: &str, name: &str, text: &str) -> Shown {
    let label = format!("{}.apps/{name}", kind.to_lowercase());
    Shown { kind: kind.into(), name: name.into(), namespace: "shop".into(), label, text: text.into() }
}

fn both() -> Vec<Shown> {
    vec![shown("Deployment", "web", WEB), shown("StatefulSet", "db", DB)]
}

/// What `read_stream` made of a text, in short: "empty", "problem: …", or per document
/// "OBJECT changed|same".
fn summary(objects: &[Shown], edited: &str) -> String {
    match read_stream(&Profile::builtin(), objects, edited) {
        Stream::Empty => "empty".into(),
        Stream::Problem(p) => format!("problem: {p}"),
        Stream::Documents(docs) => docs
            .iter()
            .map(|d| format!("{} {}", d.object, if d.changed { "changed" } else { "same" }))
            .collect::<Vec<_>>()
            .join(", "),
    }
}

#[test]
fn the_edited_stream_is_split_and_matched_to_its_objects() {
    let header = "# Please edit\n#\n";
    let web2 = WEB.replace("a:1", "a:2");
    let db2 = DB.replace("pg:16", "pg:17");
    let cases: Vec<(&str, Vec<Shown>, String, &str)> = vec![
        ("one object, unchanged", vec![shown("Deployment", "web", WEB)], format!("{header}{WEB}"), "0 same"),
        (
            "one object, a trailing comment line",
            vec![shown("Deployment", "web", WEB)],
            format!("{header}{WEB}  # mine\n"),
            "0 same",
        ),
        ("one object, changed", vec![shown("Deployment", "web", WEB)], web2.clone(), "0 changed"),
        ("only comments", both(), "# nothing\n\n".into(), "empty"),
        ("only separators and comments", both(), "---\n# x\n---\n".into(), "empty"),
        ("both, one changed", both(), format!("{header}{web2}---\n{DB}"), "0 changed, 1 same"),
        ("both changed, in another order", both(), format!("{db2}---\n{web2}"), "1 changed, 0 changed"),
        ("a document removed: that object is left alone", both(), db2.clone(), "1 changed"),
        ("a comment after the separator", both(), format!("{WEB}--- # next\n{db2}"), "0 same, 1 changed"),
        // Changed as text; planning then finds nothing to write.
        ("a kind by another name", both(), WEB.replace("kind: Deployment", "kind: deploy"), "0 changed"),
        ("no namespace is fine", both(), WEB.replace("namespace: shop\n", ""), "0 changed"),
        (
            "a name changed to another object",
            both(),
            format!("{}---\n{DB}", WEB.replace("name: web", "name: other")),
            "problem: the document at line 1 is for Deployment/other in namespace \"shop\", which is not being edited: kind, name and namespace say which object a document is for, so restore them (editing: deployment.apps/web, statefulset.apps/db); nothing was applied",
        ),
        (
            "a kind changed",
            both(),
            format!("{WEB}---\n{}", DB.replace("StatefulSet", "Deployment")),
            "problem: the document at line 8 is for Deployment/db in namespace \"shop\", which is not being edited",
        ),
        (
            "a namespace changed",
            both(),
            WEB.replace("namespace: shop", "namespace: prod"),
            "problem: the document at line 1 is for Deployment/web in namespace \"prod\"",
        ),
        (
            "no kind",
            both(),
            WEB.replace("kind: Deployment\n", ""),
            "problem: the document at line 1 is for ?/web",
        ),
        (
            "one object twice",
            both(),
            format!("{WEB}---\n{web2}"),
            "problem: deployment.apps/web has more than one document (the second at line 8); keep one; nothing was applied",
        ),
        (
            "invalid YAML, placed in the whole file",
            both(),
            format!("{header}{WEB}---\nkind: StatefulSet\nname: [\n"),
            "problem: the edited document: line 11 column",
        ),
        (
            "a list, not a mapping",
            both(),
            "- a\n".into(),
            "problem: the document at line 1 must be a mapping",
        ),
    ];
    for (what, objects, edited, expected) in cases {
        let got = summary(&objects, &edited);
        assert!(got.starts_with(expected), "{what}: {got}");
    }
}

#[test]
fn a_matched_document_keeps_its_text_and_positions() {
    let edited = format!("# header\n{WEB}---\n# about db\n{}", DB.replace("pg:16", "pg:17"));
    let Stream::Documents(docs) = read_stream(&Profile::builtin(), &both(), &edited) else { panic!() };
    assert_eq!(docs[0].text, WEB);
    assert_eq!(docs[1].text, DB.replace("pg:16", "pg:17"), "the comment above it is not the document's");
    assert_eq!(docs[1].parsed.position(&["containers", "db", "image"]), Some((15, 12)));
    assert_eq!(docs[1].parsed.value["containers"]["db"]["image"], "pg:17");
}

#[test]
fn streams_split_on_separator_lines_only() {
    let cases: Vec<(&str, Vec<(usize, &str)>)> = vec![
        ("a: 1\n", vec![(1, "a: 1\n")]),
        ("a: 1\n---\nb: 2\n", vec![(1, "a: 1\n"), (3, "b: 2\n")]),
        ("---\na: 1\n", vec![(1, ""), (2, "a: 1\n")]),
        ("a: 1\n--- # c\nb: '---'\n", vec![(1, "a: 1\n"), (3, "b: '---'\n")]),
        ("a: |\n  ---\n----\n", vec![(1, "a: |\n  ---\n----\n")]),
    ];
    for (text, expected) in cases {
        let got = split_stream(text);
        let got: Vec<(usize, &str)> = got.iter().map(|(l, t)| (*l, t.as_str())).collect();
        assert_eq!(got, expected, "{text:?}");
    }
    assert_eq!(join_documents(["a: 1", "b: 2\n"]), "a: 1\n---\nb: 2\n");
}

#[test]
fn saved_texts_carry_each_documents_base() {
    let p = Profile::builtin();
    let (web_base, db_base) = (json!({"v": "web"}), json!({"v": "db"}));
    let bases = [&web_base, &db_base];
    let cases = [
        // Matched by kind and name, whatever the order.
        (format!("{DB}---\n{WEB}"), vec!["v: db", "v: web"]),
        // Unparseable: by place, one document per object.
        (format!("{WEB}name: [\n---\n{DB}"), vec!["v: web", "v: db"]),
        // One unparseable of one left: no base is guessed.
        ("kind: [\n".to_string(), vec![]),
        // Unparseable, one document fewer than objects: by the kind and name it shows.
        (format!("{DB}oops: [\n"), vec!["v: db"]),
    ];
    for (text, expected) in cases {
        let out = with_bases(&p, &text, &both(), &bases);
        let found: Vec<&str> = out.lines().filter(|l| l.starts_with("  v: ")).map(str::trim).collect();
        assert_eq!(found, expected, "{out}");
        assert_eq!(out.matches("---\n").count(), split_stream(&text).len() - 1, "{out}");
    }
    // Two documents run together (their `---` deleted): a base beside each name, so that
    // putting the `---` back leaves each its own.
    let merged = with_bases(&p, &format!("{WEB}{DB}oops: [\n"), &both(), &bases);
    assert!(
        merged.contains("name: web\nbase: {\"v\":\"web\"}\n")
            && merged.contains("name: db\nbase: {\"v\":\"db\"}\n"),
        "{merged}"
    );
    // A parsed document that names an object outside the edit gets no base of another.
    let renamed =
        with_bases(&p, &format!("{}---\n{DB}", WEB.replace("name: web", "name: other")), &both(), &bases);
    assert!(!renamed.contains("v: web") && renamed.contains("v: db"), "{renamed}");
    let kept = with_base(&format!("{WEB}base:\n  v: mine\n"), &web_base);
    assert!(!kept.contains("v: web"), "a base the user wrote is kept: {kept}");
}

#[test]
fn documents_are_checked_before_planning() {
    let p = Profile::builtin();
    let deploy = p.kind("deploy").unwrap();
    let original = json!({"kind": "Deployment", "name": "web", "base": {"resourceVersion": "7"},
                          "readOnly": {"selector": {"app": "web"}}});
    let check = |text: &str| {
        let parsed = crate::format::yaml::parse_document(text, "t").unwrap();
        check_document(&p, RoleName::Ops, deploy, &original, &parsed)
    };
    let doc = check("kind: Deployment\nname: web\nscaler:\n  replicas: 3\n").unwrap();
    assert_eq!(doc["base"], json!({"resourceVersion": "7"}), "the base goes back in");
    let cases = [
        (
            "kind: Deployment\nname: web\nreadOnly:\n  selector:\n    app: x\n",
            "readOnly.selector: shown for context",
        ),
        ("kind: Deployment\nname: web\nstatus:\n  ready: 1/1\n", "status: shown for context"),
        ("kind: Deployment\nname: web\nmetadata:\n  labels:\n    on: yes\n", "metadata.labels.on"),
        (
            "kind: Deployment\nname: web\nscaler:\n  replicas: 12:30:45\n",
            "line 4 column 13: scaler.replicas: kubectl and other YAML 1.1 readers take `12:30:45` for an integer;",
        ),
        ("kind: Deployment\nname: web\nmetadata:\n  labels:\n    a: off\n", "take `off` for a boolean;"),
    ];
    for (text, expected) in cases {
        let err = check(text).unwrap_err();
        let parsed = crate::format::yaml::parse_document(text, "t").unwrap();
        let lines = reasons(&located(err, &parsed));
        assert!(lines.iter().any(|l| l.contains(expected)), "{text}: {lines:?}");
    }
}

#[test]
fn errors_a_text_can_fix_reopen_the_editor() {
    assert!(reopens(&Error::Invalid("x".into())));
    assert!(reopens(&Error::Stale {
        object: "o".into(),
        reread: "kubectl oam dev get t -n shop".into(),
        fields: vec![]
    }));
    assert!(reopens(&Error::Conflict { object: "o".into(), conflicts: vec![], hint: String::new() }));
    let gone = Error::NotFound { kind: "Deployment".into(), name: "web".into(), namespace: "shop".into() };
    assert!(!reopens(&gone), "deleted meanwhile: named, never re-created");
    assert!(!reopens(&Error::Forbidden { message: "no".into() }));
}

#[test]
fn read_only_changes_are_refused_in_the_editor_but_deleting_is_fine() {
    let original = json!({"kind": "Deployment", "readOnly": {"selector": {"app": "web"}}});
    let reason = |f: &str| (f == "selector").then(|| "pods are matched by it".to_string());
    assert_eq!(read_only_changed(&original, &json!({"kind": "Deployment"}), reason), None);
    assert_eq!(read_only_changed(&original, &original, reason), None);
    let changed = json!({"kind": "Deployment", "readOnly": {"selector": {"app": "x"}}});
    assert_eq!(
        read_only_changed(&original, &changed, reason).unwrap(),
        "readOnly.selector: shown for context and never written (pods are matched by it); restore it or delete the readOnly section"
    );
}

#[test]
fn the_users_part_is_kept_without_our_header() {
    let text = format!("# header\n# * an error\n#\n{WEB}# user comment\n");
    assert_eq!(user_part(&text), format!("{WEB}# user comment\n"));
}

#[test]
fn header_lists_errors_owners_and_the_other_role() {
    let p = Profile::builtin();
    let target = Target { kind: p.kind("deploy").unwrap(), name: "web".into(), namespace: "shop".into() };
    let notes = Notes {
        owners: vec!["containers.app.image: helm".into()],
        available: vec!["containers.NAME.image".into()],
        read_only: vec!["readOnly.selector: immutable".into()],
    };
    let text = header(
        RoleName::Dev,
        "kubectl-oam-dev",
        &[(&target, &notes)],
        &["containers.app.bogus: not a dev field".into(), "the server said:\n  two lines".into()],
    );
    assert!(text.starts_with("# The edit could not be applied"));
    assert!(text.contains("# * containers.app.bogus: not a dev field\n"));
    assert!(text.contains("# * the server said: two lines\n"));
    assert!(text.contains("# Please edit the dev document below."));
    assert!(text.contains("`kubectl oam ops edit deployment.apps/web -n shop`"));
    assert!(text.contains("#   containers.app.image: helm\n"));
    assert!(text.contains("# Read-only: readOnly.selector: immutable\n"));
    assert!(text.lines().all(|l| l.starts_with('#')), "every header line is a comment");

    let db = Target { kind: p.kind("sts").unwrap(), name: "db".into(), namespace: "shop".into() };
    let web2 = Target { name: "web2".into(), ..target.clone() };
    let text = header(
        RoleName::Dev,
        "kubectl-oam-dev",
        &[(&target, &notes), (&web2, &notes), (&db, &Notes::default())],
        &[],
    );
    assert!(text.starts_with("# Please edit the dev documents below, one per object"), "{text}");
    assert!(text.contains("Deleting an\n# object's document leaves that object as it is"), "{text}");
    assert_eq!(text.matches("# Fields of this role for Deployment").count(), 1, "once per kind: {text}");
    assert!(
        text.contains("# deployment.apps/web2:\n#   Read-only: readOnly.selector: immutable\n"),
        "{text}"
    );
    assert!(text.contains("#   Current owners:\n#     containers.app.image: helm\n"), "{text}");
    assert!(!text.contains("statefulset.apps/db:"), "nothing to say about db: {text}");
    assert!(text.lines().all(|l| l.starts_with('#')), "every header line is a comment");
}

#[test]
fn several_failures_are_one_line_naming_each_object() {
    let err = Error::NotApplied(vec![
        ("deployment.apps/a".into(), Error::Usage("not applied: you declined".into())),
        (
            "deployment.apps/b".into(),
            Error::NotFound { kind: "Deployment".into(), name: "b".into(), namespace: "shop".into() },
        ),
        ("deployment.apps/c".into(), Error::Invalid("deployment.apps/c in namespace \"shop\": bad".into())),
    ]);
    assert_eq!(
        err.to_string(),
        "3 edited objects were not applied: (1) deployment.apps/a: not applied: you declined; \
         (2) deployment.apps/b: Deployment \"b\" not found in namespace \"shop\"; check the name, or pass -n NAMESPACE; \
         (3) deployment.apps/c in namespace \"shop\": bad"
    );
    assert_eq!(listed(&["a".into(), "b".into(), "c".into()]), "a, b and c");
    assert!(crate::error::names("x deployment.apps/web in y", "deployment.apps/web"));
    assert!(!crate::error::names("x deployment.apps/web2 in y", "deployment.apps/web"));
}

#[test]
fn problems_are_placed_in_the_text_that_shows_them() {
    let text = "kind: Deployment\nname: web\nscaler:\n  replicas: 1e10\n";
    let problem = || {
        Error::Problems(vec![crate::error::Problem::at(
            &["scaler".to_string(), "replicas".to_string()],
            "scaler.replicas: out of range".into(),
        )])
    };
    assert_eq!(reasons(&located_at(problem(), text, 1)), ["line 4 column 13: scaler.replicas: out of range"]);
    // Below a header of 9 lines, say.
    assert_eq!(
        reasons(&located_at(problem(), text, 10)),
        ["line 13 column 13: scaler.replicas: out of range"]
    );
    let other = located_at(Error::Invalid("the server said no".into()), text, 10);
    assert_eq!(reasons(&other), ["the server said no"]);
}
