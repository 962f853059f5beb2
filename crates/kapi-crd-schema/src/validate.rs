//! Validation of a value against a schema with kube-openapi's semantics (the validator kube-apiserver runs for
//! custom resources), and the translation of its findings into field errors as apiextensions-apiserver's
//! `ValidateCustomResource` does.
//!
//! kube-openapi names a failing value by a dotted path (`spec.items[0].name`) and writes messages such as
//! `spec.size in body should be less than or equal to 100`; the field error's path is that name below the prefix
//! the caller gives (`status` for the status subresource).

use kapi_core::{BadValue, FieldError, FieldErrors, FieldPath};
use serde_json::Value;

use crate::{
    formats, gofmt,
    schema::{AdditionalValues, Node},
};

/// What kind of finding; decides the field error type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Code {
    InvalidType,
    Required,
    TooLong,
    Enum,
    MaxItems,
    TooManyProperties,
    /// Any other value check (`Invalid value`).
    Other,
    /// An anyOf/oneOf/allOf/not failure: not tied to a field.
    Composite,
}

/// One kube-openapi finding.
#[derive(Debug, Clone)]
struct Finding {
    code: Code,
    /// The dotted name of the value (`spec.size`), empty at the root.
    name: String,
    /// The value reported (the data, a type name, a count).
    value: Option<Value>,
    /// The limit for maxLength/maxItems/maxProperties.
    limit: i64,
    /// The count for maxItems/maxProperties.
    count: i64,
    enum_values: Vec<Value>,
    message: String,
}

impl Finding {
    fn new(code: Code, name: &str, value: Option<Value>, message: String) -> Self {
        Finding {
            code,
            name: name.to_owned(),
            value,
            limit: -1,
            count: -1,
            enum_values: Vec::new(),
            message,
        }
    }
}

/// `<name> in body` or `<name>` when kube-openapi's "in" is empty; for custom resources it is always `body`.
fn subject(name: &str) -> String {
    format!("{name} in body")
}

/// Validates `value` against `node` and returns the field errors, with paths below `prefix`. With `old` (an
/// update), values equal to their correlated old value are not validated (upstream's validation ratcheting).
pub(crate) fn validate_value(node: &Node, value: &Value, old: Option<&Value>, prefix: &FieldPath) -> FieldErrors {
    let mut findings = Vec::new();
    schema(node, value, old, &mut String::new(), &mut findings);
    findings
        .into_iter()
        .map(|finding| to_field_error(finding, prefix))
        .collect()
}

fn to_field_error(finding: Finding, prefix: &FieldPath) -> FieldError {
    let path = {
        let name = finding.name.strip_prefix('.').unwrap_or(&finding.name);
        if name.is_empty() || finding.name == "." {
            prefix.clone()
        } else {
            prefix.child(name)
        }
    };
    let value = || -> BadValue {
        match &finding.value {
            Some(value) => BadValue::Unstructured(value.clone()),
            None => BadValue::Str(String::new()),
        }
    };
    match finding.code {
        Code::Required => FieldError::required(&path, ""),
        Code::Enum => {
            let allowed: Vec<String> = finding
                .enum_values
                .iter()
                .map(|allowed| match allowed {
                    Value::String(text) => text.clone(),
                    other => other.to_string(),
                })
                .collect();
            let allowed: Vec<&str> = allowed.iter().map(String::as_str).collect();
            FieldError::not_supported(&path, value(), &allowed)
        }
        Code::TooLong => FieldError::too_long(&path, usize::try_from(finding.limit).ok()),
        Code::MaxItems | Code::TooManyProperties => FieldError::too_many(
            &path,
            usize::try_from(finding.count).ok(),
            usize::try_from(finding.limit).ok(),
        ),
        Code::InvalidType => FieldError::type_invalid(&path, value(), finding.message),
        Code::Other => FieldError::invalid(&path, value(), finding.message),
        Code::Composite => FieldError::invalid(prefix, "", finding.message),
    }
}

/// The JSON type kube-openapi infers from a decoded value (Go's int64 for integral numbers, float64 otherwise).
pub(crate) fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(number) if number.is_i64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// The format kube-openapi infers from a decoded value.
fn json_format(value: &Value) -> &'static str {
    match value {
        Value::Number(number) if number.is_i64() => "int64",
        Value::Number(_) => "double",
        _ => "",
    }
}

/// The types a schema allows, as kube converts it (`x-kubernetes-int-or-string` becomes `integer,string`).
/// (Up to two names and how many: every schema position is type-checked, so no allocation.)
fn allowed_types(node: &Node) -> ([&str; 2], usize) {
    if node.int_or_string {
        (["integer", "string"], 2)
    } else if node.type_name.is_empty() {
        (["", ""], 0)
    } else {
        ([node.type_name.as_str(), ""], 1)
    }
}

