//! CEL types, and the declared type of each OpenAPI schema node as k8s.io/apiserver's `SchemaDeclType` derives
//! it: integers vs doubles, `x-kubernetes-int-or-string` as `dyn`, `date-time`/`duration`/`byte` formats as
//! timestamps/durations/bytes, objects with declared properties as typed objects (`self.field`, `has()`),
//! `additionalProperties` as maps; unknown fields kept by `x-kubernetes-preserve-unknown-fields` stay invisible.
//!
//! Every declaration also carries the size bounds the cost estimator needs: `maxLength`, `maxItems`,
//! `maxProperties`, or, when unbounded, the most a 3 MiB request could hold.

use std::{collections::BTreeMap, fmt, sync::Arc};

use serde_json::Value;

/// The largest request body kube-apiserver accepts; unbounded sizes are estimated from it.
pub(crate) const MAX_REQUEST_SIZE_BYTES: u64 = 3 * 1024 * 1024;

/// A CEL type as the checker sees it.
#[derive(Debug, Clone)]
pub(crate) enum Type {
    Dyn,
    Null,
    Bool,
    Int,
    Uint,
    Double,
    String,
    Bytes,
    Duration,
    Timestamp,
    List(Arc<Decl>),
    Map(Arc<Decl>, Arc<Decl>),
    Object(Arc<ObjectDecl>),
    Optional(Arc<Decl>),
    /// A type value (`type(x)`, `int`).
    #[allow(clippy::enum_variant_names)]
    Type,
    /// An extension type of the Kubernetes libraries, by its CEL name (`kubernetes.Quantity`, `net.URL`, ...).
    Opaque(&'static str),
}

impl Type {
    pub(crate) fn list(elem: Type) -> Type {
        Type::List(Arc::new(Decl::unbounded(elem)))
    }
    pub(crate) fn map(key: Type, value: Type) -> Type {
        Type::Map(Arc::new(Decl::unbounded(key)), Arc::new(Decl::unbounded(value)))
    }
    pub(crate) fn optional(inner: Type) -> Type {
        Type::Optional(Arc::new(Decl::unbounded(inner)))
    }
    pub(crate) fn is_dyn(&self) -> bool {
        matches!(self, Type::Dyn)
    }

    /// Whether a value of type `other` may stand where `self` is expected (dyn matches anything).
    pub(crate) fn accepts(&self, other: &Type) -> bool {
        match (self, other) {
            (Type::Dyn, _) | (_, Type::Dyn) => true,
            (Type::List(a), Type::List(b)) => a.ty.accepts(&b.ty),
            (Type::Map(ak, av), Type::Map(bk, bv)) => ak.ty.accepts(&bk.ty) && av.ty.accepts(&bv.ty),
            (Type::Optional(a), Type::Optional(b)) => a.ty.accepts(&b.ty),
            (Type::Object(a), Type::Object(b)) => Arc::ptr_eq(a, b) || a.name == b.name,
            (Type::Opaque(a), Type::Opaque(b)) => a == b,
            (a, b) => std::mem::discriminant(a) == std::mem::discriminant(b),
        }
    }

    /// The element type when iterating (`all`, `in`, ...): list elements or map keys.
    pub(crate) fn iter_decl(&self) -> Option<Arc<Decl>> {
        match self {
            Type::List(elem) => Some(elem.clone()),
            Type::Map(key, _) => Some(key.clone()),
            Type::Dyn => Some(Arc::new(Decl::unbounded(Type::Dyn))),
            _ => None,
        }
    }
}

impl fmt::Display for Type {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Type::Dyn => f.write_str("dyn"),
            Type::Null => f.write_str("null_type"),
            Type::Bool => f.write_str("bool"),
            Type::Int => f.write_str("int"),
            Type::Uint => f.write_str("uint"),
            Type::Double => f.write_str("double"),
            Type::String => f.write_str("string"),
            Type::Bytes => f.write_str("bytes"),
            Type::Duration => f.write_str("google.protobuf.Duration"),
            Type::Timestamp => f.write_str("google.protobuf.Timestamp"),
            Type::List(elem) => write!(f, "list({})", elem.ty),
            Type::Map(key, value) => write!(f, "map({}, {})", key.ty, value.ty),
            Type::Object(object) => f.write_str(&object.name),
            Type::Optional(inner) => write!(f, "optional_type({})", inner.ty),
            Type::Type => f.write_str("type"),
            Type::Opaque(name) => f.write_str(name),
        }
    }
}

/// A declared value: its type and the bounds of its size (characters, bytes, items or entries).
#[derive(Debug, Clone)]
pub(crate) struct Decl {
    pub(crate) ty: Type,
    pub(crate) max_size: u64,
}

impl Decl {
    pub(crate) fn unbounded(ty: Type) -> Decl {
        Decl { ty, max_size: u64::MAX }
    }
}

