//! Profile paths checked against the schema of their kind, and the list semantics of custom kinds.
//!
//! A profile path that does not exist (`container.imagee`) would make a view silently empty, so every
//! path is checked when the profile loads. Built-in kinds need no cluster: their schema comes from
//! k8s-openapi's types, read through their own `Deserialize` impls (each struct names all its
//! fields when it deserializes, so a probe deserializer that follows one path learns what exists
//! there). Custom kinds are checked against the server's OpenAPI v3 document of their group-version,
//! which also says how their lists merge (`x-kubernetes-list-type`, `x-kubernetes-list-map-keys`)
//! and which maps are atomic: a role's write into an atomic list or map would replace fields the role
//! does not own, so it is refused.

use std::cell::RefCell;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

use crate::model::managed::Step;

/// A list item in a schema path.
pub const ITEM: &str = "[]";

/// What is at a place in a kind's schema.
#[derive(Debug, Clone, PartialEq)]
pub enum Shape {
    /// Named fields.
    Struct(Vec<String>),
    /// Free keys (labels, nodeSelector, resources.limits).
    Map,
    List,
    Scalar,
    /// Anything (x-kubernetes-preserve-unknown-fields, raw JSON).
    Any,
}

/// How a list merges, as its schema says.
#[derive(Debug, Clone, PartialEq)]
pub enum ListType {
    Atomic,
    Set,
    Map(Vec<String>),
}

/// One place in a schema.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub shape: Shape,
    /// For lists from an OpenAPI schema (k8s-openapi's types do not carry it).
    pub list: Option<ListType>,
    /// A struct or map replaced whole (`x-kubernetes-map-type: atomic`).
    pub atomic: bool,
}

/// The schema of a kind: from k8s-openapi for the built-in kinds, from the server for the others.
#[derive(Debug, Clone)]
pub enum KindSchema {
    /// What is at each step of a path (see [`KindSchema::walk`]).
    Builtin(fn(&[String]) -> Vec<Option<Node>>),
    /// The server's OpenAPI v3 document of the kind's group-version, and the kind's schema name.
    OpenApi { doc: Value, root: String },
}

impl KindSchema {
    /// The built-in kinds kubectl-oam knows without a cluster.
    pub fn builtin(api_version: &str, kind: &str) -> Option<KindSchema> {
        use k8s_openapi::api::{
            apps::v1 as apps, autoscaling::v2 as autoscaling, batch::v1 as batch, core::v1 as core,
        };
        let probe: fn(&[String]) -> Vec<Option<Node>> = match (api_version, kind) {
            ("apps/v1", "Deployment") => probe::<apps::Deployment>,
            ("apps/v1", "StatefulSet") => probe::<apps::StatefulSet>,
            ("apps/v1", "DaemonSet") => probe::<apps::DaemonSet>,
            ("apps/v1", "ReplicaSet") => probe::<apps::ReplicaSet>,
            ("batch/v1", "Job") => probe::<batch::Job>,
            ("batch/v1", "CronJob") => probe::<batch::CronJob>,
            ("autoscaling/v2", "HorizontalPodAutoscaler") => probe::<autoscaling::HorizontalPodAutoscaler>,
            ("v1", "ReplicationController") => probe::<core::ReplicationController>,
            ("v1", "PodTemplate") => probe::<core::PodTemplate>,
            // Objects around the workload (the profile's `related:` kinds).
            ("v1", "Service") => probe::<core::Service>,
            ("v1", "PersistentVolumeClaim") => probe::<core::PersistentVolumeClaim>,
            ("networking.k8s.io/v1", "Ingress") => probe::<k8s_openapi::api::networking::v1::Ingress>,
            ("policy/v1", "PodDisruptionBudget") => {
                probe::<k8s_openapi::api::policy::v1::PodDisruptionBudget>
            }
            _ => return None,
        };
        Some(KindSchema::Builtin(probe))
    }

    /// The kind's schema in an OpenAPI v3 document (`/openapi/v3/apis/GROUP/VERSION`): the schema
    /// whose `x-kubernetes-group-version-kind` names it.
    pub fn from_openapi(doc: Value, api_version: &str, kind: &str) -> Option<KindSchema> {
        let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
        let schemas = doc.get("components")?.get("schemas")?.as_object()?;
        let root = schemas.iter().find_map(|(name, schema)| {
            let gvks = schema.get("x-kubernetes-group-version-kind")?.as_array()?;
            gvks.iter()
                .any(|g| g["group"] == group && g["version"] == version && g["kind"] == kind)
                .then(|| name.clone())
        })?;
        Some(KindSchema::OpenApi { doc, root })
    }

