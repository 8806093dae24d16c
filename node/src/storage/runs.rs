//! Immutable sorted runs, merged in the background: a small log-structured
//! merge tree whose files the backend keeps (one directory per
//! [`RunSpace`]) and whose list lives in sled (`<list prefix><id>` → level
//! and entry count). Two kinds: the query indexes ([`INDEX`]) and the
//! persisted ledger state ([`STATE`]).
//!
//! Why: a record written as its own sled key costs 13–29 µs of CPU
//! (BENCHMARKS.md), paid by every validator for every state write and index
//! entry. Written as part of a sorted run, it costs a copy into a block
//! and, later, one copy per merge level.
//!
//! - The writer (indexer, persister) adds one level-0 run per batch; the
//!   run's file is durable before its record and the writer's cursor are
//!   written together, so a crash leaves either the whole batch or an
//!   orphan file, removed at the next open.
//! - When a level holds [`Kind::fanout`] runs they are merged into one run of the
//!   next level; the new record and the removal of the old ones are one
//!   durable sled batch, and only then are the old files deleted.
//! - Readers take the list of runs as it is (an `Arc`), so a merge never
//!   pulls a file from under a read: open files stay readable after their
//!   deletion.
//! - A key in several runs is read from the newest. Newer runs have higher
//!   ids: a merge takes a full level only when every level below it is
//!   empty (each add is followed by merges until no level is full), so the
//!   merged run is newer than everything above it and older than nothing.
//! - State deletions are tombstones; a merge into the oldest level (no run
//!   above it) drops them.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use serde::{Deserialize, Serialize};

use super::backend::{Backend, Entries, Op, RunSpace, StoreError};
use super::run_file::{RunBuilder, RunCursor, RunReader};
use super::run_filter::KeyHash;
use super::tournament::{Contender, Tournament};
use super::{decode, enc, keys};

/// One kind of runs.
#[derive(Debug, Clone, Copy)]
pub struct Kind {
    pub space: RunSpace,
    /// The sled prefix of its run list.
    pub list: &'static [u8],
    /// Payload size at which a data block is closed: a point read reads one
    /// block per run.
    pub block_bytes: usize,
    /// Values a merge into the oldest level drops (deletions).
    pub tombstone: Option<fn(&[u8]) -> bool>,
    /// Runs of one level merged into one run of the next: more means fewer
    /// levels, so each entry is rewritten fewer times, and more runs for a
    /// read to look in.
    pub fanout: usize,
}

/// The query indexes: read in ranges, never deleted. A RecordUse of
/// thousands of uses writes thousands of entries, and merging them was a
/// fifth of a validator's CPU under that load at a fan-out of 8: 16 merges
/// each entry through fewer levels (BENCHMARKS.md), and a query's range
/// read, a few pages, looks in more runs.
pub const INDEX: Kind = Kind {
    space: RunSpace::Index,
    list: keys::INDEX_RUNS,
    block_bytes: 32 * 1024,
    tombstone: None,
    fanout: 16,
};

/// The persisted state: point reads on cache misses, deletions.
pub const STATE: Kind = Kind {
    space: RunSpace::State,
    list: keys::STATE_RUNS,
    block_bytes: 8 * 1024,
    tombstone: Some(is_deleted),
    fanout: 8,
};

/// A state value as stored in a run: `[1] ‖ value`, or `[0]` when deleted.
pub fn state_value(v: Option<&[u8]>) -> Vec<u8> {
    match v {
        Some(v) => [&[1u8][..], v].concat(),
        None => vec![0],
    }
}

fn is_deleted(v: &[u8]) -> bool {
    v.first() != Some(&1)
}

/// The value a state run holds: `None` when deleted.
pub fn state_record(v: &[u8]) -> Option<&[u8]> {
    match v.split_first() {
        Some((1, rest)) => Some(rest),
        _ => None,
    }
}

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
    kind: Kind,
    backend: Arc<dyn Backend>,
    live: RwLock<RunList>,
    next_id: AtomicU64,
}

fn meta_key(kind: &Kind, id: u64) -> Vec<u8> {
    [kind.list, &id.to_be_bytes()].concat()
}

