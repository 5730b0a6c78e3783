//! The role split enforced by the API server: what `kubectl oam policy` generates.
//!
//! Kubernetes has no field-level RBAC (authorization never sees the request body), so the split is
//! enforced in admission, by a ValidatingAdmissionPolicy (CEL run by the API server itself) that is
//! generated from the role profile. For a member of a role's group, an UPDATE of a workload may
//! change only fields of the member's roles. Old and new objects are compared level by level along
//! the profile's paths: at each level every key that is not on a role's path must be equal, so
//! "everything else" is covered without listing the schema.
//!
//! Generation is pure (`objects`, here); `commands::policy` installs and checks them.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use crate::error::{Error, Result};
use crate::format::output;

use crate::model::roles::{KindInfo, Profile, RelatedKind, RoleName};

mod selector;
pub use selector::parse_selector;

pub const FIELD_MANAGER: &str = "kubectl-oam-policy";

const MANAGED_BY: &str = "app.kubernetes.io/managed-by";

/// Written by the server in the same request (or status, by controllers): never a user's decision.
const BOOKKEEPING: [&[&str]; 4] = [
    &["status"],
    &["metadata", "managedFields"],
    &["metadata", "resourceVersion"],
    &["metadata", "generation"],
];

/// Client-side `kubectl apply` rewrites it on every apply, whatever it changes.
const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// The server bumps a DaemonSet's template generation in the very request that changes its template
/// (and keeps its own value whatever the request says): bookkeeping, like `metadata.generation`.
const DAEMONSET_TEMPLATE_GENERATION: &str = "deprecated.daemonset.template.generation";

/// `kubectl rollout restart` sets it on the pod template: both roles may restart (see docs/enforcing.md).
const RESTARTED_AT: &str = "kubectl.kubernetes.io/restartedAt";

/// The label the deployment controller adds to the selector of each ReplicaSet it makes.
const POD_TEMPLATE_HASH: &str = "pod-template-hash";

/// The pod spec's container lists, keyed by name; `container.*` fields hold in both.
const CONTAINER_LISTS: [&str; 2] = ["containers", "initContainers"];

const HPA_RESOURCE: &str = "autoscaling/horizontalpodautoscalers";

/// The binding's validationActions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicyAction {
    Deny,
    Warn,
    Audit,
}

/// What to generate, besides the profile.
#[derive(Debug, Clone)]
pub struct Options {
    pub name: String,
    pub action: PolicyAction,
    pub namespace_selector: Option<String>,
    pub allow_create_delete: bool,
    /// Where the cluster's profile lives (NAMESPACE, NAME): the role groups may read it.
    pub profile_configmap: (String, String),
}

/// `--group ROLE=GROUP` overrides of the profile's groups.
pub fn with_groups(mut profile: Profile, overrides: &[String]) -> Result<Profile> {
    for text in overrides {
        let (role, group) = text.split_once('=').filter(|(_, g)| !g.trim().is_empty()).ok_or_else(|| {
            Error::Usage(format!("--group \"{text}\" is not ROLE=GROUP, e.g. dev=team-devs"))
        })?;
        let Some(role) = profile.roles.iter_mut().find(|r| r.name.as_str() == role) else {
            return Err(Error::Usage(format!("--group \"{text}\": the roles are dev and ops")));
        };
        role.group = group.to_string();
    }
    if profile.roles[0].group == profile.roles[1].group {
        return Err(Error::Usage(format!(
            "roles dev and ops would share the group \"{}\"; its members would hold both roles",
            profile.roles[0].group
        )));
    }
    Ok(profile)
}

// ------------------------------------------------------------------------------------------------
// Which role owns which part of an object

/// An object's shape as far as the roles are concerned.
#[derive(Debug, Clone, PartialEq)]
enum Node {
    /// Compared whole; a change belongs to this role (None: to no role).
    Leaf(Option<RoleName>),
    /// Never compared.
    Ignored,
    /// A map key tools and controllers write: setting or changing it is no role's. Its removal is
    /// let through: a client-side `kubectl apply` whose last-applied annotation recorded it (after a
    /// `kubectl edit` or `replace`) drops it, and its writer sets it again.
    ToolWritten,
    /// Compared key by key: listed keys by their node, keys that start with one of `prefixes` (and
    /// are not listed) to its owner, every other key belongs to `rest`. `data` maps (labels,
    /// annotations) are shown as `map[key]`, structs as `struct.key`.
    Map {
        children: BTreeMap<String, Node>,
        prefixes: BTreeMap<String, Option<RoleName>>,
        rest: Option<RoleName>,
        data: bool,
    },
    /// A list of maps keyed by `name` (containers).
    Keyed(Box<Node>),
    /// A list of maps keyed by `name` whose items are split between roles (see `split`).
    Split(split::Split),
}

impl Node {
    fn map() -> Node {
        Node::Map { children: BTreeMap::new(), prefixes: BTreeMap::new(), rest: None, data: false }
    }

