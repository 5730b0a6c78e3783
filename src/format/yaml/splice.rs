//! Edits in place: a YAML text changed so that some of its documents read as new values, touching
//! only the bytes those changes need. Comments, key order, quoting, indentation and every other
//! document stay byte for byte; a changed scalar is replaced where it is written, a removed entry
//! or list item loses exactly its lines, a new key or item is inserted after the last one of its
//! block at that block's indentation. What cannot change alone is refused with its place: an
//! anchor or alias (one edit would change several values), a block scalar (`|`, `>`), a value that
//! changes between a scalar and a collection. Inside a flow collection (`{a: 1}`, `[x, y]`) a changed
//! value is replaced on its own bytes too, new keys and items go after the last one, and only the
//! smallest collection that loses keys or items is written again as a flow collection (as JSON in a
//! JSON text), on its own bytes. The result is read back and must give
//! exactly the intended values, or nothing is returned.

use serde_json::Value;

use super::emit::{Layout, to_string, to_string_in};
use super::parse::{DOCUMENT_LIMITS, Node, Shape, YamlError, parse};

/// One replacement of `start..end` by `text`.
#[derive(Debug, Clone)]
struct Edit {
    start: usize,
    end: usize,
    text: String,
}

/// `text` with document `index` (0-based, among the non-empty documents) reading as `value`, for
/// each `(index, value)` of `changes`. Unchanged when nothing differs.
pub fn edit_documents(text: &str, changes: &[(usize, Value)]) -> Result<String, YamlError> {
    // The parser reads past a byte-order mark; positions are in the text after it.
    let (bom, body) = match text.strip_prefix('\u{feff}') {
        Some(rest) => ("\u{feff}", rest),
        None => ("", text),
    };
    let docs = parse(body, &DOCUMENT_LIMITS)?;
    let newline = if body.contains("\r\n") { "\r\n" } else { "\n" };
    let ctx = Context {
        text: body,
        newline,
        layout: layout(body, &docs),
        // A JSON text (a .json manifest): what is written again is written as JSON.
        json: body.trim_start().starts_with(['{', '[']),
    };
    let mut edits = Vec::new();
    let mut wanted: Vec<Value> = docs.iter().map(|d| d.value.clone()).collect();
    for (index, value) in changes {
        let Some(doc) = docs.get(*index) else {
            return Err(refusal(0, 0, format!("the text has no document {}", index + 1)));
        };
        ctx.diff(&doc.root, &doc.value, value, &mut edits)?;
        wanted[*index] = value.clone();
    }
    if edits.is_empty() {
        return Ok(text.to_string());
    }
    edits.sort_by_key(|e| e.start);
    let mut out = String::with_capacity(body.len() + 64);
    out.push_str(bom);
    let mut at = 0;
    for e in &edits {
        if e.start < at {
            let (line, column) = position(body, e.start);
            return Err(refusal(line, column, "two changes overlap in the text; edit it by hand".into()));
        }
        out.push_str(&body[at..e.start]);
        out.push_str(&e.text);
        at = e.end;
    }
    out.push_str(&body[at..]);
    // Read back: exactly the intended documents, or nothing.
    let again = parse(out.strip_prefix('\u{feff}').unwrap_or(&out), &DOCUMENT_LIMITS).map_err(|e| {
        refusal(0, 0, format!("the edited text would not read as YAML ({e}); nothing was changed"))
    })?;
    let read: Vec<&Value> = again.iter().map(|d| &d.value).collect();
    if read.len() != wanted.len() || read.iter().zip(&wanted).any(|(a, b)| *a != b) {
        // The first document that would differ, where it starts in the text as it is.
        let differs = (0..wanted.len()).find(|&i| read.get(i) != Some(&&wanted[i]));
        let (line, column) = differs.and_then(|i| docs.get(i)).map_or((0, 0), |d| d.root.at);
        return Err(refusal(
            line,
            column,
            "the edited text would not read back as the intended object; nothing was changed (edit it by hand)"
                .into(),
        ));
    }
    Ok(out)
}

