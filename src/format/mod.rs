//! Text in and out: YAML parsing and emitting, JSON/YAML/table output, diffs, kubectl's JSONPath,
//! canonical forms of values. Pure of any cluster: imports only `error` (and `cli` never).
pub mod canonical;
pub mod diff;
pub mod jsonpath;
pub mod output;
pub mod yaml;
