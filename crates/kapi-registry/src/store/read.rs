//! get, list and watch: served by the watch cache with kube-apiserver's resourceVersion semantics.

use std::{
    collections::VecDeque,
    future::Future,
    pin::Pin,
    sync::Arc,
    task::{Context, Poll},
};

use bytes::Bytes;
use kapi_core::{
    resource_version::{get_semantics, GetSemantics, ListQuery, ListSemantics},
    ApiError, FieldSelector, LabelSelector,
};
use kapi_storage::{
    cacher::{
        CacheListOptions, CacheWatch, CacheWatchOptions, CachedObject, Filter, Freshness, ListRevision, WatchItem,
        WatchStart,
    },
    EventKind,
};
use serde_json::{json, Map, Value};

use super::{bookmarks::BookmarkSchedule, encoded::ApiForm, Decoded, Store};
use crate::{
    types::{GetOptions, ListOptions, WatchEvent, WatchEventType},
    util,
};

/// The 410 of a continue token whose snapshot is gone.
const CONTINUE_EXPIRED: &str = "The provided continue parameter is too old to display a consistent list result. You \
can start a new list without the continue parameter, or use the continue token in this response to retrieve the \
remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were \
created, modified, or deleted between the time the first chunk was returned and now may show up in the list.";

fn list_query(opts: &ListOptions, watch: bool) -> ListQuery {
    ListQuery {
        watch,
        resource_version: opts.resource_version.clone().unwrap_or_default(),
        resource_version_match: opts.resource_version_match.clone().unwrap_or_default(),
        continue_token: opts.continue_token.clone().unwrap_or_default(),
        send_initial_events: opts.send_initial_events,
        allow_watch_bookmarks: opts.allow_watch_bookmarks,
    }
}

/// One object read for a response: JSON encoded once (shared with the watch cache), decoded into a `Value`
/// only for representations that need one.
#[derive(Debug)]
pub struct ObjectRead(ObjectSource);

#[derive(Debug)]
enum ObjectSource {
    Cached(Arc<CachedObject<Decoded>>),
    Read { form: ApiForm, revision: u64 },
}

impl ObjectRead {
    fn form_and_revision(&self) -> (&ApiForm, u64) {
        match &self.0 {
            ObjectSource::Cached(cached) => (&cached.object.form, cached.revision()),
            ObjectSource::Read { form, revision } => (form, *revision),
        }
    }

    /// The object as a `Value` (`metadata.resourceVersion` set).
    pub fn value(&self) -> Result<Value, ApiError> {
        let (form, revision) = self.form_and_revision();
        form.value(revision)
    }

    /// The object's JSON, byte for byte what encoding [`value`](Self::value) gives.
    pub fn json(&self) -> Result<Vec<u8>, ApiError> {
        let (form, revision) = self.form_and_revision();
        let mut out = Vec::with_capacity(form.encoded_len());
        form.write_object(revision, &mut out)?;
        Ok(out)
    }

    /// Appends the object's JSON to `out`.
    pub fn write_json(&self, out: &mut Vec<u8>) -> Result<(), ApiError> {
        let (form, revision) = self.form_and_revision();
        form.write_object(revision, out)
    }
}

/// One page of a list, its items encoded once (see [`ListRead::json`]).
#[derive(Debug)]
pub struct ListRead {
    list_kind: String,
    api_version: String,
    /// `resourceVersion`, then `continue` and `remainingItemCount` when set.
    metadata: Map<String, Value>,
    items: Vec<Arc<CachedObject<Decoded>>>,
    /// Items keep `kind` and `apiVersion` (custom resources; see `Strategy::list_items_keep_type`).
    typed_items: bool,
}

