//! Pure decisions.
pub mod edit;
pub mod explain;
pub mod hpa;
pub mod hpa_write;
pub mod owners;
pub mod ownership;
pub mod policy;
pub mod project;
pub mod rollout;
pub mod rows;
pub mod status;
#[cfg(test)]
mod tests;
pub mod write;
