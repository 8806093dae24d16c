//! The query indexes as immutable sorted runs, merged in the background: a
//! small log-structured merge tree whose files the backend keeps
//! (`DATA/index/` on disk) and whose list lives in sled (`ir/<id>` → level
//! and entry count).
//!
//! Why: an index entry written as its own sled key costs 13–29 µs of CPU
//! (BENCHMARKS.md), paid by every validator for every tx and use. Written as
//! part of a sorted run, an entry costs a copy into a block and, later, one
//! copy per merge level.
//!
//! - The indexer adds one level-0 run per batch of blocks; the run's file
//!   is durable before its `ir/` record and the index cursor are written
//!   together, so a crash leaves either the whole batch or an orphan file,
//!   removed at the next open.
//! - When a level holds [`FANOUT`] runs they are merged into one run of the
//!   next level; the new record and the removal of the old ones are one
//!   durable sled batch, and only then are the old files deleted.
//! - Readers take the list of runs as it is (an `Arc`), so a merge never
//!   pulls a file from under a read: open files stay readable after their
//!   deletion.
//! - Keys are unique (each names a tx, a use or a (height, tx, event)
//!   position), so a key is in at most one run; were it in two, the newer
//!   run wins.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use serde::{Deserialize, Serialize};

use super::backend::{Backend, Entries, Op, StoreError};
use super::run_file::{RunBuilder, RunIter, RunReader};
use super::{decode, enc, keys};

/// Runs of one level merged into one of the next.
pub const FANOUT: usize = 8;

#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
struct RunMeta {
    level: u8,
    entries: u64,
}

#[derive(Debug, Clone)]
struct LiveRun {
    level: u8,
    reader: Arc<RunReader>,
}

/// The live runs, newest first.
type RunList = Arc<Vec<LiveRun>>;

#[derive(Debug)]
pub struct Runs {
    backend: Arc<dyn Backend>,
    live: RwLock<RunList>,
    next_id: AtomicU64,
}

fn meta_key(id: u64) -> Vec<u8> {
    [keys::INDEX_RUNS, &id.to_be_bytes()].concat()
}

fn run_metas(backend: &dyn Backend) -> Result<Vec<(u64, RunMeta)>, StoreError> {
    let rows = backend.range(
        keys::INDEX_RUNS,
        &keys::prefix_end(keys::INDEX_RUNS),
        false,
        usize::MAX,
    )?;
    rows.into_iter()
        .map(|(k, v)| {
            let id = k
                .get(keys::INDEX_RUNS.len()..)
                .and_then(|b| b.try_into().ok())
                .map(u64::from_be_bytes)
                .ok_or_else(|| StoreError::Corrupt {
                    what: "index run list".into(),
                    why: format!("a malformed key {}", hex::encode(&k)),
                })?;
            Ok((id, decode::<RunMeta>("index run record", &v)?))
        })
        .collect()
}

impl Runs {
    /// No runs (indexing off, or before [`Runs::open`]).
    pub fn empty(backend: Arc<dyn Backend>) -> Runs {
        Runs {
            backend,
            live: RwLock::new(Arc::new(Vec::new())),
            next_id: AtomicU64::new(1),
        }
    }

    /// Opens every listed run and removes run files no record lists (a
    /// crash between a run's write and its record, or after a merge).
    /// Fails if a listed run is missing or damaged.
    pub fn open(backend: Arc<dyn Backend>) -> Result<Runs, StoreError> {
        let metas = run_metas(backend.as_ref())?;
        let files = backend.run_ids()?;
        let mut live = Vec::new();
        for (id, meta) in &metas {
            if files.binary_search(id).is_err() {
                return Err(StoreError::Corrupt {
                    what: format!("index run {id:016x}"),
                    why: "listed but its file is missing".into(),
                });
            }
            let reader = RunReader::open(*id, backend.run_open(*id)?)?;
            live.push(LiveRun {
                level: meta.level,
                reader: Arc::new(reader),
            });
        }
        for id in &files {
            if metas.binary_search_by_key(id, |(m, _)| *m).is_err() {
                backend.run_delete(*id)?;
            }
        }
        let last = files.last().copied().unwrap_or(0);
        live.reverse();
        Ok(Runs {
            backend,
            live: RwLock::new(Arc::new(live)),
            next_id: AtomicU64::new(last + 1),
        })
    }

