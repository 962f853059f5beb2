//! Schemas as kube-apiserver writes them: a CRD's stored `openAPIV3Schema` (Go's `JSONSchemaProps` field order,
//! empty values omitted, properties sorted), and the definitions it publishes in `/openapi/v3` and `/openapi/v2`
//! (kube-openapi's field order, `x-kubernetes-*` extensions sorted, `apiVersion`/`kind`/`metadata` added).

use serde_json::{json, Map, Value};

/// `JSONSchemaProps` fields in Go's order; `true` marks pointer fields that are kept even when zero.
const STORED_ORDER: [(&str, bool); 44] = [
    ("id", false),
    ("$schema", false),
    ("$ref", true),
    ("description", false),
    ("type", false),
    ("format", false),
    ("title", false),
    ("default", true),
    ("maximum", true),
    ("exclusiveMaximum", false),
    ("minimum", true),
    ("exclusiveMinimum", false),
    ("maxLength", true),
    ("minLength", true),
    ("pattern", false),
    ("maxItems", true),
    ("minItems", true),
    ("uniqueItems", false),
    ("multipleOf", true),
    ("enum", false),
    ("maxProperties", true),
    ("minProperties", true),
    ("required", false),
    ("items", true),
    ("allOf", false),
    ("oneOf", false),
    ("anyOf", false),
    ("not", true),
    ("properties", false),
    ("additionalProperties", true),
    ("patternProperties", false),
    ("dependencies", false),
    ("additionalItems", true),
    ("definitions", false),
    ("externalDocs", true),
    ("example", true),
    ("nullable", false),
    ("x-kubernetes-preserve-unknown-fields", true),
    ("x-kubernetes-embedded-resource", false),
    ("x-kubernetes-int-or-string", false),
    ("x-kubernetes-list-map-keys", false),
    ("x-kubernetes-list-type", true),
    ("x-kubernetes-map-type", true),
    ("x-kubernetes-validations", false),
];

/// kube-openapi `spec.Schema` fields in marshalling order (extensions follow, sorted).
const PUBLISHED_ORDER: [&str; 32] = [
    "description",
    "$ref",
    "type",
    "nullable",
    "format",
    "title",
    "default",
    "maximum",
    "exclusiveMaximum",
    "minimum",
    "exclusiveMinimum",
    "maxLength",
    "minLength",
    "pattern",
    "maxItems",
    "minItems",
    "uniqueItems",
    "multipleOf",
    "enum",
    "maxProperties",
    "minProperties",
    "required",
    "items",
    "allOf",
    "oneOf",
    "anyOf",
    "not",
    "properties",
    "additionalProperties",
    "patternProperties",
    "externalDocs",
    "example",
];

