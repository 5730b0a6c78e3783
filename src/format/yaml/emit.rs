//! Writing YAML: JSON values in serde_yaml's layout, quoting every string a YAML 1.1 or 1.2 reader
//! could take for another type.

use std::collections::BTreeMap;

use serde_json::{Map, Number, Value};

use crate::format::yaml::parse::{is_core_float, resolve_plain, yaml11_type};

/// YAML text of a JSON value that reads back with the same types under YAML 1.1 AND 1.2.
pub fn to_string(value: &Value) -> String {
    to_string_with_comments(value, &BTreeMap::new())
}

/// [`to_string`] with a comment at the end of the line of each mapping key whose path (the keys
/// from the root) `comments` holds. Keys inside sequences get none. Comments are read as nothing, so
/// the text reads back as the same value.
pub fn to_string_with_comments(value: &Value, comments: &BTreeMap<Vec<String>, String>) -> String {
    write(value, comments, Layout::DEFAULT)
}

/// How nested blocks are indented: `step` spaces a level, and a sequence under a key indented by
/// `step` (`env:\n  - a`) or at the key's column (`env:\n- a`, the default, as kubectl writes it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Layout {
    pub(super) step: usize,
    pub(super) indented_sequences: bool,
}

impl Layout {
    pub(super) const DEFAULT: Layout = Layout { step: 2, indented_sequences: false };
}

/// [`to_string`] in `layout` (for text that goes into a file written so, `splice`).
pub(super) fn to_string_in(value: &Value, layout: Layout) -> String {
    write(value, &BTreeMap::new(), layout)
}

fn write(value: &Value, comments: &BTreeMap<Vec<String>, String>, layout: Layout) -> String {
    let mut out = String::new();
    let mut notes = Notes { comments, path: Vec::new() };
    match value {
        Value::Object(map) if !map.is_empty() => {
            write_mapping(&mut out, map, 0, false, Some(&mut notes), layout)
        }
        Value::Array(items) if !items.is_empty() => write_sequence(&mut out, items, 0, false, layout),
        scalar => {
            write_scalar(&mut out, scalar, 2);
            out.push('\n');
        }
    }
    out
}

/// End-of-line comments by key path, and the path of the key being written.
struct Notes<'a> {
    comments: &'a BTreeMap<Vec<String>, String>,
    path: Vec<String>,
}

fn pad(out: &mut String, indent: usize) {
    out.extend(std::iter::repeat_n(' ', indent));
}

/// `inline`: the first entry goes on the current line (after "- ").
fn write_mapping(
    out: &mut String,
    map: &Map<String, Value>,
    indent: usize,
    inline: bool,
    mut notes: Option<&mut Notes>,
    layout: Layout,
) {
    let sequence_indent = indent + if layout.indented_sequences { layout.step } else { 0 };
    for (i, (key, value)) in map.iter().enumerate() {
        if i > 0 || !inline {
            pad(out, indent);
        }
        let key_text = quoted_key(key);
        // YAML readers refuse implicit keys over 1024 characters; longer keys are written explicitly.
        if key_text.chars().count() > 1000 {
            out.push_str("? ");
            out.push_str(&key_text);
            out.push('\n');
            pad(out, indent);
            write_value(out, value, indent, indent + 2, None, layout);
            continue;
        }
        out.push_str(&key_text);
        match notes.as_deref_mut() {
            Some(notes) => {
                notes.path.push(key.clone());
                write_value(out, value, indent, sequence_indent, Some(notes), layout);
                notes.path.pop();
            }
            None => write_value(out, value, indent, sequence_indent, None, layout),
        }
    }
}

/// A mapping value after its key: `: scalar`, or the collection on the following lines; the key's
/// comment, if any, ends the key's line.
fn write_value(
    out: &mut String,
    value: &Value,
    indent: usize,
    sequence_indent: usize,
    notes: Option<&mut Notes>,
    layout: Layout,
) {
    let comment = notes.as_ref().and_then(|n| n.comments.get(&n.path)).map(|c| comment_text(c));
    match value {
        Value::Object(map) if !map.is_empty() => {
            out.push(':');
            out.push_str(comment.as_deref().unwrap_or_default());
            out.push('\n');
            write_mapping(out, map, indent + layout.step, false, notes, layout);
        }
        Value::Array(items) if !items.is_empty() => {
            out.push(':');
            out.push_str(comment.as_deref().unwrap_or_default());
            out.push('\n');
            write_sequence(out, items, sequence_indent, false, layout);
        }
        scalar => {
            out.push_str(": ");
            let mut text = String::new();
            write_scalar(&mut text, scalar, indent + layout.step);
            // A `|` block's comment goes after its header, before the lines.
            let header_end = text.find('\n').unwrap_or(text.len());
            text.insert_str(header_end, comment.as_deref().unwrap_or_default());
            out.push_str(&text);
            out.push('\n');
        }
    }
}

