//! Runtime values, their conversion from JSON by declared type, equality and ordering.

use std::{cmp::Ordering, net::IpAddr, rc::Rc};

use serde_json::Value as Json;

use crate::{
    library::{ImageRef, Quantity, Semver, Url},
    time::{parse_schema_duration, parse_timestamp},
    types::{escape_field_name, Decl, Type},
};

/// A CEL value.
#[derive(Debug, Clone)]
pub(crate) enum Val {
    Null,
    Bool(bool),
    Int(i64),
    Uint(u64),
    Double(f64),
    String(Rc<str>),
    Bytes(Rc<[u8]>),
    List(Rc<Vec<Val>>),
    Map(Rc<MapVal>),
    /// Nanoseconds.
    Duration(i128),
    /// Nanoseconds since the Unix epoch.
    Timestamp(i128),
    Type(Rc<str>),
    Optional(Option<Rc<Val>>),
    Quantity(Rc<Quantity>),
    Url(Rc<Url>),
    Ip(IpAddr),
    Cidr(IpAddr, u8),
    Semver(Rc<Semver>),
    Image(Rc<ImageRef>),
    Format(Rc<str>),
}

/// A map or an object: entries sorted by key (built once, read by binary search).
#[derive(Debug, Clone, Default)]
pub(crate) struct MapVal {
    pub(crate) entries: Vec<(Key, Val)>,
}

/// A map key.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Key {
    Bool(bool),
    Int(i64),
    Uint(u64),
    Str(Rc<str>),
}

impl Key {
    pub(crate) fn from_val(value: &Val) -> Option<Key> {
        match value {
            Val::Bool(b) => Some(Key::Bool(*b)),
            Val::Int(i) => Some(Key::Int(*i)),
            Val::Uint(u) => Some(Key::Uint(*u)),
            Val::String(s) => Some(Key::Str(s.clone())),
            _ => None,
        }
    }
    pub(crate) fn to_val(&self) -> Val {
        match self {
            Key::Bool(b) => Val::Bool(*b),
            Key::Int(i) => Val::Int(*i),
            Key::Uint(u) => Val::Uint(*u),
            Key::Str(s) => Val::String(s.clone()),
        }
    }
}

impl MapVal {
    /// Builds a map from entries in any order; `Err` names the first repeated key.
    pub(crate) fn from_entries(mut entries: Vec<(Key, Val)>) -> Result<MapVal, Key> {
        entries.sort_by(|a, b| a.0.cmp(&b.0));
        if let Some(pair) = entries.windows(2).find(|pair| pair[0].0 == pair[1].0) {
            return Err(pair[0].0.clone());
        }
        Ok(MapVal { entries })
    }

    fn lookup(&self, key: &Key) -> Option<&Val> {
        self.entries
            .binary_search_by(|(candidate, _)| candidate.cmp(key))
            .ok()
            .map(|index| &self.entries[index].1)
    }

    /// Looks a key up with CEL's numeric key equivalence (`m[1u]` finds the key `1`).
    pub(crate) fn get(&self, key: &Val) -> Option<&Val> {
        let direct = Key::from_val(key).and_then(|key| self.lookup(&key));
        if direct.is_some() {
            return direct;
        }
        let alternatives: Vec<Key> = match key {
            Val::Int(i) => u64::try_from(*i).map(Key::Uint).into_iter().collect(),
            Val::Uint(u) => i64::try_from(*u).map(Key::Int).into_iter().collect(),
            Val::Double(d) if d.fract() == 0.0 => {
                let mut keys = Vec::new();
                if *d >= i64::MIN as f64 && *d < i64::MAX as f64 {
                    keys.push(Key::Int(*d as i64));
                }
                if *d >= 0.0 && *d < u64::MAX as f64 {
                    keys.push(Key::Uint(*d as u64));
                }
                keys
            }
            _ => Vec::new(),
        };
        alternatives.iter().find_map(|key| self.lookup(key))
    }

    pub(crate) fn get_str(&self, key: &str) -> Option<&Val> {
        self.entries
            .binary_search_by(|(candidate, _)| match candidate {
                Key::Str(name) => name.as_ref().cmp(key),
                _ => std::cmp::Ordering::Less,
            })
            .ok()
            .map(|index| &self.entries[index].1)
    }
}

impl Val {
    pub(crate) fn string(text: impl Into<Rc<str>>) -> Val {
        Val::String(text.into())
    }

