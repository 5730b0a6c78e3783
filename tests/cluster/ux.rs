//! kubectl habits on the real server: prompts, several inputs, errors that name what to do.

use crate::harness::{Ns, web_deployment};
use crate::writes::{Editor, saved_path};

#[test]
fn an_editor_saving_the_same_refused_text_again_ends_the_edit() {
    let ns = Ns::new("ux-edit-gives-up");
    ns.create(&web_deployment("web"));
    // Changes the read-only selector; on the second opening the text is already changed, so the
    // editor saves the same refused text again.
    let editor = Editor::new(&ns, "sed -i '/^readOnly:/,$ s/app: web/app: other/' \"$1\"");
    let run = ns.oam_with(&["ops", "edit", "deploy/web", "--yes"], "", &[("KUBE_EDITOR", &editor.command())]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("readOnly.selector: shown for context"), "{}", run.stderr);
    assert_eq!(editor.openings(), 2, "reopened once with the reason, then given up");
    let kept = std::fs::read_to_string(saved_path(&run.stderr)).unwrap();
    assert!(kept.contains("app: other"), "the text is saved: {kept}");
}

/// The line a reopened editor's reason names (`# * line N column M: …what…`), and that line of the
/// text shown.
fn named_line<'a>(shown: &'a str, what: &str) -> (usize, &'a str) {
    let reason = shown
        .lines()
        .find(|l| l.starts_with("# * ") && l.contains(what))
        .unwrap_or_else(|| panic!("{what}: {shown}"));
    let number = reason.split("line ").nth(1).and_then(|r| r.split(' ').next()).unwrap();
    let number: usize = number.parse().unwrap();
    (number, shown.lines().nth(number - 1).unwrap_or_default())
}

#[test]
fn a_reopened_editor_numbers_its_own_lines_and_reopens_at_most_ten_times() {
    let ns = Ns::new("ux-edit-reopen-lines");
    ns.create(&web_deployment("web"));
    // 1: two bad values (two reasons on top of the next text); 2: they are fixed, and `name:` given
    // twice (one reason); 3 and on: a different bad quantity every time, as a script does.
    let editor = Editor::new(
        &ns,
        r#"case $n in
  1) sed -i -e 's/cpu: 100m/cpu: lots1/' -e 's/      MODE: prod/      MODE: 1.10/' "$1" ;;
  2) sed -i -e 's/cpu: lots1/cpu: 100m/' -e "s/      MODE: 1.10/      MODE: 'prod'/" -e 's/^name: web$/name: web\nname: web2/' "$1" ;;
  *) sed -i -e '/^name: web2$/d' -e "s/cpu: [a-z0-9]*$/cpu: lots$n/" "$1" ;;
esac"#,
    );
    let run = ns.oam_with(&["dev", "edit", "deploy/web", "--yes"], "", &[("KUBE_EDITOR", &editor.command())]);
    assert_eq!(run.code, 2, "{run:?}");
    assert_eq!(editor.openings(), 11, "reopened ten times, then given up: {run:?}");
    let second = editor.seen(2);
    assert_eq!(named_line(&second, "resources.requests.cpu").1, "        cpu: lots1", "{second}");
    assert_eq!(named_line(&second, "env.MODE").1, "      MODE: 1.10", "{second}");
    let third = editor.seen(3);
    let (at, line) = named_line(&third, "duplicate key");
    assert_eq!(line, "name: web2", "{third}");
    assert!(
        third.contains(&format!("line {at} column 1: duplicate key \"name\" (first at line {}", at - 1)),
        "{third}"
    );
    assert_eq!(third.lines().nth(at - 2), Some("name: web"), "{third}");
    let last = editor.seen(11);
    assert_eq!(named_line(&last, "resources.requests.cpu").1, "        cpu: lots10", "{last}");
    let err = run.error();
    assert!(
        err.contains("containers.app.resources.requests.cpu: \"lots11\" is not a quantity")
            && err.contains(
                "the editor was reopened 10 times and the text still cannot be applied, so the edit ends here"
            ),
        "{err}"
    );
    let saved = saved_path(&err);
    assert!(std::fs::read_to_string(&saved).unwrap().contains("cpu: lots11"));
    assert_eq!(
        crate::writes::container(&ns.get_json("deploy/web"), "app")["resources"]["requests"]["cpu"],
        "100m"
    );
    let _ = std::fs::remove_dir_all(saved.parent().unwrap());
}

