//! Label and field selectors: the `labelSelector` and `fieldSelector` query parameters.
//!
//! [`LabelSelector`] follows `k8s.io/apimachinery/pkg/labels`: `=`, `==`, `!=`, `in (..)`, `notin (..)`, `key`
//! (exists), `!key` (does not exist), `>` and `<` on integers, requirements joined by commas, whitespace allowed
//! between tokens, keys and values validated. [`FieldSelector`] follows `k8s.io/apimachinery/pkg/fields`: terms
//! `field=value`, `field==value`, `field!=value` joined by commas, with `\`-escapes for `,`, `=` and `\` in values.
//!
//! Parse errors carry upstream's text; kube-apiserver answers them with a 400 whose message is that text, which
//! [`SelectorError::to_api_error`] builds.

mod field;
mod label;

pub use field::{FieldOperator, FieldRequirement, FieldSelector, Fields};
pub use label::{LabelSelector, Labels, Operator, Requirement};

use crate::status::ApiError;

/// A selector that failed to parse or names an unsupported field; `Display` is kube-apiserver's message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct SelectorError(pub String);

impl SelectorError {
    /// The 400 kube-apiserver answers with.
    pub fn to_api_error(&self) -> ApiError {
        ApiError::bad_request(self.0.clone())
    }

    /// The error of the default field-label conversion, which only knows `metadata.name` and `metadata.namespace`:
    /// `"data.k" is not a known field selector: only "metadata.name", "metadata.namespace"` (ConfigMaps and most
    /// built-in resources).
    pub fn unknown_field(label: &str) -> Self {
        Self(format!(
            "{} is not a known field selector: only \"metadata.name\", \"metadata.namespace\"",
            crate::gofmt::quote(label)
        ))
    }

    /// The error of resource-specific conversions (Secrets, custom resources): `field label not supported: spec.foo`.
    pub fn field_label_not_supported(label: &str) -> Self {
        Self(format!("field label not supported: {label}"))
    }
}

impl From<SelectorError> for ApiError {
    fn from(error: SelectorError) -> Self {
        error.to_api_error()
    }
}

/// Writes `items` separated by commas: the text form of label and field selectors alike.
fn write_comma_separated<T: std::fmt::Display>(f: &mut std::fmt::Formatter<'_>, items: &[T]) -> std::fmt::Result {
    for (index, item) in items.iter().enumerate() {
        if index > 0 {
            f.write_str(",")?;
        }
        write!(f, "{item}")?;
    }
    Ok(())
}
