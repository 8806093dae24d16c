//! The on-disk backend: the block journal in `DATA/journal/` and one sled
//! tree in `DATA/sled/` for small records (state checkpoint, indexes,
//! consensus scratch, pointers), and sorted runs as files: the query
//! indexes' in `DATA/index/`, the persisted state's in `DATA/state/`.

use std::io::Write;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use super::backend::{
    Backend, Entries, JournalRecord, Op, RunFile, RunSpace, RunWriter, StoreError,
};
use super::journal::{Journal, JournalConfig};

/// Segment size of the block journal.
pub const JOURNAL_SEGMENT_BYTES: u64 = 64 * 1024 * 1024;

pub struct DiskBackend {
    path: PathBuf,
    db: sled::Db,
    tree: sled::Tree,
    journal: RwLock<Journal>,
    /// `DATA/`: each [`RunSpace`]'s files are in a directory of its name.
    runs: PathBuf,
}

impl std::fmt::Debug for DiskBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "DiskBackend({})", self.path.display())
    }
}

fn poisoned() -> StoreError {
    StoreError::Corrupt {
        what: "the journal lock".into(),
        why: "poisoned by a panic".into(),
    }
}

impl DiskBackend {
    /// Opens (or creates) the store under `path` with `cache_bytes` of sled
    /// page cache. A torn last journal record (a crash mid-append) is
    /// dropped; that block was never acknowledged and comes back from peers.
    pub fn open(path: &Path, cache_bytes: u64) -> Result<DiskBackend, StoreError> {
        let open_err = |source| StoreError::Open {
            path: path.display().to_string(),
            source,
        };
        // A store from before the journal kept everything in one sled
        // database directly under `path`.
        if path.join("conf").exists() && !path.join("journal").exists() {
            return Err(StoreError::OldLayout {
                path: path.display().to_string(),
            });
        }
        let db = open_sled(&path.join("sled"), cache_bytes).map_err(|e| match e {
            e if is_lock_held(&e) => StoreError::InUse {
                path: path.display().to_string(),
            },
            e => open_err(e),
        })?;
        let tree = db.open_tree("assent").map_err(open_err)?;
        let (journal, report) = Journal::open(
            &path.join("journal"),
            JournalConfig {
                segment_bytes: JOURNAL_SEGMENT_BYTES,
            },
        )?;
        for space in RunSpace::ALL {
            prepare_run_dir(&path.join(space.name()))?;
        }
        if let Some(h) = report.dropped_torn_tail {
            tracing::warn!(target: "assent::storage", height = h, "dropped a torn last record of the block journal (a crash during its write); the block comes back from peers");
        }
        Ok(DiskBackend {
            path: path.to_path_buf(),
            db,
            tree,
            journal: RwLock::new(journal),
            runs: path.to_path_buf(),
        })
    }

    fn run_dir(&self, space: RunSpace) -> PathBuf {
        self.runs.join(space.name())
    }

    fn run_path(&self, space: RunSpace, id: u64) -> PathBuf {
        self.run_dir(space).join(format!("{id:016x}.run"))
    }
}

fn run_io(path: &Path) -> impl FnOnce(std::io::Error) -> StoreError + '_ {
    move |source| StoreError::RunIo {
        path: path.display().to_string(),
        source,
    }
}

/// Creates the run directory and removes runs a crash left half-written.
fn prepare_run_dir(dir: &Path) -> Result<(), StoreError> {
    std::fs::create_dir_all(dir).map_err(run_io(dir))?;
    for e in std::fs::read_dir(dir).map_err(run_io(dir))? {
        let p = e.map_err(run_io(dir))?.path();
        if p.extension().is_some_and(|x| x == "tmp") {
            std::fs::remove_file(&p).map_err(run_io(&p))?;
        }
    }
    Ok(())
}

