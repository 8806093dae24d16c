//! Starting and stopping a node: config, key, genesis, store, mempool,
//! gossip, consensus, API — each startup failure a clear error.

use std::net::TcpListener as StdListener;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64};
use std::sync::{Arc, Mutex};

use assent_contracts::AccountId;
use assent_genesis::Genesis;
use libp2p::multiaddr::Protocol;
use libp2p::Multiaddr;

use crate::config::{ConfigError, LogFormat, NodeConfig};
use crate::ledger::chain::{Chain, ChainError};
use crate::mempool::{Mempool, MempoolLimits};
use crate::metrics::Metrics;
use crate::shared::Shared;
use crate::storage::{Store, StoreError};

/// Why the node could not start or had to stop.
#[derive(Debug, thiserror::Error)]
pub enum NodeError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("genesis: {0}")]
    Genesis(String),
    #[error("validator key `{name}`: {why}")]
    Key { name: String, why: String },
    #[error("this node's key {key} is not a validator of the chain at height {height}, and [state_sync] peers is empty, so it has nowhere to follow the chain from: set [state_sync] peers to validators' API URLs (it then follows the chain, and starts signing once governance admits its key: `assent gov propose add-validator`), or use a validator's key")]
    NotAValidator { key: AccountId, height: u64 },
    #[error(
        "{what} {addr} is already in use; stop the other process or change {field} in config.toml"
    )]
    PortInUse {
        what: &'static str,
        addr: String,
        field: &'static str,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Chain(#[from] ChainError),
    #[error("p2p: {0}")]
    P2p(String),
    #[error("following the chain failed: {0}")]
    Follow(String),
    #[error("state sync failed: {0}")]
    StateSync(String),
    #[error("consensus engine: {0}")]
    Consensus(String),
    #[error("HTTP API: {0}")]
    Api(String),
    #[error("cannot write {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
}

/// Log filter when `RUST_LOG` is unset.
pub const DEFAULT_LOG_FILTER: &str = "info,arc_malachitebft=warn,libp2p=warn";

fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        // The engine logs every height at info; keep its warnings only unless asked.
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(DEFAULT_LOG_FILTER));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    // A second init (tests running several nodes in one process) is harmless.
    let _ = match format {
        LogFormat::Json => builder.json().try_init(),
        LogFormat::Text => builder.try_init(),
    };
}

/// The TCP port of a multiaddr, to check it is free before starting.
fn tcp_socket(addr: &Multiaddr) -> Option<String> {
    let mut host = None;
    let mut port = None;
    for p in addr.iter() {
        match p {
            Protocol::Ip4(ip) => host = Some(ip.to_string()),
            Protocol::Ip6(ip) => host = Some(format!("[{ip}]")),
            Protocol::Tcp(p) => port = Some(p),
            _ => {}
        }
    }
    Some(format!("{}:{}", host?, port?))
}

fn check_free(what: &'static str, field: &'static str, addr: &Multiaddr) -> Result<(), NodeError> {
    if let Some(sock) = tcp_socket(addr) {
        if StdListener::bind(&sock).is_err() {
            return Err(NodeError::PortInUse {
                what,
                addr: sock,
                field,
            });
        }
    }
    Ok(())
}

fn passphrase(cfg: &NodeConfig, name: &str) -> Result<String, NodeError> {
    let key_err = |why: String| NodeError::Key {
        name: name.to_string(),
        why,
    };
    if let Some(file) = &cfg.passphrase_file {
        let text = std::fs::read_to_string(file).map_err(|e| {
            key_err(format!(
                "cannot read passphrase file {}: {e}",
                file.display()
            ))
        })?;
        return Ok(text.trim_end_matches(['\n', '\r']).to_string());
    }
    std::env::var("ASSENT_PASSPHRASE").map_err(|_| {
        key_err(
            "no passphrase: set ASSENT_PASSPHRASE or keys.passphrase_file in config.toml".into(),
        )
    })
}

