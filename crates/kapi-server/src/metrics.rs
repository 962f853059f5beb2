//! `/metrics` in the Prometheus text format, from per-server state (no global registry: several servers can
//! share a process).
//!
//! - `apiserver_request_total` and `apiserver_request_duration_seconds` (time to the response head) by verb,
//!   group, resource, subresource and code, recorded by [`track`], a layer around every route;
//! - `apiserver_longrunning_requests` (open watches) and `kapi_watches_started_total`;
//! - `apiserver_storage_objects` per served resource, storage revisions, and the SQLite writer's counters.
//!
//! Label values come only from fixed sets and from the served resources, so arbitrary request paths cannot
//! grow the series without bound.

use std::{
    collections::BTreeMap,
    fmt::Write as _,
    sync::{
        atomic::{AtomicI64, AtomicU64, Ordering},
        Arc, Mutex, OnceLock,
    },
    time::{Duration, Instant},
};

use axum::{
    body::Body,
    extract::{Request, State},
    http::{header, HeaderValue},
    middleware::Next,
    response::{IntoResponse, Response},
};
use futures_util::StreamExt;
use kapi_core::request_info::{parse_query, RequestInfoFactory};
use kapi_registry::Registry;
use kapi_storage::Storage;
use kapi_storage_sqlite::SqliteStorage;

use crate::shutdown::ShutdownSignal;

/// Upper bounds of the latency histogram's buckets, in seconds.
const BUCKETS: [f64; 10] = [0.001, 0.005, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0, 30.0];

/// One request series.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct RequestKey {
    verb: &'static str,
    group: String,
    resource: String,
    subresource: String,
    code: u16,
}

#[derive(Debug, Default)]
struct RequestStats {
    count: u64,
    sum_seconds: f64,
    /// Non-cumulative counts per bucket of [`BUCKETS`] (the `+Inf` bucket is `count`).
    buckets: [u64; BUCKETS.len()],
}

/// The metrics of one server. Cloning shares them.
#[derive(Clone, Default)]
pub(crate) struct Metrics {
    inner: Arc<Inner>,
}

#[derive(Default)]
struct Inner {
    requests: Mutex<BTreeMap<RequestKey, RequestStats>>,
    watches_open: AtomicI64,
    watches_started: AtomicU64,
    /// Set once the registry exists (the layer is built before it).
    sources: OnceLock<Sources>,
}

struct Sources {
    registry: Arc<Registry>,
    storage: Arc<dyn Storage>,
    sqlite: Option<SqliteStorage>,
}

impl Metrics {
    /// Tells the metrics where the storage figures come from.
    pub(crate) fn set_sources(
        &self,
        registry: Arc<Registry>,
        storage: Arc<dyn Storage>,
        sqlite: Option<SqliteStorage>,
    ) {
        let _ = self.inner.sources.set(Sources {
            registry,
            storage,
            sqlite,
        });
    }

    fn observe(&self, key: RequestKey, elapsed: Duration) {
        let seconds = elapsed.as_secs_f64();
        let mut requests = self
            .inner
            .requests
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let stats = requests.entry(key).or_default();
        stats.count += 1;
        stats.sum_seconds += seconds;
        if let Some(bucket) = BUCKETS.iter().position(|bound| seconds <= *bound) {
            stats.buckets[bucket] += 1;
        }
    }

    /// The text exposition.
    pub(crate) async fn render(&self) -> String {
        let mut out = String::new();
        self.render_requests(&mut out);
        let open = self.inner.watches_open.load(Ordering::Relaxed);
        let started = self.inner.watches_started.load(Ordering::Relaxed);
        let _ = writeln!(out, "# HELP apiserver_longrunning_requests Watches being served now.");
        let _ = writeln!(out, "# TYPE apiserver_longrunning_requests gauge");
        let _ = writeln!(out, "apiserver_longrunning_requests{{verb=\"WATCH\"}} {open}");
        let _ = writeln!(
            out,
            "# HELP kapi_watches_started_total Watches started since the server started."
        );
        let _ = writeln!(out, "# TYPE kapi_watches_started_total counter");
        let _ = writeln!(out, "kapi_watches_started_total {started}");
        if let Some(sources) = self.inner.sources.get() {
            render_storage(sources, &mut out).await;
        }
        out
    }

