//! Routes a payload to its handler and runs one transaction: nonce, stateless
//! check, stateful check, execution into a child overlay kept only on success.

use serde::{Deserialize, Serialize};

use super::context::{run, ExecError, Handler, TxContext};
use super::envelope::{Payload, VerifiedTx};
use super::BlockContext;
use crate::error::{ErrorCode, TxError};
use crate::events::Event;
use crate::ids::TxId;
use crate::state::{ControlExt, KeyRole, Overlay, StateExt, StoreError};

/// What became of a transaction in a block.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, bincode::Encode, bincode::Decode)]
#[serde(rename_all = "snake_case")]
pub enum TxOutcome {
    Applied { events: Vec<Event> },
    Rejected(TxError),
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, bincode::Encode, bincode::Decode)]
pub struct TxResult {
    pub tx_id: TxId,
    pub outcome: TxOutcome,
}

/// Checks that need no state; the CLI and the mempool run them before submitting.
pub fn check_stateless(p: &Payload) -> Result<(), TxError> {
    match p {
        Payload::RegisterConsumer(h) => h.check_stateless(),
        Payload::SetTags(h) => h.check_stateless(),
        Payload::GrantConsent(h) => h.check_stateless(),
        Payload::RevokeConsent(h) => h.check_stateless(),
        Payload::RevokeAll(h) => h.check_stateless(),
        Payload::PauseConsent(h) => h.check_stateless(),
        Payload::ResumeConsent(h) => h.check_stateless(),
        Payload::SetPolicy(h) => h.check_stateless(),
        Payload::ClearPolicy(h) => h.check_stateless(),
        Payload::PostRequest(h) => h.check_stateless(),
        Payload::RecordUse(h) => h.check_stateless(),
        Payload::Rate(h) => h.check_stateless(),
        Payload::Transfer(h) => h.check_stateless(),
        Payload::Mint(h) => h.check_stateless(),
        Payload::Propose(h) => h.check_stateless(),
        Payload::Vote(h) => h.check_stateless(),
        Payload::SetContact(h) => h.check_stateless(),
        Payload::LinkIdentity(h) => h.check_stateless(),
        Payload::UnlinkIdentity(h) => h.check_stateless(),
        Payload::NameReferrer(h) => h.check_stateless(),
        Payload::RotateKey(h) => h.check_stateless(),
        Payload::SetGuardians(h) => h.check_stateless(),
        Payload::SupportRecovery(h) => h.check_stateless(),
        Payload::CancelRecovery(h) => h.check_stateless(),
        Payload::ClaimRecovery(h) => h.check_stateless(),
    }
}

fn dispatch(
    p: &Payload,
    cx: &TxContext<'_>,
    out: &mut Overlay<'_>,
) -> Result<Vec<Event>, ExecError> {
    match p {
        Payload::RegisterConsumer(h) => run(h, cx, out),
        Payload::SetTags(h) => run(h, cx, out),
        Payload::GrantConsent(h) => run(h, cx, out),
        Payload::RevokeConsent(h) => run(h, cx, out),
        Payload::RevokeAll(h) => run(h, cx, out),
        Payload::PauseConsent(h) => run(h, cx, out),
        Payload::ResumeConsent(h) => run(h, cx, out),
        Payload::SetPolicy(h) => run(h, cx, out),
        Payload::ClearPolicy(h) => run(h, cx, out),
        Payload::PostRequest(h) => run(h, cx, out),
        Payload::RecordUse(h) => run(h, cx, out),
        Payload::Rate(h) => run(h, cx, out),
        Payload::Transfer(h) => run(h, cx, out),
        Payload::Mint(h) => run(h, cx, out),
        Payload::Propose(h) => run(h, cx, out),
        Payload::Vote(h) => run(h, cx, out),
        Payload::SetContact(h) => run(h, cx, out),
        Payload::LinkIdentity(h) => run(h, cx, out),
        Payload::UnlinkIdentity(h) => run(h, cx, out),
        Payload::NameReferrer(h) => run(h, cx, out),
        Payload::RotateKey(h) => run(h, cx, out),
        Payload::SetGuardians(h) => run(h, cx, out),
        Payload::SupportRecovery(h) => run(h, cx, out),
        Payload::CancelRecovery(h) => run(h, cx, out),
        Payload::ClaimRecovery(h) => run(h, cx, out),
    }
}

/// Executes one verified transaction into `state`.
///
/// A tx with the wrong nonce is rejected with no effect at all. A tx with the
/// right nonce always consumes it; if it is then rejected, nothing else it
/// would have written is kept. Only a store failure is an `Err`.
pub fn execute_tx(
    block: &BlockContext,
    state: &mut Overlay<'_>,
    tx: &VerifiedTx,
) -> Result<TxResult, StoreError> {
    let tx_id = tx.id();
    let reject = |e: TxError| {
        Ok(TxResult {
            tx_id,
            outcome: TxOutcome::Rejected(e),
        })
    };
    let signer = tx.sender();
    let body = &tx.tx().body;
    // Which account the key signs for; a retired key signs for none, and
    // its tx has no effect at all (not even on its nonce).
    let sender = match state.key_role(&signer)? {
        None => signer,
        Some(KeyRole::Signs { account, .. }) => account,
        Some(KeyRole::Retired { account, at }) => {
            return reject(TxError::new(
                ErrorCode::KeyRotated,
                format!(
                    "key {signer} was retired from account {account} at height {}; sign with the account's current key",
                    at.0
                ),
            ));
        }
    };
    // The nonce is the signing key's own: a key rotated in starts at 0.
    let mut account = state.account(&signer)?;
    if body.nonce != account.nonce {
        let why = if body.nonce < account.nonce {
            "was already used (replay?)"
        } else {
            "skips ahead"
        };
        return reject(TxError::new(
            ErrorCode::BadNonce,
            format!(
                "nonce {} {why}; {signer}'s next nonce is {}",
                body.nonce, account.nonce
            ),
        ));
    }
    account.nonce += 1;
    state.put_account(&signer, &account);

    let params = state.params()?;
    if tx.bytes().len() > params.max_tx_bytes as usize {
        return reject(TxError::new(
            ErrorCode::TxTooLarge,
            format!(
                "tx is {} bytes; this chain allows {}",
                tx.bytes().len(),
                params.max_tx_bytes
            ),
        ));
    }
    let cx = TxContext {
        block,
        tx_id,
        sender,
        signer,
        params: &params,
    };
    // All or nothing: a rejected tx keeps only its nonce, written above.
    match state.atomically(|s| dispatch(&body.payload, &cx, s)) {
        Ok(events) => Ok(TxResult {
            tx_id,
            outcome: TxOutcome::Applied { events },
        }),
        Err(ExecError::Rejected(e)) => reject(e),
        Err(ExecError::Store(e)) => Err(e),
    }
}
