//! Committed ledger state, served from memory and persisted in the background.
//!
//! Three layers, newest first:
//! - `dirty`: the write sets of the blocks committed since the last freeze,
//!   one shared, immutable layer per block (a commit moves the block's
//!   writes in: no per-record copy), so a snapshot clones a few `Arc`s;
//! - `frozen`: the layer the persister is writing right now;
//! - the state runs (`runs.rs`, [`STATE`]): the state at the checkpoint
//!   height, with a bounded read cache ([`HotCache`]) in front of them.
//!
//! A [`StateSnapshot`] is the state after one height, consistent however
//! long it is read: it holds its own `dirty` and `frozen`, and *pins* its
//! height, so the persister never writes a checkpoint above a live
//! snapshot (the runs and the cache would then show it later changes).
//! Memory is bounded:
//! unpersisted layers by `unpersisted_cap` (a commit waits for the
//! persister beyond it: backpressure, never unbounded growth), the cache by
//! its budget; everything else is read from the runs on disk.

use std::collections::{BTreeMap, HashSet};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use assent_contracts::state::{
    Entries as StateEntries, StateRead, StoreError as LedgerError, Writes,
};
use assent_contracts::{Hash32, Height};
use rustc_hash::FxBuildHasher;

use super::backend::StoreError;
use super::cache::{key_hash, HotCache};
use super::records::Checkpoint;
use super::runs::{state_record, Runs};

/// Bytes counted per changed record besides key and value.
const RECORD_OVERHEAD: usize = 96;

/// One block's writes; layers are kept oldest first.
pub(crate) type Layer = Arc<LayerWrites>;

/// A block's writes and the hashes of their keys: a point read computes
/// its key's hash once and searches only the layers whose set holds it,
/// instead of a sorted map per unpersisted block (BENCHMARKS.md, "Messages
/// sent once, reads by hash"). Ordered walks use the map, through `Deref`.
#[derive(Debug)]
pub(crate) struct LayerWrites {
    writes: Arc<Writes>,
    keys: HashSet<u64, FxBuildHasher>,
}

impl LayerWrites {
    fn new(writes: Arc<Writes>) -> LayerWrites {
        let keys = writes.keys().map(|k| key_hash(k)).collect();
        LayerWrites { writes, keys }
    }

    fn get(&self, key: &[u8], hash: u64) -> Option<&Option<Vec<u8>>> {
        if self.keys.contains(&hash) {
            self.writes.get(key)
        } else {
            None
        }
    }
}

impl std::ops::Deref for LayerWrites {
    type Target = Writes;
    fn deref(&self) -> &Writes {
        &self.writes
    }
}

/// Past this many unpersisted layers the persister freezes early, so a read
/// never walks more than a few dozen maps.
pub(crate) const MAX_LAYERS: usize = 16;

#[derive(Debug)]
pub(crate) struct Frozen {
    pub map: Vec<Layer>,
    pub bytes: usize,
    pub to: Checkpoint,
}

#[derive(Debug)]
pub(crate) struct Layers {
    /// The state these layers give: after `head`.
    pub head: Checkpoint,
    pub dirty: Vec<Layer>,
    pub dirty_bytes: usize,
    /// Heights in `dirty`.
    pub dirty_heights: u64,
    pub frozen: Option<Arc<Frozen>>,
    /// What the state runs hold.
    pub persisted: Checkpoint,
    /// Live snapshots by height.
    pub pins: BTreeMap<u64, usize>,
    pub last_freeze: Instant,
    /// The first background failure; every later commit returns it.
    pub failed: Option<String>,
    pub stop: bool,
}

/// Limits of the in-memory state.
#[derive(Debug, Clone, Copy)]
pub struct StateLimits {
    /// Most bytes of unpersisted changes (dirty + frozen) before a commit waits.
    pub unpersisted_cap: usize,
    /// Read cache in front of sled.
    pub cache_bytes: usize,
    /// The persister writes a checkpoint at least this often while there are changes.
    pub persist_interval: Duration,
}

impl Default for StateLimits {
    fn default() -> StateLimits {
        StateLimits {
            unpersisted_cap: 256 * 1024 * 1024,
            cache_bytes: 64 * 1024 * 1024,
            persist_interval: Duration::from_secs(1),
        }
    }
}

#[derive(Debug)]
pub(crate) struct StateCore {
    /// The persisted state.
    pub runs: Runs,
    pub layers: Mutex<Layers>,
    /// Signalled on commits, checkpoints, unpins and stop.
    pub changed: Condvar,
    pub cache: HotCache,
    pub limits: StateLimits,
}

fn weight(k: &[u8], v: &Option<Vec<u8>>) -> usize {
    k.len() + v.as_ref().map_or(0, Vec::len) + RECORD_OVERHEAD
}

