//! How the store runs: its memory caps and switches, from `[store]` and
//! `[index]` (`node/src/config.rs` reads and checks them).

use super::state::StateLimits;

/// How the store runs.
#[derive(Debug, Clone)]
pub struct StoreConfig {
    /// sled's page cache.
    pub sled_cache_bytes: u64,
    pub state: StateLimits,
    /// Whether the indexer runs (`[index] enabled`).
    pub index: bool,
    /// Memory for the state trees of recent heights, for state proofs
    /// (`store.proof_history_mb`).
    pub proof_history_bytes: usize,
    /// Memory for the state tree's nodes; past it, subtrees are paged out
    /// to `data/store/tree` (`store.state_tree_mb`).
    pub state_tree_bytes: u64,
}

impl Default for StoreConfig {
    fn default() -> StoreConfig {
        StoreConfig {
            sled_cache_bytes: 64 * 1024 * 1024,
            state: StateLimits::default(),
            index: true,
            proof_history_bytes: 64 * 1024 * 1024,
            state_tree_bytes: 3072 * 1024 * 1024,
        }
    }
}
