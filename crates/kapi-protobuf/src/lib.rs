//! Kubernetes protobuf for built-in types, as a transcoder between the JSON form kapi keeps objects in and the
//! protobuf wire form client-go sends and asks for (`application/vnd.kubernetes.protobuf`).
//!
//! kapi holds objects as `serde_json::Value`, so there are no generated Rust structs here: a table of message
//! descriptors (`src/descriptors.txt`, generated from upstream `generated.proto` files and Go struct tags by
//! `tools/gen-descriptors.py`) drives a walk over the JSON value or the wire bytes. The table records the Go
//! facts the two forms depend on, so the output is what kube-apiserver would produce:
//!
//! - **Wire**: fields in number order; non-pointer Go fields are always written, zero or not (`generateName: ""`
//!   goes out as an empty string), pointer fields only when set; maps sorted by key; `metav1.Time` as a
//!   `Timestamp` of whole seconds, empty when zero.
//! - **JSON**: `kind` and `apiVersion` first, then fields in Go struct order; `omitempty` drops zero scalars and
//!   empty lists and maps; lists and maps without `omitempty` come out as `null` when empty, as Go prints nil
//!   slices (except a list's `items`, which kube-apiserver always prints as an array); struct fields are always
//!   present; zero times are `null` (or absent with `omitzero`).
//!
//! A body is the 4 magic bytes `k8s\0` followed by a `runtime.Unknown` whose `typeMeta` names the kind and whose
//! `raw` holds the object's message ([`encode`], [`decode`]). Watch streams differ: see [`watch`].
//!
//! ```
//! use kapi_core::GroupVersionKind;
//! use serde_json::json;
//!
//! let configmap = GroupVersionKind::new("", "v1", "ConfigMap");
//! let body = kapi_protobuf::encode(&configmap, &json!({"metadata": {"name": "cm"}, "data": {"a": "1"}}))?;
//! assert!(body.starts_with(b"k8s\0"));
//!
//! let (kind, object) = kapi_protobuf::decode(&body)?;
//! assert_eq!(kind, configmap);
//! assert_eq!(object, json!({"kind": "ConfigMap", "apiVersion": "v1", "metadata": {"name": "cm"}, "data": {"a": "1"}}));
//! # Ok::<(), kapi_protobuf::Error>(())
//! ```
//!
//! Served kinds: core/v1 ConfigMap, Secret, Namespace, ServiceAccount, Event; events.k8s.io/v1 Event;
//! coordination.k8s.io/v1 Lease; rbac.authorization.k8s.io/v1 Role, RoleBinding, ClusterRole, ClusterRoleBinding
//! (each with its List); authentication.k8s.io/v1 TokenRequest, TokenReview, SelfSubjectReview;
//! authorization.k8s.io/v1 SubjectAccessReview, SelfSubjectAccessReview, LocalSubjectAccessReview,
//! SelfSubjectRulesReview; meta.k8s.io/v1 PartialObjectMetadata(List); and Status, DeleteOptions and
//! WatchEvent in every group version. Custom resources have no protobuf form ([`supports`] says no).
//!
//! To add a built-in kind: add its message to `ROOTS` in `tools/gen-descriptors.py` (and its package to
//! `PACKAGES` if new), regenerate the table from checkouts of k8s.io/api and k8s.io/apimachinery at the served
//! version's tag (`python3 tools/gen-descriptors.py API_DIR APIMACHINERY_DIR > src/descriptors.txt`), then list
//! the kind in `TOP_LEVEL` (and its group in `message_name`) here.
//!
//! Information the protobuf form cannot carry is lost in a round trip, exactly as with Go clients: unknown JSON
//! fields, the difference between an empty and an absent map or list, and sub-second precision of `metav1.Time`.

mod decode;
mod descriptor;
mod encode;
#[cfg(test)]
mod special_tests;
mod time;
pub mod watch;
mod wire;

use kapi_core::{GroupVersion, GroupVersionKind};
use serde_json::{Map, Value};

use crate::{
    descriptor::{Registry, ValueType},
    wire::{FieldReader, WireValue},
};

/// The media type of protobuf request and response bodies.
pub const MEDIA_TYPE: &str = "application/vnd.kubernetes.protobuf";

/// The media type of a protobuf watch stream (see [`watch`]).
pub const WATCH_MEDIA_TYPE: &str = "application/vnd.kubernetes.protobuf;stream=watch";

