//! kapi-storage's integration tests: the conformance suite against the memory backend, plus the fault decorator
//! and the compactor.

mod compactor;
mod unreliable;

use kapi_storage::{conformance::Fixture, memory::MemoryStorage};

async fn fresh_store() -> Fixture {
    Fixture::new(MemoryStorage::new())
}

kapi_storage::storage_conformance_tests!(crate::fresh_store);