/// An object type with declared properties, by their CEL names (escaped, see [`escape_field_name`]).
#[derive(Debug)]
pub(crate) struct ObjectDecl {
    pub(crate) name: String,
    pub(crate) fields: BTreeMap<String, Arc<Decl>>,
    /// The JSON property name of each escaped CEL field name that differs from it.
    pub(crate) json_names: BTreeMap<String, String>,
}

impl ObjectDecl {
    /// The JSON property holding CEL field `field`.
    pub(crate) fn json_name<'a>(&'a self, field: &'a str) -> &'a str {
        self.json_names.get(field).map_or(field, String::as_str)
    }
}

/// CEL's reserved words; properties named so are reached as `__name__`.
const RESERVED_WORDS: [&str; 21] = [
    "true",
    "false",
    "null",
    "in",
    "as",
    "break",
    "const",
    "continue",
    "else",
    "for",
    "function",
    "if",
    "import",
    "let",
    "loop",
    "package",
    "namespace",
    "return",
    "var",
    "void",
    "while",
];

/// Kubernetes' escaping of property names into CEL identifiers: `__` → `__underscores__`, `.` → `__dot__`,
/// `-` → `__dash__`, `/` → `__slash__`, reserved words → `__word__`; `None` for names that cannot be escaped
/// (a leading digit or another character), which rules cannot reach.
pub(crate) fn escape_field_name(name: &str) -> Option<String> {
    if name.is_empty() || name.starts_with(|c: char| c.is_ascii_digit()) {
        return None;
    }
    if RESERVED_WORDS.contains(&name) {
        return Some(format!("__{name}__"));
    }
    let mut out = String::with_capacity(name.len());
    let mut chars = name.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '_' if chars.peek() == Some(&'_') => {
                chars.next();
                out.push_str("__underscores__");
            }
            '.' => out.push_str("__dot__"),
            '-' => out.push_str("__dash__"),
            '/' => out.push_str("__slash__"),
            c if c.is_ascii_alphanumeric() || c == '_' => out.push(c),
            _ => return None,
        }
    }
    Some(out)
}

// Size bounds of upstream's DeclTypes (k8s.io/apiserver/pkg/cel/limits.go), in serialized bytes.
const MIN_STRING_SIZE: u64 = 2;
const MIN_BOOL_SIZE: u64 = 4;
const MIN_NUMBER_SIZE: u64 = 1;
const MIN_DURATION_SIZE: u64 = 3;
const MAX_DURATION_SIZE: u64 = 32;
const DATE_SIZE: u64 = 12;
const MIN_DATETIME_SIZE: u64 = 21;
const MAX_DATETIME_SIZE: u64 = 32;

/// A declared type plus the smallest JSON encoding of its values, which bounds how many fit in one request.
struct Sized {
    decl: Decl,
    min_size: u64,
}

/// Builds the declared type of a schema node as upstream's `SchemaDeclType`; `None` for nodes rules cannot
/// see (no type, or `x-kubernetes-preserve-unknown-fields` without one).
pub(crate) fn schema_decl(schema: &Value, name: &str, embedded_resource: bool) -> Option<Arc<Decl>> {
    sized_decl(schema, name, embedded_resource).map(|sized| Arc::new(sized.decl))
}

fn flag_of(schema: &Value, key: &str) -> bool {
    schema.get(key).and_then(Value::as_bool) == Some(true)
}

fn max_length(schema: &Value) -> Option<u64> {
    schema.get("maxLength").and_then(Value::as_u64)
}

