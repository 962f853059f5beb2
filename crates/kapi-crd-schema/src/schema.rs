//! The parsed form of one `JSONSchemaProps` node (apiextensions.k8s.io/v1), as every other module reads it.
//!
//! Parsing is total: whatever JSON arrives, a [`Node`] comes out, and keywords of the wrong JSON type read as
//! absent. Whether a schema is acceptable is decided by the CRD validation ([`crate::crd`]) and the structural
//! rules ([`crate::structural`]), which also look at the raw keyword map kept in [`Node::raw`].

use std::collections::BTreeMap;

use regex::Regex;
use serde_json::{Map, Value};

/// `additionalProperties`: a boolean or a schema.
#[derive(Debug, Clone)]
pub(crate) enum Additional {
    /// `additionalProperties: true|false`.
    Allows(bool),
    /// `additionalProperties: {schema}`.
    Schema(Box<Node>),
}

/// One schema node. Properties are kept sorted by name: upstream iterates Go maps, so any order is upstream's;
/// sorted is the deterministic one.
#[derive(Debug, Clone, Default)]
pub(crate) struct Node {
    /// The keywords as given.
    pub(crate) raw: Map<String, Value>,
    pub(crate) type_name: String,
    pub(crate) format: String,
    pub(crate) title: String,
    pub(crate) description: String,
    pub(crate) nullable: bool,
    pub(crate) default: Option<Value>,
    pub(crate) properties: BTreeMap<String, Node>,
    pub(crate) additional_properties: Option<Additional>,
    pub(crate) items: Option<Box<Node>>,
    /// `items` given as an array of schemas (forbidden for CRDs).
    pub(crate) items_is_array: bool,
    pub(crate) preserve_unknown_fields: Option<bool>,
    pub(crate) embedded_resource: bool,
    pub(crate) int_or_string: bool,
    pub(crate) list_type: Option<String>,
    pub(crate) list_map_keys: Vec<String>,
    pub(crate) map_type: Option<String>,
    pub(crate) validations: Vec<Value>,
    pub(crate) maximum: Option<f64>,
    pub(crate) exclusive_maximum: bool,
    pub(crate) minimum: Option<f64>,
    pub(crate) exclusive_minimum: bool,
    pub(crate) max_length: Option<i64>,
    pub(crate) min_length: Option<i64>,
    pub(crate) pattern: Option<String>,
    /// The compiled pattern, or the compiler's complaint.
    pub(crate) pattern_regex: Option<Result<Regex, String>>,
    pub(crate) max_items: Option<i64>,
    pub(crate) min_items: Option<i64>,
    pub(crate) unique_items: bool,
    pub(crate) multiple_of: Option<f64>,
    pub(crate) enum_values: Option<Vec<Value>>,
    pub(crate) max_properties: Option<i64>,
    pub(crate) min_properties: Option<i64>,
    pub(crate) required: Vec<String>,
    pub(crate) all_of: Vec<Node>,
    pub(crate) one_of: Vec<Node>,
    pub(crate) any_of: Vec<Node>,
    pub(crate) not: Option<Box<Node>>,
}

/// Upper bound on how deep schemas nest; deeper parts read as empty (serde_json's parser already stops at 128).
const MAX_DEPTH: usize = 256;

fn text(map: &Map<String, Value>, key: &str) -> String {
    map.get(key).and_then(Value::as_str).unwrap_or_default().to_owned()
}

fn flag(map: &Map<String, Value>, key: &str) -> bool {
    map.get(key).and_then(Value::as_bool).unwrap_or(false)
}

fn float(map: &Map<String, Value>, key: &str) -> Option<f64> {
    map.get(key).and_then(Value::as_f64)
}

/// An integer keyword; an integral float (`3.0`) counts, as Go's decoder would reject anything else.
pub(crate) fn integer(map: &Map<String, Value>, key: &str) -> Option<i64> {
    let value = map.get(key)?;
    value.as_i64().or_else(|| {
        value
            .as_f64()
            .filter(|f| f.fract() == 0.0 && f.abs() < 9.0e18)
            .map(|f| f as i64)
    })
}

fn strings(map: &Map<String, Value>, key: &str) -> Vec<String> {
    map.get(key)
        .and_then(Value::as_array)
        .map(|items| items.iter().filter_map(Value::as_str).map(str::to_owned).collect())
        .unwrap_or_default()
}

impl Node {
    /// Parses a schema; a non-object reads as the empty schema.
    pub(crate) fn parse(value: &Value) -> Node {
        Self::parse_at(value, 0)
    }