    /// The node at `path`, made a map (and its parents too) where needed. A role's whole field
    /// becomes a map that is the role's except for keys listed below it.
    fn map_at(&mut self, path: &[String]) -> Option<&mut Node> {
        let mut node = self;
        for segment in path {
            if let Node::Leaf(role) = *node {
                *node = Node::Map {
                    children: BTreeMap::new(),
                    prefixes: BTreeMap::new(),
                    rest: role,
                    data: true,
                };
            }
            node = match node {
                Node::Map { children, .. } => children.entry(segment.clone()).or_insert_with(Node::map),
                _ => return None,
            };
        }
        if let Node::Leaf(role) = *node {
            *node =
                Node::Map { children: BTreeMap::new(), prefixes: BTreeMap::new(), rest: role, data: true };
        }
        Some(node)
    }

    fn insert(&mut self, path: &[String], new: Node) {
        let Some((last, parent)) = path.split_last() else {
            return;
        };
        let Some(Node::Map { children, .. }) = self.map_at(parent) else {
            return;
        };
        match (children.get_mut(last), new) {
            (None, new) => {
                children.insert(last.clone(), new);
            }
            (Some(existing), Node::Ignored) => *existing = Node::Ignored,
            // Keys below a role's map were listed first: the rest of the map is the role's.
            (Some(Node::Map { rest, .. }), Node::Leaf(role)) => *rest = role,
            // Profiles do not overlap; what is already there (a role's whole list) stays.
            (Some(_), _) => {}
        }
    }

    /// A map key nobody's change counts for (written by tools and the server).
    fn ignore_key(&mut self, map_path: &[String], key: &str) {
        if let Some(Node::Map { children, data, .. }) = self.map_at(map_path) {
            *data = true;
            children.insert(key.to_string(), Node::Ignored);
        }
    }

    /// A key tools and controllers write, inside a role's map.
    fn tool_key(&mut self, map_path: &[String], key: &str) {
        if let Some(Node::Map { children, data, .. }) = self.map_at(map_path) {
            *data = true;
            children.entry(key.to_string()).or_insert(Node::ToolWritten);
        }
    }

    /// Map keys that are no role's inside a role's map: a key, or with a trailing `*` the keys that
    /// start with the text before it (see `roles::key_matches`).
    fn no_role_key(&mut self, map_path: &[String], pattern: &str) {
        if let Some(Node::Map { children, prefixes, data, .. }) = self.map_at(map_path) {
            *data = true;
            match pattern.strip_suffix('*') {
                Some(prefix) => {
                    prefixes.insert(prefix.to_string(), None);
                }
                None => {
                    children.entry(pattern.to_string()).or_insert(Node::Leaf(None));
                }
            }
        }
    }

    #[cfg(test)]
    fn map_at_path(&self, path: &[&str]) -> Option<&Node> {
        path.iter().try_fold(self, |node, segment| match node {
            Node::Map { children, .. } => children.get(*segment),
            _ => None,
        })
    }

    /// Can a change below this node belong to `owner`?
    fn concerns(&self, owner: Option<RoleName>) -> bool {
        match self {
            Node::Leaf(role) => *role == owner,
            Node::ToolWritten => owner.is_none(),
            Node::Ignored => false,
            Node::Map { children, prefixes, rest, .. } => {
                *rest == owner
                    || children.values().any(|c| c.concerns(owner))
                    || prefixes.values().any(|p| *p == owner)
            }
            Node::Keyed(item) => owner.is_none() || item.concerns(owner),
            Node::Split(split) => split.concerns(owner),
        }
    }

    /// Who a change at `path` belongs to; None when it is ignored.
    fn owner_of(&self, path: &[&str]) -> Option<Option<RoleName>> {
        match (self, path.split_first()) {
            (Node::Ignored, _) => None,
            (Node::Leaf(role), _) => Some(*role),
            (Node::ToolWritten, _) => Some(None),
            (Node::Map { rest, .. }, None) => Some(*rest),
            (Node::Map { children, prefixes, rest, .. }, Some((first, tail))) => match children.get(*first) {
                Some(child) => child.owner_of(tail),
                None => match prefixes.iter().find(|(p, _)| first.starts_with(p.as_str())) {
                    Some((_, owner)) => Some(*owner),
                    None => Some(*rest),
                },
            },
            (Node::Keyed(_) | Node::Split(_), _) => Some(None),
        }
    }
}

fn strings(path: &[&str]) -> Vec<String> {
    path.iter().map(|s| s.to_string()).collect()
}

fn container_tree(profile: &Profile, kind: &KindInfo) -> Node {
    let mut item = Node::map();
    for role in &profile.roles {
        for field in role.container_fields().filter(|f| f.applies_to(&kind.kind)) {
            item.insert(&field.path.segments, Node::Leaf(Some(role.name)));
            for key in &field.exclude {
                item.tool_key(&field.path.segments, key);
            }
        }
    }
    item
}

