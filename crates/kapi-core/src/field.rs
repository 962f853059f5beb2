//! Field paths and field errors: the building blocks of `Invalid` (422) responses.
//!
//! A [`FieldError`] names a field ([`FieldPath`]), says what is wrong with it ([`FieldErrorType`]) and carries the
//! offending value ([`BadValue`]) plus a detail. Its [`message`](FieldError::message) is what kube-apiserver puts in
//! a status cause (`Invalid value: "X": detail`), its `Display` is `field: message`. [`FieldErrors`] collects them
//! and renders the aggregate used in `Kind "name" is invalid: ...` (one error bare, several as `[e1, e2]`,
//! duplicates dropped).

use std::fmt;

use serde_json::Value;

use crate::gofmt;

/// A path to a field inside an object, printed the way kube-apiserver prints it: `metadata.name`,
/// `spec.items[0].name`, `data[tls.crt]`.
///
/// The empty path stands for Go's nil path and prints as `<nil>` (used for errors about the whole object).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct FieldPath {
    segments: Vec<Segment>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Segment {
    /// A named field; an empty name prints as `[]` like upstream.
    Name(String),
    /// A list index or map key, printed in brackets.
    Subscript(String),
}

impl FieldPath {
    /// A path starting at the field `name`.
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            segments: vec![Segment::Name(name.into())],
        }
    }

    /// A path of several nested field names: `FieldPath::from_names(&["metadata", "name"])`.
    pub fn from_names(names: &[&str]) -> Self {
        Self {
            segments: names.iter().map(|name| Segment::Name((*name).to_owned())).collect(),
        }
    }

    /// The nil path, printed `<nil>`.
    pub fn nil() -> Self {
        Self::default()
    }

    /// Whether this is the nil path.
    pub fn is_nil(&self) -> bool {
        self.segments.is_empty()
    }

    /// The path of the field `name` below this one.
    #[must_use]
    pub fn child(&self, name: impl Into<String>) -> Self {
        self.with(Segment::Name(name.into()))
    }

    /// The path of list element `index` below this one.
    #[must_use]
    pub fn index(&self, index: usize) -> Self {
        self.with(Segment::Subscript(index.to_string()))
    }

    /// The path of map entry `key` below this one.
    #[must_use]
    pub fn key(&self, key: impl Into<String>) -> Self {
        self.with(Segment::Subscript(key.into()))
    }

    fn with(&self, segment: Segment) -> Self {
        let mut segments = self.segments.clone();
        segments.push(segment);
        Self { segments }
    }
}

impl fmt::Display for FieldPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.segments.is_empty() {
            return f.write_str("<nil>");
        }
        for (position, segment) in self.segments.iter().enumerate() {
            match segment {
                Segment::Name(name) if name.is_empty() => f.write_str("[]")?,
                Segment::Name(name) => {
                    if position > 0 {
                        f.write_str(".")?;
                    }
                    f.write_str(name)?;
                }
                Segment::Subscript(subscript) => write!(f, "[{subscript}]")?,
            }
        }
        Ok(())
    }
}

/// What is wrong with a field; each maps onto a `metav1.CauseType` (`FieldValueInvalid`, ...).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FieldErrorType {
    /// `FieldValueNotFound`: a referenced value does not exist.
    NotFound,
    /// `FieldValueRequired`: a required field is missing or empty.
    Required,
    /// `FieldValueDuplicate`: a value that must be unique is repeated.
    Duplicate,
    /// `FieldValueInvalid`: a value is malformed or out of range.
    Invalid,
    /// `FieldValueNotSupported`: a value is not one of an enumerated set.
    NotSupported,
    /// `FieldValueForbidden`: the field may not be set (here, now, or by this user).
    Forbidden,
    /// `FieldValueTooLong`: a value is longer than allowed.
    TooLong,
    /// `FieldValueTooMany`: a collection has too many items.
    TooMany,
    /// `FieldValueTooFew`: a collection has too few items.
    TooFew,
    /// `InternalError`: validation itself failed.
    Internal,
    /// `FieldValueTypeInvalid`: a value has the wrong type (schema validation).
    TypeInvalid,
    /// `FieldValueTooShort`: a value is shorter than allowed.
    TooShort,
}

