//! The data that crosses the registry ↔ endpoints seam: resource descriptions, request options and results.

use bytes::Bytes;
use kapi_core::{ApiError, FieldError, FieldErrors, FieldPath, GroupKind};
use serde_json::{json, Value};

/// A column of a `meta.k8s.io/v1` Table (`metav1.TableColumnDefinition`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TableColumn {
    /// Column title, e.g. `Name`.
    pub name: String,
    /// OpenAPI type: `string`, `integer`, `date`...
    pub type_: String,
    /// OpenAPI format, e.g. `name`; often empty.
    pub format: String,
    /// Human description.
    pub description: String,
    /// 0 for the default view, 1 and up for `-o wide`.
    pub priority: i32,
}

/// The description kube-apiserver gives the Name column of every Table (ObjectMeta.name's).
pub const NAME_COLUMN_DESCRIPTION: &str = "Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names";

/// The description kube-apiserver gives Age / Created At columns (ObjectMeta.creationTimestamp's).
pub const CREATION_TIMESTAMP_DESCRIPTION: &str = "CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata";

impl TableColumn {
    /// A column of `type_`/`format` with `description` at `priority`.
    pub fn new(name: &str, type_: &str, format: &str, description: &str, priority: i32) -> Self {
        Self {
            name: name.to_owned(),
            type_: type_.to_owned(),
            format: format.to_owned(),
            description: description.to_owned(),
            priority,
        }
    }

    /// The `Name` column every Table starts with.
    pub fn name_column() -> Self {
        Self::new("Name", "string", "name", NAME_COLUMN_DESCRIPTION, 0)
    }

    /// The `Created At` / `Age` column of kube-apiserver's default table (`creationTimestamp`).
    pub fn age_column(title: &str) -> Self {
        Self::new(title, "date", "", CREATION_TIMESTAMP_DESCRIPTION, 0)
    }

    /// The wire form (`metav1.TableColumnDefinition`).
    pub fn to_value(&self) -> Value {
        json!({
            "name": self.name,
            "type": self.type_,
            "format": self.format,
            "description": self.description,
            "priority": self.priority,
        })
    }
}

/// Static description of one served resource (drives discovery, OpenAPI, routing, Table).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResourceInfo {
    /// API group, `""` for core.
    pub group: String,
    /// Version, e.g. `v1`.
    pub version: String,
    /// Plural resource name, e.g. `configmaps`.
    pub resource: String,
    /// Kind, e.g. `ConfigMap`.
    pub kind: String,
    /// List kind, e.g. `ConfigMapList`.
    pub list_kind: String,
    /// Singular name, e.g. `configmap`.
    pub singular: String,
    /// Short names, e.g. `["cm"]`.
    pub short_names: Vec<String>,
    /// Categories, e.g. `["all"]`.
    pub categories: Vec<String>,
    /// Whether objects live in namespaces.
    pub namespaced: bool,
    /// Verbs, sorted as discovery lists them.
    pub verbs: Vec<String>,
    /// Subresources, e.g. `["status"]`.
    pub subresources: Vec<String>,
    /// Table columns, `Name` first.
    pub table_columns: Vec<TableColumn>,
    /// The OpenAPI definition name, e.g. `io.k8s.api.core.v1.ConfigMap`.
    pub openapi_definition: Option<String>,
    /// Storage key prefix, ending in `/`: `/registry/configmaps/`, `/registry/<group>/<resource>/`.
    pub storage_prefix: String,
}

impl ResourceInfo {
    /// `group/version` (or `version` for core): the objects' `apiVersion`.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.clone()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    /// The group and plural resource, for error messages (`roles.rbac.authorization.k8s.io`).
    pub fn group_resource(&self) -> kapi_core::GroupResource {
        kapi_core::GroupResource::new(&self.group, &self.resource)
    }

    /// The group and kind, for Invalid errors (`ConfigMap`).
    pub fn group_kind(&self) -> GroupKind {
        GroupKind::new(&self.group, &self.kind)
    }

    /// The eight standard verbs.
    pub fn standard_verbs() -> Vec<String> {
        [
            "create",
            "delete",
            "deletecollection",
            "get",
            "list",
            "patch",
            "update",
            "watch",
        ]
        .into_iter()
        .map(str::to_owned)
        .collect()
    }
}

