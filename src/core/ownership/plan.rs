//! Planning a write: what it sends, removes, releases, and what must be refused.

use std::collections::HashSet;

use serde_json::{Value, json};

use crate::core::ownership::base::Base;
use crate::core::ownership::units::{Unit, Units, container_of, leaf};
use crate::format::canonical::fnv32;
use crate::model::managed::{ManagedEntry, Step, managed_entries, subtree};

/// What a document says, and what it speaks for.
#[derive(Debug, Clone)]
pub struct Intent<'a> {
    /// The units the document states.
    pub edited: &'a Units,
    /// What it was read from; None for a hand-written or GitOps document (desired state).
    pub base: Option<&'a Base>,
    /// Containers the document names (a document without a base speaks for these and for every
    /// object trait; a container it leaves out keeps its values).
    pub containers: &'a [String],
}

/// The object as it is now.
#[derive(Debug, Clone)]
pub struct Current<'a> {
    pub object: &'a Value,
    pub units: &'a Units,
    /// The role's field manager (owns what its Apply entry lists).
    pub manager: &'a str,
    /// Label of the unit an autoscaler holds (scaler.replicas), when one targets the workload.
    pub autoscaled: Option<&'a str>,
}

#[derive(Debug, Clone, Copy, Default)]
pub struct Permissions {
    /// Take over fields other managers hold, and remove fields they also hold.
    pub force: bool,
    /// Replace values someone changed since the document was read.
    pub overwrite: bool,
}

/// A unit someone changed after the document was read.
#[derive(Debug, Clone, PartialEq)]
pub struct Stale {
    pub label: String,
    /// Its value now (None: removed since).
    pub now: Option<Value>,
    /// Who holds it now, most recent first.
    pub by: Vec<String>,
}