    fn render_requests(&self, out: &mut String) {
        let requests = self
            .inner
            .requests
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let _ = writeln!(
            out,
            "# HELP apiserver_request_total Requests by verb, resource and HTTP status code."
        );
        let _ = writeln!(out, "# TYPE apiserver_request_total counter");
        for (key, stats) in requests.iter() {
            let _ = writeln!(out, "apiserver_request_total{{{}}} {}", labels(key, true), stats.count);
        }
        let _ = writeln!(
            out,
            "# HELP apiserver_request_duration_seconds Time from request to response head by verb and resource."
        );
        let _ = writeln!(out, "# TYPE apiserver_request_duration_seconds histogram");
        // Latency series leave out the code, as upstream's do.
        let mut by_resource: BTreeMap<String, (u64, f64, [u64; BUCKETS.len()])> = BTreeMap::new();
        for (key, stats) in requests.iter() {
            let entry = by_resource.entry(labels(key, false)).or_default();
            entry.0 += stats.count;
            entry.1 += stats.sum_seconds;
            for (total, count) in entry.2.iter_mut().zip(stats.buckets) {
                *total += count;
            }
        }
        for (labels, (count, sum, buckets)) in by_resource {
            let mut cumulative = 0;
            for (bound, in_bucket) in BUCKETS.iter().zip(buckets) {
                cumulative += in_bucket;
                let _ = writeln!(
                    out,
                    "apiserver_request_duration_seconds_bucket{{{labels},le=\"{bound}\"}} {cumulative}"
                );
            }
            let _ = writeln!(
                out,
                "apiserver_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {count}"
            );
            let _ = writeln!(out, "apiserver_request_duration_seconds_sum{{{labels}}} {sum}");
            let _ = writeln!(out, "apiserver_request_duration_seconds_count{{{labels}}} {count}");
        }
    }
}

fn labels(key: &RequestKey, with_code: bool) -> String {
    let mut labels = format!(
        "verb=\"{}\",group=\"{}\",resource=\"{}\",subresource=\"{}\"",
        key.verb,
        escape(&key.group),
        escape(&key.resource),
        escape(&key.subresource)
    );
    if with_code {
        let _ = write!(labels, ",code=\"{}\"", key.code);
    }
    labels
}

