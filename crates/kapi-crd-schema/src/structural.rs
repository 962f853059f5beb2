//! The structural-schema rules (upstream's `ValidateStructural`): every field has a type outside of value
//! validation (`allOf`/`anyOf`/`oneOf`/`not`), junctors carry no types, defaults, descriptions or extensions,
//! `metadata` at the root restricts only `name` and `generateName`, and the extensions are consistent.

use kapi_core::{FieldError, FieldErrors, FieldPath};
use serde_json::{json, Value};

use crate::schema::{Additional, Node};

#[derive(Clone, Copy, PartialEq, Eq)]
enum Level {
    Root,
    Item,
    Field,
}

/// All structural-schema violations of `node` (the root schema at `path`), sorted by their text as upstream
/// sorts them.
pub(crate) fn validate_structural(node: &Node, path: &FieldPath) -> FieldErrors {
    let mut errors = Vec::new();
    invariants(node, Level::Root, path, &mut errors);
    completeness_of_junctors(node, node, path, path, &mut errors);
    errors.sort_by_key(|error: &FieldError| error.to_string());
    errors.into()
}

fn invariants(node: &Node, level: Level, path: &FieldPath, errors: &mut Vec<FieldError>) {
    if node.type_name == "array" && node.items.is_none() {
        errors.push(FieldError::required(&path.child("items"), "must be specified"));
    }
    if let Some(items) = &node.items {
        invariants(items, Level::Item, &path.child("items"), errors);
    }
    for (name, property) in &node.properties {
        invariants(property, Level::Field, &path.child("properties").key(name), errors);
    }
    if node.additional_properties.is_some() && level == Level::Root {
        errors.push(FieldError::forbidden(
            &path.child("additionalProperties"),
            "must not be used at the root",
        ));
    }
    if let Some(Additional::Schema(schema)) = &node.additional_properties {
        invariants(schema, Level::Field, &path.child("additionalProperties"), errors);
    }
    if node.int_or_string && node.preserves_unknown() {
        errors.push(FieldError::invalid(
            &path.child("x-kubernetes-preserve-unknown-fields"),
            true,
            "must be false if x-kubernetes-int-or-string is true",
        ));
    }
    if node.int_or_string && node.embedded_resource {
        errors.push(FieldError::invalid(
            &path.child("x-kubernetes-embedded-resource"),
            true,
            "must be false if x-kubernetes-int-or-string is true",
        ));
    }
    let skip_any_of = is_int_or_string_any_of(&node.any_of);
    let skip_first_all_of_any_of = node
        .all_of
        .first()
        .is_some_and(|first| is_int_or_string_any_of(&first.any_of));
    value_validation(node, skip_any_of, skip_first_all_of_any_of, level, path, errors);

    let check_metadata = level == Level::Root || node.embedded_resource;
    if node.embedded_resource && node.type_name != "object" {
        let detail = "must be object if x-kubernetes-embedded-resource is true";
        if node.type_name.is_empty() {
            errors.push(FieldError::required(&path.child("type"), detail));
        } else {
            errors.push(FieldError::invalid(
                &path.child("type"),
                node.type_name.as_str(),
                detail,
            ));
        }
    } else if node.type_name.is_empty() && !node.int_or_string && !node.preserves_unknown() {
        let detail = match level {
            Level::Root => "must not be empty at the root",
            Level::Item => "must not be empty for specified array items",
            Level::Field => "must not be empty for specified object fields",
        };
        errors.push(FieldError::required(&path.child("type"), detail));
    }
    if node.embedded_resource && node.additional_properties.is_some() {
        errors.push(FieldError::forbidden(
            &path.child("additionalProperties"),
            "must not be used if x-kubernetes-embedded-resource is set",
        ));
    }
    if level == Level::Root && !node.type_name.is_empty() && node.type_name != "object" {
        errors.push(FieldError::invalid(
            &path.child("type"),
            node.type_name.as_str(),
            "must be object at the root",
        ));
    }
    if check_metadata {
        for (name, expected) in [("kind", "string"), ("apiVersion", "string"), ("metadata", "object")] {
            if let Some(property) = node.properties.get(name) {
                if property.type_name != expected {
                    errors.push(FieldError::invalid(
                        &path.child("properties").key(name).child("type"),
                        property.type_name.as_str(),
                        format!("must be {expected}"),
                    ));
                }
            }
        }
    }
    if level == Level::Root {
        if let Some(metadata) = node.properties.get("metadata") {
            if !metadata_restricts_only_names(metadata) {
                errors.push(FieldError::forbidden(
                    &path.child("properties").key("metadata"),
                    "must not specify anything other than name and generateName, but metadata is implicitly specified",
                ));
            }
        }
    }
    if node.embedded_resource && !node.preserves_unknown() && node.properties.is_empty() {
        errors.push(FieldError::required(
            &path.child("properties"),
            "must not be empty if x-kubernetes-embedded-resource is true without x-kubernetes-preserve-unknown-fields",
        ));
    }
}

/// Upstream clears `type` and `default` of the root's metadata schema and drops its properties when they are only
/// `name` and/or `generateName`; anything left over is a restriction of metadata it refuses.
fn metadata_restricts_only_names(metadata: &Node) -> bool {
    metadata.raw.iter().all(|(keyword, value)| match keyword.as_str() {
        "type" | "default" => true,
        "properties" => value
            .as_object()
            .is_some_and(|props| props.keys().all(|name| name == "name" || name == "generateName")),
        "nullable"
        | "uniqueItems"
        | "exclusiveMaximum"
        | "exclusiveMinimum"
        | "x-kubernetes-embedded-resource"
        | "x-kubernetes-int-or-string" => value == &Value::Bool(false),
        _ => false,
    })
}

