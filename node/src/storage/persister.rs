//! The persister: writes committed state to sled's `s/` table in merged,
//! de-duplicated batches with a checkpoint height, off the consensus path.
//!
//! Each round freezes the `dirty` layers (the blocks committed since the
//! last round) and merges them to one value per key, waits until no snapshot below the frozen height is
//! alive, writes the layer and the checkpoint `m/state` in one atomic,
//! flushed sled batch, updates the read cache, then drops the layer. A
//! failed write is recorded; the next commit returns it and the node stops.

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::backend::Op;
use super::keys;
use super::state::{Frozen, StateCore};

/// Runs rounds until [`StateCore`]'s `stop` is set and nothing is left.
pub(crate) fn run(core: Arc<StateCore>, metrics: Arc<super::StorageMetrics>) {
    loop {
        let frozen = {
            let mut l = core.lock();
            loop {
                if l.failed.is_some() {
                    return;
                }
                let due = l.last_freeze.elapsed() >= core.limits.persist_interval
                    || l.dirty_bytes >= core.limits.unpersisted_cap / 4
                    || l.dirty.len() >= super::state::MAX_LAYERS
                    || l.stop;
                // Blocks without writes still move the checkpoint up, so a
                // restart re-executes only what came after it.
                let behind = l.head.height > l.persisted.height;
                if behind && due {
                    break;
                }
                if l.stop && !behind {
                    return;
                }
                l = core
                    .changed
                    .wait_timeout(l, Duration::from_millis(50))
                    .map(|(g, _)| g)
                    .unwrap_or_else(|p| p.into_inner().0);
            }
            let frozen = Arc::new(Frozen {
                map: std::mem::take(&mut l.dirty),
                bytes: std::mem::take(&mut l.dirty_bytes),
                to: l.head,
            });
            l.dirty_heights = 0;
            l.frozen = Some(frozen.clone());
            l.last_freeze = Instant::now();
            // A snapshot below the frozen height would see later changes
            // once they are in sled: wait until those are gone.
            while l
                .pins
                .keys()
                .next()
                .is_some_and(|h| *h < frozen.to.height.0)
            {
                l = core
                    .changed
                    .wait_timeout(l, Duration::from_millis(50))
                    .map(|(g, _)| g)
                    .unwrap_or_else(|p| p.into_inner().0);
            }
            frozen
        };
        let started = Instant::now();
        // One value per key: later blocks win.
        let mut merged: std::collections::BTreeMap<&Vec<u8>, &Option<Vec<u8>>> =
            std::collections::BTreeMap::new();
        for layer in &frozen.map {
            for (k, v) in layer.iter() {
                merged.insert(k, v);
            }
        }
        let mut ops: Vec<Op> = Vec::with_capacity(merged.len() + 1);
        for (k, v) in &merged {
            ops.push((keys::state(k), (*v).clone()));
        }
        let records = ops.len();
        ops.push((
            keys::STATE_CHECKPOINT.to_vec(),
            Some(super::enc(&frozen.to)),
        ));
        if let Err(e) = core.backend.apply(ops, true) {
            tracing::error!(target: "assent::storage", error = %e, "writing the state checkpoint failed; the node stops");
            core.fail(e.to_string());
            return;
        }
        core.cache.persisted(merged.into_iter());
        {
            let mut l = core.lock();
            l.persisted = frozen.to;
            l.frozen = None;
        }
        core.changed.notify_all();
        metrics.observe_persist(records, started.elapsed());
        tracing::debug!(target: "assent::storage", height = frozen.to.height.0, records, ms = started.elapsed().as_millis() as u64, "state checkpoint written");
    }
}
