//! Field paths and field sets, and their `FieldsV1` form in `metadata.managedFields`.
//!
//! A path is a list of elements: a field name (`f:name`), the key of an item of a keyed list
//! (`k:{"name":"web"}`), the value of an item of a set (`v:"finalizer"`) or a list index (`i:0`). A [`Set`] is a
//! tree of such elements in structured-merge-diff's order (field names, then keys, then values, then indexes),
//! so that its `FieldsV1` encoding has the same member order, byte for byte, as kube-apiserver's.

use std::{
    cmp::Ordering,
    collections::{BTreeMap, BTreeSet},
    fmt,
};

use serde_json::{Map, Value};

use crate::gojson;

/// One step of a field path.
#[derive(Debug, Clone)]
pub enum PathElement {
    /// A field of a struct or a key of a map: `f:<name>`.
    Field(String),
    /// An item of a keyed list (`x-kubernetes-list-type: map`), by its key fields sorted by name: `k:{...}`.
    Key(Vec<(String, Value)>),
    /// An item of a set (`x-kubernetes-list-type: set`): `v:<json>`.
    Value(Value),
    /// A list item by position: `i:<n>` (only in sets decoded from elsewhere; kapi never produces it).
    Index(usize),
}

impl PathElement {
    /// A field element.
    pub fn field(name: &str) -> Self {
        Self::Field(name.to_owned())
    }

    /// The element's `FieldsV1` key (`f:spec`, `k:{"port":80}`, `v:"a"`, `i:0`).
    pub fn encode(&self) -> String {
        let mut out = String::with_capacity(24);
        match self {
            Self::Field(name) => {
                out.reserve_exact(2 + name.len());
                out.push_str("f:");
                out.push_str(name);
            }
            Self::Key(fields) => {
                out.push_str("k:{");
                for (position, (name, value)) in fields.iter().enumerate() {
                    if position > 0 {
                        out.push(',');
                    }
                    gojson::write_string(&mut out, name);
                    out.push(':');
                    gojson::write_value(&mut out, value);
                }
                out.push('}');
            }
            Self::Value(value) => {
                out.push_str("v:");
                gojson::write_value(&mut out, value);
            }
            Self::Index(index) => {
                out.push_str("i:");
                out.push_str(&index.to_string());
            }
        }
        out
    }

    /// Parses a `FieldsV1` key; `Ok(None)` for an element type this version does not know (skipped, as
    /// upstream does).
    pub fn decode(text: &str) -> Result<Option<Self>, String> {
        let Some((kind, rest)) = text.split_once(':') else {
            return Err(format!("missing colon: {text}"));
        };
        match kind {
            "f" => Ok(Some(Self::Field(rest.to_owned()))),
            "v" => serde_json::from_str(rest)
                .map(|value| Some(Self::Value(value)))
                .map_err(|error| error.to_string()),
            "k" => match serde_json::from_str::<Value>(rest) {
                Ok(Value::Object(map)) => {
                    let mut fields: Vec<(String, Value)> = map.into_iter().collect();
                    fields.sort_by(|a, b| a.0.cmp(&b.0));
                    Ok(Some(Self::Key(fields)))
                }
                Ok(_) => Err(format!("key is not an object: {text}")),
                Err(error) => Err(error.to_string()),
            },
            "i" => rest
                .parse()
                .map(|index| Some(Self::Index(index)))
                .map_err(|_| format!("invalid index: {text}")),
            _ if kind.len() == 1 => Ok(None),
            _ => Err(format!("key must be 2 characters long: {text}")),
        }
    }
}

impl fmt::Display for PathElement {
    /// As conflict messages print it: `.name`, `[name="web",port=80]`, `[="a"]`, `[0]`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Field(name) => write!(f, ".{name}"),
            Self::Key(fields) => {
                let parts: Vec<String> = fields
                    .iter()
                    .map(|(name, value)| format!("{name}={}", gojson::display(value)))
                    .collect();
                write!(f, "[{}]", parts.join(","))
            }
            Self::Value(value) => write!(f, "[={}]", gojson::display(value)),
            Self::Index(index) => write!(f, "[{index}]"),
        }
    }
}

