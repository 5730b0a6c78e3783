//! Reading YAML: the event stream into JSON values with their positions, within the limits, by the
//! YAML 1.2 core schema (and what a YAML 1.1 reader would make of a value).

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::Arc;

use granit_parser::{ErrorKind, Event, Parser, ScalarStyle, ScanError, Span, Tag};
use serde_json::{Map, Number, Value};

use crate::error::Error;

/// What one text may cost. Every limit is checked while parsing, before the cost is paid.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Bytes of text.
    pub max_bytes: usize,
    /// Nested mappings and sequences. Kubernetes objects nest about 15 deep (CRD schemas up to ~60).
    pub max_depth: usize,
    /// Documents in one text, empty ones included.
    pub max_documents: usize,
    /// Nodes copied by aliases (`*name`) in one text: stops "billion laughs" expansion. Anchors
    /// (`&name`) keep a copy of their node; those copies may hold twice the nodes read plus this
    /// many, which anchors nested inside anchors would exceed.
    pub max_alias_nodes: usize,
}

/// Role documents and manifests: 8 MiB, 100 levels, 1000 documents, 100 000 aliased nodes.
pub const DOCUMENT_LIMITS: Limits =
    Limits { max_bytes: 8 << 20, max_depth: 100, max_documents: 1000, max_alias_nodes: 100_000 };

/// The largest profile accepted (as text): many times the built-in one, and what a ConfigMap holds.
pub const MAX_PROFILE_BYTES: usize = 1024 * 1024;

/// Role profiles (read on every command): 1 MiB, otherwise as documents.
pub const PROFILE_LIMITS: Limits = Limits { max_bytes: MAX_PROFILE_BYTES, ..DOCUMENT_LIMITS };

/// A problem in a YAML text: what is wrong and where (line 0 when no place applies, e.g. size).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct YamlError {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl fmt::Display for YamlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            f.write_str(&self.message)
        } else {
            write!(f, "line {} column {}: {}", self.line, self.column, self.message)
        }
    }
}

impl std::error::Error for YamlError {}

impl YamlError {
    fn at(pos: Pos, message: impl Into<String>) -> YamlError {
        YamlError { line: pos.0, column: pos.1, message: message.into() }
    }

    /// The user-facing error, naming the file (or "stdin", or the editor's copy).
    pub fn in_source(self, source: &str) -> Error {
        Error::Document(format!("{source}: {self}"))
    }
}

/// 1-based line and column.
pub(super) type Pos = (usize, usize);

fn pos_of(span: &Span) -> Pos {
    (span.start.line(), span.start.col() + 1)
}

/// One parsed document: its JSON value and where each node was written.
#[derive(Debug, Clone)]
pub struct Parsed {
    pub value: Value,
    pub(super) root: Node,
    /// The text it was read from (shared by the documents of one text), for `source_text`.
    source: Arc<str>,
}

/// Where a node was written, mirroring the JSON value.
#[derive(Debug, Clone)]
pub(super) struct Node {
    pub(super) at: Pos,
    /// For a mapping's value: where its key was written.
    pub(super) key_at: Option<Pos>,
    /// Byte offset of its key (for a mapping's value), for edits in place (`splice`).
    pub(super) key_byte: usize,
    /// Bytes of the source it was written in: a scalar as written, a collection from its first
    /// token to its end event (a flow collection's closing bracket). An alias: the alias itself.
    pub(super) span: (usize, usize),
    /// A flow collection (`{a: 1}`, `[x, y]`).
    pub(super) flow: bool,
    /// Carries an anchor (`&name`) or is an alias (`*name`): one edit would change several values.
    pub(super) anchored: bool,
    pub(super) shape: Shape,
}

#[derive(Debug, Clone)]
pub(super) enum Shape {
    /// `start..end`: the source as written (quotes and all; the content of a block scalar).
    Scalar {
        start: usize,
        end: usize,
        plain: bool,
        /// A block scalar (`|` or `>`): `start..end` is its content, not its header.
        block: bool,
    },
    Sequence(Vec<Node>),
    Mapping(BTreeMap<String, Node>),
}