#[test]
fn apply_refuses_a_changed_read_only_section_as_edit_does() {
    let ns = Ns::new("ux-apply-read-only");
    ns.create(&web_deployment("web"));
    let doc = ns.oam(&["ops", "get", "deploy/web"]).ok().stdout;
    let (head, tail) = doc.split_at(doc.find("\nreadOnly:\n").unwrap());
    let changed = format!("{head}{}", tail.replacen("app: web", "app: other", 1));
    assert_ne!(changed, doc);
    for verb in ["apply", "diff"] {
        let err = ns.oam_with(&["ops", verb, "-f", "-"], &changed, &[]).error();
        assert!(
            err.starts_with(&format!("error: stdin: deployment.apps/web in namespace \"{}\": line ", ns.name))
                && err.contains(": readOnly.selector: shown for context and never written (immutable: pods are matched by it; changing it needs a new workload); restore it or delete the readOnly section"),
            "{verb}: {err}"
        );
    }
    // As read, or without the section, it applies (unchanged).
    let out = ns.oam_with(&["ops", "apply", "-f", "-"], &doc, &[]).ok().stdout;
    assert_eq!(out, "deployment.apps/web unchanged\n");
    let without = format!("{head}\n{}", &tail[tail.find("\nbase:").unwrap() + 1..]);
    assert!(!without.contains("readOnly"), "{without}");
    ns.oam_with(&["ops", "apply", "-f", "-"], &without, &[]).ok();
}

#[test]
fn edit_buffers_and_saved_edits_only_their_user_may_read() {
    use std::os::unix::fs::PermissionsExt;
    let ns = Ns::new("ux-edit-private");
    ns.create(&web_deployment("web"));
    // Records the modes of the buffer and its folder at each opening, then makes a refused change
    // (reopened once, then given up and saved).
    let editor = Editor::new(
        &ns,
        "stat -c '%a' \"$1\" \"$(dirname \"$1\")\" > $S/modes-$n\necho \"$1\" > $S/buffer\n\
         sed -i '/^readOnly:/,$ s/app: web/app: other/' \"$1\"",
    );
    let run = ns.oam_with(&["ops", "edit", "deploy/web", "--yes"], "", &[("KUBE_EDITOR", &editor.command())]);
    assert_eq!(run.code, 2, "{run:?}");
    assert_eq!(editor.openings(), 2, "{run:?}");
    for n in 1..=2 {
        assert_eq!(
            editor.file(&format!("modes-{n}")),
            "600\n700\n",
            "opening {n}: buffer 0600 in a 0700 folder"
        );
    }
    let buffer = std::path::PathBuf::from(editor.file("buffer").trim());
    assert!(
        !buffer.exists() && !buffer.parent().unwrap().exists(),
        "the buffer is removed: {}",
        buffer.display()
    );
    let saved = saved_path(&run.stderr);
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!((mode(&saved), mode(saved.parent().unwrap())), (0o600, 0o700), "{}", saved.display());
    assert!(std::fs::read_to_string(&saved).unwrap().contains("app: other"));
    let _ = std::fs::remove_dir_all(saved.parent().unwrap());
}

#[test]
fn diff_shows_what_a_take_over_would_do_before_the_conflict() {
    let ns = Ns::new("ux-diff-conflict");
    ns.create(&web_deployment("web"));
    let doc = ns.oam(&["dev", "get", "deploy/web"]).ok().stdout.replace("nginx:1.25", "nginx:1.29");
    let run = ns.oam_with(&["dev", "diff", "-f", "-"], &doc, &[]);
    assert_eq!(run.code, 2, "a conflict is an error: {run:?}");
    assert!(run.stdout.contains("+    image: nginx:1.29"), "the diff is shown: {}", run.stdout);
    assert!(
        run.stderr.contains("containers.app.image (held by \"kubectl-client-side-apply\")"),
        "{}",
        run.stderr
    );
    let forced = ns.oam_with(&["dev", "diff", "-f", "-", "--force-conflicts"], &doc, &[]);
    assert_eq!(forced.code, 1, "{forced:?}");
}

