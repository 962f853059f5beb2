//! Walks over values along the type model: the field set a value sets, the comparison of two values, the merge
//! of an applied configuration into a live object, and the removal of a set of fields. Each follows
//! structured-merge-diff's rules (typed/ in upstream), over `serde_json::Value`.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::{
    fieldpath::{PathElement, Set},
    schema::{Atom, Kind, ListKind, Model, TypeRef},
};

/// The path element that identifies `item` in a list of this kind.
pub(crate) fn item_element(list: &ListKind<'_>, item: &Value) -> Result<PathElement, String> {
    match list {
        ListKind::Map(keys) => {
            let (defaults, keys) = (&keys.defaults, &keys.names);
            let Value::Object(map) = item else {
                return Err(if item.is_null() {
                    "associative list with keys may not have a null element".to_owned()
                } else {
                    "associative list with keys may not have non-map elements".to_owned()
                });
            };
            let mut fields = Vec::with_capacity(keys.len());
            for (key, default) in keys.iter().zip(defaults) {
                if let Some(value) = map.get(*key) {
                    fields.push(((*key).to_owned(), value.clone()));
                } else if let Some(default) = default {
                    fields.push(((*key).to_owned(), (*default).clone()));
                }
            }
            if !keys.is_empty() && fields.is_empty() {
                return Err(format!(
                    "associative list with keys has an element that omits all key fields {keys:?} (and doesn't \
                     have default values for any key fields)"
                ));
            }
            fields.sort_by(|a, b| a.0.cmp(&b.0));
            Ok(PathElement::Key(fields))
        }
        ListKind::Set | ListKind::Atomic => match item {
            Value::Object(_) => Err("associative list without keys has an element that's a map type".to_owned()),
            Value::Array(_) => Err("not supported: associative list with lists as elements".to_owned()),
            Value::Null => Err("associative list without keys has an element that's an explicit null".to_owned()),
            scalar => Ok(PathElement::Value(scalar.clone())),
        },
    }
}

pub(crate) fn is_empty_container(value: Option<&Value>) -> bool {
    match value {
        None | Some(Value::Null) => true,
        Some(Value::Object(map)) => map.is_empty(),
        Some(Value::Array(items)) => items.is_empty(),
        Some(_) => false,
    }
}

/// The kind two sides share; sides of different shapes are compared and merged as leaves.
pub(crate) fn shared_kind<'a>(
    model: &Model<'a>,
    ty: TypeRef<'a>,
    lhs: Option<&Value>,
    rhs: Option<&Value>,
) -> Kind<'a> {
    let left = lhs.map(|value| model.kind(ty, value));
    let right = rhs.map(|value| model.kind(ty, value));
    match (left, right) {
        (Some(left), Some(right)) => {
            if std::mem::discriminant(&left) == std::mem::discriminant(&right) {
                right
            } else {
                Kind::Leaf
            }
        }
        (Some(only), None) | (None, Some(only)) => only,
        (None, None) => Kind::Leaf,
    }
}

/// The fields `value` sets.
pub(crate) fn to_field_set<'a>(model: &Model<'a>, value: &Value, ty: TypeRef<'a>) -> Set {
    let mut set = Set::new();
    collect(model, value, ty, &mut Vec::new(), &mut set);
    set
}

fn collect<'a>(model: &Model<'a>, value: &Value, ty: TypeRef<'a>, path: &mut Vec<PathElement>, set: &mut Set) {
    match model.kind(ty, value) {
        Kind::Leaf
        | Kind::Fields { atomic: true, .. }
        | Kind::Items {
            list: ListKind::Atomic, ..
        } => set.insert(path),
        Kind::Fields { fields, .. } => {
            let Value::Object(map) = value else { return };
            for (name, child) in map {
                let (child_type, declared) = model.field(&fields, name);
                path.push(PathElement::Field(name.clone()));
                collect(model, child, child_type, path, set);
                let empty_object = child.as_object().is_some_and(Map::is_empty);
                if child.is_null() || empty_object || !declared {
                    set.insert(path);
                }
                path.pop();
            }
        }
        Kind::Items { items, list } => {
            let Value::Array(entries) = value else { return };
            let elements: Vec<Option<PathElement>> =
                entries.iter().map(|item| item_element(&list, item).ok()).collect();
            let mut seen: BTreeMap<&PathElement, usize> = BTreeMap::new();
            for element in elements.iter().flatten() {
                *seen.entry(element).or_default() += 1;
            }
            for (item, element) in entries.iter().zip(&elements) {
                let Some(element) = element else { continue };
                path.push(element.clone());
                // A duplicated item is owned as a whole: its fields cannot be told apart.
                if seen.get(element).copied().unwrap_or_default() < 2 {
                    collect(model, item, items, path, set);
                }
                set.insert(path);
                path.pop();
            }
        }
    }
}