impl Parsed {
    fn node(&self, path: &[&str]) -> Option<&Node> {
        let mut node = &self.root;
        for segment in path {
            node = match &node.shape {
                Shape::Mapping(entries) => entries.get(*segment)?,
                Shape::Sequence(items) => items.get(segment.parse::<usize>().ok()?)?,
                Shape::Scalar { .. } => return None,
            };
        }
        Some(node)
    }

    /// 1-based (line, column) of the node at `path` (object keys / array indexes as strings), if
    /// known. A block mapping starts at its first key; an alias's node is where the alias is.
    pub fn position(&self, path: &[&str]) -> Option<(usize, usize)> {
        self.node(path).map(|n| n.at)
    }

    /// Where the key of the mapping entry at `path` was written (None for the root and for items).
    pub fn key_position(&self, path: &[&str]) -> Option<(usize, usize)> {
        self.node(path).and_then(|n| n.key_at)
    }

    /// The scalar exactly as written in the source (e.g. "1.10", "0x1F", "on"; quoted scalars with
    /// their quotes), for messages such as `quote it: "1.10"`; None for non-scalars.
    pub fn source_text(&self, path: &[&str]) -> Option<&str> {
        match &self.node(path)?.shape {
            Shape::Scalar { start, end, .. } => self.source.get(*start..*end),
            _ => None,
        }
    }

    /// For a plain (unquoted) scalar that this parser read as a string, the type a YAML 1.1 reader
    /// such as kubectl gives it instead ("boolean" for `on`, "integer" for `1_000`, …). Use it to
    /// refuse values that only work here: `FLAG: on` is the string "on" to kubectl-oam, `true` to
    /// kubectl.
    pub fn yaml11_misreading(&self, path: &[&str]) -> Option<&'static str> {
        match (&self.node(path)?.shape, self.value_at(path)?) {
            (Shape::Scalar { plain: true, .. }, Value::String(s)) => yaml11_type(s),
            _ => None,
        }
    }

    fn value_at(&self, path: &[&str]) -> Option<&Value> {
        path.iter().try_fold(&self.value, |v, segment| match v {
            Value::Object(m) => m.get(*segment),
            Value::Array(a) => a.get(segment.parse::<usize>().ok()?),
            _ => None,
        })
    }

    /// A top-level sequence as one document per item (as `kubectl apply` takes a list), and so a
    /// `List` whose items are role documents (what `get a b -o json` prints); any other document as
    /// itself. Positions stay those of the source.
    pub fn into_items(mut self) -> Vec<Parsed> {
        let role_list = self.value["kind"] == "List"
            && self.value["items"].as_array().is_some_and(|items| {
                items.iter().all(|i| i.get("name").is_some() && i["metadata"].get("name").is_none())
            });
        if role_list {
            if let (Some(items), Shape::Mapping(mut entries)) =
                (self.value.get_mut("items").map(Value::take), self.root.shape.clone())
            {
                if let Some(node) = entries.remove("items") {
                    return Parsed { value: items, root: node, source: self.source }.into_items();
                }
            }
        }
        match (self.value, self.root.shape) {
            (Value::Array(values), Shape::Sequence(nodes)) => {
                let source = self.source;
                values
                    .into_iter()
                    .zip(nodes)
                    .map(|(value, root)| Parsed { value, root, source: source.clone() })
                    .collect()
            }
            (value, shape) => vec![Parsed { value, root: Node { shape, ..self.root }, source: self.source }],
        }
    }
}

/// Every document of a multi-document text ("---"). Empty documents (and `null`) are skipped.
pub fn parse_documents(text: &str, source: &str) -> Result<Vec<Parsed>, Error> {
    parse(text, &DOCUMENT_LIMITS).map_err(|e| e.in_source(source))
}

/// Exactly one document (for the editor), or an error.
pub fn parse_document(text: &str, source: &str) -> Result<Parsed, Error> {
    parse_one(text, &DOCUMENT_LIMITS).map_err(|e| e.in_source(source))
}

/// Exactly one document under `limits`.
pub fn parse_one(text: &str, limits: &Limits) -> Result<Parsed, YamlError> {
    let mut docs = parse(text, limits)?;
    match docs.len() {
        1 => Ok(docs.remove(0)),
        0 => Err(YamlError { line: 0, column: 0, message: "the text holds no YAML document".into() }),
        n => {
            let second = docs[1].root.at;
            Err(YamlError::at(second, format!("expected one YAML document, found {n} (separated by ---)")))
        }
    }
}

