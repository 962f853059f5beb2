//! The rules for a CRD version's `openAPIV3Schema` (upstream's `validateCustomResourceDefinitionValidation` and
//! `ValidateCustomResourceDefinitionOpenAPISchema`), and the validation of its `default`s.

use kapi_core::{BadValue, FieldError, FieldErrors, FieldPath};
use serde_json::Value;

use crate::{
    listtype, prune,
    schema::{Additional, Node},
    structural, validate,
};

/// JSON keywords in the Go struct's field order, with the Go field names upstream prints.
const GO_FIELDS: [(&str, &str); 44] = [
    ("id", "ID"),
    ("$schema", "Schema"),
    ("$ref", "Ref"),
    ("description", "Description"),
    ("type", "Type"),
    ("format", "Format"),
    ("title", "Title"),
    ("default", "Default"),
    ("maximum", "Maximum"),
    ("exclusiveMaximum", "ExclusiveMaximum"),
    ("minimum", "Minimum"),
    ("exclusiveMinimum", "ExclusiveMinimum"),
    ("maxLength", "MaxLength"),
    ("minLength", "MinLength"),
    ("pattern", "Pattern"),
    ("maxItems", "MaxItems"),
    ("minItems", "MinItems"),
    ("uniqueItems", "UniqueItems"),
    ("multipleOf", "MultipleOf"),
    ("enum", "Enum"),
    ("maxProperties", "MaxProperties"),
    ("minProperties", "MinProperties"),
    ("required", "Required"),
    ("items", "Items"),
    ("allOf", "AllOf"),
    ("oneOf", "OneOf"),
    ("anyOf", "AnyOf"),
    ("not", "Not"),
    ("properties", "Properties"),
    ("additionalProperties", "AdditionalProperties"),
    ("patternProperties", "PatternProperties"),
    ("dependencies", "Dependencies"),
    ("additionalItems", "AdditionalItems"),
    ("definitions", "Definitions"),
    ("externalDocs", "ExternalDocs"),
    ("example", "Example"),
    ("nullable", "Nullable"),
    ("x-kubernetes-preserve-unknown-fields", "XPreserveUnknownFields"),
    ("x-kubernetes-embedded-resource", "XEmbeddedResource"),
    ("x-kubernetes-int-or-string", "XIntOrString"),
    ("x-kubernetes-list-map-keys", "XListMapKeys"),
    ("x-kubernetes-list-type", "XListType"),
    ("x-kubernetes-map-type", "XMapType"),
    ("x-kubernetes-validations", "XValidations"),
];

/// The fields allowed at the root of a schema when the status subresource is enabled.
const ALLOWED_AT_ROOT_WITH_STATUS: [&str; 22] = [
    "Description",
    "Type",
    "Format",
    "Title",
    "Maximum",
    "ExclusiveMaximum",
    "Minimum",
    "ExclusiveMinimum",
    "MaxLength",
    "MinLength",
    "Pattern",
    "MaxItems",
    "MinItems",
    "UniqueItems",
    "MultipleOf",
    "Required",
    "Items",
    "Properties",
    "ExternalDocs",
    "Example",
    "XPreserveUnknownFields",
    "XValidations",
];

const OPENAPI_V3_TYPES: [&str; 6] = ["array", "boolean", "integer", "number", "object", "string"];
const VALIDATION_REASONS: [&str; 4] = [
    "FieldValueDuplicate",
    "FieldValueForbidden",
    "FieldValueInvalid",
    "FieldValueRequired",
];

fn is_zero(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::Bool(flag) => !flag,
        Value::String(text) => text.is_empty(),
        Value::Array(items) => items.is_empty(),
        Value::Object(map) => map.is_empty(),
        Value::Number(_) => false,
    }
}

