//! kapi's code and data generation, run as `cargo run -p xtask -- <command>`.
//!
//! Generated output is committed; tests in this crate check that it is fresh (the rust-analyzer codegen
//! pattern), so a change of source data or generator shows up as a failing test rather than silent drift.

pub mod openapi;
