//! Protobuf → JSON: reads a message along its descriptor and prints what Go's `encoding/json` prints for the
//! struct Go's generated `Unmarshal` would fill.

use std::collections::BTreeMap;

use base64::Engine;
use serde_json::{Map, Number, Value};

use crate::{
    descriptor::{Cardinality, Field, Registry, Special, ValueType},
    time,
    wire::{FieldReader, WireType, WireValue},
    Error, MAGIC,
};

/// How deep messages may nest before decoding gives up: no served type comes close, and a bound keeps hostile
/// input (a RawExtension holding an envelope holding a RawExtension ...) from exhausting the stack.
const MAX_DEPTH: usize = 64;

/// Decodes message `index` into its JSON fields, in Go struct order.
pub(crate) fn message_fields(
    registry: &Registry,
    index: usize,
    data: &[u8],
    depth: usize,
) -> Result<Map<String, Value>, Error> {
    match message(registry, index, data, depth)? {
        Value::Object(fields) => Ok(fields),
        _ => Err(Error::malformed("the kind is not an object")),
    }
}

fn message(registry: &Registry, index: usize, data: &[u8], depth: usize) -> Result<Value, Error> {
    if depth > MAX_DEPTH {
        return Err(Error::malformed("messages nested too deeply"));
    }
    let message = &registry.messages[index];
    let mut seen: Vec<Vec<WireValue<'_>>> = vec![Vec::new(); message.fields.len()];
    for field in FieldReader::new(data) {
        let (number, value) = field?;
        // Unknown fields are skipped, as Go's generated code skips them.
        if let Some(field_index) = message.field_by_number(number) {
            seen[field_index].push(value);
        }
    }
    if message.array {
        let Some(field) = message.fields.first() else {
            return Ok(Value::Array(Vec::new()));
        };
        let items = repeated(registry, field, &seen[0], depth)?;
        return Ok(Value::Array(items));
    }
    let mut object = Map::with_capacity(message.fields.len());
    for (field, values) in message.fields.iter().zip(&seen) {
        let decoded = decode_field(registry, field, values, depth).map_err(|error| error.within(&field.json_name))?;
        if let Some(value) = decoded {
            object.insert(field.json_name.clone(), value);
        }
    }
    Ok(Value::Object(object))
}

