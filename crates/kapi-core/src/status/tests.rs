//! Tests for `status`: every expected body is a recorded kube-apiserver v1.36.2 response (scenario and step named),
//! compared byte for byte after serialization, so key order and omitted fields are checked too.

use serde_json::json;

use super::*;
use crate::field::{FieldError, FieldPath};

const DNS1123_SUBDOMAIN_DETAIL: &str =
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, \
     '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation \
     is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";

fn core(resource: &str) -> GroupResource {
    GroupResource::new("", resource)
}

fn rbac(resource: &str) -> GroupResource {
    GroupResource::new("rbac.authorization.k8s.io", resource)
}

fn new_finalizer_error() -> FieldError {
    FieldError::forbidden(
        &FieldPath::from_names(&["metadata", "finalizers"]),
        "no new finalizers can be added if the object is being deleted, found new finalizers []string{\"example.com/new\"}",
    )
}

/// Recorded placeholders stand for concrete values; the constructors get `<rv:1>` = 11 and `<rv:2>` = 12.
fn with_placeholders(json: String) -> String {
    json.replace(
        "resource version: 12, current: 11",
        "resource version: <rv:2>, current: <rv:1>",
    )
    .replace("resource version: 11 (12)", "resource version: <rv:1> (<rv:2>)")
}

