//! Tests for `validation`, with recorded kube-apiserver v1.36.2 messages as the oracle.

use serde_json::{json, Value};

use super::*;
use crate::{field::FieldPath, gvk::GroupKind, status::ApiError};

const SUBDOMAIN_ERROR: &str = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' \
     or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is \
     '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const LABEL_ERROR: &str = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and \
     must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is \
     '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
const DNS1035_ERROR: &str =
    "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an \
     alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for \
     validation is '[a-z]([-a-z0-9]*[a-z0-9])?')";
const NAME_PART_ERROR: &str = "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and \
     end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is \
     '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
const LABEL_VALUE_ERROR: &str =
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' \
     or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', \
     regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";
const CONFIG_KEY_ERROR: &str = "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. \
     'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')";

#[test]
fn dns1123_subdomain() {
    assert!(is_dns1123_subdomain("example.com").is_empty());
    assert!(is_dns1123_subdomain("a").is_empty());
    assert!(is_dns1123_subdomain("0-a.b-1").is_empty());
    for bad in [
        "BadName",
        "bad_name",
        "Bad.Lease",
        "..",
        "a%b",
        "",
        "-a",
        "a-",
        "a..b",
        ".a",
        "a.",
    ] {
        assert_eq!(is_dns1123_subdomain(bad), vec![SUBDOMAIN_ERROR.to_owned()], "{bad:?}");
    }
    // crud_invalid_name_too_long: 254 valid characters only break the length rule.
    assert_eq!(
        is_dns1123_subdomain(&"a".repeat(254)),
        vec!["must be no more than 253 characters".to_owned()]
    );
    assert!(is_dns1123_subdomain(&"a".repeat(253)).is_empty());
    assert_eq!(is_dns1123_subdomain(&"A".repeat(254)).len(), 2);
}

#[test]
fn dns1123_and_dns1035_labels() {
    assert!(is_dns1123_label("my-name").is_empty());
    assert!(is_dns1123_label("123-abc").is_empty());
    assert_eq!(is_dns1123_label("Bad-NS"), vec![LABEL_ERROR.to_owned()]);
    assert_eq!(is_dns1123_label("a.b"), vec!["must not contain dots".to_owned()]);
    assert_eq!(
        is_dns1123_label(&"n".repeat(64)),
        vec!["must be no more than 63 characters".to_owned()]
    );
    assert!(is_dns1035_label("abc-123").is_empty());
    assert_eq!(is_dns1035_label("1abc"), vec![DNS1035_ERROR.to_owned()]);
    // crd_invalid_versions_and_names: plural "Invalids" and singular "invalid kind".
    assert_eq!(is_dns1035_label("Invalids"), vec![DNS1035_ERROR.to_owned()]);
    assert_eq!(is_dns1035_label("invalid kind"), vec![DNS1035_ERROR.to_owned()]);
}

#[test]
fn qualified_names_and_label_values() {
    for good in ["app", "example.com/app", "a.b_c-d", "A1", "kubernetes.io/metadata.name"] {
        assert!(is_qualified_name(good).is_empty(), "{good:?}");
    }
    assert_eq!(is_qualified_name("bad key"), vec![NAME_PART_ERROR.to_owned()]);
    // crud_event_invalid: an empty reportingController gives both name-part errors.
    assert_eq!(
        is_qualified_name(""),
        vec!["name part must be non-empty".to_owned(), NAME_PART_ERROR.to_owned()]
    );
    assert_eq!(
        is_qualified_name("/x"),
        vec!["prefix part must be non-empty".to_owned()]
    );
    assert_eq!(
        is_qualified_name("Example.com/x"),
        vec![format!("prefix part {SUBDOMAIN_ERROR}")],
    );
    assert_eq!(
        is_qualified_name(&format!("{}.com/x", "a".repeat(250))),
        vec!["prefix part must be no more than 253 bytes".to_owned()]
    );
    assert_eq!(
        is_qualified_name(&"k".repeat(64)),
        vec!["name part must be no more than 63 bytes".to_owned()]
    );
    assert_eq!(is_qualified_name("a/b/c").len(), 1);
    assert!(is_qualified_name("a/b/c")[0].starts_with("a valid label key must consist of alphanumeric characters"));
    assert!(is_label_value("").is_empty());
    assert!(is_label_value("my_value").is_empty());
    assert_eq!(is_label_value("-bad-"), vec![LABEL_VALUE_ERROR.to_owned()]);
    assert_eq!(
        is_label_value(&"v".repeat(64)),
        vec!["must be no more than 63 bytes".to_owned()]
    );
    assert_eq!(is_label_key("bad key"), is_qualified_name("bad key"));
}

