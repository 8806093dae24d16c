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
        super::stats::stats,
        queries::account,
        super::key_roles::key_role,
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
    modifiers(&Access),
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

/// Name of the security scheme of signed reads.
pub const SIGNED_READ: &str = "signedRead";

/// Declares the signed-read scheme and, on every operation, its access
/// rule: `security` (none, required, or optional) and `x-assent-access`
/// (`public`, `operator`, `party` or `record`), both from [`routes::ROUTES`].
struct Access;

impl utoipa::Modify for Access {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::extensions::Extensions;
        use utoipa::openapi::security::{ApiKey, ApiKeyValue, SecurityRequirement, SecurityScheme};
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            SIGNED_READ,
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "Signature",
                "A read signed by an account key: HTTP Message Signatures (RFC 9421) with Ed25519. `Signature-Input: assent=(\"@method\" \"@path\" \"@query\");created=<unix s>;expires=<unix s, at most 300 s later>;nonce=\"<unique>\";keyid=\"<assent1… signing key>\";alg=\"ed25519\";tag=\"assent-read\"` and `Signature: assent=:<base64>:`. The bytes signed are `assent/read/v1 || len(chain id) || chain id || <RFC 9421 signature base>`. Each signature is accepted once. Unsigned: 401 `unsigned`; a bad, expired or replayed signature: 401 with its code; signed by an account that may not read the record: 403 `forbidden`. Operator and validator keys read everything, counted in `assent_api_operator_reads_total`.",
            ))),
        );
        for (method, path, access) in routes::ROUTES {
            let Some(item) = doc.paths.paths.get_mut(*path) else {
                continue;
            };
            let op = match *method {
                "GET" => item.get.as_mut(),
                "POST" => item.post.as_mut(),
                _ => None,
            };
            let Some(op) = op else { continue };
            let signed = SecurityRequirement::new(SIGNED_READ, Vec::<String>::new());
            op.security = Some(match access {
                super::Access::Public => vec![],
                super::Access::Operator | super::Access::Party => vec![signed],
                super::Access::Record => vec![SecurityRequirement::default(), signed],
            });
            op.extensions.get_or_insert_with(Extensions::default).merge(
                Extensions::builder()
                    .add("x-assent-access", access.as_str())
                    .build(),
            );
        }
    }
}

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
