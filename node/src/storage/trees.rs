//! The state tree of the head and of a few recent heights, for state
//! proofs ([`assent_contracts::state_proof`]).
//!
//! Versions share every unchanged node, so a kept height costs what its
//! block changed: its tree nodes and its writes (kept to answer "the
//! record's value at that height" for records changed since). What is kept
//! is bounded by a byte budget (`store.proof_history_mb`), never by time:
//! under load fewer heights fit, when idle more. The head is always kept.
//!
//! The head's tree is built on start from the state checkpoint's records
//! and checked against the checkpoint's state root, then moves with every
//! committed block.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use assent_contracts::state::{tree, StateTree, Writes};
use assent_contracts::{Hash32, Height};

use super::backend::{Backend, RunSpace};
use super::records::Checkpoint;
use super::run_file::{RunBuilder, RunReader};
use super::runs::{merge, state_record, Runs};
use super::tree_pages::RunPages;
use super::StoreError;

/// Bytes a kept write is counted at besides its key and value: its share of
/// the tree nodes the next block replaced, which stay while this version is
/// kept (~12 nodes of 40–64 bytes below the levels the block's writes
/// share), and of the arena's version logs (4 bytes per node made or
/// replaced).
const NODE_BYTES_PER_WRITE: usize = 768;

#[derive(Debug)]
struct Version {
    height: Height,
    tree: StateTree,
    /// The block's writes (empty for the version the node started from).
    writes: Arc<Writes>,
    bytes: usize,
}

/// Why a record's value at a height cannot be given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotKept {
    /// The height is older than the oldest kept version.
    Height { oldest: Height },
    /// The record changed after the height and its value then was written
    /// before the oldest kept version.
    Value { oldest: Height },
}

#[derive(Debug)]
pub(crate) struct Trees {
    versions: VecDeque<Version>,
    bytes: usize,
    budget: usize,
    /// Whether the operator was told the tree started paging.
    paging_told: bool,
}

impl Trees {
    pub fn new(height: Height, tree: StateTree, budget: usize) -> Trees {
        let mut versions = VecDeque::new();
        versions.push_back(Version {
            height,
            tree,
            writes: Arc::new(Writes::new()),
            bytes: 0,
        });
        Trees {
            versions,
            bytes: 0,
            budget,
            paging_told: false,
        }
    }

    /// The next height's version; drops the oldest ones past the budget.
    /// The kept versions also hold the state tree's nodes that their
    /// blocks changed, which cannot be paged out while an older version is
    /// kept: when the tree's nodes pass its memory bound by more than the
    /// budget, old versions go too and their nodes are paged out.
    pub fn push(
        &mut self,
        height: Height,
        tree: StateTree,
        writes: Arc<Writes>,
    ) -> Result<(), StoreError> {
        let stats = tree.arena_stats();
        if stats.paged_subtrees > 0 && !self.paging_told {
            self.paging_told = true;
            tracing::warn!(target: "assent::storage", height = height.0, node_bytes = stats.node_bytes, paged_subtrees = stats.paged_subtrees, "the state tree outgrew store.state_tree_mb: subtrees no recent block changed are paged to data/store/tree, and a block that changes one reads it back, which costs CPU; give store.state_tree_mb more memory if the machine has it (assent_state_tree_paged_subtrees counts them)");
        }
        let bytes = writes
            .iter()
            .map(|(k, v)| k.len() + v.as_ref().map_or(0, Vec::len) + NODE_BYTES_PER_WRITE)
            .sum();
        self.bytes += bytes;
        self.versions.push_back(Version {
            height,
            tree,
            writes,
            bytes,
        });
        while self.bytes > self.budget && self.versions.len() > 1 {
            if let Some(old) = self.versions.pop_front() {
                self.bytes -= old.bytes;
            }
        }
        while self.versions.len() > 1 && self.over_bound() {
            if let Some(old) = self.versions.pop_front() {
                self.bytes -= old.bytes;
            }
            self.versions[0].tree.page_out()?;
        }
        Ok(())
    }

    fn over_bound(&self) -> bool {
        let s = self.versions[0].tree.arena_stats();
        s.bound
            .is_some_and(|b| s.node_bytes > b.saturating_add(self.budget as u64))
    }

    pub fn oldest(&self) -> Height {
        // Never empty: `new` puts one version and `push` keeps the last.
        self.versions[0].height
    }

    pub fn at(&self, h: Height) -> Result<StateTree, NotKept> {
        self.versions
            .iter()
            .find(|v| v.height == h)
            .map(|v| v.tree.clone())
            .ok_or(NotKept::Height {
                oldest: self.oldest(),
            })
    }

