//! Admission: the checks a submitted or gossiped tx passes before it is
//! pooled, in four phases so that the pool's lock is held only for the pool's
//! own bookkeeping (2 and 4), never while decoding or checking signatures
//! (1 and 3). A key's very first tx (nonce 0) is also run against the
//! current state and refused if the ledger would reject it: a rejected tx
//! still consumes its nonce, so without this check every fresh key could
//! put a tx in a block and an account record in the state for free.
//! [`admit`] is the one entry point, used by the API, by tx gossip,
//! by the tests and by the benches alike. Errors carry stable codes; what HTTP
//! status a code gets is the API's business (`api::txs`).

use std::borrow::{Borrow, BorrowMut, Cow};
use std::collections::BTreeMap;
use std::sync::Mutex;

use assent_contracts::crypto::SignatureError;
use assent_contracts::crypto::SignerKeys;
use assent_contracts::state::{ControlExt, Overlay, StateExt, StateRead};
use assent_contracts::tx::{
    check_stateless, execute_tx, verify_covered_batch, CoveredTx, TxDecodeError,
};
use assent_contracts::{AccountId, BlockContext, SignedTx, TxError, TxId, TxOutcome, VerifiedTx};

use super::Mempool;

/// How much the mempool holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MempoolLimits {
    /// Pending txs in all (config `mempool.max_txs`).
    pub max_txs: usize,
    /// Canonical bytes of all pending txs (config `mempool.max_mb`).
    pub max_bytes: usize,
    /// Canonical bytes of one sender's pending txs (config
    /// `mempool.max_account_mb`): a sender cannot fill the pool with
    /// large txs within its tx count quota.
    pub max_account_bytes: usize,
    /// Pending txs of one sender, and how far ahead of its state nonce a
    /// sender's nonce may be (config `mempool.max_per_account`).
    pub max_per_account: usize,
    /// Largest accepted encoded tx (genesis `max_tx_bytes`).
    pub max_tx_bytes: usize,
    /// Blocks a sender's txs may wait behind a missing nonce before they are
    /// dropped (config `mempool.gap_expiry_blocks`); see [`Mempool::expire_gaps`].
    pub gap_expiry_blocks: u64,
}

impl Default for MempoolLimits {
    fn default() -> MempoolLimits {
        MempoolLimits {
            max_txs: 200_000,
            max_bytes: 256 * 1024 * 1024,
            max_account_bytes: 16 * 1024 * 1024,
            max_per_account: 1_024,
            max_tx_bytes: 256 * 1024,
            gap_expiry_blocks: 600,
        }
    }
}

/// Why a tx was not admitted. [`AdmissionError::code`] is stable (the API and
/// CLI show it); the message says what to do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AdmissionError {
    #[error("the tx is {len} bytes; this chain allows {max}: split the work into smaller txs")]
    TooLarge { len: usize, max: usize },
    #[error("the tx bytes do not decode ({0}): send the canonical bytes of a signed tx, as `assent` builds them")]
    Malformed(String),
    #[error("{0}: sign the tx body with the sender's key for this chain id")]
    BadSignature(SignatureError),
    #[error("the tx is invalid ({0}): fix it and sign it again")]
    StatelessCheck(TxError),
    #[error("nonce {nonce} of {sender} is already used; its next nonce is {expected}: sign the tx again with nonce {expected}")]
    StaleNonce {
        sender: AccountId,
        nonce: u64,
        expected: u64,
    },
    #[error("tx {id} is already pending: wait for it to commit (GET /v1/txs/{id})")]
    Duplicate { id: TxId },
    #[error("{sender} already has a pending tx {pending} with nonce {nonce}: wait for it to commit, or use another nonce")]
    NonceTaken {
        sender: AccountId,
        nonce: u64,
        pending: TxId,
    },
    #[error("the mempool is full ({max} pending txs): retry in a few seconds, blocks drain it")]
    MempoolFull { max: usize },
    #[error("the mempool is full ({max_bytes} bytes of pending txs): retry in a few seconds, blocks drain it")]
    MempoolBytesFull { max_bytes: usize },
    #[error(
        "{sender} already has {max} pending txs, the per-account limit: wait for some to commit"
    )]
    AccountQuota { sender: AccountId, max: usize },
    #[error("{sender}'s pending txs would exceed {max_bytes} bytes, the per-account limit: wait for some to commit")]
    AccountBytes { sender: AccountId, max_bytes: usize },
    #[error("nonce {nonce} of {sender} is too far ahead of its next nonce {expected} (at most {max} may be pending): send the missing nonces first")]
    NonceTooFarAhead {
        sender: AccountId,
        nonce: u64,
        expected: u64,
        max: usize,
    },
    #[error("the ledger would reject this tx now ({0}); it is not taken (a new key's first tx would still use up its nonce, a retired key's would still take block space): fix it, or send it once what it depends on has committed")]
    WouldBeRejected(TxError),
    #[error("the node could not read the sender's account ({0}): retry later")]
    Unavailable(String),
    #[error("the network is busy: {} {} wait in the pool, and this node takes new ones while fewer than {} wait (mempool.backlog_ms of the commit rate) and its own clients hold less than its share of them: send again in {} s", .0.pending, .0.unit, .0.allowed, .0.retry_after.as_secs().max(1))]
    Overloaded(super::Overloaded),
}

