//! Consent and use receipts: `GET /v1/consents/{id}/receipt` (a consent
//! proof, or a signed Kantara / ISO 27560 receipt carrying it) and
//! `GET /v1/uses/{id}/receipt` (the self-proving receipt of one use, which
//! carries no other use of its batch).

use std::sync::Arc;

use assent_contracts::state::StateExt;
use assent_contracts::state_proof::RecordRef;
use assent_contracts::{ConsentId, TxId, UseId};
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::Json;
use serde::Deserialize;
use serde_json::Value;
use utoipa::IntoParams;

use super::auth::Reader;
use super::error::{blocking, ApiError, ErrorBody};
use super::routes::ApiState;
use crate::query::receipts::{self, NoChange};
use crate::query::standard_receipts::{self as standard, Record, Status, FORMATS};
use crate::shared::Shared;

/// A format of `GET /v1/consents/{id}/receipt`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Format {
    Proof,
    Kantara,
    Iso27560,
}

fn format_param(f: Option<&str>, allowed: &[&str]) -> Result<Format, ApiError> {
    let f = f.unwrap_or("proof");
    let parsed = match f {
        "proof" => Format::Proof,
        "kantara" => Format::Kantara,
        "iso27560" => Format::Iso27560,
        _ => return Err(bad_format(f, allowed)),
    };
    if allowed.contains(&f) {
        Ok(parsed)
    } else {
        Err(bad_format(f, allowed))
    }
}

fn bad_format(f: &str, allowed: &[&str]) -> ApiError {
    ApiError::bad_request(
        "bad_format",
        format!(
            "format {f:?} is not one this route serves; use one of {}",
            allowed.join(", ")
        ),
    )
}

fn id_param<T: std::str::FromStr>(
    p: Result<Path<String>, PathRejection>,
    code: &'static str,
    what: &str,
) -> Result<T, ApiError>
where
    T::Err: std::fmt::Display,
{
    let Path(s) = p.map_err(ApiError::path)?;
    s.parse().map_err(|e: T::Err| {
        ApiError::bad_request(code, format!("{e}; a {what} id is 64 hex digits"))
    })
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct ConsentReceiptQuery {
    /// `proof` (default): the consent proof (`assent-consent-proof/1`, the
    /// grant's receipt and the receipt of the consent's latest pause, resume
    /// or revocation); `kantara`: Kantara Consent Receipt 1.1; `iso27560`: ISO/IEC TS
    /// 27560 consent record as DPV JSON-LD. The last two are
    /// `{"format", "jws", "receipt"}`: a compact JWS (EdDSA) by this node's
    /// validator key and its decoded payload, which carries the proof as
    /// `assent:proof`.
    format: Option<String>,
    /// Prove this change instead (a pause, resume or revocation tx of the
    /// consent, 64 hex): the proof is then the grant and that tx.
    tx: Option<String>,
}

/// The receipt of a consent, as a self-proving consent proof or a signed
/// standard-format receipt.
#[utoipa::path(get, path = "/v1/consents/{id}/receipt", tag = "receipts",
    params(("id" = String, Path, description = "Consent id (64 hex)"), ConsentReceiptQuery),
    responses(
        (status = 200, description = "the consent proof, or `{format, jws, receipt}`", body = Object),
        (status = 400, description = "bad_consent_id, bad_format, bad_tx_id, not_a_change, bad_query", body = ErrorBody),
        (status = 404, description = "unknown_consent, unknown_tx", body = ErrorBody)))]
pub(crate) async fn consent_receipt(
    State(st): State<ApiState>,
    reader: Reader,
    id: Result<Path<String>, PathRejection>,
    q: Result<Query<ConsentReceiptQuery>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let id: ConsentId = id_param(id, "bad_consent_id", "consent")?;
    let Query(q) = q.map_err(ApiError::query)?;
    let format = format_param(q.format.as_deref(), FORMATS)?;
    let tx: Option<TxId> =
        q.tx.map(|t| {
            t.parse().map_err(|e| {
                ApiError::bad_request("bad_tx_id", format!("tx: {e}; a tx id is 64 hex digits"))
            })
        })
        .transpose()?;
    let shared: Arc<Shared> = st.shared.clone();
    blocking(move || {
        // The consumer and the enterprise it was given to (and operators).
        if let Some(parties) = super::parties::consent_parties(&shared, &id)? {
            reader.require(&shared, &parties)?;
        }
        consent_receipt_now(&shared, id, format, tx)
    })
    .await
    .map(Json)
}

