//! The role model as data: which workload kinds exist, and which fields each role owns.
//!
//! Views, writes, owners and completion all read a [`Profile`]; no other module knows which field
//! belongs to which role. The built-in profile is `src/model/profile.yaml`.

use std::fmt;

use crate::error::{Error, Result};
use crate::format::yaml::{self, MAX_PROFILE_BYTES};
use crate::model::schema::{ITEM, KindSchema, Shape, nearest};

pub const BUILTIN_PROFILE: &str = include_str!("profile.yaml");

/// Top-level keys of a role document that are not traits.
pub const IDENTITY_KEYS: [&str; 3] = ["kind", "name", "namespace"];
pub const READ_ONLY_KEY: &str = "readOnly";
/// Live status that views add to documents; like readOnly, never written.
pub const STATUS_KEY: &str = "status";
/// Keys of a role document that are context, never fields: read-only values, the base the document
/// was read from, live status.
pub const CONTEXT_KEYS: [&str; 3] = [READ_ONLY_KEY, "base", STATUS_KEY];
/// Container-rooted fields of a role are shown under this key, keyed by container name.
pub const CONTAINERS_KEY: &str = "containers";
/// The HPA's settings, in the document of the role that holds the field it scales.
pub const AUTOSCALER_KEY: &str = "autoscaler";
/// Init containers (native sidecars among them) get the same fields under this key.
pub const INIT_CONTAINERS_KEY: &str = "initContainers";
/// The pod spec's container lists; each is also the document key its containers are shown under.
pub const CONTAINER_LISTS: [&str; 2] = [CONTAINERS_KEY, INIT_CONTAINERS_KEY];

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

    /// The user group a profile without `group:` gives the role (admission policy, RBAC).
    pub fn default_group(self) -> &'static str {
        match self {
            RoleName::Dev => "oam:developers",
            RoleName::Ops => "oam:operators",
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
    /// Each entry of a StatefulSet's spec.volumeClaimTemplates, keyed by its metadata.name. Read-only:
    /// the API refuses changes to the templates after creation.
    ClaimTemplate,
}

/// Where the claim templates of a StatefulSet are, from the object root.
pub const CLAIM_TEMPLATES_PATH: [&str; 2] = ["spec", "volumeClaimTemplates"];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldPath {
    pub root: Root,
    pub segments: Vec<String>,
}

impl FieldPath {
    pub fn parse(text: &str) -> std::result::Result<FieldPath, String> {
        let mut parts: Vec<String> = text.split('.').map(str::to_string).collect();
        if parts.iter().any(String::is_empty) {
            return Err(format!("path \"{text}\" has an empty segment"));
        }
        let root = match parts[0].as_str() {
            "container" => Root::Container,
            "pod" => Root::Pod,
            "template" => Root::Template,
            "claimTemplate" => Root::ClaimTemplate,
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
            // Not a single place: each template's field (see `claim_template_values`).
            Root::ClaimTemplate => CLAIM_TEMPLATES_PATH.map(str::to_string).to_vec(),
        };
        if self.root == Root::Container {
            path.push("containers".into());
        }
        path.extend(self.segments.iter().cloned());
        path
    }
}

