//! The persister: writes committed state as sorted runs (`runs.rs`,
//! [`STATE`]) in merged, de-duplicated batches with a checkpoint height, off
//! the consensus path.
//!
//! Each round freezes the `dirty` layers (the blocks committed since the
//! last round) and merges them to one value per key, waits until no
//! snapshot below the frozen height is alive, writes them as one run (made
//! durable), then the run's record and the checkpoint `m/state` in one
//! flushed sled batch, updates the read cache, drops the layer and merges
//! runs when a level fills. A failed write is recorded; the next commit
//! returns it and the node stops.

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::backend::{Backend, StoreError};
use super::keys;
use super::runs::{self, state_value, Runs, STATE};
use super::state::{Frozen, StateCore};

/// Opens the persisted state's runs. A store whose state records are
/// sled keys (`s/`, the layout before runs) is converted first: its
/// records become one run, listed with the format marker in one flushed
/// batch, then the `s/` table is dropped (again at the next open if a
/// crash cuts that short).
pub(crate) fn open_runs(backend: &Arc<dyn Backend>) -> Result<Runs, StoreError> {
    if backend.get(keys::STATE_FORMAT)?.as_deref() != Some(keys::STATE_FORMAT_RUNS) {
        tracing::warn!(target: "assent::storage", "the state checkpoint is in an older layout (sled keys); converting it to state runs");
        Runs::wipe(STATE, backend.as_ref(), Vec::new())?;
        let runs = Runs::open(STATE, backend.clone())?;
        let marker = (
            keys::STATE_FORMAT.to_vec(),
            Some(keys::STATE_FORMAT_RUNS.to_vec()),
        );
        let strip = keys::STATE.len();
        let end = keys::prefix_end(keys::STATE);
        // Counted first: the run's Bloom filter is sized by it.
        let mut count = 0;
        let mut from = keys::STATE.to_vec();
        loop {
            let page = backend.range(&from, &end, false, 16_384)?;
            count += page.len();
            match page.last() {
                Some((k, _)) if page.len() == 16_384 => from = [k.as_slice(), &[0]].concat(),
                _ => break,
            }
        }
        runs.add_with(
            count,
            |run| {
                const PAGE: usize = 16_384;
                let mut from = keys::STATE.to_vec();
                loop {
                    let page = backend.range(&from, &end, false, PAGE)?;
                    for (k, v) in &page {
                        run.push(&k[strip..], &state_value(Some(v)))?;
                    }
                    match page.last() {
                        Some((k, _)) if page.len() == PAGE => from = [k.as_slice(), &[0]].concat(),
                        _ => return Ok(()),
                    }
                }
            },
            vec![marker],
            true,
        )?;
    }
    runs::drop_table(backend.as_ref(), keys::STATE)?;
    Runs::open(STATE, backend.clone())
}

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
        // One value per key, in key order: later blocks win. Each block's
        // writes are sorted already; they meet in a tournament.
        let merged = super::tournament::merge_maps(frozen.map.iter().rev().map(|layer| &***layer));
        let values: Vec<(&[u8], Vec<u8>)> = merged
            .iter()
            .map(|(k, v)| (k.as_slice(), state_value(v.as_deref())))
            .collect();
        let records = values.len();
        let checkpoint = vec![(
            keys::STATE_CHECKPOINT.to_vec(),
            Some(super::enc(&frozen.to)),
        )];
        let written = core
            .runs
            .add(
                values.iter().map(|(k, v)| (*k, v.as_slice())),
                checkpoint,
                true,
            )
            .and_then(|()| while_full(&core.runs));
        drop(values);
        if let Err(e) = written {
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

/// Merges state runs until no level is full.
fn while_full(runs: &Runs) -> Result<(), StoreError> {
    while runs.compact()? {}
    Ok(())
}
