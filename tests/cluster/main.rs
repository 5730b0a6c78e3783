//! Tests against a real kube-apiserver (see harness.rs): one test binary, one control plane.

mod flags;
mod harness;
mod install;
mod ssa;
mod views;
mod writes;
mod yaml_roundtrip;
