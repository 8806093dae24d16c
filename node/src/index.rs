//! The query indexes, built behind the commit by the indexer thread.
//!
//! - `t/<tx id>` → where a committed tx is;
//! - `u/<consumer><height><tx><use>` → each use of a consumer's data;
//! - `w/<use id>` → where a use is;
//! - `h/<account><height><tx><event>` → what happened to an account
//!   ([`history_accounts`]).
//!
//! The indexer follows the committed head from a durable cursor
//! (`m/indexed`). It takes each block and its results as the commit hands
//! them over ([`Handoff`]), decoded, and reads back from the journal only
//! what the bounded handoff dropped (or, after a restart, what is behind
//! the cursor). A batch
//! of whole blocks becomes one sorted run (`storage/runs.rs`), listed in
//! the same sled batch that moves the cursor, so a reader never sees half a
//! block, and after a crash the indexer resumes at the cursor. The same
//! thread merges runs when a level fills. A validator that serves no
//! queries turns indexing off (`[index] enabled = false`).

use std::collections::VecDeque;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use assent_contracts::tx::TxOutcome;
use assent_contracts::{Block, Event, Height};

use crate::storage::backend::Backend;
use crate::storage::keys;
use crate::storage::records::{history_accounts, BlockResults, TxLocation};
use crate::storage::runs::{self, Runs};
use crate::storage::{enc, StoreCore, StoreError};

/// Most blocks indexed in one sled batch.
const BLOCKS_PER_BATCH: u64 = 32;

/// Most bytes (as proposed) of the blocks waiting in a [`Handoff`].
const HANDOFF_BYTES: usize = 16 << 20;

/// Committed blocks and their results, handed to the indexer by the commit
/// as they are, so that it need not read them back from the journal and
/// decode them again. Bounded: when the indexer falls behind, the oldest
/// are dropped here and read from the journal when their turn comes (as
/// after a restart).
#[derive(Debug, Default)]
pub(crate) struct Handoff {
    waiting: Mutex<Waiting>,
}

type Handed = (Arc<Block>, Arc<BlockResults>);

#[derive(Debug, Default)]
struct Waiting {
    blocks: VecDeque<(u64, usize, Handed)>,
    bytes: usize,
}

impl Handoff {
    /// Hands over committed block `h` (`bytes` long as proposed).
    pub fn push(&self, h: u64, bytes: usize, block: Arc<Block>, results: Arc<BlockResults>) {
        let mut w = self.waiting.lock().unwrap_or_else(|p| p.into_inner());
        while w.bytes + bytes > HANDOFF_BYTES {
            let Some((_, n, _)) = w.blocks.pop_front() else {
                return;
            };
            w.bytes -= n;
        }
        w.bytes += bytes;
        w.blocks.push_back((h, bytes, (block, results)));
    }

    /// Block `h` if it was handed over and is still here; drops any below.
    fn take(&self, h: u64) -> Option<Handed> {
        let mut w = self.waiting.lock().unwrap_or_else(|p| p.into_inner());
        while let Some((at, n, _)) = w.blocks.front() {
            if *at > h {
                return None;
            }
            let n = *n;
            let (at, _, handed) = w.blocks.pop_front()?;
            w.bytes -= n;
            if at == h {
                return Some(handed);
            }
        }
        None
    }
}

