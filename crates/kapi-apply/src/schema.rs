//! The type model apply walks: what a schema position is (scalar, struct, map, list) and how it is owned
//! (atomic or granular), read from an OpenAPI [`SchemaNode`] as kube-openapi's conversion to
//! structured-merge-diff reads it.
//!
//! Where a schema says nothing (no schema, `x-kubernetes-preserve-unknown-fields`, an object without
//! properties) the type is *deduced* from the value, as upstream's deduced schema does: objects are granular maps
//! of deduced values, lists are atomic, everything else is a scalar.

use kapi_openapi::{ListType, MapType, SchemaNode};
use serde_json::Value;

/// A position in the type model: a schema node, or "deduce from the value".
#[derive(Debug, Clone, Copy)]
pub enum TypeRef<'a> {
    /// Typed by this schema node.
    Node(SchemaNode<'a>),
    /// Untyped: objects are granular maps, lists atomic.
    Deduced,
}

impl<'a> TypeRef<'a> {
    /// The type of a whole object: its schema's root, or deduced when there is none.
    pub fn root(schema: Option<SchemaNode<'a>>) -> Self {
        schema.map_or(Self::Deduced, Self::Node)
    }
}

/// How the items of a non-atomic list are identified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ListKind<'a> {
    /// Owned and replaced as a whole.
    Atomic,
    /// Scalars identified by their value.
    Set,
    /// Objects identified by these key fields.
    Map(Vec<&'a str>),
}

/// What a value at a type position is, as the walkers need it.
#[derive(Debug, Clone)]
pub(crate) enum Kind<'a> {
    /// A scalar, or anything owned as a whole because the schema and value disagree.
    Leaf,
    /// An object: a struct (named fields) or a map.
    Fields {
        /// How its fields are typed.
        fields: FieldTypes<'a>,
        /// `x-kubernetes-map-type: atomic`.
        atomic: bool,
    },
    /// A list.
    Items {
        /// The items' type.
        items: TypeRef<'a>,
        /// How items are identified.
        list: ListKind<'a>,
    },
}

/// The field types of an object position.
#[derive(Debug, Clone, Copy)]
pub(crate) enum FieldTypes<'a> {
    /// A struct: named properties, and for other names the `additionalProperties` type or a deduced one.
    Struct(SchemaNode<'a>),
    /// A map: every value has this type.
    Map(TypeRef<'a>),
}

impl<'a> FieldTypes<'a> {
    /// The type of field `name`, and whether it is a declared struct field (not a map key).
    pub(crate) fn field(&self, name: &str) -> (TypeRef<'a>, bool) {
        match self {
            Self::Struct(node) => match node.property(name) {
                Some(property) => (TypeRef::Node(property), true),
                None => (
                    node.additional_properties().map_or(TypeRef::Deduced, TypeRef::Node),
                    false,
                ),
            },
            Self::Map(values) => (*values, false),
        }
    }
}

/// What the schema at `ty` says, before looking at a value.
#[derive(Debug, Clone)]
pub(crate) enum Atom<'a> {
    Scalar,
    Struct { node: SchemaNode<'a>, atomic: bool },
    Map { values: TypeRef<'a>, atomic: bool },
    List { items: TypeRef<'a>, list: ListKind<'a> },
    Deduced,
}

fn flag(node: &SchemaNode<'_>, name: &str) -> bool {
    node.extension(name).and_then(Value::as_bool).unwrap_or(false)
}

/// The schema's shape at `ty`.
pub(crate) fn atom(ty: TypeRef<'_>) -> Atom<'_> {
    let TypeRef::Node(node) = ty else {
        return Atom::Deduced;
    };
    if flag(&node, "x-kubernetes-int-or-string") {
        return Atom::Scalar;
    }
    let resolved = node.resolved();
    let atomic = node.map_type() == Some(MapType::Atomic);
    let has_properties = resolved
        .get("properties")
        .and_then(Value::as_object)
        .is_some_and(|properties| !properties.is_empty());
    if has_properties {
        return Atom::Struct { node, atomic };
    }
    if let Some(values) = node.additional_properties() {
        return Atom::Map {
            values: TypeRef::Node(values),
            atomic,
        };
    }
    let type_name = node.type_name();
    if type_name == Some("array") || resolved.get("items").is_some() {
        let Some(items) = node.items() else {
            return Atom::List {
                items: TypeRef::Deduced,
                list: ListKind::Atomic,
            };
        };
        let list = match node.list_type() {
            Some(ListType::Atomic) => ListKind::Atomic,
            Some(ListType::Set) => ListKind::Set,
            Some(ListType::Map) => ListKind::Map(node.list_map_keys()),
            // Older definitions carry only the strategic-merge metadata; kube-openapi reads it the same way.
            None => match (node.patch_strategy(), node.patch_merge_key()) {
                (Some(strategy), Some(key)) if strategy.merges() => ListKind::Map(vec![key]),
                (Some(strategy), None) if strategy.merges() => ListKind::Set,
                _ => ListKind::Atomic,
            },
        };
        return Atom::List {
            items: TypeRef::Node(items),
            list,
        };
    }
    match type_name {
        Some("object") => Atom::Map {
            values: TypeRef::Deduced,
            atomic,
        },
        Some(_) => Atom::Scalar,
        None => Atom::Deduced,
    }
}

/// The kind of `value` at type `ty`. A value whose JSON type the schema does not expect is a leaf.
pub(crate) fn kind<'a>(ty: TypeRef<'a>, value: &Value) -> Kind<'a> {
    let is_object = value.is_object() || value.is_null();
    let is_array = value.is_array() || value.is_null();
    match atom(ty) {
        Atom::Struct { node, atomic } if is_object => Kind::Fields {
            fields: FieldTypes::Struct(node),
            atomic,
        },
        Atom::Map { values, atomic } if is_object => Kind::Fields {
            fields: FieldTypes::Map(values),
            atomic,
        },
        Atom::List { items, list } if is_array => Kind::Items { items, list },
        Atom::Deduced if value.is_object() => Kind::Fields {
            fields: FieldTypes::Map(TypeRef::Deduced),
            atomic: false,
        },
        Atom::Deduced if value.is_array() => Kind::Items {
            items: TypeRef::Deduced,
            list: ListKind::Atomic,
        },
        _ => Kind::Leaf,
    }
}

/// The default of field `name` of the items of a keyed list (a key field the item omits).
pub(crate) fn key_default<'a>(items: TypeRef<'a>, name: &str) -> Option<&'a Value> {
    match items {
        TypeRef::Node(node) => {
            let property = node.property(name)?;
            property
                .schema()
                .get("default")
                .or_else(|| property.resolved().get("default"))
        }
        TypeRef::Deduced => None,
    }
}
