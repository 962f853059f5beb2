//! Server-side apply for kapi: a faithful, schema-driven implementation of sigs.k8s.io/structured-merge-diff and
//! kube-apiserver's field manager, over `serde_json::Value`.
//!
//! - [`fieldpath`]: field paths and sets, and their `FieldsV1` encoding (byte order as upstream).
//! - [`schema`]: the type model read from an OpenAPI [`kapi_openapi::SchemaNode`]: structs, maps, lists
//!   (`x-kubernetes-list-type` atomic/set/map), `x-kubernetes-map-type`, untyped (deduced) values.
//! - [`managed`]: managedFields entries (manager, operation, API version, time, subresource, fields).
//! - [`apply`] and [`update`]: the two operations: merging an applied configuration (with removal of fields the
//!   manager stopped applying, shared ownership, conflicts and force) and recording plain writes;
//!   [`last_applied_fields`] and [`last_applied_annotation`] for kubectl's move from client-side apply.
//!
//! The crate is pure logic: no I/O, no clock (callers pass the time), no panics on any input.

mod compare;
mod compiled;
pub mod fieldpath;
mod gojson;
pub mod managed;
mod operations;
pub mod schema;
mod typed;

pub use compare::Comparison;
pub use fieldpath::{Path, PathElement, Set};
pub use managed::{ManagedFields, ManagerEntry, Operation};
pub use operations::{
    apply, conflict_message, fields_of, last_applied_annotation, last_applied_fields, update, update_owned, Applied,
    ApplyError, Conflict, Writer, LAST_APPLIED_ANNOTATION,
};
pub use schema::TypeRef;
