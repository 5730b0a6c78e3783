//! kubectl's JSONPath templates (`-o jsonpath=…`, `--sort-by`), as client-go's `util/jsonpath`
//! reads and prints them: `{.a.b}`, `{.items[0]}`, `[*]`, `[-1]`, `[1:3]`, `[0,2]`, `..name`,
//! `[?(@.name=="web")]`, `{range …}…{end}`, `{"\n"}`, text between actions, `\.` in field names.
//!
//! Printing follows kubectl: strings bare, numbers and booleans as Go prints them, maps and lists
//! as compact JSON with sorted keys; the values one action finds are separated by a space. Two
//! deliberate differences: `['a.b']` is the key `a.b` (kubectl splits it at the dots, so quoting
//! does not help there), and a map's values (`.*`, `..`) come in document order (kubectl's order
//! is random).

use serde_json::{Number, Value};

pub mod columns;

/// A parsed template.
#[derive(Debug, Clone)]
pub struct Template {
    source: String,
    parts: Vec<Part>,
    allow_missing: bool,
}

#[derive(Debug, Clone)]
enum Part {
    Text(String),
    Path(Path),
    /// `{range PATH}BODY{end}`: BODY once per value PATH finds, with that value as the root.
    Range(Path, Vec<Part>),
}

#[derive(Debug, Clone)]
struct Path {
    /// The path as written, for messages.
    text: String,
    /// Each step, with the length (in chars) of `text` up to and including it.
    steps: Vec<(Step, usize)>,
}

#[derive(Debug, Clone)]
enum Step {
    Field(String),
    /// `.*`, `[*]`: every value of a map or list.
    Wildcard,
    /// `..`: the value and every map or list below it.
    Recursive,
    Slice(Slice),
    /// `[0,2]`, `['a','b']`: each member over all values, one after the other (as kubectl).
    Union(Vec<Step>),
    Filter(Box<Filter>),
}

/// `[i]`, `[start:end:step]` with kubectl's rules: negative counts from the end, `[i]` is `[i:i+1]`.
#[derive(Debug, Clone, Copy)]
struct Slice {
    start: Option<i64>,
    end: Option<i64>,
    /// `[i]`: the end was not written but is `i + 1` (so `[-1]` ends at the list's end).
    derived_end: bool,
    step: Option<i64>,
}

#[derive(Debug, Clone)]
struct Filter {
    left: Path,
    /// None: `[?(@.x)]`, the items where the path finds something.
    compare: Option<(Op, Operand)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Eq,
    Ne,
    Lt,
    Gt,
    Le,
    Ge,
}

