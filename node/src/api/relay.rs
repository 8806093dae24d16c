//! Txs given to a node that does not vote (a full node, or a validator not
//! yet admitted): it has no tx gossip, so it checks each tx as far as it can
//! without the pool (canonical decoding, size, the stateless check and the
//! signature) and forwards those that pass to the first of its `[state_sync]
//! peers` that answers (`POST /v1/txs/batch`), passing each answer back.
//! Garbage never leaves this node; a validator's answer is passed on as it
//! came (the validator is the one that admits or refuses).

use std::sync::OnceLock;
use std::time::Duration;

use assent_contracts::state::StateExt;
use assent_contracts::tx::check_stateless;
use assent_contracts::{SignedTx, TxId};
use axum::http::StatusCode;
use serde::Deserialize;

use super::error::ApiError;
use crate::shared::Shared;

/// Most bytes of a validator's answer.
const MAX_ANSWER: u64 = 16 * 1024 * 1024;

fn client() -> Option<&'static reqwest::blocking::Client> {
    static CLIENT: OnceLock<Option<reqwest::blocking::Client>> = OnceLock::new();
    CLIENT
        .get_or_init(|| {
            reqwest::blocking::Client::builder()
                .timeout(Duration::from_secs(10))
                .build()
                .ok()
        })
        .as_ref()
}

#[derive(Deserialize)]
struct Answer {
    results: Vec<Item>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Item {
    Accepted { tx_id: String },
    Refused { code: String, message: String },
}

/// Checks `raw` and forwards what passes; one result per tx, in order.
pub(crate) fn forward(shared: &Shared, raw: Vec<Vec<u8>>) -> Vec<Result<TxId, ApiError>> {
    let chain_id = shared.chain.chain_id();
    let max = shared.chain.store().params().map_or(0, |p| p.max_tx_bytes) as usize;
    let bad = |code: &str, why: String| Err(ApiError::bad_request(code, why));
    let checked: Vec<Result<(TxId, Vec<u8>), ApiError>> = raw
        .into_iter()
        .map(|bytes| {
            let tx = match SignedTx::decode(&bytes, max) {
                Ok(tx) => tx,
                Err(e) => return bad("malformed", format!("the tx does not decode: {e}")),
            };
            if let Err(e) = check_stateless(&tx.body.payload) {
                return Err(ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    format!("stateless_check:{}", e.code.as_str()),
                    e.to_string(),
                ));
            }
            let id = tx.id();
            match tx.verify(chain_id) {
                Ok(_) => Ok((id, bytes)),
                Err(e) => bad(
                    "bad_signature",
                    format!("the signature does not verify: {e}"),
                ),
            }
        })
        .collect();
    let good: Vec<String> = checked
        .iter()
        .filter_map(|c| c.as_ref().ok().map(|(_, b)| hex::encode(b)))
        .collect();
    let mut answers = if good.is_empty() {
        Vec::new()
    } else {
        match send(&shared.config.state_sync_peers, &good) {
            Ok(a) => a,
            Err(why) => {
                let e = ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "no_validator", why);
                return checked
                    .into_iter()
                    .map(|c| c.and_then(|_| Err(e.clone())))
                    .collect();
            }
        }
    }
    .into_iter();
    checked
        .into_iter()
        .map(|c| {
            let (id, _) = c?;
            match answers.next() {
                Some(Item::Accepted { tx_id }) if tx_id.eq_ignore_ascii_case(&id.to_string()) => {
                    Ok(id)
                }
                Some(Item::Accepted { tx_id }) => Err(ApiError::new(
                    StatusCode::BAD_GATEWAY,
                    "relay_failed",
                    format!("the validator accepted tx {tx_id} in the place of {id}"),
                )),
                Some(Item::Refused { code, message }) => Err(ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    code,
                    format!("refused by the validator this node forwards to: {message}"),
                )),
                None => Err(ApiError::new(
                    StatusCode::BAD_GATEWAY,
                    "relay_failed",
                    "the validator's answer lists fewer txs than were sent",
                )),
            }
        })
        .collect()
}

/// Posts the batch to the first peer that answers it.
fn send(peers: &[String], txs: &[String]) -> Result<Vec<Item>, String> {
    use std::io::Read as _;
    let http = client().ok_or("the HTTP client could not be built")?;
    let mut whys = Vec::new();
    for peer in peers {
        let url = format!("{}/v1/txs/batch", peer.trim_end_matches('/'));
        let answer = http
            .post(&url)
            .json(&serde_json::json!({ "txs": txs }))
            .send()
            .map_err(|e| e.to_string())
            .and_then(|r| {
                if !r.status().is_success() {
                    return Err(format!("HTTP {}", r.status()));
                }
                let mut body = Vec::new();
                r.take(MAX_ANSWER)
                    .read_to_end(&mut body)
                    .map_err(|e| e.to_string())?;
                serde_json::from_slice::<Answer>(&body).map_err(|e| e.to_string())
            });
        match answer {
            Ok(a) => return Ok(a.results),
            Err(why) => whys.push(format!("{peer}: {why}")),
        }
    }
    Err(format!(
        "this node does not vote and could not forward the tx to a validator ({}); send it to a validator's API",
        whys.join("; ")
    ))
}
