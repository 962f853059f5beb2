//! One test per CustomResourceDefinition rule, each starting from a valid CRD and breaking one thing.

use kapi_crd_schema::{default_crd, prepare_crd_for_create, prepare_crd_for_update, validate_crd};
use serde_json::{json, Value};

fn valid_crd() -> Value {
    json!({
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "widgets.example.com"},
        "spec": {
            "group": "example.com",
            "scope": "Namespaced",
            "names": {"plural": "widgets", "kind": "Widget"},
            "versions": [{
                "name": "v1", "served": true, "storage": true,
                "schema": {"openAPIV3Schema": {"type": "object", "properties": {
                    "spec": {"type": "object", "properties": {
                        "replicas": {"type": "integer", "default": 1},
                        "color": {"type": "string"},
                    }},
                    "status": {"type": "object", "properties": {"replicas": {"type": "integer"}}},
                }}},
            }],
        },
    })
}

/// The messages of validating `crd` for create, after the decoding defaults and the strategy's preparation.
fn create_errors(mut crd: Value) -> Vec<String> {
    default_crd(&mut crd);
    prepare_crd_for_create(&mut crd);
    validate_crd(&crd, None)
        .iter()
        .map(|error| format!("{} {error}", error.error_type.reason()))
        .collect()
}

fn with(mut crd: Value, pointer: &str, value: Value) -> Value {
    let (parent, key) = pointer.rsplit_once('/').expect("a pointer with a parent");
    let target = crd.pointer_mut(parent).expect("the parent exists");
    match target {
        Value::Object(map) => {
            map.insert(key.to_owned(), value);
        }
        Value::Array(items) => {
            let index: usize = key.parse().expect("an index");
            items[index] = value;
        }
        _ => panic!("cannot set {pointer}"),
    }
    crd
}

#[test]
fn a_valid_crd_passes_and_gets_its_defaults() {
    let mut crd = valid_crd();
    default_crd(&mut crd);
    prepare_crd_for_create(&mut crd);
    assert_eq!(crd["spec"]["names"]["singular"], "widget");
    assert_eq!(crd["spec"]["names"]["listKind"], "WidgetList");
    assert_eq!(crd["spec"]["conversion"], json!({"strategy": "None"}));
    assert_eq!(
        crd["status"],
        json!({"conditions": null, "acceptedNames": {"plural": "", "kind": ""}, "storedVersions": ["v1"]})
    );
    assert_eq!(crd["metadata"]["generation"], 1);
    assert!(validate_crd(&crd, None).is_empty(), "{}", validate_crd(&crd, None));
}

#[test]
fn the_name_must_be_plural_dot_group() {
    let crd = with(valid_crd(), "/metadata/name", json!("other.example.com"));
    assert_eq!(
        create_errors(crd),
        vec!["FieldValueInvalid metadata.name: Invalid value: \"other.example.com\": must be spec.names.plural+\".\"+spec.group"]
    );
}

#[test]
fn the_group_needs_a_dot() {
    let crd = with(
        with(valid_crd(), "/spec/group", json!("example")),
        "/metadata/name",
        json!("widgets.example"),
    );
    assert_eq!(
        create_errors(crd),
        vec!["FieldValueInvalid spec.group: Invalid value: \"example\": should be a domain with at least one dot"]
    );
}

#[test]
fn the_scope_is_cluster_or_namespaced() {
    assert_eq!(
        create_errors(with(valid_crd(), "/spec/scope", json!("Global"))),
        vec!["FieldValueNotSupported spec.scope: Unsupported value: \"Global\": supported values: \"Cluster\", \"Namespaced\""]
    );
}

#[test]
fn version_names_are_dns_labels_and_the_first_is_checked_twice() {
    let errors = create_errors(with(valid_crd(), "/spec/versions/0/name", json!("V1")));
    let label = "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')";
    assert_eq!(
        errors,
        vec![
            format!("FieldValueInvalid spec.versions[0].name: Invalid value: \"V1\": {label}"),
            format!("FieldValueInvalid spec.version: Invalid value: \"V1\": {label}"),
        ]
    );
}

