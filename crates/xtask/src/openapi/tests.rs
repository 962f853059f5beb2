use std::fs;

use super::*;

/// Whether a missing source may skip a freshness check: only outside CI.
fn unavailable(what: &str, why: &str) {
    if std::env::var_os("CI").is_some() {
        panic!("{what} is required in CI: {why}");
    }
    eprintln!("notice: {what} unavailable, freshness not checked: {why}");
}

#[test]
fn committed_definitions_are_fresh() {
    let package = match locate_kubernetes_validate() {
        Ok(dir) => dir,
        Err(why) => return unavailable("kubernetes-validate", &why),
    };
    let source = fs::read_to_string(definitions_file(&package)).expect("the package has a 1.36 definitions file");
    let expected = generate_definitions(&source).expect("the package's definitions convert");
    let committed = fs::read_to_string(data_dir(&workspace_root()).join("definitions.json"))
        .expect("crates/kapi-openapi/data/definitions.json is committed");
    assert!(
        committed == expected,
        "definitions.json is stale: run `cargo run -p xtask -- openapi`"
    );
}

#[test]
fn committed_parameters_are_fresh() {
    let recording = reference_dir(&workspace_root()).join("discovery_openapi_v2.json");
    let recorded = match fs::read_to_string(&recording) {
        Ok(text) => text,
        Err(why) => return unavailable("the reference recordings", &why.to_string()),
    };
    let expected = generate_parameters(&recorded).expect("the recording's parameters extract");
    let committed = fs::read_to_string(data_dir(&workspace_root()).join("parameters.json"))
        .expect("crates/kapi-openapi/data/parameters.json is committed");
    assert!(
        committed == expected,
        "parameters.json is stale: run `cargo run -p xtask -- openapi`"
    );
}

#[test]
fn conversion_undoes_the_json_schema_spelling() {
    let cases = [
        (json!({"type": ["string", "null"]}), json!({"type": "string"})),
        (
            json!({"type": "array", "items": {"$ref": "#/$defs/a.B"}}),
            json!({"type": "array", "items": {"$ref": "#/definitions/a.B"}}),
        ),
        (
            json!({"oneOf": [{"type": ["string", "null"]}, {"type": ["integer", "null"]}]}),
            json!({"type": "string", "format": "int-or-string"}),
        ),
        (
            json!({"oneOf": [{"type": ["string", "null"]}, {"type": ["number", "null"]}]}),
            json!({"type": "string"}),
        ),
        (
            json!({"x-kubernetes-list-type": "map", "type": ["array", "null"], "description": "d"}),
            json!({"description": "d", "type": "array", "x-kubernetes-list-type": "map"}),
        ),
        // A property named like a schema keyword stays a property.
        (
            json!({"properties": {"type": {"type": ["string", "null"]}}}),
            json!({"properties": {"type": {"type": "string"}}}),
        ),
    ];
    for (input, expected) in cases {
        let converted = to_swagger(&input);
        assert_eq!(converted, expected, "{input}");
        // Key order matters for the bytes we hash and serve.
        assert_eq!(
            serde_json::to_string(&converted).ok(),
            serde_json::to_string(&expected).ok(),
            "{input}"
        );
    }
}

#[test]
fn generated_definitions_keep_closure_and_extensions() {
    let package = json!({"$defs": {
        "io.k8s.api.core.v1.Namespace": {"type": ["object", "null"], "properties": {
            "kind": {"type": ["string", "null"], "enum": ["Namespace"]},
            "metadata": {"$ref": "#/$defs/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"}}},
        "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta": {"type": ["object", "null"], "properties": {
            "finalizers": {"type": ["array", "null"], "items": {"type": ["string", "null"]},
                "x-kubernetes-patch-strategy": "merge"}}},
        "io.k8s.unrelated.Thing": {"type": "object"}
    }});
    let result = generate_definitions(&package.to_string());
    // The roots name definitions this tiny package lacks, so generation must say which.
    let error = result.expect_err("missing roots are reported");
    assert!(error.contains("is not in the package"), "{error}");
}
