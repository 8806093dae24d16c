//! Building this node's blocks and judging proposed ones, both by
//! executing them on the committed tip.
//!
//! A block is known before it is executed except for its two roots
//! (`results_root`, `state_root`): the txs and the rest of the header fix
//! everything execution does. So a proposer can [`Chain::prepare_block`],
//! send what it chose, and [`Chain::execute_prepared`] while its validators
//! [`Chain::execute_proposal`] the same txs; each side then has the roots,
//! and a validator compares its own with the proposer's (ARCHITECTURE
//! decision 50).

use assent_contracts::block::{execute_block, txs_root};
use assent_contracts::codec;
use assent_contracts::state::StateExt;
use assent_contracts::tx::{verify_covered_batch, CoveredTx, SignedTx, VerifiedTx};
use assent_contracts::{AccountId, Block, BlockHeader, BlockOutput, Hash32, Timestamp};
use std::sync::Arc;

use super::{
    lock_err, reuse_verified, Chain, ChainError, Executed, InvalidBlock, Offer, Offered,
    MAX_CLOCK_DRIFT_MS,
};
use crate::storage::Head;

/// A block this node proposes, before it is executed: its header with both
/// roots still zero, and its txs.
#[derive(Clone, Debug)]
pub struct Prepared {
    pub header: BlockHeader,
    pub txs: Arc<Vec<VerifiedTx>>,
}

impl Chain {
    /// Builds the next block from `txs` (already verified, in mempool order).
    pub fn build_block(
        &self,
        txs: Vec<VerifiedTx>,
        proposer: AccountId,
        now: Timestamp,
    ) -> Result<Executed, ChainError> {
        let prepared = self.prepare_block(txs, proposer, now)?;
        self.execute_prepared(prepared)
    }

    /// The next block from `txs` (already verified, in mempool order) up to
    /// the chain's limits, not yet executed: its roots are zero.
    pub fn prepare_block(
        &self,
        txs: Vec<VerifiedTx>,
        proposer: AccountId,
        now: Timestamp,
    ) -> Result<Prepared, ChainError> {
        let head = self.head();
        let params = self.store.params()?;
        let mut chosen = Vec::with_capacity(txs.len().min(params.max_block_txs as usize));
        let mut bytes = 0usize;
        for t in txs {
            if chosen.len() >= params.max_block_txs as usize
                || bytes + t.bytes().len() > params.max_block_bytes as usize
            {
                break;
            }
            bytes += t.bytes().len();
            chosen.push(t);
        }
        let header = BlockHeader {
            chain_id: self.chain_id.clone(),
            height: head.height.next(),
            time: Timestamp(now.0.max(head.time.0 + 1)),
            prev_hash: head.block_hash,
            txs_root: txs_root(&chosen),
            results_root: Hash32::default(),
            state_root: Hash32::default(),
            proposer,
        };
        Ok(Prepared {
            header,
            txs: Arc::new(chosen),
        })
    }

    /// Offers the txs of a block this node is about to propose to peers
    /// that lack some ([`Chain::txs_in_memory`], by the hash of its header
    /// without roots) while it executes, and after, until the next offer.
    pub fn offer(&self, p: &Prepared) -> Result<(), ChainError> {
        *self.offered.lock().map_err(lock_err)? = Some(Offer {
            hash: p.header.hash(),
            txs: Offered::Executing(p.txs.clone()),
        });
        Ok(())
    }

    /// Executes a block [`Chain::prepare_block`] made, on the tip it was
    /// prepared on, and sets its roots.
    pub fn execute_prepared(&self, p: Prepared) -> Result<Executed, ChainError> {
        let head = self.head();
        if p.header.height != head.height.next() {
            return Err(ChainError::OutOfOrder {
                got: p.header.height.0,
                tip: head.height.0,
            });
        }
        let output = self.execute(&p.header, &head, &p.txs)?;
        // An offered block's txs stay answerable as their bytes; the rest
        // of each moves into the block. Under the lock: no answer holds
        // the shared txs meanwhile.
        let mut offered = self.offered.lock().map_err(lock_err)?;
        let ours = offered
            .as_ref()
            .is_some_and(|o| matches!(&o.txs, Offered::Executing(t) if Arc::ptr_eq(t, &p.txs)));
        if ours {
            *offered = None;
        }
        let txs = Arc::try_unwrap(p.txs).unwrap_or_else(|shared| (*shared).clone());
        let (txs, bytes): (Vec<SignedTx>, Vec<Vec<u8>>) =
            txs.into_iter().map(VerifiedTx::into_parts).unzip();
        if ours {
            *offered = Some(Offer {
                hash: p.header.hash(),
                txs: Offered::Executed(bytes),
            });
        }
        drop(offered);
        let block = Block {
            header: p.header,
            txs,
        };
        Ok(finish(block, output))
    }

