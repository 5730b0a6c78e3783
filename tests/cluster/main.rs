//! Tests against a real kube-apiserver (see harness.rs): one test binary, one control plane.

mod harness;
mod ssa;
mod views;
mod writes;
