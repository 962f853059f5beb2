//! Integration tests of kapi-server: real kubectl and curl against an in-process server over HTTPS.

mod api;
mod conversion;
mod crd_terminating;
mod endpoints;
mod pki;
mod recorded;
mod shutdown;
mod support;
