//! kapi-webhook's integration tests: a real HTTPS webhook server on loopback, started by each test.

mod client;
mod conversion;
mod support;