/// Which role owns each part of a kind's objects.
fn kind_tree(profile: &Profile, kind: &KindInfo) -> Node {
    let mut root = Node::map();
    for role in &profile.roles {
        for (_, fields) in role.object_traits(&kind.kind) {
            for field in fields {
                let path = field.path.in_object(kind);
                if let Some(filter) = &field.items {
                    split::insert(&mut root, &path, filter, role.name);
                    continue;
                }
                root.insert(&path, Node::Leaf(Some(role.name)));
                // Keys the profile leaves to tools and controllers: no role's.
                for key in &field.exclude {
                    root.tool_key(&path, key);
                }
            }
        }
    }
    // Keys read-only fields reserve (security settings): no role's, even inside a role's map. (In
    // a map that is no role's they already are.)
    for (field, path) in profile.reserved_maps(kind) {
        if matches!(root.owner_of(&path.iter().map(String::as_str).collect::<Vec<_>>()), Some(Some(_))) {
            for pattern in &field.keys {
                root.no_role_key(&path, pattern);
            }
        }
    }
    let item = container_tree(profile, kind);
    if item.concerns(Some(RoleName::Dev)) || item.concerns(Some(RoleName::Ops)) {
        for list in CONTAINER_LISTS {
            let mut path = kind.pod_spec_path();
            path.push(list.to_string());
            root.insert(&path, Node::Keyed(Box::new(item.clone())));
        }
    }
    root.ignore_key(&strings(&["metadata", "annotations"]), LAST_APPLIED);
    if kind.kind == "DaemonSet" && kind.group() == "apps" {
        root.ignore_key(&strings(&["metadata", "annotations"]), DAEMONSET_TEMPLATE_GENERATION);
    }
    let mut template_annotations = kind.template.clone();
    template_annotations.extend(strings(&["metadata", "annotations"]));
    root.ignore_key(&template_annotations, RESTARTED_AT);
    for path in BOOKKEEPING {
        root.insert(&strings(path), Node::Ignored);
    }
    root
}

// ------------------------------------------------------------------------------------------------
// Objects around the workload (the profile's `related:` kinds)

/// Which role owns each part of a related kind's objects: the roles' related fields; everything
/// else (selectors, cluster IPs, volume names…) is no role's.
fn related_tree(profile: &Profile, kind: &RelatedKind) -> Node {
    let mut root = Node::map();
    for role in &profile.roles {
        for f in role.related.iter().flat_map(|t| t.fields_of(&kind.root)) {
            root.insert(&f.segments, Node::Leaf(Some(role.name)));
            for key in &f.exclude {
                root.tool_key(&f.segments, key);
            }
        }
    }
    root.ignore_key(&strings(&["metadata", "annotations"]), LAST_APPLIED);
    for path in BOOKKEEPING {
        root.insert(&strings(path), Node::Ignored);
    }
    root
}

/// The related kinds some role has fields of, with their trees (the `bool`: related).
fn related_trees(profile: &Profile) -> impl Iterator<Item = (&KindInfo, Node, bool)> {
    profile
        .related
        .iter()
        .filter(|k| related_owners(profile, k).next().is_some())
        .map(|k| (&k.info, related_tree(profile, k), true))
}

/// The roles with fields of a related kind: they may create and delete its objects.
fn related_owners<'a>(profile: &'a Profile, kind: &'a RelatedKind) -> impl Iterator<Item = RoleName> + 'a {
    profile
        .roles
        .iter()
        .filter(|r| r.related.iter().any(|t| t.fields.iter().any(|f| f.root == kind.root)))
        .map(|r| r.name)
}

/// `related`: the request is about a related kind; `related_creators`: may this user create or
/// delete it (a member of a role with fields of the kind)?
fn related_variables(profile: &Profile) -> Vec<Value> {
    let kinds: Vec<&RelatedKind> =
        profile.related.iter().filter(|k| related_owners(profile, k).next().is_some()).collect();
    let resources: Vec<String> = kinds.iter().map(|k| resource_id(&k.info)).collect();
    let creators: Vec<String> = kinds
        .iter()
        .map(|k| {
            let roles: Vec<String> =
                related_owners(profile, k).map(|r| format!("variables.in_{r}")).collect();
            format!("(variables.resource == {} && ({}))", quote(&resource_id(&k.info)), roles.join(" || "))
        })
        .collect();
    vec![
        variable(
            "related",
            format!("variables.resource in {}", quoted_list(resources.iter().map(String::as_str))),
        ),
        variable(
            "related_creator",
            if creators.is_empty() { "false".to_string() } else { creators.join(" || ") },
        ),
    ]
}

/// Objects around a workload are created and deleted by the roles that have fields of them (`ops
/// expose` makes a Service); others may only change what their role owns.
fn related_create_delete_validation(verb: &str) -> Value {
    json!({
        "expression": "!variables.related || request.operation == 'UPDATE' || variables.related_creator",
        "messageExpression": format!("variables.who + ' may not ' + {verb} + ' ' + request.resource.resource + ': no role of theirs has fields of it; ask a cluster admin'"),
        "reason": "Forbidden",
    })
}

