//! Pure decisions: the role document of an object and back (`project`), which units a write sends
//! and owns (`ownership`), the pure half of a write (`write`, and `hpa_write` for the autoscaler),
//! the autoscaler section (`hpa`), who owns what (`owners`), rollout judgement (`rollout`), status
//! and table rows (`status`, `rows`), what templates read (`view`), the editor's text (`edit`),
//! `explain`'s paths, and the admission policy (`policy`).
//!
//! No client, no runtime, no I/O: imports `error`, `format` and `model` only.

pub mod check;
pub mod edit;
pub mod explain;
pub mod hpa;
pub mod hpa_write;
pub mod owners;
pub mod ownership;
pub mod policy;
pub mod project;
pub mod reconciler;
pub mod related;
pub mod related_write;
pub mod rollout;
pub mod rows;
pub mod status;
#[cfg(test)]
mod tests;
pub mod view;
pub mod write;
