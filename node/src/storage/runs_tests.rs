//! Tests of the sorted runs: merges, reopen, state tombstones, orphan and
//! damaged runs, Bloom filters.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::*;
use crate::storage::mem::MemBackend;

fn key(i: u32) -> Vec<u8> {
    format!("k/{i:08}").into_bytes()
}

fn pairs(e: &[(Vec<u8>, Vec<u8>)]) -> impl ExactSizeIterator<Item = (&[u8], &[u8])> {
    e.iter().map(|(k, v)| (k.as_slice(), v.as_slice()))
}

fn batch(from: u32, n: u32, step: u32) -> Vec<(Vec<u8>, Vec<u8>)> {
    (0..n)
        .map(|j| {
            let i = from + j * step;
            (key(i), vec![(i % 251) as u8; (i % 300) as usize])
        })
        .collect()
}

#[test]
fn runs_answer_like_one_sorted_map_through_merges_and_a_reopen() {
    let backend: Arc<dyn Backend> = Arc::new(MemBackend::new());
    let runs = Runs::open(INDEX, backend.clone()).unwrap();
    let mut model = std::collections::BTreeMap::new();
    // 20 batches of interleaved keys: merges at level 0 and the
    // entries of one run spread across another's key range.
    for b in 0..20u32 {
        let entries = batch(b, 400, 20);
        for (k, v) in &entries {
            model.insert(k.clone(), v.clone());
        }
        runs.add(pairs(&entries), Vec::new(), false).unwrap();
        while runs.compact().unwrap() {}
    }
    let (live, n) = runs.stats();
    assert_eq!(n, model.len() as u64);
    assert!(live < 20, "merges ran: {live} runs");
    let check = |runs: &Runs| {
        for i in [0, 1, 19, 20, 399 * 20 + 19, 8_000, 123_456] {
            assert_eq!(runs.get(&key(i)).unwrap(), model.get(&key(i)).cloned());
        }
        let (from, to) = (key(1_000), key(1_450));
        let want: Vec<_> = model
            .range(from.clone()..to.clone())
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        assert_eq!(runs.range(&from, &to, false, usize::MAX).unwrap(), want);
        let mut back = want.clone();
        back.reverse();
        back.truncate(7);
        assert_eq!(runs.range(&from, &to, true, 7).unwrap(), back);
        assert_eq!(
            runs.range(&from, &to, false, 3).unwrap(),
            want[..3].to_vec()
        );
        assert!(runs.range(&to, &from, false, 10).unwrap().is_empty());
    };
    check(&runs);
    drop(runs);
    let reopened = Runs::open(INDEX, backend).unwrap();
    check(&reopened);
}

#[test]
fn state_runs_read_the_newest_value_and_drop_deletions_at_the_bottom() {
    let backend: Arc<dyn Backend> = Arc::new(MemBackend::new());
    let runs = Runs::open(STATE, backend.clone()).unwrap();
    let mut model = std::collections::BTreeMap::new();
    // 64 rounds over 300 keys: each round rewrites a third of them and
    // deletes a few, as blocks do; 64 rounds fill levels 0 and 1.
    for round in 0..64u32 {
        let mut writes = std::collections::BTreeMap::new();
        for j in 0..100u32 {
            let i = (round * 37 + j * 3) % 300;
            let v = (i % 7 != round % 7).then(|| format!("{i}@{round}").into_bytes());
            writes.insert(key(i), state_value(v.as_deref()));
            match v {
                Some(v) => model.insert(key(i), v),
                None => model.remove(&key(i)),
            };
        }
        runs.add(
            pairs(&writes.into_iter().collect::<Vec<_>>()),
            Vec::new(),
            false,
        )
        .unwrap();
        while runs.compact().unwrap() {}
    }
    let (live, stored) = runs.stats();
    assert!(live <= 2 * STATE.fanout, "{live} runs");
    for i in 0..300 {
        let got = runs.get(&key(i)).unwrap();
        let got = got.as_deref().and_then(state_record);
        assert_eq!(got, model.get(&key(i)).map(Vec::as_slice), "key {i}");
    }
    let all: Vec<_> = runs
        .range(b"k/", b"k0", false, usize::MAX)
        .unwrap()
        .into_iter()
        .filter_map(|(k, v)| state_record(&v).map(|v| (k, v.to_vec())))
        .collect();
    assert_eq!(all, model.into_iter().collect::<Vec<_>>());
    // The merges into the oldest level kept one entry per key at most.
    assert!(stored < 64 * 100, "{stored} entries stored");
}