/// The resource rules of the related kinds some role has fields of.
fn related_rules(profile: &Profile, operations: &[&str]) -> Vec<Value> {
    let mut out: Vec<Value> = Vec::new();
    for k in profile.related.iter().filter(|k| related_owners(profile, k).next().is_some()) {
        out.push(rule(k.info.group(), k.info.version(), operations, vec![k.info.resource.clone()]));
    }
    out
}

// ------------------------------------------------------------------------------------------------
// CEL

fn quote(text: &str) -> String {
    format!("'{}'", text.replace('\\', "\\\\").replace('\'', "\\'"))
}

fn quoted_list<'a>(items: impl IntoIterator<Item = &'a str>) -> String {
    format!("[{}]", items.into_iter().map(quote).collect::<Vec<_>>().join(", "))
}

/// A field path as messages show it, built from literal text and CEL expressions (names, keys).
#[derive(Debug, Clone, Default)]
struct Shown(Vec<(bool, String)>);

impl Shown {
    fn text(&self, text: &str) -> Shown {
        let mut parts = self.0.clone();
        match parts.last_mut() {
            Some((false, last)) => last.push_str(text),
            _ => parts.push((false, text.to_string())),
        }
        Shown(parts)
    }

    fn expr(&self, expr: &str) -> Shown {
        let mut parts = self.0.clone();
        parts.push((true, expr.to_string()));
        Shown(parts)
    }

    fn child(&self, key: &str, data: bool) -> Shown {
        match (data, self.0.is_empty()) {
            (true, _) => self.text(&format!("[{key}]")),
            (false, true) => self.text(key),
            (false, false) => self.text(&format!(".{key}")),
        }
    }

    fn child_expr(&self, expr: &str, data: bool) -> Shown {
        match (data, self.0.is_empty()) {
            (true, _) => self.text("[").expr(expr).text("]"),
            (false, true) => self.expr(expr),
            (false, false) => self.text(".").expr(expr),
        }
    }

    fn cel(&self) -> String {
        let parts: Vec<String> =
            self.0.iter().map(|(is_expr, part)| if *is_expr { part.clone() } else { quote(part) }).collect();
        if parts.is_empty() { "''".into() } else { parts.join(" + ") }
    }
}

/// The policy's variables, in the order they may refer to each other.
#[derive(Default)]
struct Cel {
    /// Old and new maps at an object path, shared by every kind: (path, old name, new name).
    paths: Vec<(Vec<String>, String, String)>,
    path_vars: Vec<(String, String)>,
}

fn var_name(prefix: &str, path: &[String]) -> String {
    let mut name = prefix.to_string();
    for segment in path {
        name.push('_');
        name.extend(segment.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '_' }));
    }
    name
}

impl Cel {
    /// Variables holding the old and the new map at `path` (absent = empty).
    fn path_vars(&mut self, path: &[String], old_parent: &str, new_parent: &str) -> (String, String) {
        if let Some((_, old, new)) = self.paths.iter().find(|(p, _, _)| p == path) {
            return (format!("variables.{old}"), format!("variables.{new}"));
        }
        let mut old = var_name("old", path);
        let mut new = var_name("new", path);
        while self.path_vars.iter().any(|(n, _)| *n == old) {
            old.push('_');
            new.push('_');
        }
        let key = quote(path.last().map_or("", String::as_str));
        self.path_vars.push((old.clone(), format!("{old_parent}[?{key}].orValue({{}})")));
        self.path_vars.push((new.clone(), format!("{new_parent}[?{key}].orValue({{}})")));
        self.paths.push((path.to_vec(), old.clone(), new.clone()));
        (format!("variables.{old}"), format!("variables.{new}"))
    }

