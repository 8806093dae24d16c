//! A bounded read cache of persisted state records, in front of the state
//! runs.
//!
//! Two generations: hits in the older one move to the newer; when the newer
//! fills half the budget it becomes the older and the old older is dropped.
//! So memory stays under the budget and recently used records stay cached,
//! at the cost of a lookup in two maps.
//!
//! The cache is split in shards by key hash, each with its own lock and its
//! share of the budget: executing a block reads it from several threads
//! while the persister updates it after a checkpoint, and one lock made
//! them wait for each other (BENCHMARKS.md, "Messages sent once,
//! reads by hash"). Keys are hashed with Fx, as the contracts' overlays do; the
//! hash picks the shard and is computed once per call.
//!
//! It only ever holds values as persisted: the persister updates it after
//! each checkpoint write, and a reader that missed fills it only if no
//! checkpoint was written since its miss (the generation check), so a value
//! older than the runs' is never cached.

use std::collections::HashMap;
use std::hash::BuildHasher;
use std::sync::Mutex;

use prometheus_client::metrics::counter::Counter;
use rustc_hash::FxBuildHasher;

/// Bytes counted per entry besides key and value (map slots, allocations).
const ENTRY_OVERHEAD: usize = 64;

/// Most shards; a small budget gets fewer (at least [`MIN_SHARD_BYTES`] each).
const MAX_SHARDS: usize = 16;
const MIN_SHARD_BYTES: usize = 1 << 20;

/// Entries the persister inserts under one shard's lock before letting
/// readers in.
const CHUNK: usize = 256;

type Map = HashMap<Vec<u8>, Option<Vec<u8>>, FxBuildHasher>;

/// A written record, as the persister passes it.
type Record<'a> = (&'a Vec<u8>, &'a Option<Vec<u8>>);

#[derive(Debug, Default)]
struct Generations {
    young: Map,
    old: Map,
    young_bytes: usize,
    old_bytes: usize,
    generation: u64,
}

#[derive(Debug)]
pub struct HotCache {
    shards: Box<[Mutex<Generations>]>,
    /// Each shard's budget.
    shard_budget: usize,
    hits: Counter,
    misses: Counter,
}

fn weight(k: &[u8], v: &Option<Vec<u8>>) -> usize {
    k.len() + v.as_ref().map_or(0, Vec::len) + ENTRY_OVERHEAD
}

/// A key's Fx hash: picks its shard here, and its unpersisted layers
/// (`state.rs`).
pub(crate) fn key_hash(key: &[u8]) -> u64 {
    FxBuildHasher.hash_one(key)
}

/// What a miss saw: pass it back to [`HotCache::fill`].
#[derive(Debug, Clone, Copy)]
pub struct Miss(u64);

impl HotCache {
    /// A cache of at most `budget_bytes`, counting into `hits` and `misses`.
    pub fn new(budget_bytes: usize, hits: Counter, misses: Counter) -> HotCache {
        let n = (budget_bytes / MIN_SHARD_BYTES).clamp(1, MAX_SHARDS);
        HotCache {
            shards: (0..n).map(|_| Mutex::default()).collect(),
            shard_budget: (budget_bytes / n).max(2 * ENTRY_OVERHEAD),
            hits,
            misses,
        }
    }

