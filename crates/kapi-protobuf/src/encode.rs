//! JSON → protobuf: walks a JSON value along a message descriptor and writes what Go's generated `Marshal`
//! would write for the struct that JSON unmarshals into.

use base64::Engine;
use serde_json::Value;

use crate::{
    descriptor::{Cardinality, Field, Registry, Special, ValueType},
    time,
    wire::{self, WireType},
    Error,
};

/// Encodes `value` (an object, or `null` for the zero struct) as message `index`, appending to `out`.
pub(crate) fn message(registry: &Registry, index: usize, value: &Value, out: &mut Vec<u8>) -> Result<(), Error> {
    let message = &registry.messages[index];
    if message.array {
        // A Go slice type wrapped in a message: the JSON array is field 1.
        let items = match value {
            Value::Null => return Ok(()),
            Value::Array(items) => items,
            other => return Err(Error::invalid(format!("expected an array, got {}", json_type(other)))),
        };
        for field in &message.fields {
            for (position, item) in items.iter().enumerate() {
                single(registry, field.value_type, field.number, item, out)
                    .map_err(|error| error.within(&format!("[{position}]")))?;
            }
        }
        return Ok(());
    }
    let object = match value {
        Value::Null => None,
        Value::Object(object) => Some(object),
        other => return Err(Error::invalid(format!("expected an object, got {}", json_type(other)))),
    };
    for &field_index in &message.wire_order {
        let field = &message.fields[field_index];
        let value = object
            .and_then(|object| object.get(&field.json_name))
            .filter(|value| !value.is_null());
        encode_field(registry, field, value, out).map_err(|error| error.within(&field.json_name))?;
    }
    Ok(())
}

fn encode_field(registry: &Registry, field: &Field, value: Option<&Value>, out: &mut Vec<u8>) -> Result<(), Error> {
    match (field.cardinality, value) {
        (Cardinality::Single, Some(value)) => single(registry, field.value_type, field.number, value, out),
        // Go writes value fields whether set or not; pointers only when set.
        (Cardinality::Single, None) if !field.pointer => {
            single(registry, field.value_type, field.number, &Value::Null, out)
        }
        (_, None) => Ok(()),
        (Cardinality::Repeated, Some(Value::Array(items))) => {
            for (position, item) in items.iter().enumerate() {
                single(registry, field.value_type, field.number, item, out)
                    .map_err(|error| error.within(&format!("[{position}]")))?;
            }
            Ok(())
        }
        (Cardinality::Map, Some(Value::Object(entries))) => {
            // Go sorts map keys before writing them, which keeps bodies deterministic.
            let mut keys: Vec<&String> = entries.keys().collect();
            keys.sort();
            for key in keys {
                let value = &entries[key.as_str()];
                wire::put_nested(out, field.number, |entry| {
                    wire::put_bytes(entry, 1, key.as_bytes());
                    // A nil []byte map value has no value field; every other value is written, zero or not.
                    if value.is_null() && field.value_type == ValueType::Bytes {
                        return Ok(());
                    }
                    single(registry, field.value_type, 2, value, entry).map_err(|error| error.within(key))
                })?;
            }
            Ok(())
        }
        (Cardinality::Repeated, Some(other)) => {
            Err(Error::invalid(format!("expected an array, got {}", json_type(other))))
        }
        (Cardinality::Map, Some(other)) => Err(Error::invalid(format!("expected an object, got {}", json_type(other)))),
    }
}