/// Merges `config` into `live`: the configuration's values win, granular maps and lists merge item by item.
pub(crate) fn merge<'a>(model: &Model<'a>, live: &Value, config: &Value, ty: TypeRef<'a>) -> Result<Value, String> {
    let mut path = Vec::new();
    Ok(merge_node(model, Some(live), Some(config), ty, &mut path)?.unwrap_or(Value::Null))
}

fn path_text(path: &[PathElement]) -> String {
    path.iter().map(ToString::to_string).collect()
}

fn merge_node<'a>(
    model: &Model<'a>,
    lhs: Option<&Value>,
    rhs: Option<&Value>,
    ty: TypeRef<'a>,
    path: &mut Vec<PathElement>,
) -> Result<Option<Value>, String> {
    let keep_rhs = || rhs.or(lhs).cloned();
    match shared_kind(model, ty, lhs, rhs) {
        Kind::Leaf
        | Kind::Fields { atomic: true, .. }
        | Kind::Items {
            list: ListKind::Atomic, ..
        } => Ok(keep_rhs()),
        Kind::Fields { .. } | Kind::Items { .. } if is_empty_container(lhs) && is_empty_container(rhs) => {
            Ok(keep_rhs())
        }
        Kind::Fields { fields, .. } => {
            let left = lhs.and_then(Value::as_object);
            let right = rhs.and_then(Value::as_object);
            let mut out = Map::new();
            for (name, old) in left.into_iter().flatten() {
                let (child_type, _) = model.field(&fields, name);
                path.push(PathElement::Field(name.clone()));
                let merged = merge_node(model, Some(old), right.and_then(|m| m.get(name)), child_type, path)?;
                path.pop();
                if let Some(merged) = merged {
                    out.insert(name.clone(), merged);
                }
            }
            for (name, new) in right.into_iter().flatten() {
                if left.is_some_and(|m| m.contains_key(name)) {
                    continue;
                }
                let (child_type, _) = model.field(&fields, name);
                path.push(PathElement::Field(name.clone()));
                let merged = merge_node(model, None, Some(new), child_type, path)?;
                path.pop();
                if let Some(merged) = merged {
                    out.insert(name.clone(), merged);
                }
            }
            Ok((!out.is_empty()).then_some(Value::Object(out)))
        }
        Kind::Items { items, list } => merge_items(model, lhs, rhs, items, &list, path),
    }
}

/// Indexes a list's items by element; `Err` for an item without identity, or (unless allowed) a duplicate.
fn index_items<'v>(
    list: &ListKind<'_>,
    value: Option<&'v Value>,
    allow_duplicates: bool,
    path: &[PathElement],
) -> Result<(Vec<PathElement>, BTreeMap<PathElement, &'v Value>), String> {
    const NULL: &Value = &Value::Null;
    let mut elements = Vec::new();
    let mut observed = BTreeMap::new();
    for (position, item) in value.and_then(Value::as_array).into_iter().flatten().enumerate() {
        let element =
            item_element(list, item).map_err(|error| format!("{}: element {position}: {error}", path_text(path)))?;
        if observed.contains_key(&element) {
            if !allow_duplicates {
                return Err(format!("{}: duplicate entries for key {element}", path_text(path)));
            }
            // A duplicated item of the live object merges as if it were null.
            observed.insert(element.clone(), NULL);
        } else {
            observed.insert(element.clone(), item);
        }
        elements.push(element);
    }
    Ok((elements, observed))
}