    fn shard(&self, key: &[u8]) -> std::sync::MutexGuard<'_, Generations> {
        // The high bits: the maps use the low ones.
        let i = (key_hash(key) >> 48) as usize % self.shards.len();
        Self::lock(&self.shards[i])
    }

    fn lock(m: &Mutex<Generations>) -> std::sync::MutexGuard<'_, Generations> {
        m.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, Miss> {
        let mut g = self.shard(key);
        if let Some(v) = g.young.get(key) {
            self.hits.inc();
            return Ok(v.clone());
        }
        if let Some((k, v)) = g.old.remove_entry(key) {
            self.hits.inc();
            let w = weight(&k, &v);
            g.old_bytes = g.old_bytes.saturating_sub(w);
            let out = v.clone();
            self.insert(&mut g, k, v);
            return Ok(out);
        }
        self.misses.inc();
        Err(Miss(g.generation))
    }

    /// Caches what a reader read from the runs after `miss`, unless a
    /// checkpoint was written since.
    pub fn fill(&self, miss: Miss, key: &[u8], value: Option<Vec<u8>>) {
        let mut g = self.shard(key);
        if g.generation == miss.0 {
            self.insert(&mut g, key.to_vec(), value);
        }
    }

    /// After a checkpoint reached the runs: cached values follow it, and
    /// the written records (recently used ones) are cached.
    ///
    /// Every shard's generation moves first, so a fill by a reader that
    /// missed before the checkpoint is dropped; then the records go in a
    /// chunk at a time per shard. A reader that misses in between reads
    /// the runs, which already hold the checkpoint, so what it fills is
    /// what this call would insert.
    pub fn persisted<'a>(&self, writes: impl Iterator<Item = (&'a Vec<u8>, &'a Option<Vec<u8>>)>) {
        for s in self.shards.iter() {
            Self::lock(s).generation += 1;
        }
        let n = self.shards.len();
        let mut by_shard: Vec<Vec<Record<'a>>> = vec![Vec::new(); n];
        for (k, v) in writes {
            by_shard[(key_hash(k) >> 48) as usize % n].push((k, v));
        }
        for (s, records) in self.shards.iter().zip(by_shard) {
            for chunk in records.chunks(CHUNK) {
                let mut g = Self::lock(s);
                for (k, v) in chunk {
                    if let Some(old) = g.old.remove(*k) {
                        g.old_bytes = g.old_bytes.saturating_sub(weight(k, &old));
                    }
                    self.insert(&mut g, (*k).clone(), (*v).clone());
                }
            }
        }
    }

    fn insert(&self, g: &mut Generations, k: Vec<u8>, v: Option<Vec<u8>>) {
        let w = weight(&k, &v);
        let half = self.shard_budget / 2;
        if let Some(prev) = g.young.remove(&k) {
            g.young_bytes = g.young_bytes.saturating_sub(weight(&k, &prev));
        }
        if w > half {
            // Larger than a generation: not worth evicting everything for.
            return;
        }
        if g.young_bytes + w > half {
            g.old = std::mem::take(&mut g.young);
            g.old_bytes = std::mem::take(&mut g.young_bytes);
        }
        g.young.insert(k, v);
        g.young_bytes += w;
    }

    /// Bytes held (keys, values and per-entry overhead).
    pub fn bytes(&self) -> usize {
        self.shards
            .iter()
            .map(|s| {
                let g = Self::lock(s);
                g.young_bytes + g.old_bytes
            })
            .sum()
    }

    pub fn budget(&self) -> usize {
        self.shard_budget * self.shards.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stays_within_its_budget_and_keeps_what_is_used() {
        let c = HotCache::new(64 * 1024, Counter::default(), Counter::default());
        let key = |i: u32| i.to_be_bytes().to_vec();
        for i in 0..10_000u32 {
            let m = c.get(&key(i)).unwrap_err();
            c.fill(m, &key(i), Some(vec![1; 100]));
            // Key 0 is read all the time: it must stay cached.
            assert!(c.get(&key(0)).is_ok(), "hot key evicted at {i}");
            assert!(c.bytes() <= c.budget(), "{} > {}", c.bytes(), c.budget());
        }
    }

    #[test]
    fn a_fill_after_a_checkpoint_is_dropped() {
        let c = HotCache::new(1 << 20, Counter::default(), Counter::default());
        let m = c.get(b"k").unwrap_err();
        let new = (b"k".to_vec(), Some(b"new".to_vec()));
        c.persisted([(&new.0, &new.1)].into_iter());
        c.fill(m, b"k", Some(b"old".to_vec()));
        assert_eq!(c.get(b"k").unwrap(), Some(b"new".to_vec()));
    }

    #[test]
    fn a_sharded_cache_drops_stale_fills_in_every_shard_and_stays_in_budget() {
        let c = HotCache::new(32 << 20, Counter::default(), Counter::default());
        assert_eq!(c.shards.len(), MAX_SHARDS);
        let key = |i: u32| format!("c/{i:08}").into_bytes();
        // Misses before a checkpoint, in keys spread over all shards.
        let misses: Vec<(Vec<u8>, Miss)> = (0..1_000)
            .map(|i| (key(i), c.get(&key(i)).unwrap_err()))
            .collect();
        let written: Vec<(Vec<u8>, Option<Vec<u8>>)> = (0..1_000)
            .map(|i| (key(i), Some(b"new".to_vec())))
            .collect();
        c.persisted(written.iter().map(|(k, v)| (k, v)));
        for (k, m) in misses {
            c.fill(m, &k, Some(b"old".to_vec()));
            assert_eq!(c.get(&k).unwrap(), Some(b"new".to_vec()), "{k:?}");
        }
        // Far more than the budget goes in; the bytes held never pass it.
        for i in 0..200_000u32 {
            let k = key(i);
            if let Err(m) = c.get(&k) {
                c.fill(m, &k, Some(vec![7; 300]));
            }
        }
        assert!(c.bytes() <= c.budget(), "{} > {}", c.bytes(), c.budget());
        assert!(c.bytes() > c.budget() / 4, "the cache holds almost nothing");
    }
}
