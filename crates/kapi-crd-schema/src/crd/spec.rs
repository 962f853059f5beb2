//! `spec` of a CRD: group, scope, names, versions, subresources, printer columns, selectable fields, conversion.

use kapi_core::{validation::is_dns1035_label, BadValue, FieldError, FieldErrors, FieldPath};
use serde_json::{json, Value};

use super::{group_errors, schema_rules};
use crate::{openapi::go_internal_schema, schema::Node};

/// The internal form of a v1 CRD spec: fields that are identical in every version are lifted to the top level.
pub(crate) struct Internal {
    spec: Value,
    /// The versions, without the lifted fields.
    pub(crate) versions: Vec<Value>,
    /// `{"openAPIV3Schema": ...}` when every version has the same schema.
    pub(crate) validation: Option<Value>,
    pub(crate) subresources: Option<Value>,
    pub(crate) columns: Vec<Value>,
    pub(crate) selectable_fields: Vec<Value>,
}

fn non_empty_list(value: Option<&Value>) -> Vec<Value> {
    value.and_then(Value::as_array).cloned().unwrap_or_default()
}

impl Internal {
    pub(crate) fn from_v1(crd: &Value) -> Internal {
        let spec = crd.get("spec").cloned().unwrap_or_else(|| json!({}));
        let mut versions = non_empty_list(spec.get("versions"));
        let lift = |versions: &mut Vec<Value>, key: &str, list: bool| -> Option<Value> {
            let first = versions.first()?.get(key).filter(|v| !v.is_null()).cloned()?;
            if list && first.as_array().is_none_or(Vec::is_empty) {
                return None;
            }
            if versions.iter().any(|version| version.get(key) != Some(&first)) {
                return None;
            }
            for version in versions.iter_mut() {
                if let Some(version) = version.as_object_mut() {
                    version.remove(key);
                }
            }
            Some(first)
        };
        let validation = lift(&mut versions, "schema", false);
        let subresources = lift(&mut versions, "subresources", false);
        let columns = non_empty_list(lift(&mut versions, "additionalPrinterColumns", true).as_ref());
        let selectable_fields = non_empty_list(lift(&mut versions, "selectableFields", true).as_ref());
        Internal {
            spec,
            versions,
            validation,
            subresources,
            columns,
            selectable_fields,
        }
    }

    /// A string field of the spec by JSON pointer (`/names/plural`), empty when absent.
    pub(crate) fn text(&self, pointer: &str) -> String {
        self.spec
            .pointer(pointer)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    }

    fn preserve_unknown_fields(&self) -> bool {
        self.spec.get("preserveUnknownFields").and_then(Value::as_bool) == Some(true)
    }

    /// The versions as Go prints the internal `[]CustomResourceDefinitionVersion` in a message.
    fn go_versions(&self) -> BadValue {
        let printed: Vec<Value> = self
            .versions
            .iter()
            .map(|version| {
                let flag = |key: &str| version.get(key).and_then(Value::as_bool).unwrap_or(false);
                let schema = version.get("schema").filter(|s| s.is_object()).map_or(Value::Null, |schema| {
                    json!({"OpenAPIV3Schema": schema.get("openAPIV3Schema").map_or(Value::Null, go_internal_schema)})
                });
                json!({
                    "Name": version.get("name").and_then(Value::as_str).unwrap_or_default(),
                    "Served": flag("served"),
                    "Storage": flag("storage"),
                    "Deprecated": flag("deprecated"),
                    "DeprecationWarning": version.get("deprecationWarning").cloned().unwrap_or(Value::Null),
                    "Schema": schema,
                    "Subresources": version.get("subresources").map_or(Value::Null, go_subresources),
                    "AdditionalPrinterColumns": go_list(version.get("additionalPrinterColumns"), go_column),
                    "SelectableFields": go_list(version.get("selectableFields"), |field| {
                        json!({"JSONPath": field.get("jsonPath").and_then(Value::as_str).unwrap_or_default()})
                    }),
                })
            })
            .collect();
        BadValue::Json(Value::Array(printed))
    }

    fn any_status_enabled(&self) -> bool {
        has_status(self.subresources.as_ref()) || self.versions.iter().any(|v| has_status(v.get("subresources")))
    }