#[test]
fn an_orphan_run_is_removed_and_a_damaged_one_is_named() {
    let backend: Arc<dyn Backend> = Arc::new(MemBackend::new());
    let runs = Runs::open(INDEX, backend.clone()).unwrap();
    runs.add(pairs(&batch(0, 10, 1)), Vec::new(), false)
        .unwrap();
    // A run whose record never made it (a crash in between).
    let out = backend.run_create(RunSpace::Index, 99).unwrap();
    let mut orphan = RunBuilder::new(RunSpace::Index, 99, 4096, 1, out);
    orphan.push(b"z", b"1").unwrap();
    orphan.finish().unwrap();
    drop(runs);
    let runs = Runs::open(INDEX, backend.clone()).unwrap();
    assert_eq!(backend.run_ids(RunSpace::Index).unwrap(), vec![1]);
    assert_eq!(runs.get(&key(3)).unwrap(), Some(vec![3; 3]));
    // A listed run whose file is gone.
    backend.run_delete(RunSpace::Index, 1).unwrap();
    let err = Runs::open(INDEX, backend).unwrap_err().to_string();
    assert!(err.contains("index run 0000000000000001"), "{err}");
    assert!(err.contains("missing"), "{err}");
}

#[test]
fn a_stray_file_among_the_runs_is_named_and_nothing_is_deleted() {
    let dir = tempfile::tempdir().unwrap();
    let backend: Arc<dyn Backend> =
        Arc::new(crate::storage::disk::DiskBackend::open(dir.path(), 1 << 20).unwrap());
    let runs = Runs::open(STATE, backend.clone()).unwrap();
    runs.add(pairs(&batch(0, 5, 1)), Vec::new(), false).unwrap();
    drop(runs);
    let stray = dir.path().join("state").join("notes.txt");
    std::fs::write(&stray, b"mine").unwrap();
    let err = Runs::open(STATE, backend.clone()).unwrap_err().to_string();
    assert!(
        err.contains("notes.txt") && err.contains("move it elsewhere"),
        "{err}"
    );
    assert_eq!(std::fs::read(&stray).unwrap(), b"mine");
    std::fs::remove_file(&stray).unwrap();
    let runs = Runs::open(STATE, backend).unwrap();
    assert_eq!(runs.get(&key(3)).unwrap(), Some(vec![3; 3]));
}

/// One index run of `entries` on disk (id 1), closed: the directory (kept
/// alive), its backend and the run's file.
fn one_run_on_disk(
    entries: &[(Vec<u8>, Vec<u8>)],
) -> (tempfile::TempDir, Arc<dyn Backend>, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let backend: Arc<dyn Backend> =
        Arc::new(crate::storage::disk::DiskBackend::open(dir.path(), 1 << 20).unwrap());
    let runs = Runs::open(INDEX, backend.clone()).unwrap();
    runs.add(pairs(entries), Vec::new(), false).unwrap();
    drop(runs);
    let file = dir.path().join("index").join(format!("{:016x}.run", 1));
    (dir, backend, file)
}

#[test]
fn a_flipped_byte_in_a_run_is_an_error_not_an_answer() {
    let (_dir, backend, file) = one_run_on_disk(&batch(0, 50, 1));
    let mut bytes = std::fs::read(&file).unwrap();
    bytes[20] ^= 0x40;
    std::fs::write(&file, bytes).unwrap();
    let runs = Runs::open(INDEX, backend).unwrap();
    let err = runs.get(&key(0)).unwrap_err().to_string();
    assert!(err.contains("index run 0000000000000001"), "{err}");
    assert!(err.contains("checksum"), "{err}");
}

#[test]
fn a_run_larger_than_the_sync_step_reads_back_whole_after_a_reopen() {
    // About 24 MB of entries: the disk writer syncs several times on the
    // way (every 4 MiB) before its final sync and rename.
    let dir = tempfile::tempdir().unwrap();
    let backend: Arc<dyn Backend> =
        Arc::new(crate::storage::disk::DiskBackend::open(dir.path(), 1 << 20).unwrap());
    let entries: Vec<(Vec<u8>, Vec<u8>)> = (0..24_000u32)
        .map(|i| (key(i), vec![(i % 251) as u8; 1_000]))
        .collect();
    let runs = Runs::open(INDEX, backend.clone()).unwrap();
    runs.add(pairs(&entries), Vec::new(), true).unwrap();
    drop(runs);
    let runs = Runs::open(INDEX, backend).unwrap();
    let mut read = Vec::new();
    runs.for_each(|k, v| {
        read.push((k.to_vec(), v.to_vec()));
        Ok(())
    })
    .unwrap();
    assert_eq!(read.len(), entries.len());
    assert!(read == entries, "every entry reads back as written");
}

