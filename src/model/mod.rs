//! The role model and what describes objects: the role profile (`roles`, with the built-in
//! `profile.yaml`), kinds' schemas (`schema`), the workloads a command names (`target`), reading a
//! workload's JSON (`object`), and managedFields with their FieldsV1 paths (`managed`).
//!
//! Pure: imports `error` and `format` only.

pub mod managed;
pub mod object;
pub mod related;
pub mod roles;
pub mod schema;
pub mod target;
