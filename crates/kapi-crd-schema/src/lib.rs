//! kapi's CustomResourceDefinition logic without IO: what kube-apiserver's apiextensions-apiserver decides about a
//! CRD object and about the custom resources its schemas describe, with the same field paths and messages.
//!
//! - [`validate_crd`] (or [`validate_crd_with_rules`] with the CEL engine) / [`validate_crd_status_update`] / [`default_crd`] / [`prepare_crd_for_create`] /
//!   [`prepare_crd_for_update`]: the CRD object itself (names, group, scope,
//!   versions, per-version schemas with the structural-schema rules and defaults, subresources, printer columns,
//!   selectable fields, conversion); [`stored_crd_form`] and [`stored_schema_form`] are a CRD and a schema as
//!   kube-apiserver returns them once stored.
//! - [`Structural`]: one version's `openAPIV3Schema`, compiled for serving custom resources: [`Structural::prune`],
//!   [`Structural::apply_defaults`], [`Structural::validate`] (and [`Structural::validate_schema_update`] with
//!   ratcheting), and the published OpenAPI forms ([`Structural::openapi_v3`], [`Structural::openapi_v2`],
//!   [`openapi_definitions`] for the `/openapi/v3` and `/openapi/v2` entries of a kind and its list).
//! - [`validate_scale`] and [`blocking_error`]: the pieces of the custom-resource strategy that sit between schema
//!   validation and CEL.
//!
//! The order kube-apiserver applies them to a custom resource on create or update: decoding runs
//! [`Structural::prune`] (whose removed paths become `fieldValidation` warnings or Strict errors) and then
//! [`Structural::apply_defaults`] (the same two steps run whenever a stored object is read); then come ObjectMeta
//! validation, [`Structural::validate_schema`],
//! [`validate_scale`], [`Structural::validate_embedded_resources`], [`Structural::validate_list_types`] and,
//! unless [`blocking_error`] says otherwise, CEL rules. [`Structural::validate`] runs the three schema-driven
//! steps in that order.
//!
//! Map iteration in upstream is Go's random map order; wherever upstream's output order depends on it, this crate
//! uses the sorted order of property names.

mod crd;
mod defaults;
mod embedded;
mod formats;
mod gofmt;
mod lazy_path;
mod listtype;
mod openapi;
mod prune;
mod scale;
mod schema;
mod structural;
mod validate;

use kapi_core::{FieldError, FieldErrorType, FieldErrors, FieldPath};
use serde_json::Value;

use crate::schema::Node;
pub use crate::{
    crd::{
        default_crd, prepare_crd_for_create, prepare_crd_for_update, stored_crd_form, validate_crd,
        validate_crd_status_update, validate_crd_with_rules,
    },
    scale::validate_scale,
};

/// A version's `openAPIV3Schema` compiled for serving custom resources.
#[derive(Debug, Clone)]
pub struct Structural {
    root: Node,
    schema: Value,
}

impl Structural {
    /// Compiles a schema. Fails with the structural-schema violations (paths relative to the schema, e.g.
    /// `properties[spec].type`) when the schema is not structural or not an object; a CRD that passed
    /// [`validate_crd`] always compiles.
    pub fn from_schema(open_api_v3_schema: &Value) -> Result<Structural, FieldErrors> {
        if !open_api_v3_schema.is_object() {
            return Err(FieldError::invalid(&FieldPath::nil(), "", "the schema must be an object").into());
        }
        let root = Node::parse(open_api_v3_schema);
        let errors = structural::validate_structural(&root, &FieldPath::nil());
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(Structural {
            root,
            schema: open_api_v3_schema.clone(),
        })
    }

    /// The schema as given.
    pub fn schema(&self) -> &Value {
        &self.schema
    }

    /// The compiled schema of a root property (`status` for the status subresource), if the schema names it.
    pub fn property(&self, name: &str) -> Option<Structural> {
        let node = self.root.properties.get(name)?;
        Some(Structural {
            root: node.clone(),
            schema: Value::Object(node.raw.clone()),
        })
    }