    /// The CEL type name, as `type(x)` and error messages print it.
    pub(crate) fn type_name(&self) -> &'static str {
        match self {
            Val::Null => "null_type",
            Val::Bool(_) => "bool",
            Val::Int(_) => "int",
            Val::Uint(_) => "uint",
            Val::Double(_) => "double",
            Val::String(_) => "string",
            Val::Bytes(_) => "bytes",
            Val::List(_) => "list",
            Val::Map(_) => "map",
            Val::Duration(_) => "google.protobuf.Duration",
            Val::Timestamp(_) => "google.protobuf.Timestamp",
            Val::Type(_) => "type",
            Val::Optional(_) => "optional_type",
            Val::Quantity(_) => "kubernetes.Quantity",
            Val::Url(_) => "kubernetes.URL",
            Val::Ip(_) => "net.IP",
            Val::Cidr(..) => "net.CIDR",
            Val::Semver(_) => "kubernetes.Semver",
            Val::Image(_) => "kubernetes.Image",
            Val::Format(_) => "kubernetes.NamedFormat",
        }
    }

    /// The size used by runtime cost: characters, bytes, items or entries; 1 for scalars.
    pub(crate) fn cost_size(&self) -> u64 {
        match self {
            Val::String(s) => s.len() as u64,
            Val::Bytes(b) => b.len() as u64,
            Val::List(l) => l.len() as u64,
            Val::Map(m) => m.entries.len() as u64,
            _ => 1,
        }
    }

    /// Converts a JSON value by its declared type (`None` = no schema information: plain JSON mapping).
    pub(crate) fn from_json(json: &Json, decl: Option<&Decl>) -> Val {
        let ty = decl.map(|decl| &decl.ty);
        match json {
            Json::Null => Val::Null,
            Json::Bool(b) => Val::Bool(*b),
            Json::Number(number) => match ty {
                Some(Type::Double) => Val::Double(number.as_f64().unwrap_or(0.0)),
                _ => match number.as_i64() {
                    Some(int) => Val::Int(int),
                    None => match number.as_u64() {
                        Some(uint) if matches!(ty, Some(Type::Int)) => {
                            Val::Int(i64::try_from(uint).unwrap_or(i64::MAX))
                        }
                        _ => Val::Double(number.as_f64().unwrap_or(0.0)),
                    },
                },
            },
            Json::String(text) => match ty {
                // `format: date` values are midnight UTC of that day.
                Some(Type::Timestamp) => parse_timestamp(text)
                    .or_else(|| parse_timestamp(&format!("{text}T00:00:00Z")))
                    .map_or_else(|| Val::string(text.as_str()), Val::Timestamp),
                Some(Type::Duration) => {
                    parse_schema_duration(text).map_or_else(|| Val::string(text.as_str()), Val::Duration)
                }
                Some(Type::Bytes) => match crate::library::base64_decode(text) {
                    Some(bytes) => Val::Bytes(Rc::from(bytes)),
                    None => Val::string(text.as_str()),
                },
                _ => Val::string(text.as_str()),
            },
            Json::Array(items) => {
                let elem = match ty {
                    Some(Type::List(elem)) => Some(elem.as_ref()),
                    _ => None,
                };
                Val::List(Rc::new(items.iter().map(|item| Val::from_json(item, elem)).collect()))
            }
            Json::Object(members) => Val::Map(Rc::new(object_entries(members, ty, None))),
        }
    }

    /// Like [`Val::from_json`], but an object keeps only the named members (the fields its rules read).
    pub(crate) fn from_json_fields(json: &Json, decl: &Decl, fields: &[String]) -> Val {
        match json {
            Json::Object(members) => Val::Map(Rc::new(object_entries(members, Some(&decl.ty), Some(fields)))),
            other => Val::from_json(other, Some(decl)),
        }
    }

    /// CEL equality (heterogeneous numeric equality, as cel-go with Kubernetes' options).
    pub(crate) fn equals(&self, other: &Val) -> bool {
        let mut visited = 0;
        self.equals_counting(other, &mut visited)
    }

    /// Equality that also counts the values it compared (characters of strings, nested elements), so that
    /// comparing large nested values is charged for.
    pub(crate) fn equals_counting(&self, other: &Val, visited: &mut u64) -> bool {
        *visited = visited.saturating_add(1);
        match (self, other) {
            (Val::Null, Val::Null) => true,
            (Val::Bool(a), Val::Bool(b)) => a == b,
            (Val::String(a), Val::String(b)) => {
                *visited = visited.saturating_add(a.len().min(b.len()) as u64);
                a == b
            }
            (Val::Bytes(a), Val::Bytes(b)) => {
                *visited = visited.saturating_add(a.len().min(b.len()) as u64);
                a == b
            }
            (Val::Duration(a), Val::Duration(b)) | (Val::Timestamp(a), Val::Timestamp(b)) => a == b,
            (Val::Type(a), Val::Type(b)) | (Val::Format(a), Val::Format(b)) => a == b,
            (Val::List(a), Val::List(b)) => {
                a.len() == b.len() && a.iter().zip(b.iter()).all(|(x, y)| x.equals_counting(y, visited))
            }
            (Val::Map(a), Val::Map(b)) => {
                a.entries.len() == b.entries.len()
                    && a.entries.iter().all(|(key, value)| {
                        b.get(&key.to_val())
                            .is_some_and(|other| value.equals_counting(other, visited))
                    })
            }
            (Val::Optional(a), Val::Optional(b)) => match (a, b) {
                (None, None) => true,
                (Some(a), Some(b)) => a.equals_counting(b, visited),
                _ => false,
            },
            (Val::Quantity(a), Val::Quantity(b)) => a.compare(b) == Ordering::Equal,
            (Val::Url(a), Val::Url(b)) => a.raw == b.raw,
            (Val::Ip(a), Val::Ip(b)) => a == b,
            (Val::Cidr(a, x), Val::Cidr(b, y)) => a == b && x == y,
            (Val::Semver(a), Val::Semver(b)) => a.compare(b) == Ordering::Equal,
            (Val::Image(a), Val::Image(b)) => a == b,
            _ => numeric_compare(self, other) == Some(Ordering::Equal),
        }
    }

    /// CEL ordering for `<`, `<=`, ...; `None` when the types are not comparable.
    pub(crate) fn compare(&self, other: &Val) -> Option<Ordering> {
        match (self, other) {
            (Val::Bool(a), Val::Bool(b)) => Some(a.cmp(b)),
            (Val::String(a), Val::String(b)) => Some(a.cmp(b)),
            (Val::Bytes(a), Val::Bytes(b)) => Some(a.cmp(b)),
            (Val::Duration(a), Val::Duration(b)) | (Val::Timestamp(a), Val::Timestamp(b)) => Some(a.cmp(b)),
            _ => numeric_compare(self, other),
        }
    }
}

