//! The profile document as it is written (serde's view of profile.yaml): read here, checked and
//! turned into the role model by `Profile` in the parent module.

use std::collections::BTreeMap;
use std::fmt;

use serde::Deserialize;

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct RawProfile {
    #[allow(dead_code)]
    pub(super) api_version: String,
    pub(super) kind: String,
    pub(super) kinds: IndexedMap<RawKind>,
    #[serde(default)]
    pub(super) related: IndexedMap<RawRelated>,
    pub(super) roles: BTreeMap<String, RawRole>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct RawKind {
    pub(super) api_version: String,
    pub(super) resource: String,
    #[serde(default)]
    pub(super) names: Vec<String>,
    pub(super) template: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct RawRole {
    pub(super) manager: String,
    pub(super) group: Option<String>,
    #[serde(default)]
    pub(super) description: String,
    pub(super) traits: BTreeMapOrdered<BTreeMapOrdered<RawField>>,
    #[serde(default)]
    pub(super) read_only: BTreeMapOrdered<RawField>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct RawField {
    pub(super) path: String,
    pub(super) kinds: Option<Vec<String>>,
    #[serde(default)]
    pub(super) exclude: Vec<String>,
    #[serde(default)]
    pub(super) autoscaled: bool,
    pub(super) reason: Option<String>,
    #[serde(default)]
    pub(super) keys: Vec<String>,
    #[serde(rename = "where")]
    pub(super) where_: Option<RawHas>,
    pub(super) unless: Option<RawHas>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawHas {
    pub(super) has: String,
}

/// A YAML mapping read in document order (the order fields are shown in).
pub(super) struct BTreeMapOrdered<T>(pub(super) Vec<(String, T)>);

impl<T> Default for BTreeMapOrdered<T> {
    fn default() -> Self {
        BTreeMapOrdered(Vec::new())
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for BTreeMapOrdered<T> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct Visitor<T>(std::marker::PhantomData<T>);
        impl<'de, T: Deserialize<'de>> serde::de::Visitor<'de> for Visitor<T> {
            type Value = BTreeMapOrdered<T>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a mapping")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> std::result::Result<Self::Value, A::Error> {
                let mut out = Vec::new();
                let mut seen = std::collections::HashSet::new();
                while let Some((k, v)) = map.next_entry::<String, T>()? {
                    if !seen.insert(k.clone()) {
                        return Err(serde::de::Error::custom(format!("duplicate key \"{k}\"")));
                    }
                    out.push((k, v));
                }
                Ok(BTreeMapOrdered(out))
            }
        }
        d.deserialize_map(Visitor(std::marker::PhantomData))
    }
}

pub(super) type IndexedMap<T> = BTreeMapOrdered<T>;

impl<T> IntoIterator for BTreeMapOrdered<T> {
    type Item = (String, T);
    type IntoIter = std::vec::IntoIter<(String, T)>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl<T> BTreeMapOrdered<T> {
    pub(super) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct RawRelated {
    pub(crate) kind: String,
    pub(crate) api_version: String,
    pub(crate) resource: String,
    #[serde(default)]
    pub(crate) names: Vec<String>,
    pub(crate) find: String,
    #[serde(default)]
    pub(crate) optional: bool,
}
