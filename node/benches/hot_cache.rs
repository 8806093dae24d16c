//! The node's read cache of persisted state records (`HotCache`): what a
//! block's execution pays per point read, and what the persister pays to
//! put a checkpoint's records in.
//!
//! The cache is filled past its budget the way the persister fills it
//! (checkpoints of 5,000 records), so both generations hold entries and
//! the oldest were dropped. Keys are shaped like state keys (a table byte
//! and two 32-byte ids), values like a consent record (150 bytes). Reads
//! go in a scattered order, so they miss the CPU caches as a large state
//! does.
//!
//! - `get_hit_10k`: 10,000 reads of keys cached by the last 20
//!   checkpoints (the newer generation: a read of the older one moves the
//!   entry, so it cannot be repeated alike).
//! - `read_hit_10k`: the same reads lending the value to a closure (how
//!   execution reads it) instead of copying it out.
//! - `get_miss_10k`: 10,000 reads of keys never cached.
//! - `persisted_5k`: a checkpoint of 5,000 records, half of them already
//!   cached with an older value.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::hint::black_box;

use assent_node::storage::cache::{key_hash, HotCache};
use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use prometheus_client::metrics::counter::Counter;

#[global_allocator]
static ALLOC: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

const BUDGET: usize = 64 << 20;
const CHECKPOINT: u32 = 5_000;
/// Records written before measuring: about 1.5 budgets.
const WRITTEN: u32 = 400_000;
const READS: u32 = 10_000;

fn key(i: u32) -> Vec<u8> {
    let spread = i.wrapping_mul(2_654_435_761).to_be_bytes();
    let mut k = Vec::with_capacity(65);
    k.push(b'c');
    for _ in 0..8 {
        k.extend_from_slice(&spread);
    }
    for _ in 0..8 {
        k.extend_from_slice(&i.to_be_bytes());
    }
    k
}

fn value(i: u32) -> Option<Vec<u8>> {
    Some(vec![(i % 251) as u8; 150])
}

fn checkpoint(c: &HotCache, from: u32, to: u32) {
    let records: Vec<(Vec<u8>, Option<Vec<u8>>)> = (from..to).map(|i| (key(i), value(i))).collect();
    c.persisted(records.iter().map(|(k, v)| (k, v)));
}

fn filled() -> HotCache {
    let c = HotCache::new(BUDGET, Counter::default(), Counter::default());
    let mut i = 0;
    while i < WRITTEN {
        checkpoint(&c, i, i + CHECKPOINT);
        i += CHECKPOINT;
    }
    c
}

/// Scattered indices in `from..to`.
fn scattered(from: u32, to: u32, n: u32) -> Vec<Vec<u8>> {
    (0..n)
        .map(|j| from + j.wrapping_mul(40_503).wrapping_add(17) % (to - from))
        .map(key)
        .collect()
}

fn benches(c: &mut Criterion) {
    let cache = filled();
    let hits = scattered(WRITTEN - 20 * CHECKPOINT, WRITTEN, READS);
    let misses = scattered(WRITTEN, 2 * WRITTEN, READS);
    let mut g = c.benchmark_group("hot_cache");
    g.throughput(Throughput::Elements(u64::from(READS)));
    g.bench_function("get_hit_10k", |b| {
        b.iter(|| {
            for k in &hits {
                black_box(cache.get(k).expect("cached"));
            }
        })
    });
    g.bench_function("read_hit_10k", |b| {
        b.iter(|| {
            for k in &hits {
                let mut len = 0;
                cache
                    .read(k, key_hash(k), &mut |v| len = v.map_or(0, <[u8]>::len))
                    .expect("cached");
                black_box(len);
            }
        })
    });
    g.bench_function("get_miss_10k", |b| {
        b.iter(|| {
            for k in &misses {
                black_box(cache.get(k).expect_err("never cached"));
            }
        })
    });
    g.throughput(Throughput::Elements(u64::from(CHECKPOINT)));
    let mut next = WRITTEN;
    g.bench_function("persisted_5k", |b| {
        b.iter_batched(
            || {
                // Half rewrite cached keys, half are new.
                let half = CHECKPOINT / 2;
                let mut records: Vec<(Vec<u8>, Option<Vec<u8>>)> =
                    scattered(next - 100_000, next, half)
                        .into_iter()
                        .map(|k| (k, value(1)))
                        .collect();
                records.extend((next..next + half).map(|i| (key(i), value(i))));
                next += half;
                records
            },
            |records| cache.persisted(records.iter().map(|(k, v)| (k, v))),
            BatchSize::LargeInput,
        )
    });
    g.finish();
    assert!(cache.bytes() <= cache.budget());
}

criterion_group!(hot_cache, benches);
criterion_main!(hot_cache);
