//! The generic store of one resource (k8s.io/apiserver's `registry/generic/registry.Store`).
//!
//! Objects are `serde_json::Value`s stored as JSON under `<storage_prefix>[<namespace>/]<name>`, without
//! `metadata.resourceVersion`: the version is the key's `mod_revision`, set on every read (as kube-apiserver's
//! etcd3 store does). Reads of lists and watches go through one [`Cacher`] per resource.

mod bookmarks;
pub(crate) mod delete;
mod encoded;
mod read;
mod write;
pub(crate) use write::prune as remove_field_path;
mod written;

pub use self::read::{JsonChunks, ListRead, ObjectRead, SharedWatchEvent, WatchEvents};

use std::{collections::BTreeMap, sync::Arc};

use bytes::Bytes;
use kapi_core::{
    meta,
    selector::{Fields, Labels},
    ApiError, GroupResource,
};
use kapi_storage::{
    cacher::{Cacher, CacherConfig},
    KeyValue, Storage,
};
use serde_json::{Map, Value};

use crate::{strategy::Strategy, types::ResourceInfo};

/// How often an idle resource's watch cache learns storage's revision: the longest a consistent list or get
/// waits after writes to other resources.
const CONSISTENT_READ_PROGRESS: std::time::Duration = std::time::Duration::from_millis(25);

/// The prefix under which namespaces are stored (the namespace lifecycle checks read it).
pub(crate) const NAMESPACE_PREFIX: &str = "/registry/namespaces/";

/// Which kind of write an update is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum UpdateKind {
    /// PUT or PATCH of the main resource.
    Replace,
    /// PUT or PATCH of the `status` subresource.
    Status,
    /// Server-side apply (managedFields already computed).
    Apply,
    /// Server-side apply to the `status` subresource (managedFields already computed).
    ApplyStatus,
}

/// An object as the watch cache keeps it: decoded once into the labels and fields selectors look at, and its
/// API form encoded once as JSON (see [`Decoded::value`]).
#[derive(Debug)]
pub struct Decoded {
    /// The API form (JSON with a slot for the resourceVersion), or why the stored bytes did not decode.
    form: encoded::ApiForm,
    /// `metadata.labels`.
    labels: StringPairs,
    /// Selectable fields: `metadata.name`, `metadata.namespace` and the strategy's.
    fields: StringPairs,
    /// Whether the object has a deletionTimestamp or its `status.phase` is `Terminating` (what the namespace
    /// checks of creates ask of a namespace, without decoding it).
    terminating: bool,
}

impl Decoded {
    /// The object in API form with `metadata.resourceVersion` = `revision`; a 500 if its stored bytes did not
    /// decode.
    pub fn value(&self, revision: u64) -> Result<Value, ApiError> {
        self.form.value(revision)
    }

    /// Whether the stored bytes decoded.
    pub fn is_valid(&self) -> bool {
        self.form.check().is_ok()
    }

    /// `metadata.labels`, for label selectors.
    pub fn labels(&self) -> &impl Labels {
        &self.labels
    }

    /// Selectable fields (`metadata.name`, `metadata.namespace` and the strategy's), for field selectors.
    pub fn fields(&self) -> &impl Fields {
        &self.fields
    }
}

/// String pairs sorted by key, in one allocation per string: a cached object's labels or selectable fields
/// (a `BTreeMap` costs ~0.5 KiB per object even for two entries).
#[derive(Debug, Default)]
struct StringPairs(Box<[(Box<str>, Box<str>)]>);

impl StringPairs {
    fn get(&self, key: &str) -> Option<&str> {
        let index = self
            .0
            .binary_search_by(|(candidate, _)| candidate.as_ref().cmp(key))
            .ok()?;
        Some(&self.0[index].1)
    }
}

impl From<BTreeMap<String, String>> for StringPairs {
    fn from(map: BTreeMap<String, String>) -> Self {
        Self(
            map.into_iter()
                .map(|(key, value)| (key.into_boxed_str(), value.into_boxed_str()))
                .collect(),
        )
    }
}

impl Labels for StringPairs {
    fn label(&self, key: &str) -> Option<&str> {
        self.get(key)
    }
}

impl Fields for StringPairs {
    fn field(&self, field: &str) -> Option<&str> {
        self.get(field)
    }
}

