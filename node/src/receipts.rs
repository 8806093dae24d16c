//! Builds self-proving receipts ([`assent_contracts::receipt::Receipt`]) for
//! committed txs and uses from what the store keeps: the block, its results
//! and its commit certificate.

use assent_contracts::receipt::{Receipt, Subject};
use assent_contracts::{Event, Hash32, TxId, TxOutcome, UseId};

use crate::store::{Store, StoreError, TxLocation};

fn corrupt(what: String) -> StoreError {
    StoreError::Corrupt {
        what,
        why: "missing although the index points at it".into(),
    }
}

fn build(
    store: &Store,
    genesis_hash: Hash32,
    at: TxLocation,
    subject: Subject,
) -> Result<Receipt, StoreError> {
    let h = at.height;
    let block = store
        .block(h)?
        .ok_or_else(|| corrupt(format!("block {h}")))?;
    let cert = store
        .certificate(h)?
        .ok_or_else(|| corrupt(format!("certificate {h}")))?;
    let results = store
        .results(h)?
        .ok_or_else(|| corrupt(format!("results {h}")))?;
    let txs: Vec<Vec<u8>> = block.txs.iter().map(|t| t.encode()).collect();
    Receipt::build(
        genesis_hash,
        subject,
        &block.header,
        &cert,
        &txs,
        &results.results,
        &results.end_events,
        at.index as usize,
    )
    .ok_or_else(|| StoreError::Corrupt {
        what: format!("block {h}"),
        why: format!("tx index {} is outside the block", at.index),
    })
}

/// The receipt of a committed tx, or `None` if no committed block has it.
pub fn tx_receipt(
    store: &Store,
    genesis_hash: Hash32,
    tx: &TxId,
) -> Result<Option<Receipt>, StoreError> {
    match store.tx_location(tx)? {
        Some(at) => build(store, genesis_hash, at, Subject::Tx).map(Some),
        None => Ok(None),
    }
}

/// The receipt of a recorded use (settled or rejected), or `None` if unknown.
pub fn use_receipt(
    store: &Store,
    genesis_hash: Hash32,
    id: &UseId,
) -> Result<Option<Receipt>, StoreError> {
    let Some(at) = store.use_location(id)? else {
        return Ok(None);
    };
    let results = store
        .results(at.height)?
        .ok_or_else(|| corrupt(format!("results {}", at.height)))?;
    let index = results
        .results
        .get(at.index as usize)
        .and_then(|r| match &r.outcome {
            TxOutcome::Applied { events } => events.iter().find_map(|e| match e {
                Event::UseSettled { use_id, index, .. } | Event::UseRejected { use_id, index, .. }
                    if use_id == id =>
                {
                    Some(*index)
                }
                _ => None,
            }),
            TxOutcome::Rejected(_) => None,
        })
        .ok_or_else(|| corrupt(format!("use {id} in block {}", at.height)))?;
    build(store, genesis_hash, at, Subject::Use { index }).map(Some)
}