#[test]
fn config_map_keys() {
    assert!(is_config_map_key("key.name").is_empty());
    assert!(is_config_map_key(".dockerconfigjson").is_empty());
    // crud_configmap_invalid_key
    assert_eq!(is_config_map_key("a b"), vec![CONFIG_KEY_ERROR.to_owned()]);
    assert_eq!(is_config_map_key(".."), vec!["must not be '..'".to_owned()]);
    assert_eq!(is_config_map_key("."), vec!["must not be '.'".to_owned()]);
    assert_eq!(is_config_map_key("..a"), vec!["must not start with '..'".to_owned()]);
    assert_eq!(
        is_config_map_key(&"x".repeat(254)),
        vec!["must be no more than 253 characters".to_owned()]
    );
    assert_eq!(is_config_map_key(""), vec![CONFIG_KEY_ERROR.to_owned()]);
}

#[test]
fn path_segments_and_name_rules() {
    assert_eq!(is_path_segment_name("."), vec!["may not be '.'".to_owned()]);
    assert_eq!(is_path_segment_name(".."), vec!["may not be '..'".to_owned()]);
    assert_eq!(
        is_path_segment_name("a/b%c"),
        vec!["may not contain '/'".to_owned(), "may not contain '%'".to_owned()]
    );
    assert!(is_path_segment_name("system:controller:x").is_empty());
    assert!(
        NameRule::PathSegment.check("..", true).is_empty(),
        "a prefix may be '..'"
    );
    assert!(NameRule::Any.check("Anything/At all", false).is_empty());
    // A generateName may end in a dash; the check masks it like upstream.
    assert!(NameRule::Dns1123Subdomain.check("web-", true).is_empty());
    assert!(!NameRule::Dns1123Subdomain.check("web-", false).is_empty());
    assert_eq!(
        NameRule::Dns1123Subdomain.check("Bad_Prefix-", true),
        vec![SUBDOMAIN_ERROR.to_owned()]
    );
    assert!(NameRule::Dns1123Label.check("ns-", true).is_empty());
    assert!(NameRule::Dns1035Label.check("svc-", true).is_empty());
    assert!(
        NameRule::Dns1123Subdomain.check("-", true).len() == 1,
        "a lone dash is not masked"
    );
}

#[test]
fn generated_names_use_the_upstream_alphabet_and_prefix_limit() {
    let mut next = 0;
    let name = generate_name("web-", |n| {
        next += 1;
        (next * 7) % n
    });
    assert_eq!(name.len(), 4 + GENERATE_NAME_SUFFIX_LENGTH);
    assert!(name.starts_with("web-"));
    assert!(name[4..].chars().all(|c| GENERATE_NAME_ALPHABET.contains(c)));
    let long = generate_name(&"p".repeat(100), |_| 0);
    assert_eq!(long, format!("{}bbbbb", "p".repeat(58)));
    assert!(is_dns1123_label(&long).is_empty(), "generated names fit a label");
    // Out-of-range indices from a careless source still give a valid character.
    assert_eq!(generate_name("x", |n| n + 1), "xccccc");
}