/// One served resource: strategy, storage and watch cache.
pub struct Store {
    strategy: Arc<dyn Strategy>,
    storage: Arc<dyn Storage>,
    cacher: Cacher<Decoded>,
    /// Whether creates check that the namespace exists and is not terminating (namespaces are served).
    check_namespace: bool,
    /// The namespaces' watch cache, read first by those checks (storage is asked when it lacks the namespace).
    namespace_cache: Option<Cacher<Decoded>>,
    /// The newest revision this store wrote: `resourceVersion=0` reads, which may be served from a cache that
    /// lags storage, are still answered at least at it (a client sees its own writes, as with kube-apiserver
    /// whose cache is in practice current by the time the write's answer arrives).
    newest_write: std::sync::atomic::AtomicU64,
    /// When set, `create` answers this error instead of creating (a CRD being deleted refuses new objects).
    create_refusal: std::sync::RwLock<Option<ApiError>>,
    /// This store's writes, decoded for its watch cache.
    written: Arc<written::WrittenForms>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("resource", &self.info().resource)
            .field("group", &self.info().group)
            .finish_non_exhaustive()
    }
}

fn decode(strategy: &dyn Strategy, kv: &KeyValue) -> Decoded {
    match serde_json::from_slice::<Value>(&kv.value) {
        Ok(value) => {
            let api = match strategy.try_api_form(value) {
                Ok(api) => api,
                Err(error) => return failed(error),
            };
            let (labels, fields, terminating) = index(strategy, &api);
            Decoded {
                labels,
                fields,
                terminating,
                form: encoded::ApiForm::new(api, Some(&kv.value)),
            }
        }
        Err(error) => Decoded {
            form: encoded::ApiForm::Invalid(Arc::from(error.to_string())),
            labels: StringPairs::default(),
            fields: StringPairs::default(),
            terminating: false,
        },
    }
}

/// What selectors and the namespace checks look at in an object (in API form): labels, selectable fields and
/// whether it is terminating.
fn index(strategy: &dyn Strategy, value: &Value) -> (StringPairs, StringPairs, bool) {
    let mut fields = BTreeMap::new();
    fields.insert(
        "metadata.name".to_owned(),
        meta::name(value).unwrap_or_default().to_owned(),
    );
    fields.insert(
        "metadata.namespace".to_owned(),
        meta::namespace(value).unwrap_or_default().to_owned(),
    );
    fields.extend(strategy.selectable_fields(value));
    (meta::labels(value).into(), fields.into(), is_terminating(value))
}

/// The object an update attempt starts from (see [`Store::current_for_update`]).
pub(crate) struct UpdateBase {
    /// The object as stored: key, bytes, revisions.
    pub(crate) kv: KeyValue,
    /// Its API form, with its resourceVersion.
    pub(crate) object: Value,
    /// Whether it is the watch cache's copy, which may lag storage.
    pub(crate) cached: bool,
}

impl UpdateBase {
    /// The object read from storage.
    pub(crate) fn stored(kv: KeyValue, object: Value) -> Self {
        Self {
            kv,
            object,
            cached: false,
        }
    }
}

/// An object encoded for storage by [`Store::encode`].
struct EncodedWrite {
    /// The stored JSON: without `resourceVersion`.
    bytes: Bytes,
    /// The stored form when it is not the object itself (a type that converts, see [`Store::read_back`]).
    stored: Option<Value>,
    /// The object's API form over `bytes`, with a slot for its revision (types that store their API form).
    api: Option<encoded::EncodedObject>,
}

impl EncodedWrite {
    /// The object's JSON at `revision`, when its API form is encoded.
    fn json_at(&self, revision: u64) -> Option<Bytes> {
        let api = self.api.as_ref()?;
        let mut json = Vec::with_capacity(api.len() + 20);
        api.write_object(revision, &mut json);
        Some(Bytes::from(json))
    }
}

/// A namespace that refuses new objects: being deleted, or `status.phase` Terminating.
fn is_terminating(object: &Value) -> bool {
    meta::is_being_deleted(object) || object.pointer("/status/phase").and_then(Value::as_str) == Some("Terminating")
}

/// An object the strategy could not bring into its API form (a failed conversion): reads of it answer `error`.
fn failed(error: ApiError) -> Decoded {
    Decoded {
        form: encoded::ApiForm::Failed(Box::new(error)),
        labels: StringPairs::default(),
        fields: StringPairs::default(),
        terminating: false,
    }
}