#[test]
fn a_run_with_the_older_filter_still_answers_and_merges_into_the_new_layout() {
    // Even keys in run 1, rewritten as a store of the older layout holds it.
    let first = batch(0, 2_000, 2);
    let (dir, backend, file) = one_run_on_disk(&first);
    let bytes = std::fs::read(&file).unwrap();
    assert_eq!(&bytes[bytes.len() - 8..], b"ASNTRUN3");
    let old = crate::storage::run_file::rewrite_filter(
        &bytes,
        first.iter().map(|(k, _)| k.as_slice()),
        None,
    );
    assert_eq!(&old[old.len() - 8..], b"ASNTRUN2");
    std::fs::write(&file, old).unwrap();

    // Read with the older filter's own hash: every key found, none invented.
    let runs = Runs::open(INDEX, backend.clone()).unwrap();
    for (k, v) in &first {
        assert_eq!(runs.get(k).unwrap().as_ref(), Some(v));
    }
    for i in (1..4_000).step_by(2) {
        assert_eq!(runs.get(&key(i)).unwrap(), None);
    }
    // Fifteen new runs (odd keys) make a level of 16: one merged run, in
    // the new layout, holds both.
    let mut model: std::collections::BTreeMap<_, _> = first.into_iter().collect();
    for b in 0..15u32 {
        let entries = batch(1 + 2 * b, 100, 30);
        model.extend(entries.iter().cloned());
        runs.add(pairs(&entries), Vec::new(), false).unwrap();
    }
    while runs.compact().unwrap() {}
    assert_eq!(runs.stats(), (1, model.len() as u64));
    drop(runs);
    let runs = Runs::open(INDEX, backend).unwrap();
    for (k, v) in &model {
        assert_eq!(runs.get(k).unwrap().as_ref(), Some(v));
    }
    let new_layout: Vec<u64> = std::fs::read_dir(dir.path().join("index"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "run"))
        .map(|p| std::fs::read(p).unwrap())
        .map(|b| u64::from(&b[b.len() - 8..] == b"ASNTRUN3"))
        .collect();
    assert_eq!(new_layout, vec![1], "one run left, in the new layout");
}

#[test]
fn a_blocked_filter_of_broken_blocks_is_named_not_read() {
    let (_dir, backend, file) = one_run_on_disk(&batch(0, 50, 1));
    let bytes = std::fs::read(&file).unwrap();
    std::fs::write(
        &file,
        crate::storage::run_file::rewrite_filter(&bytes, std::iter::empty(), Some(3)),
    )
    .unwrap();
    let err = Runs::open(INDEX, backend).unwrap_err().to_string();
    assert!(err.contains("index run 0000000000000001"), "{err}");
    assert!(err.contains("3 words, not whole 8-word blocks"), "{err}");
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]
    /// A merge of up to 19 runs (fan-outs that are and are not powers of
    /// two, empty runs among them) gives every key once, in order, with
    /// the value of the newest run that holds it.
    #[test]
    fn a_merge_gives_each_key_once_in_order_with_its_newest_value(
        runs in proptest::collection::vec(
            proptest::collection::btree_map(0u16..600, proptest::num::u8::ANY, 0..80),
            1..20,
        )
    ) {
        let backend: Arc<dyn Backend> = Arc::new(MemBackend::new());
        let store = Runs::open(INDEX, backend).unwrap();
        // Oldest first, as the indexer adds them; the list is newest first.
        let mut model = std::collections::BTreeMap::new();
        for run in &runs {
            let entries: Vec<(Vec<u8>, Vec<u8>)> = run
                .iter()
                .map(|(k, v)| (key(u32::from(*k)), vec![*v; 1 + usize::from(*v % 5)]))
                .collect();
            store
                .add_with(
                    entries.len().max(1),
                    |b| {
                        for (k, v) in &entries {
                            b.push(k, v)?;
                        }
                        Ok(())
                    },
                    Vec::new(),
                    false,
                )
                .unwrap();
            model.extend(entries);
        }
        let inputs: Vec<Arc<RunReader>> = store.list().iter().map(|r| r.reader.clone()).collect();
        proptest::prop_assert_eq!(inputs.len(), runs.len());
        let mut merged = Vec::new();
        merge(&inputs, |k, v| {
            merged.push((k.to_vec(), v.to_vec()));
            Ok(())
        })
        .unwrap();
        let want: Vec<(Vec<u8>, Vec<u8>)> = model.into_iter().collect();
        proptest::prop_assert_eq!(merged, want);
    }
}