impl Op {
    const ALL: [(&'static str, Op); 6] =
        [("==", Op::Eq), ("!=", Op::Ne), ("<=", Op::Le), (">=", Op::Ge), ("<", Op::Lt), (">", Op::Gt)];
}

#[derive(Debug, Clone)]
enum Operand {
    Literal(Value),
    Path(Path),
}

/// Parses a template; the message names the template and the column (1-based) of the mistake.
pub fn parse(text: &str) -> Result<Template, String> {
    let parts = Parser::new(text, 0).template().map_err(|e| e.message("jsonpath template", text))?;
    Ok(Template { source: text.to_string(), parts, allow_missing: false })
}

/// A `--sort-by` key: one path, with or without braces and the leading dot, as kubectl takes it
/// (`.metadata.name`, `{.metadata.name}`, `metadata.name`).
pub fn parse_sort_key(text: &str) -> Result<Template, String> {
    parse_relaxed(text, "--sort-by")
}

/// One path as kubectl's RelaxedJSONPathExpression takes it (`--sort-by`, a custom column);
/// `what` names it in messages.
fn parse_relaxed(text: &str, what: &str) -> Result<Template, String> {
    let trimmed = text.trim_start();
    let (inner, skipped) = match trimmed.trim_end().strip_prefix('{').and_then(|t| t.strip_suffix('}')) {
        Some(inner) => (inner, text.len() - trimmed.len() + 1),
        None => (trimmed.trim_end(), text.len() - trimmed.len()),
    };
    let column = text[..skipped + inner.len() - inner.trim_start().len()].chars().count() as isize;
    let inner = inner.trim();
    let (path_text, offset) = if inner.is_empty() || inner.starts_with(['.', '[', '@', '$']) {
        (inner.to_string(), column)
    } else {
        // The dot kubectl adds is not in the text: columns stay those of the text.
        (format!(".{inner}"), column - 1)
    };
    let mut parser = Parser::new(&path_text, offset);
    let path = parser.path().map_err(|e| e.message(what, text))?;
    if parser.pos != parser.chars.len() {
        return Err(format!("{what} \"{text}\" is not one JSONPath expression; give one, e.g. .name"));
    }
    Ok(Template { source: text.to_string(), parts: vec![Part::Path(path)], allow_missing: false })
}

fn quantity(text: &str) -> Option<f64> {
    crate::format::canonical::canonical_quantity(text)?.parse().ok()
}

/// `--sort-by`'s order of two objects' key values (each what [`Template::values`] found), as
/// kubectl sorts: by the first value; an object without one first; numbers and quantities by value,
/// other text byte by byte (`w10` before `w2`, as kubectl 1.36 sorts names), `false` before `true`.
pub fn sort_order(a: &[&Value], b: &[&Value]) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    fn rank(value: &Value) -> u8 {
        match value {
            Value::Null => 0,
            Value::Bool(_) => 1,
            Value::Number(_) => 2,
            Value::String(_) => 3,
            Value::Array(_) => 4,
            Value::Object(_) => 5,
        }
    }
    match (a.first(), b.first()) {
        (None, None) => Ordering::Equal,
        (None, Some(_)) => Ordering::Less,
        (Some(_), None) => Ordering::Greater,
        (Some(a), Some(b)) => match (a, b) {
            (Value::Number(x), Value::Number(y)) => match (x.as_i64(), y.as_i64()) {
                (Some(x), Some(y)) => x.cmp(&y),
                _ => x.as_f64().unwrap_or_default().total_cmp(&y.as_f64().unwrap_or_default()),
            },
            // Quantities (`500m`, `1.5`, `2Gi`) by value, as kubectl; other text byte by byte.
            (Value::String(x), Value::String(y)) => match (quantity(x), quantity(y)) {
                (Some(x), Some(y)) => x.total_cmp(&y),
                _ => x.cmp(y),
            },
            (Value::Bool(x), Value::Bool(y)) => x.cmp(y),
            _ if rank(a) != rank(b) => rank(a).cmp(&rank(b)),
            _ => text_of(a).cmp(&text_of(b)),
        },
    }
}

impl Template {
    /// The template's text as given.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// A missing field gives nothing instead of an error (kubectl's
    /// `--allow-missing-template-keys=true`, its default for `get`).
    pub fn allowing_missing(mut self) -> Template {
        self.allow_missing = true;
        self
    }

    /// The text the template makes of `doc`; a missing field is an error naming the template.
    pub fn render(&self, doc: &Value) -> Result<String, String> {
        let mut out = String::new();
        self.render_parts(&self.parts, doc, &mut out)
            .map_err(|e| format!("jsonpath \"{}\": {e}", self.source))?;
        Ok(out)
    }