    /// The value of `key` after height `h` when it differs from the head's:
    /// `Ok(None)` means it did not change after `h` (the head's value is the
    /// one), `Ok(Some(v))` is the value it had (`v = None`: no record).
    #[allow(clippy::option_option)]
    pub fn value_at(&self, key: &[u8], h: Height) -> Result<Option<Option<Vec<u8>>>, NotKept> {
        let oldest = self.oldest();
        if h < oldest {
            return Err(NotKept::Height { oldest });
        }
        let changed = self
            .versions
            .iter()
            .any(|v| v.height > h && v.writes.contains_key(key));
        if !changed {
            return Ok(None);
        }
        // The latest write at or below `h` among the kept blocks; none: the
        // value then was written before the oldest kept block.
        self.versions
            .iter()
            .rev()
            .filter(|v| v.height <= h)
            .find_map(|v| v.writes.get(key).cloned())
            .map(Some)
            .ok_or(NotKept::Value { oldest })
    }
}

/// The state tree of the records in the state runs, checked against the
/// checkpoint's state root, within `max_bytes` of memory
/// (`store.state_tree_mb`): past it, subtrees are paged out to the store's
/// tree space ([`RunPages`]). The leaves come sorted by path through an
/// external sort: chunks of at most a quarter of the bound are sorted in
/// memory and, when there is more than one, written as runs of the tree
/// space and merged as they are read.
pub(crate) fn checkpoint_tree(
    runs: &Runs,
    at: &Checkpoint,
    backend: &Arc<dyn Backend>,
    max_bytes: u64,
) -> Result<StateTree, StoreError> {
    let started = std::time::Instant::now();
    for id in backend.run_ids(RunSpace::Tree)? {
        backend.run_delete(RunSpace::Tree, id)?;
    }
    let ids = Arc::new(AtomicU64::new(1));
    let chunk_leaves = usize::try_from(max_bytes / 4 / 64)
        .unwrap_or(usize::MAX)
        .max(1 << 12);
    let mut chunk: Vec<(tree::Path, Hash32)> = Vec::new();
    let mut sorted: Vec<Arc<RunReader>> = Vec::new();
    let mut records = 0u64;
    runs.for_each(|k, stored| {
        if let Some(v) = state_record(stored) {
            chunk.push((tree::key_path(k), tree::value_hash(v)));
            records += 1;
            if chunk.len() >= chunk_leaves {
                sorted.push(spill(backend, &ids, &mut chunk)?);
            }
        }
        Ok(())
    })?;
    let pages = Arc::new(RunPages::new(backend.clone(), ids.clone()));
    let mut build = StateTree::paged(pages, max_bytes);
    if sorted.is_empty() {
        chunk.sort_unstable_by_key(|l| l.0);
        for (p, v) in chunk {
            build.push(p, v)?;
        }
    } else {
        if !chunk.is_empty() {
            sorted.push(spill(backend, &ids, &mut chunk)?);
        }
        merge(&sorted, |k, v| {
            let (Ok(p), Ok(v)) = (<[u8; 32]>::try_from(k), <[u8; 32]>::try_from(v)) else {
                return Err(StoreError::Corrupt {
                    what: "a sorted chunk of the state tree's build".into(),
                    why: "an entry is not a 32-byte path and a 32-byte hash".into(),
                });
            };
            Ok(build.push(p, Hash32(v))?)
        })?;
        for r in &sorted {
            backend.run_delete(RunSpace::Tree, r.id)?;
        }
    }
    let t = build.finish()?;
    if tree::state_root(at.height, &t.root()) != at.state_root {
        return Err(StoreError::Corrupt {
            what: format!("state checkpoint at height {}", at.height.0),
            why: "its records do not give its state root (the state tree of the state runs in data/store/state differs); move the store directory (data/store) away and restart so the node syncs (keep data/wal)".into(),
        });
    }
    let stats = t.arena_stats();
    tracing::info!(target: "assent::storage", height = at.height.0, records, chunks = sorted.len(), paged_subtrees = stats.paged_subtrees, ms = started.elapsed().as_millis() as u64, "built the state tree of the checkpoint");
    Ok(t)
}