/// Merges two lists item by item. The result keeps the live order, except that items both lists share follow
/// the configuration's order, and the configuration's new items come after the live item they follow there.
fn merge_items<'a>(
    model: &Model<'a>,
    lhs: Option<&Value>,
    rhs: Option<&Value>,
    items: TypeRef<'a>,
    list: &ListKind<'_>,
    path: &mut Vec<PathElement>,
) -> Result<Option<Value>, String> {
    let (right, observed_right) = index_items(list, rhs, false, path)?;
    let (left, observed_left) = index_items(list, lhs, true, path)?;
    let live_items: &[Value] = lhs.and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
    let mut shared = right.iter().filter(|element| observed_left.contains_key(*element));
    let mut next_shared = shared.next();
    let mut merged_right: std::collections::BTreeSet<&PathElement> = std::collections::BTreeSet::new();
    let mut out = Vec::with_capacity(left.len().max(right.len()));
    let (mut l, mut r) = (0, 0);
    let mut push_merged =
        |element: &PathElement, old: Option<&Value>, new: Option<&Value>, out: &mut Vec<Value>| -> Result<(), String> {
            path.push(element.clone());
            let merged = merge_node(model, old, new, items, path);
            path.pop();
            if let Some(merged) = merged? {
                out.push(merged);
            }
            Ok(())
        };
    while l < left.len() || r < right.len() {
        if l < left.len() && r < right.len() {
            let element = &left[l];
            if *element == right[r] {
                merged_right.insert(element);
                push_merged(
                    element,
                    observed_left.get(element).copied(),
                    observed_right.get(element).copied(),
                    &mut out,
                )?;
                l += 1;
                r += 1;
                next_shared = shared.next();
                continue;
            }
            if observed_right.contains_key(element) && next_shared.is_some_and(|next| next != element) {
                l += 1;
                continue;
            }
        }
        if l < left.len() {
            let element = &left[l];
            if !observed_right.contains_key(element) {
                push_merged(element, live_items.get(l), None, &mut out)?;
                l += 1;
                continue;
            } else if merged_right.contains(element) {
                l += 1;
            }
        }
        if r < right.len() {
            let element = &right[r];
            merged_right.insert(element);
            push_merged(
                element,
                observed_left.get(element).copied(),
                observed_right.get(element).copied(),
                &mut out,
            )?;
            r += 1;
            if next_shared == Some(element) {
                next_shared = shared.next();
            }
        }
    }
    Ok((!out.is_empty()).then_some(Value::Array(out)))
}

/// `value` without the fields in `remove` (a member removes the field or item with everything below it).
/// `None` when nothing is left of an object or list that the removal emptied.
pub(crate) fn remove_items<'a>(model: &Model<'a>, value: &Value, remove: &Set, ty: TypeRef<'a>) -> Option<Value> {
    match model.kind(ty, value) {
        Kind::Leaf
        | Kind::Fields { atomic: true, .. }
        | Kind::Items {
            list: ListKind::Atomic, ..
        } => Some(value.clone()),
        Kind::Fields { fields, .. } => {
            let Some(map) = value.as_object().filter(|map| !map.is_empty()) else {
                return Some(value.clone());
            };
            let mut out = Map::new();
            for (name, child) in map {
                let element = PathElement::Field(name.clone());
                if remove.has_member(&element) {
                    continue;
                }
                match remove.child(&element) {
                    Some(below) => {
                        if let Some(kept) = remove_items(model, child, below, model.field(&fields, name).0) {
                            out.insert(name.clone(), kept);
                        }
                    }
                    None => {
                        out.insert(name.clone(), child.clone());
                    }
                }
            }
            (!out.is_empty()).then_some(Value::Object(out))
        }
        Kind::Items { items, list } => {
            let Some(entries) = value.as_array().filter(|entries| !entries.is_empty()) else {
                return Some(value.clone());
            };
            let mut out = Vec::new();
            for item in entries {
                let Ok(element) = item_element(&list, item) else {
                    out.push(item.clone());
                    continue;
                };
                if remove.has_member(&element) {
                    continue;
                }
                match remove.child(&element) {
                    Some(below) => out.extend(remove_items(model, item, below, items)),
                    None => out.push(item.clone()),
                }
            }
            (!out.is_empty()).then_some(Value::Array(out))
        }
    }
}

/// `set` plus, as members, every struct field that has owned fields below it (upstream's
/// `EnsureNamedFieldsAreMembers`): removing such a field removes the struct, while map keys stay granular.
pub(crate) fn ensure_named_fields_are_members<'a>(model: &Model<'a>, set: &Set, ty: TypeRef<'a>) -> Set {
    let shape = model.atom(ty);
    let mut out = Set {
        members: set.members.clone(),
        children: BTreeMap::new(),
    };
    for (element, child) in &set.children {
        let child_type = match (element, &shape) {
            (PathElement::Field(name), Atom::Struct { node, .. }) => match node.property(name) {
                Some(property) => {
                    out.members.insert(element.clone());
                    TypeRef::Node(property)
                }
                None => node.additional_properties().map_or(TypeRef::Deduced, TypeRef::Node),
            },
            (PathElement::Field(_), Atom::Map { values, .. }) => *values,
            (PathElement::Field(_), _) => TypeRef::Deduced,
            (_, Atom::List { items, .. }) => *items,
            _ => TypeRef::Deduced,
        };
        out.children.insert(
            element.clone(),
            ensure_named_fields_are_members(model, child, child_type),
        );
    }
    out
}