    /// What the template's first expression finds in `doc` (nothing when a field is missing): the
    /// keys of `--sort-by`.
    pub fn values<'a>(&self, doc: &'a Value) -> Vec<&'a Value> {
        let lenient = Eval { allow_missing: true };
        self.parts
            .iter()
            .find_map(|part| match part {
                Part::Path(path) | Part::Range(path, _) => Some(lenient.path(path, doc).unwrap_or_default()),
                Part::Text(_) => None,
            })
            .unwrap_or_default()
    }

    fn render_parts(&self, parts: &[Part], root: &Value, out: &mut String) -> Result<(), String> {
        let eval = Eval { allow_missing: self.allow_missing };
        for part in parts {
            match part {
                Part::Text(text) => out.push_str(text),
                Part::Path(path) => {
                    for (i, value) in eval.path(path, root)?.into_iter().enumerate() {
                        if i > 0 {
                            out.push(' ');
                        }
                        out.push_str(&text_of(value));
                    }
                }
                Part::Range(path, body) => {
                    for value in eval.path(path, root)? {
                        self.render_parts(body, value, out)?;
                    }
                }
            }
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// Parsing

/// A mistake at a column of the template.
struct ParseError {
    column: usize,
    what: String,
}

impl ParseError {
    /// `what`: "jsonpath template", "sort key".
    fn message(&self, what: &str, template: &str) -> String {
        format!("{what} \"{template}\": column {}: {}", self.column, self.what)
    }
}

/// What one `{…}` holds.
enum Action {
    Text(String),
    Path(Path),
    Range(Path),
    End,
}

/// Characters that end a field name (kubectl's terminators).
fn ends_name(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\n' | '.' | ',' | '[' | ']' | '$' | '@' | '{' | '}')
}

struct Parser {
    chars: Vec<char>,
    pos: usize,
    /// Where `chars` starts in the template (a filter's operands are parsed on their own; a sort
    /// key's added dot starts before it).
    offset: isize,
}

impl Parser {
    fn new(text: &str, offset: isize) -> Parser {
        Parser { chars: text.chars().collect(), pos: 0, offset }
    }

    fn error<T>(&self, at: usize, what: impl Into<String>) -> Result<T, ParseError> {
        Err(ParseError { column: (self.offset + at as isize + 1).max(1) as usize, what: what.into() })
    }

    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn at(&self, text: &str) -> bool {
        text.chars().enumerate().all(|(i, c)| self.chars.get(self.pos + i) == Some(&c))
    }

    fn skip_spaces(&mut self) {
        while matches!(self.peek(), Some(' ' | '\t')) {
            self.pos += 1;
        }
    }

    fn template(&mut self) -> Result<Vec<Part>, ParseError> {
        // Open ranges: their path, the column of their `{`, and the parts before them.
        let mut open: Vec<(Path, usize, Vec<Part>)> = Vec::new();
        let mut parts = Vec::new();
        let mut text = String::new();
        while let Some(c) = self.peek() {
            if c != '{' {
                text.push(c);
                self.pos += 1;
                continue;
            }
            if !text.is_empty() {
                parts.push(Part::Text(std::mem::take(&mut text)));
            }
            let brace = self.pos;
            self.pos += 1;
            match self.action(brace)? {
                Action::Text(t) => parts.push(Part::Text(t)),
                Action::Path(path) => parts.push(Part::Path(path)),
                Action::Range(path) => open.push((path, brace, std::mem::take(&mut parts))),
                Action::End => match open.pop() {
                    Some((path, _, before)) => {
                        let body = std::mem::replace(&mut parts, before);
                        parts.push(Part::Range(path, body));
                    }
                    None => return self.error(brace, "{end} closes no {range …}"),
                },
            }
        }
        if !text.is_empty() {
            parts.push(Part::Text(text));
        }
        match open.pop() {
            Some((_, brace, _)) => self.error(brace, "{range …} has no {end}"),
            None => Ok(parts),
        }
    }

    /// After `{`: up to and including its `}`.
    fn action(&mut self, brace: usize) -> Result<Action, ParseError> {
        self.skip_spaces();
        let action = match self.peek() {
            Some(quote @ ('"' | '\'')) => Action::Text(self.quoted(quote)?),
            Some(c) if c.is_alphabetic() => {
                let start = self.pos;
                while self.peek().is_some_and(|c| c.is_alphanumeric() || c == '_') {
                    self.pos += 1;
                }
                let word: String = self.chars[start..self.pos].iter().collect();
                match word.as_str() {
                    "range" => {
                        self.skip_spaces();
                        let path = self.path()?;
                        if path.steps.is_empty() && path.text.is_empty() {
                            return self.error(self.pos, "{range} needs a path, e.g. {range .items[*]}");
                        }
                        Action::Range(path)
                    }
                    "end" => Action::End,
                    _ => {
                        return self.error(
                            start,
                            format!("unknown word \"{word}\"; a path starts with a dot, e.g. {{.{word}}}"),
                        );
                    }
                }
            }
            _ => Action::Path(self.path()?),
        };
        self.skip_spaces();
        match self.peek() {
            Some('}') => {
                self.pos += 1;
                Ok(action)
            }
            None => self.error(brace, "\"{\" is not closed with \"}\""),
            Some(c) => self.error(self.pos, format!("unexpected \"{c}\"")),
        }
    }

    /// `"…"` or `'…'` with Go's escapes (`\n`, `\t`, `\"`, `\\`, `\u00e9`, …).
    fn quoted(&mut self, quote: char) -> Result<String, ParseError> {
        let start = self.pos;
        self.pos += 1;
        let mut out = String::new();
        loop {
            let Some(c) = self.peek() else {
                return self.error(start, format!("the string is not closed with {quote}"));
            };
            self.pos += 1;
            match c {
                c if c == quote => return Ok(out),
                '\\' => {
                    let at = self.pos - 1;
                    let Some(e) = self.peek() else {
                        return self.error(start, format!("the string is not closed with {quote}"));
                    };
                    self.pos += 1;
                    let simple = match e {
                        'n' => Some('\n'),
                        't' => Some('\t'),
                        'r' => Some('\r'),
                        'a' => Some('\u{7}'),
                        'b' => Some('\u{8}'),
                        'f' => Some('\u{c}'),
                        'v' => Some('\u{b}'),
                        '\\' | '"' | '\'' => Some(e),
                        _ => None,
                    };
                    if let Some(s) = simple {
                        out.push(s);
                        continue;
                    }
                    let digits = match e {
                        'x' => 2,
                        'u' => 4,
                        'U' => 8,
                        _ => return self.error(at, format!("unknown escape \\{e}")),
                    };
                    let hex: String = self.chars.iter().skip(self.pos).take(digits).collect();
                    match u32::from_str_radix(&hex, 16)
                        .ok()
                        .filter(|_| hex.len() == digits)
                        .and_then(char::from_u32)
                    {
                        Some(c) => out.push(c),
                        None => return self.error(at, format!("invalid escape \\{e}{hex}")),
                    }
                    self.pos += digits;
                }
                c => out.push(c),
            }
        }
    }

    /// A path up to the action's `}` (or the end of a filter's operand).
    fn path(&mut self) -> Result<Path, ParseError> {
        let start = self.pos;
        if matches!(self.peek(), Some('@' | '$')) {
            self.pos += 1;
        }
        let mut steps = Vec::new();
        loop {
            self.skip_spaces();
            let Some(c) = self.peek() else { break };
            let step = match c {
                '}' => break,
                '.' if self.at("..") => {
                    self.pos += 2;
                    steps.push((Step::Recursive, self.pos - start));
                    match self.peek() {
                        Some('[') => continue,
                        Some(c) if !ends_name(c) && c != '*' => Step::Field(self.name()?),
                        _ => return self.error(self.pos, "\"..\" must be followed by a field name or [ ]"),
                    }
                }
                '.' => {
                    self.pos += 1;
                    let at = self.pos;
                    match self.name()?.as_str() {
                        "" => return self.error(at, "a field name must follow \".\""),
                        "*" => Step::Wildcard,
                        name => Step::Field(name.to_string()),
                    }
                }
                '[' => self.bracket()?,
                c => {
                    return self.error(
                        self.pos,
                        format!("unexpected \"{c}\"; a path goes on with .field or [index]"),
                    );
                }
            };
            steps.push((step, self.pos - start));
        }
        let end =
            self.chars[start..self.pos].iter().rposition(|c| !matches!(c, ' ' | '\t')).map_or(0, |i| i + 1);
        Ok(Path { text: self.chars[start..start + end].iter().collect(), steps })
    }

    /// A field name: up to a terminator; `\x` is `x` (so `\.` is a dot in the name).
    fn name(&mut self) -> Result<String, ParseError> {
        let mut name = String::new();
        while let Some(c) = self.peek() {
            if c == '\\' {
                match self.chars.get(self.pos + 1) {
                    Some(&next) => name.push(next),
                    None => return self.error(self.pos, "\"\\\" at the end escapes nothing"),
                }
                self.pos += 2;
                continue;
            }
            if ends_name(c) {
                break;
            }
            name.push(c);
            self.pos += 1;
        }
        Ok(name)
    }

    /// `[…]`: an index, slice, wildcard, quoted key, union, or filter.
    fn bracket(&mut self) -> Result<Step, ParseError> {
        let open = self.pos;
        if self.at("[?(") {
            return self.filter();
        }
        let close = self.closing(open + 1, |p, i| p.chars[i] == ']');
        let Some(close) = close else { return self.error(open, "\"[\" is not closed with \"]\"") };
        let inner: String = self.chars[open + 1..close].iter().collect();
        self.pos = close + 1;
        if inner.trim() == "*" {
            return Ok(Step::Wildcard);
        }
        // Members are split at commas outside quotes.
        let mut members = Vec::new();
        let mut member_start = open + 1;
        let mut i = open + 1;
        while i <= close {
            if i == close || self.chars[i] == ',' {
                members.push(self.member(member_start, i)?);
                member_start = i + 1;
            } else if matches!(self.chars[i], '\'' | '"') {
                i = self.closing_quote(i).unwrap_or(close);
            }
            i += 1;
        }
        Ok(if members.len() == 1 { members.remove(0) } else { Step::Union(members) })
    }

    /// One member of `[…]`, the chars `start..end`.
    fn member(&self, start: usize, end: usize) -> Result<Step, ParseError> {
        let raw: String = self.chars[start..end].iter().collect();
        let text = raw.trim();
        let at = start + raw.len() - raw.trim_start().len();
        if let Some(quote @ ('\'' | '"')) = text.chars().next() {
            let mut sub = Parser { chars: text.chars().collect(), pos: 0, offset: self.offset + at as isize };
            let key = sub.quoted(quote)?;
            if sub.pos != sub.chars.len() {
                return sub.error(sub.pos, "unexpected text after the quoted key");
            }
            return Ok(Step::Field(key));
        }
        let invalid = || {
            self.error(
                at,
                format!("invalid index \"{text}\"; use [0], [-1], [1:3], [*], ['key'] or [?(@.name==\"x\")]"),
            )
        };
        let pieces: Vec<&str> = text.split(':').collect();
        if text.is_empty() || pieces.len() > 3 {
            return invalid();
        }
        let mut numbers = [None; 3];
        for (n, piece) in pieces.iter().enumerate() {
            if piece.is_empty() {
                continue;
            }
            let digits = piece.strip_prefix('-').unwrap_or(piece);
            if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return invalid();
            }
            numbers[n] = match piece.parse::<i64>() {
                Ok(v) => Some(v),
                Err(_) => return self.error(at, format!("index \"{piece}\" is too large")),
            };
        }
        if pieces.len() == 1 {
            let start = numbers[0].unwrap_or_default();
            return Ok(Step::Slice(Slice {
                start: Some(start),
                end: Some(start.saturating_add(1)),
                derived_end: true,
                step: None,
            }));
        }
        Ok(Step::Slice(Slice { start: numbers[0], end: numbers[1], derived_end: false, step: numbers[2] }))
    }

    /// The index of the quote closing the one at `open` (a backslash escapes it).
    fn closing_quote(&self, open: usize) -> Option<usize> {
        let quote = self.chars[open];
        let mut i = open + 1;
        while i < self.chars.len() {
            match self.chars[i] {
                '\\' => i += 1,
                c if c == quote => return Some(i),
                _ => {}
            }
            i += 1;
        }
        None
    }

    /// The first index from `from` where `is_end` holds outside quotes and nested brackets.
    fn closing(&self, from: usize, is_end: impl Fn(&Parser, usize) -> bool) -> Option<usize> {
        let mut depth = 0usize;
        let mut i = from;
        while i < self.chars.len() {
            match self.chars[i] {
                '\'' | '"' => i = self.closing_quote(i)?,
                _ if depth == 0 && is_end(self, i) => return Some(i),
                '[' => depth += 1,
                ']' => depth = depth.saturating_sub(1),
                _ => {}
            }
            i += 1;
        }
        None
    }

    /// `[?(LEFT)]` or `[?(LEFT OP RIGHT)]`.
    fn filter(&mut self) -> Result<Step, ParseError> {
        let open = self.pos;
        let body = open + 3;
        let close = self.closing(body, |p, i| p.chars[i] == ')' && p.chars.get(i + 1) == Some(&']'));
        let Some(close) = close else { return self.error(open, "\"[?(\" is not closed with \")]\"") };
        self.pos = close + 2;
        // The operator: the first one outside quotes and brackets.
        let operator =
            self.closing(body, |p, i| i == close || p.operator_at(i).is_some()).filter(|&i| i < close);
        let left_end = operator.unwrap_or(close);
        let left = self.operand_path(body, left_end, "the filter needs a path, e.g. [?(@.name==\"web\")]")?;
        let compare = match operator {
            None => None,
            Some(at) => {
                let (text, op) = self.operator_at(at).unwrap_or(("==", Op::Eq));
                match text {
                    "=~" => return self.error(at, "=~ (regular expressions) is not supported; use == or !="),
                    "=" => return self.error(at, "\"=\" compares nothing; use =="),
                    _ => {}
                }
                Some((op, self.operand(at + text.len(), close)?))
            }
        };
        Ok(Step::Filter(Box::new(Filter { left, compare })))
    }

    /// The comparison operator starting at `i`, if any (`=~` and a lone `=` are found to be refused).
    fn operator_at(&self, i: usize) -> Option<(&'static str, Op)> {
        if self.chars.get(i..i + 2) == Some(&['=', '~'][..]) {
            return Some(("=~", Op::Eq));
        }
        if self.chars.get(i) == Some(&'=') && self.chars.get(i + 1) != Some(&'=') {
            return Some(("=", Op::Eq));
        }
        Op::ALL
            .iter()
            .copied()
            .find(|(text, _)| text.chars().enumerate().all(|(k, c)| self.chars.get(i + k) == Some(&c)))
    }

    /// The chars `start..end` as a path of their own (`@.name`).
    fn operand_path(&self, start: usize, end: usize, empty: &str) -> Result<Path, ParseError> {
        let raw: String = self.chars[start..end].iter().collect();
        let lead = raw.len() - raw.trim_start().len();
        let text = raw.trim();
        if text.is_empty() {
            return self.error(start, empty);
        }
        let at = start + raw[..lead].chars().count();
        if !text.starts_with(['@', '$', '.', '[']) {
            return self.error(at, format!("\"{text}\" is not a path; write @.field"));
        }
        let mut sub = Parser::new(text, self.offset + at as isize);
        let path = sub.path()?;
        if sub.pos != sub.chars.len() {
            return sub.error(sub.pos, format!("unexpected \"{}\"", sub.chars[sub.pos]));
        }
        Ok(path)
    }

    /// The right side of a comparison: a string, number, true/false, or a path.
    fn operand(&self, start: usize, end: usize) -> Result<Operand, ParseError> {
        let raw: String = self.chars[start..end].iter().collect();
        let text = raw.trim();
        let at = start + (raw.chars().count() - raw.trim_start().chars().count());
        if let Some(quote @ ('\'' | '"')) = text.chars().next() {
            let mut sub = Parser { chars: text.chars().collect(), pos: 0, offset: self.offset + at as isize };
            let value = sub.quoted(quote)?;
            if sub.pos != sub.chars.len() {
                return sub.error(sub.pos, "unexpected text after the string");
            }
            return Ok(Operand::Literal(Value::String(value)));
        }
        match text {
            "true" => return Ok(Operand::Literal(Value::Bool(true))),
            "false" => return Ok(Operand::Literal(Value::Bool(false))),
            _ => {}
        }
        if text.starts_with(['@', '$', '.', '[']) {
            return Ok(Operand::Path(self.operand_path(start, end, "")?));
        }
        if let Ok(n) = text.parse::<i64>() {
            return Ok(Operand::Literal(Value::Number(n.into())));
        }
        if let Some(n) = text.parse::<f64>().ok().filter(|f| f.is_finite()).and_then(Number::from_f64) {
            return Ok(Operand::Literal(Value::Number(n)));
        }
        self.error(
            at,
            format!(
                "\"{text}\" is not a value to compare with; use \"text\", a number, true, false or @.field"
            ),
        )
    }
}

// ---------------------------------------------------------------------------------------------
// Evaluation

struct Eval {
    allow_missing: bool,
}

impl Eval {
    fn path<'a>(&self, path: &Path, root: &'a Value) -> Result<Vec<&'a Value>, String> {
        let mut values = vec![root];
        let mut before = 0;
        for (step, upto) in &path.steps {
            let text: String = path.text.chars().take(*upto).collect();
            let parent: String = path.text.chars().take(before).collect();
            values = self.step(step, values, &text, &parent)?;
            before = *upto;
        }
        Ok(values)
    }

    /// `at`: the path up to and including this step; `parent`: up to the one before.
    fn step<'a>(
        &self,
        step: &Step,
        values: Vec<&'a Value>,
        at: &str,
        parent: &str,
    ) -> Result<Vec<&'a Value>, String> {
        let mut out = Vec::new();
        match step {
            Step::Field(name) => {
                if values.is_empty() {
                    return Ok(out);
                }
                out.extend(values.iter().filter_map(|v| v.as_object()?.get(name)));
                if out.is_empty() && !self.allow_missing {
                    return Err(not_found(at, parent, &values));
                }
            }
            Step::Wildcard => {
                for value in values {
                    match value {
                        Value::Object(map) => out.extend(map.values()),
                        Value::Array(items) => out.extend(items),
                        _ => {}
                    }
                }
            }
            Step::Recursive => values.into_iter().for_each(|v| descend(v, &mut out)),
            Step::Slice(slice) => {
                for value in values {
                    match value {
                        Value::Null => {}
                        Value::Array(items) => {
                            out.extend(slice.select(items).map_err(|e| format!("{at}: {e}"))?)
                        }
                        other => {
                            return Err(format!("{at}: {} is {}, not a list", shown(parent), kind_of(other)));
                        }
                    }
                }
            }
            Step::Union(members) => {
                for member in members {
                    out.extend(self.step(member, values.clone(), at, parent)?);
                }
            }
            Step::Filter(filter) => {
                for value in values {
                    match value {
                        Value::Null => {}
                        Value::Array(items) => {
                            for item in items {
                                if filter.keeps(item).map_err(|e| format!("{at}: {e}"))? {
                                    out.push(item);
                                }
                            }
                        }
                        other => {
                            return Err(format!(
                                "{at}: {} is {}, not a list to filter",
                                shown(parent),
                                kind_of(other)
                            ));
                        }
                    }
                }
            }
        }
        Ok(out)
    }
}

