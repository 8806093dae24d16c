//! [`Store`]: the node's storage as the rest of the node sees it.
//!
//! - **Committed chain**: the block journal. A commit appends one record
//!   (the block's bytes as proposed, its certificate, its results) and
//!   syncs it; that is the commit point. A fuller certificate seen later is
//!   appended as its own record.
//! - **Ledger state**: in memory above the last checkpoint, in sled below
//!   it ([`state`](super::state)); the persister moves it down in the
//!   background.
//! - **Indexes** (`t/`, `u/`, `w/`, `h/`): written by the indexer from the
//!   journal, behind the commit, with a durable cursor.
//! - **Consensus scratch**: proposals (ours by round, received by hash),
//!   durable before the engine hears of them.
//!
//! On open the store is at its state checkpoint; the ledger re-executes the
//! journal's blocks above it ([`Store::unrecovered`], [`Store::recovered`]).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, RwLock};
use std::thread::JoinHandle;

use assent_contracts::codec;
use assent_contracts::commit::CommitCertificate;
use assent_contracts::state::{
    Entries as StateEntries, StateRead, StateTree, StoreError as LedgerError, Writes,
};
use assent_contracts::{Block, BlockHash, BlockHeader, BlockOutput, Hash32, Height};
use serde::{de::DeserializeOwned, Serialize};

use super::backend::{Backend, StoreError};
pub use super::config::StoreConfig;
use super::entry::{decode_entry, decode_results, entry_parts, Entry};
use super::journal::KIND_BLOCK;
use super::keys;
use super::records::{BlockResults, Checkpoint, Head};
use super::runs::Runs;
use super::state::{StateCore, StateSnapshot};
use super::trees::{checkpoint_tree, NotKept, Trees};
use super::StorageMetrics;

pub(crate) fn decode<T: DeserializeOwned>(what: &str, bytes: &[u8]) -> Result<T, StoreError> {
    codec::decode_stored(bytes).map_err(|e| StoreError::Corrupt {
        what: what.to_string(),
        why: e.to_string(),
    })
}

/// Encodes a node record. They are plain structs of the ledger's types, so
/// encoding cannot fail.
pub(crate) fn enc<T: Serialize>(v: &T) -> Vec<u8> {
    codec::encode(v).unwrap_or_default()
}

/// What the storage threads share.
#[derive(Debug)]
pub(crate) struct StoreCore {
    pub backend: Arc<dyn Backend>,
    pub state: Arc<StateCore>,
    head: RwLock<Head>,
    genesis_head: Head,
    genesis_hash: Hash32,
    pub indexed: AtomicU64,
    /// The first block the journal holds: 1, or the height of the snapshot
    /// the store was synced from.
    pub first_block: u64,
    /// The state trees of the head and recent heights.
    pub trees: Mutex<Trees>,
    pub index_enabled: bool,
    /// The query indexes' sorted runs.
    pub runs: Runs,
    /// Committed blocks on their way to the indexer.
    pub handoff: crate::index::Handoff,
    /// Wakes the indexer; `true` once it must stop.
    pub index_wake: (Mutex<bool>, Condvar),
    pub metrics: Arc<StorageMetrics>,
}

impl StoreCore {
    pub fn trees(&self) -> std::sync::MutexGuard<'_, Trees> {
        self.trees.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn head(&self) -> Head {
        match self.head.read() {
            Ok(h) => h.clone(),
            Err(p) => p.into_inner().clone(),
        }
    }

    /// The journal entry of a committed block.
    pub fn entry(&self, h: Height) -> Result<Option<Entry>, StoreError> {
        if h.0 == 0 || h > self.head().height {
            return Ok(None);
        }
        self.journal_entry(h.0)
    }

    /// A committed block's header and results, without copying its txs:
    /// what the use and history indexes point into.
    pub(crate) fn results_at(
        &self,
        h: Height,
    ) -> Result<Option<(BlockHeader, BlockResults)>, StoreError> {
        if h.0 == 0 || h > self.head().height {
            return Ok(None);
        }
        match self.backend.journal_get(KIND_BLOCK, h.0)? {
            Some(p) => decode_results(h.0, &p).map(Some),
            None => Ok(None),
        }
    }

    fn journal_entry(&self, h: u64) -> Result<Option<Entry>, StoreError> {
        match self.backend.journal_get(KIND_BLOCK, h)? {
            Some(p) => decode_entry(h, &p).map(Some),
            None => Ok(None),
        }
    }

