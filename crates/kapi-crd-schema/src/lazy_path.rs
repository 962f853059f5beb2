//! Field paths built only when an error needs one: walks over large objects then allocate nothing per field.

use kapi_core::FieldPath;

/// A path as a chain of borrowed steps from a base path.
#[derive(Clone, Copy)]
pub(crate) enum LazyPath<'a> {
    /// Where the walk started.
    Base(&'a FieldPath),
    /// A named field below a path.
    Child(&'a LazyPath<'a>, &'a str),
    /// A map key below a path (`[key]`).
    Key(&'a LazyPath<'a>, &'a str),
    /// A list index below a path (`[3]`).
    Index(&'a LazyPath<'a>, usize),
}

impl LazyPath<'_> {
    /// The path as a [`FieldPath`].
    pub(crate) fn build(&self) -> FieldPath {
        match self {
            LazyPath::Base(base) => (*base).clone(),
            LazyPath::Child(parent, name) => parent.build().child(*name),
            LazyPath::Key(parent, key) => parent.build().key(*key),
            LazyPath::Index(parent, index) => parent.build().index(*index),
        }
    }
}
