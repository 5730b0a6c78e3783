//! Lists whose items two roles split (`where:` / `unless:` in the profile): pod volumes, the
//! developer's claims and the operator's other volume sources. An item belongs to the role whose
//! filter it passes; a change to it (added, removed, changed) is that role's, judged by the item's
//! old form and by its new one (a configMap volume turned into a claim changes both roles' items).

use super::{Node, Shown, quote};
use crate::model::roles::{ItemFilter, RoleName};

/// The owners of a split list's items: those with field `has`, and those without it.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Split {
    has: String,
    with: Option<RoleName>,
    without: Option<RoleName>,
}

impl Split {
    pub(super) fn concerns(&self, owner: Option<RoleName>) -> bool {
        self.with == owner || self.without == owner
    }

    /// CEL lists of the items of list `key` (in maps `old` and `new`) whose change is `owner`'s.
    pub(super) fn changes(
        &self,
        old: &str,
        new: &str,
        key: &str,
        shown: &Shown,
        owner: Option<RoleName>,
        depth: usize,
    ) -> Vec<String> {
        let q = quote(key);
        let (ol, nl) = (format!("{old}[?{q}].orValue([])"), format!("{new}[?{q}].orValue([])"));
        let (v, o) = (format!("v{depth}"), format!("o{depth}"));
        let item_shown = shown.text("[").expr(&format!("{v}.name")).text("]").cel();
        let has = |item: &str| format!("{item}[?{}].hasValue()", quote(&self.has));
        [(self.with, has(&v), has(&o)), (self.without, format!("!{}", has(&v)), format!("!{}", has(&o)))]
            .into_iter()
            .filter(|(role, _, _)| *role == owner)
            .map(|(_, theirs, theirs_o)| {
                // Added or changed items, then removed ones: an old item whose name the new list
                // still has among this role's items was changed, and is named once already.
                format!(
                    "{nl}.filter({v}, {theirs} && !{ol}.exists({o}, {o} == {v})).map({v}, {item_shown}) + {ol}.filter({v}, {theirs} && !{nl}.exists({o}, {o} == {v} || ({o}.name == {v}.name && {theirs_o}))).map({v}, {item_shown})"
                )
            })
            .collect()
    }
}

/// Puts a role's share of the list at `path` into the tree; the other role's share may already be
/// there (the profile checked that the two filters complement each other).
pub(super) fn insert(root: &mut Node, path: &[String], filter: &ItemFilter, role: RoleName) {
    let Some((last, parent)) = path.split_last() else { return };
    let Some(Node::Map { children, .. }) = root.map_at(parent) else { return };
    let node = children
        .entry(last.clone())
        .or_insert_with(|| Node::Split(Split { has: filter.has.clone(), with: None, without: None }));
    if let Node::Split(split) = node {
        match filter.present {
            true => split.with = Some(role),
            false => split.without = Some(role),
        }
    }
}