impl FieldErrorType {
    /// The `metav1.CauseType` string used as `reason` in a status cause.
    pub fn reason(self) -> &'static str {
        match self {
            Self::NotFound => "FieldValueNotFound",
            Self::Required => "FieldValueRequired",
            Self::Duplicate => "FieldValueDuplicate",
            Self::Invalid => "FieldValueInvalid",
            Self::NotSupported => "FieldValueNotSupported",
            Self::Forbidden => "FieldValueForbidden",
            Self::TooLong => "FieldValueTooLong",
            Self::TooMany => "FieldValueTooMany",
            Self::TooFew => "FieldValueTooFew",
            Self::Internal => "InternalError",
            Self::TypeInvalid => "FieldValueTypeInvalid",
            Self::TooShort => "FieldValueTooShort",
        }
    }

    /// The human label that starts a cause message (`Invalid value`, `Required value`, ...).
    pub fn label(self) -> &'static str {
        match self {
            Self::NotFound => "Not found",
            Self::Required => "Required value",
            Self::Duplicate => "Duplicate value",
            Self::Invalid | Self::TypeInvalid => "Invalid value",
            Self::NotSupported => "Unsupported value",
            Self::Forbidden => "Forbidden",
            Self::TooLong => "Too long",
            Self::TooMany => "Too many",
            Self::TooFew => "Too few",
            Self::Internal => "Internal error",
            Self::TooShort => "Too short",
        }
    }

    /// Whether the message shows the bad value after the label.
    fn shows_value(self) -> bool {
        matches!(
            self,
            Self::Invalid
                | Self::TypeInvalid
                | Self::NotSupported
                | Self::NotFound
                | Self::Duplicate
                | Self::TooMany
                | Self::TooFew
        )
    }
}

/// The offending value of a [`FieldError`], remembered with the Go type that decides how it prints.
#[derive(Debug, Clone, PartialEq)]
pub enum BadValue {
    /// No value is shown (`Too many: must have ...` without a count).
    Omitted,
    /// A string, printed quoted: `"x"`.
    Str(String),
    /// An integer, printed bare: `-1`.
    Int(i64),
    /// A float, printed like Go's `%v`: `0.5`, `1e+06`.
    Float(f64),
    /// A boolean, printed bare.
    Bool(bool),
    /// Any other value, printed as compact JSON in the order given (how a Go struct or slice marshals).
    Json(Value),
    /// An unstructured value, printed as compact JSON with sorted object keys (how a Go map marshals).
    Unstructured(Value),
}

impl BadValue {
    /// The printed form used inside messages.
    pub fn render(&self) -> String {
        match self {
            Self::Omitted => String::new(),
            Self::Str(text) => gofmt::quote(text),
            Self::Int(int) => int.to_string(),
            Self::Float(float) => gofmt::float_v(*float),
            Self::Bool(flag) => flag.to_string(),
            Self::Json(value) => gofmt::json(value, gofmt::KeyOrder::AsGiven),
            Self::Unstructured(value) => Self::render_unstructured(value),
        }
    }

    /// A JSON value as Go would see it after decoding into `interface{}`: strings, numbers and booleans print like
    /// scalars, everything else as sorted JSON.
    fn render_unstructured(value: &Value) -> String {
        match value {
            Value::String(text) => gofmt::quote(text),
            Value::Bool(flag) => flag.to_string(),
            Value::Number(number) => match number.as_i64() {
                Some(int) => int.to_string(),
                None => gofmt::float_v(number.as_f64().unwrap_or(0.0)),
            },
            other => gofmt::json(other, gofmt::KeyOrder::Sorted),
        }
    }
}

impl From<&str> for BadValue {
    fn from(value: &str) -> Self {
        Self::Str(value.to_owned())
    }
}

impl From<String> for BadValue {
    fn from(value: String) -> Self {
        Self::Str(value)
    }
}

impl From<&String> for BadValue {
    fn from(value: &String) -> Self {
        Self::Str(value.clone())
    }
}

impl From<i64> for BadValue {
    fn from(value: i64) -> Self {
        Self::Int(value)
    }
}

impl From<i32> for BadValue {
    fn from(value: i32) -> Self {
        Self::Int(i64::from(value))
    }
}

impl From<f64> for BadValue {
    fn from(value: f64) -> Self {
        Self::Float(value)
    }
}