fn consent_receipt_now(
    s: &Shared,
    id: ConsentId,
    format: Format,
    tx: Option<TxId>,
) -> Result<Value, ApiError> {
    let store = s.chain.store();
    let head = s.chain.head();
    ApiError::need_index(store, head.height)?;
    let genesis_hash = s.chain.genesis_hash();
    let consent = store.consent(&id)?.ok_or_else(|| {
        ApiError::not_found(
            "unknown_consent",
            format!("no consent {id} on this chain (at height {}); list a consumer's consents with GET /v1/consumers/{{id}}/consents", head.height.0),
        )
    })?;
    let proof = match tx {
        None => receipts::consent_proof(store, genesis_hash, &consent)?,
        Some(tx) => match receipts::consent_change_proof(store, genesis_hash, &consent, &tx)? {
            Ok(p) => p,
            Err(NoChange::UnknownTx) => {
                return Err(ApiError::not_found(
                    "unknown_tx",
                    format!("no committed tx {tx}; it may still be pending"),
                ))
            }
            Err(NoChange::NotAChange) => {
                return Err(ApiError::bad_request(
                    "not_a_change",
                    format!("tx {tx} does not pause, resume or revoke consent {id}"),
                ))
            }
        },
    };
    if format == Format::Proof {
        return serde_json::to_value(&proof).map_err(ApiError::internal);
    }
    // The standard formats are signed by the node's validator key, and a
    // verifier believes only a validator's signature.
    if !s.validating.load(std::sync::atomic::Ordering::Relaxed) {
        return Err(ApiError::new(
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            "not_a_validator",
            "this node is not a validator, so it cannot sign a receipt in a standard format; ask a validator's node, or take format=proof (the validators' signatures are inside)",
        ));
    }
    let enterprise = store.enterprise(&consent.enterprise)?.ok_or_else(|| {
        ApiError::store(format!(
            "enterprise {} of consent {id} is missing",
            consent.enterprise
        ))
    })?;
    let contact = store.contact(&consent.enterprise)?;
    let status_proof = store
        .state_proof(RecordRef::Consent(id), Some(head.height))
        .map_err(ApiError::store)?;
    let record = Record {
        chain_id: s.chain.chain_id(),
        genesis_hash,
        consent: &consent,
        enterprise: &enterprise,
        contact: contact.as_ref(),
        status: Status::of(&consent, head.time),
        issued_at: head.time,
        issuer: s.validator_key,
        proof: &proof,
        status_proof: Some(&status_proof),
    };
    Ok(match format {
        Format::Kantara => standard::signed("kantara", &s.signer, standard::kantara(&record)),
        _ => standard::signed("iso27560", &s.signer, standard::iso27560(&record)),
    })
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct UseReceiptQuery {
    /// Only `proof` (the default): the use's self-proving receipt.
    format: Option<String>,
}

/// The self-proving receipt of one recorded use (settled or rejected): that
/// use alone, none of the others its RecordUse recorded (decision 34).
#[utoipa::path(get, path = "/v1/uses/{id}/receipt", tag = "receipts",
    params(("id" = String, Path, description = "Use id (64 hex)"), UseReceiptQuery),
    responses(
        (status = 200, description = "the receipt (`assent-receipt/2`, subject `use`): the enterprise's signed commitment to its uses, this use and its outcome with their Merkle paths, the block header and certificate", body = Object),
        (status = 400, description = "bad_use_id, bad_format, bad_query", body = ErrorBody),
        (status = 404, description = "unknown_use", body = ErrorBody)))]
pub(crate) async fn use_receipt(
    State(st): State<ApiState>,
    reader: Reader,
    id: Result<Path<String>, PathRejection>,
    q: Result<Query<UseReceiptQuery>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let id: UseId = id_param(id, "bad_use_id", "use")?;
    let Query(q) = q.map_err(ApiError::query)?;
    format_param(q.format.as_deref(), &["proof"])?;
    let shared: Arc<Shared> = st.shared.clone();
    blocking(move || {
        ApiError::need_index(shared.chain.store(), shared.chain.head().height)?;
        // The use's consumer and enterprise (and operators).
        if let Some(parties) = super::parties::use_parties(&shared, &id)? {
            reader.require(&shared, &parties)?;
        }
        let r = receipts::use_receipt(shared.chain.store(), shared.chain.genesis_hash(), &id)?
            .ok_or_else(|| {
                ApiError::not_found(
                    "unknown_use",
                    format!("no recorded use {id} on this chain; a consumer's uses are at GET /v1/consumers/{{id}}/uses"),
                )
            })?;
        serde_json::to_value(&r).map_err(ApiError::internal)
    })
    .await
    .map(Json)
}