#[test]
fn type_name_works_wherever_type_slash_name_does() {
    let ns = Ns::new("ux-type-name");
    ns.create(&web_deployment("web"));
    ns.create(&web_deployment("api"));
    ns.oam(&["ops", "scale", "deploy", "web", "--replicas", "3", "--force-conflicts"]).ok();
    assert_eq!(ns.get_json("deploy/web")["spec"]["replicas"], 3);
    ns.oam(&["dev", "set", "image", "deploy", "web", "app=nginx:1.27", "--force-conflicts"]).ok();
    assert_eq!(crate::writes::container(&ns.get_json("deploy/web"), "app")["image"], "nginx:1.27");
    ns.oam(&["dev", "set", "env", "deploy", "web", "-c", "proxy", "LEVEL=debug"]).ok();
    assert_eq!(
        crate::writes::env_value(&ns.get_json("deploy/web"), "proxy", "LEVEL").as_deref(),
        Some("debug")
    );
    let err = ns.oam(&["dev", "set", "image", "deploy", "web"]).error();
    assert!(err.contains("give CONTAINER=IMAGE after deployment.apps/web"), "{err}");

    // Several objects, as kubectl takes them: a YAML stream, or a JSON List.
    let both = ns.oam(&["dev", "get", "deploy", "web", "api"]).ok().stdout;
    let docs: Vec<&str> = both.split("---\n").collect();
    assert_eq!(docs.len(), 2, "{both}");
    assert!(
        docs[0].starts_with("kind: Deployment\nname: web\n")
            && docs[1].starts_with("kind: Deployment\nname: api\n"),
        "{both}"
    );
    let list =
        crate::writes::yaml(&ns.oam(&["ops", "get", "deploy/api", "deploy/web", "-o", "json"]).ok().stdout);
    assert_eq!(list["kind"], "List");
    let names: Vec<&str> =
        list["items"].as_array().unwrap().iter().map(|d| d["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["api", "web"]);
    let err = ns.oam(&["dev", "get", "deploy/web", "nope/x"]).error();
    assert!(err.starts_with("error: ") && err.contains("nope"), "{err}");
}

#[test]
fn apply_and_diff_take_several_files_directories_and_stdin() {
    let ns = Ns::new("ux-inputs");
    ns.create(&web_deployment("web"));
    ns.create(&web_deployment("api"));
    let dir = std::env::temp_dir().join(format!("oam-inputs-{}", ns.name));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("nested")).unwrap();
    let doc = |name: &str, var: &str| {
        ns.oam(&["dev", "get", &format!("deploy/{name}")])
            .ok()
            .stdout
            .replace("      MODE: prod\n", &format!("      MODE: prod\n      {var}: '1'\n"))
    };
    std::fs::write(dir.join("web.yaml"), doc("web", "FROM_DIR")).unwrap();
    std::fs::write(dir.join("nested/api.yaml"), doc("api", "FROM_NESTED")).unwrap();
    let top = dir.to_str().unwrap();

    let diff = ns.oam(&["dev", "diff", "-f", top]);
    assert_eq!(diff.code, 1, "{diff:?}");
    assert!(
        diff.stdout.contains("+      FROM_DIR: '1'") && !diff.stdout.contains("FROM_NESTED"),
        "{}",
        diff.stdout
    );
    let diff = ns.oam(&["dev", "diff", "-R", "-f", top]);
    assert!(diff.stdout.contains("FROM_DIR") && diff.stdout.contains("FROM_NESTED"), "{}", diff.stdout);

    // -f repeated, one of them stdin.
    let nested = dir.join("nested/api.yaml");
    let run = ns
        .oam_with(
            &["dev", "apply", "-f", nested.to_str().unwrap(), "-f", "-"],
            &doc("web", "FROM_STDIN"),
            &[],
        )
        .ok();
    assert_eq!(run.stdout, "deployment.apps/api configured\ndeployment.apps/web configured\n", "{run:?}");
    assert_eq!(
        crate::writes::env_value(&ns.get_json("deploy/api"), "app", "FROM_NESTED").as_deref(),
        Some("1")
    );
    assert_eq!(
        crate::writes::env_value(&ns.get_json("deploy/web"), "app", "FROM_STDIN").as_deref(),
        Some("1")
    );

    // The same object in two files is one mistake, found before anything is written.
    let err = ns.oam(&["dev", "apply", "-R", "-f", top, "-f", nested.to_str().unwrap()]).error();
    assert!(err.contains("deployment.apps/api") && err.contains("appears twice"), "{err}");

    // A whole manifest is recognised and shown the way to the role document.
    let manifest = ns.kubectl(&["get", "deploy/web", "-o", "yaml"]).stdout;
    let err = ns.oam_with(&["ops", "apply", "-f", "-"], &manifest, &[]).error();
    assert!(
        err.starts_with("error: stdin: this is a full Kubernetes manifest")
            && err.contains(&format!(
                "`kubectl oam ops get deployment.apps/web -n {}` prints the role document",
                ns.name
            )),
        "{err}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn errors_name_the_way_out() {
    let ns = Ns::new("ux-errors");
    let err = ns.oam(&["dev", "get", "deploy", "--context", "nope"]).error();
    assert!(err.contains("no context \"nope\"; it has \"admin\"") && err.contains("\"ops\""), "{err}");
    // clap's "did you mean" stays on the one line.
    let err = ns.oam(&["ops", "scale", "deploy/web", "--replica", "3"]).error();
    assert!(err.contains("a similar argument exists: '--replicas'"), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    // An unknown subcommand points at the help of the command it was given to.
    let err = ns.oam(&["frobnicate", "dev", "get"]).error();
    assert!(err.ends_with("unrecognized subcommand 'frobnicate'; see `kubectl oam --help`"), "{err}");
    let err = ns.oam(&["--context", "dev", "frobnicate"]).error();
    assert!(err.ends_with("see `kubectl oam --help`"), "a flag's value is no subcommand: {err}");
    let err = ns.oam(&["dev", "frobnicate"]).error();
    assert!(err.ends_with("see `kubectl oam dev --help`"), "{err}");
    // An image where CONTAINER=IMAGE belongs is told so, however the object was named.
    for named in [&["deploy/web"][..], &["deploy", "web"]] {
        let args: Vec<&str> =
            ["dev", "set", "image"].iter().chain(named).chain(&["nginx:2"]).copied().collect();
        let err = ns.oam(&args).error();
        assert_eq!(
            err,
            format!(
                "error: \"nginx:2\" is not CONTAINER=IMAGE (for deployment.apps/web in namespace \"{}\"); name the container: CONTAINER=nginx:2, or *=nginx:2 for every container",
                ns.name
            ),
            "{args:?}"
        );
    }
    // Values in a document: a quantity the server cannot read, named; a count too large, out of range.
    ns.create(&web_deployment("web"));
    let doc = ns.oam(&["dev", "get", "deploy/web"]).ok().stdout;
    assert!(doc.contains("cpu: 100m"), "{doc}");
    let err = ns
        .oam_with(&["dev", "apply", "-f", "-"], &doc.replace("cpu: 100m", "cpu: not-a-quantity"), &[])
        .error();
    assert!(
        err.contains(": containers.app.resources.requests.cpu: \"not-a-quantity\" is not a quantity; write a number with an optional unit"),
        "{err}"
    );
    let ops = ns.oam(&["ops", "get", "deploy/web"]).ok().stdout;
    let err =
        ns.oam_with(&["ops", "apply", "-f", "-"], &ops.replace("replicas: 2", "replicas: 1e10"), &[]).error();
    assert!(err.ends_with("scaler.replicas: 10000000000 is out of range (at most 2147483647)"), "{err}");
    let err = ns
        .oam_with(&["ops", "apply", "-f", "-"], &ops.replace("replicas: 2", "replicas: 12:30:45"), &[])
        .error();
    assert!(err.contains("take `12:30:45` for an integer"), "{err}");
    // A refusal names the object, its namespace and what can be scaled.
    ns.kubectl(&["create", "cronjob", "nightly", "--image=busybox", "--schedule=0 3 * * *"]).ok();
    let err = ns.oam(&["ops", "scale", "cj", "nightly", "--replicas", "2"]).error();
    assert!(
        err.starts_with(&format!(
            "error: cronjob.batch/nightly in namespace \"{}\" cannot be scaled: a CronJob has no replica count",
            ns.name
        )) && err.contains("Deployment"),
        "{err}"
    );
}

#[test]
fn roles_says_where_the_profile_came_from_and_refresh_reads_it_again() {
    let ns = Ns::new("ux-roles-origin");
    let profile = std::fs::read_to_string(crate::harness::repo().join("src/model/profile.yaml")).unwrap();
    let configmap = |text: &str| {
        serde_json::json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "team"},
                           "data": {"profile.yaml": text}})
        .to_string()
    };
    ns.kubectl_stdin(&["apply", "-f", "-"], &configmap(&profile)).ok();
    let source = format!("{}/team", ns.name);
    let first = ns.oam(&["roles", "--profile-configmap", &source]).ok().stdout;
    assert!(first.starts_with(&format!("Role profile: configmap {source} (read just now)\n")), "{first}");

    // Changed on the cluster: the cached copy is shown, and says so, until --refresh.
    let renamed = profile.replace("manager: kubectl-oam-ops", "manager: team-ops");
    assert_ne!(renamed, profile);
    ns.kubectl_stdin(&["apply", "-f", "-"], &configmap(&renamed)).ok();
    let cached = ns.oam(&["roles", "--profile-configmap", &source]).ok().stdout;
    assert!(cached.contains("kubectl-oam-ops") && !cached.contains("team-ops"), "{cached}");
    let line = cached.lines().next().unwrap();
    assert!(
        line.contains("read just now") || line.contains("ago; re-read after 5m, or now with --refresh"),
        "{line}"
    );
    let fresh = ns.oam(&["roles", "--profile-configmap", &source, "--refresh"]).ok().stdout;
    assert!(fresh.starts_with(&format!("Role profile: configmap {source} (read just now)\n")), "{fresh}");
    assert!(fresh.contains("team-ops"), "{fresh}");

    // No profile on the cluster, or none this user may read: the built-in one, quietly; -v says why.
    ns.create(&web_deployment("web"));
    let absent = format!("{}/absent", ns.name);
    let quiet = ns.oam(&["dev", "get", "deploy/web", "--profile-configmap", &absent]).ok();
    assert_eq!(quiet.stderr, "", "{quiet:?}");
    let told = ns.oam(&["dev", "get", "deploy/web", "--profile-configmap", &absent, "-v", "1"]).ok();
    assert!(
        told.stderr.starts_with(&format!("role profile: built-in (configmap {absent} not found; "))
            && told.stderr.lines().count() == 1,
        "{told:?}"
    );
    let forbidden = ns
        .oam(&["dev", "get", "deploy/web", "--context", "dev", "--profile-configmap", "kube-system/team"])
        .ok();
    assert_eq!(forbidden.stderr, "", "{forbidden:?}");
    let roles = ns.oam(&["roles", "--context", "dev", "--profile-configmap", "kube-system/team"]).ok().stdout;
    assert!(
        roles.starts_with(
            "Role profile: built-in (configmap kube-system/team may not be read by this user (403 Forbidden);"
        ),
        "{roles}"
    );
}

