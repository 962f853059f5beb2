//! `/healthz`, `/livez` and `/readyz`, answering as kube-apiserver does.
//!
//! - `GET /readyz` → `200 ok` when every check passes; `?verbose` lists each check (`[+]ping ok`) and ends
//!   with `readyz check passed`; `?exclude=NAME` (repeatable) skips a check (`[+]NAME excluded: ok`).
//! - A failing check makes the answer `500` with the list (`[-]NAME failed: reason withheld`) and
//!   `readyz check failed`: the reason is logged, never shown, since these endpoints are public.
//! - `GET /readyz/NAME` runs one check: `ok`, or `500 internal server error: REASON`; unknown names are 404.

use std::{fmt::Write as _, future::Future, pin::Pin, sync::Arc};

use axum::{
    body::Body,
    extract::{Path, State},
    http::{header, HeaderValue, StatusCode, Uri},
    response::{IntoResponse, Response},
    routing::get,
    Router,
};

/// What a health check returns: `Err(reason)` when unhealthy.
pub type CheckFuture = Pin<Box<dyn Future<Output = Result<(), String>> + Send>>;

/// One named health check.
#[derive(Clone)]
pub struct HealthCheck {
    name: String,
    check: Arc<dyn Fn() -> CheckFuture + Send + Sync>,
}

impl std::fmt::Debug for HealthCheck {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HealthCheck")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl HealthCheck {
    /// A check called `name` (shown as `[+]name ok`, reachable as `/readyz/name`) running `check`.
    pub fn new<F, Fut>(name: impl Into<String>, check: F) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), String>> + Send + 'static,
    {
        Self {
            name: name.into(),
            check: Arc::new(move || Box::pin(check())),
        }
    }

    /// A check that always passes (kube-apiserver's `ping` and `log`).
    pub fn always_ok(name: impl Into<String>) -> Self {
        Self::new(name, || async { Ok(()) })
    }

    /// The check's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    async fn run(&self) -> Result<(), String> {
        (self.check)().await
    }
}

/// Which endpoints a check belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum HealthEndpoint {
    /// `/livez` and the legacy `/healthz`.
    Liveness,
    /// `/readyz` only.
    Readiness,
    /// All three.
    Both,
}

/// The checks of each endpoint, in the order they are listed.
#[derive(Clone, Debug, Default)]
pub struct HealthChecks {
    livez: Vec<HealthCheck>,
    readyz: Vec<HealthCheck>,
}

impl HealthChecks {
    /// Adds a check to the endpoints `endpoint` names.
    pub fn add(&mut self, endpoint: HealthEndpoint, check: HealthCheck) {
        if matches!(endpoint, HealthEndpoint::Liveness | HealthEndpoint::Both) {
            self.livez.push(check.clone());
        }
        if matches!(endpoint, HealthEndpoint::Readiness | HealthEndpoint::Both) {
            self.readyz.push(check);
        }
    }

    /// The routes `/healthz`, `/livez`, `/readyz` and `/<endpoint>/{check}`.
    pub(crate) fn router(self) -> Router {
        let livez = Arc::new(self.livez);
        let readyz = Arc::new(self.readyz);
        let route = |name: &'static str, checks: &Arc<Vec<HealthCheck>>| {
            Router::new()
                .route(
                    &format!("/{name}"),
                    get(all_checks).with_state((name, Arc::clone(checks))),
                )
                .route(
                    &format!("/{name}/{{check}}"),
                    get(one_check).with_state((name, Arc::clone(checks))),
                )
        };
        route("healthz", &livez)
            .merge(route("livez", &livez))
            .merge(route("readyz", &readyz))
    }
}

