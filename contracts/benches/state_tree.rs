//! The state tree's update per block, at 1M and 10M records.
//!
//! A block of 10,000 writes (about what a 1,000-tx block of the bench mix
//! writes): 7,000 updates of existing records, 2,000 new records, 1,000
//! deletions, each value 200 bytes, keys shaped like the ledger's
//! (`cnst/` + 32 bytes). What is timed is [`StateTree::apply`]: hashing
//! every key and value, the batch update, and the new root. The parent
//! version stays alive, as the node keeps it. `apply_and_free` also frees
//! the new version's nodes, as a node eventually does with every version.
//!
//! `ASSENT_TREE_SIZES=1000000,10000000` (default) picks the sizes; each
//! tree is built once (tens of seconds at 10M) and its memory per record is
//! printed from /proc/self/statm. Allocations go through jemalloc, as in
//! `assentd`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use assent_contracts::state::tree::{key_path, value_hash};
use assent_contracts::state::StateTree;
use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};

// The allocator `assentd` runs with: the tree allocates a node per changed
// level, so the allocator is part of the cost measured.
#[global_allocator]
static ALLOC: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

#[path = "support/tree_blocks.rs"]
mod tree_blocks;
use tree_blocks::{block, key, value, Lcg, DELETES, INSERTS, UPDATES};

fn rss_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    pages * 4096
}

fn sizes() -> Vec<u64> {
    std::env::var("ASSENT_TREE_SIZES")
        .unwrap_or_else(|_| "1000000,10000000".into())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect()
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("state_tree");
    g.sample_size(10);
    g.throughput(Throughput::Elements(UPDATES + INSERTS + DELETES));
    for n in sizes() {
        let before = rss_bytes();
        let started = std::time::Instant::now();
        let leaves = (0..n)
            .map(|i| (key_path(&key(i)), value_hash(&value(i, 0))))
            .collect();
        let tree = StateTree::from_leaves(leaves);
        let after = rss_bytes();
        eprintln!(
            "state_tree/{n}: built in {:.1} s; memory {:.0} bytes per record ({} MiB)",
            started.elapsed().as_secs_f64(),
            after.saturating_sub(before) as f64 / n as f64,
            after.saturating_sub(before) >> 20
        );
        let mut rng = Lcg(n);
        let mut b = 0;
        g.bench_function(format!("apply_10000_writes/{n}_records"), |bench| {
            bench.iter_batched(
                || {
                    b += 1;
                    block(n, b, &mut rng)
                },
                |w| tree.apply(&w).expect("a tree without pages applies"),
                BatchSize::LargeInput,
            )
        });
        // A node also frees every version it made, once it is no longer
        // the head nor kept for proofs: the whole cost of a block's version.
        g.bench_function(
            format!("apply_and_free_10000_writes/{n}_records"),
            |bench| {
                bench.iter_batched(
                    || {
                        b += 1;
                        block(n, b, &mut rng)
                    },
                    |w| drop(tree.apply(&w).expect("a tree without pages applies")),
                    BatchSize::LargeInput,
                )
            },
        );
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
