//! Tests against a real kube-apiserver (see harness.rs): one test binary, one control plane.

mod fake;
mod flags;
mod harness;
mod install;
mod model;
mod ownership;
mod server_errors;
mod ssa;
mod views;
mod writes;
