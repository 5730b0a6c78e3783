//! Tests against a real kube-apiserver (see harness.rs): one test binary, one control plane.

mod churn;
mod fake;
mod flags;
mod habits;
mod harness;
mod install;
mod lists;
mod model;
mod multi_edit;
mod neighbours;
mod ownership;
mod policy;
mod review;
mod server_errors;
mod ssa;
mod ux;
mod views;
mod workloads;
mod writes;
mod yaml_roundtrip;
