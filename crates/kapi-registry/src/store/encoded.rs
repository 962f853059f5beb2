//! Objects encoded once: the watch cache keeps each object version's API-form JSON with a slot for its
//! `metadata.resourceVersion`, so gets, lists and every watcher write bytes instead of copying and encoding a
//! `Value` per request (a list of 10k objects was ~45% malloc/free before).

use std::sync::Arc;

use bytes::Bytes;
use kapi_core::ApiError;
use serde_json::Value;

/// Stands in for the revision while encoding; it must not occur anywhere else in the output (checked).
const REVISION_MARKER: &str = "\u{1}kapi-resource-version\u{1}";

/// The resourceVersion member as the encoder writes it, up to the digits.
const REVISION_KEY: &[u8] = b"\"resourceVersion\":\"";

/// An object's JSON in API form (kind, apiVersion, metadata, ...) at any revision: `bytes` with `before`,
/// the revision's digits and `after` inserted at `insert_at`. Either `bytes` are the object's own encoding with
/// an empty resourceVersion string (`before`/`after` empty, `insert_at` between its quotes), or — the common
/// case — the stored bytes themselves, shared with storage's copy, with the whole member inserted.
#[derive(Clone, Debug)]
pub(crate) struct EncodedObject {
    bytes: Bytes,
    insert_at: usize,
    before: &'static [u8],
    after: &'static [u8],
    /// Where the members after the leading `kind`/`apiVersion` start: a list item is `{` + the rest, exactly
    /// what removing those two members from the object and encoding it gives. `None` when they do not lead.
    item_start: Option<usize>,
}

impl EncodedObject {
    /// Encodes `api` (an object with a metadata object, with or without `resourceVersion`). Gives the value
    /// back when the marker is not unique in the output; its resourceVersion then holds the marker, which
    /// [`super::set_resource_version`] overwrites in place like any other value. When `stored` (the bytes
    /// storage holds for the object) is this encoding without the resourceVersion member, the result shares
    /// them instead of keeping a copy.
    pub(crate) fn encode(mut api: Value, stored: Option<&Bytes>) -> Result<Self, Value> {
        super::set_resource_version_text(&mut api, REVISION_MARKER.to_owned());
        let Ok(mut bytes) = serde_json::to_vec(&api) else {
            return Err(api);
        };
        let Ok(marker) = serde_json::to_vec(REVISION_MARKER) else {
            return Err(api);
        };
        let marker = marker.as_slice();
        let Some(found) = find(&bytes, marker) else {
            return Err(api);
        };
        if find(&bytes[found + marker.len()..], marker).is_some() {
            return Err(api);
        }
        // Keep the quotes, drop what is between them.
        let revision_at = found + 1;
        bytes.drain(revision_at..found + marker.len() - 1);
        let item_start = leading_type_members(&api)
            .filter(|prefix| {
                prefix.len() <= revision_at && bytes.starts_with(prefix) && bytes.get(prefix.len()) != Some(&b'}')
            })
            .map(|prefix| prefix.len());
        if let Some(shared) = stored.and_then(|stored| Self::sharing(&bytes, revision_at, item_start, stored)) {
            return Ok(shared);
        }
        // The cache keeps these bytes as long as the version lives: drop the growth slack.
        bytes.shrink_to_fit();
        Ok(Self {
            bytes: Bytes::from(bytes),
            insert_at: revision_at,
            before: b"",
            after: b"",
            item_start,
        })
    }

    /// The form over `stored` when `encoded` (with `""` at `revision_at`) is `stored` plus the resourceVersion
    /// member.
    fn sharing(encoded: &[u8], revision_at: usize, item_start: Option<usize>, stored: &Bytes) -> Option<Self> {
        let member_start = revision_at.checked_sub(REVISION_KEY.len())?;
        let member_end = revision_at + 1;
        if encoded.get(member_start..revision_at) != Some(REVISION_KEY) {
            return None;
        }
        // Which comma goes with the member: the one after it, else the one before it, else none (alone).
        let (removed, before, after): (std::ops::Range<usize>, &'static [u8], &'static [u8]) =
            match (encoded.get(member_start.checked_sub(1)?), encoded.get(member_end)) {
                (_, Some(b',')) => (member_start..member_end + 1, REVISION_KEY, b"\","),
                (Some(b','), _) => (member_start - 1..member_end, b",\"resourceVersion\":\"", b"\""),
                _ => (member_start..member_end, REVISION_KEY, b"\""),
            };
        let insert_at = removed.start;
        let same = stored.len() + removed.len() == encoded.len()
            && stored.get(..insert_at) == encoded.get(..insert_at)
            && stored.get(insert_at..) == encoded.get(removed.end..);
        if !same || item_start.is_some_and(|start| start > insert_at) {
            return None;
        }
        Some(Self {
            bytes: stored.clone(),
            insert_at,
            before,
            after,
            item_start,
        })
    }

