//! The ledger as the node runs it: build a block from mempool txs, validate a
//! proposed block by re-executing it, commit a decided block atomically, and
//! announce committed blocks to subscribers (the API's event stream).
//!
//! Validity of a proposal is a deterministic function of (parent state,
//! block), plus one clock check DESIGN.md allows: a block more than
//! [`MAX_CLOCK_DRIFT_MS`] ahead of this node's clock is refused.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, RwLock};

use assent_contracts::block::execute_block;
use assent_contracts::commit::CommitCertificate;
use assent_contracts::crypto::{SignerKeys, SIGNER_KEYS_PER_GENERATION};
use assent_contracts::state::{StateExt, Validator};
use assent_contracts::tx::{SignedTx, VerifiedTx};
use assent_contracts::{
    AccountId, Block, BlockContext, BlockHash, BlockHeader, BlockOutput, Height, Timestamp, TxId,
};
use assent_genesis::Genesis;
use tokio::sync::broadcast;

use crate::storage::{BlockResults, Head, Store, StoreError};

mod blocks;
pub use blocks::{same_roots, set_roots, Prepared};

/// How far ahead of this node's clock a block's time may be.
pub const MAX_CLOCK_DRIFT_MS: u64 = 5_000;

/// Why a proposed block is not valid (the node votes against it).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidBlock {
    #[error("block is for chain {0}")]
    WrongChain(String),
    #[error("block is at height {got}; the next height is {want}")]
    WrongHeight { got: u64, want: u64 },
    #[error("block does not extend the committed tip")]
    WrongParent,
    #[error("block time {got} is not after the parent's {parent}")]
    TimeNotAfterParent { got: u64, parent: u64 },
    #[error(
        "block time {got} is more than {MAX_CLOCK_DRIFT_MS} ms ahead of this node's clock {now}"
    )]
    TimeInFuture { got: u64, now: u64 },
    #[error("block proposer {got} is not the expected proposer {want}")]
    WrongProposer { got: AccountId, want: AccountId },
    #[error("block holds {txs} txs / {bytes} bytes, over the chain's limits")]
    TooLarge { txs: usize, bytes: usize },
    #[error("tx {0} has an invalid signature")]
    BadSignature(TxId),
    #[error("block {field} does not match re-execution")]
    Mismatch { field: &'static str },
    #[error("block bytes do not decode: {0}")]
    Malformed(String),
}

/// Failure of the node itself (store): fatal.
#[derive(Debug, thiserror::Error)]
pub enum ChainError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("ledger store read failed: {0}")]
    Ledger(#[from] assent_contracts::state::StoreError),
    #[error("decided block {0} is unknown to this node and not in the store")]
    UnknownDecided(BlockHash),
    #[error("decided block at height {got} does not follow the tip at {tip}")]
    OutOfOrder { got: u64, tip: u64 },
    #[error("decided block {hash} is invalid here: {why}; this node's state has diverged")]
    Diverged { hash: BlockHash, why: InvalidBlock },
    #[error("recovery: journaled block {height} {why}; the journal or the state checkpoint is damaged: move the store directory (data/store) away and restart so the node syncs (keep data/wal: it stops this validator from signing twice)")]
    Recovery { height: u64, why: String },
}

/// A block executed on top of the current tip, ready to commit.
#[derive(Clone, Debug)]
pub struct Executed {
    pub block: Block,
    /// The block's bytes as proposed: what the journal keeps and peers sync.
    pub bytes: Vec<u8>,
    pub hash: BlockHash,
    pub output: BlockOutput,
}

/// What subscribers learn about a committed block.
#[derive(Clone, Debug)]
pub struct Committed {
    pub head: Head,
    pub tx_ids: Vec<TxId>,
    /// Senders of the block's txs (their nonces moved), deduplicated.
    pub senders: Vec<AccountId>,
    pub results: Arc<BlockResults>,
}

#[derive(Debug)]
pub struct Chain {
    store: Store,
    chain_id: String,
    genesis_hash: assent_contracts::Hash32,
    head: RwLock<Head>,
    executed: Mutex<BTreeMap<BlockHash, Executed>>,
    committed_tx: broadcast::Sender<Arc<Committed>>,
    /// Execution time per work unit, measured on every block executed here.
    cost: super::budget::ExecCost,
    /// Signers' decompressed keys for the txs of proposals this node had
    /// not verified before (a cache; answers never depend on it).
    signer_keys: SignerKeys,
    /// The txs of the block this node is executing as proposer, under the
    /// hash of its header without roots, so validators can fetch any they
    /// lack while it executes (one block at most).
    offered: Mutex<Option<Offer>>,
}

/// The block this node offers as proposer: its header's hash without
/// roots, and its txs (see [`Chain::offer`]).
#[derive(Debug)]
struct Offer {
    hash: BlockHash,
    txs: Offered,
}

