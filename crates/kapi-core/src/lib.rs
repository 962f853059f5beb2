//! kapi's apimachinery: the pure vocabulary every other kapi crate speaks.
//!
//! Nothing here does IO, spawns tasks or panics on user input; everything is a function from data to data, and
//! every message is the one kube-apiserver v1.36 sends, because clients (kubectl, client-go, kube-rs) and
//! conformance tests match on them. The recordings in `shared/reference/kube-apiserver-1.36/` are the oracle the
//! tests quote.
//!
//! - [`status`]: [`ApiError`], one variant per `metav1.StatusReason`, and its wire form [`Status`].
//! - [`field`]: [`FieldPath`], [`FieldError`] and [`FieldErrors`], the causes of `Invalid` (422) errors.
//! - [`validation`]: name rules (DNS-1123 subdomain and label, path segments, generateName), label keys and
//!   values, annotation size, finalizers, owner references, `ObjectMeta` on create and update.
//! - [`selector`]: label selectors (`env in (a,b),!tier`) and field selectors (`metadata.name=x`): parse and match.
//! - [`gvk`]: [`GroupVersion`], [`GroupVersionKind`], [`GroupVersionResource`], [`GroupResource`], [`GroupKind`].
//! - [`meta`]: typed accessors over objects held as `serde_json::Value` (`metadata.name`, labels, finalizers, ...).
//! - [`request_info`]: what a request path means ([`RequestInfo`]: verb, group, version, namespace, resource, name).
//! - [`resource_version`]: the `resourceVersion` / `resourceVersionMatch` / `sendInitialEvents` rules of list,
//!   get and watch.
//!
//! Objects travel through kapi as `serde_json::Value`; this crate builds on serde_json's `preserve_order`
//! feature so that objects and statuses keep their key order on the wire.

mod gofmt;

pub mod field;
pub mod gvk;
pub mod meta;
pub mod request_info;
pub mod resource_version;
pub mod selector;
pub mod status;
pub mod validation;

pub use crate::{
    field::{BadValue, FieldError, FieldErrorType, FieldErrors, FieldPath},
    gvk::{GroupKind, GroupResource, GroupVersion, GroupVersionKind, GroupVersionResource},
    request_info::RequestInfo,
    selector::{FieldSelector, LabelSelector, SelectorError},
    status::{ApiError, Status, StatusCause, StatusDetails},
};