    /// Executes `txs` under `header` on the committed state at `head`.
    fn execute(
        &self,
        header: &BlockHeader,
        head: &Head,
        txs: &[VerifiedTx],
    ) -> Result<BlockOutput, ChainError> {
        let started = std::time::Instant::now();
        let state = self.store.snapshot();
        if state.height() != head.height {
            return Err(ChainError::OutOfOrder {
                got: state.height().0,
                tip: head.height.0,
            });
        }
        let tree = self
            .store
            .tree_at(head.height)
            .map_err(|_| ChainError::OutOfOrder {
                got: head.height.0,
                tip: self.store.head().height.0,
            })?;
        let out = execute_block(&state, &self.context(header), &tree, txs)?;
        let took = started.elapsed();
        let metrics = self.store.metrics();
        metrics.execute_seconds.observe(took.as_secs_f64());
        // One unit for the block itself (its tree update and roots).
        let units = 1 + txs.iter().map(super::super::budget::work).sum::<u64>();
        self.cost.observe(units, took);
        metrics
            .execute_ns_per_unit
            .set(i64::try_from(self.cost.ns_per_unit()).unwrap_or(i64::MAX));
        Ok(out)
    }

    /// The most work units (see [`super::super::budget`]) a block this
    /// node proposes may hold to execute within `budget` at the measured
    /// rate.
    pub fn work_within(&self, budget: std::time::Duration) -> u64 {
        self.cost.units_within(budget)
    }

    /// Validates a proposed block for the next height by re-executing it.
    /// `known` returns a tx this node verified before at the block tx's
    /// sender and nonce; it is reused only if it is the very same tx (no
    /// second signature check, no id worked out again: a RecordUse's id is
    /// the Merkle root of its uses).
    /// `now` = None skips the clock check (blocks that are already certified).
    pub fn validate_block(
        &self,
        block: Block,
        bytes: Vec<u8>,
        expected_proposer: Option<AccountId>,
        known: &dyn Fn(&SignedTx) -> Option<VerifiedTx>,
        now: Option<Timestamp>,
    ) -> Result<Result<Executed, InvalidBlock>, ChainError> {
        let claimed = (block.header.results_root, block.header.state_root);
        let judged = self.execute_proposal(&block, bytes.len(), expected_proposer, known, now);
        Ok(judged?.and_then(|output| {
            same_roots(claimed, &output)?;
            let hash = block.header.hash();
            Ok(Executed {
                block,
                bytes,
                hash,
                output,
            })
        }))
    }

