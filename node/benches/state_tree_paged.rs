//! The state tree with a memory bound (`store.state_tree_mb`): a chain of
//! blocks on a tree whose whole size is larger than the bound, with pages
//! in a real store directory ([`RunPages`] on a [`DiskBackend`] in a temp
//! dir), as a node runs it.
//!
//! Each block is 10,000 writes, as in `contracts/benches/state_tree.rs`
//! (7,000 updates of random existing records, 2,000 new records, 1,000
//! deletions). Unlike that bench, blocks form a chain: each applies to the
//! previous head and the last 4 versions are kept (a node's proof history),
//! (fewer when the nodes they hold pass the bound by more than the proof
//! history's 64 MiB), so buckets become old enough to be paged out. What
//! is timed is the apply, the paging it does (reads back the subtrees the
//! block changes, pages out the oldest ones) and the free of the version
//! that falls out of the window.
//!
//! `ASSENT_TREE_SIZES` (default `1000000,10000000`) and `ASSENT_TREE_MB`
//! (default 256; 0 = no bound, the tree held whole as the baseline) pick
//! the state sizes and the bound. The arena's bytes and
//! the pages' live bytes are printed after the warm-up and at the end.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::VecDeque;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;

use assent_contracts::state::tree::{key_path, value_hash, Path};
use assent_contracts::state::{StateTree, Writes};
use assent_contracts::Hash32;
use assent_node::storage::backend::Backend;
use assent_node::storage::disk::DiskBackend;
use assent_node::storage::tree_pages::RunPages;
use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};

#[global_allocator]
static ALLOC: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

#[path = "../../contracts/benches/support/tree_blocks.rs"]
mod tree_blocks;
use tree_blocks::{block, key, value, Lcg, DELETES, INSERTS, UPDATES};

const KEPT: usize = 4;

fn env_list(name: &str, default: &str) -> Vec<u64> {
    std::env::var(name)
        .unwrap_or_else(|_| default.into())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect()
}

fn report(what: &str, tree: &StateTree, pages: &RunPages) {
    let s = tree.arena_stats();
    let (live, size) = pages.sizes();
    eprintln!(
        "{what}: arena {} MiB ({} nodes, {} versions), {} subtrees paged out, pages {} MiB live of {} MiB",
        s.bytes >> 20,
        s.nodes,
        s.versions,
        s.paged_subtrees,
        live >> 20,
        size >> 20
    );
}

fn bench(c: &mut Criterion) {
    let mb = env_list("ASSENT_TREE_MB", "256")
        .first()
        .copied()
        .unwrap_or(256);
    let mut g = c.benchmark_group("state_tree_paged");
    g.sample_size(10);
    g.throughput(Throughput::Elements(UPDATES + INSERTS + DELETES));
    for n in env_list("ASSENT_TREE_SIZES", "1000000,10000000") {
        let dir = tempfile::tempdir().unwrap();
        let backend: Arc<dyn Backend> = Arc::new(DiskBackend::open(dir.path(), 8 << 20).unwrap());
        let pages = Arc::new(RunPages::new(backend, Arc::new(AtomicU64::new(1))));
        let started = std::time::Instant::now();
        let mut leaves: Vec<(Path, Hash32)> = (0..n)
            .map(|i| (key_path(&key(i)), value_hash(&value(i, 0))))
            .collect();
        leaves.sort_unstable_by_key(|l| l.0);
        // A bound of 0: the tree held whole (no pages), the baseline.
        let tree = if mb == 0 {
            StateTree::from_leaves(leaves)
        } else {
            let mut build = StateTree::paged(pages.clone(), mb << 20);
            for (p, v) in leaves {
                build.push(p, v).unwrap();
            }
            build.finish().unwrap()
        };
        eprintln!(
            "state_tree_paged/{n} records, bound {mb} MiB: built in {:.1} s",
            started.elapsed().as_secs_f64()
        );
        report("  after the build", &tree, &pages);
        let mut kept = VecDeque::from([tree]);
        let mut rng = Lcg(n);
        let mut b = 0;
        // As the node's proof history does (`storage/trees.rs`): at most
        // `KEPT` versions, fewer when the nodes they hold pass the bound
        // by more than the history's budget (64 MiB, the default).
        let step = |w: Writes, kept: &mut VecDeque<StateTree>| {
            let next = kept.back().unwrap().apply(&w).unwrap();
            kept.push_back(next);
            if kept.len() > KEPT {
                kept.pop_front();
            }
            let over = |t: &StateTree| {
                let s = t.arena_stats();
                s.bound.is_some_and(|b| s.node_bytes > b + (64 << 20))
            };
            while kept.len() > 1 && over(&kept[0]) {
                kept.pop_front();
                kept[0].page_out().unwrap();
            }
        };
        // Warm-up: enough blocks that paging reaches its steady state.
        for _ in 0..20 {
            b += 1;
            step(block(n, b, &mut rng), &mut kept);
        }
        report("  after 20 blocks", kept.back().unwrap(), &pages);
        g.bench_function(
            format!("chain_10000_writes/{n}_records/{mb}_MiB"),
            |bench| {
                bench.iter_batched(
                    || {
                        b += 1;
                        block(n, b, &mut rng)
                    },
                    |w| step(w, &mut kept),
                    BatchSize::LargeInput,
                )
            },
        );
        report("  at the end", kept.back().unwrap(), &pages);
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