    /// What is at `path` (field names and map keys, `[]` for list items); None if nothing.
    pub fn node(&self, path: &[String]) -> Option<Node> {
        self.walk(path).pop().flatten()
    }

    /// What is at each prefix of `path`, the empty one first (one probe for the whole path).
    pub fn walk(&self, path: &[String]) -> Vec<Option<Node>> {
        match self {
            KindSchema::Builtin(probe) => probe(path),
            KindSchema::OpenApi { doc, root } => {
                let mut out = Vec::with_capacity(path.len() + 1);
                let mut schema = doc
                    .get("components")
                    .and_then(|c| c.get("schemas")?.get(root))
                    .and_then(|s| resolve(doc, s));
                out.push(schema.map(openapi_node));
                for segment in path {
                    schema = schema.and_then(|schema| {
                        if is_any(schema) {
                            return Some(schema);
                        }
                        let next = match segment.as_str() {
                            ITEM => schema.get("items"),
                            field => match schema.get("properties") {
                                // Unknown fields kept (x-kubernetes-preserve-unknown-fields): anything.
                                Some(props) if props.get(field).is_none() && preserves_unknown(schema) => {
                                    return Some(schema);
                                }
                                Some(props) => props.get(field),
                                None => schema.get("additionalProperties").filter(|a| a.is_object()),
                            },
                        }?;
                        resolve(doc, next)
                    });
                    out.push(schema.map(openapi_node));
                }
                out
            }
        }
    }

    /// How the list at `path` merges, if the schema says.
    pub fn list_type(&self, path: &[String]) -> Option<ListType> {
        self.node(path).and_then(|n| n.list)
    }

    /// The place above `path` (a unit's, from the object root) that a write would send whole: an
    /// atomic list, a list not keyed the way the path addresses its items, or an atomic map. A role
    /// writing below it would replace fields it does not own.
    pub fn atomic_above(&self, path: &[Step]) -> Option<(String, &'static str)> {
        let schema_path: Vec<String> = path
            .iter()
            .map(|step| match step {
                Step::Field(f) => f.clone(),
                Step::Key(_) => ITEM.to_string(),
            })
            .collect();
        let nodes = self.walk(&schema_path);
        for (i, step) in path.iter().enumerate() {
            // The place this step goes into.
            let Some(Some(node)) = nodes.get(i) else { return None };
            let here = || display(&schema_path[..i]);
            // Anything kept as it is (preserve-unknown-fields) sets no constraint here; the fields
            // the schema does name below keep theirs.
            match step {
                Step::Field(_) if node.atomic && i > 0 => {
                    return Some((here(), "x-kubernetes-map-type: atomic"));
                }
                Step::Field(_) => {}
                Step::Key(key) => {
                    let keys: Vec<&String> = key.as_object().map(|m| m.keys().collect()).unwrap_or_default();
                    match &node.list {
                        _ if node.shape == Shape::Any => {}
                        Some(ListType::Map(list_keys)) if keys.iter().all(|k| list_keys.contains(k)) => {}
                        Some(ListType::Map(_)) => return Some((here(), "keyed by other fields")),
                        Some(ListType::Atomic) | None => {
                            return Some((here(), "x-kubernetes-list-type: atomic"));
                        }
                        Some(ListType::Set) => return Some((here(), "x-kubernetes-list-type: set")),
                    }
                }
            }
        }
        None
    }
}

fn display(path: &[String]) -> String {
    path.iter().filter(|s| *s != ITEM).cloned().collect::<Vec<_>>().join(".")
}

/// Follows `$ref` (and the `allOf: [{$ref}]` wrapper kube-apiserver puts around references that
/// carry a description).
fn resolve<'a>(doc: &'a Value, mut schema: &'a Value) -> Option<&'a Value> {
    for _ in 0..32 {
        let reference = schema
            .get("$ref")
            .or_else(|| schema.get("allOf").and_then(|a| a.as_array()).and_then(|a| a.first()?.get("$ref")));
        match reference.and_then(Value::as_str) {
            Some(r) => {
                let name = r.strip_prefix("#/components/schemas/")?;
                schema = doc.get("components")?.get("schemas")?.get(name)?;
            }
            None => return Some(schema),
        }
    }
    None
}