    fn update_lags(&self) {
        let (persisted, unpersisted) = {
            let l = self.state.lock();
            let frozen = l.frozen.as_ref().map_or(0, |f| f.bytes);
            (l.persisted.height.0, l.dirty_bytes + frozen)
        };
        let indexed = if self.index_enabled {
            self.indexed.load(Ordering::Relaxed)
        } else {
            self.head().height.0
        };
        self.metrics
            .set_lags(self.head().height.0, persisted, unpersisted, indexed);
    }
}

struct Handle {
    core: Arc<StoreCore>,
    threads: Mutex<Vec<JoinHandle<()>>>,
}

impl Drop for Handle {
    fn drop(&mut self) {
        {
            let mut l = self.core.state.lock();
            l.stop = true;
        }
        self.core.state.changed.notify_all();
        {
            let (m, cv) = &self.core.index_wake;
            *m.lock().unwrap_or_else(|p| p.into_inner()) = true;
            cv.notify_all();
        }
        let threads = std::mem::take(&mut *self.threads.lock().unwrap_or_else(|p| p.into_inner()));
        for t in threads {
            let _ = t.join();
        }
    }
}

/// The node's storage. Cloning shares it; the background threads stop (the
/// persister writing what is left) when the last clone is dropped.
#[derive(Clone)]
pub struct Store {
    handle: Arc<Handle>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Store({})", self.core().backend.describe())
    }
}

impl Store {
    /// Opens the store in `path` (block journal + sled) for `genesis`.
    pub fn open(
        path: &std::path::Path,
        cfg: &StoreConfig,
        genesis: &assent_genesis::Genesis,
    ) -> Result<Store, StoreError> {
        let backend = super::disk::DiskBackend::open(path, cfg.sled_cache_bytes)?;
        Store::with_backend(Arc::new(backend), cfg, genesis)
    }

    /// A store in memory (tests, benches).
    pub fn memory(genesis: &assent_genesis::Genesis) -> Result<Store, StoreError> {
        Store::with_backend(
            Arc::new(super::mem::MemBackend::new()),
            &StoreConfig::default(),
            genesis,
        )
    }

