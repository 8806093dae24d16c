//! The shape of `config.toml` as read (before validation) and the defaults
//! of its optional settings; `config.rs` validates it into a `NodeConfig`.

use std::path::PathBuf;

use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawConfig {
    pub(super) moniker: String,
    #[serde(default)]
    pub(super) keys: RawKeys,
    pub(super) p2p: RawP2p,
    pub(super) api: RawApi,
    #[serde(default)]
    pub(super) consensus: RawConsensus,
    #[serde(default)]
    pub(super) mempool: RawMempool,
    #[serde(default)]
    pub(super) store: RawStore,
    #[serde(default)]
    pub(super) index: RawIndex,
    #[serde(default)]
    pub(super) state_sync: RawStateSync,
    #[serde(default)]
    pub(super) log: RawLog,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(super) struct RawStore {
    pub(super) cache_mb: u64,
    pub(super) state_cache_mb: u64,
    pub(super) unpersisted_mb: u64,
    pub(super) persist_interval_ms: u64,
    pub(super) proof_history_mb: u64,
    pub(super) state_tree_mb: u64,
}

impl Default for RawStore {
    fn default() -> Self {
        RawStore {
            cache_mb: DEFAULT_STORE_CACHE_MB,
            state_cache_mb: DEFAULT_STATE_CACHE_MB,
            unpersisted_mb: DEFAULT_UNPERSISTED_MB,
            persist_interval_ms: DEFAULT_PERSIST_INTERVAL_MS,
            proof_history_mb: DEFAULT_PROOF_HISTORY_MB,
            state_tree_mb: DEFAULT_STATE_TREE_MB,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(super) struct RawIndex {
    pub(super) enabled: bool,
}

impl Default for RawIndex {
    fn default() -> Self {
        RawIndex { enabled: true }
    }
}

/// sled's page cache, MiB (config `store.cache_mb`).
pub const DEFAULT_STORE_CACHE_MB: u64 = 64;
/// Read cache of state records in front of sled, MiB (`store.state_cache_mb`).
pub const DEFAULT_STATE_CACHE_MB: u64 = 128;
/// Committed state changes held in memory before commits wait for the
/// persister, MiB (`store.unpersisted_mb`).
pub const DEFAULT_UNPERSISTED_MB: u64 = 256;
/// How often the persister writes a state checkpoint (`store.persist_interval_ms`).
pub const DEFAULT_PERSIST_INTERVAL_MS: u64 = 1_000;
/// Memory for the state trees of recent heights, which state proofs at a
/// past height need, MiB (`store.proof_history_mb`).
pub const DEFAULT_PROOF_HISTORY_MB: u64 = 64;
/// Memory for the state tree's nodes, MiB (`store.state_tree_mb`); past it,
/// subtrees no recent block changed are paged out to `data/store/tree`.
/// Paging starts when the nodes pass three quarters of it; the whole tree
/// takes about 165 bytes of nodes per state record (a 64-byte leaf and
/// about 1.4 72-byte inner nodes), so the default holds about 14 million
/// records before any paging (at 10 million records a bound of 2048
/// already pages, and a block's tree update costs a quarter more; at 1024,
/// about three times as much: BENCHMARKS.md).
pub const DEFAULT_STATE_TREE_MB: u64 = 3072;

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawKeys {
    pub(super) validator_key: Option<String>,
    pub(super) read_key: Option<String>,
    pub(super) passphrase_file: Option<PathBuf>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawP2p {
    pub(super) listen: String,
    pub(super) gossip_listen: String,
    #[serde(default)]
    pub(super) peers: Vec<String>,
    #[serde(default)]
    pub(super) gossip_peers: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawApi {
    pub(super) listen: String,
    pub(super) metrics_listen: Option<String>,
    #[serde(default = "api_default::max_connections")]
    pub(super) max_connections: u64,
    #[serde(default = "api_default::max_connections_per_client")]
    pub(super) max_connections_per_client: u64,
    #[serde(default = "api_default::requests_per_second_per_client")]
    pub(super) requests_per_second_per_client: u64,
    #[serde(default = "api_default::max_streams_per_client")]
    pub(super) max_streams_per_client: u64,
    #[serde(default = "api_default::max_exports_per_client")]
    pub(super) max_exports_per_client: u64,
    #[serde(default = "api_default::request_timeout_ms")]
    pub(super) request_timeout_ms: u64,
    #[serde(default = "api_default::idle_timeout_ms")]
    pub(super) idle_timeout_ms: u64,
}

/// Defaults of `[api]`'s limits: those of [`ClientLimits::default`].
pub(super) mod api_default {
    use crate::api::ClientLimits;

    fn d() -> ClientLimits {
        ClientLimits::default()
    }
    pub fn max_connections() -> u64 {
        d().max_connections as u64
    }
    pub fn max_connections_per_client() -> u64 {
        d().max_connections_per_client.into()
    }
    pub fn requests_per_second_per_client() -> u64 {
        d().requests_per_second.into()
    }
    pub fn max_streams_per_client() -> u64 {
        d().max_streams_per_client.into()
    }
    pub fn max_exports_per_client() -> u64 {
        d().max_exports_per_client.into()
    }
    pub fn request_timeout_ms() -> u64 {
        d().request_timeout.as_millis() as u64
    }
    pub fn idle_timeout_ms() -> u64 {
        d().idle_timeout.as_millis() as u64
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(super) struct RawConsensus {
    pub(super) propose_timeout_ms: u64,
    pub(super) prevote_timeout_ms: u64,
    pub(super) precommit_timeout_ms: u64,
    pub(super) timeout_delta_ms: u64,
    pub(super) block_interval_ms: u64,
    pub(super) max_block_txs: usize,
    pub(super) block_budget_ms: u64,
}

impl Default for RawConsensus {
    fn default() -> Self {
        RawConsensus {
            propose_timeout_ms: 1_000,
            prevote_timeout_ms: 200,
            precommit_timeout_ms: 200,
            timeout_delta_ms: 100,
            block_interval_ms: 100,
            max_block_txs: 2_000,
            block_budget_ms: 250,
        }
    }
}

/// The pool's backlog floor when `mempool.min_backlog_txs` is unset: a
/// full block at the default `consensus.max_block_txs`.
pub const DEFAULT_MIN_BACKLOG_TXS: usize = 2_000;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(super) struct RawMempool {
    pub(super) max_txs: usize,
    pub(super) max_mb: usize,
    pub(super) max_account_mb: usize,
    pub(super) max_per_account: usize,
    pub(super) gap_expiry_blocks: u64,
    pub(super) backlog_ms: u64,
    /// Unset: [`DEFAULT_MIN_BACKLOG_TXS`], or `max_txs` if that is smaller.
    pub(super) min_backlog_txs: Option<usize>,
    /// Unset: [`crate::mempool::MIN_BACKLOG_BYTES`] in MiB, or `max_mb`
    /// if that is smaller.
    pub(super) min_backlog_mb: Option<usize>,
}

impl Default for RawMempool {
    fn default() -> Self {
        RawMempool {
            max_txs: 200_000,
            max_mb: 256,
            max_account_mb: 16,
            max_per_account: 1_024,
            gap_expiry_blocks: 600,
            backlog_ms: 500,
            min_backlog_txs: None,
            min_backlog_mb: None,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(super) struct RawStateSync {
    pub(super) snapshot_interval: u64,
    pub(super) peers: Vec<String>,
}

impl Default for RawStateSync {
    fn default() -> Self {
        RawStateSync {
            snapshot_interval: DEFAULT_SNAPSHOT_INTERVAL,
            peers: Vec::new(),
        }
    }
}

/// Heights between the state snapshots a node serves (`state_sync.snapshot_interval`).
pub const DEFAULT_SNAPSHOT_INTERVAL: u64 = 1_000;

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawLog {
    #[serde(default)]
    pub(super) format: LogFormat,
}

/// How logs are written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}