/// Every non-empty document of `text` under `limits`.
pub fn parse(text: &str, limits: &Limits) -> Result<Vec<Parsed>, YamlError> {
    if text.len() > limits.max_bytes {
        return Err(YamlError {
            line: 0,
            column: 0,
            message: format!(
                "the YAML text is {} bytes, over the limit of {} ({} MiB); split it into smaller files",
                text.len(),
                limits.max_bytes,
                limits.max_bytes >> 20
            ),
        });
    }
    // Editors on Windows write a byte-order mark; it is no content.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut options = granit_parser::Options::default();
    options.set_emit_comments(false);
    // The scanner reads ahead of the events, so it needs the nesting limit too (same message).
    options.flow_nesting_limit = limits.max_depth + 1;
    options.block_nesting_limit = limits.max_depth + 1;
    let mut builder = Builder::new(text, limits);
    for event in Parser::new_from_str_with_options(text, options) {
        let (event, span) = event.map_err(|e| scan_error(&e, limits))?;
        if builder.event(event, &span)? {
            break;
        }
    }
    Ok(builder.documents)
}

fn scan_error(err: &ScanError, limits: &Limits) -> YamlError {
    let pos = (err.marker().line(), err.marker().col() + 1);
    match err.kind() {
        ErrorKind::RecursionLimitExceeded => YamlError::at(pos, depth_message(limits)),
        _ => YamlError::at(pos, format!("invalid YAML: {}", err.info())),
    }
}

fn depth_message(limits: &Limits) -> String {
    format!("nesting is deeper than {} levels, the limit", limits.max_depth)
}

/// A collection being read.
enum Frame {
    Sequence {
        at: Pos,
        start: usize,
        flow: bool,
        anchor: usize,
        values: Vec<Value>,
        nodes: Vec<Node>,
        count: usize,
    },
    Mapping {
        at: Pos,
        start: usize,
        flow: bool,
        anchor: usize,
        values: Map<String, Value>,
        nodes: BTreeMap<String, Node>,
        count: usize,
        key: Option<(String, Pos, usize)>,
    },
}

/// A finished node, with how many nodes it holds (for the alias budget).
struct Built {
    value: Value,
    node: Node,
    count: usize,
    /// The scalar's text, if it may serve as a mapping key.
    key: Option<String>,
}

struct Anchored {
    value: Value,
    node: Node,
    count: usize,
    key: Option<String>,
}

struct Builder<'a> {
    text: &'a str,
    /// One shared copy of `text`, made when the first document is kept.
    source: Option<Arc<str>>,
    limits: &'a Limits,
    stack: Vec<Frame>,
    anchors: HashMap<usize, Anchored>,
    alias_nodes: usize,
    /// Nodes read, and nodes copied for anchors.
    read_nodes: usize,
    anchor_nodes: usize,
    document_count: usize,
    root: Option<Built>,
    documents: Vec<Parsed>,
}

impl<'a> Builder<'a> {
    fn new(text: &'a str, limits: &'a Limits) -> Self {
        Builder {
            text,
            source: None,
            limits,
            stack: Vec::new(),
            anchors: HashMap::new(),
            alias_nodes: 0,
            read_nodes: 0,
            anchor_nodes: 0,
            document_count: 0,
            root: None,
            documents: Vec::new(),
        }
    }

    fn expects_key(&self) -> bool {
        matches!(self.stack.last(), Some(Frame::Mapping { key: None, .. }))
    }

