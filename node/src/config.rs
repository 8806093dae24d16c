//! The node's config file (`HOME/config.toml`) and home-directory layout.
//!
//! Only node-local settings live here (addresses, peers, timeouts, limits of
//! this node); everything validators must agree on is in the genesis file.
//! Unknown keys are refused and every error names the field.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use libp2p::Multiaddr;

use crate::api::{ClientLimits, MAX_CONCURRENT_EXPORTS, MAX_EVENT_STREAMS};

#[path = "config_file.rs"]
mod file;
use file::*;
pub use file::{
    LogFormat, DEFAULT_MIN_BACKLOG_TXS, DEFAULT_PERSIST_INTERVAL_MS, DEFAULT_PROOF_HISTORY_MB,
    DEFAULT_SNAPSHOT_INTERVAL, DEFAULT_STATE_CACHE_MB, DEFAULT_STATE_TREE_MB,
    DEFAULT_STORE_CACHE_MB, DEFAULT_UNPERSISTED_MB,
};

/// Why a config could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {source}; create it or pass the right --home")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("{path}: {field}: {problem}")]
    Invalid {
        path: PathBuf,
        field: String,
        problem: String,
    },
}

/// Consensus timing of this node (LAN defaults).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timing {
    pub propose: Duration,
    pub prevote: Duration,
    pub precommit: Duration,
    pub delta: Duration,
    /// How long after the last commit this node, as proposer, waits before
    /// it proposes: fewer, larger blocks under load, empty blocks at most
    /// this often.
    pub block_interval: Duration,
    /// Most txs in a block this node proposes (the genesis limit may be
    /// lower). Smaller blocks keep a height's build, transfer and
    /// re-execution well inside the propose timeout on a busy machine.
    pub max_block_txs: usize,
    /// Estimated execution time a block this node proposes may take
    /// ([`crate::ledger::budget`]): blocks are sized by time, not count.
    pub block_budget: Duration,
}

/// A validated node config.
#[derive(Debug, Clone)]
pub struct NodeConfig {
    pub home: PathBuf,
    pub moniker: String,
    /// The validator key's name in HOME/keys; `None`: a full node, which
    /// follows the chain from `state_sync_peers` and signs nothing.
    pub validator_key: Option<String>,
    /// The key (name in HOME/keys) this node signs its reads of peers' APIs
    /// with (state sync, following): an operator's account key. `None`: the
    /// validator key, which peers accept while it is in the validator set.
    pub read_key: Option<String>,
    pub passphrase_file: Option<PathBuf>,
    pub listen: Multiaddr,
    pub gossip_listen: Multiaddr,
    pub peers: Vec<Multiaddr>,
    pub gossip_peers: Vec<Multiaddr>,
    pub api_listen: SocketAddr,
    /// Where `/metrics` is served instead of the API's address, if set.
    pub metrics_listen: Option<SocketAddr>,
    /// `[api]` limits per client and in all.
    pub api_limits: ClientLimits,
    pub timing: Timing,
    pub mempool_max_txs: usize,
    /// Bytes of pending txs in all (`mempool.max_mb`).
    pub mempool_max_bytes: usize,
    /// Bytes of one sender's pending txs (`mempool.max_account_mb`).
    pub mempool_max_account_bytes: usize,
    pub mempool_max_per_account: usize,
    pub mempool_gap_expiry_blocks: u64,
    /// Backpressure on client submissions (`mempool.backlog_ms`,
    /// `mempool.min_backlog_txs`, `mempool.min_backlog_mb`).
    pub mempool_backlog: crate::mempool::BacklogLimits,
    /// sled's page cache in bytes.
    pub store_cache_bytes: u64,
    pub state_cache_bytes: u64,
    pub unpersisted_bytes: u64,
    pub persist_interval: Duration,
    pub proof_history_bytes: u64,
    /// `[store] state_tree_mb`: memory for the state tree's nodes.
    pub state_tree_bytes: u64,
    /// `[index] enabled`: build the query indexes.
    pub index_enabled: bool,
    /// `[state_sync] snapshot_interval`: 0 = serve no snapshots.
    pub snapshot_interval: u64,
    /// `[state_sync] peers`: API base URLs to sync a fresh store from, and
    /// that a node which is not a validator follows the chain from.
    pub state_sync_peers: Vec<String>,
    pub log_format: LogFormat,
}