/// `  # text` on one line: line breaks and other control characters become spaces.
fn comment_text(text: &str) -> String {
    let clean: String = text.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
    format!("  # {clean}")
}

fn write_sequence(out: &mut String, items: &[Value], indent: usize, inline: bool, layout: Layout) {
    for (i, item) in items.iter().enumerate() {
        if i > 0 || !inline {
            pad(out, indent);
        }
        out.push_str("- ");
        match item {
            Value::Object(map) if !map.is_empty() => write_mapping(out, map, indent + 2, true, None, layout),
            Value::Array(inner) if !inner.is_empty() => write_sequence(out, inner, indent + 2, true, layout),
            scalar => {
                write_scalar(out, scalar, indent + 2);
                out.push('\n');
            }
        }
    }
}

/// A scalar or an empty collection; `block_indent` is where a `|` block's lines go.
fn write_scalar(out: &mut String, value: &Value, block_indent: usize) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&number_text(n)),
        Value::String(s) => write_string(out, s, block_indent),
        Value::Array(_) => out.push_str("[]"),
        Value::Object(_) => out.push_str("{}"),
    }
}

/// Integers as they are; floats always with a point and a signed exponent, the only float form
/// YAML 1.1 knows (`1e3` is a string there).
fn number_text(n: &Number) -> String {
    if n.is_i64() || n.is_u64() {
        return n.to_string();
    }
    let text = format!("{:?}", n.as_f64().unwrap_or_default());
    let (mantissa, exponent) = match text.split_once('e') {
        Some((m, e)) => (m.to_string(), Some(e)),
        None => (text.clone(), None),
    };
    let mantissa = if mantissa.contains('.') { mantissa } else { format!("{mantissa}.0") };
    match exponent {
        Some(e) if e.starts_with('-') => format!("{mantissa}e{e}"),
        Some(e) => format!("{mantissa}e+{e}"),
        None => mantissa,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Style {
    Plain,
    SingleQuoted,
    DoubleQuoted,
    Literal,
}

pub(super) fn quoted_key(key: &str) -> String {
    let mut out = String::new();
    match string_style(key, true) {
        Style::Plain => out.push_str(key),
        Style::SingleQuoted => single_quoted(&mut out, key),
        _ => double_quoted(&mut out, key),
    }
    out
}

fn write_string(out: &mut String, s: &str, block_indent: usize) {
    match string_style(s, false) {
        Style::Plain => out.push_str(s),
        Style::SingleQuoted => single_quoted(out, s),
        Style::DoubleQuoted => double_quoted(out, s),
        Style::Literal => literal(out, s, block_indent),
    }
}

/// Characters written only as escapes: controls, tab, the byte-order mark, and the line breaks
/// YAML 1.1 has but 1.2 does not (NEL, LS, PS), so both read the same text.
fn needs_escape(c: char) -> bool {
    matches!(c, '\0'..='\u{8}' | '\u{b}'..='\u{1f}' | '\t' | '\u{7f}'..='\u{9f}' | '\u{2028}' | '\u{2029}' | '\u{feff}' | '\u{fffe}' | '\u{ffff}')
}

/// libyaml's choice as serde_yaml made it (plain where allowed, else single quotes, else double;
/// `|` for multi-line text), plus quotes for every string a YAML 1.1 or 1.2 reader takes for
/// another type.
fn string_style(s: &str, key: bool) -> Style {
    let special = s.chars().any(needs_escape);
    if s.contains('\n') {
        if key || special || !literal_allowed(s) {
            return Style::DoubleQuoted;
        }
        return Style::Literal;
    }
    if special {
        return Style::DoubleQuoted;
    }
    if plain_allowed(s) && !needs_quotes(s) { Style::Plain } else { Style::SingleQuoted }
}

/// A `|` block reads back exactly unless a line ends in a space (kept, but invisible and easily
/// lost), or the text starts with a space or a line break (which would need an indentation
/// indicator, read differently by different parsers).
fn literal_allowed(s: &str) -> bool {
    !s.starts_with([' ', '\n']) && !s.split('\n').any(|line| line.ends_with(' '))
}

/// libyaml's rules for a plain scalar in block context (line breaks and special characters are
/// handled before).
fn plain_allowed(s: &str) -> bool {
    let Some(first) = s.chars().next() else { return false };
    if s.starts_with(' ') || s.ends_with(' ') || s.starts_with("---") || s.starts_with("...") {
        return false;
    }
    let followed_by_space = |i: usize| s[i..].chars().nth(1).is_none_or(|c| c == ' ');
    if "#,[]{}&*!|>'\"%@`".contains(first) || (matches!(first, '-' | '?' | ':') && followed_by_space(0)) {
        return false;
    }
    let bytes = s.as_bytes();
    for (i, c) in s.char_indices() {
        if c == ':' && followed_by_space(i) {
            return false;
        }
        if c == '#' && i > 0 && bytes[i - 1] == b' ' {
            return false;
        }
    }
    true
}

/// Could a YAML reader (1.2 core, 1.1, go-yaml as kubectl uses it) take this plain text for
/// something other than a string? Errs on the side of quoting (any case of the keywords, any
/// "dddd-" start): a needless quote costs nothing.
pub fn needs_quotes(s: &str) -> bool {
    if !matches!(resolve_plain(s), Ok(Value::String(_))) || yaml11_type(s).is_some() {
        return true;
    }
    const WORDS: [&str; 17] = [
        "y", "n", "yes", "no", "on", "off", "true", "false", "null", "~", "=", "<<", ".inf", "+.inf",
        "-.inf", ".nan", "nan",
    ];
    let lower = s.to_ascii_lowercase();
    if WORDS.contains(&lower.as_str()) {
        return true;
    }
    let date_start =
        s.len() > 4 && s.as_bytes()[..4].iter().all(u8::is_ascii_digit) && s.as_bytes()[4] == b'-';
    go_yaml_number(s) || date_start
}

/// go-yaml v2 (sigs.k8s.io/yaml, so kubectl) reads text starting with a digit, a sign or a point
/// as a number when, with every `_` dropped, Go's ParseInt (base prefixes 0x, 0o, 0b, leading-zero
/// octal) or its float pattern accepts it; text starting with "dddd-" it tries as a timestamp.
fn go_yaml_number(s: &str) -> bool {
    if !s.starts_with(|c: char| c.is_ascii_digit() || matches!(c, '-' | '+' | '.')) {
        return false;
    }
    let plain: String = s.chars().filter(|&c| c != '_').collect();
    let unsigned = plain.strip_prefix(['-', '+']).unwrap_or(&plain);
    let digits = |t: &str, radix: u32| !t.is_empty() && t.chars().all(|c| c.is_digit(radix));
    let prefixed = |lower: &str, radix: u32| {
        unsigned.get(..2).is_some_and(|p| p.eq_ignore_ascii_case(lower)) && digits(&unsigned[2..], radix)
    };
    digits(unsigned, 10)
        || prefixed("0x", 16)
        || prefixed("0o", 8)
        || prefixed("0b", 2)
        || is_core_float(unsigned)
}

fn single_quoted(out: &mut String, s: &str) {
    out.push('\'');
    out.push_str(&s.replace('\'', "''"));
    out.push('\'');
}

fn double_quoted(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\0' => out.push_str("\\0"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\u{b}' => out.push_str("\\v"),
            '\u{c}' => out.push_str("\\f"),
            '\r' => out.push_str("\\r"),
            '\u{1b}' => out.push_str("\\e"),
            '\u{85}' => out.push_str("\\N"),
            '\u{2028}' => out.push_str("\\L"),
            '\u{2029}' => out.push_str("\\P"),
            c if needs_escape(c) && (c as u32) <= 0xff => out.push_str(&format!("\\x{:02X}", c as u32)),
            c if needs_escape(c) => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

/// `|-` (no final line break), `|` (one), `|+` (more), then the lines, indented.
fn literal(out: &mut String, s: &str, indent: usize) {
    let body = s.strip_suffix('\n');
    out.push('|');
    match body {
        None => out.push('-'),
        Some(b) if b.is_empty() || b.ends_with('\n') => out.push('+'),
        Some(_) => {}
    }
    for line in body.unwrap_or(s).split('\n') {
        out.push('\n');
        if !line.is_empty() {
            pad(out, indent);
            out.push_str(line);
        }
    }
}
