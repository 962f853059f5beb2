//! Protobuf watch streams (`application/vnd.kubernetes.protobuf;stream=watch`).
//!
//! The stream is a sequence of frames, each a 4-byte big-endian length followed by that many bytes of a
//! `metav1.WatchEvent` message — raw, without the `k8s\0` envelope (Go's stream serializer is the "raw"
//! protobuf serializer). Inside, `object.raw` holds the event's object encoded as a full protobuf body, envelope
//! included (the "embedded" encoder), so the client learns its kind. ERROR events carry a `Status`.

use kapi_core::GroupVersionKind;
use serde_json::Value;

use crate::{wire, Error};

/// Frames longer than this are refused when reading: client-go caps a decoded watch frame well below it,
/// and a bound keeps a corrupt length from making a reader buffer without end.
pub const MAX_FRAME_LEN: usize = 64 * 1024 * 1024;

/// One decoded watch event.
#[derive(Debug, Clone, PartialEq)]
pub struct WatchEvent {
    /// `ADDED`, `MODIFIED`, `DELETED`, `BOOKMARK` or `ERROR`.
    pub event_type: String,
    /// The kind of `object`, from its envelope.
    pub gvk: GroupVersionKind,
    /// The object in its JSON form, `kind` and `apiVersion` first.
    pub object: Value,
}

/// Encodes one watch event as a complete frame, length prefix included, ready to write to the stream.
pub fn encode_frame(event_type: &str, gvk: &GroupVersionKind, object: &Value) -> Result<Vec<u8>, Error> {
    let index = crate::message_index(gvk)?;
    let registry = crate::descriptor::Registry::get();
    // The length prefix is patched in once the event is written.
    let mut frame = vec![0u8; 4];
    wire::put_bytes(&mut frame, 1, event_type.as_bytes());
    wire::put_nested(&mut frame, 2, |raw_extension| {
        wire::put_nested(raw_extension, 1, |raw| {
            crate::write_envelope(raw, gvk, |out| crate::encode::message(registry, index, object, out))
        })
    })?;
    let len = u32::try_from(frame.len() - 4).map_err(|_| Error::invalid("watch event larger than 4 GiB"))?;
    frame[..4].copy_from_slice(&len.to_be_bytes());
    Ok(frame)
}

/// Splits the first complete frame off `buffer`: `Ok(Some((payload, consumed)))` when one is there,
/// `Ok(None)` when more bytes are needed, an error when the length prefix exceeds [`MAX_FRAME_LEN`].
pub fn split_frame(buffer: &[u8]) -> Result<Option<(&[u8], usize)>, Error> {
    let Some(prefix) = buffer.get(..4) else {
        return Ok(None);
    };
    let len = u32::from_be_bytes([prefix[0], prefix[1], prefix[2], prefix[3]]) as usize;
    if len > MAX_FRAME_LEN {
        return Err(Error::malformed(format!(
            "watch frame of {len} bytes exceeds the limit of {MAX_FRAME_LEN}"
        )));
    }
    Ok(buffer.get(4..4 + len).map(|payload| (payload, 4 + len)))
}

/// Decodes the payload of one frame (without its length prefix) into a [`WatchEvent`].
pub fn decode_frame(payload: &[u8]) -> Result<WatchEvent, Error> {
    let mut event_type = String::new();
    let mut embedded: Option<&[u8]> = None;
    for field in wire::FieldReader::new(payload) {
        match field? {
            (1, wire::WireValue::Bytes(text)) => event_type = String::from_utf8_lossy(text).into_owned(),
            (2, wire::WireValue::Bytes(raw_extension)) => {
                for inner in wire::FieldReader::new(raw_extension) {
                    if let (1, wire::WireValue::Bytes(raw)) = inner.map_err(|error| error.within("object"))? {
                        embedded = Some(raw);
                    }
                }
            }
            (1 | 2, _) => return Err(Error::malformed("watch event field of the wrong wire type")),
            _ => {}
        }
    }
    let raw = embedded.ok_or_else(|| Error::malformed("watch event without an object").within("object"))?;
    let (gvk, object) = crate::decode(raw).map_err(|error| error.within("object"))?;
    Ok(WatchEvent {
        event_type,
        gvk,
        object,
    })
}