const VALIDATION_RULE_ORDER: [&str; 6] = [
    "rule",
    "message",
    "messageExpression",
    "reason",
    "fieldPath",
    "optionalOldSelf",
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

/// A number as Go's float64 or int64 would print it: integral floats without a fraction.
fn go_number(value: &Value) -> Value {
    match value {
        Value::Number(number) if !number.is_i64() && !number.is_u64() => match number.as_f64() {
            Some(float) if float.fract() == 0.0 && float.abs() < 9.0e15 => json!(float as i64),
            _ => value.clone(),
        },
        other => other.clone(),
    }
}

fn sorted_schemas(value: &Value, each: &dyn Fn(&Value) -> Value) -> Value {
    let Some(map) = value.as_object() else {
        return value.clone();
    };
    let mut names: Vec<&String> = map.keys().collect();
    names.sort();
    Value::Object(names.into_iter().map(|name| (name.clone(), each(&map[name]))).collect())
}

fn schema_list(value: &Value, each: &dyn Fn(&Value) -> Value) -> Value {
    match value {
        Value::Array(items) => Value::Array(items.iter().map(each).collect()),
        other => each(other),
    }
}

fn validation_rules(value: &Value, keep_order: bool) -> Value {
    let Some(rules) = value.as_array() else {
        return value.clone();
    };
    Value::Array(
        rules
            .iter()
            .map(|rule| {
                let Some(rule) = rule.as_object() else {
                    return rule.clone();
                };
                let mut out = Map::new();
                let mut keys: Vec<&str> = VALIDATION_RULE_ORDER
                    .iter()
                    .copied()
                    .filter(|key| {
                        rule.get(*key)
                            .is_some_and(|v| !is_zero(v) || (*key == "optionalOldSelf" && !v.is_null()))
                    })
                    .collect();
                if !keep_order {
                    keys.sort_unstable();
                }
                for key in keys {
                    out.insert(key.to_owned(), rule[key].clone());
                }
                Value::Object(out)
            })
            .collect(),
    )
}

/// A schema as the stored CRD holds it after Go's decode and encode.
pub(crate) fn stored_form(schema: &Value) -> Value {
    let Some(map) = schema.as_object() else {
        return schema.clone();
    };
    let mut out = Map::new();
    for (key, pointer) in STORED_ORDER {
        let Some(value) = map.get(key) else {
            continue;
        };
        if value.is_null() || (!pointer && is_zero(value)) {
            continue;
        }
        let value = match key {
            "properties" | "patternProperties" | "definitions" => sorted_schemas(value, &stored_form),
            "items" | "allOf" | "oneOf" | "anyOf" => schema_list(value, &stored_form),
            "not" | "additionalProperties" | "additionalItems" if value.is_object() => stored_form(value),
            "maximum" | "minimum" | "multipleOf" => go_number(value),
            "x-kubernetes-validations" => validation_rules(value, true),
            _ => value.clone(),
        };
        out.insert(key.to_owned(), value);
    }
    Value::Object(out)
}

/// The published (kube-openapi) form of a schema node; `v2` drops what OpenAPI v2 cannot say, as upstream's
/// `ToStructuralOpenAPIV2` does.
fn published(schema: &Map<String, Value>, v2: bool) -> Map<String, Value> {
    let mut schema = schema.clone();
    let flag = |schema: &Map<String, Value>, key: &str| schema.get(key).and_then(Value::as_bool) == Some(true);
    if flag(&schema, "x-kubernetes-int-or-string")
        && !v2
        && !schema.contains_key("anyOf")
        && !schema.contains_key("allOf")
    {
        schema.insert("anyOf".to_owned(), json!([{"type": "integer"}, {"type": "string"}]));
    }
    if v2 {
        for keyword in ["allOf", "oneOf", "anyOf", "not", "default"] {
            schema.remove(keyword);
        }
        if flag(&schema, "nullable") {
            for keyword in ["type", "nullable", "items", "properties"] {
                schema.remove(keyword);
            }
        }
        if flag(&schema, "x-kubernetes-preserve-unknown-fields") {
            for keyword in ["type", "items", "properties"] {
                schema.remove(keyword);
            }
        }
        // kubectl cannot cope with an array without an item schema.
        if !schema.contains_key("items") && schema.get("type").and_then(Value::as_str) == Some("array") {
            schema.remove("type");
        }
        // A nullable property cannot be required in v2, and nothing can when map values are nullable.
        let nullable_properties: Vec<String> = schema
            .get("properties")
            .and_then(Value::as_object)
            .map(|properties| {
                properties
                    .iter()
                    .filter(|(_, property)| property.get("nullable").and_then(Value::as_bool) == Some(true))
                    .map(|(name, _)| name.clone())
                    .collect()
            })
            .unwrap_or_default();
        let nullable_values = schema
            .get("additionalProperties")
            .and_then(|values| values.get("nullable"))
            .and_then(Value::as_bool)
            == Some(true);
        if nullable_values {
            schema.remove("required");
        } else if let Some(Value::Array(required)) = schema.get_mut("required") {
            required.retain(|name| {
                !name
                    .as_str()
                    .is_some_and(|name| nullable_properties.iter().any(|n| n == name))
            });
        }
    }
    let mut out = Map::new();
    for key in PUBLISHED_ORDER {
        let Some(value) = schema.get(key) else {
            continue;
        };
        if is_zero(value) && !matches!(key, "default" | "example" | "$ref") {
            continue;
        }
        let each = |value: &Value| match value {
            Value::Object(map) => Value::Object(published(map, v2)),
            other => other.clone(),
        };
        let value = match key {
            "properties" | "patternProperties" => sorted_schemas(value, &each),
            "items" | "allOf" | "oneOf" | "anyOf" => schema_list(value, &each),
            "not" | "additionalProperties" => each(value),
            "maximum" | "minimum" | "multipleOf" => go_number(value),
            _ => value.clone(),
        };
        out.insert(key.to_owned(), value);
    }
    let mut extensions: Vec<(&String, &Value)> = schema.iter().filter(|(key, _)| key.starts_with("x-")).collect();
    extensions.sort_by(|left, right| left.0.cmp(right.0));
    for (key, value) in extensions {
        let keep = match value {
            Value::Bool(flag) => *flag || key == "x-kubernetes-preserve-unknown-fields",
            other => !other.is_null(),
        };
        if !keep {
            continue;
        }
        let value = if key == "x-kubernetes-validations" {
            validation_rules(value, !v2)
        } else {
            value.clone()
        };
        out.insert(key.clone(), value);
    }
    out
}

const API_VERSION_DESCRIPTION: &str = "APIVersion defines the versioned schema of this representation of an object. Servers should convert recognized schemas to the latest internal value, and may reject unrecognized values. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#resources";
const KIND_DESCRIPTION: &str = "Kind is a string value representing the REST resource this object represents. Servers may infer this from the endpoint the client submits requests to. Cannot be updated. In CamelCase. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds";
const EMBEDDED_API_VERSION_DESCRIPTION: &str = "apiVersion defines the versioned schema of this representation of an object. Servers should convert recognized schemas to the latest internal value, and may reject unrecognized values. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#resources";
const EMBEDDED_KIND_DESCRIPTION: &str = "kind is a string value representing the type of this object. Servers may infer this from the endpoint the client submits requests to. Cannot be updated. In CamelCase. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds";
const METADATA_DESCRIPTION: &str = "Standard object's metadata. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata";
const LIST_METADATA_DESCRIPTION: &str =
    "Standard list metadata. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds";
const OBJECT_META: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta";
const LIST_META: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta";

/// A reference to a definition with a description: v2 puts them side by side, v3 wraps the reference in allOf.
fn described_ref(description: &str, definition: &str, v2: bool) -> Value {
    if v2 {
        json!({"description": description, "$ref": format!("#/definitions/{definition}")})
    } else {
        json!({"description": description, "allOf": [{"$ref": format!("#/components/schemas/{definition}")}]})
    }
}

fn string_property(description: &str) -> Value {
    json!({"description": description, "type": "string"})
}

/// Inserts a property keeping the properties sorted, as Go's map marshalling prints them.
fn set_property(schema: &mut Map<String, Value>, name: &str, value: Value) {
    let properties = schema.entry("properties").or_insert_with(|| json!({}));
    if let Some(properties) = properties.as_object_mut() {
        properties.insert(name.to_owned(), value);
        properties.sort_keys();
    }
    if !schema.contains_key("type") {
        // Keep the published order when properties appear on a node that had none.
        let rebuilt = reorder(schema);
        *schema = rebuilt;
    }
}

fn reorder(schema: &Map<String, Value>) -> Map<String, Value> {
    let mut out = Map::new();
    for key in PUBLISHED_ORDER {
        if let Some(value) = schema.get(key) {
            out.insert(key.to_owned(), value.clone());
        }
    }
    for (key, value) in schema {
        if !out.contains_key(key) {
            out.insert(key.clone(), value.clone());
        }
    }
    out
}

/// Adds `apiVersion`, `kind` and `metadata` to `x-kubernetes-embedded-resource` objects (not below preserving
/// nodes in v2).
fn add_embedded_properties(schema: &mut Map<String, Value>, v2: bool) {
    if let Some(properties) = schema.get_mut("properties").and_then(Value::as_object_mut) {
        for property in properties.values_mut() {
            if let Some(property) = property.as_object_mut() {
                add_embedded_properties(property, v2);
            }
        }
    }
    for key in ["items", "additionalProperties"] {
        if let Some(child) = schema.get_mut(key).and_then(Value::as_object_mut) {
            add_embedded_properties(child, v2);
        }
    }
    let flag = |schema: &Map<String, Value>, key: &str| schema.get(key).and_then(Value::as_bool) == Some(true);
    if v2 && flag(schema, "x-kubernetes-preserve-unknown-fields") {
        return;
    }
    if flag(schema, "x-kubernetes-embedded-resource") {
        set_property(schema, "apiVersion", string_property(EMBEDDED_API_VERSION_DESCRIPTION));
        set_property(schema, "kind", string_property(EMBEDDED_KIND_DESCRIPTION));
        set_property(schema, "metadata", described_ref(METADATA_DESCRIPTION, OBJECT_META, v2));
        let required = schema.entry("required").or_insert_with(|| json!([]));
        if let Some(required) = required.as_array_mut() {
            for name in ["kind", "apiVersion"] {
                if !required.iter().any(|entry| entry == name) {
                    required.push(json!(name));
                }
            }
        }
        let rebuilt = reorder(schema);
        *schema = rebuilt;
    }
}

/// The published definition of a custom resource kind (without the group-version-kind extensions).
pub(crate) fn kind_definition(schema: &Value, v2: bool) -> Value {
    let Some(map) = schema.as_object() else {
        return json!({"type": "object"});
    };
    let preserves = map.get("x-kubernetes-preserve-unknown-fields").and_then(Value::as_bool) == Some(true);
    if v2 && preserves {
        return json!({"type": "object"});
    }
    let mut out = published(map, v2);
    set_property(
        &mut out,
        "metadata",
        described_ref(METADATA_DESCRIPTION, OBJECT_META, v2),
    );
    set_property(&mut out, "apiVersion", string_property(API_VERSION_DESCRIPTION));
    set_property(&mut out, "kind", string_property(KIND_DESCRIPTION));
    add_embedded_properties(&mut out, v2);
    Value::Object(out)
}

/// The published definition of a custom resource's list kind.
pub(crate) fn list_definition(definition_name: &str, kind: &str, list_kind: &str, plural: &str, v2: bool) -> Value {
    let item_ref = if v2 {
        format!("#/definitions/{definition_name}")
    } else {
        format!("#/components/schemas/{definition_name}")
    };
    json!({
        "description": format!("{list_kind} is a list of {kind}"),
        "type": "object",
        "required": ["items"],
        "properties": {
            "apiVersion": string_property(API_VERSION_DESCRIPTION),
            "items": {
                "description": format!("List of {plural}. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md"),
                "type": "array",
                "items": {"$ref": item_ref},
            },
            "kind": string_property(KIND_DESCRIPTION),
            "metadata": described_ref(LIST_METADATA_DESCRIPTION, LIST_META, v2),
        },
    })
}

/// Go's JSON of the *internal* `JSONSchemaProps` (no JSON tags: every field, Go's names, zero values included),
/// as upstream prints a schema inside a field error's value.
pub(crate) fn go_internal_schema(schema: &Value) -> Value {
    let Some(map) = schema.as_object() else {
        return Value::Null;
    };
    let text = |key: &str| Value::String(map.get(key).and_then(Value::as_str).unwrap_or_default().to_owned());
    let flag = |key: &str| Value::Bool(map.get(key).and_then(Value::as_bool).unwrap_or(false));
    let pointer = |key: &str| map.get(key).filter(|v| !v.is_null()).map_or(Value::Null, go_number);
    let schemas = |key: &str| match map.get(key).and_then(Value::as_array) {
        Some(list) if !list.is_empty() => Value::Array(list.iter().map(go_internal_schema).collect()),
        _ => Value::Null,
    };
    let schema_map = |key: &str| match map.get(key).and_then(Value::as_object) {
        Some(entries) if !entries.is_empty() => {
            let mut names: Vec<&String> = entries.keys().collect();
            names.sort();
            Value::Object(
                names
                    .into_iter()
                    .map(|name| (name.clone(), go_internal_schema(&entries[name])))
                    .collect(),
            )
        }
        _ => Value::Null,
    };
    let or_bool = |key: &str| match map.get(key) {
        Some(Value::Bool(allows)) => json!({"Allows": allows, "Schema": null}),
        Some(schema @ Value::Object(_)) => json!({"Allows": true, "Schema": go_internal_schema(schema)}),
        _ => Value::Null,
    };
    let list = |key: &str| match map.get(key).and_then(Value::as_array) {
        Some(items) if !items.is_empty() => Value::Array(items.clone()),
        _ => Value::Null,
    };
    let items = match map.get("items") {
        Some(schema @ Value::Object(_)) => json!({"Schema": go_internal_schema(schema), "JSONSchemas": null}),
        Some(Value::Array(schemas)) => {
            json!({"Schema": null, "JSONSchemas": schemas.iter().map(go_internal_schema).collect::<Vec<_>>()})
        }
        _ => Value::Null,
    };
    let dependencies = match map.get("dependencies").and_then(Value::as_object) {
        Some(entries) if !entries.is_empty() => Value::Object(
            entries
                .iter()
                .map(|(name, value)| {
                    let entry = match value {
                        Value::Array(properties) => json!({"Schema": null, "Property": properties}),
                        other => json!({"Schema": go_internal_schema(other), "Property": null}),
                    };
                    (name.clone(), entry)
                })
                .collect(),
        ),
        _ => Value::Null,
    };
    let external_docs = map
        .get("externalDocs")
        .and_then(Value::as_object)
        .map_or(Value::Null, |docs| {
            json!({
                "Description": docs.get("description").and_then(Value::as_str).unwrap_or_default(),
                "URL": docs.get("url").and_then(Value::as_str).unwrap_or_default(),
            })
        });
    let validations = match map.get("x-kubernetes-validations").and_then(Value::as_array) {
        Some(rules) if !rules.is_empty() => Value::Array(rules.iter().map(go_validation_rule).collect()),
        _ => Value::Null,
    };
    let fields: Vec<(&str, Value)> = vec![
        ("ID", text("id")),
        ("Schema", text("$schema")),
        ("Ref", pointer("$ref")),
        ("Description", text("description")),
        ("Type", text("type")),
        ("Format", text("format")),
        ("Title", text("title")),
        ("Default", pointer("default")),
        ("Maximum", pointer("maximum")),
        ("ExclusiveMaximum", flag("exclusiveMaximum")),
        ("Minimum", pointer("minimum")),
        ("ExclusiveMinimum", flag("exclusiveMinimum")),
        ("MaxLength", pointer("maxLength")),
        ("MinLength", pointer("minLength")),
        ("Pattern", text("pattern")),
        ("MaxItems", pointer("maxItems")),
        ("MinItems", pointer("minItems")),
        ("UniqueItems", flag("uniqueItems")),
        ("MultipleOf", pointer("multipleOf")),
        ("Enum", list("enum")),
        ("MaxProperties", pointer("maxProperties")),
        ("MinProperties", pointer("minProperties")),
        ("Required", list("required")),
        ("Items", items),
        ("AllOf", schemas("allOf")),
        ("OneOf", schemas("oneOf")),
        ("AnyOf", schemas("anyOf")),
        (
            "Not",
            map.get("not")
                .filter(|v| v.is_object())
                .map_or(Value::Null, go_internal_schema),
        ),
        ("Properties", schema_map("properties")),
        ("AdditionalProperties", or_bool("additionalProperties")),
        ("PatternProperties", schema_map("patternProperties")),
        ("Dependencies", dependencies),
        ("AdditionalItems", or_bool("additionalItems")),
        ("Definitions", schema_map("definitions")),
        ("ExternalDocs", external_docs),
        ("Example", pointer("example")),
        ("Nullable", flag("nullable")),
        (
            "XPreserveUnknownFields",
            pointer("x-kubernetes-preserve-unknown-fields"),
        ),
        ("XEmbeddedResource", flag("x-kubernetes-embedded-resource")),
        ("XIntOrString", flag("x-kubernetes-int-or-string")),
        ("XListMapKeys", list("x-kubernetes-list-map-keys")),
        ("XListType", pointer("x-kubernetes-list-type")),
        ("XMapType", pointer("x-kubernetes-map-type")),
        ("XValidations", validations),
    ];
    Value::Object(
        fields
            .into_iter()
            .map(|(name, value)| (name.to_owned(), value))
            .collect(),
    )
}

/// Go's JSON of an internal `ValidationRule`.
pub(crate) fn go_validation_rule(rule: &Value) -> Value {
    let text = |key: &str| rule.get(key).and_then(Value::as_str).unwrap_or_default();
    json!({
        "Rule": text("rule"),
        "Message": text("message"),
        "MessageExpression": text("messageExpression"),
        "Reason": rule.get("reason").cloned().unwrap_or(Value::Null),
        "FieldPath": text("fieldPath"),
        "OptionalOldSelf": rule.get("optionalOldSelf").cloned().unwrap_or(Value::Null),
    })
}
