//! The router, the server loop, per-request metrics, per-client limits and
//! timeouts, and the plain routes (`/health`, `/ready`, `/metrics`).

use std::convert::Infallible;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::error_handling::HandleErrorLayer;
use axum::extract::{ConnectInfo, DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::{header, Method, StatusCode, Uri};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use tokio::net::TcpListener;
use tokio::sync::{watch, Semaphore};
use tower::limit::ConcurrencyLimitLayer;
use tower::timeout::TimeoutLayer;
use tower::ServiceBuilder;

use super::auth::{self, Access, ReplayGuard};
use super::clients::{ClientAddr, Clients, LimitedListener, Permit, Refused};
use super::error::{ApiError, ErrorBody};
use super::{app, events, export, openapi, queries, txs};
use crate::metrics::MethodLabel;
use crate::shared::Shared;

/// Most event streams served at once.
pub const MAX_EVENT_STREAMS: usize = 1024;
/// Most submissions (single or batch) admitted concurrently; more wait.
pub const MAX_CONCURRENT_SUBMISSIONS: usize = 16;

/// What every handler gets.
#[derive(Clone, Debug)]
pub struct ApiState {
    pub shared: Arc<Shared>,
    /// Permits for event streams.
    pub streams: Arc<Semaphore>,
    /// Permits for exports being built.
    pub exports: Arc<Semaphore>,
    /// Per-client connections, request rate, streams and exports.
    pub clients: Arc<Clients>,
    /// Set to true when the server shuts down (ends event streams).
    pub stop: Arc<watch::Sender<bool>>,
    /// Read signatures already used (until they expire).
    pub replay: Arc<ReplayGuard>,
    /// Decompressed keys of recent readers.
    pub keys: Arc<assent_keys::reads::KeyCache>,
    /// The last aggregate figures (`GET /v1/stats`).
    pub stats: Arc<super::stats::StatsCache>,
}

impl ApiState {
    pub fn new(shared: Arc<Shared>) -> ApiState {
        let (stop, _) = watch::channel(false);
        let clients = Clients::new(shared.config.api_limits.clone());
        ApiState {
            shared,
            streams: Arc::new(Semaphore::new(MAX_EVENT_STREAMS)),
            exports: Arc::new(Semaphore::new(export::MAX_CONCURRENT_EXPORTS)),
            clients,
            stop: Arc::new(stop),
            replay: Arc::new(ReplayGuard::default()),
            keys: Arc::default(),
            stats: Arc::default(),
        }
    }

    /// A per-client permit (stream or export) for the request's client, or
    /// `None` for a request without a peer address (in-process tests).
    pub fn client_permit(
        &self,
        client: Option<Client>,
        take: impl FnOnce(&Arc<Clients>, std::net::IpAddr) -> Result<Permit, Refused>,
    ) -> Result<Option<Permit>, ApiError> {
        let Some(Client(ip)) = client else {
            return Ok(None);
        };
        take(&self.clients, ip).map(Some).map_err(|r| {
            self.shared.metrics.api_client_refused(r.code());
            refusal(r)
        })
    }
}

/// The client (peer IP address) a request came from, set by the per-client
/// middleware; absent for in-process requests.
#[derive(Clone, Copy, Debug)]
pub struct Client(pub std::net::IpAddr);

/// The answer to a client over one of its limits.
fn refusal(r: Refused) -> ApiError {
    let (code, msg) = match r {
        Refused::Rate(after) => {
            let e = ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                format!(
                    "this client is over its request rate (api.requests_per_second_per_client); retry in {} ms",
                    after.as_millis()
                ),
            );
            return e.retry_after(after);
        }
        Refused::Streams => ("too_many_streams", "this client holds its maximum of event streams (api.max_streams_per_client); close one first"),
        Refused::Exports => ("export_in_progress", "an export for this client is being built (api.max_exports_per_client); wait for it to finish"),
        Refused::Clients => ("too_many_clients", "this node tracks its maximum of clients; retry later or use another node"),
        Refused::Connections | Refused::ClientConnections => {
            ("too_many_connections", "this client holds its maximum of connections")
        }
    };
    ApiError::new(StatusCode::TOO_MANY_REQUESTS, code, msg).retry_after(Duration::from_secs(1))
}