/// The index entries of one committed block, unsorted.
///
/// A `u/` or `h/` entry copies nothing from the event: its key ends with
/// the event's position (height, tx index, use index or event number), and
/// reads resolve it from that block's journaled results
/// ([`Store::uses_of`](crate::storage::Store::uses_of)). An `h/` value is
/// the tx's kind, which the results do not hold. This keeps the runs, and
/// every merge of them, small: a copy of each event per account and per use
/// was most of the index.
pub fn entries(block: &Block, results: &BlockResults) -> Vec<(Vec<u8>, Vec<u8>)> {
    let h = block.header.height;
    let mut ops = Vec::new();
    for (i, r) in results.results.iter().enumerate() {
        let at = TxLocation {
            height: h,
            index: i as u32,
        };
        ops.push((keys::tx(&r.tx_id), enc(&at)));
        let TxOutcome::Applied { events } = &r.outcome else {
            continue;
        };
        let kind = block.txs.get(i).map_or("", |t| t.body.payload.kind());
        for (n, e) in events.iter().enumerate() {
            for account in history_accounts(e) {
                ops.push((
                    keys::account_event(&account, h, i as u32, n as u32),
                    kind.as_bytes().to_vec(),
                ));
            }
            let (consumer, use_id, index) = match e {
                Event::UseSettled {
                    consumer,
                    use_id,
                    index,
                    ..
                }
                | Event::UseRejected {
                    consumer,
                    use_id,
                    index,
                    ..
                } => (consumer, use_id, *index),
                _ => continue,
            };
            ops.push((keys::consumer_use(consumer, h, i as u32, index), Vec::new()));
            ops.push((keys::use_location(use_id), enc(&at)));
        }
    }
    ops
}

/// Indexes blocks `from..=to` as one run listed atomically with the cursor.
fn index_range(core: &StoreCore, from: u64, to: u64) -> Result<(), StoreError> {
    let mut entries = Vec::new();
    for h in from..=to {
        let (block, results) = match core.handoff.take(h) {
            Some(handed) => handed,
            None => {
                let entry = core.entry(Height(h))?.ok_or_else(|| StoreError::Corrupt {
                    what: format!("block {h}"),
                    why: "committed but missing from the journal".into(),
                })?;
                let block: Block = crate::storage::decode(&format!("block {h}"), &entry.block)?;
                (Arc::new(block), Arc::new(entry.results))
            }
        };
        entries.extend(self::entries(&block, &results));
    }
    entries.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    entries.dedup_by(|a, b| a.0 == b.0);
    core.runs.add(
        entries.iter().map(|(k, v)| (k.as_slice(), v.as_slice())),
        vec![(keys::INDEXED.to_vec(), Some(enc(&Height(to))))],
        false,
    )
}

/// Opens the index runs and returns them with the height indexed so far.
///
/// Indexes are derived data: a store whose indexes are in the older layout
/// (one sled key per entry), or whose runs are missing or damaged, has
/// them removed and rebuilt from the block journal, from `base` (0, or the
/// height of the snapshot the store was synced from).
pub(crate) fn open(backend: &Arc<dyn Backend>, base: u64) -> Result<(Runs, u64), StoreError> {
    let stored = backend.get(keys::INDEX_FORMAT)?;
    if stored.as_deref() != Some(keys::INDEX_FORMAT_RUNS) {
        let mut legacy = false;
        for table in keys::LEGACY_INDEX_TABLES {
            legacy |= runs::drop_table(backend.as_ref(), table)?;
        }
        if legacy {
            tracing::warn!(target: "assent::index", from = base, "the query indexes are in an older layout; rebuilding them from the block journal");
        }
        // Runs of an older layout are rebuilt too (`runs-1` copied events).
        let rebuild = legacy || stored.is_some();
        if stored.is_some() {
            tracing::warn!(target: "assent::index", from = base, "the query indexes' runs are in an older layout; rebuilding them from the block journal");
        }
        let mut ops = vec![(
            keys::INDEX_FORMAT.to_vec(),
            Some(keys::INDEX_FORMAT_RUNS.to_vec()),
        )];
        if rebuild {
            ops.push((keys::INDEXED.to_vec(), Some(enc(&Height(base)))));
        }
        Runs::wipe(runs::INDEX, backend.as_ref(), ops)?;
    }
    let indexed = match backend.get(keys::INDEXED)? {
        Some(v) => crate::storage::decode::<Height>("index cursor", &v)?.0,
        None => 0,
    };
    match Runs::open(runs::INDEX, backend.clone()) {
        Ok(runs) => Ok((runs, indexed)),
        Err(e @ (StoreError::Corrupt { .. } | StoreError::RunIo { .. })) => {
            tracing::warn!(target: "assent::index", error = %e, from = base, "the query indexes are damaged; rebuilding them from the block journal");
            Runs::wipe(
                runs::INDEX,
                backend.as_ref(),
                vec![(keys::INDEXED.to_vec(), Some(enc(&Height(base))))],
            )?;
            Ok((Runs::open(runs::INDEX, backend.clone())?, base))
        }
        Err(e) => Err(e),
    }
}