impl StateCore {
    pub fn new(
        runs: Runs,
        at: Checkpoint,
        limits: StateLimits,
        metrics: &super::StorageMetrics,
    ) -> StateCore {
        StateCore {
            runs,
            layers: Mutex::new(Layers {
                head: at,
                dirty: Vec::new(),
                dirty_bytes: 0,
                dirty_heights: 0,
                frozen: None,
                persisted: at,
                pins: BTreeMap::new(),
                last_freeze: Instant::now(),
                failed: None,
                stop: false,
            }),
            changed: Condvar::new(),
            cache: HotCache::new(
                limits.cache_bytes,
                metrics.cache_hits.clone(),
                metrics.cache_misses.clone(),
            ),
            limits,
        }
    }

    pub fn lock(&self) -> MutexGuard<'_, Layers> {
        self.layers.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Adds a committed block's writes: the state after `to`. Waits while
    /// the unpersisted changes are over the cap (the persister catches up).
    pub fn apply(&self, to: Checkpoint, writes: Arc<Writes>) -> Result<(), StoreError> {
        let writes = Arc::new(LayerWrites::new(writes));
        let mut l = self.lock();
        let mut warned = false;
        loop {
            if let Some(why) = &l.failed {
                return Err(StoreError::Background {
                    task: "state persister",
                    why: why.clone(),
                });
            }
            let frozen = l.frozen.as_ref().map_or(0, |f| f.bytes);
            if l.dirty_bytes + frozen < self.limits.unpersisted_cap || l.stop {
                break;
            }
            if !warned {
                tracing::warn!(target: "assent::storage", unpersisted = l.dirty_bytes + frozen, cap = self.limits.unpersisted_cap, "unpersisted state is at its cap; the commit waits for the persister");
                warned = true;
            }
            self.changed.notify_all();
            l = self
                .changed
                .wait_timeout(l, Duration::from_millis(100))
                .map(|(g, _)| g)
                .unwrap_or_else(|p| p.into_inner().0);
        }
        if !writes.is_empty() {
            l.dirty_bytes += writes.iter().map(|(k, v)| weight(k, v)).sum::<usize>();
            l.dirty.push(writes);
        }
        l.dirty_heights += 1;
        l.head = to;
        drop(l);
        self.changed.notify_all();
        Ok(())
    }

    /// Records a background failure: later commits fail with it.
    pub fn fail(&self, why: String) {
        let mut l = self.lock();
        if l.failed.is_none() {
            l.failed = Some(why);
        }
        drop(l);
        self.changed.notify_all();
    }

    pub fn failure(&self) -> Option<String> {
        self.lock().failed.clone()
    }
}

/// The committed state after one height. Reads never change while it lives.
pub struct StateSnapshot {
    core: Arc<StateCore>,
    at: Checkpoint,
    dirty: Vec<Layer>,
    frozen: Option<Arc<Frozen>>,
    pinned: bool,
}

impl std::fmt::Debug for StateSnapshot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "StateSnapshot(height {})", self.at.height.0)
    }
}

impl StateSnapshot {
    pub(crate) fn take(core: &Arc<StateCore>) -> StateSnapshot {
        let mut l = core.lock();
        let h = l.head.height.0;
        *l.pins.entry(h).or_insert(0) += 1;
        StateSnapshot {
            core: core.clone(),
            at: l.head,
            dirty: l.dirty.clone(),
            frozen: l.frozen.clone(),
            pinned: true,
        }
    }

    /// A view for one read of the latest state: not pinned, so a later
    /// checkpoint may show it newer values — which a single read of "the
    /// latest committed value" may return. Never use it for two reads that
    /// must agree.
    pub(crate) fn latest(core: &Arc<StateCore>) -> StateSnapshot {
        let l = core.lock();
        StateSnapshot {
            core: core.clone(),
            at: l.head,
            dirty: l.dirty.clone(),
            frozen: l.frozen.clone(),
            pinned: false,
        }
    }

    pub fn height(&self) -> Height {
        self.at.height
    }

    pub fn state_root(&self) -> Hash32 {
        self.at.state_root
    }

    /// Lends the persisted record of `key` (whose [`key_hash`] is `hash`)
    /// to `f`: from the cache, or from the runs, which then fill it.
    fn persisted_read(
        &self,
        key: &[u8],
        hash: u64,
        f: &mut dyn FnMut(Option<&[u8]>),
    ) -> Result<(), StoreError> {
        let miss = match self.core.cache.read(key, hash, f) {
            Ok(()) => return Ok(()),
            Err(miss) => miss,
        };
        let stored = self.core.runs.get(key)?;
        let v = stored.as_deref().and_then(state_record);
        self.core.cache.fill(miss, key, v);
        f(v);
        Ok(())
    }
}