/// `text` with every line of the documents and `List` items that `hide` picks replaced by a line
/// that says so (its indentation kept), as many lines as before: a file's diff shown without the
/// values of its Secrets.
pub fn hide_documents(text: &str, hide: impl Fn(&Value) -> bool) -> Result<String, YamlError> {
    let body = text.strip_prefix('\u{feff}').unwrap_or(text);
    let docs = parse(body, &DOCUMENT_LIMITS)?;
    let ctx = Context { text: body, newline: "\n", layout: Layout::DEFAULT, json: false };
    let lines =
        |node: &Node| (line_start(body, node.span.0), line_end(body, ctx.content_end(node).max(node.span.0)));
    let mut hidden = Vec::new();
    for doc in &docs {
        if hide(&doc.value) {
            hidden.push(lines(&doc.root));
        } else if let (Shape::Mapping(entries), Some(values)) =
            (&doc.root.shape, doc.value["items"].as_array())
        {
            if let Some(Shape::Sequence(items)) = entries.get("items").map(|n| &n.shape) {
                hidden.extend(items.iter().zip(values).filter(|(_, v)| hide(v)).map(|(n, _)| lines(n)));
            }
        }
    }
    hidden.sort();
    let mut out = String::with_capacity(text.len());
    out.push_str(&text[..text.len() - body.len()]);
    let mut at = 0;
    for (start, end) in hidden {
        if start < at {
            continue;
        }
        out.push_str(&body[at..start]);
        for line in body[start..end].split_inclusive('\n') {
            let content = line.trim_end_matches(['\n', '\r']);
            let indent = &content[..content.len() - content.trim_start().len()];
            out.push_str(&format!("{indent}# (a Secret: not shown){}", &line[content.len()..]));
        }
        at = end;
    }
    out.push_str(&body[at..]);
    Ok(out)
}

/// The 1-based line and column (in characters) of `byte`.
fn position(text: &str, byte: usize) -> (usize, usize) {
    let start = line_start(text, byte);
    (text[..byte].matches('\n').count() + 1, text[start..byte].chars().count() + 1)
}

fn refusal(line: usize, column: usize, message: String) -> YamlError {
    YamlError { line, column, message }
}

/// How the text indents its blocks: the most common step from a key to the keys of the mapping
/// under it (2 when none), and whether sequences under a key are mostly indented.
fn layout(text: &str, docs: &[super::parse::Parsed]) -> Layout {
    let (mut indented, mut indentless) = (0, 0);
    let mut steps = std::collections::BTreeMap::<usize, usize>::new();
    for d in docs {
        count_sequence_styles(text, &d.root, &mut indented, &mut indentless);
        count_steps(text, &d.root, &mut steps);
    }
    let step = steps.iter().max_by_key(|(step, n)| (**n, std::cmp::Reverse(**step))).map_or(2, |(s, _)| *s);
    Layout { step, indented_sequences: indented > indentless }
}

/// Counts, for each block mapping under a key, how far its keys are indented past that key.
fn count_steps(text: &str, node: &Node, steps: &mut std::collections::BTreeMap<usize, usize>) {
    match &node.shape {
        Shape::Mapping(entries) => {
            for v in entries.values() {
                if let (Shape::Mapping(inner), false, false) = (&v.shape, v.flow, v.anchored) {
                    let first = inner.values().map(|e| column(text, e.key_byte)).min();
                    if let Some(step) = first.and_then(|c| c.checked_sub(column(text, v.key_byte))) {
                        if step > 0 {
                            *steps.entry(step).or_default() += 1;
                        }
                    }
                }
                count_steps(text, v, steps);
            }
        }
        Shape::Sequence(items) => items.iter().for_each(|i| count_steps(text, i, steps)),
        Shape::Scalar { .. } => {}
    }
}