impl ListRead {
    /// The `<Kind>List` object, items without kind/apiVersion as kube-apiserver sends them (custom resources'
    /// items keep them).
    pub fn value(&self) -> Result<Value, ApiError> {
        let mut items = Vec::with_capacity(self.items.len());
        for cached in &self.items {
            let mut value = cached.object.value(cached.revision())?;
            if let Some(map) = value.as_object_mut().filter(|_| !self.typed_items) {
                map.shift_remove("kind");
                map.shift_remove("apiVersion");
            }
            items.push(value);
        }
        // Built by hand: `json!` would serialize (deep-copy) every item once more.
        let mut list = Map::with_capacity(4);
        list.insert("kind".to_owned(), Value::String(self.list_kind.clone()));
        list.insert("apiVersion".to_owned(), Value::String(self.api_version.clone()));
        list.insert("metadata".to_owned(), Value::Object(self.metadata.clone()));
        list.insert("items".to_owned(), Value::Array(items));
        Ok(Value::Object(list))
    }

    /// The list's JSON, byte for byte what encoding [`value`](Self::value) gives, assembled from the items'
    /// cached encodings.
    pub fn json(&self) -> Result<Vec<u8>, ApiError> {
        let items: usize = self.items.iter().map(|item| item.object.form.encoded_len() + 1).sum();
        let mut out = self.head()?;
        out.reserve(items + 2);
        for (index, cached) in self.items.iter().enumerate() {
            if index > 0 {
                out.push(b',');
            }
            if self.typed_items {
                cached.object.form.write_object(cached.revision(), &mut out)?;
            } else {
                cached.object.form.write_item(cached.revision(), &mut out)?;
            }
        }
        out.extend_from_slice(b"]}");
        Ok(out)
    }
}

/// A list's JSON in chunks of about a chosen size, encoded as they are taken (see [`ListRead::into_json_chunks`]).
#[derive(Debug)]
pub struct JsonChunks {
    /// The list, when its items are written as taken; `None` once finished or when `ready` holds it all.
    list: Option<ListRead>,
    ready: Option<Bytes>,
    next_item: usize,
    chunk_size: usize,
}

impl Iterator for JsonChunks {
    type Item = Bytes;

    fn next(&mut self) -> Option<Bytes> {
        if let Some(ready) = self.ready.take() {
            return Some(ready);
        }
        let list = self.list.as_ref()?;
        let mut out = Vec::with_capacity(self.chunk_size + 4096);
        while self.next_item < list.items.len() && out.len() < self.chunk_size {
            let cached = &list.items[self.next_item];
            if self.next_item > 0 {
                out.push(b',');
            }
            // Checked by `into_json_chunks`: every item has the infallible pre-encoded form.
            let _ = if list.typed_items {
                cached.object.form.write_object(cached.revision(), &mut out)
            } else {
                cached.object.form.write_item(cached.revision(), &mut out)
            };
            self.next_item += 1;
        }
        if self.next_item == list.items.len() {
            out.extend_from_slice(b"]}");
            self.list = None;
        }
        Some(Bytes::from(out))
    }
}

impl ListRead {
    /// The list's JSON ([`json`](Self::json)) as chunks of about `chunk_size` bytes, each encoded when it is
    /// taken: a large list is sent without first being assembled in one buffer. A list with an item that has
    /// no pre-encoded item form is encoded whole first (an encoding error is then returned here, before
    /// anything is sent).
    pub fn into_json_chunks(self, chunk_size: usize) -> Result<JsonChunks, ApiError> {
        let pre_encoded = |item: &Arc<CachedObject<Decoded>>| {
            if self.typed_items {
                item.object.form.is_encoded()
            } else {
                item.object.form.has_item_form()
            }
        };
        if !self.items.iter().all(pre_encoded) {
            return Ok(JsonChunks {
                ready: Some(Bytes::from(self.json()?)),
                list: None,
                next_item: 0,
                chunk_size,
            });
        }
        let head = self.head()?;
        Ok(JsonChunks {
            ready: Some(Bytes::from(head)),
            list: Some(self),
            next_item: 0,
            chunk_size: chunk_size.max(1),
        })
    }

    /// About how long the list's JSON is (items with a pre-encoded form only).
    pub fn encoded_len_hint(&self) -> usize {
        self.items
            .iter()
            .map(|item| item.object.form.encoded_len() + 1)
            .sum::<usize>()
            + 256
    }

