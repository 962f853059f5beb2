//! kapi's CustomResourceDefinitions (`apiextensions.k8s.io/v1`), served as kube-apiserver's
//! apiextensions-apiserver serves them.
//!
//! - [`CrdStrategy`]: the CRD type itself (defaulting, validation, the status the server owns, the cleanup
//!   finalizer a DELETE adds).
//! - [`controller`]: the in-process controller that serves each CRD's versions through the registry,
//!   sets NamesAccepted / Established, and deletes a deleted CRD's objects before the CRD itself.
//! - [`CustomResource`]: the strategy of one served version of a CRD (schema defaulting and pruning,
//!   printer columns, selectable fields, status and scale subresources, conversion to the storage version).
//! - [`conversion`]: the [`Converter`] seam between a CRD's versions (`None` built in); [`webhook`]: strategy
//!   `Webhook` through `kapi-webhook` (the controller's default factory picks the converter per CRD).
//! - [`naming`]: which requested names a CRD may have next to the other CRDs of its group.
//! - [`conditions`], [`jsonpath`], [`openapi`]: the pieces these use.
//!
//! Schemas (structural checks, defaulting, pruning, validation) come from `kapi-crd-schema`, CEL rules from
//! `kapi-cel`.
//!
//! A library user serving CRDs adds [`CrdStrategy`] to the registry and runs [`controller::spawn_controller`];
//! leaving the controller out leaves CRDs stored but not served.

pub mod conditions;
pub mod controller;
pub mod conversion;
mod crd;
mod custom;
pub mod jsonpath;
pub mod naming;
pub mod openapi;
pub mod webhook;

pub use crate::{
    controller::{spawn_controller, CrdController},
    conversion::{Converter, NoneConverter},
    crd::{storage_version, versions, CrdStrategy, CLEANUP_FINALIZER, GROUP},
    custom::{CustomResource, ScalePaths},
};