#[test]
fn completion_offers_containers_label_keys_contexts_and_files() {
    let ns = Ns::new("ux-completion");
    ns.create(&web_deployment("web"));
    // The partial word is the last one, so the harness (which appends -n) is not used here.
    let complete = |words: &[&str]| ns.complete(words);
    let with = |rest: &[&str]| -> Vec<String> {
        ["-n", ns.name.as_str()].iter().chain(rest).map(|s| s.to_string()).collect()
    };
    let complete_in = |rest: &[&str]| {
        let words = with(rest);
        complete(&words.iter().map(String::as_str).collect::<Vec<_>>())
    };
    assert_eq!(complete_in(&["dev", "set", "env", "deploy", "web", "-c", ""]), ["app", "proxy", ":4"]);
    assert_eq!(complete_in(&["dev", "get", "deploy/web", "-c", "p"]), ["proxy", ":4"]);
    assert_eq!(complete_in(&["dev", "list", "-l", ""]), ["app=", ":6"]);
    assert_eq!(complete(&["--context", "o"]), ["ops", ":4"]);
    assert_eq!(complete(&["dev", "apply", "-f", ""]), [":0"], "the shell completes file names");
}

#[test]
fn explain_gives_the_servers_description_the_role_the_trait_and_the_owners() {
    let ns = Ns::new("ux-explain");
    ns.create(&web_deployment("web"));
    let text = ns.oam(&["explain", "dev.containers.env"]).ok().stdout;
    assert!(text.starts_with("FIELD:       dev.containers.NAME.env\n"), "{text}");
    assert!(text.contains("ROLE:        dev (field manager \"kubectl-oam-dev\")"), "{text}");
    assert!(text.contains("TRAIT:       containers"), "{text}");
    assert!(text.contains("PATH:        spec.template.spec.containers[*].env (in a Deployment)"), "{text}");
    // From the server's OpenAPI v3 document (the Container schema's own words).
    assert!(
        text.contains("DESCRIPTION:\n    List of environment variables to set in the container."),
        "{text}"
    );
    assert!(!text.contains("OWNERS"), "no object, no owners: {text}");

    ns.oam(&["ops", "scale", "deploy/web", "--replicas", "3", "--force-conflicts"]).ok();
    let text = ns.oam(&["explain", "ops.scaler.replicas", "deploy", "web"]).ok().stdout;
    assert!(text.contains("Number of desired pods."), "{text}");
    assert!(
        text.ends_with(&format!(
            "OWNERS on deployment.apps/web in namespace \"{}\":\n    scaler.replicas: kubectl-oam-ops (Apply)\n",
            ns.name
        )),
        "{text}"
    );
    let text = ns.oam(&["explain", "dev.containers.proxy.image", "deploy/web"]).ok().stdout;
    assert!(text.ends_with("    containers.proxy.image: kubectl-client-side-apply (Update)\n"), "{text}");

    let err = ns.oam(&["explain", "dev.scaler.replicas"]).error();
    assert!(err.contains("it is an ops field: ops.scaler.replicas"), "{err}");
    let err = ns.oam(&["explain", "ops.schedule.schedule", "deploy/web"]).error();
    assert!(err.contains("deployment.apps/web in namespace") && err.contains("a field of CronJob"), "{err}");
}