/// Whole-metadata validation of recorded create requests: the metadata as the server saw it (namespace filled in
/// from the URL, the namespace name label added by the Namespace strategy) and the recorded message.
#[test]
fn object_meta_matches_recorded_invalid_statuses() {
    let cases: Vec<(&str, &str, bool, NameRule, &str, &str)> = vec![
        (
            "crud_invalid_metadata/0",
            "ConfigMap",
            true,
            NameRule::Dns1123Subdomain,
            r#"{"name": "l1", "labels": {"bad key": "v"}, "namespace": "ns-test"}"#,
            r#"ConfigMap "l1" is invalid: metadata.labels: Invalid value: "bad key": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"#,
        ),
        (
            "crud_invalid_metadata/1",
            "ConfigMap",
            true,
            NameRule::Dns1123Subdomain,
            r#"{"name": "l2", "labels": {"k": "vvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvv"}, "namespace": "ns-test"}"#,
            r#"ConfigMap "l2" is invalid: metadata.labels: Invalid value: "vvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvv": must be no more than 63 bytes"#,
        ),
        (
            "crud_invalid_metadata/2",
            "ConfigMap",
            true,
            NameRule::Dns1123Subdomain,
            r#"{"name": "l3", "labels": {"k": "-bad-"}, "namespace": "ns-test"}"#,
            r#"ConfigMap "l3" is invalid: metadata.labels: Invalid value: "-bad-": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"#,
        ),
        (
            "crud_invalid_metadata/3",
            "ConfigMap",
            true,
            NameRule::Dns1123Subdomain,
            r#"{"name": "a1", "annotations": {"big": "BIG_ANNOTATION"}, "namespace": "ns-test"}"#,
            r#"ConfigMap "a1" is invalid: metadata.annotations: Too long: may not be more than 262144 bytes"#,
        ),
        (
            "crud_invalid_metadata/4",
            "ConfigMap",
            true,
            NameRule::Dns1123Subdomain,
            r#"{"name": "f1", "finalizers": ["NotQualified"], "namespace": "ns-test"}"#,
            r#"ConfigMap "f1" is invalid: metadata.finalizers[0]: Invalid value: "NotQualified": name is neither a standard finalizer name nor is it fully qualified"#,
        ),
        (
            "crud_owner_references/2",
            "ConfigMap",
            true,
            NameRule::Dns1123Subdomain,
            r#"{"name": "child2", "ownerReferences": [{"apiVersion": "v1", "kind": "ConfigMap", "name": "owner"}], "namespace": "ns-test"}"#,
            r#"ConfigMap "child2" is invalid: metadata.ownerReferences.uid: Invalid value: "": must not be empty"#,
        ),
        (
            "crud_owner_references/3",
            "ConfigMap",
            true,
            NameRule::Dns1123Subdomain,
            r#"{"name": "child3", "ownerReferences": [{"apiVersion": "v1", "kind": "ConfigMap", "name": "owner", "uid": "<uid>", "controller": true, "blockOwnerDeletion": true}, {"apiVersion": "v1", "kind": "ConfigMap", "name": "other", "uid": "11111111-2222-3333-4444-555555555555", "controller": true, "blockOwnerDeletion": true}], "namespace": "ns-test"}"#,
            r#"ConfigMap "child3" is invalid: metadata.ownerReferences: Invalid value: [{"apiVersion":"v1","kind":"ConfigMap","name":"owner","uid":"<uid>","controller":true,"blockOwnerDeletion":true},{"apiVersion":"v1","kind":"ConfigMap","name":"other","uid":"11111111-2222-3333-4444-555555555555","controller":true,"blockOwnerDeletion":true}]: Only one reference can have Controller set to true. Found "true" in references for ConfigMap/owner and ConfigMap/other"#,
        ),
        (
            "crud_namespace_invalid/0",
            "Namespace",
            false,
            NameRule::Dns1123Label,
            r#"{"name": "Bad-NS", "labels": {"kubernetes.io/metadata.name": "Bad-NS"}}"#,
            r#"Namespace "Bad-NS" is invalid: metadata.name: Invalid value: "Bad-NS": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"#,
        ),
        (
            "crud_namespace_invalid/1",
            "Namespace",
            false,
            NameRule::Dns1123Label,
            r#"{"name": "nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn", "labels": {"kubernetes.io/metadata.name": "nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn"}}"#,
            r#"Namespace "nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn" is invalid: [metadata.name: Invalid value: "nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn": must be no more than 63 characters, metadata.labels: Invalid value: "nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn": must be no more than 63 bytes]"#,
        ),
        (
            "crud_namespace_invalid/2",
            "Namespace",
            false,
            NameRule::Dns1123Label,
            r#"{"name": "a.b", "labels": {"kubernetes.io/metadata.name": "a.b"}}"#,
            r#"Namespace "a.b" is invalid: metadata.name: Invalid value: "a.b": must not contain dots"#,
        ),
        (
            "crud_invalid_name_uppercase/0",
            "ConfigMap",
            true,
            NameRule::Dns1123Subdomain,
            r#"{"name": "BadName", "namespace": "ns-test"}"#,
            r#"ConfigMap "BadName" is invalid: metadata.name: Invalid value: "BadName": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"#,
        ),
        (
            "crud_invalid_name_uppercase/1",
            "ConfigMap",
            true,
            NameRule::Dns1123Subdomain,
            r#"{"name": "bad_name", "namespace": "ns-test"}"#,
            r#"ConfigMap "bad_name" is invalid: metadata.name: Invalid value: "bad_name": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"#,
        ),
        (
            "crud_invalid_name_uppercase/3",
            "ConfigMap",
            true,
            NameRule::Dns1123Subdomain,
            r#"{"name": "..", "namespace": "ns-test"}"#,
            r#"ConfigMap ".." is invalid: metadata.name: Invalid value: "..": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"#,
        ),
        (
            "crud_invalid_name_uppercase/4",
            "ConfigMap",
            true,
            NameRule::Dns1123Subdomain,
            r#"{"name": "a%b", "namespace": "ns-test"}"#,
            r#"ConfigMap "a%b" is invalid: metadata.name: Invalid value: "a%b": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"#,
        ),
        (
            "crud_generate_name/3",
            "ConfigMap",
            true,
            NameRule::Dns1123Subdomain,
            r#"{"namespace": "ns-test"}"#,
            r#"ConfigMap "" is invalid: metadata.name: Required value: name or generateName is required"#,
        ),
    ];
    for (scenario, kind, namespaced, rule, metadata, expected) in cases {
        // The recordings hide server UIDs as `<uid>`; Go would escape the brackets inside JSON, so use a real one.
        const UID: &str = "6f1b9c3e-0d2a-4c55-9b7e-3a1f2d4c5e6f";
        let expected = expected.replace("<uid>", UID);
        let metadata = metadata
            .replace("BIG_ANNOTATION", &"x".repeat(262145))
            .replace("<uid>", UID);
        let metadata: Value = serde_json::from_str(&metadata).expect("test metadata is JSON");
        let path = FieldPath::new("metadata");
        let mut errors = validate_object_meta(&metadata, namespaced, rule, &path);
        errors.append(validate_builtin_finalizers(
            metadata.get("finalizers"),
            &path.child("finalizers"),
        ));
        let name = metadata["name"].as_str().unwrap_or("");
        let error = ApiError::invalid(&GroupKind::new("", kind), name, &errors);
        assert_eq!(error.message(), expected, "{scenario}");
    }
}

