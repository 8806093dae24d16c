//! The mempool: signed txs waiting for a block, each verified once.
//!
//! Admission ([`admission`]) runs the cheap checks first (size, strict decode, duplicate,
//! stateless check, nonce, quotas) and then verifies the signatures of every
//! tx that passed them with one batch call (the batch answer equals the single
//! answer, see `assent_contracts::crypto`). The pool keeps [`VerifiedTx`]s, so
//! a proposal's txs already admitted here are never verified again.
//!
//! Pending txs are kept per sender ordered by nonce; gaps (future nonces) are
//! allowed within the per-account quota. [`Mempool::reap`] hands out, for each
//! sender, the contiguous run of nonces starting at the sender's state nonce,
//! interleaving senders round-robin in the order their first pending tx
//! arrived, so a busy account cannot starve the others.
//!
//! A sender whose pending txs all wait behind a missing nonce (e.g. one
//! refused under overload) would hold its quota forever: after
//! `gap_expiry_blocks` blocks without progress such a queue is dropped
//! ([`Mempool::expire_gaps`]), and the sender sends again from its next nonce.
//!
//! Invariants: every stored tx has a verified signature for the chain it was
//! admitted for; `index` and `senders` hold exactly the same txs; a sender is
//! in `order` iff it has pending txs; `bytes` is the sum of the stored txs'
//! canonical sizes, and each queue's `bytes` the sum of its own; `work` is the
//! sum of the stored txs' work units ([`crate::ledger::budget::work`]); `mine`
//! counts the txs `index` marks as this node's clients' and their bytes; no limit of
//! [`MempoolLimits`] (count and bytes, in all and per sender) is ever exceeded.

mod admission;
pub mod backlog;
mod slot;

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::Arc;

use assent_contracts::crypto::{SignerKeys, SIGNER_KEYS_PER_GENERATION};
use assent_contracts::state::{StateExt, StateRead};
use assent_contracts::{AccountId, TxId, VerifiedTx};

pub use admission::{
    admit, first_txs_run, prepare, verify, AdmissionError, MempoolLimits, Origin, Prepared,
    Screened, Verified,
};
pub use backlog::{Backlog, BacklogLimits, Overloaded, MIN_BACKLOG_BYTES};
use slot::{unindex, Mine, Slot};

use crate::ledger::budget::work;

const LOG: &str = "assent::mempool";

/// A sender's pending txs from some nonce on.
type Range<'a> = std::collections::btree_map::Range<'a, u64, VerifiedTx>;

/// One sender's pending txs, by nonce.
struct Queue {
    /// Arrival number of the sender's first pending tx (round-robin order).
    seq: u64,
    /// Height at which the queue was created, last had a tx committed, or
    /// was last seen ready to run (gap expiry counts from here).
    progress: u64,
    txs: BTreeMap<u64, VerifiedTx>,
    /// Canonical bytes of `txs`.
    bytes: usize,
}

/// How much one block may take from the pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReapLimits {
    pub max_txs: usize,
    pub max_bytes: usize,
    /// Work units ([`crate::ledger::budget::work`]); the first tx always fits.
    pub max_work: u64,
}

impl ReapLimits {
    /// Count and bytes only: no work budget.
    pub fn of(max_txs: usize, max_bytes: usize) -> ReapLimits {
        ReapLimits {
            max_txs,
            max_bytes,
            max_work: u64::MAX,
        }
    }
}

/// The pool of pending txs. Synchronous; the node keeps it behind a mutex.
pub struct Mempool {
    limits: MempoolLimits,
    senders: BTreeMap<AccountId, Queue>,
    index: HashMap<TxId, Slot>,
    /// Arrival number -> sender, for fair reaping.
    order: BTreeMap<u64, AccountId>,
    next_seq: u64,
    /// Locally admitted txs not yet handed out for gossip, in admission order.
    outbox: Vec<TxId>,
    bytes: usize,
    /// Work units of `txs` ([`crate::ledger::budget::work`]): how long the
    /// pool would take to execute, at a measured cost per unit.
    work: u64,
    /// The last committed height the pool was told of ([`Mempool::expire_gaps`]).
    height: u64,
    /// Recent commits, for backpressure on client submissions ([`backlog`]):
    /// in txs, and in bytes of txs.
    backlog: Backlog,
    byte_backlog: Backlog,
    /// This node's clients' pending txs (marked in `index` while
    /// backpressure is on).
    mine: Mine,
    /// Decompressed keys of signers whose txs verified here, for the next
    /// batches' signature checks (a cache; answers never depend on it).
    signer_keys: Arc<SignerKeys>,
}

