//! Tx submission (single and batch) and tx status.
//!
//! Submitted bytes go to the mempool's admission (decode, stateless check,
//! signature, nonce, quotas) off the async runtime; whatever the mempool then
//! hands out for gossip is published at once.

use std::sync::Arc;

use assent_contracts::{TxId, TxOutcome};
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection};
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::Json;

use super::auth::Reader;
use super::error::{blocking, ApiError, ErrorBody};
use super::routes::ApiState;
use super::views::{BatchAnswer, BatchItem, BatchSubmit, TxAccepted, TxState, TxStatus, TxSubmit};
use crate::mempool::{self, AdmissionError, Origin};
use crate::shared::Shared;

/// Largest body of `POST /v1/txs` (a tx of the chain's largest size, as hex in JSON, fits).
pub const TX_BODY_LIMIT: usize = 1024 * 1024;
/// Largest body of `POST /v1/txs/batch`.
pub const BATCH_BODY_LIMIT: usize = 32 * 1024 * 1024;
/// Most txs in one batch.
pub const MAX_BATCH_TXS: usize = 10_000;

const ACCEPTED_TYPES: &str =
    "send the signed tx as raw bytes (Content-Type: application/octet-stream), \
     as hex text (text/plain) or as {\"tx\": \"<hex>\"} (application/json)";

fn media_type(headers: &HeaderMap) -> Option<String> {
    let v = headers.get(header::CONTENT_TYPE)?.to_str().ok()?;
    Some(
        v.split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase(),
    )
}

fn body_error(r: BytesRejection, limit: usize) -> ApiError {
    if r.status() == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            format!("the request body is over {limit} bytes; a tx is limited by the chain's max_tx_bytes, send large sets with POST /v1/txs/batch in several requests"),
        )
    } else {
        ApiError::bad_request(
            "malformed",
            format!("the request body could not be read: {}", r.body_text()),
        )
    }
}

fn unsupported(got: Option<&str>) -> ApiError {
    let got = got.map_or_else(
        || "no Content-Type".to_string(),
        |t| format!("Content-Type `{t}`"),
    );
    ApiError::new(
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
        format!("{got} is not accepted; {ACCEPTED_TYPES}"),
    )
}

/// Hex text of a tx (surrounding whitespace and a `0x` prefix are allowed).
fn from_hex(text: &str, what: &str) -> Result<Vec<u8>, ApiError> {
    let t = text.trim();
    let t = t.strip_prefix("0x").unwrap_or(t);
    if t.is_empty() {
        return Err(ApiError::bad_request(
            "malformed",
            format!("{what} is empty; {ACCEPTED_TYPES}"),
        ));
    }
    hex::decode(t).map_err(|e| {
        ApiError::bad_request(
            "malformed",
            format!("{what} is not hex ({e}); {ACCEPTED_TYPES}"),
        )
    })
}

/// The raw tx bytes of a `POST /v1/txs` body.
fn raw_tx(headers: &HeaderMap, body: &[u8]) -> Result<Vec<u8>, ApiError> {
    let mt = media_type(headers);
    match mt.as_deref() {
        Some("application/octet-stream") => {
            if body.is_empty() {
                return Err(ApiError::bad_request(
                    "malformed",
                    format!("the body is empty; {ACCEPTED_TYPES}"),
                ));
            }
            Ok(body.to_vec())
        }
        Some("text/plain") => {
            let text = std::str::from_utf8(body).map_err(|_| {
                ApiError::bad_request(
                    "malformed",
                    format!("the body is not UTF-8 hex text; {ACCEPTED_TYPES}"),
                )
            })?;
            from_hex(text, "the body")
        }
        Some("application/json") => {
            let s: TxSubmit = serde_json::from_slice(body).map_err(|e| {
                ApiError::bad_request(
                    "malformed",
                    format!("the JSON body is not {{\"tx\": \"<hex>\"}}: {e}"),
                )
            })?;
            from_hex(&s.tx, "`tx`")
        }
        other => Err(unsupported(other)),
    }
}

/// Admits raw txs to the mempool (all mempool calls of the API are here),
/// then publishes what the mempool releases for gossip.
fn admit(shared: &Shared, raw: Vec<Vec<u8>>) -> Vec<Result<TxId, ApiError>> {
    admit_each(shared, raw, |_, r| Ok(r))
}