impl PartialEq for PathElement {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for PathElement {}

impl PartialOrd for PathElement {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for PathElement {
    /// structured-merge-diff's order: field names < keys < values < indexes.
    fn cmp(&self, other: &Self) -> Ordering {
        fn rank(element: &PathElement) -> u8 {
            match element {
                PathElement::Field(_) => 0,
                PathElement::Key(_) => 1,
                PathElement::Value(_) => 2,
                PathElement::Index(_) => 3,
            }
        }
        match (self, other) {
            (Self::Field(a), Self::Field(b)) => a.cmp(b),
            (Self::Key(a), Self::Key(b)) => compare_key_fields(a, b),
            (Self::Value(a), Self::Value(b)) => compare_values(a, b),
            (Self::Index(a), Self::Index(b)) => a.cmp(b),
            _ => rank(self).cmp(&rank(other)),
        }
    }
}

fn compare_key_fields(a: &[(String, Value)], b: &[(String, Value)]) -> Ordering {
    for ((name_a, value_a), (name_b, value_b)) in a.iter().zip(b) {
        let order = name_a.cmp(name_b).then_with(|| compare_values(value_a, value_b));
        if order != Ordering::Equal {
            return order;
        }
    }
    a.len().cmp(&b.len())
}

/// A total order over JSON values, as structured-merge-diff's: numbers < strings < booleans < lists < maps <
/// null.
pub fn compare_values(a: &Value, b: &Value) -> Ordering {
    fn rank(value: &Value) -> u8 {
        match value {
            Value::Number(_) => 0,
            Value::String(_) => 1,
            Value::Bool(_) => 2,
            Value::Array(_) => 3,
            Value::Object(_) => 4,
            Value::Null => 5,
        }
    }
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => match (x.as_i64(), y.as_i64()) {
            (Some(x), Some(y)) => x.cmp(&y),
            _ => {
                let (x, y) = (x.as_f64().unwrap_or(0.0), y.as_f64().unwrap_or(0.0));
                x.partial_cmp(&y).unwrap_or(Ordering::Equal)
            }
        },
        (Value::String(x), Value::String(y)) => x.cmp(y),
        (Value::Bool(x), Value::Bool(y)) => x.cmp(y),
        (Value::Array(x), Value::Array(y)) => {
            for (p, q) in x.iter().zip(y) {
                let order = compare_values(p, q);
                if order != Ordering::Equal {
                    return order;
                }
            }
            x.len().cmp(&y.len())
        }
        (Value::Object(x), Value::Object(y)) => {
            let mut xs: Vec<(&String, &Value)> = x.iter().collect();
            let mut ys: Vec<(&String, &Value)> = y.iter().collect();
            xs.sort_by(|p, q| p.0.cmp(q.0));
            ys.sort_by(|p, q| p.0.cmp(q.0));
            for ((kx, vx), (ky, vy)) in xs.iter().zip(&ys) {
                let order = kx.cmp(ky).then_with(|| compare_values(vx, vy));
                if order != Ordering::Equal {
                    return order;
                }
            }
            xs.len().cmp(&ys.len())
        }
        _ => rank(a).cmp(&rank(b)),
    }
}

/// A field path.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Path(pub Vec<PathElement>);

impl Path {
    /// A path of field names (`Path::fields(&["spec", "replicas"])`).
    pub fn fields(names: &[&str]) -> Self {
        Self(names.iter().map(|name| PathElement::field(name)).collect())
    }
}

impl fmt::Display for Path {
    /// `.spec.containers[name="web"].image`, as conflict messages and causes print it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for element in &self.0 {
            write!(f, "{element}")?;
        }
        Ok(())
    }
}

/// Up to how many elements a lookup by field name scans rather than builds the element for a tree lookup.
const SCANNED: usize = 16;

/// A set of field paths: `members` end here, `children` lead to longer paths. Children are never empty.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Set {
    pub(crate) members: BTreeSet<PathElement>,
    pub(crate) children: BTreeMap<PathElement, Set>,
}

impl Set {
    /// The empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether the set holds no path.
    pub fn is_empty(&self) -> bool {
        self.members.is_empty() && self.children.is_empty()
    }

    /// Adds a path (the empty path adds nothing).
    pub fn insert(&mut self, path: &[PathElement]) {
        let Some((last, parents)) = path.split_last() else {
            return;
        };
        self.insert_below(parents, last);
    }