    /// Takes one event; true at the end of the stream.
    fn event(&mut self, event: Event<'_>, span: &Span) -> Result<bool, YamlError> {
        let at = pos_of(span);
        let sequence = matches!(event, Event::SequenceStart(..));
        match event {
            Event::StreamEnd => return Ok(true),
            Event::DocumentStart(..) => {
                self.document_count += 1;
                if self.document_count > self.limits.max_documents {
                    return Err(YamlError::at(
                        at,
                        format!("more than {} documents in one text, the limit", self.limits.max_documents),
                    ));
                }
                self.anchors.clear();
            }
            Event::DocumentEnd => {
                if let Some(root) = self.root.take() {
                    if !root.value.is_null() {
                        let source = self.source.get_or_insert_with(|| Arc::from(self.text)).clone();
                        self.documents.push(Parsed { value: root.value, root: root.node, source });
                    }
                }
            }
            Event::SequenceStart(style, anchor, tag) | Event::MappingStart(style, anchor, tag) => {
                let flow = style == granit_parser::StructureStyle::Flow;
                let start = span.start.byte_offset().unwrap_or(0);
                let what = if sequence { "sequence" } else { "mapping" };
                if self.expects_key() {
                    return Err(YamlError::at(at, format!("a mapping key must be a string, not a {what}")));
                }
                if let Some(tag) = tag {
                    check_collection_tag(&tag, sequence, tag_pos(span))?;
                }
                if self.stack.len() >= self.limits.max_depth {
                    return Err(YamlError::at(at, depth_message(self.limits)));
                }
                self.read_nodes += 1;
                self.stack.push(if sequence {
                    Frame::Sequence {
                        at,
                        start,
                        flow,
                        anchor,
                        values: Vec::new(),
                        nodes: Vec::new(),
                        count: 1,
                    }
                } else {
                    Frame::Mapping {
                        at,
                        start,
                        flow,
                        anchor,
                        values: Map::new(),
                        nodes: BTreeMap::new(),
                        count: 1,
                        key: None,
                    }
                });
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let end = span.end.byte_offset().unwrap_or(0);
                let built = match self.stack.pop() {
                    Some(Frame::Sequence { at, start, flow, anchor, values, nodes, count }) => self.remember(
                        anchor,
                        Built {
                            value: Value::Array(values),
                            node: Node {
                                at,
                                key_at: None,
                                key_byte: 0,
                                span: (start, end.max(start)),
                                flow,
                                anchored: anchor != 0,
                                shape: Shape::Sequence(nodes),
                            },
                            count,
                            key: None,
                        },
                    ),
                    Some(Frame::Mapping { at, start, flow, anchor, values, nodes, count, .. }) => self
                        .remember(
                            anchor,
                            Built {
                                value: Value::Object(values),
                                node: Node {
                                    at,
                                    key_at: None,
                                    key_byte: 0,
                                    span: (start, end.max(start)),
                                    flow,
                                    anchored: anchor != 0,
                                    shape: Shape::Mapping(nodes),
                                },
                                count,
                                key: None,
                            },
                        ),
                    None => return Ok(false),
                }?;
                self.attach(built)?;
            }
            Event::Scalar(value, style, anchor, tag) => {
                let range = span.byte_range().filter(|r| self.text.get(r.clone()).is_some()).unwrap_or(0..0);
                let tag = tag.as_deref();
                let is_key = self.expects_key();
                let resolved = if !is_key {
                    scalar(&value, style, tag, span)?
                } else {
                    check_key_tag(tag, span)?;
                    // A key is its text; only an anchored key may be aliased later as a value.
                    match anchor {
                        0 => Value::Null,
                        _ => scalar(&value, style, tag, span)
                            .unwrap_or_else(|_| Value::String(value.to_string())),
                    }
                };
                let plain = style == ScalarStyle::Plain;
                let block = matches!(style, ScalarStyle::Literal | ScalarStyle::Folded);
                let built = Built {
                    value: resolved,
                    node: Node {
                        at,
                        key_at: None,
                        key_byte: range.start,
                        span: (range.start, range.end),
                        flow: false,
                        anchored: anchor != 0,
                        shape: Shape::Scalar { start: range.start, end: range.end, plain, block },
                    },
                    count: 1,
                    key: (is_key || anchor != 0).then(|| value.into_owned()),
                };
                self.read_nodes += 1;
                let built = self.remember(anchor, built)?;
                self.attach(built)?;
            }
            Event::Alias(id) => {
                let Some(anchored) = self.anchors.get(&id) else {
                    return Err(YamlError::at(at, "an alias refers to the node that contains it"));
                };
                self.alias_nodes += anchored.count;
                if self.alias_nodes > self.limits.max_alias_nodes {
                    return Err(YamlError::at(
                        at,
                        format!(
                            "aliases expand to more than {} nodes, the limit (an alias bomb?)",
                            self.limits.max_alias_nodes
                        ),
                    ));
                }
                let here = span.byte_range().unwrap_or(0..0);
                let built = Built {
                    value: anchored.value.clone(),
                    node: Node {
                        at,
                        key_byte: here.start,
                        span: (here.start, here.end),
                        anchored: true,
                        ..anchored.node.clone()
                    },
                    count: anchored.count,
                    key: anchored.key.clone(),
                };
                if self.expects_key() && built.key.is_none() {
                    return Err(YamlError::at(
                        at,
                        "a mapping key must be a string, not an alias of a collection",
                    ));
                }
                self.attach(built)?;
            }
            _ => {}
        }
        Ok(false)
    }

