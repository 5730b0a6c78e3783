//! Tests against a real kube-apiserver (see harness.rs): one test binary, one control plane.

mod flags;
mod harness;
mod install;
mod ssa;
mod views;
mod workloads;
mod writes;
