//! `/openapi/v2` as protobuf (`application/com.github.proto-openapi.spec.v2@v1.0+protobuf`): the swagger JSON
//! document encoded as gnostic's `openapi.v2.Document` message (field numbers from gnostic's
//! `openapiv2/OpenAPIv2.proto`). client-go's discovery (and so kubectl) asks only for this form.
//!
//! Vendor extensions, defaults, examples and enum values are `Any` messages carrying YAML text; JSON is YAML, so
//! they hold the compact JSON of the value, which clients decode with a YAML parser.

use serde_json::{Map, Value};

/// Encodes a swagger 2.0 JSON document (as built by [`crate::build_v2`]) as an `openapi.v2.Document`.
pub fn encode_v2_document(document: &Value) -> Vec<u8> {
    let mut m = Message::default();
    let empty = Map::new();
    let object = document.as_object().unwrap_or(&empty);
    m.string(1, str_of(object, "swagger"));
    if let Some(info) = object.get("info").and_then(Value::as_object) {
        m.message(2, encode_info(info));
    }
    m.string(3, str_of(object, "host"));
    m.string(4, str_of(object, "basePath"));
    m.strings(5, object.get("schemes"));
    m.strings(6, object.get("consumes"));
    m.strings(7, object.get("produces"));
    if let Some(paths) = object.get("paths").and_then(Value::as_object) {
        let mut p = Message::default();
        for (name, item) in paths {
            if name.starts_with("x-") {
                p.message(1, named_any(name, item));
            } else {
                p.message(2, named(name, encode_path_item(item)));
            }
        }
        m.message(8, p);
    }
    if let Some(definitions) = object.get("definitions").and_then(Value::as_object) {
        let mut d = Message::default();
        for (name, schema) in definitions {
            d.message(1, named(name, encode_schema(schema)));
        }
        m.message(9, d);
    }
    if let Some(parameters) = object.get("parameters").and_then(Value::as_object) {
        let mut d = Message::default();
        for (name, parameter) in parameters {
            d.message(1, named(name, encode_parameter(parameter)));
        }
        m.message(10, d);
    }
    for requirement in object.get("security").and_then(Value::as_array).into_iter().flatten() {
        let mut r = Message::default();
        for (name, scopes) in requirement.as_object().into_iter().flatten() {
            let mut array = Message::default();
            array.strings(1, Some(scopes));
            r.message(1, named(name, array));
        }
        m.message(12, r);
    }
    if let Some(schemes) = object.get("securityDefinitions").and_then(Value::as_object) {
        let mut d = Message::default();
        for (name, scheme) in schemes {
            d.message(1, named(name, encode_security_scheme(scheme)));
        }
        m.message(13, d);
    }
    m.vendor_extensions(16, object);
    m.bytes
}

fn encode_info(info: &Map<String, Value>) -> Message {
    let mut m = Message::default();
    m.string(1, str_of(info, "title"));
    m.string(2, str_of(info, "version"));
    m.string(3, str_of(info, "description"));
    m.string(4, str_of(info, "termsOfService"));
    m.vendor_extensions(7, info);
    m
}

fn encode_security_scheme(scheme: &Value) -> Message {
    let empty = Map::new();
    let s = scheme.as_object().unwrap_or(&empty);
    let mut inner = Message::default();
    let mut item = Message::default();
    if str_of(s, "type") == "basic" {
        inner.string(1, str_of(s, "type"));
        inner.string(2, str_of(s, "description"));
        inner.vendor_extensions(3, s);
        item.message(1, inner);
    } else {
        // apiKey, the only other kind kube-apiserver uses; oauth2 flows are not served.
        inner.string(1, str_of(s, "type"));
        inner.string(2, str_of(s, "name"));
        inner.string(3, str_of(s, "in"));
        inner.string(4, str_of(s, "description"));
        inner.vendor_extensions(5, s);
        item.message(2, inner);
    }
    item
}