impl NodeConfig {
    pub fn config_path(home: &Path) -> PathBuf {
        home.join("config.toml")
    }
    pub fn genesis_path(&self) -> PathBuf {
        self.home.join("genesis.toml")
    }
    pub fn store_path(&self) -> PathBuf {
        self.home.join("data").join("store")
    }
    pub fn snapshots_path(&self) -> PathBuf {
        self.home.join("data").join("snapshots")
    }
    /// How the store runs, from `[store]` and `[index]`.
    pub fn store_config(&self) -> crate::storage::StoreConfig {
        crate::storage::StoreConfig {
            sled_cache_bytes: self.store_cache_bytes,
            state: crate::storage::StateLimits {
                unpersisted_cap: self.unpersisted_bytes as usize,
                cache_bytes: self.state_cache_bytes as usize,
                persist_interval: self.persist_interval,
            },
            index: self.index_enabled,
            proof_history_bytes: self.proof_history_bytes as usize,
            state_tree_bytes: self.state_tree_bytes,
        }
    }
    pub fn wal_path(&self) -> PathBuf {
        self.home.join("data").join("wal").join("consensus.wal")
    }
    pub fn pid_path(&self) -> PathBuf {
        self.home.join("assentd.pid")
    }

    /// Loads and validates `HOME/config.toml`.
    pub fn load(home: &Path) -> Result<NodeConfig, ConfigError> {
        let path = Self::config_path(home);
        let text = std::fs::read_to_string(&path).map_err(|source| ConfigError::Io {
            path: path.clone(),
            source,
        })?;
        Self::parse(home, &path, &text)
    }

