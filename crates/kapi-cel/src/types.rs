//! CEL types, and the declared type of each OpenAPI schema node as k8s.io/apiserver's `SchemaDeclType` derives
//! it: integers vs doubles, `x-kubernetes-int-or-string` as `dyn`, `date-time`/`duration`/`byte` formats as
//! timestamps/durations/bytes, objects with declared properties as typed objects (`self.field`, `has()`),
//! `additionalProperties` as maps, and `x-kubernetes-preserve-unknown-fields` without properties as `dyn`.
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

/// An object type with declared properties.
#[derive(Debug)]
pub(crate) struct ObjectDecl {
    pub(crate) name: String,
    pub(crate) fields: BTreeMap<String, Arc<Decl>>,
}

/// The smallest JSON encoding of a value of this schema, used to bound how many fit in one request.
fn min_serialized_size(schema: &Value) -> u64 {
    if schema.get("x-kubernetes-int-or-string").and_then(Value::as_bool) == Some(true) {
        return 1;
    }
    match schema.get("type").and_then(Value::as_str) {
        Some("string") => match schema.get("format").and_then(Value::as_str) {
            // An RFC 3339 timestamp is at least `"2006-01-02T15:04:05Z"`.
            Some("date-time" | "datetime") => 22,
            Some("date") => 12,
            Some("duration") => 4,
            _ => 2 + schema.get("minLength").and_then(Value::as_u64).unwrap_or(0),
        },
        Some("boolean") => 4,
        Some("integer" | "number") => 1,
        _ => 2,
    }
}

/// Builds the declared type of a schema node; `None` for nodes CEL cannot type (no `type` and no extension).
pub(crate) fn schema_decl(schema: &Value, name: &str, embedded_resource: bool) -> Option<Arc<Decl>> {
    schema_decl_bounded(schema, name, embedded_resource, MAX_REQUEST_SIZE_BYTES)
}

fn schema_decl_bounded(schema: &Value, name: &str, embedded_resource: bool, budget: u64) -> Option<Arc<Decl>> {
    let flag = |key: &str| schema.get(key).and_then(Value::as_bool) == Some(true);
    if flag("x-kubernetes-int-or-string") {
        return Some(Arc::new(Decl {
            ty: Type::Dyn,
            max_size: schema.get("maxLength").and_then(Value::as_u64).unwrap_or(budget),
        }));
    }
    let ty = schema.get("type").and_then(Value::as_str).unwrap_or("");
    let preserve = flag("x-kubernetes-preserve-unknown-fields");
    let decl = match ty {
        "boolean" => Decl {
            ty: Type::Bool,
            max_size: 1,
        },
        "integer" => Decl {
            ty: Type::Int,
            max_size: 1,
        },
        "number" => Decl {
            ty: Type::Double,
            max_size: 1,
        },
        "string" => {
            let max_length = schema.get("maxLength").and_then(Value::as_u64);
            let ty = match schema.get("format").and_then(Value::as_str) {
                Some("date-time" | "datetime" | "date") => Type::Timestamp,
                Some("duration") => Type::Duration,
                Some("byte") => Type::Bytes,
                _ => Type::String,
            };
            // maxLength counts code points but sizes are bytes: a code point may take four (as upstream).
            let longest_enum = schema.get("enum").and_then(Value::as_array).and_then(|values| {
                values
                    .iter()
                    .filter_map(Value::as_str)
                    .map(|value| value.len() as u64)
                    .max()
            });
            let max_size = match (max_length, longest_enum) {
                (Some(max), _) => max.saturating_mul(4),
                (None, Some(longest)) => longest,
                // Quotes take two of the request's bytes.
                (None, None) => budget.saturating_sub(2),
            };
            Decl { ty, max_size }
        }
        "array" => {
            let items = schema.get("items")?;
            let max_items = schema
                .get("maxItems")
                .and_then(Value::as_u64)
                .unwrap_or_else(|| budget.saturating_sub(2) / (min_serialized_size(items) + 1));
            let elem = schema_decl_bounded(
                items,
                &format!("{name}.@idx"),
                flag_of(items, "x-kubernetes-embedded-resource"),
                budget,
            )?;
            Decl {
                ty: Type::List(elem),
                max_size: max_items,
            }
        }
        "object" => {
            let properties = schema.get("properties").and_then(Value::as_object);
            let additional = schema.get("additionalProperties").filter(|value| value.is_object());
            let max_properties = |value_schema: Option<&Value>| {
                schema.get("maxProperties").and_then(Value::as_u64).unwrap_or_else(|| {
                    // Each entry is at least `"":v,`.
                    let value_size = value_schema.map_or(2, min_serialized_size);
                    budget.saturating_sub(2) / (value_size + 4)
                })
            };
            if let Some(additional) = additional {
                let value = schema_decl_bounded(
                    additional,
                    &format!("{name}.@elem"),
                    flag_of(additional, "x-kubernetes-embedded-resource"),
                    budget,
                )?;
                Decl {
                    ty: Type::Map(
                        Arc::new(Decl {
                            ty: Type::String,
                            max_size: budget.saturating_sub(2),
                        }),
                        value,
                    ),
                    max_size: max_properties(Some(additional)),
                }
            } else if properties.is_some() || embedded_resource {
                let mut fields = BTreeMap::new();
                for (key, property) in properties.into_iter().flatten() {
                    let field_name = format!("{name}.{key}");
                    if let Some(decl) = schema_decl_bounded(
                        property,
                        &field_name,
                        flag_of(property, "x-kubernetes-embedded-resource"),
                        budget,
                    ) {
                        fields.insert(key.clone(), decl);
                    }
                }
                if embedded_resource {
                    embedded_meta_fields(&mut fields, name, budget);
                }
                if preserve && properties.is_none() {
                    Decl {
                        ty: Type::Dyn,
                        max_size: max_properties(None),
                    }
                } else {
                    Decl {
                        ty: Type::Object(Arc::new(ObjectDecl {
                            name: name.to_owned(),
                            fields,
                        })),
                        max_size: max_properties(None),
                    }
                }
            } else if preserve {
                Decl {
                    ty: Type::Dyn,
                    max_size: max_properties(None),
                }
            } else {
                // An object without properties or additionalProperties holds nothing after pruning.
                Decl {
                    ty: Type::Object(Arc::new(ObjectDecl {
                        name: name.to_owned(),
                        fields: BTreeMap::new(),
                    })),
                    max_size: 0,
                }
            }
        }
        "" if preserve => Decl {
            ty: Type::Dyn,
            max_size: budget,
        },
        _ => return None,
    };
    Some(Arc::new(decl))
}

fn flag_of(schema: &Value, key: &str) -> bool {
    schema.get(key).and_then(Value::as_bool) == Some(true)
}

/// An embedded resource (and the root of a custom resource) exposes apiVersion, kind and the metadata fields
/// name and generateName to rules, as upstream's `WithTypeAndObjectMeta`.
fn embedded_meta_fields(fields: &mut BTreeMap<String, Arc<Decl>>, name: &str, budget: u64) {
    let string = || {
        Arc::new(Decl {
            ty: Type::String,
            max_size: budget.saturating_sub(2),
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
            })),
            max_size: 2,
        }),
    );
}

/// The declared type of the root of a custom resource: its schema plus apiVersion, kind and metadata.
pub(crate) fn root_decl(schema: &Value) -> Option<Arc<Decl>> {
    schema_decl(schema, "self", true)
}
