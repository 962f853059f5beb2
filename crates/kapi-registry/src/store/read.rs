//! get, list and watch: served by the watch cache with kube-apiserver's resourceVersion semantics.

use std::{
    collections::VecDeque,
    future::Future,
    pin::Pin,
    sync::Arc,
    task::{Context, Poll},
};

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

use super::{bookmarks::BookmarkSchedule, Decoded, Store};
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

impl Store {
    /// The object `value` of a cached entry with its revision, `None` if its bytes did not decode.
    fn cached_value(&self, cached: &CachedObject<Decoded>) -> Result<Value, ApiError> {
        match &cached.object.value {
            Ok(value) => Ok(self.with_revision(value.clone(), cached.revision())),
            Err(error) => Err(ApiError::internal_error(format!(
                "stored object does not decode: {error}"
            ))),
        }
    }

    /// GET of one object.
    pub async fn get(&self, namespace: Option<&str>, name: &str, opts: &GetOptions) -> Result<Value, ApiError> {
        let key = self.key(namespace, name);
        let semantics = get_semantics(opts.resource_version.as_deref().unwrap_or(""))?;
        let freshness = match semantics {
            GetSemantics::MostRecent => {
                return match self.read_current(&key).await? {
                    Some(kv) => self.object_from(&kv),
                    None => Err(ApiError::not_found(&self.group_resource(), name)),
                };
            }
            GetSemantics::Any => Freshness::Any,
            GetSemantics::NotOlderThan(revision) => Freshness::NotOlderThan(revision),
        };
        match self.cacher.get(&key, freshness).await {
            Ok(Some(cached)) => self.cached_value(&cached),
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
            decoded.value.is_ok() && labels.matches(&decoded.labels) && fields.matches(&decoded.fields)
        })))
    }

    /// LIST: the `<Kind>List` object, items without kind/apiVersion as kube-apiserver sends them.
    pub async fn list(&self, namespace: Option<&str>, opts: &ListOptions) -> Result<Value, ApiError> {
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
        let mut items = Vec::with_capacity(page.items.len());
        for cached in &page.items {
            let mut value = self.cached_value(cached)?;
            if let Some(map) = value.as_object_mut() {
                map.shift_remove("kind");
                map.shift_remove("apiVersion");
            }
            items.push(value);
        }
        let mut metadata = Map::new();
        metadata.insert("resourceVersion".to_owned(), Value::String(page.revision.to_string()));
        if let Some(token) = page.continue_token {
            metadata.insert("continue".to_owned(), Value::String(token));
        }
        if let Some(remaining) = page.remaining.filter(|n| *n > 0 && !selected) {
            metadata.insert("remainingItemCount".to_owned(), Value::from(remaining));
        }
        let info = self.info();
        // Built by hand: `json!` would serialize (deep-copy) every item once more.
        let mut list = Map::with_capacity(4);
        list.insert("kind".to_owned(), Value::String(info.list_kind.clone()));
        list.insert("apiVersion".to_owned(), Value::String(info.api_version()));
        list.insert("metadata".to_owned(), Value::Object(metadata));
        list.insert("items".to_owned(), Value::Array(items));
        Ok(Value::Object(list))
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

/// The state a watch stream's pending `next` owns.
struct WatchState {
    watch: Option<CacheWatch<Decoded>>,
    shape: BookmarkShape,
    bookmarks: BookmarkSchedule,
    pending: VecDeque<WatchEvent>,
}

impl WatchState {
    async fn next(mut self) -> (Self, Option<WatchEvent>) {
        if let Some(event) = self.pending.pop_front() {
            return (self, Some(event));
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
                        Some(WatchEvent {
                            kind: WatchEventType::Error,
                            object: status,
                        }),
                    );
                }
                Some(Ok(item)) => item,
            };
            let event = match item {
                WatchItem::Event { kind, object } => {
                    let Ok(value) = &object.object.value else { continue };
                    let mut value = value.clone();
                    super::set_resource_version(&mut value, object.revision());
                    WatchEvent {
                        kind: match kind {
                            EventKind::Added => WatchEventType::Added,
                            EventKind::Modified => WatchEventType::Modified,
                            EventKind::Deleted => WatchEventType::Deleted,
                        },
                        object: value,
                    }
                }
                WatchItem::Bookmark { revision } => {
                    if !self.bookmarks.take_if_due() {
                        continue;
                    }
                    WatchEvent {
                        kind: WatchEventType::Bookmark,
                        object: self.shape.bookmark(revision, false),
                    }
                }
                WatchItem::InitialEventsEnd { revision } => WatchEvent {
                    kind: WatchEventType::Bookmark,
                    object: self.shape.bookmark(revision, true),
                },
            };
            return (self, Some(event));
        }
    }
}

type NextFuture = Pin<Box<dyn Future<Output = (WatchState, Option<WatchEvent>)> + Send>>;

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

    fn poll_event(&mut self, cx: &mut Context<'_>) -> Poll<Option<WatchEvent>> {
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
