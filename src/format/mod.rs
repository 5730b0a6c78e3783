//! Text in and out: YAML read and written (`yaml`), JSON/YAML documents and tables (`output`), diffs
//! (`diff`), kubectl's JSONPath (`jsonpath`), canonical forms of values (`canonical`).
//!
//! Knows nothing of roles or clusters: it imports only `error`. No client, runtime or terminal crate.

pub mod canonical;
pub mod diff;
pub mod jsonpath;
pub mod output;
pub mod yaml;
