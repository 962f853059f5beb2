//! The wire form of `metav1.Status`: field order and omitted fields as kube-apiserver writes them.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::gvk::GroupResource;

/// The message of a Conflict caused by a stale `resourceVersion` (optimistic concurrency).
pub const OPTIMISTIC_LOCK_MESSAGE: &str =
    "the object has been modified; please apply your changes to the latest version and try again";

/// One cause in [`StatusDetails`]: a `metav1.StatusCause`. Empty strings are omitted on the wire.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusCause {
    /// The cause type (`FieldValueInvalid`, `FieldManagerConflict`, `ResourceVersionTooLarge`, ...).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub reason: String,
    /// A human-readable description of this cause.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub message: String,
    /// The field the cause is about, e.g. `metadata.name`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub field: String,
}

impl StatusCause {
    /// A cause from its parts.
    pub fn new(reason: impl Into<String>, message: impl Into<String>, field: impl Into<String>) -> Self {
        Self {
            reason: reason.into(),
            message: message.into(),
            field: field.into(),
        }
    }
}

/// `metav1.StatusDetails`: which object the status is about, and why. Empty fields are omitted on the wire.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StatusDetails {
    /// The object's name.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    /// The object's API group.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub group: String,
    /// The resource (most errors) or kind (Invalid, precondition conflicts).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub kind: String,
    /// The object's UID.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub uid: String,
    /// The individual causes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub causes: Vec<StatusCause>,
    /// How long the client should wait before retrying; 0 means not set.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub retry_after_seconds: i32,
}

fn is_zero(value: &i32) -> bool {
    *value == 0
}

impl StatusDetails {
    /// Details naming an object of a group resource.
    pub fn for_resource(resource: &GroupResource, name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            group: resource.group.clone(),
            kind: resource.resource.clone(),
            ..Self::default()
        }
    }

    /// Details carrying only causes.
    pub fn with_causes(causes: Vec<StatusCause>) -> Self {
        Self {
            causes,
            ..Self::default()
        }
    }
}

/// The wire form of `metav1.Status`, fields in kube-apiserver's order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Status {
    /// Always `Status`.
    pub kind: String,
    /// Always `v1`.
    pub api_version: String,
    /// List metadata; always `{}` for errors.
    #[serde(default)]
    pub metadata: serde_json::Map<String, Value>,
    /// `Success` or `Failure`.
    pub status: String,
    /// A human-readable description.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub message: String,
    /// The machine-readable reason; empty for unknown errors.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub reason: String,
    /// Extra data about the object and causes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<StatusDetails>,
    /// The HTTP status code; omitted when 0 (success statuses).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub code: i32,
}

impl Status {
    /// The `Success` status kube-apiserver returns for a completed delete.
    pub fn success(details: Option<StatusDetails>) -> Self {
        Self {
            kind: "Status".to_owned(),
            api_version: "v1".to_owned(),
            metadata: serde_json::Map::new(),
            status: "Success".to_owned(),
            message: String::new(),
            reason: String::new(),
            details,
            code: 0,
        }
    }

    /// This status as a JSON value (keys in wire order).
    pub fn to_value(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }
}