#[test]
fn versions_are_unique_with_one_storage_version() {
    let mut crd = valid_crd();
    let version = crd["spec"]["versions"][0].clone();
    crd["spec"]["versions"] = json!([version.clone(), version]);
    let errors = create_errors(crd);
    assert_eq!(errors.len(), 3, "{errors:?}");
    assert!(
        errors[0].ends_with(": must contain unique version names"),
        "{}",
        errors[0]
    );
    assert!(
        errors[1].ends_with(": must have exactly one version marked as storage version"),
        "{}",
        errors[1]
    );
    // Upstream matches each version against the stored versions once, so the repeated one misses.
    assert_eq!(
        errors[2],
        "FieldValueInvalid status.storedVersions: Invalid value: [\"v1\"]: must have the storage version v1"
    );
    let none = create_errors(with(valid_crd(), "/spec/versions/0/storage", json!(false)));
    assert!(
        none[0].contains("must have exactly one version marked as storage version"),
        "{none:?}"
    );
    assert!(
        none[1].starts_with(
            "FieldValueInvalid status.storedVersions: Invalid value: []: must have at least one stored version"
        ),
        "{none:?}"
    );
}

#[test]
fn different_schemas_per_version_are_reported_per_version() {
    let mut crd = valid_crd();
    let mut second = crd["spec"]["versions"][0].clone();
    second["name"] = json!("v2");
    second["storage"] = json!(false);
    second["schema"]["openAPIV3Schema"]["properties"]["spec"]["properties"]["color"] = json!({});
    crd["spec"]["versions"].as_array_mut().expect("versions").push(second);
    assert_eq!(
        create_errors(crd),
        vec!["FieldValueRequired spec.versions[1].schema.openAPIV3Schema.properties[spec].properties[color].type: Required value: must not be empty for specified object fields"]
    );
}

#[test]
fn a_schema_is_required() {
    let mut crd = valid_crd();
    crd["spec"]["versions"][0]
        .as_object_mut()
        .expect("version")
        .remove("schema");
    assert_eq!(
        create_errors(crd),
        vec!["FieldValueRequired spec.versions[0].schema.openAPIV3Schema: Required value"]
    );
}

#[test]
fn names_rules() {
    let crd = with(
        valid_crd(),
        "/spec/names",
        json!({"plural": "widgets", "kind": "Widget", "listKind": "Widget", "shortNames": ["W"], "categories": ["all"]}),
    );
    let errors = create_errors(crd);
    assert!(
        errors[0].starts_with("FieldValueInvalid spec.names.shortNames[0]: Invalid value: \"W\": a DNS-1035 label"),
        "{errors:?}"
    );
    assert_eq!(
        errors[1],
        "FieldValueInvalid spec.names.listKind: Invalid value: \"Widget\": kind and listKind may not be the same"
    );
    let missing = create_errors(with(valid_crd(), "/spec/names", json!({"kind": "Widget"})));
    assert_eq!(
        missing[1], "FieldValueRequired spec.names.plural: Required value",
        "{missing:?}"
    );
}

#[test]
fn schema_keywords_kube_refuses() {
    let crd = with(
        valid_crd(),
        "/spec/versions/0/schema/openAPIV3Schema/properties/spec/properties/color",
        json!({"type": "string", "uniqueItems": true, "$ref": "#/x", "x-kubernetes-preserve-unknown-fields": false}),
    );
    let path = "spec.validation.openAPIV3Schema.properties[spec].properties[color]";
    assert_eq!(
        create_errors(crd),
        vec![
            format!("FieldValueForbidden {path}.$ref: Forbidden: $ref is not supported"),
            format!("FieldValueForbidden {path}.uniqueItems: Forbidden: uniqueItems cannot be set to true since the runtime complexity becomes quadratic"),
            format!("FieldValueInvalid {path}.x-kubernetes-preserve-unknown-fields: Invalid value: false: must be true or undefined"),
        ]
    );
}

#[test]
fn properties_and_additional_properties_exclude_each_other() {
    let crd = with(
        valid_crd(),
        "/spec/versions/0/schema/openAPIV3Schema/properties/spec/additionalProperties",
        json!({"type": "string"}),
    );
    assert_eq!(
        create_errors(crd),
        vec!["FieldValueForbidden spec.validation.openAPIV3Schema.properties[spec].additionalProperties: Forbidden: additionalProperties and properties are mutual exclusive"]
    );
}

#[test]
fn list_map_types_need_keys_that_are_required_or_defaulted() {
    let crd = with(
        valid_crd(),
        "/spec/versions/0/schema/openAPIV3Schema/properties/spec/properties/color",
        json!({"type": "array", "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["name"],
               "items": {"type": "object", "properties": {"name": {"type": "string"}}}}),
    );
    assert_eq!(
        create_errors(crd),
        vec!["FieldValueRequired spec.validation.openAPIV3Schema.properties[spec].properties[color].items.properties[name].default: Required value: this property is in x-kubernetes-list-map-keys, so it must have a default or be a required property"]
    );
    let no_keys = with(
        valid_crd(),
        "/spec/versions/0/schema/openAPIV3Schema/properties/spec/properties/color",
        json!({"type": "array", "x-kubernetes-list-type": "map", "items": {"type": "object"}}),
    );
    assert_eq!(
        create_errors(no_keys),
        vec!["FieldValueRequired spec.validation.openAPIV3Schema.properties[spec].properties[color].x-kubernetes-list-map-keys: Required value: must not be empty if x-kubernetes-list-type is map"]
    );
}