/// Validates `value` at the dotted `name`; `name` is a buffer the walk extends and restores, so that names are only
/// copied for findings.
fn schema(node: &Node, value: &Value, old: Option<&Value>, name: &mut String, out: &mut Vec<Finding>) {
    if old.is_some_and(|old| old == value) {
        return;
    }
    if value.is_null() {
        type_check(node, value, name, out);
        enum_check(node, value, name, out);
        return;
    }
    type_check(node, value, name, out);
    junctors(node, value, old, name, out);
    if let Value::String(text) = value {
        string_checks(node, text, value, name, out);
        if !node.format.is_empty() && formats::is_known(&node.format) && !formats::check(&node.format, text) {
            out.push(Finding::new(
                Code::InvalidType,
                name,
                Some(value.clone()),
                format!(
                    "{} must be of type {}: {}",
                    subject(name),
                    node.format,
                    gofmt::quote(text)
                ),
            ));
        }
    }
    if let Value::Number(_) = value {
        number_checks(node, value, name, out);
    }
    if let Value::Array(items) = value {
        array_checks(node, items, old, name, out);
    }
    enum_check(node, value, name, out);
    if let Value::Object(_) = value {
        object_checks(node, value, old, name, out);
    }
}

fn type_check(node: &Node, value: &Value, name: &str, out: &mut Vec<Finding>) {
    let (names, count) = allowed_types(node);
    let types = &names[..count];
    // kube strips the formats it does not support (int32, double, ...) before validating.
    let format = if formats::is_known(&node.format) {
        node.format.as_str()
    } else {
        ""
    };
    if types.is_empty() && format.is_empty() {
        return;
    }
    if value.is_null() {
        if !types.is_empty() && !types.contains(&"null") && !node.nullable {
            out.push(invalid_type(name, &types.join(","), "null"));
        }
        return;
    }
    let value_type = json_type(value);
    let value_format = json_format(value);
    let contains = |wanted: &str| types.contains(&wanted);
    let float_int = value_type == "number"
        && value
            .as_f64()
            .is_some_and(|float| float.fract() == 0.0 && float.is_finite())
        && contains("integer");
    let int_float = value_type == "integer" && contains("number");
    let lower_int = format == "int64" && value_format == "int32";
    let lower_float = format == "float64" && value_format == "float32";
    let stringy = matches!(value, Value::String(_) | Value::Array(_));
    if !stringy
        && !format.is_empty()
        && !(contains(value_type) || value_format == format || float_int || int_float || lower_int || lower_float)
    {
        out.push(invalid_type(name, format, value_format));
        return;
    }
    if stringy && !(contains("number") || contains("integer") || format.is_empty()) {
        return;
    }
    if !(contains(value_type) || float_int || int_float) {
        out.push(invalid_type(name, &types.join(","), value_type));
    }
}

fn invalid_type(name: &str, wanted: &str, found: &str) -> Finding {
    Finding::new(
        Code::InvalidType,
        name,
        Some(Value::String(found.to_owned())),
        format!("{} must be of type {wanted}: {}", subject(name), gofmt::quote(found)),
    )
}

fn junctors(node: &Node, value: &Value, old: Option<&Value>, name: &mut String, out: &mut Vec<Finding>) {
    let run = |junct: &Node, name: &mut String| {
        let mut findings = Vec::new();
        schema(junct, value, old, name, &mut findings);
        findings
    };
    if !node.any_of.is_empty() {
        let mut best: Option<Vec<Finding>> = None;
        let mut succeeded = false;
        for junct in &node.any_of {
            let findings = run(junct, name);
            if findings.is_empty() {
                succeeded = true;
                best = None;
                break;
            }
            if best.as_ref().is_none_or(|best| findings.len() < best.len()) {
                best = Some(findings);
            }
        }
        if !succeeded {
            out.push(Finding::new(
                Code::Composite,
                name,
                None,
                format!("{} must validate at least one schema (anyOf)", gofmt::quote(name)),
            ));
        }
        out.extend(best.unwrap_or_default());
    }
    if !node.one_of.is_empty() {
        let mut best: Option<Vec<Finding>> = None;
        let mut valid = 0;
        for junct in &node.one_of {
            let findings = run(junct, name);
            if findings.is_empty() {
                valid += 1;
                best = None;
                continue;
            }
            if valid == 0 && best.as_ref().is_none_or(|best| findings.len() < best.len()) {
                best = Some(findings);
            }
        }
        if valid != 1 {
            let detail = if valid == 0 {
                "Found none valid".to_owned()
            } else {
                format!("Found {valid} valid alternatives")
            };
            out.push(Finding::new(
                Code::Composite,
                name,
                None,
                format!(
                    "{} must validate one and only one schema (oneOf). {detail}",
                    gofmt::quote(name)
                ),
            ));
            out.extend(best.unwrap_or_default());
        }
    }
    if !node.all_of.is_empty() {
        let mut valid = 0;
        for junct in &node.all_of {
            let findings = run(junct, name);
            if findings.is_empty() {
                valid += 1;
            }
            out.extend(findings);
        }
        if valid != node.all_of.len() {
            let detail = if valid == 0 { ". None validated" } else { "" };
            out.push(Finding::new(
                Code::Composite,
                name,
                None,
                format!("{} must validate all the schemas (allOf){detail}", gofmt::quote(name)),
            ));
        }
    }
    if let Some(not) = &node.not {
        if run(not, name).is_empty() {
            out.push(Finding::new(
                Code::Composite,
                name,
                None,
                format!("{} must not validate the schema (not)", gofmt::quote(name)),
            ));
        }
    }
}