    /// Encodes `api` (an object whose stored form is its API form) as storage keeps it: without
    /// `metadata.resourceVersion`. Also returns the object's API form over those very bytes, with the slot where
    /// [`super::set_resource_version`] puts the revision, when `api` has a metadata object. This is what
    /// decoding the stored bytes and [`encode`](Self::encode)-ing them again gives, at the cost of one
    /// serialization and without a copy of `api`.
    pub(crate) fn encode_stored(api: &Value) -> serde_json::Result<(Bytes, Option<Self>)> {
        let Some(map) = api.as_object() else {
            return Ok((Bytes::from(serde_json::to_vec(api)?), None));
        };
        let mut out = Vec::with_capacity(256);
        // Where the revision goes and which punctuation goes with it, once metadata is written.
        let mut slot: Option<(usize, &'static [u8], &'static [u8])> = None;
        out.push(b'{');
        for (index, (key, value)) in map.iter().enumerate() {
            if index > 0 {
                out.push(b',');
            }
            serde_json::to_writer(&mut out, key)?;
            out.push(b':');
            match value.as_object() {
                Some(metadata) if key == "metadata" => {
                    out.push(b'{');
                    let members = metadata.iter().filter(|(key, _)| key.as_str() != "resourceVersion");
                    // As `set_resource_version_text`: after the leading name/namespace/uid members.
                    let position = members
                        .clone()
                        .take_while(|(key, _)| {
                            matches!(key.as_str(), "name" | "generateName" | "namespace" | "selfLink" | "uid")
                        })
                        .count();
                    let mut written = 0;
                    for (member, member_value) in members {
                        if written > 0 {
                            out.push(b',');
                        }
                        if written == position {
                            slot = Some((out.len(), REVISION_KEY, b"\","));
                        }
                        serde_json::to_writer(&mut out, member)?;
                        out.push(b':');
                        serde_json::to_writer(&mut out, member_value)?;
                        written += 1;
                    }
                    if written == position {
                        slot = Some(if written == 0 {
                            (out.len(), REVISION_KEY, b"\"")
                        } else {
                            (out.len(), b",\"resourceVersion\":\"", b"\"")
                        });
                    }
                    out.push(b'}');
                }
                _ => serde_json::to_writer(&mut out, value)?,
            }
        }
        out.push(b'}');
        // Storage and the watch cache keep these bytes as long as the version lives: drop the growth slack.
        out.shrink_to_fit();
        let bytes = Bytes::from(out);
        let encoded = slot.map(|(insert_at, before, after)| {
            let item_start = leading_type_members(api)
                .filter(|prefix| {
                    prefix.len() <= insert_at && bytes.starts_with(prefix) && bytes.get(prefix.len()) != Some(&b'}')
                })
                .map(|prefix| prefix.len());
            Self {
                bytes: bytes.clone(),
                insert_at,
                before,
                after,
                item_start,
            }
        });
        Ok((bytes, encoded))
    }

    /// Appends the object at `revision`.
    pub(crate) fn write_object(&self, revision: u64, out: &mut Vec<u8>) {
        self.write_from(0, revision, out);
    }

    /// Appends the object at `revision` without `kind` and `apiVersion` (a list item); `false` (nothing written)
    /// when those members do not lead the object.
    pub(crate) fn write_item(&self, revision: u64, out: &mut Vec<u8>) -> bool {
        let Some(start) = self.item_start else {
            return false;
        };
        out.push(b'{');
        self.write_from(start, revision, out);
        true
    }

    fn write_from(&self, start: usize, revision: u64, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.bytes[start..self.insert_at]);
        out.extend_from_slice(self.before);
        write_decimal(revision, out);
        out.extend_from_slice(self.after);
        out.extend_from_slice(&self.bytes[self.insert_at..]);
    }

    /// Whether the bytes are storage's (shared), not a copy of the cache's own.
    #[cfg(test)]
    fn shares_stored(&self) -> bool {
        !self.before.is_empty()
    }

    /// The encoded length of the object (a size hint; the revision's digits come on top).
    pub(crate) fn len(&self) -> usize {
        self.bytes.len() + self.before.len() + self.after.len()
    }
}