fn preserves_unknown(schema: &Value) -> bool {
    schema.get("x-kubernetes-preserve-unknown-fields") == Some(&Value::Bool(true))
}

fn is_any(schema: &Value) -> bool {
    preserves_unknown(schema) && schema.get("properties").is_none()
}

fn openapi_node(schema: &Value) -> Node {
    let atomic = schema.get("x-kubernetes-map-type").and_then(Value::as_str) == Some("atomic");
    if is_any(schema) || schema.get("x-kubernetes-int-or-string").is_some() {
        return Node { shape: if is_any(schema) { Shape::Any } else { Shape::Scalar }, list: None, atomic };
    }
    if let Some(props) = schema.get("properties").and_then(Value::as_object) {
        // Named fields, and any other kept as it is: every path below is fine.
        let shape = if preserves_unknown(schema) {
            Shape::Any
        } else {
            Shape::Struct(props.keys().cloned().collect())
        };
        return Node { shape, list: None, atomic };
    }
    if schema.get("additionalProperties").is_some_and(Value::is_object) {
        return Node { shape: Shape::Map, list: None, atomic };
    }
    if schema.get("type").and_then(Value::as_str) == Some("array") || schema.get("items").is_some() {
        let list = match schema.get("x-kubernetes-list-type").and_then(Value::as_str) {
            Some("map") => ListType::Map(
                schema
                    .get("x-kubernetes-list-map-keys")
                    .and_then(Value::as_array)
                    .map(|keys| keys.iter().filter_map(|k| k.as_str().map(str::to_string)).collect())
                    .unwrap_or_default(),
            ),
            Some("set") => ListType::Set,
            _ => ListType::Atomic,
        };
        return Node { shape: Shape::List, list: Some(list), atomic };
    }
    if schema.get("type").and_then(Value::as_str) == Some("object") {
        return Node { shape: Shape::Any, list: None, atomic };
    }
    Node { shape: Shape::Scalar, list: None, atomic }
}

/// The name among `names` closest to `wanted` (edit distance), if any is reasonably close.
pub fn nearest<'a>(wanted: &str, names: &'a [String]) -> Option<&'a str> {
    let wanted_lower = wanted.to_lowercase();
    names
        .iter()
        .map(|n| (distance(&wanted_lower, &n.to_lowercase()), n))
        .filter(|(d, n)| *d <= (n.len().max(wanted.len()) / 2).max(2))
        .min_by_key(|(d, _)| *d)
        .map(|(_, n)| n.as_str())
}

/// Levenshtein distance.
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let here = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != *cb)).min(row[j] + 1).min(row[j + 1] + 1);
            prev = here;
        }
    }
    row[b.len()]
}

// ---------------------------------------------------------------------------------------------
// The probe: a deserializer that walks a k8s-openapi type along one path.

/// What the probe found at each step of its path.
type Found = RefCell<Vec<Option<Shape>>>;

/// The schema node at each prefix of `path` of the k8s-openapi type `T`.
fn probe<T: serde::de::DeserializeOwned>(path: &[String]) -> Vec<Option<Node>> {
    let found: Found = RefCell::new(vec![None; path.len() + 1]);
    if T::deserialize(Probe { focus: Some(path), total: path.len(), found: &found, depth: 0 }).is_err() {
        return vec![None; path.len() + 1];
    }
    found.into_inner().into_iter().map(|s| s.map(|shape| Node { shape, list: None, atomic: false })).collect()
}

/// `focus`: the rest of the path to follow; None: fill the value with as little as possible.
struct Probe<'a> {
    focus: Option<&'a [String]>,
    /// The length of the whole path.
    total: usize,
    found: &'a Found,
    depth: usize,
}

/// A string every string-typed field accepts: a quantity, an int-or-string and a time.
const ANY_STRING: &str = "1970-01-01T00:00:00Z";
/// Deeper than any workload type: a recursive type (JSONSchemaProps) ends here.
const MAX_DEPTH: usize = 64;

impl<'a> Probe<'a> {
    fn shallow(&self) -> Probe<'a> {
        Probe { focus: None, total: self.total, found: self.found, depth: self.depth + 1 }
    }

    fn record(&self, shape: Shape) {
        if let Some(rest) = self.focus {
            if let Some(slot) = self.found.borrow_mut().get_mut(self.total - rest.len()) {
                *slot = Some(shape);
            }
        }
    }

    /// The path continues at `segment` below this place (any key, for a map: `segment` None).
    fn below(&self, segment: Option<&str>) -> Option<Probe<'a>> {
        match self.focus {
            Some([first, rest @ ..]) if segment.is_none_or(|s| s == first) => {
                Some(Probe { focus: Some(rest), total: self.total, found: self.found, depth: self.depth + 1 })
            }
            _ => None,
        }
    }
}