/// The four bytes every protobuf body starts with.
pub const MAGIC: [u8; 4] = *b"k8s\0";

/// Why a body could not be transcoded. The API layer answers decode failures with 400 (or 415 for an
/// unsupported kind), as kube-apiserver does.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The body does not start with [`MAGIC`].
    #[error("provided data does not appear to be a protobuf message, expected prefix [107 56 115 0]")]
    MissingMagic,
    /// The bytes are not a well-formed protobuf message of the expected shape.
    #[error("malformed protobuf{}: {message}", at(path))]
    Malformed {
        /// The JSON path of the field being read, e.g. `metadata.labels`; empty at the top.
        path: String,
        /// What was wrong.
        message: String,
    },
    /// A JSON value does not fit the protobuf field it maps to (a number where a string belongs, bad base64).
    #[error("cannot encode{}: {message}", at(path))]
    InvalidValue {
        /// The JSON path of the offending value.
        path: String,
        /// What was wrong.
        message: String,
    },
    /// The envelope names no kind.
    #[error("Object 'Kind' is missing in protobuf envelope")]
    MissingKind,
    /// The envelope's apiVersion is not a group version.
    #[error("unexpected GroupVersion string: {0}")]
    InvalidApiVersion(String),
    /// The kind has no protobuf form here (custom resources, types kapi does not serve).
    #[error("no kind \"{}\" is registered for version \"{}\" in protobuf", .0.kind, .0.group_version())]
    UnsupportedKind(GroupVersionKind),
    /// The envelope declares a content encoding or content type other than plain protobuf.
    #[error("unsupported protobuf envelope: {0}")]
    UnsupportedEnvelope(String),
}

fn at(path: &str) -> String {
    if path.is_empty() {
        String::new()
    } else {
        format!(" at {path}")
    }
}

impl Error {
    pub(crate) fn malformed(message: impl Into<String>) -> Self {
        Self::Malformed {
            path: String::new(),
            message: message.into(),
        }
    }

    pub(crate) fn invalid(message: impl Into<String>) -> Self {
        Self::InvalidValue {
            path: String::new(),
            message: message.into(),
        }
    }

    /// Prefixes the error's path with one more outer segment as the error travels up.
    pub(crate) fn within(mut self, segment: &str) -> Self {
        if let Self::Malformed { path, .. } | Self::InvalidValue { path, .. } = &mut self {
            *path = if path.is_empty() {
                segment.to_owned()
            } else if path.starts_with('[') {
                format!("{segment}{path}")
            } else {
                format!("{segment}.{path}")
            };
        }
        self
    }
}

/// The top-level kinds with a protobuf form, as descriptor names (`<package>.<version>.<Kind>`).
const TOP_LEVEL: &[&str] = &[
    "core.v1.ConfigMap",
    "core.v1.ConfigMapList",
    "core.v1.Secret",
    "core.v1.SecretList",
    "core.v1.Namespace",
    "core.v1.NamespaceList",
    "core.v1.ServiceAccount",
    "core.v1.ServiceAccountList",
    "core.v1.Event",
    "core.v1.EventList",
    "events.v1.Event",
    "events.v1.EventList",
    "coordination.v1.Lease",
    "coordination.v1.LeaseList",
    "rbac.v1.Role",
    "rbac.v1.RoleList",
    "rbac.v1.RoleBinding",
    "rbac.v1.RoleBindingList",
    "rbac.v1.ClusterRole",
    "rbac.v1.ClusterRoleList",
    "rbac.v1.ClusterRoleBinding",
    "rbac.v1.ClusterRoleBindingList",
    "authentication.v1.TokenRequest",
    "authentication.v1.TokenReview",
    "authentication.v1.SelfSubjectReview",
    "authorization.v1.SubjectAccessReview",
    "authorization.v1.SelfSubjectAccessReview",
    "authorization.v1.LocalSubjectAccessReview",
    "authorization.v1.SelfSubjectRulesReview",
    "meta.v1.PartialObjectMetadata",
    "meta.v1.PartialObjectMetadataList",
];

/// Kinds that every group version carries, all meaning the `meta/v1` message.
const EVERY_GROUP_VERSION: &[&str] = &["Status", "DeleteOptions", "WatchEvent"];

