//! The role model and what describes objects.
pub mod managed;
pub mod object;
pub mod roles;
pub mod schema;
pub mod target;
