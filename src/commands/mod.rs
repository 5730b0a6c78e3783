//! One file per verb.
pub mod adopt;
pub mod apply;
pub mod complete;
pub mod edit;
pub mod explain;
pub mod get;
pub mod list;
pub mod policy;
