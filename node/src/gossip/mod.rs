//! Tx gossip on the node's own libp2p swarm (separate from consensus's).
//!
//! One actor task owns the [`Swarm`]; the rest of the node holds a cloneable
//! [`GossipHandle`] and reads gossiped batches from an [`Inbound`] channel.
//! Transport: TCP + noise + yamux; behaviours: an allowlist (connections from
//! or to peers outside it are refused), identify, ping and gossipsub with
//! message signing off (txs carry their own signatures) and message id = hash
//! of the data. A batch on the wire is one gossipsub message whose data is the
//! canonical encoding of `Vec<Vec<u8>>` (one entry per signed tx).
//!
//! Gossip is best effort: a full queue drops a batch (counted), a peer's
//! garbage is dropped (counted, warned), nothing here panics on peer input.
//! Never rely on gossip alone for anything that must arrive.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use assent_contracts::{codec, AccountId};
use libp2p::{identity, Multiaddr, PeerId};
use tokio::sync::{mpsc, oneshot};

pub mod fetch;
mod swarm;

pub use swarm::spawn;

const LOG: &str = "assent::gossip";

/// Largest gossip message (one batch) sent or accepted.
pub const MAX_MESSAGE_BYTES: usize = 4 * 1024 * 1024;
/// Largest batch payload published; leaves room for gossipsub's own framing.
const MAX_BATCH_PAYLOAD: usize = MAX_MESSAGE_BYTES - 64 * 1024;
const COMMAND_QUEUE: usize = 1_024;
const INBOUND_QUEUE: usize = 1_024;
/// Bytes of received batches waiting for admission, from all peers.
pub const INBOUND_MAX_BYTES: usize = 64 * 1024 * 1024;
/// Bytes of received batches waiting for admission, from one peer: a peer
/// that floods cannot crowd out the others or hold more memory than this.
pub const INBOUND_PEER_MAX_BYTES: usize = 16 * 1024 * 1024;
const REDIAL_TICK: Duration = Duration::from_millis(250);
const BACKOFF_MIN: Duration = Duration::from_millis(500);
const BACKOFF_MAX: Duration = Duration::from_secs(30);
const LISTEN_TIMEOUT: Duration = Duration::from_secs(10);

/// How to run the gossip swarm.
#[derive(Clone, Debug)]
pub struct GossipConfig {
    pub listen: Multiaddr,
    /// Addresses dialed at start and redialed (with backoff) when disconnected.
    pub peers: Vec<Multiaddr>,
    /// This node's identity (see [`keypair_from_seed`]).
    pub keypair: identity::Keypair,
    /// The only peers connections are kept with (see [`peer_id_of`]).
    pub allowlist: Vec<PeerId>,
    /// Gossipsub topic, e.g. `/assent/{chain_id}/txs/1`.
    pub topic: String,
    /// How long txs given to [`GossipHandle::publish`] wait to go out
    /// together ([`PUBLISH_LINGER`] in a node).
    pub linger: Duration,
    /// Where peers' requests for a proposal's txs go to be answered
    /// ([`fetch`]); `None` answers every request `Unknown`.
    pub serve: Option<mpsc::Sender<fetch::Serve>>,
}

/// How long published txs wait for more before they go out as one
/// message. A client's submission is often a few txs; sent one message each,
/// every peer paid a message's framing, decoding, wake-up and admission
/// call, and checked their signatures in batches too small to be cheap.
/// 20 ms is small beside a block's ≈ 150 ms under load and gathers ≈ 16
/// txs per message at 800 admitted tx/s (BENCHMARKS.md).
pub const PUBLISH_LINGER: Duration = Duration::from_millis(20);
/// Bytes of txs that go out at once without waiting out the linger.
const PUBLISH_FLUSH_BYTES: usize = 1 << 20;
/// Commands the gossip actor takes in one turn before it polls the swarm
/// again (its `select!` is fair; this bounds one turn's work).
const DRAIN_MAX: usize = 256;

/// Why the gossip swarm could not start.
#[derive(Debug, thiserror::Error)]
pub enum GossipError {
    #[error("gossip transport setup failed: {0}")]
    Transport(String),
    #[error("gossipsub configuration refused: {0}")]
    Config(String),
    #[error(
        "cannot listen for gossip on {addr}: {why}; choose a free address (p2p.gossip_listen)"
    )]
    Listen { addr: Multiaddr, why: String },
}