#[test]
fn defaults_must_validate_and_be_pruned_and_not_touch_metadata() {
    let crd = with(
        valid_crd(),
        "/spec/versions/0/schema/openAPIV3Schema/properties/spec/properties/color",
        json!({"type": "object", "properties": {"a": {"type": "string"}}, "default": {"a": 1, "b": 2}}),
    );
    let path = "spec.validation.openAPIV3Schema.properties[spec].properties[color].default";
    assert_eq!(
        create_errors(crd),
        vec![
            format!("FieldValueInvalid {path}: Invalid value: {{\"a\":1,\"b\":2}}: must not have unknown fields"),
            format!("FieldValueTypeInvalid {path}.a: Invalid value: \"integer\": a in body must be of type string: \"integer\""),
        ]
    );
    let in_metadata = with(
        valid_crd(),
        "/spec/versions/0/schema/openAPIV3Schema/properties/metadata",
        json!({"type": "object", "default": {}}),
    );
    assert_eq!(
        create_errors(in_metadata),
        vec!["FieldValueForbidden spec.validation.openAPIV3Schema.properties[metadata].default: Forbidden: must not be set in top-level metadata"]
    );
}

#[test]
fn status_subresource_restricts_the_root() {
    let mut crd = with(valid_crd(), "/spec/versions/0/subresources", json!({"status": {}}));
    crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["minProperties"] = json!(1);
    crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["enum"] = json!([{}]);
    let errors = create_errors(crd);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(
        errors[0].starts_with("FieldValueInvalid spec.validation.openAPIV3Schema: Invalid value: "),
        "{errors:?}"
    );
    assert!(errors[0].ends_with("fields are allowed at the root of the schema if the status subresource is enabled"));
}

#[test]
fn scale_paths_live_under_spec_and_status() {
    let crd = with(
        valid_crd(),
        "/spec/versions/0/subresources",
        json!({"scale": {"specReplicasPath": ".status.replicas", "statusReplicasPath": "status.replicas", "labelSelectorPath": ".metadata.labels"}}),
    );
    assert_eq!(
        create_errors(crd),
        vec![
            "FieldValueInvalid spec.subresources.scale.specReplicasPath: Invalid value: \".status.replicas\": should be a json path under .spec",
            "FieldValueInvalid spec.subresources.scale.statusReplicasPath: Invalid value: \"status.replicas\": must be a simple json path starting with .",
            "FieldValueInvalid spec.subresources.scale.labelSelectorPath: Invalid value: \".metadata.labels\": should be a json path under either .spec or .status",
        ]
    );
}

#[test]
fn printer_columns_have_a_type_and_a_json_path() {
    let crd = with(
        valid_crd(),
        "/spec/versions/0/additionalPrinterColumns",
        json!([{"name": "A", "type": "text", "jsonPath": "spec.a"}, {"name": "B", "type": "string", "format": "hex", "jsonPath": ".spec.b"}]),
    );
    assert_eq!(
        create_errors(crd),
        vec![
            "FieldValueInvalid spec.additionalPrinterColumns[0].type: Invalid value: \"text\": must be one of boolean,date,integer,number,string",
            "FieldValueInvalid spec.additionalPrinterColumns[0].JSONPath: Invalid value: \"spec.a\": must be a simple json path starting with .",
            "FieldValueInvalid spec.additionalPrinterColumns[1].format: Invalid value: \"hex\": must be one of byte,date,date-time,double,float,int32,int64,password",
        ]
    );
}

#[test]
fn selectable_fields_point_at_scalar_fields_outside_metadata() {
    let crd = with(
        valid_crd(),
        "/spec/versions/0/selectableFields",
        json!([{"jsonPath": ".spec.color"}, {"jsonPath": ".spec.nothing"}, {"jsonPath": ".spec"}, {"jsonPath": ".spec.color"}]),
    );
    let errors = create_errors(crd);
    assert_eq!(errors.len(), 3, "{errors:?}");
    assert!(errors[0].starts_with(
        "FieldValueInvalid spec.selectableFields[1].jsonPath: Invalid value: \".spec.nothing\": is an invalid path"
    ));
    assert_eq!(
        errors[1],
        "FieldValueInvalid spec.selectableFields[2].jsonPath: Invalid value: \".spec\": must point to a field of type string, boolean or integer. Enum string fields and strings with formats are allowed."
    );
    assert_eq!(
        errors[2],
        "FieldValueDuplicate spec.selectableFields[3].jsonPath: Duplicate value: \".spec.color\""
    );
}

