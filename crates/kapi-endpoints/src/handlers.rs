//! The resource verbs: get, list, watch, create, update, patch, delete, deletecollection on one Store.

use axum::{http::HeaderMap, response::Response};
use bytes::Bytes;
use kapi_core::{ApiError, RequestInfo};
use kapi_registry::{CreateOptions, DeleteOutcome, Patch, PatchType, RequestContext, Store};
use serde_json::Value;

use crate::{
    body::{check_and_default_kind, object_body_format, parse_body, ExpectedKind},
    convert::{
        object_table_metadata, partial_metadata_list_of_object, partial_metadata_of_list, partial_object_metadata,
        partial_object_metadata_list, table, TableSpec,
    },
    negotiate::{
        check_route_accepts, negotiate_resource, parse_accept, Encoding, Representation, Target, OBJECT_ROUTE_PRODUCES,
        STREAMING_ROUTE_PRODUCES,
    },
    query::Query,
    response::{add_warnings, encoded, json_bytes, json_stream},
    watch::{error_event, stream_watch},
    EndpointsConfig,
};

/// Everything a verb handler needs about one request.
pub(crate) struct ResourceRequest<'a> {
    pub(crate) info: &'a RequestInfo,
    pub(crate) store: &'a Store,
    pub(crate) query: Query,
    pub(crate) headers: &'a HeaderMap,
    pub(crate) body: Bytes,
    pub(crate) config: &'a EndpointsConfig,
    pub(crate) sibling_kinds: Vec<String>,
    /// Who is asking, when an authentication layer put a `RequestContext` into the request's extensions.
    pub(crate) requester: Option<RequestContext>,
}

impl ResourceRequest<'_> {
    fn namespace(&self) -> Option<&str> {
        if self.store.info().namespaced && !self.info.namespace.is_empty() {
            Some(&self.info.namespace)
        } else {
            None
        }
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|value| value.to_str().ok())
    }

    fn representation(&self, produces: &[&str]) -> Result<Representation, ApiError> {
        let ranges = parse_accept(self.header("accept"));
        check_route_accepts(&ranges, produces)?;
        let info = self.store.info();
        let kind = kapi_core::GroupVersionKind::new(&info.group, &info.version, &info.kind);
        negotiate_resource(&ranges, kapi_protobuf::supports(&kind))
    }

    fn context(&self) -> RequestContext {
        let mut context = self.requester.clone().unwrap_or_default();
        if context.user_agent.is_none() {
            context.user_agent = self.header("user-agent").map(str::to_owned);
        }
        context
    }

    /// Adds the duplicated keys of a JSON body, which the registry reports per fieldValidation.
    fn with_duplicates(&self, mut options: CreateOptions) -> CreateOptions {
        let json = matches!(
            object_body_format(self.header("content-type")),
            Ok(crate::body::BodyFormat::Json)
        );
        if json {
            options.duplicate_fields = crate::duplicates::duplicate_fields(&self.body);
        }
        options
    }

    fn decode_object(&self) -> Result<Value, ApiError> {
        let format = object_body_format(self.header("content-type"))?;
        let info = self.store.info();
        let expected = ExpectedKind {
            group: &info.group,
            version: &info.version,
            kind: &info.kind,
            sibling_kinds: &self.sibling_kinds,
            custom_resource: info
                .openapi_definition
                .as_deref()
                .is_some_and(|definition| kapi_openapi::Definitions::builtin().get(definition).is_none()),
        };
        let mut object = parse_body(format, &self.body, &expected)?;
        check_and_default_kind(&mut object, &expected)?;
        Ok(object)
    }

    /// A Table of `objects` with the resource's columns and rows.
    fn table(&self, version: &str, mut metadata: Value, objects: &[Value]) -> Result<Value, ApiError> {
        // A custom resource list's empty `continue` stays out of its Table, as in kube-apiserver's.
        if metadata.get("continue").and_then(Value::as_str) == Some("") {
            if let Some(map) = metadata.as_object_mut() {
                map.shift_remove("continue");
            }
        }
        let info = self.store.info();
        let row = |object: &Value| self.store.table_row(object);
        let api_version = info.api_version();
        let spec = TableSpec {
            version,
            columns: &info.table_columns,
            include: self.query.include_object()?,
            api_version: &api_version,
            kind: &info.kind,
            row: &row,
        };
        Ok(table(&spec, metadata, objects, true))
    }

    /// Encodes a single object in the negotiated representation.
    fn object_response(
        &self,
        code: u16,
        object: &Value,
        representation: &Representation,
    ) -> Result<Response, ApiError> {
        let info = self.store.info();
        let value = match &representation.target {
            Target::Plain => return Ok(encoded(code, object, representation.encoding)),
            Target::PartialObjectMetadata => partial_object_metadata(object),
            Target::PartialObjectMetadataList => return Err(partial_metadata_list_of_object(&info.kind, &info.group)),
            Target::Table { version } => {
                self.table(version, object_table_metadata(object), std::slice::from_ref(object))?
            }
        };
        Ok(encoded(code, &value, representation.encoding))
    }

    /// [`object_response`](Self::object_response) of a written object: its JSON is sent as the store encoded
    /// it, when it did.
    fn written_response(
        &self,
        code: u16,
        object: &Value,
        json: Option<&bytes::Bytes>,
        representation: &Representation,
    ) -> Result<Response, ApiError> {
        match json {
            Some(json) if plain_json(representation) => Ok(json_bytes(code, json.clone())),
            _ => self.object_response(code, object, representation),
        }
    }

    fn list_response(&self, list: &Value, representation: &Representation) -> Result<Response, ApiError> {
        let info = self.store.info();
        let value = match &representation.target {
            Target::Plain => return Ok(encoded(200, list, representation.encoding)),
            Target::PartialObjectMetadataList => partial_object_metadata_list(list),
            Target::PartialObjectMetadata => return Err(partial_metadata_of_list(&info.list_kind, &info.group)),
            Target::Table { version } => {
                let items: &[Value] = list.get("items").and_then(Value::as_array).map_or(&[], Vec::as_slice);
                let metadata = list.get("metadata").cloned().unwrap_or_else(|| serde_json::json!({}));
                self.table(version, metadata, items)?
            }
        };
        Ok(encoded(200, &value, representation.encoding))
    }
}