/// [`admit`] of entries that `bytes` turns into a tx's bytes (or a refusal
/// of its own, e.g. bad hex) only when the entry's turn comes: under
/// backpressure the refused tail is never decoded. One answer per entry,
/// in order.
fn admit_each<T>(
    shared: &Shared,
    entries: Vec<T>,
    bytes: impl Fn(usize, T) -> Result<Vec<u8>, ApiError>,
) -> Vec<Result<TxId, ApiError>> {
    let n = entries.len();
    // A node that does not vote has no tx gossip: it forwards to a
    // validator instead of pooling (`relay`).
    if !shared.validating.load(std::sync::atomic::Ordering::Relaxed) {
        let decoded: Vec<Result<Vec<u8>, ApiError>> = entries
            .into_iter()
            .enumerate()
            .map(|(i, e)| bytes(i, e))
            .collect();
        let raw: Vec<Vec<u8>> = decoded
            .iter()
            .filter_map(|d| d.as_ref().ok().cloned())
            .collect();
        let mut forwarded = super::relay::forward(shared, raw).into_iter();
        return decoded
            .into_iter()
            .map(|d| {
                d.and_then(|_| {
                    forwarded.next().unwrap_or_else(|| {
                        Err(ApiError::internal("the relay gave fewer answers than txs"))
                    })
                })
            })
            .collect();
    }
    // Backpressure: only as many as the backlog has room for, in order;
    // the rest are refused `overloaded` before any work is spent on them.
    // Txs refused for their own reasons take no room, so admission goes on
    // in chunks while there is room.
    let now = std::time::Instant::now();
    let validators = shared.chain.validators().map_or(1, |v| v.len());
    let context = shared.chain.next_context(shared.validator_key);
    let mut rest = entries.into_iter().enumerate().peekable();
    let mut results: Vec<Option<Result<TxId, ApiError>>> = Vec::with_capacity(n);
    results.resize_with(n, || None);
    while rest.peek().is_some() {
        let (room, byte_room) = shared.mempool().room(now, validators).unwrap_or((0, 0));
        if room == 0 || byte_room == 0 {
            break;
        }
        let mut chunk = Vec::new();
        let mut at = Vec::new();
        let mut chunk_bytes = 0usize;
        // Whole txs while both rooms last (the last may pass the byte room
        // by its own size, at most `max_tx_bytes`).
        while chunk.len() < room && chunk_bytes < byte_room {
            let Some((i, e)) = rest.next() else { break };
            match bytes(i, e) {
                Ok(raw) => {
                    chunk_bytes += raw.len();
                    chunk.push(raw);
                    at.push(i);
                }
                Err(refused) => results[i] = Some(Err(refused)),
            }
        }
        shared.metrics.admission_batch("client", chunk.len());
        let admitted = mempool::admit(
            &shared.mempool,
            Origin::Client,
            &context,
            chunk,
            shared.chain.store(),
            rand::rngs::OsRng,
        );
        for (i, r) in at.into_iter().zip(admitted) {
            results[i] = Some(r.map_err(refusal));
        }
    }
    let over: Vec<usize> = rest.map(|(i, _)| i).collect();
    let (rate, allowed) = shared.mempool().backlog(now);
    if !over.is_empty() {
        let o = shared.mempool().overloaded(now);
        shared.metrics.overloaded(over.len(), allowed);
        tracing::debug!(target: "assent::api", refused = over.len(), pending = o.pending, allowed, rate, "overloaded");
        // One refusal, the same for the whole tail.
        let err = refusal(AdmissionError::Overloaded(o));
        for i in over {
            results[i] = Some(Err(err.clone()));
        }
    } else {
        shared.metrics.set_backlog_allowed(allowed);
    }
    let (to_gossip, pending) = {
        let mut mp = shared.mempool();
        (mp.take_for_gossip(), mp.len())
    };
    shared.metrics.set_mempool(pending);
    if !to_gossip.is_empty() {
        if let Some(g) = &shared.gossip {
            g.publish(to_gossip);
        }
    }
    results
        .into_iter()
        .map(|r| r.unwrap_or_else(|| Err(ApiError::internal("a tx of the batch got no answer"))))
        .collect()
}

/// A mempool refusal as the API answers it.
fn refusal(e: AdmissionError) -> ApiError {
    let retry = match &e {
        AdmissionError::Overloaded(o) => Some(o.retry_after),
        _ => None,
    };
    let err = ApiError::new(admission_status(&e), e.code(), e.to_string());
    match retry {
        Some(after) => err.retry_after(after),
        None => err,
    }
}

