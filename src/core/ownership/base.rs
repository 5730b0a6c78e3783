//! The base: what a document was read from (its resourceVersion and a digest of each unit's value).

use std::collections::HashMap;

use serde_json::{Value, json};

use crate::core::ownership::units::{Unit, Units, container_of};
use crate::format::canonical::fnv32;

/// The key of a document's base in role documents.
pub const BASE_KEY: &str = "base";
const DIGEST_VERSION: &str = "v1";

/// What a document was read from: the object's resourceVersion, and a digest of each unit's value.
/// Units of another object the document shows (the autoscaler's) are recorded under a scope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Base {
    pub resource_version: String,
    digests: HashMap<u32, u32>,
    /// Which object's units `digest` looks up: None for the workload's.
    scope: Option<String>,
}

impl Base {
    /// `containers`: the containers the document showed (it may be filtered to one); what it did not
    /// show is not covered by the base.
    pub fn of(units: &Units, containers: &[String], resource_version: &str) -> Base {
        let digests = units
            .iter()
            .map(|u| (fnv32(u.key()), fnv32(&u.canon)))
            .chain(containers.iter().map(|c| (fnv32(&coverage_key(c)), 0)))
            .collect();
        Base { resource_version: resource_version.to_string(), digests, scope: None }
    }

    /// Adds the units of another object the document shows, apart from the workload's.
    pub fn with_scoped(mut self, scope: &str, units: &Units) -> Base {
        self.digests.extend(units.iter().map(|u| (fnv32(&scoped_key(scope, u.key())), fnv32(&u.canon))));
        self
    }

    /// The base as seen for the object `scope` names.
    pub fn scoped(&self, scope: &str) -> Base {
        Base { scope: Some(scope.to_string()), ..self.clone() }
    }

    /// Did the document this base records show this unit's place (its container)?
    pub(super) fn covers(&self, unit: &Unit) -> bool {
        container_of(unit).is_none_or(|c| self.digests.contains_key(&fnv32(&coverage_key(c))))
    }

    /// `{resourceVersion, digest}`: opaque, but short and stable, so a person can leave it alone.
    pub fn to_value(&self) -> Value {
        let mut pairs: Vec<(u32, u32)> = self.digests.iter().map(|(k, v)| (*k, *v)).collect();
        pairs.sort_unstable();
        let bytes: Vec<u8> =
            pairs.iter().flat_map(|(k, v)| k.to_be_bytes().into_iter().chain(v.to_be_bytes())).collect();
        json!({
            "resourceVersion": self.resource_version,
            "digest": format!("{DIGEST_VERSION}.{}", base64url(&bytes)),
        })
    }

    pub fn from_value(value: &Value) -> Result<Base, String> {
        let bad = || {
            format!(
                "{BASE_KEY}: not a base written by kubectl oam (it records what the document was read from); restore it, or delete it to apply the document as desired state"
            )
        };
        let rv = value.get("resourceVersion").and_then(Value::as_str).ok_or_else(bad)?;
        let digest = value.get("digest").and_then(Value::as_str).ok_or_else(bad)?;
        if value.as_object().is_some_and(|m| m.len() != 2) {
            return Err(bad());
        }
        let encoded = digest.strip_prefix(&format!("{DIGEST_VERSION}.")).ok_or_else(bad)?;
        let bytes = from_base64url(encoded).ok_or_else(bad)?;
        if bytes.len() % 8 != 0 {
            return Err(bad());
        }
        let digests = bytes
            .chunks(8)
            .map(|c| {
                (u32::from_be_bytes([c[0], c[1], c[2], c[3]]), u32::from_be_bytes([c[4], c[5], c[6], c[7]]))
            })
            .collect();
        Ok(Base { resource_version: rv.to_string(), digests, scope: None })
    }

    /// Did the document this base records show `unit` with this same value?
    pub fn has_same(&self, unit: &Unit) -> bool {
        self.digest(unit.key()) == Some(fnv32(&unit.canon))
    }

    pub(super) fn digest(&self, unit_key: &str) -> Option<u32> {
        let key = match &self.scope {
            Some(scope) => scoped_key(scope, unit_key),
            None => unit_key.to_string(),
        };
        self.digests.get(&fnv32(&key)).copied()
    }
}

fn scoped_key(scope: &str, unit_key: &str) -> String {
    format!("{scope}:\n{unit_key}")
}

fn coverage_key(container: &str) -> String {
    format!("container:{container}")
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

pub(super) fn base64url(bytes: &[u8]) -> String {
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().enumerate().fold(0u32, |n, (i, b)| n | u32::from(*b) << (16 - 8 * i));
        for i in 0..=chunk.len() {
            out.push(B64[(n >> (18 - 6 * i) & 63) as usize] as char);
        }
    }
    out
}

pub(super) fn from_base64url(text: &str) -> Option<Vec<u8>> {
    let values: Vec<u32> =
        text.bytes().map(|c| B64.iter().position(|&b| b == c).map(|p| p as u32)).collect::<Option<_>>()?;
    if values.len() % 4 == 1 {
        return None;
    }
    let mut out = Vec::new();
    for chunk in values.chunks(4) {
        let n = chunk.iter().enumerate().fold(0u32, |n, (i, v)| n | v << (18 - 6 * i));
        for i in 0..chunk.len() - 1 {
            out.push((n >> (16 - 8 * i)) as u8);
        }
    }
    Some(out)
}
