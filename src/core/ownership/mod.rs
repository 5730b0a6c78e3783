//! What a role write sends, and so owns. Pure: given the live object (with managedFields), the
//! document as it was read (its base) and the document now, it decides the server-side apply body,
//! the removals, and what must be refused. Nothing here talks to a cluster.
//!
//! A role's fields are cut into *units*, the pieces server-side apply tracks ownership of: a scalar,
//! a map key (a label, `resources.requests.cpu`), an atomic list (`command`, `tolerations`), or one
//! item of a keyed list (an env var by name, a port by containerPort+protocol). The rules:
//!
//! - A write sends the units the person set in this write plus the units the role's manager already
//!   owns, those at their live values unless changed now. Units merely visible in a document are
//!   never sent, so an unrelated write never becomes a co-owner that blocks another manager's
//!   removal.
//! - A document that carries its base (what it was read from) changes only what differs from that
//!   base; a unit someone changed since is refused, never reverted. A document without a base is
//!   desired state: everything in it is set, and units the manager owns that it leaves out are
//!   released.
//! - A removal of a unit another manager also holds is refused, or with force carried out by a
//!   JSON patch: server-side apply cannot remove a field someone else owns.
//!
//! `units` cuts fields into units, `base` records what a document was read from, `plan` decides a
//! write, `patch` writes units into apply bodies and JSON patches, `adopt` rewrites managedFields.

mod adopt;
mod base;
mod patch;
mod plan;
mod units;

pub use adopt::{Moved, adopt, release};
pub use base::{BASE_KEY, Base};
pub use patch::{follow, insert_units, json_pointer, order_like, without_units, write_patch};
pub use plan::{Current, HeldRemoval, Intent, Permissions, Stale, WritePlan, holders, plan};
pub use units::{Unit, Units, field_units, field_units_in, reserved_held, units};

#[cfg(test)]
mod tests;