/// Counts the block sequences under a key that are indented past the key (`env:\n  - name: A`)
/// and those written at the key's column (`env:\n- name: A`, as kubectl writes them).
fn count_sequence_styles(text: &str, node: &Node, indented: &mut usize, indentless: &mut usize) {
    match &node.shape {
        Shape::Mapping(entries) => {
            for v in entries.values() {
                if let (Shape::Sequence(items), false, false) = (&v.shape, v.flow, v.anchored) {
                    // A block sequence starts at its first item's content: its dash is before.
                    if let Some(dash) = items.first().and_then(|i| dash_before(text, i.span.0)) {
                        match column(text, dash) > column(text, v.key_byte) {
                            true => *indented += 1,
                            false => *indentless += 1,
                        }
                    }
                }
                count_sequence_styles(text, v, indented, indentless);
            }
        }
        Shape::Sequence(items) => {
            items.iter().for_each(|i| count_sequence_styles(text, i, indented, indentless))
        }
        Shape::Scalar { .. } => {}
    }
}

/// The dash of a block sequence item whose content starts at `start`.
fn dash_before(text: &str, start: usize) -> Option<usize> {
    let before = text[..start].trim_end_matches([' ', '\t']);
    before.ends_with('-').then(|| before.len() - 1)
}

/// Bytes from the start of the line to `byte`.
fn column(text: &str, byte: usize) -> usize {
    byte - line_start(text, byte)
}

fn line_start(text: &str, byte: usize) -> usize {
    text[..byte].rfind('\n').map_or(0, |i| i + 1)
}

/// The byte after the newline that ends the line holding `byte` (the text's end on its last line).
fn line_end(text: &str, byte: usize) -> usize {
    text[byte..].find('\n').map_or(text.len(), |i| byte + i + 1)
}

struct Context<'a> {
    text: &'a str,
    newline: &'a str,
    layout: Layout,
    json: bool,
}

