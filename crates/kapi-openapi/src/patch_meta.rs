//! Patch metadata of fields, for strategic merge patch and server-side apply: walk a definition field by field
//! (following `$ref`s) and read `x-kubernetes-patch-strategy`, `x-kubernetes-patch-merge-key`,
//! `x-kubernetes-list-type`, `x-kubernetes-list-map-keys` and `x-kubernetes-map-type`.
//!
//! Kubernetes writes list and patch extensions on the field (the use site: `ObjectMeta.ownerReferences`), and
//! `x-kubernetes-map-type` sometimes on the referenced definition itself (`LocalObjectReference` is atomic).
//! Every query therefore looks at the use site first, then at the definition it refers to.

use serde_json::Value;

use crate::definitions::{reference_target, Definitions};

/// How many `$ref`s one step may follow; guards against reference cycles in caller-supplied schemas.
const MAX_REFERENCE_DEPTH: usize = 32;

/// `x-kubernetes-patch-strategy`: how strategic merge patch combines a field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PatchStrategy {
    /// `merge`: lists merge by their merge key (or as sets of primitives).
    Merge,
    /// `replace`: the patch value replaces the field.
    Replace,
    /// `retainKeys`: fields not in the patch are cleared (unions such as volume sources).
    RetainKeys,
    /// `merge,retainKeys`: both.
    MergeRetainKeys,
}

impl PatchStrategy {
    /// Parses the extension's value; unknown values yield `None`.
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "merge" => Some(Self::Merge),
            "replace" => Some(Self::Replace),
            "retainKeys" => Some(Self::RetainKeys),
            "merge,retainKeys" | "retainKeys,merge" => Some(Self::MergeRetainKeys),
            _ => None,
        }
    }

    /// Whether lists under this strategy merge rather than replace.
    pub fn merges(self) -> bool {
        matches!(self, Self::Merge | Self::MergeRetainKeys)
    }

    /// Whether absent fields are cleared.
    pub fn retains_keys(self) -> bool {
        matches!(self, Self::RetainKeys | Self::MergeRetainKeys)
    }
}

/// `x-kubernetes-list-type`: how server-side apply treats a list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListType {
    /// `atomic`: the list is owned and replaced as a whole (the default).
    Atomic,
    /// `set`: a set of scalars, each item owned separately.
    Set,
    /// `map`: items identified by `x-kubernetes-list-map-keys`.
    Map,
}

impl ListType {
    /// Parses the extension's value.
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "atomic" => Some(Self::Atomic),
            "set" => Some(Self::Set),
            "map" => Some(Self::Map),
            _ => None,
        }
    }
}

/// `x-kubernetes-map-type`: how server-side apply treats an object or map.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MapType {
    /// `atomic`: owned and replaced as a whole.
    Atomic,
    /// `granular`: each key owned separately (the default).
    Granular,
}

impl MapType {
    /// Parses the extension's value.
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "atomic" => Some(Self::Atomic),
            "granular" => Some(Self::Granular),
            _ => None,
        }
    }
}

/// A position in a schema: the schema as written where a field is declared, within a set of definitions.
#[derive(Debug, Clone, Copy)]
pub struct SchemaNode<'a> {
    definitions: &'a Definitions,
    at_use_site: &'a Value,
}

impl<'a> SchemaNode<'a> {
    /// The root of a definition, by name.
    pub fn definition(definitions: &'a Definitions, name: &str) -> Option<Self> {
        Some(Self {
            definitions,
            at_use_site: definitions.get(name)?,
        })
    }

    /// Any schema value, e.g. a custom resource's schema that is not registered as a definition.
    pub fn new(definitions: &'a Definitions, schema: &'a Value) -> Self {
        Self {
            definitions,
            at_use_site: schema,
        }
    }

    /// The field reached by following `path` from the root of `definition`. Each segment is a property name;
    /// lists and maps are stepped into implicitly (a segment after a list names a property of its items, after
    /// a map a property of its values), which is how strategic merge patch and apply address fields.
    pub fn at_path(definitions: &'a Definitions, definition: &str, path: &[&str]) -> Option<Self> {
        let mut node = Self::definition(definitions, definition)?;
        for segment in path {
            node = node
                .property(segment)
                .or_else(|| node.items()?.property(segment))
                .or_else(|| {
                    let values = node.additional_properties()?;
                    values.property(segment)
                })?;
        }
        Some(node)
    }