/// What [`StateSnapshot::for_each_record`] calls with each (key, value).
pub type RecordVisitor<'a> = dyn FnMut(&[u8], &[u8]) -> Result<(), StoreError> + 'a;

impl StateSnapshot {
    /// The unpersisted layers, oldest first: the frozen ones, then the dirty.
    fn layers_oldest_first(&self) -> impl Iterator<Item = &Layer> {
        self.frozen
            .iter()
            .flat_map(|f| f.map.iter())
            .chain(&self.dirty)
    }

    /// Calls `f` with every record of this state, in key order, reading
    /// the runs a block at a time: memory holds those blocks and the
    /// unpersisted layers.
    pub fn for_each_record(&self, f: &mut RecordVisitor<'_>) -> Result<(), StoreError> {
        // The unpersisted changes, newest winning.
        let mut overlay: BTreeMap<&[u8], Option<&[u8]>> = BTreeMap::new();
        for layer in self.layers_oldest_first() {
            for (k, v) in layer.iter() {
                overlay.insert(k.as_slice(), v.as_deref());
            }
        }
        let mut pending = overlay.into_iter().peekable();
        self.core.runs.for_each(|k, stored| {
            while let Some((ok, ov)) = pending.next_if(|(ok, _)| *ok < k) {
                if let Some(ov) = ov {
                    f(ok, ov)?;
                }
            }
            match pending.next_if(|(ok, _)| *ok == k) {
                Some((_, Some(ov))) => f(k, ov),
                Some((_, None)) => Ok(()),
                None => match state_record(stored) {
                    Some(v) => f(k, v),
                    None => Ok(()),
                },
            }
        })?;
        for (k, v) in pending {
            if let Some(v) = v {
                f(k, v)?;
            }
        }
        Ok(())
    }
}

impl Drop for StateSnapshot {
    fn drop(&mut self) {
        if !self.pinned {
            return;
        }
        let mut l = self.core.lock();
        let h = self.at.height.0;
        let mut released = false;
        if let Some(n) = l.pins.get_mut(&h) {
            *n -= 1;
            if *n == 0 {
                l.pins.remove(&h);
                released = true;
            }
        }
        // Only the persister waits for pins, and only with a frozen layer.
        let wake = released && l.frozen.is_some();
        drop(l);
        if wake {
            self.core.changed.notify_all();
        }
    }
}

fn ledger_err(e: StoreError) -> LedgerError {
    LedgerError::Io(e.to_string())
}

impl StateSnapshot {
    /// The newest unpersisted write of `key`, if a layer holds one: the
    /// dirty layers first, newest first, then the frozen ones.
    fn layered(&self, key: &[u8], hash: u64) -> Option<&Option<Vec<u8>>> {
        let frozen = self.frozen.iter().flat_map(|f| f.map.iter().rev());
        self.dirty
            .iter()
            .rev()
            .chain(frozen)
            .find_map(|layer| layer.get(key, hash))
    }
}

impl StateRead for StateSnapshot {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, LedgerError> {
        let mut out = None;
        self.read_with(key, &mut |v| out = v.map(<[u8]>::to_vec))?;
        Ok(out)
    }

    /// A read here hashes its key, searches the unpersisted layers and
    /// the read cache: worth remembering for the rest of a block.
    fn remember_reads(&self) -> bool {
        true
    }

    fn read_with(&self, key: &[u8], f: &mut dyn FnMut(Option<&[u8]>)) -> Result<(), LedgerError> {
        let hash = key_hash(key);
        match self.layered(key, hash) {
            Some(v) => f(v.as_deref()),
            None => self.persisted_read(key, hash, f).map_err(ledger_err)?,
        }
        Ok(())
    }

    fn scan_prefix(&self, prefix: &[u8]) -> Result<StateEntries, LedgerError> {
        let end = super::keys::prefix_end(prefix);
        let mut merged: BTreeMap<Vec<u8>, Vec<u8>> = self
            .core
            .runs
            .range(prefix, &end, false, usize::MAX)
            .map_err(ledger_err)?
            .into_iter()
            .filter_map(|(k, v)| state_record(&v).map(|v| (k, v.to_vec())))
            .collect();
        // Oldest layer first, so newer writes win.
        for layer in self.layers_oldest_first() {
            for (k, v) in layer.range(prefix.to_vec()..end.clone()) {
                match v {
                    Some(v) => merged.insert(k.clone(), v.clone()),
                    None => merged.remove(k),
                };
            }
        }
        Ok(merged.into_iter().collect())
    }
}