impl Context<'_> {
    fn refuse(&self, node: &Node, why: &str) -> YamlError {
        refusal(node.at.0, node.at.1, why.to_string())
    }

    /// The last byte that belongs to `node` (a block collection ends with its last child).
    fn content_end(&self, node: &Node) -> usize {
        let end = match &node.shape {
            _ if node.flow || node.anchored => node.span.1,
            Shape::Scalar { .. } => node.span.1,
            Shape::Mapping(entries) => {
                entries.values().map(|n| self.content_end(n).max(n.key_byte)).max().unwrap_or(node.span.1)
            }
            Shape::Sequence(items) => items.iter().map(|n| self.content_end(n)).max().unwrap_or(node.span.1),
        };
        // A block scalar's content ends with its newline: that newline ends its last line.
        match end > node.span.0 && self.text.as_bytes().get(end - 1) == Some(&b'\n') {
            true => end - 1,
            false => end,
        }
    }

    /// `block` (whole lines) inserted after `node`'s last line. On a last line without a newline the
    /// newline goes before the block and the text still ends without one.
    fn insert_after(&self, node: &Node, block: &str) -> Edit {
        let at = line_end(self.text, self.content_end(node));
        let text = match self.text[..at].ends_with('\n') {
            true => block.to_string(),
            false => format!("{}{}", self.newline, block.strip_suffix(self.newline).unwrap_or(block)),
        };
        Edit { start: at, end: at, text }
    }

    /// The lines of a block item or entry starting at `first` (its dash or key), through its end.
    fn whole_lines(&self, first: usize, node: &Node, what: &str) -> Result<(usize, usize), YamlError> {
        let start = line_start(self.text, first);
        if !self.text[start..first].chars().all(|c| c == ' ' || c == '\t') {
            return Err(
                self.refuse(node, &format!("{what} shares its line with other content; edit it by hand"))
            );
        }
        let end = line_end(self.text, self.content_end(node).max(first));
        Ok((start, end))
    }

    /// The dash of a block sequence item.
    fn dash(&self, item: &Node) -> Option<usize> {
        dash_before(self.text, item.span.0)
    }

    fn indent(&self, block: &str, column: usize) -> String {
        let pad = " ".repeat(column);
        block.lines().map(|l| format!("{pad}{l}{}", self.newline)).collect()
    }

    fn diff(&self, node: &Node, old: &Value, new: &Value, edits: &mut Vec<Edit>) -> Result<(), YamlError> {
        if old == new {
            return Ok(());
        }
        if node.anchored {
            return Err(self.refuse(
                node,
                "the value to change is an anchor or alias (& or *): changing it here would change every copy; write it out and try again",
            ));
        }
        if node.flow {
            return self.rewrite_flow(node, old, new, edits);
        }
        match (&node.shape, old, new) {
            (Shape::Scalar { block: true, .. }, _, _) => {
                Err(self.refuse(node, "the value to change is a block scalar (| or >); edit it by hand"))
            }
            (Shape::Scalar { .. }, o, n)
                if !o.is_object() && !o.is_array() && !n.is_object() && !n.is_array() =>
            {
                let written = &self.text[node.span.0..node.span.1];
                if node.span.0 == node.span.1 {
                    return Err(self
                        .refuse(node, "the value to change is empty (key with no value); edit it by hand"));
                }
                edits.push(Edit { start: node.span.0, end: node.span.1, text: scalar_text(n, written) });
                Ok(())
            }
            (Shape::Mapping(entries), Value::Object(o), Value::Object(n)) => {
                for (key, child) in entries {
                    match (o.get(key), n.get(key)) {
                        (Some(a), Some(b)) => self.diff(child, a, b, edits)?,
                        (Some(_), None) => {
                            let (start, end) =
                                self.whole_lines(child.key_byte, child, &format!("key \"{key}\""))?;
                            edits.push(Edit { start, end, text: String::new() });
                        }
                        _ => {}
                    }
                }
                let added: serde_json::Map<String, Value> = n
                    .iter()
                    .filter(|(k, _)| !o.contains_key(*k))
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect();
                if !added.is_empty() {
                    let column = entries.values().map(|e| column(self.text, e.key_byte)).min().unwrap_or(0);
                    let text: String = added.iter().map(|(k, v)| self.entry(k, v, column)).collect();
                    edits.push(self.insert_after(node, &text));
                }
                Ok(())
            }
            (Shape::Sequence(items), Value::Array(o), Value::Array(n)) => {
                self.diff_items(node, items, o, n, edits)
            }
            _ => Err(self.refuse(
                node,
                "the value changes between a single value and a list or mapping; edit it by hand",
            )),
        }
    }

    /// A new `key: value` entry at `column`, in the document's block style.
    fn entry(&self, key: &str, value: &Value, column: usize) -> String {
        self.indent(&to_string_in(&serde_json::json!({ key: value }), self.layout), column)
    }

    fn diff_items(
        &self,
        node: &Node,
        items: &[Node],
        old: &[Value],
        new: &[Value],
        edits: &mut Vec<Edit>,
    ) -> Result<(), YamlError> {
        let name = |v: &Value| v.get("name").and_then(Value::as_str).map(str::to_string);
        let named = old.iter().chain(new).all(|v| name(v).is_some());
        // Pairs (old index, new index); the rest of old is removed, the rest of new added.
        let mut pairs = Vec::new();
        if named {
            let mut at = std::collections::HashMap::new();
            for (j, n) in new.iter().enumerate() {
                at.entry(name(n)).or_insert(j);
            }
            for (i, o) in old.iter().enumerate() {
                if let Some(&j) = at.get(&name(o)) {
                    pairs.push((i, j));
                }
            }
        } else if let Some(kept) = kept_items(old, new) {
            // Items removed and added at the end, the rest as they were (an arg dropped): the
            // removed ones lose their lines, the others keep theirs (and their comments).
            pairs = kept;
        } else {
            pairs.extend((0..old.len().min(new.len())).map(|i| (i, i)));
        }
        for &(i, j) in &pairs {
            self.diff(&items[i], &old[i], &new[j], edits)?;
        }
        let (mut kept_old, mut kept_new) = (vec![false; old.len()], vec![false; new.len()]);
        for &(i, j) in &pairs {
            kept_old[i] = true;
            kept_new[j] = true;
        }
        for (i, item) in items.iter().enumerate() {
            if kept_old[i] {
                continue;
            }
            let Some(dash) = self.dash(item) else {
                return Err(self.refuse(item, "cannot find this list item's dash; edit it by hand"));
            };
            let (start, end) = self.whole_lines(dash, item, "the list item")?;
            edits.push(Edit { start, end, text: String::new() });
        }
        let added: Vec<&Value> =
            new.iter().enumerate().filter(|(j, _)| !kept_new[*j]).map(|(_, v)| v).collect();
        if !added.is_empty() {
            let Some(dash) = items.first().and_then(|i| self.dash(i)) else {
                return Err(self.refuse(node, "cannot find this list's dashes; edit it by hand"));
            };
            let block = to_string_in(&Value::Array(added.into_iter().cloned().collect()), self.layout);
            edits.push(self.insert_after(node, &self.indent(&block, column(self.text, dash))));
        }
        Ok(())
    }

    /// Inside a flow collection: a changed scalar is replaced on its own bytes, and the smallest
    /// collection whose keys or items change is written again in flow style (as JSON in a JSON
    /// text), so that the rest of the collection keeps its bytes.
    fn rewrite_flow(
        &self,
        node: &Node,
        old: &Value,
        new: &Value,
        edits: &mut Vec<Edit>,
    ) -> Result<(), YamlError> {
        if old == new {
            return Ok(());
        }
        if node.anchored {
            return Err(self.refuse(
                node,
                "the value to change is an anchor or alias (& or *): changing it here would change every copy; write it out and try again",
            ));
        }
        let render = |v: &Value| match self.json {
            true => serde_json::to_string(v).unwrap_or_default(),
            false => flow(v),
        };
        match (&node.shape, old, new) {
            (Shape::Scalar { block: true, .. }, _, _) => {
                return Err(
                    self.refuse(node, "the value to change is a block scalar (| or >); edit it by hand")
                );
            }
            (Shape::Scalar { .. }, _, _) if node.span.0 == node.span.1 => {
                return Err(
                    self.refuse(node, "the value to change is empty (key with no value); edit it by hand")
                );
            }
            (Shape::Scalar { .. }, _, n) => {
                let written = &self.text[node.span.0..node.span.1];
                let text = match n {
                    Value::String(_) if !self.json && written.starts_with(['"', '\'']) => {
                        scalar_text(n, written)
                    }
                    _ => render(n),
                };
                edits.push(Edit { start: node.span.0, end: node.span.1, text });
            }
            (Shape::Mapping(entries), Value::Object(o), Value::Object(n))
                if o.len() == n.len() && o.keys().all(|k| n.contains_key(k)) =>
            {
                for (key, child) in entries {
                    if let (Some(a), Some(b)) = (o.get(key), n.get(key)) {
                        self.rewrite_flow(child, a, b, edits)?;
                    }
                }
            }
            (Shape::Sequence(items), Value::Array(o), Value::Array(n)) if o.len() == n.len() => {
                for (i, child) in items.iter().enumerate() {
                    self.rewrite_flow(child, &o[i], &n[i], edits)?;
                }
            }
            // Keys added (none removed): the others as above, the new ones after the last.
            (Shape::Mapping(entries), Value::Object(o), Value::Object(n))
                if !o.is_empty() && o.keys().all(|k| n.contains_key(k)) =>
            {
                for (key, child) in entries {
                    if let (Some(a), Some(b)) = (o.get(key), n.get(key)) {
                        self.rewrite_flow(child, a, b, edits)?;
                    }
                }
                let at = entries.values().map(|e| self.content_end(e)).max().unwrap_or(node.span.0);
                let key = |k: &str| match self.json {
                    true => serde_json::to_string(k).unwrap_or_default(),
                    false => flow_scalar_key(k),
                };
                let added: String = n
                    .iter()
                    .filter(|(k, _)| !o.contains_key(*k))
                    .map(|(k, v)| format!(", {}: {}", key(k), render(v)))
                    .collect();
                edits.push(Edit { start: at, end: at, text: added });
            }
            // Items added at the end: the others as above, the new ones after the last.
            (Shape::Sequence(items), Value::Array(o), Value::Array(n))
                if !o.is_empty()
                    && n.len() > o.len()
                    && n[..o.len()].iter().zip(o).all(|(a, b)| same_item(a, b)) =>
            {
                for (i, child) in items.iter().enumerate() {
                    self.rewrite_flow(child, &o[i], &n[i], edits)?;
                }
                let at = items.iter().map(|e| self.content_end(e)).max().unwrap_or(node.span.0);
                let added: String = n[o.len()..].iter().map(|v| format!(", {}", render(v))).collect();
                edits.push(Edit { start: at, end: at, text: added });
            }
            _ => edits.push(Edit { start: node.span.0, end: node.span.1, text: render(new) }),
        }
        Ok(())
    }
}