impl fmt::Debug for Mempool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Mempool")
            .field("txs", &self.index.len())
            .field("senders", &self.senders.len())
            .field("bytes", &self.bytes)
            .field("limits", &self.limits)
            .finish()
    }
}

impl Mempool {
    pub fn new(limits: MempoolLimits) -> Mempool {
        Mempool {
            limits,
            senders: BTreeMap::new(),
            index: HashMap::new(),
            order: BTreeMap::new(),
            next_seq: 0,
            outbox: Vec::new(),
            bytes: 0,
            work: 0,
            height: 0,
            backlog: Backlog::new(BacklogLimits {
                backlog_ms: 0,
                ..BacklogLimits::default()
            }),
            byte_backlog: Backlog::of_bytes(BacklogLimits {
                backlog_ms: 0,
                ..BacklogLimits::default()
            }),
            mine: Mine::default(),
            signer_keys: Arc::new(SignerKeys::new(SIGNER_KEYS_PER_GENERATION)),
        }
    }

    /// The pool with backpressure on client submissions (off in
    /// [`Mempool::new`]; a node turns it on from `[mempool]`).
    pub fn with_backlog(mut self, limits: BacklogLimits) -> Mempool {
        self.backlog = Backlog::new(limits);
        self.byte_backlog = Backlog::of_bytes(limits);
        self
    }

    /// How many more client txs, and how many bytes of them, may be
    /// admitted now, or how long a client should wait ([`backlog`]): the
    /// pool must hold less than the backlog in txs and in bytes,
    /// and this node's own clients' pending txs less than its share of it
    /// (1/`validators`), so the txs every validator admits at once, before
    /// gossip spreads them, still fit the backlog together.
    pub fn room(
        &mut self,
        now: std::time::Instant,
        validators: usize,
    ) -> Result<(usize, usize), Overloaded> {
        let room = self.backlog.room(now, self.len())?;
        let byte_room = self.byte_backlog.room(now, self.bytes)?;
        if self.backlog.limits().backlog_ms == 0 {
            return Ok((room, byte_room));
        }
        let validators = validators.max(1);
        let share = (self.backlog.allowed(now) / validators).max(1);
        let byte_share = (self.byte_backlog.allowed(now) / validators).max(1);
        match (
            share.checked_sub(self.mine.txs),
            byte_share.checked_sub(self.mine.bytes),
        ) {
            (Some(left), Some(left_bytes)) if left > 0 && left_bytes > 0 => {
                Ok((room.min(left), byte_room.min(left_bytes)))
            }
            _ => Err(self.overloaded(now)),
        }
    }

    /// The refusal of a client tx now, as if the backlog were full: the
    /// byte rule's if the pool is over it, else the count rule's.
    pub fn overloaded(&self, now: std::time::Instant) -> Overloaded {
        if let Err(o) = self.byte_backlog.room(now, self.bytes) {
            return o;
        }
        let allowed = self.backlog.allowed(now);
        let retry_after = match self.backlog.room(now, self.len().max(allowed)) {
            Err(o) => o.retry_after,
            Ok(_) => std::time::Duration::from_secs(1),
        };
        Overloaded {
            pending: self.len(),
            allowed,
            retry_after,
            unit: "txs",
        }
    }

    /// A block with `txs` txs of `bytes` bytes committed at `at` (for the
    /// measured rates).
    pub fn committed_block(&mut self, at: std::time::Instant, txs: usize, bytes: usize) {
        self.backlog.committed(at, txs);
        self.byte_backlog.committed(at, bytes);
    }

    /// The measured commit rate and the backlog it allows now.
    pub fn backlog(&self, now: std::time::Instant) -> (f64, usize) {
        (self.backlog.rate(now), self.backlog.allowed(now))
    }

    /// The pool of a node whose chain is at `height` (gap expiry counts
    /// from here for txs admitted before the next block).
    pub fn at_height(mut self, height: u64) -> Mempool {
        self.height = height;
        self
    }