    /// CEL lists of the paths below `node` whose change belongs to `owner`, for maps `old` and `new`.
    /// `at` is the object path while variables can name it (None inside list items).
    #[allow(clippy::too_many_arguments)]
    fn changes(
        &mut self,
        node: &Node,
        at: Option<&[String]>,
        shown: &Shown,
        old: &str,
        new: &str,
        owner: Option<RoleName>,
        depth: usize,
        out: &mut Vec<String>,
    ) {
        let Node::Map { children, prefixes, rest, data } = node else {
            return;
        };
        let listed: Vec<&str> = children.keys().map(String::as_str).collect();
        let keys_shown = shown.child_expr("k", *data);
        if *rest == owner {
            let other_prefixes: Vec<&str> = prefixes.keys().map(String::as_str).collect();
            out.push(key_changes(old, new, &listed, &other_prefixes, None, &keys_shown));
        }
        for (prefix, _) in prefixes.iter().filter(|(_, o)| **o == owner) {
            out.push(key_changes(old, new, &listed, &[], Some(prefix), &keys_shown));
        }
        for (key, child) in children {
            let child_shown = shown.child(key, *data);
            let q = quote(key);
            match child {
                Node::Leaf(role) if *role == owner => {
                    out.push(format!("({old}[?{q}] != {new}[?{q}] ? [{}] : [])", child_shown.cel()))
                }
                Node::ToolWritten if owner.is_none() => out.push(format!(
                    "({new}[?{q}].hasValue() && {old}[?{q}] != {new}[?{q}] ? [{}] : [])",
                    child_shown.cel()
                )),
                Node::Ignored | Node::Leaf(_) | Node::ToolWritten => {}
                Node::Map { .. } if !child.concerns(owner) => {}
                Node::Map { data: child_data, .. } => {
                    let path = at.map(|p| [p, std::slice::from_ref(key)].concat());
                    let (o, n) = match &path {
                        // Structs along the object get variables: evaluated once, shared by the kinds.
                        Some(path) if !*data && !*child_data => self.path_vars(path, old, new),
                        _ => (format!("{old}[?{q}].orValue({{}})"), format!("{new}[?{q}].orValue({{}})")),
                    };
                    let path = path.filter(|_| !*child_data);
                    self.changes(child, path.as_deref(), &child_shown, &o, &n, owner, depth, out);
                }
                Node::Split(split) => out.extend(split.changes(old, new, key, &child_shown, owner, depth)),
                Node::Keyed(item) => {
                    let (ol, nl) = (format!("{old}[?{q}].orValue([])"), format!("{new}[?{q}].orValue([])"));
                    let (c, d, s) = if depth == 0 {
                        ("c".to_string(), "d".to_string(), "s".to_string())
                    } else {
                        (format!("c{depth}"), format!("d{depth}"), format!("s{depth}"))
                    };
                    if owner.is_none() {
                        // Containers added, removed, renamed or reordered: no role's field.
                        out.push(format!(
                            "({ol}.map({c}, {c}.name) != {nl}.map({c}, {c}.name) ? [{}] : [])",
                            child_shown.text("[*].name").cel()
                        ));
                    }
                    if item.concerns(owner) {
                        let mut inner = Vec::new();
                        let item_shown = child_shown.text("[").expr(&format!("{c}.name")).text("]");
                        self.changes(item, None, &item_shown, &d, &c, owner, depth + 1, &mut inner);
                        // Each new item against the old one of the same name, as one text per item.
                        out.push(format!(
                            "{nl}.map({c}, {ol}.filter({d}, {d}.name == {c}.name).map({d}, ({}).join(', ')).join(', ')).filter({s}, {s} != '')",
                            inner.join(" + ")
                        ));
                    }
                }
            }
        }
    }
}

/// Keys of two maps that were added, removed or changed, shown as `shown` (which uses the iteration
/// variable `k`): other than `skip` and the keys that start with one of `skip_prefixes`; with
/// `only`, just the keys that start with it.
fn key_changes(
    old: &str,
    new: &str,
    skip: &[&str],
    skip_prefixes: &[&str],
    only: Option<&str>,
    shown: &Shown,
) -> String {
    let mut conditions = Vec::new();
    if !skip.is_empty() {
        conditions.push(format!("!(k in {})", quoted_list(skip.iter().copied())));
    }
    conditions.extend(skip_prefixes.iter().map(|p| format!("!k.startsWith({})", quote(p))));
    conditions.extend(only.map(|p| format!("k.startsWith({})", quote(p))));
    let not_skipped: String = conditions.iter().map(|c| format!("{c} && ")).collect();
    let shown = shown.cel();
    format!(
        "{new}.map(k, {not_skipped}(!(k in {old}) || {old}[k] != {new}[k]), {shown}) + {old}.map(k, {not_skipped}!(k in {new}), {shown})"
    )
}

fn owner_key(owner: Option<RoleName>) -> &'static str {
    owner.map_or("other", RoleName::as_str)
}

fn resource_id(kind: &KindInfo) -> String {
    format!("{}/{}", kind.group(), kind.resource)
}

fn variable(name: &str, expression: String) -> Value {
    json!({"name": name, "expression": expression})
}

