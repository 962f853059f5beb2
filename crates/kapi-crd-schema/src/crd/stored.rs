//! A CRD as kube-apiserver stores and returns it: what survives Go's decode into the v1 types and encode back
//! (field order of the Go structs, empty optional fields omitted, unknown fields dropped, schemas normalized).

use serde_json::{Map, Value};

use crate::openapi::stored_form;

/// How one field is written back.
#[derive(Clone, Copy)]
enum Field {
    /// Always written; a missing value becomes the zero value given.
    Always(fn() -> Value),
    /// Written only when not the zero value (`omitempty`).
    OmitEmpty,
    /// Written only when present and not null (`omitempty` pointers and structs).
    Present,
    /// A nested struct, rewritten by the function, omitted when absent.
    Nested(fn(&Value) -> Value),
    /// A nested struct that is not a pointer: always written, from `null` when absent.
    Struct(fn(&Value) -> Value),
    /// A list of nested structs, omitted when empty.
    List(fn(&Value) -> Value),
}

fn empty_string() -> Value {
    Value::String(String::new())
}

fn false_value() -> Value {
    Value::Bool(false)
}

fn null() -> Value {
    Value::Null
}

fn is_empty(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::Bool(flag) => !flag,
        Value::String(text) => text.is_empty(),
        Value::Array(items) => items.is_empty(),
        Value::Object(map) => map.is_empty(),
        Value::Number(number) => number.as_f64() == Some(0.0),
    }
}

fn rewrite(value: &Value, fields: &[(&str, Field)]) -> Value {
    // A missing struct writes its required fields with their zero values, as Go encodes a zero struct.
    let empty = Map::new();
    let map = value.as_object().unwrap_or(&empty);
    let mut out = Map::new();
    for (name, field) in fields {
        let present = map.get(*name).filter(|value| !value.is_null());
        let written = match field {
            Field::Always(zero) => Some(present.cloned().unwrap_or_else(zero)),
            Field::OmitEmpty => present.filter(|value| !is_empty(value)).cloned(),
            Field::Present => present.cloned(),
            Field::Nested(each) => present.map(each),
            Field::Struct(each) => Some(each(present.unwrap_or(&Value::Null))),
            Field::List(each) => present
                .and_then(Value::as_array)
                .filter(|items| !items.is_empty())
                .map(|items| Value::Array(items.iter().map(each).collect())),
        };
        if let Some(written) = written {
            out.insert((*name).to_owned(), written);
        }
    }
    Value::Object(out)
}

fn names(value: &Value) -> Value {
    rewrite(
        value,
        &[
            ("plural", Field::Always(empty_string)),
            ("singular", Field::OmitEmpty),
            ("shortNames", Field::OmitEmpty),
            ("kind", Field::Always(empty_string)),
            ("listKind", Field::OmitEmpty),
            ("categories", Field::OmitEmpty),
        ],
    )
}

fn validation(value: &Value) -> Value {
    rewrite(value, &[("openAPIV3Schema", Field::Nested(stored_form))])
}

fn scale(value: &Value) -> Value {
    rewrite(
        value,
        &[
            ("specReplicasPath", Field::Always(empty_string)),
            ("statusReplicasPath", Field::Always(empty_string)),
            ("labelSelectorPath", Field::Present),
        ],
    )
}

fn subresources(value: &Value) -> Value {
    rewrite(
        value,
        &[
            ("status", Field::Nested(|_| Value::Object(Map::new()))),
            ("scale", Field::Nested(scale)),
        ],
    )
}

fn column(value: &Value) -> Value {
    rewrite(
        value,
        &[
            ("name", Field::Always(empty_string)),
            ("type", Field::Always(empty_string)),
            ("format", Field::OmitEmpty),
            ("description", Field::OmitEmpty),
            ("priority", Field::OmitEmpty),
            ("jsonPath", Field::Always(empty_string)),
        ],
    )
}

fn selectable_field(value: &Value) -> Value {
    rewrite(value, &[("jsonPath", Field::Always(empty_string))])
}