    pub fn limits(&self) -> MempoolLimits {
        self.limits
    }

    /// The signer-key cache admission checks signatures with.
    pub fn signer_keys(&self) -> Arc<SignerKeys> {
        self.signer_keys.clone()
    }

    fn check_not_pending(
        &self,
        id: TxId,
        sender: AccountId,
        nonce: u64,
    ) -> Result<(), AdmissionError> {
        if self.index.contains_key(&id) {
            return Err(AdmissionError::Duplicate { id });
        }
        if let Some(p) = self.senders.get(&sender).and_then(|q| q.txs.get(&nonce)) {
            return Err(AdmissionError::NonceTaken {
                sender,
                nonce,
                pending: p.id(),
            });
        }
        Ok(())
    }

    /// Room for one more tx of `len` bytes from `sender`.
    fn check_room(&self, sender: AccountId, len: usize) -> Result<(), AdmissionError> {
        let limits = &self.limits;
        let (mine, mine_bytes) = self
            .senders
            .get(&sender)
            .map_or((0, 0), |q| (q.txs.len(), q.bytes));
        if mine >= limits.max_per_account {
            return Err(AdmissionError::AccountQuota {
                sender,
                max: limits.max_per_account,
            });
        }
        if mine_bytes.saturating_add(len) > limits.max_account_bytes {
            return Err(AdmissionError::AccountBytes {
                sender,
                max_bytes: limits.max_account_bytes,
            });
        }
        if self.index.len() >= limits.max_txs {
            return Err(AdmissionError::MempoolFull {
                max: limits.max_txs,
            });
        }
        if self.bytes.saturating_add(len) > limits.max_bytes {
            return Err(AdmissionError::MempoolBytesFull {
                max_bytes: limits.max_bytes,
            });
        }
        Ok(())
    }

    /// Stores a verified tx; duplicates and quotas are checked again since
    /// earlier txs of the same call may have been stored meanwhile.
    fn insert(&mut self, tx: VerifiedTx, origin: Origin) -> Result<TxId, AdmissionError> {
        let id = tx.id();
        let sender = tx.sender();
        let nonce = tx.tx().body.nonce;
        self.check_not_pending(id, sender, nonce)?;
        let len = tx.bytes().len();
        self.check_room(sender, len)?;
        self.bytes += len;
        self.work += work(&tx);
        let height = self.height;
        let queue = self.senders.entry(sender).or_insert_with(|| {
            let seq = self.next_seq;
            self.next_seq += 1;
            self.order.insert(seq, sender);
            Queue {
                seq,
                progress: height,
                txs: BTreeMap::new(),
                bytes: 0,
            }
        });
        queue.bytes += len;
        queue.txs.insert(nonce, tx);
        let mine = origin == Origin::Client && self.backlog.limits().backlog_ms > 0;
        self.index.insert(
            id,
            Slot {
                sender,
                nonce,
                mine,
            },
        );
        if mine {
            self.mine.txs += 1;
            self.mine.bytes += len;
        }
        if origin == Origin::Client {
            self.outbox.push(id);
        }
        Ok(id)
    }

    /// Txs ready to execute, within `limits` (count, canonical bytes and
    /// work units, [`crate::ledger::budget`]): for each sender, the
    /// contiguous nonces from its state nonce on; senders take turns, one tx
    /// each per round, in the order their first pending tx arrived. A sender
    /// whose next tx does not fit in the bytes or work left is passed over
    /// (its later nonces depend on it).
    pub fn reap(&self, state: &dyn StateRead, limits: ReapLimits) -> Vec<VerifiedTx> {
        let ReapLimits {
            max_txs,
            max_bytes,
            max_work,
        } = limits;
        let mut out = Vec::with_capacity(max_txs.min(self.index.len()));
        let mut bytes = 0usize;
        let mut work = 0u64;
        // Takes the sender's next tx if it is its next nonce and fits.
        let mut take = |next: &mut u64, range: &mut Range<'_>, out: &mut Vec<VerifiedTx>| {
            let Some((&nonce, pending)) = range.next() else {
                return false;
            };
            let len = pending.bytes().len();
            let w = crate::ledger::budget::work(pending);
            // The first tx always fits the work budget: a tx heavier than
            // the budget gets a block of its own instead of none.
            if nonce != *next
                || bytes.saturating_add(len) > max_bytes
                || (!out.is_empty() && work.saturating_add(w) > max_work)
            {
                return false;
            }
            bytes += len;
            work += w;
            *next += 1;
            out.push(pending.clone());
            true
        };
        // Round one visits senders lazily, in arrival order, so a block's
        // worth of txs costs a block's worth of nonce reads however many
        // senders are waiting; later rounds go over the senders still running.
        let mut cursors: Vec<(u64, Range<'_>)> = Vec::new();
        for sender in self.order.values() {
            if out.len() >= max_txs {
                break;
            }
            let Some(queue) = self.senders.get(sender) else {
                continue;
            };
            let mut next = match state.account(sender) {
                Ok(a) => a.nonce,
                Err(e) => {
                    tracing::warn!(target: LOG, %sender, error = %e, "cannot read sender's nonce; its txs wait");
                    continue;
                }
            };
            let mut range = queue.txs.range(next..);
            if take(&mut next, &mut range, &mut out) {
                cursors.push((next, range));
            }
        }
        while !cursors.is_empty() && out.len() < max_txs {
            cursors.retain_mut(|(next, range)| {
                if out.len() >= max_txs {
                    return true;
                }
                take(next, range, &mut out)
            });
        }
        out
    }