/// maxLength, minLength, pattern; kube-openapi stops at the first failure.
fn string_checks(node: &Node, text: &str, value: &Value, name: &str, out: &mut Vec<Finding>) {
    let length = text.chars().count() as i64;
    if let Some(max) = node.max_length {
        if length > max {
            let mut finding = Finding::new(
                Code::TooLong,
                name,
                Some(value.clone()),
                format!("{} should be at most {max} chars long", subject(name)),
            );
            finding.limit = max;
            out.push(finding);
            return;
        }
    }
    if let Some(min) = node.min_length {
        if length < min {
            out.push(Finding::new(
                Code::Other,
                name,
                Some(value.clone()),
                format!("{} should be at least {min} chars long", subject(name)),
            ));
            return;
        }
    }
    if let (Some(pattern), Some(Ok(regex))) = (&node.pattern, &node.pattern_regex) {
        if !regex.is_match(text) {
            out.push(Finding::new(
                Code::Other,
                name,
                Some(value.clone()),
                format!("{} should match '{pattern}'", subject(name)),
            ));
        }
    }
}

/// multipleOf, maximum, minimum; kube-openapi stops at the first failure.
fn number_checks(node: &Node, value: &Value, name: &str, out: &mut Vec<Finding>) {
    let Some(data) = value.as_f64() else {
        return;
    };
    let mut fail = |message: String| out.push(Finding::new(Code::Other, name, Some(value.clone()), message));
    if let Some(factor) = node.multiple_of {
        if factor <= 0.0 {
            fail(format!(
                "factor MultipleOf declared for {name} must be positive: {}",
                gofmt::float(factor)
            ));
            return;
        }
        let quotient = data / factor;
        if quotient != quotient.trunc() {
            fail(format!(
                "{} should be a multiple of {}",
                subject(name),
                gofmt::float(factor)
            ));
            return;
        }
    }
    if let Some(max) = node.maximum {
        let exceeded = if node.exclusive_maximum {
            data >= max
        } else {
            data > max
        };
        if exceeded {
            let relation = if node.exclusive_maximum {
                "less than"
            } else {
                "less than or equal to"
            };
            fail(format!("{} should be {relation} {}", subject(name), gofmt::float(max)));
            return;
        }
    }
    if let Some(min) = node.minimum {
        let exceeded = if node.exclusive_minimum {
            data <= min
        } else {
            data < min
        };
        if exceeded {
            let relation = if node.exclusive_minimum {
                "greater than"
            } else {
                "greater than or equal to"
            };
            fail(format!("{} should be {relation} {}", subject(name), gofmt::float(min)));
        }
    }
}

/// The old item an item corresponds to: by key for `x-kubernetes-list-type: map`, by value for `set`; items of
/// atomic lists have no correlation.
fn correlated_item<'a>(node: &Node, item: &Value, old: Option<&'a Value>) -> Option<&'a Value> {
    let old_items = old?.as_array()?;
    match node.list_type.as_deref() {
        Some("map") => {
            let key_of = |candidate: &Value| -> Option<Vec<Option<Value>>> {
                let map = candidate.as_object()?;
                Some(node.list_map_keys.iter().map(|key| map.get(key).cloned()).collect())
            };
            let wanted = key_of(item)?;
            old_items
                .iter()
                .find(|candidate| key_of(candidate).as_ref() == Some(&wanted))
        }
        Some("set") => old_items.iter().find(|candidate| *candidate == item),
        _ => None,
    }
}

/// Appends `number` in decimal without a temporary string.
fn push_decimal(out: &mut String, number: usize) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    let mut rest = number;
    loop {
        at -= 1;
        digits[at] = b'0' + (rest % 10) as u8;
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    out.extend(digits[at..].iter().map(|&digit| char::from(digit)));
}

