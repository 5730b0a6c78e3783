//! The role model as data: which workload kinds exist, and which fields each role owns.
//!
//! Views, writes, owners and completion all read a [`Profile`]; no other module knows which field
//! belongs to which role. The built-in profile is `src/profile.yaml`.

use std::collections::BTreeMap;
use std::fmt;

use serde::Deserialize;

use crate::error::{Error, Result};

pub const BUILTIN_PROFILE: &str = include_str!("profile.yaml");

/// Top-level keys of a role document that are not traits.
pub const IDENTITY_KEYS: [&str; 3] = ["kind", "name", "namespace"];
pub const READ_ONLY_KEY: &str = "readOnly";
/// Live status that views add to documents; like readOnly, never written.
pub const STATUS_KEY: &str = "status";
/// Container-rooted fields of a role are shown under this key, keyed by container name.
pub const CONTAINERS_KEY: &str = "containers";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RoleName {
    Dev,
    Ops,
}

impl RoleName {
    pub const ALL: [RoleName; 2] = [RoleName::Dev, RoleName::Ops];

    pub fn as_str(self) -> &'static str {
        match self {
            RoleName::Dev => "dev",
            RoleName::Ops => "ops",
        }
    }

    pub fn other(self) -> RoleName {
        match self {
            RoleName::Dev => RoleName::Ops,
            RoleName::Ops => RoleName::Dev,
        }
    }
}

impl fmt::Display for RoleName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a field path starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Root {
    /// Each container of the pod template.
    Container,
    /// The pod spec of the template.
    Pod,
    /// The pod template.
    Template,
    /// The object itself.
    Object,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldPath {
    pub root: Root,
    pub segments: Vec<String>,
}

impl FieldPath {
    fn parse(text: &str) -> std::result::Result<FieldPath, String> {
        let mut parts: Vec<String> = text.split('.').map(str::to_string).collect();
        if parts.iter().any(String::is_empty) {
            return Err(format!("path \"{text}\" has an empty segment"));
        }
        let root = match parts[0].as_str() {
            "container" => Root::Container,
            "pod" => Root::Pod,
            "template" => Root::Template,
            _ => Root::Object,
        };
        if root != Root::Object {
            parts.remove(0);
        }
        if parts.is_empty() {
            return Err(format!("path \"{text}\" names no field below its root"));
        }
        Ok(FieldPath { root, segments: parts })
    }

    /// The path from the object root, for fields that are not per container.
    pub fn in_object(&self, kind: &KindInfo) -> Vec<String> {
        let mut path = match self.root {
            Root::Object => Vec::new(),
            Root::Template => kind.template.clone(),
            Root::Pod | Root::Container => kind.pod_spec_path(),
        };
        if self.root == Root::Container {
            path.push("containers".into());
        }
        path.extend(self.segments.iter().cloned());
        path
    }
}

impl fmt::Display for FieldPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let root = match self.root {
            Root::Container => "container.",
            Root::Pod => "pod.",
            Root::Template => "template.",
            Root::Object => "",
        };
        write!(f, "{root}{}", self.segments.join("."))
    }
}

#[derive(Debug, Clone)]
pub struct Field {
    /// The key in the role document.
    pub name: String,
    pub path: FieldPath,
    /// Kinds that have this field; None = every kind.
    pub kinds: Option<Vec<String>>,
    /// Map keys never shown or written (set by tools and controllers).
    pub exclude: Vec<String>,
    /// Held by a HorizontalPodAutoscaler when one targets the workload.
    pub autoscaled: bool,
}

impl Field {
    pub fn applies_to(&self, kind: &str) -> bool {
        self.kinds.as_ref().is_none_or(|k| k.iter().any(|k| k == kind))
    }
}

#[derive(Debug, Clone)]
pub struct Trait {
    pub name: String,
    pub fields: Vec<Field>,
}

#[derive(Debug, Clone)]
pub struct Role {
    pub name: RoleName,
    pub manager: String,
    pub description: String,
    pub traits: Vec<Trait>,
    pub read_only: Vec<Field>,
}

impl Role {
    /// Per-container fields, in profile order.
    pub fn container_fields(&self) -> impl Iterator<Item = &Field> {
        self.traits.iter().flat_map(|t| &t.fields).filter(|f| f.path.root == Root::Container)
    }