    fn parse_at(value: &Value, depth: usize) -> Node {
        let Some(map) = value.as_object() else {
            return Node::default();
        };
        if depth > MAX_DEPTH {
            return Node::default();
        }
        let child = |value: &Value| Self::parse_at(value, depth + 1);
        let list = |key: &str| -> Vec<Node> {
            map.get(key)
                .and_then(Value::as_array)
                .map(|items| items.iter().map(child).collect())
                .unwrap_or_default()
        };
        let properties = map
            .get("properties")
            .and_then(Value::as_object)
            .map(|props| {
                props
                    .iter()
                    .map(|(name, schema)| (name.clone(), child(schema)))
                    .collect()
            })
            .unwrap_or_default();
        let additional_properties = match map.get("additionalProperties") {
            Some(Value::Bool(allows)) => Some(Additional::Allows(*allows)),
            Some(schema @ Value::Object(_)) => Some(Additional::Schema(Box::new(child(schema)))),
            _ => None,
        };
        let (items, items_is_array) = match map.get("items") {
            Some(schema @ Value::Object(_)) => (Some(Box::new(child(schema))), false),
            Some(Value::Array(schemas)) => (schemas.first().map(|schema| Box::new(child(schema))), true),
            _ => (None, false),
        };
        let pattern = map.get("pattern").and_then(Value::as_str).map(str::to_owned);
        let pattern_regex = pattern.as_ref().map(|pattern| compile_pattern(pattern));
        Node {
            type_name: text(map, "type"),
            format: text(map, "format"),
            title: text(map, "title"),
            description: text(map, "description"),
            nullable: flag(map, "nullable"),
            default: map.get("default").filter(|value| !value.is_null()).cloned(),
            properties,
            additional_properties,
            items,
            items_is_array,
            preserve_unknown_fields: map.get("x-kubernetes-preserve-unknown-fields").and_then(Value::as_bool),
            embedded_resource: flag(map, "x-kubernetes-embedded-resource"),
            int_or_string: flag(map, "x-kubernetes-int-or-string"),
            list_type: map
                .get("x-kubernetes-list-type")
                .and_then(Value::as_str)
                .map(str::to_owned),
            list_map_keys: strings(map, "x-kubernetes-list-map-keys"),
            map_type: map
                .get("x-kubernetes-map-type")
                .and_then(Value::as_str)
                .map(str::to_owned),
            validations: map
                .get("x-kubernetes-validations")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default(),
            maximum: float(map, "maximum"),
            exclusive_maximum: flag(map, "exclusiveMaximum"),
            minimum: float(map, "minimum"),
            exclusive_minimum: flag(map, "exclusiveMinimum"),
            max_length: integer(map, "maxLength"),
            min_length: integer(map, "minLength"),
            pattern,
            pattern_regex,
            max_items: integer(map, "maxItems"),
            min_items: integer(map, "minItems"),
            unique_items: flag(map, "uniqueItems"),
            multiple_of: float(map, "multipleOf"),
            enum_values: map.get("enum").and_then(Value::as_array).cloned(),
            max_properties: integer(map, "maxProperties"),
            min_properties: integer(map, "minProperties"),
            required: strings(map, "required"),
            all_of: list("allOf"),
            one_of: list("oneOf"),
            any_of: list("anyOf"),
            not: map
                .get("not")
                .filter(|v| v.is_object())
                .map(|schema| Box::new(child(schema))),
            raw: map.clone(),
        }
    }

    /// Whether `x-kubernetes-preserve-unknown-fields: true`.
    pub(crate) fn preserves_unknown(&self) -> bool {
        self.preserve_unknown_fields == Some(true)
    }

    /// The schema of `additionalProperties` when it is a schema.
    pub(crate) fn additional_schema(&self) -> Option<&Node> {
        match &self.additional_properties {
            Some(Additional::Schema(schema)) => Some(schema),
            _ => None,
        }
    }

    /// The schema applying to map values not named in `properties`: a schema, or the empty schema for
    /// `additionalProperties: true`.
    pub(crate) fn additional_values(&self) -> Option<AdditionalValues<'_>> {
        match &self.additional_properties {
            Some(Additional::Schema(schema)) => Some(AdditionalValues::Schema(schema)),
            Some(Additional::Allows(true)) => Some(AdditionalValues::Anything),
            _ => None,
        }
    }

    /// Calls `visit` on this node and every node below it (properties, items, additionalProperties, junctors).
    pub(crate) fn any(&self, visit: &dyn Fn(&Node) -> bool) -> bool {
        if visit(self) {
            return true;
        }
        self.properties.values().any(|node| node.any(visit))
            || self.items.as_ref().is_some_and(|node| node.any(visit))
            || self.additional_schema().is_some_and(|node| node.any(visit))
            || self.all_of.iter().any(|node| node.any(visit))
            || self.one_of.iter().any(|node| node.any(visit))
            || self.any_of.iter().any(|node| node.any(visit))
            || self.not.as_ref().is_some_and(|node| node.any(visit))
    }
}

/// What applies to values of a map beyond its named properties.
pub(crate) enum AdditionalValues<'a> {
    /// A schema.
    Schema(&'a Node),
    /// `additionalProperties: true`: anything, kept as is.
    Anything,
}

/// Compiles a schema `pattern` the way Go's `regexp` would read it (RE2 syntax; the regex crate is close).
pub(crate) fn compile_pattern(pattern: &str) -> Result<Regex, String> {
    regex::RegexBuilder::new(pattern)
        .size_limit(1 << 20)
        .dfa_size_limit(1 << 20)
        .build()
        .map_err(|error| error.to_string())
}