impl From<bool> for BadValue {
    fn from(value: bool) -> Self {
        Self::Bool(value)
    }
}

impl From<Value> for BadValue {
    fn from(value: Value) -> Self {
        Self::Unstructured(value)
    }
}

/// One validation failure.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldError {
    /// What kind of failure.
    pub error_type: FieldErrorType,
    /// The rendered path of the field (`metadata.name`, `<nil>`).
    pub field: String,
    /// The offending value.
    pub bad_value: BadValue,
    /// Free text appended after the value.
    pub detail: String,
}

impl FieldError {
    fn build(error_type: FieldErrorType, path: &FieldPath, bad_value: BadValue, detail: String) -> Self {
        Self {
            error_type,
            field: path.to_string(),
            bad_value,
            detail,
        }
    }

    /// `Invalid value: <value>: <detail>`.
    pub fn invalid(path: &FieldPath, value: impl Into<BadValue>, detail: impl Into<String>) -> Self {
        Self::build(FieldErrorType::Invalid, path, value.into(), detail.into())
    }

    /// `Invalid value: <value>: <detail>` with cause type `FieldValueTypeInvalid`.
    pub fn type_invalid(path: &FieldPath, value: impl Into<BadValue>, detail: impl Into<String>) -> Self {
        Self::build(FieldErrorType::TypeInvalid, path, value.into(), detail.into())
    }

    /// `Required value` or `Required value: <detail>`.
    pub fn required(path: &FieldPath, detail: impl Into<String>) -> Self {
        Self::build(
            FieldErrorType::Required,
            path,
            BadValue::Str(String::new()),
            detail.into(),
        )
    }

    /// `Forbidden: <detail>`.
    pub fn forbidden(path: &FieldPath, detail: impl Into<String>) -> Self {
        Self::build(
            FieldErrorType::Forbidden,
            path,
            BadValue::Str(String::new()),
            detail.into(),
        )
    }

    /// `Duplicate value: <value>`.
    pub fn duplicate(path: &FieldPath, value: impl Into<BadValue>) -> Self {
        Self::build(FieldErrorType::Duplicate, path, value.into(), String::new())
    }

    /// `Not found: <value>`.
    pub fn not_found(path: &FieldPath, value: impl Into<BadValue>) -> Self {
        Self::build(FieldErrorType::NotFound, path, value.into(), String::new())
    }

    /// `Unsupported value: <value>: supported values: "a", "b"` (no list when `supported` is empty).
    pub fn not_supported(path: &FieldPath, value: impl Into<BadValue>, supported: &[&str]) -> Self {
        let detail = if supported.is_empty() {
            String::new()
        } else {
            let quoted: Vec<String> = supported.iter().map(|value| gofmt::quote(value)).collect();
            format!("supported values: {}", quoted.join(", "))
        };
        Self::build(FieldErrorType::NotSupported, path, value.into(), detail)
    }

    /// `Too long: may not be more than <max> bytes` (`value is too long` when `max_bytes` is `None`).
    pub fn too_long(path: &FieldPath, max_bytes: Option<usize>) -> Self {
        Self::build(
            FieldErrorType::TooLong,
            path,
            BadValue::Omitted,
            Self::limit_detail(max_bytes, "byte"),
        )
    }

    /// `Too long: may not be more than <max> characters`.
    pub fn too_long_characters(path: &FieldPath, max_characters: Option<usize>) -> Self {
        Self::build(
            FieldErrorType::TooLong,
            path,
            BadValue::Omitted,
            Self::limit_detail(max_characters, "character"),
        )
    }

    fn limit_detail(limit: Option<usize>, unit: &str) -> String {
        match limit {
            Some(1) => format!("may not be more than 1 {unit}"),
            Some(limit) => format!("may not be more than {limit} {unit}s"),
            None => "value is too long".to_owned(),
        }
    }

    /// `Too many: <actual>: must have at most <max> items`; either number may be unknown.
    pub fn too_many(path: &FieldPath, actual: Option<usize>, max: Option<usize>) -> Self {
        let detail = match max {
            Some(1) => "must have at most 1 item".to_owned(),
            Some(max) => format!("must have at most {max} items"),
            None => "has too many items".to_owned(),
        };
        let bad_value = actual.map_or(BadValue::Omitted, |count| BadValue::Int(count as i64));
        Self::build(FieldErrorType::TooMany, path, bad_value, detail)
    }