    /// Removes fields the schema does not know (respecting `x-kubernetes-preserve-unknown-fields`, and keeping
    /// `apiVersion`, `kind` and `metadata` of the root and of `x-kubernetes-embedded-resource` objects), then
    /// non-nullable `null`s that have no default, then the fields ObjectMeta does not know from those metadata
    /// objects. Returns the removed fields' paths as `fieldValidation=Strict|Warn` reports them: the schema's
    /// (sorted) followed by metadata's (sorted), e.g. `spec.foo`, `spec.items[0].bar`, `metadata.foo` (see
    /// [`unknown_field_message`]).
    pub fn prune(&self, obj: &mut Value) -> Vec<String> {
        let mut removed = prune::prune(obj, &self.root, true);
        prune::prune_non_nullable_nulls(obj, &self.root);
        removed.extend(prune::coerce_object_meta(obj, &self.root));
        removed
    }

    /// The removals of [`prune`](Self::prune) that are reported (unknown fields, also from metadata), with the
    /// same report; non-nullable `null`s stay (defaulting and [`prune`](Self::prune) deal with them). For a
    /// write's `fieldValidation`, without pruning a copy.
    pub fn prune_unknown(&self, obj: &mut Value) -> Vec<String> {
        // prune's removal of nulls in between changes nothing coerce_object_meta reports: it only looks into
        // objects, and a removed null is none.
        let mut removed = prune::prune(obj, &self.root, true);
        removed.extend(prune::coerce_object_meta(obj, &self.root));
        removed
    }

    /// Applies `default`s as upstream: a missing field, or a `null` where the schema does not allow null, takes
    /// its default, also inside list items and map values; defaulted objects get their own properties' defaults.
    /// Runs on create and update and whenever an object is read from storage.
    pub fn apply_defaults(&self, obj: &mut Value) {
        defaults::apply(obj, &self.root);
    }

    /// The schema-driven validation of a custom resource: [`validate_schema`](Self::validate_schema), then
    /// [`validate_embedded_resources`](Self::validate_embedded_resources), then
    /// [`validate_list_types`](Self::validate_list_types).
    pub fn validate(&self, obj: &Value) -> FieldErrors {
        let mut errors = self.validate_schema(obj);
        errors.append(self.validate_embedded_resources(obj));
        errors.append(self.validate_list_types(obj));
        errors
    }

    /// OpenAPI validation of a whole custom resource (types, formats, enum, bounds, lengths, pattern, item and
    /// property counts, required, nullable, items, additionalProperties, allOf/anyOf/oneOf/not,
    /// `x-kubernetes-int-or-string`) with upstream's paths, cause types and messages
    /// (`spec.size: Invalid value: 1000: spec.size in body should be less than or equal to 100`).
    pub fn validate_schema(&self, obj: &Value) -> FieldErrors {
        validate::validate_value(&self.root, obj, None, &FieldPath::nil())
    }

    /// OpenAPI validation of a value with this schema, reported below `path`; the status subresource validates
    /// `obj["status"]` with `property("status")` at path `status` (messages then name the field relative to
    /// status: `status.phase: Invalid value: "integer": phase in body must be of type string: "integer"`).
    pub fn validate_schema_at(&self, path: &FieldPath, value: &Value) -> FieldErrors {
        validate::validate_value(&self.root, value, None, path)
    }

    /// [`validate_schema`](Self::validate_schema) for an update, with upstream's validation ratcheting
    /// (`CRDValidationRatcheting`, on by default): a value equal to its counterpart in `old` (same property, same
    /// key of an `x-kubernetes-list-type: map` list, same element of a set) is not validated again, so objects
    /// stored before a schema got stricter can still be updated elsewhere. Errors of a changed value (including
    /// its missing required fields) stay.
    pub fn validate_schema_update(&self, obj: &Value, old: &Value) -> FieldErrors {
        validate::validate_value(&self.root, obj, Some(old), &FieldPath::nil())
    }

    /// [`validate_schema_at`](Self::validate_schema_at) for an update, with ratcheting against `old`.
    pub fn validate_schema_update_at(&self, path: &FieldPath, value: &Value, old: &Value) -> FieldErrors {
        validate::validate_value(&self.root, value, Some(old), path)
    }