/// Validates `validation` (`{"openAPIV3Schema": ...}`) found at `path` (`spec.validation` or
/// `spec.versions[i].schema`).
pub(crate) fn validate_validation(
    validation: Option<&Value>,
    status_enabled: bool,
    path: &FieldPath,
    rules: &dyn Fn(&Value, &FieldPath) -> FieldErrors,
) -> FieldErrors {
    let mut errors = FieldErrors::new();
    let Some(schema) = validation
        .and_then(|v| v.get("openAPIV3Schema"))
        .filter(|s| s.is_object())
    else {
        return errors;
    };
    let schema_path = path.child("openAPIV3Schema");
    let root = Node::parse(schema);
    if status_enabled {
        for (keyword, go_name) in GO_FIELDS.iter() {
            let Some(value) = root.raw.get(*keyword).filter(|value| !is_zero(value)) else {
                continue;
            };
            if *go_name == "Type" {
                if value.as_str() != Some("object") {
                    errors.push(FieldError::invalid(
                        &path.child("openAPIV3Schema.type"),
                        BadValue::Unstructured(value.clone()),
                        "only \"object\" is allowed as the type at the root of the schema if the status subresource is enabled",
                    ));
                    break;
                }
                continue;
            }
            if !ALLOWED_AT_ROOT_WITH_STATUS.contains(go_name) {
                errors.push(FieldError::invalid(
                    &schema_path,
                    BadValue::Json(crate::openapi::go_internal_schema(schema)),
                    format!(
                        "only [{}] fields are allowed at the root of the schema if the status subresource is enabled",
                        ALLOWED_AT_ROOT_WITH_STATUS.join(" ")
                    ),
                ));
                break;
            }
        }
    }
    if root.nullable {
        errors.push(FieldError::forbidden(
            &path.child("openAPIV3Schema.nullable"),
            "nullable cannot be true at the root",
        ));
    }
    let structural_errors = structural::validate_structural(&root, &schema_path);
    let mut compile_rules = structural_errors.is_empty();
    if structural_errors.is_empty() {
        let default_errors = validate_defaults(&root, &schema_path);
        compile_rules = default_errors.is_empty();
        errors.append(default_errors);
    } else {
        errors.append(structural_errors);
    }
    let context = Context {
        allow_defaults: true,
        disallow_reason: String::new(),
        inside_resource_meta: false,
    };
    let mut schema_errors = FieldErrors::new();
    walk(&root, &schema_path, &context, true, &mut schema_errors);
    // Upstream compiles CEL rules only for a structural schema with valid defaults and no schema errors, and
    // reports their findings after the schema's.
    compile_rules &= schema_errors.is_empty();
    errors.append(schema_errors);
    if compile_rules {
        errors.append(rules(schema, &schema_path));
    }
    errors
}

#[derive(Clone)]
struct Context {
    allow_defaults: bool,
    disallow_reason: String,
    inside_resource_meta: bool,
}

impl Context {
    fn forbid_defaults(&self, reason: &str) -> Context {
        Context {
            allow_defaults: false,
            disallow_reason: reason.to_owned(),
            ..self.clone()
        }
    }
}

/// The per-node keyword checks (upstream's `specStandardValidatorV3.validate`).
fn keyword_checks(node: &Node, path: &FieldPath, context: &Context, errors: &mut FieldErrors) {
    if !node.type_name.is_empty() && !OPENAPI_V3_TYPES.contains(&node.type_name.as_str()) {
        errors.push(FieldError::not_supported(
            &path.child("type"),
            node.type_name.as_str(),
            &OPENAPI_V3_TYPES,
        ));
    }
    if node.default.is_some() && !context.allow_defaults {
        let mut detail = "must not be set".to_owned();
        if !context.disallow_reason.is_empty() {
            detail.push(' ');
            detail.push_str(&context.disallow_reason);
        }
        errors.push(FieldError::forbidden(&path.child("default"), detail));
    }
    let present = |keyword: &str| node.raw.get(keyword).is_some_and(|value| !is_zero(value));
    if present("id") {
        errors.push(FieldError::forbidden(&path.child("id"), "id is not supported"));
    }
    if node.raw.get("additionalItems").is_some_and(|v| !v.is_null()) {
        errors.push(FieldError::forbidden(
            &path.child("additionalItems"),
            "additionalItems is not supported",
        ));
    }
    if present("patternProperties") {
        errors.push(FieldError::forbidden(
            &path.child("patternProperties"),
            "patternProperties is not supported",
        ));
    }
    if present("definitions") {
        errors.push(FieldError::forbidden(
            &path.child("definitions"),
            "definitions is not supported",
        ));
    }
    if node.raw.get("dependencies").is_some_and(|v| !v.is_null()) {
        errors.push(FieldError::forbidden(
            &path.child("dependencies"),
            "dependencies is not supported",
        ));
    }
    if node.raw.get("$ref").is_some_and(|v| !v.is_null()) {
        errors.push(FieldError::forbidden(&path.child("$ref"), "$ref is not supported"));
    }
    if node.type_name == "null" {
        errors.push(FieldError::forbidden(
            &path.child("type"),
            "type cannot be set to null, use nullable as an alternative",
        ));
    }
    if node.items_is_array
        && node
            .raw
            .get("items")
            .and_then(Value::as_array)
            .is_some_and(|items| !items.is_empty())
    {
        errors.push(FieldError::forbidden(
            &path.child("items"),
            "items must be a schema object and not an array",
        ));
    }
    if context.inside_resource_meta && node.embedded_resource {
        errors.push(FieldError::forbidden(
            &path.child("x-kubernetes-embedded-resource"),
            "must not be used inside of resource meta",
        ));
    }
}

