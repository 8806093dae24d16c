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

use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use assent_contracts::{codec, AccountId, Hash32};
use futures::StreamExt;
use libp2p::swarm::dial_opts::DialOpts;
use libp2p::swarm::{ConnectionId, DialError, ListenError, NetworkBehaviour, SwarmEvent};
use libp2p::{allow_block_list, gossipsub, identify, identity, noise, ping, tcp, yamux};
use libp2p::{Multiaddr, PeerId, Swarm};
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;

const LOG: &str = "assent::gossip";

/// Largest gossip message (one batch) sent or accepted.
pub const MAX_MESSAGE_BYTES: usize = 4 * 1024 * 1024;
/// Largest batch payload published; leaves room for gossipsub's own framing.
const MAX_BATCH_PAYLOAD: usize = MAX_MESSAGE_BYTES - 64 * 1024;
const COMMAND_QUEUE: usize = 1_024;
const INBOUND_QUEUE: usize = 1_024;
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
}

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
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Inbound {
    pub from: PeerId,
    pub txs: Vec<Vec<u8>>,
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
    match codec::encode(chunk) {
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
    let txs: Vec<Vec<u8>> = codec::decode(data).map_err(|e| e.to_string())?;
    if txs.is_empty() {
        return Err("empty batch".into());
    }
    Ok(txs)
}

#[derive(NetworkBehaviour)]
struct Behaviour {
    allow: allow_block_list::Behaviour<allow_block_list::AllowedPeers>,
    identify: identify::Behaviour,
    ping: ping::Behaviour,
    gossipsub: gossipsub::Behaviour,
}

fn build_swarm(cfg: &GossipConfig) -> Result<Swarm<Behaviour>, GossipError> {
    let gs_config = gossipsub::ConfigBuilder::default()
        .validation_mode(gossipsub::ValidationMode::Anonymous)
        .validate_messages()
        .message_id_fn(|m: &gossipsub::Message| {
            gossipsub::MessageId::from(Hash32::tagged("assent/gossip/v1", &[&m.data]).0.to_vec())
        })
        .max_transmit_size(MAX_MESSAGE_BYTES)
        .heartbeat_interval(Duration::from_millis(500))
        .build()
        .map_err(|e| GossipError::Config(e.to_string()))?;
    let allowlist = cfg.allowlist.clone();
    let swarm = libp2p::SwarmBuilder::with_existing_identity(cfg.keypair.clone())
        .with_tokio()
        .with_tcp(
            tcp::Config::default().nodelay(true),
            noise::Config::new,
            yamux::Config::default,
        )
        .map_err(|e| GossipError::Transport(e.to_string()))?
        .with_behaviour(|key| {
            let mut allow = allow_block_list::Behaviour::default();
            for p in allowlist {
                allow.allow_peer(p);
            }
            let gossipsub =
                gossipsub::Behaviour::new(gossipsub::MessageAuthenticity::Anonymous, gs_config)?;
            Ok(Behaviour {
                allow,
                identify: identify::Behaviour::new(identify::Config::new(
                    "/assent/gossip/1".into(),
                    key.public(),
                )),
                ping: ping::Behaviour::default(),
                gossipsub,
            })
        })
        .map_err(|e| GossipError::Config(e.to_string()))?
        .with_swarm_config(|c| c.with_idle_connection_timeout(Duration::from_secs(60)))
        .build();
    Ok(swarm)
}

/// Starts the gossip actor: listens on `cfg.listen` (returns once the first
/// address is bound), subscribes to the topic and dials `cfg.peers`.
pub async fn spawn(
    cfg: GossipConfig,
) -> Result<(GossipHandle, mpsc::Receiver<Inbound>), GossipError> {
    let mut swarm = build_swarm(&cfg)?;
    let topic = gossipsub::IdentTopic::new(cfg.topic.clone());
    swarm
        .behaviour_mut()
        .gossipsub
        .subscribe(&topic)
        .map_err(|e| GossipError::Config(e.to_string()))?;
    let listen_err = |why: String| GossipError::Listen {
        addr: cfg.listen.clone(),
        why,
    };
    swarm
        .listen_on(cfg.listen.clone())
        .map_err(|e| listen_err(e.to_string()))?;
    let first = tokio::time::timeout(LISTEN_TIMEOUT, async {
        loop {
            match swarm.select_next_some().await {
                SwarmEvent::NewListenAddr { address, .. } => return Ok(address),
                SwarmEvent::ListenerError { error, .. } => return Err(error.to_string()),
                SwarmEvent::ListenerClosed { reason, .. } => {
                    return Err(match reason {
                        Err(e) => e.to_string(),
                        Ok(()) => "listener closed".into(),
                    })
                }
                _ => {}
            }
        }
    })
    .await
    .map_err(|_| listen_err("no address bound in time".into()))?
    .map_err(listen_err)?;
    tracing::info!(target: LOG, address = %first, peer_id = %swarm.local_peer_id(), "gossip listening");

    let shared = Arc::new(Status {
        local: *swarm.local_peer_id(),
        peers: AtomicUsize::new(0),
        topic_peers: AtomicUsize::new(0),
        listen: Mutex::new(vec![first]),
        stats: Stats::default(),
    });
    let (commands, command_rx) = mpsc::channel(COMMAND_QUEUE);
    let (inbound, inbound_rx) = mpsc::channel(INBOUND_QUEUE);
    let now = Instant::now();
    let actor = Actor {
        swarm,
        topic,
        allowlist: cfg.allowlist.iter().copied().collect(),
        slots: cfg
            .peers
            .iter()
            .map(|addr| Slot {
                addr: addr.clone(),
                peer: None,
                state: SlotState::Idle { next: now },
                backoff: BACKOFF_MIN,
            })
            .collect(),
        connected: HashSet::new(),
        subscribed: HashSet::new(),
        inbound,
        shared: shared.clone(),
    };
    tokio::spawn(actor.run(command_rx));
    Ok((GossipHandle { commands, shared }, inbound_rx))
}

/// A configured peer address and its dial state.
struct Slot {
    addr: Multiaddr,
    /// Learned from the first connection through this address.
    peer: Option<PeerId>,
    state: SlotState,
    backoff: Duration,
}

enum SlotState {
    Idle { next: Instant },
    Dialing(ConnectionId),
    Connected,
}

struct Actor {
    swarm: Swarm<Behaviour>,
    topic: gossipsub::IdentTopic,
    allowlist: HashSet<PeerId>,
    slots: Vec<Slot>,
    connected: HashSet<PeerId>,
    subscribed: HashSet<PeerId>,
    inbound: mpsc::Sender<Inbound>,
    shared: Arc<Status>,
}

impl Actor {
    async fn run(mut self, mut commands: mpsc::Receiver<Command>) {
        let mut redial = tokio::time::interval(REDIAL_TICK);
        redial.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                cmd = commands.recv() => match cmd {
                    Some(Command::Publish(batch)) => self.publish(batch),
                    Some(Command::Shutdown(done)) => {
                        drop(self);
                        let _ = done.send(());
                        return;
                    }
                    None => break,
                },
                event = self.swarm.select_next_some() => self.on_event(event),
                _ = redial.tick() => self.redial(),
            }
        }
        tracing::debug!(target: LOG, "gossip actor stopped");
    }

    fn publish(&mut self, batch: Vec<Vec<u8>>) {
        let stats = &self.shared.stats;
        for data in encode_batches(batch) {
            match self
                .swarm
                .behaviour_mut()
                .gossipsub
                .publish(self.topic.clone(), data)
            {
                Ok(_) => bump(&stats.published),
                Err(gossipsub::PublishError::Duplicate) => {}
                Err(e) => {
                    bump(&stats.publish_dropped);
                    tracing::debug!(target: LOG, error = %e, "batch not gossiped");
                }
            }
        }
    }

    fn redial(&mut self) {
        let now = Instant::now();
        for slot in &mut self.slots {
            let SlotState::Idle { next } = slot.state else {
                continue;
            };
            if let Some(p) = slot.peer {
                if self.swarm.is_connected(&p) {
                    slot.state = SlotState::Connected;
                    continue;
                }
            }
            if next > now {
                continue;
            }
            let opts = DialOpts::unknown_peer_id()
                .address(slot.addr.clone())
                .build();
            let id = opts.connection_id();
            match self.swarm.dial(opts) {
                Ok(()) => slot.state = SlotState::Dialing(id),
                Err(e) => {
                    tracing::debug!(target: LOG, addr = %slot.addr, error = %e, "dial failed");
                    slot.state = SlotState::Idle {
                        next: now + slot.backoff,
                    };
                    slot.backoff = (slot.backoff * 2).min(BACKOFF_MAX);
                }
            }
        }
    }

    fn set_counts(&self) {
        self.shared
            .peers
            .store(self.connected.len(), Ordering::Relaxed);
        self.shared
            .topic_peers
            .store(self.subscribed.len(), Ordering::Relaxed);
    }

    fn on_event(&mut self, event: SwarmEvent<BehaviourEvent>) {
        match event {
            SwarmEvent::ConnectionEstablished {
                peer_id,
                connection_id,
                num_established,
                ..
            } => {
                if !self.allowlist.contains(&peer_id) {
                    // The allowlist behaviour refuses these first; kept as a guard.
                    bump(&self.shared.stats.denied);
                    let _ = self.swarm.disconnect_peer_id(peer_id);
                    return;
                }
                for slot in &mut self.slots {
                    let dialed =
                        matches!(slot.state, SlotState::Dialing(id) if id == connection_id);
                    if dialed || slot.peer == Some(peer_id) {
                        slot.peer = Some(peer_id);
                        slot.state = SlotState::Connected;
                        slot.backoff = BACKOFF_MIN;
                    }
                }
                if num_established.get() == 1 {
                    tracing::info!(target: LOG, peer = %peer_id, "gossip peer connected");
                }
                self.connected.insert(peer_id);
                self.set_counts();
            }
            SwarmEvent::ConnectionClosed {
                peer_id,
                num_established,
                connection_id,
                ..
            } => {
                if num_established == 0 {
                    self.connected.remove(&peer_id);
                    self.subscribed.remove(&peer_id);
                    self.set_counts();
                    tracing::info!(target: LOG, peer = %peer_id, "gossip peer disconnected");
                }
                let now = Instant::now();
                for slot in &mut self.slots {
                    let dialed =
                        matches!(slot.state, SlotState::Dialing(id) if id == connection_id);
                    if dialed || (num_established == 0 && slot.peer == Some(peer_id)) {
                        slot.state = SlotState::Idle {
                            next: now + slot.backoff,
                        };
                        slot.backoff = (slot.backoff * 2).min(BACKOFF_MAX);
                    }
                }
            }
            SwarmEvent::OutgoingConnectionError {
                connection_id,
                error,
                ..
            } => {
                if matches!(error, DialError::Denied { .. }) {
                    bump(&self.shared.stats.denied);
                }
                let now = Instant::now();
                for slot in &mut self.slots {
                    if matches!(slot.state, SlotState::Dialing(id) if id == connection_id) {
                        tracing::debug!(target: LOG, addr = %slot.addr, error = %error, "gossip dial failed; will retry");
                        slot.state = SlotState::Idle {
                            next: now + slot.backoff,
                        };
                        slot.backoff = (slot.backoff * 2).min(BACKOFF_MAX);
                    }
                }
            }
            SwarmEvent::IncomingConnectionError {
                error,
                send_back_addr,
                peer_id,
                ..
            } => {
                if let ListenError::Denied { cause } = &error {
                    bump(&self.shared.stats.denied);
                    tracing::info!(target: LOG, from = %send_back_addr, peer = ?peer_id, %cause, "gossip connection refused: peer not in the allowlist");
                } else {
                    tracing::debug!(target: LOG, from = %send_back_addr, %error, "incoming gossip connection failed");
                }
            }
            SwarmEvent::NewListenAddr { address, .. } => {
                if let Ok(mut l) = self.shared.listen.lock() {
                    if !l.contains(&address) {
                        l.push(address);
                    }
                }
            }
            SwarmEvent::ExpiredListenAddr { address, .. } => {
                if let Ok(mut l) = self.shared.listen.lock() {
                    l.retain(|a| a != &address);
                }
            }
            SwarmEvent::Behaviour(BehaviourEvent::Gossipsub(e)) => self.on_gossip(e),
            _ => {}
        }
    }

    fn on_gossip(&mut self, event: gossipsub::Event) {
        match event {
            gossipsub::Event::Message {
                propagation_source: from,
                message_id,
                message,
            } => {
                let verdict = if !self.allowlist.contains(&from) {
                    tracing::warn!(target: LOG, peer = %from, "gossip from a peer not in the allowlist ignored");
                    gossipsub::MessageAcceptance::Reject
                } else {
                    match decode_batch(&message.data) {
                        Ok(txs) => {
                            self.deliver(Inbound { from, txs });
                            gossipsub::MessageAcceptance::Accept
                        }
                        Err(why) => {
                            bump(&self.shared.stats.malformed);
                            tracing::warn!(target: LOG, peer = %from, bytes = message.data.len(), %why, "malformed gossip batch dropped");
                            gossipsub::MessageAcceptance::Reject
                        }
                    }
                };
                self.swarm
                    .behaviour_mut()
                    .gossipsub
                    .report_message_validation_result(&message_id, &from, verdict);
            }
            gossipsub::Event::Subscribed { peer_id, topic } if topic == self.topic.hash() => {
                self.subscribed.insert(peer_id);
                self.set_counts();
            }
            gossipsub::Event::Unsubscribed { peer_id, topic } if topic == self.topic.hash() => {
                self.subscribed.remove(&peer_id);
                self.set_counts();
            }
            _ => {}
        }
    }

    fn deliver(&self, batch: Inbound) {
        match self.inbound.try_send(batch) {
            Ok(()) => bump(&self.shared.stats.received),
            Err(e) => {
                bump(&self.shared.stats.inbound_dropped);
                tracing::debug!(target: LOG, error = %e, "inbound gossip queue unavailable; batch dropped");
            }
        }
    }
}
