//! The message table: which fields each served message has, with the protobuf and the Go/JSON facts about them.
//!
//! The table is data (`descriptors.txt`, written by `tools/gen-descriptors.py` from upstream `generated.proto`
//! files and Go struct tags) and is parsed once on first use. A unit test parses it, so a broken table fails
//! the build's tests rather than a request.

use std::{collections::HashMap, sync::LazyLock};

const TABLE: &str = include_str!("descriptors.txt");

/// Messages whose JSON form is not their protobuf structure; the transcoder implements each one by hand.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Special {
    /// `metav1.Time`: `Timestamp` on the wire, RFC 3339 seconds in JSON, `null` when zero.
    Time,
    /// `metav1.MicroTime`: `Timestamp` on the wire, RFC 3339 with microseconds in JSON.
    MicroTime,
    /// `metav1.FieldsV1`: JSON text in bytes field 1, an inline object in JSON.
    FieldsV1,
    /// `runtime.RawExtension`: a serialized object in bytes field 1, the object itself in JSON.
    RawExtension,
    /// `intstr.IntOrString`: type/intVal/strVal on the wire, a number or a string in JSON.
    IntOrString,
    /// `resource.Quantity`: a string in field 1 on the wire, a string in JSON.
    Quantity,
}

impl Special {
    fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "meta.v1.Time" => Self::Time,
            "meta.v1.MicroTime" => Self::MicroTime,
            "meta.v1.FieldsV1" => Self::FieldsV1,
            "runtime.RawExtension" => Self::RawExtension,
            "intstr.IntOrString" => Self::IntOrString,
            "resource.Quantity" => Self::Quantity,
            _ => return None,
        })
    }
}

/// The type of one value of a field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ValueType {
    String,
    Bytes,
    Bool,
    Int32,
    Int64,
    Uint32,
    Uint64,
    Double,
    Float,
    /// An index into [`Registry::messages`].
    Message(usize),
    Special(Special),
}

/// How many values a field holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Cardinality {
    Single,
    Repeated,
    /// `map<string, value>`: repeated entries `{1: key, 2: value}`.
    Map,
}

/// One field of a message.
#[derive(Debug, Clone)]
pub(crate) struct Field {
    pub(crate) json_name: String,
    pub(crate) number: u32,
    pub(crate) value_type: ValueType,
    pub(crate) cardinality: Cardinality,
    /// The Go field is a pointer: absent and zero differ, and only set fields go on the wire.
    pub(crate) pointer: bool,
    pub(crate) omit_empty: bool,
    pub(crate) omit_zero: bool,
}

/// One message: its fields in Go struct order, which is the JSON key order.
#[derive(Debug, Clone)]
pub(crate) struct Message {
    /// The descriptor name, e.g. `core.v1.ConfigMap`; read by the table's own tests and in debug output.
    #[cfg_attr(not(test), allow(dead_code))]
    pub(crate) name: String,
    pub(crate) fields: Vec<Field>,
    /// The fields sorted by number, the order Go writes them on the wire.
    pub(crate) wire_order: Vec<usize>,
    /// A Go slice type wrapped in a message for protobuf (`ExtraValue`): JSON is the array of field 1.
    pub(crate) array: bool,
}

impl Message {
    pub(crate) fn field_by_number(&self, number: u32) -> Option<usize> {
        self.fields.iter().position(|field| field.number == number)
    }
}

/// All messages of the table.
#[derive(Debug)]
pub(crate) struct Registry {
    pub(crate) messages: Vec<Message>,
    by_name: HashMap<String, usize>,
}