impl FieldPath {
    /// May a role own this field? Only what describes the workload: the spec (the pod template
    /// included) and the labels and annotations. Identity, ownership, lifecycle and status are the
    /// server's and the controllers'; a role owning `metadata.ownerReferences` could hand the object
    /// to the garbage collector. The error says what the path is.
    pub(crate) fn check_ownable(&self) -> std::result::Result<(), String> {
        let refuse = |what: &str| {
            Err(format!(
                "\"{self}\" is {what}, which no role may own; roles own fields under spec (container., pod., template.spec), metadata.labels and metadata.annotations"
            ))
        };
        let segments: Vec<&str> = self.segments.iter().map(String::as_str).collect();
        // Below the root, a `metadata` (of the pod template, of a CronJob's job template) may only
        // be entered for its labels and annotations.
        let nested_metadata_ok = |from: usize| {
            segments.iter().enumerate().skip(from).all(|(i, s)| {
                *s != "metadata" || matches!(segments.get(i + 1), Some(&"labels" | &"annotations"))
            })
        };
        match self.root {
            Root::Container if segments[0] == "name" => {
                refuse("the container's name (its identity: containers are merged by name)")
            }
            Root::Container | Root::Pod => Ok(()),
            Root::ClaimTemplate => refuse(
                "in a StatefulSet's volumeClaimTemplates, which the API refuses to change after creation (show it under readOnly)",
            ),
            Root::Template | Root::Object => {
                let top = segments[0];
                match top {
                    "spec" if nested_metadata_ok(1) => Ok(()),
                    "spec" => refuse("identity or bookkeeping of an embedded object's metadata"),
                    "metadata" => match segments.get(1).copied() {
                        Some("labels" | "annotations") => Ok(()),
                        None => refuse("the whole metadata (name, uid, owners and more)"),
                        Some("name" | "namespace" | "uid" | "generateName" | "selfLink") => {
                            refuse("the object's identity")
                        }
                        Some("ownerReferences" | "managedFields") => refuse("ownership"),
                        Some(
                            "finalizers"
                            | "deletionTimestamp"
                            | "deletionGracePeriodSeconds"
                            | "creationTimestamp"
                            | "generation"
                            | "resourceVersion",
                        ) => refuse("lifecycle bookkeeping"),
                        Some(_) => refuse("metadata other than labels and annotations"),
                    },
                    "status" => refuse("status (written by controllers)"),
                    "kind" | "apiVersion" => refuse("the object's type"),
                    _ => refuse("not part of the spec"),
                }
            }
        }
    }
}

impl fmt::Display for FieldPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let root = match self.root {
            Root::Container => "container.",
            Root::Pod => "pod.",
            Root::Template => "template.",
            Root::Object => "",
            Root::ClaimTemplate => "claimTemplate.",
        };
        write!(f, "{root}{}", self.segments.join("."))
    }
}

/// The check of a profile path against a kind's schema lives with the paths it checks.
impl KindSchema {
    /// Checks a profile path of `kind`; the error names the missing step and the nearest valid name.
    pub fn check(&self, kind: &KindInfo, path: &FieldPath) -> Result<(), String> {
        let (mut at, start): (Vec<String>, &str) = match path.root {
            Root::Object => (Vec::new(), ""),
            Root::Template => (kind.template.clone(), "the pod template"),
            Root::Pod => (kind.pod_spec_path(), "the pod spec"),
            Root::Container => {
                let mut p = kind.containers_path();
                p.push(ITEM.into());
                (p, "a container")
            }
            Root::ClaimTemplate => {
                let mut p: Vec<String> = CLAIM_TEMPLATES_PATH.map(str::to_string).to_vec();
                p.push(ITEM.into());
                (p, "a claim template")
            }
        };
        let what = format!("{} ({})", kind.kind, kind.api_version);
        let start_len = at.len();
        at.extend(path.segments.iter().cloned());
        let nodes = self.walk(&at);
        let Some(Some(_)) = nodes.get(start_len) else {
            return Err(format!(
                "{what} has no {} at {}: check kinds.{}.template",
                if start.is_empty() { "field" } else { start },
                at[..start_len].join("."),
                kind.kind
            ));
        };
        for (i, segment) in path.segments.iter().enumerate() {
            let Some(Some(node)) = nodes.get(start_len + i) else { break };
            let place = if i == 0 {
                if start.is_empty() { what.clone() } else { format!("{start} of {what}") }
            } else {
                let root = path.to_string();
                let root = &root[..root.len() - path.segments.join(".").len()];
                format!("{root}{} of {what}", path.segments[..i].join("."))
            };
            match &node.shape {
                Shape::Any => return Ok(()),
                Shape::Map => {}
                Shape::Struct(fields) if fields.iter().any(|f| f == segment) => {}
                Shape::Struct(fields) => {
                    return Err(match nearest(segment, fields) {
                        Some(near) => format!(
                            "\"{path}\" does not exist: {place} has no field \"{segment}\"; did you mean \"{near}\"?"
                        ),
                        None => format!("\"{path}\" does not exist: {place} has no field \"{segment}\""),
                    });
                }
                Shape::List => {
                    return Err(format!(
                        "\"{path}\" does not exist: {place} is a list; a path cannot go into its items"
                    ));
                }
                Shape::Scalar => {
                    return Err(format!("\"{path}\" does not exist: {place} is a value with no fields"));
                }
            }
        }
        match nodes.last() {
            Some(Some(_)) => Ok(()),
            _ => Err(format!("\"{path}\" does not exist in {what}")),
        }
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
    /// Why a read-only field cannot be changed (shown where someone tries).
    pub reason: Option<String>,
    /// Of a read-only field: only these keys of the map at its path (patterns, see [`key_matches`])
    /// are shown, and they are no role's, even inside a role's field (security settings).
    pub keys: Vec<String>,
    /// Of a keyed list: only the items that have (`where:`) or lack (`unless:`) a field; the other
    /// items may be another role's field of the same path (pod volumes: claims or not).
    pub items: Option<ItemFilter>,
}

/// Which items of a keyed list a field is: those that have a field (`where: {has: F}`), or those
/// that lack it (`unless: {has: F}`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemFilter {
    pub has: String,
    /// true: items with the field; false: items without it.
    pub present: bool,
}