    /// Checks the `x-kubernetes-embedded-resource` objects inside `obj`: `apiVersion` and `kind` present and
    /// well-formed, `metadata` a valid ObjectMeta.
    pub fn validate_embedded_resources(&self, obj: &Value) -> FieldErrors {
        embedded::validate(obj, &self.root, &FieldPath::nil())
    }

    /// Checks `x-kubernetes-list-type: set|map` uniqueness (`spec.tags[1]: Duplicate value: "x"`).
    pub fn validate_list_types(&self, obj: &Value) -> FieldErrors {
        listtype::validate(obj, &self.root, &FieldPath::nil())
    }

    /// The definition of the custom resource's kind as kube publishes it in `/openapi/v3` (kube-openapi's field
    /// order, properties sorted, `x-kubernetes-*` extensions kept and sorted, `x-kubernetes-int-or-string` spelled
    /// out as `anyOf: [integer, string]`, and `apiVersion`, `kind` and a `metadata` reference to ObjectMeta added,
    /// also inside `x-kubernetes-embedded-resource` objects). [`openapi_definitions`] adds the
    /// group-version-kind and selectable-field extensions and the list kind.
    pub fn openapi_v3(&self) -> Value {
        openapi::kind_definition(&self.schema, false)
    }

    /// The OpenAPI v2 form of [`openapi_v3`](Self::openapi_v3) (`/openapi/v2` `definitions`): without `default`,
    /// `allOf`/`anyOf`/`oneOf`/`not`, untyped where the schema is nullable or preserves unknown fields (as
    /// upstream publishes it for kubectl), and `{"type": "object"}` when the root preserves unknown fields.
    pub fn openapi_v2(&self) -> Value {
        openapi::kind_definition(&self.schema, true)
    }
}

/// What the published OpenAPI definitions of a custom resource name: its group, version, kinds, plural and the
/// selectable fields of the version.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PublishedKind {
    /// The API group (`corpus.example.com`).
    pub group: String,
    /// The version (`v1`).
    pub version: String,
    /// The kind (`Widget`).
    pub kind: String,
    /// The list kind (`WidgetList`).
    pub list_kind: String,
    /// The plural resource name (`widgets`).
    pub plural: String,
    /// The version's `selectableFields[*].jsonPath` values as written (`.spec.color`).
    pub selectable_fields: Vec<String>,
}

/// The definition name kube gives a custom resource kind: the group reversed, then version and kind
/// (`com.example.corpus.v1.Widget`).
pub fn definition_name(group: &str, version: &str, kind: &str) -> String {
    let mut parts: Vec<&str> = group.split('.').filter(|part| !part.is_empty()).collect();
    parts.reverse();
    parts.push(version);
    parts.push(kind);
    parts.join(".")
}

/// The `/openapi/v3` `components.schemas` (or, with `v2`, `/openapi/v2` `definitions`) entries of one custom
/// resource version: the kind and its list, by definition name, each with `x-kubernetes-group-version-kind` and
/// (when the version has selectable fields) `x-kubernetes-selectable-fields`. `schema` is `None` for a version
/// without a schema, which publishes `{"type": "object"}`.
pub fn openapi_definitions(schema: Option<&Structural>, kind: &PublishedKind, v2: bool) -> Vec<(String, Value)> {
    let kind_name = definition_name(&kind.group, &kind.version, &kind.kind);
    let list_name = definition_name(&kind.group, &kind.version, &kind.list_kind);
    let kind_definition = match schema {
        Some(schema) if v2 => schema.openapi_v2(),
        Some(schema) => schema.openapi_v3(),
        None => serde_json::json!({"type": "object"}),
    };
    let list_definition = openapi::list_definition(&kind_name, &kind.kind, &kind.list_kind, &kind.plural, v2);
    let selectable: Vec<Value> = kind
        .selectable_fields
        .iter()
        .map(|path| serde_json::json!({"fieldPath": path.trim_start_matches('.')}))
        .collect();
    let decorate = |mut definition: Value, published_kind: &str| {
        if let Some(map) = definition.as_object_mut() {
            map.insert(
                "x-kubernetes-group-version-kind".to_owned(),
                serde_json::json!([{"group": kind.group, "kind": published_kind, "version": kind.version}]),
            );
            if !selectable.is_empty() {
                map.insert(
                    "x-kubernetes-selectable-fields".to_owned(),
                    Value::Array(selectable.clone()),
                );
            }
            let mut extensions: Vec<(String, Value)> = Vec::new();
            let keys: Vec<String> = map.keys().filter(|key| key.starts_with("x-")).cloned().collect();
            for key in keys {
                if let Some(value) = map.shift_remove(&key) {
                    extensions.push((key, value));
                }
            }
            extensions.sort_by(|left, right| left.0.cmp(&right.0));
            map.extend(extensions);
        }
        definition
    };
    vec![
        (kind_name.clone(), decorate(kind_definition, &kind.kind)),
        (list_name, decorate(list_definition, &kind.list_kind)),
    ]
}