    fn has_defaults(&self) -> bool {
        let with_default = |schema: Option<&Value>| {
            schema
                .and_then(|s| s.get("openAPIV3Schema"))
                .is_some_and(|s| Node::parse(s).any(&|node| node.default.is_some()))
        };
        with_default(self.validation.as_ref()) || self.versions.iter().any(|v| with_default(v.get("schema")))
    }

    /// Whether every version has a schema (upstream relaxes the requirement on update when the stored CRD lacks one).
    pub(crate) fn all_versions_have_schemas(&self) -> bool {
        self.validation
            .as_ref()
            .is_some_and(|v| v.get("openAPIV3Schema").is_some())
            || self
                .versions
                .iter()
                .all(|v| v.pointer("/schema/openAPIV3Schema").is_some_and(|s| !s.is_null()))
    }
}

/// Go's JSON of an internal list: `null` when empty.
fn go_list(list: Option<&Value>, each: impl Fn(&Value) -> Value) -> Value {
    match list.and_then(Value::as_array) {
        Some(items) if !items.is_empty() => Value::Array(items.iter().map(each).collect()),
        _ => Value::Null,
    }
}

/// Go's JSON of internal `CustomResourceSubresources`.
fn go_subresources(subresources: &Value) -> Value {
    let Some(map) = subresources.as_object() else {
        return Value::Null;
    };
    let status = map
        .get("status")
        .filter(|s| s.is_object())
        .map_or(Value::Null, |_| json!({}));
    let scale = map
        .get("scale")
        .and_then(Value::as_object)
        .map_or(Value::Null, |scale| {
            let text = |key: &str| scale.get(key).and_then(Value::as_str).unwrap_or_default();
            json!({
                "SpecReplicasPath": text("specReplicasPath"),
                "StatusReplicasPath": text("statusReplicasPath"),
                "LabelSelectorPath": scale.get("labelSelectorPath").cloned().unwrap_or(Value::Null),
            })
        });
    json!({"Status": status, "Scale": scale})
}

/// Go's JSON of an internal `CustomResourceColumnDefinition`.
fn go_column(column: &Value) -> Value {
    let text = |key: &str| column.get(key).and_then(Value::as_str).unwrap_or_default();
    json!({
        "Name": text("name"),
        "Type": text("type"),
        "Format": text("format"),
        "Description": text("description"),
        "Priority": column.get("priority").and_then(Value::as_i64).unwrap_or(0),
        "JSONPath": text("jsonPath"),
    })
}

fn has_status(subresources: Option<&Value>) -> bool {
    subresources
        .and_then(|s| s.get("status"))
        .is_some_and(|status| !status.is_null())
}

/// What depends on the stored object when updating.
pub(crate) struct Options<'a> {
    require_open_api_schema: bool,
    /// Compiles a schema's `x-kubernetes-validations` (the CEL engine), given the schema and its path.
    pub(crate) rules: &'a dyn Fn(&Value, &FieldPath) -> FieldErrors,
}

