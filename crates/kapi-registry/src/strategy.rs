//! Per-type behaviour of a [`Store`](crate::Store): k8s.io/apiserver's `RESTCreateStrategy`,
//! `RESTUpdateStrategy`, `TableConvertor` and field-label conversion in one trait.

use kapi_core::{
    validation::{validate_object_meta, validate_object_meta_update, NameRule},
    FieldErrors, FieldPath,
};
use kapi_openapi::{Definitions, SchemaNode};
use serde_json::Value;

use crate::{managed::FieldsShape, types::ResourceInfo};

/// What a resource does beyond the generic store. Default methods do the generic thing.
pub trait Strategy: Send + Sync + 'static {
    /// The resource's static description.
    fn info(&self) -> &ResourceInfo;

    /// Which rule `metadata.name` follows.
    fn name_rule(&self) -> NameRule {
        NameRule::Dns1123Subdomain
    }

    /// Whether `metadata.generation` is maintained (1 on create, +1 on every spec change). Off for the built-in
    /// types kapi serves (ConfigMaps, Secrets, ... have no generation).
    fn has_generation(&self) -> bool {
        false
    }

    /// Whether `status` is a subresource, so that the main resource's writes keep the stored status.
    fn has_status_subresource(&self) -> bool {
        false
    }

    /// The group and kind a 422 Invalid names: kube-apiserver names the internal type it validates, which for
    /// a type served from another's storage is that type (events.k8s.io Events are core `Event`s).
    fn invalid_group_kind(&self) -> kapi_core::GroupKind {
        self.info().group_kind()
    }

    /// What decoding the body into the typed object would reject (a Secret's `data` that is not base64), as
    /// the decoder's message; the store answers 400 `<Kind> in version "<v>" cannot be handled as a <Kind>: ...`.
    fn check_decodable(&self, _obj: &Value) -> Result<(), String> {
        Ok(())
    }

    /// API defaulting, applied to request bodies before anything else (what decoding does in kube-apiserver);
    /// defaulted fields count as set by the request's field manager.
    fn default(&self, _obj: &mut Value) {}

    /// `PrepareForCreate`: clear or set fields the server controls.
    fn prepare_for_create(&self, _obj: &mut Value) {}

    /// `PrepareForUpdate`: carry over fields the client may not change here.
    fn prepare_for_update(&self, _new: &mut Value, _old: &Value) {}

    /// Validation of a new object, metadata included.
    fn validate_create(&self, obj: &Value) -> FieldErrors {
        validate_metadata(obj, self.info().namespaced, self.name_rule())
    }

    /// Validation of an update (the store runs the generic metadata update checks before this).
    fn validate_update(&self, new: &Value, old: &Value) -> FieldErrors {
        let mut errors = validate_metadata_update(new, old);
        errors.append(validate_metadata(new, self.info().namespaced, self.name_rule()));
        errors
    }

    /// Warnings about a valid object.
    fn warnings(&self, _obj: &Value) -> Vec<String> {
        Vec::new()
    }

    /// Whether list items keep `kind` and `apiVersion`: custom resources do (kube-apiserver lists them as
    /// unstructured objects); built-in types' items carry neither.
    fn list_items_keep_type(&self) -> bool {
        false
    }

    /// Warnings sent with every request to this resource, failed ones too (a deprecated API version's).
    fn request_warnings(&self) -> Vec<String> {
        Vec::new()
    }

    /// Field-selector fields beyond `metadata.name`/`metadata.namespace`, e.g. a Secret's `type`. Must return
    /// every supported field (with `""` when the object lacks it), also for `Value::Null`: the store derives the
    /// supported set from it.
    fn selectable_fields(&self, _obj: &Value) -> Vec<(String, String)> {
        Vec::new()
    }

    /// Table cells in `info().table_columns` order (Name first).
    fn table_row(&self, obj: &Value) -> Vec<Value> {
        vec![
            Value::String(kapi_core::meta::name(obj).unwrap_or_default().to_owned()),
            crate::util::age_of(obj),
        ]
    }

    /// `BeforeDelete`: called when a DELETE finds the object not yet being deleted, before the store marks or
    /// removes it; returns whether it changed the object. A type that must clean up first adds a finalizer
    /// here (a CustomResourceDefinition adds `customresourcecleanup.apiextensions.k8s.io`), so the DELETE
    /// leaves the object in place, marked as being deleted.
    fn prepare_for_delete(&self, _obj: &mut Value) -> bool {
        false
    }

    /// The JSONPaths of a `scale` subresource (`autoscaling/v1` Scale over the object): spec replicas, status
    /// replicas and the optional label selector, e.g. `(".spec.replicas", ".status.replicas",
    /// Some(".status.selector"))`. `None` (the default) for types without one.
    fn scale_paths(&self) -> Option<(String, String, Option<String>)> {
        None
    }

    /// Whether PUT of a missing object creates it.
    fn allow_create_on_update(&self) -> bool {
        false
    }

    /// Whether PUT without `metadata.resourceVersion` is allowed.
    fn allow_unconditional_update(&self) -> bool {
        true
    }

    /// Whether DELETE answers with the deleted object instead of a Status (ServiceAccounts).
    fn return_deleted_object(&self) -> bool {
        false
    }

    /// The paths of fields the type does not know (`spec.x`), for `fieldValidation`.
    fn unknown_fields(&self, _obj: &Value) -> Vec<String> {
        Vec::new()
    }

    /// Removes the fields the type does not know from a written object and returns their paths, as
    /// [`unknown_fields`](Self::unknown_fields) reports them. The default removes each reported path.
    fn take_unknown_fields(&self, obj: &mut Value) -> Vec<String> {
        let unknown = self.unknown_fields(obj);
        for field in &unknown {
            crate::store::remove_field_path(obj, field);
        }
        unknown
    }

    /// Converts a stored object into this resource's API form (for resources that share storage with another
    /// API version or group, like events.k8s.io/v1 events stored as core/v1 events).
    fn read_stored(&self, obj: Value) -> Value {
        obj
    }

    /// Converts an object of this resource's API form into its stored form (the inverse of
    /// [`read_stored`](Self::read_stored)).
    fn prepare_stored(&self, obj: Value) -> Value {
        obj
    }

    /// [`read_stored`](Self::read_stored) for types whose conversion can fail (custom resources converted by a
    /// webhook): the store answers a read of the object with the error.
    fn try_read_stored(&self, obj: Value) -> Result<Value, kapi_core::ApiError> {
        Ok(self.read_stored(obj))
    }

    /// [`prepare_stored`](Self::prepare_stored) that can fail: the store refuses the write with the error (as an
    /// internal error, as kube-apiserver's storage encoding does).
    fn try_prepare_stored(&self, obj: Value) -> Result<Value, kapi_core::ApiError> {
        Ok(self.prepare_stored(obj))
    }

    /// The API form of an object as stored: what reads (the watch cache, the old object of an update)
    /// answer. The default reads it, then takes it through the stored form and back, so that it equals the
    /// answer to a write of the same object. A type whose conversions cost something (a custom resource's
    /// conversion webhook) converts once, as kube-apiserver decodes once.
    fn try_api_form(&self, stored: Value) -> Result<Value, kapi_core::ApiError> {
        let read = self.try_read_stored(stored)?;
        self.try_read_stored(self.try_prepare_stored(read)?)
    }

    /// `obj` in `api_version`, another version of this resource whose field names may differ from this
    /// version's (a custom resource converted by a webhook), with that version's schema. The managedFields
    /// entries written in that version give up the fields an update changes as they are named there, as
    /// kube-apiserver's field manager converts the old and new object into each entry's version. `None` (the
    /// default) when every version names fields as this one does; `Some(Err)` when the conversion fails (the
    /// update then keeps no managedFields, as kube-apiserver drops what it cannot compute).
    fn in_version_for_managed_fields(
        &self,
        _obj: &Value,
        _api_version: &str,
    ) -> Option<Result<(Value, SchemaNode<'_>), kapi_core::ApiError>> {
        None
    }

    /// Whether the stored form of every object is its API form: [`read_stored`](Self::read_stored) and
    /// [`prepare_stored`](Self::prepare_stored) (and their `try_` forms) return objects unchanged. The store
    /// then hands the watch cache the encoded form of each of its writes instead of letting it decode and
    /// encode the stored bytes again. `false` is always correct; a type that overrides those conversions must
    /// leave it `false`.
    fn stored_form_is_api_form(&self) -> bool {
        false
    }

    /// A hand-written description of the type's maps and lists. Unused by the registry, which tracks
    /// managedFields and applies by [`schema`](Self::schema); kept for implementations that still provide it.
    fn fields_shape(&self) -> FieldsShape {
        FieldsShape::default()
    }

    /// The type's OpenAPI schema (with `x-kubernetes-*` and patch extensions), which drives strategic merge
    /// patch and server-side apply. The default looks up [`ResourceInfo::openapi_definition`] in the built-in
    /// definitions; a type with its own schema (a custom resource) returns a node over its own definitions.
    fn schema(&self) -> Option<SchemaNode<'_>> {
        let name = self.info().openapi_definition.as_deref()?;
        SchemaNode::definition(Definitions::builtin(), name)
    }

    /// Whether PATCH accepts `application/strategic-merge-patch+json` (415 otherwise, as kube-apiserver answers
    /// for custom resources, whose schemas carry no patch metadata). The default: when the type has a
    /// [`schema`](Self::schema); a custom resource's strategy returns `false` even with a schema.
    fn supports_strategic_merge_patch(&self) -> bool {
        self.schema().is_some()
    }
}

