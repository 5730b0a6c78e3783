use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;

use super::write_all;

/// A fresh directory with files `a.yaml` and `b.yaml` holding "a: 1\n" and "b: 1\n".
fn dir(name: &str) -> (PathBuf, PathBuf, PathBuf) {
    let dir = std::env::temp_dir().join(format!("oam-write-all-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let (a, b) = (dir.join("a.yaml"), dir.join("b.yaml"));
    std::fs::write(&a, "a: 1\n").unwrap();
    std::fs::write(&b, "b: 1\n").unwrap();
    (dir, a, b)
}

fn names(dir: &PathBuf) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn every_file_is_written_with_its_mode_and_no_temporary_file_is_left() {
    let (dir, a, b) = dir("ok");
    std::fs::set_permissions(&b, std::fs::Permissions::from_mode(0o640)).unwrap();
    write_all(&[(&a, "a: 1\n", "a: 2\n"), (&b, "b: 1\n", "b: 2\n")]).unwrap();
    assert_eq!(std::fs::read_to_string(&a).unwrap(), "a: 2\n");
    assert_eq!(std::fs::read_to_string(&b).unwrap(), "b: 2\n");
    assert_eq!(std::fs::metadata(&b).unwrap().permissions().mode() & 0o777, 0o640);
    assert_eq!(names(&dir), ["a.yaml", "b.yaml"]);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_read_only_file_is_refused_and_no_file_is_written() {
    let (dir, a, b) = dir("read-only");
    std::fs::set_permissions(&b, std::fs::Permissions::from_mode(0o444)).unwrap();
    let err = write_all(&[(&a, "a: 1\n", "a: 2\n"), (&b, "b: 1\n", "b: 2\n")]).unwrap_err().to_string();
    assert!(err.contains("b.yaml") && err.contains("read-only"), "{err}");
    assert_eq!(std::fs::read_to_string(&a).unwrap(), "a: 1\n");
    assert_eq!(std::fs::read_to_string(&b).unwrap(), "b: 1\n");
    assert_eq!(names(&dir), ["a.yaml", "b.yaml"]);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_file_saved_by_another_program_since_it_was_read_is_kept_and_no_file_is_written() {
    let (dir, a, b) = dir("changed");
    // b.yaml was read as "b: 1\n"; another editor saved "b: 3\n" since.
    std::fs::write(&b, "b: 3\n").unwrap();
    let err = write_all(&[(&a, "a: 1\n", "a: 2\n"), (&b, "b: 1\n", "b: 2\n")]).unwrap_err().to_string();
    assert!(err.contains("b.yaml changed since it was read"), "{err}");
    assert_eq!(std::fs::read_to_string(&a).unwrap(), "a: 1\n");
    assert_eq!(std::fs::read_to_string(&b).unwrap(), "b: 3\n");
    assert_eq!(names(&dir), ["a.yaml", "b.yaml"]);
    std::fs::remove_dir_all(dir).unwrap();
}
