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

/// `value` without object members whose value is `null`. A damaged body can carry a present but zero
/// `metav1.Time` in a pointer field: it decodes to `null`, as Go prints a non-nil zero time, and `null` encodes as
/// an absent field, as Go decodes it to nil. For optional fields the API conventions make `null` and absent the
/// same, so the round trip is compared under that equivalence.
fn without_nulls(value: &serde_json::Value) -> serde_json::Value {
    match value {
        serde_json::Value::Object(map) => map
            .iter()
            .filter(|(_, member)| !member.is_null())
            .map(|(key, member)| (key.clone(), without_nulls(member)))
            .collect(),
        serde_json::Value::Array(items) => items.iter().map(without_nulls).collect(),
        other => other.clone(),
    }
}

fn check(data: &[u8]) {
    if let Ok((kind, value)) = kapi_protobuf::decode(data) {
        let again = kapi_protobuf::encode(&kind, &value).expect("decoded values re-encode");
        let (_, value_again) = kapi_protobuf::decode(&again).expect("re-encoded bodies decode");
        assert_eq!(without_nulls(&value), without_nulls(&value_again));
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

fn label_map() -> impl Strategy<Value = std::collections::BTreeMap<String, String>> {
    proptest::collection::btree_map("[a-z0-9./-]{1,12}", any::<String>(), 0..4)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Objects in Go's canonical JSON form (sorted map keys, whole-second times, no empty maps) are fixed points.
    #[test]
    fn canonical_objects_survive_the_round_trip(
        name in "[a-z0-9-]{1,20}",
        labels in label_map(),
        data in label_map(),
        binary in proptest::collection::btree_map("[a-z]{1,5}", proptest::collection::vec(any::<u8>(), 0..16), 0..3),
        seconds in -62_135_596_799_i64..253_402_300_799,
        micros in 0u32..1_000_000,
        generation in any::<i64>(),
        grace in proptest::option::of(any::<i64>()),
        immutable in proptest::option::of(any::<bool>()),
    ) {
        use base64::Engine;
        let time = kapi_protobuf_test_time(seconds, None);
        let mut metadata = serde_json::Map::new();
        metadata.insert("name".into(), json!(name));
        if generation != 0 {
            metadata.insert("generation".into(), json!(generation));
        }
        metadata.insert("creationTimestamp".into(), json!(time));
        if let Some(grace) = grace {
            metadata.insert("deletionGracePeriodSeconds".into(), json!(grace));
        }
        if !labels.is_empty() {
            metadata.insert("labels".into(), json!(labels));
        }
        let mut configmap = serde_json::Map::new();
        configmap.insert("kind".into(), json!("ConfigMap"));
        configmap.insert("apiVersion".into(), json!("v1"));
        configmap.insert("metadata".into(), serde_json::Value::Object(metadata));
        if let Some(immutable) = immutable {
            configmap.insert("immutable".into(), json!(immutable));
        }
        if !data.is_empty() {
            configmap.insert("data".into(), json!(data));
        }
        if !binary.is_empty() {
            let encoded: std::collections::BTreeMap<_, _> = binary
                .iter()
                .map(|(key, bytes)| (key.clone(), base64::engine::general_purpose::STANDARD.encode(bytes)))
                .collect();
            configmap.insert("binaryData".into(), json!(encoded));
        }
        let configmap = serde_json::Value::Object(configmap);
        let body = kapi_protobuf::encode(&gvk("v1", "ConfigMap"), &configmap).expect("encodes");
        let (_, decoded) = kapi_protobuf::decode(&body).expect("decodes");
        prop_assert_eq!(crate::text(&decoded), crate::text(&configmap));

        let lease = json!({
            "kind": "Lease", "apiVersion": "coordination.k8s.io/v1", "metadata": {"name": name},
            "spec": {"renewTime": kapi_protobuf_test_time(seconds, Some(micros))}
        });
        let body = kapi_protobuf::encode(&gvk("coordination.k8s.io/v1", "Lease"), &lease).expect("encodes");
        let (_, decoded) = kapi_protobuf::decode(&body).expect("decodes");
        prop_assert_eq!(decoded, lease);
    }
}

/// RFC 3339 in UTC the way Go prints metav1.Time (no fraction) or MicroTime (six digits), computed
/// independently of the crate's own formatter (via day counting from 0001-01-01).
fn kapi_protobuf_test_time(unix_seconds: i64, micros: Option<u32>) -> String {
    let since_year_one = unix_seconds + 62_135_596_800;
    let (mut days, second_of_day) = (since_year_one.div_euclid(86_400), since_year_one.rem_euclid(86_400));
    let mut year = 1;
    loop {
        let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
        let length = if leap { 366 } else { 365 };
        if days < length {
            let months = [31, if leap { 29 } else { 28 }, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
            let mut month = 0;
            while days >= months[month] {
                days -= months[month];
                month += 1;
            }
            let fraction = micros.map(|micros| format!(".{micros:06}")).unwrap_or_default();
            return format!(
                "{year:04}-{:02}-{:02}T{:02}:{:02}:{:02}{fraction}Z",
                month + 1,
                days + 1,
                second_of_day / 3600,
                second_of_day / 60 % 60,
                second_of_day % 60
            );
        }
        days -= length;
        year += 1;
    }
}
