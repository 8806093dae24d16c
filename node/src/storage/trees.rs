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
use std::sync::Arc;

use assent_contracts::state::{tree, StateTree, Writes};
use assent_contracts::Height;

use super::records::Checkpoint;
use super::runs::{state_record, Runs};
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
        }
    }

    /// The next height's version; drops the oldest ones past the budget.
    pub fn push(&mut self, height: Height, tree: StateTree, writes: Arc<Writes>) {
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
/// checkpoint's state root. Memory holds a block per run and a path and
/// value hash (64 bytes) per record.
pub(crate) fn checkpoint_tree(runs: &Runs, at: &Checkpoint) -> Result<StateTree, StoreError> {
    let started = std::time::Instant::now();
    let mut leaves = Vec::new();
    runs.for_each(|k, stored| {
        if let Some(v) = state_record(stored) {
            leaves.push((tree::key_path(k), tree::value_hash(v)));
        }
        Ok(())
    })?;
    let records = leaves.len();
    let t = StateTree::from_leaves(leaves);
    if tree::state_root(at.height, &t.root()) != at.state_root {
        return Err(StoreError::Corrupt {
            what: format!("state checkpoint at height {}", at.height.0),
            why: "its records do not give its state root (the state tree of the state runs in data/store/state differs); move the store directory (data/store) away and restart so the node syncs (keep data/wal)".into(),
        });
    }
    tracing::info!(target: "assent::storage", height = at.height.0, records, ms = started.elapsed().as_millis() as u64, "built the state tree of the checkpoint");
    Ok(t)
}

#[cfg(test)]
mod tests {
    use super::*;

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
        t.push(Height(2), StateTree::new(), w(&[("a", Some("a2"))]));
        t.push(Height(3), StateTree::new(), w(&[("b", Some("b3"))]));
        t.push(Height(4), StateTree::new(), w(&[("a", None)]));
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
            t.push(Height(h), StateTree::new(), w(&[("k", Some("v"))]));
        }
        assert!(t.at(Height(5)).is_ok());
        assert!(t.oldest() >= Height(4), "kept from {}", t.oldest());
        let mut t = Trees::new(Height(0), StateTree::new(), 0);
        t.push(Height(1), StateTree::new(), w(&[("k", Some("v"))]));
        assert_eq!(t.oldest(), Height(1));
    }
}
