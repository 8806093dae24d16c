//! A bounded read cache of persisted state records, in front of the state
//! runs.
//!
//! Two generations: hits in the older one move to the newer; when the newer
//! fills half the budget it becomes the older and the old older is dropped.
//! So memory stays under the budget and recently used records stay cached.
//!
//! Both generations live in one hash table per shard; each entry carries
//! its generation's stamp, the full hash of its key, and its key and value
//! in one allocation. A read is one probe: the stamp tells the generation,
//! and moving an entry to the newer one is a store to its stamp, not a
//! removal and an insertion in another map. A probe compares the stored
//! hash before it looks at the key, so it touches the key's memory only
//! for the entry it finds; the value is in the same allocation. Aging out
//! the older generation is one sweep of the table per half budget written
//! (BENCHMARKS.md, "The read cache: one table, generations stamped").
//!
//! The cache is split in shards by key hash, each with its own lock and its
//! share of the budget: executing a block reads it from several threads
//! while the persister updates it after a checkpoint, and one lock made
//! them wait for each other (BENCHMARKS.md, "Messages sent once,
//! reads by hash"). Keys are hashed with Fx, as the contracts' overlays do;
//! the hash picks the shard and the slot, and is computed once per call.
//!
//! It only ever holds values as persisted: the persister updates it after
//! each checkpoint write, and a reader that missed fills it only if no
//! checkpoint was written since its miss, so a value older than the runs'
//! is never cached.

use std::hash::BuildHasher;
use std::sync::{Mutex, MutexGuard};

use hashbrown::HashTable;
use prometheus_client::metrics::counter::Counter;
use rustc_hash::FxBuildHasher;

/// Bytes counted per entry besides key and value (table slot, allocation).
const ENTRY_OVERHEAD: usize = 64;

/// Most shards; a small budget gets fewer (at least [`MIN_SHARD_BYTES`] each).
const MAX_SHARDS: usize = 16;
const MIN_SHARD_BYTES: usize = 1 << 20;

/// Entries the persister inserts under one shard's lock before letting
/// readers in.
const CHUNK: usize = 256;

/// A key's Fx hash: picks its shard and slot here, and its unpersisted
/// layers (`state.rs`).
pub fn key_hash(key: &[u8]) -> u64 {
    FxBuildHasher.hash_one(key)
}

/// A written record, with its key's hash, as the persister passes it.
type Record<'a> = (u64, &'a [u8], Option<&'a [u8]>);

/// Bytes an entry of this key and value is counted for.
fn weight(key: &[u8], value: Option<&[u8]>) -> usize {
    key.len() + value.map_or(0, <[u8]>::len) + ENTRY_OVERHEAD
}

/// A cached record: `Some` value, or `None` for a key the runs do not hold.
#[derive(Debug)]
struct Entry {
    hash: u64,
    /// The generation it was last written or read in.
    stamp: u32,
    key_len: u32,
    present: bool,
    /// The key, then the value.
    bytes: Box<[u8]>,
}

impl Entry {
    fn new(hash: u64, stamp: u32, key: &[u8], value: Option<&[u8]>) -> Entry {
        let v = value.unwrap_or_default();
        let mut bytes = Vec::with_capacity(key.len() + v.len());
        bytes.extend_from_slice(key);
        bytes.extend_from_slice(v);
        Entry {
            hash,
            stamp,
            // State keys are short; `fill` and `persisted` refuse longer.
            key_len: key.len() as u32,
            present: value.is_some(),
            bytes: bytes.into_boxed_slice(),
        }
    }

    fn key(&self) -> &[u8] {
        &self.bytes[..self.key_len as usize]
    }

    fn value(&self) -> Option<&[u8]> {
        self.present.then(|| &self.bytes[self.key_len as usize..])
    }

    fn weight(&self) -> usize {
        self.bytes.len() + ENTRY_OVERHEAD
    }

    /// Takes `value` in place of the cached one (no allocation when its
    /// length is the same).
    fn set(&mut self, value: Option<&[u8]>) {
        let k = self.key_len as usize;
        let v = value.unwrap_or_default();
        if self.bytes.len() == k + v.len() {
            self.bytes[k..].copy_from_slice(v);
        } else {
            let mut bytes = Vec::with_capacity(k + v.len());
            bytes.extend_from_slice(&self.bytes[..k]);
            bytes.extend_from_slice(v);
            self.bytes = bytes.into_boxed_slice();
        }
        self.present = value.is_some();
    }
}

fn matches(hash: u64, key: &[u8]) -> impl Fn(&Entry) -> bool + '_ {
    move |e| e.hash == hash && e.key() == key
}

#[derive(Debug, Default)]
struct Shard {
    /// Entries of both generations: stamped `stamp` (the newer) or
    /// `stamp - 1` (the older), wrapping.
    table: HashTable<Entry>,
    stamp: u32,
    young_bytes: usize,
    old_bytes: usize,
    /// Checkpoints written: what a [`Miss`] remembers.
    checkpoint: u64,
}