#[derive(Debug)]
enum Offered {
    /// Shared with the execution under way.
    Executing(Arc<Vec<VerifiedTx>>),
    /// Their canonical bytes, once executed.
    Executed(Vec<Vec<u8>>),
}

/// The txs of `txs` this node already verified: `known`'s candidate for each,
/// kept only if it is the very same tx (any other byte, such as a forged
/// signature at a pooled nonce, and the tx is checked afresh).
fn reuse_verified(
    txs: &[SignedTx],
    known: &dyn Fn(&SignedTx) -> Option<VerifiedTx>,
) -> Vec<Option<VerifiedTx>> {
    txs.iter()
        .map(|t| known(t).filter(|v| v.tx() == t))
        .collect()
}

fn lock_err<T>(_: T) -> ChainError {
    ChainError::Store(StoreError::Corrupt {
        what: "in-memory lock".into(),
        why: "poisoned by a panic".into(),
    })
}

impl Chain {
    /// Opens the chain on `store` (opened for `genesis`): re-executes the
    /// journaled blocks above the state checkpoint, checking each one's
    /// parent link, `state_root` and `results_root`.
    pub fn open(store: Store, genesis: &Genesis) -> Result<Chain, ChainError> {
        let range = store.unrecovered();
        if !range.is_empty() {
            let started = std::time::Instant::now();
            let (from, to) = (*range.start(), *range.end());
            for h in range {
                recover_one(&store, h)?;
            }
            tracing::info!(target: "assent::ledger", from, to, ms = started.elapsed().as_millis() as u64, "re-executed journaled blocks above the state checkpoint");
        }
        let head = store.head();
        let (committed_tx, _) = broadcast::channel(1024);
        Ok(Chain {
            store,
            chain_id: genesis.chain_id().to_string(),
            genesis_hash: genesis.hash(),
            head: RwLock::new(head),
            executed: Mutex::new(BTreeMap::new()),
            committed_tx,
            cost: super::budget::ExecCost::default(),
            // Fewer than the pool's: most of a proposal's txs come from the pool.
            signer_keys: SignerKeys::new(SIGNER_KEYS_PER_GENERATION / 8),
            offered: Mutex::new(None),
        })
    }

    pub fn store(&self) -> &Store {
        &self.store
    }
    pub fn chain_id(&self) -> &str {
        &self.chain_id
    }
    pub fn genesis_hash(&self) -> assent_contracts::Hash32 {
        self.genesis_hash
    }

    pub fn head(&self) -> Head {
        match self.head.read() {
            Ok(h) => h.clone(),
            Err(p) => p.into_inner().clone(),
        }
    }

    /// Subscribes to committed blocks.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Committed>> {
        self.committed_tx.subscribe()
    }

    /// The validator set that decides the next height (from the current state).
    pub fn validators(&self) -> Result<Vec<Validator>, ChainError> {
        Ok(self.store.validators()?)
    }

    fn context(&self, header: &BlockHeader) -> BlockContext {
        header.context()
    }

    /// The context of the next block as far as this node can tell now (its
    /// time is this node's clock): what mempool admission runs a new key's
    /// first tx in.
    pub fn next_context(&self, proposer: AccountId) -> BlockContext {
        let head = self.head();
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64);
        BlockContext {
            chain_id: self.chain_id.clone(),
            height: head.height.next(),
            time: Timestamp(now.max(head.time.0 + 1)),
            proposer,
        }
    }

    /// The encodings of the txs at `indices` of a block this node holds in
    /// memory: one it executed (proposed or judged, not yet committed), by
    /// its hash, or the last one it offered as proposer, by the hash of its
    /// header without roots. `None` if it holds no such block or an index
    /// is past its end.
    pub fn txs_in_memory(
        &self,
        hash: &BlockHash,
        indices: &[u32],
    ) -> Result<Option<Vec<Vec<u8>>>, ChainError> {
        if let Some(offer) = &*self.offered.lock().map_err(lock_err)? {
            if offer.hash == *hash {
                let bytes = |i: u32| match &offer.txs {
                    Offered::Executing(txs) => txs.get(i as usize).map(|t| t.bytes().to_vec()),
                    Offered::Executed(txs) => txs.get(i as usize).cloned(),
                };
                return Ok(indices.iter().map(|&i| bytes(i)).collect());
            }
        }
        let executed = self.executed.lock().map_err(lock_err)?;
        Ok(executed.get(hash).and_then(|e| {
            indices
                .iter()
                .map(|&i| e.block.txs.get(i as usize).map(SignedTx::encode))
                .collect()
        }))
    }

    /// Keeps an executed block (own or received) until it is decided.
    pub fn remember(&self, e: Executed) -> Result<(), ChainError> {
        self.executed.lock().map_err(lock_err)?.insert(e.hash, e);
        Ok(())
    }

    /// Commits the decided block `hash` with its certificate. Idempotent: a
    /// block at or below the tip is not committed twice.
    pub fn commit(
        &self,
        height: Height,
        hash: BlockHash,
        cert: &CommitCertificate,
        known: &dyn Fn(&SignedTx) -> Option<VerifiedTx>,
    ) -> Result<Option<Arc<Committed>>, ChainError> {
        let head = self.head();
        if height <= head.height {
            return Ok(None);
        }
        if height != head.height.next() {
            return Err(ChainError::OutOfOrder {
                got: height.0,
                tip: head.height.0,
            });
        }
        // Taken out, not cloned: the block, its bytes and its writes are large.
        let remembered = self.executed.lock().map_err(lock_err)?.remove(&hash);
        let mut executed = match remembered {
            Some(e) if e.block.header.prev_hash == head.block_hash => e,
            _ => {
                let bytes = self
                    .store
                    .undecided(height, &hash)?
                    .ok_or(ChainError::UnknownDecided(hash))?;
                let block = Block::decode(&bytes).map_err(|e| ChainError::Diverged {
                    hash,
                    why: InvalidBlock::Malformed(e.to_string()),
                })?;
                self.validate_block(block, bytes, None, known, None)?
                    .map_err(|why| ChainError::Diverged { hash, why })?
            }
        };
        let started = std::time::Instant::now();
        let block = Arc::new(executed.block);
        let (new_head, results) =
            self.store
                .commit_block(&executed.bytes, &block, cert, &mut executed.output)?;
        self.store
            .metrics()
            .commit_seconds
            .observe(started.elapsed().as_secs_f64());
        match self.head.write() {
            Ok(mut h) => *h = new_head.clone(),
            Err(p) => *p.into_inner() = new_head.clone(),
        }
        self.executed
            .lock()
            .map_err(lock_err)?
            .retain(|_, e| e.block.header.height > height);
        self.store.prune_undecided(height)?;
        let senders: std::collections::BTreeSet<AccountId> =
            block.txs.iter().map(|t| t.body.sender).collect();
        let committed = Arc::new(Committed {
            head: new_head,
            senders: senders.into_iter().collect(),
            tx_ids: results.results.iter().map(|r| r.tx_id).collect(),
            results,
        });
        // No subscriber is fine.
        let _ = self.committed_tx.send(committed.clone());
        Ok(Some(committed))
    }
}