    /// The pending tx with this id (already verified: a proposal carrying it
    /// need not verify it again).
    pub fn get(&self, id: &TxId) -> Option<VerifiedTx> {
        self.get_ref(id).cloned()
    }

    /// The pending tx of `sender` at `nonce`, found without an id (a
    /// RecordUse's id is the Merkle root of its uses); the caller compares.
    pub fn pending_at(&self, sender: &AccountId, nonce: u64) -> Option<VerifiedTx> {
        self.senders.get(sender)?.txs.get(&nonce).cloned()
    }

    pub fn contains(&self, id: &TxId) -> bool {
        self.index.contains_key(id)
    }

    pub fn len(&self) -> usize {
        self.index.len()
    }

    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }

    /// Canonical bytes of all pending txs.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// Work units of all pending txs ([`crate::ledger::budget::work`]).
    pub fn work(&self) -> u64 {
        self.work
    }

    /// The sender's next nonce counting its pending txs: `state_nonce` plus
    /// the run of pending nonces contiguous from it (the API's `next_nonce`).
    pub fn pending_nonce(&self, sender: &AccountId, state_nonce: u64) -> u64 {
        let mut next = state_nonce;
        if let Some(q) = self.senders.get(sender) {
            for (&n, _) in q.txs.range(state_nonce..) {
                if n != next {
                    break;
                }
                next += 1;
            }
        }
        next
    }

    /// After a block: drops the committed txs and every tx whose nonce is now
    /// below its sender's state nonce (used by a tx this node never saw).
    /// Checks every pending sender; see [`Mempool::remove_committed_of`].
    pub fn remove_committed(&mut self, committed: &[TxId], state: &dyn StateRead) {
        self.remove(committed, None, state);
    }

    /// [`Mempool::remove_committed`] when the block's senders are known: only
    /// their nonces can have moved, so only their queues are checked (a
    /// block's cost, not the pool's). Returns the bytes of the txs it
    /// removed.
    pub fn remove_committed_of(
        &mut self,
        committed: &[TxId],
        senders: &[AccountId],
        state: &dyn StateRead,
    ) -> usize {
        let before = self.bytes;
        self.remove(committed, Some(senders), state);
        before.saturating_sub(self.bytes)
    }

    fn remove(&mut self, committed: &[TxId], senders: Option<&[AccountId]>, state: &dyn StateRead) {
        let before = self.index.len();
        for id in committed {
            let Some(&Slot { sender, nonce, .. }) = self.index.get(id) else {
                continue;
            };
            let len = match self.senders.get_mut(&sender) {
                Some(q) => {
                    q.progress = self.height;
                    let (len, w) = q
                        .txs
                        .remove(&nonce)
                        .map_or((0, 0), |p| (p.bytes().len(), work(&p)));
                    self.bytes = self.bytes.saturating_sub(len);
                    self.work = self.work.saturating_sub(w);
                    q.bytes = q.bytes.saturating_sub(len);
                    len
                }
                None => 0,
            };
            unindex(&mut self.index, &mut self.mine, id, len);
        }
        let to_check: Vec<AccountId> = match senders {
            Some(list) => {
                let set: std::collections::BTreeSet<AccountId> = list.iter().copied().collect();
                set.into_iter()
                    .filter(|s| self.senders.contains_key(s))
                    .collect()
            }
            None => self.senders.keys().copied().collect(),
        };
        let mut emptied = Vec::new();
        for sender in to_check {
            let Some(q) = self.senders.get_mut(&sender) else {
                continue;
            };
            match state.account(&sender) {
                Ok(a) => {
                    let keep = q.txs.split_off(&a.nonce);
                    let stale = std::mem::replace(&mut q.txs, keep);
                    if !stale.is_empty() {
                        q.progress = self.height;
                    }
                    for p in stale.into_values() {
                        unindex(&mut self.index, &mut self.mine, &p.id(), p.bytes().len());
                        self.bytes = self.bytes.saturating_sub(p.bytes().len());
                        self.work = self.work.saturating_sub(work(&p));
                        q.bytes = q.bytes.saturating_sub(p.bytes().len());
                    }
                }
                Err(e) => {
                    tracing::warn!(target: LOG, %sender, error = %e, "cannot read sender's nonce; its stale txs stay until the next block");
                }
            }
            if q.txs.is_empty() {
                emptied.push((sender, q.seq));
            }
        }
        for (sender, seq) in emptied {
            self.senders.remove(&sender);
            self.order.remove(&seq);
        }
        let index = &self.index;
        self.outbox.retain(|id| index.contains_key(id));
        tracing::debug!(target: LOG, committed = committed.len(), removed = before - self.index.len(), pending = self.index.len(), "removed committed txs");
    }

    /// After the block at `height` (and [`Mempool::remove_committed_of`]):
    /// drops the queues of senders whose txs have waited behind a missing
    /// nonce for `gap_expiry_blocks` blocks without progress. Their ids are
    /// returned (the node logs them). A queue that is ready to run (its first
    /// nonce is the state nonce) is never dropped, however long it waits.
    pub fn expire_gaps(&mut self, height: u64, state: &dyn StateRead) -> Vec<TxId> {
        self.height = self.height.max(height);
        let (now, expiry) = (self.height, self.limits.gap_expiry_blocks);
        let waiting: Vec<AccountId> = self
            .senders
            .iter()
            .filter(|(_, q)| now.saturating_sub(q.progress) >= expiry)
            .map(|(s, _)| *s)
            .collect();
        let mut dropped = Vec::new();
        for sender in waiting {
            let next = match state.account(&sender) {
                Ok(a) => a.nonce,
                Err(e) => {
                    tracing::warn!(target: LOG, %sender, error = %e, "cannot read sender's nonce; gap expiry waits");
                    continue;
                }
            };
            let Some(q) = self.senders.get_mut(&sender) else {
                continue;
            };
            if q.txs.keys().next() == Some(&next) {
                q.progress = self.height;
                continue;
            }
            if let Some(q) = self.senders.remove(&sender) {
                self.order.remove(&q.seq);
                for p in q.txs.into_values() {
                    unindex(&mut self.index, &mut self.mine, &p.id(), p.bytes().len());
                    self.bytes = self.bytes.saturating_sub(p.bytes().len());
                    self.work = self.work.saturating_sub(work(&p));
                    dropped.push(p.id());
                }
            }
        }
        if !dropped.is_empty() {
            let index = &self.index;
            self.outbox.retain(|id| index.contains_key(id));
            tracing::info!(target: LOG, dropped = dropped.len(), height = self.height, after_blocks = self.limits.gap_expiry_blocks, "dropped txs waiting behind a missing nonce");
        }
        dropped
    }

    /// Canonical bytes of the txs admitted through [`Mempool::admit`] since the
    /// last call and still pending, in admission order (for gossip).
    pub fn take_for_gossip(&mut self) -> Vec<Vec<u8>> {
        let ids = std::mem::take(&mut self.outbox);
        ids.iter()
            .filter_map(|id| self.get_ref(id))
            .map(|tx| tx.bytes().to_vec())
            .collect()
    }

    fn get_ref(&self, id: &TxId) -> Option<&VerifiedTx> {
        let slot = self.index.get(id)?;
        self.senders.get(&slot.sender)?.txs.get(&slot.nonce)
    }
}