/// Runs the node until Ctrl-C / SIGTERM, or until a fatal error.
pub async fn run(home: &Path) -> Result<(), NodeError> {
    run_with(home, crate::consensus::engine::honest()).await
}

/// [`run`] behaving otherwise (see [`crate::consensus::engine::Behaviour`]).
pub async fn run_with(
    home: &Path,
    behaviour: crate::consensus::engine::Behaviour,
) -> Result<(), NodeError> {
    let cfg = NodeConfig::load(home)?;
    init_logging(cfg.log_format);

    let genesis_path = cfg.genesis_path();
    if !genesis_path.exists() {
        return Err(NodeError::Genesis(format!(
            "{} is missing; copy the chain's genesis.toml there",
            genesis_path.display()
        )));
    }
    let genesis = Genesis::load(&genesis_path).map_err(|e| NodeError::Genesis(e.to_string()))?;

    // A validator's key, or (a full node) a throwaway one that only names
    // the node and signs nothing anyone believes.
    let key = match &cfg.validator_key {
        Some(name) => {
            let pass = passphrase(&cfg, name)?;
            assent_keys::keystore::Keystore::open(home)
                .load(name, &pass)
                .map_err(|e| NodeError::Key {
                    name: name.clone(),
                    why: e.to_string(),
                })?
        }
        None => {
            let mut seed = [0u8; 32];
            rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut seed);
            assent_contracts::crypto::Keypair::from_seed(seed)
        }
    };
    let validator_key = key.account();
    let has_key = cfg.validator_key.is_some();
    // Reads of peers' APIs are signed by keys.read_key (an operator's), or
    // else by the validator key.
    let read_key = match &cfg.read_key {
        Some(name) => {
            let pass = passphrase(&cfg, name)?;
            let k = assent_keys::keystore::Keystore::open(home)
                .load(name, &pass)
                .map_err(|e| NodeError::Key {
                    name: name.clone(),
                    why: e.to_string(),
                })?;
            Some(Arc::new(k))
        }
        None if has_key => Some(Arc::new(assent_contracts::crypto::Keypair::from_seed(
            key.seed(),
        ))),
        None => None,
    };
    let peer_reader = crate::ledger::peer_reads::PeerReader::new(read_key, genesis.chain_id());

    if has_key {
        check_free("the consensus p2p address", "p2p.listen", &cfg.listen)?;
        check_free(
            "the gossip p2p address",
            "p2p.gossip_listen",
            &cfg.gossip_listen,
        )?;
    }
    let api_in_use = || NodeError::PortInUse {
        what: "the API address",
        addr: cfg.api_listen.to_string(),
        field: "api.listen",
    };
    // Checked now, bound after state sync: a port bound but not yet served
    // would hold a peer's state-sync request until it timed out.
    drop(StdListener::bind(cfg.api_listen).map_err(|_| api_in_use())?);

    if !cfg.state_sync_peers.is_empty() && !cfg.store_path().exists() {
        let (c, g, r) = (cfg.clone(), genesis.clone(), peer_reader.clone());
        let synced =
            tokio::task::spawn_blocking(move || crate::ledger::state_sync::sync(&c, &g, &r))
                .await
                .map_err(|e| NodeError::StateSync(format!("the state sync task failed: {e}")))?;
        match synced {
            Ok(report) => {
                tracing::info!(target: "assent::node", height = report.height, records = report.records, bytes = report.bytes, ms = report.millis, "synced the state from a snapshot");
            }
            // Nothing to sync from yet: start from the genesis and follow
            // the chain block by block, as a node without state sync does.
            Err(e @ crate::ledger::state_sync::SyncError::NoSnapshot { .. }) => {
                tracing::warn!(target: "assent::node", error = %e, "no state snapshot to start from; syncing from the genesis block by block");
            }
            // A snapshot that does not check is never used.
            Err(e) => return Err(NodeError::StateSync(e.to_string())),
        }
    }
    let api_listener = tokio::net::TcpListener::bind(cfg.api_listen)
        .await
        .map_err(|_| api_in_use())?;
    let store = Store::open(&cfg.store_path(), &cfg.store_config(), &genesis)?;
    let snapshots = Arc::new(crate::storage::snapshots::Snapshots::open(
        cfg.snapshots_path(),
        cfg.snapshot_interval,
    )?);
    let mut metrics = Metrics::new();
    metrics.register_storage(store.metrics());
    let chain = Arc::new(Chain::open(store, &genesis)?);
    let head = chain.head();
    let vals = chain
        .validators()
        .map_err(|e| NodeError::P2p(format!("the validator set is unreadable: {e}")))?;
    let in_set = vals.iter().any(|v| v.consensus_key == validator_key);
    if has_key && !in_set && cfg.state_sync_peers.is_empty() {
        return Err(NodeError::NotAValidator {
            key: validator_key,
            height: head.height.0,
        });
    }
    let role = match (has_key, in_set) {
        (false, _) => "full node",
        (true, true) => "validator",
        (true, false) => "validator not (yet) in the set, following the chain",
    };
    tracing::info!(target: "assent::node", moniker = %cfg.moniker, chain = %genesis.chain_id(), height = head.height.0, key = %validator_key, role, "starting");

    let params = genesis.params().clone();
    let mempool = Mempool::new(MempoolLimits {
        max_txs: cfg.mempool_max_txs,
        max_bytes: cfg.mempool_max_bytes,
        max_account_bytes: cfg.mempool_max_account_bytes,
        max_per_account: cfg.mempool_max_per_account,
        max_tx_bytes: params.max_tx_bytes as usize,
        gap_expiry_blocks: cfg.mempool_gap_expiry_blocks,
    })
    .with_backlog(cfg.mempool_backlog)
    .at_height(head.height.0);

    // Tx gossip is among validators only; a full node has none. The
    // allowlist is the validators as of the head (governance may have
    // changed the genesis set), kept current by the commit follower below.
    let allowlist = crate::gossip::validator_peers(&vals);
    // Peers' requests for a proposal's txs, answered from the chain.
    let (serve_tx, serve_rx) = tokio::sync::mpsc::channel(crate::gossip::fetch::MAX_SERVING);
    let serve_task = tokio::spawn(crate::consensus::compact::serve(chain.clone(), serve_rx));
    let gossip = if has_key {
        let (gossip, gossip_inbound) = crate::gossip::spawn(crate::gossip::GossipConfig {
            listen: cfg.gossip_listen.clone(),
            peers: cfg.gossip_peers.clone(),
            keypair: crate::gossip::keypair_from_seed(key.seed()),
            allowlist: allowlist.clone(),
            topic: format!("/assent/{}/txs/1", genesis.chain_id()),
            linger: crate::gossip::PUBLISH_LINGER,
            serve: Some(serve_tx),
        })
        .await
        .map_err(|e| NodeError::P2p(e.to_string()))?;
        Some((gossip, gossip_inbound))
    } else {
        None
    };

    let shared = Arc::new(Shared {
        chain: chain.clone(),
        mempool: Mutex::new(mempool),
        gossip: gossip.as_ref().map(|(g, _)| g.clone()),
        metrics: Arc::new(metrics),
        config: cfg.clone(),
        validator_key,
        signer: assent_contracts::crypto::Keypair::from_seed(key.seed()),
        consensus_started: AtomicBool::new(false),
        peer_height: AtomicU64::new(0),
        snapshots: Some(snapshots.clone()),
        validating: AtomicBool::new(false),
    });
    // After each commit: a snapshot when one is due, and the tx-gossip
    // allowlist moved with the validator set when governance changed it (a
    // removed validator loses its gossip rights, an added one gains them).
    let mut commits = chain.subscribe();
    let snapshot_store = chain.store().clone();
    let follow_chain = chain.clone();
    let follow_gossip = gossip.as_ref().map(|(g, _)| g.clone());
    let mut allowed = allowlist;
    let snapshot_task = tokio::spawn(async move {
        loop {
            match commits.recv().await {
                Ok(c) => snapshots.maybe_take(&snapshot_store, c.head.height),
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
            }
            let Some(gossip) = &follow_gossip else {
                continue;
            };
            match follow_chain.validators() {
                Ok(vals) => {
                    let now = crate::gossip::validator_peers(&vals);
                    if now != allowed {
                        gossip.set_allowlist(now.clone()).await;
                        allowed = now;
                    }
                }
                Err(e) => {
                    tracing::warn!(target: "assent::node", error = %e, "validator set unreadable; gossip allowlist unchanged")
                }
            }
        }
    });

    let pid_path = cfg.pid_path();
    std::fs::write(&pid_path, format!("{}\n", std::process::id())).map_err(|source| {
        NodeError::Io {
            path: pid_path.display().to_string(),
            source,
        }
    })?;

    let gossip_task = gossip.map(|(_, inbound)| {
        tokio::spawn(crate::consensus::gossip_admission::admit_gossip(
            shared.clone(),
            inbound,
        ))
    });
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let api_shared = shared.clone();
    let mut api_stop = stop_rx.clone();
    let api_task = tokio::spawn(async move {
        crate::api::serve(api_shared, api_listener, async move {
            let _ = api_stop.changed().await;
        })
        .await
    });
    if let Some(addr) = cfg.metrics_listen {
        let listener =
            tokio::net::TcpListener::bind(addr)
                .await
                .map_err(|_| NodeError::PortInUse {
                    what: "the metrics address",
                    addr: addr.to_string(),
                    field: "api.metrics_listen",
                })?;
        let (sh, mut stop) = (shared.clone(), stop_rx.clone());
        tokio::spawn(async move {
            if let Err(e) = crate::api::serve_metrics(sh, listener, async move {
                let _ = stop.changed().await;
            })
            .await
            {
                tracing::error!(target: "assent::api", error = %e, "the metrics listener failed");
            }
        });
    }
    let stop_rest = |outcome: Result<(), NodeError>| async move {
        let _ = stop_tx.send(true);
        let _ = api_task.await;
        if let Some(t) = gossip_task {
            t.abort();
        }
        serve_task.abort();
        snapshot_task.abort();
        let _ = std::fs::remove_file(&pid_path);
        outcome
    };

    // A node that is not a validator follows the chain from its peers' APIs
    // until its key is admitted (a full node: until it stops); a validator
    // that governance removes stops its engine and follows the same way.
    let mut in_set = in_set;
    let mut behaviour = Some(behaviour);
    let outcome = loop {
        if !in_set {
            match follow_until_admitted(&shared, has_key, &peer_reader).await {
                Ok(true) => {}
                Ok(false) => break Ok(()),
                Err(e) => break Err(e),
            }
        }
        let b = behaviour
            .take()
            .unwrap_or_else(crate::consensus::engine::honest);
        shared
            .validating
            .store(true, std::sync::atomic::Ordering::Relaxed);
        let mut consensus = match crate::consensus::engine::start(
            shared.clone(),
            assent_contracts::crypto::Keypair::from_seed(key.seed()),
            b,
        )
        .await
        {
            Ok(c) => c,
            Err(e) => break Err(e),
        };
        tracing::info!(target: "assent::node", api = %cfg.api_listen, p2p = %cfg.listen, gossip = %cfg.gossip_listen, "node running");

        let halted = consensus.halted();
        let wal_fault = consensus.wal_fault.clone();
        let wal = cfg.wal_path();
        let why = move || {
            wal_fault
                .lock()
                .ok()
                .and_then(|f| f.clone())
                .unwrap_or_else(|| why_halted(&wal))
        };
        let removed = crate::consensus::membership::removed(shared.clone());
        let step = tokio::select! {
            r = &mut consensus.done => Some(match r {
                // The engine closed the channel by itself: its safety stop.
                Ok(Ok(())) => Err(NodeError::Consensus(why())),
                Ok(Err(e)) => Err(e),
                Err(e) => Err(NodeError::Consensus(format!("consensus task failed: {e}"))),
            }),
            () = halted => Some(Err(NodeError::Consensus(why()))),
            () = removed => None,
            _ = shutdown_signal() => {
                tracing::info!(target: "assent::node", "shutting down");
                Some(Ok(()))
            }
        };
        consensus.stop().await;
        shared
            .validating
            .store(false, std::sync::atomic::Ordering::Relaxed);
        match step {
            Some(outcome) => break outcome,
            None => {
                tracing::warn!(target: "assent::node", height = chain.head().height.0, "governance removed this node's key from the validator set: it signs nothing more and follows the chain from [state_sync] peers as a full node");
                if cfg.state_sync_peers.is_empty() {
                    break Err(NodeError::NotAValidator {
                        key: validator_key,
                        height: chain.head().height.0,
                    });
                }
                in_set = false;
            }
        }
    };
    stop_rest(outcome).await
}