fn encode_path_item(item: &Value) -> Message {
    let empty = Map::new();
    let object = item.as_object().unwrap_or(&empty);
    let mut m = Message::default();
    m.string(1, str_of(object, "$ref"));
    for (field, method) in [
        (2, "get"),
        (3, "put"),
        (4, "post"),
        (5, "delete"),
        (6, "options"),
        (7, "head"),
        (8, "patch"),
    ] {
        if let Some(operation) = object.get(method) {
            m.message(field, encode_operation(operation));
        }
    }
    for parameter in object.get("parameters").and_then(Value::as_array).into_iter().flatten() {
        m.message(9, encode_parameters_item(parameter));
    }
    m.vendor_extensions(10, object);
    m
}

fn encode_operation(operation: &Value) -> Message {
    let empty = Map::new();
    let o = operation.as_object().unwrap_or(&empty);
    let mut m = Message::default();
    m.strings(1, o.get("tags"));
    m.string(2, str_of(o, "summary"));
    m.string(3, str_of(o, "description"));
    m.string(5, str_of(o, "operationId"));
    m.strings(6, o.get("produces"));
    m.strings(7, o.get("consumes"));
    for parameter in o.get("parameters").and_then(Value::as_array).into_iter().flatten() {
        m.message(8, encode_parameters_item(parameter));
    }
    if let Some(responses) = o.get("responses").and_then(Value::as_object) {
        let mut r = Message::default();
        for (code, response) in responses {
            if code.starts_with("x-") {
                r.message(2, named_any(code, response));
                continue;
            }
            let mut value = Message::default();
            if let Some(reference) = response.get("$ref").and_then(Value::as_str) {
                let mut json_reference = Message::default();
                json_reference.string(1, reference);
                value.message(2, json_reference);
            } else {
                value.message(1, encode_response(response));
            }
            r.message(1, named(code, value));
        }
        m.message(9, r);
    }
    m.strings(10, o.get("schemes"));
    m.boolean(11, o.get("deprecated").and_then(Value::as_bool).unwrap_or(false));
    m.vendor_extensions(13, o);
    m
}

fn encode_response(response: &Value) -> Message {
    let empty = Map::new();
    let r = response.as_object().unwrap_or(&empty);
    let mut m = Message::default();
    m.string(1, str_of(r, "description"));
    if let Some(schema) = r.get("schema") {
        let mut item = Message::default();
        item.message(1, encode_schema(schema));
        m.message(2, item);
    }
    m.vendor_extensions(5, r);
    m
}

fn encode_parameters_item(parameter: &Value) -> Message {
    let mut m = Message::default();
    if let Some(reference) = parameter.get("$ref").and_then(Value::as_str) {
        let mut json_reference = Message::default();
        json_reference.string(1, reference);
        json_reference.string(
            2,
            parameter.get("description").and_then(Value::as_str).unwrap_or_default(),
        );
        m.message(2, json_reference);
    } else {
        m.message(1, encode_parameter(parameter));
    }
    m
}