/// The descriptor name of a kind, if it has a protobuf form.
fn message_name(gvk: &GroupVersionKind) -> Option<String> {
    if EVERY_GROUP_VERSION.contains(&gvk.kind.as_str()) && !gvk.version.is_empty() {
        return Some(format!("meta.v1.{}", gvk.kind));
    }
    let package = match gvk.group.as_str() {
        "" => "core",
        "events.k8s.io" => "events",
        "coordination.k8s.io" => "coordination",
        "rbac.authorization.k8s.io" => "rbac",
        "authentication.k8s.io" => "authentication",
        "authorization.k8s.io" => "authorization",
        "meta.k8s.io" => "meta",
        _ => return None,
    };
    let name = format!("{package}.{}.{}", gvk.version, gvk.kind);
    TOP_LEVEL.contains(&name.as_str()).then_some(name)
}

fn message_index(gvk: &GroupVersionKind) -> Result<usize, Error> {
    message_name(gvk)
        .and_then(|name| Registry::get().message_index(&name))
        .ok_or_else(|| Error::UnsupportedKind(gvk.clone()))
}

/// Whether `gvk` has a protobuf form here. Custom resources never do (kube-apiserver answers 406 to a protobuf
/// `Accept` for them and cannot read protobuf bodies for them).
pub fn supports(gvk: &GroupVersionKind) -> bool {
    message_name(gvk).is_some_and(|name| Registry::get().message_index(&name).is_some())
}

/// Encodes an object held in its JSON form as a protobuf body: [`MAGIC`] and the `runtime.Unknown` envelope.
///
/// `gvk` goes into the envelope; `kind` and `apiVersion` keys of `object` are ignored, and so are fields the
/// kind does not have.
pub fn encode(gvk: &GroupVersionKind, object: &Value) -> Result<Vec<u8>, Error> {
    let index = message_index(gvk)?;
    enveloped(gvk, |out| encode::message(Registry::get(), index, object, out))
}

/// Encodes a list from its parts, without assembling the list as one JSON value first: the same bytes as
/// [`encode`] of `{"metadata": metadata, "items": [...]}`. `list_gvk` is the list kind (`ConfigMapList`).
pub fn encode_list<'a>(
    list_gvk: &GroupVersionKind,
    metadata: &Value,
    items: impl IntoIterator<Item = &'a Value>,
) -> Result<Vec<u8>, Error> {
    let registry = Registry::get();
    let list = &registry.messages[message_index(list_gvk)?];
    let field = |name: &str| list.fields.iter().find(|field| field.json_name == name);
    let (Some(metadata_field), Some(items_field)) = (field("metadata"), field("items")) else {
        return Err(Error::UnsupportedKind(list_gvk.clone()));
    };
    let (ValueType::Message(metadata_index), ValueType::Message(item_index)) =
        (metadata_field.value_type, items_field.value_type)
    else {
        return Err(Error::UnsupportedKind(list_gvk.clone()));
    };
    // Field 1 before field 2, as Go writes them.
    enveloped(list_gvk, |out| {
        wire::put_nested(out, metadata_field.number, |out| {
            encode::message(registry, metadata_index, metadata, out).map_err(|error| error.within("metadata"))
        })?;
        for (position, item) in items.into_iter().enumerate() {
            wire::put_nested(out, items_field.number, |out| {
                encode::message(registry, item_index, item, out)
                    .map_err(|error| error.within(&format!("[{position}]")).within("items"))
            })?;
        }
        Ok(())
    })
}

/// Writes [`MAGIC`] and a `runtime.Unknown` whose `raw` is what `write_raw` appends.
fn enveloped(
    gvk: &GroupVersionKind,
    write_raw: impl FnOnce(&mut Vec<u8>) -> Result<(), Error>,
) -> Result<Vec<u8>, Error> {
    let mut out = Vec::with_capacity(256);
    write_envelope(&mut out, gvk, write_raw)?;
    Ok(out)
}

/// Appends [`MAGIC`] and a `runtime.Unknown` whose `raw` is what `write_raw` appends.
pub(crate) fn write_envelope(
    out: &mut Vec<u8>,
    gvk: &GroupVersionKind,
    write_raw: impl FnOnce(&mut Vec<u8>) -> Result<(), Error>,
) -> Result<(), Error> {
    out.extend_from_slice(&MAGIC);
    wire::put_nested(out, 1, |type_meta| {
        wire::put_bytes(type_meta, 1, gvk.group_version().to_string().as_bytes());
        wire::put_bytes(type_meta, 2, gvk.kind.as_bytes());
        Ok::<(), Error>(())
    })?;
    wire::put_nested(out, 2, write_raw)?;
    // Go writes the empty contentEncoding and contentType too; matching it keeps bodies byte-identical.
    wire::put_bytes(out, 3, b"");
    wire::put_bytes(out, 4, b"");
    Ok(())
}

