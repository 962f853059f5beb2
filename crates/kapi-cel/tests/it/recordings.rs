//! Table-driven tests from the kube-apiserver v1.36 recordings: the CRD-level compile errors, and the
//! custom-resource validation failures (field, reason, message of every cause), as upstream answered them.

use std::path::PathBuf;

use kapi_core::{FieldErrors, FieldPath};
use serde_json::{Map, Value};

/// The recordings: `<repo>/../shared/reference/kube-apiserver-1.36/`.
fn reference_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/reference/kube-apiserver-1.36")
}

fn load(scenario: &str) -> Option<Value> {
    let path = reference_dir().join(format!("{scenario}.json"));
    // The recordings live outside the repository; without them there is nothing to compare.
    let text = std::fs::read_to_string(path).ok()?;
    Some(serde_json::from_str(&text).expect("scenario files are JSON"))
}

fn causes(response: &Value) -> Vec<(String, String, String)> {
    response["body"]["details"]["causes"]
        .as_array()
        .map(|causes| {
            causes
                .iter()
                .map(|cause| {
                    let text = |key: &str| cause[key].as_str().unwrap_or_default().to_owned();
                    (text("field"), text("reason"), text("message"))
                })
                .collect()
        })
        .unwrap_or_default()
}

fn our_causes(errors: &FieldErrors) -> Vec<(String, String, String)> {
    errors
        .iter()
        .map(|error| {
            (
                error.field.clone(),
                error.error_type.reason().to_owned(),
                error.message(),
            )
        })
        .collect()
}

fn crd_schema(body: &Value) -> &Value {
    &body["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
}

/// Applies schema defaults the way the schema crate does before CEL runs (objects only; enough for these CRDs).
fn apply_defaults(value: &mut Value, schema: &Value) {
    let Some(object) = value.as_object_mut() else { return };
    if let Some(properties) = schema["properties"].as_object() {
        for (name, property) in properties {
            if !object.contains_key(name) {
                if let Some(default) = property.get("default") {
                    object.insert(name.clone(), default.clone());
                }
            }
            if let Some(child) = object.get_mut(name) {
                apply_defaults(child, property);
            }
        }
    }
}

fn merge_patch(target: &Value, patch: &Value) -> Value {
    let Some(patch_members) = patch.as_object() else {
        return patch.clone();
    };
    let mut result: Map<String, Value> = target.as_object().cloned().unwrap_or_default();
    for (key, value) in patch_members {
        if value.is_null() {
            result.remove(key);
        } else {
            let merged = merge_patch(result.get(key).unwrap_or(&Value::Null), value);
            result.insert(key.clone(), merged);
        }
    }
    Value::Object(result)
}

/// Replays a scenario: CRD creations compile (or fail as recorded), custom-resource writes validate (or fail
/// with exactly the recorded CEL causes). Returns how many steps were compared.
fn replay(scenario: &str) -> usize {
    let Some(recording) = load(scenario) else { return 0 };
    let schema_path = FieldPath::from_names(&["spec", "validation", "openAPIV3Schema"]);
    let mut compiled = None;
    let mut schema = Value::Null;
    let mut stored: Option<Value> = None;
    let mut compared = 0;
    for (index, step) in recording["steps"].as_array().expect("steps").iter().enumerate() {
        let request = &step["request"];
        let response = &step["response"];
        let status = response["status"].as_u64().unwrap_or_default();
        let path = request["path"].as_str().unwrap_or_default();
        let body = &request["body"];
        if path.ends_with("/customresourcedefinitions") && request["method"] == "POST" {
            let result = kapi_cel::compile(crd_schema(body), &schema_path);
            match (status, result) {
                (201, Ok(rules)) => {
                    compiled = Some(rules);
                    schema = crd_schema(body).clone();
                }
                (201, Err(errors)) => panic!("{scenario} step {index}: the CRD should compile: {errors}"),
                (_, Ok(_)) => panic!("{scenario} step {index}: the CRD should fail to compile"),
                (_, Err(errors)) => assert_eq!(our_causes(&errors), causes(response), "{scenario} step {index}"),
            }
            compared += 1;
            continue;
        }
        let Some(rules) = &compiled else { continue };
        let new = match request["method"].as_str() {
            Some("POST" | "PUT") => body.clone(),
            Some("PATCH") => merge_patch(stored.as_ref().expect("a stored object to patch"), body),
            _ => continue,
        };
        let mut new = new;
        apply_defaults(&mut new, &schema);
        let old = if request["method"] == "POST" {
            None
        } else {
            stored.clone()
        };
        let errors = rules.validate(&new, old.as_ref());
        // Only the causes below spec come from CEL here; metadata causes are name validation.
        let expected: Vec<_> = causes(response)
            .into_iter()
            .filter(|(field, _, _)| !field.starts_with("metadata"))
            .collect();
        assert_eq!(
            our_causes(&errors),
            expected,
            "{scenario} step {index}: {}",
            request["body"]
        );
        if (200..300).contains(&status) {
            stored = Some(response["body"].clone());
        }
        compared += 1;
    }
    compared
}

#[test]
fn crd_invalid_cel_compile_errors_match_the_recording() {
    let compared = replay("crd_invalid_cel");
    assert!(compared == 0 || compared == 2, "compared {compared} steps");
}

#[test]
fn crd_cr_invalid_cel_failures_match_the_recording() {
    let compared = replay("crd_cr_invalid_cel");
    assert!(compared == 0 || compared == 4, "compared {compared} steps");
}

#[test]
fn crd_cr_transition_rule_failures_match_the_recording() {
    let compared = replay("crd_cr_transition_rule");
    assert!(compared == 0 || compared == 5, "compared {compared} steps");
}