impl ItemFilter {
    pub fn keeps(&self, item: &serde_json::Value) -> bool {
        item.get(&self.has).is_some_and(|v| !v.is_null()) == self.present
    }

    /// Does it take exactly the items `other` leaves?
    pub fn complements(&self, other: &ItemFilter) -> bool {
        self.has == other.has && self.present != other.present
    }

    /// As the profile writes it: `where: {has: F}` / `unless: {has: F}`.
    pub fn describe(&self) -> String {
        let word = if self.present { "where" } else { "unless" };
        format!("{word}: {{has: {}}}", self.has)
    }
}

impl Field {
    pub fn applies_to(&self, kind: &str) -> bool {
        self.kinds.as_ref().is_none_or(|k| k.iter().any(|k| k == kind))
    }

    /// Does this read-only field reserve `key` of its map (`keys:`)?
    pub fn reserves(&self, key: &str) -> bool {
        self.keys.iter().any(|pattern| key_matches(pattern, key))
    }

    /// Is `item` (of the list at its path) part of this field? Every item is, without `where:` or
    /// `unless:`.
    pub fn keeps_item(&self, item: &serde_json::Value) -> bool {
        self.items.as_ref().is_none_or(|f| f.keeps(item))
    }

    /// `value` with only the items this field keeps (all of it without `where:`/`unless:`).
    pub fn own_items(&self, value: &serde_json::Value) -> serde_json::Value {
        match (value, &self.items) {
            (serde_json::Value::Array(items), Some(filter)) => {
                serde_json::Value::Array(items.iter().filter(|i| filter.keeps(i)).cloned().collect())
            }
            _ => value.clone(),
        }
    }
}

/// A map key pattern of the profile: the key itself, or with a trailing `*` every key that starts
/// with the text before it (`container.apparmor.security.beta.kubernetes.io/*`).
pub fn key_matches(pattern: &str, key: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => key.starts_with(prefix),
        None => key == pattern,
    }
}

/// The keys of a role's map field that are not the role's to show or write: those tools and
/// controllers write (`exclude:`) and those read-only fields reserve (`keys:`).
#[derive(Debug, Clone, Default)]
pub struct OtherKeys<'a> {
    pub exclude: &'a [String],
    pub reserved: Vec<&'a Field>,
}