fn run_metas(kind: &Kind, backend: &dyn Backend) -> Result<Vec<(u64, RunMeta)>, StoreError> {
    let rows = backend.range(kind.list, &keys::prefix_end(kind.list), false, usize::MAX)?;
    rows.into_iter()
        .map(|(k, v)| {
            let id = k
                .get(kind.list.len()..)
                .and_then(|b| b.try_into().ok())
                .map(u64::from_be_bytes)
                .ok_or_else(|| StoreError::Corrupt {
                    what: format!("{} run list", kind.space.name()),
                    why: format!("a malformed key {}", hex::encode(&k)),
                })?;
            Ok((id, decode::<RunMeta>("run record", &v)?))
        })
        .collect()
}

impl Runs {
    /// No runs (indexing off, or before [`Runs::open`]).
    pub fn empty(kind: Kind, backend: Arc<dyn Backend>) -> Runs {
        Runs {
            kind,
            backend,
            live: RwLock::new(Arc::new(Vec::new())),
            next_id: AtomicU64::new(1),
        }
    }

    /// Opens every listed run and removes run files no record lists (a
    /// crash between a run's write and its record, or after a merge).
    /// Fails if a listed run is missing or damaged.
    pub fn open(kind: Kind, backend: Arc<dyn Backend>) -> Result<Runs, StoreError> {
        let metas = run_metas(&kind, backend.as_ref())?;
        let files = backend.run_ids(kind.space)?;
        let mut live = Vec::new();
        for (id, meta) in &metas {
            if files.binary_search(id).is_err() {
                return Err(StoreError::Corrupt {
                    what: format!("{} run {id:016x}", kind.space.name()),
                    why: "listed but its file is missing".into(),
                });
            }
            let reader = RunReader::open(kind.space, *id, backend.run_open(kind.space, *id)?)?;
            live.push(LiveRun {
                level: meta.level,
                reader: Arc::new(reader),
            });
        }
        for id in &files {
            if metas.binary_search_by_key(id, |(m, _)| *m).is_err() {
                backend.run_delete(kind.space, *id)?;
            }
        }
        let last = files.last().copied().unwrap_or(0);
        live.reverse();
        Ok(Runs {
            kind,
            backend,
            live: RwLock::new(Arc::new(live)),
            next_id: AtomicU64::new(last + 1),
        })
    }

    /// Removes every run with `ops` (e.g. the cursor's reset) in one
    /// durable batch; the files go after it.
    pub fn wipe(kind: Kind, backend: &dyn Backend, mut ops: Vec<Op>) -> Result<(), StoreError> {
        for (id, _) in run_metas(&kind, backend)? {
            ops.push((meta_key(&kind, id), None));
        }
        backend.apply(ops, true)?;
        for id in backend.run_ids(kind.space)? {
            backend.run_delete(kind.space, id)?;
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

    /// Calls `f` with every (key, value) of the runs in key order (the
    /// newest value of each key), one block per run in memory.
    pub fn for_each(
        &self,
        f: impl FnMut(&[u8], &[u8]) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        let readers: Vec<Arc<RunReader>> = self.list().iter().map(|r| r.reader.clone()).collect();
        merge(&readers, f)
    }

    fn builder(&self, id: u64, expected: usize) -> Result<RunBuilder, StoreError> {
        let out = self.backend.run_create(self.kind.space, id)?;
        Ok(RunBuilder::new(
            self.kind.space,
            id,
            self.kind.block_bytes,
            expected,
            out,
        ))
    }

    fn reader(&self, id: u64) -> Result<Arc<RunReader>, StoreError> {
        let file = self.backend.run_open(self.kind.space, id)?;
        Ok(Arc::new(RunReader::open(self.kind.space, id, file)?))
    }

    /// Writes `entries` (strictly ascending keys) as one run, durable, then
    /// its record together with `ops` in one batch (flushed when
    /// `durable`). Nothing but `ops` when there are no entries.
    pub fn add<'a>(
        &self,
        entries: impl ExactSizeIterator<Item = (&'a [u8], &'a [u8])>,
        ops: Vec<Op>,
        durable: bool,
    ) -> Result<(), StoreError> {
        let expected = entries.len();
        if expected == 0 {
            return self.backend.apply(ops, durable);
        }
        self.add_with(
            expected,
            |run| {
                for (k, v) in entries {
                    run.push(k, v)?;
                }
                Ok(())
            },
            ops,
            durable,
        )
    }

    /// [`Runs::add`] with the entries pushed by `fill`, which may read them
    /// in pages.
    pub fn add_with(
        &self,
        expected: usize,
        fill: impl FnOnce(&mut RunBuilder) -> Result<(), StoreError>,
        mut ops: Vec<Op>,
        durable: bool,
    ) -> Result<(), StoreError> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let mut run = self.builder(id, expected)?;
        fill(&mut run)?;
        let n = run.finish()?;
        let meta = RunMeta {
            level: 0,
            entries: n,
        };
        ops.push((meta_key(&self.kind, id), Some(enc(&meta))));
        self.backend.apply(ops, durable)?;
        let reader = self.reader(id)?;
        self.replace(|live| live.insert(0, LiveRun { level: 0, reader }));
        Ok(())
    }