/// Follows the chain ([`crate::ledger::follow`]) until this node's key is
/// in the validator set (`Ok(true)`: start consensus) or a shutdown signal
/// arrives (`Ok(false)`).
async fn follow_until_admitted(
    shared: &Arc<Shared>,
    has_key: bool,
    reader: &crate::ledger::peer_reads::PeerReader,
) -> Result<bool, NodeError> {
    let stop = Arc::new(AtomicBool::new(false));
    let me = has_key.then_some(shared.validator_key);
    let (sh, flag, reader) = (shared.clone(), stop.clone(), reader.clone());
    tracing::info!(target: "assent::node", peers = ?shared.config.state_sync_peers, "following the chain from the peers' APIs");
    let mut follower = tokio::task::spawn_blocking(move || {
        crate::ledger::follow::follow(
            &sh.chain,
            &sh.config.state_sync_peers,
            me,
            &flag,
            &*sh,
            &reader,
        )
    });
    let followed = tokio::select! {
        r = &mut follower => r,
        _ = shutdown_signal() => {
            tracing::info!(target: "assent::node", "shutting down");
            stop.store(true, std::sync::atomic::Ordering::Relaxed);
            follower.await
        }
    };
    match followed {
        Ok(Ok(crate::ledger::follow::Followed::BecameValidator { at })) => {
            tracing::info!(target: "assent::node", height = at.0, "this node's key is a validator from the next height: starting consensus");
            Ok(true)
        }
        Ok(Ok(crate::ledger::follow::Followed::Stopped)) => Ok(false),
        Ok(Err(e)) => Err(NodeError::Follow(e.to_string())),
        Err(e) => Err(NodeError::Follow(format!("the follower task failed: {e}"))),
    }
}

