//! The comparison of two values along the type model (structured-merge-diff's `Compare`): which fields the new
//! value adds, modifies and removes. A [`Scope`] leaves out, while walking, the fields an operation would drop
//! from the result anyway (an endpoint's ignored fields, the strip set), so that they are never collected.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::{
    fieldpath::{PathElement, Set},
    schema::{Kind, ListKind, Model, TypeRef},
    typed::{is_empty_container, item_element, shared_kind},
};

/// What changed from one value to another.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Comparison {
    /// Fields set only in the new value.
    pub added: Set,
    /// Fields set in both, with different values.
    pub modified: Set,
    /// Fields set only in the old value.
    pub removed: Set,
}

impl Comparison {
    /// Whether nothing changed.
    pub fn is_same(&self) -> bool {
        self.added.is_empty() && self.modified.is_empty() && self.removed.is_empty()
    }

    /// The comparison without `ignored` fields and everything below them.
    pub fn excluding(mut self, ignored: &Set) -> Comparison {
        self.added.subtract_recursively(ignored);
        self.modified.subtract_recursively(ignored);
        self.removed.subtract_recursively(ignored);
        self
    }
}

/// The paths a comparison records: none at or below a member of `ignored` (as
/// [`Comparison::excluding`]), and not the paths of `stripped` themselves (as [`Set::difference`]: what lies
/// below them still counts). Both sets are followed down along the path being compared.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Scope<'s> {
    ignored: Option<&'s Set>,
    stripped: Option<&'s Set>,
}

impl<'s> Scope<'s> {
    /// Everything but `ignored` (recursively) and `stripped` (only its own paths).
    pub(crate) fn new(ignored: &'s Set, stripped: Option<&'s Set>) -> Self {
        Self {
            ignored: (!ignored.is_empty()).then_some(ignored),
            stripped: stripped.filter(|set| !set.is_empty()),
        }
    }

    /// [`Scope::enter`] for the field `name`.
    fn enter_field(&self, name: &str) -> Option<(Scope<'s>, bool)> {
        if self.ignored.is_none() && self.stripped.is_none() {
            return Some((*self, true));
        }
        if self.ignored.is_some_and(|ignored| ignored.has_field_member(name)) {
            return None;
        }
        let recorded = !self.stripped.is_some_and(|stripped| stripped.has_field_member(name));
        let below = Scope {
            ignored: self.ignored.and_then(|ignored| ignored.field_child(name)),
            stripped: self.stripped.and_then(|stripped| stripped.field_child(name)),
        };
        Some((below, recorded))
    }

    /// The scope below `element`, and whether the path to `element` is recorded; `None` when it is ignored
    /// with everything below it.
    fn enter(&self, element: &PathElement) -> Option<(Scope<'s>, bool)> {
        if self.ignored.is_none() && self.stripped.is_none() {
            return Some((*self, true));
        }
        if self.ignored.is_some_and(|ignored| ignored.has_member(element)) {
            return None;
        }
        let recorded = !self.stripped.is_some_and(|stripped| stripped.has_member(element));
        let below = Scope {
            ignored: self.ignored.and_then(|ignored| ignored.child(element)),
            stripped: self.stripped.and_then(|stripped| stripped.child(element)),
        };
        Some((below, recorded))
    }
}

/// Compares `old` with `new`.
pub(crate) fn compare<'a>(model: &Model<'a>, old: &Value, new: &Value, ty: TypeRef<'a>) -> Comparison {
    compare_within(model, old, new, ty, Scope::default())
}

/// Compares `old` with `new`, recording only the paths in `scope`.
pub(crate) fn compare_within<'a>(
    model: &Model<'a>,
    old: &Value,
    new: &Value,
    ty: TypeRef<'a>,
    scope: Scope<'_>,
) -> Comparison {
    let mut comparison = Comparison::default();
    // Equal values differ nowhere. Each level checks its children once, before walking into them (so that
    // no value is compared for equality twice at the same level).
    if old == new {
        return comparison;
    }
    let mut walk = Walk {
        model,
        path: Vec::new(),
        comparison: &mut comparison,
    };
    walk.node(Some(old), Some(new), ty, scope, true);
    comparison
}

