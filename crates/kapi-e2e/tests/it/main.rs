//! End-to-end tests: the real `kapi` binary driven by real clients (see the crate docs for how the binary is
//! found). Each module shares one server among its tests (`common::shared`), each test in its own namespaces.

mod common;
mod compat;
mod conversion_webhook;
mod crds;
mod edges;
mod kube_client;
mod kubectl_apply;
mod kubectl_crud;
mod kubectl_errors;
mod kubectl_output;
mod kubectl_patch_flows;
mod kubectl_ssa;
mod python;