impl OtherKeys<'_> {
    pub fn contains(&self, key: &str) -> bool {
        self.exclude.iter().any(|k| k == key) || self.reserved.iter().any(|f| f.reserves(key))
    }

    pub fn is_empty(&self) -> bool {
        self.exclude.is_empty() && self.reserved.is_empty()
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
    /// Users in this group hold the role (`kubectl oam policy` enforces it).
    pub group: String,
    pub description: String,
    pub traits: Vec<Trait>,
    pub read_only: Vec<Field>,
    /// Traits of objects around the workload (`related:` roots), each a section keyed by object name.
    pub related: Vec<RelatedTrait>,
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

    /// The read-only field `name` of `kind`, if the role shows one.
    pub fn read_only_field(&self, kind: &str, name: &str) -> Option<&Field> {
        self.read_only.iter().find(|f| f.name == name && f.applies_to(kind))
    }

    /// Is `key` a top-level key of this role's documents?
    pub fn has_document_key(&self, key: &str) -> bool {
        (CONTAINER_LISTS.contains(&key) && self.container_fields().next().is_some())
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
    /// The schema of a custom kind, from the server (built-in kinds use k8s-openapi's types and
    /// the known list keys): its list semantics and atomic maps.
    pub schema: Option<std::sync::Arc<KindSchema>>,
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
        self.container_list_path(CONTAINERS_KEY)
    }

    /// `list`: one of [`CONTAINER_LISTS`].
    pub fn container_list_path(&self, list: &str) -> Vec<String> {
        let mut path = self.pod_spec_path();
        path.push(list.into());
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
    /// Objects around the workload that roles have fields of (`related:`).
    pub related: Vec<RelatedKind>,
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

    /// The role (and its trait) that owns a top-level document key, if any. The autoscaler section
    /// belongs to the role that holds the field an autoscaler scales.
    pub fn role_of_key(&self, key: &str) -> Option<RoleName> {
        if key == AUTOSCALER_KEY {
            return self
                .roles
                .iter()
                .find(|r| r.traits.iter().flat_map(|t| &t.fields).any(|f| f.autoscaled))
                .map(|r| r.name);
        }
        if let Some(role) = self.roles.iter().find(|r| r.related.iter().any(|t| t.name == key)) {
            return Some(role.name);
        }
        self.roles.iter().find(|r| r.has_document_key(key)).map(|r| r.name)
    }

    /// The read-only fields of `kind` that reserve keys (`keys:`), with the path of their map from the
    /// object root: those keys are no role's, wherever they are.
    pub fn reserved_maps(&self, kind: &KindInfo) -> Vec<(&Field, Vec<String>)> {
        self.roles
            .iter()
            .flat_map(|r| &r.read_only)
            .filter(|f| !f.keys.is_empty() && f.applies_to(&kind.kind))
            .map(|f| (f, f.path.in_object(kind)))
            .collect()
    }

    /// The read-only field that reserves `key` of the map at `path` (from the object root), if any.
    pub fn reserved_by(&self, kind: &KindInfo, path: &[String], key: &str) -> Option<&Field> {
        self.reserved_maps(kind).into_iter().find(|(f, at)| at == path && f.reserves(key)).map(|(f, _)| f)
    }

    /// The keys of `field` (a role's field of `kind`) that are not the role's.
    pub fn other_keys<'a>(&'a self, kind: &KindInfo, field: &'a Field) -> OtherKeys<'a> {
        let path = field.path.in_object(kind);
        let reserved =
            self.reserved_maps(kind).into_iter().filter(|(_, at)| *at == path).map(|(f, _)| f).collect();
        OtherKeys { exclude: &field.exclude, reserved }
    }

    /// Parses and checks a profile; errors name the source and the line/column or key.
    pub fn parse(text: &str, source: &str) -> Result<Profile> {
        let bad = |msg: String| Error::Invalid(format!("role profile {source}: {msg}"));
        if text.len() > MAX_PROFILE_BYTES {
            return Err(bad(format!(
                "{} bytes, more than the {} MiB a profile may have",
                text.len(),
                MAX_PROFILE_BYTES / (1024 * 1024)
            )));
        }
        let raw: RawProfile = yaml::parse_one(text, &yaml::PROFILE_LIMITS)
            .and_then(|document| yaml::deserialize(&document))
            .map_err(|e| bad(e.to_string()))?;
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
                schema: None,
            });
        }
        let mut related_kinds = Vec::new();
        for (root, r) in raw.related {
            if related_kinds.iter().any(|k: &RelatedKind| k.root == root) {
                return Err(bad(format!("related.{root}: named twice")));
            }
            related_kinds.push(RelatedKind::parse(&root, r).map_err(bad)?);
        }
        // Related paths are checked against their kinds' schemas when a profile loads (the built-in
        // profile by a test).
        let check_related = text != BUILTIN_PROFILE;
        let known_kind = |kind: &str| kinds.iter().any(|k| k.kind == kind);
        // Every role first: a missing one is the news, not a field of another role.
        if let Some(name) = RoleName::ALL.iter().find(|n| !raw.roles.contains_key(n.as_str())) {
            return Err(bad(format!("roles.{name} is missing")));
        }
        let mut roles = Vec::new();
        for name in RoleName::ALL {
            let raw_role =
                raw.roles.get(name.as_str()).ok_or_else(|| bad(format!("roles.{name} is missing")))?;
            // `owned`: a trait's fields, which the role writes (readOnly fields are only shown).
            let parse_fields = |at: &str,
                                fields: &BTreeMapOrdered<RawField>,
                                owned: bool|
             -> Result<Vec<Field>> {
                let mut out = Vec::new();
                for (field_name, f) in &fields.0 {
                    let key = format!("{at}.{field_name}");
                    let path = FieldPath::parse(&f.path).map_err(|m| bad(format!("{key}.path: {m}")))?;
                    if owned {
                        path.check_ownable().map_err(|m| bad(format!("{key}.path: {m}")))?;
                    }
                    if let Some(kinds) = &f.kinds {
                        if let Some(unknown) = kinds.iter().find(|k| !known_kind(k)) {
                            return Err(bad(format!("{key}.kinds: unknown kind \"{unknown}\"")));
                        }
                    }
                    if owned && f.reason.is_some() {
                        return Err(bad(format!(
                            "{key}.reason: only readOnly fields have a reason (why they cannot be changed)"
                        )));
                    }
                    if owned && !f.keys.is_empty() {
                        return Err(bad(format!(
                            "{key}.keys: only readOnly fields reserve keys (no role may change them)"
                        )));
                    }
                    let not_a_pattern = |k: &&String| {
                        let text = k.strip_suffix('*').unwrap_or(k);
                        text.trim().is_empty() || text.contains('*')
                    };
                    if !f.keys.is_empty() && path.root == Root::Container {
                        return Err(bad(format!(
                            "{key}.keys: reserves keys of a map of the object or its pod template, not of a container"
                        )));
                    }
                    let items = match (&f.where_, &f.unless) {
                        (Some(_), Some(_)) => {
                            return Err(bad(format!(
                                "{key}: has both where: and unless:; a field is the items that have a field, or those that lack it"
                            )));
                        }
                        (Some(w), None) => Some(ItemFilter { has: w.has.clone(), present: true }),
                        (None, Some(u)) => Some(ItemFilter { has: u.has.clone(), present: false }),
                        (None, None) => None,
                    };
                    if let Some(filter) = &items {
                        if path.root == Root::Container || !owned {
                            return Err(bad(format!(
                                "{key}.{}: only a role's field of a list outside the containers may take some of its items",
                                if filter.present { "where" } else { "unless" }
                            )));
                        }
                        if filter.has.trim().is_empty() || filter.has.contains('.') {
                            return Err(bad(format!(
                                "{key}: `has:` names one field of the list's items, e.g. persistentVolumeClaim"
                            )));
                        }
                    }
                    if let Some(bad_key) = f.keys.iter().find(not_a_pattern) {
                        return Err(bad(format!(
                            "{key}.keys: \"{bad_key}\" is not a key pattern: a map key, or its start followed by one `*`"
                        )));
                    }
                    out.push(Field {
                        name: field_name.clone(),
                        path,
                        kinds: f.kinds.clone(),
                        exclude: f.exclude.clone(),
                        autoscaled: f.autoscaled,
                        reason: f.reason.clone(),
                        keys: f.keys.clone(),
                        items,
                    });
                }
                Ok(out)
            };
            let mut traits = Vec::new();
            let mut related_traits = Vec::new();
            for (trait_name, fields) in &raw_role.traits.0 {
                let at = format!("roles.{name}.traits.{trait_name}");
                if IDENTITY_KEYS.contains(&trait_name.as_str())
                    || CONTEXT_KEYS.contains(&trait_name.as_str())
                    || trait_name == INIT_CONTAINERS_KEY
                    || trait_name == AUTOSCALER_KEY
                {
                    return Err(bad(format!("{at}: \"{trait_name}\" is reserved for the document")));
                }
                // Fields of objects around the workload (`related:` roots): a section of their own.
                let plain: Vec<(String, String, Vec<String>, bool)> = (fields.0.iter())
                    .map(|(n, f)| {
                        let workload_only =
                            f.kinds.is_some() || f.autoscaled || f.reason.is_some() || !f.keys.is_empty();
                        (n.clone(), f.path.clone(), f.exclude.clone(), workload_only)
                    })
                    .collect();
                if let Some(t) = RelatedTrait::parse(&related_kinds, &at, trait_name, &plain, check_related)
                    .map_err(bad)?
                {
                    related_traits.push(t);
                    continue;
                }
                let fields = parse_fields(&at, fields, true)?;
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
            let read_only = parse_fields(&format!("roles.{name}.readOnly"), &raw_role.read_only, false)?;
            roles.push(Role {
                name,
                manager: raw_role.manager.clone(),
                group: raw_role.group.clone().unwrap_or_else(|| name.default_group().to_string()),
                description: raw_role.description.clone(),
                traits,
                read_only,
                related: related_traits,
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
        if let Some(r) = roles.iter().find(|r| r.group.trim().is_empty()) {
            return Err(bad(format!("roles.{}.group is empty", r.name)));
        }
        if roles[0].group == roles[1].group {
            return Err(bad(format!(
                "roles dev and ops share the group \"{}\"; each role needs its own, or its members hold both roles",
                roles[0].group
            )));
        }
        let names = |r: &Role| -> Vec<String> {
            r.traits.iter().map(|t| t.name.clone()).chain(r.related.iter().map(|t| t.name.clone())).collect()
        };
        let other_names = names(&roles[1]);
        for t in names(&roles[0]) {
            if other_names.contains(&t) {
                return Err(bad(format!(
                    "trait \"{t}\" is in both roles; a document key must name one role"
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
        let related_traits: Vec<(String, &RelatedTrait)> =
            roles.iter().flat_map(|r| r.related.iter().map(|t| (r.name.to_string(), t))).collect();
        RelatedTrait::check_overlaps(&related_traits).map_err(bad)?;
        let profile = Profile {
            kinds,
            roles,
            related: related_kinds,
            source: source.to_string(),
            text: text.to_string(),
        };
        profile.check_overlaps().map_err(bad)?;
        // Every path must exist in its kind's schema; the built-in kinds' schemas need no cluster
        // (custom kinds are checked against the server's when the profile is loaded). The built-in
        // profile is checked by a test instead of on every run.
        if text != BUILTIN_PROFILE {
            for kind in &profile.kinds {
                if let Some(schema) = KindSchema::builtin(&kind.api_version, &kind.kind) {
                    profile.check_paths(kind, &schema).map_err(bad)?;
                }
            }
        }
        Ok(profile)
    }

    /// Checks every path of the profile that applies to `kind` against its schema; the error names
    /// the profile key.
    pub fn check_paths(&self, kind: &KindInfo, schema: &KindSchema) -> std::result::Result<(), String> {
        for role in &self.roles {
            let traits = role
                .traits
                .iter()
                .flat_map(|t| t.fields.iter().map(move |f| (format!("traits.{}", t.name), f)));
            let read_only = role.read_only.iter().map(|f| ("readOnly".to_string(), f));
            for (at, field) in traits.chain(read_only).filter(|(_, f)| f.applies_to(&kind.kind)) {
                schema
                    .check(kind, &field.path)
                    .map_err(|m| format!("roles.{}.{at}.{}.path: {m}", role.name, field.name))?;
                if let Some(filter) = &field.items {
                    split::check_keyed(kind, schema, field, filter)
                        .map_err(|m| format!("roles.{}.{at}.{}: {m}", role.name, field.name))?;
                }
            }
        }
        Ok(())
    }

    /// A field may belong to one role only, and must not contain another role's field. Sorted, a
    /// path comes right before the paths it contains, so comparing neighbours finds every overlap
    /// (a pairwise check took seconds for a large profile, on every command). Two fields of one
    /// list may split its items (`where:` and `unless:` the same field).
    fn check_overlaps(&self) -> std::result::Result<(), String> {
        for kind in &self.kinds {
            let mut paths: Vec<(Vec<String>, usize, String, Option<&ItemFilter>)> = Vec::new();
            for role in &self.roles {
                for t in &role.traits {
                    for f in t.fields.iter().filter(|f| f.applies_to(&kind.kind)) {
                        let label = format!("{}.{}.{}", role.name, t.name, f.name);
                        paths.push((f.path.in_object(kind), paths.len(), label, f.items.as_ref()));
                    }
                }
            }
            paths.sort_by(|a, b| (&a.0, a.1).cmp(&(&b.0, b.1)));
            let split = |w: &[(Vec<String>, usize, String, Option<&ItemFilter>)]| {
                w[0].0 == w[1].0 && matches!((w[0].3, w[1].3), (Some(a), Some(b)) if a.complements(b))
            };
            let mut pairs = paths.windows(2);
            if let Some(pair) = pairs.find(|w| w[1].0.starts_with(&w[0].0) && !split(w)) {
                let (earlier, later) =
                    if pair[0].1 < pair[1].1 { (&pair[0], &pair[1]) } else { (&pair[1], &pair[0]) };
                return Err(format!("{} overlaps {} for {}", later.2, earlier.2, kind.kind));
            }
        }
        Ok(())
    }
}

// ------------------------------------------------------------------------------------------------
// Objects around the workload (`related:`): the types; reading and checking them is `model::related`.

/// How the objects of a related kind are found from the workload (never from ownerReferences).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Find {
    /// Its selector selects the pod template's labels (Service: `spec.selector`; PodDisruptionBudget:
    /// `spec.selector` as a label selector).
    SelectsPods,
    /// Its backends name a Service found by `SelectsPods` (Ingress, HTTPRoute).
    RoutesToServices,
    /// A volume of the pod template claims it (`persistentVolumeClaim.claimName`).
    MountedByPods,
}

/// One entry of `related:`: a root name of field paths and the kind it stands for.
#[derive(Debug, Clone)]
pub struct RelatedKind {
    /// The root in field paths (`service`).
    pub root: String,
    pub info: KindInfo,
    pub find: Find,
    /// A kind whose API may be absent (a CRD, like Gateway API's HTTPRoute): a list that answers
    /// 404 means "not installed", not an error.
    pub optional: bool,
}

/// A role field of a related object: `root.segments` (from the object root).
#[derive(Debug, Clone)]
pub struct RelatedField {
    /// The key in the object's entry of the section.
    pub name: String,
    pub root: String,
    pub segments: Vec<String>,
    /// Map keys never shown or written (set by tools and controllers).
    pub exclude: Vec<String>,
}

/// A trait of related fields: the document section `name:`, keyed by object name.
#[derive(Debug, Clone)]
pub struct RelatedTrait {
    pub name: String,
    pub fields: Vec<RelatedField>,
}

/// Names a field the server reports (`.spec.template.spec.containers[name="app"].image`) the way role
/// documents do (`containers.app.image`); None for fields outside every role.
pub fn document_label(profile: &Profile, kind: &KindInfo, server_field: &str) -> Option<String> {
    let segments = split_server_path(server_field);
    let parent = kind.pod_spec_path();
    for list in CONTAINER_LISTS {
        if segments.len() > parent.len() + 1 && segments[..parent.len()] == *parent {
            if let Some(name) = segments[parent.len()]
                .strip_prefix(&format!("{list}[name=\""))
                .and_then(|rest| rest.strip_suffix("\"]"))
            {
                return Some(format!("{list}.{name}.{}", segments[parent.len() + 1..].join(".")));
            }
        }
    }
    for role in &profile.roles {
        for (trait_name, fields) in role.object_traits(&kind.kind) {
            // A list two roles split: which role an item is depends on the item, not the path.
            for field in fields.into_iter().filter(|f| f.items.is_none()) {
                let path = field.path.in_object(kind);
                if segments.starts_with(&path) {
                    let rest: Vec<&str> = segments[path.len()..].iter().map(String::as_str).collect();
                    let tail = if rest.is_empty() { String::new() } else { format!(".{}", rest.join(".")) };
                    return Some(format!("{trait_name}.{}{tail}", field.name));
                }
            }
        }
    }
    None
}

/// Splits `.a.b[name="x.y"].c` on dots outside brackets.
fn split_server_path(path: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut depth = 0;
    for ch in path.trim_start_matches('.').chars() {
        match ch {
            '[' => depth += 1,
            ']' => depth -= 1,
            '.' if depth == 0 => {
                out.push(std::mem::take(&mut current));
                continue;
            }
            _ => {}
        }
        current.push(ch);
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

pub(crate) mod raw;
pub mod split;
use raw::{BTreeMapOrdered, RawField, RawProfile};

#[cfg(test)]
mod tests;
