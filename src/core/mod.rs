//! Pure decisions.
pub mod hpa;
pub mod hpa_write;
pub mod owners;
pub mod ownership;
pub mod project;
pub mod rollout;
pub mod rows;
pub mod status;
#[cfg(test)]
mod tests;
pub mod write;
