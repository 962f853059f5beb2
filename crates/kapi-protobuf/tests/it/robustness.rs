//! Hostile and damaged input: every byte string decodes to a value or an error, never a panic, and whatever
//! decodes re-encodes and decodes to the same value.

use proptest::prelude::*;
use serde_json::json;

use crate::gvk;

fn sample_bodies() -> Vec<Vec<u8>> {
    let configmap = json!({
        "metadata": {"name": "cm", "namespace": "ns", "labels": {"a": "b"}, "creationTimestamp": "2024-01-02T03:04:05Z",
                     "managedFields": [{"manager": "m", "operation": "Apply", "fieldsType": "FieldsV1", "fieldsV1": {"f:data": {}}}]},
        "data": {"k": "v"},
        "binaryData": {"b": "AAEC"}
    });
    let role =
        json!({"metadata": {"name": "r"}, "rules": [{"verbs": ["get"], "apiGroups": [""], "resources": ["pods"]}]});
    vec![
        kapi_protobuf::encode(&gvk("v1", "ConfigMap"), &configmap).expect("encodes"),
        kapi_protobuf::encode(&gvk("rbac.authorization.k8s.io/v1", "Role"), &role).expect("encodes"),
    ]
}

fn check(data: &[u8]) {
    if let Ok((kind, value)) = kapi_protobuf::decode(data) {
        let again = kapi_protobuf::encode(&kind, &value).expect("decoded values re-encode");
        let (_, value_again) = kapi_protobuf::decode(&again).expect("re-encoded bodies decode");
        assert_eq!(value, value_again);
    }
    let _ = kapi_protobuf::watch::decode_frame(data);
}

#[test]
fn every_truncation_of_a_valid_body_is_handled() {
    for body in sample_bodies() {
        for len in 0..body.len() {
            check(&body[..len]);
        }
    }
}

/// A WatchEvent whose object is an envelope holding a WatchEvent whose object ... `levels` deep, around a
/// ConfigMap.
fn nested_watch_events(levels: usize) -> Vec<u8> {
    let mut body =
        kapi_protobuf::encode(&gvk("v1", "ConfigMap"), &json!({"metadata": {"name": "inner"}})).expect("encodes");
    for _ in 0..levels {
        let mut raw_extension = vec![0x0a];
        push_len(&mut raw_extension, body.len());
        raw_extension.extend_from_slice(&body);
        let mut event = b"\x0a\x05ADDED\x12".to_vec();
        push_len(&mut event, raw_extension.len());
        event.extend_from_slice(&raw_extension);
        let mut envelope = b"k8s\0\x0a\x10\x0a\x02v1\x12\x0aWatchEvent\x12".to_vec();
        push_len(&mut envelope, event.len());
        envelope.extend_from_slice(&event);
        body = envelope;
    }
    body
}

#[test]
fn deeply_nested_embedded_objects_are_refused_not_overflowing_the_stack() {
    let (_, shallow) = kapi_protobuf::decode(&nested_watch_events(3)).expect("a few levels decode");
    assert_eq!(shallow["object"]["object"]["object"]["metadata"]["name"], "inner");
    let error = kapi_protobuf::decode(&nested_watch_events(10_000)).expect_err("too deep");
    assert!(error.to_string().contains("nested too deeply"), "{error}");
}

fn push_len(out: &mut Vec<u8>, mut len: usize) {
    while len >= 0x80 {
        out.push((len as u8) | 0x80);
        len >>= 7;
    }
    out.push(len as u8);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_after_the_magic_never_panic(tail in proptest::collection::vec(any::<u8>(), 0..256)) {
        let mut body = b"k8s\0".to_vec();
        body.extend_from_slice(&tail);
        check(&body);
    }

    #[test]
    fn flipped_bytes_in_valid_bodies_never_panic(
        which in 0usize..2,
        flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
    ) {
        let mut body = sample_bodies().swap_remove(which);
        for (index, byte) in flips {
            let position = index.index(body.len());
            body[position] ^= byte;
        }
        check(&body);
    }
}