    /// Traits of whole-object fields, with only the fields `kind` has; traits left empty are absent.
    pub fn object_traits<'a>(
        &'a self,
        kind: &'a str,
    ) -> impl Iterator<Item = (&'a str, Vec<&'a Field>)> + 'a {
        self.traits.iter().filter_map(move |t| {
            let fields: Vec<&Field> =
                t.fields.iter().filter(|f| f.path.root != Root::Container && f.applies_to(kind)).collect();
            (!fields.is_empty()).then_some((t.name.as_str(), fields))
        })
    }

    /// Is `key` a top-level key of this role's documents?
    pub fn has_document_key(&self, key: &str) -> bool {
        (key == CONTAINERS_KEY && self.container_fields().next().is_some())
            || self
                .traits
                .iter()
                .any(|t| t.name == key && t.fields.iter().any(|f| f.path.root != Root::Container))
    }
}

#[derive(Debug, Clone)]
pub struct KindInfo {
    pub kind: String,
    pub api_version: String,
    pub resource: String,
    /// Short and singular names accepted on the command line, besides the kind and resource.
    pub names: Vec<String>,
    /// Path of the pod template from the object root.
    pub template: Vec<String>,
}

impl KindInfo {
    pub fn group(&self) -> &str {
        self.api_version.rsplit_once('/').map_or("", |(g, _)| g)
    }

    pub fn version(&self) -> &str {
        self.api_version.rsplit_once('/').map_or(self.api_version.as_str(), |(_, v)| v)
    }

    pub fn pod_spec_path(&self) -> Vec<String> {
        let mut path = self.template.clone();
        path.push("spec".into());
        path
    }

    pub fn containers_path(&self) -> Vec<String> {
        let mut path = self.pod_spec_path();
        path.push("containers".into());
        path
    }

    /// kubectl's spelling of the resource: "deployment.apps".
    pub fn display_resource(&self) -> String {
        let singular = self.kind.to_lowercase();
        match self.group() {
            "" => singular,
            group => format!("{singular}.{group}"),
        }
    }

    pub fn matches(&self, name: &str) -> bool {
        let name = name.to_lowercase();
        let bare = name.split_once('.').map_or(name.as_str(), |(n, _)| n);
        bare == self.kind.to_lowercase() || bare == self.resource || self.names.iter().any(|n| *n == bare)
    }
}

#[derive(Debug, Clone)]
pub struct Profile {
    pub kinds: Vec<KindInfo>,
    pub roles: Vec<Role>,
    /// Where it came from, for `kubectl oam roles` and error messages.
    pub source: String,
    /// The text it was read from.
    pub text: String,
}

impl Profile {
    pub fn builtin() -> Profile {
        Profile::parse(BUILTIN_PROFILE, "built-in").expect("the built-in profile is valid")
    }

    pub fn role(&self, name: RoleName) -> &Role {
        self.roles.iter().find(|r| r.name == name).expect("a parsed profile has every role")
    }

    pub fn kind(&self, name: &str) -> Result<&KindInfo> {
        self.kinds.iter().find(|k| k.matches(name)).ok_or_else(|| Error::UnknownKind(name.to_string()))
    }

    /// The role (and its trait) that owns a top-level document key, if any.
    pub fn role_of_key(&self, key: &str) -> Option<RoleName> {
        self.roles.iter().find(|r| r.has_document_key(key)).map(|r| r.name)
    }