fn encode_parameter(parameter: &Value) -> Message {
    let empty = Map::new();
    let p = parameter.as_object().unwrap_or(&empty);
    let location = str_of(p, "in");
    let mut m = Message::default();
    if location == "body" {
        let mut body = Message::default();
        body.string(1, str_of(p, "description"));
        body.string(2, str_of(p, "name"));
        body.string(3, location);
        body.boolean(4, p.get("required").and_then(Value::as_bool).unwrap_or(false));
        if let Some(schema) = p.get("schema") {
            body.message(5, encode_schema(schema));
        }
        body.vendor_extensions(6, p);
        m.message(1, body);
        return m;
    }
    // Query and formData sub-schemas have `allowEmptyValue` at 5; header and path ones do not, so their later
    // fields sit one number lower.
    let (oneof_field, shift) = match location {
        "header" => (1, 1),
        "formData" => (2, 0),
        "path" => (4, 1),
        _ => (3, 0),
    };
    let at = |n: u32| n - shift;
    let mut sub = Message::default();
    sub.boolean(1, p.get("required").and_then(Value::as_bool).unwrap_or(false));
    sub.string(2, location);
    sub.string(3, str_of(p, "description"));
    sub.string(4, str_of(p, "name"));
    if shift == 0 {
        sub.boolean(5, p.get("allowEmptyValue").and_then(Value::as_bool).unwrap_or(false));
    }
    sub.string(at(6), str_of(p, "type"));
    sub.string(at(7), str_of(p, "format"));
    sub.string(at(9), str_of(p, "collectionFormat"));
    if let Some(default) = p.get("default") {
        sub.message(at(10), any(default));
    }
    sub.double(at(11), p.get("maximum"));
    sub.boolean(
        at(12),
        p.get("exclusiveMaximum").and_then(Value::as_bool).unwrap_or(false),
    );
    sub.double(at(13), p.get("minimum"));
    sub.boolean(
        at(14),
        p.get("exclusiveMinimum").and_then(Value::as_bool).unwrap_or(false),
    );
    sub.int64(at(15), p.get("maxLength"));
    sub.int64(at(16), p.get("minLength"));
    sub.string(at(17), str_of(p, "pattern"));
    sub.int64(at(18), p.get("maxItems"));
    sub.int64(at(19), p.get("minItems"));
    sub.boolean(at(20), p.get("uniqueItems").and_then(Value::as_bool).unwrap_or(false));
    for value in p.get("enum").and_then(Value::as_array).into_iter().flatten() {
        sub.message(at(21), any(value));
    }
    sub.double(at(22), p.get("multipleOf"));
    sub.vendor_extensions(at(23), p);
    let mut non_body = Message::default();
    non_body.message(oneof_field, sub);
    m.message(2, non_body);
    m
}

/// An `openapi.v2.Schema`.
fn encode_schema(schema: &Value) -> Message {
    let mut m = Message::default();
    let Some(s) = schema.as_object() else {
        return m;
    };
    m.string(1, str_of(s, "$ref"));
    m.string(2, str_of(s, "format"));
    m.string(3, str_of(s, "title"));
    m.string(4, str_of(s, "description"));
    if let Some(default) = s.get("default") {
        m.message(5, any(default));
    }
    m.double(6, s.get("multipleOf"));
    m.double(7, s.get("maximum"));
    m.boolean(8, s.get("exclusiveMaximum").and_then(Value::as_bool).unwrap_or(false));
    m.double(9, s.get("minimum"));
    m.boolean(10, s.get("exclusiveMinimum").and_then(Value::as_bool).unwrap_or(false));
    m.int64(11, s.get("maxLength"));
    m.int64(12, s.get("minLength"));
    m.string(13, str_of(s, "pattern"));
    m.int64(14, s.get("maxItems"));
    m.int64(15, s.get("minItems"));
    m.boolean(16, s.get("uniqueItems").and_then(Value::as_bool).unwrap_or(false));
    m.int64(17, s.get("maxProperties"));
    m.int64(18, s.get("minProperties"));
    m.strings(19, s.get("required"));
    for value in s.get("enum").and_then(Value::as_array).into_iter().flatten() {
        m.message(20, any(value));
    }
    match s.get("additionalProperties") {
        Some(Value::Bool(allowed)) => {
            let mut item = Message::default();
            // proto3 `oneof` members are written even when false: presence is the point.
            item.boolean_always(2, *allowed);
            m.message(21, item);
        }
        Some(additional) => {
            let mut item = Message::default();
            item.message(1, encode_schema(additional));
            m.message(21, item);
        }
        None => {}
    }
    match s.get("type") {
        Some(Value::String(single)) => {
            let mut type_item = Message::default();
            type_item.string(1, single);
            m.message(22, type_item);
        }
        Some(many @ Value::Array(_)) => {
            let mut type_item = Message::default();
            type_item.strings(1, Some(many));
            m.message(22, type_item);
        }
        _ => {}
    }
    match s.get("items") {
        Some(Value::Array(schemas)) => {
            let mut items = Message::default();
            schemas
                .iter()
                .for_each(|schema| items.message(1, encode_schema(schema)));
            m.message(23, items);
        }
        Some(single) => {
            let mut items = Message::default();
            items.message(1, encode_schema(single));
            m.message(23, items);
        }
        None => {}
    }
    for member in s.get("allOf").and_then(Value::as_array).into_iter().flatten() {
        m.message(24, encode_schema(member));
    }
    if let Some(properties) = s.get("properties").and_then(Value::as_object) {
        let mut p = Message::default();
        for (name, property) in properties {
            p.message(1, named(name, encode_schema(property)));
        }
        m.message(25, p);
    }
    m.string(26, str_of(s, "discriminator"));
    m.boolean(27, s.get("readOnly").and_then(Value::as_bool).unwrap_or(false));
    if let Some(example) = s.get("example") {
        m.message(30, any(example));
    }
    m.vendor_extensions(31, s);
    m
}