    /// Inserts `last` below `parents`, cloning only the elements of nodes it creates.
    fn insert_below(&mut self, parents: &[PathElement], last: &PathElement) {
        match parents.split_first() {
            None => {
                if !self.members.contains(last) {
                    self.members.insert(last.clone());
                }
            }
            Some((first, rest)) => match self.children.get_mut(first) {
                Some(child) => child.insert_below(rest, last),
                None => {
                    let mut child = Set::new();
                    child.insert_below(rest, last);
                    self.children.insert(first.clone(), child);
                }
            },
        }
    }

    /// Adds `path` and, below it, every path of `below` (a whole subtree at once, without walking from the root
    /// for each of its paths).
    #[cfg(test)]
    pub(crate) fn insert_subtree(&mut self, path: &[PathElement], below: Set) {
        self.graft(path, below, true);
    }

    /// Adds every path of `below` under `path`, and `path` itself when `as_member`.
    pub(crate) fn graft(&mut self, path: &[PathElement], below: Set, as_member: bool) {
        let Some((first, rest)) = path.split_first() else {
            self.union_owned(below);
            return;
        };
        if rest.is_empty() {
            if as_member && !self.members.contains(first) {
                self.members.insert(first.clone());
            }
            if !below.is_empty() {
                match self.children.get_mut(first) {
                    Some(existing) => existing.union_owned(below),
                    None => {
                        self.children.insert(first.clone(), below);
                    }
                }
            }
            return;
        }
        if !as_member && below.is_empty() {
            return;
        }
        match self.children.get_mut(first) {
            Some(child) => child.graft(rest, below, as_member),
            None => {
                let mut child = Set::new();
                child.graft(rest, below, as_member);
                self.children.insert(first.clone(), child);
            }
        }
    }

    /// Whether the set holds exactly this path.
    pub fn has(&self, path: &[PathElement]) -> bool {
        let Some((last, parents)) = path.split_last() else {
            return false;
        };
        let mut node = self;
        for element in parents {
            match node.children.get(element) {
                Some(child) => node = child,
                None => return false,
            }
        }
        node.members.contains(last)
    }

    /// Whether this element is a member (a path of length one).
    pub fn has_member(&self, element: &PathElement) -> bool {
        self.members.contains(element)
    }

    /// Whether the field `name` is a member, without building its element (for the small sets an operation
    /// checks every field against).
    pub(crate) fn has_field_member(&self, name: &str) -> bool {
        if self.members.len() > SCANNED {
            return self.members.contains(&PathElement::field(name));
        }
        self.members
            .iter()
            .any(|member| matches!(member, PathElement::Field(field) if field == name))
    }

    /// The paths under the field `name`, as [`Set::child`] without building its element.
    pub(crate) fn field_child(&self, name: &str) -> Option<&Set> {
        if self.children.len() > SCANNED {
            return self.children.get(&PathElement::field(name));
        }
        self.children.iter().find_map(|(element, child)| match element {
            PathElement::Field(field) if field == name => Some(child),
            _ => None,
        })
    }

    /// The paths under `element`, without it (`None` when there are none).
    pub fn child(&self, element: &PathElement) -> Option<&Set> {
        self.children.get(element)
    }

    /// The paths of both sets.
    pub fn union(&self, other: &Set) -> Set {
        let mut out = self.clone();
        out.union_in_place(other);
        out
    }

    /// Adds every path of `other`.
    pub fn union_in_place(&mut self, other: &Set) {
        for member in &other.members {
            if !self.members.contains(member) {
                self.members.insert(member.clone());
            }
        }
        for (element, child) in &other.children {
            match self.children.get_mut(element) {
                Some(existing) => existing.union_in_place(child),
                None => {
                    self.children.insert(element.clone(), child.clone());
                }
            }
        }
    }

    /// Adds every path of `other`, moving its nodes instead of copying them.
    pub(crate) fn union_owned(&mut self, other: Set) {
        if self.is_empty() {
            *self = other;
            return;
        }
        let Set { members, children } = other;
        // As `union_in_place`: an element already present keeps its spelling (`1` and `1.0` order as equal).
        for member in members {
            if !self.members.contains(&member) {
                self.members.insert(member);
            }
        }
        for (element, child) in children {
            match self.children.entry(element) {
                std::collections::btree_map::Entry::Occupied(mut existing) => existing.get_mut().union_owned(child),
                std::collections::btree_map::Entry::Vacant(slot) => {
                    slot.insert(child);
                }
            }
        }
    }