#[test]
fn webhook_conversion_needs_a_client_config_and_review_versions() {
    let crd = with(valid_crd(), "/spec/conversion", json!({"strategy": "Webhook"}));
    assert_eq!(
        create_errors(crd),
        vec![
            "FieldValueRequired spec.conversion.webhookClientConfig: Required value: required when strategy is set to Webhook",
            "FieldValueRequired spec.conversion.conversionReviewVersions: Required value",
        ]
    );
    let http = with(
        valid_crd(),
        "/spec/conversion",
        json!({"strategy": "Webhook", "webhook": {"clientConfig": {"url": "http://hook.example.com/convert?x=1"}, "conversionReviewVersions": ["v2"]}}),
    );
    assert_eq!(
        create_errors(http),
        vec![
            "FieldValueInvalid spec.conversion.webhookClientConfig.url: Invalid value: \"http\": 'https' is the only allowed URL scheme; desired format: https://host[/path]",
            "FieldValueInvalid spec.conversion.webhookClientConfig.url: Invalid value: \"x=1\": query parameters are not permitted in the URL",
            "FieldValueInvalid spec.conversion.conversionReviewVersions: Invalid value: [\"v2\"]: must include at least one of v1, v1beta1",
        ]
    );
    let service = with(
        valid_crd(),
        "/spec/conversion",
        json!({"strategy": "Webhook", "webhook": {"clientConfig": {"service": {"name": "conv", "namespace": "ns", "path": "/Bad"}}, "conversionReviewVersions": ["v1"]}}),
    );
    let errors = create_errors(service);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(errors[0].starts_with("FieldValueInvalid spec.conversion.webhookClientConfig.service.path: Invalid value: \"/Bad\": segment[0]: a lowercase RFC 1123 subdomain"));
    let stray = with(
        valid_crd(),
        "/spec/conversion",
        json!({"strategy": "None", "webhook": {"conversionReviewVersions": ["v1"]}}),
    );
    assert_eq!(
        create_errors(stray),
        vec!["FieldValueForbidden spec.conversion.conversionReviewVersions: Forbidden: should not be set when strategy is not set to Webhook"]
    );
}

#[test]
fn validation_rules_need_a_rule_and_a_known_reason() {
    let crd = with(
        valid_crd(),
        "/spec/versions/0/schema/openAPIV3Schema/properties/spec/x-kubernetes-validations",
        json!([{"rule": " "}, {"rule": "self.a > 0", "reason": "Teapot", "fieldPath": ".nothing"}]),
    );
    let path = "spec.validation.openAPIV3Schema.properties[spec].x-kubernetes-validations";
    assert_eq!(
        create_errors(crd),
        vec![
            format!("FieldValueRequired {path}[0].rule: Required value: rule is not specified"),
            format!("FieldValueNotSupported {path}[1].reason: Unsupported value: \"Teapot\": supported values: \"FieldValueDuplicate\", \"FieldValueForbidden\", \"FieldValueInvalid\", \"FieldValueRequired\""),
            format!("FieldValueInvalid {path}[1].fieldPath: Invalid value: \".nothing\": fieldPath must be a valid path"),
        ]
    );
}

#[test]
fn preserve_unknown_fields_cannot_be_turned_on() {
    assert_eq!(
        create_errors(with(valid_crd(), "/spec/preserveUnknownFields", json!(true))),
        vec![
            "FieldValueInvalid spec.preserveUnknownFields: Invalid value: true: must be false in order to use defaults in the schema",
            "FieldValueInvalid spec.preserveUnknownFields: Invalid value: true: cannot set to true, set x-kubernetes-preserve-unknown-fields to true in spec.versions[*].schema instead",
        ]
    );
}

#[test]
fn protected_groups_need_api_approval() {
    let crd = with(
        with(valid_crd(), "/spec/group", json!("widgets.k8s.io")),
        "/metadata/name",
        json!("widgets.widgets.k8s.io"),
    );
    let errors = create_errors(crd.clone());
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(errors[0].starts_with("FieldValueRequired metadata.annotations[api-approved.kubernetes.io]: Required value: protected groups must have approval annotation"));
    let approved = with(
        crd,
        "/metadata/annotations",
        json!({"api-approved.kubernetes.io": "https://github.com/kubernetes/kubernetes/pull/1"}),
    );
    assert!(create_errors(approved).is_empty());
}