    /// `{"kind":...,"apiVersion":...,"metadata":{...},"items":[`.
    fn head(&self) -> Result<Vec<u8>, ApiError> {
        let encoding = |error: serde_json::Error| ApiError::internal_error(error.to_string());
        let mut out = Vec::with_capacity(256);
        out.extend_from_slice(b"{\"kind\":");
        serde_json::to_writer(&mut out, &self.list_kind).map_err(encoding)?;
        out.extend_from_slice(b",\"apiVersion\":");
        serde_json::to_writer(&mut out, &self.api_version).map_err(encoding)?;
        out.extend_from_slice(b",\"metadata\":");
        serde_json::to_writer(&mut out, &self.metadata).map_err(encoding)?;
        out.extend_from_slice(b",\"items\":[");
        Ok(out)
    }
}

impl Store {
    /// GET of one object.
    pub async fn get(&self, namespace: Option<&str>, name: &str, opts: &GetOptions) -> Result<Value, ApiError> {
        self.get_read(namespace, name, opts).await?.value()
    }

    /// GET of one object, encoded once: [`ObjectRead::json`] writes it without a `Value`.
    pub async fn get_read(
        &self,
        namespace: Option<&str>,
        name: &str,
        opts: &GetOptions,
    ) -> Result<ObjectRead, ApiError> {
        let key = self.key(namespace, name);
        let semantics = get_semantics(opts.resource_version.as_deref().unwrap_or(""))?;
        let freshness = match semantics {
            GetSemantics::MostRecent => {
                return match self.read_current(&key).await? {
                    Some(kv) => Ok(ObjectRead(ObjectSource::Read {
                        form: self.api_form(&kv)?,
                        revision: kv.mod_revision,
                    })),
                    None => Err(ApiError::not_found(&self.group_resource(), name)),
                };
            }
            GetSemantics::Any => Freshness::Any,
            GetSemantics::NotOlderThan(revision) => Freshness::NotOlderThan(revision),
        };
        match self.cacher.get(&key, freshness).await {
            Ok(Some(cached)) => {
                cached.object.form.check()?;
                Ok(ObjectRead(ObjectSource::Cached(cached)))
            }
            Ok(None) => Err(ApiError::not_found(&self.group_resource(), name)),
            Err(error) => Err(util::storage_error(&self.group_resource(), name, error)),
        }
    }

    /// The field-selector fields this resource supports.
    pub fn supported_field_labels(&self) -> Vec<String> {
        let mut fields = vec!["metadata.name".to_owned(), "metadata.namespace".to_owned()];
        fields.extend(
            self.strategy
                .selectable_fields(&Value::Null)
                .into_iter()
                .map(|(k, _)| k),
        );
        fields
    }

    /// The cache filter of the selectors in `opts` (`None` when both are empty) and whether there is one.
    pub(crate) fn filter(&self, opts: &ListOptions) -> Result<Option<Filter<Decoded>>, ApiError> {
        let labels = LabelSelector::parse(opts.label_selector.as_deref().unwrap_or(""))?;
        let fields = FieldSelector::parse(opts.field_selector.as_deref().unwrap_or(""))?;
        let supported = self.supported_field_labels();
        let supported: Vec<&str> = supported.iter().map(String::as_str).collect();
        fields.check_supported(&supported)?;
        if labels.is_empty() && fields.is_empty() {
            return Ok(None);
        }
        Ok(Some(Arc::new(move |_key: &str, decoded: &Decoded| {
            decoded.is_valid() && labels.matches(decoded.labels()) && fields.matches(decoded.fields())
        })))
    }

    /// LIST: the `<Kind>List` object, items without kind/apiVersion as kube-apiserver sends them.
    pub async fn list(&self, namespace: Option<&str>, opts: &ListOptions) -> Result<Value, ApiError> {
        self.list_read(namespace, opts).await?.value()
    }

