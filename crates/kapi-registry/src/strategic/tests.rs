use kapi_openapi::{Definitions, SchemaNode};
use serde_json::{json, Value};

use super::*;

fn schema(definition: &str) -> Option<SchemaNode<'static>> {
    Some(SchemaNode::definition(Definitions::builtin(), definition).expect("a built-in definition"))
}

fn service_account() -> Option<SchemaNode<'static>> {
    schema("io.k8s.api.core.v1.ServiceAccount")
}

fn patched(mut target: Value, patch: Value, schema: Option<SchemaNode<'_>>) -> Value {
    strategic_merge_patch(&mut target, &patch, schema).expect("the patch applies");
    target
}

fn error(target: Value, patch: Value, schema: Option<SchemaNode<'_>>) -> StrategicMergeError {
    let mut target = target;
    strategic_merge_patch(&mut target, &patch, schema).expect_err("the patch is refused")
}

#[test]
fn merge_key_lists_put_new_items_first_and_delete() {
    let sa = json!({"secrets": [{"name": "s1"}, {"name": "s2"}]});
    let sa = patched(sa, json!({"secrets": [{"name": "s3"}]}), service_account());
    assert_eq!(sa["secrets"], json!([{"name": "s3"}, {"name": "s1"}, {"name": "s2"}]));
    let sa = patched(
        sa,
        json!({"secrets": [{"name": "s1", "$patch": "delete"}]}),
        service_account(),
    );
    assert_eq!(sa["secrets"], json!([{"name": "s3"}, {"name": "s2"}]));
    assert_eq!(
        error(sa, json!({"secrets": [{"$patch": "delete"}]}), service_account()),
        StrategicMergeError::Malformed("map: map[$patch:delete] does not contain declared merge key: name".to_owned())
    );
}

#[test]
fn a_patch_item_between_server_items_keeps_the_server_order() {
    let sa = json!({"secrets": [{"name": "a"}, {"name": "b", "x": 1}, {"name": "c"}]});
    let sa = patched(
        sa,
        json!({"secrets": [{"name": "b", "x": 2}, {"name": "new"}]}),
        service_account(),
    );
    assert_eq!(
        sa["secrets"],
        json!([{"name": "a"}, {"name": "b", "x": 2}, {"name": "new"}, {"name": "c"}])
    );
}

#[test]
fn lists_without_merge_strategy_are_replaced_and_schemaless_patches_merge_maps_only() {
    let object = json!({"metadata": {"finalizers": ["a/x", "a/y"]}, "data": {"a": "1", "b": "2"}, "rules": [1, 2]});
    let patch = json!({"data": {"b": null, "c": "3"}, "rules": [3],
        "metadata": {"$deleteFromPrimitiveList/finalizers": ["a/x"], "labels": {"$patch": "replace", "k": "v"}}});
    assert_eq!(
        patched(object, patch, schema("io.k8s.api.core.v1.ConfigMap")),
        json!({"metadata": {"finalizers": ["a/y"]}, "data": {"a": "1", "c": "3"}, "rules": [3]})
    );
    assert_eq!(
        patched(json!({"list": [1, 2]}), json!({"list": [2, 3]}), None),
        json!({"list": [2, 3]})
    );
}

#[test]
fn primitive_merge_lists_are_sets_in_patch_order() {
    let cm = schema("io.k8s.api.core.v1.ConfigMap");
    let object = json!({"metadata": {"finalizers": ["a", "b"]}});
    assert_eq!(
        patched(object.clone(), json!({"metadata": {"finalizers": ["a", "c"]}}), cm),
        json!({"metadata": {"finalizers": ["a", "c", "b"]}})
    );
    assert_eq!(
        patched(object, json!({"metadata": {"finalizers": ["b", "b", "d"]}}), cm),
        json!({"metadata": {"finalizers": ["a", "b", "d"]}})
    );
}

#[test]
fn set_element_order_reorders_merged_lists() {
    let sa = json!({"secrets": [{"name": "a"}, {"name": "b"}, {"name": "c"}]});
    let reordered = patched(
        sa.clone(),
        json!({"$setElementOrder/secrets": [{"name": "c"}, {"name": "a"}], "secrets": [{"name": "a", "x": 1}]}),
        service_account(),
    );
    assert_eq!(
        reordered["secrets"],
        json!([{"name": "b"}, {"name": "c"}, {"name": "a", "x": 1}])
    );
    let mismatch = error(
        sa,
        json!({"$setElementOrder/secrets": [{"name": "a"}], "secrets": [{"name": "b"}]}),
        service_account(),
    );
    assert_eq!(
        mismatch.message(),
        "the order in patch list:\n[map[name:b]]\n doesn't match $setElementOrder list:\n[map[name:a]]"
    );
}

