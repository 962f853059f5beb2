//! Webhook call failures, worded as client-go words them (clients and operators grep for these).

/// Why a webhook call failed. `Display` is the message kube-apiserver puts after `conversion webhook for ...
/// failed: ` (or `failed calling webhook ...: `).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebhookError {
    /// The client could not be built from its config (a bad URL, a caBundle without certificates).
    #[error("{0}")]
    Config(String),
    /// The request did not complete: resolution, dial, TLS, HTTP or the deadline. Go's `*url.Error` wording:
    /// `Post "<url>": <cause>`.
    #[error("Post \"{url}\": {cause}")]
    Transport {
        /// The URL posted to, with the `timeout` query parameter as client-go adds it.
        url: String,
        /// What went wrong (`context deadline exceeded`, `dial tcp ...: connect: connection refused`, ...).
        cause: String,
    },
    /// The webhook answered with a status other than 2xx.
    #[error("{message}")]
    Status {
        /// The HTTP status code.
        code: u16,
        /// client-go's message for it (a `metav1.Status` message in the body wins).
        message: String,
    },
    /// The webhook's 2xx answer is not a JSON document.
    #[error("{0}")]
    Body(String),
}

/// client-go's generic message for a non-2xx answer without a `metav1.Status` body
/// (apimachinery's `NewGenericServerResponse`).
pub(crate) fn generic_status_message(code: u16, text_body: Option<&str>) -> String {
    match code {
        400 => "the server rejected our request for an unknown reason".to_owned(),
        401 => "Unauthorized".to_owned(),
        403 => "Forbidden".to_owned(),
        404 => "the server could not find the requested resource".to_owned(),
        405 => "the server does not allow this method on the requested resource".to_owned(),
        409 => "the server reported a conflict".to_owned(),
        415 => "the server responded with the status code 415 but did not return more information".to_owned(),
        422 => "the server rejected our request due to an error in our request".to_owned(),
        429 => "the server has received too many requests and has asked us to try again later".to_owned(),
        500 => format!(
            "an error on the server ({:?}) has prevented the request from succeeding",
            text_body.filter(|text| !text.is_empty()).unwrap_or("unknown")
        ),
        503 => "the server is currently unable to handle the request".to_owned(),
        504 => "the server was unable to return a response in the time allotted, but may still be processing the \
                request"
            .to_owned(),
        _ => format!("the server responded with the status code {code} but did not return more information"),
    }
}