    /// LIST, encoded once: [`ListRead::json`] writes the list from the items' cached JSON.
    pub async fn list_read(&self, namespace: Option<&str>, opts: &ListOptions) -> Result<ListRead, ApiError> {
        let query = list_query(opts, false);
        query.check(true)?;
        let limit = opts.limit.filter(|limit| *limit > 0);
        let filter = self.filter(opts)?;
        let selected = filter.is_some();
        let mut cache_opts = CacheListOptions {
            limit: limit.map(|limit| usize::try_from(limit).unwrap_or(usize::MAX)),
            filter,
            ..CacheListOptions::default()
        };
        let continuing = match query.list_semantics(limit.unwrap_or(0))? {
            ListSemantics::MostRecent => {
                cache_opts.revision = ListRevision::Latest;
                false
            }
            ListSemantics::Any => {
                // kube-apiserver serves resourceVersion=0 from the watch cache whole: the limit is ignored.
                cache_opts.revision = match self.newest_write() {
                    0 => ListRevision::Any,
                    written => ListRevision::NotOlderThan(written),
                };
                cache_opts.limit = None;
                false
            }
            ListSemantics::NotOlderThan(revision) => {
                cache_opts.revision = ListRevision::NotOlderThan(revision);
                false
            }
            ListSemantics::Exact(revision) => {
                cache_opts.revision = ListRevision::Exact(revision);
                false
            }
            ListSemantics::Continue(token) => {
                if let Some(problem) = util::continue_token_problem(&token) {
                    return Err(ApiError::bad_request(format!(
                        "invalid continue token: continue key is not valid: {problem}"
                    )));
                }
                cache_opts.continue_token = Some(token);
                true
            }
        };
        let page = self
            .cacher
            .list(&self.list_prefix(namespace), &cache_opts)
            .await
            .map_err(|error| match error {
                kapi_storage::Error::Expired { .. } if continuing => ApiError::expired(CONTINUE_EXPIRED),
                kapi_storage::Error::Expired { .. } => ApiError::list_expired(),
                other => util::storage_error(&self.group_resource(), "", other),
            })?;
        for cached in &page.items {
            cached.object.form.check()?;
        }
        let mut metadata = Map::new();
        metadata.insert("resourceVersion".to_owned(), Value::String(page.revision.to_string()));
        if let Some(token) = page.continue_token {
            metadata.insert("continue".to_owned(), Value::String(token));
        }
        if let Some(remaining) = page.remaining.filter(|n| *n > 0 && !selected) {
            metadata.insert("remainingItemCount".to_owned(), Value::from(remaining));
        }
        let typed_items = self.strategy.list_items_keep_type();
        if typed_items {
            // An unstructured list (custom resources) always has `continue`, and its keys come out sorted.
            metadata
                .entry("continue")
                .or_insert_with(|| Value::String(String::new()));
            metadata.sort_keys();
        }
        let info = self.info();
        Ok(ListRead {
            list_kind: info.list_kind.clone(),
            api_version: info.api_version(),
            metadata,
            items: page.items,
            typed_items,
        })
    }

