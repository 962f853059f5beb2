//! The OpenAPI forms kube publishes for a custom resource's schema.

use serde_json::Value;

use crate::schema::Node;

pub(crate) fn v3(node: &Node) -> Value {
    Value::Object(node.raw.clone())
}

pub(crate) fn v2(node: &Node) -> Value {
    Value::Object(node.raw.clone())
}
