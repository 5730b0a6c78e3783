//! Showing what an apply will change: a unified diff of role documents, or `KUBECTL_EXTERNAL_DIFF`.

use std::path::Path;
use std::process::Command;

use similar::{ChangeTag, TextDiff};

use crate::error::{Error, Result};

/// How a diff names its second document when it was worked out here (`--dry-run=client`).
pub const CLIENT_SIDE: &str = "after apply, as worked out here: client dry run, not checked by the server";

/// A unified diff of two documents; empty when they are equal.
pub fn unified(before: &str, after: &str, label: &str, colour: bool) -> String {
    unified_as(before, after, label, "after apply", colour)
}

/// [`unified`], the second document described as `after` (`after apply, client dry run …`).
pub fn unified_as(before: &str, after: &str, label: &str, after_what: &str, colour: bool) -> String {
    unified_between(before, after, &format!("{label} (live)"), &format!("{label} ({after_what})"), colour)
}

/// A unified diff whose two sides are named `old` and `new` (a file and the file as it would be).
pub fn unified_between(before: &str, after: &str, old: &str, new: &str, colour: bool) -> String {
    if before == after {
        return String::new();
    }
    let diff = TextDiff::from_lines(before, after);
    let mut out = format!("--- {old}\n+++ {new}\n");
    for group in diff.grouped_ops(3) {
        let (first, last) = (&group[0], &group[group.len() - 1]);
        let old = first.old_range().start..last.old_range().end;
        let new = first.new_range().start..last.new_range().end;
        out.push_str(&format!("@@ -{} +{} @@\n", range(old), range(new)));
        for op in &group {
            for change in diff.iter_changes(op) {
                let (sign, colour_code) = match change.tag() {
                    ChangeTag::Delete => ('-', "\x1b[31m"),
                    ChangeTag::Insert => ('+', "\x1b[32m"),
                    ChangeTag::Equal => (' ', ""),
                };
                let line = change.to_string_lossy();
                let line = line.trim_end_matches('\n');
                if colour && !colour_code.is_empty() {
                    out.push_str(&format!("{colour_code}{sign}{line}\x1b[0m\n"));
                } else {
                    out.push_str(&format!("{sign}{line}\n"));
                }
            }
        }
    }
    out
}

fn range(r: std::ops::Range<usize>) -> String {
    let len = r.end - r.start;
    let start = if len == 0 { r.start } else { r.start + 1 };
    if len == 1 { start.to_string() } else { format!("{start},{len}") }
}

/// Runs `$KUBECTL_EXTERNAL_DIFF` (e.g. "diff -u -N") on two folders holding each object's before
/// and after document, as kubectl diff does. Returns whether it found differences.
pub fn external(command: &str, pairs: &[(String, String, String)]) -> Result<bool> {
    let root = std::env::temp_dir().join(format!("kubectl-oam-diff-{}", std::process::id()));
    let (live, merged) = (root.join("LIVE"), root.join("MERGED"));
    let result = (|| {
        std::fs::create_dir_all(&live)?;
        std::fs::create_dir_all(&merged)?;
        for (name, before, after) in pairs {
            std::fs::write(live.join(name), before)?;
            std::fs::write(merged.join(name), after)?;
        }
        run_external(command, &live, &merged)
    })();
    let _ = std::fs::remove_dir_all(&root);
    result
}

fn run_external(command: &str, live: &Path, merged: &Path) -> Result<bool> {
    let mut parts = command.split_whitespace();
    let program = parts.next().unwrap_or("diff");
    let status = Command::new(program)
        .args(parts)
        .arg(live)
        .arg(merged)
        .status()
        .map_err(|e| Error::Io(format!("cannot run KUBECTL_EXTERNAL_DIFF \"{command}\": {e}")))?;
    match status.code() {
        Some(0) => Ok(false),
        Some(1) => Ok(true),
        other => Err(Error::Io(format!(
            "KUBECTL_EXTERNAL_DIFF \"{command}\" failed with exit code {}",
            other.map_or("(signal)".into(), |c| c.to_string())
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unified_diff_of_documents() {
        let before = "kind: Deployment\nname: web\ncontainers:\n  app:\n    image: a:1\n";
        let after = "kind: Deployment\nname: web\ncontainers:\n  app:\n    image: a:2\n";
        let text = unified(before, after, "deployment.apps/web", false);
        assert_eq!(
            text,
            "--- deployment.apps/web (live)\n+++ deployment.apps/web (after apply)\n@@ -2,4 +2,4 @@\n name: web\n containers:\n   app:\n-    image: a:1\n+    image: a:2\n"
        );
        assert_eq!(unified(before, before, "x", false), "");
        assert!(unified(before, after, "x", true).contains("\x1b[31m-    image: a:1\x1b[0m"));
    }

    #[test]
    fn external_diff_exit_codes() {
        let pairs =
            vec![("apps.v1.Deployment.default.web".to_string(), "a\n".to_string(), "b\n".to_string())];
        assert!(external("diff -u -N", &pairs).unwrap());
        let same = vec![("x".to_string(), "a\n".to_string(), "a\n".to_string())];
        assert!(!external("diff -u -N", &same).unwrap());
        assert!(external("false-diff-command-that-does-not-exist", &same).is_err());
    }
}
