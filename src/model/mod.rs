//! The role model and what describes objects.
pub mod roles;
pub mod schema;
