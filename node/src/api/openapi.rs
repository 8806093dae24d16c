//! The OpenAPI document of the API (`GET /v1/openapi.json`), generated from
//! the handlers' `#[utoipa::path]` annotations and the view types.

use std::sync::OnceLock;

use axum::http::header;
use axum::response::{IntoResponse, Response};
use utoipa::OpenApi;

use super::{events, export, queries, routes, txs};

#[derive(Debug, OpenApi)]
#[openapi(
    info(
        title = "assentd HTTP API",
        description = "The HTTP API of an assent node (docs/node-interfaces.md). Errors are `{\"code\", \"message\"}` with a 4xx/5xx status. Accounts are bech32m `assent1…`, hashes 64 hex, amounts integer points, times ms since the Unix epoch."
    ),
    paths(
        txs::submit,
        txs::batch,
        txs::tx_status,
        queries::node_status,
        queries::account,
        queries::consents,
        queries::policies,
        queries::uses,
        queries::earnings,
        export::export,
        super::links::links,
        super::links::link,
        super::tags::tags,
        super::rankings::ranking,
        queries::enterprise,
        queries::requests,
        queries::block,
        super::receipts::consent_receipt,
        super::receipts::use_receipt,
        super::proofs::consent_status_proof,
        super::proofs::state_proof,
        super::snapshots::list,
        super::snapshots::chunk,
        super::snapshots::anchor,
        super::snapshots::validator_sets,
        super::snapshots::certified_blocks,
        events::events,
        openapi_json,
        routes::metrics,
        routes::health,
        routes::ready,
    ),
    components(schemas(super::views::GapData)),
    tags(
        (name = "txs", description = "Submit txs and follow them"),
        (name = "node", description = "The node itself"),
        (name = "accounts", description = "Balances, nonces, roles"),
        (name = "consumers", description = "Consents, policies, uses, earnings, identity links and tag commitments of a consumer"),
        (name = "enterprises", description = "Enterprises and their access requests"),
        (name = "blocks", description = "Committed blocks"),
        (name = "receipts", description = "Self-proving receipts of consents and uses; signed Kantara and ISO 27560 receipts; proofs of any record's state at a height"),
        (name = "events", description = "Server-sent events of committed blocks"),
        (name = "sync", description = "State snapshots and validator-set proofs for nodes that sync from a snapshot"),
    )
)]
pub struct ApiDoc;

/// The document as JSON text (built once).
pub fn openapi_text() -> &'static str {
    static TEXT: OnceLock<String> = OnceLock::new();
    TEXT.get_or_init(|| {
        ApiDoc::openapi()
            .to_json()
            .unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
    })
}

/// This document.
#[utoipa::path(get, path = "/v1/openapi.json", tag = "node", responses((status = 200, description = "OpenAPI 3.1 document", body = Object)))]
pub(crate) async fn openapi_json() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], openapi_text()).into_response()
}