#[test]
fn statuses_match_recordings_byte_for_byte() {
    let cases: Vec<(&str, ApiError, &str)> = vec![
        (
            "crud_get_missing/0",
            ApiError::not_found(&core("configmaps"), "nope"),
            r#"{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"configmaps \"nope\" not found","reason":"NotFound","details":{"name":"nope","kind":"configmaps"},"code":404}"#,
        ),
        (
            "crud_get_missing/2",
            ApiError::not_found(&rbac("roles"), "nope"),
            r#"{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"roles.rbac.authorization.k8s.io \"nope\" not found","reason":"NotFound","details":{"name":"nope","group":"rbac.authorization.k8s.io","kind":"roles"},"code":404}"#,
        ),
        (
            "crud_get_missing/5",
            ApiError::method_not_allowed(),
            r#"{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"the server does not allow this method on the requested resource","reason":"MethodNotAllowed","details":{},"code":405}"#,
        ),
        (
            "crud_get_missing/8",
            ApiError::route_not_found(),
            r#"{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"the server could not find the requested resource","reason":"NotFound","details":{},"code":404}"#,
        ),
        (
            "crud_create_existing/1",
            ApiError::already_exists(&core("configmaps"), "cm1"),
            r#"{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"configmaps \"cm1\" already exists","reason":"AlreadyExists","details":{"name":"cm1","kind":"configmaps"},"code":409}"#,
        ),
        (
            "crud_update_stale_rv/2",
            ApiError::conflict_modified(&core("configmaps"), "cm1"),
            r#"{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"Operation cannot be fulfilled on configmaps \"cm1\": the object has been modified; please apply your changes to the latest version and try again","reason":"Conflict","details":{"name":"cm1","kind":"configmaps"},"code":409}"#,
        ),
        (
            "crud_delete_preconditions/1",
            ApiError::precondition_uid_mismatch(&core("ConfigMap"), "cm1", "11111111-2222-3333-4444-555555555555", "<uid>"),
            r#"{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"Operation cannot be fulfilled on ConfigMap \"cm1\": the UID in the precondition (11111111-2222-3333-4444-555555555555) does not match the UID in record (<uid>). The object might have been deleted and then recreated","reason":"Conflict","details":{"name":"cm1","kind":"ConfigMap"},"code":409}"#,
        ),
        (
            "crud_delete_preconditions/5",
            ApiError::precondition_resource_version_mismatch(&core("ConfigMap"), "cm1", "<rv:2>", "<rv:3>"),
            r#"{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"Operation cannot be fulfilled on ConfigMap \"cm1\": the ResourceVersion in the precondition (<rv:2>) does not match the ResourceVersion in record (<rv:3>). The object might have been modified","reason":"Conflict","details":{"name":"cm1","kind":"ConfigMap"},"code":409}"#,
        ),
        (
            "crud_invalid_name_uppercase/2",
            ApiError::invalid(&GroupKind::new("coordination.k8s.io", "Lease"), "Bad.Lease", &FieldError::invalid(&FieldPath::from_names(&["metadata", "name"]), "Bad.Lease", DNS1123_SUBDOMAIN_DETAIL).into()),
            r#"{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"Lease.coordination.k8s.io \"Bad.Lease\" is invalid: metadata.name: Invalid value: \"Bad.Lease\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')","reason":"Invalid","details":{"name":"Bad.Lease","group":"coordination.k8s.io","kind":"Lease","causes":[{"reason":"FieldValueInvalid","message":"Invalid value: \"Bad.Lease\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')","field":"metadata.name"}]},"code":422}"#,
        ),
        (
            "crud_secret_tls_missing_keys/0",
            ApiError::invalid(&GroupKind::new("", "Secret"), "tls1", &vec![FieldError::required(&FieldPath::new("data").key("tls.crt"), ""), FieldError::required(&FieldPath::new("data").key("tls.key"), "")].into()),
            r#"{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"Secret \"tls1\" is invalid: [data[tls.crt]: Required value, data[tls.key]: Required value]","reason":"Invalid","details":{"name":"tls1","kind":"Secret","causes":[{"reason":"FieldValueRequired","message":"Required value","field":"data[tls.crt]"},{"reason":"FieldValueRequired","message":"Required value","field":"data[tls.key]"}]},"code":422}"#,
        ),
        (
            "crud_delete_with_finalizer/5",
            ApiError::invalid(&GroupKind::new("", "ConfigMap"), "fin", &vec![new_finalizer_error(), new_finalizer_error()].into()),
            r#"{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"ConfigMap \"fin\" is invalid: metadata.finalizers: Forbidden: no new finalizers can be added if the object is being deleted, found new finalizers []string{\"example.com/new\"}","reason":"Invalid","details":{"name":"fin","kind":"ConfigMap","causes":[{"reason":"FieldValueForbidden","message":"Forbidden: no new finalizers can be added if the object is being deleted, found new finalizers []string{\"example.com/new\"}","field":"metadata.finalizers"},{"reason":"FieldValueForbidden","message":"Forbidden: no new finalizers can be added if the object is being deleted, found new finalizers []string{\"example.com/new\"}","field":"metadata.finalizers"}]},"code":422}"#,
        ),
        (
            "auth_access_reviews/5",
            ApiError::invalid(&GroupKind::new("authorization.k8s.io", ""), "", &FieldError::invalid(&FieldPath::new("spec").child("resourceAttributes"), json!(null), "exactly one of nonResourceAttributes or resourceAttributes must be specified").into()),
            r#"{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":".authorization.k8s.io \"\" is invalid: spec.resourceAttributes: Invalid value: null: exactly one of nonResourceAttributes or resourceAttributes must be specified","reason":"Invalid","details":{"group":"authorization.k8s.io","causes":[{"reason":"FieldValueInvalid","message":"Invalid value: null: exactly one of nonResourceAttributes or resourceAttributes must be specified","field":"spec.resourceAttributes"}]},"code":422}"#,
        ),
        (
            "patch_field_validation_warn/1",
            ApiError::invalid(&GroupKind::new("meta.k8s.io", "CreateOptions"), "", &FieldError::not_supported(&FieldPath::new("fieldValidation"), "Sometimes", &["", "Ignore", "Strict", "Warn"]).into()),
            r#"{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"CreateOptions.meta.k8s.io \"\" is invalid: fieldValidation: Unsupported value: \"Sometimes\": supported values: \"\", \"Ignore\", \"Strict\", \"Warn\"","reason":"Invalid","details":{"group":"meta.k8s.io","kind":"CreateOptions","causes":[{"reason":"FieldValueNotSupported","message":"Unsupported value: \"Sometimes\": supported values: \"\", \"Ignore\", \"Strict\", \"Warn\"","field":"fieldValidation"}]},"code":422}"#,
        ),
        (
            "list_rv_too_large/1",
            ApiError::resource_version_too_large(12, 11, 1),
            r#"{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"Timeout: Too large resource version: <rv:2>, current: <rv:1>","reason":"Timeout","details":{"causes":[{"reason":"ResourceVersionTooLarge","message":"Too large resource version"}],"retryAfterSeconds":1},"code":504}"#,
        ),
        (
            "crud_configmap_too_large/1",
            ApiError::request_body_over_limit(3145728),
            r#"{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"Request entity too large: limit is 3145728","reason":"RequestEntityTooLarge","code":413}"#,
        ),
        (
            "auth_anonymous_and_bad_token/2",
            ApiError::forbidden(&core("configmaps"), "", "User \"system:anonymous\" cannot list resource \"configmaps\" in API group \"\" in the namespace \"ns-test\""),
            r#"{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"configmaps is forbidden: User \"system:anonymous\" cannot list resource \"configmaps\" in API group \"\" in the namespace \"ns-test\"","reason":"Forbidden","details":{"kind":"configmaps"},"code":403}"#,
        ),
        (
            "auth_anonymous_and_bad_token/3",
            ApiError::forbidden(&GroupResource::default(), "", "User \"system:anonymous\" cannot get path \"/api\""),
            r#"{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"forbidden: User \"system:anonymous\" cannot get path \"/api\"","reason":"Forbidden","details":{},"code":403}"#,
        ),
        (
            "auth_anonymous_and_bad_token/4",
            ApiError::unauthorized("Unauthorized"),
            r#"{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"Unauthorized","reason":"Unauthorized","code":401}"#,
        ),
        (
            "crud_namespace_lifecycle/10",
            ApiError::namespace_terminating(&core("configmaps"), "late", "ns-test-term"),
            r#"{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"configmaps \"late\" is forbidden: unable to create new content in namespace ns-test-term because it is being terminated","reason":"Forbidden","details":{"name":"late","kind":"configmaps","causes":[{"reason":"NamespaceTerminating","message":"namespace ns-test-term is being terminated","field":"metadata.namespace"}]},"code":403}"#,
        ),
        (
            "list_accept_negotiation/3",
            ApiError::not_acceptable_representations(&["application/json", "application/yaml", "application/vnd.kubernetes.protobuf", "application/json;stream=watch", "application/vnd.kubernetes.protobuf;stream=watch"]),
            r#"{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"406: Not Acceptable\n\nAvailable representations: application/json, application/yaml, application/vnd.kubernetes.protobuf, application/json;stream=watch, application/vnd.kubernetes.protobuf;stream=watch","reason":"NotAcceptable","details":{},"code":406}"#,
        ),
        (
            "discovery_aggregated_negotiation/0",
            ApiError::not_acceptable(&["application/json", "application/yaml", "application/vnd.kubernetes.protobuf"]),
            r#"{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"only the following media types are accepted: application/json, application/yaml, application/vnd.kubernetes.protobuf","reason":"NotAcceptable","code":406}"#,
        ),
        (
            "crud_unsupported_content_type/0",
            ApiError::unsupported_media_type(&["application/json", "application/yaml", "application/vnd.kubernetes.protobuf"]),
            r#"{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/vnd.kubernetes.protobuf","reason":"UnsupportedMediaType","code":415}"#,
        ),
        (
            "patch_merge_precondition_and_errors/9",
            ApiError::unsupported_media_type_route(),
            r#"{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"415: Unsupported Media Type","reason":"UnsupportedMediaType","details":{},"code":415}"#,
        ),
        (
            "patch_apply_conflict/1",
            ApiError::apply_conflict("Apply failed with 3 conflicts: conflicts with \"mgr-a\":\n- .data.a\n- .data.b\n- .metadata.labels.owner", [".data.a", ".data.b", ".metadata.labels.owner"].iter().map(|field| StatusCause::new("FieldManagerConflict", "conflict with \"mgr-a\"", *field)).collect()),
            r#"{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"Apply failed with 3 conflicts: conflicts with \"mgr-a\":\n- .data.a\n- .data.b\n- .metadata.labels.owner","reason":"Conflict","details":{"causes":[{"reason":"FieldManagerConflict","message":"conflict with \"mgr-a\"","field":".data.a"},{"reason":"FieldManagerConflict","message":"conflict with \"mgr-a\"","field":".data.b"},{"reason":"FieldManagerConflict","message":"conflict with \"mgr-a\"","field":".metadata.labels.owner"}]},"code":409}"#,
        ),
        (
            "patch_smp_invalid/1",
            ApiError::unknown(500, "unknown patch type: frobnicate in map: map[$patch:frobnicate]"),
            r#"{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"unknown patch type: frobnicate in map: map[$patch:frobnicate]","code":500}"#,
        ),
        (
            "watch_too_old_rv_after_compaction/3",
            ApiError::watch_expired(),
            r#"{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"The resourceVersion for the provided watch is too old.","reason":"Expired","code":410}"#,
        ),
        (
            "list_rv_exact_after_compaction/5",
            ApiError::list_expired(),
            r#"{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"The resourceVersion for the provided list is too old.","reason":"Expired","code":410}"#,
        ),
        (
            "patch_json_invalid/2",
            ApiError::invalid_request(),
            r#"{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"the server rejected our request due to an error in our request","reason":"Invalid","details":{},"code":422}"#,
        ),
        (
            "watch_too_old_rv_watch_cache/1",
            ApiError::too_old_resource_version(11, 12),
            r#"{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"too old resource version: <rv:1> (<rv:2>)","reason":"Expired","code":410}"#,
        ),
    ];
    for (scenario, error, expected) in cases {
        let wire = serde_json::to_string(&error.to_status()).expect("status serializes");
        assert_eq!(with_placeholders(wire), expected, "{scenario}");
        let parsed: Value = serde_json::from_str(expected).expect("recording is JSON");
        assert_eq!(parsed["code"].as_u64(), Some(u64::from(error.code())), "{scenario}");
        assert_eq!(error.to_string(), error.message(), "{scenario}: Display is the message");
    }
}