#[test]
fn updates_keep_group_plural_and_stored_versions() {
    let mut old = valid_crd();
    default_crd(&mut old);
    prepare_crd_for_create(&mut old);
    old["metadata"]["resourceVersion"] = json!("5");
    old["status"]["conditions"] = json!([{"type": "Established", "status": "True"}]);
    let mut new = old.clone();
    new["spec"]["scope"] = json!("Cluster");
    new["spec"]["versions"][0]["name"] = json!("v2");
    prepare_crd_for_update(&mut new, &old);
    assert_eq!(new["metadata"]["generation"], 2);
    assert_eq!(new["status"]["storedVersions"], json!(["v1", "v2"]));
    let errors: Vec<String> = validate_crd(&new, Some(&old)).iter().map(ToString::to_string).collect();
    assert_eq!(
        errors,
        vec![
            "spec.scope: Invalid value: \"Cluster\": field is immutable".to_owned(),
            "status.storedVersions[0]: Invalid value: \"v1\": missing from spec.versions; v1 was previously a storage version, and must remain in spec.versions until a storage migration ensures no data remains persisted in v1 and removes v1 from status.storedVersions".to_owned(),
        ]
    );
}

#[test]
fn versions_print_as_go_structs_with_their_own_schemas() {
    let mut crd = valid_crd();
    let mut second = crd["spec"]["versions"][0].clone();
    second["name"] = json!("v2");
    second["schema"] = json!({"openAPIV3Schema": {"type": "object", "x-kubernetes-validations": [{"rule": "a > b"}]}});
    crd["spec"]["versions"].as_array_mut().expect("versions").push(second);
    let errors = create_errors(crd);
    let storage = errors
        .iter()
        .find(|error| error.ends_with("must have exactly one version marked as storage version"))
        .expect("two storage versions");
    assert!(
        storage.starts_with("FieldValueInvalid spec.versions: Invalid value: [{\"Name\":\"v1\",\"Served\":true,\"Storage\":true,\"Deprecated\":false,\"DeprecationWarning\":null,\"Schema\":{\"OpenAPIV3Schema\":{\"ID\":\"\",\"Schema\":\"\",\"Ref\":null,\"Description\":\"\",\"Type\":\"object\",\"Format\":\"\""),
        "{storage}"
    );
    assert!(
        storage.contains("\"XValidations\":[{\"Rule\":\"a \\u003e b\",\"Message\":\"\",\"MessageExpression\":\"\",\"Reason\":null,\"FieldPath\":\"\",\"OptionalOldSelf\":null}]"),
        "{storage}"
    );
}

#[test]
fn status_updates_check_accepted_names() {
    let mut old = valid_crd();
    default_crd(&mut old);
    prepare_crd_for_create(&mut old);
    old["metadata"]["resourceVersion"] = json!("3");
    let mut new = old.clone();
    new["status"]["acceptedNames"] = json!({"plural": "Widgets", "kind": "Widget"});
    let errors: Vec<String> = kapi_crd_schema::validate_crd_status_update(&new, &old)
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(errors[0].starts_with("status.acceptedNames.plural: Invalid value: \"Widgets\": a DNS-1035 label"));
}

#[test]
fn rules_are_compiled_only_for_sound_schemas_and_reported_after_them() {
    let compile = |schema: &Value, path: &kapi_core::FieldPath| -> kapi_core::FieldErrors {
        assert!(schema.is_object());
        kapi_core::FieldError::invalid(&path.child("x-kubernetes-validations"), "", "compiled").into()
    };
    let mut crd = with(
        valid_crd(),
        "/spec/versions/0/additionalPrinterColumns",
        json!([{"name": "A", "type": "text", "jsonPath": ".spec.a"}]),
    );
    default_crd(&mut crd);
    prepare_crd_for_create(&mut crd);
    let errors: Vec<String> = kapi_crd_schema::validate_crd_with_rules(&crd, None, &compile)
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        errors,
        vec![
            "spec.validation.openAPIV3Schema.x-kubernetes-validations: Invalid value: \"\": compiled",
            "spec.additionalPrinterColumns[0].type: Invalid value: \"text\": must be one of boolean,date,integer,number,string",
        ]
    );
    let mut unsound = with(
        valid_crd(),
        "/spec/versions/0/schema/openAPIV3Schema/properties/spec/properties/color",
        json!({}),
    );
    default_crd(&mut unsound);
    prepare_crd_for_create(&mut unsound);
    let errors = kapi_crd_schema::validate_crd_with_rules(&unsound, None, &compile);
    assert_eq!(errors.len(), 1, "no compilation for a non-structural schema: {errors}");
}
