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
//!
//! # Serving a type
//!
//! A type is a [`ResourceInfo`] plus a [`Strategy`]; the defaults give the generic behaviour (metadata
//! validation, Name/Age table, no field selectors beyond metadata):
//!
//! ```
//! use std::sync::Arc;
//!
//! use kapi_registry::{builtin, CreateOptions, Registry, RequestContext, ResourceInfo, Strategy, TableColumn};
//! use serde_json::json;
//!
//! struct Widgets(ResourceInfo);
//!
//! impl Strategy for Widgets {
//!     fn info(&self) -> &ResourceInfo {
//!         &self.0
//!     }
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), kapi_core::ApiError> {
//! let widgets = Widgets(ResourceInfo {
//!     group: "example.com".into(),
//!     version: "v1".into(),
//!     resource: "widgets".into(),
//!     kind: "Widget".into(),
//!     list_kind: "WidgetList".into(),
//!     singular: "widget".into(),
//!     short_names: vec![],
//!     categories: vec![],
//!     namespaced: true,
//!     verbs: ResourceInfo::standard_verbs(),
//!     subresources: vec![],
//!     table_columns: vec![TableColumn::name_column(), TableColumn::age_column("Age")],
//!     openapi_definition: None,
//!     storage_prefix: "/registry/example.com/widgets/".into(),
//! });
//! let storage = Arc::new(kapi_storage::memory::MemoryStorage::new());
//! let registry = Registry::builder(storage)
//!     .resources(builtin::by_name("namespaces"))
//!     .resource(Arc::new(widgets))
//!     .build();
//! kapi_registry::namespace::bootstrap(&registry).await?;
//! let store = registry.store("example.com", "v1", "widgets").expect("served");
//! let body = json!({"metadata": {"name": "w1"}, "spec": {"size": 3}});
//! let created = store.create(&RequestContext::default(), Some("default"), body, &CreateOptions::default()).await?;
//! assert_eq!(created.value["metadata"]["namespace"], "default");
//! # Ok(())
//! # }
//! ```

mod apply;
pub mod builtin;
mod gojson;
mod managed;
pub mod namespace;
pub mod patch;
mod registry;
mod store;
pub mod strategic;
mod strategy;
mod types;
pub mod util;

pub use crate::gojson::{go_json_error, go_yaml_error};
pub use crate::{
    managed::FieldsShape,
    registry::{Registry, RegistryBuilder, Snapshot},
    store::{Decoded, JsonChunks, ListRead, ObjectRead, SharedWatchEvent, Store, WatchEvents},
    strategy::{unknown_top_level_fields, validate_metadata, validate_metadata_update, Strategy},
    types::{
        invalid_dry_run, CreateOptions, DeleteOptions, DeleteOutcome, FieldValidation, GetOptions, ListOptions, Patch,
        PatchOptions, PatchType, Preconditions, RequestContext, ResourceInfo, Response, TableColumn, UpdateOptions,
        WatchEvent, WatchEventType, CREATION_TIMESTAMP_DESCRIPTION, NAME_COLUMN_DESCRIPTION,
    },
};