#[test]
fn every_reason_has_its_upstream_code() {
    let gr = core("configmaps");
    let cases: Vec<(ApiError, &str, u16)> = vec![
        (ApiError::bad_request("x"), "BadRequest", 400),
        (ApiError::unauthorized(""), "Unauthorized", 401),
        (ApiError::forbidden(&gr, "a", "no"), "Forbidden", 403),
        (ApiError::not_found(&gr, "a"), "NotFound", 404),
        (ApiError::method_not_supported(&gr, "delete"), "MethodNotAllowed", 405),
        (ApiError::not_acceptable(&["application/json"]), "NotAcceptable", 406),
        (ApiError::already_exists(&gr, "a"), "AlreadyExists", 409),
        (ApiError::conflict(&gr, "a", "why"), "Conflict", 409),
        (ApiError::gone("gone"), "Gone", 410),
        (ApiError::expired("old"), "Expired", 410),
        (ApiError::request_entity_too_large("big"), "RequestEntityTooLarge", 413),
        (
            ApiError::unsupported_media_type(&["application/json"]),
            "UnsupportedMediaType",
            415,
        ),
        (
            ApiError::invalid(&GroupKind::new("", "ConfigMap"), "a", &FieldErrors::new()),
            "Invalid",
            422,
        ),
        (ApiError::too_many_requests("slow down", 1), "TooManyRequests", 429),
        (ApiError::internal_error("boom"), "InternalError", 500),
        (ApiError::server_timeout(&gr, "create", 2), "ServerTimeout", 500),
        (ApiError::service_unavailable("later"), "ServiceUnavailable", 503),
        (ApiError::timeout("slow", 1), "Timeout", 504),
        (ApiError::unknown(500, "plain"), "", 500),
    ];
    for (error, reason, code) in cases {
        assert_eq!(error.reason(), reason, "{error:?}");
        assert_eq!(error.code(), code, "{error:?}");
        let status = error.to_status();
        assert_eq!(status["code"], json!(code));
        assert_eq!(status.get("reason").and_then(Value::as_str).unwrap_or(""), reason);
        assert_eq!(
            ApiError::from_status(&status),
            Some(error.clone()),
            "round trip of {error:?}"
        );
    }
}

