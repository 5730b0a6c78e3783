//! Rendering: YAML/JSON documents, tables, and colour decisions.

use std::io::IsTerminal;

use comfy_table::{ContentArrangement, Table, presets};
use serde_json::Value;

use crate::error::Result;

/// YAML that reads back with the same types under YAML 1.1 (kubectl) and 1.2; see [`crate::format::yaml`].
pub fn yaml(value: &Value) -> Result<String> {
    Ok(crate::format::yaml::to_string(value))
}

pub fn json(value: &Value) -> String {
    let mut text = serde_json::to_string_pretty(value).unwrap_or_default();
    text.push('\n');
    text
}

/// A cell's text on one line: control characters (a newline in an argument, a tab) written as
/// escapes, so that a row stays one line and its columns line up.
pub fn one_line(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.chars().any(char::is_control) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    std::borrow::Cow::Owned(out)
}

/// A kubectl-style table: no borders, upper-case headers, columns padded with spaces.
pub fn table(headers: &[&str], rows: Vec<Vec<String>>) -> String {
    let headers: Vec<String> = headers.iter().map(|h| h.to_uppercase()).collect();
    table_as_headed(&headers, rows)
}

/// [`table`] with the headers as given (`-o custom-columns`, as kubectl prints them).
pub fn table_as_headed(headers: &[String], rows: Vec<Vec<String>>) -> String {
    let mut table = Table::new();
    table
        .load_style(presets::NOTHING)
        .set_content_arrangement(ContentArrangement::Disabled)
        .set_header(headers);
    for row in rows {
        table.add_row(row.iter().map(|c| one_line(c).into_owned()));
    }
    for column in table.column_iter_mut() {
        column.set_padding((0, 3));
    }
    let mut text: String = table.lines().map(|l| l.trim_end().to_string()).collect::<Vec<_>>().join("\n");
    text.push('\n');
    text
}

/// Writes to stdout; a reader that went away (`| head`) ends the output quietly, not in a panic.
pub fn emit(text: &str) -> Result<()> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|_| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e.into()),
        _ => Ok(()),
    }
}

/// Colour only on a terminal and never with NO_COLOR, as most CLIs do.
pub fn use_colour() -> bool {
    std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

/// A compact one-cell summary of a JSON value for tables.
pub fn cell(value: Option<&Value>) -> String {
    match value {
        None | Some(Value::Null) => "<none>".into(),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Object(m)) => {
            m.iter().map(|(k, v)| format!("{k}={}", cell(Some(v)))).collect::<Vec<_>>().join(",")
        }
        Some(Value::Array(a)) => a.iter().map(|v| cell(Some(v))).collect::<Vec<_>>().join(","),
        Some(other) => other.to_string(),
    }
}

#[cfg(test)]
mod cell_tests {
    #[test]
    fn control_characters_in_cells_are_escaped() {
        assert_eq!(super::one_line("sleep 3600"), "sleep 3600");
        assert_eq!(super::one_line("a\nb\tc\u{7}"), "a\\nb\\tc\\u{7}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn tables_look_like_kubectl() {
        let text = table(
            &["name", "image"],
            vec![vec!["web".into(), "nginx:1".into()], vec!["api-long".into(), "x".into()]],
        );
        assert_eq!(text, "NAME       IMAGE\nweb        nginx:1\napi-long   x\n");
    }

    #[test]
    fn cells_summarise_values() {
        assert_eq!(cell(None), "<none>");
        assert_eq!(cell(Some(&json!({"cpu": "100m", "memory": "64Mi"}))), "cpu=100m,memory=64Mi");
        assert_eq!(cell(Some(&json!([80, 443]))), "80,443");
        assert_eq!(cell(Some(&json!(3))), "3");
    }
}