/// Every route of the API as (method, path template, access rule); the
/// OpenAPI document lists each of them with its rule.
pub const ROUTES: &[(&str, &str, Access)] = &[
    ("POST", "/v1/txs", Access::Public),
    ("POST", "/v1/txs/batch", Access::Public),
    ("GET", "/v1/txs/{id}", Access::Party),
    ("GET", "/v1/status", Access::Public),
    ("GET", "/v1/stats", Access::Public),
    ("GET", "/v1/accounts/{id}", Access::Party),
    ("GET", "/v1/keys/{key}", Access::Public),
    ("GET", "/v1/consumers/{id}/consents", Access::Party),
    ("GET", "/v1/consumers/{id}/policies", Access::Party),
    ("GET", "/v1/consumers/{id}/uses", Access::Party),
    ("GET", "/v1/consumers/{id}/earnings", Access::Party),
    ("GET", "/v1/consumers/{id}/export", Access::Party),
    ("GET", "/v1/consumers/{id}/links", Access::Party),
    ("GET", "/v1/consumers/{id}/tags", Access::Party),
    (
        "GET",
        "/v1/consumers/{id}/links/{enterprise}/{kind}",
        Access::Party,
    ),
    ("GET", "/v1/enterprises", Access::Public),
    ("GET", "/v1/enterprises/{id}", Access::Public),
    ("GET", "/v1/requests", Access::Public),
    ("GET", "/v1/blocks/{height}", Access::Operator),
    ("GET", "/v1/consents/{id}/receipt", Access::Party),
    ("GET", "/v1/uses/{id}/receipt", Access::Party),
    ("GET", "/v1/consents/{id}/status-proof", Access::Party),
    ("GET", "/v1/state-proofs/{kind}/{id}", Access::Record),
    ("GET", "/v1/snapshots", Access::Operator),
    (
        "GET",
        "/v1/snapshots/{height}/chunks/{index}",
        Access::Operator,
    ),
    ("GET", "/v1/snapshots/{height}/anchor", Access::Operator),
    ("GET", "/v1/validator-sets", Access::Public),
    ("GET", "/v1/certified-blocks", Access::Operator),
    ("GET", "/v1/events", Access::Party),
    ("GET", "/v1/openapi.json", Access::Public),
    ("GET", "/metrics", Access::Public),
    ("GET", "/health", Access::Public),
    ("GET", "/ready", Access::Public),
];

/// The API router for one node.
pub fn router(shared: Arc<Shared>) -> Router {
    build(ApiState::new(shared))
}