const META_FIELDS: [&str; 3] = ["metadata", "kind", "apiVersion"];

fn walk(node: &Node, path: &FieldPath, context: &Context, is_root: bool, errors: &mut FieldErrors) {
    keyword_checks(node, path, context, errors);
    if node.unique_items {
        errors.push(FieldError::forbidden(
            &path.child("uniqueItems"),
            "uniqueItems cannot be set to true since the runtime complexity becomes quadratic",
        ));
    }
    if let Some(additional) = &node.additional_properties {
        if !node.properties.is_empty() && !matches!(additional, Additional::Allows(true)) {
            errors.push(FieldError::forbidden(
                &path.child("additionalProperties"),
                "additionalProperties and properties are mutual exclusive",
            ));
        }
        if let Additional::Schema(schema) = additional {
            let sub = if context.inside_resource_meta {
                context.forbid_defaults("inside additionalProperties applying to object metadata")
            } else {
                context.clone()
            };
            walk(schema, &path.child("additionalProperties"), &sub, false, errors);
        }
    }
    for (name, property) in &node.properties {
        let mut sub = context.clone();
        if (is_root || node.embedded_resource) && META_FIELDS.contains(&name.as_str()) {
            sub.inside_resource_meta = true;
            if is_root {
                sub = sub.forbid_defaults(&format!("in top-level {name}"));
            }
        }
        walk(property, &path.child("properties").key(name), &sub, false, errors);
    }
    if let Some(not) = &node.not {
        walk(not, &path.child("not"), context, false, errors);
    }
    for (keyword, juncts) in [
        ("allOf", &node.all_of),
        ("oneOf", &node.one_of),
        ("anyOf", &node.any_of),
    ] {
        for (index, junct) in juncts.iter().enumerate() {
            walk(junct, &path.child(keyword).index(index), context, false, errors);
        }
    }
    if let Some(items) = &node.items {
        walk(items, &path.child("items"), context, false, errors);
    }
    extension_checks(node, path, errors);
    validation_rule_checks(node, path, errors);
}