    /// WATCH: a stream of wire events. A start revision the cache no longer has is reported like
    /// kube-apiserver: the stream opens and carries one ERROR event (410 `too old resource version: X (Y)`).
    pub async fn watch(&self, namespace: Option<&str>, opts: &ListOptions) -> Result<WatchEvents, ApiError> {
        let query = list_query(opts, true);
        query.check(true)?;
        let filter = self.filter(opts)?;
        let rv = query.resource_version.as_str();
        let freshness = match rv {
            "" => Freshness::Latest,
            "0" => match self.newest_write() {
                0 => Freshness::Any,
                written => Freshness::NotOlderThan(written),
            },
            _ => Freshness::NotOlderThan(0),
        };
        // kube-apiserver answers a non-numeric resourceVersion on a watch with a 500 (on a list with a 400);
        // it is the client's mistake, so kapi gives the list's 400 for both (docs/compatibility.md).
        let watch_start = query.watch_start().map_err(|error| match error.code() {
            500 => query.list_semantics(0).err().unwrap_or(error),
            _ => error,
        })?;
        let start = match (query.send_initial_events, watch_start) {
            (Some(true), kapi_core::resource_version::WatchStart::After(revision)) => WatchStart::InitialState {
                freshness: Freshness::NotOlderThan(revision),
                end_bookmark: opts.allow_watch_bookmarks,
            },
            (Some(true), _) => WatchStart::InitialState {
                freshness,
                end_bookmark: opts.allow_watch_bookmarks,
            },
            (Some(false), kapi_core::resource_version::WatchStart::After(revision))
            | (None, kapi_core::resource_version::WatchStart::After(revision)) => WatchStart::After(revision),
            (Some(false), _) => WatchStart::Now,
            (None, _) => WatchStart::InitialState {
                freshness,
                end_bookmark: false,
            },
        };
        let mut options = CacheWatchOptions::new(start);
        options.bookmarks = opts.allow_watch_bookmarks;
        options.filter = filter;
        let info = self.info();
        let shape = BookmarkShape {
            kind: info.kind.clone(),
            api_version: info.api_version(),
        };
        match self.cacher.watch(&self.list_prefix(namespace), options).await {
            Ok(watch) => Ok(WatchEvents::new(
                Some(watch),
                shape,
                BookmarkSchedule::new(opts.timeout_seconds),
                VecDeque::new(),
            )),
            Err(kapi_storage::Error::Expired { requested, compacted }) => {
                let error = ApiError::too_old_resource_version(requested, compacted);
                let event = WatchEvent {
                    kind: WatchEventType::Error,
                    object: error.to_status(),
                };
                Ok(WatchEvents::new(
                    None,
                    shape,
                    BookmarkSchedule::new(opts.timeout_seconds),
                    VecDeque::from([event]),
                ))
            }
            Err(error) => Err(util::storage_error(&self.group_resource(), "", error)),
        }
    }
}

/// What bookmark objects look like for this resource.
#[derive(Clone, Debug)]
struct BookmarkShape {
    kind: String,
    api_version: String,
}

impl BookmarkShape {
    fn bookmark(&self, revision: u64, end_of_initial_events: bool) -> Value {
        let mut metadata = Map::new();
        metadata.insert("resourceVersion".to_owned(), Value::String(revision.to_string()));
        if end_of_initial_events {
            metadata.insert("annotations".to_owned(), json!({"k8s.io/initial-events-end": "true"}));
        }
        json!({"kind": self.kind, "apiVersion": self.api_version, "metadata": Value::Object(metadata)})
    }
}

/// A watch event as the registry produces it: object events share the watch cache's encoded JSON, so a
/// JSON watcher writes bytes without decoding or encoding the object (see [`WatchEvents::next_shared`]).
#[derive(Debug)]
pub enum SharedWatchEvent {
    /// ADDED, MODIFIED or DELETED of an object.
    Object {
        /// The event type.
        kind: WatchEventType,
        /// The object at the event's revision.
        object: ObjectRead,
    },
    /// A BOOKMARK or ERROR event.
    Other(WatchEvent),
}

impl SharedWatchEvent {
    /// The event in `Value` form; `None` for an object that does not decode (such events are skipped).
    pub fn into_event(self) -> Option<WatchEvent> {
        match self {
            Self::Object { kind, object } => Some(WatchEvent {
                kind,
                object: object.value().ok()?,
            }),
            Self::Other(event) => Some(event),
        }
    }
}

/// The state a watch stream's pending `next` owns.
struct WatchState {
    watch: Option<CacheWatch<Decoded>>,
    shape: BookmarkShape,
    bookmarks: BookmarkSchedule,
    pending: VecDeque<WatchEvent>,
}

