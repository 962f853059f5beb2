//! The conformance suite every [`Storage`](crate::Storage) backend runs (filled in below).