/// The value itself when it is a non-empty map or list, then everything below it (kubectl's `..`).
fn descend<'a>(value: &'a Value, out: &mut Vec<&'a Value>) {
    let children: Vec<&Value> = match value {
        Value::Object(map) => map.values().collect(),
        Value::Array(items) => items.iter().collect(),
        _ => return,
    };
    if children.is_empty() {
        return;
    }
    out.push(value);
    children.into_iter().for_each(|child| descend(child, out));
}

fn shown(path: &str) -> &str {
    if path.is_empty() || path == "@" || path == "$" { "the document" } else { path }
}

fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a map",
    }
}

/// kubectl's "x is not found", with the path and, for one map, the keys it has.
fn not_found(at: &str, parent: &str, values: &[&Value]) -> String {
    let mut text = format!("{at} is not found");
    if let [Value::Object(map)] = values {
        const SHOWN: usize = 12;
        let keys: Vec<&str> = map.keys().take(SHOWN).map(String::as_str).collect();
        let more = if map.len() > SHOWN { ", …" } else { "" };
        if keys.is_empty() {
            text.push_str(&format!(" ({} is empty)", shown(parent)));
        } else {
            text.push_str(&format!(" ({} has {}{more})", shown(parent), keys.join(", ")));
        }
    } else if let [other] = values {
        text.push_str(&format!(" ({} is {}, not a map)", shown(parent), kind_of(other)));
    }
    text
}