/// Who is asking (for managedFields now, audit later).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RequestContext {
    /// The authenticated user name.
    pub user: String,
    /// The user's groups.
    pub groups: Vec<String>,
    /// The `User-Agent` header, the source of the default field manager.
    pub user_agent: Option<String>,
}

impl RequestContext {
    /// The field manager of a request without `fieldManager`: the User-Agent up to its first `/`
    /// (`kubectl/v1.33 ...` → `kubectl`), as kube-apiserver derives it; `unknown` without User-Agent.
    pub fn default_field_manager(&self) -> String {
        match self.user_agent.as_deref() {
            Some(agent) if !agent.is_empty() => agent.split('/').next().unwrap_or(agent).to_owned(),
            _ => "unknown".to_owned(),
        }
    }
}

/// `fieldValidation`: how unknown and duplicate fields in a request body are treated.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum FieldValidation {
    /// Drop them silently.
    Ignore,
    /// Drop them and warn (the default of kube-apiserver for writes).
    #[default]
    Warn,
    /// Reject the request with 400.
    Strict,
}

/// Options of create (`metav1.CreateOptions`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CreateOptions {
    /// `dryRun=All`: validate and answer without writing.
    pub dry_run: bool,
    /// `fieldManager`; `None` uses [`RequestContext::default_field_manager`].
    pub field_manager: Option<String>,
    /// `fieldValidation`.
    pub field_validation: FieldValidation,
    /// Duplicate fields the decoder saw in the body (paths like `.data.a`), reported per `field_validation`.
    pub duplicate_fields: Vec<String>,
}

/// Options of update (`metav1.UpdateOptions`).
pub type UpdateOptions = CreateOptions;

/// Options of patch (`metav1.PatchOptions`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PatchOptions {
    /// `dryRun=All`.
    pub dry_run: bool,
    /// `fieldManager`.
    pub field_manager: Option<String>,
    /// `fieldValidation`.
    pub field_validation: FieldValidation,
    /// `force` (server-side apply).
    pub force: Option<bool>,
}

/// Options of get (`metav1.GetOptions`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GetOptions {
    /// `resourceVersion`: unset = most recent, `"0"` = any, `N` = not older than N.
    pub resource_version: Option<String>,
}

/// Options of list and watch (`metav1.ListOptions`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ListOptions {
    /// `labelSelector`.
    pub label_selector: Option<String>,
    /// `fieldSelector`.
    pub field_selector: Option<String>,
    /// `limit` (page size).
    pub limit: Option<i64>,
    /// `continue`.
    pub continue_token: Option<String>,
    /// `resourceVersion`.
    pub resource_version: Option<String>,
    /// `resourceVersionMatch`.
    pub resource_version_match: Option<String>,
    /// `allowWatchBookmarks`.
    pub allow_watch_bookmarks: bool,
    /// `sendInitialEvents`.
    pub send_initial_events: Option<bool>,
    /// `timeoutSeconds` (the endpoint ends the watch; the registry times its bookmarks by it).
    pub timeout_seconds: Option<i64>,
}

/// `metav1.Preconditions` of a delete.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Preconditions {
    /// The uid the object must have.
    pub uid: Option<String>,
    /// The resourceVersion the object must have.
    pub resource_version: Option<String>,
}

/// Options of delete (`metav1.DeleteOptions`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DeleteOptions {
    /// `dryRun=All`.
    pub dry_run: bool,
    /// `gracePeriodSeconds` (kapi has no graceful types: objects go at once unless finalizers hold them).
    pub grace_period_seconds: Option<i64>,
    /// Preconditions on the stored object.
    pub preconditions: Preconditions,
    /// `propagationPolicy`: `Foreground`, `Background`, `Orphan`.
    pub propagation_policy: Option<String>,
    /// The deprecated `orphanDependents`.
    pub orphan_dependents: Option<bool>,
}