impl WatchState {
    async fn next(mut self) -> (Self, Option<SharedWatchEvent>) {
        if let Some(event) = self.pending.pop_front() {
            return (self, Some(SharedWatchEvent::Other(event)));
        }
        let Some(watch) = self.watch.as_mut() else {
            return (self, None);
        };
        loop {
            let item = match watch.next().await {
                None => {
                    self.watch = None;
                    return (self, None);
                }
                Some(Err(error)) => {
                    self.watch = None;
                    let (requested, oldest) = match error {
                        kapi_storage::cacher::WatchError::Expired { requested, oldest } => (requested, oldest),
                        kapi_storage::cacher::WatchError::TooSlow { position, oldest } => (position, oldest),
                    };
                    let status = ApiError::too_old_resource_version(requested, oldest).to_status();
                    return (
                        self,
                        Some(SharedWatchEvent::Other(WatchEvent {
                            kind: WatchEventType::Error,
                            object: status,
                        })),
                    );
                }
                Some(Ok(item)) => item,
            };
            let event = match item {
                WatchItem::Event { kind, object } => {
                    if !object.object.is_valid() {
                        continue;
                    }
                    SharedWatchEvent::Object {
                        kind: match kind {
                            EventKind::Added => WatchEventType::Added,
                            EventKind::Modified => WatchEventType::Modified,
                            EventKind::Deleted => WatchEventType::Deleted,
                        },
                        object: ObjectRead(ObjectSource::Cached(object)),
                    }
                }
                WatchItem::Bookmark { revision } => {
                    if !self.bookmarks.take_if_due() {
                        continue;
                    }
                    SharedWatchEvent::Other(WatchEvent {
                        kind: WatchEventType::Bookmark,
                        object: self.shape.bookmark(revision, false),
                    })
                }
                WatchItem::InitialEventsEnd { revision } => SharedWatchEvent::Other(WatchEvent {
                    kind: WatchEventType::Bookmark,
                    object: self.shape.bookmark(revision, true),
                }),
            };
            return (self, Some(event));
        }
    }
}

type NextFuture = Pin<Box<dyn Future<Output = (WatchState, Option<SharedWatchEvent>)> + Send>>;

/// A watch's events in wire form (`ADDED`/`MODIFIED`/`DELETED`/`BOOKMARK`/`ERROR`). Ends when the watch cache
/// closes it or after an ERROR event; the endpoint ends it after `timeoutSeconds` by dropping it.
pub struct WatchEvents {
    state: Option<WatchState>,
    in_flight: Option<NextFuture>,
}

impl std::fmt::Debug for WatchEvents {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WatchEvents").finish_non_exhaustive()
    }
}

impl WatchEvents {
    fn new(
        watch: Option<CacheWatch<Decoded>>,
        shape: BookmarkShape,
        bookmarks: BookmarkSchedule,
        pending: VecDeque<WatchEvent>,
    ) -> Self {
        Self {
            state: Some(WatchState {
                watch,
                shape,
                bookmarks,
                pending,
            }),
            in_flight: None,
        }
    }

    /// The next event, `None` once the watch has ended.
    pub async fn next(&mut self) -> Option<WatchEvent> {
        std::future::poll_fn(|cx| self.poll_event(cx)).await
    }

    /// The next event with its object still in the watch cache's shared form, `None` once the watch has ended.
    pub async fn next_shared(&mut self) -> Option<SharedWatchEvent> {
        std::future::poll_fn(|cx| self.poll_shared(cx)).await
    }

    fn poll_event(&mut self, cx: &mut Context<'_>) -> Poll<Option<WatchEvent>> {
        loop {
            match self.poll_shared(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(None) => return Poll::Ready(None),
                Poll::Ready(Some(shared)) => {
                    if let Some(event) = shared.into_event() {
                        return Poll::Ready(Some(event));
                    }
                }
            }
        }
    }

    fn poll_shared(&mut self, cx: &mut Context<'_>) -> Poll<Option<SharedWatchEvent>> {
        if self.in_flight.is_none() {
            let Some(state) = self.state.take() else {
                return Poll::Ready(None);
            };
            self.in_flight = Some(Box::pin(state.next()));
        }
        let Some(future) = self.in_flight.as_mut() else {
            return Poll::Ready(None);
        };
        match future.as_mut().poll(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready((state, event)) => {
                self.in_flight = None;
                self.state = Some(state);
                Poll::Ready(event)
            }
        }
    }
}

