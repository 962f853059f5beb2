//! Conversion of custom resources between the versions of one CRD.
//!
//! Every served version has its own store over the CRD's one storage prefix; a store converts what it reads
//! into its version and what it writes into the storage version through a [`Converter`]. Conversion
//! strategy `None` ([`NoneConverter`]) only rewrites `apiVersion`; a webhook converter implements the same
//! trait.

use serde_json::{json, Value};

/// Converts custom resources of one CRD between its versions.
pub trait Converter: Send + Sync + 'static {
    /// `object` (of any of the CRD's versions) in version `to_version`; `Err` with a message when the
    /// conversion fails.
    fn convert(&self, object: Value, to_version: &str) -> Result<Value, String>;

    /// Whether a field may have another name in another version (a webhook may rename anything): the
    /// managedFields entries of other versions are then compared in their own version.
    fn renames_fields(&self) -> bool {
        true
    }
}

/// Conversion strategy `None`: the object stays as it is, with `apiVersion` set to the wanted version.
#[derive(Debug, Clone)]
pub struct NoneConverter {
    group: String,
}

impl NoneConverter {
    /// The converter of a CRD in `group`.
    pub fn new(group: &str) -> Self {
        Self {
            group: group.to_owned(),
        }
    }
}

impl Converter for NoneConverter {
    fn renames_fields(&self) -> bool {
        false
    }

    fn convert(&self, mut object: Value, to_version: &str) -> Result<Value, String> {
        if let Some(map) = object.as_object_mut() {
            map.insert("apiVersion".to_owned(), json!(format!("{}/{to_version}", self.group)));
        }
        Ok(object)
    }
}
