//! The pool's index entry of a pending tx, and the count of this node's
//! clients' pending txs that backpressure's per-node share checks.

use std::collections::HashMap;

use assent_contracts::{AccountId, TxId};

/// Where a pending tx is, and whether this node's clients submitted it.
#[derive(Debug, Clone, Copy)]
pub(super) struct Slot {
    pub(super) sender: AccountId,
    pub(super) nonce: u64,
    pub(super) mine: bool,
}

/// The txs this node's clients submitted that are still pending: counted
/// as they come and go, so [`Mempool::room`](super::Mempool::room) costs
/// the same however many there are.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct Mine {
    pub(super) txs: usize,
    pub(super) bytes: usize,
}

/// Drops `id` (`len` canonical bytes) from the index, and from [`Mine`]
/// if it was there.
pub(super) fn unindex(index: &mut HashMap<TxId, Slot>, mine: &mut Mine, id: &TxId, len: usize) {
    if let Some(slot) = index.remove(id) {
        if slot.mine {
            mine.txs = mine.txs.saturating_sub(1);
            mine.bytes = mine.bytes.saturating_sub(len);
        }
    }
}