    /// Opens on any backend: writes the genesis state on first start,
    /// checks on later starts that the data belongs to this genesis, and
    /// starts the persister (and the indexer, if enabled).
    pub fn with_backend(
        backend: Arc<dyn Backend>,
        cfg: &StoreConfig,
        genesis: &assent_genesis::Genesis,
    ) -> Result<Store, StoreError> {
        let hash = genesis.hash();
        if backend.get(keys::LEGACY_HEAD)?.is_some() {
            return Err(StoreError::OldLayout {
                path: backend.describe(),
            });
        }
        match backend.get(keys::GENESIS)? {
            Some(stored) if stored.as_slice() != hash.as_bytes() => {
                return Err(StoreError::WrongChain {
                    stored: hex::encode(&stored),
                    expected: hash.to_string(),
                })
            }
            Some(_) => {}
            None => {
                let (writes, root) = genesis
                    .initial_state()
                    .writes()
                    .map_err(|e| StoreError::Genesis(e.to_string()))?;
                let mut records: Vec<(Vec<u8>, Vec<u8>)> = writes
                    .into_iter()
                    .filter_map(|(k, v)| v.map(|v| (k, super::runs::state_value(Some(&v)))))
                    .collect();
                records.sort_by(|a, b| a.0.cmp(&b.0));
                records.dedup_by(|a, b| a.0 == b.0);
                let at = Checkpoint {
                    height: Height(0),
                    state_root: root,
                };
                let ops = vec![
                    (keys::STATE_CHECKPOINT.to_vec(), Some(enc(&at))),
                    (
                        keys::STATE_FORMAT.to_vec(),
                        Some(keys::STATE_FORMAT_RUNS.to_vec()),
                    ),
                    // The genesis hash last: a store with it is complete.
                    (keys::GENESIS.to_vec(), Some(hash.as_bytes().to_vec())),
                ];
                Runs::open(super::runs::STATE, backend.clone())?.add(
                    records.iter().map(|(k, v)| (k.as_slice(), v.as_slice())),
                    ops,
                    true,
                )?;
            }
        }
        let at: Checkpoint = decode(
            "state checkpoint",
            &backend
                .get(keys::STATE_CHECKPOINT)?
                .ok_or_else(|| StoreError::Corrupt {
                    what: "state checkpoint".into(),
                    why: "missing".into(),
                })?,
        )?;
        let tip = backend.journal_tip().unwrap_or(0);
        if tip < at.height.0 {
            return Err(StoreError::JournalBehind {
                checkpoint: at.height.0,
                journal: tip,
            });
        }
        let genesis_head = Head {
            height: Height(0),
            block_hash: BlockHash(hash),
            state_root: genesis.state_root(),
            time: genesis.genesis_time(),
        };
        let head = if at.height.0 == 0 {
            genesis_head.clone()
        } else {
            let payload =
                backend
                    .journal_get(KIND_BLOCK, at.height.0)?
                    .ok_or(StoreError::JournalBehind {
                        checkpoint: at.height.0,
                        journal: tip,
                    })?;
            let entry = decode_entry(at.height.0, &payload)?;
            let block: Block = decode(&format!("block {}", at.height.0), &entry.block)?;
            Head::of(&block.header)
        };
        if head.state_root != at.state_root {
            return Err(StoreError::Corrupt {
                what: format!("state checkpoint at height {}", at.height.0),
                why: "its state root differs from the block's header".into(),
            });
        }
        let first_block = match backend.get(keys::SYNCED_FROM)? {
            Some(v) => decode::<Height>("snapshot height", &v)?.0,
            None => 1,
        };
        let (runs, indexed) = if cfg.index {
            let base = if first_block > 1 { first_block } else { 0 };
            crate::index::open(&backend, base)?
        } else {
            (Runs::empty(super::runs::INDEX, backend.clone()), 0)
        };
        let state_runs = super::persister::open_runs(&backend)?;
        let tree = checkpoint_tree(&state_runs, &at, &backend, cfg.state_tree_bytes)?;
        let metrics = Arc::new(StorageMetrics::default());
        let state = Arc::new(StateCore::new(state_runs, at, cfg.state, &metrics));
        let core = Arc::new(StoreCore {
            backend,
            state,
            head: RwLock::new(head),
            genesis_head,
            genesis_hash: hash,
            indexed: AtomicU64::new(indexed),
            runs,
            handoff: Default::default(),
            first_block,
            trees: Mutex::new(Trees::new(at.height, tree, cfg.proof_history_bytes)),
            index_enabled: cfg.index,
            index_wake: (Mutex::new(false), Condvar::new()),
            metrics,
        });
        let mut threads = Vec::new();
        let (state, metrics) = (core.state.clone(), core.metrics.clone());
        threads.push(
            std::thread::Builder::new()
                .name("assent-persister".into())
                .spawn(move || super::persister::run(state, metrics))
                .map_err(|e| StoreError::Background {
                    task: "state persister",
                    why: e.to_string(),
                })?,
        );
        if cfg.index {
            let c = core.clone();
            threads.push(
                std::thread::Builder::new()
                    .name("assent-indexer".into())
                    .spawn(move || crate::index::run(c))
                    .map_err(|e| StoreError::Background {
                        task: "indexer",
                        why: e.to_string(),
                    })?,
            );
        }
        Ok(Store {
            handle: Arc::new(Handle {
                core,
                threads: Mutex::new(threads),
            }),
        })
    }

    pub(crate) fn core(&self) -> &Arc<StoreCore> {
        &self.handle.core
    }

    pub fn metrics(&self) -> &StorageMetrics {
        &self.core().metrics
    }

    pub fn genesis_hash(&self) -> Hash32 {
        self.core().genesis_hash
    }

    /// The lowest height whose block this store holds: 1, or the height of
    /// the snapshot it was synced from.
    pub fn first_block(&self) -> Height {
        Height(self.core().first_block)
    }

    pub fn head(&self) -> Head {
        self.core().head()
    }

    /// The head as it was at committed height `h` (from the block's header).
    pub fn head_at(&self, h: Height) -> Result<Head, StoreError> {
        let head = self.head();
        if h == head.height {
            return Ok(head);
        }
        if h.0 == 0 {
            return Ok(self.core().genesis_head.clone());
        }
        match self.block(h)? {
            Some(b) => Ok(Head::of(&b.header)),
            None => Err(StoreError::Corrupt {
                what: format!("block {h}"),
                why: "committed but missing from the journal".into(),
            }),
        }
    }

    /// Waits until every block up to `h` is indexed; `false` on timeout.
    pub fn wait_indexed(&self, h: Height, deadline: std::time::Duration) -> bool {
        let until = std::time::Instant::now() + deadline;
        loop {
            if self.indexed_height() >= h {
                return true;
            }
            if std::time::Instant::now() >= until || self.core().state.failure().is_some() {
                return false;
            }
            let (m, cv) = &self.core().index_wake;
            let g = m.lock().unwrap_or_else(|p| p.into_inner());
            let _ = cv.wait_timeout(g, std::time::Duration::from_millis(10));
        }
    }