/// A schema as kube-apiserver stores and returns it in a CRD: Go's `JSONSchemaProps` field order, empty values
/// omitted, properties sorted, integral numbers without a fraction, unknown keywords dropped.
pub fn stored_schema_form(open_api_v3_schema: &Value) -> Value {
    openapi::stored_form(open_api_v3_schema)
}

/// Sorts the keys of every object inside `obj`, as Go encodes a custom resource (an unstructured map): kube-apiserver
/// returns custom resources with all keys in sorted order, whatever order they were sent in.
pub fn sort_keys_like_go(obj: &mut Value) {
    match obj {
        Value::Object(map) => {
            map.sort_keys();
            for value in map.values_mut() {
                sort_keys_like_go(value);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(sort_keys_like_go),
        _ => {}
    }
}

/// The warning text (and Strict error item) for a pruned field: `unknown field "spec.foo"`.
pub fn unknown_field_message(path: &str) -> String {
    format!("unknown field {}", gofmt::quote(path))
}

/// The error upstream appends instead of running CEL rules when the schema validation already found a blocking
/// problem (a wrong type, a missing required field, an unsupported enum value, a too long string, too many items):
/// `<nil>: Invalid value: null: some validation rules were not checked because the object was invalid; correct
/// the existing errors to complete validation`. `None` when CEL should run.
pub fn blocking_error(errors: &FieldErrors) -> Option<FieldError> {
    let blocking = errors.iter().any(|error| {
        matches!(
            error.error_type,
            FieldErrorType::NotSupported
                | FieldErrorType::Required
                | FieldErrorType::TooLong
                | FieldErrorType::TooMany
                | FieldErrorType::TypeInvalid
        )
    });
    blocking.then(|| {
        FieldError::invalid(
            &FieldPath::nil(),
            Value::Null,
            "some validation rules were not checked because the object was invalid; correct the existing errors to complete validation",
        )
    })
}

#[cfg(test)]
mod prune_unknown_tests {
    use serde_json::json;

    use super::Structural;

    #[test]
    fn prune_unknown_reports_as_prune_and_keeps_nulls_for_defaulting() {
        let schema = json!({"type": "object", "properties": {
            "spec": {"type": "object", "properties": {
                "size": {"type": "integer"},
                "gone": {"type": "string"},
                "labels": {"type": "object", "additionalProperties": {"type": "object", "properties": {
                    "known": {"type": "string"}}}},
                "embedded": {"type": "object", "x-kubernetes-embedded-resource": true,
                             "x-kubernetes-preserve-unknown-fields": true},
            }},
        }});
        let structural = Structural::from_schema(&schema).expect("structural");
        let object = json!({
            "apiVersion": "v1", "kind": "Widget",
            "metadata": {"name": "w", "bogus": 1},
            "spec": {"size": 1, "gone": null, "extra": true, "a.b": 1,
                     "labels": {"x.y": {"known": "k", "unknown": 2}},
                     "embedded": {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "odd": 1}}},
            "top": 1,
        });
        let mut pruned = object.clone();
        let reported = structural.prune(&mut pruned);
        let mut taken = object.clone();
        assert_eq!(structural.prune_unknown(&mut taken), reported);
        // The non-nullable null stays for defaulting (prune removes it); all else is as prune leaves it.
        assert!(taken["spec"]["gone"].is_null());
        taken["spec"].as_object_mut().expect("spec").shift_remove("gone");
        assert_eq!(taken, pruned);
    }
}