#[test]
fn messages_of_other_constructors() {
    let gr = rbac("roles");
    assert_eq!(ApiError::unauthorized("").message(), "not authorized");
    assert_eq!(
        ApiError::method_not_supported(&gr, "watch").message(),
        "watch is not supported on resources of kind \"roles.rbac.authorization.k8s.io\""
    );
    assert_eq!(
        ApiError::generate_name_conflict(&core("configmaps"), "cm-abcde", 1).message(),
        "configmaps \"cm-abcde\" already exists, the server was not able to generate a unique name for the object"
    );
    assert_eq!(
        ApiError::server_timeout(&gr, "create", 2).message(),
        "The create operation against roles.rbac.authorization.k8s.io could not be completed at this time, please try again."
    );
    assert_eq!(
        ApiError::forbidden(&gr, "r1", "denied").message(),
        "roles.rbac.authorization.k8s.io \"r1\" is forbidden: denied"
    );
    let invalid_without_errors = ApiError::invalid(&GroupKind::new("apps", "Deployment"), "web", &FieldErrors::new());
    assert_eq!(invalid_without_errors.message(), "Deployment.apps \"web\" is invalid");
    assert_eq!(
        serde_json::to_string(&invalid_without_errors.to_status()["details"]).expect("serializes"),
        r#"{"name":"web","group":"apps","kind":"Deployment"}"#
    );
    // patch_field_validation_strict: neither kind nor group known.
    let unnamed = ApiError::invalid(
        &GroupKind::default(),
        "",
        &FieldError::invalid(&FieldPath::new("patch"), "{}", "strict decoding error").into(),
    );
    assert_eq!(
        unnamed.message(),
        " \"\" is invalid: patch: Invalid value: \"{}\": strict decoding error"
    );
}