fn is_int_or_string_any_of(any_of: &[Node]) -> bool {
    any_of.len() == 2
        && Value::Object(any_of[0].raw.clone()) == json!({"type": "integer"})
        && Value::Object(any_of[1].raw.clone()) == json!({"type": "string"})
}

/// The value validation of a node: its junctors (each a nested value validation) and its pattern.
fn value_validation(
    node: &Node,
    skip_any_of: bool,
    skip_first_all_of_any_of: bool,
    level: Level,
    path: &FieldPath,
    errors: &mut Vec<FieldError>,
) {
    if !skip_any_of {
        for (index, junct) in node.any_of.iter().enumerate() {
            nested(junct, false, level, &path.child("anyOf").index(index), errors);
        }
    }
    for (index, junct) in node.all_of.iter().enumerate() {
        let skip = skip_first_all_of_any_of && index == 0;
        nested(junct, skip, level, &path.child("allOf").index(index), errors);
    }
    for (index, junct) in node.one_of.iter().enumerate() {
        nested(junct, false, level, &path.child("oneOf").index(index), errors);
    }
    if let Some(not) = &node.not {
        nested(not, false, level, &path.child("not"), errors);
    }
    if let (Some(pattern), Some(Err(problem))) = (&node.pattern, &node.pattern_regex) {
        errors.push(FieldError::invalid(
            &path.child("pattern"),
            pattern.as_str(),
            format!("must be a valid regular expression, but isn't: {problem}"),
        ));
    }
}

/// A schema below a junctor: only value validations are allowed there.
fn nested(node: &Node, skip_any_of: bool, level: Level, path: &FieldPath, errors: &mut Vec<FieldError>) {
    value_validation(node, skip_any_of, false, level, path, errors);
    if let Some(items) = &node.items {
        nested(items, false, level, &path.child("items"), errors);
    }
    for (name, property) in &node.properties {
        nested(
            property,
            false,
            Level::Field,
            &path.child("properties").key(name),
            errors,
        );
    }
    let forbid = |errors: &mut Vec<FieldError>, keyword: &str, detail: &str| {
        errors.push(FieldError::forbidden(&path.child(keyword), detail));
    };
    if !node.type_name.is_empty() {
        forbid(errors, "type", "must be empty to be structural");
    }
    if node.additional_properties.is_some() {
        forbid(errors, "additionalProperties", "must be undefined to be structural");
    }
    if node.default.is_some() {
        forbid(errors, "default", "must be undefined to be structural");
    }
    if !node.title.is_empty() {
        forbid(errors, "title", "must be empty to be structural");
    }
    if !node.description.is_empty() {
        forbid(errors, "description", "must be empty to be structural");
    }
    if node.nullable {
        forbid(errors, "nullable", "must be false to be structural");
    }
    if node.preserves_unknown() {
        forbid(
            errors,
            "x-kubernetes-preserve-unknown-fields",
            "must be false to be structural",
        );
    }
    if node.embedded_resource {
        forbid(
            errors,
            "x-kubernetes-embedded-resource",
            "must be false to be structural",
        );
    }
    if node.int_or_string {
        forbid(errors, "x-kubernetes-int-or-string", "must be false to be structural");
    }
    if !node.list_map_keys.is_empty() {
        forbid(errors, "x-kubernetes-list-map-keys", "must be empty to be structural");
    }
    if node.list_type.is_some() {
        forbid(errors, "x-kubernetes-list-type", "must be undefined to be structural");
    }
    if node.properties.contains_key("metadata") {
        errors.push(FieldError::forbidden(
            &path.child("properties").key("metadata"),
            "must not be specified in a nested context",
        ));
    }
}

/// Upstream checks completeness for the junctors of the root schema only: every property or items a junctor names
/// must exist in the structural part.
fn completeness_of_junctors(
    value: &Node,
    structural: &Node,
    s_path: &FieldPath,
    v_path: &FieldPath,
    errors: &mut Vec<FieldError>,
) {
    if let Some(not) = &value.not {
        nested_completeness(not, Some(structural), s_path, &v_path.child("not"), errors);
    }
    for (keyword, juncts) in [
        ("allOf", &value.all_of),
        ("anyOf", &value.any_of),
        ("oneOf", &value.one_of),
    ] {
        for (index, junct) in juncts.iter().enumerate() {
            nested_completeness(
                junct,
                Some(structural),
                s_path,
                &v_path.child(keyword).index(index),
                errors,
            );
        }
    }
}

fn nested_completeness(
    value: &Node,
    structural: Option<&Node>,
    s_path: &FieldPath,
    v_path: &FieldPath,
    errors: &mut Vec<FieldError>,
) {
    let Some(structural) = structural else {
        let _ = value;
        errors.push(FieldError::required(
            s_path,
            format!("because it is defined in {v_path}"),
        ));
        return;
    };
    completeness_of_junctors(value, structural, s_path, v_path, errors);
    if let Some(items) = &value.items {
        nested_completeness(
            items,
            structural.items.as_deref(),
            &s_path.child("items"),
            &v_path.child("items"),
            errors,
        );
    }
    for (name, property) in &value.properties {
        match structural.properties.get(name) {
            Some(field) => nested_completeness(
                property,
                Some(field),
                &s_path.child("properties").key(name),
                &v_path.child("properties").key(name),
                errors,
            ),
            None => errors.push(FieldError::required(
                &s_path.child("properties").key(name),
                format!("because it is defined in {}", v_path.child("properties").key(name)),
            )),
        }
    }
}