/// Escapes a label value (backslash, quote, newline), as the text format requires.
fn escape(value: &str) -> String {
    value.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

async fn render_storage(sources: &Sources, out: &mut String) {
    let _ = writeln!(out, "# HELP apiserver_storage_objects Objects stored per resource.");
    let _ = writeln!(out, "# TYPE apiserver_storage_objects gauge");
    let mut counted = Vec::new();
    for info in sources.registry.resources() {
        // events.k8s.io events share core events' prefix: count each prefix once.
        if counted.contains(&info.storage_prefix) {
            continue;
        }
        counted.push(info.storage_prefix.clone());
        if let Ok(count) = sources.storage.count(&info.storage_prefix).await {
            let name = if info.group.is_empty() {
                info.resource.clone()
            } else {
                format!("{}.{}", info.resource, info.group)
            };
            let _ = writeln!(
                out,
                "apiserver_storage_objects{{resource=\"{}\"}} {count}",
                escape(&name)
            );
        }
    }
    if let Ok(revisions) = sources.storage.revisions().await {
        let _ = writeln!(
            out,
            "# HELP kapi_storage_revision The newest and the compacted storage revision."
        );
        let _ = writeln!(out, "# TYPE kapi_storage_revision gauge");
        let _ = writeln!(out, "kapi_storage_revision{{kind=\"current\"}} {}", revisions.current);
        let _ = writeln!(
            out,
            "kapi_storage_revision{{kind=\"compacted\"}} {}",
            revisions.compacted
        );
    }
    if let Some(sqlite) = &sources.sqlite {
        let stats = sqlite.stats();
        for (name, help, value) in [
            ("kapi_sqlite_commits_total", "Transactions committed.", stats.commits),
            (
                "kapi_sqlite_failed_commits_total",
                "Batches whose commit failed.",
                stats.failed_commits,
            ),
            (
                "kapi_sqlite_batched_requests_total",
                "Write requests in committed batches.",
                stats.batched_requests,
            ),
            ("kapi_sqlite_revisions_total", "Revisions assigned.", stats.revisions),
            (
                "kapi_sqlite_compactions_total",
                "Compactions that removed history.",
                stats.compactions,
            ),
            ("kapi_sqlite_checkpoints_total", "WAL checkpoints.", stats.checkpoints),
        ] {
            let _ = writeln!(out, "# HELP {name} {help}");
            let _ = writeln!(out, "# TYPE {name} counter");
            let _ = writeln!(out, "{name} {value}");
        }
    }
}

/// The `/metrics` handler.
pub(crate) async fn serve(State(metrics): State<Metrics>) -> Response {
    let mut response = metrics.render().await.into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    response
}

/// Counts the request, and keeps watch responses counted while they stream; a watch's body ends cleanly
/// when the server shuts down (so clients see a finished response and re-connect elsewhere).
pub(crate) async fn track(State(metrics): State<Metrics>, request: Request, next: Next) -> Response {
    let began = Instant::now();
    let query = parse_query(request.uri().query().unwrap_or(""));
    let info = RequestInfoFactory::default().resolve(request.method().as_str(), request.uri().path(), &query);
    let shutdown = request.extensions().get::<ShutdownSignal>().cloned();
    let (verb, group, resource, subresource) = match info {
        Ok(info) if info.is_resource_request => {
            let served = metrics.inner.sources.get().is_some_and(|sources| {
                sources
                    .registry
                    .snapshot()
                    .resources()
                    .any(|served| served.group == info.api_group && served.resource == info.resource)
            });
            let verb = resource_verb(&info.verb);
            if served {
                (verb, info.api_group, info.resource, info.subresource)
            } else {
                (verb, String::new(), String::new(), String::new())
            }
        }
        _ => (
            method_verb(request.method().as_str()),
            String::new(),
            String::new(),
            String::new(),
        ),
    };
    let response = next.run(request).await;
    let key = RequestKey {
        verb,
        group,
        resource,
        subresource,
        code: response.status().as_u16(),
    };
    metrics.observe(key, began.elapsed());
    if verb == "WATCH" && response.status().is_success() {
        return watch_response(&metrics, response, shutdown);
    }
    response
}

fn watch_response(metrics: &Metrics, response: Response, shutdown: Option<ShutdownSignal>) -> Response {
    let guard = OpenWatch::new(metrics);
    let (parts, body) = response.into_parts();
    let stream = body.into_data_stream().map(move |chunk| {
        let _counted = &guard;
        chunk
    });
    let body = match shutdown {
        Some(signal) => Body::from_stream(stream.take_until(async move { signal.wait().await })),
        None => Body::from_stream(stream),
    };
    Response::from_parts(parts, body)
}

/// Counts one open watch until dropped.
struct OpenWatch {
    metrics: Metrics,
}

impl OpenWatch {
    fn new(metrics: &Metrics) -> Self {
        metrics.inner.watches_open.fetch_add(1, Ordering::Relaxed);
        metrics.inner.watches_started.fetch_add(1, Ordering::Relaxed);
        Self {
            metrics: metrics.clone(),
        }
    }
}

impl Drop for OpenWatch {
    fn drop(&mut self) {
        self.metrics.inner.watches_open.fetch_sub(1, Ordering::Relaxed);
    }
}

fn resource_verb(verb: &str) -> &'static str {
    match verb {
        "get" => "GET",
        "list" => "LIST",
        "watch" => "WATCH",
        "create" => "POST",
        "update" => "PUT",
        "patch" => "PATCH",
        "delete" => "DELETE",
        "deletecollection" => "DELETECOLLECTION",
        _ => "OTHER",
    }
}

fn method_verb(method: &str) -> &'static str {
    match method {
        "GET" => "GET",
        "HEAD" => "HEAD",
        "POST" => "POST",
        "PUT" => "PUT",
        "PATCH" => "PATCH",
        "DELETE" => "DELETE",
        "OPTIONS" => "OPTIONS",
        _ => "OTHER",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn requests_render_as_counters_and_histograms() {
        let metrics = Metrics::default();
        let key = RequestKey {
            verb: "LIST",
            group: String::new(),
            resource: "configmaps".to_owned(),
            subresource: String::new(),
            code: 200,
        };
        metrics.observe(key.clone(), Duration::from_millis(2));
        metrics.observe(key, Duration::from_millis(2));
        let text = metrics.render().await;
        assert!(
            text.contains(
                "apiserver_request_total{verb=\"LIST\",group=\"\",resource=\"configmaps\",subresource=\"\",code=\"200\"} 2"
            ),
            "{text}"
        );
        assert!(
            text.contains("apiserver_request_duration_seconds_bucket{verb=\"LIST\",group=\"\",resource=\"configmaps\",subresource=\"\",le=\"0.001\"} 0"),
            "{text}"
        );
        assert!(
            text.contains("apiserver_request_duration_seconds_bucket{verb=\"LIST\",group=\"\",resource=\"configmaps\",subresource=\"\",le=\"0.005\"} 2"),
            "{text}"
        );
        assert!(
            text.contains("apiserver_longrunning_requests{verb=\"WATCH\"} 0"),
            "{text}"
        );
        assert_eq!(escape("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }
}