/// A scalar as one token, in the style it replaces where that style can hold it (a double- or
/// single-quoted string stays quoted so).
fn scalar_text(value: &Value, written: &str) -> String {
    let json = || serde_json::to_string(value).unwrap_or_default();
    match value {
        Value::String(s) if s.contains('\n') || written.starts_with('"') => json(),
        Value::String(s) if written.starts_with('\'') => format!("'{}'", s.replace('\'', "''")),
        Value::String(s) if plain(s) => s.clone(),
        _ => json(),
    }
}

/// Whether the emitter writes `s` without quotes: then a YAML reader (1.1 or 1.2) reads it back as
/// this string, in a block.
fn plain(s: &str) -> bool {
    !s.contains('\n') && to_string(&Value::String(s.to_string())).trim_end_matches('\n') == s
}

/// The items of `old` that `new` keeps as they are, as (old index, new index) pairs (the longest
/// such run), when `new` is `old` with items removed and items added after all kept ones, and that
/// removes and adds no more items than pairing by position changes; None otherwise (items are then
/// paired by position and changed in place).
fn kept_items(old: &[Value], new: &[Value]) -> Option<Vec<(usize, usize)>> {
    let (n, m) = (old.len(), new.len());
    if n == 0 || n * m > 1_000_000 {
        return None;
    }
    // Longest common subsequence, from the ends.
    let mut best = vec![vec![0usize; m + 1]; n + 1];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            best[i][j] = match old[i] == new[j] {
                true => best[i + 1][j + 1] + 1,
                false => best[i + 1][j].max(best[i][j + 1]),
            };
        }
    }
    let (mut i, mut j, mut pairs) = (0, 0, Vec::new());
    while i < n && j < m {
        if old[i] == new[j] {
            pairs.push((i, j));
            (i, j) = (i + 1, j + 1);
        } else if best[i + 1][j] >= best[i][j + 1] {
            i += 1;
        } else {
            j += 1;
        }
    }
    let last = pairs.last().map_or(0, |&(_, j)| j + 1);
    let added_at_end = pairs.len() == last;
    // Fewer items removed and added than items changed by position (`[a, b]` to `[a, B]`: b
    // changes in place); on a tie the kept items keep their lines.
    let k = pairs.len();
    let by_position = (0..n.min(m)).filter(|&i| old[i] != new[i]).count() + n.abs_diff(m);
    (k < n && added_at_end && (n - k) + (m - k) <= by_position).then_some(pairs)
}

/// Whether two list items are the same item (by `name` when both have one, else by position).
fn same_item(a: &Value, b: &Value) -> bool {
    match (a.get("name"), b.get("name")) {
        (Some(x), Some(y)) => x == y,
        _ => true,
    }
}

/// A value as a one-line flow collection: `{a: 1, b: [x, y]}`.
fn flow(value: &Value) -> String {
    match value {
        Value::Object(map) => {
            let entries: Vec<String> =
                map.iter().map(|(k, v)| format!("{}: {}", flow_scalar_key(k), flow(v))).collect();
            format!("{{{}}}", entries.join(", "))
        }
        Value::Array(items) => format!("[{}]", items.iter().map(flow).collect::<Vec<_>>().join(", ")),
        Value::String(s) if !plain(s) || s.contains([',', '[', ']', '{', '}', '#']) => {
            serde_json::to_string(s).unwrap_or_default()
        }
        other => scalar_text(other, ""),
    }
}

fn flow_scalar_key(key: &str) -> String {
    flow(&Value::String(key.to_string()))
}

#[cfg(test)]
mod tests;