/// `get` takes kubectl's output forms: a JSONPath template prints what kubectl prints for the same
/// values (addressed in the role document), `-o name` as kubectl, `-o wide` the list's table.
#[test]
fn get_prints_jsonpath_names_and_wide_tables_as_kubectl_does() {
    let ns = Ns::new("ux-get-output");
    ns.create(&web_deployment("web"));
    ns.create(&web_deployment("api"));
    let oam = |args: &[&str]| ns.oam(args).ok().stdout;
    let kubectl = |args: &[&str]| ns.kubectl(args).ok().stdout;

    // The same values, addressed in the role document and in the object.
    for (role, ours, theirs) in [
        ("dev", "{.containers.app.image}", "{.spec.template.spec.containers[?(@.name==\"app\")].image}"),
        (
            "dev",
            "{.containers.app.env.MODE}",
            "{.spec.template.spec.containers[0].env[?(@.name==\"MODE\")].value}",
        ),
        ("dev", "{.name}{\"\\t\"}{.kind}{\"\\n\"}", "{.metadata.name}{\"\\t\"}{.kind}{\"\\n\"}"),
        ("ops", "{.scaler.replicas}", "{.spec.replicas}"),
        ("ops", "{.metadata.labels}", "{.metadata.labels}"),
        ("ops", "{.readOnly.selector}", "{.spec.selector.matchLabels}"),
    ] {
        let got = oam(&[role, "get", "deploy/web", "-o", &format!("jsonpath={ours}")]);
        let expected = kubectl(&["get", "deploy/web", "-o", &format!("jsonpath={theirs}")]);
        assert!(!got.is_empty(), "{role} {ours} prints something");
        assert_eq!(got, expected, "{role} {ours} vs kubectl's {theirs}");
    }
    // Several objects: the template applies to a List of their documents, as kubectl's does.
    for (role, ours, theirs) in [
        (
            "ops",
            "{range .items[*]}{.name}={.scaler.replicas}{\"\\n\"}{end}",
            "{range .items[*]}{.metadata.name}={.spec.replicas}{\"\\n\"}{end}",
        ),
        ("dev", "{.items[*].containers.proxy.image}", "{.items[*].spec.template.spec.containers[1].image}"),
        ("dev", "{.kind}", "{.kind}"),
    ] {
        let got = oam(&[role, "get", "deploy", "web", "api", "-o", &format!("jsonpath={ours}")]);
        let expected = kubectl(&["get", "deploy", "web", "api", "-o", &format!("jsonpath={theirs}")]);
        assert!(!got.is_empty(), "{role} {ours} prints something");
        assert_eq!(got, expected, "{role} {ours} vs kubectl's {theirs}");
    }

    assert_eq!(
        oam(&["dev", "get", "deploy/web", "-o", "name"]),
        kubectl(&["get", "deploy/web", "-o", "name"])
    );
    assert_eq!(
        oam(&["ops", "get", "deploy", "web", "api", "-o", "name"]),
        kubectl(&["get", "deploy", "web", "api", "-o", "name"])
    );
    assert_eq!(
        oam(&["ops", "get", "deploy/web", "deploy/api", "-o", "name", "--sort-by", ".name"]),
        "deployment.apps/api\ndeployment.apps/web\n"
    );

    // -o wide: the list's table for the one object (live columns, which move, left out).
    let stable = |table: &str| -> Vec<Vec<String>> {
        let mut lines = table.lines();
        let header: Vec<&str> = lines.next().unwrap_or_default().split_whitespace().collect();
        let live = ["READY", "UP-TO-DATE", "AVAILABLE", "AGE"];
        lines
            .map(|line| {
                line.split_whitespace()
                    .zip(&header)
                    .filter(|(_, h)| !live.contains(h))
                    .map(|(cell, _)| cell.to_string())
                    .collect()
            })
            .collect()
    };
    for role in ["dev", "ops"] {
        let one = oam(&[role, "get", "deploy/web", "-o", "wide"]);
        let list = oam(&[role, "list", "-o", "wide"]);
        assert_eq!(one.lines().next(), list.lines().next(), "the same columns:\n{one}\n{list}");
        let web_rows: Vec<Vec<String>> =
            stable(&list).into_iter().filter(|row| row.first().map(String::as_str) == Some("web")).collect();
        assert_eq!(stable(&one), web_rows, "{role}:\n{one}\n{list}");
        assert!(one.lines().nth(1).is_some_and(|l| l.contains("Deployment")), "{one}");
        let bare = oam(&[role, "get", "deploy/web", "-o", "wide", "--no-headers"]);
        assert_eq!(bare.lines().count(), one.lines().count() - 1, "{bare}");
        assert!(bare.starts_with("web "), "{bare}");
    }
    let proxy_only = oam(&["dev", "get", "deploy/web", "-o", "wide", "-c", "proxy"]);
    assert_eq!(proxy_only.lines().count(), 2, "{proxy_only}");
    assert!(proxy_only.contains("envoy:1.30") && !proxy_only.contains("nginx"), "{proxy_only}");
    // With a document format, --no-headers is accepted and changes nothing (as kubectl).
    assert!(oam(&["dev", "get", "deploy/web", "--no-headers"]).starts_with("kind: Deployment\nname: web\n"));

    // A template that does not parse: one error line, exit 2. One that finds nothing prints nothing,
    // as kubectl's default --allow-missing-template-keys=true; with false, one error line.
    let err = ns.oam(&["dev", "get", "deploy/web", "-o", "jsonpath={.containers[}"]).error();
    assert_eq!(err, "error: jsonpath template \"{.containers[}\": column 13: \"[\" is not closed with \"]\"");
    assert_eq!(oam(&["ops", "get", "deploy/web", "-o", "jsonpath={.scaler.nope}"]), "");
    assert_eq!(ns.kubectl(&["get", "deploy/web", "-o", "jsonpath={.spec.nope}"]).ok().stdout, "");
    let strict =
        ["ops", "get", "deploy/web", "-o", "jsonpath={.scaler.nope}", "--allow-missing-template-keys=false"];
    assert_ne!(
        ns.kubectl(&[
            "get",
            "deploy/web",
            "-o",
            "jsonpath={.spec.nope}",
            "--allow-missing-template-keys=false"
        ])
        .code,
        0
    );
    let err = ns.oam(&strict).error();
    assert!(
        err.starts_with(&format!(
            "error: deployment.apps/web in namespace \"{}\": jsonpath \"{{.scaler.nope}}\": .scaler.nope is not found (.scaler has replicas)",
            ns.name
        )),
        "{err}"
    );
    let err = ns.oam(&["ops", "get", "deploy", "web", "api", "--sort-by", "{.a[}"]).error();
    assert!(err.contains("--sort-by \"{.a[}\": column 4"), "{err}");
}

