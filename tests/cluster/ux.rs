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
    assert!(run.stderr.contains("readOnly: shown for context"), "{}", run.stderr);
    assert_eq!(editor.openings(), 2, "reopened once with the reason, then given up");
    let kept = std::fs::read_to_string(saved_path(&run.stderr)).unwrap();
    assert!(kept.contains("app: other"), "the text is saved: {kept}");
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
