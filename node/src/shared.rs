//! What the node's parts share: the chain, the mempool, the gossip handle,
//! metrics and a few flags. Held as `Arc<Shared>` by the API, the consensus
//! app loop and the gossip inbound task.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use assent_contracts::crypto::Keypair;
use assent_contracts::AccountId;

use crate::config::NodeConfig;
use crate::gossip::GossipHandle;
use crate::ledger::chain::Chain;
use crate::mempool::Mempool;
use crate::metrics::Metrics;
use crate::storage::snapshots::Snapshots;

#[derive(Debug)]
pub struct Shared {
    pub chain: Arc<Chain>,
    pub mempool: Mutex<Mempool>,
    pub gossip: Option<GossipHandle>,
    pub metrics: Arc<Metrics>,
    pub config: NodeConfig,
    /// This node's validator (consensus) key.
    pub validator_key: AccountId,
    /// The validator key again, to sign standard-format consent receipts
    /// (JWS; see `standard_receipts`). Its account is `validator_key`.
    pub signer: Keypair,
    /// Set once consensus has started its first height.
    pub consensus_started: AtomicBool,
    /// Highest height seen from peers (sync status); 0 if unknown.
    pub peer_height: AtomicU64,
    /// The state snapshots this node serves (`None`: it serves none).
    pub snapshots: Option<Arc<Snapshots>>,
    /// Set while this node runs consensus as a validator; clear on a full
    /// node, and on a validator that follows the chain until governance
    /// admits its key.
    pub validating: AtomicBool,
}

/// A following node's progress ([`crate::ledger::follow`]).
impl crate::ledger::follow::Progress for Shared {
    fn peer_head(&self, height: u64) {
        self.peer_height.store(height, Ordering::Relaxed);
    }
    fn started(&self) {
        self.consensus_started.store(true, Ordering::Relaxed);
    }
}

impl Shared {
    /// The mempool; a poisoned lock (a panic elsewhere) is recovered, the
    /// mempool holds no invariant a panic could break half-way that matters
    /// more than staying up.
    pub fn mempool(&self) -> MutexGuard<'_, Mempool> {
        match self.mempool.lock() {
            Ok(m) => m,
            Err(p) => p.into_inner(),
        }
    }

    /// Whether this node is far behind its peers (more than 2 blocks).
    pub fn syncing(&self) -> bool {
        let peer = self.peer_height.load(Ordering::Relaxed);
        peer > self.chain.head().height.0 + 2
    }

    pub fn ready(&self) -> bool {
        self.consensus_started.load(Ordering::Relaxed) && !self.syncing()
    }
}