/// The HTTP status of a refused tx: 413 too large, 429 full or over quota,
/// 409 duplicate, 422 stateless check or stale nonce, 503 store failure, 400
/// otherwise (docs/node-interfaces.md).
fn admission_status(e: &AdmissionError) -> StatusCode {
    match e {
        AdmissionError::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
        AdmissionError::MempoolFull { .. }
        | AdmissionError::MempoolBytesFull { .. }
        | AdmissionError::AccountQuota { .. }
        | AdmissionError::AccountBytes { .. }
        | AdmissionError::NonceTooFarAhead { .. }
        | AdmissionError::Overloaded(_) => StatusCode::TOO_MANY_REQUESTS,
        AdmissionError::Duplicate { .. } | AdmissionError::NonceTaken { .. } => {
            StatusCode::CONFLICT
        }
        AdmissionError::StatelessCheck(_)
        | AdmissionError::StaleNonce { .. }
        | AdmissionError::WouldBeRejected(_) => StatusCode::UNPROCESSABLE_ENTITY,
        AdmissionError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        AdmissionError::Malformed(_) | AdmissionError::BadSignature(_) => StatusCode::BAD_REQUEST,
    }
}

/// Submit one signed tx.
#[utoipa::path(post, path = "/v1/txs", tag = "txs",
    request_body(description = "The signed tx: raw canonical bytes, hex text, or {\"tx\": hex}",
        content((Vec<u8> = "application/octet-stream"), (String = "text/plain"), (TxSubmit = "application/json"))),
    responses(
        (status = 202, description = "Admitted to the mempool", body = TxAccepted),
        (status = 400, description = "malformed, bad_signature, stateless_check:<code>, stale_nonce, duplicate", body = ErrorBody),
        (status = 413, description = "too_large", body = ErrorBody),
        (status = 415, description = "unsupported_media_type", body = ErrorBody),
        (status = 422, description = "Refused by admission", body = ErrorBody),
        (status = 429, description = "mempool_full, account_quota, overloaded (with Retry-After)", body = ErrorBody),
    ))]
pub(crate) async fn submit(
    State(st): State<ApiState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<impl IntoResponse, ApiError> {
    let body = body.map_err(|r| body_error(r, TX_BODY_LIMIT))?;
    let raw = raw_tx(&headers, &body)?;
    let shared = st.shared.clone();
    let mut results = blocking(move || Ok(admit(&shared, vec![raw]))).await?;
    match results.pop() {
        Some(Ok(tx_id)) => {
            tracing::debug!(target: "assent::api", %tx_id, "tx admitted");
            Ok((StatusCode::ACCEPTED, Json(TxAccepted { tx_id })))
        }
        Some(Err(e)) => Err(e),
        None => Err(ApiError::internal("the mempool gave no answer for the tx")),
    }
}

/// Submit many signed txs at once: `{"txs": ["<hex>", ...]}` as JSON, or
/// the raw txs as a binary batch (`application/octet-stream`: the ledger
/// codec's list of byte strings, the framing tx gossip uses — a varint
/// count, then each tx as a varint length and its bytes; at most 8 MiB).
#[utoipa::path(post, path = "/v1/txs/batch", tag = "txs",
    request_body(description = "{\"txs\": [hex, ...]} as JSON, or a binary batch of raw txs",
        content((BatchSubmit = "application/json"), (Vec<u8> = "application/octet-stream"))),
    responses(
        (status = 200, description = "One result per tx, in order", body = BatchAnswer),
        (status = 400, description = "malformed", body = ErrorBody),
        (status = 413, description = "too_large", body = ErrorBody),
        (status = 415, description = "unsupported_media_type", body = ErrorBody),
    ))]