    /// Removes every run with `ops` (e.g. the cursor's reset) in one
    /// durable batch; the files go after it.
    pub fn wipe(backend: &dyn Backend, mut ops: Vec<Op>) -> Result<(), StoreError> {
        for (id, _) in run_metas(backend)? {
            ops.push((meta_key(id), None));
        }
        backend.apply(ops, true)?;
        for id in backend.run_ids()? {
            backend.run_delete(id)?;
        }
        Ok(())
    }

    fn list(&self) -> RunList {
        self.live.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    fn replace(&self, edit: impl FnOnce(&mut Vec<LiveRun>)) {
        let mut live = self.live.write().unwrap_or_else(|p| p.into_inner());
        let mut next = live.as_ref().clone();
        edit(&mut next);
        *live = Arc::new(next);
    }

    /// Writes `entries` (strictly ascending keys) as one run, durable, then
    /// its record together with `ops` in one batch. Nothing but `ops` when
    /// there are no entries.
    pub fn add(&self, entries: &[(Vec<u8>, Vec<u8>)], mut ops: Vec<Op>) -> Result<(), StoreError> {
        if entries.is_empty() {
            return self.backend.apply(ops, false);
        }
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let mut run = RunBuilder::new(id, self.backend.run_create(id)?);
        for (k, v) in entries {
            run.push(k, v)?;
        }
        let n = run.finish()?;
        let meta = RunMeta {
            level: 0,
            entries: n,
        };
        ops.push((meta_key(id), Some(enc(&meta))));
        self.backend.apply(ops, false)?;
        let reader = Arc::new(RunReader::open(id, self.backend.run_open(id)?)?);
        self.replace(|live| live.insert(0, LiveRun { level: 0, reader }));
        Ok(())
    }

    /// Merges the runs of the lowest level that holds [`FANOUT`] of them;
    /// `false` when no level does.
    pub fn compact(&self) -> Result<bool, StoreError> {
        let live = self.list();
        let Some(level) =
            (0..=u8::MAX).find(|l| live.iter().filter(|r| r.level == *l).count() >= FANOUT)
        else {
            return Ok(false);
        };
        let inputs: Vec<Arc<RunReader>> = live
            .iter()
            .filter(|r| r.level == level)
            .map(|r| r.reader.clone())
            .collect();
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let mut out = RunBuilder::new(id, self.backend.run_create(id)?);
        merge(&inputs, |k, v| out.push(k, v))?;
        let entries = out.finish()?;
        let next = level.saturating_add(1);
        let mut ops = vec![(
            meta_key(id),
            Some(enc(&RunMeta {
                level: next,
                entries,
            })),
        )];
        ops.extend(inputs.iter().map(|r| (meta_key(r.id), None)));
        // Durable before the inputs' files go: a crash must never find a
        // record of a deleted run.
        self.backend.apply(ops, true)?;
        let reader = Arc::new(RunReader::open(id, self.backend.run_open(id)?)?);
        let gone: Vec<u64> = inputs.iter().map(|r| r.id).collect();
        self.replace(|live| {
            live.retain(|r| !gone.contains(&r.reader.id));
            live.insert(
                0,
                LiveRun {
                    level: next,
                    reader,
                },
            );
        });
        for id in gone {
            self.backend.run_delete(id)?;
        }
        Ok(true)
    }

    pub fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        for run in self.list().iter() {
            if let Some(v) = run.reader.get(key)? {
                return Ok(Some(v));
            }
        }
        Ok(None)
    }

    /// Entries with `from <= key < to` across all runs, ascending
    /// (descending when `rev`), at most `limit`.
    pub fn range(
        &self,
        from: &[u8],
        to: &[u8],
        rev: bool,
        limit: usize,
    ) -> Result<Entries, StoreError> {
        let mut all = Vec::new();
        for run in self.list().iter() {
            all.extend(run.reader.range(from, to, rev, limit)?);
        }
        // Newest run first, and a stable sort: a duplicate keeps the newest.
        all.sort_by(|a, b| a.0.cmp(&b.0));
        all.dedup_by(|later, first| later.0 == first.0);
        if rev {
            all.reverse();
        }
        all.truncate(limit);
        Ok(all)
    }

