//! API errors and their wire form, `metav1.Status`.
//!
//! [`ApiError`] has one variant per `metav1.StatusReason`; the variant fixes the reason and the HTTP code, the
//! fields carry the message and the optional [`StatusDetails`]. Build errors with the constructors, which produce
//! kube-apiserver's exact messages (`configmaps "x" not found`, `ConfigMap "x" is invalid: ...`), and send them
//! with [`ApiError::to_status`] or [`ApiError::status`].
//!
//! Details are optional on purpose: kube-apiserver sends no `details` for some errors, `"details": {}` for others
//! (the generic NotFound and MethodNotAllowed), and filled details for most; clients see the difference.

mod wire;

use serde_json::Value;

pub use self::wire::{Status, StatusCause, StatusDetails, OPTIMISTIC_LOCK_MESSAGE};

use crate::{
    field::FieldErrors,
    gofmt,
    gvk::{GroupKind, GroupResource},
};

/// Details are boxed inside [`ApiError`] to keep `Result<T, ApiError>` small.
fn boxed(details: StatusDetails) -> Option<Box<StatusDetails>> {
    Some(Box::new(details))
}

/// An API error, one variant per `metav1.StatusReason`. `Display` is the message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApiError {
    /// 400 `BadRequest`: the request itself is malformed.
    #[error("{message}")]
    BadRequest {
        /// The message.
        message: String,
        /// Optional details.
        details: Option<Box<StatusDetails>>,
    },
    /// 401 `Unauthorized`: the client did not authenticate.
    #[error("{message}")]
    Unauthorized {
        /// The message.
        message: String,
        /// Optional details.
        details: Option<Box<StatusDetails>>,
    },
    /// 403 `Forbidden`: the client may not do this.
    #[error("{message}")]
    Forbidden {
        /// The message.
        message: String,
        /// Optional details.
        details: Option<Box<StatusDetails>>,
    },
    /// 404 `NotFound`: the object or the URL does not exist.
    #[error("{message}")]
    NotFound {
        /// The message.
        message: String,
        /// Optional details.
        details: Option<Box<StatusDetails>>,
    },
    /// 405 `MethodNotAllowed`: the verb is not served here.
    #[error("{message}")]
    MethodNotAllowed {
        /// The message.
        message: String,
        /// Optional details.
        details: Option<Box<StatusDetails>>,
    },
    /// 406 `NotAcceptable`: no representation the client accepts.
    #[error("{message}")]
    NotAcceptable {
        /// The message.
        message: String,
        /// Optional details.
        details: Option<Box<StatusDetails>>,
    },
    /// 409 `AlreadyExists`: a create hit an existing name.
    #[error("{message}")]
    AlreadyExists {
        /// The message.
        message: String,
        /// Optional details.
        details: Option<Box<StatusDetails>>,
    },
    /// 409 `Conflict`: a precondition or optimistic-concurrency check failed.
    #[error("{message}")]
    Conflict {
        /// The message.
        message: String,
        /// Optional details.
        details: Option<Box<StatusDetails>>,
    },
    /// 410 `Gone`: the resource is gone.
    #[error("{message}")]
    Gone {
        /// The message.
        message: String,
        /// Optional details.
        details: Option<Box<StatusDetails>>,
    },
    /// 410 `Expired`: the requested resourceVersion or continue token was compacted away.
    #[error("{message}")]
    Expired {
        /// The message.
        message: String,
        /// Optional details.
        details: Option<Box<StatusDetails>>,
    },
    /// 413 `RequestEntityTooLarge`: the body exceeds the limit.
    #[error("{message}")]
    RequestEntityTooLarge {
        /// The message.
        message: String,
        /// Optional details.
        details: Option<Box<StatusDetails>>,
    },
    /// 415 `UnsupportedMediaType`: the body's content type is not accepted.
    #[error("{message}")]
    UnsupportedMediaType {
        /// The message.
        message: String,
        /// Optional details.
        details: Option<Box<StatusDetails>>,
    },
    /// 422 `Invalid`: the object failed validation; the causes list the fields.
    #[error("{message}")]
    Invalid {
        /// The message.
        message: String,
        /// Optional details.
        details: Option<Box<StatusDetails>>,
    },
    /// 429 `TooManyRequests`: slow down; see `retryAfterSeconds`.
    #[error("{message}")]
    TooManyRequests {
        /// The message.
        message: String,
        /// Optional details.
        details: Option<Box<StatusDetails>>,
    },
    /// 500 `InternalError`: the server failed.
    #[error("{message}")]
    InternalError {
        /// The message.
        message: String,
        /// Optional details.
        details: Option<Box<StatusDetails>>,
    },
    /// 500 `ServerTimeout`: the operation could not complete in time; retry.
    #[error("{message}")]
    ServerTimeout {
        /// The message.
        message: String,
        /// Optional details.
        details: Option<Box<StatusDetails>>,
    },
    /// 503 `ServiceUnavailable`: the server cannot serve now.
    #[error("{message}")]
    ServiceUnavailable {
        /// The message.
        message: String,
        /// Optional details.
        details: Option<Box<StatusDetails>>,
    },
    /// 504 `Timeout`: the request timed out (also: resourceVersion too large).
    #[error("{message}")]
    Timeout {
        /// The message.
        message: String,
        /// Optional details.
        details: Option<Box<StatusDetails>>,
    },
    /// The empty reason (`StatusReasonUnknown`) with an explicit code: how kube-apiserver reports plain Go errors
    /// (a 500 without `reason`).
    #[error("{message}")]
    Unknown {
        /// The HTTP status code.
        code: u16,
        /// The message.
        message: String,
        /// Optional details.
        details: Option<Box<StatusDetails>>,
    },
}