/// Why the engine halted, as far as the node can tell: the WAL's disk is
/// full, the WAL cannot be written, or (neither) the engine's own reason is
/// in the log line before.
fn why_halted(wal: &Path) -> String {
    let dir = wal.parent().unwrap_or(wal);
    let probe = dir.join(".write-probe");
    let written = std::fs::File::create(&probe).and_then(|mut f| {
        use std::io::Write as _;
        // A megabyte: a disk that has less is full for the WAL, and a few
        // blocks freed for a moment (a WAL reset) do not pass for space.
        f.write_all(&vec![0u8; 1 << 20])?;
        f.sync_all()
    });
    let _ = std::fs::remove_file(&probe);
    let stopped = "it stopped signing after a failed write to its WAL";
    match written {
        Err(e) if e.kind() == std::io::ErrorKind::StorageFull => format!(
            "{stopped}: {}",
            crate::storage::backend::out_of_space(&format!("the consensus WAL ({})", dir.display()))
        ),
        Err(e) => format!(
            "{stopped}: {} cannot be written ({e}); fix it and restart assentd (keep data/wal: it stops this validator from signing twice)",
            dir.display()
        ),
        Ok(()) => "it stopped itself after a safety-critical failure (its reason is logged just before this line); fix it and restart assentd (keep data/wal: it stops this validator from signing twice)".to_string(),
    }
}

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