fn build(state: ApiState) -> Router {
    Router::new()
        .route(
            "/v1/txs",
            post(txs::submit)
                .layer::<_, Infallible>(DefaultBodyLimit::max(txs::TX_BODY_LIMIT))
                .layer::<_, Infallible>(ConcurrencyLimitLayer::new(MAX_CONCURRENT_SUBMISSIONS)),
        )
        .route(
            "/v1/txs/batch",
            post(txs::batch)
                .layer::<_, Infallible>(DefaultBodyLimit::max(txs::BATCH_BODY_LIMIT))
                .layer::<_, Infallible>(ConcurrencyLimitLayer::new(MAX_CONCURRENT_SUBMISSIONS)),
        )
        .route("/v1/txs/{id}", get(txs::tx_status))
        .route("/v1/status", get(queries::node_status))
        .route("/v1/stats", get(super::stats::stats))
        .route("/v1/accounts/{id}", get(queries::account))
        .route("/v1/keys/{key}", get(super::key_roles::key_role))
        .route("/v1/consumers/{id}/consents", get(queries::consents))
        .route("/v1/consumers/{id}/policies", get(queries::policies))
        .route("/v1/consumers/{id}/uses", get(queries::uses))
        .route("/v1/consumers/{id}/earnings", get(queries::earnings))
        .route(
            "/v1/consumers/{id}/export",
            get(export::export),
        )
        .route("/v1/consumers/{id}/links", get(super::links::links))
        .route(
            "/v1/consumers/{id}/links/{enterprise}/{kind}",
            get(super::links::link),
        )
        .route("/v1/consumers/{id}/tags", get(super::tags::tags))
        .route("/v1/enterprises", get(super::rankings::ranking))
        .route("/v1/enterprises/{id}", get(queries::enterprise))
        .route("/v1/requests", get(queries::requests))
        .route("/v1/blocks/{height}", get(queries::block))
        .route(
            "/v1/consents/{id}/receipt",
            get(super::receipts::consent_receipt),
        )
        .route("/v1/uses/{id}/receipt", get(super::receipts::use_receipt))
        .route(
            "/v1/consents/{id}/status-proof",
            get(super::proofs::consent_status_proof),
        )
        .route(
            "/v1/state-proofs/{kind}/{id}",
            get(super::proofs::state_proof),
        )
        .route("/v1/snapshots", get(super::snapshots::list))
        .route(
            "/v1/snapshots/{height}/chunks/{index}",
            get(super::snapshots::chunk),
        )
        .route(
            "/v1/snapshots/{height}/anchor",
            get(super::snapshots::anchor),
        )
        .route("/v1/validator-sets", get(super::snapshots::validator_sets))
        .route(
            "/v1/certified-blocks",
            get(super::snapshots::certified_blocks),
        )
        .route("/v1/events", get(events::events))
        .route("/v1/openapi.json", get(openapi::openapi_json))
        .route("/metrics", get(metrics))
        .route("/health", get(health))
        .route("/ready", get(ready))
        .route("/", get(app::root))
        .route("/app", get(app::app_slash))
        .route("/app/", get(app::index))
        .route("/app/{*path}", get(app::file))
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            auth::authenticate,
        ))
        .route_layer(middleware::from_fn_with_state(state.clone(), track))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        // Other routes take no body; refuse large ones early.
        .layer(DefaultBodyLimit::max(64 * 1024))
        // A request that takes longer than api.request_timeout_ms is
        // answered 503 `timeout` (an event stream's body is not timed).
        .layer(
            ServiceBuilder::new()
                .layer(HandleErrorLayer::new(|_: tower::BoxError| async {
                    ApiError::new(
                        StatusCode::SERVICE_UNAVAILABLE,
                        "timeout",
                        "the request took longer than this node allows (api.request_timeout_ms); retry later",
                    )
                }))
                .layer(TimeoutLayer::new(state.clients.limits().request_timeout)),
        )
        .layer(middleware::from_fn_with_state(state.clone(), per_client))
        .with_state(state)
}

/// Spends one request of the client's rate (429 `rate_limited` with
/// `Retry-After` when over) and tells the handlers who the client is.
async fn per_client(State(st): State<ApiState>, mut req: Request, next: Next) -> Response {
    if let Some(ConnectInfo(ClientAddr(addr))) =
        req.extensions().get::<ConnectInfo<ClientAddr>>().copied()
    {
        let ip = addr.ip();
        if let Err(r) = st.clients.request(ip, Instant::now()) {
            st.shared.metrics.api_client_refused(r.code());
            return refusal(r).into_response();
        }
        req.extensions_mut().insert(Client(ip));
    }
    next.run(req).await
}

/// Serves the API on `listener` until `shutdown` completes; open event
/// streams end then, and in-flight requests finish.
pub async fn serve(
    shared: Arc<Shared>,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let state = ApiState::new(shared);
    let stop = state.stop.clone();
    let metrics = state.shared.metrics.clone();
    let listener = LimitedListener::new(listener, state.clients.clone(), move |r| {
        metrics.api_client_refused(r.code());
    });
    let app = build(state).into_make_service_with_connect_info::<ClientAddr>();
    match axum::serve::Listener::local_addr(&listener) {
        Ok(addr) => tracing::info!(target: "assent::api", %addr, "HTTP API listening"),
        Err(e) => {
            tracing::warn!(target: "assent::api", error = %e, "HTTP API listening (address unknown)")
        }
    }
    axum::serve(listener, app)
        .with_graceful_shutdown(async move {
            shutdown.await;
            stop.send_replace(true);
            tracing::info!(target: "assent::api", "HTTP API shutting down");
        })
        .await
}