struct Walk<'m, 'a, 'c> {
    model: &'m Model<'a>,
    path: Vec<PathElement>,
    comparison: &'c mut Comparison,
}

impl<'a> Walk<'_, 'a, '_> {
    /// Compares the values at the current path; `recorded` tells whether the path itself may be recorded.
    fn node(&mut self, lhs: Option<&Value>, rhs: Option<&Value>, ty: TypeRef<'a>, scope: Scope<'_>, recorded: bool) {
        // A side that is missing makes the whole subtree of the other one added (or removed): collect it in one
        // walk instead of comparing it node by node against nothing.
        match (lhs, rhs) {
            (None, Some(only)) => {
                let below = subtree(self.model, only, ty, scope);
                self.comparison.added.graft(&self.path, below, recorded);
                return;
            }
            (Some(only), None) => {
                let below = subtree(self.model, only, ty, scope);
                self.comparison.removed.graft(&self.path, below, recorded);
                return;
            }
            _ => {}
        }
        let leaf = match shared_kind(self.model, ty, lhs, rhs) {
            Kind::Leaf
            | Kind::Fields { atomic: true, .. }
            | Kind::Items {
                list: ListKind::Atomic, ..
            } => true,
            Kind::Fields { fields, .. } => {
                if is_empty_container(lhs) && is_empty_container(rhs) {
                    true
                } else {
                    let left = lhs.and_then(Value::as_object);
                    let right = rhs.and_then(Value::as_object);
                    let visit = |walk: &mut Self, name: &String, old: Option<&Value>, new: Option<&Value>| {
                        let Some((inner, recorded)) = scope.enter_field(name) else {
                            return;
                        };
                        // Equal values change nothing, and a scalar whose own path is not recorded has nothing
                        // below it to record: neither needs the walk (nor its path element).
                        let scalar = |side: Option<&Value>| !side.is_some_and(|v| v.is_object() || v.is_array());
                        if old.is_some() && old == new || !recorded && scalar(old) && scalar(new) {
                            return;
                        }
                        let (child_type, _) = walk.model.field(&fields, name);
                        walk.path.push(PathElement::Field(name.clone()));
                        walk.node(old, new, child_type, inner, recorded);
                        walk.path.pop();
                    };
                    for (name, old) in left.into_iter().flatten() {
                        visit(self, name, Some(old), right.and_then(|m| m.get(name)));
                    }
                    for (name, new) in right.into_iter().flatten() {
                        if !left.is_some_and(|m| m.contains_key(name)) {
                            visit(self, name, None, Some(new));
                        }
                    }
                    false
                }
            }
            Kind::Items { items, list } => {
                if is_empty_container(lhs) && is_empty_container(rhs) {
                    true
                } else {
                    self.items(lhs, rhs, items, &list, scope);
                    false
                }
            }
        };
        if self.path.is_empty() || !recorded {
            return;
        }
        let path = &self.path;
        match (lhs, rhs) {
            (None, _) => self.comparison.added.insert(path),
            (_, None) => self.comparison.removed.insert(path),
            (Some(old), Some(new)) if leaf && old != new => self.comparison.modified.insert(path),
            _ => {}
        }
    }