impl<'de> Deserializer<'de> for Probe<'_> {
    type Error = de::value::Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        self.record(Shape::Any);
        visitor.visit_borrowed_str(ANY_STRING)
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        self.record(Shape::Scalar);
        visitor.visit_bool(false)
    }

    fn deserialize_i8<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        self.deserialize_i64(visitor)
    }
    fn deserialize_i16<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        self.deserialize_i64(visitor)
    }
    fn deserialize_i32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        self.deserialize_i64(visitor)
    }
    fn deserialize_i64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        self.record(Shape::Scalar);
        visitor.visit_i64(0)
    }
    fn deserialize_u8<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        self.deserialize_i64(visitor)
    }
    fn deserialize_u16<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        self.deserialize_i64(visitor)
    }
    fn deserialize_u32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        self.deserialize_i64(visitor)
    }
    fn deserialize_u64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        self.deserialize_i64(visitor)
    }
    fn deserialize_f32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        self.deserialize_f64(visitor)
    }
    fn deserialize_f64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        self.record(Shape::Scalar);
        visitor.visit_f64(0.0)
    }
    fn deserialize_char<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        self.record(Shape::Scalar);
        visitor.visit_char('x')
    }
    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        self.record(Shape::Scalar);
        visitor.visit_borrowed_str(ANY_STRING)
    }
    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        self.deserialize_str(visitor)
    }
    fn deserialize_bytes<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        self.record(Shape::Scalar);
        visitor.visit_borrowed_bytes(&[])
    }
    fn deserialize_byte_buf<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        self.deserialize_bytes(visitor)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        // Off the path, or too deep (a recursive type): nothing.
        if self.focus.is_none() || self.depth > MAX_DEPTH {
            visitor.visit_none()
        } else {
            visitor.visit_some(self)
        }
    }

    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        self.record(Shape::Scalar);
        visitor.visit_unit()
    }
    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.deserialize_unit(visitor)
    }
    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        self.record(Shape::List);
        visitor.visit_seq(Items { item: self.below(Some(ITEM)) })
    }
    fn deserialize_tuple<V: Visitor<'de>>(self, _len: usize, visitor: V) -> Result<V::Value, Self::Error> {
        self.deserialize_seq(visitor)
    }
    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        self.record(Shape::Map);
        let entries = match self.below(None) {
            Some(value) => vec![("key", Some(value))],
            None => Vec::new(),
        };
        visitor.visit_map(Entries { entries, next: None })
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.record(Shape::Struct(fields.iter().map(|f| f.to_string()).collect()));
        // Every field, so required ones are there; only the one on the path is followed. A resource
        // checks its apiVersion and kind, which need no value anyway; so does one embedded in
        // another (a StatefulSet's volumeClaimTemplates), which has metadata beside them.
        let resource = self.depth == 0 || fields.contains(&"metadata");
        let entries = fields
            .iter()
            .filter(|f| !resource || !["apiVersion", "kind"].contains(f))
            .map(|f| match self.below(Some(f)) {
                Some(deep) => (*f, Some(deep)),
                None => (*f, Some(self.shallow())),
            })
            .collect();
        visitor.visit_map(Entries { entries, next: None })
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        _visitor: V,
    ) -> Result<V::Value, Self::Error> {
        Err(de::Error::custom("enums are not probed"))
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        visitor.visit_borrowed_str("")
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        visitor.visit_unit()
    }
}

/// A list with one item when the path goes into its items, else empty.
struct Items<'a> {
    item: Option<Probe<'a>>,
}

impl<'de> SeqAccess<'de> for Items<'_> {
    type Error = de::value::Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Self::Error> {
        match self.item.take() {
            Some(item) => seed.deserialize(item).map(Some),
            None => Ok(None),
        }
    }
}

/// The fields of a struct (or the one entry of a map), each with the probe for its value.
struct Entries<'a> {
    entries: Vec<(&'static str, Option<Probe<'a>>)>,
    next: Option<Probe<'a>>,
}

