//! The sorted runs under the query indexes: what the indexer spends to write
//! a block's entries as a run and to merge runs, and what a point read of an
//! absent key costs across many runs (each run's Bloom filter is asked).
//!
//! Keys are shaped like the index's per-use entries: a one-byte table, a
//! 32-byte account, then height, tx and use positions (45 bytes), with empty
//! values. The runs live in the in-memory backend, so the numbers are CPU
//! (encoding, checksums, filters, key comparisons), not the device.
//!
//! - `write_and_merge_256k`: 64 runs of 4,096 entries added one after
//!   another, each followed by the merges the indexer would do.
//! - `get_absent_10k`: 10,000 point reads of absent keys over 16 live runs.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use assent_node::storage::backend::Backend;
use assent_node::storage::mem::MemBackend;
use assent_node::storage::runs::{Runs, INDEX};
use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};

const RUNS: u32 = 64;
const PER_RUN: u32 = 4_096;

/// An index-shaped key: accounts spread by a multiplicative hash.
fn key(run: u32, i: u32) -> Vec<u8> {
    let account = (i.wrapping_mul(2_654_435_761) % 5_000).to_be_bytes();
    let mut k = Vec::with_capacity(45);
    k.push(b'u');
    for _ in 0..8 {
        k.extend_from_slice(&account);
    }
    k.extend_from_slice(&u64::from(run).to_be_bytes());
    k.extend_from_slice(&i.to_be_bytes());
    k
}

fn batch(run: u32) -> Vec<Vec<u8>> {
    let mut keys: Vec<Vec<u8>> = (0..PER_RUN).map(|i| key(run, i)).collect();
    keys.sort();
    keys
}

fn fill(runs: &Runs, batches: &[Vec<Vec<u8>>]) {
    for keys in batches {
        runs.add(
            keys.iter().map(|k| (k.as_slice(), &[][..])),
            Vec::new(),
            false,
        )
        .unwrap();
        while runs.compact().unwrap() {}
    }
}

fn benches(c: &mut Criterion) {
    let batches: Vec<Vec<Vec<u8>>> = (0..RUNS).map(batch).collect();
    let mut g = c.benchmark_group("index_runs");
    g.sample_size(10);
    g.throughput(Throughput::Elements(u64::from(RUNS * PER_RUN)));
    g.bench_function("write_and_merge_256k", |b| {
        b.iter_batched(
            || {
                let backend: Arc<dyn Backend> = Arc::new(MemBackend::new());
                Runs::open(INDEX, backend).unwrap()
            },
            |runs| {
                fill(&runs, &batches);
                assert_eq!(runs.stats().1, u64::from(RUNS * PER_RUN));
                runs
            },
            BatchSize::PerIteration,
        )
    });

    let backend: Arc<dyn Backend> = Arc::new(MemBackend::new());
    let runs = Runs::open(INDEX, backend).unwrap();
    fill(&runs, &batches[..31]);
    // Fan-out 16: the first 16 runs merged into one, 15 more beside it.
    assert_eq!(runs.stats().0, 16);
    let absent: Vec<Vec<u8>> = (0..10_000).map(|i| key(RUNS + 1, i)).collect();
    g.throughput(Throughput::Elements(absent.len() as u64));
    g.bench_function("get_absent_10k", |b| {
        b.iter(|| {
            for k in &absent {
                assert!(runs.get(k).unwrap().is_none());
            }
        })
    });
    g.finish();
}

criterion_group!(index_runs, benches);
criterion_main!(index_runs);