    /// The paths in both sets.
    pub fn intersection(&self, other: &Set) -> Set {
        let members = self.members.intersection(&other.members).cloned().collect();
        let children = self
            .children
            .iter()
            .filter_map(|(element, child)| {
                let common = child.intersection(other.children.get(element)?);
                (!common.is_empty()).then(|| (element.clone(), common))
            })
            .collect();
        Set { members, children }
    }

    /// The paths of `self` not in `other` (a parent stays when only its children are removed, and the other
    /// way round).
    pub fn difference(&self, other: &Set) -> Set {
        let members = self.members.difference(&other.members).cloned().collect();
        let children = self
            .children
            .iter()
            .filter_map(|(element, child)| match other.children.get(element) {
                Some(removed) => {
                    let rest = child.difference(removed);
                    (!rest.is_empty()).then(|| (element.clone(), rest))
                }
                None => Some((element.clone(), child.clone())),
            })
            .collect();
        Set { members, children }
    }

    /// Removes the paths of `other`, as [`Set::difference`] does, without copying what stays.
    pub(crate) fn subtract(&mut self, other: &Set) {
        if other.is_empty() {
            return;
        }
        self.members.retain(|member| !other.members.contains(member));
        self.children
            .retain(|element, child| match other.children.get(element) {
                Some(removed) => {
                    child.subtract(removed);
                    !child.is_empty()
                }
                None => true,
            });
    }

    /// Removes what [`Set::recursive_difference`] removes, without copying what stays.
    pub(crate) fn subtract_recursively(&mut self, other: &Set) {
        if other.is_empty() {
            return;
        }
        self.members.retain(|member| !other.members.contains(member));
        self.children.retain(|element, child| {
            if other.members.contains(element) {
                return false;
            }
            match other.children.get(element) {
                Some(removed) => {
                    child.subtract_recursively(removed);
                    !child.is_empty()
                }
                None => true,
            }
        });
    }

    /// The paths of `self` that neither are in `other` nor lie under a member of `other`.
    pub fn recursive_difference(&self, other: &Set) -> Set {
        let members = self.members.difference(&other.members).cloned().collect();
        let children = self
            .children
            .iter()
            .filter(|(element, _)| !other.members.contains(*element))
            .filter_map(|(element, child)| match other.children.get(element) {
                Some(removed) => {
                    let rest = child.recursive_difference(removed);
                    (!rest.is_empty()).then(|| (element.clone(), rest))
                }
                None => Some((element.clone(), child.clone())),
            })
            .collect();
        Set { members, children }
    }

    /// Every path, members of a node before its children's paths (upstream's preorder).
    pub fn paths(&self) -> Vec<Path> {
        let mut out = Vec::new();
        self.collect_paths(&mut Vec::new(), &mut out);
        out
    }

    fn collect_paths(&self, prefix: &mut Vec<PathElement>, out: &mut Vec<Path>) {
        for member in &self.members {
            let mut path = prefix.clone();
            path.push(member.clone());
            out.push(Path(path));
        }
        for (element, child) in &self.children {
            prefix.push(element.clone());
            child.collect_paths(prefix, out);
            prefix.pop();
        }
    }

    /// How many paths the set holds.
    pub fn len(&self) -> usize {
        self.members.len() + self.children.values().map(Set::len).sum::<usize>()
    }

    /// The set as a `FieldsV1` object: keys in upstream's order, `{".": {}}` marking an element that is both a
    /// member and a parent.
    pub fn to_fields_v1(&self) -> Value {
        Value::Object(self.emit(false))
    }

    fn emit(&self, include_self: bool) -> Map<String, Value> {
        let mut out = Map::with_capacity(usize::from(include_self) + self.members.len() + self.children.len());
        if include_self && !self.is_empty() {
            out.insert(".".to_owned(), Value::Object(Map::new()));
        }
        let mut members = self.members.iter().peekable();
        let mut children = self.children.iter().peekable();
        loop {
            let next = match (members.peek(), children.peek()) {
                (None, None) => break,
                (Some(_), None) => Ordering::Less,
                (None, Some(_)) => Ordering::Greater,
                (Some(member), Some((element, _))) => (*member).cmp(*element),
            };
            match next {
                Ordering::Less => {
                    if let Some(member) = members.next() {
                        out.insert(member.encode(), Value::Object(Map::new()));
                    }
                }
                Ordering::Greater => {
                    if let Some((element, child)) = children.next() {
                        out.insert(element.encode(), Value::Object(child.emit(false)));
                    }
                }
                Ordering::Equal => {
                    members.next();
                    if let Some((element, child)) = children.next() {
                        out.insert(element.encode(), Value::Object(child.emit(true)));
                    }
                }
            }
        }
        out
    }