impl<'a> Options<'a> {
    pub(crate) fn new(old: Option<&Internal>, rules: &'a dyn Fn(&Value, &FieldPath) -> FieldErrors) -> Options<'a> {
        Options {
            require_open_api_schema: old.is_none_or(Internal::all_versions_have_schemas),
            rules,
        }
    }
}

pub(crate) fn validate_spec(internal: &Internal, options: &Options<'_>) -> FieldErrors {
    let path = FieldPath::new("spec");
    let mut errors = group_errors(&internal.text("/group"), &path.child("group"));
    errors.append(enum_strings(
        &path.child("scope"),
        &internal.text("/scope"),
        &["Cluster", "Namespaced"],
    ));

    let versions_path = path.child("versions");
    if internal.validation.is_none() {
        for (index, version) in internal.versions.iter().enumerate() {
            let has_schema = version.pointer("/schema/openAPIV3Schema").is_some_and(|s| !s.is_null());
            let schema_path = versions_path.index(index).child("schema").child("openAPIV3Schema");
            if options.require_open_api_schema && !has_schema {
                errors.push(FieldError::required(&schema_path, ""));
            } else if !options.require_open_api_schema
                && !internal.preserve_unknown_fields()
                && version.get("served").and_then(Value::as_bool) == Some(true)
                && !has_schema
            {
                errors.push(FieldError::required(
                    &schema_path,
                    "because otherwise all fields are pruned",
                ));
            }
        }
    }
    if internal.has_defaults() && internal.preserve_unknown_fields() {
        errors.push(FieldError::invalid(
            &path.child("preserveUnknownFields"),
            true,
            "must be false in order to use defaults in the schema",
        ));
    }

    let mut storage_versions = 0;
    let mut names: Vec<&str> = Vec::new();
    let mut unique = true;
    let top_level_status = has_status(internal.subresources.as_ref());
    for (index, version) in internal.versions.iter().enumerate() {
        let version_path = versions_path.index(index);
        if version.get("storage").and_then(Value::as_bool) == Some(true) {
            storage_versions += 1;
        }
        let name = version.get("name").and_then(Value::as_str).unwrap_or_default();
        if names.contains(&name) {
            unique = false;
        } else {
            names.push(name);
        }
        let problems = is_dns1035_label(name);
        if !problems.is_empty() {
            errors.push(FieldError::invalid(
                &version_path.child("name"),
                name,
                problems.join(","),
            ));
        }
        let status_enabled = if internal.subresources.is_some() {
            top_level_status
        } else {
            has_status(version.get("subresources"))
        };
        errors.append(validate_version(version, &version_path, status_enabled, options));
    }
    if !unique {
        errors.push(FieldError::invalid(
            &versions_path,
            internal.go_versions(),
            "must contain unique version names",
        ));
    }
    if storage_versions != 1 {
        errors.push(FieldError::invalid(
            &versions_path,
            internal.go_versions(),
            "must have exactly one version marked as storage version",
        ));
    }
    // The internal spec.version is the first version's name and is checked again on its own.
    if let Some(first) = internal
        .versions
        .first()
        .and_then(|v| v.get("name"))
        .and_then(Value::as_str)
    {
        let problems = is_dns1035_label(first);
        if !first.is_empty() && !problems.is_empty() {
            errors.push(FieldError::invalid(&path.child("version"), first, problems.join(",")));
        }
    }

    let names_path = path.child("names");
    for key in ["plural", "singular", "kind", "listKind"] {
        if internal.text(&format!("/names/{key}")).is_empty() {
            errors.push(FieldError::required(&names_path.child(key), ""));
        }
    }
    errors.append(validate_names(
        internal.spec.get("names").unwrap_or(&Value::Null),
        &names_path,
    ));
    errors.append(schema_rules::validate_validation(
        internal.validation.as_ref(),
        internal.any_status_enabled(),
        &path.child("validation"),
        options.rules,
    ));
    errors.append(validate_subresources(
        internal.subresources.as_ref(),
        &path.child("subresources"),
    ));
    for (index, column) in internal.columns.iter().enumerate() {
        errors.append(validate_column(
            column,
            &path.child("additionalPrinterColumns").index(index),
        ));
    }
    if !internal.selectable_fields.is_empty() {
        let schema = internal.validation.as_ref().and_then(|v| v.get("openAPIV3Schema"));
        errors.append(validate_selectable_fields(
            &internal.selectable_fields,
            schema,
            &path.child("selectableFields"),
            "selectableFields may only be set when validations.schema is included",
        ));
    }
    errors.append(super::conversion::validate_conversion(
        internal.spec.get("conversion"),
        internal.preserve_unknown_fields(),
        &path,
    ));
    errors
}

pub(crate) fn enum_strings(path: &FieldPath, value: &str, accepted: &[&str]) -> FieldErrors {
    if value.is_empty() {
        return FieldError::required(path, "").into();
    }
    if accepted.contains(&value) {
        return FieldErrors::new();
    }
    FieldError::not_supported(path, value, accepted).into()
}

fn validate_version(version: &Value, path: &FieldPath, status_enabled: bool, options: &Options<'_>) -> FieldErrors {
    let mut errors = FieldErrors::new();
    let deprecated = version.get("deprecated").and_then(Value::as_bool) == Some(true);
    if let Some(warning) = version.get("deprecationWarning").and_then(Value::as_str) {
        for problem in deprecation_warning_problems(deprecated, warning) {
            errors.push(FieldError::invalid(&path.child("deprecationWarning"), warning, problem));
        }
    }
    errors.append(schema_rules::validate_validation(
        version.get("schema"),
        status_enabled,
        &path.child("schema"),
        options.rules,
    ));
    errors.append(validate_subresources(
        version.get("subresources"),
        &path.child("subresources"),
    ));
    for (index, column) in non_empty_list(version.get("additionalPrinterColumns"))
        .iter()
        .enumerate()
    {
        errors.append(validate_column(
            column,
            &path.child("additionalPrinterColumns").index(index),
        ));
    }
    let selectable = non_empty_list(version.get("selectableFields"));
    if !selectable.is_empty() {
        errors.append(validate_selectable_fields(
            &selectable,
            version.pointer("/schema/openAPIV3Schema"),
            &path.child("selectableFields"),
            "selectableFields may only be set when version.schema.openAPIV3Schema is not included",
        ));
    }
    errors
}

fn deprecation_warning_problems(deprecated: bool, warning: &str) -> Vec<String> {
    if !deprecated {
        return vec!["can only be set for deprecated versions".to_owned()];
    }
    let mut problems = Vec::new();
    if warning.len() > 256 {
        problems.push("must be <= 256 characters long".to_owned());
    }
    if warning.is_empty() {
        problems.push("must not be an empty string".to_owned());
    }
    for (index, ch) in warning.char_indices() {
        if ch.is_control() {
            problems.push(format!(
                "must only contain printable UTF-8 characters; non-printable character found at index {index}"
            ));
            break;
        }
    }
    problems
}

/// Upstream's `validateSimpleJSONPath`.
fn simple_json_path(value: &str, path: &FieldPath) -> FieldErrors {
    if value.is_empty() {
        return FieldError::invalid(path, value, "must not be empty").into();
    }
    if !value.starts_with('.') {
        return FieldError::invalid(path, value, "must be a simple json path starting with .").into();
    }
    FieldErrors::new()
}

fn validate_subresources(subresources: Option<&Value>, path: &FieldPath) -> FieldErrors {
    let mut errors = FieldErrors::new();
    let Some(scale) = subresources.and_then(|s| s.get("scale")).filter(|s| s.is_object()) else {
        return errors;
    };
    let text = |key: &str| scale.get(key).and_then(Value::as_str).unwrap_or_default();
    for (key, prefix, detail) in [
        ("specReplicasPath", ".spec.", "should be a json path under .spec"),
        ("statusReplicasPath", ".status.", "should be a json path under .status"),
    ] {
        let field_path = path.child(format!("scale.{key}"));
        let value = text(key);
        if value.is_empty() {
            errors.push(FieldError::required(&field_path, ""));
            continue;
        }
        let problems = simple_json_path(value, &field_path);
        if !problems.is_empty() {
            errors.append(problems);
        } else if !value.starts_with(prefix) {
            errors.push(FieldError::invalid(&field_path, value, detail));
        }
    }
    let selector = text("labelSelectorPath");
    if !selector.is_empty() {
        let field_path = path.child("scale.labelSelectorPath");
        let problems = simple_json_path(selector, &field_path);
        if !problems.is_empty() {
            errors.append(problems);
        } else if !selector.starts_with(".spec.") && !selector.starts_with(".status.") {
            errors.push(FieldError::invalid(
                &field_path,
                selector,
                "should be a json path under either .spec or .status",
            ));
        }
    }
    errors
}

fn validate_column(column: &Value, path: &FieldPath) -> FieldErrors {
    const TYPES: &str = "boolean,date,integer,number,string";
    const FORMATS: &str = "byte,date,date-time,double,float,int32,int64,password";
    let mut errors = FieldErrors::new();
    let text = |key: &str| column.get(key).and_then(Value::as_str).unwrap_or_default();
    if text("name").is_empty() {
        errors.push(FieldError::required(&path.child("name"), ""));
    }
    let column_type = text("type");
    if column_type.is_empty() {
        errors.push(FieldError::required(
            &path.child("type"),
            format!("must be one of {TYPES}"),
        ));
    } else if !TYPES.split(',').any(|t| t == column_type) {
        errors.push(FieldError::invalid(
            &path.child("type"),
            column_type,
            format!("must be one of {TYPES}"),
        ));
    }
    let format = text("format");
    if !format.is_empty() && !FORMATS.split(',').any(|f| f == format) {
        errors.push(FieldError::invalid(
            &path.child("format"),
            format,
            format!("must be one of {FORMATS}"),
        ));
    }
    let json_path = text("jsonPath");
    if json_path.is_empty() {
        errors.push(FieldError::required(&path.child("JSONPath"), ""));
    } else {
        errors.append(simple_json_path(json_path, &path.child("JSONPath")));
    }
    errors
}

const MAX_SELECTABLE_FIELDS: usize = 8;

fn validate_selectable_fields(
    fields: &[Value],
    schema: Option<&Value>,
    path: &FieldPath,
    no_schema: &str,
) -> FieldErrors {
    let mut errors = FieldErrors::new();
    let Some(schema) = schema.filter(|s| !s.is_null()) else {
        errors.push(FieldError::invalid(path, "", no_schema));
        return errors;
    };
    let root = Node::parse(schema);
    let mut unique: Vec<String> = Vec::new();
    for (index, field) in fields.iter().enumerate() {
        let json_path_path = path.index(index).child("jsonPath");
        let json_path = field.get("jsonPath").and_then(Value::as_str).unwrap_or_default();
        if json_path.is_empty() {
            errors.push(FieldError::required(&json_path_path, ""));
            continue;
        }
        let (segments, found) = match schema_rules::resolve_field_path(&root, json_path) {
            Ok(resolved) => resolved,
            Err(problem) => {
                errors.push(FieldError::invalid(
                    &json_path_path,
                    json_path,
                    format!("is an invalid path: {problem}"),
                ));
                continue;
            }
        };
        if segments.first().map(String::as_str) == Some("metadata") {
            errors.push(FieldError::invalid(
                &json_path_path,
                json_path,
                "must not point to fields in metadata",
            ));
        }
        if !matches!(found.type_name.as_str(), "string" | "boolean" | "integer") {
            errors.push(FieldError::invalid(
                &json_path_path,
                json_path,
                "must point to a field of type string, boolean or integer. Enum string fields and strings with formats are allowed.",
            ));
        }
        let canonical = segments.join(".");
        if unique.contains(&canonical) {
            errors.push(FieldError::duplicate(&json_path_path, json_path));
        } else {
            unique.push(canonical);
        }
    }
    if unique.len() > MAX_SELECTABLE_FIELDS {
        errors.push(FieldError::too_many(
            path,
            Some(unique.len()),
            Some(MAX_SELECTABLE_FIELDS),
        ));
    }
    errors
}

/// `ValidateCustomResourceDefinitionNames` (used for `spec.names` and `status.acceptedNames`).
pub(crate) fn validate_names(names: &Value, path: &FieldPath) -> FieldErrors {
    let mut errors = FieldErrors::new();
    let text = |key: &str| names.get(key).and_then(Value::as_str).unwrap_or_default();
    for key in ["plural", "singular"] {
        let value = text(key);
        let problems = is_dns1035_label(value);
        if !value.is_empty() && !problems.is_empty() {
            errors.push(FieldError::invalid(&path.child(key), value, problems.join(",")));
        }
    }
    for key in ["kind", "listKind"] {
        let value = text(key);
        let problems = is_dns1035_label(&value.to_lowercase());
        if !value.is_empty() && !problems.is_empty() {
            errors.push(FieldError::invalid(
                &path.child(key),
                value,
                format!(
                    "may have mixed case, but should otherwise match: {}",
                    problems.join(",")
                ),
            ));
        }
    }
    for (index, short_name) in non_empty_list(names.get("shortNames")).iter().enumerate() {
        let short_name = short_name.as_str().unwrap_or_default();
        let problems = is_dns1035_label(short_name);
        if !problems.is_empty() {
            errors.push(FieldError::invalid(
                &path.child("shortNames").index(index),
                short_name,
                problems.join(","),
            ));
        }
    }
    if !text("kind").is_empty() && text("kind") == text("listKind") {
        errors.push(FieldError::invalid(
            &path.child("listKind"),
            text("listKind"),
            "kind and listKind may not be the same",
        ));
    }
    for (index, category) in non_empty_list(names.get("categories")).iter().enumerate() {
        let category = category.as_str().unwrap_or_default();
        let problems = is_dns1035_label(category);
        if !problems.is_empty() {
            errors.push(FieldError::invalid(
                &path.child("categories").index(index),
                category,
                problems.join(","),
            ));
        }
    }
    errors
}
