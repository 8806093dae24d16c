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

use super::clients::{ClientAddr, Clients, LimitedListener, Permit, Refused};
use super::error::{ApiError, ErrorBody};
use super::{events, export, openapi, queries, txs};
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

/// Every route of the API as (method, path template); the OpenAPI document
/// lists each of them.
pub const ROUTES: &[(&str, &str)] = &[
    ("POST", "/v1/txs"),
    ("POST", "/v1/txs/batch"),
    ("GET", "/v1/txs/{id}"),
    ("GET", "/v1/status"),
    ("GET", "/v1/accounts/{id}"),
    ("GET", "/v1/consumers/{id}/consents"),
    ("GET", "/v1/consumers/{id}/policies"),
    ("GET", "/v1/consumers/{id}/uses"),
    ("GET", "/v1/consumers/{id}/earnings"),
    ("GET", "/v1/consumers/{id}/export"),
    ("GET", "/v1/consumers/{id}/links"),
    ("GET", "/v1/consumers/{id}/links/{enterprise}/{kind}"),
    ("GET", "/v1/consumers/{id}/tags"),
    ("GET", "/v1/enterprises"),
    ("GET", "/v1/enterprises/{id}"),
    ("GET", "/v1/requests"),
    ("GET", "/v1/blocks/{height}"),
    ("GET", "/v1/consents/{id}/receipt"),
    ("GET", "/v1/uses/{id}/receipt"),
    ("GET", "/v1/consents/{id}/status-proof"),
    ("GET", "/v1/state-proofs/{kind}/{id}"),
    ("GET", "/v1/snapshots"),
    ("GET", "/v1/snapshots/{height}/chunks/{index}"),
    ("GET", "/v1/snapshots/{height}/anchor"),
    ("GET", "/v1/validator-sets"),
    ("GET", "/v1/certified-blocks"),
    ("GET", "/v1/events"),
    ("GET", "/v1/openapi.json"),
    ("GET", "/metrics"),
    ("GET", "/health"),
    ("GET", "/ready"),
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
        .route("/v1/accounts/{id}", get(queries::account))
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

/// Prometheus metrics (OpenMetrics text).
#[utoipa::path(get, path = "/metrics", tag = "node", responses((status = 200, description = "OpenMetrics text", body = String, content_type = "application/openmetrics-text")))]
pub(crate) async fn metrics(State(st): State<ApiState>) -> Response {
    let s = st.shared.clone();
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