/// Runs the verb `request.info.verb` against the store.
pub(crate) async fn serve_verb(request: ResourceRequest<'_>) -> Result<Response, ApiError> {
    if !request.info.subresource.is_empty() {
        return serve_subresource(&request).await;
    }
    let verb = request.info.verb.as_str();
    if !request.store.info().verbs.iter().any(|served| served == verb) {
        return Err(ApiError::method_not_allowed());
    }
    // POST to an object, PUT or PATCH of a collection: no route upstream serves them.
    let named = !request.info.name.is_empty();
    let shape_fits = match verb {
        "create" => !named,
        "update" | "patch" => named,
        _ => true,
    };
    if !shape_fits {
        return Err(ApiError::method_not_allowed());
    }
    match verb {
        "get" => get(&request).await,
        "list" => list(&request).await,
        "watch" => watch(&request).await,
        "create" => create(&request).await,
        "update" => update(&request).await,
        "patch" => patch(&request).await,
        "delete" => delete(&request).await,
        "deletecollection" => delete_collection(&request).await,
        _ => Err(ApiError::method_not_allowed()),
    }
}

/// About how many bytes of a JSON list are encoded at a time.
const LIST_CHUNK_SIZE: usize = 128 * 1024;

/// Whether a response is the object's own JSON, which the registry writes from its cached encoding.
fn plain_json(representation: &Representation) -> bool {
    matches!(representation.target, Target::Plain) && representation.encoding == Encoding::Json
}

async fn get(request: &ResourceRequest<'_>) -> Result<Response, ApiError> {
    let representation = request.representation(&OBJECT_ROUTE_PRODUCES)?;
    let options = request.query.get_options();
    let object = request
        .store
        .get_read(request.namespace(), &request.info.name, &options)
        .await?;
    if plain_json(&representation) {
        return Ok(json_bytes(200, object.json()?));
    }
    request.object_response(200, &object.value()?, &representation)
}

async fn list(request: &ResourceRequest<'_>) -> Result<Response, ApiError> {
    let representation = request.representation(&STREAMING_ROUTE_PRODUCES)?;
    let options = request.query.list_options(false)?;
    if let Target::Table { .. } = representation.target {
        request.query.include_object()?;
    }
    let list = request.store.list_read(request.namespace(), &options).await?;
    if plain_json(&representation) {
        if list.encoded_len_hint() <= LIST_CHUNK_SIZE {
            return Ok(json_bytes(200, list.json()?));
        }
        // Headers go out at once; the items are encoded as the connection takes them.
        let chunks = list.into_json_chunks(LIST_CHUNK_SIZE)?;
        return Ok(json_stream(futures_util::stream::iter(
            chunks.map(Ok::<_, std::convert::Infallible>),
        )));
    }
    request.list_response(&list.value()?, &representation)
}

