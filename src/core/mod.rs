//! Pure decisions: the role document of an object and back (`project`), which units a write sends
//! and owns (`ownership`), the pure half of a write (`write`, and `hpa_write` for the autoscaler),
//! the autoscaler section (`hpa`), who owns what (`owners`), rollout judgement (`rollout`), status
//! and table rows (`status`, `rows`), what templates read (`view`), the editor's text (`edit`),
//! `explain`'s paths, the admission policy (`policy`), the Service and PodDisruptionBudget that
//! `ops expose` and `ops disruption-budget` create around a workload (`expose`), the comparison of
//! one role across clusters (`fleet`), and the role views and edits of manifest files (`local`).
//!
//! No client, no runtime, no I/O: imports `error`, `format` and `model` only.

pub mod check;
pub mod edit;
pub mod explain;
pub mod expose;
pub mod fleet;
pub mod hpa;
pub mod hpa_write;
pub mod local;
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
