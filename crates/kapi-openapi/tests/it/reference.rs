//! Access to the kube-apiserver v1.36 recordings in `../shared/reference` (beside the repository).

use std::path::PathBuf;

use serde_json::Value;

/// The response body of step `step` of a recorded scenario.
pub(crate) fn recorded_body(scenario: &str, step: usize) -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/reference/kube-apiserver-1.36")
        .join(format!("{scenario}.json"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reference recording {}: {e}", path.display()));
    let recording: Value = serde_json::from_str(&text).expect("recordings are JSON");
    recording["steps"][step]["response"]["body"].clone()
}
