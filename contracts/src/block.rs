//! Blocks and block execution: a pure function from (state, block) to
//! (writes, per-tx results, events, state root).

use serde::{Deserialize, Serialize};

use crate::codec::{self, CodecError};
use crate::crypto::Signature;
use crate::events::Event;
use crate::ids::{AccountId, Amount, BlockHash, Hash32, Height, Timestamp, TxId};
use crate::state::tree::{self, StateTree};
use crate::state::{Overlay, StateExt, StateRead, StoreError, Writes};
use crate::tx::{execute_tx, BlockContext, Payload, SignedTx, TxOutcome, TxResult, VerifiedTx};
use crate::{merkle, use_tree};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, bincode::Encode, bincode::Decode)]
pub struct BlockHeader {
    pub chain_id: String,
    pub height: Height,
    /// Set by the proposer; strictly greater than the parent's.
    pub time: Timestamp,
    pub prev_hash: BlockHash,
    /// Merkle root over the block's txs, each leaf its id and signature
    /// ([`tx_leaf`]).
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

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, bincode::Encode, bincode::Decode)]
pub struct Block {
    pub header: BlockHeader,
    pub txs: Vec<SignedTx>,
}

impl Block {
    pub fn encode(&self) -> Vec<u8> {
        codec::encode_infallible(self)
    }
    pub fn decode(bytes: &[u8]) -> Result<Block, CodecError> {
        codec::decode_native(bytes)
    }
}

/// Tag of a tx's leaf in the block's tx tree.
pub const TX_LEAF_TAG: &str = "assent/tx-leaf/v2";
/// Tag of a tx result's leaf in the block's results tree (but an applied
/// RecordUse's: [`use_tree::USES_RESULT_LEAF_TAG`]).
pub const RESULT_LEAF_TAG: &str = "assent/tx-result-leaf/v2";
/// Tag of the end-of-block events' leaf, the results tree's last.
pub const END_EVENTS_LEAF_TAG: &str = "assent/end-events-leaf/v2";

/// A tx's leaf in the tx tree: its id and its signature. The id commits to
/// the whole body (a RecordUse's to its uses through their root), so the
/// leaf binds the tx without a receipt having to carry all of it.
pub fn tx_leaf(id: &TxId, signature: &Signature) -> Hash32 {
    merkle::tagged_leaf(TX_LEAF_TAG, &[id.as_bytes(), &signature.0])
}

/// Leaf hashes of the tx tree.
pub fn tx_leaves<'a>(txs: impl IntoIterator<Item = &'a SignedTx>) -> Vec<Hash32> {
    txs.into_iter()
        .map(|t| tx_leaf(&t.id(), &t.signature))
        .collect()
}

/// The leaf of one tx's result. An applied RecordUse's is its
/// [`UsesResult`](use_tree::UsesResult): its uses' outcomes are leaves of
/// their own tree, so each can be proven alone; any other result's is its
/// canonical [`TxResult`]. `tx` is the tx the result is of.
pub fn result_leaf(tx: Option<&SignedTx>, r: &TxResult) -> Hash32 {
    let use_leaves = tx
        .and_then(record_use)
        .map(|ru| use_tree::use_leaves(&ru.uses));
    result_leaf_of(use_leaves.as_deref(), r)
}

fn record_use(tx: &SignedTx) -> Option<&crate::tx::RecordUse> {
    match &tx.body.payload {
        Payload::RecordUse(r) => Some(r),
        _ => None,
    }
}

/// [`result_leaf`] of a tx whose uses' leaves are `use_leaves` (a
/// RecordUse's) or `None` (any other kind).
fn result_leaf_of(use_leaves: Option<&[Hash32]>, r: &TxResult) -> Hash32 {
    if let (Some(leaves), TxOutcome::Applied { events }) = (use_leaves, &r.outcome) {
        if let Some(outcomes) = use_tree::outcome_leaves(leaves, events) {
            return use_tree::UsesResult {
                tx_id: r.tx_id,
                count: leaves.len() as u64,
                outcomes_root: merkle::root(&outcomes),
            }
            .leaf();
        }
    }
    merkle::tagged_leaf(RESULT_LEAF_TAG, &[&codec::encode_infallible(r)])
}

fn end_events_leaf(end_events: &[Event]) -> Hash32 {
    merkle::tagged_leaf(
        END_EVENTS_LEAF_TAG,
        &[&codec::encode_infallible(&end_events)],
    )
}

/// Leaf hashes of the results tree: one per tx result ([`result_leaf`],
/// block order; `txs` are the block's txs in the same order), then one for
/// the end-of-block events. A receipt proves what became of one tx (applied
/// with these events, or rejected), or of one use, with a path in this tree.
pub fn result_leaves<'a>(
    txs: impl IntoIterator<Item = &'a SignedTx>,
    results: &[TxResult],
    end_events: &[Event],
) -> Vec<Hash32> {
    let mut txs = txs.into_iter();
    let mut leaves: Vec<Hash32> = results.iter().map(|r| result_leaf(txs.next(), r)).collect();
    leaves.push(end_events_leaf(end_events));
    leaves
}