fn extension_checks(node: &Node, path: &FieldPath, errors: &mut FieldErrors) {
    if node.preserve_unknown_fields == Some(false) {
        errors.push(FieldError::invalid(
            &path.child("x-kubernetes-preserve-unknown-fields"),
            false,
            "must be true or undefined",
        ));
    }
    let type_must_be = |errors: &mut FieldErrors, wanted: &str, detail: &str| {
        if node.type_name.is_empty() {
            errors.push(FieldError::required(&path.child("type"), detail));
        } else if node.type_name != wanted {
            errors.push(FieldError::invalid(
                &path.child("type"),
                node.type_name.as_str(),
                detail,
            ));
        }
    };
    if let Some(map_type) = &node.map_type {
        type_must_be(errors, "object", "must be object if x-kubernetes-map-type is specified");
        if map_type != "atomic" && map_type != "granular" {
            errors.push(FieldError::not_supported(
                &path.child("x-kubernetes-map-type"),
                map_type.as_str(),
                &["atomic", "granular"],
            ));
        }
    }
    if let Some(list_type) = &node.list_type {
        if node.type_name != "array" {
            type_must_be(errors, "array", "must be array if x-kubernetes-list-type is specified");
        } else if list_type == "set" {
            if let Some(items) = &node.items {
                let atomic_list =
                    items.type_name == "array" && items.list_type.as_deref().is_some_and(|t| t != "atomic");
                let atomic_map = items.type_name == "object" && items.map_type.as_deref() != Some("atomic");
                if atomic_list {
                    errors.push(FieldError::invalid(
                        &path.child("items").child("x-kubernetes-list-type"),
                        BadValue::Unstructured(Value::from(items.list_type.clone())),
                        "must be atomic as item of a list with x-kubernetes-list-type=set",
                    ));
                } else if atomic_map {
                    errors.push(FieldError::invalid(
                        &path.child("items").child("x-kubernetes-map-type"),
                        BadValue::Unstructured(Value::from(items.list_type.clone())),
                        "must be atomic as item of a list with x-kubernetes-list-type=set",
                    ));
                }
            }
        }
        if !matches!(list_type.as_str(), "atomic" | "set" | "map") {
            errors.push(FieldError::not_supported(
                &path.child("x-kubernetes-list-type"),
                list_type.as_str(),
                &["atomic", "set", "map"],
            ));
        }
    }
    let keys_json = || BadValue::Json(Value::from(node.list_map_keys.clone()));
    if !node.list_map_keys.is_empty() {
        match node.list_type.as_deref() {
            None => errors.push(FieldError::required(
                &path.child("x-kubernetes-list-type"),
                "must be map if x-kubernetes-list-map-keys is non-empty",
            )),
            Some("map") => {}
            Some(other) => errors.push(FieldError::invalid(
                &path.child("x-kubernetes-list-type"),
                other,
                "must be map if x-kubernetes-list-map-keys is non-empty",
            )),
        }
    }
    if node.list_type.as_deref() == Some("map") {
        if node.list_map_keys.is_empty() {
            errors.push(FieldError::required(
                &path.child("x-kubernetes-list-map-keys"),
                "must not be empty if x-kubernetes-list-type is map",
            ));
        }
        match &node.items {
            None => errors.push(FieldError::required(
                &path.child("items"),
                "must have a schema if x-kubernetes-list-type is map",
            )),
            Some(items) if items.type_name != "object" => errors.push(FieldError::invalid(
                &path.child("items").child("type"),
                items.type_name.as_str(),
                "must be object if parent array's x-kubernetes-list-type is map",
            )),
            Some(items) => {
                let mut seen: Vec<&str> = Vec::new();
                for key in &node.list_map_keys {
                    match items.properties.get(key) {
                        Some(property) if matches!(property.type_name.as_str(), "array" | "object") => {
                            errors.push(FieldError::invalid(
                                &path.child("items").child("properties").key(key).child("type"),
                                items.type_name.as_str(),
                                "must be a scalar type if parent array's x-kubernetes-list-type is map",
                            ));
                        }
                        Some(_) => {}
                        None => errors.push(FieldError::invalid(
                            &path.child("x-kubernetes-list-map-keys"),
                            keys_json(),
                            "entries must all be names of item properties",
                        )),
                    }
                    if seen.contains(&key.as_str()) {
                        errors.push(FieldError::invalid(
                            &path.child("x-kubernetes-list-map-keys"),
                            keys_json(),
                            "must not contain duplicate entries",
                        ));
                    }
                    seen.push(key);
                }
            }
        }
    }
    map_list_keys_and_sets(node, path, errors);
}

/// Set and map list items may not be nullable; map keys must be required or defaulted, and not nullable.
fn map_list_keys_and_sets(node: &Node, path: &FieldPath, errors: &mut FieldErrors) {
    let (Some(items), Some(list_type)) = (&node.items, node.list_type.as_deref()) else {
        return;
    };
    if list_type != "set" && list_type != "map" {
        return;
    }
    if items.nullable {
        errors.push(FieldError::forbidden(
            &path.child("items").child("nullable"),
            format!("cannot be nullable when x-kubernetes-list-type is {list_type}"),
        ));
    }
    if list_type != "map" {
        return;
    }
    for key in &node.list_map_keys {
        let Some(property) = items.properties.get(key) else {
            continue;
        };
        let key_path = path.child("items").child("properties").key(key);
        if !items.required.contains(key) && property.default.is_none() {
            errors.push(FieldError::required(
                &key_path.child("default"),
                "this property is in x-kubernetes-list-map-keys, so it must have a default or be a required property",
            ));
        }
        if property.nullable {
            errors.push(FieldError::forbidden(
                &key_path.child("nullable"),
                "this property is in x-kubernetes-list-map-keys, so it cannot be nullable",
            ));
        }
    }
}

