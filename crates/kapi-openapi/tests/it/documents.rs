use kapi_openapi::{
    build_v2, build_v3, builtin_resources, sha512_upper_hex, v3_schema, ApiSurface, Definitions, OpenApiError,
    ServedResource, ServedSubresource, Verb,
};
use serde_json::{json, Value};

use crate::reference::recorded_body;

fn builtin_v2() -> Value {
    let resources = builtin_resources();
    build_v2(&ApiSurface::new(Definitions::builtin(), &resources)).expect("builds")
}

/// Every `$ref` in `value`, with the prefix it must start with.
fn references(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(object) => {
            for (key, child) in object {
                match (key.as_str(), child) {
                    ("$ref", Value::String(reference)) => out.push(reference.clone()),
                    ("properties", Value::Object(properties)) => properties.values().for_each(|p| references(p, out)),
                    (k, _) if k.starts_with("x-") => {}
                    _ => references(child, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|item| references(item, out)),
        _ => {}
    }
}

#[test]
fn v2_matches_the_recorded_configmap_path_and_top_level() {
    let recorded = recorded_body("discovery_openapi_v2", 0);
    let ours = builtin_v2();
    let path = "/api/v1/namespaces/{namespace}/configmaps/{name}";
    assert_eq!(ours["paths"][path], recorded["paths"][path]);
    // Byte-for-byte key order too, so the protobuf and any hash follow upstream.
    assert_eq!(ours["paths"][path].to_string(), recorded["paths"][path].to_string());
    for key in ["swagger", "info", "securityDefinitions", "security"] {
        assert_eq!(ours[key], recorded[key], "{key}");
    }
    for (name, definition) in recorded["definitions"].as_object().expect("definitions") {
        assert_eq!(&ours["definitions"][name], definition, "{name}");
    }
    // Shared parameters we use are the recorded ones, under the same names.
    for (name, parameter) in ours["parameters"].as_object().expect("parameters") {
        assert_eq!(&recorded["parameters"][name], parameter, "{name}");
    }
    let top: Vec<&String> = ours.as_object().expect("object").keys().collect();
    assert_eq!(
        top,
        [
            "swagger",
            "info",
            "parameters",
            "securityDefinitions",
            "security",
            "paths",
            "definitions"
        ]
    );
}

#[test]
fn v2_references_resolve_and_operations_are_labelled() {
    let ours = builtin_v2();
    let mut refs = Vec::new();
    references(&ours, &mut refs);
    assert!(refs.len() > 100);
    for reference in refs {
        let target = if let Some(name) = reference.strip_prefix("#/definitions/") {
            &ours["definitions"][name]
        } else if let Some(name) = reference.strip_prefix("#/parameters/") {
            &ours["parameters"][name]
        } else {
            panic!("unexpected reference {reference}")
        };
        assert!(target.is_object(), "{reference} resolves");
    }
    let cases = [
        (
            "/api/v1/namespaces/{namespace}/configmaps",
            "get",
            "listCoreV1NamespacedConfigMap",
            Some("list"),
        ),
        (
            "/api/v1/namespaces/{namespace}/configmaps",
            "post",
            "createCoreV1NamespacedConfigMap",
            Some("post"),
        ),
        (
            "/api/v1/namespaces/{namespace}/configmaps",
            "delete",
            "deleteCoreV1CollectionNamespacedConfigMap",
            Some("deletecollection"),
        ),
        (
            "/api/v1/configmaps",
            "get",
            "listCoreV1ConfigMapForAllNamespaces",
            Some("list"),
        ),
        (
            "/api/v1/watch/configmaps",
            "get",
            "watchCoreV1ConfigMapListForAllNamespaces",
            Some("watchlist"),
        ),
        (
            "/api/v1/watch/namespaces/{namespace}/configmaps/{name}",
            "get",
            "watchCoreV1NamespacedConfigMap",
            Some("watch"),
        ),
        ("/api/v1/namespaces/{name}", "get", "readCoreV1Namespace", Some("get")),
        (
            "/api/v1/namespaces/{name}/status",
            "patch",
            "patchCoreV1NamespaceStatus",
            Some("patch"),
        ),
        (
            "/api/v1/namespaces/{name}/finalize",
            "put",
            "replaceCoreV1NamespaceFinalize",
            Some("put"),
        ),
        (
            "/api/v1/namespaces/{namespace}/serviceaccounts/{name}/token",
            "post",
            "createCoreV1NamespacedServiceAccountToken",
            Some("post"),
        ),
        (
            "/apis/rbac.authorization.k8s.io/v1/clusterroles/{name}",
            "put",
            "replaceRbacAuthorizationV1ClusterRole",
            Some("put"),
        ),
        (
            "/apis/rbac.authorization.k8s.io/v1/watch/clusterroles",
            "get",
            "watchRbacAuthorizationV1ClusterRoleList",
            Some("watchlist"),
        ),
        (
            "/apis/coordination.k8s.io/v1/namespaces/{namespace}/leases/{name}",
            "patch",
            "patchCoordinationV1NamespacedLease",
            Some("patch"),
        ),
        (
            "/apis/events.k8s.io/v1/events",
            "get",
            "listEventsV1EventForAllNamespaces",
            Some("list"),
        ),
        (
            "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/{name}/status",
            "get",
            "readApiextensionsV1CustomResourceDefinitionStatus",
            Some("get"),
        ),
        ("/api/", "get", "getCoreAPIVersions", None),
        ("/api/v1/", "get", "getCoreV1APIResources", None),
        ("/apis/", "get", "getAPIVersions", None),
        (
            "/apis/rbac.authorization.k8s.io/",
            "get",
            "getRbacAuthorizationAPIGroup",
            None,
        ),
        (
            "/apis/rbac.authorization.k8s.io/v1/",
            "get",
            "getRbacAuthorizationV1APIResources",
            None,
        ),
        ("/version/", "get", "getCodeVersion", None),
    ];
    for (path, method, operation_id, action) in cases {
        let operation = &ours["paths"][path][method];
        assert_eq!(operation["operationId"], json!(operation_id), "{method} {path}");
        assert_eq!(
            operation.get("x-kubernetes-action").and_then(Value::as_str),
            action,
            "{method} {path}"
        );
    }
    assert_eq!(
        ours["paths"]["/api/v1/namespaces/{namespace}/serviceaccounts/{name}/token"]["post"]
            ["x-kubernetes-group-version-kind"],
        json!({"group": "authentication.k8s.io", "kind": "TokenRequest", "version": "v1"})
    );
    assert_eq!(
        ours["paths"]["/api/v1/namespaces/{namespace}/serviceaccounts/{name}"]["delete"]["responses"]["200"]["schema"]
            ["$ref"],
        json!("#/definitions/io.k8s.api.core.v1.ServiceAccount")
    );
    // Reached only through JSONSchemaProps' property named `x-kubernetes-validations` (kubectl rejects the
    // whole protobuf document when a reference dangles).
    assert!(ours["definitions"]["io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.ValidationRule"].is_object());
    // Namespaces have no deletecollection upstream.
    assert!(ours["paths"]["/api/v1/namespaces"].get("delete").is_none());
    assert!(ours["definitions"].get("io.k8s.api.core.v1.Pod").is_none());
}

#[test]
fn v3_matches_the_recorded_core_v1_configmap_paths() {
    let recorded = recorded_body("discovery_openapi_v3_core_v1", 0);
    let resources = builtin_resources();
    let v3 = build_v3(&ApiSurface::new(Definitions::builtin(), &resources)).expect("builds");
    let document: Value = serde_json::from_slice(&v3.document("api/v1").expect("api/v1").json).expect("json");
    for (path, item) in recorded["paths"].as_object().expect("paths") {
        assert_eq!(&document["paths"][path], item, "{path}");
        assert_eq!(
            document["paths"][path].to_string(),
            item.to_string(),
            "{path} key order"
        );
    }
    for key in ["openapi", "info"] {
        assert_eq!(document[key], recorded[key], "{key}");
    }
    assert_eq!(
        document["components"]["securitySchemes"],
        recorded["components"]["securitySchemes"]
    );
    // Schemas match upstream except `default: {}` on non-pointer struct fields, which v2 data does not carry.
    for (name, schema) in recorded["components"]["schemas"].as_object().expect("schemas") {
        assert_eq!(
            without_defaults(&document["components"]["schemas"][name]),
            without_defaults(schema),
            "{name}"
        );
    }
}

fn without_defaults(value: &Value) -> Value {
    match value {
        Value::Object(object) => object
            .iter()
            .filter(|(k, _)| *k != "default")
            .map(|(k, v)| (k.clone(), without_defaults(v)))
            .collect(),
        Value::Array(items) => items.iter().map(without_defaults).collect(),
        other => other.clone(),
    }
}

#[test]
fn v3_index_lists_every_document_with_its_hash() {
    let recorded = recorded_body("discovery_openapi_v3_index", 0);
    let resources = builtin_resources();
    let v3 = build_v3(&ApiSurface::new(Definitions::builtin(), &resources)).expect("builds");
    let index = v3.index();
    let ours: Vec<&String> = index["paths"].as_object().expect("paths").keys().collect();
    assert_eq!(
        ours,
        [
            "api",
            "api/v1",
            "apis",
            "apis/apiextensions.k8s.io",
            "apis/apiextensions.k8s.io/v1",
            "apis/coordination.k8s.io",
            "apis/coordination.k8s.io/v1",
            "apis/events.k8s.io",
            "apis/events.k8s.io/v1",
            "apis/rbac.authorization.k8s.io",
            "apis/rbac.authorization.k8s.io/v1",
            "version"
        ]
    );
    for key in ours {
        assert!(recorded["paths"].get(key).is_some(), "upstream serves {key} too");
        let document = v3.document(key).expect("document");
        let url = index["paths"][key]["serverRelativeURL"].as_str().expect("url");
        assert_eq!(
            url,
            format!("/openapi/v3/{key}?hash={}", sha512_upper_hex(&document.json))
        );
        assert_eq!(document.hash.len(), 128);
        let parsed: Value = serde_json::from_slice(&document.json).expect("json");
        let mut refs = Vec::new();
        references(&parsed, &mut refs);
        for reference in refs {
            let name = reference
                .strip_prefix("#/components/schemas/")
                .expect("component reference");
            assert!(parsed["components"]["schemas"][name].is_object(), "{key}: {reference}");
        }
    }
    // Deterministic: the same input gives the same bytes and hashes.
    let again = build_v3(&ApiSurface::new(Definitions::builtin(), &resources)).expect("builds");
    assert_eq!(again, v3);
}

fn widget(definitions: &mut Definitions) -> ServedResource {
    definitions.insert(
        "com.example.corpus.v1.Widget".to_owned(),
        json!({"type": "object", "properties": {
            "metadata": {"$ref": "#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"},
            "spec": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}},
            "x-kubernetes-group-version-kind": [{"group": "corpus.example.com", "kind": "Widget", "version": "v1"}]}),
    );
    definitions.insert(
        "com.example.corpus.v1.WidgetList".to_owned(),
        json!({"type": "object", "properties": {"items": {"type": "array",
            "items": {"$ref": "#/definitions/com.example.corpus.v1.Widget"}}}}),
    );
    let mut widget = ServedResource::builtin(
        "corpus.example.com",
        "v1",
        "widgets",
        "Widget",
        true,
        "com.example.corpus.v1",
    );
    widget.custom_resource = true;
    widget.subresources = vec![ServedSubresource::status(&widget), ServedSubresource::scale()];
    widget
}

#[test]
fn custom_resources_match_the_recorded_crd_document_layout() {
    let recorded = recorded_body("crd_openapi", 1);
    let mut definitions = Definitions::builtin().clone();
    let resources = [widget(&mut definitions)];
    let v3 = build_v3(&ApiSurface::new(&definitions, &resources)).expect("builds");
    let document: Value =
        serde_json::from_slice(&v3.document("apis/corpus.example.com/v1").expect("document").json).expect("json");
    let recorded_paths = recorded["paths"].as_object().expect("paths");
    for (path, item) in recorded_paths {
        let ours = &document["paths"][path];
        for (method, operation) in item.as_object().expect("item") {
            if method == "parameters" {
                let names = |v: &Value| -> Vec<Value> {
                    v.as_array().into_iter().flatten().map(|p| p["name"].clone()).collect()
                };
                assert_eq!(names(&ours[method]), names(operation), "{path} parameters");
                continue;
            }
            for key in [
                "operationId",
                "tags",
                "x-kubernetes-action",
                "x-kubernetes-group-version-kind",
            ] {
                assert_eq!(ours[method][key], operation[key], "{method} {path} {key}");
            }
            let codes = |v: &Value| -> Vec<String> {
                v["responses"]
                    .as_object()
                    .into_iter()
                    .flatten()
                    .map(|(k, _)| k.clone())
                    .collect()
            };
            assert_eq!(codes(&ours[method]), codes(operation), "{method} {path} responses");
            let media = |v: &Value| -> Vec<String> {
                v["responses"]["200"]["content"]
                    .as_object()
                    .into_iter()
                    .flatten()
                    .map(|(k, _)| k.clone())
                    .collect()
            };
            assert_eq!(media(&ours[method]), media(operation), "{method} {path} media types");
        }
    }
    assert_eq!(document["info"], recorded["info"]);
    let recorded_schemas: Vec<&String> = recorded["components"]["schemas"]
        .as_object()
        .expect("schemas")
        .keys()
        .collect();
    let our_schemas: Vec<&String> = document["components"]["schemas"]
        .as_object()
        .expect("schemas")
        .keys()
        .collect();
    assert_eq!(our_schemas, recorded_schemas);
}

#[test]
fn unknown_definitions_are_errors_not_dangling_references() {
    let mut resource = ServedResource::builtin("example.com", "v1", "things", "Thing", false, "com.example.v1");
    resource.verbs = vec![Verb::Get];
    let resources = [resource];
    let surface = ApiSurface::new(Definitions::builtin(), &resources);
    let expected = Err(OpenApiError::UnknownDefinition("com.example.v1.Thing".to_owned()));
    assert_eq!(build_v2(&surface).map(|_| ()), expected);
    assert_eq!(build_v3(&surface).map(|_| ()), expected);
}

#[test]
fn verbs_select_operations() {
    let mut definitions = Definitions::builtin().clone();
    let mut resource = widget(&mut definitions);
    resource.subresources.clear();
    resource.verbs = vec![Verb::Get, Verb::List];
    let resources = [resource];
    let v2 = build_v2(&ApiSurface::new(&definitions, &resources)).expect("builds");
    let paths: Vec<&String> = v2["paths"].as_object().expect("paths").keys().collect();
    assert_eq!(
        paths,
        [
            "/apis/",
            "/apis/corpus.example.com/",
            "/apis/corpus.example.com/v1/namespaces/{namespace}/widgets",
            "/apis/corpus.example.com/v1/namespaces/{namespace}/widgets/{name}",
            "/apis/corpus.example.com/v1/widgets",
            "/version/",
        ]
    );
    let item = &v2["paths"]["/apis/corpus.example.com/v1/namespaces/{namespace}/widgets/{name}"];
    let methods: Vec<&String> = item.as_object().expect("item").keys().collect();
    assert_eq!(methods, ["get", "parameters"]);
    assert_eq!(item["get"]["produces"], json!(["application/json", "application/yaml"]));
}

#[test]
fn v3_schema_wraps_references_with_siblings() {
    let cases = [
        (
            json!({"$ref": "#/definitions/a.B"}),
            json!({"$ref": "#/components/schemas/a.B"}),
        ),
        (
            json!({"description": "d", "$ref": "#/definitions/a.B"}),
            json!({"description": "d", "allOf": [{"$ref": "#/components/schemas/a.B"}]}),
        ),
        (
            json!({"type": "array", "items": {"$ref": "#/definitions/a.B"}, "x-kubernetes-list-type": "atomic"}),
            json!({"type": "array", "items": {"$ref": "#/components/schemas/a.B"}, "x-kubernetes-list-type": "atomic"}),
        ),
        (
            json!({"properties": {"$ref": {"type": "string"}}}),
            json!({"properties": {"$ref": {"type": "string"}}}),
        ),
    ];
    for (v2, v3) in cases {
        assert_eq!(v3_schema(&v2), v3, "{v2}");
    }
}
