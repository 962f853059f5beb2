use kapi_openapi::{Definitions, ListType, MapType, PatchStrategy, SchemaNode};
use serde_json::json;

struct Case {
    definition: &'static str,
    path: &'static [&'static str],
    strategy: Option<PatchStrategy>,
    merge_key: Option<&'static str>,
    list_type: Option<ListType>,
    map_keys: &'static [&'static str],
    map_type: Option<MapType>,
}

const fn case(definition: &'static str, path: &'static [&'static str]) -> Case {
    Case {
        definition,
        path,
        strategy: None,
        merge_key: None,
        list_type: None,
        map_keys: &[],
        map_type: None,
    }
}

#[test]
fn patch_metadata_of_builtin_fields() {
    let sa = "io.k8s.api.core.v1.ServiceAccount";
    let cases = [
        Case {
            strategy: Some(PatchStrategy::Merge),
            merge_key: Some("uid"),
            list_type: Some(ListType::Map),
            map_keys: &["uid"],
            ..case("io.k8s.api.core.v1.ConfigMap", &["metadata", "ownerReferences"])
        },
        Case {
            strategy: Some(PatchStrategy::Merge),
            list_type: Some(ListType::Set),
            ..case("io.k8s.api.core.v1.Secret", &["metadata", "finalizers"])
        },
        Case {
            list_type: Some(ListType::Atomic),
            ..case(sa, &["metadata", "managedFields"])
        },
        Case {
            strategy: Some(PatchStrategy::Merge),
            merge_key: Some("name"),
            list_type: Some(ListType::Map),
            map_keys: &["name"],
            ..case(sa, &["secrets"])
        },
        Case {
            list_type: Some(ListType::Atomic),
            ..case(sa, &["imagePullSecrets"])
        },
        // A field of list items: the path steps into the items implicitly.
        case(sa, &["secrets", "name"]),
        Case {
            list_type: Some(ListType::Atomic),
            ..case("io.k8s.api.rbac.v1.Role", &["rules"])
        },
        Case {
            map_type: Some(MapType::Atomic),
            ..case("io.k8s.api.rbac.v1.RoleBinding", &["roleRef"])
        },
        Case {
            list_type: Some(ListType::Atomic),
            ..case("io.k8s.api.rbac.v1.ClusterRole", &["rules", "verbs"])
        },
        Case {
            map_type: Some(MapType::Atomic),
            ..case("io.k8s.api.core.v1.Event", &["involvedObject"])
        },
        case("io.k8s.api.core.v1.ConfigMap", &["data"]),
        Case {
            list_type: Some(ListType::Map),
            map_keys: &["type"],
            ..case(
                "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.CustomResourceDefinition",
                &["status", "conditions"],
            )
        },
    ];
    let definitions = Definitions::builtin();
    for c in cases {
        let node = SchemaNode::at_path(definitions, c.definition, c.path)
            .unwrap_or_else(|| panic!("{} {:?} exists", c.definition, c.path));
        let at = format!("{} {:?}", c.definition, c.path);
        assert_eq!(node.patch_strategy(), c.strategy, "{at}");
        assert_eq!(node.patch_merge_key(), c.merge_key, "{at}");
        assert_eq!(node.list_type(), c.list_type, "{at}");
        assert_eq!(node.list_map_keys(), c.map_keys, "{at}");
        assert_eq!(node.map_type(), c.map_type, "{at}");
    }
}

#[test]
fn walking_follows_references_lists_and_maps() {
    let definitions = Definitions::builtin();
    let sa = SchemaNode::definition(definitions, "io.k8s.api.core.v1.ServiceAccount").expect("exists");
    let items = sa
        .property("imagePullSecrets")
        .and_then(|list| list.items())
        .expect("a list");
    assert_eq!(items.definition_name(), Some("io.k8s.api.core.v1.LocalObjectReference"));
    assert_eq!(items.map_type(), Some(MapType::Atomic), "declared on the definition");
    assert_eq!(items.type_name(), Some("object"));
    let labels =
        SchemaNode::at_path(definitions, "io.k8s.api.core.v1.ConfigMap", &["metadata", "labels"]).expect("exists");
    assert_eq!(
        labels.additional_properties().and_then(|v| v.type_name()),
        Some("string")
    );
    assert!(SchemaNode::at_path(definitions, "io.k8s.api.core.v1.ConfigMap", &["spec"]).is_none());
    assert!(SchemaNode::at_path(definitions, "io.k8s.api.core.v1.Nope", &[]).is_none());
}

#[test]
fn reference_cycles_and_v3_spelling_do_not_hang() {
    let mut definitions = Definitions::default();
    definitions.insert("a".to_owned(), json!({"$ref": "#/definitions/b"}));
    definitions.insert("b".to_owned(), json!({"$ref": "#/definitions/a"}));
    let node = SchemaNode::definition(&definitions, "a").expect("exists");
    assert_eq!(node.type_name(), None);
    assert_eq!(node.list_type(), None);
    let v3 = json!({"allOf": [{"$ref": "#/components/schemas/c"}], "description": "d"});
    definitions.insert(
        "c".to_owned(),
        json!({"type": "object", "x-kubernetes-map-type": "atomic"}),
    );
    let node = SchemaNode::new(&definitions, &v3);
    assert_eq!(node.definition_name(), Some("c"));
    assert_eq!(node.map_type(), Some(MapType::Atomic));
    assert_eq!(
        PatchStrategy::parse("merge,retainKeys"),
        Some(PatchStrategy::MergeRetainKeys)
    );
    assert!(PatchStrategy::MergeRetainKeys.merges() && PatchStrategy::RetainKeys.retains_keys());
    assert_eq!(PatchStrategy::parse("bogus"), None);
}