async fn watch(request: &ResourceRequest<'_>) -> Result<Response, ApiError> {
    let representation = request.representation(&STREAMING_ROUTE_PRODUCES)?;
    let mut options = request.query.list_options(true)?;
    // `/watch/.../<name>` watches one object: upstream turns the name into a field selector.
    if request.info.parts.len() >= 2 {
        let by_name = format!("metadata.name={}", request.info.name);
        options.field_selector = Some(match options.field_selector.take().filter(|s| !s.is_empty()) {
            Some(selector) => format!("{selector},{by_name}"),
            None => by_name,
        });
    }
    let include = match representation.target {
        Target::Table { .. } => request.query.include_object()?,
        _ => Default::default(),
    };
    // Upstream times the watch with `timeoutSeconds` as given: 0 (or none) takes the server's default, and a
    // negative one is already over (an empty stream), not a watch that runs for the default half hour.
    let timeout = match options.timeout_seconds {
        Some(seconds) if seconds < 0 => std::time::Duration::ZERO,
        Some(seconds) if seconds > 0 => std::time::Duration::from_secs(seconds.unsigned_abs()),
        _ => request.config.default_watch_timeout,
    };
    // The registry sends the last bookmark shortly before the watch ends: tell it when that is.
    options.timeout_seconds = Some(i64::try_from(timeout.as_secs()).unwrap_or(i64::MAX));
    let events = match request.store.watch(request.namespace(), &options).await {
        Ok(events) => events,
        // A watch that cannot start from its resourceVersion is a 200 stream with one ERROR event upstream.
        Err(error) if error.code() == 410 => return Ok(error_event(&error, representation.encoding)),
        Err(error) => return Err(error),
    };
    Ok(stream_watch(
        events,
        timeout,
        representation,
        include,
        request.store.info().clone(),
        request.store.strategy().clone(),
        options.allow_watch_bookmarks,
    ))
}

async fn create(request: &ResourceRequest<'_>) -> Result<Response, ApiError> {
    // A terminating CRD's resource refuses creates before their options or body are read (405 even for a
    // malformed body), as kube-apiserver's CRD handler does.
    if let Some(refusal) = request.store.create_refusal() {
        return Err(refusal);
    }
    let representation = request.representation(&OBJECT_ROUTE_PRODUCES)?;
    let options = request.with_duplicates(request.query.create_options("CreateOptions")?);
    let object = request.decode_object()?;
    let result = request
        .store
        .create(&request.context(), request.namespace(), object, &options)
        .await?;
    let mut response = request.written_response(201, &result.value, result.json.as_ref(), &representation)?;
    add_warnings(&mut response, &result.warnings);
    Ok(response)
}

async fn update(request: &ResourceRequest<'_>) -> Result<Response, ApiError> {
    let representation = request.representation(&OBJECT_ROUTE_PRODUCES)?;
    let options = request.with_duplicates(request.query.create_options("UpdateOptions")?);
    let object = request.decode_object()?;
    let result = request
        .store
        .update(
            &request.context(),
            request.namespace(),
            &request.info.name,
            object,
            &options,
        )
        .await?;
    let (object, created) = &result.value;
    let code = if *created { 201 } else { 200 };
    let mut response = request.written_response(code, object, result.json.as_ref(), &representation)?;
    add_warnings(&mut response, &result.warnings);
    Ok(response)
}

/// The patch type of a PATCH's Content-Type; anything else is the route's bare 415.
fn patch_type(content_type: Option<&str>) -> Result<PatchType, ApiError> {
    match content_type.map(crate::body::essence).as_deref() {
        Some("application/json-patch+json") => Ok(PatchType::Json),
        Some("application/merge-patch+json") => Ok(PatchType::Merge),
        Some("application/strategic-merge-patch+json") => Ok(PatchType::StrategicMerge),
        Some("application/apply-patch+yaml") => Ok(PatchType::Apply),
        _ => Err(ApiError::unsupported_media_type_route()),
    }
}