/// The ValidatingAdmissionPolicy's spec.
fn policy_spec(profile: &Profile, opts: &Options) -> Value {
    let owners: Vec<Option<RoleName>> =
        profile.roles.iter().map(|r| Some(r.name)).chain(std::iter::once(None)).collect();
    let mut cel = Cel::default();
    let mut kind_vars: Vec<Value> = Vec::new();
    // Per owner: (resource id, variable) of the kinds with anything that owner may change.
    let mut per_owner: BTreeMap<&'static str, Vec<(String, String)>> = BTreeMap::new();
    let mut scale_owners: BTreeMap<&'static str, Vec<String>> = BTreeMap::new();
    let workload_trees = profile.kinds.iter().map(|k| (k, kind_tree(profile, k), false));
    let trees: Vec<(&KindInfo, Node, bool)> = workload_trees.chain(related_trees(profile)).collect();
    for (kind, tree, is_related) in trees {
        for owner in &owners {
            let mut terms = Vec::new();
            cel.changes(&tree, Some(&[]), &Shown::default(), "oldObject", "object", *owner, 0, &mut terms);
            if !terms.is_empty() {
                let name = var_name("changes", &[kind.kind.to_lowercase(), owner_key(*owner).to_string()]);
                kind_vars.push(variable(&name, terms.join("\n+ ")));
                per_owner.entry(owner_key(*owner)).or_default().push((resource_id(kind), name));
            }
        }
        if let Some(owner) = tree.owner_of(&["spec", "replicas"]).filter(|_| !is_related) {
            scale_owners.entry(owner_key(owner)).or_default().push(resource_id(kind));
        }
    }

    let groups: Vec<&str> = profile.roles.iter().map(|r| r.group.as_str()).collect();
    let mut variables = Vec::new();
    for role in &profile.roles {
        variables.push(variable(
            &format!("in_{}", role.name),
            format!("{} in request.userInfo.groups", quote(&role.group)),
        ));
    }
    variables.push(variable(
        "who",
        format!("{}.filter(g, g in request.userInfo.groups).join(', ')", quoted_list(groups.iter().copied())),
    ));
    variables.push(variable(
        "roles",
        profile
            .roles
            .iter()
            .map(|r| format!("(variables.in_{name} ? ['{name}'] : [])", name = r.name))
            .collect::<Vec<_>>()
            .join(" + "),
    ));
    // Empty strings (the core group, no subresource) and empty lists are absent from the request.
    variables.push(variable(
        "resource",
        "(has(request.resource.group) ? request.resource.group : '') + '/' + request.resource.resource"
            .into(),
    ));
    variables.push(variable("hpa", format!("variables.resource == {}", quote(HPA_RESOURCE))));
    variables.extend(related_variables(profile));
    variables.push(variable("scale", "has(request.subResource) && request.subResource == 'scale'".into()));
    variables.push(variable(
        "workload_update",
        "request.operation == 'UPDATE' && !variables.hpa && !variables.scale".into(),
    ));
    // The controller of an object being updated (a Deployment of its ReplicaSets, a CronJob of its
    // Jobs): it alone writes the object; a role's change would be undone by it, or run what the
    // controller never had.
    variables.push(variable(
        "controller",
        "variables.workload_update && has(oldObject.metadata.ownerReferences) ? oldObject.metadata.ownerReferences.filter(r, has(r.controller) && r.controller).map(r, r.kind + ' ' + r.name) : []".into(),
    ));
    // A /scale request carries no ownerReferences; a ReplicaSet a Deployment made has the
    // Deployment's pod-template-hash in its selector.
    variables.push(variable(
        "scale_of_controlled",
        format!(
            "variables.scale && oldObject[?'status'].orValue({{}})[?'selector'].orValue('').contains({})",
            quote(&format!("{POD_TEMPLATE_HASH}="))
        ),
    ));
    variables.push(variable(
        "replicas_changed",
        "oldObject[?'spec'].orValue({})[?'replicas'] != object[?'spec'].orValue({})[?'replicas']".into(),
    ));
    for (name, expression) in &cel.path_vars {
        variables.push(variable(name, expression.clone()));
    }
    variables.extend(kind_vars);
    for owner in &owners {
        let key = owner_key(*owner);
        let scale = match scale_owners.get(key) {
            Some(resources) => format!(
                "(variables.resource in {} && variables.replicas_changed ? ['spec.replicas'] : [])",
                quoted_list(resources.iter().map(String::as_str))
            ),
            None => "[]".into(),
        };
        let mut expression = format!("variables.scale ? {scale}\n: !variables.workload_update ? []");
        for (resource, name) in per_owner.get(key).into_iter().flatten() {
            expression.push_str(&format!("\n: variables.resource == {} ? variables.{name}", quote(resource)));
        }
        expression.push_str("\n: []");
        variables.push(variable(&format!("changed_{key}"), expression));
    }
    // Changes grouped by owner, each group saying what to do instead.
    let grouped = |denied_only: bool| {
        owners
            .iter()
            .map(|owner| {
                let key = owner_key(*owner);
                let label = match owner.and_then(|r| profile.roles.iter().find(|p| p.name == r)) {
                    Some(role) if denied_only => format!(
                        " ({0} role: use kubectl oam {0} as a member of {1})",
                        role.name, role.group
                    ),
                    Some(role) => format!(" ({} role)", role.name),
                    None if denied_only => " (no role: ask a cluster admin)".to_string(),
                    None => " (no role)".to_string(),
                };
                let skip = match owner {
                    Some(role) if denied_only => format!("variables.in_{role} || "),
                    _ => String::new(),
                };
                format!(
                    "({skip}variables.changed_{key}.size() == 0 ? [] : [variables.changed_{key}.join(', ') + {}])",
                    quote(&label)
                )
            })
            .collect::<Vec<_>>()
            .join("\n+ ")
    };
    variables.push(variable("denied", grouped(true)));
    variables.push(variable("all_changes", grouped(false)));

    let mut validations = Vec::new();
    if !opts.allow_create_delete {
        validations.push(json!({
            "expression": "variables.hpa || variables.related || request.operation == 'UPDATE'",
            "messageExpression": "variables.who + ' may not ' + (request.operation == 'CREATE' ? 'create' : 'delete') + ' ' + request.resource.resource + ': workloads are created and deleted outside the roles; ask a cluster admin'",
            "reason": "Forbidden",
        }));
    }
    let hpa_owners: Vec<&crate::model::roles::Role> = profile
        .roles
        .iter()
        .filter(|r| r.traits.iter().flat_map(|t| &t.fields).any(|f| f.autoscaled))
        .collect();
    let verb =
        "(request.operation == 'CREATE' ? 'create' : request.operation == 'DELETE' ? 'delete' : 'change')";
    let (hpa_allowed, hpa_hint) = if hpa_owners.is_empty() {
        ("false".to_string(), "autoscalers belong to no role; ask a cluster admin".to_string())
    } else {
        (
            hpa_owners.iter().map(|r| format!("variables.in_{}", r.name)).collect::<Vec<_>>().join(" || "),
            hpa_owners
                .iter()
                .map(|r| {
                    format!(
                        "autoscaling belongs to the {0} role: use kubectl oam {0} as a member of {1}",
                        r.name, r.group
                    )
                })
                .collect::<Vec<_>>()
                .join("; "),
        )
    };
    validations.push(json!({
        "expression": format!("!variables.hpa || {hpa_allowed}"),
        "messageExpression": format!("variables.who + ' may not ' + {verb} + ' horizontalpodautoscalers: ' + {}", quote(&hpa_hint)),
        "reason": "Forbidden",
    }));
    validations.push(json!({
        "expression": "variables.controller.size() == 0",
        "messageExpression": "variables.who + ' may not change ' + request.resource.resource + ' ' + request.name + ': it is controlled by ' + variables.controller[0] + ', which alone writes it; change that instead'",
        "reason": "Forbidden",
    }));
    validations.push(json!({
        "expression": "!variables.scale_of_controlled",
        "messageExpression": format!("variables.who + ' may not scale ' + request.resource.resource + ' ' + request.name + {}", quote(": a Deployment controls it (its selector has the pod-template-hash label), which alone scales it; scale the Deployment instead")),
        "reason": "Forbidden",
    }));
    validations.push(json!({
        "expression": "variables.denied.size() == 0",
        "messageExpression": "variables.who + ' may not change ' + variables.denied.join('; ')",
        "reason": "Forbidden",
    }));
    if !opts.allow_create_delete {
        validations.push(related_create_delete_validation(verb));
    }

    let mut operations = vec!["UPDATE"];
    if !opts.allow_create_delete {
        operations = vec!["CREATE", "UPDATE", "DELETE"];
    }
    let mut rules: Vec<Value> = Vec::new();
    let mut seen: Vec<(String, String)> = Vec::new();
    for kind in &profile.kinds {
        let group_version = (kind.group().to_string(), kind.version().to_string());
        if seen.contains(&group_version) {
            continue;
        }
        let same: Vec<&KindInfo> = profile
            .kinds
            .iter()
            .filter(|k| k.group() == group_version.0 && k.version() == group_version.1)
            .collect();
        let resources: Vec<String> = same.iter().map(|k| k.resource.clone()).collect();
        rules.push(rule(&group_version.0, &group_version.1, &operations, resources.clone()));
        // A kind without a scale subresource never matches its rule; listing every kind keeps
        // `/scale` covered whatever the profile says about replicas.
        rules.push(rule(
            &group_version.0,
            &group_version.1,
            &["UPDATE"],
            resources.iter().map(|r| format!("{r}/scale")).collect(),
        ));
        seen.push(group_version);
    }
    rules.extend(related_rules(profile, &operations));
    rules.push(rule(
        "autoscaling",
        "*",
        &["CREATE", "UPDATE", "DELETE"],
        vec!["horizontalpodautoscalers".into()],
    ));

    json!({
        "failurePolicy": "Fail",
        "matchConstraints": {
            "matchPolicy": "Equivalent",
            "namespaceSelector": {},
            "objectSelector": {},
            "resourceRules": rules,
        },
        "matchConditions": [{
            "name": "in-a-role-group",
            "expression": format!(
                "has(request.userInfo.groups) && request.userInfo.groups.exists(g, g in {})",
                quoted_list(groups.iter().copied())
            ),
        }],
        "variables": variables,
        "validations": validations,
        "auditAnnotations": [{
            "key": "changes",
            "valueExpression": "'roles ' + variables.roles.join(',') + (variables.all_changes.size() > 0 ? ' changed ' + variables.all_changes.join('; ') : '')",
        }],
    })
}

