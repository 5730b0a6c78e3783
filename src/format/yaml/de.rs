//! Typed reading: a parsed document into a serde type, with the position of whatever does not fit.

use std::fmt;

use serde::de::{self, DeserializeOwned, IntoDeserializer, Visitor};
use serde_json::Value;

use crate::format::yaml::parse::{Node, Parsed, Pos, Shape, YamlError};

/// Reads a parsed document into a Rust type (a profile); errors name the path and the line and
/// column, e.g. `line 4 column 7: kinds.Deployment: unknown field "bogus", expected one of …`.
pub fn deserialize<T: DeserializeOwned>(parsed: &Parsed) -> Result<T, YamlError> {
    T::deserialize(NodeDeserializer { value: &parsed.value, node: Some(&parsed.root) }).map_err(|e| {
        let (line, column) = e.at.unwrap_or(parsed.root.at);
        let message =
            if e.path.is_empty() { e.message } else { format!("{}: {}", e.path.join("."), e.message) };
        YamlError { line, column, message }
    })
}

#[derive(Debug)]
struct DeError {
    message: String,
    /// From the document root to the node; filled in while the error travels up.
    path: Vec<String>,
    /// The innermost known position.
    at: Option<Pos>,
}

impl DeError {
    fn locate(mut self, at: Option<Pos>) -> Self {
        self.at = self.at.or(at);
        self
    }

    fn under(mut self, segment: &str) -> Self {
        self.path.insert(0, segment.to_string());
        self
    }
}

impl fmt::Display for DeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for DeError {}

impl de::Error for DeError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        DeError { message: msg.to_string(), path: Vec::new(), at: None }
    }
}

struct NodeDeserializer<'a> {
    value: &'a Value,
    node: Option<&'a Node>,
}

impl<'a> NodeDeserializer<'a> {
    fn child(&self, key: &str) -> Option<&'a Node> {
        match &self.node?.shape {
            Shape::Mapping(entries) => entries.get(key),
            _ => None,
        }
    }
}

impl<'de> de::Deserializer<'de> for NodeDeserializer<'_> {
    type Error = DeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        let at = self.node.map(|n| n.at);
        let result = match self.value {
            Value::Null => visitor.visit_unit(),
            Value::Bool(b) => visitor.visit_bool(*b),
            Value::Number(n) => match (n.as_u64(), n.as_i64()) {
                (Some(u), _) => visitor.visit_u64(u),
                (None, Some(i)) => visitor.visit_i64(i),
                _ => visitor.visit_f64(n.as_f64().unwrap_or_default()),
            },
            Value::String(s) => visitor.visit_str(s),
            Value::Array(items) => {
                let nodes = match self.node.map(|n| &n.shape) {
                    Some(Shape::Sequence(nodes)) => Some(nodes.as_slice()),
                    _ => None,
                };
                visitor.visit_seq(SeqReader { items, nodes, index: 0 })
            }
            Value::Object(map) => {
                visitor.visit_map(MapReader { parent: &self, entries: map.iter(), current: None })
            }
        };
        result.map_err(|e| e.locate(at))
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match self.value {
            Value::Null => visitor.visit_none(),
            _ => visitor.visit_some(self),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        let at = self.node.map(|n| n.at);
        match self.value {
            Value::String(s) => {
                visitor.visit_enum(s.as_str().into_deserializer()).map_err(|e: DeError| e.locate(at))
            }
            _ => self.deserialize_any(visitor),
        }
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf unit
        unit_struct seq tuple tuple_struct map struct identifier ignored_any
    }
}

struct SeqReader<'a> {
    items: &'a [Value],
    nodes: Option<&'a [Node]>,
    index: usize,
}

impl<'de> de::SeqAccess<'de> for SeqReader<'_> {
    type Error = DeError;

    fn next_element_seed<T: de::DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, DeError> {
        let Some(value) = self.items.get(self.index) else { return Ok(None) };
        let node = self.nodes.and_then(|n| n.get(self.index));
        let index = self.index;
        self.index += 1;
        seed.deserialize(NodeDeserializer { value, node }).map(Some).map_err(|e| e.under(&index.to_string()))
    }
}

struct MapReader<'a, 'p> {
    parent: &'p NodeDeserializer<'a>,
    entries: serde_json::map::Iter<'a>,
    current: Option<(&'a String, &'a Value)>,
}

impl<'de> de::MapAccess<'de> for MapReader<'_, '_> {
    type Error = DeError;

    fn next_key_seed<K: de::DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>, DeError> {
        let Some((key, value)) = self.entries.next() else { return Ok(None) };
        self.current = Some((key, value));
        let key_at = self.parent.child(key).and_then(|n| n.key_at);
        seed.deserialize(key.as_str().into_deserializer()).map(Some).map_err(|e: DeError| e.locate(key_at))
    }

    fn next_value_seed<V: de::DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, DeError> {
        let Some((key, value)) = self.current.take() else {
            return Err(de::Error::custom("a value without a key"));
        };
        seed.deserialize(NodeDeserializer { value, node: self.parent.child(key) }).map_err(|e| e.under(key))
    }
}
