//! kapi's HTTP layer: kube-apiserver's endpoints as an axum `Router` over a `kapi-registry` Registry.
//!
//! So far: content negotiation ([`negotiate`]), request bodies ([`body`]) and response writing ([`response`]).

pub mod body;
pub mod negotiate;
pub mod response;