/// Bytes a run writer lets the kernel hold dirty before it syncs them.
///
/// A merge writes a run of up to hundreds of MB. Left to the end, its dirty
/// pages went to disk in one burst, and the consensus path's own small
/// syncs (journal, consensus scratch) waited behind it: on a devnet of
/// four validators on one disk, the committed rate fell by a third for
/// seconds at a time, and not on tmpfs (BENCHMARKS.md). Syncing as it goes
/// keeps each burst small, as RocksDB's `bytes_per_sync` does.
const SYNC_EVERY_BYTES: usize = 4 << 20;

/// A run written to `<id>.run.tmp`, synced as it grows and at the end,
/// then renamed into place.
struct DiskRunWriter {
    tmp: PathBuf,
    path: PathBuf,
    out: std::io::BufWriter<std::fs::File>,
    /// Bytes written since the last sync.
    unsynced: usize,
}

impl RunWriter for DiskRunWriter {
    fn write(&mut self, bytes: &[u8]) -> Result<(), StoreError> {
        self.out.write_all(bytes).map_err(run_io(&self.tmp))?;
        self.unsynced += bytes.len();
        if self.unsynced >= SYNC_EVERY_BYTES {
            self.out.flush().map_err(run_io(&self.tmp))?;
            self.out.get_ref().sync_data().map_err(run_io(&self.tmp))?;
            self.unsynced = 0;
        }
        Ok(())
    }

    fn finish(self: Box<Self>) -> Result<(), StoreError> {
        let DiskRunWriter { tmp, path, out, .. } = *self;
        let file = out.into_inner().map_err(|e| StoreError::RunIo {
            path: tmp.display().to_string(),
            source: e.into_error(),
        })?;
        file.sync_all().map_err(run_io(&tmp))?;
        std::fs::rename(&tmp, &path).map_err(run_io(&path))?;
        if let Some(dir) = path.parent() {
            std::fs::File::open(dir)
                .and_then(|d| d.sync_all())
                .map_err(run_io(dir))?;
        }
        Ok(())
    }
}

#[derive(Debug)]
struct DiskRunFile {
    path: PathBuf,
    file: std::fs::File,
    len: u64,
}

impl RunFile for DiskRunFile {
    fn size(&self) -> u64 {
        self.len
    }

    fn read_at(&self, offset: u64, len: usize) -> Result<Vec<u8>, StoreError> {
        let mut buf = vec![0; len];
        self.file
            .read_exact_at(&mut buf, offset)
            .map_err(run_io(&self.path))?;
        Ok(buf)
    }
}

/// How long an open waits for sled's file lock. sled releases it from a
/// background thread a moment after the previous handle is dropped, so a
/// restart in the same process (or right after a stop) may find it still
/// held; another live process holds it for good and gets `InUse`.
const LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