pub(crate) async fn batch(
    State(st): State<ApiState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<axum::response::Response, ApiError> {
    let body = body.map_err(|r| body_error(r, BATCH_BODY_LIMIT))?;
    let binary = match media_type(&headers).as_deref() {
        Some("application/json") => false,
        Some("application/octet-stream") => true,
        other => {
            let got = other.map_or_else(
                || "no Content-Type".to_string(),
                |t| format!("Content-Type `{t}`"),
            );
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                format!(
                    "{got} is not accepted; send {{\"txs\": [\"<hex>\", ...]}} as application/json, \
                     or a binary batch of raw txs as application/octet-stream"
                ),
            ));
        }
    };
    // Parsing up to 32 MiB of JSON and hex is CPU work: it runs on the
    // blocking pool, never on the async workers that consensus shares.
    let shared = st.shared.clone();
    let answer = blocking(move || {
        if binary {
            binary_batch_admit(&shared, &body)
        } else {
            batch_admit(&shared, &body)
        }
    })
    .await?;
    let retry = answer.retry_after_s;
    let mut res = Json(answer).into_response();
    if let Some(s) = retry {
        res.headers_mut()
            .insert(header::RETRY_AFTER, axum::http::HeaderValue::from(s));
    }
    Ok(res)
}

/// Parses a batch body and admits its well-formed txs, one result per entry.
fn batch_admit(shared: &Shared, body: &[u8]) -> Result<BatchAnswer, ApiError> {
    let req: BatchSubmit = serde_json::from_slice(body).map_err(|e| {
        ApiError::bad_request(
            "malformed",
            format!("the JSON body is not {{\"txs\": [\"<hex>\", ...]}}: {e}"),
        )
    })?;
    within_batch_limit(req.txs.len())?;
    // Hex is decoded when an entry's turn comes: a tail refused
    // `overloaded` costs no decoding.
    let admitted = admit_each(shared, req.txs, |i, t| from_hex(&t, &format!("txs[{i}]")));
    Ok(batch_answer(admitted))
}

/// A binary batch: the raw txs, framed by the ledger codec as a list of
/// byte strings (no JSON, no hex: half the bytes, and no text to scan).
///
/// The framing is checked whole, but the entries stay borrowed from the
/// body: a tx's bytes are copied only when its turn comes, so a tail
/// refused `overloaded` (a heavy client's retries under backpressure) costs
/// no copy.
fn binary_batch_admit(shared: &Shared, body: &[u8]) -> Result<BatchAnswer, ApiError> {
    let txs = decode_binary_batch(body)?;
    within_batch_limit(txs.len())?;
    Ok(batch_answer(admit_each(shared, txs, |_, t| Ok(t.to_vec()))))
}

/// The txs of a binary batch body, or why it is not one.
fn decode_binary_batch(body: &[u8]) -> Result<Vec<&[u8]>, ApiError> {
    use assent_contracts::codec::{self, CodecError};
    codec::decode_byte_strings(body).map_err(|e| match e {
        CodecError::TooLarge { len, max } => ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            format!("a binary batch is at most {max} bytes; this one is {len}: send it in several requests"),
        ),
        e => ApiError::bad_request(
            "malformed",
            format!(
                "the body is not a binary batch (a varint count, then each tx as a varint \
                 length and its bytes): {e}"
            ),
        ),
    })
}

fn within_batch_limit(txs: usize) -> Result<(), ApiError> {
    if txs > MAX_BATCH_TXS {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            format!("the batch holds {txs} txs; send at most {MAX_BATCH_TXS} per request"),
        ));
    }
    Ok(())
}

/// One result per entry, in order, and the longest wait asked of any.
fn batch_answer(admitted: Vec<Result<TxId, ApiError>>) -> BatchAnswer {
    let retry_after_ms = admitted
        .iter()
        .filter_map(|r| r.as_ref().err().and_then(|e| e.retry_after_ms))
        .max();
    let retry_after_s = retry_after_ms.map(|ms| ms.div_ceil(1000).max(1));
    let mut accepted = 0;
    let results: Vec<BatchItem> = admitted
        .into_iter()
        .map(|r| match r {
            Ok(tx_id) => {
                accepted += 1;
                BatchItem::Accepted(TxAccepted { tx_id })
            }
            Err(e) => BatchItem::Refused(e.body()),
        })
        .collect();
    tracing::debug!(target: "assent::api", txs = results.len(), accepted, "batch submitted");
    BatchAnswer {
        accepted,
        results,
        retry_after_s,
        retry_after_ms,
    }
}

/// Status of a tx: pending (this node's mempool), committed or rejected (in a block), or unknown.
#[utoipa::path(get, path = "/v1/txs/{id}", tag = "txs",
    params(("id" = String, Path, description = "Tx id, 64 hex")),
    responses(
        (status = 200, body = TxStatus),
        (status = 400, description = "bad_tx_id", body = ErrorBody),
    ))]
