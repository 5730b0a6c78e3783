//! Tests against a real kube-apiserver (see harness.rs): one test binary, one control plane (and a
//! second one, west, for the tests of several clusters in fleet.rs).

mod check;
mod churn;
mod fake;
mod flags;
mod fleet;
mod habits;
mod harness;
mod install;
mod kubectl_ways;
mod lists;
mod local;
mod model;
mod multi_edit;
mod neighbours;
mod ownership;
mod policy;
mod reconcilers;
mod related;
mod review;
mod review_recon;
mod server_errors;
mod shells;
mod ssa;
mod storage;
mod ux;
mod views;
mod workloads;
mod writes;
mod yaml_roundtrip;