/// A removal another field manager's ownership would keep in place.
#[derive(Debug, Clone, PartialEq)]
pub struct HeldRemoval {
    pub label: String,
    pub holders: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct WritePlan {
    /// The units to apply, in document order.
    pub send: Vec<Unit>,
    /// Labels of the units this write changes (set, change or remove).
    pub changed: Vec<String>,
    /// Changed since read: refused unless overwriting.
    pub stale: Vec<Stale>,
    /// Removals another manager holds: refused unless forced.
    pub held: Vec<HeldRemoval>,
    /// Removals to carry out with a JSON patch (forced, held by others).
    pub remove: Vec<Unit>,
    /// Removals only this manager holds: the apply releases them and the server removes them.
    pub released: Vec<Unit>,
    /// Removals nobody owns (server defaults): they stay.
    pub unowned: Vec<String>,
    /// A changed replica count while an autoscaler holds it.
    pub autoscaler_conflict: bool,
    /// The same, forced: it is sent, and the autoscaler will set it again.
    pub autoscaler_overridden: bool,
    /// Units the write touches whose key appears twice in the live object.
    pub duplicates: Vec<String>,
    /// Units whose key appears twice that only the manager's apply holds: a write cannot send them
    /// (server-side apply cannot address one of them), and leaving them out would delete them.
    pub duplicates_held: Vec<String>,
    /// Units whose key the edited document has twice while the live object has it once (two
    /// volume mounts at one mountPath): server-side apply cannot write both; refused, never merged
    /// into one silently.
    pub repeated: Vec<String>,
    /// Does the manager give up a unit it owns?
    pub releases: bool,
}

/// Decides what a write sends and removes. See the module comment for the rules.
pub fn plan(intent: &Intent, current: &Current, allow: Permissions) -> WritePlan {
    let entries = managed_entries(current.object);
    let own: Option<&ManagedEntry> = entries
        .iter()
        .find(|e| e.manager == current.manager && e.operation == "Apply" && e.subresource.is_empty());
    let owned = |u: &Unit| own.is_some_and(|e| subtree(&e.fields, &u.path).is_some());
    // The manager's own Update entries (left by a forced JSON patch): an apply cannot release what
    // they hold, so a removal of it goes by JSON patch, without needing force (nobody else holds it).
    let held_by_own_update = |path: &[Step]| {
        entries.iter().any(|e| {
            e.manager == current.manager && e.operation != "Apply" && subtree(&e.fields, path).is_some()
        })
    };
    let live = current.units;
    let edited = intent.edited;
    let in_scope = |u: &Unit| match container_of(u) {
        Some(name) => intent.containers.iter().any(|c| *c == name),
        None => true,
    };

    let mut plan = WritePlan::default();
    // What the person sets (with the value they set) and what they remove.
    let mut set: Vec<&Unit> = Vec::new();
    let mut removed: Vec<&Unit> = Vec::new();
    match intent.base {
        Some(base) => {
            for u in edited.iter() {
                if base.digest(u.key()) != Some(fnv32(&u.canon)) {
                    set.push(u);
                }
            }
            // A container left out of the document entirely is not spoken for: kept as it is.
            for u in live.iter() {
                if edited.get(u.key()).is_none() && base.digest(u.key()).is_some() && in_scope(u) {
                    removed.push(u);
                }
            }
            // Three-way: a unit changed here and since the read, to another value, is stale. What the
            // document did not show (another container; the autoscaler's count) has no base to
            // compare with: it is set as desired.
            let checked = |u: &&Unit| base.covers(u) && current.autoscaled != Some(u.label.as_str());
            for u in set.iter().copied().chain(removed.iter().copied()).filter(checked) {
                let key = u.key();
                let then = base.digest(key);
                let now = live.get(key);
                let wanted = edited.get(key);
                let moved_on = then != now.map(|n| fnv32(&n.canon));
                let same_as_wanted = match (now, wanted) {
                    (Some(n), Some(w)) => n.same_value(w),
                    (None, None) => true,
                    _ => false,
                };
                if moved_on && !same_as_wanted {
                    plan.stale.push(Stale {
                        label: u.label.clone(),
                        now: now.map(|n| shown_value(&n.value)),
                        by: now.map(|n| changed_by(&entries, n)).unwrap_or_default(),
                    });
                }
            }
        }
        None => {
            set.extend(edited.iter());
            for u in live.iter() {
                if edited.get(u.key()).is_none() && in_scope(u) && owned(u) {
                    removed.push(u);
                }
            }
        }
    }
    if allow.overwrite {
        plan.stale.clear();
    }

    // The autoscaler's count: a change is a conflict unless forced; never released while owned
    // (the server would reset it to 1 before the autoscaler takes it).
    let held_by_autoscaler = |u: &Unit| current.autoscaled == Some(u.label.as_str());
    set.retain(|u| {
        if !held_by_autoscaler(u) {
            return true;
        }
        match live.get(u.key()) {
            Some(now) if now.same_value(u) => false,
            _ if allow.force => {
                plan.autoscaler_overridden = true;
                true
            }
            _ => {
                plan.autoscaler_conflict = true;
                false
            }
        }
    });
    removed.retain(|u| !held_by_autoscaler(u));

    let set_keys: HashSet<&str> = set.iter().map(|u| u.key()).collect();
    let removed_keys: HashSet<&str> = removed.iter().map(|u| u.key()).collect();
    plan.changed = set
        .iter()
        .filter(|u| live.get(u.key()).is_none_or(|now| !now.same_value(u)))
        .chain(removed.iter())
        .map(|u| u.label.clone())
        .collect();

    // A keyed item changed so that it lacks a part it had (a port's name, an env var's value when
    // it becomes empty or a reference): those parts are removals too, and an apply of the item
    // without them removes them only if nobody else holds them.
    let mut parts: Vec<Unit> = Vec::new();
    for u in set.iter().filter(|u| matches!(u.path.last(), Some(Step::Key(_)))) {
        let (Some(now), Some(wanted)) =
            (live.get(u.key()).and_then(|n| n.value.as_object()), u.value.as_object())
        else {
            continue;
        };
        for (name, value) in now.iter().filter(|(name, _)| !wanted.contains_key(*name)) {
            let mut path = u.path.clone();
            path.push(Step::Field(name.clone()));
            parts.push(leaf(path, format!("{}.{name}", u.label), value));
        }
    }

    let removals = removed.iter().map(|u| (*u, false)).chain(parts.iter().map(|u| (u, true)));
    for (u, is_part) in removals {
        let others = holders(&entries, &u.path, Some(current.manager));
        if others.is_empty() {
            if held_by_own_update(&u.path) {
                plan.releases |= owned(u);
                plan.remove.push(u.clone());
            } else if owned(u) {
                plan.releases = true;
                plan.released.push(u.clone());
            } else if !is_part {
                plan.unowned.push(u.label.clone());
            }
        } else if allow.force {
            plan.releases |= owned(u);
            plan.remove.push(u.clone());
        } else {
            plan.held.push(HeldRemoval { label: u.label.clone(), holders: others });
        }
    }

    // Send what is set, then what the manager owns at its live value. A value equal to the live one
    // in meaning (`0.1` for `100m`) is sent as the server has it: the same text is no conflict.
    for u in &set {
        let same = live.get(u.key()).filter(|now| now.same_value(u));
        plan.send.push(same.unwrap_or(u).clone());
    }
    for u in live.iter() {
        let key = u.key();
        if !set_keys.contains(&key) && !removed_keys.contains(&key) && owned(u) {
            // A key that appears twice cannot be sent: left out, it stays if anyone else (the
            // manager's own Update entry included) holds it.
            if live.is_duplicate(key) {
                let kept = entries.iter().any(|e| {
                    !(e.manager == current.manager && e.operation == "Apply" && e.subresource.is_empty())
                        && subtree(&e.fields, &u.path).is_some()
                });
                match kept {
                    true => plan.releases = true,
                    false => plan.duplicates_held.push(u.label.clone()),
                }
                continue;
            }
            plan.send.push(u.clone());
        }
    }
    plan.repeated = edited
        .iter()
        .filter(|u| edited.is_duplicate(u.key()) && !live.is_duplicate(u.key()))
        .map(|u| u.label.clone())
        .collect();
    plan.duplicates = plan
        .send
        .iter()
        .chain(removed.iter().copied())
        .filter(|u| live.is_duplicate(u.key()) || edited.is_duplicate(u.key()))
        .map(|u| u.label.clone())
        .collect();
    plan
}

/// A unit's value as a person reads it in a message: an env var's value or reference, not the item.
fn shown_value(value: &Value) -> Value {
    match value.as_object() {
        Some(m) if m.contains_key("name") && (m.contains_key("value") || m.contains_key("valueFrom")) => {
            m.get("value").or_else(|| m.get("valueFrom")).cloned().unwrap_or(Value::Null)
        }
        Some(m) if m.contains_key("name") && m.len() == 1 => json!(""),
        _ => value.clone(),
    }
}

/// Who changed a unit: for a keyed item, the holders of its parts other than the key (the key stays
/// with whoever added the item), most recent first; else the holders of the unit.
fn changed_by(entries: &[ManagedEntry], unit: &Unit) -> Vec<String> {
    if let (Some(Step::Key(key)), Some(item)) = (unit.path.last(), unit.value.as_object()) {
        let mut by = Vec::new();
        for name in item.keys().filter(|k| key.get(k.as_str()).is_none()) {
            let mut path = unit.path.clone();
            path.push(Step::Field(name.clone()));
            for m in holders(entries, &path, None) {
                if !by.contains(&m) {
                    by.push(m);
                }
            }
        }
        if !by.is_empty() {
            return by;
        }
    }
    holders(entries, &unit.path, None)
}

/// Managers (other than `except`) holding `path` or anything below it, most recent first.
pub fn holders(entries: &[ManagedEntry], path: &[Step], except: Option<&str>) -> Vec<String> {
    let mut found: Vec<&ManagedEntry> = entries
        .iter()
        .filter(|e| Some(e.manager.as_str()) != except && subtree(&e.fields, path).is_some())
        .collect();
    found.sort_by(|a, b| b.time.cmp(&a.time));
    let mut names: Vec<String> = Vec::new();
    for e in found {
        if !names.contains(&e.manager) {
            names.push(e.manager.clone());
        }
    }
    names
}