pub(crate) async fn tx_status(
    State(st): State<ApiState>,
    reader: Reader,
    id: Result<Path<String>, PathRejection>,
) -> Result<Json<TxStatus>, ApiError> {
    let Path(id) = id.map_err(ApiError::path)?;
    let tx_id: TxId = id.parse().map_err(|e| {
        ApiError::bad_request(
            "bad_tx_id",
            format!("{e}; tx ids are printed by `assent tx` and returned by POST /v1/txs"),
        )
    })?;
    let shared: Arc<Shared> = st.shared.clone();
    blocking(move || {
        if reader.account().is_none() {
            return Err(super::auth::unsigned(&shared));
        }
        let status = lookup(&shared, tx_id)?;
        // A tx's status is its sender's (and the operators'); a tx this
        // node does not know is unknown to anyone who signs.
        if let Some(sender) = super::parties::tx_sender(&shared, &tx_id)? {
            reader.require(&shared, &[sender])?;
        }
        Ok(status)
    })
    .await
    .map(Json)
}

fn lookup(shared: &Shared, tx_id: TxId) -> Result<TxStatus, ApiError> {
    let mut st = TxStatus {
        tx_id,
        status: TxState::Unknown,
        height: None,
        index: None,
        events: None,
        code: None,
        reason: None,
    };
    if in_block(shared, &mut st)? {
        return Ok(st);
    }
    // A committed block the indexer has not reached yet may hold it (and the
    // mempool may not have dropped it yet): once the index has caught up
    // with the head, the index knows.
    let indexed = ApiError::need_index(shared.chain.store(), shared.chain.head().height);
    if indexed.is_ok() && in_block(shared, &mut st)? {
        return Ok(st);
    }
    if shared.mempool().contains(&tx_id) {
        st.status = TxState::Pending;
        return Ok(st);
    }
    // Neither indexed nor pending: unknown, if the index could say so.
    indexed?;
    Ok(st)
}

/// Fills `st` from the block that holds the tx, if any.
fn in_block(shared: &Shared, st: &mut TxStatus) -> Result<bool, ApiError> {
    let store = shared.chain.store();
    let Some(loc) = store.tx_location(&st.tx_id)? else {
        return Ok(false);
    };
    let results = store
        .results(loc.height)?
        .ok_or_else(|| ApiError::store(format!("results of block {} are missing", loc.height.0)))?;
    let r = results.results.get(loc.index as usize).ok_or_else(|| {
        ApiError::store(format!(
            "block {} has no tx at index {}",
            loc.height.0, loc.index
        ))
    })?;
    st.height = Some(loc.height.0);
    st.index = Some(loc.index);
    match &r.outcome {
        TxOutcome::Applied { events } => {
            st.status = TxState::Committed;
            st.events = Some(events.iter().map(super::events::event_json).collect());
        }
        TxOutcome::Rejected(e) => {
            st.status = TxState::Rejected;
            st.code = Some(e.code.as_str().to_string());
            st.reason = Some(e.reason.clone());
        }
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use assent_contracts::crypto::SignatureError;

    use super::*;

    /// The statuses docs/node-interfaces.md promises for each admission code.
    #[test]
    fn each_admission_code_has_its_documented_status() {
        let account = assent_contracts::crypto::Keypair::from_seed([1; 32]).account();
        let cases = [
            (AdmissionError::TooLarge { len: 2, max: 1 }, 413),
            (AdmissionError::Malformed("x".into()), 400),
            (AdmissionError::BadSignature(SignatureError::Invalid), 400),
            (
                AdmissionError::StaleNonce {
                    sender: account,
                    nonce: 0,
                    expected: 1,
                },
                422,
            ),
            (
                AdmissionError::Duplicate {
                    id: TxId(assent_contracts::Hash32([0; 32])),
                },
                409,
            ),
            (AdmissionError::MempoolFull { max: 1 }, 429),
            (
                AdmissionError::AccountQuota {
                    sender: account,
                    max: 1,
                },
                429,
            ),
            (AdmissionError::Unavailable("x".into()), 503),
            (
                AdmissionError::Overloaded(crate::mempool::Overloaded {
                    pending: 2,
                    allowed: 1,
                    retry_after: std::time::Duration::from_secs(1),
                    unit: "txs",
                }),
                429,
            ),
        ];
        for (e, status) in cases {
            assert_eq!(admission_status(&e).as_u16(), status, "{}", e.code());
        }
    }
}
