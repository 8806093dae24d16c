//! The query indexes, built behind the commit by the indexer thread.
//!
//! - `t/<tx id>` → where a committed tx is;
//! - `u/<consumer><height><tx><use>` → each use of a consumer's data;
//! - `w/<use id>` → where a use is;
//! - `h/<account><height><tx><event>` → what happened to an account
//!   ([`history_accounts`]).
//!
//! The indexer follows the committed head from a durable cursor
//! (`m/indexed`), reading blocks and results back from the journal; a batch
//! of whole blocks and the cursor are one atomic sled write, so a reader
//! never sees half a block, and after a crash the indexer resumes at the
//! cursor. A validator that serves no queries turns it off
//! (`[index] enabled = false`).

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use assent_contracts::tx::TxOutcome;
use assent_contracts::{Block, Event, Height};

use crate::storage::backend::Op;
use crate::storage::keys;
use crate::storage::records::{
    history_accounts, BlockResults, HistoryRecord, TxLocation, UseRecord,
};
use crate::storage::{enc, StoreCore, StoreError};

/// Most blocks indexed in one sled batch.
const BLOCKS_PER_BATCH: u64 = 32;

/// The index entries of one committed block.
pub fn entries(block: &Block, results: &BlockResults) -> Vec<Op> {
    let h = block.header.height;
    let mut ops = Vec::new();
    for (i, r) in results.results.iter().enumerate() {
        let at = TxLocation {
            height: h,
            index: i as u32,
        };
        ops.push((keys::tx(&r.tx_id), Some(enc(&at))));
        let TxOutcome::Applied { events } = &r.outcome else {
            continue;
        };
        let kind = block.txs.get(i).map_or("", |t| t.body.payload.kind());
        for (n, e) in events.iter().enumerate() {
            for account in history_accounts(e) {
                let rec = HistoryRecord {
                    height: h,
                    time: block.header.time,
                    tx_id: r.tx_id,
                    tx_index: i as u32,
                    tx_kind: kind.to_string(),
                    event: e.clone(),
                };
                ops.push((
                    keys::account_event(&account, h, i as u32, n as u32),
                    Some(enc(&rec)),
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
            let rec = UseRecord {
                height: h,
                tx_id: r.tx_id,
                tx_index: i as u32,
                event: e.clone(),
            };
            ops.push((
                keys::consumer_use(consumer, h, i as u32, index),
                Some(enc(&rec)),
            ));
            ops.push((keys::use_location(use_id), Some(enc(&at))));
        }
    }
    ops
}

/// Indexes blocks `from..=to` in one atomic batch with the cursor.
fn index_range(core: &StoreCore, from: u64, to: u64) -> Result<(), StoreError> {
    let mut ops = Vec::new();
    for h in from..=to {
        let entry = core.entry(Height(h))?.ok_or_else(|| StoreError::Corrupt {
            what: format!("block {h}"),
            why: "committed but missing from the journal".into(),
        })?;
        let block: Block = crate::storage::decode(&format!("block {h}"), &entry.block)?;
        ops.extend(entries(&block, &entry.results));
    }
    ops.push((keys::INDEXED.to_vec(), Some(enc(&Height(to)))));
    core.backend.apply(ops, false)
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
