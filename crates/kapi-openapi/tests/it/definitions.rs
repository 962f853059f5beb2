use kapi_openapi::{Definitions, OpenApiError};
use serde_json::json;

#[test]
fn builtin_definitions_by_name_and_gvk() {
    let definitions = Definitions::builtin();
    assert_eq!(definitions.kubernetes_version(), "1.36");
    let cases = [
        ("", "v1", "ConfigMap", "io.k8s.api.core.v1.ConfigMap"),
        ("", "v1", "NamespaceList", "io.k8s.api.core.v1.NamespaceList"),
        ("events.k8s.io", "v1", "Event", "io.k8s.api.events.v1.Event"),
        ("", "v1", "Event", "io.k8s.api.core.v1.Event"),
        ("coordination.k8s.io", "v1", "Lease", "io.k8s.api.coordination.v1.Lease"),
        (
            "rbac.authorization.k8s.io",
            "v1",
            "ClusterRoleBinding",
            "io.k8s.api.rbac.v1.ClusterRoleBinding",
        ),
        (
            "apiextensions.k8s.io",
            "v1",
            "CustomResourceDefinition",
            "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.CustomResourceDefinition",
        ),
        ("", "v1", "Status", "io.k8s.apimachinery.pkg.apis.meta.v1.Status"),
        (
            "meta.k8s.io",
            "v1",
            "Table",
            "io.k8s.apimachinery.pkg.apis.meta.v1.Table",
        ),
        (
            "meta.k8s.io",
            "v1",
            "PartialObjectMetadataList",
            "io.k8s.apimachinery.pkg.apis.meta.v1.PartialObjectMetadataList",
        ),
        (
            "rbac.authorization.k8s.io",
            "v1",
            "DeleteOptions",
            "io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions",
        ),
        (
            "authentication.k8s.io",
            "v1",
            "TokenRequest",
            "io.k8s.api.authentication.v1.TokenRequest",
        ),
        ("autoscaling", "v1", "Scale", "io.k8s.api.autoscaling.v1.Scale"),
    ];
    for (group, version, kind, name) in cases {
        let (found, schema) = definitions
            .by_gvk(group, version, kind)
            .unwrap_or_else(|| panic!("{group}/{version} {kind}"));
        assert_eq!(found, name);
        assert_eq!(definitions.get(name), Some(schema));
    }
    assert!(
        definitions.by_gvk("apps", "v1", "Deployment").is_some(),
        "served opt-in"
    );
    assert!(definitions.by_gvk("apps", "v1", "ReplicaSet").is_none());
    assert!(definitions.get("io.k8s.api.core.v1.Pod").is_none());
}

#[test]
fn builtin_definitions_are_closed_under_references() {
    let definitions = Definitions::builtin();
    let all = definitions.closure(definitions.names()).expect("every $ref resolves");
    assert_eq!(all.len(), definitions.len());
    // Swagger 2.0 form: no JSON-schema-isms left from the package.
    let text = serde_json::to_string(&all.iter().map(|n| definitions.get(n)).collect::<Vec<_>>()).expect("json");
    // (`oneOf` is also a property name of JSONSchemaProps; as a keyword its value is an array.)
    for needle in ["$defs", "\"null\"", "\"oneOf\":["] {
        assert!(!text.contains(needle), "{needle} left in the data");
    }
}

#[test]
fn custom_definitions_join_the_index() {
    let mut definitions = Definitions::builtin().clone();
    let widget = json!({
        "type": "object",
        "properties": {"metadata": {"$ref": "#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"}},
        "x-kubernetes-group-version-kind": [{"group": "corpus.example.com", "kind": "Widget", "version": "v1"}]
    });
    definitions.insert("com.example.corpus.v1.Widget".to_owned(), widget);
    let (name, _) = definitions
        .by_gvk("corpus.example.com", "v1", "Widget")
        .expect("indexed");
    assert_eq!(name, "com.example.corpus.v1.Widget");
    let closure = definitions.closure(["com.example.corpus.v1.Widget"]).expect("closed");
    assert!(closure.contains("io.k8s.apimachinery.pkg.apis.meta.v1.ManagedFieldsEntry"));
    // Replacing it with another GVK moves the index entry.
    definitions.insert(
        "com.example.corpus.v1.Widget".to_owned(),
        json!({"x-kubernetes-group-version-kind": [{"group": "corpus.example.com", "kind": "Gadget", "version": "v1"}]}),
    );
    assert!(definitions.by_gvk("corpus.example.com", "v1", "Widget").is_none());
    assert!(definitions.by_gvk("corpus.example.com", "v1", "Gadget").is_some());
    assert_eq!(
        definitions.closure(["com.example.corpus.v1.Missing"]),
        Err(OpenApiError::UnknownDefinition(
            "com.example.corpus.v1.Missing".to_owned()
        ))
    );
}

#[test]
fn malformed_definition_files_are_errors() {
    for text in ["", "{", "[]", "{\"definitions\": 3}"] {
        assert!(
            matches!(Definitions::from_json(text), Err(OpenApiError::Data(_))),
            "{text:?}"
        );
    }
    let parsed = Definitions::from_json("{\"kubernetesVersion\": \"1.36\", \"definitions\": {}}").expect("valid");
    assert!(parsed.is_empty());
}