fn array_checks(node: &Node, items: &[Value], old: Option<&Value>, name: &mut String, out: &mut Vec<Finding>) {
    if let Some(item_schema) = &node.items {
        for (index, item) in items.iter().enumerate() {
            let old_item = correlated_item(node, item, old);
            let length = name.len();
            name.push('[');
            push_decimal(name, index);
            name.push(']');
            schema(item_schema, item, old_item, name, out);
            name.truncate(length);
        }
    }
    let size = items.len() as i64;
    if let Some(min) = node.min_items {
        if size < min {
            out.push(Finding::new(
                Code::Other,
                name,
                Some(Value::from(size)),
                format!("{} should have at least {min} items", subject(name)),
            ));
        }
    }
    if let Some(max) = node.max_items {
        if size > max {
            let mut finding = Finding::new(
                Code::MaxItems,
                name,
                Some(Value::from(size)),
                format!("{} should have at most {max} items", subject(name)),
            );
            finding.limit = max;
            finding.count = size;
            out.push(finding);
        }
    }
    if node.unique_items {
        let duplicated = items
            .iter()
            .enumerate()
            .any(|(index, item)| items[..index].contains(item));
        if duplicated {
            out.push(Finding::new(
                Code::Other,
                name,
                None,
                format!("{} shouldn't contain duplicates", subject(name)),
            ));
        }
    }
}

fn enum_check(node: &Node, value: &Value, name: &str, out: &mut Vec<Finding>) {
    let Some(allowed) = &node.enum_values else {
        return;
    };
    if allowed.is_empty() || allowed.iter().any(|candidate| enum_equal(candidate, value)) {
        return;
    }
    let listed: Vec<String> = allowed.iter().map(go_interface).collect();
    let mut finding = Finding::new(
        Code::Enum,
        name,
        Some(value.clone()),
        format!("{} should be one of [{}]", subject(name), listed.join(" ")),
    );
    finding.enum_values = allowed.clone();
    out.push(finding);
}

/// Equality as kube-openapi's enum check sees it: numbers compare by value (Go converts the data to the enum
/// value's type first).
fn enum_equal(candidate: &Value, value: &Value) -> bool {
    match (candidate, value) {
        (Value::Number(left), Value::Number(right)) => match (left.as_i64(), right.as_i64()) {
            (Some(left), Some(right)) => left == right,
            (Some(left), None) => right.as_f64().is_some_and(|right| right.trunc() as i64 == left),
            _ => left.as_f64() == right.as_f64(),
        },
        _ => candidate == value,
    }
}

/// Go's `%v` of a decoded JSON value inside a list.
fn go_interface(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        Value::Number(_) => gofmt::number(value),
        Value::Null => "<nil>".to_owned(),
        other => other.to_string(),
    }
}

fn object_checks(node: &Node, value: &Value, old: Option<&Value>, name: &mut String, out: &mut Vec<Finding>) {
    let old_child = |key: &str| old.and_then(|old| old.get(key));
    let Value::Object(map) = value else {
        return;
    };
    let keys = map.len() as i64;
    if let Some(min) = node.min_properties {
        if keys < min {
            out.push(Finding::new(
                Code::Other,
                name,
                Some(Value::from(keys)),
                format!("{} should have at least {min} properties", subject(name)),
            ));
            return;
        }
    }
    if let Some(max) = node.max_properties {
        if keys > max {
            let mut finding = Finding::new(
                Code::TooManyProperties,
                name,
                Some(Value::from(keys)),
                format!("{} should have at most {max} properties", subject(name)),
            );
            finding.limit = max;
            finding.count = keys;
            out.push(finding);
            return;
        }
    }
    match &node.additional_properties {
        Some(crate::schema::Additional::Allows(false)) => {
            for key in map.keys() {
                if !node.properties.contains_key(key) {
                    out.push(Finding::new(
                        Code::Other,
                        name,
                        Some(Value::String(key.clone())),
                        format!("{name}.{key} in body is a forbidden property"),
                    ));
                }
            }
        }
        _ => {
            if let Some(AdditionalValues::Schema(additional)) = node.additional_values() {
                for (key, item) in map {
                    if !node.properties.contains_key(key) {
                        // kube-openapi names additional properties `<parent>.<key>`, with a leading dot at the root.
                        let length = name.len();
                        name.push('.');
                        name.push_str(key);
                        schema(additional, item, old_child(key), name, out);
                        name.truncate(length);
                    }
                }
            }
        }
    }
    for required in &node.required {
        if !map.contains_key(required) {
            out.push(Finding::new(
                Code::Required,
                &format!("{name}.{required}"),
                None,
                format!("{}.{required} in body is required", name),
            ));
        }
    }
    for (key, property) in &node.properties {
        if let Some(item) = map.get(key) {
            let length = name.len();
            if !name.is_empty() {
                name.push('.');
            }
            name.push_str(key);
            schema(property, item, old_child(key), name, out);
            name.truncate(length);
        }
    }
}