impl Shard {
    /// The newer generation becomes the older; the older is dropped.
    /// An entry already stamped for the next generation stays.
    fn rotate(&mut self) {
        let older = self.stamp.wrapping_sub(1);
        self.table.retain(|e| e.stamp != older);
        self.stamp = self.stamp.wrapping_add(1);
        self.old_bytes = std::mem::take(&mut self.young_bytes);
    }

    /// Takes `w` bytes out of the generation stamped `stamp`.
    fn forget(&mut self, stamp: u32, w: usize) {
        if stamp == self.stamp {
            self.young_bytes = self.young_bytes.saturating_sub(w);
        } else {
            self.old_bytes = self.old_bytes.saturating_sub(w);
        }
    }

    fn read(
        &mut self,
        key: &[u8],
        hash: u64,
        half: usize,
        f: &mut dyn FnMut(Option<&[u8]>),
    ) -> bool {
        let young = self.stamp;
        let Some(e) = self.table.find_mut(hash, matches(hash, key)) else {
            return false;
        };
        if e.stamp == young {
            f(e.value());
            return true;
        }
        let w = e.weight();
        self.old_bytes = self.old_bytes.saturating_sub(w);
        if self.young_bytes + w <= half {
            e.stamp = young;
            self.young_bytes += w;
            f(e.value());
            return true;
        }
        // The newer generation is full: this entry opens the next one.
        e.stamp = young.wrapping_add(1);
        self.rotate();
        self.young_bytes += w;
        match self.table.find(hash, matches(hash, key)) {
            Some(e) => f(e.value()),
            None => return false,
        }
        true
    }

    fn insert(&mut self, key: &[u8], hash: u64, value: Option<&[u8]>, half: usize) {
        let w = weight(key, value);
        if let Some(e) = self.table.find_mut(hash, matches(hash, key)) {
            let (was, old_w) = (e.stamp, e.weight());
            let young_after = if was == self.stamp {
                self.young_bytes - old_w.min(self.young_bytes)
            } else {
                self.young_bytes
            } + w;
            if w <= half && young_after <= half {
                e.set(value);
                e.stamp = self.stamp;
                if was != self.stamp {
                    self.old_bytes = self.old_bytes.saturating_sub(old_w);
                }
                self.young_bytes = young_after;
                return;
            }
            if let Ok(entry) = self.table.find_entry(hash, matches(hash, key)) {
                entry.remove();
            }
            self.forget(was, old_w);
        }
        if w > half {
            // Larger than a generation: not worth evicting everything for.
            return;
        }
        if self.young_bytes + w > half {
            self.rotate();
        }
        self.table
            .insert_unique(hash, Entry::new(hash, self.stamp, key, value), |e| e.hash);
        self.young_bytes += w;
    }
}

#[derive(Debug)]
pub struct HotCache {
    shards: Box<[Mutex<Shard>]>,
    /// Each shard's budget.
    shard_budget: usize,
    hits: Counter,
    misses: Counter,
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

    fn shard_of(&self, hash: u64) -> usize {
        // The high bits above the table's: it takes the slot from the low
        // ones and its tag from the top seven.
        (hash >> 48) as usize % self.shards.len()
    }

    fn lock(m: &Mutex<Shard>) -> MutexGuard<'_, Shard> {
        m.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Lends the cached record of `key` (whose [`key_hash`] is `hash`) to
    /// `f`, or tells what the miss saw.
    pub fn read(
        &self,
        key: &[u8],
        hash: u64,
        f: &mut dyn FnMut(Option<&[u8]>),
    ) -> Result<(), Miss> {
        let mut g = Self::lock(&self.shards[self.shard_of(hash)]);
        if g.read(key, hash, self.shard_budget / 2, f) {
            self.hits.inc();
            Ok(())
        } else {
            self.misses.inc();
            Err(Miss(g.checkpoint))
        }
    }

    /// The cached record of `key`, copied.
    pub fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, Miss> {
        let mut out = None;
        self.read(key, key_hash(key), &mut |v| out = v.map(<[u8]>::to_vec))?;
        Ok(out)
    }

    /// Caches what a reader read from the runs after `miss`, unless a
    /// checkpoint was written since.
    pub fn fill(&self, miss: Miss, key: &[u8], value: Option<&[u8]>) {
        if u32::try_from(key.len()).is_err() {
            return;
        }
        let hash = key_hash(key);
        let mut g = Self::lock(&self.shards[self.shard_of(hash)]);
        if g.checkpoint == miss.0 {
            g.insert(key, hash, value, self.shard_budget / 2);
        }
    }