    fn remember(&mut self, anchor: usize, built: Built) -> Result<Built, YamlError> {
        if anchor != 0 {
            self.anchor_nodes += built.count;
            let allowed = 2 * self.read_nodes + self.limits.max_alias_nodes;
            if self.anchor_nodes > allowed {
                return Err(YamlError::at(
                    built.node.at,
                    format!("anchors hold more than {allowed} nodes, the limit (anchors inside anchors?)"),
                ));
            }
            let copy = Anchored {
                value: built.value.clone(),
                node: built.node.clone(),
                count: built.count,
                key: built.key.clone(),
            };
            self.anchors.insert(anchor, copy);
        }
        Ok(built)
    }

    /// Puts a finished node where it belongs: the document root, an item, a key or a value.
    fn attach(&mut self, built: Built) -> Result<(), YamlError> {
        match self.stack.last_mut() {
            None => self.root = Some(built),
            Some(Frame::Sequence { values, nodes, count, .. }) => {
                values.push(built.value);
                nodes.push(built.node);
                *count += built.count;
            }
            Some(Frame::Mapping { values, nodes, count, key, .. }) => match key.take() {
                None => {
                    let name = built.key.unwrap_or_default();
                    let at = built.node.at;
                    let key_byte = built.node.span.0;
                    if let Some(first) = nodes.get(&name) {
                        let (line, column) = first.key_at.unwrap_or(first.at);
                        return Err(YamlError::at(
                            at,
                            format!("duplicate key \"{name}\" (first at line {line} column {column})"),
                        ));
                    }
                    if name == "<<" && matches!(built.node.shape, Shape::Scalar { plain: true, .. }) {
                        return Err(YamlError::at(
                            at,
                            "merge keys (<<) are not supported; write the keys out",
                        ));
                    }
                    *key = Some((name, at, key_byte));
                }
                Some((name, key_at, key_byte)) => {
                    values.insert(name.clone(), built.value);
                    nodes.insert(name, Node { key_at: Some(key_at), key_byte, ..built.node });
                    *count += built.count;
                }
            },
        }
        Ok(())
    }
}

fn tag_pos(span: &Span) -> Pos {
    span.tag_start.map_or_else(|| pos_of(span), |m| (m.line(), m.col() + 1))
}

const CORE_PREFIX: &str = "tag:yaml.org,2002:";

/// The tag as the user wrote it, for messages.
fn written(tag: &Tag) -> String {
    match (tag.original_handle(), tag.handle()) {
        ("", "") if tag.suffix() == "!" => "!".into(),
        ("", "") => format!("!<{}>", tag.suffix()),
        (original, _) => format!("{original}{}", tag.suffix()),
    }
}

/// The core-schema name of a tag (`!!str` → "str"), "!" for the non-specific tag, None otherwise.
fn core_name(tag: &Tag) -> Option<&str> {
    if tag.handle().is_empty() {
        return if tag.suffix() == "!" { Some("!") } else { tag.suffix().strip_prefix(CORE_PREFIX) };
    }
    (tag.handle() == CORE_PREFIX).then(|| tag.suffix())
}

fn unsupported_tag(tag: &Tag, at: Pos) -> YamlError {
    let shown = written(tag);
    let hint = if core_name(tag) == Some("binary") {
        "write base64 data as a plain string"
    } else {
        "remove it; values here are plain strings, numbers, booleans, null, lists and mappings"
    };
    YamlError::at(at, format!("tag {shown} is not supported; {hint}"))
}