    /// Validates config text (`path` is only used in messages).
    pub fn parse(home: &Path, path: &Path, text: &str) -> Result<NodeConfig, ConfigError> {
        let raw: RawConfig = toml::from_str(text).map_err(|e| ConfigError::Parse {
            path: path.to_path_buf(),
            message: e
                .to_string()
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" "),
        })?;
        let invalid = |field: &str, problem: String| ConfigError::Invalid {
            path: path.to_path_buf(),
            field: field.to_string(),
            problem,
        };
        if raw.moniker.trim().is_empty()
            || raw.moniker.len() > 64
            || raw.moniker.chars().any(char::is_control)
        {
            return Err(invalid(
                "moniker",
                "give a name of 1-64 printable characters".into(),
            ));
        }
        for p in &raw.state_sync.peers {
            let ok = (p.starts_with("http://") || p.starts_with("https://"))
                && p.len() < 256
                && !p.chars().any(|c| c.is_whitespace() || c.is_control());
            if !ok {
                return Err(invalid(
                    "state_sync.peers",
                    format!("`{p}` is not an http(s) URL; give nodes' API base URLs, e.g. \"http://10.0.0.2:26680\""),
                ));
            }
        }
        if raw.state_sync.peers.len() > 64 {
            return Err(invalid(
                "state_sync.peers",
                format!("{} peers; give at most 64", raw.state_sync.peers.len()),
            ));
        }
        let addr = |field: &str, s: &str| -> Result<Multiaddr, ConfigError> {
            let a: Multiaddr = s.parse().map_err(|e| {
                invalid(
                    field,
                    format!("`{s}` is not a multiaddr ({e}); write e.g. /ip4/127.0.0.1/tcp/26600"),
                )
            })?;
            let tcp = a
                .iter()
                .any(|p| matches!(p, libp2p::multiaddr::Protocol::Tcp(_)));
            if !tcp {
                return Err(invalid(field, format!("`{s}` has no /tcp/PORT part")));
            }
            Ok(a)
        };
        let listen = addr("p2p.listen", &raw.p2p.listen)?;
        let gossip_listen = addr("p2p.gossip_listen", &raw.p2p.gossip_listen)?;
        if listen == gossip_listen {
            return Err(invalid(
                "p2p.gossip_listen",
                "must differ from p2p.listen (two swarms, two ports)".into(),
            ));
        }
        let peers = raw
            .p2p
            .peers
            .iter()
            .enumerate()
            .map(|(i, p)| addr(&format!("p2p.peers[{i}]"), p))
            .collect::<Result<Vec<_>, _>>()?;
        let gossip_peers = raw
            .p2p
            .gossip_peers
            .iter()
            .enumerate()
            .map(|(i, p)| addr(&format!("p2p.gossip_peers[{i}]"), p))
            .collect::<Result<Vec<_>, _>>()?;
        let api_listen: SocketAddr = raw.api.listen.parse().map_err(|_| {
            invalid(
                "api.listen",
                format!(
                    "`{}` is not HOST:PORT, e.g. 127.0.0.1:26602",
                    raw.api.listen
                ),
            )
        })?;
        let metrics_listen = match &raw.api.metrics_listen {
            None => None,
            Some(m) => {
                let a: SocketAddr = m.parse().map_err(|_| {
                    invalid(
                        "api.metrics_listen",
                        format!("`{m}` is not HOST:PORT, e.g. 127.0.0.1:26660"),
                    )
                })?;
                if a == api_listen {
                    return Err(invalid(
                        "api.metrics_listen",
                        format!("{a} is api.listen too; give another port, or leave the field out to serve /metrics with the API"),
                    ));
                }
                Some(a)
            }
        };
        let c = &raw.consensus;
        for (field, v, lo, hi) in [
            (
                "consensus.propose_timeout_ms",
                c.propose_timeout_ms,
                10,
                60_000,
            ),
            (
                "consensus.prevote_timeout_ms",
                c.prevote_timeout_ms,
                10,
                60_000,
            ),
            (
                "consensus.precommit_timeout_ms",
                c.precommit_timeout_ms,
                10,
                60_000,
            ),
            ("consensus.timeout_delta_ms", c.timeout_delta_ms, 0, 60_000),
            (
                "consensus.block_interval_ms",
                c.block_interval_ms,
                0,
                60_000,
            ),
            ("consensus.block_budget_ms", c.block_budget_ms, 1, 60_000),
        ] {
            if v < lo || v > hi {
                return Err(invalid(
                    field,
                    format!("{v} is out of range; give {lo} to {hi}"),
                ));
            }
        }
        if c.max_block_txs == 0 || c.max_block_txs > 100_000 {
            return Err(invalid(
                "consensus.max_block_txs",
                format!("{} is out of range; give 1 to 100000", c.max_block_txs),
            ));
        }
        if raw.mempool.max_txs == 0 || raw.mempool.max_per_account == 0 {
            return Err(invalid(
                "mempool",
                "max_txs and max_per_account must be positive".into(),
            ));
        }
        if !(1..=65_536).contains(&raw.mempool.max_mb) {
            return Err(invalid(
                "mempool.max_mb",
                format!(
                    "{} MiB is out of range; give 1 to 65536 (default 256)",
                    raw.mempool.max_mb
                ),
            ));
        }
        if raw.mempool.max_account_mb == 0 || raw.mempool.max_account_mb > raw.mempool.max_mb {
            return Err(invalid(
                "mempool.max_account_mb",
                format!(
                    "{} MiB is out of range; give 1 to mempool.max_mb ({}) (default 16)",
                    raw.mempool.max_account_mb, raw.mempool.max_mb
                ),
            ));
        }
        if !(8..=65_536).contains(&raw.store.cache_mb) {
            return Err(invalid(
                "store.cache_mb",
                format!(
                    "{} MiB is out of range; give 8 to 65536 (default {DEFAULT_STORE_CACHE_MB})",
                    raw.store.cache_mb
                ),
            ));
        }
        for (field, v, lo, hi, default) in [
            (
                "store.state_cache_mb",
                raw.store.state_cache_mb,
                1,
                1 << 20,
                DEFAULT_STATE_CACHE_MB,
            ),
            (
                "store.unpersisted_mb",
                raw.store.unpersisted_mb,
                1,
                1 << 20,
                DEFAULT_UNPERSISTED_MB,
            ),
            (
                "store.persist_interval_ms",
                raw.store.persist_interval_ms,
                10,
                600_000,
                DEFAULT_PERSIST_INTERVAL_MS,
            ),
            (
                "store.proof_history_mb",
                raw.store.proof_history_mb,
                1,
                1 << 20,
                DEFAULT_PROOF_HISTORY_MB,
            ),
            (
                "store.state_tree_mb",
                raw.store.state_tree_mb,
                16,
                1 << 22,
                DEFAULT_STATE_TREE_MB,
            ),
        ] {
            if v < lo || v > hi {
                return Err(invalid(
                    field,
                    format!("{v} is out of range; give {lo} to {hi} (default {default})"),
                ));
            }
        }
        let a = &raw.api;
        for (field, v, lo, hi, default) in [
            (
                "api.max_connections",
                a.max_connections,
                1,
                1_000_000,
                api_default::max_connections(),
            ),
            (
                "api.max_connections_per_client",
                a.max_connections_per_client,
                1,
                a.max_connections.min(65_536),
                api_default::max_connections_per_client(),
            ),
            (
                "api.requests_per_second_per_client",
                a.requests_per_second_per_client,
                1,
                1_000_000,
                api_default::requests_per_second_per_client(),
            ),
            (
                "api.max_streams_per_client",
                a.max_streams_per_client,
                0,
                MAX_EVENT_STREAMS as u64,
                api_default::max_streams_per_client(),
            ),
            (
                "api.max_exports_per_client",
                a.max_exports_per_client,
                0,
                MAX_CONCURRENT_EXPORTS as u64,
                api_default::max_exports_per_client(),
            ),
            (
                "api.request_timeout_ms",
                a.request_timeout_ms,
                100,
                3_600_000,
                api_default::request_timeout_ms(),
            ),
            (
                "api.idle_timeout_ms",
                a.idle_timeout_ms,
                a.request_timeout_ms.saturating_add(1_000).max(1_000),
                86_400_000,
                api_default::idle_timeout_ms(),
            ),
        ] {
            if v < lo || v > hi {
                let why = if field == "api.idle_timeout_ms" {
                    " (it must exceed api.request_timeout_ms by a second: a connection is idle while its request is worked on)"
                } else {
                    ""
                };
                return Err(invalid(
                    field,
                    format!("{v} is out of range; give {lo} to {hi} (default {default}){why}"),
                ));
            }
        }
        let api_limits = ClientLimits {
            max_connections: a.max_connections as usize,
            max_connections_per_client: a.max_connections_per_client as u32,
            requests_per_second: a.requests_per_second_per_client as u32,
            max_streams_per_client: a.max_streams_per_client as u32,
            max_exports_per_client: a.max_exports_per_client as u32,
            request_timeout: Duration::from_millis(a.request_timeout_ms),
            idle_timeout: Duration::from_millis(a.idle_timeout_ms),
        };
        if raw.mempool.backlog_ms > 60_000 {
            return Err(invalid(
                "mempool.backlog_ms",
                format!(
                    "{} ms is out of range; give 0 (no backpressure) to 60000 (default 500: admit client txs while the pool holds less than half a second of the commit rate)",
                    raw.mempool.backlog_ms
                ),
            ));
        }
        // Unset, a backlog floor is its default, or the whole pool if that
        // is smaller: setting only `max_txs` or `max_mb` must not make a
        // default invalid. Set, it must fit the pool.
        let floor = |key: &str,
                     set: Option<usize>,
                     default: usize,
                     pool_key: &str,
                     pool: usize,
                     why: &str| {
            let v = set.unwrap_or(default.min(pool));
            if v == 0 || v > pool {
                return Err(invalid(
                    key,
                    format!("{v} is out of range; give 1 to {pool_key} ({pool}) (default {default}{why}, or {pool_key} if smaller)"),
                ));
            }
            Ok(v)
        };
        let min_backlog_txs = floor(
            "mempool.min_backlog_txs",
            raw.mempool.min_backlog_txs,
            DEFAULT_MIN_BACKLOG_TXS,
            "mempool.max_txs",
            raw.mempool.max_txs,
            ", a full block",
        )?;
        let min_backlog_mb = floor(
            "mempool.min_backlog_mb",
            raw.mempool.min_backlog_mb,
            crate::mempool::MIN_BACKLOG_BYTES >> 20,
            "mempool.max_mb",
            raw.mempool.max_mb,
            "",
        )?;
        if raw.mempool.gap_expiry_blocks == 0 {
            return Err(invalid(
                "mempool.gap_expiry_blocks",
                "0 would drop a sender's out-of-order txs at once; give the number of blocks they may wait for a missing nonce (default 600)".into(),
            ));
        }
        let validator_key = match raw.keys.validator_key {
            Some(k) if k.trim().is_empty() => {
                return Err(invalid(
                    "keys.validator_key",
                    "name the validator key in HOME/keys, or leave the field out to run a full node".into(),
                ))
            }
            Some(k) => Some(k),
            None if raw.state_sync.peers.is_empty() => {
                return Err(invalid(
                    "state_sync.peers",
                    "a node without keys.validator_key is a full node: it follows the chain from the APIs of the nodes named here (e.g. [\"http://10.0.0.2:26602\"]); give at least one".into(),
                ))
            }
            None => None,
        };
        let read_key = match raw.keys.read_key {
            Some(k) if k.trim().is_empty() => {
                return Err(invalid(
                    "keys.read_key",
                    "name the operator key in HOME/keys this node signs its reads of peers with, or leave the field out".into(),
                ))
            }
            k => k,
        };
        Ok(NodeConfig {
            home: home.to_path_buf(),
            moniker: raw.moniker,
            validator_key,
            read_key,
            passphrase_file: raw.keys.passphrase_file,
            listen,
            gossip_listen,
            peers,
            gossip_peers,
            api_listen,
            metrics_listen,
            api_limits,
            timing: Timing {
                propose: Duration::from_millis(c.propose_timeout_ms),
                prevote: Duration::from_millis(c.prevote_timeout_ms),
                precommit: Duration::from_millis(c.precommit_timeout_ms),
                delta: Duration::from_millis(c.timeout_delta_ms),
                block_interval: Duration::from_millis(c.block_interval_ms),
                max_block_txs: c.max_block_txs,
                block_budget: Duration::from_millis(c.block_budget_ms),
            },
            mempool_max_txs: raw.mempool.max_txs,
            mempool_max_bytes: raw.mempool.max_mb.saturating_mul(1024 * 1024),
            mempool_max_account_bytes: raw.mempool.max_account_mb.saturating_mul(1024 * 1024),
            mempool_max_per_account: raw.mempool.max_per_account,
            mempool_gap_expiry_blocks: raw.mempool.gap_expiry_blocks,
            mempool_backlog: crate::mempool::BacklogLimits {
                backlog_ms: raw.mempool.backlog_ms,
                min_txs: min_backlog_txs,
                min_bytes: min_backlog_mb << 20,
            },
            store_cache_bytes: raw.store.cache_mb * 1024 * 1024,
            state_cache_bytes: raw.store.state_cache_mb * 1024 * 1024,
            unpersisted_bytes: raw.store.unpersisted_mb * 1024 * 1024,
            persist_interval: Duration::from_millis(raw.store.persist_interval_ms),
            proof_history_bytes: raw.store.proof_history_mb * 1024 * 1024,
            state_tree_bytes: raw.store.state_tree_mb * 1024 * 1024,
            index_enabled: raw.index.enabled,
            snapshot_interval: raw.state_sync.snapshot_interval,
            state_sync_peers: raw.state_sync.peers,
            log_format: raw.log.format,
        })
    }
}

#[cfg(test)]
#[path = "config_tests.rs"]
mod tests;