/// The static checks of `x-kubernetes-validations` entries; compiling the rules is the CEL engine's part.
fn validation_rule_checks(node: &Node, path: &FieldPath, errors: &mut FieldErrors) {
    let has_newlines = |text: &str| text.contains(['\n', '\r']);
    for (index, rule) in node.validations.iter().enumerate() {
        let rule_path = path.child("x-kubernetes-validations").index(index);
        let text = |key: &str| rule.get(key).and_then(Value::as_str).unwrap_or_default();
        let (expression, message, message_expression) = (text("rule"), text("message"), text("messageExpression"));
        if expression.trim().is_empty() {
            errors.push(FieldError::required(&rule_path.child("rule"), "rule is not specified"));
        } else if !message.is_empty() && message.trim().is_empty() {
            errors.push(FieldError::invalid(
                &rule_path.child("message"),
                message,
                "message must be non-empty if specified",
            ));
        } else if has_newlines(message.trim()) {
            errors.push(FieldError::invalid(
                &rule_path.child("message"),
                message,
                "message must not contain line breaks",
            ));
        } else if has_newlines(expression.trim()) && message.trim().is_empty() {
            errors.push(FieldError::required(
                &rule_path.child("message"),
                "message must be specified if rule contains line breaks",
            ));
        }
        if !message_expression.is_empty() && message_expression.trim().is_empty() {
            errors.push(FieldError::required(
                &rule_path.child("messageExpression"),
                "messageExpression must be non-empty if specified",
            ));
        }
        if let Some(reason) = rule.get("reason").and_then(Value::as_str) {
            if !VALIDATION_REASONS.contains(&reason) {
                errors.push(FieldError::not_supported(
                    &rule_path.child("reason"),
                    reason,
                    &VALIDATION_REASONS,
                ));
            }
        }
        let field_path = text("fieldPath");
        if !field_path.is_empty() && field_path.trim().is_empty() {
            errors.push(FieldError::invalid(
                &rule_path.child("fieldPath"),
                field_path,
                "fieldPath must be non-empty if specified",
            ));
        }
        if has_newlines(field_path) {
            errors.push(FieldError::invalid(
                &rule_path.child("fieldPath"),
                field_path,
                "fieldPath must not contain line breaks",
            ));
        }
        if !field_path.is_empty() && resolve_field_path(node, field_path).is_err() {
            errors.push(FieldError::invalid(
                &rule_path.child("fieldPath"),
                field_path,
                "fieldPath must be a valid path",
            ));
        }
    }
}

/// Resolves a field path (`.spec.replicas`, `.spec['x-y']`, `.items[0]`) against a schema: the property names
/// and the schema it reaches.
pub(crate) fn resolve_field_path<'a>(root: &'a Node, path: &str) -> Result<(Vec<String>, &'a Node), String> {
    let mut node = root;
    let mut names = Vec::new();
    let mut rest = path.trim();
    if rest.is_empty() {
        return Err("must not be empty".to_owned());
    }
    while !rest.is_empty() {
        let name;
        if let Some(after) = rest.strip_prefix('.') {
            let end = after.find(['.', '[']).unwrap_or(after.len());
            name = after[..end].to_owned();
            rest = &after[end..];
            if name.is_empty() {
                return Err(format!("expected a field name in {path:?}"));
            }
        } else if let Some(after) = rest.strip_prefix("['") {
            let Some(end) = after.find("']") else {
                return Err(format!("unterminated quoted field name in {path:?}"));
            };
            name = after[..end].to_owned();
            rest = &after[end + 2..];
        } else if let Some(after) = rest.strip_prefix('[') {
            let Some(end) = after.find(']') else {
                return Err(format!("unterminated index in {path:?}"));
            };
            rest = &after[end + 1..];
            node = node
                .items
                .as_deref()
                .ok_or_else(|| format!("{path:?} indexes a field that is not a list"))?;
            continue;
        } else {
            return Err(format!("expected [ or . at {rest:?}"));
        }
        node = match node.properties.get(&name) {
            Some(property) => property,
            None => node
                .additional_schema()
                .ok_or_else(|| format!("does not refer to a valid field: {name}"))?,
        };
        names.push(name);
    }
    Ok((names, node))
}

/// Every `default` must validate against its schema, be pruned, and keep list-type invariants (upstream's
/// `ValidateDefaults`); errors point at `<schema path>.default`.
fn validate_defaults(node: &Node, path: &FieldPath) -> FieldErrors {
    let mut errors = FieldErrors::new();
    if let Some(default) = &node.default {
        let default_path = path.child("default");
        let mut pruned = default.clone();
        prune::prune(&mut pruned, node, node.embedded_resource);
        if &pruned != default {
            errors.push(FieldError::invalid(
                &default_path,
                BadValue::Unstructured(default.clone()),
                "must not have unknown fields",
            ));
        }
        if node.embedded_resource {
            errors.append(crate::embedded::validate(default, node, &default_path));
        }
        errors.append(validate::validate_value(node, default, None, &default_path));
        errors.append(listtype::validate_any(default, node, &default_path));
    }
    for (name, property) in &node.properties {
        errors.append(validate_defaults(property, &path.child("properties").key(name)));
    }
    if let Some(additional) = node.additional_schema() {
        errors.append(validate_defaults(additional, &path.child("additionalProperties")));
    }
    if let Some(items) = &node.items {
        errors.append(validate_defaults(items, &path.child("items")));
    }
    errors
}
