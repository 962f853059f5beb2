//! FieldsV1: byte order as kube-apiserver writes it, and decoding what it writes.

use kapi_apply::{Path, PathElement, Set};
use serde_json::{json, Value};

fn text(set: &Set) -> String {
    serde_json::to_string(&set.to_fields_v1()).expect("serializable")
}

#[test]
fn members_and_children_are_written_in_upstream_order() {
    let mut set = Set::new();
    let key = PathElement::Key(vec![("name".to_owned(), json!("web")), ("port".to_owned(), json!(80))]);
    set.insert(&[PathElement::field("spec"), PathElement::field("ports"), key.clone()]);
    set.insert(&[
        PathElement::field("spec"),
        PathElement::field("ports"),
        key,
        PathElement::field("port"),
    ]);
    set.insert(&[
        PathElement::field("spec"),
        PathElement::field("tags"),
        PathElement::Value(json!("b")),
    ]);
    set.insert(&[
        PathElement::field("spec"),
        PathElement::field("tags"),
        PathElement::Value(json!("a")),
    ]);
    set.insert(&[PathElement::field("spec"), PathElement::field("Zeta")]);
    set.insert(&[PathElement::field("data"), PathElement::field("a<b")]);
    assert_eq!(
        text(&set),
        r#"{"f:data":{"f:a<b":{}},"f:spec":{"f:Zeta":{},"f:ports":{"k:{\"name\":\"web\",\"port\":80}":{".":{},"f:port":{}}},"f:tags":{"v:\"a\"":{},"v:\"b\"":{}}}}"#
    );
}

#[test]
fn values_in_keys_are_escaped_as_go_does() {
    let mut set = Set::new();
    set.insert(&[PathElement::field("list"), PathElement::Value(json!("<a&b>"))]);
    assert_eq!(text(&set), r#"{"f:list":{"v:\"\\u003ca\\u0026b\\u003e\"":{}}}"#);
}

#[test]
fn elements_order_fields_keys_values_indexes() {
    let mut elements = [
        PathElement::Index(0),
        PathElement::Value(json!("x")),
        PathElement::Value(json!(5)),
        PathElement::Key(vec![("a".to_owned(), json!(1))]),
        PathElement::field("z"),
        PathElement::Value(json!(true)),
    ];
    elements.sort();
    let encoded: Vec<String> = elements.iter().map(PathElement::encode).collect();
    assert_eq!(encoded, ["f:z", "k:{\"a\":1}", "v:5", "v:\"x\"", "v:true", "i:0"]);
}

#[test]
fn decoding_reads_members_markers_and_keys() {
    let fields = json!({"f:metadata": {"f:labels": {".": {}, "f:app": {}}},
        "f:spec": {"f:ports": {"k:{\"protocol\":\"TCP\",\"port\":80}": {".": {}, "f:port": {}}}},
        "x:unknown": {}});
    let set = Set::from_fields_v1(&fields).expect("valid");
    let paths: Vec<String> = set.paths().iter().map(Path::to_string).collect();
    assert_eq!(
        paths,
        [
            ".metadata.labels",
            ".metadata.labels.app",
            ".spec.ports[port=80,protocol=\"TCP\"]",
            ".spec.ports[port=80,protocol=\"TCP\"].port"
        ]
    );
    // Key fields are sorted by name when written back.
    let written = set.to_fields_v1();
    assert!(written["f:spec"]["f:ports"]
        .get("k:{\"port\":80,\"protocol\":\"TCP\"}")
        .is_some());
}

#[test]
fn encode_decode_round_trips() {
    let fields = json!({"f:data": {".": {}, "f:a": {}, "f:b": {}}, "f:metadata": {"f:finalizers": {".": {},
        "v:\"example.com/x\"": {}}, "f:ownerReferences": {".": {}, "k:{\"uid\":\"u1\"}": {}}}});
    let set = Set::from_fields_v1(&fields).expect("valid");
    assert_eq!(set.to_fields_v1(), fields);
    assert_eq!(
        serde_json::to_string(&set.to_fields_v1()).expect("text"),
        serde_json::to_string(&fields).expect("text")
    );
}

#[test]
fn malformed_fields_are_errors_not_panics() {
    for bad in [
        json!({"f": {}}),
        json!({"k:[1]": {}}),
        json!({"v:{": {}}),
        json!({"i:x": {}}),
        json!(3),
    ] {
        assert!(Set::from_fields_v1(&bad).is_err(), "{bad}");
    }
    assert_eq!(Set::from_fields_v1(&Value::Null).expect("null is empty"), Set::new());
}

#[test]
fn set_algebra() {
    let a: Set = [
        Path::fields(&["a", "b"]),
        Path::fields(&["a", "c"]),
        Path::fields(&["d"]),
    ]
    .into_iter()
    .collect();
    let b: Set = [Path::fields(&["a", "b"]), Path::fields(&["d", "e"])]
        .into_iter()
        .collect();
    let difference: Vec<String> = a.difference(&b).paths().iter().map(Path::to_string).collect();
    assert_eq!(difference, [".d", ".a.c"]);
    let intersection: Vec<String> = a.intersection(&b).paths().iter().map(Path::to_string).collect();
    assert_eq!(intersection, [".a.b"]);
    let parent: Set = [Path::fields(&["a"])].into_iter().collect();
    assert_eq!(a.recursive_difference(&parent).paths(), vec![Path::fields(&["d"])]);
    assert_eq!(a.union(&b).len(), 4);
}