fn sized_decl(schema: &Value, name: &str, embedded_resource: bool) -> Option<Sized> {
    let request = MAX_REQUEST_SIZE_BYTES;
    if flag_of(schema, "x-kubernetes-int-or-string") {
        let max_size = max_length(schema).map_or(request - 2, |max| max.saturating_mul(4));
        return Some(Sized {
            decl: Decl {
                ty: Type::Dyn,
                max_size,
            },
            min_size: 1,
        });
    }
    let sized = |ty: Type, max_size: u64, min_size: u64| Sized {
        decl: Decl { ty, max_size },
        min_size,
    };
    let ty = schema.get("type").and_then(Value::as_str).unwrap_or("");
    // The root of a resource, and an embedded resource, always show apiVersion, kind and metadata.name/generateName.
    let ty = if embedded_resource && ty.is_empty() {
        "object"
    } else {
        ty
    };
    Some(match ty {
        "boolean" => sized(Type::Bool, 1, MIN_BOOL_SIZE),
        "integer" => sized(Type::Int, 1, MIN_NUMBER_SIZE),
        "number" => sized(Type::Double, 1, MIN_NUMBER_SIZE),
        "string" => match schema.get("format").and_then(Value::as_str) {
            Some("byte") => sized(Type::Bytes, max_length(schema).unwrap_or(request - 2), MIN_STRING_SIZE),
            Some("duration") => sized(Type::Duration, MAX_DURATION_SIZE, MIN_DURATION_SIZE),
            Some("date") => sized(Type::Timestamp, DATE_SIZE, DATE_SIZE),
            Some("date-time") => sized(Type::Timestamp, MAX_DATETIME_SIZE, MIN_DATETIME_SIZE),
            _ => {
                let longest_enum = schema
                    .get("enum")
                    .and_then(Value::as_array)
                    .filter(|values| !values.is_empty())
                    .map(|values| {
                        values
                            .iter()
                            .filter_map(Value::as_str)
                            .map(|value| value.len() as u64)
                            .max()
                            .unwrap_or(0)
                    });
                // maxLength counts code points but sizes are bytes, and a code point may take four.
                let max_size = match (max_length(schema), longest_enum) {
                    (Some(max), _) => max.saturating_mul(4),
                    (None, Some(longest)) => longest,
                    (None, None) => request - 2,
                };
                sized(Type::String, max_size, MIN_STRING_SIZE)
            }
        },
        "array" => {
            let items = schema.get("items")?;
            let elem = sized_decl(
                items,
                &format!("{name}.@idx"),
                flag_of(items, "x-kubernetes-embedded-resource"),
            )?;
            let max_items = schema
                .get("maxItems")
                .and_then(Value::as_u64)
                .unwrap_or((request - 2) / (elem.min_size + 1));
            sized(Type::List(Arc::new(elem.decl)), max_items, 2)
        }
        "object" => {
            if let Some(additional) = schema.get("additionalProperties").filter(|value| value.is_object()) {
                let value = sized_decl(
                    additional,
                    &format!("{name}.@elem"),
                    flag_of(additional, "x-kubernetes-embedded-resource"),
                )?;
                let max_properties = schema
                    .get("maxProperties")
                    .and_then(Value::as_u64)
                    .unwrap_or((request - 2) / (value.min_size + 6));
                let key = Decl {
                    ty: Type::String,
                    max_size: request - 2,
                };
                return Some(sized(Type::Map(Arc::new(key), Arc::new(value.decl)), max_properties, 2));
            }
            object_decl(schema, name, embedded_resource)
        }
        _ => return None,
    })
}

/// An object with properties (preserved unknown fields stay invisible to rules, as upstream).
fn object_decl(schema: &Value, name: &str, embedded_resource: bool) -> Sized {
    let required: Vec<&str> = schema
        .get("required")
        .and_then(Value::as_array)
        .map(|names| names.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let mut fields = BTreeMap::new();
    let mut json_names = BTreeMap::new();
    // An object is at least `{}` plus its required properties without defaults.
    let mut min_size = 2_u64;
    for (key, property) in schema
        .get("properties")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        let Some(field) = sized_decl(
            property,
            &format!("{name}.{key}"),
            flag_of(property, "x-kubernetes-embedded-resource"),
        ) else {
            continue;
        };
        if required.contains(&key.as_str()) && property.get("default").is_none() {
            min_size = min_size.saturating_add(key.len() as u64 + field.min_size + 4);
        }
        if let Some(cel_name) = escape_field_name(key) {
            if &cel_name != key {
                json_names.insert(cel_name.clone(), key.clone());
            }
            fields.insert(cel_name, Arc::new(field.decl));
        }
    }
    if embedded_resource {
        embedded_meta_fields(&mut fields, name);
    }
    // Upstream gives objects no size bound of their own: comparing two objects is priced at nothing.
    let max_size = 0;
    Sized {
        decl: Decl {
            ty: Type::Object(Arc::new(ObjectDecl {
                name: name.to_owned(),
                fields,
                json_names,
            })),
            max_size,
        },
        min_size,
    }
}

/// A resource root exposes apiVersion, kind and metadata.name/generateName, whatever its schema says of them
/// (upstream's `WithTypeAndObjectMeta`).
fn embedded_meta_fields(fields: &mut BTreeMap<String, Arc<Decl>>, name: &str) {
    let string = || {
        Arc::new(Decl {
            ty: Type::String,
            max_size: MAX_REQUEST_SIZE_BYTES - 2,
        })
    };
    fields.entry("apiVersion".to_owned()).or_insert_with(string);
    fields.entry("kind".to_owned()).or_insert_with(string);
    let mut meta = BTreeMap::new();
    meta.insert("name".to_owned(), string());
    meta.insert("generateName".to_owned(), string());
    fields.insert(
        "metadata".to_owned(),
        Arc::new(Decl {
            ty: Type::Object(Arc::new(ObjectDecl {
                name: format!("{name}.metadata"),
                fields: meta,
                json_names: BTreeMap::new(),
            })),
            max_size: 2,
        }),
    );
}

/// The declared type of the root of a custom resource: its schema plus apiVersion, kind and metadata.
pub(crate) fn root_decl(schema: &Value) -> Option<Arc<Decl>> {
    schema_decl(schema, "self", true)
}