    /// The committed state after the current head, consistent while it lives.
    pub fn snapshot(&self) -> StateSnapshot {
        StateSnapshot::take(&self.core().state)
    }

    /// Journal heights above the head that recovery must re-execute.
    pub fn unrecovered(&self) -> std::ops::RangeInclusive<u64> {
        let from = self.head().height.0 + 1;
        let to = self.core().backend.journal_tip().unwrap_or(0);
        from..=to
    }

    /// The journal entry at `h` whether or not recovery reached it.
    pub fn journal_entry(&self, h: Height) -> Result<Option<Entry>, StoreError> {
        self.core().journal_entry(h.0)
    }

    /// A journaled block re-executed on start: its writes join the state.
    pub fn recovered(
        &self,
        header: &BlockHeader,
        writes: Writes,
        tree: StateTree,
    ) -> Result<Head, StoreError> {
        let changes_validators = writes.contains_key(assent_contracts::state::keys::VALIDATORS);
        let head = self.advance(header, writes, tree)?;
        if changes_validators {
            self.keep_validator_set_proof(head.height);
        }
        Ok(head)
    }

    /// The state tree after committed height `h`, if it is still kept.
    pub fn tree_at(&self, h: Height) -> Result<StateTree, NotKept> {
        self.core().trees().at(h)
    }

    fn advance(
        &self,
        header: &BlockHeader,
        writes: Writes,
        tree: StateTree,
    ) -> Result<Head, StoreError> {
        let core = self.core();
        let head = Head::of(header);
        let writes = Arc::new(writes);
        core.metrics.set_tree(tree.arena_stats());
        core.trees().push(head.height, tree, writes.clone())?;
        core.state.apply(
            Checkpoint {
                height: head.height,
                state_root: head.state_root,
            },
            writes,
        )?;
        match core.head.write() {
            Ok(mut h) => *h = head.clone(),
            Err(p) => *p.into_inner() = head.clone(),
        }
        {
            let (m, cv) = &core.index_wake;
            let _wake = m.lock().unwrap_or_else(|p| p.into_inner());
            cv.notify_all();
        }
        core.update_lags();
        Ok(head)
    }

    /// Commits a decided block: its journal record (`bytes` exactly as
    /// proposed, the certificate, the results) is durable when this
    /// returns, and its writes (taken out of `out`) are in the committed
    /// state. The results are taken out of `out` too, and returned. Fails if
    /// a background task failed before (the node then stops).
    pub fn commit_block(
        &self,
        bytes: &[u8],
        block: &Arc<Block>,
        cert: &CommitCertificate,
        out: &mut BlockOutput,
    ) -> Result<(Head, Arc<BlockResults>), StoreError> {
        let core = self.core();
        if let Some(why) = core.state.failure() {
            return Err(StoreError::Background {
                task: "state persister",
                why,
            });
        }
        let h = block.header.height;
        let results = Arc::new(BlockResults {
            results: std::mem::take(&mut out.results),
            end_events: std::mem::take(&mut out.end_events),
        });
        let (len, tail) = entry_parts(bytes, cert, &results.results, &results.end_events);
        core.backend
            .journal_append(&[(KIND_BLOCK, h.0, &[&len, bytes, &tail])])?;
        let payload_len = len.len() + bytes.len() + tail.len();
        core.metrics.journal_bytes.inc_by(payload_len as u64);
        if core.index_enabled {
            core.handoff
                .push(h.0, bytes.len(), block.clone(), results.clone());
        }
        let changes_validators = out
            .writes
            .contains_key(assent_contracts::state::keys::VALIDATORS);
        // The writes move into the state: no copy per record.
        let head = self.advance(
            &block.header,
            std::mem::take(&mut out.writes),
            out.tree.clone(),
        )?;
        if changes_validators {
            self.keep_validator_set_proof(h);
        }
        Ok((head, results))
    }

    /// Height of the last block in the journal.
    pub fn journal_tip(&self) -> u64 {
        self.core().backend.journal_tip().unwrap_or(0)
    }
}

/// Single reads of the latest committed state. Reads that must agree with
/// each other take a [`Store::snapshot`].
impl StateRead for Store {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, LedgerError> {
        StateSnapshot::latest(&self.core().state).get(key)
    }

    fn scan_prefix(&self, prefix: &[u8]) -> Result<StateEntries, LedgerError> {
        self.snapshot().scan_prefix(prefix)
    }
}
