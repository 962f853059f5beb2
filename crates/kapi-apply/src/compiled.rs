//! The type model of the built-in types, read from the schema once per process: every position reachable from
//! a built-in definition (its struct fields, map values, list items, and the definitions they refer to), with
//! its [`Atom`] and, for structs, the field types by name. Without it, each operation would read the same
//! schema positions again (following `$ref`s and looking up extensions by hashed name) for every object.
//!
//! Only positions inside [`Definitions::builtin`] are compiled: that data lives as long as the process, so a
//! position's address identifies it for good. Custom resources' schemas come and go; they are read per
//! operation as before.

use std::{
    cell::RefCell,
    collections::{HashMap, HashSet},
    hash::{BuildHasherDefault, Hasher},
    sync::{Arc, Mutex, OnceLock},
};

use kapi_openapi::{Definitions, SchemaNode};
use serde_json::Value;

use crate::schema::{atom, Atom, TypeRef};

/// A fast hasher for the addresses of schema positions (FxHash's multiply-rotate). Only for keys clients cannot
/// choose: colliding names would be easy to craft, so maps keyed by names from objects keep the default hasher.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct FastHasher(u64);

const SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

impl FastHasher {
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(SEED);
    }
}

impl Hasher for FastHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            self.add(u64::from_le_bytes(word));
        }
        let mut tail = [0u8; 8];
        let rest = chunks.remainder();
        tail[..rest.len()].copy_from_slice(rest);
        self.add(u64::from_le_bytes(tail) ^ ((rest.len() as u64) << 56));
    }

    fn write_usize(&mut self, value: usize) {
        self.add(value as u64);
    }

    fn finish(&self) -> u64 {
        // A product's low bits depend only on the factors' low bits, and aligned addresses end in zeros: the
        // table indexes by the low bits, so bring the well-mixed high ones down.
        self.0.rotate_left(26)
    }
}

/// [`FastHasher`] for `HashMap`s.
pub(crate) type FastHash = BuildHasherDefault<FastHasher>;

/// A map keyed by the address of a schema position.
pub(crate) type AddressMap<V> = HashMap<usize, V, FastHash>;

/// The address of a schema position as written at its use site (where its extensions live).
pub(crate) fn address(node: &SchemaNode<'_>) -> usize {
    node.schema() as *const Value as usize
}

/// One compiled schema position.
#[derive(Debug)]
pub(crate) struct Position<'a> {
    /// The position's shape.
    pub(crate) atom: Atom<'a>,
    /// A struct's declared fields, sorted by name.
    fields: Vec<(&'a str, SchemaNode<'a>)>,
    /// The type of a struct's other fields.
    others: TypeRef<'a>,
}

impl<'a> Position<'a> {
    /// The type of field `name` of this struct, and whether it is declared (as `FieldTypes::field`).
    pub(crate) fn field(&self, name: &str) -> (TypeRef<'a>, bool) {
        match self.fields.binary_search_by(|(declared, _)| (*declared).cmp(name)) {
            Ok(index) => (TypeRef::Node(self.fields[index].1), true),
            Err(_) => (self.others, false),
        }
    }
}

/// The compiled positions reachable from one built-in definition.
#[derive(Debug, Default)]
pub(crate) struct Compiled<'a> {
    positions: AddressMap<Position<'a>>,
}

impl<'a> Compiled<'a> {
    /// The compiled position at this address, if it is one.
    pub(crate) fn position(&self, address: usize) -> Option<&Position<'a>> {
        self.positions.get(&address)
    }

    /// Every position reachable from `root`.
    fn reachable_from(root: SchemaNode<'a>) -> Self {
        let mut positions = AddressMap::default();
        let mut pending = vec![root];
        let mut seen = HashSet::<usize, FastHash>::default();
        while let Some(node) = pending.pop() {
            if !seen.insert(address(&node)) {
                continue;
            }
            let shape = atom(TypeRef::Node(node));
            let mut fields = Vec::new();
            let mut others = TypeRef::Deduced;
            match &shape {
                Atom::Struct { node: structure, .. } => {
                    let declared = structure.resolved().get("properties").and_then(Value::as_object);
                    for name in declared.into_iter().flat_map(|properties| properties.keys()) {
                        if let Some(property) = structure.property(name) {
                            fields.push((name.as_str(), property));
                            pending.push(property);
                        }
                    }
                    fields.sort_by(|p, q| p.0.cmp(q.0));
                    if let Some(values) = structure.additional_properties() {
                        others = TypeRef::Node(values);
                        pending.push(values);
                    }
                }
                Atom::Map {
                    values: TypeRef::Node(values),
                    ..
                }
                | Atom::List {
                    items: TypeRef::Node(values),
                    ..
                } => pending.push(*values),
                _ => {}
            }
            positions.insert(
                address(&node),
                Position {
                    atom: shape,
                    fields,
                    others,
                },
            );
        }
        Self { positions }
    }
}

/// The built-in definitions by the address of their schema.
fn builtin_roots() -> &'static AddressMap<&'static str> {
    static ROOTS: OnceLock<AddressMap<&'static str>> = OnceLock::new();
    ROOTS.get_or_init(|| {
        let definitions = Definitions::builtin();
        definitions
            .names()
            .filter_map(|name| Some((definitions.get(name)? as *const Value as usize, name)))
            .collect()
    })
}

/// The compiled model of `root` when it is the root of a built-in definition (compiled on first use; each
/// thread keeps the models it used, so that an operation takes no lock).
pub(crate) fn of_builtin(root: TypeRef<'_>) -> Option<Arc<Compiled<'static>>> {
    type Models = AddressMap<Arc<Compiled<'static>>>;
    static COMPILED: OnceLock<Mutex<Models>> = OnceLock::new();
    thread_local! {
        static USED: RefCell<Models> = RefCell::default();
    }
    let TypeRef::Node(node) = root else {
        return None;
    };
    let definitions = Definitions::builtin();
    if !std::ptr::eq(node.definitions(), definitions) {
        return None;
    }
    let key = address(&node);
    if let Some(model) = USED.with(|used| used.borrow().get(&key).cloned()) {
        return Some(model);
    }
    let name = *builtin_roots().get(&key)?;
    let model = {
        let mut compiled = COMPILED.get_or_init(Mutex::default).lock().ok()?;
        let model = compiled.entry(key).or_insert_with(|| {
            let root = SchemaNode::definition(definitions, name);
            Arc::new(root.map(Compiled::reachable_from).unwrap_or_default())
        });
        Arc::clone(model)
    };
    USED.with(|used| used.borrow_mut().insert(key, Arc::clone(&model)));
    Some(model)
}