/// Re-executes journaled block `h` on the state below it (signatures were
/// checked before it was committed here) and adds its writes.
fn recover_one(store: &Store, h: u64) -> Result<(), ChainError> {
    let fail = |why: String| ChainError::Recovery { height: h, why };
    let entry = store
        .journal_entry(assent_contracts::Height(h))?
        .ok_or_else(|| fail("is missing".into()))?;
    let block: Block = crate::storage::decode(&format!("block {h}"), &entry.block)?;
    let head = store.head();
    if block.header.height.0 != h || block.header.prev_hash != head.block_hash {
        return Err(fail(format!(
            "does not follow block {} ({})",
            head.height.0, head.block_hash
        )));
    }
    let txs: Vec<VerifiedTx> = block
        .txs
        .iter()
        .cloned()
        .map(VerifiedTx::previously_verified)
        .collect();
    let state = store.snapshot();
    let tree = store.tree_at(head.height).map_err(|_| {
        fail(format!(
            "has no state tree of block {} to build on",
            head.height.0
        ))
    })?;
    let out = execute_block(&state, &block.header.context(), &tree, &txs)?;
    drop(state);
    if out.state_root != block.header.state_root {
        return Err(fail("re-executes to another state_root".into()));
    }
    if out.results_root != block.header.results_root {
        return Err(fail("re-executes to another results_root".into()));
    }
    store.recovered(&block.header, out.writes, out.tree)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use assent_contracts::crypto::Keypair;
    use assent_contracts::tx::{verify_batch, Transfer};
    use assent_contracts::{Amount, Payload, TxBody};

    fn transfer(from: &Keypair, amount: u64) -> SignedTx {
        TxBody {
            sender: from.account(),
            nonce: 0,
            payload: Payload::Transfer(Transfer {
                to: Keypair::from_seed([9; 32]).account(),
                amount: Amount(amount),
            }),
        }
        .sign("test", from)
    }

    #[test]
    fn only_the_very_same_tx_skips_its_signature_check() {
        let alice = Keypair::from_seed([1; 32]);
        let pooled = transfer(&alice, 5);
        let copy = verify_batch("test", vec![pooled.clone()], rand::rngs::OsRng)
            .pop()
            .unwrap()
            .unwrap();
        // The pool answers by sender and nonce: the same candidate for all.
        let known = |_: &SignedTx| Some(copy.clone());
        let mut forged = pooled.clone();
        forged.signature.0[3] ^= 1;
        let other = transfer(&alice, 6);
        let got = reuse_verified(&[pooled.clone(), forged, other], &known);
        assert_eq!(got[0].as_ref().map(|v| v.id()), Some(pooled.id()));
        assert!(got[1].is_none() && got[2].is_none());
        assert!(reuse_verified(&[pooled], &|_| None)[0].is_none());
    }
}
