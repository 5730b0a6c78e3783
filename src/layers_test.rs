//! Keeps `src/` in its layers. Each file may import (`use crate::…`, or a `crate::x::…` path used
//! inline) only from its own layer or those below it, bottom up:
//!
//! `error.rs`, `cli.rs` < `format/` < `model/` < `core/` < `cluster/` < `commands/` < `lib.rs`, `main.rs`
//!
//! and besides: the pure layers (`format/`, `model/`, `core/`) use no client, runtime or terminal
//! crate; only `commands/` and the crate root read the command line (`cli`), everything below
//! takes plain values; and no files (nor folders) import each other in a circle. Test code is
//! exempt: `#[cfg(test)]` items and the test-only files (`tests.rs`, `golden.rs`, `properties.rs`).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Imports against the layer order that are kept on purpose, as (importing file, imported module
/// path): each also named in its file's module doc. None today.
const AGAINST_THE_ORDER: &[(&str, &str)] = &[];

/// Crates the pure layers do without: the API client and its transport, the async runtime, the
/// terminal.
const IMPURE_CRATES: [&str; 10] = [
    "kube",
    "tokio",
    "hyper",
    "hyper_util",
    "http",
    "http_body",
    "tower",
    "rustls",
    "futures_util",
    "dialoguer",
];

const PURE: [&str; 3] = ["format", "model", "core"];

const TEST_FILES: [&str; 4] = ["tests.rs", "golden.rs", "properties.rs", "layers_test.rs"];

/// The layer of a file (its path below `src/`), bottom up; None for a place no layer names.
fn layer(file: &str) -> Option<usize> {
    let top = file.split('/').next().unwrap_or_default();
    Some(match top {
        "error.rs" | "cli.rs" => 0,
        "format" => 1,
        "model" => 2,
        "core" => 3,
        "cluster" => 4,
        "commands" => 5,
        "lib.rs" | "main.rs" => 6,
        _ => return None,
    })
}

/// The module a file is: `core/ownership/mod.rs` is `core::ownership`, `lib.rs` the crate root.
fn module_of(file: &str) -> Vec<String> {
    let mut parts: Vec<String> = file.trim_end_matches(".rs").split('/').map(str::to_string).collect();
    if matches!(parts.last().map(String::as_str), Some("mod" | "lib" | "main")) {
        parts.pop();
    }
    parts
}

/// The source without test code and comment lines: top-level `#[cfg(test)]` items (a `mod x;` line,
/// or an item up to its closing brace at the start of a line, as rustfmt writes it) and `//` lines.
fn without_tests(text: &str) -> String {
    let mut out = Vec::new();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        if line.starts_with("#[cfg(test)]") {
            match lines.next() {
                Some(next) if next.trim_end().ends_with(';') => {}
                Some(_) => {
                    for rest in lines.by_ref() {
                        if rest.starts_with('}') {
                            break;
                        }
                    }
                }
                None => {}
            }
            continue;
        }
        if !line.trim_start().starts_with("//") {
            out.push(line);
        }
    }
    out.join("\n")
}

/// The paths after `prefix` (`crate::`, `super::`) in `code`, each as its segments, with brace
/// groups expanded: `crate::{a::b, c::{d, e}}` gives a::b, c::d, c::e.
fn paths_after(code: &str, prefix: &str) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    for (at, _) in code.match_indices(prefix) {
        let before = code[..at].chars().next_back();
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':') {
            continue;
        }
        out.extend(parse_path(&code[at + prefix.len()..]));
    }
    out
}

/// The paths a path expression names, `a::{b, c::d}` giving a::b and a::c::d; it ends where the
/// path does.
fn parse_path(text: &str) -> Vec<Vec<String>> {
    fn group(text: &str, head: &[String], out: &mut Vec<Vec<String>>) {
        let (mut depth, mut start) = (0, 0);
        let mut items = Vec::new();
        for (i, c) in text.char_indices() {
            match c {
                '{' => depth += 1,
                '}' => depth -= 1,
                ',' if depth == 0 => {
                    items.push(&text[start..i]);
                    start = i + 1;
                }
                _ => {}
            }
        }
        items.push(&text[start..]);
        for item in items.iter().map(|i| i.trim()).filter(|i| !i.is_empty()) {
            path(item, head.to_vec(), out);
        }
    }
    fn path(text: &str, mut segments: Vec<String>, out: &mut Vec<Vec<String>>) {
        let mut rest = text;
        loop {
            if rest.starts_with('{') {
                let mut depth = 0;
                let close = rest
                    .char_indices()
                    .find(|&(_, c)| {
                        depth += match c {
                            '{' => 1,
                            '}' => -1,
                            _ => 0,
                        };
                        depth == 0
                    })
                    .map_or(rest.len(), |(i, _)| i);
                group(&rest[1..close], &segments, out);
                return;
            }
            let end = rest.find(|c: char| !(c.is_alphanumeric() || c == '_')).unwrap_or(rest.len());
            if end > 0 && &rest[..end] != "self" {
                segments.push(rest[..end].to_string());
            }
            rest = &rest[end..];
            match rest.strip_prefix("::") {
                Some(after) => rest = after,
                None => break,
            }
        }
        out.push(segments);
    }
    let mut out = Vec::new();
    path(text, Vec::new(), &mut out);
    out
}