impl AdmissionError {
    /// The stable code without detail: `too_large`, `malformed`,
    /// `bad_signature`, `stateless_check`, `stale_nonce`, `duplicate`,
    /// `mempool_full`, `account_quota`, `overloaded` (or `unavailable` if
    /// the store failed).
    pub fn base_code(&self) -> &'static str {
        match self {
            AdmissionError::TooLarge { .. } => "too_large",
            AdmissionError::Malformed(_) => "malformed",
            AdmissionError::BadSignature(_) => "bad_signature",
            AdmissionError::StatelessCheck(_) => "stateless_check",
            AdmissionError::StaleNonce { .. } => "stale_nonce",
            AdmissionError::Duplicate { .. } | AdmissionError::NonceTaken { .. } => "duplicate",
            AdmissionError::MempoolFull { .. } | AdmissionError::MempoolBytesFull { .. } => {
                "mempool_full"
            }
            AdmissionError::AccountQuota { .. }
            | AdmissionError::AccountBytes { .. }
            | AdmissionError::NonceTooFarAhead { .. } => "account_quota",
            AdmissionError::WouldBeRejected(_) => "would_be_rejected",
            AdmissionError::Unavailable(_) => "unavailable",
            AdmissionError::Overloaded(_) => "overloaded",
        }
    }

    /// The code the API returns (docs/node-interfaces.md): the base code, and
    /// for a failed stateless check `stateless_check:<tx error code>`.
    pub fn code(&self) -> Cow<'static, str> {
        match self {
            AdmissionError::StatelessCheck(e) => {
                Cow::Owned(format!("stateless_check:{}", e.code.as_str()))
            }
            AdmissionError::WouldBeRejected(e) => {
                Cow::Owned(format!("would_be_rejected:{}", e.code.as_str()))
            }
            other => Cow::Borrowed(other.base_code()),
        }
    }
}

/// Where submitted txs came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    /// A client of this node's API: admitted txs are handed out for gossip
    /// ([`Mempool::take_for_gossip`]).
    Client,
    /// Tx gossip: not gossiped again from here (gossipsub forwards them itself).
    Gossip,
}

/// Txs that passed the checks needing neither the pool nor a signature,
/// with their ids and what their signatures cover worked out (outside the
/// pool's lock, once).
#[derive(Debug)]
pub struct Prepared(pub(super) Vec<Result<(CoveredTx, usize), AdmissionError>>);
/// Txs that also passed the pool's checks.
#[derive(Debug)]
pub struct Screened(pub(super) Vec<Result<(CoveredTx, usize), AdmissionError>>);
/// Txs whose signatures were checked.
#[derive(Debug)]
pub struct Verified(pub(super) Vec<Result<VerifiedTx, AdmissionError>>);

/// Phase 1 of admission (no pool needed; the expensive part besides the
/// signatures): size, strict decode, stateless check, and the sender's state
/// nonce (not stale, not too far ahead).
pub fn prepare(limits: MempoolLimits, raw: Vec<Vec<u8>>, state: &dyn StateRead) -> Prepared {
    // State nonces read once per sender per call.
    let mut nonces: BTreeMap<AccountId, u64> = BTreeMap::new();
    Prepared(
        raw.into_iter()
            .map(|bytes| prepare_one(limits, &bytes, state, &mut nonces))
            .collect(),
    )
}

fn prepare_one(
    limits: MempoolLimits,
    bytes: &[u8],
    state: &dyn StateRead,
    nonces: &mut BTreeMap<AccountId, u64>,
) -> Result<(CoveredTx, usize), AdmissionError> {
    let max = limits.max_tx_bytes;
    if bytes.len() > max {
        return Err(AdmissionError::TooLarge {
            len: bytes.len(),
            max,
        });
    }
    let tx = SignedTx::decode(bytes, max).map_err(|e| match e {
        TxDecodeError::TooLarge { len, max } => AdmissionError::TooLarge { len, max },
        TxDecodeError::Codec(c) => AdmissionError::Malformed(c.to_string()),
        TxDecodeError::Signature(s) => AdmissionError::BadSignature(s),
    })?;
    let sender = tx.body.sender;
    let nonce = tx.body.nonce;
    check_stateless(&tx.body.payload).map_err(AdmissionError::StatelessCheck)?;
    let expected = match nonces.get(&sender) {
        Some(n) => *n,
        None => {
            let n = state
                .account(&sender)
                .map_err(|e| AdmissionError::Unavailable(e.to_string()))?
                .nonce;
            nonces.insert(sender, n);
            n
        }
    };
    if nonce < expected {
        return Err(AdmissionError::StaleNonce {
            sender,
            nonce,
            expected,
        });
    }
    let max_ahead = limits.max_per_account;
    if nonce - expected >= max_ahead as u64 {
        return Err(AdmissionError::NonceTooFarAhead {
            sender,
            nonce,
            expected,
            max: max_ahead,
        });
    }
    Ok((CoveredTx::new(tx), bytes.len()))
}

