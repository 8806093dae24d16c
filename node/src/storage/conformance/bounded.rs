//! Memory stays bounded when the state is far larger than the caches: the
//! unpersisted changes, the read cache and the state tree (paged to the
//! store's tree space), through the same conformance scenario on both
//! backends.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::*;

#[test]
fn memory_stays_bounded_when_the_state_is_far_larger_than_the_cache() {
    let sc = scenario();
    let cfg = StoreConfig {
        sled_cache_bytes: 8 << 20,
        state: StateLimits {
            // About a block of changes, a cache of a few records.
            unpersisted_cap: 6 * 1024,
            cache_bytes: 2 * 1024,
            persist_interval: Duration::from_secs(600),
        },
        index: false,
        // Only the head's tree is kept for proofs, so every older bucket
        // may be paged out.
        proof_history_bytes: 0,
        // The smallest bound: the tree pages subtrees out from the start.
        state_tree_bytes: 16 << 10,
    };
    for dir in [None, Some(tempfile::tempdir().unwrap())] {
        let store = match &dir {
            Some(d) => Store::open(d.path(), &cfg, &genesis()).unwrap(),
            None => Store::with_backend(Arc::new(MemBackend::new()), &cfg, &genesis()).unwrap(),
        };
        let mut max_block = 0;
        for (block, bytes, cert, out) in &sc.blocks {
            let block_bytes: usize = out
                .writes
                .iter()
                .map(|(k, v)| k.len() + v.as_ref().map_or(0, Vec::len) + 96)
                .sum();
            max_block = max_block.max(block_bytes);
            // The block's tree made from the store's own (paged) tree, as
            // the chain does.
            let mut out = out.clone();
            out.tree = store
                .tree_at(store.head().height)
                .unwrap()
                .apply(&out.writes)
                .unwrap();
            store.commit_block(bytes, block, cert, &mut out).unwrap();
            let (unpersisted, cached) = {
                let l = store.core().state.lock();
                let frozen = l.frozen.as_ref().map_or(0, |f| f.bytes);
                (l.dirty_bytes + frozen, store.core().state.cache.bytes())
            };
            assert!(
                unpersisted <= cfg.state.unpersisted_cap + max_block,
                "{unpersisted} bytes unpersisted"
            );
            assert!(cached <= cfg.state.cache_bytes, "{cached} bytes cached");
            let tree = store.tree_at(store.head().height).unwrap();
            assert_eq!(
                tree.root(),
                StateTree::from_records(
                    sc.states[store.head().height.0 as usize]
                        .scan_prefix(b"")
                        .unwrap()
                        .iter()
                        .map(|(k, v)| (k.as_slice(), v.as_slice()))
                )
                .root()
            );
            // Reads through the tiny cache are right.
            let h = store.head().height.0 as usize;
            assert_eq!(
                store.snapshot().scan_prefix(b"cnsr/").unwrap(),
                sc.states[h].scan_prefix(b"cnsr/").unwrap()
            );
            for i in 0..(h as u32 * PER_BLOCK) {
                let k = assent_contracts::state::keys::consumer(&consumer(i).account());
                assert_eq!(store.get(&k).unwrap(), sc.states[h].get(&k).unwrap());
            }
        }
        assert!(store.persisted_height().0 > 0, "the cap forced checkpoints");
        let state_bytes: usize = sc.states[BLOCKS as usize]
            .scan_prefix(b"")
            .unwrap()
            .iter()
            .map(|(k, v)| k.len() + v.len())
            .sum();
        assert!(state_bytes > 4 * cfg.state.unpersisted_cap, "{state_bytes}");
        let tree = store.tree_at(store.head().height).unwrap().arena_stats();
        let whole = StateTree::from_records(
            sc.states[BLOCKS as usize]
                .scan_prefix(b"")
                .unwrap()
                .iter()
                .map(|(k, v)| (k.as_slice(), v.as_slice())),
        )
        .arena_stats();
        assert!(tree.paged_subtrees > 0, "{tree:?}");
        assert!(tree.nodes < whole.nodes, "{tree:?} vs {whole:?}");
        // Proofs cross paged-out subtrees; the store checks each against
        // its own header before giving it (`ProofError::SelfCheck`).
        let head = store.head().height;
        for i in 0..(BLOCKS as u32 * PER_BLOCK) {
            let who = consumer(i).account();
            let proof = store
                .state_proof(
                    assent_contracts::state_proof::RecordRef::Consumer(who),
                    Some(head),
                )
                .unwrap();
            assert_eq!(proof.height, head);
            assert!(proof.value.is_some(), "consumer {i} is registered");
        }
        // Reopened, the tree is built again within the bound from the
        // state runs, through the external sort, and checks against the
        // checkpoint's root (the open fails otherwise).
        if let Some(d) = &dir {
            let head = store.head();
            drop(store);
            let store = reopen_disk(d.path(), &cfg);
            assert_eq!(store.head(), head);
            let tree = store.tree_at(head.height).unwrap();
            assert!(tree.arena_stats().paged_subtrees > 0);
        }
    }
}

/// The tree's pages are derived data: segments left by a crash are removed
/// at open and the store serves the same chain; a stray file in the tree
/// directory is refused with a message that names it, and nothing else in
/// the store is touched.
#[test]
fn leftover_tree_pages_are_cleared_and_a_stray_file_is_named() {
    let sc = scenario();
    let cfg = small();
    let dir = tempfile::tempdir().unwrap();
    let head = {
        let store = Store::open(dir.path(), &cfg, &genesis()).unwrap();
        assert_eq!(commit_all(&store, &sc, 0), BLOCKS);
        store.head()
    };
    let tree_dir = dir.path().join("tree");
    std::fs::write(tree_dir.join("00000000000000aa.run"), vec![7u8; 4096]).unwrap();
    let store = reopen_disk(dir.path(), &cfg);
    assert_eq!(store.head(), head);
    check(&store, &sc);
    assert!(!tree_dir.join("00000000000000aa.run").exists());
    drop(store);
    std::fs::write(tree_dir.join("notes.txt"), b"hello").unwrap();
    let err = Store::open(dir.path(), &cfg, &genesis()).unwrap_err();
    assert!(err.to_string().contains("notes.txt"), "{err}");
    std::fs::remove_file(tree_dir.join("notes.txt")).unwrap();
    let store = reopen_disk(dir.path(), &cfg);
    assert_eq!(store.head(), head);
    check(&store, &sc);
}
