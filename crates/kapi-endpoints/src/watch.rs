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
use kapi_registry::{Strategy, TableColumn, WatchEvent, WatchEventType, WatchEvents};
use serde_json::{json, Value};

use crate::{
    convert::{object_table_metadata, partial_object_metadata, table},
    negotiate::{Encoding, IncludeObject, Representation, Target},
};

/// How events are shaped before they are written.
struct EventShaper {
    representation: Representation,
    include: IncludeObject,
    columns: Vec<TableColumn>,
    strategy: Arc<dyn Strategy>,
    columns_sent: bool,
}

impl EventShaper {
    fn shape(&mut self, event: &WatchEvent) -> Value {
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
                table(
                    version,
                    &self.columns,
                    object_table_metadata(&event.object),
                    std::slice::from_ref(&event.object),
                    &row,
                    self.include,
                    with_columns,
                )
            }
        };
        json!({"type": event.kind.as_str(), "object": object})
    }
}

fn line(value: &Value, encoding: Encoding) -> Bytes {
    // Watch events are JSON lines; YAML has no streaming framing upstream either, so YAML clients get JSON.
    let _ = encoding;
    let mut bytes = serde_json::to_vec(value).unwrap_or_default();
    bytes.push(b'\n');
    Bytes::from(bytes)
}

fn streaming_response(body: Body) -> Response {
    let mut response = Response::new(body);
    *response.status_mut() = StatusCode::OK;
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

/// The response of a watch: events until `timeout`, the end of the registry's stream, or the client leaving.
pub(crate) fn stream_watch(
    events: WatchEvents,
    timeout: Duration,
    representation: Representation,
    include: IncludeObject,
    columns: Vec<TableColumn>,
    strategy: Arc<dyn Strategy>,
) -> Response {
    let encoding = representation.encoding;
    let shaper = EventShaper {
        representation,
        include,
        columns,
        strategy,
        columns_sent: false,
    };
    let deadline = tokio::time::Instant::now() + timeout;
    let stream = futures_util::stream::unfold((events, shaper), move |(mut events, mut shaper)| async move {
        let event = tokio::select! {
            event = events.next() => event?,
            _ = tokio::time::sleep_until(deadline) => return None,
        };
        let bytes = line(&shaper.shape(&event), encoding);
        Some((Ok::<Bytes, std::convert::Infallible>(bytes), (events, shaper)))
    });
    streaming_response(Body::from_stream(stream))
}

/// The 200 response carrying one ERROR event, as kube-apiserver answers a watch that cannot start (410 Expired).
pub(crate) fn error_event(error: &ApiError) -> Response {
    let event = json!({"type": "ERROR", "object": error.to_status()});
    streaming_response(Body::from(line(&event, Encoding::Json)))
}