fn rule(group: &str, version: &str, operations: &[&str], resources: Vec<String>) -> Value {
    json!({
        "apiGroups": [group],
        "apiVersions": [version],
        "operations": operations,
        "resources": resources,
        "scope": "*",
    })
}

fn metadata(name: &str, namespace: Option<&str>) -> Value {
    let mut meta = json!({"name": name, "labels": {MANAGED_BY: "kubectl-oam"}});
    if let Some(ns) = namespace {
        meta["namespace"] = json!(ns);
    }
    meta
}

/// Everything `kubectl oam policy` prints: the policy, its binding, and a Role + RoleBinding that let
/// the role groups read the cluster's profile.
pub fn objects(profile: &Profile, opts: &Options) -> Result<Vec<Value>> {
    let namespace_selector = match &opts.namespace_selector {
        Some(text) => parse_selector(text)?,
        None => json!({}),
    };
    let actions = match opts.action {
        PolicyAction::Deny => "Deny",
        PolicyAction::Warn => "Warn",
        PolicyAction::Audit => "Audit",
    };
    let (cm_namespace, cm_name) = &opts.profile_configmap;
    let reader = format!("{}-profile-reader", opts.name);
    Ok(vec![
        json!({
            "apiVersion": "admissionregistration.k8s.io/v1",
            "kind": "ValidatingAdmissionPolicy",
            "metadata": metadata(&opts.name, None),
            "spec": policy_spec(profile, opts),
        }),
        json!({
            "apiVersion": "admissionregistration.k8s.io/v1",
            "kind": "ValidatingAdmissionPolicyBinding",
            "metadata": metadata(&opts.name, None),
            "spec": {
                "policyName": opts.name,
                "validationActions": [actions],
                "matchResources": {
                    "matchPolicy": "Equivalent",
                    "namespaceSelector": namespace_selector,
                    "objectSelector": {},
                },
            },
        }),
        json!({
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "Role",
            "metadata": metadata(&reader, Some(cm_namespace)),
            "rules": [{"apiGroups": [""], "resources": ["configmaps"], "resourceNames": [cm_name], "verbs": ["get"]}],
        }),
        json!({
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "RoleBinding",
            "metadata": metadata(&reader, Some(cm_namespace)),
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": reader},
            "subjects": profile.roles.iter().map(|r| json!({"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": r.group})).collect::<Vec<_>>(),
        }),
    ])
}