#[test]
fn generate_name_errors_precede_name_errors() {
    // crud_generate_name step 2: the server validated the generated name too.
    let metadata = json!({"generateName": "Bad_Prefix-", "name": "Bad_Prefix-abcde", "namespace": "ns"});
    let errors = validate_object_meta(&metadata, true, NameRule::Dns1123Subdomain, &FieldPath::new("metadata"));
    let fields: Vec<&str> = errors.iter().map(|error| error.field.as_str()).collect();
    assert_eq!(fields, ["metadata.generateName", "metadata.name"]);
    assert_eq!(
        errors.0[0].message(),
        format!("Invalid value: \"Bad_Prefix-\": {SUBDOMAIN_ERROR}")
    );
}

#[test]
fn namespace_scope_and_generation() {
    let path = FieldPath::new("metadata");
    let missing = validate_object_meta(&json!({"name": "a"}), true, NameRule::Dns1123Subdomain, &path);
    assert_eq!(missing.to_string(), "metadata.namespace: Required value");
    let cluster = validate_object_meta(
        &json!({"name": "a", "namespace": "x"}),
        false,
        NameRule::Dns1123Subdomain,
        &path,
    );
    assert_eq!(
        cluster.to_string(),
        "metadata.namespace: Forbidden: not allowed on this type"
    );
    let bad_namespace = validate_object_meta(
        &json!({"name": "a", "namespace": "Bad"}),
        true,
        NameRule::Dns1123Subdomain,
        &path,
    );
    assert_eq!(
        bad_namespace.to_string(),
        format!("metadata.namespace: Invalid value: \"Bad\": {LABEL_ERROR}")
    );
    let negative = validate_object_meta(
        &json!({"name": "a", "namespace": "n", "generation": -1}),
        true,
        NameRule::Dns1123Subdomain,
        &path,
    );
    assert_eq!(
        negative.to_string(),
        "metadata.generation: Invalid value: -1: must be greater than or equal to 0"
    );
    // Malformed metadata does not panic; it is simply missing everything.
    let garbage = validate_object_meta(&json!("nope"), true, NameRule::Dns1123Subdomain, &path);
    assert_eq!(garbage.len(), 2);
    let wrong_types = validate_object_meta(
        &json!({"name": 5, "namespace": "n", "labels": [1], "annotations": "x", "finalizers": {}, "ownerReferences": 3}),
        true,
        NameRule::Dns1123Subdomain,
        &path,
    );
    assert_eq!(
        wrong_types.to_string(),
        "metadata.name: Required value: name or generateName is required"
    );
}