impl Slice {
    /// kubectl's evalArray: bounds are errors unless the slice is empty.
    fn select<'a>(&self, items: &'a [Value]) -> Result<impl Iterator<Item = &'a Value>, String> {
        let len = items.len() as i64;
        let mut start = self.start.unwrap_or(0);
        if start < 0 {
            start += len;
        }
        let mut end = self.end.unwrap_or(len);
        if end < 0 || (end == 0 && self.derived_end) {
            end += len;
        }
        let step = self.step.unwrap_or(1);
        if step <= 0 {
            return Err(format!("the step must be more than 0, not {step}"));
        }
        let (start, end) = if end == start {
            (0, 0)
        } else if start < 0 || start >= len {
            return Err(format!("index {start} is out of bounds (the list has {len} items)"));
        } else if end < 0 || end > len {
            return Err(format!("index {} is out of bounds (the list has {len} items)", end - 1));
        } else if start > end {
            return Err(format!("the start {start} is after the end {end}"));
        } else {
            (start as usize, end as usize)
        };
        Ok(items[start..end].iter().step_by(step as usize))
    }
}

impl Filter {
    fn keeps(&self, item: &Value) -> Result<bool, String> {
        // Items without the field are not kept (kubectl with missing keys allowed, as `get` runs).
        let lenient = Eval { allow_missing: true };
        let lefts = lenient.path(&self.left, item).unwrap_or_default();
        let Some((op, right)) = &self.compare else { return Ok(!lefts.is_empty()) };
        let rights = match right {
            Operand::Literal(value) => vec![value],
            Operand::Path(path) => lenient.path(path, item).unwrap_or_default(),
        };
        match (lefts.as_slice(), rights.as_slice()) {
            ([left], [right]) => compare(left, *op, right),
            ([], _) | (_, []) => Ok(false),
            (many, [_]) | ([_], many) | (many, _) => {
                Err(format!("can only compare one value at a time, but {} values were found", many.len()))
            }
        }
    }
}

