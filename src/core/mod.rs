//! Pure decisions.
pub mod hpa;
pub mod owners;
pub mod ownership;
pub mod project;
pub mod rows;
pub mod status;