    /// The definitions this node resolves references in (a custom resource's own set, or the built-in one).
    pub fn definitions(&self) -> &'a Definitions {
        self.definitions
    }

    /// The schema as written at the use site (where the extensions for this field live).
    pub fn schema(&self) -> &'a Value {
        self.at_use_site
    }

    /// The schema after following `$ref`s (and a single-reference `allOf`, the OpenAPI v3 spelling).
    pub fn resolved(&self) -> &'a Value {
        let mut schema = self.at_use_site;
        for _ in 0..MAX_REFERENCE_DEPTH {
            match direct_reference(schema).and_then(|name| self.definitions.get(name)) {
                Some(target) => schema = target,
                None => break,
            }
        }
        schema
    }

    /// The name of the definition this field refers to, if it is a reference.
    pub fn definition_name(&self) -> Option<&'a str> {
        direct_reference(self.at_use_site)
    }

    /// The schema type (`object`, `array`, `string`, ...) after resolving references.
    pub fn type_name(&self) -> Option<&'a str> {
        member(self.resolved(), "type")?.as_str()
    }

    /// A property of this object.
    pub fn property(&self, name: &str) -> Option<Self> {
        let property = member(member(self.resolved(), "properties")?, name)?;
        Some(Self {
            definitions: self.definitions,
            at_use_site: property,
        })
    }

    /// The items of this list.
    pub fn items(&self) -> Option<Self> {
        let items = member(self.resolved(), "items")?;
        Some(Self {
            definitions: self.definitions,
            at_use_site: items,
        })
    }

    /// The values of this map (`additionalProperties` when it is a schema).
    pub fn additional_properties(&self) -> Option<Self> {
        let values = member(self.resolved(), "additionalProperties").filter(|v| v.is_object())?;
        Some(Self {
            definitions: self.definitions,
            at_use_site: values,
        })
    }

    /// `x-kubernetes-patch-strategy`.
    pub fn patch_strategy(&self) -> Option<PatchStrategy> {
        PatchStrategy::parse(self.extension("x-kubernetes-patch-strategy")?.as_str()?)
    }

    /// `x-kubernetes-patch-merge-key`.
    pub fn patch_merge_key(&self) -> Option<&'a str> {
        self.extension("x-kubernetes-patch-merge-key")?.as_str()
    }

    /// `x-kubernetes-list-type`.
    pub fn list_type(&self) -> Option<ListType> {
        ListType::parse(self.extension("x-kubernetes-list-type")?.as_str()?)
    }

    /// `x-kubernetes-list-map-keys` (empty unless the list is a map).
    pub fn list_map_keys(&self) -> Vec<&'a str> {
        match self.extension("x-kubernetes-list-map-keys") {
            Some(Value::Array(keys)) => keys.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        }
    }

    /// `x-kubernetes-map-type`.
    pub fn map_type(&self) -> Option<MapType> {
        MapType::parse(self.extension("x-kubernetes-map-type")?.as_str()?)
    }

    /// A vendor extension of this field: at the use site first, then on the referenced definitions.
    pub fn extension(&self, name: &str) -> Option<&'a Value> {
        let mut schema = self.at_use_site;
        for _ in 0..MAX_REFERENCE_DEPTH {
            if let Some(value) = member(schema, name) {
                return Some(value);
            }
            schema = self.definitions.get(direct_reference(schema)?)?;
        }
        None
    }
}

/// The definition a schema refers to directly: `$ref`, or `allOf: [{$ref}]`.
fn direct_reference(schema: &Value) -> Option<&str> {
    if let Some(reference) = member(schema, "$ref").and_then(Value::as_str) {
        return reference_target(reference);
    }
    match member(schema, "allOf") {
        Some(Value::Array(all)) if all.len() == 1 => reference_target(member(&all[0], "$ref")?.as_str()?),
        _ => None,
    }
}

/// Up to how many members an object is searched by comparing names rather than by hashing the one looked for:
/// most schema objects are this small, and most lookups (`$ref`, `allOf`, extensions) find nothing, which a
/// length comparison usually settles.
const SCANNED_MEMBERS: usize = 12;

/// `value[name]` when `value` is an object (as `Value::get`).
fn member<'v>(value: &'v Value, name: &str) -> Option<&'v Value> {
    let object = value.as_object()?;
    if object.len() > SCANNED_MEMBERS {
        return object.get(name);
    }
    object.iter().find_map(|(key, member)| (key == name).then_some(member))
}