impl DeleteOptions {
    /// kube-apiserver's `ValidateDeleteOptions`: 422 `DeleteOptions.meta.k8s.io "" is invalid: ...`.
    pub fn validate(&self) -> Result<(), ApiError> {
        let mut errors = FieldErrors::new();
        let path = FieldPath::new("propagationPolicy");
        if let Some(policy) = &self.propagation_policy {
            if self.orphan_dependents.is_some() {
                errors.push(FieldError::invalid(
                    &path,
                    policy.as_str(),
                    "orphanDependents and deletionPropagation cannot be both set",
                ));
            }
            if !matches!(policy.as_str(), "Foreground" | "Background" | "Orphan") {
                errors.push(FieldError::not_supported(
                    &path,
                    policy.as_str(),
                    &["Foreground", "Background", "Orphan", "nil"],
                ));
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(ApiError::invalid(
                &GroupKind::new("meta.k8s.io", "DeleteOptions"),
                "",
                &errors,
            ))
        }
    }
}

/// The 422 for a `dryRun` value other than `All`: `<Kind>Options.meta.k8s.io "" is invalid: dryRun: Unsupported
/// value: ["x"]: supported values: "All"`. `options_kind` is `CreateOptions`, `UpdateOptions`, `PatchOptions` or
/// `DeleteOptions`.
pub fn invalid_dry_run(options_kind: &str, values: &[String]) -> ApiError {
    let values = Value::Array(values.iter().cloned().map(Value::String).collect());
    let mut error = FieldError::not_supported(&FieldPath::new("dryRun"), "", &["All"]);
    error.bad_value = kapi_core::BadValue::Json(values);
    ApiError::invalid(&GroupKind::new("meta.k8s.io", options_kind), "", &error.into())
}

/// The 422 for a field manager over 128 bytes.
pub(crate) fn validate_field_manager(manager: &str, options_kind: &str) -> Result<(), ApiError> {
    let errors = kapi_core::validation::validate_field_manager(manager, &FieldPath::new("fieldManager"));
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError::invalid(
            &GroupKind::new("meta.k8s.io", options_kind),
            "",
            &errors,
        ))
    }
}

/// Patch formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PatchType {
    /// `application/json-patch+json` (RFC 6902).
    Json,
    /// `application/merge-patch+json` (RFC 7386).
    Merge,
    /// `application/strategic-merge-patch+json`.
    StrategicMerge,
    /// `application/apply-patch+yaml` (server-side apply).
    Apply,
}

/// A patch request body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Patch {
    /// The format.
    pub patch_type: PatchType,
    /// The body as sent.
    pub body: Bytes,
}

/// The result of a write with the warnings to send as `Warning: 299 - "..."` headers.
#[derive(Clone, Debug, PartialEq)]
pub struct Response<T> {
    /// The result.
    pub value: T,
    /// Warnings (fieldValidation=Warn, strategy warnings).
    pub warnings: Vec<String>,
    /// The written object's JSON, when the store already has it encoded: exactly what serializing the object in
    /// `value` gives, so a JSON response can send these bytes instead of encoding the object again.
    pub json: Option<Bytes>,
}

/// What a delete did.
#[derive(Clone, Debug, PartialEq)]
pub enum DeleteOutcome {
    /// The object is gone; this was its last state.
    Deleted(Value),
    /// The object stays for now (finalizers, namespace termination); this is its new state.
    Pending(Value),
}

/// The type of a watch event on the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WatchEventType {
    /// `ADDED`.
    Added,
    /// `MODIFIED`.
    Modified,
    /// `DELETED`.
    Deleted,
    /// `BOOKMARK`.
    Bookmark,
    /// `ERROR` (the object is a `metav1.Status`).
    Error,
}

impl WatchEventType {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Added => "ADDED",
            Self::Modified => "MODIFIED",
            Self::Deleted => "DELETED",
            Self::Bookmark => "BOOKMARK",
            Self::Error => "ERROR",
        }
    }
}

/// One watch event in wire form.
#[derive(Clone, Debug, PartialEq)]
pub struct WatchEvent {
    /// The event type.
    pub kind: WatchEventType,
    /// The object (or the Status of an ERROR, or the bookmark's skeleton object).
    pub object: Value,
}

impl WatchEvent {
    /// `{"type": ..., "object": ...}`.
    pub fn to_value(&self) -> Value {
        self.clone().into_value()
    }

    /// `{"type": ..., "object": ...}`, without copying the object.
    pub fn into_value(self) -> Value {
        let mut map = serde_json::Map::with_capacity(2);
        map.insert("type".to_owned(), Value::from(self.kind.as_str()));
        map.insert("object".to_owned(), self.object);
        Value::Object(map)
    }
}