    /// (live runs, entries in them).
    pub fn stats(&self) -> (usize, u64) {
        let live = self.list();
        (live.len(), live.iter().map(|r| r.reader.entries).sum())
    }
}

/// Feeds the union of `inputs` (newest first) to `out` in key order; a key
/// in several inputs is given once, from the newest.
fn merge(
    inputs: &[Arc<RunReader>],
    mut out: impl FnMut(&[u8], &[u8]) -> Result<(), StoreError>,
) -> Result<(), StoreError> {
    let mut iters: Vec<RunIter> = inputs.iter().map(|r| RunIter::new(r.clone())).collect();
    let mut heads: Vec<Option<Vec<u8>>> = Vec::with_capacity(iters.len());
    let mut heap = BinaryHeap::new();
    for (i, it) in iters.iter_mut().enumerate() {
        match it.next().transpose()? {
            Some((k, v)) => {
                heap.push(Reverse((k, i)));
                heads.push(Some(v));
            }
            None => heads.push(None),
        }
    }
    let mut last: Option<Vec<u8>> = None;
    while let Some(Reverse((k, i))) = heap.pop() {
        let v = heads.get_mut(i).and_then(Option::take).unwrap_or_default();
        if last.as_deref() != Some(k.as_slice()) {
            out(&k, &v)?;
            last = Some(k);
        }
        if let Some(it) = iters.get_mut(i) {
            if let Some((nk, nv)) = it.next().transpose()? {
                heap.push(Reverse((nk, i)));
                if let Some(h) = heads.get_mut(i) {
                    *h = Some(nv);
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;
    use crate::storage::mem::MemBackend;

    fn key(i: u32) -> Vec<u8> {
        format!("k/{i:08}").into_bytes()
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
        let runs = Runs::open(backend.clone()).unwrap();
        let mut model = std::collections::BTreeMap::new();
        // 20 batches of interleaved keys: merges at level 0 and the
        // entries of one run spread across another's key range.
        for b in 0..20u32 {
            let entries = batch(b, 400, 20);
            for (k, v) in &entries {
                model.insert(k.clone(), v.clone());
            }
            runs.add(&entries, Vec::new()).unwrap();
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
        let reopened = Runs::open(backend).unwrap();
        check(&reopened);
    }

    #[test]
    fn an_orphan_run_is_removed_and_a_damaged_one_is_named() {
        let backend: Arc<dyn Backend> = Arc::new(MemBackend::new());
        let runs = Runs::open(backend.clone()).unwrap();
        runs.add(&batch(0, 10, 1), Vec::new()).unwrap();
        // A run whose record never made it (a crash in between).
        let mut orphan = RunBuilder::new(99, backend.run_create(99).unwrap());
        orphan.push(b"z", b"1").unwrap();
        orphan.finish().unwrap();
        drop(runs);
        let runs = Runs::open(backend.clone()).unwrap();
        assert_eq!(backend.run_ids().unwrap(), vec![1]);
        assert_eq!(runs.get(&key(3)).unwrap(), Some(vec![3; 3]));
        // A listed run whose file is gone.
        backend.run_delete(1).unwrap();
        let err = Runs::open(backend).unwrap_err().to_string();
        assert!(err.contains("index run 0000000000000001"), "{err}");
        assert!(err.contains("missing"), "{err}");
    }

    #[test]
    fn a_flipped_byte_in_a_run_is_an_error_not_an_answer() {
        let dir = tempfile::tempdir().unwrap();
        let backend: Arc<dyn Backend> =
            Arc::new(crate::storage::disk::DiskBackend::open(dir.path(), 1 << 20).unwrap());
        let runs = Runs::open(backend.clone()).unwrap();
        runs.add(&batch(0, 50, 1), Vec::new()).unwrap();
        drop(runs);
        let file = dir.path().join("index").join(format!("{:016x}.run", 1));
        let mut bytes = std::fs::read(&file).unwrap();
        bytes[20] ^= 0x40;
        std::fs::write(&file, bytes).unwrap();
        let runs = Runs::open(backend).unwrap();
        let err = runs.get(&key(0)).unwrap_err().to_string();
        assert!(err.contains("index run 0000000000000001"), "{err}");
        assert!(err.contains("checksum"), "{err}");
    }
}