    /// `Too short: <value>: must be at least <min> characters`.
    pub fn too_short(path: &FieldPath, value: impl Into<String>, min_characters: Option<usize>) -> Self {
        let detail = match min_characters {
            Some(1) => "must be at least 1 character".to_owned(),
            Some(min) => format!("must be at least {min} characters"),
            None => "value is too short".to_owned(),
        };
        Self::build(FieldErrorType::TooShort, path, BadValue::Str(value.into()), detail)
    }

    /// `Internal error: <detail>`.
    pub fn internal(path: &FieldPath, detail: impl Into<String>) -> Self {
        Self::build(FieldErrorType::Internal, path, BadValue::Omitted, detail.into())
    }

    /// The cause message without the field: `Invalid value: "X": detail`.
    pub fn message(&self) -> String {
        let mut body = self.error_type.label().to_owned();
        if self.error_type.shows_value() && self.bad_value != BadValue::Omitted {
            body.push_str(": ");
            body.push_str(&self.bad_value.render());
        }
        if !self.detail.is_empty() {
            body.push_str(": ");
            body.push_str(&self.detail);
        }
        body
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.message())
    }
}

impl std::error::Error for FieldError {}

/// An ordered list of [`FieldError`]s.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FieldErrors(pub Vec<FieldError>);

impl FieldErrors {
    /// An empty list.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends one error.
    pub fn push(&mut self, error: FieldError) {
        self.0.push(error);
    }

    /// Appends all errors of `other`.
    pub fn append(&mut self, other: FieldErrors) {
        self.0.extend(other.0);
    }

    /// Whether there are no errors.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// How many errors there are.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Iterates over the errors in order.
    pub fn iter(&self) -> std::slice::Iter<'_, FieldError> {
        self.0.iter()
    }

    /// `Ok(())` when empty, the errors otherwise.
    pub fn into_result(self) -> Result<(), FieldErrors> {
        if self.is_empty() {
            Ok(())
        } else {
            Err(self)
        }
    }

    /// The aggregate message like Go's `ErrorList.ToAggregate().Error()`: identical messages collapse, one error
    /// prints bare, several as `[e1, e2]`. `None` when there are no errors.
    pub fn aggregate_message(&self) -> Option<String> {
        let mut distinct: Vec<String> = Vec::new();
        for error in &self.0 {
            let text = error.to_string();
            if !distinct.contains(&text) {
                distinct.push(text);
            }
        }
        match distinct.len() {
            0 => None,
            1 => distinct.pop(),
            _ => Some(format!("[{}]", distinct.join(", "))),
        }
    }
}

impl fmt::Display for FieldErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.aggregate_message().unwrap_or_default())
    }
}

impl std::error::Error for FieldErrors {}

impl From<FieldError> for FieldErrors {
    fn from(error: FieldError) -> Self {
        Self(vec![error])
    }
}

impl From<Vec<FieldError>> for FieldErrors {
    fn from(errors: Vec<FieldError>) -> Self {
        Self(errors)
    }
}

impl Extend<FieldError> for FieldErrors {
    fn extend<I: IntoIterator<Item = FieldError>>(&mut self, iter: I) {
        self.0.extend(iter);
    }
}

impl FromIterator<FieldError> for FieldErrors {
    fn from_iter<I: IntoIterator<Item = FieldError>>(iter: I) -> Self {
        Self(iter.into_iter().collect())
    }
}

