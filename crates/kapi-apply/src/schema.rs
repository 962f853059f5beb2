//! The type model apply walks: what a schema position is (scalar, struct, map, list) and how it is owned
//! (atomic or granular), read from an OpenAPI [`SchemaNode`] as kube-openapi's conversion to
//! structured-merge-diff reads it.
//!
//! Where a schema says nothing (no schema, `x-kubernetes-preserve-unknown-fields`, an object without
//! properties) the type is *deduced* from the value, as upstream's deduced schema does: objects are granular maps
//! of deduced values, lists are atomic, everything else is a scalar.

use std::{cell::RefCell, sync::Arc};

use kapi_openapi::{ListType, MapType, SchemaNode};
use serde_json::Value;

use crate::compiled::{address, AddressMap, Compiled};

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
    Map(Arc<ListKeys<'a>>),
}

/// The key fields of a keyed list's items, each with the schema's default for an item that omits it.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct ListKeys<'a> {
    /// The key fields, as the schema lists them.
    pub(crate) names: Vec<&'a str>,
    /// The default of each key field (same order as `names`).
    pub(crate) defaults: Vec<Option<&'a Value>>,
}

impl<'a> ListKeys<'a> {
    fn of(items: SchemaNode<'a>, names: Vec<&'a str>) -> Self {
        let defaults = names
            .iter()
            .map(|name| key_default(TypeRef::Node(items), name))
            .collect();
        Self { names, defaults }
    }
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
            Some(ListType::Map) => ListKind::Map(Arc::new(ListKeys::of(items, node.list_map_keys()))),
            // Older definitions carry only the strategic-merge metadata; kube-openapi reads it the same way.
            None => match (node.patch_strategy(), node.patch_merge_key()) {
                (Some(strategy), Some(key)) if strategy.merges() => {
                    ListKind::Map(Arc::new(ListKeys::of(items, vec![key])))
                }
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

/// The kind of `value` given the schema's `atom`. A value whose JSON type the schema does not expect is a leaf.
fn kind_of<'a>(atom: &Atom<'a>, value: &Value) -> Kind<'a> {
    let is_object = value.is_object() || value.is_null();
    let is_array = value.is_array() || value.is_null();
    match atom {
        Atom::Struct { node, atomic } if is_object => Kind::Fields {
            fields: FieldTypes::Struct(*node),
            atomic: *atomic,
        },
        Atom::Map { values, atomic } if is_object => Kind::Fields {
            fields: FieldTypes::Map(*values),
            atomic: *atomic,
        },
        Atom::List { items, list } if is_array => Kind::Items {
            items: *items,
            list: list.clone(),
        },
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

/// The type model of one operation: the compiled positions of a built-in type (shared by every operation on
/// it), and the shapes of other schema positions read once per operation and remembered by their address (the
/// schema is borrowed for the model's whole life, so addresses stay valid and unique). Their fields are looked
/// up in the schema each time: remembering them by name (a copied name and two hashes per field) cost more
/// than the lookup, which most operations make once per field.
#[derive(Debug, Default)]
pub(crate) struct Model<'a> {
    compiled: Option<Arc<Compiled<'static>>>,
    atoms: RefCell<AddressMap<Atom<'a>>>,
}

impl<'a> Model<'a> {
    /// The model of an operation on values of type `root`.
    pub(crate) fn new(root: TypeRef<'a>) -> Self {
        Self {
            compiled: crate::compiled::of_builtin(root),
            ..Self::default()
        }
    }

    /// The schema's shape at `ty`.
    pub(crate) fn atom(&self, ty: TypeRef<'a>) -> Atom<'a> {
        let TypeRef::Node(node) = ty else {
            return Atom::Deduced;
        };
        let key = address(&node);
        if let Some(position) = self.compiled.as_ref().and_then(|compiled| compiled.position(key)) {
            return position.atom.clone();
        }
        if let Some(found) = self.atoms.borrow().get(&key) {
            return found.clone();
        }
        let resolved = atom(ty);
        self.atoms.borrow_mut().insert(key, resolved.clone());
        resolved
    }

    /// The kind of `value` at type `ty`.
    pub(crate) fn kind(&self, ty: TypeRef<'a>, value: &Value) -> Kind<'a> {
        match ty {
            TypeRef::Deduced => kind_of(&Atom::Deduced, value),
            TypeRef::Node(node) => {
                let compiled = self
                    .compiled
                    .as_ref()
                    .and_then(|compiled| compiled.position(address(&node)));
                match compiled {
                    Some(position) => kind_of(&position.atom, value),
                    None => kind_of(&self.atom(ty), value),
                }
            }
        }
    }

    /// The type of field `name` of an object position, and whether it is a declared struct field.
    pub(crate) fn field(&self, fields: &FieldTypes<'a>, name: &str) -> (TypeRef<'a>, bool) {
        let FieldTypes::Struct(node) = fields else {
            return fields.field(name);
        };
        let compiled = self
            .compiled
            .as_ref()
            .and_then(|compiled| compiled.position(address(node)));
        match compiled {
            Some(position) => position.field(name),
            None => fields.field(name),
        }
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