/// `{"kind":...,"apiVersion":...,` as serde_json writes the object's leading type members, when every `kind`
/// and `apiVersion` member of the object is among them and something follows them.
fn leading_type_members(api: &Value) -> Option<Vec<u8>> {
    let map = api.as_object()?;
    let leading = map
        .keys()
        .take_while(|key| matches!(key.as_str(), "kind" | "apiVersion"))
        .count();
    let present = usize::from(map.contains_key("kind")) + usize::from(map.contains_key("apiVersion"));
    if leading != present || map.len() <= leading {
        return None;
    }
    let mut prefix = vec![b'{'];
    for (key, value) in map.iter().take(leading) {
        serde_json::to_writer(&mut prefix, key).ok()?;
        prefix.push(b':');
        serde_json::to_writer(&mut prefix, value).ok()?;
        prefix.push(b',');
    }
    Some(prefix)
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    let first = *needle.first()?;
    let mut from = 0;
    while let Some(offset) = haystack.get(from..)?.iter().position(|&byte| byte == first) {
        let at = from + offset;
        if haystack.get(at..at + needle.len()) == Some(needle) {
            return Some(at);
        }
        from = at + 1;
    }
    None
}

fn write_decimal(mut value: u64, out: &mut Vec<u8>) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    loop {
        at -= 1;
        digits[at] = b'0' + (value % 10) as u8;
        value /= 10;
        if value == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[at..]);
}

/// One object form the cache keeps: encoded JSON, the API-form `Value` when it cannot be encoded with a
/// revision slot, or why its stored bytes did not decode.
#[derive(Debug)]
pub(crate) enum ApiForm {
    Encoded(EncodedObject),
    /// The API form without `resourceVersion` (no metadata object, or the marker was not unique).
    Value(Value),
    Invalid(Arc<str>),
    /// The stored object could not be brought into this version (a conversion webhook failed): the error a read
    /// of it answers.
    Failed(Box<ApiError>),
}

impl ApiForm {
    /// The form of `api`; shares `stored` (the object's bytes in storage) when they are its encoding without
    /// the resourceVersion.
    pub(crate) fn new(api: Value, stored: Option<&Bytes>) -> Self {
        if api.get("metadata").and_then(Value::as_object).is_none() {
            return Self::Value(api);
        }
        match EncodedObject::encode(api, stored) {
            Ok(encoded) => Self::Encoded(encoded),
            Err(api) => Self::Value(api),
        }
    }

    fn invalid(error: &str) -> ApiError {
        ApiError::internal_error(format!("stored object does not decode: {error}"))
    }

    /// `Err` with the 500 of an object whose stored bytes do not decode.
    pub(crate) fn check(&self) -> Result<(), ApiError> {
        match self {
            Self::Invalid(error) => Err(Self::invalid(error)),
            Self::Failed(error) => Err((**error).clone()),
            _ => Ok(()),
        }
    }

    /// The object at `revision` as a `Value`.
    pub(crate) fn value(&self, revision: u64) -> Result<Value, ApiError> {
        match self {
            Self::Encoded(encoded) => {
                let mut bytes = Vec::with_capacity(encoded.len() + 20);
                encoded.write_object(revision, &mut bytes);
                serde_json::from_slice(&bytes).map_err(|error| Self::invalid(&error.to_string()))
            }
            Self::Value(value) => {
                let mut value = value.clone();
                super::set_resource_version(&mut value, revision);
                Ok(value)
            }
            Self::Invalid(error) => Err(Self::invalid(error)),
            Self::Failed(error) => Err((**error).clone()),
        }
    }

    /// Appends the object's JSON at `revision`.
    pub(crate) fn write_object(&self, revision: u64, out: &mut Vec<u8>) -> Result<(), ApiError> {
        match self {
            Self::Encoded(encoded) => {
                encoded.write_object(revision, out);
                Ok(())
            }
            _ => {
                let value = self.value(revision)?;
                serde_json::to_writer(out, &value).map_err(|error| ApiError::internal_error(error.to_string()))
            }
        }
    }

    /// Appends the object's JSON at `revision` as a list item (without `kind` and `apiVersion`).
    pub(crate) fn write_item(&self, revision: u64, out: &mut Vec<u8>) -> Result<(), ApiError> {
        if let Self::Encoded(encoded) = self {
            if encoded.write_item(revision, out) {
                return Ok(());
            }
        }
        let mut value = self.value(revision)?;
        if let Some(map) = value.as_object_mut() {
            map.shift_remove("kind");
            map.shift_remove("apiVersion");
        }
        serde_json::to_writer(out, &value).map_err(|error| ApiError::internal_error(error.to_string()))
    }

