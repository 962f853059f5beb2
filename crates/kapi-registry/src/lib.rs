//! kapi's generic registry: k8s.io/apiserver's `registry/generic` and `registry/rest` in Rust.
//!
//! - [`Registry`] holds one [`Store`] per served resource; [`Store`] implements the verbs (create, get, list,
//!   watch, update, patch, delete, deletecollection) over a [`kapi_storage::Storage`] with a
//!   [`kapi_storage::cacher::Cacher`] for reads, with kube-apiserver's object semantics: uid, creationTimestamp,
//!   resourceVersion (the storage revision, never stored inside the value), generateName, managedFields for
//!   `Update` operations, dryRun, fieldValidation, finalizers and propagation policies, preconditions.
//! - [`Strategy`] is the per-type behaviour (defaulting, preparation, validation, Table rows, field selectors).
//! - [`builtin`] has the strategies of the built-in types kapi serves, selectable by name.
//! - [`namespace`] has the namespace lifecycle: bootstrap of `default`/`kube-system`/`kube-public`, `/finalize`
//!   and the namespace controller that empties deleted namespaces.
//!
//! Objects are `serde_json::Value`s; errors are [`kapi_core::ApiError`]s carrying kube-apiserver's messages.

pub mod builtin;
mod managed;
pub mod namespace;
pub mod patch;
mod registry;
mod store;
pub mod strategic;
mod strategy;
mod types;
pub mod util;

pub use crate::{
    managed::FieldsShape,
    registry::{Registry, RegistryBuilder},
    store::{Decoded, Store, WatchEvents},
    strategy::{unknown_top_level_fields, validate_metadata, validate_metadata_update, Strategy},
    types::{
        invalid_dry_run, CreateOptions, DeleteOptions, DeleteOutcome, FieldValidation, GetOptions, ListOptions, Patch,
        PatchOptions, PatchType, Preconditions, RequestContext, ResourceInfo, Response, TableColumn, UpdateOptions,
        WatchEvent, WatchEventType,
    },
};