/// The paths of each `use` declaration of `code`, as written.
fn use_paths(code: &str) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    for (at, _) in code.match_indices("use ") {
        let line_start = code[..at].rfind('\n').map_or(0, |i| i + 1);
        let head = code[line_start..at].trim();
        if !matches!(head, "" | "pub" | "pub(crate)" | "pub(super)") {
            continue;
        }
        let end = code[at..].find(';').map_or(code.len(), |i| at + i);
        let declaration: String = code[at + 4..end].split_whitespace().collect::<Vec<_>>().join(" ");
        out.extend(parse_path(&declaration));
    }
    out
}

/// Does `code` use `name` as a crate (`name::…` not inside another path, or `use name`)?
fn uses_crate(code: &str, name: &str) -> bool {
    let as_path = format!("{name}::");
    code.match_indices(&as_path).any(|(at, _)| {
        !code[..at].chars().next_back().is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':')
    }) || use_paths(code).iter().any(|p| p.first().is_some_and(|first| first == name))
}

struct Source {
    /// Below `src/`, `/`-separated.
    file: String,
    module: Vec<String>,
    code: String,
}

fn sources() -> Vec<Source> {
    fn walk(dir: &Path, root: &Path, out: &mut Vec<Source>) {
        let mut entries: Vec<_> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
        entries.sort();
        for path in entries {
            if path.is_dir() {
                walk(&path, root, out);
                continue;
            }
            let file = path.strip_prefix(root).unwrap().to_string_lossy().replace('\\', "/");
            let name = file.rsplit('/').next().unwrap_or_default();
            if !file.ends_with(".rs") || TEST_FILES.contains(&name) {
                continue;
            }
            let code = without_tests(&std::fs::read_to_string(&path).unwrap());
            out.push(Source { module: module_of(&file), file, code });
        }
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut out = Vec::new();
    walk(&root, &root, &mut out);
    out
}

/// Every import of each file: (importing file, imported file, the path as written).
fn imports(sources: &[Source]) -> Vec<(String, String, String)> {
    let modules: BTreeMap<Vec<String>, String> =
        sources.iter().filter(|s| s.file != "main.rs").map(|s| (s.module.clone(), s.file.clone())).collect();
    // The file of the longest module prefix of `path`: `crate::core::write::build` is core/write.rs.
    let resolve = |path: &[String]| {
        (0..=path.len()).rev().find_map(|n| modules.get(&path[..n]).cloned()).unwrap_or_default()
    };
    let mut out = Vec::new();
    for source in sources {
        let here = &source.module;
        let mut found: Vec<Vec<String>> = paths_after(&source.code, "crate::");
        // `super::x` from a file is its module's parent (for a mod.rs, its own parent).
        for path in paths_after(&source.code, "super::") {
            let mut full: Vec<String> = here[..here.len().saturating_sub(1)].to_vec();
            full.extend(path);
            found.push(full);
        }
        // A module naming its own submodules: `pub use units::Unit;` in a mod.rs.
        for path in use_paths(&source.code) {
            let mut full = here.clone();
            full.extend(path.iter().take(1).cloned());
            if path.len() > 1 && modules.contains_key(&full) {
                full.extend(path.into_iter().skip(1));
                found.push(full);
            }
        }
        for path in found {
            let target = resolve(&path);
            if target != source.file {
                out.push((source.file.clone(), target, path.join("::")));
            }
        }
    }
    out
}

/// A circle in the graph, if there is one, as the files around it.
fn circle(edges: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        edges: &BTreeMap<String, BTreeSet<String>>,
        state: &mut BTreeMap<String, u8>,
        stack: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        state.insert(node.to_string(), 1);
        stack.push(node.to_string());
        for next in edges.get(node).into_iter().flatten() {
            match state.get(next.as_str()) {
                Some(1) => {
                    let from = stack.iter().position(|n| n == next).unwrap_or(0);
                    let mut around = stack[from..].to_vec();
                    around.push(next.clone());
                    return Some(around);
                }
                Some(_) => {}
                None => {
                    if let Some(found) = visit(next, edges, state, stack) {
                        return Some(found);
                    }
                }
            }
        }
        stack.pop();
        state.insert(node.to_string(), 2);
        None
    }
    let mut state = BTreeMap::new();
    for node in edges.keys() {
        if !state.contains_key(node.as_str()) {
            if let Some(found) = visit(node, edges, &mut state, &mut Vec::new()) {
                return Some(found);
            }
        }
    }
    None
}