fn compare(left: &Value, op: Op, right: &Value) -> Result<bool, String> {
    use std::cmp::Ordering;
    let order = match (left, right) {
        (Value::Number(a), Value::Number(b)) => match (a.as_i64(), b.as_i64()) {
            (Some(a), Some(b)) => Some(a.cmp(&b)),
            _ => a.as_f64().zip(b.as_f64()).and_then(|(a, b)| a.partial_cmp(&b)),
        },
        (Value::String(a), Value::String(b)) => Some(a.cmp(b)),
        _ => None,
    };
    match (op, order) {
        (Op::Eq, Some(o)) => Ok(o == Ordering::Equal),
        (Op::Ne, Some(o)) => Ok(o != Ordering::Equal),
        (Op::Eq, None) => Ok(left == right),
        (Op::Ne, None) => Ok(left != right),
        (Op::Lt, Some(o)) => Ok(o == Ordering::Less),
        (Op::Gt, Some(o)) => Ok(o == Ordering::Greater),
        (Op::Le, Some(o)) => Ok(o != Ordering::Greater),
        (Op::Ge, Some(o)) => Ok(o != Ordering::Less),
        (_, None) => Err(format!("cannot order {} and {}", kind_of(left), kind_of(right))),
    }
}

// ---------------------------------------------------------------------------------------------
// Printing, as kubectl prints (Go's fmt for scalars, encoding/json for maps and lists)