/// The objects as a YAML stream or a JSON List, both fit for `kubectl apply -f -`.
pub fn render(objects: &[Value], json_output: bool) -> Result<String> {
    if json_output {
        return Ok(output::json(&json!({"apiVersion": "v1", "kind": "List", "items": objects})));
    }
    let docs: Result<Vec<String>> = objects.iter().map(output::yaml).collect();
    Ok(docs?.join("---\n"))
}

/// What of a live object the generated one speaks about: its own top-level fields, its name and
/// namespace, and the labels it sets. Keys are sorted so a diff shows values, not order.
pub fn comparable(live: &Value, generated: &Value) -> Value {
    let mut out = Map::new();
    for (key, value) in generated.as_object().into_iter().flatten() {
        if key == "metadata" {
            let mut meta = Map::new();
            for field in ["name", "namespace"] {
                if let Some(v) = live["metadata"].get(field) {
                    meta.insert(field.into(), v.clone());
                }
            }
            let labels: Map<String, Value> = value["labels"]
                .as_object()
                .into_iter()
                .flatten()
                .filter_map(|(k, _)| live["metadata"]["labels"].get(k).map(|v| (k.clone(), v.clone())))
                .collect();
            if !labels.is_empty() {
                meta.insert("labels".into(), Value::Object(labels));
            }
            out.insert(key.clone(), Value::Object(meta));
        } else if let Some(v) = live.get(key) {
            out.insert(key.clone(), v.clone());
        }
    }
    sorted(&Value::Object(out))
}

pub fn sorted(value: &Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            Value::Object(keys.into_iter().map(|k| (k.clone(), sorted(&map[k]))).collect())
        }
        Value::Array(items) => Value::Array(items.iter().map(sorted).collect()),
        other => other.clone(),
    }
}

/// kubectl's name for one of the objects: `validatingadmissionpolicy.admissionregistration.k8s.io/NAME`.
pub fn label(object: &Value) -> String {
    let api_version = object["apiVersion"].as_str().unwrap_or_default();
    let kind = object["kind"].as_str().unwrap_or_default();
    let group = api_version.rsplit_once('/').map_or("", |(group, _)| group);
    let name = object["metadata"]["name"].as_str().unwrap_or_default();
    format!("{}.{group}/{name}", kind.to_lowercase())
}

mod split;
#[cfg(test)]
mod tests;
