//! State proofs: `GET /v1/consents/{id}/status-proof` (a consent's status
//! at a height) and `GET /v1/state-proofs/{kind}/{id}` (any provable record:
//! an account's balance, a consumer, a policy, an enterprise's standing and
//! reputation, a request), each `?height=H` (default: the head). A record
//! that does not exist gets a proof of its absence.

use std::sync::Arc;

use assent_contracts::state_proof::RecordRef;
use assent_contracts::{AccountId, ConsentId, Height, PolicyId, RequestId};
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use serde_json::Value;
use utoipa::IntoParams;

use super::auth::Reader;
use super::error::{blocking, ApiError, ErrorBody};
use super::routes::ApiState;
use crate::storage::proofs::ProofError;

/// The kinds `GET /v1/state-proofs/{kind}/{id}` serves.
pub const KINDS: &[&str] = &[
    "consent",
    "account",
    "consumer",
    "policy",
    "enterprise",
    "reputation",
    "request",
    "validators",
];

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct ProofQuery {
    /// The committed height to prove the record at (default: the head).
    /// A node keeps recent heights only (`store.proof_history_mb`).
    height: Option<u64>,
}

fn parse<T: std::str::FromStr>(s: &str, kind: &str, hint: &str) -> Result<T, ApiError>
where
    T::Err: std::fmt::Display,
{
    s.parse().map_err(|e: T::Err| {
        ApiError::bad_request(
            format!("bad_{kind}_id"),
            format!("{e}; a {kind} id is {hint}"),
        )
    })
}

/// The record a (kind, id) pair names.
fn record(kind: &str, id: &str) -> Result<RecordRef, ApiError> {
    const HEX: &str = "64 hex digits";
    const ACCOUNT: &str = "a bech32m assent1… account";
    Ok(match kind {
        "consent" => RecordRef::Consent(parse::<ConsentId>(id, kind, HEX)?),
        "account" => RecordRef::Account(parse::<AccountId>(id, kind, ACCOUNT)?),
        "consumer" => RecordRef::Consumer(parse::<AccountId>(id, kind, ACCOUNT)?),
        "policy" => RecordRef::Policy(parse::<PolicyId>(id, kind, HEX)?),
        "enterprise" => RecordRef::Enterprise(parse::<AccountId>(id, kind, ACCOUNT)?),
        "reputation" => RecordRef::Reputation(parse::<AccountId>(id, kind, ACCOUNT)?),
        "request" => RecordRef::Request(parse::<RequestId>(id, kind, HEX)?),
        "validators" if id == "set" => RecordRef::Validators,
        "validators" => {
            return Err(ApiError::bad_request(
                "bad_validators_id",
                "the validator set is /v1/state-proofs/validators/set",
            ))
        }
        other => {
            return Err(ApiError::bad_request(
                "bad_kind",
                format!(
                    "{other:?} is not a provable record kind; use one of {}",
                    KINDS.join(", ")
                ),
            ))
        }
    })
}

async fn prove(
    st: ApiState,
    reader: Reader,
    record: RecordRef,
    height: Option<u64>,
) -> Result<Value, ApiError> {
    let shared = Arc::clone(&st.shared);
    blocking(move || {
        // Public records (standing, reputation, requests, the validator
        // set) to anyone; the others to their parties and operators.
        if let Some(parties) = super::parties::record_parties(&shared, &record)? {
            reader.require(&shared, &parties)?;
        }
        let proof = shared
            .chain
            .store()
            .state_proof(record, height.map(Height))
            .map_err(|e| match e {
                ProofError::NotCommitted { .. } => {
                    ApiError::not_found("height_not_committed", e.to_string())
                }
                ProofError::Genesis => ApiError::bad_request("genesis_height", e.to_string()),
                ProofError::HeightNotKept { .. } => {
                    ApiError::new(StatusCode::GONE, "height_not_kept", e.to_string())
                }
                ProofError::ValueNotKept { .. } => {
                    ApiError::new(StatusCode::GONE, "value_not_kept", e.to_string())
                }
                other => ApiError::store(other),
            })?;
        serde_json::to_value(&proof).map_err(ApiError::internal)
    })
    .await
}

/// A consent's status at a height: the consent record (live, paused or
/// revoked; uses so far) with its state-tree path, the block header and its
/// commit certificate (`assent-state-proof/1`); `assent receipt verify`
/// checks it offline against the genesis. An unknown consent id gets a
/// proof that no such consent exists (`value` null); it has no parties,
/// so only operators may read it.
#[utoipa::path(get, path = "/v1/consents/{id}/status-proof", tag = "receipts",
    params(("id" = String, Path, description = "Consent id (64 hex)"), ProofQuery),
    responses(
        (status = 200, description = "the state proof (`assent-state-proof/1`)", body = Object),
        (status = 400, description = "bad_consent_id, genesis_height, bad_query", body = ErrorBody),
        (status = 404, description = "height_not_committed", body = ErrorBody),
        (status = 410, description = "height_not_kept, value_not_kept: the height is older than this node keeps for proofs", body = ErrorBody)))]
pub(crate) async fn consent_status_proof(
    State(st): State<ApiState>,
    reader: Reader,
    id: Result<Path<String>, PathRejection>,
    q: Result<Query<ProofQuery>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let Path(id) = id.map_err(ApiError::path)?;
    let Query(q) = q.map_err(ApiError::query)?;
    let record = record("consent", &id)?;
    prove(st, reader, record, q.height).await.map(Json)
}

/// Any provable record at a height, or a proof that it does not exist.
/// Kinds: `consent`, `account` (nonce and balance), `consumer`, `policy`,
/// `enterprise` (its standing), `reputation`, `request`, and `validators`
/// (id `set`: the validator set).
#[utoipa::path(get, path = "/v1/state-proofs/{kind}/{id}", tag = "receipts",
    params(
        ("kind" = String, Path, description = "consent, account, consumer, policy, enterprise, reputation or request"),
        ("id" = String, Path, description = "The record's id: 64 hex, or an assent1… account"),
        ProofQuery),
    responses(
        (status = 200, description = "the state proof (`assent-state-proof/1`)", body = Object),
        (status = 400, description = "bad_kind, bad_<kind>_id, genesis_height, bad_query", body = ErrorBody),
        (status = 404, description = "height_not_committed", body = ErrorBody),
        (status = 410, description = "height_not_kept, value_not_kept", body = ErrorBody)))]
pub(crate) async fn state_proof(
    State(st): State<ApiState>,
    reader: Reader,
    p: Result<Path<(String, String)>, PathRejection>,
    q: Result<Query<ProofQuery>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let Path((kind, id)) = p.map_err(ApiError::path)?;
    let Query(q) = q.map_err(ApiError::query)?;
    let record = record(&kind, &id)?;
    prove(st, reader, record, q.height).await.map(Json)
}