impl Store {
    /// A store for `strategy` on `storage`; spawns the resource's watch cache on the current tokio runtime.
    /// `check_namespace` turns on the namespace lifecycle checks of creates (when namespaces are served).
    pub fn new(strategy: Arc<dyn Strategy>, storage: Arc<dyn Storage>, check_namespace: bool) -> Self {
        let decoder = Arc::clone(&strategy);
        let written = Arc::new(written::WrittenForms::default());
        let offered = Arc::clone(&written);
        let config = CacherConfig::new(strategy.info().storage_prefix.clone(), move |kv: &KeyValue| {
            offered.take(kv).unwrap_or_else(|| decode(decoder.as_ref(), kv))
        });
        let mut config = config;
        // Consistent reads (resourceVersion unset) wait until the cache has seen storage's current revision; a
        // resource nobody writes only learns it from progress notifications, so they come often.
        config.progress_interval = CONSISTENT_READ_PROGRESS;
        let cacher = Cacher::spawn(Arc::clone(&storage), config);
        Self {
            strategy,
            storage,
            cacher,
            check_namespace,
            namespace_cache: None,
            newest_write: std::sync::atomic::AtomicU64::new(0),
            create_refusal: std::sync::RwLock::new(None),
            written,
        }
    }

    /// Makes `create` answer `refusal` (or create again, with `None`); other verbs are unaffected. The CRD
    /// controller refuses creates of a terminating CRD's objects while it deletes them, as kube-apiserver does.
    pub fn set_create_refusal(&self, refusal: Option<ApiError>) {
        if let Ok(mut current) = self.create_refusal.write() {
            *current = refusal;
        }
    }

    /// The error `create` answers instead of creating, if one is set (the HTTP layer answers it before it
    /// reads the body, as kube-apiserver's CRD handler does).
    pub fn create_refusal(&self) -> Option<ApiError> {
        self.create_refusal.read().ok().and_then(|refusal| refusal.clone())
    }

    /// Lets the namespace checks of creates read the namespaces' watch cache before storage.
    pub(crate) fn set_namespace_cache(&mut self, namespaces: &Store) {
        self.namespace_cache = Some(namespaces.cacher.clone());
    }

    /// Records a successful write at `revision` (see `newest_write`).
    pub(crate) fn wrote(&self, revision: u64) {
        self.newest_write
            .fetch_max(revision, std::sync::atomic::Ordering::Relaxed);
    }