    /// Parses and checks a profile; errors name the source and the line/column or key.
    pub fn parse(text: &str, source: &str) -> Result<Profile> {
        let bad = |msg: String| Error::Invalid(format!("role profile {source}: {msg}"));
        let raw: RawProfile = serde_yaml::from_str(text).map_err(|e| bad(yaml_error(&e)))?;
        if raw.kind != "RoleProfile" {
            return Err(bad(format!("kind is \"{}\", expected RoleProfile", raw.kind)));
        }
        if raw.kinds.is_empty() {
            return Err(bad("kinds: at least one workload kind is needed".into()));
        }
        let mut kinds = Vec::new();
        for (kind, k) in raw.kinds {
            if !k.api_version.contains('/') && k.api_version != "v1" {
                return Err(bad(format!(
                    "kinds.{kind}.apiVersion \"{}\" is not GROUP/VERSION",
                    k.api_version
                )));
            }
            let template: Vec<String> = k.template.split('.').map(str::to_string).collect();
            if template.iter().any(String::is_empty) {
                return Err(bad(format!("kinds.{kind}.template \"{}\" is not a dotted path", k.template)));
            }
            kinds.push(KindInfo {
                kind,
                api_version: k.api_version,
                resource: k.resource,
                names: k.names.into_iter().map(|n| n.to_lowercase()).collect(),
                template,
            });
        }
        let known_kind = |kind: &str| kinds.iter().any(|k| k.kind == kind);
        let mut roles = Vec::new();
        for name in RoleName::ALL {
            let raw_role =
                raw.roles.get(name.as_str()).ok_or_else(|| bad(format!("roles.{name} is missing")))?;
            let parse_fields = |at: &str, fields: &BTreeMapOrdered<RawField>| -> Result<Vec<Field>> {
                let mut out = Vec::new();
                for (field_name, f) in &fields.0 {
                    let key = format!("{at}.{field_name}");
                    let path = FieldPath::parse(&f.path).map_err(|m| bad(format!("{key}.path: {m}")))?;
                    if let Some(kinds) = &f.kinds {
                        if let Some(unknown) = kinds.iter().find(|k| !known_kind(k)) {
                            return Err(bad(format!("{key}.kinds: unknown kind \"{unknown}\"")));
                        }
                    }
                    out.push(Field {
                        name: field_name.clone(),
                        path,
                        kinds: f.kinds.clone(),
                        exclude: f.exclude.clone(),
                        autoscaled: f.autoscaled,
                    });
                }
                Ok(out)
            };
            let mut traits = Vec::new();
            for (trait_name, fields) in &raw_role.traits.0 {
                let at = format!("roles.{name}.traits.{trait_name}");
                if IDENTITY_KEYS.contains(&trait_name.as_str())
                    || [READ_ONLY_KEY, STATUS_KEY].contains(&trait_name.as_str())
                {
                    return Err(bad(format!("{at}: \"{trait_name}\" is reserved for the document")));
                }
                let fields = parse_fields(&at, fields)?;
                let per_container = fields.iter().filter(|f| f.path.root == Root::Container).count();
                if per_container != 0 && per_container != fields.len() {
                    return Err(bad(format!(
                        "{at}: mixes container.* fields with others; put them in separate traits"
                    )));
                }
                if trait_name == CONTAINERS_KEY && per_container == 0 {
                    return Err(bad(format!(
                        "{at}: the trait \"containers\" may only hold container.* fields"
                    )));
                }
                traits.push(Trait { name: trait_name.clone(), fields });
            }
            let read_only = parse_fields(&format!("roles.{name}.readOnly"), &raw_role.read_only)?;
            roles.push(Role {
                name,
                manager: raw_role.manager.clone(),
                description: raw_role.description.clone(),
                traits,
                read_only,
            });
        }
        if let Some(extra) = raw.roles.keys().find(|r| !RoleName::ALL.iter().any(|n| n.as_str() == *r)) {
            return Err(bad(format!("roles.{extra}: only the roles dev and ops exist")));
        }
        if let Some(r) = roles.iter().find(|r| r.manager.trim().is_empty()) {
            return Err(bad(format!("roles.{}.manager is empty", r.name)));
        }
        if roles[0].manager == roles[1].manager {
            return Err(bad(format!(
                "roles dev and ops share the manager \"{}\"; each role needs its own, or one role's writes drop the other's fields",
                roles[0].manager
            )));
        }
        for t in &roles[0].traits {
            if roles[1].traits.iter().any(|o| o.name == t.name) {
                return Err(bad(format!(
                    "trait \"{}\" is in both roles; a document key must name one role",
                    t.name
                )));
            }
        }
        for (i, k) in kinds.iter().enumerate() {
            let spellings = std::iter::once(k.kind.to_lowercase())
                .chain(std::iter::once(k.resource.clone()))
                .chain(k.names.iter().cloned());
            for name in spellings {
                if let Some(other) = kinds.iter().skip(i + 1).find(|o| o.matches(&name)) {
                    return Err(bad(format!(
                        "kinds {} and {} are both called \"{name}\"",
                        k.kind, other.kind
                    )));
                }
            }
        }
        let profile = Profile { kinds, roles, source: source.to_string(), text: text.to_string() };
        profile.check_overlaps().map_err(bad)?;
        Ok(profile)
    }