/// Decodes a protobuf body into its kind and its JSON form (`kind`, `apiVersion`, then the fields in
/// kube-apiserver's key order).
pub fn decode(data: &[u8]) -> Result<(GroupVersionKind, Value), Error> {
    decode_with_defaults(data, None)
}

/// Like [`decode`], but an envelope that leaves `apiVersion` or `kind` empty takes them from `defaults`, the
/// kind the endpoint expects, as Go's decoder does.
pub fn decode_with_defaults(
    data: &[u8],
    defaults: Option<&GroupVersionKind>,
) -> Result<(GroupVersionKind, Value), Error> {
    decode_at_depth(data, defaults, 0)
}

/// Decodes an object embedded in another message's RawExtension.
pub(crate) fn decode_nested(data: &[u8], depth: usize) -> Result<(GroupVersionKind, Value), Error> {
    decode_at_depth(data, None, depth)
}

fn decode_at_depth(
    data: &[u8],
    defaults: Option<&GroupVersionKind>,
    depth: usize,
) -> Result<(GroupVersionKind, Value), Error> {
    let envelope = Envelope::parse(data)?;
    let mut gvk = GroupVersionKind::from_api_version_and_kind(&envelope.api_version, &envelope.kind)
        .map_err(|_| Error::InvalidApiVersion(envelope.api_version.clone()))?;
    if let Some(defaults) = defaults {
        if gvk.kind.is_empty() {
            gvk.kind.clone_from(&defaults.kind);
        }
        if gvk.version.is_empty() {
            GroupVersion {
                group: gvk.group,
                version: gvk.version,
            } = defaults.group_version();
        }
    }
    if gvk.kind.is_empty() {
        return Err(Error::MissingKind);
    }
    let index = message_index(&gvk)?;
    let registry = Registry::get();
    let fields = decode::message_fields(registry, index, envelope.raw, depth)?;
    let mut object = Map::with_capacity(fields.len() + 2);
    if gvk.kind != "WatchEvent" {
        // Every served kind but WatchEvent embeds TypeMeta, which Go prints first: kind, then apiVersion.
        object.insert("kind".to_owned(), Value::String(gvk.kind.clone()));
        object.insert("apiVersion".to_owned(), Value::String(gvk.group_version().to_string()));
    }
    object.extend(fields);
    Ok((gvk, Value::Object(object)))
}

/// The parts of a `runtime.Unknown` envelope.
struct Envelope<'a> {
    api_version: String,
    kind: String,
    raw: &'a [u8],
}

impl<'a> Envelope<'a> {
    fn parse(data: &'a [u8]) -> Result<Self, Error> {
        let body = data.strip_prefix(&MAGIC[..]).ok_or(Error::MissingMagic)?;
        let mut envelope = Envelope {
            api_version: String::new(),
            kind: String::new(),
            raw: &[],
        };
        for field in FieldReader::new(body) {
            match field? {
                (1, WireValue::Bytes(type_meta)) => {
                    for field in FieldReader::new(type_meta) {
                        match field.map_err(|error| error.within("typeMeta"))? {
                            (1, WireValue::Bytes(text)) => envelope.api_version = utf8(text),
                            (2, WireValue::Bytes(text)) => envelope.kind = utf8(text),
                            _ => {}
                        }
                    }
                }
                (2, WireValue::Bytes(raw)) => envelope.raw = raw,
                (3, WireValue::Bytes(encoding)) if !encoding.is_empty() => {
                    return Err(Error::UnsupportedEnvelope(format!(
                        "content encoding {:?}",
                        utf8(encoding)
                    )));
                }
                (4, WireValue::Bytes(content_type))
                    if !content_type.is_empty() && content_type != MEDIA_TYPE.as_bytes() =>
                {
                    return Err(Error::UnsupportedEnvelope(format!(
                        "content type {:?}",
                        utf8(content_type)
                    )));
                }
                (1..=4, value) if value.wire_type() != wire::WireType::Bytes => {
                    return Err(Error::malformed("envelope field of the wrong wire type"));
                }
                _ => {}
            }
        }
        Ok(envelope)
    }
}

/// Go strings hold any bytes; its JSON encoder replaces invalid UTF-8 with U+FFFD, and so does this.
fn utf8(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}
