//! Integration tests of kapi-protobuf: recorded kube-apiserver bodies, round trips of every served kind, watch
//! framing and robustness against hostile bytes.

mod recorded;
mod robustness;
mod roundtrip;
mod watch;

use kapi_core::GroupVersionKind;
use serde_json::Value;

/// `group/version, kind` → GroupVersionKind, for brevity in tables.
fn gvk(api_version: &str, kind: &str) -> GroupVersionKind {
    GroupVersionKind::from_api_version_and_kind(api_version, kind).expect("valid apiVersion")
}

/// Serialises with key order, so tests compare order as well as content.
fn text(value: &Value) -> String {
    serde_json::to_string_pretty(value).expect("JSON values serialise")
}