#[test]
fn finalizers_and_owner_references() {
    let path = FieldPath::new("metadata").child("finalizers");
    let both = validate_finalizers(Some(&json!(["orphan", "foregroundDeletion"])), &path);
    assert_eq!(
        both.to_string(),
        "metadata.finalizers: Invalid value: [\"orphan\",\"foregroundDeletion\"]: finalizer orphan and foregroundDeletion cannot be both set"
    );
    assert_eq!(
        validate_finalizers(Some(&json!(["bad name"])), &path).to_string(),
        format!("metadata.finalizers: Invalid value: \"bad name\": {NAME_PART_ERROR}")
    );
    assert!(validate_builtin_finalizers(Some(&json!(["kubernetes", "orphan", "a.io/x"])), &path).is_empty());
    let owners = FieldPath::new("metadata").child("ownerReferences");
    let event_owner = validate_owner_references(
        Some(&json!([{"apiVersion": "v1", "kind": "Event", "name": "e", "uid": "u"}])),
        &owners,
    );
    assert_eq!(
        event_owner.to_string(),
        "metadata.ownerReferences: Invalid value: {\"apiVersion\":\"v1\",\"kind\":\"Event\",\"name\":\"e\",\"uid\":\"u\"}: /v1, Kind=Event is disallowed from being an owner"
    );
    let empty = validate_owner_references(Some(&json!([{}])), &owners);
    let fields: Vec<&str> = empty.iter().map(|error| error.field.as_str()).collect();
    assert_eq!(
        fields,
        [
            "metadata.ownerReferences.apiVersion",
            "metadata.ownerReferences.kind",
            "metadata.ownerReferences.name",
            "metadata.ownerReferences.uid"
        ]
    );
    assert_eq!(empty.0[0].message(), "Invalid value: \"\": version must not be empty");
}

#[test]
fn annotations_size_limit_is_inclusive() {
    let path = FieldPath::new("metadata").child("annotations");
    let at_limit = json!({"k": "x".repeat(TOTAL_ANNOTATION_SIZE_LIMIT_BYTES - 1)});
    assert!(validate_annotations(Some(&at_limit), &path).is_empty());
    let over = json!({"k": "x".repeat(TOTAL_ANNOTATION_SIZE_LIMIT_BYTES)});
    assert_eq!(
        validate_annotations(Some(&over), &path).to_string(),
        "metadata.annotations: Too long: may not be more than 262144 bytes"
    );
    // Keys are checked lower-cased: upper case is fine in annotation keys.
    assert!(validate_annotations(Some(&json!({"Example.COM/Key": "v"})), &path).is_empty());
}

#[test]
fn update_rules() {
    let path = FieldPath::new("metadata");
    let old = json!({"name": "fin", "namespace": "ns", "uid": "u1", "resourceVersion": "3", "generation": 2,
        "deletionTimestamp": "2024-01-02T00:00:00Z", "finalizers": ["example.com/hold"]});
    let mut new = old.clone();
    new["finalizers"] = json!(["example.com/hold", "example.com/new"]);
    // crud_delete_with_finalizer step 5
    assert_eq!(
        validate_object_meta_update(&new, &old, &path).to_string(),
        "metadata.finalizers: Forbidden: no new finalizers can be added if the object is being deleted, found new finalizers []string{\"example.com/new\"}"
    );
    let mut renamed = old.clone();
    renamed["name"] = json!("other");
    renamed["uid"] = json!("u2");
    renamed["generation"] = json!(1);
    renamed["resourceVersion"] = json!("");
    assert_eq!(
        validate_object_meta_update(&renamed, &old, &path).to_string(),
        "[metadata.resourceVersion: Invalid value: \"\": must be specified for an update, metadata.generation: Invalid value: 1: must not be decremented, metadata.name: Invalid value: \"other\": field is immutable, metadata.uid: Invalid value: \"u2\": field is immutable]"
    );
    assert!(validate_object_meta_update(&old, &old, &path).is_empty());
}

#[test]
fn field_managers_and_managed_fields() {
    let path = FieldPath::new("fieldManager");
    // crud_managed_fields_on_create: a 129-byte manager.
    assert_eq!(
        validate_field_manager(&"x".repeat(129), &path).to_string(),
        "fieldManager: Too long: may not be more than 128 bytes"
    );
    assert_eq!(
        validate_field_manager("a\u{7}", &path).to_string(),
        "fieldManager: Invalid value: \"a\\a\": invalid character U+0007 (at position 1)"
    );
    let metadata = json!({"name": "a", "namespace": "n", "managedFields": [{"manager": "m", "operation": "Merge", "fieldsType": "FieldsV2"}]});
    let errors = validate_object_meta(&metadata, true, NameRule::Dns1123Subdomain, &FieldPath::new("metadata"));
    assert_eq!(
        errors.to_string(),
        "[metadata.managedFields[0].operation: Invalid value: \"Merge\": must be `Apply` or `Update`, metadata.managedFields[0].fieldsType: Invalid value: \"FieldsV2\": must be `FieldsV1`]"
    );
}
