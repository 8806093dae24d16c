//! Builds self-proving receipts ([`assent_contracts::receipt::Receipt`]) for
//! committed txs and uses from what the store keeps: the block, its results
//! and its commit certificate; and consent proofs (a grant's receipt plus
//! the receipt of a later change).

use assent_contracts::consent_proof::{ConsentProof, CONSENT_PROOF_VERSION};
use assent_contracts::receipt::{Receipt, ReceiptBuilder, Subject};
use assent_contracts::state::{Consent, ConsentState};
use assent_contracts::{ConsentId, Event, Hash32, Height, TxId, TxOutcome, UseId};

use crate::storage::{Store, StoreError, TxLocation};

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
    Receipt::build(
        genesis_hash,
        subject,
        &block.header,
        &cert,
        &block.txs,
        &results.results,
        &results.end_events,
        at.index as usize,
    )
    .ok_or_else(|| StoreError::Corrupt {
        what: format!("block {h}"),
        why: match subject {
            Subject::Tx => format!("tx index {} is outside the block", at.index),
            Subject::Use { index } => format!(
                "tx {} is not an applied RecordUse with a use #{index}",
                at.index
            ),
        },
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
                Event::UseSettled { use_id, index, .. }
                | Event::UseRejected { use_id, index, .. }
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

/// Receipts of one committed block, its leaves hashed once: what an
/// export uses for the many uses of one consumer in one block.
pub fn block_receipts(
    store: &Store,
    genesis_hash: Hash32,
    h: Height,
) -> Result<ReceiptBuilder, StoreError> {
    let block = store
        .block(h)?
        .ok_or_else(|| corrupt(format!("block {h}")))?;
    let cert = store
        .certificate(h)?
        .ok_or_else(|| corrupt(format!("certificate {h}")))?;
    let results = store
        .results(h)?
        .ok_or_else(|| corrupt(format!("results {h}")))?;
    Ok(ReceiptBuilder::new(
        genesis_hash,
        block.header,
        cert,
        block.txs,
        results.results,
        &results.end_events,
    ))
}

/// Whether `e` pauses, resumes or revokes `consent`.
fn changes_event(e: &Event, consent: &ConsentId) -> bool {
    match e {
        Event::ConsentPaused { consent: c, .. }
        | Event::ConsentResumed { consent: c, .. }
        | Event::ConsentRevoked { consent: c, .. } => c == consent,
        _ => false,
    }
}

/// Whether `tx`'s result pauses, resumes or revokes `consent`.
fn changes(result: &assent_contracts::TxResult, consent: &ConsentId) -> bool {
    let TxOutcome::Applied { events } = &result.outcome else {
        return false;
    };
    events.iter().any(|e| changes_event(e, consent))
}

/// Most history records of a consumer (the newest) read to find a consent's
/// last change.
const MAX_HISTORY_SCAN: usize = 100_000;

/// The proof of a consent: the receipt of its grant, then the receipt of
/// its latest change (pause, resume or revocation), found in the
/// consumer's history index; failing that (no change among the newest
/// [`MAX_HISTORY_SCAN`] records), the change whose height the consent
/// record keeps (its revocation or pause).
pub fn consent_proof(
    store: &Store,
    genesis_hash: Hash32,
    consent: &Consent,
) -> Result<ConsentProof, StoreError> {
    let grant = tx_receipt(store, genesis_hash, &TxId(consent.id.0))?
        .ok_or_else(|| corrupt(format!("grant tx of consent {}", consent.id)))?;
    let mut receipts = vec![grant];
    let from_history = store
        .latest_history(&consent.consumer, MAX_HISTORY_SCAN, |e| {
            changes_event(e, &consent.id)
        })?
        .map(|r| TxLocation {
            height: r.height,
            index: r.tx_index,
        });
    let at = match (from_history, consent.state) {
        (Some(at), _) => Some(at),
        (None, ConsentState::Paused { height, .. } | ConsentState::Revoked { height, .. }) => {
            let results = store
                .results(height)?
                .ok_or_else(|| corrupt(format!("results {height}")))?;
            // The last change of the block is the one that set the state.
            let index = results
                .results
                .iter()
                .rposition(|r| changes(r, &consent.id))
                .ok_or_else(|| {
                    corrupt(format!(
                        "the change of consent {} in block {height}",
                        consent.id
                    ))
                })?;
            Some(TxLocation {
                height,
                index: index as u32,
            })
        }
        (None, ConsentState::Active) => None,
    };
    if let Some(at) = at {
        receipts.push(build(store, genesis_hash, at, Subject::Tx)?);
    }
    Ok(ConsentProof {
        version: CONSENT_PROOF_VERSION.to_string(),
        consent: consent.id,
        receipts,
    })
}

/// Why [`consent_change_proof`] found nothing to prove.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NoChange {
    /// No committed block has the tx.
    UnknownTx,
    /// The tx is committed but does not pause, resume or revoke the consent.
    NotAChange,
}

/// The proof of one change of a consent: its grant and the receipt of
/// `tx`, which must pause, resume or revoke it (or be the grant itself).
pub fn consent_change_proof(
    store: &Store,
    genesis_hash: Hash32,
    consent: &Consent,
    tx: &TxId,
) -> Result<Result<ConsentProof, NoChange>, StoreError> {
    let grant_id = TxId(consent.id.0);
    let grant = tx_receipt(store, genesis_hash, &grant_id)?
        .ok_or_else(|| corrupt(format!("grant tx of consent {}", consent.id)))?;
    let mut receipts = vec![grant];
    if *tx != grant_id {
        let Some(at) = store.tx_location(tx)? else {
            return Ok(Err(NoChange::UnknownTx));
        };
        let results = store
            .results(at.height)?
            .ok_or_else(|| corrupt(format!("results {}", at.height)))?;
        match results.results.get(at.index as usize) {
            Some(r) if changes(r, &consent.id) => {}
            _ => return Ok(Err(NoChange::NotAChange)),
        }
        receipts.push(build(store, genesis_hash, at, Subject::Tx)?);
    }
    Ok(Ok(ConsentProof {
        version: CONSENT_PROOF_VERSION.to_string(),
        consent: consent.id,
        receipts,
    }))
}