impl futures_core::Stream for WatchEvents {
    type Item = WatchEvent;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.get_mut().poll_event(cx)
    }
}

#[cfg(test)]
mod tests {
    use kapi_storage::memory::MemoryStorage;
    use serde_json::json;

    use super::*;
    use crate::{
        builtin::{Builtin, BuiltinType},
        CreateOptions, RequestContext,
    };

    /// ConfigMaps whose list items keep kind and apiVersion, as custom resources' do.
    struct TypedItems(crate::ResourceInfo);

    impl crate::Strategy for TypedItems {
        fn info(&self) -> &crate::ResourceInfo {
            &self.0
        }

        fn list_items_keep_type(&self) -> bool {
            true
        }
    }

    async fn configmaps(count: usize) -> Store {
        configmaps_of(Arc::new(Builtin::new(BuiltinType::ConfigMap)), count).await
    }

    async fn configmaps_of(strategy: Arc<dyn crate::Strategy>, count: usize) -> Store {
        let store = Store::new(strategy, Arc::new(MemoryStorage::new()), false);
        for index in 0..count {
            let object = json!({"apiVersion": "v1", "kind": "ConfigMap",
                "metadata": {"name": format!("cm-{index:03}"), "labels": {"n": index.to_string()}},
                "data": {"payload": "x".repeat(100 + index)}});
            store
                .create(
                    &RequestContext::default(),
                    Some("default"),
                    object,
                    &CreateOptions::default(),
                )
                .await
                .expect("created");
        }
        store
    }

    #[tokio::test]
    async fn list_json_whole_and_in_chunks_is_the_encoded_list_value() {
        let store = configmaps(40).await;
        for limit in [None, Some(7)] {
            let opts = ListOptions {
                limit,
                ..ListOptions::default()
            };
            let list = store.list_read(Some("default"), &opts).await.expect("listed");
            let value = list.value().expect("list value");
            assert_eq!(
                value["items"].as_array().map(Vec::len),
                Some(limit.map_or(40, |n| n as usize))
            );
            assert!(value["items"][0].get("kind").is_none(), "items carry no kind");
            let expected = serde_json::to_vec(&value).expect("json");
            assert_eq!(list.json().expect("json"), expected);
            let chunks: Vec<Bytes> = list.into_json_chunks(500).expect("chunks").collect();
            assert!(chunks.len() > 2, "{} chunks", chunks.len());
            assert_eq!(chunks.concat(), expected);
        }
    }

    #[tokio::test]
    async fn typed_list_items_in_chunks_are_the_encoded_list_value() {
        let info = crate::Strategy::info(&Builtin::new(BuiltinType::ConfigMap)).clone();
        let store = configmaps_of(Arc::new(TypedItems(info)), 30).await;
        let list = store
            .list_read(Some("default"), &ListOptions::default())
            .await
            .expect("listed");
        let value = list.value().expect("list value");
        assert_eq!(value["items"][0]["kind"], "ConfigMap", "items keep their kind");
        let expected = serde_json::to_vec(&value).expect("json");
        assert_eq!(list.json().expect("json"), expected);
        let chunks: Vec<Bytes> = list.into_json_chunks(500).expect("chunks").collect();
        assert!(chunks.len() > 2, "{} chunks", chunks.len());
        assert_eq!(chunks.concat(), expected);
    }

    #[tokio::test]
    async fn get_json_is_the_encoded_get_value() {
        let store = configmaps(1).await;
        for resource_version in [None, Some("0".to_owned())] {
            let opts = GetOptions { resource_version };
            let read = store.get_read(Some("default"), "cm-000", &opts).await.expect("read");
            let value = read.value().expect("value");
            assert_eq!(value["kind"], "ConfigMap");
            assert!(value["metadata"]["resourceVersion"]
                .as_str()
                .is_some_and(|rv| !rv.is_empty()));
            assert_eq!(read.json().expect("json"), serde_json::to_vec(&value).expect("json"));
        }
    }
}