/// The JSON value of one field, or `None` when Go's encoder leaves it out.
fn decode_field(
    registry: &Registry,
    field: &Field,
    values: &[WireValue<'_>],
    depth: usize,
) -> Result<Option<Value>, Error> {
    match field.cardinality {
        Cardinality::Repeated => {
            let items = repeated(registry, field, values, depth)?;
            Ok(match (items.is_empty(), field.omit_empty) {
                (true, true) => None,
                // kube-apiserver always fills a list's items, so an empty list prints `"items": []`.
                (true, false) if field.json_name == "items" => Some(Value::Array(items)),
                // Go decodes an absent repeated field to a nil slice, which prints as null.
                (true, false) => Some(Value::Null),
                (false, _) => Some(Value::Array(items)),
            })
        }
        Cardinality::Map => {
            let mut entries = BTreeMap::new();
            for value in values {
                let (key, entry_value) = map_entry(registry, field, *value, depth)?;
                entries.insert(key, entry_value);
            }
            Ok(match (entries.is_empty(), field.omit_empty) {
                (true, true) => None,
                (true, false) => Some(Value::Null),
                // Go prints map keys sorted.
                (false, _) => Some(Value::Object(entries.into_iter().collect())),
            })
        }
        Cardinality::Single => {
            if values.is_empty() && field.pointer {
                // A nil pointer: left out under omitempty/omitzero, printed as null otherwise.
                return Ok((!field.omit_empty && !field.omit_zero).then_some(Value::Null));
            }
            let value = match field.value_type {
                ValueType::Message(_) | ValueType::Special(_) => {
                    // Repeated occurrences of a message field merge, which is what decoding their
                    // concatenation does.
                    let mut bytes = Vec::new();
                    for value in values {
                        bytes.extend_from_slice(expect_bytes(*value)?);
                    }
                    structured(registry, field.value_type, &bytes, depth)?
                }
                _ => match values.last() {
                    Some(value) => scalar(field.value_type, *value)?,
                    None => zero_scalar(field.value_type),
                },
            };
            let omit = match field.value_type {
                ValueType::Message(_) | ValueType::Special(_) => field.omit_zero && value.is_null(),
                _ => !field.pointer && (field.omit_empty || field.omit_zero) && is_zero_scalar(&value),
            };
            Ok((!omit).then_some(value))
        }
    }
}

fn repeated(registry: &Registry, field: &Field, values: &[WireValue<'_>], depth: usize) -> Result<Vec<Value>, Error> {
    let mut items = Vec::with_capacity(values.len());
    for (position, value) in values.iter().enumerate() {
        let at = |error: Error| error.within(&format!("[{position}]"));
        match (field.value_type, value) {
            (ValueType::Message(_) | ValueType::Special(_), value) => {
                items.push(
                    structured(registry, field.value_type, expect_bytes(*value).map_err(at)?, depth).map_err(at)?,
                );
            }
            (ValueType::String | ValueType::Bytes, value) => items.push(scalar(field.value_type, *value).map_err(at)?),
            // A packed run of numbers: one length-delimited field holding several values.
            (numeric, WireValue::Bytes(packed)) => {
                let mut rest: &[u8] = packed;
                while !rest.is_empty() {
                    let (value, used) = packed_element(numeric, rest).map_err(at)?;
                    items.push(scalar(numeric, value).map_err(at)?);
                    rest = &rest[used..];
                }
            }
            (numeric, value) => items.push(scalar(numeric, *value).map_err(at)?),
        }
    }
    Ok(items)
}

fn packed_element(value_type: ValueType, data: &[u8]) -> Result<(WireValue<'static>, usize), Error> {
    let short = || Error::malformed("truncated packed field");
    match value_type {
        ValueType::Double => {
            let bytes: [u8; 8] = data
                .get(..8)
                .and_then(|bytes| bytes.try_into().ok())
                .ok_or_else(short)?;
            Ok((WireValue::Fixed64(u64::from_le_bytes(bytes)), 8))
        }
        ValueType::Float => {
            let bytes: [u8; 4] = data
                .get(..4)
                .and_then(|bytes| bytes.try_into().ok())
                .ok_or_else(short)?;
            Ok((WireValue::Fixed32(u32::from_le_bytes(bytes)), 4))
        }
        _ => {
            let mut value = 0u64;
            for (index, byte) in data.iter().enumerate().take(10) {
                value |= u64::from(byte & 0x7f) << (7 * index);
                if byte & 0x80 == 0 {
                    return Ok((WireValue::Varint(value), index + 1));
                }
            }
            Err(short())
        }
    }
}

fn map_entry(registry: &Registry, field: &Field, value: WireValue<'_>, depth: usize) -> Result<(String, Value), Error> {
    let mut key = String::new();
    let mut value_bytes: Option<Vec<u8>> = None;
    let mut scalar_value = None;
    for entry_field in FieldReader::new(expect_bytes(value)?) {
        match entry_field? {
            (1, WireValue::Bytes(text)) => key = String::from_utf8_lossy(text).into_owned(),
            (1, _) => return Err(Error::malformed("map key of the wrong wire type")),
            (2, value) => match field.value_type {
                ValueType::Message(_) | ValueType::Special(_) => {
                    value_bytes
                        .get_or_insert_with(Vec::new)
                        .extend_from_slice(expect_bytes(value)?);
                }
                scalar_type => scalar_value = Some(scalar(scalar_type, value)?),
            },
            _ => {}
        }
    }
    let entry_value = match field.value_type {
        ValueType::Message(_) | ValueType::Special(_) => structured(
            registry,
            field.value_type,
            value_bytes.as_deref().unwrap_or_default(),
            depth,
        )
        .map_err(|error| error.within(&key))?,
        // A Go map value absent on the wire is the zero value; for []byte that is nil, printed as null.
        ValueType::Bytes => scalar_value.unwrap_or(Value::Null),
        scalar_type => scalar_value.unwrap_or_else(|| zero_scalar(scalar_type)),
    };
    Ok((key, entry_value))
}

/// Decodes a message-typed value (a descriptor message or a hand-implemented type).
fn structured(registry: &Registry, value_type: ValueType, data: &[u8], depth: usize) -> Result<Value, Error> {
    match value_type {
        ValueType::Message(index) => message(registry, index, data, depth + 1),
        ValueType::Special(special) => special_value(special, data, depth),
        _ => Err(Error::malformed("expected a message")),
    }
}

fn special_value(special: Special, data: &[u8], depth: usize) -> Result<Value, Error> {
    match special {
        Special::Time | Special::MicroTime => {
            if data.is_empty() {
                return Ok(Value::Null);
            }
            let (mut seconds, mut nanos) = (0i64, 0i64);
            for field in FieldReader::new(data) {
                match field? {
                    (1, WireValue::Varint(value)) => seconds = value as i64,
                    (2, WireValue::Varint(value)) => nanos = i64::from(value as i32),
                    (1 | 2, _) => return Err(Error::malformed("timestamp field of the wrong wire type")),
                    _ => {}
                }
            }
            let seconds = seconds.checked_add(nanos.div_euclid(1_000_000_000));
            let nanos = nanos.rem_euclid(1_000_000_000);
            // Years outside 0000-9999 cannot be printed in RFC 3339; Go's encoder fails on them too.
            let seconds = seconds
                .filter(|seconds| (-62_167_219_200..=253_402_300_799).contains(seconds))
                .ok_or_else(|| Error::malformed("timestamp out of range"))?;
            if seconds == time::GO_ZERO_TIME_UNIX && nanos == 0 {
                return Ok(Value::Null);
            }
            let micros = (special == Special::MicroTime).then_some((nanos / 1000) as u32);
            Ok(Value::String(time::format(seconds, micros)))
        }
        Special::FieldsV1 | Special::RawExtension => {
            let mut raw: &[u8] = &[];
            for field in FieldReader::new(data) {
                match field? {
                    (1, WireValue::Bytes(bytes)) => raw = bytes,
                    (1, _) => return Err(Error::malformed("raw field of the wrong wire type")),
                    _ => {}
                }
            }
            if raw.is_empty() {
                return Ok(Value::Null);
            }
            if raw.starts_with(&MAGIC) {
                // An object embedded in protobuf (a watch event's object): decode it with its own envelope.
                if depth > MAX_DEPTH {
                    return Err(Error::malformed("messages nested too deeply"));
                }
                return crate::decode_nested(raw, depth + 1).map(|(_, value)| value);
            }
            serde_json::from_slice(raw).map_err(|error| Error::malformed(format!("embedded JSON: {error}")))
        }
        Special::IntOrString => {
            let (mut kind, mut int_value, mut string_value) = (0u64, 0i64, String::new());
            for field in FieldReader::new(data) {
                match field? {
                    (1, WireValue::Varint(value)) => kind = value,
                    (2, WireValue::Varint(value)) => int_value = i64::from(value as i32),
                    (3, WireValue::Bytes(text)) => string_value = String::from_utf8_lossy(text).into_owned(),
                    (1..=3, _) => return Err(Error::malformed("IntOrString field of the wrong wire type")),
                    _ => {}
                }
            }
            Ok(if kind == 1 {
                Value::String(string_value)
            } else {
                Value::from(int_value)
            })
        }
        Special::Quantity => {
            let mut text = String::from("0");
            for field in FieldReader::new(data) {
                if let (1, WireValue::Bytes(bytes)) = field? {
                    text = String::from_utf8_lossy(bytes).into_owned();
                }
            }
            Ok(Value::String(text))
        }
    }
}

fn expect_bytes<'a>(value: WireValue<'a>) -> Result<&'a [u8], Error> {
    match value {
        WireValue::Bytes(bytes) => Ok(bytes),
        _ => Err(Error::malformed("expected a length-delimited field")),
    }
}