async fn patch(request: &ResourceRequest<'_>) -> Result<Response, ApiError> {
    let patch_type = patch_type(request.header("content-type"))?;
    let representation = request.representation(&OBJECT_ROUTE_PRODUCES)?;
    let options = request.query.patch_options(patch_type == PatchType::Apply)?;
    let patch = Patch {
        patch_type,
        body: request.body.clone(),
    };
    let context = request.context();
    let (namespace, name) = (request.namespace(), request.info.name.as_str());
    let (object, created, warnings, json) = if patch_type == PatchType::Apply {
        // Server-side apply may create the object (201).
        let result = request
            .store
            .apply(&context, namespace, name, &request.body, &options)
            .await?;
        let (object, created) = result.value;
        (object, created, result.warnings, result.json)
    } else {
        let result = request.store.patch(&context, namespace, name, &patch, &options).await?;
        (result.value, false, result.warnings, result.json)
    };
    let code = if created { 201 } else { 200 };
    let mut response = request.written_response(code, &object, json.as_ref(), &representation)?;
    add_warnings(&mut response, &warnings);
    Ok(response)
}

async fn delete(request: &ResourceRequest<'_>) -> Result<Response, ApiError> {
    let representation = request.representation(&OBJECT_ROUTE_PRODUCES)?;
    let options = request.query.delete_options(&request.body)?;
    let outcome = request
        .store
        .delete(&request.context(), request.namespace(), &request.info.name, &options)
        .await?;
    let response = match &outcome {
        DeleteOutcome::Deleted(object) if !request.store.returns_deleted_object() => {
            let status = request.store.deleted_status(object);
            encoded(200, &status, representation.encoding)
        }
        DeleteOutcome::Deleted(object) => request.object_response(200, object, &representation)?,
        DeleteOutcome::Pending(object) => {
            let code = if options.orphan_dependents == Some(false) {
                202
            } else {
                200
            };
            request.object_response(code, object, &representation)?
        }
    };
    Ok(response)
}

async fn delete_collection(request: &ResourceRequest<'_>) -> Result<Response, ApiError> {
    let representation = request.representation(&STREAMING_ROUTE_PRODUCES)?;
    let delete_options = request.query.delete_options(&request.body)?;
    let list_options = request.query.list_options(false)?;
    let list = request
        .store
        .delete_collection(&request.context(), request.namespace(), &delete_options, &list_options)
        .await?;
    request.list_response(&list, &representation)
}

/// The subresources the registry implements: `status` (get, update, patch) and the namespace's `finalize`
/// (update).
async fn serve_subresource(request: &ResourceRequest<'_>) -> Result<Response, ApiError> {
    let info = request.store.info();
    let representation = request.representation(&OBJECT_ROUTE_PRODUCES)?;
    match (request.info.subresource.as_str(), request.info.verb.as_str()) {
        ("status", "get") => get(request).await,
        ("status", "update") => {
            let options = request.with_duplicates(request.query.create_options("UpdateOptions")?);
            let object = request.decode_object()?;
            let result = request
                .store
                .update_status(
                    &request.context(),
                    request.namespace(),
                    &request.info.name,
                    object,
                    &options,
                )
                .await?;
            let mut response = request.written_response(200, &result.value, result.json.as_ref(), &representation)?;
            add_warnings(&mut response, &result.warnings);
            Ok(response)
        }
        ("status", "patch") => {
            let patch_type = patch_type(request.header("content-type"))?;
            let options = request.query.patch_options(patch_type == PatchType::Apply)?;
            let patch = Patch {
                patch_type,
                body: request.body.clone(),
            };
            let result = request
                .store
                .patch_status(
                    &request.context(),
                    request.namespace(),
                    &request.info.name,
                    &patch,
                    &options,
                )
                .await?;
            let mut response = request.written_response(200, &result.value, result.json.as_ref(), &representation)?;
            add_warnings(&mut response, &result.warnings);
            Ok(response)
        }
        ("finalize", "update") if info.group.is_empty() && info.resource == "namespaces" => {
            let options = request.with_duplicates(request.query.create_options("UpdateOptions")?);
            let object = request.decode_object()?;
            let object = kapi_registry::namespace::finalize(
                request.store,
                &request.context(),
                &request.info.name,
                object,
                &options,
            )
            .await?;
            request.object_response(200, &object, &representation)
        }
        ("status" | "finalize", _) => Err(ApiError::method_not_allowed()),
        _ => Err(ApiError::route_not_found()),
    }
}