/// Writes `chunk` sorted by path as a run of the tree space.
fn spill(
    backend: &Arc<dyn Backend>,
    ids: &AtomicU64,
    chunk: &mut Vec<(tree::Path, Hash32)>,
) -> Result<Arc<RunReader>, StoreError> {
    chunk.sort_unstable_by_key(|l| l.0);
    let id = ids.fetch_add(1, Ordering::Relaxed);
    let out = backend.run_create(RunSpace::Tree, id)?;
    let mut b = RunBuilder::new(RunSpace::Tree, id, 32 * 1024, chunk.len(), out);
    for (p, v) in chunk.drain(..) {
        b.push(&p, v.as_bytes())?;
    }
    b.finish()?;
    let file = backend.run_open(RunSpace::Tree, id)?;
    Ok(Arc::new(RunReader::open(RunSpace::Tree, id, file)?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::mem::MemBackend;
    use crate::storage::runs::{state_value, STATE};

    /// A state larger than a quarter of the bound goes through the external
    /// sort (several sorted chunks, merged) and the pages, and gives the
    /// whole tree's root; a wrong checkpoint root is refused; the chunks
    /// are gone afterwards.
    #[test]
    fn a_checkpoint_tree_larger_than_its_bound_is_sorted_in_chunks_and_paged() {
        let backend: Arc<dyn Backend> = Arc::new(MemBackend::new());
        let runs = Runs::empty(STATE, backend.clone());
        let records: Vec<(Vec<u8>, Vec<u8>)> = (0..20_000u32)
            .map(|i| {
                (
                    format!("k/{i:08}").into_bytes(),
                    state_value(Some(&i.to_be_bytes())),
                )
            })
            .collect();
        runs.add(
            records.iter().map(|(k, v)| (k.as_slice(), v.as_slice())),
            Vec::new(),
            true,
        )
        .unwrap();
        let whole = StateTree::from_records(
            records
                .iter()
                .map(|(k, v)| (k.as_slice(), state_record(v).unwrap())),
        );
        let at = Checkpoint {
            height: Height(7),
            state_root: tree::state_root(Height(7), &whole.root()),
        };
        let t = checkpoint_tree(&runs, &at, &backend, 64 << 10).unwrap();
        assert_eq!(t.root(), whole.root());
        let stats = t.arena_stats();
        assert!(stats.paged_subtrees > 0, "{stats:?}");
        assert!(stats.nodes * 4 < whole.arena_stats().nodes, "{stats:?}");
        // Only page segments are left in the tree space: the chunks went.
        assert!(backend.run_ids(RunSpace::Tree).unwrap().len() <= 1);
        let wrong = Checkpoint {
            height: Height(8),
            ..at
        };
        let err = checkpoint_tree(&runs, &wrong, &backend, 64 << 10).unwrap_err();
        assert!(
            err.to_string().contains("do not give its state root"),
            "{err}"
        );
    }

    fn w(pairs: &[(&str, Option<&str>)]) -> Arc<Writes> {
        Arc::new(
            pairs
                .iter()
                .map(|(k, v)| (k.as_bytes().to_vec(), v.map(|v| v.as_bytes().to_vec())))
                .collect(),
        )
    }

    #[test]
    fn values_at_past_heights_come_from_the_kept_writes() {
        let mut t = Trees::new(Height(1), StateTree::new(), 1 << 20);
        t.push(Height(2), StateTree::new(), w(&[("a", Some("a2"))]))
            .unwrap();
        t.push(Height(3), StateTree::new(), w(&[("b", Some("b3"))]))
            .unwrap();
        t.push(Height(4), StateTree::new(), w(&[("a", None)]))
            .unwrap();
        // Unchanged since: the head's value.
        assert_eq!(t.value_at(b"b", Height(3)), Ok(None));
        // Changed after 3 (deleted at 4): the value written at 2.
        assert_eq!(t.value_at(b"a", Height(3)), Ok(Some(Some(b"a2".to_vec()))));
        // b was written at 3, so at 2 it was older than anything kept.
        assert_eq!(
            t.value_at(b"b", Height(2)),
            Err(NotKept::Value { oldest: Height(1) })
        );
        assert_eq!(
            t.value_at(b"a", Height(0)),
            Err(NotKept::Height { oldest: Height(1) })
        );
    }

    #[test]
    fn the_budget_drops_the_oldest_versions_but_never_the_head() {
        let mut t = Trees::new(Height(0), StateTree::new(), 2 * NODE_BYTES_PER_WRITE);
        for h in 1..=5 {
            t.push(Height(h), StateTree::new(), w(&[("k", Some("v"))]))
                .unwrap();
        }
        assert!(t.at(Height(5)).is_ok());
        assert!(t.oldest() >= Height(4), "kept from {}", t.oldest());
        let mut t = Trees::new(Height(0), StateTree::new(), 0);
        t.push(Height(1), StateTree::new(), w(&[("k", Some("v"))]))
            .unwrap();
        assert_eq!(t.oldest(), Height(1));
    }
}