fn scalar(value_type: ValueType, value: WireValue<'_>) -> Result<Value, Error> {
    let expected = match value_type {
        ValueType::String | ValueType::Bytes | ValueType::Message(_) | ValueType::Special(_) => WireType::Bytes,
        ValueType::Double => WireType::Fixed64,
        ValueType::Float => WireType::Fixed32,
        _ => WireType::Varint,
    };
    if value.wire_type() != expected {
        return Err(Error::malformed(format!(
            "expected wire type {expected:?}, got {:?}",
            value.wire_type()
        )));
    }
    Ok(match (value_type, value) {
        (ValueType::String, WireValue::Bytes(bytes)) => Value::String(String::from_utf8_lossy(bytes).into_owned()),
        (ValueType::Bytes, WireValue::Bytes(bytes)) => {
            Value::String(base64::engine::general_purpose::STANDARD.encode(bytes))
        }
        (ValueType::Bool, WireValue::Varint(value)) => Value::Bool(value != 0),
        (ValueType::Int32, WireValue::Varint(value)) => Value::from(value as i32),
        (ValueType::Int64, WireValue::Varint(value)) => Value::from(value as i64),
        (ValueType::Uint32, WireValue::Varint(value)) => Value::from(value as u32),
        (ValueType::Uint64, WireValue::Varint(value)) => Value::from(value),
        (ValueType::Double, WireValue::Fixed64(bits)) => finite(f64::from_bits(bits))?,
        (ValueType::Float, WireValue::Fixed32(bits)) => finite(f64::from(f32::from_bits(bits)))?,
        _ => return Err(Error::malformed("unexpected scalar")),
    })
}

fn finite(float: f64) -> Result<Value, Error> {
    // Go's JSON encoder refuses NaN and infinities, so an object holding them has no JSON form.
    Number::from_f64(float)
        .map(Value::Number)
        .ok_or_else(|| Error::malformed("non-finite floating point value"))
}

fn zero_scalar(value_type: ValueType) -> Value {
    match value_type {
        ValueType::String => Value::String(String::new()),
        ValueType::Bytes => Value::Null,
        ValueType::Bool => Value::Bool(false),
        ValueType::Double | ValueType::Float => Value::from(0.0),
        _ => Value::from(0),
    }
}

fn is_zero_scalar(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::String(text) => text.is_empty(),
        Value::Bool(flag) => !flag,
        Value::Number(number) => number.as_f64() == Some(0.0),
        _ => false,
    }
}
