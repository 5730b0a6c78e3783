//! Golden tests: real objects (saved from the local kube-apiserver, managedFields included) projected
//! into both role documents, both apply bodies and the owners table. `UPDATE_GOLDEN=1 cargo test`
//! rewrites tests/golden/ after a deliberate change; review the diff like code.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::core::hpa::Autoscaler;
use crate::core::owners::field_owners;
use crate::core::project::{self, ViewOptions};
use crate::core::write::{Live, Writer, build, without_base};
use crate::format::output;
use crate::model::roles::{Profile, RoleName};
use crate::model::target::Target;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests")
}

fn fixture(name: &str) -> Value {
    let text =
        std::fs::read_to_string(root().join("fixtures").join(format!("{name}.yaml"))).expect("fixture");
    serde_yaml::from_str(&text).expect("fixture is YAML")
}

/// Everything kubectl-oam derives from one object, as one text.
fn render(profile: &Profile, obj: &Value, hpas: &[Value]) -> String {
    let kind = profile.kind(obj["kind"].as_str().unwrap()).unwrap();
    let hpa = Autoscaler::targeting(hpas, kind, obj);
    let mut out = String::new();
    for role in RoleName::ALL {
        let view = ViewOptions { container: None, autoscaler: hpa.as_ref(), related: None };
        let doc = project::document(profile, role, kind, obj, &view);
        out.push_str(&format!("# {role} document\n{}", output::yaml(&doc).unwrap()));
        // The body of the document as desired state (no base: all of it is set), and of the same
        // document unchanged with its base (only what the role's manager owns).
        let live = Live {
            target: Target {
                kind,
                name: obj["metadata"]["name"].as_str().unwrap().into(),
                namespace: obj["metadata"]["namespace"].as_str().unwrap().into(),
            },
            object: obj.clone(),
            autoscaler: hpa.clone(),
            related: None,
        };
        let writer = Writer::new(profile, role, None, false).unwrap();
        for (label, doc) in [("desired state", without_base(doc.clone())), ("unchanged, with base", doc)] {
            let (_, body) = build(profile, &writer, &live, &doc).expect("a view applies back");
            out.push_str(&format!("# {role} apply body ({label})\n{}", output::yaml(&body).unwrap()));
            let hpa =
                crate::core::hpa_write::build(profile, &writer, &live, &doc).expect("a view applies back");
            if let Some((_, body)) = hpa {
                out.push_str(&format!(
                    "# {role} autoscaler apply body ({label})\n{}",
                    output::yaml(&body).unwrap()
                ));
            }
        }
    }
    let owners = serde_json::to_value(field_owners(profile, kind, obj, None)).unwrap();
    out.push_str(&format!("# owners\n{}", output::yaml(&owners).unwrap()));
    out
}

#[test]
fn projections_match_the_golden_files() {
    let profile = Profile::builtin();
    let hpas = vec![fixture("hpa"), fixture("hpa-shop")];
    let mut failures = Vec::new();
    // sidecars: init containers and a native sidecar, with an HPA that has a behavior; rs-owned: a
    // ReplicaSet its Deployment controls; job-indexed, cj-zoned: every run and schedule setting.
    for name in [
        "deploy",
        "sts",
        "ds",
        "rs",
        "job",
        "cj",
        "sidecars",
        "rs-owned",
        "job-indexed",
        "cj-zoned",
        "sts-storage",
        "deploy-pvc",
    ] {
        let actual = render(&profile, &fixture(name), &hpas);
        let golden = root().join("golden").join(format!("{name}.yaml"));
        if std::env::var_os("UPDATE_GOLDEN").is_some() {
            std::fs::create_dir_all(golden.parent().unwrap()).unwrap();
            std::fs::write(&golden, &actual).unwrap();
            continue;
        }
        let expected = std::fs::read_to_string(&golden).unwrap_or_default();
        if expected != actual {
            failures.push(format!(
                "{}:\n{}",
                golden.display(),
                crate::format::diff::unified(&expected, &actual, name, false)
            ));
        }
    }
    assert!(failures.is_empty(), "golden files differ (UPDATE_GOLDEN=1 to accept):\n{}", failures.join("\n"));
}

/// `get --show-owners`: each role document with its fields' owners as end-of-line comments, for
/// objects that several managers (helm, both roles, `kubectl scale`, `kubectl label`) have written.
/// The commented text must read back as the document itself: comments change nothing on apply.
#[test]
fn owner_comments_match_the_golden_files() {
    let profile = Profile::builtin();
    let hpas = vec![fixture("hpa"), fixture("hpa-shop")];
    let mut failures = Vec::new();
    for name in ["shared-owners", "sidecars", "cj"] {
        let obj = fixture(name);
        let kind = profile.kind(obj["kind"].as_str().unwrap()).unwrap();
        let hpa = Autoscaler::targeting(&hpas, kind, &obj);
        let mut actual = String::new();
        for role in RoleName::ALL {
            let view = ViewOptions { container: None, autoscaler: hpa.as_ref(), related: None };
            let doc = project::document(&profile, role, kind, &obj, &view);
            let text =
                crate::core::owners::yaml_with_owners(&doc, &field_owners(&profile, kind, &obj, Some(role)));
            let back = crate::format::yaml::parse_one(&text, &crate::format::yaml::DOCUMENT_LIMITS)
                .expect("commented YAML parses");
            assert_eq!(back.value, doc, "{name} {role}: the comments changed the document:\n{text}");
            actual.push_str(&format!("# {role} document with owners\n{text}"));
        }
        let golden = root().join("golden").join("owners").join(format!("{name}.yaml"));
        if std::env::var_os("UPDATE_GOLDEN").is_some() {
            std::fs::create_dir_all(golden.parent().unwrap()).unwrap();
            std::fs::write(&golden, &actual).unwrap();
            continue;
        }
        let expected = std::fs::read_to_string(&golden).unwrap_or_default();
        if expected != actual {
            failures.push(format!(
                "{}:\n{}",
                golden.display(),
                crate::format::diff::unified(&expected, &actual, name, false)
            ));
        }
    }
    assert!(failures.is_empty(), "golden files differ (UPDATE_GOLDEN=1 to accept):\n{}", failures.join("\n"));
}