/// Merges runs until no level is full.
fn compact(core: &StoreCore) -> Result<(), StoreError> {
    while core.runs.compact()? {}
    let (runs, entries) = core.runs.stats();
    core.metrics.index_runs.set(runs as i64);
    core.metrics
        .index_entries
        .set(i64::try_from(entries).unwrap_or(i64::MAX));
    Ok(())
}

/// The indexer thread: follows the head until told to stop.
pub(crate) fn run(core: Arc<StoreCore>) {
    loop {
        let target = core.head().height.0;
        let mut at = core.indexed.load(Ordering::Acquire);
        while at < target {
            let to = target.min(at + BLOCKS_PER_BATCH);
            if let Err(e) = index_range(&core, at + 1, to) {
                tracing::error!(target: "assent::index", error = %e, height = at + 1, "indexing failed; the node stops");
                core.state.fail(format!("indexer: {e}"));
                return;
            }
            at = to;
            core.indexed.store(at, Ordering::Release);
            if let Err(e) = compact(&core) {
                tracing::error!(target: "assent::index", error = %e, "merging index runs failed; the node stops");
                core.state.fail(format!("indexer: {e}"));
                return;
            }
            {
                let (m, cv) = &core.index_wake;
                let _wake = m.lock().unwrap_or_else(|p| p.into_inner());
                cv.notify_all();
            }
            core.metrics
                .indexer_lag_heights
                .set(i64::try_from(core.head().height.0.saturating_sub(at)).unwrap_or(i64::MAX));
        }
        let (m, cv) = &core.index_wake;
        let stop = m.lock().unwrap_or_else(|p| p.into_inner());
        if *stop {
            return;
        }
        if core.head().height.0 > at {
            continue;
        }
        let _ = cv.wait_timeout(stop, Duration::from_millis(200));
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use assent_contracts::{AccountId, BlockHash, BlockHeader, Hash32, Timestamp};

    use super::*;

    fn handed(h: u64) -> (Arc<Block>, Arc<BlockResults>) {
        let block = Block {
            header: BlockHeader {
                chain_id: "handoff-test".into(),
                height: Height(h),
                time: Timestamp(h),
                prev_hash: BlockHash(Hash32([0; 32])),
                txs_root: Hash32([0; 32]),
                results_root: Hash32([0; 32]),
                state_root: Hash32([0; 32]),
                proposer: AccountId([0; 32]),
            },
            txs: Vec::new(),
        };
        let results = BlockResults {
            results: Vec::new(),
            end_events: Vec::new(),
        };
        (Arc::new(block), Arc::new(results))
    }

    #[test]
    fn the_handoff_gives_each_block_once_and_drops_the_oldest_when_full() {
        let handoff = Handoff::default();
        let third = HANDOFF_BYTES / 3;
        for h in 1..=4 {
            let (b, r) = handed(h);
            handoff.push(h, third, b, r);
        }
        // Four thirds do not fit: block 1 was dropped to make room for 4.
        assert!(
            handoff.take(1).is_none(),
            "block 1 must be read back from the journal"
        );
        let (b, _) = handoff.take(2).expect("block 2 was handed over");
        assert_eq!(b.header.height, Height(2));
        assert!(handoff.take(2).is_none(), "given once");
        // Asking for 4 drops 3, which the indexer has gone past.
        assert_eq!(handoff.take(4).unwrap().0.header.height, Height(4));
        assert!(handoff.take(3).is_none());
        let w = handoff.waiting.lock().unwrap();
        assert!(w.blocks.is_empty());
        assert_eq!(w.bytes, 0);
    }
}