/// Both trees' leaves of a stored block — [`tx_leaves`] and
/// [`result_leaves`] — hashing each RecordUse's uses once.
pub fn leaves(
    txs: &[SignedTx],
    results: &[TxResult],
    end_events: &[Event],
) -> (Vec<Hash32>, Vec<Hash32>) {
    let mut tx_out = Vec::with_capacity(txs.len());
    let mut result_out = Vec::with_capacity(results.len() + 1);
    for (i, t) in txs.iter().enumerate() {
        let use_leaves = record_use(t).map(|r| use_tree::use_leaves(&r.uses));
        let id = match &use_leaves {
            Some(ul) => use_tree::UsesCommitment::from_leaves(t.body.sender, t.body.nonce, ul).id(),
            None => t.id(),
        };
        tx_out.push(tx_leaf(&id, &t.signature));
        if let Some(r) = results.get(i) {
            result_out.push(result_leaf_of(use_leaves.as_deref(), r));
        }
    }
    for r in results.iter().skip(txs.len()) {
        result_out.push(result_leaf_of(None, r));
    }
    result_out.push(end_events_leaf(end_events));
    (tx_out, result_out)
}

/// `txs_root` of a list of verified txs.
pub fn txs_root(txs: &[VerifiedTx]) -> Hash32 {
    let leaves: Vec<Hash32> = txs
        .iter()
        .map(|t| tx_leaf(&t.id(), &t.tx().signature))
        .collect();
    merkle::root(&leaves)
}

/// The state after a block's writes: the new tree version and the header's
/// `state_root` at `height`. The cost grows with the block's writes and the
/// log of the state's size, never with the whole state.
pub fn next_state(
    prev: &StateTree,
    height: Height,
    writes: &Writes,
) -> Result<(StateTree, Hash32), StoreError> {
    let tree = prev.apply(writes)?;
    let root = tree::state_root(height, &tree.root());
    Ok((tree, root))
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

/// About how many records a tx writes, to size a block's overlay.
const WRITES_PER_TX: usize = 8;

/// Executes `txs` in order on top of `state`, whose tree is `prev_tree`.
/// Pure: same inputs, same output, on every machine. Only a store failure is
/// an error; rejected txs are results.
pub fn execute_block(
    state: &dyn StateRead,
    ctx: &BlockContext,
    prev_tree: &StateTree,
    txs: &[VerifiedTx],
) -> Result<BlockOutput, StoreError> {
    // Room for what a block of uses writes (a few records per tx) without
    // growing the map as it fills.
    let mut overlay = Overlay::with_capacity(state, txs.len() * WRITES_PER_TX);
    let mut slots: Vec<Option<TxResult>> = vec![None; txs.len()];
    for i in execution_order(txs) {
        slots[i] = Some(execute_tx(ctx, &mut overlay, &txs[i])?);
    }
    let results: Vec<TxResult> = slots.into_iter().flatten().collect();
    let end_events = pay_operators(&mut overlay)?;
    // The two trees of the block's tail depend on nothing of each other's:
    // the results tree is hashed on a second core while this one sorts the
    // writes and updates the state tree.
    let (state, (results_root, txs_root)) = both(
        results_leaves(txs) >= TAIL_ON_TWO_CORES_MIN_LEAVES,
        || {
            let writes = overlay.into_writes();
            next_state(prev_tree, ctx.height, &writes).map(|(tree, root)| (tree, root, writes))
        },
        || (results_root_of(txs, &results, &end_events), txs_root(txs)),
    );
    let (tree, state_root, writes) = state?;
    Ok(BlockOutput {
        writes,
        tree,
        results,
        end_events,
        state_root,
        results_root,
        txs_root,
    })
}

/// The results tree's root (see [`result_leaves`]); the uses' leaves were
/// hashed when the txs were verified (their ids).
fn results_root_of(txs: &[VerifiedTx], results: &[TxResult], end_events: &[Event]) -> Hash32 {
    let mut leaves: Vec<Hash32> = txs
        .iter()
        .zip(results)
        .map(|(t, r)| result_leaf_of(t.use_leaves(), r))
        .collect();
    leaves.push(end_events_leaf(end_events));
    merkle::root(&leaves)
}

/// Blocks whose results tree has at least this many leaves (a tx's result,
/// or each use of an applied RecordUse) hash it on a second thread; below
/// it a thread costs more than it saves.
const TAIL_ON_TWO_CORES_MIN_LEAVES: usize = 64;

/// About how many leaves the results tree of `txs` hashes: one per tx and
/// one per use.
fn results_leaves(txs: &[VerifiedTx]) -> usize {
    txs.iter()
        .map(|t| 1 + t.use_leaves().map_or(0, <[Hash32]>::len))
        .sum()
}

/// `(a(), b())`, with `b` on a second thread when `split` and the system
/// gives one (else after `a` on this one). Which thread runs what never
/// changes either result.
fn both<A, B: Send>(split: bool, a: impl FnOnce() -> A, b: impl Fn() -> B + Sync) -> (A, B) {
    if !split {
        return (a(), b());
    }
    std::thread::scope(|s| {
        let side = std::thread::Builder::new().spawn_scoped(s, &b);
        let a = a();
        let b = match side {
            Ok(handle) => handle
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
            Err(_no_thread) => b(),
        };
        (a, b)
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