/// `--show-owners` puts each field's managers at the end of its line; the text still applies.
#[tokio::test]
async fn show_owners_comments_each_field_and_the_document_still_applies() {
    use k8s_openapi::api::apps::v1::Deployment;
    use kube::api::{Api, Patch, PatchParams};
    let ns = Ns::new("ux-show-owners");
    ns.create(&web_deployment("web"));
    // A helm-like server-side apply of the proxy image (kubectl's own --server-side would move the
    // client-side apply's fields to it).
    let api: Api<Deployment> = Api::namespaced(ns.client().await, &ns.name);
    let helm = serde_json::json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
                      "spec": {"template": {"spec": {"containers": [{"name": "proxy", "image": "envoy:1.31"}]}}}});
    api.patch("web", &PatchParams::apply("helm").force(), &Patch::Apply(helm)).await.expect("helm apply");

    let shown = ns.oam(&["dev", "get", "deploy/web", "--show-owners"]).ok().stdout;
    for line in [
        "    image: envoy:1.31  # helm (Apply, outside dev)",
        "    image: nginx:1.25  # kubectl-client-side-apply (Update, outside dev)",
        "    env:  # kubectl-client-side-apply (Update, outside dev)",
    ] {
        assert!(shown.lines().any(|l| l == line), "{line:?} in\n{shown}");
    }
    assert!(!shown.contains("# owned fields not shown here"), "every owned field is shown: {shown}");

    // The commented document applies as it is, with a change.
    let changed = shown.replace("MODE: prod", "MODE: staging");
    ns.oam_with(&["dev", "apply", "-f", "-", "--force-conflicts"], &changed, &[]).ok();
    let live = ns.get_json("deploy/web");
    assert_eq!(crate::writes::env_value(&live, "app", "MODE").as_deref(), Some("staging"));
    let after = ns.oam(&["dev", "get", "deploy/web", "--show-owners"]).ok().stdout;
    assert!(
        after.lines().any(|l| l.starts_with("    env:  # ") && l.contains("kubectl-oam-dev (Apply)")),
        "{after}"
    );

    // -c shows one container's owners; ops sees its traits'.
    let proxy = ns.oam(&["dev", "get", "deploy/web", "--show-owners", "-c", "proxy"]).ok().stdout;
    assert!(proxy.contains("# helm (Apply, outside dev)") && !proxy.contains("nginx"), "{proxy}");
    let ops = ns.oam(&["ops", "get", "deploy/web", "--show-owners"]).ok().stdout;
    assert!(
        ops.lines().any(|l| l.starts_with("  replicas: 2  # kubectl-client-side-apply (Update")),
        "{ops}"
    );

    // JSON has no comments: the owners come beside the document.
    let json: serde_json::Value = serde_json::from_str(
        &ns.oam(&["dev", "get", "deploy/web", "--show-owners", "-o", "json"]).ok().stdout,
    )
    .unwrap();
    assert_eq!(json["document"]["name"], "web");
    assert!(
        json["owners"]
            .as_array()
            .is_some_and(|rows| rows.iter().any(|r| r["field"] == "containers.proxy.image"))
    );
}

