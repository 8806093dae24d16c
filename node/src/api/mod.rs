//! The node's HTTP API (the contract is docs/node-interfaces.md, "HTTP API"):
//! JSON queries, tx submission into the mempool, server-sent events of
//! committed blocks, the OpenAPI document, Prometheus metrics, health and
//! readiness. Every bad input is a 4xx `{"code", "message"}`; no handler
//! panics; store failures are 500 `store_error`. Tracing target `assent::api`.

mod app;
mod auth;
pub mod clients;
mod error;
pub mod events;
mod export;
mod export_files;
mod export_readme;
mod key_roles;
mod links;
mod openapi;
mod parties;
mod proofs;
mod queries;
mod rankings;
mod receipts;
mod referrals;
mod relay;
mod routes;
mod snapshots;
mod stats;
mod tags;
mod txs;
pub mod views;

pub use app::CONTENT_SECURITY_POLICY;
pub use auth::{Access, ReplayGuard, MAX_LIVE_SIGNATURES};
pub use clients::ClientLimits;
pub use error::{ApiError, ErrorBody};
pub use export::MAX_CONCURRENT_EXPORTS;
pub use openapi::{openapi_text, ApiDoc};
pub use routes::{router, serve, serve_metrics, ApiState, MAX_EVENT_STREAMS, ROUTES};