impl ApiError {
    /// 400 with `message` and no details.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::BadRequest {
            message: message.into(),
            details: None,
        }
    }

    /// 401; an empty reason becomes `not authorized` like upstream. kube-apiserver's authentication failure uses
    /// `Unauthorized`.
    pub fn unauthorized(reason: impl Into<String>) -> Self {
        let reason = reason.into();
        let message = if reason.is_empty() {
            "not authorized".to_owned()
        } else {
            reason
        };
        Self::Unauthorized { message, details: None }
    }

    /// 403: `<resource> "<name>" is forbidden: <reason>`, `<resource> is forbidden: <reason>` without a name,
    /// `forbidden: <reason>` without a resource.
    pub fn forbidden(resource: &GroupResource, name: &str, reason: impl AsRef<str>) -> Self {
        let reason = reason.as_ref();
        let message = if resource.is_empty() {
            format!("forbidden: {reason}")
        } else if name.is_empty() {
            format!("{resource} is forbidden: {reason}")
        } else {
            format!("{resource} {} is forbidden: {reason}", gofmt::quote(name))
        };
        Self::Forbidden {
            message,
            details: boxed(StatusDetails::for_resource(resource, name)),
        }
    }

    /// 403 for creating content in a terminating namespace, with the `NamespaceTerminating` cause.
    pub fn namespace_terminating(resource: &GroupResource, name: &str, namespace: &str) -> Self {
        let reason = format!("unable to create new content in namespace {namespace} because it is being terminated");
        let mut error = Self::forbidden(resource, name, reason);
        if let Some(details) = error.details_mut() {
            details.causes.push(StatusCause::new(
                "NamespaceTerminating",
                format!("namespace {namespace} is being terminated"),
                "metadata.namespace",
            ));
        }
        error
    }

    /// 404 for a named object: `configmaps "x" not found`.
    pub fn not_found(resource: &GroupResource, name: &str) -> Self {
        Self::NotFound {
            message: format!("{resource} {} not found", gofmt::quote(name)),
            details: boxed(StatusDetails::for_resource(resource, name)),
        }
    }

    /// 404 for a URL that matches no route: `the server could not find the requested resource`, details `{}`.
    pub fn route_not_found() -> Self {
        Self::NotFound {
            message: "the server could not find the requested resource".to_owned(),
            details: boxed(StatusDetails::default()),
        }
    }

    /// 405 for a verb the route does not serve: `the server does not allow this method on the requested
    /// resource`, details `{}`.
    pub fn method_not_allowed() -> Self {
        Self::MethodNotAllowed {
            message: "the server does not allow this method on the requested resource".to_owned(),
            details: boxed(StatusDetails::default()),
        }
    }

    /// 405 from a registry that lacks a verb: `<action> is not supported on resources of kind "<resource>"`.
    pub fn method_not_supported(resource: &GroupResource, action: &str) -> Self {
        Self::MethodNotAllowed {
            message: format!(
                "{action} is not supported on resources of kind {}",
                gofmt::quote(&resource.to_string())
            ),
            details: boxed(StatusDetails {
                group: resource.group.clone(),
                kind: resource.resource.clone(),
                ..Default::default()
            }),
        }
    }

    /// 406 from the serializer negotiation: `only the following media types are accepted: a, b`.
    pub fn not_acceptable(accepted: &[&str]) -> Self {
        Self::NotAcceptable {
            message: format!("only the following media types are accepted: {}", accepted.join(", ")),
            details: None,
        }
    }

    /// 406 from the endpoint's response negotiation: `406: Not Acceptable\n\nAvailable representations: a, b`.
    pub fn not_acceptable_representations(available: &[&str]) -> Self {
        Self::NotAcceptable {
            message: format!(
                "406: Not Acceptable\n\nAvailable representations: {}",
                available.join(", ")
            ),
            details: boxed(StatusDetails::default()),
        }
    }

    /// 409 for a create over an existing name: `configmaps "x" already exists`.
    pub fn already_exists(resource: &GroupResource, name: &str) -> Self {
        Self::AlreadyExists {
            message: format!("{resource} {} already exists", gofmt::quote(name)),
            details: boxed(StatusDetails::for_resource(resource, name)),
        }
    }

    /// 409 when generateName produced a taken name.
    pub fn generate_name_conflict(resource: &GroupResource, name: &str, retry_after_seconds: i32) -> Self {
        let mut details = StatusDetails::for_resource(resource, name);
        details.retry_after_seconds = retry_after_seconds;
        Self::AlreadyExists {
            message: format!(
                "{resource} {} already exists, the server was not able to generate a unique name for the object",
                gofmt::quote(name)
            ),
            details: boxed(details),
        }
    }

    /// 409: `Operation cannot be fulfilled on <resource> "<name>": <reason>`.
    pub fn conflict(resource: &GroupResource, name: &str, reason: impl AsRef<str>) -> Self {
        Self::Conflict {
            message: format!(
                "Operation cannot be fulfilled on {resource} {}: {}",
                gofmt::quote(name),
                reason.as_ref()
            ),
            details: boxed(StatusDetails::for_resource(resource, name)),
        }
    }

    /// 409 for a stale `resourceVersion`: `... the object has been modified; please apply your changes ...`.
    pub fn conflict_modified(resource: &GroupResource, name: &str) -> Self {
        Self::conflict(resource, name, OPTIMISTIC_LOCK_MESSAGE)
    }

    /// 409 for a failed `preconditions.uid`; upstream names the kind (`ConfigMap`) rather than the resource here.
    pub fn precondition_uid_mismatch(kind: &GroupResource, name: &str, precondition: &str, actual: &str) -> Self {
        Self::conflict(
            kind,
            name,
            format!(
                "the UID in the precondition ({precondition}) does not match the UID in record ({actual}). The object \
                 might have been deleted and then recreated"
            ),
        )
    }

    /// 409 for a failed `preconditions.resourceVersion`; upstream names the kind here.
    pub fn precondition_resource_version_mismatch(
        kind: &GroupResource,
        name: &str,
        precondition: &str,
        actual: &str,
    ) -> Self {
        Self::conflict(
            kind,
            name,
            format!(
                "the ResourceVersion in the precondition ({precondition}) does not match the ResourceVersion in \
                 record ({actual}). The object might have been modified"
            ),
        )
    }

    /// 409 for server-side apply conflicts: the message and causes come from the apply machinery.
    pub fn apply_conflict(message: impl Into<String>, causes: Vec<StatusCause>) -> Self {
        Self::Conflict {
            message: message.into(),
            details: boxed(StatusDetails::with_causes(causes)),
        }
    }

    /// 410 `Gone`.
    pub fn gone(message: impl Into<String>) -> Self {
        Self::Gone {
            message: message.into(),
            details: None,
        }
    }

    /// 410 `Expired` with `message`.
    pub fn expired(message: impl Into<String>) -> Self {
        Self::Expired {
            message: message.into(),
            details: None,
        }
    }

    /// 410 from the watch cache: `too old resource version: <requested> (<oldest>)`.
    pub fn too_old_resource_version(requested: u64, oldest: u64) -> Self {
        Self::expired(format!("too old resource version: {requested} ({oldest})"))
    }

    /// 410 for a watch from a compacted revision (storage without watch cache).
    pub fn watch_expired() -> Self {
        Self::expired("The resourceVersion for the provided watch is too old.")
    }

    /// 410 for a list at a compacted revision.
    pub fn list_expired() -> Self {
        Self::expired("The resourceVersion for the provided list is too old.")
    }

    /// 413: `Request entity too large: <message>`.
    pub fn request_entity_too_large(message: impl AsRef<str>) -> Self {
        Self::RequestEntityTooLarge {
            message: format!("Request entity too large: {}", message.as_ref()),
            details: None,
        }
    }

    /// 413 for a body over `limit` bytes: `Request entity too large: limit is 3145728`.
    pub fn request_body_over_limit(limit: u64) -> Self {
        Self::request_entity_too_large(format!("limit is {limit}"))
    }

    /// 415 for a body kube-apiserver cannot decode:
    /// `the body of the request was in an unknown format - accepted media types include: a, b`.
    pub fn unsupported_media_type(accepted: &[&str]) -> Self {
        Self::UnsupportedMediaType {
            message: format!(
                "the body of the request was in an unknown format - accepted media types include: {}",
                accepted.join(", ")
            ),
            details: None,
        }
    }

    /// 415 from the route layer (no handler consumes the content type): `415: Unsupported Media Type`, details `{}`.
    pub fn unsupported_media_type_route() -> Self {
        Self::UnsupportedMediaType {
            message: "415: Unsupported Media Type".to_owned(),
            details: boxed(StatusDetails::default()),
        }
    }

    /// 422 from field errors: `Kind.group "name" is invalid: <aggregate>`. Every error becomes a cause (duplicates
    /// included, as upstream); the message drops duplicates.
    pub fn invalid(kind: &GroupKind, name: &str, errors: &FieldErrors) -> Self {
        let causes = errors
            .iter()
            .map(|error| StatusCause::new(error.error_type.reason(), error.message(), error.field.clone()))
            .collect();
        let subject = format!("{kind} {} is invalid", gofmt::quote(name));
        let message = match errors.aggregate_message() {
            Some(aggregate) => format!("{subject}: {aggregate}"),
            None => subject,
        };
        Self::Invalid {
            message,
            details: boxed(StatusDetails {
                name: name.to_owned(),
                group: kind.group.clone(),
                kind: kind.kind.clone(),
                causes,
                ..StatusDetails::default()
            }),
        }
    }

    /// 422 without specifics: `the server rejected our request due to an error in our request`, details `{}`
    /// (e.g. a JSON patch with an unknown op).
    pub fn invalid_request() -> Self {
        Self::Invalid {
            message: "the server rejected our request due to an error in our request".to_owned(),
            details: boxed(StatusDetails::default()),
        }
    }

    /// 429 with `retryAfterSeconds`.
    pub fn too_many_requests(message: impl Into<String>, retry_after_seconds: i32) -> Self {
        Self::TooManyRequests {
            message: message.into(),
            details: boxed(StatusDetails {
                retry_after_seconds,
                ..StatusDetails::default()
            }),
        }
    }

    /// 500 `InternalError`: `Internal error occurred: <error>`, with the error as the only cause.
    pub fn internal_error(error: impl AsRef<str>) -> Self {
        let error = error.as_ref();
        Self::InternalError {
            message: format!("Internal error occurred: {error}"),
            details: boxed(StatusDetails::with_causes(vec![StatusCause::new("", error, "")])),
        }
    }

    /// 500 `ServerTimeout`: `The <operation> operation against <resource> could not be completed at this time,
    /// please try again.`
    pub fn server_timeout(resource: &GroupResource, operation: &str, retry_after_seconds: i32) -> Self {
        Self::ServerTimeout {
            message: format!(
                "The {operation} operation against {resource} could not be completed at this time, please try again."
            ),
            details: boxed(StatusDetails {
                name: operation.to_owned(),
                group: resource.group.clone(),
                kind: resource.resource.clone(),
                retry_after_seconds,
                ..StatusDetails::default()
            }),
        }
    }

    /// 503 `ServiceUnavailable`.
    pub fn service_unavailable(message: impl Into<String>) -> Self {
        Self::ServiceUnavailable {
            message: message.into(),
            details: None,
        }
    }

    /// 504: `Timeout: <message>` with `retryAfterSeconds`.
    pub fn timeout(message: impl AsRef<str>, retry_after_seconds: i32) -> Self {
        Self::Timeout {
            message: format!("Timeout: {}", message.as_ref()),
            details: boxed(StatusDetails {
                retry_after_seconds,
                ..StatusDetails::default()
            }),
        }
    }

    /// 504 for a read at a resourceVersion the store has not reached yet:
    /// `Timeout: Too large resource version: <requested>, current: <current>` with cause `ResourceVersionTooLarge`.
    pub fn resource_version_too_large(requested: u64, current: u64, retry_after_seconds: i32) -> Self {
        let mut error = Self::timeout(
            format!("Too large resource version: {requested}, current: {current}"),
            retry_after_seconds,
        );
        if let Some(details) = error.details_mut() {
            details.causes = vec![StatusCause::new(
                "ResourceVersionTooLarge",
                "Too large resource version",
                "",
            )];
        }
        error
    }

    /// A status without reason, as kube-apiserver reports errors that are not API errors (500s from decoders,
    /// patch machinery and storage).
    pub fn unknown(code: u16, message: impl Into<String>) -> Self {
        Self::Unknown {
            code,
            message: message.into(),
            details: None,
        }
    }

    /// The HTTP status code.
    pub fn code(&self) -> u16 {
        match self {
            Self::BadRequest { .. } => 400,
            Self::Unauthorized { .. } => 401,
            Self::Forbidden { .. } => 403,
            Self::NotFound { .. } => 404,
            Self::MethodNotAllowed { .. } => 405,
            Self::NotAcceptable { .. } => 406,
            Self::AlreadyExists { .. } | Self::Conflict { .. } => 409,
            Self::Gone { .. } | Self::Expired { .. } => 410,
            Self::RequestEntityTooLarge { .. } => 413,
            Self::UnsupportedMediaType { .. } => 415,
            Self::Invalid { .. } => 422,
            Self::TooManyRequests { .. } => 429,
            Self::InternalError { .. } | Self::ServerTimeout { .. } => 500,
            Self::ServiceUnavailable { .. } => 503,
            Self::Timeout { .. } => 504,
            Self::Unknown { code, .. } => *code,
        }
    }

    /// The `metav1.StatusReason`; empty for [`ApiError::Unknown`].
    pub fn reason(&self) -> &'static str {
        match self {
            Self::BadRequest { .. } => "BadRequest",
            Self::Unauthorized { .. } => "Unauthorized",
            Self::Forbidden { .. } => "Forbidden",
            Self::NotFound { .. } => "NotFound",
            Self::MethodNotAllowed { .. } => "MethodNotAllowed",
            Self::NotAcceptable { .. } => "NotAcceptable",
            Self::AlreadyExists { .. } => "AlreadyExists",
            Self::Conflict { .. } => "Conflict",
            Self::Gone { .. } => "Gone",
            Self::Expired { .. } => "Expired",
            Self::RequestEntityTooLarge { .. } => "RequestEntityTooLarge",
            Self::UnsupportedMediaType { .. } => "UnsupportedMediaType",
            Self::Invalid { .. } => "Invalid",
            Self::TooManyRequests { .. } => "TooManyRequests",
            Self::InternalError { .. } => "InternalError",
            Self::ServerTimeout { .. } => "ServerTimeout",
            Self::ServiceUnavailable { .. } => "ServiceUnavailable",
            Self::Timeout { .. } => "Timeout",
            Self::Unknown { .. } => "",
        }
    }

    /// The message.
    pub fn message(&self) -> &str {
        self.parts().0
    }

    /// The details, if any.
    pub fn details(&self) -> Option<&StatusDetails> {
        self.parts().1
    }

    /// The details for editing, if any.
    pub fn details_mut(&mut self) -> Option<&mut StatusDetails> {
        match self {
            Self::BadRequest { details, .. }
            | Self::Unauthorized { details, .. }
            | Self::Forbidden { details, .. }
            | Self::NotFound { details, .. }
            | Self::MethodNotAllowed { details, .. }
            | Self::NotAcceptable { details, .. }
            | Self::AlreadyExists { details, .. }
            | Self::Conflict { details, .. }
            | Self::Gone { details, .. }
            | Self::Expired { details, .. }
            | Self::RequestEntityTooLarge { details, .. }
            | Self::UnsupportedMediaType { details, .. }
            | Self::Invalid { details, .. }
            | Self::TooManyRequests { details, .. }
            | Self::InternalError { details, .. }
            | Self::ServerTimeout { details, .. }
            | Self::ServiceUnavailable { details, .. }
            | Self::Timeout { details, .. }
            | Self::Unknown { details, .. } => details.as_deref_mut(),
        }
    }

    fn parts(&self) -> (&str, Option<&StatusDetails>) {
        match self {
            Self::BadRequest { message, details }
            | Self::Unauthorized { message, details }
            | Self::Forbidden { message, details }
            | Self::NotFound { message, details }
            | Self::MethodNotAllowed { message, details }
            | Self::NotAcceptable { message, details }
            | Self::AlreadyExists { message, details }
            | Self::Conflict { message, details }
            | Self::Gone { message, details }
            | Self::Expired { message, details }
            | Self::RequestEntityTooLarge { message, details }
            | Self::UnsupportedMediaType { message, details }
            | Self::Invalid { message, details }
            | Self::TooManyRequests { message, details }
            | Self::InternalError { message, details }
            | Self::ServerTimeout { message, details }
            | Self::ServiceUnavailable { message, details }
            | Self::Timeout { message, details }
            | Self::Unknown { message, details, .. } => (message, details.as_deref()),
        }
    }

    /// The `Retry-After` seconds to send, when the details carry them.
    pub fn retry_after_seconds(&self) -> Option<i32> {
        self.details()
            .map(|details| details.retry_after_seconds)
            .filter(|seconds| *seconds > 0)
    }

    /// The wire `metav1.Status`.
    pub fn status(&self) -> Status {
        Status {
            kind: "Status".to_owned(),
            api_version: "v1".to_owned(),
            metadata: serde_json::Map::new(),
            status: "Failure".to_owned(),
            message: self.message().to_owned(),
            reason: self.reason().to_owned(),
            details: self.details().cloned(),
            code: i32::from(self.code()),
        }
    }

    /// The wire `metav1.Status` as JSON, keys in kube-apiserver's order.
    pub fn to_status(&self) -> Value {
        self.status().to_value()
    }

    /// Reads an error back from a failure `Status` (e.g. a webhook or aggregated server's response). `None` for a
    /// success status or a value that is not a Status.
    pub fn from_status(value: &Value) -> Option<Self> {
        let status: Status = serde_json::from_value(value.clone()).ok()?;
        if status.kind != "Status" || status.status == "Success" {
            return None;
        }
        let message = status.message;
        let details = status.details.map(Box::new);
        let error = match status.reason.as_str() {
            "BadRequest" => Self::BadRequest { message, details },
            "Unauthorized" => Self::Unauthorized { message, details },
            "Forbidden" => Self::Forbidden { message, details },
            "NotFound" => Self::NotFound { message, details },
            "MethodNotAllowed" => Self::MethodNotAllowed { message, details },
            "NotAcceptable" => Self::NotAcceptable { message, details },
            "AlreadyExists" => Self::AlreadyExists { message, details },
            "Conflict" => Self::Conflict { message, details },
            "Gone" => Self::Gone { message, details },
            "Expired" => Self::Expired { message, details },
            "RequestEntityTooLarge" => Self::RequestEntityTooLarge { message, details },
            "UnsupportedMediaType" => Self::UnsupportedMediaType { message, details },
            "Invalid" => Self::Invalid { message, details },
            "TooManyRequests" => Self::TooManyRequests { message, details },
            "InternalError" => Self::InternalError { message, details },
            "ServerTimeout" => Self::ServerTimeout { message, details },
            "ServiceUnavailable" => Self::ServiceUnavailable { message, details },
            "Timeout" => Self::Timeout { message, details },
            _ => Self::Unknown {
                code: u16::try_from(status.code).unwrap_or(500),
                message,
                details,
            },
        };
        Some(error)
    }
}

#[cfg(test)]
mod tests;