fn numeric_compare(a: &Val, b: &Val) -> Option<Ordering> {
    match (a, b) {
        (Val::Int(x), Val::Int(y)) => Some(x.cmp(y)),
        (Val::Uint(x), Val::Uint(y)) => Some(x.cmp(y)),
        (Val::Int(x), Val::Uint(y)) => Some(if *x < 0 { Ordering::Less } else { (*x as u64).cmp(y) }),
        (Val::Uint(x), Val::Int(y)) => Some(if *y < 0 { Ordering::Greater } else { x.cmp(&(*y as u64)) }),
        (Val::Double(x), Val::Double(y)) => x.partial_cmp(y),
        (Val::Double(x), Val::Int(y)) => x.partial_cmp(&(*y as f64)),
        (Val::Int(x), Val::Double(y)) => (*x as f64).partial_cmp(y),
        (Val::Double(x), Val::Uint(y)) => x.partial_cmp(&(*y as f64)),
        (Val::Uint(x), Val::Double(y)) => (*x as f64).partial_cmp(y),
        _ => None,
    }
}

/// Converts an object's members by declared type; for typed objects, members are keyed by their CEL names
/// (escaped), and members the schema does not type are invisible to rules.
fn object_entries(members: &serde_json::Map<String, Json>, ty: Option<&Type>, only: Option<&[String]>) -> MapVal {
    let mut entries = Vec::with_capacity(only.map_or(members.len(), <[String]>::len));
    match (ty, only) {
        (Some(Type::Object(object)), Some(fields)) => {
            for field in fields {
                if let (Some(member), Some(decl)) = (members.get(object.json_name(field)), object.fields.get(field)) {
                    entries.push((Key::Str(Rc::from(field.as_str())), Val::from_json(member, Some(decl))));
                }
            }
        }
        (Some(Type::Object(object)), None) => {
            for (key, member) in members {
                let cel_name = if object.json_names.is_empty() {
                    None
                } else {
                    escape_field_name(key)
                };
                let cel_key = cel_name.as_deref().unwrap_or(key);
                if let Some(decl) = object.fields.get(cel_key) {
                    entries.push((Key::Str(Rc::from(cel_key)), Val::from_json(member, Some(decl))));
                }
            }
        }
        (ty, only) => {
            let value_decl = match ty {
                Some(Type::Map(_, value)) => Some(value.as_ref()),
                _ => None,
            };
            let mut convert =
                |key: &str, member: &Json| entries.push((Key::Str(Rc::from(key)), Val::from_json(member, value_decl)));
            match only {
                Some(fields) => {
                    for field in fields {
                        if let Some(member) = members.get(field) {
                            convert(field, member);
                        }
                    }
                }
                None => members.iter().for_each(|(key, member)| convert(key, member)),
            }
        }
    }
    // JSON object keys are unique (and escaping is injective), so sorting cannot find a duplicate.
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    MapVal { entries }
}
