//! Blocks and block execution: a pure function from (state, block) to
//! (writes, per-tx results, events, state root).

use serde::{Deserialize, Serialize};

use crate::codec::{self, CodecError};
use crate::events::Event;
use crate::ids::{AccountId, Amount, BlockHash, Hash32, Height, Timestamp};
use crate::merkle;
use crate::state::tree::{self, StateTree};
use crate::state::{Overlay, StateExt, StateRead, StoreError, Writes};
use crate::tx::{execute_tx, BlockContext, SignedTx, TxResult, VerifiedTx};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockHeader {
    pub chain_id: String,
    pub height: Height,
    /// Set by the proposer; strictly greater than the parent's.
    pub time: Timestamp,
    pub prev_hash: BlockHash,
    /// Merkle root over the canonical bytes of the block's signed txs.
    pub txs_root: Hash32,
    /// Merkle root over the block's per-tx results (in block order) and, as
    /// the last leaf, its end-of-block events; see [`result_leaves`].
    pub results_root: Hash32,
    /// Commitment to the whole ledger state after this block: the state
    /// tree's root bound to the height ([`tree::state_root`]).
    pub state_root: Hash32,
    pub proposer: AccountId,
}

impl BlockHeader {
    pub fn hash(&self) -> BlockHash {
        BlockHash(Hash32::tagged(
            "assent/block/v1",
            &[&codec::encode_infallible(self)],
        ))
    }

    pub fn context(&self) -> BlockContext {
        BlockContext {
            chain_id: self.chain_id.clone(),
            height: self.height,
            time: self.time,
            proposer: self.proposer,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Block {
    pub header: BlockHeader,
    pub txs: Vec<SignedTx>,
}

impl Block {
    pub fn encode(&self) -> Vec<u8> {
        codec::encode_infallible(self)
    }
    pub fn decode(bytes: &[u8]) -> Result<Block, CodecError> {
        codec::decode(bytes)
    }
}

/// Leaf hashes of the tx tree.
pub fn tx_leaves<'a>(txs: impl IntoIterator<Item = &'a [u8]>) -> Vec<Hash32> {
    txs.into_iter().map(merkle::leaf_hash).collect()
}

/// Leaf hashes of the results tree: one per tx result (canonical bytes of its
/// [`TxResult`], block order), then one for the end-of-block events. A receipt
/// proves what became of one tx (applied with these events, or rejected) with
/// a path in this tree.
pub fn result_leaves(results: &[TxResult], end_events: &[Event]) -> Vec<Hash32> {
    let mut leaves: Vec<Hash32> = results
        .iter()
        .map(|r| merkle::leaf_hash(&codec::encode_infallible(r)))
        .collect();
    leaves.push(merkle::leaf_hash(&codec::encode_infallible(&end_events)));
    leaves
}

/// `txs_root` of a list of verified txs.
pub fn txs_root(txs: &[VerifiedTx]) -> Hash32 {
    merkle::root(&tx_leaves(txs.iter().map(|t| t.bytes())))
}

/// The state after a block's writes: the new tree version and the header's
/// `state_root` at `height`. The cost grows with the block's writes and the
/// log of the state's size, never with the whole state.
pub fn next_state(prev: &StateTree, height: Height, writes: &Writes) -> (StateTree, Hash32) {
    let tree = prev.apply(writes);
    let root = tree::state_root(height, &tree.root());
    (tree, root)
}

/// Everything a block's execution produced.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlockOutput {
    pub writes: Writes,
    /// The state tree after the block (shares every unchanged node with the parent's).
    pub tree: StateTree,
    pub results: Vec<TxResult>,
    /// Events of the block itself (operator rewards), after the txs' events.
    pub end_events: Vec<Event>,
    pub state_root: Hash32,
    pub results_root: Hash32,
    pub txs_root: Hash32,
}

/// Executes `txs` in order on top of `state`, whose tree is `prev_tree`.
/// Pure: same inputs, same output, on every machine. Only a store failure is
/// an error; rejected txs are results.
pub fn execute_block(
    state: &dyn StateRead,
    ctx: &BlockContext,
    prev_tree: &StateTree,
    txs: &[VerifiedTx],
) -> Result<BlockOutput, StoreError> {
    let mut overlay = Overlay::new(state);
    let mut slots: Vec<Option<TxResult>> = vec![None; txs.len()];
    for i in execution_order(txs) {
        slots[i] = Some(execute_tx(ctx, &mut overlay, &txs[i])?);
    }
    let results: Vec<TxResult> = slots.into_iter().flatten().collect();
    let end_events = pay_operators(&mut overlay)?;
    let writes = overlay.into_writes();
    let (tree, state_root) = next_state(prev_tree, ctx.height, &writes);
    let results_root = merkle::root(&result_leaves(&results, &end_events));
    Ok(BlockOutput {
        writes,
        tree,
        results,
        end_events,
        state_root,
        results_root,
        txs_root: txs_root(txs),
    })
}

/// The order txs execute in: first every tx whose sender records no use in
/// this block, then every tx of the senders that do, each group in block order.
///
/// So everything consumers (and operators) change in a block — a grant, a
/// revocation, a pause, a cleared policy, a suspension — binds every use in
/// that same block, whatever place the proposer gave it. Each sender's txs
/// stay in block order, so nonces still run in sequence. Results are
/// reported in block order regardless.
pub fn execution_order(txs: &[VerifiedTx]) -> Vec<usize> {
    let recorders: std::collections::BTreeSet<AccountId> = txs
        .iter()
        .filter(|t| matches!(t.tx().body.payload, crate::tx::Payload::RecordUse(_)))
        .map(|t| t.sender())
        .collect();
    let (mut first, mut second) = (Vec::with_capacity(txs.len()), Vec::new());
    for (i, t) in txs.iter().enumerate() {
        if recorders.contains(&t.sender()) {
            second.push(i);
        } else {
            first.push(i);
        }
    }
    first.extend(second);
    first
}

/// Pays the operators' pool out in equal shares; the remainder waits for the next block.
fn pay_operators(state: &mut Overlay<'_>) -> Result<Vec<Event>, StoreError> {
    let pool = state.operator_pool()?;
    let ops = state.operators()?;
    let n = ops.len() as u64;
    if n == 0 || pool.0 < n {
        return Ok(vec![]);
    }
    let each = Amount(pool.0 / n);
    for op in &ops {
        let mut a = state.account(&op.account)?;
        // Cannot overflow: every balance plus the pool is at most the supply, a u64.
        a.balance = Amount(a.balance.0.saturating_add(each.0));
        state.put_account(&op.account, &a);
    }
    state.put_operator_pool(Amount(pool.0 - each.0 * n));
    Ok(vec![Event::OperatorRewards {
        each,
        operators: n as u32,
    }])
}