fn version(value: &Value) -> Value {
    rewrite(
        value,
        &[
            ("name", Field::Always(empty_string)),
            ("served", Field::Always(false_value)),
            ("storage", Field::Always(false_value)),
            ("deprecated", Field::OmitEmpty),
            ("deprecationWarning", Field::Present),
            ("schema", Field::Nested(validation)),
            ("subresources", Field::Nested(subresources)),
            ("additionalPrinterColumns", Field::List(column)),
            ("selectableFields", Field::List(selectable_field)),
        ],
    )
}

fn service(value: &Value) -> Value {
    rewrite(
        value,
        &[
            ("namespace", Field::Always(empty_string)),
            ("name", Field::Always(empty_string)),
            ("path", Field::Present),
            ("port", Field::Present),
        ],
    )
}

fn client_config(value: &Value) -> Value {
    rewrite(
        value,
        &[
            ("url", Field::Present),
            ("service", Field::Nested(service)),
            ("caBundle", Field::OmitEmpty),
        ],
    )
}

fn webhook(value: &Value) -> Value {
    rewrite(
        value,
        &[
            ("clientConfig", Field::Nested(client_config)),
            ("conversionReviewVersions", Field::Always(null)),
        ],
    )
}

fn conversion(value: &Value) -> Value {
    rewrite(
        value,
        &[
            ("strategy", Field::Always(empty_string)),
            ("webhook", Field::Nested(webhook)),
        ],
    )
}

fn spec(value: &Value) -> Value {
    rewrite(
        value,
        &[
            ("group", Field::Always(empty_string)),
            ("names", Field::Struct(names)),
            ("scope", Field::Always(empty_string)),
            ("versions", Field::Always(null)),
            ("conversion", Field::Nested(conversion)),
            ("preserveUnknownFields", Field::OmitEmpty),
        ],
    )
    .as_object()
    .map(|map| {
        let mut map = map.clone();
        if let Some(Value::Array(versions)) = map.get_mut("versions") {
            for entry in versions.iter_mut() {
                *entry = version(entry);
            }
        }
        Value::Object(map)
    })
    .unwrap_or_default()
}

fn condition(value: &Value) -> Value {
    rewrite(
        value,
        &[
            ("type", Field::Always(empty_string)),
            ("status", Field::Always(empty_string)),
            ("lastTransitionTime", Field::Present),
            ("reason", Field::OmitEmpty),
            ("message", Field::OmitEmpty),
        ],
    )
}

fn status(value: &Value) -> Value {
    let mut out = Map::new();
    let conditions = value
        .get("conditions")
        .and_then(Value::as_array)
        .map_or(Value::Null, |items| Value::Array(items.iter().map(condition).collect()));
    out.insert("conditions".to_owned(), conditions);
    out.insert(
        "acceptedNames".to_owned(),
        names(value.get("acceptedNames").unwrap_or(&Value::Null)),
    );
    out.insert(
        "storedVersions".to_owned(),
        value.get("storedVersions").cloned().unwrap_or(Value::Null),
    );
    Value::Object(out)
}

/// A CRD as kube-apiserver returns it after storing it: `kind`, `apiVersion`, `metadata` (kept as given), then
/// `spec` and `status` rewritten as Go's v1 types encode them: struct field order, empty optional fields omitted,
/// required ones written even when empty, unknown fields dropped, and every schema in its stored form
/// ([`crate::stored_schema_form`]).
pub fn stored_crd_form(crd: &Value) -> Value {
    let mut out = Map::new();
    for key in ["kind", "apiVersion", "metadata"] {
        if let Some(value) = crd.get(key) {
            out.insert(key.to_owned(), value.clone());
        }
    }
    out.insert("spec".to_owned(), spec(crd.get("spec").unwrap_or(&Value::Null)));
    out.insert("status".to_owned(), status(crd.get("status").unwrap_or(&Value::Null)));
    Value::Object(out)
}
