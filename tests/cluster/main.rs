//! Tests against a real kube-apiserver (see harness.rs): one test binary, one control plane.

mod fake;
mod flags;
mod harness;
mod install;
mod ssa;
mod tls;
mod views;
mod writes;
