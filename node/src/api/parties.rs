//! Who a record belongs to, for the access rules of [`super::auth`]: the
//! parties of a tx, a consent, a use and a provable record.

use assent_contracts::state::StateExt;
use assent_contracts::state_proof::RecordRef;
use assent_contracts::{AccountId, ConsentId, Event, TxId, TxOutcome, UseId};
use axum::extract::FromRequestParts;
use axum::http::request::Parts;

use super::auth::Reader;
use super::error::ApiError;
use crate::shared::Shared;

impl<S: Send + Sync> FromRequestParts<S> for Reader {
    type Rejection = std::convert::Infallible;

    /// The reader the auth middleware found; anonymous when it set none.
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Reader, Self::Rejection> {
        Ok(parts
            .extensions
            .get::<Reader>()
            .cloned()
            .unwrap_or(Reader::Anonymous))
    }
}

/// The sender of a tx, committed or pending; `None` when this node does not
/// know the tx.
pub fn tx_sender(s: &Shared, id: &TxId) -> Result<Option<AccountId>, ApiError> {
    if let Some(tx) = s.mempool().get(id) {
        return Ok(Some(tx.tx().body.sender));
    }
    let store = s.chain.store();
    let Some(loc) = store.tx_location(id)? else {
        return Ok(None);
    };
    let block = store
        .block(loc.height)?
        .ok_or_else(|| ApiError::store(format!("block {} is missing", loc.height.0)))?;
    Ok(block.txs.get(loc.index as usize).map(|tx| tx.body.sender))
}

/// The consumer and the enterprise of a consent; `None` if there is no such consent.
pub fn consent_parties(s: &Shared, id: &ConsentId) -> Result<Option<[AccountId; 2]>, ApiError> {
    Ok(s.chain
        .store()
        .consent(id)?
        .map(|c| [c.consumer, c.enterprise]))
}

/// The consumer and the enterprise of a recorded use; `None` if unknown.
pub fn use_parties(s: &Shared, id: &UseId) -> Result<Option<[AccountId; 2]>, ApiError> {
    let store = s.chain.store();
    let Some(at) = store.use_location(id)? else {
        return Ok(None);
    };
    let results = store
        .results(at.height)?
        .ok_or_else(|| ApiError::store(format!("results of block {} are missing", at.height.0)))?;
    let Some(TxOutcome::Applied { events }) =
        results.results.get(at.index as usize).map(|r| &r.outcome)
    else {
        return Ok(None);
    };
    Ok(events.iter().find_map(|e| match e {
        Event::UseSettled {
            use_id,
            consumer,
            enterprise,
            ..
        }
        | Event::UseRejected {
            use_id,
            consumer,
            enterprise,
            ..
        } if use_id == id => Some([*consumer, *enterprise]),
        _ => None,
    }))
}

/// Who may read a provable record: `None` for public records (an
/// enterprise's standing, reputation, a request, the validator set),
/// else its parties (empty when the record does not exist: only
/// operators may then ask).
pub fn record_parties(s: &Shared, r: &RecordRef) -> Result<Option<Vec<AccountId>>, ApiError> {
    Ok(match r {
        RecordRef::Enterprise(_)
        | RecordRef::Reputation(_)
        | RecordRef::Request(_)
        | RecordRef::Validators => None,
        RecordRef::Account(a) | RecordRef::Consumer(a) => Some(vec![*a]),
        RecordRef::Consent(c) => Some(consent_parties(s, c)?.map(Vec::from).unwrap_or_default()),
        RecordRef::Policy(p) => Some(
            s.chain
                .store()
                .policy(p)?
                .map(|p| vec![p.consumer])
                .unwrap_or_default(),
        ),
    })
}

/// Every `assent1…` account an event (as its API JSON) names: its
/// consumer, enterprise, sender, recipient, guardians. An account's own
/// event stream carries the events that name it.
pub fn accounts_in(v: &serde_json::Value, out: &mut Vec<AccountId>) {
    match v {
        serde_json::Value::String(s) if s.starts_with("assent1") => {
            if let Ok(a) = s.parse::<AccountId>() {
                out.push(a);
            }
        }
        serde_json::Value::Array(a) => a.iter().for_each(|x| accounts_in(x, out)),
        serde_json::Value::Object(m) => m.values().for_each(|x| accounts_in(x, out)),
        _ => {}
    }
}