type EndpointState = (&'static str, Arc<Vec<HealthCheck>>);

async fn all_checks(State((endpoint, checks)): State<EndpointState>, uri: Uri) -> Response {
    let query = QueryFlags::parse(uri.query().unwrap_or(""));
    let mut excluded = query.excluded;
    let mut listing = String::new();
    let mut failed = Vec::new();
    for check in checks.iter() {
        if let Some(position) = excluded.iter().position(|name| name == check.name()) {
            excluded.remove(position);
            let _ = writeln!(listing, "[+]{} excluded: ok", check.name());
            continue;
        }
        match check.run().await {
            Ok(()) => {
                let _ = writeln!(listing, "[+]{} ok", check.name());
            }
            Err(reason) => {
                let _ = writeln!(listing, "[-]{} failed: reason withheld", check.name());
                tracing::info!(endpoint, check = check.name(), %reason, "health check failed");
                failed.push(check.name());
            }
        }
    }
    if !excluded.is_empty() {
        excluded.sort();
        excluded.dedup();
        let names: Vec<String> = excluded.iter().map(|name| format!("{name:?}")).collect();
        let _ = writeln!(
            listing,
            "warn: some health checks cannot be excluded: no matches for {}",
            names.join(",")
        );
    }
    if !failed.is_empty() {
        // Like Go's http.Error: the listing, the verdict and a newline, whatever `verbose` says.
        return text(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("{listing}{endpoint} check failed\n"),
        );
    }
    if query.verbose {
        text(StatusCode::OK, format!("{listing}{endpoint} check passed\n"))
    } else {
        text(StatusCode::OK, "ok".to_owned())
    }
}

async fn one_check(State((_, checks)): State<EndpointState>, Path(name): Path<String>) -> Response {
    let Some(check) = checks.iter().find(|check| check.name() == name) else {
        return text(StatusCode::NOT_FOUND, "404 page not found\n".to_owned());
    };
    match check.run().await {
        Ok(()) => text(StatusCode::OK, "ok".to_owned()),
        Err(reason) => text(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("internal server error: {reason}\n"),
        ),
    }
}

/// A plain-text answer with the headers kube-apiserver sends on its health endpoints.
pub(crate) fn text(status: StatusCode, body: String) -> Response {
    let mut response = (status, Body::from(body)).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    response
}

/// The query parameters the health endpoints understand.
#[derive(Debug, Default, PartialEq, Eq)]
struct QueryFlags {
    /// `verbose` is present (with any value, as Go's `Query()["verbose"]` test).
    verbose: bool,
    /// The non-empty `exclude` values.
    excluded: Vec<String>,
}

impl QueryFlags {
    fn parse(query: &str) -> Self {
        let mut flags = Self::default();
        for pair in query.split('&').filter(|pair| !pair.is_empty()) {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            match percent_decode(key).as_str() {
                "verbose" => flags.verbose = true,
                "exclude" => {
                    let value = percent_decode(value);
                    if !value.is_empty() {
                        flags.excluded.push(value);
                    }
                }
                _ => {}
            }
        }
        flags
    }
}

/// Decodes `%XX` escapes and `+` (form encoding); invalid escapes are kept as they are.
fn percent_decode(input: &str) -> String {
    let bytes = input.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        match bytes[index] {
            b'+' => decoded.push(b' '),
            b'%' => {
                let hex = input
                    .get(index + 1..index + 3)
                    .and_then(|hex| u8::from_str_radix(hex, 16).ok());
                if let Some(byte) = hex {
                    decoded.push(byte);
                    index += 2;
                } else {
                    decoded.push(b'%');
                }
            }
            other => decoded.push(other),
        }
        index += 1;
    }
    String::from_utf8_lossy(&decoded).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_flags_follow_go_semantics() {
        assert_eq!(QueryFlags::parse(""), QueryFlags::default());
        let flags = QueryFlags::parse("verbose&exclude=etcd&exclude=&exclude=a%2Fb");
        assert!(flags.verbose);
        assert_eq!(flags.excluded, vec!["etcd".to_owned(), "a/b".to_owned()]);
        assert!(QueryFlags::parse("verbose=false").verbose);
        assert_eq!(percent_decode("%zz%4"), "%zz%4");
    }
}