    /// Parses a `FieldsV1` object. An empty object below a key, or a `"."` entry, makes the key a member.
    pub fn from_fields_v1(fields: &Value) -> Result<Set, String> {
        match fields {
            Value::Object(map) => Ok(Self::read(map)?.0.unwrap_or_default()),
            Value::Null => Ok(Set::new()),
            other => Err(format!("fieldsV1 is not an object: {other}")),
        }
    }

    /// The set below one `FieldsV1` node, and whether the node's element is a member.
    fn read(map: &Map<String, Value>) -> Result<(Option<Set>, bool), String> {
        let mut set: Option<Set> = None;
        let mut is_member = false;
        for (key, child) in map {
            if key == "." {
                is_member = true;
                continue;
            }
            let Some(element) = PathElement::decode(key)? else {
                continue;
            };
            let (grandchildren, child_is_member) = match child {
                Value::Object(inner) => Self::read(inner)?,
                _ => (None, true),
            };
            match grandchildren {
                Some(grandchildren) => {
                    let set = set.get_or_insert_with(Set::new);
                    if child_is_member {
                        set.members.insert(element.clone());
                    }
                    set.children.entry(element).or_default().union_owned(grandchildren);
                }
                None if child_is_member => {
                    set.get_or_insert_with(Set::new).members.insert(element);
                }
                None => {}
            }
        }
        if set.is_none() {
            is_member = true;
        }
        Ok((set, is_member))
    }
}

impl FromIterator<Path> for Set {
    fn from_iter<I: IntoIterator<Item = Path>>(paths: I) -> Self {
        let mut set = Set::new();
        for path in paths {
            set.insert(&path.0);
        }
        set
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::{PathElement, Set};

    /// Sets of short paths over few names, so that the two sets share prefixes and members.
    fn set() -> impl Strategy<Value = Set> {
        let element = prop_oneof![
            "[a-c]".prop_map(PathElement::Field),
            (0i64..2).prop_map(|n| PathElement::Value(n.into())),
        ];
        prop::collection::vec(prop::collection::vec(element, 1..4), 0..8).prop_map(|paths| {
            let mut set = Set::new();
            for path in paths {
                set.insert(&path);
            }
            set
        })
    }

    proptest! {
        #[test]
        fn subtracting_in_place_is_the_difference(left in set(), right in set()) {
            let mut subtracted = left.clone();
            subtracted.subtract(&right);
            prop_assert_eq!(&subtracted, &left.difference(&right));
            let mut recursive = left.clone();
            recursive.subtract_recursively(&right);
            prop_assert_eq!(&recursive, &left.recursive_difference(&right));
        }

        #[test]
        fn moving_a_union_is_the_union(left in set(), right in set()) {
            let mut moved = left.clone();
            moved.union_owned(right.clone());
            prop_assert_eq!(moved, left.union(&right));
        }

        #[test]
        fn grafting_without_the_member_is_inserting_only_below(base in set(), below in set(), at in set()) {
            for path in at.paths() {
                let mut grafted = base.clone();
                grafted.graft(&path.0, below.clone(), false);
                let mut one_by_one = base.clone();
                for tail in below.paths() {
                    let mut full = path.0.clone();
                    full.extend(tail.0);
                    one_by_one.insert(&full);
                }
                prop_assert_eq!(grafted, one_by_one);
            }
        }

        #[test]
        fn inserting_a_subtree_is_inserting_its_paths(base in set(), below in set(), at in set()) {
            for path in at.paths() {
                let mut grafted = base.clone();
                grafted.insert_subtree(&path.0, below.clone());
                let mut one_by_one = base.clone();
                one_by_one.insert(&path.0);
                for tail in below.paths() {
                    let mut full = path.0.clone();
                    full.extend(tail.0);
                    one_by_one.insert(&full);
                }
                prop_assert_eq!(grafted, one_by_one);
            }
        }
    }
}
