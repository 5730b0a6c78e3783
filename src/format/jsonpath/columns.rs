//! `-o custom-columns=HEADER:PATH,…` as kubectl reads and prints it, and what a template addresses
//! at the root of a document (so that a key no document has can be named instead of printing
//! nothing).

use serde_json::Value;

use super::{Part, Path, Step, Template, parse_relaxed, text_of};

/// One column of `-o custom-columns`.
#[derive(Debug, Clone)]
pub struct Column {
    pub header: String,
    pub path: Template,
}

/// Parses kubectl's spec: columns separated by commas, each `HEADER:PATH`, the path with or without
/// braces and its leading dot.
pub fn custom_columns(spec: &str) -> Result<Vec<Column>, String> {
    if spec.trim().is_empty() {
        return Err("custom-columns format specified but no custom columns given".into());
    }
    spec.split(',')
        .map(|part| {
            let (header, path) = part.split_once(':').ok_or_else(|| {
                format!("unexpected custom-columns spec: {part}, expected <header>:<json-path-expr>")
            })?;
            let path = parse_relaxed(path, &format!("custom column \"{header}\""))?;
            Ok(Column { header: header.to_string(), path })
        })
        .collect()
}

impl Column {
    /// The cell of `doc`: each value the path finds, separated by commas; `<none>` when it finds
    /// nothing (as kubectl prints a missing field).
    pub fn cell(&self, doc: &Value) -> String {
        let values = self.path.values(doc);
        if values.is_empty() {
            return "<none>".into();
        }
        values.iter().map(|v| text_of(v)).collect::<Vec<_>>().join(",")
    }
}

impl Template {
    /// The keys the template addresses at the root of a document (`{.name}`: `name`), each with
    /// the path that names it. `list`: the root is a `List`, and the keys are those of its items
    /// (`{.items[*].name}`, `{range .items[*]}{.name}{end}`).
    pub fn document_keys(&self, list: bool) -> Vec<(String, String)> {
        let mut keys = Vec::new();
        collect(&self.parts, list, &mut keys);
        keys
    }

    /// Is the template exactly the path of these fields (`.status.age`, `{.status.age}`)?
    pub fn is_fields(&self, fields: &[&str]) -> bool {
        match self.parts.as_slice() {
            [Part::Path(path)] => {
                path.steps.len() == fields.len()
                    && path
                        .steps
                        .iter()
                        .zip(fields)
                        .all(|((step, _), f)| matches!(step, Step::Field(n) if n == f))
            }
            _ => false,
        }
    }
}

impl Template {
    /// May the template read one of `keys` at the root of a document? Also true for a path whose
    /// first key cannot be told (`{..name}`, `{.*}`, `{@}`): it may read any. `list` as in
    /// [`Template::document_keys`]; a path into the `List` itself (`{.kind}`) reads no document.
    pub fn may_read(&self, list: bool, keys: &[&str]) -> bool {
        parts_may_read(&self.parts, list, keys)
    }
}

fn parts_may_read(parts: &[Part], list: bool, keys: &[&str]) -> bool {
    parts.iter().any(|part| match part {
        Part::Text(_) => false,
        Part::Path(path) => path_may_read(path, list, keys),
        // `{range .items[*]}`: the body reads each document; any other range's body reads below
        // what its path found, which the path's own answer covers.
        Part::Range(path, body) => match list && over_items(path) {
            true => parts_may_read(body, false, keys),
            false => path_may_read(path, list, keys),
        },
    })
}

fn path_may_read(path: &Path, list: bool, keys: &[&str]) -> bool {
    let steps = steps(path);
    let rest = match (list, steps.as_slice()) {
        (false, all) => all,
        (true, [Step::Field(items), pick, rest @ ..]) if items == "items" && picks_items(pick) => rest,
        // The List's own fields.
        (true, [Step::Field(_), ..]) => return false,
        (true, _) => return true,
    };
    match rest.first() {
        Some(Step::Field(name)) => keys.contains(&name.as_str()),
        _ => true,
    }
}