#[test]
fn map_and_list_directives() {
    let sa = json!({"metadata": {"labels": {"a": "1"}}, "secrets": [{"name": "a"}, {"name": "b"}]});
    let replaced = patched(
        sa.clone(),
        json!({"metadata": {"labels": {"$patch": "replace", "b": "2"}}, "secrets": [{"$patch": "replace"}, {"name": "z"}]}),
        service_account(),
    );
    assert_eq!(replaced["metadata"]["labels"], json!({"b": "2"}));
    assert_eq!(replaced["secrets"], json!([{"name": "z"}]));
    let deleted = patched(
        sa.clone(),
        json!({"metadata": {"labels": {"$patch": "delete"}}}),
        service_account(),
    );
    assert_eq!(deleted["metadata"]["labels"], json!({}));
    // A `$patch` map the object does not have is dropped, as are nulls in new values.
    let added = patched(
        json!({}),
        json!({"metadata": {"labels": {"$patch": "replace", "x": "y"}, "annotations": {"a": null, "b": "1"}}}),
        service_account(),
    );
    assert_eq!(added, json!({"metadata": {"annotations": {"b": "1"}}}));
    assert_eq!(
        error(
            sa.clone(),
            json!({"secrets": [{"name": "a", "$patch": "merge"}]}),
            service_account()
        )
        .message(),
        "merging lists cannot yet be specified in the patch"
    );
    assert_eq!(
        error(sa, json!({"$patch": "frobnicate"}), service_account()),
        StrategicMergeError::Malformed("unknown patch type: frobnicate in map: map[$patch:frobnicate]".to_owned())
    );
}

#[test]
fn retain_keys_clears_unlisted_fields_and_checks_the_patch() {
    let strategy = json!({"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1}});
    assert_eq!(
        patched(
            strategy.clone(),
            json!({"$retainKeys": ["type"], "type": "Recreate"}),
            None
        ),
        json!({"type": "Recreate"})
    );
    assert_eq!(
        error(
            strategy.clone(),
            json!({"$retainKeys": ["type"], "rollingUpdate": {}}),
            None
        ),
        StrategicMergeError::BadRequest("invalid patch format of retainKeys".to_owned())
    );
    assert_eq!(
        error(strategy, json!({"$retainKeys": "type"}), None),
        StrategicMergeError::BadRequest("invalid patch format of retainKeys".to_owned())
    );
}

#[test]
fn malformed_directives_and_item_types() {
    let cm = schema("io.k8s.api.core.v1.ConfigMap");
    let object = json!({"metadata": {"finalizers": ["a"]}});
    assert_eq!(
        error(
            object.clone(),
            json!({"metadata": {"$deleteFromPrimitiveListX/finalizers": ["a"]}}),
            cm
        ),
        StrategicMergeError::BadRequest("invalid patch format of primitive list".to_owned())
    );
    assert_eq!(
        error(object.clone(), json!({"metadata": {"$setElementOrder": ["a"]}}), cm),
        StrategicMergeError::BadRequest("invalid patch format of setElementOrder list".to_owned())
    );
    assert_eq!(
        error(
            json!({"metadata": {"finalizers": []}}),
            json!({"metadata": {"finalizers": [["x"]]}}),
            cm
        ),
        StrategicMergeError::Unprocessable("lists of lists are not supported".to_owned())
    );
    assert_eq!(
        error(object, json!({"metadata": {"finalizers": [1]}}), cm).message(),
        "list element types are not identical: [[a] [1]]"
    );
}

#[test]
fn set_element_order_of_a_replaced_list_orders_the_patch_list_once() {
    let namespace = json!({"spec": {"finalizers": ["x"]}});
    let patch = json!({"spec": {"$setElementOrder/finalizers": ["b", "a"], "finalizers": ["b", "a"]}});
    assert_eq!(
        patched(namespace, patch, schema("io.k8s.api.core.v1.Namespace"))["spec"]["finalizers"],
        json!(["b", "a"])
    );
    // Objects cannot be ordered without a merge key (upstream's error, with an empty key).
    let (first, second) = (json!({"verbs": ["list"]}), json!({"verbs": ["watch"]}));
    let patch = json!({"$setElementOrder/rules": [second, first], "rules": [second, first]});
    assert_eq!(
        error(json!({"rules": []}), patch, schema("io.k8s.api.rbac.v1.Role")).message(),
        "map: map[verbs:[watch]] does not contain declared merge key: "
    );
}