    /// After a checkpoint reached the runs: cached values follow it, and
    /// the written records (recently used ones) are cached.
    ///
    /// Every shard's checkpoint count moves first, so a fill by a reader
    /// that missed before the checkpoint is dropped; then the records go in
    /// a chunk at a time per shard. A reader that misses in between reads
    /// the runs, which already hold the checkpoint, so what it fills is
    /// what this call would insert.
    pub fn persisted<'a>(&self, writes: impl Iterator<Item = (&'a Vec<u8>, &'a Option<Vec<u8>>)>) {
        for s in self.shards.iter() {
            Self::lock(s).checkpoint += 1;
        }
        let n = self.shards.len();
        let mut by_shard: Vec<Vec<Record<'a>>> = vec![Vec::new(); n];
        for (k, v) in writes {
            if u32::try_from(k.len()).is_err() {
                continue;
            }
            let hash = key_hash(k);
            by_shard[self.shard_of(hash)].push((hash, k, v.as_deref()));
        }
        let half = self.shard_budget / 2;
        for (s, records) in self.shards.iter().zip(by_shard) {
            for chunk in records.chunks(CHUNK) {
                let mut g = Self::lock(s);
                for (hash, k, v) in chunk {
                    g.insert(k, *hash, *v, half);
                }
            }
        }
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
            c.fill(m, &key(i), Some(&[1; 100]));
            // Key 0 is read all the time: it must stay cached.
            assert!(c.get(&key(0)).is_ok(), "hot key evicted at {i}");
            assert!(c.bytes() <= c.budget(), "{} > {}", c.bytes(), c.budget());
        }
    }

    /// Weight of a 4-byte key and a 100-byte value.
    const W: usize = 4 + 100 + ENTRY_OVERHEAD;

    #[test]
    fn a_read_in_the_older_generation_that_fills_the_newer_keeps_its_entry() {
        // One shard, five entries per generation.
        let c = HotCache::new(2 * (5 * W + 10), Counter::default(), Counter::default());
        assert_eq!(c.shards.len(), 1);
        let key = |i: u32| i.to_be_bytes();
        let put = |i: u32| {
            let m = c.get(&key(i)).unwrap_err();
            c.fill(m, &key(i), Some(&[i as u8; 100]));
        };
        (0..10).for_each(put);
        // 0..5 are the older generation, 5..10 the newer (full).
        assert_eq!(c.bytes(), 10 * W);
        // Reading 0 moves it up: the newer is full, so it opens the next
        // generation; 5..10 become the older and 1..5 are dropped.
        assert_eq!(c.get(&key(0)).unwrap(), Some(vec![0; 100]));
        assert_eq!(c.bytes(), 6 * W);
        for i in 1..5 {
            assert!(c.get(&key(i)).is_err(), "{i} should be gone");
        }
        for i in 5..10 {
            assert_eq!(c.get(&key(i)).unwrap(), Some(vec![i as u8; 100]), "{i}");
        }
        assert_eq!(c.get(&key(0)).unwrap(), Some(vec![0; 100]));
        assert!(c.bytes() <= c.budget());
    }

    #[test]
    fn a_checkpoint_replaces_cached_values_of_any_length_and_absence() {
        let c = HotCache::new(1 << 20, Counter::default(), Counter::default());
        let k = |s: &str| s.as_bytes().to_vec();
        let first = [
            (k("same"), Some(b"aaaa".to_vec())),
            (k("longer"), Some(b"aa".to_vec())),
            (k("shorter"), Some(b"aaaaaa".to_vec())),
            (k("deleted"), Some(b"aa".to_vec())),
            (k("created"), None),
        ];
        c.persisted(first.iter().map(|(k, v)| (k, v)));
        let second = [
            (k("same"), Some(b"bbbb".to_vec())),
            (k("longer"), Some(b"bbbbbbbb".to_vec())),
            (k("shorter"), Some(b"b".to_vec())),
            (k("deleted"), None),
            (k("created"), Some(b"bbb".to_vec())),
        ];
        c.persisted(second.iter().map(|(k, v)| (k, v)));
        let mut expected = 0;
        for (key, v) in &second {
            assert_eq!(&c.get(key).unwrap(), v, "{}", String::from_utf8_lossy(key));
            expected += weight(key, v.as_deref());
        }
        // Every replaced value's bytes were given back.
        assert_eq!(c.bytes(), expected);
    }

    #[test]
    fn a_fill_after_a_checkpoint_is_dropped() {
        let c = HotCache::new(1 << 20, Counter::default(), Counter::default());
        let m = c.get(b"k").unwrap_err();
        let new = (b"k".to_vec(), Some(b"new".to_vec()));
        c.persisted([(&new.0, &new.1)].into_iter());
        c.fill(m, b"k", Some(b"old"));
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
            c.fill(m, &k, Some(b"old"));
            assert_eq!(c.get(&k).unwrap(), Some(b"new".to_vec()), "{k:?}");
        }
        // Far more than the budget goes in; the bytes held never pass it.
        for i in 0..200_000u32 {
            let k = key(i);
            if let Err(m) = c.get(&k) {
                c.fill(m, &k, Some(&[7; 300]));
            }
        }
        assert!(c.bytes() <= c.budget(), "{} > {}", c.bytes(), c.budget());
        assert!(c.bytes() > c.budget() / 4, "the cache holds almost nothing");
    }
}