async fn track(State(st): State<ApiState>, req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_string(), |p| p.as_str().to_string());
    let method = req.method().clone();
    let start = Instant::now();
    let resp = next.run(req).await;
    let elapsed = start.elapsed();
    let status = resp.status().as_u16();
    st.shared
        .metrics
        .observe_api(&route, MethodLabel::from_method(&method), status, elapsed);
    tracing::debug!(target: "assent::api", %method, %route, status, micros = elapsed.as_micros() as u64, "request");
    resp
}

async fn not_found(method: Method, uri: Uri) -> ApiError {
    ApiError::not_found(
        "not_found",
        format!(
            "there is no route {method} {}; the routes are listed at /v1/openapi.json",
            uri.path()
        ),
    )
}

async fn method_not_allowed(method: Method, uri: Uri) -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        format!(
            "{} does not take {method}; see /v1/openapi.json",
            uri.path()
        ),
    )
}

/// Liveness: 200 while the process serves.
#[utoipa::path(get, path = "/health", tag = "node", responses((status = 200, description = "`ok`", body = String, content_type = "text/plain")))]
pub(crate) async fn health() -> &'static str {
    "ok"
}

/// Readiness: consensus started and not far behind peers.
#[utoipa::path(get, path = "/ready", tag = "node", responses(
    (status = 200, description = "`ready`", body = String, content_type = "text/plain"),
    (status = 503, description = "not_ready", body = ErrorBody)))]
pub(crate) async fn ready(State(st): State<ApiState>) -> Response {
    let s = &st.shared;
    if s.ready() {
        return "ready".into_response();
    }
    let why = if !s
        .consensus_started
        .load(std::sync::atomic::Ordering::Relaxed)
    {
        "consensus has not started yet".to_string()
    } else {
        let peer = s.peer_height.load(std::sync::atomic::Ordering::Relaxed);
        format!(
            "syncing: at height {} while peers are at {peer}",
            s.chain.head().height.0
        )
    };
    ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "not_ready",
        format!("{why}; retry shortly"),
    )
    .into_response()
}

/// Prometheus metrics (OpenMetrics text). A node with `api.metrics_listen`
/// serves them there only (404 `metrics_elsewhere` here).
#[utoipa::path(get, path = "/metrics", tag = "node", responses(
    (status = 200, description = "OpenMetrics text", body = String, content_type = "application/openmetrics-text"),
    (status = 404, description = "metrics_elsewhere", body = ErrorBody)))]
pub(crate) async fn metrics(State(st): State<ApiState>) -> Response {
    if st.shared.config.metrics_listen.is_some() {
        return ApiError::not_found(
            "metrics_elsewhere",
            "this node serves /metrics on its own listener (api.metrics_listen), not on the API's",
        )
        .into_response();
    }
    metrics_text(st.shared.clone()).await
}

/// Serves `/metrics` alone on `listener` (`api.metrics_listen`) until
/// `shutdown` completes.
pub async fn serve_metrics(
    shared: Arc<Shared>,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let app = Router::new()
        .route(
            "/metrics",
            get(|State(s): State<Arc<Shared>>| metrics_text(s)),
        )
        .with_state(shared);
    if let Ok(addr) = listener.local_addr() {
        tracing::info!(target: "assent::api", %addr, "metrics listening");
    }
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
}

async fn metrics_text(s: Arc<Shared>) -> Response {
    let text = tokio::task::spawn_blocking(move || {
        s.metrics.set_mempool(s.mempool().len());
        s.metrics
            .set_peers(s.gossip.as_ref().map_or(0, |g| g.peers()));
        s.metrics.set_height(s.chain.head().height.0);
        s.metrics.encode()
    })
    .await;
    match text {
        Ok(text) => (
            [(
                header::CONTENT_TYPE,
                "application/openmetrics-text; version=1.0.0; charset=utf-8",
            )],
            text,
        )
            .into_response(),
        Err(e) => ApiError::internal(format!("metrics could not be gathered: {e}")).into_response(),
    }
}