    /// Judges and executes a proposed block whose roots may not be known
    /// yet (they are ignored): every check of [`Chain::validate_block`] but
    /// the roots, then the block's execution, whose roots the caller
    /// compares with the proposer's ([`same_roots`]). `size` is the length
    /// of the block's encoding (roots are fixed-size, so any roots give it).
    pub fn execute_proposal(
        &self,
        block: &Block,
        size: usize,
        expected_proposer: Option<AccountId>,
        known: &dyn Fn(&SignedTx) -> Option<VerifiedTx>,
        now: Option<Timestamp>,
    ) -> Result<Result<BlockOutput, InvalidBlock>, ChainError> {
        let started = std::time::Instant::now();
        let judged = (|| {
            let head = self.head();
            let h = &block.header;
            if h.chain_id != self.chain_id {
                return Ok(Err(InvalidBlock::WrongChain(h.chain_id.clone())));
            }
            if h.height != head.height.next() {
                return Ok(Err(InvalidBlock::WrongHeight {
                    got: h.height.0,
                    want: head.height.0 + 1,
                }));
            }
            if h.prev_hash != head.block_hash {
                return Ok(Err(InvalidBlock::WrongParent));
            }
            if h.time <= head.time {
                return Ok(Err(InvalidBlock::TimeNotAfterParent {
                    got: h.time.0,
                    parent: head.time.0,
                }));
            }
            if let Some(now) = now {
                if h.time.0 > now.0 + MAX_CLOCK_DRIFT_MS {
                    return Ok(Err(InvalidBlock::TimeInFuture {
                        got: h.time.0,
                        now: now.0,
                    }));
                }
            }
            if let Some(want) = expected_proposer {
                if h.proposer != want {
                    return Ok(Err(InvalidBlock::WrongProposer {
                        got: h.proposer,
                        want,
                    }));
                }
            }
            let params = self.store.params()?;
            // The txs' encodings are at most the block's bytes: a block whose
            // bytes fit needs no per-tx count.
            let size = if size <= params.max_block_bytes as usize {
                size
            } else {
                block.txs.iter().map(|t| t.encode().len()).sum()
            };
            if block.txs.len() > params.max_block_txs as usize
                || size > params.max_block_bytes as usize
            {
                return Ok(Err(InvalidBlock::TooLarge {
                    txs: block.txs.len(),
                    bytes: size,
                }));
            }
            // Verify only the txs this node has not verified before, in one batch.
            let mut verified = reuse_verified(&block.txs, known);
            let unknown: Vec<(usize, SignedTx)> = block
                .txs
                .iter()
                .enumerate()
                .filter(|(i, _)| verified[*i].is_none())
                .map(|(i, t)| (i, t.clone()))
                .collect();
            if !unknown.is_empty() {
                let (idx, txs): (Vec<usize>, Vec<_>) = unknown.into_iter().unzip();
                for (i, r) in idx.into_iter().zip(verify_covered_batch(
                    &self.chain_id,
                    txs.into_iter().map(CoveredTx::new).collect(),
                    rand::rngs::OsRng,
                    Some(&self.signer_keys),
                )) {
                    match r {
                        Ok(v) => verified[i] = Some(v),
                        Err(refused) => {
                            return Ok(Err(InvalidBlock::BadSignature(refused.tx.id())))
                        }
                    }
                }
            }
            let verified: Vec<VerifiedTx> = verified.into_iter().flatten().collect();
            if txs_root(&verified) != h.txs_root {
                return Ok(Err(InvalidBlock::Mismatch { field: "txs_root" }));
            }
            Ok(Ok(self.execute(h, &head, &verified)?))
        })();
        self.store
            .metrics()
            .validate_seconds
            .observe(started.elapsed().as_secs_f64());
        judged
    }
}

/// Whether `output`'s roots are the `(results_root, state_root)` a block
/// claims; the error names the first that differs.
pub fn same_roots(claimed: (Hash32, Hash32), output: &BlockOutput) -> Result<(), InvalidBlock> {
    if output.state_root != claimed.1 {
        return Err(InvalidBlock::Mismatch {
            field: "state_root",
        });
    }
    if output.results_root != claimed.0 {
        return Err(InvalidBlock::Mismatch {
            field: "results_root",
        });
    }
    Ok(())
}

/// Sets a block's roots, in it and in `bytes`, its encoding. A block's
/// encoding starts with its header's, and roots are fixed-size, so only
/// the header's bytes are written again; bytes that do not start with the
/// header's encoding are replaced by the block's whole encoding.
pub fn set_roots(block: &mut Block, bytes: &mut Vec<u8>, results_root: Hash32, state_root: Hash32) {
    let before = codec::encode_native(&block.header).unwrap_or_default();
    block.header.results_root = results_root;
    block.header.state_root = state_root;
    let after = codec::encode_native(&block.header).unwrap_or_default();
    match bytes.get_mut(..before.len()) {
        Some(head) if !before.is_empty() && *head == before[..] && after.len() == before.len() => {
            head.copy_from_slice(&after)
        }
        _ => *bytes = block.encode(),
    }
}

/// `block` with the roots of its execution, its bytes and hash.
fn finish(mut block: Block, output: BlockOutput) -> Executed {
    block.header.results_root = output.results_root;
    block.header.state_root = output.state_root;
    let hash = block.header.hash();
    let bytes = block.encode();
    Executed {
        block,
        bytes,
        hash,
        output,
    }
}