impl Registry {
    pub(crate) fn get() -> &'static Registry {
        static REGISTRY: LazyLock<Result<Registry, String>> = LazyLock::new(|| Registry::parse(TABLE));
        match &*REGISTRY {
            Ok(registry) => registry,
            // The table is a compile-time constant that a unit test parses; this branch is unreachable in a
            // build whose tests passed.
            Err(error) => panic!("kapi-protobuf: invalid descriptors.txt: {error}"),
        }
    }

    pub(crate) fn message_index(&self, name: &str) -> Option<usize> {
        self.by_name.get(name).copied()
    }

    pub(crate) fn parse(text: &str) -> Result<Registry, String> {
        // Two passes: names first, so fields can refer to messages defined later in the file.
        let mut by_name = HashMap::new();
        for line in text.lines() {
            if let Some(rest) = line.strip_prefix("message ") {
                let name = rest.split_whitespace().next().ok_or("message without a name")?;
                let index = by_name.len();
                if by_name.insert(name.to_owned(), index).is_some() {
                    return Err(format!("message {name} defined twice"));
                }
            }
        }
        let mut messages: Vec<Message> = Vec::with_capacity(by_name.len());
        for (line_number, line) in text.lines().enumerate() {
            let context = |error: String| format!("line {}: {error}", line_number + 1);
            if line.starts_with('#') || line.trim().is_empty() {
                continue;
            }
            if let Some(rest) = line.strip_prefix("message ") {
                let mut words = rest.split_whitespace();
                let name = words.next().unwrap_or_default().to_owned();
                let array = words.next() == Some("array");
                messages.push(Message {
                    name,
                    fields: Vec::new(),
                    wire_order: Vec::new(),
                    array,
                });
                continue;
            }
            let message = messages
                .last_mut()
                .ok_or_else(|| context("field before any message".to_owned()))?;
            message.fields.push(parse_field(line, &by_name).map_err(context)?);
        }
        for message in &mut messages {
            let mut order: Vec<usize> = (0..message.fields.len()).collect();
            order.sort_by_key(|index| message.fields[*index].number);
            message.wire_order = order;
        }
        Ok(Registry { messages, by_name })
    }
}

fn parse_field(line: &str, by_name: &HashMap<String, usize>) -> Result<Field, String> {
    let mut words = line.split_whitespace();
    let (Some(json_name), Some(number), Some(type_text)) = (words.next(), words.next(), words.next()) else {
        return Err(format!("expected `<jsonName> <number> <type>`, got {line:?}"));
    };
    let number: u32 = number.parse().map_err(|_| format!("bad field number in {line:?}"))?;
    let (cardinality, element) = if let Some(element) = type_text.strip_prefix("[]") {
        (Cardinality::Repeated, element)
    } else if let Some(element) = type_text.strip_prefix("map[").and_then(|rest| rest.strip_suffix(']')) {
        (Cardinality::Map, element)
    } else {
        (Cardinality::Single, type_text)
    };
    let value_type = match element {
        "string" => ValueType::String,
        "bytes" => ValueType::Bytes,
        "bool" => ValueType::Bool,
        "int32" => ValueType::Int32,
        "int64" => ValueType::Int64,
        "uint32" => ValueType::Uint32,
        "uint64" => ValueType::Uint64,
        "double" => ValueType::Double,
        "float" => ValueType::Float,
        name => match Special::from_name(name) {
            Some(special) => ValueType::Special(special),
            None => ValueType::Message(*by_name.get(name).ok_or_else(|| format!("unknown message {name}"))?),
        },
    };
    let mut field = Field {
        json_name: json_name.to_owned(),
        number,
        value_type,
        cardinality,
        pointer: false,
        omit_empty: false,
        omit_zero: false,
    };
    for flag in words {
        match flag {
            "ptr" => field.pointer = true,
            "omitempty" => field.omit_empty = true,
            "omitzero" => field.omit_zero = true,
            other => return Err(format!("unsupported flag {other}")),
        }
    }
    Ok(field)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_committed_table_parses_and_numbers_are_unique() {
        let registry = Registry::parse(TABLE).expect("descriptors.txt parses");
        assert!(registry.messages.len() > 50);
        for message in &registry.messages {
            let mut numbers: Vec<u32> = message.fields.iter().map(|field| field.number).collect();
            numbers.sort_unstable();
            numbers.dedup();
            assert_eq!(numbers.len(), message.fields.len(), "{}", message.name);
        }
        let object_meta = &registry.messages[registry.message_index("meta.v1.ObjectMeta").expect("ObjectMeta")];
        let managed = object_meta
            .fields
            .iter()
            .find(|field| field.json_name == "managedFields")
            .expect("managedFields");
        assert_eq!((managed.number, managed.cardinality), (17, Cardinality::Repeated));
    }
}