fn check_collection_tag(tag: &Tag, sequence: bool, at: Pos) -> Result<(), YamlError> {
    match (core_name(tag), sequence) {
        (Some("!"), _) | (Some("seq"), true) | (Some("map"), false) => Ok(()),
        (Some(name @ ("seq" | "map" | "str" | "int" | "float" | "bool" | "null")), _) => Err(YamlError::at(
            at,
            format!("tag !!{name} does not fit a {}", if sequence { "sequence" } else { "mapping" }),
        )),
        _ => Err(unsupported_tag(tag, at)),
    }
}

/// A key is its text, whatever it looks like; a tag may only confirm that it is a string.
fn check_key_tag(tag: Option<&Tag>, span: &Span) -> Result<(), YamlError> {
    match tag {
        Some(tag) if !matches!(core_name(tag), Some("!" | "str")) => Err(unsupported_tag(tag, tag_pos(span))),
        _ => Ok(()),
    }
}

/// The JSON value of a scalar.
fn scalar(value: &str, style: ScalarStyle, tag: Option<&Tag>, span: &Span) -> Result<Value, YamlError> {
    let at = pos_of(span);
    let plain = style == ScalarStyle::Plain;
    let Some(tag) = tag else {
        if !plain {
            return Ok(Value::String(value.to_string()));
        }
        return resolve_plain(value).map_err(|message| YamlError::at(at, message));
    };
    let at_tag = tag_pos(span);
    let typed = |wanted: &str, got: Result<Value, String>| -> Result<Value, YamlError> {
        let ok = matches!(
            (wanted, &got),
            ("int", Ok(Value::Number(n))) if !n.is_f64()
        ) || matches!((wanted, &got), ("float", Ok(Value::Number(_))))
            || matches!((wanted, &got), ("bool", Ok(Value::Bool(_))))
            || matches!((wanted, &got), ("null", Ok(Value::Null)));
        match got {
            Ok(v) if ok => Ok(v),
            Err(message) => Err(YamlError::at(at, message)),
            // The value itself is never repeated: it may be a Secret's.
            Ok(_) => Err(YamlError::at(at_tag, format!("the value is not a valid !!{wanted}"))),
        }
    };
    match core_name(tag) {
        Some("!" | "str") => Ok(Value::String(value.to_string())),
        Some(name @ ("int" | "float" | "bool" | "null")) => {
            let got = resolve_plain(value);
            if name == "float" {
                if let Ok(Value::Number(n)) = &got {
                    // `!!float 1` is the float 1.0.
                    let f = n.as_f64().unwrap_or_default();
                    return Ok(Number::from_f64(f).map_or(Value::Null, Value::Number));
                }
            }
            typed(name, got)
        }
        Some(name @ ("seq" | "map")) => {
            Err(YamlError::at(at_tag, format!("tag !!{name} does not fit a scalar")))
        }
        _ => Err(unsupported_tag(tag, at_tag)),
    }
}

/// YAML 1.2 core schema resolution of a plain scalar, refusing what JSON cannot hold and what
/// YAML 1.1 readers take for a different number.
pub fn resolve_plain(s: &str) -> Result<Value, String> {
    match s {
        "" | "~" | "null" | "Null" | "NULL" => return Ok(Value::Null),
        "true" | "True" | "TRUE" => return Ok(Value::Bool(true)),
        "false" | "False" | "FALSE" => return Ok(Value::Bool(false)),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" | "-.inf" | "-.Inf" | "-.INF" | ".nan"
        | ".NaN" | ".NAN" => {
            return Err(format!("{s} is not a number JSON can hold; quote it (\"{s}\") for text"));
        }
        _ => {}
    }
    let unsigned = s.strip_prefix(['-', '+']).unwrap_or(s);
    let digits = |t: &str, radix: u32| !t.is_empty() && t.chars().all(|c| c.is_digit(radix));
    // Messages about a value never repeat it (it may be a Secret's, a PIN); the position names it.
    let out_of_range = || "the number is outside the 64-bit integer range; quote it for text".to_string();
    if let Some(hex) = s.strip_prefix("0x").filter(|t| digits(t, 16)) {
        return u64::from_str_radix(hex, 16).map(Value::from).map_err(|_| out_of_range());
    }
    if let Some(octal) = s.strip_prefix("0o").filter(|t| digits(t, 8)) {
        return u64::from_str_radix(octal, 8).map(Value::from).map_err(|_| out_of_range());
    }
    if digits(unsigned, 10) {
        if unsigned.len() > 1 && unsigned.starts_with('0') {
            return Err(
                "the number has a leading zero, which YAML 1.1 readers such as kubectl take for an octal number; quote it for text, or write the number without leading zeros"
                    .to_string(),
            );
        }
        if let Ok(n) = s.parse::<i64>() {
            return Ok(Value::from(n));
        }
        return s.parse::<u64>().map(Value::from).map_err(|_| out_of_range());
    }
    if is_core_float(unsigned) {
        let f: f64 = s.parse().map_err(|_| "the value is not a number".to_string())?;
        return Number::from_f64(f)
            .map(Value::Number)
            .ok_or_else(|| "the value is not a number JSON can hold; quote it for text".to_string());
    }
    Ok(Value::String(s.to_string()))
}