    /// Merges the runs of the lowest level that holds [`Kind::fanout`] of them;
    /// `false` when no level does.
    pub fn compact(&self) -> Result<bool, StoreError> {
        let live = self.list();
        let Some(level) = (0..=u8::MAX)
            .find(|l| live.iter().filter(|r| r.level == *l).count() >= self.kind.fanout)
        else {
            return Ok(false);
        };
        let inputs: Vec<Arc<RunReader>> = live
            .iter()
            .filter(|r| r.level == level)
            .map(|r| r.reader.clone())
            .collect();
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let upto: u64 = inputs.iter().map(|r| r.entries).sum();
        let mut out = self.builder(id, usize::try_from(upto).unwrap_or(usize::MAX))?;
        // Into the oldest level, deletions have nothing left to hide.
        let oldest = !live.iter().any(|r| r.level > level);
        let drop = self.kind.tombstone.filter(|_| oldest);
        merge(&inputs, |k, v| match drop {
            Some(deleted) if deleted(v) => Ok(()),
            _ => out.push(k, v),
        })?;
        let entries = out.finish()?;
        let next = level.saturating_add(1);
        let mut ops = vec![(
            meta_key(&self.kind, id),
            Some(enc(&RunMeta {
                level: next,
                entries,
            })),
        )];
        ops.extend(inputs.iter().map(|r| (meta_key(&self.kind, r.id), None)));
        // Durable before the inputs' files go: a crash must never find a
        // record of a deleted run.
        self.backend.apply(ops, true)?;
        let reader = self.reader(id)?;
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
            self.backend.run_delete(self.kind.space, id)?;
        }
        Ok(true)
    }

    pub fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        let hash = KeyHash::new(key);
        for run in self.list().iter() {
            if let Some(v) = run.reader.get(&hash)? {
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

/// Deletes every key under `prefix`; whether there was any.
pub fn drop_table(backend: &dyn Backend, prefix: &[u8]) -> Result<bool, StoreError> {
    let end = keys::prefix_end(prefix);
    let mut any = false;
    loop {
        let rows = backend.range(prefix, &end, false, 10_000)?;
        if rows.is_empty() {
            return Ok(any);
        }
        any = true;
        backend.apply(rows.into_iter().map(|(k, _)| (k, None)).collect(), false)?;
    }
}

/// Calls `out` with every (key, value) of `inputs` (newest first) in key
/// order, the newest value of each key, the inputs meeting in a
/// [`Tournament`]. Nothing is copied per entry but the key last given out:
/// each input is read a block at a time and its entries borrowed from the
/// block.
pub(crate) fn merge(
    inputs: &[Arc<RunReader>],
    mut out: impl FnMut(&[u8], &[u8]) -> Result<(), StoreError>,
) -> Result<(), StoreError> {
    let mut runs: Vec<RunInput> = Vec::with_capacity(inputs.len());
    for run in inputs {
        let mut cursor = RunCursor::new(run.clone());
        let live = cursor.advance()?;
        runs.push(RunInput { cursor, live });
    }
    let Some(mut tree) = Tournament::new(&runs) else {
        return Ok(());
    };
    let mut last: Option<Vec<u8>> = None;
    while let Some(w) = tree.winner(&runs) {
        let run = &mut runs[w];
        let key = run.cursor.key();
        // An older run's entry of the key just given out is passed over.
        if last.as_deref() != Some(key) {
            out(key, run.cursor.value())?;
            let buf = last.get_or_insert_with(Vec::new);
            buf.clear();
            buf.extend_from_slice(key);
        }
        run.live = run.cursor.advance()?;
        tree.replay(w, &runs);
    }
    Ok(())
}

/// A run being merged: its cursor, and whether it has an entry left.
struct RunInput {
    cursor: RunCursor,
    live: bool,
}

impl Contender for RunInput {
    fn head(&self) -> Option<&[u8]> {
        self.live.then(|| self.cursor.key())
    }
}

#[cfg(test)]
#[path = "runs_tests.rs"]
mod tests;