/// A batch of tx bytes received from a peer (not yet checked in any way).
/// Its bytes count against the inbound budget until it is dropped.
#[derive(Debug)]
pub struct Inbound {
    pub from: PeerId,
    pub txs: Vec<Vec<u8>>,
    pub charge: InboundCharge,
}

/// Bytes of received batches not yet admitted, in all and per peer.
#[derive(Debug)]
pub struct InboundBudget {
    max_total: usize,
    max_per_peer: usize,
    queued: Mutex<Queued>,
}

#[derive(Debug, Default)]
struct Queued {
    total: usize,
    per_peer: BTreeMap<PeerId, usize>,
}

/// Why a received batch was not queued.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OverBudget {
    /// The peer has its maximum of bytes waiting.
    Peer,
    /// All peers together have the maximum waiting.
    Total,
}

/// One batch's share of the budget; given back on drop.
#[derive(Debug)]
pub struct InboundCharge {
    budget: Arc<InboundBudget>,
    peer: PeerId,
    bytes: usize,
}

impl InboundBudget {
    pub fn new(max_total: usize, max_per_peer: usize) -> Arc<InboundBudget> {
        Arc::new(InboundBudget {
            max_total,
            max_per_peer,
            queued: Mutex::new(Queued::default()),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Queued> {
        self.queued.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Reserves `bytes` for a batch from `peer`, or says which limit it would pass.
    pub fn charge(
        self: &Arc<Self>,
        peer: PeerId,
        bytes: usize,
    ) -> Result<InboundCharge, OverBudget> {
        let mut q = self.lock();
        let mine = q.per_peer.get(&peer).copied().unwrap_or(0);
        if mine.saturating_add(bytes) > self.max_per_peer {
            return Err(OverBudget::Peer);
        }
        if q.total.saturating_add(bytes) > self.max_total {
            return Err(OverBudget::Total);
        }
        q.total += bytes;
        q.per_peer.insert(peer, mine + bytes);
        Ok(InboundCharge {
            budget: self.clone(),
            peer,
            bytes,
        })
    }

    /// Bytes waiting (in all, from `peer`).
    pub fn queued(&self, peer: &PeerId) -> (usize, usize) {
        let q = self.lock();
        (q.total, q.per_peer.get(peer).copied().unwrap_or(0))
    }
}

impl Drop for InboundCharge {
    fn drop(&mut self) {
        let mut q = self.budget.lock();
        q.total = q.total.saturating_sub(self.bytes);
        if let Some(n) = q.per_peer.get_mut(&self.peer) {
            *n = n.saturating_sub(self.bytes);
            if *n == 0 {
                q.per_peer.remove(&self.peer);
            }
        }
    }
}

/// What a batch of txs holds in memory: its bytes plus a vector header each.
pub fn batch_bytes(txs: &[Vec<u8>]) -> usize {
    txs.iter()
        .map(|t| t.len().saturating_add(std::mem::size_of::<Vec<u8>>()))
        .sum()
}

/// Counters of what gossip did (monotonic, for metrics and tests).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct GossipCounters {
    /// Batches published to at least one peer.
    pub published: u64,
    /// Batches dropped before sending: queue full, actor stopped, no
    /// subscribed peer, or too large.
    pub publish_dropped: u64,
    /// Batches received and handed to the node.
    pub received: u64,
    /// Received messages that did not decode as a batch.
    pub malformed: u64,
    /// Received batches dropped because the node's inbound queue was full.
    pub inbound_dropped: u64,
    /// Connections refused or closed because the peer is not in the allowlist.
    pub denied: u64,
}

#[derive(Debug, Default)]
struct Stats {
    published: AtomicU64,
    publish_dropped: AtomicU64,
    received: AtomicU64,
    malformed: AtomicU64,
    inbound_dropped: AtomicU64,
    denied: AtomicU64,
}

fn bump(c: &AtomicU64) {
    c.fetch_add(1, Ordering::Relaxed);
}

/// What the actor publishes to handles.
#[derive(Debug)]
struct Status {
    local: PeerId,
    peers: AtomicUsize,
    topic_peers: AtomicUsize,
    listen: Mutex<Vec<Multiaddr>>,
    stats: Stats,
}

#[derive(Debug)]
enum Command {
    Publish(Vec<Vec<u8>>),
    SetAllowlist(Vec<PeerId>),
    Fetch {
        peer: PeerId,
        request: fetch::FetchRequest,
        reply: oneshot::Sender<Result<fetch::FetchResponse, fetch::FetchError>>,
    },
    Shutdown(oneshot::Sender<()>),
}

/// The node's handle on the gossip actor. Cheap to clone; the actor stops
/// when every handle is dropped or on [`GossipHandle::shutdown`].
#[derive(Clone, Debug)]
pub struct GossipHandle {
    commands: mpsc::Sender<Command>,
    shared: Arc<Status>,
}

impl GossipHandle {
    /// Queues a batch of canonical tx bytes for gossip; never blocks. If the
    /// queue is full the batch is dropped and counted (gossip is best effort).
    pub fn publish(&self, batch: Vec<Vec<u8>>) {
        if batch.is_empty() {
            return;
        }
        if let Err(e) = self.commands.try_send(Command::Publish(batch)) {
            bump(&self.shared.stats.publish_dropped);
            tracing::debug!(target: LOG, error = %e, "gossip queue unavailable; batch dropped");
        }
    }

    /// Replaces the allowlist (the validator set changed): peers no longer
    /// in it are disconnected and refused from now on, new ones admitted.
    pub async fn set_allowlist(&self, peers: Vec<PeerId>) {
        if self
            .commands
            .send(Command::SetAllowlist(peers))
            .await
            .is_err()
        {
            tracing::warn!(target: LOG, "gossip actor gone; allowlist not changed");
        }
    }

    /// Asks `peer` for txs of a block it holds (see [`fetch`]); the answer
    /// is the peer's bytes, unchecked. Fails after the protocol's timeout
    /// when the peer does not answer.
    pub async fn fetch(
        &self,
        peer: PeerId,
        request: fetch::FetchRequest,
    ) -> Result<Vec<Vec<u8>>, fetch::FetchError> {
        if request.indices.len() > fetch::MAX_FETCH_TXS {
            return Err(fetch::FetchError::TooMany(request.indices.len()));
        }
        let (reply, answer) = oneshot::channel();
        self.commands
            .send(Command::Fetch {
                peer,
                request,
                reply,
            })
            .await
            .map_err(|_| fetch::FetchError::Gone)?;
        match answer.await.map_err(|_| fetch::FetchError::Gone)?? {
            fetch::FetchResponse::Txs(txs) => Ok(txs),
            fetch::FetchResponse::Unknown => Err(fetch::FetchError::Unknown),
        }
    }

    /// Connected peers (all are in the allowlist).
    pub fn peers(&self) -> usize {
        self.shared.peers.load(Ordering::Relaxed)
    }

    /// Connected peers subscribed to the tx topic (those a publish reaches).
    pub fn topic_peers(&self) -> usize {
        self.shared.topic_peers.load(Ordering::Relaxed)
    }

    /// Addresses the swarm listens on (port 0 resolved).
    pub fn listen_addrs(&self) -> Vec<Multiaddr> {
        match self.shared.listen.lock() {
            Ok(l) => l.clone(),
            Err(p) => p.into_inner().clone(),
        }
    }

    pub fn local_peer_id(&self) -> PeerId {
        self.shared.local
    }

    pub fn counters(&self) -> GossipCounters {
        let s = &self.shared.stats;
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        GossipCounters {
            published: get(&s.published),
            publish_dropped: get(&s.publish_dropped),
            received: get(&s.received),
            malformed: get(&s.malformed),
            inbound_dropped: get(&s.inbound_dropped),
            denied: get(&s.denied),
        }
    }

    /// Stops the actor (closing its connections) and waits until it is gone.
    pub async fn shutdown(&self) {
        let (tx, rx) = oneshot::channel();
        if self.commands.send(Command::Shutdown(tx)).await.is_ok() {
            let _ = rx.await;
        }
    }
}

/// The gossip identity derived from a validator key's 32-byte secret seed:
/// the same ed25519 key, so its [`PeerId`] is [`peer_id_of`] the account.
pub fn keypair_from_seed(seed: [u8; 32]) -> identity::Keypair {
    let secret = identity::ed25519::SecretKey::try_from_bytes(seed)
        .unwrap_or_else(|_| identity::ed25519::SecretKey::generate());
    // `try_from_bytes` only fails on a length other than 32, impossible for an
    // array; the fallback above is never taken.
    identity::Keypair::from(identity::ed25519::Keypair::from(secret))
}

/// The gossip peer ids of a validator set: the allowlist.
pub fn validator_peers(validators: &[assent_contracts::state::Validator]) -> Vec<PeerId> {
    validators
        .iter()
        .filter_map(|v| peer_id_of(&v.consensus_key))
        .collect()
}

/// The gossip [`PeerId`] of a validator's consensus key; `None` if the key is
/// not a valid ed25519 public key.
pub fn peer_id_of(consensus_key: &AccountId) -> Option<PeerId> {
    let pk = identity::ed25519::PublicKey::try_from_bytes(&consensus_key.0).ok()?;
    Some(identity::PublicKey::from(pk).to_peer_id())
}

/// Encodes batches of tx bytes as gossip messages, each under the message
/// size limit. A single tx too large for any message is left out.
pub fn encode_batches(txs: Vec<Vec<u8>>) -> Vec<Vec<u8>> {
    // A varint length prefix takes at most 9 bytes.
    const PREFIX: usize = 9;
    let mut out = Vec::new();
    let mut chunk: Vec<Vec<u8>> = Vec::new();
    let mut size = PREFIX;
    for tx in txs {
        let item = tx.len() + PREFIX;
        if item + PREFIX > MAX_BATCH_PAYLOAD {
            tracing::warn!(target: LOG, bytes = tx.len(), "tx too large to gossip; left out");
            continue;
        }
        if size + item > MAX_BATCH_PAYLOAD {
            out.extend(encode_one(&std::mem::take(&mut chunk)));
            size = PREFIX;
        }
        size += item;
        chunk.push(tx);
    }
    if !chunk.is_empty() {
        out.extend(encode_one(&chunk));
    }
    out
}

fn encode_one(chunk: &[Vec<u8>]) -> Option<Vec<u8>> {
    match codec::encode_native(chunk) {
        Ok(b) => Some(b),
        Err(e) => {
            tracing::warn!(target: LOG, error = %e, "cannot encode a gossip batch");
            None
        }
    }
}

/// Decodes a gossip message into tx bytes: strict codec, size-limited; an
/// empty batch is refused too.
pub fn decode_batch(data: &[u8]) -> Result<Vec<Vec<u8>>, String> {
    if data.len() > MAX_MESSAGE_BYTES {
        return Err(format!(
            "message is {} bytes, over the {MAX_MESSAGE_BYTES}-byte limit",
            data.len()
        ));
    }
    let txs = codec::decode_byte_strings(data).map_err(|e| e.to_string())?;
    if txs.is_empty() {
        return Err("empty batch".into());
    }
    Ok(txs.into_iter().map(<[u8]>::to_vec).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn peer(n: u8) -> PeerId {
        keypair_from_seed([n; 32]).public().to_peer_id()
    }

    #[test]
    fn one_peer_cannot_hold_more_than_its_share_and_bytes_come_back_on_drop() {
        let b = InboundBudget::new(100, 40);
        let (a, c) = (peer(1), peer(2));
        let first = b.charge(a, 30).unwrap();
        assert_eq!(b.charge(a, 11).unwrap_err(), OverBudget::Peer);
        // Another peer still has its share.
        let _other = b.charge(c, 40).unwrap();
        assert_eq!(b.queued(&a), (70, 30));
        drop(first);
        assert_eq!(b.queued(&a), (40, 0));
        let _again = b.charge(a, 40).unwrap();
    }

    #[test]
    fn all_peers_together_are_bounded() {
        let b = InboundBudget::new(100, 60);
        let _x = b.charge(peer(1), 60).unwrap();
        assert_eq!(b.charge(peer(2), 41).unwrap_err(), OverBudget::Total);
        let _y = b.charge(peer(2), 40).unwrap();
        assert_eq!(b.queued(&peer(3)), (100, 0));
    }

    #[test]
    fn a_batch_is_charged_what_it_holds() {
        let txs = vec![vec![0u8; 100], vec![0u8; 50]];
        assert_eq!(batch_bytes(&txs), 150 + 2 * std::mem::size_of::<Vec<u8>>());
    }
}