fn collect(parts: &[Part], list: bool, keys: &mut Vec<(String, String)>) {
    for part in parts {
        match part {
            Part::Text(_) => {}
            Part::Path(path) => keys.extend(root_key(path, list)),
            Part::Range(path, body) => match root_key(path, list) {
                Some(key) => keys.push(key),
                // `{range .items[*]}`: the paths of the body start at each item.
                None if list && over_items(path) => collect(body, false, keys),
                None => {}
            },
        }
    }
}

fn steps(path: &Path) -> Vec<&Step> {
    path.steps.iter().map(|(step, _)| step).collect()
}

/// `[*]`, `[0]`, `[0:2]`, `[?(…)]`, `[0,1]`: what picks items of a list.
fn picks_items(step: &Step) -> bool {
    matches!(step, Step::Wildcard | Step::Slice(_) | Step::Filter(_) | Step::Union(_))
}

fn over_items(path: &Path) -> bool {
    matches!(steps(path).as_slice(), [Step::Field(items), pick] if items == "items" && picks_items(pick))
}

fn root_key(path: &Path, list: bool) -> Option<(String, String)> {
    let steps = steps(path);
    let rest = match (list, steps.as_slice()) {
        (false, all) => all,
        (true, [Step::Field(items), pick, rest @ ..]) if items == "items" && picks_items(pick) => rest,
        (true, _) => return None,
    };
    match rest.first() {
        Some(Step::Field(name)) => Some((name.clone(), path.text.clone())),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::format::jsonpath::parse;

    #[test]
    fn custom_columns_as_kubectl_reads_and_prints_them() {
        let columns =
            custom_columns("NAME:.name,IMAGES:{.containers.*.image},REPLICAS:scaler.replicas").unwrap();
        let headers: Vec<&str> = columns.iter().map(|c| c.header.as_str()).collect();
        assert_eq!(headers, ["NAME", "IMAGES", "REPLICAS"]);
        let doc =
            json!({"name": "web", "containers": {"app": {"image": "nginx"}, "proxy": {"image": "envoy"}}});
        let cells: Vec<String> = columns.iter().map(|c| c.cell(&doc)).collect();
        assert_eq!(cells, ["web", "nginx,envoy", "<none>"]);
        assert_eq!(
            custom_columns("bad").unwrap_err(),
            "unexpected custom-columns spec: bad, expected <header>:<json-path-expr>"
        );
        assert!(custom_columns("").is_err());
        assert!(custom_columns("A:.a[").unwrap_err().starts_with("custom column \"A\""));
    }

    #[test]
    fn whether_a_template_may_read_some_keys() {
        let may = |text: &str, list: bool| parse(text).unwrap().may_read(list, &["expose", "readOnly"]);
        assert!(!may("{.containers.app.image}", false));
        assert!(!may("{.name} {.replicas}", false));
        assert!(may("{.expose.web.ports}", false));
        assert!(may("{.readOnly.endpoints}", false));
        assert!(may("{..ports}", false), "a recursive path may read any key");
        assert!(may("{.*}", false));
        assert!(may("{@}", false));
        assert!(may("{range .expose.*}{.type}{end}", false));
        assert!(!may("{range .containers.*}{.image}{end}", false));
        assert!(!may("{.items[*].name}", true));
        assert!(!may("{.kind}", true), "the List's own field");
        assert!(may("{.items[*].expose}", true));
        assert!(may("{range .items[*]}{.readOnly}{end}", true));
        assert!(!may("{range .items[*]}{.name}{end}", true));
    }

    #[test]
    fn the_keys_a_template_addresses_at_the_root() {
        let keys = |text: &str, list: bool| -> Vec<String> {
            parse(text).unwrap().document_keys(list).into_iter().map(|(k, _)| k).collect()
        };
        assert_eq!(keys("{.metadata.name} {.containers.app.image}", false), ["metadata", "containers"]);
        assert_eq!(keys("{range .containers.*}{.image}{end}", false), ["containers"]);
        assert_eq!(keys("{.items[*].spec.replicas}{.kind}", true), ["spec"]);
        assert_eq!(keys("{range .items[*]}{.name}{\"\\n\"}{end}", true), ["name"]);
        assert_eq!(keys("{..image}", false), Vec::<String>::new());
        assert!(parse("{.status.age}").unwrap().is_fields(&["status", "age"]));
        assert!(!parse("{.status.age}{.name}").unwrap().is_fields(&["status", "age"]));
    }
}