    /// The newest revision this store wrote (0 before its first write).
    pub(crate) fn newest_write(&self) -> u64 {
        self.newest_write.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// The resource's description.
    pub fn info(&self) -> &ResourceInfo {
        self.strategy.info()
    }

    /// The resource's strategy.
    pub fn strategy(&self) -> &Arc<dyn Strategy> {
        &self.strategy
    }

    /// The storage the store writes to.
    pub fn storage(&self) -> &Arc<dyn Storage> {
        &self.storage
    }

    /// Whether DELETE answers with the deleted object rather than a Status (ServiceAccounts).
    pub fn returns_deleted_object(&self) -> bool {
        self.strategy.return_deleted_object()
    }

    /// The success Status kube-apiserver answers a completed DELETE with: details name, group, kind (the
    /// resource) and uid.
    pub fn deleted_status(&self, deleted: &Value) -> Value {
        let info = self.info();
        let mut details = Map::new();
        details.insert("name".to_owned(), Value::from(meta::name(deleted).unwrap_or_default()));
        if !info.group.is_empty() {
            details.insert("group".to_owned(), Value::from(info.group.as_str()));
        }
        details.insert("kind".to_owned(), Value::from(info.resource.as_str()));
        details.insert("uid".to_owned(), Value::from(meta::uid(deleted).unwrap_or_default()));
        serde_json::json!({
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Success",
            "details": Value::Object(details),
        })
    }

    /// Table cells of `obj` (see [`Strategy::table_row`]).
    pub fn table_row(&self, obj: &Value) -> Vec<Value> {
        self.strategy.table_row(obj)
    }

    /// Waits (up to `timeout`) until the watch cache has listed storage.
    pub async fn wait_ready(&self, timeout: std::time::Duration) -> bool {
        self.cacher.wait_ready(timeout).await
    }

    fn group_resource(&self) -> GroupResource {
        self.info().group_resource()
    }

    /// The storage key of `name` in `namespace`.
    pub(crate) fn key(&self, namespace: Option<&str>, name: &str) -> String {
        let prefix = &self.info().storage_prefix;
        match namespace {
            Some(namespace) if self.info().namespaced => format!("{prefix}{namespace}/{name}"),
            _ => format!("{prefix}{name}"),
        }
    }

    /// The key prefix of a list or watch in `namespace` (all namespaces when `None`).
    fn list_prefix(&self, namespace: Option<&str>) -> String {
        let prefix = &self.info().storage_prefix;
        match namespace {
            Some(namespace) if self.info().namespaced && !namespace.is_empty() => format!("{prefix}{namespace}/"),
            _ => prefix.clone(),
        }
    }

    /// The wire form of a stored object: `resourceVersion` set, kind and apiVersion present.
    pub(crate) fn object_from(&self, kv: &KeyValue) -> Result<Value, ApiError> {
        let value: Value = serde_json::from_slice(&kv.value)
            .map_err(|error| ApiError::internal_error(format!("stored object does not decode: {error}")))?;
        let mut value = self.strategy.try_api_form(value)?;
        set_resource_version(&mut value, kv.mod_revision);
        Ok(value)
    }

    /// The API form of a stored object, encoded once (what [`object_from`](Self::object_from) gives, without
    /// the revision).
    pub(crate) fn api_form(&self, kv: &KeyValue) -> Result<encoded::ApiForm, ApiError> {
        let value: Value = serde_json::from_slice(&kv.value)
            .map_err(|error| ApiError::internal_error(format!("stored object does not decode: {error}")))?;
        let api = self.strategy.try_api_form(value)?;
        Ok(encoded::ApiForm::new(api, Some(&kv.value)))
    }

    /// The answer to a write of `value` (API form) committed at `revision`: the object as read back from
    /// storage. `stored` is its stored form when [`encode`](Self::encode) made one (it is converted back
    /// once, as kube-apiserver decodes what it wrote); a failed conversion answers the write with the error
    /// although the write is committed, as kube-apiserver's does.
    fn read_back(&self, value: Value, stored: Option<Value>, revision: u64) -> Result<Value, ApiError> {
        let mut value = match stored {
            Some(stored) => self.strategy.try_read_stored(stored)?,
            // Both conversions would return it unchanged.
            None if self.strategy.stored_form_is_api_form() => value,
            None => self
                .strategy
                .try_read_stored(self.strategy.try_prepare_stored(value)?)?,
        };
        set_resource_version(&mut value, revision);
        Ok(value)
    }

    /// The bytes stored for `value` under `key` (see [`EncodedWrite`]). When the type stores its API form, the
    /// watch cache is offered the decoded form of these bytes (withdraw it with
    /// [`write_failed`](Self::write_failed) if storage refuses them).
    fn encode(&self, key: &str, value: &Value) -> Result<EncodedWrite, ApiError> {
        let internal = |error: serde_json::Error| ApiError::internal_error(error.to_string());
        // Every read decodes the stored bytes with serde_json, which refuses more than 127 nested levels. A body
        // within that limit can still make a deeper object (managedFields nest each field a few levels below
        // the object; patches add depth): stored, it would answer every later read of it and of its list 500.
        if nesting_depth(value) > MAX_STORED_DEPTH {
            return Err(ApiError::bad_request(format!(
                "the object is nested too deeply to be stored: more than {MAX_STORED_DEPTH} levels of objects \
                 and lists (metadata.managedFields included)"
            )));
        }
        if self.strategy.stored_form_is_api_form() {
            let (bytes, encoded) = encoded::EncodedObject::encode_stored(value).map_err(internal)?;
            check_stored_size(&bytes)?;
            if let Some(encoded) = encoded {
                let (labels, fields, terminating) = index(self.strategy.as_ref(), value);
                let decoded = Decoded {
                    form: encoded::ApiForm::Encoded(encoded.clone()),
                    labels,
                    fields,
                    terminating,
                };
                self.written.offer(key, &bytes, decoded);
                return Ok(EncodedWrite {
                    bytes,
                    stored: None,
                    api: Some(encoded),
                });
            }
            return Ok(EncodedWrite {
                bytes,
                stored: None,
                api: None,
            });
        }
        let mut value = self
            .strategy
            .try_prepare_stored(value.clone())
            .map_err(|error| ApiError::internal_error(error.message()))?;
        if let Some(metadata) = value.get_mut("metadata").and_then(Value::as_object_mut) {
            metadata.shift_remove("resourceVersion");
        }
        let mut bytes = serde_json::to_vec(&value).map_err(internal)?;
        check_stored_size(&bytes)?;
        // Storage and the watch cache keep these bytes as long as the version lives: drop the growth slack.
        bytes.shrink_to_fit();
        Ok(EncodedWrite {
            bytes: Bytes::from(bytes),
            stored: Some(value),
            api: None,
        })
    }

    /// Storage did not take `bytes` (from [`encode`](Self::encode)) under `key`.
    fn write_failed(&self, key: &str, bytes: &Bytes) {
        self.written.withdraw(key, bytes);
    }

    /// The object an update attempt starts from, in API form, and whether it came from the watch cache. As
    /// kube-apiserver's cacher does for updates, a first attempt (`from_cache`) takes the cache's copy when it
    /// has one: the compare-and-swap on its revision catches a stale copy, and a stale attempt's outcome (a
    /// lost race, a conflict, an error) must be retried from storage ([`read_current`](Self::read_current)),
    /// which also answers for keys the cache does not hold (yet). Saves a storage read and, for converted types,
    /// a conversion per update.
    pub(crate) async fn current_for_update(&self, key: &str, from_cache: bool) -> Result<Option<UpdateBase>, ApiError> {
        if from_cache {
            if let Ok(Some(cached)) = self.cacher.get(key, kapi_storage::cacher::Freshness::Any).await {
                if let Ok(object) = cached.object.value(cached.kv.mod_revision) {
                    return Ok(Some(UpdateBase {
                        kv: cached.kv.clone(),
                        object,
                        cached: true,
                    }));
                }
            }
        }
        let Some(kv) = self.read_current(key).await? else {
            return Ok(None);
        };
        let object = self.object_from(&kv)?;
        Ok(Some(UpdateBase {
            kv,
            object,
            cached: false,
        }))
    }

    /// Reads one object straight from storage.
    pub(crate) async fn read_current(&self, key: &str) -> Result<Option<KeyValue>, ApiError> {
        self.storage
            .get(key)
            .await
            .map_err(|error| ApiError::internal_error(error.to_string()))
    }

    /// 404 `namespaces "x" not found` or 403 for a terminating namespace, when namespaces are served.
    async fn check_namespace_accepts(&self, namespace: &str, name: &str) -> Result<(), ApiError> {
        if !self.check_namespace || !self.info().namespaced {
            return Ok(());
        }
        let key = format!("{NAMESPACE_PREFIX}{namespace}");
        let cached = match &self.namespace_cache {
            Some(cache) => cache
                .get(&key, kapi_storage::cacher::Freshness::Any)
                .await
                .ok()
                .flatten()
                .filter(|cached| cached.object.is_valid())
                .map(|cached| cached.object.terminating),
            None => None,
        };
        let terminating = match cached {
            Some(terminating) => terminating,
            // A namespace created a moment ago may not have reached the cache yet.
            None => match self.read_current(&key).await? {
                Some(kv) => is_terminating(&serde_json::from_slice(&kv.value).unwrap_or(Value::Null)),
                None => return Err(ApiError::not_found(&GroupResource::new("", "namespaces"), namespace)),
            },
        };
        if terminating {
            return Err(ApiError::namespace_terminating(&self.group_resource(), name, namespace));
        }
        Ok(())
    }
}

/// Sets `metadata.resourceVersion` where kube-apiserver writes it (objects are stored in canonical order, so
/// after the identity keys that precede it), without reordering anything else.
pub(crate) fn set_resource_version(value: &mut Value, revision: u64) {
    set_resource_version_text(value, revision.to_string());
}

/// [`set_resource_version`] with any text (the encoder's placeholder).
fn set_resource_version_text(value: &mut Value, text: String) {
    let Some(metadata) = value.get_mut("metadata").and_then(Value::as_object_mut) else {
        return;
    };
    let text = Value::String(text);
    if let Some(existing) = metadata.get_mut("resourceVersion") {
        *existing = text;
        return;
    }
    let position = metadata
        .keys()
        .take_while(|key| matches!(key.as_str(), "name" | "generateName" | "namespace" | "selfLink" | "uid"))
        .count();
    metadata.shift_insert(position, "resourceVersion".to_owned(), text);
}

/// The fields of ObjectMeta, in the order kube-apiserver writes them (Go struct order); others follow.
pub(crate) const METADATA_ORDER: [&str; 16] = [
    "name",
    "generateName",
    "namespace",
    "selfLink",
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "labels",
    "annotations",
    "ownerReferences",
    "finalizers",
    "managedFields",
    "clusterName",
];

/// `value` with `kind`, `apiVersion` and `metadata` first and metadata keys in kube-apiserver's order.
pub(crate) fn canonical(value: Value) -> Value {
    let Value::Object(mut map) = value else {
        return value;
    };
    let mut out = Map::with_capacity(map.len());
    for key in ["kind", "apiVersion"] {
        if let Some(v) = map.remove(key) {
            out.insert(key.to_owned(), v);
        }
    }
    if let Some(metadata) = map.remove("metadata") {
        let metadata = match metadata {
            Value::Object(mut meta) => {
                let mut ordered = Map::with_capacity(meta.len());
                for key in METADATA_ORDER {
                    if let Some(v) = meta.remove(key) {
                        ordered.insert(key.to_owned(), v);
                    }
                }
                ordered.extend(meta);
                Value::Object(ordered)
            }
            other => other,
        };
        out.insert("metadata".to_owned(), metadata);
    }
    out.extend(map);
    Value::Object(out)
}

/// The deepest nesting of objects and lists a stored object may have. serde_json decodes 127 levels (its
/// recursion limit is 128 containers); a list answer holds each object two levels down (the list, its `items`),
/// so objects of at most 125 levels keep every read, list and watch event decodable by serde_json clients too
/// (kube-rs), not only by the server.
pub(crate) const MAX_STORED_DEPTH: usize = 125;

/// The largest object storage keeps: as large as the largest request body the API takes (3 MiB). A create or
/// update cannot send more, but patches and applies grow what is stored, which would otherwise be unbounded
/// (kube-apiserver is bounded by etcd's request limit, 1.5 MiB by default, and answers 500 when it is hit).
pub(crate) const MAX_STORED_BYTES: usize = 3 * 1024 * 1024;

/// 413 for stored bytes over [`MAX_STORED_BYTES`].
fn check_stored_size(bytes: &[u8]) -> Result<(), ApiError> {
    if bytes.len() > MAX_STORED_BYTES {
        return Err(ApiError::request_entity_too_large(format!(
            "the object would be stored as {} bytes; limit is {MAX_STORED_BYTES}",
            bytes.len()
        )));
    }
    Ok(())
}

/// How many objects and lists `value` nests (a scalar is 0), without recursion.
pub(crate) fn nesting_depth(value: &Value) -> usize {
    let is_container = |value: &&Value| matches!(value, Value::Object(_) | Value::Array(_));
    let mut deepest = 0;
    let mut pending = vec![(value, 1)];
    while let Some((value, depth)) = pending.pop() {
        match value {
            Value::Object(map) => pending.extend(map.values().filter(is_container).map(|child| (child, depth + 1))),
            Value::Array(items) => pending.extend(items.iter().filter(is_container).map(|child| (child, depth + 1))),
            _ => continue,
        }
        deepest = deepest.max(depth);
    }
    deepest
}

#[cfg(test)]
mod nesting_tests {
    use super::*;

    fn nested(depth: usize) -> String {
        format!("{}{}", "[".repeat(depth), "]".repeat(depth))
    }

    #[test]
    fn the_stored_depth_limit_is_what_serde_json_decodes() {
        // The deepest object inside a list decodes; one level more does not.
        let list_depth = MAX_STORED_DEPTH + 2;
        let deepest: Value = serde_json::from_str(&nested(list_depth)).expect("decodes");
        assert_eq!(nesting_depth(&deepest), list_depth);
        assert!(serde_json::from_str::<Value>(&nested(list_depth + 1)).is_err());
        let object: Value = serde_json::json!({"a": [1, {"b": {}}], "c": "d"});
        assert_eq!(nesting_depth(&object), 4);
        assert_eq!(nesting_depth(&Value::Null), 0);
    }
}