#[test]
fn imports_follow_the_layers() {
    let sources = sources();
    let imports = imports(&sources);
    assert!(imports.len() > 150, "the import reader found only {} imports: is it broken?", imports.len());
    let mut wrong = Vec::new();
    for source in &sources {
        if layer(&source.file).is_none() {
            wrong.push(format!("{}: in no layer; put it in one of the layer folders", source.file));
        }
        let top = source.file.split('/').next().unwrap_or_default();
        if PURE.contains(&top) {
            for name in IMPURE_CRATES.iter().filter(|name| uses_crate(&source.code, name)) {
                wrong.push(format!("{}: uses {name}, and {top}/ is pure", source.file));
            }
        }
    }
    for (from, to, path) in &imports {
        let kept = AGAINST_THE_ORDER.iter().any(|(f, p)| f == from && path.starts_with(p));
        let (Some(below), Some(above)) = (layer(to), layer(from)) else { continue };
        if below > above && !kept {
            wrong.push(format!("{from}: imports crate::{path} ({to}), a higher layer"));
        }
        if to == "cli.rs" && above < 5 && !kept {
            wrong.push(format!("{from}: imports crate::{path}; only commands/ reads the command line"));
        }
    }
    let mut files: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut folders: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let folder = |file: &str| file.split('/').next().unwrap_or_default().to_string();
    for (from, to, _) in &imports {
        files.entry(from.clone()).or_default().insert(to.clone());
        if folder(from) != folder(to) {
            folders.entry(folder(from)).or_default().insert(folder(to));
        }
    }
    if let Some(around) = circle(&files) {
        wrong.push(format!("files import each other in a circle: {}", around.join(" -> ")));
    }
    if let Some(around) = circle(&folders) {
        wrong.push(format!("folders import each other in a circle: {}", around.join(" -> ")));
    }
    assert!(wrong.is_empty(), "src/ leaves its layers:\n{}", wrong.join("\n"));
}

#[test]
fn imports_are_read_as_rust_writes_them() {
    let code =
        "use crate::{a::b, c::{self, d, e::F}};\nlet x = crate::g::h(1) + my_crate::i::j;\nuse super::k;";
    let paths: Vec<String> = paths_after(code, "crate::").iter().map(|p| p.join("::")).collect();
    assert_eq!(paths, ["a::b", "c", "c::d", "c::e::F", "g::h"]);
    assert_eq!(paths_after(code, "super::"), [vec!["k".to_string()]]);
    let text = "use a::b;\n#[cfg(test)]\nmod tests;\nfn f() {}\n#[cfg(test)]\nmod t {\n    use crate::x;\n}\n// crate::y\nfn g() {}";
    assert_eq!(without_tests(text), "use a::b;\nfn f() {}\nfn g() {}");
    assert!(uses_crate("let c = kube::Client::new();", "kube"));
    assert!(uses_crate("use tokio::sync::mpsc;", "tokio"));
    assert!(uses_crate("pub use tokio;", "tokio"));
    assert!(!uses_crate("use http_body::Body;", "http"));
    assert_eq!(
        use_paths("pub use parse::{\n    A, B,\n};\nlet x = 1; // use y"),
        [vec!["parse", "A"], vec!["parse", "B"]]
    );
    assert!(!uses_crate("let url = \"http://x\"; my_http::get();", "http"));
    assert_eq!(module_of("core/ownership/mod.rs"), ["core", "ownership"]);
    assert_eq!(layer("cluster/write.rs"), Some(4));
    let edges: BTreeMap<String, BTreeSet<String>> = [("a", "b"), ("b", "c"), ("c", "a")]
        .iter()
        .map(|(f, t)| (f.to_string(), BTreeSet::from([t.to_string()])))
        .collect();
    assert_eq!(circle(&edges).map(|c| c.len()), Some(4));
}

/// Files stay small enough to read whole: at most 1,000 lines of code (tests live in `tests.rs`
/// files beside them).
#[test]
fn no_source_file_is_over_a_thousand_lines() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let long: Vec<String> = sources()
        .iter()
        .map(|s| (s.file.clone(), std::fs::read_to_string(root.join(&s.file)).unwrap().lines().count()))
        .filter(|(_, lines)| *lines > 1000)
        .map(|(file, lines)| format!("src/{file}: {lines} lines"))
        .collect();
    assert!(
        long.is_empty(),
        "split these (move inline tests into a tests.rs file, or a part into a module): {long:?}"
    );
}
