//! The consensus scratch: proposed blocks kept until they are decided.

use assent_contracts::{BlockHash, Hash32, Height};

use super::backend::StoreError;
use super::keys;
use super::Store;

impl Store {
    /// Keeps a proposed block until it is decided (ours by (height, round)
    /// too), durable on return.
    pub fn save_undecided(
        &self,
        h: Height,
        hash: &BlockHash,
        bytes: &[u8],
        own_round: Option<u32>,
    ) -> Result<(), StoreError> {
        let mut ops = vec![(keys::undecided(h, hash), Some(bytes.to_vec()))];
        if let Some(r) = own_round {
            ops.push((keys::own_proposal(h, r), Some(hash.as_bytes().to_vec())));
        }
        self.core().backend.apply(ops, true)
    }

    pub fn undecided(&self, h: Height, hash: &BlockHash) -> Result<Option<Vec<u8>>, StoreError> {
        self.core().backend.get(&keys::undecided(h, hash))
    }

    /// The hash of the block this node proposed at (height, round), if any.
    pub fn own_proposal(&self, h: Height, round: u32) -> Result<Option<BlockHash>, StoreError> {
        Ok(self
            .core()
            .backend
            .get(&keys::own_proposal(h, round))?
            .and_then(|v| <[u8; 32]>::try_from(v.as_slice()).ok())
            .map(|b| BlockHash(Hash32(b))))
    }

    /// Drops proposals for heights up to and including `h` (not flushed:
    /// leftovers after a crash are pruned again at the next commit).
    pub fn prune_undecided(&self, h: Height) -> Result<(), StoreError> {
        let backend = &self.core().backend;
        let mut ops = Vec::new();
        for prefix in [keys::UNDECIDED, keys::OWN_PROPOSALS] {
            let end = keys::at_height(prefix, h.0.saturating_add(1));
            for (k, _) in backend.range(prefix, &end, false, usize::MAX)? {
                ops.push((k, None));
            }
        }
        if ops.is_empty() {
            return Ok(());
        }
        backend.apply(ops, false)
    }

    /// Bytes on disk (approximate).
    pub fn size_on_disk(&self) -> u64 {
        self.core().backend.size_on_disk()
    }

    /// Waits until the persister has written everything committed so far
    /// (tests, clean shutdown).
    pub fn wait_persisted(&self, deadline: std::time::Duration) -> bool {
        let state = &self.core().state;
        let until = std::time::Instant::now() + deadline;
        let mut l = state.lock();
        loop {
            if l.persisted.height == l.head.height || l.failed.is_some() {
                return l.failed.is_none();
            }
            let now = std::time::Instant::now();
            if now >= until {
                return false;
            }
            state.changed.notify_all();
            l = state
                .changed
                .wait_timeout(l, (until - now).min(std::time::Duration::from_millis(20)))
                .map(|(g, _)| g)
                .unwrap_or_else(|p| p.into_inner().0);
        }
    }

    /// Height of the state sled holds.
    pub fn persisted_height(&self) -> Height {
        self.core().state.lock().persisted.height
    }
}
