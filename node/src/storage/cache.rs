//! A bounded read cache of persisted state records, in front of sled.
//!
//! Two generations: hits in the older one move to the newer; when the newer
//! fills half the budget it becomes the older and the old older is dropped.
//! So memory stays under the budget and recently used records stay cached,
//! at the cost of a lookup in two maps.
//!
//! It only ever holds values as persisted: the persister updates it after
//! each checkpoint write, and a reader that missed fills it only if no
//! checkpoint was written since its miss (the generation check), so a value
//! older than sled's is never cached.

use std::collections::HashMap;
use std::sync::Mutex;

use prometheus_client::metrics::counter::Counter;

/// Bytes counted per entry besides key and value (map slots, allocations).
const ENTRY_OVERHEAD: usize = 64;

type Map = HashMap<Vec<u8>, Option<Vec<u8>>>;

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
    inner: Mutex<Generations>,
    budget: usize,
    hits: Counter,
    misses: Counter,
}

fn weight(k: &[u8], v: &Option<Vec<u8>>) -> usize {
    k.len() + v.as_ref().map_or(0, Vec::len) + ENTRY_OVERHEAD
}

/// What a miss saw: pass it back to [`HotCache::fill`].
#[derive(Debug, Clone, Copy)]
pub struct Miss(u64);

impl HotCache {
    /// A cache of at most `budget_bytes`, counting into `hits` and `misses`.
    pub fn new(budget_bytes: usize, hits: Counter, misses: Counter) -> HotCache {
        HotCache {
            inner: Mutex::default(),
            budget: budget_bytes.max(2 * ENTRY_OVERHEAD),
            hits,
            misses,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Generations> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, Miss> {
        let mut g = self.lock();
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

    /// Caches what a reader read from sled after `miss`, unless a checkpoint
    /// was written since.
    pub fn fill(&self, miss: Miss, key: &[u8], value: Option<Vec<u8>>) {
        let mut g = self.lock();
        if g.generation == miss.0 {
            self.insert(&mut g, key.to_vec(), value);
        }
    }

    /// After a checkpoint reached sled: cached values follow it, and the
    /// written records (recently used ones) are cached.
    pub fn persisted<'a>(&self, writes: impl Iterator<Item = (&'a Vec<u8>, &'a Option<Vec<u8>>)>) {
        let mut g = self.lock();
        g.generation += 1;
        for (k, v) in writes {
            if let Some(old) = g.old.remove(k) {
                g.old_bytes = g.old_bytes.saturating_sub(weight(k, &old));
            }
            self.insert(&mut g, k.clone(), v.clone());
        }
    }

    fn insert(&self, g: &mut Generations, k: Vec<u8>, v: Option<Vec<u8>>) {
        let w = weight(&k, &v);
        let half = self.budget / 2;
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
        let g = self.lock();
        g.young_bytes + g.old_bytes
    }

    pub fn budget(&self) -> usize {
        self.budget
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
}