impl IntoIterator for FieldErrors {
    type Item = FieldError;
    type IntoIter = std::vec::IntoIter<FieldError>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl<'a> IntoIterator for &'a FieldErrors {
    type Item = &'a FieldError;
    type IntoIter = std::slice::Iter<'a, FieldError>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn paths_print_like_upstream() {
        let metadata = FieldPath::new("metadata");
        assert_eq!(metadata.child("name").to_string(), "metadata.name");
        assert_eq!(FieldPath::new("data").key("tls.crt").to_string(), "data[tls.crt]");
        assert_eq!(
            FieldPath::new("spec").child("items").index(0).child("name").to_string(),
            "spec.items[0].name"
        );
        assert_eq!(
            metadata.child("finalizers").index(0).to_string(),
            "metadata.finalizers[0]"
        );
        assert_eq!(FieldPath::nil().to_string(), "<nil>");
        assert_eq!(FieldPath::nil().child("key").to_string(), "key");
        assert_eq!(
            FieldPath::nil().child("values").index(0).key("env").to_string(),
            "values[0][env]"
        );
        assert_eq!(
            FieldPath::new("").to_string(),
            "[]",
            "crud_configmap_too_large reports the object as []"
        );
        assert_eq!(
            FieldPath::from_names(&["spec", "names", "plural"]).to_string(),
            "spec.names.plural"
        );
    }

    /// Cause messages and fields copied from the recordings (scenario in the last column).
    #[test]
    fn messages_match_recorded_causes() {
        let metadata = FieldPath::new("metadata");
        let cases: Vec<(FieldError, &str, &str, &str)> = vec![
            (
                FieldError::invalid(&metadata.child("name"), "BadName", "a lowercase RFC 1123 subdomain must ..."),
                "FieldValueInvalid",
                "metadata.name",
                "Invalid value: \"BadName\": a lowercase RFC 1123 subdomain must ...",
            ),
            (
                FieldError::required(&metadata.child("name"), "name or generateName is required"),
                "FieldValueRequired",
                "metadata.name",
                "Required value: name or generateName is required",
            ),
            (
                FieldError::required(&FieldPath::new("data").key("tls.key"), ""),
                "FieldValueRequired",
                "data[tls.key]",
                "Required value",
            ),
            (
                FieldError::too_long(&metadata.child("annotations"), Some(262144)),
                "FieldValueTooLong",
                "metadata.annotations",
                "Too long: may not be more than 262144 bytes",
            ),
            (
                FieldError::too_long(&FieldPath::new(""), Some(1048576)),
                "FieldValueTooLong",
                "[]",
                "Too long: may not be more than 1048576 bytes",
            ),
            (
                FieldError::not_supported(
                    &FieldPath::new("propagationPolicy"),
                    "Sometimes",
                    &["Foreground", "Background", "Orphan", "nil"],
                ),
                "FieldValueNotSupported",
                "propagationPolicy",
                "Unsupported value: \"Sometimes\": supported values: \"Foreground\", \"Background\", \"Orphan\", \"nil\"",
            ),
            (
                FieldError::not_supported(&FieldPath::new("dryRun"), BadValue::Json(json!(["Bogus"])), &["All"]),
                "FieldValueNotSupported",
                "dryRun",
                "Unsupported value: [\"Bogus\"]: supported values: \"All\"",
            ),
            (
                FieldError::not_supported(&FieldPath::new("spec").child("color"), json!({}), &["red", "green", "blue"]),
                "FieldValueNotSupported",
                "spec.color",
                "Unsupported value: {}: supported values: \"red\", \"green\", \"blue\"",
            ),
            (
                FieldError::forbidden(&FieldPath::new("force"), "may not be specified for non-apply patch"),
                "FieldValueForbidden",
                "force",
                "Forbidden: may not be specified for non-apply patch",
            ),
            (
                FieldError::too_many(&FieldPath::new("spec").child("items"), Some(4), Some(3)),
                "FieldValueTooMany",
                "spec.items",
                "Too many: 4: must have at most 3 items",
            ),
            (
                FieldError::duplicate(&FieldPath::new("spec").child("items").index(1), json!({"name": "a"})),
                "FieldValueDuplicate",
                "spec.items[1]",
                "Duplicate value: {\"name\":\"a\"}",
            ),
            (
                FieldError::duplicate(&FieldPath::new("spec").child("tags").index(1), "x"),
                "FieldValueDuplicate",
                "spec.tags[1]",
                "Duplicate value: \"x\"",
            ),
            (
                FieldError::invalid(&FieldPath::nil(), json!(null), "some validation rules were not checked"),
                "FieldValueInvalid",
                "<nil>",
                "Invalid value: null: some validation rules were not checked",
            ),
            (
                FieldError::invalid(&FieldPath::new("spec").child("leaseDurationSeconds"), -1, "must be greater than 0"),
                "FieldValueInvalid",
                "spec.leaseDurationSeconds",
                "Invalid value: -1: must be greater than 0",
            ),
            (
                FieldError::type_invalid(
                    &FieldPath::new("spec").child("size"),
                    "string",
                    "spec.size in body must be of type integer: \"string\"",
                ),
                "FieldValueTypeInvalid",
                "spec.size",
                "Invalid value: \"string\": spec.size in body must be of type integer: \"string\"",
            ),
            (
                FieldError::invalid(&FieldPath::new("spec").child("ratio"), 1.0, "spec.ratio in body should be less than 1"),
                "FieldValueInvalid",
                "spec.ratio",
                "Invalid value: 1: spec.ratio in body should be less than 1",
            ),
            (
                FieldError::invalid(
                    &FieldPath::new("x-kubernetes-validations").index(0).child("rule"),
                    BadValue::Json(json!({"Rule": "self.nonexistent > 1", "Message": ""})),
                    "compilation failed",
                ),
                "FieldValueInvalid",
                "x-kubernetes-validations[0].rule",
                "Invalid value: {\"Rule\":\"self.nonexistent \\u003e 1\",\"Message\":\"\"}: compilation failed",
            ),
            (
                FieldError::too_long(&FieldPath::new("fieldManager"), Some(128)),
                "FieldValueTooLong",
                "fieldManager",
                "Too long: may not be more than 128 bytes",
            ),
        ];
        for (error, reason, field, message) in cases {
            assert_eq!(error.error_type.reason(), reason, "{error}");
            assert_eq!(error.field, field, "{error}");
            assert_eq!(error.message(), message, "{error}");
            assert_eq!(error.to_string(), format!("{field}: {message}"));
        }
    }