    /// A field may belong to one role only, and must not contain another role's field.
    fn check_overlaps(&self) -> std::result::Result<(), String> {
        for kind in &self.kinds {
            let mut seen: Vec<(Vec<String>, String)> = Vec::new();
            for role in &self.roles {
                for t in &role.traits {
                    for f in t.fields.iter().filter(|f| f.applies_to(&kind.kind)) {
                        let path = f.path.in_object(kind);
                        let label = format!("{}.{}.{}", role.name, t.name, f.name);
                        if let Some((_, other)) =
                            seen.iter().find(|(p, _)| p.starts_with(&path) || path.starts_with(p))
                        {
                            return Err(format!("{label} overlaps {other} for {}", kind.kind));
                        }
                        seen.push((path, label));
                    }
                }
            }
        }
        Ok(())
    }
}

/// serde_yaml's message already carries "at line L column C".
pub fn yaml_error(err: &serde_yaml::Error) -> String {
    err.to_string()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawProfile {
    #[allow(dead_code)]
    api_version: String,
    kind: String,
    kinds: IndexedMap<RawKind>,
    roles: BTreeMap<String, RawRole>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawKind {
    api_version: String,
    resource: String,
    #[serde(default)]
    names: Vec<String>,
    template: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawRole {
    manager: String,
    #[serde(default)]
    description: String,
    traits: BTreeMapOrdered<BTreeMapOrdered<RawField>>,
    #[serde(default)]
    read_only: BTreeMapOrdered<RawField>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawField {
    path: String,
    kinds: Option<Vec<String>>,
    #[serde(default)]
    exclude: Vec<String>,
    #[serde(default)]
    autoscaled: bool,
}

/// A YAML mapping read in document order (the order fields are shown in).
struct BTreeMapOrdered<T>(Vec<(String, T)>);

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
                while let Some((k, v)) = map.next_entry::<String, T>()? {
                    if out.iter().any(|(seen, _): &(String, T)| *seen == k) {
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

type IndexedMap<T> = BTreeMapOrdered<T>;

impl<T> IntoIterator for BTreeMapOrdered<T> {
    type Item = (String, T);
    type IntoIter = std::vec::IntoIter<(String, T)>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl<T> BTreeMapOrdered<T> {
    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_profile_parses_with_both_roles() {
        let p = Profile::builtin();
        assert_eq!(p.role(RoleName::Dev).manager, "kubectl-oam-dev");
        assert_eq!(p.role(RoleName::Ops).manager, "kubectl-oam-ops");
        let dev: Vec<&str> = p.role(RoleName::Dev).container_fields().map(|f| f.name.as_str()).collect();
        assert_eq!(dev, ["image", "command", "args", "env", "envFrom", "ports", "resources"]);
    }

    #[test]
    fn kinds_resolve_from_every_spelling() {
        let p = Profile::builtin();
        for (name, kind) in [
            ("deploy", "Deployment"),
            ("deployments", "Deployment"),
            ("Deployment", "Deployment"),
            ("deployment.apps", "Deployment"),
            ("sts", "StatefulSet"),
            ("ds", "DaemonSet"),
            ("rs", "ReplicaSet"),
            ("job", "Job"),
            ("jobs", "Job"),
            ("cj", "CronJob"),
            ("cronjobs.batch", "CronJob"),
        ] {
            assert_eq!(p.kind(name).unwrap().kind, kind, "{name}");
        }
        assert!(matches!(p.kind("pods"), Err(Error::UnknownKind(_))));
    }

    #[test]
    fn paths_resolve_per_kind() {
        let p = Profile::builtin();
        let cj = p.kind("cj").unwrap();
        let deploy = p.kind("deploy").unwrap();
        let image = p.role(RoleName::Dev).container_fields().next().unwrap();
        assert_eq!(
            image.path.in_object(cj).join("."),
            "spec.jobTemplate.spec.template.spec.containers.image"
        );
        let ops = p.role(RoleName::Ops);
        let traits: Vec<&str> = ops.object_traits("CronJob").map(|(t, _)| t).collect();
        assert_eq!(traits, ["placement", "metadata", "schedule"], "a trait a kind lacks is absent");
        let traits: Vec<&str> = ops.object_traits("Deployment").map(|(t, _)| t).collect();
        assert_eq!(traits, ["scaler", "rollout", "placement", "metadata"]);
        let pod = ops.object_traits("Deployment").find(|(t, _)| *t == "metadata").unwrap().1[2];
        assert_eq!(pod.path.in_object(deploy).join("."), "spec.template.metadata.annotations");
    }

    #[test]
    fn document_keys_belong_to_one_role() {
        let p = Profile::builtin();
        assert_eq!(p.role_of_key("containers"), Some(RoleName::Dev));
        assert_eq!(p.role_of_key("scaler"), Some(RoleName::Ops));
        assert_eq!(p.role_of_key("placement"), Some(RoleName::Ops));
        assert_eq!(p.role_of_key("bogus"), None);
    }

    #[test]
    fn malformed_profiles_name_the_problem() {
        let cases = [
            ("kind: RoleProfile\napiVersion: x\nkinds: {}\nroles: {}\n", "at least one workload kind"),
            ("kind: Other\napiVersion: x\nkinds: {}\nroles: {}\n", "expected RoleProfile"),
            (
                "kind: RoleProfile\napiVersion: x\nkinds:\n  Deployment: {apiVersion: apps/v1, resource: deployments, template: spec.template, bogus: 1}\nroles: {}\n",
                "unknown field `bogus`",
            ),
            ("kind: RoleProfile\napiVersion: x\nkinds: [\n", "line"),
        ];
        for (text, expect) in cases {
            let err = Profile::parse(text, "test.yaml").unwrap_err().to_string();
            assert!(err.contains(expect), "{err} should mention {expect}");
            assert!(err.starts_with("role profile test.yaml"), "{err}");
        }
    }

    #[test]
    fn ambiguous_profiles_are_rejected() {
        let cases = [
            (BUILTIN_PROFILE.replace("manager: kubectl-oam-ops", "manager: kubectl-oam-dev"), "share the manager"),
            (BUILTIN_PROFILE.replace("manager: kubectl-oam-ops", "manager: ''"), "roles.ops.manager is empty"),
            (BUILTIN_PROFILE.replace("      scaler:", "      containers2:\n        x: {path: container.workingDir}\n      scaler:").replace("    traits:\n      containers:", "    traits:\n      containers2:\n        y: {path: container.stdin}\n      containers:"), "in both roles"),
            (BUILTIN_PROFILE.replace("names: [sts, statefulset]", "names: [deploy, statefulset]"), "both called \"deploy\""),
        ];
        for (text, expect) in cases {
            let err = Profile::parse(&text, "x").unwrap_err().to_string();
            assert!(err.contains(expect), "{err} should mention {expect}");
        }
    }

    #[test]
    fn overlapping_roles_are_rejected() {
        let text = BUILTIN_PROFILE.replace(
            "podAnnotations: {path: template.metadata.annotations}",
            "podAnnotations: {path: spec.template.spec.containers}",
        );
        let err = Profile::parse(&text, "x").unwrap_err().to_string();
        assert!(err.contains("overlaps"), "{err}");
    }

    #[test]
    fn missing_role_and_unknown_kind_reference() {
        let text = BUILTIN_PROFILE.replace("kinds: [CronJob]}", "kinds: [Cronjob]}");
        let err = Profile::parse(&text, "x").unwrap_err().to_string();
        assert!(err.contains("unknown kind \"Cronjob\""), "{err}");
        let idx = BUILTIN_PROFILE.find("  ops:").unwrap();
        let err = Profile::parse(&BUILTIN_PROFILE[..idx], "x").unwrap_err().to_string();
        assert!(err.contains("roles.ops is missing"), "{err}");
    }
}