/// `( \. [0-9]+ | [0-9]+ ( \. [0-9]* )? ) ( [eE] [-+]? [0-9]+ )?`, the sign already removed.
pub(super) fn is_core_float(s: &str) -> bool {
    let (mantissa, exponent) = match s.find(['e', 'E']) {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    let (whole, fraction) = match mantissa.split_once('.') {
        Some((w, f)) => (w, Some(f)),
        None => (mantissa, None),
    };
    let all_digits = |t: &str| t.bytes().all(|b| b.is_ascii_digit());
    let mantissa_ok = match fraction {
        Some(f) => all_digits(whole) && all_digits(f) && !(whole.is_empty() && f.is_empty()),
        None => !whole.is_empty() && all_digits(whole),
    };
    let exponent_ok = exponent.is_none_or(|e| {
        let e = e.strip_prefix(['-', '+']).unwrap_or(e);
        !e.is_empty() && all_digits(e)
    });
    mantissa_ok && exponent_ok
}

/// The type YAML 1.1 (yaml.org/type, as PyYAML and kubectl's go-yaml read it) gives a plain scalar
/// other than a string, or None for a string.
pub fn yaml11_type(s: &str) -> Option<&'static str> {
    const BOOLEANS: [&str; 22] = [
        "y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO", "true", "True", "TRUE", "false", "False",
        "FALSE", "on", "On", "ON", "off", "Off", "OFF",
    ];
    match s {
        "" | "~" | "null" | "Null" | "NULL" => Some("null"),
        "<<" => Some("merge key"),
        "=" => Some("value key"),
        _ if BOOLEANS.contains(&s) => Some("boolean"),
        _ if is_yaml11_int(s) => Some("integer"),
        _ if is_yaml11_float(s) => Some("float"),
        _ if is_yaml11_timestamp(s) => Some("timestamp"),
        _ => None,
    }
}

fn all_of(s: &str, f: impl Fn(u8) -> bool) -> bool {
    s.bytes().all(f)
}

/// `(:[0-5]?[0-9])+` : one or more base-60 digit groups.
fn is_sexagesimal_tail(s: &str) -> bool {
    let Some(groups) = s.strip_prefix(':') else { return false };
    groups.split(':').all(|g| match g.as_bytes() {
        [d] => d.is_ascii_digit(),
        [a, b] => (b'0'..=b'5').contains(a) && b.is_ascii_digit(),
        _ => false,
    })
}

fn is_yaml11_int(s: &str) -> bool {
    let t = s.strip_prefix(['-', '+']).unwrap_or(s);
    if let Some(bin) = t.strip_prefix("0b") {
        return !bin.is_empty() && all_of(bin, |b| matches!(b, b'0' | b'1' | b'_'));
    }
    if let Some(hex) = t.strip_prefix("0x") {
        return !hex.is_empty() && all_of(hex, |b| b.is_ascii_hexdigit() || b == b'_');
    }
    if t == "0" {
        return true;
    }
    if let Some(octal) = t.strip_prefix('0') {
        return !octal.is_empty() && all_of(octal, |b| matches!(b, b'0'..=b'7' | b'_'));
    }
    // [1-9][0-9_]* and its base-60 form [1-9][0-9_]*(:[0-5]?[0-9])+
    let (head, tail) = t.find(':').map_or((t, ""), |i| t.split_at(i));
    let head_ok = head.as_bytes().first().is_some_and(|b| (b'1'..=b'9').contains(b))
        && all_of(head, |b| b.is_ascii_digit() || b == b'_');
    head_ok && (tail.is_empty() || is_sexagesimal_tail(tail))
}