fn open_sled(dir: &Path, cache_bytes: u64) -> Result<sled::Db, sled::Error> {
    let deadline = std::time::Instant::now() + LOCK_WAIT;
    loop {
        let opened = sled::Config::new()
            .path(dir)
            .cache_capacity(cache_bytes)
            // About a quarter less CPU per insert than the default LowSpace
            // mode (measured: 18,000 random inserts 175 ms vs 240 ms).
            .mode(sled::Mode::HighThroughput)
            .open();
        match opened {
            Err(e) if is_lock_held(&e) && std::time::Instant::now() < deadline => {
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            other => return other,
        }
    }
}

/// sled reports a held lock as an `Other` I/O error whose message says so
/// (its source is the `WouldBlock` of `flock`).
fn is_lock_held(e: &sled::Error) -> bool {
    matches!(e, sled::Error::Io(io) if io.to_string().contains("could not acquire lock"))
}

impl Backend for DiskBackend {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.tree.get(key)?.map(|v| v.to_vec()))
    }

    fn range(
        &self,
        from: &[u8],
        to: &[u8],
        rev: bool,
        limit: usize,
    ) -> Result<Entries, StoreError> {
        let it = self.tree.range(from.to_vec()..to.to_vec());
        let collect = |item: Result<(sled::IVec, sled::IVec), sled::Error>| {
            item.map(|(k, v)| (k.to_vec(), v.to_vec()))
                .map_err(StoreError::from)
        };
        if rev {
            it.rev().take(limit).map(collect).collect()
        } else {
            it.take(limit).map(collect).collect()
        }
    }

    fn apply(&self, ops: Vec<Op>, durable: bool) -> Result<(), StoreError> {
        let mut batch = sled::Batch::default();
        for (k, v) in ops {
            match v {
                Some(v) => batch.insert(k, v),
                None => batch.remove(k),
            }
        }
        self.tree.apply_batch(batch)?;
        if durable {
            self.db.flush()?;
        }
        Ok(())
    }

    fn journal_append(&self, records: &[JournalRecord<'_>]) -> Result<(), StoreError> {
        let mut j = self.journal.write().map_err(|_| poisoned())?;
        for (kind, h, parts) in records {
            j.append_parts(*kind, *h, parts)?;
        }
        j.sync()?;
        Ok(())
    }

    fn journal_get(&self, kind: u8, height: u64) -> Result<Option<Vec<u8>>, StoreError> {
        let j = self.journal.read().map_err(|_| poisoned())?;
        Ok(j.get(kind, height)?)
    }

    fn journal_tip(&self) -> Option<u64> {
        self.journal.read().ok().and_then(|j| j.last_block_height())
    }

    fn journal_bytes(&self) -> u64 {
        self.journal.read().map(|j| j.bytes_written()).unwrap_or(0)
    }

    fn run_create(&self, space: RunSpace, id: u64) -> Result<Box<dyn RunWriter>, StoreError> {
        let path = self.run_path(space, id);
        let tmp = path.with_extension("run.tmp");
        let file = std::fs::File::create(&tmp).map_err(run_io(&tmp))?;
        Ok(Box::new(DiskRunWriter {
            tmp,
            path,
            out: std::io::BufWriter::with_capacity(1 << 16, file),
            unsynced: 0,
        }))
    }

    fn run_open(&self, space: RunSpace, id: u64) -> Result<Arc<dyn RunFile>, StoreError> {
        let path = self.run_path(space, id);
        let file = std::fs::File::open(&path).map_err(run_io(&path))?;
        let len = file.metadata().map_err(run_io(&path))?.len();
        Ok(Arc::new(DiskRunFile { path, file, len }))
    }

    fn run_ids(&self, space: RunSpace) -> Result<Vec<u64>, StoreError> {
        let dir = self.run_dir(space);
        let mut ids = Vec::new();
        for e in std::fs::read_dir(&dir).map_err(run_io(&dir))? {
            let p = e.map_err(run_io(&dir))?.path();
            let id = p
                .file_name()
                .and_then(|n| n.to_str())
                .and_then(|n| n.strip_suffix(".run"))
                .and_then(|n| u64::from_str_radix(n, 16).ok());
            match id {
                Some(id) => ids.push(id),
                None => {
                    return Err(StoreError::Corrupt {
                        what: format!("run directory {}", dir.display()),
                        why: format!(
                            "unexpected file {} (runs are named like 0000000000000001.run); move it elsewhere and restart",
                            p.display()
                        ),
                    })
                }
            }
        }
        ids.sort_unstable();
        Ok(ids)
    }

    fn run_delete(&self, space: RunSpace, id: u64) -> Result<(), StoreError> {
        let path = self.run_path(space, id);
        match std::fs::remove_file(&path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(run_io(&path)(e)),
            _ => Ok(()),
        }
    }

    fn describe(&self) -> String {
        self.path.display().to_string()
    }

    fn size_on_disk(&self) -> u64 {
        let journal = self.journal.read().map(|j| j.size_on_disk()).unwrap_or(0);
        let runs: u64 = RunSpace::ALL
            .iter()
            .filter_map(|s| std::fs::read_dir(self.run_dir(*s)).ok())
            .map(|d| {
                d.filter_map(|e| e.ok()?.metadata().ok())
                    .map(|m| m.len())
                    .sum::<u64>()
            })
            .sum();
        self.db.size_on_disk().unwrap_or(0) + journal + runs
    }
}