impl<'de> MapAccess<'de> for Entries<'_> {
    type Error = de::value::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>, Self::Error> {
        if self.entries.is_empty() {
            return Ok(None);
        }
        let (key, value) = self.entries.remove(0);
        self.next = value;
        seed.deserialize(de::value::BorrowedStrDeserializer::new(key)).map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Self::Error> {
        match self.next.take() {
            Some(probe) => seed.deserialize(probe),
            None => Err(de::Error::custom("a value without a key")),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::model::roles::{FieldPath, KindInfo, Profile};

    fn path(text: &str) -> Vec<String> {
        text.split('.').map(str::to_string).collect()
    }

    #[test]
    fn built_in_kinds_are_read_from_k8s_openapi() {
        let deploy = KindSchema::builtin("apps/v1", "Deployment").unwrap();
        let Some(Node { shape: Shape::Struct(fields), .. }) =
            deploy.node(&path("spec.template.spec.containers.[]"))
        else {
            panic!("a container is a struct")
        };
        assert!(fields.contains(&"image".to_string()) && fields.contains(&"restartPolicy".to_string()));
        assert_eq!(deploy.node(&path("metadata.labels")).unwrap().shape, Shape::Map);
        assert_eq!(deploy.node(&path("spec.template.spec.tolerations")).unwrap().shape, Shape::List);
        assert_eq!(deploy.node(&path("spec.replicas")).unwrap().shape, Shape::Scalar);
        assert_eq!(deploy.node(&path("spec.strategy.rollingUpdate.maxSurge")).unwrap().shape, Shape::Any);
        assert!(deploy.node(&path("spec.replicaz")).is_none());
        let hpa = KindSchema::builtin("autoscaling/v2", "HorizontalPodAutoscaler").unwrap();
        for field in crate::core::hpa::FIELDS {
            assert!(hpa.node(&["spec".into(), field.into()]).is_some(), "{field}");
        }
        // Every path of the built-in profile exists.
        let p = Profile::builtin();
        for kind in &p.kinds {
            let schema = KindSchema::builtin(&kind.api_version, &kind.kind).unwrap();
            for role in &p.roles {
                for field in role.traits.iter().flat_map(|t| &t.fields).chain(&role.read_only) {
                    if field.applies_to(&kind.kind) {
                        assert_eq!(schema.check(kind, &field.path), Ok(()), "{} {}", kind.kind, field.path);
                    }
                }
            }
        }
    }

    #[test]
    fn a_path_that_does_not_exist_names_the_nearest() {
        let p = Profile::builtin();
        let deploy = p.kind("deploy").unwrap();
        let schema = KindSchema::builtin("apps/v1", "Deployment").unwrap();
        let check = |text: &str| schema.check(deploy, &FieldPath::parse(text).unwrap());
        assert_eq!(
            check("container.imagee").unwrap_err(),
            "\"container.imagee\" does not exist: a container of Deployment (apps/v1) has no field \"imagee\"; did you mean \"image\"?"
        );
        assert_eq!(
            check("spec.strategy.rollingUpdat.maxSurge").unwrap_err(),
            "\"spec.strategy.rollingUpdat.maxSurge\" does not exist: spec.strategy of Deployment (apps/v1) has no field \"rollingUpdat\"; did you mean \"rollingUpdate\"?"
        );
        assert!(
            check("pod.tolerations.key")
                .unwrap_err()
                .contains("pod.tolerations of Deployment (apps/v1) is a list")
        );
        assert!(check("spec.replicas.x").unwrap_err().contains("is a value with no fields"));
        assert!(
            check("spec.xyzzy").unwrap_err().ends_with("has no field \"xyzzy\""),
            "nothing near: no guess"
        );
        assert_eq!(check("metadata.annotations.team"), Ok(()), "map keys are free");
        assert_eq!(check("template.metadata.labels"), Ok(()));
    }

    /// A custom kind's OpenAPI v3 document as kube-apiserver publishes it for a CRD.
    fn widget_doc(containers: Value) -> Value {
        json!({"components": {"schemas": {
            "com.example.v1.Widget": {
                "type": "object",
                "x-kubernetes-group-version-kind": [{"group": "example.com", "version": "v1", "kind": "Widget"}],
                "properties": {
                    "metadata": {"allOf": [{"$ref": "#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"}]},
                    "spec": {"type": "object", "properties": {
                        "replicas": {"type": "integer"},
                        "selector": {"type": "object", "x-kubernetes-map-type": "atomic",
                                     "properties": {"matchLabels": {"type": "object", "additionalProperties": {"type": "string"}}}},
                        "extra": {"type": "object", "x-kubernetes-preserve-unknown-fields": true},
                        "partial": {"type": "object", "x-kubernetes-preserve-unknown-fields": true, "properties": {
                            "known": {"type": "array", "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["id"],
                                      "items": {"type": "object", "properties": {"id": {"type": "string"}}}}}},
                        "template": {"type": "object", "properties": {"spec": {"type": "object", "properties": {
                            "containers": containers}}}}}}}},
            "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta": {"type": "object", "properties": {
                "labels": {"type": "object", "additionalProperties": {"type": "string"}}}}
        }}})
    }

    fn container_schema(list_type: Value) -> Value {
        let mut list = json!({"type": "array", "items": {"type": "object", "properties": {
            "name": {"type": "string"}, "image": {"type": "string"},
            "env": {"type": "array", "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["name"],
                    "items": {"type": "object", "properties": {"name": {"type": "string"}, "value": {"type": "string"}}}}}}});
        if let Value::Object(extra) = list_type {
            list.as_object_mut().unwrap().extend(extra);
        }
        list
    }

    #[test]
    fn custom_kinds_are_checked_against_the_servers_openapi() {
        let keyed = container_schema(
            json!({"x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["name"]}),
        );
        let schema = KindSchema::from_openapi(widget_doc(keyed), "example.com/v1", "Widget").unwrap();
        assert!(KindSchema::from_openapi(widget_doc(json!({})), "example.com/v1", "Gadget").is_none());
        let kind = KindInfo {
            kind: "Widget".into(),
            api_version: "example.com/v1".into(),
            resource: "widgets".into(),
            names: vec![],
            template: vec!["spec".into(), "template".into()],
            schema: None,
        };
        let check = |text: &str| schema.check(&kind, &FieldPath::parse(text).unwrap());
        assert_eq!(check("container.image"), Ok(()));
        assert_eq!(check("metadata.labels"), Ok(()), "through a $ref");
        assert_eq!(check("spec.extra.anything.below"), Ok(()), "preserve-unknown-fields");
        assert_eq!(check("spec.partial.known"), Ok(()));
        assert_eq!(check("spec.partial.unknown.below"), Ok(()), "unknown fields kept beside known ones");
        assert_eq!(
            schema.list_type(&path("spec.partial.known")),
            Some(ListType::Map(vec!["id".into()])),
            "the known ones keep their semantics"
        );
        assert!(check("container.imag").unwrap_err().contains("did you mean \"image\"?"));
        assert!(check("spec.replica").unwrap_err().contains("did you mean \"replicas\"?"));
        // List semantics: env is keyed by name; the containers by name.
        let env = path("spec.template.spec.containers.[].env");
        assert_eq!(schema.list_type(&env), Some(ListType::Map(vec!["name".into()])));
        let unit = |steps: &[Step]| steps.to_vec();
        let image = unit(&[
            Step::Field("spec".into()),
            Step::Field("template".into()),
            Step::Field("spec".into()),
            Step::Field("containers".into()),
            Step::Key(json!({"name": "app"})),
            Step::Field("image".into()),
        ]);
        assert_eq!(schema.atomic_above(&image), None);
        let label = unit(&[
            Step::Field("spec".into()),
            Step::Field("selector".into()),
            Step::Field("matchLabels".into()),
        ]);
        assert_eq!(
            schema.atomic_above(&label),
            Some(("spec.selector".to_string(), "x-kubernetes-map-type: atomic"))
        );
        // Known fields below kept-unknown ones keep their semantics.
        let partial = |field: &str| {
            unit(&[
                Step::Field("spec".into()),
                Step::Field("partial".into()),
                Step::Field(field.into()),
                Step::Key(json!({"id": "a"})),
                Step::Field("id".into()),
            ])
        };
        assert_eq!(schema.atomic_above(&partial("known")), None);
        assert_eq!(schema.atomic_above(&partial("other")), None, "nothing known: no refusal");
        // An atomic list of containers: a write into one would replace them all.
        let atomic =
            KindSchema::from_openapi(widget_doc(container_schema(json!({}))), "example.com/v1", "Widget")
                .unwrap();
        assert_eq!(
            atomic.atomic_above(&image),
            Some(("spec.template.spec.containers".to_string(), "x-kubernetes-list-type: atomic"))
        );
    }
}
