//! Table-driven tests from the kube-apiserver v1.36 recordings (`shared/reference/kube-apiserver-1.36/crd_*`):
//! each scenario's CRD is compiled, and every recorded custom-resource create is replayed through defaulting,
//! pruning and validation; the causes, warnings and stored objects must be the recorded ones.

use std::path::PathBuf;

use kapi_core::{FieldError, FieldErrors};
use kapi_crd_schema::{blocking_error, unknown_field_message, validate_crd, validate_scale, Structural};
use serde_json::Value;

fn reference_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/reference/kube-apiserver-1.36")
}

fn load(scenario: &str) -> Option<Value> {
    let path = reference_dir().join(format!("{scenario}.json"));
    let text = std::fs::read_to_string(path).ok()?;
    Some(serde_json::from_str(&text).expect("recordings are JSON"))
}

fn steps(recording: &Value) -> Vec<Value> {
    recording["steps"].as_array().cloned().unwrap_or_default()
}

/// A cause as (reason, field, message).
type Cause = (String, String, String);

fn causes_of(response_body: &Value) -> Vec<Cause> {
    response_body["details"]["causes"]
        .as_array()
        .map(|causes| {
            causes
                .iter()
                .map(|cause| {
                    (
                        cause["reason"].as_str().unwrap_or_default().to_owned(),
                        cause["field"].as_str().unwrap_or_default().to_owned(),
                        cause["message"].as_str().unwrap_or_default().to_owned(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

fn cause(error: &FieldError) -> Cause {
    (
        error.error_type.reason().to_owned(),
        error.field.clone(),
        error.message(),
    )
}

/// Causes another component produces (CEL rules, ObjectMeta validation): not this crate's.
fn produced_elsewhere(cause: &Cause) -> bool {
    const CEL_MESSAGES: [&str; 3] = [
        "replicas must be >= minReplicas",
        "must have 0 replicas",
        "immutableId is immutable",
    ];
    cause.1.starts_with("metadata.") || CEL_MESSAGES.iter().any(|message| cause.2.contains(message))
}

struct Served {
    schema: Structural,
    scale: Option<(String, String, Option<String>)>,
    has_cel: bool,
}

fn served_version(crd: &Value) -> Served {
    let version = &crd["spec"]["versions"][0];
    let schema_json = &version["schema"]["openAPIV3Schema"];
    let schema = Structural::from_schema(schema_json).expect("recorded CRDs are structural");
    let scale = version["subresources"]["scale"].as_object().map(|scale| {
        let text = |key: &str| scale.get(key).and_then(Value::as_str).map(str::to_owned);
        (
            text("specReplicasPath").unwrap_or_default(),
            text("statusReplicasPath").unwrap_or_default(),
            text("labelSelectorPath"),
        )
    });
    Served {
        schema,
        scale,
        has_cel: schema_json.to_string().contains("x-kubernetes-validations"),
    }
}

/// Runs a create as kube-apiserver does up to (not including) CEL and ObjectMeta: decode with pruning and
/// defaults, then schema, scale, embedded-resource and list-type validation.
fn create(served: &Served, body: &Value) -> (Value, Vec<String>, FieldErrors) {
    let mut object = body.clone();
    let pruned = served.schema.prune(&mut object);
    served.schema.apply_defaults(&mut object);
    let mut errors = served.schema.validate_schema(&object);
    if let Some((spec, status, selector)) = &served.scale {
        errors.append(validate_scale(&object, spec, status, selector.as_deref()));
    }
    errors.append(served.schema.validate_embedded_resources(&object));
    errors.append(served.schema.validate_list_types(&object));
    if served.has_cel {
        if let Some(blocking) = blocking_error(&errors) {
            errors.push(blocking);
        }
    }
    (object, pruned, errors)
}

fn recorded_warnings(response: &Value) -> Vec<String> {
    let Some(header) = response["headers"]["Warning"].as_str() else {
        return Vec::new();
    };
    header
        .split(", 299 - ")
        .map(|warning| {
            let text = warning.trim_start_matches("299 - ");
            serde_json::from_str::<String>(text).expect("warnings are quoted")
        })
        .collect()
}

/// Replays every custom-resource POST of a scenario; returns how many steps were compared.
fn replay_custom_resource_creates(scenario: &str) -> usize {
    let Some(recording) = load(scenario) else {
        eprintln!("{scenario}: reference recordings not available, skipped");
        return 0;
    };
    let steps = steps(&recording);
    let mut crd = steps[0]["request"]["body"].clone();
    kapi_crd_schema::default_crd(&mut crd);
    kapi_crd_schema::prepare_crd_for_create(&mut crd);
    let errors = validate_crd(&crd, None);
    assert!(errors.is_empty(), "{scenario}: the recorded CRD is valid: {errors}");
    let served = served_version(&crd);
    let mut compared = 0;
    for (index, step) in steps.iter().enumerate().skip(1) {
        let request = &step["request"];
        let response = &step["response"];
        let is_create = request["method"] == "POST" && request["body"].is_object();
        let status = response["status"].as_u64().unwrap_or_default();
        if !is_create || !(status == 201 || status == 422) {
            continue;
        }
        if request["query"]["fieldValidation"] == "Ignore" {
            continue;
        }
        let (object, pruned, errors) = create(&served, &request["body"]);
        let warnings: Vec<String> = pruned.iter().map(|path| unknown_field_message(path)).collect();
        assert_eq!(warnings, recorded_warnings(response), "{scenario}[{index}] warnings");
        let mut mine: Vec<Cause> = errors.iter().map(cause).collect();
        let mut recorded: Vec<Cause> = causes_of(&response["body"])
            .into_iter()
            .filter(|cause| !produced_elsewhere(cause))
            .collect();
        if status == 201 {
            assert!(mine.is_empty(), "{scenario}[{index}]: unexpected errors {errors}");
            let mut stored = object["spec"].clone();
            kapi_crd_schema::sort_keys_like_go(&mut stored);
            assert_same_json(
                &stored,
                &response["body"]["spec"],
                &format!("{scenario}[{index}] stored spec"),
            );
        } else {
            // Upstream orders sibling properties by Go's random map order; compare as sets.
            mine.sort();
            recorded.sort();
            assert_eq!(mine, recorded, "{scenario}[{index}] causes");
        }
        compared += 1;
    }
    compared
}

#[test]
fn defaults_and_pruning_match_the_recording() {
    let compared = replay_custom_resource_creates("crd_cr_create_defaults_pruning");
    assert!(compared == 0 || compared == 2, "compared {compared}");
}

#[test]
fn invalid_values_match_the_recording() {
    let compared = replay_custom_resource_creates("crd_cr_invalid_values");
    assert!(compared == 0 || compared == 7, "compared {compared}");
}

#[test]
fn invalid_required_match_the_recording() {
    let compared = replay_custom_resource_creates("crd_cr_invalid_required");
    assert!(compared == 0 || compared == 6, "compared {compared}");
}

#[test]
fn invalid_collections_match_the_recording() {
    let compared = replay_custom_resource_creates("crd_cr_invalid_collections");
    assert!(compared == 0 || compared == 5, "compared {compared}");
}

#[test]
fn invalid_multiple_match_the_recording() {
    let compared = replay_custom_resource_creates("crd_cr_invalid_multiple");
    assert!(compared == 0 || compared == 5, "compared {compared}");
}

#[test]
fn cel_scenario_schema_parts_match_the_recording() {
    let compared = replay_custom_resource_creates("crd_cr_invalid_cel");
    assert!(compared == 0 || compared == 3, "compared {compared}");
}

#[test]
fn strict_unknown_fields_are_the_recorded_ones() {
    let Some(recording) = load("crd_cr_strict_unknown_field") else {
        return;
    };
    let steps = steps(&recording);
    let served = served_version(&steps[0]["request"]["body"]);
    let mut body = steps[1]["request"]["body"].clone();
    let pruned = served.schema.prune(&mut body);
    let listed: Vec<String> = pruned.iter().map(|path| unknown_field_message(path)).collect();
    let message = steps[1]["response"]["body"]["message"].as_str().unwrap_or_default();
    assert_eq!(
        message,
        format!(
            "Widget in version \"v1\" cannot be handled as a Widget: strict decoding error: {}",
            listed.join(", ")
        )
    );
}

#[test]
fn every_recorded_crd_create_that_succeeded_is_valid() {
    let Ok(entries) = std::fs::read_dir(reference_dir()) else {
        return;
    };
    let mut checked = 0;
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if !name.starts_with("crd_") {
            continue;
        }
        let recording: Value =
            serde_json::from_str(&std::fs::read_to_string(entry.path()).expect("readable")).expect("JSON");
        for step in steps(&recording) {
            let request = &step["request"];
            let creates_crd = request["method"] == "POST"
                && request["path"] == "/apis/apiextensions.k8s.io/v1/customresourcedefinitions";
            if creates_crd && step["response"]["status"] == 201 {
                let mut crd = request["body"].clone();
                kapi_crd_schema::default_crd(&mut crd);
                kapi_crd_schema::prepare_crd_for_create(&mut crd);
                let errors = validate_crd(&crd, None);
                assert!(errors.is_empty(), "{name}: {errors}");
                let stored = kapi_crd_schema::stored_crd_form(&crd);
                let response = &step["response"]["body"];
                assert_same_json(&stored["spec"], &response["spec"], &format!("{name}: stored spec"));
                assert_same_json(
                    &stored["status"],
                    &response["status"],
                    &format!("{name}: stored status"),
                );
                checked += 1;
            }
        }
    }
    assert!(checked == 0 || checked > 10, "checked {checked}");
}

/// Replays the recorded invalid CRD creates: every cause this crate owns must be the recorded one, in order.
fn replay_invalid_crds(scenario: &str) -> usize {
    let Some(recording) = load(scenario) else {
        return 0;
    };
    let mut compared = 0;
    for (index, step) in steps(&recording).iter().enumerate() {
        if step["response"]["status"] != 422 {
            continue;
        }
        let mut crd = step["request"]["body"].clone();
        kapi_crd_schema::default_crd(&mut crd);
        kapi_crd_schema::prepare_crd_for_create(&mut crd);
        let mine: Vec<Cause> = validate_crd(&crd, None).iter().map(cause).collect();
        let recorded = causes_of(&step["response"]["body"]);
        assert_eq!(mine, recorded, "{scenario}[{index}]");
        compared += 1;
    }
    compared
}

#[test]
fn invalid_schemas_match_the_recording() {
    let compared = replay_invalid_crds("crd_invalid_schema");
    assert!(compared == 0 || compared == 4, "compared {compared}");
}

#[test]
fn invalid_versions_and_names_match_the_recording() {
    let compared = replay_invalid_crds("crd_invalid_versions_and_names");
    assert!(compared == 0 || compared == 3, "compared {compared}");
}

#[test]
fn invalid_cel_crds_pass_everything_but_cel() {
    // The recorded causes are all CEL compilation and cost findings, which the CEL engine reports.
    let Some(recording) = load("crd_invalid_cel") else {
        return;
    };
    for step in steps(&recording) {
        let mut crd = step["request"]["body"].clone();
        kapi_crd_schema::default_crd(&mut crd);
        kapi_crd_schema::prepare_crd_for_create(&mut crd);
        let errors = validate_crd(&crd, None);
        assert!(errors.is_empty(), "{errors}");
    }
}

#[test]
fn stored_crd_gets_the_recorded_status() {
    let Some(recording) = load("crd_create_rich_schema") else {
        return;
    };
    let steps = steps(&recording);
    let mut crd = steps[0]["request"]["body"].clone();
    kapi_crd_schema::default_crd(&mut crd);
    kapi_crd_schema::prepare_crd_for_create(&mut crd);
    let response = &steps[0]["response"]["body"];
    assert_eq!(crd["status"], response["status"]);
    assert_eq!(crd["spec"]["names"], response["spec"]["names"]);
    assert_eq!(crd["spec"]["conversion"], response["spec"]["conversion"]);
    assert_eq!(crd["metadata"]["generation"], response["metadata"]["generation"]);
}

fn published_kind(crd: &Value) -> kapi_crd_schema::PublishedKind {
    let text = |pointer: &str| {
        crd.pointer(pointer)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    kapi_crd_schema::PublishedKind {
        group: text("/spec/group"),
        version: text("/spec/versions/0/name"),
        kind: text("/spec/names/kind"),
        list_kind: text("/spec/names/listKind"),
        plural: text("/spec/names/plural"),
        selectable_fields: crd
            .pointer("/spec/versions/0/selectableFields")
            .and_then(Value::as_array)
            .map(|fields| {
                fields
                    .iter()
                    .filter_map(|f| f["jsonPath"].as_str())
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default(),
    }
}

/// Compares two JSON values including the order of object keys.
fn assert_same_json(mine: &Value, recorded: &Value, what: &str) {
    assert_eq!(
        serde_json::to_string_pretty(mine).expect("serializable"),
        serde_json::to_string_pretty(recorded).expect("serializable"),
        "{what}"
    );
}

#[test]
fn published_openapi_definitions_are_the_recorded_ones() {
    let Some(recording) = load("crd_openapi") else {
        return;
    };
    let steps = steps(&recording);
    let crd = &steps[0]["request"]["body"];
    let schema = Structural::from_schema(&crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]).expect("structural");
    let kind = published_kind(crd);
    let v3 = &steps[1]["response"]["body"]["components"]["schemas"];
    for (name, definition) in kapi_crd_schema::openapi_definitions(Some(&schema), &kind, false) {
        assert_same_json(&definition, &v3[&name], &format!("v3 {name}"));
    }
    let v2 = &steps[4]["response"]["body"]["definitions"];
    for (name, definition) in kapi_crd_schema::openapi_definitions(Some(&schema), &kind, true) {
        assert_same_json(&definition, &v2[&name], &format!("v2 {name}"));
    }
}

#[test]
fn stored_schema_form_is_the_recorded_one() {
    let Some(recording) = load("crd_create_rich_schema") else {
        return;
    };
    let steps = steps(&recording);
    let schema = &steps[0]["request"]["body"]["spec"]["versions"][0]["schema"]["openAPIV3Schema"];
    let stored = &steps[0]["response"]["body"]["spec"]["versions"][0]["schema"]["openAPIV3Schema"];
    assert_same_json(&kapi_crd_schema::stored_schema_form(schema), stored, "stored schema");
}

#[test]
fn stored_crd_form_is_the_recorded_one() {
    let Some(recording) = load("crd_create_rich_schema") else {
        return;
    };
    let steps = steps(&recording);
    let mut crd = steps[0]["request"]["body"].clone();
    kapi_crd_schema::default_crd(&mut crd);
    kapi_crd_schema::prepare_crd_for_create(&mut crd);
    let stored = kapi_crd_schema::stored_crd_form(&crd);
    let response = &steps[0]["response"]["body"];
    assert_same_json(&stored["spec"], &response["spec"], "stored spec");
    assert_same_json(&stored["status"], &response["status"], "stored status");
}