/// Writes one value of `field` (`null` meaning the Go zero value).
fn single(
    registry: &Registry,
    value_type: ValueType,
    number: u32,
    value: &Value,
    out: &mut Vec<u8>,
) -> Result<(), Error> {
    match value_type {
        ValueType::String => wire::put_bytes(out, number, string(value)?.as_bytes()),
        ValueType::Bytes => {
            let text = string(value)?;
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(text)
                .map_err(|error| Error::invalid(format!("illegal base64 data: {error}")))?;
            // Go writes a []byte only when it is non-nil; JSON null leaves it nil.
            if !value.is_null() {
                wire::put_bytes(out, number, &bytes);
            }
        }
        ValueType::Bool => {
            let flag = match value {
                Value::Null => false,
                Value::Bool(flag) => *flag,
                other => return Err(Error::invalid(format!("expected a boolean, got {}", json_type(other)))),
            };
            wire::put_varint_field(out, number, u64::from(flag));
        }
        ValueType::Int32 => {
            let number_value = integer(value, i64::from(i32::MIN), i64::from(i32::MAX))?;
            wire::put_varint_field(out, number, number_value as u64);
        }
        ValueType::Int64 => wire::put_varint_field(out, number, integer(value, i64::MIN, i64::MAX)? as u64),
        ValueType::Uint32 => wire::put_varint_field(out, number, integer(value, 0, i64::from(u32::MAX))? as u64),
        ValueType::Uint64 => {
            let unsigned = match value {
                Value::Null => 0,
                other => other
                    .as_u64()
                    .ok_or_else(|| Error::invalid("expected an unsigned integer"))?,
            };
            wire::put_varint_field(out, number, unsigned);
        }
        ValueType::Double => {
            wire::put_key(out, number, WireType::Fixed64);
            out.extend_from_slice(&float(value)?.to_le_bytes());
        }
        ValueType::Float => {
            wire::put_key(out, number, WireType::Fixed32);
            out.extend_from_slice(&(float(value)? as f32).to_le_bytes());
        }
        ValueType::Message(index) => wire::put_nested(out, number, |nested| message(registry, index, value, nested))?,
        ValueType::Special(special) => {
            wire::put_nested(out, number, |payload| special_payload(special, value, payload))?
        }
    }
    Ok(())
}

/// The message bytes of a hand-implemented type.
fn special_payload(special: Special, value: &Value, payload: &mut Vec<u8>) -> Result<(), Error> {
    match special {
        Special::Time | Special::MicroTime => {
            let Value::String(text) = value else {
                if value.is_null() {
                    return Ok(());
                }
                return Err(Error::invalid(format!(
                    "expected an RFC 3339 time string, got {}",
                    json_type(value)
                )));
            };
            let (seconds, nanos) = time::parse(text).ok_or_else(|| Error::invalid(format!("invalid time {text:?}")))?;
            if seconds == time::GO_ZERO_TIME_UNIX && nanos == 0 {
                return Ok(());
            }
            // metav1.Time keeps whole seconds on the wire; MicroTime keeps microseconds.
            let nanos = if special == Special::Time {
                0
            } else {
                nanos - nanos % 1000
            };
            wire::put_varint_field(payload, 1, seconds as u64);
            wire::put_varint_field(payload, 2, u64::from(nanos));
        }
        Special::FieldsV1 | Special::RawExtension => {
            if !value.is_null() {
                wire::put_nested(payload, 1, |raw| {
                    serde_json::to_writer(raw, value).map_err(|error| Error::invalid(error.to_string()))
                })?;
            }
        }
        Special::IntOrString => {
            let (kind, int_value, string_value) = match value {
                Value::Null => (0, 0, ""),
                Value::String(text) => (1, 0, text.as_str()),
                other => (0, integer(other, i64::from(i32::MIN), i64::from(i32::MAX))?, ""),
            };
            wire::put_varint_field(payload, 1, kind);
            wire::put_varint_field(payload, 2, int_value as u64);
            wire::put_bytes(payload, 3, string_value.as_bytes());
        }
        Special::Quantity => {
            let text = match value {
                Value::Null => "0".to_owned(),
                Value::String(text) => text.clone(),
                Value::Number(number) => number.to_string(),
                other => return Err(Error::invalid(format!("expected a quantity, got {}", json_type(other)))),
            };
            wire::put_bytes(payload, 1, text.as_bytes());
        }
    }
    Ok(())
}

fn string(value: &Value) -> Result<&str, Error> {
    match value {
        Value::Null => Ok(""),
        Value::String(text) => Ok(text),
        other => Err(Error::invalid(format!("expected a string, got {}", json_type(other)))),
    }
}

fn integer(value: &Value, min: i64, max: i64) -> Result<i64, Error> {
    let number = match value {
        Value::Null => 0,
        Value::Number(number) => number
            .as_i64()
            .or_else(|| {
                number
                    .as_f64()
                    .filter(|float| float.fract() == 0.0 && float.abs() < 9.2e18)
                    .map(|f| f as i64)
            })
            .ok_or_else(|| Error::invalid(format!("expected an integer, got {number}")))?,
        other => return Err(Error::invalid(format!("expected an integer, got {}", json_type(other)))),
    };
    if number < min || number > max {
        return Err(Error::invalid(format!("integer {number} out of range")));
    }
    Ok(number)
}

fn float(value: &Value) -> Result<f64, Error> {
    match value {
        Value::Null => Ok(0.0),
        Value::Number(number) => number.as_f64().ok_or_else(|| Error::invalid("expected a number")),
        other => Err(Error::invalid(format!("expected a number, got {}", json_type(other)))),
    }
}

pub(crate) fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}
