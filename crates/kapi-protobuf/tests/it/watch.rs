//! Protobuf watch streams: length-prefixed raw WatchEvent frames whose object is a full protobuf body.

use kapi_protobuf::watch::{decode_frame, encode_frame, split_frame, MAX_FRAME_LEN};
use serde_json::json;

use crate::gvk;

fn lease() -> serde_json::Value {
    json!({
        "kind": "Lease",
        "apiVersion": "coordination.k8s.io/v1",
        "metadata": {"name": "leader", "namespace": "kube-system", "resourceVersion": "17", "creationTimestamp": "2024-01-02T03:04:05Z"},
        "spec": {
            "holderIdentity": "node-a_5c2e",
            "leaseDurationSeconds": 15,
            "acquireTime": "2024-01-02T03:04:05.123456Z",
            "renewTime": "2024-01-02T03:04:20.654321Z",
            "leaseTransitions": 0
        }
    })
}

#[test]
fn a_frame_is_a_length_prefix_and_a_raw_watch_event_holding_an_enveloped_object() {
    let frame = encode_frame("ADDED", &gvk("coordination.k8s.io/v1", "Lease"), &lease()).expect("encodes");
    let len = u32::from_be_bytes([frame[0], frame[1], frame[2], frame[3]]) as usize;
    assert_eq!(len, frame.len() - 4);
    // No envelope around the event itself: field 1 (type) comes first.
    assert_eq!(&frame[4..11], b"\x0a\x05ADDED");
    // The object inside is the complete protobuf body, envelope included, last in the frame.
    let body = kapi_protobuf::encode(&gvk("coordination.k8s.io/v1", "Lease"), &lease()).expect("encodes");
    assert!(frame.ends_with(&body));

    let (payload, consumed) = split_frame(&frame).expect("valid prefix").expect("complete frame");
    assert_eq!(consumed, frame.len());
    let event = decode_frame(payload).expect("decodes");
    assert_eq!(event.event_type, "ADDED");
    assert_eq!(event.gvk, gvk("coordination.k8s.io/v1", "Lease"));
    assert_eq!(event.object, lease());
}

#[test]
fn frames_split_from_a_stream_arriving_in_pieces() {
    let status = json!({
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": "too old resource version: 1 (5)", "reason": "Expired", "code": 410
    });
    let mut stream = encode_frame("MODIFIED", &gvk("coordination.k8s.io/v1", "Lease"), &lease()).expect("encodes");
    stream.extend(encode_frame("ERROR", &gvk("v1", "Status"), &status).expect("encodes"));

    let mut events = Vec::new();
    let mut buffer = Vec::new();
    for chunk in stream.chunks(7) {
        buffer.extend_from_slice(chunk);
        while let Some((payload, consumed)) = split_frame(&buffer).expect("valid prefix") {
            events.push(decode_frame(payload).expect("decodes"));
            buffer.drain(..consumed);
        }
    }
    assert!(buffer.is_empty());
    let types: Vec<&str> = events.iter().map(|event| event.event_type.as_str()).collect();
    assert_eq!(types, ["MODIFIED", "ERROR"]);
    assert_eq!(events[1].object, status);
}

#[test]
fn an_oversized_length_prefix_is_refused_before_buffering() {
    let prefix = u32::try_from(MAX_FRAME_LEN + 1).expect("fits").to_be_bytes();
    assert!(split_frame(&prefix).is_err());
    assert_eq!(split_frame(&prefix[..3]), Ok(None));
}

#[test]
fn a_frame_without_an_object_is_an_error() {
    assert!(decode_frame(b"\x0a\x05ADDED").is_err());
    assert!(decode_frame(b"\x0a\x05ADDED\x12\x03\x0a\x01{").is_err());
}