/// Phase 3 of admission (no pool needed): one batch signature check,
/// with signers' keys from `keys` where it holds them.
pub fn verify<R: rand::RngCore + rand::CryptoRng>(
    chain_id: &str,
    screened: Screened,
    rng: R,
    keys: Option<&SignerKeys>,
) -> Verified {
    let mut to_verify = Vec::new();
    let checked: Vec<Result<(), AdmissionError>> = screened
        .0
        .into_iter()
        .map(|c| c.map(|(tx, _)| to_verify.push(tx)))
        .collect();
    let mut verified = if to_verify.is_empty() {
        Vec::new()
    } else {
        verify_covered_batch(chain_id, to_verify, rng, keys)
    }
    .into_iter();
    Verified(
        checked
            .into_iter()
            .map(|c| {
                c?;
                match verified.next() {
                    Some(Ok(tx)) => Ok(tx),
                    Some(Err(refused)) => Err(AdmissionError::BadSignature(refused.error)),
                    None => Err(AdmissionError::Unavailable(
                        "signature check gave fewer answers than txs".into(),
                    )),
                }
            })
            .collect(),
    )
}

/// Phase 3b (no pool needed): runs each key's first tx (nonce 0), and any
/// tx of a retired key, against
/// the current state, as if in the block `next`, and refuses it if the
/// ledger would reject it. Later nonces depend on txs not yet executed and
/// are not run.
pub fn first_txs_run(verified: Verified, next: &BlockContext, state: &dyn StateRead) -> Verified {
    let run = |tx: VerifiedTx| -> Result<VerifiedTx, AdmissionError> {
        // A key rotated away from its account signs for nothing: its txs
        // are run too (and refused), whatever their nonce.
        let retired = matches!(
            state.key_role(&tx.sender()),
            Ok(Some(assent_contracts::state::KeyRole::Retired { .. }))
        );
        if tx.tx().body.nonce != 0 && !retired {
            return Ok(tx);
        }
        let mut scratch = Overlay::new(state);
        match execute_tx(next, &mut scratch, &tx) {
            Ok(r) => match r.outcome {
                TxOutcome::Applied { .. } => Ok(tx),
                TxOutcome::Rejected(e) => Err(AdmissionError::WouldBeRejected(e)),
            },
            Err(e) => Err(AdmissionError::Unavailable(e.to_string())),
        }
    };
    Verified(verified.0.into_iter().map(|v| v.and_then(run)).collect())
}

impl Mempool {
    /// Phase 2 of admission (needs the pool, cheap): not already pending,
    /// room for the sender and in the pool.
    fn screen(&self, prepared: Prepared) -> Screened {
        let checked = prepared
            .0
            .into_iter()
            .map(|c| {
                let (tx, len) = c?;
                let body = &tx.tx().body;
                self.check_not_pending(tx.id(), body.sender, body.nonce)?;
                self.check_room(body.sender, len)?;
                Ok((tx, len))
            })
            .collect();
        Screened(checked)
    }

    /// Phase 4 of admission (needs the pool): stores the verified txs; one
    /// answer per submitted tx, in order.
    fn store(&mut self, verified: Verified, origin: Origin) -> Vec<Result<TxId, AdmissionError>> {
        let results: Vec<Result<TxId, AdmissionError>> = verified
            .0
            .into_iter()
            .map(|v| self.insert(v?, origin))
            .collect();
        let admitted = results.iter().filter(|r| r.is_ok()).count();
        tracing::debug!(target: super::LOG, txs = results.len(), admitted, ?origin, pending = self.index.len(), "admission");
        results
    }
}

/// Admits raw txs into a shared pool; one answer per tx, in order. The lock
/// is held only for phases 2 and 4, so block building and commits are not
/// held up by a large submission. `P` is the pool itself or a borrow of it.
pub fn admit<P, R>(
    pool: &Mutex<P>,
    origin: Origin,
    next: &BlockContext,
    raw: Vec<Vec<u8>>,
    state: &dyn StateRead,
    rng: R,
) -> Vec<Result<TxId, AdmissionError>>
where
    P: BorrowMut<Mempool>,
    R: rand::RngCore + rand::CryptoRng,
{
    // A poisoned lock (a panic elsewhere) is recovered, as `Shared::mempool` does.
    let lock = || pool.lock().unwrap_or_else(|p| p.into_inner());
    let (limits, keys) = {
        let pool = lock();
        let pool = Borrow::<Mempool>::borrow(&*pool);
        (pool.limits(), pool.signer_keys())
    };
    let prepared = prepare(limits, raw, state);
    let screened = Borrow::<Mempool>::borrow(&*lock()).screen(prepared);
    let verified = first_txs_run(
        verify(&next.chain_id, screened, rng, Some(&keys)),
        next,
        state,
    );
    BorrowMut::<Mempool>::borrow_mut(&mut *lock()).store(verified, origin)
}
