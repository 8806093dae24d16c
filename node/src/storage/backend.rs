//! The durable primitives under the node's storage, and the error they fail
//! with. Two implementations pass one conformance suite: [`DiskBackend`]
//! (block journal files + sled) and [`MemBackend`] (its in-memory twin, with
//! the same durability model: what was not made durable is lost in a crash).
//!
//! [`DiskBackend`]: super::disk::DiskBackend
//! [`MemBackend`]: super::mem::MemBackend

use std::sync::Arc;

use super::journal::JournalError;

/// Which structure a run belongs to; each has its own files and ids.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RunSpace {
    /// The query indexes (`data/store/index/`).
    Index,
    /// The persisted ledger state (`data/store/state/`).
    State,
    /// The state tree's paged-out subtrees and its build's sorted chunks
    /// (`data/store/tree/`): derived data, emptied at every open.
    Tree,
}

impl RunSpace {
    pub const ALL: [RunSpace; 3] = [RunSpace::Index, RunSpace::State, RunSpace::Tree];

    /// Its directory name and the word for it in messages.
    pub fn name(self) -> &'static str {
        match self {
            RunSpace::Index => "index",
            RunSpace::State => "state",
            RunSpace::Tree => "tree",
        }
    }
}

/// A run being written: bytes appended in order, then made durable.
pub trait RunWriter: Send {
    fn write(&mut self, bytes: &[u8]) -> Result<(), StoreError>;
    /// Makes the run durable and visible under its id.
    fn finish(self: Box<Self>) -> Result<(), StoreError>;
}

/// A finished run, read at offsets.
pub trait RunFile: Send + Sync + std::fmt::Debug {
    /// Size in bytes.
    fn size(&self) -> u64;
    fn read_at(&self, offset: u64, len: usize) -> Result<Vec<u8>, StoreError>;
}

/// Key-value pairs in key order.
pub type Entries = Vec<(Vec<u8>, Vec<u8>)>;

/// One write of a batch: key → new value, or `None` to delete.
pub type Op = (Vec<u8>, Option<Vec<u8>>);

/// Why storage failed. All of these stop the node: a store it cannot trust
/// is never used half-way, and a restart recovers from what is durable.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot open the store at {path}: {source}; if its files are corrupt, move {path} away (only the store; keep data/wal: it stops this validator from signing twice) and restart: the node syncs its chain from its peers")]
    Open { path: String, source: sled::Error },
    #[error("the store at {path} is in use by another process (its sled lock is held); stop the other assentd using this --home, or give this one another --home")]
    InUse { path: String },
    #[error("{}", sled_message(.0))]
    Io(#[from] sled::Error),
    #[error(transparent)]
    Journal(#[from] JournalError),
    #[error("stored record {what} is corrupt: {why}")]
    Corrupt { what: String, why: String },
    #[error("this store belongs to chain {stored}, not to genesis {expected}; use another --home or remove its data directory")]
    WrongChain { stored: String, expected: String },
    #[error("the store at {path} was written by an older assentd (blocks in sled, no block journal); remove {path} and let the node sync its chain from its peers")]
    OldLayout { path: String },
    #[error("the genesis state could not be built: {0}")]
    Genesis(String),
    #[error("the state checkpoint is at height {checkpoint} but the block journal ends at {journal}: the journal lost committed blocks; restore the store directory (data/store) from a backup, or move it away and restart so the node syncs from its peers (keep data/wal: it stops this validator from signing twice)")]
    JournalBehind { checkpoint: u64, journal: u64 },
    #[error("the background {task} failed earlier: {why}; the node stops and recovers on restart")]
    Background { task: &'static str, why: String },
    #[error("{}", run_io_message(.path, .source))]
    RunIo {
        path: String,
        source: std::io::Error,
    },
    #[error(
        "the state tree's pages in data/store/tree failed: {0}; the node rebuilds them on restart"
    )]
    Tree(#[from] assent_contracts::state::StoreError),
    #[error("injected failure at storage step {0} (test)")]
    Injected(usize),
}

/// What an operator must know of a sled failure: a full disk says so and
/// what to do; anything else names the store.
fn sled_message(e: &sled::Error) -> String {
    match e {
        sled::Error::Io(io) if io.kind() == std::io::ErrorKind::StorageFull => {
            out_of_space("the state store (data/store/sled)")
        }
        other => format!("store I/O failed in data/store: {other}"),
    }
}

fn run_io_message(path: &str, e: &std::io::Error) -> String {
    if e.kind() == std::io::ErrorKind::StorageFull {
        return out_of_space(
            "the store's runs (data/store/index, data/store/state, data/store/tree)",
        );
    }
    format!("run file {path}: {e}")
}

/// The message for a full disk under `what`.
pub(crate) fn out_of_space(what: &str) -> String {
    format!("no space left on the disk that holds {what}; free space there and restart assentd: every committed block is kept in the block journal and the node catches up from its peers")
}

/// A journal record to append: `(kind, height, payload parts)`. The
/// payload is the parts one after another, so a caller need not copy a
/// large buffer into a record first.
pub type JournalRecord<'a> = (u8, u64, &'a [&'a [u8]]);

/// What the node needs from durable storage.
///
/// One ordered key space (sled's tree; table prefixes in `keys`) for small
/// records, written in atomic batches, plus the append-only block journal.
pub trait Backend: Send + Sync + std::fmt::Debug {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError>;
    /// Entries with `from <= key < to` in key order (newest-first when
    /// `rev`), at most `limit`.
    fn range(&self, from: &[u8], to: &[u8], rev: bool, limit: usize)
        -> Result<Entries, StoreError>;
    /// Applies every op or none; with `durable`, on disk when it returns
    /// (and so is every batch applied before it).
    fn apply(&self, ops: Vec<Op>, durable: bool) -> Result<(), StoreError>;
    /// Appends records `(kind, height, payload parts)` to the block
    /// journal, each payload being its parts one after another, and makes
    /// them durable before returning.
    fn journal_append(&self, records: &[JournalRecord<'_>]) -> Result<(), StoreError>;
    /// The latest journal record of `kind` at `height`.
    fn journal_get(&self, kind: u8, height: u64) -> Result<Option<Vec<u8>>, StoreError>;
    /// Height of the last block record in the journal.
    fn journal_tip(&self) -> Option<u64>;
    /// Bytes appended to the journal since open.
    fn journal_bytes(&self) -> u64;
    /// Starts writing run `id` of `space` (an immutable sorted file, see
    /// [`super::runs`]); it exists only once finished.
    fn run_create(&self, space: RunSpace, id: u64) -> Result<Box<dyn RunWriter>, StoreError>;
    /// Opens finished run `id` for reading; the handle stays readable after
    /// the run is deleted.
    fn run_open(&self, space: RunSpace, id: u64) -> Result<Arc<dyn RunFile>, StoreError>;
    /// The ids of every finished run of `space`, ascending.
    fn run_ids(&self, space: RunSpace) -> Result<Vec<u64>, StoreError>;
    fn run_delete(&self, space: RunSpace, id: u64) -> Result<(), StoreError>;
    /// Where the data lives (for messages).
    fn describe(&self) -> String;
    fn size_on_disk(&self) -> u64;
}