    #[test]
    fn limits_use_singular_and_unknown_forms() {
        let path = FieldPath::new("f");
        assert_eq!(
            FieldError::too_long(&path, Some(1)).message(),
            "Too long: may not be more than 1 byte"
        );
        assert_eq!(
            FieldError::too_long(&path, None).message(),
            "Too long: value is too long"
        );
        assert_eq!(
            FieldError::too_long_characters(&path, Some(63)).message(),
            "Too long: may not be more than 63 characters"
        );
        assert_eq!(
            FieldError::too_many(&path, None, Some(1)).message(),
            "Too many: must have at most 1 item"
        );
        assert_eq!(
            FieldError::too_many(&path, Some(9), None).message(),
            "Too many: 9: has too many items"
        );
        assert_eq!(
            FieldError::too_short(&path, "ab", Some(3)).message(),
            "Too short: must be at least 3 characters"
        );
        assert_eq!(FieldError::internal(&path, "boom").message(), "Internal error: boom");
        assert_eq!(FieldError::not_found(&path, "x").message(), "Not found: \"x\"");
        assert_eq!(
            FieldError::not_supported(&path, "x", &[]).message(),
            "Unsupported value: \"x\""
        );
        assert_eq!(FieldError::invalid(&path, true, "").message(), "Invalid value: true");
    }

    #[test]
    fn aggregate_is_bare_for_one_bracketed_for_many_and_deduplicated() {
        let path = FieldPath::new("metadata").child("finalizers");
        let forbidden = FieldError::forbidden(&path, "no new finalizers can be added");
        assert_eq!(FieldErrors::new().aggregate_message(), None);
        let single: FieldErrors = vec![forbidden.clone()].into();
        assert_eq!(
            single.aggregate_message().as_deref(),
            Some("metadata.finalizers: Forbidden: no new finalizers can be added")
        );
        // crud_delete_with_finalizer: two identical causes, one message.
        let twice: FieldErrors = vec![forbidden.clone(), forbidden].into();
        assert_eq!(twice.len(), 2);
        assert_eq!(twice.aggregate_message(), single.aggregate_message());
        let many: FieldErrors = vec![
            FieldError::required(&FieldPath::new("data").key("tls.crt"), ""),
            FieldError::required(&FieldPath::new("data").key("tls.key"), ""),
        ]
        .into();
        assert_eq!(
            many.to_string(),
            "[data[tls.crt]: Required value, data[tls.key]: Required value]"
        );
        assert!(many.clone().into_result().is_err());
        assert!(FieldErrors::new().into_result().is_ok());
    }
}