#[test]
fn internal_error_and_retry_after() {
    let internal = ApiError::internal_error("etcd is down");
    assert_eq!(
        serde_json::to_string(&internal.to_status()).expect("serializes"),
        r#"{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"Internal error occurred: etcd is down","reason":"InternalError","details":{"causes":[{"message":"etcd is down"}]},"code":500}"#
    );
    assert_eq!(internal.retry_after_seconds(), None);
    assert_eq!(ApiError::too_many_requests("slow", 3).retry_after_seconds(), Some(3));
    assert_eq!(
        ApiError::resource_version_too_large(5, 4, 1).retry_after_seconds(),
        Some(1)
    );
    assert_eq!(ApiError::timeout("x", 0).retry_after_seconds(), None);
}

#[test]
fn success_status_has_no_code() {
    // crud_configmap_lifecycle: DELETE answers a Success status naming the object.
    let details = StatusDetails {
        uid: "<uid>".to_owned(),
        ..StatusDetails::for_resource(&core("configmaps"), "cm1")
    };
    assert_eq!(
        serde_json::to_string(&Status::success(Some(details))).expect("serializes"),
        r#"{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Success","details":{"name":"cm1","kind":"configmaps","uid":"<uid>"}}"#
    );
    assert_eq!(ApiError::from_status(&Status::success(None).to_value()), None);
    assert_eq!(ApiError::from_status(&json!({"kind": "ConfigMap"})), None);
    assert_eq!(ApiError::from_status(&json!("not an object")), None);
}
