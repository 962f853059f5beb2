//! Watch streaming: newline-delimited JSON `{"type": ..., "object": ...}` events over a chunked 200 response,
//! ended by `timeoutSeconds` (or the server default); dropping the response body (client gone) drops the
//! registry's watcher.

use std::{sync::Arc, time::Duration};

use axum::{
    body::Body,
    http::{header, HeaderValue, StatusCode},
    response::Response,
};
use bytes::Bytes;
use kapi_core::ApiError;
use kapi_registry::{ObjectRead, ResourceInfo, SharedWatchEvent, Strategy, WatchEvent, WatchEventType, WatchEvents};
use serde_json::{json, Value};

use crate::{
    convert::{object_table_metadata, partial_object_metadata, table, TableSpec},
    negotiate::{Encoding, IncludeObject, Representation, Target},
    response::value_kind,
};

/// How events are shaped before they are written.
struct EventShaper {
    representation: Representation,
    include: IncludeObject,
    info: ResourceInfo,
    strategy: Arc<dyn Strategy>,
    columns_sent: bool,
    allow_bookmarks: bool,
}

impl EventShaper {
    fn shape(&mut self, event: &WatchEvent) -> Value {
        if !self.allow_bookmarks && event.kind == WatchEventType::Bookmark {
            return Value::Null;
        }
        let passthrough = matches!(event.kind, WatchEventType::Bookmark | WatchEventType::Error);
        let object = match &self.representation.target {
            _ if passthrough => event.object.clone(),
            Target::Plain => event.object.clone(),
            Target::PartialObjectMetadata | Target::PartialObjectMetadataList => partial_object_metadata(&event.object),
            Target::Table { version } => {
                let strategy = self.strategy.clone();
                let row = move |object: &Value| strategy.table_row(object);
                let with_columns = !self.columns_sent;
                self.columns_sent = true;
                let api_version = self.info.api_version();
                let spec = TableSpec {
                    version,
                    columns: &self.info.table_columns,
                    include: self.include,
                    api_version: &api_version,
                    kind: &self.info.kind,
                    row: &row,
                };
                let metadata = object_table_metadata(&event.object);
                table(&spec, metadata, std::slice::from_ref(&event.object), with_columns)
            }
        };
        object
    }
}

/// One event on the wire: a JSON line, or a length-prefixed protobuf frame. YAML has no streaming framing
/// upstream either, so YAML watchers get JSON lines.
fn frame(event_type: &str, object: &Value, encoding: Encoding) -> Bytes {
    if encoding == Encoding::Protobuf {
        if let Some(frame) =
            value_kind(object).and_then(|gvk| kapi_protobuf::watch::encode_frame(event_type, &gvk, object).ok())
        {
            return Bytes::from(frame);
        }
    }
    let mut bytes = serde_json::to_vec(&json!({"type": event_type, "object": object})).unwrap_or_default();
    bytes.push(b'\n');
    Bytes::from(bytes)
}

/// A JSON line of an object event, written from the watch cache's encoding of the object (every watcher
/// shares it; nothing is decoded or encoded per watcher). Byte for byte what [`frame`] writes for it.
fn shared_json_frame(event_type: &str, object: &ObjectRead) -> Option<Bytes> {
    let mut bytes = Vec::with_capacity(2048);
    bytes.extend_from_slice(b"{\"type\":\"");
    bytes.extend_from_slice(event_type.as_bytes());
    bytes.extend_from_slice(b"\",\"object\":");
    object.write_json(&mut bytes).ok()?;
    bytes.extend_from_slice(b"}\n");
    Some(Bytes::from(bytes))
}

fn streaming_response(body: Body, encoding: Encoding) -> Response {
    let content_type = match encoding {
        Encoding::Protobuf => "application/vnd.kubernetes.protobuf;stream=watch",
        Encoding::Json | Encoding::Yaml => "application/json",
    };
    let mut response = Response::new(body);
    *response.status_mut() = StatusCode::OK;
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

/// The response of a watch: events until `timeout`, the end of the registry's stream, or the client leaving.
pub(crate) fn stream_watch(
    events: WatchEvents,
    timeout: Duration,
    representation: Representation,
    include: IncludeObject,
    info: ResourceInfo,
    strategy: Arc<dyn Strategy>,
    allow_bookmarks: bool,
) -> Response {
    let encoding = representation.encoding;
    // YAML watchers get JSON lines too (see `frame`).
    let shared_json = matches!(representation.target, Target::Plain) && encoding != Encoding::Protobuf;
    let shaper = EventShaper {
        representation,
        include,
        info,
        strategy,
        columns_sent: false,
        allow_bookmarks,
    };
    let deadline = tokio::time::Instant::now() + timeout;
    let stream = futures_util::stream::unfold((events, shaper), move |(mut events, mut shaper)| async move {
        loop {
            let shared = tokio::select! {
                event = events.next_shared() => event?,
                _ = tokio::time::sleep_until(deadline) => return None,
            };
            let event = match shared {
                SharedWatchEvent::Object { kind, object } if shared_json => {
                    let Some(bytes) = shared_json_frame(kind.as_str(), &object) else {
                        continue;
                    };
                    return Some((Ok::<Bytes, std::convert::Infallible>(bytes), (events, shaper)));
                }
                other => match other.into_event() {
                    Some(event) => event,
                    None => continue,
                },
            };
            let object = shaper.shape(&event);
            if object.is_null() {
                continue;
            }
            let bytes = frame(event.kind.as_str(), &object, encoding);
            return Some((Ok::<Bytes, std::convert::Infallible>(bytes), (events, shaper)));
        }
    });
    streaming_response(Body::from_stream(stream), encoding)
}

/// The 200 response carrying one ERROR event, as kube-apiserver answers a watch that cannot start (410 Expired).
pub(crate) fn error_event(error: &ApiError, encoding: Encoding) -> Response {
    let body = Body::from(frame("ERROR", &error.to_status(), encoding));
    streaming_response(body, encoding)
}