    /// Whether [`write_object`](Self::write_object) copies pre-encoded bytes (and so cannot fail).
    pub(crate) fn is_encoded(&self) -> bool {
        matches!(self, Self::Encoded(_))
    }

    /// Whether [`write_item`](Self::write_item) copies pre-encoded bytes (and so cannot fail).
    pub(crate) fn has_item_form(&self) -> bool {
        matches!(
            self,
            Self::Encoded(EncodedObject {
                item_start: Some(_),
                ..
            })
        )
    }

    /// The encoded size, when known (a capacity hint).
    pub(crate) fn encoded_len(&self) -> usize {
        match self {
            Self::Encoded(encoded) => encoded.len() + 20,
            _ => 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn through_value(api: &Value, revision: u64) -> Value {
        let mut value = api.clone();
        super::super::set_resource_version(&mut value, revision);
        value
    }

    #[test]
    fn encoded_object_and_item_equal_the_value_path() {
        let api = json!({
            "kind": "ConfigMap",
            "apiVersion": "v1",
            "metadata": {"name": "a", "namespace": "n", "uid": "u", "creationTimestamp": "t"},
            "data": {"k": "v\u{1}\"x"},
        });
        let form = ApiForm::new(api.clone(), None);
        assert!(matches!(form, ApiForm::Encoded(_)));
        for revision in [0, 7, 12345678901234] {
            let expected = through_value(&api, revision);
            let mut bytes = Vec::new();
            form.write_object(revision, &mut bytes).expect("encodes");
            assert_eq!(bytes, serde_json::to_vec(&expected).expect("json"));
            assert_eq!(form.value(revision).expect("decodes"), expected);
            let mut item = expected.clone();
            let map = item.as_object_mut().expect("object");
            map.shift_remove("kind");
            map.shift_remove("apiVersion");
            let mut bytes = Vec::new();
            form.write_item(revision, &mut bytes).expect("encodes");
            assert_eq!(bytes, serde_json::to_vec(&item).expect("json"));
        }
    }

    #[test]
    fn stored_bytes_are_shared_whatever_neighbours_the_revision_has() {
        let objects = [
            json!({"kind": "ConfigMap", "apiVersion": "v1",
                "metadata": {"name": "a", "namespace": "n", "uid": "u", "creationTimestamp": "t"}, "data": {"k": "v"}}),
            json!({"kind": "ConfigMap", "apiVersion": "v1", "metadata": {"name": "a"}, "data": {"k": "v"}}),
            json!({"kind": "ConfigMap", "apiVersion": "v1", "metadata": {}}),
            json!({"apiVersion": "v1", "metadata": {"name": "a", "labels": {"x": "y"}}, "kind": "K"}),
        ];
        for api in objects {
            let stored = Bytes::from(serde_json::to_vec(&api).expect("json"));
            let form = ApiForm::new(api.clone(), Some(&stored));
            let ApiForm::Encoded(encoded) = &form else {
                panic!("{api} encodes");
            };
            assert!(encoded.shares_stored(), "{api} shares the stored bytes");
            for revision in [3, 1234567] {
                let expected = through_value(&api, revision);
                let mut bytes = Vec::new();
                form.write_object(revision, &mut bytes).expect("encodes");
                assert_eq!(bytes, serde_json::to_vec(&expected).expect("json"), "{api}");
                let mut item = expected.clone();
                if let Some(map) = item.as_object_mut() {
                    map.shift_remove("kind");
                    map.shift_remove("apiVersion");
                }
                let mut bytes = Vec::new();
                form.write_item(revision, &mut bytes).expect("encodes");
                assert_eq!(bytes, serde_json::to_vec(&item).expect("json"), "{api}");
            }
        }
        // Stored bytes that are not the API form minus the revision (e.g. another key order) are not shared.
        let api = json!({"kind": "K", "apiVersion": "v1", "metadata": {"name": "a"}, "spec": {"b": 1, "a": 2}});
        let stored =
            Bytes::from_static(br#"{"kind":"K","apiVersion":"v1","metadata":{"name":"a"},"spec":{"a":2,"b":1}}"#);
        let ApiForm::Encoded(encoded) = ApiForm::new(api.clone(), Some(&stored)) else {
            panic!("encodes");
        };
        assert!(!encoded.shares_stored());
        let mut bytes = Vec::new();
        encoded.write_object(9, &mut bytes);
        assert_eq!(bytes, serde_json::to_vec(&through_value(&api, 9)).expect("json"));
    }

    #[test]
    fn encode_stored_gives_what_decoding_the_stored_bytes_gives() {
        let objects = [
            json!({"kind": "ConfigMap", "apiVersion": "v1", "metadata": {"name": "a", "namespace": "n", "uid": "u",
                "creationTimestamp": "t", "managedFields": [{"manager": "m"}]}, "data": {"k": "v\u{1}\"x"}}),
            json!({"kind": "ConfigMap", "apiVersion": "v1", "metadata": {"name": "a", "namespace": "n",
                "resourceVersion": "17", "uid": "u", "generation": 2}, "data": {}}),
            json!({"kind": "K", "apiVersion": "v1", "metadata": {"resourceVersion": "3", "labels": {"x": "y"}}}),
            json!({"kind": "K", "apiVersion": "v1", "metadata": {"labels": {"x": "y"}, "name": "late"}}),
            json!({"kind": "K", "apiVersion": "v1", "metadata": {"name": "a", "uid": "u"}}),
            json!({"kind": "K", "apiVersion": "v1", "metadata": {"resourceVersion": "9"}}),
            json!({"kind": "K", "apiVersion": "v1", "metadata": {}}),
            json!({"kind": "K", "apiVersion": "v1", "metadata": {"generateName": "g-", "selfLink": "s"}, "spec": 1}),
            json!({"apiVersion": "v1", "metadata": {"name": "a"}, "kind": "K"}),
            json!({"metadata": {"name": "a"}, "spec": {"x": REVISION_MARKER}}),
            json!({"kind": "K", "apiVersion": "v1", "metadata": {"name": "a"}, "data": {"x": REVISION_MARKER}}),
            json!({"kind": "K", "apiVersion": "v1", "metadata": "not an object"}),
            json!({"kind": "K", "apiVersion": "v1"}),
            json!(["not", "an", "object"]),
        ];
        for api in objects {
            let (bytes, encoded) = EncodedObject::encode_stored(&api).expect("encodes");
            let mut stored = api.clone();
            if let Some(metadata) = stored.get_mut("metadata").and_then(Value::as_object_mut) {
                metadata.shift_remove("resourceVersion");
            }
            assert_eq!(bytes, serde_json::to_vec(&stored).expect("json"), "{api}");
            let has_metadata = api.get("metadata").is_some_and(Value::is_object);
            assert_eq!(encoded.is_some(), has_metadata, "{api}");
            let Some(encoded) = encoded else {
                continue;
            };
            assert!(encoded.shares_stored(), "{api}");
            let expected = ApiForm::new(serde_json::from_slice(&bytes).expect("decodes"), Some(&bytes));
            for revision in [0, 5, 1234567890] {
                let mut want = Vec::new();
                expected.write_object(revision, &mut want).expect("encodes");
                let mut got = Vec::new();
                encoded.write_object(revision, &mut got);
                assert_eq!(String::from_utf8_lossy(&got), String::from_utf8_lossy(&want), "{api}");
                let mut want = Vec::new();
                expected.write_item(revision, &mut want).expect("encodes");
                let mut got = Vec::new();
                if !encoded.write_item(revision, &mut got) {
                    assert!(!expected.has_item_form(), "{api}");
                    continue;
                }
                assert_eq!(String::from_utf8_lossy(&got), String::from_utf8_lossy(&want), "{api}");
            }
        }
    }

    #[test]
    fn unusual_shapes_take_the_value_path_with_the_same_output() {
        let marker_in_data = json!({"kind": "K", "apiVersion": "v1", "metadata": {"name": "a"},
            "data": {"x": REVISION_MARKER}});
        let kind_later = json!({"apiVersion": "v1", "metadata": {"name": "a", "resourceVersion": "3"}, "kind": "K"});
        let no_type = json!({"metadata": {}, "spec": 1});
        let no_metadata = json!({"kind": "K", "apiVersion": "v1"});
        for api in [marker_in_data, kind_later, no_type, no_metadata] {
            let form = ApiForm::new(api.clone(), None);
            let expected = through_value(&api, 42);
            let mut bytes = Vec::new();
            form.write_object(42, &mut bytes).expect("encodes");
            assert_eq!(bytes, serde_json::to_vec(&expected).expect("json"), "{api}");
            let mut item = expected.clone();
            if let Some(map) = item.as_object_mut() {
                map.shift_remove("kind");
                map.shift_remove("apiVersion");
            }
            let mut bytes = Vec::new();
            form.write_item(42, &mut bytes).expect("encodes");
            assert_eq!(bytes, serde_json::to_vec(&item).expect("json"), "{api}");
        }
    }
}