fn str_of<'a>(object: &'a Map<String, Value>, key: &str) -> &'a str {
    object.get(key).and_then(Value::as_str).unwrap_or_default()
}

/// `{name = 1, value = 2}`, the shape of every gnostic `Named*` message.
fn named(name: &str, value: Message) -> Message {
    let mut m = Message::default();
    m.string(1, name);
    m.message(2, value);
    m
}

/// `NamedAny`: a vendor extension.
fn named_any(name: &str, value: &Value) -> Message {
    named(name, any(value))
}

/// `Any {yaml = 2}` holding the value as JSON text (valid YAML).
fn any(value: &Value) -> Message {
    let mut m = Message::default();
    m.string(2, &value.to_string());
    m
}

/// A protobuf message being written: fields appended in order, proto3 defaults omitted.
#[derive(Debug, Default)]
struct Message {
    bytes: Vec<u8>,
}

impl Message {
    fn varint(&mut self, mut value: u64) {
        while value >= 0x80 {
            self.bytes.push((value as u8 & 0x7f) | 0x80);
            value >>= 7;
        }
        self.bytes.push(value as u8);
    }

    fn key(&mut self, field: u32, wire_type: u8) {
        self.varint((u64::from(field) << 3) | u64::from(wire_type));
    }

    fn length_delimited(&mut self, field: u32, data: &[u8]) {
        self.key(field, 2);
        self.varint(data.len() as u64);
        self.bytes.extend_from_slice(data);
    }

    fn string(&mut self, field: u32, value: &str) {
        if !value.is_empty() {
            self.length_delimited(field, value.as_bytes());
        }
    }

    fn strings(&mut self, field: u32, values: Option<&Value>) {
        for value in values.and_then(Value::as_array).into_iter().flatten() {
            if let Some(text) = value.as_str() {
                // Repeated strings keep empty entries: position carries meaning.
                self.length_delimited(field, text.as_bytes());
            }
        }
    }

    fn message(&mut self, field: u32, message: Message) {
        self.length_delimited(field, &message.bytes);
    }

    fn boolean(&mut self, field: u32, value: bool) {
        if value {
            self.boolean_always(field, value);
        }
    }

    fn boolean_always(&mut self, field: u32, value: bool) {
        self.key(field, 0);
        self.varint(u64::from(value));
    }

    fn int64(&mut self, field: u32, value: Option<&Value>) {
        if let Some(number) = value.and_then(Value::as_i64).filter(|n| *n != 0) {
            self.key(field, 0);
            // int64 is two's complement in a 10-byte varint for negatives.
            self.varint(number as u64);
        }
    }

    fn double(&mut self, field: u32, value: Option<&Value>) {
        if let Some(number) = value.and_then(Value::as_f64).filter(|n| *n != 0.0) {
            self.key(field, 1);
            self.bytes.extend_from_slice(&number.to_le_bytes());
        }
    }

    fn vendor_extensions(&mut self, field: u32, object: &Map<String, Value>) {
        for (name, value) in object.iter().filter(|(name, _)| name.starts_with("x-")) {
            self.message(field, named_any(name, value));
        }
    }
}