#[test]
fn completion_offers_the_clusters_profile_from_its_cached_copy() {
    let ns = Ns::new("ux-completion-profile");
    // The cluster's profile adds a custom kind and a dev field the built-in one does not have.
    let profile = std::fs::read_to_string(crate::harness::repo().join("src/model/profile.yaml"))
        .unwrap()
        .replacen(
            "\nroles:\n",
            "\n  Widget: {apiVersion: example.oam.test/v1, resource: widgets, names: [wd], template: spec.template}\n\nroles:\n",
            1,
        )
        .replace(
            "      containers:\n        image:",
            "      identity:\n        serviceAccountName: {path: pod.serviceAccountName}\n      containers:\n        image:",
        );
    let configmap = serde_json::json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "team"},
                                       "data": {"profile.yaml": profile}});
    ns.kubectl_stdin(&["apply", "-f", "-"], &configmap.to_string()).ok();
    let source = format!("{}/team", ns.name);
    let complete = |words: &[&str]| ns.complete(words);
    let kinds = complete(&["--profile-configmap", &source, "-n", &ns.name, "dev", "get", ""]);
    assert!(kinds.contains(&"wd".to_string()) && kinds.contains(&"deploy".to_string()), "{kinds:?}");
    assert_eq!(
        complete(&["--profile-configmap", &source, "explain", "dev.id"]),
        ["dev.identity.serviceAccountName", ":4"]
    );
    let absent = format!("{}/absent", ns.name);
    let builtin = complete(&["--profile-configmap", &absent, "-n", &ns.name, "dev", "get", ""]);
    assert!(builtin.contains(&"deploy".to_string()) && !builtin.contains(&"wd".to_string()), "{builtin:?}");

    // Completion reads the cached copy, as commands do: with the ConfigMap gone, the copy still
    // answers (a new request would have found nothing and fallen back to the built-in profile).
    ns.kubectl(&["delete", "configmap", "team"]).ok();
    let cached = complete(&["--profile-configmap", &source, "-n", &ns.name, "ops", "edit", "deploy/a", ""]);
    assert!(cached.contains(&"wd".to_string()), "{cached:?}");
    let roles = ns.oam(&["roles", "--profile-configmap", &source]).ok().stdout;
    assert!(roles.contains("serviceAccountName"), "the same cached copy: {roles}");

    // --profile FILE among the words: that file's kinds.
    let file = std::env::temp_dir().join(format!("{}-profile.yaml", ns.name));
    std::fs::write(&file, &profile).unwrap();
    let from_file = complete(&["--profile", file.to_str().unwrap(), "dev", "list", "w"]);
    assert_eq!(from_file, ["wd", ":4"]);
    let _ = std::fs::remove_file(file);
}
