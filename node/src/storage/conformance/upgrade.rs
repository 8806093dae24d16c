//! Upgrades and repairs at open, through the same conformance scenario: a
//! store in the sled-key layout is converted, damaged index runs rebuilt;
//! and index entries that point nowhere are refused by name.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::*;

#[test]
fn a_store_in_the_sled_key_layout_is_converted_and_damaged_indexes_rebuilt() {
    use crate::storage::backend::RunSpace;
    use crate::storage::keys;
    use crate::storage::runs::{Runs, INDEX, STATE};
    let sc = scenario();
    let cfg = small();
    let dir = tempfile::tempdir().unwrap();
    let mut records = Vec::new();
    {
        let store = Store::open(dir.path(), &cfg, &genesis()).unwrap();
        assert_eq!(commit_all(&store, &sc, 0), BLOCKS);
        check(&store, &sc);
        store
            .snapshot()
            .for_each_record(&mut |k, v| {
                records.push((k.to_vec(), v.to_vec()));
                Ok(())
            })
            .unwrap();
    }
    // The older layout: state records and index entries as sled keys, no
    // format markers, no runs.
    let legacy = keys::account_event(&consumer(0).account(), Height(1), 0, 9);
    {
        let b = DiskBackend::open(dir.path(), 1 << 20).unwrap();
        let mut ops: Vec<crate::storage::backend::Op> = records
            .iter()
            .map(|(k, v)| ([keys::STATE, k].concat(), Some(v.clone())))
            .collect();
        ops.push((keys::STATE_FORMAT.to_vec(), None));
        Runs::wipe(STATE, &b, ops).unwrap();
        Runs::wipe(
            INDEX,
            &b,
            vec![
                (keys::INDEX_FORMAT.to_vec(), None),
                (legacy.clone(), Some(b"old".to_vec())),
            ],
        )
        .unwrap();
        assert!(b.run_ids(RunSpace::Index).unwrap().is_empty());
        assert!(b.run_ids(RunSpace::State).unwrap().is_empty());
    }
    let store = reopen_disk(dir.path(), &cfg);
    check(&store, &sc);
    let backend = &store.core().backend;
    assert_eq!(backend.get(&legacy).unwrap(), None);
    let end = keys::prefix_end(keys::STATE);
    assert!(backend
        .range(keys::STATE, &end, false, 1)
        .unwrap()
        .is_empty());
    assert_eq!(backend.run_ids(RunSpace::State).unwrap().len(), 1);
    drop(store);
    // A run cut short (a disk that lost its tail).
    let runs = dir.path().join("index");
    let mut cut = 0;
    for e in std::fs::read_dir(&runs).unwrap() {
        let p = e.unwrap().path();
        std::fs::write(&p, b"short").unwrap();
        cut += 1;
    }
    assert!(cut > 0, "the rebuilt indexes are in run files");
    let store = reopen_disk(dir.path(), &cfg);
    check(&store, &sc);
}

#[test]
fn indexes_in_the_runs_1_layout_are_rebuilt_from_the_journal() {
    use crate::storage::backend::Backend;
    use crate::storage::keys;
    use crate::storage::runs::{Runs, INDEX};
    let sc = scenario();
    let cfg = small();
    let dir = tempfile::tempdir().unwrap();
    committed_on_disk(dir.path(), &cfg, &sc);
    // `runs-1`: the cursor at the head, and runs whose `h/` and `u/` values
    // were copies of the events (read now as pointers, they would be wrong).
    let old = keys::account_event(&consumer(0).account(), Height(1), 0, 0);
    {
        let b: Arc<dyn Backend> = Arc::new(DiskBackend::open(dir.path(), 1 << 20).unwrap());
        Runs::wipe(
            INDEX,
            b.as_ref(),
            vec![(keys::INDEX_FORMAT.to_vec(), Some(b"runs-1".to_vec()))],
        )
        .unwrap();
        let runs = Runs::open(INDEX, b.clone()).unwrap();
        let value: &[u8] = &[0xff, 0xfe, 7, 7];
        runs.add([(old.as_slice(), value)].into_iter(), Vec::new(), true)
            .unwrap();
    }
    let store = reopen_disk(dir.path(), &cfg);
    check(&store, &sc);
    assert_eq!(
        store
            .core()
            .backend
            .get(keys::INDEX_FORMAT)
            .unwrap()
            .as_deref(),
        Some(keys::INDEX_FORMAT_RUNS)
    );
}

#[test]
fn index_entries_that_point_nowhere_are_errors_naming_them_and_change_nothing() {
    use crate::storage::keys;
    let sc = scenario();
    let cfg = small();
    let store = Store::with_backend(Arc::new(MemBackend::new()), &cfg, &genesis()).unwrap();
    assert_eq!(commit_all(&store, &sc, 0), BLOCKS);
    check(&store, &sc);
    let head = store.head().height;
    // Entries no indexer writes, one account each: a use in a tx the block
    // lacks, an event number past the tx's events, a block above the head.
    let (a, b, c) = (
        consumer(0).account(),
        consumer(1).account(),
        consumer(2).account(),
    );
    let cases = [
        (
            a,
            keys::consumer_use(&a, Height(1), 9_999, 0),
            "points at tx 9999 of block 1, which has fewer",
        ),
        (
            b,
            keys::account_event(&b, Height(1), 0, 9_999),
            "has no event 9999",
        ),
        (
            c,
            keys::account_event(&c, Height(head.0 + 5), 0, 0),
            "which is not committed",
        ),
    ];
    for (victim, key, why) in cases {
        store
            .core()
            .runs
            .add(
                [(key.as_slice(), b"RegisterConsumer".as_slice())].into_iter(),
                Vec::new(),
                false,
            )
            .unwrap();
        let uses = store.uses_up_to(&victim, Height(u64::MAX), 1000);
        let history = store.history_up_to(&victim, Height(u64::MAX), 1000);
        let err = match (uses, history) {
            (Err(e), _) | (_, Err(e)) => e,
            (Ok(_), Ok(_)) => panic!("{why}: the bad entry was read as if it were fine"),
        };
        let msg = err.to_string();
        assert!(matches!(err, StoreError::Corrupt { .. }), "{msg}");
        assert!(msg.contains(why), "{msg}");
        assert!(msg.contains("index"), "names the index: {msg}");
    }
    // Every other account's records still read, and the chain is untouched.
    for i in 3..(BLOCKS as u32 * PER_BLOCK) {
        let c = consumer(i).account();
        let history = store.history_up_to(&c, head, 1000).unwrap();
        assert_eq!(history.len(), 2, "consumer {i}");
    }
    assert_eq!(store.head().height, head);
    assert!(store.block_bytes(head).unwrap().is_some());
}