/// `ValidateObjectMeta` on `metadata` plus the built-in finalizer rule.
pub fn validate_metadata(obj: &Value, namespaced: bool, rule: NameRule) -> FieldErrors {
    let path = FieldPath::new("metadata");
    let null = Value::Null;
    let metadata = obj.get("metadata").unwrap_or(&null);
    let mut errors = validate_object_meta(metadata, namespaced, rule, &path);
    errors.append(kapi_core::validation::validate_builtin_finalizers(
        metadata.get("finalizers"),
        &path.child("finalizers"),
    ));
    errors
}

/// `ValidateObjectMetaUpdate` on `metadata`.
pub fn validate_metadata_update(new: &Value, old: &Value) -> FieldErrors {
    let null = Value::Null;
    validate_object_meta_update(
        new.get("metadata").unwrap_or(&null),
        old.get("metadata").unwrap_or(&null),
        &FieldPath::new("metadata"),
    )
}

/// Unknown top-level fields of `obj` given the type's `known` top-level fields (besides apiVersion, kind,
/// metadata), plus unknown `metadata` fields.
pub fn unknown_top_level_fields(obj: &Value, known: &[&str]) -> Vec<String> {
    let mut unknown = Vec::new();
    let Some(map) = obj.as_object() else {
        return unknown;
    };
    for (key, value) in map {
        match key.as_str() {
            "apiVersion" | "kind" => {}
            "metadata" => {
                if let Some(meta) = value.as_object() {
                    unknown.extend(
                        meta.keys()
                            // `initializers` was an ObjectMeta field until 1.14; decoders still accept it.
                            .filter(|k| !crate::store::METADATA_ORDER.contains(&k.as_str()) && *k != "initializers")
                            .map(|k| format!("metadata.{k}")),
                    );
                }
            }
            other if !known.contains(&other) => unknown.push(other.to_owned()),
            _ => {}
        }
    }
    unknown
}