    fn items(
        &mut self,
        lhs: Option<&Value>,
        rhs: Option<&Value>,
        items: TypeRef<'a>,
        list: &ListKind<'_>,
        scope: Scope<'_>,
    ) {
        let (mut order, left) = group_items(list, lhs);
        let (right_order, right) = group_items(list, rhs);
        order.extend(right_order.into_iter().filter(|element| !left.contains_key(element)));
        for element in order {
            let Some((inner, recorded)) = scope.enter(&element) else {
                continue;
            };
            let old = left.get(&element).map(Vec::as_slice).unwrap_or_default();
            let new = right.get(&element).map(Vec::as_slice).unwrap_or_default();
            self.path.push(element);
            match (old.len(), new.len()) {
                (0..=1, 0..=1) => {
                    let (old, new) = (old.first().copied(), new.first().copied());
                    if old.is_none() || old != new {
                        self.node(old, new, items, inner, recorded);
                    }
                }
                (2.., 2..) => {
                    if recorded && old != new {
                        self.comparison.modified.insert(&self.path);
                    }
                }
                (2.., _) => {
                    if let Some(first) = new.first() {
                        self.node(None, Some(first), items, inner, recorded);
                    }
                    if recorded {
                        self.comparison.removed.insert(&self.path);
                    }
                }
                (_, _) => {
                    if let Some(first) = old.first() {
                        self.node(Some(first), None, items, inner, recorded);
                    }
                    if recorded {
                        self.comparison.added.insert(&self.path);
                    }
                }
            }
            self.path.pop();
        }
    }
}

/// Adds `element` (when `recorded`) and the paths `below` it to `set`; `set` holds nothing under `element` yet.
fn put(set: &mut Set, element: PathElement, below: Set, recorded: bool) {
    match (recorded, below.is_empty()) {
        (true, true) => {
            set.members.insert(element);
        }
        (true, false) => {
            set.members.insert(element.clone());
            set.children.insert(element, below);
        }
        (false, false) => {
            set.children.insert(element, below);
        }
        (false, true) => {}
    }
}

/// Every path below `value` in `scope` (relative to it), as comparing it with a missing value finds them: all
/// fields of granular objects, all items of non-atomic lists (an item that occurs more than once only as
/// itself).
fn subtree<'a>(model: &Model<'a>, value: &Value, ty: TypeRef<'a>, scope: Scope<'_>) -> Set {
    let mut set = Set::new();
    match model.kind(ty, value) {
        Kind::Leaf
        | Kind::Fields { atomic: true, .. }
        | Kind::Items {
            list: ListKind::Atomic, ..
        } => {}
        Kind::Fields { fields, .. } => {
            for (name, child) in value.as_object().into_iter().flatten() {
                let Some((inner, recorded)) = scope.enter_field(name) else {
                    continue;
                };
                // A scalar whose path is not recorded has nothing below it to record.
                if !(recorded || child.is_object() || child.is_array()) {
                    continue;
                }
                let (child_type, _) = model.field(&fields, name);
                let below = subtree(model, child, child_type, inner);
                put(&mut set, PathElement::Field(name.clone()), below, recorded);
            }
        }
        Kind::Items { items, list } => {
            let (order, groups) = group_items(&list, Some(value));
            for element in order {
                let Some((inner, recorded)) = scope.enter(&element) else {
                    continue;
                };
                let below = match groups.get(&element).map(Vec::as_slice) {
                    Some([only]) => subtree(model, only, items, inner),
                    _ => Set::new(),
                };
                put(&mut set, element, below, recorded);
            }
        }
    }
    set
}

type Grouped<'v> = (Vec<PathElement>, BTreeMap<PathElement, Vec<&'v Value>>);

/// A list's items by element, and the elements in the order of their first item.
fn group_items<'v>(list: &ListKind<'_>, value: Option<&'v Value>) -> Grouped<'v> {
    let mut order = Vec::new();
    let mut groups: BTreeMap<PathElement, Vec<&Value>> = BTreeMap::new();
    for item in value.and_then(Value::as_array).into_iter().flatten() {
        let Ok(element) = item_element(list, item) else {
            continue;
        };
        match groups.get_mut(&element) {
            Some(group) => group.push(item),
            None => {
                order.push(element.clone());
                groups.insert(element, vec![item]);
            }
        }
    }
    (order, groups)
}

#[cfg(test)]
#[path = "compare_tests.rs"]
mod tests;