fn text_of(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => "<nil>".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => number_text(n, false),
        Value::Array(_) | Value::Object(_) => {
            let mut out = String::new();
            write_json(value, &mut out);
            out
        }
    }
}

/// Go's `%v` (`json`: false) or encoding/json's form of a number: integers as they are, floats in
/// the shortest form, with an exponent past Go's thresholds.
fn number_text(n: &Number, json: bool) -> String {
    let Some(f) = n.as_f64().filter(|_| n.is_f64()) else { return n.to_string() };
    let scientific = format!("{f:e}");
    let (mantissa, exp) = scientific.split_once('e').unwrap_or((&scientific, "0"));
    let exp: i32 = exp.parse().unwrap_or_default();
    // Go's %v switches to an exponent from 1e+06 on; encoding/json from 1e21.
    let exponent_form =
        if json { f != 0.0 && (f.abs() < 1e-6 || f.abs() >= 1e21) } else { !(-4..6).contains(&exp) };
    if !exponent_form {
        return format!("{f}");
    }
    let sign = if exp < 0 { '-' } else { '+' };
    if json {
        format!("{mantissa}e{sign}{}", exp.abs())
    } else {
        format!("{mantissa}e{sign}{:02}", exp.abs())
    }
}

/// Compact JSON as Go's encoding/json writes it: keys sorted, `<`, `>`, `&`, U+2028 and U+2029
/// escaped.
fn write_json(value: &Value, out: &mut String) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&number_text(n, true)),
        Value::String(s) => write_json_string(s, out),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_json(item, out);
            }
            out.push(']');
        }
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            out.push('{');
            for (i, (key, item)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_json_string(key, out);
                out.push(':');
                write_json(item, out);
            }
            out.push('}');
        }
    }
}

fn write_json_string(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => out.push_str(&format!("\\u{:04x}", c as u32)),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests;