fn is_yaml11_float(s: &str) -> bool {
    if matches!(s, ".nan" | ".NaN" | ".NAN") {
        return true;
    }
    let t = s.strip_prefix(['-', '+']).unwrap_or(s);
    if matches!(t, ".inf" | ".Inf" | ".INF") {
        return true;
    }
    // [0-9][0-9_]*(:[0-5]?[0-9])+\.[0-9_]*
    if let Some(colon) = t.find(':') {
        let (head, rest) = t.split_at(colon);
        let Some(dot) = rest.find('.') else { return false };
        let (groups, fraction) = rest.split_at(dot);
        return head.as_bytes().first().is_some_and(u8::is_ascii_digit)
            && all_of(head, |b| b.is_ascii_digit() || b == b'_')
            && is_sexagesimal_tail(groups)
            && all_of(&fraction[1..], |b| b.is_ascii_digit() || b == b'_');
    }
    // ([0-9][0-9_]*)?\.[0-9.]*([eE][-+][0-9]+)?
    let Some(dot) = t.find('.') else { return false };
    let (whole, rest) = t.split_at(dot);
    let whole_ok = whole.is_empty()
        || (whole.as_bytes()[0].is_ascii_digit() && all_of(whole, |b| b.is_ascii_digit() || b == b'_'));
    let rest = &rest[1..];
    let (fraction, exponent) = rest.find(['e', 'E']).map_or((rest, ""), |i| rest.split_at(i));
    let exponent_ok = exponent.is_empty() || {
        let e = &exponent[1..];
        e.len() > 1 && matches!(e.as_bytes()[0], b'-' | b'+') && all_of(&e[1..], |b| b.is_ascii_digit())
    };
    whole_ok && all_of(fraction, |b| b.is_ascii_digit() || b == b'.') && exponent_ok
}

fn is_yaml11_timestamp(s: &str) -> bool {
    let b = s.as_bytes();
    let digit = |i: usize| b.get(i).is_some_and(u8::is_ascii_digit);
    // yyyy-m?m-d?d
    if !(digit(0) && digit(1) && digit(2) && digit(3) && b.get(4) == Some(&b'-')) {
        return false;
    }
    let mut i = 5;
    let take_digits = |i: &mut usize, min: usize, max: usize| -> bool {
        let start = *i;
        while *i < b.len() && *i - start < max && b[*i].is_ascii_digit() {
            *i += 1;
        }
        *i - start >= min
    };
    if !take_digits(&mut i, 1, 2) || b.get(i) != Some(&b'-') {
        return false;
    }
    i += 1;
    let month_start = 5;
    let day_start = i;
    if !take_digits(&mut i, 1, 2) {
        return false;
    }
    if i == b.len() {
        // The date-only form needs two-digit month and day.
        return day_start - month_start == 3 && i - day_start == 2;
    }
    // ([Tt]|[ \t]+)hh?:mm:ss(\.[0-9]*)?
    if matches!(b[i], b'T' | b't') {
        i += 1;
    } else if matches!(b[i], b' ' | b'\t') {
        while i < b.len() && matches!(b[i], b' ' | b'\t') {
            i += 1;
        }
    } else {
        return false;
    }
    if !take_digits(&mut i, 1, 2) {
        return false;
    }
    for _ in 0..2 {
        if b.get(i) != Some(&b':') {
            return false;
        }
        i += 1;
        let start = i;
        if !take_digits(&mut i, 2, 2) || i - start != 2 {
            return false;
        }
    }
    if b.get(i) == Some(&b'.') {
        i += 1;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
    }
    // (([ \t]*)Z|[-+][0-9][0-9]?(:[0-9][0-9])?)?
    let zone = &s[i..];
    if zone.is_empty() || zone.trim_start_matches([' ', '\t']) == "Z" {
        return true;
    }
    let Some(offset) = zone.strip_prefix(['-', '+']) else { return false };
    let (hours, minutes) = offset.split_once(':').map_or((offset, None), |(h, m)| (h, Some(m)));
    (1..=2).contains(&hours.len())
        && all_of(hours, |b| b.is_ascii_digit())
        && minutes.is_none_or(|m| m.len() == 2 && all_of(m, |b| b.is_ascii_digit()))
}
