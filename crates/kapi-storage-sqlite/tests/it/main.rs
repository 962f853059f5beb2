//! The integration tests of kapi-storage-sqlite, in one binary.

mod batching;
mod cacher;
mod common;
mod compaction;
mod conformance;
mod crash;
mod durability;
mod files;
mod full_disk;
mod reads;
mod upgrade;
